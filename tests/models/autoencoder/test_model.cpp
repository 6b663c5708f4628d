// models/autoencoder/model.hpp: AutoencoderCF's API on a synthetic low-rank problem: held-out
// prediction, score_items/predict/recommend/recommend_batch agreeing with each other, fold-in of a
// new user, determinism by seed, and the errors of unfitted models, bad indices and fold-in input.
#include <cfnet/models/autoencoder/model.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::index_type;
using cfnet_test::low_rank_split;
using cfnet_test::model_path;
using cfnet_test::small_options;

TEST_CASE("AutoencoderCF: learns a low-rank problem to a held-out RMSE bound", "[autoencoder]") {
    const auto lr = low_rank_split(120, 40, 1);
    const auto& train = lr.train;
    const auto& test = lr.test;
    AutoencoderCF<float> model(small_options());
    const auto h = model.fit(train, test);
    CHECK(h[h.size() - 1].loss < 0.5 * h[0].loss);
    const auto pred = model.predict(train, test);
    REQUIRE(pred.size() == test.nnz());
    double se = 0, se_mean = 0;
    const double mu = train.mean();
    for (std::size_t k = 0; k < pred.size(); ++k) {
        se += std::pow(pred[k] - test.values()[k], 2);
        se_mean += std::pow(mu - test.values()[k], 2);
    }
    const double rmse = std::sqrt(se / pred.size()), rmse_mean = std::sqrt(se_mean / pred.size());
    INFO("rmse " << rmse << ", global-mean rmse " << rmse_mean);
    CHECK(rmse < 0.75 * rmse_mean);
    // the history's validation RMSE is the same computation
    CHECK(h[h.size() - 1].metric("val_rmse").value() == Approx(rmse).epsilon(1e-5));

    // the item-based orientation learns it too
    AutoencoderCF<float> items(AutoencoderOptions(small_options()).item_based());
    items.fit(train);
    const auto pi = items.predict(train, test);
    double se_i = 0;
    for (std::size_t k = 0; k < pi.size(); ++k) se_i += std::pow(pi[k] - test.values()[k], 2);
    INFO("item-based rmse " << std::sqrt(se_i / pi.size()));
    CHECK(std::sqrt(se_i / pi.size()) < 0.8 * rmse_mean);
    // item-based scoring of a user's items equals pairwise predict, and recommend_batch == recommend
    std::vector<float> scores(train.n_items());
    items.score_items(train, 3, scores.data());
    std::vector<std::pair<index_type, index_type>> pairs;
    for (index_type i = 0; i < train.n_items(); ++i) pairs.emplace_back(3, i);
    const auto p3 = items.predict(train, pairs);
    for (std::size_t i = 0; i < p3.size(); ++i) CHECK(scores[i] == Approx(p3[i]).epsilon(1e-5).margin(1e-6));
    items.recommend_batch(train, {3, 4}, 5, [&](index_type u, const std::vector<cfnet::Recommendation<float>>& recs) {
        const auto one = items.recommend(train, u, 5);
        REQUIRE(one.size() == recs.size());
        for (std::size_t j = 0; j < recs.size(); ++j) {
            CHECK(one[j].item == recs[j].item);
            CHECK_FALSE(train.contains(u, recs[j].item));
        }
    });
}

TEST_CASE("AutoencoderCF: fold-in recommend excludes rated items and equals batched recommend", "[autoencoder]") {
    const auto lr = low_rank_split(60, 30, 2);
    const auto& train = lr.train;
    auto o = small_options();
    o.epochs = 3;
    AutoencoderCF<float> model(o);
    model.fit(train);
    std::vector<index_type> users{0, 5, 17, 59};
    std::vector<std::vector<cfnet::Recommendation<float>>> batched;
    std::vector<index_type> order;
    model.recommend_batch(train, users, 10, [&](index_type u, const std::vector<cfnet::Recommendation<float>>& recs) {
        order.push_back(u);
        batched.push_back(recs);
    });
    REQUIRE(order == users);
    REQUIRE(batched.size() == users.size());
    for (std::size_t r = 0; r < users.size(); ++r) {
        const auto items = train.user_items(users[r]);
        const auto vals = train.user_ratings(users[r]);
        const std::vector<index_type> it(items.begin(), items.end());
        const std::vector<float> va(vals.begin(), vals.end());
        const auto single = model.recommend(it, va, 10);
        REQUIRE(single.size() == batched[r].size());
        REQUIRE(single.size() == std::min<std::size_t>(10, train.n_items() - it.size()));
        for (std::size_t j = 0; j < single.size(); ++j) {
            CHECK(single[j].item == batched[r][j].item);
            CHECK(single[j].score == Approx(batched[r][j].score).epsilon(1e-5));
            CHECK_FALSE(train.contains(users[r], single[j].item));
            if (j > 0) CHECK(single[j - 1].score >= single[j].score);
        }
        // recommend for a user of the input matrix is the same list
        const auto by_index = model.recommend(train, users[r], 10);
        REQUIRE(by_index.size() == single.size());
        for (std::size_t j = 0; j < single.size(); ++j) CHECK(by_index[j].item == single[j].item);
        // predictions for the user's pairs from predict() equal predict_user() and score_items()
        const auto full = model.predict_user(it, va);
        std::vector<float> scores(train.n_items());
        model.score_items(train, users[r], scores.data());
        for (std::size_t i = 0; i < scores.size(); ++i) CHECK(scores[i] == Approx(full[i]).epsilon(1e-5));
        const std::vector<std::pair<index_type, index_type>> pairs{{users[r], 3}, {users[r], 7}};
        const auto p = model.predict(train, pairs);
        CHECK(p[0] == Approx(full[3]).epsilon(1e-5));
        CHECK(p[1] == Approx(full[7]).epsilon(1e-5));
        // the order in which a user's ratings are given does not matter
        std::vector<index_type> rit(it.rbegin(), it.rend());
        std::vector<float> rva(va.rbegin(), va.rend());
        CHECK(model.recommend(rit, rva, 10)[0].item == single[0].item);
        // exclude_seen = false may return rated items and ranks all of them
        CHECK(model.recommend(it, va, train.n_items(), false).size() == train.n_items());
    }
    // a user never seen in training (fold-in): three ratings
    const auto rec = model.recommend({1, 4, 9}, {5.0f, 1.0f, 4.0f}, 5);
    REQUIRE(rec.size() == 5);
    for (const auto& x : rec) CHECK((x.item != 1 && x.item != 4 && x.item != 9));

    // evaluate_ranking through a Scorer
    const auto rep = cfnet::evaluate_ranking(train, lr.test, 5, model.make_scorer(train));
    CHECK(rep.users_evaluated > 0);
}

TEST_CASE("AutoencoderCF: the same seed gives the same history, another seed another", "[autoencoder]") {
    const auto lr = low_rank_split(50, 30, 3);
    auto o = small_options();
    o.epochs = 3;
    o.input_dropout = 0.2;
    o.hidden_dropout = 0.1;
    AutoencoderCF<float> a(o), b(o), c(AutoencoderOptions(o).random_seed(7));
    const auto ha = a.fit(lr.train), hb = b.fit(lr.train), hc = c.fit(lr.train);
    for (std::size_t e = 0; e < ha.size(); ++e) {
        CHECK(ha[e].loss == hb[e].loss);
        CHECK(ha[e].loss != hc[e].loss);
    }
    auto pa = a.parameters(), pb = b.parameters();
    for (std::size_t k = 0; k < pa.size(); ++k) CHECK((pa[k]->value == pb[k]->value));
}

TEST_CASE_METHOD(cfnet_test::ErrorFixture, "AutoencoderCF: bad indices, malformed fold-in input and unfitted models give clear errors", "[autoencoder]") {
    SECTION("not fitted") {
        AutoencoderCF<float> m(o);
        CHECK_THROWS_WITH(m.predict_user({0}, {3.0f}), Contains("not fitted"));
        CHECK_THROWS_WITH(m.save(model_path("never.cfnet")), Contains("not fitted"));
    }
    SECTION("unknown indices and malformed fold-in input") {
        AutoencoderCF<float> m(o);
        m.fit(train);
        const auto nu = static_cast<index_type>(train.n_users()), ni = static_cast<index_type>(train.n_items());
        CHECK_THROWS_WITH(m.predict(train, {{nu, 0}}), Contains("outside"));
        CHECK_THROWS_WITH(m.predict(train, {{0, ni}}), Contains("outside"));
        CHECK_THROWS_WITH(m.predict_user({ni}, {3.0f}), Contains("out of range"));
        CHECK_THROWS_WITH(m.recommend({1, 1}, {3.0f, 4.0f}, 3), Contains("repeated"));
        CHECK_THROWS_WITH(m.predict_user({1, 2}, {3.0f}), Contains("2 items but 1 ratings"));
        CHECK_THROWS_WITH(m.recommend(train, nu, 3), Contains("out of range"));
        CHECK_THROWS_WITH(m.recommend_batch(train, {0, nu}, 3, [](index_type, const auto&) { FAIL("sink called"); }),
                          Contains("out of range"));
        std::vector<float> s(train.n_items());
        CHECK_THROWS_WITH(m.score_items(train, nu, s.data()), Contains("out of range"));
    }
    SECTION("fold-in needs the user-based orientation") {
        AutoencoderCF<float> m(AutoencoderOptions(o).item_based());
        m.fit(train);
        CHECK_THROWS_WITH(m.recommend({0}, {4.0f}, 3), Contains("user_based"));
    }
}
