#include <cfnet/nn/dropout.hpp>

#include <catch2/catch.hpp>

#include <cfnet/testing/gradcheck.hpp>

using cfnet::Matrix;
using cfnet::nn::Dropout;
using cfnet::nn::Mode;

namespace {
Matrix<float> ones(std::size_t r, std::size_t c) { return xt::ones<float>({r, c}); }
}  // namespace

TEST_CASE("Dropout drops about a fraction p and scales survivors by 1/(1-p)", "[dropout]") {
    for (double p : {0.2, 0.5, 0.8}) {
        INFO("p = " << p);
        Dropout<float> d(p, 7);
        const auto& y = d.forward(ones(200, 500));
        std::size_t dropped = 0, other = 0;
        double sum = 0;
        const float keep = static_cast<float>(1.0 / (1.0 - p));
        for (float v : y) {
            if (v == 0.f) ++dropped;
            else if (v != keep) ++other;
            sum += v;
        }
        CHECK(other == 0);
        const double frac = double(dropped) / double(y.size());
        CHECK(frac == Approx(p).margin(0.01));       // sd of the fraction is < 0.0023
        CHECK(sum / double(y.size()) == Approx(1.0).margin(0.05));  // expectation preserved
    }
}

TEST_CASE("Dropout backward applies the same mask, eval mode is the identity", "[dropout]") {
    Dropout<float> d(0.5, 3);
    const Matrix<float> x = {{1, 2, 3, 4}, {5, 6, 7, 8}};
    const Matrix<float> y = d.forward(x);
    const Matrix<float> dx = d.backward(ones(2, 4));
    CHECK((y == x * dx));
    CHECK((dx == d.mask()));
    d.set_mode(Mode::eval);
    CHECK((d.forward(x) == x));
    CHECK((d.backward(x) == x));
    Dropout<float> none(0.0, 3);
    CHECK((none.forward(x) == x));
}

TEST_CASE("Dropout: same seed same masks, different seed different mask, new mask per call", "[dropout]") {
    Dropout<float> a(0.5, 11), b(0.5, 11), c(0.5, 12);
    const Matrix<float> ya1 = a.forward(ones(10, 10));
    CHECK((ya1 == b.forward(ones(10, 10))));
    CHECK_FALSE((ya1 == c.forward(ones(10, 10))));
    const Matrix<float> ya2 = a.forward(ones(10, 10));
    CHECK_FALSE((ya1 == ya2));
    CHECK((ya2 == b.forward(ones(10, 10))));
}

TEST_CASE("Dropout with a frozen mask passes the gradient check (double)", "[dropout][gradcheck]") {
    Dropout<double> d(0.4, 5);
    d.freeze_mask(true);
    cfnet::Rng rng(2);
    Matrix<double> x = Matrix<double>::from_shape({4, 6});
    for (auto& v : x) v = rng.uniform(-1, 1);
    const auto r = cfnet::testing::check_layer(d, x);
    INFO(r.log);
    CHECK(r);
    CHECK(r.rel_error < 1e-6);
    const Matrix<double> m = d.mask();
    d.forward(x);
    CHECK((d.mask() == m));
    d.freeze_mask(false);
    d.forward(x);
    CHECK_FALSE((d.mask() == m));
}

TEST_CASE("Dropout errors", "[dropout][errors]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(Dropout<float>(1.0), Contains("Dropout: rate must be in [0, 1), got 1"));
    CHECK_THROWS_AS(Dropout<float>(-0.1), cfnet::InvalidArgument);
    Dropout<float> d(0.5);
    CHECK_THROWS_WITH(d.backward(ones(1, 1)), Contains("must follow forward"));
    d.freeze_mask(true);
    d.forward(ones(2, 3));
    CHECK_THROWS_WITH(d.forward(ones(3, 3)), Contains("the frozen mask is 2 x 3, the input is 3 x 3"));
    CHECK_THROWS_WITH(d.backward(ones(2, 2)), Contains("dy is 2 x 2, expected 2 x 3"));
}

TEST_CASE("Dropout::forward(x, rng) draws from the given stream", "[dropout]") {
    const Matrix<float> x1 = ones(4, 7), x2 = ones(3, 5);
    // two layers sharing one stream give the masks of one layer drawing twice from it
    Dropout<float> a(0.5, 1), b(0.5, 2), single(0.5, 3);
    cfnet::Rng shared(99), same(99);
    a.forward(x1, shared);
    b.forward(x2, shared);
    const Matrix<float> m1 = single.forward(x1, same);
    const Matrix<float> m2 = single.forward(x2, same);
    CHECK((a.mask() == m1));
    CHECK((b.mask() == m2));
    CHECK_FALSE((a.mask() == Dropout<float>(0.5, 1).forward(x1)));  // not the layer's own stream
    // the layer's own stream is not advanced by forward(x, rng): its next mask is its first
    CHECK((a.forward(x1) == Dropout<float>(0.5, 1).forward(x1)));
    // the stream advanced by exactly the entries drawn
    cfnet::Rng skip(99);
    for (std::size_t i = 0; i < x1.size() + x2.size(); ++i) skip.uniform();
    CHECK(shared.next() == skip.next());
    // eval mode and a frozen mask draw nothing
    cfnet::Rng r1(5), r2(5);
    Dropout<float> e(0.5);
    e.set_mode(Mode::eval);
    CHECK((e.forward(x1, r1) == x1));
    Dropout<float> f(0.5);
    f.freeze_mask(true);
    f.forward(x1, r1);  // the first forward draws
    for (std::size_t i = 0; i < x1.size(); ++i) r2.uniform();
    const Matrix<float> frozen = f.mask();
    f.forward(x1, r1);
    CHECK((f.mask() == frozen));
    CHECK(r1.next() == r2.next());
    // backward applies the mask drawn from the given stream
    Dropout<float> g(0.3);
    cfnet::Rng r3(7);
    const Matrix<float> y = g.forward(x1, r3);
    CHECK((g.backward(ones(4, 7)) == y));
}

TEST_CASE("SparseDropout drops stored entries with one draw each and scales the rest", "[dropout]") {
    using cfnet::nn::SparseBatch;
    using cfnet::nn::SparseDropout;
    using cfnet::nn::index_type;
    // a hand-made row: the draws of a copy of the stream decide which entries stay
    const std::vector<index_type> cols{1, 4, 5, 9, 12, 20};
    const std::vector<float> vals{1, 2, 3, 4, 5, 6};
    SparseDropout<float> d(0.5);
    SparseBatch<float> batch(32);
    cfnet::Rng rng(11), copy(11);
    d.add_row(batch, cols, vals, rng);
    std::vector<index_type> kept;
    std::vector<float> kept_vals;
    for (std::size_t p = 0; p < cols.size(); ++p)
        if (!(copy.uniform() < 0.5)) {
            kept.push_back(cols[p]);
            kept_vals.push_back(vals[p] * 2.0f);
        }
    CHECK(batch.rows() == 1);
    CHECK(batch.indices() == kept);
    CHECK(batch.values() == kept_vals);
    CHECK(rng.next() == copy.next());  // exactly one draw per stored entry
    // about a fraction p dropped on a long row; rate 0 keeps everything unscaled
    std::vector<index_type> many(1000);
    std::vector<float> ones(1000, 1.f);
    for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<index_type>(i);
    SparseBatch<float> big(1000);
    SparseDropout<float> d3(0.3);
    d3.add_row(big, many, ones, rng);
    CHECK(big.nnz() > 620);
    CHECK(big.nnz() < 780);
    for (const float v : big.values()) CHECK(v == Approx(1.0 / 0.7));
    SparseBatch<float> same(1000);
    SparseDropout<float>(0.0).add_row(same, many, ones, rng);
    CHECK(same.nnz() == 1000);
    CHECK(same.values() == ones);
    CHECK_THROWS_WITH(SparseDropout<float>(1.0), Catch::Matchers::Contains("SparseDropout: rate must be in [0, 1)"));
}

TEST_CASE("Dropout::forward_keyed: a row's mask depends on the key and its position only", "[dropout]") {
    const double p = 0.4;
    const float keep = static_cast<float>(1.0 / (1.0 - p));
    Dropout<float> whole(p), top(p), bottom(p);
    Matrix<float> x = ones(300, 64);
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = 1.0f + 0.001f * static_cast<float>(k % 97);
    const Matrix<float> y = whole.forward_keyed(x, 1234, 1000);
    // the batch cut in two: rows [0, 110) and [110, 300) at positions 1000 and 1110
    Matrix<float> x0 = xt::view(x, xt::range(0, 110), xt::all()), x1 = xt::view(x, xt::range(110, 300), xt::all());
    const Matrix<float> y0 = top.forward_keyed(x0, 1234, 1000), y1 = bottom.forward_keyed(x1, 1234, 1110);
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < 300; ++i)
        for (std::size_t j = 0; j < 64; ++j) {
            const float v = i < 110 ? y0(i, j) : y1(i - 110, j);
            REQUIRE(v == y(i, j));
            REQUIRE((v == 0.f || v == x(i, j) * keep));
            dropped += v == 0.f;
        }
    CHECK(double(dropped) / 19200.0 == Approx(p).margin(0.015));  // sd 0.0035
    // another key or position: another mask; backward applies the mask just drawn
    const Matrix<float> other = whole.forward_keyed(x, 1235, 1000);
    std::size_t same = 0;
    for (std::size_t k = 0; k < y.size(); ++k) same += other.data()[k] == y.data()[k];
    CHECK(same < 19200 * 8 / 10);
    (void)whole.forward_keyed(x, 1234, 1000);
    const Matrix<float> first = whole.mask();
    const Matrix<float> shifted = whole.forward_keyed(x, 1234, 1001);
    const Matrix<float> next = xt::view(whole.mask(), xt::range(0, 299), xt::all()),
                        prev = xt::view(first, xt::range(1, 300), xt::all());
    CHECK(next == prev);
    const auto& dx = whole.backward(ones(300, 64));
    for (std::size_t k = 0; k < dx.size(); ++k) REQUIRE(dx.data()[k] == (shifted.data()[k] == 0.f ? 0.f : keep));
    // frozen: the mask is kept; eval: the identity
    whole.freeze_mask(true);
    CHECK(whole.forward_keyed(x, 99, 0) == shifted);
    whole.set_mode(Mode::eval);
    CHECK(whole.forward_keyed(x, 99, 0) == x);
}

TEST_CASE("SparseDropout::add_row_keyed: a row cut into column blocks drops the same entries", "[dropout]") {
    using cfnet::nn::SparseBatch;
    using cfnet::nn::SparseDropout;
    using cfnet::nn::index_type;
    std::vector<index_type> cols;
    std::vector<float> vals;
    for (index_type c = 0; c < 900; c += 3) {
        cols.push_back(c);
        vals.push_back(1.0f + static_cast<float>(c % 5));
    }
    SparseDropout<float> d(0.3);
    SparseBatch<float> whole(900), left(400), right(500);
    d.add_row_keyed(whole, cols, vals, 77);
    // columns [0, 400) and [400, 900), the second block numbered from 0 locally
    std::vector<index_type> lc, rc;
    std::vector<float> lv, rv;
    for (std::size_t p = 0; p < cols.size(); ++p) {
        if (cols[p] < 400) {
            lc.push_back(cols[p]);
            lv.push_back(vals[p]);
        } else {
            rc.push_back(cols[p] - 400);
            rv.push_back(vals[p]);
        }
    }
    d.add_row_keyed(left, lc, lv, 77, 0);
    d.add_row_keyed(right, rc, rv, 77, 400);
    std::vector<index_type> joined(left.indices().begin(), left.indices().end());
    std::vector<float> joined_vals(left.values().begin(), left.values().end());
    for (std::size_t p = 0; p < right.nnz(); ++p) {
        joined.push_back(right.indices()[p] + 400);
        joined_vals.push_back(right.values()[p]);
    }
    CHECK(std::vector<index_type>(whole.indices().begin(), whole.indices().end()) == joined);
    CHECK(std::vector<float>(whole.values().begin(), whole.values().end()) == joined_vals);
    // about 30% of the 300 entries dropped (sd 8), the survivors scaled by 1 / 0.7; another key, others
    CHECK(whole.nnz() > 180);
    CHECK(whole.nnz() < 240);
    for (std::size_t p = 0; p < whole.nnz(); ++p) {
        const auto c = whole.indices()[p];
        CHECK(whole.values()[p] == Approx((1.0f + static_cast<float>(c % 5)) / 0.7));
    }
    SparseBatch<float> other(900);
    d.add_row_keyed(other, cols, vals, 78);
    CHECK(std::vector<index_type>(other.indices().begin(), other.indices().end()) != joined);
}
