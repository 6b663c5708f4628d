// The notebook, end to end, on MovieLens 100K — section by section, in the notebook's order.
//
//   notebook_pipeline [--data DIR|synthetic] [--split per-user|stratified-item|u1..u5|FILE] [--seed N]
//                     [--epochs-ae N] [--epochs-ncf N] [--json FILE] [--quiet]
//
//  1. load the ratings: shape and head              2. count users and items
//  3. the per-user 20% holdout (users with >= 5 ratings), with the per-user counts
//     + the non-neural reference points: global mean, user+item bias, most popular
//  4. the autoencoder (users x items input, read as sparse rows; 512-256-64-256-512 ReLU, linear out)
//  5. its training (loss at epochs 1, 5, 10, 15, 20), its RMSE — leak-free (input = the training
//     ratings) AND the notebook's leaky protocol (input = the full matrix, test ratings included),
//     side by side — and the top-10 titles for user index 0 with their scores
//  6. the neural collaborative filtering model (embeddings 32, MLP 128-64, 20% validation)
//  7. its training (loss and val_loss per epoch)   8. its RMSE and top-10 for user index 0
//  9. the comparison: RMSE/MAE and Precision/Recall/NDCG@10 of both models next to the baselines,
//     and the wall time of each stage.
//
// Without --data and without ./data/ml-100k (or ../shared/data/ml-100k) it downloads MovieLens 100K
// into ./data (cmake/fetch_movielens.cmake, MD5-checked); offline it says how to point it at a local
// copy; --data synthetic runs everything on cfnet's MovieLens-100K-shaped generator.
// Ranking protocol (docs/evaluation.md): relevant = held-out rating >= 4, candidates = items the
// user did not rate in train, means over users with at least one relevant item.
#include "example_support.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/train.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json ranking_json(const cfnet::RankingReport& r) {
    return {{"precision@10", r.precision}, {"recall@10", r.recall}, {"ndcg@10", r.ndcg},
            {"hit_rate@10", r.hit_rate},   {"map@10", r.map},       {"users", r.users_evaluated}};
}

nlohmann::json history_json(const cfnet::History& h) {
    std::ostringstream os;
    h.write_json(os);
    return nlohmann::json::parse(os.str());
}

/// Prints the top-k list with titles and returns it as JSON.
nlohmann::json print_top(const std::vector<cfnet::Recommendation<float>>& top, const examples::Workload& w) {
    nlohmann::json out = nlohmann::json::array();
    const auto& train = w.split.train;
    for (std::size_t k = 0; k < top.size(); ++k) {
        const auto title = examples::title_of(w.data.items, train, top[k].item);
        std::printf("%3zu. %-62s %7.3f\n", k + 1, title.c_str(), static_cast<double>(top[k].score));
        out.push_back({{"rank", k + 1},
                       {"item_id", train.items().id(top[k].item)},
                       {"title", title},
                       {"score", top[k].score}});
    }
    return out;
}

void print_row(const char* name, const std::optional<cfnet::RatingReport>& r,
               const std::optional<cfnet::RankingReport>& k) {
    auto num = [](std::optional<double> v) {
        char buf[32];
        if (v) std::snprintf(buf, sizeof buf, "%8.4f", *v);
        else std::snprintf(buf, sizeof buf, "%8s", "-");
        return std::string(buf);
    };
    std::printf("%-34s %s %s %s %s %s\n", name, num(r ? std::optional<double>(r->rmse) : std::nullopt).c_str(),
                num(r ? std::optional<double>(r->mae) : std::nullopt).c_str(),
                num(k ? std::optional<double>(k->precision) : std::nullopt).c_str(),
                num(k ? std::optional<double>(k->recall) : std::nullopt).c_str(),
                num(k ? std::optional<double>(k->ndcg) : std::nullopt).c_str());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"cfnet: the MovieLens 100K notebook pipeline (autoencoder + neural CF, leak-free evaluation)"};
    std::string data, split = "per-user", json_path;
    std::uint64_t seed = 42;
    int epochs_ae = 20, epochs_ncf = 10;
    bool quiet = false;
    app.add_option("--data", data,
                   "MovieLens 100K directory, or 'synthetic' (default: ./data/ml-100k, downloaded when missing)");
    app.add_option("--split", split, examples::split_choices())->capture_default_str();
    app.add_option("--seed", seed, "seed of every random choice (split, weights, shuffles)")->capture_default_str();
    app.add_option("--epochs-ae", epochs_ae, "autoencoder epochs (the notebook: 20)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--epochs-ncf", epochs_ncf, "neural CF epochs (the notebook: 10)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--json", json_path, "write the configuration, histories, metrics and times as JSON to FILE");
    app.add_flag("--quiet", quiet, "no training progress (the results are still printed)");
    CLI11_PARSE(app, argc, argv);

    try {
        nlohmann::json out;
        nlohmann::json seconds;
        const auto t_start = Clock::now();

        // ---- 1-2. Data ------------------------------------------------------------------------
        auto t = Clock::now();
        auto w = examples::load_workload(data, split, seed);
        const auto& all = w.data.ratings;
        const auto& train = w.split.train;
        const auto& test = w.split.test;
        seconds["load_split"] = examples::seconds_since(t);

        examples::print_ratings_overview(std::cout, w);

        // ---- 3. Split -------------------------------------------------------------------------
        std::size_t users_in_test = 0, users_whole = 0, min_test = all.nnz(), max_test = 0;
        for (cfnet::index_type u = 0; u < test.n_users(); ++u) {
            const std::size_t c = test.user_count(u);
            if (c == 0) {
                users_whole += train.user_count(u) > 0;
                continue;
            }
            ++users_in_test;
            min_test = std::min(min_test, c);
            max_test = std::max(max_test, c);
        }
        std::cout << "\n== 3. Split '" << w.split_name << "' (seed " << seed << ")\n"
                  << "train ratings: " << train.nnz() << ", test ratings: " << test.nnz() << "\n"
                  << "users with held-out ratings: " << users_in_test << " (" << min_test << " to " << max_test
                  << " each), users kept whole in train: " << users_whole << "\n"
                  << "   user_id   total   train    test\n";
        for (cfnet::index_type u = 0; u < std::min<std::size_t>(5, train.n_users()); ++u)
            std::cout << std::setw(10) << train.users().id(u) << std::setw(8)
                      << train.user_count(u) + test.user_count(u) << std::setw(8) << train.user_count(u)
                      << std::setw(8) << test.user_count(u) << "\n";

        // ---- Baselines ------------------------------------------------------------------------
        t = Clock::now();
        cfnet::GlobalMean<float> mean;
        mean.fit(train);
        cfnet::BiasBaseline<float> bias;
        bias.fit(train);
        cfnet::MostPopular<float> pop;
        pop.fit(train);
        const auto ropt = cfnet::RankingOptions().threshold(4.0);
        const auto r_mean = cfnet::evaluate_rating(test, [&](auto u, auto i) { return mean.predict(u, i); });
        const auto r_bias = cfnet::evaluate_rating(test, [&](auto u, auto i) { return bias.predict(u, i); });
        const auto k_bias =
            cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { bias.score_items(u, s); }, ropt);
        const auto k_pop =
            cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { pop.score_items(u, s); }, ropt);
        seconds["baselines"] = examples::seconds_since(t);
        std::printf("\nbaselines (fitted on train): global mean RMSE %.4f, user+item bias RMSE %.4f, "
                    "most popular P@10 %.4f\n",
                    r_mean.rmse, r_bias.rmse, k_pop.precision);

        // ---- 4-5. Autoencoder -----------------------------------------------------------------
        cfnet::AutoencoderOptions ae_opt;
        ae_opt.epochs = epochs_ae;
        ae_opt.seed = seed;
        cfnet::AutoencoderCF<float> ae(ae_opt);
        std::cout << "\n== 4. Autoencoder: input " << train.n_users() << " users x " << train.n_items()
                  << " items (sparse rows, never a dense matrix)\nlayers: " << train.n_items();
        for (auto h : ae_opt.hidden) std::cout << " -> " << h;
        std::cout << " -> " << train.n_items() << " (" << cfnet::to_string(ae_opt.hidden_activation) << " hidden, "
                  << cfnet::to_string(ae_opt.output_activation) << " output), masked MSE, Adam lr "
                  << ae_opt.learning_rate << ", batch " << ae_opt.batch_size << "\n";

        std::cout << "\n== 5. Autoencoder training (" << epochs_ae << " epochs)\n";
        cfnet::ProgressBar ae_bar(stdout, std::nullopt, "autoencoder");
        std::vector<cfnet::Callback*> ae_cb;
        if (!quiet) ae_cb.push_back(&ae_bar);
        t = Clock::now();
        const cfnet::History ae_hist = ae.fit(train, ae_cb);
        seconds["autoencoder_train"] = examples::seconds_since(t);
        for (const auto& e : ae_hist.epochs)
            if (e.epoch == 1 || e.epoch % 5 == 0 || e.epoch == epochs_ae)
                std::printf("autoencoder epoch %3d  loss %.4f  (%.3f s)\n", e.epoch, e.loss, e.seconds);

        t = Clock::now();
        const auto pred_free = ae.predict(train, test);
        const auto pred_leaky = ae.predict(all, test);
        auto aligned = [](const std::vector<float>& p) {
            return [&p, k = std::size_t(0)](cfnet::index_type, cfnet::index_type) mutable { return p[k++]; };
        };
        const auto r_ae = cfnet::evaluate_rating(test, aligned(pred_free));
        const auto r_ae_leaky = cfnet::evaluate_rating(test, aligned(pred_leaky));
        const auto k_ae = cfnet::evaluate_ranking(train, test, 10, ae.make_scorer(train), ropt);
        seconds["autoencoder_evaluate"] = examples::seconds_since(t);
        std::printf("autoencoder RMSE, leak-free (input = training ratings):                    %.4f\n", r_ae.rmse);
        std::printf("autoencoder RMSE, LEAKY (notebook protocol: input = full matrix incl. test): %.4f\n",
                    r_ae_leaky.rmse);

        std::cout << "\ntop-10 for user index 0 (user id " << train.users().id(0) << "), autoencoder, unrated items:\n";
        const auto ae_top = print_top(ae.recommend(train, 0, 10), w);

        // ---- 6-8. Neural collaborative filtering ----------------------------------------------
        cfnet::NeuralCFOptions ncf_opt;
        ncf_opt.epochs = epochs_ncf;
        ncf_opt.seed = seed;
        cfnet::NeuralCF<float> ncf(ncf_opt);
        std::cout << "\n== 6. Neural CF: " << train.nnz() << " training pairs, embeddings " << ncf_opt.embedding_dim
                  << ", MLP";
        for (auto h : ncf_opt.hidden) std::cout << " " << h;
        std::cout << ", MSE, Adam lr " << ncf_opt.learning_rate << ", batch " << ncf_opt.batch_size << ", "
                  << 100 * ncf_opt.validation_fraction << "% of the pairs for validation\n";

        std::cout << "\n== 7. Neural CF training (" << epochs_ncf << " epochs)\n";
        cfnet::ProgressBar ncf_bar(stdout, std::nullopt, "neural_cf");
        std::vector<cfnet::Callback*> ncf_cb;
        if (!quiet) ncf_cb.push_back(&ncf_bar);
        t = Clock::now();
        const cfnet::History ncf_hist = ncf.fit(train, ncf_cb);
        seconds["neural_cf_train"] = examples::seconds_since(t);
        if (quiet)  // otherwise the progress lines above already show each epoch's loss and val_loss
            for (const auto& e : ncf_hist.epochs)
                std::printf("neural_cf epoch %3d  loss %.4f  val_loss %.4f  (%.3f s)\n", e.epoch, e.loss,
                            e.metric("val_loss").value_or(std::nan("")), e.seconds);

        std::cout << "\n== 8. Neural CF evaluation\n";
        t = Clock::now();
        const auto r_ncf = cfnet::evaluate_rating(test, [&](auto u, auto i) { return ncf.predict(u, i); });
        const auto k_ncf =
            cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { ncf.score_items(u, s); }, ropt);
        seconds["neural_cf_evaluate"] = examples::seconds_since(t);
        std::printf("neural_cf RMSE: %.4f\n", r_ncf.rmse);
        std::cout << "\ntop-10 for user index 0 (user id " << train.users().id(0) << "), neural CF, unrated items:\n";
        const auto ncf_top = print_top(ncf.recommend(0, 10), w);

        // ---- 9. Summary -----------------------------------------------------------------------
        seconds["total"] = examples::seconds_since(t_start);
        std::cout << "\n== 9. Summary (split '" << w.split_name << "', " << test.nnz() << " held-out ratings; ranking: "
                  << k_pop.users_evaluated << " users with a held-out rating >= 4, unrated items only)\n";
        std::printf("%-34s %8s %8s %8s %8s %8s\n", "model", "RMSE", "MAE", "P@10", "R@10", "NDCG@10");
        print_row("global mean", r_mean, std::nullopt);
        print_row("user+item bias", r_bias, k_bias);
        print_row("most popular", std::nullopt, k_pop);
        print_row("autoencoder (leak-free)", r_ae, k_ae);
        print_row("autoencoder (LEAKY, notebook)", r_ae_leaky, std::nullopt);
        print_row("neural CF (MLP)", r_ncf, k_ncf);
        std::printf("\nwall time: load + split %.2f s, baselines %.2f s, autoencoder train %.2f s + evaluate %.2f s, "
                    "neural CF train %.2f s + evaluate %.2f s, total %.2f s\n",
                    seconds["load_split"].get<double>(), seconds["baselines"].get<double>(),
                    seconds["autoencoder_train"].get<double>(), seconds["autoencoder_evaluate"].get<double>(),
                    seconds["neural_cf_train"].get<double>(), seconds["neural_cf_evaluate"].get<double>(),
                    seconds["total"].get<double>());

        if (!json_path.empty()) {
            auto rating = [](const cfnet::RatingReport& r) {
                return nlohmann::json{{"rmse", r.rmse}, {"mae", r.mae}, {"count", r.count}};
            };
            out["config"] = {{"data", w.data_source}, {"variant", w.data.variant}, {"split", w.split_name},
                             {"seed", seed},          {"epochs_ae", epochs_ae},    {"epochs_ncf", epochs_ncf}};
            out["data"] = {{"ratings", all.nnz()},   {"users", all.n_users()}, {"items", all.n_items()},
                           {"train", train.nnz()},   {"test", test.nnz()},     {"users_in_test", users_in_test},
                           {"users_whole_in_train", users_whole}};
            out["ranking_protocol"] = {{"k", 10},
                                       {"relevance", "held-out rating >= 4"},
                                       {"candidates", "items unrated in train"},
                                       {"users", k_pop.users_evaluated}};
            out["baselines"] = {{"global_mean", rating(r_mean)},
                                {"bias", {{"rating", rating(r_bias)}, {"ranking", ranking_json(k_bias)}}},
                                {"most_popular", {{"ranking", ranking_json(k_pop)}}}};
            out["autoencoder"] = {{"history", history_json(ae_hist)},
                                  {"rating", rating(r_ae)},
                                  {"rating_leaky_notebook_protocol", rating(r_ae_leaky)},
                                  {"ranking", ranking_json(k_ae)},
                                  {"top10_user0", ae_top}};
            out["neural_cf"] = {{"history", history_json(ncf_hist)},
                                {"rating", rating(r_ncf)},
                                {"ranking", ranking_json(k_ncf)},
                                {"top10_user0", ncf_top}};
            out["seconds"] = seconds;
            std::ofstream os(json_path);
            os << out.dump(2) << "\n";
            if (!os.flush()) throw cfnet::IoError("notebook_pipeline: cannot write '" + json_path + "'");
        }
    } catch (const std::exception& e) {
        std::cerr << "notebook_pipeline: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
