// kernels/relu.hpp: each kernel with dispatch on and off against a double reference; the training
// kernels (relu, relu_backward: selects and products; adds, selects, max) give the reference's bits
// in every version.
#include <cfnet/kernels/relu.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

using cfnet::Rng;
using namespace cfnet_test;

namespace {

double relu(double v) { return v > 0 ? v : 0; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("relu and relu_backward: the reference's bits in every version, NaN gradients stay NaN", "[kernels]") {
    Rng rng(41);
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (const std::size_t n : {0, 1, 7, 8, 15, 16, 17, 64, 100}) {
        auto y0 = uniform(n, -1, 1, rng);
        auto dy = uniform(n, -1, 1, rng);
        // special values where they fit: signed zeros, infinities, NaN in the input and in the gradient
        const float specials[] = {0.f, -0.f, inf, -inf, nan, 1e-40f, -1e-40f};
        for (std::size_t i = 0; i < n && i < 7; ++i) y0[(i * 5) % n] = specials[i];
        for (std::size_t i = 0; i < n; i += 3) dy[i] = nan;
        if (n > 1) dy[1] = inf;

        // the reference, in its own words: y > 0 ? y : 0; dz = dy * (y > 0 ? 1 : 0)
        std::vector<float> want_y(n), want_dz(n);
        for (std::size_t i = 0; i < n; ++i) {
            want_y[i] = y0[i] > 0.f ? y0[i] : 0.f;
            want_dz[i] = dy[i] * (want_y[i] > 0.f ? 1.f : 0.f);
        }
        for (const bool fast : paths()) {
            INFO("fast " << fast << " n " << n);
            Dispatch d(fast);
            auto y = y0;
            y.push_back(-5.f);  // a guard after the range
            cfnet::kernels::relu(y.data(), n);
            CHECK(y.back() == -5.f);
            y.pop_back();
            CHECK(same_bits(y, want_y));
            std::vector<float> dz(n + 1, -9.f);
            cfnet::kernels::relu_backward(y.data(), dy.data(), dz.data(), n);
            CHECK(dz[n] == -9.f);
            dz.pop_back();
            CHECK(same_bits(dz, want_dz));
            for (std::size_t i = 0; i < n; ++i)
                if (std::isnan(dy[i])) CHECK(std::isnan(dz[i]));  // active or not: NaN * 1 and NaN * 0
            for (std::size_t i = 0; i < n; ++i) CHECK_FALSE(std::isnan(y[i]));  // relu(NaN) = 0, as the reference
        }
        // double (the dispatched version): the same rule
        std::vector<double> yd(y0.begin(), y0.end()), dyd(dy.begin(), dy.end()), dzd(n);
        cfnet::kernels::relu(yd.data(), n);
        cfnet::kernels::relu_backward(yd.data(), dyd.data(), dzd.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(yd[i] == double(want_y[i]));
            CHECK((std::isnan(dzd[i]) ? std::isnan(want_dz[i]) : dzd[i] == double(want_dz[i])));
        }
    }
}

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
