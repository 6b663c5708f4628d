#include <cfnet/baselines.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/protocols.hpp>

#include "support/ml100k.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <utility>
#include <vector>

using cfnet::id_type;
using cfnet::index_type;
using Approx = Catch::Detail::Approx;
using RM = cfnet::RatingMatrix<float>;
using R = cfnet::Rating<float>;

namespace {

const RM& ml100k() {
    static const RM m = cfnet::movielens::load_100k<float>(cfnet_test::ml100k_dir()).ratings;
    return m;
}

/// (user id, item id) pairs of a matrix.
std::set<std::pair<id_type, id_type>> pairs_of(const RM& m) {
    std::set<std::pair<id_type, id_type>> out;
    for (index_type u = 0; u < m.n_users(); ++u)
        for (const auto i : m.user_items(u)) out.insert({m.users().id(u), m.items().id(i)});
    return out;
}

std::set<id_type> user_ids(const RM& m) {
    const auto& ids = m.users().ids();
    return {ids.begin(), ids.end()};
}

/// Plain reference of the Microsoft Recommenders metrics at k, written from their definitions
/// (python_evaluation.py): one full sort of the candidates per user, no top_k, no shared code
/// with evaluate_ranking. Returns {P, R, NDCG, MAP (min(k, R)), MAP (R)}.
std::vector<double> ms_reference(const cfnet::Split<float>& s, const std::vector<float>& item_scores, std::size_t k) {
    const auto& tr = s.train;
    const auto& te = s.test;
    std::vector<double> sum(5, 0.0);
    std::size_t users = 0;
    for (index_type u = 0; u < te.n_users(); ++u) {
        const auto t = te.user_items(u);
        if (t.size() == 0) continue;
        const std::set<index_type> truth(t.begin(), t.end());
        const auto seen_span = tr.user_items(u);
        const std::set<index_type> seen(seen_span.begin(), seen_span.end());
        std::vector<index_type> cand;
        for (index_type i = 0; i < tr.n_items(); ++i)
            if (!seen.count(i) && tr.item_count(i) > 0) cand.push_back(i);
        std::stable_sort(cand.begin(), cand.end(),
                         [&](index_type a, index_type b) { return item_scores[a] > item_scores[b]; });
        cand.resize(std::min(cand.size(), k));
        double hits = 0, dcg = 0, ap = 0;
        for (std::size_t r = 0; r < cand.size(); ++r)
            if (truth.count(cand[r])) {
                hits += 1;
                dcg += 1.0 / std::log(r + 2.0);  // their default discount is ln; the ratio is the same
                ap += hits / static_cast<double>(r + 1);
            }
        double idcg = 0;
        for (std::size_t r = 0; r < std::min(k, truth.size()); ++r) idcg += 1.0 / std::log(r + 2.0);
        sum[0] += hits / static_cast<double>(k);
        sum[1] += hits / static_cast<double>(truth.size());
        sum[2] += dcg / idcg;
        sum[3] += ap / static_cast<double>(std::min(k, truth.size()));
        sum[4] += ap / static_cast<double>(truth.size());
        ++users;
    }
    for (auto& x : sum) x /= static_cast<double>(users);
    return sum;
}

}  // namespace

TEST_CASE("MS protocol: items without training ratings are not candidates", "[protocols]") {
    // users 1, 2; items 10..13. Item 13 has no training rating; the scorer likes it best.
    const std::vector<R> train = {{1, 10, 5.f}, {2, 11, 3.f}, {2, 12, 4.f}};
    const std::vector<R> test = {{1, 13, 4.f}, {1, 11, 2.f}, {2, 10, 1.f}};
    auto all = train;
    all.insert(all.end(), test.begin(), test.end());
    const auto full = RM::from_ratings(all);
    const cfnet::Split<float> s{RM::from_ratings(train, full.user_map(), full.item_map()),
                                RM::from_ratings(test, full.user_map(), full.item_map())};
    const std::vector<float> scores = {0.1f, 0.2f, 0.3f, 0.9f};
    auto score = [&](index_type, float* out) { std::copy(scores.begin(), scores.end(), out); };
    // user 0 (id 1): candidates {1, 2} (0 seen, 3 unseen in train) -> ranked [2, 1]; relevant {1, 3}
    //   (every test item, rating 2 included): one hit at rank 2. P = 1/10, R = 1/2,
    //   NDCG = (1/log2 3) / (1 + 1/log2 3) = 0.3868528, AP = (1/2) / min(10, 2) = 0.25, AP_R = 0.25
    // user 1 (id 2): candidates {0} -> ranked [0]; relevant {0}: hit at rank 1.
    //   P = 1/10, R = 1, NDCG = 1, AP = 1
    const auto r = cfnet::evaluate_ms_recommenders(s, score);
    CHECK(r.k == 10);
    CHECK(r.users_evaluated == 2);
    CHECK(r.precision == Approx(0.1));
    CHECK(r.recall == Approx(0.75));
    CHECK(r.ndcg == Approx((0.38685280723454163 + 1.0) / 2));
    CHECK(r.map == Approx(0.625));
    CHECK(r.map_r == Approx(0.625));
    // without the unseen-item rule, item 3 ranks first for user 0: hits at ranks 1 and 3
    const auto all_items = cfnet::evaluate_ranking(s.train, s.test, 10, score, cfnet::RankingOptions());
    CHECK(all_items.recall == Approx(1.0));
}

TEST_CASE("MS protocol on MovieLens 100K with MostPopular matches a plain recomputation", "[protocols][ml100k]") {
    const auto& m = ml100k();
    const auto s = cfnet::ms_recommenders_split(m, 42);
    // the 75/25 split of each user's ratings: Python's round(0.75 n) stay in train
    std::size_t expected_test = 0;
    for (index_type u = 0; u < m.n_users(); ++u) {
        const double n = static_cast<double>(m.user_count(u));
        expected_test += m.user_count(u) - static_cast<std::size_t>(std::nearbyint(0.75 * n));
    }
    CHECK(s.test.nnz() == expected_test);
    cfnet::MostPopular<float> pop;
    pop.fit(s.train);
    const auto r = cfnet::evaluate_ms_recommenders(s, pop.make_scorer(s.train));
    CHECK(r.users_evaluated == 943);  // every ML-100K user has >= 20 ratings, so a held-out one
    CHECK(r.users_skipped == 0);
    // the popularity scores, recomputed from the training matrix
    std::vector<float> counts(s.train.n_items(), 0.f);
    for (index_type u = 0; u < s.train.n_users(); ++u)
        for (const auto i : s.train.user_items(u)) counts[i] += 1.f;
    const auto ref = ms_reference(s, counts, 10);
    CHECK(r.precision == Approx(ref[0]).epsilon(1e-12));
    CHECK(r.recall == Approx(ref[1]).epsilon(1e-12));
    CHECK(r.ndcg == Approx(ref[2]).epsilon(1e-12));
    CHECK(r.map == Approx(ref[3]).epsilon(1e-12));
    CHECK(r.map_r == Approx(ref[4]).epsilon(1e-12));
    // sanity against the literature: most-popular on ML-100K under this protocol is a weak but
    // not trivial ranker (P@10 about 0.1-0.2; SAR 0.33, BPR 0.39)
    CHECK(r.precision > 0.1);
    CHECK(r.precision < 0.25);
    CHECK(r.map_r < r.map);  // R > 10 for most users: the R denominator is smaller

    SECTION("run_ms_recommenders: per-seed reports and their mean") {
        const auto runs = cfnet::run_ms_recommenders(m, {42, 7}, [](std::uint64_t) { return cfnet::MostPopular<float>(); });
        REQUIRE(runs.per_seed.size() == 2);
        CHECK(runs.seeds == std::vector<std::uint64_t>{42, 7});
        CHECK(runs.per_seed[0].precision == r.precision);
        CHECK(runs.per_seed[0].map == r.map);
        CHECK(runs.per_seed[1].precision != r.precision);  // another split
        CHECK(runs.mean.precision == Approx((runs.per_seed[0].precision + runs.per_seed[1].precision) / 2));
        CHECK(runs.mean.ndcg == Approx((runs.per_seed[0].ndcg + runs.per_seed[1].ndcg) / 2));
        CHECK(runs.mean.map_r == Approx((runs.per_seed[0].map_r + runs.per_seed[1].map_r) / 2));
        CHECK(runs.mean.k == 10);
        CHECK_THROWS_WITH(cfnet::run_ms_recommenders(m, {}, [](std::uint64_t) { return cfnet::MostPopular<float>(); }),
                          "run_ms_recommenders: no seed given");
    }
}

TEST_CASE("strong generalisation preprocessing: thresholds at the boundaries", "[protocols]") {
    // user 1: 5 ratings > 3.5 (3.6 counts) -> kept; user 2: four > 3.5 and one at exactly 3.5 -> 4
    // interactions, dropped; user 3: 5 ratings of 4 -> kept. Item 15 is rated only by user 2 and
    // item 16 only with 3.5 by user 1: both leave the item space.
    const std::vector<R> all = {{1, 10, 3.6f}, {1, 11, 4.f}, {1, 12, 5.f}, {1, 13, 4.f}, {1, 14, 4.f}, {1, 16, 3.5f},
                                {2, 10, 4.f},  {2, 11, 4.f}, {2, 12, 4.f}, {2, 15, 5.f}, {2, 13, 3.5f},
                                {3, 10, 4.f},  {3, 11, 4.f}, {3, 12, 4.f}, {3, 13, 4.f}, {3, 14, 4.f}};
    const auto x = cfnet::strong_generalization_data(RM::from_ratings(all));
    CHECK(x.users().ids() == std::vector<id_type>{1, 3});
    CHECK(x.items().ids() == std::vector<id_type>{10, 11, 12, 13, 14});
    CHECK(x.nnz() == 10);
    for (const auto v : x.values()) CHECK(v == 1.f);
    // the boundaries move with the options: >= 4 interactions keeps user 2, threshold 3.4 counts 3.5
    cfnet::StrongGeneralizationOptions o;
    o.min_user_interactions = 4;
    CHECK(cfnet::strong_generalization_data(RM::from_ratings(all), o).n_users() == 3);
    o.min_user_interactions = 5;
    o.threshold = 3.4;
    const auto y = cfnet::strong_generalization_data(RM::from_ratings(all), o);
    CHECK(y.n_users() == 3);  // user 2 now has 5
    CHECK(y.nnz() == 16);  // every rating is > 3.4
}

TEST_CASE("user_holdout_split on MovieLens 100K: the protocol's invariants", "[protocols][ml100k]") {
    const auto x = cfnet::strong_generalization_data(ml100k());
    // ML-100K: 943 users, all with >= 5 ratings > 3.5 except a few
    REQUIRE(x.n_users() > 900);
    const std::size_t n = cfnet::default_heldout_users(x.n_users());
    CHECK(n == x.n_users() / 10);
    const auto s = cfnet::user_holdout_split(x, n, 42);

    // users: held-out users disjoint from training users and from each other; all users used
    const auto tr = user_ids(s.train), vd = user_ids(s.validation_fold_in), te = user_ids(s.test_fold_in);
    CHECK(vd.size() == n);
    CHECK(te.size() == n);
    CHECK(tr.size() + vd.size() + te.size() == x.n_users());
    for (const auto u : vd) CHECK_FALSE(tr.count(u));
    for (const auto u : te) CHECK_FALSE(tr.count(u) + vd.count(u));
    CHECK(user_ids(s.validation_target) == vd);
    CHECK(user_ids(s.test_target) == te);

    // items: the training items, one shared item map; the training matrix holds those users' rows whole
    CHECK(s.train.item_map() == s.test_fold_in.item_map());
    CHECK(s.test_fold_in.same_space(s.test_target));
    CHECK(s.validation_fold_in.same_space(s.validation_target));
    for (index_type i = 0; i < s.train.n_items(); ++i) CHECK(s.train.item_count(i) > 0);
    const auto source = pairs_of(x);
    std::size_t train_pairs = 0;
    for (const auto& p : source) train_pairs += tr.count(p.first);
    CHECK(s.train.nnz() == train_pairs);
    std::set<id_type> train_items(s.train.items().ids().begin(), s.train.items().ids().end());

    // held-out users: fold-in and target disjoint, together the user's interactions on training
    // items; the target is int(0.2 n), or empty when n < 5; interactions on other items dropped
    std::size_t dropped = 0, checked = 0, wrong = 0;
    for (const auto* part : {&s.test_fold_in, &s.validation_fold_in}) {
        const RM& fold = *part;
        const RM& target = part == &s.test_fold_in ? s.test_target : s.validation_target;
        for (index_type u = 0; u < fold.n_users(); ++u) {
            const id_type uid = fold.users().id(u);
            std::set<id_type> kept;
            for (const auto& p : source)
                if (p.first == uid) {
                    if (train_items.count(p.second)) kept.insert(p.second);
                    else ++dropped;
                }
            std::set<id_type> f, t;
            for (const auto i : fold.user_items(u)) f.insert(fold.items().id(i));
            for (const auto i : target.user_items(u)) t.insert(target.items().id(i));
            std::set<id_type> both;
            std::set_intersection(f.begin(), f.end(), t.begin(), t.end(), std::inserter(both, both.end()));
            std::set<id_type> uni = f;
            uni.insert(t.begin(), t.end());
            const std::size_t k = kept.size();
            const std::size_t want = k >= 5 ? static_cast<std::size_t>(0.2 * static_cast<double>(k)) : 0;
            wrong += !both.empty() || uni != kept || t.size() != want;
            ++checked;
        }
    }
    CHECK(checked == 2 * n);
    CHECK(wrong == 0);
    INFO("held-out interactions on items no training user has: " << dropped);
    CHECK(s.test_target.nnz() + s.test_fold_in.nnz() + s.validation_target.nnz() + s.validation_fold_in.nnz() +
              s.train.nnz() + dropped ==
          x.nnz());

    SECTION("determinism and seeds") {
        const auto again = cfnet::user_holdout_split(x, n, 42);
        CHECK(pairs_of(again.test_target) == pairs_of(s.test_target));
        CHECK(pairs_of(again.validation_fold_in) == pairs_of(s.validation_fold_in));
        CHECK(pairs_of(again.train) == pairs_of(s.train));
        const auto other = cfnet::user_holdout_split(x, n, 43);
        CHECK(user_ids(other.test_fold_in) != te);
        CHECK(pairs_of(other.test_target) != pairs_of(s.test_target));
    }
    SECTION("arguments") {
        CHECK_THROWS_WITH(cfnet::user_holdout_split(x, x.n_users() / 2, 1),
                          Catch::Contains("user_holdout_split: 2 x ") && Catch::Contains("leave no training user"));
        CHECK_THROWS_AS(cfnet::user_holdout_split(x, 0, 1), cfnet::InvalidArgument);
        CHECK_THROWS_AS(cfnet::user_holdout_split(x, 10, 1, 1.0), cfnet::InvalidArgument);
    }
}

TEST_CASE("user_holdout_split: hand-made, items outside training are dropped", "[protocols]") {
    // 4 users; with 1 held-out user each, 2 train users. A held-out user's item that no training user
    // has must vanish; a user with 4 kept interactions gets no target.
    std::vector<R> all;
    for (id_type u = 1; u <= 4; ++u)
        for (id_type i = 10; i < 16; ++i) all.push_back({u, i, 1.f});
    all.push_back({1, 20, 1.f});
    all.push_back({2, 21, 1.f});
    all.push_back({3, 22, 1.f});
    all.push_back({4, 23, 1.f});
    const auto m = RM::from_ratings(all);
    const auto s = cfnet::user_holdout_split(m, 1, 5);
    REQUIRE(s.train.n_users() == 2);
    // the train items: 10..15 and the two training users' own extra items
    CHECK(s.train.n_items() == 8);
    for (const auto* f : {&s.validation_fold_in, &s.test_fold_in}) {
        REQUIRE(f->n_users() == 1);
        const auto& t = f == &s.test_fold_in ? s.test_target : s.validation_target;
        CHECK(f->nnz() + t.nnz() == 6);  // its extra item is not a training item: dropped
        CHECK(t.nnz() == 1);             // int(0.2 * 6)
    }
    // 4 kept interactions: no target
    std::vector<R> small;
    for (id_type u = 1; u <= 4; ++u)
        for (id_type i = 10; i < 14; ++i) small.push_back({u, i, 1.f});
    const auto s2 = cfnet::user_holdout_split(RM::from_ratings(small), 1, 5);
    CHECK(s2.test_target.nnz() == 0);
    CHECK(s2.test_fold_in.nnz() == 4);
}

TEST_CASE("strong generalisation metrics, hand computed", "[protocols]") {
    // 30 items; scores = -index (item 0 best). Three held-out users:
    //  user 0: fold-in {0, 1}, target {2, 25}: ranking 2, 3, ..., 29 (28 items)
    //    Recall@20: hit {2} -> 1 / min(20, 2) = 0.5; Recall@50: both -> 2 / 2 = 1
    //    NDCG@100: hits at ranks 1 and 24 -> (1 + 1/log2(25)) / (1 + 1/log2(3))
    //  user 1: fold-in {3}, no target -> not counted
    //  user 2: fold-in {0}, target {5..29} (25 items): ranking 1, 2, ..., 29
    //    Recall@20: items 5..20 = 16 hits -> 16 / min(20, 25) = 0.8; Recall@50: 25 / 25 = 1
    //    NDCG@100: hits at ranks 5..29 over ideal ranks 1..25
    std::vector<R> fold = {{1, 0, 1.f}, {1, 1, 1.f}, {2, 3, 1.f}, {3, 0, 1.f}};
    std::vector<R> target = {{1, 2, 1.f}, {1, 25, 1.f}};
    for (id_type i = 5; i < 30; ++i) target.push_back({3, i, 1.f});
    std::vector<id_type> item_ids(30);
    for (id_type i = 0; i < 30; ++i) item_ids[i] = i;
    auto users = std::make_shared<const cfnet::IdMap>(std::vector<id_type>{1, 2, 3}, "user");
    auto items = std::make_shared<const cfnet::IdMap>(item_ids, "item");
    const auto f = RM::from_ratings(fold, users, items), t = RM::from_ratings(target, users, items);
    auto score = [](index_type, float* out) {
        for (int i = 0; i < 30; ++i) out[i] = static_cast<float>(-i);
    };
    const auto r = cfnet::evaluate_strong_generalization(f, t, score);
    CHECK(r.users_evaluated == 2);
    CHECK(r.users_skipped == 1);
    CHECK(r.recall20 == Approx((0.5 + 0.8) / 2));
    CHECK(r.recall50 == Approx(1.0));
    const double n0 = (1 + 1 / std::log2(25.0)) / (1 + 1 / std::log2(3.0));
    double dcg2 = 0, idcg2 = 0;
    for (int p = 5; p <= 29; ++p) dcg2 += 1 / std::log2(p + 1.0);
    for (int p = 1; p <= 25; ++p) idcg2 += 1 / std::log2(p + 1.0);
    CHECK(r.ndcg100 == Approx((n0 + dcg2 / idcg2) / 2));
}

namespace {

/// An input-driven toy model: item i's score for user u is the number of training users who have
/// both i and u's last input item (co-occurrence with the fold-in row), popularity on ties.
struct LastItemCooccurrence {
    const RM* train = nullptr;
    auto make_scorer(const RM& input) const {
        return [this, &input](index_type u, float* out) {
            const auto row = input.user_items(u);
            for (index_type i = 0; i < train->n_items(); ++i) out[i] = 1e-3f * static_cast<float>(train->item_count(i));
            if (row.size() == 0) return;
            const index_type last = row[row.size() - 1];
            for (const auto v : train->item_users(last))
                for (const auto i : train->user_items(v)) out[i] += 1.f;
        };
    }
};

}  // namespace

TEST_CASE("strong generalisation split on MovieLens 100K with a fold-in model", "[protocols][ml100k]") {
    const auto s = cfnet::strong_generalization_split(ml100k(), 42);
    cfnet::MostPopular<float> pop;
    pop.fit(s.train);
    // popularity ignores the fold-in row: the scorer is the training counts for every held-out user
    const auto r = cfnet::evaluate_strong_generalization(
        s.test_fold_in, s.test_target, [&](index_type, float* out) { pop.score_items(0, out); });
    CHECK(r.users_evaluated + r.users_skipped == s.test_fold_in.n_users());
    CHECK(r.users_evaluated * 10 > s.test_fold_in.n_users() * 9);  // nearly all keep >= 5 interactions
    CHECK(r.recall20 > 0.1);
    CHECK(r.recall20 < r.recall50);
    CHECK(r.ndcg100 > 0.1);
    CHECK(r.ndcg100 < 1.0);

    // a model that reads the fold-in row: the split overload scores split.test_fold_in against
    // split.test_target; its scores depend on the row, so it differs from the one popularity list
    const LastItemCooccurrence co{&s.train};
    const auto viaSplit = cfnet::evaluate_strong_generalization(s, co);
    const auto direct = cfnet::evaluate_strong_generalization(s.test_fold_in, s.test_target, co.make_scorer(s.test_fold_in));
    CHECK(viaSplit.recall20 == direct.recall20);
    CHECK(viaSplit.ndcg100 == direct.ndcg100);
    CHECK(viaSplit.users_evaluated == r.users_evaluated);
    CHECK(viaSplit.ndcg100 != r.ndcg100);
}
