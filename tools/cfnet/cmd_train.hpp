#pragma once
/// @file tools/cfnet/cmd_train.hpp
/// `cfnet train`: a preset plus hyper-parameter overrides, the data and the split -> a model file
/// (with the split recorded in its metadata) and, optionally, the training history.

#include "common.hpp"
#include "models.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/train.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cfnet_cli {

/// The options of `cfnet train`; `given` holds the long names of the options on the command line
/// (so that a preset's value is overridden only when asked, and an option of the other model is
/// a usage error rather than silently ignored).
struct TrainArgs {
    std::string model;   ///< "autoencoder" or "ncf"
    std::string preset = "notebook";
    std::string data;
    FileLayout layout;  ///< --columns, --sep, --header, --items, --item-columns (an interaction file)
    std::string split;
    std::uint64_t seed = 42;
    std::string out;
    std::string history;
    bool quiet = false;

    // shared hyper-parameters
    int epochs = 0;
    std::size_t batch_size = 0;
    double lr = 0;
    std::vector<std::size_t> hidden;
    double dropout = 0;
    double l2 = 0;
    bool lazy_adam = false;
    bool fallback = false;
    // autoencoder
    bool item_based = false;
    std::string activation;
    std::string output_activation;
    double input_dropout = 0;
    std::pair<double, double> clamp{0, 0};
    std::string solver;
    double l2_lambda = 0;
    // ncf
    std::string arch;
    std::string feedback;
    std::size_t embedding_dim = 0;
    double dense_l2 = 0;
    bool bias_terms = false;
    std::size_t negatives = 0;
    double validation_fraction = 0;
    bool mean_init = false;

    std::set<std::string> given;
    bool has(const std::string& name) const { return given.count(name) != 0; }
};

/// The options only one model understands (long names, as on the command line).
inline const std::vector<std::string>& autoencoder_only_options() {
    static const std::vector<std::string> v{"--item-based", "--activation", "--output-activation", "--input-dropout",
                                            "--clamp",      "--solver",     "--l2-lambda"};
    return v;
}
inline const std::vector<std::string>& ncf_only_options() {
    static const std::vector<std::string> v{"--arch",    "--feedback",            "--embedding-dim", "--dense-l2",
                                            "--bias-terms", "--negatives", "--validation-fraction", "--mean-init"};
    return v;
}

namespace detail {

inline void reject_options(const TrainArgs& a, const std::vector<std::string>& names, const char* other) {
    for (const auto& n : names)
        if (a.has(n)) throw UsageError("train: " + n + " applies to --model " + other + " only (this is --model " + a.model + ")");
}

template <class Options>
void validate_options(const Options& o) {
    try {
        o.validate();
    } catch (const cfnet::InvalidArgument& e) {
        throw UsageError(std::string("train: ") + e.what());
    }
}

inline cfnet::AutoencoderOptions autoencoder_options(const TrainArgs& a) {
    cfnet::AutoencoderOptions o;
    if (a.preset == "notebook")
        o = cfnet::AutoencoderOptions::notebook();
    else if (a.preset == "autorec")
        o = cfnet::AutoencoderOptions::autorec();
    else
        throw UsageError("train: --model autoencoder has the presets notebook and autorec, not '" + a.preset + "'");
    o.seed = a.seed;
    if (a.has("--epochs")) o.epochs = a.epochs;
    if (a.has("--batch-size")) o.batch_size = a.batch_size;
    if (a.has("--lr")) o.learning_rate = a.lr;
    if (a.has("--hidden")) o.hidden = a.hidden;
    if (a.has("--dropout")) o.hidden_dropout = a.dropout;
    if (a.has("--l2")) o.weight_decay = a.l2;
    if (a.has("--lazy-adam")) o.lazy_adam = a.lazy_adam;
    if (a.has("--fallback")) o.unseen_fallback = a.fallback;
    if (a.has("--item-based")) o.item_based(a.item_based);
    try {
        if (a.has("--activation")) o.hidden_activation = cfnet::activation_from_string(a.activation);
        if (a.has("--output-activation")) o.output_activation = cfnet::activation_from_string(a.output_activation);
    } catch (const cfnet::InvalidArgument& e) {
        throw UsageError(std::string("train: ") + e.what());
    }
    if (a.has("--input-dropout")) o.input_dropout = a.input_dropout;
    if (a.has("--clamp")) o.clamp(a.clamp.first, a.clamp.second);
    if (a.has("--solver")) o.solver = a.solver == "lbfgs" ? cfnet::Solver::lbfgs : cfnet::Solver::adam;
    if (a.has("--l2-lambda")) o.l2_lambda = a.l2_lambda;
    validate_options(o);
    return o;
}

inline cfnet::NeuralCFOptions ncf_options(const TrainArgs& a) {
    cfnet::NeuralCFOptions o;
    if (a.preset == "notebook")
        o = cfnet::NeuralCFOptions::notebook();
    else if (a.preset == "accurate")
        o = cfnet::NeuralCFOptions::accurate();
    else if (a.preset == "implicit")
        o = cfnet::NeuralCFOptions::implicit_ranking();
    else
        throw UsageError("train: --model ncf has the presets notebook, accurate and implicit, not '" + a.preset + "'");
    o.seed = a.seed;
    if (a.has("--epochs")) o.epochs = a.epochs;
    if (a.has("--batch-size")) o.batch_size = a.batch_size;
    if (a.has("--lr")) o.learning_rate = a.lr;
    if (a.has("--hidden")) o.hidden = a.hidden;
    if (a.has("--dropout")) o.dropout = a.dropout;
    if (a.has("--l2")) o.l2 = a.l2;
    if (a.has("--lazy-adam")) o.lazy_embedding_updates = a.lazy_adam;
    if (a.has("--fallback")) o.unseen_fallback = a.fallback;
    try {
        if (a.has("--arch")) o.architecture = cfnet::parse_architecture(a.arch);
        if (a.has("--feedback")) o.feedback = cfnet::parse_feedback(a.feedback);
    } catch (const cfnet::InvalidArgument& e) {
        throw UsageError(std::string("train: ") + e.what());
    }
    if (a.has("--embedding-dim")) o.embedding_dim = a.embedding_dim;
    if (a.has("--dense-l2")) o.dense_l2 = a.dense_l2;
    if (a.has("--bias-terms")) o.bias_terms = a.bias_terms;
    if (a.has("--negatives")) o.negatives = a.negatives;
    if (a.has("--validation-fraction")) o.validation_fraction = a.validation_fraction;
    if (a.has("--mean-init")) o.mean_init = a.mean_init;
    if (o.early_stopping && o.validation_fraction == 0)
        throw UsageError("train: preset '" + a.preset + "' stops early on " + o.early_stopping->monitor +
                         ", which needs --validation-fraction > 0");
    validate_options(o);
    return o;
}

/// The options of model type M from the command line (dispatch_model's types).
inline cfnet::AutoencoderOptions options_for(ModelType<cfnet::AutoencoderCF<float>>, const TrainArgs& a) {
    return autoencoder_options(a);
}
inline cfnet::NeuralCFOptions options_for(ModelType<cfnet::NeuralCF<float>>, const TrainArgs& a) {
    return ncf_options(a);
}

/// Adds the CLI's entries (split, seed, data) to the metadata of the model file at `path`.
inline void record_split(const std::string& path, const TrainArgs& a) {
    cfnet::ModelFile<float> f = cfnet::read_model_file<float>(path);
    f.metadata[meta_split] = a.split;
    f.metadata[meta_seed] = std::to_string(a.seed);
    f.metadata[meta_data] = a.data;
    record_layout(f.metadata, a.layout);
    cfnet::save_model_file(path, f);
}

}  // namespace detail

/// Checks the command line (before any data is read). @throws UsageError.
inline void check_train_args(const TrainArgs& a) {
    if (a.model == "autoencoder") {
        detail::reject_options(a, ncf_only_options(), "ncf");
        (void)detail::autoencoder_options(a);
    } else {
        detail::reject_options(a, autoencoder_only_options(), "autoencoder");
        (void)detail::ncf_options(a);
    }
    if (!a.history.empty()) {
        const auto dot = a.history.rfind('.');
        const std::string ext = dot == std::string::npos ? "" : a.history.substr(dot);
        if (ext != ".csv" && ext != ".json")
            throw UsageError("train: --history " + a.history + ": the file name must end in .csv or .json");
    }
}

/// Runs `cfnet train`. @throws UsageError, cfnet::IoError/ParseError (data), cfnet::NumericalError.
inline int run_train(const TrainArgs& a) {
    check_train_args(a);
    const auto t0 = std::chrono::steady_clock::now();
    const examples::Workload w = load_data(a.data, a.layout, a.split, a.seed);
    const auto& train = w.split.train;
    if (!a.quiet)
        std::cerr << "cfnet: " << w.data_source << ", split " << a.split << " (seed " << a.seed << "): " << train.nnz()
                  << " training ratings of " << train.n_users() << " users x " << train.n_items() << " items, "
                  << w.split.test.nnz() << " held out\n";

    cfnet::ProgressBar bar(stderr, std::nullopt, a.model);
    std::vector<cfnet::Callback*> callbacks;
    if (!a.quiet) callbacks.push_back(&bar);

    cfnet::History history;
    const auto t1 = std::chrono::steady_clock::now();
    const ModelKind kind = a.model == "autoencoder" ? ModelKind::autoencoder : ModelKind::neural_cf;
    const char* model_name = dispatch_model(kind, [&](auto type) {
        using M = typename decltype(type)::type;
        M model(detail::options_for(type, a));
        history = model.fit(train, callbacks);
        model.save(a.out);
        return ModelName<M>::value;
    });
    const double fit_seconds = examples::seconds_since(t1);
    detail::record_split(a.out, a);
    if (!a.history.empty()) {
        if (a.history.size() >= 4 && a.history.compare(a.history.size() - 4, 4, ".csv") == 0)
            history.save_csv(a.history);
        else
            history.save_json(a.history);
    }

    const cfnet::ModelFileInfo info = cfnet::read_model_info(a.out);
    std::cout << "model:    " << model_name << " (preset " << a.preset
              << ")\n"
              << "data:     " << w.data_source << ", split " << a.split << ", seed " << a.seed << '\n'
              << "epochs:   " << history.size();
    if (history.stopped_early) std::cout << " (stopped early; weights of epoch " << history.best_epoch << ")";
    std::cout << '\n';
    if (history.size() > 0) {
        const auto& last = history.epochs.back();
        std::cout << "loss:     " << last.loss;
        for (const auto& [k, v] : last.metrics) std::cout << ", " << k << " " << v;
        std::cout << '\n';
    }
    char times[96];
    std::snprintf(times, sizeof times, "%.2f s training, %.2f s in all", fit_seconds, examples::seconds_since(t0));
    std::cout << "time:     " << times << '\n'
              << "saved:    " << a.out << " (" << info.file_size << " bytes)\n";
    if (!a.history.empty()) std::cout << "history:  " << a.history << '\n';
    return exit_ok;
}

}  // namespace cfnet_cli
