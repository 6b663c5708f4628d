#pragma once
/// @file nn/loss.hpp
/// Losses on a batch of predictions: value (a double) and gradient dL/dpred written into a
/// caller-owned buffer.
///
/// - MeanSquaredError<T>: mean over every entry.
/// - MaskedMSE<T>: squared error over observed entries only (mask != 0), normalised either per
///   sample (the notebook's Keras loss; MaskNormalization::per_sample) or by the total observed
///   count of the batch (MaskNormalization::global). Dense form (pred/target/mask matrices) and
///   sparse form (CSR-like: only observed entries are given) compute exactly the same numbers.
/// - BinaryCrossEntropyWithLogits<T>: numerically stable BCE on logits, mean over every entry.
/// - MultinomialLogLikelihood<T>: the negative multinomial log-likelihood of sparse count rows
///   under softmax(logits) over every column (Mult-VAE / Mult-DAE), mean over the batch's rows.
///
/// Every loss offers value(...), gradient(..., grad) and value_and_gradient(..., grad) (one pass).
/// Values are accumulated in double; gradients are computed in T. `grad` is resized to pred's shape
/// when its shape differs, so after the first batch of a given shape nothing is allocated.
///
///   cfnet::nn::MaskedMSE<float> loss(cfnet::nn::MaskNormalization::per_sample);
///   double l = loss.value_and_gradient(pred, target, mask, dpred);

#include <cfnet/error.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace cfnet::nn {

namespace detail {

template <class T>
void check_same_shape(const char* fn, const char* a_name, const Matrix<T>& a, const char* b_name, const Matrix<T>& b) {
    check_arg(a.shape(0) == b.shape(0) && a.shape(1) == b.shape(1), fn, ": ", a_name, " is ", a.shape(0), "x",
              a.shape(1), " but ", b_name, " is ", b.shape(0), "x", b.shape(1));
}

template <class T>
void shape_like(Matrix<T>& grad, const Matrix<T>& pred) {
    ensure_shape(grad, pred.shape(0), pred.shape(1));
}

inline void check_row_ptr(const char* fn, const std::size_t* row_ptr, std::size_t rows) {
    check_arg(row_ptr != nullptr, fn, ": row_ptr is null");
    for (std::size_t r = 0; r < rows; ++r)
        check_arg(row_ptr[r] <= row_ptr[r + 1], fn, ": row_ptr must be non-decreasing, but row_ptr[", r,
                  "] = ", row_ptr[r], " > row_ptr[", r + 1, "] = ", row_ptr[r + 1]);
}

}  // namespace detail

// ------------------------------------------------------------------------------------------------
/// Mean squared error over all entries: L = sum (p - t)^2 / N, dL/dp = 2 (p - t) / N.
template <class T = float>
class MeanSquaredError {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @pre pred and target have the same non-empty shape.
    /// @throws InvalidArgument on a shape mismatch or an empty batch.
    double value(const Matrix<T>& pred, const Matrix<T>& target) const {
        check("MeanSquaredError::value", pred, target);
        const T* p = pred.data();
        const T* t = target.data();
        double s = 0;
        for (size_type i = 0, n = pred.size(); i < n; ++i) {
            const double d = static_cast<double>(p[i] - t[i]);
            s += d * d;
        }
        return s / static_cast<double>(pred.size());
    }

    /// Writes dL/dpred into grad (resized to pred's shape if needed).
    void gradient(const Matrix<T>& pred, const Matrix<T>& target, Matrix<T>& grad) const {
        value_and_gradient_impl("MeanSquaredError::gradient", pred, target, grad);
    }

    /// value() and gradient() in one pass.
    double value_and_gradient(const Matrix<T>& pred, const Matrix<T>& target, Matrix<T>& grad) const {
        return value_and_gradient_impl("MeanSquaredError::value_and_gradient", pred, target, grad);
    }

private:
    static void check(const char* fn, const Matrix<T>& pred, const Matrix<T>& target) {
        detail::check_same_shape(fn, "pred", pred, "target", target);
        check_arg(pred.size() > 0, fn, ": empty batch (", pred.shape(0), "x", pred.shape(1), ")");
    }

    static double value_and_gradient_impl(const char* fn, const Matrix<T>& pred, const Matrix<T>& target,
                                          Matrix<T>& grad) {
        check(fn, pred, target);
        detail::shape_like(grad, pred);
        const T* p = pred.data();
        const T* t = target.data();
        T* g = grad.data();
        const size_type n = pred.size();
        const T scale = static_cast<T>(2.0 / static_cast<double>(n));
        double s = 0;
        for (size_type i = 0; i < n; ++i) {
            const T d = p[i] - t[i];
            s += static_cast<double>(d) * static_cast<double>(d);
            g[i] = scale * d;
        }
        return s / static_cast<double>(n);
    }
};

// ------------------------------------------------------------------------------------------------
/// How MaskedMSE normalises the sum of squared errors over observed entries.
enum class MaskNormalization {
    /// The notebook's Keras loss: per sample (row), the squared error over its observed entries
    /// divided by its observed count; then the mean over the B rows of the batch (rows with no
    /// observed entry contribute 0, not NaN, and still count in B).
    ///   L = (1/B) sum_i [n_i > 0] (1/n_i) sum_{j observed} (p_ij - t_ij)^2
    per_sample,
    /// Sum of squared errors over observed entries divided by the total observed count N of the
    /// batch (0 when N = 0):  L = (1/N) sum_{(i,j) observed} (p_ij - t_ij)^2
    global,
};

/// Squared error over observed entries only (see MaskNormalization). The gradient is exactly zero
/// on unobserved entries.
///
/// Dense form: `mask` has pred's shape; an entry is observed iff mask != 0.
/// Sparse form: only observed entries are given, row by row, as flat arrays: entries
/// row_ptr[i] .. row_ptr[i+1]-1 of `pred`/`target`/`grad` belong to row i (i < rows), so the
/// arrays are indexed by the row_ptr values themselves (row_ptr[0] need not be 0). Given the same
/// entries in the same (column) order, the sparse and dense forms return bit-identical values and
/// gradients.
template <class T = float>
class MaskedMSE {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// The notebook's per-sample normalisation.
    MaskedMSE() = default;
    explicit MaskedMSE(MaskNormalization norm) : norm_(norm) {}

    MaskNormalization normalization() const noexcept { return norm_; }

    // --- dense --------------------------------------------------------------------------------
    /// @pre pred, target and mask have the same shape.
    /// @throws InvalidArgument on a shape mismatch.
    double value(const Matrix<T>& pred, const Matrix<T>& target, const Matrix<T>& mask) const {
        check("MaskedMSE::value", pred, target, mask);
        return dense_impl(pred, target, mask, nullptr);
    }

    /// Writes dL/dpred into grad (resized to pred's shape if needed); 0 on unobserved entries.
    void gradient(const Matrix<T>& pred, const Matrix<T>& target, const Matrix<T>& mask, Matrix<T>& grad) const {
        check("MaskedMSE::gradient", pred, target, mask);
        detail::shape_like(grad, pred);
        dense_impl(pred, target, mask, grad.data());
    }

    double value_and_gradient(const Matrix<T>& pred, const Matrix<T>& target, const Matrix<T>& mask,
                              Matrix<T>& grad) const {
        check("MaskedMSE::value_and_gradient", pred, target, mask);
        detail::shape_like(grad, pred);
        return dense_impl(pred, target, mask, grad.data());
    }

    // --- sparse (observed entries only) ---------------------------------------------------------
    /// @param row_ptr rows + 1 non-decreasing offsets into pred/target.
    /// @throws InvalidArgument when row_ptr is null or decreasing.
    double sparse_value(const size_type* row_ptr, size_type rows, const T* pred, const T* target) const {
        detail::check_row_ptr("MaskedMSE::sparse_value", row_ptr, rows);
        return sparse_impl(row_ptr, rows, pred, target, nullptr);
    }

    /// Writes dL/dpred for every given entry into grad[row_ptr[0] .. row_ptr[rows]).
    void sparse_gradient(const size_type* row_ptr, size_type rows, const T* pred, const T* target, T* grad) const {
        detail::check_row_ptr("MaskedMSE::sparse_gradient", row_ptr, rows);
        sparse_impl(row_ptr, rows, pred, target, grad);
    }

    double sparse_value_and_gradient(const size_type* row_ptr, size_type rows, const T* pred, const T* target,
                                     T* grad) const {
        detail::check_row_ptr("MaskedMSE::sparse_value_and_gradient", row_ptr, rows);
        return sparse_impl(row_ptr, rows, pred, target, grad);
    }

    /// The per-row factors of the sparse gradient: for every entry k of row i,
    /// dL/dpred_k = scale[i] * (pred_k - target_k) (what sparse_gradient writes), so that a layer can
    /// form the gradient of an entry as soon as it computes the prediction
    /// (nn::SparseOutputDense::forward_backward_at). A row without entries gets 0.
    void gradient_scales(const size_type* row_ptr, size_type rows, T* scale) const {
        detail::check_row_ptr("MaskedMSE::gradient_scales", row_ptr, rows);
        if (norm_ == MaskNormalization::per_sample) {
            const double batch = static_cast<double>(rows);
            for (size_type i = 0; i < rows; ++i) {
                const size_type cnt = row_ptr[i + 1] - row_ptr[i];
                scale[i] = cnt ? static_cast<T>(2.0 / (static_cast<double>(cnt) * batch)) : T(0);
            }
            return;
        }
        const size_type cnt = row_ptr[rows] - row_ptr[0];
        const T sc = cnt ? static_cast<T>(2.0 / static_cast<double>(cnt)) : T(0);
        std::fill(scale, scale + rows, sc);
    }

private:
    MaskNormalization norm_ = MaskNormalization::per_sample;

    static void check(const char* fn, const Matrix<T>& pred, const Matrix<T>& target, const Matrix<T>& mask) {
        detail::check_same_shape(fn, "pred", pred, "target", target);
        detail::check_same_shape(fn, "pred", pred, "mask", mask);
    }

    // grad == nullptr: value only. The arithmetic is written once per form but is the same
    // sequence of operations, which is what makes dense and sparse bit-identical.
    double dense_impl(const Matrix<T>& pred, const Matrix<T>& target, const Matrix<T>& mask, T* grad) const {
        const size_type rows = pred.shape(0), cols = pred.shape(1);
        const T* p = pred.data();
        const T* t = target.data();
        const T* m = mask.data();
        if (norm_ == MaskNormalization::per_sample) {
            double total = 0;
            const double batch = static_cast<double>(rows);
            for (size_type i = 0; i < rows; ++i) {
                const size_type o = i * cols;
                double s = 0;
                size_type cnt = 0;
                for (size_type j = 0; j < cols; ++j) {
                    if (m[o + j] != T(0)) {
                        const T d = p[o + j] - t[o + j];
                        s += static_cast<double>(d) * static_cast<double>(d);
                        ++cnt;
                    }
                }
                if (cnt == 0) {
                    if (grad) for (size_type j = 0; j < cols; ++j) grad[o + j] = T(0);
                    continue;
                }
                total += s / static_cast<double>(cnt);
                if (grad) {
                    const T scale = static_cast<T>(2.0 / (static_cast<double>(cnt) * batch));
                    for (size_type j = 0; j < cols; ++j)
                        grad[o + j] = m[o + j] != T(0) ? scale * (p[o + j] - t[o + j]) : T(0);
                }
            }
            return rows ? total / batch : 0.0;
        }
        // global
        double s = 0;
        size_type cnt = 0;
        for (size_type k = 0, n = pred.size(); k < n; ++k) {
            if (m[k] != T(0)) {
                const T d = p[k] - t[k];
                s += static_cast<double>(d) * static_cast<double>(d);
                ++cnt;
            }
        }
        if (grad) {
            const T scale = cnt ? static_cast<T>(2.0 / static_cast<double>(cnt)) : T(0);
            for (size_type k = 0, n = pred.size(); k < n; ++k) grad[k] = m[k] != T(0) ? scale * (p[k] - t[k]) : T(0);
        }
        return cnt ? s / static_cast<double>(cnt) : 0.0;
    }

    double sparse_impl(const size_type* row_ptr, size_type rows, const T* p, const T* t, T* grad) const {
        if (norm_ == MaskNormalization::per_sample) {
            double total = 0;
            const double batch = static_cast<double>(rows);
            for (size_type i = 0; i < rows; ++i) {
                const size_type b = row_ptr[i], e = row_ptr[i + 1];
                if (b == e) continue;
                double s = 0;
                for (size_type k = b; k < e; ++k) {
                    const T d = p[k] - t[k];
                    s += static_cast<double>(d) * static_cast<double>(d);
                }
                const size_type cnt = e - b;
                total += s / static_cast<double>(cnt);
                if (grad) {
                    const T scale = static_cast<T>(2.0 / (static_cast<double>(cnt) * batch));
                    for (size_type k = b; k < e; ++k) grad[k] = scale * (p[k] - t[k]);
                }
            }
            return rows ? total / batch : 0.0;
        }
        const size_type b = row_ptr[0], e = row_ptr[rows], cnt = e - b;
        double s = 0;
        for (size_type k = b; k < e; ++k) {
            const T d = p[k] - t[k];
            s += static_cast<double>(d) * static_cast<double>(d);
        }
        if (grad) {
            const T scale = cnt ? static_cast<T>(2.0 / static_cast<double>(cnt)) : T(0);
            for (size_type k = b; k < e; ++k) grad[k] = scale * (p[k] - t[k]);
        }
        return cnt ? s / static_cast<double>(cnt) : 0.0;
    }
};

// ------------------------------------------------------------------------------------------------
/// Binary cross-entropy on logits z with targets y in [0, 1], mean over all N entries, computed
/// stably as  l(z, y) = max(z, 0) - z y + log1p(exp(-|z|));  dL/dz = (sigmoid(z) - y) / N.
template <class T = float>
class BinaryCrossEntropyWithLogits {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @pre logits and target have the same non-empty shape; targets lie in [0, 1].
    /// @throws InvalidArgument on a shape mismatch or an empty batch.
    double value(const Matrix<T>& logits, const Matrix<T>& target) const {
        check("BinaryCrossEntropyWithLogits::value", logits, target);
        return impl(logits, target, nullptr);
    }

    void gradient(const Matrix<T>& logits, const Matrix<T>& target, Matrix<T>& grad) const {
        check("BinaryCrossEntropyWithLogits::gradient", logits, target);
        detail::shape_like(grad, logits);
        impl(logits, target, grad.data());
    }

    double value_and_gradient(const Matrix<T>& logits, const Matrix<T>& target, Matrix<T>& grad) const {
        check("BinaryCrossEntropyWithLogits::value_and_gradient", logits, target);
        detail::shape_like(grad, logits);
        return impl(logits, target, grad.data());
    }

private:
    static void check(const char* fn, const Matrix<T>& z, const Matrix<T>& y) {
        detail::check_same_shape(fn, "logits", z, "target", y);
        check_arg(z.size() > 0, fn, ": empty batch (", z.shape(0), "x", z.shape(1), ")");
    }

    static double impl(const Matrix<T>& logits, const Matrix<T>& target, T* grad) {
        const T* z = logits.data();
        const T* y = target.data();
        const size_type n = logits.size();
        const T inv_n = static_cast<T>(1.0 / static_cast<double>(n));
        double s = 0;
        for (size_type i = 0; i < n; ++i) {
            const T zi = z[i];
            const T e = std::exp(-std::abs(zi));  // in (0, 1]: never overflows
            s += static_cast<double>((zi > T(0) ? zi : T(0)) - zi * y[i] + std::log1p(e));
            if (grad) {
                const T sig = zi >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
                grad[i] = (sig - y[i]) * inv_n;
            }
        }
        return s / static_cast<double>(n);
    }
};

// ------------------------------------------------------------------------------------------------

/// The negative multinomial log-likelihood of Liang et al. (2018), "Variational Autoencoders for
/// Collaborative Filtering", mean over the B rows of a batch:
///
///   L = (1/B) sum_u -sum_i x_ui log softmax(z_u)_i = (1/B) sum_u [ n_u lse(z_u) - sum_i x_ui z_ui ]
///   dL/dz_ui = (1/B) (softmax(z_u)_i n_u - x_ui),     n_u = sum_i x_ui,  lse = log sum exp
///
/// z is the dense B x I logits matrix (every item needs its logit: the softmax normalises over all of
/// them); x is sparse, given as CSR rows (a SparseBatch, or row_ptr / indices / values), so no dense
/// users x items target is ever built. The log-softmax is computed stably (max subtracted; one exp
/// per logit); sums are accumulated in double. A row without entries contributes 0 and a zero
/// gradient (it still counts in B).
template <class T = float>
class MultinomialLogLikelihood {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @pre logits is target.rows() x target.cols(). @throws InvalidArgument otherwise or when B = 0.
    double value(const Matrix<T>& logits, const SparseBatch<T>& target) const {
        check("MultinomialLogLikelihood::value", logits, target);
        return impl(logits.data(), logits.shape(0), logits.shape(1), target.row_ptr().data(), target.indices().data(),
                    target.values().data(), nullptr);
    }
    /// Writes dL/dlogits into grad (resized to logits' shape if needed).
    void gradient(const Matrix<T>& logits, const SparseBatch<T>& target, Matrix<T>& grad) const {
        value_and_gradient(logits, target, grad);
    }
    /// value() and gradient() in one pass.
    double value_and_gradient(const Matrix<T>& logits, const SparseBatch<T>& target, Matrix<T>& grad) const {
        check("MultinomialLogLikelihood::value_and_gradient", logits, target);
        detail::shape_like(grad, logits);
        return impl(logits.data(), logits.shape(0), logits.shape(1), target.row_ptr().data(), target.indices().data(),
                    target.values().data(), grad.data());
    }
    /// The raw form: z is rows x cols (row-major), row r's targets are (indices[p], values[p]) for
    /// p in [row_ptr[r], row_ptr[r+1]); grad (rows x cols, may be null: value only) must not alias z.
    /// @throws InvalidArgument when row_ptr is null or decreasing, or a column index is >= cols.
    double value_and_gradient(const T* z, size_type rows, size_type cols, const size_type* row_ptr,
                              const index_type* indices, const T* values, T* grad) const {
        detail::check_row_ptr("MultinomialLogLikelihood::value_and_gradient", row_ptr, rows);
        check_arg(rows > 0, "MultinomialLogLikelihood::value_and_gradient: empty batch (0 rows)");
        for (size_type p = row_ptr[0]; p < row_ptr[rows]; ++p)
            check_arg(indices[p] < cols, "MultinomialLogLikelihood::value_and_gradient: target column ", indices[p],
                      " >= ", cols, " columns");
        return impl(z, rows, cols, row_ptr, indices, values, grad);
    }

private:
    static void check(const char* fn, const Matrix<T>& logits, const SparseBatch<T>& target) {
        check_arg(logits.shape(0) == target.rows() && logits.shape(1) == target.cols(), fn, ": logits are ",
                  logits.shape(0), "x", logits.shape(1), " but the target batch is ", target.rows(), "x", target.cols());
        check_arg(target.rows() > 0, fn, ": empty batch (0 rows)");
    }
    static double impl(const T* z, size_type rows, size_type cols, const size_type* row_ptr, const index_type* idx,
                       const T* val, T* grad) {
        const double inv_b = 1.0 / static_cast<double>(rows);
        double total = 0;
        for (size_type r = 0; r < rows; ++r) {
            const T* zr = z + r * cols;
            T* gr = grad ? grad + r * cols : nullptr;
            double n = 0, xz = 0;
            for (size_type p = row_ptr[r]; p < row_ptr[r + 1]; ++p) {
                n += static_cast<double>(val[p]);
                xz += static_cast<double>(val[p]) * static_cast<double>(zr[idx[p]]);
            }
            if (n == 0.0) {
                if (gr) std::fill(gr, gr + cols, T(0));
                continue;
            }
            T m = zr[0];
            for (size_type j = 1; j < cols; ++j) m = zr[j] > m ? zr[j] : m;
            double s = 0;
            if (gr) {  // e_j = exp(z_j - max) into the gradient buffer, scaled below
                for (size_type j = 0; j < cols; ++j) {
                    gr[j] = std::exp(zr[j] - m);
                    s += static_cast<double>(gr[j]);
                }
            } else {
                for (size_type j = 0; j < cols; ++j) s += static_cast<double>(std::exp(zr[j] - m));
            }
            const double lse = static_cast<double>(m) + std::log(s);
            total += n * lse - xz;
            if (gr) {
                const T f = static_cast<T>(n * inv_b / s);
                for (size_type j = 0; j < cols; ++j) gr[j] *= f;
                const T ib = static_cast<T>(inv_b);
                for (size_type p = row_ptr[r]; p < row_ptr[r + 1]; ++p) gr[idx[p]] -= val[p] * ib;
            }
        }
        return total * inv_b;
    }
};

}  // namespace cfnet::nn
