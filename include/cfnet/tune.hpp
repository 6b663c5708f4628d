#pragma once
/// @file tune.hpp
/// Hyper-parameter search: grid or random search over named options, each trial scored on a
/// validation part of the TRAINING data (one held-out part, or k folds), every trial reported, the
/// best refitted on all the training data. The familiar shape is Surprise's GridSearchCV.
///
/// Options are named by their model-file keys: the field table of the model's options struct
/// (options_io.hpp) sets them from text, so every option a model stores can be searched, with the
/// same spelling `cfnet info` prints, and a bad value fails the way a bad model file does.
///
/// @code
///   cfnet::SearchSpace space{{"l2_lambda", {"50", "200", "800"}}, {"epochs", {"40", "80"}}};
///   auto result = cfnet::tune<cfnet::AutoencoderCF<float>>(train, cfnet::AutoencoderOptions::autorec(), space,
///                                                           cfnet::TuneOptions().folds(3));
///   result.model->predict(train, test);              // the best options, refitted on all of train
/// @endcode
///
/// Validation (never the caller's test data: tune sees only `train`):
/// - folds() == 0 (default): stratified_split(train, validation_fraction, seed, By::user), i.e. a
///   fraction of every user's ratings (users keep at least one training rating);
/// - folds() == k >= 2: kfold(train, k, seed); the trial's score is the mean over the folds.
/// Objective: RMSE of the held-out ratings for a model that predicts ratings, else NDCG@k of the
/// held-out items (every held-out item relevant unless a threshold is set, training items
/// excluded; evaluate_ranking). Ties keep the earlier trial. Level 3 (beside train.hpp).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/options_io.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

/// The candidate values of one option, named by its model-file key, as text in that key's codec
/// (numbers as numbers, lists as "512,256", enums by name, flags as 0/1).
struct ParamValues {
    std::string key;
    std::vector<std::string> values;
};
using SearchSpace = std::vector<ParamValues>;

/// One assignment of the searched options: (key, value) in the search space's order.
using ParamSet = std::vector<std::pair<std::string, std::string>>;

/// What a trial is scored by.
enum class TuneObjective {
    automatic,  ///< rmse for a model that predicts ratings, else ndcg
    rmse,       ///< validation RMSE (lower is better)
    ndcg,       ///< NDCG@k (higher is better)
    precision,  ///< Precision@k (higher is better)
    recall      ///< Recall@k (higher is better)
};

inline const char* to_string(TuneObjective o) {
    switch (o) {
        case TuneObjective::rmse: return "rmse";
        case TuneObjective::ndcg: return "ndcg";
        case TuneObjective::precision: return "precision";
        case TuneObjective::recall: return "recall";
        case TuneObjective::automatic:
        default: return "auto";
    }
}

/// "auto", "rmse", "ndcg", "precision" or "recall". @throws InvalidArgument otherwise.
inline TuneObjective parse_tune_objective(const std::string& s) {
    for (auto o : {TuneObjective::automatic, TuneObjective::rmse, TuneObjective::ndcg, TuneObjective::precision,
                   TuneObjective::recall})
        if (s == to_string(o)) return o;
    throw InvalidArgument("parse_tune_objective: unknown objective '" + s +
                          "' (expected auto, rmse, ndcg, precision or recall)");
}

struct TuneTrial;

/// How tune() searches and scores. Chained setters.
struct TuneOptions {
    std::size_t random_trials = 0;     ///< 0: the whole grid; n > 0: n distinct grid points drawn at random
    std::size_t n_folds = 0;           ///< 0: one held-out part; k >= 2: k-fold
    double validation_fraction = 0.2;  ///< the held-out fraction of every user's ratings (n_folds == 0)
    std::uint64_t seed = 42;           ///< the validation split and the random draw
    TuneObjective objective = TuneObjective::automatic;
    std::size_t k = 10;                         ///< list length of the ranking objectives
    std::optional<double> relevance_threshold;  ///< ranking: held-out ratings >= this are relevant
    bool refit = true;                          ///< refit the best options on all of `train`
    /// Called after every trial with the trial, its 0-based number and the number of trials.
    std::function<void(const TuneTrial&, std::size_t, std::size_t)> on_trial;

    TuneOptions& random(std::size_t n) { random_trials = n; return *this; }
    TuneOptions& folds(std::size_t k_folds) { n_folds = k_folds; return *this; }
    TuneOptions& validation(double fraction) { validation_fraction = fraction; return *this; }
    TuneOptions& with_seed(std::uint64_t s) { seed = s; return *this; }
    TuneOptions& score_by(TuneObjective o, std::size_t list_length = 10) { objective = o; k = list_length; return *this; }
    TuneOptions& threshold(double t) { relevance_threshold = t; return *this; }
    TuneOptions& refit_best(bool r) { refit = r; return *this; }
    TuneOptions& progress(std::function<void(const TuneTrial&, std::size_t, std::size_t)> f) {
        on_trial = std::move(f);
        return *this;
    }

    /// @throws InvalidArgument naming the field when a setting is out of range.
    void validate() const {
        check_arg(n_folds != 1, "TuneOptions: folds must be 0 (one held-out part) or >= 2, got 1");
        check_arg(std::isfinite(validation_fraction) && validation_fraction > 0 && validation_fraction < 1,
                  "TuneOptions: validation_fraction must be in (0, 1), got ", validation_fraction);
        check_arg(k > 0, "TuneOptions: k must be > 0");
    }
};

/// One scored point of the search.
struct TuneTrial {
    ParamSet params;
    double score = 0.0;               ///< mean over the folds
    std::vector<double> fold_scores;  ///< one per validation fold (one entry without k-fold)
    double seconds = 0.0;             ///< fitting and scoring, all folds
};

/// What tune() found. `model` is the best options refitted on all the training data (absent when
/// TuneOptions::refit is false).
template <class M, class Options>
struct TuneResult {
    std::vector<TuneTrial> trials;  ///< in search order
    std::size_t best = 0;           ///< index into trials
    TuneObjective objective = TuneObjective::rmse;  ///< the objective used (never automatic)
    bool higher_is_better = false;
    Options best_options;
    std::optional<M> model;

    const TuneTrial& best_trial() const { return trials.at(best); }
};

/// `o` with the option stored under `key` set from `value` (the text a model file would hold).
/// @throws InvalidArgument when the options have no such key (the message lists the keys) or the
///         value does not parse as that key's codec.
template <class Options>
Options with_option(const Options& o, const std::string& key, const std::string& value) {
    const auto& table = options_table<Options>();
    bool known = false;
    std::string keys;
    for (const auto& f : table.fields()) {
        known = known || f.key == key;
        keys += (keys.empty() ? "" : ", ") + f.key;
    }
    check_arg(known, "with_option: no option '", key, "' (the options are: ", keys, ")");
    Metadata m;
    table.write(o, m);
    m[key] = value;
    Options out = o;
    try {
        table.read(MetadataReader(m, "with_option", "the search space"), out);
    } catch (const IoError& e) {
        // "with_option: 'the search space': metadata 'k' = 'v' is not ..." -> "with_option: option 'k' = 'v' is not ..."
        std::string what = e.what();
        const auto at = what.find("metadata '");
        throw InvalidArgument(at == std::string::npos ? what : "with_option: option " + what.substr(at + 9));
    }
    return out;
}

/// The most grid points a search space may have (each point is at least one fit).
inline constexpr std::size_t max_grid_points = 100000;

/// The grid points of `space` in order (the last key varies fastest).
/// @throws InvalidArgument for an empty space, a key listed twice, a key without values, or more
/// than max_grid_points points.
inline std::vector<ParamSet> grid_points(const SearchSpace& space) {
    check_arg(!space.empty(), "tune: the search space is empty");
    std::size_t n = 1;
    for (std::size_t a = 0; a < space.size(); ++a) {
        check_arg(!space[a].values.empty(), "tune: option '", space[a].key, "' has no candidate values");
        for (std::size_t b = 0; b < a; ++b)
            check_arg(space[a].key != space[b].key, "tune: option '", space[a].key, "' is listed twice");
        n = space[a].values.size() > max_grid_points / n ? max_grid_points + 1 : n * space[a].values.size();
    }
    check_arg(n <= max_grid_points, "tune: the search space has more than ", max_grid_points,
              " grid points (the product of the numbers of candidate values); give fewer values");
    std::vector<ParamSet> out{ParamSet{}};
    for (const auto& p : space) {
        std::vector<ParamSet> next;
        next.reserve(out.size() * p.values.size());
        for (const auto& prefix : out)
            for (const auto& v : p.values) {
                ParamSet s = prefix;
                s.emplace_back(p.key, v);
                next.push_back(std::move(s));
            }
        out = std::move(next);
    }
    return out;
}

namespace detail {
template <class O, class = void>
struct has_validate : std::false_type {};
template <class O>
struct has_validate<O, std::void_t<decltype(std::declval<const O&>().validate())>> : std::true_type {};
}  // namespace detail

/// The options a trial starts from: a model whose options choose hyper-parameters on validation
/// themselves (AutoencoderOptions::selection, EaseOptions::lambdas) overloads this to turn that
/// off, so that a trial trains with the trial's values. This generic one changes nothing.
template <class Options>
Options without_own_selection(Options o) {
    return o;
}

/// The points tune() tries (the grid, or TuneOptions::random_trials distinct points drawn with the
/// seed, in draw order) and the options of each, built from `base` and validated, so that a bad
/// key or value fails before anything is fitted (or, in the tool, read).
/// @throws InvalidArgument as with_option and Options::validate().
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
// g++ 12 warns that copying `start`'s disengaged std::optional (AutoencoderOptions::selection) reads
// its payload: a known false positive (GCC bug 80635), seen in some translation units only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class Options>
std::pair<std::vector<ParamSet>, std::vector<Options>> tune_candidates(const Options& base, const SearchSpace& space,
                                                                      const TuneOptions& opt) {
    std::vector<ParamSet> points = grid_points(space);
    if (opt.random_trials > 0 && opt.random_trials < points.size()) {
        // A seeded partial Fisher-Yates shuffle: random_trials distinct points, in draw order.
        Rng rng(opt.seed);
        for (std::size_t i = 0; i < opt.random_trials; ++i) {
            const std::size_t j = i + static_cast<std::size_t>(rng.below(points.size() - i));
            std::swap(points[i], points[j]);
        }
        points.resize(opt.random_trials);
    }
    std::vector<Options> candidates;
    candidates.reserve(points.size());
    const Options start = without_own_selection(base);  // the search does the choosing
    for (const auto& p : points) {
        Options o = start;
        for (const auto& [key, value] : p) o = with_option(o, key, value);
        if constexpr (detail::has_validate<Options>::value) o.validate();
        candidates.push_back(std::move(o));
    }
    return {std::move(points), std::move(candidates)};
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace detail {

/// The validation score of `model` (fitted on `fit_part`) on `held_out`.
template <class M, class T>
double validation_score(const M& model, const RatingMatrix<T>& fit_part, const RatingMatrix<T>& held_out,
                        TuneObjective objective, const TuneOptions& opt) {
    if (objective == TuneObjective::rmse) {
        const std::vector<T> pred = model.predict(fit_part, held_out);
        return rmse(pred, held_out.values());
    }
    RankingOptions ro;
    if (opt.relevance_threshold) ro.threshold(*opt.relevance_threshold);
    auto scorer = model.make_scorer(fit_part);  // a scorer may keep scratch buffers: not const
    const RankingReport r =
        evaluate_ranking(fit_part, held_out, opt.k, [&](index_type u, T* out) { scorer(u, out); }, ro);
    return objective == TuneObjective::ndcg ? r.ndcg : objective == TuneObjective::precision ? r.precision : r.recall;
}

}  // namespace detail

/// Searches `space` around `base` for model type M (constructible from Options, with fit(train),
/// predicts_ratings(), predict(input, pairs_matrix) and make_scorer(input): the recommender
/// interface). See the file comment for the validation and the objective.
/// @throws InvalidArgument for a bad search space or TuneOptions, an unknown option key or value,
///         options that fail validation, RMSE asked of a model that does not predict ratings,
///         or a training matrix too small to hold out a validation part.
template <class M, class Options, class T>
TuneResult<M, Options> tune(const RatingMatrix<T>& train, const Options& base, const SearchSpace& space,
                            const TuneOptions& opt = {}) {
    opt.validate();
    check_arg(!train.empty(), "tune: the training matrix is empty");
    const auto [points, candidates] = tune_candidates(base, space, opt);

    TuneResult<M, Options> result;
    {
        const bool ratings = M(candidates.front()).predicts_ratings();
        result.objective = opt.objective == TuneObjective::automatic
                               ? (ratings ? TuneObjective::rmse : TuneObjective::ndcg)
                               : opt.objective;
        check_arg(result.objective != TuneObjective::rmse || ratings,
                  "tune: the objective rmse needs a model that predicts ratings; score this one by ndcg, "
                  "precision or recall");
        result.higher_is_better = result.objective != TuneObjective::rmse;
    }

    std::vector<Split<T>> parts;
    if (opt.n_folds >= 2)
        parts = kfold(train, opt.n_folds, opt.seed);
    else
        parts.push_back(stratified_split(train, opt.validation_fraction, opt.seed, By::user));
    for (std::size_t f = 0; f < parts.size(); ++f)
        check_arg(!parts[f].test.empty() && !parts[f].train.empty(), "tune: validation fold ", f,
                  " is empty: the training matrix (", train.nnz(), " ratings) is too small to hold out a part");

    for (std::size_t t = 0; t < candidates.size(); ++t) {
        const auto start = std::chrono::steady_clock::now();
        TuneTrial trial;
        trial.params = points[t];
        for (const auto& part : parts) {
            M model(candidates[t]);
            model.fit(part.train);
            trial.fold_scores.push_back(detail::validation_score(model, part.train, part.test, result.objective, opt));
        }
        double sum = 0;
        for (double s : trial.fold_scores) sum += s;
        trial.score = sum / static_cast<double>(trial.fold_scores.size());
        trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result.trials.push_back(trial);
        const double best = result.trials[result.best].score;
        const bool better = result.higher_is_better ? trial.score > best : trial.score < best;
        if (t > 0 && better) result.best = t;
        if (opt.on_trial) opt.on_trial(result.trials.back(), t, candidates.size());
    }
    result.best_options = candidates[result.best];
    if (opt.refit) {
        result.model.emplace(result.best_options);
        result.model->fit(train);
    }
    return result;
}

}  // namespace cfnet
