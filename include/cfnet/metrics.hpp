#pragma once
/// @file metrics.hpp
/// Evaluation metrics and the evaluation protocol (see docs/evaluation.md).
///
/// - Rating prediction: rmse(), mae(), and evaluate_rating() over a test RatingMatrix.
/// - Top-N, per user: precision_at_k(), recall_at_k(), ndcg_at_k(), hit_rate_at_k(),
///   average_precision_at_k(), recall_capped_at_k(), average_precision_r_at_k() (all at once:
///   ranking_metrics_at_k()).
/// - Top-N, streaming over all users: evaluate_ranking() at one k or several (one score buffer, no
///   users x items memory). The two standard protocols built on it are in protocols.hpp.
///
/// Definitions (binary relevance; `ranked` best first; only its first k entries count; `relevant`
/// is the user's relevant set, R = |relevant|, hits = relevant items among the first k ranked):
/// - precision@k = hits / k. The denominator is k even when fewer than k items were ranked (a user
///   with only 3 candidates can reach at most 0.3 at k = 10), as in Microsoft Recommenders and the
///   original notebook.
/// - recall@k    = hits / R.
/// - hit_rate@k  = 1 if hits > 0, else 0.
/// - ndcg@k      = DCG / IDCG with DCG = sum over hit positions i (1-based) of 1 / log2(i + 1) and
///   IDCG = sum_{i=1}^{min(k, R)} 1 / log2(i + 1).
/// - AP@k        = (sum over hit positions i of precision@i) / min(k, R). MAP@k is its mean
///   (Microsoft Recommenders' map_at_k, Spark's meanAveragePrecisionAt).
/// - recall_capped@k = hits / min(k, R) (Liang et al. 2018's Recall@k: 1 is reachable when R > k).
/// - AP_R@k      = (sum over hit positions i of precision@i) / R: Microsoft Recommenders' map(), the
///   "MAP" column of their published benchmark tables until 2026 (their issue #2309).
/// recall, ndcg and AP are 0/0 for a user without relevant items: the per-user functions throw,
/// and evaluate_ranking() skips such users (and counts them in RankingReport::users_skipped).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/threads.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

static_assert(std::is_same_v<index_type, std::uint32_t>, "recommender.hpp's top_k defaults to std::uint32_t indices");

// --- rating prediction ------------------------------------------------------------------------

namespace detail {

template <class A, class B, class F>
double mean_of_errors(const char* fn, const A& predictions, const B& truths, F f) {
    const auto n = static_cast<std::size_t>(std::size(predictions));
    check_arg(n == static_cast<std::size_t>(std::size(truths)), fn, ": ", n, " predictions for ",
              static_cast<std::size_t>(std::size(truths)), " truths");
    check_arg(n > 0, fn, ": empty input");
    double sum = 0.0;
    auto p = std::begin(predictions);
    auto t = std::begin(truths);
    for (std::size_t k = 0; k < n; ++k, ++p, ++t) sum += f(static_cast<double>(*p) - static_cast<double>(*t));
    return sum / static_cast<double>(n);
}

}  // namespace detail

/// Root mean squared error of aligned predictions and truths (any sized ranges of numbers:
/// std::vector, cfnet::Span, cfnet::Vector, ...), accumulated in double.
/// @throws InvalidArgument if the sizes differ or the input is empty.
template <class A, class B>
double rmse(const A& predictions, const B& truths) {
    return std::sqrt(detail::mean_of_errors("rmse", predictions, truths, [](double e) { return e * e; }));
}

/// Mean absolute error of aligned predictions and truths, accumulated in double.
/// @throws InvalidArgument if the sizes differ or the input is empty.
template <class A, class B>
double mae(const A& predictions, const B& truths) {
    return detail::mean_of_errors("mae", predictions, truths, [](double e) { return std::fabs(e); });
}

/// Result of evaluate_rating().
struct RatingReport {
    double rmse = 0.0;
    double mae = 0.0;
    std::size_t count = 0;  ///< number of (user, item) pairs evaluated
};

/// A scorer (or predictor) factory for the `threads` options: `per_thread(f)` tells
/// evaluate_ranking / evaluate_rating to call f() once on every thread they use and to give each
/// thread its own result (a score_fn / predict_fn with its own scratch), e.g.
/// `cfnet::per_thread([&] { return model.make_scorer(train); })`. A plain score_fn is called from
/// the calling thread only, so it is refused with threads != 1.
template <class Factory>
struct PerThread {
    Factory make;
};

/// Wraps a factory of score_fn / predict_fn objects (see PerThread).
template <class Factory>
PerThread<std::decay_t<Factory>> per_thread(Factory&& make) {
    return {std::forward<Factory>(make)};
}

namespace detail {

template <class F>
struct is_per_thread : std::false_type {};
template <class F>
struct is_per_thread<PerThread<F>> : std::true_type {};

/// The number of threads of a `threads` option for a function given `Fn`: a plain function object
/// may only run on the calling thread.
template <class Fn>
std::size_t checked_threads(const char* fn, int threads) {
    const std::size_t n = resolve_threads(fn, threads);
    check_arg(n == 1 || is_per_thread<std::decay_t<Fn>>::value, fn, ": threads = ", threads,
              " needs one scorer per thread: pass cfnet::per_thread([&] { return <make a scorer>; }) instead of ",
              "a single function object");
    return n;
}

/// One thread's function: f.make() for a PerThread, else f itself (by reference).
template <class Fn>
decltype(auto) thread_function(Fn& f) {
    if constexpr (is_per_thread<std::decay_t<Fn>>::value)
        return f.make();
    else
        return (f);
}

/// Users per indivisible piece of the threaded evaluations (thread boundaries are multiples of it).
inline constexpr std::size_t evaluation_unit = 128;

}  // namespace detail

/// RMSE and MAE of `predict_fn(user, item)` over every rating stored in `test`.
/// `predict_fn` is called as predict_fn(index_type user, index_type item) and returns a number;
/// the indices are in test's index space (the training data's, for a Split).
/// threads (default 1: the calling thread only; 0: all cores): the users are split between threads
/// in contiguous parts; predict_fn must then be cfnet::per_thread(factory) (one predictor per
/// thread). Every prediction is kept in its pair's slot and the errors are summed in the pairs'
/// CSR order on the calling thread: the result is the same, bit for bit, for any thread count.
/// Memory with threads != 1: one double per test rating.
/// @throws InvalidArgument if `test` is empty, for a bad thread count, or threads != 1 with a plain
///         predict_fn.
/// @throws NumericalError naming the pair if a prediction is NaN or infinite (the first in CSR
///         order, for any thread count).
template <class T, class PredictFn>
RatingReport evaluate_rating(const RatingMatrix<T>& test, PredictFn&& predict_fn, int threads = 1) {
    const char* fn = "evaluate_rating";
    check_arg(!test.empty(), "evaluate_rating: the test matrix has no ratings");
    const std::size_t n_threads = detail::checked_threads<PredictFn>(fn, threads);
    const auto& row_ptr = test.row_ptr();
    const auto& items = test.item_indices();
    const auto& values = test.values();
    auto predict = [&](auto& f, std::size_t u, std::size_t k) {
        const double p = static_cast<double>(f(static_cast<index_type>(u), items[k]));
        if (!std::isfinite(p))
            throw NumericalError(detail::concat("evaluate_rating: prediction for user index ", u, ", item index ",
                                                items[k], " is ", p));
        return p;
    };
    double se = 0.0, ae = 0.0;
    auto add = [&](double p, std::size_t k) {
        const double e = p - static_cast<double>(values[k]);
        se += e * e;
        ae += std::fabs(e);
    };
    if (n_threads == 1) {
        decltype(auto) f = detail::thread_function(predict_fn);
        for (std::size_t u = 0; u < test.n_users(); ++u)
            for (std::size_t k = row_ptr[u]; k < row_ptr[u + 1]; ++k) add(predict(f, u, k), k);
    } else {
        std::vector<double> pred(test.nnz());
        const auto ranges = detail::thread_ranges(test.n_users(), detail::evaluation_unit, n_threads);
        const detail::OneBlasThread one_blas;
        detail::run_threads(ranges.size(), [&](std::size_t t) {
            decltype(auto) f = detail::thread_function(predict_fn);
            for (std::size_t u = ranges[t].begin; u < ranges[t].end; ++u)
                for (std::size_t k = row_ptr[u]; k < row_ptr[u + 1]; ++k) pred[k] = predict(f, u, k);
        });
        for (std::size_t k = 0; k < pred.size(); ++k) add(pred[k], k);
    }
    const auto n = static_cast<double>(test.nnz());
    return {std::sqrt(se / n), ae / n, test.nnz()};
}

// --- per-user ranking metrics -------------------------------------------------------------------

/// All five per-user ranking metrics at one k.
struct RankingMetrics {
    double precision = 0.0;
    double recall = 0.0;
    double ndcg = 0.0;
    double hit_rate = 0.0;
    double average_precision = 0.0;
    double recall_capped = 0.0;        ///< hits / min(k, R)
    double average_precision_r = 0.0;  ///< AP with the denominator R instead of min(k, R)
};

namespace detail {

/// The metrics from hit flags: hit[i] != 0 if the item at rank i (0-based) is relevant.
/// @pre k > 0, n_ranked <= k, n_relevant > 0.
template <class Flag>
RankingMetrics metrics_from_hits(const Flag* hit, std::size_t n_ranked, std::size_t k, std::size_t n_relevant) {
    std::size_t hits = 0;
    double dcg = 0.0, ap_sum = 0.0;
    for (std::size_t i = 0; i < n_ranked; ++i) {
        if (!hit[i]) continue;
        ++hits;
        dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
        ap_sum += static_cast<double>(hits) / static_cast<double>(i + 1);
    }
    const std::size_t ideal = std::min(k, n_relevant);
    double idcg = 0.0;
    for (std::size_t i = 0; i < ideal; ++i) idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    RankingMetrics m;
    m.precision = static_cast<double>(hits) / static_cast<double>(k);
    m.recall = static_cast<double>(hits) / static_cast<double>(n_relevant);
    m.ndcg = dcg / idcg;
    m.hit_rate = hits > 0 ? 1.0 : 0.0;
    m.average_precision = ap_sum / static_cast<double>(ideal);
    m.recall_capped = static_cast<double>(hits) / static_cast<double>(ideal);
    m.average_precision_r = ap_sum / static_cast<double>(n_relevant);
    return m;
}

/// Copies a range of item indices into a sorted vector; throws on a repeated index.
template <class R>
std::vector<index_type> sorted_unique_items(const char* fn, const char* what, const R& range, std::size_t limit) {
    std::vector<index_type> v;
    for (auto it = std::begin(range); it != std::end(range) && v.size() < limit; ++it)
        v.push_back(static_cast<index_type>(*it));
    std::sort(v.begin(), v.end());
    const auto dup = std::adjacent_find(v.begin(), v.end());
    check_arg(dup == v.end(), fn, ": item index ", dup == v.end() ? 0 : *dup, " repeats in the ", what, " list");
    return v;
}

/// Hit flags of the first min(k, |ranked|) ranked items against the relevant set, after checking
/// the arguments. Returns the number of relevant items.
template <class Ranked, class Relevant>
std::size_t hit_flags(const char* fn, const Ranked& ranked, const Relevant& relevant, std::size_t k,
                      std::vector<unsigned char>& hit) {
    check_arg(k > 0, fn, ": k must be positive");
    const auto rel = sorted_unique_items(fn, "relevant", relevant, static_cast<std::size_t>(-1));
    sorted_unique_items(fn, "ranked", ranked, k);  // only checks for repeats
    hit.clear();
    for (auto it = std::begin(ranked); it != std::end(ranked) && hit.size() < k; ++it)
        hit.push_back(std::binary_search(rel.begin(), rel.end(), static_cast<index_type>(*it)) ? 1 : 0);
    return rel.size();
}

template <class Ranked, class Relevant>
RankingMetrics checked_metrics(const char* fn, const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    std::vector<unsigned char> hit;
    const std::size_t n_relevant = hit_flags(fn, ranked, relevant, k, hit);
    check_arg(n_relevant > 0, fn, ": the relevant set is empty (the metric is 0/0; evaluate_ranking skips such users)");
    return metrics_from_hits(hit.data(), hit.size(), k, n_relevant);
}

}  // namespace detail

/// Precision@k: relevant items among the first k of `ranked`, divided by k (k even when `ranked`
/// is shorter). `ranked` (best first) and `relevant` are ranges of item indices in any order.
/// An empty relevant set gives 0.
/// @throws InvalidArgument if k == 0 or an index repeats within `ranked`'s first k or `relevant`.
template <class Ranked, class Relevant>
double precision_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    std::vector<unsigned char> hit;
    detail::hit_flags("precision_at_k", ranked, relevant, k, hit);
    return static_cast<double>(std::count(hit.begin(), hit.end(), 1)) / static_cast<double>(k);
}

/// HitRate@k: 1 if any of the first k ranked items is relevant, else 0 (0 for an empty relevant set).
/// @throws InvalidArgument as precision_at_k.
template <class Ranked, class Relevant>
double hit_rate_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    std::vector<unsigned char> hit;
    detail::hit_flags("hit_rate_at_k", ranked, relevant, k, hit);
    return std::find(hit.begin(), hit.end(), 1) != hit.end() ? 1.0 : 0.0;
}

/// Recall@k: relevant items among the first k ranked, divided by |relevant|.
/// @throws InvalidArgument as precision_at_k, and if `relevant` is empty.
template <class Ranked, class Relevant>
double recall_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    return detail::checked_metrics("recall_at_k", ranked, relevant, k).recall;
}

/// NDCG@k with binary relevance and a log2(rank + 1) discount; the ideal DCG places
/// min(k, |relevant|) relevant items first.
/// @throws InvalidArgument as precision_at_k, and if `relevant` is empty.
template <class Ranked, class Relevant>
double ndcg_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    return detail::checked_metrics("ndcg_at_k", ranked, relevant, k).ndcg;
}

/// AP@k: the sum of precision@i over the ranks i <= k holding a relevant item, divided by
/// min(k, |relevant|). Its mean over users is MAP@k.
/// @throws InvalidArgument as precision_at_k, and if `relevant` is empty.
template <class Ranked, class Relevant>
double average_precision_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    return detail::checked_metrics("average_precision_at_k", ranked, relevant, k).average_precision;
}

/// Recall@k with the denominator min(k, |relevant|) (Liang et al. 2018): 1 when the first k ranked
/// items are all relevant, even if more items are relevant.
/// @throws InvalidArgument as precision_at_k, and if `relevant` is empty.
template <class Ranked, class Relevant>
double recall_capped_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    return detail::checked_metrics("recall_capped_at_k", ranked, relevant, k).recall_capped;
}

/// AP@k with the denominator |relevant| instead of min(k, |relevant|) (Microsoft Recommenders'
/// map(); equal to average_precision_at_k when |relevant| <= k).
/// @throws InvalidArgument as precision_at_k, and if `relevant` is empty.
template <class Ranked, class Relevant>
double average_precision_r_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    return detail::checked_metrics("average_precision_r_at_k", ranked, relevant, k).average_precision_r;
}

/// All the metrics in one pass.
/// @throws InvalidArgument as precision_at_k, and if `relevant` is empty.
template <class Ranked, class Relevant>
RankingMetrics ranking_metrics_at_k(const Ranked& ranked, const Relevant& relevant, std::size_t k) {
    return detail::checked_metrics("ranking_metrics_at_k", ranked, relevant, k);
}

// --- streaming top-N evaluation -----------------------------------------------------------------

/// Options of evaluate_ranking(). Public fields, plus chained setters:
/// `RankingOptions().threshold(4.0)`.
struct RankingOptions {
    /// Test items rated >= this are relevant; when empty every test item is relevant.
    std::optional<double> relevance_threshold;
    /// Rank only items the user has not rated in train (the protocol). When false every item is
    /// a candidate, training items included.
    bool exclude_train = true;
    /// Also drop the items without any training rating from the candidates (Microsoft
    /// Recommenders ranks only the items of the training data). Their test ratings stay relevant
    /// (they count in R) but can never be hit.
    bool exclude_unseen_items = false;
    /// Threads scoring the users (1: the calling thread only; 0: all cores). With threads != 1 the
    /// score_fn must be cfnet::per_thread(factory). The report is the same, bit for bit, for any count.
    int threads = 1;

    RankingOptions& use_threads(int n) {
        threads = n;
        return *this;
    }
    RankingOptions& threshold(double t) {
        relevance_threshold = t;
        return *this;
    }
    RankingOptions& all_test_items_relevant() {
        relevance_threshold.reset();
        return *this;
    }
    RankingOptions& exclude_train_items(bool on) {
        exclude_train = on;
        return *this;
    }
    RankingOptions& exclude_items_unseen_in_train(bool on) {
        exclude_unseen_items = on;
        return *this;
    }
};

/// Result of evaluate_ranking(): means over the users_evaluated users.
struct RankingReport {
    double precision = 0.0;
    double recall = 0.0;
    double ndcg = 0.0;
    double hit_rate = 0.0;
    double map = 0.0;
    double recall_capped = 0.0;  ///< mean of hits / min(k, R)
    double map_r = 0.0;          ///< mean of AP with the denominator R (Microsoft Recommenders' map())
    std::size_t users_evaluated = 0;  ///< users with at least one relevant test item
    std::size_t users_skipped = 0;    ///< users without one (never scored, not in the means)
    std::size_t k = 0;
};

namespace detail {

/// evaluate_ranking's arguments, checked, and its per-user step (shared by the one-thread,
/// threaded and distributed paths, so they rank every user alike).
template <class T>
struct RankingRun {
    const RatingMatrix<T>& train;
    const RatingMatrix<T>& test;
    const std::vector<std::size_t>& ks;
    const RankingOptions& options;
    std::size_t k_max = 0;
    std::vector<index_type> unseen;  // items without a training rating, increasing

    RankingRun(const RatingMatrix<T>& tr, const RatingMatrix<T>& te, const std::vector<std::size_t>& k,
               const RankingOptions& o)
        : train(tr), test(te), ks(k), options(o) {
        check_arg(!ks.empty(), "evaluate_ranking: no k given");
        for (const auto x : ks) check_arg(x > 0, "evaluate_ranking: k must be positive");
        check_arg(train.same_space(test), "evaluate_ranking: train (", train.n_users(), " users x ", train.n_items(),
                  " items) and test (", test.n_users(), " x ", test.n_items(), ") are not in the same index space");
        k_max = *std::max_element(ks.begin(), ks.end());
        if (options.exclude_unseen_items)
            for (std::size_t i = 0; i < train.n_items(); ++i)
                if (train.item_count(static_cast<index_type>(i)) == 0) unseen.push_back(static_cast<index_type>(i));
    }

    /// One thread's buffers.
    struct Scratch {
        std::vector<T> scores;
        std::vector<index_type> relevant, ranked, excluded;
        std::vector<unsigned char> hit;
    };
    Scratch scratch() const {
        Scratch w;
        w.scores.resize(train.n_items());
        w.relevant.reserve(train.n_items());
        w.ranked.reserve(std::min(k_max, train.n_items()));
        w.hit.reserve(k_max);
        return w;
    }

    /// The metrics of user u at every k into m[0 .. |ks|); false (m untouched) when u has no
    /// relevant test item. @throws NumericalError for a NaN candidate score.
    template <class Score>
    bool rank_user(Score& score, Scratch& w, std::size_t u, RankingMetrics* m) const {
        const std::size_t n_items = train.n_items();
        const auto user = static_cast<index_type>(u);
        const auto items = test.user_items(user);
        const auto ratings = test.user_ratings(user);
        w.relevant.clear();
        for (std::size_t j = 0; j < items.size(); ++j)
            if (!options.relevance_threshold || static_cast<double>(ratings[j]) >= *options.relevance_threshold)
                w.relevant.push_back(items[j]);  // sorted: user_items is increasing
        if (w.relevant.empty()) return false;
        score(user, w.scores.data());
        const auto seen = options.exclude_train ? train.user_items(user) : Span<index_type>();
        const index_type* ex_first = seen.begin();
        const index_type* ex_last = seen.end();
        if (!unseen.empty()) {
            w.excluded.clear();
            std::set_union(seen.begin(), seen.end(), unseen.begin(), unseen.end(), std::back_inserter(w.excluded));
            ex_first = w.excluded.data();
            ex_last = w.excluded.data() + w.excluded.size();
        }
        const std::size_t bad = top_k_into(w.scores.data(), n_items, k_max, ex_first, ex_last, w.ranked);
        if (bad != n_items)
            throw NumericalError(concat("evaluate_ranking: score of user index ", u, ", item index ", bad, " is NaN"));
        w.hit.clear();
        for (const auto i : w.ranked) w.hit.push_back(std::binary_search(w.relevant.begin(), w.relevant.end(), i) ? 1 : 0);
        for (std::size_t r = 0; r < ks.size(); ++r)
            m[r] = metrics_from_hits(w.hit.data(), std::min(ks[r], w.hit.size()), ks[r], w.relevant.size());
        return true;
    }

    /// Users [begin, end) on n_threads threads (boundaries at multiples of evaluation_unit from
    /// `begin`): user u's metrics into slots[(u - begin) * |ks| ..], done[u - begin] = 1 if ranked.
    /// score_fn is a PerThread factory when n_threads > 1.
    template <class ScoreFn>
    void rank_users(ScoreFn& score_fn, std::size_t begin, std::size_t end, std::size_t n_threads,
                    RankingMetrics* slots, unsigned char* done) const {
        const auto ranges = thread_ranges(end - begin, evaluation_unit, n_threads);
        std::optional<OneBlasThread> one_blas;
        if (ranges.size() > 1) one_blas.emplace();
        run_threads(ranges.size(), [&](std::size_t t) {
            decltype(auto) score = thread_function(score_fn);
            Scratch w = scratch();
            for (std::size_t j = ranges[t].begin; j < ranges[t].end; ++j)
                done[j] = rank_user(score, w, begin + j, slots + j * ks.size()) ? 1 : 0;
        });
    }
};

/// The sums of evaluate_ranking, added user by user in user order.
struct RankingSums {
    std::vector<RankingMetrics> sums;
    std::size_t evaluated = 0, skipped = 0;
    explicit RankingSums(std::size_t n_ks) : sums(n_ks) {}
    void add(const RankingMetrics* m) {
        for (std::size_t r = 0; r < sums.size(); ++r) {
            auto& sum = sums[r];
            sum.precision += m[r].precision;
            sum.recall += m[r].recall;
            sum.ndcg += m[r].ndcg;
            sum.hit_rate += m[r].hit_rate;
            sum.average_precision += m[r].average_precision;
            sum.recall_capped += m[r].recall_capped;
            sum.average_precision_r += m[r].average_precision_r;
        }
        ++evaluated;
    }
    /// The reports (means over the evaluated users). @throws InvalidArgument if none was evaluated.
    template <class T>
    std::vector<RankingReport> reports(const RankingRun<T>& run) const {
        const auto& o = run.options;
        check_arg(evaluated > 0, "evaluate_ranking: no user has a relevant test item (", run.test.nnz(), " test ratings",
                  o.relevance_threshold ? ", threshold " : "",
                  o.relevance_threshold ? std::to_string(*o.relevance_threshold) : std::string(), ")");
        std::vector<RankingReport> out(sums.size());
        const auto n = static_cast<double>(evaluated);
        for (std::size_t r = 0; r < sums.size(); ++r) {
            auto& rep = out[r];
            rep.k = run.ks[r];
            rep.users_evaluated = evaluated;
            rep.users_skipped = skipped;
            rep.precision = sums[r].precision / n;
            rep.recall = sums[r].recall / n;
            rep.ndcg = sums[r].ndcg / n;
            rep.hit_rate = sums[r].hit_rate / n;
            rep.map = sums[r].average_precision / n;
            rep.recall_capped = sums[r].recall_capped / n;
            rep.map_r = sums[r].average_precision_r / n;
        }
        return out;
    }
};

}  // namespace detail

/// Top-N evaluation of a scorer over a train/test pair, one user at a time, at several k in one
/// pass (one ranking of max(ks) items per user; the report for k uses its first k entries).
///
/// For every user u with at least one relevant test item (relevant = test items of u rated
/// >= options.relevance_threshold, or all of them when no threshold is set):
/// `score_fn(index_type u, T* scores)` fills scores[0..n_items) (one buffer reused for all users),
/// the candidates (items u did not rate in train, or all items when !options.exclude_train; minus
/// the items without training ratings when options.exclude_unseen_items) are ranked with top_k
/// (ties: smaller item index first) and the per-user metrics are averaged.
/// Memory: one n_items score buffer and max(ks) indices per thread; nothing proportional to users x
/// items (with options.threads != 1 also |ks| x 7 doubles per user).
/// Threads (options.threads, default 1): the users are cut into contiguous parts (boundaries at
/// multiples of 128 users), one per thread, each thread scoring with its own score_fn (ScoreFn
/// must then be cfnet::per_thread(factory); the factory is called once per thread, concurrently)
/// while OpenBLAS is held at one thread; the per-user metrics are kept in per-user slots and summed
/// in user order on the calling thread, so the report is bit-identical for any thread count.
/// Returns one report per entry of `ks`, in that order.
/// @pre score_fn writes every entry it is given (excluded entries are never read).
/// @throws InvalidArgument if ks is empty or holds a 0, train and test are not in the same index
///         space, no user has a relevant test item, for a bad thread count, or threads != 1 with a
///         plain score_fn.
/// @throws NumericalError naming the user and item if score_fn gives a candidate a NaN score (the
///         first such user, for any thread count).
template <class T, class ScoreFn>
std::vector<RankingReport> evaluate_ranking(const RatingMatrix<T>& train, const RatingMatrix<T>& test,
                                            const std::vector<std::size_t>& ks, ScoreFn&& score_fn,
                                            const RankingOptions& options = {}) {
    const detail::RankingRun<T> run(train, test, ks, options);
    const std::size_t n_threads = detail::checked_threads<ScoreFn>("evaluate_ranking", options.threads);
    const std::size_t n_users = train.n_users(), n_ks = ks.size();
    detail::RankingSums sums(n_ks);
    if (n_threads == 1) {  // streaming: no per-user memory
        decltype(auto) score = detail::thread_function(score_fn);
        auto w = run.scratch();
        std::vector<RankingMetrics> m(n_ks);
        for (std::size_t u = 0; u < n_users; ++u) {
            if (run.rank_user(score, w, u, m.data()))
                sums.add(m.data());
            else
                ++sums.skipped;
        }
    } else {  // every user's metrics in its own slots, summed in user order after the join
        std::vector<RankingMetrics> slots(n_users * n_ks);
        std::vector<unsigned char> done(n_users, 0);
        run.rank_users(score_fn, 0, n_users, n_threads, slots.data(), done.data());
        for (std::size_t u = 0; u < n_users; ++u) {
            if (done[u])
                sums.add(slots.data() + u * n_ks);
            else
                ++sums.skipped;
        }
    }
    return sums.reports(run);
}

/// evaluate_ranking at one k (see the overload over several k for the rules).
/// @throws InvalidArgument if k == 0, train and test are not in the same index space, or no user
///         has a relevant test item.
/// @throws NumericalError naming the user and item if score_fn gives a candidate a NaN score.
template <class T, class ScoreFn>
RankingReport evaluate_ranking(const RatingMatrix<T>& train, const RatingMatrix<T>& test, std::size_t k,
                               ScoreFn&& score_fn, const RankingOptions& options = {}) {
    return evaluate_ranking(train, test, std::vector<std::size_t>{k}, std::forward<ScoreFn>(score_fn), options)[0];
}

}  // namespace cfnet
