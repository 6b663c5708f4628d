#pragma once
/// @file nn/update.hpp
/// RowUpdate<T>: the optimizer protocol's fused path. A layer whose backward pass is given a
/// RowUpdate for a parameter applies the optimizer's update to that parameter itself, each weight
/// row as soon as its gradient is known (while the row is in cache), instead of accumulating
/// Parameter::grad for a separate optimizer step; for the sparse layers it also gives the rows the
/// batch did not touch their update (Adam's with a zero gradient, or none when lazy).
///
/// The rule is Adam's (Keras' form, optim/adam.hpp), the one optimizer with a fused path:
///   adam.begin_step();
///   auto uw = adam.row_update(slot_of_weight, lazy), ub = adam.row_update(slot_of_bias, lazy);
///   layer.backward(dy, &uw, &ub);   // value, moments updated; Parameter::grad not used
/// Without a RowUpdate (nullptr) a layer's backward ADDS its gradients into Parameter::grad, as the
/// layer contract says (nn/layer.hpp): that is what gradient checks and other optimizers use.

#include <cfnet/kernels/adam.hpp>

#include <cstddef>

namespace cfnet::nn {

template <class T = float>
struct RowUpdate {
    T* m = nullptr;  ///< the parameter's first moments (its shape, row-major)
    T* v = nullptr;  ///< its second moments
    kernels::AdamStepConstants<T> step;  ///< this step's constants
    bool lazy = false;  ///< rows without a gradient this step keep value and moments (TensorFlow's LazyAdam)

    /// Elements [begin, end) of the parameter's values p updated with the gradient g of those
    /// elements (g null: a zero gradient).
    void apply(T* p, const T* g, std::size_t begin, std::size_t end) const {
        kernels::adam_update(p + begin, g, m + begin, v + begin, end - begin, step);
    }

    /// Rows [begin, end) of width `width` that had no gradient this step: Adam's update with a zero
    /// gradient (their moments decay and they still move, exactly as a dense step), or nothing when
    /// lazy. One call per run of consecutive rows.
    void untouched_rows(T* p, std::size_t begin, std::size_t end, std::size_t width) const {
        if (!lazy && end > begin) apply(p, nullptr, begin * width, end * width);
    }
};

/// Walks a sparse layer's weight rows in increasing order and gives every run of rows without a
/// gradient its RowUpdate::untouched_rows (u null: nothing).
template <class T>
class UntouchedRuns {
public:
    UntouchedRuns(const RowUpdate<T>* u, T* p, std::size_t width) : u_(u), p_(p), width_(width) {}
    /// Row `row` has a gradient: the run before it is updated, the next starts after it.
    void touched(std::size_t row) {
        finish(row);
        begin_ = row + 1;
    }
    /// The run from the last touched row to `rows` (the layer's row count).
    void finish(std::size_t rows) const {
        if (u_) u_->untouched_rows(p_, begin_, rows, width_);
    }

private:
    const RowUpdate<T>* u_;
    T* p_;
    std::size_t width_;
    std::size_t begin_ = 0;
};

}  // namespace cfnet::nn
