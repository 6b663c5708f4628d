#pragma once
/// @file models/autoencoder/residual.hpp
/// The bias baseline a residual autoencoder (AutoencoderOptions::residual) learns on top of:
/// the network sees and reconstructs r - (mu + b_row + b_unit) instead of r, and a prediction is
/// the network's output plus that offset. A unit that the network knows little about (an item
/// with one or two ratings, for an item-based model a user) thus falls back smoothly to the bias
/// baseline instead of to whatever the network's output bias learned.
///
/// mu and the unit biases (items for a user-based model, users for an item-based one) come from a
/// user+item BiasBaseline fitted on the training data. A row's bias is computed from the row's own
/// ratings, given the unit biases (the exact minimiser, one step of BiasBaseline's sweep), so
/// every input -- the training matrix, another matrix over the same units, a folded-in user -- is
/// treated alike.

#include <cfnet/baselines.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>

#include <cstddef>
#include <vector>

namespace cfnet::detail {

template <class T>
struct ResidualBaseline {
    double mu = 0;                  ///< the training mean
    std::vector<T> unit_bias;       ///< one per output unit (in T: as stored in model files); empty: none
    double row_lambda = 0;          ///< the shrinkage of a row's bias

    bool active() const noexcept { return !unit_bias.empty(); }

    /// Fitted on `train` (users x items, the data's own orientation) for a model whose units are
    /// items (user_based) or users.
    static ResidualBaseline fit(const RatingMatrix<T>& train, bool user_based) {
        const BiasBaselineOptions bo;
        BiasBaseline<T> b(bo);
        b.fit(train);
        ResidualBaseline r;
        r.mu = b.global_mean();
        const auto& ub = user_based ? b.item_biases() : b.user_biases();
        r.unit_bias.assign(ub.begin(), ub.end());
        r.row_lambda = user_based ? bo.lambda_user : bo.lambda_item;
        return r;
    }

    /// The bias of a row with these ratings (unit indices and values, n of them).
    double row_bias(const index_type* units, const T* values, std::size_t n) const {
        double s = 0;
        for (std::size_t k = 0; k < n; ++k) s += static_cast<double>(values[k]) - mu - static_cast<double>(unit_bias[units[k]]);
        return n > 0 ? s / (row_lambda + static_cast<double>(n)) : 0.0;
    }

    /// row_bias of every row of `d` (in the model's orientation: rows x units).
    std::vector<double> row_biases(const RatingMatrix<T>& d) const {
        std::vector<double> out(d.n_users());
        for (std::size_t r = 0; r < out.size(); ++r) {
            const auto units = d.user_items(static_cast<index_type>(r));
            const auto values = d.user_ratings(static_cast<index_type>(r));
            out[r] = row_bias(units.data(), values.data(), units.size());
        }
        return out;
    }

    /// The offset of (row, unit) given the row's bias.
    T offset(double row_b, index_type unit) const { return static_cast<T>(mu + row_b + static_cast<double>(unit_bias[unit])); }

    /// `d` with every value minus its offset (same index space and pattern).
    RatingMatrix<T> residuals(const RatingMatrix<T>& d, const std::vector<double>& row_b) const {
        std::vector<T> values(d.values());
        const auto& rp = d.row_ptr();
        const auto& units = d.item_indices();
        for (std::size_t r = 0; r < d.n_users(); ++r)
            for (std::size_t k = rp[r]; k < rp[r + 1]; ++k) values[k] -= offset(row_b[r], units[k]);
        return RatingMatrix<T>(d.user_map(), d.item_map(), rp, units, std::move(values));
    }
};

}  // namespace cfnet::detail
