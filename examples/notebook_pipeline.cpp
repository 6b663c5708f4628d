// The notebook, end to end, on MovieLens 100K — section by section, in the notebook's order.
//
//   notebook_pipeline [--data DIR|synthetic] [--split per-user|u1..u5|FILE] [--seed N] [--json FILE]
//
// Section 1-2 of the notebook: load the ratings, show their shape and head, count users and items.
// Section 3: the per-user 20% holdout. Then the non-neural reference points every model is judged
// against: global mean, user+item bias and most-popular, scored with RMSE/MAE and top-10 ranking
// metrics under the leak-free protocol of docs/evaluation.md.
#include "example_support.hpp"

#include <cfnet/baselines.hpp>
#include <cfnet/metrics.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"cfnet: the MovieLens 100K notebook pipeline"};
    std::string data, split = "per-user", json_path;
    std::uint64_t seed = 42;
    app.add_option("--data", data, "MovieLens 100K directory, or 'synthetic' (default: ./data/ml-100k)");
    app.add_option("--split", split, "per-user | u1..u5 | FILE of held-out 'user item rating' lines")
        ->capture_default_str();
    app.add_option("--seed", seed, "seed of every random choice")->capture_default_str();
    app.add_option("--json", json_path, "write the configuration and results as JSON to FILE");
    CLI11_PARSE(app, argc, argv);

    try {
        nlohmann::json out;
        const auto t0 = std::chrono::steady_clock::now();
        auto w = examples::load_workload(data, split, seed);
        const auto& all = w.data.ratings;
        const double t_load = examples::seconds_since(t0);

        std::cout << "== 1. Data (" << w.data_source << ", " << w.data.variant << ")\n"
                  << "ratings shape: (" << all.nnz() << ", " << (all.has_timestamps() ? 4 : 3) << ")\n"
                  << "   user_id  item_id  rating  timestamp\n";
        for (cfnet::index_type u = 0, shown = 0; u < all.n_users() && shown < 5; ++u) {
            const auto items = all.user_items(u);
            for (std::size_t k = 0; k < items.size() && shown < 5; ++k, ++shown)
                std::cout << std::setw(10) << all.users().id(u) << std::setw(9) << all.items().id(items[k])
                          << std::setw(8) << all.user_ratings(u)[k] << std::setw(11)
                          << (all.has_timestamps() ? all.user_timestamps(u)[k] : 0) << "\n";
        }
        std::cout << "users: " << all.n_users() << ", items: " << all.n_items() << ", density "
                  << std::setprecision(3) << 100 * all.density() << "%\n";

        const auto& train = w.split.train;
        const auto& test = w.split.test;
        std::size_t users_in_test = 0;
        for (cfnet::index_type u = 0; u < test.n_users(); ++u) users_in_test += test.user_count(u) > 0;
        std::cout << "\n== 3. Split '" << w.split_name << "' (seed " << seed << ")\n"
                  << "train ratings: " << train.nnz() << ", test ratings: " << test.nnz() << " ("
                  << users_in_test << " users with held-out ratings)\n";

        std::cout << "\n== Baselines (leak-free: fitted on train, scored on test)\n";
        const auto t1 = std::chrono::steady_clock::now();
        cfnet::GlobalMean<float> mean;
        mean.fit(train);
        cfnet::BiasBaseline<float> bias;
        bias.fit(train);
        cfnet::MostPopular<float> pop;
        pop.fit(train);
        cfnet::RankingOptions ropt;
        ropt.relevance_threshold = 4.0;
        const auto r_mean = cfnet::evaluate_rating(test, [&](auto u, auto i) { return mean.predict(u, i); });
        const auto r_bias = cfnet::evaluate_rating(test, [&](auto u, auto i) { return bias.predict(u, i); });
        const auto k_bias = cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { bias.score_items(u, s); }, ropt);
        const auto k_pop = cfnet::evaluate_ranking(train, test, 10, [&](auto u, float* s) { pop.score_items(u, s); }, ropt);
        const double t_base = examples::seconds_since(t1);

        std::printf("%-14s %8s %8s %8s %8s %8s\n", "model", "RMSE", "MAE", "P@10", "R@10", "NDCG@10");
        std::printf("%-14s %8.4f %8.4f %8s %8s %8s\n", "global mean", r_mean.rmse, r_mean.mae, "-", "-", "-");
        std::printf("%-14s %8.4f %8.4f %8.4f %8.4f %8.4f\n", "user+item bias", r_bias.rmse, r_bias.mae,
                    k_bias.precision, k_bias.recall, k_bias.ndcg);
        std::printf("%-14s %8s %8s %8.4f %8.4f %8.4f\n", "most popular", "-", "-", k_pop.precision, k_pop.recall,
                    k_pop.ndcg);
        std::cout << "(ranking: relevant = held-out rating >= 4, candidates = items unrated in train, averaged over "
                  << k_pop.users_evaluated << " users)\n";
        std::printf("\ntimes: load + split %.3f s, baselines %.3f s\n", t_load, t_base);

        if (!json_path.empty()) {
            out["config"] = {{"data", w.data_source}, {"split", w.split_name}, {"seed", seed}};
            out["data"] = {{"ratings", all.nnz()}, {"users", all.n_users()}, {"items", all.n_items()},
                           {"train", train.nnz()}, {"test", test.nnz()}};
            auto rank = [](const cfnet::RankingReport& r) {
                return nlohmann::json{{"precision@10", r.precision}, {"recall@10", r.recall}, {"ndcg@10", r.ndcg},
                                      {"users", r.users_evaluated}};
            };
            out["baselines"] = {{"global_mean", {{"rmse", r_mean.rmse}, {"mae", r_mean.mae}}},
                                {"bias", {{"rmse", r_bias.rmse}, {"mae", r_bias.mae}, {"ranking", rank(k_bias)}}},
                                {"most_popular", {{"ranking", rank(k_pop)}}}};
            out["seconds"] = {{"load_split", t_load}, {"baselines", t_base}};
            std::ofstream(json_path) << out.dump(2) << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "notebook_pipeline: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
