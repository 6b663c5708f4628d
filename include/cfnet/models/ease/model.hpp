#pragma once
/// @file models/ease/model.hpp
/// Ease<T>: EASE, the closed-form linear item-item autoencoder of Steck (2019):
///
///     G = X^T X + lambda I,   P = G^-1,   B = I - P diag(1 / diag(P))   (so diag(B) = 0),
///     score(u, j) = x_u B[:, j] = sum over the items i of u of B[i][j].
///
/// X is the user x item interaction matrix: every stored entry counts as 1, the values are
/// ignored (binarise ratings first with to_implicit, data/implicit.hpp, e.g. rating >= 4).
///
/// Fit: the Gram is built sparse from the CSR rows (nn::gram_upper, upper triangle only; X is
/// never densified), lambda is added to its diagonal, and LAPACK's Cholesky factorisation and
/// inverse (spotrf + spotri in float, dpotrf + dpotri in double) turn it into P in place; one
/// tiled pass then writes B over P (both triangles, scaled, diagonal zero). Peak memory: one
/// k x k matrix (k = kept items) plus the interactions copied once as a pattern and the Gram
/// kernel's column lists (16 bytes per interaction). fit() checks that against memory_limit before
/// allocating. With lambda candidates, each candidate is fitted on the training part of a
/// validation split (the same buffer reused) and ranked by evaluate_ranking; see EaseOptions.
///
/// Scores need only the input's row of the user, so any user of any matrix in the model's item
/// space (same item ids) is scored, new users included (fold-in is the same formula).
/// Items outside the kept set (max_items) score -inf.

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/models/ease/options.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_linear.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

template <class T = float>
class Ease {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// One lambda candidate and its validation metric (EaseOptions::lambdas).
    struct Candidate {
        double lambda = 0;
        double metric = 0;
    };

    /// Wall-clock seconds of the phases of the last closed-form solve (the final refit when lambda
    /// is selected): the sparse Gram (with the pattern copy of the interactions), the Cholesky
    /// factorisation, the inverse, and the pass writing B.
    struct Timings {
        double gram = 0, factor = 0, inverse = 0, weights = 0;
        double total() const noexcept { return gram + factor + inverse + weights; }
    };

    /// @throws InvalidArgument if the options are invalid.
    explicit Ease(EaseOptions options = {}) : opt_(std::move(options)) { opt_.validate(); }

    /// Fits B on `train` (values ignored: every stored entry is an interaction), choosing lambda
    /// on a validation part of `train` first when options().lambdas is not empty.
    /// @throws InvalidArgument if train has no interactions, or (before allocating) if the fit
    ///         needs more than the memory limit; NumericalError if the Cholesky factorisation fails.
    Ease& fit(const RatingMatrix<T>& train) {
        check_arg(train.nnz() > 0, "Ease::fit: the training matrix has no interactions (", train.n_users(), " users x ",
                  train.n_items(), " items)");
        check_arg(train.n_items() <= static_cast<size_type>(std::numeric_limits<int>::max()),
                  "Ease::fit: ", train.n_items(), " items do not fit LAPACK's int sizes");
        fitted_ = false;
        choose_items(train);
        check_memory(train);
        BlasThreads guard(opt_.threads);
        selection_.clear();
        lambda_ = opt_.lambda;
        item_map_ = train.items();
        if (!opt_.lambdas.empty()) {
            const Split<T> val = stratified_split(train, opt_.validation_fraction, opt_.seed, By::user);
            double best = -1;
            for (const double l : opt_.lambdas) {
                solve(val.train, l);
                fitted_ = true;
                const RankingReport r = evaluate_ranking(val.train, val.test, opt_.validation_k, make_scorer(val.train),
                                                         RankingOptions().all_test_items_relevant());
                fitted_ = false;
                const double m = opt_.selection == EaseSelection::ndcg ? r.ndcg : r.precision;
                selection_.push_back({l, m});
                if (m > best) {
                    best = m;
                    lambda_ = l;
                }
            }
        }
        solve(train, lambda_);
        n_users_ = train.n_users();
        fitted_ = true;
        return *this;
    }

    /// The bytes fit(train) needs at its peak with these options (the k x k matrix, the pattern copy
    /// of the interactions and the Gram kernel's column lists), without allocating anything.
    size_type fit_memory(const RatingMatrix<T>& train) const {
        const size_type k = opt_.max_items == 0 ? train.n_items() : std::min(opt_.max_items, train.n_items());
        size_type need = k * k * sizeof(T) + train.nnz() * (sizeof(index_type) + sizeof(T) + 12) +
                         train.n_users() * 2 * sizeof(size_type) + train.n_items() * 40;
        if (!opt_.lambdas.empty())  // the validation split: two matrices, CSR + item-major each
            need += train.nnz() * (2 * (sizeof(index_type) + sizeof(T)) + (train.has_timestamps() ? 8 : 0)) +
                    train.n_users() * 4 * sizeof(size_type);
        return need;
    }

    /// For a fit on a user shard (distributed/ease.hpp): `reduce(gram, k)` is called on the k x k
    /// Gram matrix of this process's users (upper triangle) before the solve, to sum it over all
    /// shards. An empty function (the default) does nothing.
    void set_gram_reduction(std::function<void(T*, size_type)> reduce) { reduce_ = std::move(reduce); }

    bool fitted() const noexcept { return fitted_; }
    /// Recommender interface: scores rank items; they are not ratings.
    bool predicts_ratings() const noexcept { return false; }
    bool supports_fold_in() const noexcept { return true; }
    const EaseOptions& options() const noexcept { return opt_; }
    /// The lambda of the fitted B (options().lambda, or the selected candidate).
    double selected_lambda() const noexcept { return lambda_; }
    /// The candidates of the last fit with their validation metric, in the order given.
    const std::vector<Candidate>& selection() const noexcept { return selection_; }
    size_type n_items() const noexcept { return item_map_.size(); }
    size_type n_users() const noexcept { return n_users_; }
    const IdMap& item_map() const noexcept { return item_map_; }
    /// The kept items (item indices, increasing); all items unless max_items restricts them.
    const std::vector<index_type>& kept_items() const noexcept { return kept_; }
    /// B over the kept items (kept_items().size() squared, row i = the weights item kept_items()[i]
    /// gives to every kept item).
    const Matrix<T>& weights() const noexcept { return b_; }
    /// The phases of the last solve of fit() (not stored in model files).
    const Timings& timings() const noexcept { return timings_; }

    /// out[0 .. n_items()) = x_u B for the user's row of `input` (an item space equal to the model's).
    /// @throws InvalidArgument if not fitted, input is in another item space or user is out of range.
    void score_items(const RatingMatrix<T>& input, index_type user, T* out) const {
        check_input("score_items", input);
        check_arg(user < input.n_users(), "Ease::score_items: user index ", user, " out of range (", input.n_users(),
                  " users)");
        const auto items = input.user_items(user);
        std::vector<T> scratch;
        score_row(items.begin(), items.end(), out, scratch);
    }

    /// scorer(u, out) = score_items(input, u, out), checked once; keeps the model and input by reference.
    auto make_scorer(const RatingMatrix<T>& input) const {
        check_input("make_scorer", input);
        const Ease* m = this;
        const RatingMatrix<T>* in = &input;
        return [m, in, scratch = std::vector<T>()](index_type u, T* out) mutable {
            const auto items = in->user_items(u);
            m->score_row(items.begin(), items.end(), out, scratch);
        };
    }

    /// The score of each (user, item) pair, users being rows of `input`.
    /// @throws InvalidArgument as score_items, or for an item out of range.
    std::vector<T> predict(const RatingMatrix<T>& input, const std::vector<std::pair<index_type, index_type>>& pairs) const {
        check_input("predict", input);
        std::vector<T> out;
        out.reserve(pairs.size());
        for (size_type p = 0; p < pairs.size(); ++p) {
            const auto [u, i] = pairs[p];
            check_arg(u < input.n_users() && i < input.n_items(), "Ease::predict: pair ", p, " (user index ", u,
                      ", item index ", i, ") out of range for ", input.n_users(), " users x ", input.n_items(), " items");
            out.push_back(pair_score(input, u, i));
        }
        return out;
    }

    /// The score of every pair stored in `pairs` (same users and items as input), in its CSR order.
    std::vector<T> predict(const RatingMatrix<T>& input, const RatingMatrix<T>& pairs) const {
        check_input("predict", input);
        check_arg(input.n_users() == pairs.n_users() && input.n_items() == pairs.n_items(), "Ease::predict: input is ",
                  input.n_users(), " x ", input.n_items(), " but pairs is ", pairs.n_users(), " x ", pairs.n_items());
        std::vector<T> out;
        out.reserve(pairs.nnz());
        for (size_type u = 0; u < pairs.n_users(); ++u)
            for (const auto i : pairs.user_items(static_cast<index_type>(u)))
                out.push_back(pair_score(input, static_cast<index_type>(u), i));
        return out;
    }

    /// The k best items for a user of `input`, their items in `input` excluded unless !exclude_seen.
    /// @throws InvalidArgument as score_items; NumericalError for a NaN score.
    std::vector<Recommendation<T>> recommend(const RatingMatrix<T>& input, index_type user, size_type k,
                                             bool exclude_seen = true) const {
        std::vector<T> scores(n_items());
        score_items(input, user, scores.data());
        const auto seen = input.user_items(user);
        return select_recommendations("Ease::recommend", user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr);
    }

    /// recommend(input, u, k, exclude_seen) for each of `users`, streamed to sink(u, recs): blocks of
    /// users scored at once as a sparse x dense product (their rows times B), then top-k per row.
    /// @throws InvalidArgument before any sink call when a user is out of range.
    template <class Sink>
    void recommend_batch(const RatingMatrix<T>& input, const std::vector<index_type>& users, size_type k, Sink&& sink,
                         bool exclude_seen = true) const {
        check_input("recommend_batch", input);
        for (const auto u : users)
            check_arg(u < input.n_users(), "Ease::recommend_batch: user index ", u, " out of range (", input.n_users(),
                      " users)");
        const size_type kept = kept_.size(), n = n_items(), block = 64;
        nn::SparseBatch<T> batch(kept);
        std::vector<index_type> slots;
        Matrix<T> y;
        std::vector<T> full(all_kept() ? 0 : n);
        std::vector<index_type> ranked;
        std::vector<Recommendation<T>> recs;
        for (size_type b0 = 0; b0 < users.size(); b0 += block) {
            const size_type nb = std::min(block, users.size() - b0);
            batch.clear();
            for (size_type r = 0; r < nb; ++r) {
                const auto items = input.user_items(users[b0 + r]);
                to_slots(items.begin(), items.end(), slots);
                batch.add_pattern_row(slots);
            }
            ensure_shape(y, nb, kept);
            std::fill(y.begin(), y.end(), T(0));
            nn::times_dense(batch, b_.data(), kept, y.data());
            for (size_type r = 0; r < nb; ++r) {
                const index_type u = users[b0 + r];
                const T* s = y.data() + r * kept;
                if (!all_kept()) {
                    std::fill(full.begin(), full.end(), -std::numeric_limits<T>::infinity());
                    for (size_type j = 0; j < kept; ++j) full[kept_[j]] = s[j];
                    s = full.data();
                }
                const auto seen = input.user_items(u);
                select_recommendations("Ease::recommend_batch", u, s, n, k, exclude_seen ? seen.begin() : nullptr,
                                       exclude_seen ? seen.end() : nullptr, ranked, recs);
                sink(u, static_cast<const std::vector<Recommendation<T>>&>(recs));
            }
        }
    }

    /// Fold-in: the k best items for a user given by their item indices (the model's item space, no
    /// repeats); `ratings` only has to match in size (values are ignored). Seen items excluded
    /// unless !exclude_seen.
    /// @throws InvalidArgument before fit, for sizes that differ, an item out of range or repeated.
    std::vector<Recommendation<T>> recommend(const std::vector<index_type>& items, const std::vector<T>& ratings,
                                             size_type k, bool exclude_seen = true) const {
        check_fitted("recommend");
        check_arg(items.size() == ratings.size(), "Ease::recommend: ", items.size(), " items but ", ratings.size(),
                  " ratings");
        std::vector<index_type> seen(items);
        std::sort(seen.begin(), seen.end());
        for (size_type j = 0; j < seen.size(); ++j) {
            check_arg(seen[j] < n_items(), "Ease::recommend: item index ", seen[j], " out of range (", n_items(),
                      " items)");
            check_arg(j == 0 || seen[j - 1] != seen[j], "Ease::recommend: item index ", seen[j], " is repeated");
        }
        std::vector<T> scores(n_items()), scratch;
        score_row(seen.data(), seen.data() + seen.size(), scores.data(), scratch);
        return select_recommendations("Ease::recommend", folded_in_user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.data() : nullptr,
                                      exclude_seen ? seen.data() + seen.size() : nullptr);
    }

    /// Writes the options, the item ids, the kept items and B to `path` (io.hpp).
    /// @throws InvalidArgument before fit(); IoError when writing fails.
    void save(const std::string& path) const;
    /// Reads a model written by save(). @throws IoError for an unreadable, corrupt or other model's
    /// file; InvalidArgument for another scalar type.
    static Ease load(const std::string& path);

private:
    /// Sets the OpenBLAS threads for a scope and restores the previous value (0: no change).
    struct BlasThreads {
        explicit BlasThreads(int n) : saved(n > 0 ? blas_threads() : 0) {
            if (n > 0) set_blas_threads(n);
        }
        ~BlasThreads() {
            if (saved > 0) set_blas_threads(saved);
        }
        BlasThreads(const BlasThreads&) = delete;
        BlasThreads& operator=(const BlasThreads&) = delete;
        int saved;
    };

    static constexpr index_type npos = std::numeric_limits<index_type>::max();

    bool all_kept() const noexcept { return kept_.size() == slot_.size(); }

    void check_fitted(const char* fn) const { check_arg(fitted_, "Ease::", fn, ": the model is not fitted"); }

    void check_input(const char* fn, const RatingMatrix<T>& input) const {
        check_fitted(fn);
        check_arg(input.n_items() == n_items() && (&input.items() == &item_map_ || input.items().ids() == item_map_.ids()),
                  "Ease::", fn, ": the input's item space (", input.n_items(),
                  " items) is not the model's (", n_items(), " items, the same ids in the same order)");
    }

    /// kept_ / slot_ from the training counts (max_items most frequent, ties by smaller index).
    void choose_items(const RatingMatrix<T>& train) {
        const size_type n = train.n_items();
        kept_.resize(n);
        std::iota(kept_.begin(), kept_.end(), index_type(0));
        if (opt_.max_items > 0 && opt_.max_items < n) {
            const auto& ip = train.item_ptr();
            std::stable_sort(kept_.begin(), kept_.end(),
                             [&](index_type a, index_type b) { return ip[a + 1] - ip[a] > ip[b + 1] - ip[b]; });
            kept_.resize(opt_.max_items);
            std::sort(kept_.begin(), kept_.end());
        }
        slot_.assign(n, npos);
        for (size_type s = 0; s < kept_.size(); ++s) slot_[kept_[s]] = static_cast<index_type>(s);
    }

    void check_memory(const RatingMatrix<T>& train) const {
        const size_type need = fit_memory(train), limit = opt_.effective_memory_limit(), k = kept_.size();
        check_arg(need <= limit, "Ease::fit: needs about ", need, " bytes (", k, " x ", k, " matrix of ", sizeof(T),
                  "-byte scalars: ", k * k * sizeof(T), " bytes, plus buffers for ", train.nnz(),
                  " interactions) but the memory limit is ", limit,
                  " bytes: set EaseOptions::max_items (e.g. ", suggest_items(train, limit),
                  ") to keep the most frequent items, or raise memory_limit");
    }

    size_type suggest_items(const RatingMatrix<T>& train, size_type limit) const {
        const size_type rest = fit_memory(train) - kept_.size() * kept_.size() * sizeof(T);
        if (limit <= rest) return 1;
        size_type k = 1;
        while ((k + 1) * (k + 1) * sizeof(T) <= limit - rest && k + 1 < kept_.size()) k = k * 2 > kept_.size() ? k + 1 : k * 2;
        while (k > 1 && k * k * sizeof(T) > limit - rest) --k;
        return k;
    }

    /// The kept slots of a sorted item list (slots increase with items).
    template <class It>
    void to_slots(It first, It last, std::vector<index_type>& out) const {
        out.clear();
        for (; first != last; ++first)
            if (slot_[*first] != npos) out.push_back(slot_[*first]);
    }

    /// B = I - P diag(1/diag P) for the lambda, from the interactions of `data`, into b_.
    void solve(const RatingMatrix<T>& data, double lambda) {
        using clock = std::chrono::steady_clock;
        const auto seconds = [](clock::time_point a, clock::time_point b) {
            return std::chrono::duration<double>(b - a).count();
        };
        const auto t0 = clock::now();
        const size_type k = kept_.size();
        {
            nn::SparseBatch<T> x(k);
            x.reserve(data.n_users(), data.nnz());
            std::vector<index_type> slots;
            for (size_type u = 0; u < data.n_users(); ++u) {
                const auto items = data.user_items(static_cast<index_type>(u));
                to_slots(items.begin(), items.end(), slots);
                x.add_pattern_row(slots);
            }
            ensure_shape(b_, k, k);
            std::fill(b_.begin(), b_.end(), T(0));
            nn::gram_upper(x, b_, true, std::max(opt_.threads, 1));
        }
        if (reduce_) reduce_(b_.data(), k);
        T* a = b_.data();
        for (size_type i = 0; i < k; ++i) a[i * k + i] += static_cast<T>(lambda);
        const auto t1 = clock::now();
        int info = cholesky_factor(Triangle::upper, k, a, k);
        const auto t2 = clock::now();
        if (info != 0)
            throw NumericalError(detail::concat("Ease::fit: X^T X + lambda I is not positive definite in ",
                                                sizeof(T) == 4 ? "float" : "double", " (LAPACK potrf info ", info,
                                                ", lambda ", lambda, "): use a larger lambda"));
        info = cholesky_inverse(Triangle::upper, k, a, k);
        if (info != 0)
            throw NumericalError(detail::concat("Ease::fit: the Cholesky inverse failed (LAPACK potri info ", info,
                                                ", lambda ", lambda, ")"));
        const auto t3 = clock::now();
        finish_weights(a, k);
        timings_ = {seconds(t0, t1), seconds(t1, t2), seconds(t2, t3), seconds(t3, clock::now())};
    }

    /// P (upper triangle) -> B in place, tile by tile: B[i][j] = -P_ij / P_jj, B[j][i] = -P_ij / P_ii.
    static void finish_weights(T* a, size_type k) {
        std::vector<T> inv(k);
        for (size_type i = 0; i < k; ++i) inv[i] = T(1) / a[i * k + i];
        constexpr size_type tile = 64;
        for (size_type i0 = 0; i0 < k; i0 += tile) {
            const size_type i1 = std::min(i0 + tile, k);
            for (size_type j0 = i0; j0 < k; j0 += tile) {
                const size_type j1 = std::min(j0 + tile, k);
                for (size_type i = i0; i < i1; ++i) {
                    T* ri = a + i * k;
                    for (size_type j = std::max(j0, i + 1); j < j1; ++j) {
                        const T p = ri[j];
                        ri[j] = -p * inv[j];
                        a[j * k + i] = -p * inv[i];
                    }
                }
            }
            for (size_type i = i0; i < i1; ++i) a[i * k + i] = T(0);
        }
    }

    /// out[0 .. n_items()) = scores of the user with the sorted items [first, last).
    /// `scratch` holds the kept items' scores when not all items are kept.
    void score_row(const index_type* first, const index_type* last, T* out, std::vector<T>& scratch) const {
        const size_type k = kept_.size();
        if (all_kept()) {
            std::fill(out, out + k, T(0));
            for (; first != last; ++first) add_row(b_.data() + static_cast<size_type>(*first) * k, out, k);
            return;
        }
        scratch.assign(k, T(0));
        for (; first != last; ++first)
            if (slot_[*first] != npos) add_row(b_.data() + static_cast<size_type>(slot_[*first]) * k, scratch.data(), k);
        std::fill(out, out + n_items(), -std::numeric_limits<T>::infinity());
        for (size_type j = 0; j < k; ++j) out[kept_[j]] = scratch[j];
    }

    static void add_row(const T* b, T* out, size_type k) {
        for (size_type j = 0; j < k; ++j) out[j] += b[j];
    }

    T pair_score(const RatingMatrix<T>& input, index_type u, index_type i) const {
        if (slot_[i] == npos) return -std::numeric_limits<T>::infinity();
        const size_type col = slot_[i];
        T s = T(0);
        for (const auto j : input.user_items(u))
            if (slot_[j] != npos) s += b_(slot_[j], col);
        return s;
    }

    EaseOptions opt_;
    IdMap item_map_{std::vector<id_type>{}, "item"};
    size_type n_users_ = 0;
    std::vector<index_type> kept_;
    std::vector<index_type> slot_;
    Matrix<T> b_;
    double lambda_ = 0;
    std::vector<Candidate> selection_;
    Timings timings_;
    bool fitted_ = false;
    std::function<void(T*, size_type)> reduce_;  // set_gram_reduction
};

}  // namespace cfnet

#include <cfnet/models/ease/io.hpp>
