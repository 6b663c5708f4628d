// tune.hpp: the grid's order and errors; with_option through the field table (unknown keys list
// the keys, bad values fail); tune's scores recomputed independently from the same validation
// split (holdout and k-fold, RMSE and NDCG), the best trial, the refit on all training data, the
// random draw (distinct grid points, seeded), the progress hook, and the argument errors.
#include <cfnet/tune.hpp>
#include <cfnet/autoencoder.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::SearchSpace;
using cfnet::TuneOptions;
using Model = AutoencoderCF<float>;

namespace {

AutoencoderOptions tiny() { return cfnet_test::small_options().n_epochs(5); }

// The validation RMSE of `o` computed without tune: the same stratified split, a fresh fit.
double holdout_rmse(const cfnet::RatingMatrix<float>& train, const AutoencoderOptions& o, double fraction,
                    std::uint64_t seed) {
    const auto part = cfnet::stratified_split(train, fraction, seed, cfnet::By::user);
    Model m(o);
    m.fit(part.train);
    return cfnet::rmse(m.predict(part.train, part.test), part.test.values());
}

}  // namespace

TEST_CASE("grid_points enumerates the grid, last key fastest, and rejects bad spaces", "[tune]") {
    const auto g = cfnet::grid_points({{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}});
    REQUIRE(g.size() == 6);
    CHECK(g[0] == cfnet::ParamSet{{"a", "1"}, {"b", "x"}});
    CHECK(g[1] == cfnet::ParamSet{{"a", "1"}, {"b", "y"}});
    CHECK(g[5] == cfnet::ParamSet{{"a", "2"}, {"b", "z"}});
    CHECK_THROWS_WITH(cfnet::grid_points({}), Contains("search space is empty"));
    CHECK_THROWS_WITH(cfnet::grid_points({{"a", {}}}), Contains("'a' has no candidate values"));
    // the size is checked before anything is built, without overflow: 10 keys of 100 values = 1e20 points
    std::vector<std::string> hundred;
    for (int v = 0; v < 100; ++v) hundred.push_back(std::to_string(v));
    cfnet::SearchSpace huge;
    for (int k = 0; k < 10; ++k) huge.push_back({"k" + std::to_string(k), hundred});
    CHECK_THROWS_WITH(cfnet::grid_points(huge), Contains("more than 100000 grid points"));
    huge.resize(2);  // 10,000 points: fine
    CHECK(cfnet::grid_points(huge).size() == 10000);
    huge.push_back({"k2", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}});  // exactly 100,000
    CHECK(cfnet::grid_points(huge).size() == cfnet::max_grid_points);
    huge.push_back({"k3", {"0", "1"}});
    CHECK_THROWS_WITH(cfnet::grid_points(huge), Contains("more than 100000 grid points"));
    CHECK_THROWS_WITH(cfnet::grid_points({{"a", {"1"}}, {"a", {"2"}}}), Contains("'a' is listed twice"));
}

TEST_CASE("with_option sets an option by its model-file key", "[tune]") {
    const auto o = cfnet::with_option(tiny(), "hidden", "16,4,16");
    CHECK(o.hidden == std::vector<std::size_t>{16, 4, 16});
    CHECK(cfnet::with_option(tiny(), "learning_rate", "0.5").learning_rate == 0.5);
    CHECK(cfnet::with_option(tiny(), "solver", "lbfgs").solver == cfnet::Solver::lbfgs);
    CHECK(cfnet::with_option(tiny(), "epochs", "7").epochs == 7);
    CHECK_THROWS_WITH(cfnet::with_option(tiny(), "learning_rat", "0.5"),
                      Contains("no option 'learning_rat'") && Contains("learning_rate"));
    CHECK_THROWS_AS(cfnet::with_option(tiny(), "epochs", "many"), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::with_option(tiny(), "epochs", "many"), "with_option: option 'epochs' = 'many' is not a count");
    CHECK_THROWS_WITH(cfnet::with_option(tiny(), "epochs", "-1"), Contains("epochs"));
}

TEST_CASE("tune scores every grid point on a held-out part of the training data", "[tune]") {
    const auto data = cfnet_test::low_rank_split(40, 20, 3);
    const SearchSpace space{{"learning_rate", {"0.0001", "0.003"}}, {"hidden", {"8", "32,8,32"}}};
    std::vector<std::size_t> seen;
    const auto r = cfnet::tune<Model>(data.train, tiny(), space,
                                      TuneOptions().validation(0.25).with_seed(9).progress(
                                          [&](const cfnet::TuneTrial& t, std::size_t i, std::size_t n) {
                                              CHECK(n == 4);
                                              CHECK(t.fold_scores.size() == 1);
                                              seen.push_back(i);
                                          }));
    CHECK(seen == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(r.objective == cfnet::TuneObjective::rmse);
    CHECK_FALSE(r.higher_is_better);
    REQUIRE(r.trials.size() == 4);
    const auto points = cfnet::grid_points(space);
    std::size_t argmin = 0;
    for (std::size_t t = 0; t < 4; ++t) {
        CHECK(r.trials[t].params == points[t]);
        auto o = tiny();
        for (const auto& [k, v] : points[t]) o = cfnet::with_option(o, k, v);
        CHECK(r.trials[t].score == Approx(holdout_rmse(data.train, o, 0.25, 9)).epsilon(1e-12));
        if (r.trials[t].score < r.trials[argmin].score) argmin = t;
    }
    CHECK(r.best == argmin);
    CHECK(r.trials[0].score > r.trials[r.best].score);  // 1e-4 for 5 epochs barely moves from the start
    // the best options, refitted on all of train: the same model as a direct fit
    REQUIRE(r.model.has_value());
    Model direct(r.best_options);
    direct.fit(data.train);
    CHECK(r.model->predict(data.train, data.test) == direct.predict(data.train, data.test));
}

TEST_CASE("tune with k folds averages the folds; ranking objectives; no refit", "[tune]") {
    const auto data = cfnet_test::low_rank_split(40, 20, 4);
    const SearchSpace space{{"learning_rate", {"0.003"}}};
    const auto r = cfnet::tune<Model>(data.train, tiny(), space, TuneOptions().folds(3).refit_best(false));
    REQUIRE(r.trials.size() == 1);
    const auto folds = cfnet::kfold(data.train, 3, 42);
    REQUIRE(r.trials[0].fold_scores.size() == 3);
    double sum = 0;
    for (std::size_t f = 0; f < 3; ++f) {
        Model m(tiny());
        m.fit(folds[f].train);
        const double e = cfnet::rmse(m.predict(folds[f].train, folds[f].test), folds[f].test.values());
        CHECK(r.trials[0].fold_scores[f] == Approx(e).epsilon(1e-12));
        sum += e;
    }
    CHECK(r.trials[0].score == Approx(sum / 3).epsilon(1e-12));
    CHECK_FALSE(r.model.has_value());

    const auto n = cfnet::tune<Model>(data.train, tiny(), space,
                                      TuneOptions().score_by(cfnet::TuneObjective::ndcg, 5).refit_best(false));
    CHECK(n.higher_is_better);
    const auto part = cfnet::stratified_split(data.train, 0.2, 42, cfnet::By::user);
    Model m(tiny());
    m.fit(part.train);
    const auto scorer = m.make_scorer(part.train);
    const auto rep = cfnet::evaluate_ranking(part.train, part.test, 5,
                                             [&](cfnet::index_type u, float* out) { scorer(u, out); });
    CHECK(n.trials[0].score == Approx(rep.ndcg).epsilon(1e-12));
}

TEST_CASE("random search draws distinct grid points by seed", "[tune]") {
    const auto data = cfnet_test::low_rank_split(30, 16, 6);
    const SearchSpace space{{"epochs", {"1", "2", "3", "4", "5"}}, {"batch_size", {"8", "16"}}};
    auto params_of = [&](std::uint64_t seed) {
        const auto r = cfnet::tune<Model>(data.train, tiny(), space, TuneOptions().random(4).with_seed(seed).refit_best(false));
        std::vector<cfnet::ParamSet> out;
        for (const auto& t : r.trials) out.push_back(t.params);
        return out;
    };
    const auto a = params_of(1);
    REQUIRE(a.size() == 4);
    const auto grid = cfnet::grid_points(space);
    std::set<cfnet::ParamSet> distinct(a.begin(), a.end());
    CHECK(distinct.size() == 4);
    for (const auto& p : a) CHECK(std::find(grid.begin(), grid.end(), p) != grid.end());
    CHECK(params_of(1) == a);
    CHECK((params_of(2) != a || params_of(3) != a));
}

TEST_CASE("tune's argument errors", "[tune]") {
    const auto data = cfnet_test::low_rank_split(20, 10, 7);
    const SearchSpace ok{{"epochs", {"1"}}};
    CHECK_THROWS_WITH(cfnet::tune<Model>(data.train, tiny(), ok, TuneOptions().folds(1)), Contains("folds"));
    CHECK_THROWS_WITH(cfnet::tune<Model>(data.train, tiny(), ok, TuneOptions().validation(1.0)),
                      Contains("validation_fraction"));
    CHECK_THROWS_WITH(cfnet::tune<Model>(data.train, tiny(), {{"epochs", {"0"}}}), Contains("epochs"));
    CHECK_THROWS_WITH(cfnet::tune<Model>(data.train, tiny(), {{"nope", {"1"}}}), Contains("no option 'nope'"));
    CHECK_THROWS_WITH(cfnet::tune<Model>(cfnet::RatingMatrix<float>(), tiny(), ok), Contains("training matrix is empty"));
    CHECK(cfnet::parse_tune_objective("ndcg") == cfnet::TuneObjective::ndcg);
    CHECK_THROWS_WITH(cfnet::parse_tune_objective("mse"), Contains("unknown objective 'mse'"));
}
