#pragma once
/// @file nn/sparse_input_dense.hpp
/// SparseInputDense<T>: y = f(x W + b) for a sparse input batch x (entries not stored are zeros):
/// the autoencoder's first layer, whose input is a batch of rating vectors ~94% empty. The product
/// is O(nnz * out) and exact (the same sums as the dense product over the stored entries); its
/// weight gradient touches only the rows of W of the input units present in the batch.
///
/// W is in x out, one contiguous row per input unit (Keras' layout), so each stored entry reads one
/// row. The forward pass runs kernels::sparse_times_dense on the batch by columns (where AVX-512
/// register tiles apply each touched row of W is read once per batch, in column blocks of y that
/// stay in L1); the backward pass builds each touched row's gradient from the batch rows that use it
/// (kernels::gathered_grad) and, on the fused path (nn/update.hpp), feeds it straight into Adam
/// (kernels::gathered_grad_adam) while the row is in cache.
///
/// Parameters: "weight" (in x out), "bias" (1 x out, zeros at start).
/// Not a layer in the sense of nn/layer.hpp (its input is a SparseBatch and it has no input
/// gradient: its input is data); same conventions otherwise.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/kernels/sparse.hpp>
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
class SparseInputDense {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// A sparse batch by columns, as the kernels read it: `cols` (ColumnIndex), the values in column
    /// order and the columns with entries (increasing). Built by forward (and by infer, in the
    /// caller's copy), reused by backward.
    struct Columns {
        kernels::ColumnIndex index;
        std::vector<T> values;
        std::vector<kernels::kindex> nonempty;

        void build(const SparseBatch<T>& x) {
            index.build(x);
            const T* val = x.values().data();
            values.resize(index.pos.size());
            for (size_type q = 0; q < index.pos.size(); ++q) values[q] = val[index.pos[q]];
            nonempty.clear();
            for (size_type i = 0; i + 1 < index.ptr.size(); ++i)
                if (index.ptr[i] != index.ptr[i + 1]) nonempty.push_back(static_cast<kernels::kindex>(i));
        }
    };

    SparseInputDense() = default;

    /// Draws W with `init` (fan_in = in, fan_out = out) in in x out order, as Dense does.
    /// @throws InvalidArgument if in or out is 0.
    SparseInputDense(size_type in, size_type out, Rng& rng, const Initializer& init = init::glorot_uniform(),
                     ActivationKind activation = ActivationKind::identity)
        : in_(in), out_(out), act_(activation), weight_("weight", in, out), bias_("bias", 1, out) {
        check_arg(in > 0 && out > 0, "SparseInputDense: in and out must be > 0, got in = ", in, ", out = ", out);
        init(weight_.value, in, out, rng);
    }

    /// y = f(x W + b); caches x by columns and y for backward. The reference stays valid until the
    /// next forward. @throws InvalidArgument if x.cols() != in_features().
    const Matrix<T>& forward(const SparseBatch<T>& x) {
        compute(x, cols_, y_);
        rows_ = x.rows();
        return y_;
    }

    /// forward without caching anything (const: concurrent calls are safe), into the caller's
    /// `scratch` and y. The same values as forward.
    void infer(const SparseBatch<T>& x, Columns& scratch, Matrix<T>& y) const { compute(x, scratch, y); }

    /// dz = dy * f'(y); the bias and weight gradients of the last forward's batch (no input
    /// gradient). Without RowUpdates they are ADDED into the parameters' grads (only the rows of the
    /// input units present in the batch change); with them the parameters are updated in place
    /// (nn/update.hpp), rows without a gradient included unless lazy.
    /// @pre follows forward; dy is batch x out. @throws InvalidArgument otherwise.
    void backward(const Matrix<T>& dy, const RowUpdate<T>* uw = nullptr, const RowUpdate<T>* ub = nullptr) {
        check_arg(dy.shape(0) == rows_ && dy.shape(1) == out_ && y_.shape(0) == rows_, "SparseInputDense::backward: dy is ",
                  dy.shape(0), " x ", dy.shape(1), ", expected ", rows_, " x ", out_, " (after forward)");
        const size_type n = rows_;
        if (dz_.shape() != dy.shape()) dz_.resize(dy.shape());
        activation_backward(act_, y_.data(), dy.data(), dz_.data(), n * out_);
        const T* dz = dz_.data();
        T* gb = bias_.grad.data();
        if (ub) std::fill(gb, gb + out_, T(0));
        for (size_type r = 0; r < n; ++r)
            for (size_type o = 0; o < out_; ++o) gb[o] += dz[r * out_ + o];

        const auto& ic = cols_.index;
        T* pw = weight_.value.data();
        T* gw = weight_.grad.data();
        if (grow_.size() < out_) grow_.resize(out_);
        const bool tiles = uw && kernels::avx512_tiles<T>(out_);
        UntouchedRuns<T> untouched(uw, pw, out_);
        for (const auto i : cols_.nonempty) {
            untouched.touched(i);
            const size_type q0 = ic.ptr[i], cnt = ic.ptr[i + 1] - q0;
            const T* coef = cols_.values.data() + q0;
            const kernels::kindex* rows = ic.row.data() + q0;
            if (tiles) {  // the row's gradient in registers, straight into Adam
                kernels::gathered_grad_adam(coef, rows, cnt, dz, static_cast<T*>(nullptr), pw + i * out_,
                                            uw->m + i * out_, uw->v + i * out_, out_, uw->step, grow_.data());
            } else if (uw) {
                std::fill(grow_.begin(), grow_.begin() + static_cast<std::ptrdiff_t>(out_), T(0));
                kernels::gathered_grad(coef, rows, cnt, dz, grow_.data(), static_cast<T*>(nullptr),
                                       static_cast<const T*>(nullptr), out_);
                uw->apply(pw, grow_.data(), i * out_, (i + 1) * out_);
            } else {
                kernels::gathered_grad(coef, rows, cnt, dz, gw + i * out_, static_cast<T*>(nullptr),
                                       static_cast<const T*>(nullptr), out_);
            }
        }
        untouched.finish(in_);
        if (ub) ub->apply(bias_.value.data(), gb, 0, out_);
    }

    /// weight, then bias.
    ParameterList<T> parameters() { return {&weight_, &bias_}; }
    void set_mode(Mode) noexcept {}

    /// The input units present in the last forward's batch, increasing (the rows of W its backward
    /// pass touches).
    const std::vector<kernels::kindex>& touched() const noexcept { return cols_.nonempty; }

    size_type in_features() const noexcept { return in_; }
    size_type out_features() const noexcept { return out_; }
    ActivationKind activation() const noexcept { return act_; }
    Parameter<T>& weight() noexcept { return weight_; }
    const Parameter<T>& weight() const noexcept { return weight_; }
    Parameter<T>& bias() noexcept { return bias_; }
    const Parameter<T>& bias() const noexcept { return bias_; }

private:
    void compute(const SparseBatch<T>& x, Columns& c, Matrix<T>& y) const {
        check_arg(x.cols() == in_, "SparseInputDense::forward: input has ", x.cols(), " columns, expected in_features = ",
                  in_);
        const size_type n = x.rows();
        ensure_shape(y, n, out_);
        const T* b = bias_.value.data();
        for (size_type r = 0; r < n; ++r) std::copy(b, b + out_, y.data() + r * out_);
        c.build(x);
        kernels::sparse_times_dense(x.row_ptr().data(), x.indices().data(), x.values().data(), n, c.index,
                                    c.values.data(), c.nonempty, weight_.value.data(), out_, y.data());
        apply_activation(act_, y.data(), n * out_);
    }

    size_type in_ = 0, out_ = 0;
    ActivationKind act_ = ActivationKind::identity;
    Parameter<T> weight_, bias_;
    Columns cols_;
    size_type rows_ = 0;
    Matrix<T> y_, dz_;
    std::vector<T> grow_;  // one weight row's gradient (fused path)
};

}  // namespace cfnet::nn
