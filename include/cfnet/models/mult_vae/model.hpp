#pragma once
/// @file models/mult_vae/model.hpp
/// MultVAE<T>: Mult-VAE and Mult-DAE (Liang et al. 2018, "Variational Autoencoders for
/// Collaborative Filtering") behind the recommender interface (recommender.hpp). Its network is
/// models/mult_vae/network.hpp, its options models/mult_vae/options.hpp, its model files
/// models/mult_vae/io.hpp; docs/mult_vae.md explains the model, the anneal and the epoch selection.
///
/// Implicit feedback: every stored entry of the training matrix is an interaction and its value is
/// the count x_ui the multinomial likelihood models (1 for 0/1 data). Binarize ratings first with
/// cfnet::to_implicit (data/implicit.hpp), e.g. to_implicit(ratings, Binarize::all()).
///
/// @code
///   auto train = cfnet::to_implicit(split.train, cfnet::Binarize::all());
///   cfnet::MultVAE<> vae(cfnet::MultVAEOptions::vae().n_epochs(100).select_epoch(0.1));
///   vae.fit(train);                                   // best epoch by NDCG on 10% of each user
///   auto top = vae.recommend(train, user, 10);        // the user's row of train is the input
///   auto cold = vae.recommend(items, ones, 10);       // fold-in: any row in the item space
///   vae.save("vae.cfnet");
/// @endcode
///
/// Scores are the decoder's logits (the ranking of softmax(logits), which is monotone in them), for
/// any row of any matrix in the model's item space: a user's input is their row, so a user who was
/// not in training is scored the same way (fold-in).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/models/mult_vae/network.hpp>
#include <cfnet/models/mult_vae/options.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

namespace detail {

/// out = values / ||values||_2 (zeros for an all-zero row): MultVAE's input normalisation.
template <class T, class Values>
void normalize_row(const Values& values, std::vector<T>& out) {
    double s = 0;
    for (std::size_t k = 0; k < values.size(); ++k) s += static_cast<double>(values[k]) * static_cast<double>(values[k]);
    out.resize(values.size());
    const T f = s > 0 ? static_cast<T>(1.0 / std::sqrt(s)) : T(0);
    for (std::size_t k = 0; k < values.size(); ++k) out[k] = values[k] * f;
}

/// Appends the row (items, values) to `batch` scaled to unit L2 norm.
template <class T, class Items, class Values>
void add_normalized_row(nn::SparseBatch<T>& batch, const Items& items, const Values& values, std::vector<T>& scratch) {
    normalize_row(values, scratch);
    batch.add_row(items.data(), scratch.data(), items.size());
}

}  // namespace detail

/// Mult-VAE / Mult-DAE; see the file comment.
template <class T = float>
class MultVAE {
public:
    using value_type = T;
    using size_type = std::size_t;
    using Net = detail::MultVAENet<T>;

    /// @throws InvalidArgument when an option is out of range (MultVAEOptions::validate).
    explicit MultVAE(MultVAEOptions options = {}) : opt_(std::move(options)) { opt_.validate(); }

    MultVAE(const MultVAE& o) : opt_(o.opt_), net_(o.net_), adam_(o.adam_), user_map_(o.user_map_), item_map_(o.item_map_) {
        if (adam_) adam_->rebind(net_.parameters());
    }
    MultVAE& operator=(const MultVAE& o) {
        if (this != &o) {
            MultVAE tmp(o);
            *this = std::move(tmp);
        }
        return *this;
    }
    MultVAE(MultVAE&&) = default;  // the layers live on the heap: Adam's pointers stay valid
    MultVAE& operator=(MultVAE&&) = default;

    const MultVAEOptions& options() const noexcept { return opt_; }
    bool fitted() const noexcept { return !net_.empty(); }
    /// Recommender interface: scores are logits, not ratings.
    bool predicts_ratings() const noexcept { return false; }
    /// Any row in the item space is an input: fold-in always works.
    bool supports_fold_in() const noexcept { return true; }
    size_type n_items() const noexcept { return net_.n_items(); }
    const IdMap& user_map() const noexcept { return user_map_; }
    const IdMap& item_map() const noexcept { return item_map_; }
    const Net& network() const noexcept { return net_; }
    /// The network and the optimizer, for training outside fit() (the data-parallel fit,
    /// distributed/mult_vae.hpp). @throws InvalidArgument before initialize() / fit().
    Net& mutable_network() {
        check_fitted("mutable_network");
        return net_;
    }
    optim::Adam<T>& optimizer() {
        check_fitted("optimizer");
        return *adam_;
    }

    /// The trainable parameters, slot by slot. @throws InvalidArgument before initialize() / fit().
    nn::ParameterList<T> parameters() {
        check_fitted("parameters");
        return net_.parameters();
    }

    /// Builds the network for `train`'s item space with fresh weights from the seed, without
    /// training. @throws InvalidArgument if `train` has no interactions.
    void initialize(const RatingMatrix<T>& train) {
        check_arg(!train.empty(), "MultVAE::fit: the training matrix has no interactions (", train.n_users(),
                  " users x ", train.n_items(), " items)");
        Rng rng(detail::vae_seed(opt_.seed, detail::vae_stream_init));
        net_ = Net(train.n_items(), opt_, rng);
        user_map_ = train.users();
        item_map_ = train.items();
        adam_.emplace(net_.parameters(),
                      optim::AdamOptions().lr(opt_.learning_rate).epsilon(opt_.adam_epsilon).weight_decay(2 * opt_.weight_decay));
    }

    /// Trains from scratch on `train` (every stored entry an interaction, its value the count). With
    /// options().validation_fraction > 0 the epoch is chosen on a held-out part of `train` (see
    /// MultVAEOptions); the returned history is that selection run's (records "val_ndcg@<k>", "kl",
    /// "beta"), best_epoch the chosen epoch.
    /// @throws InvalidArgument on an empty matrix; NumericalError when the loss becomes NaN or infinite.
    History fit(const RatingMatrix<T>& train, const std::vector<Callback*>& callbacks = {}) {
        if (opt_.validation_fraction <= 0) return run(train, nullptr, callbacks, opt_.epochs);
        const Split<T> s = per_user_holdout(train, detail::vae_seed(opt_.seed, detail::vae_stream_validation),
                                            opt_.validation_fraction, 5);
        History h = run(s.train, &s.test, callbacks, opt_.epochs);
        if (opt_.refit) run(train, nullptr, callbacks, h.best_epoch > 0 ? h.best_epoch : static_cast<int>(h.size()));
        return h;
    }

    /// fit with explicit validation data in `train`'s index space: after every epoch "val_ndcg@<k>"
    /// of the items of `validation` (train's items excluded from the candidates) is recorded and the
    /// best epoch's weights are kept (no refit: the model is trained on `train`).
    History fit(const RatingMatrix<T>& train, const RatingMatrix<T>& validation,
                const std::vector<Callback*>& callbacks = {}) {
        check_arg(train.same_space(validation), "MultVAE::fit: validation (", validation.n_users(), " users x ",
                  validation.n_items(), " items) is not in the training matrix's index space (", train.n_users(), " x ",
                  train.n_items(), ")");
        return run(train, &validation, callbacks, opt_.epochs);
    }

    /// The loss (nll + beta * KL + penalty) of the rows `rows` of `data` with the current weights,
    /// ADDING its gradients into parameters()' grads (zero them first). No dropout, no update; the
    /// VAE's eps is drawn from Rng(noise_seed) (the same seed, the same eps), or z = mu when
    /// noise_seed is empty. For gradient checks.
    double loss_and_gradient(const RatingMatrix<T>& data, const std::vector<index_type>& rows, double beta,
                             std::optional<std::uint64_t> noise_seed) {
        check_fitted("loss_and_gradient");
        check_space(data, "loss_and_gradient");
        nn::SparseBatch<T> input(n_items()), target(n_items());
        std::vector<T> scratch;
        for (const auto r : rows) {
            check_arg(r < data.n_users(), "MultVAE::loss_and_gradient: user index ", r, " out of range (",
                      data.n_users(), " users)");
            target.add_row(data.user_items(r), data.user_ratings(r));
            detail::add_normalized_row(input, data.user_items(r), data.user_ratings(r), scratch);
        }
        std::optional<Rng> noise;
        if (noise_seed) noise.emplace(*noise_seed);
        return net_.step(input, target, beta, noise ? &*noise : nullptr, nullptr, opt_.weight_decay).total;
    }

    // --- scoring ---------------------------------------------------------------------------------

    /// Scores every item for users of a fixed input matrix (the users' rows are the network's input):
    /// scorer(u, out) fills out[0 .. n_items) with logits. Keeps its buffers between calls: one
    /// scorer per thread (its operator() is const but not safe to call from two threads at once).
    /// User u is scored through the network in the aligned block of users [b, b + block_rows),
    /// b = u - u % block_rows, whatever was asked before, so its logits do not depend on the order
    /// of the calls or on how users are split between threads (a BLAS product's rows round
    /// differently with the batch's row count; measured with OpenBLAS 0.3.21). A user asked alone
    /// costs a block; users asked in increasing order (evaluate_ranking, predict) cost one each.
    class Scorer {
    public:
        static constexpr size_type block_rows = 128;

        void operator()(index_type u, T* out) const {
            check_arg(u < input_->n_users(), "MultVAE::Scorer: user index ", u, " out of range (", input_->n_users(),
                      " users)");
            const size_type ni = model_->n_items();
            if (!(has_block_ && u >= first_ && u < first_ + count_)) {
                const size_type b = u - u % block_rows, n = std::min(block_rows, input_->n_users() - b);
                std::vector<index_type> users(n);
                std::iota(users.begin(), users.end(), static_cast<index_type>(b));
                score_batch(users, block_);
                first_ = b;
                count_ = n;
                has_block_ = true;
            }
            const T* src = block_.data() + (u - first_) * ni;
            std::copy(src, src + ni, out);
        }

        /// scores = users.size() x n_items logits, row r for users[r].
        void score_batch(const std::vector<index_type>& users, std::vector<T>& scores) const {
            for (const auto u : users)
                check_arg(u < input_->n_users(), "MultVAE::Scorer: user index ", u, " out of range (",
                          input_->n_users(), " users)");
            batch_.clear(model_->n_items());
            for (const auto u : users)
                detail::add_normalized_row(batch_, input_->user_items(u), input_->user_ratings(u), scratch_);
            scores.resize(users.size() * model_->n_items());
            model_->net_.logits(batch_, ws_, scores.data());
        }

    private:
        friend class MultVAE;
        const MultVAE* model_ = nullptr;
        const RatingMatrix<T>* input_ = nullptr;
        mutable typename Net::Workspace ws_;
        mutable nn::SparseBatch<T> batch_;
        mutable std::vector<T> scratch_, block_;
        mutable bool has_block_ = false;
        mutable size_type first_ = 0, count_ = 0;
    };

    /// A Scorer over `input` (kept by reference: it must outlive the scorer).
    /// @throws InvalidArgument before fit() or when input has another item space.
    Scorer make_scorer(const RatingMatrix<T>& input) const {
        check_fitted("make_scorer");
        check_space(input, "make_scorer");
        Scorer s;
        s.model_ = this;
        s.input_ = &input;
        return s;
    }

    /// Logits of every item for user `user` of `input` (their row is the input), into out[0 .. n_items).
    void score_items(const RatingMatrix<T>& input, index_type user, T* out) const {
        check_fitted("score_items");
        check_arg(user < input.n_users(), "MultVAE::score_items: user index ", user, " out of range (", input.n_users(),
                  " users)");
        std::vector<T> s;
        make_scorer(input).score_batch({user}, s);
        std::copy(s.begin(), s.end(), out);
    }

    /// Logits for (user index, item index) pairs of `input` (the users' rows are the input).
    std::vector<T> predict(const RatingMatrix<T>& input, const std::vector<std::pair<index_type, index_type>>& pairs) const {
        check_fitted("predict");
        for (size_type p = 0; p < pairs.size(); ++p)
            check_arg(pairs[p].first < input.n_users() && pairs[p].second < input.n_items(), "MultVAE::predict: pair ", p,
                      " (user index ", pairs[p].first, ", item index ", pairs[p].second, ") is outside the input's ",
                      input.n_users(), " users x ", input.n_items(), " items");
        const Scorer sc = make_scorer(input);
        std::vector<size_type> order(pairs.size());
        std::iota(order.begin(), order.end(), size_type(0));
        std::stable_sort(order.begin(), order.end(), [&](size_type a, size_type b) { return pairs[a].first < pairs[b].first; });
        std::vector<T> out(pairs.size()), row(n_items());
        index_type cur = 0;
        bool have = false;
        for (const auto p : order) {
            if (!have || pairs[p].first != cur) {
                cur = pairs[p].first;
                sc(cur, row.data());
                have = true;
            }
            out[p] = row[pairs[p].second];
        }
        return out;
    }

    /// Logits for every pair stored in `pairs`, in its CSR order, with `input` as the input.
    std::vector<T> predict(const RatingMatrix<T>& input, const RatingMatrix<T>& pairs) const {
        check_arg(input.same_space(pairs), "MultVAE::predict: input is ", input.n_users(), " x ", input.n_items(),
                  " but pairs is ", pairs.n_users(), " x ", pairs.n_items(), " (another index space)");
        std::vector<std::pair<index_type, index_type>> list;
        list.reserve(pairs.nnz());
        for (size_type u = 0; u < pairs.n_users(); ++u)
            for (const auto i : pairs.user_items(static_cast<index_type>(u))) list.emplace_back(static_cast<index_type>(u), i);
        return predict(input, list);
    }

    /// Top-k items for user `user` of `input`, best first, ties by smaller index; the user's items in
    /// `input` excluded unless exclude_seen is false. @throws NumericalError for a NaN candidate.
    std::vector<Recommendation<T>> recommend(const RatingMatrix<T>& input, index_type user, size_type k,
                                             bool exclude_seen = true) const {
        check_fitted("recommend");
        std::vector<T> scores(n_items());
        score_items(input, user, scores.data());
        const auto seen = input.user_items(user);
        return select_recommendations("MultVAE::recommend", user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr);
    }

    /// recommend for each of `users`, sink(user, recs) in the order given; the network runs on blocks
    /// of Scorer::block_rows users (memory O(block x items)).
    template <class Sink>
    void recommend_batch(const RatingMatrix<T>& input, const std::vector<index_type>& users, size_type k, Sink&& sink,
                         bool exclude_seen = true) const {
        check_fitted("recommend_batch");
        for (const auto u : users)
            check_arg(u < input.n_users(), "MultVAE::recommend_batch: user index ", u, " out of range (",
                      input.n_users(), " users)");
        const Scorer sc = make_scorer(input);
        const size_type ni = n_items(), chunk = Scorer::block_rows;
        std::vector<T> scores;
        std::vector<index_type> block, ranked;
        std::vector<Recommendation<T>> recs;
        for (size_type b0 = 0; b0 < users.size(); b0 += chunk) {
            const size_type b1 = std::min(users.size(), b0 + chunk);
            block.assign(users.begin() + static_cast<std::ptrdiff_t>(b0), users.begin() + static_cast<std::ptrdiff_t>(b1));
            sc.score_batch(block, scores);
            for (size_type r = 0; r < block.size(); ++r) {
                const auto seen = input.user_items(block[r]);
                select_recommendations("MultVAE::recommend_batch", block[r], scores.data() + r * ni, ni, k,
                                       exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr, ranked,
                                       recs);
                sink(block[r], static_cast<const std::vector<Recommendation<T>>&>(recs));
            }
        }
    }

    /// Fold-in: the logits of every item for a row given as (item index, value) pairs (any order, no
    /// repeats; values are the counts, 1 for an interaction). The user need not have been in training.
    std::vector<T> score_row(const std::vector<index_type>& items, const std::vector<T>& values) const {
        check_fitted("score_row");
        check_arg(items.size() == values.size(), "MultVAE::score_row: ", items.size(), " items but ", values.size(),
                  " values");
        std::vector<size_type> order(items.size());
        std::iota(order.begin(), order.end(), size_type(0));
        for (const auto i : items)
            check_arg(i < n_items(), "MultVAE::score_row: item index ", i, " out of range (", n_items(), " items)");
        std::sort(order.begin(), order.end(), [&](size_type a, size_type b) { return items[a] < items[b]; });
        std::vector<index_type> idx(items.size());
        std::vector<T> val(items.size()), scratch;
        for (size_type q = 0; q < order.size(); ++q) {
            idx[q] = items[order[q]];
            val[q] = values[order[q]];
            check_arg(q == 0 || idx[q - 1] != idx[q], "MultVAE::score_row: item index ", idx[q], " is repeated");
        }
        nn::SparseBatch<T> batch(n_items());
        detail::add_normalized_row(batch, idx, val, scratch);
        typename Net::Workspace ws;
        std::vector<T> out(n_items());
        net_.logits(batch, ws, out.data());
        return out;
    }

    /// Fold-in top-k (see score_row), the given items excluded unless exclude_seen is false.
    std::vector<Recommendation<T>> recommend(const std::vector<index_type>& items, const std::vector<T>& values,
                                             size_type k, bool exclude_seen = true) const {
        const auto scores = score_row(items, values);
        std::vector<index_type> seen(items);
        std::sort(seen.begin(), seen.end());
        return select_recommendations("MultVAE::recommend", folded_in_user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.data() : nullptr,
                                      exclude_seen ? seen.data() + seen.size() : nullptr);
    }

    // --- persistence (models/mult_vae/io.hpp) ------------------------------------------------------

    /// Writes the options, the training matrix's user and item ids and the weights to `path`.
    /// @throws InvalidArgument before fit(); IoError when the file cannot be written.
    void save(const std::string& path) const;
    /// Reads a model written by save(). @throws IoError for an unreadable, corrupt or foreign file.
    static MultVAE load(const std::string& path);

private:
    /// One training run on `data` for up to `epochs` epochs, validating on `validation` (may be null).
    History run(const RatingMatrix<T>& data, const RatingMatrix<T>* validation, const std::vector<Callback*>& callbacks,
                int epochs) {
        initialize(data);
        const std::string metric = "val_ndcg@" + std::to_string(opt_.validation_k);
        std::optional<EarlyStopping> stopping;
        if (validation) {
            EarlyStopping es;
            es.monitor = metric;
            es.patience = opt_.patience > 0 ? opt_.patience : epochs + 1;
            es.maximize = true;
            es.restore_best = true;
            stopping = es;
        }
        double kl_sum = 0, beta_sum = 0;
        size_type steps_done = 0;
        std::vector<Matrix<T>> best;
        FitHooks hooks;
        hooks.validate = [&](EpochRecord& rec) {
            rec.metrics["kl"] = steps_done ? kl_sum / static_cast<double>(steps_done) : 0.0;
            rec.metrics["beta"] = steps_done ? beta_sum / static_cast<double>(steps_done) : 0.0;
            if (validation)
                rec.metrics[metric] = evaluate_ranking(data, *validation, opt_.validation_k, make_scorer(data)).ndcg;
        };
        hooks.snapshot = [&] { nn::save_values(net_.parameters(), best); };
        hooks.restore = [&] { nn::load_values(best, net_.parameters()); };
        FitLoop loop("MultVAE", callbacks, stopping, std::move(hooks));

        std::vector<index_type> rows;
        for (size_type u = 0; u < data.n_users(); ++u)
            if (data.user_count(static_cast<index_type>(u)) > 0) rows.push_back(static_cast<index_type>(u));
        const size_type n_rows = rows.size(), bs = opt_.batch_size, steps = (n_rows + bs - 1) / bs;
        Rng shuffle_rng(detail::vae_seed(opt_.seed, detail::vae_stream_shuffle));
        Rng drop_rng(detail::vae_seed(opt_.seed, detail::vae_stream_dropout));
        Rng noise_rng(detail::vae_seed(opt_.seed, detail::vae_stream_noise));
        nn::SparseBatch<T> input(n_items()), target(n_items());
        nn::SparseDropout<T> dropout(opt_.input_dropout);
        std::vector<T> normalized;
        size_type update = 0;
        return loop.run(epochs, steps, [&](int) {
            kl_sum = beta_sum = 0;
            steps_done = 0;
            const auto order = shuffle_rng.permutation<size_type>(n_rows);
            for (size_type s = 0; s < steps; ++s) {
                const size_type b0 = s * bs, b1 = std::min(n_rows, b0 + bs);
                input.clear();
                target.clear();
                for (size_type q = b0; q < b1; ++q) {
                    const index_type u = rows[order[q]];
                    const auto items = data.user_items(u);
                    const auto vals = data.user_ratings(u);
                    target.add_row(items, vals);
                    if (opt_.input_dropout > 0) {
                        detail::normalize_row(vals, normalized);
                        dropout.add_row(input, items, normalized, drop_rng);
                    } else {
                        detail::add_normalized_row(input, items, vals, normalized);
                    }
                }
                const double beta = opt_.beta_at(update++);
                const auto l = net_.step(input, target, beta, opt_.variational ? &noise_rng : nullptr, &*adam_,
                                         opt_.weight_decay);
                kl_sum += l.kl;
                beta_sum += beta;
                ++steps_done;
                loop.batch_end(s + 1, l.total, static_cast<double>(b1 - b0));
            }
        });
    }

    void check_fitted(const char* fn) const {
        check_arg(fitted(), "MultVAE::", fn, ": the model is not fitted (call fit() or load())");
    }
    void check_space(const RatingMatrix<T>& d, const char* fn) const {
        check_arg(d.n_items() == item_map_.size(), "MultVAE::", fn, ": the data has ", d.n_items(),
                  " items but the model was trained on ", item_map_.size(), " items (mismatched item space)");
        check_arg(d.items().ids() == item_map_.ids(), "MultVAE::", fn,
                  ": the data's item ids differ from the model's (same count, ", item_map_.size(),
                  ", but a mismatched item space)");
    }
    Metadata metadata() const;

    MultVAEOptions opt_;
    Net net_;
    std::optional<optim::Adam<T>> adam_;
    IdMap user_map_, item_map_;
};

static_assert(is_recommender_v<MultVAE<float>> && supports_fold_in_v<MultVAE<float>>,
              "MultVAE implements the recommender interface (recommender.hpp), with fold-in");

}  // namespace cfnet

#include <cfnet/models/mult_vae/io.hpp>
