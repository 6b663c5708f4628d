#include <cfnet/nn/gaussian_latent.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <catch2/catch.hpp>

#include "support/nn.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

using cfnet::Matrix;
using cfnet::nn::GaussianLatent;
using cfnet::nn::Mode;

TEST_CASE("GaussianLatent: hand-computed z and KL", "[gaussian_latent]") {
    // one row, d = 2: mu = (1, -2), logvar = (0, ln 4) -> sd = (1, 2)
    // KL = 0.5 * [(-0 + 1 + 1 - 1) + (-ln 4 + 4 + 4 - 1)] = 0.5 * (8 - ln 4)
    const Matrix<double> h{{1, -2, 0, std::log(4.0)}};
    GaussianLatent<double> lat(2, 3);
    const Matrix<double> z = lat.forward(h);
    const auto& e = lat.noise();
    CHECK(z(0, 0) == Approx(1 + e(0, 0) * 1).epsilon(1e-15));
    CHECK(z(0, 1) == Approx(-2 + e(0, 1) * 2).epsilon(1e-15));
    CHECK(lat.kl() == Approx(0.5 * (8 - std::log(4.0))).epsilon(1e-14));
    lat.set_mode(Mode::eval);
    const Matrix<double> zm = lat.forward(h);
    CHECK(zm(0, 0) == 1.0);
    CHECK(zm(0, 1) == -2.0);
    CHECK(lat.kl() == Approx(0.5 * (8 - std::log(4.0))).epsilon(1e-14));
    CHECK_THROWS_AS(lat.forward(Matrix<double>({1, 3})), cfnet::InvalidArgument);
    CHECK_THROWS_AS(lat.set_beta(-1), cfnet::InvalidArgument);
}

TEST_CASE("GaussianLatent: the noise is standard normal and seeded", "[gaussian_latent]") {
    GaussianLatent<float> a(50, 7), b(50, 7);
    const Matrix<float> h = xt::zeros<float>({std::size_t(200), std::size_t(100)});
    const Matrix<float> za = a.forward(h);
    CHECK((za == b.forward(h)));  // same seed, same noise
    double s = 0, s2 = 0;
    for (float v : za) { s += v; s2 += double(v) * v; }
    const double n = double(za.size()), mean = s / n;
    CHECK(mean == Approx(0).margin(0.03));                 // sd of the mean 0.01
    CHECK(s2 / n - mean * mean == Approx(1).margin(0.05));
    CHECK_FALSE((a.forward(h) == za));                      // a new draw per forward
}

TEST_CASE("GaussianLatent: gradient check of f(z) + beta KL, train and eval", "[gaussian_latent][gradcheck]") {
    cfnet::Rng rng(11);
    for (Mode mode : {Mode::train, Mode::eval}) {
        for (double beta : {0.0, 0.3, 1.0}) {
            INFO("mode " << (mode == Mode::train ? "train" : "eval") << ", beta " << beta);
            GaussianLatent<double> lat(3, 5);
            lat.set_mode(mode);
            lat.set_beta(beta);
            lat.freeze_noise(true);
            Matrix<double> h = cfnet_test::random_matrix<double>(4, 6, rng);
            const Matrix<double> R = cfnet_test::random_matrix<double>(4, 3, rng);
            lat.forward(h);  // draws the noise that stays frozen
            auto loss = [&] {
                const Matrix<double>& z = lat.forward(h);
                double s = 0;
                for (std::size_t k = 0; k < z.size(); ++k) s += z.data()[k] * R.data()[k];
                return s + beta * lat.kl();
            };
            loss();
            const Matrix<double> dh = lat.backward(R);
            auto r = cfnet::testing::check_gradient(loss, h.data(), dh.data(), h.size(), "[mu | logvar]");
            INFO(r.log);
            CHECK(r);
        }
    }
    // the layer-contract check (beta = 0: the KL term does not enter sum(z * R))
    GaussianLatent<double> lat(3, 5);
    lat.set_beta(0);
    lat.freeze_noise(true);
    Matrix<double> h = cfnet_test::random_matrix<double>(2, 6, rng);
    lat.forward(h);
    auto r = cfnet::testing::check_layer(lat, h);
    INFO(r.log);
    CHECK(r);
}

TEST_CASE("GaussianLatent: forward with the noise given = forward with the stream that drew it", "[gaussian_latent]") {
    const Matrix<double> h{{0.3, -1.0, 0.2, -0.5, 0.1, 0.4}, {-0.7, 0.8, 1.5, 0.0, -0.3, 0.6}};  // 2 rows, d = 3
    GaussianLatent<double> a(3), b(3);
    cfnet::Rng ra(13), rb(13);
    Matrix<double> eps = xt::zeros<double>({std::size_t(2), std::size_t(3)});
    for (auto& e : eps) e = rb.normal();  // row by row, as forward(h, rng) draws
    const Matrix<double> za = a.forward(h, ra);
    CHECK((za == b.forward(h, eps)));
    CHECK(a.kl() == b.kl());
    CHECK((b.noise() == eps));
    const Matrix<double> dz{{1, 2, 3}, {-1, 0.5, 2}};
    const Matrix<double> ga = a.backward(dz);
    CHECK((ga == b.backward(dz)));
    // eval mode: z = mu whatever eps; a wrong shape is refused
    b.set_mode(Mode::eval);
    const Matrix<double> zm = b.forward(h, eps);
    CHECK(zm(0, 0) == h(0, 0));
    CHECK(zm(1, 2) == h(1, 2));
    CHECK_THROWS_WITH(b.forward(h, Matrix<double>(xt::zeros<double>({std::size_t(3), std::size_t(3)}))),
                      Catch::Contains("eps is 3 x 3"));
}
