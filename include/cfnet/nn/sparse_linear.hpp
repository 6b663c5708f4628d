#pragma once
/// @file nn/sparse_linear.hpp
/// Linear algebra on a sparse batch for closed-form models (EASE; any model solving normal
/// equations), exposing the kernels to models, which never call kernels:: themselves
/// (docs/design.md, "Levels"):
///  - gram_upper(x, g): G += X^T X, upper triangle (kernels/gram.hpp);
///  - times_dense(x, w, y): Y += X W for W not owned by a layer (kernels/sparse.hpp's
///    csr_times_dense), e.g. a block of users' interaction rows times a closed-form item-item matrix.

#include <cfnet/error.hpp>
#include <cfnet/kernels/gram.hpp>
#include <cfnet/kernels/sparse.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/tensor.hpp>

#include <cstddef>

namespace cfnet::nn {

/// g (x.cols() x x.cols(), row-major) += the upper triangle (j >= i) of X^T X; the strict lower
/// triangle is not touched. `pattern`: every stored entry counts as 1 (the values are not read).
/// `threads` >= 1 splits the rows of g (the result does not depend on it). Rows of x with at least
/// `dense_min` entries go through a dense BLAS syrk (by default none: the result is then
/// bit-identical to the reference kernel). kernels/gram.hpp.
/// @throws InvalidArgument if g is not x.cols() x x.cols().
template <class T>
void gram_upper(const SparseBatch<T>& x, Matrix<T>& g, bool pattern = false, int threads = 1,
                std::size_t dense_min = static_cast<std::size_t>(-1)) {
    const std::size_t n = x.cols();
    check_arg(g.shape(0) == n && g.shape(1) == n, "nn::gram_upper: g is ", g.shape(0), " x ", g.shape(1), ", expected ",
              n, " x ", n);
    kernels::gram_upper(x.row_ptr().data(), x.indices().data(), pattern ? nullptr : x.values().data(), x.rows(), n,
                        g.data(), n, threads, dense_min);
}

/// y (x.rows() x out, row-major, preinitialised) += X W for W row-major x.cols() x out.
template <class T>
void times_dense(const SparseBatch<T>& x, const T* w, std::size_t out, T* y) {
    kernels::csr_times_dense(x.row_ptr().data(), x.indices().data(), x.values().data(), x.rows(), w, out, y);
}

}  // namespace cfnet::nn
