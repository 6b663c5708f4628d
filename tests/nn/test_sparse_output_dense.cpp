// nn/sparse_output_dense.hpp: SparseOutputDense against Dense (out_in) with a dense gradient that is
// zero off the pattern (float, 6% of the entries, 32 x 512 -> 1682 and odd shapes), gradient checks
// in double (input, weight, bias; forward_at/backward_at and forward_backward_at), the fused pass
// against its two-pass form with MaskedMSE's gradient, the fused Adam path (RowUpdate, exact and
// lazy) against an Adam step on a copy, infer_one / infer_unit / infer_all, and the error messages.
#include <cfnet/nn/sparse_output_dense.hpp>

#include <catch2/catch.hpp>
#include <support/nn.hpp>

#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

using cfnet::Matrix;
using cfnet::Rng;
using cfnet::Vector;
using cfnet::nn::ActivationKind;
using cfnet::nn::Dense;
using cfnet::nn::SparseBatch;
using cfnet::nn::SparseOutputDense;
using cfnet::nn::WeightLayout;
using cfnet::testing::check_gradient;

using namespace cfnet_test;

namespace {

/// The dense reference: Dense out_in (W out x in, the same storage) with the same weights, bias,
/// activation.
template <class T>
Dense<T> dense_twin(const SparseOutputDense<T>& s) {
    Rng rng(0);
    Dense<T> d(s.in_features(), s.out_features(), rng, cfnet::nn::init::zeros(), true, WeightLayout::out_in,
               s.activation());
    d.weight().value = s.weight().value;
    d.bias().value = s.bias().value;
    return d;
}

/// Values at the pattern's entries (CSR order) of a dense matrix, and the dense matrix holding
/// entry values at the pattern (zeros elsewhere).
template <class T>
std::vector<T> at_pattern(const Matrix<T>& m, const SparseBatch<T>& pattern) {
    std::vector<T> out;
    for (std::size_t r = 0; r < pattern.rows(); ++r)
        for (std::size_t p = pattern.row_ptr()[r]; p < pattern.row_ptr()[r + 1]; ++p)
            out.push_back(m(r, pattern.indices()[p]));
    return out;
}
template <class T>
Matrix<T> scatter(const T* e, const SparseBatch<T>& pattern) {
    Matrix<T> m = xt::zeros<T>({pattern.rows(), pattern.cols()});
    for (std::size_t r = 0; r < pattern.rows(); ++r)
        for (std::size_t p = pattern.row_ptr()[r]; p < pattern.row_ptr()[r + 1]; ++p) m(r, pattern.indices()[p]) = e[p];
    return m;
}

/// The output units with entries in the pattern, increasing.
template <class T>
std::vector<std::size_t> units_in(const SparseBatch<T>& pattern) {
    std::vector<std::size_t> u(pattern.indices().begin(), pattern.indices().end());
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    return u;
}

const char* kind_name(ActivationKind k) { return cfnet::nn::to_string(k); }

}  // namespace

TEST_CASE("SparseOutputDense: a hand-computed case", "[sparse_output_dense]") {
    Rng rng(1);
    SparseOutputDense<double> s(2, 3, rng, cfnet::nn::init::zeros(), ActivationKind::relu);
    // W (out x in) = [[1, 2], [0, -1], [3, 1]], b = [0.5, 0, -1]
    s.weight().value = Matrix<double>{{1, 2}, {0, -1}, {3, 1}};
    s.bias().value = Matrix<double>{{0.5, 0, -1}};
    const Matrix<double> x = {{1, 1}, {2, -1}};
    // row 0 at units 0, 2: [0.5 + 3, -1 + 4] = [3.5, 3]; row 1 at unit 1: relu(0 + 1) = 1, at unit 2: relu(-1 + 5) = 4
    SparseBatch<double> pattern(3);
    pattern.add_pattern_row(std::vector<cfnet::nn::index_type>{0, 2});
    pattern.add_pattern_row(std::vector<cfnet::nn::index_type>{1, 2});
    const Vector<double> y = s.forward_at(x, pattern);
    CHECK((y == Vector<double>{3.5, 3, 1, 4}));
    // d = [1, -1, 2, 0.5]: dx[0] = 1 w0 - 1 w2 = [-2, 1]; dx[1] = 2 w1 + 0.5 w2 = [1.5, -1.5]
    cfnet::nn::zero_grad(s.parameters());
    const Matrix<double> dx = s.backward_at(Vector<double>{1, -1, 2, 0.5});
    CHECK((dx == Matrix<double>{{-2, 1}, {1.5, -1.5}}));
    // dW[0] = 1 x0 = [1, 1]; dW[1] = 2 x1 = [4, -2]; dW[2] = -1 x0 + 0.5 x1 = [0, -1.5]
    CHECK((s.weight().grad == Matrix<double>{{1, 1}, {4, -2}, {0, -1.5}}));
    CHECK((s.bias().grad == Matrix<double>{{1, 2, -0.5}}));
    // a unit outside the pattern: no gradient
    SparseBatch<double> p0(3);
    p0.add_pattern_row(std::vector<cfnet::nn::index_type>{0});
    p0.add_pattern_row(std::vector<cfnet::nn::index_type>{});
    cfnet::nn::zero_grad(s.parameters());
    s.forward_at(x, p0);
    s.backward_at(Vector<double>{1});
    CHECK((s.bias().grad == Matrix<double>{{1, 0, 0}}));
}

TEST_CASE("SparseOutputDense stores Dense's weights for the same seed, transposed", "[sparse_output_dense]") {
    Rng r1(5), r2(5);
    SparseOutputDense<float> s(30, 7, r1);
    Dense<float> d(30, 7, r2, cfnet::nn::init::glorot_uniform(), true, WeightLayout::out_in);
    REQUIRE(s.weight().value.shape(0) == 7);
    CHECK((s.weight().value == d.weight().value));
    CHECK((s.bias().value == xt::zeros<float>({1, 7})));
    const auto p = s.parameters();
    REQUIRE(p.size() == 2);
    CHECK(p[0]->name == "weight");
    CHECK(p[1]->name == "bias");
}

TEST_CASE("SparseOutputDense: gradcheck of input, weight and bias gradients (double)",
          "[sparse_output_dense][gradcheck]") {
    for (const auto kind : {ActivationKind::identity, ActivationKind::relu, ActivationKind::sigmoid,
                            ActivationKind::tanh, ActivationKind::elu}) {
        for (const bool fused : {false, true}) {
            INFO(kind_name(kind) << (fused ? " forward_backward_at" : " forward_at + backward_at"));
            Rng rng(5);
            SparseOutputDense<double> s(6, 10, rng, cfnet::nn::init::glorot_uniform(), kind);
            s.bias().value = random_matrix<double>(1, 10, rng);
            auto x = random_matrix<double>(3, 6, rng);
            const auto pattern = random_sparse<double>(3, 10, 0.35, rng);
            REQUIRE(pattern.nnz() > 0);
            std::vector<double> R(pattern.nnz());
            for (auto& v : R) v = rng.uniform(-1, 1);
            auto loss = [&] {
                const Vector<double>& y = s.forward_at(x, pattern);
                double sum = 0;
                for (std::size_t i = 0; i < y.size(); ++i) sum += y(i) * R[i];
                return sum;
            };
            cfnet::nn::zero_grad(s.parameters());
            Matrix<double> dx;
            if (fused) {
                std::vector<double> pred(pattern.nnz());
                dx = s.forward_backward_at(
                    x, pattern, [&](std::size_t, std::size_t pos, double) { return R[pos]; }, pred.data());
            } else {
                loss();
                Vector<double> rv = Vector<double>::from_shape({R.size()});
                std::copy(R.begin(), R.end(), rv.begin());
                dx = s.backward_at(rv);
            }
            const Matrix<double> gw = s.weight().grad, gb = s.bias().grad;
            auto r = check_gradient(loss, x.data(), dx.data(), dx.size(), "input");
            r += check_gradient(loss, s.weight().value.data(), gw.data(), gw.size(), "weight");
            r += check_gradient(loss, s.bias().value.data(), gb.data(), gb.size(), "bias");
            INFO(r.log);
            CHECK(r);
            CHECK(r.rel_error < 1e-6);
            // the units outside the pattern get no gradient
            const auto used = units_in(pattern);
            REQUIRE(used.size() < 10);
            for (std::size_t o = 0; o < 10; ++o)
                if (!std::binary_search(used.begin(), used.end(), o)) {
                    CHECK(gb(0, o) == 0.0);
                    for (std::size_t i = 0; i < 6; ++i) CHECK(gw(o, i) == 0.0);
                }
        }
    }
}

namespace {

/// forward_at / backward_at, and forward_backward_at with MaskedMSE's gradient, against Dense (out_in)
/// forward and backward of the dense gradient that is zero off the pattern.
void sparse_vs_dense(std::size_t n, std::size_t in, std::size_t out, ActivationKind kind) {
    INFO(n << " x " << in << " -> " << out << " " << kind_name(kind));
    Rng rng(7);
    SparseOutputDense<float> s(in, out, rng, cfnet::nn::init::glorot_uniform(), kind);
    s.bias().value = random_matrix<float>(1, out, rng);
    Dense<float> d = dense_twin(s);
    const auto x = random_matrix<float>(n, in, rng);
    const auto pattern = random_sparse<float>(n, out, 0.06, rng);  // its values are the targets
    const cfnet::nn::MaskedMSE<float> loss;

    // the dense reference
    const Matrix<float> y_dense = d.forward(x);
    const std::vector<float> pred_ref = at_pattern(y_dense, pattern);
    std::vector<float> g_ref(pattern.nnz());
    loss.sparse_gradient(pattern.row_ptr().data(), n, pred_ref.data(), pattern.values().data(), g_ref.data());
    cfnet::nn::zero_grad(d.parameters());
    const Matrix<float> dx_ref = d.backward(scatter(g_ref.data(), pattern));

    // two passes: forward_at, the loss gradient, backward_at
    const Vector<float> ye = s.forward_at(x, pattern);
    REQUIRE(ye.size() == pattern.nnz());
    const std::vector<float> pred2(ye.begin(), ye.end());
    CHECK(max_rel_diff(pred2, pred_ref) < 1e-5);
    Vector<float> g2 = Vector<float>::from_shape({pattern.nnz()});
    loss.sparse_gradient(pattern.row_ptr().data(), n, pred2.data(), pattern.values().data(), g2.data());
    cfnet::nn::zero_grad(s.parameters());
    const Matrix<float> dx2 = s.backward_at(g2);
    const Matrix<float> gw2 = s.weight().grad, gb2 = s.bias().grad;
    CHECK(max_rel_diff(dx2, dx_ref) < 1e-5);
    CHECK(max_rel_diff(gw2, d.weight().grad) < 1e-5);
    CHECK(max_rel_diff(gb2, d.bias().grad) < 1e-5);

    // one pass: forward_backward_at with the gradient of MaskedMSE from its scales
    std::vector<float> scale(n), pred1(pattern.nnz(), -99.f);
    loss.gradient_scales(pattern.row_ptr().data(), n, scale.data());
    const float* tv = pattern.values().data();
    cfnet::nn::zero_grad(s.parameters());
    const Matrix<float> dx1 = s.forward_backward_at(
        x, pattern, [&](std::size_t r, std::size_t pos, float p) { return scale[r] * (p - tv[pos]); }, pred1.data());
    CHECK(max_rel_diff(pred1, pred2) < 1e-5);
    CHECK(max_rel_diff(dx1, dx2) < 1e-5);
    CHECK(max_rel_diff(s.weight().grad, gw2) < 1e-5);
    CHECK(max_rel_diff(s.bias().grad, gb2) < 1e-5);
    CHECK(max_rel_diff(dx1, dx_ref) < 1e-5);
    CHECK(max_rel_diff(s.weight().grad, d.weight().grad) < 1e-5);
}

}  // namespace

TEST_CASE("SparseOutputDense equals Dense with a gradient that is zero off the pattern (float, 6% of entries)",
          "[sparse_output_dense]") {
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx2 " << cfnet::kernels::use_avx2() << ", avx512 "
                              << cfnet::kernels::use_avx512());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        sparse_vs_dense(32, 512, 1682, ActivationKind::identity);  // the notebook's last layer
        sparse_vs_dense(32, 512, 1682, ActivationKind::sigmoid);
        sparse_vs_dense(9, 13, 100, ActivationKind::identity);  // in not a multiple of 8
        sparse_vs_dense(7, 45, 300, ActivationKind::relu);
        sparse_vs_dense(5, 64, 37, ActivationKind::tanh);
        sparse_vs_dense(0, 16, 20, ActivationKind::identity);
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

namespace {

/// forward_backward_at with Adam's RowUpdates against forward_backward_at without + an Adam step on a
/// copy (exact: Adam::step; lazy: update_row_list over the units with entries, then the bias).
void fused_vs_unfused(std::size_t in, std::size_t out, ActivationKind kind, bool lazy,
                      const cfnet::optim::AdamOptions& opt, std::size_t rows = 8) {
    const bool tiles = kind == ActivationKind::identity && cfnet::kernels::avx512_tiles<float>(in);
    INFO(in << " -> " << out << " " << kind_name(kind) << " lazy " << lazy << " wd " << opt.weight_decay()
            << " decoupled " << opt.decoupled_weight_decay() << " tiles " << tiles << " rows " << rows);
    Rng rng(12);
    SparseOutputDense<float> fused(in, out, rng, cfnet::nn::init::glorot_uniform(), kind);
    fused.bias().value = random_matrix<float>(1, out, rng);
    SparseOutputDense<float> plain = fused;
    cfnet::optim::Adam<float> adam_f(fused.parameters(), opt), adam_p(plain.parameters(), opt);
    const cfnet::nn::MaskedMSE<float> loss(cfnet::nn::MaskNormalization::global);
    for (int step = 0; step < 4; ++step) {
        INFO("step " << step);
        const auto x = random_matrix<float>(rows, in, rng);
        const auto pattern = random_sparse<float>(rows, out, 0.06, rng);
        std::vector<float> scale(rows);
        loss.gradient_scales(pattern.row_ptr().data(), rows, scale.data());
        const float* tv = pattern.values().data();
        auto grad = [&](std::size_t r, std::size_t pos, float p) { return scale[r] * (p - tv[pos]); };
        const Matrix<float> w0 = fused.weight().value, m0 = *adam_f.state()[0].tensor, v0 = *adam_f.state()[1].tensor;

        std::vector<float> pred_f(pattern.nnz()), pred_p(pattern.nnz());
        adam_f.begin_step();
        auto uw = adam_f.row_update(0, lazy), ub = adam_f.row_update(1, lazy);
        const Matrix<float> dx_f = fused.forward_backward_at(x, pattern, grad, pred_f.data(), &uw, &ub);

        adam_p.zero_grad();
        const Matrix<float> dx_p = plain.forward_backward_at(x, pattern, grad, pred_p.data());
        const auto units = units_in(pattern);
        if (lazy) {
            adam_p.begin_step();
            adam_p.update_row_list(0, units);
            adam_p.update(1);
        } else {
            adam_p.step();
        }

        const auto sf = adam_f.state(), sp = adam_p.state();
        if (tiles) {
            CHECK(max_rel_diff(pred_f, pred_p) < 1e-5);
            CHECK(max_rel_diff(dx_f, dx_p) < 1e-5);
            // 2e-6, not 1e-6: with coupled weight decay, g = grad + wd p can cancel to near zero, where
            // Adam's step is most sensitive to g, and the tile's update contracts wd p + grad into an FMA
            // (kernels/adam.hpp); measured 1.05e-6 (64 -> 300, lazy, step 4)
            CHECK(max_rel_diff(fused.weight().value, plain.weight().value) < 2e-6);
            CHECK(max_rel_diff(fused.bias().value, plain.bias().value) < 1e-6);
            for (std::size_t k = 0; k < sf.size(); ++k) CHECK(max_rel_diff(*sf[k].tensor, *sp[k].tensor) < 1e-4);
        } else {
            CHECK(pred_f == pred_p);
            CHECK((dx_f == dx_p));
            CHECK((fused.weight().value == plain.weight().value));
            CHECK((fused.bias().value == plain.bias().value));
            for (std::size_t k = 0; k < sf.size(); ++k) CHECK((*sf[k].tensor == *sp[k].tensor));
        }

        // the units without entries: lazy, they keep value and moments; exact, every one with moments
        // moves (every one once weight decay applies)
        const Matrix<float>& m1 = *sf[0].tensor;
        const Matrix<float>& v1 = *sf[1].tensor;
        std::size_t moved = 0, untouched_moved = 0;
        bool untouched_ok = true;
        for (std::size_t j = 0; j < out; ++j) {
            const bool has_entries = std::binary_search(units.begin(), units.end(), j);
            bool row_moved = false, had_moments = false, kept = true;
            for (std::size_t i = 0; i < in; ++i) {
                row_moved = row_moved || fused.weight().value(j, i) != w0(j, i);
                had_moments = had_moments || m0(j, i) != 0.f;
                kept = kept && m1(j, i) == m0(j, i) && v1(j, i) == v0(j, i);
            }
            moved += row_moved;
            if (has_entries) continue;
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

TEST_CASE("SparseOutputDense fused Adam (RowUpdate, exact and lazy) equals forward_backward_at + an Adam step",
          "[sparse_output_dense][adam]") {
    using cfnet::optim::AdamOptions;
    const AdamOptions opts[] = {AdamOptions().lr(0.01), AdamOptions().lr(0.01).weight_decay(0.05),
                                AdamOptions().lr(0.01).weight_decay(0.05).decoupled_weight_decay(true)};
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx512 " << cfnet::kernels::use_avx512());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const bool lazy : {false, true})
            for (const auto& opt : opts) {
                fused_vs_unfused(64, 300, ActivationKind::identity, lazy, opt);  // tiles where AVX-512
                fused_vs_unfused(64, 300, ActivationKind::sigmoid, lazy, opt);   // never tiles: same bits
                fused_vs_unfused(13, 120, ActivationKind::identity, lazy, opt);
                fused_vs_unfused(33, 120, ActivationKind::relu, lazy, opt);
                fused_vs_unfused(16, 50, ActivationKind::identity, lazy, opt, 0);  // no rows
            }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

// On the fused path Parameter::grad is not used (nn/update.hpp): a stale gradient left by an earlier
// unfused pass must not change the update (the bias's sums start from zero).
TEST_CASE("SparseOutputDense fused Adam ignores stale gradients", "[sparse_output_dense][adam]") {
    Rng rng(16);
    SparseOutputDense<float> fused(13, 40, rng);
    SparseOutputDense<float> plain = fused;
    const auto opt = cfnet::optim::AdamOptions().lr(0.01);
    cfnet::optim::Adam<float> adam_f(fused.parameters(), opt), adam_p(plain.parameters(), opt);
    const auto x = random_matrix<float>(6, 13, rng);
    const auto pattern = random_sparse<float>(6, 40, 0.1, rng);
    auto grad = [&](std::size_t, std::size_t pos, float p) { return p - pattern.values()[pos]; };
    std::vector<float> pred(pattern.nnz());
    for (auto* p : fused.parameters()) std::fill(p->grad.begin(), p->grad.end(), 7.f);
    adam_f.begin_step();
    auto uw = adam_f.row_update(0), ub = adam_f.row_update(1);
    fused.forward_backward_at(x, pattern, grad, pred.data(), &uw, &ub);
    adam_p.zero_grad();
    plain.forward_backward_at(x, pattern, grad, pred.data());
    adam_p.step();
    CHECK((fused.weight().value == plain.weight().value));
    CHECK((fused.bias().value == plain.bias().value));
}

TEST_CASE("SparseOutputDense infer_one, infer_unit and infer_all equal forward", "[sparse_output_dense]") {
    for (const bool simd : {true, false}) {
        cfnet::kernels::simd_dispatch_enabled() = simd;
        for (const auto kind : {ActivationKind::identity, ActivationKind::relu, ActivationKind::sigmoid})
            for (const std::size_t in : {13, 64}) {
                INFO("simd " << simd << " " << kind_name(kind) << " in " << in);
                Rng rng(18);
                const std::size_t n = 5, out = 37;
                SparseOutputDense<float> s(in, out, rng, cfnet::nn::init::glorot_uniform(), kind);
                s.bias().value = random_matrix<float>(1, out, rng);
                const auto x = random_matrix<float>(n, in, rng);
                // every entry through forward_at (a full pattern) and through Dense
                SparseBatch<float> full(out);
                std::vector<cfnet::nn::index_type> all(out);
                for (std::size_t j = 0; j < out; ++j) all[j] = static_cast<cfnet::nn::index_type>(j);
                for (std::size_t r = 0; r < n; ++r) full.add_pattern_row(all);
                const Vector<float> ye = s.forward_at(x, full);
                Dense<float> d = dense_twin(s);
                const Matrix<float> y_dense = d.forward(x);

                Matrix<float> y_all = Matrix<float>::from_shape({n, out});
                const SparseOutputDense<float>& cs = s;
                cs.infer_all(x.data(), n, y_all.data());
                CHECK(max_rel_diff(y_all, y_dense) < 1e-5);
                CHECK(max_rel_diff(y_all.data(), ye.data(), ye.size()) < 1e-5);
                std::vector<float> unit(n);
                for (std::size_t j = 0; j < out; ++j) {
                    cs.infer_unit(x.data(), n, j, unit.data());
                    for (std::size_t r = 0; r < n; ++r) {
                        CHECK(std::abs(unit[r] - y_all(r, j)) <= 1e-5f * (1 + std::abs(y_all(r, j))));
                        const float one = cs.infer_one(x.data() + r * in, j);
                        CHECK(std::abs(one - y_all(r, j)) <= 1e-5f * (1 + std::abs(y_all(r, j))));
                    }
                }
            }
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("SparseOutputDense rejects wrong shapes with messages", "[sparse_output_dense][errors]") {
    using Catch::Matchers::Contains;
    Rng rng(9);
    CHECK_THROWS_WITH(SparseOutputDense<float>(0, 4, rng), Contains("SparseOutputDense: in and out must be > 0, got in = 0"));
    SparseOutputDense<float> s(6, 4, rng);
    CHECK_THROWS_WITH(s.backward_at(Vector<float>::from_shape({3})),
                      Contains("SparseOutputDense::backward_at: 3 entry gradients, but the last forward_at had 0 entries"));
    SparseBatch<float> p(4);
    p.add_pattern_row({0, 2});
    const Matrix<float> x2 = xt::zeros<float>({2, 6}), x1 = xt::zeros<float>({1, 6}), x15 = xt::zeros<float>({1, 5});
    CHECK_THROWS_WITH(s.forward_at(x15, p),
                      Contains("SparseOutputDense::forward_at: input has 5 columns, expected in_features = 6"));
    CHECK_THROWS_WITH(s.forward_at(x2, p), Contains("SparseOutputDense::forward_at: pattern has 1 rows, input has 2"));
    CHECK_THROWS_WITH(s.forward_at(x1, SparseBatch<float>(4)), Contains("pattern has 0 rows, input has 1"));
    SparseBatch<float> p5(5);
    p5.add_pattern_row({0});
    CHECK_THROWS_WITH(s.forward_at(x1, p5), Contains("pattern has 5 columns, expected out_features = 4"));
    std::vector<float> pred(4);
    auto g = [](std::size_t, std::size_t, float) { return 0.f; };
    CHECK_THROWS_WITH(s.forward_backward_at(x2, p, g, pred.data()),
                      Contains("SparseOutputDense::forward_backward_at: pattern has 1 rows, input has 2"));
    CHECK_THROWS_WITH(s.forward_backward_at(x1, p5, g, pred.data()), Contains("expected out_features = 4"));
    s.forward_at(x1, p);
    CHECK_THROWS_WITH(s.backward_at(Vector<float>::from_shape({3})),
                      Contains("3 entry gradients, but the last forward_at had 2 entries"));
    CHECK_NOTHROW(s.backward_at(xt::zeros<float>({2})));
    // forward_backward_at is not followed by backward_at
    s.forward_backward_at(x1, p, g, pred.data());
    CHECK_THROWS_WITH(s.backward_at(xt::zeros<float>({2})), Contains("SparseOutputDense::backward_at"));
}
