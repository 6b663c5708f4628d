#pragma once
/// @file autoencoder.hpp
/// AutoencoderCF<T>: the notebook's rating autoencoder (U-AutoRec) and its item-based variant
/// (I-AutoRec, Sedhain et al. 2015) as a library class.
///
/// The defaults are exactly the notebook's model: the input is a user's rating vector over all
/// items (0 where unrated), Dense 512 -> 256 -> 64 -> 256 -> 512 -> n_items, ReLU on every hidden
/// layer, linear output, Glorot-uniform weights and zero biases, the masked per-sample-normalised
/// MSE (nn/loss.hpp, MaskNormalization::per_sample), Adam with Keras' defaults (lr 1e-3), batch 32,
/// 20 epochs, rows reshuffled every epoch.
///
/// @code
///   cfnet::AutoencoderCF<> model;                   // the notebook's configuration
///   cfnet::History h = model.fit(split.train);      // or fit(split.train, validation)
///   std::vector<float> p = model.predict(split.train, split.test);  // leak-free: input = train
///   auto top = model.recommend(split.train, user, 10);  // a user of the training matrix
///   auto new_user = model.recommend(items, ratings, 10);  // fold-in of a user not seen in training
///   model.recommend_batch(split.train, users, 10, [](cfnet::index_type u, const auto& recs) { ... });
///   model.save("ae.cfnet");
///   auto again = cfnet::AutoencoderCF<>::load("ae.cfnet");
/// @endcode
///
/// ## Training is sparse and exact
/// One step on a batch of B rows never forms a B x n_items matrix:
/// - the first layer's forward pass and weight gradient are sparse x dense products over the
///   observed entries of the batch (its weight is stored n_in x h1, one contiguous row per input
///   unit);
/// - the last layer is evaluated, and back-propagated, only at the observed entries the masked
///   loss reads (its weight is stored n_out x h_k, one contiguous row per output unit);
/// - the middle layers are small dense GEMMs.
/// This is the same loss and the same gradients as the dense computation (tests/models compare
/// with a dense reference). Adam is exact (dense) by default: every weight is updated every step,
/// as Keras does. The update of each weight row is fused into the pass that produces its
/// gradient, while the row is in cache, and nothing is allocated inside a step.
/// `AutoencoderOptions::lazy_adam` updates only the rows of the first and last layer that the
/// batch touched (TensorFlow's LazyAdam): faster on large, very sparse data, but NOT the same
/// optimizer (rows left out keep value and moments; see optim/adam.hpp).
///
/// ## Orientation
/// user_based (the notebook's): a row is a user's ratings over items. item_based (I-AutoRec): a
/// row is an item's ratings over users; the model's input/output units are then users.
/// Every public function takes and returns (user, item) in the training data's index space
/// whatever the orientation.
///
/// ## Leak-free prediction
/// predict(input, pairs) feeds `input` (pass the training matrix) and reads the outputs at the
/// pairs. The notebook fed the full matrix, test ratings included, which leaks the answers; call
/// predict(full_matrix, test) to reproduce that figure, and label it as leaky.

#include <cfnet/baselines.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/sparse_output_dense.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/optim/lbfgs.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
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
    /// Full-batch L-BFGS with AutoRec's objective and this lambda, `iterations` iterations.
    AutoencoderOptions& lbfgs(double lambda, int iterations) {
        solver = Solver::lbfgs;
        l2_lambda = lambda;
        epochs = iterations;
        return *this;
    }

    /// The notebook's model (the defaults).
    static AutoencoderOptions notebook() { return AutoencoderOptions{}; }

    /// The accuracy preset: I-AutoRec (Sedhain et al. 2015) as the paper trained it. Item-based, one
    /// hidden layer of 500 sigmoid units, identity output, full-batch L-BFGS on the squared error of
    /// the observed ratings + lambda/2 ||W||^2 with lambda = 200, 80 iterations, predictions
    /// clamped to [1, 5], items and users without training ratings scored by a user+item bias
    /// baseline. lambda and the iteration count were chosen on validation parts of TRAINING data
    /// only (docs/benchmarks.md, "Accuracy preset"). For 1..5 star ratings.
    static AutoencoderOptions autorec() {
        AutoencoderOptions o;
        o.hidden = {500};
        o.hidden_activation = ActivationKind::sigmoid;
        o.output_activation = ActivationKind::identity;
        o.orientation = Orientation::item_based;
        o.lbfgs(200.0, 80);
        o.clamp(1.0, 5.0);
        o.unseen_fallback = true;
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

/// AutoencoderOptions in a model file (options_io.hpp): one metadata key per field, the key being
/// the field's name. early_stopping is not stored (it only steers a fit; a loaded model has none).
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
            .integer("lbfgs_history", &O::lbfgs_history);
    return table;
}

namespace detail {

/// Independent seeds for the model's random streams (splitmix64 of seed + stream).
inline std::uint64_t ae_seed(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/// Stream numbers of ae_seed: weights, shuffling, dropout masks.
inline constexpr std::uint64_t ae_stream_init = 0, ae_stream_shuffle = 1, ae_stream_dropout = 2;

/// The network: a composition of toolkit layers. Weight layer l maps sizes[l] -> sizes[l+1]:
/// layer 0 is an nn::SparseInputDense (the input is a batch of sparse rating rows), the middle
/// layers are nn::Dense with the hidden activation fused, the last an nn::SparseOutputDense
/// evaluated only at the observed entries the masked loss reads; hidden dropout is nn::Dropout on
/// one shared mask stream. Parameters (slots 2l, 2l+1) are "layer<l>.weight" and "layer<l>.bias":
/// layer 0's weight is sizes[0] x sizes[1] (a row per input unit), the last layer's sizes[L] x
/// sizes[L-1] (a row per output unit), the middle weights in x out.
template <class T>
class AutoencoderNet {
public:
    using size_type = std::size_t;

    AutoencoderNet() = default;

    /// Draws every weight with Glorot-uniform in in x out order, layer by layer; biases 0.
    AutoencoderNet(size_type n_units, const std::vector<size_type>& hidden, ActivationKind hidden_act,
                   ActivationKind output_act, Rng& rng)
        : layers_(std::make_unique<Layers>()) {
        sizes_.push_back(n_units);
        sizes_.insert(sizes_.end(), hidden.begin(), hidden.end());
        sizes_.push_back(n_units);
        const auto init = nn::init::glorot_uniform();
        const size_type L = layers();
        layers_->in = nn::SparseInputDense<T>(sizes_[0], sizes_[1], rng, init, hidden_act);
        layers_->mid.reserve(L - 2);
        for (size_type l = 1; l + 1 < L; ++l)
            layers_->mid.emplace_back(sizes_[l], sizes_[l + 1], rng, init, true, nn::WeightLayout::in_out, hidden_act);
        layers_->out = nn::SparseOutputDense<T>(sizes_[L - 1], sizes_[L], rng, init, output_act);
        const auto ps = parameters();
        for (size_type s = 0; s < ps.size(); ++s)
            ps[s]->name = "layer" + std::to_string(s / 2) + (s % 2 ? ".bias" : ".weight");
    }

    AutoencoderNet(const AutoencoderNet& o)
        : sizes_(o.sizes_), layers_(o.layers_ ? std::make_unique<Layers>(*o.layers_) : nullptr) {}
    AutoencoderNet& operator=(const AutoencoderNet& o) {
        if (this != &o) *this = AutoencoderNet(o);
        return *this;
    }
    // Moving keeps the layers' heap storage: the parameters keep their addresses.
    AutoencoderNet(AutoencoderNet&&) noexcept = default;
    AutoencoderNet& operator=(AutoencoderNet&&) noexcept = default;

    size_type layers() const noexcept { return sizes_.empty() ? 0 : sizes_.size() - 1; }
    const std::vector<size_type>& sizes() const noexcept { return sizes_; }
    size_type n_units() const noexcept { return sizes_.empty() ? 0 : sizes_.front(); }
    size_type code_width() const noexcept { return sizes_[sizes_.size() - 2]; }
    ActivationKind hidden_activation() const noexcept { return layers_->in.activation(); }
    ActivationKind output_activation() const noexcept { return layers_->out.activation(); }

    /// Every parameter, slot by slot (layer 0's weight and bias, ..., the last layer's).
    nn::ParameterList<T> parameters() const {
        nn::ParameterList<T> out;
        if (!layers_) return out;
        for (auto* p : layers_->in.parameters()) out.push_back(p);
        for (auto& d : layers_->mid)
            for (auto* p : d.parameters()) out.push_back(p);
        for (auto* p : layers_->out.parameters()) out.push_back(p);
        return out;
    }
    const T* weight(size_type l) const { return parameters()[2 * l]->value.data(); }
    const T* bias(size_type l) const { return parameters()[2 * l + 1]->value.data(); }

    /// Scratch space of an inference pass (forward_hidden), grown on demand and reused.
    struct Workspace {
        typename nn::SparseInputDense<T>::Columns columns;
        std::vector<Matrix<T>> y;  // per hidden layer: its output (y.back(): the code)
    };

    /// The hidden layers' inference pass for the rows of `input` (no dropout; const: concurrent calls
    /// with their own workspaces are safe): after it, ws.y.back() holds the code (rows x code_width()).
    void forward_hidden(const nn::SparseBatch<T>& input, Workspace& ws) const {
        const size_type k = layers() - 1;
        ws.y.resize(k);
        layers_->in.infer(input, ws.columns, ws.y[0]);
        for (size_type l = 1; l < k; ++l) layers_->mid[l - 1].infer(ws.y[l - 1], ws.y[l]);
    }

    /// Output unit j for code row `code` (width code_width()), after the output activation.
    T output_at(const T* code, size_type j) const { return layers_->out.infer_one(code, j); }

    /// All output units for `rows` code rows into out (rows x n_units), after the output activation.
    void output_all(const T* codes, size_type rows, T* out) const { layers_->out.infer_all(codes, rows, out); }

    /// Output unit j for `rows` code rows into out[0..rows), after the output activation.
    void output_unit(const T* codes, size_type rows, size_type j, T* out) const {
        layers_->out.infer_unit(codes, rows, j, out);
    }

    /// One training step on a batch: the loss of the outputs at `target`'s entries against its
    /// values, for the input `input` (the same rows; its entries may be a dropped-out subset of
    /// target's), with hidden dropout drawn from `dropout_rng` when it is not null and
    /// hidden_dropout > 0.
    ///
    /// adam == nullptr: ADDS the gradients into every Parameter::grad (no update).
    /// adam != nullptr: begin_step() and Adam's update of every parameter through the layers' fused
    /// path (nn/update.hpp): each weight row updated as soon as its gradient is known; lazy: the
    /// rows of the sparse layers without entries in the batch are left alone. The parameters' grads
    /// are not used then.
    double step(const nn::SparseBatch<T>& input, const nn::SparseBatch<T>& target, const nn::MaskedMSE<T>& loss,
                optim::Adam<T>* adam, bool lazy, double hidden_dropout, Rng* dropout_rng) {
        Layers& ls = *layers_;
        const size_type n = target.rows(), L = layers(), k = L - 1;
        const bool drop = dropout_rng != nullptr && hidden_dropout > 0;
        if (drop && (ls.drop.size() != k || ls.drop[0].rate() != hidden_dropout)) ls.drop.assign(k, nn::Dropout<T>(hidden_dropout));

        // forward through the hidden layers
        const Matrix<T>* h = &ls.in.forward(input);
        if (drop) h = &ls.drop[0].forward(*h, *dropout_rng);
        for (size_type l = 1; l < k; ++l) {
            h = &ls.mid[l - 1].forward(*h);
            if (drop) h = &ls.drop[l].forward(*h, *dropout_rng);
        }

        // the output layer, the loss's gradient and the output layer's backward pass in one pass over
        // its weight rows (each updated while in cache)
        if (adam) adam->begin_step();
        auto update = [&](size_type slot, nn::RowUpdate<T>& u) -> const nn::RowUpdate<T>* {
            if (!adam) return nullptr;
            u = adam->row_update(slot, lazy);
            return &u;
        };
        nn::RowUpdate<T> uw, ub;
        const size_type nnz = target.nnz();
        if (pred_.size() < nnz) pred_.resize(nnz);
        if (dpred_.size() < nnz) dpred_.resize(nnz);
        if (scale_.size() < n) scale_.resize(n);
        loss.gradient_scales(target.row_ptr().data(), n, scale_.data());
        const T* tv = target.values().data();
        const T* scale = scale_.data();
        const Matrix<T>* g = &ls.out.forward_backward_at(
            *h, target, [&](size_type r, size_type pos, T pred) { return scale[r] * (pred - tv[pos]); }, pred_.data(),
            update(2 * k, uw), update(2 * k + 1, ub));
        // the loss value, from the predictions (its gradient, recomputed into dpred, was used above)
        const double value = loss.sparse_value_and_gradient(target.row_ptr().data(), n, pred_.data(), tv, dpred_.data());

        // backward through the hidden layers
        for (size_type l = k; l-- > 1;) {
            if (drop) g = &ls.drop[l].backward(*g);
            g = &ls.mid[l - 1].backward(*g, update(2 * l, uw), update(2 * l + 1, ub));
        }
        if (drop) g = &ls.drop[0].backward(*g);
        ls.in.backward(*g, update(0, uw), update(1, ub));
        return value;
    }

private:
    struct Layers {
        nn::SparseInputDense<T> in;
        std::vector<nn::Dense<T>> mid;
        nn::SparseOutputDense<T> out;
        std::vector<nn::Dropout<T>> drop;  // one per hidden layer, masks drawn from step's dropout_rng
    };

    std::vector<size_type> sizes_;
    std::unique_ptr<Layers> layers_;
    std::vector<T> pred_, dpred_, scale_;  // the output layer's predictions, the loss gradient, its scales
};

/// Appends row `row` of `m` to `batch` (the row's observed entries, in increasing column order).
template <class T>
void add_matrix_row(nn::SparseBatch<T>& batch, const RatingMatrix<T>& m, index_type row) {
    const auto items = m.user_items(row);
    const auto values = m.user_ratings(row);
    batch.add_row(items.data(), values.data(), items.size());
}

}  // namespace detail

/// The notebook's rating autoencoder as a reusable model; see the file comment.
template <class T = float>
class AutoencoderCF {
public:
    using value_type = T;
    using size_type = std::size_t;
    using Net = detail::AutoencoderNet<T>;

    /// @throws InvalidArgument when an option is out of range (AutoencoderOptions::validate).
    explicit AutoencoderCF(AutoencoderOptions options = {}) : opt_(std::move(options)) { opt_.validate(); }

    AutoencoderCF(const AutoencoderCF& o)
        : opt_(o.opt_), net_(o.net_), adam_(o.adam_), user_map_(o.user_map_), item_map_(o.item_map_), unit_seen_(o.unit_seen_),
          train_mean_(o.train_mean_) {
        rebind();
    }
    AutoencoderCF& operator=(const AutoencoderCF& o) {
        if (this != &o) {
            AutoencoderCF tmp(o);
            *this = std::move(tmp);
        }
        return *this;
    }
    // Moving keeps the parameters' heap storage (std::vector moves its buffer): no rebind needed.
    AutoencoderCF(AutoencoderCF&&) = default;
    AutoencoderCF& operator=(AutoencoderCF&&) = default;

    const AutoencoderOptions& options() const noexcept { return opt_; }
    bool fitted() const noexcept { return net_.layers() > 0; }
    /// Recommender interface: predict() gives ratings (recommender.hpp).
    bool predicts_ratings() const noexcept { return true; }
    /// Fold-in (recommend(items, ratings, ...), predict_user) works for user_based models only.
    bool supports_fold_in() const noexcept { return opt_.orientation == Orientation::user_based; }
    /// Number of input (= output) units: items for user_based, users for item_based.
    size_type n_units() const noexcept { return net_.n_units(); }
    /// The original ids of the units (the training data's item ids, or user ids when item_based).
    const std::vector<id_type>& unit_ids() const noexcept {
        return opt_.orientation == Orientation::user_based ? item_map_.ids() : user_map_.ids();
    }
    /// The users of the training matrix the model was fitted on (its input/output units when
    /// item_based; for a user_based model, the user index space of predict/recommend calls with the
    /// training matrix as input).
    const IdMap& user_map() const noexcept { return user_map_; }
    /// The items of the training matrix (the input/output units when user_based).
    const IdMap& item_map() const noexcept { return item_map_; }
    const Net& network() const noexcept { return net_; }

    /// The trainable parameters, slot by slot ("layer<l>.weight", "layer<l>.bias").
    /// @throws InvalidArgument before initialize() or fit().
    nn::ParameterList<T> parameters() {
        check_fitted("parameters");
        return net_.parameters();
    }

    /// Builds the network for `train`'s index space with fresh weights from the seed, without
    /// training (fit() calls it). @throws InvalidArgument if `train` has no ratings.
    void initialize(const RatingMatrix<T>& train) {
        check_arg(!train.empty(), "AutoencoderCF::fit: the training matrix has no ratings (", train.n_users(),
                  " users x ", train.n_items(), " items)");
        const bool ub = opt_.orientation == Orientation::user_based;
        const IdMap& units = ub ? train.items() : train.users();
        Rng rng(detail::ae_seed(opt_.seed, detail::ae_stream_init));
        net_ = Net(units.size(), opt_.hidden, opt_.hidden_activation, opt_.output_activation, rng);
        user_map_ = train.users();
        item_map_ = train.items();
        unit_seen_.assign(units.size(), 0);
        if (ub) {
            for (size_type i = 0; i < train.n_items(); ++i) unit_seen_[i] = train.item_count(static_cast<index_type>(i)) > 0;
        } else {
            for (size_type u = 0; u < train.n_users(); ++u) unit_seen_[u] = train.user_count(static_cast<index_type>(u)) > 0;
        }
        train_mean_ = train.mean();
        adam_.reset();
        make_optimizer();
    }

    /// Trains from scratch on `train` (fresh weights from the seed). `callbacks` get
    /// on_train_begin / on_epoch_begin / on_batch_end / on_epoch_end / on_train_end (train.hpp).
    /// @throws InvalidArgument on an empty training matrix, or when early stopping is configured
    /// (it needs validation data).
    /// @throws NumericalError when the loss becomes NaN or infinite.
    History fit(const RatingMatrix<T>& train, const std::vector<Callback*>& callbacks = {}) {
        return fit_impl(train, nullptr, callbacks);
    }

    /// fit(train, callbacks) with validation data in the same index space: each epoch records
    /// "val_rmse" and "val_mae" of predict(train, validation) (leak-free), and early stopping (when
    /// configured) restores the best epoch's weights.
    /// @throws InvalidArgument as fit(train), or when `validation` is in another index space.
    History fit(const RatingMatrix<T>& train, const RatingMatrix<T>& validation,
                const std::vector<Callback*>& callbacks = {}) {
        return fit_impl(train, &validation, callbacks);
    }

    /// The loss of the rows `rows` of `data` (user indices, or item indices when item_based) with
    /// the current weights, ADDING its gradients into parameters()' grads (zero them first). No
    /// dropout, no update: for gradient checks and the dense-reference tests.
    /// @throws InvalidArgument before initialize(), for an index out of range or another unit space.
    double loss_and_gradient(const RatingMatrix<T>& data, const std::vector<index_type>& rows) {
        check_fitted("loss_and_gradient");
        const bool ub = opt_.orientation == Orientation::user_based;
        std::optional<RatingMatrix<T>> transposed;
        if (!ub) transposed.emplace(data.transposed());
        const RatingMatrix<T>& d = ub ? data : *transposed;
        check_space(d, "loss_and_gradient");
        nn::SparseBatch<T> batch(d.n_items());
        for (const auto r : rows) {
            check_arg(r < d.n_users(), "AutoencoderCF::loss_and_gradient: row index ", r, " out of range (",
                      d.n_users(), " rows)");
            detail::add_matrix_row(batch, d, r);
        }
        const nn::MaskedMSE<T> loss(opt_.loss_normalization);
        return net_.step(batch, batch, loss, nullptr, false, 0.0, nullptr);
    }

    // --- prediction -----------------------------------------------------------------------------

    /// Predictions for (user index, item index) pairs with `input` as the model's input (pass the
    /// training matrix: leak-free). Indices are in `input`'s index space, which must have the
    /// training data's units (items for user_based, users for item_based). Clamped and with the
    /// unseen-unit fallback when the options say so.
    /// @throws InvalidArgument before fit(), on another unit space or an index out of range.
    std::vector<T> predict(const RatingMatrix<T>& input, const std::vector<std::pair<index_type, index_type>>& pairs) const {
        check_fitted("predict");
        const bool ub = opt_.orientation == Orientation::user_based;
        std::vector<index_type> rows(pairs.size()), cols(pairs.size());
        for (size_type p = 0; p < pairs.size(); ++p) {
            const auto [u, i] = pairs[p];
            check_arg(u < input.n_users() && i < input.n_items(), "AutoencoderCF::predict: pair ", p, " (user index ",
                      u, ", item index ", i, ") is outside the input's ", input.n_users(), " users x ",
                      input.n_items(), " items");
            rows[p] = ub ? u : i;
            cols[p] = ub ? i : u;
        }
        return predict_impl(input, rows, cols, pairs);
    }

    /// Predictions for every pair stored in `pairs` (e.g. the test matrix), in its CSR order
    /// (user by user, items increasing), with `input` as the model's input (see above).
    std::vector<T> predict(const RatingMatrix<T>& input, const RatingMatrix<T>& pairs) const {
        check_arg(input.n_users() == pairs.n_users() && input.n_items() == pairs.n_items(),
                  "AutoencoderCF::predict: input is ", input.n_users(), " x ", input.n_items(), " but pairs is ",
                  pairs.n_users(), " x ", pairs.n_items());
        std::vector<std::pair<index_type, index_type>> list;
        list.reserve(pairs.nnz());
        for (size_type u = 0; u < pairs.n_users(); ++u)
            for (const auto i : pairs.user_items(static_cast<index_type>(u))) list.emplace_back(static_cast<index_type>(u), i);
        return predict(input, list);
    }

    /// Fold-in: the predicted rating of every item for a user given only their ratings (item
    /// indices of the training space and values; any order, no repeats). The user need not have
    /// been in training. Clamped when configured; unseen items get the training mean when
    /// unseen_fallback is on. user_based only (an item-based model has no input for a new user).
    /// @throws InvalidArgument for an item-based model, an item index out of range or repeated.
    std::vector<T> predict_user(const std::vector<index_type>& items, const std::vector<T>& ratings) const {
        auto scores = score_user(items, ratings, "predict_user");
        for (size_type i = 0; i < scores.size(); ++i) scores[i] = finish(scores[i], static_cast<index_type>(i), nullptr, 0, items.empty());
        return scores;
    }

    /// Fold-in top-k: the k best-scored items for a user given only their ratings (see
    /// predict_user), best first, ties by smaller index; excludes the rated items unless
    /// exclude_seen is false. Scores are the raw network outputs (no clamping or fallback).
    std::vector<Recommendation<T>> recommend(const std::vector<index_type>& items, const std::vector<T>& ratings,
                                             size_type k, bool exclude_seen = true) const {
        const auto scores = score_user(items, ratings, "recommend");
        std::vector<index_type> seen(items);
        std::sort(seen.begin(), seen.end());
        return detail::select_recommendations("AutoencoderCF::recommend", detail::folded_in_user, scores.data(),
                                              scores.size(), k, exclude_seen ? seen.data() : nullptr,
                                              exclude_seen ? seen.data() + seen.size() : nullptr);
    }

    /// Scores of every item for user `user` of `input` (raw network outputs, no clamping or
    /// fallback), written to out[0 .. input.n_items()). The model's input is `input`'s rows (pass
    /// the training matrix: leak-free). For an item_based model this computes every item's code
    /// from `input` (O(ratings x width)); use recommend_batch() or make_scorer() for many users.
    /// @throws InvalidArgument before fit(), for another unit space or a user index out of range.
    void score_items(const RatingMatrix<T>& input, index_type user, T* out) const {
        check_fitted("score_items");
        check_arg(user < input.n_users(), "AutoencoderCF::score_items: user index ", user, " out of range (",
                  input.n_users(), " users)");
        const Scorer s = make_scorer(input);
        s(user, out);
    }

    /// Top-k items for user `user` of `input` (its row of `input` is the model's input), best first,
    /// ties by smaller index; excludes the user's items in `input` unless exclude_seen is false.
    /// Equal to the fold-in recommend(items, ratings, k, exclude_seen) with that user's ratings.
    /// @throws InvalidArgument as score_items(); NumericalError for a NaN candidate score
    ///         (recommender.hpp's NaN policy, also for the fold-in and batch forms).
    std::vector<Recommendation<T>> recommend(const RatingMatrix<T>& input, index_type user, size_type k,
                                             bool exclude_seen = true) const {
        check_fitted("recommend");
        check_arg(user < input.n_users(), "AutoencoderCF::recommend: user index ", user, " out of range (",
                  input.n_users(), " users)");
        std::vector<T> scores(input.n_items());
        make_scorer(input)(user, scores.data());
        const auto seen = input.user_items(user);
        return detail::select_recommendations("AutoencoderCF::recommend", user, scores.data(), scores.size(), k,
                                              exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr);
    }

    /// Top-k for each of `users` of `input`, streamed: sink(user, recs) is called once per user in
    /// the order given, with recs as recommend(input, user, k, exclude_seen) returns them. Users are
    /// scored a few at a time: memory O(chunk x items), never users x items.
    /// @throws InvalidArgument as score_items() (before any sink call when a user is out of range).
    template <class Sink>
    void recommend_batch(const RatingMatrix<T>& input, const std::vector<index_type>& users, size_type k, Sink&& sink,
                         bool exclude_seen = true) const {
        check_fitted("recommend_batch");
        for (const auto u : users)
            check_arg(u < input.n_users(), "AutoencoderCF::recommend_batch: user index ", u, " out of range (",
                      input.n_users(), " users)");
        const Scorer scorer = make_scorer(input);
        const size_type chunk = 64, ni = input.n_items();
        std::vector<T> scores;
        std::vector<index_type> batch, ranked;
        std::vector<Recommendation<T>> recs;
        for (size_type b0 = 0; b0 < users.size(); b0 += chunk) {
            const size_type b1 = std::min(users.size(), b0 + chunk);
            batch.assign(users.begin() + static_cast<std::ptrdiff_t>(b0), users.begin() + static_cast<std::ptrdiff_t>(b1));
            scorer.score_batch(batch, scores);
            for (size_type r = 0; r < batch.size(); ++r) {
                const auto seen = input.user_items(batch[r]);
                detail::select_recommendations("AutoencoderCF::recommend_batch", batch[r], scores.data() + r * ni, ni, k,
                                               exclude_seen ? seen.begin() : nullptr,
                                               exclude_seen ? seen.end() : nullptr, ranked, recs);
                sink(batch[r], static_cast<const std::vector<Recommendation<T>>&>(recs));
            }
        }
    }

    /// Scores every item for users of a fixed input matrix (raw network outputs), for top-N
    /// evaluation: `scorer(u, out)` fills out[0..n_items). Item-based models compute every item's
    /// code once here (memory O(items x code width)).
    class Scorer {
    public:
        /// out[i] = score of item i for user u.
        void operator()(index_type u, T* out) const {
            std::vector<T> tmp;
            score_batch({u}, tmp);
            std::copy(tmp.begin(), tmp.end(), out);
        }
        /// scores = users.size() x n_items scores, row r for users[r].
        void score_batch(const std::vector<index_type>& users, std::vector<T>& scores) const {
            const size_type ni = input_->n_items(), B = users.size();
            scores.resize(B * ni);
            for (const auto u : users)
                check_arg(u < input_->n_users(), "AutoencoderCF::Scorer: user index ", u, " out of range (",
                          input_->n_users(), " users)");
            const Net& net = model_->net_;
            if (model_->opt_.orientation == Orientation::user_based) {
                nn::SparseBatch<T> batch(ni);
                for (const auto u : users) detail::add_matrix_row(batch, *input_, u);
                typename Net::Workspace ws;
                net.forward_hidden(batch, ws);
                net.output_all(ws.y.back().data(), B, scores.data());
            } else {
                // scores(r, i) = output unit users[r] for item i's code
                for (size_type r = 0; r < B; ++r) net.output_unit(codes_.data(), ni, users[r], scores.data() + r * ni);
            }
        }

    private:
        friend class AutoencoderCF;
        const AutoencoderCF* model_ = nullptr;
        const RatingMatrix<T>* input_ = nullptr;
        std::vector<T> codes_;  // item_based: n_items x code width
    };

    /// A Scorer over `input` (kept by reference: it must outlive the scorer).
    /// @throws InvalidArgument before fit() or when input has another unit space.
    Scorer make_scorer(const RatingMatrix<T>& input) const {
        check_fitted("make_scorer");
        Scorer s;
        s.model_ = this;
        s.input_ = &input;
        if (opt_.orientation == Orientation::user_based) {
            check_space(input, "make_scorer");
        } else {
            const RatingMatrix<T> d = input.transposed();
            check_space(d, "make_scorer");
            s.codes_ = codes(d);
        }
        return s;
    }

    // --- persistence ----------------------------------------------------------------------------

    /// Writes the configuration (metadata "model" = "AutoencoderCF", the options, the training
    /// matrix's user and item ids) and the weights to `path`.
    /// @throws InvalidArgument before fit(); IoError when the file cannot be written.
    void save(const std::string& path) const { save(path, false); }

    /// save(path), plus Adam's state when with_optimizer (to resume training exactly).
    void save(const std::string& path, bool with_optimizer) const {
        check_fitted("save");
        auto& self = const_cast<AutoencoderCF&>(*this);  // refs are read-only here
        Metadata meta = metadata();
        check_arg(!with_optimizer || adam_.has_value(), "AutoencoderCF::save: with_optimizer: the ",
                  to_string(opt_.solver), " solver keeps no optimizer state between fits");
        meta["with_optimizer"] = with_optimizer ? "1" : "0";
        meta["adam_steps"] = std::to_string(adam_ ? adam_->steps() : 0);
        std::vector<nn::TensorRef<T>> refs = parameter_refs(self.net_.parameters());
        Matrix<T> seen = Matrix<T>::from_shape({1, unit_seen_.size()});
        for (size_type i = 0; i < unit_seen_.size(); ++i) seen(0, i) = unit_seen_[i] ? T(1) : T(0);
        refs.push_back({"unit_seen", &seen});
        if (with_optimizer)
            for (auto& r : self.adam_->state()) refs.push_back(r);
        save_tensors(path, meta, refs);
    }

    /// Reads a model written by save(). @throws IoError for an unreadable or corrupt file, or a file
    /// of another model (naming the file and, for bad metadata, the key); InvalidArgument for a file
    /// of another scalar type, or tensors that do not fit the configuration.
    static AutoencoderCF load(const std::string& path) {
        const ModelFile<T> file = read_model_file<T>(path);
        const MetadataReader meta(file.metadata, "AutoencoderCF::load", path);
        if (meta.text("model") != "AutoencoderCF")
            throw IoError("AutoencoderCF::load: '" + path + "' holds a '" + meta.text("model") +
                          "' model, not AutoencoderCF");
        const AutoencoderOptions o = read_options<AutoencoderOptions>(meta);
        try {
            o.validate();
        } catch (const InvalidArgument& e) {
            throw IoError("AutoencoderCF::load: '" + path + "': " + e.what());
        }
        AutoencoderCF m(o);
        m.user_map_ = IdMap(meta.integers<id_type>("user_ids", ','), "user");
        m.item_map_ = IdMap(meta.integers<id_type>("item_ids", ','), "item");
        const size_type n_units = m.unit_ids().size();
        check_arg(n_units > 0, "AutoencoderCF::load: '", path, "' has no units");
        Rng rng(0);
        m.net_ = Net(n_units, o.hidden, o.hidden_activation, o.output_activation, rng);
        m.train_mean_ = meta.number("train_mean");
        m.make_optimizer();
        const bool with_opt = meta.flag("with_optimizer");
        check_arg(!with_opt || m.adam_.has_value(), "AutoencoderCF::load: '", path,
                  "' has optimizer state but its solver is not adam");
        std::vector<nn::TensorRef<T>> refs = parameter_refs(m.net_.parameters());
        Matrix<T> seen = xt::zeros<T>({size_type(1), n_units});
        refs.push_back({"unit_seen", &seen});
        if (with_opt)
            for (auto& r : m.adam_->state()) refs.push_back(r);
        assign_tensors(file, refs, UnknownTensors::reject, path);
        m.unit_seen_.assign(n_units, 0);
        for (size_type i = 0; i < m.unit_seen_.size(); ++i) m.unit_seen_[i] = seen(0, i) != T(0);
        if (with_opt) m.adam_->set_steps(meta.count("adam_steps"));
        return m;
    }

    /// load(path), then checks that the model's units are `data`'s (its items for a user-based
    /// model, its users for an item-based one).
    /// @throws InvalidArgument naming both sizes when the spaces differ.
    static AutoencoderCF load(const std::string& path, const RatingMatrix<T>& data) {
        AutoencoderCF m = load(path);
        if (m.opt_.orientation == Orientation::user_based)
            m.check_space(data, "load");
        else
            m.check_space(data.transposed(), "load");
        return m;
    }

    /// Adam's state (moments by slot), e.g. to compare two runs. @throws before fit().
    optim::Adam<T>& optimizer() {
        check_fitted("optimizer");
        check_arg(adam_.has_value(), "AutoencoderCF::optimizer: the solver is not adam");
        return *adam_;
    }

private:
    History fit_impl(const RatingMatrix<T>& train, const RatingMatrix<T>* validation,
                     const std::vector<Callback*>& callbacks) {
        if (validation)
            check_arg(train.same_space(*validation), "AutoencoderCF::fit: validation (", validation->n_users(),
                      " users x ", validation->n_items(), " items) is not in the training matrix's index space (",
                      train.n_users(), " x ", train.n_items(), ")");
        check_arg(!opt_.early_stopping || validation != nullptr,
                  "AutoencoderCF::fit: early stopping needs validation data");
        initialize(train);
        const bool ub = opt_.orientation == Orientation::user_based;
        std::optional<RatingMatrix<T>> transposed;
        if (!ub) transposed.emplace(train.transposed());
        const RatingMatrix<T>& data = ub ? train : *transposed;

        // Validation: "val_rmse" and "val_mae" of predict(train, validation) after every epoch. Its
        // per-fit invariants (the input in the model's orientation -- `data` --, the fallback baseline
        // fitted on train, the pairs) are made once here, not per epoch.
        std::optional<Validation> val;
        if (validation && !validation->empty()) val.emplace(*this, train, *validation);
        std::vector<Matrix<T>> best;
        FitHooks hooks;
        if (val)
            hooks.validate = [&](EpochRecord& rec) {
                const auto pred = predict_oriented(data, val->fallback ? &*val->fallback : nullptr, val->rows,
                                                   val->cols, val->pairs);
                const auto rep = evaluate_rating(*validation, PredictionsAt{validation, &pred});
                rec.metrics["val_rmse"] = rep.rmse;
                rec.metrics["val_mae"] = rep.mae;
            };
        hooks.snapshot = [&] { snapshot(best); };
        hooks.restore = [&] { restore(best); };
        FitLoop loop("AutoencoderCF", callbacks, opt_.early_stopping, std::move(hooks));
        if (opt_.solver == Solver::lbfgs) return fit_lbfgs(data, loop);

        const size_type n_rows = data.n_users(), bs = opt_.batch_size;
        const size_type steps = (n_rows + bs - 1) / bs;
        Rng shuffle_rng(detail::ae_seed(opt_.seed, detail::ae_stream_shuffle));
        Rng drop_rng(detail::ae_seed(opt_.seed, detail::ae_stream_dropout));
        const nn::MaskedMSE<T> loss(opt_.loss_normalization);
        nn::SparseBatch<T> input(data.n_items()), target(data.n_items());
        const bool in_drop = opt_.input_dropout > 0;
        const bool hid_drop = opt_.hidden_dropout > 0;
        std::vector<index_type> dropped_idx;
        std::vector<T> dropped_val;
        const T keep_scale = static_cast<T>(1.0 / (1.0 - opt_.input_dropout));

        return loop.run(opt_.epochs, steps, [&](int /*epoch*/) {
            const auto order = shuffle_rng.permutation<index_type>(n_rows);
            for (size_type s = 0; s < steps; ++s) {
                const size_type b0 = s * bs, b1 = std::min(n_rows, b0 + bs);
                target.clear();
                if (in_drop) input.clear();
                for (size_type r = b0; r < b1; ++r) {
                    detail::add_matrix_row(target, data, order[r]);
                    if (in_drop) {
                        const auto items = data.user_items(order[r]);
                        const auto vals = data.user_ratings(order[r]);
                        dropped_idx.clear();
                        dropped_val.clear();
                        for (size_type p = 0; p < items.size(); ++p) {
                            if (drop_rng.uniform() < opt_.input_dropout) continue;
                            dropped_idx.push_back(items[p]);
                            dropped_val.push_back(vals[p] * keep_scale);
                        }
                        input.add_row(dropped_idx.data(), dropped_val.data(), dropped_idx.size());
                    }
                }
                const double l = net_.step(in_drop ? input : target, target, loss, &*adam_, opt_.lazy_adam,
                                           opt_.hidden_dropout, hid_drop ? &drop_rng : nullptr);
                loop.batch_end(s + 1, l, static_cast<double>(b1 - b0));
            }
        });
    }


    /// Solver::lbfgs: full-batch L-BFGS on F = SSE + lambda/2 sum ||W||^2 (see Solver). `data` is
    /// `train` in the model's orientation. One epoch of `loop` is one L-BFGS iteration (one step).
    History fit_lbfgs(const RatingMatrix<T>& data, FitLoop& loop) {
        const auto ps = net_.parameters();
        size_type n_params = 0;
        for (const auto* p : ps) n_params += p->value.size();
        std::vector<T> x(n_params);
        auto unpack = [&](const T* xv) {
            for (auto* p : ps) {
                std::copy(xv, xv + p->value.size(), p->value.data());
                xv += p->value.size();
            }
        };
        {
            T* xv = x.data();
            for (const auto* p : ps) xv = std::copy(p->value.data(), p->value.data() + p->value.size(), xv);
        }
        const nn::MaskedMSE<T> loss(nn::MaskNormalization::global);
        nn::SparseBatch<T> batch(data.n_items());
        const size_type n_rows = data.n_users();
        const size_type widest = *std::max_element(opt_.hidden.begin(), opt_.hidden.end());
        const size_type chunk = std::max<size_type>(1, (size_type(1) << 22) / widest);  // <= 4M workspace floats
        const double lambda = opt_.l2_lambda;
        const double n_ratings = static_cast<double>(data.nnz());

        // F and its gradient: the rows in chunks; each chunk's gradient of the (global) masked MSE
        // times its rating count is its gradient of the sum of squares.
        auto objective = [&](const T* xv, T* g) -> double {
            unpack(xv);
            double sse = 0;
            bool first = true;
            for (size_type b0 = 0; b0 < n_rows; b0 += chunk) {
                const size_type b1 = std::min(n_rows, b0 + chunk);
                batch.clear();
                for (size_type r = b0; r < b1; ++r) detail::add_matrix_row(batch, data, static_cast<index_type>(r));
                const size_type nnz = batch.nnz();
                if (nnz == 0) continue;
                for (auto* p : ps) p->zero_grad();
                sse += static_cast<double>(nnz) * net_.step(batch, batch, loss, nullptr, false, 0.0, nullptr);
                const T scale = static_cast<T>(nnz);
                T* gv = g;
                for (const auto* p : ps) {
                    const T* gp = p->grad.data();
                    const size_type sz = p->grad.size();
                    if (first)
                        for (size_type k = 0; k < sz; ++k) gv[k] = scale * gp[k];
                    else
                        for (size_type k = 0; k < sz; ++k) gv[k] += scale * gp[k];
                    gv += sz;
                }
                first = false;
            }
            if (first) std::fill(g, g + n_params, T(0));
            double penalty = 0;
            const T lam = static_cast<T>(lambda);
            T* gv = g;
            for (size_type k = 0; k < ps.size(); ++k) {
                const T* w = ps[k]->value.data();
                const size_type sz = ps[k]->value.size();
                if (k % 2 == 0 && lambda > 0) {  // weights (even slots), not biases
                    double s = 0;
                    for (size_type q = 0; q < sz; ++q) {
                        s += static_cast<double>(w[q]) * static_cast<double>(w[q]);
                        gv[q] += lam * w[q];
                    }
                    penalty += s;
                }
                gv += sz;
            }
            return sse + 0.5 * lambda * penalty;
        };

        loop.begin(opt_.epochs, 1);
        loop.begin_epoch();
        auto on_iteration = [&](int it, double f, const T* xv) {
            unpack(xv);
            loop.batch_end(1, f / n_ratings);
            const bool stop = loop.end_epoch();
            if (!stop && it < opt_.epochs) loop.begin_epoch();
            return stop;
        };
        optim::Lbfgs<T> solver(optim::LbfgsOptions()
                                   .history(opt_.lbfgs_history)
                                   .max_iterations(opt_.epochs)
                                   .gradient_tolerance(0.0));
        solver.minimize(objective, x.data(), n_params, on_iteration);
        unpack(x.data());
        return loop.finish();
    }

    /// The per-fit invariants of validating on `validation` with `train` as the input.
    struct Validation {
        std::vector<std::pair<index_type, index_type>> pairs;  // the validation pairs, CSR order
        std::vector<index_type> rows, cols;                    // ... in the model's orientation
        std::optional<BiasBaseline<T>> fallback;               // unseen_fallback: fitted on train
        Validation(const AutoencoderCF& m, const RatingMatrix<T>& train, const RatingMatrix<T>& validation) {
            const bool ub = m.opt_.orientation == Orientation::user_based;
            pairs.reserve(validation.nnz());
            for (size_type u = 0; u < validation.n_users(); ++u)
                for (const auto i : validation.user_items(static_cast<index_type>(u)))
                    pairs.emplace_back(static_cast<index_type>(u), i);
            rows.reserve(pairs.size());
            cols.reserve(pairs.size());
            for (const auto& [u, i] : pairs) {
                rows.push_back(ub ? u : i);
                cols.push_back(ub ? i : u);
            }
            if (m.opt_.unseen_fallback) fallback.emplace().fit(train);
        }
    };

    struct PredictionsAt {  // predictions aligned with a matrix's CSR order, as a predict_fn
        const RatingMatrix<T>* m;
        const std::vector<T>* pred;
        T operator()(index_type u, index_type i) const {
            const auto items = m->user_items(u);
            const auto pos = static_cast<size_type>(std::lower_bound(items.begin(), items.end(), i) - items.begin());
            return (*pred)[m->row_ptr()[u] + pos];
        }
    };

    void check_fitted(const char* fn) const {
        check_arg(fitted(), "AutoencoderCF::", fn, ": the model is not fitted (call fit() or load())");
    }

    /// `d` is in the model's orientation (rows x units).
    void check_space(const RatingMatrix<T>& d, const char* fn) const {
        const char* unit = opt_.orientation == Orientation::user_based ? "item" : "user";
        const auto& ids = unit_ids();
        check_arg(d.n_items() == ids.size(), "AutoencoderCF::", fn, ": the data has ", d.n_items(), " ", unit,
                  "s but the model was trained on ", ids.size(), " ", unit,
                  "s (mismatched ", unit, " space)");
        check_arg(d.items().ids() == ids, "AutoencoderCF::", fn, ": the data's ", unit,
                  " ids differ from the model's (same count, ", ids.size(), ", but a mismatched ", unit,
                  " space)");
    }

    void make_optimizer() {
        if (opt_.solver != Solver::adam) return;
        optim::AdamOptions ao;
        ao.lr(opt_.learning_rate).weight_decay(opt_.weight_decay).decoupled_weight_decay(opt_.decoupled_weight_decay);
        adam_.emplace(net_.parameters(), ao);
    }

    void rebind() {
        if (adam_) adam_->rebind(net_.parameters());
    }

    void snapshot(std::vector<Matrix<T>>& out) const {
        out.clear();
        for (const auto* p : net_.parameters()) out.push_back(p->value);
    }
    void restore(const std::vector<Matrix<T>>& in) {
        const auto ps = net_.parameters();
        for (size_type k = 0; k < ps.size(); ++k) std::copy(in[k].begin(), in[k].end(), ps[k]->value.begin());
    }

    Metadata metadata() const {
        Metadata m;
        m["model"] = "AutoencoderCF";
        m["cfnet_version"] = CFNET_VERSION_STRING;
        write_options(opt_, m);
        m["train_mean"] = metadata_number(train_mean_);
        m["user_ids"] = metadata_list(user_map_.ids(), ',');
        m["item_ids"] = metadata_list(item_map_.ids(), ',');
        return m;
    }

    /// Codes (rows x code width) of every row of `d` (model orientation), in batches.
    std::vector<T> codes(const RatingMatrix<T>& d) const {
        const size_type h = net_.code_width(), n = d.n_users(), chunk = 256;
        std::vector<T> out(n * h);
        nn::SparseBatch<T> batch(d.n_items());
        typename Net::Workspace ws;
        for (size_type b0 = 0; b0 < n; b0 += chunk) {
            const size_type b1 = std::min(n, b0 + chunk);
            batch.clear();
            for (size_type r = b0; r < b1; ++r) detail::add_matrix_row(batch, d, static_cast<index_type>(r));
            net_.forward_hidden(batch, ws);
            std::copy(ws.y.back().data(), ws.y.back().data() + (b1 - b0) * h, out.data() + b0 * h);
        }
        return out;
    }

    /// Clamp and fallback of one prediction for output unit `unit`.
    T finish(T v, index_type unit, const BiasBaseline<T>* fallback, index_type other, bool row_empty) const {
        if (opt_.unseen_fallback && (row_empty || !unit_seen_[unit])) {
            if (!fallback) {
                v = static_cast<T>(train_mean_);
            } else {
                const bool ub = opt_.orientation == Orientation::user_based;
                v = ub ? fallback->predict(other, unit) : fallback->predict(unit, other);
            }
        }
        if (opt_.clamp_min) v = std::min(std::max(v, static_cast<T>(*opt_.clamp_min)), static_cast<T>(*opt_.clamp_max));
        return v;
    }

    std::vector<T> predict_impl(const RatingMatrix<T>& input, const std::vector<index_type>& rows,
                                const std::vector<index_type>& cols,
                                const std::vector<std::pair<index_type, index_type>>& pairs) const {
        const bool ub = opt_.orientation == Orientation::user_based;
        std::optional<RatingMatrix<T>> transposed;
        if (!ub) transposed.emplace(input.transposed());
        const RatingMatrix<T>& d = ub ? input : *transposed;
        check_space(d, "predict");
        std::optional<BiasBaseline<T>> fallback;
        if (opt_.unseen_fallback && !input.empty()) fallback.emplace().fit(input);
        return predict_oriented(d, fallback ? &*fallback : nullptr, rows, cols, pairs);
    }

    /// predict_impl with the input already in the model's orientation (`d`, checked) and the
    /// fallback baseline already fitted on the input (null: none).
    std::vector<T> predict_oriented(const RatingMatrix<T>& d, const BiasBaseline<T>* fallback,
                                    const std::vector<index_type>& rows, const std::vector<index_type>& cols,
                                    const std::vector<std::pair<index_type, index_type>>& pairs) const {
        const bool ub = opt_.orientation == Orientation::user_based;
        std::vector<size_type> order(rows.size());
        std::iota(order.begin(), order.end(), size_type(0));
        std::stable_sort(order.begin(), order.end(), [&](size_type a, size_type b) { return rows[a] < rows[b]; });
        std::vector<T> out(rows.size());
        nn::SparseBatch<T> batch(d.n_items());
        typename Net::Workspace ws;
        const size_type chunk = 256, h = net_.code_width();
        std::vector<index_type> batch_rows;
        size_type p = 0;
        while (p < order.size()) {
            batch.clear();
            batch_rows.clear();
            size_type q = p;
            while (q < order.size() && (batch_rows.size() < chunk || rows[order[q]] == batch_rows.back())) {
                const index_type r = rows[order[q]];
                if (batch_rows.empty() || batch_rows.back() != r) {
                    batch_rows.push_back(r);
                    detail::add_matrix_row(batch, d, r);
                }
                ++q;
            }
            net_.forward_hidden(batch, ws);
            const T* code = ws.y.back().data();
            size_type local = 0;
            for (size_type e = p; e < q; ++e) {
                const size_type idx = order[e];
                while (batch_rows[local] != rows[idx]) ++local;
                const T v = net_.output_at(code + local * h, cols[idx]);
                const index_type other = ub ? pairs[idx].first : pairs[idx].second;
                out[idx] = finish(v, cols[idx], fallback, other, d.user_count(rows[idx]) == 0);
            }
            p = q;
        }
        return out;
    }

    std::vector<T> score_user(const std::vector<index_type>& items, const std::vector<T>& ratings,
                              const char* fn) const {
        check_fitted(fn);
        check_arg(opt_.orientation == Orientation::user_based, "AutoencoderCF::", fn,
                  ": fold-in of a user needs a user_based model (an item_based model has no input unit for a "
                  "user it was not trained on)");
        check_arg(items.size() == ratings.size(), "AutoencoderCF::", fn, ": ", items.size(), " items but ",
                  ratings.size(), " ratings");
        const size_type n = n_units();
        std::vector<size_type> order(items.size());
        std::iota(order.begin(), order.end(), size_type(0));
        for (const auto i : items)
            check_arg(i < n, "AutoencoderCF::", fn, ": item index ", i, " out of range (", n, " items)");
        std::sort(order.begin(), order.end(), [&](size_type a, size_type b) { return items[a] < items[b]; });
        std::vector<index_type> idx(items.size());
        std::vector<T> val(items.size());
        for (size_type k = 0; k < order.size(); ++k) {
            idx[k] = items[order[k]];
            val[k] = ratings[order[k]];
            check_arg(k == 0 || idx[k - 1] != idx[k], "AutoencoderCF::", fn, ": item index ", idx[k], " is repeated");
        }
        nn::SparseBatch<T> batch(n);
        batch.add_row(idx.data(), val.data(), idx.size());
        typename Net::Workspace ws;
        net_.forward_hidden(batch, ws);
        std::vector<T> scores(n);
        net_.output_all(ws.y.back().data(), 1, scores.data());
        return scores;
    }

    AutoencoderOptions opt_;
    Net net_;
    std::optional<optim::Adam<T>> adam_;
    IdMap user_map_, item_map_;
    std::vector<std::uint8_t> unit_seen_;
    double train_mean_ = 0.0;
};

static_assert(is_recommender_v<AutoencoderCF<float>> && supports_fold_in_v<AutoencoderCF<float>>,
              "AutoencoderCF implements the recommender interface (recommender.hpp), with fold-in");

}  // namespace cfnet
