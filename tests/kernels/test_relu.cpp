// kernels/relu.hpp: each kernel with dispatch on and off against a double reference; the training
// kernels (adds, selects, max) give the reference's bits in every version.
#include <cfnet/kernels/relu.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

using cfnet::Rng;
using namespace cfnet_test;

namespace {

double relu(double v) { return v > 0 ? v : 0; }

}  // namespace

TEST_CASE("bias_relu_rows, relu_grad_colsum, gather_add_bias_relu_rows: exact, in every version", "[kernels]") {
    Rng rng(31);
    for (const std::size_t w : {1, 8, 16, 37, 128})
        for (const std::size_t n : {0, 1, 5}) {
            const auto h0 = uniform(n * w, -1, 1, rng), b = uniform(w, -0.5, 0.5, rng), g = uniform(n * w, -1, 1, rng),
                       gb0 = uniform(w, -1, 1, rng), x = uniform(3 * w, -1, 1, rng), y = uniform(2 * w, -1, 1, rng);
            std::vector<std::uint32_t> xpos(n), ypos(n);
            for (std::size_t r = 0; r < n; ++r) xpos[r] = static_cast<std::uint32_t>(r % 3), ypos[r] = static_cast<std::uint32_t>((r + 1) % 2);
            std::vector<std::vector<float>> results;
            for (const bool fast : paths()) {
                Dispatch d(fast);
                auto h = h0, dgrad = std::vector<float>(n * w, -9.f), gb = gb0, hp = std::vector<float>(n * w, -9.f);
                cfnet::kernels::bias_relu_rows(b.data(), h.data(), n, w);
                cfnet::kernels::relu_grad_colsum(g.data(), h0.data(), dgrad.data(), n, w, gb.data());
                cfnet::kernels::gather_add_bias_relu_rows(x.data(), y.data(), xpos.data(), ypos.data(), b.data(),
                                                          hp.data(), n, w);
                INFO("fast " << fast << " w " << w << " n " << n);
                std::vector<double> gb_ref(gb0.begin(), gb0.end());
                for (std::size_t r = 0; r < n; ++r)
                    for (std::size_t k = 0; k < w; ++k) {
                        const std::size_t i = r * w + k;
                        CHECK(h[i] == static_cast<float>(relu(double(h0[i] + b[k]))));
                        const float dv = h0[i] > 0 ? g[i] : 0.f;
                        CHECK(dgrad[i] == dv);
                        gb_ref[k] += dv;
                        CHECK(hp[i] == static_cast<float>(relu(double((x[xpos[r] * w + k] + y[ypos[r] * w + k]) + b[k]))));
                    }
                for (std::size_t k = 0; k < w; ++k) CHECK(std::abs(gb[k] - gb_ref[k]) < 1e-5);
                std::vector<float> all = h;
                all.insert(all.end(), dgrad.begin(), dgrad.end());
                all.insert(all.end(), gb.begin(), gb.end());
                all.insert(all.end(), hp.begin(), hp.end());
                results.push_back(all);
            }
            for (const auto& r : results) CHECK(r == results.front());  // bit-identical versions
        }
}

TEST_CASE("broadcast_add_relu_rows and dot_rows equal double references", "[kernels]") {
    Rng rng(37);
    for (const bool fast : paths())
        for (const std::size_t w : {1, 16, 33, 64})
            for (const std::size_t n : {0, 1, 6}) {
                const auto x = uniform(w, -1, 1, rng), y = uniform(n * w, -1, 1, rng), b = uniform(w, -0.5, 0.5, rng),
                           wm = uniform(w, -1, 1, rng);
                std::vector<float> h(n * w + 1, -9.f), out(n, 1.f), out_nb(n, 2.f);
                {
                    Dispatch d(fast);
                    cfnet::kernels::broadcast_add_relu_rows(x.data(), y.data(), h.data(), n, w);
                    cfnet::kernels::dot_rows(y.data(), b.data(), wm.data(), out.data(), n, w);
                    cfnet::kernels::dot_rows<float>(y.data(), nullptr, wm.data(), out_nb.data(), n, w);
                }
                INFO("fast " << fast << " w " << w << " n " << n);
                for (std::size_t r = 0; r < n; ++r) {
                    double dot_b = 1, dot_nb = 2;
                    for (std::size_t k = 0; k < w; ++k) {
                        CHECK(h[r * w + k] == static_cast<float>(relu(double(x[k] + y[r * w + k]))));
                        dot_b += relu(double(y[r * w + k] + b[k])) * wm[k];
                        dot_nb += double(y[r * w + k]) * wm[k];
                    }
                    CHECK(std::abs(out[r] - dot_b) < 1e-5);
                    CHECK(std::abs(out_nb[r] - dot_nb) < 1e-5);
                }
                CHECK(h[n * w] == -9.f);
            }
}
