#pragma once
/// @file optim/sgd.hpp
/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's update rule (torch.optim.SGD). Per element, at step t:
///
///   g  = grad + weight_decay * p
///   if momentum != 0:
///       buf = (t == 1) ? g : momentum * buf + (1 - dampening) * g
///       g   = nesterov ? g + momentum * buf : buf
///   p -= lr * g
///
/// (For a constant lr this is also Keras' SGD(momentum, nesterov) up to rounding.) State: one
/// momentum buffer per slot (only when momentum != 0), named "sgd.momentum.<slot>".
///
///   cfnet::optim::SGD<float> opt(model.parameters(), cfnet::optim::SGDOptions(0.01).momentum(0.9));
///   opt.zero_grad(); /* forward + backward */ opt.step();
///
/// See optim/optimizer.hpp for binding (state by slot, rebind) and the per-row update protocol.

#include <cfnet/error.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/optim/optimizer.hpp>
#include <cfnet/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace cfnet::optim {

/// SGD hyper-parameters; the learning rate has no default. Setters validate and chain.
class SGDOptions {
public:
    /// @throws InvalidArgument unless lr is finite and >= 0.
    explicit SGDOptions(double lr) { this->lr(lr); }

    SGDOptions& lr(double v) {
        lr_ = detail::check_option("SGDOptions::lr", v, 0.0, HUGE_VAL);
        return *this;
    }
    /// Momentum factor in [0, 1] (0: plain SGD).
    SGDOptions& momentum(double v) {
        momentum_ = detail::check_option("SGDOptions::momentum", v, 0.0, 1.0);
        return *this;
    }
    /// Dampening in [0, 1] applied to the gradient in the momentum buffer (PyTorch).
    SGDOptions& dampening(double v) {
        dampening_ = detail::check_option("SGDOptions::dampening", v, 0.0, 1.0);
        return *this;
    }
    /// Nesterov momentum; needs momentum > 0 and dampening 0 (checked by SGD's constructor).
    SGDOptions& nesterov(bool v) {
        nesterov_ = v;
        return *this;
    }
    /// L2 penalty >= 0 added to the gradient: g += weight_decay * p.
    SGDOptions& weight_decay(double v) {
        weight_decay_ = detail::check_option("SGDOptions::weight_decay", v, 0.0, HUGE_VAL);
        return *this;
    }

    double lr() const noexcept { return lr_; }
    double momentum() const noexcept { return momentum_; }
    double dampening() const noexcept { return dampening_; }
    bool nesterov() const noexcept { return nesterov_; }
    double weight_decay() const noexcept { return weight_decay_; }

private:
    double lr_ = 0.0;
    double momentum_ = 0.0;
    double dampening_ = 0.0;
    bool nesterov_ = false;
    double weight_decay_ = 0.0;
};

template <class T = float>
class SGD : public OptimizerBase<T, SGD<T>> {
    using Base = OptimizerBase<T, SGD<T>>;
    friend Base;

public:
    using value_type = T;
    using size_type = std::size_t;

    /// @throws InvalidArgument when a parameter pointer is null, a grad's shape differs from its
    ///         value's, or nesterov is set without momentum > 0 and dampening == 0.
    SGD(nn::ParameterList<T> params, const SGDOptions& options) : Base("SGD", std::move(params)), opt_(options) {
        check_arg(!opt_.nesterov() || (opt_.momentum() > 0 && opt_.dampening() == 0),
                  "SGD: nesterov needs momentum > 0 and dampening == 0, got momentum ", opt_.momentum(),
                  ", dampening ", opt_.dampening());
        if (opt_.momentum() != 0) buf_ = this->zeros_like_params();
        set_steps(0);
    }

    const SGDOptions& options() const noexcept { return opt_; }

    /// Changes the learning rate (e.g. a schedule); takes effect from the next update.
    void set_lr(double lr) {
        opt_.lr(lr);
        set_steps(this->steps_);
    }

    // step(), begin_step(), update(), update_rows(), update_row() and update_row_list() come from
    // OptimizerBase (optim/optimizer.hpp).

    /// Momentum buffers by slot ("sgd.momentum.<k>"); empty without momentum.
    std::vector<nn::TensorRef<T>> state() {
        std::vector<nn::TensorRef<T>> out;
        for (size_type k = 0; k < buf_.size(); ++k) out.push_back({Base::slot_name("sgd.momentum", k), &buf_[k]});
        return out;
    }

    /// Sets the step counter (e.g. after loading state); the next begin_step() makes it n + 1.
    void set_steps(std::size_t n) {
        this->steps_ = n;
        lr_ = static_cast<T>(opt_.lr());
        wd_ = static_cast<T>(opt_.weight_decay());
        mu_ = static_cast<T>(opt_.momentum());
        // Step 1 initialises the buffer with g: buf = 0 * buf + 1 * g.
        buf_decay_ = n == 1 ? T(0) : mu_;
        buf_gain_ = n == 1 ? T(1) : static_cast<T>(1.0 - opt_.dampening());
    }

private:
    template <bool WD, bool MOM, bool NESTEROV>
    static void kernel(T* __restrict p, const T* __restrict g, T* __restrict buf, size_type n, T lr, T wd, T mu,
                       T decay, T gain) {
        for (size_type i = 0; i < n; ++i) {
            T gi = g[i];
            if constexpr (WD) gi += wd * p[i];
            if constexpr (MOM) {
                const T b = decay * buf[i] + gain * gi;
                buf[i] = b;
                if constexpr (NESTEROV) gi = gi + mu * b;
                else gi = b;
            }
            p[i] -= lr * gi;
        }
    }

    void update_range(size_type slot, size_type begin, size_type end) {
        nn::Parameter<T>& prm = *this->params_[slot];
        T* p = prm.value.data() + begin;
        const T* g = prm.grad.data() + begin;
        const size_type n = end - begin;
        const bool wd = wd_ != T(0);
        if (buf_.empty()) {
            if (wd) kernel<true, false, false>(p, g, nullptr, n, lr_, wd_, mu_, buf_decay_, buf_gain_);
            else kernel<false, false, false>(p, g, nullptr, n, lr_, wd_, mu_, buf_decay_, buf_gain_);
            return;
        }
        T* b = buf_[slot].data() + begin;
        if (opt_.nesterov()) {
            if (wd) kernel<true, true, true>(p, g, b, n, lr_, wd_, mu_, buf_decay_, buf_gain_);
            else kernel<false, true, true>(p, g, b, n, lr_, wd_, mu_, buf_decay_, buf_gain_);
        } else {
            if (wd) kernel<true, true, false>(p, g, b, n, lr_, wd_, mu_, buf_decay_, buf_gain_);
            else kernel<false, true, false>(p, g, b, n, lr_, wd_, mu_, buf_decay_, buf_gain_);
        }
    }

    SGDOptions opt_;
    std::vector<Matrix<T>> buf_;
    T lr_{}, wd_{}, mu_{}, buf_decay_{}, buf_gain_{};
};

}  // namespace cfnet::optim
