// The notebook's autoencoder on MovieLens 100K, sections 1-5, with cfnet::AutoencoderCF.
//
//   autoencoder_movielens [--data DIR|synthetic] [--split per-user|u1..u5|FILE] [--seed N]
//                         [--preset notebook|autorec] [--epochs N] [--hidden 512,256,64,256,512]
//                         [--lr X] [--batch N] [--item-based] [--input-dropout X]
//                         [--hidden-dropout X] [--l2 X] [--lambda X] [--lazy] [--clamp]
//                         [--fallback] [--json FILE]
//
// --preset notebook (default) is the notebook's model; --preset autorec is the accuracy preset
// (AutoencoderOptions::autorec(): I-AutoRec, 500 sigmoid units, full-batch L-BFGS; --epochs is
// then the number of L-BFGS iterations and --lambda its L2 weight). Options given explicitly
// override the preset's values.
//
// 1. load the ratings (shape, head)      2. count users and items
// 3. split (the notebook's per-user 20% holdout, a u1..u5 file, or the notebook's exact split:
//    --split ../shared/data/notebook-split/test.tsv)
// 4. the users x items input (never materialised: AutoencoderCF reads the sparse rows) and the model
// 5. train, print the loss at epochs 1, 5, 10, 15, 20, the RMSE on the held-out ratings, and the
//    top-10 titles for user index 0 with their predicted scores.
//
// RMSE is reported two ways (docs/evaluation.md): leak-free, the model's input being the training
// ratings only (the real figure), and the notebook's "leaky" protocol, whose input is the full
// matrix with the held-out ratings in it (reproduced only for comparison).
#include "example_support.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/metrics.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace {

std::vector<std::size_t> parse_sizes(const std::string& s) {
    std::vector<std::size_t> out;
    std::stringstream is(s);
    for (std::string tok; std::getline(is, tok, ',');) out.push_back(std::stoul(tok));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"cfnet: the notebook's rating autoencoder on MovieLens 100K"};
    std::string data, split = "per-user", json_path, hidden = "512,256,64,256,512", preset = "notebook";
    std::uint64_t seed = 42;
    int epochs = 20;
    double lr = 1e-3, in_drop = 0, hid_drop = 0, l2 = 0, lambda = 0;
    std::size_t batch = 32;
    bool item_based = false, lazy = false, clamp = false, fallback = false;
    app.add_option("--data", data, "MovieLens 100K directory, or 'synthetic' (default: ./data/ml-100k)");
    app.add_option("--split", split, "per-user | u1..u5 | FILE of held-out 'user item rating' lines")
        ->capture_default_str();
    app.add_option("--seed", seed, "seed of the split, the weights, the shuffling")->capture_default_str();
    app.add_option("--preset", preset, "notebook (the notebook's model) | autorec (the accuracy preset)")
        ->check(CLI::IsMember({"notebook", "autorec"}))
        ->capture_default_str();
    app.add_option("--lambda", lambda, "L2 weight of the L-BFGS (autorec) objective");
    app.add_option("--epochs", epochs, "training epochs")->capture_default_str();
    app.add_option("--hidden", hidden, "hidden layer widths")->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--batch", batch, "batch size")->capture_default_str();
    app.add_flag("--item-based", item_based, "I-AutoRec orientation (rows are items)");
    app.add_option("--input-dropout", in_drop, "denoising: input dropout rate")->capture_default_str();
    app.add_option("--hidden-dropout", hid_drop, "dropout on hidden layers")->capture_default_str();
    app.add_option("--l2", l2, "L2 (Adam coupled weight decay)")->capture_default_str();
    app.add_flag("--lazy", lazy, "lazy Adam (NOT exact: untouched rows keep value and moments)");
    app.add_flag("--clamp", clamp, "clamp predictions to the rating range [1, 5]");
    app.add_flag("--fallback", fallback, "score items unseen in training with a user+item bias baseline");
    app.add_option("--json", json_path, "write the configuration and results as JSON to FILE");
    CLI11_PARSE(app, argc, argv);

    try {
        const auto t0 = std::chrono::steady_clock::now();
        auto w = examples::load_workload(data, split, seed);
        const auto& all = w.data.ratings;
        const auto& train = w.split.train;
        const auto& test = w.split.test;
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
        std::cout << "\n== 2. Users and items\nusers: " << all.n_users() << ", items: " << all.n_items()
                  << ", density " << std::setprecision(3) << 100 * all.density() << "%\n";
        std::cout << "\n== 3. Split '" << w.split_name << "'\ntrain ratings: " << train.nnz()
                  << ", test ratings: " << test.nnz() << "\n";

        // the preset, then the options given on the command line
        cfnet::AutoencoderOptions opt =
            preset == "autorec" ? cfnet::AutoencoderOptions::autorec() : cfnet::AutoencoderOptions::notebook();
        auto given = [&](const char* name) { return app.count(name) > 0; };
        if (given("--hidden")) opt.hidden = parse_sizes(hidden);
        if (given("--epochs")) opt.epochs = epochs;
        if (given("--lr")) opt.learning_rate = lr;
        if (given("--batch")) opt.batch_size = batch;
        opt.seed = seed;
        if (given("--input-dropout")) opt.input_dropout = in_drop;
        if (given("--hidden-dropout")) opt.hidden_dropout = hid_drop;
        if (given("--l2")) opt.weight_decay = l2;
        if (given("--lambda")) opt.l2_lambda = lambda;
        if (lazy) opt.lazy_adam = true;
        if (fallback) opt.unseen_fallback = true;
        if (item_based) opt.item_based();
        if (clamp) opt.clamp(1.0, 5.0);
        cfnet::AutoencoderCF<float> model(opt);
        epochs = opt.epochs;
        item_based = opt.orientation == cfnet::Orientation::item_based;
        const bool is_lbfgs = opt.solver == cfnet::Solver::lbfgs;

        const std::size_t rows = item_based ? all.n_items() : all.n_users();
        const std::size_t units = item_based ? all.n_users() : all.n_items();
        std::cout << "\n== 4. Autoencoder input: " << rows << " x " << units << " ("
                  << (item_based ? "items x users, I-AutoRec" : "users x items, the notebook")
                  << "), read as sparse rows\nlayers: " << units;
        for (auto h : opt.hidden) std::cout << " -> " << h;
        std::cout << " -> " << units << " (" << cfnet::to_string(opt.hidden_activation) << " hidden, "
                  << cfnet::to_string(opt.output_activation) << " output), ";
        if (is_lbfgs)
            std::cout << "full-batch L-BFGS, lambda " << opt.l2_lambda << " (preset " << preset << ")\n";
        else
            std::cout << "Adam lr " << opt.learning_rate << ", batch " << opt.batch_size
                      << (opt.lazy_adam ? ", LAZY Adam" : ", exact Adam") << " (preset " << preset << ")\n";

        std::cout << "\n== 5. Training (" << epochs << (is_lbfgs ? " L-BFGS iterations" : " epochs") << ")\n";
        const auto t1 = std::chrono::steady_clock::now();
        const cfnet::History history = model.fit(train);
        const double t_train = examples::seconds_since(t1);
        for (const auto& e : history.epochs)
            if (e.epoch == 1 || (e.epoch <= 20 && e.epoch % 5 == 0) || e.epoch % 20 == 0 ||
                e.epoch == static_cast<int>(history.size()))
                std::printf("epoch %3d  loss %.4f  (%.3f s)\n", e.epoch, e.loss, e.seconds);
        std::printf("training: %.3f s (%.4f s/epoch)\n", t_train, t_train / static_cast<double>(history.size()));

        const auto t2 = std::chrono::steady_clock::now();
        const auto pred = model.predict(train, test);
        const auto pred_leaky = model.predict(all, test);
        auto aligned = [](const std::vector<float>& p) {
            return [&p, k = std::size_t(0)](cfnet::index_type, cfnet::index_type) mutable { return p[k++]; };
        };
        const auto r_free = cfnet::evaluate_rating(test, aligned(pred));
        const auto r_leaky = cfnet::evaluate_rating(test, aligned(pred_leaky));
        const auto ranking = cfnet::evaluate_ranking(train, test, 10, model.make_scorer(train),
                                                     cfnet::RankingOptions().threshold(4.0));
        const double t_eval = examples::seconds_since(t2);
        std::printf("\nRMSE (leak-free: input = training ratings)            %.4f   MAE %.4f\n", r_free.rmse,
                    r_free.mae);
        std::printf("RMSE (LEAKY, the notebook's protocol: input = full matrix) %.4f\n", r_leaky.rmse);
        std::printf("Precision@10 %.4f  Recall@10 %.4f  (relevant = test rating >= 4, %zu users)\n",
                    ranking.precision, ranking.recall, ranking.users_evaluated);

        nlohmann::json top_json = nlohmann::json::array();
        {
            const cfnet::index_type u0 = 0;
            const auto items = train.user_items(u0);
            const auto top = model.recommend(train, u0, 10);
            std::cout << "\nTop-10 for user index 0 (user id " << all.users().id(u0) << ", " << items.size()
                      << " training ratings), unrated items only:\n";
            for (const auto& r : top) {
                const auto id = all.items().id(r.item);
                const std::string title = w.data.items.contains(id) ? w.data.items.title(id) : "?";
                std::printf("  %5.2f  %s\n", static_cast<double>(r.score), title.c_str());
                top_json.push_back({{"item_id", id}, {"title", title}, {"score", r.score}});
            }
        }
        std::printf("\ntimes: load + split %.3f s, train %.3f s, evaluate %.3f s\n", t_load, t_train, t_eval);

        if (!json_path.empty()) {
            nlohmann::json out;
            out["config"] = {{"data", w.data_source},
                             {"split", w.split_name},
                             {"seed", seed},
                             {"preset", preset},
                             {"solver", cfnet::to_string(opt.solver)},
                             {"epochs", opt.epochs},
                             {"hidden", opt.hidden},
                             {"hidden_activation", cfnet::to_string(opt.hidden_activation)},
                             {"lr", opt.learning_rate},
                             {"batch", opt.batch_size},
                             {"item_based", item_based},
                             {"input_dropout", opt.input_dropout},
                             {"hidden_dropout", opt.hidden_dropout},
                             {"l2", opt.weight_decay},
                             {"lambda", opt.l2_lambda},
                             {"lazy_adam", opt.lazy_adam},
                             {"clamp", opt.clamp_min.has_value()},
                             {"fallback", opt.unseen_fallback}};
            out["data"] = {{"ratings", all.nnz()}, {"users", all.n_users()}, {"items", all.n_items()},
                           {"train", train.nnz()}, {"test", test.nnz()}};
            nlohmann::json hist = nlohmann::json::array();
            for (const auto& e : history.epochs)
                hist.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"seconds", e.seconds}});
            out["history"] = hist;
            out["rmse"] = r_free.rmse;
            out["mae"] = r_free.mae;
            out["rmse_leaky_notebook_protocol"] = r_leaky.rmse;
            out["precision@10"] = ranking.precision;
            out["recall@10"] = ranking.recall;
            out["ranking_users"] = ranking.users_evaluated;
            out["top10_user0"] = top_json;
            out["seconds"] = {{"load_split", t_load}, {"train", t_train}, {"evaluate", t_eval}};
            std::ofstream(json_path) << out.dump(2) << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "autoencoder_movielens: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
