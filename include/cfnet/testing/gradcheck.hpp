#pragma once
/// @file testing/gradcheck.hpp
/// Numeric gradient checking by central differences, in double precision. Public: anyone writing
/// a layer or a loss for cfnet checks it with these functions (cfnet's own tests do).
///
///   cfnet::nn::Dense<double> layer(4, 3, rng);
///   auto r = cfnet::testing::check_layer(layer, x);
///   REQUIRE(r);              // convertible to bool
///   INFO(r.log);             // the worst entries, per checked tensor
///
/// The error measure is mlpack's relative error ||g - g_num|| / ||g + g_num|| over all checked
/// entries, together with the maximum absolute error; a check passes when the relative error is
/// at most `tolerance`, or when every absolute error is at most `abs_tolerance` (both gradients ~0).

#include <cfnet/detail/rng.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cfnet::testing {

struct GradCheckOptions {
    double eps = 1e-6;             ///< central-difference step
    double tolerance = 1e-6;       ///< maximum relative error
    double abs_tolerance = 1e-9;   ///< passes anyway when every absolute error is below this
    std::size_t max_reported = 5;  ///< worst entries listed in the log per tensor
};

struct GradCheckResult {
    bool ok = true;
    double rel_error = 0.0;      ///< worst relative error over the checked tensors
    double max_abs_error = 0.0;  ///< worst absolute error over every checked entry
    std::size_t checked = 0;     ///< number of entries compared
    std::string log;             ///< one paragraph per tensor, worst entries first

    explicit operator bool() const noexcept { return ok; }

    /// Merges another tensor's result into this one.
    GradCheckResult& operator+=(const GradCheckResult& o) {
        ok = ok && o.ok;
        rel_error = std::max(rel_error, o.rel_error);
        max_abs_error = std::max(max_abs_error, o.max_abs_error);
        checked += o.checked;
        log += o.log;
        return *this;
    }
};

/// Compares `analytic[0..n)` with the central-difference gradient of `loss()` with respect to the
/// n doubles at `x`. `loss` must read x afresh on every call; x is restored afterwards.
template <class LossFn>
GradCheckResult check_gradient(LossFn&& loss, double* x, const double* analytic, std::size_t n,
                               const std::string& what = "x", const GradCheckOptions& opt = {}) {
    GradCheckResult r;
    std::vector<double> numeric(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double saved = x[i];
        x[i] = saved + opt.eps;
        const double fp = static_cast<double>(loss());
        x[i] = saved - opt.eps;
        const double fm = static_cast<double>(loss());
        x[i] = saved;
        numeric[i] = (fp - fm) / (2.0 * opt.eps);
    }
    double diff2 = 0, sum2 = 0;
    std::vector<std::pair<double, std::size_t>> errs(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double d = analytic[i] - numeric[i], s = analytic[i] + numeric[i];
        diff2 += d * d;
        sum2 += s * s;
        errs[i] = {std::abs(d), i};
        r.max_abs_error = std::max(r.max_abs_error, std::abs(d));
    }
    r.rel_error = sum2 > 0 ? std::sqrt(diff2) / std::sqrt(sum2) : std::sqrt(diff2);
    r.checked = n;
    r.ok = std::isfinite(r.rel_error) && (r.rel_error <= opt.tolerance || r.max_abs_error <= opt.abs_tolerance);
    std::ostringstream os;
    os << what << ": " << (r.ok ? "ok" : "FAILED") << ", " << n << " entries, relative error " << r.rel_error
       << ", max abs error " << r.max_abs_error << "\n";
    const std::size_t k = std::min(opt.max_reported, n);
    std::partial_sort(errs.begin(), errs.begin() + static_cast<std::ptrdiff_t>(k), errs.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t j = 0; j < k; ++j) {
        const auto i = errs[j].second;
        os << "  [" << i << "] analytic " << analytic[i] << " numeric " << numeric[i] << "\n";
    }
    r.log = os.str();
    return r;
}

/// Checks a layer (see nn/layer.hpp) at input `x`: the scalar checked is sum(forward(x) * R) for a
/// fixed random R, so backward(R) must give its gradient with respect to x and to every parameter.
/// The layer's forward must be deterministic between calls (e.g. Dropout in eval mode or with a
/// fixed mask). Parameter gradients are zeroed first and left holding the analytic gradient.
template <class Layer>
GradCheckResult check_layer(Layer& layer, Matrix<double> x, std::uint64_t seed = 1, const GradCheckOptions& opt = {}) {
    static_assert(nn::is_layer_v<Layer>, "check_layer: Layer does not satisfy the layer contract (nn/layer.hpp)");
    static_assert(std::is_same_v<typename Layer::value_type, double>, "check_layer: gradient checks run in double");
    const auto params = layer.parameters();
    nn::zero_grad(params);

    Matrix<double> weights(layer.forward(x).shape());
    Rng rng(seed);
    for (auto& w : weights) w = rng.uniform(-1.0, 1.0);
    const Matrix<double> dx = layer.backward(weights);

    auto loss = [&] {
        const Matrix<double>& y = layer.forward(x);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * weights.data()[i];
        return s;
    };
    GradCheckResult r = check_gradient(loss, x.data(), dx.data(), x.size(), "input", opt);
    for (auto* p : params) {
        const Matrix<double> g = p->grad;
        r += check_gradient(loss, p->value.data(), g.data(), p->size(), p->name.empty() ? "parameter" : p->name, opt);
    }
    return r;
}

}  // namespace cfnet::testing
