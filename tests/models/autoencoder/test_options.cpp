// models/autoencoder/options.hpp: AutoencoderOptions' defaults and presets, the chained setters,
// validate() naming each bad field (directly and through AutoencoderCF's constructor), the enums'
// names, and the field table writing and reading every option.
#include <cfnet/models/autoencoder/model.hpp>
#include <cfnet/models/autoencoder/options.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::ActivationKind;
using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::Orientation;
using cfnet::Solver;

namespace {

cfnet::Metadata as_metadata(const AutoencoderOptions& o) {
    cfnet::Metadata m;
    cfnet::write_options(o, m);
    return m;
}

}  // namespace

TEST_CASE("AutoencoderOptions: the defaults are the notebook's model, and valid", "[autoencoder][options]") {
    const AutoencoderOptions o;
    CHECK(o.hidden == std::vector<std::size_t>{512, 256, 64, 256, 512});
    CHECK(o.hidden_activation == ActivationKind::relu);
    CHECK(o.output_activation == ActivationKind::identity);
    CHECK(o.orientation == Orientation::user_based);
    CHECK(o.solver == Solver::adam);
    CHECK(o.learning_rate == 1e-3);
    CHECK(o.batch_size == 32);
    CHECK(o.epochs == 20);
    CHECK(o.seed == 42);
    CHECK(o.input_dropout == 0.0);
    CHECK(o.hidden_dropout == 0.0);
    CHECK(o.weight_decay == 0.0);
    CHECK_FALSE(o.lazy_adam);
    CHECK_FALSE(o.unseen_fallback);
    CHECK_FALSE(o.clamp_min.has_value());
    CHECK_FALSE(o.early_stopping.has_value());
    CHECK_NOTHROW(o.validate());
    CHECK(as_metadata(AutoencoderOptions::notebook()) == as_metadata(o));
}

TEST_CASE("AutoencoderOptions: the autorec preset is I-AutoRec with L-BFGS, and valid", "[autoencoder][options]") {
    const auto o = AutoencoderOptions::autorec();
    CHECK(o.hidden == std::vector<std::size_t>{500});
    CHECK(o.hidden_activation == ActivationKind::sigmoid);
    CHECK(o.output_activation == ActivationKind::identity);
    CHECK(o.orientation == Orientation::item_based);
    CHECK(o.solver == Solver::lbfgs);
    CHECK(o.l2_lambda == 100.0);
    CHECK(o.epochs == 80);
    CHECK_FALSE(o.clamp_min.has_value());  // the training data's own range, set by fit
    CHECK(o.clamp_to_training);
    CHECK(o.unseen_fallback);
    REQUIRE(o.selection.has_value());  // lambda, residual and iterations chosen on validation
    CHECK(o.selection->lambdas == std::vector<double>{30.0, 100.0, 300.0});
    CHECK(o.selection->try_residual);
    CHECK(o.input_dropout == 0.0);
    CHECK(o.weight_decay == 0.0);
    CHECK_NOTHROW(o.validate());
}

TEST_CASE("AutoencoderOptions: the chained setters set their fields", "[autoencoder][options]") {
    AutoencoderOptions o;
    o.hidden_sizes({7, 3})
        .activation(ActivationKind::tanh)
        .output(ActivationKind::sigmoid)
        .item_based()
        .dropout(0.25, 0.5)
        .lr(0.02)
        .l2(0.003)
        .batch(9)
        .n_epochs(4)
        .random_seed(99)
        .normalization(cfnet::nn::MaskNormalization::global)
        .lazy()
        .clamp(0.5, 4.5)
        .fallback()
        .stop_early(cfnet::EarlyStopping{"val_mae", 2});
    CHECK(o.hidden == std::vector<std::size_t>{7, 3});
    CHECK(o.hidden_activation == ActivationKind::tanh);
    CHECK(o.output_activation == ActivationKind::sigmoid);
    CHECK(o.orientation == Orientation::item_based);
    CHECK(o.input_dropout == 0.25);
    CHECK(o.hidden_dropout == 0.5);
    CHECK(o.learning_rate == 0.02);
    CHECK(o.weight_decay == 0.003);
    CHECK(o.batch_size == 9);
    CHECK(o.epochs == 4);
    CHECK(o.seed == 99);
    CHECK(o.loss_normalization == cfnet::nn::MaskNormalization::global);
    CHECK(o.lazy_adam);
    CHECK(o.clamp_min == 0.5);
    CHECK(o.clamp_max == 4.5);
    CHECK(o.unseen_fallback);
    REQUIRE(o.early_stopping.has_value());
    CHECK(o.early_stopping->monitor == "val_mae");
    CHECK_NOTHROW(o.validate());
    CHECK(o.item_based(false).orientation == Orientation::user_based);
    CHECK_FALSE(o.lazy(false).lazy_adam);
    CHECK_FALSE(o.fallback(false).unseen_fallback);

    // lbfgs() switches the solver and sets lambda and the iteration count, nothing else
    AutoencoderOptions l;
    l.lbfgs(3.5, 12);
    CHECK(l.solver == Solver::lbfgs);
    CHECK(l.l2_lambda == 3.5);
    CHECK(l.epochs == 12);
    CHECK(l.hidden == AutoencoderOptions().hidden);
}

TEST_CASE("AutoencoderOptions::validate names the bad field", "[autoencoder][options]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<std::pair<std::function<void(AutoencoderOptions&)>, std::string>> cases{
        {[](AutoencoderOptions& o) { o.hidden.clear(); }, "at least one hidden layer"},
        {[](AutoencoderOptions& o) { o.hidden = {8, 0, 8}; }, "hidden layer 1 has width 0"},
        {[](AutoencoderOptions& o) { o.input_dropout = 1.0; }, "input_dropout"},
        {[](AutoencoderOptions& o) { o.input_dropout = -0.1; }, "input_dropout"},
        {[nan](AutoencoderOptions& o) { o.hidden_dropout = nan; }, "hidden_dropout"},
        {[](AutoencoderOptions& o) { o.learning_rate = 0; }, "learning_rate"},
        {[](AutoencoderOptions& o) { o.weight_decay = -1; }, "weight_decay"},
        {[](AutoencoderOptions& o) { o.batch_size = 0; }, "batch_size"},
        {[](AutoencoderOptions& o) { o.epochs = 0; }, "epochs"},
        {[](AutoencoderOptions& o) { o.clamp_min = 1.0; }, "set both clamp_min and clamp_max"},
        {[](AutoencoderOptions& o) { o.clamp(5, 1); }, "clamp_min (5) > clamp_max (1)"},
        {[](AutoencoderOptions& o) { o.stop_early(cfnet::EarlyStopping{"loss", 2}); }, "not 'loss'"},
        {[](AutoencoderOptions& o) { o.lbfgs(-1, 5); }, "l2_lambda must be >= 0"},
        {[](AutoencoderOptions& o) { o.lbfgs_history = 0; }, "lbfgs_history"},
        {[](AutoencoderOptions& o) { o.lbfgs(1, 5).dropout(0.1, 0); }, "dropout must be 0"},
        {[](AutoencoderOptions& o) { o.lbfgs(1, 5).lazy(); }, "Adam options"},
        {[](AutoencoderOptions& o) { o.l2_lambda = 1; }, "l2_lambda is the lbfgs solver's"},
        {[](AutoencoderOptions& o) { o.select({{1.0, -2.0}}); }, "selection lambda must be >= 0, got -2"},
        {[](AutoencoderOptions& o) { o.select({{}, false, 1.0}); }, "selection validation_fraction"},
        {[](AutoencoderOptions& o) { o.select({{}, false, 0.1, -1}); }, "selection patience"},
    };
    for (const auto& [mutate, message] : cases) {
        AutoencoderOptions o;
        mutate(o);
        INFO(message);
        CHECK_THROWS_AS(o.validate(), cfnet::InvalidArgument);
        CHECK_THROWS_WITH(o.validate(), Contains("AutoencoderOptions") && Contains(message));
    }
}

TEST_CASE("AutoencoderCF's constructor validates its options", "[autoencoder][options]") {
    CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions().hidden_sizes({})), Contains("hidden layer"));
    CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions().dropout(1.0, 0)), Contains("input_dropout"));
    CHECK_THROWS_WITH(AutoencoderCF<float>(AutoencoderOptions().batch(0)), Contains("batch_size"));
}

TEST_CASE("AutoencoderOptions: the enums' names, and activations parsed back", "[autoencoder][options]") {
    CHECK(std::string(cfnet::to_string(Orientation::user_based)) == "user_based");
    CHECK(std::string(cfnet::to_string(Orientation::item_based)) == "item_based");
    CHECK(std::string(cfnet::to_string(Solver::adam)) == "adam");
    CHECK(std::string(cfnet::to_string(Solver::lbfgs)) == "lbfgs");
    for (const auto k : {ActivationKind::relu, ActivationKind::sigmoid, ActivationKind::tanh, ActivationKind::identity,
                         ActivationKind::elu, ActivationKind::selu})
        CHECK(cfnet::activation_from_string(cfnet::to_string(k)) == k);
    CHECK_THROWS_AS(cfnet::activation_from_string("swish"), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::activation_from_string("swish"), Contains("'swish'"));
}

TEST_CASE("AutoencoderOptions: the field table writes every option and reads it back", "[autoencoder][options]") {
    AutoencoderOptions o = AutoencoderOptions::autorec();
    o.lbfgs_history = 4;
    o.seed = 1234567890123ULL;
    o.loss_normalization = cfnet::nn::MaskNormalization::global;
    o.hidden = {64, 16, 64};
    o.stop_early(cfnet::EarlyStopping{"val_rmse", 3});
    const auto m = as_metadata(o);
    CHECK(m.size() == cfnet::options_table<AutoencoderOptions>().size());
    CHECK(m.at("hidden") == "64,16,64");
    CHECK(m.at("solver") == "lbfgs");
    CHECK(m.at("orientation") == "item_based");
    CHECK(m.at("hidden_activation") == "sigmoid");
    CHECK(m.at("loss_normalization") == "global");
    CHECK(m.at("unseen_fallback") == "1");
    CHECK(m.at("seed") == "1234567890123");
    CHECK(m.count("early_stopping") == 0);  // steers one fit; never stored
    CHECK(m.count("selection") == 0);
    CHECK(m.at("clamp_to_training") == "1");
    CHECK(m.at("residual") == "0");

    const auto back = cfnet::read_options<AutoencoderOptions>(cfnet::MetadataReader(m, "test", "memory"));
    CHECK(as_metadata(back) == m);
    CHECK(back.hidden == o.hidden);
    CHECK(back.solver == Solver::lbfgs);
    CHECK(back.l2_lambda == 100.0);
    CHECK(back.clamp_to_training);
    CHECK_FALSE(back.selection.has_value());  // steers one fit; never stored
    CHECK(back.lbfgs_history == 4);
    CHECK_FALSE(back.early_stopping.has_value());

    auto bad = m;
    bad["solver"] = "sgd";
    CHECK_THROWS_AS(cfnet::read_options<AutoencoderOptions>(cfnet::MetadataReader(bad, "test", "memory")),
                    cfnet::IoError);
}
