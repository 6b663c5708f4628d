#pragma once
/// @file data/interactions.hpp
/// Any interaction file: "user, item[, rating][, timestamp]" lines with the columns chosen by
/// header name or by position, the header stated or detected, any separator (tab, comma,
/// semicolon, "::", '|', whitespace; detected by default), RFC 4180 quoting for CSV, and integer or
/// string ids ("u_1029", UUIDs). Implicit data (no rating column) gets the value 1 on every line.
/// The file is streamed in blocks: its text is never held in memory whole. Item metadata
/// (id -> title) comes from a second file through load_item_titles().
///
/// String ids: a column whose ids are not all canonical decimal integers is read as text, and
/// its IdMap is *named* (IdMap::named): the names sorted byte-wise get indices 0, 1, 2, ... (the
/// same rule as integer ids, which are sorted numerically), so the index space does not depend
/// on the order of the lines. Names come back out unchanged (IdMap::label, model files).
///
/// Errors: an unreadable file is an IoError; every bad line a ParseError naming the file, the
/// 1-based line and the field with what was expected; an empty file, or one with no data line,
/// an IoError naming the file. docs/data.md has the whole story.
///
/// @code
/// auto m = cfnet::load_interactions<float>("ratings.csv",
///     cfnet::InteractionFileOptions().user("userId").item("movieId").rating("rating"));
/// auto titles = cfnet::load_item_titles("movies.csv", cfnet::ItemFileOptions().item("movieId").title("title"),
///                                       m.items());
/// @endcode

#include <cfnet/data/io.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/streaming.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cfnet {

/// Whether the first line is a header: detected (the default), or stated.
enum class HeaderMode { auto_detect, yes, no };

/// A column chosen by 0-based position or by its name in the header line; or none.
class Column {
public:
    Column() = default;
    Column(int position) : position_(position) {  // NOLINT: implicit on purpose (.user(0))
        check_arg(position >= 0, "Column: position must be >= 0, got ", position);
    }
    Column(const char* name) : Column(std::string(name)) {}  // NOLINT (.user("userId"))
    Column(std::string name) : name_(std::move(name)), position_(-2) {  // NOLINT
        check_arg(!name_.empty(), "Column: the name must not be empty");
    }
    static Column none() { return Column(); }

    bool is_none() const noexcept { return position_ == -1; }
    bool by_name() const noexcept { return position_ == -2; }
    const std::string& name() const noexcept { return name_; }
    int position() const noexcept { return position_; }
    /// "3" (1-based, for messages) or "'userId'".
    std::string describe() const { return by_name() ? "'" + name_ + "'" : std::to_string(position_ + 1); }

private:
    std::string name_;
    int position_ = -1;
};

namespace detail {

/// The options every delimited text file shares, with chained setters returning Derived&.
template <class Derived>
class TextLayout {
public:
    /// "auto" (the default: detected on the first line: tab, "::", ',', ';', '|', else whitespace),
    /// any non-empty string, or "whitespace" / " " (runs of blanks). @throws InvalidArgument if empty.
    Derived& separator(std::string sep) {
        check_arg(!sep.empty(), "separator: must not be empty (use \"auto\" or \"whitespace\")");
        separator_ = sep == " " ? "whitespace" : std::move(sep);
        return self();
    }
    Derived& header(HeaderMode mode) {
        header_ = mode;
        return self();
    }
    Derived& header(bool has_header) { return header(has_header ? HeaderMode::yes : HeaderMode::no); }
    /// The quote character; default '"' for ',' and ';' separators (RFC 4180), none otherwise;
    /// '\0' turns quoting off.
    Derived& quote(char q) {
        quote_ = q;
        quote_set_ = true;
        return self();
    }
    /// Lines starting with `prefix` (e.g. "#") are skipped; "" (the default) = no comments.
    Derived& comment(std::string prefix) {
        comment_ = std::move(prefix);
        return self();
    }

    const std::string& separator() const noexcept { return separator_; }
    HeaderMode header() const noexcept { return header_; }
    const std::string& comment() const noexcept { return comment_; }
    /// The quote character for the separator actually used.
    char quote_for(const std::string& sep) const noexcept {
        if (quote_set_) return quote_;
        return sep == "," || sep == ";" ? '"' : '\0';
    }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    std::string separator_ = "auto";
    HeaderMode header_ = HeaderMode::auto_detect;
    char quote_ = '\0';
    bool quote_set_ = false;
    std::string comment_;
};

}  // namespace detail

/// How to read an interaction file. Defaults: separator detected, header detected, user/item/
/// rating in columns 0/1/2, no timestamp, ids detected per column, duplicates an error.
class InteractionFileOptions : public detail::TextLayout<InteractionFileOptions> {
public:
    InteractionFileOptions& user(Column c) { return set(user_, std::move(c), "user"); }
    InteractionFileOptions& item(Column c) { return set(item_, std::move(c), "item"); }
    /// The rating column; Column::none() (or no_rating()) for implicit data: every line is a 1.
    InteractionFileOptions& rating(Column c) {
        rating_ = std::move(c);
        return *this;
    }
    InteractionFileOptions& no_rating() { return rating(Column::none()); }
    /// The timestamp column (integers); Column::none() (the default) for none.
    InteractionFileOptions& timestamp(Column c) {
        timestamp_ = std::move(c);
        return *this;
    }
    /// How both id columns are read (user_ids/item_ids set one).
    InteractionFileOptions& ids(IdKind k) {
        user_kind_ = item_kind_ = k;
        return *this;
    }
    InteractionFileOptions& user_ids(IdKind k) {
        user_kind_ = k;
        return *this;
    }
    InteractionFileOptions& item_ids(IdKind k) {
        item_kind_ = k;
        return *this;
    }
    /// A repeated (user, item) pair: error (default, naming both lines), keep_last or mean.
    InteractionFileOptions& duplicates(DuplicatePolicy p) {
        duplicates_ = p;
        return *this;
    }

    const Column& user() const noexcept { return user_; }
    const Column& item() const noexcept { return item_; }
    const Column& rating() const noexcept { return rating_; }
    const Column& timestamp() const noexcept { return timestamp_; }
    bool implicit() const noexcept { return rating_.is_none(); }
    IdKind user_ids() const noexcept { return user_kind_; }
    IdKind item_ids() const noexcept { return item_kind_; }
    DuplicatePolicy duplicates() const noexcept { return duplicates_; }

private:
    InteractionFileOptions& set(Column& dst, Column c, const char* what) {
        check_arg(!c.is_none(), "InteractionFileOptions::", what, ": the ", what, " column is required");
        dst = std::move(c);
        return *this;
    }
    Column user_ = 0, item_ = 1, rating_ = 2, timestamp_;
    IdKind user_kind_ = IdKind::auto_detect, item_kind_ = IdKind::auto_detect;
    DuplicatePolicy duplicates_ = DuplicatePolicy::error;
};

/// How to read an item metadata file (id -> title). Defaults: separator and header detected,
/// item id in column 0, title in column 1.
class ItemFileOptions : public detail::TextLayout<ItemFileOptions> {
public:
    ItemFileOptions& item(Column c) {
        check_arg(!c.is_none(), "ItemFileOptions::item: the item column is required");
        item_ = std::move(c);
        return *this;
    }
    ItemFileOptions& title(Column c) {
        check_arg(!c.is_none(), "ItemFileOptions::title: the title column is required");
        title_ = std::move(c);
        return *this;
    }
    const Column& item() const noexcept { return item_; }
    const Column& title() const noexcept { return title_; }

private:
    Column item_ = 0, title_ = 1;
};

namespace detail {

/// The separator of "auto" for the first data line.
inline std::string detect_separator(std::string_view line) {
    if (line.find('\t') != std::string_view::npos) return "\t";
    if (line.find("::") != std::string_view::npos) return "::";
    for (const char* s : {",", ";", "|"})
        if (line.find(s[0]) != std::string_view::npos) return s;
    return "whitespace";
}

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// Header words that auto-detection recognises in an id column.
inline bool header_word(std::string_view field) {
    static const char* const words[] = {"user",    "users",    "userid",   "user_id", "user id", "uid",
                                        "item",    "items",    "itemid",   "item_id", "item id", "iid",
                                        "movie",   "movieid",  "movie_id", "product", "productid", "product_id",
                                        "id",      "track",    "trackid",  "track_id", "song",   "artist"};
    const std::string l = lower(trim_blanks(field));
    for (const char* w : words)
        if (l == w) return true;
    return false;
}

inline bool is_number(std::string_view s) {
    s = trim_blanks(s);
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

/// Resolves a column against the header fields (exact name, else case-insensitive).
/// @throws ParseError naming the header line when the name is not there.
inline int resolve_column(const Column& c, const std::vector<std::string>& header, const std::string& source,
                          std::size_t line, const char* role) {
    if (!c.by_name()) return c.position();
    for (std::size_t k = 0; k < header.size(); ++k)
        if (header[k] == c.name()) return static_cast<int>(k);
    for (std::size_t k = 0; k < header.size(); ++k)
        if (lower(header[k]) == lower(c.name())) return static_cast<int>(k);
    std::string all;
    for (const auto& h : header) all += (all.empty() ? "'" : ", '") + h + "'";
    throw ParseError(source, line, "header", concat("no column named '", c.name(), "' for the ", role, " (the header has ", all, ")"));
}

/// The first data line of a file: separator detected, split, header decided, columns resolved.
struct Layout {
    std::string sep;
    char quote = '\0';
    bool header = false;
    std::vector<int> cols;  ///< resolved positions, in the order of the roles given
};

template <class Opt>
Layout resolve_layout(const Opt& o, std::string_view first, std::size_t line, const std::string& source,
                      const std::vector<std::pair<const Column*, const char*>>& roles, bool looks_like_header) {
    Layout L;
    L.sep = o.separator() == "auto" ? detect_separator(first) : o.separator();
    L.quote = L.sep == "whitespace" ? '\0' : o.quote_for(L.sep);
    bool named = false;
    for (const auto& r : roles) named = named || r.first->by_name();
    L.header = o.header() == HeaderMode::yes || (o.header() == HeaderMode::auto_detect && (named || looks_like_header));
    if (named && !L.header)
        throw ParseError(source, line, "header", "columns chosen by name need a header line (the header is set to 'no')");
    std::vector<std::string> names;
    if (L.header) {
        FieldSplitter split(L.sep == "whitespace" ? std::string() : L.sep, L.quote);
        if (!split.split(first)) throw ParseError(source, line, concat("column ", split.error_field() + 1), split.error());
        for (const auto f : split.fields()) names.emplace_back(trim_blanks(f));
    }
    for (const auto& r : roles) L.cols.push_back(r.first->is_none() ? -1 : resolve_column(*r.first, names, source, line, r.second));
    for (std::size_t a = 0; a < L.cols.size(); ++a)
        for (std::size_t b = a + 1; b < L.cols.size(); ++b) {
            if (L.cols[a] < 0 || L.cols[a] != L.cols[b]) continue;
            const std::string what = concat("load: the ", roles[a].second, " and ", roles[b].second,
                                            " columns are the same column (", L.cols[a] + 1, ")");
            // by position it is the options' mistake; through a header name it depends on the file
            if (roles[a].first->by_name() || roles[b].first->by_name()) throw ParseError(source, line, "header", what);
            throw InvalidArgument(what);
        }
    return L;
}

/// "field count" error naming the first used column the line lacks.
[[noreturn]] inline void throw_short_line(const std::vector<int>& cols, const char* const* roles, std::size_t found,
                                          std::size_t need, const std::string& source, std::size_t line) {
    int best = -1;
    const char* name = "line";
    for (std::size_t k = 0; k < cols.size(); ++k)
        if (cols[k] >= 0 && static_cast<std::size_t>(cols[k]) >= found && (best < 0 || cols[k] < best)) {
            best = cols[k];
            name = roles[k];
        }
    throw ParseError(source, line, name, concat("expected at least ", need, " fields, found ", found));
}

}  // namespace detail

/// Reads an interaction file into a RatingMatrix (timestamps kept when a timestamp column is
/// chosen). See the file comment for the format rules and docs/data.md for the details.
/// @throws IoError (unreadable, empty, or no data line), ParseError (file:line: field '...': what
///         was expected), InvalidArgument (inconsistent options, e.g. two roles on one column).
template <class T = float>
RatingMatrix<T> load_interactions(const std::string& path, const InteractionFileOptions& o = {}) {
    using namespace detail;
    FileLines lines(path);
    const char* const roles[] = {"user", "item", "rating", "timestamp"};
    IdColumn users(o.user_ids(), "user"), items(o.item_ids(), "item");
    std::vector<index_type> u_of, i_of;
    std::vector<T> values;
    std::vector<std::int64_t> stamps;
    std::vector<std::pair<std::size_t, std::size_t>> skips;  // (entry index, lines skipped before it)
    std::size_t skipped = 0;
    const auto skip = [&] {
        ++skipped;
        if (!skips.empty() && skips.back().first == u_of.size()) skips.back().second = skipped;
        else skips.emplace_back(u_of.size(), skipped);
    };
    Layout L;
    bool have_layout = false;
    FieldSplitter split("");
    std::size_t uc = 0, ic = 0, need = 0;
    int rc = -1, tc = -1;
    std::string_view line;
    while (lines.next(line)) {
        const std::size_t ln = lines.line_number();
        if (!o.comment().empty() && line.compare(0, o.comment().size(), o.comment()) == 0) {
            skip();
            continue;
        }
        if (!have_layout) {
            // Header detection: the rating or timestamp field is not a number, or the id fields are header words.
            const std::string sep = o.separator() == "auto" ? detect_separator(line) : o.separator();
            FieldSplitter probe(sep == "whitespace" ? std::string() : sep, sep == "whitespace" ? '\0' : o.quote_for(sep));
            bool looks = false;
            if (probe.split(line)) {
                // (a column the line lacks says nothing: the short line is reported as such)
                const auto has = [&](const Column& c) {
                    return !c.by_name() && !c.is_none() && static_cast<std::size_t>(c.position()) < probe.size();
                };
                const auto field = [&](const Column& c) { return probe[static_cast<std::size_t>(c.position())]; };
                looks = (has(o.rating()) && !is_number(field(o.rating()))) ||
                        (has(o.timestamp()) && !is_number(field(o.timestamp()))) ||
                        (has(o.user()) && has(o.item()) && header_word(field(o.user())) && header_word(field(o.item())));
            }
            L = resolve_layout(o, line, ln, path, {{&o.user(), "user"}, {&o.item(), "item"}, {&o.rating(), "rating"}, {&o.timestamp(), "timestamp"}}, looks);
            have_layout = true;
            split = FieldSplitter(L.sep == "whitespace" ? std::string() : L.sep, L.quote);
            uc = static_cast<std::size_t>(L.cols[0]);
            ic = static_cast<std::size_t>(L.cols[1]);
            rc = L.cols[2];
            tc = L.cols[3];
            need = static_cast<std::size_t>(*std::max_element(L.cols.begin(), L.cols.end())) + 1;
            if (L.header) {
                skip();
                continue;
            }
        }
        if (!split.split(line)) throw ParseError(path, ln, concat("column ", split.error_field() + 1), split.error());
        if (split.size() < need) throw_short_line(L.cols, roles, split.size(), need, path, ln);
        if (u_of.size() == 4096) {
            // Reserve for the whole file from the bytes per line so far: the vectors then grow
            // once (doubling would need up to 3x their size at the moment of a reallocation).
            std::error_code ec;
            const auto size = std::filesystem::file_size(path, ec);
            if (!ec && lines.consumed() > 0) {
                const auto est = static_cast<std::size_t>(static_cast<double>(size) / static_cast<double>(lines.consumed()) * 4096.0 * 1.02) + 16;
                u_of.reserve(est);
                i_of.reserve(est);
                values.reserve(est);
                if (tc >= 0) stamps.reserve(est);
            }
        }
        u_of.push_back(users.add(split[uc], path, ln));
        i_of.push_back(items.add(split[ic], path, ln));
        values.push_back(rc < 0 ? T(1) : parse_value_field<T>(split[static_cast<std::size_t>(rc)], path, ln, "rating"));
        if (tc >= 0) stamps.push_back(parse_int_field(split[static_cast<std::size_t>(tc)], path, ln, "timestamp"));
    }
    const std::size_t n = u_of.size();
    if (n == 0)
        throw IoError(lines.bytes() == 0 ? concat("load_interactions: '", path, "' is empty: no ratings to load")
                                         : concat("load_interactions: '", path, "' holds no data line (", lines.line_number(),
                                                  lines.line_number() == 1 ? " line: a header, comment or blank" : " lines, all header, comment or blank",
                                                  ")"));
    if (n >= std::numeric_limits<std::uint32_t>::max())
        throw IoError(concat("load_interactions: '", path, "' has ", n, " data lines: more than the 2^32 - 1 a matrix can index"));
    const auto line_of = [&](std::size_t k) {
        auto it = std::upper_bound(skips.begin(), skips.end(), std::make_pair(k, std::numeric_limits<std::size_t>::max()));
        return k + 1 + (it == skips.begin() ? 0 : std::prev(it)->second);
    };
    // Final index spaces (sorted ids / names), then CSR by two stable counting sorts (item, then user).
    std::vector<index_type> remap;
    auto umap = std::make_shared<const IdMap>(users.finish(remap, "user"));
    for (auto& u : u_of) u = remap[u];
    auto imap = std::make_shared<const IdMap>(items.finish(remap, "item"));
    for (auto& i : i_of) i = remap[i];
    remap = {};
    const std::size_t nu = umap->size();
    // Stable counting sort by user, then each row sorted by (item, line): the memory accesses
    // stay sequential for the usual file grouped by user.
    std::vector<std::size_t> row_ptr(nu + 1, 0);
    for (const auto u : u_of) ++row_ptr[u + 1];
    std::partial_sum(row_ptr.begin(), row_ptr.end(), row_ptr.begin());
    std::vector<std::uint32_t> order(n);
    {
        std::vector<std::size_t> next(row_ptr.begin(), row_ptr.end() - 1);
        for (std::size_t k = 0; k < n; ++k) order[next[u_of[k]]++] = static_cast<std::uint32_t>(k);
    }
    u_of = {};
    std::vector<std::pair<index_type, std::uint32_t>> row;
    for (std::size_t u = 0; u < nu; ++u) {
        row.clear();
        for (std::size_t p = row_ptr[u]; p < row_ptr[u + 1]; ++p) row.emplace_back(i_of[order[p]], order[p]);
        std::sort(row.begin(), row.end());
        for (std::size_t p = row_ptr[u]; p < row_ptr[u + 1]; ++p) order[p] = row[p - row_ptr[u]].second;
    }
    std::vector<index_type> item_idx;
    std::vector<T> vals;
    std::vector<std::int64_t> ts;
    item_idx.reserve(n);
    vals.reserve(n);
    if (tc >= 0) ts.reserve(n);
    std::vector<std::size_t> out_ptr(nu + 1, 0);
    for (std::size_t u = 0; u < nu; ++u) {
        for (std::size_t p = row_ptr[u]; p < row_ptr[u + 1];) {
            std::size_t q = p + 1;
            while (q < row_ptr[u + 1] && i_of[order[q]] == i_of[order[p]]) ++q;
            const std::uint32_t last = order[q - 1];
            T v = values[last];
            std::int64_t stamp = tc >= 0 ? stamps[last] : 0;
            if (q - p > 1) {
                if (o.duplicates() == DuplicatePolicy::error)
                    throw ParseError(path, line_of(order[p + 1]), "item",
                                     concat("duplicate rating for user ", umap->label(static_cast<index_type>(u)), ", item ",
                                            imap->label(i_of[order[p]]), " (lines ", line_of(order[p]), " and ",
                                            line_of(order[p + 1]), ")"));
                if (o.duplicates() == DuplicatePolicy::mean) {
                    double sum = 0;
                    for (std::size_t j = p; j < q; ++j) {
                        sum += static_cast<double>(values[order[j]]);
                        if (tc >= 0) stamp = std::max(stamp, stamps[order[j]]);
                    }
                    v = static_cast<T>(sum / static_cast<double>(q - p));
                }
            }
            item_idx.push_back(i_of[order[p]]);
            vals.push_back(v);
            if (tc >= 0) ts.push_back(stamp);
            p = q;
        }
        out_ptr[u + 1] = item_idx.size();
    }
    i_of = {};  // freed before the matrix builds its item-major copy
    values = {};
    stamps = {};
    order = {};
    row = {};
    return RatingMatrix<T>(std::move(umap), std::move(imap), std::move(out_ptr), std::move(item_idx), std::move(vals),
                           std::move(ts));
}

/// Reads item titles (id -> title) for the items of `items` from a delimited metadata file:
/// returns one title per item index ("" for an item the file does not list; items the file lists
/// but `items` lacks are ignored: catalogs usually hold more items than were rated). The file is
/// decoded as a whole: kept as is when it is valid UTF-8, else read as Latin-1 and converted.
/// @throws IoError (unreadable file), ParseError (malformed line, an item listed twice).
inline std::vector<std::string> load_item_titles(const std::string& path, const ItemFileOptions& o, const IdMap& items) {
    using namespace detail;
    std::string text = read_file(path);
    if (!is_valid_utf8(text)) text = latin1_to_utf8(text);
    LineReader reader(text, path);
    std::vector<std::string> titles(items.size());
    std::vector<std::size_t> seen(items.size(), 0);
    const char* const roles[] = {"item", "title"};
    Layout L;
    bool have_layout = false;
    FieldSplitter split("");
    std::size_t need = 0;
    std::string_view line;
    while (reader.next(line)) {
        const std::size_t ln = reader.line_number();
        if (!o.comment().empty() && line.compare(0, o.comment().size(), o.comment()) == 0) continue;
        if (!have_layout) {
            const std::string sep = o.separator() == "auto" ? detect_separator(line) : o.separator();
            FieldSplitter probe(sep == "whitespace" ? std::string() : sep, sep == "whitespace" ? '\0' : o.quote_for(sep));
            bool looks = false;
            if (probe.split(line) && !o.item().by_name() && static_cast<std::size_t>(o.item().position()) < probe.size()) {
                const auto f = trim_blanks(probe[static_cast<std::size_t>(o.item().position())]);
                id_type v = 0;
                looks = header_word(f) || (!items.has_names() && !canonical_int(f, v));
            }
            L = resolve_layout(o, line, ln, path, {{&o.item(), "item"}, {&o.title(), "title"}}, looks);
            have_layout = true;
            split = FieldSplitter(L.sep == "whitespace" ? std::string() : L.sep, L.quote);
            need = static_cast<std::size_t>(std::max(L.cols[0], L.cols[1])) + 1;
            if (L.header) continue;
        }
        if (!split.split(line)) throw ParseError(path, ln, concat("column ", split.error_field() + 1), split.error());
        if (split.size() < need) throw_short_line(L.cols, roles, split.size(), need, path, ln);
        const std::string_view id = trim_blanks(split[static_cast<std::size_t>(L.cols[0])]);
        if (id.empty()) throw ParseError(path, ln, "item", "expected an item id, found an empty field");
        std::optional<index_type> k;
        if (items.has_names()) {
            k = items.find(std::string(id));
        } else {
            k = items.find(parse_int_field(id, path, ln, "item"));
        }
        if (!k) continue;
        if (seen[*k] != 0)
            throw ParseError(path, ln, "item", concat("item ", id, " is listed twice (lines ", seen[*k], " and ", ln, ")"));
        seen[*k] = ln;
        titles[*k] = std::string(split[static_cast<std::size_t>(L.cols[1])]);
    }
    return titles;
}

}  // namespace cfnet
