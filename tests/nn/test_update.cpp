// nn/update.hpp: RowUpdate::apply is kernels::adam_update on a range, untouched_rows is Adam with a
// zero gradient (nothing when lazy), UntouchedRuns updates exactly the runs between touched rows, and
// optim::Adam::row_update hands out its moments and the step's constants.
#include <cfnet/nn/update.hpp>

#include <catch2/catch.hpp>
#include <support/kernels.hpp>

#include <cfnet/detail/rng.hpp>
#include <cfnet/kernels/adam.hpp>
#include <cfnet/optim/adam.hpp>

#include <cstddef>
#include <vector>

using cfnet::Rng;
using cfnet::nn::RowUpdate;
using cfnet::nn::UntouchedRuns;
using namespace cfnet_test;

namespace {

/// Parameter values and moments (m, v > 0 so that a zero gradient still moves the values).
struct State {
    std::vector<float> p, m, v;
    State(std::size_t n, Rng& rng) : p(uniform(n, -1, 1, rng)), m(uniform(n, -0.1, 0.1, rng)), v(uniform(n, 1e-4, 1e-2, rng)) {}
};

}  // namespace

TEST_CASE("RowUpdate::apply equals kernels::adam_update on the range (g: the range's gradient)", "[update]") {
    Rng rng(1);
    for (const int mode : {0, 1, 2})
        for (const bool with_grad : {true, false}) {
            INFO("mode " << mode << " grad " << with_grad);
            const std::size_t n = 37, b = 5, e = 30;
            const State s0(n, rng);
            const auto g = uniform(e - b, -1, 1, rng);
            State a = s0, ref = s0;
            const RowUpdate<float> u{a.m.data(), a.v.data(), adam_constants(mode), false};
            u.apply(a.p.data(), with_grad ? g.data() : nullptr, b, e);
            cfnet::kernels::adam_update(ref.p.data() + b, with_grad ? g.data() : nullptr, ref.m.data() + b,
                                        ref.v.data() + b, e - b, adam_constants(mode));
            CHECK(a.p == ref.p);
            CHECK(a.m == ref.m);
            CHECK(a.v == ref.v);
            // outside [b, e) nothing changed; inside, everything did
            for (std::size_t i = 0; i < n; ++i) {
                const bool inside = i >= b && i < e;
                CHECK((a.p[i] != s0.p[i]) == inside);
                CHECK((a.m[i] != s0.m[i]) == inside);
            }
        }
}

TEST_CASE("RowUpdate::untouched_rows: Adam with a zero gradient, nothing when lazy", "[update]") {
    Rng rng(2);
    const std::size_t rows = 9, width = 4;
    for (const int mode : {0, 1, 2}) {
        INFO("mode " << mode);
        const State s0(rows * width, rng);
        // exact: rows [2, 6) updated as apply(p, nullptr, 2 w, 6 w)
        State a = s0, ref = s0;
        const RowUpdate<float> exact{a.m.data(), a.v.data(), adam_constants(mode), false};
        exact.untouched_rows(a.p.data(), 2, 6, width);
        const RowUpdate<float> r{ref.m.data(), ref.v.data(), adam_constants(mode), false};
        r.apply(ref.p.data(), nullptr, 2 * width, 6 * width);
        CHECK(a.p == ref.p);
        CHECK(a.m == ref.m);
        CHECK(a.v == ref.v);
        CHECK_FALSE(a.p == s0.p);
        // an empty run: nothing
        State e = s0;
        const RowUpdate<float> ue{e.m.data(), e.v.data(), adam_constants(mode), false};
        ue.untouched_rows(e.p.data(), 4, 4, width);
        CHECK(e.p == s0.p);
        CHECK(e.m == s0.m);
        // lazy: nothing at all
        State l = s0;
        const RowUpdate<float> lazy{l.m.data(), l.v.data(), adam_constants(mode), true};
        lazy.untouched_rows(l.p.data(), 0, rows, width);
        CHECK(l.p == s0.p);
        CHECK(l.m == s0.m);
        CHECK(l.v == s0.v);
    }
}

TEST_CASE("UntouchedRuns updates exactly the runs between touched rows (hand-made case)", "[update]") {
    Rng rng(3);
    const std::size_t rows = 10, width = 3;
    const State s0(rows * width, rng);
    // touched rows 0, 3, 4, 8: the runs without a gradient are [1, 3), [5, 8), [9, 10)
    State a = s0;
    const RowUpdate<float> u{a.m.data(), a.v.data(), adam_constants(1), false};
    UntouchedRuns<float> runs(&u, a.p.data(), width);
    for (const std::size_t t : {0, 3, 4, 8}) runs.touched(t);
    runs.finish(rows);

    State ref = s0;
    const RowUpdate<float> r{ref.m.data(), ref.v.data(), adam_constants(1), false};
    for (const std::size_t row : {1, 2, 5, 6, 7, 9}) r.apply(ref.p.data(), nullptr, row * width, (row + 1) * width);
    CHECK(a.p == ref.p);
    CHECK(a.m == ref.m);
    CHECK(a.v == ref.v);
    const std::vector<bool> untouched = {false, true, true, false, false, true, true, true, false, true};
    for (std::size_t row = 0; row < rows; ++row)
        for (std::size_t k = 0; k < width; ++k) {
            INFO("row " << row);
            CHECK((a.p[row * width + k] != s0.p[row * width + k]) == untouched[row]);
        }

    // every row touched, the last one included: nothing; no row touched: every row
    State all = s0;
    const RowUpdate<float> ua{all.m.data(), all.v.data(), adam_constants(0), false};
    UntouchedRuns<float> none_left(&ua, all.p.data(), width);
    for (std::size_t t = 0; t < rows; ++t) none_left.touched(t);
    none_left.finish(rows);
    CHECK(all.p == s0.p);
    State every = s0, every_ref = s0;
    const RowUpdate<float> ue{every.m.data(), every.v.data(), adam_constants(0), false};
    UntouchedRuns<float>(&ue, every.p.data(), width).finish(rows);
    const RowUpdate<float> uer{every_ref.m.data(), every_ref.v.data(), adam_constants(0), false};
    uer.apply(every_ref.p.data(), nullptr, 0, rows * width);
    CHECK(every.p == every_ref.p);

    // lazy, or no RowUpdate: nothing
    State l = s0;
    const RowUpdate<float> ul{l.m.data(), l.v.data(), adam_constants(1), true};
    UntouchedRuns<float> lazy_runs(&ul, l.p.data(), width);
    lazy_runs.touched(3);
    lazy_runs.finish(rows);
    CHECK(l.p == s0.p);
    CHECK(l.m == s0.m);
    State n = s0;
    UntouchedRuns<float> no_update(nullptr, n.p.data(), width);
    no_update.touched(3);
    no_update.finish(rows);
    CHECK(n.p == s0.p);
}

TEST_CASE("Adam::row_update: the slot's moments and the step's constants", "[update][adam]") {
    cfnet::nn::Parameter<float> w("weight", 3, 4), b("bias", 1, 4);
    cfnet::optim::Adam<float> adam({&w, &b}, cfnet::optim::AdamOptions().lr(0.01).weight_decay(0.1));
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(adam.row_update(0), Contains("Adam::row_update: call begin_step() (or step()) before updating"));
    adam.begin_step();
    CHECK_THROWS_AS(adam.row_update(2), cfnet::InvalidArgument);
    const auto uw = adam.row_update(0), ub = adam.row_update(1, true);
    const auto st = adam.state();
    CHECK(uw.m == st[0].tensor->data());
    CHECK(uw.v == st[1].tensor->data());
    CHECK(ub.m == st[2].tensor->data());
    CHECK(ub.v == st[3].tensor->data());
    CHECK_FALSE(uw.lazy);
    CHECK(ub.lazy);
    const auto& c = adam.step_constants();
    CHECK(uw.step.lr_t == c.lr_t);
    CHECK(uw.step.lr_t == adam.current_step_size());
    CHECK(uw.step.wd == c.wd);
    CHECK(uw.step.coupled);
    // updating through the RowUpdate is Adam's update of that slot
    Rng rng(4);
    for (auto& x : w.value) x = static_cast<float>(rng.uniform(-1, 1));
    for (auto& x : w.grad) x = static_cast<float>(rng.uniform(-1, 1));
    cfnet::nn::Parameter<float> w2 = w, b2 = b;
    cfnet::optim::Adam<float> ref({&w2, &b2}, cfnet::optim::AdamOptions().lr(0.01).weight_decay(0.1));
    ref.begin_step();
    ref.update(0);
    uw.apply(w.value.data(), w.grad.data(), 0, w.size());
    CHECK((w.value == w2.value));
    CHECK((*adam.state()[0].tensor == *ref.state()[0].tensor));
}
