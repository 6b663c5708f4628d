#pragma once
/// @file tools/cfnet/common.hpp
/// What the `cfnet` subcommands share: the exit-code contract, usage errors, loading the data and
/// the split, the CLI's own entries in a model file's metadata, and small output helpers.
/// Not part of the library.

#include "../../examples/example_support.hpp"

#include <cfnet/data/interactions.hpp>
#include <cfnet/data/io.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/error.hpp>
#include <cfnet/serialize.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
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

/// The model types of a model file (its metadata key "model").
enum class ModelKind { autoencoder, neural_cf, ease, mult_vae };

/// The model kind of `cfnet train --model NAME` (autoencoder, ncf, ease, mult-dae, mult-vae).
inline ModelKind model_kind_of(const std::string& name) {
    if (name == "ncf") return ModelKind::neural_cf;
    if (name == "ease") return ModelKind::ease;
    if (name == "mult-dae" || name == "mult-vae") return ModelKind::mult_vae;
    return ModelKind::autoencoder;
}

/// The model type recorded in `info`. @throws cfnet::IoError when the file is a cfnet tensor
/// file but not a model saved by one of the models the tool knows.
inline ModelKind model_kind(const cfnet::ModelFileInfo& info, const std::string& path) {
    const auto it = info.metadata.find("model");
    if (it == info.metadata.end())
        throw cfnet::IoError("'" + path +
                             "' is a cfnet tensor file without a 'model' metadata entry, not a model saved by "
                             "AutoencoderCF, NeuralCF, Ease or MultVAE (see 'cfnet info " + path + "')");
    if (it->second == "AutoencoderCF") return ModelKind::autoencoder;
    if (it->second == "NeuralCF") return ModelKind::neural_cf;
    if (it->second == "Ease") return ModelKind::ease;
    if (it->second == "MultVAE") return ModelKind::mult_vae;
    throw cfnet::IoError("'" + path + "' holds a model of type '" + it->second +
                         "'; this cfnet reads AutoencoderCF, NeuralCF, Ease and MultVAE models");
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

/// How to read `--data FILE` (an interaction file rather than a MovieLens directory): the flags
/// --columns, --sep, --header, --items and --item-columns. `cfnet train` records the given ones
/// in the model file (cli.columns, ...), and evaluate/recommend use the recorded ones when a flag
/// is not given again.
struct FileLayout {
    std::optional<std::string> columns, sep, header, items, item_columns;
    bool any() const { return columns || sep || header || items || item_columns; }
};

inline constexpr std::pair<const char*, std::optional<std::string> FileLayout::*> layout_keys[] = {
    {"cli.columns", &FileLayout::columns}, {"cli.sep", &FileLayout::sep}, {"cli.header", &FileLayout::header},
    {"cli.items", &FileLayout::items},     {"cli.item_columns", &FileLayout::item_columns}};

/// True when --data names an interaction file (a MovieLens release is a directory).
inline bool is_interaction_file(const std::string& data) {
    return data != "synthetic" && std::filesystem::is_regular_file(data);
}

/// `given` with every absent flag taken from the model file's record (for an interaction file
/// only: --data DIR reads a MovieLens directory whatever the model was trained on).
inline FileLayout with_recorded(FileLayout given, const cfnet::Metadata& meta, const std::string& data) {
    if (!is_interaction_file(data)) return given;
    for (const auto& [key, member] : layout_keys)
        if (!(given.*member)) given.*member = meta_value(meta, key);
    return given;
}

inline void record_layout(cfnet::Metadata& meta, const FileLayout& f) {
    for (const auto& [key, member] : layout_keys)
        if (f.*member) meta[key] = *(f.*member);
}

namespace detail {

inline std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t b = 0;
    for (;;) {
        const auto e = s.find(',', b);
        out.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
        if (e == std::string::npos) return out;
        b = e + 1;
    }
}

/// A 1-based column number ("3") or a header name ("rating"); "-" = none. @throws UsageError.
inline cfnet::Column parse_column(const std::string& s, const char* flag) {
    if (s == "-") return cfnet::Column::none();
    if (s.empty()) throw UsageError(std::string(flag) + ": empty column name");
    if (s.find_first_not_of("0123456789") == std::string::npos) {
        const long n = s.size() > 6 ? 0 : std::stol(s);
        if (n < 1) throw UsageError(std::string(flag) + ": column numbers start at 1, got '" + s + "'");
        return cfnet::Column(static_cast<int>(n - 1));
    }
    return cfnet::Column(s);
}

template <class Options>
void apply_text_layout(Options& o, const FileLayout& f, bool with_sep) {
    if (with_sep && f.sep) {
        const std::string& v = *f.sep;
        if (v == "tab" || v == "\\t") o.separator("\t");
        else if (v == "comma") o.separator(",");
        else if (v == "semicolon") o.separator(";");
        else if (v == "space" || v == "whitespace") o.separator("whitespace");
        else if (v.empty()) throw UsageError("--sep: empty separator (auto, tab, comma, semicolon, whitespace, or the text)");
        else o.separator(v);
    }
    if (with_sep && f.header) {
        if (*f.header == "yes") o.header(cfnet::HeaderMode::yes);
        else if (*f.header == "no") o.header(cfnet::HeaderMode::no);
        else if (*f.header == "auto") o.header(cfnet::HeaderMode::auto_detect);
        else throw UsageError("--header " + *f.header + ": expected yes, no or auto");
    }
}

}  // namespace detail

/// The library options for `f`: --columns user,item[,rating[,timestamp]] by 1-based number or
/// header name ("-" for none: user,item,-,timestamp is implicit data with timestamps).
/// @throws UsageError for a malformed flag.
inline cfnet::InteractionFileOptions interaction_options(const FileLayout& f) {
    cfnet::InteractionFileOptions o;
    detail::apply_text_layout(o, f, true);
    if (f.columns) {
        const auto c = detail::split_list(*f.columns);
        if (c.size() < 2 || c.size() > 4)
            throw UsageError("--columns " + *f.columns + ": expected user,item[,rating[,timestamp]] (names or numbers from 1)");
        const auto user = detail::parse_column(c[0], "--columns"), item = detail::parse_column(c[1], "--columns");
        if (user.is_none() || item.is_none()) throw UsageError("--columns " + *f.columns + ": the user and item columns are required");
        o.user(user).item(item).rating(c.size() > 2 ? detail::parse_column(c[2], "--columns") : cfnet::Column::none());
        if (c.size() > 3) o.timestamp(detail::parse_column(c[3], "--columns"));
    }
    return o;
}

/// The options of the --items file: --item-columns item,title (default 1,2); separator and header detected.
inline cfnet::ItemFileOptions item_options(const FileLayout& f) {
    cfnet::ItemFileOptions o;
    if (f.item_columns) {
        const auto c = detail::split_list(*f.item_columns);
        if (c.size() != 2) throw UsageError("--item-columns " + *f.item_columns + ": expected item,title (names or numbers from 1)");
        const auto item = detail::parse_column(c[0], "--item-columns"), title = detail::parse_column(c[1], "--item-columns");
        if (item.is_none() || title.is_none()) throw UsageError("--item-columns: both columns are required");
        o.item(item).title(title);
    }
    return o;
}

/// Loads the data (a MovieLens directory, "synthetic", or an interaction FILE read with `layout`)
/// and makes the split; see examples::load_workload for the split names (u1..u5 need MovieLens).
/// @throws UsageError for layout flags without an interaction file; std::runtime_error /
///         cfnet::IoError / cfnet::ParseError for missing or malformed files.
inline examples::Workload load_data(const std::string& data, const FileLayout& layout, const std::string& split,
                                    std::uint64_t seed) {
    if (!is_interaction_file(data)) {
        if (layout.columns || layout.sep || layout.header)
            throw UsageError("--columns, --sep and --header describe an interaction file; --data " + data +
                             " is not a file (a MovieLens directory is read as such)");
        if (data != "synthetic") (void)examples::find_ml100k(data, /*allow_fetch=*/false);  // a clear error for a bad path
        return examples::load_workload(data, split, seed);
    }
    examples::Workload w;
    w.data.ratings = cfnet::load_interactions<float>(data, interaction_options(layout));
    w.data.variant = "file";
    w.data_source = data;
    w.split_name = split;
    if (split == "per-user")
        w.split = cfnet::per_user_holdout(w.data.ratings, seed);
    else if (split == "stratified-user")
        w.split = cfnet::stratified_split(w.data.ratings, 0.25, seed, cfnet::By::user);
    else if (split == "stratified-item")
        w.split = cfnet::stratified_split(w.data.ratings, 0.25, seed, cfnet::By::item);
    else if (split.size() == 2 && split[0] == 'u' && split[1] >= '1' && split[1] <= '5')
        throw UsageError("--split " + split + " is one of MovieLens 100K's shipped files; use per-user, stratified-user or stratified-item with --data FILE");
    else
        w.split = cfnet::split_from_heldout_file(w.data.ratings, split);
    return w;
}

/// The titles of the items of `items` by index ("" when unknown): from u.item / movies.* of a
/// MovieLens directory, from --items FILE for an interaction file, none for "synthetic".
/// @throws std::runtime_error / cfnet::IoError / cfnet::ParseError for a missing or malformed file.
inline std::vector<std::string> item_titles(const std::string& data, const FileLayout& layout, const cfnet::IdMap& items) {
    std::vector<std::string> titles(items.size());
    if (data == "synthetic") return titles;
    if (is_interaction_file(data)) {
        if (layout.items) titles = cfnet::load_item_titles(*layout.items, item_options(layout), items);
        return titles;
    }
    const std::string dir = examples::find_ml100k(data, /*allow_fetch=*/false);
    cfnet::movielens::ItemCatalog catalog;
    if (cfnet::detail::file_readable(cfnet::movielens::detail::join_path(dir, "u.item")))
        catalog = cfnet::movielens::load_items_100k(dir);
    else
        catalog = cfnet::movielens::load<float>(dir).items;
    for (std::size_t k = 0; k < items.size(); ++k)
        if (!items.has_names() && catalog.contains(items.ids()[k])) titles[k] = catalog.title(items.ids()[k]);
    return titles;
}

/// The title of item index `i`, or "Item <id>" when there is none.
inline std::string title_of(const std::vector<std::string>& titles, const cfnet::IdMap& items, cfnet::index_type i) {
    return i < titles.size() && !titles[i].empty() ? titles[i] : "Item " + items.label(i);
}

/// Throws cfnet::IoError unless the model's id map equals the data's ("users"/"items" in the message).
inline void check_same_ids(const cfnet::IdMap& model_ids, const cfnet::IdMap& data_ids, const char* what,
                           const std::string& model_path, const std::string& split) {
    if (model_ids == data_ids) return;
    throw cfnet::IoError(cfnet::detail::concat(
        "'", model_path, "' was trained on ", model_ids.size(), " ", what, " but the training part of --split ", split,
        " has ", data_ids.size(), model_ids.size() == data_ids.size() ? " different ids" : "",
        ": the model does not belong to this data set and split (pass the --data and --split it was trained with)"));
}

/// A new user's ratings for fold-in: `item rating` per line, blanks or tabs between the fields,
/// '#' starts a comment line. Items are original ids; each item at most once.
struct FoldInRatings {
    std::vector<std::string> items;  ///< original item ids as written (integers or names)
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
        const std::string item(split[0]);
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

/// An original id for JSON: a string for string ids, else the integer (as before string ids).
inline nlohmann::json id_json(const std::string& id, bool named) {
    if (named) return id;
    try {
        return static_cast<std::int64_t>(std::stoll(id));
    } catch (const std::exception&) {
        return id;
    }
}

/// A double for JSON: NaN and infinities become null.
inline nlohmann::json json_number(double v) {
    if (!std::isfinite(v)) return nullptr;
    return v;
}

}  // namespace cfnet_cli
