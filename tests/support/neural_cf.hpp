#pragma once
// Shared by tests/models/neural_cf/* (and tests/data/test_sampling.cpp, for low_rank): a low-rank
// synthetic rating matrix, a small fast configuration, a comparison of recommendation lists and a
// callback that records the order of the fit loop's hooks.
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/models/neural_cf/options.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cfnet_test {

/// A low-rank synthetic rating matrix: rating = clamp(round(3 + 1.5 <p_u, q_i>)) on ~`density` of
/// the cells, ids 1..n (users) and 101..100+n (items).
template <class T>
cfnet::RatingMatrix<T> low_rank(std::size_t users, std::size_t items, double density, std::uint64_t seed) {
    cfnet::Rng rng(seed);
    const std::size_t rank = 3;
    std::vector<double> p(users * rank), q(items * rank);
    for (auto& v : p) v = rng.normal();
    for (auto& v : q) v = rng.normal();
    std::vector<cfnet::Rating<T>> r;
    for (std::size_t u = 0; u < users; ++u)
        for (std::size_t i = 0; i < items; ++i) {
            if (rng.uniform() >= density) continue;
            double s = 0;
            for (std::size_t k = 0; k < rank; ++k) s += p[u * rank + k] * q[i * rank + k];
            const double v = std::min(5.0, std::max(1.0, std::round(3.0 + 0.9 * s)));
            r.push_back({static_cast<cfnet::id_type>(u + 1), static_cast<cfnet::id_type>(101 + i), static_cast<T>(v), 0});
        }
    return cfnet::RatingMatrix<T>::from_ratings(r);
}

/// A small configuration (embeddings of 8, MLP 16-8, batch 64, 3 epochs, seed 7).
inline cfnet::NeuralCFOptions small_options(cfnet::NcfArchitecture a, cfnet::Feedback f = cfnet::Feedback::ratings) {
    cfnet::NeuralCFOptions o;
    o.architecture = a;
    o.feedback = f;
    o.embedding_dim = 8;
    o.hidden = {16, 8};
    o.batch_size = 64;
    o.epochs = 3;
    o.seed = 7;
    return o;
}

/// The same items with bit-identical scores, in the same order.
inline bool same_recs(const std::vector<cfnet::Recommendation<float>>& a,
                      const std::vector<cfnet::Recommendation<float>>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (a[k].item != b[k].item || !(a[k].score == b[k].score)) return false;
    return true;
}

/// Records the order of the callback hooks.
struct RecordingCallback : cfnet::Callback {
    std::string log;
    int stop_after = 0;
    void on_train_begin(int epochs, std::size_t) override { log += "B" + std::to_string(epochs); }
    void on_epoch_begin(int e) override { log += "e" + std::to_string(e); }
    void on_batch_end(std::size_t, double) override { log += "."; }
    bool on_epoch_end(const cfnet::EpochRecord& r) override {
        log += "E";
        return stop_after > 0 && r.epoch >= stop_after;
    }
    void on_train_end(const cfnet::History& h) override { log += "T" + std::to_string(h.size()); }
};

}  // namespace cfnet_test
