#include <cfnet/detail/rng.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/testing/gradcheck.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

using cfnet::Matrix;
using cfnet::nn::BinaryCrossEntropyWithLogits;
using cfnet::nn::MaskedMSE;
using cfnet::nn::MaskNormalization;
using cfnet::nn::MeanSquaredError;
using cfnet::testing::check_gradient;

namespace {

template <class T>
Matrix<T> random_matrix(std::size_t r, std::size_t c, cfnet::Rng& rng, double lo = -2, double hi = 2) {
    Matrix<T> m({r, c});
    for (auto& x : m) x = static_cast<T>(rng.uniform(lo, hi));
    return m;
}

// A mask with ~40% observed entries and row `empty_row` fully unobserved.
template <class T>
Matrix<T> random_mask(std::size_t r, std::size_t c, cfnet::Rng& rng, std::size_t empty_row) {
    Matrix<T> m({r, c});
    for (std::size_t i = 0; i < r; ++i)
        for (std::size_t j = 0; j < c; ++j) m(i, j) = (i != empty_row && rng.uniform() < 0.4) ? T(1) : T(0);
    return m;
}

// The notebook's 3x3 example:
//   row 0: observed cols 0, 2: d = 1-2 = -1, 3-5 = -2 -> sum 5, n 2 -> 2.5   (col 1: 2 vs 7 ignored)
//   row 1: nothing observed                            -> 0
//   row 2: observed cols 0, 1: d = 4-1 = 3, 0-0 = 0    -> sum 9, n 2 -> 4.5  (col 2: 0 vs 9 ignored)
struct Example {
    Matrix<double> pred{{1, 2, 3}, {1, 1, 1}, {4, 0, 0}};
    Matrix<double> target{{2, 7, 5}, {5, 5, 5}, {1, 0, 9}};
    Matrix<double> mask{{1, 0, 1}, {0, 0, 0}, {1, 1, 0}};
};

}  // namespace

TEST_CASE("MSE: hand-computed value and gradient", "[loss]") {
    // d = {1, 0, -2, 0}: sum d^2 = 5, N = 4 -> 1.25; grad = 2 d / 4 = d / 2.
    const Matrix<double> p{{1, 2}, {3, 4}}, t{{0, 2}, {5, 4}};
    MeanSquaredError<double> mse;
    CHECK(mse.value(p, t) == 1.25);
    Matrix<double> g;
    CHECK(mse.value_and_gradient(p, t, g) == 1.25);
    CHECK((g == Matrix<double>{{0.5, 0}, {-1, 0}}));
    Matrix<double> g2({2, 2});
    mse.gradient(p, t, g2);
    CHECK((g2 == g));
    CHECK_THROWS_AS(mse.value(p, Matrix<double>({2, 3})), cfnet::InvalidArgument);
    CHECK_THROWS_AS(mse.value(Matrix<double>({0, 3}), Matrix<double>({0, 3})), cfnet::InvalidArgument);
}

TEST_CASE("Masked MSE, per-sample (notebook): hand-computed", "[loss]") {
    const Example e;
    MaskedMSE<double> loss(MaskNormalization::per_sample);
    CHECK(MaskedMSE<double>().normalization() == MaskNormalization::per_sample);
    // (2.5 + 0 + 4.5) / 3 rows = 7/3 (the empty row counts in the batch size).
    CHECK(loss.value(e.pred, e.target, e.mask) == Approx(7.0 / 3.0).epsilon(1e-15));
    Matrix<double> g({3, 3});
    g.fill(99);  // every entry must be overwritten
    CHECK(loss.value_and_gradient(e.pred, e.target, e.mask, g) == Approx(7.0 / 3.0).epsilon(1e-15));
    // grad = 2 d / (n_i * B) = 2 d / 6 = d / 3 on observed entries, exactly 0 elsewhere.
    const Matrix<double> expected{{-1.0 / 3, 0, -2.0 / 3}, {0, 0, 0}, {1, 0, 0}};
    CHECK(xt::allclose(g, expected, 1e-15, 1e-15));
    CHECK(g(0, 1) == 0.0);
    CHECK(g(2, 2) == 0.0);
    CHECK(g(1, 0) == 0.0);
}

TEST_CASE("Masked MSE, global: hand-computed", "[loss]") {
    const Example e;
    MaskedMSE<double> loss(MaskNormalization::global);
    // (5 + 9) / 4 observed = 3.5; grad = 2 d / 4 = d / 2.
    CHECK(loss.value(e.pred, e.target, e.mask) == 3.5);
    Matrix<double> g;
    loss.gradient(e.pred, e.target, e.mask, g);
    CHECK((g == Matrix<double>{{-0.5, 0, -1}, {0, 0, 0}, {1.5, 0, 0}}));
}

TEST_CASE("Masked MSE: an all-unobserved batch gives 0, not NaN", "[loss]") {
    const Matrix<float> p{{1, 2}}, t{{3, 4}}, m{{0, 0}};
    Matrix<float> g{{5, 5}};
    for (auto norm : {MaskNormalization::per_sample, MaskNormalization::global}) {
        MaskedMSE<float> loss(norm);
        CHECK(loss.value_and_gradient(p, t, m, g) == 0.0);
        CHECK((g == Matrix<float>{{0, 0}}));
        const std::size_t row_ptr[2] = {0, 0};
        CHECK(loss.sparse_value(row_ptr, 1, p.data(), t.data()) == 0.0);
    }
    CHECK_THROWS_AS(MaskedMSE<float>().value(p, t, Matrix<float>({2, 1})), cfnet::InvalidArgument);
}

TEST_CASE("Losses pass the numeric gradient check (double), masked ones with an empty row", "[loss][gradcheck]") {
    cfnet::Rng rng(7);
    const std::size_t R = 5, C = 6;
    Matrix<double> pred = random_matrix<double>(R, C, rng);
    const Matrix<double> target = random_matrix<double>(R, C, rng);
    const Matrix<double> mask = random_mask<double>(R, C, rng, 2);
    Matrix<double> g;

    SECTION("MSE") {
        MeanSquaredError<double> l;
        l.gradient(pred, target, g);
        const auto r = check_gradient([&] { return l.value(pred, target); }, pred.data(), g.data(), g.size(), "mse");
        INFO(r.log);
        CHECK(r);
    }
    for (auto norm : {MaskNormalization::per_sample, MaskNormalization::global}) {
        DYNAMIC_SECTION("masked MSE " << (norm == MaskNormalization::global ? "global" : "per-sample")) {
            MaskedMSE<double> l(norm);
            l.gradient(pred, target, mask, g);
            const auto r = check_gradient([&] { return l.value(pred, target, mask); }, pred.data(), g.data(),
                                          g.size(), "masked mse");
            INFO(r.log);
            CHECK(r);
            for (std::size_t k = 0; k < g.size(); ++k)
                if (mask.data()[k] == 0) CHECK(g.data()[k] == 0.0);
            for (std::size_t j = 0; j < C; ++j) CHECK(g(2, j) == 0.0);
        }
    }
    SECTION("BCE with logits") {
        Matrix<double> y({R, C});
        for (auto& v : y) v = rng.uniform();  // soft targets too
        y(0, 0) = 0;
        y(0, 1) = 1;
        BinaryCrossEntropyWithLogits<double> l;
        l.gradient(pred, y, g);
        const auto r = check_gradient([&] { return l.value(pred, y); }, pred.data(), g.data(), g.size(), "bce");
        INFO(r.log);
        CHECK(r);
    }
}

TEST_CASE("Sparse masked losses equal the dense ones bit for bit", "[loss]") {
    cfnet::Rng rng(11);
    const std::size_t R = 9, C = 37;
    const Matrix<float> pred = random_matrix<float>(R, C, rng, 0, 5);
    const Matrix<float> target = random_matrix<float>(R, C, rng, 1, 5);
    const Matrix<float> mask = random_mask<float>(R, C, rng, 4);

    // CSR of the observed entries, stored at an offset of 3 to check that row_ptr indexes the arrays.
    const std::size_t off = 3;
    std::vector<std::size_t> row_ptr{off};
    std::vector<float> sp(off, -1.f), st(off, -1.f);
    for (std::size_t i = 0; i < R; ++i) {
        for (std::size_t j = 0; j < C; ++j)
            if (mask(i, j) != 0) {
                sp.push_back(pred(i, j));
                st.push_back(target(i, j));
            }
        row_ptr.push_back(sp.size());
    }
    REQUIRE(row_ptr[5] == row_ptr[4]);  // row 4 is empty

    for (auto norm : {MaskNormalization::per_sample, MaskNormalization::global}) {
        MaskedMSE<float> l(norm);
        Matrix<float> g;
        const double dense = l.value_and_gradient(pred, target, mask, g);
        std::vector<float> sg(sp.size(), 123.f);
        const double sparse = l.sparse_value_and_gradient(row_ptr.data(), R, sp.data(), st.data(), sg.data());
        CHECK(dense == sparse);
        CHECK(l.sparse_value(row_ptr.data(), R, sp.data(), st.data()) == dense);
        CHECK(l.value(pred, target, mask) == dense);
        CHECK(dense > 0.5);
        for (std::size_t k = 0; k < off; ++k) CHECK(sg[k] == 123.f);  // outside the range: untouched
        std::size_t k = off;
        bool all_equal = true;
        for (std::size_t i = 0; i < R; ++i)
            for (std::size_t j = 0; j < C; ++j)
                if (mask(i, j) != 0) all_equal = all_equal && (g(i, j) == sg[k++]);
        CHECK(all_equal);
        CHECK(k == sg.size());
        std::vector<float> sg2(sp.size(), 123.f);
        l.sparse_gradient(row_ptr.data(), R, sp.data(), st.data(), sg2.data());
        CHECK(sg2 == sg);
    }
    const std::size_t bad[3] = {0, 5, 2};
    CHECK_THROWS_AS(MaskedMSE<float>().sparse_value(bad, 2, sp.data(), st.data()), cfnet::InvalidArgument);
}

TEST_CASE("BCE with logits: hand-computed and stable for large logits", "[loss]") {
    // z = {0, 2}, y = {1, 0}:
    //   l(0, 1) = max(0,0) - 0 + log1p(e^0) = ln 2
    //   l(2, 0) = 2 - 0 + log1p(e^-2) = ln(1 + e^2)
    //   grad = (sigmoid(z) - y) / 2 = {(0.5 - 1)/2, sigmoid(2)/2}
    const Matrix<double> z{{0, 2}}, y{{1, 0}};
    BinaryCrossEntropyWithLogits<double> l;
    Matrix<double> g;
    const double v = l.value_and_gradient(z, y, g);
    CHECK(v == Approx((std::log(2.0) + std::log(1 + std::exp(2.0))) / 2).epsilon(1e-14));
    CHECK(g(0, 0) == Approx(-0.25).epsilon(1e-14));
    CHECK(g(0, 1) == Approx(0.5 / (1 + std::exp(-2.0))).epsilon(1e-14));

    // |z| = 100 overflows exp(z) in float: the stable form gives l(100,1) = 0 + log1p(e^-100) ~ 0 and
    // l(-100, 1) = 0 + 100 + ~0 = 100, so the mean is 50; gradients (1-1)/2 = 0 and (0-1)/2 = -0.5.
    const Matrix<float> zf{{100.f, -100.f}}, yf{{1.f, 1.f}};
    BinaryCrossEntropyWithLogits<float> lf;
    Matrix<float> gf;
    const double vf = lf.value_and_gradient(zf, yf, gf);
    CHECK(std::isfinite(vf));
    CHECK(vf == Approx(50.0).epsilon(1e-6));
    CHECK(gf(0, 0) == Approx(0.0).margin(1e-30));
    CHECK(gf(0, 1) == Approx(-0.5).epsilon(1e-6));
    CHECK_THROWS_AS(l.value(z, Matrix<double>({2, 1})), cfnet::InvalidArgument);
}

TEST_CASE("MaskedMSE::gradient_scales times (pred - target) is sparse_gradient, exactly", "[loss]") {
    cfnet::Rng rng(13);
    // rows of 3, 0, 5, 1, 0 entries (empty rows at the start of the run and in the middle), stored
    // at an offset of 2
    const std::vector<std::size_t> row_ptr = {2, 5, 5, 10, 11, 11};
    const std::size_t rows = row_ptr.size() - 1;
    std::vector<float> pred(11), target(11);
    for (auto& v : pred) v = static_cast<float>(rng.uniform(0, 5));
    for (auto& v : target) v = static_cast<float>(1 + rng.below(5));
    for (auto norm : {MaskNormalization::per_sample, MaskNormalization::global}) {
        const MaskedMSE<float> l(norm);
        std::vector<float> scale(rows, -1.f), grad(11, 0.f);
        l.gradient_scales(row_ptr.data(), rows, scale.data());
        l.sparse_gradient(row_ptr.data(), rows, pred.data(), target.data(), grad.data());
        bool same = true;
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k)
                same = same && scale[i] * (pred[k] - target[k]) == grad[k];
        CHECK(same);
        // hand-computed: per sample 2 / (n_i B) (0 for an empty row), global 2 / N
        if (norm == MaskNormalization::per_sample) {
            CHECK(scale[0] == static_cast<float>(2.0 / (3 * 5)));
            CHECK(scale[1] == 0.f);
            CHECK(scale[2] == static_cast<float>(2.0 / (5 * 5)));
            CHECK(scale[3] == static_cast<float>(2.0 / (1 * 5)));
            CHECK(scale[4] == 0.f);
        } else {
            for (const float s : scale) CHECK(s == static_cast<float>(2.0 / 9));
        }
    }
    // a batch without entries: every scale 0 (no division by zero), both normalizations; no rows: nothing
    const std::vector<std::size_t> empty = {4, 4, 4};
    for (auto norm : {MaskNormalization::per_sample, MaskNormalization::global}) {
        std::vector<float> scale(2, -1.f);
        MaskedMSE<float>(norm).gradient_scales(empty.data(), 2, scale.data());
        CHECK(scale == std::vector<float>{0.f, 0.f});
        const std::size_t none[1] = {0};
        CHECK_NOTHROW(MaskedMSE<float>(norm).gradient_scales(none, 0, scale.data()));
    }
    const std::size_t bad[3] = {0, 5, 2};
    std::vector<float> scale(2);
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(MaskedMSE<float>().gradient_scales(bad, 2, scale.data()), Contains("MaskedMSE::gradient_scales: row_ptr must be non-decreasing"));
}

// --- MultinomialLogLikelihood -------------------------------------------------------------------

TEST_CASE("MultinomialLogLikelihood: hand-computed value and gradient", "[loss][multinomial]") {
    // Row 0: z = (0, ln 2, ln 3) -> softmax = (1, 2, 3) / 6, lse = ln 6; x = (1 at col 1, 1 at col 2),
    //   n = 2: -(ln(2/6) + ln(3/6)) = ln 3 + ln 2 = ln 6; grad = (2/6, 4/6 - 1, 6/6 - 1) / B.
    // Row 1: no target entries -> 0, zero gradient (still counts in B = 2).
    using cfnet::nn::MultinomialLogLikelihood;
    using cfnet::nn::SparseBatch;
    const double l2 = std::log(2.0), l3 = std::log(3.0);
    const Matrix<double> z{{0, l2, l3}, {5, -1, 2}};
    SparseBatch<double> x(3);
    x.add_row(std::vector<cfnet::nn::index_type>{1, 2}, std::vector<double>{1, 1});
    x.add_row(std::vector<cfnet::nn::index_type>{}, std::vector<double>{});
    MultinomialLogLikelihood<double> loss;
    Matrix<double> g;
    const double v = loss.value_and_gradient(z, x, g);
    CHECK(v == Approx(std::log(6.0) / 2).epsilon(1e-14));
    CHECK(loss.value(z, x) == Approx(v).epsilon(1e-15));
    CHECK(g(0, 0) == Approx(1.0 / 6).epsilon(1e-14));
    CHECK(g(0, 1) == Approx((4.0 / 6 - 1) / 2).epsilon(1e-14));
    CHECK(g(0, 2) == Approx(0.0).margin(1e-15));
    for (std::size_t j = 0; j < 3; ++j) CHECK(g(1, j) == 0.0);
    CHECK_THROWS_AS(loss.value(Matrix<double>({2, 4}), x), cfnet::InvalidArgument);
}

TEST_CASE("MultinomialLogLikelihood: stable for huge logits, equals a direct log-softmax", "[loss][multinomial]") {
    using cfnet::nn::MultinomialLogLikelihood;
    cfnet::Rng rng(5);
    const std::size_t B = 4, I = 37;
    Matrix<double> z = random_matrix<double>(B, I, rng, -3, 3);
    cfnet::nn::SparseBatch<double> x(I);
    for (std::size_t r = 0; r < B; ++r) {
        std::vector<cfnet::nn::index_type> idx;
        std::vector<double> val;
        for (std::size_t j = 0; j < I; ++j)
            if (rng.uniform() < 0.3) { idx.push_back(static_cast<cfnet::nn::index_type>(j)); val.push_back(1 + double(rng.below(3))); }
        x.add_row(idx, val);
    }
    // direct: -(1/B) sum x log(exp z / sum exp z)
    auto direct = [&](const Matrix<double>& zz) {
        double t = 0;
        for (std::size_t r = 0; r < B; ++r) {
            double s = 0;
            for (std::size_t j = 0; j < I; ++j) s += std::exp(zz(r, j));
            for (std::size_t p = x.row_ptr()[r]; p < x.row_ptr()[r + 1]; ++p)
                t -= x.values()[p] * std::log(std::exp(zz(r, x.indices()[p])) / s);
        }
        return t / double(B);
    };
    MultinomialLogLikelihood<double> loss;
    CHECK(loss.value(z, x) == Approx(direct(z)).epsilon(1e-12));
    // a shift of a whole row leaves the loss unchanged; +1000 overflows the direct form, not ours
    Matrix<double> zs = z + 1000.0;
    CHECK(std::isfinite(loss.value(zs, x)));
    CHECK(loss.value(zs, x) == Approx(direct(z)).epsilon(1e-9));
    // float agrees with double
    MultinomialLogLikelihood<float> lf;
    const Matrix<float> zf = xt::cast<float>(z);
    cfnet::nn::SparseBatch<float> xf(I);
    for (std::size_t r = 0; r < B; ++r) {
        std::vector<cfnet::nn::index_type> idx(x.indices().begin() + long(x.row_ptr()[r]), x.indices().begin() + long(x.row_ptr()[r + 1]));
        std::vector<float> val(idx.size(), 0.f);
        for (std::size_t k = 0; k < idx.size(); ++k) val[k] = float(x.values()[x.row_ptr()[r] + k]);
        xf.add_row(idx, val);
    }
    Matrix<float> gf;
    Matrix<double> gd;
    CHECK(lf.value_and_gradient(zf, xf, gf) == Approx(loss.value_and_gradient(z, x, gd)).epsilon(1e-5));
    for (std::size_t k = 0; k < gd.size(); ++k) CHECK(double(gf.data()[k]) == Approx(gd.data()[k]).margin(1e-6));
}

TEST_CASE("MultinomialLogLikelihood: gradient check", "[loss][multinomial][gradcheck]") {
    using cfnet::nn::MultinomialLogLikelihood;
    cfnet::Rng rng(9);
    const std::size_t B = 3, I = 11;
    Matrix<double> z = random_matrix<double>(B, I, rng);
    cfnet::nn::SparseBatch<double> x(I);
    x.add_row(std::vector<cfnet::nn::index_type>{0, 4, 10}, std::vector<double>{1, 1, 1});
    x.add_row(std::vector<cfnet::nn::index_type>{}, std::vector<double>{});
    x.add_row(std::vector<cfnet::nn::index_type>{2, 3}, std::vector<double>{0.5, 2});
    MultinomialLogLikelihood<double> loss;
    Matrix<double> g;
    loss.value_and_gradient(z, x, g);
    auto r = check_gradient([&] { return loss.value(z, x); }, z.data(), g.data(), z.size(), "logits");
    INFO(r.log);
    CHECK(r);
    // the raw form: same numbers; a bad column is rejected
    Matrix<double> g2({B, I});
    CHECK(loss.value_and_gradient(z.data(), B, I, x.row_ptr().data(), x.indices().data(), x.values().data(), g2.data()) ==
          loss.value(z, x));
    CHECK((g2 == g));
    CHECK_THROWS_AS(loss.value_and_gradient(z.data(), B, 3, x.row_ptr().data(), x.indices().data(), x.values().data(),
                                            g2.data()),
                    cfnet::InvalidArgument);
}
