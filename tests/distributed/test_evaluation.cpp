// distributed/evaluation.hpp on one rank (SingleProcess) = the single-process functions; what it
// refuses. N ranks: tests/distributed/mpi/test_evaluation.cpp.
#include <cfnet/autoencoder.hpp>
#include <cfnet/distributed/evaluation.hpp>
#include <cfnet/ease.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using cfnet::distributed::SingleProcess;
using Approx = Catch::Detail::Approx;

TEST_CASE("distributed evaluate_ranking / evaluate_rating / recommend_batch on one rank = single process") {
    const auto split = cfnet_test::low_rank_split(40, 30, 2);
    cfnet::Ease<float> model(cfnet::EaseOptions().l2(5));
    model.fit(split.train);
    SingleProcess comm;
    auto scorer = model.make_scorer(split.train);
    const auto opts = cfnet::RankingOptions().threshold(4);
    const auto ref = cfnet::evaluate_ranking(split.train, split.test, {5, 10}, scorer, opts);
    const auto got = cfnet::distributed::evaluate_ranking(split.train, split.test, {5, 10}, scorer, opts, comm);
    REQUIRE(got.size() == 2);
    for (std::size_t r = 0; r < 2; ++r) {
        CHECK(got[r].users_evaluated == ref[r].users_evaluated);
        CHECK(got[r].users_skipped == ref[r].users_skipped);
        CHECK(got[r].precision == Approx(ref[r].precision).epsilon(1e-12));
        CHECK(got[r].recall == Approx(ref[r].recall).epsilon(1e-12));
        CHECK(got[r].ndcg == Approx(ref[r].ndcg).epsilon(1e-12));
        CHECK(got[r].map_r == Approx(ref[r].map_r).epsilon(1e-12));
    }
    CHECK(ref[1].users_evaluated > 0);

    auto pred = [&](cfnet::index_type u, cfnet::index_type i) { return model.predict(split.train, {{u, i}})[0]; };
    const auto rr = cfnet::evaluate_rating(split.test, pred);
    const auto rd = cfnet::distributed::evaluate_rating(split.test, pred, comm);
    CHECK(rd.count == rr.count);
    CHECK(rd.rmse == Approx(rr.rmse).epsilon(1e-12));
    CHECK(rd.mae == Approx(rr.mae).epsilon(1e-12));

    const std::vector<cfnet::index_type> users{3, 0, 17, 3};
    const auto recs = cfnet::distributed::recommend_batch(model, split.train, users, 5, comm);
    REQUIRE(recs.size() == users.size());
    for (std::size_t p = 0; p < users.size(); ++p) {
        const auto one = model.recommend(split.train, users[p], 5);
        REQUIRE(recs[p].size() == one.size());
        for (std::size_t r = 0; r < one.size(); ++r) {
            CHECK(recs[p][r].item == one[r].item);
            CHECK(recs[p][r].score == one[r].score);
        }
    }
    CHECK_THROWS_AS(cfnet::distributed::recommend_batch(model, split.train, {40}, 5, comm), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::distributed::evaluate_ranking(split.train, split.test, 5, scorer,
                                                           cfnet::RankingOptions().exclude_items_unseen_in_train(true), comm),
                      Catch::Contains("exclude_unseen_items"));
}

TEST_CASE("evaluate_ranking_users / recommend_batch_users on one rank = single process, bit for bit") {
    const auto split = cfnet_test::low_rank_split(300, 30, 3);  // 300 users: three 128-user units
    cfnet::AutoencoderCF<float> model(cfnet_test::small_options());
    model.fit(split.train);
    SingleProcess comm;
    const auto opts = cfnet::RankingOptions().threshold(4);
    const auto ref = cfnet::evaluate_ranking(split.train, split.test, {5, 10}, model.make_scorer(split.train), opts);
    for (const int t : {1, 2}) {
        const auto got = cfnet::distributed::evaluate_ranking_users(
            split.train, split.test, {5, 10}, cfnet::per_thread([&] { return model.make_scorer(split.train); }),
            cfnet::RankingOptions(opts).use_threads(t), comm);
        REQUIRE(got.size() == 2);
        for (std::size_t r = 0; r < 2; ++r) {
            CHECK(got[r].users_evaluated == ref[r].users_evaluated);
            CHECK(got[r].users_skipped == ref[r].users_skipped);
            CHECK(got[r].precision == ref[r].precision);
            CHECK(got[r].recall == ref[r].recall);
            CHECK(got[r].ndcg == ref[r].ndcg);
            CHECK(got[r].map == ref[r].map);
            CHECK(got[r].map_r == ref[r].map_r);
        }
        std::vector<cfnet::index_type> users(split.train.n_users());
        for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<cfnet::index_type>(users.size() - 1 - u);
        std::vector<std::vector<cfnet::Recommendation<float>>> one;
        model.recommend_batch(split.train, users, 5,
                              [&](cfnet::index_type, const std::vector<cfnet::Recommendation<float>>& r) { one.push_back(r); });
        const auto recs = cfnet::distributed::recommend_batch_users(model, split.train, users, 5, comm, true, t);
        REQUIRE(recs.size() == one.size());
        std::size_t differ = 0;
        for (std::size_t p = 0; p < one.size(); ++p) {
            differ += recs[p].size() != one[p].size();
            for (std::size_t r = 0; r < std::min(one[p].size(), recs[p].size()); ++r)
                differ += recs[p][r].item != one[p][r].item || recs[p][r].score != one[p][r].score;
        }
        CHECK(differ == 0);
    }
    CHECK_THROWS_AS(cfnet::distributed::recommend_batch_users(model, split.train, {300}, 5, comm),
                    cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::distributed::recommend_batch_users(model, split.train, {0}, 5, comm, true, -1),
                    cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::distributed::evaluate_ranking_users(split.train, split.test, {5}, model.make_scorer(split.train),
                                                               cfnet::RankingOptions().use_threads(2), comm),
                    cfnet::InvalidArgument);
}
