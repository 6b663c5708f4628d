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

#include <cfnet/detail/simd_dispatch.hpp>
#include <cfnet/error.hpp>
#include <cfnet/nn/parameter.hpp>
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

namespace detail {

/// Adam's per-element constants for one step (see the formula at the top of this file).
template <class T>
struct AdamStepConstants {
    T lr_t{}, c1{}, c2{}, eps{}, wd{}, lr_wd{};
    bool coupled = false, decoupled = false;
};

/// One fused Adam pass over n elements: a SIMD body (see detail::Simd) and a scalar tail doing the
/// same operations in the same order. HAS_GRAD = false: a zero gradient that is never read (exact
/// Adam on a row no batch entry touched). COUPLED: g += wd * p. DECOUPLED: p -= lr_wd * p first.
template <bool HAS_GRAD, bool COUPLED, bool DECOUPLED, class T>
void adam_kernel(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, std::size_t n,
                 const AdamStepConstants<T>& c) {
    std::size_t i = 0;
    using S = Simd<T>;
    if constexpr (S::width > 1) {
        using V = typename S::V;
        const V vlr_t = S::set1(c.lr_t), vc1 = S::set1(c.c1), vc2 = S::set1(c.c2), veps = S::set1(c.eps),
                vwd = S::set1(c.wd), vlr_wd = S::set1(c.lr_wd), vzero = S::set1(T(0));
        for (; i + S::width <= n; i += S::width) {
            V pi = S::load(p + i);
            V gi = vzero;
            if constexpr (HAS_GRAD) gi = S::load(g + i);
            if constexpr (COUPLED) gi = gi + vwd * pi;
            V mi = S::load(m + i);
            V vi = S::load(v + i);
            mi = mi + (gi - mi) * vc1;
            vi = vi + (gi * gi - vi) * vc2;
            S::store(m + i, mi);
            S::store(v + i, vi);
            if constexpr (DECOUPLED) pi = pi - vlr_wd * pi;
            S::store(p + i, pi - vlr_t * mi / (S::sqrt(vi) + veps));
        }
    }
    for (; i < n; ++i) {
        T pi = p[i];
        T gi = T(0);
        if constexpr (HAS_GRAD) gi = g[i];
        if constexpr (COUPLED) gi = gi + c.wd * pi;
        T mi = m[i];
        T vi = v[i];
        mi = mi + (gi - mi) * c.c1;
        vi = vi + (gi * gi - vi) * c.c2;
        m[i] = mi;
        v[i] = vi;
        if constexpr (DECOUPLED) pi = pi - c.lr_wd * pi;
        p[i] = pi - c.lr_t * mi / (std::sqrt(vi) + c.eps);
    }
}

#ifdef CFNET_SIMD_DISPATCH
/// adam_kernel on eight floats at a time with AVX (no FMA: each lane does exactly the scalar
/// operations, so the values are bit-identical to adam_kernel's).
template <bool HAS_GRAD, bool COUPLED, bool DECOUPLED>
__attribute__((target("avx2"))) void adam_kernel_avx2(float* __restrict p, const float* __restrict g,
                                                      float* __restrict m, float* __restrict v, std::size_t n,
                                                      const AdamStepConstants<float>& c) {
    std::size_t i = 0;
    const __m256 vlr_t = _mm256_set1_ps(c.lr_t), vc1 = _mm256_set1_ps(c.c1), vc2 = _mm256_set1_ps(c.c2),
                 veps = _mm256_set1_ps(c.eps), vwd = _mm256_set1_ps(c.wd), vlr_wd = _mm256_set1_ps(c.lr_wd);
    for (; i + 8 <= n; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i);
        __m256 gi = _mm256_setzero_ps();
        if constexpr (HAS_GRAD) gi = _mm256_loadu_ps(g + i);
        if constexpr (COUPLED) gi = _mm256_add_ps(gi, _mm256_mul_ps(vwd, pi));
        __m256 mi = _mm256_loadu_ps(m + i);
        __m256 vi = _mm256_loadu_ps(v + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(_mm256_sub_ps(gi, mi), vc1));
        vi = _mm256_add_ps(vi, _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(gi, gi), vi), vc2));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        if constexpr (DECOUPLED) pi = _mm256_sub_ps(pi, _mm256_mul_ps(vlr_wd, pi));
        const __m256 upd = _mm256_div_ps(_mm256_mul_ps(vlr_t, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), veps));
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, upd));
    }
    adam_kernel<HAS_GRAD, COUPLED, DECOUPLED>(p + i, HAS_GRAD ? g + i : g, m + i, v + i, n - i, c);
}
#endif

/// Adam's update of n elements with the weight-decay mode of `c`, on the widest kernel the CPU runs
/// (all kernels give the same bits). g == nullptr means a zero gradient. Allocates nothing.
template <class T>
void adam_update(T* p, const T* g, T* m, T* v, std::size_t n, const AdamStepConstants<T>& c) {
    auto run = [&](auto has_grad, auto coupled, auto decoupled) {
        constexpr bool H = decltype(has_grad)::value, C = decltype(coupled)::value, D = decltype(decoupled)::value;
#ifdef CFNET_SIMD_DISPATCH
        if constexpr (std::is_same_v<T, float>) {
            if (cfnet::detail::use_avx2()) return adam_kernel_avx2<H, C, D>(p, g, m, v, n, c);
        }
#endif
        adam_kernel<H, C, D>(p, g, m, v, n, c);
    };
    using yes = std::true_type;
    using no = std::false_type;
    if (g) {
        if (c.coupled) run(yes{}, yes{}, no{});
        else if (c.decoupled) run(yes{}, no{}, yes{});
        else run(yes{}, no{}, no{});
    } else {
        if (c.coupled) run(no{}, yes{}, no{});
        else if (c.decoupled) run(no{}, no{}, yes{});
        else run(no{}, no{}, no{});
    }
}

}  // namespace detail

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

    /// The per-element constants of the current step, for code that applies Adam's update itself
    /// (e.g. fused into the pass that produces a gradient row) through detail::adam_update.
    const detail::AdamStepConstants<T>& step_constants() const noexcept { return consts_; }

    /// The step size lr_t of the current step (see the formula above).
    T current_step_size() const noexcept { return consts_.lr_t; }

private:
    void update_range(size_type slot, size_type begin, size_type end) {
        nn::Parameter<T>& prm = *this->params_[slot];
        detail::adam_update(prm.value.data() + begin, static_cast<const T*>(prm.grad.data()) + begin,
                            m_[slot].data() + begin, v_[slot].data() + begin, end - begin, consts_);
    }

    AdamOptions opt_;
    std::vector<Matrix<T>> m_, v_;
    detail::AdamStepConstants<T> consts_;
};

}  // namespace cfnet::optim
