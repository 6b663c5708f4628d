#pragma once
// Shared by tests/nn/test_{dense,sparse_input_dense,sparse_output_dense}.cpp: random inputs and the
// relative difference the layers are compared by.
#include <cfnet/detail/rng.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/tensor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace cfnet_test {

/// r x c entries uniform in [-1, 1].
template <class T>
cfnet::Matrix<T> random_matrix(std::size_t r, std::size_t c, cfnet::Rng& rng) {
    cfnet::Matrix<T> m = cfnet::Matrix<T>::from_shape({r, c});
    for (auto& v : m) v = static_cast<T>(rng.uniform(-1, 1));
    return m;
}

/// A random CSR batch with about `density` of the entries, values in [1, 5].
template <class T>
cfnet::nn::SparseBatch<T> random_sparse(std::size_t rows, std::size_t cols, double density, cfnet::Rng& rng) {
    cfnet::nn::SparseBatch<T> s(cols);
    std::vector<cfnet::nn::index_type> idx;
    std::vector<T> val;
    for (std::size_t r = 0; r < rows; ++r) {
        idx.clear();
        val.clear();
        for (std::size_t c = 0; c < cols; ++c) {
            if (rng.uniform() < density) {
                idx.push_back(static_cast<cfnet::nn::index_type>(c));
                val.push_back(static_cast<T>(1 + rng.below(5)));
            }
        }
        s.add_row(idx, val);
    }
    return s;
}

/// max |a - b| / max |b| over n elements (0 for n = 0).
template <class T>
double max_rel_diff(const T* a, const T* b, std::size_t n) {
    double scale = 1e-30, diff = 0;
    for (std::size_t i = 0; i < n; ++i) {
        scale = std::max(scale, std::abs(double(b[i])));
        diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    }
    return diff / scale;
}

template <class T>
double max_rel_diff(const cfnet::Matrix<T>& a, const cfnet::Matrix<T>& b) {
    REQUIRE(a.shape() == b.shape());
    return max_rel_diff(a.data(), b.data(), a.size());
}

template <class T>
double max_rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
    REQUIRE(a.size() == b.size());
    return max_rel_diff(a.data(), b.data(), a.size());
}

}  // namespace cfnet_test
