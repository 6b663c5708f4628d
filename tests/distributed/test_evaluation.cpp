// distributed/evaluation.hpp on one rank (SingleProcess) = the single-process functions; what it
// refuses. N ranks: tests/distributed/mpi/test_evaluation.cpp.
#include <cfnet/distributed/evaluation.hpp>
#include <cfnet/ease.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

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
