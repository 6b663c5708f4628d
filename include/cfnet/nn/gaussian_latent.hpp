#pragma once
/// @file nn/gaussian_latent.hpp
/// GaussianLatent<T>: the latent layer of a variational autoencoder with a diagonal Gaussian
/// posterior q(z | x) = N(mu, diag(exp(logvar))) and the standard normal prior (Kingma & Welling's
/// reparameterisation, as Mult-VAE uses it). Its input is the encoder's output [mu | logvar]
/// (batch x 2d: the first d columns are mu, the last d logvar); its output is z (batch x d):
///
///   train mode:  z = mu + eps * exp(logvar / 2),  eps ~ N(0, 1) from a seeded stream
///   eval mode:   z = mu
///
/// The layer also computes the KL divergence of q from the prior, mean over the batch's B rows:
///
///   KL = (1/B) sum_rows 0.5 * sum_j (-logvar_j + exp(logvar_j) + mu_j^2 - 1)
///
/// and backward adds beta * dKL/d[mu | logvar] to the input gradient (beta: set_beta, 1 by
/// default; Mult-VAE anneals it). So with L = f(z) + beta * KL, backward(df/dz) returns dL/d[mu |
/// logvar]. The KL term is computed and differentiated in both modes; in eval mode z does not
/// depend on logvar.
///
/// A layer in the sense of nn/layer.hpp (no parameters). It keeps its own copies of mu, the standard
/// deviations and the noise of the last forward (the input may be overwritten afterwards).
/// freeze_noise(true) reuses the last noise (gradient checks); forward(h, eps) takes the noise given.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace cfnet::nn {

template <class T = float>
class GaussianLatent {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// @param dim   d, the latent dimension (the input has 2d columns), > 0
    /// @param seed  seed of the layer's own noise stream
    /// @throws InvalidArgument if dim is 0.
    explicit GaussianLatent(size_type dim = 1, std::uint64_t seed = 42) : d_(dim), rng_(seed) {
        check_arg(dim > 0, "GaussianLatent: the latent dimension must be > 0");
    }

    /// z from h = [mu | logvar] with the noise from the layer's own stream.
    /// @throws InvalidArgument unless h has 2 * dim() columns.
    const Matrix<T>& forward(const Matrix<T>& h) { return forward(h, rng_); }

    /// forward with the noise drawn from `rng` (row by row, d draws per row) instead of the layer's
    /// own stream.
    const Matrix<T>& forward(const Matrix<T>& h, Rng& rng) {
        check_input(h);
        const size_type n = h.shape(0);
        const bool reuse = mode_ == Mode::train && frozen_ && eps_.shape(0) == n && eps_.shape(1) == d_;
        if (mode_ == Mode::train && !reuse) {
            ensure_shape(eps_, n, d_);
            for (auto& e : eps_) e = static_cast<T>(rng.normal());
        }
        return compute(h);
    }

    /// forward with the given noise: row r of `eps` (batch x dim) is row r's eps (in train mode; in
    /// eval mode eps is not used, z = mu). The same z as forward(h, rng) when eps holds that rng's
    /// draws (row by row), whatever the noise's source: e.g. one seeded stream per row, so that a
    /// row's noise does not depend on the batch it is in (distributed/mult_vae.hpp).
    /// @throws InvalidArgument unless h has 2 * dim() columns and eps is h.shape(0) x dim().
    const Matrix<T>& forward(const Matrix<T>& h, const Matrix<T>& eps) {
        check_input(h);
        check_arg(eps.shape(0) == h.shape(0) && eps.shape(1) == d_, "GaussianLatent::forward: eps is ", eps.shape(0),
                  " x ", eps.shape(1), ", expected ", h.shape(0), " x ", d_);
        if (mode_ == Mode::train) {
            ensure_shape(eps_, h.shape(0), d_);
            std::copy(eps.data(), eps.data() + eps.size(), eps_.data());
        }
        return compute(h);
    }

    /// dL/d[mu | logvar] for L = f(z) + beta * KL, given dz = df/dz (batch x d).
    /// @pre follows forward; dz is batch x dim(). @throws InvalidArgument otherwise.
    const Matrix<T>& backward(const Matrix<T>& dz) {
        check_arg(has_forward_, "GaussianLatent::backward: must follow forward");
        check_arg(dz.shape(0) == rows_ && dz.shape(1) == d_, "GaussianLatent::backward: dz is ", dz.shape(0), " x ",
                  dz.shape(1), ", expected ", rows_, " x ", d_);
        ensure_shape(dx_, rows_, 2 * d_);
        const T kb = rows_ ? static_cast<T>(beta_ / static_cast<double>(rows_)) : T(0);
        const bool train = last_mode_ == Mode::train;
        for (size_type r = 0; r < rows_; ++r) {
            const T* g = dz.data() + r * d_;
            const T* m = mu_.data() + r * d_;
            const T* sd = sd_.data() + r * d_;
            const T* e = train ? eps_.data() + r * d_ : nullptr;
            T* dmu = dx_.data() + r * 2 * d_;
            T* dlv = dmu + d_;
            for (size_type j = 0; j < d_; ++j) {
                dmu[j] = g[j] + kb * m[j];
                const T kl_lv = kb * T(0.5) * (sd[j] * sd[j] - T(1));
                dlv[j] = (e ? g[j] * e[j] * sd[j] * T(0.5) : T(0)) + kl_lv;
            }
        }
        return dx_;
    }

    ParameterList<T> parameters() { return {}; }
    void set_mode(Mode m) noexcept { mode_ = m; }
    Mode mode() const noexcept { return mode_; }

    /// The KL divergence of the last forward, mean over its rows (0 before the first forward).
    double kl() const noexcept { return kl_; }
    /// The weight of the KL term in backward (>= 0). @throws InvalidArgument for a negative or
    /// non-finite beta.
    void set_beta(double beta) {
        check_arg(std::isfinite(beta) && beta >= 0, "GaussianLatent::set_beta: beta must be >= 0, got ", beta);
        beta_ = beta;
    }
    double beta() const noexcept { return beta_; }
    /// When frozen, train-mode forward reuses the last noise (if its shape fits) instead of drawing.
    void freeze_noise(bool frozen) noexcept { frozen_ = frozen; }
    /// The noise of the last train-mode forward (batch x dim()).
    const Matrix<T>& noise() const noexcept { return eps_; }
    size_type dim() const noexcept { return d_; }

private:
    void check_input(const Matrix<T>& h) const {
        check_arg(h.shape(1) == 2 * d_, "GaussianLatent::forward: input has ", h.shape(1), " columns, expected 2 x ",
                  d_, " = ", 2 * d_, " ([mu | logvar])");
    }
    /// z, the KL and the cached mu / sd from h and (train mode) eps_.
    const Matrix<T>& compute(const Matrix<T>& h) {
        const size_type n = h.shape(0);
        ensure_shape(z_, n, d_);
        ensure_shape(mu_, n, d_);
        ensure_shape(sd_, n, d_);
        double kl = 0;
        for (size_type r = 0; r < n; ++r) {
            const T* mu = h.data() + r * 2 * d_;
            const T* lv = mu + d_;
            T* z = z_.data() + r * d_;
            T* m = mu_.data() + r * d_;
            T* sd = sd_.data() + r * d_;
            const T* e = mode_ == Mode::train ? eps_.data() + r * d_ : nullptr;
            for (size_type j = 0; j < d_; ++j) {
                m[j] = mu[j];
                sd[j] = std::exp(lv[j] * T(0.5));
                z[j] = e ? mu[j] + e[j] * sd[j] : mu[j];
                const double s = static_cast<double>(sd[j]);
                kl += -static_cast<double>(lv[j]) + s * s + static_cast<double>(mu[j]) * static_cast<double>(mu[j]) - 1.0;
            }
        }
        kl_ = n ? 0.5 * kl / static_cast<double>(n) : 0.0;
        last_mode_ = mode_;
        rows_ = n;
        has_forward_ = true;
        return z_;
    }

    size_type d_;
    Rng rng_;
    double beta_ = 1.0;
    double kl_ = 0.0;
    Mode mode_ = Mode::train;
    Mode last_mode_ = Mode::train;
    bool frozen_ = false;
    bool has_forward_ = false;
    size_type rows_ = 0;
    Matrix<T> z_, mu_, sd_, eps_, dx_;
};

static_assert(is_layer_v<GaussianLatent<float>> && is_layer_v<GaussianLatent<double>>);

}  // namespace cfnet::nn
