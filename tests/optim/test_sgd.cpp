#include <cfnet/detail/rng.hpp>
#include <cfnet/optim/sgd.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

using cfnet::Matrix;
using cfnet::nn::Parameter;
using cfnet::nn::ParameterList;
using cfnet::optim::SGD;
using cfnet::optim::SGDOptions;

static_assert(cfnet::optim::is_optimizer_v<SGD<float>>);
static_assert(!cfnet::optim::is_optimizer_v<int>);

namespace {

// One 1x2 parameter p0 = {1, -2}; step 1 uses g1 = {0.5, 1}, step 2 uses g2 = {-1, 2}.
Matrix<double> two_steps(const SGDOptions& o) {
    Parameter<double> p("w", 1, 2);
    p.value = Matrix<double>{{1, -2}};
    SGD<double> opt({&p}, o);
    p.grad = Matrix<double>{{0.5, 1}};
    opt.step();
    p.grad = Matrix<double>{{-1, 2}};
    opt.step();
    return p.value;
}

bool close(const Matrix<double>& a, const Matrix<double>& b) { return xt::allclose(a, b, 1e-14, 1e-14); }

// A quadratic pulling each entry towards 0: grad = value.
void set_quadratic_grad(Parameter<float>& p) { p.grad = p.value; }

}  // namespace

TEST_CASE("SGD: hand-computed first two steps", "[sgd]") {
    SECTION("plain") {
        // p1 = p0 - 0.1 g1 = {1 - 0.05, -2 - 0.1} = {0.95, -2.1}
        // p2 = p1 - 0.1 g2 = {0.95 + 0.1, -2.1 - 0.2} = {1.05, -2.3}
        CHECK(close(two_steps(SGDOptions(0.1)), Matrix<double>{{1.05, -2.3}}));
    }
    SECTION("L2 weight decay 0.1") {
        // g' = g1 + 0.1 p0 = {0.6, 0.8};            p1 = {1 - 0.06, -2 - 0.08} = {0.94, -2.08}
        // g' = g2 + 0.1 p1 = {-0.906, 1.792};        p2 = {0.94 + 0.0906, -2.08 - 0.1792} = {1.0306, -2.2592}
        CHECK(close(two_steps(SGDOptions(0.1).weight_decay(0.1)), Matrix<double>{{1.0306, -2.2592}}));
    }
    SECTION("momentum 0.9") {
        // buf = g1 = {0.5, 1};                               p1 = {0.95, -2.1}
        // buf = 0.9 {0.5, 1} + {-1, 2} = {-0.55, 2.9};       p2 = {0.95 + 0.055, -2.1 - 0.29} = {1.005, -2.39}
        CHECK(close(two_steps(SGDOptions(0.1).momentum(0.9)), Matrix<double>{{1.005, -2.39}}));
    }
    SECTION("momentum 0.9, dampening 0.5") {
        // step 1 ignores dampening (PyTorch): buf = g1;      p1 = {0.95, -2.1}
        // buf = 0.9 {0.5, 1} + 0.5 {-1, 2} = {-0.05, 1.9};   p2 = {0.95 + 0.005, -2.1 - 0.19} = {0.955, -2.29}
        CHECK(close(two_steps(SGDOptions(0.1).momentum(0.9).dampening(0.5)), Matrix<double>{{0.955, -2.29}}));
    }
    SECTION("Nesterov 0.9") {
        // buf = g1; g = g1 + 0.9 buf = {0.95, 1.9};         p1 = {1 - 0.095, -2 - 0.19} = {0.905, -2.19}
        // buf = {-0.55, 2.9}; g = g2 + 0.9 buf = {-1.495, 4.61}; p2 = {0.905 + 0.1495, -2.19 - 0.461} = {1.0545, -2.651}
        CHECK(close(two_steps(SGDOptions(0.1).momentum(0.9).nesterov(true)), Matrix<double>{{1.0545, -2.651}}));
    }
    SECTION("float agrees to float rounding") {
        Parameter<float> p("w", 1, 2);
        p.value = Matrix<float>{{1, -2}};
        SGD<float> opt({&p}, SGDOptions(0.1).momentum(0.9).nesterov(true));
        p.grad = Matrix<float>{{0.5f, 1}};
        opt.step();
        p.grad = Matrix<float>{{-1, 2}};
        opt.step();
        CHECK(p.value(0, 0) == Approx(1.0545).epsilon(1e-6));
        CHECK(p.value(0, 1) == Approx(-2.651).epsilon(1e-6));
    }
}

TEST_CASE("SGD: options are validated", "[sgd]") {
    CHECK_THROWS_AS(SGDOptions(-0.1), cfnet::InvalidArgument);
    CHECK_THROWS_AS(SGDOptions(0.1).momentum(1.5), cfnet::InvalidArgument);
    CHECK_THROWS_AS(SGDOptions(0.1).weight_decay(-1), cfnet::InvalidArgument);
    CHECK_THROWS_AS(SGDOptions(std::nan("")), cfnet::InvalidArgument);
    Parameter<float> p("w", 2, 2);
    CHECK_THROWS_AS(SGD<float>({&p}, SGDOptions(0.1).nesterov(true)), cfnet::InvalidArgument);
    CHECK_THROWS_AS(SGD<float>({&p}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                    cfnet::InvalidArgument);
    CHECK_THROWS_AS(SGD<float>({nullptr}, SGDOptions(0.1)), cfnet::InvalidArgument);
    const auto o = SGDOptions(0.2).momentum(0.5).nesterov(true).weight_decay(0.01);
    CHECK(o.lr() == 0.2);
    CHECK(o.momentum() == 0.5);
    CHECK(o.nesterov());
    CHECK(o.weight_decay() == 0.01);
}

TEST_CASE("SGD: row-range updates equal step(), and the lazy update touches only the listed rows", "[sgd]") {
    cfnet::Rng rng(3);
    Parameter<float> a("a", 5, 3), b("b", 5, 3);
    for (auto& x : a.value) x = static_cast<float>(rng.uniform(-1, 1));
    b.value = a.value;
    SGD<float> full({&a}, SGDOptions(0.1).momentum(0.9));
    SGD<float> split({&b}, SGDOptions(0.1).momentum(0.9));
    for (int s = 0; s < 3; ++s) {
        for (auto& x : a.grad) x = static_cast<float>(rng.uniform(-1, 1));
        b.grad = a.grad;
        full.step();
        split.begin_step();
        split.update_rows(0, 0, 2);
        split.update_row(0, 2);
        split.update_rows(0, 3, 5);
    }
    CHECK((a.value == b.value));
    CHECK((*full.state()[0].tensor == *split.state()[0].tensor));

    // Lazy: rows 1 and 3 only. Rows 0, 2, 4 keep value and momentum buffer.
    const Matrix<float> before = b.value, buf_before = *split.state()[0].tensor;
    for (auto& x : b.grad) x = 1.f;
    split.begin_step();
    split.update_row_list(0, std::vector<std::size_t>{1, 3});
    const Matrix<float>& buf = *split.state()[0].tensor;
    for (std::size_t r = 0; r < 5; ++r) {
        const bool listed = r == 1 || r == 3;
        for (std::size_t c = 0; c < 3; ++c) {
            CHECK((b.value(r, c) != before(r, c)) == listed);
            CHECK((buf(r, c) != buf_before(r, c)) == listed);
            if (listed) CHECK(buf(r, c) == Approx(0.9f * buf_before(r, c) + 1.f));
        }
    }
    CHECK_THROWS_AS(split.update_row_list(0, std::vector<std::size_t>{5}), cfnet::InvalidArgument);
    CHECK_THROWS_AS(split.update_rows(0, 4, 6), cfnet::InvalidArgument);
    CHECK_THROWS_AS(split.update(1), cfnet::InvalidArgument);
}

TEST_CASE("SGD: state is by slot and survives moving the parameters (rebind)", "[sgd]") {
    std::vector<Parameter<float>> ref(2), moving(2);
    ref[0] = Parameter<float>("w", 3, 2);
    ref[1] = Parameter<float>("b", 1, 2);
    cfnet::Rng rng(5);
    for (auto& p : ref)
        for (auto& x : p.value) x = static_cast<float>(rng.uniform(-1, 1));
    moving = ref;
    const auto opts = SGDOptions(0.05).momentum(0.8).weight_decay(0.01);
    SGD<float> ro({&ref[0], &ref[1]}, opts);
    SGD<float> mo({&moving[0], &moving[1]}, opts);
    for (int s = 0; s < 4; ++s) {
        for (auto& p : ref) set_quadratic_grad(p);
        for (auto& p : moving) set_quadratic_grad(p);
        ro.step();
        mo.step();
        // Move the parameters elsewhere (new addresses), then point the optimizer at them.
        std::vector<Parameter<float>> moved = std::move(moving);
        moving = std::vector<Parameter<float>>();
        moving.reserve(8);
        for (auto& p : moved) moving.push_back(std::move(p));
        mo.rebind({&moving[0], &moving[1]});
    }
    CHECK((ref[0].value == moving[0].value));
    CHECK((ref[1].value == moving[1].value));
    const auto st = mo.state();
    REQUIRE(st.size() == 2);
    CHECK(st[0].name == "sgd.momentum.0");
    CHECK(st[1].name == "sgd.momentum.1");
    CHECK(mo.steps() == 4);
    CHECK(SGD<float>({&ref[0]}, SGDOptions(0.1)).state().empty());  // no momentum: no state

    Parameter<float> wrong("w", 2, 3);
    CHECK_THROWS_AS(mo.rebind({&wrong, &moving[1]}), cfnet::InvalidArgument);
    CHECK_THROWS_AS(mo.rebind({&moving[0]}), cfnet::InvalidArgument);
}

TEST_CASE("SGD: the same seed gives bit-identical parameters", "[sgd]") {
    auto run = [](std::uint64_t seed) {
        cfnet::Rng rng(seed);
        Parameter<float> p("w", 20, 7);
        for (auto& x : p.value) x = static_cast<float>(rng.normal());
        SGD<float> opt({&p}, SGDOptions(0.03).momentum(0.9).nesterov(true).weight_decay(1e-3));
        for (int s = 0; s < 25; ++s) {
            opt.zero_grad();
            for (std::size_t k = 0; k < p.size(); ++k)
                p.grad.data()[k] = p.value.data()[k] + static_cast<float>(rng.uniform(-0.1, 0.1));
            opt.step();
        }
        return p.value;
    };
    const Matrix<float> a = run(9), b = run(9), c = run(10);
    CHECK((a == b));
    CHECK_FALSE((a == c));
}
