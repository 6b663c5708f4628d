// The notebook's neural collaborative filtering, sections 6-8, with cfnet::NeuralCF.
//
//   neural_cf_movielens [--data DIR|synthetic] [--split per-user|u1..u5|FILE|stratified-item]
//                       [--preset notebook|accurate|implicit] [--arch mlp|gmf|neumf]
//                       [--mode explicit|implicit] [--seed N] [hyper-parameters] [--json FILE]
//
// Section 6: the training pairs (user index, item index, rating) and the model (embeddings of 32,
// concatenated, Dense 128 ReLU, Dense 64 ReLU, Dense 1; MSE; Adam; batch 1024; 10 epochs; 20% of
// the training pairs for validation). Section 7: training, loss and val_loss per epoch.
// Section 8: RMSE on the held-out pairs, ranking metrics @10, and the top-10 titles for user index 0.
//
// The notebook's exact split: --split /path/to/notebook-split/test.tsv (RMSE ~0.942).
// Implicit feedback with the split stratified by item: --preset implicit --split stratified-item (the
// Microsoft Recommenders protocol stratifies by user: examples/ranking_movielens.cpp runs it)
// (75/25 split of each item's ratings, every held-out rating relevant, most-popular alongside).
#include "example_support.hpp"

#include <cfnet/baselines.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/neural_cf.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>

int main(int argc, char** argv) {
    CLI::App app{"cfnet: neural collaborative filtering on MovieLens 100K (notebook sections 6-8)"};
    std::string data, split = "per-user", json_path, preset = "notebook", arch, mode, save_path;
    std::uint64_t seed = 42;
    std::optional<std::size_t> embedding, batch, negatives;
    std::optional<int> epochs, patience;
    std::optional<double> dropout, l2, dense_l2, lr, val_fraction;
    std::vector<std::size_t> hidden;
    bool bias = false, lazy = false, fallback = false, quiet = false, mean_init = false, refit = false, no_refit = false;
    std::string dense_init;
    app.add_option("--data", data, "MovieLens 100K directory, or 'synthetic' (default: ./data/ml-100k)");
    app.add_option("--split", split, "per-user | u1..u5 | FILE of held-out 'user item rating' lines | stratified-item")
        ->capture_default_str();
    app.add_option("--preset", preset, "notebook | accurate | implicit (then the options below override it)")
        ->capture_default_str();
    app.add_option("--arch", arch, "mlp | gmf | neumf");
    app.add_option("--mode", mode, "explicit | implicit");
    app.add_option("--seed", seed, "seed of every random choice")->capture_default_str();
    app.add_option("--embedding", embedding, "embedding size");
    app.add_option("--hidden", hidden, "MLP widths, e.g. --hidden 128 64");
    app.add_option("--dropout", dropout, "dropout after each hidden layer");
    app.add_option("--l2", l2, "L2 on the looked-up embedding rows (per batch mean)");
    app.add_option("--dense-l2", dense_l2, "L2 on the Dense kernels (sum of squares, per batch)");
    app.add_flag("--bias", bias, "add user and item bias terms");
    app.add_option("--lr", lr, "Adam learning rate");
    app.add_option("--batch", batch, "batch size");
    app.add_option("--epochs", epochs, "epochs (maximum with early stopping)");
    app.add_option("--val-fraction", val_fraction, "fraction of the training pairs held out for validation");
    app.add_option("--negatives", negatives, "implicit: negatives per positive");
    app.add_option("--patience", patience, "early stopping patience (0 disables early stopping)");
    app.add_flag("--lazy", lazy, "lazy Adam updates of the embedding rows");
    app.add_flag("--fallback", fallback, "bias-baseline predictions for users/items without training pairs");
    app.add_flag("--mean-init", mean_init, "explicit: start the output bias at the mean training rating");
    app.add_flag("--refit", refit,
                 "after early stopping on the validation pairs, retrain on all training pairs for the best epoch count");
    app.add_flag("--no-refit", no_refit, "keep the early-stopped model trained on 80% of the training pairs");
    app.add_option("--dense-init", dense_init, "glorot_uniform (Keras) | fan_in_uniform (PyTorch)");
    app.add_flag("--quiet", quiet, "no per-epoch lines");
    app.add_option("--save", save_path, "save the trained model to FILE");
    app.add_option("--json", json_path, "write the configuration, history and results as JSON to FILE");
    CLI11_PARSE(app, argc, argv);

    try {
        nlohmann::json out;
        const auto t0 = std::chrono::steady_clock::now();
        const bool stratified = split == "stratified-item";
        auto w = examples::load_workload(data, stratified ? "per-user" : split, seed);
        if (stratified) {
            w.split = cfnet::stratified_split(w.data.ratings, 0.25, seed, cfnet::By::item);
            w.split_name = split;
        }
        const double t_load = examples::seconds_since(t0);
        const auto& train = w.split.train;
        const auto& test = w.split.test;

        cfnet::NeuralCFOptions o;
        if (preset == "accurate") o = cfnet::NeuralCFOptions::accurate();
        else if (preset == "implicit") o = cfnet::NeuralCFOptions::implicit_ranking();
        else if (preset != "notebook") throw cfnet::InvalidArgument("--preset: unknown preset '" + preset + "'");
        if (!arch.empty()) o.architecture = cfnet::parse_architecture(arch);
        if (!mode.empty()) o.feedback = cfnet::parse_feedback(mode);
        if (embedding) o.embedding_dim = *embedding;
        if (!hidden.empty()) o.hidden = hidden;
        if (dropout) o.dropout = *dropout;
        if (l2) o.l2 = *l2;
        if (dense_l2) o.dense_l2 = *dense_l2;
        if (bias) o.bias_terms = true;
        if (lr) o.learning_rate = *lr;
        if (batch) o.batch_size = *batch;
        if (epochs) o.epochs = *epochs;
        if (val_fraction) o.validation_fraction = *val_fraction;
        if (negatives) o.negatives = *negatives;
        if (lazy) o.lazy_embedding_updates = true;
        if (fallback) o.unseen_fallback = true;
        if (mean_init) o.mean_init = true;
        if (refit) o.refit = true;
        if (no_refit) o.refit = false;
        if (!dense_init.empty()) o.dense_init = cfnet::parse_dense_init(dense_init);
        if (patience) {
            if (*patience == 0) {
                o.early_stopping.reset();
            } else {
                if (!o.early_stopping) {
                    o.early_stopping = cfnet::EarlyStopping{};
                    o.early_stopping->monitor = o.feedback == cfnet::Feedback::ratings ? "val_rmse" : "val_ndcg@10";
                    o.early_stopping->maximize = o.feedback == cfnet::Feedback::implicit;
                }
                o.early_stopping->patience = *patience;
            }
        }
        o.seed = seed;
        const bool implicit = o.feedback == cfnet::Feedback::implicit;

        std::cout << "== 6. Training pairs (" << w.data_source << ", split '" << w.split_name << "')\n"
                  << "train pairs: " << train.nnz() << " (users " << train.n_users() << ", items " << train.n_items()
                  << "), test pairs: " << test.nnz() << "\n";
        {
            const auto users = train.entry_users();
            std::cout << "   user  item  rating\n";
            for (std::size_t k = 0; k < 5 && k < train.nnz(); ++k)
                std::cout << std::setw(7) << users[k] << std::setw(6) << train.item_indices()[k] << std::setw(8)
                          << train.values()[k] << "\n";
        }
        std::cout << "model: " << cfnet::to_string(o.architecture) << ", " << cfnet::to_string(o.feedback)
                  << " feedback, embedding " << o.embedding_dim;
        if (o.architecture != cfnet::NcfArchitecture::gmf) {
            std::cout << ", MLP";
            for (auto h : o.hidden) std::cout << " " << h;
        }
        std::cout << ", dropout " << o.dropout << ", l2 " << o.l2 << (o.bias_terms ? ", bias terms" : "") << ", Adam lr "
                  << o.learning_rate << ", batch " << o.batch_size << ", epochs " << o.epochs;
        if (implicit) std::cout << ", " << o.negatives << " negatives/positive";
        if (o.early_stopping)
            std::cout << ", early stopping on " << o.early_stopping->monitor << " (patience "
                      << o.early_stopping->patience << ")";
        std::cout << "\n";

        std::cout << "\n== 7. Training (" << 100 * o.validation_fraction << "% of the training pairs for validation)\n";
        cfnet::NeuralCF<float> model(o);
        cfnet::ProgressBar bar(stdout, false);
        std::vector<cfnet::Callback*> callbacks;
        if (!quiet) callbacks.push_back(&bar);
        const auto t1 = std::chrono::steady_clock::now();
        const cfnet::History history = model.fit(train, callbacks);
        int refit_epochs = 0;
        for (const auto& e : history.epochs)
            if (e.metrics.empty()) ++refit_epochs;  // the refit's epochs carry no validation metrics
        if (o.refit) {
            std::cout << "epoch count chosen on the validation pairs: " << refit_epochs
                      << "; refit on all " << train.nnz() << " training pairs for that many epochs\n";
        } else if (history.stopped_early || history.best_epoch > 0) {
            std::cout << "restored the weights of epoch " << history.best_epoch
                      << (history.stopped_early ? " (stopped early)" : "") << "\n";
        }
        const double t_train = examples::seconds_since(t1);
        std::printf("training: %.3f s (%.3f s/epoch)\n", t_train, t_train / static_cast<double>(history.size()));

        std::cout << "\n== 8. Evaluation on the held-out pairs\n";
        const auto t2 = std::chrono::steady_clock::now();
        std::optional<cfnet::RatingReport> rating;
        if (!implicit) {
            rating = cfnet::evaluate_rating(test, [&](auto u, auto i) { return model.predict(u, i); });
            std::printf("RMSE %.4f, MAE %.4f over %zu pairs\n", rating->rmse, rating->mae, rating->count);
        }
        const double t_rmse = examples::seconds_since(t2);
        cfnet::RankingOptions ropt;
        if (!implicit) ropt.threshold(4.0);
        const auto t3 = std::chrono::steady_clock::now();
        const auto rank = cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { model.score_items(u, s); }, ropt);
        const double t_rank = examples::seconds_since(t3);
        cfnet::MostPopular<float> pop;
        pop.fit(train);
        const auto rank_pop = cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { pop.score_items(u, s); }, ropt);
        std::printf("%-22s %8s %8s %8s %8s %8s\n", "model", "P@10", "R@10", "NDCG@10", "MAP@10", "HR@10");
        const std::string name = std::string("NeuralCF ") + cfnet::to_string(o.architecture);
        std::printf("%-22s %8.4f %8.4f %8.4f %8.4f %8.4f\n", name.c_str(), rank.precision, rank.recall, rank.ndcg,
                    rank.map, rank.hit_rate);
        std::printf("%-22s %8.4f %8.4f %8.4f %8.4f %8.4f\n", "most popular", rank_pop.precision, rank_pop.recall,
                    rank_pop.ndcg, rank_pop.map, rank_pop.hit_rate);
        std::cout << "(relevant = " << (implicit ? "every held-out pair" : "held-out rating >= 4")
                  << ", candidates = items unrated in train, " << rank.users_evaluated << " users)\n";
        std::printf("full scoring of %zu users x %zu items for the ranking: %.3f s\n", train.n_users(), train.n_items(),
                    t_rank);

        const cfnet::index_type user0 = 0;
        std::cout << "\ntop-10 for user index 0 (user id " << train.users().id(user0) << "):\n";
        const auto top = model.recommend(user0, 10);
        for (std::size_t k = 0; k < top.size(); ++k) {
            const auto id = model.item_map().id(top[k].item);
            std::printf("%3zu. %-60s %7.3f\n", k + 1, w.data.items.title(id).c_str(), static_cast<double>(top[k].score));
        }
        if (!save_path.empty()) model.save(save_path);

        if (!json_path.empty()) {
            std::ostringstream hist;
            history.write_json(hist);
            nlohmann::json cfg = {{"data", w.data_source},
                                  {"split", w.split_name},
                                  {"seed", seed},
                                  {"preset", preset},
                                  {"architecture", cfnet::to_string(o.architecture)},
                                  {"mode", cfnet::to_string(o.feedback)},
                                  {"embedding", o.embedding_dim},
                                  {"hidden", o.hidden},
                                  {"dropout", o.dropout},
                                  {"l2", o.l2},
                                  {"dense_l2", o.dense_l2},
                                  {"bias_terms", o.bias_terms},
                                  {"learning_rate", o.learning_rate},
                                  {"batch_size", o.batch_size},
                                  {"epochs", o.epochs},
                                  {"validation_fraction", o.validation_fraction},
                                  {"negatives", o.negatives},
                                  {"lazy_embedding_updates", o.lazy_embedding_updates},
                                  {"unseen_fallback", o.unseen_fallback},
                                  {"mean_init", o.mean_init},
                                  {"dense_init", cfnet::to_string(o.dense_init)},
                                  {"refit", o.refit},
                                  {"refit_epochs", refit_epochs}};
            if (o.early_stopping)
                cfg["early_stopping"] = {{"monitor", o.early_stopping->monitor}, {"patience", o.early_stopping->patience}};
            out["config"] = cfg;
            out["data"] = {{"train", train.nnz()}, {"test", test.nnz()}, {"users", train.n_users()},
                           {"items", train.n_items()}};
            out["history"] = nlohmann::json::parse(hist.str());
            if (rating) out["rmse"] = rating->rmse, out["mae"] = rating->mae;
            auto rj = [](const cfnet::RankingReport& r) {
                return nlohmann::json{{"precision@10", r.precision}, {"recall@10", r.recall}, {"ndcg@10", r.ndcg},
                                      {"map@10", r.map},          {"hit_rate@10", r.hit_rate}, {"users", r.users_evaluated}};
            };
            out["ranking"] = rj(rank);
            out["ranking_most_popular"] = rj(rank_pop);
            out["ranking_relevance"] = implicit ? "all held-out pairs" : "rating >= 4";
            out["seconds"] = {{"load_split", t_load}, {"train", t_train}, {"rmse", t_rmse}, {"full_scoring_ranking", t_rank}};
            std::ofstream(json_path) << out.dump(2) << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "neural_cf_movielens: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
