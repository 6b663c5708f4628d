// Data-parallel NeuralCF on N ranks (mpirun -np 2 and 3) against the same global batches on one
// rank. Tolerances as for the autoencoder (test_autoencoder.cpp): 1e-4 absolute on predictions
// (ratings 1..5), 1e-6 relative on epoch losses and validation RMSE; weights bit-identical on
// every rank. Measured (gradients summed in double): predictions 1e-6 apart, losses 2e-9. (Summed
// in float they were 7e-3 apart after 2 epochs: Adam amplifies the rounding of the many small
// embedding gradients; see docs/distributed.md.)
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/distributed/mpi.hpp>
#include <cfnet/distributed/neural_cf.hpp>

#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using cfnet::NeuralCF;
using cfnet::NeuralCFOptions;
using cfnet::distributed::fit_data_parallel;
using cfnet::distributed::MpiCommunicator;
using Approx = Catch::Detail::Approx;

TEST_CASE("NeuralCF data-parallel on MovieLens 100K (u1.base-like per-user holdout): N ranks = 1 rank") {
    MpiCommunicator comm;
    const auto all = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::per_user_holdout(all, 42);
    NeuralCFOptions o;
    o.architecture = cfnet::NcfArchitecture::neumf;
    o.embedding_dim = 16;
    o.hidden = {32, 16};
    o.batch_size = 1024;
    o.epochs = 2;
    o.validation_fraction = 0;
    o.l2 = 1e-3;
    o.bias_terms = true;
    o.mean_init = true;
    NeuralCF<float> one(o), many(o);
    cfnet::distributed::SingleProcess single;
    const auto h1 = fit_data_parallel(one, split.train, single, {}, &split.test);
    const auto shard = cfnet::distributed::shard_rows(split.train, comm);
    const auto val = cfnet::distributed::shard_rows(split.test, comm);
    double t_compute = 0, t_comm = 0;
    comm.reset_stats();
    const auto hn = fit_data_parallel(many, shard, comm, {}, &val, &t_compute, &t_comm);
    REQUIRE(hn.size() == h1.size());
    double loss_rel = 0;
    for (std::size_t e = 0; e < h1.size(); ++e) {
        CHECK(hn[e].loss == Approx(h1[e].loss).epsilon(1e-6));
        CHECK(*hn[e].metric("val_rmse") == Approx(*h1[e].metric("val_rmse")).epsilon(1e-6));
        loss_rel = std::max(loss_rel, std::abs(hn[e].loss - h1[e].loss) / h1[e].loss);
    }
    const auto users = split.test.entry_users();
    std::vector<float> a(users.size()), b(users.size());
    one.predict(users.data(), split.test.item_indices().data(), users.size(), a.data());
    many.predict(users.data(), split.test.item_indices().data(), users.size(), b.data());
    double d = 0;
    for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(static_cast<double>(a[k]) - b[k]));
    CHECK(d < 1e-4);
    // bit-identical weights everywhere, and the whole training data's seen items on every rank
    std::vector<float> w;
    for (auto* p : many.parameters()) w.insert(w.end(), p->value.data(), p->value.data() + p->size());
    auto root = w;
    comm.broadcast(root, 0);
    CHECK(comm.allreduce_sum(static_cast<std::int64_t>(w != root)) == 0);
    const auto ra = one.recommend(split.train, 7, 10), rb = many.recommend(split.train, 7, 10);
    REQUIRE(ra.size() == rb.size());
    for (std::size_t r = 0; r < ra.size(); ++r) CHECK(ra[r].item == rb[r].item);
    std::size_t n_params = 0;
    for (auto* p : many.parameters()) n_params += p->size();
    if (comm.rank() == 0)
        std::printf("[NeuralCF ML-100K, %d ranks] max |prediction difference| %.3g, max relative epoch-loss difference "
                    "%.3g; %zu parameters = %zu bytes allreduced per step; compute %.3f s, communication %.3f s\n",
                    comm.size(), d, loss_rel, n_params, n_params * 8 + 8, t_compute, t_comm);
}
