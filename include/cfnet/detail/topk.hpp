#pragma once
/// @file detail/topk.hpp
/// Top-K selection over a dense score array, skipping an excluded sorted index list (a user's
/// training items). Level 0: depends only on error.hpp.
///
/// Order: higher score first; equal scores are broken by the smaller index, so the result is
/// fully deterministic (a constant scorer ranks items 0, 1, 2, ...). +inf and -inf are ordinary
/// scores. NaN is rejected: a NaN score among the candidates throws (top_k) instead of being
/// ranked somewhere arbitrary, because it always means a broken model. Excluded indices are never
/// read, so their scores may be anything, NaN included.
///
/// Algorithm: one pass with a bounded heap of the k best seen so far (O(n log k), no allocation
/// besides the output), then a sort of the k survivors. The common case, a score not better than
/// the current k-th, costs one comparison. Benchmarked against nth_element + sort over a candidate
/// array (bench_metrics.cpp, BM_top_k_nth_element): the heap is faster for the k used in
/// evaluation (k << n).

#include <cfnet/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfnet {
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

}  // namespace cfnet
