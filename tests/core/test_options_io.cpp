// options_io.hpp: the codecs' text, round trips through a field table, missing keys, and the
// IoError of a bad value (naming reader, file, key and value). The models' tables are tested with
// their model files in tests/models/neural_cf/test_io.cpp and tests/models/autoencoder/test_io.cpp.
#include <cfnet/options_io.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

enum class Shape { round, square };
inline const char* to_string(Shape s) { return s == Shape::round ? "round" : "square"; }
inline Shape parse_shape(const std::string& s) {
    if (s == "round") return Shape::round;
    if (s == "square") return Shape::square;
    throw cfnet::InvalidArgument("parse_shape: unknown shape '" + s + "' (expected round or square)");
}
enum class Mode { fast, slow };

struct Toy {
    double rate = 0.5;
    std::size_t count = 3;
    int epochs = 10;
    std::uint64_t seed = 42;
    bool on = false;
    Shape shape = Shape::round;
    Mode mode = Mode::fast;
    std::vector<std::size_t> widths{4, 2};
    std::optional<double> limit;
    bool later = false;  // a key added in a later version
};

}  // namespace

template <>
inline const cfnet::OptionsTable<Toy>& cfnet::options_table<Toy>() {
    static const OptionsTable<Toy> table = OptionsTable<Toy>()
                                               .number("rate", &Toy::rate)
                                               .integer("count", &Toy::count)
                                               .integer("epochs", &Toy::epochs)
                                               .integer("seed", &Toy::seed)
                                               .flag("on", &Toy::on)
                                               .enumeration("shape", &Toy::shape, parse_shape)
                                               .choice("mode", &Toy::mode, {{"fast", Mode::fast}, {"slow", Mode::slow}})
                                               .list("widths", &Toy::widths, ' ')
                                               .optional_number("limit", &Toy::limit)
                                               .flag("later", &Toy::later)
                                               .default_if_missing();
    return table;
}

namespace {

Toy non_default() {
    Toy t;
    t.rate = 0.1;  // not exact in binary: must still read back to the same double
    t.count = 7;
    t.epochs = 3;
    t.seed = std::numeric_limits<std::uint64_t>::max();
    t.on = true;
    t.shape = Shape::square;
    t.mode = Mode::slow;
    t.widths = {};
    t.limit = -2.5;
    t.later = true;
    return t;
}

}  // namespace

TEST_CASE("OptionsTable: each codec writes the text the model files hold", "[options_io]") {
    cfnet::Metadata m{{"other", "kept"}};
    cfnet::write_options(Toy{}, m);
    CHECK(m == cfnet::Metadata{{"other", "kept"}, {"rate", "0.5"}, {"count", "3"}, {"epochs", "10"}, {"seed", "42"},
                               {"on", "0"}, {"shape", "round"}, {"mode", "fast"}, {"widths", "4 2"}, {"limit", ""},
                               {"later", "0"}});
    cfnet::write_options(non_default(), m);
    CHECK(m["rate"] == cfnet::metadata_number(0.1));
    CHECK(m["seed"] == "18446744073709551615");
    CHECK(m["shape"] == "square");
    CHECK(m["mode"] == "slow");
    CHECK(m["widths"] == "");
    CHECK(m["limit"] == "-2.5");
    CHECK(cfnet::options_table<Toy>().size() == 10);
}

TEST_CASE("OptionsTable: every field survives write -> read with a non-default value", "[options_io]") {
    const Toy d, nd = non_default();
    cfnet::Metadata md, mnd;
    cfnet::write_options(d, md);
    cfnet::write_options(nd, mnd);
    const Toy back = cfnet::read_options<Toy>(cfnet::MetadataReader(mnd, "Toy::load", "toy.cfnet"));
    cfnet::Metadata mback;
    cfnet::write_options(back, mback);
    for (const auto& f : cfnet::options_table<Toy>().fields()) {
        INFO(f.key << " (" << f.codec << ")");
        CHECK(mnd.at(f.key) != md.at(f.key));  // the test really sets every field
        CHECK(mback.at(f.key) == mnd.at(f.key));
    }
    CHECK(back.rate == nd.rate);
    CHECK(back.limit == nd.limit);
    CHECK(back.widths.empty());
    // an unset optional reads back unset
    Toy start = nd;
    cfnet::options_table<Toy>().read(cfnet::MetadataReader(md, "Toy::load", "toy.cfnet"), start);
    CHECK(!start.limit.has_value());
    CHECK(start.widths == std::vector<std::size_t>{4, 2});
}

TEST_CASE("OptionsTable: missing keys: an error, or the start value for default_if_missing fields", "[options_io]") {
    cfnet::Metadata m;
    cfnet::write_options(non_default(), m);
    m.erase("later");
    const Toy t = cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "toy.cfnet"));
    CHECK(t.later == false);
    Toy start;
    start.later = true;
    CHECK(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "toy.cfnet"), start).later);
    m.erase("epochs");
    CHECK_THROWS_AS(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "toy.cfnet")), cfnet::IoError);
    CHECK_THROWS_WITH(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "toy.cfnet")),
                      "Toy::load: 'toy.cfnet': metadata key 'epochs' is missing");
}

TEST_CASE("OptionsTable: a bad value is an IoError naming the reader, the file, the key and the value",
          "[options_io]") {
    using Catch::Contains;
    cfnet::Metadata good;
    cfnet::write_options(Toy{}, good);
    // every codec rejects "bogus"
    for (const auto& f : cfnet::options_table<Toy>().fields()) {
        INFO(f.key);
        cfnet::Metadata m = good;
        m[f.key] = "bogus";
        CHECK_THROWS_AS(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "dir/toy.cfnet")), cfnet::IoError);
        CHECK_THROWS_WITH(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "dir/toy.cfnet")),
                          Contains("Toy::load: 'dir/toy.cfnet': metadata '" + f.key + "' = 'bogus'"));
    }
    // and each says what was expected
    const std::vector<std::pair<std::string, std::string>> cases{
        {"rate", "is not a number"},
        {"count", "is not a count"},
        {"on", "is not 0 or 1"},
        {"shape", "is not valid: parse_shape: unknown shape 'bogus' (expected round or square)"},
        {"mode", "is not one of fast, slow"},
        {"widths", "is not a list of integers separated by ' '"},
        {"limit", "is not a number"}};
    for (const auto& [key, what] : cases) {
        INFO(key);
        cfnet::Metadata m = good;
        m[key] = "bogus";
        CHECK_THROWS_WITH(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "toy.cfnet")),
                          "Toy::load: 'toy.cfnet': metadata '" + key + "' = 'bogus' " + what);
    }
    cfnet::Metadata m = good;
    m["epochs"] = "-1";
    CHECK_THROWS_WITH(cfnet::read_options<Toy>(cfnet::MetadataReader(m, "Toy::load", "toy.cfnet")),
                      Contains("metadata 'epochs' = '-1' is not a count"));
}

TEST_CASE("OptionsTable: a key listed twice is an error when the table is built", "[options_io]") {
    cfnet::OptionsTable<Toy> t;
    t.number("rate", &Toy::rate);
    CHECK_THROWS_AS(t.integer("rate", &Toy::count), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::OptionsTable<Toy>().default_if_missing(), cfnet::InvalidArgument);
}
