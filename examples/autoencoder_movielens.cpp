// The notebook's autoencoder on MovieLens 100K, sections 1-5, with cfnet::AutoencoderCF.
//
//   autoencoder_movielens [--data DIR|synthetic] [--split per-user|u1..u5|FILE] [--seed N]
//                         [--preset notebook|autorec|autorec-ensemble] [--epochs N]
//                         [--hidden 512,256,64,256,512]
//                         [--lr X] [--batch N] [--item-based] [--input-dropout X]
//                         [--hidden-dropout X] [--l2 X] [--lambda X] [--lazy] [--clamp]
//                         [--fallback] [--weights W1,W2,W3] [--validate-on-train F] [--json FILE]
//
// --preset notebook (default) is the notebook's model; --preset autorec is the accuracy preset
// (AutoencoderOptions::autorec(): I-AutoRec, 500 sigmoid units, full-batch L-BFGS, with lambda,
// residual-or-plain and the iteration count chosen on a validation part of the training data;
// --epochs is then the number of L-BFGS iterations and --lambda its L2 weight, and either one
// given is fixed rather than chosen). Options given explicitly override the preset's values. --preset autorec-ensemble is the averaging preset
// (AutoencoderEnsemble::autorec_ensemble(), include/cfnet/ensemble.hpp: 0.55 x I-AutoRec + 0.25 x U-AutoRec,
// both L-BFGS, + 0.2 x a denoising item autoencoder trained with Adam); only --seed (every member's) and
// --weights apply to it.
// --validate-on-train F replaces the split by a seeded random F of its TRAINING ratings
// (random_split(train, F, 7)), trained on the rest: for choosing hyper-parameters without the test.
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
#include <cfnet/ensemble.hpp>
#include <cfnet/metrics.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
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

std::vector<double> parse_doubles(const std::string& s) {
    std::vector<double> out;
    std::stringstream is(s);
    for (std::string tok; std::getline(is, tok, ',');) out.push_back(std::stod(tok));
    return out;
}


/// Writes `out` (whose "config" the caller has set) with the data counts and the results both
/// paths report, to `path`.
void write_results_json(nlohmann::json out, const std::string& path, const examples::Workload& w,
                        const cfnet::RatingReport& free, const cfnet::RatingReport& leaky,
                        const cfnet::RankingReport& ranking, const nlohmann::json& top10, double t_load,
                        double t_train, double t_eval) {
    const auto& all = w.data.ratings;
    out["data"] = {{"ratings", all.nnz()}, {"users", all.n_users()}, {"items", all.n_items()},
                   {"train", w.split.train.nnz()}, {"test", w.split.test.nnz()}};
    out["rmse"] = free.rmse;
    out["mae"] = free.mae;
    out["rmse_leaky_notebook_protocol"] = leaky.rmse;
    out["precision@10"] = ranking.precision;
    out["recall@10"] = ranking.recall;
    out["ranking_users"] = ranking.users_evaluated;
    out["top10_user0"] = top10;
    out["seconds"] = {{"load_split", t_load}, {"train", t_train}, {"evaluate", t_eval}};
    std::ofstream(path) << out.dump(2) << "\n";
}

/// --preset autorec-ensemble: fit the averaging preset, print and write the same figures.
int run_ensemble(const examples::Workload& w, double t_load, std::uint64_t seed, const std::string& weights,
                 const std::string& json_path) {
    const auto& all = w.data.ratings;
    const auto& train = w.split.train;
    const auto& test = w.split.test;
    auto preset = cfnet::AutoencoderEnsemble<float>::autorec_ensemble();
    std::vector<cfnet::AutoencoderOptions> members;
    for (std::size_t k = 0; k < preset.size(); ++k) members.push_back(preset.member(k).options());
    for (auto& o : members) o.seed = seed;
    std::vector<double> wts = weights.empty() ? preset.weights() : parse_doubles(weights);
    cfnet::AutoencoderEnsemble<float> ens(members, wts);
    if (preset.clamp_min()) ens.clamp(*preset.clamp_min(), *preset.clamp_max());

    std::cout << "\n== 4. Averaging preset: " << ens.size() << " autoencoders\n";
    for (std::size_t k = 0; k < ens.size(); ++k) {
        const auto& o = members[k];
        const bool ib = o.orientation == cfnet::Orientation::item_based;
        std::cout << "  member " << k << " (weight " << wts[k] << "): " << (ib ? "item-based" : "user-based") << ", "
                  << (ib ? all.n_users() : all.n_items());
        for (auto h : o.hidden) std::cout << " -> " << h;
        std::cout << " (" << cfnet::to_string(o.hidden_activation) << "), " << cfnet::to_string(o.solver);
        if (o.solver == cfnet::Solver::lbfgs) std::cout << " lambda " << o.l2_lambda;
        std::cout << ", " << o.epochs << (o.solver == cfnet::Solver::lbfgs ? " iterations" : " epochs") << "\n";
    }

    std::cout << "\n== 5. Training\n";
    const auto t1 = std::chrono::steady_clock::now();
    const auto histories = ens.fit(train);
    const double t_train = examples::seconds_since(t1);
    for (std::size_t k = 0; k < histories.size(); ++k) {
        double seconds = 0;
        for (const auto& e : histories[k].epochs) seconds += e.seconds;
        std::printf("member %zu: %zu %s, final loss %.4f, %.3f s\n", k, histories[k].size(),
                    members[k].solver == cfnet::Solver::lbfgs ? "iterations" : "epochs", histories[k].epochs.back().loss,
                    seconds);
    }
    std::printf("training: %.3f s\n", t_train);

    const auto t2 = std::chrono::steady_clock::now();
    auto aligned = [](const std::vector<float>& p) {
        return [&p, k = std::size_t(0)](cfnet::index_type, cfnet::index_type) mutable { return p[k++]; };
    };
    std::vector<double> member_rmse;
    for (std::size_t k = 0; k < ens.size(); ++k) {
        const auto pk = ens.member(k).predict(train, test);
        member_rmse.push_back(cfnet::evaluate_rating(test, aligned(pk)).rmse);
    }
    const auto pred = ens.predict(train, test);
    const auto pred_leaky = ens.predict(all, test);
    const auto r_free = cfnet::evaluate_rating(test, aligned(pred));
    const auto r_leaky = cfnet::evaluate_rating(test, aligned(pred_leaky));
    const auto ranking =
        cfnet::evaluate_ranking(train, test, 10, ens.make_scorer(train), cfnet::RankingOptions().threshold(4.0));
    const double t_eval = examples::seconds_since(t2);
    for (std::size_t k = 0; k < ens.size(); ++k)
        std::printf("\nmember %zu alone: RMSE (leak-free) %.4f", k, member_rmse[k]);
    std::printf("\nRMSE (leak-free: input = training ratings)            %.4f   MAE %.4f\n", r_free.rmse, r_free.mae);
    std::printf("RMSE (LEAKY, the notebook's protocol: input = full matrix) %.4f\n", r_leaky.rmse);
    std::printf("Precision@10 %.4f  Recall@10 %.4f  (relevant = test rating >= 4, %zu users)\n", ranking.precision,
                ranking.recall, ranking.users_evaluated);

    nlohmann::json top_json = nlohmann::json::array();
    {
        const cfnet::index_type u0 = 0;
        const auto items = train.user_items(u0);
        std::vector<float> scores(train.n_items());
        ens.make_scorer(train)(u0, scores.data());
        std::vector<cfnet::index_type> order;
        for (cfnet::index_type i = 0; i < train.n_items(); ++i)
            if (!std::binary_search(items.begin(), items.end(), i)) order.push_back(i);
        const std::size_t n_top = std::min<std::size_t>(10, order.size());
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_top), order.end(),
                          [&](cfnet::index_type a, cfnet::index_type b) {
                              return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
                          });
        std::cout << "\nTop-10 for user index 0 (user id " << all.users().id(u0) << ", " << items.size()
                  << " training ratings), unrated items only:\n";
        for (std::size_t r = 0; r < n_top; ++r) {
            const auto id = all.items().id(order[r]);
            const std::string title = w.data.items.contains(id) ? w.data.items.title(id) : "?";
            std::printf("  %5.2f  %s\n", static_cast<double>(scores[order[r]]), title.c_str());
            top_json.push_back({{"item_id", id}, {"title", title}, {"score", scores[order[r]]}});
        }
    }
    std::printf("\ntimes: load + split %.3f s, train %.3f s, evaluate %.3f s\n", t_load, t_train, t_eval);

    if (!json_path.empty()) {
        nlohmann::json out, mem = nlohmann::json::array();
        for (std::size_t k = 0; k < ens.size(); ++k) {
            const auto& o = members[k];
            nlohmann::json hist = nlohmann::json::array();
            for (const auto& e : histories[k].epochs)
                hist.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"seconds", e.seconds}});
            mem.push_back({{"weight", wts[k]},
                           {"item_based", o.orientation == cfnet::Orientation::item_based},
                           {"solver", cfnet::to_string(o.solver)},
                           {"hidden", o.hidden},
                           {"hidden_activation", cfnet::to_string(o.hidden_activation)},
                           {"epochs", o.epochs},
                           {"lambda", o.l2_lambda},
                           {"rmse_alone", member_rmse[k]},
                           {"history", hist}});
        }
        out["config"] = {{"data", w.data_source}, {"split", w.split_name}, {"seed", seed},
                         {"preset", "autorec-ensemble"}, {"members", mem}};
        write_results_json(out, json_path, w, r_free, r_leaky, ranking, top_json, t_load, t_train, t_eval);
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"cfnet: the notebook's rating autoencoder on MovieLens 100K"};
    std::string data, split = "per-user", json_path, hidden = "512,256,64,256,512", preset = "notebook", weights;
    std::uint64_t seed = 42;
    int epochs = 20;
    double lr = 1e-3, in_drop = 0, hid_drop = 0, l2 = 0, lambda = 0, validate_fraction = 0;
    std::size_t batch = 32;
    bool item_based = false, lazy = false, clamp = false, fallback = false;
    app.add_option("--data", data, "MovieLens 100K directory, or 'synthetic' (default: ./data/ml-100k)");
    app.add_option("--split", split, "per-user | u1..u5 | FILE of held-out 'user item rating' lines")
        ->capture_default_str();
    app.add_option("--seed", seed, "seed of the split, the weights, the shuffling")->capture_default_str();
    app.add_option("--preset", preset,
                   "notebook (the notebook's model) | autorec (the accuracy preset) | autorec-ensemble (the averaging "
                   "preset)")
        ->check(CLI::IsMember({"notebook", "autorec", "autorec-ensemble"}))
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
    app.add_option("--weights", weights, "autorec-ensemble: the members' weights, e.g. 0.6,0.25,0.15");
    app.add_option("--validate-on-train", validate_fraction,
                   "evaluate on a seeded random fraction F of the TRAINING ratings, trained on the rest")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--json", json_path, "write the configuration and results as JSON to FILE");
    CLI11_PARSE(app, argc, argv);

    try {
        const auto t0 = std::chrono::steady_clock::now();
        auto w = examples::load_workload(data, split, seed);
        if (validate_fraction > 0) {
            auto part = cfnet::random_split(w.split.train, validate_fraction, 7);
            w.split = std::move(part);
            w.split_name += " (validation: " + std::to_string(validate_fraction) + " of its training ratings, seed 7)";
        }
        const auto& all = w.data.ratings;
        const auto& train = w.split.train;
        const auto& test = w.split.test;
        const double t_load = examples::seconds_since(t0);

        examples::print_ratings_overview(std::cout, w);
        std::cout << "\n== 3. Split '" << w.split_name << "'\ntrain ratings: " << train.nnz()
                  << ", test ratings: " << test.nnz() << "\n";

        if (preset == "autorec-ensemble") {
            for (const char* name : {"--hidden", "--epochs", "--lr", "--batch", "--input-dropout", "--hidden-dropout",
                                     "--l2", "--lambda", "--lazy", "--fallback", "--item-based", "--clamp"})
                if (app.count(name) > 0)
                    throw cfnet::InvalidArgument(std::string("--preset autorec-ensemble: ") + name +
                                                 " does not apply (only --seed and --weights do)");
            return run_ensemble(w, t_load, seed, weights, json_path);
        }

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
        if (clamp) opt.clamp(1.0, 5.0).clamp_to_training_range(false);
        opt.keep_fixed(given("--lambda") || given("--l2"), false, given("--epochs"));  // the rest: chosen on validation
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
        if (!model.selection().empty())
            std::printf("chosen on 10%% of each user's training ratings: lambda %g, %s, %d iterations\n",
                        model.options().l2_lambda, model.options().residual ? "residual" : "plain",
                        model.options().epochs);

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
            nlohmann::json hist = nlohmann::json::array();
            for (const auto& e : history.epochs)
                hist.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"seconds", e.seconds}});
            out["history"] = hist;
            write_results_json(out, json_path, w, r_free, r_leaky, ranking, top_json, t_load, t_train, t_eval);
        }
    } catch (const std::exception& e) {
        std::cerr << "autoencoder_movielens: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
