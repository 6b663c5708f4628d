#pragma once
/// @file models/ease/options.hpp
/// EaseOptions: the configuration of Ease (Steck 2019, "Embarrassingly Shallow Autoencoders for
/// Sparse Data"), and its field table for model files (options_io.hpp). docs/ease.md explains each
/// option.

#include <cfnet/error.hpp>
#include <cfnet/options_io.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace cfnet {

/// The ranking metric that picks lambda among EaseOptions::lambdas on the validation part.
enum class EaseSelection {
    ndcg,      ///< NDCG@validation_k (the default)
    precision  ///< Precision@validation_k
};

inline const char* to_string(EaseSelection s) { return s == EaseSelection::ndcg ? "ndcg" : "precision"; }

/// Configuration of Ease: public fields plus chained setters; Ease's constructor validates them.
struct EaseOptions {
    /// The L2 regularisation lambda of B = argmin ||X - X B||^2 + lambda ||B||^2 (diag B = 0).
    /// Its scale follows the data: it is added to counts of co-occurrences, so larger and denser
    /// data want larger values (the paper used 500 on ML-20M; on ML-100K see docs/ease.md).
    /// Used as is when `lambdas` is empty.
    double lambda = 500.0;
    /// Candidates for lambda. When not empty, fit() holds out validation_fraction of every user's
    /// TRAINING interactions (stratified_split by user, `seed`), fits each candidate on the rest,
    /// scores the held-out part with evaluate_ranking at validation_k (every held-out item
    /// relevant, the rest of the user's interactions excluded), keeps the best (ties: the earlier
    /// candidate) and refits on all training data. Not stored in model files (it only steers a
    /// fit); the chosen value is (selected_lambda).
    std::vector<double> lambdas;
    double validation_fraction = 0.25;  ///< in (0, 1)
    std::size_t validation_k = 10;
    EaseSelection selection = EaseSelection::ndcg;
    std::uint64_t seed = 42;  ///< the validation split
    /// Keep only the max_items most frequent training items (ties: smaller item index); 0 keeps
    /// all. Other items get score -inf (never recommended while a kept item is a candidate;
    /// predict() returns -inf for them) and are ignored as inputs.
    std::size_t max_items = 0;
    /// Bytes fit() may use; 0 means the default: 3/4 of physical memory (8 GiB where it cannot be
    /// read). fit() throws InvalidArgument before allocating when it would need more.
    std::size_t memory_limit = 0;
    /// OpenBLAS threads during fit (and threads of the Gram kernel); the process-wide OpenBLAS
    /// setting is restored on return. 0 leaves OpenBLAS as it is and builds the Gram on one thread.
    int threads = 0;

    EaseOptions& l2(double v) { lambda = v; return *this; }
    EaseOptions& select_lambda(std::vector<double> candidates) { lambdas = std::move(candidates); return *this; }
    EaseOptions& validation(double fraction, std::size_t k = 10, EaseSelection metric = EaseSelection::ndcg) {
        validation_fraction = fraction;
        validation_k = k;
        selection = metric;
        return *this;
    }
    EaseOptions& random_seed(std::uint64_t v) { seed = v; return *this; }
    EaseOptions& most_frequent(std::size_t n) { max_items = n; return *this; }
    EaseOptions& memory(std::size_t bytes) { memory_limit = bytes; return *this; }
    EaseOptions& n_threads(int n) { threads = n; return *this; }

    /// The preset that holds on new data: lambda chosen by NDCG@10 on 25% of each user's training
    /// interactions among 50, 100, 200, ..., 3200 (a x2 grid over the range where ML-100K's and
    /// ML-20M's best values lie: ~400-800 and ~500), then refitted on all of them. Each candidate
    /// costs one n_items^3 inversion (the Gram matrix is built once).
    static EaseOptions validated() {
        EaseOptions o;
        o.select_lambda({50, 100, 200, 400, 800, 1600, 3200});
        return o;
    }

    /// @throws InvalidArgument naming the field when an option is out of range.
    void validate() const {
        check_arg(std::isfinite(lambda) && lambda > 0, "EaseOptions: lambda must be > 0 and finite, got ", lambda);
        for (std::size_t i = 0; i < lambdas.size(); ++i)
            check_arg(std::isfinite(lambdas[i]) && lambdas[i] > 0, "EaseOptions: lambdas[", i,
                      "] must be > 0 and finite, got ", lambdas[i]);
        check_arg(std::isfinite(validation_fraction) && validation_fraction > 0 && validation_fraction < 1,
                  "EaseOptions: validation_fraction must be in (0, 1), got ", validation_fraction);
        check_arg(validation_k > 0, "EaseOptions: validation_k must be > 0");
        check_arg(threads >= 0, "EaseOptions: threads must be >= 0, got ", threads);
    }

    /// memory_limit, or the default when it is 0.
    std::size_t effective_memory_limit() const {
        if (memory_limit > 0) return memory_limit;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        if (pages > 0 && page > 0) return static_cast<std::size_t>(pages) / 4 * 3 * static_cast<std::size_t>(page);
#endif
        return std::size_t(8) << 30;
    }
};

/// EaseOptions in a model file (options_io.hpp): one key per field, except `lambdas` (see there).
template <>
inline const OptionsTable<EaseOptions>& options_table<EaseOptions>() {
    using O = EaseOptions;
    static const OptionsTable<O> table =
        OptionsTable<O>()
            .number("lambda", &O::lambda)
            .number("validation_fraction", &O::validation_fraction)
            .integer("validation_k", &O::validation_k)
            .choice("selection", &O::selection, {{"ndcg", EaseSelection::ndcg}, {"precision", EaseSelection::precision}})
            .integer("seed", &O::seed)
            .integer("max_items", &O::max_items)
            .integer("memory_limit", &O::memory_limit)
            .integer("threads", &O::threads);
    return table;
}

/// `o` without its lambda candidates, for cfnet::tune (tune.hpp), which does the choosing itself.
inline EaseOptions without_own_selection(EaseOptions o) {
    o.lambdas.clear();
    return o;
}

}  // namespace cfnet
