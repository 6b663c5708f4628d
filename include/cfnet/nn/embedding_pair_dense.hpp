#pragma once
/// @file nn/embedding_pair_dense.hpp
/// EmbeddingPairDense<T>: a dense layer over the concatenation of two embedding lookups,
///   y[r] = f([A[a[r]], B[b[r]]] W + bias),  W = [W_top; W_bottom] ((dim_a + dim_b) x out),
/// computed as A[a] W_top + B[b] W_bottom on the batch's DISTINCT rows of each table: one GEMM row
/// per distinct user / item instead of one per pair (the first layer of NeuralCF's MLP tower).
///
/// - forward(A, a, B, b, n) gathers the distinct rows of each table, multiplies them by their half
///   of W, and adds, biases and activates per pair in one pass (kernels::gather_add_bias_relu_rows
///   for ReLU). The tables are the caller's nn::Embedding objects (not owned, not copied): they
///   must outlive backward.
/// - backward(dy) sums the pairs' gradients per distinct row first, then W_top += A_d^T S_a,
///   W_bottom += B_d^T S_b, and ADDS S_a W_top^T (S_b W_bottom^T) into the gradient rows of the
///   tables that the batch read (distinct_a() / distinct_b()). The bias gradient is ADDED too.
/// - Scoring: project(A, B, pa, pb) computes every row's projection once (pa = A W_top,
///   pb = B W_bottom + bias); infer_projected / infer_projected_broadcast then give f(pa[a] + pb[b])
///   for any pairs, or for one row of A against a block of B's rows, without a GEMM.
///
/// Parameters, in order: "weight" ((dim_a + dim_b) x out, in_out layout, drawn as Dense's), "bias"
/// (1 x out, zero). Not a layer in the nn/layer.hpp sense (its inputs are indices into two tables);
/// gradient-checked in tests/nn/test_embedding_pair_dense.cpp.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/kernels/relu.hpp>
#include <cfnet/kernels/vector.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/distinct_rows.hpp>
#include <cfnet/nn/embedding.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cfnet::nn {

template <class T = float>
class EmbeddingPairDense {
public:
    using value_type = T;
    using size_type = std::size_t;
    using index_type = nn::index_type;

    /// @param dim_a, dim_b  widths of the two tables' vectors (both > 0)
    /// @param out           output units (> 0)
    /// @param init          weight initialiser (fan_in = dim_a + dim_b, fan_out = out), drawn from rng
    /// @param activation    f (ReLU by default)
    /// @throws InvalidArgument if a size is 0.
    EmbeddingPairDense(size_type dim_a, size_type dim_b, size_type out, Rng& rng,
                       const Initializer& init = init::glorot_uniform(), ActivationKind activation = ActivationKind::relu)
        : da_(dim_a), db_(dim_b), out_(out), act_(activation) {
        check_arg(dim_a > 0 && dim_b > 0 && out > 0, "EmbeddingPairDense: sizes must be > 0, got dim_a = ", dim_a,
                  ", dim_b = ", dim_b, ", out = ", out);
        weight_ = Parameter<T>("weight", dim_a + dim_b, out);
        init(weight_.value, dim_a + dim_b, out, rng);
        bias_ = Parameter<T>("bias", 1, out);
    }

    // --- training --------------------------------------------------------------------------------

    /// y[r] = f([A[a[r]], B[b[r]]] W + bias) for r < n (n x out). Keeps pointers to A and B.
    /// @throws InvalidArgument if a table's width differs from the layer's or an index is out of range.
    const Matrix<T>& forward(Embedding<T>& A, const index_type* a, Embedding<T>& B, const index_type* b, size_type n) {
        check_tables("forward", A, B);
        for (size_type r = 0; r < n; ++r)
            check_arg(a[r] < A.size() && b[r] < B.size(), "EmbeddingPairDense::forward: pair ", r, " = (", a[r], ", ",
                      b[r], ") is out of range (", A.size(), " x ", B.size(), ")");
        A_ = &A;
        B_ = &B;
        side_a_.gather(A, a, n, da_);
        side_b_.gather(B, b, n, db_);
        const T* W = weight_.value.data();
        side_a_.project(W, out_);
        side_b_.project(W + da_ * out_, out_);
        ensure_shape(y_, n, out_);
        const T* bias = bias_.value.data();
        const index_type* pa = side_a_.rows.positions().data();
        const index_type* pb = side_b_.rows.positions().data();
        if (act_ == ActivationKind::relu) {
            kernels::gather_add_bias_relu_rows(side_a_.proj.data(), side_b_.proj.data(), pa, pb, bias, y_.data(), n, out_);
        } else {
            for (size_type r = 0; r < n; ++r) {
                const T* x = side_a_.proj.data() + pa[r] * out_;
                const T* z = side_b_.proj.data() + pb[r] * out_;
                T* yr = y_.data() + r * out_;
                for (size_type k = 0; k < out_; ++k) yr[k] = (x[k] + z[k]) + bias[k];
            }
            apply_activation(act_, y_.data(), n * out_);
        }
        return y_;
    }

    /// Gradients from dy = dL/dy (n x out of the last forward): ADDS into weight, bias and the rows
    /// of A and B that forward read. @pre follows forward, the tables still alive.
    /// @throws InvalidArgument on a shape mismatch or without a forward.
    void backward(const Matrix<T>& dy) {
        check_arg(A_ != nullptr, "EmbeddingPairDense::backward: must follow forward");
        const size_type n = y_.shape(0);
        check_arg(dy.shape(0) == n && dy.shape(1) == out_, "EmbeddingPairDense::backward: dy is ", dy.shape(0), " x ",
                  dy.shape(1), ", expected ", n, " x ", out_);
        ensure_shape(dz_, n, out_);
        T* gb = bias_.grad.data();
        if (act_ == ActivationKind::relu) {
            kernels::relu_grad_colsum(dy.data(), y_.data(), dz_.data(), n, out_, gb);
        } else {
            activation_backward(act_, y_.data(), dy.data(), dz_.data(), n * out_);
            for (size_type r = 0; r < n; ++r)
                for (size_type k = 0; k < out_; ++k) gb[k] += dz_(r, k);
        }
        ensure_shape(side_a_.sums, side_a_.rows.size(), out_);
        ensure_shape(side_b_.sums, side_b_.rows.size(), out_);
        std::fill(side_a_.sums.begin(), side_a_.sums.end(), T(0));
        std::fill(side_b_.sums.begin(), side_b_.sums.end(), T(0));
        const index_type* pa = side_a_.rows.positions().data();
        const index_type* pb = side_b_.rows.positions().data();
        for (size_type r = 0; r < n; ++r)
            kernels::add_into2(static_cast<const T*>(dz_.data() + r * out_), side_a_.sums.data() + pa[r] * out_,
                               side_b_.sums.data() + pb[r] * out_, out_);
        const T* W = weight_.value.data();
        T* gW = weight_.grad.data();
        side_a_.backward(W, gW, out_, *A_);
        side_b_.backward(W + da_ * out_, gW + da_ * out_, out_, *B_);
    }

    /// The rows of A (of B) the last forward read, in first-appearance order: the table gradient
    /// rows backward adds to.
    const std::vector<size_type>& distinct_a() const noexcept { return side_a_.rows.rows(); }
    const std::vector<size_type>& distinct_b() const noexcept { return side_b_.rows.rows(); }

    /// weight, bias (the tables belong to their Embedding objects).
    ParameterList<T> parameters() { return {&weight_, &bias_}; }
    void set_mode(Mode) noexcept {}

    // --- scoring ---------------------------------------------------------------------------------

    /// pa = A W_top (A.size() x out) and pb = B W_bottom + bias (B.size() x out): every row's part
    /// of the pre-activation, computed once.
    void project(const Embedding<T>& A, const Embedding<T>& B, Matrix<T>& pa, Matrix<T>& pb) const {
        check_tables("project", A, B);
        const T* W = weight_.value.data();
        const size_type na = A.size(), nb = B.size();
        ensure_shape(pa, na, out_);
        ensure_shape(pb, nb, out_);
        gemm(Trans::no, Trans::no, na, out_, da_, T(1), A.weight().value.data(), da_, W, out_, T(0), pa.data(), out_);
        const T* bias = bias_.value.data();
        for (size_type i = 0; i < nb; ++i) std::copy(bias, bias + out_, pb.data() + i * out_);
        gemm(Trans::no, Trans::no, nb, out_, db_, T(1), B.weight().value.data(), db_, W + da_ * out_, out_, T(1),
             pb.data(), out_);
    }

    /// y[r] = f(pa[a[r]] + pb[b[r]]) for r < n, from project()'s output (indices not checked).
    void infer_projected(const Matrix<T>& pa, const index_type* a, const Matrix<T>& pb, const index_type* b, size_type n,
                         Matrix<T>& y) const {
        ensure_shape(y, n, out_);
        for (size_type r = 0; r < n; ++r) {
            const T* x = pa.data() + a[r] * out_;
            const T* z = pb.data() + b[r] * out_;
            T* yr = y.data() + r * out_;
            if (act_ == ActivationKind::relu) {
                kernels::add_relu(x, z, yr, out_);
            } else {
                for (size_type k = 0; k < out_; ++k) yr[k] = x[k] + z[k];
                apply_activation(act_, yr, out_);
            }
        }
    }

    /// y[r] = f(pa[a] + pb[first + r]) for r < n: one row of A against a block of B's rows.
    void infer_projected_broadcast(const Matrix<T>& pa, index_type a, const Matrix<T>& pb, size_type first, size_type n,
                                   Matrix<T>& y) const {
        ensure_shape(y, n, out_);
        const T* x = pa.data() + a * out_;
        const T* z = pb.data() + first * out_;
        if (act_ == ActivationKind::relu) return kernels::broadcast_add_relu_rows(x, z, y.data(), n, out_);
        for (size_type r = 0; r < n; ++r)
            for (size_type k = 0; k < out_; ++k) y(r, k) = x[k] + z[r * out_ + k];
        apply_activation(act_, y.data(), n * out_);
    }

    // --- accessors -------------------------------------------------------------------------------

    size_type dim_a() const noexcept { return da_; }
    size_type dim_b() const noexcept { return db_; }
    size_type out_features() const noexcept { return out_; }
    ActivationKind activation() const noexcept { return act_; }
    Parameter<T>& weight() noexcept { return weight_; }
    const Parameter<T>& weight() const noexcept { return weight_; }
    Parameter<T>& bias() noexcept { return bias_; }
    const Parameter<T>& bias() const noexcept { return bias_; }

private:
    /// One table's side of the layer: its distinct rows, their vectors, projections, summed
    /// gradients and vector gradients (buffers reused from batch to batch).
    struct Side {
        DistinctRows rows;
        Matrix<T> x, proj, sums, dx;

        void gather(const Embedding<T>& E, const index_type* idx, size_type n, size_type d) {
            rows.assign(idx, n, E.size());
            const size_type m = rows.size();
            ensure_shape(x, m, d);
            const T* w = E.weight().value.data();
            for (size_type k = 0; k < m; ++k) {
                const size_type r = rows.rows()[k];
                std::copy(w + r * d, w + (r + 1) * d, x.data() + k * d);
            }
        }
        /// proj = x Wh (Wh: this side's d x out half of W).
        void project(const T* Wh, size_type out) {
            const size_type m = x.shape(0), d = x.shape(1);
            ensure_shape(proj, m, out);
            gemm(Trans::no, Trans::no, m, out, d, T(1), x.data(), d, Wh, out, T(0), proj.data(), out);
        }
        /// gWh += x^T sums; the table's rows += sums Wh^T.
        void backward(const T* Wh, T* gWh, size_type out, Embedding<T>& E) {
            const size_type m = x.shape(0), d = x.shape(1);
            gemm(Trans::yes, Trans::no, d, out, m, T(1), x.data(), d, sums.data(), out, T(1), gWh, out);
            ensure_shape(dx, m, d);
            gemm(Trans::no, Trans::yes, m, d, out, T(1), sums.data(), out, Wh, out, T(0), dx.data(), d);
            T* g = E.weight().grad.data();
            for (size_type k = 0; k < m; ++k)
                kernels::add_into(static_cast<const T*>(dx.data() + k * d), g + rows.rows()[k] * d, d);
        }
    };

    void check_tables(const char* fn, const Embedding<T>& A, const Embedding<T>& B) const {
        check_arg(A.dim() == da_ && B.dim() == db_, "EmbeddingPairDense::", fn, ": tables of widths ", A.dim(), " and ",
                  B.dim(), ", expected ", da_, " and ", db_);
    }

    size_type da_, db_, out_;
    ActivationKind act_;
    Parameter<T> weight_, bias_;
    Embedding<T>* A_ = nullptr;
    Embedding<T>* B_ = nullptr;
    Side side_a_, side_b_;
    Matrix<T> y_, dz_;
};

}  // namespace cfnet::nn
