#include <cfnet/tensor.hpp>

#include <catch2/catch.hpp>

#include <cfnet/detail/rng.hpp>

using cfnet::Matrix;
using cfnet::Trans;

template <class T>
static Matrix<T> naive(const Matrix<T>& a, bool ta, const Matrix<T>& b, bool tb) {
    const std::size_t m = ta ? a.shape(1) : a.shape(0), k = ta ? a.shape(0) : a.shape(1);
    const std::size_t n = tb ? b.shape(0) : b.shape(1);
    Matrix<T> c = xt::zeros<T>({m, n});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t p = 0; p < k; ++p) c(i, j) += (ta ? a(p, i) : a(i, p)) * (tb ? b(j, p) : b(p, j));
    return c;
}

TEMPLATE_TEST_CASE("gemm matches a naive product for every transpose combination", "[tensor]", float, double) {
    cfnet::Rng rng(11);
    auto fill = [&](std::size_t r, std::size_t c) {
        Matrix<TestType> x = Matrix<TestType>::from_shape({r, c});
        for (auto& v : x) v = static_cast<TestType>(rng.uniform(-1, 1));
        return x;
    };
    const std::size_t m = 5, n = 7, k = 3;
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            const auto a = ta ? fill(k, m) : fill(m, k);
            const auto b = tb ? fill(n, k) : fill(k, n);
            Matrix<TestType> c = xt::ones<TestType>({m, n});
            cfnet::gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, m, n, k, TestType(2), a.data(),
                        a.shape(1), b.data(), b.shape(1), TestType(1), c.data(), n);
            const Matrix<TestType> expect = TestType(2) * naive(a, ta, b, tb) + TestType(1);
            CHECK(xt::allclose(c, expect, 1e-5, 1e-6));
        }
    }
}
