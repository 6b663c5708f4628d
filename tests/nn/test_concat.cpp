#include <cfnet/nn/concat.hpp>

#include <catch2/catch.hpp>

#include <cfnet/detail/rng.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <vector>

using cfnet::Matrix;
using cfnet::nn::Concat;

TEST_CASE("Concat joins columns and splits the gradient", "[concat]") {
    Concat<float> c;
    const Matrix<float> a = {{1, 2}, {3, 4}};
    const Matrix<float> b = {{5}, {6}};
    CHECK((c.forward(a, b) == Matrix<float>{{1, 2, 5}, {3, 4, 6}}));
    const auto& g = c.backward(Matrix<float>{{10, 20, 30}, {40, 50, 60}});
    REQUIRE(g.size() == 2);
    CHECK((g[0] == Matrix<float>{{10, 20}, {40, 50}}));
    CHECK((g[1] == Matrix<float>{{30}, {60}}));
    const Matrix<float> z = {{7, 8, 9}, {0, 0, 1}};
    CHECK((c.forward({&a, &b, &z}) == Matrix<float>{{1, 2, 5, 7, 8, 9}, {3, 4, 6, 0, 0, 1}}));
    CHECK(c.backward(xt::zeros<float>({2, 6})).size() == 3);
    CHECK(c.widths() == std::vector<std::size_t>{2, 1, 3});
}

TEST_CASE("Concat passes the gradient check (double)", "[concat][gradcheck]") {
    cfnet::Rng rng(1);
    auto rnd = [&](std::size_t r, std::size_t k) {
        Matrix<double> m = Matrix<double>::from_shape({r, k});
        for (auto& v : m) v = rng.uniform(-1, 1);
        return m;
    };
    Matrix<double> a = rnd(3, 2), b = rnd(3, 4);
    const Matrix<double> R = rnd(3, 6);
    Concat<double> c;
    auto loss = [&] {
        const auto& y = c.forward(a, b);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * y.data()[i] * R.data()[i];
        return s;
    };
    const Matrix<double> y = c.forward(a, b);
    const auto& g = c.backward(2.0 * y * R);
    const Matrix<double> ga = g[0], gb = g[1];
    auto r = cfnet::testing::check_gradient(loss, a.data(), ga.data(), ga.size(), "a");
    r += cfnet::testing::check_gradient(loss, b.data(), gb.data(), gb.size(), "b");
    INFO(r.log);
    CHECK(r.rel_error < 1e-6);
}

TEST_CASE("Concat errors", "[concat][errors]") {
    using Catch::Matchers::Contains;
    Concat<float> c;
    CHECK_THROWS_WITH(c.backward(Matrix<float>{{1}}), Contains("must follow forward"));
    CHECK_THROWS_WITH(c.forward(std::vector<const Matrix<float>*>{}), Contains("no parts"));
    const Matrix<float> a = {{1, 2}, {3, 4}};
    const Matrix<float> b = {{5}};
    CHECK_THROWS_WITH(c.forward(a, b), Contains("part 1 has 1 rows, part 0 has 2"));
    c.forward(a, a);
    CHECK_THROWS_WITH(c.backward(Matrix<float>{{1, 2, 3}}), Contains("dy is 1 x 3, expected 2 x 4"));
}
