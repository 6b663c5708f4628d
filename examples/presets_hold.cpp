// Do the presets hold on data they were not chosen on? Every accuracy preset against the user+item
// bias baseline (RMSE), every ranking preset against most-popular (Precision@10), on several data
// sets side by side: MovieLens 100K (the seeded per-user split and the shipped u1 split) and
// synthetic shapes no preset was chosen on (the MovieLens "latest-small" shape: 610 x 9,724,
// half stars, a long tail of items with one or two ratings; and the ML-100K shape).
//
//   presets_hold [--data DIR] [--sets latest-small,synthetic-100k,ml100k,u1] [--models ...] [--json FILE]
//                [--max-width N] [--max-epochs N]
//
// --max-width / --max-epochs cap the networks' hidden widths and epochs (L-BFGS iterations): the
// ctest runs the presets that way, narrower and shorter, so that it takes a minute; the figures in
// docs/benchmarks.md are the presets as they are.
//
// Every preset chooses what depends on the data (regularisation, residual or not, epochs, EASE's
// lambda) on a validation part of the TRAINING data it is given; the test part is only scored.
// Ranking: relevant = held-out rating >= 4, candidates = items the user did not rate in train.
// Exit status 1 when a preset does not beat its baseline on a data set (the ctest check).
#include "example_support.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using RM = cfnet::RatingMatrix<float>;

struct DataSet {
    std::string name;
    cfnet::Split<float> split;
};

/// A preset: its name, whether it predicts ratings (scored by RMSE against the bias baseline) or
/// ranks (Precision@10 against most-popular), how it is fitted and scored, and whether it is that
/// baseline itself.
struct Preset {
    std::string name;
    bool rating;
    std::function<double(const RM& train, const RM& test)> score;
    bool baseline = false;
};

double p_at_10(const RM& train, const RM& test, const std::function<void(cfnet::index_type, float*)>& scorer) {
    return cfnet::evaluate_ranking(train, test, 10, scorer, cfnet::RankingOptions().threshold(4.0)).precision;
}

template <class M>
double rmse_of(M& model, const RM& train, const RM& test) {
    model.fit(train);
    return cfnet::rmse(model.predict(train, test), test.values());
}

template <class M>
double p10_of(M& model, const RM& train, const RM& test) {
    model.fit(train);
    auto s = model.make_scorer(train);
    return p_at_10(train, test, [&](cfnet::index_type u, float* out) { s(u, out); });
}

/// The caps of --max-width / --max-epochs (0: none).
struct Caps {
    std::size_t width = 0;
    int epochs = 0;
    template <class O>
    O operator()(O o) const {
        if (width > 0)
            for (auto& h : o.hidden) h = std::min(h, width);
        if (epochs > 0) o.epochs = std::min(o.epochs, epochs);
        return o;
    }
};

std::vector<Preset> presets(const Caps& cap) {
    return {
        {"bias baseline", true, [](const RM& tr, const RM& te) { cfnet::BiasBaseline<float> m; return rmse_of(m, tr, te); },
         true},
        {"autorec", true,
         [cap](const RM& tr, const RM& te) {
             cfnet::AutoencoderCF<float> m(cap(cfnet::AutoencoderOptions::autorec()));
             const double v = rmse_of(m, tr, te);
             const auto& o = m.options();
             std::printf("  (autorec chose lambda %g, %s, %d iterations; validation RMSE", o.l2_lambda,
                         o.residual ? "residual" : "plain", o.epochs);
             for (const auto& c : m.selection())
                 std::printf(" %g%s:%.4f@%d", c.lambda, c.residual ? "r" : "p", c.val_rmse, c.best_epoch);
             std::printf(")\n");
             return v;
         }},
        {"autorec-ensemble", true,
         [cap](const RM& tr, const RM& te) {
             const auto preset = cfnet::AutoencoderEnsemble<float>::autorec_ensemble();
             std::vector<cfnet::AutoencoderOptions> members;
             for (std::size_t k = 0; k < preset.size(); ++k) members.push_back(cap(preset.member(k).options()));
             cfnet::AutoencoderEnsemble<float> m(members, preset.weights());
             return rmse_of(m, tr, te);
         }},
        {"ncf accurate", true,
         [cap](const RM& tr, const RM& te) {
             cfnet::NeuralCF<float> m(cap(cfnet::NeuralCFOptions::accurate()));
             return rmse_of(m, tr, te);
         }},
        {"most popular", false,
         [](const RM& tr, const RM& te) {
             cfnet::MostPopular<float> m;
             m.fit(tr);
             return p_at_10(tr, te, [&](cfnet::index_type u, float* out) { m.score_items(u, out); });
         },
         true},
        {"ease default", false,
         [cap](const RM& tr, const RM& te) {
             cfnet::Ease<float> m(cfnet::EaseOptions::validated());
             return p10_of(m, tr, te);
         }},
        {"mult-dae default", false,
         [cap](const RM& tr, const RM& te) {
             cfnet::MultVAE<float> m(cap(cfnet::MultVAEOptions::dae().select_epoch(0.2, 100)));
             return p10_of(m, tr, te);
         }},
    };
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Do cfnet's presets beat the baselines on data they were not chosen on?"};
    std::string data_dir, sets_arg = "latest-small,synthetic-100k,ml100k,u1", models_arg, json_path;
    app.add_option("--data", data_dir, "MovieLens 100K directory (default: $CFNET_ML100K_DIR, ../shared/data/ml-100k)");
    app.add_option("--sets", sets_arg, "data sets: latest-small, synthetic-100k (synthetic shapes), ml100k (per-user split), u1");
    app.add_option("--models", models_arg, "presets to run (comma-separated names; default all)");
    app.add_option("--json", json_path, "write the table as JSON");
    Caps cap;
    app.add_option("--max-width", cap.width, "cap every hidden width at N (a quicker check; 0: none)");
    app.add_option("--max-epochs", cap.epochs, "cap every epoch / iteration count at N (0: none)");
    CLI11_PARSE(app, argc, argv);
    

    auto ml_dir = [&] { return data_dir = examples::find_ml100k(data_dir, false); };
    std::vector<DataSet> sets;
    std::stringstream ss(sets_arg);
    for (std::string s; std::getline(ss, s, ',');) {
        if (s == "latest-small" || s == "synthetic-100k") {
            auto o = s == "latest-small" ? cfnet::synthetic::ml_latest_small() : cfnet::synthetic::ml100k();
            o.seed = 7;
            const RM m = cfnet::synthetic::generate<float>(o);
            sets.push_back({s + " (synthetic, per-user split)", cfnet::per_user_holdout(m, 42)});
        } else if (s == "ml100k") {
            sets.push_back({"ml-100k (per-user split)", cfnet::per_user_holdout(cfnet::movielens::load<float>(ml_dir()).ratings, 42)});
        } else if (s == "u1") {
            sets.push_back({"ml-100k (u1)", cfnet::movielens::load_100k_split<float>(ml_dir(), "u1")});
        } else {
            std::cerr << "presets_hold: unknown data set '" << s << "'\n";
            return 2;
        }
    }
    std::vector<Preset> chosen;
    for (auto& p : presets(cap))
        if (models_arg.empty() || p.baseline ||
            ("," + models_arg + ",").find("," + p.name + ",") != std::string::npos)
            chosen.push_back(p);

    nlohmann::json out = nlohmann::json::array();
    bool all_hold = true;
    for (const auto& d : sets) {
        std::printf("\n%s: %zu users x %zu items, %zu training / %zu held-out ratings\n", d.name.c_str(),
                    d.split.train.n_users(), d.split.train.n_items(), d.split.train.nnz(), d.split.test.nnz());
        std::printf("  %-18s %-10s %8s %10s %8s\n", "preset", "metric", "value", "vs base", "seconds");
        double base_rmse = 0, base_p10 = 0;
        for (const auto& p : chosen) {
            const auto t0 = std::chrono::steady_clock::now();
            const double v = p.score(d.split.train, d.split.test);
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (p.baseline) (p.rating ? base_rmse : base_p10) = v;
            const double margin = p.baseline ? 0.0 : (p.rating ? base_rmse - v : v - base_p10);
            const bool holds = p.baseline || margin > 0;
            all_hold = all_hold && holds;
            std::printf("  %-18s %-10s %8.4f %+10.4f %8.1f%s\n", p.name.c_str(), p.rating ? "RMSE" : "P@10", v,
                        margin, sec, holds ? "" : "  DOES NOT BEAT THE BASELINE");
            std::fflush(stdout);
            out.push_back({{"data", d.name}, {"preset", p.name}, {"metric", p.rating ? "rmse" : "precision@10"},
                           {"value", v}, {"margin", margin}, {"seconds", sec}});
        }
    }
    if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
    std::printf("\n%s\n", all_hold ? "every preset beats its baseline" : "SOME PRESET DOES NOT BEAT ITS BASELINE");
    return all_hold ? 0 : 1;
}
