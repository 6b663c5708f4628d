#pragma once
/// @file models/autoencoder/model.hpp
/// AutoencoderCF<T>: the notebook's rating autoencoder (U-AutoRec) and its item-based variant
/// (I-AutoRec, Sedhain et al. 2015), behind the recommender interface (recommender.hpp). Its
/// network is models/autoencoder/network.hpp, its training loops models/autoencoder/fit.hpp (the
/// one fit loop of train.hpp), its model files models/autoencoder/io.hpp. docs/concepts.md explains
/// why training is sparse and exact; docs/evaluation.md why predict takes the training matrix as
/// its input (leak-free).
///
/// @code
///   cfnet::AutoencoderCF<> model;                   // the notebook's configuration
///   cfnet::History h = model.fit(split.train);      // or fit(split.train, validation)
///   std::vector<float> p = model.predict(split.train, split.test);  // leak-free: input = train
///   auto top = model.recommend(split.train, user, 10);  // a user of the training matrix
///   auto new_user = model.recommend(items, ratings, 10);  // fold-in of a user not seen in training
///   model.save("ae.cfnet");
///   auto again = cfnet::AutoencoderCF<>::load("ae.cfnet");
/// @endcode
///
/// Every public function takes and returns (user, item) in the training data's index space,
/// whatever the orientation (user_based: a row is a user's ratings over items; item_based: an
/// item's ratings over users).

#include <cfnet/baselines.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/models/autoencoder/network.hpp>
#include <cfnet/models/autoencoder/options.hpp>
#include <cfnet/models/autoencoder/residual.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

/// The notebook's rating autoencoder as a reusable model; see the file comment.
template <class T = float>
class AutoencoderCF {
public:
    using value_type = T;
    using size_type = std::size_t;
    using Net = detail::AutoencoderNet<T>;

    /// @throws InvalidArgument when an option is out of range (AutoencoderOptions::validate).
    explicit AutoencoderCF(AutoencoderOptions options = {}) : opt_(std::move(options)), requested_(opt_) {
        opt_.validate();
    }

    AutoencoderCF(const AutoencoderCF& o)
        : opt_(o.opt_), requested_(o.requested_), net_(o.net_), adam_(o.adam_), user_map_(o.user_map_), item_map_(o.item_map_), unit_seen_(o.unit_seen_),
          train_mean_(o.train_mean_), base_(o.base_), selection_(o.selection_) {
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

    /// The options in effect: as given, except that after fit() they hold what options().selection
    /// chose (lambda, residual, epochs) and, with clamp_to_training, the training ratings' range.
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
    /// The candidates options().selection tried in the last fit, with their validation results
    /// (empty without a selection). options() then holds the chosen lambda, residual and epochs.
    const std::vector<AutoencoderCandidate>& selection() const noexcept { return selection_; }

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
        base_ = opt_.residual ? detail::ResidualBaseline<T>::fit(train, ub) : detail::ResidualBaseline<T>{};
        if (opt_.clamp_to_training) {
            const auto [lo, hi] = std::minmax_element(train.values().begin(), train.values().end());
            opt_.clamp(static_cast<double>(*lo), static_cast<double>(*hi));
        }
        adam_.reset();
        make_optimizer();
    }

    /// For a fit on a row shard (distributed/autoencoder.hpp): after initialize(shard), the
    /// statistics of the whole training data instead of the shard's (which units have a rating,
    /// the mean rating; the model file stores both). @throws InvalidArgument on a size mismatch.
    void set_training_statistics(std::vector<std::uint8_t> unit_seen, double train_mean) {
        check_fitted("set_training_statistics");
        check_arg(unit_seen.size() == n_units(), "AutoencoderCF::set_training_statistics: ", unit_seen.size(),
                  " unit flags for ", n_units(), " units");
        unit_seen_ = std::move(unit_seen);
        train_mean_ = train_mean;
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
        const Oriented in = orient(data, "loss_and_gradient");
        const RatingMatrix<T>& d = in.matrix();
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
        return select_recommendations("AutoencoderCF::recommend", folded_in_user, scores.data(),
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
        return select_recommendations("AutoencoderCF::recommend", user, scores.data(), scores.size(), k,
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
                select_recommendations("AutoencoderCF::recommend_batch", batch[r], scores.data() + r * ni, ni, k,
                                       exclude_seen ? seen.begin() : nullptr,
                                       exclude_seen ? seen.end() : nullptr, ranked, recs);
                sink(batch[r], static_cast<const std::vector<Recommendation<T>>&>(recs));
            }
        }
    }

private:
    /// An input matrix as the network sees it: in the model's orientation (rows x units), and as
    /// residuals of the baseline when the model has one (row_bias: each row's baseline bias).
    struct Oriented {
        const RatingMatrix<T>* input = nullptr;  // the caller's matrix, when it is used as is
        std::optional<RatingMatrix<T>> own;      // otherwise: transposed and/or residuals
        std::vector<double> row_bias;
        const RatingMatrix<T>& matrix() const { return own ? *own : *input; }
    };

public:
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
            const auto& base = model_->base_;
            if (model_->opt_.orientation == Orientation::user_based) {
                nn::SparseBatch<T> batch(ni);
                for (const auto u : users) detail::add_matrix_row(batch, in_.matrix(), u);
                typename Net::Workspace ws;
                net.forward_hidden(batch, ws);
                net.output_all(ws.y.back().data(), B, scores.data());
                if (base.active())
                    for (size_type r = 0; r < B; ++r)
                        for (size_type i = 0; i < ni; ++i)
                            scores[r * ni + i] += base.offset(in_.row_bias[users[r]], static_cast<index_type>(i));
            } else {
                // scores(r, i) = output unit users[r] for item i's code
                for (size_type r = 0; r < B; ++r) {
                    T* out = scores.data() + r * ni;
                    net.output_unit(codes_.data(), ni, users[r], out);
                    if (base.active())
                        for (size_type i = 0; i < ni; ++i) out[i] += base.offset(in_.row_bias[i], users[r]);
                }
            }
        }

    private:
        friend class AutoencoderCF;
        const AutoencoderCF* model_ = nullptr;
        const RatingMatrix<T>* input_ = nullptr;
        Oriented in_;           // user_based: the input the network sees; item_based: its row biases only
        std::vector<T> codes_;  // item_based: n_items x code width
    };

    /// A Scorer over `input` (kept by reference: it must outlive the scorer).
    /// @throws InvalidArgument before fit() or when input has another unit space.
    Scorer make_scorer(const RatingMatrix<T>& input) const {
        check_fitted("make_scorer");
        Scorer s;
        s.model_ = this;
        s.input_ = &input;
        s.in_ = orient(input, "make_scorer");
        if (opt_.orientation == Orientation::item_based) {
            s.codes_ = codes(s.in_.matrix());
            s.in_.own.reset();  // only the row biases are needed from here on
        }
        return s;
    }

    // --- persistence ----------------------------------------------------------------------------

    /// Writes the configuration (metadata "model" = "AutoencoderCF", the options, the training
    /// matrix's user and item ids) and the weights to `path`.
    /// @throws InvalidArgument before fit(); IoError when the file cannot be written.
    void save(const std::string& path) const { save(path, false); }

    /// save(path), plus Adam's state when with_optimizer (to resume training exactly).
    void save(const std::string& path, bool with_optimizer) const;

    /// Reads a model written by save(). @throws IoError for an unreadable or corrupt file, or a file
    /// of another model (naming the file and, for bad metadata, the key); InvalidArgument for a file
    /// of another scalar type, or tensors that do not fit the configuration.
    static AutoencoderCF load(const std::string& path);

    /// load(path), then checks that the model's units are `data`'s (its items for a user-based
    /// model, its users for an item-based one).
    /// @throws InvalidArgument naming both sizes when the spaces differ.
    static AutoencoderCF load(const std::string& path, const RatingMatrix<T>& data);

    /// Adam's state (moments by slot), e.g. to compare two runs. @throws before fit().
    optim::Adam<T>& optimizer() {
        check_fitted("optimizer");
        check_arg(adam_.has_value(), "AutoencoderCF::optimizer: the solver is not adam");
        return *adam_;
    }

private:
    /// The training loops (models/autoencoder/fit.hpp): Adam mini-batches, or full-batch L-BFGS.
    History fit_impl(const RatingMatrix<T>& train, const RatingMatrix<T>* validation,
                     const std::vector<Callback*>& callbacks);

    /// Solver::lbfgs: full-batch L-BFGS on F = SSE + lambda/2 sum ||W||^2 (see Solver). `data` is
    /// `train` in the model's orientation. One epoch of `loop` is one L-BFGS iteration (one step).
    History fit_lbfgs(const RatingMatrix<T>& data, FitLoop& loop);

    /// options().selection: tries the candidates on a validation part of `train` and sets the
    /// chosen lambda, residual flag and epoch count in the options (models/autoencoder/fit.hpp).
    void select(const RatingMatrix<T>& train);

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

    /// `input` (users x items) as the network sees it; checks its unit space.
    Oriented orient(const RatingMatrix<T>& input, const char* fn) const {
        Oriented o;
        o.input = &input;
        if (opt_.orientation == Orientation::item_based) o.own.emplace(input.transposed());
        check_space(o.matrix(), fn);
        if (base_.active()) {
            o.row_bias = base_.row_biases(o.matrix());
            RatingMatrix<T> r = base_.residuals(o.matrix(), o.row_bias);
            o.own.emplace(std::move(r));
        }
        return o;
    }

    /// The baseline offset of (row, unit) of an oriented input (0 without a baseline).
    T offset(const Oriented& in, index_type row, index_type unit) const {
        return base_.active() ? base_.offset(in.row_bias[row], unit) : T(0);
    }

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

    /// The model file's metadata: options, ids, training mean (models/autoencoder/io.hpp).
    Metadata metadata() const;

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
        const Oriented in = orient(input, "predict");
        std::optional<BiasBaseline<T>> fallback;
        if (opt_.unseen_fallback && !input.empty()) fallback.emplace().fit(input);
        return predict_oriented(in, fallback ? &*fallback : nullptr, rows, cols, pairs);
    }

    /// predict_impl with the input already as the network sees it (`in`) and the fallback baseline
    /// already fitted on the input (null: none).
    std::vector<T> predict_oriented(const Oriented& in, const BiasBaseline<T>* fallback,
                                    const std::vector<index_type>& rows, const std::vector<index_type>& cols,
                                    const std::vector<std::pair<index_type, index_type>>& pairs) const {
        const bool ub = opt_.orientation == Orientation::user_based;
        const RatingMatrix<T>& d = in.matrix();
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
                const T v = net_.output_at(code + local * h, cols[idx]) + offset(in, rows[idx], cols[idx]);
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
        const double row_b = base_.active() ? base_.row_bias(idx.data(), val.data(), idx.size()) : 0.0;
        if (base_.active())
            for (size_type k = 0; k < idx.size(); ++k) val[k] -= base_.offset(row_b, idx[k]);
        nn::SparseBatch<T> batch(n);
        batch.add_row(idx.data(), val.data(), idx.size());
        typename Net::Workspace ws;
        net_.forward_hidden(batch, ws);
        std::vector<T> scores(n);
        net_.output_all(ws.y.back().data(), 1, scores.data());
        if (base_.active())
            for (size_type i = 0; i < n; ++i) scores[i] += base_.offset(row_b, static_cast<index_type>(i));
        return scores;
    }

    AutoencoderOptions opt_;        // in effect: after a fit, with what selection and clamp_to_training chose
    AutoencoderOptions requested_;  // as given to the constructor (or read from a model file)
    Net net_;
    std::optional<optim::Adam<T>> adam_;
    IdMap user_map_, item_map_;
    std::vector<std::uint8_t> unit_seen_;
    double train_mean_ = 0.0;
    detail::ResidualBaseline<T> base_;  // options().residual: fitted on the training data
    std::vector<AutoencoderCandidate> selection_;
};

static_assert(is_recommender_v<AutoencoderCF<float>> && supports_fold_in_v<AutoencoderCF<float>>,
              "AutoencoderCF implements the recommender interface (recommender.hpp), with fold-in");

}  // namespace cfnet

#include <cfnet/models/autoencoder/fit.hpp>
#include <cfnet/models/autoencoder/io.hpp>
