#pragma once
/// @file optim/optimizer.hpp
/// What every cfnet optimizer shares: the parameter list, state kept by parameter SLOT (position
/// in that list, never by address), the step counter, and the per-slot / per-row update protocol.
///
/// Binding. An optimizer is constructed from a ParameterList<T> (pointers to Parameter objects,
/// as returned by `parameters()`). It dereferences those pointers in every update, so the
/// Parameter objects must outlive it and stay at their address while it is used. When they move
/// (a model is copied or moved, a std::vector<Parameter> reallocates), call
/// `rebind(new_list)`: the moment tensors belong to slots, so the state carries over unchanged as
/// long as slot k still has the same shape (checked).
///
/// Update protocol. `step()` is the whole thing: advance the step counter, update every slot
/// densely. To fuse the update of a weight into the pass that produces its gradient (while the
/// gradient is still in cache), or to update only some rows (embeddings), split it:
///
///   opt.begin_step();                          // t += 1; once per batch
///   opt.update(slot);                          // a whole parameter, or
///   opt.update_rows(slot, row_begin, row_end); // a contiguous block of rows, or
///   opt.update_row_list(slot, rows);           // only the listed rows (lazy / sparse update)
///
/// Every slot (or row) must be updated at most once between two begin_step() calls. Updating
/// every row of every slot once is exactly step(). Updating only some rows is the "lazy" variant:
/// rows left out keep their value AND their optimizer state (momentum / moments do not decay),
/// which differs from the dense update with a zero gradient for those rows.

#include <cfnet/error.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet::optim {

namespace detail {

/// Checks an option value: finite and within [lo, hi] (hi_open: [lo, hi)).
inline double check_option(const char* fn, double v, double lo, double hi, bool hi_open = false) {
    check_arg(std::isfinite(v) && v >= lo && (hi_open ? v < hi : v <= hi), fn, ": expected a value in [", lo, ", ", hi,
              hi_open ? ")" : "]", ", got ", v);
    return v;
}

}  // namespace detail

/// Shared state, bookkeeping and update protocol of cfnet's optimizers (SGD, Adam), by CRTP:
/// Derived provides set_steps(n) and update_range(slot, begin, end) over flat element offsets.
/// Not used polymorphically.
template <class T, class Derived>
class OptimizerBase {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// begin_step() then update(slot) for every slot.
    void step() {
        begin_step();
        for (size_type k = 0; k < params_.size(); ++k) derived().update_range(k, 0, params_[k]->size());
    }

    /// Advances the step counter (t += 1); the per-slot/per-row updates that follow belong to this step.
    void begin_step() { derived().set_steps(steps_ + 1); }

    /// Updates a whole slot at the current step.
    void update(size_type slot) {
        check_slot("update", slot);
        derived().update_range(slot, 0, params_[slot]->size());
    }

    /// Updates rows [row_begin, row_end) of a slot at the current step.
    void update_rows(size_type slot, size_type row_begin, size_type row_end) {
        const auto& p = checked_rows("update_rows", slot, row_begin, row_end);
        derived().update_range(slot, row_begin * p.cols(), row_end * p.cols());
    }

    void update_row(size_type slot, size_type row) { update_rows(slot, row, row + 1); }

    /// Lazy update of the listed rows only (each at most once); the other rows keep their value and
    /// their state (so, unlike the dense update, their moments/momentum do not decay).
    void update_row_list(size_type slot, const size_type* rows, size_type count) {
        check_row_list("update_row_list", slot, rows, count);
        const size_type cols = params_[slot]->cols();
        for (size_type i = 0; i < count; ++i) derived().update_range(slot, rows[i] * cols, (rows[i] + 1) * cols);
    }
    void update_row_list(size_type slot, const std::vector<size_type>& rows) {
        update_row_list(slot, rows.data(), rows.size());
    }

    /// The bound parameters, slot by slot.
    const nn::ParameterList<T>& parameters() const noexcept { return params_; }
    /// Number of slots.
    size_type size() const noexcept { return params_.size(); }
    /// Number of completed begin_step() calls (t of the last step; 0 before the first).
    std::size_t steps() const noexcept { return steps_; }
    /// Sets every gradient to zero.
    void zero_grad() { nn::zero_grad(params_); }

    /// Points the optimizer at moved/copied parameters. Slot k keeps its state.
    /// @throws InvalidArgument when the slot count or a slot's shape differs, or a pointer is null.
    void rebind(const nn::ParameterList<T>& params) {
        check_arg(params.size() == params_.size(), name_, "::rebind: the optimizer has ", params_.size(),
                  " slots but the new list has ", params.size());
        for (size_type k = 0; k < params.size(); ++k) {
            check_list_entry("rebind", params, k);
            check_arg(params[k]->rows() == shapes_[k].first && params[k]->cols() == shapes_[k].second, name_,
                      "::rebind: slot ", k, " ('", params[k]->name, "') is ", params[k]->rows(), "x",
                      params[k]->cols(), " but was ", shapes_[k].first, "x", shapes_[k].second);
        }
        params_ = params;
    }

protected:
    Derived& derived() noexcept { return static_cast<Derived&>(*this); }

    OptimizerBase(const char* name, nn::ParameterList<T> params) : name_(name), params_(std::move(params)) {
        shapes_.reserve(params_.size());
        for (size_type k = 0; k < params_.size(); ++k) {
            check_list_entry("constructor", params_, k);
            shapes_.emplace_back(params_[k]->rows(), params_[k]->cols());
        }
    }

    /// Allocates one zero tensor per slot, shaped like the parameter.
    std::vector<Matrix<T>> zeros_like_params() const {
        std::vector<Matrix<T>> out;
        out.reserve(params_.size());
        for (size_type i = 0; i < shapes_.size(); ++i)
            out.push_back(zeros_for<T>(std::string(name_) + "'s state for parameter '" + params_[i]->name + "'", shapes_[i].first,
                                       shapes_[i].second));
        return out;
    }

    /// Validates slot and row range; returns the parameter.
    nn::Parameter<T>& checked_rows(const char* fn, size_type slot, size_type row_begin, size_type row_end) const {
        check_slot(fn, slot);
        nn::Parameter<T>& p = *params_[slot];
        check_arg(row_begin <= row_end && row_end <= p.rows(), name_, "::", fn, ": row range [", row_begin, ", ",
                  row_end, ") is not within the ", p.rows(), " rows of slot ", slot, " ('", p.name, "')");
        return p;
    }

    void check_slot(const char* fn, size_type slot) const {
        check_arg(slot < params_.size(), name_, "::", fn, ": slot ", slot, " out of range (", params_.size(),
                  " slots)");
        check_arg(steps_ > 0, name_, "::", fn, ": call begin_step() (or step()) before updating");
    }

    void check_row_list(const char* fn, size_type slot, const size_type* rows, size_type count) const {
        check_slot(fn, slot);
        const size_type n = params_[slot]->rows();
        check_arg(rows != nullptr || count == 0, fn, ": rows is null");
        for (size_type i = 0; i < count; ++i)
            check_arg(rows[i] < n, name_, "::", fn, ": rows[", i, "] = ", rows[i], " is not below the ", n,
                      " rows of slot ", slot, " ('", params_[slot]->name, "')");
    }

    /// "<prefix>.<slot>" names for state tensors, e.g. "adam.m.3".
    static std::string slot_name(const char* prefix, size_type slot) { return prefix + ("." + std::to_string(slot)); }

    const char* name_;
    nn::ParameterList<T> params_;
    std::vector<std::pair<size_type, size_type>> shapes_;
    std::size_t steps_ = 0;

private:
    void check_list_entry(const char* fn, const nn::ParameterList<T>& params, size_type k) const {
        check_arg(params[k] != nullptr, name_, "::", fn, ": parameter slot ", k, " is null");
        check_arg(params[k]->grad.shape(0) == params[k]->rows() && params[k]->grad.shape(1) == params[k]->cols(),
                  name_, "::", fn, ": slot ", k, " ('", params[k]->name, "') has value ", params[k]->rows(), "x",
                  params[k]->cols(), " but grad ", params[k]->grad.shape(0), "x", params[k]->grad.shape(1));
    }
};

namespace detail {

template <class O, class = void>
struct is_optimizer_impl : std::false_type {};

template <class O>
struct is_optimizer_impl<
    O, std::void_t<typename O::value_type, decltype(std::declval<O&>().step()),
                   decltype(std::declval<O&>().zero_grad()), decltype(std::declval<O&>().begin_step()),
                   decltype(std::declval<O&>().update(std::size_t{})),
                   decltype(std::declval<O&>().update_rows(std::size_t{}, std::size_t{}, std::size_t{})),
                   decltype(std::declval<O&>().state()), decltype(std::declval<O&>().steps()),
                   decltype(std::declval<O&>().set_steps(std::size_t{}))>> : std::true_type {};

}  // namespace detail

/// True when O offers the optimizer protocol above (step, zero_grad, begin_step, update,
/// update_rows, state, steps, set_steps).
template <class O>
inline constexpr bool is_optimizer_v = detail::is_optimizer_impl<O>::value;

}  // namespace cfnet::optim
