#pragma once
// Shared by tests/models/autoencoder/*: two synthetic rating fixtures, a small fast configuration
// and scratch paths for model files.
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/models/autoencoder/options.hpp>

#include "support/files.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cfnet_test {

/// A small random rating matrix: every user rates `per_user` distinct items (1..5), a few users
/// (every 7th) rate a single item, and item n_items-1 exists but is never rated.
template <class T>
cfnet::RatingMatrix<T> sparse_ratings(std::size_t n_users, std::size_t n_items, std::size_t per_user,
                                      std::uint64_t seed) {
    cfnet::Rng rng(seed);
    std::vector<cfnet::Rating<T>> r;
    for (std::size_t u = 0; u < n_users; ++u) {
        const std::size_t cnt = u % 7 == 3 ? 1 : per_user;
        for (auto i : rng.sample(n_items - 1, cnt))
            r.push_back({static_cast<cfnet::id_type>(u + 1), static_cast<cfnet::id_type>(i + 1),
                         static_cast<T>(1 + rng.below(5)), 0});
    }
    // give the last item an id so it exists in the item space, through a rating we then remove
    r.push_back({1, static_cast<cfnet::id_type>(n_items), T(3), 0});
    const auto all = cfnet::RatingMatrix<T>::from_ratings(r);
    const auto last = static_cast<cfnet::index_type>(n_items - 1);
    const auto& items = all.item_indices();
    return all.filter([&](std::size_t k) { return items[k] != last; });
}

/// Low-rank ratings r = clamp(round(3 + 3 <p_u, q_i>), 1, 5) with 2 factors, each user rating half
/// the items; about 15% of the ratings go to test.
inline cfnet::Split<float> low_rank_split(std::size_t n_users, std::size_t n_items, std::uint64_t seed) {
    cfnet::Rng rng(seed);
    std::vector<std::array<double, 2>> p(n_users), q(n_items);
    for (auto& v : p) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    for (auto& v : q) v = {rng.uniform(-1, 1), rng.uniform(-1, 1)};
    std::vector<cfnet::Rating<float>> r;
    for (std::size_t u = 0; u < n_users; ++u)
        for (auto i : rng.sample(n_items, n_items / 2)) {
            const double x = 3 + 1.5 * (p[u][0] * q[i][0] + p[u][1] * q[i][1]) * 2;
            r.push_back({static_cast<cfnet::id_type>(u), static_cast<cfnet::id_type>(i),
                         static_cast<float>(std::min(5.0, std::max(1.0, std::round(x)))), 0});
        }
    const auto all = cfnet::RatingMatrix<float>::from_ratings(r);
    cfnet::Rng pick(seed + 1);
    std::vector<char> in_test(all.nnz());
    for (auto& t : in_test) t = pick.uniform() < 0.15;
    cfnet::Split<float> out;
    out.train = all.filter([&](std::size_t k) { return !in_test[k]; });
    out.test = all.filter([&](std::size_t k) { return in_test[k] != 0; });
    return out;
}

/// A small user-based Adam configuration that learns low_rank_split in well under a second.
inline cfnet::AutoencoderOptions small_options() {
    cfnet::AutoencoderOptions o;
    o.hidden = {32, 8, 32};
    o.batch_size = 16;
    o.epochs = 60;
    o.learning_rate = 3e-3;
    return o;
}

/// For the error tests (TEST_CASE_METHOD): a small split, its training part, one-epoch options.
struct ErrorFixture {
    const cfnet::Split<float> lr = low_rank_split(40, 20, 5);
    const cfnet::RatingMatrix<float>& train = lr.train;
    cfnet::AutoencoderOptions o = small_options().n_epochs(1);
};

/// A path for a model file in a fresh scratch directory (removed when the test program ends).
inline std::string model_path(const std::string& name) { return scratch_dir("ae") + "/" + name; }

}  // namespace cfnet_test
