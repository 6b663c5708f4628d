#pragma once
/// @file nn/concat.hpp
/// Concat<T>: column-wise concatenation of batch matrices with the same number of rows
/// ([a | b | ...]), and the split of the gradient back into one matrix per part (NeuralCF joins the
/// user and item embeddings this way). Not a layer in the nn/layer.hpp sense (it has several
/// inputs); it has no parameters. Check it with testing::check_gradient directly.

#include <cfnet/error.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cfnet::nn {

template <class T = float>
class Concat {
public:
    using value_type = T;
    using size_type = std::size_t;

    /// [parts[0] | parts[1] | ...] (batch x sum of widths).
    /// @pre parts is not empty, no pointer is null, every part has the same number of rows.
    /// @throws InvalidArgument naming the part otherwise.
    const Matrix<T>& forward(const std::vector<const Matrix<T>*>& parts) {
        check_arg(!parts.empty(), "Concat::forward: no parts");
        for (size_type i = 0; i < parts.size(); ++i) check_arg(parts[i] != nullptr, "Concat::forward: part ", i, " is null");
        const size_type n = parts[0]->shape(0);
        widths_.resize(parts.size());
        size_type total = 0;
        for (size_type i = 0; i < parts.size(); ++i) {
            check_arg(parts[i]->shape(0) == n, "Concat::forward: part ", i, " has ", parts[i]->shape(0),
                      " rows, part 0 has ", n);
            widths_[i] = parts[i]->shape(1);
            total += widths_[i];
        }
        ensure_shape(y_, n, total);
        for (size_type r = 0; r < n; ++r) {
            T* yr = y_.data() + r * total;
            for (size_type i = 0; i < parts.size(); ++i) {
                const T* src = parts[i]->data() + r * widths_[i];
                yr = std::copy(src, src + widths_[i], yr);
            }
        }
        has_forward_ = true;
        return y_;
    }

    /// [a | b].
    const Matrix<T>& forward(const Matrix<T>& a, const Matrix<T>& b) {
        two_[0] = &a;
        two_[1] = &b;
        return forward(two_);
    }

    /// Splits dy (batch x sum of widths) into one gradient per part of the last forward.
    /// @pre follows forward; dy has the forward output's shape. @throws InvalidArgument otherwise.
    const std::vector<Matrix<T>>& backward(const Matrix<T>& dy) {
        check_arg(has_forward_, "Concat::backward: must follow forward");
        check_arg(dy.shape() == y_.shape(), "Concat::backward: dy is ", dy.shape(0), " x ", dy.shape(1), ", expected ",
                  y_.shape(0), " x ", y_.shape(1));
        const size_type n = dy.shape(0), total = dy.shape(1);
        grads_.resize(widths_.size());
        for (size_type i = 0; i < widths_.size(); ++i)
            ensure_shape(grads_[i], n, widths_[i]);
        for (size_type r = 0; r < n; ++r) {
            const T* src = dy.data() + r * total;
            for (size_type i = 0; i < widths_.size(); ++i) {
                std::copy(src, src + widths_[i], grads_[i].data() + r * widths_[i]);
                src += widths_[i];
            }
        }
        return grads_;
    }

    ParameterList<T> parameters() { return {}; }
    /// Widths of the parts of the last forward.
    const std::vector<size_type>& widths() const noexcept { return widths_; }

private:
    std::vector<size_type> widths_;
    std::vector<const Matrix<T>*> two_ = std::vector<const Matrix<T>*>(2, nullptr);
    std::vector<Matrix<T>> grads_;
    Matrix<T> y_;
    bool has_forward_ = false;
};

}  // namespace cfnet::nn
