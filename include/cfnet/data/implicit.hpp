#pragma once
/// @file data/implicit.hpp
/// Implicit feedback: a RatingMatrix seen as interactions. The top-N models (EASE, Mult-DAE,
/// Mult-VAE) and the ranking protocols consume "which items did this user interact with", a 0/1
/// matrix kept sparse: the stored entries that pass a rule, each with the value 1, in the same
/// index space as the ratings (the id maps are shared, so a split's train and test stay aligned).
/// The per-user input rows are the result's CSR rows (user_items(u)).
///
/// Rules (Binarize): every stored entry (all()), rating >= t (at_least(t), e.g. 4 for MovieLens'
/// "liked"), or rating > t (above(t), e.g. 3.5 in Liang et al. 2018's preprocessing).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>

#include <cmath>
#include <string>

namespace cfnet {

/// Which stored ratings count as interactions.
class Binarize {
public:
    /// Every stored entry is an interaction, whatever its value.
    static Binarize all() { return Binarize(Kind::all, 0.0); }
    /// Ratings >= threshold are interactions. @throws InvalidArgument for a non-finite threshold.
    static Binarize at_least(double threshold) { return Binarize(Kind::at_least, checked(threshold)); }
    /// Ratings > threshold are interactions. @throws InvalidArgument for a non-finite threshold.
    static Binarize above(double threshold) { return Binarize(Kind::above, checked(threshold)); }

    /// True when a stored rating of value v is an interaction under this rule.
    bool keeps(double v) const noexcept {
        switch (kind_) {
            case Kind::at_least: return v >= threshold_;
            case Kind::above: return v > threshold_;
            case Kind::all:
            default: return true;
        }
    }
    /// "all", ">= 4", "> 3.5": how the rule prints in reports.
    std::string describe() const {
        if (kind_ == Kind::all) return "all";
        std::string t = std::to_string(threshold_);
        t.erase(t.find_last_not_of('0') + 1);
        if (!t.empty() && t.back() == '.') t.pop_back();
        return (kind_ == Kind::at_least ? ">= " : "> ") + t;
    }

private:
    enum class Kind { all, at_least, above };
    Binarize(Kind k, double t) : kind_(k), threshold_(t) {}
    static double checked(double t) {
        check_arg(std::isfinite(t), "Binarize: the threshold must be finite (got ", t, ")");
        return t;
    }
    Kind kind_;
    double threshold_;
};

/// The interactions of `ratings` under `rule`: the kept entries, each with the value 1, in the
/// same index space (users and items that lose every entry stay, with empty rows/columns).
/// Timestamps are kept. O(nnz) time and memory.
template <class T>
RatingMatrix<T> to_implicit(const RatingMatrix<T>& ratings, const Binarize& rule = Binarize::all()) {
    const auto& v = ratings.values();
    RatingMatrix<T> kept = ratings.filter([&](std::size_t k) { return rule.keeps(static_cast<double>(v[k])); });
    std::vector<T> ones(kept.nnz(), T(1));
    return RatingMatrix<T>(kept.user_map(), kept.item_map(), kept.row_ptr(), kept.item_indices(), std::move(ones),
                           kept.timestamps());
}

}  // namespace cfnet
