// error.hpp: the exception hierarchy (what a caller can catch each error as), ParseError's fields
// and message, check_arg, and detail::concat's formatting.
#include <cfnet/error.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>

static_assert(std::is_base_of_v<std::invalid_argument, cfnet::InvalidArgument>);
static_assert(std::is_base_of_v<std::runtime_error, cfnet::IoError>);
static_assert(std::is_base_of_v<cfnet::IoError, cfnet::ParseError>);
static_assert(std::is_base_of_v<std::runtime_error, cfnet::NumericalError>);
static_assert(!std::is_base_of_v<std::runtime_error, cfnet::InvalidArgument>);
static_assert(!std::is_base_of_v<cfnet::IoError, cfnet::NumericalError>);
static_assert(!std::is_base_of_v<std::invalid_argument, cfnet::IoError>);

namespace {

// Counts how often it is written to a stream.
struct Counted {
    int formatted = 0;
};
std::ostream& operator<<(std::ostream& os, Counted& c) {
    ++c.formatted;
    return os << "<counted>";
}

}  // namespace

TEST_CASE("each error is caught as its standard base, with its message", "[error]") {
    CHECK_THROWS_AS(throw cfnet::InvalidArgument("bad"), std::invalid_argument);
    CHECK_THROWS_AS(throw cfnet::IoError("io"), std::runtime_error);
    CHECK_THROWS_AS(throw cfnet::NumericalError("nan"), std::runtime_error);
    CHECK_THROWS_AS(throw cfnet::ParseError("f", 1, "x", "y"), cfnet::IoError);
    CHECK_THROWS_WITH(throw cfnet::IoError("cannot open 'a.csv'"), "cannot open 'a.csv'");
    CHECK_THROWS_WITH(throw cfnet::NumericalError("loss is nan"), "loss is nan");
    // a NumericalError is not an IoError: a handler for file errors does not swallow divergence
    bool as_io = false;
    try {
        throw cfnet::NumericalError("loss is inf");
    } catch (const cfnet::IoError&) {
        as_io = true;
    } catch (const std::runtime_error&) {
    }
    CHECK_FALSE(as_io);
}

TEST_CASE("ParseError keeps file, line and field and formats them into what()", "[error]") {
    const cfnet::ParseError e("ratings.csv", 17, "rating", "not a number");
    CHECK(e.file() == "ratings.csv");
    CHECK(e.line() == 17);
    CHECK(e.field() == "rating");
    CHECK(std::string(e.what()) == "ratings.csv:17: field 'rating': not a number");
}

TEST_CASE("check_arg does nothing when true and throws the concatenated message when false", "[error]") {
    CHECK_NOTHROW(cfnet::check_arg(true, "never ", "built"));
    CHECK_THROWS_AS(cfnet::check_arg(false, "x"), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::check_arg(false, "Dense::forward: input has ", std::size_t(3), " columns, expected ", 4),
                      "Dense::forward: input has 3 columns, expected 4");
    // the message is formatted only on failure
    Counted c;
    cfnet::check_arg(true, "value ", c);
    CHECK(c.formatted == 0);
    CHECK_THROWS_WITH(cfnet::check_arg(false, "value ", c), "value <counted>");
    CHECK(c.formatted == 1);
}

TEST_CASE("detail::concat streams every argument, numbers included", "[error]") {
    CHECK(cfnet::detail::concat("a", 'b', std::string("c")) == "abc");
    CHECK(cfnet::detail::concat(-3, " ", std::size_t(18446744073709551615ULL), " ", std::int64_t(-9)) ==
          "-3 18446744073709551615 -9");
    CHECK(cfnet::detail::concat(0.5, " ", 1e-3, " ", 2.0f, " ", 1e20) == "0.5 0.001 2 1e+20");
    CHECK(cfnet::detail::concat(true, false) == "10");
    const std::string moved = "kept";
    CHECK(cfnet::detail::concat(moved, "!") == "kept!");
    CHECK(moved == "kept");  // lvalues are not moved from
}
