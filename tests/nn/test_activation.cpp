#include <cfnet/nn/activation.hpp>

#include <catch2/catch.hpp>

#include <cfnet/testing/gradcheck.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

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

namespace {
const nn::ActivationKind every_kind[] = {nn::ActivationKind::relu,     nn::ActivationKind::sigmoid,
                                         nn::ActivationKind::tanh,     nn::ActivationKind::identity,
                                         nn::ActivationKind::elu,      nn::ActivationKind::selu};
}  // namespace

TEST_CASE("ActivationKind round-trips through to_string / activation_from_string", "[activation]") {
    const char* names[] = {"relu", "sigmoid", "tanh", "identity", "elu", "selu"};
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(std::string(nn::to_string(every_kind[i])) == names[i]);
        CHECK(nn::activation_from_string(names[i]) == every_kind[i]);
    }
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(nn::activation_from_string("ReLU"),
                      Contains("unknown activation 'ReLU' (expected relu, sigmoid, tanh, identity, elu or selu)"));
    CHECK_THROWS_AS(nn::activation_from_string(""), cfnet::InvalidArgument);
}

namespace {

/// apply_activation and activation_backward against the function object with_activation picks,
/// element by element (exact), and that function object against the named one.
template <class T>
void kinds_equal_function_objects() {
    std::vector<T> x;
    for (int i = -40; i <= 40; ++i) x.push_back(static_cast<T>(i) / T(8));
    x.push_back(T(0));
    x.push_back(-T(0));
    x.push_back(T(1e-30));
    x.push_back(T(-1e-30));
    x.push_back(T(80));
    x.push_back(T(-80));
    const std::size_t n = x.size();
    std::vector<T> dy(n);
    for (std::size_t i = 0; i < n; ++i) dy[i] = static_cast<T>(std::sin(double(i) + 0.5));
    for (const bool simd : {true, false}) {
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const auto kind : every_kind) {
            INFO(nn::to_string(kind) << " simd " << simd);
            std::vector<T> y = x;
            nn::apply_activation(kind, y.data(), n);
            std::vector<T> dz(n, T(-7));
            nn::activation_backward(kind, y.data(), dy.data(), dz.data(), n);
            bool values = true, grads = true;
            nn::with_activation(kind, [&](auto fn) {
                for (std::size_t i = 0; i < n; ++i) {
                    values = values && y[i] == fn.value(x[i]);
                    grads = grads && dz[i] == dy[i] * fn.derivative(y[i]);
                }
            });
            CHECK(values);
            CHECK(grads);
            // with_activation picks the function object of the kind
            const T probe[] = {T(-0.7), T(0.3)};
            for (const T v : probe) {
                T got = T(0);
                nn::with_activation(kind, [&](auto fn) { got = fn.value(v); });
                T want = T(0);
                switch (kind) {
                    case nn::ActivationKind::relu: want = nn::fn::Relu{}.value(v); break;
                    case nn::ActivationKind::sigmoid: want = nn::fn::Sigmoid{}.value(v); break;
                    case nn::ActivationKind::tanh: want = nn::fn::Tanh{}.value(v); break;
                    case nn::ActivationKind::identity: want = v; break;
                    case nn::ActivationKind::elu: want = nn::fn::Elu{1.0}.value(v); break;
                    case nn::ActivationKind::selu: want = nn::fn::Selu{}.value(v); break;
                }
                CHECK(got == want);
            }
        }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

}  // namespace

TEST_CASE("apply_activation and activation_backward equal the function objects, every kind, exactly",
          "[activation]") {
    kinds_equal_function_objects<float>();
    kinds_equal_function_objects<double>();
}

TEST_CASE("apply_activation and activation_backward: hand-computed relu, and NaN gradients stay NaN",
          "[activation]") {
    std::vector<float> y = {-2.f, 0.f, 3.f};
    nn::apply_activation(nn::ActivationKind::relu, y.data(), y.size());
    CHECK(y == std::vector<float>{0.f, 0.f, 3.f});
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> dy = {nan, 2.f, nan};
    std::vector<float> dz(3);
    nn::activation_backward(nn::ActivationKind::relu, y.data(), dy.data(), dz.data(), 3);
    CHECK(std::isnan(dz[0]));  // NaN * 0: a diverged gradient is not hidden by an inactive unit
    CHECK(dz[1] == 0.f);
    CHECK(std::isnan(dz[2]));
    std::vector<float> id = {1.f, -2.f};
    nn::apply_activation(nn::ActivationKind::identity, id.data(), 2);
    CHECK(id == std::vector<float>{1.f, -2.f});
}
