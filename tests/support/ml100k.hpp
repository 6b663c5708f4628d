#pragma once
// Where the tests find MovieLens 100K: $CFNET_ML100K_DIR if set, else the CMake cache variable
// CFNET_ML100K_DIR compiled in as CFNET_TEST_ML100K_DIR. The data is never committed (licence). A missing copy FAILS the test
// that needs it with a message saying how to point at one: data tests must run in CI.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

namespace cfnet_test {

inline std::string ml100k_dir() {
    const char* env = std::getenv("CFNET_ML100K_DIR");
#ifdef CFNET_TEST_ML100K_DIR
    const std::string dir = env && *env ? env : CFNET_TEST_ML100K_DIR;
#else
    const std::string dir = env ? env : "";
#endif
    if (dir.empty() || !std::ifstream(dir + "/u.data")) {
        FAIL("MovieLens 100K not found (CFNET_ML100K_DIR='" << dir
             << "'). Configure with -DCFNET_ML100K_DIR=/path/to/ml-100k or set the environment variable.");
    }
    return dir;
}

/// The notebook's exact held-out pairs (../shared/data/notebook-split/test.tsv next to ml-100k).
inline std::string notebook_split_file() { return ml100k_dir() + "/../notebook-split/test.tsv"; }

}  // namespace cfnet_test
