#pragma once
/// @file recommender.hpp
/// The recommender interface every model implements (docs/concepts.md, "The recommender
/// interface"): `Recommendation<T>`, the top-k selection, the one NaN policy of recommend paths,
/// and the compile-time checks `is_recommender_v<M>` and `supports_fold_in_v<M>`.
/// recommend_batch(model, input, users, k, sink, exclude_seen, threads): a model's recommend_batch
/// on several threads, the same lists in the same order as one call.
/// Level 1 (beside data/ and metrics.hpp, which ranks with its top-k): includes only error.hpp,
/// detail/threads.hpp and data/rating_matrix.hpp, never a model header.
///
/// Top-k order: higher score first; equal scores are broken by the smaller index, so the result is
/// fully deterministic (a constant scorer ranks items 0, 1, 2, ...). +inf and -inf are ordinary
/// scores. NaN is rejected: a NaN score among the candidates throws instead of being ranked
/// somewhere arbitrary, because it always means a broken model (top_k on raw scores: InvalidArgument;
/// a model's recommend path and evaluate_ranking: NumericalError naming the user and item, see
/// select_recommendations). Excluded indices are never read, so their scores may be
/// anything, NaN included.
///
/// Algorithm: one pass with a bounded heap of the k best seen so far (O(n log k), no allocation
/// besides the output), then a sort of the k survivors. The common case, a score not better than
/// the current k-th, costs one comparison. Benchmarked against nth_element + sort over a candidate
/// array (bench_metrics.cpp, BM_top_k_nth_element): the heap is faster for the k used in
/// evaluation (k << n).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/threads.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

/// One recommended item (its index in the model's item space) and its score, best first in lists.
template <class T = float>
struct Recommendation {
    std::uint32_t item = 0;
    T score = T(0);
};

namespace detail {

/// True if candidate a ranks before candidate b (higher score, then smaller index).
template <class T, class Index>
struct RanksBefore {
    const T* scores;
    bool operator()(Index a, Index b) const noexcept {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    }
};

/// Restores the heap property (worst candidate at heap[0]) after heap[0] was replaced.
template <class T, class Index>
void topk_sift_down(Index* heap, std::size_t size, RanksBefore<T, Index> before) {
    std::size_t pos = 0;
    const Index moving = heap[0];
    for (;;) {
        std::size_t child = 2 * pos + 1;
        if (child >= size) break;
        // pick the worse of the two children (the one that ranks later)
        if (child + 1 < size && before(heap[child], heap[child + 1])) ++child;
        if (!before(moving, heap[child])) break;  // moving is worse than (or is) both children
        heap[pos] = heap[child];
        pos = child;
    }
    heap[pos] = moving;
}

/// Writes the min(k, candidates) best indices of scores[0..n), best first, into `out` (cleared
/// first; its capacity is reused). Candidates are the indices not in [ex_first, ex_last).
/// Returns n on success, or the index of the first NaN candidate found (then `out` is unspecified).
/// @pre [ex_first, ex_last) is sorted non-decreasing with every value < n (checked by top_k).
template <class T, class Index>
std::size_t top_k_into(const T* scores, std::size_t n, std::size_t k, const Index* ex_first, const Index* ex_last,
                       std::vector<Index>& out) {
    out.clear();
    if (k == 0) return n;
    if (out.capacity() < k) out.reserve(std::min(k, n));
    const RanksBefore<T, Index> before{scores};
    bool full = false;
    T worst = T(0);  // score of the worst kept candidate; meaningful once full
    std::size_t start = 0;
    const Index* ex = ex_first;
    for (;;) {
        const std::size_t stop = ex == ex_last ? n : static_cast<std::size_t>(*ex);
        std::size_t i = start;
        // Filling phase: the first k candidates all enter the heap.
        for (; !full && i < stop; ++i) {
            const T s = scores[i];
            if (s != s) return i;
            out.push_back(static_cast<Index>(i));
            std::push_heap(out.begin(), out.end(), before);
            if (out.size() == k) {
                full = true;
                worst = scores[out.front()];
            }
        }
        // Steady phase: a candidate enters only if it beats the worst kept one. Later indices lose
        // ties, so "beats" is a strict score comparison; NaN fails `s <= worst` and is caught.
        for (; i < stop; ++i) {
            const T s = scores[i];
            if (s <= worst) continue;
            if (s != s) return i;
            out.front() = static_cast<Index>(i);
            topk_sift_down(out.data(), out.size(), before);
            worst = scores[out.front()];
        }
        if (ex == ex_last) break;
        start = std::max(start, stop + 1);
        ++ex;
    }
    std::sort(out.begin(), out.end(), before);
    return n;
}

/// Checks an exclusion list for top_k: sorted non-decreasing, every value < n.
template <class Index>
void check_exclusion(const char* fn, const Index* first, const Index* last, std::size_t n) {
    check_arg((first == nullptr) == (last == nullptr), fn, ": exclusion range has one null end");
    if (first == last) return;
    check_arg(first < last, fn, ": exclusion range ends before it begins");
    for (const Index* p = first + 1; p != last; ++p)
        check_arg(!(*p < *(p - 1)), fn, ": excluded indices must be sorted (", *(p - 1), " before ", *p, ")");
    check_arg(static_cast<std::size_t>(*(last - 1)) < n, fn, ": excluded index ", *(last - 1), " out of range (n = ",
              n, ")");
}

}  // namespace detail

/// The indices of the k highest scores among scores[0..n), best first, skipping the indices in
/// the sorted range [exclude_first, exclude_last) (e.g. a user's training items). Equal scores
/// rank by smaller index. Returns fewer than k indices when fewer candidates exist.
/// Complexity O(n log k) time, O(k) memory.
/// @tparam Index the index type returned (cfnet::index_type, i.e. std::uint32_t, by default).
/// @pre the exclusion range is sorted non-decreasing (duplicates allowed) and its values are < n;
///      both pointers null means "exclude nothing".
/// @throws InvalidArgument if a candidate score is NaN (naming its index), or if the exclusion
///         range is unsorted or out of range.
template <class Index = std::uint32_t, class T>
std::vector<Index> top_k(const T* scores, std::size_t n, std::size_t k, const Index* exclude_first = nullptr,
                         const Index* exclude_last = nullptr) {
    check_arg(scores != nullptr || n == 0, "top_k: null scores with n = ", n);
    detail::check_exclusion("top_k", exclude_first, exclude_last, n);
    std::vector<Index> out;
    const std::size_t bad = detail::top_k_into(scores, n, k, exclude_first, exclude_last, out);
    check_arg(bad == n, "top_k: score of index ", bad, " is NaN");
    return out;
}

/// top_k over a std::vector of scores, excluding a sorted std::vector of indices.
template <class Index = std::uint32_t, class T>
std::vector<Index> top_k(const std::vector<T>& scores, std::size_t k, const std::vector<Index>& exclude = {}) {
    return top_k<Index>(scores.data(), scores.size(), k, exclude.data(), exclude.data() + exclude.size());
}

/// The `user` argument of select_recommendations for a folded-in user (one not in training).
inline constexpr index_type folded_in_user = std::numeric_limits<index_type>::max();

/// The top-k step of every recommend path (the library's models' and a user's own), and so its one
/// NaN policy: the k best of
/// scores[0..n) outside [ex_first, ex_last) (sorted, values < n; both null = none), best first,
/// ties by smaller index, into `out` as (item, score); `ranked` is scratch.
/// @throws NumericalError "<who>: score of user index <u>, item index <i> is NaN" when a
///         candidate's score is NaN (`out` is then unspecified).
template <class T>
void select_recommendations(const char* who, index_type user, const T* scores, std::size_t n, std::size_t k,
                            const index_type* ex_first, const index_type* ex_last, std::vector<index_type>& ranked,
                            std::vector<Recommendation<T>>& out) {
    const std::size_t bad = detail::top_k_into(scores, n, k, ex_first, ex_last, ranked);
    if (bad != n) {
        if (user == folded_in_user)
            throw NumericalError(detail::concat(who, ": score of the folded-in user's item index ", bad, " is NaN"));
        throw NumericalError(detail::concat(who, ": score of user index ", user, ", item index ", bad, " is NaN"));
    }
    out.clear();
    out.reserve(ranked.size());
    for (const auto i : ranked) out.push_back({i, scores[i]});
}

/// select_recommendations into a fresh vector.
template <class T>
std::vector<Recommendation<T>> select_recommendations(const char* who, index_type user, const T* scores, std::size_t n,
                                                      std::size_t k, const index_type* ex_first,
                                                      const index_type* ex_last) {
    std::vector<index_type> ranked;
    std::vector<Recommendation<T>> out;
    select_recommendations(who, user, scores, n, k, ex_first, ex_last, ranked, out);
    return out;
}

/// Positions of `users` that recommend_batch(..., threads) never splits between threads: a
/// multiple of every library model's scoring block (64 users for AutoencoderCF and Ease, 128 for
/// MultVAE), so each block holds the same users as in one call and scores bit-identically (BLAS
/// products round a row differently with the batch's row count).
inline constexpr std::size_t recommend_batch_unit = 128;

/// model.recommend_batch(input, users, k, sink, exclude_seen) on `threads` threads (1: exactly that
/// call, on the calling thread; 0: all cores), with the same lists, bit for bit, and the same sink
/// calls in the same order, for any thread count. `users` is cut into at most `threads` contiguous
/// parts at multiples of recommend_batch_unit positions; each part is one model.recommend_batch
/// call on its own thread (so each thread makes its own scorer and scratch: for an item-based
/// AutoencoderCF every item's code is computed once per thread). The calling thread runs the first
/// part and feeds `sink` directly; the other parts' lists are kept (O(users x k) memory) and given
/// to `sink` on the calling thread, in order, once every thread has finished. OpenBLAS runs on one
/// thread meanwhile (detail::OneBlasThread). A model's recommend_batch must be safe to call from
/// several threads at once (every cfnet model's is: const, with per-call scratch) and must score
/// users in blocks that divide recommend_batch_unit, counted from its first user (or one at a time).
/// @throws InvalidArgument for a bad thread count or a user out of range (before any sink call);
///         otherwise the error a single call would have met first (NaN scores: NumericalError), after
///         the sink has seen every list before that user's, as with a single call.
template <class Model, class Sink>
void recommend_batch(const Model& model, const RatingMatrix<typename Model::value_type>& input,
                     const std::vector<index_type>& users, std::size_t k, Sink&& sink, bool exclude_seen = true,
                     int threads = 1) {
    using T = typename Model::value_type;
    const std::size_t n_threads = detail::resolve_threads("recommend_batch", threads);
    for (std::size_t p = 0; p < users.size(); ++p)
        check_arg(users[p] < input.n_users(), "recommend_batch: user index ", users[p], " at position ", p,
                  " out of range (", input.n_users(), " users)");
    if (n_threads == 1 || users.size() <= recommend_batch_unit) {
        model.recommend_batch(input, users, k, sink, exclude_seen);
        return;
    }
    const auto ranges = detail::thread_ranges(users.size(), recommend_batch_unit, n_threads);
    struct Part {  // one thread's lists: list j = recs[offsets[j] .. offsets[j + 1])
        std::vector<index_type> users;
        std::vector<std::size_t> offsets{0};
        std::vector<Recommendation<T>> recs;
        std::exception_ptr error;
    };
    std::vector<Part> parts(ranges.size());
    const detail::OneBlasThread one_blas;
    detail::run_threads(ranges.size(), [&](std::size_t t) {
        const auto first = users.begin() + static_cast<std::ptrdiff_t>(ranges[t].begin);
        const std::vector<index_type> mine(first, users.begin() + static_cast<std::ptrdiff_t>(ranges[t].end));
        if (t == 0) {
            model.recommend_batch(input, mine, k, sink, exclude_seen);
            return;
        }
        Part& part = parts[t];
        part.users.reserve(mine.size());
        part.offsets.reserve(mine.size() + 1);
        part.recs.reserve(mine.size() * k);
        try {
            model.recommend_batch(
                input, mine, k,
                [&part](index_type u, const std::vector<Recommendation<T>>& recs) {
                    part.users.push_back(u);
                    part.recs.insert(part.recs.end(), recs.begin(), recs.end());
                    part.offsets.push_back(part.recs.size());
                },
                exclude_seen);
        } catch (...) {
            part.error = std::current_exception();  // its lists so far are still delivered, in order
        }
    });
    std::vector<Recommendation<T>> list;
    for (std::size_t t = 1; t < parts.size(); ++t) {
        const Part& part = parts[t];
        for (std::size_t j = 0; j < part.users.size(); ++j) {
            list.assign(part.recs.begin() + static_cast<std::ptrdiff_t>(part.offsets[j]),
                        part.recs.begin() + static_cast<std::ptrdiff_t>(part.offsets[j + 1]));
            sink(part.users[j], static_cast<const std::vector<Recommendation<T>>&>(list));
        }
        if (part.error) std::rethrow_exception(part.error);
    }
}

namespace detail {

// --- the compile-time check: C++17 detection idiom --------------------------------------------

template <class AlwaysVoid, template <class...> class Op, class... Args>
struct detector : std::false_type {
    using type = void;
};
template <template <class...> class Op, class... Args>
struct detector<std::void_t<Op<Args...>>, Op, Args...> : std::true_type {
    using type = Op<Args...>;
};
/// True when Op<Args...> is well-formed.
template <template <class...> class Op, class... Args>
inline constexpr bool is_detected_v = detector<void, Op, Args...>::value;
/// True when Op<Args...> is well-formed and exactly `Expected`.
template <class Expected, template <class...> class Op, class... Args>
inline constexpr bool is_detected_exact_v =
    detector<void, Op, Args...>::value && std::is_same_v<typename detector<void, Op, Args...>::type, Expected>;
/// True when Op<Args...> is well-formed and converts to `To`.
template <class To, template <class...> class Op, class... Args>
inline constexpr bool is_detected_convertible_v =
    detector<void, Op, Args...>::value && std::is_convertible_v<typename detector<void, Op, Args...>::type, To>;

/// A sink as recommend_batch calls it: sink(user, const std::vector<Recommendation<T>>&).
template <class T>
struct RecommendationSink {
    void operator()(index_type, const std::vector<Recommendation<T>>&) const {}
};

template <class M>
using rec_value_t = typename M::value_type;
template <class M>
using rec_input_t = const RatingMatrix<rec_value_t<M>>&;
using rec_pairs_t = const std::vector<std::pair<index_type, index_type>>&;

template <class M>
using rec_fit_t = decltype(std::declval<M&>().fit(std::declval<rec_input_t<M>>()));
template <class M>
using rec_fitted_t = decltype(std::declval<const M&>().fitted());
template <class M>
using rec_predicts_ratings_t = decltype(std::declval<const M&>().predicts_ratings());
template <class M>
using rec_predict_pairs_t =
    decltype(std::declval<const M&>().predict(std::declval<rec_input_t<M>>(), std::declval<rec_pairs_t>()));
template <class M>
using rec_predict_matrix_t =
    decltype(std::declval<const M&>().predict(std::declval<rec_input_t<M>>(), std::declval<rec_input_t<M>>()));
template <class M>
using rec_score_items_t = decltype(std::declval<const M&>().score_items(
    std::declval<rec_input_t<M>>(), index_type{}, std::declval<rec_value_t<M>*>()));
template <class M>
using rec_scorer_call_t = decltype(std::declval<const M&>().make_scorer(std::declval<rec_input_t<M>>())(
    index_type{}, std::declval<rec_value_t<M>*>()));
template <class M>
using rec_recommend_t =
    decltype(std::declval<const M&>().recommend(std::declval<rec_input_t<M>>(), index_type{}, std::size_t{}));
template <class M>
using rec_recommend_seen_t =
    decltype(std::declval<const M&>().recommend(std::declval<rec_input_t<M>>(), index_type{}, std::size_t{}, true));
template <class M>
using rec_recommend_batch_t = decltype(std::declval<const M&>().recommend_batch(
    std::declval<rec_input_t<M>>(), std::declval<const std::vector<index_type>&>(), std::size_t{},
    std::declval<RecommendationSink<rec_value_t<M>>&>()));
template <class M>
using rec_recommend_batch_seen_t = decltype(std::declval<const M&>().recommend_batch(
    std::declval<rec_input_t<M>>(), std::declval<const std::vector<index_type>&>(), std::size_t{},
    std::declval<RecommendationSink<rec_value_t<M>>&>(), true));
template <class M>
using rec_save_t = decltype(std::declval<const M&>().save(std::declval<const std::string&>()));
template <class M>
using rec_load_t = decltype(M::load(std::declval<const std::string&>()));

template <class M>
using rec_fold_in_t = decltype(std::declval<const M&>().recommend(
    std::declval<const std::vector<index_type>&>(), std::declval<const std::vector<rec_value_t<M>>&>(),
    std::size_t{}, true));
template <class M>
using rec_supports_fold_in_t = decltype(std::declval<const M&>().supports_fold_in());

template <class M, class = void>
struct is_recommender_impl : std::false_type {};

template <class M>
struct is_recommender_impl<M, std::void_t<rec_value_t<M>>> {
    using T = rec_value_t<M>;
    using Recs = std::vector<Recommendation<T>>;
    static constexpr bool value =
        std::is_floating_point_v<T> && is_detected_v<rec_fit_t, M> &&
        is_detected_convertible_v<bool, rec_fitted_t, M> && is_detected_convertible_v<bool, rec_predicts_ratings_t, M> &&
        is_detected_exact_v<std::vector<T>, rec_predict_pairs_t, M> &&
        is_detected_exact_v<std::vector<T>, rec_predict_matrix_t, M> && is_detected_v<rec_score_items_t, M> &&
        is_detected_v<rec_scorer_call_t, M> && is_detected_exact_v<Recs, rec_recommend_t, M> &&
        is_detected_exact_v<Recs, rec_recommend_seen_t, M> && is_detected_v<rec_recommend_batch_t, M> &&
        is_detected_v<rec_recommend_batch_seen_t, M> && is_detected_v<rec_save_t, M> &&
        is_detected_exact_v<M, rec_load_t, M>;
};

template <class M, class = void>
struct supports_fold_in_impl : std::false_type {};

template <class M>
struct supports_fold_in_impl<M, std::void_t<rec_value_t<M>>>
    : std::bool_constant<is_detected_exact_v<std::vector<Recommendation<rec_value_t<M>>>, rec_fold_in_t, M> &&
                         is_detected_convertible_v<bool, rec_supports_fold_in_t, M>> {};

}  // namespace detail

/// True when M implements the recommender interface (docs/concepts.md, "The recommender
/// interface"): value_type T; m.fit(train); fitted(); predicts_ratings(); predict(input, pairs) and
/// predict(input, pairs_matrix) -> std::vector<T>; score_items(input, user, T* out);
/// make_scorer(input)(user, T* out); recommend(input, user, k[, exclude_seen]) ->
/// std::vector<Recommendation<T>>; recommend_batch(input, users, k, sink[, exclude_seen]);
/// save(path); static load(path) -> M.
template <class M>
inline constexpr bool is_recommender_v = detail::is_recommender_impl<M>::value;

/// True when M can recommend for a user who was not in training (fold-in): it has
/// recommend(items, ratings, k, exclude_seen) -> std::vector<Recommendation<T>> and a run-time
/// supports_fold_in() (false when this instance cannot, e.g. an item-based autoencoder; then the
/// fold-in call throws InvalidArgument).
template <class M>
inline constexpr bool supports_fold_in_v = detail::supports_fold_in_impl<M>::value;

}  // namespace cfnet
