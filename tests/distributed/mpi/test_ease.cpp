// EASE on N user shards (mpirun -np 2 and 3): the Gram's entries are integer co-occurrence
// counts, summed exactly in float, so every rank's B equals the single-process B bit for bit.
#include <cfnet/data/movielens.hpp>
#include <cfnet/distributed/ease.hpp>
#include <cfnet/distributed/mpi.hpp>
#include <cfnet/distributed/shard.hpp>

#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using cfnet::Ease;
using cfnet::EaseOptions;
using cfnet::distributed::MpiCommunicator;

TEST_CASE("Ease on N user shards of MovieLens 100K = Ease on all of it, bit for bit") {
    MpiCommunicator comm;
    const auto all = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    Ease<float> ref(EaseOptions().l2(200)), dist(EaseOptions().l2(200));
    ref.fit(all);
    const auto shard = cfnet::distributed::shard_rows(all, comm);
    REQUIRE(shard.nnz() < all.nnz());
    cfnet::distributed::fit_sharded(dist, shard, comm);
    const auto& a = ref.weights();
    const auto& b = dist.weights();
    REQUIRE(a.size() == b.size());
    CHECK(std::equal(a.begin(), a.end(), b.begin()));
    // the model scores any user from its full row, wherever it was trained
    const auto ra = ref.recommend(all, 0, 10), rb = dist.recommend(all, 0, 10);
    REQUIRE(ra.size() == rb.size());
    for (std::size_t r = 0; r < ra.size(); ++r) CHECK(ra[r].item == rb[r].item);
}
