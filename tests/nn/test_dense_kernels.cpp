// The SIMD kernels of Dense's sparse-input forward (nn/dense.hpp, detail) against the baseline loop
// and a naive dense reference, called directly so that every compiled kernel the CPU can run is
// checked whatever the dispatch picks (test_dense.cpp checks the dispatched path through Dense).
#include <cfnet/nn/dense.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

using cfnet::Rng;
using cfnet::nn::index_type;
using cfnet::nn::SparseBatch;

namespace {

/// Rows with 0, 1, 2, ... stored entries (around the prefetch distance and the 4-entry unroll), then
/// rows of about `density`; values in [-2, 2].
template <class T>
SparseBatch<T> test_batch(std::size_t rows, std::size_t cols, double density, Rng& rng) {
    SparseBatch<T> s(cols);
    std::vector<index_type> idx;
    std::vector<T> val;
    for (std::size_t r = 0; r < rows; ++r) {
        idx.clear();
        val.clear();
        if (r < 10) {
            for (std::size_t c = 0; c < std::min(r, cols); ++c) idx.push_back(static_cast<index_type>((c * 7 + r) % cols));
            std::sort(idx.begin(), idx.end());
            idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
        } else {
            for (std::size_t c = 0; c < cols; ++c)
                if (rng.uniform() < density) idx.push_back(static_cast<index_type>(c));
        }
        for (std::size_t k = 0; k < idx.size(); ++k) val.push_back(static_cast<T>(rng.uniform(-2, 2)));
        s.add_row(idx, val);
    }
    return s;
}

/// y = bias rows + X W, X dense, in double.
template <class T>
std::vector<double> naive(const SparseBatch<T>& x, const std::vector<T>& w, const std::vector<T>& y0, std::size_t out) {
    const std::size_t in = x.cols();
    std::vector<double> dense(x.rows() * in, 0.0);
    for (std::size_t r = 0; r < x.rows(); ++r)
        for (std::size_t p = x.row_ptr()[r]; p < x.row_ptr()[r + 1]; ++p)
            dense[r * in + x.indices()[p]] = double(x.values()[p]);
    std::vector<double> y(y0.begin(), y0.end());
    for (std::size_t r = 0; r < x.rows(); ++r)
        for (std::size_t k = 0; k < in; ++k)
            for (std::size_t o = 0; o < out; ++o) y[r * out + o] += dense[r * in + k] * double(w[k * out + o]);
    return y;
}

template <class T>
double max_diff(const std::vector<T>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
    return m;
}

enum class Kernel { baseline, avx2, avx512 };

template <class T>
void run(Kernel k, const SparseBatch<T>& x, const std::vector<T>& w, std::size_t out, std::vector<T>& y) {
    const std::size_t* rp = x.row_ptr().data();
    const index_type* idx = x.indices().data();
    const T* val = x.values().data();
    switch (k) {
        case Kernel::baseline: cfnet::nn::detail::sparse_in_forward(rp, idx, val, x.rows(), w.data(), out, y.data()); break;
#ifdef CFNET_NN_SIMD_DISPATCH
        case Kernel::avx2: cfnet::nn::detail::sparse_in_forward_avx2(rp, idx, val, x.rows(), w.data(), out, y.data()); break;
        case Kernel::avx512:
            cfnet::nn::detail::sparse_in_forward_avx512(rp, idx, val, x.rows(), w.data(), out, y.data());
            break;
#endif
        default: FAIL("kernel not compiled");
    }
}

/// Every kernel the CPU supports equals the baseline kernel (up to FMA rounding) and the naive product.
template <class T>
void kernels_agree(std::size_t rows, std::size_t in, std::size_t out, double tol) {
    INFO("rows " << rows << ", in " << in << ", out " << out);
    Rng rng(rows * 1000 + in * 10 + out);
    const auto x = test_batch<T>(rows, in, 0.06, rng);
    std::vector<T> w(in * out), y0(rows * out);
    for (auto& v : w) v = static_cast<T>(rng.uniform(-1, 1));
    for (auto& v : y0) v = static_cast<T>(rng.uniform(-1, 1));  // the bias rows the kernels add to
    const auto ref = naive(x, w, y0, out);
    std::vector<T> base = y0;
    run(Kernel::baseline, x, w, out, base);
    CHECK(max_diff(base, ref) < tol);
    std::vector<Kernel> kernels;
#ifdef CFNET_NN_SIMD_DISPATCH
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels.push_back(Kernel::avx2);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) kernels.push_back(Kernel::avx512);
#endif
    for (const Kernel k : kernels) {
        INFO("kernel " << int(k));
        std::vector<T> y = y0;
        run(k, x, w, out, y);
        const std::vector<double> base_d(base.begin(), base.end());
        CHECK(max_diff(y, base_d) < tol);
        CHECK(max_diff(y, ref) < tol);
    }
}

}  // namespace

TEST_CASE("sparse-input forward kernels agree with the baseline (float)", "[dense][sparse][simd]") {
    // out: full 128-blocks only, blocks + 16s + masked tail, 16s only, tail only, the notebook's shape
    for (const std::size_t out : {128, 512, 200, 48, 13, 1, 1682}) kernels_agree<float>(40, 300, out, 1e-4);
    kernels_agree<float>(32, 1682, 512, 1e-4);
    kernels_agree<float>(0, 30, 200, 1e-4);
}

TEST_CASE("sparse-input forward kernels agree with the baseline (double)", "[dense][sparse][simd]") {
    for (const std::size_t out : {512, 200, 13}) kernels_agree<double>(20, 100, out, 1e-12);
}

TEST_CASE("the naive reference of the kernel test detects a wrong product", "[dense][sparse]") {
    Rng rng(3);
    const auto x = test_batch<float>(12, 20, 0.3, rng);
    std::vector<float> w(20 * 5, 1.0f), y(12 * 5, 0.0f);
    cfnet::nn::detail::sparse_in_forward(x.row_ptr().data(), x.indices().data(), x.values().data(), x.rows(), w.data(),
                                         5, y.data());
    auto ref = naive(x, w, std::vector<float>(12 * 5, 0.0f), 5);
    REQUIRE(max_diff(y, ref) < 1e-5);
    // row 2 has two entries: (2 % 20) and (9 % 20), so its outputs are the sum of their values
    CHECK(std::abs(ref[2 * 5] - double(x.values()[x.row_ptr()[2]] + x.values()[x.row_ptr()[2] + 1])) < 1e-6);
    ref[2 * 5] += 1.0;
    CHECK(max_diff(y, ref) > 0.5);
}
