// models/neural_cf/network.hpp: NeuralCF's network through the model: a gradient check of the whole
// loss in double for every architecture and feedback (forward and backward), the Dense layers'
// fan_in_uniform initialisation, and scoring through the fused AVX-512 Dense kernels against the
// plain path and pairwise predict.
#include <cfnet/models/neural_cf/model.hpp>
#include <cfnet/models/neural_cf/network.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include "support/neural_cf.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using cfnet::index_type;
using cfnet_test::low_rank;
using cfnet_test::small_options;

TEST_CASE("NeuralCF: whole-model gradient check per architecture (double)", "[neural_cf][gradcheck]") {
    using A = cfnet::NcfArchitecture;
    using F = cfnet::Feedback;
    struct Case {
        A arch;
        F fb;
    };
    const Case cases[] = {{A::mlp, F::ratings}, {A::gmf, F::ratings}, {A::neumf, F::ratings}, {A::neumf, F::implicit},
                          {A::mlp, F::implicit}};
    for (const auto& c : cases) {
        cfnet::NeuralCFOptions o;
        o.architecture = c.arch;
        o.feedback = c.fb;
        o.embedding_dim = 3;
        o.hidden = {5, 4};
        o.bias_terms = true;
        o.l2 = 0.1;
        o.dense_l2 = 0.05;
        o.seed = 3;
        cfnet::NeuralCF<double> m(o);
        m.initialize(4, 6);
        // Larger weights than the default init so that every path has a visible gradient.
        cfnet::Rng rng(11);
        for (auto* p : m.parameters())
            for (auto& v : p->value) v = rng.uniform(-0.8, 0.8);
        const std::vector<index_type> users{0, 1, 2, 3, 1, 0, 2};  // repeats accumulate
        const std::vector<index_type> items{0, 5, 2, 2, 1, 0, 4};
        std::vector<double> targets{4, 2, 5, 1, 3, 4, 2};
        if (c.fb == F::implicit) targets = {1, 0, 1, 0, 0, 1, 0};
        const auto n = users.size();
        m.compute_gradients(users.data(), items.data(), targets.data(), n);
        auto loss = [&] { return m.compute_loss(users.data(), items.data(), targets.data(), n); };
        cfnet::testing::GradCheckOptions go;
        go.tolerance = 1e-6;
        for (auto* p : m.parameters()) {
            const cfnet::Matrix<double> g = p->grad;
            const auto r = cfnet::testing::check_gradient(loss, p->value.data(), g.data(), p->size(), p->name, go);
            INFO(cfnet::to_string(c.arch) << " " << cfnet::to_string(c.fb) << ": " << r.log);
            CHECK(r);
        }
        // the embedding rows of users/items absent from the batch get no gradient (bar none here: item 3)
        const auto params = m.parameters();
        const auto& item_table = *params[1];
        for (std::size_t j = 0; j < item_table.cols(); ++j) CHECK(item_table.grad(3, j) == 0.0);
    }
}

TEST_CASE("NeuralCF network: fan_in_uniform Dense init stays within 1/sqrt(fan_in), biases included", "[neural_cf]") {
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.dense_init = cfnet::DenseInit::fan_in_uniform;
    cfnet::NeuralCF<float> m(o);
    m.initialize(10, 12);
    const auto named = m.named_tensors();
    bool saw_nonzero_bias = false;
    for (const auto& t : named) {
        // dense0: fan_in 2*8, dense1: 16, output: 8 (gmf) + 8 (mlp)
        double fan_in = 0;
        if (t.name.rfind("dense0.", 0) == 0) fan_in = 16;
        else if (t.name.rfind("dense1.", 0) == 0) fan_in = 16;
        else if (t.name.rfind("output.", 0) == 0) fan_in = 16;
        else continue;
        const double b = 1.0 / std::sqrt(fan_in);
        double mx = 0;
        for (const auto v : *t.tensor) mx = std::max(mx, std::abs(static_cast<double>(v)));
        CHECK(mx <= b);
        if (t.name.find("bias") != std::string::npos && mx > 0) saw_nonzero_bias = true;
        if (t.name == "dense0.weight") CHECK(mx > 0.8 * b);  // 256 draws fill the range
    }
    CHECK(saw_nonzero_bias);
}

TEST_CASE("NeuralCF: scoring through the fused Dense kernels equals the GEMM path and predict", "[neural_cf]") {
    // kernels/dense.hpp's kernels themselves are checked in tests/kernels/test_dense.cpp.
    if (!cfnet::kernels::avx512_tiles<float>(16)) {
        WARN("no AVX-512 on this CPU: the fused kernels are not used, nothing to compare");
        return;
    }
    // Through the model: score_items with the kernel == without it, and == predict
    const auto all = low_rank<float>(40, 30, 0.4, 8);
    auto o = small_options(cfnet::NcfArchitecture::neumf);
    o.hidden = {32, 16};
    cfnet::NeuralCF<float> m(o);
    m.fit(all);
    for (index_type u = 0; u < 5; ++u) {
        const auto fused = m.score_items(u);
        cfnet::kernels::simd_dispatch_enabled() = false;
        const auto plain = m.score_items(u);
        cfnet::kernels::simd_dispatch_enabled() = true;
        for (index_type i = 0; i < all.n_items(); ++i) {
            CHECK(fused[i] == Approx(plain[i]).epsilon(1e-5));
            CHECK(fused[i] == m.predict(u, i));
        }
    }
}
