#pragma once
/// @file nn/distinct_rows.hpp
/// DistinctRows: the distinct values of a batch of row indices in first-appearance order, and each
/// batch position's slot among them, in O(batch) (a slot map over the table's rows, reset after
/// each call). What layers over embedding lookups use to compute once per distinct row, and what
/// a training loop uses to name the embedding rows a batch touched (lazy optimizer updates,
/// zeroing only those gradient rows).

#include <cfnet/error.hpp>
#include <cfnet/nn/sparse.hpp>

#include <cstddef>
#include <limits>
#include <vector>

namespace cfnet::nn {

class DistinctRows {
public:
    using size_type = std::size_t;

    /// rows() = distinct values of idx[0..n) in first-appearance order; positions()[b] = the slot
    /// of idx[b] in rows(). @pre every idx[b] < table_rows (not checked: callers check their indices).
    void assign(const index_type* idx, size_type n, size_type table_rows) {
        if (slot_.size() < table_rows) slot_.resize(table_rows, no_slot);
        rows_.clear();
        pos_.resize(n);
        for (size_type b = 0; b < n; ++b) {
            index_type& s = slot_[idx[b]];
            if (s == no_slot) {
                s = static_cast<index_type>(rows_.size());
                rows_.push_back(idx[b]);
            }
            pos_[b] = s;
        }
        for (const auto r : rows_) slot_[r] = no_slot;
    }

    /// The distinct rows of the last assign, in first-appearance order.
    const std::vector<size_type>& rows() const noexcept { return rows_; }
    /// positions()[b]: where idx[b] of the last assign is in rows().
    const std::vector<index_type>& positions() const noexcept { return pos_; }
    size_type size() const noexcept { return rows_.size(); }

private:
    static constexpr index_type no_slot = std::numeric_limits<index_type>::max();
    std::vector<index_type> slot_;  // all no_slot between calls
    std::vector<size_type> rows_;
    std::vector<index_type> pos_;
};

}  // namespace cfnet::nn
