#pragma once
/// @file kernels/sparse.hpp
/// Sparse x dense products and the gathered-row kernels of the sparse layers:
///  - ColumnIndex: a CSR batch's entries grouped by column (CSC view, counting sort);
///  - csr_times_dense / csr_transpose_times_dense: y += X W and G += X^T dY for X in CSR;
///  - sparse_times_dense: y += X W for X given both by rows and by columns (the column order lets
///    the AVX-512 version read each touched row of W once, in L1-resident column blocks of y);
///  - column_dots / column_grads: a dense layer's outputs, and their gradients, only at the entries
///    of a sparse pattern (output unit by output unit);
///  - gathered_dots / gathered_grad / gathered_grad_adam: one weight row against a list of rows of
///    x (its outputs; its gradient; its gradient fed straight into Adam while the row is in cache).
/// Versions: ref (plain loops), AVX2 clones of the references, AVX-512 register tiles where named.
/// Tested against double-precision references in tests/kernels/test_sparse.cpp.

#include <cfnet/kernels/adam.hpp>
#include <cfnet/kernels/dispatch.hpp>
#include <cfnet/kernels/vector.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace cfnet::kernels {

using kindex = std::uint32_t;  ///< row/column indices in the kernels (cfnet's index_type)

/// The entries of a CSR batch grouped by column (a CSC view built by counting sort, O(nnz + cols)):
/// column c's entries are q in [ptr[c], ptr[c+1]), each with its row and its position in CSR order.
struct ColumnIndex {
    std::vector<std::size_t> ptr;
    std::vector<kindex> row;
    std::vector<std::size_t> pos;

    /// S: rows(), cols(), nnz(), row_ptr() and indices() of a CSR matrix (e.g. nn::SparseBatch).
    template <class S>
    void build(const S& s) {
        const std::size_t cols = s.cols(), nnz = s.nnz();
        ptr.assign(cols + 1, 0);
        for (const auto c : s.indices()) ++ptr[c + 1];
        for (std::size_t c = 0; c < cols; ++c) ptr[c + 1] += ptr[c];
        row.resize(nnz);
        pos.resize(nnz);
        next_.assign(ptr.begin(), ptr.end() - 1);
        const auto& rp = s.row_ptr();
        const auto& idx = s.indices();
        for (std::size_t r = 0; r < s.rows(); ++r)
            for (std::size_t p = rp[r]; p < rp[r + 1]; ++p) {
                const std::size_t q = next_[idx[p]]++;
                row[q] = static_cast<kindex>(r);
                pos[q] = p;
            }
    }

private:
    std::vector<std::size_t> next_;
};

namespace ref {

/// y (rows x out, preinitialised) += X W for X in CSR (rp, idx, val) and W row-major (in x out);
/// four stored entries per pass over a row of y.
template <class T>
CFNET_KERNEL_INLINE void csr_times_dense(const std::size_t* rp, const kindex* idx, const T* val, std::size_t rows,
                                         const T* w, std::size_t out, T* y) {
    for (std::size_t r = 0; r < rows; ++r) {
        T* yr = y + r * out;
        std::size_t p = rp[r];
        const std::size_t end = rp[r + 1];
        for (; p + 4 <= end; p += 4)
            axpy4(val + p, w + idx[p] * out, w + idx[p + 1] * out, w + idx[p + 2] * out, w + idx[p + 3] * out, yr, out);
        for (; p < end; ++p) axpy(val[p], w + idx[p] * out, yr, out);
    }
}

/// g (in x out) += X^T dy for X in CSR: only the rows of g of stored columns change.
template <class T>
CFNET_KERNEL_INLINE void csr_transpose_times_dense(const std::size_t* rp, const kindex* idx, const T* val,
                                                   std::size_t rows, const T* dy, std::size_t out, T* g) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t p = rp[r]; p < rp[r + 1]; ++p) axpy(val[p], dy + r * out, g + idx[p] * out, out);
}

/// ye[pos[q]] = b[j] + x[row[q]] . w[j] for every entry q of every column j (w is out x in; b may be
/// null).
template <class T>
CFNET_KERNEL_INLINE void column_dots(const std::size_t* ptr, const kindex* row, const std::size_t* pos,
                                     std::size_t out, const T* x, const T* w, const T* b, std::size_t in, T* ye) {
    for (std::size_t j = 0; j < out; ++j) {
        const T* wj = w + j * in;
        const T bj = b ? b[j] : T(0);
        for (std::size_t q = ptr[j]; q < ptr[j + 1]; ++q) ye[pos[q]] = bj + dot(x + row[q] * in, wj, in);
    }
}

/// dx[row[q]] += d[pos[q]] w[j] and gw[j] += d[pos[q]] x[row[q]] for every entry q of every column j.
template <class T>
CFNET_KERNEL_INLINE void column_grads(const std::size_t* ptr, const kindex* row, const std::size_t* pos,
                                      std::size_t out, const T* x, const T* w, const T* d, std::size_t in, T* dx,
                                      T* gw) {
    for (std::size_t j = 0; j < out; ++j) {
        const T* wj = w + j * in;
        T* gj = gw + j * in;
        for (std::size_t q = ptr[j]; q < ptr[j + 1]; ++q) {
            const T g = d[pos[q]];
            axpy2(g, wj, dx + row[q] * in, g, x + row[q] * in, gj, in);
        }
    }
}

/// z[q] = x[rows[q]] . w (x row-major with h columns, w of length h) for q < n.
template <class T>
CFNET_KERNEL_INLINE void gathered_dots(const T* x, const kindex* rows, std::size_t n, const T* w, std::size_t h,
                                       T* z) {
    for (std::size_t q = 0; q < n; ++q) z[q] = dot(x + static_cast<std::size_t>(rows[q]) * h, w, h);
}

/// g += sum_q coef[q] x[rows[q]] (x row-major with h columns, g of length h); when da is not null,
/// also da[rows[q]] += coef[q] w for every q. Entry by entry, in order.
template <class T>
CFNET_KERNEL_INLINE void gathered_grad(const T* coef, const kindex* rows, std::size_t n, const T* x, T* g, T* da,
                                       const T* w, std::size_t h) {
    for (std::size_t q = 0; q < n; ++q) {
        const std::size_t off = static_cast<std::size_t>(rows[q]) * h;
        if (da) axpy2(coef[q], w, da + off, coef[q], x + off, g, h);
        else axpy(coef[q], x + off, g, h);
    }
}

}  // namespace ref

#ifdef CFNET_SIMD_DISPATCH
namespace simd {

template <class T>
CFNET_TARGET_AVX2_FMA void csr_times_dense_avx2(const std::size_t* rp, const kindex* idx, const T* val,
                                                std::size_t rows, const T* w, std::size_t out, T* y) {
    ref::csr_times_dense(rp, idx, val, rows, w, out, y);
}
/// The AVX2 clone without FMA (sparse_times_dense's: the sums of the reference, bit for bit).
template <class T>
CFNET_TARGET_AVX2 void csr_times_dense_avx2_exact(const std::size_t* rp, const kindex* idx, const T* val,
                                                  std::size_t rows, const T* w, std::size_t out, T* y) {
    ref::csr_times_dense(rp, idx, val, rows, w, out, y);
}
// gathered_dots and gathered_grad for AVX2 without FMA: the reference's sums, bit for bit.
CFNET_KERNEL_CLONE(gathered_dots, avx2, CFNET_TARGET_AVX2,
                   (const T* x, const kindex* rows, std::size_t n, const T* w, std::size_t h, T* z),
                   (x, rows, n, w, h, z))
CFNET_KERNEL_CLONE(gathered_grad, avx2, CFNET_TARGET_AVX2,
                   (const T* coef, const kindex* rows, std::size_t n, const T* x, T* g, T* da, const T* w,
                    std::size_t h),
                   (coef, rows, n, x, g, da, w, h))

template <class T>
CFNET_TARGET_AVX2_FMA void csr_transpose_times_dense_avx2(const std::size_t* rp, const kindex* idx, const T* val,
                                                          std::size_t rows, const T* dy, std::size_t out, T* g) {
    ref::csr_transpose_times_dense(rp, idx, val, rows, dy, out, g);
}
template <class T>
CFNET_TARGET_AVX2_FMA void column_dots_avx2(const std::size_t* ptr, const kindex* row, const std::size_t* pos,
                                            std::size_t out, const T* x, const T* w, const T* b, std::size_t in,
                                            T* ye) {
    ref::column_dots(ptr, row, pos, out, x, w, b, in, ye);
}
template <class T>
CFNET_TARGET_AVX2_FMA void column_grads_avx2(const std::size_t* ptr, const kindex* row, const std::size_t* pos,
                                             std::size_t out, const T* x, const T* w, const T* d, std::size_t in,
                                             T* dx, T* gw) {
    ref::column_grads(ptr, row, pos, out, x, w, d, in, dx, gw);
}

// csr_times_dense in AVX-512 (float): for each row of y and each block of 128 outputs, the block
// stays in eight zmm registers while all of the row's stored entries add to it (output block outer,
// entries inner), so y is read and written once per row and each entry costs one load per 16
// weights; the W row segments of the entries a few positions ahead are prefetched (W does not fit
// in L2 and each entry reads a different row). Outputs beyond the last full block go 16 at a time,
// the last out % 16 through a mask.

/// How many stored entries ahead csr_times_dense_avx512 prefetches (measured best of 2-16 at the
/// notebook's shape: 4-8).
constexpr std::size_t csr_prefetch_distance = 6;

/// yr[o, o + 16 R) += sum over entries p in [begin, end) of val[p] * w[idx[p]][o, o + 16 R); the
/// last register is masked by `tail` when Masked.
template <int R, bool Masked>
CFNET_TARGET_AVX512_FMA inline void csr_block_avx512(std::size_t begin, std::size_t end, const kindex* idx,
                                                     const float* val, const float* w, std::size_t out, std::size_t o,
                                                     __mmask16 tail, float* yr) {
    __m512 acc[R];
    for (int j = 0; j + 1 < R; ++j) acc[j] = _mm512_loadu_ps(yr + o + 16 * j);
    acc[R - 1] = Masked ? _mm512_maskz_loadu_ps(tail, yr + o + 16 * (R - 1)) : _mm512_loadu_ps(yr + o + 16 * (R - 1));
    for (std::size_t p = begin; p < end; ++p) {
        if (p + csr_prefetch_distance < end) {
            const char* ahead = reinterpret_cast<const char*>(w + idx[p + csr_prefetch_distance] * out + o);
            for (int j = 0; j < R; ++j) _mm_prefetch(ahead + 64 * j, _MM_HINT_T0);
        }
        const float* wk = w + idx[p] * out + o;
        const __m512 v = _mm512_set1_ps(val[p]);
        for (int j = 0; j + 1 < R; ++j) acc[j] = _mm512_fmadd_ps(v, _mm512_loadu_ps(wk + 16 * j), acc[j]);
        const float* last = wk + 16 * (R - 1);
        acc[R - 1] = _mm512_fmadd_ps(v, Masked ? _mm512_maskz_loadu_ps(tail, last) : _mm512_loadu_ps(last), acc[R - 1]);
    }
    for (int j = 0; j + 1 < R; ++j) _mm512_storeu_ps(yr + o + 16 * j, acc[j]);
    if (Masked)
        _mm512_mask_storeu_ps(yr + o + 16 * (R - 1), tail, acc[R - 1]);
    else
        _mm512_storeu_ps(yr + o + 16 * (R - 1), acc[R - 1]);
}

/// Same contract as ref::csr_times_dense (float; double runs the reference compiled for AVX-512).
template <class T>
CFNET_TARGET_AVX512_FMA void csr_times_dense_avx512(const std::size_t* rp, const kindex* idx, const T* val,
                                                    std::size_t rows, const T* w, std::size_t out, T* y) {
    if constexpr (std::is_same_v<T, float>) {
        const __mmask16 full = 0xFFFF;
        for (std::size_t r = 0; r < rows; ++r) {
            float* yr = y + r * out;
            const std::size_t begin = rp[r], end = rp[r + 1];
            if (begin == end) continue;
            std::size_t o = 0;
            for (; o + 128 <= out; o += 128) csr_block_avx512<8, false>(begin, end, idx, val, w, out, o, full, yr);
            for (; o + 16 <= out; o += 16) csr_block_avx512<1, false>(begin, end, idx, val, w, out, o, full, yr);
            if (o < out) {
                const auto tail = static_cast<__mmask16>((1u << (out - o)) - 1u);
                csr_block_avx512<1, true>(begin, end, idx, val, w, out, o, tail, yr);
            }
        }
    } else {
        ref::csr_times_dense(rp, idx, val, rows, w, out, y);
    }
}

/// How many touched columns ahead csc_times_dense_avx512 prefetches W's slice (measured at the
/// notebook's shape: 2 best of 1, 2, 3, 4 and 8; to L2 only was slower).
constexpr std::size_t csc_prefetch_distance = 2;

/// Columns [c0, c0 + 16 C) of csc_times_dense_avx512: for each touched column i of X, its slice of
/// row i of W in registers, added into the rows of y that hold an entry of column i (y's slice
/// stays in L1).
template <int C>
CFNET_TARGET_AVX512_FMA inline void csc_block_avx512(const std::size_t* ptr, const kindex* rows, const float* coef,
                                                     const kindex* cols, std::size_t n_cols, const float* W,
                                                     std::size_t out, std::size_t c0, float* y) {
    for (std::size_t t = 0; t < n_cols; ++t) {
        const std::size_t i = cols[t];
        if (t + csc_prefetch_distance < n_cols) {  // a slice of W alone is too short for the hardware's prefetchers
            const char* ahead = reinterpret_cast<const char*>(W + cols[t + csc_prefetch_distance] * out + c0);
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

/// y (n x out, preinitialised) += X W for X given by columns (column i's entries: row rows[q] with
/// value coef[q] for q in [ptr[i], ptr[i + 1]); `cols` lists the columns with entries, ascending),
/// in blocks of 128 columns of y: each touched row of W is read once, and the block of y (n x 128)
/// stays in L1. out % 16 == 0. With ascending columns every y element gets the same sum, in the
/// same order, as from csr_times_dense_avx512 over sorted CSR rows.
CFNET_TARGET_AVX512_FMA inline void csc_times_dense_avx512(const std::size_t* ptr, const kindex* rows,
                                                           const float* coef, const kindex* cols, std::size_t n_cols,
                                                           const float* W, std::size_t out, float* y) {
    std::size_t c0 = 0;
    for (; c0 + 128 <= out; c0 += 128) csc_block_avx512<8>(ptr, rows, coef, cols, n_cols, W, out, c0, y);
    for (; c0 < out; c0 += 16) csc_block_avx512<1>(ptr, rows, coef, cols, n_cols, W, out, c0, y);
}

/// z[q] = x[rows[q]] . w for R rows, two accumulators per row.
template <int R>
CFNET_TARGET_AVX512_FMA inline void gathered_dots_rows_avx512(const float* x, const kindex* rows, const float* w,
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

/// gathered_dots for h % 16 == 0: w loaded once per four rows.
CFNET_TARGET_AVX512_FMA inline void gathered_dots_avx512(const float* x, const kindex* rows, std::size_t n,
                                                         const float* w, std::size_t h, float* z) {
    std::size_t q = 0;
    for (; q + 4 <= n; q += 4) gathered_dots_rows_avx512<4>(x, rows + q, w, h, z + q);
    for (; q < n; ++q) gathered_dots_rows_avx512<1>(x, rows + q, w, h, z + q);
}

/// Columns [j, j + 16 C) of gathered_grad_adam: the gradient block summed in registers, the
/// optional da updates with the old weights, then Adam's update of the block.
template <int C, bool Axpy, bool Coupled, bool Decoupled>
CFNET_TARGET_AVX512_FMA inline void grad_adam_block_avx512(const float* coef, const kindex* rows, std::size_t n,
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

/// gathered_grad_adam for h % 16 == 0, the gradient never leaving registers.
template <bool Axpy, bool Coupled, bool Decoupled>
CFNET_TARGET_AVX512_FMA inline void gathered_grad_adam_avx512(const float* coef, const kindex* rows, std::size_t n,
                                                              const float* x, float* da, float* p, float* m, float* v,
                                                              std::size_t h, const AdamStepConstants<float>& ac) {
    const AdamRegs adam(ac);
    std::size_t j = 0;
    for (; j + 64 <= h; j += 64)
        grad_adam_block_avx512<4, Axpy, Coupled, Decoupled>(coef, rows, n, x, da, p, m, v, h, j, adam);
    for (; j < h; j += 16)
        grad_adam_block_avx512<1, Axpy, Coupled, Decoupled>(coef, rows, n, x, da, p, m, v, h, j, adam);
}

}  // namespace simd
#endif

/// y (rows x out, preinitialised) += X W for X in CSR and W row-major (in x out). Versions: AVX-512
/// row blocks (float), the reference for AVX2+FMA, the reference.
template <class T>
void csr_times_dense(const std::size_t* rp, const kindex* idx, const T* val, std::size_t rows, const T* w,
                     std::size_t out, T* y) {
#ifdef CFNET_SIMD_DISPATCH
    if (use_avx512()) return simd::csr_times_dense_avx512(rp, idx, val, rows, w, out, y);
    if (use_avx2()) return simd::csr_times_dense_avx2(rp, idx, val, rows, w, out, y);
#endif
    ref::csr_times_dense(rp, idx, val, rows, w, out, y);
}

/// g (in x out) += X^T dy for X in CSR. Versions: the reference, and for AVX2+FMA.
template <class T>
void csr_transpose_times_dense(const std::size_t* rp, const kindex* idx, const T* val, std::size_t rows, const T* dy,
                               std::size_t out, T* g) {
#ifdef CFNET_SIMD_DISPATCH
    if (use_avx2()) return simd::csr_transpose_times_dense_avx2(rp, idx, val, rows, dy, out, g);
#endif
    ref::csr_transpose_times_dense(rp, idx, val, rows, dy, out, g);
}

/// y (rows x out, preinitialised) += X W for X given both in CSR (rp, idx, val) and by columns (cc:
/// its ColumnIndex, cval: the values in column order, cols: the columns with entries, ascending).
/// Versions: AVX-512 column blocks when avx512_tiles<T>(out) (each touched row of W read once per
/// call), the CSR reference for AVX2 without FMA, the CSR reference; all sum each element of y in
/// ascending column order.
template <class T>
void sparse_times_dense(const std::size_t* rp, const kindex* idx, const T* val, std::size_t rows,
                        const ColumnIndex& cc, const T* cval, const std::vector<kindex>& cols, const T* w,
                        std::size_t out, T* y) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(out))
            return simd::csc_times_dense_avx512(cc.ptr.data(), cc.row.data(), cval, cols.data(), cols.size(), w, out, y);
    if (use_avx2()) return simd::csr_times_dense_avx2_exact(rp, idx, val, rows, w, out, y);
#endif
    (void)cc, (void)cval, (void)cols;
    ref::csr_times_dense(rp, idx, val, rows, w, out, y);
}

/// ye[pos[q]] = b[j] + x[row[q]] . w[j] for every entry of every column j of a ColumnIndex (w is
/// out x in, b may be null). Versions: the reference, and for AVX2+FMA.
template <class T>
void column_dots(const ColumnIndex& c, std::size_t out, const T* x, const T* w, const T* b, std::size_t in, T* ye) {
#ifdef CFNET_SIMD_DISPATCH
    if (use_avx2()) return simd::column_dots_avx2(c.ptr.data(), c.row.data(), c.pos.data(), out, x, w, b, in, ye);
#endif
    ref::column_dots(c.ptr.data(), c.row.data(), c.pos.data(), out, x, w, b, in, ye);
}

/// dx[row[q]] += d[pos[q]] w[j] and gw[j] += d[pos[q]] x[row[q]] for every entry of every column j.
/// Versions: the reference, and for AVX2+FMA.
template <class T>
void column_grads(const ColumnIndex& c, std::size_t out, const T* x, const T* w, const T* d, std::size_t in, T* dx,
                  T* gw) {
#ifdef CFNET_SIMD_DISPATCH
    if (use_avx2())
        return simd::column_grads_avx2(c.ptr.data(), c.row.data(), c.pos.data(), out, x, w, d, in, dx, gw);
#endif
    ref::column_grads(c.ptr.data(), c.row.data(), c.pos.data(), out, x, w, d, in, dx, gw);
}

/// z[q] = x[rows[q]] . w (x row-major with h columns, w of length h) for q < n. Versions: AVX-512
/// when avx512_tiles<T>(h) (w loaded once per four rows), the reference for AVX2 without FMA, the
/// reference.
template <class T>
void gathered_dots(const T* x, const kindex* rows, std::size_t n, const T* w, std::size_t h, T* z) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(h)) return simd::gathered_dots_avx512(x, rows, n, w, h, z);
    if (use_avx2()) return simd::gathered_dots_avx2(x, rows, n, w, h, z);
#endif
    ref::gathered_dots(x, rows, n, w, h, z);
}

/// g += sum_q coef[q] x[rows[q]] (x row-major with h columns) and, when da is not null,
/// da[rows[q]] += coef[q] w: a weight row's gradient from the batch rows that use it, and (for an
/// output unit) its part of the input gradient. Versions: the reference for AVX2 without FMA, the
/// reference (the same sums).
template <class T>
void gathered_grad(const T* coef, const kindex* rows, std::size_t n, const T* x, T* g, T* da, const T* w,
                   std::size_t h) {
#ifdef CFNET_SIMD_DISPATCH
    if (use_avx2()) return simd::gathered_grad_avx2(coef, rows, n, x, g, da, w, h);
#endif
    ref::gathered_grad(coef, rows, n, x, g, da, w, h);
}

/// One weight row p (length h) of a sparse layer: its gradient g = sum_q coef[q] x[rows[q]] (x
/// row-major with h columns); when da is not null, first da[rows[q]] += coef[q] * p for every q
/// (with p before the update); then Adam's update of (p, m, v) with g under `ac`. Versions: AVX-512
/// when avx512_tiles<T>(h) (g kept in registers); otherwise gathered_grad into `scratch` (h
/// elements) and adam_update.
template <class T>
void gathered_grad_adam(const T* coef, const kindex* rows, std::size_t n, const T* x, T* da, T* p, T* m, T* v,
                        std::size_t h, const AdamStepConstants<T>& ac, T* scratch) {
#ifdef CFNET_SIMD_DISPATCH
    if constexpr (std::is_same_v<T, float>)
        if (avx512_tiles<T>(h)) {
            with_decay_mode(ac, [&](auto coupled, auto decoupled) {
                constexpr bool Cp = decltype(coupled)::value, Dc = decltype(decoupled)::value;
                if (da) simd::gathered_grad_adam_avx512<true, Cp, Dc>(coef, rows, n, x, da, p, m, v, h, ac);
                else simd::gathered_grad_adam_avx512<false, Cp, Dc>(coef, rows, n, x, da, p, m, v, h, ac);
            });
            return;
        }
#endif
    std::fill(scratch, scratch + h, T(0));
    gathered_grad(coef, rows, n, x, scratch, da, static_cast<const T*>(p), h);
    adam_update(p, static_cast<const T*>(scratch), m, v, h, ac);
}

}  // namespace cfnet::kernels
