// kernels/sparse.hpp: every version of each kernel the CPU runs (called directly, or through the
// public function with dispatch on and off) against the reference and a double-precision naive
// product (tests/nn/test_dense.cpp checks the same kernels through nn::Dense).
#include <cfnet/kernels/sparse.hpp>
#include <cfnet/nn/sparse.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

using cfnet::Rng;
using namespace cfnet_test;
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
        case Kernel::baseline: cfnet::kernels::ref::csr_times_dense(rp, idx, val, x.rows(), w.data(), out, y.data()); break;
#ifdef CFNET_SIMD_DISPATCH
        case Kernel::avx2: cfnet::kernels::simd::csr_times_dense_avx2(rp, idx, val, x.rows(), w.data(), out, y.data()); break;
        case Kernel::avx512:
            cfnet::kernels::simd::csr_times_dense_avx512(rp, idx, val, x.rows(), w.data(), out, y.data());
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
#ifdef CFNET_SIMD_DISPATCH
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

TEST_CASE("csr_times_dense: every version agrees with the reference (float)", "[kernels]") {
    // out: full 128-blocks only, blocks + 16s + masked tail, 16s only, tail only, the notebook's shape
    for (const std::size_t out : {128, 512, 200, 48, 13, 1, 1682}) kernels_agree<float>(40, 300, out, 1e-4);
    kernels_agree<float>(32, 1682, 512, 1e-4);
    kernels_agree<float>(0, 30, 200, 1e-4);
}

TEST_CASE("csr_times_dense: every version agrees with the reference (double)", "[kernels]") {
    for (const std::size_t out : {512, 200, 13}) kernels_agree<double>(20, 100, out, 1e-12);
}

TEST_CASE("the naive reference of the kernel test detects a wrong product", "[kernels]") {
    Rng rng(3);
    const auto x = test_batch<float>(12, 20, 0.3, rng);
    std::vector<float> w(20 * 5, 1.0f), y(12 * 5, 0.0f);
    cfnet::kernels::ref::csr_times_dense(x.row_ptr().data(), x.indices().data(), x.values().data(), x.rows(), w.data(),
                                         5, y.data());
    auto ref = naive(x, w, std::vector<float>(12 * 5, 0.0f), 5);
    REQUIRE(max_diff(y, ref) < 1e-5);
    // row 2 has two entries: (2 % 20) and (9 % 20), so its outputs are the sum of their values
    CHECK(std::abs(ref[2 * 5] - double(x.values()[x.row_ptr()[2]] + x.values()[x.row_ptr()[2] + 1])) < 1e-6);
    ref[2 * 5] += 1.0;
    CHECK(max_diff(y, ref) > 0.5);
}

TEST_CASE("csr_transpose_times_dense, column_dots and column_grads equal double references", "[kernels]") {
    Rng rng(23);
    for (const bool fast : paths())
        for (const std::size_t w : {1, 16, 37}) {
            const std::size_t rows = 12, cols = 30;
            const auto x = test_batch<float>(rows, cols, 0.2, rng);
            cfnet::kernels::ColumnIndex ci;
            ci.build(x);
            const auto dy = uniform(rows * w, -1, 1, rng), W = uniform(cols * w, -1, 1, rng),
                       b = uniform(cols, -1, 1, rng), g0 = uniform(cols * w, -1, 1, rng),
                       dx0 = uniform(rows * w, -1, 1, rng), d = uniform(x.nnz(), -1, 1, rng);
            auto g = g0, gw = g0, dx = dx0;
            std::vector<float> ye(x.nnz() + 1, -9.f);
            {
                Dispatch on(fast);
                cfnet::kernels::csr_transpose_times_dense(x.row_ptr().data(), x.indices().data(), x.values().data(),
                                                          rows, dy.data(), w, g.data());
                // column_dots/grads: the pattern's entries, with W out x in (= cols x w) and x = dy (rows x w)
                cfnet::kernels::column_dots(ci, cols, dy.data(), W.data(), b.data(), w, ye.data());
                cfnet::kernels::column_grads(ci, cols, dy.data(), W.data(), d.data(), w, dx.data(), gw.data());
            }
            INFO("fast " << fast << " w " << w);
            std::vector<double> g_ref(g0.begin(), g0.end()), gw_ref(g0.begin(), g0.end()), dx_ref(dx0.begin(), dx0.end());
            double worst_ye = 0;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t p = x.row_ptr()[r]; p < x.row_ptr()[r + 1]; ++p) {
                    const std::size_t c = x.indices()[p];
                    double z = b[c];
                    for (std::size_t k = 0; k < w; ++k) {
                        g_ref[c * w + k] += double(x.values()[p]) * dy[r * w + k];
                        z += double(dy[r * w + k]) * W[c * w + k];
                        dx_ref[r * w + k] += double(d[p]) * W[c * w + k];
                        gw_ref[c * w + k] += double(d[p]) * dy[r * w + k];
                    }
                    worst_ye = std::max(worst_ye, std::abs(ye[p] - z));
                }
            CHECK(max_diff(g, g_ref) < 1e-5);
            CHECK(max_diff(gw, gw_ref) < 1e-5);
            CHECK(max_diff(dx, dx_ref) < 1e-5);
            CHECK(worst_ye < 1e-5);
            CHECK(ye[x.nnz()] == -9.f);
        }
}

TEST_CASE("gathered_dots equals a double reference of x[rows[q]] . w", "[kernels]") {
    Rng rng(5);
    for (const bool fast : paths())
        for (const std::size_t h : {16, 32, 48, 512})
            for (const std::size_t n : {0, 1, 3, 4, 5, 9}) {
                const std::size_t n_rows = 6;
                const auto x = uniform(n_rows * h, -1, 1, rng), w = uniform(h, -1, 1, rng);
                std::vector<std::uint32_t> rows(n);
                for (auto& r : rows) r = static_cast<std::uint32_t>(rng.below(n_rows));  // repeats allowed
                std::vector<float> z(n + 1, -9.f);
                {
                    Dispatch d(fast);
                    cfnet::kernels::gathered_dots(x.data(), rows.data(), n, w.data(), h, z.data());
                }
                INFO("fast " << fast << " h " << h << " n " << n);
                for (std::size_t q = 0; q < n; ++q) {
                    double ref = 0, mag = 0;
                    for (std::size_t k = 0; k < h; ++k) {
                        ref += double(x[rows[q] * h + k]) * w[k];
                        mag += std::abs(double(x[rows[q] * h + k]) * w[k]);
                    }
                    CHECK(std::abs(z[q] - ref) <= 1e-6 * mag);
                }
                CHECK(z[n] == -9.f);  // nothing written past n
            }
}

TEST_CASE("gathered_grad_adam equals a double reference of the gradient, the da updates and Adam", "[kernels]") {
    Rng rng(7);
    for (const bool fast : paths())
        for (const int mode : {0, 1, 2})
            for (const std::size_t h : {16, 80, 512})
                for (const std::size_t n : {0, 1, 5})
                    for (const bool with_da : {false, true}) {
                        const std::size_t n_rows = 4;
                        const auto x = uniform(n_rows * h, -1, 1, rng), coef = uniform(n, -2, 2, rng),
                                   p0 = uniform(h, -1, 1, rng), m0 = uniform(h, -0.1, 0.1, rng),
                                   v0 = uniform(h, 0.01, 0.1, rng), da0 = uniform(n_rows * h, -1, 1, rng);
                        std::vector<std::uint32_t> rows(n);
                        for (std::size_t q = 0; q < n; ++q) rows[q] = static_cast<std::uint32_t>(q % n_rows);
                        auto p = p0, m = m0, v = v0, da = da0;
                        std::vector<float> scratch(h);
                        const Consts c = adam_constants(mode);
                        {
                            Dispatch d(fast);
                            cfnet::kernels::gathered_grad_adam(coef.data(), rows.data(), n, x.data(),
                                                              with_da ? da.data() : nullptr, p.data(), m.data(),
                                                              v.data(), h, c, scratch.data());
                        }
                        INFO("fast " << fast << " mode " << mode << " h " << h << " n " << n << " da " << with_da);
                        std::vector<double> g(h, 0.0), da_ref(da0.begin(), da0.end());
                        for (std::size_t q = 0; q < n; ++q)
                            for (std::size_t k = 0; k < h; ++k) {
                                g[k] += double(coef[q]) * x[rows[q] * h + k];
                                da_ref[rows[q] * h + k] += double(coef[q]) * p0[k];
                            }
                        check_adam(p, m, v, p0, m0, v0, g, c);
                        double worst_da = 0;
                        for (std::size_t k = 0; k < da.size(); ++k)
                            worst_da = std::max(worst_da, std::abs(da[k] - (with_da ? da_ref[k] : double(da0[k]))));
                        CHECK(worst_da <= 1e-5);
                    }
}

TEST_CASE("sparse_times_dense: by columns and by rows, the same sums bit for bit in every version", "[kernels]") {
    Rng rng(17);
    const std::size_t n_in = 40;
    for (const std::size_t out : {16, 128, 144, 272})
        for (const std::size_t n : {1, 5, 32}) {
            // rows with ascending items (as RatingMatrix stores them), some empty, some items unused
            cfnet::nn::SparseBatch<float> batch(n_in);
            for (std::size_t r = 0; r < n; ++r) {
                std::vector<cfnet::nn::index_type> idx;
                std::vector<float> val;
                if (r % 4 != 3)
                    for (std::size_t i = 0; i < n_in; ++i)
                        if (rng.uniform() < 0.3) {
                            idx.push_back(static_cast<cfnet::nn::index_type>(i));
                            val.push_back(static_cast<float>(rng.uniform(1, 5)));
                        }
                batch.add_row(idx.data(), val.data(), idx.size());
            }
            const auto W = uniform(n_in * out, -1, 1, rng), init = uniform(n * out, -1, 1, rng);
            cfnet::kernels::ColumnIndex ic;
            ic.build(batch);
            std::vector<float> coef(ic.pos.size());
            for (std::size_t q = 0; q < coef.size(); ++q) coef[q] = batch.values()[ic.pos[q]];
            std::vector<cfnet::kernels::kindex> items;
            for (std::size_t i = 0; i < n_in; ++i)
                if (ic.ptr[i] != ic.ptr[i + 1]) items.push_back(static_cast<cfnet::kernels::kindex>(i));
            // the dispatched version (by columns where AVX-512 tiles apply) against csr_times_dense's
            // (AVX-512 by rows on such a CPU): the same sums in the same order; and both references agree
            auto by_item = init, by_user = init, ref_item = init, ref_user = init;
            {
                Dispatch on(true);
                cfnet::kernels::sparse_times_dense(batch.row_ptr().data(), batch.indices().data(), batch.values().data(),
                                                   n, ic, coef.data(), items, W.data(), out, by_item.data());
                cfnet::kernels::csr_times_dense(batch.row_ptr().data(), batch.indices().data(), batch.values().data(), n,
                                                W.data(), out, by_user.data());
            }
            {
                Dispatch off(false);
                cfnet::kernels::sparse_times_dense(batch.row_ptr().data(), batch.indices().data(), batch.values().data(),
                                                   n, ic, coef.data(), items, W.data(), out, ref_item.data());
                cfnet::kernels::csr_times_dense(batch.row_ptr().data(), batch.indices().data(), batch.values().data(), n,
                                                W.data(), out, ref_user.data());
            }
            INFO("out " << out << " n " << n);
            if (cfnet::kernels::avx512_tiles<float>(out)) CHECK(by_item == by_user);
            CHECK(ref_item == ref_user);
            double worst = 0;  // and both are X W + init, against a double reference
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t o = 0; o < out; ++o) {
                    double ref = init[r * out + o], mag = std::abs(ref);
                    for (std::size_t p = batch.row_ptr()[r]; p < batch.row_ptr()[r + 1]; ++p) {
                        const double t = double(batch.values()[p]) * W[batch.indices()[p] * out + o];
                        ref += t;
                        mag += std::abs(t);
                    }
                    worst = std::max(worst, std::abs(by_item[r * out + o] - ref) / mag);
                }
            CHECK(worst <= 1e-6);
        }
}
