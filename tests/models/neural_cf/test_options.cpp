// models/neural_cf/options.hpp: NeuralCFOptions' defaults (the notebook's model, and the network
// they build) and presets, validate() naming the bad field (directly and through NeuralCF's
// constructor), the enums' names and parsers, and the field table writing and reading every option.
#include <cfnet/models/neural_cf/model.hpp>
#include <cfnet/models/neural_cf/options.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::NeuralCFOptions;

namespace {

cfnet::Metadata as_metadata(const NeuralCFOptions& o) {
    cfnet::Metadata m;
    cfnet::write_options(o, m);
    return m;
}

}  // namespace

TEST_CASE("NeuralCFOptions: the defaults are the notebook's model", "[neural_cf][options]") {
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

TEST_CASE("NeuralCFOptions: the presets are valid and set their fields", "[neural_cf][options]") {
    CHECK(as_metadata(NeuralCFOptions::notebook()) == as_metadata(NeuralCFOptions{}));
    CHECK_NOTHROW(NeuralCFOptions::notebook().validate());

    const auto a = NeuralCFOptions::accurate();
    CHECK_NOTHROW(a.validate());
    CHECK(a.architecture == cfnet::NcfArchitecture::neumf);
    CHECK(a.feedback == cfnet::Feedback::ratings);
    CHECK((a.hidden == std::vector<std::size_t>{64, 32}));
    CHECK(a.bias_terms);
    CHECK(a.dense_init == cfnet::DenseInit::fan_in_uniform);
    CHECK(a.unseen_fallback);
    CHECK(a.mean_init);
    CHECK(a.refit);
    REQUIRE(a.early_stopping.has_value());
    CHECK(a.early_stopping->monitor == "val_rmse");

    const auto r = NeuralCFOptions::implicit_ranking();
    CHECK_NOTHROW(r.validate());
    CHECK(r.architecture == cfnet::NcfArchitecture::neumf);
    CHECK(r.feedback == cfnet::Feedback::implicit);
    CHECK((r.hidden == std::vector<std::size_t>{64, 32, 16}));
    REQUIRE(r.early_stopping.has_value());
    CHECK(r.early_stopping->monitor == "val_ndcg@10");
    CHECK(r.early_stopping->maximize);
}

TEST_CASE("NeuralCFOptions::validate names the bad field", "[neural_cf][options]") {
    auto with = [](auto change) {
        NeuralCFOptions o;
        change(o);
        return o;
    };
    CHECK_THROWS_WITH(with([](auto& o) { o.embedding_dim = 0; }).validate(), Contains("embedding_dim"));
    CHECK_THROWS_WITH(with([](auto& o) { o.hidden = {8, 0}; }).validate(), Contains("hidden[1]"));
    CHECK_THROWS_WITH(with([](auto& o) { o.dropout = std::nan(""); }).validate(), Contains("dropout"));
    CHECK_THROWS_WITH(with([](auto& o) { o.l2 = -1; }).validate(), Contains("l2"));
    CHECK_THROWS_WITH(with([](auto& o) { o.dense_l2 = -1; }).validate(), Contains("dense_l2"));
    CHECK_THROWS_WITH(with([](auto& o) { o.eval_k = 0; }).validate(), Contains("eval_k"));
    CHECK_THROWS_WITH(with([](auto& o) { o.early_stopping = cfnet::EarlyStopping{"val_rmse", 0}; }).validate(),
                      Contains("patience"));
    CHECK_THROWS_WITH(with([](auto& o) { o.refit = true; }).validate(), Contains("refit"));
    CHECK_NOTHROW(NeuralCFOptions().validate());
}

TEST_CASE("NeuralCFOptions: NeuralCF's constructor rejects bad configurations, gmf needs no hidden layers", "[neural_cf][options]") {
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
    CHECK_NOTHROW(cfnet::NeuralCF<float>(bad([](auto& o) {
        o.architecture = cfnet::NcfArchitecture::gmf;
        o.hidden.clear();  // gmf has no MLP tower
    })));
}

TEST_CASE("NeuralCFOptions: the enums' names parse back, and unknown names are errors", "[neural_cf][options]") {
    using A = cfnet::NcfArchitecture;
    for (const auto a : {A::mlp, A::gmf, A::neumf}) CHECK(cfnet::parse_architecture(cfnet::to_string(a)) == a);
    for (const auto f : {cfnet::Feedback::ratings, cfnet::Feedback::implicit})
        CHECK(cfnet::parse_feedback(cfnet::to_string(f)) == f);
    for (const auto d : {cfnet::DenseInit::glorot_uniform, cfnet::DenseInit::fan_in_uniform})
        CHECK(cfnet::parse_dense_init(cfnet::to_string(d)) == d);
    CHECK(std::string(cfnet::to_string(cfnet::Feedback::ratings)) == "explicit");
    CHECK(cfnet::parse_dense_init("fan_in_uniform") == cfnet::DenseInit::fan_in_uniform);
    CHECK_THROWS_AS(cfnet::parse_dense_init("xavier"), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::parse_architecture("cnn"), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::parse_feedback("ratings"), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::parse_architecture("cnn"), Contains("'cnn'"));
}

TEST_CASE("NeuralCFOptions: the field table writes every option and reads it back", "[neural_cf][options]") {
    NeuralCFOptions o = NeuralCFOptions::accurate();
    o.feedback = cfnet::Feedback::implicit;
    o.hidden = {64, 32, 16};
    o.seed = 1234567890123ULL;
    const auto m = as_metadata(o);
    CHECK(m.size() == cfnet::options_table<NeuralCFOptions>().size());
    CHECK(m.at("options.architecture") == "neumf");
    CHECK(m.at("options.feedback") == "implicit");
    CHECK(m.at("options.hidden") == "64 32 16");
    CHECK(m.at("options.dense_init") == "fan_in_uniform");
    CHECK(m.at("options.refit") == "1");
    CHECK(m.at("options.seed") == "1234567890123");
    CHECK(m.count("options.early_stopping") == 0);  // steers one fit; never stored

    const auto back = cfnet::read_options<NeuralCFOptions>(cfnet::MetadataReader(m, "test", "memory"));
    CHECK(as_metadata(back) == m);
    CHECK(back.hidden == o.hidden);
    CHECK(back.learning_rate == o.learning_rate);
    CHECK(back.seed == o.seed);
    CHECK_FALSE(back.early_stopping.has_value());

    // dense_init and refit may be missing (older files): the defaults
    auto old = m;
    old.erase("options.dense_init");
    old.erase("options.refit");
    const auto o2 = cfnet::read_options<NeuralCFOptions>(cfnet::MetadataReader(old, "test", "memory"));
    CHECK(o2.dense_init == cfnet::DenseInit::glorot_uniform);
    CHECK(!o2.refit);
    auto bad = m;
    bad["options.architecture"] = "cnn";
    CHECK_THROWS_AS(cfnet::read_options<NeuralCFOptions>(cfnet::MetadataReader(bad, "test", "memory")),
                    cfnet::IoError);
}
