// models/autoencoder/residual.hpp and AutoencoderOptions::residual: the baseline's row biases by
// hand, and a residual model checked against a plain model trained on a residual matrix made by
// hand (same seed, so the same network bit for bit), in both orientations, through every input
// path: fit, predict, score_items / recommend_batch, fold-in, save / load. (The residual model's
// gradient check is with the others in test_network.cpp.)
#include <cfnet/models/autoencoder/model.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <utility>
#include <vector>

using cfnet::AutoencoderCF;
using cfnet::AutoencoderOptions;
using cfnet::index_type;
using cfnet::RatingMatrix;
using cfnet_test::model_path;
using cfnet_test::sparse_ratings;

namespace {

/// `m` (users x items) minus mu + b_u + b_i, the biases computed here from their definitions: the
/// unit side (items for a user-based model, users for an item-based one) from a BiasBaseline with
/// its default options, the row side from the row's own ratings given those.
RatingMatrix<double> residuals_by_hand(const RatingMatrix<double>& m, bool user_based) {
    cfnet::BiasBaseline<double> b;
    b.fit(m);
    const double mu = b.global_mean();
    const cfnet::BiasBaselineOptions bo;
    std::vector<double> row_b(user_based ? m.n_users() : m.n_items());
    for (std::size_t r = 0; r < row_b.size(); ++r) {
        double s = 0, n = 0;
        if (user_based) {
            const auto items = m.user_items(static_cast<index_type>(r));
            const auto vals = m.user_ratings(static_cast<index_type>(r));
            for (std::size_t k = 0; k < items.size(); ++k, ++n) s += vals[k] - mu - b.item_biases()[items[k]];
            row_b[r] = n > 0 ? s / (bo.lambda_user + n) : 0.0;
        } else {
            const auto users = m.item_users(static_cast<index_type>(r));
            const auto vals = m.item_ratings(static_cast<index_type>(r));
            for (std::size_t k = 0; k < users.size(); ++k, ++n) s += vals[k] - mu - b.user_biases()[users[k]];
            row_b[r] = n > 0 ? s / (bo.lambda_item + n) : 0.0;
        }
    }
    std::vector<double> v(m.values());
    const auto& rp = m.row_ptr();
    for (std::size_t u = 0; u < m.n_users(); ++u)
        for (std::size_t k = rp[u]; k < rp[u + 1]; ++k) {
            const auto i = m.item_indices()[k];
            v[k] -= user_based ? mu + row_b[u] + b.item_biases()[i] : mu + b.user_biases()[u] + row_b[i];
        }
    return RatingMatrix<double>(m.user_map(), m.item_map(), rp, m.item_indices(), std::move(v));
}

AutoencoderOptions small(bool item_based) {
    AutoencoderOptions o;
    o.hidden = {12, 4, 12};
    o.hidden_activation = cfnet::ActivationKind::tanh;
    o.batch_size = 8;
    o.epochs = 5;
    o.learning_rate = 3e-3;
    o.item_based(item_based);
    return o;
}

}  // namespace

TEST_CASE("ResidualBaseline: row biases, offsets and residuals by hand", "[autoencoder][residual]") {
    cfnet::detail::ResidualBaseline<double> b;
    b.mu = 3.0;
    b.unit_bias = {0.5, -0.5, 0.0};
    b.row_lambda = 1.0;
    CHECK(b.active());
    // one user with ratings 5 and 3 on units 0 and 1: ((5 - 3.5) + (3 - 2.5)) / (1 + 2) = 2/3
    const auto m = RatingMatrix<double>::from_ratings({{1, 1, 5.0, 0}, {1, 2, 3.0, 0}, {2, 3, 3.0, 0}});
    const auto rb = b.row_biases(m);
    REQUIRE(rb.size() == 2);
    CHECK(rb[0] == Approx(2.0 / 3));
    CHECK(rb[1] == Approx(0.0));  // (3 - 3 - 0) / 2
    CHECK(b.offset(rb[0], 1) == Approx(3.0 + 2.0 / 3 - 0.5));
    const auto r = b.residuals(m, rb);
    CHECK(r.same_space(m));
    CHECK(r.row_ptr() == m.row_ptr());
    CHECK(r.values()[0] == Approx(5.0 - (3.5 + 2.0 / 3)));
    CHECK(r.values()[1] == Approx(3.0 - (2.5 + 2.0 / 3)));
    CHECK(r.values()[2] == Approx(0.0));
    const index_type none = 0;
    CHECK(b.row_bias(&none, nullptr, 0) == 0.0);  // a row without ratings has no bias
    CHECK_FALSE(cfnet::detail::ResidualBaseline<double>{}.active());
}

TEST_CASE("AutoencoderCF residual: the network of a plain model trained on hand-made residuals, plus the baseline",
          "[autoencoder][residual]") {
    const auto data = sparse_ratings<double>(40, 25, 8, 3);
    for (const bool item_based : {false, true}) {
        INFO("item_based " << item_based);
        auto o = small(item_based);
        AutoencoderCF<double> plain(o);
        const auto res = residuals_by_hand(data, !item_based);
        const auto h_plain = plain.fit(res);
        AutoencoderCF<double> model(o.residual_of_baseline());
        const auto h = model.fit(data);
        REQUIRE(h.size() == h_plain.size());
        for (std::size_t e = 0; e < h.size(); ++e) CHECK(h[e].loss == Approx(h_plain[e].loss).epsilon(1e-9));

        // predict = the plain network on the residual input + mu + b_u + b_i
        std::vector<std::pair<index_type, index_type>> pairs;
        for (index_type u = 0; u < data.n_users(); u += 3)
            for (index_type i = 0; i < data.n_items(); i += 2) pairs.emplace_back(u, i);
        const auto p = model.predict(data, pairs);
        const auto p_res = plain.predict(res, pairs);
        std::vector<double> offset(pairs.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) {
            const auto [u, i] = pairs[k];
            // a stored rating's residual tells its offset: value - residual
            const auto r = data.rating(u, i);
            if (r) CHECK(p[k] - p_res[k] == Approx(*r - *res.rating(u, i)).margin(1e-9));
            offset[k] = p[k] - p_res[k];
        }
        // the offset of a pair is additive: o(u, i) - o(u, j) - o(v, i) + o(v, j) = 0
        for (std::size_t k = 0; k + 1 < pairs.size(); ++k)
            if (pairs[k].first == pairs[k + 1].first) {
                const auto u = pairs[k].first, i = pairs[k].second, j = pairs[k + 1].second;
                for (std::size_t l = 0; l + 1 < pairs.size(); ++l)
                    if (pairs[l].second == i && pairs[l + 1].second == j && pairs[l].first != u)
                        CHECK(offset[k] - offset[k + 1] - offset[l] + offset[l + 1] == Approx(0.0).margin(1e-9));
            }

        // every scoring path agrees with predict (no clamp, no fallback: raw scores)
        std::vector<double> all(data.n_items());
        for (const index_type u : {index_type(0), index_type(7), index_type(31)}) {
            model.score_items(data, u, all.data());
            for (index_type i = 0; i < data.n_items(); ++i)
                CHECK(all[i] == Approx(model.predict(data, {{u, i}})[0]).epsilon(1e-9));
        }
        std::vector<index_type> users{0, 7, 31};
        std::size_t n = 0;
        model.recommend_batch(data, users, 5, [&](index_type u, const std::vector<cfnet::Recommendation<double>>& recs) {
            const auto single = model.recommend(data, u, 5);
            REQUIRE(single.size() == recs.size());
            for (std::size_t j = 0; j < recs.size(); ++j) {
                CHECK(single[j].item == recs[j].item);
                CHECK(recs[j].score == Approx(model.predict(data, {{u, recs[j].item}})[0]).epsilon(1e-9));
            }
            ++n;
        });
        CHECK(n == users.size());
        if (!item_based) {  // fold-in: the user's ratings alone give the same scores
            const auto items = data.user_items(7);
            const auto vals = data.user_ratings(7);
            const auto folded = model.predict_user({items.begin(), items.end()}, {vals.begin(), vals.end()});
            model.score_items(data, 7, all.data());
            for (std::size_t i = 0; i < all.size(); ++i) CHECK(folded[i] == Approx(all[i]).epsilon(1e-9));
        }

        // a model file gives identical predictions
        const std::string path = model_path(item_based ? "residual_item.cfnet" : "residual_user.cfnet");
        model.save(path);
        const auto back = AutoencoderCF<double>::load(path);
        CHECK(back.options().residual);
        CHECK(back.predict(data, pairs) == p);
    }
}

TEST_CASE("AutoencoderCF: clamp_to_training clamps to the training ratings' own range", "[autoencoder]") {
    // half stars 0.5 .. 4.5: a fixed [1, 5] clamp would be wrong at both ends
    std::vector<cfnet::Rating<float>> r;
    cfnet::Rng rng(3);
    for (cfnet::id_type u = 1; u <= 30; ++u)
        for (auto i : rng.sample(20, 8)) r.push_back({u, static_cast<cfnet::id_type>(i + 1), 0.5f * (1 + rng.below(9)), 0});
    const auto m = RatingMatrix<float>::from_ratings(r);
    auto o = small(false).clamp_to_training_range();
    o.epochs = 2;
    AutoencoderCF<float> model(o);
    model.fit(m);
    REQUIRE(model.options().clamp_min);
    CHECK(*model.options().clamp_min == 0.5);
    CHECK(*model.options().clamp_max == 4.5);
    std::vector<std::pair<index_type, index_type>> pairs;
    for (index_type u = 0; u < m.n_users(); ++u)
        for (index_type i = 0; i < m.n_items(); ++i) pairs.emplace_back(u, i);
    for (const float p : model.predict(m, pairs)) {
        CHECK(p >= 0.5f);
        CHECK(p <= 4.5f);
    }
    // a refit on other data takes that data's range
    const auto shifted = m.filter([&](std::size_t k) { return m.values()[k] >= 1.0f; });
    model.fit(shifted);
    CHECK(*model.options().clamp_min == 1.0);
}
