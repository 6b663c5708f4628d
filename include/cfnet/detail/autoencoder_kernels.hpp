#pragma once
/// @file detail/autoencoder_kernels.hpp
/// The kernels of AutoencoderCF's training step, each built from the toolkit's plain kernels (any
/// T, any width) and, for float and widths that are a multiple of 16 on a CPU with AVX-512
/// (fused_dense_ok), a register-blocked AVX-512 version chosen at run time:
///  - gathered_dots: z_q = x[rows[q]] . w for a list of rows, w loaded once per four rows;
///  - gathered_grad_adam: g = sum_q c_q x[rows[q]] (optionally also da[rows[q]] += c_q w with the
///    old w), then Adam's update of w with g, block by block, g never leaving registers;
///  - dense_grad_adam: a Dense layer's weight gradient a^T dz in 6 x 64 register tiles with Adam's
///    update as the epilogue (no gradient matrix in memory);
///  - dense_input_grad: dz W^T computed as W dz^T with the batch in the registers' lanes (each
///    weight loaded once and broadcast; 16 x 16 register transposes on the way in and out);
/// and one AVX-512-only kernel (the model's other path is the toolkit's nn::detail::sparse_in_forward):
///  - sparse_items_forward_avx512: the sparse first layer's forward pass item by item, in column
///    blocks of the output that stay in L1 (each touched weight row read once).
/// The AVX-512 versions use FMA, so they round differently from the plain loops (a few ulps); both
/// are deterministic. Tested against double-precision references in
/// tests/nn/test_autoencoder_kernels.cpp.

#include <cfnet/detail/fused_dense.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/optim/adam.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#ifdef CFNET_SIMD_DISPATCH
#include <immintrin.h>
#endif

namespace cfnet::detail {

/// n rounded up to whole 16-float registers: the row stride of dense_input_grad's transposed
/// operands.
inline std::size_t padded_batch(std::size_t n) { return (n + 15) / 16 * 16; }

#ifdef CFNET_SIMD_DISPATCH
#define CFNET_FUSED_AVX512 __attribute__((target("avx512f,fma")))

/// z[q] = x[rows[q]] . w for R rows, two accumulators per row.
template <int R>
CFNET_FUSED_AVX512 inline void gathered_dots_rows_avx512(const float* x, const std::uint32_t* rows, const float* w,
                                                           std::size_t h, float* z) {
    __m512 acc[R][2];
    const float* xr[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        xr[r] = x + static_cast<std::size_t>(rows[r]) * h;
    }
    std::size_t k = 0;
    for (; k + 32 <= h; k += 32) {
        const __m512 w0 = _mm512_loadu_ps(w + k), w1 = _mm512_loadu_ps(w + k + 16);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            acc[r][0] = _mm512_fmadd_ps(_mm512_loadu_ps(xr[r] + k), w0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(_mm512_loadu_ps(xr[r] + k + 16), w1, acc[r][1]);
        }
    }
    if (k < h) {
        const __m512 w0 = _mm512_loadu_ps(w + k);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][0] = _mm512_fmadd_ps(_mm512_loadu_ps(xr[r] + k), w0, acc[r][0]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) z[r] = lane_sum_avx512(_mm512_add_ps(acc[r][0], acc[r][1]));
}

CFNET_FUSED_AVX512 inline void gathered_dots_avx512(const float* x, const std::uint32_t* rows, std::size_t n,
                                                      const float* w, std::size_t h, float* z) {
    std::size_t q = 0;
    for (; q + 4 <= n; q += 4) gathered_dots_rows_avx512<4>(x, rows + q, w, h, z + q);
    for (; q < n; ++q) gathered_dots_rows_avx512<1>(x, rows + q, w, h, z + q);
}

/// Adam's constants in registers and its update of 16 elements with gradient g: adam_kernel's
/// operations in its order, but compiled with FMA available, so GCC's default -ffp-contract=fast may
/// fuse a multiply and an add (the bits then differ from adam_kernel's in the last place).
struct AdamRegs {
    __m512 lr_t, c1, c2, eps, wd, lr_wd;

    CFNET_FUSED_AVX512 explicit AdamRegs(const optim::detail::AdamStepConstants<float>& ac)
        : lr_t(_mm512_set1_ps(ac.lr_t)), c1(_mm512_set1_ps(ac.c1)), c2(_mm512_set1_ps(ac.c2)),
          eps(_mm512_set1_ps(ac.eps)), wd(_mm512_set1_ps(ac.wd)), lr_wd(_mm512_set1_ps(ac.lr_wd)) {}

    /// p[0..16) (whose current values are pi), m, v updated with the gradient g.
    template <bool Coupled, bool Decoupled>
    CFNET_FUSED_AVX512 void update(__m512 g, __m512 pi, float* p, float* m, float* v) const {
        if constexpr (Coupled) g = _mm512_add_ps(g, _mm512_mul_ps(wd, pi));
        __m512 mi = _mm512_loadu_ps(m), vi = _mm512_loadu_ps(v);
        mi = _mm512_add_ps(mi, _mm512_mul_ps(_mm512_sub_ps(g, mi), c1));
        vi = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(g, g), vi), c2));
        _mm512_storeu_ps(m, mi);
        _mm512_storeu_ps(v, vi);
        if constexpr (Decoupled) pi = _mm512_sub_ps(pi, _mm512_mul_ps(lr_wd, pi));
        const __mmask16 all = 0xFFFF;  // the maskz form of sqrt: see fused_dense.hpp
        const __m512 upd = _mm512_div_ps(_mm512_mul_ps(lr_t, mi), _mm512_add_ps(_mm512_maskz_sqrt_ps(all, vi), eps));
        _mm512_storeu_ps(p, _mm512_sub_ps(pi, upd));
    }
};

/// Columns [j, j + 16 C) of gathered_grad_adam: the gradient block summed in registers, the
/// optional da updates with the old weights, then Adam's update of the block.
template <int C, bool Axpy, bool Coupled, bool Decoupled>
CFNET_FUSED_AVX512 inline void grad_adam_block_avx512(const float* coef, const std::uint32_t* rows, std::size_t n,
                                                        const float* x, float* da, float* p, float* m, float* v,
                                                        std::size_t h, std::size_t j, const AdamRegs& adam) {
    __m512 g[C], w[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
        g[c] = _mm512_setzero_ps();
        w[c] = _mm512_loadu_ps(p + j + 16 * c);
    }
    for (std::size_t q = 0; q < n; ++q) {
        const __m512 a = _mm512_set1_ps(coef[q]);
        const std::size_t off = static_cast<std::size_t>(rows[q]) * h + j;
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
            g[c] = _mm512_fmadd_ps(a, _mm512_loadu_ps(x + off + 16 * c), g[c]);
            if constexpr (Axpy)
                _mm512_storeu_ps(da + off + 16 * c, _mm512_fmadd_ps(a, w[c], _mm512_loadu_ps(da + off + 16 * c)));
        }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
        const std::size_t o = j + 16 * c;
        adam.update<Coupled, Decoupled>(g[c], w[c], p + o, m + o, v + o);
    }
}

template <bool Axpy, bool Coupled, bool Decoupled>
CFNET_FUSED_AVX512 inline void gathered_grad_adam_avx512(const float* coef, const std::uint32_t* rows, std::size_t n,
                                                           const float* x, float* da, float* p, float* m, float* v,
                                                           std::size_t h,
                                                           const optim::detail::AdamStepConstants<float>& ac) {
    const AdamRegs adam(ac);
    std::size_t j = 0;
    for (; j + 64 <= h; j += 64)
        grad_adam_block_avx512<4, Axpy, Coupled, Decoupled>(coef, rows, n, x, da, p, m, v, h, j, adam);
    for (; j < h; j += 16)
        grad_adam_block_avx512<1, Axpy, Coupled, Decoupled>(coef, rows, n, x, da, p, m, v, h, j, adam);
}

/// Rows [i0, i0 + R) x columns [j, j + 16 C) of dense_grad_adam: G = sum_r a[r, i] dz[r, :] in
/// registers (R x C accumulators), then Adam's update of those weights.
template <int R, int C, bool Coupled, bool Decoupled>
CFNET_FUSED_AVX512 inline void dense_grad_adam_tile_avx512(const float* a, std::size_t n, std::size_t in,
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
CFNET_FUSED_AVX512 inline void dense_grad_adam_rows_avx512(const float* a, std::size_t n, std::size_t in,
                                                             const float* dz, std::size_t out, std::size_t i0, float* W,
                                                             float* m, float* v, const AdamRegs& adam) {
    std::size_t j = 0;
    for (; j + 64 <= out; j += 64)
        dense_grad_adam_tile_avx512<R, 4, Coupled, Decoupled>(a, n, in, dz, out, i0, j, W, m, v, adam);
    for (; j < out; j += 16)
        dense_grad_adam_tile_avx512<R, 1, Coupled, Decoupled>(a, n, in, dz, out, i0, j, W, m, v, adam);
}

template <bool Coupled, bool Decoupled>
CFNET_FUSED_AVX512 inline void dense_grad_adam_avx512(const float* a, std::size_t n, std::size_t in, const float* dz,
                                                        std::size_t out, float* W, float* m, float* v,
                                                        const optim::detail::AdamStepConstants<float>& ac) {
    const AdamRegs adam(ac);
    std::size_t i = 0;
    for (; i + 6 <= in; i += 6) dense_grad_adam_rows_avx512<6, Coupled, Decoupled>(a, n, in, dz, out, i, W, m, v, adam);
    for (; i < in; ++i) dense_grad_adam_rows_avx512<1, Coupled, Decoupled>(a, n, in, dz, out, i, W, m, v, adam);
}

/// How many touched items ahead sparse_items_forward_avx512 prefetches W's slice (measured at the
/// notebook's shape: 2 best of 1, 2, 3, 4 and 8; to L2 only was slower).
constexpr std::size_t sparse_items_prefetch = 2;

/// Columns [c0, c0 + 16 C) of sparse_items_forward: for each touched item, its slice of W in
/// registers, added into the rows of y that hold the item (y's slice stays in L1).
template <int C>
CFNET_FUSED_AVX512 inline void sparse_items_block_avx512(const std::size_t* ptr, const std::uint32_t* rows,
                                                           const float* coef, const std::uint32_t* items,
                                                           std::size_t n_items, const float* W, std::size_t out,
                                                           std::size_t c0, float* y) {
    for (std::size_t t = 0; t < n_items; ++t) {
        const std::size_t i = items[t];
        if (t + sparse_items_prefetch < n_items) {  // a slice of W alone is too short for the hardware's prefetchers
            const char* ahead = reinterpret_cast<const char*>(W + items[t + sparse_items_prefetch] * out + c0);
#pragma GCC unroll 8
            for (int c = 0; c < C; ++c) _mm_prefetch(ahead + 64 * c, _MM_HINT_T0);
        }
        __m512 w[C];
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) w[c] = _mm512_loadu_ps(W + i * out + c0 + 16 * c);
        for (std::size_t q = ptr[i]; q < ptr[i + 1]; ++q) {
            const __m512 a = _mm512_set1_ps(coef[q]);
            float* yr = y + static_cast<std::size_t>(rows[q]) * out + c0;
#pragma GCC unroll 8
            for (int c = 0; c < C; ++c) _mm512_storeu_ps(yr + 16 * c, _mm512_fmadd_ps(a, w[c], _mm512_loadu_ps(yr + 16 * c)));
        }
    }
}

/// y (n x out, preinitialised) += X W for a batch X given by columns (item i's entries: batch row
/// rows[q] with value coef[q] for q in [ptr[i], ptr[i + 1]); `items` lists the items with entries,
/// ascending), in blocks of 128 columns of y: each touched row of W is read once, and the block of
/// y (n x 128) stays in L1. With ascending items every y element gets the same sum, in the same
/// order, as from nn::detail::sparse_in_forward_avx512 over sorted CSR rows.
CFNET_FUSED_AVX512 inline void sparse_items_forward_avx512(const std::size_t* ptr, const std::uint32_t* rows,
                                                             const float* coef, const std::uint32_t* items,
                                                             std::size_t n_items, const float* W, std::size_t out,
                                                             float* y) {
    std::size_t c0 = 0;
    for (; c0 + 128 <= out; c0 += 128) sparse_items_block_avx512<8>(ptr, rows, coef, items, n_items, W, out, c0, y);
    for (; c0 < out; c0 += 16) sparse_items_block_avx512<1>(ptr, rows, coef, items, n_items, W, out, c0, y);
}

/// The 16 x 16 block in a[0..16) (a[r] = row r) transposed in place (a[c] = column c): unpacks of
/// 32- and 64-bit elements within 128-bit lanes, then two rounds of 128-bit lane shuffles.
CFNET_FUSED_AVX512 inline void transpose16_avx512(__m512* a) {
    const __mmask16 all = 0xFFFF;  // the maskz forms: see fused_dense.hpp
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

/// d[c * ldd + r] = s[r * lds + c] for r < rows, c < cols, in 16 x 16 register blocks (masked at the
/// edges; nothing outside rows x cols of d is written).
CFNET_FUSED_AVX512 inline void transpose_avx512(const float* s, std::size_t rows, std::size_t cols, std::size_t lds,
                                                  float* d, std::size_t ldd) {
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
CFNET_FUSED_AVX512 inline void w_xt_tile_avx512(const float* W, std::size_t K, const float* xT, std::size_t ld,
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
CFNET_FUSED_AVX512 inline void w_xt_avx512(const float* W, std::size_t J, std::size_t K, const float* xT,
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

/// c (n x in) = dz (n x out) W^T for W in x out row-major, computed transposed, c^T = W dz^T: the
/// batch in the registers' lanes, so that each weight is loaded once and broadcast (no horizontal
/// sums), with dz^T and c^T in `scratch` ((out + in) x padded_batch(n) floats).
CFNET_FUSED_AVX512 inline void dense_input_grad_avx512(const float* dz, std::size_t n, std::size_t out, const float* W,
                                                         std::size_t in, float* c, float* scratch) {
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
#undef CFNET_FUSED_AVX512
#endif

/// z[q] = x[rows[q]] . w (x row-major with h columns, w of length h) for q < n.
template <class T>
void gathered_dots(const T* x, const std::uint32_t* rows, std::size_t n, const T* w, std::size_t h, T* z) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (fused_dense_ok<T>(h)) {
            gathered_dots_avx512(x, rows, n, w, h, z);
            return;
        }
#endif
    for (std::size_t q = 0; q < n; ++q) z[q] = nn::detail::dot(x + static_cast<std::size_t>(rows[q]) * h, w, h);
}

/// c (n x in) = dz (n x out) W^T, W in x out row-major: the gradient of a Dense layer's input
/// (no GEMM packing). AVX-512 when fused_dense_ok<T>(out), computed transposed in `scratch`, which
/// must hold dense_input_grad_scratch(n, out, in) elements; the plain version uses none.
template <class T>
void dense_input_grad(const T* dz, std::size_t n, std::size_t out, const T* W, std::size_t in, T* c, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (fused_dense_ok<T>(out)) {
            dense_input_grad_avx512(dz, n, out, W, in, c, scratch);
            return;
        }
#endif
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < in; ++i) c[r * in + i] = nn::detail::dot(dz + r * out, W + i * out, out);
    (void)scratch;
}

/// The scratch dense_input_grad needs for n rows, out and in features.
inline std::size_t dense_input_grad_scratch(std::size_t n, std::size_t out, std::size_t in) {
    return (out + in) * padded_batch(n);
}

/// A Dense layer's weight gradient a^T dz (a: n x in, dz: n x out, row-major) and Adam's update of
/// W (in x out) and its moments m, v with it under `ac`, without a gradient matrix in memory in the
/// AVX-512 version (when fused_dense_ok<T>(out)). `scratch` (out elements) is used by the plain
/// version only.
template <class T>
void dense_grad_adam(const T* a, std::size_t n, std::size_t in, const T* dz, std::size_t out, T* W, T* m, T* v,
                     const optim::detail::AdamStepConstants<T>& ac, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (fused_dense_ok<T>(out)) {
            if (ac.coupled) dense_grad_adam_avx512<true, false>(a, n, in, dz, out, W, m, v, ac);
            else if (ac.decoupled) dense_grad_adam_avx512<false, true>(a, n, in, dz, out, W, m, v, ac);
            else dense_grad_adam_avx512<false, false>(a, n, in, dz, out, W, m, v, ac);
            return;
        }
#endif
    for (std::size_t i = 0; i < in; ++i) {
        std::fill(scratch, scratch + out, T(0));
        for (std::size_t r = 0; r < n; ++r) nn::detail::axpy(a[r * in + i], dz + r * out, scratch, out);
        optim::detail::adam_update(W + i * out, static_cast<const T*>(scratch), m + i * out, v + i * out, out, ac);
    }
}

/// One weight row w = p (length h) of a sparse layer: its gradient g = sum_q coef[q] x[rows[q]]
/// (x row-major with h columns); when da is not null, first da[rows[q]] += coef[q] * w for every q
/// (with w before the update); then Adam's update of (p, m, v) with g under `ac`. `scratch` (h
/// elements) holds g in the plain version; the AVX-512 version keeps g in registers.
template <class T>
void gathered_grad_adam(const T* coef, const std::uint32_t* rows, std::size_t n, const T* x, T* da, T* p, T* m, T* v,
                        std::size_t h, const optim::detail::AdamStepConstants<T>& ac, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (fused_dense_ok<T>(h)) {
            auto run = [&](auto coupled, auto decoupled) {
                constexpr bool Cp = decltype(coupled)::value, Dc = decltype(decoupled)::value;
                if (da) gathered_grad_adam_avx512<true, Cp, Dc>(coef, rows, n, x, da, p, m, v, h, ac);
                else gathered_grad_adam_avx512<false, Cp, Dc>(coef, rows, n, x, da, p, m, v, h, ac);
            };
            if (ac.coupled) run(std::true_type{}, std::false_type{});
            else if (ac.decoupled) run(std::false_type{}, std::true_type{});
            else run(std::false_type{}, std::false_type{});
            return;
        }
#endif
    std::fill(scratch, scratch + h, T(0));
    for (std::size_t q = 0; q < n; ++q) {
        const std::size_t off = static_cast<std::size_t>(rows[q]) * h;
        nn::detail::axpy(coef[q], x + off, scratch, h);
        if (da) nn::detail::axpy(coef[q], static_cast<const T*>(p), da + off, h);
    }
    optim::detail::adam_update(p, static_cast<const T*>(scratch), m, v, h, ac);
}

}  // namespace cfnet::detail
