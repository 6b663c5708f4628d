#include <cfnet/detail/rng.hpp>
#include <cfnet/metrics.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using cfnet::index_type;
using Approx = Catch::Detail::Approx;
using Idx = std::vector<index_type>;
using RM = cfnet::RatingMatrix<float>;

TEST_CASE("rmse and mae over aligned vectors", "[metrics]") {
    // errors -1, 0, -2: rmse = sqrt((1 + 0 + 4) / 3) = sqrt(5/3) = 1.2909944; mae = (1 + 0 + 2) / 3 = 1
    const std::vector<float> pred = {1.f, 2.f, 3.f}, truth = {2.f, 2.f, 5.f};
    CHECK(cfnet::rmse(pred, truth) == Approx(1.2909944487358056));
    CHECK(cfnet::mae(pred, truth) == Approx(1.0));
    CHECK(cfnet::rmse(truth, truth) == 0.0);
    // any sized ranges: a Span and a double vector
    CHECK(cfnet::mae(cfnet::Span<float>(pred.data(), 2), std::vector<double>{1.5, 2.5}) == Approx(0.5));
    CHECK_THROWS_WITH(cfnet::rmse(pred, std::vector<float>{1.f}), "rmse: 3 predictions for 1 truths");
    CHECK_THROWS_WITH(cfnet::mae(std::vector<float>{}, std::vector<float>{}), "mae: empty input");
}

TEST_CASE("rmse accumulates in double", "[metrics]") {
    // one error of 1e4, then 1e6 errors of 1e-4: mae = (1e4 + 100) / (1e6 + 1) = 0.010099990. A float
    // accumulator drops every 1e-4 once the sum is 1e4 (float spacing there is ~1e-3) and gives 0.0099999.
    std::vector<float> pred(1000001, 1e-4f), truth(1000001, 0.f);
    pred[0] = 1e4f;
    CHECK(cfnet::mae(pred, truth) == Approx(10100.0 / 1000001.0).epsilon(1e-6));
}

TEST_CASE("per-user ranking metrics, hand computed", "[metrics]") {
    const Idx ranked = {5, 2, 9, 1, 7};
    const Idx relevant = {7, 2, 3};  // any order
    // k = 5: hits at ranks 2 and 5 (items 2, 7)
    CHECK(cfnet::precision_at_k(ranked, relevant, 5) == Approx(0.4));  // 2 / 5
    CHECK(cfnet::recall_at_k(ranked, relevant, 5) == Approx(2.0 / 3));
    CHECK(cfnet::hit_rate_at_k(ranked, relevant, 5) == 1.0);
    // DCG = 1/log2(3) + 1/log2(6) = 0.6309298 + 0.3868528 = 1.0177826
    // IDCG over min(5, 3) = 3 items = 1 + 1/log2(3) + 1/log2(4) = 2.1309298;  ndcg = 0.4776237
    CHECK(cfnet::ndcg_at_k(ranked, relevant, 5) == Approx(0.4776237035032179));
    // AP = (precision@2 + precision@5) / min(5, 3) = (1/2 + 2/5) / 3 = 0.3
    CHECK(cfnet::average_precision_at_k(ranked, relevant, 5) == Approx(0.3));

    // k = 3: only items 5, 2, 9 count; one hit at rank 2
    const auto m3 = cfnet::ranking_metrics_at_k(ranked, relevant, 3);
    CHECK(m3.precision == Approx(1.0 / 3));
    CHECK(m3.recall == Approx(1.0 / 3));
    CHECK(m3.ndcg == Approx(0.2960819109658652));  // 0.6309298 / 2.1309298
    CHECK(m3.hit_rate == 1.0);
    CHECK(m3.average_precision == Approx(1.0 / 6));  // (1/2) / min(3, 3)

    // k = 10 > 5 ranked: precision's denominator stays k = 10
    const auto m10 = cfnet::ranking_metrics_at_k(ranked, relevant, 10);
    CHECK(m10.precision == Approx(0.2));  // 2 / 10
    CHECK(m10.recall == Approx(2.0 / 3));
    CHECK(m10.ndcg == Approx(0.4776237035032179));  // IDCG over min(10, 3) = 3, as for k = 5
    CHECK(m10.average_precision == Approx(0.3));
}

TEST_CASE("capped recall and AP over R, hand computed", "[metrics]") {
    const Idx ranked = {5, 2, 9, 1, 7};
    const Idx relevant = {7, 2, 3};
    // k = 5: hits at ranks 2 and 5; min(5, 3) = 3 = R, so both variants equal the plain ones
    CHECK(cfnet::recall_capped_at_k(ranked, relevant, 5) == Approx(2.0 / 3));
    CHECK(cfnet::average_precision_r_at_k(ranked, relevant, 5) == Approx(0.3));  // (1/2 + 2/5) / 3
    // k = 2: one hit at rank 2. recall = 1/3, capped recall = 1 / min(2, 3) = 1/2;
    // AP = (1/2) / min(2, 3) = 1/4, AP over R = (1/2) / 3 = 1/6
    const auto m2 = cfnet::ranking_metrics_at_k(ranked, relevant, 2);
    CHECK(m2.recall == Approx(1.0 / 3));
    CHECK(m2.recall_capped == Approx(0.5));
    CHECK(m2.average_precision == Approx(0.25));
    CHECK(m2.average_precision_r == Approx(1.0 / 6));
    // 5 relevant, k = 2, both ranked relevant: capped recall 1 (Liang's Recall@k), recall 2/5, AP_R 2/5
    const auto many = cfnet::ranking_metrics_at_k(Idx{4, 8}, Idx{1, 4, 6, 8, 9}, 2);
    CHECK(many.recall_capped == Approx(1.0));
    CHECK(many.average_precision_r == Approx(0.4));  // (1/1 + 2/2) / 5
    CHECK_THROWS_AS(cfnet::recall_capped_at_k(Idx{1}, Idx{}, 2), cfnet::InvalidArgument);
}

TEST_CASE("ranking metrics: all hits, more relevant than k, no hits", "[metrics]") {
    const auto all = cfnet::ranking_metrics_at_k(Idx{1, 2}, Idx{2, 1}, 2);
    CHECK(all.precision == 1.0);
    CHECK(all.recall == 1.0);
    CHECK(all.ndcg == Approx(1.0));
    CHECK(all.hit_rate == 1.0);
    CHECK(all.average_precision == Approx(1.0));
    // 5 relevant, k = 2, both ranked items relevant: recall 2/5, but ndcg and AP are 1 (ideal over min(k, R) = 2)
    const auto many = cfnet::ranking_metrics_at_k(Idx{4, 8}, Idx{1, 4, 6, 8, 9}, 2);
    CHECK(many.precision == 1.0);
    CHECK(many.recall == Approx(0.4));
    CHECK(many.ndcg == Approx(1.0));
    CHECK(many.average_precision == Approx(1.0));  // (1/1 + 2/2) / 2
    // the single relevant item at rank 3 of k = 3: ndcg = (1/log2(4)) / 1 = 0.5, AP = (1/3) / 1
    const auto late = cfnet::ranking_metrics_at_k(Idx{7, 8, 9}, Idx{9}, 3);
    CHECK(late.ndcg == Approx(0.5));
    CHECK(late.average_precision == Approx(1.0 / 3));
    const auto none = cfnet::ranking_metrics_at_k(Idx{3}, Idx{1}, 1);
    CHECK(none.precision == 0.0);
    CHECK(none.recall == 0.0);
    CHECK(none.ndcg == 0.0);
    CHECK(none.hit_rate == 0.0);
    CHECK(none.average_precision == 0.0);
    // an empty ranked list (no candidates) scores 0 everywhere
    CHECK(cfnet::ranking_metrics_at_k(Idx{}, Idx{1}, 4).ndcg == 0.0);
}

TEST_CASE("ranking metrics: empty relevant set, k = 0, repeated indices", "[metrics]") {
    // precision and hit rate are defined (0); recall, ndcg and AP are 0/0 and throw
    CHECK(cfnet::precision_at_k(Idx{1, 2}, Idx{}, 2) == 0.0);
    CHECK(cfnet::hit_rate_at_k(Idx{1, 2}, Idx{}, 2) == 0.0);
    CHECK_THROWS_AS(cfnet::recall_at_k(Idx{1, 2}, Idx{}, 2), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::ndcg_at_k(Idx{1, 2}, Idx{}, 2), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::average_precision_at_k(Idx{1, 2}, Idx{}, 2), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::precision_at_k(Idx{1}, Idx{1}, 0), "precision_at_k: k must be positive");
    CHECK_THROWS_WITH(cfnet::recall_at_k(Idx{1, 1}, Idx{1}, 2), "recall_at_k: item index 1 repeats in the ranked list");
    CHECK_THROWS_WITH(cfnet::ndcg_at_k(Idx{1}, Idx{2, 2}, 2), "ndcg_at_k: item index 2 repeats in the relevant list");
    // a repeat beyond the first k is not looked at
    CHECK(cfnet::precision_at_k(Idx{1, 2, 2}, Idx{2}, 2) == Approx(0.5));
}

namespace {

// users 1..4 -> 0..3; items 10..15 -> 0..5. Both matrices share the index space of all ratings.
cfnet::Split<float> tiny_split() {
    const std::vector<cfnet::Rating<float>> train = {{1, 10, 5.f}, {1, 11, 3.f}, {2, 12, 4.f},
                                                     {3, 10, 2.f}, {3, 13, 5.f}, {4, 14, 1.f}};
    const std::vector<cfnet::Rating<float>> test = {{1, 12, 5.f}, {1, 13, 2.f}, {1, 15, 4.f},
                                                    {2, 10, 4.f}, {2, 11, 1.f}, {3, 11, 3.f}};
    auto all = train;
    all.insert(all.end(), test.begin(), test.end());
    const auto full = RM::from_ratings(all);
    return {RM::from_ratings(train, full.user_map(), full.item_map()),
            RM::from_ratings(test, full.user_map(), full.item_map())};
}

const std::vector<float> tiny_scores = {0.9f, 0.8f, 0.1f, 0.7f, 0.3f, 0.5f};  // the same for every user

}  // namespace

TEST_CASE("evaluate_ranking on a hand-built split", "[metrics]") {
    const auto split = tiny_split();
    std::vector<index_type> scored;
    auto score = [&](index_type u, float* s) {
        scored.push_back(u);
        std::copy(tiny_scores.begin(), tiny_scores.end(), s);
    };

    SECTION("threshold 4: users without a relevant item are skipped, never scored") {
        // user 0: candidates {2,3,4,5} -> ranked [3, 5]; relevant {2, 5}: hit at rank 2
        //   P = 1/2, R = 1/2, NDCG = (1/log2 3) / (1 + 1/log2 3) = 0.3868528, HR = 1, AP = (1/2) / 2 = 0.25
        // user 1: candidates {0,1,3,4,5} -> ranked [0, 1]; relevant {0} (item 11 rated 1): hit at rank 1
        //   P = 1/2, R = 1, NDCG = 1, HR = 1, AP = 1
        // user 2: only test rating is 3 -> skipped; user 3: no test rating -> skipped
        const auto r = cfnet::evaluate_ranking(split.train, split.test, 2, score, cfnet::RankingOptions().threshold(4.0));
        CHECK(r.users_evaluated == 2);
        CHECK(r.users_skipped == 2);
        CHECK(r.k == 2);
        CHECK(r.precision == Approx(0.5));
        CHECK(r.recall == Approx(0.75));
        CHECK(r.ndcg == Approx(0.6934264036172708));  // (0.3868528 + 1) / 2
        CHECK(r.hit_rate == Approx(1.0));
        CHECK(r.map == Approx(0.625));  // (0.25 + 1) / 2
        CHECK(scored == Idx{0, 1});
    }
    SECTION("no threshold: every test item is relevant") {
        // user 0: ranked [3, 5], relevant {2,3,5}: P = 1, R = 2/3, NDCG = 1, AP = 1
        // user 1: ranked [0, 1], relevant {0,1}: all 1
        // user 2: candidates {1,2,4,5} -> ranked [1, 5], relevant {1}: P = 1/2, R = 1, NDCG = 1, AP = 1
        const auto r = cfnet::evaluate_ranking(split.train, split.test, 2, score);
        CHECK(r.users_evaluated == 3);
        CHECK(r.users_skipped == 1);
        CHECK(r.precision == Approx(2.5 / 3));
        CHECK(r.recall == Approx((2.0 / 3 + 2.0) / 3));
        CHECK(r.ndcg == Approx(1.0));
        CHECK(r.map == Approx(1.0));
    }
    SECTION("exclude_train = false ranks training items too") {
        // both users get ranked [0, 1]; user 0 relevant {2,5}: no hit; user 1 relevant {0}: hit at rank 1
        const auto r = cfnet::evaluate_ranking(split.train, split.test, 2, score,
                                               cfnet::RankingOptions().threshold(4.0).exclude_train_items(false));
        CHECK(r.users_evaluated == 2);
        CHECK(r.precision == Approx(0.25));
        CHECK(r.recall == Approx(0.5));
        CHECK(r.hit_rate == Approx(0.5));
        CHECK(r.ndcg == Approx(0.5));
        CHECK(r.map == Approx(0.5));
    }
    SECTION("errors") {
        CHECK_THROWS_WITH(cfnet::evaluate_ranking(split.train, split.test, 0, score),
                          "evaluate_ranking: k must be positive");
        CHECK_THROWS_AS(cfnet::evaluate_ranking(split.train, split.test, 2, score, cfnet::RankingOptions().threshold(6)),
                        cfnet::InvalidArgument);
        const auto other = RM::from_ratings({{1, 10, 1.f}});
        CHECK_THROWS_AS(cfnet::evaluate_ranking(other, split.test, 2, score), cfnet::InvalidArgument);
        auto nan_scorer = [](index_type, float* s) {
            std::fill(s, s + 6, 1.f);
            s[4] = std::numeric_limits<float>::quiet_NaN();
        };
        CHECK_THROWS_WITH(cfnet::evaluate_ranking(split.train, split.test, 2, nan_scorer),
                          "evaluate_ranking: score of user index 0, item index 4 is NaN");
        // NaN on the user's own training items is never read (they are not candidates)
        auto nan_on_train = [&](index_type u, float* s) {
            std::copy(tiny_scores.begin(), tiny_scores.end(), s);
            for (const auto i : split.train.user_items(u)) s[i] = std::numeric_limits<float>::quiet_NaN();
        };
        CHECK(cfnet::evaluate_ranking(split.train, split.test, 2, nan_on_train).precision == Approx(2.5 / 3));
    }
}

TEST_CASE("evaluate_ranking agrees with a naive per-user reference on random data", "[metrics]") {
    cfnet::Rng rng(11);
    const std::size_t nu = 40, ni = 60;
    std::vector<cfnet::Rating<float>> train, test;
    for (cfnet::id_type u = 0; u < static_cast<cfnet::id_type>(nu); ++u)
        for (cfnet::id_type i = 0; i < static_cast<cfnet::id_type>(ni); ++i) {
            const double p = rng.uniform();
            const auto r = static_cast<float>(1 + rng.below(5));
            if (p < 0.15) train.push_back({u, i, r});
            else if (p < 0.25) test.push_back({u, i, r});
        }
    train.push_back({static_cast<cfnet::id_type>(nu - 1), static_cast<cfnet::id_type>(ni - 1), 1.f});  // full space
    const auto tr = RM::from_ratings(train);
    const auto te = RM::from_ratings(test, tr.user_map(), tr.item_map());
    std::vector<float> dense(nu * ni);  // a fixed dense score table; ties on purpose (few values)
    for (auto& s : dense) s = static_cast<float>(rng.below(7));
    auto score = [&](index_type u, float* s) { std::copy_n(dense.data() + u * ni, ni, s); };

    for (const std::size_t k : {1u, 5u, 20u, 100u}) {
        const auto r = cfnet::evaluate_ranking(tr, te, k, score, cfnet::RankingOptions().threshold(3.0));
        // reference: full sort of the candidates, then the public per-user functions
        double p = 0, rc = 0, n = 0, h = 0, m = 0;
        std::size_t users = 0;
        for (index_type u = 0; u < nu; ++u) {
            Idx rel, cand;
            for (index_type i = 0; i < ni; ++i) {
                const auto t = te.rating(u, i);
                if (t && *t >= 3.f) rel.push_back(i);
                if (!tr.contains(u, i)) cand.push_back(i);
            }
            if (rel.empty()) continue;
            const float* s = dense.data() + u * ni;
            std::stable_sort(cand.begin(), cand.end(), [&](index_type a, index_type b) { return s[a] > s[b]; });
            cand.resize(std::min(k, cand.size()));
            const auto mm = cfnet::ranking_metrics_at_k(cand, rel, k);
            p += mm.precision, rc += mm.recall, n += mm.ndcg, h += mm.hit_rate, m += mm.average_precision;
            ++users;
        }
        INFO("k = " << k);
        REQUIRE(r.users_evaluated == users);
        CHECK(r.users_evaluated + r.users_skipped == nu);
        CHECK(r.precision == Approx(p / static_cast<double>(users)));
        CHECK(r.recall == Approx(rc / static_cast<double>(users)));
        CHECK(r.ndcg == Approx(n / static_cast<double>(users)));
        CHECK(r.hit_rate == Approx(h / static_cast<double>(users)));
        CHECK(r.map == Approx(m / static_cast<double>(users)));
    }
}

TEST_CASE("evaluate_ranking at several k in one pass equals one call per k", "[metrics]") {
    const auto split = tiny_split();
    std::size_t calls = 0;
    auto score = [&](index_type, float* s) {
        ++calls;
        std::copy(tiny_scores.begin(), tiny_scores.end(), s);
    };
    const std::vector<std::size_t> ks = {3, 1, 2};
    const auto multi = cfnet::evaluate_ranking(split.train, split.test, ks, score);
    CHECK(calls == 3);  // one scoring per evaluated user, not one per k
    REQUIRE(multi.size() == 3);
    for (std::size_t r = 0; r < ks.size(); ++r) {
        const auto one = cfnet::evaluate_ranking(split.train, split.test, ks[r], score);
        INFO("k = " << ks[r]);
        CHECK(multi[r].k == ks[r]);
        CHECK(multi[r].precision == one.precision);
        CHECK(multi[r].recall == one.recall);
        CHECK(multi[r].ndcg == one.ndcg);
        CHECK(multi[r].map == one.map);
        CHECK(multi[r].recall_capped == one.recall_capped);
        CHECK(multi[r].map_r == one.map_r);
        CHECK(multi[r].users_evaluated == one.users_evaluated);
    }
    // k = 1, no threshold: user 0 ranked [3] relevant {2,3,5}: hit; recall 1/3, capped 1/1, AP_R 1/3
    // user 1 ranked [0] relevant {0,1}: hit; recall 1/2, capped 1, AP_R 1/2; user 2 ranked [1] relevant {1}: 1
    CHECK(multi[1].recall == Approx((1.0 / 3 + 0.5 + 1.0) / 3));
    CHECK(multi[1].recall_capped == Approx(1.0));
    CHECK(multi[1].map == Approx(1.0));
    CHECK(multi[1].map_r == Approx((1.0 / 3 + 0.5 + 1.0) / 3));
    CHECK_THROWS_WITH(cfnet::evaluate_ranking(split.train, split.test, std::vector<std::size_t>{}, score),
                      "evaluate_ranking: no k given");
    CHECK_THROWS_WITH(cfnet::evaluate_ranking(split.train, split.test, std::vector<std::size_t>{2, 0}, score),
                      "evaluate_ranking: k must be positive");
}

TEST_CASE("evaluate_ranking: exclude_unseen_items drops items without training ratings", "[metrics]") {
    // tiny_split: item 5 (id 15) has no training rating. No threshold, k = 2.
    // user 0: candidates {2,3,4} -> ranked [3, 4]; relevant {2,3,5}: hit at rank 1 -> P 1/2, R 1/3
    // user 1: candidates {0,1,3,4} -> ranked [0, 1]; relevant {0,1}: P 1, R 1
    // user 2: candidates {1,2,4} -> ranked [1, 4]; relevant {1}: P 1/2, R 1
    const auto split = tiny_split();
    auto score = [&](index_type, float* s) { std::copy(tiny_scores.begin(), tiny_scores.end(), s); };
    const auto r = cfnet::evaluate_ranking(split.train, split.test, 2, score,
                                           cfnet::RankingOptions().exclude_items_unseen_in_train(true));
    CHECK(r.users_evaluated == 3);
    CHECK(r.precision == Approx(2.0 / 3));
    CHECK(r.recall == Approx((1.0 / 3 + 2.0) / 3));
    // the unseen item's score is never read, NaN included
    auto nan_unseen = [&](index_type, float* s) {
        std::copy(tiny_scores.begin(), tiny_scores.end(), s);
        s[5] = std::numeric_limits<float>::quiet_NaN();
    };
    CHECK(cfnet::evaluate_ranking(split.train, split.test, 2, nan_unseen,
                                  cfnet::RankingOptions().exclude_items_unseen_in_train(true))
              .precision == Approx(2.0 / 3));
}

TEST_CASE("evaluate_rating over a test matrix", "[metrics]") {
    const auto split = tiny_split();
    // test ratings 5, 2, 4, 4, 1, 3 against a constant 3: errors 2, -1, 1, 1, -2, 0
    // rmse = sqrt(11 / 6) = 1.3540064, mae = 7 / 6
    std::size_t calls = 0;
    const auto r = cfnet::evaluate_rating(split.test, [&](index_type, index_type) {
        ++calls;
        return 3.0f;
    });
    CHECK(r.count == 6);
    CHECK(calls == 6);
    CHECK(r.rmse == Approx(1.35400640077266));
    CHECK(r.mae == Approx(7.0 / 6));
    // the prediction sees (user, item) indices: the exact rating gives 0 error
    const auto exact = cfnet::evaluate_rating(split.test, [&](index_type u, index_type i) { return *split.test.rating(u, i); });
    CHECK(exact.rmse == 0.0);
    CHECK_THROWS_AS(cfnet::evaluate_rating(RM(), [](index_type, index_type) { return 0.f; }), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::evaluate_rating(split.test, [](index_type, index_type) { return std::nan(""); }),
                    cfnet::NumericalError);
}
