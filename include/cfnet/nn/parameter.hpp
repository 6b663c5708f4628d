#pragma once
/// @file nn/parameter.hpp
/// Parameter<T>: a trainable tensor and the gradient accumulated for it.

#include <cfnet/error.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cfnet::nn {

/// A named trainable matrix and its gradient (always the same shape). Vectors such as biases are
/// 1 x n matrices. Layers own their parameters by value; optimizers see them through
/// `parameters()` as a list of pointers and keep their state by position in that list.
template <class T = float>
struct Parameter {
    using value_type = T;

    std::string name;
    Matrix<T> value;
    Matrix<T> grad;

    Parameter() = default;
    /// @throws OutOfMemory naming the parameter when its value or gradient cannot be allocated.
    Parameter(std::string name_, std::size_t rows, std::size_t cols)
        : name(std::move(name_)), value(zeros_for<T>("parameter '" + name + "'", rows, cols)),
          grad(zeros_for<T>("the gradient of parameter '" + name + "'", rows, cols)) {}

    std::size_t size() const noexcept { return value.size(); }
    std::size_t rows() const noexcept { return value.shape(0); }
    std::size_t cols() const noexcept { return value.shape(1); }
    void zero_grad() { std::fill(grad.begin(), grad.end(), T(0)); }
};

/// A named, non-owning reference to a matrix: how parameters and optimizer state are handed to
/// serialize.hpp.
template <class T = float>
struct TensorRef {
    std::string name;
    Matrix<T>* tensor = nullptr;
};

/// The parameter list type every layer's parameters() returns.
template <class T>
using ParameterList = std::vector<Parameter<T>*>;

/// Sets every gradient in `params` to zero.
template <class T>
void zero_grad(const ParameterList<T>& params) {
    for (auto* p : params) p->zero_grad();
}

/// Copies every parameter's values, in list order, into x (parameter_count(params) elements): the
/// flat vector a full-batch optimizer (optim/lbfgs.hpp) works on.
template <class T>
void copy_values_to(const ParameterList<T>& params, T* x) {
    for (const auto* p : params) x = std::copy(p->value.data(), p->value.data() + p->size(), x);
}

/// The inverse of copy_values_to: every parameter's values from x.
template <class T>
void copy_values_from(const T* x, const ParameterList<T>& params) {
    for (auto* p : params) {
        std::copy(x, x + p->size(), p->value.data());
        x += p->size();
    }
}

/// Copies every parameter's gradient, in list order, into g (parameter_count(params) elements of
/// the accumulator type Acc) times `scale`: each product taken in double and rounded once to Acc (for
/// a float gradient and a float scale that is exactly the float product). The flat buffer of a
/// data-parallel step's one allreduce (distributed/*.hpp), in the precision the sum needs.
template <class T, class Acc>
void copy_grads_to(const ParameterList<T>& params, Acc* g, double scale) {
    for (const auto* p : params) {
        const T* gp = p->grad.data();
        for (std::size_t k = 0, n = p->size(); k < n; ++k) g[k] = static_cast<Acc>(scale * static_cast<double>(gp[k]));
        g += p->size();
    }
}

/// The inverse of copy_grads_to: every parameter's gradient = g * scale (in Acc), rounded to T.
template <class T, class Acc>
void copy_grads_from(const Acc* g, Acc scale, const ParameterList<T>& params) {
    for (auto* p : params) {
        T* gp = p->grad.data();
        for (std::size_t k = 0, n = p->size(); k < n; ++k) gp[k] = static_cast<T>(g[k] * scale);
        g += p->size();
    }
}

/// g (flat, in list order) = scale * grads when overwrite, else g += scale * grads.
template <class T>
void add_scaled_grads(const ParameterList<T>& params, T scale, T* g, bool overwrite) {
    for (const auto* p : params) {
        const T* gp = p->grad.data();
        const std::size_t n = p->size();
        if (overwrite)
            for (std::size_t k = 0; k < n; ++k) g[k] = scale * gp[k];
        else
            for (std::size_t k = 0; k < n; ++k) g[k] += scale * gp[k];
        g += n;
    }
}

/// Copies every parameter's values, in list order, into `saved` (early stopping's snapshot of the
/// best weights; reuses saved's storage when the shapes match).
template <class T>
void save_values(const ParameterList<T>& params, std::vector<Matrix<T>>& saved) {
    saved.resize(params.size());
    for (std::size_t k = 0; k < params.size(); ++k) saved[k] = params[k]->value;
}

/// The inverse of save_values: every parameter's values from `saved`.
template <class T>
void load_values(const std::vector<Matrix<T>>& saved, const ParameterList<T>& params) {
    for (std::size_t k = 0; k < params.size(); ++k) params[k]->value = saved[k];
}

/// Total number of scalars in `params`.
template <class T>
std::size_t parameter_count(const ParameterList<T>& params) {
    std::size_t n = 0;
    for (const auto* p : params) n += p->size();
    return n;
}

}  // namespace cfnet::nn
