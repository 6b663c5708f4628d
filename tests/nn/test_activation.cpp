#include <cfnet/nn/activation.hpp>

#include <catch2/catch.hpp>

#include <cfnet/testing/gradcheck.hpp>

#include <cmath>
#include <limits>

using cfnet::Matrix;
using cfnet::testing::check_layer;
namespace nn = cfnet::nn;

namespace {
// Inputs away from the kinks at 0 (central differences straddling a kink are meaningless).
Matrix<double> input() {
    return Matrix<double>{{-2.5, -1.0, -0.3, 0.2}, {0.7, 1.5, 3.0, -0.05}, {-0.6, 0.4, 2.2, -4.0}};
}
template <class L>
void gradcheck(L layer) {
    const auto r = check_layer(layer, input());
    INFO(r.log);
    CHECK(r);
    CHECK(r.rel_error < 1e-6);
}
}  // namespace

TEST_CASE("activations pass the gradient check (double)", "[activation][gradcheck]") {
    SECTION("ReLU") { gradcheck(nn::ReLU<double>()); }
    SECTION("Sigmoid") { gradcheck(nn::Sigmoid<double>()); }
    SECTION("Tanh") { gradcheck(nn::Tanh<double>()); }
    SECTION("Identity") { gradcheck(nn::Identity<double>()); }
    SECTION("ELU") { gradcheck(nn::ELU<double>(0.7)); }
    SECTION("SELU") { gradcheck(nn::SELU<double>()); }
}

TEST_CASE("activation values on hand-computed points", "[activation]") {
    const Matrix<double> x = {{-1.0, 0.0, 2.0}};
    nn::ReLU<double> relu;
    CHECK((relu.forward(x) == Matrix<double>{{0.0, 0.0, 2.0}}));
    CHECK((relu.backward(Matrix<double>{{5, 5, 5}}) == Matrix<double>{{0.0, 0.0, 5.0}}));
    nn::Sigmoid<double> sig;
    const auto s = sig.forward(x);
    CHECK(s(0, 0) == Approx(1 / (1 + std::exp(1.0))));
    CHECK(s(0, 1) == 0.5);
    CHECK(s(0, 2) == Approx(1 / (1 + std::exp(-2.0))));
    nn::Tanh<double> th;
    CHECK(th.forward(x)(0, 2) == Approx(std::tanh(2.0)));
    nn::Identity<double> id;
    CHECK((id.forward(x) == x));
    nn::ELU<double> elu(2.0);
    CHECK(elu.forward(x)(0, 0) == Approx(2.0 * (std::exp(-1.0) - 1)));
    CHECK(elu.forward(x)(0, 2) == 2.0);
    nn::SELU<double> selu;
    CHECK(selu.forward(x)(0, 0) == Approx(1.0507009873554805 * 1.6732632423543772 * (std::exp(-1.0) - 1)));
    CHECK(selu.forward(x)(0, 2) == Approx(1.0507009873554805 * 2.0));
}

TEST_CASE("Sigmoid is stable for large |x| in float", "[activation]") {
    nn::Sigmoid<float> sig;
    const Matrix<float> x = {{-1000.f, -90.f, 90.f, 1000.f}};
    const auto& y = sig.forward(x);
    for (float v : y) CHECK(std::isfinite(v));
    CHECK(y(0, 0) == 0.f);
    CHECK(y(0, 1) >= 0.f);
    CHECK(y(0, 1) < 1e-30f);
    CHECK(y(0, 3) == 1.f);
    const auto& dx = sig.backward(Matrix<float>{{1, 1, 1, 1}});
    for (float v : dx) CHECK(std::isfinite(v));
}

TEST_CASE("activation errors", "[activation][errors]") {
    using Catch::Matchers::Contains;
    nn::ReLU<float> r;
    CHECK_THROWS_WITH(r.backward(Matrix<float>{{1}}), Contains("must follow forward"));
    r.forward(Matrix<float>{{1, 2}});
    CHECK_THROWS_WITH(r.backward(Matrix<float>{{1, 2, 3}}), Contains("dy is 1 x 3, expected 1 x 2"));
    CHECK_THROWS_WITH(nn::ELU<float>(0.0), Contains("ELU: alpha must be > 0"));
    CHECK(r.parameters().empty());
}
