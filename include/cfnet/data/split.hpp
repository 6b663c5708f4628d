#pragma once
/// @file data/split.hpp
/// Train/test splits of a RatingMatrix. Every split returns Split<T>{train, test} where both
/// matrices are built with RatingMatrix::filter on the source: they share the source's id maps
/// (same index space, train.same_space(test)), they are disjoint, and their union is the source
/// (same values, same timestamps). All randomness comes from cfnet::Rng, so a seed gives the same
/// split on every standard library.
///
/// | function            | protocol                                                              |
/// |---------------------|-----------------------------------------------------------------------|
/// | per_user_holdout    | the notebook: 20% of each user with >= 5 ratings                      |
/// | random_split        | scikit-learn's train_test_split over all (user, item) pairs           |
/// | stratified_split    | per user or per item by a ratio (Microsoft Recommenders' protocol)     |
/// | leave_one_out       | NCF: each user's latest rating                                         |
/// | kfold               | k folds over shuffled pairs                                            |
///
/// The building blocks are public too: split_from_mask() turns a per-entry 0/1 test mask
/// (aligned with the source's CSR arrays) into a Split, and test_mask() recovers that mask.

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cfnet {

/// Grouping of a stratified split.
enum class By {
    user,  ///< each user's ratings are split by the ratio
    item   ///< each item's ratings are split by the ratio
};

namespace detail {

/// Throws unless `fraction` lies in the open interval (0, 1) (NaN fails).
inline void check_fraction(double fraction, const char* function, const char* name) {
    check_arg(fraction > 0.0 && fraction < 1.0, function, ": ", name, " must be in (0, 1), got ", fraction);
}

/// Marks `k` of the positions pos[0..n) in `mask` (uniformly at random, without replacement) with 1.
/// Partial Fisher-Yates over a reused scratch buffer: the same draws as Rng::sample(n, k).
template <class PosOf>
void mark_sample(Rng& rng, std::size_t n, std::size_t k, PosOf pos_of, std::vector<std::size_t>& scratch,
                 std::vector<std::uint8_t>& mask) {
    scratch.resize(n);
    for (std::size_t i = 0; i < n; ++i) scratch[i] = i;
    for (std::size_t i = 0; i < k; ++i) {
        const auto j = i + static_cast<std::size_t>(rng.below(n - i));
        std::swap(scratch[i], scratch[j]);
        mask[pos_of(scratch[i])] = 1;
    }
}

/// For the item-major order of `m` (item_ptr/item_users), the CSR position of each entry:
/// out[m.item_ptr()[i] + j] is the CSR position of the j-th rating of item i.
template <class T>
std::vector<std::size_t> item_major_positions(const RatingMatrix<T>& m) {
    std::vector<std::size_t> out(m.nnz());
    const auto& ip = m.item_ptr();
    std::vector<std::size_t> next(ip.begin(), ip.end() - 1);
    const auto& rp = m.row_ptr();
    const auto& idx = m.item_indices();
    for (std::size_t u = 0; u < m.n_users(); ++u)
        for (std::size_t k = rp[u]; k < rp[u + 1]; ++k) out[next[idx[k]]++] = k;
    return out;
}

/// Python's round() (half to even) of a non-negative value, as a count.
inline std::size_t round_half_even(double x) {
    const double f = std::floor(x);
    const double diff = x - f;
    auto r = static_cast<std::size_t>(f);
    if (diff > 0.5 || (diff == 0.5 && (r % 2 == 1))) ++r;
    return r;
}

}  // namespace detail

/// The split whose test set is the source entries with mask[k] != 0, where k is the entry's
/// position in the source's CSR arrays; train holds the others.
/// @throws InvalidArgument if mask.size() != source.nnz().
template <class T>
Split<T> split_from_mask(const RatingMatrix<T>& source, const std::vector<std::uint8_t>& mask) {
    check_arg(mask.size() == source.nnz(), "split_from_mask: mask has ", mask.size(), " entries, the matrix has ",
              source.nnz(), " ratings");
    return Split<T>{source.filter([&](std::size_t k) { return mask[k] == 0; }),
                    source.filter([&](std::size_t k) { return mask[k] != 0; })};
}

/// The split's test mask over the source: 1 for each CSR entry of `source` that is in split.test,
/// 0 otherwise (aligned with source.item_indices()). O(nnz).
/// @throws InvalidArgument if the split is not in the source's index space, or split.test holds a
///         pair the source does not.
template <class T>
std::vector<std::uint8_t> test_mask(const RatingMatrix<T>& source, const Split<T>& split) {
    check_arg(source.same_space(split.test), "test_mask: the split's test matrix (", split.test.n_users(), " users x ",
              split.test.n_items(), " items) is not in the source's index space (", source.n_users(), " x ",
              source.n_items(), ")");
    std::vector<std::uint8_t> mask(source.nnz(), 0);
    const auto& rp = source.row_ptr();
    const auto& idx = source.item_indices();
    const auto& trp = split.test.row_ptr();
    const auto& tidx = split.test.item_indices();
    for (std::size_t u = 0; u < source.n_users(); ++u) {
        std::size_t k = rp[u];
        for (std::size_t t = trp[u]; t < trp[u + 1]; ++t) {
            while (k < rp[u + 1] && idx[k] < tidx[t]) ++k;
            check_arg(k < rp[u + 1] && idx[k] == tidx[t], "test_mask: the test pair (user index ", u,
                      ", item index ", tidx[t], ") is not in the source");
            mask[k++] = 1;
        }
    }
    return mask;
}

/// The notebook's per-user holdout. For every user with at least `min_ratings` ratings, n of
/// them, `max(1, int(fraction * n))` ratings (int truncates; computed in double like Python)
/// chosen uniformly at random go to test; users with fewer ratings stay whole in train. Users are
/// visited in index order, each drawing with a partial Fisher-Yates shuffle from one Rng(seed).
/// On MovieLens 100K with the defaults: 19633 test and 80367 train ratings.
/// @pre 0 < fraction < 1, min_ratings >= 1.
/// @throws InvalidArgument otherwise.
template <class T>
Split<T> per_user_holdout(const RatingMatrix<T>& m, std::uint64_t seed, double fraction = 0.2,
                          std::size_t min_ratings = 5) {
    detail::check_fraction(fraction, "per_user_holdout", "fraction");
    check_arg(min_ratings >= 1, "per_user_holdout: min_ratings must be >= 1, got ", min_ratings);
    Rng rng(seed);
    std::vector<std::uint8_t> mask(m.nnz(), 0);
    std::vector<std::size_t> scratch;
    const auto& rp = m.row_ptr();
    for (std::size_t u = 0; u < m.n_users(); ++u) {
        const std::size_t n = rp[u + 1] - rp[u];
        if (n < min_ratings) continue;
        const auto k = std::max<std::size_t>(1, static_cast<std::size_t>(fraction * static_cast<double>(n)));
        const std::size_t base = rp[u];
        detail::mark_sample(rng, n, k, [base](std::size_t j) { return base + j; }, scratch, mask);
    }
    return split_from_mask(m, mask);
}

/// A uniformly random split of all (user, item) pairs, like scikit-learn's train_test_split:
/// exactly `ceil(test_fraction * nnz)` ratings go to test.
/// @pre 0 < test_fraction < 1, and the train part is not empty.
/// @throws InvalidArgument otherwise.
template <class T>
Split<T> random_split(const RatingMatrix<T>& m, double test_fraction, std::uint64_t seed) {
    detail::check_fraction(test_fraction, "random_split", "test_fraction");
    const std::size_t n = m.nnz();
    const auto n_test = static_cast<std::size_t>(std::ceil(test_fraction * static_cast<double>(n)));
    check_arg(n_test < n, "random_split: test_fraction ", test_fraction, " of ", n, " ratings leaves ", n - n_test,
              " for train; need at least one");
    Rng rng(seed);
    std::vector<std::uint8_t> mask(n, 0);
    std::vector<std::size_t> scratch;
    detail::mark_sample(rng, n, n_test, [](std::size_t j) { return j; }, scratch, mask);
    return split_from_mask(m, mask);
}

/// The number of test ratings stratified_split takes from a group of n ratings:
/// `min(n - 1, n - round((1 - test_fraction) * n))` for n >= 1, with Python's round (half to even),
/// and 0 for n == 0. This is Microsoft Recommenders' python_stratified_split(ratio = 1 -
/// test_fraction) rule (train = round(ratio * n)), except that every group keeps at least one
/// training rating (so groups of one rating always stay whole in train).
inline std::size_t stratified_test_count(std::size_t n, double test_fraction) {
    if (n == 0) return 0;
    const std::size_t train = detail::round_half_even((1.0 - test_fraction) * static_cast<double>(n));
    const std::size_t test = train >= n ? 0 : n - train;
    return std::min(test, n - 1);
}

/// A split stratified by user (By::user) or by item (By::item): each group of n ratings puts
/// stratified_test_count(n, test_fraction) of them, chosen uniformly at random, in test. Groups are
/// visited in index order with one Rng(seed). Microsoft Recommenders' protocol is
/// stratified_split(m, 0.25, seed, By::item).
/// @pre 0 < test_fraction < 1.
/// @throws InvalidArgument otherwise.
template <class T>
Split<T> stratified_split(const RatingMatrix<T>& m, double test_fraction, std::uint64_t seed, By by) {
    detail::check_fraction(test_fraction, "stratified_split", "test_fraction");
    Rng rng(seed);
    std::vector<std::uint8_t> mask(m.nnz(), 0);
    std::vector<std::size_t> scratch;
    if (by == By::user) {
        const auto& rp = m.row_ptr();
        for (std::size_t u = 0; u < m.n_users(); ++u) {
            const std::size_t n = rp[u + 1] - rp[u], base = rp[u];
            detail::mark_sample(rng, n, stratified_test_count(n, test_fraction),
                                [base](std::size_t j) { return base + j; }, scratch, mask);
        }
    } else {
        const auto pos = detail::item_major_positions(m);
        const auto& ip = m.item_ptr();
        for (std::size_t i = 0; i < m.n_items(); ++i) {
            const std::size_t n = ip[i + 1] - ip[i], base = ip[i];
            detail::mark_sample(rng, n, stratified_test_count(n, test_fraction),
                                [&pos, base](std::size_t j) { return pos[base + j]; }, scratch, mask);
        }
    }
    return split_from_mask(m, mask);
}

/// Leave-one-out by time (the NCF protocol): each user's latest rating goes to test, the others to
/// train. Ties in timestamp go to the larger item index. Users with a single rating stay whole in
/// train. Deterministic (no seed).
/// @throws InvalidArgument if m has no timestamps.
template <class T>
Split<T> leave_one_out(const RatingMatrix<T>& m) {
    check_arg(m.has_timestamps(), "leave_one_out: the matrix has no timestamps (", m.nnz(), " ratings)");
    std::vector<std::uint8_t> mask(m.nnz(), 0);
    const auto& rp = m.row_ptr();
    const auto& ts = m.timestamps();
    for (std::size_t u = 0; u < m.n_users(); ++u) {
        if (rp[u + 1] - rp[u] < 2) continue;
        std::size_t best = rp[u];
        // Items increase along the row, so ">=" keeps the larger item index on ties.
        for (std::size_t k = rp[u] + 1; k < rp[u + 1]; ++k)
            if (ts[k] >= ts[best]) best = k;
        mask[best] = 1;
    }
    return split_from_mask(m, mask);
}

/// The fold of each CSR entry for k-fold cross-validation: the entries are shuffled with Rng(seed)
/// and cut into k consecutive parts, the first nnz % k of size nnz / k + 1 and the rest of size
/// nnz / k (scikit-learn's KFold sizes). out[e] is the fold (0..k-1) of CSR entry e.
/// @pre k >= 2 and k <= nnz.
/// @throws InvalidArgument otherwise.
template <class T>
std::vector<std::uint32_t> kfold_assignment(const RatingMatrix<T>& m, std::size_t k, std::uint64_t seed) {
    check_arg(k >= 2, "kfold: k must be >= 2, got ", k);
    check_arg(k <= m.nnz(), "kfold: k = ", k, " folds for only ", m.nnz(), " ratings");
    check_arg(k <= 0xffffffffu, "kfold: k = ", k, " is too large");
    Rng rng(seed);
    const std::size_t n = m.nnz();
    const auto perm = rng.permutation<std::size_t>(n);
    std::vector<std::uint32_t> fold(n);
    const std::size_t base_size = n / k, extra = n % k;
    std::size_t p = 0;
    for (std::size_t f = 0; f < k; ++f) {
        const std::size_t size = base_size + (f < extra ? 1 : 0);
        for (std::size_t j = 0; j < size; ++j) fold[perm[p++]] = static_cast<std::uint32_t>(f);
    }
    return fold;
}

/// k-fold cross-validation over shuffled pairs: result[f].test is fold f of
/// kfold_assignment(m, k, seed) and result[f].train the other folds. The k test sets partition m;
/// their sizes differ by at most one. Materialises k splits (k copies of m); for large data, take
/// kfold_assignment() and build one split at a time with split_from_mask().
/// @pre k >= 2 and k <= nnz.
/// @throws InvalidArgument otherwise.
template <class T>
std::vector<Split<T>> kfold(const RatingMatrix<T>& m, std::size_t k, std::uint64_t seed) {
    const auto fold = kfold_assignment(m, k, seed);
    std::vector<Split<T>> out;
    out.reserve(k);
    for (std::size_t f = 0; f < k; ++f)
        out.push_back(Split<T>{m.filter([&](std::size_t e) { return fold[e] != f; }),
                               m.filter([&](std::size_t e) { return fold[e] == f; })});
    return out;
}

}  // namespace cfnet
