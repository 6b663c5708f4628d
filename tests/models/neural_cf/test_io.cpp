// Model files through the options field tables (options_io.hpp): every stored option of
// AutoencoderOptions and NeuralCFOptions survives save -> load with a non-default value, a bad
// value names the file and the key, NeuralCFOptions::accurate() (refit) saves a loadable file
// (issue 14), and NeuralCF's index tensors are range-checked on load (issue 17).
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/neural_cf.hpp>

#include <catch2/catch.hpp>

#include "support/files.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

using Catch::Contains;

cfnet::RatingMatrix<float> small_data() {
    auto so = cfnet::synthetic::ml100k();
    so.n_users = 40;
    so.n_items = 50;
    so.n_ratings = 700;
    so.min_ratings_per_user = 5;
    return cfnet::synthetic::generate<float>(so);
}

template <class Options>
cfnet::Metadata option_texts(const Options& o) {
    cfnet::Metadata m;
    cfnet::write_options(o, m);
    return m;
}

/// Every table field holds a non-default value in at least one of `configs` (so the test exercises
/// every entry), and each loaded model's stored options read back as saved (`except` keys aside).
template <class Options>
void check_every_field(const std::vector<Options>& saved, const std::vector<Options>& loaded,
                       const std::vector<std::string>& except = {}) {
    const cfnet::Metadata d = option_texts(Options{});
    for (const auto& f : cfnet::options_table<Options>().fields()) {
        INFO("field " << f.key << " (" << f.codec << ")");
        bool set = false;
        for (const auto& o : saved) set = set || option_texts(o).at(f.key) != d.at(f.key);
        CHECK(set);
        if (std::find(except.begin(), except.end(), f.key) != except.end()) continue;
        for (std::size_t c = 0; c < saved.size(); ++c) CHECK(option_texts(loaded[c]).at(f.key) == option_texts(saved[c]).at(f.key));
    }
}

/// Replaces each option's value by "bogus" in turn: load must throw an IoError naming the file,
/// the key and the value.
template <class Load>
void check_bad_values(const std::string& path, const std::vector<std::string>& keys, Load load) {
    const auto good = cfnet::read_model_file<float>(path);
    const std::string bad_path = cfnet_test::scratch_dir("bad") + "/bad.cfnet";
    for (const auto& key : keys) {
        INFO(key);
        auto f = good;
        REQUIRE(f.metadata.count(key) == 1);
        f.metadata[key] = "bogus";
        cfnet::save_model_file(bad_path, f);
        CHECK_THROWS_AS(load(bad_path), cfnet::IoError);
        CHECK_THROWS_WITH(load(bad_path), Contains("'" + bad_path + "'") && Contains("metadata '" + key + "' = 'bogus'"));
    }
}

template <class Options>
std::vector<std::string> table_keys() {
    std::vector<std::string> keys;
    for (const auto& f : cfnet::options_table<Options>().fields()) keys.push_back(f.key);
    return keys;
}

std::vector<std::pair<cfnet::index_type, cfnet::index_type>> all_pairs(std::size_t nu, std::size_t ni) {
    std::vector<std::pair<cfnet::index_type, cfnet::index_type>> p;
    for (std::size_t u = 0; u < nu; ++u)
        for (std::size_t i = 0; i < ni; ++i) p.emplace_back(static_cast<cfnet::index_type>(u), static_cast<cfnet::index_type>(i));
    return p;
}

}  // namespace

TEST_CASE("AutoencoderCF model file: every option survives save -> load, and a bad value names file and key") {
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

    std::vector<cfnet::AutoencoderOptions> saved{adam, lbfgs}, loaded;
    for (std::size_t c = 0; c < saved.size(); ++c) {
        cfnet::AutoencoderCF<float> m(saved[c]);
        m.fit(data);
        const std::string path = dir + "/ae" + std::to_string(c) + ".cfnet";
        m.save(path);
        const auto l = cfnet::AutoencoderCF<float>::load(path);
        loaded.push_back(l.options());
        CHECK(l.predict(data, data) == m.predict(data, data));
        if (c == 0) check_bad_values(path, table_keys<cfnet::AutoencoderOptions>(), [](const std::string& p) {
            return cfnet::AutoencoderCF<float>::load(p);
        });
    }
    check_every_field(saved, loaded);
    CHECK(loaded[0].clamp_min == adam.clamp_min);
    CHECK(loaded[0].learning_rate == adam.learning_rate);
    CHECK(!loaded[1].clamp_min.has_value());
}

TEST_CASE("NeuralCF model file: every option survives save -> load, and a bad value names file and key") {
    const auto data = small_data();
    const std::string dir = cfnet_test::scratch_dir("ncf_options");
    cfnet::NeuralCFOptions expl;
    expl.architecture = cfnet::NcfArchitecture::neumf;
    expl.embedding_dim = 8;
    expl.hidden = {6, 4};
    expl.dropout = 0.1;
    expl.l2 = 0.01;
    expl.dense_l2 = 1e-3;
    expl.bias_terms = true;
    expl.dense_init = cfnet::DenseInit::fan_in_uniform;
    expl.learning_rate = 2e-3;
    expl.batch_size = 64;
    expl.epochs = 2;
    expl.seed = 9;
    expl.validation_fraction = 0.25;
    expl.lazy_embedding_updates = true;
    expl.unseen_fallback = true;
    expl.mean_init = true;
    expl.refit = true;
    cfnet::EarlyStopping es;
    es.monitor = "val_rmse";
    es.patience = 1;
    expl.early_stopping = es;
    cfnet::NeuralCFOptions impl;
    impl.architecture = cfnet::NcfArchitecture::gmf;
    impl.feedback = cfnet::Feedback::implicit;
    impl.negatives = 2;
    impl.eval_k = 5;
    impl.epochs = 1;

    std::vector<cfnet::NeuralCFOptions> saved{expl, impl}, loaded;
    const auto pairs = all_pairs(data.n_users(), data.n_items());
    for (std::size_t c = 0; c < saved.size(); ++c) {
        cfnet::NeuralCF<float> m(saved[c]);
        m.fit(data);
        const std::string path = dir + "/ncf" + std::to_string(c) + ".cfnet";
        m.save(path);
        const auto l = cfnet::NeuralCF<float>::load(path);
        loaded.push_back(l.options());
        CHECK(l.predict(pairs) == m.predict(pairs));
        if (c == 0) check_bad_values(path, table_keys<cfnet::NeuralCFOptions>(), [](const std::string& p) {
            return cfnet::NeuralCF<float>::load(p);
        });
    }
    // early_stopping is not stored, so a refit model loads without refit (issue 14)
    check_every_field(saved, loaded, {"options.refit"});
    CHECK(!loaded[0].refit);
    CHECK(!loaded[0].early_stopping.has_value());
    CHECK(loaded[0].dense_l2 == expl.dense_l2);
}

TEST_CASE("NeuralCF model file: files without the later keys (dense_init, refit) load with the defaults") {
    const auto data = small_data();
    cfnet::NeuralCFOptions o;
    o.epochs = 1;
    o.dense_init = cfnet::DenseInit::fan_in_uniform;
    cfnet::NeuralCF<float> m(o);
    m.fit(data);
    const std::string path = cfnet_test::scratch_dir("ncf_old") + "/old.cfnet";
    m.save(path);
    auto f = cfnet::read_model_file<float>(path);
    f.metadata.erase("options.dense_init");
    f.metadata.erase("options.refit");
    cfnet::save_model_file(path, f);
    const auto l = cfnet::NeuralCF<float>::load(path);
    CHECK(l.options().dense_init == cfnet::DenseInit::glorot_uniform);
    CHECK(!l.options().refit);
    CHECK(l.score_items(3) == m.score_items(3));
    f.metadata.erase("options.eval_k");
    cfnet::save_model_file(path, f);
    CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(path), Contains("metadata key 'options.eval_k' is missing"));
}

TEST_CASE("NeuralCF: a model fitted with NeuralCFOptions::accurate() (refit) saves a file that loads (issue 14)") {
    const auto data = small_data();
    auto o = cfnet::NeuralCFOptions::accurate();
    o.epochs = 2;
    o.batch_size = 128;
    cfnet::NeuralCF<float> m(o);
    m.fit(data);
    CHECK(m.options().refit);
    const std::string path = cfnet_test::scratch_dir("ncf_accurate") + "/accurate.cfnet";
    m.save(path);
    const auto l = cfnet::NeuralCF<float>::load(path);
    CHECK(l.predict(all_pairs(data.n_users(), data.n_items())) == m.predict(all_pairs(data.n_users(), data.n_items())));
    CHECK(!l.options().refit);
    // the loaded options are a valid configuration again, and the file saves to the same bytes
    CHECK_NOTHROW(cfnet::NeuralCF<float>(l.options()));
    const std::string again = cfnet_test::scratch_dir("ncf_accurate") + "/again.cfnet";
    l.save(again);
    auto a = cfnet::read_model_file<float>(path), b = cfnet::read_model_file<float>(again);
    a.metadata.erase("options.refit");
    b.metadata.erase("options.refit");
    CHECK(a.metadata == b.metadata);
}

TEST_CASE("NeuralCF::load: seen.counts and seen.items must hold whole numbers in range (issue 17)") {
    const auto data = small_data();
    cfnet::NeuralCFOptions o;
    o.epochs = 1;
    cfnet::NeuralCF<float> m(o);
    m.fit(data);
    const std::string dir = cfnet_test::scratch_dir("ncf_seen");
    const std::string path = dir + "/good.cfnet", bad = dir + "/bad.cfnet";
    m.save(path);
    const auto good = cfnet::read_model_file<float>(path);
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const float ni = static_cast<float>(data.n_items());
    auto check = [&](const std::string& tensor, std::size_t k, float value, const std::string& what) {
        auto f = good;
        (*f.find(tensor))(0, k) = value;
        cfnet::save_model_file(bad, f);  // a valid checksum over the crafted value
        INFO(tensor << "[" << k << "] = " << value);
        CHECK_THROWS_AS(cfnet::NeuralCF<float>::load(bad), cfnet::IoError);
        CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(bad),
                          Contains("'" + bad + "'") && Contains("tensor '" + tensor + "'") && Contains(what));
    };
    for (const float v : {7.03632e+22f, -1.0f, 0.5f, nan, inf, ni + 1})
        check("seen.counts", 0, v, "is not a count of items");
    check("seen.counts", 0, good.find("seen.counts")->operator()(0, 0) + 1, "adds up to");
    for (const float v : {7.03632e+22f, -1.0f, 2.5f, nan, -inf, ni})
        check("seen.items", 0, v, "is not an item index");
    // each user's items in increasing order (recommend's exclusion relies on it)
    const float first = (*good.find("seen.items"))(0, 0), second = (*good.find("seen.items"))(0, 1);
    REQUIRE((*good.find("seen.counts"))(0, 0) >= 2);
    auto f = good;
    (*f.find("seen.items"))(0, 0) = second;
    (*f.find("seen.items"))(0, 1) = first;
    cfnet::save_model_file(bad, f);
    CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(bad), Contains("tensor 'seen.items'") && Contains("increasing order"));
    CHECK_NOTHROW(cfnet::NeuralCF<float>::load(path));
}
