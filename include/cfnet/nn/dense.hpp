#pragma once
/// @file nn/dense.hpp
/// Dense<T>: the fully connected layer y = f(x W + b) for batches of row vectors, with an optional
/// fused activation f (identity by default: the plain affine layer) and the layer contract of
/// nn/layer.hpp. Its sparse relatives are nn/sparse_input_dense.hpp and nn/sparse_output_dense.hpp.
///
/// - forward keeps a reference to the caller's input (no copy): x must stay alive and unchanged
///   until backward. infer(x, y) is the same computation without caching anything (const);
///   infer_dot(x, wm, out) fuses it with a following single-output layer's dot product and
///   infer_partial_dot(x, first, out) adds a slice of a single-output layer's input (scoring).
/// - With f = ReLU, a bias and the in_out layout, the product, bias and ReLU are one kernel
///   (kernels::dense_bias_relu: register tiles where the CPU allows, else a GEMM and one pass).
/// - backward(dy, uw, ub) takes the optimizer protocol's RowUpdates (nn/update.hpp): with them the
///   weights and bias are updated in place inside the backward pass (where register tiles apply, the
///   weight gradient is never written to memory: kernels::dense_grad_adam) instead of accumulating
///   Parameter::grad; dx is always computed with the weights before the update.
///
/// **Weight layout.** W is stored in x out (WeightLayout::in_out, Keras', default) or out x in
/// (out_in, PyTorch's); both compute the same (BLAS transposes for free; the fused kernels need
/// in_out) and hold the same logical weights for the same seed (drawn in in x out order). Use
/// weight_at(i, o) for layout-independent access.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/kernels/dense.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cfnet::nn {

/// How Dense stores its weight matrix (see the file comment).
enum class WeightLayout {
    in_out,  ///< W is in x out (Keras)
    out_in   ///< W is out x in (PyTorch)
};

/// Fully connected layer y = f(x W + b). Parameters, in order: "weight" (in x out or out x in, see
/// WeightLayout), then "bias" (1 x out) when the layer has one. The bias starts at zero.
template <class T = float>
class Dense {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @param in, out     numbers of input and output features (both > 0)
    /// @param rng         draws the initial weights
    /// @param init        weight initialiser, called with fan_in = in, fan_out = out
    /// @param bias        whether the layer adds a bias
    /// @param layout      storage of W (see the file comment)
    /// @param activation  f, applied after the bias (identity: none)
    /// @throws InvalidArgument if in or out is 0.
    Dense(size_type in, size_type out, Rng& rng, const Initializer& init = init::glorot_uniform(), bool bias = true,
          WeightLayout layout = WeightLayout::in_out, ActivationKind activation = ActivationKind::identity)
        : in_(in), out_(out), has_bias_(bias), layout_(layout), act_(activation) {
        check_arg(in > 0 && out > 0, "Dense: in and out must be > 0, got in = ", in, ", out = ", out);
        Matrix<T> w = Matrix<T>::from_shape({in, out});
        init(w, in, out, rng);
        if (layout == WeightLayout::in_out) {
            weight_ = Parameter<T>("weight", in, out);
            weight_.value = std::move(w);
        } else {
            weight_ = Parameter<T>("weight", out, in);
            for (size_type i = 0; i < in; ++i)
                for (size_type o = 0; o < out; ++o) weight_.value(o, i) = w(i, o);
        }
        if (bias) bias_ = Parameter<T>("bias", 1, out);
    }

    // --- the layer contract --------------------------------------------------------------------

    /// y = f(x W + b). Keeps a reference to x for backward (x must outlive it, unchanged).
    /// @pre x.shape(1) == in_features(). @throws InvalidArgument otherwise.
    const Matrix<T>& forward(const Matrix<T>& x) {
        compute(x, y_);
        x_ = &x;
        return y_;
    }

    /// forward without caching anything (const: concurrent calls are safe), into y.
    void infer(const Matrix<T>& x, Matrix<T>& y) const { compute(x, y); }

    /// out[r] += f(x[r] W + b) . wm for every row r of x (wm: out_features() values): this layer
    /// fused with a following single-output layer's dot product (scoring). With f = ReLU, a bias and
    /// the in_out layout this is kernels::dense_bias_relu_dot (register tiles where the CPU allows:
    /// the activations are never written); otherwise infer into `scratch` and a dot per row.
    /// `scratch` is resized as needed (callers reuse it). Const: concurrent calls are safe.
    /// @pre x.shape(1) == in_features(). @throws InvalidArgument otherwise.
    void infer_dot(const Matrix<T>& x, const T* wm, T* out, Matrix<T>& scratch) const {
        check_arg(x.shape(1) == in_, "Dense::infer_dot: input has ", x.shape(1), " columns, expected in_features = ",
                  in_);
        const size_type n = x.shape(0);
        if (act_ == ActivationKind::relu && has_bias_ && layout_ == WeightLayout::in_out) {
            if (kernels::dense_bias_relu_dot_scratch<T>(n, out_) > 0) ensure_shape(scratch, n, out_);
            kernels::dense_bias_relu_dot(x.data(), n, in_, weight_.value.data(), out_, bias_.value.data(), wm, out,
                                         scratch.data());
            return;
        }
        compute(x, scratch);
        kernels::dot_rows(static_cast<const T*>(scratch.data()), static_cast<const T*>(nullptr), wm, out, n, out_);
    }

    /// out[r] += x[r] . W[first .. first + x.shape(1), 0] for every row r: the contribution of input
    /// features [first, first + x.shape(1)) to this single-output layer's pre-activation (no bias;
    /// summed as kernels::dot_rows). Lets a scorer add the parts of a concatenated input one by one
    /// without building the concatenation.
    /// @pre out_features() == 1, in_out layout, first + x.shape(1) <= in_features().
    /// @throws InvalidArgument otherwise.
    void infer_partial_dot(const Matrix<T>& x, size_type first, T* out) const {
        check_arg(out_ == 1 && layout_ == WeightLayout::in_out && first + x.shape(1) <= in_,
                  "Dense::infer_partial_dot: needs a single-output in_out layer and features [", first, ", ",
                  first + x.shape(1), ") within its ", in_, " inputs");
        kernels::dot_rows(x.data(), static_cast<const T*>(nullptr), weight_.value.data() + first, out, x.shape(0),
                          x.shape(1));
    }

    /// dz = dy * f'(y); dx = dz W^T. Without RowUpdates, ADDS x^T dz to the weight gradient and the
    /// column sums of dz to the bias gradient; with them (nn/update.hpp) updates the weights and the
    /// bias in place instead (dx from the weights before the update).
    /// @pre follows forward(x), with x still alive and unchanged; dy is batch x out.
    /// @throws InvalidArgument otherwise.
    const Matrix<T>& backward(const Matrix<T>& dy, const RowUpdate<T>* uw = nullptr, const RowUpdate<T>* ub = nullptr) {
        check_arg(x_ != nullptr, "Dense::backward: must follow forward");
        const size_type n = x_->shape(0);
        check_arg(dy.shape(0) == n && dy.shape(1) == out_, "Dense::backward: dy is ", dy.shape(0), " x ", dy.shape(1),
                  ", expected ", n, " x ", out_);
        const T* dz = dy.data();
        if (act_ != ActivationKind::identity) {
            ensure_shape(dz_, n, out_);
            activation_backward(act_, y_.data(), dy.data(), dz_.data(), n * out_);
            dz = dz_.data();
        }
        if (has_bias_) {
            T* gb = bias_.grad.data();
            if (ub) std::fill(gb, gb + out_, T(0));
            for (size_type r = 0; r < n; ++r)
                for (size_type o = 0; o < out_; ++o) gb[o] += dz[r * out_ + o];
        }
        ensure_shape(dx_, n, in_);
        const T* w = weight_.value.data();
        T* gw = weight_.grad.data();
        if (layout_ == WeightLayout::in_out && uw && kernels::avx512_tiles<T>(out_)) {
            // dx with the old W, then W's gradient and update, both in register tiles: no packing, no
            // gradient matrix written and read back
            const size_type need = kernels::dense_input_grad_scratch(n, out_, in_);
            if (scratch_.size() < need) scratch_.resize(need);
            kernels::dense_input_grad(dz, n, out_, w, in_, dx_.data(), scratch_.data());
            if (scratch_.size() < out_) scratch_.resize(out_);
            kernels::dense_grad_adam(x_->data(), n, in_, dz, out_, weight_.value.data(), uw->m, uw->v, uw->step,
                                     scratch_.data());
        } else {
            const T beta = uw ? T(0) : T(1);
            if (layout_ == WeightLayout::in_out) {
                if (n > 0) gemm(Trans::yes, Trans::no, in_, out_, n, T(1), x_->data(), in_, dz, out_, beta, gw, out_);
                gemm(Trans::no, Trans::yes, n, in_, out_, T(1), dz, out_, w, out_, T(0), dx_.data(), in_);
            } else {
                if (n > 0) gemm(Trans::yes, Trans::no, out_, in_, n, T(1), dz, out_, x_->data(), in_, beta, gw, in_);
                gemm(Trans::no, Trans::no, n, in_, out_, T(1), dz, out_, w, in_, T(0), dx_.data(), in_);
            }
            if (uw) {
                if (n == 0) std::fill(gw, gw + weight_.size(), T(0));
                uw->apply(weight_.value.data(), gw, 0, weight_.size());
            }
        }
        if (ub && has_bias_) ub->apply(bias_.value.data(), bias_.grad.data(), 0, out_);
        return dx_;
    }

    /// weight, then bias (if any).
    ParameterList<T> parameters() {
        if (has_bias_) return {&weight_, &bias_};
        return {&weight_};
    }

    /// Dense behaves the same in both modes.
    void set_mode(Mode) noexcept {}

    // --- accessors -------------------------------------------------------------------------------

    size_type in_features() const noexcept { return in_; }
    size_type out_features() const noexcept { return out_; }
    bool has_bias() const noexcept { return has_bias_; }
    WeightLayout layout() const noexcept { return layout_; }
    ActivationKind activation() const noexcept { return act_; }
    Parameter<T>& weight() noexcept { return weight_; }
    const Parameter<T>& weight() const noexcept { return weight_; }
    /// @throws InvalidArgument if the layer has no bias.
    Parameter<T>& bias() {
        check_arg(has_bias_, "Dense::bias: the layer has no bias");
        return bias_;
    }
    const Parameter<T>& bias() const {
        check_arg(has_bias_, "Dense::bias: the layer has no bias");
        return bias_;
    }
    /// The weight from input feature i to output unit o, whatever the layout. @pre i < in, o < out.
    T& weight_at(size_type i, size_type o) {
        CFNET_ASSERT(i < in_ && o < out_);
        return layout_ == WeightLayout::in_out ? weight_.value(i, o) : weight_.value(o, i);
    }
    T weight_at(size_type i, size_type o) const {
        CFNET_ASSERT(i < in_ && o < out_);
        return layout_ == WeightLayout::in_out ? weight_.value(i, o) : weight_.value(o, i);
    }

private:
    void compute(const Matrix<T>& x, Matrix<T>& y) const {
        check_arg(x.shape(1) == in_, "Dense::forward: input has ", x.shape(1), " columns, expected in_features = ", in_);
        const size_type n = x.shape(0);
        ensure_shape(y, n, out_);
        const T* w = weight_.value.data();
        if (act_ == ActivationKind::relu && has_bias_ && layout_ == WeightLayout::in_out) {
            kernels::dense_bias_relu(x.data(), n, in_, w, out_, bias_.value.data(), y.data());
            return;
        }
        T beta = T(0);
        if (has_bias_) {
            const T* b = bias_.value.data();
            for (size_type r = 0; r < n; ++r) std::copy(b, b + out_, y.data() + r * out_);
            beta = T(1);
        }
        if (layout_ == WeightLayout::in_out)
            gemm(Trans::no, Trans::no, n, out_, in_, T(1), x.data(), in_, w, out_, beta, y.data(), out_);
        else
            gemm(Trans::no, Trans::yes, n, out_, in_, T(1), x.data(), in_, w, in_, beta, y.data(), out_);
        apply_activation(act_, y.data(), n * out_);
    }

    size_type in_, out_;
    bool has_bias_;
    WeightLayout layout_;
    ActivationKind act_;
    Parameter<T> weight_;
    Parameter<T> bias_;

    const Matrix<T>* x_ = nullptr;  // forward's input (the caller's; see backward's @pre)
    Matrix<T> y_;
    Matrix<T> dz_;
    Matrix<T> dx_;
    std::vector<T> scratch_;  // kernels::dense_input_grad's transposed operands; a gradient row
};

static_assert(is_layer_v<Dense<float>> && is_layer_v<Dense<double>>);

}  // namespace cfnet::nn
