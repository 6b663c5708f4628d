// models/neural_cf/io.hpp: NeuralCF's model files: bit-identical scores and recommendations after
// save/load, every stored option (the field table) surviving save -> load with a non-default
// value, a damaged or bogus value of each key naming the file and the key, files without the later
// keys (dense_init, refit) loading with the defaults, a NeuralCFOptions::accurate() (refit) model
// saving a loadable file (issue 14), and the index tensors range-checked on load (issue 17).
#include <cfnet/models/neural_cf/io.hpp>

#include "support/files.hpp"
#include "support/model_files.hpp"
#include "support/neural_cf.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using Catch::Contains;
using cfnet::index_type;
using cfnet_test::check_bad_values;
using cfnet_test::check_every_field;
using cfnet_test::low_rank;
using cfnet_test::same_recs;
using cfnet_test::small_data;
using cfnet_test::small_options;
using cfnet_test::table_keys;

namespace {

std::vector<std::pair<cfnet::index_type, cfnet::index_type>> all_pairs(std::size_t nu, std::size_t ni) {
    std::vector<std::pair<cfnet::index_type, cfnet::index_type>> p;
    for (std::size_t u = 0; u < nu; ++u)
        for (std::size_t i = 0; i < ni; ++i) p.emplace_back(static_cast<cfnet::index_type>(u), static_cast<cfnet::index_type>(i));
    return p;
}

}  // namespace

TEST_CASE("NeuralCF: save/load round trip predicts bit-identically", "[neural_cf]") {
    const auto all = low_rank<float>(30, 25, 0.4, 6);
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.bias_terms = true;
    o.unseen_fallback = true;
    o.dropout = 0.1;
    o.dense_init = cfnet::DenseInit::fan_in_uniform;
    cfnet::NeuralCF<float> m(o);
    m.fit(all);
    const std::string path = cfnet_test::scratch_dir("ncf_roundtrip") + "/roundtrip.cfnet";
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

TEST_CASE("NeuralCF model file: every option survives save -> load, and a bad value names file and key", "[neural_cf]") {
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

TEST_CASE("NeuralCF model file: files without the later keys (dense_init, refit) load with the defaults", "[neural_cf]") {
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

TEST_CASE("NeuralCF: a model fitted with NeuralCFOptions::accurate() (refit) saves a file that loads (issue 14)", "[neural_cf]") {
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

TEST_CASE("NeuralCF::load: seen.counts and seen.items are integer arrays, range-checked (issue 17)", "[neural_cf]") {
    const auto data = small_data();
    cfnet::NeuralCFOptions o;
    o.epochs = 1;
    cfnet::NeuralCF<float> m(o);
    m.fit(data);
    const std::string dir = cfnet_test::scratch_dir("ncf_seen");
    const std::string path = dir + "/good.cfnet", bad = dir + "/bad.cfnet";
    m.save(path);
    const auto good = cfnet::read_model_file<float>(path);
    REQUIRE(good.find("seen.counts") == nullptr);  // not float tensors any more
    REQUIRE(good.find_integers("seen.counts") != nullptr);
    const std::uint64_t ni = data.n_items();
    auto check = [&](const std::string& name, std::size_t k, std::uint64_t value, const std::string& what) {
        auto f = good;
        (*f.find_integers(name))[k] = value;
        cfnet::save_model_file(bad, f);  // a valid checksum over the crafted value
        INFO(name << "[" << k << "] = " << value);
        CHECK_THROWS_AS(cfnet::NeuralCF<float>::load(bad), cfnet::IoError);
        CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(bad),
                          Contains("'" + bad + "'") && Contains("integer array '" + name + "'") && Contains(what));
    };
    for (const std::uint64_t v : {std::uint64_t{70363200000000000}, ni + 1, ~std::uint64_t{0}})
        check("seen.counts", 0, v, "is out of range");
    check("seen.counts", 0, (*good.find_integers("seen.counts"))[0] + 1, "adds up to");
    for (const std::uint64_t v : {std::uint64_t{70363200000000000}, ni, ~std::uint64_t{0}})
        check("seen.items", 0, v, "is out of range");
    // each user's items in increasing order (recommend's exclusion relies on it)
    REQUIRE((*good.find_integers("seen.counts"))[0] >= 2);
    auto f = good;
    std::swap((*f.find_integers("seen.items"))[0], (*f.find_integers("seen.items"))[1]);
    cfnet::save_model_file(bad, f);
    CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(bad),
                      Contains("integer array 'seen.items'") && Contains("increasing order"));
    CHECK_NOTHROW(cfnet::NeuralCF<float>::load(path));
}

TEST_CASE("NeuralCF::load: files that stored the seen items as floats still load, range-checked", "[neural_cf]") {
    const auto data = small_data();
    cfnet::NeuralCFOptions o;
    o.epochs = 1;
    cfnet::NeuralCF<float> m(o);
    m.fit(data);
    const std::string dir = cfnet_test::scratch_dir("ncf_seen_legacy");
    const std::string path = dir + "/good.cfnet", legacy = dir + "/legacy.cfnet", bad = dir + "/bad.cfnet";
    m.save(path);
    // The layout of format version 1: seen.counts / seen.items as 1 x n float tensors.
    auto old = cfnet::read_model_file<float>(path);
    for (auto& [name, v] : old.integers) {
        cfnet::Matrix<float> t = cfnet::Matrix<float>::from_shape({std::size_t{1}, v.size()});
        for (std::size_t k = 0; k < v.size(); ++k) t(0, k) = static_cast<float>(v[k]);
        old.tensors.emplace_back(name, std::move(t));
    }
    old.integers.clear();
    cfnet::save_model_file(legacy, old);
    const auto loaded = cfnet::NeuralCF<float>::load(legacy);
    for (cfnet::index_type u = 0; u < data.n_users(); ++u) {
        INFO("user " << u);
        CHECK(same_recs(loaded.recommend(u, 5), m.recommend(u, 5)));
    }
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const float ni = static_cast<float>(data.n_items());
    auto check = [&](const std::string& tensor, std::size_t k, float value, const std::string& what) {
        auto f = old;
        (*f.find(tensor))(0, k) = value;
        cfnet::save_model_file(bad, f);
        INFO(tensor << "[" << k << "] = " << value);
        CHECK_THROWS_AS(cfnet::NeuralCF<float>::load(bad), cfnet::IoError);
        CHECK_THROWS_WITH(cfnet::NeuralCF<float>::load(bad),
                          Contains("'" + bad + "'") && Contains("tensor '" + tensor + "'") && Contains(what));
    };
    for (const float v : {7.03632e+22f, -1.0f, 0.5f, ni + 1})
        check("seen.counts", 0, v, "is not a count of items");
    for (const float v : {nan, inf}) check("seen.counts", 0, v, "not a finite number");
    check("seen.counts", 0, old.find("seen.counts")->operator()(0, 0) + 1, "adds up to");
    for (const float v : {7.03632e+22f, -1.0f, 2.5f, ni})
        check("seen.items", 0, v, "is not an item index");
}
