#include <cfnet/kernels/tanh.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

using cfnet::kernels::simd_dispatch_enabled;
using cfnet::kernels::tanh_inplace;
using cfnet::kernels::tanh_value;

TEST_CASE("tanh_value (float) is within 1e-6 relative of std::tanh in double over [-12, 12]", "[kernels][tanh]") {
    double worst = 0, worst_at = 0;
    for (int i = -1200000; i <= 1200000; ++i) {
        const float x = static_cast<float>(i) * 1e-5f;
        const double want = std::tanh(static_cast<double>(x));
        const double got = tanh_value(x);
        const double rel = want == 0 ? std::abs(got) : std::abs(got - want) / std::abs(want);
        if (rel > worst) { worst = rel; worst_at = x; }
    }
    INFO("worst relative error " << worst << " at x = " << worst_at);
    CHECK(worst < 1e-6);
    // odd, saturates, special values
    CHECK(tanh_value(0.f) == 0.f);
    CHECK(tanh_value(-0.3f) == -tanh_value(0.3f));
    CHECK(tanh_value(20.f) == 1.f);
    CHECK(tanh_value(-1e30f) == -1.f);
    CHECK(tanh_value(std::numeric_limits<float>::infinity()) == 1.f);
    CHECK(std::isnan(tanh_value(std::numeric_limits<float>::quiet_NaN())));
    CHECK(tanh_value(1e-30f) == 1e-30f);
    // double is std::tanh exactly
    CHECK(tanh_value(0.7) == std::tanh(0.7));
}

TEST_CASE("tanh_inplace: every version gives tanh_value's bits, every remainder", "[kernels][tanh]") {
    for (bool dispatch : {true, false}) {
        simd_dispatch_enabled() = dispatch;
        for (std::size_t n : {0u, 1u, 7u, 15u, 16u, 17u, 33u, 100u, 1003u}) {
            std::vector<float> y(n), x(n);
            for (std::size_t i = 0; i < n; ++i) x[i] = y[i] = static_cast<float>((static_cast<double>(i) * 0.37) - 12.0);
            if (n > 3) y[3] = x[3] = std::numeric_limits<float>::quiet_NaN();
            tanh_inplace(y.data(), n);
            bool same = true;
            for (std::size_t i = 0; i < n; ++i) {
                const float w = tanh_value(x[i]);
                same = same && (std::isnan(w) ? std::isnan(y[i]) : y[i] == w);
            }
            INFO("dispatch " << dispatch << ", n = " << n);
            CHECK(same);
        }
        std::vector<double> d{-1.5, 0.2, 3.0};
        tanh_inplace(d.data(), d.size());
        CHECK(d[0] == std::tanh(-1.5));
        CHECK(d[2] == std::tanh(3.0));
    }
    simd_dispatch_enabled() = true;
}
