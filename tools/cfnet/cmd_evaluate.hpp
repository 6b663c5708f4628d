#pragma once
/// @file tools/cfnet/cmd_evaluate.hpp
/// `cfnet evaluate`: a model file + the data + the split -> RMSE/MAE on the held-out ratings and
/// Precision/Recall/NDCG/HitRate/MAP@K over the users with a relevant held-out item
/// (docs/evaluation.md). The model's input is the training part only (leak-free).
/// --threads N scores the users on N threads (0: all cores; the same metrics, bit for bit). Under
/// mpirun (2+ ranks, a build with MPI) every rank reads the data and makes the same split, scores
/// its block of users, the per-user results are gathered and rank 0 prints and writes: the same
/// output as one process (docs/distributed.md).

#include "cmd_train_distributed.hpp"
#include "common.hpp"
#include "models.hpp"

#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/evaluation.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/serialize.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfnet_cli {

struct EvaluateArgs {
    std::string model_file;
    std::string data;
    FileLayout layout;                     ///< default: the one recorded by `cfnet train`
    std::optional<std::string> split;      ///< default: the split recorded by `cfnet train`
    std::optional<std::uint64_t> seed;     ///< default: the seed recorded by `cfnet train`
    std::size_t k = 10;
    double threshold = 4.0;
    std::string json;
    int threads = 1;  ///< threads scoring the users (0: all cores)
};

/// The evaluate-only flags (cli.hpp's add_evaluate calls this): --threads.
inline void add_evaluate_options(CLI::App* s, EvaluateArgs& a) {
    s->add_option("--threads", a.threads, "threads scoring the users (0: all cores; the same metrics for any count)")
        ->capture_default_str()
        ->check(CLI::Range(0, cfnet::max_threads));
}

/// What `cfnet evaluate` measured.
struct Evaluation {
    std::string model;
    std::optional<cfnet::RatingReport> rating;  ///< absent for implicit-feedback models (their scores are logits)
    cfnet::RankingReport ranking;
};

namespace detail {

/// The test pairs of this rank's block of users (distributed::rank_block) as a matrix of the same
/// index space; their CSR order is a contiguous part of split.test's.
inline cfnet::RatingMatrix<float> test_block(const cfnet::RatingMatrix<float>& test,
                                             const cfnet::distributed::Communicator& comm) {
    const auto b = cfnet::distributed::rank_block(test.n_users(), cfnet::recommend_batch_unit, comm);
    const auto& rp = test.row_ptr();
    return test.filter([&](std::size_t q) { return q >= rp[b.begin] && q < rp[b.end]; });
}

/// Loads the model of type M from `path` and evaluates it through the recommender interface:
/// rating metrics when it predicts ratings, ranking metrics from its scorer; input = training data.
/// With `comm` (under mpirun) every rank scores its block of users and the results are gathered.
template <class M>
Evaluation evaluate_model(ModelType<M>, const std::string& path, const cfnet::Split<float>& split,
                          const std::string& split_name, std::size_t k, double threshold, int threads,
                          cfnet::distributed::Communicator* comm) {
    static_assert(cfnet::is_recommender_v<M>, "cfnet evaluate programs against the recommender interface");
    const M model = M::load(path);
    check_same_ids(model.item_map(), split.train.items(), "items", path, split_name);
    check_same_ids(user_map_or(model, split.train.users()), split.train.users(), "users", path, split_name);
    Evaluation e;
    e.model = ModelName<M>::value;
    if (model.predicts_ratings()) {
        // input = train: leak-free; under mpirun each rank predicts its users' pairs, gathered in order
        const std::vector<float> pred = comm ? comm->allgatherv(model.predict(split.train, test_block(split.test, *comm)))
                                             : model.predict(split.train, split.test);
        cfnet::RatingReport r;
        r.rmse = cfnet::rmse(pred, split.test.values());
        r.mae = cfnet::mae(pred, split.test.values());
        r.count = pred.size();
        e.rating = r;
    }
    auto scorers = cfnet::per_thread([&] { return model.make_scorer(split.train); });  // one per thread
    const auto opts = cfnet::RankingOptions().threshold(threshold).use_threads(threads);
    e.ranking = comm ? cfnet::distributed::evaluate_ranking_users(split.train, split.test, {k}, scorers, opts, *comm)[0]
                     : cfnet::evaluate_ranking(split.train, split.test, k, scorers, opts);
    return e;
}

}  // namespace detail

/// Runs `cfnet evaluate`. @throws cfnet::IoError for a missing/corrupt/wrong model or data file,
/// UsageError when no split is given and the model file records none.
inline int run_evaluate(const EvaluateArgs& a) {
    const cfnet::ModelFileInfo info = cfnet::read_model_info(a.model_file);
    const ModelKind kind = model_kind(info, a.model_file);
    const SplitChoice sc = resolve_split(info.metadata, a.model_file, a.split, a.seed, "evaluate");
    const examples::Workload w = load_data(a.data, with_recorded(a.layout, info.metadata, a.data), sc.split, sc.seed);
    if (w.split.test.empty()) throw cfnet::IoError("evaluate: --split " + sc.split + " holds out no rating");
    cfnet::distributed::Communicator* comm = DistributedSession::current();
    const Evaluation e = dispatch_model(kind, [&](auto type) {
        return detail::evaluate_model(type, a.model_file, w.split, sc.split, a.k, a.threshold, a.threads, comm);
    });
    if (comm && comm->rank() != 0) return exit_ok;  // rank 0 prints and writes
    const auto& r = e.ranking;
    std::cout << "model:      " << e.model << " (" << a.model_file << ")\n"
              << "data:       " << w.data_source << ", split " << sc.split << ", seed " << sc.seed << ": "
              << w.split.train.nnz() << " training, " << w.split.test.nnz() << " held-out ratings\n"
              << std::fixed << std::setprecision(4);
    if (e.rating)
        std::cout << "RMSE:       " << e.rating->rmse << "   (" << e.rating->count << " held-out ratings, input = training data)\n"
                  << "MAE:        " << e.rating->mae << '\n';
    else
        std::cout << "RMSE/MAE:   n/a (a ranking model: its scores are not ratings)\n";
    std::cout << "ranking:    top " << a.k << ", relevant = held-out rating >= " << std::setprecision(1) << a.threshold
              << ", " << r.users_evaluated << " users evaluated, " << r.users_skipped
              << " without a relevant held-out item skipped\n"
              << std::setprecision(4) << "Precision@" << a.k << ": " << r.precision << '\n'
              << "Recall@" << a.k << ":    " << r.recall << '\n'
              << "NDCG@" << a.k << ":      " << r.ndcg << '\n'
              << "HitRate@" << a.k << ":   " << r.hit_rate << '\n'
              << "MAP@" << a.k << ":       " << r.map << '\n';
    std::cout.unsetf(std::ios::floatfield);
    std::cout << std::setprecision(6);

    if (!a.json.empty()) {
        nlohmann::json j;
        j["model"] = e.model;
        j["model_file"] = a.model_file;
        j["data"] = w.data_source;
        j["split"] = sc.split;
        j["seed"] = sc.seed;
        j["train_ratings"] = w.split.train.nnz();
        j["test_ratings"] = w.split.test.nnz();
        if (e.rating)
            j["rating"] = {{"rmse", json_number(e.rating->rmse)}, {"mae", json_number(e.rating->mae)}, {"count", e.rating->count}};
        else
            j["rating"] = nullptr;
        j["ranking"] = {{"k", r.k},
                        {"threshold", a.threshold},
                        {"precision", json_number(r.precision)},
                        {"recall", json_number(r.recall)},
                        {"ndcg", json_number(r.ndcg)},
                        {"hit_rate", json_number(r.hit_rate)},
                        {"map", json_number(r.map)},
                        {"users_evaluated", r.users_evaluated},
                        {"users_skipped", r.users_skipped}};
        write_json_file(a.json, j);
    }
    return exit_ok;
}

}  // namespace cfnet_cli
