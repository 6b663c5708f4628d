#pragma once
/// @file distributed/evaluation.hpp
/// Evaluation and recommendation with the users sharded across ranks (docs/distributed.md):
/// every rank scores the users whose training rows it holds (distributed/shard.hpp), and the
/// results are combined: the metrics as an allreduce of sums and counts (a few doubles), the
/// recommendations as one allgatherv of (user, item, score) triples. Collective calls; every rank
/// gets the result.
///
/// @code
///   auto shard = cfnet::distributed::shard_rows(split.train, comm);
///   auto test = cfnet::distributed::shard_rows(split.test, comm);
///   auto scorer = model.make_scorer(shard);          // scores this rank's users from their rows
///   auto report = cfnet::distributed::evaluate_ranking(shard, test, 10, scorer, {}, comm);
///   auto top = cfnet::distributed::recommend_batch(model, shard, users, 10, comm);
/// @endcode
/// When every rank holds all the data (the `cfnet` tool under mpirun), evaluate_ranking_users and
/// recommend_batch_users split the users instead of the data and give one process's results bit
/// for bit (per-user results gathered and reduced in user order).

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/shard.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/recommender.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cfnet::distributed {

namespace detail {
/// Every user with test entries on this rank must have its training row here (or none anywhere).
/// Raised on every rank (none is left waiting in a collective).
template <class T>
void check_test_rows(const char* fn, const RatingMatrix<T>& test, const RowOwners& owners, Communicator& comm) {
    std::int64_t misplaced = 0;
    for (std::size_t u = 0; u < test.n_users(); ++u)
        misplaced += test.user_count(static_cast<index_type>(u)) > 0 && !owners.owns(u);
    check_arg(comm.allreduce_sum(misplaced) == 0, fn, ": ", misplaced, " test rows of this rank (and others' in ",
              "all) have their training rows on another rank (shard train and test the same way)");
}
}  // namespace detail

/// cfnet::evaluate_ranking over all ranks' users: each rank evaluates its shards (train_shard as
/// the input and the seen items, test_shard's users), and the per-user means are combined as
/// sums and counts. Equal to the single-process report up to the summation order of the means.
/// @throws InvalidArgument when options.exclude_unseen_items (which items have training ratings
///         depends on every shard), for a test row whose training row is on another rank, and as
///         cfnet::evaluate_ranking.
template <class T, class ScoreFn>
std::vector<RankingReport> evaluate_ranking(const RatingMatrix<T>& train_shard, const RatingMatrix<T>& test_shard,
                                            const std::vector<std::size_t>& ks, ScoreFn&& score_fn,
                                            const RankingOptions& options, Communicator& comm) {
    const char* fn = "distributed::evaluate_ranking";
    check_arg(!options.exclude_unseen_items, fn, ": exclude_unseen_items is not supported (the items without ",
              "training ratings depend on every shard)");
    const RowOwners owners(train_shard, comm);
    detail::check_test_rows(fn, test_shard, owners, comm);
    auto reports = cfnet::evaluate_ranking(train_shard, test_shard, ks, std::forward<ScoreFn>(score_fn), options);
    constexpr std::size_t fields = 8;
    std::vector<double> sums(fields * reports.size());
    for (std::size_t r = 0; r < reports.size(); ++r) {
        const auto& x = reports[r];
        const double n = static_cast<double>(x.users_evaluated);
        double* s = sums.data() + r * fields;
        s[0] = x.precision * n, s[1] = x.recall * n, s[2] = x.ndcg * n, s[3] = x.hit_rate * n, s[4] = x.map * n;
        s[5] = x.recall_capped * n, s[6] = x.map_r * n, s[7] = n;
    }
    comm.allreduce_sum(sums);
    for (std::size_t r = 0; r < reports.size(); ++r) {
        auto& x = reports[r];
        const double* s = sums.data() + r * fields;
        const double n = s[7], d = n > 0 ? n : 1.0;
        x.precision = s[0] / d, x.recall = s[1] / d, x.ndcg = s[2] / d, x.hit_rate = s[3] / d, x.map = s[4] / d;
        x.recall_capped = s[5] / d, x.map_r = s[6] / d;
        x.users_evaluated = static_cast<std::size_t>(std::llround(n));
        // every rank walks every row of the global space: a user not evaluated anywhere is skipped
        x.users_skipped = train_shard.n_users() - x.users_evaluated;
    }
    return reports;
}

/// evaluate_ranking at one k.
template <class T, class ScoreFn>
RankingReport evaluate_ranking(const RatingMatrix<T>& train_shard, const RatingMatrix<T>& test_shard, std::size_t k,
                               ScoreFn&& score_fn, const RankingOptions& options, Communicator& comm) {
    return evaluate_ranking(train_shard, test_shard, std::vector<std::size_t>{k}, std::forward<ScoreFn>(score_fn),
                            options, comm)[0];
}

/// cfnet::evaluate_rating over all ranks' test pairs (each rank passes its own test shard and a
/// predict_fn for its pairs; a rank may hold none). RMSE and MAE from the summed squared and
/// absolute errors and the pair count.
/// @throws InvalidArgument when no rank has a test pair; NumericalError as cfnet::evaluate_rating.
template <class T, class PredictFn>
RatingReport evaluate_rating(const RatingMatrix<T>& test_shard, PredictFn&& predict_fn, Communicator& comm) {
    double s[3] = {0.0, 0.0, 0.0};
    if (!test_shard.empty()) {
        const RatingReport r = cfnet::evaluate_rating(test_shard, std::forward<PredictFn>(predict_fn));
        const double n = static_cast<double>(r.count);
        s[0] = r.rmse * r.rmse * n, s[1] = r.mae * n, s[2] = n;
    }
    comm.allreduce_sum(s, 3);
    check_arg(s[2] > 0, "distributed::evaluate_rating: no rank has a test rating");
    RatingReport out;
    out.rmse = std::sqrt(s[0] / s[2]);
    out.mae = s[1] / s[2];
    out.count = static_cast<std::size_t>(std::llround(s[2]));
    return out;
}

/// Top-k for each of `users` (global user indices of the shards' index space), every rank scoring
/// the users whose rows it holds with model.recommend_batch(input_shard, ...), then gathered: the
/// result (on every rank) has one list per entry of `users`, in that order, each as
/// model.recommend(full input, user, k, exclude_seen) gives it.
/// Bytes: one allgatherv of 16 bytes per recommendation (position, item, float score).
/// @throws InvalidArgument for a user out of range, and as the model's recommend_batch.
template <class Model, class T>
std::vector<std::vector<Recommendation<T>>> recommend_batch(const Model& model, const RatingMatrix<T>& input_shard,
                                                            const std::vector<index_type>& users, std::size_t k,
                                                            Communicator& comm, bool exclude_seen = true) {
    for (const auto u : users)
        check_arg(u < input_shard.n_users(), "distributed::recommend_batch: user index ", u, " out of range (",
                  input_shard.n_users(), " users)");
    const RowOwners owners(input_shard, comm);
    std::vector<index_type> mine;
    std::vector<std::size_t> pos;  // position in `users` of each of mine
    for (std::size_t p = 0; p < users.size(); ++p)
        if (owners.owns(users[p])) {
            mine.push_back(users[p]);
            pos.push_back(p);
        }
    struct Entry {
        std::uint64_t position;
        std::uint32_t item;
        T score;
    };
    std::vector<Entry> local;
    std::size_t next = 0;
    model.recommend_batch(
        input_shard, mine, k,
        [&](index_type, const std::vector<Recommendation<T>>& recs) {
            for (const auto& r : recs) local.push_back({pos[next], r.item, r.score});
            if (recs.empty()) local.push_back({pos[next], ~std::uint32_t(0), T(0)});  // keeps the user's slot
            ++next;
        },
        exclude_seen);
    const auto all = comm.allgatherv(local);
    std::vector<std::vector<Recommendation<T>>> out(users.size());
    for (const auto& e : all)
        if (e.item != ~std::uint32_t(0)) out[e.position].push_back({e.item, e.score});
    return out;
}

// --- every rank holding all the data: the users split, the results bit-identical to one process --

/// The users [begin, end) a rank scores in the *_users functions below: the ranks' blocks of
/// `n` positions, cut at multiples of `unit` (as recommend_batch's threads are), so a model's
/// scoring blocks hold the same users as in one process. Ranks past the last block get none.
inline cfnet::detail::ThreadRange rank_block(std::size_t n, std::size_t unit, const Communicator& comm) {
    const auto r = cfnet::detail::thread_ranges(n, unit, static_cast<std::size_t>(comm.size()));
    const auto me = static_cast<std::size_t>(comm.rank());
    return me < r.size() ? r[me] : cfnet::detail::ThreadRange{n, n};
}

/// cfnet::evaluate_ranking with every rank holding the whole train and test matrices (e.g. every
/// rank read the same file): rank r ranks its block of users (rank_block, 128-user units; on
/// options.threads threads: score_fn must then be cfnet::per_thread(factory)), the per-user metrics
/// are gathered (one allgatherv, 72 bytes per user and k) and every rank sums them in
/// user order: the reports are bit-identical to one process's, for any number of ranks and threads.
/// @throws as cfnet::evaluate_ranking (on every rank: each validates the same arguments; a NaN
///         score is raised on the rank that met it only).
template <class T, class ScoreFn>
std::vector<RankingReport> evaluate_ranking_users(const RatingMatrix<T>& train, const RatingMatrix<T>& test,
                                                  const std::vector<std::size_t>& ks, ScoreFn&& score_fn,
                                                  const RankingOptions& options, Communicator& comm) {
    const cfnet::detail::RankingRun<T> run(train, test, ks, options);
    const std::size_t n_threads = cfnet::detail::checked_threads<ScoreFn>("evaluate_ranking", options.threads);
    const std::size_t n_users = train.n_users(), n_ks = ks.size();
    const auto b = rank_block(n_users, cfnet::detail::evaluation_unit, comm);
    struct Slot {
        RankingMetrics m;
        std::uint64_t user;
        std::uint64_t done;
    };
    std::vector<RankingMetrics> metrics((b.end - b.begin) * n_ks);
    std::vector<unsigned char> done(b.end - b.begin, 0);
    run.rank_users(score_fn, b.begin, b.end, n_threads, metrics.data(), done.data());
    std::vector<Slot> mine;
    for (std::size_t j = 0; j < done.size(); ++j)
        for (std::size_t r = 0; r < n_ks; ++r) mine.push_back({metrics[j * n_ks + r], b.begin + j, done[j]});
    const auto all = comm.allgatherv(mine);  // in rank order = user order
    check_arg(all.size() == n_users * n_ks, "distributed::evaluate_ranking_users: gathered ", all.size(),
              " slots for ", n_users, " users x ", n_ks, " k (the ranks hold different matrices?)");
    cfnet::detail::RankingSums sums(n_ks);
    std::vector<RankingMetrics> m(n_ks);
    for (std::size_t u = 0; u < n_users; ++u) {
        if (!all[u * n_ks].done) {
            ++sums.skipped;
            continue;
        }
        for (std::size_t r = 0; r < n_ks; ++r) m[r] = all[u * n_ks + r].m;
        sums.add(m.data());
    }
    return sums.reports(run);
}

/// model.recommend_batch(input, users, k, ...) with every rank holding the whole `input`: rank r
/// computes the lists of its block of positions of `users` (rank_block, recommend_batch_unit
/// units, on `threads` threads) and they are gathered (16 bytes per recommendation): every rank
/// gets one list per entry of `users`, in that order, bit-identical to one process's.
/// @throws InvalidArgument for a user out of range or a bad thread count, and as the model's
///         recommend_batch (on the rank that met it).
template <class Model, class T>
std::vector<std::vector<Recommendation<T>>> recommend_batch_users(const Model& model, const RatingMatrix<T>& input,
                                                                  const std::vector<index_type>& users, std::size_t k,
                                                                  Communicator& comm, bool exclude_seen = true,
                                                                  int threads = 1) {
    cfnet::detail::resolve_threads("distributed::recommend_batch_users", threads);
    for (const auto u : users)
        check_arg(u < input.n_users(), "distributed::recommend_batch_users: user index ", u, " out of range (",
                  input.n_users(), " users)");
    const auto b = rank_block(users.size(), recommend_batch_unit, comm);
    const std::vector<index_type> mine(users.begin() + static_cast<std::ptrdiff_t>(b.begin),
                                       users.begin() + static_cast<std::ptrdiff_t>(b.end));
    struct Entry {
        std::uint64_t position;
        std::uint32_t item;
        T score;
    };
    std::vector<Entry> local;
    std::size_t next = b.begin;
    cfnet::recommend_batch(
        model, input, mine, k,
        [&](index_type, const std::vector<Recommendation<T>>& recs) {
            for (const auto& r : recs) local.push_back({next, r.item, r.score});
            if (recs.empty()) local.push_back({next, ~std::uint32_t(0), T(0)});  // keeps the user's slot
            ++next;
        },
        exclude_seen, threads);
    const auto all = comm.allgatherv(local);
    std::vector<std::vector<Recommendation<T>>> out(users.size());
    for (const auto& e : all)
        if (e.item != ~std::uint32_t(0)) out[e.position].push_back({e.item, e.score});
    return out;
}

}  // namespace cfnet::distributed
