// kernels/adam.hpp: adam_update's versions against each other and against Adam's formula in double;
// the per-register form (simd::AdamRegs) is checked through the fused kernels of test_dense.cpp and
// test_sparse.cpp.
#include <cfnet/kernels/adam.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

using namespace cfnet_test;

TEST_CASE("adam_update equals Adam's formula in double in each weight-decay mode", "[kernels]") {
    cfnet::Rng rng(29);
    for (const bool fast : paths())
        for (const int mode : {0, 1, 2})
            for (const std::size_t n : {0, 1, 7, 8, 37}) {
                const auto p0 = uniform(n, -1, 1, rng), m0 = uniform(n, -0.1, 0.1, rng), v0 = uniform(n, 0.01, 0.1, rng),
                           g = uniform(n, -1, 1, rng);
                auto p = p0, m = m0, v = v0;
                const Consts c = adam_constants(mode);
                {
                    Dispatch d(fast);
                    cfnet::kernels::adam_update(p.data(), g.data(), m.data(), v.data(), n, c);
                }
                INFO("fast " << fast << " mode " << mode << " n " << n);
                check_adam(p, m, v, p0, m0, v0, std::vector<double>(g.begin(), g.end()), c);
            }
}

TEST_CASE("adam_update: every version gives the reference's bits, a null gradient is a zero gradient", "[kernels]") {
    using cfnet::kernels::AdamStepConstants;
    using cfnet::kernels::adam_update;
    cfnet::Rng rng(3);
    const std::size_t n = 37;  // a SIMD body and a scalar tail
    std::vector<float> p0(n), g(n), m0(n), v0(n), zeros(n, 0.f);
    for (std::size_t i = 0; i < n; ++i) {
        p0[i] = static_cast<float>(rng.uniform(-1, 1));
        g[i] = static_cast<float>(rng.uniform(-1, 1));
        m0[i] = static_cast<float>(rng.uniform(-0.1, 0.1));
        v0[i] = static_cast<float>(rng.uniform(0, 0.1));
    }
    for (int mode = 0; mode < 3; ++mode) {
        AdamStepConstants<float> c;
        c.lr_t = 1e-3f, c.c1 = 0.1f, c.c2 = 0.001f, c.eps = 1e-7f, c.wd = 0.01f, c.lr_wd = 1e-5f;
        c.coupled = mode == 1;
        c.decoupled = mode == 2;
        auto run = [&](bool dispatch, const float* grad) {
            cfnet::kernels::simd_dispatch_enabled() = dispatch;
            std::vector<float> p = p0, m = m0, v = v0;
            adam_update(p.data(), grad, m.data(), v.data(), n, c);
            cfnet::kernels::simd_dispatch_enabled() = true;
            p.insert(p.end(), m.begin(), m.end());
            p.insert(p.end(), v.begin(), v.end());
            return p;
        };
        INFO("mode " << mode << ", avx2 available " << cfnet::kernels::use_avx2());
        CHECK(run(true, g.data()) == run(false, g.data()));
        CHECK(run(true, nullptr) == run(false, zeros.data()));
        CHECK(run(false, nullptr) == run(false, zeros.data()));
        CHECK(run(true, g.data()) != run(true, nullptr));
    }
}
