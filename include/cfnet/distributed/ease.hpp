#pragma once
/// @file distributed/ease.hpp
/// EASE on user shards (docs/distributed.md): X^T X is a sum over users, so each rank builds the
/// Gram matrix of its own users and one allreduce (the upper triangle, k (k + 1) / 2 floats for
/// k items) gives every rank the whole Gram; every rank then solves (the Cholesky inverse is
/// k^3 / 3 flops, not split here) and holds the same B. The Gram's entries are co-occurrence
/// counts, integers that float sums exactly below 2^24: the model is bit-identical to a
/// single-process fit on the concatenated shards, whatever the number of ranks.
///
/// @code
///   cfnet::Ease<> model(cfnet::EaseOptions().l2(500));
///   cfnet::distributed::fit_sharded(model, shard, comm);     // collective
/// @endcode
///
/// Supported: a fixed lambda (options().lambdas empty: choosing lambda on a validation part would
/// need the validation metrics reduced too) and every item kept (max_items 0: which items are most
/// frequent depends on all shards).

#include <cfnet/distributed/communicator.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/error.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfnet::distributed {

/// Fits `model` on the union of all ranks' shards (each rank passes its own, in one global index
/// space: distributed/shard.hpp). Collective. Returns `model`.
/// @throws InvalidArgument when options().lambdas is not empty or max_items restricts the items,
///         and as Ease::fit.
template <class T>
Ease<T>& fit_sharded(Ease<T>& model, const RatingMatrix<T>& shard, Communicator& comm) {
    check_arg(model.options().lambdas.empty(), "distributed::fit_sharded(Ease): lambda selection (",
              model.options().lambdas.size(), " candidates) is not supported: set a fixed lambda");
    check_arg(model.options().max_items == 0 || model.options().max_items >= shard.n_items(),
              "distributed::fit_sharded(Ease): max_items ", model.options().max_items,
              " is not supported (the most frequent items depend on every shard): keep every item");
    std::vector<T> packed;
    model.set_gram_reduction([&](T* g, std::size_t k) {
        packed.resize(k * (k + 1) / 2);
        std::size_t o = 0;
        for (std::size_t i = 0; i < k; ++i)
            for (std::size_t j = i; j < k; ++j) packed[o++] = g[i * k + j];
        comm.allreduce_sum(packed);
        o = 0;
        for (std::size_t i = 0; i < k; ++i)
            for (std::size_t j = i; j < k; ++j) g[i * k + j] = packed[o++];
    });
    struct Clear {
        Ease<T>& m;
        ~Clear() { m.set_gram_reduction({}); }
    } clear{model};
    // Ease::fit refuses an empty matrix: every rank must have interactions (checked on all ranks
    // together, so that none is left waiting in the Gram's allreduce).
    const auto counts = comm.allgather(static_cast<std::int64_t>(shard.nnz()));
    for (std::size_t r = 0; r < counts.size(); ++r)
        check_arg(counts[r] > 0, "distributed::fit_sharded(Ease): rank ", r, " of ", counts.size(),
                  " has no interactions (give every rank some users)");
    model.fit(shard);
    return model;
}

}  // namespace cfnet::distributed
