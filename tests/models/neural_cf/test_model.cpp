// NeuralCF: whole-model gradient checks, negative sampling, recommend, learning on synthetic data,
// determinism, save/load, errors, and one short MovieLens 100K run.
#include <cfnet/data/movielens.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <catch2/catch.hpp>

#include "support/ml100k.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using cfnet::index_type;

/// A low-rank synthetic rating matrix: rating = clamp(round(3 + 1.5 <p_u, q_i>)) on ~`density` of
/// the cells, ids 1..n (users) and 101..100+n (items).
template <class T>
cfnet::RatingMatrix<T> low_rank(std::size_t users, std::size_t items, double density, std::uint64_t seed) {
    cfnet::Rng rng(seed);
    const std::size_t rank = 3;
    std::vector<double> p(users * rank), q(items * rank);
    for (auto& v : p) v = rng.normal();
    for (auto& v : q) v = rng.normal();
    std::vector<cfnet::Rating<T>> r;
    for (std::size_t u = 0; u < users; ++u)
        for (std::size_t i = 0; i < items; ++i) {
            if (rng.uniform() >= density) continue;
            double s = 0;
            for (std::size_t k = 0; k < rank; ++k) s += p[u * rank + k] * q[i * rank + k];
            const double v = std::min(5.0, std::max(1.0, std::round(3.0 + 0.9 * s)));
            r.push_back({static_cast<cfnet::id_type>(u + 1), static_cast<cfnet::id_type>(101 + i), static_cast<T>(v), 0});
        }
    return cfnet::RatingMatrix<T>::from_ratings(r);
}

cfnet::NeuralCFOptions small_options(cfnet::NcfArchitecture a, cfnet::Feedback f = cfnet::Feedback::ratings) {
    cfnet::NeuralCFOptions o;
    o.architecture = a;
    o.feedback = f;
    o.embedding_dim = 8;
    o.hidden = {16, 8};
    o.batch_size = 64;
    o.epochs = 3;
    o.seed = 7;
    return o;
}

bool same_recs(const std::vector<cfnet::Recommendation<float>>& a, const std::vector<cfnet::Recommendation<float>>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (a[k].item != b[k].item || !(a[k].score == b[k].score)) return false;
    return true;
}

/// Records the order of the callback hooks.
struct RecordingCallback : cfnet::Callback {
    std::string log;
    int stop_after = 0;
    void on_train_begin(int epochs, std::size_t) override { log += "B" + std::to_string(epochs); }
    void on_epoch_begin(int e) override { log += "e" + std::to_string(e); }
    void on_batch_end(std::size_t, double) override { log += "."; }
    bool on_epoch_end(const cfnet::EpochRecord& r) override {
        log += "E";
        return stop_after > 0 && r.epoch >= stop_after;
    }
    void on_train_end(const cfnet::History& h) override { log += "T" + std::to_string(h.size()); }
};

}  // namespace

TEST_CASE("NeuralCF: callbacks see every hook; any callback can stop; id maps") {
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

TEST_CASE("NeuralCF options: the defaults are the notebook's model") {
    const cfnet::NeuralCFOptions o;
    CHECK(o.architecture == cfnet::NcfArchitecture::mlp);
    CHECK(o.feedback == cfnet::Feedback::ratings);
    CHECK(o.embedding_dim == 32);
    CHECK((o.hidden == std::vector<std::size_t>{128, 64}));
    CHECK(o.learning_rate == 1e-3);
    CHECK(o.batch_size == 1024);
    CHECK(o.epochs == 10);
    CHECK(o.validation_fraction == 0.2);
    CHECK(o.negatives == 4);
    CHECK(o.dropout == 0.0);
    CHECK(!o.bias_terms);
    CHECK(!o.early_stopping);
    cfnet::NeuralCF<float> m;
    m.initialize(10, 20);
    const auto t = m.named_tensors();
    REQUIRE(t.size() == 8);
    CHECK(t[0].name == "user_mlp");
    CHECK(t[0].tensor->shape(1) == 32);
    CHECK(t[2].name == "dense0.weight");
    CHECK(t[2].tensor->shape(0) == 64);
    CHECK(t[2].tensor->shape(1) == 128);
    CHECK(t[6].name == "output.weight");
    CHECK(t[6].tensor->shape(0) == 64);
    // Keras' initialisers: embeddings in [-0.05, 0.05], biases zero
    for (const auto v : *t[0].tensor) CHECK(std::abs(v) <= 0.05f);
    for (const auto v : *t[3].tensor) CHECK(v == 0.0f);
}

TEST_CASE("NeuralCF: whole-model gradient check per architecture (double)") {
    using A = cfnet::NcfArchitecture;
    using F = cfnet::Feedback;
    struct Case {
        A arch;
        F fb;
    };
    const Case cases[] = {{A::mlp, F::ratings}, {A::gmf, F::ratings}, {A::neumf, F::ratings}, {A::neumf, F::implicit},
                          {A::mlp, F::implicit}};
    for (const auto& c : cases) {
        cfnet::NeuralCFOptions o;
        o.architecture = c.arch;
        o.feedback = c.fb;
        o.embedding_dim = 3;
        o.hidden = {5, 4};
        o.bias_terms = true;
        o.l2 = 0.1;
        o.dense_l2 = 0.05;
        o.seed = 3;
        cfnet::NeuralCF<double> m(o);
        m.initialize(4, 6);
        // Larger weights than the default init so that every path has a visible gradient.
        cfnet::Rng rng(11);
        for (auto* p : m.parameters())
            for (auto& v : p->value) v = rng.uniform(-0.8, 0.8);
        const std::vector<index_type> users{0, 1, 2, 3, 1, 0, 2};  // repeats accumulate
        const std::vector<index_type> items{0, 5, 2, 2, 1, 0, 4};
        std::vector<double> targets{4, 2, 5, 1, 3, 4, 2};
        if (c.fb == F::implicit) targets = {1, 0, 1, 0, 0, 1, 0};
        const auto n = users.size();
        m.compute_gradients(users.data(), items.data(), targets.data(), n);
        auto loss = [&] { return m.compute_loss(users.data(), items.data(), targets.data(), n); };
        cfnet::testing::GradCheckOptions go;
        go.tolerance = 1e-6;
        for (auto* p : m.parameters()) {
            const cfnet::Matrix<double> g = p->grad;
            const auto r = cfnet::testing::check_gradient(loss, p->value.data(), g.data(), p->size(), p->name, go);
            INFO(cfnet::to_string(c.arch) << " " << cfnet::to_string(c.fb) << ": " << r.log);
            CHECK(r);
        }
        // the embedding rows of users/items absent from the batch get no gradient (bar none here: item 3)
        const auto params = m.parameters();
        const auto& item_table = *params[1];
        for (std::size_t j = 0; j < item_table.cols(); ++j) CHECK(item_table.grad(3, j) == 0.0);
    }
}

TEST_CASE("sample_negatives: never a positive of the user, N per positive, resampled") {
    const auto m = low_rank<float>(30, 25, 0.4, 5);
    cfnet::Rng rng(1);
    cfnet::ImplicitSamples<float> s1, s2;
    cfnet::sample_negatives(m, 4, rng, s1);
    REQUIRE(s1.size() == m.nnz() * 5);
    std::size_t pos = 0;
    for (std::size_t k = 0; k < s1.size(); ++k) {
        const auto seen = m.user_items(s1.users[k]);
        const bool is_seen = std::binary_search(seen.begin(), seen.end(), s1.items[k]);
        if (s1.labels[k] == 1.0f) {
            ++pos;
            CHECK(is_seen);
        } else {
            REQUIRE(s1.labels[k] == 0.0f);
            CHECK(!is_seen);
        }
    }
    CHECK(pos == m.nnz());
    cfnet::sample_negatives(m, 4, rng, s2);
    CHECK(s1.users == s2.users);
    CHECK(s1.items != s2.items);  // a new draw

    // a user who rated every item leaves nothing to sample
    std::vector<cfnet::Rating<float>> full{{1, 1, 1.f, 0}, {1, 2, 1.f, 0}, {2, 1, 1.f, 0}};
    const auto f = cfnet::RatingMatrix<float>::from_ratings(full);
    CHECK_THROWS_AS(cfnet::sample_negatives(f, 1, rng, s1), cfnet::InvalidArgument);
}

TEST_CASE("NeuralCF explicit: learns a synthetic low-rank problem, every architecture") {
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

TEST_CASE("NeuralCF implicit: ranks held-out positives far above chance") {
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

TEST_CASE("NeuralCF: recommend excludes seen items, batch == single, scores == predict") {
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

TEST_CASE("NeuralCF: scoring through the fused Dense kernels equals the GEMM path and predict") {
    // kernels/dense.hpp's kernels themselves are checked in tests/kernels/test_dense.cpp.
    if (!cfnet::kernels::avx512_tiles<float>(16)) {
        WARN("no AVX-512 on this CPU: the fused kernels are not used, nothing to compare");
        return;
    }
    // Through the model: score_items with the kernel == without it, and == predict
    const auto all = low_rank<float>(40, 30, 0.4, 8);
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.hidden = {32, 16};
    cfnet::NeuralCF<float> m(o);
    m.fit(all);
    for (index_type u = 0; u < 5; ++u) {
        const auto fused = m.score_items(u);
        cfnet::kernels::simd_dispatch_enabled() = false;
        const auto plain = m.score_items(u);
        cfnet::kernels::simd_dispatch_enabled() = true;
        for (index_type i = 0; i < all.n_items(); ++i) {
            CHECK(fused[i] == Approx(plain[i]).epsilon(1e-5));
            CHECK(fused[i] == m.predict(u, i));
        }
    }
}

TEST_CASE("NeuralCF: the same seed gives the same history and predictions; another seed differs") {
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

TEST_CASE("NeuralCF: early stopping restores the best epoch") {
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

TEST_CASE("NeuralCF: fan_in_uniform Dense init and refit on all training pairs") {
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.dense_init = cfnet::DenseInit::fan_in_uniform;
    cfnet::NeuralCF<float> m(o);
    m.initialize(10, 12);
    const auto named = m.named_tensors();
    bool saw_nonzero_bias = false;
    for (const auto& t : named) {
        // dense0: fan_in 2*8, dense1: 16, output: 8 (gmf) + 8 (mlp)
        double fan_in = 0;
        if (t.name.rfind("dense0.", 0) == 0) fan_in = 16;
        else if (t.name.rfind("dense1.", 0) == 0) fan_in = 16;
        else if (t.name.rfind("output.", 0) == 0) fan_in = 16;
        else continue;
        const double b = 1.0 / std::sqrt(fan_in);
        double mx = 0;
        for (const auto v : *t.tensor) mx = std::max(mx, std::abs(static_cast<double>(v)));
        CHECK(mx <= b);
        if (t.name.find("bias") != std::string::npos && mx > 0) saw_nonzero_bias = true;
        if (t.name == "dense0.weight") CHECK(mx > 0.8 * b);  // 256 draws fill the range
    }
    CHECK(saw_nonzero_bias);
    CHECK(cfnet::parse_dense_init("fan_in_uniform") == cfnet::DenseInit::fan_in_uniform);
    CHECK_THROWS_AS(cfnet::parse_dense_init("xavier"), cfnet::InvalidArgument);

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

TEST_CASE("NeuralCF: save/load round trip predicts bit-identically") {
    const auto all = low_rank<float>(30, 25, 0.4, 6);
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.bias_terms = true;
    o.unseen_fallback = true;
    o.dropout = 0.1;
    o.dense_init = cfnet::DenseInit::fan_in_uniform;
    cfnet::NeuralCF<float> m(o);
    m.fit(all);
    const std::string path = "test_neural_cf_roundtrip.cfnet";
    m.save(path);
    const auto l = cfnet::NeuralCF<float>::load(path);
    std::remove(path.c_str());
    CHECK(l.options().architecture == cfnet::NcfArchitecture::neumf);
    CHECK(l.options().hidden == o.hidden);
    CHECK(l.options().dropout == o.dropout);
    CHECK(l.options().dense_init == o.dense_init);
    for (index_type u = 0; u < all.n_users(); ++u) {
        CHECK(m.score_items(u) == l.score_items(u));
        CHECK(same_recs(m.recommend(u, 5), l.recommend(u, 5)));
    }
    CHECK(m.predict_id(3, 105) == l.predict_id(3, 105));
    CHECK_THROWS_AS(l.predict_id(3, 99999), cfnet::InvalidArgument);
    // damaged configuration: an IoError naming the file and the key, for each kind of value
    m.save(path);
    const auto good = cfnet::read_model_file<float>(path);
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"options.dropout", "0.2.1"}, {"options.batch_size", "-1"}, {"options.hidden", "16 x"},
             {"options.bias_terms", "true"}, {"user_ids", "1 2 z"}, {"n_items", "1e3"}, {"fallback.mu", ""},
             {"options.architecture", "cnn"}}) {
        auto f = good;
        f.metadata[key] = value;
        cfnet::save_model_file(path, f);
        INFO(key);
        CHECK_THROWS_AS(cfnet::NeuralCF<float>::load(path), cfnet::IoError);
        CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(path), Catch::Contains("'" + key + "'") && Catch::Contains(path));
    }
    auto f = good;
    f.metadata.erase("options.seed");
    cfnet::save_model_file(path, f);
    CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(path), Catch::Contains("metadata key 'options.seed' is missing"));
    std::remove(path.c_str());
    CHECK_THROWS_AS(cfnet::NeuralCF<float>::load("does_not_exist.cfnet"), cfnet::IoError);
    cfnet::NeuralCF<float> unfitted;
    CHECK_THROWS_AS(unfitted.save(path), cfnet::InvalidArgument);
}

TEST_CASE("NeuralCF: errors for unknown ids, bad indices and bad configurations") {
    using cfnet::InvalidArgument;
    auto bad = [](auto change) {
        cfnet::NeuralCFOptions o;
        change(o);
        return o;
    };
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.embedding_dim = 0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.hidden.clear(); })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.hidden = {8, 0}; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.dropout = 1.0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.learning_rate = 0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.batch_size = 0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.epochs = 0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.validation_fraction = 1.0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::NeuralCF<float>(bad([](auto& o) { o.negatives = 0; })), InvalidArgument);
    CHECK_THROWS_AS(cfnet::parse_architecture("cnn"), InvalidArgument);
    CHECK_NOTHROW(cfnet::NeuralCF<float>(bad([](auto& o) {
        o.architecture = cfnet::NcfArchitecture::gmf;
        o.hidden.clear();  // gmf has no MLP tower
    })));

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

TEST_CASE("NeuralCF on MovieLens 100K (notebook split, 2 epochs)") {
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
