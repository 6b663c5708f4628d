#include <cfnet/nn/embedding.hpp>

#include <catch2/catch.hpp>

#include <cfnet/testing/gradcheck.hpp>

#include <vector>

using cfnet::Matrix;
using cfnet::Rng;
using cfnet::nn::Embedding;
using cfnet::nn::index_type;

TEST_CASE("Embedding gathers rows and scatter-adds gradients, repeated indices accumulating", "[embedding]") {
    Rng rng(1);
    Embedding<float> e(5, 2, rng);
    e.weight().value = Matrix<float>{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}};
    const std::vector<index_type> idx = {3, 1, 3, 0};
    CHECK((e.forward(idx) == Matrix<float>{{6, 7}, {2, 3}, {6, 7}, {0, 1}}));
    e.backward(Matrix<float>{{1, 2}, {3, 4}, {10, 20}, {-1, -1}});
    CHECK((e.weight().grad == Matrix<float>{{-1, -1}, {3, 4}, {0, 0}, {11, 22}, {0, 0}}));
    CHECK(e.touched_rows() == std::vector<index_type>{0, 1, 3});
    e.backward(Matrix<float>{{1, 1}, {0, 0}, {0, 0}, {0, 0}});  // accumulates
    CHECK(e.weight().grad(3, 0) == 12);
    CHECK(e.forward(std::vector<index_type>{4}).shape(0) == 1);
    CHECK(e.touched_rows() == std::vector<index_type>{4});
}

TEST_CASE("Embedding default init is U(-0.05, 0.05)", "[embedding]") {
    Rng rng(2);
    Embedding<float> e(100, 32, rng);
    for (float v : e.weight().value) {
        CHECK(v >= -0.05f);
        CHECK(v <= 0.05f);
    }
    CHECK(e.parameters().size() == 1);
    CHECK(e.parameters()[0]->name == "weight");
}

TEST_CASE("Embedding passes the gradient check (double)", "[embedding][gradcheck]") {
    Rng rng(3);
    Embedding<double> e(6, 3, rng, cfnet::nn::init::normal(0, 1));
    const std::vector<index_type> idx = {2, 5, 2, 0, 2};
    Matrix<double> R = Matrix<double>::from_shape({5, 3});
    for (auto& v : R) v = rng.uniform(-1, 1);
    auto loss = [&] {
        const auto& y = e.forward(idx);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * R.data()[i];
        return s;
    };
    loss();
    e.backward(R);
    const Matrix<double> g = e.weight().grad;
    const auto r = cfnet::testing::check_gradient(loss, e.weight().value.data(), g.data(), g.size(), "weight");
    INFO(r.log);
    CHECK(r.rel_error < 1e-6);
    // untouched rows have no gradient
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(g(1, j) == 0.0);
        CHECK(g(3, j) == 0.0);
    }
}

TEST_CASE("Embedding errors name the offending index", "[embedding][errors]") {
    using Catch::Matchers::Contains;
    Rng rng(4);
    CHECK_THROWS_AS(Embedding<float>(0, 3, rng), cfnet::InvalidArgument);
    Embedding<float> e(5, 2, rng);
    CHECK_THROWS_WITH(e.forward(std::vector<index_type>{1, 5}), Contains("index 5 at position 1 is out of range (n = 5)"));
    e.forward(std::vector<index_type>{1, 2});
    CHECK_THROWS_WITH(e.backward(Matrix<float>::from_shape({3, 2})), Contains("dy is 3 x 2, expected 2 x 2"));
}
