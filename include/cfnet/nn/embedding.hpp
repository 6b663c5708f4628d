#pragma once
/// @file nn/embedding.hpp
/// Embedding<T>: a lookup table of n vectors of size dim. forward(indices) gathers rows;
/// backward(dy) scatter-adds dy's rows into the gradient rows of the indices used (repeated
/// indices accumulate), touching nothing else. touched_rows() lists those rows for lazy optimizers.
/// add_row_sq_norms / add_row_decay give an L2 penalty on looked-up rows and its gradient.
///
/// Its forward takes indices, not a matrix, so it is not a layer in the sense of nn/layer.hpp (it
/// is always a network's first layer); check it with testing::check_gradient directly.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cfnet::nn {

/// Parameters: "weight" (n x dim).
template <class T = float>
class Embedding {
public:
    using value_type = T;
    using size_type = std::size_t;
    using index_type = nn::index_type;

    /// @param n     number of rows (ids 0..n-1), > 0
    /// @param dim   vector size, > 0
    /// @param init  initialiser of the table (fan_in = n, fan_out = dim); Keras' default U(-0.05, 0.05)
    /// @throws InvalidArgument if n or dim is 0.
    Embedding(size_type n, size_type dim, Rng& rng, const Initializer& init = init::uniform(-0.05, 0.05))
        : n_(n), dim_(dim) {
        check_arg(n > 0 && dim > 0, "Embedding: n and dim must be > 0, got n = ", n, ", dim = ", dim);
        weight_ = Parameter<T>("weight", n, dim);
        init(weight_.value, n, dim, rng);
    }

    /// Row b of the result is row idx[b] of the table (batch x dim).
    /// @throws InvalidArgument naming the position and the value of an index >= n (nothing changes then).
    const Matrix<T>& forward(const index_type* idx, size_type count) {
        for (size_type b = 0; b < count; ++b)
            check_arg(idx[b] < n_, "Embedding::forward: index ", idx[b], " at position ", b, " is out of range (n = ", n_,
                      ")");
        idx_.assign(idx, idx + count);
        touched_valid_ = false;
        ensure_shape(y_, count, dim_);
        const T* w = weight_.value.data();
        T* y = y_.data();
        for (size_type b = 0; b < count; ++b) std::copy(w + idx[b] * dim_, w + (idx[b] + 1) * dim_, y + b * dim_);
        return y_;
    }
    const Matrix<T>& forward(const std::vector<index_type>& idx) { return forward(idx.data(), idx.size()); }

    /// Adds dy's row b to gradient row idx[b] for every b of the last forward.
    /// @pre follows forward(idx); dy is idx.size() x dim. @throws InvalidArgument otherwise.
    void backward(const Matrix<T>& dy) {
        check_arg(dy.shape(0) == idx_.size() && dy.shape(1) == dim_, "Embedding::backward: dy is ", dy.shape(0), " x ",
                  dy.shape(1), ", expected ", idx_.size(), " x ", dim_);
        T* g = weight_.grad.data();
        const T* d = dy.data();
        for (size_type b = 0; b < idx_.size(); ++b) {
            T* gr = g + idx_[b] * dim_;
            const T* dr = d + b * dim_;
            for (size_type j = 0; j < dim_; ++j) gr[j] += dr[j];
        }
    }

    /// The distinct indices of the last forward, increasing (the gradient rows backward touches).
    /// Computed on first call after each forward, O(batch log batch).
    const std::vector<index_type>& touched_rows() {
        if (!touched_valid_) {
            touched_ = idx_;
            std::sort(touched_.begin(), touched_.end());
            touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
            touched_valid_ = true;
        }
        return touched_;
    }

    // --- row-wise regularisation and gradient bookkeeping (rows named by the caller) ---------------

    /// s plus the squared norms of rows idx[0..n) (repeats counted), summed in double in order: an
    /// L2 penalty on the looked-up vectors (several tables can accumulate into one s).
    double add_row_sq_norms(const index_type* idx, size_type n, double s) const {
        const T* w = weight_.value.data();
        for (size_type b = 0; b < n; ++b) {
            const T* r = w + idx[b] * dim_;
            for (size_type j = 0; j < dim_; ++j) s += static_cast<double>(r[j]) * static_cast<double>(r[j]);
        }
        return s;
    }

    /// grad[idx[b]] += scale * value[idx[b]] for b < n, in order: that penalty's gradient.
    void add_row_decay(const index_type* idx, size_type n, T scale) {
        const T* w = weight_.value.data();
        T* g = weight_.grad.data();
        for (size_type b = 0; b < n; ++b) {
            const T* r = w + idx[b] * dim_;
            T* gr = g + idx[b] * dim_;
            for (size_type j = 0; j < dim_; ++j) gr[j] += scale * r[j];
        }
    }

    /// Sets the gradient rows `rows` to zero (after an optimizer step on the rows a batch touched).
    void zero_grad_rows(const std::vector<std::size_t>& rows) {
        T* g = weight_.grad.data();
        for (const auto r : rows) std::fill(g + r * dim_, g + (r + 1) * dim_, T(0));
    }

    ParameterList<T> parameters() { return {&weight_}; }
    void set_mode(Mode) noexcept {}

    size_type size() const noexcept { return n_; }
    size_type dim() const noexcept { return dim_; }
    Parameter<T>& weight() noexcept { return weight_; }
    const Parameter<T>& weight() const noexcept { return weight_; }

private:
    size_type n_, dim_;
    Parameter<T> weight_;
    std::vector<index_type> idx_;
    std::vector<index_type> touched_;
    bool touched_valid_ = false;
    Matrix<T> y_;
};

}  // namespace cfnet::nn
