#include <cfnet/data/rating_matrix.hpp>

#include <catch2/catch.hpp>

using cfnet::DuplicatePolicy;
using cfnet::IdMap;
using cfnet::index_type;
using cfnet::Matrix;
using RM = cfnet::RatingMatrix<float>;

namespace {
// users 10, 20, 30; items 7, 5, 9 (indices by increasing id: items 5->0, 7->1, 9->2)
std::vector<cfnet::Rating<float>> small() {
    return {{20, 7, 4.f, 100}, {10, 9, 1.f, 50}, {10, 5, 0.f, 60}, {30, 7, -2.f, 70}, {20, 5, 3.5f, 90}};
}
}  // namespace

TEST_CASE("IdMap maps both ways in O(1) and rejects unknown or repeated ids", "[rating_matrix]") {
    IdMap m({42, 7, 13}, "user");
    CHECK(m.size() == 3);
    CHECK(m.index(7) == 1);
    CHECK(m.id(2) == 13);
    CHECK(m.contains(42));
    CHECK_FALSE(m.find(99).has_value());
    CHECK_THROWS_WITH(m.index(99), "unknown user id 99");
    CHECK_THROWS_AS(m.id(3), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(IdMap({1, 2, 1}, "item"), "IdMap: duplicate item id 1");
    const auto s = IdMap::sorted_unique({5, 3, 5, 1}, "item");
    CHECK(s.ids() == std::vector<cfnet::id_type>{1, 3, 5});
}

TEST_CASE("RatingMatrix::from_ratings builds sorted CSR and an item-major index", "[rating_matrix]") {
    const auto m = RM::from_ratings(small());
    REQUIRE(m.n_users() == 3);
    REQUIRE(m.n_items() == 3);
    REQUIRE(m.nnz() == 5);
    CHECK(m.users().ids() == std::vector<cfnet::id_type>{10, 20, 30});
    CHECK(m.items().ids() == std::vector<cfnet::id_type>{5, 7, 9});
    CHECK(m.row_ptr() == std::vector<std::size_t>{0, 2, 4, 5});
    CHECK(m.item_indices() == std::vector<index_type>{0, 2, 0, 1, 1});
    CHECK(m.values() == std::vector<float>{0.f, 1.f, 3.5f, 4.f, -2.f});
    CHECK(m.timestamps() == std::vector<std::int64_t>{60, 50, 90, 100, 70});
    // A rating of 0 or a negative rating is a value, not "missing".
    CHECK(m.rating(0, 0) == 0.f);
    CHECK(m.rating(2, 1) == -2.f);
    CHECK_FALSE(m.rating(2, 0).has_value());
    CHECK(m.contains(0, 2));
    // Item-major view: item 7 (index 1) was rated by users 20 and 30.
    const auto us = m.item_users(1);
    REQUIRE(us.size() == 2);
    CHECK(us[0] == 1);
    CHECK(us[1] == 2);
    CHECK(m.item_ratings(1)[1] == -2.f);
    CHECK(m.item_count(2) == 1);
    CHECK(m.mean() == Approx((0 + 1 + 3.5 + 4 - 2) / 5.0));
    CHECK(m.density() == Approx(5.0 / 9.0));
}

TEST_CASE("RatingMatrix duplicate policies", "[rating_matrix]") {
    auto r = small();
    r.push_back({20, 7, 2.f, 300});
    CHECK_THROWS_AS(RM::from_ratings(r), cfnet::DuplicateRatingError);
    try {
        RM::from_ratings(r);
    } catch (const cfnet::DuplicateRatingError& e) {
        CHECK(e.user() == 20);
        CHECK(e.item() == 7);
        CHECK(e.first() == 0);
        CHECK(e.second() == 5);
    }
    const auto last = RM::from_ratings(r, DuplicatePolicy::keep_last);
    CHECK(last.nnz() == 5);
    CHECK(last.rating(1, 1) == 2.f);
    const auto mean = RM::from_ratings(r, DuplicatePolicy::mean);
    CHECK(mean.rating(1, 1) == 3.f);
    CHECK(mean.user_timestamps(1)[1] == 300);
}

TEST_CASE("RatingMatrix in a given index space, where unknown ids are errors", "[rating_matrix]") {
    const auto m = RM::from_ratings(small());
    const auto t = RM::from_ratings({{30, 9, 5.f, 0}}, m.user_map(), m.item_map());
    CHECK(t.same_space(m));
    CHECK(t.n_users() == 3);
    CHECK(t.rating(2, 2) == 5.f);
    CHECK_THROWS_WITH(RM::from_ratings({{31, 9, 5.f, 0}}, m.user_map(), m.item_map()), "unknown user id 31");
    CHECK_THROWS_WITH(RM::from_ratings({{30, 8, 5.f, 0}}, m.user_map(), m.item_map()), "unknown item id 8");
}

TEST_CASE("RatingMatrix CSR constructor validates its input", "[rating_matrix]") {
    auto u = std::make_shared<IdMap>(std::vector<cfnet::id_type>{1, 2}, "user");
    auto i = std::make_shared<IdMap>(std::vector<cfnet::id_type>{1, 2, 3}, "item");
    CHECK_NOTHROW(RM(u, i, {0, 2, 3}, {0, 2, 1}, {1, 2, 3}));
    CHECK_THROWS_AS(RM(u, i, {0, 2}, {0, 2}, {1, 2}), cfnet::InvalidArgument);            // row_ptr size
    CHECK_THROWS_AS(RM(u, i, {0, 2, 3}, {2, 0, 1}, {1, 2, 3}), cfnet::InvalidArgument);   // unsorted row
    CHECK_THROWS_AS(RM(u, i, {0, 2, 3}, {0, 0, 1}, {1, 2, 3}), cfnet::InvalidArgument);   // duplicate in row
    CHECK_THROWS_AS(RM(u, i, {0, 2, 3}, {0, 3, 1}, {1, 2, 3}), cfnet::InvalidArgument);   // item out of range
    CHECK_THROWS_AS(RM(u, i, {0, 2, 3}, {0, 2, 1}, {1, 2}), cfnet::InvalidArgument);      // values size
    CHECK_THROWS_AS(RM(u, i, {0, 2, 3}, {0, 2, 1}, {1, 2, 3}, {5}), cfnet::InvalidArgument);  // timestamps size
}

TEST_CASE("RatingMatrix dense batches by user and by item, values and mask", "[rating_matrix]") {
    const auto m = RM::from_ratings(small());
    Matrix<float> v, mask;
    m.user_batch(0, 2, v, &mask);
    const Matrix<float> ev = {{0.f, 0.f, 1.f}, {3.5f, 4.f, 0.f}};
    const Matrix<float> em = {{1.f, 0.f, 1.f}, {1.f, 1.f, 0.f}};
    CHECK(((v) == (ev)));
    CHECK(((mask) == (em)));  // the observed 0 rating of user 10 is in the mask

    m.user_batch(std::vector<index_type>{2, 0}, v, &mask);
    const Matrix<float> ev2 = {{0.f, -2.f, 0.f}, {0.f, 0.f, 1.f}};
    CHECK(((v) == (ev2)));
    CHECK(mask(0, 1) == 1.f);
    CHECK(mask(0, 0) == 0.f);

    m.item_batch(1, 2, v, &mask);  // items 7 and 9 over users 10, 20, 30
    const Matrix<float> ei = {{0.f, 4.f, -2.f}, {1.f, 0.f, 0.f}};
    CHECK(((v) == (ei)));
    CHECK(mask(1, 0) == 1.f);
    m.item_batch(std::vector<index_type>{0}, v);
    CHECK(((v) == (Matrix<float>{{0.f, 3.5f, 0.f}})));

    CHECK_THROWS_AS(m.user_batch(2, 2, v), cfnet::InvalidArgument);
    CHECK_THROWS_AS(m.item_batch(std::vector<index_type>{3}, v), cfnet::InvalidArgument);
}

TEST_CASE("RatingMatrix transposed, filter and entry_users", "[rating_matrix]") {
    const auto m = RM::from_ratings(small());
    const auto t = m.transposed();
    CHECK(t.n_users() == 3);
    CHECK(t.users().ids() == m.items().ids());
    for (index_type u = 0; u < 3; ++u)
        for (index_type i = 0; i < 3; ++i) CHECK(m.rating(u, i) == t.rating(i, u));
    CHECK(t.transposed().timestamps() == m.timestamps());

    const auto f = m.filter([&](std::size_t k) { return m.values()[k] > 0.5f; });
    CHECK(f.same_space(m));
    CHECK(f.nnz() == 3);
    CHECK_FALSE(f.contains(0, 0));
    CHECK(m.entry_users() == std::vector<index_type>{0, 0, 1, 1, 2});

    const RM empty;
    CHECK(empty.nnz() == 0);
    CHECK(empty.n_users() == 0);
}

TEST_CASE("IdMap: a named map (string ids) looks names up both ways; an integer map takes the text of its ids",
          "[rating_matrix]") {
    const auto m = cfnet::IdMap::named({"a", "b c", "u_1029"}, "user");
    CHECK(m.has_names());
    CHECK(m.ids() == std::vector<cfnet::id_type>{0, 1, 2});
    CHECK(*m.find(std::string("u_1029")) == 2);
    CHECK_FALSE(m.find(std::string("c")).has_value());
    CHECK(m.label(1) == "b c");
    CHECK(m != cfnet::IdMap({0, 1, 2}, "user"));  // same integers, but names
    CHECK_THROWS_WITH(cfnet::IdMap::named({"x", "x"}, "item"), "IdMap: duplicate item name 'x'");
    CHECK_THROWS_WITH(cfnet::IdMap::named({"x", ""}, "item"), "IdMap: empty item name at index 1");
    const cfnet::IdMap ints({-4, 17}, "item");
    CHECK_FALSE(ints.has_names());
    CHECK(*ints.find(std::string("17")) == 1);
    CHECK(*ints.find(std::string("-4")) == 0);
    CHECK_FALSE(ints.find(std::string("17x")).has_value());
    CHECK_FALSE(ints.find(std::string("")).has_value());
    CHECK(ints.label(0) == "-4");
}
