#pragma once
/// @file nn/init.hpp
/// Weight initialisers. An Initializer is a small value type (copyable, comparable) naming a scheme
/// and its constants; applying it fills a matrix from a cfnet::Rng, so the same seed gives the
/// same weights on every platform.
///
///   cfnet::Rng rng(7);
///   cfnet::nn::Dense<> layer(1682, 512, rng, cfnet::nn::init::he_uniform());
///   cfnet::nn::init::uniform(-0.05, 0.05)(matrix, fan_in, fan_out, rng);  // fill directly
///
/// Values are drawn in row-major order, one Rng draw (uniform) or one normal deviate per entry.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/tensor.hpp>

#include <cmath>
#include <cstddef>

namespace cfnet::nn {

/// An initialisation scheme; build one with the functions in cfnet::nn::init.
struct Initializer {
    enum class Kind { zeros, uniform, normal, glorot_uniform, he_uniform, he_normal };

    Kind kind = Kind::zeros;
    double a = 0.0;  ///< uniform: lower bound; normal: mean
    double b = 0.0;  ///< uniform: upper bound; normal: standard deviation

    /// Fills `w` (every entry) for a layer with the given fan-in and fan-out.
    /// @pre fan_in + fan_out > 0 for glorot_uniform, fan_in > 0 for the he_* schemes.
    /// @throws InvalidArgument when the fans do not allow the scheme.
    template <class T>
    void operator()(Matrix<T>& w, std::size_t fan_in, std::size_t fan_out, Rng& rng) const {
        switch (kind) {
            case Kind::zeros:
                for (auto& v : w) v = T(0);
                return;
            case Kind::uniform:
                fill_uniform(w, a, b, rng);
                return;
            case Kind::normal:
                for (auto& v : w) v = static_cast<T>(rng.normal(a, b));
                return;
            case Kind::glorot_uniform: {
                check_arg(fan_in + fan_out > 0, "init::glorot_uniform: fan_in + fan_out is 0");
                const double l = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
                fill_uniform(w, -l, l, rng);
                return;
            }
            case Kind::he_uniform: {
                check_arg(fan_in > 0, "init::he_uniform: fan_in is 0");
                const double l = std::sqrt(6.0 / static_cast<double>(fan_in));
                fill_uniform(w, -l, l, rng);
                return;
            }
            case Kind::he_normal: {
                check_arg(fan_in > 0, "init::he_normal: fan_in is 0");
                const double s = std::sqrt(2.0 / static_cast<double>(fan_in));
                for (auto& v : w) v = static_cast<T>(rng.normal(0.0, s));
                return;
            }
        }
    }

    friend bool operator==(const Initializer& x, const Initializer& y) {
        return x.kind == y.kind && x.a == y.a && x.b == y.b;
    }
    friend bool operator!=(const Initializer& x, const Initializer& y) { return !(x == y); }

private:
    template <class T>
    static void fill_uniform(Matrix<T>& w, double lo, double hi, Rng& rng) {
        for (auto& v : w) v = static_cast<T>(rng.uniform(lo, hi));
    }
};

/// Factories for the initialisation schemes.
namespace init {

/// All zeros (Keras' and PyTorch's usual bias initialiser).
inline Initializer zeros() { return {Initializer::Kind::zeros, 0.0, 0.0}; }

/// U(a, b). Keras' Embedding default is uniform(-0.05, 0.05).
/// @throws InvalidArgument unless a < b and both are finite.
inline Initializer uniform(double a, double b) {
    check_arg(std::isfinite(a) && std::isfinite(b) && a < b, "init::uniform: need finite a < b, got a = ", a,
              ", b = ", b);
    return {Initializer::Kind::uniform, a, b};
}

/// N(mean, stddev^2).
/// @throws InvalidArgument unless stddev >= 0 and both are finite.
inline Initializer normal(double mean, double stddev) {
    check_arg(std::isfinite(mean) && std::isfinite(stddev) && stddev >= 0.0,
              "init::normal: need finite mean and stddev >= 0, got mean = ", mean, ", stddev = ", stddev);
    return {Initializer::Kind::normal, mean, stddev};
}

/// Glorot/Xavier uniform, Keras' Dense default: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
inline Initializer glorot_uniform() { return {Initializer::Kind::glorot_uniform, 0.0, 0.0}; }

/// He/Kaiming uniform: U(-l, l), l = sqrt(6 / fan_in).
inline Initializer he_uniform() { return {Initializer::Kind::he_uniform, 0.0, 0.0}; }

/// He/Kaiming normal: N(0, 2 / fan_in), untruncated (PyTorch's kaiming_normal_; Keras truncates
/// at two standard deviations).
inline Initializer he_normal() { return {Initializer::Kind::he_normal, 0.0, 0.0}; }

}  // namespace init

}  // namespace cfnet::nn
