// models/neural_cf/model.hpp: NeuralCF's fit (callbacks, early stopping, refit), learning on
// synthetic explicit and implicit data, predict / score_items / recommend / recommend_batch,
// determinism by seed, the errors of bad ids, indices, data and divergence, and one short
// MovieLens 100K run.
#include <cfnet/baselines.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/models/neural_cf/model.hpp>

#include "support/ml100k.hpp"
#include "support/neural_cf.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

using cfnet::index_type;
using cfnet_test::low_rank;
using cfnet_test::RecordingCallback;
using cfnet_test::same_recs;
using cfnet_test::small_options;

TEST_CASE("NeuralCF: callbacks see every hook, any callback can stop, id maps", "[neural_cf]") {
    const auto all = low_rank<float>(20, 15, 0.5, 2);  // ~150 pairs
    auto o = small_options(cfnet::NcfArchitecture::mlp);
    o.batch_size = 1000;  // one step per epoch
    cfnet::NeuralCF<float> m(o);
    CHECK_THROWS_AS(m.user_map(), cfnet::InvalidArgument);
    RecordingCallback a, b;
    b.stop_after = 2;
    const auto h = m.fit(all, {&a, &b});
    CHECK(h.size() == 2);
    CHECK(a.log == "B3e1.Ee2.ET2");
    CHECK(b.log == a.log);
    CHECK(m.user_map().size() == all.n_users());
    CHECK(m.item_map().size() == all.n_items());
    CHECK(m.item_map().id(0) == all.items().id(0));
    RecordingCallback c;
    CHECK(m.fit(all, all, {&c}).size() == 3);
    CHECK(c.log == "B3e1.Ee2.Ee3.ET3");
}

TEST_CASE("NeuralCF explicit: learns a synthetic low-rank problem, every architecture", "[neural_cf]") {
    const auto all = low_rank<float>(80, 60, 0.5, 21);
    const auto split = cfnet::random_split(all, 0.2, 9);
    cfnet::GlobalMean<float> mean;
    mean.fit(split.train);
    const double rmse_mean =
        cfnet::evaluate_rating(split.test, [&](index_type u, index_type i) { return mean.predict(u, i); }).rmse;
    for (auto arch : {cfnet::NcfArchitecture::mlp, cfnet::NcfArchitecture::gmf, cfnet::NcfArchitecture::neumf}) {
        auto o = small_options(arch);
        o.epochs = 60;
        o.learning_rate = 1e-2;
        o.bias_terms = true;
        cfnet::NeuralCF<float> m(o);
        const auto h = m.fit(split.train);
        REQUIRE(h.size() == 60);
        CHECK(h[0].metric("val_rmse").has_value());
        CHECK(h[59].loss < h[0].loss);
        const double r =
            cfnet::evaluate_rating(split.test, [&](index_type u, index_type i) { return m.predict(u, i); }).rmse;
        INFO(cfnet::to_string(arch) << ": held-out RMSE " << r << ", global mean " << rmse_mean);
        CHECK(r < 0.8 * rmse_mean);
    }
}

TEST_CASE("NeuralCF implicit: ranks held-out positives far above chance", "[neural_cf]") {
    const auto all = low_rank<float>(80, 60, 0.3, 4);
    // implicit signal: only high ratings are interactions
    const auto liked = all.filter([&](std::size_t k) { return all.values()[k] >= 4.0f; });
    const auto split = cfnet::random_split(liked, 0.2, 2);
    auto o = small_options(cfnet::NcfArchitecture::neumf, cfnet::Feedback::implicit);
    o.epochs = 30;
    o.learning_rate = 5e-3;
    cfnet::NeuralCF<float> m(o);
    const auto h = m.fit(split.train, split.test);
    REQUIRE(h[0].metric("val_hr@10").has_value());
    CHECK(h[0].metric("val_ndcg@10").has_value());
    const auto model = cfnet::evaluate_ranking(split.train, split.test, 10,
                                               [&](index_type u, float* s) { m.score_items(u, s); },
                                               cfnet::RankingOptions().all_test_items_relevant());
    cfnet::MostPopular<float> pop;
    pop.fit(split.train);
    const auto popular = cfnet::evaluate_ranking(split.train, split.test, 10,
                                                 [&](index_type u, float* s) { pop.score_items(u, s); },
                                                 cfnet::RankingOptions().all_test_items_relevant());
    INFO("NeuMF HR@10 " << model.hit_rate << " P@10 " << model.precision << ", most popular HR@10 "
                        << popular.hit_rate << " P@10 " << popular.precision);
    CHECK(model.precision > 1.3 * popular.precision);
    CHECK(std::abs(h.epochs.back().metric("val_precision@10").value() - model.precision) < 1e-9);
}

TEST_CASE("NeuralCF: recommend excludes seen items, batch == single, scores == predict", "[neural_cf]") {
    const auto all = low_rank<float>(40, 30, 0.4, 8);
    for (auto arch : {cfnet::NcfArchitecture::mlp, cfnet::NcfArchitecture::gmf, cfnet::NcfArchitecture::neumf}) {
        auto o = small_options(arch);
        o.bias_terms = arch == cfnet::NcfArchitecture::neumf;
        cfnet::NeuralCF<float> m(o);
        m.fit(all);
        std::vector<index_type> users;
        for (index_type u = 0; u < all.n_users(); ++u) users.push_back(u);
        std::size_t calls = 0;
        m.recommend_batch(users, 10, [&](index_type u, const std::vector<cfnet::Recommendation<float>>& rec) {
            CHECK(u == users[calls]);
            ++calls;
            CHECK(same_recs(rec, m.recommend(u, 10)));
            const auto seen = all.user_items(u);
            CHECK(rec.size() == std::min<std::size_t>(10, all.n_items() - seen.size()));
            for (const auto& r : rec) CHECK(!std::binary_search(seen.begin(), seen.end(), r.item));
        });
        CHECK(calls == users.size());
        // score_items agrees with pairwise predict, and the ranking is by score
        const index_type u = 3;
        const auto scores = m.score_items(u);
        for (index_type i = 0; i < all.n_items(); ++i) CHECK(scores[i] == Approx(m.predict(u, i)).epsilon(1e-5));
        const auto rec = m.recommend(u, 5, false);
        REQUIRE(rec.size() == 5);
        for (const auto& r : rec) CHECK(r.score == scores[r.item]);
        for (std::size_t k = 1; k < rec.size(); ++k) CHECK(rec[k - 1].score >= rec[k].score);
        CHECK(*std::max_element(scores.begin(), scores.end()) == rec[0].score);
    }
}

TEST_CASE("NeuralCF: the same seed gives the same history and predictions, another seed differs", "[neural_cf]") {
    const auto all = low_rank<float>(30, 20, 0.5, 3);
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.dropout = 0.2;
    cfnet::NeuralCF<float> a(o), b(o);
    const auto ha = a.fit(all), hb = b.fit(all);
    REQUIRE(ha.size() == hb.size());
    for (std::size_t e = 0; e < ha.size(); ++e) {
        CHECK(ha[e].loss == hb[e].loss);
        CHECK(ha[e].metrics == hb[e].metrics);
    }
    CHECK(a.predict(1, 2) == b.predict(1, 2));
    o.seed = 8;
    cfnet::NeuralCF<float> c(o);
    CHECK(c.fit(all)[0].loss != ha[0].loss);
}

TEST_CASE("NeuralCF: early stopping restores the best epoch", "[neural_cf]") {
    const auto all = low_rank<float>(40, 30, 0.5, 12);
    const auto split = cfnet::random_split(all, 0.25, 1);
    auto o = small_options(cfnet::NcfArchitecture::mlp);
    o.learning_rate = 0.05;  // overfits quickly
    o.embedding_dim = 16;
    o.hidden = {64};
    o.epochs = 40;
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 3;
    o.early_stopping = es;
    cfnet::NeuralCF<float> m(o);
    const auto h = m.fit(split.train, split.test);
    REQUIRE(h.best_epoch >= 1);
    double best = 1e9;
    for (const auto& e : h.epochs) best = std::min(best, e.metric("val_rmse").value());
    CHECK(h[static_cast<std::size_t>(h.best_epoch - 1)].metric("val_rmse").value() == best);
    const double now =
        cfnet::evaluate_rating(split.test, [&](index_type u, index_type i) { return m.predict(u, i); }).rmse;
    CHECK(now == Approx(best).epsilon(1e-6));
    if (h.stopped_early) CHECK(static_cast<int>(h.size()) == h.best_epoch + es.patience);
}

TEST_CASE("NeuralCF: refit retrains on all training pairs for the epoch count early stopping chose", "[neural_cf]") {
    // refit: the selection run's epochs (with validation metrics), then `best` epochs on all pairs
    const auto all = low_rank<float>(40, 30, 0.5, 12);
    auto r = small_options(cfnet::NcfArchitecture::mlp);
    r.epochs = 6;
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 2;
    r.early_stopping = es;
    cfnet::NeuralCF<float> sel(r);
    const auto hs = sel.fit(all);
    const int chosen = hs.best_epoch;
    REQUIRE(chosen >= 1);
    r.refit = true;
    cfnet::NeuralCF<float> ref(r);
    RecordingCallback cb;
    const auto hr = ref.fit(all, {&cb});
    REQUIRE(hr.size() == hs.size() + static_cast<std::size_t>(chosen));
    for (std::size_t e = 0; e < hs.size(); ++e) CHECK(hr[e].metrics == hs[e].metrics);
    for (std::size_t e = hs.size(); e < hr.size(); ++e) {
        CHECK(hr[e].metrics.empty());
        CHECK(hr[e].epoch == static_cast<int>(e + 1));
    }
    CHECK(hr.best_epoch == 0);
    CHECK(ref.options().refit);
    CHECK(cb.log.find("T" + std::to_string(hs.size())) != std::string::npos);  // two runs
    CHECK(cb.log.substr(cb.log.size() - 2) == "T" + std::to_string(chosen));
    // the same as training on every pair for `chosen` epochs without a hold-out
    auto f = small_options(cfnet::NcfArchitecture::mlp);
    f.validation_fraction = 0;
    f.epochs = chosen;
    cfnet::NeuralCF<float> full(f);
    const auto hf = full.fit(all);
    CHECK(hf.epochs.back().loss == hr.epochs.back().loss);
    CHECK(full.predict(2, 3) == ref.predict(2, 3));
    // refit needs early stopping and fit()'s own hold-out
    auto bad = r;
    bad.early_stopping.reset();
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad), cfnet::InvalidArgument);
    CHECK_THROWS_AS(ref.fit(all, all), cfnet::InvalidArgument);
}

TEST_CASE("NeuralCF: errors for unknown ids, bad indices, unfitted models, bad training data and divergence", "[neural_cf]") {
    using cfnet::InvalidArgument;
    cfnet::NeuralCF<float> m(small_options(cfnet::NcfArchitecture::mlp));
    CHECK_THROWS_AS(m.predict(0, 0), InvalidArgument);  // not fitted
    CHECK_THROWS_AS(m.fit(cfnet::RatingMatrix<float>()), InvalidArgument);
    const auto all = low_rank<float>(20, 15, 0.5, 2);
    auto o = small_options(cfnet::NcfArchitecture::mlp);
    o.validation_fraction = 0;
    o.early_stopping = cfnet::EarlyStopping{};
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(o).fit(all), InvalidArgument);  // early stopping without validation
    const auto other = low_rank<float>(21, 15, 0.5, 2);
    CHECK_THROWS_AS(m.fit(all, other), InvalidArgument);  // another index space
    m.fit(all);
    CHECK_THROWS_AS(m.predict(20, 0), InvalidArgument);
    CHECK_THROWS_AS(m.predict(0, 15), InvalidArgument);
    CHECK_THROWS_AS(m.recommend(20, 5), InvalidArgument);
    CHECK_THROWS_AS(m.predict_id(999, 101), InvalidArgument);
    CHECK_THROWS_AS(m.predict_id(1, 1), InvalidArgument);
    CHECK_NOTHROW(m.predict_id(1, 101));
    try {
        m.predict_id(999, 101);
    } catch (const InvalidArgument& e) {
        CHECK(std::string(e.what()).find("999") != std::string::npos);
    }
    // divergence is a loud error
    auto d = small_options(cfnet::NcfArchitecture::mlp);
    d.learning_rate = 1e30;
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(d).fit(all), cfnet::NumericalError);
}

TEST_CASE("NeuralCF on MovieLens 100K (notebook split, 2 epochs)", "[neural_cf][ml100k]") {
    const auto data = cfnet::movielens::load<float>(cfnet_test::ml100k_dir());
    const auto split = cfnet::split_from_heldout_file(data.ratings, cfnet_test::notebook_split_file());
    REQUIRE(split.train.nnz() == 80367);
    auto o = cfnet::NeuralCFOptions::notebook();
    o.epochs = 2;
    cfnet::NeuralCF<float> m(o);
    const auto h = m.fit(split.train);
    REQUIRE(h.size() == 2);
    // the notebook's Keras run: loss ~5.8 then ~0.91; val_loss ~1.06 then ~0.89
    CHECK(h[0].loss > 2.0);
    CHECK(h[1].loss < 1.0);
    CHECK(h[1].metric("val_loss").value() < 0.95);
    const double r =
        cfnet::evaluate_rating(split.test, [&](index_type u, index_type i) { return m.predict(u, i); }).rmse;
    CHECK(r < 0.99);
}

TEST_CASE("NeuralCF: item_embeddings are the item tables of each architecture; GMF scores are their dot products", "[neural_cf]") {
    const auto all = low_rank<float>(30, 25, 0.4, 3);
    for (auto arch : {cfnet::NcfArchitecture::mlp, cfnet::NcfArchitecture::gmf, cfnet::NcfArchitecture::neumf}) {
        cfnet::NeuralCF<float> m(small_options(arch));
        CHECK_THROWS_AS(m.item_embeddings(), cfnet::InvalidArgument);
        m.fit(all);
        const auto emb = m.item_embeddings();
        std::vector<std::string> expected;
        if (arch != cfnet::NcfArchitecture::gmf) expected.push_back("item_mlp");
        if (arch != cfnet::NcfArchitecture::mlp) expected.push_back("item_gmf");
        REQUIRE(emb.size() == expected.size());
        const auto named = m.named_tensors();
        for (std::size_t t = 0; t < emb.size(); ++t) {
            const auto it = std::find_if(named.begin(), named.end(), [&](const auto& n) { return n.name == expected[t]; });
            REQUIRE(it != named.end());
            CHECK(emb[t]->shape(0) == all.n_items());
            CHECK(emb[t]->shape(1) == 8);
            CHECK(emb[t] == it->tensor);  // a view of the weights save() stores, not a copy
        }
        if (arch != cfnet::NcfArchitecture::gmf) continue;
        // GMF without bias terms: predict(u, i) = sum_k w_k P[u][k] Q[i][k] + b, with Q = item_embeddings()[0]
        const cfnet::Matrix<float>* p = nullptr;
        const cfnet::Matrix<float>* w = nullptr;
        const cfnet::Matrix<float>* b = nullptr;
        for (const auto& n : named) {
            if (n.name == "user_gmf") p = n.tensor;
            if (n.name == "output.weight") w = n.tensor;
            if (n.name == "output.bias") b = n.tensor;
        }
        REQUIRE((p && w && b));
        const auto& q = *emb[0];
        for (index_type u : {0u, 7u})
            for (index_type i : {0u, 5u, 24u}) {
                double s = b->data()[0];
                for (std::size_t k = 0; k < 8; ++k) s += double(w->data()[k]) * (*p)(u, k) * q(i, k);
                CHECK(m.predict(u, i) == Approx(s).epsilon(1e-5));
            }
    }
}
