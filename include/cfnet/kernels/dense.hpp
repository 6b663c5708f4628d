#pragma once
/// @file kernels/dense.hpp
/// A dense layer's products for small batches, computed in register tiles straight from row-major
/// operands where the CPU allows (AVX-512, float, widths a multiple of 16: avx512_tiles), else
/// through BLAS or plain loops:
///  - dense_bias_relu:     h = max(x W + b, 0) (no GEMM packing, no bias prefill, no separate pass);
///  - dense_bias_relu_dot: out[r] += max(x[r] W + b, 0) . wm (a last hidden layer fused with a
///                         single-output layer: its activations are never written);
///  - dense_input_grad:    c = dz W^T, computed as W dz^T with the batch in the registers' lanes;
///  - dense_grad_adam:     a^T dz (the weight gradient) with Adam's update as its epilogue (no
///                         gradient matrix in memory);
///  - transpose.
/// The AVX-512 versions use FMA, so they round differently from the references (a few ulps); both
/// are deterministic. Tested against double-precision references in tests/kernels/test_dense.cpp.

#include <cfnet/kernels/adam.hpp>
#include <cfnet/kernels/dispatch.hpp>
#include <cfnet/kernels/relu.hpp>
#include <cfnet/kernels/vector.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace cfnet::kernels {

/// n rounded up to whole 16-float registers: the row stride of dense_input_grad's transposed
/// operands.
inline std::size_t padded_batch(std::size_t n) { return (n + 15) / 16 * 16; }

namespace ref {

/// d[c * ldd + r] = s[r * lds + c] for r < rows, c < cols.
template <class T>
void transpose(const T* s, std::size_t rows, std::size_t cols, std::size_t lds, T* d, std::size_t ldd) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) d[c * ldd + r] = s[r * lds + c];
}

/// c (n x in) = dz (n x out) W^T, W in x out row-major, by dot products.
template <class T>
void dense_input_grad(const T* dz, std::size_t n, std::size_t out, const T* W, std::size_t in, T* c) {
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < in; ++i) c[r * in + i] = dot(dz + r * out, W + i * out, out);
}

/// dense_grad_adam's reference: row i's gradient sum_r a[r, i] dz[r] in scratch (out elements),
/// then Adam's update of row i.
template <class T>
void dense_grad_adam(const T* a, std::size_t n, std::size_t in, const T* dz, std::size_t out, T* W, T* m, T* v,
                     const AdamStepConstants<T>& ac, T* scratch) {
    for (std::size_t i = 0; i < in; ++i) {
        std::fill(scratch, scratch + out, T(0));
        for (std::size_t r = 0; r < n; ++r) axpy(a[r * in + i], dz + r * out, scratch, out);
        adam_update(W + i * out, static_cast<const T*>(scratch), m + i * out, v + i * out, out, ac);
    }
}

}  // namespace ref

#ifdef CFNET_SIMD_DISPATCH
namespace simd {

/// One tile of the fused Dense kernels: R rows x C 16-float panels starting at column j0,
/// a = max(x W + b, 0) with the products summed over k in order; Store writes a to h (row stride
/// width), otherwise each row's a * wm is added to part[r].
template <int R, int C, bool Store>
CFNET_TARGET_AVX512_FMA inline void dense_relu_tile_avx512(const float* x, std::size_t in, const float* W,
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
CFNET_TARGET_AVX512_FMA inline void dense_relu_rows_avx512(const float* x, std::size_t in, const float* W,
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
CFNET_TARGET_AVX512_FMA inline void dense_relu_avx512(const float* x, std::size_t n, std::size_t in, const float* W,
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

/// Rows [i0, i0 + R) x columns [j, j + 16 C) of dense_grad_adam: G = sum_r a[r, i] dz[r, :] in
/// registers (R x C accumulators), then Adam's update of those weights.
template <int R, int C, bool Coupled, bool Decoupled>
CFNET_TARGET_AVX512_FMA inline void dense_grad_adam_tile_avx512(const float* a, std::size_t n, std::size_t in,
                                                                const float* dz, std::size_t out, std::size_t i0,
                                                                std::size_t j, float* W, float* m, float* v,
                                                                const AdamRegs& adam) {
    __m512 g[R][C];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) g[i][c] = _mm512_setzero_ps();
    for (std::size_t r = 0; r < n; ++r) {
        __m512 d[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) d[c] = _mm512_loadu_ps(dz + r * out + j + 16 * c);
        const float* ar = a + r * in + i0;
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            const __m512 s = _mm512_set1_ps(ar[i]);
#pragma GCC unroll 4
            for (int c = 0; c < C; ++c) g[i][c] = _mm512_fmadd_ps(s, d[c], g[i][c]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
            const std::size_t o = (i0 + i) * out + j + 16 * c;
            adam.update<Coupled, Decoupled>(g[i][c], _mm512_loadu_ps(W + o), W + o, m + o, v + o);
        }
}

/// R weight rows starting at i0 through every column block (64 columns, then 16).
template <int R, bool Coupled, bool Decoupled>
CFNET_TARGET_AVX512_FMA inline void dense_grad_adam_rows_avx512(const float* a, std::size_t n, std::size_t in,
                                                                const float* dz, std::size_t out, std::size_t i0,
                                                                float* W, float* m, float* v, const AdamRegs& adam) {
    std::size_t j = 0;
    for (; j + 64 <= out; j += 64)
        dense_grad_adam_tile_avx512<R, 4, Coupled, Decoupled>(a, n, in, dz, out, i0, j, W, m, v, adam);
    for (; j < out; j += 16)
        dense_grad_adam_tile_avx512<R, 1, Coupled, Decoupled>(a, n, in, dz, out, i0, j, W, m, v, adam);
}

template <bool Coupled, bool Decoupled>
CFNET_TARGET_AVX512_FMA inline void dense_grad_adam_avx512(const float* a, std::size_t n, std::size_t in,
                                                           const float* dz, std::size_t out, float* W, float* m,
                                                           float* v, const AdamStepConstants<float>& ac) {
    const AdamRegs adam(ac);
    std::size_t i = 0;
    for (; i + 6 <= in; i += 6) dense_grad_adam_rows_avx512<6, Coupled, Decoupled>(a, n, in, dz, out, i, W, m, v, adam);
    for (; i < in; ++i) dense_grad_adam_rows_avx512<1, Coupled, Decoupled>(a, n, in, dz, out, i, W, m, v, adam);
}

/// The 16 x 16 block in a[0..16) (a[r] = row r) transposed in place (a[c] = column c): unpacks of
/// 32- and 64-bit elements within 128-bit lanes, then two rounds of 128-bit lane shuffles.
CFNET_TARGET_AVX512_FMA inline void transpose16_avx512(__m512* a) {
    const __mmask16 all = 0xFFFF;  // the maskz forms: see dense_relu_tile_avx512
    __m512 b[16];
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
        b[2 * k] = _mm512_maskz_unpacklo_ps(all, a[2 * k], a[2 * k + 1]);
        b[2 * k + 1] = _mm512_maskz_unpackhi_ps(all, a[2 * k], a[2 * k + 1]);
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {  // a[4k + j], 128-bit lane q: rows 4k..4k+3 of column 4q + j
        const __m512d x0 = _mm512_castps_pd(b[4 * k]), x1 = _mm512_castps_pd(b[4 * k + 1]),
                      x2 = _mm512_castps_pd(b[4 * k + 2]), x3 = _mm512_castps_pd(b[4 * k + 3]);
        a[4 * k] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, x0, x2));
        a[4 * k + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, x0, x2));
        a[4 * k + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, x1, x3));
        a[4 * k + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, x1, x3));
    }
#pragma GCC unroll 2
    for (int k = 0; k < 2; ++k)  // b[8k + j]: columns j, 8 + j; b[8k + 4 + j]: 4 + j, 12 + j (rows 8k..8k+7)
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            b[8 * k + j] = _mm512_maskz_shuffle_f32x4(all, a[8 * k + j], a[8 * k + 4 + j], 0x88);
            b[8 * k + 4 + j] = _mm512_maskz_shuffle_f32x4(all, a[8 * k + j], a[8 * k + 4 + j], 0xDD);
        }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m512 lo = b[4 * h + j], hi = b[8 + 4 * h + j];
            a[4 * h + j] = _mm512_maskz_shuffle_f32x4(all, lo, hi, 0x88);
            a[4 * h + j + 8] = _mm512_maskz_shuffle_f32x4(all, lo, hi, 0xDD);
        }
}

/// ref::transpose in 16 x 16 register blocks (masked at the edges; nothing outside rows x cols of d
/// is written).
CFNET_TARGET_AVX512_FMA inline void transpose_avx512(const float* s, std::size_t rows, std::size_t cols,
                                                     std::size_t lds, float* d, std::size_t ldd) {
    __m512 a[16];
    for (std::size_t r0 = 0; r0 < rows; r0 += 16)
        for (std::size_t c0 = 0; c0 < cols; c0 += 16) {
            const float* sb = s + r0 * lds + c0;
            float* db = d + c0 * ldd + r0;
            if (r0 + 16 <= rows && c0 + 16 <= cols) {
#pragma GCC unroll 16
                for (int r = 0; r < 16; ++r) a[r] = _mm512_loadu_ps(sb + r * lds);
                transpose16_avx512(a);
#pragma GCC unroll 16
                for (int c = 0; c < 16; ++c) _mm512_storeu_ps(db + c * ldd, a[c]);
            } else {
                const std::size_t nr = std::min<std::size_t>(16, rows - r0), nc = std::min<std::size_t>(16, cols - c0);
                const auto cm = static_cast<__mmask16>((1u << nc) - 1u), rm = static_cast<__mmask16>((1u << nr) - 1u);
                for (std::size_t r = 0; r < 16; ++r) a[r] = r < nr ? _mm512_maskz_loadu_ps(cm, sb + r * lds) : _mm512_setzero_ps();
                transpose16_avx512(a);
                for (std::size_t c = 0; c < nc; ++c) _mm512_mask_storeu_ps(db + c * ldd, rm, a[c]);
            }
        }
}

/// Rows [i0, i0 + R) of cT = W xT for 16 NB columns: cT[i, :] = sum_k W[i, k] xT[k, :] (W with K
/// columns, xT and cT with row stride ld), R x NB register accumulators, W's elements broadcast.
template <int R, int NB>
CFNET_TARGET_AVX512_FMA inline void w_xt_tile_avx512(const float* W, std::size_t K, const float* xT, std::size_t ld,
                                                     float* cT) {
    __m512 acc[R][NB];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 2
        for (int c = 0; c < NB; ++c) acc[i][c] = _mm512_setzero_ps();
    for (std::size_t k = 0; k < K; ++k) {
        __m512 x[NB];
#pragma GCC unroll 2
        for (int c = 0; c < NB; ++c) x[c] = _mm512_loadu_ps(xT + k * ld + 16 * c);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            const __m512 w = _mm512_set1_ps(W[i * K + k]);
#pragma GCC unroll 2
            for (int c = 0; c < NB; ++c) acc[i][c] = _mm512_fmadd_ps(w, x[c], acc[i][c]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 2
        for (int c = 0; c < NB; ++c) _mm512_storeu_ps(cT + i * ld + 16 * c, acc[i][c]);
}

/// cT (J x ld) = W (J x K) xT (K x ld), ld a multiple of 16: column blocks of 32 (then 16), row tiles
/// of 8 (then 4, then 1).
CFNET_TARGET_AVX512_FMA inline void w_xt_avx512(const float* W, std::size_t J, std::size_t K, const float* xT,
                                                std::size_t ld, float* cT) {
    auto rows = [&](auto nb, std::size_t c) {
        constexpr int NB = decltype(nb)::value;
        std::size_t i = 0;
        for (; i + 8 <= J; i += 8) w_xt_tile_avx512<8, NB>(W + i * K, K, xT + c, ld, cT + i * ld + c);
        for (; i + 4 <= J; i += 4) w_xt_tile_avx512<4, NB>(W + i * K, K, xT + c, ld, cT + i * ld + c);
        for (; i < J; ++i) w_xt_tile_avx512<1, NB>(W + i * K, K, xT + c, ld, cT + i * ld + c);
    };
    std::size_t c = 0;
    for (; c + 32 <= ld; c += 32) rows(std::integral_constant<int, 2>{}, c);
    for (; c < ld; c += 16) rows(std::integral_constant<int, 1>{}, c);
}

/// dense_input_grad computed transposed, c^T = W dz^T: the batch in the registers' lanes, so that
/// each weight is loaded once and broadcast (no horizontal sums), with dz^T and c^T in `scratch`
/// ((out + in) x padded_batch(n) floats).
CFNET_TARGET_AVX512_FMA inline void dense_input_grad_avx512(const float* dz, std::size_t n, std::size_t out,
                                                            const float* W, std::size_t in, float* c, float* scratch) {
    if (n == 0) return;
    const std::size_t ld = padded_batch(n);
    float* dzT = scratch;
    float* cT = scratch + out * ld;
    transpose_avx512(dz, n, out, out, dzT, ld);
    if (n < ld)  // the padding columns: zeros, so that every lane computed is defined
        for (std::size_t k = 0; k < out; ++k) std::fill(dzT + k * ld + n, dzT + (k + 1) * ld, 0.f);
    w_xt_avx512(W, in, out, dzT, ld, cT);
    transpose_avx512(cT, in, n, ld, c, in);
}

}  // namespace simd
#endif

/// h (n x width) = max(x W + b, 0) for x (n x in) and W (in x width) row-major. Versions: AVX-512
/// register tiles when avx512_tiles<T>(width); otherwise a GEMM and one bias + ReLU pass
/// (bias_relu_rows) over the cache-resident product.
template <class T>
void dense_bias_relu(const T* x, std::size_t n, std::size_t in, const T* W, std::size_t width, const T* b, T* h) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(width)) return simd::dense_relu_avx512<true>(x, n, in, W, width, b, nullptr, nullptr, h);
#endif
    gemm(Trans::no, Trans::no, n, width, in, T(1), x, in, W, width, T(0), h, width);
    bias_relu_rows(b, h, n, width);
}

/// The scratch dense_bias_relu_dot needs for n rows of `width` (0 where the tiles apply).
template <class T>
std::size_t dense_bias_relu_dot_scratch(std::size_t n, std::size_t width) {
    return avx512_tiles<T>(width) ? 0 : n * width;
}

/// out[r] += max(x[r] W + b, 0) . wm for n rows: the last hidden layer fused with a single-output
/// layer's dot product. Versions: AVX-512 register tiles when avx512_tiles<T>(width) (the layer's
/// activations are never written); otherwise a GEMM into `scratch`
/// (dense_bias_relu_dot_scratch(n, width) elements) and dot_rows.
template <class T>
void dense_bias_relu_dot(const T* x, std::size_t n, std::size_t in, const T* W, std::size_t width, const T* b,
                         const T* wm, T* out, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(width)) return simd::dense_relu_avx512<false>(x, n, in, W, width, b, wm, out, nullptr);
#endif
    gemm(Trans::no, Trans::no, n, width, in, T(1), x, in, W, width, T(0), scratch, width);
    dot_rows(static_cast<const T*>(scratch), b, wm, out, n, width);
}

/// d[c * ldd + r] = s[r * lds + c] for r < rows, c < cols (nothing else of d written). Versions:
/// AVX-512 16 x 16 register blocks (float), the reference.
template <class T>
void transpose(const T* s, std::size_t rows, std::size_t cols, std::size_t lds, T* d, std::size_t ldd) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (use_avx512()) return simd::transpose_avx512(s, rows, cols, lds, d, ldd);
#endif
    ref::transpose(s, rows, cols, lds, d, ldd);
}

/// The scratch dense_input_grad needs for n rows, out and in features.
inline std::size_t dense_input_grad_scratch(std::size_t n, std::size_t out, std::size_t in) {
    return (out + in) * padded_batch(n);
}

/// c (n x in) = dz (n x out) W^T, W in x out row-major: the gradient of a Dense layer's input (no
/// GEMM packing). Versions: AVX-512 when avx512_tiles<T>(out), computed transposed in `scratch`
/// (dense_input_grad_scratch(n, out, in) elements); the reference by dot products (no scratch).
template <class T>
void dense_input_grad(const T* dz, std::size_t n, std::size_t out, const T* W, std::size_t in, T* c, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(out)) return simd::dense_input_grad_avx512(dz, n, out, W, in, c, scratch);
#endif
    (void)scratch;
    ref::dense_input_grad(dz, n, out, W, in, c);
}

/// A Dense layer's weight gradient a^T dz (a: n x in, dz: n x out, row-major) and Adam's update of
/// W (in x out) and its moments m, v with it under `ac`. Versions: AVX-512 when avx512_tiles<T>(out)
/// (no gradient matrix in memory); the reference (a row's gradient in `scratch`, out elements).
template <class T>
void dense_grad_adam(const T* a, std::size_t n, std::size_t in, const T* dz, std::size_t out, T* W, T* m, T* v,
                     const AdamStepConstants<T>& ac, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(out)) {
            with_decay_mode(ac, [&](auto coupled, auto decoupled) {
                simd::dense_grad_adam_avx512<decltype(coupled)::value, decltype(decoupled)::value>(a, n, in, dz, out,
                                                                                                   W, m, v, ac);
            });
            return;
        }
#endif
    ref::dense_grad_adam(a, n, in, dz, out, W, m, v, ac, scratch);
}

}  // namespace cfnet::kernels
