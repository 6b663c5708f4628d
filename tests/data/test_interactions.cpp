#include <cfnet/ease.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/data/interactions.hpp>

#include "support/files.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using cfnet::Column;
using cfnet::HeaderMode;
using cfnet::IdKind;
using cfnet::InteractionFileOptions;
using cfnet::ItemFileOptions;
using cfnet_test::check_parse_error;
using cfnet_test::write_temp;
using M = cfnet::RatingMatrix<float>;

namespace {

/// (user label, item label, value) of every entry, in CSR order.
struct Entry {
    std::string user, item;
    float value;
    bool operator==(const Entry& o) const { return user == o.user && item == o.item && value == o.value; }
};

std::vector<Entry> entries(const M& m) {
    std::vector<Entry> out;
    for (cfnet::index_type u = 0; u < m.n_users(); ++u) {
        const auto items = m.user_items(u);
        const auto vals = m.user_ratings(u);
        for (std::size_t k = 0; k < items.size(); ++k)
            out.push_back({m.users().label(u), m.items().label(items[k]), vals[k]});
    }
    return out;
}

std::string io_error(const std::string& path, const InteractionFileOptions& o = {}) {
    try {
        (void)cfnet::load_interactions<float>(path, o);
    } catch (const cfnet::ParseError&) {
        return "ParseError";
    } catch (const cfnet::IoError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("load_interactions: integer ids, every separator, the same matrix", "[interactions]") {
    const std::vector<Entry> expected{{"1", "10", 4.f}, {"1", "20", 3.5f}, {"2", "10", 1.f}};
    const char* const files[][2] = {{"a.tsv", "1\t10\t4\n1\t20\t3.5\n2\t10\t1\n"},
                                    {"a.csv", "1,10,4\n1,20,3.5\n2,10,1\n"},
                                    {"a.ssv", "1;10;4\n1;20;3.5\n2;10;1\n"},
                                    {"a.dat", "1::10::4\n1::20::3.5\n2::10::1\n"},
                                    {"a.txt", "1  10 4\n 1\t20   3.5 \n2 10 1\n"},
                                    {"a.crlf", "1,10,4\r\n1,20,3.5\r\n2,10,1\r\n\r\n"}};
    for (const auto& f : files) {
        INFO(f[0]);
        const M m = cfnet::load_interactions(write_temp(f[0], f[1]));
        CHECK(entries(m) == expected);
        CHECK_FALSE(m.users().has_names());
        CHECK(m.items().ids() == std::vector<cfnet::id_type>{10, 20});
        CHECK_FALSE(m.has_timestamps());
    }
    // stated separator wins over detection
    const M m = cfnet::load_interactions(write_temp("b.csv", "1|10|4\n2|20|5\n"), InteractionFileOptions().separator("|"));
    CHECK(m.nnz() == 2);
}

TEST_CASE("load_interactions: string ids map to sorted indices and come back unchanged", "[interactions]") {
    const std::string uuid1 = "0b7e6a1e-2f1c-4c1a-9a53-9d1e0f0c6a11", uuid2 = "f3d2c1b0-0000-4000-8000-000000000001";
    const auto p = write_temp("s.csv", "u_1029," + uuid2 + ",5\nu_7," + uuid1 + ",3\nu_1029," + uuid1 + ",4\n");
    const M m = cfnet::load_interactions(p);
    REQUIRE(m.users().has_names());
    REQUIRE(m.items().has_names());
    CHECK(m.users().names() == std::vector<std::string>{"u_1029", "u_7"});  // byte order
    CHECK(m.items().names() == std::vector<std::string>{uuid1, uuid2});
    CHECK(*m.users().find(std::string("u_7")) == 1);
    CHECK_FALSE(m.users().find(std::string("u_8")).has_value());
    CHECK(entries(m) == std::vector<Entry>{{"u_1029", uuid1, 4.f}, {"u_1029", uuid2, 5.f}, {"u_7", uuid1, 3.f}});
    // the same lines in another order give the same index space and matrix
    const M m2 = cfnet::load_interactions(write_temp("s2.csv", "u_1029," + uuid1 + ",4\nu_7," + uuid1 + ",3\nu_1029," + uuid2 + ",5\n"));
    CHECK(m2.users() == m.users());
    CHECK(m2.items() == m.items());
    CHECK(entries(m2) == entries(m));
}

TEST_CASE("load_interactions: ids are detected per column; a non-canonical integer makes the column text",
          "[interactions]") {
    // users are text from line 3 on: the integers seen before keep their text
    const M m = cfnet::load_interactions(write_temp("mix.tsv", "5\t1\t1\n10\t2\t2\nu9\t1\t3\n"));
    CHECK(m.users().has_names());
    CHECK(m.users().names() == std::vector<std::string>{"10", "5", "u9"});
    CHECK_FALSE(m.items().has_names());
    // leading zeros and '+' are kept as text (so "007" comes back as "007")
    const M z = cfnet::load_interactions(write_temp("z.tsv", "007\t1\t1\n7\t1\t2\n"));
    CHECK(z.users().names() == std::vector<std::string>{"007", "7"});
    // IdKind::integer reads "007" as 7 (and then the pair repeats)
    const auto z2 = write_temp("z2.tsv", "007\t1\t1\n7\t1\t2\n");
    check_parse_error([&] { (void)cfnet::load_interactions(z2, InteractionFileOptions().ids(IdKind::integer)); }, z2, 2,
                      "item", "duplicate rating for user 7, item 1 (lines 1 and 2)");
}

TEST_CASE("load_interactions: huge and negative integer ids", "[interactions]") {
    const auto lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
    const auto p = write_temp("big.tsv", std::to_string(hi) + "\t-5\t1\n" + std::to_string(lo) + "\t4194304\t2\n-1\t0\t3\n");
    const M m = cfnet::load_interactions(p);
    CHECK_FALSE(m.users().has_names());
    CHECK(m.users().ids() == std::vector<cfnet::id_type>{lo, -1, hi});
    CHECK(m.items().ids() == std::vector<cfnet::id_type>{-5, 0, 4194304});
    // one past int64: text under auto, an error under integer
    const auto q = write_temp("over.tsv", "9223372036854775808\t1\t1\n");
    CHECK(cfnet::load_interactions(q).users().names() == std::vector<std::string>{"9223372036854775808"});
    check_parse_error([&] { (void)cfnet::load_interactions(q, InteractionFileOptions().ids(IdKind::integer)); }, q, 1,
                      "user", "integer '9223372036854775808' is out of range");
}

TEST_CASE("load_interactions: header detected or stated, columns by name or number", "[interactions]") {
    const std::string csv = "userId,movieId,rating,timestamp\nu1,m1,4.5,100\nu2,m1,3,200\n";
    const auto p = write_temp("h.csv", csv);
    const M a = cfnet::load_interactions(p, InteractionFileOptions().timestamp(3));  // detected: 'rating' is not a number
    CHECK(a.nnz() == 2);
    CHECK(a.timestamps() == std::vector<std::int64_t>{100, 200});
    const M b = cfnet::load_interactions(p, InteractionFileOptions().user("movieId").item("userId").rating("RATING").timestamp("timestamp"));
    CHECK(entries(b) == std::vector<Entry>{{"m1", "u1", 4.5f}, {"m1", "u2", 3.f}});
    const M c = cfnet::load_interactions(p, InteractionFileOptions().header(true).rating(Column::none()));
    CHECK(c.values() == std::vector<float>{1.f, 1.f});
    // a name that is not in the header
    check_parse_error([&] { (void)cfnet::load_interactions(p, InteractionFileOptions().rating("stars")); }, p, 1, "header",
                      "no column named 'stars' for the rating (the header has 'userId', 'movieId', 'rating', 'timestamp')");
    // header: no makes the header a data line, whose rating is not a number
    check_parse_error([&] { (void)cfnet::load_interactions(p, InteractionFileOptions().header(HeaderMode::no)); }, p, 1,
                      "rating", "expected a number, found 'rating'");
    // an implicit file with header words is detected too; without them the first line is data
    CHECK(cfnet::load_interactions(write_temp("i.csv", "user,item\nu1,i1\nu2,i1\n"), InteractionFileOptions().no_rating()).nnz() == 2);
    CHECK(cfnet::load_interactions(write_temp("j.csv", "u0,i0\nu1,i1\nu2,i1\n"), InteractionFileOptions().no_rating()).nnz() == 3);
    CHECK_THROWS_WITH(cfnet::load_interactions(p, InteractionFileOptions().item(0)),
                      "load: the user and item columns are the same column (1)");
    // through a header name it depends on the file: a ParseError naming it (found by fuzzing)
    check_parse_error([&] { (void)cfnet::load_interactions(p, InteractionFileOptions().user("userId").item(0)); }, p, 1,
                      "header", "load: the user and item columns are the same column (1)");
    // comment lines are skipped, and line numbers stay right
    const auto q = write_temp("c.tsv", "# made by hand\n1\t1\t1\n# more\n1\t2\tx\n");
    check_parse_error([&] { (void)cfnet::load_interactions(q, InteractionFileOptions().comment("#")); }, q, 4, "rating",
                      "expected a number, found 'x'");
}

TEST_CASE("load_interactions: RFC 4180 quotes in CSV", "[interactions]") {
    const auto p = write_temp("q.csv", "user,item,rating\n\"Smith, J.\",\"a \"\"b\"\"\",4\n\"Smith, J.\",c,2\n");
    const M m = cfnet::load_interactions(p);
    CHECK(entries(m) == std::vector<Entry>{{"Smith, J.", "a \"b\"", 4.f}, {"Smith, J.", "c", 2.f}});
    const auto b = write_temp("bad.csv", "u,i,r\n\"a,b,4\n");
    check_parse_error([&] { (void)cfnet::load_interactions(b); }, b, 2, "column 1", "unterminated quoted field");
}

TEST_CASE("load_interactions: duplicates follow the policy", "[interactions]") {
    const auto p = write_temp("d.csv", "user,item,rating,ts\nA,x,1,5\nB,x,2,1\nA,x,4,3\n");
    check_parse_error([&] { (void)cfnet::load_interactions(p, InteractionFileOptions().timestamp(3)); }, p, 4, "item",
                      "duplicate rating for user A, item x (lines 2 and 4)");
    const M last = cfnet::load_interactions(p, InteractionFileOptions().timestamp(3).duplicates(cfnet::DuplicatePolicy::keep_last));
    CHECK(entries(last) == std::vector<Entry>{{"A", "x", 4.f}, {"B", "x", 2.f}});
    CHECK(last.timestamps() == std::vector<std::int64_t>{3, 1});
    const M mean = cfnet::load_interactions(p, InteractionFileOptions().timestamp(3).duplicates(cfnet::DuplicatePolicy::mean));
    CHECK(entries(mean) == std::vector<Entry>{{"A", "x", 2.5f}, {"B", "x", 2.f}});
    CHECK(mean.timestamps() == std::vector<std::int64_t>{5, 1});
}

TEST_CASE("load_interactions: empty and all-filtered files are errors naming the file", "[interactions]") {
    const auto e = write_temp("empty.csv", "");
    CHECK(io_error(e) == "load_interactions: '" + e + "' is empty: no ratings to load");
    const auto h = write_temp("header.csv", "user,item,rating\n\n");
    CHECK(io_error(h) == "load_interactions: '" + h + "' holds no data line (2 lines, all header, comment or blank)");
    const auto one = write_temp("one.csv", "user,item,rating\n");
    CHECK(io_error(one) == "load_interactions: '" + one + "' holds no data line (1 line: a header, comment or blank)");
    const auto c = write_temp("comments.tsv", "# a\n# b\n");
    CHECK(io_error(c, InteractionFileOptions().comment("#")) ==
          "load_interactions: '" + c + "' holds no data line (2 lines, all header, comment or blank)");
    const auto missing = cfnet_test::scratch_dir("m") + "/nope.csv";
    CHECK(io_error(missing).rfind("cannot open '" + missing + "'", 0) == 0);
}

TEST_CASE("load_interactions: bad lines name file, line and field", "[interactions]") {
    const auto check = [](const std::string& text, std::size_t line, const std::string& field, const std::string& what,
                          const InteractionFileOptions& o = InteractionFileOptions().timestamp(3)) {
        const auto p = write_temp("bad.tsv", text);
        check_parse_error([&] { (void)cfnet::load_interactions(p, o); }, p, line, field, what);
    };
    check("1\t2\t3\t4\n1\t3\n", 2, "rating", "expected at least 4 fields, found 2");
    check("1\t2\n1\t3\t4\t5\n", 1, "rating", "expected at least 4 fields, found 2");  // a short first line is no header
    check("1\t2\t3\t4\n\t3\t3\t4\n", 2, "user", "expected a user id, found an empty field");
    check("1\t2\t3\t4\n2\t \t3\t4\n", 2, "item", "expected an item id, found an empty field");
    check("1\t2\t3\t4\n2\t3\t3\tt\n", 2, "timestamp", "expected an integer, found 't'");
    check("1\t2\t3\t4\n2\t3\tinf\t5\n", 2, "rating", "number 'inf' is not finite");
    check("1\t2\t3\t4\n\n2\t3\t3\t4\n", 2, "line", "blank line before the end of the file");
    check("1\t2\t3\t4\nx\t3\t3\t4\n", 2, "user", "expected an integer, found 'x'", InteractionFileOptions().timestamp(3).ids(IdKind::integer));
}

TEST_CASE("load_interactions: lines longer than the read block and files of many blocks", "[interactions]") {
    std::string text;
    const std::string long_id(9000, 'x');
    text += long_id + ",i0,1\n";
    for (int k = 0; k < 200000; ++k) text += "u" + std::to_string(k % 997) + ",i" + std::to_string(k / 997) + "," + std::to_string(k % 5 + 1) + "\n";
    const M m = cfnet::load_interactions(write_temp("many.csv", text));
    CHECK(m.nnz() == 200001);
    CHECK(m.n_users() == 998);
    CHECK(m.users().names().back() == long_id);
    // the block reader agrees with reading in tiny blocks
    cfnet::detail::FileLines small(write_temp("t.txt", "a\nbb\r\nccc"), 2);
    std::string_view line;
    std::vector<std::string> got;
    while (small.next(line)) got.emplace_back(line);
    CHECK(got == std::vector<std::string>{"a", "bb", "ccc"});
}

TEST_CASE("load_item_titles: titles by item index, Latin-1 and UTF-8", "[interactions]") {
    const M m = cfnet::load_interactions(write_temp("r.csv", "u1,i1,1\nu1,i2,2\nu2,i3,3\n"));
    const auto t = cfnet::load_item_titles(write_temp("items.csv", "itemId,title\ni2,\"Caf\xC3\xA9, the\"\ni1,Plain\ni9,unrated\n"),
                                           ItemFileOptions(), m.items());
    CHECK(t == std::vector<std::string>{"Plain", "Caf\xC3\xA9, the", ""});
    const auto l = cfnet::load_item_titles(write_temp("items.tsv", "i3\tCaf\xE9\n"), ItemFileOptions(), m.items());
    CHECK(l[2] == "Caf\xC3\xA9");
    // integer ids, named columns
    const M n = cfnet::load_interactions(write_temp("n.tsv", "1\t10\t1\n"));
    CHECK(cfnet::load_item_titles(write_temp("it.csv", "title,id\nTen,10\n"), ItemFileOptions().item("id").title("title"),
                                  n.items()) == std::vector<std::string>{"Ten"});
    const auto d = write_temp("dup.tsv", "10\tA\n10\tB\n");
    check_parse_error([&] { (void)cfnet::load_item_titles(d, ItemFileOptions(), n.items()); }, d, 2, "item",
                      "item 10 is listed twice (lines 1 and 2)");
}

TEST_CASE("IdMap names round-trip through model-file metadata; integer files stay as they were", "[interactions]") {
    const auto named = cfnet::IdMap::named({"a,b", "line\nbreak", "back\\slash", "u_1"}, "user");
    cfnet::Metadata meta;
    cfnet::write_id_map(meta, "user_ids", named, ' ');
    CHECK(meta.at("user_ids") == "0 1 2 3");
    const cfnet::MetadataReader r(meta, "test", "f");
    CHECK(cfnet::read_id_map(r, "user_ids", ' ', "user") == named);
    cfnet::Metadata plain;
    cfnet::write_id_map(plain, "item_ids", cfnet::IdMap({5, -3}, "item"), ',');
    CHECK(plain.size() == 1);
    const auto back = cfnet::read_id_map(cfnet::MetadataReader(plain, "test", "f"), "item_ids", ',', "item");
    CHECK_FALSE(back.has_names());
    CHECK(back.ids() == std::vector<cfnet::id_type>{5, -3});
    meta["user_ids_names"] = "a\nb";
    CHECK_THROWS_WITH(cfnet::read_id_map(r, "user_ids", ' ', "user"),
                      "test: 'f': metadata 'user_ids_names' = 'a\nb' holds 2 names for 4 ids");
    CHECK_THROWS_AS(cfnet::IdMap::named({"a", "a"}), cfnet::InvalidArgument);
}

// The models' files keep string ids (models/*/io.hpp through write_id_map/read_id_map): a model
// fitted on string-id data and loaded again maps the same names to the same indices.
#include <cfnet/autoencoder.hpp>
#include <cfnet/neural_cf.hpp>

#include <cstdio>

TEST_CASE("models saved from string-id data load with the same names at the same indices", "[interactions][model_files]") {
    std::string text = "user,item,rating\n";
    for (int u = 0; u < 12; ++u)
        for (int i = 0; i < 9; ++i)
            if ((u + 2 * i) % 3 != 0) text += "user-" + std::to_string(u * 7919 % 1000) + ",\"item, #" + std::to_string(i) + "\"," + std::to_string(1 + (u * i) % 5) + "\n";
    const M data = cfnet::load_interactions(write_temp("models.csv", text));
    REQUIRE(data.users().has_names());
    const std::string dir = cfnet_test::scratch_dir("string_models");
    std::vector<std::pair<cfnet::index_type, cfnet::index_type>> pairs;
    for (cfnet::index_type u = 0; u < data.n_users(); ++u)
        for (cfnet::index_type i = 0; i < data.n_items(); ++i) pairs.emplace_back(u, i);

    auto ncf_opt = cfnet::NeuralCFOptions::notebook();
    ncf_opt.epochs = 2;
    ncf_opt.hidden = {8};
    ncf_opt.embedding_dim = 4;
    ncf_opt.validation_fraction = 0;
    ncf_opt.unseen_fallback = true;
    cfnet::NeuralCF<float> ncf(ncf_opt);
    ncf.fit(data);
    ncf.save(dir + "/ncf.cfnet");
    const auto ncf2 = cfnet::NeuralCF<float>::load(dir + "/ncf.cfnet");
    CHECK(ncf2.user_map() == data.users());
    CHECK(ncf2.item_map() == data.items());
    CHECK(ncf2.item_map().label(0) == "item, #0");
    CHECK(ncf2.predict(pairs) == ncf.predict(pairs));

    auto ae_opt = cfnet::AutoencoderOptions::notebook();
    ae_opt.epochs = 2;
    ae_opt.hidden = {6};
    cfnet::AutoencoderCF<float> ae(ae_opt);
    ae.fit(data);
    ae.save(dir + "/ae.cfnet");
    const auto ae2 = cfnet::AutoencoderCF<float>::load(dir + "/ae.cfnet");
    CHECK(ae2.user_map() == data.users());
    CHECK(ae2.item_map() == data.items());
    CHECK(ae2.predict(data, pairs) == ae.predict(data, pairs));

    cfnet::Ease<float> ease(cfnet::EaseOptions().l2(5));
    ease.fit(data);
    ease.save(dir + "/ease.cfnet");
    const auto ease2 = cfnet::Ease<float>::load(dir + "/ease.cfnet");
    CHECK(ease2.item_map() == data.items());
    CHECK(ease2.predict(data, pairs) == ease.predict(data, pairs));

    cfnet::MultVAE<float> vae(cfnet::MultVAEOptions::vae().hidden_sizes({6}).latent_dim(3).batch(4).n_epochs(2));
    vae.fit(data);
    vae.save(dir + "/vae.cfnet");
    const auto vae2 = cfnet::MultVAE<float>::load(dir + "/vae.cfnet");
    CHECK(vae2.user_map() == data.users());
    CHECK(vae2.item_map() == data.items());
    CHECK(vae2.predict(data, pairs) == vae.predict(data, pairs));
    // an integer-id model file has no names key and reads back as before
    const M ints = cfnet::load_interactions(write_temp("ints.tsv", "1\t10\t4\n1\t20\t3\n2\t10\t5\n2\t30\t1\n"));
    cfnet::AutoencoderCF<float> ai(ae_opt);
    ai.fit(ints);
    ai.save(dir + "/ai.cfnet");
    const auto info = cfnet::read_model_info(dir + "/ai.cfnet");
    CHECK(info.metadata.count("user_ids") == 1);
    CHECK(info.metadata.count("user_ids_names") == 0);
    CHECK_FALSE(cfnet::AutoencoderCF<float>::load(dir + "/ai.cfnet").item_map().has_names());
}
