#pragma once
/// @file detail/threads.hpp
/// The one way cfnet runs work on several threads of one machine (docs/distributed.md, "All cores
/// of one machine"): std::thread only (no OpenMP in the header-only core), a fixed partition of
/// the work that does not depend on the thread count, results written to fixed slots and reduced
/// by the caller in a fixed order, and OpenBLAS held at one thread while the workers run.
///
/// - resolve_threads(fn, threads): the `threads` option's rule: 1 = the calling thread only
///   (the default everywhere), 0 = std::thread::hardware_concurrency(), n = n threads.
/// - thread_ranges(n, unit, threads): [begin, end) ranges of the positions 0..n, one per thread,
///   every boundary a multiple of `unit`, so a batch of `unit` positions never straddles threads.
/// - run_threads(count, body): body(t) for t = 0..count-1, t = 0 on the calling thread; joins every
///   thread before returning or throwing; rethrows the exception of the smallest t that threw.
/// - OneBlasThread: while alive, OpenBLAS uses one thread (openblas_set_num_threads is process-wide:
///   set once by the caller before the workers start, restored after they are joined).
/// Level 0: includes error.hpp and tensor.hpp only.

#include <cfnet/error.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace cfnet {

/// The largest `threads` value the options accept (a guard against a negative count cast to size).
inline constexpr int max_threads = 1024;

namespace detail {

/// The number of threads a `threads` option asks for: 0 = hardware_concurrency (at least 1).
/// @throws InvalidArgument "<fn>: threads must be 0 (all cores) or 1..1024, got <threads>".
inline std::size_t resolve_threads(const char* fn, int threads) {
    check_arg(threads >= 0 && threads <= max_threads, fn, ": threads must be 0 (all cores) or 1..", max_threads,
              ", got ", threads);
    if (threads > 0) return static_cast<std::size_t>(threads);
    const unsigned h = std::thread::hardware_concurrency();
    return h > 0 ? static_cast<std::size_t>(h) : 1;
}

/// [begin, end) of one thread's positions.
struct ThreadRange {
    std::size_t begin = 0, end = 0;
};

/// At most `threads` contiguous ranges covering 0..n (none empty; a single one when n <= unit),
/// every boundary but n a multiple of `unit`, sizes in units differing by at most one.
inline std::vector<ThreadRange> thread_ranges(std::size_t n, std::size_t unit, std::size_t threads) {
    const std::size_t units = (n + unit - 1) / unit;
    const std::size_t t = std::max<std::size_t>(1, std::min(threads, units));
    std::vector<ThreadRange> out;
    for (std::size_t r = 0; r < t; ++r) {
        const std::size_t b = units / t * r + std::min(r, units % t);
        const std::size_t e = b + units / t + (r < units % t ? 1 : 0);
        out.push_back({std::min(n, b * unit), std::min(n, e * unit)});
    }
    if (out.empty()) out.push_back({0, 0});
    return out;
}

/// body(t) for t in [0, count): t = 0 on the calling thread, the others on their own std::thread.
/// Every thread is joined before this returns or throws; the exception of the smallest t that threw
/// is rethrown (with ranges in increasing order: the error a single thread would have met first).
template <class Body>
void run_threads(std::size_t count, Body&& body) {
    if (count <= 1) {
        body(std::size_t(0));
        return;
    }
    std::vector<std::exception_ptr> errors(count);
    std::vector<std::thread> pool;
    pool.reserve(count - 1);
    try {
        for (std::size_t t = 1; t < count; ++t)
            pool.emplace_back([&body, &errors, t] {
                try {
                    body(t);
                } catch (...) {
                    errors[t] = std::current_exception();
                }
            });
    } catch (...) {  // could not start a thread: finish the started ones, then report
        for (auto& th : pool) th.join();
        throw;
    }
    try {
        body(std::size_t(0));
    } catch (...) {
        errors[0] = std::current_exception();
    }
    for (auto& th : pool) th.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

/// Holds OpenBLAS at one thread for its lifetime and restores the previous count after. Process-wide
/// (openblas_set_num_threads has no per-thread form): create it on the calling thread before the
/// workers start and let it end after they are joined; other threads of the program that call BLAS
/// meanwhile also run single-threaded.
class OneBlasThread {
public:
    OneBlasThread() : saved_(blas_threads()) {
        if (saved_ != 1) set_blas_threads(1);
    }
    ~OneBlasThread() {
        if (saved_ != 1) set_blas_threads(saved_);
    }
    OneBlasThread(const OneBlasThread&) = delete;
    OneBlasThread& operator=(const OneBlasThread&) = delete;

private:
    int saved_;
};

}  // namespace detail
}  // namespace cfnet
