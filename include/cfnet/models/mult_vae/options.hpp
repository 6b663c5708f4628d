#pragma once
/// @file models/mult_vae/options.hpp
/// MultVAEOptions: the configuration of MultVAE (Liang et al. 2018, "Variational Autoencoders for
/// Collaborative Filtering"): the presets vae() (Mult-VAE, the default) and dae() (Mult-DAE), the
/// KL anneal schedule, the epoch selection on a validation part of the training data, and the
/// field table for model files (options_io.hpp).

#include <cfnet/error.hpp>
#include <cfnet/options_io.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfnet {

/// Configuration of MultVAE. Public fields plus chained setters; MultVAE's constructor validates.
///
/// Network (the paper's, "I -> 600 -> 200 -> 600 -> I"): the encoder maps the L2-normalised,
/// input-dropped user row through `hidden` (tanh) to the code; the decoder maps the code through
/// `hidden` reversed (tanh) to one logit per item. Mult-VAE's last encoder layer outputs [mu |
/// logvar] (2 x latent, no activation) and z = mu + eps * sd in training, mu when scoring;
/// Mult-DAE's outputs the code (latent, tanh) directly.
///
/// Loss per batch of B users: (1/B) sum_u -sum_i x_ui log softmax(logits_u)_i, plus beta * KL for
/// the VAE, plus weight_decay * sum ||W||^2 over the weight matrices (not the biases; the paper's
/// code: `2 * l2_regularizer(lam)` = lam * sum W^2).
///
/// The anneal (VAE): beta at update t (0, 1, 2, ...: mini-batches since the fit began) is
/// min(anneal_cap, t / anneal_steps), or anneal_cap when anneal_steps is 0 (beta_at()).
///
/// Epochs: `epochs` is the maximum. With validation_fraction > 0, fit(train) holds out that
/// fraction of every user's training interactions (users with >= 5), trains on the rest, scores
/// NDCG@validation_k of the held-out part after every epoch (evaluate_ranking, the training part
/// excluded from the candidates) and keeps the best epoch's weights (the paper picks the epoch by
/// validation NDCG@100); with `refit`, it then retrains on all of `train` for the best epoch count.
struct MultVAEOptions {
    bool variational = true;                 ///< Mult-VAE (true) or Mult-DAE (false)
    std::vector<std::size_t> hidden{600};    ///< encoder widths before the code (decoder: reversed)
    std::size_t latent = 200;                ///< the code / latent dimension
    double input_dropout = 0.5;              ///< dropout on the normalised input, [0, 1)
    double learning_rate = 1e-3;             ///< Adam
    double adam_epsilon = 1e-8;              ///< TensorFlow 1's AdamOptimizer default (Keras placement)
    double weight_decay = 0.0;               ///< lam: + lam * sum ||W||^2 (weights only)
    std::size_t batch_size = 500;
    int epochs = 100;
    std::size_t anneal_steps = 200000;       ///< updates to reach anneal_cap (0: beta = cap throughout)
    double anneal_cap = 0.2;                 ///< the largest beta
    std::uint64_t seed = 42;                 ///< weights, shuffling, dropout and latent noise
    double validation_fraction = 0.0;        ///< fit(train): per-user held-out fraction (0: off)
    std::size_t validation_k = 100;          ///< NDCG@k for the epoch selection
    int patience = 0;                        ///< stop after this many epochs without improvement (0: never)
    bool refit = true;                       ///< after the selection, retrain on all of train

    MultVAEOptions& hidden_sizes(std::vector<std::size_t> v) { hidden = std::move(v); return *this; }
    MultVAEOptions& latent_dim(std::size_t v) { latent = v; return *this; }
    MultVAEOptions& dropout(double v) { input_dropout = v; return *this; }
    MultVAEOptions& lr(double v) { learning_rate = v; return *this; }
    MultVAEOptions& l2(double v) { weight_decay = v; return *this; }
    MultVAEOptions& batch(std::size_t v) { batch_size = v; return *this; }
    MultVAEOptions& n_epochs(int v) { epochs = v; return *this; }
    MultVAEOptions& anneal(std::size_t steps, double cap) {
        anneal_steps = steps;
        anneal_cap = cap;
        return *this;
    }
    MultVAEOptions& random_seed(std::uint64_t v) { seed = v; return *this; }
    /// Epoch selection on `fraction` of each user's training interactions, by NDCG@k.
    MultVAEOptions& select_epoch(double fraction, std::size_t k = 100, int patience_epochs = 0, bool refit_after = true) {
        validation_fraction = fraction;
        validation_k = k;
        patience = patience_epochs;
        refit = refit_after;
        return *this;
    }

    /// Mult-VAE as the paper trains it (the defaults).
    static MultVAEOptions vae() { return MultVAEOptions{}; }

    /// Mult-DAE: no sampling and no KL term, I -> 600 -> 200 -> 600 -> I with tanh everywhere but the
    /// output, and the paper's code's weight decay lam = 0.01 / batch_size on the weights.
    static MultVAEOptions dae() {
        MultVAEOptions o;
        o.variational = false;
        o.weight_decay = 0.01 / static_cast<double>(o.batch_size);
        return o;
    }

    /// beta at update `t` (0-based count of mini-batches since the fit began); see the file comment.
    double beta_at(std::size_t t) const {
        if (!variational) return 0.0;
        if (anneal_steps == 0) return anneal_cap;
        return std::min(anneal_cap, static_cast<double>(t) / static_cast<double>(anneal_steps));
    }

    /// @throws InvalidArgument naming the field when an option is out of range.
    void validate() const {
        for (std::size_t l = 0; l < hidden.size(); ++l)
            check_arg(hidden[l] > 0, "MultVAEOptions: hidden layer ", l, " has width 0");
        check_arg(latent > 0, "MultVAEOptions: latent must be > 0");
        check_arg(std::isfinite(input_dropout) && input_dropout >= 0 && input_dropout < 1,
                  "MultVAEOptions: input_dropout must be in [0, 1), got ", input_dropout);
        check_arg(std::isfinite(learning_rate) && learning_rate > 0, "MultVAEOptions: learning_rate must be > 0, got ",
                  learning_rate);
        check_arg(std::isfinite(adam_epsilon) && adam_epsilon > 0, "MultVAEOptions: adam_epsilon must be > 0, got ",
                  adam_epsilon);
        check_arg(std::isfinite(weight_decay) && weight_decay >= 0, "MultVAEOptions: weight_decay must be >= 0, got ",
                  weight_decay);
        check_arg(batch_size > 0, "MultVAEOptions: batch_size must be > 0");
        check_arg(epochs > 0, "MultVAEOptions: epochs must be > 0, got ", epochs);
        check_arg(std::isfinite(anneal_cap) && anneal_cap >= 0, "MultVAEOptions: anneal_cap must be >= 0, got ",
                  anneal_cap);
        check_arg(std::isfinite(validation_fraction) && validation_fraction >= 0 && validation_fraction < 1,
                  "MultVAEOptions: validation_fraction must be in [0, 1), got ", validation_fraction);
        check_arg(validation_k > 0, "MultVAEOptions: validation_k must be > 0");
        check_arg(patience >= 0, "MultVAEOptions: patience must be >= 0, got ", patience);
    }
};

/// MultVAEOptions in a model file: one metadata key per field, named as the field.
template <>
inline const OptionsTable<MultVAEOptions>& options_table<MultVAEOptions>() {
    using O = MultVAEOptions;
    static const OptionsTable<O> table = OptionsTable<O>()
                                             .flag("variational", &O::variational)
                                             .list("hidden", &O::hidden, ',')
                                             .integer("latent", &O::latent)
                                             .number("input_dropout", &O::input_dropout)
                                             .number("learning_rate", &O::learning_rate)
                                             .number("adam_epsilon", &O::adam_epsilon)
                                             .number("weight_decay", &O::weight_decay)
                                             .integer("batch_size", &O::batch_size)
                                             .integer("epochs", &O::epochs)
                                             .integer("anneal_steps", &O::anneal_steps)
                                             .number("anneal_cap", &O::anneal_cap)
                                             .integer("seed", &O::seed)
                                             .number("validation_fraction", &O::validation_fraction)
                                             .integer("validation_k", &O::validation_k)
                                             .integer("patience", &O::patience)
                                             .flag("refit", &O::refit);
    return table;
}

}  // namespace cfnet
