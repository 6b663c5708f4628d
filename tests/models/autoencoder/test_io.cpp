// models/autoencoder/io.hpp: AutoencoderCF's model files: bit-identical predictions after
// save/load in both orientations, every stored option (the field table) surviving save -> load with
// a non-default value, and the errors of a file for another item space, another value type or
// model, or damaged metadata (a bad value of every key names the file and the key).
#include <cfnet/models/autoencoder/io.hpp>

#include "support/autoencoder.hpp"
#include "support/model_files.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::AutoencoderCF;
using cfnet::RatingMatrix;
using cfnet_test::check_bad_values;
using cfnet_test::check_every_field;
using cfnet_test::low_rank_split;
using cfnet_test::model_path;
using cfnet_test::small_data;
using cfnet_test::small_options;
using cfnet_test::table_keys;

TEST_CASE("AutoencoderCF: save/load round trip gives bit-identical predictions", "[autoencoder]") {
    const auto lr = low_rank_split(50, 30, 4);
    const auto& train = lr.train;
    for (const bool item_based : {false, true}) {
        auto o = small_options();
        o.epochs = 2;
        o.hidden_activation = cfnet::ActivationKind::tanh;
        o.clamp(1, 5).fallback().item_based(item_based);
        AutoencoderCF<float> model(o);
        model.fit(train);
        const auto path = model_path("roundtrip.cfnet");
        model.save(path, true);
        const auto loaded = AutoencoderCF<float>::load(path, train);
        const auto p1 = model.predict(train, lr.test);
        const auto p2 = loaded.predict(train, lr.test);
        CHECK(p1 == p2);
        CHECK(loaded.options().hidden == o.hidden);
        CHECK(loaded.options().orientation == o.orientation);
        CHECK(loaded.options().clamp_max.value() == 5.0);
        CHECK(loaded.user_map() == train.users());
        CHECK(loaded.item_map() == train.items());
        for (const float v : p1) CHECK((v >= 1.0f && v <= 5.0f));
        // a copy is independent and predicts the same
        AutoencoderCF<float> copy = loaded;
        CHECK(copy.predict(train, lr.test) == p1);
        std::filesystem::remove(path);
    }
}

TEST_CASE_METHOD(cfnet_test::ErrorFixture, "AutoencoderCF: a model file for another item space, type or model, or with damaged metadata, is rejected", "[autoencoder]") {
    SECTION("mismatched item space") {
        AutoencoderCF<float> m(o);
        m.fit(train);
        const auto path = model_path("space.cfnet");
        m.save(path);
        const auto other = low_rank_split(40, 25, 6).train;  // 25 items instead of 20
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
        const auto bad_path = model_path("bad_meta.cfnet");
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
}

TEST_CASE("AutoencoderCF model file: every option survives save -> load, and a bad value names file and key", "[autoencoder]") {
    const auto data = small_data();
    const std::string dir = cfnet_test::scratch_dir("ae_options");
    cfnet::AutoencoderOptions adam;
    adam.hidden = {6, 3};
    adam.hidden_activation = cfnet::ActivationKind::sigmoid;
    adam.output_activation = cfnet::ActivationKind::elu;
    adam.item_based();
    adam.dropout(0.1, 0.2);
    adam.learning_rate = 2e-3;
    adam.weight_decay = 1e-4;
    adam.decoupled_weight_decay = true;
    adam.batch_size = 8;
    adam.epochs = 1;
    adam.seed = 7;
    adam.loss_normalization = cfnet::nn::MaskNormalization::global;
    adam.lazy_adam = true;
    adam.clamp(1.5, 4.5);
    adam.unseen_fallback = true;
    cfnet::AutoencoderOptions lbfgs;
    lbfgs.hidden = {5};
    lbfgs.lbfgs(3.5, 2);
    lbfgs.lbfgs_history = 4;
    lbfgs.residual = true;
    lbfgs.clamp_to_training = true;

    std::vector<cfnet::AutoencoderOptions> saved{adam, lbfgs}, loaded;
    for (std::size_t c = 0; c < saved.size(); ++c) {
        cfnet::AutoencoderCF<float> m(saved[c]);
        m.fit(data);
        const std::string path = dir + "/ae" + std::to_string(c) + ".cfnet";
        m.save(path);
        const auto l = cfnet::AutoencoderCF<float>::load(path);
        saved[c] = m.options();  // in effect after the fit: clamp_to_training has set the clamp
        loaded.push_back(l.options());
        CHECK(l.predict(data, data) == m.predict(data, data));
        if (c == 0) check_bad_values(path, table_keys<cfnet::AutoencoderOptions>(), [](const std::string& p) {
            return cfnet::AutoencoderCF<float>::load(p);
        });
    }
    check_every_field(saved, loaded);
    CHECK(loaded[0].clamp_min == adam.clamp_min);
    CHECK(loaded[0].learning_rate == adam.learning_rate);
    REQUIRE(loaded[1].clamp_min.has_value());  // the training ratings' range, set by fit
    CHECK(*loaded[1].clamp_min == 1.0);
    CHECK(loaded[1].residual);
}
