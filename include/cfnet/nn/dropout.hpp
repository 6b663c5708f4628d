#pragma once
/// @file nn/dropout.hpp
/// Dropout<T>: inverted dropout. In train mode each entry is zeroed with probability `rate` and the
/// survivors are scaled by 1 / (1 - rate), so the expected output equals the input and eval mode is
/// the identity (Keras' and PyTorch's convention). The mask comes from the layer's own Rng, seeded
/// in the constructor (the same seed and the same sequence of batch shapes give the same masks), or
/// from a caller's stream. SparseDropout<T> is the same noise on a sparse input's stored entries.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfnet::nn {

template <class T = float>
class Dropout {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @param rate  probability of dropping an entry, 0 <= rate < 1
    /// @param seed  seed of the mask stream
    /// @throws InvalidArgument if rate is outside [0, 1).
    explicit Dropout(double rate, std::uint64_t seed = 42) : rate_(rate), rng_(seed) {
        check_arg(std::isfinite(rate) && rate >= 0.0 && rate < 1.0, "Dropout: rate must be in [0, 1), got ", rate);
    }

    /// Train mode: y = x * mask, mask entries 0 (probability rate) or 1 / (1 - rate); a new mask per
    /// call unless frozen. Eval mode: y = x.
    /// @throws InvalidArgument if the mask is frozen and x's shape differs from the frozen mask's.
    const Matrix<T>& forward(const Matrix<T>& x) { return forward(x, rng_); }

    /// forward with the mask drawn from `rng` instead of the layer's own stream (several layers
    /// sharing one mask stream, drawn layer after layer).
    const Matrix<T>& forward(const Matrix<T>& x, Rng& rng) {
        if (mode_ == Mode::train && !reuse_mask(x)) draw_mask(x, rng);
        return apply(x);
    }

    /// forward with row-keyed masks: entry (i, j) is kept unless uniform_at(derive_seed(key,
    /// first_row + i), j) < rate (detail/rng.hpp), so a row's mask depends on the key and its
    /// position first_row + i only, not on how the batch was cut: in data-parallel training each
    /// rank draws exactly its own rows' masks (distributed/autoencoder_items.hpp). Frozen and eval
    /// modes as forward(x).
    const Matrix<T>& forward_keyed(const Matrix<T>& x, std::uint64_t key, std::size_t first_row) {
        if (mode_ == Mode::train && !reuse_mask(x)) {
            if (mask_.shape() != x.shape()) mask_.resize(x.shape());
            const T keep = static_cast<T>(1.0 / (1.0 - rate_));
            const size_type rows = x.shape(0), cols = x.shape(1);
            T* m = mask_.data();
            for (size_type i = 0; i < rows; ++i) {
                const std::uint64_t row_key = derive_seed(key, first_row + i);
                for (size_type j = 0; j < cols; ++j) m[i * cols + j] = uniform_at(row_key, j) < rate_ ? T(0) : keep;
            }
            has_mask_ = true;
        }
        return apply(x);
    }

    /// dx = dy * mask (train) or dy (eval), with the mask of the last forward.
    /// @pre follows forward(x); dy has x's shape. @throws InvalidArgument otherwise.
    const Matrix<T>& backward(const Matrix<T>& dy) {
        check_arg(has_forward_, "Dropout::backward: must follow forward");
        check_arg(dy.shape() == y_.shape(), "Dropout::backward: dy is ", dy.shape(0), " x ", dy.shape(1), ", expected ",
                  y_.shape(0), " x ", y_.shape(1));
        return masked(dy, dx_, last_mode_);
    }

    ParameterList<T> parameters() { return {}; }
    void set_mode(Mode m) noexcept { mode_ = m; }
    Mode mode() const noexcept { return mode_; }

    /// When frozen, train-mode forward reuses the last mask instead of drawing a new one (a gradient
    /// check needs a deterministic forward). The first forward draws a mask even when frozen.
    void freeze_mask(bool frozen) noexcept { frozen_ = frozen; }
    bool mask_frozen() const noexcept { return frozen_; }

    double rate() const noexcept { return rate_; }
    /// The last mask: 0 or 1 / (1 - rate) per entry (empty before the first train-mode forward).
    const Matrix<T>& mask() const noexcept { return mask_; }

private:
    /// Train mode with a frozen mask already drawn. @throws InvalidArgument when x's shape differs from it.
    bool reuse_mask(const Matrix<T>& x) const {
        const bool reuse = frozen_ && has_mask_;
        if (reuse)
            check_arg(mask_.shape() == x.shape(), "Dropout::forward: the frozen mask is ", mask_.shape(0), " x ",
                      mask_.shape(1), ", the input is ", x.shape(0), " x ", x.shape(1));
        return reuse;
    }

    /// y = x * mask (train) or x (eval).
    const Matrix<T>& apply(const Matrix<T>& x) {
        last_mode_ = mode_;
        has_forward_ = true;
        return masked(x, y_, mode_);
    }

    /// out = in * mask (train) or in (eval).
    const Matrix<T>& masked(const Matrix<T>& in, Matrix<T>& out, Mode mode) const {
        if (out.shape() != in.shape()) out.resize(in.shape());
        const size_type n = in.size();
        if (mode == Mode::eval) {
            std::copy(in.data(), in.data() + n, out.data());
        } else {
            const T* x = in.data();
            const T* m = mask_.data();
            T* y = out.data();
            for (size_type i = 0; i < n; ++i) y[i] = x[i] * m[i];
        }
        return out;
    }

    void draw_mask(const Matrix<T>& x, Rng& rng) {
        if (mask_.shape() != x.shape()) mask_.resize(x.shape());
        const T keep = static_cast<T>(1.0 / (1.0 - rate_));
        T* m = mask_.data();
        for (size_type i = 0; i < mask_.size(); ++i) m[i] = rng.uniform() < rate_ ? T(0) : keep;
        has_mask_ = true;
    }

    double rate_;
    Rng rng_;
    Mode mode_ = Mode::train;
    Mode last_mode_ = Mode::train;
    bool frozen_ = false;
    bool has_mask_ = false;
    bool has_forward_ = false;
    Matrix<T> mask_;
    Matrix<T> y_;
    Matrix<T> dx_;
};

static_assert(is_layer_v<Dropout<float>>);

/// Inverted dropout of a sparse input's stored entries (a denoising autoencoder's input noise):
/// each stored entry of a row is dropped with probability `rate` (one uniform draw per entry, in
/// column order) and the survivors are scaled by 1 / (1 - rate); entries not stored stay zeros.
template <class T = float>
class SparseDropout {
public:
    /// @throws InvalidArgument if rate is outside [0, 1).
    explicit SparseDropout(double rate) : rate_(rate), keep_(static_cast<T>(1.0 / (1.0 - rate))) {
        check_arg(std::isfinite(rate) && rate >= 0.0 && rate < 1.0, "SparseDropout: rate must be in [0, 1), got ", rate);
    }

    /// Appends the row (cols, values: n stored entries, increasing columns) to `batch` after dropout,
    /// with the draws from `rng`.
    template <class IndexRange, class ValueRange>
    void add_row(SparseBatch<T>& batch, const IndexRange& cols, const ValueRange& values, Rng& rng) {
        idx_.clear();
        val_.clear();
        for (std::size_t p = 0; p < cols.size(); ++p) {
            if (rng.uniform() < rate_) continue;
            idx_.push_back(cols[p]);
            val_.push_back(values[p] * keep_);
        }
        batch.add_row(idx_.data(), val_.data(), idx_.size());
    }

    /// add_row with keyed draws: entry p is dropped when uniform_at(key, first_col + cols[p]) <
    /// rate (detail/rng.hpp), a pure function of the key and the column, so a row cut into blocks of
    /// columns (an item-partitioned model: each rank its items, numbered from first_col) drops the
    /// same entries as the whole row.
    template <class IndexRange, class ValueRange>
    void add_row_keyed(SparseBatch<T>& batch, const IndexRange& cols, const ValueRange& values, std::uint64_t key,
                       std::size_t first_col = 0) {
        idx_.clear();
        val_.clear();
        for (std::size_t p = 0; p < cols.size(); ++p) {
            if (uniform_at(key, first_col + static_cast<std::size_t>(cols[p])) < rate_) continue;
            idx_.push_back(cols[p]);
            val_.push_back(values[p] * keep_);
        }
        batch.add_row(idx_.data(), val_.data(), idx_.size());
    }

    double rate() const noexcept { return rate_; }

private:
    double rate_;
    T keep_;
    std::vector<index_type> idx_;
    std::vector<T> val_;
};

}  // namespace cfnet::nn
