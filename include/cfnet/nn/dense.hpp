#pragma once
/// @file nn/dense.hpp
/// Dense<T>: the fully connected layer y = x W + b, with a dense path (the layer contract of
/// nn/layer.hpp, through BLAS) and two exact sparse paths for the autoencoder (docs/concepts.md):
///
/// - sparse input:  forward_sparse(SparseBatch) / backward_sparse(dy), O(nnz * out);
/// - sparse output: forward_at(x, pattern) / backward_at(d_entries), O(entries * in).
///
/// **Weight layout.** Both sparse paths are fast only when the weights of one *sparse-side* unit
/// are contiguous: for sparse input that is the row of W belonging to one input feature (an
/// in x out matrix, Keras' layout); for sparse output it is the weights of one output unit (an
/// out x in matrix, PyTorch's layout). The autoencoder's first layer is sparse on its input and
/// its last layer on its output, so no single fixed layout serves both: Dense takes the layout as
/// a constructor option (WeightLayout::in_out by default). The dense path is equally fast in
/// either layout (BLAS transposes for free); each sparse path is exact in either layout but fast
/// only in its own (in_out for forward_sparse, out_in for forward_at). Use weight_at(i, o) for
/// layout-independent access. For the same seed and initializer both layouts hold the same
/// logical weights (drawn in in x out order).
///
/// **Kernels.** The sparse paths run kernels/sparse.hpp (csr_times_dense, csr_transpose_times_dense,
/// column_dots, column_grads: plain references with AVX2 / AVX-512 versions chosen at run time);
/// the dense path is BLAS.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/kernels/sparse.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace cfnet::nn {

/// How Dense stores its weight matrix (see the file comment).
enum class WeightLayout {
    in_out,  ///< W is in x out (Keras); fast forward_sparse / backward_sparse
    out_in   ///< W is out x in (PyTorch); fast forward_at / backward_at
};

namespace detail {

template <class T>
void ensure_shape(Matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape(0) != rows || m.shape(1) != cols) m.resize({rows, cols});
}

}  // namespace detail

/// Fully connected layer y = x W + b for batches of row vectors.
/// Parameters, in order: "weight" (in x out or out x in, see WeightLayout), then "bias" (1 x out)
/// when the layer has one. The bias starts at zero.
template <class T = float>
class Dense {
public:
    using value_type = T;
    using size_type = std::size_t;
    using index_type = nn::index_type;

    /// @param in, out  numbers of input and output features (both > 0)
    /// @param rng      draws the initial weights
    /// @param init     weight initialiser, called with fan_in = in, fan_out = out
    /// @param bias     whether the layer adds a bias
    /// @param layout   storage of W (see the file comment)
    /// @throws InvalidArgument if in or out is 0.
    Dense(size_type in, size_type out, Rng& rng, const Initializer& init = init::glorot_uniform(), bool bias = true,
          WeightLayout layout = WeightLayout::in_out)
        : in_(in), out_(out), has_bias_(bias), layout_(layout) {
        check_arg(in > 0 && out > 0, "Dense: in and out must be > 0, got in = ", in, ", out = ", out);
        Matrix<T> w = Matrix<T>::from_shape({in, out});
        init(w, in, out, rng);
        if (layout == WeightLayout::in_out) {
            weight_ = Parameter<T>("weight", in, out);
            weight_.value = w;
        } else {
            weight_ = Parameter<T>("weight", out, in);
            for (size_type i = 0; i < in; ++i)
                for (size_type o = 0; o < out; ++o) weight_.value(o, i) = w(i, o);
        }
        if (bias) bias_ = Parameter<T>("bias", 1, out);
    }

    // --- the layer contract --------------------------------------------------------------------

    /// y = x W + b. @pre x.shape(1) == in_features(). @throws InvalidArgument otherwise.
    const Matrix<T>& forward(const Matrix<T>& x) {
        check_arg(x.shape(1) == in_, "Dense::forward: input has ", x.shape(1), " columns, expected in_features = ", in_);
        const size_type n = x.shape(0);
        detail::ensure_shape(x_, n, in_);
        std::copy(x.data(), x.data() + x.size(), x_.data());
        detail::ensure_shape(y_, n, out_);
        const T beta = init_rows_with_bias(y_);
        const T* w = weight_.value.data();
        if (layout_ == WeightLayout::in_out)
            gemm(Trans::no, Trans::no, n, out_, in_, T(1), x_.data(), in_, w, out_, beta, y_.data(), out_);
        else
            gemm(Trans::no, Trans::yes, n, out_, in_, T(1), x_.data(), in_, w, in_, beta, y_.data(), out_);
        set_last(Pass::dense);
        return y_;
    }

    /// dx = dy W^T; adds x^T dy to the weight gradient and the column sums of dy to the bias gradient.
    /// @pre follows forward(x); dy is batch x out. @throws InvalidArgument otherwise.
    const Matrix<T>& backward(const Matrix<T>& dy) {
        check_pass(Pass::dense, "backward", "forward");
        const size_type n = x_.shape(0);
        check_dy(dy, n, "backward");
        detail::ensure_shape(dx_, n, in_);
        const T* w = weight_.value.data();
        T* gw = weight_.grad.data();
        if (layout_ == WeightLayout::in_out) {
            gemm(Trans::no, Trans::yes, n, in_, out_, T(1), dy.data(), out_, w, out_, T(0), dx_.data(), in_);
            if (n > 0) gemm(Trans::yes, Trans::no, in_, out_, n, T(1), x_.data(), in_, dy.data(), out_, T(1), gw, out_);
        } else {
            gemm(Trans::no, Trans::no, n, in_, out_, T(1), dy.data(), out_, w, in_, T(0), dx_.data(), in_);
            if (n > 0) gemm(Trans::yes, Trans::no, out_, in_, n, T(1), dy.data(), out_, x_.data(), in_, T(1), gw, in_);
        }
        add_bias_grad(dy);
        return dx_;
    }

    /// weight, then bias (if any).
    ParameterList<T> parameters() {
        if (has_bias_) return {&weight_, &bias_};
        return {&weight_};
    }

    /// Dense behaves the same in both modes.
    void set_mode(Mode) noexcept {}

    // --- sparse input ----------------------------------------------------------------------------

    /// y = x W + b for a sparse x (entries not stored are zeros), in O(nnz * out): the result equals
    /// forward(x.to_dense()) up to rounding. Fast in WeightLayout::in_out.
    /// @pre x.cols() == in_features(). @throws InvalidArgument otherwise.
    const Matrix<T>& forward_sparse(const SparseBatch<T>& x) {
        check_arg(x.cols() == in_, "Dense::forward_sparse: input has ", x.cols(), " columns, expected in_features = ", in_);
        xs_ = x;  // reuses storage once grown
        const size_type n = x.rows();
        detail::ensure_shape(y_, n, out_);
        init_rows_with_bias(y_);
        const auto& rp = xs_.row_ptr();
        const index_type* idx = xs_.indices().data();
        const T* val = xs_.values().data();
        const T* w = weight_.value.data();
        if (layout_ == WeightLayout::in_out) {
            kernels::csr_times_dense(rp.data(), idx, val, n, w, out_, y_.data());
        } else {
            for (size_type r = 0; r < n; ++r) {
                T* yr = y_.data() + r * out_;
                for (size_type p = rp[r]; p < rp[r + 1]; ++p) {
                    const T v = val[p];
                    const T* wk = w + idx[p];
                    for (size_type o = 0; o < out_; ++o) yr[o] += v * wk[o * in_];
                }
            }
        }
        set_last(Pass::sparse_input);
        return y_;
    }

    /// Adds x^T dy to the weight gradient, touching only the weights of the input features stored in
    /// the batch (see touched()), and the column sums of dy to the bias gradient. No input gradient
    /// (the input is data).
    /// @pre follows forward_sparse(x); dy is x.rows() x out. @throws InvalidArgument otherwise.
    void backward_sparse(const Matrix<T>& dy) {
        check_pass(Pass::sparse_input, "backward_sparse", "forward_sparse");
        const size_type n = xs_.rows();
        check_dy(dy, n, "backward_sparse");
        const auto& rp = xs_.row_ptr();
        const index_type* idx = xs_.indices().data();
        const T* val = xs_.values().data();
        T* gw = weight_.grad.data();
        if (layout_ == WeightLayout::in_out) {
            kernels::csr_transpose_times_dense(rp.data(), idx, val, n, dy.data(), out_, gw);
        } else {
            for (size_type r = 0; r < n; ++r) {
                const T* dyr = dy.data() + r * out_;
                for (size_type p = rp[r]; p < rp[r + 1]; ++p) {
                    T* gk = gw + idx[p];
                    const T v = val[p];
                    for (size_type o = 0; o < out_; ++o) gk[o * in_] += v * dyr[o];
                }
            }
        }
        add_bias_grad(dy);
    }

    // --- sparse output ---------------------------------------------------------------------------

    /// The outputs (x W + b)(r, c) only at the entries of `pattern` (its values are not read), in
    /// O(pattern.nnz() * in). Entry p of the result belongs to pattern.indices()[p] in CSR order and
    /// equals forward(x)(r, c) up to rounding. Fast in WeightLayout::out_in.
    /// @pre x.shape(1) == in_features(), pattern.rows() == x.shape(0), pattern.cols() == out_features().
    /// @throws InvalidArgument otherwise.
    const Vector<T>& forward_at(const Matrix<T>& x, const SparseBatch<T>& pattern) {
        check_arg(x.shape(1) == in_, "Dense::forward_at: input has ", x.shape(1), " columns, expected in_features = ", in_);
        check_arg(pattern.rows() == x.shape(0), "Dense::forward_at: pattern has ", pattern.rows(), " rows, input has ",
                  x.shape(0));
        check_arg(pattern.cols() == out_, "Dense::forward_at: pattern has ", pattern.cols(),
                  " columns, expected out_features = ", out_);
        const size_type n = x.shape(0);
        detail::ensure_shape(x_, n, in_);
        std::copy(x.data(), x.data() + x.size(), x_.data());
        pattern_ = pattern;
        const size_type nnz = pattern.nnz();
        if (ye_.size() != nnz) ye_.resize({nnz});
        const auto& rp = pattern_.row_ptr();
        const index_type* idx = pattern_.indices().data();
        const T* w = weight_.value.data();
        const T* b = has_bias_ ? bias_.value.data() : nullptr;
        T* ye = ye_.data();
        if (layout_ == WeightLayout::out_in) {
            // Column by column: each output unit's weights are read once for all rows that need them.
            columns_.build(pattern_);
            kernels::column_dots(columns_, out_, x_.data(), w, b, in_, ye);
        } else {
            for (size_type r = 0; r < n; ++r) {
                const T* xr = x_.data() + r * in_;
                const size_type begin = rp[r], end = rp[r + 1];
                for (size_type p = begin; p < end; ++p) ye[p] = T(0);
                for (size_type k = 0; k < in_; ++k) {
                    const T xv = xr[k];
                    const T* wk = w + k * out_;
                    for (size_type p = begin; p < end; ++p) ye[p] += xv * wk[idx[p]];
                }
                if (b)
                    for (size_type p = begin; p < end; ++p) ye[p] += b[idx[p]];
            }
        }
        set_last(Pass::sparse_output);
        return ye_;
    }

    /// Given d_entries = dL/d(output entry p) (aligned with forward_at's result), returns dx
    /// (batch x in, dense) and adds the weight and bias gradients, touching only the output units
    /// present in the pattern (see touched()). Equals backward(D) for the dense D holding d_entries
    /// at the pattern and zeros elsewhere, up to rounding.
    /// @pre follows forward_at(x, pattern); d_entries.size() == pattern.nnz(). @throws InvalidArgument otherwise.
    const Matrix<T>& backward_at(const Vector<T>& d_entries) {
        check_pass(Pass::sparse_output, "backward_at", "forward_at");
        check_arg(d_entries.size() == pattern_.nnz(), "Dense::backward_at: ", d_entries.size(),
                  " entry gradients, but the pattern has ", pattern_.nnz(), " entries");
        const size_type n = x_.shape(0);
        detail::ensure_shape(dx_, n, in_);
        std::fill(dx_.begin(), dx_.end(), T(0));
        const auto& rp = pattern_.row_ptr();
        const index_type* idx = pattern_.indices().data();
        const T* w = weight_.value.data();
        const T* d = d_entries.data();
        T* gw = weight_.grad.data();
        if (layout_ == WeightLayout::out_in) {
            // Column by column (forward_at built the index): unit j's weight-gradient row stays in
            // cache while every entry of column j adds to it.
            kernels::column_grads(columns_, out_, x_.data(), w, d, in_, dx_.data(), gw);
        } else {
            for (size_type r = 0; r < n; ++r) {
                const T* xr = x_.data() + r * in_;
                T* dxr = dx_.data() + r * in_;
                const size_type begin = rp[r], end = rp[r + 1];
                for (size_type k = 0; k < in_; ++k) {
                    const T xv = xr[k];
                    const T* wk = w + k * out_;
                    T* gk = gw + k * out_;
                    T acc = T(0);
                    for (size_type p = begin; p < end; ++p) {
                        acc += d[p] * wk[idx[p]];
                        gk[idx[p]] += d[p] * xv;
                    }
                    dxr[k] = acc;
                }
            }
        }
        if (has_bias_) {
            T* gb = bias_.grad.data();
            for (size_type p = 0; p < pattern_.nnz(); ++p) gb[idx[p]] += d[p];
        }
        return dx_;
    }

    /// The sparse-side units the last sparse pass touched, increasing and unique: input features after
    /// forward_sparse (rows of W in in_out), output units after forward_at (rows of W in out_in, and
    /// the bias entries). A lazy optimizer may update only these weights. Computed on first call
    /// after each pass, O(nnz + units).
    /// @throws InvalidArgument if the last pass was the dense one (every weight was touched).
    const std::vector<index_type>& touched() {
        check_arg(last_ == Pass::sparse_input || last_ == Pass::sparse_output,
                  "Dense::touched: the last pass was not forward_sparse or forward_at");
        if (!touched_valid_) {
            const bool in_side = last_ == Pass::sparse_input;
            marks_.assign(in_side ? in_ : out_, 0);
            for (const auto i : in_side ? xs_.indices() : pattern_.indices()) marks_[i] = 1;
            touched_.clear();
            for (size_type i = 0; i < marks_.size(); ++i)
                if (marks_[i]) touched_.push_back(static_cast<index_type>(i));
            touched_valid_ = true;
        }
        return touched_;
    }

    // --- accessors -------------------------------------------------------------------------------

    size_type in_features() const noexcept { return in_; }
    size_type out_features() const noexcept { return out_; }
    bool has_bias() const noexcept { return has_bias_; }
    WeightLayout layout() const noexcept { return layout_; }
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
    enum class Pass { none, dense, sparse_input, sparse_output };

    /// Fills each row of y with the bias (or zeros); returns the beta to accumulate a product onto it.
    T init_rows_with_bias(Matrix<T>& y) const {
        if (!has_bias_) {
            std::fill(y.begin(), y.end(), T(0));
            return T(0);
        }
        const T* b = bias_.value.data();
        for (size_type r = 0; r < y.shape(0); ++r) std::copy(b, b + out_, y.data() + r * out_);
        return T(1);
    }

    void add_bias_grad(const Matrix<T>& dy) {
        if (!has_bias_) return;
        T* gb = bias_.grad.data();
        for (size_type r = 0; r < dy.shape(0); ++r) {
            const T* dyr = dy.data() + r * out_;
            for (size_type o = 0; o < out_; ++o) gb[o] += dyr[o];
        }
    }

    void check_pass(Pass expected, const char* fn, const char* forward_fn) const {
        check_arg(last_ == expected, "Dense::", fn, ": must follow ", forward_fn, " (the last pass was ",
                  pass_name(last_), ")");
    }

    void check_dy(const Matrix<T>& dy, size_type n, const char* fn) const {
        check_arg(dy.shape(0) == n && dy.shape(1) == out_, "Dense::", fn, ": dy is ", dy.shape(0), " x ", dy.shape(1),
                  ", expected ", n, " x ", out_);
    }

    static const char* pass_name(Pass p) {
        switch (p) {
            case Pass::dense: return "forward";
            case Pass::sparse_input: return "forward_sparse";
            case Pass::sparse_output: return "forward_at";
            default: return "none";
        }
    }

    void set_last(Pass p) {
        last_ = p;
        touched_valid_ = false;
    }

    size_type in_, out_;
    bool has_bias_;
    WeightLayout layout_;
    Parameter<T> weight_;
    Parameter<T> bias_;

    Pass last_ = Pass::none;
    Matrix<T> x_;  // cached dense input (forward, forward_at)
    Matrix<T> y_;
    Matrix<T> dx_;
    Vector<T> ye_;
    SparseBatch<T> xs_;       // cached sparse input
    SparseBatch<T> pattern_;  // cached output pattern
    kernels::ColumnIndex columns_;  // pattern_ by column (out_in layout)
    std::vector<std::uint8_t> marks_;
    std::vector<index_type> touched_;
    bool touched_valid_ = false;
};

static_assert(is_layer_v<Dense<float>> && is_layer_v<Dense<double>>);

}  // namespace cfnet::nn

