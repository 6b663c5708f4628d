#include <cfnet/data/io.hpp>

#include "support/files.hpp"
#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using cfnet::DelimitedFormat;
using cfnet::ParseError;
using R = cfnet::Rating<float>;
using cfnet_test::check_parse_error;
using cfnet_test::write_temp;

namespace {

bool same(const std::vector<R>& a, const std::vector<R>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (a[k].user != b[k].user || a[k].item != b[k].item || a[k].value != b[k].value ||
            a[k].timestamp != b[k].timestamp)
            return false;
    return true;
}

DelimitedFormat tsv4() { return DelimitedFormat().separator("\t").columns(0, 1, 2, 3).fields(4); }

}  // namespace

TEST_CASE("read_ratings: tab-separated with timestamps", "[io]") {
    const auto path = write_temp("a.tsv", "196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n-7\t0\t-1\t0\n");
    const auto r = cfnet::read_ratings<float>(path, tsv4());
    CHECK(same(r, {{196, 242, 3.f, 881250949}, {186, 302, 3.5f, 891717742}, {-7, 0, -1.f, 0}}));
    const auto d = cfnet::read_ratings<double>(path, tsv4());
    REQUIRE(d.size() == 3);
    CHECK(d[1].value == 3.5);
}

TEST_CASE("read_ratings: every separator, column order and optional timestamp", "[io]") {
    const std::vector<R> expected{{1, 10, 4.f, 100}, {2, 20, 0.5f, 200}};
    SECTION("::") {
        const auto p = write_temp("r.dat", "1::10::4::100\n2::20::0.5::200\n");
        CHECK(same(cfnet::read_ratings(p, DelimitedFormat().separator("::").columns(0, 1, 2, 3)), expected));
    }
    SECTION("|") {
        const auto p = write_temp("r.psv", "1|10|4|100\n2|20|0.5|200\n");
        CHECK(same(cfnet::read_ratings(p, DelimitedFormat().separator("|").columns(0, 1, 2, 3)), expected));
    }
    SECTION(", with blanks around numbers") {
        const auto p = write_temp("r.csv", "1, 10, 4 ,100\n2,20,0.5,  200\n");
        CHECK(same(cfnet::read_ratings(p, DelimitedFormat().separator(",").columns(0, 1, 2, 3)), expected));
    }
    SECTION("whitespace runs") {
        const auto p = write_temp("r.txt", "  1 \t 10   4\t100  \n2\t\t20 0.5 200\n");
        CHECK(same(cfnet::read_ratings(p, DelimitedFormat().whitespace().columns(0, 1, 2, 3)), expected));
    }
    SECTION("columns in another order, extra columns ignored") {
        const auto p = write_temp("r.csv", "x,100,4,10,1\ny,200,0.5,20,2\n");
        CHECK(same(cfnet::read_ratings(p, DelimitedFormat().separator(",").columns(4, 3, 2, 1)), expected));
    }
    SECTION("timestamp absent: 0 in the entries, none in the matrix") {
        const auto p = write_temp("r.tsv", "1\t10\t4\n2\t20\t0.5\n");
        const auto r = cfnet::read_ratings(p, DelimitedFormat());
        CHECK(same(r, {{1, 10, 4.f, 0}, {2, 20, 0.5f, 0}}));
        const auto m = cfnet::load_ratings(p, DelimitedFormat());
        CHECK_FALSE(m.has_timestamps());
        const auto mt = cfnet::load_ratings(write_temp("t.tsv", "1\t10\t4\t100\n"), tsv4());
        CHECK(mt.has_timestamps());
        CHECK(mt.timestamps() == std::vector<std::int64_t>{100});
    }
}

TEST_CASE("read_ratings: header, CRLF, missing final newline, BOM, trailing blank lines", "[io]") {
    const std::vector<R> expected{{1, 10, 4.f, 0}, {2, 20, 5.f, 0}};
    const auto csv = DelimitedFormat().separator(",").header(true);
    CHECK(same(cfnet::read_ratings(write_temp("h.csv", "userId,movieId,rating\n1,10,4\n2,20,5\n"), csv), expected));
    CHECK(same(cfnet::read_ratings(write_temp("crlf.csv", "u,i,r\r\n1,10,4\r\n2,20,5\r\n"), csv), expected));
    CHECK(same(cfnet::read_ratings(write_temp("nofinal.csv", "u,i,r\r\n1,10,4\r\n2,20,5"), csv), expected));
    CHECK(same(cfnet::read_ratings(write_temp("bom.csv", "\xEF\xBB\xBFu,i,r\n1,10,4\n2,20,5\n"), csv), expected));
    CHECK(same(cfnet::read_ratings(write_temp("blank_end.csv", "u,i,r\n1,10,4\n2,20,5\n\n \r\n\t\n"), csv), expected));
    CHECK(cfnet::read_ratings(write_temp("only_header.csv", "u,i,r\n"), csv).empty());
    CHECK(cfnet::read_ratings(write_temp("empty.tsv", ""), DelimitedFormat()).empty());
    CHECK(cfnet::load_ratings(write_temp("empty2.tsv", "\n"), DelimitedFormat()).nnz() == 0);
}

TEST_CASE("FieldSplitter: separators, quoted fields with separators and escaped quotes", "[io]") {
    using cfnet::detail::FieldSplitter;
    using V = std::vector<std::string_view>;
    FieldSplitter csv(",", '"');
    REQUIRE(csv.split(R"x(1,"American President, The (1995)",Comedy|Drama)x"));
    CHECK(csv.fields() == V{"1", "American President, The (1995)", "Comedy|Drama"});
    REQUIRE(csv.split(R"x("a ""quoted"" word","",x,)x"));
    CHECK(csv.fields() == V{R"x(a "quoted" word)x", "", "x", ""});
    REQUIRE(csv.split(R"x(it's 6" tall,"""",2)x"));  // a quote inside an unquoted field is kept
    CHECK(csv.fields() == V{R"x(it's 6" tall)x", R"x(")x", "2"});
    REQUIRE(csv.split(R"x("x""y","p,q""r")x"));  // two unescaped fields share the scratch buffer
    CHECK(csv.fields() == V{R"x(x"y)x", R"x(p,q"r)x"});
    CHECK_FALSE(csv.split(R"x(1,"open)x"));
    CHECK(csv.error() == "unterminated quoted field");
    CHECK(csv.error_field() == 1);
    CHECK_FALSE(csv.split(R"x(1,"a"b,2)x"));
    CHECK(csv.error() == "unexpected character 'b' after a closing quote");
    CHECK(csv.error_field() == 1);

    FieldSplitter dc("::", '"');
    REQUIRE(dc.split(R"x(1::"a::b"::c)x"));
    CHECK(dc.fields() == V{"1", "a::b", "c"});
    FieldSplitter plain("::");
    REQUIRE(plain.split("1::Toy Story (1995)::::x"));
    CHECK(plain.fields() == V{"1", "Toy Story (1995)", "", "x"});
    FieldSplitter ws("");
    REQUIRE(ws.split("  a\t b  c "));
    CHECK(ws.fields() == V{"a", "b", "c"});
    FieldSplitter tab("\t");
    REQUIRE(tab.split("\ta\t"));
    CHECK(tab.fields() == V{"", "a", ""});
}

TEST_CASE("read_ratings: quoted CSV fields", "[io]") {
    const auto path = write_temp("q.csv",
                                 "user,item,title,rating\n"
                                 "\"1\",\"10\",\"Heat, \"\"the\"\" film\",\"4.5\"\n"
                                 "2,20,\"Plain\",3\n");
    const auto f = DelimitedFormat().separator(",").quote('"').header(true).columns(0, 1, 3).fields(4);
    CHECK(same(cfnet::read_ratings(path, f), {{1, 10, 4.5f, 0}, {2, 20, 3.f, 0}}));
    const auto bad = write_temp("q_bad.csv", "user,item,title,rating\n1,10,\"Heat, the film,4\n");
    check_parse_error([&] { cfnet::read_ratings(bad, f); }, bad, 2, "column 3", "unterminated quoted field");
}

TEST_CASE("read_ratings: every malformed input is a ParseError naming file, line and field", "[io]") {
    const auto f = tsv4();
    auto expect = [&](const std::string& body, std::size_t line, const std::string& field, const std::string& what,
                      const DelimitedFormat& fmt) {
        const auto p = write_temp("bad.tsv", body);
        check_parse_error([&] { cfnet::read_ratings(p, fmt); }, p, line, field, what);
    };
    expect("1\t2\t3\t4\n1\t2\t3\n", 2, "timestamp", "expected 4 fields, found 3", f);
    expect("1\t2\t3\t4\t5\n", 1, "column 5", "expected 4 fields, found 5", f);
    expect("1\t2\n", 1, "rating", "expected at least 3 fields, found 2", DelimitedFormat());
    expect("1\t2\t3\t4\nabc\t2\t3\t4\n", 2, "user", "expected an integer, found 'abc'", f);
    expect("1\t99999999999999999999\t3\t4\n", 1, "item", "integer '99999999999999999999' is out of range", f);
    expect("1\t2.5\t3\t4\n", 1, "item", "trailing characters in number '2.5'", f);
    expect("1\t\t3\t4\n", 1, "item", "expected an integer, found an empty field", f);
    expect("1\t2\tx\t4\n", 1, "rating", "expected a number, found 'x'", f);
    expect("1\t2\t4x\t4\n", 1, "rating", "trailing characters in number '4x'", f);
    expect("1\t2\t \t4\n", 1, "rating", "expected a number, found an empty field", f);
    expect("1\t2\tnan\t4\n", 1, "rating", "number 'nan' is not finite", f);
    // finite as a double but not as a float (found by fuzzing: it became inf in the matrix)
    expect("1\t2\t1e300\t4\n", 1, "rating", "number '1e300' is out of range for float", f);
    expect("1\t2\t-3.5e38\t4\n", 1, "rating", "number '-3.5e38' is out of range for float", f);
    expect("1\t2\t3\t4\n1\t3\t6\t4\n", 2, "rating", "rating '6' is outside the range [1, 5]",
           tsv4().rating_range(1, 5));
    expect("1\t2\t0.25\t4\n", 1, "rating", "rating '0.25' is outside the range [0.5, 5]", tsv4().rating_range(0.5, 5));
    expect("1\t2\t3.5\t4\n", 1, "rating", "expected an integer rating, found '3.5'", tsv4().integer_ratings(true));
    expect("1\t2\t3\t4 5\n", 1, "timestamp", "trailing characters in number '4 5'", f);
    expect("1\t2\t3\t4\n\n1\t3\t3\t4\n", 2, "line", "blank line before the end of the file", f);
    expect("1\t2\t3\t4\r\n \r\n1\t3\t3\t4\r\n", 2, "line", "blank line before the end of the file", f);
    expect("", 1, "header", "expected a header line, the file is empty", tsv4().header(true));
    expect("u,i,r\n1,2,3\n1,2,\"3\"x\n", 3, "column 3", "unexpected character 'x' after a closing quote",
           DelimitedFormat().separator(",").quote('"').header(true));
}

TEST_CASE("read_ratings: an unreadable file is an IoError naming the path", "[io]") {
    const std::string missing = "/nonexistent/cfnet/u.data";
    CHECK_THROWS_AS(cfnet::read_ratings(missing, tsv4()), cfnet::IoError);
    CHECK_THROWS_WITH(cfnet::read_ratings(missing, tsv4()),
                      "cannot open '/nonexistent/cfnet/u.data': No such file or directory");
    const auto dir = std::filesystem::temp_directory_path().string();
    CHECK_THROWS_WITH(cfnet::load_ratings(dir, tsv4()), Catch::Contains("cannot read '" + dir + "'"));
}

TEST_CASE("load_ratings: duplicates are a ParseError naming both lines unless a policy says otherwise", "[io]") {
    const auto p = write_temp("dup.tsv", "1\t2\t3\t10\n5\t6\t4\t20\n1\t3\t5\t30\n1\t2\t1\t40\n");
    check_parse_error([&] { cfnet::load_ratings(p, tsv4()); }, p, 4, "item",
                      "duplicate rating for user 1, item 2 (lines 1 and 4)");
    const auto last = cfnet::load_ratings(p, tsv4().duplicates(cfnet::DuplicatePolicy::keep_last));
    CHECK(last.nnz() == 3);
    CHECK(last.rating(last.users().index(1), last.items().index(2)) == 1.f);
    const auto mean = cfnet::load_ratings(p, tsv4().duplicates(cfnet::DuplicatePolicy::mean));
    CHECK(mean.rating(mean.users().index(1), mean.items().index(2)) == 2.f);
    // read_ratings returns the entries as they are.
    CHECK(cfnet::read_ratings(p, tsv4()).size() == 4);
}

TEST_CASE("load_ratings: CSR content and the index space of given maps", "[io]") {
    const auto train = cfnet::load_ratings(write_temp("tr.tsv", "20\t7\t4\n10\t9\t1\n10\t5\t2\n"), DelimitedFormat());
    CHECK(train.users().ids() == std::vector<cfnet::id_type>{10, 20});
    CHECK(train.items().ids() == std::vector<cfnet::id_type>{5, 7, 9});
    CHECK(train.row_ptr() == std::vector<std::size_t>{0, 2, 3});
    CHECK(train.item_indices() == std::vector<cfnet::index_type>{0, 2, 1});
    CHECK(train.values() == std::vector<float>{2.f, 1.f, 4.f});

    const auto test = cfnet::load_ratings<float>(write_temp("te.tsv", "20\t9\t5\n"), DelimitedFormat(),
                                                 train.user_map(), train.item_map());
    CHECK(test.user_map() == train.user_map());
    CHECK(test.nnz() == 1);
    CHECK(test.rating(1, 2) == 5.f);
    const auto bad_user = write_temp("te2.tsv", "20\t9\t5\n30\t9\t5\n");
    check_parse_error([&] { cfnet::load_ratings<float>(bad_user, DelimitedFormat(), train.user_map(), train.item_map()); },
                      bad_user, 2, "user", "unknown user id 30");
    const auto bad_item = write_temp("te3.tsv", "20\t8\t5\n");
    check_parse_error([&] { cfnet::load_ratings<float>(bad_item, DelimitedFormat(), train.user_map(), train.item_map()); },
                      bad_item, 1, "item", "unknown item id 8");
}

TEST_CASE("load_ratings: id maps equal IdMap::sorted_unique for dense and widely spread ids", "[io]") {
    // Dense ids take the bitmap path, spread ones (negative, 1e12) the sorting path.
    for (const std::string body : {"3\t7\t1\n1\t7\t2\n3\t2\t3\n", "1000000000000\t-5\t1\n-3\t7\t2\n0\t-5\t3\n"}) {
        const auto p = write_temp("ids.tsv", body);
        const auto m = cfnet::load_ratings(p, DelimitedFormat());
        const auto ref = cfnet::RatingMatrix<float>::from_ratings(cfnet::read_ratings(p, DelimitedFormat()));
        CHECK(m.users() == ref.users());
        CHECK(m.items() == ref.items());
        CHECK(m.row_ptr() == ref.row_ptr());
        CHECK(m.item_indices() == ref.item_indices());
        CHECK(m.values() == ref.values());
    }
    const auto spread = cfnet::load_ratings(write_temp("ids2.tsv", "1000000000000\t-5\t1\n-3\t7\t2\n"), DelimitedFormat());
    CHECK(spread.users().ids() == std::vector<cfnet::id_type>{-3, 1000000000000});
    CHECK(spread.items().ids() == std::vector<cfnet::id_type>{-5, 7});
}

TEST_CASE("DelimitedFormat rejects inconsistent options", "[io]") {
    using cfnet::InvalidArgument;
    CHECK_THROWS_AS(DelimitedFormat().separator(""), InvalidArgument);
    CHECK_THROWS_AS(DelimitedFormat().rating_range(5, 1), InvalidArgument);
    const auto p = write_temp("x.tsv", "1\t2\t3\n");
    CHECK_THROWS_AS(cfnet::read_ratings(p, DelimitedFormat().columns(0, 0, 2)), InvalidArgument);
    CHECK_THROWS_AS(cfnet::read_ratings(p, DelimitedFormat().columns(0, 1, 2, 2)), InvalidArgument);
    CHECK_THROWS_AS(cfnet::read_ratings(p, DelimitedFormat().columns(-1, 1, 2)), InvalidArgument);
    CHECK_THROWS_WITH(cfnet::read_ratings(p, DelimitedFormat().columns(0, 1, 2, 3).fields(3)),
                      "parse_ratings: 3 fields per line cannot hold column 3");
    CHECK_THROWS_AS(cfnet::read_ratings(p, DelimitedFormat().whitespace().quote('"')), InvalidArgument);
    CHECK_THROWS_AS(cfnet::read_ratings(p, DelimitedFormat().separator("\"").quote('"')), InvalidArgument);
}

TEST_CASE("UTF-8 validation and Latin-1 conversion", "[io]") {
    using cfnet::detail::is_valid_utf8;
    using cfnet::detail::latin1_to_utf8;
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("Mis\xC3\xA9rables \xE2\x82\xAC \xF0\x9F\x8E\xAC"));
    CHECK_FALSE(is_valid_utf8("Mis\xE9rables"));        // Latin-1 é
    CHECK_FALSE(is_valid_utf8("\xC3"));                 // truncated
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));             // overlong
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));         // surrogate
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));     // above U+10FFFF
    CHECK(latin1_to_utf8("Mis\xE9rables \xC1 \xFF!") == "Mis\xC3\xA9rables \xC3\x81 \xC3\xBF!");
    CHECK(latin1_to_utf8("abc") == "abc");
}

TEST_CASE("read_ratings agrees with a naive stream reader on u.data", "[io][ml100k]") {
    const auto path = cfnet_test::ml100k_dir() + "/u.data";
    const auto fast = cfnet::read_ratings<float>(path, tsv4());
    std::vector<R> naive;
    std::ifstream in(path);
    R r;
    while (in >> r.user >> r.item >> r.value >> r.timestamp) naive.push_back(r);
    REQUIRE(naive.size() == 100000);
    CHECK(same(fast, naive));
}
