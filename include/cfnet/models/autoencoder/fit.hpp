#pragma once
/// @file models/autoencoder/fit.hpp
/// AutoencoderCF's training: mini-batch Adam (input dropout, the network's fused step) and
/// full-batch L-BFGS on AutoRec's objective, both through the one fit loop (train.hpp: callbacks,
/// validation, early stopping with restore-best, NaN stop). Part of models/autoencoder/model.hpp.

#include <cfnet/models/autoencoder/model.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/optim/lbfgs.hpp>

#include <cfnet/data/split.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

namespace cfnet {

template <class T>
History AutoencoderCF<T>::fit_impl(const RatingMatrix<T>& train, const RatingMatrix<T>* validation,
                                   const std::vector<Callback*>& callbacks) {
    if (validation)
        check_arg(train.same_space(*validation), "AutoencoderCF::fit: validation (", validation->n_users(),
                  " users x ", validation->n_items(), " items) is not in the training matrix's index space (",
                  train.n_users(), " x ", train.n_items(), ")");
    check_arg(!opt_.early_stopping || validation != nullptr,
              "AutoencoderCF::fit: early stopping needs validation data");
    if (requested_.selection) {  // choose from the options as given, not from a previous fit's choice
        opt_ = requested_;
        select(train);
    }
    initialize(train);
    const Oriented in = orient(train, "fit");
    const RatingMatrix<T>& data = in.matrix();

    // Validation: "val_rmse" and "val_mae" of predict(train, validation) after every epoch. Its
    // per-fit invariants (the input as the network sees it -- `in` --, the fallback baseline
    // fitted on train, the pairs) are made once here, not per epoch.
    std::optional<Validation> val;
    if (validation && !validation->empty()) val.emplace(*this, train, *validation);
    std::vector<Matrix<T>> best;
    FitHooks hooks;
    if (val)
        hooks.validate = [&](EpochRecord& rec) {
            const auto pred = predict_oriented(in, val->fallback ? &*val->fallback : nullptr, val->rows,
                                               val->cols, val->pairs);
            const auto rep = evaluate_rating(*validation, PredictionsAt{validation, &pred});
            rec.metrics["val_rmse"] = rep.rmse;
            rec.metrics["val_mae"] = rep.mae;
        };
    hooks.snapshot = [&] { nn::save_values(net_.parameters(), best); };
    hooks.restore = [&] { nn::load_values(best, net_.parameters()); };
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
    nn::SparseDropout<T> input_dropout(opt_.input_dropout);

    return loop.run(opt_.epochs, steps, [&](int /*epoch*/) {
        const auto order = shuffle_rng.permutation<index_type>(n_rows);
        for (size_type s = 0; s < steps; ++s) {
            const size_type b0 = s * bs, b1 = std::min(n_rows, b0 + bs);
            target.clear();
            if (in_drop) input.clear();
            for (size_type r = b0; r < b1; ++r) {
                detail::add_matrix_row(target, data, order[r]);
                if (in_drop)
                    input_dropout.add_row(input, data.user_items(order[r]), data.user_ratings(order[r]), drop_rng);
            }
            const double l = net_.step(in_drop ? input : target, target, loss, &*adam_, opt_.lazy_adam,
                                       opt_.hidden_dropout, hid_drop ? &drop_rng : nullptr);
            loop.batch_end(s + 1, l, static_cast<double>(b1 - b0));
        }
    });
}

template <class T>
void AutoencoderCF<T>::select(const RatingMatrix<T>& train) {
    const AutoencoderSelection sel = *opt_.selection;
    const bool lbfgs = opt_.solver == Solver::lbfgs;
    std::vector<double> lambdas = sel.lambdas;
    if (lambdas.empty()) lambdas.push_back(lbfgs ? opt_.l2_lambda : opt_.weight_decay);
    std::vector<bool> modes{opt_.residual};
    if (sel.try_residual) modes = {false, true};
    const Split<T> val = stratified_split(train, sel.validation_fraction, opt_.seed, By::user);
    check_arg(!val.train.empty() && !val.test.empty(), "AutoencoderCF::fit: selection needs ratings to train and to "
              "validate on; holding out ", sel.validation_fraction, " of each user's ratings left ", val.train.nnz(),
              " and ", val.test.nnz());
    selection_.clear();
    for (const bool residual : modes) {
        for (const double lambda : lambdas) {
            AutoencoderOptions o = opt_;
            o.selection.reset();
            o.early_stopping.reset();
            if (sel.patience > 0 && sel.choose_epochs) {
                EarlyStopping stop;
                stop.monitor = "val_rmse";
                stop.patience = sel.patience;
                stop.restore_best = false;
                o.early_stopping = stop;
            }
            o.residual = residual;
            (lbfgs ? o.l2_lambda : o.weight_decay) = lambda;
            AutoencoderCF candidate(o);
            const History h = candidate.fit(val.train, val.test);
            AutoencoderCandidate c{lambda, residual, 0, std::numeric_limits<double>::infinity()};
            for (std::size_t e = sel.choose_epochs ? 0 : h.size() - 1; e < h.size(); ++e) {
                const double v = *h[e].metric("val_rmse");
                if (v < c.val_rmse) {
                    c.val_rmse = v;
                    c.best_epoch = static_cast<int>(e) + 1;
                }
            }
            selection_.push_back(c);
        }
    }
    const auto best = std::min_element(selection_.begin(), selection_.end(),
                                       [](const auto& a, const auto& b) { return a.val_rmse < b.val_rmse; });
    if (best->best_epoch == 0)
        throw NumericalError("AutoencoderCF::fit: selection: no candidate reached a finite validation RMSE");
    opt_.residual = best->residual;
    (lbfgs ? opt_.l2_lambda : opt_.weight_decay) = best->lambda;
    opt_.epochs = best->best_epoch;
}

namespace detail {

/// AutoRec's full-batch objective (Solver::lbfgs): F = the sum of squared errors over the observed
/// entries of `data` + lambda / 2 * the sum of the weights' squares (even slots; not the biases),
/// and its gradient into g, computed on chunks of rows: each chunk's gradient of the (global)
/// masked MSE times its rating count is its gradient of the sum of squares.
template <class T>
class AutorecObjective {
public:
    AutorecObjective(AutoencoderNet<T>& net, const RatingMatrix<T>& data, double lambda, std::size_t widest)
        : net_(net), data_(data), lambda_(lambda), ps_(net.parameters()),
          chunk_(std::max<std::size_t>(1, (std::size_t(1) << 22) / widest)),  // <= 4M workspace floats
          batch_(data.n_items()) {}

    double operator()(const T* x, T* g) {
        nn::copy_values_from(x, ps_);
        const std::size_t n_rows = data_.n_users();
        double sse = 0;
        bool first = true;
        for (std::size_t b0 = 0; b0 < n_rows; b0 += chunk_) {
            const std::size_t b1 = std::min(n_rows, b0 + chunk_);
            batch_.clear();
            for (std::size_t r = b0; r < b1; ++r) add_matrix_row(batch_, data_, static_cast<index_type>(r));
            const std::size_t nnz = batch_.nnz();
            if (nnz == 0) continue;
            for (auto* p : ps_) p->zero_grad();
            sse += static_cast<double>(nnz) * net_.step(batch_, batch_, loss_, nullptr, false, 0.0, nullptr);
            nn::add_scaled_grads(ps_, static_cast<T>(nnz), g, first);
            first = false;
        }
        if (first) std::fill(g, g + nn::parameter_count(ps_), T(0));
        return sse + 0.5 * lambda_ * add_weight_penalty(g);
    }

private:
    // g += lambda * w for the weights; returns the sum of their squares.
    double add_weight_penalty(T* g) const {
        double penalty = 0;
        const T lam = static_cast<T>(lambda_);
        for (std::size_t k = 0; k < ps_.size(); ++k) {
            const T* w = ps_[k]->value.data();
            const std::size_t sz = ps_[k]->size();
            if (k % 2 == 0 && lambda_ > 0) {  // weights (even slots), not biases
                double s = 0;
                for (std::size_t q = 0; q < sz; ++q) {
                    s += static_cast<double>(w[q]) * static_cast<double>(w[q]);
                    g[q] += lam * w[q];
                }
                penalty += s;
            }
            g += sz;
        }
        return penalty;
    }

    AutoencoderNet<T>& net_;
    const RatingMatrix<T>& data_;
    double lambda_;
    nn::ParameterList<T> ps_;
    std::size_t chunk_;
    nn::SparseBatch<T> batch_;
    const nn::MaskedMSE<T> loss_{nn::MaskNormalization::global};
};

}  // namespace detail

template <class T>
History AutoencoderCF<T>::fit_lbfgs(const RatingMatrix<T>& data, FitLoop& loop) {
    const auto ps = net_.parameters();
    const size_type n_params = nn::parameter_count(ps);
    std::vector<T> x(n_params);
    nn::copy_values_to(ps, x.data());
    detail::AutorecObjective<T> objective(net_, data, opt_.l2_lambda,
                                          *std::max_element(opt_.hidden.begin(), opt_.hidden.end()));
    const double n_ratings = static_cast<double>(data.nnz());
    loop.begin(opt_.epochs, 1);
    loop.begin_epoch();
    auto on_iteration = [&](int it, double f, const T* xv) {
        nn::copy_values_from(xv, ps);
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
    nn::copy_values_from(x.data(), ps);
    return loop.finish();
}

}  // namespace cfnet
