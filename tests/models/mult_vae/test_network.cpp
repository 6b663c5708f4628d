#include <cfnet/models/mult_vae/network.hpp>

#include <catch2/catch.hpp>

#include "support/nn.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

using cfnet::MultVAEOptions;
using cfnet::detail::MultVAENet;

namespace {

cfnet::nn::SparseBatch<float> rows(std::size_t n, std::size_t items, cfnet::Rng& rng, bool normalized) {
    cfnet::nn::SparseBatch<float> b(items);
    std::vector<cfnet::nn::index_type> idx;
    std::vector<float> val;
    for (std::size_t r = 0; r < n; ++r) {
        idx.clear();
        for (std::size_t i = 0; i < items; ++i)
            if (rng.uniform() < 0.1) idx.push_back(static_cast<cfnet::nn::index_type>(i));
        val.assign(idx.size(), normalized && !idx.empty() ? 1.f / std::sqrt(float(idx.size())) : 1.f);
        b.add_row(idx, val);
    }
    return b;
}

}  // namespace

TEST_CASE("MultVAENet: the fused Adam step equals backward + Adam::step (VAE and DAE)", "[mult_vae][network]") {
    for (bool variational : {true, false}) {
        INFO((variational ? "VAE" : "DAE"));
        MultVAEOptions o = variational ? MultVAEOptions::vae() : MultVAEOptions::dae();
        o.hidden_sizes({48}).latent_dim(16).l2(0.003);
        const std::size_t items = 150;
        cfnet::Rng rng(3), data_rng(4);
        MultVAENet<float> a(items, o, rng);
        MultVAENet<float> b(a);
        const auto opt = cfnet::optim::AdamOptions().lr(1e-2).epsilon(1e-8).weight_decay(2 * o.weight_decay);
        cfnet::optim::Adam<float> adam_a(a.parameters(), opt);
        cfnet::optim::Adam<float> adam_b(b.parameters(), cfnet::optim::AdamOptions().lr(1e-2).epsilon(1e-8));
        for (int step = 0; step < 3; ++step) {
            const auto target = rows(20, items, data_rng, false), input = rows(20, items, data_rng, true);
            cfnet::Rng na(9 + step), nb(9 + step);
            const auto la = a.step(input, target, 0.2, &na, &adam_a, o.weight_decay);
            adam_b.zero_grad();
            const auto lb = b.step(input, target, 0.2, &nb, nullptr, o.weight_decay);  // penalty in grad
            adam_b.step();
            CHECK(la.total == Approx(lb.total).epsilon(1e-5));
            CHECK(la.nll == Approx(lb.nll).epsilon(1e-5));
        }
        const auto pa = a.parameters(), pb = b.parameters();
        REQUIRE(pa.size() == pb.size());
        for (std::size_t s = 0; s < pa.size(); ++s) {
            INFO(pa[s]->name);
            CHECK(cfnet_test::max_rel_diff(pa[s]->value, pb[s]->value) < 1e-4);
        }
    }
}

TEST_CASE("MultVAENet: parameter names and shapes", "[mult_vae][network]") {
    cfnet::Rng rng(1);
    MultVAENet<float> vae(30, MultVAEOptions::vae().hidden_sizes({12}).latent_dim(4), rng);
    const auto p = vae.parameters();
    REQUIRE(p.size() == 8);
    CHECK(p[0]->name == "encoder.0.weight");
    CHECK(p[2]->value.shape(1) == 8);  // [mu | logvar]
    CHECK(p[4]->name == "decoder.0.weight");
    CHECK(p[7]->name == "decoder.1.bias");
    for (std::size_t s = 1; s < p.size(); s += 2)
        for (float b : p[s]->value) CHECK(std::abs(b) <= 0.002f);  // N(0, 0.001^2) truncated at 2 sd
    MultVAENet<float> dae(30, MultVAEOptions::dae().hidden_sizes({}).latent_dim(5), rng);  // I -> 5 -> I
    const auto q = dae.parameters();
    REQUIRE(q.size() == 4);
    CHECK(q[0]->value.shape(1) == 5);
    CHECK(q[2]->value.shape(0) == 5);
}

TEST_CASE("MultVAENet: step_with_noise with step's draws gives step's loss and gradients bit for bit",
          "[mult_vae][network]") {
    MultVAEOptions o = MultVAEOptions::vae().hidden_sizes({24}).latent_dim(6).l2(0.002);
    const std::size_t items = 80, n = 12;
    cfnet::Rng rng(5), data_rng(6);
    MultVAENet<float> a(items, o, rng);
    MultVAENet<float> b(a);
    const auto target = rows(n, items, data_rng, false), input = rows(n, items, data_rng, true);
    cfnet::Rng na(21), draws(21);
    auto eps = cfnet::Matrix<float>::from_shape({n, o.latent});
    for (auto& e : eps) e = static_cast<float>(draws.normal());  // step draws row by row, as here
    for (auto* p : a.parameters()) p->zero_grad();
    for (auto* p : b.parameters()) p->zero_grad();
    const auto la = a.step(input, target, 0.15, &na, nullptr, o.weight_decay);
    const auto lb = b.step_with_noise(input, target, 0.15, &eps, nullptr, o.weight_decay);
    CHECK(la.total == lb.total);
    CHECK(la.kl == lb.kl);
    const auto pa = a.parameters(), pb = b.parameters();
    for (std::size_t s = 0; s < pa.size(); ++s) {
        INFO(pa[s]->name);
        CHECK(static_cast<bool>(pa[s]->grad == pb[s]->grad));
    }
    // other noise, other loss; eps of the wrong shape is refused
    for (auto& e : eps) e = -e;
    CHECK(b.step_with_noise(input, target, 0.15, &eps, nullptr, o.weight_decay).nll != la.nll);
    const auto wrong = cfnet::Matrix<float>::from_shape({n + 1, o.latent});
    CHECK_THROWS_WITH(b.step_with_noise(input, target, 0.15, &wrong, nullptr, 0.0), Catch::Contains("eps is"));
}
