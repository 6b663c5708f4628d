// Data-parallel MultVAE on N ranks (mpirun -np 2 and -np 3: uneven shards) against the same global
// batches on one rank (SingleProcess on the full data, computed on every rank).
//
// Tolerances: each rank's partial gradient comes from a smaller batch (BLAS rounds a product's rows
// differently with the row count) and is summed in another order than one rank's; Adam carries
// the rounding on. Measured (2 and 3 ranks): logits 4.3e-6 apart on ML-100K after 3 epochs
// (1.8e-7 to 3.6e-7 on the synthetic set after 10), epoch losses 5e-9 relative, validation and test
// NDCG equal to 3e-16 -- the same whether the gradients are summed in float or in double (the
// rounding is in the partial gradients, not in the sum), so float is the default. The test allows
// 1e-6 relative on epoch losses and KL, 1e-4 absolute on the logits and on validation and test
// NDCG; every rank must end with bit-identical weights (the same Adam step on the same allreduced
// gradients). The bytes counted per step must equal the formula exactly.
#include <cfnet/data/implicit.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/distributed/mpi.hpp>
#include <cfnet/distributed/mult_vae.hpp>

#include "models/mult_vae/fixtures.hpp"
#include "support/files.hpp"
#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

using cfnet::index_type;
using cfnet::MultVAE;
using cfnet::MultVAEOptions;
using cfnet::distributed::CommKind;
using cfnet::distributed::fit_data_parallel;
using cfnet::distributed::GradientSum;
using cfnet::distributed::MpiCommunicator;
using cfnet::distributed::SingleProcess;
using Approx = Catch::Detail::Approx;
using RM = cfnet::RatingMatrix<float>;

namespace {

std::vector<float> flat_weights(MultVAE<float>& m) {
    std::vector<float> out;
    for (auto* p : m.parameters()) out.insert(out.end(), p->value.data(), p->value.data() + p->size());
    return out;
}

std::vector<float> logits(const MultVAE<float>& m, const RM& input) {
    std::vector<index_type> users(input.n_users());
    std::iota(users.begin(), users.end(), index_type{0});
    std::vector<float> out;
    m.make_scorer(input).score_batch(users, out);
    return out;
}

struct Tolerance {
    double loss_rel = 1e-6, val_ndcg = 1e-4, logits = 1e-4, ndcg10 = 1e-4;
};

// Trains on one rank (full data) and on all ranks (shards); compares; checks the bytes counted.
void compare(MpiCommunicator& comm, const RM& train, const RM& test, const MultVAEOptions& o, const char* what,
             GradientSum sum, const Tolerance& tol = {}) {
    MultVAE<float> one(o), all(o);
    SingleProcess single;
    const auto h1 = fit_data_parallel(one, train, single, {}, &test, nullptr, sum);
    const auto shard = cfnet::distributed::shard_rows(train, comm);
    const auto test_shard = cfnet::distributed::shard_rows(test, comm);
    cfnet::distributed::DataParallelReport rep;
    const auto hn = fit_data_parallel(all, shard, comm, {}, &test_shard, &rep, sum);
    REQUIRE(hn.size() == h1.size());
    const std::string metric = "val_ndcg@" + std::to_string(o.validation_k);
    double loss_rel = 0, val_diff = 0;
    for (std::size_t e = 0; e < h1.size(); ++e) {
        CHECK(hn[e].loss == Approx(h1[e].loss).epsilon(tol.loss_rel));
        CHECK(*hn[e].metric("kl") == Approx(*h1[e].metric("kl")).epsilon(tol.loss_rel).margin(1e-12));
        CHECK(*hn[e].metric(metric) == Approx(*h1[e].metric(metric)).margin(tol.val_ndcg));
        loss_rel = std::max(loss_rel, std::abs(hn[e].loss - h1[e].loss) / std::abs(h1[e].loss));
        val_diff = std::max(val_diff, std::abs(*hn[e].metric(metric) - *h1[e].metric(metric)));
    }
    CHECK(hn.best_epoch == h1.best_epoch);
    // every rank scores every user with the full training matrix as input
    const auto l1 = logits(one, train), ln = logits(all, train);
    REQUIRE(l1.size() == ln.size());
    double d = 0;
    for (std::size_t k = 0; k < l1.size(); ++k) d = std::max(d, std::abs(static_cast<double>(l1[k]) - ln[k]));
    CHECK(d < tol.logits);
    const double n1 = cfnet::evaluate_ranking(train, test, 10, one.make_scorer(train)).ndcg;
    const double nn = cfnet::evaluate_ranking(train, test, 10, all.make_scorer(train)).ndcg;
    CHECK(std::abs(n1 - nn) < tol.ndcg10);
    // bit-identical weights on every rank
    const auto mine = flat_weights(all);
    auto root = mine;
    comm.broadcast(root, 0);
    CHECK(comm.allreduce_sum(static_cast<std::int64_t>(mine != root)) == 0);
    // rank 0's file is a normal MultVAE file: it loads and scores as the trained model, bit for bit
    if (comm.rank() == 0) {
        const std::string path = cfnet_test::scratch_dir("mpi_vae") + "/vae.cfnet";
        all.save(path);
        CHECK(logits(MultVAE<float>::load(path), train) == ln);
    }
    // bytes: once the row holders (U int64) and the misplaced validation rows (1 int64); per step
    // every parameter (4 or 8 bytes) and 2 doubles (the nll and KL sums); per epoch 2 doubles
    // (validation NDCG sum and count); one allgather of the shard sizes (8 bytes sent)
    const std::size_t bytes = sum == GradientSum::float64 ? 8 : 4;
    const std::uint64_t per_step = bytes * rep.parameters + 16;
    CHECK(rep.steps == h1.size() * ((train.n_users() + o.batch_size - 1) / o.batch_size));
    CHECK(rep.comm.sent(CommKind::allreduce) == 8 * train.n_users() + 8 + rep.steps * per_step + 16 * hn.size());
    CHECK(rep.comm.received(CommKind::allreduce) == rep.comm.sent(CommKind::allreduce));
    CHECK(rep.comm.sent(CommKind::allgather) == 8);
    if (comm.rank() == 0)
        std::printf("[MultVAE %s, %s sum, %d ranks] max |logit difference| %.3g, NDCG@10 %.6f vs %.6f, max relative "
                    "epoch-loss difference %.3g, max val NDCG difference %.3g; %zu steps, P = %zu, %llu bytes "
                    "allreduced per step; compute %.3f s, communication %.3f s\n",
                    what, sum == GradientSum::float64 ? "double" : "float", comm.size(), d, n1, nn, loss_rel,
                    val_diff, rep.steps, rep.parameters, static_cast<unsigned long long>(per_step),
                    rep.compute_seconds, rep.comm_seconds);
}

}  // namespace

TEST_CASE("MultVAE data-parallel on N ranks = 1 rank (synthetic: VAE and DAE, float and double sums)") {
    MpiCommunicator comm;
    const auto s = cfnet_test::implicit_low_rank(301, 120, 25, 3);  // 301 rows: uneven on 2 and 3 ranks
    for (const auto sum : {GradientSum::float32, GradientSum::float64}) {
        compare(comm, s.train, s.test, cfnet_test::small_vae(true).n_epochs(10).dropout(0.3).select_epoch(0, 20),
                "synthetic VAE", sum);
        compare(comm, s.train, s.test, cfnet_test::small_vae(false).n_epochs(10).select_epoch(0, 20), "synthetic DAE",
                sum);
    }
}

TEST_CASE("MultVAE data-parallel on MovieLens 100K (ratings >= 4, per-user holdout, the paper's 600-200 net)") {
    MpiCommunicator comm;
    const auto full = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::per_user_holdout(cfnet::to_implicit(full, cfnet::Binarize::at_least(4)), 42);
    // 3 epochs of 100-row batches (10 steps an epoch); beta annealed over the steps
    const auto o = MultVAEOptions::vae().batch(100).n_epochs(3).anneal(20, 0.2).l2(1e-4).select_epoch(0, 10);
    for (const auto sum : {GradientSum::float32, GradientSum::float64}) compare(comm, split.train, split.test, o, "ML-100K", sum);
    // P for the 600-200 net: 2 x 600 I + I (the first and last layers) + 361,600 (the middle)
    MultVAE<float> m(o);
    m.initialize(split.train);
    std::size_t p = 0;
    for (auto* q : m.parameters()) p += q->size();
    CHECK(p == 1201 * split.train.n_items() + 361600);
    CHECK(p == 2381682);
}

TEST_CASE("MultVAE data-parallel: shards read per rank (users dealt round-robin) = 1 rank") {
    MpiCommunicator comm;
    const auto s = cfnet_test::implicit_low_rank(120, 60, 15, 8);
    // each rank keeps the users whose index % size == rank, as if it had read its own file
    std::vector<cfnet::Rating<float>> mine;
    const auto& tr = s.train;
    for (index_type u = 0; u < tr.n_users(); ++u) {
        if (static_cast<int>(u) % comm.size() != comm.rank()) continue;
        const auto items = tr.user_items(u);
        for (std::size_t k = 0; k < items.size(); ++k) mine.push_back({tr.users().id(u), tr.items().id(items[k]), 1.f, 0});
    }
    const RM shard = cfnet::distributed::shard_from_ratings(mine, comm);
    REQUIRE(shard.users().ids() == tr.users().ids());
    REQUIRE(shard.items().ids() == tr.items().ids());
    const auto o = cfnet_test::small_vae().n_epochs(5).batch(32);
    MultVAE<float> one(o), all(o);
    SingleProcess single;
    const auto h1 = fit_data_parallel(one, tr, single);
    const auto hn = fit_data_parallel(all, shard, comm);
    for (std::size_t e = 0; e < h1.size(); ++e) CHECK(hn[e].loss == Approx(h1[e].loss).epsilon(1e-6));
    const auto l1 = logits(one, tr), ln = logits(all, tr);
    double d = 0;
    for (std::size_t k = 0; k < l1.size(); ++k) d = std::max(d, std::abs(static_cast<double>(l1[k]) - ln[k]));
    CHECK(d < 1e-4);
}

TEST_CASE("MultVAE data-parallel: a split row, misplaced validation rows and an empty shard are refused on every rank") {
    MpiCommunicator comm;
    // user 1 has an interaction on every rank
    std::vector<cfnet::Rating<float>> mine{{1, 10 + static_cast<cfnet::id_type>(comm.rank()), 1.f, 0},
                                           {2 + static_cast<cfnet::id_type>(comm.rank()), 10, 1.f, 0}};
    const RM split_row = cfnet::distributed::shard_from_ratings(mine, comm);
    MultVAE<float> m(cfnet_test::small_vae().n_epochs(1));
    CHECK_THROWS_WITH(fit_data_parallel(m, split_row, comm), Catch::Contains("must be whole on one rank"));
    const auto s = cfnet_test::implicit_low_rank(40, 20, 6, 2);
    const auto shard = cfnet::distributed::shard_rows(s.train, comm);
    const auto b = cfnet::distributed::block_of(s.test.n_users(), (comm.rank() + 1) % comm.size(), comm.size());
    const auto& rp = s.test.row_ptr();
    const RM wrong = s.test.filter([&](std::size_t k) { return k >= rp[b.begin] && k < rp[b.end]; });
    CHECK_THROWS_WITH(fit_data_parallel(m, shard, comm, {}, &wrong), Catch::Contains("training rows on another rank"));
    const RM empty_on_0 = comm.rank() == 0 ? shard.filter([](std::size_t) { return false; }) : shard;
    CHECK_THROWS_WITH(fit_data_parallel(m, empty_on_0, comm), Catch::Contains("rank 0 of"));
}
