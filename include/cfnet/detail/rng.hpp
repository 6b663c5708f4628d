#pragma once
/// @file detail/rng.hpp
/// Fully specified random helpers over std::mt19937_64. The standard distributions are
/// implementation-defined (different streams on libstdc++ and libc++); everything here is exact
/// integer arithmetic or a fixed formula, so the same seed gives the same stream everywhere.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace cfnet {

/// splitmix64 of seed + stream: independent, well-mixed seeds for the streams derived from one
/// seed (a model's weights, shuffles, masks; a step's or a row's own stream).
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// derive_seed chained over two more words: the seed of stream `stream` for (a, b), e.g. (epoch,
/// user) or (update, row), for draws that must not depend on which process makes them.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b) {
    return derive_seed(derive_seed(derive_seed(seed, stream), a), b);
}

/// A uniform double in [0, 1) (53 bits) that is a pure function of (key, counter): random draws
/// addressed by position rather than taken in turn from a stream, so that a part of a batch can
/// draw exactly its own entries (data-parallel training: each rank its rows).
inline double uniform_at(std::uint64_t key, std::uint64_t counter) {
    return static_cast<double>(derive_seed(key, counter) >> 11) * 0x1.0p-53;
}

class Rng {
public:
    using result_type = std::uint64_t;

    explicit Rng(std::uint64_t seed = 42) : engine_(seed) {}

    /// Raw 64 random bits.
    std::uint64_t next() { return engine_(); }

    /// Uniform double in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    /// Uniform double in [a, b).
    double uniform(double a, double b) { return a + (b - a) * uniform(); }

    /// Uniform integer in [0, n), unbiased (rejects the top partial block). n must be > 0.
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
        for (;;) {
            const std::uint64_t r = engine_();
            if (r >= threshold) return r % n;
        }
    }

    /// Standard normal deviate (Marsaglia polar method; the spare value is cached).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double f = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v * f;
        has_spare_ = true;
        return u * f;
    }

    double normal(double mean, double stddev) { return mean + stddev * normal(); }

    /// Fisher-Yates shuffle of [first, last).
    template <class It>
    void shuffle(It first, It last) {
        const auto n = static_cast<std::uint64_t>(last - first);
        for (std::uint64_t i = n; i > 1; --i) {
            const auto j = below(i);
            using std::swap;
            swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
        }
    }

    /// A random permutation of 0..n-1.
    template <class Index = std::size_t>
    std::vector<Index> permutation(std::size_t n) {
        std::vector<Index> p(n);
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<Index>(i);
        shuffle(p.begin(), p.end());
        return p;
    }

    /// min(k, n) distinct values of 0..n-1 chosen uniformly (partial Fisher-Yates), in draw order.
    template <class Index = std::size_t>
    std::vector<Index> sample(std::size_t n, std::size_t k) {
        std::vector<Index> p(n);
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<Index>(i);
        if (k > n) k = n;
        for (std::size_t i = 0; i < k; ++i) {
            const auto j = i + static_cast<std::size_t>(below(n - i));
            std::swap(p[i], p[j]);
        }
        p.resize(k);
        return p;
    }

    std::mt19937_64& engine() noexcept { return engine_; }

private:
    std::mt19937_64 engine_;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace cfnet
