#pragma once
/// @file detail/fused_dense.hpp
/// Fused Dense kernels for small batches: h = max(x W + b, 0) computed in register tiles straight
/// from row-major x and W (no GEMM packing, no zeroing of the output, no separate bias/ReLU pass),
/// optionally followed by the dot product with a next layer's single output column. AVX-512 only,
/// chosen at run time (fused_dense_ok); NeuralCF and AutoencoderCF fall back to cfnet::gemm.
/// Tested against a double-precision reference in tests/nn/test_fused_dense.cpp.

#include <cfnet/detail/simd_dispatch.hpp>

#include <cstddef>
#include <type_traits>

#ifdef CFNET_SIMD_DISPATCH
#include <immintrin.h>
#endif

namespace cfnet::detail {

#ifdef CFNET_SIMD_DISPATCH
#define CFNET_FUSED_AVX512 __attribute__((target("avx512f,fma")))

/// The sum of v's 16 lanes in a fixed pairwise order (_mm512_reduce_add_ps and the 256-bit extracts
/// trip GCC 12's -Wuninitialized).
CFNET_FUSED_AVX512 inline float lane_sum_avx512(__m512 v) {
    alignas(64) float t[16];
    _mm512_store_ps(t, v);
    for (int l = 0; l < 8; ++l) t[l] += t[l + 8];
    for (int l = 0; l < 4; ++l) t[l] += t[l + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

/// One tile of the fused Dense kernels below: R rows x C 16-float panels starting at column j0,
/// a = max(x W + b, 0) with the products summed over k in order; Store writes a to h (row stride
/// width), otherwise each row's a * wm is added to part[r].
template <int R, int C, bool Store>
CFNET_FUSED_AVX512 inline void dense_relu_tile_avx512(const float* x, std::size_t in, const float* W,
                                                         std::size_t width, std::size_t j0, const float* b,
                                                         const float* wm, __m512* part, float* h) {
    __m512 acc[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    const float* wk = W + j0;
    for (std::size_t k = 0; k < in; ++k, wk += width) {
        __m512 w[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) w[c] = _mm512_loadu_ps(wk + 16 * c);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m512 a = _mm512_set1_ps(x[r * in + k]);
#pragma GCC unroll 4
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(a, w[c], acc[r][c]);
        }
    }
    // The maskz form of max (all lanes) avoids GCC 12's false -Wuninitialized on _mm512_max_ps.
    const __m512 zero = _mm512_setzero_ps();
    const __mmask16 all = 0xFFFF;
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
        const __m512 bc = _mm512_loadu_ps(b + j0 + 16 * c);
        if constexpr (Store) {
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                _mm512_storeu_ps(h + r * width + j0 + 16 * c,
                                 _mm512_maskz_max_ps(all, _mm512_add_ps(acc[r][c], bc), zero));
        } else {
            const __m512 wc = _mm512_loadu_ps(wm + j0 + 16 * c);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                part[r] = _mm512_fmadd_ps(_mm512_maskz_max_ps(all, _mm512_add_ps(acc[r][c], bc), zero), wc, part[r]);
        }
    }
}

/// R rows (R <= 6) through every column panel (64 columns, then 16) of a fused Dense kernel.
template <int R, bool Store>
CFNET_FUSED_AVX512 inline void dense_relu_rows_avx512(const float* x, std::size_t in, const float* W,
                                                         std::size_t width, const float* b, const float* wm,
                                                         float* out, float* h) {
    __m512 part[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) part[r] = _mm512_setzero_ps();
    std::size_t j = 0;
    for (; j + 64 <= width; j += 64) dense_relu_tile_avx512<R, 4, Store>(x, in, W, width, j, b, wm, part, h);
    for (; j + 16 <= width; j += 16) dense_relu_tile_avx512<R, 1, Store>(x, in, W, width, j, b, wm, part, h);
    if constexpr (!Store) {
        for (int r = 0; r < R; ++r) out[r] += lane_sum_avx512(part[r]);
    }
}

/// All n rows of a fused Dense kernel in tiles of six rows by 64 columns of register accumulators;
/// the last 7 to 9 rows in two tiles of four or five (a tile of one or two rows reloads W for too
/// few rows: 32 = 4 x 6 + 4 + 4). Each row's sums are the same whatever its tile.
template <bool Store>
CFNET_FUSED_AVX512 inline void dense_relu_avx512(const float* x, std::size_t n, std::size_t in, const float* W,
                                                   std::size_t width, const float* b, const float* wm, float* out,
                                                   float* h) {
    std::size_t r = 0;
    auto at = [&](std::size_t row) { return Store ? h + row * width : h; };
    for (; r + 6 <= n && n - r != 7 && n - r != 8 && n - r != 9; r += 6)
        dense_relu_rows_avx512<6, Store>(x + r * in, in, W, width, b, wm, out + r, at(r));
    if (n - r >= 7) {
        dense_relu_rows_avx512<4, Store>(x + r * in, in, W, width, b, wm, out + r, at(r));
        r += 4;
    }
    switch (n - r) {
        case 5: dense_relu_rows_avx512<5, Store>(x + r * in, in, W, width, b, wm, out + r, at(r)); break;
        case 4: dense_relu_rows_avx512<4, Store>(x + r * in, in, W, width, b, wm, out + r, at(r)); break;
        case 3: dense_relu_rows_avx512<3, Store>(x + r * in, in, W, width, b, wm, out + r, at(r)); break;
        case 2: dense_relu_rows_avx512<2, Store>(x + r * in, in, W, width, b, wm, out + r, at(r)); break;
        case 1: dense_relu_rows_avx512<1, Store>(x + r * in, in, W, width, b, wm, out + r, at(r)); break;
        default: break;
    }
}

/// out[r] += sum_j max((x[r] W)[j] + b[j], 0) * wm[j] for n rows x (row stride `in`), W in x width
/// row-major: the last hidden layer's product, bias and ReLU fused with the output layer's dot
/// product, so the layer's activations are never written. Requires width % 16 == 0
/// (fused_dense_ok).
CFNET_FUSED_AVX512 inline void dense_relu_dot_avx512(const float* x, std::size_t n, std::size_t in, const float* W,
                                                      std::size_t width, const float* b, const float* wm, float* out) {
    dense_relu_avx512<false>(x, n, in, W, width, b, wm, out, nullptr);
}

/// h[r] = max(x[r] W + b, 0) for n rows (a hidden Dense layer and its ReLU in one pass, no GEMM
/// packing and no separate bias pass). Requires width % 16 == 0 (fused_dense_ok).
CFNET_FUSED_AVX512 inline void dense_relu_store_avx512(const float* x, std::size_t n, std::size_t in, const float* W,
                                                        std::size_t width, const float* b, float* h) {
    dense_relu_avx512<true>(x, n, in, W, width, b, nullptr, nullptr, h);
}
#undef CFNET_FUSED_AVX512
#endif

/// True when the fused kernels above apply to a layer of `width` outputs: float, AVX-512 available
/// (and dispatch enabled), width a multiple of 16. Otherwise callers run a GEMM and a bias/ReLU pass.
template <class T>
bool fused_dense_ok(std::size_t width) {
#ifdef CFNET_SIMD_DISPATCH
    return std::is_same_v<T, float> && width % 16 == 0 && use_avx512();
#else
    (void)width;
    return false;
#endif
}

/// h = max(x W + b, 0) through dense_relu_store_avx512 when fused_dense_ok<T>(width); false (and
/// nothing written) otherwise, on every build, so that callers need no preprocessor guard.
template <class T>
bool try_dense_relu_store(const T* x, std::size_t n, std::size_t in, const T* W, std::size_t width, const T* b,
                          T* h) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (fused_dense_ok<T>(width)) {
            dense_relu_store_avx512(x, n, in, W, width, b, h);
            return true;
        }
#endif
    (void)x, (void)n, (void)in, (void)W, (void)width, (void)b, (void)h;
    return false;
}

/// out[r] += max(x[r] W + b, 0) . wm through dense_relu_dot_avx512 when fused_dense_ok<T>(width);
/// false (and nothing written) otherwise.
template <class T>
bool try_dense_relu_dot(const T* x, std::size_t n, std::size_t in, const T* W, std::size_t width, const T* b,
                        const T* wm, T* out) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (fused_dense_ok<T>(width)) {
            dense_relu_dot_avx512(x, n, in, W, width, b, wm, out);
            return true;
        }
#endif
    (void)x, (void)n, (void)in, (void)W, (void)width, (void)b, (void)wm, (void)out;
    return false;
}

}  // namespace cfnet::detail
