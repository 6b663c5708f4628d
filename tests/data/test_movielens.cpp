#include <cfnet/data/movielens.hpp>

#include "support/files.hpp"
#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ml = cfnet::movielens;
using cfnet::ParseError;
using RM = cfnet::RatingMatrix<float>;
using cfnet_test::check_parse_error;
using cfnet_test::write_file;

static std::string temp_dir(const std::string& name) { return cfnet_test::scratch_dir(name); }
static std::string write(const std::string& dir, const std::string& file, const std::string& bytes) {
    return write_file(dir, file, bytes);
}

namespace {

/// Entry (user id, item id) -> value, through the id maps: an index-independent view for comparisons.
std::optional<float> rating_of(const RM& m, cfnet::id_type user, cfnet::id_type item) {
    const auto u = m.users().find(user);
    const auto i = m.items().find(item);
    if (!u || !i) return std::nullopt;
    return m.rating(*u, *i);
}

/// Every entry of `part` is in `all` with the same value.
bool contained_in(const RM& part, const RM& all) {
    for (cfnet::index_type u = 0; u < part.n_users(); ++u) {
        const auto items = part.user_items(u);
        const auto vals = part.user_ratings(u);
        for (std::size_t k = 0; k < items.size(); ++k)
            if (rating_of(all, part.users().id(u), part.items().id(items[k])) != vals[k]) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("ML-100K: ratings, items and genres", "[movielens][ml100k]") {
    const auto dir = cfnet_test::ml100k_dir();
    const auto d = ml::load<float>(dir);
    CHECK(d.variant == "ml-100k");
    CHECK(d.ratings.nnz() == 100000);
    CHECK(d.ratings.n_users() == 943);
    CHECK(d.ratings.n_items() == 1682);
    CHECK(d.ratings.has_timestamps());
    const auto [lo, hi] = std::minmax_element(d.ratings.values().begin(), d.ratings.values().end());
    CHECK(*lo == 1.f);
    CHECK(*hi == 5.f);
    // First line of u.data: 196 242 3 881250949.
    CHECK(rating_of(d.ratings, 196, 242) == 3.f);

    REQUIRE(d.items.size() == 1682);
    CHECK(d.items.title(1) == "Toy Story (1995)");
    CHECK(d.items.at(1).release_date == "01-Jan-1995");
    CHECK(d.items.genres(1) == std::vector<std::string>{"Animation", "Children's", "Comedy"});
    CHECK(d.items.title(267) == "unknown");
    CHECK(d.items.at(267).release_date.empty());
    CHECK(d.items.genres(267) == std::vector<std::string>{"unknown"});
    // u.item is Latin-1: item 543's e-acute (0xE9) comes out as UTF-8 C3 A9.
    CHECK(d.items.title(543) == "Mis\xC3\xA9rables, Les (1995)");
    CHECK(d.items.title(1633) == "\xC3\x81 k\xC3\xB6ldum klaka (Cold Fever) (1994)");
    CHECK(std::all_of(d.items.begin(), d.items.end(), [](const ml::Item& it) { return cfnet::detail::is_valid_utf8(it.title); }));
    CHECK_THROWS_WITH(d.items.title(1683), "ItemCatalog: unknown item id 1683");
    CHECK_THROWS_AS(d.items.at(0), cfnet::InvalidArgument);
}

TEST_CASE("ML-100K: u.user", "[movielens][ml100k]") {
    const auto users = ml::load_users(cfnet_test::ml100k_dir());
    REQUIRE(users.size() == 943);
    CHECK(users[0].id == 1);
    CHECK(users[0].age == 24);
    CHECK(users[0].gender == "M");
    CHECK(users[0].occupation == "technician");
    CHECK(users[0].zip == "85711");
    CHECK(users[942].id == 943);
}

TEST_CASE("ML-100K: u1..u5 .base/.test partition u.data in its index space", "[movielens][ml100k]") {
    const auto dir = cfnet_test::ml100k_dir();
    const auto all = cfnet::load_ratings<float>(dir + "/u.data", ml::format_100k());
    for (const char* name : {"u1", "u2", "u3", "u4", "u5"}) {
        INFO(name);
        const auto s = ml::load_100k_split<float>(dir, name);
        CHECK(s.train.nnz() == 80000);
        CHECK(s.test.nnz() == 20000);
        CHECK(s.train.user_map() == s.test.user_map());  // one shared index space
        CHECK(s.train.item_map() == s.test.item_map());
        CHECK(s.train.same_space(all));  // the union of both files has every u.data id
        // Disjoint, both inside u.data with equal values, and 80000 + 20000 = all: a partition.
        std::size_t overlap = 0;
        for (cfnet::index_type u = 0; u < s.test.n_users(); ++u)
            for (const auto i : s.test.user_items(u)) overlap += s.train.contains(u, i) ? 1 : 0;
        CHECK(overlap == 0);
        CHECK(contained_in(s.train, all));
        CHECK(contained_in(s.test, all));
        CHECK(s.train.nnz() + s.test.nnz() == all.nnz());
    }
    CHECK_THROWS_AS(ml::load_100k_split<float>(dir, "u9"), cfnet::IoError);
    CHECK_THROWS_AS(ml::load_100k_split<float>(dir, ""), cfnet::InvalidArgument);
}

TEST_CASE("split_from_heldout_file: the notebook's split of ML-100K", "[movielens][ml100k]") {
    const auto all = ml::load<float>(cfnet_test::ml100k_dir()).ratings;
    const auto s = cfnet::split_from_heldout_file(all, cfnet_test::notebook_split_file());
    CHECK(s.test.nnz() == 19633);
    CHECK(s.train.nnz() == 80367);
    CHECK(s.train.user_map() == all.user_map());
    CHECK(s.test.item_map() == all.item_map());
    CHECK(s.train.has_timestamps());
    CHECK(contained_in(s.train, all));
    CHECK(contained_in(s.test, all));
    // First line of test.tsv: 1 17 3.
    CHECK(rating_of(s.test, 1, 17) == 3.f);
    CHECK_FALSE(rating_of(s.train, 1, 17).has_value());
}

TEST_CASE("split_from_heldout_file: errors name the line", "[movielens]") {
    // users 1, 2; items 10, 20, 30
    const auto all = RM::from_ratings({{1, 10, 4.f, 0}, {1, 20, 3.f, 0}, {2, 10, 5.f, 0}, {2, 30, 1.f, 0}});
    const auto dir = temp_dir("heldout");
    const auto good = write(dir, "good.tsv", "1 20 3\n2\t30\t1\n");
    const auto s = cfnet::split_from_heldout_file(all, good);
    CHECK(s.test.nnz() == 2);
    CHECK(s.train.nnz() == 2);
    CHECK(rating_of(s.train, 1, 10) == 4.f);
    CHECK(rating_of(s.train, 2, 10) == 5.f);
    CHECK(rating_of(s.test, 1, 20) == 3.f);

    auto expect = [&](const std::string& body, std::size_t line, const std::string& field, const std::string& what) {
        const auto p = write(dir, "bad.tsv", body);
        check_parse_error([&] { cfnet::split_from_heldout_file(all, p); }, p, line, field, what);
    };
    expect("1 20 3\n1 30 4\n", 2, "item", "user 1 has no rating for item 30 in the rating matrix");
    expect("3 10 4\n", 1, "user", "user 3 is not in the rating matrix");
    expect("1 40 4\n", 1, "item", "item 40 is not in the rating matrix");
    expect("1 20 3\n2 10 4\n", 2, "rating", "rating 4 differs from the matrix's 5 for user 2, item 10");
    expect("1 20 3\n2 30 1\n1 20 3\n", 3, "item", "user 1, item 20 is listed twice (lines 1 and 3)");
    expect("1 20\n", 1, "rating", "expected 3 fields, found 2");
    expect("1 20 3 7\n", 1, "column 4", "expected 3 fields, found 4");
    expect("1 x 3\n", 1, "item", "expected an integer, found 'x'");
}

TEST_CASE("movielens::load: ML-1M format (::, Latin-1 movies.dat, users.dat)", "[movielens]") {
    const auto dir = temp_dir("ml-1m");
    write(dir, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
    write(dir, "movies.dat",
          "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
          "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
          "2001::Cr\xE9pe, La (1999)::Comedy\n");
    write(dir, "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n");
    const auto d = ml::load<double>(dir);
    CHECK(d.variant == "ml-1m");
    CHECK(d.ratings.nnz() == 3);
    CHECK(d.ratings.n_users() == 2);
    CHECK(d.ratings.n_items() == 2);
    CHECK(d.ratings.timestamps() == std::vector<std::int64_t>{978302109, 978300760, 978298413});
    CHECK(d.ratings.values() == std::vector<double>{3, 5, 4});
    REQUIRE(d.items.size() == 3);
    CHECK(d.items.title(2001) == "Cr\xC3\xA9pe, La (1999)");
    CHECK(d.items.genres(661) == std::vector<std::string>{"Animation", "Children's", "Musical"});
    CHECK(d.items.at(1193).release_date.empty());

    // ML-1M ratings are integers 1..5.
    const auto p = write(dir, "ratings.dat", "1::1193::5::978300760\n1::661::4.5::978302109\n");
    check_parse_error([&] { ml::load<float>(dir); }, p, 2, "rating", "expected an integer rating, found '4.5'");
    // Every rated item must be in movies.dat.
    write(dir, "ratings.dat", "1::999::5::978300760\n");
    CHECK_THROWS_WITH(ml::load<float>(dir), "'" + dir + "/ratings.dat' rates item 999, which is not in '" + dir +
                                                "/movies.dat'");
}

TEST_CASE("movielens::load: ML-10M format (half stars, UTF-8 movies.dat kept as is)", "[movielens]") {
    const auto dir = temp_dir("ml-10m");
    write(dir, "ratings.dat", "1::122::5::838985046\n1::185::4.5::838983525\n7::122::0.5::838983421\n");
    write(dir, "movies.dat",
          "122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action|Crime|Thriller\n"
          "300::Cr\xC3\xA9pe (1999)::Comedy\n");
    const auto d = ml::load<float>(dir);
    CHECK(d.variant == "ml-10m");
    CHECK(d.ratings.nnz() == 3);
    CHECK(rating_of(d.ratings, 1, 185) == 4.5f);
    CHECK(rating_of(d.ratings, 7, 122) == 0.5f);
    CHECK(d.items.title(300) == "Cr\xC3\xA9pe (1999)");  // valid UTF-8 is not converted twice
    const auto p = write(dir, "ratings.dat", "1::122::0::838985046\n");
    check_parse_error([&] { ml::load<float>(dir); }, p, 1, "rating", "rating '0' is outside the range [0.5, 5]");
    const auto m = write(dir, "movies.dat", "122::Boomerang (1992)\n");
    write(dir, "ratings.dat", "1::122::5::838985046\n");
    check_parse_error([&] { ml::load<float>(dir); }, m, 1, "column 3", "expected 3 fields, found 2");
}

TEST_CASE("movielens::load: ML-20M/25M/latest CSV format", "[movielens]") {
    const auto dir = temp_dir("ml-25m");
    write(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,296,5.0,1147880044\r\n1,11,3.5,1147868817\r\n"
                              "3,296,0.5,1439474476\r\n");
    write(dir, "movies.csv",
          "movieId,title,genres\r\n"
          "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
          "296,Pulp Fiction (1994),Comedy|Crime|Drama|Thriller\r\n"
          "5000,\"Medium Cool \"\"Live\"\", The (1969)\",(no genres listed)\r\n"
          "6000,Am\xC3\xA9lie (2001),Comedy|Romance\r\n");
    const auto d = ml::load<float>(dir);
    CHECK(d.variant == "ml-csv");
    CHECK(d.ratings.nnz() == 3);
    CHECK(d.ratings.n_users() == 2);
    CHECK(rating_of(d.ratings, 1, 11) == 3.5f);
    CHECK(d.ratings.timestamps() == std::vector<std::int64_t>{1147868817, 1147880044, 1439474476});
    REQUIRE(d.items.size() == 4);
    CHECK(d.items.title(11) == "American President, The (1995)");
    CHECK(d.items.genres(11) == std::vector<std::string>{"Comedy", "Drama", "Romance"});
    CHECK(d.items.title(5000) == "Medium Cool \"Live\", The (1969)");
    CHECK(d.items.genres(5000).empty());
    CHECK(d.items.title(6000) == "Am\xC3\xA9lie (2001)");
    const auto m = write(dir, "movies.csv", "movieId,title,genres\n11,\"Broken, title,Comedy\n");
    check_parse_error([&] { ml::load<float>(dir); }, m, 2, "column 2", "unterminated quoted field");
    write(dir, "movies.csv", "movieId,title,genres\n11,A,Comedy\n296,B,Drama\n11,C,Drama\n");
    CHECK_THROWS_WITH(ml::load<float>(dir), dir + "/movies.csv: ItemCatalog: duplicate item id 11");
}

TEST_CASE("movielens: missing files and malformed 100K metadata", "[movielens]") {
    const auto empty = temp_dir("empty");
    CHECK_THROWS_WITH(ml::load<float>(empty), "movielens::load: no MovieLens ratings file (u.data, ratings.dat or "
                                              "ratings.csv) in '" + empty + "'");
    const auto dir = temp_dir("ml-100k");
    write(dir, "u.data", "1\t1\t5\t874965758\n");
    CHECK_THROWS_WITH(ml::load<float>(dir), "cannot open '" + dir + "/u.genre': No such file or directory");
    write(dir, "u.genre", "unknown|0\nAction|1\n\n");
    const auto item = write(dir, "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|2\n");
    check_parse_error([&] { ml::load<float>(dir); }, item, 1, "Action", "expected a genre flag 0 or 1, found '2'");
    write(dir, "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0\n");
    check_parse_error([&] { ml::load<float>(dir); }, item, 1, "column 7", "expected 7 fields, found 6");
    write(dir, "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|1\n");
    const auto d = ml::load<float>(dir);
    CHECK(d.items.genres(1) == std::vector<std::string>{"Action"});
    const auto genre = write(dir, "u.genre", "unknown|0\nAction|2\n");
    check_parse_error([&] { ml::load<float>(dir); }, genre, 2, "number", "expected genre number 1, found 2");
    // Shipped splits: one index space over both files; overlaps and duplicates name their lines.
    write(dir, "ux.base", "1\t10\t4\t1\n2\t20\t5\t2\n");
    const auto xt = write(dir, "ux.test", "3\t10\t1\t3\n");
    const auto s = ml::load_100k_split<float>(dir, "ux");
    CHECK(s.train.users().ids() == std::vector<cfnet::id_type>{1, 2, 3});
    CHECK(s.test.items().ids() == std::vector<cfnet::id_type>{10, 20});
    CHECK(s.train.user_map() == s.test.user_map());
    CHECK(rating_of(s.test, 3, 10) == 1.f);
    write(dir, "ux.test", "3\t10\t1\t3\n2\t20\t5\t2\n");
    check_parse_error([&] { ml::load_100k_split<float>(dir, "ux"); }, xt, 2, "item",
                      "user 2, item 20 is also in '" + dir + "/ux.base'");
    const auto xb = write(dir, "ux.base", "1\t10\t4\t1\n2\t20\t5\t2\n1\t10\t3\t5\n");
    check_parse_error([&] { ml::load_100k_split<float>(dir, "ux"); }, xb, 3, "item",
                      "duplicate rating for user 1, item 10 (lines 1 and 3)");
    const auto user = write(dir, "u.user", "1|24|M|technician|85711\n2|old|F|other|94043\n");
    check_parse_error([&] { ml::load_users(dir); }, user, 2, "age", "expected an integer, found 'old'");
}

TEST_CASE("movielens: an empty ratings file is an error naming the file", "[movielens]") {
    // (it used to load as 0 users and fail much later with "user index 4294967295 out of range")
    const auto dir = temp_dir("ml-100k-empty");
    write(dir, "u.genre", "unknown|0\n");
    write(dir, "u.item", "1|A|01-Jan-1995||http://x|0\n");
    const auto data = write(dir, "u.data", "");
    CHECK_THROWS_WITH(ml::load<float>(dir), "movielens::load_100k: '" + data + "' holds no ratings (the file is empty)");
    write(dir, "u.data", "\n\n");
    CHECK_THROWS_WITH(ml::load<float>(dir), "movielens::load_100k: '" + data + "' holds no ratings (no data line)");
    write(dir, "u.data", "1\t1\t5\t874965758\n");
    write(dir, "uy.base", "1\t1\t5\t1\n");
    const auto test = write(dir, "uy.test", "");
    CHECK_THROWS_WITH(ml::load_100k_split<float>(dir, "uy"),
                      "movielens::load_100k_split: '" + test + "' holds no ratings (the file is empty)");
    const auto csv = temp_dir("ml-csv-empty");
    write(csv, "movies.csv", "movieId,title,genres\n1,A,Drama\n");
    const auto ratings = write(csv, "ratings.csv", "userId,movieId,rating,timestamp\n");
    CHECK_THROWS_WITH(ml::load<float>(csv), "movielens::load_csv: '" + ratings + "' holds no ratings (no data line)");
    const auto one = temp_dir("ml-1m-empty");
    write(one, "movies.dat", "1::A::Drama\n");
    write(one, "users.dat", "1::M::1::1::1\n");
    const auto dat = write(one, "ratings.dat", "");
    CHECK_THROWS_WITH(ml::load<float>(one), "movielens::load_1m_10m: '" + dat + "' holds no ratings (the file is empty)");
}
