// AutoencoderCF, the model API: fold-in and batched recommendation, learning a low-rank problem,
// determinism, save/load, errors, and a short run on MovieLens 100K.
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>

#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::index_type;
using cfnet::RatingMatrix;

namespace {

// Low-rank ratings: r = clamp(round(3 + 1.5 * <p_u, q_i>), 1, 5) with 2 factors, each user rating
// half the items; `test_every` puts every k-th rating of a user into test.
struct LowRank {
    cfnet::Split<float> split;
};

LowRank low_rank(std::size_t n_users, std::size_t n_items, std::uint64_t seed) {
    cfnet::Rng rng(seed);
    std::vector<std::array<double, 2>> p(n_users), q(n_items);
    for (auto& v : p) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    for (auto& v : q) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    std::vector<cfnet::Rating<float>> r;
    for (std::size_t u = 0; u < n_users; ++u)
        for (auto i : rng.sample(n_items, n_items / 2)) {
            const double x = 3 + 1.5 * (p[u][0] * q[i][0] + p[u][1] * q[i][1]) * 2;
            r.push_back({static_cast<cfnet::id_type>(u), static_cast<cfnet::id_type>(i),
                         static_cast<float>(std::min(5.0, std::max(1.0, std::round(x)))), 0});
        }
    const auto all = RatingMatrix<float>::from_ratings(r);
    cfnet::Rng pick(seed + 1);
    std::vector<char> in_test(all.nnz());
    for (auto& t : in_test) t = pick.uniform() < 0.15;
    LowRank out;
    out.split.train = all.filter([&](std::size_t k) { return !in_test[k]; });
    out.split.test = all.filter([&](std::size_t k) { return in_test[k] != 0; });
    return out;
}

AutoencoderOptions small_options() {
    AutoencoderOptions o;
    o.hidden = {32, 8, 32};
    o.batch_size = 16;
    o.epochs = 60;
    o.learning_rate = 3e-3;
    return o;
}

std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() / (std::string("cfnet_ae_") + name)).string();
}

}  // namespace

TEST_CASE("AutoencoderCF: learns a low-rank problem to a held-out RMSE bound", "[autoencoder]") {
    const auto lr = low_rank(120, 40, 1);
    const auto& train = lr.split.train;
    const auto& test = lr.split.test;
    AutoencoderCF<float> model(small_options());
    const auto h = model.fit(train, test);
    CHECK(h[h.size() - 1].loss < 0.5 * h[0].loss);
    const auto pred = model.predict(train, test);
    REQUIRE(pred.size() == test.nnz());
    double se = 0, se_mean = 0;
    const double mu = train.mean();
    for (std::size_t k = 0; k < pred.size(); ++k) {
        se += std::pow(pred[k] - test.values()[k], 2);
        se_mean += std::pow(mu - test.values()[k], 2);
    }
    const double rmse = std::sqrt(se / pred.size()), rmse_mean = std::sqrt(se_mean / pred.size());
    INFO("rmse " << rmse << ", global-mean rmse " << rmse_mean);
    CHECK(rmse < 0.75 * rmse_mean);
    // the history's validation RMSE is the same computation
    CHECK(h[h.size() - 1].metric("val_rmse").value() == Approx(rmse).epsilon(1e-5));

    // the item-based orientation learns it too
    AutoencoderCF<float> items(AutoencoderOptions(small_options()).item_based());
    items.fit(train);
    const auto pi = items.predict(train, test);
    double se_i = 0;
    for (std::size_t k = 0; k < pi.size(); ++k) se_i += std::pow(pi[k] - test.values()[k], 2);
    INFO("item-based rmse " << std::sqrt(se_i / pi.size()));
    CHECK(std::sqrt(se_i / pi.size()) < 0.8 * rmse_mean);
    // item-based scoring of a user's items equals pairwise predict, and recommend_batch == recommend
    std::vector<float> scores(train.n_items());
    items.score_items(train, 3, scores.data());
    std::vector<std::pair<index_type, index_type>> pairs;
    for (index_type i = 0; i < train.n_items(); ++i) pairs.emplace_back(3, i);
    const auto p3 = items.predict(train, pairs);
    for (std::size_t i = 0; i < p3.size(); ++i) CHECK(scores[i] == Approx(p3[i]).epsilon(1e-5).margin(1e-6));
    items.recommend_batch(train, {3, 4}, 5, [&](index_type u, const std::vector<cfnet::Recommendation<float>>& recs) {
        const auto one = items.recommend(train, u, 5);
        REQUIRE(one.size() == recs.size());
        for (std::size_t j = 0; j < recs.size(); ++j) {
            CHECK(one[j].item == recs[j].item);
            CHECK_FALSE(train.contains(u, recs[j].item));
        }
    });
}

TEST_CASE("AutoencoderCF: the autorec preset (full-batch L-BFGS) learns a low-rank problem", "[autoencoder][lbfgs]") {
    const auto lr = low_rank(120, 40, 11);
    const auto& train = lr.split.train;
    const auto& test = lr.split.test;
    auto o = AutoencoderOptions::autorec();
    CHECK(o.solver == cfnet::Solver::lbfgs);
    CHECK(o.orientation == cfnet::Orientation::item_based);
    CHECK(o.hidden == std::vector<std::size_t>{500});
    o.hidden = {40};
    o.l2_lambda = 5;
    o.epochs = 60;
    AutoencoderCF<float> model(o);
    int begins = 0, ends = 0, batches = 0;
    struct Counter : cfnet::Callback {
        int *b, *e, *s;
        Counter(int* b_, int* e_, int* s_) : b(b_), e(e_), s(s_) {}
        void on_epoch_begin(int) override { ++*b; }
        void on_batch_end(std::size_t, double) override { ++*s; }
        bool on_epoch_end(const cfnet::EpochRecord&) override { ++*e; return false; }
    } counter(&begins, &ends, &batches);
    const auto h = model.fit(train, test, {&counter});
    // every iteration is an accepted L-BFGS step (a wrong gradient would stop the line search
    // early) and the objective decreases monotonically
    REQUIRE(h.size() == 60);
    CHECK(begins == 60);
    CHECK(ends == 60);
    CHECK(batches == 60);
    for (std::size_t e = 1; e < h.size(); ++e) CHECK(h[e].loss <= h[e - 1].loss);
    const auto pred = model.predict(train, test);
    double se = 0, se_mean = 0;
    const double mu = train.mean();
    for (std::size_t k = 0; k < pred.size(); ++k) {
        CHECK((pred[k] >= 1.0f && pred[k] <= 5.0f));  // clamped
        se += std::pow(pred[k] - test.values()[k], 2);
        se_mean += std::pow(mu - test.values()[k], 2);
    }
    const double rmse = std::sqrt(se / pred.size()), rmse_mean = std::sqrt(se_mean / pred.size());
    INFO("L-BFGS autorec rmse " << rmse << ", global-mean rmse " << rmse_mean);
    CHECK(rmse < 0.7 * rmse_mean);
    CHECK(h[h.size() - 1].metric("val_rmse").value() == Approx(rmse).epsilon(1e-5));

    // deterministic; save/load round trip keeps the solver settings and the predictions
    AutoencoderCF<float> again(o);
    const auto h2 = again.fit(train);
    for (std::size_t e = 0; e < h2.size(); ++e) CHECK(h2[e].loss == h[e].loss);
    const auto path = temp_path("autorec.cfnet");
    model.save(path);
    CHECK_THROWS_WITH(model.save(path, true), Catch::Matchers::Contains("no optimizer state"));
    const auto loaded = AutoencoderCF<float>::load(path, train);
    CHECK(loaded.options().solver == cfnet::Solver::lbfgs);
    CHECK(loaded.options().l2_lambda == 5.0);
    CHECK(loaded.predict(train, test) == pred);
    std::filesystem::remove(path);

    // the L2 term matters: lambda = 0 fits the training ratings more closely
    AutoencoderCF<float> free_fit(AutoencoderOptions(o).lbfgs(0.0, 60));
    const auto hf = free_fit.fit(train);
    CHECK(hf[hf.size() - 1].loss < h[h.size() - 1].loss);

    // an item without training ratings is scored by the bias baseline, not the network
    std::vector<cfnet::Rating<float>> r;
    for (index_type u = 0; u < train.n_users(); ++u)
        for (std::size_t k = 0; k < train.user_items(u).size(); ++k)
            r.push_back({train.users().id(u), train.items().id(train.user_items(u)[k]), train.user_ratings(u)[k], 0});
    r.push_back({train.users().id(0), 999, 4.0f, 0});  // item 999 only in "test"
    const auto all = RatingMatrix<float>::from_ratings(r);
    const index_type cold = all.items().index(999);
    const auto split2 = cfnet::split_from_mask(all, [&] {
        std::vector<std::uint8_t> m(all.nnz(), 0);
        const auto its = all.user_items(0);
        for (std::size_t k = 0; k < its.size(); ++k)
            if (its[k] == cold) m[all.row_ptr()[0] + k] = 1;
        return m;
    }());
    AutoencoderCF<float> cold_model(AutoencoderOptions(o).lbfgs(5.0, 5));
    cold_model.fit(split2.train);
    cfnet::BiasBaseline<float> bias;
    bias.fit(split2.train);
    const auto pc = cold_model.predict(split2.train, {{0, cold}});
    CHECK(pc[0] == Approx(std::min(5.0f, std::max(1.0f, bias.predict(0, cold)))).epsilon(1e-6));
    CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions(o).dropout(0.1, 0)), Catch::Matchers::Contains("dropout"));
    CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions(o).l2(0.1)), Catch::Matchers::Contains("l2_lambda"));
}

TEST_CASE("AutoencoderCF: fold-in recommend excludes rated items and equals batched recommend", "[autoencoder]") {
    const auto lr = low_rank(60, 30, 2);
    const auto& train = lr.split.train;
    auto o = small_options();
    o.epochs = 3;
    AutoencoderCF<float> model(o);
    model.fit(train);
    std::vector<index_type> users{0, 5, 17, 59};
    std::vector<std::vector<cfnet::Recommendation<float>>> batched;
    std::vector<index_type> order;
    model.recommend_batch(train, users, 10, [&](index_type u, const std::vector<cfnet::Recommendation<float>>& recs) {
        order.push_back(u);
        batched.push_back(recs);
    });
    REQUIRE(order == users);
    REQUIRE(batched.size() == users.size());
    for (std::size_t r = 0; r < users.size(); ++r) {
        const auto items = train.user_items(users[r]);
        const auto vals = train.user_ratings(users[r]);
        const std::vector<index_type> it(items.begin(), items.end());
        const std::vector<float> va(vals.begin(), vals.end());
        const auto single = model.recommend(it, va, 10);
        REQUIRE(single.size() == batched[r].size());
        REQUIRE(single.size() == std::min<std::size_t>(10, train.n_items() - it.size()));
        for (std::size_t j = 0; j < single.size(); ++j) {
            CHECK(single[j].item == batched[r][j].item);
            CHECK(single[j].score == Approx(batched[r][j].score).epsilon(1e-5));
            CHECK_FALSE(train.contains(users[r], single[j].item));
            if (j > 0) CHECK(single[j - 1].score >= single[j].score);
        }
        // recommend for a user of the input matrix is the same list
        const auto by_index = model.recommend(train, users[r], 10);
        REQUIRE(by_index.size() == single.size());
        for (std::size_t j = 0; j < single.size(); ++j) CHECK(by_index[j].item == single[j].item);
        // predictions for the user's pairs from predict() equal predict_user() and score_items()
        const auto full = model.predict_user(it, va);
        std::vector<float> scores(train.n_items());
        model.score_items(train, users[r], scores.data());
        for (std::size_t i = 0; i < scores.size(); ++i) CHECK(scores[i] == Approx(full[i]).epsilon(1e-5));
        const std::vector<std::pair<index_type, index_type>> pairs{{users[r], 3}, {users[r], 7}};
        const auto p = model.predict(train, pairs);
        CHECK(p[0] == Approx(full[3]).epsilon(1e-5));
        CHECK(p[1] == Approx(full[7]).epsilon(1e-5));
        // the order in which a user's ratings are given does not matter
        std::vector<index_type> rit(it.rbegin(), it.rend());
        std::vector<float> rva(va.rbegin(), va.rend());
        CHECK(model.recommend(rit, rva, 10)[0].item == single[0].item);
        // exclude_seen = false may return rated items and ranks all of them
        CHECK(model.recommend(it, va, train.n_items(), false).size() == train.n_items());
    }
    // a user never seen in training (fold-in): three ratings
    const auto rec = model.recommend({1, 4, 9}, {5.0f, 1.0f, 4.0f}, 5);
    REQUIRE(rec.size() == 5);
    for (const auto& x : rec) CHECK((x.item != 1 && x.item != 4 && x.item != 9));

    // evaluate_ranking through a Scorer
    const auto rep = cfnet::evaluate_ranking(train, lr.split.test, 5, model.make_scorer(train));
    CHECK(rep.users_evaluated > 0);
}

TEST_CASE("AutoencoderCF: same seed, same history; another seed, another", "[autoencoder]") {
    const auto lr = low_rank(50, 30, 3);
    auto o = small_options();
    o.epochs = 3;
    o.input_dropout = 0.2;
    o.hidden_dropout = 0.1;
    AutoencoderCF<float> a(o), b(o), c(AutoencoderOptions(o).random_seed(7));
    const auto ha = a.fit(lr.split.train), hb = b.fit(lr.split.train), hc = c.fit(lr.split.train);
    for (std::size_t e = 0; e < ha.size(); ++e) {
        CHECK(ha[e].loss == hb[e].loss);
        CHECK(ha[e].loss != hc[e].loss);
    }
    auto pa = a.parameters(), pb = b.parameters();
    for (std::size_t k = 0; k < pa.size(); ++k) CHECK((pa[k]->value == pb[k]->value));
}

TEST_CASE("AutoencoderCF: save/load round trip gives bit-identical predictions", "[autoencoder]") {
    const auto lr = low_rank(50, 30, 4);
    const auto& train = lr.split.train;
    for (const bool item_based : {false, true}) {
        auto o = small_options();
        o.epochs = 2;
        o.hidden_activation = cfnet::ActivationKind::tanh;
        o.clamp(1, 5).fallback().item_based(item_based);
        AutoencoderCF<float> model(o);
        model.fit(train);
        const auto path = temp_path("roundtrip.cfnet");
        model.save(path, true);
        const auto loaded = AutoencoderCF<float>::load(path, train);
        const auto p1 = model.predict(train, lr.split.test);
        const auto p2 = loaded.predict(train, lr.split.test);
        CHECK(p1 == p2);
        CHECK(loaded.options().hidden == o.hidden);
        CHECK(loaded.options().orientation == o.orientation);
        CHECK(loaded.options().clamp_max.value() == 5.0);
        CHECK(loaded.user_map() == train.users());
        CHECK(loaded.item_map() == train.items());
        for (const float v : p1) CHECK((v >= 1.0f && v <= 5.0f));
        // a copy is independent and predicts the same
        AutoencoderCF<float> copy = loaded;
        CHECK(copy.predict(train, lr.split.test) == p1);
        std::filesystem::remove(path);
    }
}

TEST_CASE("AutoencoderCF: bad input gives clear errors", "[autoencoder]") {
    using Catch::Matchers::Contains;
    const auto lr = low_rank(40, 20, 5);
    const auto& train = lr.split.train;
    auto o = small_options();
    o.epochs = 1;

    SECTION("options") {
        CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions().hidden_sizes({})), Contains("hidden layer"));
        CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions().dropout(1.0, 0)), Contains("input_dropout"));
        CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions().batch(0)), Contains("batch_size"));
    }
    SECTION("empty training matrix") {
        AutoencoderCF<float> m(o);
        CHECK_THROWS_AS(m.fit(train.filter([](std::size_t) { return false; })), cfnet::InvalidArgument);
        CHECK_THROWS_WITH(m.fit(RatingMatrix<float>()), Contains("no ratings"));
    }
    SECTION("not fitted") {
        AutoencoderCF<float> m(o);
        CHECK_THROWS_WITH(m.predict_user({0}, {3.0f}), Contains("not fitted"));
        CHECK_THROWS_WITH(m.save(temp_path("never.cfnet")), Contains("not fitted"));
    }
    SECTION("unknown indices and malformed fold-in input") {
        AutoencoderCF<float> m(o);
        m.fit(train);
        const auto nu = static_cast<index_type>(train.n_users()), ni = static_cast<index_type>(train.n_items());
        CHECK_THROWS_WITH(m.predict(train, {{nu, 0}}), Contains("outside"));
        CHECK_THROWS_WITH(m.predict(train, {{0, ni}}), Contains("outside"));
        CHECK_THROWS_WITH(m.predict_user({ni}, {3.0f}), Contains("out of range"));
        CHECK_THROWS_WITH(m.recommend({1, 1}, {3.0f, 4.0f}, 3), Contains("repeated"));
        CHECK_THROWS_WITH(m.predict_user({1, 2}, {3.0f}), Contains("2 items but 1 ratings"));
        CHECK_THROWS_WITH(m.recommend(train, nu, 3), Contains("out of range"));
        CHECK_THROWS_WITH(m.recommend_batch(train, {0, nu}, 3, [](index_type, const auto&) { FAIL("sink called"); }),
                          Contains("out of range"));
        std::vector<float> s(train.n_items());
        CHECK_THROWS_WITH(m.score_items(train, nu, s.data()), Contains("out of range"));
    }
    SECTION("mismatched item space") {
        AutoencoderCF<float> m(o);
        m.fit(train);
        const auto path = temp_path("space.cfnet");
        m.save(path);
        const auto other = low_rank(40, 25, 6).split.train;  // 25 items instead of 20
        CHECK_THROWS_WITH(AutoencoderCF<float>::load(path, other), Contains("mismatched item space"));
        CHECK_THROWS_WITH(m.predict(other, {{0, 0}}), Contains("mismatched item space"));
        // same count, other ids
        std::vector<cfnet::Rating<float>> r;
        for (std::size_t i = 0; i < train.n_items(); ++i) r.push_back({1, static_cast<cfnet::id_type>(100 + i), 3.0f, 0});
        CHECK_THROWS_WITH(AutoencoderCF<float>::load(path, RatingMatrix<float>::from_ratings(r)),
                          Contains("mismatched item space"));
        // a double model cannot read a float file
        CHECK_THROWS_AS(AutoencoderCF<double>::load(path), cfnet::InvalidArgument);
        // damaged configuration: an IoError naming the file and the key, for each kind of value
        const auto good = cfnet::read_model_file<float>(path);
        const auto bad_path = temp_path("bad_meta.cfnet");
        for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
                 {"learning_rate", "0.001x"}, {"batch_size", "-3"}, {"hidden", "512,,64"}, {"lazy_adam", "maybe"},
                 {"orientation", "diagonal"}, {"item_ids", "1,2,x"}, {"hidden_activation", "swish"}, {"seed", ""}}) {
            auto f = good;
            f.metadata[key] = value;
            cfnet::save_model_file(bad_path, f);
            INFO(key);
            CHECK_THROWS_AS(AutoencoderCF<float>::load(bad_path), cfnet::IoError);
            CHECK_THROWS_WITH(AutoencoderCF<float>::load(bad_path), Contains(bad_path));
            CHECK_THROWS_WITH(AutoencoderCF<float>::load(bad_path), Contains("'" + key + "'"));
        }
        auto f = good;
        f.metadata.erase("epochs");
        cfnet::save_model_file(bad_path, f);
        CHECK_THROWS_WITH(AutoencoderCF<float>::load(bad_path), Contains("metadata key 'epochs' is missing"));
        f = good;
        f.metadata["model"] = "NeuralCF";
        cfnet::save_model_file(bad_path, f);
        CHECK_THROWS_WITH(AutoencoderCF<float>::load(bad_path), Contains("holds a 'NeuralCF' model"));
        std::filesystem::remove(bad_path);
        std::filesystem::remove(path);
        CHECK_THROWS_AS(AutoencoderCF<float>::load(path), cfnet::IoError);
    }
    SECTION("fold-in needs the user-based orientation") {
        AutoencoderCF<float> m(AutoencoderOptions(o).item_based());
        m.fit(train);
        CHECK_THROWS_WITH(m.recommend({0}, {4.0f}, 3), Contains("user_based"));
    }
    SECTION("diverging training stops with NumericalError") {
        auto big = o;
        big.learning_rate = 1e30;
        big.epochs = 5;
        AutoencoderCF<float> m(big);
        CHECK_THROWS_AS(m.fit(train), cfnet::NumericalError);
    }
    SECTION("early stopping needs validation data") {
        AutoencoderCF<float> m(AutoencoderOptions(o).stop_early(cfnet::EarlyStopping{"val_rmse", 2}));
        CHECK_THROWS_WITH(m.fit(train), Contains("validation"));
    }
}

TEST_CASE("AutoencoderCF: early stopping restores the best epoch; callbacks are called", "[autoencoder]") {
    const auto lr = low_rank(60, 30, 7);
    auto o = small_options();
    o.epochs = 40;
    o.learning_rate = 3e-2;  // overfits fast
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 3;
    o.stop_early(es);
    AutoencoderCF<float> m(o);
    int calls = 0;
    cfnet::EpochCallback cb([&](const cfnet::EpochRecord&) { return ++calls >= 1000; });
    const auto h = m.fit(lr.split.train, lr.split.test, {&cb});
    CHECK(calls == static_cast<int>(h.size()));
    REQUIRE(h.best_epoch > 0);
    const double best = h[static_cast<std::size_t>(h.best_epoch - 1)].metric("val_rmse").value();
    for (std::size_t e = 0; e < h.size(); ++e) CHECK(h[e].metric("val_rmse").value() >= best);
    // the model holds the best epoch's weights
    const auto pred = m.predict(lr.split.train, lr.split.test);
    double se = 0;
    for (std::size_t k = 0; k < pred.size(); ++k) se += std::pow(pred[k] - lr.split.test.values()[k], 2);
    CHECK(std::sqrt(se / pred.size()) == Approx(best).epsilon(1e-5));
}

TEST_CASE("AutoencoderCF: the notebook configuration on MovieLens 100K (2 epochs)", "[autoencoder][ml100k]") {
    const auto all = cfnet::movielens::load<float>(cfnet_test::ml100k_dir()).ratings;
    const auto split = cfnet::split_from_heldout_file(all, cfnet_test::notebook_split_file());
    REQUIRE(split.train.nnz() == 80367);
    AutoencoderCF<float> m(AutoencoderOptions().n_epochs(2));
    const auto h = m.fit(split.train);
    REQUIRE(h.size() == 2);
    // the PyTorch peer's first epochs: 4.61, 1.43 (seed 42; another initial stream here)
    CHECK(h[0].loss > 2.5);
    CHECK(h[0].loss < 8.0);
    CHECK(h[1].loss < 0.6 * h[0].loss);
    const auto pred = m.predict(split.train, split.test);
    const auto rep = cfnet::evaluate_rating(split.test, [&, k = std::size_t(0)](index_type, index_type) mutable {
        return pred[k++];
    });
    INFO("RMSE after 2 epochs " << rep.rmse);
    CHECK(rep.rmse < 1.6);
}
