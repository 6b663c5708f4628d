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
/// | user_holdout_split  | strong generalisation (Liang et al. 2018): held-out users, fold-in/target |
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
#include <memory>
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
/// stratified_split(m, 0.25, seed, By::user) (python_stratified_split's default filter_by="user";
/// protocols.hpp, ms_recommenders_split).
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

// --- strong generalisation: held-out users ------------------------------------------------------

/// The default number of validation users and of test users of user_holdout_split for `n_users`
/// users: 10% of them each, at most 10,000 and at least 1 (Liang et al. 2018 hold out 10,000 of
/// ML-20M's 136,677 users, 40,000 of Netflix's 463,435 and 50,000 of MSD's 571,355: 7-9%).
/// ML-20M gives 10,000 (the paper), ML-100K after the preprocessing 94 of its 943 users.
inline std::size_t default_heldout_users(std::size_t n_users) {
    return std::max<std::size_t>(1, std::min<std::size_t>(10000, n_users / 10));
}

/// The result of user_holdout_split. `train` is the training users x the training items (the items
/// with at least one training interaction). validation_fold_in / validation_target share one index
/// space (the validation users x the training items), as do test_fold_in / test_target; their item
/// map is train's (same ids, same order: a model fitted on train scores them directly).
template <class T = float>
struct UserHoldoutSplit {
    RatingMatrix<T> train;
    RatingMatrix<T> validation_fold_in, validation_target;
    RatingMatrix<T> test_fold_in, test_target;
};

namespace detail {

/// The rows `users` of m (in that order) restricted to the items with new_item[i] != npos, mapped
/// to new_item[i] (an increasing map, so rows stay sorted), in the index space (users' ids, items).
template <class T>
RatingMatrix<T> select_rows(const RatingMatrix<T>& m, const std::vector<index_type>& users,
                            const std::vector<std::size_t>& new_item, std::shared_ptr<const IdMap> items) {
    std::vector<id_type> uids;
    uids.reserve(users.size());
    for (const auto u : users) uids.push_back(m.users().id(u));
    std::vector<std::size_t> rp(users.size() + 1, 0);
    std::vector<index_type> idx;
    std::vector<T> vals;
    std::vector<std::int64_t> ts;
    for (std::size_t r = 0; r < users.size(); ++r) {
        const auto row = m.user_items(users[r]);
        const auto val = m.user_ratings(users[r]);
        for (std::size_t j = 0; j < row.size(); ++j) {
            if (new_item[row[j]] == static_cast<std::size_t>(-1)) continue;
            idx.push_back(static_cast<index_type>(new_item[row[j]]));
            vals.push_back(val[j]);
            if (m.has_timestamps()) ts.push_back(m.user_timestamps(users[r])[j]);
        }
        rp[r + 1] = idx.size();
    }
    return RatingMatrix<T>(std::make_shared<IdMap>(std::move(uids), "user"), std::move(items), std::move(rp),
                           std::move(idx), std::move(vals), std::move(ts));
}

}  // namespace detail

/// Strong generalisation (Liang et al. 2018, "Variational Autoencoders for Collaborative
/// Filtering"): the users with at least one entry in `m` are shuffled with Rng(seed); the last
/// 2 * n_heldout of that order are held out, the first n_heldout of those for validation and the
/// last n_heldout for test; the others are the training users, whose entries are all in `train`.
/// The item space is the items of the training users' entries (index order of `m`); held-out
/// entries on other items are dropped. Each held-out user with n >= min_target_user remaining
/// entries puts int(target_fraction * n) of them, uniformly at random, in the target (the rest is
/// the fold-in); users with fewer entries are all fold-in (no target). Validation users draw from
/// Rng(seed + 1), test users from Rng(seed + 2), in user order (Liang's
/// split_train_test_proportion, which reseeds for each part). Users within each matrix keep the
/// index order of `m`. Values and timestamps are kept.
/// @pre 0 < target_fraction < 1; n_heldout >= 1 and 2 * n_heldout < the number of users with an
///      entry (at least one training user).
/// @throws InvalidArgument otherwise.
template <class T>
UserHoldoutSplit<T> user_holdout_split(const RatingMatrix<T>& m, std::size_t n_heldout, std::uint64_t seed,
                                       double target_fraction = 0.2, std::size_t min_target_user = 5) {
    detail::check_fraction(target_fraction, "user_holdout_split", "target_fraction");
    std::vector<index_type> active;
    for (std::size_t u = 0; u < m.n_users(); ++u)
        if (m.user_count(static_cast<index_type>(u)) > 0) active.push_back(static_cast<index_type>(u));
    check_arg(n_heldout >= 1, "user_holdout_split: n_heldout must be >= 1");
    check_arg(2 * n_heldout < active.size(), "user_holdout_split: 2 x ", n_heldout, " held-out users leave no training user (",
              active.size(), " users with interactions)");
    Rng rng(seed);
    rng.shuffle(active.begin(), active.end());
    const std::size_t n_train = active.size() - 2 * n_heldout;
    std::vector<index_type> tr(active.begin(), active.begin() + static_cast<std::ptrdiff_t>(n_train));
    std::vector<index_type> vd(active.begin() + static_cast<std::ptrdiff_t>(n_train),
                               active.begin() + static_cast<std::ptrdiff_t>(n_train + n_heldout));
    std::vector<index_type> te(active.begin() + static_cast<std::ptrdiff_t>(n_train + n_heldout), active.end());
    for (auto* v : {&tr, &vd, &te}) std::sort(v->begin(), v->end());
    // the training items, in index order
    std::vector<std::uint8_t> in_train(m.n_items(), 0);
    for (const auto u : tr)
        for (const auto i : m.user_items(u)) in_train[i] = 1;
    std::vector<std::size_t> new_item(m.n_items(), static_cast<std::size_t>(-1));
    std::vector<id_type> iids;
    for (std::size_t i = 0; i < m.n_items(); ++i)
        if (in_train[i]) {
            new_item[i] = iids.size();
            iids.push_back(m.items().id(static_cast<index_type>(i)));
        }
    auto items = std::make_shared<const IdMap>(std::move(iids), "item");
    UserHoldoutSplit<T> out;
    out.train = detail::select_rows(m, tr, new_item, items);
    auto fold = [&](const std::vector<index_type>& users, std::uint64_t stream) {
        const RatingMatrix<T> h = detail::select_rows(m, users, new_item, items);
        Rng r(seed + stream);
        std::vector<std::uint8_t> mask(h.nnz(), 0);
        std::vector<std::size_t> scratch;
        const auto& rp = h.row_ptr();
        for (std::size_t u = 0; u < h.n_users(); ++u) {
            const std::size_t n = rp[u + 1] - rp[u], base = rp[u];
            if (n < min_target_user) continue;
            const auto k = static_cast<std::size_t>(target_fraction * static_cast<double>(n));
            detail::mark_sample(r, n, k, [base](std::size_t j) { return base + j; }, scratch, mask);
        }
        return split_from_mask(h, mask);
    };
    auto v = fold(vd, 1);
    auto t = fold(te, 2);
    out.validation_fold_in = std::move(v.train);
    out.validation_target = std::move(v.test);
    out.test_fold_in = std::move(t.train);
    out.test_target = std::move(t.test);
    return out;
}

}  // namespace cfnet
