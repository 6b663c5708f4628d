// distributed/mult_vae.hpp with the single-process communicator: the one-rank data-parallel fit
// (learns, is deterministic, gives a normal MultVAE), the refusals, and the decomposition itself:
// the gradient of a batch split into two "ranks" (each running its rows with their own per-row
// draws) equals the whole batch's. N ranks: tests/distributed/mpi/test_mult_vae.cpp.
#include <cfnet/distributed/mult_vae.hpp>

#include "models/mult_vae/fixtures.hpp"
#include "support/files.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

using cfnet::index_type;
using cfnet::MultVAE;
using cfnet::MultVAEOptions;
using cfnet::distributed::fit_data_parallel;
using cfnet::distributed::SingleProcess;
using RM = cfnet::RatingMatrix<float>;

namespace {

const cfnet::Split<float>& data() {
    static const auto s = cfnet_test::implicit_low_rank(300, 120, 25, 3);  // tests/models/mult_vae's data
    return s;
}

std::vector<float> weights(MultVAE<float>& m) {
    std::vector<float> out;
    for (auto* p : m.parameters()) out.insert(out.end(), p->value.data(), p->value.data() + p->size());
    return out;
}

std::vector<float> logits(const MultVAE<float>& m, const RM& input) {
    std::vector<float> out;
    m.make_scorer(input).score_batch([&] {
        std::vector<index_type> u(input.n_users());
        for (std::size_t k = 0; k < u.size(); ++k) u[k] = static_cast<index_type>(k);
        return u;
    }(), out);
    return out;
}

}  // namespace

TEST_CASE("fit_data_parallel(MultVAE) on one rank learns, is deterministic and gives a normal MultVAE") {
    const auto& s = data();
    for (bool variational : {true, false}) {
        INFO((variational ? "VAE" : "DAE"));
        const MultVAEOptions o = cfnet_test::small_vae(variational);  // 30 epochs
        SingleProcess comm;
        MultVAE<float> a(o), b(o);
        cfnet::distributed::DataParallelReport rep;
        const auto ha = fit_data_parallel(a, s.train, comm, {}, &s.test, &rep);
        const auto hb = fit_data_parallel(b, s.train, comm, {}, &s.test);
        REQUIRE(ha.size() == 30);
        CHECK(ha[29].loss < 0.9 * ha[0].loss);
        const std::string metric = "val_ndcg@100";
        CHECK(*ha[ha.size() - 1].metric(metric) > *ha[0].metric(metric));
        CHECK(ha[0].metric("kl").has_value());
        CHECK(ha[0].metric("beta").has_value());
        CHECK(ha.best_epoch >= 1);
        // the same seed, the same model, bit for bit
        CHECK(weights(a) == weights(b));
        for (std::size_t e = 0; e < ha.size(); ++e) CHECK(ha[e].loss == hb[e].loss);
        // the kept weights are the best epoch's: scoring them gives the best epoch's NDCG
        const double best = *ha[static_cast<std::size_t>(ha.best_epoch) - 1].metric(metric);
        CHECK(cfnet::evaluate_ranking(s.train, s.test, 100, a.make_scorer(s.train)).ndcg == Approx(best).epsilon(1e-9));
        // a normal MultVAE: its file loads and scores the same, bit for bit
        const std::string path = cfnet_test::scratch_dir("dist_vae") + "/vae.cfnet";
        a.save(path);
        const auto loaded = MultVAE<float>::load(path);
        CHECK(logits(loaded, s.train) == logits(a, s.train));
        CHECK(loaded.user_map().ids() == s.train.users().ids());
        // as good a model as MultVAE::fit's (other draws, the same distribution): NDCG@100 close
        MultVAE<float> ref(o);
        const auto hr = ref.fit(s.train, s.test);
        CHECK(std::abs(*hr[hr.size() - 1].metric(metric) - *ha[ha.size() - 1].metric(metric)) < 0.05);
        // counted: the row holders (U int64, once), then per step every parameter (float) and
        // 2 doubles, per epoch 2 doubles (validation), plus the misplaced-rows check (1 int64)
        CHECK(rep.steps == 30 * ((s.train.n_users() + 49) / 50));
        CHECK(rep.comm.sent(cfnet::distributed::CommKind::allreduce) ==
              8 * s.train.n_users() + 8 + rep.steps * (4 * rep.parameters + 16) + 30 * 16);
    }
}

TEST_CASE("fit_data_parallel(MultVAE): gradients summed in double give nearly the float model") {
    const auto& s = data();
    const MultVAEOptions o = cfnet_test::small_vae(true).n_epochs(3);
    SingleProcess comm;
    MultVAE<float> a(o), b(o);
    cfnet::distributed::DataParallelReport ra, rb;
    fit_data_parallel(a, s.train, comm, {}, nullptr, &ra);
    fit_data_parallel(b, s.train, comm, {}, nullptr, &rb, cfnet::distributed::GradientSum::float64);
    const auto la = logits(a, s.train), lb = logits(b, s.train);
    double d = 0;
    for (std::size_t k = 0; k < la.size(); ++k) d = std::max(d, std::abs(static_cast<double>(la[k]) - lb[k]));
    CHECK(d < 1e-3);
    CHECK(rb.comm.sent(cfnet::distributed::CommKind::allreduce) - 8 * s.train.n_users() ==
          rb.steps * (8 * rb.parameters + 16));
}

TEST_CASE("fit_data_parallel(MultVAE): a batch split into two ranks has the whole batch's gradient") {
    const auto& s = data();
    for (bool variational : {true, false}) {
        INFO((variational ? "VAE" : "DAE"));
        const MultVAEOptions o = cfnet_test::small_vae(variational).dropout(0.3);
        MultVAE<float> m(o);
        m.initialize(s.train);
        auto& net = m.mutable_network();
        auto ps = net.parameters();
        std::vector<index_type> all;
        for (index_type u = 0; u < 40; ++u) all.push_back(static_cast<index_type>(3 * u + 1));
        const std::size_t update = 17;
        const double beta = 0.1;
        cfnet::distributed::detail::VaeRowsStep<float> step(o);
        auto grads = [&](const std::vector<index_type>& rows, std::array<double, 2>& sums) {
            for (auto* p : ps) p->zero_grad();
            sums = step.run(net, s.train, rows, update, beta);
            std::vector<double> g;  // times the row count: the rank's share of the sum
            for (auto* p : ps)
                for (const float v : p->grad) g.push_back(static_cast<double>(v) * static_cast<double>(rows.size()));
            return g;
        };
        std::array<double, 2> s_all{}, s_a{}, s_b{};
        const auto whole = grads(all, s_all);
        // "rank 0" gets every third row, "rank 1" the others, each in batch order
        std::vector<index_type> r0, r1;
        for (std::size_t k = 0; k < all.size(); ++k) (k % 3 == 0 ? r0 : r1).push_back(all[k]);
        const auto g0 = grads(r0, s_a), g1 = grads(r1, s_b);
        double scale = 0, diff = 0;
        for (std::size_t k = 0; k < whole.size(); ++k) {
            scale = std::max(scale, std::abs(whole[k]));
            diff = std::max(diff, std::abs(g0[k] + g1[k] - whole[k]));
        }
        CHECK(scale > 0);
        CHECK(diff <= 1e-5 * scale);
        CHECK(s_a[0] + s_b[0] == Approx(s_all[0]).epsilon(1e-6));
        CHECK(s_a[1] + s_b[1] == Approx(s_all[1]).epsilon(1e-6).margin(variational ? 0 : 1e-12));
        // the draws are the row's and the update's: another update, another gradient
        for (auto* p : ps) p->zero_grad();
        step.run(net, s.train, all, update + 1, beta);
        double moved = 0;
        std::size_t k = 0;
        for (auto* p : ps)
            for (const float v : p->grad) moved = std::max(moved, std::abs(static_cast<double>(v) * 40.0 - whole[k++]));
        CHECK(moved > 1e-3 * scale);
    }
}

TEST_CASE("fit_data_parallel(MultVAE): refuses what it does not support, naming it") {
    const auto& s = data();
    SingleProcess comm;
    MultVAE<float> m(cfnet_test::small_vae().select_epoch(0.1, 10));
    CHECK_THROWS_WITH(fit_data_parallel(m, s.train, comm), Catch::Contains("validation_fraction"));
    MultVAE<float> ok(cfnet_test::small_vae().n_epochs(1));
    const auto other = cfnet_test::implicit_low_rank(20, 10, 4, 1);
    CHECK_THROWS_WITH(fit_data_parallel(ok, s.train, comm, {}, &other.test), Catch::Contains("index space"));
    const RM empty = s.train.filter([](std::size_t) { return false; });
    CHECK_THROWS_WITH(fit_data_parallel(ok, empty, comm), Catch::Contains("rank 0 of 1 has no interactions"));
}

TEST_CASE("fit_data_parallel(MultVAE): P of the paper's 600-200 net is 1201 I + 361,600 (the bytes per step: 4 P + 16)") {
    const auto& s = data();
    MultVAE<float> m(MultVAEOptions::vae());
    m.initialize(s.train);
    std::size_t p = 0;
    for (auto* q : m.parameters()) p += q->size();
    CHECK(p == 1201 * s.train.n_items() + 361600);
    SingleProcess comm;
    cfnet::distributed::DataParallelReport rep;
    fit_data_parallel(m, s.train, comm, {}, nullptr, &rep);  // no validation: U int64 + 16 + 4 P per step
    // (default 100 epochs of 500-row batches: one step per epoch)
    CHECK(rep.parameters == p);
    CHECK(rep.comm.sent(cfnet::distributed::CommKind::allreduce) == 8 * s.train.n_users() + rep.steps * (4 * p + 16));
}
