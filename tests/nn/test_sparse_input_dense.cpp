// nn/sparse_input_dense.hpp: SparseInputDense against Dense on the densified batch (float, 6% density,
// the notebook's 32 x 1682 -> 512 and odd shapes, no rows), gradient checks in double, touched(),
// infer against forward, the fused Adam path (RowUpdate, exact and lazy) against backward + an Adam
// step on a copy, and the error messages.
#include <cfnet/nn/sparse_input_dense.hpp>

#include <catch2/catch.hpp>
#include <support/nn.hpp>

#include <cfnet/nn/dense.hpp>
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
using cfnet::nn::SparseBatch;
using cfnet::nn::SparseInputDense;
using cfnet::nn::WeightLayout;
using cfnet::testing::check_gradient;

using namespace cfnet_test;

namespace {

/// The input units present in `x`, increasing.
template <class T>
std::vector<cfnet::kernels::kindex> present_units(const SparseBatch<T>& x) {
    std::vector<bool> present(x.cols(), false);
    for (auto c : x.indices()) present[c] = true;
    std::vector<cfnet::kernels::kindex> out;
    for (std::size_t i = 0; i < x.cols(); ++i)
        if (present[i]) out.push_back(static_cast<cfnet::kernels::kindex>(i));
    return out;
}

/// The dense reference of a SparseInputDense: Dense in_out with the same weights, bias, activation.
template <class T>
Dense<T> dense_twin(const SparseInputDense<T>& s) {
    Rng rng(0);
    Dense<T> d(s.in_features(), s.out_features(), rng, cfnet::nn::init::zeros(), true, WeightLayout::in_out,
               s.activation());
    d.weight().value = s.weight().value;
    d.bias().value = s.bias().value;
    return d;
}

const char* kind_name(ActivationKind k) { return cfnet::nn::to_string(k); }

}  // namespace

TEST_CASE("SparseInputDense: a hand-computed case", "[sparse_input_dense]") {
    Rng rng(1);
    SparseInputDense<double> s(4, 2, rng, cfnet::nn::init::zeros(), ActivationKind::relu);
    // W = [[1, 2], [0, -1], [3, 1], [-2, 0]], b = [0.5, -4]
    s.weight().value = Matrix<double>{{1, 2}, {0, -1}, {3, 1}, {-2, 0}};
    s.bias().value = Matrix<double>{{0.5, -4}};
    // row 0: x = 2 at unit 0, 1 at unit 2: z = [2 + 3 + 0.5, 4 + 1 - 4] = [5.5, 1]
    // row 1: x = 1 at unit 3:              z = [-2 + 0.5, -4] -> relu [0, 0]
    // row 2: empty:                        z = b -> relu [0.5, 0]
    SparseBatch<double> x(4);
    x.add_row(std::vector<cfnet::nn::index_type>{0, 2}, std::vector<double>{2, 1});
    x.add_row(std::vector<cfnet::nn::index_type>{3}, std::vector<double>{1});
    x.add_row(std::vector<cfnet::nn::index_type>{}, std::vector<double>{});
    CHECK((s.forward(x) == Matrix<double>{{5.5, 1}, {0, 0}, {0.5, 0}}));
    CHECK((s.touched() == std::vector<cfnet::kernels::kindex>{0, 2, 3}));
    // dz = dy where z > 0: [[1, 2], [0, 0], [3, 0]]; dW[0] = 2 dz[0], dW[2] = dz[0], dW[3] = dz[1] = 0
    s.backward(Matrix<double>{{1, 2}, {5, 5}, {3, 4}});
    CHECK((s.weight().grad == Matrix<double>{{2, 4}, {0, 0}, {1, 2}, {0, 0}}));
    CHECK((s.bias().grad == Matrix<double>{{4, 2}}));
}

TEST_CASE("SparseInputDense draws the same weights as Dense for the same seed", "[sparse_input_dense]") {
    Rng r1(5), r2(5);
    SparseInputDense<float> s(30, 7, r1);
    Dense<float> d(30, 7, r2);
    CHECK((s.weight().value == d.weight().value));
    CHECK((s.bias().value == xt::zeros<float>({1, 7})));
    const auto p = s.parameters();
    REQUIRE(p.size() == 2);
    CHECK(p[0]->name == "weight");
    CHECK(p[1]->name == "bias");
    CHECK(s.in_features() == 30);
    CHECK(s.out_features() == 7);
    CHECK(s.activation() == ActivationKind::identity);
}

TEST_CASE("SparseInputDense: gradcheck of the weight and bias gradients (double)",
          "[sparse_input_dense][gradcheck]") {
    for (const auto kind : {ActivationKind::identity, ActivationKind::relu, ActivationKind::sigmoid,
                            ActivationKind::tanh, ActivationKind::selu}) {
        INFO(kind_name(kind));
        Rng rng(4);
        SparseInputDense<double> s(9, 4, rng, cfnet::nn::init::glorot_uniform(), kind);
        s.bias().value = random_matrix<double>(1, 4, rng);
        const auto x = random_sparse<double>(3, 9, 0.4, rng);
        REQUIRE(x.nnz() > 0);
        const auto R = random_matrix<double>(3, 4, rng);
        auto loss = [&] {
            const Matrix<double>& y = s.forward(x);
            double sum = 0;
            for (std::size_t i = 0; i < y.size(); ++i) sum += y.data()[i] * R.data()[i];
            return sum;
        };
        cfnet::nn::zero_grad(s.parameters());
        loss();
        s.backward(R);
        const Matrix<double> gw = s.weight().grad, gb = s.bias().grad;
        auto r = check_gradient(loss, s.weight().value.data(), gw.data(), gw.size(), "weight");
        r += check_gradient(loss, s.bias().value.data(), gb.data(), gb.size(), "bias");
        INFO(r.log);
        CHECK(r);
        CHECK(r.rel_error < 1e-6);
        // the rows of units absent from the batch get no gradient
        const auto t = s.touched();
        for (std::size_t i = 0; i < 9; ++i)
            if (!std::binary_search(t.begin(), t.end(), static_cast<cfnet::kernels::kindex>(i)))
                for (std::size_t o = 0; o < 4; ++o) CHECK(gw(i, o) == 0.0);
    }
}

namespace {

/// forward/backward vs Dense on the densified batch; touched() vs the units present.
void sparse_vs_dense(std::size_t n, std::size_t in, std::size_t out, ActivationKind kind) {
    INFO(n << " x " << in << " -> " << out << " " << kind_name(kind));
    Rng rng(6);
    SparseInputDense<float> s(in, out, rng, cfnet::nn::init::glorot_uniform(), kind);
    s.bias().value = random_matrix<float>(1, out, rng);
    Dense<float> d = dense_twin(s);
    const auto xs = random_sparse<float>(n, in, 0.06, rng);
    const auto dy = random_matrix<float>(n, out, rng);
    const Matrix<float> xd = xs.to_dense();

    const Matrix<float> y_dense = d.forward(xd);
    cfnet::nn::zero_grad(d.parameters());
    d.backward(dy);

    const Matrix<float>& y = s.forward(xs);
    REQUIRE(y.shape(0) == n);
    REQUIRE(y.shape(1) == out);
    CHECK(max_rel_diff(y, y_dense) < 1e-5);
    cfnet::nn::zero_grad(s.parameters());
    s.backward(dy);
    CHECK(max_rel_diff(s.weight().grad, d.weight().grad) < 1e-5);
    CHECK(max_rel_diff(s.bias().grad, d.bias().grad) < 1e-5);

    // touched() lists exactly the input units present in the batch, increasing
    CHECK(s.touched() == present_units(xs));
}

}  // namespace

// Each case runs with the SIMD-dispatched kernels and with the references.
TEST_CASE("SparseInputDense equals Dense on the densified batch (float, 6% density)", "[sparse_input_dense]") {
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx2 " << cfnet::kernels::use_avx2() << ", avx512 "
                              << cfnet::kernels::use_avx512());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        sparse_vs_dense(32, 1682, 512, ActivationKind::identity);  // the notebook's first layer
        sparse_vs_dense(32, 1682, 512, ActivationKind::relu);
        sparse_vs_dense(7, 300, 33, ActivationKind::sigmoid);
        sparse_vs_dense(5, 30, 13, ActivationKind::relu);  // rows shorter than any unroll
        sparse_vs_dense(9, 100, 16, ActivationKind::elu);
        sparse_vs_dense(0, 30, 5, ActivationKind::identity);
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("SparseInputDense: backward adds into the grads, only at the rows of the units present",
          "[sparse_input_dense]") {
    Rng rng(8);
    SparseInputDense<float> s(40, 6, rng);
    const auto xs = random_sparse<float>(4, 40, 0.1, rng);
    const auto dy = random_matrix<float>(4, 6, rng);
    s.forward(xs);
    cfnet::nn::zero_grad(s.parameters());
    s.backward(dy);
    const Matrix<float> g1 = s.weight().grad, b1 = s.bias().grad;
    s.backward(dy);  // accumulates
    CHECK(max_rel_diff(s.weight().grad, Matrix<float>(2.f * g1)) < 1e-6);
    CHECK(max_rel_diff(s.bias().grad, Matrix<float>(2.f * b1)) < 1e-6);
    const auto t = s.touched();
    REQUIRE(!t.empty());
    REQUIRE(t.size() < 40);
    for (std::size_t i = 0; i < 40; ++i) {
        const bool present = std::binary_search(t.begin(), t.end(), static_cast<cfnet::kernels::kindex>(i));
        bool zero_row = true;
        for (std::size_t o = 0; o < 6; ++o) zero_row = zero_row && s.weight().grad(i, o) == 0.f;
        CHECK(zero_row == !present);
    }
}

TEST_CASE("SparseInputDense::infer equals forward and caches nothing", "[sparse_input_dense]") {
    for (const auto kind : {ActivationKind::identity, ActivationKind::relu, ActivationKind::tanh}) {
        INFO(kind_name(kind));
        Rng rng(10);
        SparseInputDense<float> s(200, 32, rng, cfnet::nn::init::glorot_uniform(), kind);
        s.bias().value = random_matrix<float>(1, 32, rng);
        const auto x1 = random_sparse<float>(6, 200, 0.06, rng), x2 = random_sparse<float>(9, 200, 0.06, rng);
        const Matrix<float> y1 = s.forward(x1);
        const auto touched1 = s.touched();
        SparseInputDense<float>::Columns scratch;
        Matrix<float> y2;
        const SparseInputDense<float>& cs = s;
        cs.infer(x2, scratch, y2);
        SparseInputDense<float> copy = s;
        CHECK((y2 == copy.forward(x2)));
        Matrix<float> y1i;
        cs.infer(x1, scratch, y1i);
        CHECK((y1i == y1));
        // forward's cache is untouched: touched() and backward still belong to x1
        CHECK(s.touched() == touched1);
        const auto dy = random_matrix<float>(6, 32, rng);
        cfnet::nn::zero_grad(s.parameters());
        CHECK_NOTHROW(s.backward(dy));
        SparseInputDense<float> ref = s;
        ref.forward(x1);
        cfnet::nn::zero_grad(ref.parameters());
        ref.backward(dy);
        CHECK((s.weight().grad == ref.weight().grad));
    }
}

namespace {

/// The fused path (backward with Adam's RowUpdates) against backward + an Adam step on a copy:
/// exact mode = zero_grad, backward, Adam::step; lazy = zero_grad, backward, begin_step,
/// update_row_list(weight, touched rows), update(bias). Several steps, a fresh batch each.
void fused_vs_unfused(std::size_t in, std::size_t out, ActivationKind kind, bool lazy,
                      const cfnet::optim::AdamOptions& opt, std::size_t rows = 8) {
    const bool tiles = cfnet::kernels::avx512_tiles<float>(out);
    INFO(in << " -> " << out << " " << kind_name(kind) << " lazy " << lazy << " wd " << opt.weight_decay()
            << " decoupled " << opt.decoupled_weight_decay() << " tiles " << tiles << " rows " << rows);
    Rng rng(12);
    SparseInputDense<float> fused(in, out, rng, cfnet::nn::init::glorot_uniform(), kind);
    fused.bias().value = random_matrix<float>(1, out, rng);
    SparseInputDense<float> plain = fused;
    cfnet::optim::Adam<float> adam_f(fused.parameters(), opt), adam_p(plain.parameters(), opt);
    for (int step = 0; step < 4; ++step) {
        INFO("step " << step);
        const auto xs = random_sparse<float>(rows, in, 0.06, rng);
        const auto dy = random_matrix<float>(rows, out, rng);
        const Matrix<float>& yf = fused.forward(xs);
        if (tiles) REQUIRE(max_rel_diff(yf, plain.forward(xs)) < 1e-5);
        else REQUIRE((yf == plain.forward(xs)));
        const Matrix<float> w0 = fused.weight().value, m0 = *adam_f.state()[0].tensor, v0 = *adam_f.state()[1].tensor;

        for (auto* p : fused.parameters()) std::fill(p->grad.begin(), p->grad.end(), 7.f);  // not used
        adam_f.begin_step();
        auto uw = adam_f.row_update(0, lazy), ub = adam_f.row_update(1, lazy);
        fused.backward(dy, &uw, &ub);

        adam_p.zero_grad();
        plain.backward(dy);
        if (lazy) {
            adam_p.begin_step();
            std::vector<std::size_t> rows_touched(plain.touched().begin(), plain.touched().end());
            adam_p.update_row_list(0, rows_touched);
            adam_p.update(1);
        } else {
            adam_p.step();
        }

        const auto sf = adam_f.state(), sp = adam_p.state();
        if (tiles) {
            CHECK(max_rel_diff(fused.weight().value, plain.weight().value) < 1e-6);
            for (std::size_t k = 0; k < sf.size(); ++k) CHECK(max_rel_diff(*sf[k].tensor, *sp[k].tensor) < 1e-4);
        } else {
            CHECK((fused.weight().value == plain.weight().value));
            for (std::size_t k = 0; k < sf.size(); ++k) CHECK((*sf[k].tensor == *sp[k].tensor));
        }
        CHECK((fused.bias().value == plain.bias().value));

        // the rows without a gradient: lazy, they keep value and moments; exact, every one with moments
        // moves (every one once weight decay applies)
        const auto t = fused.touched();
        const Matrix<float>& m1 = *sf[0].tensor;
        const Matrix<float>& v1 = *sf[1].tensor;
        std::size_t moved = 0, untouched_moved = 0;
        bool untouched_ok = true;
        for (std::size_t i = 0; i < in; ++i) {
            const bool is_touched = std::binary_search(t.begin(), t.end(), static_cast<cfnet::kernels::kindex>(i));
            bool row_moved = false, had_moments = false, kept = true;
            for (std::size_t o = 0; o < out; ++o) {
                row_moved = row_moved || fused.weight().value(i, o) != w0(i, o);
                had_moments = had_moments || m0(i, o) != 0.f;
                kept = kept && m1(i, o) == m0(i, o) && v1(i, o) == v0(i, o);
            }
            moved += row_moved;
            if (is_touched) continue;
            untouched_moved += row_moved;
            // lazy: keeps value and moments; exact: moves whenever Adam has something to apply
            if (lazy) untouched_ok = untouched_ok && kept && !row_moved;
            else if (had_moments || opt.weight_decay() > 0) untouched_ok = untouched_ok && row_moved;
        }
        CHECK(untouched_ok);
        if (rows > 0) CHECK(moved > 0);
        if (!lazy && step > 0 && rows > 0) CHECK(untouched_moved > 0);
        // one step at a time: the copy restarts from the fused layer's state, so that the register
        // tiles' rounding differences are not carried into the next step's comparison
        plain.weight().value = fused.weight().value;
        plain.bias().value = fused.bias().value;
        for (std::size_t k = 0; k < sf.size(); ++k) *sp[k].tensor = *sf[k].tensor;
    }
}

}  // namespace

TEST_CASE("SparseInputDense fused Adam (RowUpdate, exact and lazy) equals backward + an Adam step",
          "[sparse_input_dense][adam]") {
    using cfnet::optim::AdamOptions;
    const AdamOptions opts[] = {AdamOptions().lr(0.01), AdamOptions().lr(0.01).weight_decay(0.05),
                                AdamOptions().lr(0.01).weight_decay(0.05).decoupled_weight_decay(true)};
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx512 " << cfnet::kernels::use_avx512());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const bool lazy : {false, true})
            for (const auto& opt : opts) {
                fused_vs_unfused(300, 64, ActivationKind::identity, lazy, opt);  // tiles where AVX-512
                fused_vs_unfused(300, 64, ActivationKind::relu, lazy, opt);
                fused_vs_unfused(120, 13, ActivationKind::sigmoid, lazy, opt);  // never tiles: same bits
                fused_vs_unfused(120, 33, ActivationKind::tanh, lazy, opt);
                fused_vs_unfused(50, 16, ActivationKind::identity, lazy, opt, 0);  // no rows
            }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("SparseInputDense: an empty batch", "[sparse_input_dense]") {
    Rng rng(14);
    SparseInputDense<float> s(20, 5, rng);
    s.bias().value = random_matrix<float>(1, 5, rng);
    SparseBatch<float> x(20);
    const Matrix<float>& y = s.forward(x);
    CHECK(y.shape(0) == 0);
    CHECK(y.shape(1) == 5);
    CHECK(s.touched().empty());
    cfnet::nn::zero_grad(s.parameters());
    s.backward(Matrix<float>::from_shape({0, 5}));
    CHECK((s.weight().grad == xt::zeros<float>({20, 5})));
    CHECK((s.bias().grad == xt::zeros<float>({1, 5})));
    // a batch of empty rows: the output is the bias
    x.add_pattern_row(std::vector<cfnet::nn::index_type>{});
    x.add_pattern_row(std::vector<cfnet::nn::index_type>{});
    const Matrix<float>& y2 = s.forward(x);
    REQUIRE(y2.shape(0) == 2);
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t o = 0; o < 5; ++o) CHECK(y2(r, o) == s.bias().value(0, o));
}

TEST_CASE("SparseInputDense rejects wrong shapes with messages", "[sparse_input_dense][errors]") {
    using Catch::Matchers::Contains;
    Rng rng(9);
    CHECK_THROWS_WITH(SparseInputDense<float>(0, 4, rng), Contains("SparseInputDense: in and out must be > 0, got in = 0"));
    CHECK_THROWS_WITH(SparseInputDense<float>(4, 0, rng), Contains("got in = 4, out = 0"));
    SparseInputDense<float> s(6, 4, rng);
    CHECK_THROWS_WITH(s.backward(Matrix<float>::from_shape({2, 4})),
                      Contains("SparseInputDense::backward: dy is 2 x 4, expected 0 x 4 (after forward)"));
    CHECK_THROWS_WITH(s.forward(SparseBatch<float>(7)),
                      Contains("SparseInputDense::forward: input has 7 columns, expected in_features = 6"));
    SparseInputDense<float>::Columns scratch;
    Matrix<float> y;
    CHECK_THROWS_WITH(s.infer(SparseBatch<float>(5), scratch, y), Contains("input has 5 columns, expected in_features = 6"));
    SparseBatch<float> x(6);
    x.add_pattern_row(std::vector<cfnet::nn::index_type>{1, 4});
    x.add_pattern_row(std::vector<cfnet::nn::index_type>{0});
    s.forward(x);
    CHECK_THROWS_WITH(s.backward(Matrix<float>::from_shape({2, 3})), Contains("dy is 2 x 3, expected 2 x 4"));
    CHECK_THROWS_WITH(s.backward(Matrix<float>::from_shape({1, 4})), Contains("dy is 1 x 4, expected 2 x 4"));
}
