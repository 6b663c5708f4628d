#pragma once
/// @file neural_cf.hpp
/// NeuralCF<T>: neural collaborative filtering (He et al., "Neural Collaborative Filtering", WWW 2017)
/// with the notebook's embedding + MLP model as its default configuration.
///
/// Architectures (NcfArchitecture):
/// - mlp:   [P_u, Q_i] -> Dense h1 ReLU -> ... -> Dense hL ReLU -> Dense 1 (the notebook's model:
///          embeddings of 32, hidden 128 and 64);
/// - gmf:   P'_u (*) Q'_i (element-wise) -> Dense 1;
/// - neumf: [P'_u (*) Q'_i, MLP tower output] -> Dense 1 (separate embeddings for the two towers).
/// Optional user and item bias terms add b_u + b_i to the output.
///
/// Feedback (Feedback):
/// - ratings:  regression on the observed ratings with the mean squared error (the notebook's);
/// - implicit: every observed pair is a positive; `negatives` items the user did not interact with
///             are sampled per positive, afresh every epoch (data/sampling.hpp); binary cross-entropy
///             on the output logit. Validation by HR@k / NDCG@k / Precision@k over the held-out pairs.
///
/// Training: Adam (Keras' rule and defaults, optim/adam.hpp) on mini-batches of shuffled pairs;
/// embeddings are gathered and their gradients scattered for the rows of the batch only, all GEMMs
/// write into buffers reused from batch to batch. The first Dense layer is computed as
/// P_u W_top + Q_i W_bottom on the batch's distinct users and items (and its backward pass on the
/// gradients summed per distinct row): fewer GEMM rows than the batch whenever users or items repeat;
/// bias and ReLU (forward) and the ReLU mask and bias gradient (backward) are fused into single
/// passes over each product. Adam is applied densely to every row by default
/// (exactly Keras' behaviour: moments of rows absent from the batch still decay and the rows still
/// move); `lazy_embedding_updates` updates only the rows in the batch (TensorFlow's LazyAdam: not the
/// same optimisation, but O(batch) instead of O(users + items) per step, which matters at
/// MovieLens-25M scale).
///
/// Scoring: the first Dense layer over [P_u, Q_i] equals P_u W_top + Q_i W_bottom, so after
/// training both projections are computed once per user and once per item; score_items() then
/// runs the remaining layers over all items of a user as GEMMs on blocks of 512 items, each product
/// followed by one fused bias + ReLU pass (the last one fused with the output layer's dot product)
/// while the block is still in cache.
///
///   cfnet::NeuralCF<> model;                       // the notebook's configuration
///   cfnet::History h = model.fit(split.train);     // 20% of train held out for validation
///   float r = model.predict(user_index, item_index);
///   auto top = model.recommend(user_index, 10);    // {item, score}, best first, seen items excluded
///
/// Thread safety: const member functions may run concurrently; fit/load/initialize may not.

#include <cfnet/baselines.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/sampling.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/error.hpp>
#include <cfnet/kernels/dense.hpp>
#include <cfnet/kernels/relu.hpp>
#include <cfnet/kernels/vector.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
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

namespace detail {

template <class T>
void ncf_ensure(Matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape(0) != rows || m.shape(1) != cols) m.resize({rows, cols});
}

/// Distinct values of idx[0..n) in first-appearance order, using `mark` (all 0 on entry and on exit).
inline void ncf_unique_rows(const index_type* idx, std::size_t n, std::vector<std::uint8_t>& mark,
                            std::vector<std::size_t>& out) {
    out.clear();
    for (std::size_t b = 0; b < n; ++b)
        if (!mark[idx[b]]) {
            mark[idx[b]] = 1;
            out.push_back(idx[b]);
        }
    for (const auto r : out) mark[r] = 0;
}

inline constexpr index_type ncf_no_slot = std::numeric_limits<index_type>::max();

/// Distinct values of idx[0..n) in first-appearance order into rows, and pos[b] = position of
/// idx[b] in rows; `slot` (one entry per possible value) is all ncf_no_slot on entry and on exit.
inline void ncf_unique_slots(const index_type* idx, std::size_t n, std::vector<index_type>& slot,
                             std::vector<std::size_t>& rows, std::vector<index_type>& pos) {
    rows.clear();
    pos.resize(n);
    for (std::size_t b = 0; b < n; ++b) {
        index_type& s = slot[idx[b]];
        if (s == ncf_no_slot) {
            s = static_cast<index_type>(rows.size());
            rows.push_back(idx[b]);
        }
        pos[b] = s;
    }
    for (const auto r : rows) slot[r] = ncf_no_slot;
}

}  // namespace detail

/// Neural collaborative filtering. See the file comment.
template <class T = float>
class NeuralCF {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @throws InvalidArgument if the options are invalid (see NeuralCFOptions::validate).
    explicit NeuralCF(NeuralCFOptions options = {}) : opt_(std::move(options)) { opt_.validate(); }

    const NeuralCFOptions& options() const noexcept { return opt_; }
    bool initialized() const noexcept { return initialized_; }
    size_type n_users() const noexcept { return nu_; }
    size_type n_items() const noexcept { return ni_; }

    // --- construction of the network -----------------------------------------------------------

    /// Builds the network for n_users x n_items with fresh weights drawn from options().seed
    /// (Keras' initialisers: embeddings U(-0.05, 0.05), Dense kernels Glorot-uniform, zero biases,
    /// bias terms zero). fit() calls it; call it directly to use parameters() / compute_gradients()
    /// without training. Forgets any id maps and seen items of an earlier fit.
    /// @throws InvalidArgument if n_users or n_items is 0.
    void initialize(size_type n_users, size_type n_items) {
        check_arg(n_users > 0 && n_items > 0, "NeuralCF::initialize: need users and items, got ", n_users, " x ",
                  n_items);
        nu_ = n_users;
        ni_ = n_items;
        const size_type d = opt_.embedding_dim;
        Rng rng(opt_.seed);
        const auto emb_init = nn::init::uniform(-0.05, 0.05);
        auto make_table = [&](const char* name, size_type rows, size_type cols, bool random) {
            nn::Parameter<T> p(name, rows, cols);
            if (random) emb_init(p.value, rows, cols, rng);
            return p;
        };
        user_mlp_ = item_mlp_ = user_gmf_ = item_gmf_ = user_bias_ = item_bias_ = nn::Parameter<T>();
        if (has_mlp()) {
            user_mlp_ = make_table("user_mlp", nu_, d, true);
            item_mlp_ = make_table("item_mlp", ni_, d, true);
        }
        if (has_gmf()) {
            user_gmf_ = make_table("user_gmf", nu_, d, true);
            item_gmf_ = make_table("item_gmf", ni_, d, true);
        }
        if (opt_.bias_terms) {
            user_bias_ = make_table("user_bias", nu_, 1, false);
            item_bias_ = make_table("item_bias", ni_, 1, false);
        }
        hidden_.clear();
        dropout_.clear();
        out_.reset();
        if (has_mlp()) {
            hidden_.reserve(opt_.hidden.size());
            size_type in = 2 * d;
            for (size_type l = 0; l < opt_.hidden.size(); ++l) {
                hidden_.emplace_back(in, opt_.hidden[l], rng, dense_initializer(in), true);
                init_dense_bias(hidden_.back(), in, rng);
                in = opt_.hidden[l];
                if (opt_.dropout > 0) dropout_.emplace_back(opt_.dropout, opt_.seed + 1000 + l);
            }
        }
        out_.emplace(out_width(), 1, rng, dense_initializer(out_width()), true);
        init_dense_bias(*out_, out_width(), rng);
        H_.assign(hidden_.size(), Matrix<T>());
        dA_.assign(hidden_.size(), Matrix<T>());
        dX_l_.assign(hidden_.size(), Matrix<T>());
        xin_.assign(hidden_.size() + 1, nullptr);
        user_slot_.assign(nu_, detail::ncf_no_slot);
        item_slot_.assign(ni_, detail::ncf_no_slot);
        user_mark_.assign(nu_, 0);
        item_mark_.assign(ni_, 0);
        users_ = items_ = nullptr;
        seen_ptr_.assign(nu_ + 1, 0);
        seen_items_.clear();
        fallback_ = false;
        initialized_ = true;
        refresh_inference_cache();
    }

    /// Every trainable parameter, in a fixed order: the embedding tables that exist (user_mlp,
    /// item_mlp, user_gmf, item_gmf, user_bias, item_bias), then the hidden Dense layers (weight,
    /// bias each), then the output layer (weight, bias).
    /// @throws InvalidArgument if the model is not initialized.
    nn::ParameterList<T> parameters() {
        check_init("parameters");
        nn::ParameterList<T> out;
        for (auto* t : tables()) out.push_back(t);
        for (auto& h : hidden_)
            for (auto* p : h.parameters()) out.push_back(p);
        for (auto* p : out_->parameters()) out.push_back(p);
        return out;
    }

    /// The parameters as named tensors ("user_mlp", ..., "dense0.weight", "dense0.bias", ...,
    /// "output.weight", "output.bias"): what save() stores.
    std::vector<nn::TensorRef<T>> named_tensors() {
        check_init("named_tensors");
        std::vector<nn::TensorRef<T>> out;
        for (auto* t : tables()) out.push_back({t->name, &t->value});
        for (size_type l = 0; l < hidden_.size(); ++l)
            for (auto* p : hidden_[l].parameters()) out.push_back({"dense" + std::to_string(l) + "." + p->name, &p->value});
        for (auto* p : out_->parameters()) out.push_back({"output." + p->name, &p->value});
        return out;
    }

    // --- training --------------------------------------------------------------------------------

    /// Trains a freshly initialized network on `train` (users and items are train's index space).
    /// Without `validation`, options().validation_fraction of train's pairs are held out (seeded
    /// random split) and reported on after every epoch; the model then trains on the rest.
    /// Recorded metrics: explicit "val_loss" (MSE) and "val_rmse"; implicit "val_hr@k",
    /// "val_ndcg@k", "val_precision@k" (every held-out pair relevant, items of the training pairs
    /// excluded from the ranking). Early stopping monitors one of them.
    /// Items the user interacted with in `train` (all of it) are what recommend() excludes.
    /// With options().refit, after the selection run (whose epochs come first in the history, with
    /// their validation metrics) the model is retrained from scratch on all of `train` for the
    /// selected number of epochs; those epochs follow in the history (numbered on, no validation
    /// metrics), best_epoch is then 0 (the model holds the last epoch) and the callbacks see two
    /// runs (on_train_begin ... on_train_end twice).
    /// @throws InvalidArgument if train is empty, validation is in another index space, early
    ///         stopping is set without validation data, or a user rated every item (implicit).
    /// @throws NumericalError if the loss becomes NaN or infinite.
    /// `callbacks` get on_train_begin / on_epoch_begin / on_batch_end / on_epoch_end / on_train_end
    /// (train.hpp); any on_epoch_end returning true stops training after that epoch (stopped_early).
    History fit(const RatingMatrix<T>& train, const std::vector<Callback*>& callbacks = {}) {
        return fit_impl(train, nullptr, callbacks);
    }

    /// Trains on all of `train` and reports on `validation` (same index space) after every epoch.
    /// @throws InvalidArgument also if options().refit is set (it needs fit()'s own hold-out).
    History fit(const RatingMatrix<T>& train, const RatingMatrix<T>& validation,
                const std::vector<Callback*>& callbacks = {}) {
        check_arg(!opt_.refit, "NeuralCF::fit: options().refit retrains after selecting on fit()'s own hold-out; "
                               "with a validation matrix, turn refit off");
        check_arg(train.same_space(validation), "NeuralCF::fit: validation (", validation.n_users(), " users x ",
                  validation.n_items(), " items) is not in train's index space (", train.n_users(), " x ",
                  train.n_items(), ")");
        return fit_impl(train, &validation, callbacks);
    }

    /// The training objective on one batch (train mode: dropout active), including the L2 term,
    /// without touching the gradients. targets: ratings (explicit) or labels 0/1 (implicit).
    /// @throws InvalidArgument if not initialized, n == 0, or an index is out of range.
    double compute_loss(const index_type* users, const index_type* items, const T* targets, size_type n) {
        check_batch("compute_loss", users, items, n);
        forward_train(users, items, n);
        return loss_and_dz(targets, n, false) + l2_penalty(users, items, n);
    }

    /// As compute_loss, and sets every parameter's grad to the gradient of that loss (for
    /// gradient checks and custom training loops).
    double compute_gradients(const index_type* users, const index_type* items, const T* targets, size_type n) {
        check_batch("compute_gradients", users, items, n);
        nn::zero_grad(parameters());
        forward_train(users, items, n);
        const double loss = loss_and_dz(targets, n, true) + l2_penalty(users, items, n);
        backward_train(users, items, n);
        return loss;
    }

    // --- prediction --------------------------------------------------------------------------------

    /// The model's output for one pair: a rating (explicit) or a logit (implicit; larger = more
    /// likely relevant).
    /// @throws InvalidArgument if not initialized or an index is out of range.
    T predict(index_type user, index_type item) const {
        T out;
        predict(&user, &item, 1, &out);
        return out;
    }

    /// Predictions for (users[k], items[k]), k < n, into out[0..n), in chunks through the network.
    /// @throws InvalidArgument if not initialized or an index is out of range (naming it).
    void predict(const index_type* users, const index_type* items, size_type n, T* out) const {
        check_init("predict");
        for (size_type k = 0; k < n; ++k) {
            check_arg(users[k] < nu_, "NeuralCF::predict: user index ", users[k], " at position ", k,
                      " out of range (", nu_, " users)");
            check_arg(items[k] < ni_, "NeuralCF::predict: item index ", items[k], " at position ", k,
                      " out of range (", ni_, " items)");
        }
        Scratch s;
        for (size_type b = 0; b < n; b += chunk_rows) score_pairs(users + b, items + b, std::min(chunk_rows, n - b), out + b, s);
    }

    /// Predictions for a list of (user index, item index) pairs.
    std::vector<T> predict(const std::vector<std::pair<index_type, index_type>>& pairs) const {
        std::vector<index_type> u(pairs.size()), i(pairs.size());
        for (size_type k = 0; k < pairs.size(); ++k) {
            u[k] = pairs[k].first;
            i[k] = pairs[k].second;
        }
        std::vector<T> out(pairs.size());
        predict(u.data(), i.data(), pairs.size(), out.data());
        return out;
    }

    /// Prediction for original ids (as in the data files).
    /// @throws InvalidArgument naming the id if the user or item is unknown.
    T predict_id(id_type user, id_type item) const { return predict(user_index(user), item_index(item)); }

    /// out[i] = predict(user, i) for every item, all items at once through the network.
    /// @throws InvalidArgument if not initialized or user is out of range.
    void score_items(index_type user, T* out) const {
        check_user("score_items", user);
        Scratch s;
        score_user(user, out, s);
    }

    std::vector<T> score_items(index_type user) const {
        std::vector<T> out(ni_);
        score_items(user, out.data());
        return out;
    }

    /// The k best items for `user` with their scores, best first (ties: smaller index), excluding the
    /// items the user interacted with in the training data when exclude_seen.
    /// @throws InvalidArgument if not initialized or user is out of range.
    /// @throws NumericalError if a candidate's score is NaN.
    std::vector<Recommendation<T>> recommend(index_type user, size_type k, bool exclude_seen = true) const {
        check_user("recommend", user);
        Scratch s;
        std::vector<Recommendation<T>> out;
        recommend_into(user, k, exclude_seen, seen_begin(user), seen_end(user), s, out);
        return out;
    }

    /// Streaming top-k for many users: calls sink(user, const std::vector<Recommendation<T>>& recs)
    /// for each of `users` in order, reusing one score buffer; the same lists as recommend().
    /// @throws InvalidArgument if not initialized or a user is out of range (before any sink call).
    template <class Sink>
    void recommend_batch(const std::vector<index_type>& users, size_type k, Sink&& sink, bool exclude_seen = true) const {
        check_init("recommend_batch");
        for (size_type j = 0; j < users.size(); ++j)
            check_arg(users[j] < nu_, "NeuralCF::recommend_batch: user index ", users[j], " at position ", j,
                      " out of range (", nu_, " users)");
        Scratch s;
        std::vector<Recommendation<T>> out;
        for (const auto u : users) {
            recommend_into(u, k, exclude_seen, seen_begin(u), seen_end(u), s, out);
            sink(u, static_cast<const std::vector<Recommendation<T>>&>(out));
        }
    }

    // --- the recommender interface (recommender.hpp) ----------------------------------------------
    // `input` is the users' interaction history in the model's index space (pass the training
    // matrix). NeuralCF scores from its embeddings alone: `input` only names the items that
    // exclude_seen removes. With the training matrix, each call equals its input-free form above.

    /// True once fit() or load() has run (initialize() alone gives no id maps or seen items).
    bool fitted() const noexcept { return initialized_ && users_ && items_; }
    /// predict() gives ratings for explicit feedback; implicit models give logits.
    bool predicts_ratings() const noexcept { return opt_.feedback == Feedback::ratings; }

    /// predict(pairs), with `input` checked to be in the model's index space.
    /// @throws InvalidArgument before fit/load, for another index space or an index out of range.
    std::vector<T> predict(const RatingMatrix<T>& input, const std::vector<std::pair<index_type, index_type>>& pairs) const {
        check_input(input, "predict");
        return predict(pairs);
    }

    /// Predictions for every pair stored in `pairs` (e.g. the test matrix), in its CSR order.
    /// @throws InvalidArgument as above, or when `pairs` is in another index space than `input`.
    std::vector<T> predict(const RatingMatrix<T>& input, const RatingMatrix<T>& pairs) const {
        check_input(input, "predict");
        check_arg(input.same_space(pairs), "NeuralCF::predict: the pairs are in another index space than the input");
        std::vector<index_type> u, i;
        u.reserve(pairs.nnz());
        i.reserve(pairs.nnz());
        for (size_type r = 0; r < pairs.n_users(); ++r)
            for (const auto item : pairs.user_items(static_cast<index_type>(r))) {
                u.push_back(static_cast<index_type>(r));
                i.push_back(item);
            }
        std::vector<T> out(u.size());
        predict(u.data(), i.data(), u.size(), out.data());
        return out;
    }

    /// score_items(user, out), with `input` checked to be in the model's index space.
    void score_items(const RatingMatrix<T>& input, index_type user, T* out) const {
        check_input(input, "score_items");
        score_items(user, out);
    }

    /// A scorer for top-N evaluation: scorer(u, out) is score_items(u, out) (`this` is kept by
    /// reference: the model must outlive it).
    auto make_scorer(const RatingMatrix<T>& input) const {
        check_input(input, "make_scorer");
        return [this](index_type u, T* out) { score_items(u, out); };
    }

    /// The k best items for `user`, excluding the user's items in `input` when exclude_seen.
    /// @throws InvalidArgument as score_items; NumericalError if a candidate's score is NaN.
    std::vector<Recommendation<T>> recommend(const RatingMatrix<T>& input, index_type user, size_type k,
                                             bool exclude_seen = true) const {
        check_user("recommend", user);
        check_input(input, "recommend");
        Scratch s;
        std::vector<Recommendation<T>> out;
        const auto seen = input.user_items(user);
        recommend_into(user, k, exclude_seen, seen.begin(), seen.end(), s, out);
        return out;
    }

    /// recommend(input, user, k, exclude_seen) for each of `users` in order, streamed to
    /// sink(user, const std::vector<Recommendation<T>>&).
    /// @throws InvalidArgument as recommend (before any sink call).
    template <class Sink>
    void recommend_batch(const RatingMatrix<T>& input, const std::vector<index_type>& users, size_type k, Sink&& sink,
                         bool exclude_seen = true) const {
        check_init("recommend_batch");
        check_input(input, "recommend_batch");
        for (size_type j = 0; j < users.size(); ++j)
            check_arg(users[j] < nu_, "NeuralCF::recommend_batch: user index ", users[j], " at position ", j,
                      " out of range (", nu_, " users)");
        Scratch s;
        std::vector<Recommendation<T>> out;
        for (const auto u : users) {
            const auto seen = input.user_items(u);
            recommend_into(u, k, exclude_seen, seen.begin(), seen.end(), s, out);
            sink(u, static_cast<const std::vector<Recommendation<T>>&>(out));
        }
    }

    /// The training interactions the model keeps (its seen items; every value 1), in its index
    /// space: an `input` for the calls above when the training matrix is not at hand (a loaded
    /// model). With it, recommend(interactions(), u, k) equals recommend(u, k).
    /// @throws InvalidArgument before fit/load.
    RatingMatrix<T> interactions() const {
        check_arg(fitted(), "NeuralCF::interactions: the model is not fitted (call fit or load)");
        return RatingMatrix<T>(users_, items_, seen_ptr_, seen_items_, std::vector<T>(seen_items_.size(), T(1)));
    }

    /// The items user interacted with in the training data (increasing indices).
    Span<index_type> seen_items(index_type user) const {
        check_user("seen_items", user);
        return {seen_items_.data() + seen_ptr_[user], seen_ptr_[user + 1] - seen_ptr_[user]};
    }

    /// Index of an original user id. @throws InvalidArgument if unknown or the model has no id map.
    index_type user_index(id_type id) const {
        check_arg(users_ != nullptr, "NeuralCF::user_index: the model has no user id map (not fitted)");
        return users_->index(id);
    }
    index_type item_index(id_type id) const {
        check_arg(items_ != nullptr, "NeuralCF::item_index: the model has no item id map (not fitted)");
        return items_->index(id);
    }
    /// The user id map of the training space the model was fitted on.
    /// @throws InvalidArgument before fit/load.
    const IdMap& user_map() const {
        check_arg(users_ != nullptr, "NeuralCF::user_map: the model has no user id map (not fitted)");
        return *users_;
    }
    /// The item id map of the training space the model was fitted on.
    /// @throws InvalidArgument before fit/load.
    const IdMap& item_map() const {
        check_arg(items_ != nullptr, "NeuralCF::item_map: the model has no item id map (not fitted)");
        return *items_;
    }

    // --- persistence -------------------------------------------------------------------------------

    /// Saves the configuration, id maps, parameters, seen items (and the fallback baseline) to
    /// `path` (serialize.hpp format). A loaded model predicts bit-identically.
    /// @throws InvalidArgument if not fitted; IoError when writing fails.
    void save(const std::string& path) const {
        check_arg(initialized_ && users_ && items_, "NeuralCF::save: the model is not fitted");
        auto& self = const_cast<NeuralCF&>(*this);  // named_tensors hands out non-const refs; nothing is written
        Metadata meta;
        write_options(opt_, meta);
        meta["model"] = "NeuralCF";
        meta["n_users"] = std::to_string(nu_);
        meta["n_items"] = std::to_string(ni_);
        meta["user_ids"] = metadata_list(users_->ids(), ' ');
        meta["item_ids"] = metadata_list(items_->ids(), ' ');
        meta["fallback"] = fallback_ ? "1" : "0";
        meta["fallback.mu"] = metadata_number(mu_);
        auto refs = self.named_tensors();
        Matrix<T> counts = Matrix<T>::from_shape({1, nu_});
        Matrix<T> seen = Matrix<T>::from_shape({1, seen_items_.size()});
        check_arg(ni_ <= exact_int_limit(), "NeuralCF::save: ", ni_, " items cannot be stored exactly in this scalar type");
        for (size_type u = 0; u < nu_; ++u) counts(0, u) = static_cast<T>(seen_ptr_[u + 1] - seen_ptr_[u]);
        for (size_type k = 0; k < seen_items_.size(); ++k) seen(0, k) = static_cast<T>(seen_items_[k]);
        refs.push_back({"seen.counts", &counts});
        refs.push_back({"seen.items", &seen});
        Matrix<T> fb_u, fb_i;
        if (fallback_) {
            fb_u = Matrix<T>::from_shape({1, nu_});
            fb_i = Matrix<T>::from_shape({1, ni_});
            std::copy(fb_user_.begin(), fb_user_.end(), fb_u.begin());
            std::copy(fb_item_.begin(), fb_item_.end(), fb_i.begin());
            refs.push_back({"fallback.user", &fb_u});
            refs.push_back({"fallback.item", &fb_i});
        }
        save_tensors(path, meta, refs);
    }

    /// Reads a model saved by save(). The options are read by options_table<NeuralCFOptions>();
    /// early_stopping is not stored, so a model trained with refit (whose weights are the refit's)
    /// loads with options().refit == false.
    /// @throws IoError if the file is unreadable, corrupt or not a NeuralCF file (naming the key), or
    ///         its index tensors (seen.counts, seen.items) hold a value that is not a whole number
    ///         in range (naming the tensor); InvalidArgument on a scalar-type or tensor mismatch.
    static NeuralCF load(const std::string& path) {
        ModelFile<T> file = read_model_file<T>(path);
        const MetadataReader meta(file.metadata, "NeuralCF::load", path);
        if (meta.text("model") != "NeuralCF")
            throw IoError("NeuralCF::load: '" + path + "' holds a '" + meta.text("model") + "' model, not NeuralCF");
        NeuralCF m(options_from_metadata(meta, path));
        const size_type nu = meta.count("n_users");
        const size_type ni = meta.count("n_items");
        m.initialize(nu, ni);
        m.users_ = std::make_shared<IdMap>(meta.integers<id_type>("user_ids", ' '), "user");
        m.items_ = std::make_shared<IdMap>(meta.integers<id_type>("item_ids", ' '), "item");
        if (m.users_->size() != nu || m.items_->size() != ni)
            throw IoError("NeuralCF::load: '" + path + "': id maps do not match n_users/n_items");
        const Matrix<T>* seen_stored = file.find("seen.items");
        if (!seen_stored) throw IoError("NeuralCF::load: '" + path + "': tensor 'seen.items' is missing");
        Matrix<T> counts = Matrix<T>::from_shape({1, nu});
        Matrix<T> seen = Matrix<T>::from_shape({1, seen_stored->shape(1)});
        m.fallback_ = meta.flag("fallback");
        Matrix<T> fb_u, fb_i;
        auto refs = m.named_tensors();
        refs.push_back({"seen.counts", &counts});
        refs.push_back({"seen.items", &seen});
        if (m.fallback_) {
            fb_u = Matrix<T>::from_shape({1, nu});
            fb_i = Matrix<T>::from_shape({1, ni});
            refs.push_back({"fallback.user", &fb_u});
            refs.push_back({"fallback.item", &fb_i});
        }
        assign_tensors(file, refs, UnknownTensors::reject, path);
        // Index data stored as T: every value is checked to be a whole number in range before it is
        // converted (a crafted file with a valid checksum must not reach an out-of-range cast).
        const auto bad_index = [&](const char* tensor, size_type k, T v, const char* what) {
            return IoError(detail::concat("NeuralCF::load: '", path, "': tensor '", tensor, "' entry ", k, " = ", v,
                                          " is not ", what));
        };
        m.seen_ptr_.assign(nu + 1, 0);
        for (size_type u = 0; u < nu; ++u) {
            const T v = counts(0, u);
            if (!(v >= 0 && v <= static_cast<T>(ni) && v == std::floor(v)))
                throw bad_index("seen.counts", u, v, detail::concat("a count of items in [0, ", ni, "]").c_str());
            m.seen_ptr_[u + 1] = m.seen_ptr_[u] + static_cast<size_type>(v);
        }
        if (m.seen_ptr_[nu] != seen.size())
            throw IoError(detail::concat("NeuralCF::load: '", path, "': tensor 'seen.counts' adds up to ", m.seen_ptr_[nu],
                                         " but tensor 'seen.items' holds ", seen.size(), " values"));
        m.seen_items_.resize(seen.size());
        for (size_type u = 0; u < nu; ++u)
            for (size_type k = m.seen_ptr_[u]; k < m.seen_ptr_[u + 1]; ++k) {
                const T v = seen(0, k);
                if (!(v >= 0 && v < static_cast<T>(ni) && v == std::floor(v)))
                    throw bad_index("seen.items", k, v, detail::concat("an item index in [0, ", ni, ")").c_str());
                const auto i = static_cast<index_type>(v);
                if (k > m.seen_ptr_[u] && !(m.seen_items_[k - 1] < i))
                    throw bad_index("seen.items", k, v,
                                    detail::concat("above the previous item of user index ", u,
                                                   " (each user's items are stored in increasing order)")
                                        .c_str());
                m.seen_items_[k] = i;
            }
        if (m.fallback_) {
            m.mu_ = meta.number("fallback.mu");
            m.fb_user_.assign(fb_u.begin(), fb_u.end());
            m.fb_item_.assign(fb_i.begin(), fb_i.end());
            m.user_known_.assign(nu, 0);
            m.item_known_.assign(ni, 0);
            for (size_type u = 0; u < nu; ++u) m.user_known_[u] = m.seen_ptr_[u + 1] > m.seen_ptr_[u];
            for (const auto i : m.seen_items_) m.item_known_[i] = 1;
        }
        m.refresh_inference_cache();
        return m;
    }

private:
    /// Rows per block through the scoring network: small enough that a block's activations stay
    /// in L2 between the GEMM and its fused bias/ReLU/dot pass.
    static constexpr size_type chunk_rows = 512;

    struct Scratch {
        Matrix<T> a, b;
        std::vector<T> scores;
        std::vector<index_type> top;
    };

    nn::Initializer dense_initializer(size_type fan_in) const {
        if (opt_.dense_init == DenseInit::glorot_uniform) return nn::init::glorot_uniform();
        const double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
        return nn::init::uniform(-b, b);
    }
    void init_dense_bias(nn::Dense<T>& layer, size_type fan_in, Rng& rng) const {
        if (opt_.dense_init == DenseInit::glorot_uniform) return;  // zeros
        const double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
        for (auto& v : layer.parameters()[1]->value) v = static_cast<T>(rng.uniform(-b, b));
    }

    bool has_mlp() const noexcept { return opt_.architecture != NcfArchitecture::gmf; }
    bool has_gmf() const noexcept { return opt_.architecture != NcfArchitecture::mlp; }
    size_type mlp_out_width() const noexcept { return has_mlp() ? opt_.hidden.back() : 0; }
    size_type out_width() const noexcept { return (has_gmf() ? opt_.embedding_dim : 0) + mlp_out_width(); }

    static size_type exact_int_limit() { return size_type(1) << std::numeric_limits<T>::digits; }

    std::vector<nn::Parameter<T>*> tables() {
        std::vector<nn::Parameter<T>*> t;
        if (has_mlp()) {
            t.push_back(&user_mlp_);
            t.push_back(&item_mlp_);
        }
        if (has_gmf()) {
            t.push_back(&user_gmf_);
            t.push_back(&item_gmf_);
        }
        if (opt_.bias_terms) {
            t.push_back(&user_bias_);
            t.push_back(&item_bias_);
        }
        return t;
    }

    void check_init(const char* fn) const {
        check_arg(initialized_, "NeuralCF::", fn, ": the model is not initialized (call fit, load or initialize)");
    }
    void check_user(const char* fn, index_type user) const {
        check_init(fn);
        check_arg(user < nu_, "NeuralCF::", fn, ": user index ", user, " out of range (", nu_, " users)");
    }
    /// `input` is in the fitted model's index space: same user and item ids.
    void check_input(const RatingMatrix<T>& input, const char* fn) const {
        check_arg(fitted(), "NeuralCF::", fn, ": the model is not fitted (call fit or load)");
        check_arg(input.n_users() == nu_ && input.n_items() == ni_, "NeuralCF::", fn, ": the input has ",
                  input.n_users(), " users x ", input.n_items(), " items but the model was trained on ", nu_, " x ",
                  ni_);
        check_arg(input.users().ids() == users_->ids() && input.items().ids() == items_->ids(), "NeuralCF::", fn,
                  ": the input's user or item ids differ from the model's (same counts, another index space)");
    }
    void check_batch(const char* fn, const index_type* users, const index_type* items, size_type n) const {
        check_init(fn);
        check_arg(n > 0, "NeuralCF::", fn, ": empty batch");
        for (size_type k = 0; k < n; ++k) {
            check_arg(users[k] < nu_, "NeuralCF::", fn, ": user index ", users[k], " at position ", k,
                      " out of range (", nu_, " users)");
            check_arg(items[k] < ni_, "NeuralCF::", fn, ": item index ", items[k], " at position ", k,
                      " out of range (", ni_, " items)");
        }
    }

    // --- training forward / backward ---------------------------------------------------------------

    void forward_train(const index_type* users, const index_type* items, size_type n) {
        const size_type d = opt_.embedding_dim;
        const Matrix<T>* tower = nullptr;
        if (has_mlp()) {
            // First layer on [P_u, Q_i] = P_u W_top + Q_i W_bottom + b: the two projections are
            // computed once per distinct user / item of the batch (fewer rows than the batch).
            const size_type h0 = opt_.hidden.front();
            detail::ncf_unique_slots(users, n, user_slot_, ur_, upos_);
            detail::ncf_unique_slots(items, n, item_slot_, ir_, ipos_);
            const size_type nub = ur_.size(), nib = ir_.size();
            detail::ncf_ensure(Pb_, nub, d);
            detail::ncf_ensure(Qb_, nib, d);
            const T* P = user_mlp_.value.data();
            const T* Q = item_mlp_.value.data();
            for (size_type k = 0; k < nub; ++k) std::copy(P + ur_[k] * d, P + (ur_[k] + 1) * d, Pb_.data() + k * d);
            for (size_type k = 0; k < nib; ++k) std::copy(Q + ir_[k] * d, Q + (ir_[k] + 1) * d, Qb_.data() + k * d);
            {
                auto ps = hidden_.front().parameters();
                const T* W = ps[0]->value.data();  // (2d) x h0
                detail::ncf_ensure(Up_, nub, h0);
                detail::ncf_ensure(Ip_, nib, h0);
                gemm(Trans::no, Trans::no, nub, h0, d, T(1), Pb_.data(), d, W, h0, T(0), Up_.data(), h0);
                gemm(Trans::no, Trans::no, nib, h0, d, T(1), Qb_.data(), d, W + d * h0, h0, T(0), Ip_.data(), h0);
                detail::ncf_ensure(H_[0], n, h0);
                const T* b0 = ps[1]->value.data();
                kernels::gather_add_bias_relu_rows(Up_.data(), Ip_.data(), upos_.data(), ipos_.data(), b0, H_[0].data(), n, h0);
            }
            // The other Dense layers run here as raw GEMMs on their parameters (no copy of the input,
            // bias and ReLU fused into one pass over the product, which is still cache-resident).
            for (size_type l = 0; l < hidden_.size(); ++l) {
                if (l > 0) {
                    auto ps = hidden_[l].parameters();
                    const size_type in = tower->shape(1), out = opt_.hidden[l];
                    xin_[l] = tower;
                    detail::ncf_ensure(H_[l], n, out);
                    kernels::dense_bias_relu(tower->data(), n, in, ps[0]->value.data(), out, ps[1]->value.data(), H_[l].data());
                }
                tower = &H_[l];
                if (!dropout_.empty()) {
                    dropout_[l].set_mode(nn::Mode::train);
                    tower = &dropout_[l].forward(H_[l]);
                }
            }
        }
        if (has_gmf()) {
            detail::ncf_ensure(G_, n, d);
            const T* P = user_gmf_.value.data();
            const T* Q = item_gmf_.value.data();
            for (size_type b = 0; b < n; ++b) {
                const T* p = P + users[b] * d;
                const T* q = Q + items[b] * d;
                T* g = G_.data() + b * d;
                for (size_type j = 0; j < d; ++j) g[j] = p[j] * q[j];
            }
        }
        const Matrix<T>* in = nullptr;
        if (opt_.architecture == NcfArchitecture::mlp) {
            in = tower;
        } else if (opt_.architecture == NcfArchitecture::gmf) {
            in = &G_;
        } else {
            const size_type w = out_width(), hl = mlp_out_width();
            detail::ncf_ensure(F_, n, w);
            for (size_type b = 0; b < n; ++b) {
                std::copy(G_.data() + b * d, G_.data() + (b + 1) * d, F_.data() + b * w);
                std::copy(tower->data() + b * hl, tower->data() + (b + 1) * hl, F_.data() + b * w + d);
            }
            in = &F_;
        }
        xin_.back() = in;
        {
            auto ps = out_->parameters();
            const size_type w = out_width();
            detail::ncf_ensure(z_, n, 1);
            gemm(Trans::no, Trans::no, n, 1, w, T(1), in->data(), w, ps[0]->value.data(), 1, T(0), z_.data(), 1);
            const T b = ps[1]->value(0, 0);
            T* z = z_.data();
            for (size_type r = 0; r < n; ++r) z[r] += b;
        }
        if (opt_.bias_terms) {
            const T* bu = user_bias_.value.data();
            const T* bi = item_bias_.value.data();
            for (size_type b = 0; b < n; ++b) z_(b, 0) += bu[users[b]] + bi[items[b]];
        }
    }

    /// The data loss of the last forward_train; with `gradient`, dz_ = dL/dz.
    double loss_and_dz(const T* targets, size_type n, bool gradient) {
        detail::ncf_ensure(target_, n, 1);
        std::copy(targets, targets + n, target_.data());
        if (opt_.feedback == Feedback::ratings) {
            nn::MeanSquaredError<T> mse;
            return gradient ? mse.value_and_gradient(z_, target_, dz_) : mse.value(z_, target_);
        }
        nn::BinaryCrossEntropyWithLogits<T> bce;
        return gradient ? bce.value_and_gradient(z_, target_, dz_) : bce.value(z_, target_);
    }

    /// l2 * mean over the batch of the squared norms of every looked-up embedding row.
    double l2_penalty(const index_type* users, const index_type* items, size_type n) {
        if (opt_.l2 == 0) return dense_penalty();
        double s = 0;
        for (auto* t : tables()) {
            if (t == &user_bias_ || t == &item_bias_) continue;
            const bool is_user = t == &user_mlp_ || t == &user_gmf_ || t == &user_bias_;
            const index_type* idx = is_user ? users : items;
            const size_type c = t->cols();
            for (size_type b = 0; b < n; ++b) {
                const T* r = t->value.data() + idx[b] * c;
                for (size_type j = 0; j < c; ++j) s += static_cast<double>(r[j]) * static_cast<double>(r[j]);
            }
        }
        return opt_.l2 * s / static_cast<double>(n) + dense_penalty();
    }

    std::vector<nn::Parameter<T>*> kernels() {
        std::vector<nn::Parameter<T>*> k;
        for (auto& h : hidden_) k.push_back(h.parameters()[0]);
        k.push_back(out_->parameters()[0]);
        return k;
    }

    double dense_penalty() {
        if (opt_.dense_l2 == 0) return 0.0;
        double s = 0;
        for (auto* p : kernels())
            for (const auto v : p->value) s += static_cast<double>(v) * static_cast<double>(v);
        return opt_.dense_l2 * s;
    }

    /// The first Dense layer's backward pass from dA_[0], on the per-distinct-row projections of
    /// forward_train: the batch rows' gradients are summed per distinct user (item) first, then
    /// gW_top += P_b^T S_u, gW_bottom += Q_b^T S_i, and the embedding rows get S_u W_top^T (S_i W_bottom^T).
    void backward_first_layer(size_type n) {
        const size_type d = opt_.embedding_dim, h0 = opt_.hidden.front();
        const size_type nub = ur_.size(), nib = ir_.size();
        detail::ncf_ensure(Su_, nub, h0);
        detail::ncf_ensure(Si_, nib, h0);
        std::fill(Su_.begin(), Su_.end(), T(0));
        std::fill(Si_.begin(), Si_.end(), T(0));
        for (size_type b = 0; b < n; ++b)
            kernels::add_into2(dA_[0].data() + b * h0, Su_.data() + upos_[b] * h0, Si_.data() + ipos_[b] * h0, h0);
        auto ps = hidden_.front().parameters();
        const T* W = ps[0]->value.data();
        T* gW = ps[0]->grad.data();
        gemm(Trans::yes, Trans::no, d, h0, nub, T(1), Pb_.data(), d, Su_.data(), h0, T(1), gW, h0);
        gemm(Trans::yes, Trans::no, d, h0, nib, T(1), Qb_.data(), d, Si_.data(), h0, T(1), gW + d * h0, h0);
        detail::ncf_ensure(dPb_, nub, d);
        detail::ncf_ensure(dQb_, nib, d);
        gemm(Trans::no, Trans::yes, nub, d, h0, T(1), Su_.data(), h0, W, h0, T(0), dPb_.data(), d);
        gemm(Trans::no, Trans::yes, nib, d, h0, T(1), Si_.data(), h0, W + d * h0, h0, T(0), dQb_.data(), d);
        T* gP = user_mlp_.grad.data();
        T* gQ = item_mlp_.grad.data();
        for (size_type k = 0; k < nub; ++k) kernels::add_into(dPb_.data() + k * d, gP + ur_[k] * d, d);
        for (size_type k = 0; k < nib; ++k) kernels::add_into(dQb_.data() + k * d, gQ + ir_[k] * d, d);
    }

    void backward_train(const index_type* users, const index_type* items, size_type n) {
        const size_type d = opt_.embedding_dim;
        {
            // output layer (width w -> 1): din = dz w^T, gw += x^T dz, gb += sum dz
            auto ps = out_->parameters();
            const size_type w = out_width();
            const Matrix<T>& x = *xin_.back();
            detail::ncf_ensure(dout_, n, w);
            const T* wv = ps[0]->value.data();
            const T* dz = dz_.data();
            for (size_type b = 0; b < n; ++b) {
                T* r = dout_.data() + b * w;
                const T g = dz[b];
                for (size_type j = 0; j < w; ++j) r[j] = g * wv[j];
            }
            gemm(Trans::yes, Trans::no, w, 1, n, T(1), x.data(), w, dz, 1, T(1), ps[0]->grad.data(), 1);
            T gb = ps[1]->grad(0, 0);
            for (size_type b = 0; b < n; ++b) gb += dz[b];
            ps[1]->grad(0, 0) = gb;
        }
        const Matrix<T>& din = dout_;
        if (opt_.bias_terms) {
            T* gu = user_bias_.grad.data();
            T* gi = item_bias_.grad.data();
            for (size_type b = 0; b < n; ++b) {
                gu[users[b]] += dz_(b, 0);
                gi[items[b]] += dz_(b, 0);
            }
        }
        const Matrix<T>* dgmf = nullptr;
        const Matrix<T>* dtower = nullptr;
        if (opt_.architecture == NcfArchitecture::mlp) {
            dtower = &din;
        } else if (opt_.architecture == NcfArchitecture::gmf) {
            dgmf = &din;
        } else {
            const size_type w = out_width(), hl = mlp_out_width();
            detail::ncf_ensure(dG_, n, d);
            detail::ncf_ensure(dX_, n, hl);
            for (size_type b = 0; b < n; ++b) {
                std::copy(din.data() + b * w, din.data() + b * w + d, dG_.data() + b * d);
                std::copy(din.data() + b * w + d, din.data() + (b + 1) * w, dX_.data() + b * hl);
            }
            dgmf = &dG_;
            dtower = &dX_;
        }
        if (has_gmf()) {
            const T* P = user_gmf_.value.data();
            const T* Q = item_gmf_.value.data();
            T* gP = user_gmf_.grad.data();
            T* gQ = item_gmf_.grad.data();
            for (size_type b = 0; b < n; ++b) {
                const T* g = dgmf->data() + b * d;
                const T* p = P + users[b] * d;
                const T* q = Q + items[b] * d;
                T* gp = gP + users[b] * d;
                T* gq = gQ + items[b] * d;
                for (size_type j = 0; j < d; ++j) {
                    gp[j] += g[j] * q[j];
                    gq[j] += g[j] * p[j];
                }
            }
        }
        if (has_mlp()) {
            const Matrix<T>* g = dtower;
            for (size_type l = hidden_.size(); l-- > 0;) {
                if (!dropout_.empty()) g = &dropout_[l].backward(*g);
                auto ps = hidden_[l].parameters();
                const size_type out = opt_.hidden[l];
                detail::ncf_ensure(dA_[l], n, out);
                kernels::relu_grad_colsum(g->data(), H_[l].data(), dA_[l].data(), n, out, ps[1]->grad.data());
                if (l == 0) {
                    backward_first_layer(n);
                    break;
                }
                const Matrix<T>& x = *xin_[l];
                const size_type in = x.shape(1);
                gemm(Trans::yes, Trans::no, in, out, n, T(1), x.data(), in, dA_[l].data(), out, T(1),
                     ps[0]->grad.data(), out);
                detail::ncf_ensure(dX_l_[l], n, in);
                gemm(Trans::no, Trans::yes, n, in, out, T(1), dA_[l].data(), out, ps[0]->value.data(), out, T(0),
                     dX_l_[l].data(), in);
                g = &dX_l_[l];
            }
        }
        if (opt_.dense_l2 > 0) {
            const T scale = static_cast<T>(2.0 * opt_.dense_l2);
            for (auto* p : kernels()) {
                const T* v = p->value.data();
                T* g = p->grad.data();
                for (size_type k = 0, m = p->size(); k < m; ++k) g[k] += scale * v[k];
            }
        }
        if (opt_.l2 > 0) {
            const T scale = static_cast<T>(2.0 * opt_.l2 / static_cast<double>(n));
            for (auto* t : tables()) {
                if (t == &user_bias_ || t == &item_bias_) continue;
                const bool is_user = t == &user_mlp_ || t == &user_gmf_ || t == &user_bias_;
                const index_type* idx = is_user ? users : items;
                const size_type c = t->cols();
                for (size_type b = 0; b < n; ++b) {
                    const T* r = t->value.data() + idx[b] * c;
                    T* g = t->grad.data() + idx[b] * c;
                    for (size_type j = 0; j < c; ++j) g[j] += scale * r[j];
                }
            }
        }
    }

    // --- the fit loop ---------------------------------------------------------------------------------

    History fit_impl(const RatingMatrix<T>& train, const RatingMatrix<T>* validation,
                     const std::vector<Callback*>& callbacks) {
        check_arg(!train.empty(), "NeuralCF::fit: the training matrix has no ratings");
        initialize(train.n_users(), train.n_items());
        const bool implicit = opt_.feedback == Feedback::implicit;
        // The validation split, unless given.
        std::optional<Split<T>> own;
        const RatingMatrix<T>* fit_data = &train;
        const RatingMatrix<T>* val = validation;
        if (!val && opt_.validation_fraction > 0) {
            own = random_split(train, opt_.validation_fraction, opt_.seed);
            fit_data = &own->train;
            val = &own->test;
        }
        check_arg(!opt_.early_stopping || (val && !val->empty()),
                  "NeuralCF::fit: early stopping needs validation data (validation_fraction > 0 or a validation matrix)");
        check_arg(!fit_data->empty(), "NeuralCF::fit: no training pairs left after the validation split");
        if (implicit) check_negative_sampling(*fit_data, "NeuralCF::fit");
        users_ = train.user_map();
        items_ = train.item_map();
        seen_ptr_ = train.row_ptr();
        seen_items_ = train.item_indices();
        if (opt_.unseen_fallback && !implicit) fit_fallback(*fit_data);
        if (opt_.mean_init && !implicit) out_->parameters()[1]->value(0, 0) = static_cast<T>(fit_data->mean());

        // Training pairs.
        std::vector<index_type> pu, pi;
        std::vector<T> pt;
        ImplicitSamples<T> samples;
        Rng sample_rng(opt_.seed ^ 0x5bd1e995u);
        Rng shuffle_rng(opt_.seed ^ 0x9e3779b97f4a7c15ull);
        if (!implicit) {
            pu = fit_data->entry_users();
            pi = fit_data->item_indices();
            pt = fit_data->values();
        }
        std::vector<index_type> bu, bi;
        std::vector<T> bt;
        bu.reserve(opt_.batch_size);
        bi.reserve(opt_.batch_size);
        bt.reserve(opt_.batch_size);

        const auto params = parameters();
        optim::Adam<T> adam(params, optim::AdamOptions().lr(opt_.learning_rate));
        const size_type n_tables = tables().size();
        std::vector<std::size_t> urows, irows;
        nn::zero_grad(params);

        std::vector<Matrix<T>> best;
        FitHooks hooks;
        if (val && !val->empty()) hooks.validate = [&](EpochRecord& rec) { validate_into(*fit_data, *val, rec); };
        hooks.snapshot = [&] { snapshot(best); };
        hooks.restore = [&] {
            restore(best);
            refresh_inference_cache();
        };
        FitLoop loop("NeuralCF", callbacks, opt_.early_stopping, std::move(hooks));
        const size_type steps_per_epoch_hint =
            (fit_data->nnz() * (implicit ? 1 + opt_.negatives : 1) + opt_.batch_size - 1) / opt_.batch_size;
        std::vector<std::size_t> order;
        History history = loop.run(opt_.epochs, steps_per_epoch_hint, [&](int /*epoch*/) {
            if (implicit) {
                sample_negatives(*fit_data, opt_.negatives, sample_rng, samples);
                pu.swap(samples.users);
                pi.swap(samples.items);
                pt.swap(samples.labels);
            }
            const size_type n = pu.size();
            order.resize(n);
            for (size_type k = 0; k < n; ++k) order[k] = k;
            shuffle_rng.shuffle(order.begin(), order.end());
            size_type step = 0;
            for (size_type start = 0; start < n; start += opt_.batch_size) {
                const size_type m = std::min(opt_.batch_size, n - start);
                bu.resize(m);
                bi.resize(m);
                bt.resize(m);
                for (size_type b = 0; b < m; ++b) {
                    const size_type k = order[start + b];
                    bu[b] = pu[k];
                    bi[b] = pi[k];
                    bt[b] = pt[k];
                }
                forward_train(bu.data(), bi.data(), m);
                const double loss = loss_and_dz(bt.data(), m, true) + l2_penalty(bu.data(), bi.data(), m);
                ++step;
                loop.check_loss(step, loss);  // before the update: a diverged batch never reaches the weights
                backward_train(bu.data(), bi.data(), m);
                detail::ncf_unique_rows(bu.data(), m, user_mark_, urows);
                detail::ncf_unique_rows(bi.data(), m, item_mark_, irows);
                adam.begin_step();
                size_type slot = 0;
                for (auto* t : tables()) {
                    const bool is_user = t == &user_mlp_ || t == &user_gmf_ || t == &user_bias_;
                    const auto& rows = is_user ? urows : irows;
                    if (opt_.lazy_embedding_updates) adam.update_row_list(slot, rows);
                    else adam.update(slot);
                    // only the batch's rows hold a gradient: zero just those
                    const size_type c = t->cols();
                    T* g = t->grad.data();
                    for (const auto r : rows) std::fill(g + r * c, g + (r + 1) * c, T(0));
                    ++slot;
                }
                for (; slot < params.size(); ++slot) {
                    adam.update(slot);
                    params[slot]->zero_grad();
                }
                loop.batch_end(step, loss, static_cast<double>(m));
            }
            (void)n_tables;
            refresh_inference_cache();  // validation and prediction read the projection cache
        });
        if (opt_.refit) {
            // The epoch count was chosen on the held-out pairs; retrain on every training pair.
            NeuralCFOptions ro = opt_;
            ro.validation_fraction = 0;
            ro.early_stopping.reset();
            ro.refit = false;
            ro.epochs = history.best_epoch > 0 ? history.best_epoch : static_cast<int>(history.size());
            NeuralCF full(ro);
            const History hr = full.fit_impl(train, nullptr, callbacks);
            const NeuralCFOptions keep = opt_;
            *this = std::move(full);
            opt_ = keep;
            const int offset = static_cast<int>(history.size());
            for (auto rec : hr.epochs) {
                rec.epoch += offset;
                history.epochs.push_back(std::move(rec));
            }
            history.best_epoch = 0;  // the model holds the refit's last epoch
        }
        return history;
    }

    void validate_into(const RatingMatrix<T>& fit_data, const RatingMatrix<T>& val, EpochRecord& rec) const {
        if (opt_.feedback == Feedback::ratings) {
            const auto vu = val.entry_users();
            std::vector<T> pred(val.nnz());
            predict(vu.data(), val.item_indices().data(), val.nnz(), pred.data());
            double s = 0;
            for (size_type k = 0; k < pred.size(); ++k) {
                const double e = static_cast<double>(pred[k]) - static_cast<double>(val.values()[k]);
                s += e * e;
            }
            const double mse = s / static_cast<double>(pred.size());
            rec.metrics["val_loss"] = mse;
            rec.metrics["val_rmse"] = std::sqrt(mse);
        } else {
            Scratch s;
            const auto r = evaluate_ranking(
                fit_data, val, opt_.eval_k, [&](index_type u, T* out) { score_user(u, out, s); },
                RankingOptions().all_test_items_relevant());
            const std::string k = std::to_string(opt_.eval_k);
            rec.metrics["val_hr@" + k] = r.hit_rate;
            rec.metrics["val_ndcg@" + k] = r.ndcg;
            rec.metrics["val_precision@" + k] = r.precision;
        }
    }

    void snapshot(std::vector<Matrix<T>>& best) {
        const auto params = parameters();
        best.resize(params.size());
        for (size_type k = 0; k < params.size(); ++k) best[k] = params[k]->value;
    }
    void restore(const std::vector<Matrix<T>>& best) {
        const auto params = parameters();
        for (size_type k = 0; k < params.size(); ++k) params[k]->value = best[k];
    }

    void fit_fallback(const RatingMatrix<T>& data) {
        BiasBaseline<T> b;
        b.fit(data);
        mu_ = b.global_mean();
        fb_user_.assign(b.user_biases().begin(), b.user_biases().end());
        fb_item_.resize(ni_);
        for (size_type i = 0; i < ni_; ++i) fb_item_[i] = static_cast<T>(b.item_biases()[i]);
        user_known_.assign(nu_, 0);
        item_known_.assign(ni_, 0);
        for (size_type u = 0; u < nu_; ++u) user_known_[u] = data.user_count(static_cast<index_type>(u)) > 0;
        for (const auto i : data.item_indices()) item_known_[i] = 1;
        fallback_ = true;
    }

    // --- inference ------------------------------------------------------------------------------------

    /// Projections of the first MLP layer: user_proj_ = P W_top, item_proj_ = Q W_bottom + b1.
    void refresh_inference_cache() {
        if (!initialized_ || !has_mlp()) return;
        const size_type d = opt_.embedding_dim, h = opt_.hidden.front();
        auto ps = hidden_.front().parameters();
        const T* W = ps[0]->value.data();  // (2d) x h, in_out layout
        const T* b1 = ps[1]->value.data();
        detail::ncf_ensure(user_proj_, nu_, h);
        detail::ncf_ensure(item_proj_, ni_, h);
        gemm(Trans::no, Trans::no, nu_, h, d, T(1), user_mlp_.value.data(), d, W, h, T(0), user_proj_.data(), h);
        for (size_type i = 0; i < ni_; ++i) std::copy(b1, b1 + h, item_proj_.data() + i * h);
        gemm(Trans::no, Trans::no, ni_, h, d, T(1), item_mlp_.value.data(), d, W + d * h, h, T(1), item_proj_.data(), h);
    }

    /// Adds the MLP tower's contribution to out[0..n) for n rows whose first hidden activation
    /// (after ReLU) is in s.a: the remaining hidden layers through kernels::dense_bias_relu into the
    /// scratch, the last of them through kernels::dense_bias_relu_dot (fused with the dot product against the output weights wm).
    void mlp_tail_dot(Scratch& s, size_type n, const T* wm, T* out) const {
        Matrix<T>* x = &s.a;
        Matrix<T>* y = &s.b;
        const size_type L = hidden_.size();
        if (L == 1) {
            const size_type hl = opt_.hidden[0];
            kernels::dot_rows<T>(x->data(), nullptr, wm, out, n, hl);
            return;
        }
        for (size_type l = 1; l < L; ++l) {
            const size_type in = opt_.hidden[l - 1], width = opt_.hidden[l];
            const T* W = hidden_[l].weight().value.data();
            const T* bias = hidden_[l].bias().value.data();
            detail::ncf_ensure(*y, n, width);
            if (l + 1 == L) return kernels::dense_bias_relu_dot(x->data(), n, in, W, width, bias, wm, out, y->data());
            kernels::dense_bias_relu(x->data(), n, in, W, width, bias, y->data());
            std::swap(x, y);
        }
    }

    /// The output for n pairs (n <= chunk_rows), without index checks.
    void score_pairs(const index_type* users, const index_type* items, size_type n, T* out, Scratch& s) const {
        const T* w = out_->weight().value.data();
        const T b = out_->bias().value(0, 0);
        const size_type d = opt_.embedding_dim;
        for (size_type r = 0; r < n; ++r) out[r] = b;
        if (has_mlp()) {
            const size_type h = opt_.hidden.front();
            detail::ncf_ensure(s.a, n, h);
            for (size_type r = 0; r < n; ++r) {
                const T* up = user_proj_.data() + users[r] * h;
                const T* ip = item_proj_.data() + items[r] * h;
                kernels::add_relu(up, ip, s.a.data() + r * h, h);
            }
            mlp_tail_dot(s, n, w + (has_gmf() ? d : 0), out);
        }
        if (has_gmf()) {
            for (size_type r = 0; r < n; ++r) {
                const T* p = user_gmf_.value.data() + users[r] * d;
                const T* q = item_gmf_.value.data() + items[r] * d;
                T acc = T(0);
                for (size_type j = 0; j < d; ++j) acc += p[j] * q[j] * w[j];
                out[r] += acc;
            }
        }
        if (opt_.bias_terms)
            for (size_type r = 0; r < n; ++r) out[r] += user_bias_.value(users[r], 0) + item_bias_.value(items[r], 0);
        if (fallback_)
            for (size_type r = 0; r < n; ++r)
                if (!user_known_[users[r]] || !item_known_[items[r]])
                    out[r] = static_cast<T>(mu_ + static_cast<double>(fb_user_[users[r]]) +
                                            static_cast<double>(fb_item_[items[r]]));
    }

    /// out[i] for every item of one user; all items through each layer as one GEMM.
    void score_user(index_type user, T* out, Scratch& s) const {
        const T* w = out_->weight().value.data();
        const T b = out_->bias().value(0, 0);
        const size_type d = opt_.embedding_dim;
        const size_type ni = ni_;
        for (size_type i = 0; i < ni; ++i) out[i] = b;
        if (has_mlp()) {
            const size_type h = opt_.hidden.front();
            const T* wm = w + (has_gmf() ? d : 0);
            const T* up = user_proj_.data() + user * h;
            for (size_type c0 = 0; c0 < ni; c0 += chunk_rows) {
                const size_type n = std::min(chunk_rows, ni - c0);
                detail::ncf_ensure(s.a, n, h);
                kernels::broadcast_add_relu_rows(up, item_proj_.data() + c0 * h, s.a.data(), n, h);
                mlp_tail_dot(s, n, wm, out + c0);
            }
        }
        if (has_gmf()) {
            const T* p = user_gmf_.value.data() + user * d;
            for (size_type i = 0; i < ni; ++i) {
                const T* q = item_gmf_.value.data() + i * d;
                T acc = T(0);
                for (size_type j = 0; j < d; ++j) acc += p[j] * q[j] * w[j];
                out[i] += acc;
            }
        }
        if (opt_.bias_terms) {
            const T bu = user_bias_.value(user, 0);
            for (size_type i = 0; i < ni; ++i) out[i] += bu + item_bias_.value(i, 0);
        }
        if (fallback_)
            for (size_type i = 0; i < ni; ++i)
                if (!user_known_[user] || !item_known_[i])
                    out[i] = static_cast<T>(mu_ + static_cast<double>(fb_user_[user]) + static_cast<double>(fb_item_[i]));
    }

    const index_type* seen_begin(index_type user) const { return seen_items_.data() + seen_ptr_[user]; }
    const index_type* seen_end(index_type user) const { return seen_items_.data() + seen_ptr_[user + 1]; }

    /// Scores `user` and keeps the k best outside [seen_first, seen_last) when exclude_seen.
    void recommend_into(index_type user, size_type k, bool exclude_seen, const index_type* seen_first,
                        const index_type* seen_last, Scratch& s, std::vector<Recommendation<T>>& out) const {
        s.scores.resize(ni_);
        score_user(user, s.scores.data(), s);
        select_recommendations("NeuralCF::recommend", user, s.scores.data(), ni_, k,
                                       exclude_seen ? seen_first : nullptr, exclude_seen ? seen_last : nullptr, s.top,
                                       out);
    }

    // --- metadata -------------------------------------------------------------------------------------

    static NeuralCFOptions options_from_metadata(const MetadataReader& m, const std::string& path) {
        NeuralCFOptions o = read_options<NeuralCFOptions>(m);
        // early_stopping is not stored, and refit is meaningless (and invalid) without it: a model
        // trained with refit holds the refit's weights, so it loads as a model without refit.
        if (!o.early_stopping) o.refit = false;
        try {
            o.validate();
        } catch (const InvalidArgument& e) {
            throw IoError("NeuralCF::load: '" + path + "': " + e.what());
        }
        return o;
    }

    // --- state ----------------------------------------------------------------------------------------

    NeuralCFOptions opt_;
    bool initialized_ = false;
    size_type nu_ = 0, ni_ = 0;
    typename RatingMatrix<T>::map_ptr users_, items_;
    std::vector<std::size_t> seen_ptr_;
    std::vector<index_type> seen_items_;

    nn::Parameter<T> user_mlp_, item_mlp_, user_gmf_, item_gmf_, user_bias_, item_bias_;
    std::vector<nn::Dense<T>> hidden_;
    std::vector<nn::Dropout<T>> dropout_;
    std::optional<nn::Dense<T>> out_;

    // unseen fallback (explicit mode)
    bool fallback_ = false;
    double mu_ = 0.0;
    std::vector<T> fb_user_, fb_item_;
    std::vector<std::uint8_t> user_known_, item_known_;

    // inference cache
    Matrix<T> user_proj_, item_proj_;

    // training buffers (reused from batch to batch)
    Matrix<T> G_, F_, dG_, dX_, z_, dz_, target_, dout_;
    // first layer on the batch's distinct users / items: their embedding rows, projections,
    // summed gradients and embedding-row gradients; slot maps (all ncf_no_slot between batches)
    Matrix<T> Pb_, Qb_, Up_, Ip_, Su_, Si_, dPb_, dQb_;
    std::vector<std::size_t> ur_, ir_;
    std::vector<index_type> upos_, ipos_, user_slot_, item_slot_;
    std::vector<Matrix<T>> H_, dA_, dX_l_;
    std::vector<const Matrix<T>*> xin_;  // input of each hidden layer, then of the output layer
    std::vector<std::uint8_t> user_mark_, item_mark_;
};

static_assert(is_recommender_v<NeuralCF<float>> && !supports_fold_in_v<NeuralCF<float>>,
              "NeuralCF implements the recommender interface (recommender.hpp), without fold-in");

}  // namespace cfnet
