// data/sampling.hpp: sample_negatives' layout (each positive followed by its negatives, users in
// index order, items increasing), negatives never among the user's positives and spread over the
// rest, determinism by seed, reuse of the output, and the error for a user who rated every item.
// One case samples NeuralCF's low-rank test matrix (tests/support/neural_cf.hpp), as NeuralCF does.
#include <cfnet/data/sampling.hpp>

#include "support/neural_cf.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::ImplicitSamples;
using cfnet::index_type;
using cfnet::RatingMatrix;

namespace {

// Every user u interacts with the `per_user` items (u + 3j) mod n_items, except user `idle` (pass
// n_users or more for none), who has none; all n_users x n_items ids are in the index space.
RatingMatrix<float> interactions(std::size_t n_users, std::size_t n_items, std::size_t per_user, std::size_t idle) {
    std::vector<cfnet::Rating<float>> r;
    for (std::size_t u = 0; u < n_users; ++u) {
        if (u == idle) continue;
        for (std::size_t j = 0; j < per_user; ++j)
            r.push_back({static_cast<cfnet::id_type>(u), static_cast<cfnet::id_type>((u + 3 * j) % n_items), 1.f, 0});
    }
    // every item and user id present in the index space
    std::vector<cfnet::id_type> users, items;
    for (std::size_t u = 0; u < n_users; ++u) users.push_back(static_cast<cfnet::id_type>(u));
    for (std::size_t i = 0; i < n_items; ++i) items.push_back(static_cast<cfnet::id_type>(i));
    return RatingMatrix<float>::from_ratings(r, std::make_shared<cfnet::IdMap>(users, "user"),
                                             std::make_shared<cfnet::IdMap>(items, "item"));
}

}  // namespace

TEST_CASE("sample_negatives: each positive then its negatives, users in order, none a positive", "[sampling]") {
    const auto m = interactions(12, 20, 4, 5);
    REQUIRE(m.user_count(5) == 0);
    cfnet::Rng rng(3);
    ImplicitSamples<float> s;
    cfnet::sample_negatives(m, 3, rng, s);
    REQUIRE(s.size() == m.nnz() * 4);
    REQUIRE(s.items.size() == s.size());
    REQUIRE(s.labels.size() == s.size());
    std::size_t k = 0;
    for (index_type u = 0; u < m.n_users(); ++u) {
        const auto seen = m.user_items(u);
        for (const auto item : seen) {
            // the positive, exactly as stored
            CHECK(s.users[k] == u);
            CHECK(s.items[k] == item);
            CHECK(s.labels[k] == 1.0f);
            ++k;
            for (int j = 0; j < 3; ++j, ++k) {
                CHECK(s.users[k] == u);
                CHECK(s.labels[k] == 0.0f);
                CHECK(s.items[k] < m.n_items());
                CHECK_FALSE(std::binary_search(seen.begin(), seen.end(), s.items[k]));
            }
        }
    }
    CHECK(k == s.size());
}

TEST_CASE("sample_negatives: zero negatives gives the positives only", "[sampling]") {
    const auto m = interactions(6, 10, 3, 99);
    cfnet::Rng rng(1);
    ImplicitSamples<float> s;
    cfnet::sample_negatives(m, 0, rng, s);
    REQUIRE(s.size() == m.nnz());
    CHECK(std::all_of(s.labels.begin(), s.labels.end(), [](float l) { return l == 1.0f; }));
    CHECK(s.users == m.entry_users());
    CHECK(s.items == m.item_indices());
}

TEST_CASE("sample_negatives: the same seed gives the same samples, the next call or another seed others",
          "[sampling]") {
    const auto m = interactions(15, 30, 5, 99);
    cfnet::Rng a(42), b(42), c(43);
    ImplicitSamples<float> sa, sb, sc, again;
    cfnet::sample_negatives(m, 4, a, sa);
    cfnet::sample_negatives(m, 4, b, sb);
    cfnet::sample_negatives(m, 4, c, sc);
    CHECK(sa.users == sb.users);
    CHECK(sa.items == sb.items);
    CHECK(sa.labels == sb.labels);
    CHECK(sa.users == sc.users);  // the layout does not depend on the draws
    CHECK(sa.items != sc.items);
    // a second call with the same Rng resamples into the same (cleared, not appended) output
    again = sa;
    cfnet::sample_negatives(m, 4, a, again);
    CHECK(again.size() == sa.size());
    CHECK(again.users == sa.users);
    CHECK(again.items != sa.items);
}

TEST_CASE("sample_negatives: the negatives cover the unrated items roughly uniformly", "[sampling]") {
    // one user who rated items 0..9 of 20: negatives are uniform over items 10..19
    std::vector<cfnet::Rating<float>> r;
    for (cfnet::id_type i = 0; i < 20; ++i)
        if (i < 10) r.push_back({0, i, 1.f, 0});
    std::vector<cfnet::id_type> items;
    for (cfnet::id_type i = 0; i < 20; ++i) items.push_back(i);
    const auto m = RatingMatrix<float>::from_ratings(r, std::make_shared<cfnet::IdMap>(std::vector<cfnet::id_type>{0}, "user"),
                                                     std::make_shared<cfnet::IdMap>(items, "item"));
    cfnet::Rng rng(9);
    ImplicitSamples<float> s;
    cfnet::sample_negatives(m, 1000, rng, s);  // 10 positives x 1000 = 10000 negatives
    std::vector<std::size_t> count(20, 0);
    for (std::size_t k = 0; k < s.size(); ++k)
        if (s.labels[k] == 0.0f) ++count[s.items[k]];
    for (std::size_t i = 0; i < 10; ++i) CHECK(count[i] == 0);
    for (std::size_t i = 10; i < 20; ++i) {
        INFO("item " << i);
        CHECK(count[i] > 850);  // expected 1000, standard deviation about 30
        CHECK(count[i] < 1150);
    }
}

TEST_CASE("sample_negatives: a user who interacted with every item is an error naming it", "[sampling]") {
    std::vector<cfnet::Rating<float>> r{{1, 1, 1.f, 0}, {1, 2, 1.f, 0}, {2, 1, 1.f, 0}, {3, 1, 1.f, 0}, {3, 2, 1.f, 0}};
    const auto m = RatingMatrix<float>::from_ratings(r);
    cfnet::Rng rng(1);
    ImplicitSamples<float> s;
    CHECK_THROWS_AS(cfnet::sample_negatives(m, 1, rng, s), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::sample_negatives(m, 1, rng, s),
                      Contains("sample_negatives: user index 0 has interacted with all 2 items"));
    CHECK_THROWS_WITH(cfnet::check_negative_sampling(m, "fit"), Contains("fit: user index 0"));
    // user index 2 too; with only user index 1's positives, there is room
    const auto owner = m.entry_users();
    const auto rest = m.filter([&](std::size_t k) { return owner[k] == 1; });
    CHECK_NOTHROW(cfnet::sample_negatives(rest, 1, rng, s));
}

TEST_CASE("sample_negatives: never a positive of the user, N per positive, resampled", "[sampling]") {
    const auto m = cfnet_test::low_rank<float>(30, 25, 0.4, 5);
    cfnet::Rng rng(1);
    cfnet::ImplicitSamples<float> s1, s2;
    cfnet::sample_negatives(m, 4, rng, s1);
    REQUIRE(s1.size() == m.nnz() * 5);
    std::size_t pos = 0;
    for (std::size_t k = 0; k < s1.size(); ++k) {
        const auto seen = m.user_items(s1.users[k]);
        const bool is_seen = std::binary_search(seen.begin(), seen.end(), s1.items[k]);
        if (s1.labels[k] == 1.0f) {
            ++pos;
            CHECK(is_seen);
        } else {
            REQUIRE(s1.labels[k] == 0.0f);
            CHECK(!is_seen);
        }
    }
    CHECK(pos == m.nnz());
    cfnet::sample_negatives(m, 4, rng, s2);
    CHECK(s1.users == s2.users);
    CHECK(s1.items != s2.items);  // a new draw

    // a user who rated every item leaves nothing to sample
    std::vector<cfnet::Rating<float>> full{{1, 1, 1.f, 0}, {1, 2, 1.f, 0}, {2, 1, 1.f, 0}};
    const auto f = cfnet::RatingMatrix<float>::from_ratings(full);
    CHECK_THROWS_AS(cfnet::sample_negatives(f, 1, rng, s1), cfnet::InvalidArgument);
}
