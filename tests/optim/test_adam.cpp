#include <cfnet/detail/rng.hpp>
#include <cfnet/optim/adam.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

using cfnet::Matrix;
using cfnet::nn::Parameter;
using cfnet::optim::Adam;
using cfnet::optim::AdamOptions;

static_assert(cfnet::optim::is_optimizer_v<Adam<float>>);

namespace {

// Naive reference: Keras' Adam written out in double, one scalar at a time, in the textbook form
// m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps).
struct RefAdam {
    double lr, b1, b2, eps, wd;
    bool decoupled;
    std::vector<double> m, v;
    int t = 0;
    void step(std::vector<double>& p, const std::vector<double>& grad) {
        ++t;
        m.resize(p.size());
        v.resize(p.size());
        const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double g = decoupled ? grad[i] : grad[i] + wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            if (decoupled) p[i] -= lr * wd * p[i];
            p[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps);
        }
    }
};

// p0 = {1, -2}; g1 = {0.5, 1}; g2 = {-1, 2}; lr 0.1, Keras defaults otherwise.
template <class T>
Matrix<T> adam_two_steps(const AdamOptions& o) {
    Parameter<T> p("w", 1, 2);
    p.value = Matrix<T>{{1, -2}};
    Adam<T> opt({&p}, o);
    p.grad = Matrix<T>{{0.5, 1}};
    opt.step();
    p.grad = Matrix<T>{{-1, 2}};
    opt.step();
    return p.value;
}

std::vector<double> ref_two_steps(double wd, bool decoupled) {
    RefAdam ref{0.1, 0.9, 0.999, 1e-7, wd, decoupled, {}, {}};
    std::vector<double> p{1, -2};
    ref.step(p, {0.5, 1});
    ref.step(p, {-1, 2});
    return p;
}

}  // namespace

TEST_CASE("Adam: Keras defaults", "[adam]") {
    const AdamOptions o;
    CHECK(o.lr() == 1e-3);
    CHECK(o.beta1() == 0.9);
    CHECK(o.beta2() == 0.999);
    CHECK(o.epsilon() == 1e-7);
    CHECK(o.weight_decay() == 0.0);
    CHECK_FALSE(o.decoupled_weight_decay());
    CHECK_THROWS_AS(AdamOptions().beta1(1.0), cfnet::InvalidArgument);
    CHECK_THROWS_AS(AdamOptions().beta2(-0.1), cfnet::InvalidArgument);
    CHECK_THROWS_AS(AdamOptions().epsilon(0), cfnet::InvalidArgument);
    CHECK_THROWS_AS(AdamOptions().lr(-1), cfnet::InvalidArgument);
}

TEST_CASE("Adam: hand-computed first two steps (Keras epsilon placement)", "[adam]") {
    // Step 1: m = 0.1 g1 = {0.05, 0.1}; v = 0.001 g1^2 = {2.5e-4, 1e-3};
    //   lr_1 = 0.1 sqrt(1 - 0.999) / (1 - 0.9) = sqrt(0.001) = 0.0316227766
    //   p0 -= 0.0316227766 * 0.05 / (0.0158113883 + 1e-7) = 0.0999993675  -> 0.9000006325
    //   p1 -= 0.0316227766 * 0.1  / (0.0316227766 + 1e-7) = 0.0999996838  -> -2.0999996838
    // Step 2: m = 0.9 m + 0.1 g2 = {-0.055, 0.29}; v = 0.999 v + 0.001 g2^2 = {0.00124975, 0.004999};
    //   lr_2 = 0.1 sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.1 * 0.0447101778 / 0.19 = 0.0235316725
    //   p0 -= 0.0235316725 * -0.055 / (0.0353518033 + 1e-7) = -0.0366102491 -> 0.9366108816
    //   p1 -= 0.0235316725 *  0.29  / (0.0707036067 + 1e-7) =  0.0965180660 -> -2.1965177498
    const Matrix<double> d = adam_two_steps<double>(AdamOptions().lr(0.1));
    CHECK(d(0, 0) == Approx(0.9366108816).epsilon(1e-10));
    CHECK(d(0, 1) == Approx(-2.1965177498).epsilon(1e-10));
    const auto ref = ref_two_steps(0, false);
    CHECK(d(0, 0) == Approx(ref[0]).epsilon(1e-14));
    CHECK(d(0, 1) == Approx(ref[1]).epsilon(1e-14));
    // float: the same to float rounding
    const Matrix<float> f = adam_two_steps<float>(AdamOptions().lr(0.1));
    CHECK(f(0, 0) == Approx(0.9366108816).epsilon(2e-6));
    CHECK(f(0, 1) == Approx(-2.1965177498).epsilon(2e-6));

    // Epsilon is added to sqrt(v) without bias correction (Keras), not to sqrt(v_hat) (PyTorch):
    // with a huge epsilon the two differ visibly. Step 1, g = 0.5, eps = 0.01, lr 0.1:
    //   Keras:   0.0316227766 * 0.05 / (0.0158113883 + 0.01) = 0.0612574 -> p = 0.9387426
    //   PyTorch: 0.1 * 0.5 / (0.5 + 0.01) = 0.0980392            -> p = 0.9019608
    Parameter<double> p("w", 1, 1);
    p.value(0, 0) = 1;
    p.grad(0, 0) = 0.5;
    Adam<double> opt({&p}, AdamOptions().lr(0.1).epsilon(0.01));
    opt.step();
    CHECK(p.value(0, 0) == Approx(0.9387426).epsilon(1e-6));
    CHECK(opt.current_step_size() == Approx(0.0316227766).epsilon(1e-9));
}

TEST_CASE("Adam: coupled (L2) and decoupled (AdamW) weight decay", "[adam]") {
    // Decoupled, step 1 by hand: p -= 0.1 * 0.1 * p -> {0.99, -1.98}; then the Adam step of step 1
    // above (0.0999993675, 0.0999996838) -> {0.8900006325, -2.0799996838}.
    {
        Parameter<double> p("w", 1, 2);
        p.value = Matrix<double>{{1, -2}};
        Adam<double> opt({&p}, AdamOptions().lr(0.1).weight_decay(0.1).decoupled_weight_decay(true));
        p.grad = Matrix<double>{{0.5, 1}};
        opt.step();
        CHECK(p.value(0, 0) == Approx(0.8900006325).epsilon(1e-10));
        CHECK(p.value(0, 1) == Approx(-2.0799996838).epsilon(1e-10));
    }
    // Coupled, step 1 by hand: g' = g1 + 0.1 p0 = {0.6, 0.8}: Adam's first step is ~lr * sign(g'),
    // 0.0316227766 * 0.06 / (sqrt(0.00036) + 1e-7) = 0.0999994730 -> 0.9000005270.
    {
        Parameter<double> p("w", 1, 2);
        p.value = Matrix<double>{{1, -2}};
        Adam<double> opt({&p}, AdamOptions().lr(0.1).weight_decay(0.1));
        p.grad = Matrix<double>{{0.5, 1}};
        opt.step();
        CHECK(p.value(0, 0) == Approx(0.9000005270).epsilon(1e-10));
    }
    for (bool decoupled : {false, true}) {
        const auto o = AdamOptions().lr(0.1).weight_decay(0.1).decoupled_weight_decay(decoupled);
        const auto ref = ref_two_steps(0.1, decoupled);
        const Matrix<double> d = adam_two_steps<double>(o);
        CHECK(d(0, 0) == Approx(ref[0]).epsilon(1e-14));
        CHECK(d(0, 1) == Approx(ref[1]).epsilon(1e-14));
        const Matrix<float> f = adam_two_steps<float>(o);
        CHECK(f(0, 0) == Approx(ref[0]).epsilon(2e-6));
        CHECK(f(0, 1) == Approx(ref[1]).epsilon(2e-6));
    }
    // coupled and decoupled really differ after two steps
    const auto c = ref_two_steps(0.1, false), dc = ref_two_steps(0.1, true);
    CHECK(std::abs(c[0] - dc[0]) > 1e-3);
}

TEST_CASE("Adam: matches the naive reference over many steps and minimises a quadratic", "[adam]") {
    // f(p) = sum_i a_i (p_i - c_i)^2 / 2, grad = a (p - c), badly scaled a.
    const std::vector<double> a{0.01, 1, 100, 5}, c{3, -1, 0.5, 2};
    Parameter<double> p("w", 2, 2);
    std::vector<double> rp(4, 0.0);
    Adam<double> opt({&p}, AdamOptions().lr(0.05));
    RefAdam ref{0.05, 0.9, 0.999, 1e-7, 0, false, {}, {}};
    for (int s = 0; s < 3000; ++s) {
        std::vector<double> g(4);
        for (std::size_t i = 0; i < 4; ++i) {
            p.grad.data()[i] = a[i] * (p.value.data()[i] - c[i]);
            g[i] = a[i] * (rp[i] - c[i]);
        }
        opt.step();
        ref.step(rp, g);
    }
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(p.value.data()[i] == Approx(rp[i]).epsilon(1e-9));
        CHECK(p.value.data()[i] == Approx(c[i]).margin(1e-3));
    }
    CHECK(opt.steps() == 3000);
}

TEST_CASE("Adam: row updates equal step(), and the lazy update touches only the listed rows", "[adam]") {
    cfnet::Rng rng(4);
    Parameter<float> a("emb", 6, 5), b("emb", 6, 5), bias("b", 1, 5), bias2("b", 1, 5);
    for (auto& x : a.value) x = static_cast<float>(rng.uniform(-1, 1));
    b.value = a.value;
    Adam<float> full({&a, &bias}, AdamOptions().lr(0.01));
    Adam<float> split({&b, &bias2}, AdamOptions().lr(0.01));
    for (int s = 0; s < 3; ++s) {
        for (auto& x : a.grad) x = static_cast<float>(rng.uniform(-1, 1));
        for (auto& x : bias.grad) x = static_cast<float>(rng.uniform(-1, 1));
        b.grad = a.grad;
        bias2.grad = bias.grad;
        full.step();
        split.begin_step();
        split.update(1);
        split.update_rows(0, 3, 6);  // any order, any blocks
        split.update_rows(0, 0, 1);
        split.update_row(0, 1);
        split.update_rows(0, 2, 3);
    }
    CHECK((a.value == b.value));
    CHECK((bias.value == bias2.value));
    for (std::size_t k = 0; k < 4; ++k) CHECK((*full.state()[k].tensor == *split.state()[k].tensor));

    // Lazy step over rows {4, 1}: the other rows keep their value and both moments (no decay), the
    // listed rows get exactly what a dense step gives them.
    const Matrix<float> v0 = b.value, m0 = *split.state()[0].tensor, s0 = *split.state()[1].tensor;
    for (auto& x : a.grad) x = static_cast<float>(rng.uniform(-1, 1));
    b.grad = a.grad;
    full.step();
    split.begin_step();
    split.update_row_list(0, std::vector<std::size_t>{4, 1});
    const Matrix<float>&m = *split.state()[0].tensor, &v = *split.state()[1].tensor;
    bool listed_ok = true, others_ok = true;
    for (std::size_t r = 0; r < 6; ++r)
        for (std::size_t c = 0; c < 5; ++c) {
            if (r == 4 || r == 1) {
                listed_ok = listed_ok && b.value(r, c) == a.value(r, c) && b.value(r, c) != v0(r, c);
            } else {
                others_ok = others_ok && b.value(r, c) == v0(r, c) && m(r, c) == m0(r, c) && v(r, c) == s0(r, c);
            }
        }
    CHECK(listed_ok);
    CHECK(others_ok);
    CHECK_FALSE((a.value == b.value));  // differs from dense Adam on the skipped rows

    Adam<float> fresh({&a});
    CHECK_THROWS_AS(fresh.update(0), cfnet::InvalidArgument);  // no begin_step() yet
}

TEST_CASE("Adam: state by slot, rebind after moving, state round trip, determinism", "[adam]") {
    auto make = [](std::uint64_t seed) {
        cfnet::Rng rng(seed);
        std::vector<Parameter<float>> ps;
        ps.emplace_back("w", 4, 3);
        ps.emplace_back("b", 1, 3);
        for (auto& p : ps)
            for (auto& x : p.value) x = static_cast<float>(rng.normal());
        return ps;
    };
    auto grads = [](std::vector<Parameter<float>>& ps, cfnet::Rng& rng) {
        for (auto& p : ps)
            for (std::size_t k = 0; k < p.size(); ++k)
                p.grad.data()[k] = p.value.data()[k] + static_cast<float>(rng.uniform(-0.5, 0.5));
    };
    const auto opts = AdamOptions().lr(0.01).weight_decay(1e-2).decoupled_weight_decay(true);

    // Reference run, and a run whose parameters change address every step.
    auto ref = make(1), mov = make(1);
    Adam<float> ro({&ref[0], &ref[1]}, opts), mo({&mov[0], &mov[1]}, opts);
    cfnet::Rng g1(77), g2(77);
    for (int s = 0; s < 6; ++s) {
        grads(ref, g1);
        grads(mov, g2);
        ro.step();
        mo.step();
        mov.push_back(Parameter<float>("pad", 1, 1));  // reallocation: every element moves
        mov.resize(2);
        std::vector<Parameter<float>> copy = mov;  // and once more into a different buffer
        mov.swap(copy);
        mo.rebind({&mov[0], &mov[1]});
    }
    CHECK((ref[0].value == mov[0].value));
    CHECK((ref[1].value == mov[1].value));

    // Names, and a "serialization" round trip through state() + set_steps().
    const auto st = ro.state();
    REQUIRE(st.size() == 4);
    CHECK(st[0].name == "adam.m.0");
    CHECK(st[1].name == "adam.v.0");
    CHECK(st[2].name == "adam.m.1");
    CHECK(st[3].name == "adam.v.1");
    auto loaded = ref;
    Adam<float> lo({&loaded[0], &loaded[1]}, opts);
    const auto lst = lo.state();
    for (std::size_t k = 0; k < st.size(); ++k) *lst[k].tensor = *st[k].tensor;
    lo.set_steps(ro.steps());
    cfnet::Rng g3(5), g4(5);
    for (int s = 0; s < 3; ++s) {
        grads(ref, g3);
        grads(loaded, g4);
        ro.step();
        lo.step();
    }
    CHECK((ref[0].value == loaded[0].value));
    CHECK(lo.steps() == 9);

    // Determinism: same seed, same bits; another seed, other bits.
    auto run = [&](std::uint64_t seed) {
        auto ps = make(seed);
        Adam<float> o({&ps[0], &ps[1]}, AdamOptions().lr(0.003));
        cfnet::Rng rng(seed + 1);
        for (int s = 0; s < 50; ++s) {
            o.zero_grad();
            grads(ps, rng);
            o.step();
        }
        return ps[0].value;
    };
    CHECK((run(3) == run(3)));
    CHECK_FALSE((run(3) == run(4)));
}
