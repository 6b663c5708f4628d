#pragma once
/// @file data/sampling.hpp
/// Negative sampling for implicit-feedback training (NeuralCF's implicit mode, He et al. 2017).
///
/// For every observed (user, item) pair of a RatingMatrix (a "positive"), `negatives_per_positive`
/// items are drawn uniformly at random among the items that user has NOT interacted with in that
/// matrix (rejection sampling against the user's sorted item list; repeats across draws are
/// allowed, as in the reference implementation). The output is a flat list of training triples
/// (user, item, label) with label 1 for positives and 0 for negatives, positives first within
/// each user's block. Call it once per epoch with the same Rng to resample the negatives.

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cfnet {

/// Triples for implicit-feedback training: users[k], items[k], labels[k] (1 positive, 0 negative).
template <class T = float>
struct ImplicitSamples {
    using value_type = T;
    using size_type = std::size_t;

    std::vector<index_type> users;
    std::vector<index_type> items;
    std::vector<T> labels;

    size_type size() const noexcept { return users.size(); }
    void clear() noexcept {
        users.clear();
        items.clear();
        labels.clear();
    }
};

/// Checks that negatives can be drawn for every user with a positive: such a user must leave at
/// least one item unrated.
/// @throws InvalidArgument naming the first user index that rated every item.
template <class T>
void check_negative_sampling(const RatingMatrix<T>& positives, const char* fn) {
    for (std::size_t u = 0; u < positives.n_users(); ++u) {
        const auto c = positives.user_count(static_cast<index_type>(u));
        check_arg(c == 0 || c < positives.n_items(), fn, ": user index ", u, " has interacted with all ",
                  positives.n_items(), " items, so no negative item can be sampled for it");
    }
}

/// Fills `out` (cleared first; its capacity is reused, so a per-epoch call allocates nothing once
/// grown) with every stored pair of `positives` as a positive followed by `negatives_per_positive`
/// negatives of the same user, each drawn uniformly from the items the user did not interact with.
/// Users are visited in index order, their items in increasing order; draws come from `rng`.
/// Expected cost O(nnz * negatives * log(items per user) / (1 - density of the user's row)).
/// @throws InvalidArgument if some user with a positive has interacted with every item.
template <class T>
void sample_negatives(const RatingMatrix<T>& positives, std::size_t negatives_per_positive, Rng& rng,
                      ImplicitSamples<T>& out) {
    check_negative_sampling(positives, "sample_negatives");
    out.clear();
    const std::size_t total = positives.nnz() * (1 + negatives_per_positive);
    out.users.reserve(total);
    out.items.reserve(total);
    out.labels.reserve(total);
    const std::size_t n_items = positives.n_items();
    for (std::size_t u = 0; u < positives.n_users(); ++u) {
        const auto user = static_cast<index_type>(u);
        const auto seen = positives.user_items(user);
        for (const auto item : seen) {
            out.users.push_back(user);
            out.items.push_back(item);
            out.labels.push_back(T(1));
            for (std::size_t j = 0; j < negatives_per_positive; ++j) {
                index_type cand;
                do {
                    cand = static_cast<index_type>(rng.below(n_items));
                } while (std::binary_search(seen.begin(), seen.end(), cand));
                out.users.push_back(user);
                out.items.push_back(cand);
                out.labels.push_back(T(0));
            }
        }
    }
}

}  // namespace cfnet
