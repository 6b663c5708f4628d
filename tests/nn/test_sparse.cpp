#include <cfnet/nn/sparse.hpp>

#include <catch2/catch.hpp>

#include <vector>

using cfnet::Matrix;
using cfnet::nn::index_type;
using cfnet::nn::SparseBatch;

static_assert(std::is_same_v<index_type, std::uint32_t>);

TEST_CASE("SparseBatch builds CSR rows and densifies them", "[sparse]") {
    SparseBatch<float> s(5);
    CHECK(s.rows() == 0);
    CHECK(s.cols() == 5);
    s.add_row(std::vector<index_type>{0, 3}, std::vector<float>{1.5f, -2.f});
    s.add_row(std::vector<index_type>{}, std::vector<float>{});
    const index_type c[] = {4};
    const float v[] = {7};
    s.add_row(c, v, 1);
    CHECK(s.rows() == 3);
    CHECK(s.nnz() == 3);
    CHECK(s.row_ptr() == std::vector<std::size_t>{0, 2, 2, 3});
    CHECK(s.indices() == std::vector<index_type>{0, 3, 4});
    CHECK((s.to_dense() == Matrix<float>{{1.5f, 0, 0, -2.f, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 7}}));
    const auto back = SparseBatch<float>::from_dense(s.to_dense());
    CHECK(back.row_ptr() == s.row_ptr());
    CHECK(back.indices() == s.indices());
    CHECK(back.values() == s.values());
}

TEST_CASE("SparseBatch clear keeps storage and columns, pattern rows hold ones", "[sparse]") {
    SparseBatch<double> s(4);
    s.add_pattern_row({1, 2});
    const auto* p = s.indices().data();
    s.clear();
    CHECK(s.rows() == 0);
    CHECK(s.nnz() == 0);
    CHECK(s.cols() == 4);
    s.add_pattern_row({3});
    CHECK(s.indices().data() == p);
    CHECK(s.values() == std::vector<double>{1.0});
    s.clear(9);
    CHECK(s.cols() == 9);
}

TEST_CASE("SparseBatch rejects bad rows and leaves the batch unchanged", "[sparse][errors]") {
    using Catch::Matchers::Contains;
    SparseBatch<float> s(4);
    s.add_pattern_row({0});
    CHECK_THROWS_WITH(s.add_pattern_row({1, 4}), Contains("row 1 has column 4, but the batch has 4 columns"));
    CHECK_THROWS_WITH(s.add_pattern_row({2, 1}), Contains("row 1 has columns out of order or repeated (2 then 1)"));
    CHECK_THROWS_WITH(s.add_pattern_row({2, 2}), Contains("out of order or repeated"));
    CHECK_THROWS_WITH(s.add_row(std::vector<index_type>{1}, std::vector<float>{}), Contains("1 columns but 0 values"));
    CHECK(s.rows() == 1);
    CHECK(s.nnz() == 1);
}
