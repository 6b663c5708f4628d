#pragma once
/// @file kernels/tanh.hpp
/// tanh in float without a libm call per element, so that the loop over a layer's outputs
/// vectorises (Mult-VAE's hidden layers: glibc's tanhf was ~12% of a training step).
///
///   |x| < 0.4:  the odd Taylor series of tanh through x^11 (the next term is < 2.4e-8 there)
///   otherwise:  1 - 2 / (e^(2|x|) + 1), e^t by Cody-Waite reduction t = k ln2 + r (|r| <= ln2 / 2),
///               a degree-7 Taylor polynomial of e^r and 2^k from the exponent bits; |x| >= 9 gives
///               +-1 (the argument is clamped at 9, where tanh rounds to 1 in float)
///   sign restored; NaN stays NaN.
///
/// Measured against std::tanh in double on a 1e-5 grid over [-12, 12] (tests/kernels/test_tanh.cpp):
/// relative error at most 1.7e-7 (the test allows 1e-6), so it is not
/// bit-identical to std::tanh. Versions: the reference and the reference compiled for AVX2 (no FMA:
/// the reference's operations exactly, so both give the same bits as tanh_value, the scalar form
/// nn::fn::Tanh uses for float). There is no AVX-512 version: AVX-512F includes FMA, and GCC contracts
/// the polynomials into it, which would change the bits (AVX2 already removes the libm call). double is not approximated: for T =
/// double every function is std::tanh (gradient checks run in double).

#include <cfnet/kernels/dispatch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace cfnet::kernels {

namespace ref {

/// tanh(x) for one float (see the file comment).
CFNET_KERNEL_INLINE float tanh_value(float x) {
    const float a = x < 0.f ? -x : x;
    const float a2 = a * a;
    // series: a (1 + a2 (-1/3 + a2 (2/15 + a2 (-17/315 + a2 (62/2835 + a2 (-1382/155925))))))
    const float series =
        a + a * a2 *
                (-0.333333333333f +
                 a2 * (0.133333333333f + a2 * (-0.0539682539683f + a2 * (0.0218694885362f + a2 * -0.00886323552990f))));
    const float t = 2.f * (a < 9.f ? a : 9.f);
    const float kf = std::floor(t * 1.44269504088896341f + 0.5f);
    const float r = (t - kf * 0.693359375f) + kf * 2.12194440e-4f;  // Cody-Waite: ln2 = 0.693359375 - 2.12194440e-4
    const float p =
        1.f + r * (1.f + r * (0.5f + r * (0.166666666667f +
                                          r * (0.0416666666667f +
                                               r * (0.00833333333333f + r * (0.00138888888889f + r * 0.000198412698413f))))));
    const std::int32_t bits = (static_cast<std::int32_t>(kf) + 127) * (std::int32_t(1) << 23);
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const float e = p * scale;
    const float far = a < 9.f ? 1.f - 2.f / (e + 1.f) : 1.f;
    float v = a < 0.4f ? series : far;
    v = a == a ? v : a;  // NaN in, NaN out
    return x < 0.f ? -v : v;
}

/// y[i] = tanh(y[i]) for i < n, in place.
CFNET_KERNEL_INLINE void tanh_inplace(float* __restrict y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = tanh_value(y[i]);
}

}  // namespace ref

#ifdef CFNET_SIMD_DISPATCH
namespace simd {
CFNET_TARGET_AVX2 inline void tanh_inplace_avx2(float* y, std::size_t n) { ref::tanh_inplace(y, n); }
}  // namespace simd
#endif

/// tanh of one value: the float approximation above, std::tanh for other types.
template <class T>
inline T tanh_value(T x) {
    if constexpr (std::is_same_v<T, float>)
        return ref::tanh_value(x);
    else
        return std::tanh(x);
}

/// y[i] = tanh_value(y[i]) for i < n, in place (the widest version the CPU runs; the same bits).
template <class T>
void tanh_inplace(T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
#ifdef CFNET_SIMD_DISPATCH
        if (use_avx2()) return simd::tanh_inplace_avx2(y, n);
#endif
        ref::tanh_inplace(y, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(y[i]);
    }
}

}  // namespace cfnet::kernels
