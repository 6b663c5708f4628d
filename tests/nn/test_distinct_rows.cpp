#include <cfnet/nn/distinct_rows.hpp>

#include <catch2/catch.hpp>

#include <vector>

using cfnet::nn::DistinctRows;
using cfnet::nn::index_type;

TEST_CASE("DistinctRows lists distinct indices in first-appearance order with positions", "[distinct_rows]") {
    DistinctRows d;
    const std::vector<index_type> idx = {4, 1, 4, 7, 1, 0};
    d.assign(idx.data(), idx.size(), 8);
    CHECK(d.rows() == std::vector<std::size_t>{4, 1, 7, 0});
    CHECK(d.positions() == std::vector<index_type>{0, 1, 0, 2, 1, 3});
    // the slot map is reset: a second batch starts afresh (and the table may grow)
    const std::vector<index_type> idx2 = {9, 4, 9};
    d.assign(idx2.data(), idx2.size(), 10);
    CHECK(d.rows() == std::vector<std::size_t>{9, 4});
    CHECK(d.positions() == std::vector<index_type>{0, 1, 0});
    d.assign(idx2.data(), 0, 10);
    CHECK(d.size() == 0);
}
