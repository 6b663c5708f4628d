#pragma once
/// @file data/movielens.hpp
/// Loaders for the MovieLens releases (GroupLens), built on the delimited reader of io.hpp.
///
/// | variant   | files detected                     | ratings                         | items                          |
/// |-----------|------------------------------------|---------------------------------|--------------------------------|
/// | ml-100k   | u.data (+ u.item, u.genre)         | tab: user item rating ts, 1..5  | u.item '|', Latin-1, 19 flags  |
/// | ml-1m     | ratings.dat + users.dat            | "::": user::item::rating::ts 1..5 | movies.dat id::title::G1|G2  |
/// | ml-10m    | ratings.dat, no users.dat          | "::", 0.5..5 in half stars      | movies.dat                     |
/// | ml-csv    | ratings.csv (ml-20m, ml-25m, ml-latest, ml-latest-small) | CSV with header, 0.5..5 | movies.csv, quoted titles |
///
/// Text is returned as UTF-8. Metadata files (u.item, movies.dat) are decoded per file: a file
/// whose bytes are valid UTF-8 is kept as is, any other is read as Latin-1 (ISO-8859-1) and
/// converted; ML-100K's u.item and ML-1M's movies.dat are Latin-1. The genre "(no genres listed)"
/// of the CSV releases becomes an empty genre list. Every rated item must be in the item file.

#include <cfnet/data/io.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cfnet {
namespace movielens {

/// One movie of the item file.
struct Item {
    id_type id = 0;
    std::string title;         ///< UTF-8, as in the file ("Toy Story (1995)")
    std::string release_date;  ///< ML-100K only ("01-Jan-1995", may be empty); empty elsewhere
    std::vector<std::string> genres;
};

/// One user of ML-100K's u.user.
struct User {
    id_type id = 0;
    int age = 0;
    std::string gender;      ///< "M" or "F"
    std::string occupation;  ///< one of u.occupation
    std::string zip;         ///< kept as text: some are not numeric ("T8H1N")
};

/// The movies of a dataset with O(1) lookup by original id.
class ItemCatalog {
public:
    using size_type = std::size_t;

    ItemCatalog() = default;
    /// @throws InvalidArgument if an id repeats.
    explicit ItemCatalog(std::vector<Item> items) : items_(std::move(items)) {
        index_.reserve(items_.size());
        for (size_type k = 0; k < items_.size(); ++k) {
            const bool inserted = index_.emplace(items_[k].id, k).second;
            check_arg(inserted, "ItemCatalog: duplicate item id ", items_[k].id);
        }
    }

    size_type size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const std::vector<Item>& items() const noexcept { return items_; }
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }
    bool contains(id_type id) const { return index_.count(id) != 0; }

    /// @throws InvalidArgument naming the id if it is unknown.
    const Item& at(id_type id) const {
        const auto it = index_.find(id);
        if (it == index_.end()) throw InvalidArgument(detail::concat("ItemCatalog: unknown item id ", id));
        return items_[it->second];
    }
    /// @throws InvalidArgument naming the id if it is unknown.
    const std::string& title(id_type id) const { return at(id).title; }
    /// @throws InvalidArgument naming the id if it is unknown.
    const std::vector<std::string>& genres(id_type id) const { return at(id).genres; }

private:
    std::vector<Item> items_;
    std::unordered_map<id_type, size_type> index_;
};

/// Ratings plus the item catalog of one MovieLens release.
template <class T = float>
struct Dataset {
    RatingMatrix<T> ratings;
    ItemCatalog items;
    std::string variant;  ///< "ml-100k", "ml-1m", "ml-10m" or "ml-csv"
};

// --- formats -------------------------------------------------------------------------------------

/// u.data / uN.base / uN.test: "user\titem\trating\ttimestamp", integer ratings 1..5.
inline DelimitedFormat format_100k() {
    return DelimitedFormat().separator("\t").columns(0, 1, 2, 3).fields(4).rating_range(1, 5).integer_ratings(true);
}
/// ML-1M ratings.dat: "user::item::rating::timestamp", integer ratings 1..5.
inline DelimitedFormat format_1m() {
    return DelimitedFormat().separator("::").columns(0, 1, 2, 3).fields(4).rating_range(1, 5).integer_ratings(true);
}
/// ML-10M ratings.dat: "user::item::rating::timestamp", half stars 0.5..5.
inline DelimitedFormat format_10m() {
    return DelimitedFormat().separator("::").columns(0, 1, 2, 3).fields(4).rating_range(0.5, 5);
}
/// ML-20M/25M/latest ratings.csv: header "userId,movieId,rating,timestamp", half stars 0.5..5.
inline DelimitedFormat format_csv() {
    return DelimitedFormat().separator(",").quote('"').header(true).columns(0, 1, 2, 3).fields(4).rating_range(0.5, 5);
}

namespace detail {

inline std::string join_path(const std::string& dir, const char* file) {
    if (dir.empty()) return file;
    return dir.back() == '/' ? dir + file : dir + "/" + file;
}

/// The text of a metadata file as UTF-8 (Latin-1 converted when the bytes are not valid UTF-8).
inline std::string read_text_utf8(const std::string& path) {
    std::string raw = cfnet::detail::read_file(path);
    if (cfnet::detail::is_valid_utf8(raw)) return raw;
    return cfnet::detail::latin1_to_utf8(raw);
}

/// Splits "A|B|C" into its parts; "" and "(no genres listed)" give no genres.
inline std::vector<std::string> split_genres(std::string_view s) {
    std::vector<std::string> out;
    if (s.empty() || s == "(no genres listed)") return out;
    std::size_t p = 0;
    for (;;) {
        const auto h = s.find('|', p);
        out.emplace_back(s.substr(p, h == std::string_view::npos ? std::string_view::npos : h - p));
        if (h == std::string_view::npos) return out;
        p = h + 1;
    }
}

inline void check_fields(const cfnet::detail::FieldSplitter& s, std::size_t expected, const std::string& path,
                         std::size_t line) {
    if (s.size() != expected) {
        const std::size_t field = s.size() < expected ? s.size() + 1 : expected + 1;
        throw ParseError(path, line, cfnet::detail::concat("column ", field),
                         cfnet::detail::concat("expected ", expected, " fields, found ", s.size()));
    }
}

inline void split_or_throw(cfnet::detail::FieldSplitter& s, std::string_view line, const std::string& path,
                           std::size_t ln) {
    if (!s.split(line))
        throw ParseError(path, ln, cfnet::detail::concat("column ", s.error_field() + 1), s.error());
}

/// Genre names of u.genre, in the order of their numbers (which must run 0, 1, 2, ...).
inline std::vector<std::string> read_genres_100k(const std::string& path) {
    const std::string text = read_text_utf8(path);
    cfnet::detail::LineReader reader(text, path);
    cfnet::detail::FieldSplitter split("|");
    std::vector<std::string> names;
    std::string_view line;
    while (reader.next(line)) {
        const auto ln = reader.line_number();
        split_or_throw(split, line, path, ln);
        check_fields(split, 2, path, ln);
        const auto number = cfnet::detail::parse_int_field(split[1], path, ln, "number");
        if (number != static_cast<std::int64_t>(names.size()))
            throw ParseError(path, ln, "number",
                             cfnet::detail::concat("expected genre number ", names.size(), ", found ", number));
        names.emplace_back(split[0]);
    }
    if (names.empty()) throw ParseError(path, 1, "genre", "no genres in the file");
    return names;
}

/// An empty ratings file (or one with only a header) is an error naming the file, not a 0 x 0
/// matrix that fails much later. @throws IoError.
inline void require_ratings(std::size_t count, const std::string& path, const char* who) {
    if (count != 0) return;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    throw IoError(cfnet::detail::concat("movielens::", who, ": '", path, "' holds no ratings (",
                                        !ec && size == 0 ? "the file is empty" : "no data line", ")"));
}

/// Every rated item must be in the catalog.
template <class T>
void check_rated_items(const RatingMatrix<T>& ratings, const ItemCatalog& items, const std::string& ratings_path,
                       const std::string& items_path) {
    for (const auto id : ratings.items().ids())
        if (!items.contains(id))
            throw IoError(cfnet::detail::concat("'", ratings_path, "' rates item ", id, ", which is not in '", items_path,
                                                "'"));
}

/// movies.dat ("id::title::G1|G2") or movies.csv ("movieId,title,genres" with a header and quotes).
inline ItemCatalog read_movies(const std::string& path, bool csv) {
    const std::string text = read_text_utf8(path);
    cfnet::detail::LineReader reader(text, path);
    cfnet::detail::FieldSplitter split(csv ? "," : "::", csv ? '"' : '\0');
    std::string_view line;
    if (csv && !reader.next(line)) throw ParseError(path, 1, "header", "expected a header line, the file is empty");
    std::vector<Item> items;
    while (reader.next(line)) {
        const auto ln = reader.line_number();
        split_or_throw(split, line, path, ln);
        check_fields(split, 3, path, ln);
        Item it;
        it.id = cfnet::detail::parse_int_field(split[0], path, ln, csv ? "movieId" : "id");
        it.title = std::string(split[1]);
        it.genres = split_genres(split[2]);
        items.push_back(std::move(it));
    }
    try {
        return ItemCatalog(std::move(items));
    } catch (const InvalidArgument& e) {
        throw IoError(cfnet::detail::concat(path, ": ", e.what()));
    }
}

}  // namespace detail

/// Reads ML-100K's u.item (with genre names from u.genre in the same directory): "id|title|
/// release date|video release date|IMDb URL|" followed by one 0/1 flag per genre.
/// @throws IoError if a file cannot be read; ParseError on a malformed line.
inline ItemCatalog load_items_100k(const std::string& dir) {
    const auto genres = detail::read_genres_100k(detail::join_path(dir, "u.genre"));
    const std::string path = detail::join_path(dir, "u.item");
    const std::string text = detail::read_text_utf8(path);
    cfnet::detail::LineReader reader(text, path);
    cfnet::detail::FieldSplitter split("|");
    std::vector<Item> items;
    items.reserve(2048);
    std::string_view line;
    while (reader.next(line)) {
        const auto ln = reader.line_number();
        detail::split_or_throw(split, line, path, ln);
        detail::check_fields(split, 5 + genres.size(), path, ln);
        Item it;
        it.id = cfnet::detail::parse_int_field(split[0], path, ln, "id");
        it.title = std::string(split[1]);
        it.release_date = std::string(split[2]);
        for (std::size_t g = 0; g < genres.size(); ++g) {
            const auto flag = split[5 + g];
            if (flag == "1") {
                it.genres.push_back(genres[g]);
            } else if (flag != "0") {
                throw ParseError(path, ln, genres[g], cfnet::detail::concat("expected a genre flag 0 or 1, found '", flag, "'"));
            }
        }
        items.push_back(std::move(it));
    }
    try {
        return ItemCatalog(std::move(items));
    } catch (const InvalidArgument& e) {
        throw IoError(cfnet::detail::concat(path, ": ", e.what()));
    }
}

/// Reads ML-100K's u.user: "id|age|gender|occupation|zip", in file order.
/// @throws IoError if the file cannot be read; ParseError on a malformed line.
inline std::vector<User> load_users(const std::string& dir) {
    const std::string path = detail::join_path(dir, "u.user");
    const std::string text = detail::read_text_utf8(path);
    cfnet::detail::LineReader reader(text, path);
    cfnet::detail::FieldSplitter split("|");
    std::vector<User> users;
    std::string_view line;
    while (reader.next(line)) {
        const auto ln = reader.line_number();
        detail::split_or_throw(split, line, path, ln);
        detail::check_fields(split, 5, path, ln);
        User u;
        u.id = cfnet::detail::parse_int_field(split[0], path, ln, "id");
        const auto age = cfnet::detail::parse_int_field(split[1], path, ln, "age");
        if (age < 0 || age > 150) throw ParseError(path, ln, "age", cfnet::detail::concat("age ", age, " is outside [0, 150]"));
        u.age = static_cast<int>(age);
        u.gender = std::string(split[2]);
        u.occupation = std::string(split[3]);
        u.zip = std::string(split[4]);
        users.push_back(std::move(u));
    }
    return users;
}

/// ML-100K: u.data, u.item and u.genre of `dir`. @throws IoError, ParseError.
template <class T = float>
Dataset<T> load_100k(const std::string& dir) {
    Dataset<T> d;
    const std::string rpath = detail::join_path(dir, "u.data");
    d.ratings = load_ratings<T>(rpath, format_100k());
    detail::require_ratings(d.ratings.nnz(), rpath, "load_100k");
    d.items = load_items_100k(dir);
    detail::check_rated_items(d.ratings, d.items, rpath, detail::join_path(dir, "u.item"));
    d.variant = "ml-100k";
    return d;
}

/// ML-1M or ML-10M: ratings.dat and movies.dat of `dir`. The variant is ml-1m when users.dat is
/// present (integer ratings 1..5) and ml-10m otherwise (half stars 0.5..5). @throws IoError, ParseError.
template <class T = float>
Dataset<T> load_1m_10m(const std::string& dir) {
    Dataset<T> d;
    const bool one_m = cfnet::detail::file_readable(detail::join_path(dir, "users.dat"));
    const std::string rpath = detail::join_path(dir, "ratings.dat");
    d.ratings = load_ratings<T>(rpath, one_m ? format_1m() : format_10m());
    detail::require_ratings(d.ratings.nnz(), rpath, "load_1m_10m");
    const std::string ipath = detail::join_path(dir, "movies.dat");
    d.items = detail::read_movies(ipath, false);
    detail::check_rated_items(d.ratings, d.items, rpath, ipath);
    d.variant = one_m ? "ml-1m" : "ml-10m";
    return d;
}

/// ML-20M, ML-25M, ml-latest(-small): ratings.csv and movies.csv of `dir` (UTF-8, header lines,
/// quoted titles, half stars 0.5..5). @throws IoError, ParseError.
template <class T = float>
Dataset<T> load_csv(const std::string& dir) {
    Dataset<T> d;
    const std::string rpath = detail::join_path(dir, "ratings.csv");
    d.ratings = load_ratings<T>(rpath, format_csv());
    detail::require_ratings(d.ratings.nnz(), rpath, "load_csv");
    const std::string ipath = detail::join_path(dir, "movies.csv");
    d.items = detail::read_movies(ipath, true);
    detail::check_rated_items(d.ratings, d.items, rpath, ipath);
    d.variant = "ml-csv";
    return d;
}

/// Loads the MovieLens release in `dir`, detected by its files: u.data -> load_100k,
/// ratings.dat -> load_1m_10m, ratings.csv -> load_csv.
/// @throws IoError if none of them is present; IoError, ParseError from the loader.
template <class T = float>
Dataset<T> load(const std::string& dir) {
    if (cfnet::detail::file_readable(detail::join_path(dir, "u.data"))) return load_100k<T>(dir);
    if (cfnet::detail::file_readable(detail::join_path(dir, "ratings.dat"))) return load_1m_10m<T>(dir);
    if (cfnet::detail::file_readable(detail::join_path(dir, "ratings.csv"))) return load_csv<T>(dir);
    throw IoError(cfnet::detail::concat("movielens::load: no MovieLens ratings file (u.data, ratings.dat or ratings.csv) in '",
                                        dir, "'"));
}

/// One of ML-100K's shipped splits: `name` ".base" is train, `name` ".test" is test ("u1".."u5",
/// "ua", "ub"). Both share one index space, the ids of the two files together (for u1..u5 that is
/// the whole u.data space). A pair present in both files is a ParseError naming the test line.
/// @throws InvalidArgument if name is empty; IoError, ParseError.
template <class T = float>
Split<T> load_100k_split(const std::string& dir, const std::string& name) {
    check_arg(!name.empty() && name.find('/') == std::string::npos, "movielens::load_100k_split: bad split name '", name,
              "'");
    const std::string base = detail::join_path(dir, (name + ".base").c_str());
    const std::string test = detail::join_path(dir, (name + ".test").c_str());
    const auto fmt = format_100k();
    const std::string base_text = cfnet::detail::read_file(base), test_text = cfnet::detail::read_file(test);
    std::vector<Rating<T>> rb, rt;
    std::vector<std::size_t> lb, lt;
    cfnet::detail::parse_ratings_into(base_text, fmt, base, rb, &lb);
    cfnet::detail::parse_ratings_into(test_text, fmt, test, rt, &lt);
    detail::require_ratings(rb.size(), base, "load_100k_split");
    detail::require_ratings(rt.size(), test, "load_100k_split");
    std::vector<id_type> uids, iids;
    uids.reserve(rb.size() + rt.size());
    iids.reserve(rb.size() + rt.size());
    for (const auto* v : {&rb, &rt})
        for (const auto& r : *v) {
            uids.push_back(r.user);
            iids.push_back(r.item);
        }
    auto users = std::make_shared<const IdMap>(IdMap::sorted_unique(std::move(uids), "user"));
    auto items = std::make_shared<const IdMap>(IdMap::sorted_unique(std::move(iids), "item"));
    Split<T> s;
    try {
        s.train = RatingMatrix<T>::from_ratings(rb, users, items, fmt.duplicates(), true);
    } catch (const DuplicateRatingError& e) {
        cfnet::detail::throw_duplicate(e, lb, base);
    }
    try {
        s.test = RatingMatrix<T>::from_ratings(rt, users, items, fmt.duplicates(), true);
    } catch (const DuplicateRatingError& e) {
        cfnet::detail::throw_duplicate(e, lt, test);
    }
    for (std::size_t k = 0; k < rt.size(); ++k)
        if (s.train.contains(users->index(rt[k].user), items->index(rt[k].item)))
            throw ParseError(test, lt[k], "item",
                             cfnet::detail::concat("user ", rt[k].user, ", item ", rt[k].item, " is also in '", base, "'"));
    return s;
}

}  // namespace movielens

/// Splits `all` by a file of held-out ratings, one "user item rating" per line, separated by tabs
/// or spaces (the format of the notebook's test.tsv). test = the listed pairs, train = every other
/// rating of `all`; both share `all`'s id maps and keep its values and timestamps.
/// @throws IoError if the file cannot be read; ParseError (naming the line) for a malformed line,
/// a user or item not in `all`, a pair `all` does not hold, a rating that differs from `all`'s,
/// or a pair listed twice.
template <class T = float>
Split<T> split_from_heldout_file(const RatingMatrix<T>& all, const std::string& path) {
    const std::string text = detail::read_file(path);
    detail::LineReader reader(text, path);
    detail::FieldSplitter split("");
    std::vector<std::size_t> held_line(all.nnz(), 0);  // 0 = not held out, else the line that holds it out
    std::string_view line;
    while (reader.next(line)) {
        const auto ln = reader.line_number();
        split.split(line);
        if (split.size() != 3)
            throw ParseError(path, ln, split.size() < 3 ? (split.size() < 2 ? "item" : "rating") : "column 4",
                             detail::concat("expected 3 fields, found ", split.size()));
        const auto uid = detail::parse_int_field(split[0], path, ln, "user");
        const auto iid = detail::parse_int_field(split[1], path, ln, "item");
        const double v = detail::parse_real_field(split[2], path, ln, "rating");
        const auto u = all.users().find(uid);
        if (!u) throw ParseError(path, ln, "user", detail::concat("user ", uid, " is not in the rating matrix"));
        const auto i = all.items().find(iid);
        if (!i) throw ParseError(path, ln, "item", detail::concat("item ", iid, " is not in the rating matrix"));
        const auto row = all.user_items(*u);
        const auto* it = std::lower_bound(row.begin(), row.end(), *i);
        if (it == row.end() || *it != *i)
            throw ParseError(path, ln, "item",
                             detail::concat("user ", uid, " has no rating for item ", iid, " in the rating matrix"));
        const std::size_t k = all.row_ptr()[*u] + static_cast<std::size_t>(it - row.begin());
        if (static_cast<T>(v) != all.values()[k])
            throw ParseError(path, ln, "rating",
                             detail::concat("rating ", detail::trim_blanks(split[2]), " differs from the matrix's ",
                                            all.values()[k], " for user ", uid, ", item ", iid));
        if (held_line[k] != 0)
            throw ParseError(path, ln, "item",
                             detail::concat("user ", uid, ", item ", iid, " is listed twice (lines ", held_line[k], " and ",
                                            ln, ")"));
        held_line[k] = ln;
    }
    Split<T> s;
    s.train = all.filter([&](std::size_t k) { return held_line[k] == 0; });
    s.test = all.filter([&](std::size_t k) { return held_line[k] != 0; });
    return s;
}

}  // namespace cfnet
