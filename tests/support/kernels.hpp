#pragma once
// Shared by tests/kernels/*: the dispatch switch, the paths a kernel test runs, random data, and
// Adam's update in double (the formula of optim/adam.hpp) to check the fused kernels against.
#include <cfnet/detail/rng.hpp>
#include <cfnet/kernels/adam.hpp>
#include <cfnet/kernels/dispatch.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace cfnet_test {

using Consts = cfnet::kernels::AdamStepConstants<float>;

// Switches the SIMD dispatch for one scope (restored on exit).
struct Dispatch {
    explicit Dispatch(bool on) : saved(cfnet::kernels::simd_dispatch_enabled()) {
        cfnet::kernels::simd_dispatch_enabled() = on;
    }
    ~Dispatch() { cfnet::kernels::simd_dispatch_enabled() = saved; }
    Dispatch(const Dispatch&) = delete;
    Dispatch& operator=(const Dispatch&) = delete;
    bool saved;
};

// The paths a test runs: the references always (dispatch off), the dispatched versions where the
// CPU has more than the baseline.
inline std::vector<bool> paths() {
    std::vector<bool> out{false};
    Dispatch on(true);
    if (cfnet::kernels::use_avx2() || cfnet::kernels::use_avx512()) out.push_back(true);
    else WARN("no SIMD dispatch on this CPU or build: only the reference kernels are checked");
    return out;
}

inline std::vector<float> uniform(std::size_t n, double lo, double hi, cfnet::Rng& rng) {
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(rng.uniform(lo, hi));
    return v;
}

// Adam constants of a step (lr 0.01, betas 0.9/0.999 at step 3) in one of the weight-decay modes.
inline Consts adam_constants(int mode) {
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

// Adam's update in double of one element from gradient g.
inline void adam_ref(double g, double& p, double& m, double& v, const Consts& c) {
    if (c.coupled) g += double(c.wd) * p;
    m += (g - m) * double(c.c1);
    v += (g * g - v) * double(c.c2);
    if (c.decoupled) p -= double(c.lr_wd) * p;
    p -= double(c.lr_t) * m / (std::sqrt(v) + double(c.eps));
}

// Checks p, m, v (float, after a kernel) against the double reference; `p0`, `m0`, `v0` before.
inline void check_adam(const std::vector<float>& p, const std::vector<float>& m, const std::vector<float>& v,
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

}  // namespace cfnet_test
