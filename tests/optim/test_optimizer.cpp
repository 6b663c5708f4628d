// optim/optimizer.hpp: OptimizerBase's protocol, through both optimizers built on it (SGD with
// momentum and Adam): step() is begin_step() + every slot, the per-row updates and their range
// checks, binding checks, rebind keeping the state by slot, and the is_optimizer_v trait.
#include <cfnet/detail/rng.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/optim/optimizer.hpp>
#include <cfnet/optim/sgd.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <memory>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::Matrix;
using cfnet::nn::Parameter;
using cfnet::optim::Adam;
using cfnet::optim::SGD;

static_assert(cfnet::optim::is_optimizer_v<SGD<float>>);
static_assert(cfnet::optim::is_optimizer_v<SGD<double>>);
static_assert(cfnet::optim::is_optimizer_v<Adam<float>>);
static_assert(cfnet::optim::is_optimizer_v<Adam<double>>);

namespace {

// Has step() and zero_grad() but not the per-row protocol or state: not an optimizer.
struct StepOnly {
    using value_type = float;
    void step() {}
    void zero_grad() {}
    void begin_step() {}
    void update(std::size_t) {}
};
static_assert(!cfnet::optim::is_optimizer_v<StepOnly>);
static_assert(!cfnet::optim::is_optimizer_v<int>);
static_assert(!cfnet::optim::is_optimizer_v<Parameter<float>>);

// Two parameters, w (5 x 3) and b (1 x 3), random values and gradients.
struct Params {
    Parameter<float> w{"w", 5, 3}, b{"b", 1, 3};
    explicit Params(std::uint64_t seed) {
        cfnet::Rng rng(seed);
        for (auto* p : {&w, &b})
            for (std::size_t k = 0; k < p->size(); ++k) {
                p->value.data()[k] = static_cast<float>(rng.uniform(-1, 1));
                p->grad.data()[k] = static_cast<float>(rng.uniform(-1, 1));
            }
    }
    cfnet::nn::ParameterList<float> list() { return {&w, &b}; }
};

// SGD with momentum and Adam: both keep per-slot state, so rebind has something to keep.
template <class O>
std::unique_ptr<O> make(cfnet::nn::ParameterList<float> ps);
template <>
std::unique_ptr<SGD<float>> make(cfnet::nn::ParameterList<float> ps) {
    return std::make_unique<SGD<float>>(std::move(ps), cfnet::optim::SGDOptions(0.1).momentum(0.9));
}
template <>
std::unique_ptr<Adam<float>> make(cfnet::nn::ParameterList<float> ps) {
    return std::make_unique<Adam<float>>(std::move(ps), cfnet::optim::AdamOptions().lr(0.01));
}

}  // namespace

TEMPLATE_TEST_CASE("OptimizerBase: step() equals begin_step() then every slot, row by row", "[optimizer]",
                   SGD<float>, Adam<float>) {
    Params a(1), b(1);
    auto full = make<TestType>(a.list());
    auto split = make<TestType>(b.list());
    for (int s = 0; s < 3; ++s) {
        full->step();
        split->begin_step();
        split->update_rows(0, 0, 2);
        split->update_row(0, 2);
        split->update_rows(0, 3, 3);  // an empty range is allowed and does nothing
        split->update_row_list(0, std::vector<std::size_t>{4, 3});
        split->update(1);
    }
    CHECK(full->steps() == 3);
    CHECK(split->steps() == 3);
    CHECK((a.w.value == b.w.value));
    CHECK((a.b.value == b.b.value));
    CHECK(split->size() == 2);
    CHECK(split->parameters()[0] == &b.w);
    split->zero_grad();
    CHECK(xt::all(xt::equal(b.w.grad, 0.0f)));
    CHECK(xt::all(xt::equal(b.b.grad, 0.0f)));
}

TEMPLATE_TEST_CASE("OptimizerBase: every update needs begin_step() first", "[optimizer]", SGD<float>, Adam<float>) {
    Params p(2);
    auto opt = make<TestType>(p.list());
    const Matrix<float> before = p.w.value;
    CHECK_THROWS_WITH(opt->update(0), Contains("begin_step"));
    CHECK_THROWS_WITH(opt->update_rows(0, 0, 1), Contains("begin_step"));
    CHECK_THROWS_WITH(opt->update_row(0, 0), Contains("begin_step"));
    CHECK_THROWS_WITH(opt->update_row_list(0, std::vector<std::size_t>{0}), Contains("begin_step"));
    CHECK((p.w.value == before));
    CHECK(opt->steps() == 0);
    opt->begin_step();
    CHECK_NOTHROW(opt->update(0));
    CHECK_FALSE((p.w.value == before));
}

TEMPLATE_TEST_CASE("OptimizerBase: slot and row ranges are checked, naming slot and sizes", "[optimizer]", SGD<float>,
                   Adam<float>) {
    Params p(3);
    auto opt = make<TestType>(p.list());
    opt->begin_step();
    const Matrix<float> before = p.w.value;
    CHECK_THROWS_WITH(opt->update(2), Contains("slot 2 out of range (2 slots)"));
    CHECK_THROWS_WITH(opt->update_rows(0, 4, 6), Contains("[4, 6)") && Contains("5 rows of slot 0 ('w')"));
    CHECK_THROWS_WITH(opt->update_rows(0, 3, 2), Contains("[3, 2)"));
    CHECK_THROWS_AS(opt->update_row(1, 1), cfnet::InvalidArgument);  // b has one row
    CHECK_THROWS_AS(opt->update_rows(2, 0, 1), cfnet::InvalidArgument);
    // a bad row anywhere in the list: nothing is updated, not even the good rows before it
    CHECK_THROWS_WITH(opt->update_row_list(0, std::vector<std::size_t>{1, 5}),
                      Contains("rows[1] = 5 is not below the 5 rows of slot 0 ('w')"));
    CHECK_THROWS_WITH(opt->update_row_list(0, nullptr, 2), Contains("rows is null"));
    CHECK_NOTHROW(opt->update_row_list(0, nullptr, 0));
    CHECK((p.w.value == before));
}

TEMPLATE_TEST_CASE("OptimizerBase: binding checks null slots and gradient shapes", "[optimizer]", SGD<float>,
                   Adam<float>) {
    Params p(4);
    CHECK_THROWS_WITH(make<TestType>({&p.w, nullptr}), Contains("slot 1 is null"));
    p.b.grad = xt::zeros<float>({std::size_t(2), std::size_t(3)});
    CHECK_THROWS_WITH(make<TestType>(p.list()), Contains("slot 1 ('b') has value 1x3 but grad 2x3"));
}

TEMPLATE_TEST_CASE("OptimizerBase: rebind keeps the state by slot and rejects another layout", "[optimizer]",
                   SGD<float>, Adam<float>) {
    Params ref(5), moving(5);
    auto ro = make<TestType>(ref.list());
    auto mo = make<TestType>(moving.list());
    ro->step();
    mo->step();
    const auto state_before = mo->state();
    std::vector<Matrix<float>> saved;
    for (const auto& s : state_before) saved.push_back(*s.tensor);

    // the same parameters at new addresses
    auto moved = std::make_unique<Params>(5);
    moved->w.value = moving.w.value;
    moved->b.value = moving.b.value;
    mo->rebind(moved->list());
    CHECK(mo->parameters()[0] == &moved->w);
    CHECK(mo->steps() == 1);
    const auto state_after = mo->state();
    REQUIRE(state_after.size() == saved.size());
    for (std::size_t k = 0; k < saved.size(); ++k) {
        CHECK(state_after[k].name == state_before[k].name);
        CHECK((*state_after[k].tensor == saved[k]));
    }
    // so the next step continues the reference run exactly
    moved->w.grad = ref.w.grad;
    moved->b.grad = ref.b.grad;
    ro->step();
    mo->step();
    CHECK((moved->w.value == ref.w.value));
    CHECK((moved->b.value == ref.b.value));

    // another slot count or a slot of another shape is rejected, and the binding is unchanged
    Parameter<float> wrong("w", 3, 5);
    CHECK_THROWS_WITH(mo->rebind({&moved->w}), Contains("2 slots but the new list has 1"));
    CHECK_THROWS_WITH(mo->rebind({&wrong, &moved->b}), Contains("slot 0 ('w') is 3x5 but was 5x3"));
    CHECK_THROWS_WITH(mo->rebind({&moved->w, nullptr}), Contains("slot 1 is null"));
    CHECK(mo->parameters()[0] == &moved->w);
    CHECK(mo->parameters()[1] == &moved->b);
}
