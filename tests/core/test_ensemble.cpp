// AutoencoderEnsemble: the weighted average against the members' own predictions, clamping,
// determinism, the preset's members, and bad input. Small synthetic data only (fast).
#include <cfnet/ensemble.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <string>
#include <filesystem>
#include <array>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderEnsemble;
using cfnet::AutoencoderOptions;
using cfnet::index_type;
using cfnet::RatingMatrix;

namespace {

// 30 users x 20 items, rank-2 ratings in 1..5, each user rating 10 items; every 6th rating to test.
cfnet::Split<float> tiny_split() {
    cfnet::Rng rng(11);
    std::vector<std::array<double, 2>> p(30), q(20);
    for (auto& v : p) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    for (auto& v : q) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    std::vector<cfnet::Rating<float>> r;
    for (std::size_t u = 0; u < p.size(); ++u)
        for (auto i : rng.sample(q.size(), 10)) {
            const double x = 3 + 3 * (p[u][0] * q[i][0] + p[u][1] * q[i][1]);
            r.push_back({static_cast<cfnet::id_type>(u), static_cast<cfnet::id_type>(i),
                         static_cast<float>(std::min(5.0, std::max(1.0, std::round(x)))), 0});
        }
    const auto all = RatingMatrix<float>::from_ratings(r);
    cfnet::Split<float> s;
    s.train = all.filter([](std::size_t k) { return k % 6 != 0; });
    s.test = all.filter([](std::size_t k) { return k % 6 == 0; });
    return s;
}

AutoencoderOptions item_member() {
    AutoencoderOptions o = AutoencoderOptions::autorec();
    o.hidden = {8};
    o.lbfgs(1.0, 15);
    o.selection.reset();  // fixed lambda and iterations (the preset's own choice: test_fit.cpp)
    return o;
}

AutoencoderOptions user_member() {
    AutoencoderOptions o;  // Adam, user-based, unclamped: its raw outputs can leave [1, 5]
    o.hidden = {6, 4, 6};
    o.epochs = 3;
    o.batch_size = 8;
    o.seed = 5;
    return o;
}

std::vector<std::pair<index_type, index_type>> pairs_of(const RatingMatrix<float>& m) {
    std::vector<std::pair<index_type, index_type>> out;
    for (index_type u = 0; u < m.n_users(); ++u)
        for (const auto i : m.user_items(u)) out.emplace_back(u, i);
    return out;
}

}  // namespace

TEST_CASE("AutoencoderEnsemble: prediction = weighted average of the members' own predictions", "[ensemble]") {
    const auto s = tiny_split();
    AutoencoderEnsemble<float> ens({item_member(), user_member()}, {3.0, 1.0});  // weights 0.75 / 0.25
    const auto histories = ens.fit(s.train);
    REQUIRE(histories.size() == 2);
    CHECK(histories[0].size() == 15);
    CHECK(histories[1].size() == 3);
    REQUIRE(ens.fitted());

    // the members equal independently trained models with the same options
    AutoencoderCF<float> a(item_member()), b(user_member());
    a.fit(s.train);
    b.fit(s.train);
    const auto pa = a.predict(s.train, s.test);
    const auto pb = b.predict(s.train, s.test);
    CHECK(ens.member(0).predict(s.train, s.test) == pa);
    CHECK(ens.member(1).predict(s.train, s.test) == pb);

    const auto p = ens.predict(s.train, s.test);
    REQUIRE(p.size() == s.test.nnz());
    bool members_differ = false;
    for (std::size_t k = 0; k < p.size(); ++k) {
        const double want = 0.75 * static_cast<double>(pa[k]) + 0.25 * static_cast<double>(pb[k]);
        CHECK(static_cast<double>(p[k]) == Approx(want).margin(1e-5));
        members_differ = members_differ || std::abs(pa[k] - pb[k]) > 1e-3f;
    }
    CHECK(members_differ);  // otherwise the average would not test anything

    // the pair-list overload gives the same values in the same order
    CHECK(ens.predict(s.train, pairs_of(s.test)) == p);
}

TEST_CASE("AutoencoderEnsemble: clamping applies to the average, and a zero weight drops a member", "[ensemble]") {
    const auto s = tiny_split();
    AutoencoderOptions u = user_member();
    u.epochs = 1;  // barely trained, unclamped: predictions far from 1..5
    AutoencoderEnsemble<float> raw({u}, {1.0});
    raw.fit(s.train);
    const auto pr = raw.predict(s.train, s.test);
    AutoencoderEnsemble<float> clamped({u}, {2.0});
    clamped.clamp(2.0, 4.0);
    clamped.fit(s.train);
    const auto pc = clamped.predict(s.train, s.test);
    bool some_clamped = false;
    for (std::size_t k = 0; k < pr.size(); ++k) {
        const float want = std::min(4.0f, std::max(2.0f, pr[k]));  // one member: weight normalised to 1
        CHECK(pc[k] == Approx(want).margin(1e-6));
        some_clamped = some_clamped || pr[k] < 2.0f || pr[k] > 4.0f;
    }
    CHECK(some_clamped);

    AutoencoderEnsemble<float> dropped({item_member(), u}, {1.0, 0.0});
    dropped.fit(s.train);
    CHECK(dropped.predict(s.train, s.test) == dropped.member(0).predict(s.train, s.test));
}

TEST_CASE("AutoencoderEnsemble: the same options and data give identical predictions", "[ensemble]") {
    const auto s = tiny_split();
    AutoencoderEnsemble<float> e1({item_member(), user_member()}, {0.5, 0.5});
    AutoencoderEnsemble<float> e2({item_member(), user_member()}, {0.5, 0.5});
    e1.fit(s.train);
    e2.fit(s.train);
    CHECK(e1.predict(s.train, s.test) == e2.predict(s.train, s.test));

    // from_members: an ensemble of already fitted models predicts the same
    auto e3 = AutoencoderEnsemble<float>::from_members({e1.member(0), e1.member(1)}, {0.5, 0.5});
    CHECK(e3.predict(s.train, s.test) == e1.predict(s.train, s.test));
}

TEST_CASE("AutoencoderEnsemble: the autorec_ensemble preset", "[ensemble]") {
    const auto e = AutoencoderEnsemble<float>::autorec_ensemble();
    REQUIRE(e.size() == 3);
    CHECK(e.weights() == std::vector<double>{0.55, 0.25, 0.2});
    CHECK_FALSE(e.clamp_min().has_value());  // each member clamps to the training range
    const auto& m0 = e.member(0).options();
    const auto& m1 = e.member(1).options();
    CHECK(m0.orientation == cfnet::Orientation::item_based);
    CHECK(m0.solver == cfnet::Solver::lbfgs);
    CHECK(m0.hidden == std::vector<std::size_t>{500});
    CHECK(m1.orientation == cfnet::Orientation::user_based);
    CHECK(m1.solver == cfnet::Solver::lbfgs);
    CHECK(m1.l2_lambda == 100.0);
    CHECK(m1.epochs == 80);
    REQUIRE(m0.selection.has_value());  // each L-BFGS member chooses lambda, residual and iterations
    REQUIRE(m1.selection.has_value());
    CHECK(m1.selection->try_residual);
    CHECK(m0.clamp_to_training);
    CHECK(m1.clamp_to_training);
    CHECK(m1.hidden == std::vector<std::size_t>{500});
    const auto& m2 = e.member(2).options();
    CHECK(m2.orientation == cfnet::Orientation::item_based);
    CHECK(m2.solver == cfnet::Solver::adam);
    CHECK(m2.hidden == std::vector<std::size_t>{500});
    CHECK(m2.hidden_activation == cfnet::ActivationKind::sigmoid);
    CHECK(m2.output_activation == cfnet::ActivationKind::identity);
    CHECK(m2.input_dropout == 0.7);
    CHECK(m2.hidden_dropout == 0.0);
    CHECK(m2.weight_decay == 1e-4);
    CHECK(m2.learning_rate == 1e-3);
    CHECK(m2.batch_size == 32);
    CHECK(m2.epochs == 40);
    CHECK(m2.clamp_to_training);
    CHECK_FALSE(m2.selection.has_value());
    CHECK(m2.unseen_fallback);
    CHECK(!e.fitted());
}

TEST_CASE("AutoencoderEnsemble: bad input", "[ensemble]") {
    using cfnet::InvalidArgument;
    CHECK_THROWS_AS(AutoencoderEnsemble<float>({}, {}), InvalidArgument);
    CHECK_THROWS_AS(AutoencoderEnsemble<float>({item_member()}, {0.5, 0.5}), InvalidArgument);
    CHECK_THROWS_AS(AutoencoderEnsemble<float>({item_member()}, {-1.0}), InvalidArgument);
    CHECK_THROWS_AS(AutoencoderEnsemble<float>({item_member(), user_member()}, {0.0, 0.0}), InvalidArgument);
    CHECK_THROWS_AS(AutoencoderEnsemble<float>({item_member()}, {std::nan("")}), InvalidArgument);
    AutoencoderOptions bad = item_member();
    bad.hidden.clear();
    CHECK_THROWS_AS(AutoencoderEnsemble<float>({bad}, {1.0}), InvalidArgument);
    AutoencoderEnsemble<float> e({item_member()}, {1.0});
    CHECK_THROWS_AS(e.clamp(3.0, 2.0), InvalidArgument);
    CHECK_THROWS_AS(e.member(1), InvalidArgument);
    const auto s = tiny_split();
    CHECK_THROWS_AS(e.predict(s.train, s.test), InvalidArgument);  // not fitted
    CHECK_THROWS_AS(e.fit(RatingMatrix<float>{}), InvalidArgument);
    CHECK_THROWS_AS(AutoencoderEnsemble<float>::from_members({AutoencoderCF<float>(item_member())}, {1.0}),
                    InvalidArgument);
}

TEST_CASE("AutoencoderEnsemble: the scorer averages the members' raw scores", "[ensemble]") {
    const auto s = tiny_split();
    AutoencoderEnsemble<float> ens({item_member(), user_member()}, {1.0, 3.0});
    ens.fit(s.train);
    const auto sa = ens.member(0).make_scorer(s.train);
    const auto sb = ens.member(1).make_scorer(s.train);
    const auto sc = ens.make_scorer(s.train);
    const std::size_t n = s.train.n_items();
    std::vector<float> a(n), b(n), c(n);
    for (index_type u : {index_type(0), index_type(7), index_type(29)}) {
        sa(u, a.data());
        sb(u, b.data());
        sc(u, c.data());
        for (std::size_t i = 0; i < n; ++i) CHECK(c[i] == Approx(0.25 * a[i] + 0.75 * b[i]).margin(1e-5));
    }
}

TEST_CASE("AutoencoderEnsemble::load: malformed weights or clamp are IoErrors naming the file (issue 17)", "[ensemble]") {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("cfnet_test_ensemble_" + std::to_string(::getpid()) + ".cfnet")).string();
    auto manifest = [&](const std::string& members, const std::string& weights, const std::string& clamp) {
        cfnet::save_tensors<float>(path, {{"model", "AutoencoderEnsemble"}, {"members", members}, {"weights", weights},
                                          {"clamp", clamp}}, {});
    };
    const std::vector<std::array<std::string, 4>> cases = {
        {"1", "abc", "", "'abc' is not a number"},       // was std::stod's std::invalid_argument
        {"1", "1e999", "", "'1e999' is not a number"},   // was std::out_of_range
        {"2", "1", "", "2 members but 1 weights"},
        {"1", "nan", "", "is not a finite number >= 0"},
        {"1", "-1", "", "is not a finite number >= 0"},
        {"2", "0 0", "", "the weights sum to 0"},
        {"1", "1", "5 1", "is not a finite range"},
        {"1", "1", "1 x", "'x' is not a number"},
        {"1", "1", "1 2 3", "holds 3 numbers"},
    };
    for (const auto& c : cases) {
        manifest(c[0], c[1], c[2]);
        INFO("members " << c[0] << ", weights '" << c[1] << "', clamp '" << c[2] << "'");
        CHECK_THROWS_AS(cfnet::AutoencoderEnsemble<float>::load(path), cfnet::IoError);
        CHECK_THROWS_WITH(cfnet::AutoencoderEnsemble<float>::load(path), Catch::Contains(path) && Catch::Contains(c[3]));
    }
    std::filesystem::remove(path);
}

TEST_CASE("AutoencoderEnsemble: callbacks see each member's training in turn", "[ensemble]") {
    const auto s = tiny_split();
    struct Count : cfnet::Callback {
        int begins = 0, ends = 0, epochs = 0;
        void on_train_begin(int, std::size_t) override { ++begins; }
        bool on_epoch_end(const cfnet::EpochRecord&) override {
            ++epochs;
            return false;
        }
        void on_train_end(const cfnet::History&) override { ++ends; }
    } count;
    AutoencoderEnsemble<float> ens({item_member(), user_member()}, {1.0, 1.0});
    const auto h = ens.fit(s.train, {&count});
    REQUIRE(h.size() == 2);
    CHECK(count.begins == 2);
    CHECK(count.ends == 2);
    CHECK(count.epochs == static_cast<int>(h[0].size() + h[1].size()));
    // the same members as without callbacks
    AutoencoderEnsemble<float> plain({item_member(), user_member()}, {1.0, 1.0});
    plain.fit(s.train);
    CHECK(plain.predict(s.train, s.test) == ens.predict(s.train, s.test));
}
