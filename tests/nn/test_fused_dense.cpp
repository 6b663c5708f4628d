// detail/fused_dense.hpp: the AVX-512 fused Dense kernels against a double-precision reference of
// the GEMM + bias + ReLU (+ dot) they replace, for every row remainder (tiles of 6 rows) and column
// remainder (panels of 64 and 16 columns).
#include <cfnet/detail/fused_dense.hpp>
#include <cfnet/detail/rng.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

TEST_CASE("fused Dense kernels equal a double reference of max(x W + b, 0) and its dot with wm", "[fused_dense]") {
    CHECK_FALSE(cfnet::detail::fused_dense_ok<double>(16));
    CHECK_FALSE(cfnet::detail::fused_dense_ok<float>(24));
    if (!cfnet::detail::fused_dense_ok<float>(16)) {
        WARN("no AVX-512 on this CPU (or no SIMD dispatch): the fused kernels are not used here");
        return;
    }
#ifdef CFNET_SIMD_DISPATCH
    cfnet::Rng rng(11);
    for (const std::size_t in : {1, 7, 128})
        for (const std::size_t width : {16, 48, 64, 80, 144})
            for (std::size_t n = 1; n <= 33; n += n < 16 ? 1 : 16) {  // every tile split; 32 = 4 x 6 + 4 + 4
                std::vector<float> x(n * in), w(in * width), b(width), wm(width), out(n);
                for (auto& v : x) v = static_cast<float>(rng.uniform(0, 1));
                for (auto& v : w) v = static_cast<float>(rng.uniform(-1, 1));
                for (auto& v : b) v = static_cast<float>(rng.uniform(-0.5, 0.5));
                for (auto& v : wm) v = static_cast<float>(rng.uniform(-1, 1));
                for (std::size_t r = 0; r < n; ++r) out[r] = static_cast<float>(r);
                std::vector<float> h(n * width, -1.f);
                cfnet::detail::dense_relu_dot_avx512(x.data(), n, in, w.data(), width, b.data(), wm.data(), out.data());
                cfnet::detail::dense_relu_store_avx512(x.data(), n, in, w.data(), width, b.data(), h.data());
                double worst_h = 0, worst_dot = 0;  // errors relative to the sum of magnitudes
                std::size_t zeros = 0;
                for (std::size_t r = 0; r < n; ++r) {
                    double ref = double(r), scale = 1;
                    for (std::size_t j = 0; j < width; ++j) {
                        double a = b[j], mag = std::abs(b[j]);
                        for (std::size_t k = 0; k < in; ++k) {
                            a += double(x[r * in + k]) * w[k * width + j];
                            mag += std::abs(double(x[r * in + k]) * w[k * width + j]);
                        }
                        const double relu = std::max(a, 0.0);
                        zeros += relu == 0;
                        worst_h = std::max(worst_h, std::abs(h[r * width + j] - relu) / mag);
                        ref += relu * wm[j];
                        scale += std::abs(relu * wm[j]);
                    }
                    worst_dot = std::max(worst_dot, std::abs(out[r] - ref) / scale);
                }
                INFO("in " << in << " width " << width << " rows " << n);
                CHECK(worst_h <= 1e-6);
                CHECK(worst_dot <= 1e-5);
                if (in == 128) CHECK(zeros > 0);  // the ReLU was exercised
            }
#endif
}
