#pragma once
/// @file data/synthetic.hpp
/// A seeded generator of MovieLens-shaped rating data, for tests and benchmarks at any scale.
///
/// The model: every user u gets a count c_u of ratings from a power law over a random ranking of
/// the users (Zipf weights (r + 1)^-a, water-filled so that min_ratings_per_user <= c_u <=
/// n_items / 2 and the counts sum exactly to n_ratings). Each user's items are drawn without
/// replacement, weighted by a power-law popularity over a random ranking of the items (Zipf
/// weights (r + 1)^-b; alias table with rejection of repeats, or Efraimidis-Spirakis keys for very
/// active users: both are the same successive-sampling distribution). A rating is
///
///     clamp(round_to_step(global_mean + b_u + b_i + <p_u, q_i> + noise * N(0, 1)))
///
/// with Gaussian biases and rank-`rank` Gaussian factors scaled so that <p_u, q_i> has standard
/// deviation factor_std. Rounding is to the grid rating_min + k * rating_step (half up).
///
/// The CSR arrays are written directly (users in index order, items sorted in each row), so the
/// memory is about n_ratings * (4 + sizeof(T) + 8 with timestamps) bytes plus the RatingMatrix's
/// item-major index: a vector<Rating> is never built. User ids are 1..n_users and item ids
/// 1..n_items, like MovieLens.
///
/// Independent random streams (derived from `seed`) drive the counts, the items, the model
/// parameters, the noise and the timestamps, so turning timestamps off does not change the ratings.

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

namespace cfnet::synthetic {

/// What to generate. Plain fields with MovieLens 100K-like defaults; start from a preset
/// (ml100k(), ml1m(), ml10m(), ml25m(), ml20m_implicit()) and change the fields you need.
struct SyntheticOptions {
    std::size_t n_users = 943;
    std::size_t n_items = 1682;
    std::size_t n_ratings = 100000;
    /// Rank of the user/item factor structure (0: biases only).
    std::size_t rank = 10;
    /// Standard deviation of the Gaussian noise added to each rating before rounding.
    double noise = 0.7;
    double global_mean = 3.55;
    double user_bias_std = 0.4;
    double item_bias_std = 0.5;
    /// Standard deviation of the interaction term <p_u, q_i>.
    double factor_std = 0.6;
    /// Zipf exponent a of user activity (0: everyone equally active; larger: heavier tail).
    double user_activity_exponent = 0.6;
    /// Zipf exponent b of item popularity (0: uniform items).
    double item_popularity_exponent = 0.9;
    /// Every user has at least this many ratings (20 in MovieLens).
    std::size_t min_ratings_per_user = 20;
    double rating_min = 1.0;
    double rating_max = 5.0;
    /// Rating grid step: 1 for MovieLens 100K/1M, 0.5 for 10M and later.
    double rating_step = 1.0;
    bool timestamps = true;
    /// Unix seconds of the first possible timestamp, and the length of the period.
    std::int64_t timestamp_begin = 874724710;
    std::int64_t timestamp_span = 18'000'000;
    std::uint64_t seed = 42;
};

/// MovieLens 100K's shape: 943 users x 1682 items, 100000 ratings 1..5 step 1.
inline SyntheticOptions ml100k() { return SyntheticOptions{}; }

/// MovieLens 1M's shape: 6040 users x 3706 items, 1000209 ratings 1..5 step 1.
inline SyntheticOptions ml1m() {
    SyntheticOptions o;
    o.n_users = 6040;
    o.n_items = 3706;
    o.n_ratings = 1000209;
    o.timestamp_begin = 956703932;
    o.timestamp_span = 89'750'658;
    return o;
}

/// MovieLens 10M's shape: 69878 users x 10677 items, 10000054 ratings 0.5..5 step 0.5.
inline SyntheticOptions ml10m() {
    SyntheticOptions o;
    o.n_users = 69878;
    o.n_items = 10677;
    o.n_ratings = 10000054;
    o.rating_min = 0.5;
    o.rating_step = 0.5;
    o.timestamp_begin = 789652009;
    o.timestamp_span = 441'705'000;
    return o;
}

/// MovieLens 25M's shape: 162541 users x 59047 items, 25000095 ratings 0.5..5 step 0.5.
inline SyntheticOptions ml25m() {
    SyntheticOptions o = ml10m();
    o.n_users = 162541;
    o.n_items = 59047;
    o.n_ratings = 25000095;
    o.timestamp_span = 784'675'694;
    return o;
}

/// MovieLens "latest-small"'s shape (ml-latest-small.zip): 610 users x 9,724 items, 100,836
/// ratings 0.5..5 step 0.5, users with >= 20 ratings, and a long tail of items: item popularity
/// Zipf 1.2 and user activity Zipf 0.7 give a median item count of 3, ~16% of the items with one
/// rating and ~9% with none (the real file has a median of 3 and 35% with one rating; no Zipf
/// exponent gives both tails at once). A shape no preset was chosen on, for checking that the
/// accuracy presets hold on new data (issue 14).
inline SyntheticOptions ml_latest_small() {
    SyntheticOptions o = ml10m();
    o.n_users = 610;
    o.n_items = 9724;
    o.n_ratings = 100836;
    o.item_popularity_exponent = 1.2;
    o.user_activity_exponent = 0.7;
    o.timestamp_begin = 828124615;
    o.timestamp_span = 709'000'000;
    return o;
}

/// MovieLens 20M after Liang et al.'s preprocessing for implicit feedback (ratings > 3.5 kept,
/// users with >= 5 of them; "Variational Autoencoders for Collaborative Filtering", 2018): 136677
/// users x 20108 items, 9990682 interactions, every user >= 5, long-tailed users and items. The
/// values are the kept ratings' grid 4..5 step 0.5 (binarise with to_implicit); no timestamps (the
/// set is for implicit-feedback models at scale, e.g. EASE's fit: benchmarks/bench_ease.cpp).
inline SyntheticOptions ml20m_implicit() {
    SyntheticOptions o;
    o.n_users = 136677;
    o.n_items = 20108;
    o.n_ratings = 9990682;
    o.min_ratings_per_user = 5;
    o.global_mean = 4.4;
    o.rating_min = 4.0;
    o.rating_max = 5.0;
    o.rating_step = 0.5;
    o.timestamps = false;
    return o;
}

namespace detail {

/// Integer counts proportional to `weights` (all > 0), each in [lo, hi], summing exactly to
/// `total`: every entry gets lo, and total - n * lo is shared in proportion to the weights with the
/// entries whose share would pass hi - lo capped there (water-filling, largest weights first); the
/// fractional remainders go by largest remainder, ties to the smaller position.
/// @pre lo <= hi and n * lo <= total <= n * hi.
inline std::vector<std::size_t> allocate_counts(const std::vector<double>& weights, std::size_t total, std::size_t lo,
                                                std::size_t hi) {
    const std::size_t n = weights.size();
    check_arg(lo <= hi, "allocate_counts: lo ", lo, " > hi ", hi);
    check_arg(n * lo <= total && total <= n * hi, "allocate_counts: ", total, " cannot be split into ", n,
              " counts in [", lo, ", ", hi, "]");
    std::vector<std::size_t> out(n, lo);
    if (n == 0) return out;
    const std::size_t cap = hi - lo;
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return weights[a] > weights[b]; });
    // Suffix sums of the weights in decreasing order.
    std::vector<double> suffix(n + 1, 0.0);
    for (std::size_t r = n; r-- > 0;) suffix[r] = suffix[r + 1] + weights[order[r]];
    // Cap the heaviest entries while their proportional share of what is left exceeds the cap.
    std::size_t remaining = total - n * lo;
    std::size_t c = 0;
    while (c < n && static_cast<double>(remaining) * weights[order[c]] / suffix[c] > static_cast<double>(cap)) {
        out[order[c]] += cap;
        remaining -= cap;
        ++c;
    }
    if (c == n) return out;  // everything capped: remaining is 0 by the precondition
    std::vector<double> frac(n, 0.0);
    std::size_t given = 0;
    for (std::size_t r = c; r < n; ++r) {
        const double ideal =
            std::min(static_cast<double>(cap), static_cast<double>(remaining) * weights[order[r]] / suffix[c]);
        const auto fl = std::min(cap, static_cast<std::size_t>(std::floor(ideal)));
        out[order[r]] += fl;
        given += fl;
        frac[r] = ideal - static_cast<double>(fl);
    }
    // Rounding can only leave a few units (or, by floating error, a few too many).
    while (given > remaining) {  // take back from the smallest remainders
        std::size_t best = n;
        for (std::size_t r = c; r < n; ++r)
            if (out[order[r]] > lo && (best == n || frac[r] < frac[best])) best = r;
        --out[order[best]];
        frac[best] += 1.0;
        --given;
    }
    if (given < remaining) {
        std::vector<std::size_t> by_frac;
        for (std::size_t r = c; r < n; ++r) by_frac.push_back(r);
        std::stable_sort(by_frac.begin(), by_frac.end(), [&](std::size_t a, std::size_t b) { return frac[a] > frac[b]; });
        while (given < remaining) {
            for (const auto r : by_frac) {
                if (given == remaining) break;
                if (out[order[r]] < hi) {
                    ++out[order[r]];
                    ++given;
                }
            }
        }
    }
    return out;
}

/// Zipf weights (r + 1)^-exponent over a random ranking of n entries (the ranking from `rng`).
inline std::vector<double> power_law_weights(std::size_t n, double exponent, Rng& rng) {
    const auto perm = rng.permutation<std::size_t>(n);
    std::vector<double> w(n);
    for (std::size_t r = 0; r < n; ++r) w[perm[r]] = std::pow(static_cast<double>(r + 1), -exponent);
    return w;
}

/// Walker/Vose alias table: O(1) draws from a discrete distribution.
class AliasTable {
public:
    explicit AliasTable(const std::vector<double>& weights) : prob_(weights.size()), alias_(weights.size()) {
        const std::size_t n = weights.size();
        const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
        std::vector<double> scaled(n);
        std::vector<index_type> small, large;
        for (std::size_t i = 0; i < n; ++i) {
            scaled[i] = weights[i] * static_cast<double>(n) / sum;
            (scaled[i] < 1.0 ? small : large).push_back(static_cast<index_type>(i));
        }
        while (!small.empty() && !large.empty()) {
            const index_type s = small.back(), l = large.back();
            small.pop_back();
            prob_[s] = scaled[s];
            alias_[s] = l;
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        for (const auto i : large) prob_[i] = 1.0, alias_[i] = i;
        for (const auto i : small) prob_[i] = 1.0, alias_[i] = i;  // floating leftovers
    }

    index_type draw(Rng& rng) const {
        const auto i = static_cast<index_type>(rng.below(prob_.size()));
        return rng.uniform() < prob_[i] ? i : alias_[i];
    }

private:
    std::vector<double> prob_;
    std::vector<index_type> alias_;
};

/// Throws InvalidArgument naming the first bad field of `o`.
inline void validate(const SyntheticOptions& o) {
    const char* f = "synthetic::generate";
    check_arg(o.n_users >= 1 && o.n_items >= 2, f, ": need at least 1 user and 2 items, got ", o.n_users, " users x ",
              o.n_items, " items");
    check_arg(o.n_users <= std::numeric_limits<index_type>::max() && o.n_items <= std::numeric_limits<index_type>::max(),
              f, ": ", o.n_users, " users x ", o.n_items, " items exceed the index type");
    const std::size_t cap = o.n_items / 2;
    check_arg(o.min_ratings_per_user >= 1 && o.min_ratings_per_user <= cap, f, ": min_ratings_per_user ",
              o.min_ratings_per_user, " must be in [1, n_items / 2 = ", cap, "]");
    check_arg(o.n_ratings >= o.n_users * o.min_ratings_per_user, f, ": n_ratings ", o.n_ratings, " < n_users ",
              o.n_users, " x min_ratings_per_user ", o.min_ratings_per_user);
    check_arg(o.n_ratings <= o.n_users * cap, f, ": n_ratings ", o.n_ratings, " > n_users ", o.n_users,
              " x n_items / 2 (", cap, ")");
    check_arg(std::isfinite(o.noise) && o.noise >= 0 && std::isfinite(o.user_bias_std) && o.user_bias_std >= 0 &&
                  std::isfinite(o.item_bias_std) && o.item_bias_std >= 0 && std::isfinite(o.factor_std) &&
                  o.factor_std >= 0 && std::isfinite(o.global_mean),
              f, ": noise, bias and factor standard deviations must be finite and >= 0");
    check_arg(std::isfinite(o.user_activity_exponent) && o.user_activity_exponent >= 0 &&
                  std::isfinite(o.item_popularity_exponent) && o.item_popularity_exponent >= 0,
              f, ": power-law exponents must be finite and >= 0, got ", o.user_activity_exponent, " and ",
              o.item_popularity_exponent);
    check_arg(std::isfinite(o.rating_min) && std::isfinite(o.rating_max) && o.rating_min < o.rating_max, f,
              ": rating_min ", o.rating_min, " must be < rating_max ", o.rating_max);
    check_arg(std::isfinite(o.rating_step) && o.rating_step > 0, f, ": rating_step must be > 0, got ", o.rating_step);
    const double levels = (o.rating_max - o.rating_min) / o.rating_step;
    check_arg(std::abs(levels - std::round(levels)) < 1e-9, f, ": (rating_max - rating_min) = ",
              o.rating_max - o.rating_min, " is not a multiple of rating_step ", o.rating_step);
    check_arg(!o.timestamps || o.timestamp_span >= 1, f, ": timestamp_span must be >= 1, got ", o.timestamp_span);
}

/// Appends c distinct items drawn by popularity, sorted, to `items` (one user's): rejection of
/// repeats while c is small against the catalogue (giving up on a pathological rejection rate),
/// else Efraimidis-Spirakis (the c smallest Exp(1) / w_i). seen[i] == stamp marks the user's items.
inline void draw_items(std::size_t c, std::uint32_t stamp, const AliasTable& alias, const std::vector<double>& popularity,
                       Rng& rng, std::vector<std::uint32_t>& seen, std::vector<std::pair<double, index_type>>& keys,
                       std::vector<index_type>& items) {
    const std::size_t ni = popularity.size(), first = items.size();
    bool done = false;
    if (c * 4 < ni) {
        std::size_t attempts = 0;
        const std::size_t limit = 16 * c + 1024;
        while (items.size() - first < c && attempts < limit) {
            ++attempts;
            const index_type i = alias.draw(rng);
            if (seen[i] == stamp) continue;
            seen[i] = stamp;
            items.push_back(i);
        }
        done = items.size() - first == c;
        if (!done) items.resize(first);
    }
    if (!done) {
        keys.resize(ni);
        for (std::size_t i = 0; i < ni; ++i)
            keys[i] = {-std::log1p(-rng.uniform()) / popularity[i], static_cast<index_type>(i)};
        std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(c - 1), keys.end());
        for (std::size_t k = 0; k < c; ++k) items.push_back(keys[k].second);
    }
    std::sort(items.begin() + static_cast<std::ptrdiff_t>(first), items.end());
}

}  // namespace detail

/// Generates the ratings described by `options` (see the file comment for the model).
/// Deterministic for options.seed on every standard library.
/// @throws InvalidArgument naming the field if the options are inconsistent (e.g. n_ratings below
///         n_users * min_ratings_per_user or above n_users * n_items / 2).
template <class T = float>
RatingMatrix<T> generate(const SyntheticOptions& options) {
    const SyntheticOptions& o = options;
    detail::validate(o);
    const std::size_t nu = o.n_users, ni = o.n_items, cap = ni / 2;

    // Per-user counts.
    Rng count_rng(derive_seed(o.seed, 1));
    const auto counts = detail::allocate_counts(detail::power_law_weights(nu, o.user_activity_exponent, count_rng),
                                                o.n_ratings, o.min_ratings_per_user, cap);

    // Item popularity.
    Rng item_rng(derive_seed(o.seed, 2));
    const auto popularity = detail::power_law_weights(ni, o.item_popularity_exponent, item_rng);
    const detail::AliasTable alias(popularity);

    // Model parameters.
    Rng model_rng(derive_seed(o.seed, 3));
    std::vector<double> user_bias(nu), item_bias(ni), p(nu * o.rank), q(ni * o.rank);
    for (auto& b : user_bias) b = o.user_bias_std * model_rng.normal();
    for (auto& b : item_bias) b = o.item_bias_std * model_rng.normal();
    // Each factor entry ~ N(0, s^2) so that <p, q> has variance rank * s^4 = factor_std^2.
    const double s = o.rank ? std::sqrt(o.factor_std / std::sqrt(static_cast<double>(o.rank))) : 0.0;
    for (auto& x : p) x = s * model_rng.normal();
    for (auto& x : q) x = s * model_rng.normal();

    Rng noise_rng(derive_seed(o.seed, 4));
    Rng time_rng(derive_seed(o.seed, 5));
    const auto levels = static_cast<long long>(std::llround((o.rating_max - o.rating_min) / o.rating_step));

    std::vector<std::size_t> row_ptr(nu + 1, 0);
    std::vector<index_type> items;
    std::vector<T> values;
    std::vector<std::int64_t> stamps;
    items.reserve(o.n_ratings);
    values.reserve(o.n_ratings);
    if (o.timestamps) stamps.reserve(o.n_ratings);

    std::vector<std::uint32_t> seen(ni, 0);  // seen[i] == u + 1: user u already has item i
    std::vector<std::pair<double, index_type>> keys;
    for (std::size_t u = 0; u < nu; ++u) {
        const std::size_t first = items.size();
        detail::draw_items(counts[u], static_cast<std::uint32_t>(u + 1), alias, popularity, item_rng, seen, keys, items);

        const double* pu = p.data() + u * o.rank;
        for (std::size_t k = first; k < items.size(); ++k) {
            const index_type i = items[k];
            const double* qi = q.data() + static_cast<std::size_t>(i) * o.rank;
            double x = o.global_mean + user_bias[u] + item_bias[i];
            for (std::size_t f = 0; f < o.rank; ++f) x += pu[f] * qi[f];
            x += o.noise * noise_rng.normal();
            auto level = static_cast<long long>(std::floor((x - o.rating_min) / o.rating_step + 0.5));
            level = std::clamp(level, 0LL, levels);
            values.push_back(static_cast<T>(o.rating_min + static_cast<double>(level) * o.rating_step));
        }
        if (o.timestamps) {
            // The user is active in [start, start + duration); ratings fall uniformly inside.
            const auto span = static_cast<std::uint64_t>(o.timestamp_span);
            const auto start = time_rng.below(span);
            const auto duration = 1 + time_rng.below(span - start);
            for (std::size_t k = first; k < items.size(); ++k)
                stamps.push_back(o.timestamp_begin + static_cast<std::int64_t>(start + time_rng.below(duration)));
        }
        row_ptr[u + 1] = items.size();
    }

    std::vector<id_type> uids(nu), iids(ni);
    std::iota(uids.begin(), uids.end(), id_type(1));
    std::iota(iids.begin(), iids.end(), id_type(1));
    return RatingMatrix<T>(std::make_shared<IdMap>(std::move(uids), "user"),
                           std::make_shared<IdMap>(std::move(iids), "item"), std::move(row_ptr), std::move(items),
                           std::move(values), std::move(stamps));
}

}  // namespace cfnet::synthetic
