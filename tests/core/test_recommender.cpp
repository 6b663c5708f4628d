#include <cfnet/detail/rng.hpp>
#include <cfnet/recommender.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

using cfnet::top_k;
using Idx = std::vector<std::uint32_t>;

namespace {

// Naive reference: sort every candidate by (score desc, index asc), keep the first k.
template <class T>
Idx reference_top_k(const std::vector<T>& s, std::size_t k, const Idx& exclude) {
    Idx cand;
    for (std::uint32_t i = 0; i < s.size(); ++i)
        if (!std::binary_search(exclude.begin(), exclude.end(), i)) cand.push_back(i);
    std::sort(cand.begin(), cand.end(), [&](std::uint32_t a, std::uint32_t b) {
        return s[a] != s[b] ? s[a] > s[b] : a < b;
    });
    cand.resize(std::min(k, cand.size()));
    return cand;
}

}  // namespace

TEST_CASE("top_k returns the k best indices, best first", "[topk]") {
    //                             0     1    2    3    4     5
    const std::vector<float> s = {0.5f, 2.f, -1.f, 3.f, 0.7f, 1.f};
    CHECK(top_k(s, 3) == Idx{3, 1, 5});
    CHECK(top_k(s, 1) == Idx{3});
    CHECK(top_k(s, 6) == Idx{3, 1, 5, 4, 0, 2});
    CHECK(top_k(s, 0).empty());
    // raw-pointer form over a sub-range
    CHECK(top_k<std::uint32_t>(s.data(), 3, 2) == Idx{1, 0});
    CHECK(top_k<std::uint32_t>(s.data(), 0, 2).empty());
}

TEST_CASE("top_k: k larger than the candidates returns all of them, sorted", "[topk]") {
    const std::vector<double> s = {1.0, 3.0, 2.0};
    CHECK(top_k(s, 10) == Idx{1, 2, 0});
    CHECK(top_k(s, 10, Idx{0, 1, 2}).empty());
    CHECK(top_k(s, 10, Idx{1}) == Idx{2, 0});
}

TEST_CASE("top_k breaks ties by the smaller index", "[topk]") {
    const std::vector<float> flat(8, 1.f);
    CHECK(top_k(flat, 3) == Idx{0, 1, 2});
    CHECK(top_k(flat, 3, Idx{0, 2}) == Idx{1, 3, 4});
    //                             0    1    2    3    4    5    6
    const std::vector<float> s = {2.f, 5.f, 2.f, 5.f, 2.f, 9.f, 2.f};
    // 9 (5), then the 5s by index (1, 3), then the 2s by index (0, 2, ...)
    CHECK(top_k(s, 5) == Idx{5, 1, 3, 0, 2});
    // -0 and +0 compare equal: a tie, so the smaller index wins
    const std::vector<float> z = {0.f, -0.f, -0.f};
    CHECK(top_k(z, 2) == Idx{0, 1});
    CHECK(top_k(std::vector<float>{-0.f, 0.f}, 1) == Idx{0});
}

TEST_CASE("top_k never returns an excluded index", "[topk]") {
    const std::vector<float> s = {9.f, 8.f, 7.f, 6.f, 5.f, 4.f};
    CHECK(top_k(s, 3, Idx{0, 1}) == Idx{2, 3, 4});
    CHECK(top_k(s, 3, Idx{0, 2, 5}) == Idx{1, 3, 4});
    CHECK(top_k(s, 2, Idx{5}) == Idx{0, 1});
    // duplicates in the sorted exclusion list are harmless
    CHECK(top_k(s, 2, Idx{1, 1, 2}) == Idx{0, 3});
}

TEST_CASE("top_k rejects NaN candidates but ignores NaN in excluded entries", "[topk]") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    // NaN in the filling phase (first k candidates) and in the steady phase
    CHECK_THROWS_WITH(top_k(std::vector<float>{nan, 1.f, 2.f}, 2), "top_k: score of index 0 is NaN");
    CHECK_THROWS_WITH(top_k(std::vector<float>{1.f, 2.f, 0.f, nan}, 2), "top_k: score of index 3 is NaN");
    CHECK_THROWS_AS(top_k(std::vector<double>{1.0, 2.0, 3.0, 4.0, std::nan("")}, 1), cfnet::InvalidArgument);
    // an excluded NaN is never read
    CHECK(top_k(std::vector<float>{1.f, nan, 2.f}, 2, Idx{1}) == Idx{2, 0});
    // infinities are ordinary scores
    CHECK(top_k(std::vector<float>{-inf, 1.f, inf, -inf}, 4) == Idx{2, 1, 0, 3});
}

TEST_CASE("top_k validates the exclusion list", "[topk]") {
    const std::vector<float> s = {1.f, 2.f, 3.f};
    CHECK_THROWS_WITH(top_k(s, 2, Idx{2, 1}), "top_k: excluded indices must be sorted (2 before 1)");
    CHECK_THROWS_WITH(top_k(s, 2, Idx{0, 3}), "top_k: excluded index 3 out of range (n = 3)");
    const std::uint32_t one = 1;
    CHECK_THROWS_AS(top_k<std::uint32_t>(s.data(), 3, 1, &one, nullptr), cfnet::InvalidArgument);
}

TEST_CASE("top_k agrees with a full sort on random data for many (n, k)", "[topk]") {
    cfnet::Rng rng(2024);
    for (const std::size_t n : {1u, 2u, 5u, 17u, 100u, 1682u}) {
        for (const std::size_t k : {1u, 2u, 3u, 10u, 50u, 2000u}) {
            for (int rep = 0; rep < 3; ++rep) {
                std::vector<float> s(n);
                // rep 0: continuous scores; rep 1: few distinct values (many ties); rep 2: sorted ascending
                for (std::size_t i = 0; i < n; ++i)
                    s[i] = rep == 1 ? static_cast<float>(rng.below(4)) : static_cast<float>(rng.normal());
                if (rep == 2) std::sort(s.begin(), s.end());
                Idx ex;
                for (std::uint32_t i = 0; i < n; ++i)
                    if (rng.uniform() < 0.3) ex.push_back(i);
                INFO("n=" << n << " k=" << k << " rep=" << rep << " excluded=" << ex.size());
                CHECK(top_k(s, k, ex) == reference_top_k(s, k, ex));
                CHECK(top_k(s, k) == reference_top_k(s, k, Idx{}));
            }
        }
    }
}
