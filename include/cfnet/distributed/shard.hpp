#pragma once
/// @file distributed/shard.hpp
/// Row (user) shards of a rating matrix for data-parallel work (docs/distributed.md). A shard is a
/// RatingMatrix in the GLOBAL index space (every rank has the same user and item id maps, so a
/// user index means the same user everywhere) that holds only this rank's rows' ratings; the
/// other rows are empty. Memory per rank: O(users + items) for the maps and row offsets, plus the
/// shard's ratings.
///
///   shard_rows(all, comm)            every rank loaded the whole matrix: keep block_of(users)
///   shard_from_ratings(mine, comm)   every rank read only its own ratings (a file split by users):
///                                    the id maps are agreed on with two allgatherv calls
///   RowOwners(shard, comm)           which rows this rank computes (its non-empty rows, plus its
///                                    block's rows that are empty on every rank)

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cfnet::distributed {

/// Raises InvalidArgument on every rank (none is left waiting in a collective) when a rank's shard
/// is empty: "<fn>: rank r of N has no <what> (give every rank some users)". Collective.
inline void require_data_on_every_rank(Communicator& comm, std::size_t nnz, const char* fn, const char* what) {
    const auto sizes = comm.allgather(static_cast<std::int64_t>(nnz));
    for (std::size_t r = 0; r < sizes.size(); ++r)
        check_arg(sizes[r] > 0, fn, ": rank ", r, " of ", sizes.size(), " has no ", what, " (give every rank some users)");
}

/// The rows block_of(all.n_users(), comm) of `all`, in all's index space (the other rows empty).
template <class T>
RatingMatrix<T> shard_rows(const RatingMatrix<T>& all, const Communicator& comm) {
    const Block b = block_of(all.n_users(), comm);
    const auto rp = all.row_ptr();
    return all.filter([&](std::size_t k) { return k >= rp[b.begin] && k < rp[b.end]; });
}

/// A shard from this rank's own ratings (e.g. its part of a file split by users). The user and
/// item id maps are the sorted distinct ids over all ranks (collective: every rank must call it),
/// so the shards of all ranks share one index space, the one RatingMatrix::from_ratings would
/// give for the concatenated ratings.
/// @throws InvalidArgument (on the ranks concerned) for a duplicate (user, item) pair of one rank;
///         a user split across ranks is found later by RowOwners.
template <class T>
RatingMatrix<T> shard_from_ratings(const std::vector<Rating<T>>& mine, Communicator& comm,
                                   DuplicatePolicy duplicates = DuplicatePolicy::error, bool with_timestamps = true) {
    auto distinct = [](std::vector<id_type> v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        return v;
    };
    std::vector<id_type> u, i;
    u.reserve(mine.size());
    i.reserve(mine.size());
    for (const auto& r : mine) {
        u.push_back(r.user);
        i.push_back(r.item);
    }
    auto users = std::make_shared<IdMap>(IdMap::sorted_unique(comm.allgatherv(distinct(std::move(u))), "user"));
    auto items = std::make_shared<IdMap>(IdMap::sorted_unique(comm.allgatherv(distinct(std::move(i))), "item"));
    return RatingMatrix<T>::from_ratings(mine, std::move(users), std::move(items), duplicates, with_timestamps);
}

/// Which rows of the global index space this rank computes: the rows with ratings in its shard,
/// and, of the rows empty on every rank, those in its block_of(rows) (so that every row, empty
/// or not, has exactly one owner: per-row normalisers such as the per-sample loss's batch size
/// count each row once). Collective: one allreduce of rows int64 counts.
class RowOwners {
public:
    /// @throws InvalidArgument (on every rank) when a row has ratings on more than one rank: a
    /// row (a user's ratings) must be whole on one rank.
    template <class T>
    RowOwners(const RatingMatrix<T>& shard, Communicator& comm) : owned_(shard.n_users(), 0), held_(shard.n_users(), 0) {
        const std::size_t n = shard.n_users();
        std::vector<std::int64_t> holders(n, 0);
        for (std::size_t r = 0; r < n; ++r) holders[r] = shard.user_count(static_cast<index_type>(r)) > 0 ? 1 : 0;
        comm.allreduce_sum(holders);
        const Block b = block_of(n, comm);
        for (std::size_t r = 0; r < n; ++r) {
            check_arg(holders[r] <= 1, "distributed::RowOwners: row ", r, " (", shard.users().label(static_cast<index_type>(r)),
                      ") has ratings on ", holders[r], " ranks; every row (user) must be whole on one rank");
            owned_[r] = shard.user_count(static_cast<index_type>(r)) > 0 || (holders[r] == 0 && b.contains(r));
            held_[r] = holders[r] > 0;
            count_ += owned_[r];
        }
    }

    bool owns(std::size_t row) const { return owned_.at(row) != 0; }
    /// Whether the row has ratings on some rank (all ranks agree).
    bool held(std::size_t row) const { return held_.at(row) != 0; }
    /// The number of rows this rank owns.
    std::size_t count() const noexcept { return count_; }
    std::size_t rows() const noexcept { return owned_.size(); }

private:
    std::vector<std::uint8_t> owned_, held_;
    std::size_t count_ = 0;
};

}  // namespace cfnet::distributed
