#include <cfnet/nn/multiply.hpp>

#include <catch2/catch.hpp>

#include <cfnet/detail/rng.hpp>
#include <cfnet/testing/gradcheck.hpp>

using cfnet::Matrix;
using cfnet::Rng;
using cfnet::nn::Multiply;

TEST_CASE("Multiply is the element-wise product, product_dot scores one row", "[multiply]") {
    Multiply<float> m;
    const Matrix<float> a{{1, 2}, {3, 4}}, b{{5, 6}, {7, -8}};
    CHECK((m.forward(a, b) == Matrix<float>{{5, 12}, {21, -32}}));
    m.backward(Matrix<float>{{1, 0}, {2, 1}});
    CHECK((m.da() == Matrix<float>{{5, 0}, {14, -8}}));
    CHECK((m.db() == Matrix<float>{{1, 0}, {6, 4}}));
    const float w[2] = {0.5f, 2.0f};
    CHECK(Multiply<float>::product_dot(&a(1, 0), &b(1, 0), w, 2) == 21 * 0.5f - 32 * 2.0f);
    CHECK_THROWS_AS(m.forward(a, Matrix<float>::from_shape({2, 3})), cfnet::InvalidArgument);
}

TEST_CASE("Multiply passes the gradient check (double)", "[multiply][gradcheck]") {
    Rng rng(4);
    Matrix<double> a = Matrix<double>::from_shape({3, 4}), b = a, R = a;
    for (auto* x : {&a, &b, &R})
        for (auto& v : *x) v = rng.uniform(-1, 1);
    Multiply<double> m;
    auto loss = [&] {
        const auto& y = m.forward(a, b);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * R.data()[i];
        return s;
    };
    loss();
    m.backward(R);
    const Matrix<double> da = m.da(), db = m.db();
    auto ra = cfnet::testing::check_gradient(loss, a.data(), da.data(), a.size(), "a");
    auto rb = cfnet::testing::check_gradient(loss, b.data(), db.data(), b.size(), "b");
    INFO(ra.log << rb.log);
    CHECK(ra.rel_error < 1e-6);
    CHECK(rb.rel_error < 1e-6);
}
