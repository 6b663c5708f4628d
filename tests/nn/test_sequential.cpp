#include <cfnet/nn/sequential.hpp>

#include <catch2/catch.hpp>

#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/testing/gradcheck.hpp>

using cfnet::Matrix;
using cfnet::Rng;
namespace nn = cfnet::nn;

namespace {
// A user-written layer: y = 2x, no parameters, counts set_mode calls.
struct Twice {
    using value_type = double;
    Matrix<double> y, dx;
    int mode_calls = 0;
    const Matrix<double>& forward(const Matrix<double>& x) {
        y = 2.0 * x;
        return y;
    }
    const Matrix<double>& backward(const Matrix<double>& dy) {
        dx = 2.0 * dy;
        return dx;
    }
    nn::ParameterList<double> parameters() { return {}; }
    void set_mode(nn::Mode) { ++mode_calls; }
};

Matrix<double> rnd(std::size_t r, std::size_t c, Rng& rng) {
    Matrix<double> m = Matrix<double>::from_shape({r, c});
    for (auto& v : m) v = rng.uniform(-1, 1);
    return m;
}
}  // namespace

static_assert(nn::is_layer_v<nn::Sequential<double>>);

TEST_CASE("Sequential Dense-ReLU-Dense-Sigmoid passes the gradient check (double)", "[sequential][gradcheck]") {
    Rng rng(1);
    nn::Sequential<double> net;
    net.add(nn::Dense<double>(5, 7, rng));
    net.add(nn::ReLU<double>());
    net.emplace<nn::Dense<double>>(7, 3, rng, nn::init::glorot_uniform(), true, nn::WeightLayout::out_in);
    net.add(nn::Sigmoid<double>());
    for (auto* p : net.parameters()) p->value += rnd(p->rows(), p->cols(), rng) * 0.1;  // nonzero biases
    const auto r = cfnet::testing::check_layer(net, rnd(4, 5, rng));
    INFO(r.log);
    CHECK(r);
    CHECK(r.rel_error < 1e-6);
}

TEST_CASE("Sequential chains forward/backward, concatenates parameters and propagates the mode", "[sequential]") {
    Rng rng(2);
    nn::Sequential<double> net;
    auto& d1 = net.add(nn::Dense<double>(3, 2, rng));
    auto& t = net.add(Twice{});
    auto& d2 = net.emplace<nn::Dense<double>>(2, 2, rng, nn::init::glorot_uniform(), false);
    auto& drop = net.emplace<nn::Dropout<double>>(0.5, 3);
    CHECK(net.size() == 4);
    const auto params = net.parameters();
    REQUIRE(params.size() == 3);
    CHECK(params[0] == &d1.weight());
    CHECK(params[1] == &d1.bias());
    CHECK(params[2] == &d2.weight());

    net.set_mode(nn::Mode::eval);
    CHECK(t.mode_calls == 1);
    CHECK(drop.mode() == nn::Mode::eval);
    const Matrix<double> x = rnd(2, 3, rng);
    // reference: compose by hand
    Rng rng2(2);
    nn::Dense<double> e1(3, 2, rng2);
    nn::Dense<double> e2(2, 2, rng2, nn::init::glorot_uniform(), false);
    // Dense keeps a reference to its input until backward: the intermediate must be a named matrix
    const Matrix<double> h = 2.0 * e1.forward(x);
    const Matrix<double> ref = e2.forward(h);
    CHECK(xt::allclose(net.forward(x), ref));
    const Matrix<double> dy = rnd(2, 2, rng);
    const Matrix<double> dref = e1.backward(2.0 * e2.backward(dy));
    CHECK(xt::allclose(net.backward(dy), dref));
    CHECK(xt::allclose(d1.weight().grad, e1.weight().grad));

    CHECK(&net.layer<Twice>(1) == &t);
    CHECK_THROWS_AS(net.layer<Twice>(0), cfnet::InvalidArgument);
    CHECK_THROWS_AS(net.layer<Twice>(4), cfnet::InvalidArgument);
}

TEST_CASE("Sequential copies are deep", "[sequential]") {
    Rng rng(3);
    nn::Sequential<double> a;
    a.add(nn::Dense<double>(2, 2, rng));
    nn::Sequential<double> b = a;
    b.layer<nn::Dense<double>>(0).weight().value(0, 0) += 1.0;
    CHECK(a.layer<nn::Dense<double>>(0).weight().value(0, 0) + 1.0 == b.layer<nn::Dense<double>>(0).weight().value(0, 0));
    CHECK(a.parameters()[0] != b.parameters()[0]);
}

TEST_CASE("Sequential errors", "[sequential][errors]") {
    using Catch::Matchers::Contains;
    nn::Sequential<float> net;
    CHECK_THROWS_WITH(net.forward(Matrix<float>{{1}}), Contains("Sequential::forward: no layers"));
    Rng rng(4);
    net.add(nn::Dense<float>(3, 2, rng));
    CHECK_THROWS_WITH(net.forward(Matrix<float>{{1, 2}}), Contains("input has 2 columns, expected in_features = 3"));
}
