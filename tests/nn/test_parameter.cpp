// nn/parameter.hpp: Parameter's shape and gradient, and the parameter-list helpers (count, zero_grad,
// the flat copies a full-batch optimizer works on).
#include <cfnet/nn/parameter.hpp>

#include <catch2/catch.hpp>

#include <vector>

using cfnet::nn::Parameter;
using cfnet::nn::ParameterList;

TEST_CASE("Parameter: value and grad of one shape, zeros at start, zero_grad", "[parameter]") {
    Parameter<float> p("w", 2, 3);
    CHECK(p.name == "w");
    CHECK(p.rows() == 2);
    CHECK(p.cols() == 3);
    CHECK(p.size() == 6);
    CHECK(p.grad.shape() == p.value.shape());
    for (const float v : p.value) CHECK(v == 0.f);
    p.grad(1, 2) = 5.f;
    p.zero_grad();
    CHECK(p.grad(1, 2) == 0.f);
}

TEST_CASE("parameter lists: count, zero_grad, flat copies and scaled gradient sums", "[parameter]") {
    Parameter<double> a("a", 2, 2), b("b", 1, 3);
    const ParameterList<double> ps{&a, &b};
    CHECK(cfnet::nn::parameter_count(ps) == 7);
    for (std::size_t i = 0; i < 4; ++i) a.value.data()[i] = double(i + 1);     // 1 2 3 4
    for (std::size_t i = 0; i < 3; ++i) b.value.data()[i] = double(10 * (i + 1));  // 10 20 30
    std::vector<double> x(7, -1.0);
    cfnet::nn::copy_values_to(ps, x.data());
    CHECK(x == std::vector<double>{1, 2, 3, 4, 10, 20, 30});
    const std::vector<double> y{7, 6, 5, 4, 3, 2, 1};
    cfnet::nn::copy_values_from(y.data(), ps);
    CHECK(a.value(0, 0) == 7.0);
    CHECK(a.value(1, 1) == 4.0);
    CHECK(b.value(0, 2) == 1.0);
    a.grad(0, 1) = 1.0;
    b.grad(0, 0) = 2.0;
    std::vector<double> g(7, 100.0);
    cfnet::nn::add_scaled_grads(ps, 3.0, g.data(), /*overwrite=*/true);
    CHECK(g == std::vector<double>{0, 3, 0, 0, 6, 0, 0});
    cfnet::nn::add_scaled_grads(ps, 0.5, g.data(), /*overwrite=*/false);
    CHECK(g == std::vector<double>{0, 3.5, 0, 0, 7, 0, 0});
    cfnet::nn::zero_grad(ps);
    CHECK(a.grad(0, 1) == 0.0);
    CHECK(b.grad(0, 0) == 0.0);
}
