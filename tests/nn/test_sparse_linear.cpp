// nn/sparse_linear.hpp: the Gram and the sparse x dense product of a SparseBatch against dense products.
#include <cfnet/nn/sparse_linear.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

using cfnet::Matrix;
using cfnet::nn::SparseBatch;

TEST_CASE("gram_upper and times_dense on a SparseBatch", "[nn][sparse_linear]") {
    Matrix<double> x = {{1, 0, 2, 0}, {0, 3, 0, 0}, {4, 0, 0, -1}, {0, 0, 0, 0}};
    const auto batch = SparseBatch<double>::from_dense(x);
    for (const bool pattern : {false, true}) {
        Matrix<double> g = xt::zeros<double>({4, 4});
        cfnet::nn::gram_upper(batch, g, pattern, 2);
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 4; ++j) {
                double want = 0;
                for (std::size_t r = 0; r < 4; ++r)
                    want += (pattern ? double(x(r, i) != 0) : x(r, i)) * (pattern ? double(x(r, j) != 0) : x(r, j));
                CHECK(g(i, j) == (j >= i ? want : 0.0));
            }
    }
    Matrix<double> wrong = xt::zeros<double>({3, 4});
    CHECK_THROWS_AS(cfnet::nn::gram_upper(batch, wrong), cfnet::InvalidArgument);

    Matrix<double> w = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
    Matrix<double> y = xt::ones<double>({4, 2});
    cfnet::nn::times_dense(batch, w.data(), 2, y.data());
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t o = 0; o < 2; ++o) {
            double want = 1;
            for (std::size_t i = 0; i < 4; ++i) want += x(r, i) * w(i, o);
            CHECK(y(r, o) == want);
        }
}
