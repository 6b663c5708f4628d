#pragma once
/// @file kernels/vector.hpp
/// Vector building blocks (BLAS level 1 and the element-wise ReLU forms): single-path kernels,
/// always inlined, so that they vectorise for whatever target the calling kernel is compiled for.
/// Every summation has a fixed order (fixed lanes, pairwise final sums), so results do not depend
/// on the vector width.

#include <cfnet/kernels/dispatch.hpp>

#include <cstddef>

namespace cfnet::kernels {

/// sum a[i] * b[i] over 32 independent lanes (vectorisable without -ffast-math, four vector
/// registers wide so that the adds do not wait on each other's latency), summed pairwise.
template <class T>
CFNET_KERNEL_INLINE T dot(const T* __restrict a, const T* __restrict b, std::size_t n) {
    constexpr std::size_t lanes = 32;
    T acc[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes)
        for (std::size_t l = 0; l < lanes; ++l) acc[l] += a[i + l] * b[i + l];
    for (std::size_t l = 0; i < n; ++i, ++l) acc[l] += a[i] * b[i];
    for (std::size_t w = lanes / 2; w > 0; w /= 2)
        for (std::size_t l = 0; l < w; ++l) acc[l] += acc[l + w];
    return acc[0];
}

/// sum a[j] * w[j] over 16 independent lanes, then (0+8, 4+12, ...) pairwise: the order of the
/// scoring kernels (dot_rows).
template <class T>
CFNET_KERNEL_INLINE T dot16(const T* __restrict a, const T* __restrict w, std::size_t n) {
    T acc[16] = {};
    std::size_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (std::size_t l = 0; l < 16; ++l) acc[l] += a[j + l] * w[j + l];
    for (std::size_t l = 0; j < n; ++j, ++l) acc[l] += a[j] * w[j];
    for (std::size_t l = 0; l < 8; ++l) acc[l] += acc[l + 8];
    for (std::size_t l = 0; l < 4; ++l) acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/// sum of max(c[j] + b[j], 0) * w[j] (a layer's bias and ReLU fused with the next layer's single
/// output's dot product), in dot16's order.
template <class T>
CFNET_KERNEL_INLINE T bias_relu_dot16(const T* __restrict c, const T* __restrict b, const T* __restrict w,
                                      std::size_t n) {
    T acc[16] = {};
    std::size_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (std::size_t l = 0; l < 16; ++l) {
            const T v = c[j + l] + b[j + l];
            acc[l] += (v > T(0) ? v : T(0)) * w[j + l];
        }
    for (std::size_t l = 0; j < n; ++j, ++l) {
        const T v = c[j] + b[j];
        acc[l] += (v > T(0) ? v : T(0)) * w[j];
    }
    for (std::size_t l = 0; l < 8; ++l) acc[l] += acc[l + 8];
    for (std::size_t l = 0; l < 4; ++l) acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/// y += a * x.
template <class T>
CFNET_KERNEL_INLINE void axpy(T a, const T* __restrict x, T* __restrict y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

/// y += a0 x0 + a1 x1 + a2 x2 + a3 x3, as (a0 x0 + a1 x1) + (a2 x2 + a3 x3) (one pass over y for
/// four rows).
template <class T>
CFNET_KERNEL_INLINE void axpy4(const T* a, const T* __restrict x0, const T* __restrict x1, const T* __restrict x2,
                               const T* __restrict x3, T* __restrict y, std::size_t n) {
    const T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    for (std::size_t i = 0; i < n; ++i) y[i] += (a0 * x0[i] + a1 * x1[i]) + (a2 * x2[i] + a3 * x3[i]);
}

/// y += a * x and z += b * w in one pass.
template <class T>
CFNET_KERNEL_INLINE void axpy2(T a, const T* __restrict x, T* __restrict y, T b, const T* __restrict w,
                               T* __restrict z, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        y[i] += a * x[i];
        z[i] += b * w[i];
    }
}

/// y += x.
template <class T>
CFNET_KERNEL_INLINE void add_into(const T* __restrict x, T* __restrict y, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) y[k] += x[k];
}

/// y += x and z += x.
template <class T>
CFNET_KERNEL_INLINE void add_into2(const T* __restrict x, T* __restrict y, T* __restrict z, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
        y[k] += x[k];
        z[k] += x[k];
    }
}

/// h = max(x + y, 0).
template <class T>
CFNET_KERNEL_INLINE void add_relu(const T* __restrict x, const T* __restrict y, T* __restrict h, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
        const T v = x[k] + y[k];
        h[k] = v > T(0) ? v : T(0);
    }
}

/// h = max((x + y) + b, 0).
template <class T>
CFNET_KERNEL_INLINE void add_bias_relu(const T* __restrict x, const T* __restrict y, const T* __restrict b,
                                       T* __restrict h, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
        const T v = (x[k] + y[k]) + b[k];
        h[k] = v > T(0) ? v : T(0);
    }
}

#ifdef CFNET_SIMD_DISPATCH
namespace simd {

/// The sum of v's 16 lanes in a fixed pairwise order (_mm512_reduce_add_ps and the 256-bit extracts
/// trip GCC 12's -Wuninitialized).
CFNET_TARGET_AVX512_FMA inline float lane_sum_avx512(__m512 v) {
    alignas(64) float t[16];
    _mm512_store_ps(t, v);
    for (int l = 0; l < 8; ++l) t[l] += t[l + 8];
    for (int l = 0; l < 4; ++l) t[l] += t[l + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

}  // namespace simd
#endif

}  // namespace cfnet::kernels
