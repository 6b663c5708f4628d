// Top-N recommendation on MovieLens 100K under the two standard protocols (docs/evaluation.md),
// every model side by side.
//
//   ranking_movielens [--data DIR|synthetic] [--seeds 42,43,44] [--quick]
//
// (a) Microsoft Recommenders: 75/25 split of each user's ratings, P/R/NDCG/MAP@10 over the users
//     with a held-out item; one split and one model per seed, then the mean over the seeds.
// (b) Strong generalisation (Liang et al. 2018): ratings > 3.5 as interactions, users with >= 5,
//     10% of the users held out for validation and 10% for test; each test user is scored from 80%
//     of his interactions (fold-in) against the other 20%; Recall@20, Recall@50, NDCG@100; one
//     draw of the held-out users per seed (on ML-100K only 93 test users each), then the mean.
//
// The models are the list `models` below: a name, how the model scores a held-out user in (b),
// and a factory of an unfitted model from a seed. Adding a model is one line there. Every model
// keeps its defaults or its preset, and what a model chooses (NeuMF's early stopping, EASE's lambda,
// the VAEs' epoch) it chooses on part of the TRAINING data: nothing is tuned on a test set.
//
// --quick (the ctest smoke test): one seed and at most 2 epochs per neural model; its numbers are
// not the reference figures. The full run takes about 5 minutes on one core (215 s CPU, Mult-VAE
// most of it) and 85 MB (docs/evaluation.md).
#include "example_support.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/protocols.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using RM = cfnet::RatingMatrix<float>;
using Scorer = std::function<void(cfnet::index_type, float*)>;

/// How a model fitted on the training users scores a held-out user of protocol (b).
enum class FoldIn {
    input_row,         ///< from his fold-in row: model.make_scorer(fold_in) (autoencoders, EASE, VAEs)
    user_independent,  ///< the same list for everyone (most popular): score_items(0, out)
    none               ///< needs the user in training (NeuralCF's user embedding): not in (b)
};

/// A fitted model behind one interface: scorer(input) scores the users of `input` (the training
/// matrix in (a), the fold-in matrix in (b)).
struct Fitted {
    std::function<Scorer(const RM&)> scorer;
};

struct ModelEntry {
    std::string name;
    FoldIn fold_in;
    std::function<Fitted(const RM& train, std::uint64_t seed, bool quick)> fit;
    std::string not_in_b;  ///< why the model is not run under (b), when it is not
};

/// True when M has score_items(user, out) without an input matrix (the baselines).
template <class M, class = void>
struct scores_without_input : std::false_type {};
template <class M>
struct scores_without_input<M, std::void_t<decltype(std::declval<const M&>().score_items(cfnet::index_type{},
                                                                                       std::declval<float*>()))>>
    : std::true_type {};

/// A ModelEntry from a factory make(seed, quick) -> unfitted model M (the recommender interface).
template <class Make>
ModelEntry model(std::string name, FoldIn f, Make make, std::string not_in_b = {}) {
    auto fit = [make, f](const RM& train, std::uint64_t seed, bool quick) {
        auto m = std::make_shared<decltype(make(seed, quick))>(make(seed, quick));
        m->fit(train);
        Fitted out;
        out.scorer = [m, f, &train](const RM& input) -> Scorer {
            if (&input == &train || f == FoldIn::input_row) return m->make_scorer(input);
            using M = typename decltype(m)::element_type;
            if constexpr (scores_without_input<M>::value) {
                return [m](cfnet::index_type, float* s) { m->score_items(0, s); };  // user_independent
            } else {
                throw std::logic_error("FoldIn::user_independent needs score_items(user, out)");
            }
        };
        return out;
    };
    return {std::move(name), f, fit, std::move(not_in_b)};
}

int capped(int epochs, bool quick) { return quick ? std::min(epochs, 2) : epochs; }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"cfnet: top-N ranking on MovieLens 100K under the Microsoft Recommenders and strong-generalisation protocols"};
    std::string data;
    std::vector<std::uint64_t> seeds = {42, 43, 44};
    bool quick = false;
    app.add_option("--data", data, "MovieLens 100K directory, or 'synthetic' (default: ./data/ml-100k)");
    app.add_option("--seeds", seeds, "split (and model) seeds of both protocols")->delimiter(',')->capture_default_str();
    app.add_flag("--quick", quick, "one seed, at most 2 epochs per neural model (smoke test, not the reference figures)");
    CLI11_PARSE(app, argc, argv);
    if (quick) seeds.resize(1);

    // ---- the models: one line each. The factory gets the seed of the run (a model's own seed
    // follows the split's) and --quick. EASE chooses its lambda on a validation part of the
    // training interactions (EaseOptions::validated()); Mult-DAE and Mult-VAE choose their epoch
    // the same way, and their batch size, anneal and DAE architecture are the ones validation on
    // seed 42's training data preferred (docs/mult_vae.md), not the paper's ML-20M settings.
    const std::vector<ModelEntry> models = {
        model("most popular", FoldIn::user_independent, [](std::uint64_t, bool) { return cfnet::MostPopular<float>(); }),
        model("bias baseline", FoldIn::none, [](std::uint64_t, bool) { return cfnet::BiasBaseline<float>(); },
              "a rating model: on 0/1 interactions every bias is 0"),
        model("autoencoder (notebook)", FoldIn::input_row,
              [](std::uint64_t s, bool q) {
                  auto o = cfnet::AutoencoderOptions::notebook().random_seed(s);
                  return cfnet::AutoencoderCF<float>(o.n_epochs(capped(o.epochs, q)));
              }),
        model("NCF MLP (notebook)", FoldIn::none,
              [](std::uint64_t s, bool q) {
                  auto o = cfnet::NeuralCFOptions::notebook();
                  o.seed = s;
                  o.epochs = capped(o.epochs, q);
                  return cfnet::NeuralCF<float>(o);
              },
              "no fold-in: a user is an embedding learned in training"),
        model("NeuMF (implicit preset)", FoldIn::none,
              [](std::uint64_t s, bool q) {
                  auto o = cfnet::NeuralCFOptions::implicit_ranking();
                  o.seed = s;
                  o.epochs = capped(o.epochs, q);
                  return cfnet::NeuralCF<float>(o);
              },
              "no fold-in: a user is an embedding learned in training"),
        model("EASE", FoldIn::input_row,
              [](std::uint64_t s, bool) { return cfnet::Ease<float>(cfnet::EaseOptions::validated().random_seed(s)); }),
        model("Mult-DAE", FoldIn::input_row,
              [](std::uint64_t s, bool q) {
                  auto o = cfnet::MultVAEOptions::dae().hidden_sizes({}).batch(100).random_seed(s);
                  o.weight_decay = 0.01 / 100;
                  return cfnet::MultVAE<float>(o.n_epochs(capped(60, q)).select_epoch(0.2, 10));
              }),
        model("Mult-VAE", FoldIn::input_row,
              [](std::uint64_t s, bool q) {
                  auto o = cfnet::MultVAEOptions::vae().batch(100).anneal(200, 1.0).random_seed(s);
                  return cfnet::MultVAE<float>(o.n_epochs(capped(100, q)).select_epoch(0.2, 10));
              }),
    };

    try {
        const auto t0 = std::chrono::steady_clock::now();
        // 1. The ratings. Protocol (a) uses them as they are (every observed rating is an
        //    interaction, every held-out one relevant); (b) binarises them.
        const auto w = examples::load_workload(data, "per-user", 42);
        const RM& all = w.data.ratings;
        std::cout << "ratings: " << all.nnz() << " (" << all.n_users() << " users x " << all.n_items() << " items, "
                  << w.data_source << ")" << (quick ? "   --quick: NOT the reference figures" : "") << "\n\n";

        // 2. Protocol (a), per seed: split, fit on the training part, evaluate at k = 10.
        std::vector<std::vector<cfnet::RankingReport>> a(models.size());
        std::vector<double> a_seconds(models.size(), 0.0);
        for (const auto seed : seeds) {
            const auto split = cfnet::ms_recommenders_split(all, seed);
            for (std::size_t m = 0; m < models.size(); ++m) {
                const auto t = std::chrono::steady_clock::now();
                const Fitted f = models[m].fit(split.train, seed, quick);
                a[m].push_back(cfnet::evaluate_ms_recommenders(split, f.scorer(split.train)));
                a_seconds[m] += examples::seconds_since(t);
                std::cerr << "  (a) seed " << seed << "  " << models[m].name << "  P@10 " << a[m].back().precision
                          << "\n";
            }
        }

        // 3. Protocol (b), per seed: preprocessing, held-out users, fit on the training users,
        //    score each test user from his fold-in row. (The validation users, sg.validation_*,
        //    are there for choosing hyper-parameters; the models here keep their presets.)
        std::vector<std::vector<cfnet::StrongGeneralizationReport>> b(models.size());
        std::vector<double> b_seconds(models.size(), 0.0);
        std::size_t sg_train_users = 0, sg_items = 0, sg_test_users = 0, sg_with_target = 0;
        for (const auto seed : seeds) {
            const auto sg = cfnet::strong_generalization_split(all, seed);
            sg_train_users = sg.train.n_users();
            sg_items += sg.train.n_items();
            sg_test_users = sg.test_fold_in.n_users();
            for (std::size_t m = 0; m < models.size(); ++m) {
                if (models[m].fold_in == FoldIn::none) continue;
                const auto t = std::chrono::steady_clock::now();
                const Fitted f = models[m].fit(sg.train, seed, quick);
                b[m].push_back(cfnet::evaluate_strong_generalization(sg.test_fold_in, sg.test_target,
                                                                     f.scorer(sg.test_fold_in)));
                b_seconds[m] += examples::seconds_since(t);
                sg_with_target += m == 0 ? b[m].back().users_evaluated : 0;
            }
        }

        // 4. The tables side by side.
        std::printf("(a) Microsoft Recommenders: 75/25 stratified by user, k = 10, mean over %zu seed(s)",
                    seeds.size());
        for (const auto s : seeds) std::printf(" %llu", static_cast<unsigned long long>(s));
        std::printf(", %zu users\n", a[0].front().users_evaluated);
        std::printf("%-26s %7s %7s %8s %8s %8s %8s\n", "model", "P@10", "R@10", "NDCG@10", "MAP@10", "MAP(R)",
                    "fit+eval");
        for (std::size_t m = 0; m < models.size(); ++m) {
            const auto r = cfnet::mean_report(a[m]);
            std::printf("%-26s %7.4f %7.4f %8.4f %8.4f %8.4f %7.1fs\n", models[m].name.c_str(), r.precision, r.recall,
                        r.ndcg, r.map, r.map_r, a_seconds[m] / static_cast<double>(seeds.size()));
        }
        const auto n_seeds = static_cast<double>(seeds.size());
        std::printf("\n(b) strong generalisation: ratings > 3.5, users >= 5; %zu train users x %.0f items (mean), %zu "
                    "test users (%.1f with a target, mean), mean over the same seeds\n",
                    sg_train_users, static_cast<double>(sg_items) / n_seeds, sg_test_users,
                    static_cast<double>(sg_with_target) / n_seeds);
        std::printf("%-26s %9s %9s %9s %8s\n", "model", "Recall@20", "Recall@50", "NDCG@100", "fit+eval");
        for (std::size_t m = 0; m < models.size(); ++m) {
            if (!b[m].empty()) {
                double r20 = 0, r50 = 0, n100 = 0;
                for (const auto& r : b[m]) r20 += r.recall20 / n_seeds, r50 += r.recall50 / n_seeds, n100 += r.ndcg100 / n_seeds;
                std::printf("%-26s %9.4f %9.4f %9.4f %7.1fs\n", models[m].name.c_str(), r20, r50, n100,
                            b_seconds[m] / n_seeds);
            }
            else
                std::printf("%-26s %9s   (%s)\n", models[m].name.c_str(), "-", models[m].not_in_b.c_str());
        }
        std::printf("\ntotal %.1f s\n", examples::seconds_since(t0));
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
