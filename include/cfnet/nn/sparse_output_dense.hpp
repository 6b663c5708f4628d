#pragma once
/// @file nn/sparse_output_dense.hpp
/// SparseOutputDense<T>: y = f(x W^T + b) evaluated only at the entries of a sparse pattern: the
/// autoencoder's last layer, whose masked loss reads its outputs at the observed ratings only. The
/// outputs, and their gradients, cost O(entries * in) instead of O(batch * out * in), exactly.
///
/// W is out x in, one contiguous row per output unit (PyTorch's layout), so the layer works output
/// unit by output unit: unit j's row is read once for every batch row that has an entry in column j.
/// forward_backward_at fuses the output, the loss gradient (a function the caller passes) and the
/// backward pass of each unit while its row is in cache, and on the fused path (nn/update.hpp) the
/// row's update too; forward_at / backward_at are the same computation in two passes, for callers
/// that need the outputs before the loss. infer_one / infer_unit / infer_all evaluate one output,
/// one output unit over many rows, or every output (a GEMM) for scoring.
///
/// Parameters: "weight" (out x in), "bias" (1 x out, zeros at start). The weights are drawn in in x
/// out order (as Dense draws them) and stored transposed.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/kernels/sparse.hpp>
#include <cfnet/kernels/vector.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cfnet::nn {

template <class T = float>
class SparseOutputDense {
public:
    using value_type = T;
    using size_type = std::size_t;

    SparseOutputDense() = default;

    /// @throws InvalidArgument if in or out is 0.
    SparseOutputDense(size_type in, size_type out, Rng& rng, const Initializer& init = init::glorot_uniform(),
                      ActivationKind activation = ActivationKind::identity)
        : in_(in), out_(out), act_(activation), weight_("weight", out, in), bias_("bias", 1, out) {
        check_arg(in > 0 && out > 0, "SparseOutputDense: in and out must be > 0, got in = ", in, ", out = ", out);
        Matrix<T> w = Matrix<T>::from_shape({in, out});
        init(w, in, out, rng);
        T* v = weight_.value.data();
        const T* src = w.data();
        for (size_type i = 0; i < in; ++i)
            for (size_type o = 0; o < out; ++o) v[o * in + i] = src[i * out + o];
    }

    /// The outputs at the entries of `pattern` (its values are not read), in its CSR order: entry p
    /// belongs to (row r, column pattern.indices()[p]) and equals f(b_c + x_r . w_c). Caches x and
    /// the pattern by columns for backward_at. @pre x is pattern.rows() x in, pattern.cols() == out.
    /// @throws InvalidArgument otherwise.
    const Vector<T>& forward_at(const Matrix<T>& x, const SparseBatch<T>& pattern) {
        check_input("forward_at", x, pattern);
        x_ = &x;
        cols_.build(pattern);
        if (ye_.size() != pattern.nnz()) ye_.resize({pattern.nnz()});
        kernels::column_dots(cols_, out_, x.data(), weight_.value.data(), bias_.value.data(), in_, ye_.data());
        apply_activation(act_, ye_.data(), ye_.size());
        return ye_;
    }

    /// Given d = dL/d(output entry p) aligned with forward_at's result: returns dx (batch x in) and
    /// ADDS the weight and bias gradients (only the output units in the pattern change).
    /// @pre follows forward_at, whose x is still alive and unchanged; d has one value per entry.
    const Matrix<T>& backward_at(const Vector<T>& d) {
        check_arg(x_ != nullptr && d.size() == ye_.size(), "SparseOutputDense::backward_at: ", d.size(),
                  " entry gradients, but the last forward_at had ", ye_.size(), " entries");
        const size_type n = x_->shape(0);
        if (dz_.size() != d.size()) dz_.resize({d.size()});
        activation_backward(act_, ye_.data(), d.data(), dz_.data(), d.size());
        ensure_shape(dx_, n, in_);
        std::fill(dx_.begin(), dx_.end(), T(0));
        kernels::column_grads(cols_, out_, x_->data(), weight_.value.data(), dz_.data(), in_, dx_.data(),
                              weight_.grad.data());
        T* gb = bias_.grad.data();
        for (size_type j = 0; j < out_; ++j)
            for (size_type q = cols_.ptr[j]; q < cols_.ptr[j + 1]; ++q) gb[j] += dz_[cols_.pos[q]];
        return dx_;
    }

    /// forward_at, a loss gradient and backward_at in one pass over the output units of `pattern`:
    /// for unit j, its outputs at column j's entries go to pred[p] (p in the pattern's CSR order);
    /// grad(r, p, pred[p]) returns dL/d(output p) for batch row r; then dx[r] += g w_j (with w_j before
    /// any update) and w_j's and b_j's gradients, times f'. Without RowUpdates the gradients are
    /// ADDED into the grads; with them the rows are updated in place as soon as each is done (rows
    /// without entries as nn/update.hpp says; the bias after the pass). Returns dx (batch x in).
    /// @pre x is pattern.rows() x in (alive until the call returns); pred has pattern.nnz() elements.
    /// @throws InvalidArgument on mismatched shapes.
    template <class Grad>
    const Matrix<T>& forward_backward_at(const Matrix<T>& x, const SparseBatch<T>& pattern, Grad&& grad, T* pred,
                                         const RowUpdate<T>* uw = nullptr, const RowUpdate<T>* ub = nullptr) {
        check_input("forward_backward_at", x, pattern);
        const size_type n = x.shape(0), h = in_;
        cols_.build(pattern);
        x_ = nullptr;  // backward_at does not follow this pass
        ye_.resize({0});
        ensure_shape(dx_, n, h);
        std::fill(dx_.begin(), dx_.end(), T(0));
        if (grow_.size() < h) grow_.resize(h);
        if (coef_.size() < n) coef_.resize(n);
        const T* code = x.data();
        T* da = dx_.data();
        T* pw = weight_.value.data();
        T* gw = weight_.grad.data();
        const T* bl = bias_.value.data();
        T* gb = bias_.grad.data();
        if (ub) std::fill(gb, gb + out_, T(0));  // the fused path does not use what grad held
        const bool identity = act_ == ActivationKind::identity;
        // identity output on the fused path with register tiles: the row's gradient never leaves registers
        const bool tiles = uw && identity && kernels::avx512_tiles<T>(h);
        UntouchedRuns<T> untouched(uw, pw, h);
        for (size_type j = 0; j < out_; ++j) {
            const size_type q0 = cols_.ptr[j], cnt = cols_.ptr[j + 1] - q0;
            if (cnt == 0) continue;
            untouched.touched(j);
            const kernels::kindex* rows = cols_.row.data() + q0;
            const size_type* pos = cols_.pos.data() + q0;
            T* wj = pw + j * h;
            T* d = coef_.data();
            kernels::gathered_dots(code, rows, cnt, static_cast<const T*>(wj), h, d);
            T sb = T(0);
            if (identity) {
                for (size_type t = 0; t < cnt; ++t) {
                    const T p = bl[j] + d[t];
                    pred[pos[t]] = p;
                    d[t] = grad(static_cast<size_type>(rows[t]), pos[t], p);
                    sb += d[t];
                }
            } else {
                with_activation(act_, [&](auto fn) {
                    for (size_type t = 0; t < cnt; ++t) {
                        const T p = fn.value(bl[j] + d[t]);
                        pred[pos[t]] = p;
                        d[t] = grad(static_cast<size_type>(rows[t]), pos[t], p) * fn.derivative(p);
                        sb += d[t];
                    }
                });
            }
            gb[j] += sb;
            if (tiles) {
                kernels::gathered_grad_adam(static_cast<const T*>(d), rows, cnt, code, da, wj, uw->m + j * h,
                                            uw->v + j * h, h, uw->step, grow_.data());
            } else if (uw) {
                std::fill(grow_.begin(), grow_.begin() + static_cast<std::ptrdiff_t>(h), T(0));
                kernels::gathered_grad(static_cast<const T*>(d), rows, cnt, code, grow_.data(), da,
                                       static_cast<const T*>(wj), h);
                uw->apply(pw, grow_.data(), j * h, (j + 1) * h);
            } else {
                kernels::gathered_grad(static_cast<const T*>(d), rows, cnt, code, gw + j * h, da,
                                       static_cast<const T*>(wj), h);
            }
        }
        untouched.finish(out_);
        if (ub) ub->apply(bias_.value.data(), gb, 0, out_);
        return dx_;
    }

    /// Output unit j for one input row x (in_features() values), after the activation.
    T infer_one(const T* x, size_type j) const {
        const T z = bias_.value.data()[j] + kernels::dot(x, weight_.value.data() + j * in_, in_);
        T out = z;
        with_activation(act_, [&](auto fn) { out = fn.value(z); });
        return out;
    }

    /// Every output for `rows` input rows x (rows x in) into out (rows x out), after the activation.
    void infer_all(const T* x, size_type rows, T* out) const {
        const T* b = bias_.value.data();
        for (size_type r = 0; r < rows; ++r) std::copy(b, b + out_, out + r * out_);
        gemm(Trans::no, Trans::yes, rows, out_, in_, T(1), x, in_, weight_.value.data(), in_, T(1), out, out_);
        apply_activation(act_, out, rows * out_);
    }

    /// Output unit j for `rows` input rows x (rows x in) into out[0..rows), after the activation.
    void infer_unit(const T* x, size_type rows, size_type j, T* out) const {
        std::fill(out, out + rows, bias_.value.data()[j]);
        gemm(Trans::no, Trans::yes, rows, 1, in_, T(1), x, in_, weight_.value.data() + j * in_, in_, T(1), out, 1);
        apply_activation(act_, out, rows);
    }

    /// weight, then bias.
    ParameterList<T> parameters() { return {&weight_, &bias_}; }
    void set_mode(Mode) noexcept {}

    size_type in_features() const noexcept { return in_; }
    size_type out_features() const noexcept { return out_; }
    ActivationKind activation() const noexcept { return act_; }
    Parameter<T>& weight() noexcept { return weight_; }
    const Parameter<T>& weight() const noexcept { return weight_; }
    Parameter<T>& bias() noexcept { return bias_; }
    const Parameter<T>& bias() const noexcept { return bias_; }

private:
    void check_input(const char* fn, const Matrix<T>& x, const SparseBatch<T>& pattern) const {
        check_arg(x.shape(1) == in_, "SparseOutputDense::", fn, ": input has ", x.shape(1),
                  " columns, expected in_features = ", in_);
        check_arg(pattern.rows() == x.shape(0), "SparseOutputDense::", fn, ": pattern has ", pattern.rows(),
                  " rows, input has ", x.shape(0));
        check_arg(pattern.cols() == out_, "SparseOutputDense::", fn, ": pattern has ", pattern.cols(),
                  " columns, expected out_features = ", out_);
    }

    size_type in_ = 0, out_ = 0;
    ActivationKind act_ = ActivationKind::identity;
    Parameter<T> weight_, bias_;
    kernels::ColumnIndex cols_;
    const Matrix<T>* x_ = nullptr;  // forward_at's input (the caller's; see backward_at's @pre)
    Vector<T> ye_, dz_;
    Matrix<T> dx_;
    std::vector<T> grow_, coef_;
};

}  // namespace cfnet::nn
