// metadata.hpp: metadata values that read back exactly, and MetadataReader's typed reads and errors.
#include <cfnet/metadata.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using cfnet::Metadata;

TEST_CASE("metadata_number reads back (MetadataReader::number) to exactly the same double", "[serialize]") {
    const double inf = std::numeric_limits<double>::infinity();
    for (double v : {0.0, -0.0, 0.1, 1e-7, 3e-4, 0.999, 1.0 / 3.0, 2.2250738585072014e-308, 1.7976931348623157e308,
                     -123.456, 4.9406564584124654e-324, 1e-310, inf, -inf}) {
        const cfnet::Metadata m{{"x", cfnet::metadata_number(v)}};
        INFO(m.at("x"));
        const double back = cfnet::MetadataReader(m, "test", "f").number("x");
        CHECK(back == v);
        CHECK(std::signbit(back) == std::signbit(v));
    }
    const cfnet::Metadata nan{{"x", cfnet::metadata_number(std::numeric_limits<double>::quiet_NaN())}};
    CHECK(std::isnan(cfnet::MetadataReader(nan, "test", "f").number("x")));
    CHECK(cfnet::metadata_number(0.5) == "0.5");
}

TEST_CASE("MetadataReader: typed reads, and an IoError naming reader, file, key and value for bad ones",
          "[serialize]") {
    using Catch::Matchers::Contains;
    using Catch::Matchers::Message;
    const cfnet::Metadata m{{"n", "12"},        {"neg", "-1"},   {"big", "99999999999999999999999"},
                            {"int_big", "3000000000"},           {"sci", "1e3"},   {"x", "0.25"},
                            {"bad_x", "0.25x"}, {"empty", ""},   {"space", " 1"},  {"on", "1"},
                            {"off", "0"},       {"yes", "yes"},  {"ids", "3,-1,7"}, {"ids_sp", "5 6"},
                            {"gap", "1,,2"},    {"trail", "1,2,"}, {"long", std::string(100, '9') + "z"}};
    const cfnet::MetadataReader r(m, "Model::load", "dir/model.cfnet");
    CHECK(r.count("n") == 12u);
    CHECK(r.count<int>("n") == 12);
    CHECK(r.number("x") == 0.25);
    CHECK(r.flag("on"));
    CHECK_FALSE(r.flag("off"));
    CHECK(r.has("n"));
    CHECK_FALSE(r.has("nope"));
    CHECK(r.text("empty").empty());
    CHECK(r.integers("ids", ',') == std::vector<std::int64_t>{3, -1, 7});
    CHECK(r.integers<std::size_t>("ids_sp", ' ') == std::vector<std::size_t>{5, 6});
    CHECK(r.integers("empty", ',').empty());
    CHECK(cfnet::metadata_list(std::vector<std::int64_t>{3, -1, 7}, ',') == "3,-1,7");
    CHECK(cfnet::metadata_list(std::vector<std::size_t>{}, ' ').empty());

    CHECK_THROWS_MATCHES(r.text("nope"), cfnet::IoError,
                         Message("Model::load: 'dir/model.cfnet': metadata key 'nope' is missing"));
    CHECK_THROWS_MATCHES(r.count("neg"), cfnet::IoError,
                         Message("Model::load: 'dir/model.cfnet': metadata 'neg' = '-1' is not a count"));
    CHECK_THROWS_AS(r.count<int>("neg"), cfnet::IoError);
    CHECK_THROWS_AS(r.count("big"), cfnet::IoError);
    CHECK_THROWS_AS(r.count<int>("int_big"), cfnet::IoError);
    CHECK_THROWS_AS(r.count("sci"), cfnet::IoError);
    CHECK_THROWS_AS(r.count("x"), cfnet::IoError);
    CHECK_THROWS_MATCHES(r.number("bad_x"), cfnet::IoError, Message("Model::load: 'dir/model.cfnet': metadata 'bad_x' = '0.25x' is not a number"));
    CHECK_THROWS_AS(r.number("empty"), cfnet::IoError);
    CHECK_THROWS_AS(r.number("space"), cfnet::IoError);
    CHECK_THROWS_WITH(r.flag("yes"), Contains("'yes' is not 0 or 1"));
    CHECK_THROWS_WITH(r.integers("gap", ','), Contains("metadata 'gap' = '1,,2' is not a list of integers"));
    CHECK_THROWS_AS(r.integers("trail", ','), cfnet::IoError);
    CHECK_THROWS_AS(r.integers<std::size_t>("ids", ','), cfnet::IoError);  // -1 is not a size
    CHECK_THROWS_WITH(r.number("long"), Contains("'" + std::string(57, '9') + "...' is not a number"));
    enum class Switch { off, on };
    CHECK(r.choice<Switch>("yes", {{"no", Switch::off}, {"yes", Switch::on}}) == Switch::on);
    CHECK_THROWS_WITH(r.choice<Switch>("on", {{"no", Switch::off}, {"yes", Switch::on}}),
                      Contains("metadata 'on' = '1' is not one of no, yes"));
    const auto parse_even = [](const std::string& t) {
        if (t.size() % 2) throw cfnet::InvalidArgument("odd length");
        return t.size();
    };
    CHECK(r.parsed("x", parse_even) == 4u);
    CHECK_THROWS_WITH(r.parsed("sci", parse_even), Contains("metadata 'sci' = '1e3' is not valid: odd length"));
}
