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

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>

#include <algorithm>
#include <cstddef>
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
        fitted = true;
    }
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
class BiasBaseline {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @throws InvalidArgument if a lambda is negative or iterations == 0.
    explicit BiasBaseline(BiasBaselineOptions options = {}) : options_(options) {
        check_arg(options_.lambda_user >= 0 && options_.lambda_item >= 0, "BiasBaseline: regularisation must be >= 0 (",
                  options_.lambda_user, ", ", options_.lambda_item, ")");
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

    double global_mean() const noexcept { return mu_; }
    const std::vector<double>& user_biases() const noexcept { return user_bias_; }
    const std::vector<double>& item_biases() const noexcept { return item_bias_; }
    const BiasBaselineOptions& options() const noexcept { return options_; }
    bool fitted() const noexcept { return shape_.fitted; }
    size_type n_users() const noexcept { return shape_.n_users; }
    size_type n_items() const noexcept { return shape_.n_items; }

private:
    BiasBaselineOptions options_;
    detail::BaselineShape shape_{"BiasBaseline"};
    double mu_ = 0.0;
    std::vector<double> user_bias_, item_bias_, item_base_;
};

/// Scores every item by its number of training ratings, the same list for every user (top-N then
/// excludes the user's own training items). predict() returns that count too: it is a ranking
/// score, not a rating, so evaluate_rating() on it is meaningless.
template <class T = float>
class MostPopular {
public:
    using value_type = T;
    using size_type = std::size_t;

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

    const std::vector<T>& counts() const noexcept { return counts_; }
    bool fitted() const noexcept { return shape_.fitted; }
    size_type n_users() const noexcept { return shape_.n_users; }
    size_type n_items() const noexcept { return shape_.n_items; }

private:
    detail::BaselineShape shape_{"MostPopular"};
    std::vector<T> counts_;
};

}  // namespace cfnet
