#pragma once
/// @file tools/cfnet/cmd_train.hpp
/// `cfnet train`: a preset plus hyper-parameter overrides, the data and the split -> a model file
/// (with the split recorded in its metadata) and, optionally, the training history.

#include "common.hpp"
#include "models.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/mult_vae.hpp>
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
    std::string model;   ///< "autoencoder", "ncf", "ease", "mult-dae" or "mult-vae"
    std::string preset;  ///< empty: the model's default preset (default_preset())
    std::string data;
    FileLayout layout;  ///< --columns, --sep, --header, --items, --item-columns (an interaction file)
    std::string split;
    std::uint64_t seed = 42;
    std::string out;
    std::string history;
    std::string decomposition = "items";  ///< under mpirun: items (the default) or users
    std::string middle_layers = "replicated";  ///< under mpirun, items: replicated (the default) or split
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
    bool residual = false;
    // ncf
    std::string arch;
    std::string feedback;
    std::size_t embedding_dim = 0;
    double dense_l2 = 0;
    bool bias_terms = false;
    std::size_t negatives = 0;
    double validation_fraction = 0;
    bool mean_init = false;
    // ease
    std::vector<double> lambdas;
    std::size_t max_items = 0;
    double memory_gib = 0;
    int threads = 0;
    // mult-dae / mult-vae
    std::size_t latent = 0;
    std::size_t anneal_steps = 0;
    double anneal_cap = 0;
    int patience = 0;

    std::set<std::string> given;
    bool has(const std::string& name) const { return given.count(name) != 0; }
};

/// The model-specific options (long names) and the models they apply to; an option given for
/// another model is a usage error, never silently ignored.
inline const std::vector<std::pair<std::string, std::vector<std::string>>>& option_models() {
    static const std::vector<std::string> nets{"autoencoder", "ncf", "mult-dae", "mult-vae"};
    static const std::vector<std::pair<std::string, std::vector<std::string>>> v{
        {"--epochs", nets},
        {"--batch-size", nets},
        {"--lr", nets},
        {"--hidden", nets},
        {"--dropout", nets},
        {"--l2", {"autoencoder", "ncf", "ease", "mult-dae", "mult-vae"}},
        {"--lazy-adam", {"autoencoder", "ncf"}},
        {"--fallback", {"autoencoder", "ncf"}},
        {"--item-based", {"autoencoder"}},
        {"--activation", {"autoencoder"}},
        {"--output-activation", {"autoencoder"}},
        {"--input-dropout", {"autoencoder"}},
        {"--clamp", {"autoencoder"}},
        {"--solver", {"autoencoder"}},
        {"--l2-lambda", {"autoencoder"}},
        {"--residual", {"autoencoder"}},
        {"--decomposition", {"autoencoder"}},
        {"--middle-layers", {"autoencoder"}},
        {"--arch", {"ncf"}},
        {"--feedback", {"ncf"}},
        {"--embedding-dim", {"ncf"}},
        {"--dense-l2", {"ncf"}},
        {"--bias-terms", {"ncf"}},
        {"--negatives", {"ncf"}},
        {"--validation-fraction", {"ncf", "ease", "mult-dae", "mult-vae"}},
        {"--mean-init", {"ncf"}},
        {"--lambdas", {"ease"}},
        {"--max-items", {"ease"}},
        {"--memory-gib", {"ease"}},
        {"--threads", {"ease"}},
        {"--latent", {"mult-dae", "mult-vae"}},
        {"--anneal-steps", {"mult-vae"}},
        {"--anneal-cap", {"mult-vae"}},
        {"--patience", {"mult-dae", "mult-vae"}},
    };
    return v;
}

/// The preset a model trains with when --preset is not given.
inline std::string default_preset(const std::string& model) {
    if (model == "ease" || model == "mult-dae" || model == "mult-vae") return "default";
    return "notebook";
}

namespace detail {

/// @throws UsageError naming the first given option that does not apply to a.model.
inline void reject_options(const TrainArgs& a) {
    for (const auto& [name, models] : option_models()) {
        if (!a.has(name) || std::find(models.begin(), models.end(), a.model) != models.end()) continue;
        if (models.size() == 1)
            throw UsageError("train: " + name + " applies to --model " + models[0] + " only (this is --model " + a.model + ")");
        std::string list;
        for (const auto& m : models) list += (list.empty() ? "" : ", ") + m;
        throw UsageError("train: " + name + " does not apply to --model " + a.model + " (it applies to --model " + list + ")");
    }
}

inline std::string preset_of(const TrainArgs& a) { return a.preset.empty() ? default_preset(a.model) : a.preset; }

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
    const std::string preset = preset_of(a);
    if (preset == "notebook")
        o = cfnet::AutoencoderOptions::notebook();
    else if (preset == "autorec")
        o = cfnet::AutoencoderOptions::autorec();
    else
        throw UsageError("train: --model autoencoder has the presets notebook and autorec, not '" + preset + "'");
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
    if (a.has("--residual")) o.residual = a.residual;
    if (a.has("--clamp")) o.clamp_to_training = false;
    // what the command line gives is fixed; the preset chooses the rest on validation
    o.keep_fixed(a.has("--solver") || a.has("--l2-lambda") || a.has("--l2"), a.has("--residual"), a.has("--epochs"));
    validate_options(o);
    return o;
}

inline cfnet::NeuralCFOptions ncf_options(const TrainArgs& a) {
    cfnet::NeuralCFOptions o;
    const std::string preset = preset_of(a);
    if (preset == "notebook")
        o = cfnet::NeuralCFOptions::notebook();
    else if (preset == "accurate")
        o = cfnet::NeuralCFOptions::accurate();
    else if (preset == "implicit")
        o = cfnet::NeuralCFOptions::implicit_ranking();
    else
        throw UsageError("train: --model ncf has the presets notebook, accurate and implicit, not '" + preset + "'");
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
        throw UsageError("train: preset '" + preset + "' stops early on " + o.early_stopping->monitor +
                         ", which needs --validation-fraction > 0");
    validate_options(o);
    return o;
}

/// EASE: preset default (EaseOptions::validated(): lambda chosen on a validation part of the
/// training interactions) or fixed (lambda 500, or --l2).
inline cfnet::EaseOptions ease_options(const TrainArgs& a) {
    cfnet::EaseOptions o;
    const std::string preset = preset_of(a);
    if (preset == "default")
        o = cfnet::EaseOptions::validated();
    else if (preset != "fixed")
        throw UsageError("train: --model ease has the presets default and fixed, not '" + preset + "'");
    o.seed = a.seed;
    if (a.has("--l2")) {
        o.lambda = a.l2;
        o.lambdas.clear();
    }
    if (a.has("--lambdas")) o.select_lambda(a.lambdas);
    if (a.has("--validation-fraction")) o.validation_fraction = a.validation_fraction;
    if (a.has("--max-items")) o.max_items = a.max_items;
    if (a.has("--memory-gib")) o.memory_limit = static_cast<std::size_t>(a.memory_gib * 1073741824.0);
    if (a.has("--threads")) o.threads = a.threads;
    validate_options(o);
    return o;
}

/// Mult-DAE / Mult-VAE: preset default (the paper's architecture and training, MultVAEOptions::dae()
/// / vae(), with the epoch chosen by NDCG@100 on 20% of each user's training interactions and the
/// model refitted on all of them; --validation-fraction 0 trains every epoch on everything).
inline cfnet::MultVAEOptions mult_vae_options(const TrainArgs& a) {
    const std::string preset = preset_of(a);
    if (preset != "default")
        throw UsageError("train: --model " + a.model + " has the preset default, not '" + preset + "'");
    cfnet::MultVAEOptions o = a.model == "mult-dae" ? cfnet::MultVAEOptions::dae() : cfnet::MultVAEOptions::vae();
    o.select_epoch(0.2, 100);  // the paper's epoch choice: NDCG@100 on a held-out part of the training data
    o.seed = a.seed;
    if (a.has("--epochs")) o.epochs = a.epochs;
    if (a.has("--batch-size")) o.batch_size = a.batch_size;
    if (a.has("--lr")) o.learning_rate = a.lr;
    if (a.has("--hidden")) o.hidden = a.hidden;
    if (a.has("--dropout")) o.input_dropout = a.dropout;
    if (a.has("--l2")) o.weight_decay = a.l2;
    if (a.has("--latent")) o.latent = a.latent;
    if (a.has("--anneal-steps")) o.anneal_steps = a.anneal_steps;
    if (a.has("--anneal-cap")) o.anneal_cap = a.anneal_cap;
    if (a.has("--validation-fraction")) o.validation_fraction = a.validation_fraction;
    if (a.has("--patience")) o.patience = a.patience;
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
inline cfnet::EaseOptions options_for(ModelType<cfnet::Ease<float>>, const TrainArgs& a) { return ease_options(a); }
inline cfnet::MultVAEOptions options_for(ModelType<cfnet::MultVAE<float>>, const TrainArgs& a) {
    return mult_vae_options(a);
}

template <class M, class = void>
struct fits_with_callbacks : std::false_type {};
template <class M>
struct fits_with_callbacks<M, std::void_t<decltype(std::declval<M&>().fit(
                                  std::declval<const cfnet::RatingMatrix<float>&>(),
                                  std::declval<const std::vector<cfnet::Callback*>&>()))>> : std::true_type {};

/// Fits `model` on `train` with the progress callbacks; a model whose fit takes none (a closed-form
/// one such as Ease) has no epochs, callbacks or history.
/// @return the training history (empty for a closed-form model).
template <class M>
cfnet::History fit_model(M& model, const cfnet::RatingMatrix<float>& train, const std::vector<cfnet::Callback*>& callbacks) {
    if constexpr (fits_with_callbacks<M>::value) {
        return model.fit(train, callbacks);
    } else {
        model.fit(train);
        return {};
    }
}

/// Writes `history` to `path` (--history): CSV when the name ends in .csv, else JSON; nothing when
/// path is empty.
inline void save_history(const cfnet::History& history, const std::string& path) {
    if (path.empty()) return;
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0)
        history.save_csv(path);
    else
        history.save_json(path);
}

/// The summary's "loss:" line: the last epoch's loss and metrics (nothing without epochs).
inline void print_last_epoch(const cfnet::History& history) {
    if (history.size() == 0) return;
    const auto& last = history.epochs.back();
    std::cout << "loss:     " << last.loss;
    for (const auto& [k, v] : last.metrics) std::cout << ", " << k << " " << v;
    std::cout << '\n';
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
    detail::reject_options(a);
    dispatch_model(model_kind_of(a.model), [&](auto type) { (void)detail::options_for(type, a); });
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
    std::string closed_form;  // what a closed-form fit (Ease) reports instead of epochs
    std::string chosen;       // what AutoencoderOptions::selection chose on validation
    const auto t1 = std::chrono::steady_clock::now();
    const ModelKind kind = model_kind_of(a.model);
    const char* model_name = dispatch_model(kind, [&](auto type) {
        using M = typename decltype(type)::type;
        M model(detail::options_for(type, a));
        history = detail::fit_model(model, train, callbacks);
        if constexpr (std::is_same_v<M, cfnet::Ease<float>>) {
            closed_form = "closed form, lambda " + cfnet::metadata_number(model.selected_lambda());
            if (!model.selection().empty())
                closed_form += " (chosen on validation among " + std::to_string(model.selection().size()) + " candidates)";
        }
        if constexpr (std::is_same_v<M, cfnet::AutoencoderCF<float>>) {
            const auto& o = model.options();
            if (!model.selection().empty())
                chosen = (o.solver == cfnet::Solver::lbfgs ? "l2_lambda " + cfnet::metadata_number(o.l2_lambda)
                                                           : "weight_decay " + cfnet::metadata_number(o.weight_decay)) +
                         (o.residual ? ", residual, " : ", plain, ") + std::to_string(o.epochs) +
                         " epochs (on validation among " + std::to_string(model.selection().size()) + " candidates)";
        }
        model.save(a.out);
        return ModelName<M>::value;
    });
    const double fit_seconds = examples::seconds_since(t1);
    detail::record_split(a.out, a);
    detail::save_history(history, a.history);

    const cfnet::ModelFileInfo info = cfnet::read_model_info(a.out);
    std::cout << "model:    " << model_name << " (preset " << detail::preset_of(a)
              << ")\n"
              << "data:     " << w.data_source << ", split " << a.split << ", seed " << a.seed << '\n'
              << "epochs:   " << (closed_form.empty() ? std::to_string(history.size()) : closed_form);
    if (history.stopped_early) std::cout << " (stopped early; weights of epoch " << history.best_epoch << ")";
    std::cout << '\n';
    if (!chosen.empty()) std::cout << "chosen:   " << chosen << '\n';
    detail::print_last_epoch(history);
    char times[96];
    std::snprintf(times, sizeof times, "%.2f s training, %.2f s in all", fit_seconds, examples::seconds_since(t0));
    std::cout << "time:     " << times << '\n'
              << "saved:    " << a.out << " (" << info.file_size << " bytes)\n";
    if (!a.history.empty()) std::cout << "history:  " << a.history << '\n';
    return exit_ok;
}

}  // namespace cfnet_cli
