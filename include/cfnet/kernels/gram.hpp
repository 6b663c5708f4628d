#pragma once
/// @file kernels/gram.hpp
/// The Gram matrix X^T X of a sparse matrix X in CSR, upper triangle only (EASE's item-item matrix,
/// any linear model's normal equations): G[i][j] += sum over rows r of X[r][i] * X[r][j], j >= i.
///
/// Versions:
///  - ref::gram_upper: row by row, every pair of a row's entries (the textbook loop). Each row of X
///    scatters into m rows of G, so on a large G nearly every update misses the cache.
///  - gram_upper: column by column of X (= row by row of G). Row c of G receives, for every row r
///    of X holding column c, that row's entries from c on. The n-element row of G being written
///    stays in cache (80 KB for 20K floats: L2) while the CSR rows are read as streams, so the
///    updates hit L2 instead of DRAM. The column lists come from a counting sort (O(nnz + n), the
///    row and the CSR position of each entry: 12 bytes per entry, freed on return). Rows of G are
///    independent, so `threads` > 1 splits them into contiguous ranges of equal work
///    (std::thread; the sums are the same in any split: each element is summed in the same order,
///    rows of X in increasing order, by exactly one thread). Optionally, rows of X with many
///    entries go through a dense BLAS syrk instead (`dense_min`).
/// Without dense rows both versions give bit-identical results: every element is accumulated in
/// increasing row order of X. With values all 1 (a 0/1 pattern) the result is exact integer counts up to 2^24 in
/// float. The strict lower triangle of G is never read or written (LAPACK's spotrf on the upper
/// triangle of a row-major matrix does not look at it either).
/// Tested against a dense X^T X in tests/kernels/test_gram.cpp; timed in benchmarks/bench_ease.cpp.

#include <cfnet/kernels/dispatch.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace cfnet::kernels {

using gram_index = std::uint32_t;  ///< column indices of the CSR input (cfnet's index_type)

namespace ref {

/// g (n x n, row-major, row stride ld) += upper triangle (j >= i) of X^T X, X rows x n in CSR
/// (rp: rows + 1 offsets; idx: columns, strictly increasing within a row, each < n; val: values,
/// or nullptr for a 0/1 pattern: every stored entry is 1).
template <class T>
void gram_upper(const std::size_t* rp, const gram_index* idx, const T* val, std::size_t rows, T* g, std::size_t ld) {
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t end = rp[r + 1];
        for (std::size_t p = rp[r]; p < end; ++p) {
            T* gi = g + static_cast<std::size_t>(idx[p]) * ld;
            if (val == nullptr) {
                for (std::size_t q = p; q < end; ++q) gi[idx[q]] += T(1);
            } else {
                const T v = val[p];
                for (std::size_t q = p; q < end; ++q) gi[idx[q]] += v * val[q];
            }
        }
    }
}

}  // namespace ref

namespace detail {

/// Row c of G for c in [c0, c1): the column lists (row r, CSR position p) of X, in increasing r.
template <class T>
void gram_rows(const std::size_t* rp, const gram_index* idx, const T* val, const std::size_t* cptr,
               const gram_index* crow, const std::size_t* cpos, std::size_t c0, std::size_t c1, T* g, std::size_t ld) {
    for (std::size_t c = c0; c < c1; ++c) {
        T* gc = g + c * ld;
        for (std::size_t e = cptr[c]; e < cptr[c + 1]; ++e) {
            const std::size_t p = cpos[e], end = rp[crow[e] + 1];
            if (val == nullptr) {
                for (std::size_t q = p; q < end; ++q) gc[idx[q]] += T(1);
            } else {
                const T v = val[p];
                for (std::size_t q = p; q < end; ++q) gc[idx[q]] += v * val[q];
            }
        }
    }
}

}  // namespace detail

/// Same contract as ref::gram_upper (n: the number of columns of X, every idx < n), computed row by
/// row of G with `threads` threads (>= 1; 1 runs on the calling thread). Rows of X with at least
/// `dense_min` entries (the very active users of a long tail) are expanded, 128 at a time, into a
/// dense block D and added as D^T D by BLAS syrk (upper triangle, OpenBLAS's own threads): their m^2
/// scattered updates become cache-blocked BLAS-3. Without dense rows (dense_min larger than every
/// row, the default) the result is bit-identical to the reference. Measured on the ML-20M-shaped set
/// (bench_ease --gram-csr, docs/ease.md) the dense path did not pay off (syrk on the 108 users with
/// >= 2000 of 20108 items: 8.8-9.1 s CPU against 8.0-8.5 s without), so nothing uses it by default; with them the sums are taken in
/// another order (exact for a 0/1 pattern, whose sums are integers). Falls back to the reference
/// when dispatch is switched off (simd_dispatch_enabled()), so tests can run both.
template <class T>
void gram_upper(const std::size_t* rp, const gram_index* idx, const T* val, std::size_t rows, std::size_t n, T* g,
                std::size_t ld, int threads = 1, std::size_t dense_min = static_cast<std::size_t>(-1)) {
    if (!simd_dispatch_enabled()) return ref::gram_upper(rp, idx, val, rows, g, ld);
    const auto is_dense = [&](std::size_t r) { return rp[r + 1] - rp[r] >= dense_min; };
    {  // the dense rows, in blocks
        constexpr std::size_t block = 128;
        std::vector<T> d;
        std::size_t filled = 0;
        const auto flush = [&] {
            if (filled > 0) syrk_upper_at_a(n, filled, T(1), d.data(), n, T(1), g, ld);
            filled = 0;
        };
        for (std::size_t r = 0; r < rows; ++r) {
            if (!is_dense(r)) continue;
            if (d.empty()) d.resize(block * n);
            T* dr = d.data() + filled * n;
            std::fill(dr, dr + n, T(0));
            for (std::size_t p = rp[r]; p < rp[r + 1]; ++p) dr[idx[p]] = val == nullptr ? T(1) : val[p];
            if (++filled == block) flush();
        }
        flush();
    }
    std::vector<std::size_t> cptr(n + 1, 0);
    for (std::size_t r = 0; r < rows; ++r)
        if (!is_dense(r))
            for (std::size_t p = rp[r]; p < rp[r + 1]; ++p) ++cptr[idx[p] + 1];
    for (std::size_t c = 0; c < n; ++c) cptr[c + 1] += cptr[c];
    const std::size_t entries = cptr[n];
    std::vector<gram_index> crow(entries);
    std::vector<std::size_t> cpos(entries);
    {
        std::vector<std::size_t> next(cptr.begin(), cptr.end() - 1);
        for (std::size_t r = 0; r < rows; ++r) {
            if (is_dense(r)) continue;
            for (std::size_t p = rp[r]; p < rp[r + 1]; ++p) {
                const std::size_t e = next[idx[p]]++;
                crow[e] = static_cast<gram_index>(r);
                cpos[e] = p;
            }
        }
    }
    const std::size_t nt = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), n));
    if (nt == 1) return detail::gram_rows(rp, idx, val, cptr.data(), crow.data(), cpos.data(), 0, n, g, ld);
    // Equal work per thread: the work of row c of G is the number of updates it receives.
    std::vector<std::size_t> work(n + 1, 0);
    for (std::size_t c = 0; c < n; ++c) {
        std::size_t w = 0;
        for (std::size_t e = cptr[c]; e < cptr[c + 1]; ++e) w += rp[crow[e] + 1] - cpos[e];
        work[c + 1] = work[c] + w;
    }
    std::vector<std::size_t> bound(nt + 1, n);
    bound[0] = 0;
    for (std::size_t t = 1; t < nt; ++t) {
        const std::size_t target = work[n] / nt * t;
        bound[t] = static_cast<std::size_t>(std::lower_bound(work.begin(), work.end(), target) - work.begin());
        bound[t] = std::min(std::max(bound[t], bound[t - 1]), n);
    }
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < nt; ++t)
        pool.emplace_back([&, t] {
            detail::gram_rows(rp, idx, val, cptr.data(), crow.data(), cpos.data(), bound[t], bound[t + 1], g, ld);
        });
    detail::gram_rows(rp, idx, val, cptr.data(), crow.data(), cpos.data(), bound[0], bound[1], g, ld);
    for (auto& th : pool) th.join();
}

}  // namespace cfnet::kernels
