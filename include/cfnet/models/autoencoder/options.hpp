#pragma once
/// @file models/autoencoder/options.hpp
/// AutoencoderOptions: AutoencoderCF's configuration (the notebook's model by default, the
/// I-AutoRec accuracy preset), its enums (Orientation, Solver; ActivationKind from nn/) and its
/// field table for model files (options_io.hpp).

#include <cfnet/error.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/train.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cfnet {

/// Which vectors the autoencoder reconstructs.
enum class Orientation {
    user_based,  ///< a row is one user's ratings over all items (the notebook; U-AutoRec)
    item_based   ///< a row is one item's ratings over all users (I-AutoRec)
};

/// Elementwise activation of a layer (nn/activation.hpp).
using ActivationKind = nn::ActivationKind;
using nn::activation_from_string;
using nn::to_string;

inline const char* to_string(Orientation o) { return o == Orientation::user_based ? "user_based" : "item_based"; }

/// How AutoencoderCF trains.
enum class Solver {
    /// Mini-batch Adam on the masked MSE (the notebook's; batch_size, learning_rate, dropout,
    /// weight_decay and lazy_adam apply; an epoch is one pass over the rows).
    adam,
    /// Full-batch L-BFGS (optim/lbfgs.hpp) on AutoRec's objective (Sedhain et al. 2015):
    ///   F = sum over observed (prediction - rating)^2 + l2_lambda / 2 * sum_layers ||W||^2
    /// (weights, not biases). An "epoch" is one L-BFGS iteration; History::loss is F divided by
    /// the number of training ratings. No dropout, no weight_decay.
    lbfgs
};

inline const char* to_string(Solver s) { return s == Solver::adam ? "adam" : "lbfgs"; }

/// Hyper-parameters AutoencoderCF::fit chooses on a validation part of the training data before
/// it trains on all of it (AutoencoderOptions::select): every candidate (the regularisation
/// strengths x plain or residual) is trained on the rest with the validation ratings held out,
/// its best epoch by val_rmse kept; the best candidate's strength, residual flag and epoch count
/// are then set in the options and the model is refitted on all the training data.
struct AutoencoderSelection {
    /// Candidates for the regularisation strength: l2_lambda for Solver::lbfgs, weight_decay for
    /// Solver::adam. Empty: the options' own value only.
    std::vector<double> lambdas;
    /// Candidates for AutoencoderOptions::residual: both (false and true), or only the options' own.
    bool try_residual = false;
    /// The fraction of each user's ratings held out for validation (stratified_split by user).
    double validation_fraction = 0.1;
    /// When > 0, a candidate stops after this many epochs without a lower val_rmse (its best epoch
    /// is kept). 0: every candidate runs all its epochs (L-BFGS's validation curve can rise for a
    /// while and fall again: on the latest-small shape, patience 10 stopped the residual
    /// candidates near iteration 11 at val_rmse 0.903, where all 80 iterations reach 0.857).
    int patience = 0;
    /// Choose the epoch count too (the epoch of the lowest val_rmse, at most options.epochs);
    /// false: every candidate trains options.epochs epochs and is judged by its last one.
    bool choose_epochs = true;
};

/// One candidate of AutoencoderSelection and its validation result (AutoencoderCF::selection()).
struct AutoencoderCandidate {
    double lambda = 0;
    bool residual = false;
    int best_epoch = 0;  ///< 1-based: the epoch (L-BFGS iteration) of the lowest val_rmse
    double val_rmse = 0;
};

/// Configuration of AutoencoderCF. Public fields with the notebook's defaults, plus chained
/// setters; AutoencoderCF's constructor validates everything.
struct AutoencoderOptions {
    std::vector<std::size_t> hidden{512, 256, 64, 256, 512};  ///< hidden layer widths (at least one)
    ActivationKind hidden_activation = ActivationKind::relu;
    ActivationKind output_activation = ActivationKind::identity;
    Orientation orientation = Orientation::user_based;
    double input_dropout = 0.0;   ///< denoising: drop observed inputs with this probability, [0, 1)
    double hidden_dropout = 0.0;  ///< dropout on every hidden layer's output, [0, 1)
    double learning_rate = 1e-3;  ///< Adam (Keras' defaults for the betas and epsilon)
    double weight_decay = 0.0;    ///< L2 coupled into the gradient (Adam's weight_decay), all parameters
    bool decoupled_weight_decay = false;  ///< AdamW instead of coupled L2
    std::size_t batch_size = 32;
    int epochs = 20;
    std::uint64_t seed = 42;  ///< initial weights, shuffling and dropout masks
    nn::MaskNormalization loss_normalization = nn::MaskNormalization::per_sample;
    /// Adam updates only the first/last-layer weight rows a batch touched (NOT exact Adam; see the
    /// file comment). Biases and middle layers are always updated densely.
    bool lazy_adam = false;
    /// predict()/predict_user() clamp to [clamp_min, clamp_max] when set (e.g. 1..5).
    std::optional<double> clamp_min, clamp_max;
    /// predict() scores pairs whose output unit had no training rating (an item nobody rated, or
    /// for item_based a user without ratings) with a user+item BiasBaseline fitted on the input;
    /// predict_user() uses the training mean for them.
    bool unseen_fallback = false;
    /// Early stopping on a validation metric ("val_rmse" or "val_mae"; needs validation data).
    std::optional<EarlyStopping> early_stopping;
    Solver solver = Solver::adam;
    double l2_lambda = 0.0;            ///< Solver::lbfgs: the lambda of AutoRec's objective, >= 0
    std::size_t lbfgs_history = 10;    ///< Solver::lbfgs: (s, y) pairs kept, >= 1
    /// Learn the residuals of a user+item bias baseline fitted on the training data
    /// (models/autoencoder/residual.hpp): the network's input and target are r - (mu + b_u + b_i),
    /// a prediction is the output plus the baseline. Scores for ranking include the baseline too.
    bool residual = false;
    /// fit() sets clamp_min / clamp_max to the smallest and largest training rating (so that
    /// half-star, 1..10 or 0..1 data are clamped to their own range).
    bool clamp_to_training = false;
    /// Choose the regularisation strength, residual or not, and the epoch count on a validation
    /// part of the training data before fitting (AutoencoderSelection). Not stored in model files:
    /// it only steers fit(), which stores the chosen values.
    std::optional<AutoencoderSelection> selection;

    AutoencoderOptions& hidden_sizes(std::vector<std::size_t> v) { hidden = std::move(v); return *this; }
    AutoencoderOptions& activation(ActivationKind k) { hidden_activation = k; return *this; }
    AutoencoderOptions& output(ActivationKind k) { output_activation = k; return *this; }
    AutoencoderOptions& item_based(bool on = true) {
        orientation = on ? Orientation::item_based : Orientation::user_based;
        return *this;
    }
    AutoencoderOptions& dropout(double input, double hidden_rate) {
        input_dropout = input;
        hidden_dropout = hidden_rate;
        return *this;
    }
    AutoencoderOptions& lr(double v) { learning_rate = v; return *this; }
    AutoencoderOptions& l2(double v) { weight_decay = v; return *this; }
    AutoencoderOptions& batch(std::size_t v) { batch_size = v; return *this; }
    AutoencoderOptions& n_epochs(int v) { epochs = v; return *this; }
    AutoencoderOptions& random_seed(std::uint64_t v) { seed = v; return *this; }
    AutoencoderOptions& normalization(nn::MaskNormalization v) { loss_normalization = v; return *this; }
    AutoencoderOptions& lazy(bool v = true) { lazy_adam = v; return *this; }
    AutoencoderOptions& clamp(double lo, double hi) {
        clamp_min = lo;
        clamp_max = hi;
        return *this;
    }
    AutoencoderOptions& fallback(bool v = true) { unseen_fallback = v; return *this; }
    AutoencoderOptions& stop_early(EarlyStopping e) { early_stopping = std::move(e); return *this; }
    AutoencoderOptions& residual_of_baseline(bool v = true) { residual = v; return *this; }
    AutoencoderOptions& clamp_to_training_range(bool v = true) { clamp_to_training = v; return *this; }
    AutoencoderOptions& select(AutoencoderSelection s) { selection = std::move(s); return *this; }
    /// Keeps what a user set explicitly out of the selection: the regularisation strength
    /// (lambda), the residual flag, the epoch count. A selection left with nothing to choose is
    /// removed. No effect without a selection.
    AutoencoderOptions& keep_fixed(bool lambda, bool residual_flag, bool epoch_count) {
        if (!selection) return *this;
        if (lambda) selection->lambdas.clear();
        if (residual_flag) selection->try_residual = false;
        if (epoch_count) selection->choose_epochs = false;
        if (selection->lambdas.empty() && !selection->try_residual && !selection->choose_epochs) selection.reset();
        return *this;
    }
    /// Full-batch L-BFGS with AutoRec's objective and this lambda, `iterations` iterations.
    AutoencoderOptions& lbfgs(double lambda, int iterations) {
        solver = Solver::lbfgs;
        l2_lambda = lambda;
        epochs = iterations;
        return *this;
    }

    /// The notebook's model (the defaults).
    static AutoencoderOptions notebook() { return AutoencoderOptions{}; }

    /// The accuracy preset: I-AutoRec (Sedhain et al. 2015) as the paper trained it -- item-based, one
    /// hidden layer of 500 sigmoid units, identity output, full-batch L-BFGS on the squared error of
    /// the observed ratings + lambda/2 ||W||^2 -- with what depends on the data chosen on a
    /// validation part of the user's training data (AutoencoderSelection): lambda from
    /// {30, 100, 300}, plain or residual over a bias baseline, and the iteration count (at most
    /// 80). Predictions are clamped to the training ratings' range; items and users without
    /// training ratings are scored by a user+item bias baseline. docs/benchmarks.md ("Accuracy
    /// preset") has how it was chosen and how it holds on data it was not chosen on.
    static AutoencoderOptions autorec() {
        AutoencoderOptions o;
        o.hidden = {500};
        o.hidden_activation = ActivationKind::sigmoid;
        o.output_activation = ActivationKind::identity;
        o.orientation = Orientation::item_based;
        o.lbfgs(100.0, 80);
        o.clamp_to_training = true;
        o.unseen_fallback = true;
        AutoencoderSelection sel;
        sel.lambdas = {30.0, 100.0, 300.0};
        sel.try_residual = true;
        o.selection = sel;
        return o;
    }

    /// @throws InvalidArgument naming the field when an option is out of range.
    void validate() const {
        check_arg(!hidden.empty(), "AutoencoderOptions: at least one hidden layer is needed");
        for (std::size_t l = 0; l < hidden.size(); ++l)
            check_arg(hidden[l] > 0, "AutoencoderOptions: hidden layer ", l, " has width 0");
        check_arg(std::isfinite(input_dropout) && input_dropout >= 0 && input_dropout < 1,
                  "AutoencoderOptions: input_dropout must be in [0, 1), got ", input_dropout);
        check_arg(std::isfinite(hidden_dropout) && hidden_dropout >= 0 && hidden_dropout < 1,
                  "AutoencoderOptions: hidden_dropout must be in [0, 1), got ", hidden_dropout);
        check_arg(std::isfinite(learning_rate) && learning_rate > 0,
                  "AutoencoderOptions: learning_rate must be > 0, got ", learning_rate);
        check_arg(std::isfinite(weight_decay) && weight_decay >= 0,
                  "AutoencoderOptions: weight_decay must be >= 0, got ", weight_decay);
        check_arg(batch_size > 0, "AutoencoderOptions: batch_size must be > 0");
        check_arg(epochs > 0, "AutoencoderOptions: epochs must be > 0, got ", epochs);
        check_arg(clamp_min.has_value() == clamp_max.has_value(),
                  "AutoencoderOptions: set both clamp_min and clamp_max, or neither");
        if (clamp_min)
            check_arg(*clamp_min <= *clamp_max, "AutoencoderOptions: clamp_min (", *clamp_min, ") > clamp_max (",
                      *clamp_max, ")");
        if (early_stopping)
            check_arg(early_stopping->monitor == "val_rmse" || early_stopping->monitor == "val_mae",
                      "AutoencoderOptions: early stopping can monitor 'val_rmse' or 'val_mae', not '",
                      early_stopping->monitor, "'");
        check_arg(std::isfinite(l2_lambda) && l2_lambda >= 0, "AutoencoderOptions: l2_lambda must be >= 0, got ",
                  l2_lambda);
        check_arg(lbfgs_history >= 1, "AutoencoderOptions: lbfgs_history must be >= 1");
        if (selection) {
            for (const double l : selection->lambdas)
                check_arg(std::isfinite(l) && l >= 0, "AutoencoderOptions: selection lambda must be >= 0, got ", l);
            check_arg(std::isfinite(selection->validation_fraction) && selection->validation_fraction > 0 &&
                          selection->validation_fraction < 1,
                      "AutoencoderOptions: selection validation_fraction must be in (0, 1), got ",
                      selection->validation_fraction);
            check_arg(selection->patience >= 0, "AutoencoderOptions: selection patience must be >= 0, got ",
                      selection->patience);
        }
        if (solver == Solver::lbfgs) {
            check_arg(input_dropout == 0 && hidden_dropout == 0,
                      "AutoencoderOptions: the lbfgs solver is deterministic full-batch training: dropout must be 0");
            check_arg(weight_decay == 0 && !lazy_adam,
                      "AutoencoderOptions: weight_decay and lazy_adam are Adam options; the lbfgs solver uses l2_lambda");
        } else {
            check_arg(l2_lambda == 0, "AutoencoderOptions: l2_lambda is the lbfgs solver's; Adam uses weight_decay");
        }
    }
};

/// `o` without its selection, for cfnet::tune (tune.hpp), which does the choosing itself.
inline AutoencoderOptions without_own_selection(AutoencoderOptions o) {
    o.selection.reset();
    return o;
}

/// AutoencoderOptions in a model file (options_io.hpp): one metadata key per field, the key being
/// the field's name. early_stopping and selection are not stored (they only steer a fit; a loaded model has
/// neither).
template <>
inline const OptionsTable<AutoencoderOptions>& options_table<AutoencoderOptions>() {
    using O = AutoencoderOptions;
    static const OptionsTable<O> table =
        OptionsTable<O>()
            .list("hidden", &O::hidden, ',')
            .enumeration("hidden_activation", &O::hidden_activation, activation_from_string)
            .enumeration("output_activation", &O::output_activation, activation_from_string)
            .choice("orientation", &O::orientation,
                    {{"user_based", Orientation::user_based}, {"item_based", Orientation::item_based}})
            .number("input_dropout", &O::input_dropout)
            .number("hidden_dropout", &O::hidden_dropout)
            .number("learning_rate", &O::learning_rate)
            .number("weight_decay", &O::weight_decay)
            .flag("decoupled_weight_decay", &O::decoupled_weight_decay)
            .integer("batch_size", &O::batch_size)
            .integer("epochs", &O::epochs)
            .integer("seed", &O::seed)
            .choice("loss_normalization", &O::loss_normalization,
                    {{"per_sample", nn::MaskNormalization::per_sample}, {"global", nn::MaskNormalization::global}})
            .flag("lazy_adam", &O::lazy_adam)
            .optional_number("clamp_min", &O::clamp_min)
            .optional_number("clamp_max", &O::clamp_max)
            .flag("unseen_fallback", &O::unseen_fallback)
            .choice("solver", &O::solver, {{"adam", Solver::adam}, {"lbfgs", Solver::lbfgs}})
            .number("l2_lambda", &O::l2_lambda)
            .integer("lbfgs_history", &O::lbfgs_history)
            .flag("residual", &O::residual)
            .default_if_missing()
            .flag("clamp_to_training", &O::clamp_to_training)
            .default_if_missing();
    return table;
}

}  // namespace cfnet
