#pragma once
/// @file tools/cfnet/common.hpp
/// What the `cfnet` subcommands share: the exit-code contract, usage errors, loading the data and
/// the split, the CLI's own entries in a model file's metadata, and small output helpers.
/// Not part of the library.

#include "../../examples/example_support.hpp"

#include <cfnet/data/io.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>
#include <cfnet/serialize.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cfnet_cli {

/// Exit codes a shell user can rely on (docs/cli.md).
enum ExitCode : int {
    exit_ok = 0,       ///< success (also --help and --version)
    exit_runtime = 1,  ///< a runtime or data error: unreadable/malformed file, wrong model file, unknown id, ...
    exit_usage = 2     ///< a usage error: unknown option, missing or invalid argument, conflicting options
};

/// A command line that cannot work (mapped to exit code 2). Thrown after CLI11's own parsing, for
/// the checks that need more than one option (e.g. an autoencoder option given with --model ncf).
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The metadata keys `cfnet train` adds to the model file next to the model's own entries, so that
/// `cfnet evaluate` and `cfnet recommend` rebuild the same training matrix without being told again.
inline constexpr const char* meta_split = "cli.split";
inline constexpr const char* meta_seed = "cli.seed";
inline constexpr const char* meta_data = "cli.data";

/// The two model types of a model file (its metadata key "model").
enum class ModelKind { autoencoder, neural_cf };

/// The model type recorded in `info`. @throws cfnet::IoError when the file is a cfnet tensor
/// file but not a model saved by AutoencoderCF or NeuralCF.
inline ModelKind model_kind(const cfnet::ModelFileInfo& info, const std::string& path) {
    const auto it = info.metadata.find("model");
    if (it == info.metadata.end())
        throw cfnet::IoError("'" + path +
                             "' is a cfnet tensor file without a 'model' metadata entry, not a model saved by "
                             "AutoencoderCF or NeuralCF (see 'cfnet info " + path + "')");
    if (it->second == "AutoencoderCF") return ModelKind::autoencoder;
    if (it->second == "NeuralCF") return ModelKind::neural_cf;
    throw cfnet::IoError("'" + path + "' holds a model of type '" + it->second +
                         "'; this cfnet reads AutoencoderCF and NeuralCF models");
}

/// The recorded metadata value for `key`, if any.
inline std::optional<std::string> meta_value(const cfnet::Metadata& m, const std::string& key) {
    const auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
}

/// The split and seed a command runs with: the ones given on the command line, else the ones the
/// model file records. Warns (stderr) when the given split or seed differ from the recorded ones,
/// because the test ratings may then overlap the model's training data.
struct SplitChoice {
    std::string split;
    std::uint64_t seed = 42;
};

inline SplitChoice resolve_split(const cfnet::Metadata& meta, const std::string& model_path,
                                 const std::optional<std::string>& split, const std::optional<std::uint64_t>& seed,
                                 const char* command) {
    SplitChoice c;
    const auto rec_split = meta_value(meta, meta_split);
    const auto rec_seed = meta_value(meta, meta_seed);
    if (split) {
        c.split = *split;
    } else if (rec_split) {
        c.split = *rec_split;
    } else {
        throw UsageError(std::string(command) + ": --split is required: '" + model_path +
                         "' does not record the split it was trained on (it was not written by 'cfnet train')");
    }
    if (seed) {
        c.seed = *seed;
    } else if (rec_seed) {
        c.seed = cfnet::MetadataReader(meta, std::string("cfnet ") + command, model_path).count<std::uint64_t>(meta_seed);
    }
    if (rec_split && (*rec_split != c.split || (rec_seed && *rec_seed != std::to_string(c.seed))))
        std::cerr << "cfnet: warning: " << command << ": '" << model_path << "' was trained with --split " << *rec_split
                  << (rec_seed ? " --seed " + *rec_seed : std::string()) << "; running with --split " << c.split
                  << " --seed " << c.seed << ": test ratings may have been training data\n";
    return c;
}

/// Loads the data directory (or "synthetic") and makes the split; see examples::load_workload.
/// @throws std::runtime_error / cfnet::IoError / cfnet::ParseError for missing or malformed files.
inline examples::Workload load_data(const std::string& data, const std::string& split, std::uint64_t seed) {
    if (data != "synthetic") (void)examples::find_ml100k(data, /*allow_fetch=*/false);  // a clear error for a bad path
    return examples::load_workload(data, split, seed);
}

/// Loads the movie titles of `data` into `catalog` (none for "synthetic": its items are shown as
/// "Item <id>") and returns the data source (the directory, or "synthetic").
/// @throws std::runtime_error / cfnet::IoError / cfnet::ParseError for a missing or malformed file.
inline std::string load_titles(const std::string& data, cfnet::movielens::ItemCatalog& catalog) {
    if (data == "synthetic") return data;
    const std::string dir = examples::find_ml100k(data, /*allow_fetch=*/false);
    if (cfnet::detail::file_readable(cfnet::movielens::detail::join_path(dir, "u.item")))
        catalog = cfnet::movielens::load_items_100k(dir);
    else
        catalog = cfnet::movielens::load<float>(dir).items;
    return dir;
}

/// The title of the item with original id `id`, or "Item <id>" when the catalog has none.
inline std::string title_of(const cfnet::movielens::ItemCatalog& catalog, cfnet::id_type id) {
    return catalog.contains(id) ? catalog.title(id) : "Item " + std::to_string(id);
}

/// Throws cfnet::IoError unless the two id lists are equal ("users"/"items" in the message).
inline void check_same_ids(const std::vector<cfnet::id_type>& model_ids, const std::vector<cfnet::id_type>& data_ids,
                           const char* what, const std::string& model_path, const std::string& split) {
    if (model_ids == data_ids) return;
    throw cfnet::IoError(cfnet::detail::concat(
        "'", model_path, "' was trained on ", model_ids.size(), " ", what, " but the training part of --split ", split,
        " has ", data_ids.size(), model_ids.size() == data_ids.size() ? " different ids" : "",
        ": the model does not belong to this data set and split (pass the --data and --split it was trained with)"));
}

/// A new user's ratings for fold-in: `item rating` per line, blanks or tabs between the fields,
/// '#' starts a comment line. Items are original ids; each item at most once.
struct FoldInRatings {
    std::vector<cfnet::id_type> items;
    std::vector<double> ratings;
    std::vector<std::size_t> lines;  ///< 1-based line of each rating, for error messages
};

/// @throws cfnet::IoError when the file cannot be read; cfnet::ParseError (file, line, field) for a
///         malformed line, a repeated item or an empty file.
inline FoldInRatings read_fold_in_ratings(const std::string& path) {
    namespace d = cfnet::detail;
    const std::string text = d::read_file(path);
    d::LineReader reader(text, path);
    d::FieldSplitter split("");
    FoldInRatings r;
    std::string_view line;
    while (reader.next(line)) {
        const std::size_t ln = reader.line_number();
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string_view::npos && line[first] == '#') continue;
        split.split(line);
        if (split.size() != 2)
            throw cfnet::ParseError(path, ln, split.size() < 2 ? "rating" : "column 3",
                                    d::concat("expected 2 fields 'item rating', found ", split.size()));
        const auto item = d::parse_int_field(split[0], path, ln, "item");
        const double rating = d::parse_real_field(split[1], path, ln, "rating");
        for (std::size_t k = 0; k < r.items.size(); ++k)
            if (r.items[k] == item)
                throw cfnet::ParseError(path, ln, "item",
                                        d::concat("item ", item, " is rated twice (lines ", r.lines[k], " and ", ln, ")"));
        r.items.push_back(item);
        r.ratings.push_back(rating);
        r.lines.push_back(ln);
    }
    if (r.items.empty()) throw cfnet::ParseError(path, 1, "item", "the file holds no 'item rating' line");
    return r;
}

/// Writes `j` (pretty-printed) to `path`. @throws cfnet::IoError when it cannot be written.
inline void write_json_file(const std::string& path, const nlohmann::json& j) {
    std::ofstream os(path);
    if (!os) throw cfnet::IoError("cannot open '" + path + "' for writing");
    os << j.dump(2) << '\n';
    if (!os.flush()) throw cfnet::IoError("error writing '" + path + "'");
}

/// A double for JSON: NaN and infinities become null.
inline nlohmann::json json_number(double v) {
    if (!std::isfinite(v)) return nullptr;
    return v;
}

}  // namespace cfnet_cli
