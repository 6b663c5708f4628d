// detail/autoencoder_kernels.hpp: each kernel, in its AVX-512 version (where the CPU has it) and its plain
// version (dispatch switched off), against a double-precision reference of what it computes, for
// every column remainder (blocks of 64 and 16 columns), row-tile remainder and empty lists.
#include <cfnet/detail/autoencoder_kernels.hpp>
#include <cfnet/detail/rng.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

using cfnet::Rng;
using Consts = cfnet::optim::detail::AdamStepConstants<float>;

// Switches the SIMD dispatch for one scope (restored on exit).
struct Dispatch {
    explicit Dispatch(bool on) : saved(cfnet::detail::simd_dispatch_enabled()) {
        cfnet::detail::simd_dispatch_enabled() = on;
    }
    ~Dispatch() { cfnet::detail::simd_dispatch_enabled() = saved; }
    bool saved;
};

// The paths a test runs: the plain loops always, the AVX-512 kernels where the CPU has them.
std::vector<bool> paths() {
    std::vector<bool> out{false};
    Dispatch on(true);
    if (cfnet::detail::fused_dense_ok<float>(16)) out.push_back(true);
    else WARN("no AVX-512 on this CPU (or no SIMD dispatch): only the plain kernels are checked");
    return out;
}

std::vector<float> uniform(std::size_t n, double lo, double hi, Rng& rng) {
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(rng.uniform(lo, hi));
    return v;
}

// Adam constants of a step (lr 0.01, betas 0.9/0.999 at step 3) in one of the weight-decay modes.
Consts constants(int mode) {
    Consts c;
    c.lr_t = 0.01f * std::sqrt(1.f - 0.999f * 0.999f * 0.999f) / (1.f - 0.9f * 0.9f * 0.9f);
    c.c1 = 0.1f;
    c.c2 = 0.001f;
    c.eps = 1e-7f;
    c.wd = mode == 1 ? 0.05f : 0.f;
    c.lr_wd = mode == 2 ? 0.01f * 0.05f : 0.f;
    c.coupled = mode == 1;
    c.decoupled = mode == 2;
    return c;
}

// Adam's update in double of one element from gradient g (the formula of optim/adam.hpp).
void adam_ref(double g, double& p, double& m, double& v, const Consts& c) {
    if (c.coupled) g += double(c.wd) * p;
    m += (g - m) * double(c.c1);
    v += (g * g - v) * double(c.c2);
    if (c.decoupled) p -= double(c.lr_wd) * p;
    p -= double(c.lr_t) * m / (std::sqrt(v) + double(c.eps));
}

// Checks p, m, v (float, after the kernel) against the double reference; `p0`, `m0`, `v0` before.
void check_adam(const std::vector<float>& p, const std::vector<float>& m, const std::vector<float>& v,
                const std::vector<float>& p0, const std::vector<float>& m0, const std::vector<float>& v0,
                const std::vector<double>& g, const Consts& c) {
    double worst_p = 0, worst_m = 0, worst_v = 0;
    for (std::size_t k = 0; k < g.size(); ++k) {
        double pr = p0[k], mr = m0[k], vr = v0[k];
        adam_ref(g[k], pr, mr, vr, c);
        worst_p = std::max(worst_p, std::abs(p[k] - pr) / double(c.lr_t));  // relative to a step
        worst_m = std::max(worst_m, std::abs(m[k] - mr) / (std::abs(mr) + 1e-3));
        worst_v = std::max(worst_v, std::abs(v[k] - vr) / vr);
    }
    CHECK(worst_p <= 1e-4);
    CHECK(worst_m <= 1e-4);
    CHECK(worst_v <= 1e-5);
}

}  // namespace

TEST_CASE("gathered_dots equals a double reference of x[rows[q]] . w", "[autoencoder_kernels]") {
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
                    cfnet::detail::gathered_dots(x.data(), rows.data(), n, w.data(), h, z.data());
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

TEST_CASE("gathered_grad_adam equals a double reference of the gradient, the da updates and Adam", "[autoencoder_kernels]") {
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
                        const Consts c = constants(mode);
                        {
                            Dispatch d(fast);
                            cfnet::detail::gathered_grad_adam(coef.data(), rows.data(), n, x.data(),
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

TEST_CASE("dense_grad_adam equals a double reference of a^T dz and Adam", "[autoencoder_kernels]") {
    Rng rng(9);
    for (const bool fast : paths())
        for (const int mode : {0, 1, 2})
            for (const std::size_t in : {1, 5, 6, 13})
                for (const std::size_t out : {16, 64, 80, 144})
                    for (const std::size_t n : {0, 1, 7, 16, 32}) {
                        auto a = uniform(n * in, -1, 1, rng);
                        for (auto& e : a) e = std::max(e, 0.f);  // ReLU outputs: zeros included
                        const auto dz = uniform(n * out, -1, 1, rng), W0 = uniform(in * out, -1, 1, rng),
                                   m0 = uniform(in * out, -0.1, 0.1, rng), v0 = uniform(in * out, 0.01, 0.1, rng);
                        auto W = W0, m = m0, v = v0;
                        std::vector<float> scratch(out);
                        const Consts c = constants(mode);
                        {
                            Dispatch d(fast);
                            cfnet::detail::dense_grad_adam(a.data(), n, in, dz.data(), out, W.data(), m.data(),
                                                           v.data(), c, scratch.data());
                        }
                        INFO("fast " << fast << " mode " << mode << " in " << in << " out " << out << " n " << n);
                        std::vector<double> g(in * out, 0.0);
                        for (std::size_t r = 0; r < n; ++r)
                            for (std::size_t i = 0; i < in; ++i)
                                for (std::size_t j = 0; j < out; ++j)
                                    g[i * out + j] += double(a[r * in + i]) * dz[r * out + j];
                        check_adam(W, m, v, W0, m0, v0, g, c);
                    }
}

TEST_CASE("dense_input_grad equals a double reference of dz W^T", "[autoencoder_kernels]") {
    Rng rng(13);
    for (const bool fast : paths())
        for (const std::size_t out : {16, 64, 80})
            for (const std::size_t in : {1, 4, 7, 13, 20, 29})
                for (const std::size_t n : {0, 1, 4, 6, 13, 16, 17, 32, 33, 50}) {
                    const auto dz = uniform(n * out, -1, 1, rng), W = uniform(in * out, -1, 1, rng);
                    std::vector<float> c(n * in + 1, -9.f);
                    // scratch holding a NaN: the kernel must not read what it did not write
                    std::vector<float> scratch(cfnet::detail::dense_input_grad_scratch(n, out, in),
                                               std::numeric_limits<float>::quiet_NaN());
                    {
                        Dispatch d(fast);
                        cfnet::detail::dense_input_grad(dz.data(), n, out, W.data(), in, c.data(), scratch.data());
                    }
                    INFO("fast " << fast << " out " << out << " in " << in << " n " << n);
                    double worst = 0;
                    for (std::size_t r = 0; r < n; ++r)
                        for (std::size_t i = 0; i < in; ++i) {
                            double ref = 0, mag = 0;
                            for (std::size_t k = 0; k < out; ++k) {
                                ref += double(dz[r * out + k]) * W[i * out + k];
                                mag += std::abs(double(dz[r * out + k]) * W[i * out + k]);
                            }
                            worst = std::max(worst, std::abs(c[r * in + i] - ref) / mag);
                        }
                    CHECK(worst <= 1e-6);
                    CHECK(c[n * in] == -9.f);  // nothing written past n x in
                }
}

#ifdef CFNET_SIMD_DISPATCH
TEST_CASE("transpose_avx512 transposes every block size and writes nothing else", "[autoencoder_kernels]") {
    if (!cfnet::detail::use_avx512()) {
        WARN("no AVX-512 on this CPU: transpose_avx512 not run");
        return;
    }
    for (const std::size_t rows : {0, 1, 5, 15, 16, 17, 32, 33})
        for (const std::size_t cols : {1, 7, 16, 20, 48}) {
            const std::size_t lds = cols + 3, ldd = rows + 5;  // strides wider than the block
            std::vector<float> s(rows * lds), d(cols * ldd + 1, -1.f);
            for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(i);
            cfnet::detail::transpose_avx512(s.data(), rows, cols, lds, d.data(), ldd);
            INFO("rows " << rows << " cols " << cols);
            std::size_t wrong = 0, touched = 0;
            for (std::size_t c = 0; c < cols; ++c)
                for (std::size_t r = 0; r < ldd; ++r) {
                    if (r < rows) wrong += d[c * ldd + r] != s[r * lds + c];
                    else touched += d[c * ldd + r] != -1.f;
                }
            CHECK(wrong == 0);
            CHECK(touched == 0);
            CHECK(d[cols * ldd] == -1.f);
        }
}
#endif

#ifdef CFNET_SIMD_DISPATCH
TEST_CASE("sparse_items_forward_avx512 gives the user-order kernel's sums bit for bit", "[autoencoder_kernels]") {
    if (!cfnet::detail::use_avx512()) {
        WARN("no AVX-512 on this CPU: sparse_items_forward_avx512 not run");
        return;
    }
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
            cfnet::nn::detail::ColumnIndex ic;
            ic.build(batch);
            std::vector<float> coef(ic.pos.size());
            for (std::size_t q = 0; q < coef.size(); ++q) coef[q] = batch.values()[ic.pos[q]];
            std::vector<cfnet::nn::index_type> items;
            for (std::size_t i = 0; i < n_in; ++i)
                if (ic.ptr[i] != ic.ptr[i + 1]) items.push_back(static_cast<cfnet::nn::index_type>(i));
            auto by_item = init, by_user = init;
            cfnet::detail::sparse_items_forward_avx512(ic.ptr.data(), ic.row.data(), coef.data(), items.data(),
                                                       items.size(), W.data(), out, by_item.data());
            cfnet::nn::detail::sparse_in_forward_avx512(batch.row_ptr().data(), batch.indices().data(),
                                                        batch.values().data(), n, W.data(), out, by_user.data());
            INFO("out " << out << " n " << n);
            CHECK(by_item == by_user);
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
#endif
