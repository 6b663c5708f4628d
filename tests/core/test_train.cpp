#include <cfnet/train.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

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
