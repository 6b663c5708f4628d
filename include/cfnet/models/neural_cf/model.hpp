#pragma once
/// @file models/neural_cf/model.hpp
/// NeuralCF<T>: neural collaborative filtering (He et al., "Neural Collaborative Filtering", WWW 2017)
/// with the notebook's embedding + MLP model as its default configuration, behind the recommender
/// interface (recommender.hpp). The network is NeuralCFNetwork (network.hpp), a composition of nn/
/// layers; training runs through the fit loop (train.hpp) with Adam; save/load are in io.hpp.
///
/// Architectures (NcfArchitecture): mlp ([P_u, Q_i] -> Dense ReLU ... -> Dense 1: the notebook's
/// model, embeddings of 32, hidden 128 and 64), gmf (P'_u (*) Q'_i -> Dense 1) and neumf (both
/// towers, concatenated, -> Dense 1); optional user and item bias terms add b_u + b_i.
/// Feedback: ratings (MSE regression on the observed ratings, the notebook's) or implicit (every
/// observed pair a positive, `negatives` sampled unobserved items per positive afresh every epoch,
/// BCE on the logit; validation by HR@k / NDCG@k / Precision@k).
///
/// Adam (Keras' rule and defaults) on mini-batches of shuffled pairs. Adam is applied densely to
/// every embedding row by default (Keras' behaviour); lazy_embedding_updates updates only the rows
/// in the batch (TensorFlow's LazyAdam: O(batch) per step instead of O(users + items)).
/// The speed-critical parts are toolkit layers (docs/concepts.md): the first Dense layer over
/// [P_u, Q_i] is nn::EmbeddingPairDense (computed on the batch's distinct users and items; scoring
/// from per-user and per-item projections computed once), the last hidden layer is fused with the
/// output's dot product when scoring (nn::Dense::infer_dot).
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
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/models/neural_cf/network.hpp>
#include <cfnet/models/neural_cf/options.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

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
        net_ = NeuralCFNetwork<T>(opt_, nu_, ni_);
        users_ = items_ = nullptr;
        seen_ptr_.assign(nu_ + 1, 0);
        seen_items_.clear();
        fallback_ = false;
        initialized_ = true;
    }

    /// Every trainable parameter, in a fixed order: the embedding tables that exist (user_mlp,
    /// item_mlp, user_gmf, item_gmf, user_bias, item_bias), then the hidden Dense layers (weight,
    /// bias each), then the output layer (weight, bias).
    /// @throws InvalidArgument if the model is not initialized.
    nn::ParameterList<T> parameters() {
        check_init("parameters");
        return net_.parameters();
    }

    /// The parameters as named tensors ("user_mlp", ..., "dense0.weight", "dense0.bias", ...,
    /// "output.weight", "output.bias"): what save() stores.
    std::vector<nn::TensorRef<T>> named_tensors() {
        check_init("named_tensors");
        return net_.named_tensors();
    }

    /// The item representations: item_mlp (mlp, neumf), then item_gmf (gmf, neumf), each n_items x
    /// its embedding size (views of the weights). Similar items (docs/python.md) for NeuMF's two
    /// tables: the cosine over the concatenated row-normalised embeddings (the mean of both cosines).
    /// @throws InvalidArgument if the model is not initialized.
    std::vector<const Matrix<T>*> item_embeddings() const {
        check_init("item_embeddings");
        return net_.item_tables();
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
        net_.forward(users, items, n);
        return net_.loss(targets, n, false) + net_.penalty(users, items, n);
    }

    /// As compute_loss, and sets every parameter's grad to the gradient of that loss (for
    /// gradient checks and custom training loops).
    double compute_gradients(const index_type* users, const index_type* items, const T* targets, size_type n) {
        check_batch("compute_gradients", users, items, n);
        nn::zero_grad(parameters());
        net_.forward(users, items, n);
        const double loss = net_.loss(targets, n, true) + net_.penalty(users, items, n);
        net_.backward(users, items, n);
        return loss;
    }

    /// For a fit outside fit() that trained parameters() directly (distributed/neural_cf.hpp):
    /// takes the id maps and the seen items (what recommend() excludes) from `train` and refreshes
    /// the scoring caches, so that predict, recommend and save work as after fit().
    /// @throws InvalidArgument if not initialized or train is not n_users() x n_items().
    void adopt_training_data(const RatingMatrix<T>& train) {
        check_init("adopt_training_data");
        check_arg(train.n_users() == nu_ && train.n_items() == ni_, "NeuralCF::adopt_training_data: ", train.n_users(),
                  " x ", train.n_items(), " data for a ", nu_, " x ", ni_, " model");
        users_ = train.user_map();
        items_ = train.item_map();
        seen_ptr_ = train.row_ptr();
        seen_items_ = train.item_indices();
        net_.refresh_projections();
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
        recommend_each(users, k, sink, exclude_seen, [&](index_type u) { return std::make_pair(seen_begin(u), seen_end(u)); });
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
        recommend_each(users, k, sink, exclude_seen, [&](index_type u) {
            const auto seen = input.user_items(u);
            return std::make_pair(seen.begin(), seen.end());
        });
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

    // --- persistence (io.hpp) ----------------------------------------------------------------------

    /// Saves the configuration, id maps, parameters, seen items (and the fallback baseline) to
    /// `path` (serialize.hpp format). A loaded model predicts bit-identically.
    /// @throws InvalidArgument if not fitted; IoError when writing fails.
    void save(const std::string& path) const;

    /// Reads a model saved by save(). The options are read by options_table<NeuralCFOptions>();
    /// early_stopping is not stored, so a model trained with refit (whose weights are the refit's)
    /// loads with options().refit == false.
    /// @throws IoError if the file is unreadable, corrupt or not a NeuralCF file (naming the key), or
    ///         its index tensors (seen.counts, seen.items) hold a value that is not a whole number
    ///         in range (naming the tensor); InvalidArgument on a scalar-type or tensor mismatch.
    static NeuralCF load(const std::string& path);

private:
    // recommend_batch's body: every user checked first, then sink(u, recs) in order, the seen items
    // of u from seen(u) as a [begin, end) pair.
    template <class Sink, class Seen>
    void recommend_each(const std::vector<index_type>& users, size_type k, Sink& sink, bool exclude_seen,
                        Seen&& seen) const {
        for (size_type j = 0; j < users.size(); ++j)
            check_arg(users[j] < nu_, "NeuralCF::recommend_batch: user index ", users[j], " at position ", j,
                      " out of range (", nu_, " users)");
        Scratch s;
        std::vector<Recommendation<T>> out;
        for (const auto u : users) {
            const auto [first, last] = seen(u);
            recommend_into(u, k, exclude_seen, first, last, s, out);
            sink(u, static_cast<const std::vector<Recommendation<T>>&>(out));
        }
    }

    static constexpr size_type chunk_rows = NeuralCFNetwork<T>::chunk_rows;

    struct Scratch {
        typename NeuralCFNetwork<T>::Scratch net;
        std::vector<T> scores;
        std::vector<index_type> top;
    };

    /// What one fit() trains on: its own validation split (unless given), the pairs, the optimizer.
    struct FitState {
        std::optional<Split<T>> own;
        const RatingMatrix<T>* data = nullptr;  // the training pairs (train, or own->train)
        const RatingMatrix<T>* val = nullptr;   // validation, or null
        std::vector<index_type> pu, pi, bu, bi;
        std::vector<T> pt, bt;
        std::vector<std::size_t> order;
        ImplicitSamples<T> samples;
        Rng sample_rng, shuffle_rng;
        nn::ParameterList<T> params;
        std::optional<optim::Adam<T>> adam;
        explicit FitState(std::uint64_t seed) : sample_rng(seed ^ 0x5bd1e995u), shuffle_rng(seed ^ 0x9e3779b97f4a7c15ull) {}
    };

    static size_type exact_int_limit() { return size_type(1) << std::numeric_limits<T>::digits; }

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

    // --- the fit loop ---------------------------------------------------------------------------------

    History fit_impl(const RatingMatrix<T>& train, const RatingMatrix<T>* validation,
                     const std::vector<Callback*>& callbacks) {
        check_arg(!train.empty(), "NeuralCF::fit: the training matrix has no ratings");
        initialize(train.n_users(), train.n_items());
        FitState st(opt_.seed);
        prepare_fit(train, validation, st);
        std::vector<Matrix<T>> best;
        FitHooks hooks;
        if (st.val && !st.val->empty()) hooks.validate = [&](EpochRecord& rec) { validate_into(*st.data, *st.val, rec); };
        hooks.snapshot = [&] { nn::save_values(parameters(), best); };
        hooks.restore = [&] {
            nn::load_values(best, parameters());
            net_.refresh_projections();
        };
        FitLoop loop("NeuralCF", callbacks, opt_.early_stopping, std::move(hooks));
        const bool implicit = opt_.feedback == Feedback::implicit;
        const size_type steps_per_epoch_hint =
            (st.data->nnz() * (implicit ? 1 + opt_.negatives : 1) + opt_.batch_size - 1) / opt_.batch_size;
        History history = loop.run(opt_.epochs, steps_per_epoch_hint, [&](int /*epoch*/) { train_epoch(st, loop); });
        if (opt_.refit) refit(train, callbacks, history);
        return history;
    }

    /// The validation split, the id maps and seen items, the fallback and mean init, the pairs, Adam.
    void prepare_fit(const RatingMatrix<T>& train, const RatingMatrix<T>* validation, FitState& st) {
        const bool implicit = opt_.feedback == Feedback::implicit;
        st.data = &train;
        st.val = validation;
        if (!st.val && opt_.validation_fraction > 0) {
            st.own = random_split(train, opt_.validation_fraction, opt_.seed);
            st.data = &st.own->train;
            st.val = &st.own->test;
        }
        check_arg(!opt_.early_stopping || (st.val && !st.val->empty()),
                  "NeuralCF::fit: early stopping needs validation data (validation_fraction > 0 or a validation matrix)");
        check_arg(!st.data->empty(), "NeuralCF::fit: no training pairs left after the validation split");
        if (implicit) check_negative_sampling(*st.data, "NeuralCF::fit");
        users_ = train.user_map();
        items_ = train.item_map();
        seen_ptr_ = train.row_ptr();
        seen_items_ = train.item_indices();
        if (opt_.unseen_fallback && !implicit) fit_fallback(*st.data);
        if (opt_.mean_init && !implicit) net_.output().bias().value(0, 0) = static_cast<T>(st.data->mean());
        if (!implicit) {
            st.pu = st.data->entry_users();
            st.pi = st.data->item_indices();
            st.pt = st.data->values();
        }
        st.bu.reserve(opt_.batch_size);
        st.bi.reserve(opt_.batch_size);
        st.bt.reserve(opt_.batch_size);
        st.params = parameters();
        st.adam.emplace(st.params, optim::AdamOptions().lr(opt_.learning_rate));
        nn::zero_grad(st.params);
    }

    /// One epoch: (implicit) fresh negatives, a shuffle, then forward, loss, backward and an Adam
    /// step per mini-batch; the scoring projections refreshed at the end.
    void train_epoch(FitState& st, FitLoop& loop) {
        if (opt_.feedback == Feedback::implicit) {
            sample_negatives(*st.data, opt_.negatives, st.sample_rng, st.samples);
            st.pu.swap(st.samples.users);
            st.pi.swap(st.samples.items);
            st.pt.swap(st.samples.labels);
        }
        const size_type n = st.pu.size();
        st.order.resize(n);
        for (size_type k = 0; k < n; ++k) st.order[k] = k;
        st.shuffle_rng.shuffle(st.order.begin(), st.order.end());
        size_type step = 0;
        for (size_type start = 0; start < n; start += opt_.batch_size) {
            const size_type m = std::min(opt_.batch_size, n - start);
            st.bu.resize(m);
            st.bi.resize(m);
            st.bt.resize(m);
            for (size_type b = 0; b < m; ++b) {
                const size_type k = st.order[start + b];
                st.bu[b] = st.pu[k];
                st.bi[b] = st.pi[k];
                st.bt[b] = st.pt[k];
            }
            net_.forward(st.bu.data(), st.bi.data(), m);
            const double loss = net_.loss(st.bt.data(), m, true) + net_.penalty(st.bu.data(), st.bi.data(), m);
            ++step;
            loop.check_loss(step, loss);  // before the update: a diverged batch never reaches the weights
            net_.backward(st.bu.data(), st.bi.data(), m);
            net_.step(*st.adam, st.params, st.bu.data(), st.bi.data(), m, opt_.lazy_embedding_updates);
            loop.batch_end(step, loss, static_cast<double>(m));
        }
        net_.refresh_projections();  // validation and prediction read the projection cache
    }

    /// options().refit: the epoch count was chosen on the held-out pairs; retrain on every training
    /// pair for that many epochs, appending the new epochs to `history`.
    void refit(const RatingMatrix<T>& train, const std::vector<Callback*>& callbacks, History& history) {
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

    /// The output for n pairs (n <= chunk_rows), without index checks; the fallback for pairs with
    /// an unseen user or item.
    void score_pairs(const index_type* users, const index_type* items, size_type n, T* out, Scratch& s) const {
        net_.score_pairs(users, items, n, out, s.net);
        if (fallback_)
            for (size_type r = 0; r < n; ++r)
                if (!user_known_[users[r]] || !item_known_[items[r]])
                    out[r] = static_cast<T>(mu_ + static_cast<double>(fb_user_[users[r]]) +
                                            static_cast<double>(fb_item_[items[r]]));
    }

    /// out[i] for every item of one user.
    void score_user(index_type user, T* out, Scratch& s) const {
        net_.score_user(user, out, s.net);
        if (fallback_)
            for (size_type i = 0; i < ni_; ++i)
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
                               exclude_seen ? seen_first : nullptr, exclude_seen ? seen_last : nullptr, s.top, out);
    }

    static NeuralCFOptions options_from_metadata(const MetadataReader& m, const std::string& path);
    void read_seen(const Matrix<T>& counts, const Matrix<T>& seen, const std::string& path);
    void read_seen_integers(const ModelFile<T>& file, const std::string& path);

    // --- state ----------------------------------------------------------------------------------------

    NeuralCFOptions opt_;
    bool initialized_ = false;
    size_type nu_ = 0, ni_ = 0;
    typename RatingMatrix<T>::map_ptr users_, items_;
    std::vector<std::size_t> seen_ptr_;
    std::vector<index_type> seen_items_;

    NeuralCFNetwork<T> net_;  // the layers, their buffers and the scoring projections

    // unseen fallback (explicit mode)
    bool fallback_ = false;
    double mu_ = 0.0;
    std::vector<T> fb_user_, fb_item_;
    std::vector<std::uint8_t> user_known_, item_known_;
};

static_assert(is_recommender_v<NeuralCF<float>> && !supports_fold_in_v<NeuralCF<float>>,
              "NeuralCF implements the recommender interface (recommender.hpp), without fold-in");

}  // namespace cfnet

#include <cfnet/models/neural_cf/io.hpp>  // save() and load()
