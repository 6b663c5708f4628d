#pragma once
/// @file tensor.hpp
/// The only header of cfnet that includes xtensor and xtensor-blas. Defines cfnet's container
/// aliases and thin, allocation-free BLAS wrappers for hot loops.
///
/// xtensor 0.24/0.25 is supported (flat <xtensor/x*.hpp> headers); CMake refuses other versions.

#ifndef WITH_OPENBLAS
#define WITH_OPENBLAS 1  // makes xtensor-blas declare openblas_set_num_threads
#endif

#include <cfnet/config.hpp>
#include <cfnet/error.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include <cstddef>
#include <limits>
#include <new>
#include <string>
#include <type_traits>

#if XTENSOR_VERSION_MAJOR != 0 || XTENSOR_VERSION_MINOR < 24 || XTENSOR_VERSION_MINOR >= 26
#error "cfnet supports xtensor 0.24.x and 0.25.x"
#endif

namespace cfnet {

/// Row-major dense matrix (the layout every cfnet kernel assumes).
template <class T = float>
using Matrix = xt::xtensor<T, 2, xt::layout_type::row_major>;
/// Dense vector.
template <class T = float>
using Vector = xt::xtensor<T, 1, xt::layout_type::row_major>;

/// A rows x cols matrix of zeros. @throws OutOfMemory naming `what` and the bytes needed (the
/// product checked for overflow) when it cannot be allocated.
template <class T>
Matrix<T> zeros_for(const std::string& what, std::size_t rows, std::size_t cols) {
    std::size_t bytes = 0;
    const bool overflow = __builtin_mul_overflow(rows, cols, &bytes) || __builtin_mul_overflow(bytes, sizeof(T), &bytes);
    const auto fail = [&] {
        return OutOfMemory(detail::concat(what, ": not enough memory for a ", rows, " x ", cols, " matrix (",
                                          overflow ? std::string("more than 2^64") : std::to_string(bytes), " bytes)"));
    };
    if (overflow) throw fail();
    try {
        return xt::zeros<T>({rows, cols});
    } catch (const std::bad_alloc&) {
        throw fail();
    }
}

/// Gives m the shape rows x cols, reallocating only when the shape changes: the layers' output and
/// scratch buffers, grown once and reused from batch to batch. The contents are unspecified after a
/// reshape.
template <class T>
void ensure_shape(Matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape(0) != rows || m.shape(1) != cols) m.resize({rows, cols});
}

enum class Trans { no, yes };

namespace detail {

inline CBLAS_TRANSPOSE cblas_trans(Trans t) { return t == Trans::yes ? CblasTrans : CblasNoTrans; }

}  // namespace detail

/// C = alpha * op(A) * op(B) + beta * C on raw row-major buffers: op(A) is m x k, op(B) is k x n,
/// C is m x n; lda/ldb/ldc are the row strides of the stored matrices. Allocates nothing.
template <class T>
void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "gemm: float or double");
    if (m == 0 || n == 0) return;
    const auto M = static_cast<CBLAS_INT>(m), N = static_cast<CBLAS_INT>(n), K = static_cast<CBLAS_INT>(k);
    if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, detail::cblas_trans(ta), detail::cblas_trans(tb), M, N, K, alpha, a,
                    static_cast<CBLAS_INT>(lda), b, static_cast<CBLAS_INT>(ldb), beta, c, static_cast<CBLAS_INT>(ldc));
    } else {
        cblas_dgemm(CblasRowMajor, detail::cblas_trans(ta), detail::cblas_trans(tb), M, N, K, alpha, a,
                    static_cast<CBLAS_INT>(lda), b, static_cast<CBLAS_INT>(ldb), beta, c, static_cast<CBLAS_INT>(ldc));
    }
}

/// C (n x n, row-major, row stride ldc) = alpha * A^T A + beta * C on the UPPER triangle only (the
/// strict lower triangle is not touched), A k x n row-major with row stride lda (BLAS ssyrk/dsyrk).
template <class T>
void syrk_upper_at_a(std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda, T beta, T* c, std::size_t ldc) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "syrk_upper_at_a: float or double");
    if (n == 0) return;
    const auto N = static_cast<CBLAS_INT>(n), K = static_cast<CBLAS_INT>(k);
    if constexpr (std::is_same_v<T, float>)
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, N, K, alpha, a, static_cast<CBLAS_INT>(lda), beta, c,
                    static_cast<CBLAS_INT>(ldc));
    else
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, N, K, alpha, a, static_cast<CBLAS_INT>(lda), beta, c,
                    static_cast<CBLAS_INT>(ldc));
}

/// Which triangle of a symmetric matrix stored ROW-MAJOR holds the data (the other one is neither
/// read nor written by the LAPACK wrappers below).
enum class Triangle { upper, lower };

namespace detail {

/// LAPACK is column-major: the upper triangle of a row-major matrix is the lower triangle of the
/// same buffer read column-major.
inline char lapack_uplo(Triangle t) { return t == Triangle::upper ? 'L' : 'U'; }

}  // namespace detail

/// Cholesky factorisation in place (LAPACK spotrf / dpotrf, through the declarations xtensor-blas
/// bundles, so no <lapacke.h>): the triangle `tri` of the n x n row-major symmetric matrix `a`
/// (row stride lda) is replaced by its Cholesky factor; the other triangle is not touched.
/// Returns LAPACK's info: 0 on success, i > 0 when the leading minor of order i is not positive
/// definite (the matrix is then partly overwritten).
template <class T>
int cholesky_factor(Triangle tri, std::size_t n, T* a, std::size_t lda) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "cholesky_factor: float or double");
    if (n == 0) return 0;
    return cxxlapack::potrf<int>(detail::lapack_uplo(tri), static_cast<int>(n), a, static_cast<int>(lda));
}

/// The inverse of a symmetric positive definite matrix from its Cholesky factor (spotri / dpotri),
/// in place in the same triangle: after cholesky_factor(tri, n, a, lda) == 0, the triangle `tri`
/// holds that triangle of the inverse. Returns LAPACK's info (i > 0: a zero on the factor's
/// diagonal, the matrix is singular).
template <class T>
int cholesky_inverse(Triangle tri, std::size_t n, T* a, std::size_t lda) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "cholesky_inverse: float or double");
    if (n == 0) return 0;
    return cxxlapack::potri<int>(detail::lapack_uplo(tri), static_cast<int>(n), a, static_cast<int>(lda));
}

/// True when an n x n system fits LAPACK's 32-bit integer sizes (n and the leading dimension).
inline bool fits_lapack(std::size_t n) { return n <= static_cast<std::size_t>(std::numeric_limits<int>::max()); }

/// Sets the number of threads OpenBLAS uses (1 makes results bit-reproducible run to run).
inline void set_blas_threads(int n) { openblas_set_num_threads(n); }

/// The number of threads OpenBLAS currently uses.
inline int blas_threads() { return openblas_get_num_threads(); }

}  // namespace cfnet
