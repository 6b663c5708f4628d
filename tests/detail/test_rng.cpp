#include <cfnet/detail/rng.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

using cfnet::Rng;

TEST_CASE("Rng: the stream is fixed by the seed, on any standard library", "[rng]") {
    Rng a(7), b(7), c(8);
    std::vector<std::uint64_t> xa, xb, xc;
    for (int k = 0; k < 100; ++k) {
        xa.push_back(a.next());
        xb.push_back(b.next());
        xc.push_back(c.next());
    }
    CHECK(xa == xb);
    CHECK(xa != xc);
    // std::mt19937_64 is fully specified by the standard: its 10000th output from the default seed.
    std::mt19937_64 e;
    e.discard(9999);
    CHECK(e() == 9981545732273789042ULL);
}

TEST_CASE("Rng::below is uniform and in range", "[rng]") {
    Rng r(1);
    std::vector<int> counts(7, 0);
    const int n = 70000;
    for (int k = 0; k < n; ++k) {
        const auto v = r.below(7);
        REQUIRE(v < 7);
        ++counts[v];
    }
    for (int c : counts) CHECK(std::abs(c - n / 7) < 400);  // ~4.6 sigma
    CHECK(r.below(1) == 0);
}

TEST_CASE("Rng::uniform lies in the half-open unit interval with the right mean, normal has mean 0 and variance 1", "[rng]") {
    Rng r(3);
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int k = 0; k < n; ++k) {
        const double u = r.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        s += u;
    }
    CHECK(s / n == Approx(0.5).margin(0.005));
    s = 0;
    for (int k = 0; k < n; ++k) {
        const double z = r.normal();
        s += z;
        s2 += z * z;
    }
    CHECK(s / n == Approx(0.0).margin(0.01));
    CHECK(s2 / n == Approx(1.0).margin(0.02));
}

TEST_CASE("Rng::shuffle, permutation and sample", "[rng]") {
    Rng r(5);
    auto p = r.permutation<int>(50);
    std::vector<int> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> iota(50);
    std::iota(iota.begin(), iota.end(), 0);
    CHECK(sorted == iota);
    CHECK(p != iota);

    auto s = r.sample<int>(100, 30);
    REQUIRE(s.size() == 30);
    std::sort(s.begin(), s.end());
    CHECK(std::adjacent_find(s.begin(), s.end()) == s.end());
    CHECK(s.back() < 100);
    CHECK(r.sample<int>(5, 9).size() == 5);

    // Every position is equally likely to receive any element.
    std::vector<int> first_counts(4, 0);
    for (int k = 0; k < 40000; ++k) ++first_counts[static_cast<std::size_t>(r.permutation<int>(4)[0])];
    for (int c : first_counts) CHECK(std::abs(c - 10000) < 450);
}
