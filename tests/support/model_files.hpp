#pragma once
// Shared by the model-file tests (tests/models/*/test_io.cpp): a small synthetic data set, and the
// walks over an options struct's field table (options_io.hpp): every field saved with a non-default
// value and read back, and a bad value of each key rejected with an IoError naming file and key.
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/error.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/serialize.hpp>

#include "support/files.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace cfnet_test {

/// 40 users x 50 items, 700 ratings shaped like MovieLens 100K (synthetic::ml100k()).
inline cfnet::RatingMatrix<float> small_data() {
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
    using Catch::Contains;
    const auto good = cfnet::read_model_file<float>(path);
    const std::string bad_path = scratch_dir("bad") + "/bad.cfnet";
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

/// The keys of an options struct's field table.
template <class Options>
std::vector<std::string> table_keys() {
    std::vector<std::string> keys;
    for (const auto& f : cfnet::options_table<Options>().fields()) keys.push_back(f.key);
    return keys;
}

}  // namespace cfnet_test
