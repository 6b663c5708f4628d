#pragma once
/// @file ensemble.hpp
/// AutoencoderEnsemble<T>: a weighted average of several AutoencoderCF models.
///
/// Each member is an AutoencoderOptions; fit() trains every member on the same training matrix
/// (one after the other, each from its own seed), predict() returns
///   sum_k w_k * p_k / sum_k w_k
/// of the members' own predictions p_k (each computed as the member's predict() would, i.e.
/// with its own clamping and unseen-unit fallback), then clamps to the ensemble's range when one
/// is set. The members may differ in orientation, depth, activation and solver.
///
/// @code
///   auto ens = cfnet::AutoencoderEnsemble<>::autorec_ensemble();
///   ens.fit(split.train);
///   std::vector<float> p = ens.predict(split.train, split.test);  // leak-free: input = train
/// @endcode
///
/// Saving: save(path) writes a small manifest at `path` (model "AutoencoderEnsemble", weights,
/// clamp, member count) and each member as its own AutoencoderCF file `path.member<k>`; load(path)
/// reads them back (from_members() rebuilds from already loaded members).
///
/// Recommender interface (recommender.hpp): score_items/make_scorer/recommend/recommend_batch rank
/// by the weighted average of the members' raw scores (the Scorer below); no fold-in.
#include <cfnet/autoencoder.hpp>
#include <cfnet/error.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

template <class T = float>
class AutoencoderEnsemble {
public:
    using value_type = T;
    using size_type = std::size_t;
    using Model = AutoencoderCF<T>;

    /// Members `options[k]` with weights `weights[k]` (normalised by their sum at prediction).
    /// @throws InvalidArgument when the lists are empty or of different sizes, a weight is not a
    /// finite number >= 0, all weights are 0, or a member's options are invalid.
    AutoencoderEnsemble(std::vector<AutoencoderOptions> options, std::vector<double> weights)
        : weights_(std::move(weights)) {
        check_arg(!options.empty(), "AutoencoderEnsemble: at least one member is needed");
        check_arg(options.size() == weights_.size(), "AutoencoderEnsemble: ", options.size(), " members but ",
                  weights_.size(), " weights");
        double sum = 0;
        for (size_type k = 0; k < weights_.size(); ++k) {
            check_arg(std::isfinite(weights_[k]) && weights_[k] >= 0, "AutoencoderEnsemble: weight ", k,
                      " must be a finite number >= 0, got ", weights_[k]);
            sum += weights_[k];
        }
        check_arg(sum > 0, "AutoencoderEnsemble: the weights sum to 0");
        members_.reserve(options.size());
        for (auto& o : options) members_.emplace_back(std::move(o));
    }

    /// An ensemble of already fitted (e.g. loaded) members. @throws as the constructor, or when a
    /// member is not fitted.
    static AutoencoderEnsemble from_members(std::vector<Model> models, std::vector<double> weights) {
        std::vector<AutoencoderOptions> opts;
        for (const auto& m : models) opts.push_back(m.options());
        AutoencoderEnsemble e(std::move(opts), std::move(weights));
        for (size_type k = 0; k < models.size(); ++k) {
            check_arg(models[k].fitted(), "AutoencoderEnsemble::from_members: member ", k, " is not fitted");
            e.members_[k] = std::move(models[k]);
        }
        return e;
    }

    /// The averaging preset: 0.55 x I-AutoRec (AutoencoderOptions::autorec(): item-based, 500
    /// sigmoid units, identity output, full-batch L-BFGS, lambda / residual / iterations chosen on
    /// a validation part of the training data) + 0.25 x the same model USER-based (U-AutoRec: a
    /// row is a user's ratings over the items; its own choice of lambda, residual and iterations)
    /// + 0.2 x a denoising item autoencoder trained with Adam (item-based, 500 sigmoid units,
    /// identity output, 70% input dropout, L2 1e-4, learning rate 1e-3, batch 32, 40 epochs), each
    /// clamped to the training ratings' range with the bias-baseline fallback. The members and
    /// weights were chosen on seeded 10% validation parts of TRAINING ratings only
    /// (random_split(train, 0.1, 7) of u1.base and of the notebook split's training part;
    /// docs/benchmarks.md, "averaging preset"); examples/presets_hold.cpp checks them on other data.
    static AutoencoderEnsemble autorec_ensemble() {
        AutoencoderOptions item = AutoencoderOptions::autorec();
        AutoencoderOptions user = AutoencoderOptions::autorec();
        user.item_based(false);
        AutoencoderOptions denoising = AutoencoderOptions::notebook();
        denoising.item_based();
        denoising.hidden = {500};
        denoising.hidden_activation = ActivationKind::sigmoid;
        denoising.output_activation = ActivationKind::identity;
        denoising.input_dropout = 0.7;
        denoising.weight_decay = 1e-4;
        denoising.learning_rate = 1e-3;
        denoising.batch_size = 32;
        denoising.epochs = 40;
        denoising.clamp_to_training = true;
        denoising.unseen_fallback = true;
        return AutoencoderEnsemble({item, user, denoising}, {0.55, 0.25, 0.2});
    }

    /// Clamp the averaged predictions to [lo, hi]. @throws InvalidArgument when lo > hi or not finite.
    AutoencoderEnsemble& clamp(double lo, double hi) {
        check_arg(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "AutoencoderEnsemble::clamp: need finite lo <= hi, got [",
                  lo, ", ", hi, "]");
        clamp_min_ = lo;
        clamp_max_ = hi;
        return *this;
    }
    std::optional<double> clamp_min() const noexcept { return clamp_min_; }
    std::optional<double> clamp_max() const noexcept { return clamp_max_; }

    size_type size() const noexcept { return members_.size(); }
    const std::vector<double>& weights() const noexcept { return weights_; }
    /// Member k. @throws InvalidArgument when k is out of range.
    const Model& member(size_type k) const {
        check_arg(k < members_.size(), "AutoencoderEnsemble::member: index ", k, " out of range (", members_.size(),
                  " members)");
        return members_[k];
    }
    bool fitted() const noexcept {
        for (const auto& m : members_)
            if (!m.fitted()) return false;
        return true;
    }

    /// Trains every member from scratch on `train`, in order; returns their histories. `callbacks`
    /// see each member's fit in turn (on_train_begin ... on_train_end once per member).
    /// @throws as AutoencoderCF::fit.
    std::vector<History> fit(const RatingMatrix<T>& train, const std::vector<Callback*>& callbacks = {}) {
        std::vector<History> out;
        out.reserve(members_.size());
        for (auto& m : members_) out.push_back(m.fit(train, callbacks));
        return out;
    }

    /// The weighted average of the members' predictions for (user index, item index) pairs with
    /// `input` as their input (pass the training matrix: leak-free), clamped when set.
    /// @throws InvalidArgument before fit(), or as AutoencoderCF::predict.
    std::vector<T> predict(const RatingMatrix<T>& input, const std::vector<std::pair<index_type, index_type>>& pairs) const {
        return combine([&](const Model& m) { return m.predict(input, pairs); }, pairs.size());
    }

    /// The same for every pair stored in `pairs` (e.g. the test matrix), in its CSR order.
    std::vector<T> predict(const RatingMatrix<T>& input, const RatingMatrix<T>& pairs) const {
        return combine([&](const Model& m) { return m.predict(input, pairs); }, pairs.nnz());
    }

    /// Scores every item for users of a fixed input matrix, for top-N evaluation:
    /// `scorer(u, out)` fills out[0..n_items) with the weighted average (weights normalised) of the
    /// members' raw scores (AutoencoderCF::Scorer: no clamping, no fallback).
    class Scorer {
    public:
        void operator()(index_type u, T* out) const {
            for (size_type k = 0; k < scorers_.size(); ++k) {
                scorers_[k](u, buf_.data());
                const T w = static_cast<T>(weights_[k]);
                if (k == 0) {
                    for (size_type i = 0; i < n_items_; ++i) out[i] = w * buf_[i];
                } else {
                    for (size_type i = 0; i < n_items_; ++i) out[i] += w * buf_[i];
                }
            }
        }

    private:
        friend class AutoencoderEnsemble;
        std::vector<typename Model::Scorer> scorers_;
        std::vector<double> weights_;  // normalised, members with weight 0 left out
        size_type n_items_ = 0;
        mutable std::vector<T> buf_;
    };

    /// A Scorer over `input` (kept by reference: it must outlive the scorer).
    /// @throws InvalidArgument before fit(), or as AutoencoderCF::make_scorer.
    Scorer make_scorer(const RatingMatrix<T>& input) const {
        check_arg(fitted(), "AutoencoderEnsemble::make_scorer: the ensemble is not fitted (call fit())");
        double sum = 0;
        for (const double w : weights_) sum += w;
        Scorer s;
        for (size_type k = 0; k < members_.size(); ++k) {
            if (weights_[k] == 0) continue;
            s.scorers_.push_back(members_[k].make_scorer(input));
            s.weights_.push_back(weights_[k] / sum);
        }
        s.n_items_ = input.n_items();
        s.buf_.assign(s.n_items_, T(0));
        return s;
    }

    // --- the rest of the recommender interface (recommender.hpp) -------------------------------------

    /// predict() gives ratings (the members' averaged, clamped as set).
    bool predicts_ratings() const noexcept { return true; }

    /// The Scorer's scores of every item for user `user` of `input`, into out[0 .. input.n_items()).
    /// Builds a Scorer (for item-based members: every item's code); use make_scorer() or
    /// recommend_batch() for many users.
    /// @throws InvalidArgument as make_scorer, or for a user index out of range.
    void score_items(const RatingMatrix<T>& input, index_type user, T* out) const {
        check_user(input, user, "score_items");
        make_scorer(input)(user, out);
    }

    /// Top-k items for user `user` of `input` by the Scorer's scores, best first, ties by smaller
    /// index; the user's items in `input` excluded unless !exclude_seen.
    /// @throws InvalidArgument as score_items; NumericalError for a NaN candidate score.
    std::vector<Recommendation<T>> recommend(const RatingMatrix<T>& input, index_type user, size_type k,
                                             bool exclude_seen = true) const {
        check_user(input, user, "recommend");
        std::vector<T> scores(input.n_items());
        make_scorer(input)(user, scores.data());
        const auto seen = input.user_items(user);
        return select_recommendations("AutoencoderEnsemble::recommend", user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr);
    }

    /// recommend(input, u, k, exclude_seen) for each of `users` in order (one Scorer for all),
    /// streamed to sink(u, const std::vector<Recommendation<T>>&).
    /// @throws InvalidArgument as recommend (before any sink call).
    template <class Sink>
    void recommend_batch(const RatingMatrix<T>& input, const std::vector<index_type>& users, size_type k, Sink&& sink,
                         bool exclude_seen = true) const {
        for (const auto u : users) check_user(input, u, "recommend_batch");
        const Scorer scorer = make_scorer(input);
        std::vector<T> scores(input.n_items());
        std::vector<index_type> ranked;
        std::vector<Recommendation<T>> recs;
        for (const auto u : users) {
            scorer(u, scores.data());
            const auto seen = input.user_items(u);
            select_recommendations("AutoencoderEnsemble::recommend_batch", u, scores.data(), scores.size(), k,
                                   exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr,
                                   ranked, recs);
            sink(u, static_cast<const std::vector<Recommendation<T>>&>(recs));
        }
    }

    /// Writes the manifest to `path` and member k to `path.member<k>` (AutoencoderCF::save).
    /// @throws InvalidArgument before fit(); IoError when a file cannot be written.
    void save(const std::string& path) const {
        check_arg(fitted(), "AutoencoderEnsemble::save: the ensemble is not fitted (call fit())");
        for (size_type k = 0; k < members_.size(); ++k) members_[k].save(member_path(path, k));
        Metadata m;
        m["model"] = "AutoencoderEnsemble";
        m["members"] = std::to_string(members_.size());
        std::string w;
        for (size_type k = 0; k < weights_.size(); ++k) w += (k ? " " : "") + metadata_number(weights_[k]);
        m["weights"] = w;
        m["clamp"] = clamp_min_ ? metadata_number(*clamp_min_) + " " + metadata_number(*clamp_max_) : std::string();
        save_tensors<T>(path, m, {});
    }

    /// Reads an ensemble written by save(). @throws IoError for an unreadable, corrupt or other
    /// model's manifest or member file; InvalidArgument as from_members.
    static AutoencoderEnsemble load(const std::string& path) {
        const ModelFile<T> file = read_model_file<T>(path);
        const MetadataReader meta(file.metadata, "AutoencoderEnsemble::load", path);
        if (meta.text("model") != "AutoencoderEnsemble")
            throw IoError("AutoencoderEnsemble::load: '" + path + "' holds a '" + meta.text("model") +
                          "' model, not AutoencoderEnsemble");
        const auto n = meta.count<size_type>("members");
        // Numbers as metadata_number wrote them; a malformed one is an IoError naming the file and key.
        const auto numbers = [&](const std::string& key) {
            std::vector<double> out;
            std::istringstream is(meta.text(key));
            for (std::string tok; is >> tok;) {
                double x = 0;
                const auto r = std::from_chars(tok.data(), tok.data() + tok.size(), x);
                if (r.ec != std::errc() || r.ptr != tok.data() + tok.size())
                    throw IoError(detail::concat("AutoencoderEnsemble::load: '", path, "': metadata '", key, "': '", tok,
                                                 "' is not a number"));
                out.push_back(x);
            }
            return out;
        };
        std::vector<double> weights = numbers("weights");
        if (weights.size() != n)
            throw IoError(detail::concat("AutoencoderEnsemble::load: '", path, "': ", n, " members but ", weights.size(),
                                         " weights"));
        const std::vector<double> clamp = numbers("clamp");
        if (clamp.size() != 0 && clamp.size() != 2)
            throw IoError(detail::concat("AutoencoderEnsemble::load: '", path, "': metadata 'clamp' holds ", clamp.size(),
                                         " numbers, not 0 or 2"));
        // the checks of the constructor and clamp(), as IoErrors naming the file, before a member is read
        double sum = 0;
        for (const double w : weights) {
            if (!(std::isfinite(w) && w >= 0))
                throw IoError(detail::concat("AutoencoderEnsemble::load: '", path, "': weight ", w,
                                             " is not a finite number >= 0"));
            sum += w;
        }
        if (!(sum > 0)) throw IoError(detail::concat("AutoencoderEnsemble::load: '", path, "': the weights sum to ", sum));
        if (clamp.size() == 2 && !(std::isfinite(clamp[0]) && std::isfinite(clamp[1]) && clamp[0] <= clamp[1]))
            throw IoError(detail::concat("AutoencoderEnsemble::load: '", path, "': clamp [", clamp[0], ", ", clamp[1],
                                         "] is not a finite range"));
        std::vector<Model> models;
        for (size_type k = 0; k < n; ++k) models.push_back(Model::load(member_path(path, k)));
        AutoencoderEnsemble e = from_members(std::move(models), std::move(weights));
        if (clamp.size() == 2) e.clamp(clamp[0], clamp[1]);
        return e;
    }

    /// The file of member k of an ensemble saved at `path`.
    static std::string member_path(const std::string& path, size_type k) { return path + ".member" + std::to_string(k); }

private:
    void check_user(const RatingMatrix<T>& input, index_type user, const char* fn) const {
        check_arg(user < input.n_users(), "AutoencoderEnsemble::", fn, ": user index ", user, " out of range (",
                  input.n_users(), " users)");
    }

    template <class F>
    std::vector<T> combine(F&& member_predict, size_type n) const {
        check_arg(fitted(), "AutoencoderEnsemble::predict: the ensemble is not fitted (call fit())");
        double sum = 0;
        for (const double w : weights_) sum += w;
        std::vector<double> acc(n, 0.0);
        for (size_type k = 0; k < members_.size(); ++k) {
            if (weights_[k] == 0) continue;
            const std::vector<T> p = member_predict(members_[k]);
            CFNET_ASSERT(p.size() == n);
            const double w = weights_[k] / sum;
            for (size_type j = 0; j < n; ++j) acc[j] += w * static_cast<double>(p[j]);
        }
        std::vector<T> out(n);
        for (size_type j = 0; j < n; ++j) {
            double v = acc[j];
            if (clamp_min_) v = std::min(std::max(v, *clamp_min_), *clamp_max_);
            out[j] = static_cast<T>(v);
        }
        return out;
    }

    std::vector<Model> members_;
    std::vector<double> weights_;
    std::optional<double> clamp_min_, clamp_max_;
};

static_assert(is_recommender_v<AutoencoderEnsemble<float>> && !supports_fold_in_v<AutoencoderEnsemble<float>>,
              "AutoencoderEnsemble implements the recommender interface (recommender.hpp), without fold-in");

}  // namespace cfnet
