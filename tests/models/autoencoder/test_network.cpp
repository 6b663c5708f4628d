// models/autoencoder/network.hpp: AutoencoderNet's sparse training step against a dense reference
// written out naively here (same loss, same gradients, same weights after training), a gradient
// check of the whole network's loss in double, and the AVX-512 register-tile path against the plain
// one.
#include <cfnet/models/autoencoder/model.hpp>
#include <cfnet/models/autoencoder/network.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

using cfnet::ActivationKind;
using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::index_type;
using cfnet::Matrix;
using cfnet::RatingMatrix;
using cfnet_test::sparse_ratings;

namespace {

template <class T>
T act(ActivationKind k, T x) {
    T y{};
    cfnet::nn::with_activation(k, [&](auto fn) { y = fn.value(x); });
    return y;
}
template <class T>
T act_deriv(ActivationKind k, T y) {
    T d{};
    cfnet::nn::with_activation(k, [&](auto fn) { d = fn.derivative(y); });
    return d;
}

// The dense reference: the whole autoencoder on dense batch x n_units matrices with plain loops,
// weights in the logical in x out layout.
template <class T>
struct DenseReference {
    std::vector<Matrix<T>> W, b;  // W[l]: in x out, b[l]: 1 x out
    ActivationKind hidden = ActivationKind::relu, output = ActivationKind::identity;
    cfnet::nn::MaskNormalization norm = cfnet::nn::MaskNormalization::per_sample;

    // Copies the model's parameters (the last layer is stored out x in there).
    static DenseReference from(AutoencoderCF<T>& m) {
        DenseReference r;
        auto ps = m.parameters();
        const std::size_t L = ps.size() / 2;
        for (std::size_t l = 0; l < L; ++l) {
            Matrix<T> w = ps[2 * l]->value;
            if (l + 1 == L) w = xt::transpose(ps[2 * l]->value);
            r.W.push_back(w);
            r.b.push_back(ps[2 * l + 1]->value);
        }
        r.hidden = m.options().hidden_activation;
        r.output = m.options().output_activation;
        r.norm = m.options().loss_normalization;
        return r;
    }

    // Loss of the dense batch X with mask M (target = X); gradients written into gW/gb.
    double loss_and_gradient(const Matrix<T>& X, const Matrix<T>& M, std::vector<Matrix<T>>& gW,
                             std::vector<Matrix<T>>& gb) const {
        const std::size_t L = W.size(), B = X.shape(0);
        std::vector<Matrix<T>> A{X};  // A[l] = input of layer l; A[L] = output
        for (std::size_t l = 0; l < L; ++l) {
            const std::size_t in = W[l].shape(0), out = W[l].shape(1);
            Matrix<T> Z = Matrix<T>::from_shape({B, out});
            for (std::size_t r = 0; r < B; ++r)
                for (std::size_t o = 0; o < out; ++o) {
                    T s = b[l](0, o);
                    for (std::size_t i = 0; i < in; ++i) s += A[l](r, i) * W[l](i, o);
                    Z(r, o) = act(l + 1 == L ? output : hidden, s);
                }
            A.push_back(Z);
        }
        Matrix<T> dY;
        const cfnet::nn::MaskedMSE<T> loss(norm);
        const double value = loss.value_and_gradient(A[L], X, M, dY);
        gW.assign(L, Matrix<T>());
        gb.assign(L, Matrix<T>());
        for (std::size_t l = L; l-- > 0;) {
            const std::size_t in = W[l].shape(0), out = W[l].shape(1);
            Matrix<T> dZ = Matrix<T>::from_shape({B, out});
            for (std::size_t r = 0; r < B; ++r)
                for (std::size_t o = 0; o < out; ++o)
                    dZ(r, o) = dY(r, o) * act_deriv(l + 1 == L ? output : hidden, A[l + 1](r, o));
            gW[l] = xt::zeros<T>({in, out});
            gb[l] = xt::zeros<T>({std::size_t(1), out});
            Matrix<T> dA = xt::zeros<T>({B, in});
            for (std::size_t r = 0; r < B; ++r)
                for (std::size_t o = 0; o < out; ++o) {
                    gb[l](0, o) += dZ(r, o);
                    for (std::size_t i = 0; i < in; ++i) {
                        gW[l](i, o) += A[l](r, i) * dZ(r, o);
                        dA(r, i) += dZ(r, o) * W[l](i, o);
                    }
                }
            dY = dA;
        }
        return value;
    }
};

template <class T>
void dense_rows(const RatingMatrix<T>& m, const std::vector<index_type>& rows, Matrix<T>& X, Matrix<T>& M) {
    m.user_batch(rows, X, &M);
}

// The model's gradients in the logical layout.
template <class T>
std::vector<Matrix<T>> model_weight_grads(AutoencoderCF<T>& m) {
    auto ps = m.parameters();
    const std::size_t L = ps.size() / 2;
    std::vector<Matrix<T>> g;
    for (std::size_t l = 0; l < L; ++l) {
        Matrix<T> w = ps[2 * l]->grad;
        if (l + 1 == L) w = xt::transpose(ps[2 * l]->grad);
        g.push_back(w);
    }
    return g;
}

}  // namespace

TEST_CASE("AutoencoderCF: sparse loss and gradients equal the dense reference (float)", "[autoencoder]") {
    const auto data = sparse_ratings<float>(40, 30, 8, 3);
    for (auto act_kind : {ActivationKind::relu, ActivationKind::tanh}) {
        for (auto norm : {cfnet::nn::MaskNormalization::per_sample, cfnet::nn::MaskNormalization::global}) {
            AutoencoderOptions o;
            o.hidden = {32, 16, 32};  // multiples of 16: with ReLU, the middle layers take the fused AVX-512 kernel where the CPU has it
            o.hidden_activation = act_kind;
            o.output_activation = act_kind == ActivationKind::tanh ? ActivationKind::sigmoid : ActivationKind::identity;
            o.loss_normalization = norm;
            AutoencoderCF<float> m(o);
            m.initialize(data);
            cfnet::Rng brng(5);  // non-zero biases, so that every bias path is checked
            auto params = m.parameters();
            for (std::size_t k = 1; k < params.size(); k += 2)
                for (auto& v : params[k]->value) v = static_cast<float>(brng.uniform(-0.1, 0.1));
            const std::vector<index_type> rows{0, 3, 5, 9, 17, 38};  // row 3 has a single rating
            cfnet::nn::zero_grad(m.parameters());
            const double l_sparse = m.loss_and_gradient(data, rows);

            const auto ref = DenseReference<float>::from(m);
            Matrix<float> X, M;
            dense_rows(data, rows, X, M);
            std::vector<Matrix<float>> gW, gb;
            const double l_dense = ref.loss_and_gradient(X, M, gW, gb);
            CHECK(l_sparse == Approx(l_dense).epsilon(1e-5));
            const auto g = model_weight_grads(m);
            auto ps = m.parameters();
            for (std::size_t l = 0; l < gW.size(); ++l) {
                INFO("layer " << l);
                CHECK(xt::allclose(g[l], gW[l], 1e-4, 1e-6));
                CHECK(xt::allclose(ps[2 * l + 1]->grad, gb[l], 1e-4, 1e-6));
            }
            // the never-rated item (last unit) gets exactly zero gradient in the first and last layer
            const std::size_t last = data.n_items() - 1;
            CHECK(xt::all(xt::equal(xt::view(ps[0]->grad, last, xt::all()), 0.0f)));
            CHECK(xt::all(xt::equal(xt::view(ps.back()->grad, 0, last), 0.0f)));
        }
    }
}

TEST_CASE("AutoencoderCF: whole-model gradient check in double", "[autoencoder][gradcheck]") {
    const auto data = sparse_ratings<double>(12, 10, 4, 5);
    struct Case {
        ActivationKind hidden, output;
        bool item_based;
        bool residual = false;  // the network reads residuals of the bias baseline (residual.hpp)
    };
    for (const Case c : {Case{ActivationKind::tanh, ActivationKind::identity, false},
                         Case{ActivationKind::sigmoid, ActivationKind::sigmoid, true},
                         Case{ActivationKind::relu, ActivationKind::identity, false},
                         Case{ActivationKind::tanh, ActivationKind::identity, false, true},
                         Case{ActivationKind::sigmoid, ActivationKind::identity, true, true}}) {
        AutoencoderOptions o;
        o.hidden = {5, 3, 4};
        o.hidden_activation = c.hidden;
        o.output_activation = c.output;
        o.orientation = c.item_based ? cfnet::Orientation::item_based : cfnet::Orientation::user_based;
        o.residual = c.residual;
        AutoencoderCF<double> m(o);
        m.initialize(data);
        // large enough weights that sigmoid/tanh are not in their linear regime
        auto ps = m.parameters();
        cfnet::Rng rng(11);
        for (auto* p : ps)
            for (auto& v : p->value) v = rng.uniform(-0.8, 0.8);
        const std::vector<index_type> rows{0, 2, 3, 7, 9};
        cfnet::nn::zero_grad(ps);
        m.loss_and_gradient(data, rows);
        std::vector<Matrix<double>> analytic;
        for (auto* p : ps) analytic.push_back(p->grad);
        auto loss = [&] {
            cfnet::nn::zero_grad(ps);
            return m.loss_and_gradient(data, rows);
        };
        cfnet::testing::GradCheckOptions gopt;
        gopt.tolerance = 1e-6;
        for (std::size_t k = 0; k < ps.size(); ++k) {
            auto r = cfnet::testing::check_gradient(loss, ps[k]->value.data(), analytic[k].data(), ps[k]->size(),
                                                    ps[k]->name, gopt);
            INFO(r.log);
            CHECK(r);
        }
    }
}

TEST_CASE("AutoencoderCF: fitted weights equal dense reference training with dense Adam (double)", "[autoencoder]") {
    const auto data = sparse_ratings<double>(30, 25, 6, 9);
    for (const bool item_based : {false, true}) {
        AutoencoderOptions o;
        o.hidden = {12, 6, 12};
        o.batch_size = 8;  // 30 rows: three full batches and a partial one
        o.epochs = 3;
        o.seed = 17;
        o.weight_decay = item_based ? 0.01 : 0.0;
        o.orientation = item_based ? cfnet::Orientation::item_based : cfnet::Orientation::user_based;
        AutoencoderCF<double> model(o);
        AutoencoderCF<double> init(o);
        init.initialize(data);

        // Reference: dense forward/backward, optim::Adam::step() over all parameters.
        auto ref = DenseReference<double>::from(init);
        std::vector<cfnet::nn::Parameter<double>> params;
        for (std::size_t l = 0; l < ref.W.size(); ++l) {
            params.emplace_back("w", ref.W[l].shape(0), ref.W[l].shape(1));
            params.back().value = ref.W[l];
            params.emplace_back("b", 1, ref.b[l].shape(1));
            params.back().value = ref.b[l];
        }
        cfnet::nn::ParameterList<double> plist;
        for (auto& p : params) plist.push_back(&p);
        cfnet::optim::Adam<double> adam(plist, cfnet::optim::AdamOptions().lr(o.learning_rate).weight_decay(o.weight_decay));
        const RatingMatrix<double> d = item_based ? data.transposed() : data;
        cfnet::Rng shuffle(cfnet::detail::ae_seed(o.seed, cfnet::detail::ae_stream_shuffle));
        std::vector<double> ref_losses;
        for (int e = 0; e < o.epochs; ++e) {
            const auto order = shuffle.permutation<index_type>(d.n_users());
            double total = 0;
            for (std::size_t b0 = 0; b0 < order.size(); b0 += o.batch_size) {
                const std::size_t b1 = std::min(order.size(), b0 + o.batch_size);
                const std::vector<index_type> rows(order.begin() + static_cast<std::ptrdiff_t>(b0),
                                                   order.begin() + static_cast<std::ptrdiff_t>(b1));
                for (std::size_t l = 0; l < ref.W.size(); ++l) {
                    ref.W[l] = params[2 * l].value;
                    ref.b[l] = params[2 * l + 1].value;
                }
                Matrix<double> X, M;
                dense_rows(d, rows, X, M);
                std::vector<Matrix<double>> gW, gb;
                total += ref.loss_and_gradient(X, M, gW, gb) * static_cast<double>(rows.size());
                for (std::size_t l = 0; l < ref.W.size(); ++l) {
                    params[2 * l].grad = gW[l];
                    params[2 * l + 1].grad = gb[l];
                }
                adam.step();
            }
            ref_losses.push_back(total / static_cast<double>(order.size()));
        }

        const auto h = model.fit(data);
        REQUIRE(h.size() == ref_losses.size());
        for (std::size_t e = 0; e < h.size(); ++e) CHECK(h[e].loss == Approx(ref_losses[e]).epsilon(1e-10));
        auto ps = model.parameters();
        for (std::size_t l = 0; l < ref.W.size(); ++l) {
            INFO("item_based " << item_based << ", layer " << l);
            Matrix<double> w = ps[2 * l]->value;
            if (l + 1 == ref.W.size()) w = xt::transpose(ps[2 * l]->value);
            CHECK(xt::allclose(w, params[2 * l].value, 1e-9, 1e-12));
            CHECK(xt::allclose(ps[2 * l + 1]->value, params[2 * l + 1].value, 1e-9, 1e-12));
            // and training moved them
            CHECK_FALSE(xt::allclose(params[2 * l].value, DenseReference<double>::from(init).W[l]));
        }
    }
}

TEST_CASE("AutoencoderCF: training on the AVX-512 kernels agrees with the plain path (float)", "[autoencoder]") {
    // Widths that are multiples of 16: where the CPU has AVX-512, every layer of the step runs the
    // register-tile kernels (kernels/dense.hpp, kernels/sparse.hpp); switching the dispatch
    // off runs the plain path, which the double test above pins to the dense reference.
    const auto data = sparse_ratings<float>(48, 70, 12, 21);
    if (!cfnet::kernels::avx512_tiles<float>(16)) {
        WARN("no AVX-512 on this CPU (or no SIMD dispatch): the blocked kernels are not used here");
        return;
    }
    for (const double wd : {0.0, 0.01}) {
        AutoencoderOptions o;
        o.hidden = {64, 16, 32};
        o.batch_size = 16;
        o.epochs = 2;  // six Adam steps
        o.weight_decay = wd;
        AutoencoderCF<float> fast(o), plain(o);
        const auto hf = fast.fit(data);
        {
            struct Off {
                Off() { cfnet::kernels::simd_dispatch_enabled() = false; }
                ~Off() { cfnet::kernels::simd_dispatch_enabled() = true; }
            } off;
            plain.fit(data);
        }
        auto pf = fast.parameters(), pp = plain.parameters();
        REQUIRE(pf.size() == pp.size());
        bool any_differs = false;
        for (std::size_t k = 0; k < pf.size(); ++k) {
            INFO("weight decay " << wd << ", parameter " << pf[k]->name);
            const float worst = xt::amax(xt::abs(pf[k]->value - pp[k]->value))();
            // six steps of at most lr = 1e-3 each: agreement far below one step means the same training
            CHECK(worst <= 1e-5f);
            any_differs = any_differs || worst > 0;
        }
        CHECK(any_differs);  // the blocked kernels ran (they round differently)
    }
}
