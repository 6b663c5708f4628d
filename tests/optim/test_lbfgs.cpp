// L-BFGS: Rosenbrock, quadratics with a known exact minimiser, the callback, non-finite regions,
// option validation.
#include <cfnet/optim/lbfgs.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

using cfnet::optim::Lbfgs;
using cfnet::optim::LbfgsOptions;
using cfnet::optim::LbfgsStatus;

namespace {

// Extended Rosenbrock: sum over pairs of 100 (x_{2k+1} - x_{2k}^2)^2 + (1 - x_{2k})^2.
template <class T>
double rosenbrock(const T* x, T* g, std::size_t n) {
    double f = 0;
    for (std::size_t k = 0; k + 1 < n; k += 2) {
        const double a = x[k], b = x[k + 1];
        const double t = b - a * a, u = 1 - a;
        f += 100 * t * t + u * u;
        g[k] = static_cast<T>(-400 * t * a - 2 * u);
        g[k + 1] = static_cast<T>(200 * t);
    }
    return f;
}

// Solves A x = b by Gaussian elimination with partial pivoting (the naive reference).
std::vector<double> solve(std::vector<double> a, std::vector<double> b, std::size_t n) {
    for (std::size_t c = 0; c < n; ++c) {
        std::size_t p = c;
        for (std::size_t r = c + 1; r < n; ++r)
            if (std::abs(a[r * n + c]) > std::abs(a[p * n + c])) p = r;
        for (std::size_t k = 0; k < n; ++k) std::swap(a[c * n + k], a[p * n + k]);
        std::swap(b[c], b[p]);
        for (std::size_t r = c + 1; r < n; ++r) {
            const double m = a[r * n + c] / a[c * n + c];
            for (std::size_t k = c; k < n; ++k) a[r * n + k] -= m * a[c * n + k];
            b[r] -= m * b[c];
        }
    }
    std::vector<double> x(n);
    for (std::size_t r = n; r-- > 0;) {
        double s = b[r];
        for (std::size_t k = r + 1; k < n; ++k) s -= a[r * n + k] * x[k];
        x[r] = s / a[r * n + r];
    }
    return x;
}

}  // namespace

TEST_CASE("Lbfgs: Rosenbrock from (-1.2, 1) and a 10-dimensional extended Rosenbrock", "[lbfgs]") {
    Lbfgs<double> solver(LbfgsOptions().max_iterations(200).gradient_tolerance(1e-10));
    std::vector<double> x{-1.2, 1.0};
    const auto r = solver.minimize([](const double* p, double* g) { return rosenbrock(p, g, 2); }, x.data(), 2);
    CHECK(r.status == LbfgsStatus::gradient_converged);
    CHECK(x[0] == Approx(1.0).margin(1e-8));
    CHECK(x[1] == Approx(1.0).margin(1e-8));
    CHECK(r.value < 1e-16);
    CHECK(r.iterations < 60);
    CHECK(r.evaluations >= r.iterations);

    std::vector<double> y(10);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = i % 2 ? 1.0 : -1.2;
    const auto r10 = solver.minimize([](const double* p, double* g) { return rosenbrock(p, g, 10); }, y.data(), 10);
    CHECK(r10.status == LbfgsStatus::gradient_converged);
    for (const double v : y) CHECK(v == Approx(1.0).margin(1e-7));

    // float vectors (inner products in double) get close too
    Lbfgs<float> fs(LbfgsOptions().max_iterations(200).gradient_tolerance(1e-4));
    std::vector<float> z{-1.2f, 1.0f};
    fs.minimize([](const float* p, float* g) { return rosenbrock(p, g, 2); }, z.data(), 2);
    CHECK(z[0] == Approx(1.0).margin(2e-3));
    CHECK(z[1] == Approx(1.0).margin(4e-3));
}

TEST_CASE("Lbfgs: a convex quadratic reaches the exact minimiser A^-1 b", "[lbfgs]") {
    // f = 1/2 x'Ax - b'x with A = M'M + I (SPD), n = 12
    const std::size_t n = 12;
    std::vector<double> mtx(n * n), a(n * n), b(n);
    for (std::size_t i = 0; i < n * n; ++i) mtx[i] = std::sin(1.0 + 0.37 * static_cast<double>(i));
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = std::cos(0.5 * static_cast<double>(i)) * 3;
        for (std::size_t j = 0; j < n; ++j) {
            double s = i == j ? 1.0 : 0.0;
            for (std::size_t k = 0; k < n; ++k) s += mtx[k * n + i] * mtx[k * n + j];
            a[i * n + j] = s;
        }
    }
    const auto exact = solve(a, b, n);
    auto f = [&](const double* x, double* g) {
        double v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            double ax = 0;
            for (std::size_t j = 0; j < n; ++j) ax += a[i * n + j] * x[j];
            g[i] = ax - b[i];
            v += 0.5 * x[i] * ax - b[i] * x[i];
        }
        return v;
    };
    Lbfgs<double> solver(LbfgsOptions().history(20).gradient_tolerance(1e-7).max_iterations(500));
    std::vector<double> x(n, 0.0);
    const auto r = solver.minimize(f, x.data(), n);
    CHECK(r.status == LbfgsStatus::gradient_converged);
    for (std::size_t i = 0; i < n; ++i) CHECK(x[i] == Approx(exact[i]).margin(1e-7));
    CHECK(r.iterations <= static_cast<int>(4 * n));

    // one dimension: the cubic interpolation of a quadratic is exact, so (x - 3)^2 from 0 is
    // minimised to rounding in a couple of iterations
    std::vector<double> y{0.0};
    const auto r1 = solver.minimize(
        [](const double* p, double* g) {
            g[0] = 2 * (p[0] - 3);
            return (p[0] - 3) * (p[0] - 3);
        },
        y.data(), 1);
    CHECK(y[0] == Approx(3.0).margin(1e-12));
    CHECK(r1.iterations <= 3);
}

TEST_CASE("Lbfgs: callback, non-finite trial points, stopping rules, errors", "[lbfgs]") {
    auto quad = [](const double* p, double* g) {
        g[0] = 2 * (p[0] - 1);
        g[1] = 20 * (p[1] + 2);
        return (p[0] - 1) * (p[0] - 1) + 10 * (p[1] + 2) * (p[1] + 2);
    };
    SECTION("the callback sees each iteration and can stop") {
        Lbfgs<double> solver(LbfgsOptions().max_iterations(50).gradient_tolerance(0));
        std::vector<double> x{5, 5};
        std::vector<double> values;
        const auto r = solver.minimize(quad, x.data(), 2, [&](int it, double v, const double* p) {
            values.push_back(v);
            CHECK(it == static_cast<int>(values.size()));
            double g[2];
            CHECK(quad(p, g) == v);  // x passed is the accepted point
            return it == 2;
        });
        CHECK(r.status == LbfgsStatus::stopped_by_callback);
        CHECK(r.iterations == 2);
        REQUIRE(values.size() == 2);
        CHECK(values[1] <= values[0]);
        CHECK(r.value == values[1]);
    }
    SECTION("max_iterations and function_tolerance") {
        std::vector<double> x{5, 5};
        const auto r = Lbfgs<double>(LbfgsOptions().max_iterations(1).gradient_tolerance(0)).minimize(quad, x.data(), 2);
        CHECK(r.status == LbfgsStatus::max_iterations);
        CHECK(r.iterations == 1);
        std::vector<double> y{5, 5};
        const auto rf = Lbfgs<double>(LbfgsOptions().gradient_tolerance(0).function_tolerance(1e-3)).minimize(quad, y.data(), 2);
        CHECK(rf.status == LbfgsStatus::function_converged);
    }
    SECTION("an infinite objective beyond a wall shrinks the step") {
        // sum (x_i - 1)^4, +inf where any x_i > 1.3; from 0
        auto walled = [](const double* p, double* g) {
            double v = 0;
            for (int i = 0; i < 3; ++i) {
                if (p[i] > 1.3) return std::numeric_limits<double>::infinity();
                const double t = p[i] - 1;
                v += t * t * t * t;
                g[i] = 4 * t * t * t;
            }
            return v;
        };
        std::vector<double> x{0, 0.5, -2};
        const auto r = Lbfgs<double>(LbfgsOptions().max_iterations(200).gradient_tolerance(1e-9)).minimize(walled, x.data(), 3);
        CHECK(std::isfinite(r.value));
        for (const double v : x) CHECK(v == Approx(1.0).margin(2e-2));
    }
    SECTION("errors") {
        std::vector<double> x{0, 0};
        auto bad = [](const double*, double* g) {
            g[0] = g[1] = 0;
            return std::nan("");
        };
        CHECK_THROWS_AS(Lbfgs<double>().minimize(bad, x.data(), 2), cfnet::NumericalError);
        CHECK_THROWS_AS(LbfgsOptions().history(0), cfnet::InvalidArgument);
        CHECK_THROWS_AS(LbfgsOptions().wolfe(0.5, 0.1), cfnet::InvalidArgument);
        CHECK_THROWS_AS(LbfgsOptions().max_iterations(0), cfnet::InvalidArgument);
        CHECK(std::string(cfnet::optim::to_string(LbfgsStatus::line_search_failed)) == "line_search_failed");
    }
}
