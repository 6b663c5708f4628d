#include <cfnet/nn/init.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using cfnet::Matrix;
using cfnet::Rng;
namespace init = cfnet::nn::init;

namespace {
struct Stats {
    double mean = 0, var = 0, min = 1e300, max = -1e300;
};
Stats stats(const Matrix<float>& m) {
    Stats s;
    for (float v : m) {
        s.mean += v;
        s.min = std::min(s.min, double(v));
        s.max = std::max(s.max, double(v));
    }
    s.mean /= double(m.size());
    for (float v : m) s.var += (v - s.mean) * (v - s.mean);
    s.var /= double(m.size() - 1);
    return s;
}
Matrix<float> draw(const cfnet::nn::Initializer& in, std::size_t fan_in, std::size_t fan_out, std::uint64_t seed = 3) {
    Rng rng(seed);
    Matrix<float> w = Matrix<float>::from_shape({fan_in, fan_out});
    in(w, fan_in, fan_out, rng);
    return w;
}
}  // namespace

TEST_CASE("glorot_uniform: bounds sqrt(6/(fan_in+fan_out)), mean 0, variance l^2/3", "[init]") {
    const auto w = draw(init::glorot_uniform(), 200, 100);
    const double l = std::sqrt(6.0 / 300.0);
    const auto s = stats(w);
    CHECK(s.min >= -l);
    CHECK(s.max <= l);
    CHECK(s.min < -0.99 * l);  // the whole range is used
    CHECK(s.max > 0.99 * l);
    CHECK(std::abs(s.mean) < 0.01 * l);
    CHECK(s.var == Approx(l * l / 3).epsilon(0.02));
}

TEST_CASE("he_uniform and he_normal use fan_in", "[init]") {
    const auto u = draw(init::he_uniform(), 100, 300);
    const double l = std::sqrt(6.0 / 100.0);
    const auto su = stats(u);
    CHECK(su.min >= -l);
    CHECK(su.max <= l);
    CHECK(su.var == Approx(l * l / 3).epsilon(0.02));
    const auto n = draw(init::he_normal(), 100, 300);
    const auto sn = stats(n);
    CHECK(std::abs(sn.mean) < 0.01);
    CHECK(sn.var == Approx(2.0 / 100.0).epsilon(0.02));
}

TEST_CASE("uniform, normal and zeros", "[init]") {
    const auto u = stats(draw(init::uniform(-0.05, 0.05), 300, 100));
    CHECK(u.min >= -0.05f);
    CHECK(u.max <= 0.05f);
    CHECK(u.mean == Approx(0).margin(1e-3));
    CHECK(u.var == Approx(0.01 / 12).epsilon(0.02));
    const auto u2 = stats(draw(init::uniform(2, 3), 100, 100));
    CHECK(u2.min >= 2);
    CHECK(u2.mean == Approx(2.5).epsilon(0.005));
    const auto n = stats(draw(init::normal(1.5, 0.5), 300, 100));
    CHECK(n.mean == Approx(1.5).epsilon(0.005));
    CHECK(n.var == Approx(0.25).epsilon(0.02));
    const auto z = draw(init::zeros(), 3, 4);
    CHECK((z == xt::zeros<float>({3, 4})));
}

TEST_CASE("initialisers are deterministic per seed", "[init]") {
    CHECK((draw(init::glorot_uniform(), 7, 5, 11) == draw(init::glorot_uniform(), 7, 5, 11)));
    CHECK_FALSE((draw(init::glorot_uniform(), 7, 5, 11) == draw(init::glorot_uniform(), 7, 5, 12)));
    CHECK(init::uniform(-1, 1) == init::uniform(-1, 1));
    CHECK(init::uniform(-1, 1) != init::uniform(-1, 2));
}

TEST_CASE("initialisers reject bad arguments", "[init][errors]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(init::uniform(1, 1), Contains("init::uniform: need finite a < b, got a = 1, b = 1"));
    CHECK_THROWS_WITH(init::normal(0, -1), Contains("init::normal"));
    CHECK_THROWS_AS(init::uniform(0, std::nan("")), cfnet::InvalidArgument);
    Rng rng(1);
    Matrix<float> w = Matrix<float>::from_shape({0, 3});
    CHECK_THROWS_WITH(init::he_normal()(w, 0, 3, rng), Contains("init::he_normal: fan_in is 0"));
    CHECK_THROWS_WITH(init::glorot_uniform()(w, 0, 0, rng), Contains("fan_in + fan_out is 0"));
}
