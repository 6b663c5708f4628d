// Data-parallel AutoencoderCF on N ranks (mpirun -np 2 and -np 3: uneven shards) against the
// same global batches on one rank (SingleProcess, computed on every rank).
//
// Tolerance: the ranks' partial gradients are summed in another order than one rank's, and Adam
// carries the rounding on; measured: predictions differ by at most 2.2e-6 (ratings 1..5) and
// epoch losses by 2.5e-8 relative (2 and 3 ranks, synthetic and ML-100K); the test allows 1e-4
// absolute on predictions and 1e-6 relative on epoch losses and validation metrics. Every rank
// must end with bit-identical weights (the same Adam step on the same allreduced gradients).
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/distributed/autoencoder.hpp>
#include <cfnet/distributed/mpi.hpp>

#include "support/autoencoder.hpp"
#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::distributed::fit_data_parallel;
using cfnet::distributed::MpiCommunicator;
using cfnet::distributed::SingleProcess;
using Approx = Catch::Detail::Approx;
using RM = cfnet::RatingMatrix<float>;

namespace {

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::abs(static_cast<double>(a[k]) - b[k]));
    return m;
}

std::vector<float> flat_weights(AutoencoderCF<float>& m) {
    std::vector<float> out;
    for (auto* p : m.parameters()) out.insert(out.end(), p->value.data(), p->value.data() + p->size());
    return out;
}

// Every rank's weights equal rank 0's, bit for bit.
void check_same_weights_everywhere(MpiCommunicator& comm, AutoencoderCF<float>& m) {
    const auto mine = flat_weights(m);
    auto root = mine;
    comm.broadcast(root, 0);
    const auto differ = comm.allreduce_sum(static_cast<std::int64_t>(mine != root));
    CHECK(differ == 0);
}

// Trains on one rank (full data) and on all ranks (shards); compares.
void compare(MpiCommunicator& comm, const RM& train, const RM& test, const AutoencoderOptions& o, const char* what,
             double pred_tol = 1e-4) {
    AutoencoderCF<float> one(o), all(o);
    SingleProcess single;
    const auto h_one = fit_data_parallel(one, train, single, {}, &test);
    const auto shard = cfnet::distributed::shard_rows(train, comm);
    const auto test_shard = cfnet::distributed::shard_rows(test, comm);
    cfnet::distributed::DataParallelReport rep;
    const auto h_all = fit_data_parallel(all, shard, comm, {}, &test_shard, &rep);
    REQUIRE(h_all.size() == h_one.size());
    double loss_rel = 0;
    for (std::size_t e = 0; e < h_one.size(); ++e) {
        CHECK(h_all[e].loss == Approx(h_one[e].loss).epsilon(1e-6));
        CHECK(*h_all[e].metric("val_rmse") == Approx(*h_one[e].metric("val_rmse")).epsilon(1e-6));
        CHECK(*h_all[e].metric("val_mae") == Approx(*h_one[e].metric("val_mae")).epsilon(1e-6));
        loss_rel = std::max(loss_rel, std::abs(h_all[e].loss - h_one[e].loss) / std::abs(h_one[e].loss));
    }
    // Every rank predicts all test pairs with the full training matrix as input.
    const double d = max_abs_diff(one.predict(train, test), all.predict(train, test));
    CHECK(d < pred_tol);
    check_same_weights_everywhere(comm, all);
    // bytes: per step one allreduce of every parameter (float) and of 2 doubles
    CHECK(rep.comm.sent(cfnet::distributed::CommKind::allreduce) >= rep.steps * (rep.parameters * 4 + 16));
    if (comm.rank() == 0)
        std::printf("[%s, %d ranks] max |prediction difference| %.3g, max relative epoch-loss difference %.3g; "
                    "%zu steps, %zu parameters, %.1f KB allreduced per step; compute %.3f s, communication %.3f s\n",
                    what, comm.size(), d, loss_rel, rep.steps, rep.parameters,
                    static_cast<double>(rep.parameters * 4 + 16) / 1e3, rep.compute_seconds, rep.comm_seconds);
}

}  // namespace

TEST_CASE("AutoencoderCF data-parallel on N ranks = 1 rank (synthetic, per-sample and global loss)") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(61, 30, 7);  // 61 rows: uneven on 2 and 3 ranks
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(10).l2(1e-4), "synthetic per-sample");
    compare(comm, split.train, split.test,
            cfnet_test::small_options().n_epochs(10).normalization(cfnet::nn::MaskNormalization::global),
            "synthetic global");
}

TEST_CASE("AutoencoderCF data-parallel: shards read per rank (users dealt round-robin) = 1 rank") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(50, 24, 9);
    // each rank keeps only the ratings of the users whose index % size == rank, as if it had read
    // its own file, and rebuilds the global index space with shard_from_ratings
    std::vector<cfnet::Rating<float>> mine;
    const auto& tr = split.train;
    for (cfnet::index_type u = 0; u < tr.n_users(); ++u) {
        if (static_cast<int>(u) % comm.size() != comm.rank()) continue;
        const auto items = tr.user_items(u);
        const auto vals = tr.user_ratings(u);
        for (std::size_t k = 0; k < items.size(); ++k) mine.push_back({tr.users().id(u), tr.items().id(items[k]), vals[k], 0});
    }
    const RM shard = cfnet::distributed::shard_from_ratings(mine, comm);
    REQUIRE(shard.users().ids() == tr.users().ids());
    REQUIRE(shard.items().ids() == tr.items().ids());
    REQUIRE(comm.allreduce_sum(static_cast<std::int64_t>(shard.nnz())) == static_cast<std::int64_t>(tr.nnz()));
    const auto o = cfnet_test::small_options().n_epochs(6);
    AutoencoderCF<float> one(o), all(o);
    SingleProcess single;
    fit_data_parallel(one, tr, single);
    fit_data_parallel(all, shard, comm);
    CHECK(max_abs_diff(one.predict(tr, split.test), all.predict(tr, split.test)) < 1e-4);
    check_same_weights_everywhere(comm, all);
}

TEST_CASE("AutoencoderCF data-parallel: a user split across ranks is refused on every rank") {
    MpiCommunicator comm;
    // user 1 has a rating on every rank
    std::vector<cfnet::Rating<float>> mine{{1, 10 + comm.rank(), 4.f, 0}, {2 + comm.rank(), 10, 3.f, 0}};
    const RM shard = cfnet::distributed::shard_from_ratings(mine, comm);
    AutoencoderCF<float> m(cfnet_test::small_options().n_epochs(1));
    CHECK_THROWS_WITH(fit_data_parallel(m, shard, comm), Catch::Contains("must be whole on one rank"));
}

TEST_CASE("AutoencoderCF data-parallel on MovieLens 100K (notebook holdout): N ranks = 1 rank") {
    MpiCommunicator comm;
    const auto full = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::per_user_holdout(full, 42);
    // the notebook's network, 2 epochs of 64-row batches (15 steps an epoch)
    compare(comm, split.train, split.test, AutoencoderOptions{}.n_epochs(2).batch(64), "ML-100K notebook net");
}

TEST_CASE("AutoencoderCF data-parallel: misplaced validation rows and an empty shard are refused on every rank") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(30, 12, 4);
    const auto shard = cfnet::distributed::shard_rows(split.train, comm);
    // the validation rows of the next rank: their training rows are elsewhere
    const auto b = cfnet::distributed::block_of(split.test.n_users(), (comm.rank() + 1) % comm.size(), comm.size());
    const auto& rp = split.test.row_ptr();
    const RM wrong = split.test.filter([&](std::size_t k) { return k >= rp[b.begin] && k < rp[b.end]; });
    AutoencoderCF<float> m(cfnet_test::small_options().n_epochs(1));
    CHECK_THROWS_WITH(fit_data_parallel(m, shard, comm, {}, &wrong), Catch::Contains("training rows on another rank"));
    // rank 0 holds nothing
    const RM empty_on_0 = comm.rank() == 0 ? shard.filter([](std::size_t) { return false; }) : shard;
    CHECK_THROWS_WITH(fit_data_parallel(m, empty_on_0, comm), Catch::Contains("rank 0 of"));
}
