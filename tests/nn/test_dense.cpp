// nn/dense.hpp: Dense against a naive reference and a hand-computed case, gradient checks in double
// (both layouts, with and without bias, fused activations), the fused activation against the affine
// layer followed by the Activation layer, infer against forward, the no-copy input, and the fused
// Adam path (RowUpdate) against zero_grad + backward + Adam::step on a copy.
#include <cfnet/nn/dense.hpp>

#include <catch2/catch.hpp>
#include <support/nn.hpp>

#include <cfnet/nn/activation.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

using cfnet::Matrix;
using cfnet::Rng;
using cfnet::nn::ActivationKind;
using cfnet::nn::Dense;
using cfnet::nn::WeightLayout;
using cfnet::testing::check_layer;

using namespace cfnet_test;

namespace {

/// The naive reference: y = x W + b, W taken through weight_at (layout independent).
template <class T>
Matrix<T> naive_forward(const Dense<T>& layer, const Matrix<T>& x) {
    const std::size_t n = x.shape(0), in = layer.in_features(), out = layer.out_features();
    Matrix<T> y = xt::zeros<T>({n, out});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t o = 0; o < out; ++o) {
            double s = layer.has_bias() ? layer.bias().value(0, o) : 0.0;
            for (std::size_t i = 0; i < in; ++i) s += double(x(r, i)) * double(layer.weight_at(i, o));
            y(r, o) = static_cast<T>(s);
        }
    return y;
}

const WeightLayout layouts[] = {WeightLayout::in_out, WeightLayout::out_in};

std::string name(WeightLayout l) { return l == WeightLayout::in_out ? "in_out" : "out_in"; }

}  // namespace

static_assert(cfnet::nn::is_layer_v<Dense<float>>);

TEST_CASE("Dense forward and backward on a hand-computed case", "[dense]") {
    for (const auto layout : layouts) {
        INFO(name(layout));
        Rng rng(1);
        Dense<double> d(3, 2, rng, cfnet::nn::init::zeros(), true, layout);
        // W = [[1, 2], [0, -1], [3, 1]], b = [0.5, -0.5]
        const double w[3][2] = {{1, 2}, {0, -1}, {3, 1}};
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t o = 0; o < 2; ++o) d.weight_at(i, o) = w[i][o];
        d.bias().value = Matrix<double>{{0.5, -0.5}};
        const Matrix<double> x = {{1, 2, 3}, {-1, 0, 1}};
        const Matrix<double> y = d.forward(x);
        CHECK((y == Matrix<double>{{10.5, 2.5}, {2.5, -1.5}}));
        const Matrix<double> dy = {{1, 0}, {0, 2}};
        const Matrix<double> dx = d.backward(dy);
        // dx = dy W^T
        CHECK((dx == Matrix<double>{{1, 0, 3}, {4, -2, 2}}));
        // dW = x^T dy (logical in x out), db = column sums
        const double dw[3][2] = {{1, -2}, {2, 0}, {3, 2}};
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t o = 0; o < 2; ++o) {
                const double g = layout == WeightLayout::in_out ? d.weight().grad(i, o) : d.weight().grad(o, i);
                CHECK(g == dw[i][o]);
            }
        CHECK((d.bias().grad == Matrix<double>{{1, 2}}));
        // gradients accumulate
        d.forward(x);
        d.backward(dy);
        CHECK((d.bias().grad == Matrix<double>{{2, 4}}));
    }
}

TEST_CASE("Dense parameters, shapes and initialisation per layout", "[dense]") {
    Rng r1(5), r2(5);
    Dense<float> a(4, 3, r1, cfnet::nn::init::glorot_uniform(), true, WeightLayout::in_out);
    Dense<float> b(4, 3, r2, cfnet::nn::init::glorot_uniform(), true, WeightLayout::out_in);
    CHECK(a.weight().rows() == 4);
    CHECK(b.weight().rows() == 3);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t o = 0; o < 3; ++o) CHECK(a.weight_at(i, o) == b.weight_at(i, o));
    const auto p = a.parameters();
    REQUIRE(p.size() == 2);
    CHECK(p[0]->name == "weight");
    CHECK(p[1]->name == "bias");
    CHECK((p[1]->value == xt::zeros<float>({1, 3})));
    Rng r3(5);
    Dense<float> c(4, 3, r3, cfnet::nn::init::glorot_uniform(), false);
    CHECK(c.parameters().size() == 1);
    CHECK_THROWS_AS(c.bias(), cfnet::InvalidArgument);
}

TEST_CASE("Dense dense path agrees with the naive reference (float)", "[dense]") {
    Rng rng(2);
    for (const auto layout : layouts) {
        INFO(name(layout));
        Dense<float> d(37, 19, rng, cfnet::nn::init::glorot_uniform(), true, layout);
        d.bias().value = random_matrix<float>(1, 19, rng);
        const auto x = random_matrix<float>(5, 37, rng);
        CHECK(max_rel_diff(d.forward(x), naive_forward(d, x)) < 1e-5);
    }
}

TEST_CASE("Dense gradcheck (double), both layouts, with and without bias", "[dense][gradcheck]") {
    for (const auto layout : layouts) {
        for (const bool bias : {true, false}) {
            INFO(name(layout) << " bias " << bias);
            Rng rng(3);
            Dense<double> d(5, 4, rng, cfnet::nn::init::glorot_uniform(), bias, layout);
            if (bias) d.bias().value = random_matrix<double>(1, 4, rng);
            const auto r = check_layer(d, random_matrix<double>(3, 5, rng));
            INFO(r.log);
            CHECK(r);
            CHECK(r.rel_error < 1e-6);
        }
    }
}

namespace {

const ActivationKind all_kinds[] = {ActivationKind::relu,     ActivationKind::sigmoid, ActivationKind::tanh,
                                    ActivationKind::identity, ActivationKind::elu,     ActivationKind::selu};

/// x through nn's Activation layer of kind k (the reference for Dense's fused activation).
template <class T>
Matrix<T> activation_layer(ActivationKind k, const Matrix<T>& z) {
    Matrix<T> out;
    cfnet::nn::with_activation(k, [&](auto fn) {
        cfnet::nn::Activation<T, decltype(fn)> layer(fn);
        out = layer.forward(z);
    });
    return out;
}

/// dy through nn's Activation layer of kind k after its forward(z).
template <class T>
Matrix<T> activation_layer_backward(ActivationKind k, const Matrix<T>& z, const Matrix<T>& dy) {
    Matrix<T> out;
    cfnet::nn::with_activation(k, [&](auto fn) {
        cfnet::nn::Activation<T, decltype(fn)> layer(fn);
        layer.forward(z);
        out = layer.backward(dy);
    });
    return out;
}

/// The same layer without its activation (same weights and bias).
template <class T>
Dense<T> affine_copy(const Dense<T>& d) {
    Rng rng(0);
    Dense<T> a(d.in_features(), d.out_features(), rng, cfnet::nn::init::zeros(), d.has_bias(), d.layout());
    a.weight().value = d.weight().value;
    if (d.has_bias()) a.bias().value = d.bias().value;
    return a;
}

/// Whether Dense's relu forward goes through the fused kernel (a different summation from the GEMM).
bool fused_relu_kernel(const Dense<float>& d) {
    return d.activation() == ActivationKind::relu && d.has_bias() && d.layout() == WeightLayout::in_out;
}

}  // namespace

TEST_CASE("Dense fused activation equals the affine layer followed by the Activation layer (float)",
          "[dense][activation]") {
    for (const bool simd : {true, false}) {
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const auto kind : all_kinds)
            for (const auto layout : layouts)
                for (const bool bias : {true, false})
                    for (const std::size_t out : {13, 64}) {
                        INFO("simd " << simd << " " << cfnet::nn::to_string(kind) << " " << name(layout) << " bias "
                                     << bias << " out " << out);
                        Rng rng(21);
                        Dense<float> d(37, out, rng, cfnet::nn::init::glorot_uniform(), bias, layout, kind);
                        CHECK(d.activation() == kind);
                        if (bias) d.bias().value = random_matrix<float>(1, out, rng);
                        Dense<float> a = affine_copy(d);
                        const auto x = random_matrix<float>(9, 37, rng), dy = random_matrix<float>(9, out, rng);
                        const Matrix<float> z = a.forward(x);
                        const Matrix<float> y_ref = activation_layer(kind, z);
                        const Matrix<float> y = d.forward(x);
                        // the same GEMM and the same function: the same bits, except through the fused
                        // bias + ReLU kernel (its own summation order)
                        if (fused_relu_kernel(d)) CHECK(max_rel_diff(y, y_ref) < 1e-5);
                        else CHECK((y == y_ref));
                        // backward: dz = dy f'(y) as the Activation layer computes it, then the affine backward
                        cfnet::nn::zero_grad(d.parameters());
                        cfnet::nn::zero_grad(a.parameters());
                        const Matrix<float> dx = d.backward(dy);
                        a.forward(x);
                        const Matrix<float> dx_ref = a.backward(activation_layer_backward(kind, z, dy));
                        if (fused_relu_kernel(d)) {  // y may differ in the last place
                            CHECK(max_rel_diff(dx, dx_ref) < 1e-5);
                            CHECK(max_rel_diff(d.weight().grad, a.weight().grad) < 1e-5);
                        } else {
                            CHECK((dx == dx_ref));
                            CHECK((d.weight().grad == a.weight().grad));
                            if (bias) CHECK((d.bias().grad == a.bias().grad));
                        }
                    }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("Dense fused activation: hand-computed relu and sigmoid", "[dense][activation]") {
    Rng rng(1);
    Dense<double> r(2, 2, rng, cfnet::nn::init::zeros(), true, WeightLayout::in_out, ActivationKind::relu);
    // W = [[1, -1], [2, 1]], b = [0, 0.5]: z = [1 + 2*1, -1 + 1 + 0.5] = [3, 0.5] for x = [1, 1];
    // z = [-1 - 2, 1 - 1 + 0.5] = [-3, 0.5] for x = [-1, -1]
    r.weight().value = Matrix<double>{{1, -1}, {2, 1}};
    r.bias().value = Matrix<double>{{0, 0.5}};
    const Matrix<double> x = {{1, 1}, {-1, -1}};
    CHECK((r.forward(x) == Matrix<double>{{3, 0.5}, {0, 0.5}}));
    // dz = dy where z > 0: [[1, 1], [0, 1]]; dx = dz W^T = [[0, 3], [-1, 1]]
    CHECK((r.backward(Matrix<double>{{1, 1}, {1, 1}}) == Matrix<double>{{0, 3}, {-1, 1}}));
    CHECK((r.bias().grad == Matrix<double>{{1, 2}}));

    Dense<double> s(1, 1, rng, cfnet::nn::init::zeros(), true, WeightLayout::out_in, ActivationKind::sigmoid);
    s.weight().value = Matrix<double>{{2}};
    const Matrix<double> xs = {{0}, {1}};
    const Matrix<double> ys = s.forward(xs);
    CHECK(ys(0, 0) == 0.5);
    CHECK(ys(1, 0) == Approx(1 / (1 + std::exp(-2.0))));
    // dx = dy * y (1 - y) * w
    const Matrix<double> dxs = s.backward(Matrix<double>{{1}, {1}});
    CHECK(dxs(0, 0) == 0.5);
    CHECK(dxs(1, 0) == Approx(2 * ys(1, 0) * (1 - ys(1, 0))));
}

TEST_CASE("Dense with a fused activation passes the gradient check (double)", "[dense][activation][gradcheck]") {
    for (const auto kind : all_kinds)
        for (const auto layout : layouts)
            for (const bool bias : {true, false}) {
                INFO(cfnet::nn::to_string(kind) << " " << name(layout) << " bias " << bias);
                Rng rng(23);
                Dense<double> d(6, 5, rng, cfnet::nn::init::glorot_uniform(), bias, layout, kind);
                if (bias) d.bias().value = random_matrix<double>(1, 5, rng);
                const auto r = check_layer(d, random_matrix<double>(4, 6, rng));
                INFO(r.log);
                CHECK(r);
                CHECK(r.rel_error < 1e-6);
            }
}

TEST_CASE("Dense::infer equals forward and caches nothing", "[dense]") {
    for (const bool simd : {true, false}) {
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const auto kind : all_kinds)
            for (const auto layout : layouts)
                for (const std::size_t out : {13, 32}) {
                    INFO("simd " << simd << " " << cfnet::nn::to_string(kind) << " " << name(layout) << " out " << out);
                    Rng rng(25);
                    Dense<float> d(19, out, rng, cfnet::nn::init::glorot_uniform(), true, layout, kind);
                    d.bias().value = random_matrix<float>(1, out, rng);
                    const auto x1 = random_matrix<float>(7, 19, rng), x2 = random_matrix<float>(3, 19, rng);
                    const Matrix<float> y1 = d.forward(x1);
                    const Dense<float>& cd = d;
                    Matrix<float> y2;
                    cd.infer(x2, y2);
                    CHECK((y2 == Dense<float>(d).forward(x2)));
                    // infer did not replace forward's cache: backward still belongs to forward(x1)
                    const auto dy = random_matrix<float>(7, out, rng);
                    Dense<float> e = d;
                    e.forward(x1);
                    CHECK((d.backward(dy) == e.backward(dy)));
                    Matrix<float> y1i = xt::zeros<float>({1, 1});  // infer resizes its output
                    cd.infer(x1, y1i);
                    CHECK((y1i == y1));
                }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("Dense::backward uses the matrix given to forward (kept by reference, not copied)", "[dense]") {
    Rng rng(27);
    Dense<double> d(3, 2, rng, cfnet::nn::init::glorot_uniform(), true);
    Matrix<double> x = random_matrix<double>(4, 3, rng);
    const Matrix<double> dy = random_matrix<double>(4, 2, rng);
    d.forward(x);
    // the documented contract is that x stays unchanged until backward; changing it shows that the
    // layer reads the caller's matrix (no private copy): the weight gradient is x'^T dy
    for (auto& v : x) v = 2 * v + 1;
    cfnet::nn::zero_grad(d.parameters());
    d.backward(dy);
    Matrix<double> expected = xt::zeros<double>({3, 2});
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t o = 0; o < 2; ++o) expected(i, o) += x(r, i) * dy(r, o);
    CHECK(max_rel_diff(d.weight().grad, expected) < 1e-14);
    // a second forward on another matrix: backward follows the new one
    const Matrix<double> x2 = random_matrix<double>(2, 3, rng), dy2 = random_matrix<double>(2, 2, rng);
    d.forward(x2);
    cfnet::nn::zero_grad(d.parameters());
    d.backward(dy2);
    Matrix<double> expected2 = xt::zeros<double>({3, 2});
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t o = 0; o < 2; ++o) expected2(i, o) += x2(r, i) * dy2(r, o);
    CHECK(max_rel_diff(d.weight().grad, expected2) < 1e-14);
}

namespace {

/// Dense::backward(dy, &uw, &ub) with Adam's RowUpdates against zero_grad + backward + Adam::step on
/// a copy, for `steps` steps (fresh x and dy each step). Exact where the AVX-512 tiles do not apply.
void fused_adam_vs_unfused(std::size_t in, std::size_t out, WeightLayout layout, bool bias, ActivationKind kind,
                           const cfnet::optim::AdamOptions& opt) {
    const bool tiles = layout == WeightLayout::in_out && cfnet::kernels::avx512_tiles<float>(out);
    INFO(in << " -> " << out << " " << name(layout) << " bias " << bias << " " << cfnet::nn::to_string(kind)
            << " wd " << opt.weight_decay() << " decoupled " << opt.decoupled_weight_decay() << " tiles " << tiles);
    Rng rng(29);
    Dense<float> fused(in, out, rng, cfnet::nn::init::glorot_uniform(), bias, layout, kind);
    if (bias) fused.bias().value = random_matrix<float>(1, out, rng);
    Dense<float> plain = fused;
    cfnet::optim::Adam<float> adam_f(fused.parameters(), opt), adam_p(plain.parameters(), opt);
    for (int step = 0; step < 3; ++step) {
        INFO("step " << step);
        const auto x = random_matrix<float>(8, in, rng), dy = random_matrix<float>(8, out, rng);
        const Matrix<float>& y_f = fused.forward(x);
        if (tiles) REQUIRE(max_rel_diff(y_f, plain.forward(x)) < 1e-5);
        else REQUIRE((y_f == plain.forward(x)));
        const Matrix<float> w_before = fused.weight().value;

        // stale gradients must not matter on the fused path
        for (auto* p : fused.parameters()) std::fill(p->grad.begin(), p->grad.end(), 7.f);
        adam_f.begin_step();
        auto uw = adam_f.row_update(0), ub = adam_f.row_update(bias ? 1 : 0);
        const Matrix<float> dx_f = fused.backward(dy, &uw, bias ? &ub : nullptr);

        adam_p.zero_grad();
        const Matrix<float> dx_p = plain.backward(dy);
        adam_p.step();

        CHECK_FALSE((fused.weight().value == w_before));  // the fused path did update
        const auto state_f = adam_f.state(), state_p = adam_p.state();
        if (tiles) {
            CHECK(max_rel_diff(dx_f, dx_p) < 1e-5);
            CHECK(max_rel_diff(fused.weight().value, plain.weight().value) < 1e-6);
            for (std::size_t k = 0; k < state_f.size(); ++k)
                CHECK(max_rel_diff(*state_f[k].tensor, *state_p[k].tensor) < 1e-4);
        } else {
            CHECK((dx_f == dx_p));
            CHECK((fused.weight().value == plain.weight().value));
            for (std::size_t k = 0; k < state_f.size(); ++k) CHECK((*state_f[k].tensor == *state_p[k].tensor));
        }
        if (bias) CHECK((fused.bias().value == plain.bias().value));
        // one step at a time: the copy restarts from the fused layer's state, so that the register
        // tiles' rounding differences are not carried into the next step's comparison
        plain.weight().value = fused.weight().value;
        if (bias) plain.bias().value = fused.bias().value;
        for (std::size_t k = 0; k < state_f.size(); ++k) *state_p[k].tensor = *state_f[k].tensor;
    }
}

}  // namespace

TEST_CASE("Dense fused Adam update (RowUpdate) equals zero_grad + backward + Adam::step", "[dense][adam]") {
    using cfnet::optim::AdamOptions;
    const AdamOptions opts[] = {AdamOptions().lr(0.01), AdamOptions().lr(0.01).weight_decay(0.05),
                                AdamOptions().lr(0.01).weight_decay(0.05).decoupled_weight_decay(true)};
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx512 " << cfnet::kernels::use_avx512());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const auto& opt : opts) {
            fused_adam_vs_unfused(37, 64, WeightLayout::in_out, true, ActivationKind::relu, opt);  // tiles
            fused_adam_vs_unfused(512, 256, WeightLayout::in_out, true, ActivationKind::identity, opt);
            fused_adam_vs_unfused(37, 13, WeightLayout::in_out, true, ActivationKind::relu, opt);  // no tiles
            fused_adam_vs_unfused(37, 64, WeightLayout::out_in, true, ActivationKind::sigmoid, opt);
            fused_adam_vs_unfused(20, 32, WeightLayout::in_out, false, ActivationKind::tanh, opt);
            fused_adam_vs_unfused(20, 13, WeightLayout::out_in, false, ActivationKind::identity, opt);
        }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("Dense fused Adam update on an empty batch equals Adam's step with a zero gradient", "[dense][adam]") {
    for (const std::size_t out : {13, 32}) {
        INFO("out " << out);
        Rng rng(31);
        Dense<float> fused(10, out, rng);
        fused.bias().value = random_matrix<float>(1, out, rng);
        Dense<float> plain = fused;
        const auto opt = cfnet::optim::AdamOptions().lr(0.01).weight_decay(0.1);  // zero gradient, still moves
        cfnet::optim::Adam<float> adam_f(fused.parameters(), opt), adam_p(plain.parameters(), opt);
        const Matrix<float> x = Matrix<float>::from_shape({0, 10}), dy = Matrix<float>::from_shape({0, out});
        fused.forward(x);
        plain.forward(x);
        adam_f.begin_step();
        auto uw = adam_f.row_update(0), ub = adam_f.row_update(1);
        CHECK(fused.backward(dy, &uw, &ub).shape(0) == 0);
        adam_p.zero_grad();
        plain.backward(dy);
        adam_p.step();
        CHECK(max_rel_diff(fused.weight().value, plain.weight().value) < 1e-6);
        CHECK((fused.bias().value == plain.bias().value));
    }
}

TEST_CASE("Dense buffers are reused across calls of the same shape", "[dense]") {
    Rng rng(8);
    Dense<float> d(6, 4, rng);
    const auto x = random_matrix<float>(3, 6, rng);
    const float* y1 = d.forward(x).data();
    const float* dx1 = d.backward(random_matrix<float>(3, 4, rng)).data();
    CHECK(d.forward(x).data() == y1);
    CHECK(d.backward(random_matrix<float>(3, 4, rng)).data() == dx1);
}

TEST_CASE("Dense rejects wrong shapes and out-of-order calls with messages", "[dense][errors]") {
    Rng rng(9);
    Dense<float> d(6, 4, rng);
    using Catch::Matchers::Contains;
    CHECK_THROWS_AS(Dense<float>(0, 4, rng), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(d.backward(Matrix<float>::from_shape({2, 4})), Contains("Dense::backward: must follow forward"));
    CHECK_THROWS_WITH(d.forward(Matrix<float>::from_shape({2, 5})),
                      Contains("Dense::forward: input has 5 columns, expected in_features = 6"));
    const Matrix<float> x = xt::zeros<float>({2, 6});  // alive until backward: forward keeps a reference
    d.forward(x);
    CHECK_THROWS_WITH(d.backward(Matrix<float>::from_shape({2, 3})), Contains("dy is 2 x 3, expected 2 x 4"));
    CHECK_THROWS_WITH(d.backward(Matrix<float>::from_shape({3, 4})), Contains("dy is 3 x 4, expected 2 x 4"));
    CHECK_THROWS_WITH(Dense<float>(6, 0, rng), Contains("Dense: in and out must be > 0, got in = 6, out = 0"));
    Matrix<float> y;
    CHECK_THROWS_WITH(d.infer(Matrix<float>::from_shape({2, 7}), y),
                      Contains("Dense::forward: input has 7 columns, expected in_features = 6"));
}
