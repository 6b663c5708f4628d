#pragma once
/// @file distributed/neural_cf.hpp
/// Data-parallel training of NeuralCF over user shards, through the one fit loop
/// (docs/distributed.md). Every rank knows every user's positive count (one allreduce of U int64
/// at the start), hence the global sample layout: user by user, in index order, the user's pairs
/// in CSR order (explicit ratings), or its positives followed by `negatives` x as many sampled
/// negatives (implicit feedback). The same seeded shuffle of all sample indices runs on every rank;
/// each rank computes the loss and gradients of the batch samples whose user it holds
/// (compute_gradients), scaled by its share of the batch; one allreduce of every gradient and one
/// of the loss precede the same Adam step on every rank. 1, 2 or N ranks give the same model up to
/// the summation order.
///
/// Explicit ratings: the pair order and the shuffle stream are NeuralCF::fit's, so one rank gives
/// NeuralCF::fit's model (up to the batch share's rounding).
/// Implicit feedback: user u's negatives of epoch e are drawn by the rank that owns u from
/// Rng(derive_seed(seed, negatives stream, e, u)), rejecting the items u rated (the rule of
/// data/sampling.hpp's sample_negatives), and the shuffle of epoch e from Rng(derive_seed(seed,
/// shuffle stream, e, 0)): nothing depends on the number of ranks. NeuralCF::fit draws every user's
/// negatives from one stream in another layout, so a one-rank run here differs from it in the
/// draws (the same distribution of negatives, other samples), not in what it optimises (BCE on the
/// logits, as NeuralCF::fit). Validation ("val_hr@k", "val_ndcg@k", "val_precision@k", every
/// validation item relevant, the user's training items excluded, as NeuralCF::fit): each rank
/// ranks its users' items, the per-user sums and the count are allreduced (4 doubles).
///
/// The gradients are summed in double (8 P + 8 bytes per step): the rounding of the summation
/// order is amplified by training. Measured on ML-100K, 2 epochs, N ranks vs 1 (this machine): the
/// weights of an implicit run (B = 2,048, biases, L2 1e-3) 1.8e-7 apart at 2 ranks in double,
/// 2.4e-3 in float; but the explicit test's predictions 6.9e-3 apart in double as in float, 2 and 3
/// ranks alike (the one-rank run's own float sums over the whole batch differ, and an event in
/// epoch 2, in the MLP tower, amplifies that), and the implicit test's logits 0.053 apart at 3
/// ranks (0.0024 on average). Losses and validation metrics agree to 1e-5 or better
/// (tests/distributed/mpi/test_neural_cf.cpp).
///
/// This is plain data parallelism: the payload per step is every parameter, embedding tables
/// included. It is right for small tables; at ML-25M scale the user embeddings should
/// stay on their user's rank and only the batch's item rows be reduced (docs/distributed.md).
///
/// Supported: feedback ratings or implicit, no dropout, validation on validation shards
/// (validation_fraction 0, or a validation matrix), no refit, no unseen_fallback, no lazy
/// embedding updates; mean_init (explicit) uses the mean of all shards. Afterwards every rank's
/// model holds the whole training data's seen items (gathered once: 12 bytes per rating), so rank
/// 0's file is the single-process one.

#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/shard.hpp>
#include <cfnet/error.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet::distributed {

namespace detail {

/// Stream numbers of the implicit-feedback draws, cfnet::derive_seed(seed, stream, epoch, user):
/// the negatives of (epoch, user), the shuffle of an epoch (user 0).
inline constexpr std::uint64_t ncf_stream_negatives = 1, ncf_stream_shuffle = 2;

/// The whole training matrix from every rank's shard (one allgatherv of (user, item, value)).
template <class T>
RatingMatrix<T> gather_rows(const RatingMatrix<T>& shard, Communicator& comm) {
    struct Entry {
        std::uint32_t user, item;
        T value;
    };
    std::vector<Entry> mine;
    mine.reserve(shard.nnz());
    for (std::size_t u = 0; u < shard.n_users(); ++u) {
        const auto items = shard.user_items(static_cast<index_type>(u));
        const auto vals = shard.user_ratings(static_cast<index_type>(u));
        for (std::size_t k = 0; k < items.size(); ++k)
            mine.push_back({static_cast<std::uint32_t>(u), static_cast<std::uint32_t>(items[k]), vals[k]});
    }
    auto all = comm.allgatherv(mine);
    std::stable_sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
        return a.user != b.user ? a.user < b.user : a.item < b.item;
    });
    std::vector<std::size_t> row_ptr(shard.n_users() + 1, 0);
    std::vector<index_type> idx(all.size());
    std::vector<T> vals(all.size());
    for (std::size_t k = 0; k < all.size(); ++k) {
        ++row_ptr[all[k].user + 1];
        idx[k] = all[k].item;
        vals[k] = all[k].value;
    }
    for (std::size_t u = 0; u < shard.n_users(); ++u) row_ptr[u + 1] += row_ptr[u];
    return RatingMatrix<T>(shard.user_map(), shard.item_map(), std::move(row_ptr), std::move(idx), std::move(vals));
}

}  // namespace detail

/// Trains `model` from scratch on the user shards of all ranks (collective; see the file comment).
/// `validation`: this rank's rows of a validation matrix in the same index space (or null); each
/// epoch then records, over all ranks' validation rows, "val_loss" (MSE) and "val_rmse" (explicit)
/// or "val_hr@k", "val_ndcg@k" and "val_precision@k" (implicit, k = options().eval_k).
/// `callbacks` run on every rank with the global losses. `compute_seconds` / `comm_seconds`, when
/// given, receive the time spent computing and in the per-step collectives.
/// @throws InvalidArgument for an unsupported option, a row split across ranks, a validation row
///         whose training row is on another rank, or (implicit) a user who rated every item (on
///         every rank); NumericalError for a NaN / infinite loss.
template <class T>
History fit_data_parallel(NeuralCF<T>& model, const RatingMatrix<T>& shard, Communicator& comm,
                          const std::vector<Callback*>& callbacks = {},
                          const std::common_type_t<RatingMatrix<T>>* validation = nullptr,
                          double* compute_seconds = nullptr, double* comm_seconds = nullptr) {
    using clock = std::chrono::steady_clock;
    const NeuralCFOptions& opt = model.options();
    const char* fn = "distributed::fit_data_parallel(NeuralCF)";
    const bool implicit = opt.feedback == Feedback::implicit;
    check_arg(opt.dropout == 0, fn, ": dropout ", opt.dropout, " is not supported (the network draws its masks per ",
              "batch from its own streams, which depends on how the batch is split across ranks)");
    check_arg(!opt.refit && !opt.unseen_fallback && !opt.lazy_embedding_updates, fn,
              ": refit, unseen_fallback and lazy_embedding_updates are not supported");
    check_arg(validation != nullptr || opt.validation_fraction == 0, fn, ": validation_fraction ",
              opt.validation_fraction, " needs a split of every rank's pairs: set it to 0 or pass validation shards");
    check_arg(!opt.early_stopping || validation != nullptr, fn, ": early stopping needs validation data");
    if (validation) check_arg(shard.same_space(*validation), fn, ": the validation shard is not in the training shard's index space");

    const std::size_t n_users = shard.n_users(), n_items = shard.n_items();
    model.initialize(n_users, n_items);
    const RowOwners owners(shard, comm);
    // every user's pair count on every rank, hence the global sample layout: user u's samples are
    // grp[u] .. grp[u + 1], its pairs (explicit) or positives then negatives (implicit)
    std::vector<std::int64_t> counts(n_users);
    for (std::size_t u = 0; u < n_users; ++u) counts[u] = static_cast<std::int64_t>(shard.user_count(static_cast<index_type>(u)));
    comm.allreduce_sum(counts);
    const std::size_t per_pair = implicit ? 1 + opt.negatives : 1;
    std::vector<std::size_t> grp(n_users + 1, 0);
    for (std::size_t u = 0; u < n_users; ++u) grp[u + 1] = grp[u] + per_pair * static_cast<std::size_t>(counts[u]);
    const std::size_t n_samples = grp.back();
    check_arg(n_samples > 0, fn, ": no rank has training ratings");
    if (implicit)  // the global counts are on every rank: the same error everywhere, no rank left waiting
        for (std::size_t u = 0; u < n_users; ++u)
            check_arg(counts[u] == 0 || static_cast<std::size_t>(counts[u]) < n_items, fn, ": user index ", u, " (",
                      shard.users().label(static_cast<index_type>(u)), ") has interacted with all ", n_items,
                      " items, so no negative item can be sampled for it (implicit feedback)");

    auto params = model.parameters();
    if (opt.mean_init && !implicit) {  // as NeuralCF::fit: the mean rating, explicit feedback only
        double s[2] = {0.0, static_cast<double>(shard.nnz())};
        for (const auto v : shard.values()) s[0] += static_cast<double>(v);
        comm.allreduce_sum(s, 2);
        params.back()->value(0, 0) = static_cast<T>(s[0] / s[1]);  // the output layer's bias
    }
    std::vector<double> flat(nn::parameter_count(params));
    optim::Adam<T> adam(params, optim::AdamOptions().lr(opt.learning_rate));

    if (validation) {
        std::int64_t misplaced = 0;  // raised on every rank: none is left waiting in a collective
        for (std::size_t u = 0; u < n_users; ++u)
            misplaced += validation->user_count(static_cast<index_type>(u)) > 0 && !owners.owns(u);
        check_arg(comm.allreduce_sum(misplaced) == 0, fn, ": ", misplaced, " validation rows of this rank (",
                  "and others' in all) have their training rows on another rank (shard both the same way)");
    }
    std::vector<index_type> vu, vi;
    std::vector<T> vt;
    if (validation && !implicit)
        for (std::size_t u = 0; u < n_users; ++u) {
            const auto items = validation->user_items(static_cast<index_type>(u));
            const auto vals = validation->user_ratings(static_cast<index_type>(u));
            for (std::size_t k = 0; k < items.size(); ++k) {
                vu.push_back(static_cast<index_type>(u));
                vi.push_back(items[k]);
                vt.push_back(vals[k]);
            }
        }
    std::vector<Matrix<T>> best;
    FitHooks hooks;
    if (validation && !implicit)
        hooks.validate = [&](EpochRecord& rec) {
            model.adopt_training_data(shard);  // refreshes the scoring caches
            std::vector<T> pred(vu.size());
            if (!vu.empty()) model.predict(vu.data(), vi.data(), vu.size(), pred.data());
            double s[2] = {0.0, static_cast<double>(vu.size())};
            for (std::size_t k = 0; k < pred.size(); ++k) {
                const double e = static_cast<double>(pred[k]) - static_cast<double>(vt[k]);
                s[0] += e * e;
            }
            comm.allreduce_sum(s, 2);
            if (s[1] > 0) {
                rec.metrics["val_loss"] = s[0] / s[1];
                rec.metrics["val_rmse"] = std::sqrt(s[0] / s[1]);
            }
        };
    if (validation && implicit)
        hooks.validate = [&](EpochRecord& rec) {
            model.adopt_training_data(shard);  // refreshes the scoring caches; this rank's rows are its users' seen items
            double s[4] = {0.0, 0.0, 0.0, 0.0};
            if (!validation->empty()) {
                const auto r = cfnet::evaluate_ranking(
                    shard, *validation, opt.eval_k, [&](index_type u, T* out) { model.score_items(u, out); },
                    RankingOptions().all_test_items_relevant());
                const double n = static_cast<double>(r.users_evaluated);
                s[0] = r.hit_rate * n, s[1] = r.ndcg * n, s[2] = r.precision * n, s[3] = n;
            }
            comm.allreduce_sum(s, 4);
            if (s[3] > 0) {
                const std::string k = std::to_string(opt.eval_k);
                rec.metrics["val_hr@" + k] = s[0] / s[3];
                rec.metrics["val_ndcg@" + k] = s[1] / s[3];
                rec.metrics["val_precision@" + k] = s[2] / s[3];
            }
        };
    hooks.snapshot = [&] { nn::save_values(params, best); };
    hooks.restore = [&] { nn::load_values(best, params); };
    FitLoop loop("NeuralCF", callbacks, opt.early_stopping, std::move(hooks));

    // implicit: this rank's users' negatives of the epoch, user u's at neg[neg_ptr[u] ..]
    std::vector<std::size_t> neg_ptr(n_users + 1, 0);
    for (std::size_t u = 0; u < n_users; ++u)
        neg_ptr[u + 1] = neg_ptr[u] + (implicit && owners.owns(u) ? opt.negatives * static_cast<std::size_t>(counts[u]) : 0);
    std::vector<index_type> neg(neg_ptr.back());

    Rng shuffle_rng(opt.seed ^ 0x9e3779b97f4a7c15ull);  // NeuralCF::fit's shuffle stream (explicit)
    const std::size_t bs = opt.batch_size, steps = (n_samples + bs - 1) / bs;
    const auto& rp = shard.row_ptr();
    const auto& idx = shard.item_indices();
    const auto& val = shard.values();
    std::vector<std::size_t> order(n_samples);
    std::vector<index_type> bu, bi;
    std::vector<T> bt;
    double t_compute = 0, t_comm = 0;
    auto history = loop.run(opt.epochs, steps, [&](int epoch) {
        const auto t_epoch = clock::now();
        if (implicit) {
            for (std::size_t u = 0; u < n_users; ++u) {
                if (neg_ptr[u] == neg_ptr[u + 1]) continue;
                const auto seen = shard.user_items(static_cast<index_type>(u));
                Rng rng(derive_seed(opt.seed, detail::ncf_stream_negatives, static_cast<std::uint64_t>(epoch), u));
                for (std::size_t q = neg_ptr[u]; q < neg_ptr[u + 1]; ++q) {
                    index_type cand;
                    do {
                        cand = static_cast<index_type>(rng.below(n_items));
                    } while (std::binary_search(seen.begin(), seen.end(), cand));
                    neg[q] = cand;
                }
            }
            shuffle_rng = Rng(derive_seed(opt.seed, detail::ncf_stream_shuffle, static_cast<std::uint64_t>(epoch), 0));
        }
        for (std::size_t k = 0; k < n_samples; ++k) order[k] = k;
        shuffle_rng.shuffle(order.begin(), order.end());
        t_compute += std::chrono::duration<double>(clock::now() - t_epoch).count();
        std::size_t step = 0;
        for (std::size_t start = 0; start < n_samples; start += bs) {
            const auto t0 = clock::now();
            const std::size_t m = std::min(bs, n_samples - start);
            bu.clear(), bi.clear(), bt.clear();
            for (std::size_t b = 0; b < m; ++b) {
                const std::size_t k = order[start + b];
                const auto u = static_cast<std::size_t>(std::upper_bound(grp.begin(), grp.end(), k) - grp.begin() - 1);
                if (!owners.owns(u)) continue;
                const std::size_t j = k - grp[u], c = static_cast<std::size_t>(counts[u]);
                bu.push_back(static_cast<index_type>(u));
                if (j < c) {  // a pair (explicit) or a positive (implicit)
                    bi.push_back(idx[rp[u] + j]);
                    bt.push_back(implicit ? T(1) : val[rp[u] + j]);
                } else {  // a negative
                    bi.push_back(neg[neg_ptr[u] + (j - c)]);
                    bt.push_back(T(0));
                }
            }
            const double share = static_cast<double>(bu.size()) / static_cast<double>(m);
            double loss = 0.0;
            if (bu.empty()) {
                for (auto* p : params) p->zero_grad();
            } else {
                loss = share * model.compute_gradients(bu.data(), bi.data(), bt.data(), bu.size());
            }
            nn::copy_grads_to(params, flat.data(), share);
            const auto t1 = clock::now();
            comm.allreduce_sum(flat);
            loss = comm.allreduce_sum(loss);
            const auto t2 = clock::now();
            ++step;
            loop.check_loss(step, loss);
            nn::copy_grads_from(flat.data(), 1.0, params);
            adam.step();
            const auto t3 = clock::now();
            t_compute += std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count();
            t_comm += std::chrono::duration<double>(t2 - t1).count();
            loop.batch_end(step, loss, static_cast<double>(m));
        }
    });
    model.adopt_training_data(detail::gather_rows(shard, comm));
    if (compute_seconds) *compute_seconds = t_compute;
    if (comm_seconds) *comm_seconds = t_comm;
    return history;
}

}  // namespace cfnet::distributed
