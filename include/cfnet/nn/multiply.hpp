#pragma once
/// @file nn/multiply.hpp
/// Multiply<T>: the element-wise product of two batch matrices of the same shape, y = a (*) b, and
/// its gradients da = dy (*) b, db = dy (*) a (NeuralCF's GMF tower multiplies a user and an item
/// embedding this way). Not a layer in the nn/layer.hpp sense (two inputs); no parameters. It keeps
/// references to its inputs (no copy): they must stay alive and unchanged until backward.
/// product_dot(a, b, w, n) scores one product row through a single-output layer without writing it.

#include <cfnet/error.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <cstddef>

namespace cfnet::nn {

template <class T = float>
class Multiply {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// y = a (*) b. @throws InvalidArgument if the shapes differ.
    const Matrix<T>& forward(const Matrix<T>& a, const Matrix<T>& b) {
        check_arg(a.shape() == b.shape(), "Multiply::forward: a is ", a.shape(0), " x ", a.shape(1), ", b is ",
                  b.shape(0), " x ", b.shape(1));
        a_ = &a;
        b_ = &b;
        ensure_shape(y_, a.shape(0), a.shape(1));
        const T* pa = a.data();
        const T* pb = b.data();
        T* y = y_.data();
        for (size_type k = 0, n = a.size(); k < n; ++k) y[k] = pa[k] * pb[k];
        return y_;
    }

    /// da = dy (*) b, db = dy (*) a for the inputs of the last forward (da(), db()).
    /// @pre follows forward, inputs alive and unchanged. @throws InvalidArgument otherwise.
    void backward(const Matrix<T>& dy) {
        check_arg(a_ != nullptr, "Multiply::backward: must follow forward");
        check_arg(dy.shape() == y_.shape(), "Multiply::backward: dy is ", dy.shape(0), " x ", dy.shape(1), ", expected ",
                  y_.shape(0), " x ", y_.shape(1));
        ensure_shape(da_, dy.shape(0), dy.shape(1));
        ensure_shape(db_, dy.shape(0), dy.shape(1));
        const T* g = dy.data();
        const T* pa = a_->data();
        const T* pb = b_->data();
        for (size_type k = 0, n = dy.size(); k < n; ++k) {
            da_.data()[k] = g[k] * pb[k];
            db_.data()[k] = g[k] * pa[k];
        }
    }
    const Matrix<T>& da() const noexcept { return da_; }
    const Matrix<T>& db() const noexcept { return db_; }

    /// sum over j < n of (a[j] * b[j]) * w[j], accumulated in order: one row of a (*) b through a
    /// single-output layer's weights w (scoring, nothing written).
    static T product_dot(const T* a, const T* b, const T* w, size_type n) {
        T acc = T(0);
        for (size_type j = 0; j < n; ++j) acc += a[j] * b[j] * w[j];
        return acc;
    }

    ParameterList<T> parameters() { return {}; }

private:
    const Matrix<T>* a_ = nullptr;
    const Matrix<T>* b_ = nullptr;
    Matrix<T> y_, da_, db_;
};

}  // namespace cfnet::nn
