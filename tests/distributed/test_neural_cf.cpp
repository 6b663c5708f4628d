// distributed/neural_cf.hpp with the single-process communicator: the data-parallel path (one
// rank) gives the model NeuralCF::fit gives (same pair order, same Adam; the gradients scaled by
// the batch share and back). N ranks: tests/distributed/mpi/test_neural_cf.cpp.
#include <cfnet/distributed/neural_cf.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using cfnet::NeuralCF;
using cfnet::NeuralCFOptions;
using cfnet::distributed::fit_data_parallel;
using cfnet::distributed::SingleProcess;
using Approx = Catch::Detail::Approx;

namespace {
NeuralCFOptions small() {
    NeuralCFOptions o;
    o.architecture = cfnet::NcfArchitecture::neumf;
    o.embedding_dim = 8;
    o.hidden = {16, 8};
    o.batch_size = 64;
    o.epochs = 4;
    o.validation_fraction = 0;
    o.l2 = 1e-3;
    o.dense_l2 = 1e-4;
    o.bias_terms = true;
    o.mean_init = true;
    return o;
}
}  // namespace

TEST_CASE("fit_data_parallel(NeuralCF) on one rank equals NeuralCF::fit") {
    const auto split = cfnet_test::low_rank_split(50, 30, 3);
    NeuralCF<float> ref(small()), dp(small());
    const auto h_ref = ref.fit(split.train, split.test);
    SingleProcess comm;
    const auto h_dp = fit_data_parallel(dp, split.train, comm, {}, &split.test);
    REQUIRE(h_dp.size() == h_ref.size());
    for (std::size_t e = 0; e < h_ref.size(); ++e) {
        CHECK(h_dp[e].loss == Approx(h_ref[e].loss).epsilon(1e-4));
        CHECK(*h_dp[e].metric("val_rmse") == Approx(*h_ref[e].metric("val_rmse")).epsilon(1e-4));
    }
    const auto users = split.test.entry_users();
    std::vector<float> a(users.size()), b(users.size());
    ref.predict(users.data(), split.test.item_indices().data(), users.size(), a.data());
    dp.predict(users.data(), split.test.item_indices().data(), users.size(), b.data());
    double d = 0;
    for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(static_cast<double>(a[k]) - b[k]));
    CHECK(d < 1e-3);
    // the seen items are the training data's: the same recommendations
    const auto ra = ref.recommend(split.train, 4, 5), rb = dp.recommend(split.train, 4, 5);
    REQUIRE(ra.size() == rb.size());
    for (std::size_t r = 0; r < ra.size(); ++r) CHECK(ra[r].item == rb[r].item);
}

TEST_CASE("fit_data_parallel(NeuralCF): refuses what it does not support, naming it") {
    const auto split = cfnet_test::low_rank_split(20, 10, 1);
    SingleProcess comm;
    auto refuses = [&](NeuralCFOptions o, const char* what) {
        NeuralCF<float> m(o);
        CHECK_THROWS_WITH(fit_data_parallel(m, split.train, comm), Catch::Contains(what));
    };
    NeuralCFOptions o = small();
    o.feedback = cfnet::Feedback::implicit;
    refuses(o, "implicit");
    o = small();
    o.dropout = 0.1;
    refuses(o, "dropout");
    o = small();
    o.validation_fraction = 0.2;
    refuses(o, "validation_fraction");
    o = small();
    o.lazy_embedding_updates = true;
    refuses(o, "lazy_embedding_updates");
}
