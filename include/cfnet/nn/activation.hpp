#pragma once
/// @file nn/activation.hpp
/// Elementwise activation layers: ReLU, Sigmoid, Tanh, Identity, ELU, SELU. Each is
/// Activation<T, Fn> for a small function object Fn giving f(x) and f'(x) expressed through
/// y = f(x), so the layer caches only its output. Forward and backward are single fused loops into
/// the layer's own buffers.
///
/// To add an activation, write a function object with
///   T value(T x) const;             // f(x)
///   T derivative(T y) const;        // f'(x) given y = f(x)
/// and use Activation<T, YourFn>.
///
/// ActivationKind names the built-in functions at run time (options, model files), and
/// with_activation(kind, f) calls f with the matching function object: the layers with a fused
/// activation (Dense, SparseInputDense, SparseOutputDense) take an ActivationKind.

#include <cfnet/error.hpp>
#include <cfnet/kernels/relu.hpp>
#include <cfnet/kernels/tanh.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

namespace cfnet::nn {

namespace fn {

/// max(0, x); the derivative at 0 is taken as 0.
struct Relu {
    template <class T>
    T value(T x) const noexcept { return x > T(0) ? x : T(0); }
    template <class T>
    T derivative(T y) const noexcept { return y > T(0) ? T(1) : T(0); }
};

/// 1 / (1 + e^-x), computed without overflow for large |x|.
struct Sigmoid {
    template <class T>
    T value(T x) const noexcept {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T>
    T derivative(T y) const noexcept { return y * (T(1) - y); }
};

/// tanh; in float kernels::tanh_value (a vectorisable approximation, relative error < 1e-6), in
/// double std::tanh.
struct Tanh {
    template <class T>
    T value(T x) const noexcept { return kernels::tanh_value(x); }
    template <class T>
    T derivative(T y) const noexcept { return T(1) - y * y; }
};

struct Identity {
    template <class T>
    T value(T x) const noexcept { return x; }
    template <class T>
    T derivative(T) const noexcept { return T(1); }
};

/// x for x > 0, alpha (e^x - 1) otherwise (alpha > 0).
struct Elu {
    double alpha = 1.0;
    template <class T>
    T value(T x) const noexcept { return x > T(0) ? x : static_cast<T>(alpha) * std::expm1(x); }
    template <class T>
    T derivative(T y) const noexcept { return y > T(0) ? T(1) : y + static_cast<T>(alpha); }
};

/// scale * (x for x > 0, alpha (e^x - 1) otherwise) with Klambauer et al.'s constants.
struct Selu {
    static constexpr double alpha = 1.6732632423543772848170429916717;
    static constexpr double scale = 1.0507009873554804934193349852946;
    template <class T>
    T value(T x) const noexcept {
        return static_cast<T>(scale) * (x > T(0) ? x : static_cast<T>(alpha) * std::expm1(x));
    }
    template <class T>
    T derivative(T y) const noexcept {
        return y > T(0) ? static_cast<T>(scale) : y + static_cast<T>(scale * alpha);
    }
};

}  // namespace fn

/// The built-in activations by name (see the function objects above for the formulas; elu with
/// alpha = 1).
enum class ActivationKind { relu, sigmoid, tanh, identity, elu, selu };

/// "relu", "sigmoid", "tanh", "identity", "elu", "selu".
inline const char* to_string(ActivationKind k) {
    switch (k) {
        case ActivationKind::relu: return "relu";
        case ActivationKind::sigmoid: return "sigmoid";
        case ActivationKind::tanh: return "tanh";
        case ActivationKind::identity: return "identity";
        case ActivationKind::elu: return "elu";
        case ActivationKind::selu: return "selu";
    }
    return "unknown";
}

/// The inverse of to_string(ActivationKind). @throws InvalidArgument for another name.
inline ActivationKind activation_from_string(const std::string& s) {
    for (auto k : {ActivationKind::relu, ActivationKind::sigmoid, ActivationKind::tanh, ActivationKind::identity,
                   ActivationKind::elu, ActivationKind::selu})
        if (s == to_string(k)) return k;
    throw InvalidArgument(cfnet::detail::concat("unknown activation '", s,
                                                "' (expected relu, sigmoid, tanh, identity, elu or selu)"));
}

/// Calls f(fn) with the function object of `k`.
template <class F>
void with_activation(ActivationKind k, F&& f) {
    switch (k) {
        case ActivationKind::relu: f(fn::Relu{}); return;
        case ActivationKind::sigmoid: f(fn::Sigmoid{}); return;
        case ActivationKind::tanh: f(fn::Tanh{}); return;
        case ActivationKind::identity: f(fn::Identity{}); return;
        case ActivationKind::elu: f(fn::Elu{1.0}); return;
        case ActivationKind::selu: f(fn::Selu{}); return;
    }
}

/// y[i] = f(y[i]) for i < n, in place (nothing for identity; ReLU through kernels::relu, tanh through
/// kernels::tanh_inplace).
template <class T>
void apply_activation(ActivationKind k, T* y, std::size_t n) {
    if (k == ActivationKind::identity) return;
    if (k == ActivationKind::relu) return kernels::relu(y, n);
    if (k == ActivationKind::tanh) return kernels::tanh_inplace(y, n);
    with_activation(k, [&](auto fn) {
        for (std::size_t i = 0; i < n; ++i) y[i] = fn.value(y[i]);
    });
}

/// dz[i] = dy[i] * f'(y[i]) for i < n, given the outputs y = f(z) (dz distinct from dy and y; ReLU
/// through kernels::relu_backward).
template <class T>
void activation_backward(ActivationKind k, const T* y, const T* dy, T* dz, std::size_t n) {
    if (k == ActivationKind::relu) return kernels::relu_backward(y, dy, dz, n);
    with_activation(k, [&](auto fn) {
        for (std::size_t i = 0; i < n; ++i) dz[i] = dy[i] * fn.derivative(y[i]);
    });
}

/// An elementwise activation layer (no parameters; the same in train and eval mode).
template <class T, class Fn>
class Activation {
public:
    using value_type = T;
    using size_type = std::size_t;
    using function_type = Fn;

    Activation() = default;
    explicit Activation(Fn f) : fn_(std::move(f)) {}

    /// y = f(x) elementwise.
    const Matrix<T>& forward(const Matrix<T>& x) {
        if (y_.shape() != x.shape()) y_.resize(x.shape());
        const T* xs = x.data();
        T* ys = y_.data();
        const size_type n = x.size();
        for (size_type i = 0; i < n; ++i) ys[i] = fn_.value(xs[i]);
        has_forward_ = true;
        return y_;
    }

    /// dx = dy * f'(x).
    /// @pre follows forward(x); dy has x's shape. @throws InvalidArgument otherwise.
    const Matrix<T>& backward(const Matrix<T>& dy) {
        check_arg(has_forward_, "Activation::backward: must follow forward");
        check_arg(dy.shape() == y_.shape(), "Activation::backward: dy is ", dy.shape(0), " x ", dy.shape(1),
                  ", expected ", y_.shape(0), " x ", y_.shape(1));
        if (dx_.shape() != y_.shape()) dx_.resize(y_.shape());
        const T* ys = y_.data();
        const T* g = dy.data();
        T* dxs = dx_.data();
        const size_type n = y_.size();
        for (size_type i = 0; i < n; ++i) dxs[i] = g[i] * fn_.derivative(ys[i]);
        return dx_;
    }

    ParameterList<T> parameters() { return {}; }
    void set_mode(Mode) noexcept {}

    const Fn& function() const noexcept { return fn_; }

private:
    Fn fn_{};
    Matrix<T> y_;
    Matrix<T> dx_;
    bool has_forward_ = false;
};

template <class T = float>
using ReLU = Activation<T, fn::Relu>;
template <class T = float>
using Sigmoid = Activation<T, fn::Sigmoid>;
template <class T = float>
using Tanh = Activation<T, fn::Tanh>;
template <class T = float>
using Identity = Activation<T, fn::Identity>;
template <class T = float>
using SELU = Activation<T, fn::Selu>;

/// ELU with parameter alpha (default 1).
template <class T = float>
class ELU : public Activation<T, fn::Elu> {
public:
    /// @throws InvalidArgument unless alpha > 0.
    explicit ELU(double alpha = 1.0) : Activation<T, fn::Elu>(make(alpha)) {}

private:
    static fn::Elu make(double alpha) {
        check_arg(alpha > 0.0, "ELU: alpha must be > 0, got ", alpha);
        return fn::Elu{alpha};
    }
};

static_assert(is_layer_v<ReLU<float>> && is_layer_v<ELU<double>> && is_layer_v<SELU<float>>);

}  // namespace cfnet::nn
