// models/autoencoder/fit.hpp: AutoencoderCF's training: exact and lazy Adam, full-batch L-BFGS
// (the autorec preset), validation and early stopping with restore-best, dropout, the errors of
// bad training input, and a short run on MovieLens 100K.
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/models/autoencoder/fit.hpp>

#include "support/autoencoder.hpp"
#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::index_type;
using cfnet::RatingMatrix;
using cfnet_test::low_rank_split;
using cfnet_test::model_path;
using cfnet_test::small_options;
using cfnet_test::sparse_ratings;

TEST_CASE("AutoencoderCF: lazy Adam differs from exact Adam but trains", "[autoencoder]") {
    const auto data = sparse_ratings<float>(40, 30, 8, 4);
    AutoencoderOptions o;
    o.hidden = {16, 8, 16};
    o.batch_size = 8;
    o.epochs = 8;
    AutoencoderCF<float> exact(o), lazy(AutoencoderOptions(o).lazy());
    const auto he = exact.fit(data);
    const auto hl = lazy.fit(data);
    CHECK(hl[hl.size() - 1].loss < hl[0].loss);
    CHECK(he[he.size() - 1].loss != hl[hl.size() - 1].loss);
}

TEST_CASE("AutoencoderCF: the autorec preset (full-batch L-BFGS) learns a low-rank problem", "[autoencoder][lbfgs]") {
    const auto lr = low_rank_split(120, 40, 11);
    const auto& train = lr.train;
    const auto& test = lr.test;
    auto o = AutoencoderOptions::autorec();
    CHECK(o.solver == cfnet::Solver::lbfgs);
    CHECK(o.orientation == cfnet::Orientation::item_based);
    CHECK(o.hidden == std::vector<std::size_t>{500});
    o.hidden = {40};
    o.l2_lambda = 5;
    o.epochs = 60;
    o.selection.reset();  // AutoencoderSelection has its own test
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
    const auto path = model_path("autorec.cfnet");
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

TEST_CASE("AutoencoderCF: selection tries every candidate on a validation part of the training data",
          "[autoencoder][selection]") {
    const auto lr = low_rank_split(80, 30, 13);
    auto o = AutoencoderOptions::autorec();
    o.hidden = {16};
    o.epochs = 12;
    cfnet::AutoencoderSelection sel;
    sel.lambdas = {0.5, 50.0};
    sel.try_residual = true;
    sel.patience = 3;
    o.select(sel);
    AutoencoderCF<float> model(o);
    model.fit(lr.train);
    const auto& cands = model.selection();
    REQUIRE(cands.size() == 4);  // plain x {0.5, 50}, then residual x {0.5, 50}
    CHECK_FALSE(cands[0].residual);
    CHECK(cands[3].residual);
    CHECK(cands[1].lambda == 50.0);
    const auto best = *std::min_element(cands.begin(), cands.end(),
                                        [](const auto& a, const auto& b) { return a.val_rmse < b.val_rmse; });
    CHECK(model.options().l2_lambda == best.lambda);
    CHECK(model.options().residual == best.residual);
    CHECK(model.options().epochs == best.best_epoch);
    CHECK(model.options().selection.has_value());  // a refit selects again

    // each candidate's figure is reproducible by hand from the TRAINING data alone: the same
    // stratified split, the candidate trained on its training part for best_epoch iterations,
    // scored on its held-out part
    const auto val = cfnet::stratified_split(lr.train, sel.validation_fraction, o.seed, cfnet::By::user);
    for (const auto& c : cands) {
        AutoencoderOptions co = o;
        co.selection.reset();
        co.residual = c.residual;
        co.lbfgs(c.lambda, c.best_epoch);
        AutoencoderCF<float> m(co);
        m.fit(val.train);
        INFO("lambda " << c.lambda << " residual " << c.residual << " epoch " << c.best_epoch);
        CHECK(cfnet::rmse(m.predict(val.train, val.test), val.test.values()) == Approx(c.val_rmse).epsilon(1e-6));
    }

    // the final model is the chosen options refitted on all the training data
    AutoencoderOptions chosen = model.options();
    chosen.selection.reset();
    AutoencoderCF<float> direct(chosen);
    direct.fit(lr.train);
    CHECK(direct.predict(lr.train, lr.test) == model.predict(lr.train, lr.test));

    // deterministic, and a second fit starts from the options as given (not the first fit's choice)
    AutoencoderCF<float> again(o);
    again.fit(lr.train);
    again.fit(lr.train);
    REQUIRE(again.selection().size() == cands.size());
    for (std::size_t k = 0; k < cands.size(); ++k) {
        CHECK(again.selection()[k].val_rmse == cands[k].val_rmse);
        CHECK(again.selection()[k].best_epoch == cands[k].best_epoch);
    }
    CHECK(again.options().epochs == model.options().epochs);
}

TEST_CASE("AutoencoderCF: early stopping restores the best epoch, and callbacks are called", "[autoencoder]") {
    const auto lr = low_rank_split(60, 30, 7);
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
    const auto h = m.fit(lr.train, lr.test, {&cb});
    CHECK(calls == static_cast<int>(h.size()));
    REQUIRE(h.best_epoch > 0);
    const double best = h[static_cast<std::size_t>(h.best_epoch - 1)].metric("val_rmse").value();
    for (std::size_t e = 0; e < h.size(); ++e) CHECK(h[e].metric("val_rmse").value() >= best);
    // the model holds the best epoch's weights
    const auto pred = m.predict(lr.train, lr.test);
    double se = 0;
    for (std::size_t k = 0; k < pred.size(); ++k) se += std::pow(pred[k] - lr.test.values()[k], 2);
    CHECK(std::sqrt(se / pred.size()) == Approx(best).epsilon(1e-5));
}

TEST_CASE("AutoencoderCF: input and hidden dropout change training, not prediction", "[autoencoder]") {
    const auto lr = low_rank_split(50, 30, 8);
    auto o = small_options();
    o.epochs = 4;
    AutoencoderCF<float> plain(o), input(AutoencoderOptions(o).dropout(0.3, 0)),
        hidden(AutoencoderOptions(o).dropout(0, 0.3));
    const auto hp = plain.fit(lr.train), hi = input.fit(lr.train), hh = hidden.fit(lr.train);
    REQUIRE(hi.size() == hp.size());
    REQUIRE(hh.size() == hp.size());
    for (std::size_t e = 0; e < hp.size(); ++e) {
        INFO("epoch " << e);
        CHECK(hi[e].loss != hp[e].loss);
        CHECK(hh[e].loss != hp[e].loss);
        CHECK(hi[e].loss != hh[e].loss);
    }
    CHECK(hi[hi.size() - 1].loss < hi[0].loss);
    CHECK(hh[hh.size() - 1].loss < hh[0].loss);
    // inference never drops: the same input gives the same prediction every time
    for (auto* m : {&input, &hidden}) {
        const auto p1 = m->predict(lr.train, lr.test);
        CHECK(m->predict(lr.train, lr.test) == p1);
        CHECK(m->predict_user({1, 4, 9}, {5.0f, 1.0f, 4.0f}) == m->predict_user({1, 4, 9}, {5.0f, 1.0f, 4.0f}));
    }
}

TEST_CASE_METHOD(cfnet_test::ErrorFixture, "AutoencoderCF: bad training input gives clear errors", "[autoencoder]") {
    SECTION("empty training matrix") {
        AutoencoderCF<float> m(o);
        CHECK_THROWS_AS(m.fit(train.filter([](std::size_t) { return false; })), cfnet::InvalidArgument);
        CHECK_THROWS_WITH(m.fit(RatingMatrix<float>()), Contains("no ratings"));
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
