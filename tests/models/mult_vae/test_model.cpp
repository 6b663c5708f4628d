#include <cfnet/baselines.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "models/mult_vae/fixtures.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

using cfnet::index_type;
using cfnet::MultVAE;
using cfnet::MultVAEOptions;

namespace {

const cfnet::Split<float>& data() {
    static const auto s = cfnet_test::implicit_low_rank(300, 120, 25, 3);
    return s;
}

std::vector<float> all_scores(const MultVAE<float>& m, const cfnet::RatingMatrix<float>& input) {
    std::vector<float> out(input.n_users() * m.n_items());
    for (std::size_t u = 0; u < input.n_users(); ++u)
        m.score_items(input, static_cast<index_type>(u), out.data() + u * m.n_items());
    return out;
}

// A tiny double-precision data set in one item space.
cfnet::RatingMatrix<double> tiny() {
    std::vector<cfnet::Rating<double>> r;
    const std::vector<std::vector<int>> rows{{0, 2, 5}, {1, 2, 3, 8}, {4}, {0, 6, 7, 8}};
    for (std::size_t u = 0; u < rows.size(); ++u)
        for (int i : rows[u]) r.push_back({static_cast<cfnet::id_type>(u), static_cast<cfnet::id_type>(i), 1.0, 0});
    return cfnet::RatingMatrix<double>::from_ratings(r);
}

}  // namespace

TEST_CASE("MultVAE: the whole model's loss passes the gradient checker (VAE and DAE)", "[mult_vae][gradcheck]") {
    const auto d = tiny();
    for (bool variational : {true, false}) {
        for (bool sampled : {true, false}) {
            if (!variational && sampled) continue;
            INFO((variational ? "VAE" : "DAE") << (sampled ? ", eps sampled" : ", z = mu"));
            MultVAEOptions o = variational ? MultVAEOptions::vae() : MultVAEOptions::dae();
            o.hidden_sizes({5}).latent_dim(3).l2(0.01);
            MultVAE<double> m(o);
            m.initialize(d);
            const std::vector<index_type> rows{0, 1, 2, 3};
            const std::optional<std::uint64_t> seed = sampled ? std::optional<std::uint64_t>(11) : std::nullopt;
            auto ps = m.parameters();
            for (auto* p : ps) p->zero_grad();
            m.loss_and_gradient(d, rows, 0.3, seed);
            std::vector<cfnet::Matrix<double>> grads;
            for (auto* p : ps) grads.push_back(p->grad);  // the loss calls below add into grad
            for (std::size_t k = 0; k < ps.size(); ++k) {
                auto* p = ps[k];
                const cfnet::Matrix<double>& g = grads[k];
                auto loss = [&] { return m.loss_and_gradient(d, rows, 0.3, seed); };
                auto r = cfnet::testing::check_gradient(loss, p->value.data(), g.data(), p->size(), p->name);
                INFO(r.log);
                CHECK(r);
            }
        }
    }
}

TEST_CASE("MultVAE: training lowers the loss and beats most-popular", "[mult_vae]") {
    const auto& s = data();
    cfnet::MostPopular<float> pop;
    pop.fit(s.train);
    const auto base = cfnet::evaluate_ranking(s.train, s.test, 10, [&](index_type u, float* out) { pop.score_items(u, out); });
    for (bool variational : {true, false}) {
        INFO((variational ? "VAE" : "DAE"));
        MultVAE<float> m(cfnet_test::small_vae(variational));
        const auto h = m.fit(s.train);
        REQUIRE(h.size() == 30);
        CHECK(h[29].loss < 0.9 * h[0].loss);
        const auto rep = cfnet::evaluate_ranking(s.train, s.test, 10, m.make_scorer(s.train));
        INFO("most-popular P@10 " << base.precision << ", model " << rep.precision);
        CHECK(rep.precision > 1.3 * base.precision);
        CHECK(rep.ndcg > base.ndcg);
    }
}

TEST_CASE("MultVAE: the same seed gives the same model, another seed another", "[mult_vae]") {
    const auto& s = data();
    auto o = cfnet_test::small_vae().n_epochs(3);
    MultVAE<float> a(o), b(o), c(o.random_seed(8));
    a.fit(s.train);
    b.fit(s.train);
    c.fit(s.train);
    const auto sa = all_scores(a, s.train);
    CHECK(sa == all_scores(b, s.train));
    CHECK(sa != all_scores(c, s.train));
}

TEST_CASE("MultVAE: save/load gives bit-identical scores", "[mult_vae]") {
    const auto& s = data();
    for (bool variational : {true, false}) {
        MultVAE<float> m(cfnet_test::small_vae(variational).n_epochs(2));
        m.fit(s.train);
        const std::string path = cfnet_test::scratch_dir("mult_vae") + "/m.cfnet";
        m.save(path);
        const auto l = MultVAE<float>::load(path);
        CHECK(l.options().variational == variational);
        CHECK(l.options().hidden == m.options().hidden);
        CHECK(all_scores(l, s.train) == all_scores(m, s.train));
        CHECK(l.item_map().ids() == m.item_map().ids());
    }
    CHECK_THROWS_AS(MultVAE<float>().save("x"), cfnet::InvalidArgument);
}

TEST_CASE("MultVAE: fold-in equals scoring the row; recommend excludes seen; batch equals single", "[mult_vae]") {
    const auto& s = data();
    MultVAE<float> m(cfnet_test::small_vae().n_epochs(3));
    m.fit(s.train);
    const auto ni = m.n_items();
    std::vector<float> row(ni);
    for (index_type u : {0u, 17u, 299u}) {
        m.score_items(s.train, u, row.data());
        const auto items = s.train.user_items(u);
        std::vector<index_type> it(items.begin(), items.end());
        std::reverse(it.begin(), it.end());  // any order
        std::vector<float> ones(it.size(), 1.f);
        CHECK(m.score_row(it, ones) == row);
        const auto a = m.recommend(s.train, u, 10), b = m.recommend(it, ones, 10);
        REQUIRE(a.size() == 10);
        for (std::size_t k = 0; k < a.size(); ++k) {
            CHECK(a[k].item == b[k].item);
            CHECK(std::find(items.begin(), items.end(), a[k].item) == items.end());
        }
        const auto all = m.recommend(s.train, u, ni, false);
        CHECK(all.size() == ni);
    }
    // a user nobody saw: scores exist and exclude the given items
    const auto cold = m.recommend(std::vector<index_type>{3, 5}, std::vector<float>{1, 1}, 5);
    for (const auto& r : cold) CHECK((r.item != 3 && r.item != 5));
    CHECK_THROWS_AS(m.score_row({3, 3}, {1, 1}), cfnet::InvalidArgument);
    CHECK_THROWS_AS(m.score_row({static_cast<index_type>(ni)}, {1}), cfnet::InvalidArgument);
    // batch == single (the block forward may round differently from one row: scores within 1e-5)
    std::vector<index_type> users{5, 2, 299, 0};
    std::size_t n = 0;
    m.recommend_batch(s.train, users, 10, [&](index_type u, const std::vector<cfnet::Recommendation<float>>& recs) {
        CHECK(u == users[n++]);
        const auto one = m.recommend(s.train, u, 10);
        REQUIRE(one.size() == recs.size());
        for (std::size_t k = 0; k < recs.size(); ++k) CHECK(recs[k].score == Approx(one[k].score).margin(1e-5));
    });
    CHECK(n == users.size());
    // predict: the logits at the pairs
    const auto p = m.predict(s.train, {{17, 3}, {0, 1}, {17, 4}});
    m.make_scorer(s.train)(17, row.data());  // predict scores through the Scorer's aligned blocks
    CHECK(p[0] == row[3]);
    CHECK(p[2] == row[4]);
    CHECK_FALSE(m.predicts_ratings());
    CHECK(m.supports_fold_in());
}

TEST_CASE("MultVAE: epoch selection on a validation part of the training data", "[mult_vae]") {
    const auto& s = data();
    auto o = cfnet_test::small_vae().n_epochs(12).select_epoch(0.2, 10, 0, false);
    MultVAE<float> m(o);
    const auto h = m.fit(s.train);
    REQUIRE(h.size() == 12);
    REQUIRE(h[0].metric("val_ndcg@10").has_value());
    CHECK(h[0].metric("beta").has_value());
    int best = 1;
    for (std::size_t e = 0; e < h.size(); ++e)
        if (*h[e].metric("val_ndcg@10") > *h[static_cast<std::size_t>(best - 1)].metric("val_ndcg@10")) best = int(e) + 1;
    CHECK(h.best_epoch == best);
    // explicit validation matrix: the same metric, and a bad space is rejected
    MultVAE<float> m2(cfnet_test::small_vae().n_epochs(2).select_epoch(0, 5));
    const auto h2 = m2.fit(s.train, s.test);
    CHECK(h2[1].metric("val_ndcg@5").has_value());
}

TEST_CASE("MultVAEOptions: presets, the anneal schedule, validation", "[mult_vae]") {
    const auto v = MultVAEOptions::vae();
    CHECK(v.variational);
    CHECK(v.hidden == std::vector<std::size_t>{600});
    CHECK(v.latent == 200);
    CHECK(v.batch_size == 500);
    CHECK(v.input_dropout == 0.5);
    CHECK(v.weight_decay == 0.0);
    // beta = min(cap, t / steps)
    CHECK(v.beta_at(0) == 0.0);
    CHECK(v.beta_at(100000) == 0.2);  // 100000 / 200000 = 0.5 > cap
    CHECK(v.beta_at(20000) == Approx(0.1).epsilon(1e-15));
    CHECK(v.beta_at(40000) == Approx(0.2).epsilon(1e-15));
    CHECK(v.beta_at(10000000) == 0.2);
    auto o = MultVAEOptions::vae().anneal(0, 0.3);
    CHECK(o.beta_at(0) == 0.3);
    const auto d = MultVAEOptions::dae();
    CHECK_FALSE(d.variational);
    CHECK(d.weight_decay == Approx(0.01 / 500));
    CHECK(d.beta_at(123) == 0.0);
    CHECK_THROWS_AS(MultVAE<float>(MultVAEOptions().dropout(1.0)), cfnet::InvalidArgument);
    CHECK_THROWS_AS(MultVAE<float>(MultVAEOptions().latent_dim(0)), cfnet::InvalidArgument);
    CHECK_THROWS_AS(MultVAE<float>(MultVAEOptions().batch(0)), cfnet::InvalidArgument);
}

TEST_CASE("MultVAE: a diverging fit stops with NumericalError naming the epoch and step (issue 17)", "[mult_vae]") {
    const auto& s = data();
    for (bool variational : {true, false}) {
        INFO((variational ? "VAE" : "DAE"));
        MultVAE<float> m(cfnet_test::small_vae(variational).n_epochs(5).lr(1e30));
        CHECK_THROWS_AS(m.fit(s.train), cfnet::NumericalError);
        MultVAE<float> m2(cfnet_test::small_vae(variational).n_epochs(5).lr(1e30));
        CHECK_THROWS_WITH(m2.fit(s.train), Catch::Contains("MultVAE::fit: the loss became") &&
                                               Catch::Contains(" at epoch ") && Catch::Contains(", step "));
    }
}
