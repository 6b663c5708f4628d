// ODR check, part A: every public header in one translation unit; odr_b.cpp does the same. A
// non-inline function defined in a header makes the link of cfnet_test_odr fail.
#include <cfnet/cfnet.hpp>

#include <catch2/catch.hpp>

std::size_t odr_b_users();

TEST_CASE("two translation units include every header and link", "[odr]") {
    const auto m = cfnet::RatingMatrix<float>::from_ratings({{1, 1, 5.f, 0}});
    CHECK(m.n_users() + odr_b_users() == 3);
}
