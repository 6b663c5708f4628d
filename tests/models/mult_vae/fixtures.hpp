#pragma once
// Shared by tests/models/mult_vae/test_*.cpp: a small synthetic implicit data set with low-rank structure.
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/mult_vae.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfnet_test {

/// Implicit 0/1 data: user u picks `per_user` distinct items, item i with probability proportional
/// to exp(4 <p_u, q_i>) for 2-factor p, q in [-1, 1]^2 (what a user likes depends on who they are,
/// so the data has structure beyond popularity); `test_every`-th pick of each user goes to test.
inline cfnet::Split<float> implicit_low_rank(std::size_t n_users, std::size_t n_items, std::size_t per_user,
                                             std::uint64_t seed, std::size_t test_every = 5) {
    cfnet::Rng rng(seed);
    std::vector<std::array<double, 2>> p(n_users), q(n_items);
    for (auto& v : p) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    for (auto& v : q) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    std::vector<cfnet::Rating<float>> train, test;
    std::vector<double> w(n_items);
    for (std::size_t u = 0; u < n_users; ++u) {
        for (std::size_t i = 0; i < n_items; ++i) w[i] = std::exp(4 * (p[u][0] * q[i][0] + p[u][1] * q[i][1]));
        for (std::size_t k = 0; k < per_user; ++k) {
            double total = 0;
            for (double x : w) total += x;
            double r = rng.uniform() * total;
            std::size_t i = 0;
            while (i + 1 < n_items && (r -= w[i]) > 0) ++i;
            while (w[i] == 0) i = (i + 1) % n_items;
            w[i] = 0;
            (k % test_every == test_every - 1 ? test : train)
                .push_back({static_cast<cfnet::id_type>(u), static_cast<cfnet::id_type>(i), 1.f, 0});
        }
    }
    // both in one space: build from all, then filter
    std::vector<cfnet::Rating<float>> all(train);
    all.insert(all.end(), test.begin(), test.end());
    const auto m = cfnet::RatingMatrix<float>::from_ratings(all);
    std::vector<char> is_test(m.nnz(), 0);
    {
        std::vector<std::vector<std::size_t>> picks(n_users);
        for (const auto& t : test) picks[t.user].push_back(t.item);
        const auto& rp = m.row_ptr();
        for (std::size_t u = 0; u < m.n_users(); ++u) {
            const auto uid = m.users().ids()[u];
            const auto items = m.user_items(static_cast<cfnet::index_type>(u));
            for (std::size_t k = 0; k < items.size(); ++k)
                for (auto it : picks[uid])
                    if (m.items().ids()[items[k]] == static_cast<cfnet::id_type>(it)) is_test[rp[u] + k] = 1;
        }
    }
    cfnet::Split<float> s;
    s.train = m.filter([&](std::size_t k) { return !is_test[k]; });
    s.test = m.filter([&](std::size_t k) { return is_test[k] != 0; });
    return s;
}

/// A small, fast configuration for tests.
inline cfnet::MultVAEOptions small_vae(bool variational = true) {
    cfnet::MultVAEOptions o = variational ? cfnet::MultVAEOptions::vae() : cfnet::MultVAEOptions::dae();
    o.hidden_sizes({32}).latent_dim(8).batch(50).n_epochs(30).anneal(100, 0.2).random_seed(7);
    if (!variational) o.l2(0.01 / 50);
    return o;
}

}  // namespace cfnet_test
