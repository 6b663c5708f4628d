#pragma once
/// @file kernels/adam.hpp
/// Adam's element-wise update (Keras' rule, see optim/adam.hpp for the formula and the options):
/// the array kernel adam_update and, for the fused register-tile kernels of kernels/dense.hpp and
/// kernels/sparse.hpp, its per-register form (simd::AdamRegs).
///
/// Versions of adam_update: ref::adam (scalar, any T) and simd::adam_avx2 (float, eight lanes, no
/// FMA: each lane does exactly the scalar operations, so the bits are the reference's).
/// simd::AdamRegs does the same operations in AVX-512 registers, compiled with FMA available, so
/// GCC's default -ffp-contract=fast may fuse a multiply and an add there (last-place differences).

#include <cfnet/kernels/dispatch.hpp>

#include <cmath>
#include <cstddef>
#include <type_traits>

namespace cfnet::kernels {

/// Adam's per-element constants for one step: m += (g - m) c1, v += (g^2 - v) c2,
/// p -= lr_t m / (sqrt(v) + eps); coupled: g += wd p first; decoupled: p -= lr_wd p first.
template <class T>
struct AdamStepConstants {
    T lr_t{}, c1{}, c2{}, eps{}, wd{}, lr_wd{};
    bool coupled = false, decoupled = false;
};

namespace ref {

/// Adam's update of n elements. HAS_GRAD = false: a zero gradient that is never read (exact Adam on
/// a row no batch entry touched).
template <bool HAS_GRAD, bool COUPLED, bool DECOUPLED, class T>
CFNET_KERNEL_INLINE void adam(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, std::size_t n,
                              const AdamStepConstants<T>& c) {
    for (std::size_t i = 0; i < n; ++i) {
        T pi = p[i];
        T gi = T(0);
        if constexpr (HAS_GRAD) gi = g[i];
        if constexpr (COUPLED) gi = gi + c.wd * pi;
        T mi = m[i];
        T vi = v[i];
        mi = mi + (gi - mi) * c.c1;
        vi = vi + (gi * gi - vi) * c.c2;
        m[i] = mi;
        v[i] = vi;
        if constexpr (DECOUPLED) pi = pi - c.lr_wd * pi;
        p[i] = pi - c.lr_t * mi / (std::sqrt(vi) + c.eps);
    }
}

}  // namespace ref

#ifdef CFNET_SIMD_DISPATCH
namespace simd {

/// ref::adam on eight floats at a time (AVX, no FMA: bit-identical to the reference).
template <bool HAS_GRAD, bool COUPLED, bool DECOUPLED>
CFNET_TARGET_AVX2 void adam_avx2(float* __restrict p, const float* __restrict g, float* __restrict m,
                                 float* __restrict v, std::size_t n, const AdamStepConstants<float>& c) {
    std::size_t i = 0;
    const __m256 vlr_t = _mm256_set1_ps(c.lr_t), vc1 = _mm256_set1_ps(c.c1), vc2 = _mm256_set1_ps(c.c2),
                 veps = _mm256_set1_ps(c.eps), vwd = _mm256_set1_ps(c.wd), vlr_wd = _mm256_set1_ps(c.lr_wd);
    for (; i + 8 <= n; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i);
        __m256 gi = _mm256_setzero_ps();
        if constexpr (HAS_GRAD) gi = _mm256_loadu_ps(g + i);
        if constexpr (COUPLED) gi = _mm256_add_ps(gi, _mm256_mul_ps(vwd, pi));
        __m256 mi = _mm256_loadu_ps(m + i);
        __m256 vi = _mm256_loadu_ps(v + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(_mm256_sub_ps(gi, mi), vc1));
        vi = _mm256_add_ps(vi, _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(gi, gi), vi), vc2));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        if constexpr (DECOUPLED) pi = _mm256_sub_ps(pi, _mm256_mul_ps(vlr_wd, pi));
        const __m256 upd = _mm256_div_ps(_mm256_mul_ps(vlr_t, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), veps));
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, upd));
    }
    ref::adam<HAS_GRAD, COUPLED, DECOUPLED>(p + i, HAS_GRAD ? g + i : g, m + i, v + i, n - i, c);
}

/// Adam's constants in registers and its update of 16 elements with gradient g: ref::adam's
/// operations in its order (see the file comment on FMA contraction).
struct AdamRegs {
    __m512 lr_t, c1, c2, eps, wd, lr_wd;

    CFNET_TARGET_AVX512_FMA explicit AdamRegs(const AdamStepConstants<float>& ac)
        : lr_t(_mm512_set1_ps(ac.lr_t)), c1(_mm512_set1_ps(ac.c1)), c2(_mm512_set1_ps(ac.c2)),
          eps(_mm512_set1_ps(ac.eps)), wd(_mm512_set1_ps(ac.wd)), lr_wd(_mm512_set1_ps(ac.lr_wd)) {}

    /// p[0..16) (whose current values are pi), m, v updated with the gradient g.
    template <bool Coupled, bool Decoupled>
    CFNET_TARGET_AVX512_FMA void update(__m512 g, __m512 pi, float* p, float* m, float* v) const {
        if constexpr (Coupled) g = _mm512_add_ps(g, _mm512_mul_ps(wd, pi));
        __m512 mi = _mm512_loadu_ps(m), vi = _mm512_loadu_ps(v);
        mi = _mm512_add_ps(mi, _mm512_mul_ps(_mm512_sub_ps(g, mi), c1));
        vi = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(g, g), vi), c2));
        _mm512_storeu_ps(m, mi);
        _mm512_storeu_ps(v, vi);
        if constexpr (Decoupled) pi = _mm512_sub_ps(pi, _mm512_mul_ps(lr_wd, pi));
        // the maskz form of sqrt: the plain one trips g++ 12's -Wmaybe-uninitialized in its own header
        const __mmask16 all = 0xFFFF;
        const __m512 upd = _mm512_div_ps(_mm512_mul_ps(lr_t, mi), _mm512_add_ps(_mm512_maskz_sqrt_ps(all, vi), eps));
        _mm512_storeu_ps(p, _mm512_sub_ps(pi, upd));
    }
};

}  // namespace simd
#endif

/// Calls f(coupled, decoupled) with std::bool_constant arguments for the weight-decay mode of `c`.
template <class T, class F>
CFNET_KERNEL_INLINE void with_decay_mode(const AdamStepConstants<T>& c, F&& f) {
    if (c.coupled) f(std::true_type{}, std::false_type{});
    else if (c.decoupled) f(std::false_type{}, std::true_type{});
    else f(std::false_type{}, std::false_type{});
}

/// Adam's update of n elements with the weight-decay mode of `c`, on the widest version the CPU
/// runs (all give the reference's bits). g == nullptr means a zero gradient. Allocates nothing.
template <class T>
void adam_update(T* p, const T* g, T* m, T* v, std::size_t n, const AdamStepConstants<T>& c) {
    auto run = [&](auto has_grad, auto coupled, auto decoupled) {
        constexpr bool H = decltype(has_grad)::value, C = decltype(coupled)::value, D = decltype(decoupled)::value;
#ifdef CFNET_SIMD_DISPATCH
        if constexpr (std::is_same_v<T, float>) {
            if (use_avx2()) return simd::adam_avx2<H, C, D>(p, g, m, v, n, c);
        }
#endif
        ref::adam<H, C, D>(p, g, m, v, n, c);
    };
    with_decay_mode(c, [&](auto coupled, auto decoupled) {
        if (g) run(std::true_type{}, coupled, decoupled);
        else run(std::false_type{}, coupled, decoupled);
    });
}

}  // namespace cfnet::kernels
