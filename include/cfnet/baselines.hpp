#pragma once
/// @file baselines.hpp
/// Classic non-neural baselines that the neural models are compared against: GlobalMean,
/// BiasBaseline (user + item biases) and MostPopular. Each has
///   fit(train)                      learns from a RatingMatrix (returns *this),
///   predict(user, item) -> T        a rating prediction (MostPopular: the popularity score),
///   score_items(user, T* out)       scores for all n_items items, for top-N ranking,
/// so they plug straight into evaluate_rating() / evaluate_ranking():
/// @code
///   cfnet::BiasBaseline<float> bias;
///   bias.fit(split.train);
///   auto r = cfnet::evaluate_rating(split.test, [&](auto u, auto i) { return bias.predict(u, i); });
///   cfnet::MostPopular<float> pop;
///   pop.fit(split.train);
///   auto t = cfnet::evaluate_ranking(split.train, split.test, 10,
///                                    [&](auto u, float* s) { pop.score_items(u, s); },
///                                    cfnet::RankingOptions().threshold(4.0));
/// @endcode
/// Indices are those of the training matrix's index space; an index outside it throws.
/// BiasBaseline and MostPopular also implement the recommender interface (recommender.hpp):
/// predict/score_items/make_scorer/recommend/recommend_batch taking the interaction history
/// `input` (the training matrix; it names the seen items that recommend excludes), save/load, and
/// fold-in of a new user from (items, ratings).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/serialize.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

namespace detail {

/// Index-range checks shared by the baselines.
struct BaselineShape {
    const char* name = "";
    bool fitted = false;
    std::size_t n_users = 0;
    std::size_t n_items = 0;

    void check_fitted(const char* fn) const { check_arg(fitted, name, "::", fn, ": call fit() first"); }
    std::string qualified(const char* fn) const { return concat(name, "::", fn); }
    void check_user(const char* fn, index_type u) const {
        check_fitted(fn);
        check_arg(u < n_users, name, "::", fn, ": user index ", u, " out of range (", n_users, " users)");
    }
    void check_pair(const char* fn, index_type u, index_type i) const {
        check_user(fn, u);
        check_arg(i < n_items, name, "::", fn, ": item index ", i, " out of range (", n_items, " items)");
    }
    template <class T>
    void set(const char* fn, const RatingMatrix<T>& train) {
        check_arg(!train.empty(), name, "::", fn, ": the training matrix has no ratings");
        n_users = train.n_users();
        n_items = train.n_items();
        users = train.user_map();
        items = train.item_map();
        fitted = true;
    }

    std::shared_ptr<const IdMap> users = nullptr;  ///< the training matrix's id maps
    std::shared_ptr<const IdMap> items = nullptr;

    /// `input` is in the training matrix's index space (same user and item ids).
    template <class T>
    void check_input(const char* fn, const RatingMatrix<T>& input) const {
        check_fitted(fn);
        check_arg(input.n_users() == n_users && input.n_items() == n_items, name, "::", fn, ": the input has ",
                  input.n_users(), " users x ", input.n_items(), " items but the model was fitted on ", n_users,
                  " x ", n_items);
        check_arg((!users || input.users().ids() == users->ids()) && (!items || input.items().ids() == items->ids()),
                  name, "::", fn, ": the input's user or item ids differ from the model's (another index space)");
    }

    /// The metadata every baseline file holds: model name, sizes and ids.
    Metadata metadata() const {
        Metadata m;
        m["model"] = name;
        m["n_users"] = std::to_string(n_users);
        m["n_items"] = std::to_string(n_items);
        write_id_map(m, "user_ids", users ? *users : IdMap(), ' ');
        write_id_map(m, "item_ids", items ? *items : IdMap(), ' ');
        return m;
    }

    /// Restores what metadata() wrote. @throws IoError for a file of another model or bad metadata.
    void restore(const MetadataReader& meta, const std::string& path) {
        if (meta.text("model") != name)
            throw IoError(concat(name, "::load: '", path, "' holds a '", meta.text("model"), "' model, not ", name));
        n_users = meta.count<std::size_t>("n_users");
        n_items = meta.count<std::size_t>("n_items");
        users = std::make_shared<IdMap>(read_id_map(meta, "user_ids", ' ', "user"));
        items = std::make_shared<IdMap>(read_id_map(meta, "item_ids", ' ', "item"));
        if (users->size() != n_users || items->size() != n_items)
            throw IoError(concat(name, "::load: '", path, "': the id lists do not match n_users/n_items"));
        fitted = true;
    }
};

/// The recommender interface of a baseline M (recommender.hpp), from its predict(user, item),
/// score_items(user, out) and shape_: M derives from BaselineRecommender<M, T> and befriends it.
template <class M, class T>
class BaselineRecommender {
public:
    /// predict(user, item) for each pair; `input` must be the training matrix's index space.
    std::vector<T> predict(const RatingMatrix<T>& input, const std::vector<std::pair<index_type, index_type>>& pairs) const {
        self().shape_.check_input("predict", input);
        std::vector<T> out;
        out.reserve(pairs.size());
        for (const auto& p : pairs) out.push_back(self().predict(p.first, p.second));
        return out;
    }
    /// predict(user, item) for every pair stored in `pairs`, in its CSR order.
    std::vector<T> predict(const RatingMatrix<T>& input, const RatingMatrix<T>& pairs) const {
        self().shape_.check_input("predict", input);
        check_arg(input.same_space(pairs), self().shape_.name, "::predict: the pairs are in another index space than the input");
        std::vector<T> out;
        out.reserve(pairs.nnz());
        for (std::size_t u = 0; u < pairs.n_users(); ++u)
            for (const auto i : pairs.user_items(static_cast<index_type>(u)))
                out.push_back(self().predict(static_cast<index_type>(u), i));
        return out;
    }
    /// score_items(user, out); `input` must be the training matrix's index space.
    void score_items(const RatingMatrix<T>& input, index_type user, T* out) const {
        self().shape_.check_input("score_items", input);
        self().score_items(user, out);
    }
    /// scorer(u, out) = score_items(u, out); keeps the model by reference.
    auto make_scorer(const RatingMatrix<T>& input) const {
        self().shape_.check_input("make_scorer", input);
        const M* m = &self();
        return [m](index_type u, T* out) { m->score_items(u, out); };
    }
    /// The k best items for `user`, excluding the user's items in `input` unless !exclude_seen.
    /// @throws InvalidArgument as score_items; NumericalError for a NaN candidate score.
    std::vector<Recommendation<T>> recommend(const RatingMatrix<T>& input, index_type user, std::size_t k,
                                             bool exclude_seen = true) const {
        self().shape_.check_input("recommend", input);
        std::vector<T> scores(self().shape_.n_items);
        self().score_items(user, scores.data());
        const auto seen = input.user_items(user);
        return select_recommendations(self().shape_.qualified("recommend").c_str(), user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr);
    }
    /// recommend(input, u, k, exclude_seen) for each of `users`, streamed to sink(u, recs).
    /// @throws InvalidArgument before any sink call when a user is out of range.
    template <class Sink>
    void recommend_batch(const RatingMatrix<T>& input, const std::vector<index_type>& users, std::size_t k, Sink&& sink,
                         bool exclude_seen = true) const {
        self().shape_.check_input("recommend_batch", input);
        for (const auto u : users) self().shape_.check_user("recommend_batch", u);
        const std::string who = self().shape_.qualified("recommend_batch");
        std::vector<T> scores(self().shape_.n_items);
        std::vector<index_type> ranked;
        std::vector<Recommendation<T>> recs;
        for (const auto u : users) {
            self().score_items(u, scores.data());
            const auto seen = input.user_items(u);
            select_recommendations(who.c_str(), u, scores.data(), scores.size(), k,
                                   exclude_seen ? seen.begin() : nullptr, exclude_seen ? seen.end() : nullptr, ranked,
                                   recs);
            sink(u, static_cast<const std::vector<Recommendation<T>>&>(recs));
        }
    }
    /// Fold-in: the k best items for a user not in training, from their (item, rating) pairs
    /// (item indices of the training space, no repeats); rated items excluded unless !exclude_seen.
    /// @throws InvalidArgument before fit, for sizes that differ, or an item out of range or repeated.
    std::vector<Recommendation<T>> recommend(const std::vector<index_type>& items, const std::vector<T>& ratings,
                                             std::size_t k, bool exclude_seen = true) const {
        const auto& sh = self().shape_;
        sh.check_fitted("recommend");
        check_arg(items.size() == ratings.size(), sh.name, "::recommend: ", items.size(), " items but ",
                  ratings.size(), " ratings");
        std::vector<index_type> seen(items);
        std::sort(seen.begin(), seen.end());
        for (std::size_t j = 0; j < seen.size(); ++j) {
            check_arg(seen[j] < sh.n_items, sh.name, "::recommend: item index ", seen[j], " out of range (", sh.n_items,
                      " items)");
            check_arg(j == 0 || seen[j - 1] != seen[j], sh.name, "::recommend: item index ", seen[j], " is repeated");
        }
        const std::vector<T> scores = self().score_new_user(items, ratings);
        return select_recommendations(sh.qualified("recommend").c_str(), folded_in_user, scores.data(), scores.size(), k,
                                      exclude_seen ? seen.data() : nullptr, exclude_seen ? seen.data() + seen.size() : nullptr);
    }
    /// Fold-in needs no retraining for a baseline: always true.
    bool supports_fold_in() const noexcept { return true; }

private:
    const M& self() const noexcept { return static_cast<const M&>(*this); }
};

}  // namespace detail

/// Predicts the mean training rating for every pair; ranks all items equally (so top-N gives the
/// smallest item indices: a floor, not a recommender).
template <class T = float>
class GlobalMean {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @throws InvalidArgument if `train` has no ratings.
    GlobalMean& fit(const RatingMatrix<T>& train) {
        shape_.set("fit", train);
        mean_ = train.mean();
        return *this;
    }

    /// @throws InvalidArgument if not fitted or an index is out of range.
    T predict(index_type user, index_type item) const {
        shape_.check_pair("predict", user, item);
        return static_cast<T>(mean_);
    }

    /// Writes the mean into out[0..n_items).
    /// @throws InvalidArgument if not fitted or `user` is out of range.
    void score_items(index_type user, T* out) const {
        shape_.check_user("score_items", user);
        std::fill(out, out + shape_.n_items, static_cast<T>(mean_));
    }

    double mean() const { return mean_; }
    bool fitted() const noexcept { return shape_.fitted; }
    size_type n_users() const noexcept { return shape_.n_users; }
    size_type n_items() const noexcept { return shape_.n_items; }

private:
    detail::BaselineShape shape_{"GlobalMean"};
    double mean_ = 0.0;
};

/// Options of BiasBaseline. Defaults are Koren's baseline predictors ("Factor in the neighbors",
/// TKDD 2010: lambda 10 for users, 25 for items) with 10 sweeps; they reproduce the reference figure
/// of the notebook's MovieLens 100K split (RMSE 0.953). Surprise's ALS baseline uses lambda_user 15,
/// lambda_item 10 (0.945 on that split); lighter shrinkage such as 5/5 reaches 0.942. The RMSE has
/// converged to 3 decimals after 10 sweeps.
struct BiasBaselineOptions {
    double lambda_user = 10.0;    ///< shrinkage of user biases towards 0 (>= 0)
    double lambda_item = 25.0;    ///< shrinkage of item biases towards 0 (>= 0)
    std::size_t iterations = 10;  ///< alternating sweeps (>= 1)

    BiasBaselineOptions& user_regularization(double v) {
        lambda_user = v;
        return *this;
    }
    BiasBaselineOptions& item_regularization(double v) {
        lambda_item = v;
        return *this;
    }
    BiasBaselineOptions& sweeps(std::size_t v) {
        iterations = v;
        return *this;
    }
};

/// r_hat(u, i) = mu + b_u + b_i, the regularised least-squares user and item biases, fitted by
/// alternating exact minimisation (each sweep: all users, then all items):
///   b_u = sum_{i in R(u)} (r_ui - mu - b_i) / (lambda_user + |R(u)|)
///   b_i = sum_{u in R(i)} (r_ui - mu - b_u) / (lambda_item + |R(i)|)
/// starting from b = 0; mu is the training mean. A user or item with no training rating keeps
/// bias 0. Accumulates in double. score_items() ranks by b_i (b_u is a per-user constant).
template <class T = float>
class BiasBaseline : public detail::BaselineRecommender<BiasBaseline<T>, T> {
    using Interface = detail::BaselineRecommender<BiasBaseline<T>, T>;
    friend Interface;

public:
    using value_type = T;
    using size_type = std::size_t;
    using Interface::predict;
    using Interface::recommend;
    using Interface::score_items;

    /// @throws InvalidArgument if a lambda is negative or iterations == 0.
    explicit BiasBaseline(BiasBaselineOptions options = {}) : options_(options) {
        check_arg(options_.lambda_user >= 0 && options_.lambda_item >= 0 && std::isfinite(options_.lambda_user) &&
                      std::isfinite(options_.lambda_item),
                  "BiasBaseline: regularisation must be finite and >= 0 (", options_.lambda_user, ", ",
                  options_.lambda_item, ")");
        check_arg(options_.iterations > 0, "BiasBaseline: iterations must be positive");
    }

    /// @throws InvalidArgument if `train` has no ratings.
    BiasBaseline& fit(const RatingMatrix<T>& train) {
        shape_.set("fit", train);
        mu_ = train.mean();
        const size_type nu = train.n_users(), ni = train.n_items();
        user_bias_.assign(nu, 0.0);
        item_bias_.assign(ni, 0.0);
        const auto& rp = train.row_ptr();
        const auto& items = train.item_indices();
        const auto& vals = train.values();
        const auto& ip = train.item_ptr();
        for (size_type it = 0; it < options_.iterations; ++it) {
            for (size_type u = 0; u < nu; ++u) {
                double s = 0.0;
                for (size_type k = rp[u]; k < rp[u + 1]; ++k) s += static_cast<double>(vals[k]) - mu_ - item_bias_[items[k]];
                const double denom = options_.lambda_user + static_cast<double>(rp[u + 1] - rp[u]);
                user_bias_[u] = denom > 0 ? s / denom : 0.0;
            }
            for (size_type i = 0; i < ni; ++i) {
                const auto users = train.item_users(static_cast<index_type>(i));
                const auto ratings = train.item_ratings(static_cast<index_type>(i));
                double s = 0.0;
                for (size_type k = 0; k < users.size(); ++k) s += static_cast<double>(ratings[k]) - mu_ - user_bias_[users[k]];
                const double denom = options_.lambda_item + static_cast<double>(ip[i + 1] - ip[i]);
                item_bias_[i] = denom > 0 ? s / denom : 0.0;
            }
        }
        item_base_.resize(ni);
        for (size_type i = 0; i < ni; ++i) item_base_[i] = mu_ + item_bias_[i];
        return *this;
    }

    /// mu + b_u + b_i.
    /// @throws InvalidArgument if not fitted or an index is out of range.
    T predict(index_type user, index_type item) const {
        shape_.check_pair("predict", user, item);
        return static_cast<T>(item_base_[item] + user_bias_[user]);
    }

    /// out[i] = predict(user, i) for every item.
    /// @throws InvalidArgument if not fitted or `user` is out of range.
    void score_items(index_type user, T* out) const {
        shape_.check_user("score_items", user);
        const double bu = user_bias_[user];
        for (size_type i = 0; i < shape_.n_items; ++i) out[i] = static_cast<T>(item_base_[i] + bu);
    }

    /// Recommender interface: predict() gives ratings.
    bool predicts_ratings() const noexcept { return true; }

    /// Writes the options, sizes, ids, mu and the biases (as doubles: a loaded model predicts
    /// bit-identically) to `path`. @throws InvalidArgument before fit(); IoError when writing fails.
    void save(const std::string& path) const {
        shape_.check_fitted("save");
        Metadata m = shape_.metadata();
        m["lambda_user"] = metadata_number(options_.lambda_user);
        m["lambda_item"] = metadata_number(options_.lambda_item);
        m["iterations"] = std::to_string(options_.iterations);
        m["global_mean"] = metadata_number(mu_);
        Matrix<double> ub = Matrix<double>::from_shape({1, user_bias_.size()});
        Matrix<double> ib = Matrix<double>::from_shape({1, item_bias_.size()});
        std::copy(user_bias_.begin(), user_bias_.end(), ub.begin());
        std::copy(item_bias_.begin(), item_bias_.end(), ib.begin());
        save_tensors<double>(path, m, {{"user_bias", &ub}, {"item_bias", &ib}});
    }

    /// Reads a model written by save(). @throws IoError for an unreadable, corrupt or other model's
    /// file (naming the key); InvalidArgument for tensors that do not fit the sizes.
    static BiasBaseline load(const std::string& path) {
        const ModelFile<double> file = read_model_file<double>(path);
        const MetadataReader meta(file.metadata, "BiasBaseline::load", path);
        BiasBaselineOptions o;
        o.lambda_user = meta.number("lambda_user");
        o.lambda_item = meta.number("lambda_item");
        o.iterations = meta.count<std::size_t>("iterations");
        BiasBaseline b;
        try {
            b = BiasBaseline(o);
        } catch (const InvalidArgument& e) {
            throw IoError("BiasBaseline::load: '" + path + "': " + e.what());
        }
        b.shape_.restore(meta, path);
        b.mu_ = meta.number("global_mean");
        if (!std::isfinite(b.mu_)) meta.fail("global_mean", "is not a finite number");
        Matrix<double> ub = Matrix<double>::from_shape({1, b.shape_.n_users});
        Matrix<double> ib = Matrix<double>::from_shape({1, b.shape_.n_items});
        assign_tensors<double>(file, {{"user_bias", &ub}, {"item_bias", &ib}}, UnknownTensors::reject, path);
        b.user_bias_.assign(ub.begin(), ub.end());
        b.item_bias_.assign(ib.begin(), ib.end());
        b.item_base_.resize(b.item_bias_.size());
        for (size_type i = 0; i < b.item_base_.size(); ++i) b.item_base_[i] = b.mu_ + b.item_bias_[i];
        return b;
    }

    double global_mean() const noexcept { return mu_; }
    const std::vector<double>& user_biases() const noexcept { return user_bias_; }
    const std::vector<double>& item_biases() const noexcept { return item_bias_; }
    const BiasBaselineOptions& options() const noexcept { return options_; }
    bool fitted() const noexcept { return shape_.fitted; }
    size_type n_users() const noexcept { return shape_.n_users; }
    size_type n_items() const noexcept { return shape_.n_items; }

private:
    /// Fold-in scores: the new user's bias b_u = sum_j (r_j - mu - b_{i_j}) / (lambda_user + n),
    /// the exact minimiser given the item biases (one user step of fit's sweep), plus mu + b_i.
    std::vector<T> score_new_user(const std::vector<index_type>& items, const std::vector<T>& ratings) const {
        double s = 0.0;
        for (size_type j = 0; j < items.size(); ++j) s += static_cast<double>(ratings[j]) - mu_ - item_bias_[items[j]];
        const double denom = options_.lambda_user + static_cast<double>(items.size());
        const double bu = denom > 0 ? s / denom : 0.0;
        std::vector<T> out(shape_.n_items);
        for (size_type i = 0; i < shape_.n_items; ++i) out[i] = static_cast<T>(item_base_[i] + bu);
        return out;
    }

    BiasBaselineOptions options_;
    detail::BaselineShape shape_{"BiasBaseline"};
    double mu_ = 0.0;
    std::vector<double> user_bias_, item_bias_, item_base_;
};

/// Scores every item by its number of training ratings, the same list for every user (top-N then
/// excludes the user's own training items). predict() returns that count too: it is a ranking
/// score, not a rating, so evaluate_rating() on it is meaningless.
template <class T = float>
class MostPopular : public detail::BaselineRecommender<MostPopular<T>, T> {
    using Interface = detail::BaselineRecommender<MostPopular<T>, T>;
    friend Interface;

public:
    using value_type = T;
    using size_type = std::size_t;
    using Interface::predict;
    using Interface::recommend;
    using Interface::score_items;

    /// @throws InvalidArgument if `train` has no ratings.
    MostPopular& fit(const RatingMatrix<T>& train) {
        shape_.set("fit", train);
        const auto& ip = train.item_ptr();
        counts_.resize(train.n_items());
        for (size_type i = 0; i < counts_.size(); ++i) counts_[i] = static_cast<T>(ip[i + 1] - ip[i]);
        return *this;
    }

    /// The number of training ratings of `item`.
    /// @throws InvalidArgument if not fitted or an index is out of range.
    T predict(index_type user, index_type item) const {
        shape_.check_pair("predict", user, item);
        return counts_[item];
    }

    /// out[i] = number of training ratings of item i.
    /// @throws InvalidArgument if not fitted or `user` is out of range.
    void score_items(index_type user, T* out) const {
        shape_.check_user("score_items", user);
        std::copy(counts_.begin(), counts_.end(), out);
    }

    /// Recommender interface: predict() gives a popularity count, not a rating.
    bool predicts_ratings() const noexcept { return false; }

    /// Writes the sizes, ids and counts (an integer array) to `path`.
    /// @throws InvalidArgument before fit(); IoError when writing fails.
    void save(const std::string& path) const {
        shape_.check_fitted("save");
        IntegerArray c(counts_.size());
        for (size_type i = 0; i < c.size(); ++i) c[i] = static_cast<std::uint64_t>(counts_[i]);
        save_tensors<T>(path, shape_.metadata(), {}, {{"counts", &c}});
    }

    /// Reads a model written by save(). @throws IoError for an unreadable, corrupt or other model's
    /// file; InvalidArgument for another scalar type or a counts tensor that does not fit.
    static MostPopular load(const std::string& path) {
        const ModelFile<T> file = read_model_file<T>(path);
        const MetadataReader meta(file.metadata, "MostPopular::load", path);
        MostPopular p;
        p.shape_.restore(meta, path);
        if (file.find_integers("counts") == nullptr && file.find("counts") != nullptr) {  // format version 1
            Matrix<T> c = Matrix<T>::from_shape({1, p.shape_.n_items});
            assign_tensors<T>(file, {{"counts", &c}}, UnknownTensors::reject, path);
            p.counts_.assign(c.begin(), c.end());
        } else {  // every item is rated by at most every user
            if (!file.tensors.empty() || file.integers.size() > 1)
                throw IoError("MostPopular::load: '" + path + "': expected only the integer array 'counts'");
            const auto c = integer_array<std::uint64_t>(file, "counts", p.shape_.n_users, p.shape_.n_items, path,
                                                        "MostPopular::load");
            p.counts_.assign(c.begin(), c.end());
        }
        return p;
    }

    const std::vector<T>& counts() const noexcept { return counts_; }
    bool fitted() const noexcept { return shape_.fitted; }
    size_type n_users() const noexcept { return shape_.n_users; }
    size_type n_items() const noexcept { return shape_.n_items; }

private:
    /// Fold-in scores: the same counts for every user.
    std::vector<T> score_new_user(const std::vector<index_type>&, const std::vector<T>&) const { return counts_; }

    detail::BaselineShape shape_{"MostPopular"};
    std::vector<T> counts_;
};

static_assert(is_recommender_v<BiasBaseline<float>> && supports_fold_in_v<BiasBaseline<float>>,
              "BiasBaseline implements the recommender interface (recommender.hpp), with fold-in");
static_assert(is_recommender_v<MostPopular<float>> && supports_fold_in_v<MostPopular<float>>,
              "MostPopular implements the recommender interface (recommender.hpp), with fold-in");

}  // namespace cfnet
