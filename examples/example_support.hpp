#pragma once
// Shared by the example programs: finding the data, choosing the split, small printing helpers.
// Not part of the library.

#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
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

/// The message every example gives when MovieLens 100K is neither found nor downloadable.
inline std::string offline_instructions() {
    return "Point the program at a local copy with --data /path/to/ml-100k (the directory holding u.data and "
           "u.item; get ml-100k.zip from https://files.grouplens.org/datasets/movielens/ and unzip it), or unzip "
           "it into ./data so that ./data/ml-100k/u.data exists. '--data synthetic' runs the whole pipeline on "
           "cfnet's seeded MovieLens-100K-shaped generator without any download.";
}

/// Quotes `s` for a POSIX shell.
inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

/// Downloads MovieLens 100K into `dest` (dest/ml-100k/u.data afterwards) by running the CMake script
/// cmake/fetch_movielens.cmake (file(DOWNLOAD) + MD5 check + file(ARCHIVE_EXTRACT)), whose path the
/// build compiles in as CFNET_FETCH_SCRIPT. The environment variable CFNET_ML100K_URL overrides the
/// address (a mirror; the tests use an unreachable one to exercise the offline path).
/// @throws std::runtime_error with offline_instructions() when the download or the check fails.
inline std::string fetch_ml100k(const std::string& dest = "data") {
#if defined(CFNET_FETCH_SCRIPT) && defined(CFNET_CMAKE_COMMAND)
    std::string cmake = CFNET_CMAKE_COMMAND;
    if (!std::filesystem::exists(cmake)) cmake = "cmake";  // the binary moved to another machine
    std::string cmd = shell_quote(cmake) + " " + shell_quote("-DDEST=" + dest);
    if (const char* url = std::getenv("CFNET_ML100K_URL"); url && *url) cmd += " " + shell_quote(std::string("-DURL=") + url);
    cmd += " -P " + shell_quote(CFNET_FETCH_SCRIPT);
    std::cerr << "MovieLens 100K not found (no --data, no ./data/ml-100k): fetching it with\n  " << cmd << "\n";
    std::cerr.flush();
    std::fflush(stdout);
    const int rc = std::system(cmd.c_str());
    const std::string dir = dest + "/ml-100k";
    if (rc != 0 || !std::filesystem::exists(std::filesystem::path(dir) / "u.data"))
        throw std::runtime_error("could not fetch MovieLens 100K (see the messages above). " + offline_instructions());
    return dir;
#else
    (void)dest;
    throw std::runtime_error("MovieLens 100K not found in ./data/ml-100k and this program was built without the "
                             "fetch script. " + offline_instructions());
#endif
}

/// Where MovieLens 100K is: `given` if not empty, else ./data/ml-100k, else ../shared/data/ml-100k
/// (and ../../shared/data/ml-100k); when none exists and `allow_fetch`, fetch_ml100k("data").
/// @throws std::runtime_error (with offline_instructions()) when it is nowhere and cannot be fetched,
///         or when `given` is not a directory (its files are checked by the loader).
inline std::string find_ml100k(const std::string& given, bool allow_fetch = true) {
    if (!given.empty()) {
        if (!std::filesystem::is_directory(given))
            throw std::runtime_error("--data " + given + ": no such directory. " + offline_instructions());
        return given;
    }
    for (const char* dir : {"data/ml-100k", "../shared/data/ml-100k", "../../shared/data/ml-100k"})
        if (std::filesystem::exists(std::filesystem::path(dir) / "u.data")) return dir;
    if (allow_fetch) return fetch_ml100k("data");
    throw std::runtime_error("MovieLens 100K not found in ./data/ml-100k. " + offline_instructions());
}

/// A catalog "Item <id>" for synthetic data, so the programs can print titles either way.
inline cfnet::movielens::ItemCatalog synthetic_catalog(const cfnet::RatingMatrix<float>& m) {
    std::vector<cfnet::movielens::Item> items;
    for (const auto id : m.items().ids()) items.push_back({id, "Item " + std::to_string(id), "", {}});
    return cfnet::movielens::ItemCatalog(std::move(items));
}

/// Loads the data and makes the split named by `split`:
///   per-user (the notebook's 20% holdout of users with >= 5 ratings, seeded), stratified-user
///   (25% of each user's ratings, seeded: the Microsoft Recommenders protocol's split),
///   stratified-item (25% of each item's ratings, seeded), u1..u5 (MovieLens'
///   shipped files), or a path to a file of held-out `user item rating` lines (e.g. the notebook's
///   exact split); training is everything else.
/// `data_arg`: a MovieLens 100K directory, "synthetic", or empty (find_ml100k: look, then fetch).
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
    } else if (split == "stratified-user") {
        w.split = cfnet::stratified_split(w.data.ratings, 0.25, seed, cfnet::By::user);
    } else if (split == "stratified-item") {
        w.split = cfnet::stratified_split(w.data.ratings, 0.25, seed, cfnet::By::item);
    } else if (split.size() == 2 && split[0] == 'u' && split[1] >= '1' && split[1] <= '5') {
        if (w.data_source == "synthetic") throw std::runtime_error("--split " + split + " needs the MovieLens files");
        w.split = cfnet::movielens::load_100k_split<float>(w.data_source, split);
    } else {
        w.split = cfnet::split_from_heldout_file(w.data.ratings, split);
    }
    return w;
}

/// The --split choices, for --help texts.
inline const char* split_choices() {
    return "per-user | stratified-user | stratified-item | u1..u5 | FILE of held-out 'user item rating' lines";
}

/// The title of item index `item` of `m`, or "Item <id>" when the catalog does not know it.
inline std::string title_of(const cfnet::movielens::ItemCatalog& catalog, const cfnet::RatingMatrix<float>& m,
                            cfnet::index_type item) {
    const auto id = m.items().id(item);
    return catalog.contains(id) ? catalog.title(id) : "Item " + std::to_string(id);
}

/// Notebook sections 1-2: the ratings' shape and head (the first five ratings, as pandas' head()
/// shows them), then the numbers of users and items.
inline void print_ratings_overview(std::ostream& os, const Workload& w) {
    const auto& all = w.data.ratings;
    os << "== 1. Ratings (" << w.data_source << ", " << w.data.variant << ")\n"
       << "ratings shape: (" << all.nnz() << ", " << (all.has_timestamps() ? 4 : 3) << ")\n"
       << "   user_id  item_id  rating  timestamp\n";
    for (cfnet::index_type u = 0, shown = 0; u < all.n_users() && shown < 5; ++u) {
        const auto items = all.user_items(u);
        for (std::size_t k = 0; k < items.size() && shown < 5; ++k, ++shown)
            os << std::setw(10) << all.users().id(u) << std::setw(9) << all.items().id(items[k]) << std::setw(8)
               << all.user_ratings(u)[k] << std::setw(11) << (all.has_timestamps() ? all.user_timestamps(u)[k] : 0)
               << "\n";
    }
    os << "\n== 2. Users and items\nusers: " << all.n_users() << ", items: " << all.n_items() << ", density "
       << std::setprecision(3) << 100 * all.density() << "%\n";
}

/// Seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace examples
