// kernels/gram.hpp: the reference and the row-of-G version (1 and several threads) against a dense
// double-precision X^T X; both bit-identical; the strict lower triangle never written.
#include <cfnet/kernels/gram.hpp>
#include <cfnet/detail/rng.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

using cfnet::Rng;
using cfnet::kernels::gram_index;

namespace {

struct Csr {
    std::size_t rows = 0, cols = 0;
    std::vector<std::size_t> rp{0};
    std::vector<gram_index> idx;
    std::vector<float> val;
};

// Rows of 0, 1, 2 entries, one full row, then rows of about `density`; values in [-2, 2].
Csr random_csr(std::size_t rows, std::size_t cols, double density, Rng& rng) {
    Csr x;
    x.rows = rows;
    x.cols = cols;
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            const bool take = r < 3 ? c < r : (r == 3 ? true : rng.uniform() < density);
            if (take) {
                x.idx.push_back(static_cast<gram_index>(c));
                x.val.push_back(static_cast<float>(rng.uniform() * 4 - 2));
            }
        }
        x.rp.push_back(x.idx.size());
    }
    return x;
}

// Dense X^T X in double, from the CSR entries (values, or 1 for a pattern).
std::vector<double> dense_gram(const Csr& x, bool pattern) {
    std::vector<double> dense(x.rows * x.cols, 0.0), g(x.cols * x.cols, 0.0);
    for (std::size_t r = 0; r < x.rows; ++r)
        for (std::size_t p = x.rp[r]; p < x.rp[r + 1]; ++p) dense[r * x.cols + x.idx[p]] = pattern ? 1.0 : x.val[p];
    for (std::size_t i = 0; i < x.cols; ++i)
        for (std::size_t j = 0; j < x.cols; ++j) {
            double s = 0;
            for (std::size_t r = 0; r < x.rows; ++r) s += dense[r * x.cols + i] * dense[r * x.cols + j];
            g[i * x.cols + j] = s;
        }
    return g;
}

// Runs the kernel into a matrix whose lower triangle holds a sentinel and upper starts at `init`.
std::vector<float> run(const Csr& x, bool pattern, bool dispatch, int threads, std::size_t ld, float init,
                       std::size_t dense_min = static_cast<std::size_t>(-1)) {
    const float sentinel = -12345.f;
    std::vector<float> g(x.cols * ld, sentinel);
    for (std::size_t i = 0; i < x.cols; ++i)
        for (std::size_t j = i; j < x.cols; ++j) g[i * ld + j] = init;
    cfnet_test::Dispatch d(dispatch);
    cfnet::kernels::gram_upper(x.rp.data(), x.idx.data(), pattern ? nullptr : x.val.data(), x.rows, x.cols, g.data(),
                               ld, threads, dense_min);
    for (std::size_t i = 0; i < x.cols; ++i) {
        for (std::size_t j = 0; j < i; ++j) REQUIRE(g[i * ld + j] == sentinel);
        for (std::size_t j = x.cols; j < ld; ++j) REQUIRE(g[i * ld + j] == sentinel);
    }
    return g;
}

}  // namespace

TEST_CASE("gram_upper: reference and fast versions equal a dense double X^T X", "[kernels][gram]") {
    Rng rng(7);
    for (const double density : {0.05, 0.3, 0.9}) {
        const Csr x = random_csr(60, 37, density, rng);
        for (const bool pattern : {false, true}) {
            const auto want = dense_gram(x, pattern);
            const std::size_t ld = x.cols + 3;
            const auto ref = run(x, pattern, false, 1, ld, 0.5f);
            for (std::size_t i = 0; i < x.cols; ++i)
                for (std::size_t j = i; j < x.cols; ++j) {
                    INFO("density " << density << " pattern " << pattern << " at " << i << "," << j);
                    if (pattern)
                        REQUIRE(ref[i * ld + j] == static_cast<float>(want[i * x.cols + j] + 0.5));  // exact counts
                    else
                        REQUIRE(std::abs(ref[i * ld + j] - (want[i * x.cols + j] + 0.5)) <=
                                1e-5 * (1 + std::abs(want[i * x.cols + j])) * 60);
                }
            for (const int threads : {1, 2, 3, 64}) {
                const auto fast = run(x, pattern, true, threads, ld, 0.5f);
                INFO("threads " << threads);
                REQUIRE(fast == ref);  // bit-identical: the same summation order
            }
            // rows with >= dense_min entries through BLAS syrk: exact for a pattern (integer sums),
            // within rounding otherwise; 0 sends every row to the dense path
            for (const std::size_t dense_min : {std::size_t(0), std::size_t(3), std::size_t(20)}) {
                const auto dense = run(x, pattern, true, 2, ld, 0.5f, dense_min);
                INFO("dense_min " << dense_min);
                for (std::size_t i = 0; i < x.cols; ++i)
                    for (std::size_t j = i; j < x.cols; ++j) {
                        if (pattern)
                            REQUIRE(dense[i * ld + j] == ref[i * ld + j]);
                        else
                            REQUIRE(std::abs(dense[i * ld + j] - ref[i * ld + j]) <=
                                    1e-5 * (1 + std::abs(want[i * x.cols + j])) * 60);
                    }
            }
        }
    }
}

TEST_CASE("gram_upper: empty rows, no rows and one column", "[kernels][gram]") {
    Csr empty;
    empty.rows = 4;
    empty.cols = 5;
    empty.rp.assign(5, 0);
    for (const bool dispatch : {false, true}) {
        const auto g = run(empty, false, dispatch, 2, 5, 0.f);
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = i; j < 5; ++j) CHECK(g[i * 5 + j] == 0.f);
    }
    Csr one;
    one.rows = 3;
    one.cols = 1;
    one.rp = {0, 1, 1, 2};
    one.idx = {0, 0};
    one.val = {2.f, -3.f};
    for (const bool dispatch : {false, true}) CHECK(run(one, false, dispatch, 4, 1, 1.f)[0] == 1.f + 4.f + 9.f);
}
