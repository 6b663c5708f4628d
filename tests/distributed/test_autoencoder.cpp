// distributed/autoencoder.hpp with the single-process communicator: the data-parallel path (one
// rank) gives the model that AutoencoderCF::fit gives (up to float rounding: the data-parallel
// step applies Adam after the whole backward pass, the fused fit updates rows in cache, and the
// gradients are scaled by the normaliser and back). N ranks: tests/distributed/mpi/.
#include <cfnet/distributed/autoencoder.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::distributed::fit_data_parallel;
using cfnet::distributed::SingleProcess;
using Approx = Catch::Detail::Approx;

namespace {

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::abs(static_cast<double>(a[k]) - b[k]));
    return m;
}

}  // namespace

TEST_CASE("fit_data_parallel on one rank equals AutoencoderCF::fit (per-sample and global loss)") {
    const auto split = cfnet_test::low_rank_split(60, 30, 7);
    for (auto norm : {cfnet::nn::MaskNormalization::per_sample, cfnet::nn::MaskNormalization::global}) {
        AutoencoderOptions o = cfnet_test::small_options().n_epochs(8).normalization(norm).l2(1e-4);
        AutoencoderCF<float> ref(o), dp(o);
        const auto h_ref = ref.fit(split.train);
        SingleProcess comm;
        cfnet::distributed::DataParallelReport rep;
        const auto h_dp = fit_data_parallel(dp, split.train, comm, {}, nullptr, &rep);
        REQUIRE(h_dp.size() == h_ref.size());
        for (std::size_t e = 0; e < h_ref.size(); ++e) CHECK(h_dp[e].loss == Approx(h_ref[e].loss).epsilon(1e-4));
        const auto p_ref = ref.predict(split.train, split.test), p_dp = dp.predict(split.train, split.test);
        CHECK(max_abs_diff(p_ref, p_dp) < 1e-3);  // ratings 1..5: 1e-3 is far below any effect
        // one allreduce of every parameter and one of (loss, normaliser) per step, nothing else but
        // the statistics at the start (item counts, sum and count of ratings, row holders)
        const std::size_t steps = (60 + 15) / 16 * 8;
        CHECK(rep.steps == steps);
        CHECK(rep.owned_rows == 60);
        std::size_t n_params = 0;
        for (auto* p : dp.parameters()) n_params += p->size();
        CHECK(rep.parameters == n_params);
        const std::size_t start = 30 * 8 + 2 * 8 + 60 * 8;
        CHECK(rep.comm.sent(cfnet::distributed::CommKind::allreduce) == steps * (n_params * 4 + 16) + start);
        CHECK(rep.comm.calls_of(cfnet::distributed::CommKind::allreduce) == 2 * steps + 3);
    }
}

TEST_CASE("fit_data_parallel: validation metrics and early stopping as AutoencoderCF::fit") {
    const auto split = cfnet_test::low_rank_split(60, 30, 11);
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 2;
    AutoencoderOptions o = cfnet_test::small_options().n_epochs(12).stop_early(es).clamp(1, 5);
    AutoencoderCF<float> ref(o), dp(o);
    const auto h_ref = ref.fit(split.train, split.test);
    SingleProcess comm;
    const auto h_dp = fit_data_parallel(dp, split.train, comm, {}, &split.test);
    REQUIRE(h_dp.size() == h_ref.size());
    CHECK(h_dp.best_epoch == h_ref.best_epoch);
    for (std::size_t e = 0; e < h_ref.size(); ++e) {
        CHECK(*h_dp[e].metric("val_rmse") == Approx(*h_ref[e].metric("val_rmse")).epsilon(1e-4));
        CHECK(*h_dp[e].metric("val_mae") == Approx(*h_ref[e].metric("val_mae")).epsilon(1e-4));
    }
}

TEST_CASE("fit_data_parallel: the model file stores the statistics of all the data") {
    const auto split = cfnet_test::low_rank_split(40, 20, 3);
    AutoencoderCF<float> ref(cfnet_test::small_options().n_epochs(1)), dp(cfnet_test::small_options().n_epochs(1));
    ref.fit(split.train);
    SingleProcess comm;
    fit_data_parallel(dp, split.train, comm);
    const auto a = cfnet_test::model_path("ref.cfnet"), b = cfnet_test::model_path("dp.cfnet");
    ref.save(a);
    dp.save(b);
    const auto ra = AutoencoderCF<float>::load(a), rb = AutoencoderCF<float>::load(b);
    CHECK(ra.user_map().ids() == rb.user_map().ids());
    CHECK(ra.item_map().ids() == rb.item_map().ids());
    CHECK(max_abs_diff(ra.predict(split.train, split.test), rb.predict(split.train, split.test)) < 1e-4);
}

TEST_CASE("fit_data_parallel: refuses what it does not support, naming it") {
    const auto split = cfnet_test::low_rank_split(20, 10, 1);
    SingleProcess comm;
    auto refuses = [&](AutoencoderOptions o, const char* what) {
        AutoencoderCF<float> m(o);
        CHECK_THROWS_WITH(fit_data_parallel(m, split.train, comm), Catch::Contains(what));
    };
    refuses(cfnet_test::small_options().item_based(), "item_based");
    refuses(cfnet_test::small_options().dropout(0.1, 0.0), "dropout");
    refuses(cfnet_test::small_options().lazy(), "lazy_adam");
    refuses(cfnet_test::small_options().fallback(), "unseen_fallback");
    refuses(cfnet_test::small_options().lbfgs(1.0, 2), "solver");
}
