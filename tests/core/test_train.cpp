#include <cfnet/train.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

using cfnet::EarlyStopping;
using cfnet::EarlyStoppingState;
using cfnet::EpochRecord;
using cfnet::History;

namespace {
History two_epochs() {
    History h;
    h.epochs.push_back({1, 0.5, {{"val_rmse", 1.25}}, 0.75});
    h.epochs.push_back({2, 0.25, {{"val_rmse", 1.0}, {"val_loss", 2.0}}, 1.5});
    h.best_epoch = 2;
    return h;
}
}  // namespace

TEST_CASE("History writes CSV and JSON", "[train]") {
    const auto h = two_epochs();
    std::ostringstream csv, json;
    h.write_csv(csv);
    CHECK(csv.str() == "epoch,loss,seconds,val_loss,val_rmse\n1,0.5,0.75,,1.25\n2,0.25,1.5,2,1\n");
    h.write_json(json);
    CHECK(json.str() ==
          "{\"best_epoch\": 2, \"stopped_early\": false, \"epochs\": [{\"epoch\": 1, \"loss\": 0.5, \"seconds\": 0.75, "
          "\"metrics\": {\"val_rmse\": 1.25}}, {\"epoch\": 2, \"loss\": 0.25, \"seconds\": 1.5, \"metrics\": "
          "{\"val_loss\": 2, \"val_rmse\": 1}}]}\n");
    History nan;
    nan.epochs.push_back({1, std::nan(""), {}, 0.0});
    std::ostringstream j2;
    nan.write_json(j2);
    CHECK(j2.str().find("\"loss\": null") != std::string::npos);
    CHECK_THROWS_AS(h.save_csv("/nonexistent-dir/h.csv"), cfnet::IoError);
}

TEST_CASE("EarlyStopping waits `patience` epochs without improvement and remembers the best", "[train]") {
    EarlyStopping cfg;
    cfg.monitor = "val_rmse";
    cfg.patience = 2;
    EarlyStoppingState s(cfg);
    auto rec = [](int e, double v) { return EpochRecord{e, 0.0, {{"val_rmse", v}}, 0.0}; };
    CHECK_FALSE(s.update(rec(1, 1.0)));
    CHECK(s.improved());
    CHECK_FALSE(s.update(rec(2, 0.9)));
    CHECK(s.best_epoch() == 2);
    CHECK_FALSE(s.update(rec(3, 0.95)));
    CHECK_FALSE(s.improved());
    CHECK(s.update(rec(4, 0.91)));  // second epoch without improvement: stop
    CHECK(s.best_epoch() == 2);

    cfg.maximize = true;
    cfg.monitor = "val_ndcg";
    EarlyStoppingState m(cfg);
    m.update(EpochRecord{1, 0, {{"val_ndcg", 0.1}}, 0});
    m.update(EpochRecord{2, 0, {{"val_ndcg", 0.3}}, 0});
    CHECK(m.best_epoch() == 2);
    CHECK_THROWS_WITH(m.update(EpochRecord{3, 0, {}, 0}),
                      "EarlyStopping: metric 'val_ndcg' is not recorded (is validation data given?)");
}

TEST_CASE("ProgressBar prints one plain line per epoch when not on a terminal", "[train]") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    cfnet::ProgressBar bar(f, false, "AE");
    bar.on_train_begin(2, 10);
    bar.on_epoch_begin(1);
    for (std::size_t s = 1; s <= 10; ++s) bar.on_batch_end(s, 0.5);
    bar.on_epoch_end(EpochRecord{1, 0.5, {{"val_rmse", 1.0}}, 0.25});
    std::rewind(f);
    char buf[256] = {};
    const auto n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    CHECK(std::string(buf, n) == "[AE] Epoch 1/2 - 0.25s - loss: 0.5000 - val_rmse: 1.0000\n");
}

TEST_CASE("A NaN or infinite loss stops training with a clear error", "[train]") {
    CHECK_NOTHROW(cfnet::check_finite_loss(1.0, 1, 1, "M"));
    CHECK_THROWS_AS(cfnet::check_finite_loss(std::nan(""), 3, 7, "M"), cfnet::NumericalError);
    CHECK_THROWS_WITH(cfnet::check_finite_loss(INFINITY, 3, 7, "AutoencoderCF"),
                      Catch::Matchers::StartsWith("AutoencoderCF::fit: the loss became inf at epoch 3, step 7"));
}

// --- FitLoop, on its own: a fake model whose "weights" are one number ---------------------------

namespace {

/// Logs every hook with its arguments.
struct LogCallback : cfnet::Callback {
    std::string log;
    int stop_at = 0;  // on_epoch_end returns true at this epoch (0: never)
    void on_train_begin(int epochs, std::size_t steps) override {
        log += "begin(" + std::to_string(epochs) + "," + std::to_string(steps) + ") ";
    }
    void on_epoch_begin(int e) override { log += "epoch(" + std::to_string(e) + ") "; }
    void on_batch_end(std::size_t step, double loss) override {
        std::ostringstream os;
        os << "batch(" << step << "," << loss << ") ";
        log += os.str();
    }
    bool on_epoch_end(const EpochRecord& r) override {
        std::ostringstream os;
        os << "end(" << r.epoch << "," << r.loss;
        for (const auto& kv : r.metrics) os << "," << kv.first << "=" << kv.second;
        os << ") ";
        log += os.str();
        return stop_at > 0 && r.epoch >= stop_at;
    }
    void on_train_end(const History& h) override {
        log += "train_end(" + std::to_string(h.size()) + "," + std::to_string(h.best_epoch) + "," +
               (h.stopped_early ? "stopped" : "ran") + ")";
    }
};

/// The fake model: weight w; each epoch sets w = 10 * epoch; the validation metric is a table
/// lookup by epoch; snapshot/restore copy w and are logged into the same string as the callbacks.
struct FakeModel {
    double w = 0;
    double saved = -1;
    std::vector<double> val;  // val_rmse of epoch e is val[e - 1]
    std::string* log = nullptr;
    int restores = 0;

    cfnet::FitHooks hooks() {
        cfnet::FitHooks h;
        h.validate = [this](EpochRecord& r) { r.metrics["val_rmse"] = val.at(static_cast<std::size_t>(r.epoch - 1)); };
        h.snapshot = [this] {
            saved = w;
            *log += "snapshot(" + std::to_string(static_cast<int>(w)) + ") ";
        };
        h.restore = [this] {
            w = saved;
            ++restores;
            *log += "restore ";
        };
        return h;
    }
};

EarlyStopping on_rmse(int patience, bool restore_best = true) {
    EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = patience;
    es.restore_best = restore_best;
    return es;
}

}  // namespace

TEST_CASE("FitLoop calls the callbacks in order with the weighted running loss, and records the epochs", "[train]") {
    LogCallback a, b;
    FakeModel m;
    m.val = {3.0, 2.0, 1.0};
    m.log = &a.log;
    cfnet::FitLoop loop("Fake", {&a, &b}, std::nullopt, m.hooks());
    std::vector<int> seen;
    const History h = loop.run(3, 2, [&](int epoch) {
        seen.push_back(epoch);
        CHECK(loop.epoch() == epoch);
        m.w = 10.0 * epoch;
        loop.batch_end(1, 1.0 * epoch, 3.0);  // 3 examples with mean loss e
        loop.batch_end(2, 5.0 * epoch, 1.0);  // 1 example with mean loss 5e: running mean (3e + 5e) / 4 = 2e
    });
    CHECK(seen == std::vector<int>{1, 2, 3});
    CHECK(a.log ==
          "begin(3,2) epoch(1) batch(1,1) batch(2,2) end(1,2,val_rmse=3) "
          "epoch(2) batch(1,2) batch(2,4) end(2,4,val_rmse=2) "
          "epoch(3) batch(1,3) batch(2,6) end(3,6,val_rmse=1) train_end(3,0,ran)");
    CHECK(b.log == "begin(3,2) epoch(1) batch(1,1) batch(2,2) end(1,2,val_rmse=3) "
                   "epoch(2) batch(1,2) batch(2,4) end(2,4,val_rmse=2) "
                   "epoch(3) batch(1,3) batch(2,6) end(3,6,val_rmse=1) train_end(3,0,ran)");
    REQUIRE(h.size() == 3);
    for (int e = 1; e <= 3; ++e) {
        const auto& r = h[static_cast<std::size_t>(e - 1)];
        CHECK(r.epoch == e);
        CHECK(r.loss == 2.0 * e);
        CHECK(r.metrics.size() == 1);
        CHECK(r.metric("val_rmse").value() == m.val[static_cast<std::size_t>(e - 1)]);
        CHECK(r.seconds >= 0.0);
    }
    CHECK(h.best_epoch == 0);
    CHECK_FALSE(h.stopped_early);
    CHECK(m.restores == 0);  // no early stopping: no snapshot, no restore
    CHECK(m.w == 30.0);
}

TEST_CASE("FitLoop stops early after `patience` epochs without improvement and restores the best epoch", "[train]") {
    LogCallback cb;
    FakeModel m;
    m.val = {5.0, 3.0, 4.0, 3.5, 1.0, 0.5};  // best at epoch 2; epochs 3 and 4 do not improve
    m.log = &cb.log;
    cfnet::FitLoop loop("Fake", {&cb}, on_rmse(2), m.hooks());
    const History h = loop.run(6, 1, [&](int epoch) {
        m.w = 10.0 * epoch;
        loop.batch_end(1, 1.0);
    });
    REQUIRE(h.size() == 4);  // stopped after epoch 4, before the better epoch 5
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 2);
    CHECK(m.restores == 1);
    CHECK(m.w == 20.0);  // the model holds epoch 2's weights
    // the snapshot is taken when the monitor improves, before the callbacks see the epoch; the
    // restore comes before on_train_end
    CHECK(cb.log == "begin(6,1) epoch(1) batch(1,1) snapshot(10) end(1,1,val_rmse=5) "
                    "epoch(2) batch(1,1) snapshot(20) end(2,1,val_rmse=3) "
                    "epoch(3) batch(1,1) end(3,1,val_rmse=4) "
                    "epoch(4) batch(1,1) end(4,1,val_rmse=3.5) restore train_end(4,2,stopped)");

    SECTION("without restore_best the weights of the last epoch stay") {
        LogCallback c2;
        FakeModel m2;
        m2.val = m.val;
        m2.log = &c2.log;
        cfnet::FitLoop l2("Fake", {&c2}, on_rmse(2, false), m2.hooks());
        const History h2 = l2.run(6, 1, [&](int epoch) {
            m2.w = 10.0 * epoch;
            l2.batch_end(1, 1.0);
        });
        CHECK(h2.size() == 4);
        CHECK(h2.stopped_early);
        CHECK(h2.best_epoch == 0);
        CHECK(m2.restores == 0);
        CHECK(m2.w == 40.0);
        CHECK(c2.log.find("snapshot") == std::string::npos);
    }
    SECTION("training that ends without stopping still restores the best epoch") {
        LogCallback c3;
        FakeModel m3;
        m3.val = {2.0, 1.0, 1.5};
        m3.log = &c3.log;
        cfnet::FitLoop l3("Fake", {&c3}, on_rmse(5), m3.hooks());
        const History h3 = l3.run(3, 1, [&](int epoch) {
            m3.w = 10.0 * epoch;
            l3.batch_end(1, 1.0);
        });
        CHECK(h3.size() == 3);
        CHECK_FALSE(h3.stopped_early);
        CHECK(h3.best_epoch == 2);
        CHECK(m3.w == 20.0);
    }
    SECTION("a monitor the validation does not record is an error") {
        FakeModel m4;
        m4.val = m.val;
        m4.log = &cb.log;
        EarlyStopping es = on_rmse(2);
        es.monitor = "val_ndcg@10";
        cfnet::FitLoop l4("Fake", {}, es, m4.hooks());
        CHECK_THROWS_WITH(l4.run(3, 1, [&](int) { l4.batch_end(1, 1.0); }),
                          "EarlyStopping: metric 'val_ndcg@10' is not recorded (is validation data given?)");
    }
}

TEST_CASE("FitLoop stops on a NaN or infinite loss with an error naming the model, epoch and step", "[train]") {
    LogCallback cb;
    cfnet::FitLoop loop("FakeModel", {&cb}, std::nullopt);
    auto run = [&] {
        loop.run(5, 3, [&](int epoch) {
            loop.batch_end(1, 1.0);
            loop.batch_end(2, epoch == 3 ? std::nan("") : 1.0);
            loop.batch_end(3, 1.0);
        });
    };
    CHECK_THROWS_AS(run(), cfnet::NumericalError);
    CHECK(loop.epoch() == 3);
    CHECK(loop.history().size() == 2);
    // the diverged batch reaches no callback, and training does not go on
    CHECK(cb.log == "begin(5,3) epoch(1) batch(1,1) batch(2,1) batch(3,1) end(1,1) "
                    "epoch(2) batch(1,1) batch(2,1) batch(3,1) end(2,1) epoch(3) batch(1,1) ");

    cfnet::FitLoop l2("FakeModel", {}, std::nullopt);
    CHECK_THROWS_WITH(l2.run(2, 1, [&](int epoch) { l2.batch_end(1, epoch == 2 ? INFINITY : 0.5); }),
                      Catch::Matchers::StartsWith("FakeModel::fit: the loss became inf at epoch 2, step 1"));
    cfnet::FitLoop l3("FakeModel", {}, std::nullopt);
    l3.begin(1, 4);
    l3.begin_epoch();
    CHECK_NOTHROW(l3.check_loss(4, 2.0));
    CHECK_THROWS_WITH(l3.check_loss(4, -INFINITY),
                      Catch::Matchers::StartsWith("FakeModel::fit: the loss became -inf at epoch 1, step 4"));
}

TEST_CASE("FitLoop: any on_epoch_end returning true stops training after that epoch", "[train]") {
    LogCallback a, b;
    b.stop_at = 2;
    int epoch_fns = 0;
    cfnet::EpochCallback counter([&](const EpochRecord&) {
        ++epoch_fns;
        return false;
    });
    cfnet::FitLoop loop("Fake", {&a, &b, &counter}, std::nullopt);
    const History h = loop.run(5, 1, [&](int) { loop.batch_end(1, 0.25); });
    CHECK(h.size() == 2);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 0);
    CHECK(epoch_fns == 2);  // every callback sees the stopping epoch
    CHECK(a.log == "begin(5,1) epoch(1) batch(1,0.25) end(1,0.25) epoch(2) batch(1,0.25) end(2,0.25) "
                   "train_end(2,0,stopped)");
}

TEST_CASE("FitLoop driven by a solver that owns the iteration (the L-BFGS shape)", "[train]") {
    // A fake solver: calls back after each iteration with its value; stops on the callback's word,
    // or converges on its own after 3 iterations (an epoch is begun and never ended).
    auto solve = [](int max_it, const std::function<bool(int, double)>& cb) {
        for (int it = 1; it <= max_it; ++it) {
            if (cb(it, 1.0 / it)) return;
            if (it == 3) return;
        }
    };
    for (const int epochs : {2, 5}) {
        LogCallback cb;
        FakeModel m;
        m.val = {3.0, 2.0, 2.5, 2.6};
        m.log = &cb.log;
        cfnet::FitLoop loop("Fake", {&cb}, on_rmse(4), m.hooks());
        loop.begin(epochs, 1);
        loop.begin_epoch();
        solve(epochs, [&](int it, double f) {
            CHECK(loop.epoch() == it);
            m.w = 10.0 * it;
            loop.batch_end(1, f);
            const bool stop = loop.end_epoch();
            if (!stop && it < epochs) loop.begin_epoch();
            return stop;
        });
        const History h = loop.finish();
        if (epochs == 2) {
            CHECK(h.size() == 2);
            CHECK(cb.log == "begin(2,1) epoch(1) batch(1,1) snapshot(10) end(1,1,val_rmse=3) "
                            "epoch(2) batch(1,0.5) snapshot(20) end(2,0.5,val_rmse=2) restore train_end(2,2,ran)");
        } else {
            CHECK(h.size() == 3);
            CHECK(h[2].loss == 1.0 / 3);
            CHECK(cb.log == "begin(5,1) epoch(1) batch(1,1) snapshot(10) end(1,1,val_rmse=3) "
                            "epoch(2) batch(1,0.5) snapshot(20) end(2,0.5,val_rmse=2) "
                            "epoch(3) batch(1,0.333333) end(3,0.333333,val_rmse=2.5) epoch(4) restore train_end(3,2,ran)");
        }
        CHECK_FALSE(h.stopped_early);
        CHECK(h.best_epoch == 2);
        CHECK(m.w == 20.0);
    }
}

TEST_CASE("FitLoop rejects calls out of order", "[train]") {
    cfnet::FitLoop loop("Fake", {}, std::nullopt);
    CHECK_THROWS_AS(loop.begin_epoch(), cfnet::InvalidArgument);
    CHECK_THROWS_AS(loop.finish(), cfnet::InvalidArgument);
    loop.begin(2, 1);
    CHECK_THROWS_AS(loop.begin(2, 1), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(loop.end_epoch(), "FitLoop::end_epoch: called out of order (Fake)");
    loop.begin_epoch();
    CHECK_THROWS_AS(loop.begin_epoch(), cfnet::InvalidArgument);
    loop.batch_end(1, 1.0);
    CHECK_FALSE(loop.end_epoch());
    const History h = loop.finish();
    CHECK(h.size() == 1);
    CHECK_THROWS_AS(loop.finish(), cfnet::InvalidArgument);
}
