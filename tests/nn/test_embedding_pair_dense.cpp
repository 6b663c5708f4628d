#include <cfnet/nn/embedding_pair_dense.hpp>

#include <catch2/catch.hpp>

#include <cfnet/nn/dense.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <cmath>
#include <vector>

using cfnet::Matrix;
using cfnet::Rng;
using cfnet::nn::ActivationKind;
using cfnet::nn::Dense;
using cfnet::nn::Embedding;
using cfnet::nn::EmbeddingPairDense;
using cfnet::nn::index_type;

namespace {

/// The reference: [A[a], B[b]] materialised, then y = f(x W + bias) by plain loops (double).
Matrix<double> reference(const Embedding<double>& A, const std::vector<index_type>& a, const Embedding<double>& B,
                         const std::vector<index_type>& b, const EmbeddingPairDense<double>& l) {
    const std::size_t n = a.size(), da = A.dim(), db = B.dim(), out = l.out_features();
    Matrix<double> y = Matrix<double>::from_shape({n, out});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t k = 0; k < out; ++k) {
            double s = l.bias().value(0, k);
            for (std::size_t j = 0; j < da; ++j) s += A.weight().value(a[r], j) * l.weight().value(j, k);
            for (std::size_t j = 0; j < db; ++j) s += B.weight().value(b[r], j) * l.weight().value(da + j, k);
            y(r, k) = l.activation() == ActivationKind::relu ? (s > 0 ? s : 0.0) : std::tanh(s);
        }
    return y;
}

}  // namespace

TEST_CASE("EmbeddingPairDense equals a dense layer over the concatenated lookups", "[embedding_pair_dense]") {
    for (auto act : {ActivationKind::relu, ActivationKind::tanh}) {
        Rng rng(5);
        Embedding<double> A(7, 3, rng, cfnet::nn::init::normal(0, 1)), B(9, 4, rng, cfnet::nn::init::normal(0, 1));
        EmbeddingPairDense<double> l(3, 4, 5, rng, cfnet::nn::init::normal(0, 1), act);
        for (auto& v : l.bias().value) v = rng.uniform(-1, 1);
        const std::vector<index_type> a = {2, 6, 2, 0, 2, 6}, b = {1, 1, 8, 3, 1, 0};
        const Matrix<double>& y = l.forward(A, a.data(), B, b.data(), a.size());
        const Matrix<double> ref = reference(A, a, B, b, l);
        REQUIRE(y.shape() == ref.shape());
        for (std::size_t k = 0; k < y.size(); ++k) CHECK(y.data()[k] == Approx(ref.data()[k]).margin(1e-12));
        CHECK(l.distinct_a() == std::vector<std::size_t>{2, 6, 0});
        CHECK(l.distinct_b() == std::vector<std::size_t>{1, 8, 3, 0});
        // scoring from the projections computed once gives the same outputs
        Matrix<double> pa, pb, ys;
        l.project(A, B, pa, pb);
        l.infer_projected(pa, a.data(), pb, b.data(), a.size(), ys);
        for (std::size_t k = 0; k < y.size(); ++k) CHECK(ys.data()[k] == Approx(ref.data()[k]).margin(1e-12));
        l.infer_projected_broadcast(pa, 6, pb, 2, 5, ys);
        const std::vector<index_type> a6(5, 6), b2 = {2, 3, 4, 5, 6};
        const Matrix<double> ref6 = reference(A, a6, B, b2, l);
        for (std::size_t k = 0; k < ys.size(); ++k) CHECK(ys.data()[k] == Approx(ref6.data()[k]).margin(1e-12));
    }
}

TEST_CASE("EmbeddingPairDense passes the gradient check (double)", "[embedding_pair_dense][gradcheck]") {
    for (auto act : {ActivationKind::relu, ActivationKind::tanh}) {
        Rng rng(7);
        Embedding<double> A(6, 3, rng, cfnet::nn::init::normal(0, 1)), B(5, 2, rng, cfnet::nn::init::normal(0, 1));
        EmbeddingPairDense<double> l(3, 2, 4, rng, cfnet::nn::init::normal(0, 1), act);
        for (auto& v : l.bias().value) v = rng.uniform(-0.5, 0.5);
        const std::vector<index_type> a = {1, 4, 1, 1, 0, 4, 2}, b = {3, 3, 0, 2, 3, 1, 4};
        Matrix<double> R = Matrix<double>::from_shape({a.size(), 4});
        for (auto& v : R) v = rng.uniform(-1, 1);
        auto loss = [&] {
            const auto& y = l.forward(A, a.data(), B, b.data(), a.size());
            double s = 0;
            for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * R.data()[i];
            return s;
        };
        loss();
        l.backward(R);
        // the gradients ADD: a second backward doubles them
        l.backward(R);
        std::vector<Matrix<double>> grads;
        for (auto* p : {&A.weight(), &B.weight(), &l.weight(), &l.bias()}) grads.push_back(p->grad * 0.5);
        std::size_t k = 0;
        for (auto* p : {&A.weight(), &B.weight(), &l.weight(), &l.bias()}) {
            const auto r = cfnet::testing::check_gradient(loss, p->value.data(), grads[k].data(), p->size(), p->name);
            INFO(r.log);
            CHECK(r.rel_error < 1e-6);
            ++k;
        }
        // rows no pair reads have no gradient
        for (std::size_t j = 0; j < 3; ++j) CHECK(A.weight().grad(3, j) == 0.0);
        for (std::size_t j = 0; j < 3; ++j) CHECK(A.weight().grad(5, j) == 0.0);
    }
}

TEST_CASE("EmbeddingPairDense checks its inputs", "[embedding_pair_dense]") {
    Rng rng(1);
    Embedding<float> A(4, 2, rng), B(3, 2, rng), C(3, 5, rng);
    EmbeddingPairDense<float> l(2, 2, 3, rng);
    const std::vector<index_type> a = {0, 4}, b = {0, 1};
    CHECK_THROWS_AS(l.forward(A, a.data(), B, b.data(), 2), cfnet::InvalidArgument);
    CHECK_THROWS_AS(l.forward(A, b.data(), C, b.data(), 2), cfnet::InvalidArgument);
    CHECK_THROWS_AS(l.backward(Matrix<float>::from_shape({2, 3})), cfnet::InvalidArgument);
    CHECK(l.parameters().size() == 2);
}

// Dense's scoring forms (nn/dense.hpp), which NeuralCF's scorer uses after this layer.
TEST_CASE("Dense::infer_dot and infer_partial_dot add a single-output layer's dot products", "[dense][scoring]") {
    for (std::size_t width : {16u, 20u}) {  // register tiles (float, multiple of 16) and the GEMM path
        Rng rng(3);
        Dense<float> h(12, width, rng, cfnet::nn::init::glorot_uniform(), true, cfnet::nn::WeightLayout::in_out,
                       ActivationKind::relu);
        for (auto& v : h.bias().value) v = static_cast<float>(rng.uniform(-0.2, 0.2));
        Dense<float> o(width + 3, 1, rng);
        Matrix<float> x = Matrix<float>::from_shape({37, 12});
        for (auto& v : x) v = static_cast<float>(rng.uniform(-1, 1));
        Matrix<float> y, scratch;
        h.infer(x, y);
        const float* wm = o.weight().value.data() + 3;
        std::vector<float> out(37, 1.0f), part(37, 0.5f);
        h.infer_dot(x, wm, out.data(), scratch);
        o.infer_partial_dot(y, 3, part.data());
        for (std::size_t r = 0; r < 37; ++r) {
            double s = 0;
            for (std::size_t k = 0; k < width; ++k) s += static_cast<double>(y(r, k)) * wm[k];
            CHECK(out[r] == Approx(1.0 + s).epsilon(1e-5).margin(1e-5));
            CHECK(part[r] == Approx(0.5 + s).epsilon(1e-5).margin(1e-5));
        }
        CHECK_THROWS_AS(h.infer_partial_dot(y, 0, part.data()), cfnet::InvalidArgument);  // not single-output
        CHECK_THROWS_AS(o.infer_partial_dot(y, 4, part.data()), cfnet::InvalidArgument);  // beyond its inputs
    }
}
