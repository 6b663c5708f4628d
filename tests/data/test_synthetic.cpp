#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

namespace syn = cfnet::synthetic;
using cfnet::index_type;
using RM = cfnet::RatingMatrix<float>;

namespace {

const RM& ml100k_like() {
    static const RM m = syn::generate<float>(syn::ml100k());
    return m;
}

bool on_grid(double v, double lo, double hi, double step) {
    const double k = (v - lo) / step;
    return v >= lo && v <= hi && std::abs(k - std::round(k)) < 1e-6;
}

// Mean squared error of predicting `test` from user + item biases fitted on `train` (a few rounds
// of alternating damped means), and of predicting the global mean.
std::pair<double, double> bias_baseline_vs_mean(const RM& train, const RM& test) {
    const double mu = train.mean();
    std::vector<double> bu(train.n_users(), 0.0), bi(train.n_items(), 0.0);
    for (int round = 0; round < 5; ++round) {
        for (index_type i = 0; i < train.n_items(); ++i) {
            double s = 0;
            const auto us = train.item_users(i);
            const auto rs = train.item_ratings(i);
            for (std::size_t k = 0; k < us.size(); ++k) s += rs[k] - mu - bu[us[k]];
            bi[i] = s / (static_cast<double>(us.size()) + 5.0);
        }
        for (index_type u = 0; u < train.n_users(); ++u) {
            double s = 0;
            const auto is = train.user_items(u);
            const auto rs = train.user_ratings(u);
            for (std::size_t k = 0; k < is.size(); ++k) s += rs[k] - mu - bi[is[k]];
            bu[u] = s / (static_cast<double>(is.size()) + 5.0);
        }
    }
    double e_bias = 0, e_mean = 0;
    for (index_type u = 0; u < test.n_users(); ++u) {
        const auto is = test.user_items(u);
        const auto rs = test.user_ratings(u);
        for (std::size_t k = 0; k < is.size(); ++k) {
            const double pred = mu + bu[u] + bi[is[k]];
            e_bias += (rs[k] - pred) * (rs[k] - pred);
            e_mean += (rs[k] - mu) * (rs[k] - mu);
        }
    }
    const auto n = static_cast<double>(test.nnz());
    return {e_bias / n, e_mean / n};
}

}  // namespace

TEST_CASE("allocate_counts: exact total, bounds, water-filling, largest remainder", "[synthetic]") {
    using syn::detail::allocate_counts;
    CHECK(allocate_counts({1, 1, 1}, 10, 2, 5) == std::vector<std::size_t>{4, 3, 3});
    CHECK(allocate_counts({3, 1}, 10, 1, 6) == std::vector<std::size_t>{6, 4});   // 1 + min(5, 6), 1 + 3
    CHECK(allocate_counts({1, 3}, 10, 1, 6) == std::vector<std::size_t>{4, 6});
    CHECK(allocate_counts({8, 1, 1}, 12, 2, 4) == std::vector<std::size_t>{4, 4, 4});  // all capped
    CHECK(allocate_counts({1, 2, 5}, 6, 2, 9) == std::vector<std::size_t>{2, 2, 2});   // all at the minimum
    CHECK(allocate_counts({1, 2}, 5, 0, 5) == std::vector<std::size_t>{2, 3});       // 5/3 -> 2, 10/3 -> 3
    CHECK_THROWS_AS(allocate_counts({1, 1}, 11, 0, 5), cfnet::InvalidArgument);
    // Larger case: exact sum and bounds.
    cfnet::Rng rng(1);
    const auto w = syn::detail::power_law_weights(1000, 1.1, rng);
    const auto c = allocate_counts(w, 60000, 20, 300);
    CHECK(std::accumulate(c.begin(), c.end(), std::size_t(0)) == 60000);
    CHECK(*std::min_element(c.begin(), c.end()) >= 20);
    CHECK(*std::max_element(c.begin(), c.end()) == 300);
}

TEST_CASE("AliasTable draws in proportion to the weights", "[synthetic]") {
    const syn::detail::AliasTable t({1.0, 2.0, 0.0, 5.0});
    cfnet::Rng rng(3);
    std::vector<double> hits(4, 0.0);
    const int n = 80000;
    for (int k = 0; k < n; ++k) hits[t.draw(rng)] += 1.0;
    CHECK(hits[0] / n == Approx(1.0 / 8).margin(0.01));
    CHECK(hits[1] / n == Approx(2.0 / 8).margin(0.01));
    CHECK(hits[2] == 0.0);
    CHECK(hits[3] / n == Approx(5.0 / 8).margin(0.01));
}

TEST_CASE("generate: MovieLens 100K shape, exact counts, grid, per-user bounds", "[synthetic]") {
    const auto& m = ml100k_like();
    CHECK(m.n_users() == 943);
    CHECK(m.n_items() == 1682);
    CHECK(m.nnz() == 100000);
    CHECK(m.users().id(0) == 1);
    CHECK(m.items().id(1681) == 1682);
    REQUIRE(m.has_timestamps());
    std::size_t off_grid = 0, bad_time = 0;
    for (const float v : m.values()) off_grid += !on_grid(v, 1, 5, 1);
    for (const auto t : m.timestamps()) bad_time += t < 874724710 || t >= 874724710 + 18'000'000;
    CHECK(off_grid == 0);
    CHECK(bad_time == 0);
    std::vector<std::size_t> counts(m.n_users());
    for (index_type u = 0; u < m.n_users(); ++u) counts[u] = m.user_count(u);
    CHECK(*std::min_element(counts.begin(), counts.end()) >= 20);
    CHECK(*std::max_element(counts.begin(), counts.end()) <= 1682 / 2);
    // Heavy tail: the top 10% of users hold far more than 10% of the ratings (MovieLens: 32%).
    std::sort(counts.begin(), counts.end(), std::greater<>());
    const auto top = std::accumulate(counts.begin(), counts.begin() + 94, std::size_t(0));
    CHECK(static_cast<double>(top) / 100000.0 > 0.25);
    // Popular items: the top 10% of items also hold far more than 10% (MovieLens: 43%).
    std::vector<std::size_t> pop(m.n_items());
    for (index_type i = 0; i < m.n_items(); ++i) pop[i] = m.item_count(i);
    std::sort(pop.begin(), pop.end(), std::greater<>());
    CHECK(static_cast<double>(std::accumulate(pop.begin(), pop.begin() + 168, std::size_t(0))) / 100000.0 > 0.3);
    // Every rating level occurs, and the mean is MovieLens-like.
    for (int level = 1; level <= 5; ++level)
        CHECK(std::count(m.values().begin(), m.values().end(), static_cast<float>(level)) > 1000);
    CHECK(m.mean() == Approx(3.5).margin(0.25));
}

TEST_CASE("generate: the same seed gives the same matrix, another seed another one", "[synthetic]") {
    auto o = syn::ml100k();
    o.n_users = 200;
    o.n_items = 300;
    o.n_ratings = 9000;
    const auto a = syn::generate<float>(o), b = syn::generate<float>(o);
    CHECK(a.row_ptr() == b.row_ptr());
    CHECK(a.item_indices() == b.item_indices());
    CHECK(a.values() == b.values());
    CHECK(a.timestamps() == b.timestamps());
    // Timestamps come from their own stream: turning them off keeps the ratings.
    o.timestamps = false;
    const auto c = syn::generate<float>(o);
    CHECK_FALSE(c.has_timestamps());
    CHECK(c.item_indices() == a.item_indices());
    CHECK(c.values() == a.values());
    o.seed = 43;
    const auto d = syn::generate<float>(o);
    CHECK(d.nnz() == 9000);
    CHECK_FALSE(d.item_indices() == a.item_indices());
    // double gives the same ratings.
    o.seed = 42;
    const auto e = syn::generate<double>(o);
    std::size_t diff = 0;
    for (std::size_t k = 0; k < e.nnz(); ++k) diff += static_cast<float>(e.values()[k]) != a.values()[k];
    CHECK(diff == 0);
}

TEST_CASE("generate: half-star grid, very active users and uniform popularity", "[synthetic]") {
    auto o = syn::ml10m();
    o.n_users = 50;
    o.n_items = 400;
    o.n_ratings = 7000;  // forces users up to the cap of 200 items (Efraimidis-Spirakis path)
    o.min_ratings_per_user = 5;
    o.item_popularity_exponent = 2.0;  // steep popularity: rejection sampling gives up, ES takes over
    const auto m = syn::generate<float>(o);
    CHECK(m.nnz() == 7000);
    std::size_t off_grid = 0, at_cap = 0;
    for (const float v : m.values()) off_grid += !on_grid(v, 0.5, 5, 0.5);
    for (index_type u = 0; u < m.n_users(); ++u) {
        CHECK(m.user_count(u) >= 5);
        CHECK(m.user_count(u) <= 200);
        at_cap += m.user_count(u) == 200;
    }
    CHECK(off_grid == 0);
    CHECK(at_cap > 0);
    CHECK(std::count(m.values().begin(), m.values().end(), 4.5f) > 0);
    o.item_popularity_exponent = 0.0;
    o.user_activity_exponent = 0.0;
    const auto flat = syn::generate<float>(o);
    for (index_type u = 0; u < flat.n_users(); ++u) CHECK(flat.user_count(u) == 140);
}

TEST_CASE("ml_latest_small: MovieLens latest-small's shape with a long tail of items", "[synthetic]") {
    const auto m = cfnet::synthetic::generate<float>(cfnet::synthetic::ml_latest_small());
    REQUIRE(m.n_users() == 610);
    REQUIRE(m.n_items() == 9724);
    REQUIRE(m.nnz() == 100836);
    std::vector<std::size_t> counts(m.n_items());
    std::size_t once = 0;
    for (cfnet::index_type i = 0; i < m.n_items(); ++i) {
        counts[i] = m.item_count(i);
        once += counts[i] == 1;
    }
    std::sort(counts.begin(), counts.end());
    CHECK(counts[counts.size() / 2] <= 4);  // the real file's median is 3
    CHECK(once > m.n_items() / 10);         // items with a single rating: 35% in the real file
    std::size_t light_users = 0, off_grid = 0;
    for (cfnet::index_type u = 0; u < m.n_users(); ++u) light_users += m.user_count(u) < 20;
    for (float v : m.values()) off_grid += !(v >= 0.5f && v <= 5.0f && std::fmod(v * 2.0f, 1.0f) == 0.0f);
    CHECK(light_users == 0);
    CHECK(off_grid == 0);  // half stars in [0.5, 5]
}

TEST_CASE("generate: the bias and low-rank structure is learnable", "[synthetic]") {
    const auto& m = ml100k_like();
    const auto s = cfnet::per_user_holdout(m, 1);
    const auto [mse_bias, mse_mean] = bias_baseline_vs_mean(s.train, s.test);
    CHECK(mse_bias < 0.85 * mse_mean);
    // Without biases, factors or noise structure nothing is learnable: the baseline gains nothing.
    auto o = syn::ml100k();
    o.user_bias_std = o.item_bias_std = o.factor_std = 0;
    o.noise = 1.0;
    const auto flat = syn::generate<float>(o);
    const auto s2 = cfnet::per_user_holdout(flat, 1);
    const auto [b2, m2] = bias_baseline_vs_mean(s2.train, s2.test);
    CHECK(b2 > 0.97 * m2);
    // The factor term alone: user means carry no signal, yet ratings of a user correlate with the
    // ratings other users give to the same items in proportion to their factor similarity.
    o = syn::ml100k();
    o.user_bias_std = o.item_bias_std = 0;
    o.noise = 0.05;
    o.rating_step = 0.01;
    o.factor_std = 1.0;
    o.rank = 2;
    o.rating_min = -10;
    o.rating_max = 20;  // no clamping at the tails
    o.global_mean = 5;
    const auto lr = syn::generate<double>(o);
    // A rank-2 structure: the 3 x 3 Gram matrix of any 3 item columns (over users rating all 3)
    // is nearly singular; check on the three most popular items.
    std::vector<index_type> items(lr.n_items());
    std::iota(items.begin(), items.end(), index_type(0));
    std::partial_sort(items.begin(), items.begin() + 3, items.end(),
                      [&](index_type a, index_type b) { return lr.item_count(a) > lr.item_count(b); });
    double g[3][3] = {};
    for (index_type u = 0; u < lr.n_users(); ++u) {
        const auto r0 = lr.rating(u, items[0]), r1 = lr.rating(u, items[1]), r2 = lr.rating(u, items[2]);
        if (!r0 || !r1 || !r2) continue;
        const double x[3] = {*r0 - 5, *r1 - 5, *r2 - 5};
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) g[a][b] += x[a] * x[b];
    }
    const double det = g[0][0] * (g[1][1] * g[2][2] - g[1][2] * g[2][1]) -
                       g[0][1] * (g[1][0] * g[2][2] - g[1][2] * g[2][0]) +
                       g[0][2] * (g[1][0] * g[2][1] - g[1][1] * g[2][0]);
    REQUIRE(g[0][0] > 0);
    CHECK(det / (g[0][0] * g[1][1] * g[2][2]) < 0.05);  // rank 3 noise-only data gives ~1
}

TEST_CASE("generate: inconsistent options are rejected naming the field", "[synthetic]") {
    auto o = syn::ml100k();
    o.n_ratings = 943 * 20 - 1;
    CHECK_THROWS_WITH(syn::generate<float>(o),
                      "synthetic::generate: n_ratings 18859 < n_users 943 x min_ratings_per_user 20");
    o = syn::ml100k();
    o.n_ratings = 943 * 841 + 1;
    CHECK_THROWS_WITH(syn::generate<float>(o), "synthetic::generate: n_ratings 793064 > n_users 943 x n_items / 2 (841)");
    o = syn::ml100k();
    o.rating_step = 0.3;
    CHECK_THROWS_AS(syn::generate<float>(o), cfnet::InvalidArgument);
    o = syn::ml100k();
    o.noise = -1;
    CHECK_THROWS_AS(syn::generate<float>(o), cfnet::InvalidArgument);
    o = syn::ml100k();
    o.min_ratings_per_user = 0;
    CHECK_THROWS_AS(syn::generate<float>(o), cfnet::InvalidArgument);
    CHECK(syn::ml25m().n_ratings == 25000095);
    CHECK(syn::ml1m().n_users == 6040);
    CHECK(syn::ml10m().rating_step == 0.5);
}

TEST_CASE("ml20m_implicit: the shape of ML-20M after Liang et al.'s preprocessing", "[synthetic]") {
    const auto o = syn::ml20m_implicit();
    CHECK(o.n_users == 136677);
    CHECK(o.n_items == 20108);
    CHECK(o.n_ratings == 9990682);
    CHECK(o.min_ratings_per_user == 5);
    CHECK_FALSE(o.timestamps);
    // the full set takes seconds (benchmarks/bench_ease.cpp): generate it at 1/100 of the users
    auto small = o;
    small.n_users = 1367;
    small.n_ratings = 99907;
    const auto m = syn::generate<float>(small);
    CHECK(m.n_users() == 1367);
    CHECK(m.n_items() <= 20108);
    CHECK(m.nnz() == 99907);
    CHECK_FALSE(m.has_timestamps());
    std::size_t longest = 0;
    for (index_type u = 0; u < m.n_users(); ++u) {
        CHECK(m.user_count(u) >= 5);
        longest = std::max(longest, m.user_count(u));
    }
    CHECK(longest > 10 * (99907 / 1367));  // a long tail of very active users
    for (const float v : m.values()) CHECK((v == 4.f || v == 4.5f || v == 5.f));
}
