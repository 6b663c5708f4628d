#pragma once
// Shared by the example programs: finding the data, choosing the split, small printing helpers.
// Not part of the library.

#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

/// The data the examples run on: ratings, titles, the split and how each was obtained.
struct Workload {
    cfnet::movielens::Dataset<float> data;
    cfnet::Split<float> split;
    std::string data_source;  // the directory, or "synthetic"
    std::string split_name;   // "per-user", "u1", a file path, ...
};

/// Where MovieLens 100K is when --data is not given: ./data/ml-100k, then ../shared/data/ml-100k.
inline std::string find_ml100k(const std::string& given) {
    if (!given.empty()) return given;
    for (const char* dir : {"data/ml-100k", "../shared/data/ml-100k", "../../shared/data/ml-100k"})
        if (std::filesystem::exists(std::filesystem::path(dir) / "u.data")) return dir;
    throw std::runtime_error(
        "MovieLens 100K not found in ./data/ml-100k. Download ml-100k.zip from "
        "https://files.grouplens.org/datasets/movielens/ and unzip it there, or pass --data /path/to/ml-100k; "
        "--data synthetic runs everything on generated MovieLens-100K-shaped data without any download.");
}

/// A catalog "Item <id>" for synthetic data, so the programs can print titles either way.
inline cfnet::movielens::ItemCatalog synthetic_catalog(const cfnet::RatingMatrix<float>& m) {
    std::vector<cfnet::movielens::Item> items;
    for (const auto id : m.items().ids()) items.push_back({id, "Item " + std::to_string(id), "", {}});
    return cfnet::movielens::ItemCatalog(std::move(items));
}

/// Loads the data and makes the split named by `split`:
///   per-user (the notebook's 20% holdout of users with >= 5 ratings, seeded), u1..u5 (MovieLens'
///   shipped files), or a path to a file of held-out `user item rating` lines (e.g. the notebook's
///   exact split); training is everything else.
inline Workload load_workload(const std::string& data_arg, const std::string& split, std::uint64_t seed) {
    Workload w;
    if (data_arg == "synthetic") {
        auto opt = cfnet::synthetic::ml100k();
        opt.seed = seed;
        w.data.ratings = cfnet::synthetic::generate<float>(opt);
        w.data.items = synthetic_catalog(w.data.ratings);
        w.data.variant = "synthetic-ml100k";
        w.data_source = "synthetic";
    } else {
        w.data_source = find_ml100k(data_arg);
        w.data = cfnet::movielens::load<float>(w.data_source);
    }
    w.split_name = split;
    if (split == "per-user") {
        w.split = cfnet::per_user_holdout(w.data.ratings, seed);
    } else if (split.size() == 2 && split[0] == 'u' && split[1] >= '1' && split[1] <= '5') {
        if (w.data_source == "synthetic") throw std::runtime_error("--split " + split + " needs the MovieLens files");
        w.split = cfnet::movielens::load_100k_split<float>(w.data_source, split);
    } else {
        w.split = cfnet::split_from_heldout_file(w.data.ratings, split);
    }
    return w;
}

/// Seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace examples
