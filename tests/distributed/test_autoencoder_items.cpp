// distributed/autoencoder_items.hpp with the single-process communicator: the item-partitioned
// step on one rank is AutoencoderCF::fit's computation (the same initial weights drawn in chunks
// from the same stream, the same batches, the same fused dense or lazy Adam); the only difference
// is the order in which the loss value is summed, so weights and predictions agree to float
// rounding (the test allows 1e-5 on predictions and weights (ratings 1..5) and
// 1e-6 relative on losses). N ranks: tests/distributed/mpi/test_autoencoder_items.cpp.
#include <cfnet/distributed/autoencoder_items.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <utility>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::distributed::fit_item_partitioned;
using cfnet::distributed::ItemGather;
using cfnet::distributed::ItemPartitionedReport;
using cfnet::distributed::SingleProcess;
using Approx = Catch::Detail::Approx;

namespace {

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::abs(static_cast<double>(a[k]) - b[k]));
    return m;
}

std::size_t file_size(const std::string& path) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    return static_cast<std::size_t>(f.tellg());
}

}  // namespace

TEST_CASE("fit_item_partitioned on one rank equals AutoencoderCF::fit (losses, predictions, weights)") {
    const auto split = cfnet_test::low_rank_split(60, 30, 7);
    for (auto norm : {cfnet::nn::MaskNormalization::per_sample, cfnet::nn::MaskNormalization::global})
        for (bool lazy : {false, true})
            for (const std::vector<std::size_t>& hidden : {std::vector<std::size_t>{32, 8, 32}, std::vector<std::size_t>{16}}) {
                INFO("per_sample " << (norm == cfnet::nn::MaskNormalization::per_sample) << ", lazy " << lazy
                                   << ", layers " << hidden.size());
                AutoencoderOptions o = cfnet_test::small_options().n_epochs(6).normalization(norm).l2(1e-4);
                o.hidden = hidden;
                o.lazy_adam = lazy;
                AutoencoderCF<float> ref(o), ip(o);
                const auto h_ref = ref.fit(split.train);
                SingleProcess comm;
                const auto h_ip = fit_item_partitioned(ip, cfnet::distributed::shard_items(split.train, comm), comm);
                REQUIRE(h_ip.size() == h_ref.size());
                for (std::size_t e = 0; e < h_ref.size(); ++e) CHECK(h_ip[e].loss == Approx(h_ref[e].loss).epsilon(1e-6));
                CHECK(max_abs_diff(ref.predict(split.train, split.test), ip.predict(split.train, split.test)) < 1e-5);
                const auto pr = ref.parameters(), pi = ip.parameters();
                REQUIRE(pr.size() == pi.size());
                for (std::size_t s = 0; s < pr.size(); ++s) {
                    REQUIRE(pr[s]->value.shape() == pi[s]->value.shape());
                    double m = 0;
                    for (std::size_t q = 0; q < pr[s]->size(); ++q)
                        m = std::max(m, std::abs(static_cast<double>(pr[s]->value.data()[q]) - pi[s]->value.data()[q]));
                    CHECK(m < 1e-5);
                }
            }
}

TEST_CASE("fit_item_partitioned: bytes per step as the formula, elements held, the model file") {
    const auto split = cfnet_test::low_rank_split(60, 30, 3);
    AutoencoderOptions o = cfnet_test::small_options().n_epochs(2);  // hidden 32-8-32, batch 16
    AutoencoderCF<float> ref(o), ip(o);
    ref.fit(split.train);
    SingleProcess comm;
    ItemPartitionedReport rep;
    fit_item_partitioned(ip, split.train, comm, {}, nullptr, &rep);
    // 60 rows in batches of 16: 16, 16, 16, 12 per epoch; per step 2 allreduces of b x 32 floats
    // and one double (the loss)
    const std::uint64_t per_epoch = 3 * (2 * 16 * 32 * 4 + 8) + (2 * 12 * 32 * 4 + 8);
    CHECK(rep.steps == 8);
    CHECK(rep.formula_bytes == 2 * per_epoch);
    CHECK(rep.comm.sent(cfnet::distributed::CommKind::allreduce) == 2 * per_epoch);
    CHECK(rep.comm.calls_of(cfnet::distributed::CommKind::allreduce) == 3 * 8);
    CHECK(rep.comm.calls_of(cfnet::distributed::CommKind::allgather) == 0);
    // the first layer's weight (30 x 32), the last's (30 x 32) and its 30 biases; value, grad, m, v
    CHECK(rep.items.begin == 0);
    CHECK(rep.items.end == 30);
    CHECK(rep.partitioned_elements == 4 * (30 * 32 + 30 * 32 + 30));
    CHECK(rep.replicated_elements == 4 * (32 + 32 * 8 + 8 + 8 * 32 + 32));
    // one file, the single-process format
    const auto a = cfnet_test::model_path("ref.cfnet"), b = cfnet_test::model_path("ip.cfnet");
    ref.save(a);
    ip.save(b);
    CHECK(file_size(a) == file_size(b));
    const auto ra = AutoencoderCF<float>::load(a), rb = AutoencoderCF<float>::load(b);
    CHECK(ra.item_map().ids() == rb.item_map().ids());
    CHECK(max_abs_diff(ra.predict(split.train, split.test), rb.predict(split.train, split.test)) < 1e-5);
}

TEST_CASE("fit_item_partitioned: input dropout (keyed by row and item) is deterministic and denoises") {
    const auto split = cfnet_test::low_rank_split(40, 20, 5);
    SingleProcess comm;
    AutoencoderCF<float> a(cfnet_test::small_options().n_epochs(3).dropout(0.3, 0.0)),
        b(cfnet_test::small_options().n_epochs(3).dropout(0.3, 0.0)), plain(cfnet_test::small_options().n_epochs(3));
    const auto ha = fit_item_partitioned(a, split.train, comm), hb = fit_item_partitioned(b, split.train, comm);
    fit_item_partitioned(plain, split.train, comm);
    for (std::size_t e = 0; e < ha.size(); ++e) CHECK(ha[e].loss == hb[e].loss);
    CHECK(a.predict(split.train, split.test) == b.predict(split.train, split.test));
    CHECK(max_abs_diff(a.predict(split.train, split.test), plain.predict(split.train, split.test)) > 1e-4);  // it drops
}

TEST_CASE("fit_item_partitioned: hidden dropout is deterministic, and ItemGather::none leaves the model alone") {
    const auto split = cfnet_test::low_rank_split(40, 20, 5);
    AutoencoderOptions o = cfnet_test::small_options().n_epochs(3).dropout(0.0, 0.3);
    SingleProcess comm;
    AutoencoderCF<float> m1(o), m2(o), m3(cfnet_test::small_options().n_epochs(3));
    const auto h1 = fit_item_partitioned(m1, split.train, comm);
    const auto h2 = fit_item_partitioned(m2, split.train, comm);
    fit_item_partitioned(m3, split.train, comm);
    for (std::size_t e = 0; e < h1.size(); ++e) CHECK(h1[e].loss == h2[e].loss);
    CHECK(m1.predict(split.train, split.test) == m2.predict(split.train, split.test));
    CHECK(max_abs_diff(m1.predict(split.train, split.test), m3.predict(split.train, split.test)) > 1e-4);  // it drops
    AutoencoderCF<float> none(o);
    fit_item_partitioned(none, split.train, comm, {}, nullptr, nullptr, ItemGather::none);
    CHECK_THROWS_AS(none.parameters(), cfnet::InvalidArgument);
}

TEST_CASE("fit_item_partitioned, middle layers split by rows: one rank equals the replicated fit; bytes per step") {
    // One rank: the reduce-scatters and allgathers are copies, so split_rows differs from replicated
    // only in the middle layers' update (gradient, then Adam, instead of fused into the backward
    // pass): float rounding. With hidden dropout both draw the same row-keyed masks.
    const auto split = cfnet_test::low_rank_split(60, 30, 9);
    for (double drop : {0.0, 0.25})
        for (bool lazy : {false, true}) {
            INFO("dropout " << drop << ", lazy " << lazy);
            AutoencoderOptions o = cfnet_test::small_options().n_epochs(5).dropout(0.0, drop).l2(1e-4);  // 32-8-32, batch 16
            o.lazy_adam = lazy;
            AutoencoderCF<float> rep_model(o), split_model(o);
            SingleProcess c1, c2;
            ItemPartitionedReport r1, r2;
            const auto h1 = fit_item_partitioned(rep_model, split.train, c1, {}, nullptr, &r1);
            const auto h2 = fit_item_partitioned(split_model, split.train, c2, {}, nullptr, &r2, ItemGather::root,
                                                 cfnet::distributed::MiddleLayers::split_rows);
            REQUIRE(h1.size() == h2.size());
            for (std::size_t e = 0; e < h1.size(); ++e) CHECK(h2[e].loss == Approx(h1[e].loss).epsilon(1e-5));
            CHECK(max_abs_diff(rep_model.predict(split.train, split.test), split_model.predict(split.train, split.test)) < 1e-4);
            // per step: reduce-scatter b x 32 twice (sent: all of it), allgather of this rank's rows
            // (all b) of the code and of the first layer's gradient, the middle layers' gradients
            // (32 x 8 + 8 + 8 x 32 + 32 = 552 floats) and the loss
            const std::uint64_t mid = 4 * 552;
            auto step = [&](std::uint64_t b) { return 2 * b * 32 * 4 + 2 * b * 32 * 4 + mid + 8; };
            const std::uint64_t per_epoch = 3 * step(16) + step(12);
            CHECK(r2.steps == 20);
            CHECK(r2.formula_bytes == 5 * per_epoch);
            const auto& c = r2.comm;
            using cfnet::distributed::CommKind;
            CHECK(c.sent(CommKind::reduce_scatter) + c.sent(CommKind::allgather) + c.sent(CommKind::allreduce) ==
                  r2.formula_bytes);
            CHECK(c.calls_of(CommKind::reduce_scatter) == 2 * 20);
            CHECK(c.calls_of(CommKind::allgather) == 2 * 20);
            CHECK(c.calls_of(CommKind::allreduce) == 2 * 20);
            CHECK(r1.comm.calls_of(CommKind::reduce_scatter) == 0);
        }
}

TEST_CASE("fit_item_partitioned: validation metrics and early stopping as AutoencoderCF::fit") {
    const auto split = cfnet_test::low_rank_split(60, 30, 11);
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 2;
    AutoencoderOptions o = cfnet_test::small_options().n_epochs(12).stop_early(es).clamp(1, 5);
    AutoencoderCF<float> ref(o), ip(o);
    const auto h_ref = ref.fit(split.train, split.test);
    SingleProcess comm;
    ItemPartitionedReport rep;
    const auto h_ip = fit_item_partitioned(ip, split.train, comm, {}, &split.test, &rep);
    REQUIRE(h_ip.size() == h_ref.size());
    CHECK(h_ip.best_epoch == h_ref.best_epoch);
    for (std::size_t e = 0; e < h_ref.size(); ++e) {
        CHECK(*h_ip[e].metric("val_rmse") == Approx(*h_ref[e].metric("val_rmse")).epsilon(1e-6));
        CHECK(*h_ip[e].metric("val_mae") == Approx(*h_ref[e].metric("val_mae")).epsilon(1e-6));
    }
    CHECK(max_abs_diff(ref.predict(split.train, split.test), ip.predict(split.train, split.test)) < 1e-5);
    // the validation's collectives are counted apart: the training's are the formula's
    CHECK(rep.comm.sent(cfnet::distributed::CommKind::allreduce) == rep.formula_bytes);
    CHECK(rep.validation_comm.calls_of(cfnet::distributed::CommKind::allreduce) > 0);
    AutoencoderCF<float> m(o);
    CHECK_THROWS_WITH(fit_item_partitioned(m, split.train, comm), Catch::Contains("early stopping needs validation"));
}

TEST_CASE("fit_item_partitioned: refuses what it does not support, naming it") {
    const auto split = cfnet_test::low_rank_split(20, 10, 1);
    SingleProcess comm;
    auto refuses = [&](AutoencoderOptions o, const char* what) {
        AutoencoderCF<float> m(o);
        CHECK_THROWS_WITH(fit_item_partitioned(m, split.train, comm), Catch::Contains(what));
    };
    refuses(cfnet_test::small_options().item_based(), "item_based");
    refuses(cfnet_test::small_options().fallback(), "unseen_fallback");
    refuses(cfnet_test::small_options().lbfgs(1.0, 2), "solver");
}
