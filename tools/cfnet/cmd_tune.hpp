#pragma once
/// @file tools/cfnet/cmd_tune.hpp
/// `cfnet tune`: `cfnet train`'s model, preset and overrides as the starting point, a search space
/// of options named by their model-file keys (--param KEY=V1,V2,...), every trial scored on a
/// held-out part (or k folds) of the split's TRAINING part, a table of the trials, and the best
/// options refitted on the whole training part and saved like `cfnet train` saves a model.

#include "cmd_train.hpp"
#include "common.hpp"
#include "models.hpp"

#include <cfnet/options_io.hpp>
#include <cfnet/tune.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace cfnet_cli {

struct TuneArgs {
    TrainArgs base;                   ///< the model, preset, overrides, data, split, seed and --out
    std::vector<std::string> params;  ///< KEY=V1,V2,... as given
    std::size_t folds = 0;
    std::size_t random = 0;
    double holdout = 0.2;
    std::string objective = "auto";
    std::size_t k = 10;
    std::string json;
};

namespace detail {

/// The search space of --param KEY=V1,V2,... for options struct Options. A key whose option is a
/// list (e.g. hidden) takes ONE candidate per --param (its commas belong to the value), so that
/// `--param hidden=512,256 --param hidden=1000` are two candidates; any other key splits its
/// values at commas. Repeating a key adds candidates. A key may drop the "options." prefix of
/// NeuralCF's keys. @throws UsageError.
template <class Options>
cfnet::SearchSpace search_space(const std::vector<std::string>& params) {
    cfnet::SearchSpace space;
    const auto& fields = cfnet::options_table<Options>().fields();
    for (const auto& p : params) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == p.size())
            throw UsageError("tune: --param " + p + ": expected KEY=VALUE[,VALUE...]");
        const std::string given = p.substr(0, eq), values = p.substr(eq + 1);
        // NeuralCF's keys carry the prefix "options.": the short name is accepted too
        const cfnet::OptionField<Options>* field = nullptr;
        std::string keys;
        for (const auto& f : fields) {
            if (f.key == given || f.key == "options." + given) field = &f;
            keys += (keys.empty() ? "" : ", ") + f.key;
        }
        const std::string key = field ? field->key : given;
        if (!field) throw UsageError("tune: --param " + p + ": this model has no option '" + given + "' (its options: " + keys + ")");
        std::vector<std::string> list;
        if (field->codec == "list") {
            list.push_back(values);
        } else {
            std::size_t start = 0;
            for (;;) {
                const auto comma = values.find(',', start);
                list.push_back(values.substr(start, comma - start));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        }
        for (const auto& v : list)
            if (v.empty()) throw UsageError("tune: --param " + p + ": empty value");
        auto it = space.begin();
        while (it != space.end() && it->key != key) ++it;
        if (it == space.end())
            space.push_back({key, list});
        else
            it->values.insert(it->values.end(), list.begin(), list.end());
    }
    if (space.empty()) throw UsageError("tune: give at least one --param KEY=VALUE[,VALUE...]");
    return space;
}

inline std::string describe(const cfnet::ParamSet& p) {
    std::string s;
    for (const auto& [k, v] : p) s += (s.empty() ? "" : " ") + k + "=" + v;
    return s;
}

}  // namespace detail

/// The tune options of the command line, every grid point's model options checked (before any data
/// is read). @throws UsageError.
inline cfnet::TuneOptions checked_tune_options(const TuneArgs& a) {
    check_train_args(a.base);
    if (a.folds == 1) throw UsageError("tune: --folds must be 0 (one held-out part) or >= 2");
    cfnet::TuneOptions topt;
    topt.folds(a.folds).random(a.random).validation(a.holdout).with_seed(a.base.seed);
    try {
        topt.score_by(cfnet::parse_tune_objective(a.objective), a.k);
    } catch (const cfnet::InvalidArgument& e) {
        throw UsageError(std::string("tune: ") + e.what());
    }
    // Every grid point's options are checked before any data is read.
    dispatch_model(model_kind_of(a.base.model), [&](auto type) {
        const auto base = detail::options_for(type, a.base);
        using Options = std::decay_t<decltype(base)>;
        try {
            (void)cfnet::tune_candidates(base, detail::search_space<Options>(a.params), topt);
        } catch (const cfnet::InvalidArgument& e) {
            throw UsageError(std::string("tune: ") + e.what());
        }
    });
    return topt;
}

/// Runs `cfnet tune`. @throws UsageError, cfnet::IoError/ParseError (data), cfnet::NumericalError.
inline int run_tune(const TuneArgs& a) {
    cfnet::TuneOptions topt = checked_tune_options(a);
    const ModelKind kind = model_kind_of(a.base.model);
    const auto t0 = std::chrono::steady_clock::now();
    const examples::Workload w = load_data(a.base.data, a.base.layout, a.base.split, a.base.seed);
    const auto& train = w.split.train;
    if (!a.base.quiet)
        std::cerr << "cfnet: " << w.data_source << ", split " << a.base.split << " (seed " << a.base.seed
                  << "): tuning on the " << train.nnz() << " training ratings only ("
                  << (a.folds >= 2 ? std::to_string(a.folds) + " folds"
                                 : std::to_string(static_cast<int>(a.holdout * 100 + 0.5)) + "% of each user held out")
                  << ")\n";
    nlohmann::json trials = nlohmann::json::array();
    std::string model_name, objective, best;
    double best_score = 0;
    dispatch_model(kind, [&](auto type) {
        using M = typename decltype(type)::type;
        const auto base = detail::options_for(type, a.base);
        using Options = std::decay_t<decltype(base)>;
        const cfnet::SearchSpace space = detail::search_space<Options>(a.params);
        if (!a.base.quiet)
            topt.progress([&](const cfnet::TuneTrial& t, std::size_t i, std::size_t n) {
                char score[64];
                std::snprintf(score, sizeof score, "%.4f (%.1f s)", t.score, t.seconds);
                std::cerr << "cfnet: trial " << (i + 1) << "/" << n << ": " << detail::describe(t.params) << " -> "
                          << score << '\n';
            });
        cfnet::TuneResult<M, Options> r;
        try {
            r = cfnet::tune<M>(train, base, space, topt);
        } catch (const cfnet::InvalidArgument& e) {
            throw UsageError(std::string("tune: ") + e.what());
        }
        objective = cfnet::to_string(r.objective);
        std::cout << "trial  " << objective << (r.objective == cfnet::TuneObjective::rmse ? "" : "@" + std::to_string(a.k))
                  << (r.higher_is_better ? " (higher is better)" : " (lower is better)") << "  seconds  options\n";
        for (std::size_t t = 0; t < r.trials.size(); ++t) {
            const auto& tr = r.trials[t];
            char line[64];
            std::snprintf(line, sizeof line, "%5zu  %.4f%s  %7.1f  ", t + 1, tr.score, t == r.best ? " *" : "  ", tr.seconds);
            std::cout << line << detail::describe(tr.params) << '\n';
            nlohmann::json jt;
            jt["params"] = nlohmann::json::object();
            for (const auto& [k, v] : tr.params) jt["params"][k] = v;
            jt["score"] = json_number(tr.score);
            jt["fold_scores"] = tr.fold_scores;
            jt["seconds"] = tr.seconds;
            trials.push_back(jt);
        }
        best = detail::describe(r.best_trial().params);
        best_score = r.best_trial().score;
        r.model->save(a.base.out);
        model_name = ModelName<M>::value;
    });
    detail::record_split(a.base.out, a.base);
    std::cout << "best:     " << best << " (" << objective << " " << best_score << ")\n"
              << "model:    " << model_name << " (preset " << detail::preset_of(a.base) << ", the best options refitted on all "
              << train.nnz() << " training ratings)\n"
              << "saved:    " << a.base.out << '\n';
    if (!a.json.empty()) {
        nlohmann::json j;
        j["model"] = model_name;
        j["preset"] = detail::preset_of(a.base);
        j["data"] = w.data_source;
        j["split"] = a.base.split;
        j["seed"] = a.base.seed;
        j["objective"] = objective;
        j["trials"] = trials;
        j["best"] = best;
        j["seconds"] = examples::seconds_since(t0);
        write_json_file(a.json, j);
    }
    return exit_ok;
}

}  // namespace cfnet_cli
