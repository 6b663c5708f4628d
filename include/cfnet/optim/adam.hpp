#pragma once
/// @file optim/adam.hpp
/// Adam with Keras' defaults and Keras' (TensorFlow's) placement of epsilon, plus coupled L2 and
/// decoupled (AdamW) weight decay. Exactly this, per element, at step t (t = 1, 2, ...):
///
///   g    = grad + weight_decay * p                       (coupled L2, only when not decoupled)
///   m   += (g - m) * (1 - beta1)                         (= beta1 m + (1 - beta1) g)
///   v   += (g * g - v) * (1 - beta2)                     (= beta2 v + (1 - beta2) g^2)
///   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)        (computed in double, once per step)
///   p   -= lr * weight_decay * p                         (decoupled / AdamW only, before the step)
///   p   -= lr_t * m / (sqrt(v) + epsilon)
///
/// This is tf.keras.optimizers.Adam (and AdamW): epsilon is added to sqrt(v) WITHOUT bias
/// correction, i.e. PyTorch's Adam with eps' = epsilon * sqrt(1 - beta2^t). Defaults: lr 1e-3,
/// beta1 0.9, beta2 0.999, epsilon 1e-7, no weight decay. State: "adam.m.<slot>" and
/// "adam.v.<slot>" (first and second moments), plus the step counter (steps()/set_steps()).
///
///   cfnet::optim::Adam<float> opt(model.parameters(), cfnet::optim::AdamOptions().lr(1e-3));
///   opt.zero_grad(); /* forward + backward */ opt.step();
///
/// Lazy (sparse) updates through update_row_list() use the global t for the bias correction and
/// leave the other rows' moments untouched (they do not decay), like TensorFlow's LazyAdam: this
/// is NOT the same as dense Adam with a zero gradient on those rows. See optim/optimizer.hpp for
/// binding (state by slot, rebind) and the per-row update protocol.

#include <cfnet/error.hpp>
#include <cfnet/kernels/adam.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/optim/optimizer.hpp>
#include <cfnet/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace cfnet::optim {

/// Adam hyper-parameters (Keras defaults). Setters validate and chain.
class AdamOptions {
public:
    AdamOptions() = default;

    /// Learning rate, finite and >= 0.
    AdamOptions& lr(double v) {
        lr_ = detail::check_option("AdamOptions::lr", v, 0.0, HUGE_VAL);
        return *this;
    }
    /// First-moment decay in [0, 1).
    AdamOptions& beta1(double v) {
        beta1_ = detail::check_option("AdamOptions::beta1", v, 0.0, 1.0, true);
        return *this;
    }
    /// Second-moment decay in [0, 1).
    AdamOptions& beta2(double v) {
        beta2_ = detail::check_option("AdamOptions::beta2", v, 0.0, 1.0, true);
        return *this;
    }
    /// Added to sqrt(v) (Keras placement), > 0.
    AdamOptions& epsilon(double v) {
        epsilon_ = detail::check_option("AdamOptions::epsilon", v, 0.0, HUGE_VAL);
        check_arg(v > 0, "AdamOptions::epsilon: expected a value > 0, got ", v);
        return *this;
    }
    /// Weight decay >= 0: coupled L2 (added to the gradient) unless decoupled_weight_decay(true).
    AdamOptions& weight_decay(double v) {
        weight_decay_ = detail::check_option("AdamOptions::weight_decay", v, 0.0, HUGE_VAL);
        return *this;
    }
    /// true: AdamW, p -= lr * weight_decay * p before the Adam step (not through the moments).
    AdamOptions& decoupled_weight_decay(bool v) {
        decoupled_ = v;
        return *this;
    }

    double lr() const noexcept { return lr_; }
    double beta1() const noexcept { return beta1_; }
    double beta2() const noexcept { return beta2_; }
    double epsilon() const noexcept { return epsilon_; }
    double weight_decay() const noexcept { return weight_decay_; }
    bool decoupled_weight_decay() const noexcept { return decoupled_; }

private:
    double lr_ = 1e-3;
    double beta1_ = 0.9;
    double beta2_ = 0.999;
    double epsilon_ = 1e-7;
    double weight_decay_ = 0.0;
    bool decoupled_ = false;
};

template <class T = float>
class Adam : public OptimizerBase<T, Adam<T>> {
    using Base = OptimizerBase<T, Adam<T>>;
    friend Base;

public:
    using value_type = T;
    using size_type = std::size_t;

    /// @throws InvalidArgument when a parameter pointer is null or a grad's shape differs from its value's.
    explicit Adam(nn::ParameterList<T> params, const AdamOptions& options = AdamOptions())
        : Base("Adam", std::move(params)), opt_(options), m_(this->zeros_like_params()), v_(this->zeros_like_params()) {
        set_steps(0);
    }

    const AdamOptions& options() const noexcept { return opt_; }

    /// Changes the learning rate (e.g. a schedule); takes effect from the next update.
    void set_lr(double lr) {
        opt_.lr(lr);
        set_steps(this->steps_);
    }

    // step(), begin_step(), update(), update_rows(), update_row() and update_row_list() come from
    // OptimizerBase (optim/optimizer.hpp).

    /// Moments by slot: "adam.m.<k>", "adam.v.<k>" for k = 0, 1, ... (m then v per slot).
    std::vector<nn::TensorRef<T>> state() {
        std::vector<nn::TensorRef<T>> out;
        out.reserve(2 * m_.size());
        for (size_type k = 0; k < m_.size(); ++k) {
            out.push_back({Base::slot_name("adam.m", k), &m_[k]});
            out.push_back({Base::slot_name("adam.v", k), &v_[k]});
        }
        return out;
    }

    /// Sets the step counter t (e.g. after loading state); the next begin_step() makes it n + 1.
    void set_steps(std::size_t n) {
        this->steps_ = n;
        const double t = static_cast<double>(n);
        consts_.lr_t = n == 0 ? T(0)
                              : static_cast<T>(opt_.lr() * std::sqrt(1.0 - std::pow(opt_.beta2(), t)) /
                                               (1.0 - std::pow(opt_.beta1(), t)));
        consts_.c1 = static_cast<T>(1.0 - opt_.beta1());
        consts_.c2 = static_cast<T>(1.0 - opt_.beta2());
        consts_.eps = static_cast<T>(opt_.epsilon());
        consts_.wd = static_cast<T>(opt_.weight_decay());
        consts_.lr_wd = static_cast<T>(opt_.lr() * opt_.weight_decay());
        consts_.coupled = consts_.wd != T(0) && !opt_.decoupled_weight_decay();
        consts_.decoupled = consts_.wd != T(0) && opt_.decoupled_weight_decay();
    }

    /// The per-element constants of the current step (kernels/adam.hpp).
    const kernels::AdamStepConstants<T>& step_constants() const noexcept { return consts_; }

    /// The fused path of the optimizer protocol (nn/update.hpp): slot `slot`'s moments and this
    /// step's constants, for a layer's backward pass to update the slot's rows itself while they are
    /// in cache. lazy: rows without a gradient keep value and moments. Valid until the next
    /// begin_step() (or set_steps / set_lr); the moments pointers until the optimizer is destroyed.
    /// @throws InvalidArgument for a slot out of range or before begin_step().
    nn::RowUpdate<T> row_update(size_type slot, bool lazy = false) {
        this->check_slot("row_update", slot);
        return nn::RowUpdate<T>{m_[slot].data(), v_[slot].data(), consts_, lazy};
    }

    /// The step size lr_t of the current step (see the formula above).
    T current_step_size() const noexcept { return consts_.lr_t; }

private:
    void update_range(size_type slot, size_type begin, size_type end) {
        nn::Parameter<T>& prm = *this->params_[slot];
        kernels::adam_update(prm.value.data() + begin, static_cast<const T*>(prm.grad.data()) + begin,
                            m_[slot].data() + begin, v_[slot].data() + begin, end - begin, consts_);
    }

    AdamOptions opt_;
    std::vector<Matrix<T>> m_, v_;
    kernels::AdamStepConstants<T> consts_;
};

}  // namespace cfnet::optim
