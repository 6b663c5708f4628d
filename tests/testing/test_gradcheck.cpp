#include <cfnet/testing/gradcheck.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using cfnet::Matrix;
using cfnet::testing::check_gradient;
using cfnet::testing::check_layer;

namespace {
// y = x * w (elementwise, w a 1 x n parameter broadcast over rows). backward_scale lets a test
// plant a wrong gradient.
struct ScaleLayer {
    using value_type = double;
    cfnet::nn::Parameter<double> w{"w", 1, 3};
    Matrix<double> x_, y_, dx_;
    double backward_scale = 1.0;

    const Matrix<double>& forward(const Matrix<double>& x) {
        x_ = x;
        y_ = x * w.value;
        return y_;
    }
    const Matrix<double>& backward(const Matrix<double>& dy) {
        dx_ = dy * w.value;
        for (std::size_t i = 0; i < dy.shape(0); ++i)
            for (std::size_t j = 0; j < 3; ++j) w.grad(0, j) += backward_scale * dy(i, j) * x_(i, j);
        return dx_;
    }
    cfnet::nn::ParameterList<double> parameters() { return {&w}; }
    void set_mode(cfnet::nn::Mode) {}
};
static_assert(cfnet::nn::is_layer_v<ScaleLayer>);
static_assert(!cfnet::nn::is_layer_v<int>);
}  // namespace

TEST_CASE("check_gradient accepts a right gradient and rejects a wrong one", "[gradcheck]") {
    double x[2] = {0.3, -1.2};
    auto f = [&] { return std::sin(x[0]) * x[1] * x[1]; };
    const double g[2] = {std::cos(0.3) * 1.44, std::sin(0.3) * 2 * -1.2};
    const auto ok = check_gradient(f, x, g, 2);
    CHECK(ok);
    CHECK(ok.rel_error < 1e-8);
    CHECK(x[0] == 0.3);  // restored
    const double bad[2] = {g[0], g[1] * 1.01};
    const auto r = check_gradient(f, x, bad, 2, "x");
    CHECK_FALSE(r);
    CHECK(r.rel_error > 1e-3);
    CHECK(r.log.find("x: FAILED") != std::string::npos);
}

TEST_CASE("check_layer checks input and parameter gradients", "[gradcheck]") {
    ScaleLayer layer;
    layer.w.value = Matrix<double>{{0.5, -2.0, 1.5}};
    const Matrix<double> x = {{1.0, 2.0, 3.0}, {-1.0, 0.5, 0.25}};
    const auto good = check_layer(layer, x);
    INFO(good.log);
    CHECK(good);
    CHECK(good.checked == 6 + 3);

    layer.backward_scale = 0.5;  // a wrong parameter gradient must be caught
    const auto bad = check_layer(layer, x);
    CHECK_FALSE(bad);
    CHECK(bad.log.find("w: FAILED") != std::string::npos);
}
