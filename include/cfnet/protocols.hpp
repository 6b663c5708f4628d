#pragma once
/// @file protocols.hpp
/// The two standard top-N evaluation protocols as library functions (docs/evaluation.md):
///
/// (a) Microsoft Recommenders (their examples/06_benchmarks): a 75/25 split of each user's ratings
///     (stratified_split(all, 0.25, seed, By::user)), k = 10, every held-out item relevant, the
///     user's training items and the items without training ratings removed from the candidates,
///     Precision/Recall/NDCG/MAP@10 averaged over the users with a held-out item.
///     ms_recommenders_split(), ms_recommenders_options(), evaluate_ms_recommenders(), and
///     run_ms_recommenders() (fit a model per seed, per-seed reports and their mean).
///
/// (b) Strong generalisation (Liang et al. 2018, "Variational Autoencoders for Collaborative
///     Filtering"): interactions = ratings > 3.5, users with >= 5 interactions; held-out users
///     (user_holdout_split, data/split.hpp), each scored from 80% of his interactions (fold-in)
///     against the other 20% (target); Recall@20 and Recall@50 with the min(K, |target|)
///     denominator, NDCG@100; the fold-in items are not candidates; averaged over the held-out
///     users with a non-empty target. strong_generalization_data(), strong_generalization_split(),
///     evaluate_strong_generalization().
///
/// Level 1 (beside metrics.hpp): includes data/, metrics.hpp and recommender.hpp only; models come
/// in as template parameters.

#include <cfnet/data/implicit.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/recommender.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace cfnet {

// --- (a) Microsoft Recommenders -------------------------------------------------------------------

/// The k of the Microsoft Recommenders protocol.
inline constexpr std::size_t ms_recommenders_k = 10;

/// The protocol's split: 25% of each user's ratings (stratified_test_count: round half to even,
/// at least one kept in train) to test, drawn with Rng(seed) (python_stratified_split(ratio=0.75,
/// filter_by="user"); the same sizes, not the same pairs: numpy's stream is not reproduced).
template <class T>
Split<T> ms_recommenders_split(const RatingMatrix<T>& ratings, std::uint64_t seed) {
    return stratified_split(ratings, 0.25, seed, By::user);
}

/// The protocol's ranking rules: every test item relevant, the user's training items excluded, and
/// the items without training ratings excluded (their predictions cover the training items only).
inline RankingOptions ms_recommenders_options() {
    return RankingOptions().all_test_items_relevant().exclude_train_items(true).exclude_items_unseen_in_train(true);
}

/// evaluate_ranking(split.train, split.test, 10, score_fn, ms_recommenders_options()) on
/// `threads` threads (1: the calling thread; 0: all cores; != 1 needs score_fn =
/// cfnet::per_thread(factory); the same report for any count).
/// Their precision_at_k, recall_at_k, ndcg_at_k and map_at_k are report.precision, .recall, .ndcg
/// and .map; their map() (the "MAP" of their published tables) is report.map_r.
/// @throws as evaluate_ranking.
template <class T, class ScoreFn>
RankingReport evaluate_ms_recommenders(const Split<T>& split, ScoreFn&& score_fn, int threads = 1) {
    return evaluate_ranking(split.train, split.test, ms_recommenders_k, std::forward<ScoreFn>(score_fn),
                            ms_recommenders_options().use_threads(threads));
}

/// run_ms_recommenders' result: one report per seed, in the order of `seeds`, and their
/// mean_report().
struct ProtocolRuns {
    std::vector<std::uint64_t> seeds;
    std::vector<RankingReport> per_seed;
    RankingReport mean;
};

/// The mean of several reports (e.g. one per seed): every metric averaged, users_evaluated and
/// users_skipped the means rounded down, k the first report's. An empty list gives a zero report.
inline RankingReport mean_report(const std::vector<RankingReport>& r) {
    RankingReport m;
    if (r.empty()) return m;
    const auto n = static_cast<double>(r.size());
    std::size_t ue = 0, us = 0;
    for (const auto& x : r) {
        m.precision += x.precision / n;
        m.recall += x.recall / n;
        m.ndcg += x.ndcg / n;
        m.hit_rate += x.hit_rate / n;
        m.map += x.map / n;
        m.recall_capped += x.recall_capped / n;
        m.map_r += x.map_r / n;
        ue += x.users_evaluated;
        us += x.users_skipped;
    }
    m.users_evaluated = ue / r.size();
    m.users_skipped = us / r.size();
    m.k = r.front().k;
    return m;
}

/// The Microsoft Recommenders protocol over several split seeds: for each seed s,
/// split = ms_recommenders_split(ratings, s); model = make_model(s) (an unfitted recommender,
/// recommender.hpp; its own seed may follow s); model.fit(split.train); the report of
/// model.make_scorer(split.train) (one scorer per thread: `threads` as evaluate_ms_recommenders;
/// training itself is not threaded here). Hyper-parameters are make_model's business: they must come from
/// defaults, presets or a validation part of split.train, never from split.test.
/// @throws InvalidArgument if `seeds` is empty or for a bad thread count; whatever the model and
///         evaluate_ranking throw.
template <class T, class MakeModel>
ProtocolRuns run_ms_recommenders(const RatingMatrix<T>& ratings, const std::vector<std::uint64_t>& seeds,
                                 MakeModel&& make_model, int threads = 1) {
    check_arg(!seeds.empty(), "run_ms_recommenders: no seed given");
    detail::resolve_threads("run_ms_recommenders", threads);
    ProtocolRuns out;
    out.seeds = seeds;
    for (const auto s : seeds) {
        const Split<T> split = ms_recommenders_split(ratings, s);
        auto model = make_model(s);
        model.fit(split.train);
        const auto& m = model;
        out.per_seed.push_back(
            evaluate_ms_recommenders(split, per_thread([&] { return m.make_scorer(split.train); }), threads));
    }
    out.mean = mean_report(out.per_seed);
    return out;
}

// --- (b) strong generalisation ------------------------------------------------------------------

/// The reference preprocessing and split of the strong-generalisation protocol.
struct StrongGeneralizationOptions {
    double threshold = 3.5;                   ///< interactions are ratings > threshold
    std::size_t min_user_interactions = 5;    ///< users with fewer interactions are dropped
    /// Validation users and test users (each); empty: default_heldout_users(kept users)
    /// (10% each, at most 10,000: ML-20M's 10,000).
    std::optional<std::size_t> heldout_users;
    double target_fraction = 0.2;             ///< int(fraction * n) of a held-out user's interactions are the target
    std::size_t min_target_user = 5;          ///< held-out users with fewer interactions have no target
};

/// Liang et al.'s preprocessing: the ratings > options.threshold as 0/1 interactions
/// (to_implicit(ratings, Binarize::above(threshold))), the users with at least
/// options.min_user_interactions of them, and the items those users interacted with (no item
/// filter). A new index space (users and items that lose every entry are gone), ids and index order
/// kept; timestamps kept.
template <class T>
RatingMatrix<T> strong_generalization_data(const RatingMatrix<T>& ratings, const StrongGeneralizationOptions& o = {}) {
    const RatingMatrix<T> x = to_implicit(ratings, Binarize::above(o.threshold));
    std::vector<index_type> users;
    for (std::size_t u = 0; u < x.n_users(); ++u)
        if (x.user_count(static_cast<index_type>(u)) >= o.min_user_interactions && x.user_count(static_cast<index_type>(u)) > 0)
            users.push_back(static_cast<index_type>(u));
    std::vector<std::uint8_t> used(x.n_items(), 0);
    for (const auto u : users)
        for (const auto i : x.user_items(u)) used[i] = 1;
    std::vector<std::size_t> new_item(x.n_items(), static_cast<std::size_t>(-1));
    std::vector<id_type> ids;
    for (std::size_t i = 0; i < x.n_items(); ++i)
        if (used[i]) {
            new_item[i] = ids.size();
            ids.push_back(x.items().id(static_cast<index_type>(i)));
        }
    return detail::select_rows(x, users, new_item, std::make_shared<const IdMap>(std::move(ids), "item"));
}

/// strong_generalization_data(ratings, options), then user_holdout_split with
/// options.heldout_users (or default_heldout_users of the kept users), options.target_fraction and
/// options.min_target_user, drawn from `seed`.
/// @throws InvalidArgument as user_holdout_split (too few users for the held-out count).
template <class T>
UserHoldoutSplit<T> strong_generalization_split(const RatingMatrix<T>& ratings, std::uint64_t seed,
                                                const StrongGeneralizationOptions& o = {}) {
    const RatingMatrix<T> x = strong_generalization_data(ratings, o);
    const std::size_t n = o.heldout_users ? *o.heldout_users : default_heldout_users(x.n_users());
    return user_holdout_split(x, n, seed, o.target_fraction, o.min_target_user);
}

/// The strong-generalisation metrics.
struct StrongGeneralizationReport {
    double recall20 = 0.0;  ///< Recall@20 = mean of hits@20 / min(20, |target|)
    double recall50 = 0.0;  ///< Recall@50 = mean of hits@50 / min(50, |target|)
    double ndcg100 = 0.0;   ///< NDCG@100 (binary, log2, ideal = min(100, |target|) hits first)
    std::size_t users_evaluated = 0;  ///< held-out users with a non-empty target
    std::size_t users_skipped = 0;    ///< held-out users without one (not scored)
};

/// The metrics of a scorer over one held-out part: score_fn(u, scores) scores held-out user u
/// (index of fold_in) from his fold-in row (e.g. model.make_scorer(fold_in) for an input-driven
/// model); his fold-in items are not candidates; every target item is relevant. One ranking of 100
/// items per user (evaluate_ranking at k = 20, 50, 100). `threads` as evaluate_ms_recommenders.
/// @throws as evaluate_ranking (different index spaces, no user with a target, NaN scores, threads).
template <class T, class ScoreFn>
StrongGeneralizationReport evaluate_strong_generalization(const RatingMatrix<T>& fold_in, const RatingMatrix<T>& target,
                                                          ScoreFn&& score_fn, int threads = 1) {
    const auto r = evaluate_ranking(fold_in, target, std::vector<std::size_t>{20, 50, 100},
                                    std::forward<ScoreFn>(score_fn),
                                    RankingOptions().all_test_items_relevant().use_threads(threads));
    StrongGeneralizationReport out;
    out.recall20 = r[0].recall_capped;
    out.recall50 = r[1].recall_capped;
    out.ndcg100 = r[2].ndcg;
    out.users_evaluated = r[0].users_evaluated;
    out.users_skipped = r[0].users_skipped;
    return out;
}

/// The test part of a split for a model fitted on split.train that scores a user from an input
/// row (fold-in): evaluate_strong_generalization(split.test_fold_in, split.test_target,
/// model.make_scorer(split.test_fold_in)), one scorer per thread on `threads` threads (1: the
/// calling thread; 0: all cores; the same report for any count). Use split.validation_* for model
/// selection.
template <class T, class Model>
StrongGeneralizationReport evaluate_strong_generalization(const UserHoldoutSplit<T>& split, const Model& model,
                                                          int threads = 1) {
    return evaluate_strong_generalization(split.test_fold_in, split.test_target,
                                          per_thread([&] { return model.make_scorer(split.test_fold_in); }), threads);
}

}  // namespace cfnet
