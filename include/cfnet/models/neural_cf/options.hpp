#pragma once
/// @file models/neural_cf/options.hpp
/// NeuralCF's configuration: the architecture, feedback and initialisation enums with their
/// parsers, NeuralCFOptions (defaults = the notebook's model; presets accurate() and
/// implicit_ranking()) and its field table for model files (options_io.hpp).

#include <cfnet/error.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/train.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cfnet {

/// NeuralCF's network (He et al. 2017).
enum class NcfArchitecture { mlp, gmf, neumf };

/// What the training signal is.
enum class Feedback {
    ratings,  ///< explicit: regression on the rating values (MSE)
    implicit  ///< implicit: observed pairs are positives, sampled unobserved pairs negatives (BCE on logits)
};

inline const char* to_string(NcfArchitecture a) {
    switch (a) {
        case NcfArchitecture::mlp: return "mlp";
        case NcfArchitecture::gmf: return "gmf";
        case NcfArchitecture::neumf: return "neumf";
    }
    return "unknown";
}

/// How the Dense layers (hidden and output) start.
enum class DenseInit {
    glorot_uniform,  ///< kernel Glorot-uniform, bias 0 (Keras' default: the notebook's)
    fan_in_uniform   ///< kernel and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch nn.Linear's default)
};

inline const char* to_string(DenseInit d) { return d == DenseInit::glorot_uniform ? "glorot_uniform" : "fan_in_uniform"; }

/// "glorot_uniform" or "fan_in_uniform". @throws InvalidArgument otherwise.
inline DenseInit parse_dense_init(const std::string& s) {
    if (s == "glorot_uniform") return DenseInit::glorot_uniform;
    if (s == "fan_in_uniform") return DenseInit::fan_in_uniform;
    throw InvalidArgument("parse_dense_init: unknown initialisation '" + s +
                          "' (expected glorot_uniform or fan_in_uniform)");
}

inline const char* to_string(Feedback f) { return f == Feedback::ratings ? "explicit" : "implicit"; }

/// "mlp", "gmf" or "neumf". @throws InvalidArgument otherwise.
inline NcfArchitecture parse_architecture(const std::string& s) {
    if (s == "mlp") return NcfArchitecture::mlp;
    if (s == "gmf") return NcfArchitecture::gmf;
    if (s == "neumf") return NcfArchitecture::neumf;
    throw InvalidArgument("parse_architecture: unknown architecture '" + s + "' (expected mlp, gmf or neumf)");
}

/// "explicit" or "implicit". @throws InvalidArgument otherwise.
inline Feedback parse_feedback(const std::string& s) {
    if (s == "explicit") return Feedback::ratings;
    if (s == "implicit") return Feedback::implicit;
    throw InvalidArgument("parse_feedback: unknown feedback mode '" + s + "' (expected explicit or implicit)");
}

/// NeuralCF's configuration. The defaults are exactly the notebook's model (see the file comment);
/// validate() is called by the model and names the first bad field.
struct NeuralCFOptions {
    NcfArchitecture architecture = NcfArchitecture::mlp;
    Feedback feedback = Feedback::ratings;
    std::size_t embedding_dim = 32;            ///< size of every embedding vector (> 0)
    std::vector<std::size_t> hidden{128, 64};  ///< MLP tower widths, ReLU (non-empty for mlp/neumf, all > 0)
    double dropout = 0.0;                      ///< after every hidden ReLU, in [0, 1)
    /// L2 on the embedding vectors (not the bias terms): l2 * mean over the batch of the squared
    /// norms of the looked-up rows, added to the loss (>= 0).
    double l2 = 0.0;
    /// L2 on the Dense kernels (hidden and output weights, not biases): dense_l2 * sum of their
    /// squares, added to every batch's loss (>= 0). Without it the output layer can grow while the
    /// embeddings shrink, which escapes the embedding L2.
    double dense_l2 = 0.0;
    bool bias_terms = false;                   ///< add learned user and item biases to the output
    DenseInit dense_init = DenseInit::glorot_uniform;  ///< initialisation of the Dense layers
    double learning_rate = 1e-3;               ///< Adam (Keras defaults otherwise), > 0
    std::size_t batch_size = 1024;             ///< > 0
    int epochs = 10;                           ///< > 0 (an upper bound with early stopping)
    std::uint64_t seed = 42;                   ///< weights, validation split, shuffles, dropout, negatives
    /// Fraction of the training pairs held out for validation when fit() is given no validation
    /// data (a uniformly random split, as scikit-learn's train_test_split); 0 disables it.
    double validation_fraction = 0.2;
    std::optional<EarlyStopping> early_stopping;  ///< monitors a recorded metric (see fit())
    std::size_t negatives = 4;                    ///< implicit: sampled negatives per positive (> 0)
    std::size_t eval_k = 10;                      ///< implicit: k of the validation metrics (> 0)
    bool lazy_embedding_updates = false;          ///< Adam on the batch's embedding rows only (see file comment)
    /// Explicit mode: predict with a user+item bias baseline (fitted on the same training pairs)
    /// for a user or item that has no training pair, whose embedding was never trained.
    bool unseen_fallback = false;
    /// Explicit mode: start the output layer's bias at the mean training rating instead of 0
    /// (Keras' zero init is the notebook's; the mean spares the first epochs learning the offset).
    bool mean_init = false;
    /// With early stopping on fit()'s own hold-out (no validation matrix given): once the epoch count
    /// is chosen on the held-out pairs, retrain from scratch on ALL training pairs for that many
    /// epochs (the usual final step of model selection: the held-out 20% become training data).
    bool refit = false;

    /// The notebook's model (the defaults).
    static NeuralCFOptions notebook() { return {}; }

    /// The explicit-feedback accuracy preset (docs/benchmarks.md): NeuMF with user/item biases,
    /// embeddings of 32, MLP 64-32, dropout 0.2, embedding L2 0.02 (per looked-up row, batch mean),
    /// PyTorch's Dense initialisation, Adam 3e-4, batch 128, output bias started at the mean rating,
    /// bias-baseline fallback for unseen users/items; the epoch count is chosen by early stopping on
    /// val_rmse (patience 3) over 20% of the training pairs, then the model is retrained on all of
    /// them for that many epochs (refit). Chosen on validation data only, never on a test set.
    static NeuralCFOptions accurate() {
        NeuralCFOptions o;
        o.architecture = NcfArchitecture::neumf;
        o.hidden = {64, 32};
        o.dropout = 0.2;
        o.l2 = 0.02;
        o.bias_terms = true;
        o.dense_init = DenseInit::fan_in_uniform;
        o.learning_rate = 3e-4;
        o.batch_size = 128;
        o.epochs = 40;
        o.unseen_fallback = true;
        o.mean_init = true;
        o.refit = true;
        EarlyStopping es;
        es.monitor = "val_rmse";
        es.patience = 3;
        o.early_stopping = es;
        return o;
    }

    /// The implicit-feedback preset: NeuMF, MLP 64-32-16, 4 negatives, early stopping on
    /// val_ndcg@10 with restore-best.
    static NeuralCFOptions implicit_ranking() {
        NeuralCFOptions o;
        o.architecture = NcfArchitecture::neumf;
        o.feedback = Feedback::implicit;
        o.hidden = {64, 32, 16};
        o.epochs = 20;
        EarlyStopping es;
        es.monitor = "val_ndcg@10";
        es.maximize = true;
        es.patience = 2;
        o.early_stopping = es;
        return o;
    }

    /// @throws InvalidArgument naming the first invalid field.
    void validate() const {
        check_arg(embedding_dim > 0, "NeuralCFOptions: embedding_dim must be > 0");
        if (architecture != NcfArchitecture::gmf) {
            check_arg(!hidden.empty(), "NeuralCFOptions: hidden must list at least one layer for architecture ",
                      to_string(architecture));
            for (std::size_t l = 0; l < hidden.size(); ++l)
                check_arg(hidden[l] > 0, "NeuralCFOptions: hidden[", l, "] must be > 0");
        }
        check_arg(std::isfinite(dropout) && dropout >= 0 && dropout < 1, "NeuralCFOptions: dropout must be in [0, 1), got ",
                  dropout);
        check_arg(std::isfinite(l2) && l2 >= 0, "NeuralCFOptions: l2 must be finite and >= 0, got ", l2);
        check_arg(std::isfinite(dense_l2) && dense_l2 >= 0, "NeuralCFOptions: dense_l2 must be finite and >= 0, got ",
                  dense_l2);
        check_arg(std::isfinite(learning_rate) && learning_rate > 0,
                  "NeuralCFOptions: learning_rate must be finite and > 0, got ", learning_rate);
        check_arg(batch_size > 0, "NeuralCFOptions: batch_size must be > 0");
        check_arg(epochs > 0, "NeuralCFOptions: epochs must be > 0, got ", epochs);
        check_arg(std::isfinite(validation_fraction) && validation_fraction >= 0 && validation_fraction < 1,
                  "NeuralCFOptions: validation_fraction must be in [0, 1), got ", validation_fraction);
        check_arg(negatives > 0, "NeuralCFOptions: negatives must be > 0");
        check_arg(eval_k > 0, "NeuralCFOptions: eval_k must be > 0");
        if (early_stopping) check_arg(early_stopping->patience > 0, "NeuralCFOptions: early_stopping.patience must be > 0");
        check_arg(!refit || (early_stopping && validation_fraction > 0),
                  "NeuralCFOptions: refit needs early_stopping and validation_fraction > 0 (it retrains for the epoch "
                  "count chosen on fit()'s own hold-out)");
    }
};

/// NeuralCFOptions in a model file (options_io.hpp): key "options.<field name>". dense_init and
/// refit came later (training-only: they do not change predictions), so older files without them
/// read as the defaults. early_stopping is not stored (it only steers a fit); see NeuralCF::load
/// for what that means for refit.
template <>
inline const OptionsTable<NeuralCFOptions>& options_table<NeuralCFOptions>() {
    using O = NeuralCFOptions;
    static const OptionsTable<O> table =
        OptionsTable<O>()
            .enumeration("options.architecture", &O::architecture, parse_architecture)
            .enumeration("options.feedback", &O::feedback, parse_feedback)
            .integer("options.embedding_dim", &O::embedding_dim)
            .list("options.hidden", &O::hidden, ' ')
            .number("options.dropout", &O::dropout)
            .number("options.l2", &O::l2)
            .number("options.dense_l2", &O::dense_l2)
            .flag("options.bias_terms", &O::bias_terms)
            .number("options.learning_rate", &O::learning_rate)
            .integer("options.batch_size", &O::batch_size)
            .integer("options.epochs", &O::epochs)
            .integer("options.seed", &O::seed)
            .number("options.validation_fraction", &O::validation_fraction)
            .integer("options.negatives", &O::negatives)
            .integer("options.eval_k", &O::eval_k)
            .flag("options.lazy_embedding_updates", &O::lazy_embedding_updates)
            .flag("options.unseen_fallback", &O::unseen_fallback)
            .flag("options.mean_init", &O::mean_init)
            .enumeration("options.dense_init", &O::dense_init, parse_dense_init)
            .default_if_missing()
            .flag("options.refit", &O::refit)
            .default_if_missing();
    return table;
}

}  // namespace cfnet
