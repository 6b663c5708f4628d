// Item-partitioned AutoencoderCF on N ranks (mpirun -np 2 and -np 3: uneven item blocks) against
// AutoencoderCF::fit on one process (computed on every rank), and against the one-rank
// item-partitioned fit where fit() draws other masks (hidden dropout).
//
// Tolerance: the first layer's pre-activation and the code's gradient are summed over the ranks
// in another order than one process sums them, and Adam carries the rounding on; the test allows
// 1e-4 absolute on predictions (ratings 1..5) and 1e-5 relative on epoch losses (the measured
// differences are printed by rank 0; docs/distributed.md section 4), and the same on the validation
// RMSE / MAE of every epoch (each rank scores its items' validation pairs). The counted payload per step
// must equal the formula 4 b (h1 + hL) + 8 exactly, and the elements held for the two big layers
// must be this rank's item block's share.
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/distributed/autoencoder_items.hpp>
#include <cfnet/distributed/mpi.hpp>

#include "support/autoencoder.hpp"
#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::distributed::fit_item_partitioned;
using cfnet::distributed::ItemGather;
using cfnet::distributed::ItemPartitionedReport;
using cfnet::distributed::MiddleLayers;
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

// Trains on one process (AutoencoderCF::fit, or the one-rank item-partitioned fit) and on all
// ranks (item shards, the model gathered on every rank); compares.
void compare(MpiCommunicator& comm, const RM& train, const RM& test, const AutoencoderOptions& o, const char* what,
             bool reference_is_fit = true, MiddleLayers middle = MiddleLayers::replicated) {
    AutoencoderCF<float> one(o), all(o);
    SingleProcess single;
    const auto h_one = reference_is_fit ? one.fit(train, test)
                                        : fit_item_partitioned(one, train, single, {}, &test, nullptr, ItemGather::every_rank);
    ItemPartitionedReport rep;
    const auto shard = cfnet::distributed::shard_items(train, comm);
    const auto test_shard = cfnet::distributed::shard_items(test, comm);
    const auto h_all = fit_item_partitioned(all, shard, comm, {}, &test_shard, &rep, ItemGather::every_rank, middle);
    REQUIRE(h_all.size() == h_one.size());
    CHECK(h_all.best_epoch == h_one.best_epoch);
    double loss_rel = 0;
    for (std::size_t e = 0; e < h_one.size(); ++e) {
        CHECK(h_all[e].loss == Approx(h_one[e].loss).epsilon(1e-5));
        CHECK(*h_all[e].metric("val_rmse") == Approx(*h_one[e].metric("val_rmse")).epsilon(1e-5));
        CHECK(*h_all[e].metric("val_mae") == Approx(*h_one[e].metric("val_mae")).epsilon(1e-5));
        loss_rel = std::max(loss_rel, std::abs(h_all[e].loss - h_one[e].loss) / std::abs(h_one[e].loss));
    }
    const double d = max_abs_diff(one.predict(train, test), all.predict(train, test));
    CHECK(d < 1e-4);
    // every rank holds the same model, bit for bit
    const auto mine = flat_weights(all);
    auto root = mine;
    comm.broadcast(root, 0);
    CHECK(comm.allreduce_sum(static_cast<std::int64_t>(mine != root)) == 0);
    // bytes: exactly the formula; the same on every rank
    using cfnet::distributed::CommKind;
    const auto& c = rep.comm;
    CHECK(c.sent(CommKind::allreduce) + c.sent(CommKind::reduce_scatter) + c.sent(CommKind::allgather) ==
          rep.formula_bytes);
    if (middle == MiddleLayers::replicated) {
        CHECK(c.calls_of(CommKind::allreduce) == 3 * rep.steps);
        CHECK(c.calls_of(CommKind::reduce_scatter) + c.calls_of(CommKind::allgather) == 0);
    } else {
        CHECK(c.calls_of(CommKind::allreduce) == 2 * rep.steps);
        CHECK(c.calls_of(CommKind::reduce_scatter) == 2 * rep.steps);
        CHECK(c.calls_of(CommKind::allgather) == 2 * rep.steps);
    }
    if (middle == MiddleLayers::replicated)  // split_rows: each rank allgathers its own block of rows
        CHECK(comm.allreduce_sum(static_cast<std::int64_t>(rep.formula_bytes)) ==
              static_cast<std::int64_t>(rep.formula_bytes) * comm.size());
    // memory: this rank's block of items, and the blocks add up to one process's layers
    const std::size_t h1 = o.hidden.front(), hl = o.hidden.back(), ir = rep.items.size();
    CHECK(rep.items.begin == cfnet::distributed::block_of(train.n_items(), comm).begin);
    CHECK(rep.partitioned_elements == 4 * (ir * h1 + ir * hl + ir));
    CHECK(comm.allreduce_sum(static_cast<std::int64_t>(rep.partitioned_elements)) ==
          static_cast<std::int64_t>(4 * train.n_items() * (h1 + hl + 1)));
    if (comm.rank() == 0)
        std::printf("[%s, %d ranks] max |prediction difference| %.3g, max relative epoch-loss difference %.3g; "
                    "%zu steps, %.1f KB allreduced per full step; rank 0: %zu of %zu items, %zu elements of the "
                    "big layers; compute %.3f s, communication %.3f s\n",
                    what, comm.size(), d, loss_rel, rep.steps, (4.0 * o.batch_size * (h1 + hl) + 8) / 1e3, ir,
                    train.n_items(), rep.partitioned_elements, rep.compute_seconds, rep.comm_seconds);
}

}  // namespace

TEST_CASE("AutoencoderCF item-partitioned on N ranks = AutoencoderCF::fit (synthetic; dense and lazy Adam)") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(61, 31, 7);  // 31 items: uneven blocks on 2 and 3 ranks
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(10).l2(1e-4), "synthetic per-sample");
    compare(comm, split.train, split.test,
            cfnet_test::small_options().n_epochs(10).normalization(cfnet::nn::MaskNormalization::global).lazy(),
            "synthetic global, lazy Adam");
    AutoencoderOptions one_layer = cfnet_test::small_options().n_epochs(5);
    one_layer.hidden = {12};
    compare(comm, split.train, split.test, one_layer, "synthetic, one hidden layer");
}

TEST_CASE("AutoencoderCF item-partitioned: validation and early stopping (restore best) on N ranks = fit") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(61, 31, 11);
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 2;
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(12).stop_early(es).clamp(1, 5),
            "synthetic, early stopping, clamp 1..5");
}

TEST_CASE("AutoencoderCF item-partitioned: input and hidden dropout masks are the same on every rank (N ranks = 1 rank)") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(50, 23, 3);
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(6).dropout(0.0, 0.25),
            "synthetic, hidden dropout 0.25", false);
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(6).dropout(0.3, 0.1),
            "synthetic, input dropout 0.3, hidden 0.1", false);
}

TEST_CASE("AutoencoderCF item-partitioned, middle layers split by batch rows: N ranks = one process") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(61, 31, 13);
    // batch 16 on 3 ranks: blocks of 6, 5, 5 rows; the last batch of 13 rows: 5, 4, 4
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(8).l2(1e-4), "synthetic, split rows",
            true, MiddleLayers::split_rows);
    compare(comm, split.train, split.test,
            cfnet_test::small_options().n_epochs(8).normalization(cfnet::nn::MaskNormalization::global).lazy(),
            "synthetic global, lazy Adam, split rows", true, MiddleLayers::split_rows);
    // the same row-keyed dropout masks as the replicated one-rank fit
    compare(comm, split.train, split.test, cfnet_test::small_options().n_epochs(6).dropout(0.0, 0.25),
            "synthetic, hidden dropout 0.25, split rows", false, MiddleLayers::split_rows);
    // fewer batch rows than ranks in the last batch: 49 = 3 x 16 + 1
    const auto odd = cfnet_test::low_rank_split(49, 31, 2);
    compare(comm, odd.train, odd.test, cfnet_test::small_options().n_epochs(4), "synthetic, a 1-row batch, split rows",
            true, MiddleLayers::split_rows);
}

TEST_CASE("AutoencoderCF item-partitioned: the model on rank 0 only, the single-process file") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(40, 17, 5);
    const auto o = cfnet_test::small_options().n_epochs(3);
    AutoencoderCF<float> one(o), all(o);
    one.fit(split.train);
    fit_item_partitioned(all, cfnet::distributed::shard_items(split.train, comm), comm);  // ItemGather::root
    if (comm.rank() == 0) {
        const auto a = cfnet_test::model_path("one.cfnet"), b = cfnet_test::model_path("all.cfnet");
        one.save(a);
        all.save(b);
        const auto ra = AutoencoderCF<float>::load(a), rb = AutoencoderCF<float>::load(b);
        CHECK(ra.item_map().ids() == rb.item_map().ids());
        CHECK(max_abs_diff(ra.predict(split.train, split.test), rb.predict(split.train, split.test)) < 1e-4);
    } else {
        CHECK_THROWS_AS(all.parameters(), cfnet::InvalidArgument);  // not trained here
    }
}

TEST_CASE("AutoencoderCF item-partitioned: ratings outside the item block are refused on every rank") {
    MpiCommunicator comm;
    const auto split = cfnet_test::low_rank_split(30, 12, 4);
    AutoencoderCF<float> m(cfnet_test::small_options().n_epochs(1));
    // rank 0 passes the whole matrix: the others' items too
    const RM wrong = comm.rank() == 0 ? split.train : cfnet::distributed::shard_items(split.train, comm);
    CHECK_THROWS_WITH(fit_item_partitioned(m, wrong, comm), Catch::Contains("rank 0 has"));
}

TEST_CASE("AutoencoderCF item-partitioned on MovieLens 100K (notebook holdout): N ranks = AutoencoderCF::fit") {
    MpiCommunicator comm;
    const auto full = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::per_user_holdout(full, 42);
    // the notebook's network, 2 epochs of 64-row batches (15 steps an epoch), dense Adam
    compare(comm, split.train, split.test, AutoencoderOptions{}.n_epochs(2).batch(64), "ML-100K notebook net");
    compare(comm, split.train, split.test, AutoencoderOptions{}.n_epochs(2).batch(64), "ML-100K notebook net, split rows",
            true, MiddleLayers::split_rows);
}
