// Distributed evaluation and recommendation on N ranks (mpirun -np 2 and 3) against one process:
// the EASE model (bit-identical on every rank, distributed/ease.hpp) scores MovieLens 100K users
// from their rank's shard; the metrics agree up to the order in which the per-user means are
// summed (1e-12 relative), the recommendations exactly.
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/distributed/ease.hpp>
#include <cfnet/distributed/evaluation.hpp>
#include <cfnet/distributed/mpi.hpp>

#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

using cfnet::distributed::MpiCommunicator;
using Approx = Catch::Detail::Approx;

TEST_CASE("evaluate_ranking, evaluate_rating and recommend_batch over N user shards = one process") {
    MpiCommunicator comm;
    const auto all = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::stratified_split(all, 0.25, 42, cfnet::By::user);
    const auto train = cfnet::distributed::shard_rows(split.train, comm);
    const auto test = cfnet::distributed::shard_rows(split.test, comm);
    cfnet::Ease<float> model(cfnet::EaseOptions().l2(200));
    cfnet::distributed::fit_sharded(model, train, comm);

    const auto opts = cfnet::RankingOptions().threshold(4);
    const auto ref = cfnet::evaluate_ranking(split.train, split.test, {10, 20}, model.make_scorer(split.train), opts);
    const auto got =
        cfnet::distributed::evaluate_ranking(train, test, {10, 20}, model.make_scorer(train), opts, comm);
    for (std::size_t r = 0; r < 2; ++r) {
        CHECK(got[r].users_evaluated == ref[r].users_evaluated);
        CHECK(got[r].users_skipped == ref[r].users_skipped);
        CHECK(got[r].precision == Approx(ref[r].precision).epsilon(1e-12));
        CHECK(got[r].recall == Approx(ref[r].recall).epsilon(1e-12));
        CHECK(got[r].ndcg == Approx(ref[r].ndcg).epsilon(1e-12));
        CHECK(got[r].hit_rate == Approx(ref[r].hit_rate).epsilon(1e-12));
        CHECK(got[r].map == Approx(ref[r].map).epsilon(1e-12));
    }
    // a rating-style check of the same machinery (EASE scores are not ratings: only the sums matter)
    auto pred_all = [&](cfnet::index_type u, cfnet::index_type i) { return model.predict(split.train, {{u, i}})[0]; };
    auto pred_mine = [&](cfnet::index_type u, cfnet::index_type i) { return model.predict(train, {{u, i}})[0]; };
    const auto rr = cfnet::evaluate_rating(split.test, pred_all);
    const auto rd = cfnet::distributed::evaluate_rating(test, pred_mine, comm);
    CHECK(rd.count == rr.count);
    CHECK(rd.rmse == Approx(rr.rmse).epsilon(1e-12));
    CHECK(rd.mae == Approx(rr.mae).epsilon(1e-12));

    std::vector<cfnet::index_type> users(all.n_users());
    std::iota(users.rbegin(), users.rend(), cfnet::index_type(0));  // every user, last first
    const auto recs = cfnet::distributed::recommend_batch(model, train, users, 10, comm);
    REQUIRE(recs.size() == users.size());
    std::size_t differ = 0;
    for (std::size_t p = 0; p < users.size(); p += 37) {
        const auto one = model.recommend(split.train, users[p], 10);
        REQUIRE(recs[p].size() == one.size());
        for (std::size_t r = 0; r < one.size(); ++r) differ += recs[p][r].item != one[r].item || recs[p][r].score != one[r].score;
    }
    CHECK(differ == 0);
}

TEST_CASE("every rank holding all the data: evaluate_ranking_users / recommend_batch_users = one process, bit for bit") {
    MpiCommunicator comm;
    const auto all = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::stratified_split(all, 0.25, 42, cfnet::By::user);
    cfnet::AutoencoderOptions o;  // the same seed on every rank: the same model everywhere
    o.hidden = {64};
    o.epochs = 1;
    o.batch_size = 64;
    cfnet::AutoencoderCF<float> model(o);
    model.fit(split.train);
    const auto opts = cfnet::RankingOptions().threshold(4);
    const auto ref = cfnet::evaluate_ranking(split.train, split.test, {10, 20}, model.make_scorer(split.train), opts);
    std::vector<cfnet::index_type> users(all.n_users());
    std::iota(users.rbegin(), users.rend(), cfnet::index_type(0));  // every user, last first
    std::vector<std::vector<cfnet::Recommendation<float>>> one;
    model.recommend_batch(split.train, users, 10,
                          [&](cfnet::index_type, const std::vector<cfnet::Recommendation<float>>& r) { one.push_back(r); });
    for (const int t : {1, 2}) {
        INFO("threads per rank " << t);
        const auto got = cfnet::distributed::evaluate_ranking_users(
            split.train, split.test, {10, 20}, cfnet::per_thread([&] { return model.make_scorer(split.train); }),
            cfnet::RankingOptions(opts).use_threads(t), comm);
        for (std::size_t r = 0; r < 2; ++r) {
            CHECK(got[r].users_evaluated == ref[r].users_evaluated);
            CHECK(got[r].users_skipped == ref[r].users_skipped);
            CHECK(got[r].precision == ref[r].precision);
            CHECK(got[r].recall == ref[r].recall);
            CHECK(got[r].ndcg == ref[r].ndcg);
            CHECK(got[r].hit_rate == ref[r].hit_rate);
            CHECK(got[r].map == ref[r].map);
        }
        const auto recs = cfnet::distributed::recommend_batch_users(model, split.train, users, 10, comm, true, t);
        REQUIRE(recs.size() == one.size());
        std::size_t differ = 0;
        for (std::size_t p = 0; p < one.size(); ++p) {
            differ += recs[p].size() != one[p].size();
            for (std::size_t r = 0; r < std::min(one[p].size(), recs[p].size()); ++r)
                differ += recs[p][r].item != one[p][r].item || recs[p][r].score != one[p][r].score;
        }
        CHECK(differ == 0);
    }
}
