// config.hpp: the version macros agree with each other (and with the CMake project's version), and
// CFNET_ASSERT is an expression statement that vanishes under NDEBUG.
#include <cfnet/config.hpp>

#include <catch2/catch.hpp>

#include <string>

static_assert(CFNET_VERSION_MAJOR >= 0 && CFNET_VERSION_MINOR >= 0 && CFNET_VERSION_PATCH >= 0,
              "the version numbers are integer constant expressions");

TEST_CASE("CFNET_VERSION_STRING is MAJOR.MINOR.PATCH", "[config]") {
    const std::string expected = std::to_string(CFNET_VERSION_MAJOR) + "." + std::to_string(CFNET_VERSION_MINOR) +
                                 "." + std::to_string(CFNET_VERSION_PATCH);
    CHECK(std::string(CFNET_VERSION_STRING) == expected);
#ifdef CFNET_TEST_PROJECT_VERSION
    CHECK(std::string(CFNET_VERSION_STRING) == CFNET_TEST_PROJECT_VERSION);  // project(cfnet VERSION ...)
#endif
}

TEST_CASE("CFNET_ASSERT checks its condition only in debug builds", "[config]") {
    int evaluated = 0;
    CFNET_ASSERT(++evaluated > 0);
#ifdef NDEBUG
    CHECK(evaluated == 0);  // not even evaluated
    CFNET_ASSERT(false);    // and never aborts
#else
    CHECK(evaluated == 1);
#endif
    // usable where an expression statement is expected
    if (evaluated < 0) CFNET_ASSERT(false);
    else CFNET_ASSERT(true);
}
