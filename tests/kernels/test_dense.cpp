// kernels/dense.hpp: each kernel through its public function with dispatch on (the widest version
// the CPU runs) and off (the reference), against a double-precision reference of what it computes,
// for every column remainder (blocks of 64 and 16 columns), row-tile remainder and empty batches.
#include <cfnet/kernels/dense.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

using cfnet::Rng;
using namespace cfnet_test;

TEST_CASE("dense_bias_relu and dense_bias_relu_dot equal a double reference of max(x W + b, 0) and its dot with wm",
          "[kernels]") {
    Rng rng(11);
    for (const bool fast : paths())
        for (const std::size_t in : {1, 7, 128})
            for (const std::size_t width : {16, 48, 64, 80, 144, 13})
                for (std::size_t n = 1; n <= 33; n += n < 16 ? 1 : 16) {  // every tile split; 32 = 4 x 6 + 4 + 4
                    const auto x = uniform(n * in, 0, 1, rng), w = uniform(in * width, -1, 1, rng),
                               b = uniform(width, -0.5, 0.5, rng), wm = uniform(width, -1, 1, rng);
                    std::vector<float> out(n), h(n * width + 1, -1.f);
                    for (std::size_t r = 0; r < n; ++r) out[r] = static_cast<float>(r);
                    {
                        Dispatch d(fast);
                        std::vector<float> scratch(cfnet::kernels::dense_bias_relu_dot_scratch<float>(n, width),
                                                   std::numeric_limits<float>::quiet_NaN());
                        cfnet::kernels::dense_bias_relu_dot(x.data(), n, in, w.data(), width, b.data(), wm.data(),
                                                            out.data(), scratch.data());
                        cfnet::kernels::dense_bias_relu(x.data(), n, in, w.data(), width, b.data(), h.data());
                    }
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
                    INFO("fast " << fast << " in " << in << " width " << width << " rows " << n);
                    CHECK(worst_h <= 1e-6);
                    CHECK(worst_dot <= 1e-5);
                    CHECK(h[n * width] == -1.f);  // nothing written past n x width
                    if (in == 128) CHECK(zeros > 0);  // the ReLU was exercised
                }
}

TEST_CASE("dense_grad_adam equals a double reference of a^T dz and Adam", "[kernels]") {
    Rng rng(9);
    for (const bool fast : paths())
        for (const int mode : {0, 1, 2})
            for (const std::size_t in : {1, 5, 6, 13})
                for (const std::size_t out : {16, 64, 80, 144})
                    for (const std::size_t n : {0, 1, 7, 16, 32}) {
                        auto a = uniform(n * in, -1, 1, rng);
                        for (auto& e : a) e = std::max(e, 0.f);  // ReLU outputs: zeros included
                        const auto dz = uniform(n * out, -1, 1, rng), W0 = uniform(in * out, -1, 1, rng),
                                   m0 = uniform(in * out, -0.1, 0.1, rng), v0 = uniform(in * out, 0.01, 0.1, rng);
                        auto W = W0, m = m0, v = v0;
                        std::vector<float> scratch(out);
                        const Consts c = adam_constants(mode);
                        {
                            Dispatch d(fast);
                            cfnet::kernels::dense_grad_adam(a.data(), n, in, dz.data(), out, W.data(), m.data(),
                                                           v.data(), c, scratch.data());
                        }
                        INFO("fast " << fast << " mode " << mode << " in " << in << " out " << out << " n " << n);
                        std::vector<double> g(in * out, 0.0);
                        for (std::size_t r = 0; r < n; ++r)
                            for (std::size_t i = 0; i < in; ++i)
                                for (std::size_t j = 0; j < out; ++j)
                                    g[i * out + j] += double(a[r * in + i]) * dz[r * out + j];
                        check_adam(W, m, v, W0, m0, v0, g, c);
                    }
}

TEST_CASE("dense_input_grad equals a double reference of dz W^T", "[kernels]") {
    Rng rng(13);
    for (const bool fast : paths())
        for (const std::size_t out : {16, 64, 80})
            for (const std::size_t in : {1, 4, 7, 13, 20, 29})
                for (const std::size_t n : {0, 1, 4, 6, 13, 16, 17, 32, 33, 50}) {
                    const auto dz = uniform(n * out, -1, 1, rng), W = uniform(in * out, -1, 1, rng);
                    std::vector<float> c(n * in + 1, -9.f);
                    // scratch holding a NaN: the kernel must not read what it did not write
                    std::vector<float> scratch(cfnet::kernels::dense_input_grad_scratch(n, out, in),
                                               std::numeric_limits<float>::quiet_NaN());
                    {
                        Dispatch d(fast);
                        cfnet::kernels::dense_input_grad(dz.data(), n, out, W.data(), in, c.data(), scratch.data());
                    }
                    INFO("fast " << fast << " out " << out << " in " << in << " n " << n);
                    double worst = 0;
                    for (std::size_t r = 0; r < n; ++r)
                        for (std::size_t i = 0; i < in; ++i) {
                            double ref = 0, mag = 0;
                            for (std::size_t k = 0; k < out; ++k) {
                                ref += double(dz[r * out + k]) * W[i * out + k];
                                mag += std::abs(double(dz[r * out + k]) * W[i * out + k]);
                            }
                            worst = std::max(worst, std::abs(c[r * in + i] - ref) / mag);
                        }
                    CHECK(worst <= 1e-6);
                    CHECK(c[n * in] == -9.f);  // nothing written past n x in
                }
}

TEST_CASE("transpose transposes every block size and writes nothing else", "[kernels]") {
    for (const bool fast : paths())
    for (const std::size_t rows : {0, 1, 5, 15, 16, 17, 32, 33})
        for (const std::size_t cols : {1, 7, 16, 20, 48}) {
            const std::size_t lds = cols + 3, ldd = rows + 5;  // strides wider than the block
            std::vector<float> s(rows * lds), d(cols * ldd + 1, -1.f);
            for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(i);
            {
                Dispatch on(fast);
                cfnet::kernels::transpose(s.data(), rows, cols, lds, d.data(), ldd);
            }
            INFO("fast " << fast << " rows " << rows << " cols " << cols);
            std::size_t wrong = 0, touched = 0;
            for (std::size_t c = 0; c < cols; ++c)
                for (std::size_t r = 0; r < ldd; ++r) {
                    if (r < rows) wrong += d[c * ldd + r] != s[r * lds + c];
                    else touched += d[c * ldd + r] != -1.f;
                }
            CHECK(wrong == 0);
            CHECK(touched == 0);
            CHECK(d[cols * ldd] == -1.f);
        }
}
