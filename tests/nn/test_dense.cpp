#include <cfnet/nn/dense.hpp>

#include <catch2/catch.hpp>

#include <cfnet/testing/gradcheck.hpp>

#include <string>
#include <vector>

using cfnet::Matrix;
using cfnet::Rng;
using cfnet::Vector;
using cfnet::nn::Dense;
using cfnet::nn::SparseBatch;
using cfnet::nn::WeightLayout;
using cfnet::testing::check_gradient;
using cfnet::testing::check_layer;

namespace {

template <class T>
Matrix<T> random_matrix(std::size_t r, std::size_t c, Rng& rng) {
    Matrix<T> m = Matrix<T>::from_shape({r, c});
    for (auto& v : m) v = static_cast<T>(rng.uniform(-1, 1));
    return m;
}

/// A random CSR batch with about `density` of the entries, values in [1, 5].
template <class T>
SparseBatch<T> random_sparse(std::size_t rows, std::size_t cols, double density, Rng& rng) {
    SparseBatch<T> s(cols);
    std::vector<cfnet::nn::index_type> idx;
    std::vector<T> val;
    for (std::size_t r = 0; r < rows; ++r) {
        idx.clear();
        val.clear();
        for (std::size_t c = 0; c < cols; ++c) {
            if (rng.uniform() < density) {
                idx.push_back(static_cast<cfnet::nn::index_type>(c));
                val.push_back(static_cast<T>(1 + rng.below(5)));
            }
        }
        s.add_row(idx, val);
    }
    return s;
}

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

template <class T>
double max_rel_diff(const Matrix<T>& a, const Matrix<T>& b) {
    REQUIRE(a.shape() == b.shape());
    double scale = 1e-30, diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        scale = std::max(scale, std::abs(double(b.data()[i])));
        diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
    }
    return diff / scale;
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

TEST_CASE("Dense sparse input: gradcheck of the weight and bias gradients (double)", "[dense][sparse][gradcheck]") {
    for (const auto layout : layouts) {
        INFO(name(layout));
        Rng rng(4);
        Dense<double> d(9, 4, rng, cfnet::nn::init::glorot_uniform(), true, layout);
        d.bias().value = random_matrix<double>(1, 4, rng);
        const auto x = random_sparse<double>(3, 9, 0.4, rng);
        const auto R = random_matrix<double>(3, 4, rng);
        auto loss = [&] {
            const Matrix<double>& y = d.forward_sparse(x);
            double s = 0;
            for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * R.data()[i];
            return s;
        };
        cfnet::nn::zero_grad(d.parameters());
        loss();
        d.backward_sparse(R);
        const Matrix<double> gw = d.weight().grad, gb = d.bias().grad;
        auto r = check_gradient(loss, d.weight().value.data(), gw.data(), gw.size(), "weight");
        r += check_gradient(loss, d.bias().value.data(), gb.data(), gb.size(), "bias");
        INFO(r.log);
        CHECK(r.rel_error < 1e-6);
    }
}

TEST_CASE("Dense sparse output: gradcheck of input, weight and bias gradients (double)",
          "[dense][sparse][gradcheck]") {
    for (const auto layout : layouts) {
        INFO(name(layout));
        Rng rng(5);
        Dense<double> d(6, 10, rng, cfnet::nn::init::glorot_uniform(), true, layout);
        d.bias().value = random_matrix<double>(1, 10, rng);
        auto x = random_matrix<double>(3, 6, rng);
        const auto pattern = random_sparse<double>(3, 10, 0.35, rng);
        REQUIRE(pattern.nnz() > 0);
        Vector<double> R = Vector<double>::from_shape({pattern.nnz()});
        for (auto& v : R) v = rng.uniform(-1, 1);
        auto loss = [&] {
            const Vector<double>& y = d.forward_at(x, pattern);
            double s = 0;
            for (std::size_t i = 0; i < y.size(); ++i) s += y(i) * R(i);
            return s;
        };
        cfnet::nn::zero_grad(d.parameters());
        loss();
        const Matrix<double> dx = d.backward_at(R);
        const Matrix<double> gw = d.weight().grad, gb = d.bias().grad;
        auto r = check_gradient(loss, x.data(), dx.data(), dx.size(), "input");
        r += check_gradient(loss, d.weight().value.data(), gw.data(), gw.size(), "weight");
        r += check_gradient(loss, d.bias().value.data(), gb.data(), gb.size(), "bias");
        INFO(r.log);
        CHECK(r.rel_error < 1e-6);
        // weights of output units outside the pattern get no gradient
        for (std::size_t o = 0; o < 10; ++o) {
            bool used = false;
            for (auto c : pattern.indices()) used = used || c == o;
            if (!used) CHECK(gb(0, o) == 0.0);
        }
    }
}

namespace {

/// forward_sparse/backward_sparse vs forward/backward on the densified batch.
void sparse_input_vs_dense(std::size_t n, std::size_t in, std::size_t out, WeightLayout layout) {
    INFO(n << " x " << in << " -> " << out << " " << name(layout));
    Rng rng(6);
    Dense<float> d(in, out, rng, cfnet::nn::init::glorot_uniform(), true, layout);
    d.bias().value = random_matrix<float>(1, out, rng);
    const auto xs = random_sparse<float>(n, in, 0.06, rng);
    const auto dy = random_matrix<float>(n, out, rng);

    const Matrix<float> y_dense = d.forward(xs.to_dense());
    cfnet::nn::zero_grad(d.parameters());
    d.backward(dy);
    const Matrix<float> gw_dense = d.weight().grad, gb_dense = d.bias().grad;

    const Matrix<float>& y_sparse = d.forward_sparse(xs);
    CHECK(max_rel_diff(y_sparse, y_dense) < 1e-5);
    cfnet::nn::zero_grad(d.parameters());
    d.backward_sparse(dy);
    CHECK(max_rel_diff(d.weight().grad, gw_dense) < 1e-5);
    CHECK(max_rel_diff(d.bias().grad, gb_dense) < 1e-5);

    // touched() lists exactly the input features present in the batch, increasing
    const auto& t = d.touched();
    std::vector<bool> present(in, false);
    for (auto c : xs.indices()) present[c] = true;
    std::vector<cfnet::nn::index_type> expected;
    for (std::size_t i = 0; i < in; ++i)
        if (present[i]) expected.push_back(static_cast<cfnet::nn::index_type>(i));
    CHECK(t == expected);
}

/// forward_at/backward_at vs forward/backward with a dense gradient that is zero off the pattern.
void sparse_output_vs_dense(std::size_t n, std::size_t in, std::size_t out, WeightLayout layout) {
    INFO(n << " x " << in << " -> " << out << " " << name(layout));
    Rng rng(7);
    Dense<float> d(in, out, rng, cfnet::nn::init::glorot_uniform(), true, layout);
    d.bias().value = random_matrix<float>(1, out, rng);
    const auto x = random_matrix<float>(n, in, rng);
    const auto pattern = random_sparse<float>(n, out, 0.06, rng);
    Vector<float> de = Vector<float>::from_shape({pattern.nnz()});
    for (auto& v : de) v = static_cast<float>(rng.uniform(-1, 1));
    Matrix<float> dy = xt::zeros<float>({n, out});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t p = pattern.row_ptr()[r]; p < pattern.row_ptr()[r + 1]; ++p) dy(r, pattern.indices()[p]) = de(p);

    const Matrix<float> y_dense = d.forward(x);
    cfnet::nn::zero_grad(d.parameters());
    const Matrix<float> dx_dense = d.backward(dy);
    const Matrix<float> gw_dense = d.weight().grad, gb_dense = d.bias().grad;

    const Vector<float> ye = d.forward_at(x, pattern);
    REQUIRE(ye.size() == pattern.nnz());
    Matrix<float> y_at = xt::zeros<float>({n, out}), y_ref = xt::zeros<float>({n, out});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t p = pattern.row_ptr()[r]; p < pattern.row_ptr()[r + 1]; ++p) {
            y_at(r, pattern.indices()[p]) = ye(p);
            y_ref(r, pattern.indices()[p]) = y_dense(r, pattern.indices()[p]);
        }
    CHECK(max_rel_diff(y_at, y_ref) < 1e-5);
    cfnet::nn::zero_grad(d.parameters());
    const Matrix<float>& dx = d.backward_at(de);
    CHECK(max_rel_diff(dx, dx_dense) < 1e-5);
    CHECK(max_rel_diff(d.weight().grad, gw_dense) < 1e-5);
    CHECK(max_rel_diff(d.bias().grad, gb_dense) < 1e-5);
    const auto& t = d.touched();
    CHECK(std::is_sorted(t.begin(), t.end()));
    CHECK(std::adjacent_find(t.begin(), t.end()) == t.end());
    for (auto c : pattern.indices()) CHECK(std::binary_search(t.begin(), t.end(), c));
}

}  // namespace

// Each case runs with the SIMD-dispatched kernels (AVX2 where the CPU has it) and with the baseline ones.
TEST_CASE("Dense sparse input equals the dense path (float, 6% density)", "[dense][sparse]") {
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx2 " << cfnet::kernels::use_avx2());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        sparse_input_vs_dense(32, 1682, 512, WeightLayout::in_out);
        sparse_input_vs_dense(7, 300, 33, WeightLayout::out_in);
        sparse_input_vs_dense(5, 30, 13, WeightLayout::in_out);  // rows shorter than the 4-entry unroll
        sparse_input_vs_dense(0, 30, 5, WeightLayout::in_out);
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
}

TEST_CASE("Dense sparse output equals the dense path (float, 6% of entries)", "[dense][sparse]") {
    for (const bool simd : {true, false}) {
        INFO("simd dispatch " << simd << ", avx2 " << cfnet::kernels::use_avx2());
        cfnet::kernels::simd_dispatch_enabled() = simd;
        sparse_output_vs_dense(32, 512, 1682, WeightLayout::out_in);
        sparse_output_vs_dense(9, 13, 100, WeightLayout::out_in);  // in not a multiple of 8
        sparse_output_vs_dense(7, 45, 300, WeightLayout::in_out);
    }
    cfnet::kernels::simd_dispatch_enabled() = true;
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
    d.forward(Matrix<float>::from_shape({2, 6}));
    CHECK_THROWS_WITH(d.backward(Matrix<float>::from_shape({2, 3})), Contains("dy is 2 x 3, expected 2 x 4"));
    CHECK_THROWS_WITH(d.backward_sparse(Matrix<float>::from_shape({2, 4})), Contains("must follow forward_sparse"));
    CHECK_THROWS_WITH(d.touched(), Contains("Dense::touched"));
    CHECK_THROWS_WITH(d.forward_sparse(SparseBatch<float>(7)), Contains("input has 7 columns, expected in_features = 6"));
    SparseBatch<float> p(4);
    p.add_pattern_row({0, 2});
    CHECK_THROWS_WITH(d.forward_at(Matrix<float>::from_shape({2, 6}), p), Contains("pattern has 1 rows, input has 2"));
    CHECK_THROWS_WITH(d.forward_at(Matrix<float>::from_shape({1, 6}), SparseBatch<float>(5)),
                      Contains("pattern has 0 rows, input has 1"));
    d.forward_at(Matrix<float>::from_shape({1, 6}), p);
    CHECK_THROWS_WITH(d.backward_at(Vector<float>::from_shape({3})), Contains("3 entry gradients, but the pattern has 2"));
}
