#pragma once
/// @file models/mult_vae/network.hpp
/// MultVAENet<T>: MultVAE's network as a composition of toolkit layers, its training step (the
/// layers' fused Adam path, nn/update.hpp) and its inference pass:
///
///   nn::SparseInputDense (I -> hidden[0], tanh; the input is the sparse, normalised, dropped row)
///   nn::Dense ... (tanh)                       the rest of the encoder; its last layer outputs
///                                              [mu | logvar] (VAE, no activation) or the code (DAE, tanh)
///   nn::GaussianLatent (VAE only)              z = mu + eps * sd, the KL term with beta
///   nn::Dense ... (tanh), nn::Dense (-> I)     the decoder; the last layer computes every item's logit
///   nn::MultinomialLogLikelihood               the loss, its targets the sparse 0/1 rows
///
/// Parameters (slots 2l, 2l+1 in this order): "encoder.<l>.weight", "encoder.<l>.bias", then
/// "decoder.<l>.weight", "decoder.<l>.bias"; every weight in x out.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/models/mult_vae/options.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/gaussian_latent.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cfnet {

namespace detail {

/// Independent seeds for MultVAE's random streams (cfnet::derive_seed).
inline std::uint64_t vae_seed(std::uint64_t seed, std::uint64_t stream) { return derive_seed(seed, stream); }
/// Stream numbers of vae_seed: weights, shuffling, input dropout, latent noise, validation split.
inline constexpr std::uint64_t vae_stream_init = 0, vae_stream_shuffle = 1, vae_stream_dropout = 2,
                               vae_stream_noise = 3, vae_stream_validation = 4;

template <class T>
class MultVAENet {
public:
    using size_type = std::size_t;

    /// The loss parts of one step: the multinomial negative log-likelihood, the KL (0 for a DAE) and
    /// the weight penalty weight_decay * sum ||W||^2; total = nll + beta * kl + penalty.
    struct StepLoss {
        double nll = 0, kl = 0, penalty = 0, total = 0;
    };

    /// Inference buffers (reused across calls by a scorer).
    struct Workspace {
        typename nn::SparseInputDense<T>::Columns cols;
        std::vector<Matrix<T>> y;
    };

    MultVAENet() = default;

    /// Draws every weight Glorot-uniform (in x out order, layer by layer) and every bias from
    /// N(0, 0.001^2) truncated at two standard deviations (the paper's code), from `rng`.
    MultVAENet(size_type n_items, const MultVAEOptions& o, Rng& rng) : layers_(std::make_unique<Layers>()) {
        check_arg(n_items > 0, "MultVAE: the item space is empty");
        variational_ = o.variational;
        latent_ = o.latent;
        std::vector<size_type> enc{n_items};
        enc.insert(enc.end(), o.hidden.begin(), o.hidden.end());
        enc.push_back(o.variational ? 2 * o.latent : o.latent);
        std::vector<size_type> dec{o.latent};
        dec.insert(dec.end(), o.hidden.rbegin(), o.hidden.rend());
        dec.push_back(n_items);
        const auto init = nn::init::glorot_uniform();
        const auto tanh = nn::ActivationKind::tanh, id = nn::ActivationKind::identity;
        const size_type ne = enc.size() - 1, nd = dec.size() - 1;
        const auto enc_act = [&](size_type l) { return l + 1 < ne || !o.variational ? tanh : id; };
        layers_->in = nn::SparseInputDense<T>(enc[0], enc[1], rng, init, enc_act(0));
        for (size_type l = 1; l < ne; ++l)
            layers_->enc.emplace_back(enc[l], enc[l + 1], rng, init, true, nn::WeightLayout::in_out, enc_act(l));
        for (size_type l = 0; l < nd; ++l)
            layers_->dec.emplace_back(dec[l], dec[l + 1], rng, init, true, nn::WeightLayout::in_out,
                                      l + 1 < nd ? tanh : id);
        layers_->latent = nn::GaussianLatent<T>(o.latent);
        const auto ps = parameters();
        for (size_type s = 0; s < ps.size(); ++s) {
            const size_type l = s / 2;
            ps[s]->name = (l < ne ? "encoder." + std::to_string(l) : "decoder." + std::to_string(l - ne)) +
                          (s % 2 ? ".bias" : ".weight");
            if (s % 2)
                for (auto& b : ps[s]->value) {
                    double v;
                    do v = rng.normal(); while (std::abs(v) > 2.0);
                    b = static_cast<T>(0.001 * v);
                }
        }
    }

    MultVAENet(const MultVAENet& o)
        : variational_(o.variational_), latent_(o.latent_),
          layers_(o.layers_ ? std::make_unique<Layers>(*o.layers_) : nullptr) {}
    MultVAENet& operator=(const MultVAENet& o) {
        if (this != &o) *this = MultVAENet(o);
        return *this;
    }
    MultVAENet(MultVAENet&&) noexcept = default;
    MultVAENet& operator=(MultVAENet&&) noexcept = default;

    bool empty() const noexcept { return !layers_; }
    size_type n_items() const noexcept { return layers_ ? layers_->in.in_features() : 0; }

    /// Every parameter, slot by slot (see the file comment).
    nn::ParameterList<T> parameters() {
        nn::ParameterList<T> ps = layers_->in.parameters();
        for (auto& d : layers_->enc) append(ps, d.parameters());
        for (auto& d : layers_->dec) append(ps, d.parameters());
        return ps;
    }

    /// One training step on `input` (the normalised, dropped rows) with targets `target` (the
    /// original rows): forward, loss, backward. With `adam` the parameters are updated through the
    /// fused path (weights with coupled L2 2 * weight_decay, i.e. the gradient of weight_decay *
    /// ||W||^2; biases without); without, the gradients (penalty included) are ADDED into the
    /// parameters' grads. `noise` draws the VAE's eps (null: eval mode, z = mu).
    StepLoss step(const nn::SparseBatch<T>& input, const nn::SparseBatch<T>& target, double beta, Rng* noise,
                  optim::Adam<T>* adam, double weight_decay) {
        nn::GaussianLatent<T>& latent = layers_->latent;
        auto forward = [&](const Matrix<T>& h) -> const Matrix<T>& {
            return noise ? latent.forward(h, *noise) : latent.forward(h);
        };
        return step_impl(input, target, beta, noise != nullptr, adam, weight_decay, forward);
    }

    /// step with the VAE's noise given: row r of `eps` (input.rows() x latent) is row r's eps (null:
    /// eval mode, z = mu; ignored for a DAE). With eps holding the draws step() would make, the
    /// same result; with eps drawn per row from the row's own seed, a row's noise does not depend on
    /// its batch (the data-parallel fit, distributed/mult_vae.hpp).
    /// @throws InvalidArgument when eps is not input.rows() x latent.
    StepLoss step_with_noise(const nn::SparseBatch<T>& input, const nn::SparseBatch<T>& target, double beta,
                             const Matrix<T>* eps, optim::Adam<T>* adam, double weight_decay) {
        nn::GaussianLatent<T>& latent = layers_->latent;
        auto forward = [&](const Matrix<T>& h) -> const Matrix<T>& {
            return eps ? latent.forward(h, *eps) : latent.forward(h);
        };
        return step_impl(input, target, beta, eps != nullptr, adam, weight_decay, forward);
    }

    /// Adam's update of parameter slot `slot` as the paper trains: the coupled L2 of the model's
    /// Adam (2 weight_decay) on the weights (even slots), none on the biases (odd slots).
    static nn::RowUpdate<T> adam_update(optim::Adam<T>& adam, size_type slot) {
        nn::RowUpdate<T> u = adam.row_update(slot);
        if (slot % 2) {  // the paper's penalty is on the weights only
            u.step.wd = T(0);
            u.step.coupled = false;
        }
        return u;
    }

    /// The latent dimension; whether the network is Mult-VAE's (true) or Mult-DAE's.
    size_type latent() const noexcept { return latent_; }
    bool variational() const noexcept { return variational_; }

    /// The logits (eval mode: z = mu, no dropout) of the rows of `input` into out (rows x n_items).
    /// Const: concurrent calls with separate workspaces are safe.
    void logits(const nn::SparseBatch<T>& input, Workspace& ws, T* out) const {
        const Layers& L = *layers_;
        const size_type n = input.rows(), ne = L.enc.size(), nd = L.dec.size();
        ws.y.resize(ne + nd + 2);
        L.in.infer(input, ws.cols, ws.y[0]);
        for (size_type l = 0; l < ne; ++l) L.enc[l].infer(ws.y[l], ws.y[l + 1]);
        const Matrix<T>* z = &ws.y[ne];
        if (variational_) {  // z = mu, the first half of [mu | logvar]
            Matrix<T>& mu = ws.y[ne + nd + 1];
            ensure_shape(mu, n, latent_);
            for (size_type r = 0; r < n; ++r)
                std::copy(z->data() + r * 2 * latent_, z->data() + r * 2 * latent_ + latent_, mu.data() + r * latent_);
            z = &mu;
        }
        for (size_type l = 0; l + 1 < nd; ++l) {
            L.dec[l].infer(*z, ws.y[ne + 1 + l]);
            z = &ws.y[ne + 1 + l];
        }
        Matrix<T>& y = ws.y[ne + nd];
        L.dec[nd - 1].infer(*z, y);
        std::copy(y.data(), y.data() + n * n_items(), out);
    }

    /// sum ||W||^2 over the weight matrices (not the biases).
    double weight_squares() const {
        double s = 0;
        auto add = [&](const nn::Parameter<T>& p) {
            for (const T v : p.value) s += static_cast<double>(v) * static_cast<double>(v);
        };
        add(layers_->in.weight());
        for (const auto& d : layers_->enc) add(d.weight());
        for (const auto& d : layers_->dec) add(d.weight());
        return s;
    }

private:
    struct Layers {
        nn::SparseInputDense<T> in;
        std::vector<nn::Dense<T>> enc, dec;
        nn::GaussianLatent<T> latent;
    };
    static void append(nn::ParameterList<T>& a, const nn::ParameterList<T>& b) { a.insert(a.end(), b.begin(), b.end()); }

    /// step / step_with_noise: `train` selects the latent layer's mode, latent_forward(h) runs it.
    template <class LatentForward>
    StepLoss step_impl(const nn::SparseBatch<T>& input, const nn::SparseBatch<T>& target, double beta, bool train,
                       optim::Adam<T>* adam, double weight_decay, LatentForward&& latent_forward) {
        Layers& L = *layers_;
        const Matrix<T>* h = &L.in.forward(input);
        for (auto& d : L.enc) h = &d.forward(*h);
        StepLoss out;
        if (variational_) {
            L.latent.set_mode(train ? nn::Mode::train : nn::Mode::eval);
            L.latent.set_beta(beta);
            h = &latent_forward(*h);
            out.kl = L.latent.kl();
        }
        for (auto& d : L.dec) h = &d.forward(*h);
        out.nll = loss_.value_and_gradient(*h, target, dlogits_);
        out.penalty = weight_decay > 0 ? weight_decay * weight_squares() : 0.0;
        out.total = out.nll + (variational_ ? beta * out.kl : 0.0) + out.penalty;

        const size_type ne = 1 + L.enc.size();
        const Matrix<T>* g = &dlogits_;
        if (adam) {
            adam->begin_step();
            auto upd = [&](size_type layer, nn::RowUpdate<T>& uw, nn::RowUpdate<T>& ub) {
                uw = adam_update(*adam, 2 * layer);
                ub = adam_update(*adam, 2 * layer + 1);
            };
            nn::RowUpdate<T> uw, ub;
            for (size_type l = L.dec.size(); l-- > 0;) {
                upd(ne + l, uw, ub);
                g = &L.dec[l].backward(*g, &uw, &ub);
            }
            if (variational_) g = &L.latent.backward(*g);
            for (size_type l = L.enc.size(); l-- > 0;) {
                upd(1 + l, uw, ub);
                g = &L.enc[l].backward(*g, &uw, &ub);
            }
            upd(0, uw, ub);
            L.in.backward(*g, &uw, &ub);
        } else {
            for (size_type l = L.dec.size(); l-- > 0;) g = &L.dec[l].backward(*g);
            if (variational_) g = &L.latent.backward(*g);
            for (size_type l = L.enc.size(); l-- > 0;) g = &L.enc[l].backward(*g);
            L.in.backward(*g);
            if (weight_decay > 0) {
                const auto ps = parameters();
                const T f = static_cast<T>(2 * weight_decay);
                for (size_type s = 0; s < ps.size(); s += 2)
                    for (size_type k = 0; k < ps[s]->size(); ++k) ps[s]->grad.data()[k] += f * ps[s]->value.data()[k];
            }
        }
        return out;
    }

    bool variational_ = true;
    size_type latent_ = 0;
    std::unique_ptr<Layers> layers_;
    nn::MultinomialLogLikelihood<T> loss_;
    Matrix<T> dlogits_;
};

}  // namespace detail

}  // namespace cfnet
