// data/implicit.hpp: the three Binarize rules on hand-made values (boundaries included), the
// result's layout (same index space, values 1, rows kept in order, timestamps kept), empty rows
// for users who lose every entry, describe(), and the error for a non-finite threshold.
#include <cfnet/data/implicit.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::Binarize;
using cfnet::RatingMatrix;

namespace {

// user 1: items 10 (3.5), 20 (4), 30 (5); user 2: item 10 (1); user 3: item 20 (3.6)
RatingMatrix<float> ratings() {
    return RatingMatrix<float>::from_ratings({{1, 10, 3.5f, 100},
                                              {1, 20, 4.0f, 101},
                                              {1, 30, 5.0f, 102},
                                              {2, 10, 1.0f, 103},
                                              {3, 20, 3.6f, 104}});
}

std::vector<cfnet::index_type> items_of(const RatingMatrix<float>& m, cfnet::index_type u) {
    auto s = m.user_items(u);
    return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("Binarize keeps values by its rule, boundaries included", "[implicit]") {
    CHECK(Binarize::all().keeps(-7.0));
    CHECK(Binarize::at_least(4).keeps(4.0));
    CHECK_FALSE(Binarize::at_least(4).keeps(3.999));
    CHECK_FALSE(Binarize::above(3.5).keeps(3.5));
    CHECK(Binarize::above(3.5).keeps(3.5001));
    CHECK(Binarize::all().describe() == "all");
    CHECK(Binarize::at_least(4).describe() == ">= 4");
    CHECK(Binarize::above(3.5).describe() == "> 3.5");
    CHECK_THROWS_WITH(Binarize::above(std::nan("")), Contains("threshold must be finite"));
    CHECK_THROWS_WITH(Binarize::at_least(std::numeric_limits<double>::infinity()), Contains("finite"));
}

TEST_CASE("to_implicit keeps the passing entries as ones in the same index space", "[implicit]") {
    const auto r = ratings();
    const auto x = cfnet::to_implicit(r, Binarize::above(3.5));
    CHECK(x.same_space(r));
    REQUIRE(x.n_users() == 3);
    REQUIRE(x.n_items() == 3);
    CHECK(x.nnz() == 3);
    CHECK(items_of(x, 0) == std::vector<cfnet::index_type>{1, 2});  // 4 and 5; 3.5 is not > 3.5
    CHECK(items_of(x, 1).empty());                                   // user 2 keeps nothing, stays
    CHECK(items_of(x, 2) == std::vector<cfnet::index_type>{1});      // 3.6
    for (float v : x.values()) CHECK(v == 1.0f);
    REQUIRE(x.has_timestamps());
    CHECK(x.timestamps() == std::vector<std::int64_t>{101, 102, 104});
    CHECK(x.item_count(0) == 0);  // the item-major index follows
    CHECK(x.item_count(1) == 2);

    const auto liked = cfnet::to_implicit(r, Binarize::at_least(4));
    CHECK(liked.nnz() == 2);
    CHECK(items_of(liked, 2).empty());

    const auto every = cfnet::to_implicit(r);
    CHECK(every.nnz() == r.nnz());
    CHECK(every.row_ptr() == r.row_ptr());
    CHECK(every.item_indices() == r.item_indices());
}
