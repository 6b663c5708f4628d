#pragma once
/// @file optim/lbfgs.hpp
/// Limited-memory BFGS for full-batch training (Nocedal & Wright, "Numerical Optimization",
/// 2nd ed.: the two-loop recursion, Alg. 7.4, and a line search for the strong Wolfe conditions,
/// Alg. 3.5/3.6, with safeguarded cubic interpolation).
///
///   cfnet::optim::Lbfgs<double> solver(cfnet::optim::LbfgsOptions().max_iterations(200));
///   auto r = solver.minimize([&](const double* x, double* g) { /* return f(x), write grad */ }, x, n);
///
/// The objective is a function object `double f(const T* x, T* g)` that returns the value at x
/// and writes the gradient into g (both of length n). Vectors are kept in T; every inner product
/// is accumulated in double. Memory: 2 * history + 4 vectors of length n.
///
/// Each iteration: d = -H g (two-loop recursion, initial H0 = (s'y / y'y) I, or a steepest-descent
/// step of length min(1, 1 / ||g||) when the history is empty), a strong-Wolfe line search along d
/// starting from step 1, then the (s, y) pair enters the history if s'y > 1e-10 y'y (otherwise it is
/// skipped, which keeps H positive definite). A non-finite objective at a trial point counts as
/// "too far" (the step shrinks). When the line search fails to find a Wolfe point it accepts the
/// best point with sufficient decrease if any; otherwise it drops the history and retries once
/// along the steepest descent, then stops with LbfgsStatus::line_search_failed.

#include <cfnet/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace cfnet::optim {

/// L-BFGS settings. Setters validate and chain.
class LbfgsOptions {
public:
    LbfgsOptions() = default;

    /// Number of (s, y) pairs kept, >= 1 (default 10).
    LbfgsOptions& history(std::size_t v) {
        check_arg(v >= 1, "LbfgsOptions::history: expected >= 1, got ", v);
        history_ = v;
        return *this;
    }
    /// Iterations (accepted steps), >= 1 (default 100).
    LbfgsOptions& max_iterations(int v) {
        check_arg(v >= 1, "LbfgsOptions::max_iterations: expected >= 1, got ", v);
        max_iterations_ = v;
        return *this;
    }
    /// Objective evaluations per line search, >= 2 (default 25).
    LbfgsOptions& max_line_search(int v) {
        check_arg(v >= 2, "LbfgsOptions::max_line_search: expected >= 2, got ", v);
        max_line_search_ = v;
        return *this;
    }
    /// Stop when ||g|| <= tol * max(1, ||x||), >= 0 (default 1e-6).
    LbfgsOptions& gradient_tolerance(double v) {
        check_arg(std::isfinite(v) && v >= 0, "LbfgsOptions::gradient_tolerance: expected >= 0, got ", v);
        gtol_ = v;
        return *this;
    }
    /// Stop when |f_prev - f| <= tol * max(1, |f_prev|, |f|), >= 0 (default 0: off).
    LbfgsOptions& function_tolerance(double v) {
        check_arg(std::isfinite(v) && v >= 0, "LbfgsOptions::function_tolerance: expected >= 0, got ", v);
        ftol_ = v;
        return *this;
    }
    /// Wolfe constants 0 < c1 < c2 < 1 (defaults 1e-4, 0.9).
    LbfgsOptions& wolfe(double c1, double c2) {
        check_arg(c1 > 0 && c1 < c2 && c2 < 1, "LbfgsOptions::wolfe: expected 0 < c1 < c2 < 1, got c1 = ", c1,
                  ", c2 = ", c2);
        c1_ = c1;
        c2_ = c2;
        return *this;
    }

    std::size_t history() const noexcept { return history_; }
    int max_iterations() const noexcept { return max_iterations_; }
    int max_line_search() const noexcept { return max_line_search_; }
    double gradient_tolerance() const noexcept { return gtol_; }
    double function_tolerance() const noexcept { return ftol_; }
    double c1() const noexcept { return c1_; }
    double c2() const noexcept { return c2_; }

private:
    std::size_t history_ = 10;
    int max_iterations_ = 100;
    int max_line_search_ = 25;
    double gtol_ = 1e-6;
    double ftol_ = 0.0;
    double c1_ = 1e-4, c2_ = 0.9;
};

/// Why minimize() returned.
enum class LbfgsStatus {
    max_iterations,       ///< ran LbfgsOptions::max_iterations iterations
    gradient_converged,   ///< ||g|| <= gradient_tolerance * max(1, ||x||)
    function_converged,   ///< the relative decrease fell below function_tolerance
    line_search_failed,   ///< no decrease along the search direction nor along steepest descent
    stopped_by_callback   ///< the iteration callback returned true
};

inline const char* to_string(LbfgsStatus s) {
    switch (s) {
        case LbfgsStatus::max_iterations: return "max_iterations";
        case LbfgsStatus::gradient_converged: return "gradient_converged";
        case LbfgsStatus::function_converged: return "function_converged";
        case LbfgsStatus::line_search_failed: return "line_search_failed";
        case LbfgsStatus::stopped_by_callback: return "stopped_by_callback";
    }
    return "unknown";
}

/// The outcome of minimize(): final value, accepted iterations, objective evaluations, status.
struct LbfgsResult {
    double value = 0.0;
    int iterations = 0;
    int evaluations = 0;
    LbfgsStatus status = LbfgsStatus::max_iterations;
};

namespace detail {

template <class T>
double lbfgs_dot(const T* a, const T* b, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return s;
}

/// Minimiser of the cubic through (a, fa, da) and (b, fb, db), or NaN when it has none.
inline double lbfgs_cubic_minimizer(double a, double fa, double da, double b, double fb, double db) {
    const double d1 = da + db - 3 * (fa - fb) / (a - b);
    const double disc = d1 * d1 - da * db;
    if (!(disc >= 0)) return std::nan("");
    const double d2 = (b > a ? 1.0 : -1.0) * std::sqrt(disc);
    const double den = db - da + 2 * d2;
    if (den == 0) return std::nan("");
    return b - (b - a) * (db + d2 - d1) / den;
}

}  // namespace detail

/// L-BFGS minimiser; see the file comment. Reusable: each minimize() starts with an empty history.
template <class T = double>
class Lbfgs {
public:
    using value_type = T;
    using size_type = std::size_t;

    explicit Lbfgs(LbfgsOptions options = {}) : opt_(std::move(options)) {}

    const LbfgsOptions& options() const noexcept { return opt_; }

    /// Minimises f from x (updated in place to the final point). `callback(iteration, value, x)`
    /// runs after every accepted iteration (x is the new point); returning true stops.
    /// @throws NumericalError when f is not finite at the starting point.
    template <class F, class Callback>
    LbfgsResult minimize(F&& f, T* x, size_type n, Callback&& callback) {
        Curvature hist(opt_.history(), n);
        std::vector<T> g(n), d(n), x_trial(n), g_trial(n);
        LbfgsResult res;
        double fx = f(static_cast<const T*>(x), g.data());
        res.evaluations = 1;
        if (!std::isfinite(fx))
            throw NumericalError(cfnet::detail::concat("Lbfgs::minimize: the objective is ", fx, " at the starting point"));
        res.value = fx;
        bool retried = false;
        for (int it = 1; it <= opt_.max_iterations(); ++it) {
            const double gnorm = std::sqrt(detail::lbfgs_dot(g.data(), g.data(), n));
            const double xnorm = std::sqrt(detail::lbfgs_dot(x, x, n));
            if (gnorm <= opt_.gradient_tolerance() * std::max(1.0, xnorm)) {
                res.status = LbfgsStatus::gradient_converged;
                return res;
            }
            double step0 = hist.direction(g, gnorm, d);
            double dphi0 = detail::lbfgs_dot(g.data(), d.data(), n);
            if (!(dphi0 < 0)) {  // not a descent direction (numerical trouble): steepest descent
                for (size_type i = 0; i < n; ++i) d[i] = -g[i];
                hist.count = 0;
                step0 = std::min(1.0, 1.0 / gnorm);
                dphi0 = -gnorm * gnorm;
            }
            double f_new = 0;
            const bool ok = line_search(f, x, fx, dphi0, step0, n, d, x_trial, g_trial, f_new, res.evaluations);
            if (!ok) {
                if (hist.count > 0 && !retried) {  // drop the curvature history, try steepest descent
                    hist.count = 0;
                    retried = true;
                    --it;
                    continue;
                }
                res.status = LbfgsStatus::line_search_failed;
                return res;
            }
            retried = false;
            hist.push(x_trial, x, g_trial, g);
            std::copy(x_trial.begin(), x_trial.end(), x);
            std::swap(g, g_trial);
            const double f_prev = fx;
            fx = f_new;
            res.value = fx;
            res.iterations = it;
            if (callback(it, fx, static_cast<const T*>(x))) {
                res.status = LbfgsStatus::stopped_by_callback;
                return res;
            }
            if (opt_.function_tolerance() > 0 &&
                std::abs(f_prev - fx) <= opt_.function_tolerance() * std::max({1.0, std::abs(f_prev), std::abs(fx)})) {
                res.status = LbfgsStatus::function_converged;
                return res;
            }
        }
        res.status = LbfgsStatus::max_iterations;
        return res;
    }

    /// minimize(f, x, n) without a callback.
    template <class F>
    LbfgsResult minimize(F&& f, T* x, size_type n) {
        return minimize(std::forward<F>(f), x, n, [](int, double, const T*) { return false; });
    }

private:
    /// The last m curvature pairs s = x_new - x, y = g_new - g (a ring buffer) and their rho = 1/(s.y).
    struct Curvature {
        size_type m, n;
        std::vector<std::vector<T>> s, y;
        std::vector<double> rho, alpha;
        size_type head = 0, count = 0;

        Curvature(size_type m_, size_type n_) : m(m_), n(n_), alpha(m_) {}

        /// d = -H g by the two-loop recursion (H: the inverse Hessian approximation of the pairs, scaled
        /// by gamma = s.y / y.y of the last; steepest descent when there are none). Returns the first
        /// trial step: 1, or min(1, 1 / |g|) without curvature.
        double direction(const std::vector<T>& g, double gnorm, std::vector<T>& d) {
            for (size_type i = 0; i < n; ++i) d[i] = -g[i];
            if (count == 0) return std::min(1.0, 1.0 / gnorm);
            for (size_type k = 0; k < count; ++k) {
                const size_type j = (head + m - 1 - k) % m;
                alpha[j] = rho[j] * detail::lbfgs_dot(s[j].data(), d.data(), n);
                const T a = static_cast<T>(alpha[j]);
                const T* yj = y[j].data();
                for (size_type i = 0; i < n; ++i) d[i] -= a * yj[i];
            }
            const size_type last = (head + m - 1) % m;
            const double gamma = 1.0 / (rho[last] * detail::lbfgs_dot(y[last].data(), y[last].data(), n));
            for (size_type i = 0; i < n; ++i) d[i] = static_cast<T>(gamma * static_cast<double>(d[i]));
            for (size_type k = count; k-- > 0;) {
                const size_type j = (head + m - 1 - k) % m;
                const double beta = rho[j] * detail::lbfgs_dot(y[j].data(), d.data(), n);
                const T c = static_cast<T>(alpha[j] - beta);
                const T* sj = s[j].data();
                for (size_type i = 0; i < n; ++i) d[i] += c * sj[i];
            }
            return 1.0;
        }

        /// Records the step from (x, g) to (x_new, g_new) when it has positive curvature.
        void push(const std::vector<T>& x_new, const T* x, const std::vector<T>& g_new, const std::vector<T>& g) {
            if (s.size() < m) {
                s.emplace_back(n);
                y.emplace_back(n);
                rho.push_back(0.0);
            }
            T* sh = s[head].data();
            T* yh = y[head].data();
            for (size_type i = 0; i < n; ++i) {
                sh[i] = x_new[i] - x[i];
                yh[i] = g_new[i] - g[i];
            }
            const double sy = detail::lbfgs_dot(sh, yh, n), yy = detail::lbfgs_dot(yh, yh, n);
            if (sy > 1e-10 * yy && yy > 0) {
                rho[head] = 1.0 / sy;
                head = (head + 1) % m;
                count = std::min(count + 1, m);
            }
        }
    };

    /// Strong-Wolfe line search along d from x (value f0, slope dphi0 < 0). On success x_t/g_t/f_t
    /// hold the accepted point. Returns false when no point with sufficient decrease was found.
    template <class F>
    bool line_search(F& f, const T* x, double f0, double dphi0, double step0, size_type n, const std::vector<T>& d,
                     std::vector<T>& x_t, std::vector<T>& g_t, double& f_t, int& evals) const {
        const double c1 = opt_.c1(), c2 = opt_.c2();
        const int max_evals = opt_.max_line_search();
        int used = 0;
        // best point with sufficient decrease seen so far (a fallback when no Wolfe point is found)
        double best_a = 0, best_f = f0;
        auto eval = [&](double a, double& fa, double& da) {
            const T ta = static_cast<T>(a);
            for (size_type i = 0; i < n; ++i) x_t[i] = x[i] + ta * d[i];
            fa = f(static_cast<const T*>(x_t.data()), g_t.data());
            ++evals;
            ++used;
            da = std::isfinite(fa) ? detail::lbfgs_dot(g_t.data(), d.data(), n) : 0.0;
            if (std::isfinite(fa) && fa <= f0 + c1 * a * dphi0 && fa < best_f) {
                best_f = fa;
                best_a = a;
            }
        };
        auto accept_best = [&]() {
            if (best_a == 0) return false;
            double fa, da;
            eval(best_a, fa, da);
            f_t = fa;
            return std::isfinite(fa);
        };
        auto zoom = [&](double lo, double f_lo, double d_lo, double hi, double f_hi, double d_hi, bool hi_finite) {
            while (used < max_evals) {
                double a = std::nan("");
                if (hi_finite) a = detail::lbfgs_cubic_minimizer(lo, f_lo, d_lo, hi, f_hi, d_hi);
                const double left = std::min(lo, hi), right = std::max(lo, hi), w = right - left;
                if (!std::isfinite(a) || a < left + 0.1 * w || a > right - 0.1 * w) a = 0.5 * (lo + hi);
                double fa, da;
                eval(a, fa, da);
                if (!std::isfinite(fa) || fa > f0 + c1 * a * dphi0 || fa >= f_lo) {
                    hi = a;
                    f_hi = fa;
                    d_hi = da;
                    hi_finite = std::isfinite(fa);
                } else {
                    if (std::abs(da) <= -c2 * dphi0) {
                        f_t = fa;
                        return true;
                    }
                    if (da * (hi - lo) >= 0) {
                        hi = lo;
                        f_hi = f_lo;
                        d_hi = d_lo;
                        hi_finite = true;
                    }
                    lo = a;
                    f_lo = fa;
                    d_lo = da;
                }
                if (std::abs(hi - lo) <= 1e-12 * std::max(1.0, std::abs(lo))) break;
            }
            return accept_best();
        };
        double a_prev = 0, f_prev = f0, d_prev = dphi0;
        double a = step0;
        for (int i = 1; used < max_evals; ++i) {
            double fa, da;
            eval(a, fa, da);
            if (!std::isfinite(fa) || fa > f0 + c1 * a * dphi0 || (i > 1 && fa >= f_prev))
                return zoom(a_prev, f_prev, d_prev, a, fa, da, std::isfinite(fa));
            if (std::abs(da) <= -c2 * dphi0) {
                f_t = fa;
                return true;
            }
            if (da >= 0) return zoom(a, fa, da, a_prev, f_prev, d_prev, true);
            a_prev = a;
            f_prev = fa;
            d_prev = da;
            a *= 2;
        }
        return accept_best();
    }

    LbfgsOptions opt_;
};

}  // namespace cfnet::optim
