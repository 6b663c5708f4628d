#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>

#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

using cfnet::By;
using cfnet::index_type;
using RM = cfnet::RatingMatrix<float>;
using SplitF = cfnet::Split<float>;

namespace {

// A few lines of parsing so this test does not depend on data/io.hpp.
const RM& ml100k() {
    static const RM m = [] {
        const std::string path = cfnet_test::ml100k_dir() + "/u.data";
        std::ifstream in(path);
        std::vector<cfnet::Rating<float>> r;
        cfnet::Rating<float> x;
        while (in >> x.user >> x.item >> x.value >> x.timestamp) r.push_back(x);
        return RM::from_ratings(r);
    }();
    REQUIRE(m.nnz() == 100000);
    return m;
}

const RM& synthetic() {
    static const RM m = [] {
        auto o = cfnet::synthetic::ml100k();
        o.n_users = 300;
        o.n_items = 400;
        o.n_ratings = 8000;
        o.min_ratings_per_user = 1;  // include users below the holdout's min_ratings and groups of one
        o.user_activity_exponent = 1.5;
        return cfnet::synthetic::generate<float>(o);
    }();
    return m;
}

// users 1..3, items 10..14; user 1 has ties in timestamps
RM tiny(bool with_timestamps = true) {
    return RM::from_ratings({{1, 10, 5.f, 7},
                             {1, 11, 3.f, 9},
                             {1, 12, 4.f, 9},
                             {1, 13, 1.f, 2},
                             {2, 10, 2.f, 100},
                             {2, 14, 0.f, 50},
                             {3, 12, -1.f, 1}},
                            cfnet::DuplicatePolicy::error, with_timestamps);
}

// Disjoint, union equals the source (values and timestamps), same index space, test_mask agrees.
void check_partition(const RM& src, const SplitF& s) {
    REQUIRE(s.train.user_map() == src.user_map());
    REQUIRE(s.train.item_map() == src.item_map());
    REQUIRE(s.test.user_map() == src.user_map());
    REQUIRE(s.test.item_map() == src.item_map());
    CHECK(s.train.same_space(s.test));
    REQUIRE(s.train.nnz() + s.test.nnz() == src.nnz());
    CHECK(s.train.has_timestamps() == src.has_timestamps());
    const auto mask = cfnet::test_mask(src, s);
    REQUIRE(mask.size() == src.nnz());
    std::size_t bad = 0, in_test = 0;
    for (index_type u = 0; u < src.n_users(); ++u) {
        const auto items = src.user_items(u);
        const auto vals = src.user_ratings(u);
        for (std::size_t j = 0; j < items.size(); ++j) {
            const auto tr = s.train.rating(u, items[j]);
            const auto te = s.test.rating(u, items[j]);
            if (tr.has_value() == te.has_value()) ++bad;                      // in neither or both
            const auto v = tr ? tr : te;
            if (!v || *v != vals[j]) ++bad;                                   // value changed
            if (te.has_value() != (mask[src.row_ptr()[u] + j] != 0)) ++bad;  // mask disagrees
            in_test += te.has_value();
        }
    }
    CHECK(bad == 0);
    CHECK(in_test == s.test.nnz());
    if (src.has_timestamps()) {
        // Timestamps follow their entries: compare the multiset per user.
        for (index_type u = 0; u < src.n_users(); ++u) {
            std::vector<std::int64_t> a(src.user_timestamps(u).begin(), src.user_timestamps(u).end());
            std::vector<std::int64_t> b(s.train.user_timestamps(u).begin(), s.train.user_timestamps(u).end());
            b.insert(b.end(), s.test.user_timestamps(u).begin(), s.test.user_timestamps(u).end());
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            if (a != b) ++bad;
        }
        CHECK(bad == 0);
    }
}

bool same(const RM& a, const RM& b) {
    return a.row_ptr() == b.row_ptr() && a.item_indices() == b.item_indices() && a.values() == b.values();
}

std::size_t notebook_count(std::size_t n) {
    return n < 5 ? 0 : std::max<std::size_t>(1, static_cast<std::size_t>(0.2 * static_cast<double>(n)));
}

}  // namespace

TEST_CASE("split_from_mask and test_mask round-trip on a hand-made matrix", "[split]") {
    const auto m = tiny();
    const std::vector<std::uint8_t> mask{0, 1, 0, 0, 1, 0, 1};  // CSR order: u1 10 11 12 13, u2 10 14, u3 12
    const auto s = cfnet::split_from_mask(m, mask);
    check_partition(m, s);
    CHECK(s.test.nnz() == 3);
    CHECK(s.test.rating(0, 1) == 3.f);
    CHECK(s.test.rating(1, 0) == 2.f);
    CHECK(s.test.rating(2, 2) == -1.f);
    CHECK(s.test.timestamps() == std::vector<std::int64_t>{9, 100, 1});
    CHECK(cfnet::test_mask(m, s) == mask);
    CHECK_THROWS_WITH(cfnet::split_from_mask(m, std::vector<std::uint8_t>(3)),
                      "split_from_mask: mask has 3 entries, the matrix has 7 ratings");
    // A test pair the source does not hold.
    const auto other = RM::from_ratings({{1, 10, 1.f, 0}, {1, 14, 1.f, 0}, {2, 10, 1.f, 0}, {3, 12, 1.f, 0}});
    const auto bogus = SplitF{other, other.filter([](std::size_t k) { return k == 1; })};
    CHECK_THROWS_AS(cfnet::test_mask(m, bogus), cfnet::InvalidArgument);
}

TEST_CASE("per_user_holdout follows the notebook's rule", "[split]") {
    SECTION("MovieLens 100K: exactly the notebook's 19633 / 80367") {
        const auto& m = ml100k();
        const auto s = cfnet::per_user_holdout(m, 42);
        check_partition(m, s);
        CHECK(s.test.nnz() == 19633);
        CHECK(s.train.nnz() == 80367);
        CHECK(s.test.n_users() == 943);
        std::size_t wrong = 0;
        for (index_type u = 0; u < m.n_users(); ++u)
            wrong += s.test.user_count(u) != notebook_count(m.user_count(u));
        CHECK(wrong == 0);
        // The notebook's own held-out pairs follow the same per-user counts.
        std::ifstream in(cfnet_test::notebook_split_file());
        REQUIRE(in);
        std::vector<std::size_t> nb(m.n_users(), 0);
        cfnet::id_type uid = 0, iid = 0;
        float r = 0;
        std::size_t lines = 0;
        while (in >> uid >> iid >> r) {
            ++nb[m.users().index(uid)];
            wrong += m.rating(m.users().index(uid), m.items().index(iid)) != r;
            ++lines;
        }
        CHECK(lines == 19633);
        CHECK(wrong == 0);
        for (index_type u = 0; u < m.n_users(); ++u) wrong += nb[u] != notebook_count(m.user_count(u));
        CHECK(wrong == 0);
    }
    SECTION("synthetic data with users below min_ratings, and other fractions") {
        const auto& m = synthetic();
        std::size_t small_users = 0;
        for (index_type u = 0; u < m.n_users(); ++u) small_users += m.user_count(u) < 5;
        REQUIRE(small_users > 0);
        const auto s = cfnet::per_user_holdout(m, 7);
        check_partition(m, s);
        std::size_t wrong = 0;
        for (index_type u = 0; u < m.n_users(); ++u)
            wrong += s.test.user_count(u) != notebook_count(m.user_count(u));
        CHECK(wrong == 0);
        const auto s2 = cfnet::per_user_holdout(m, 7, 0.5, 2);
        check_partition(m, s2);
        for (index_type u = 0; u < m.n_users(); ++u) {
            const auto n = m.user_count(u);
            wrong += s2.test.user_count(u) != (n < 2 ? 0 : std::max<std::size_t>(1, n / 2));
        }
        CHECK(wrong == 0);
    }
    SECTION("hand-computed: 4 ratings below min 5 stay; min 2 hides max(1, int(0.2 * n))") {
        const auto m = tiny();
        CHECK(cfnet::per_user_holdout(m, 1).test.nnz() == 0);
        const auto s = cfnet::per_user_holdout(m, 1, 0.2, 2);  // user 1: 4 -> 1, user 2: 2 -> 1, user 3 stays
        check_partition(m, s);
        CHECK(s.test.user_count(0) == 1);
        CHECK(s.test.user_count(1) == 1);
        CHECK(s.test.user_count(2) == 0);
    }
    SECTION("seeds") {
        const auto& m = synthetic();
        CHECK(same(cfnet::per_user_holdout(m, 3).test, cfnet::per_user_holdout(m, 3).test));
        CHECK_FALSE(same(cfnet::per_user_holdout(m, 3).test, cfnet::per_user_holdout(m, 4).test));
    }
    SECTION("arguments") {
        const auto m = tiny();
        CHECK_THROWS_WITH(cfnet::per_user_holdout(m, 1, 1.0), "per_user_holdout: fraction must be in (0, 1), got 1");
        CHECK_THROWS_AS(cfnet::per_user_holdout(m, 1, 0.0), cfnet::InvalidArgument);
        CHECK_THROWS_AS(cfnet::per_user_holdout(m, 1, std::nan("")), cfnet::InvalidArgument);
        CHECK_THROWS_WITH(cfnet::per_user_holdout(m, 1, 0.2, 0), "per_user_holdout: min_ratings must be >= 1, got 0");
    }
}

TEST_CASE("random_split hides ceil(fraction * n) uniformly chosen pairs", "[split]") {
    const auto& m = ml100k();
    const auto s = cfnet::random_split(m, 0.2, 5);
    check_partition(m, s);
    CHECK(s.test.nnz() == 20000);
    const auto& sy = synthetic();
    const auto s3 = cfnet::random_split(sy, 0.33, 5);
    check_partition(sy, s3);
    CHECK(s3.test.nnz() == 2640);  // ceil(0.33 * 8000)
    CHECK(cfnet::random_split(tiny(), 0.1, 1).test.nnz() == 1);  // ceil(0.7)
    CHECK(same(cfnet::random_split(sy, 0.2, 9).test, cfnet::random_split(sy, 0.2, 9).test));
    CHECK_FALSE(same(cfnet::random_split(sy, 0.2, 9).test, cfnet::random_split(sy, 0.2, 10).test));
    // Uniform over pairs: every user's share of the test set is close to 20% on MovieLens.
    std::size_t heavy_test = 0, heavy_all = 0;
    for (index_type u = 0; u < m.n_users(); ++u)
        if (m.user_count(u) >= 200) heavy_test += s.test.user_count(u), heavy_all += m.user_count(u);
    CHECK(static_cast<double>(heavy_test) / static_cast<double>(heavy_all) == Approx(0.2).margin(0.02));
    CHECK_THROWS_WITH(cfnet::random_split(m, -0.5, 1), "random_split: test_fraction must be in (0, 1), got -0.5");
    const auto one = RM::from_ratings({{1, 1, 1.f, 0}});
    CHECK_THROWS_AS(cfnet::random_split(one, 0.5, 1), cfnet::InvalidArgument);
}

TEST_CASE("stratified_test_count: Recommenders' rounding, at least one training rating", "[split]") {
    using cfnet::stratified_test_count;
    CHECK(stratified_test_count(0, 0.25) == 0);
    CHECK(stratified_test_count(1, 0.25) == 0);  // round(0.75) = 1 train
    CHECK(stratified_test_count(2, 0.25) == 0);  // round(1.5) = 2 train (half to even)
    CHECK(stratified_test_count(3, 0.25) == 1);  // round(2.25) = 2
    CHECK(stratified_test_count(4, 0.25) == 1);
    CHECK(stratified_test_count(6, 0.25) == 2);   // round(4.5) = 4 (half to even)
    CHECK(stratified_test_count(10, 0.25) == 2);  // round(7.5) = 8
    CHECK(stratified_test_count(1, 0.9) == 0);    // groups of one stay in train
    CHECK(stratified_test_count(2, 0.9) == 1);    // capped at n - 1
    CHECK(stratified_test_count(100, 0.2) == 20);
}

TEST_CASE("stratified_split by user and by item", "[split]") {
    for (const RM* mp : {&ml100k(), &synthetic()}) {
        const auto& m = *mp;
        const auto su = cfnet::stratified_split(m, 0.25, 11, By::user);
        check_partition(m, su);
        std::size_t wrong = 0;
        for (index_type u = 0; u < m.n_users(); ++u)
            wrong += su.test.user_count(u) != cfnet::stratified_test_count(m.user_count(u), 0.25);
        CHECK(wrong == 0);
        const auto si = cfnet::stratified_split(m, 0.25, 11, By::item);
        check_partition(m, si);
        std::size_t ones = 0, ones_in_train = 0;
        for (index_type i = 0; i < m.n_items(); ++i) {
            wrong += si.test.item_count(i) != cfnet::stratified_test_count(m.item_count(i), 0.25);
            if (m.item_count(i) == 1) ++ones, ones_in_train += si.train.item_count(i);
        }
        CHECK(wrong == 0);
        CHECK(ones_in_train == ones);  // items rated once stay in train
        if (mp == &ml100k()) CHECK(ones == 141);
        CHECK(same(si.test, cfnet::stratified_split(m, 0.25, 11, By::item).test));
        CHECK_FALSE(same(si.test, cfnet::stratified_split(m, 0.25, 12, By::item).test));
    }
    CHECK_THROWS_WITH(cfnet::stratified_split(tiny(), 1.5, 1, By::user),
                      "stratified_split: test_fraction must be in (0, 1), got 1.5");
}

TEST_CASE("leave_one_out takes each user's latest rating", "[split]") {
    SECTION("hand-computed ties go to the larger item index") {
        const auto m = tiny();
        const auto s = cfnet::leave_one_out(m);
        check_partition(m, s);
        REQUIRE(s.test.nnz() == 2);
        CHECK(s.test.rating(0, 2) == 4.f);  // items 11 and 12 both at t=9: item 12 (index 2)
        CHECK(s.test.rating(1, 0) == 2.f);  // t=100
        CHECK(s.test.user_count(2) == 0);   // a single rating stays in train
        CHECK_THROWS_WITH(cfnet::leave_one_out(tiny(false)), "leave_one_out: the matrix has no timestamps (7 ratings)");
    }
    SECTION("MovieLens 100K and synthetic data against a naive scan") {
        for (const RM* mp : {&ml100k(), &synthetic()}) {
            const auto& m = *mp;
            const auto s = cfnet::leave_one_out(m);
            check_partition(m, s);
            std::size_t wrong = 0;
            for (index_type u = 0; u < m.n_users(); ++u) {
                const auto ts = m.user_timestamps(u);
                const auto it = m.user_items(u);
                if (ts.size() < 2) {
                    wrong += s.test.user_count(u) != 0;
                    continue;
                }
                std::int64_t tmax = ts[0];
                for (const auto t : ts) tmax = std::max(tmax, t);
                index_type want = 0;
                for (std::size_t j = 0; j < ts.size(); ++j)
                    if (ts[j] == tmax) want = std::max(want, it[j]);
                wrong += s.test.user_count(u) != 1 || !s.test.contains(u, want);
            }
            CHECK(wrong == 0);
        }
        CHECK(cfnet::leave_one_out(ml100k()).test.nnz() == 943);
    }
}

TEST_CASE("kfold: the test folds partition the source, sizes within one", "[split]") {
    for (const RM* mp : {&ml100k(), &synthetic()}) {
        const auto& m = *mp;
        const auto folds = cfnet::kfold(m, 5, 3);
        REQUIRE(folds.size() == 5);
        std::vector<int> hits(m.nnz(), 0);
        std::size_t lo = m.nnz(), hi = 0;
        for (const auto& s : folds) {
            check_partition(m, s);
            const auto mask = cfnet::test_mask(m, s);
            for (std::size_t e = 0; e < mask.size(); ++e) hits[e] += mask[e];
            lo = std::min(lo, s.test.nnz());
            hi = std::max(hi, s.test.nnz());
        }
        CHECK(std::count(hits.begin(), hits.end(), 1) == static_cast<std::ptrdiff_t>(m.nnz()));
        CHECK(hi - lo <= 1);
        CHECK(same(folds[2].test, cfnet::kfold(m, 5, 3)[2].test));
        CHECK_FALSE(same(folds[2].test, cfnet::kfold(m, 5, 4)[2].test));
    }
    // 7 ratings in 3 folds: 3, 2, 2.
    const auto f = cfnet::kfold(tiny(), 3, 1);
    CHECK(f[0].test.nnz() == 3);
    CHECK(f[1].test.nnz() == 2);
    CHECK(f[2].test.nnz() == 2);
    const auto a = cfnet::kfold_assignment(tiny(), 3, 1);
    CHECK(std::count(a.begin(), a.end(), 0u) == 3);
    CHECK_THROWS_WITH(cfnet::kfold(tiny(), 1, 1), "kfold: k must be >= 2, got 1");
    CHECK_THROWS_WITH(cfnet::kfold(tiny(), 8, 1), "kfold: k = 8 folds for only 7 ratings");
}
