#pragma once
/// @file distributed/neural_cf.hpp
/// Data-parallel training of NeuralCF (explicit ratings) over user shards, through the one fit
/// loop (docs/distributed.md): the global pair order is the single-process one (the training
/// pairs in CSR order, shuffled with the same seeded stream on every rank), each rank computes the
/// loss and gradients of the batch pairs whose user it holds (compute_gradients), scaled by its
/// share of the batch; one allreduce of every gradient and one of the loss precede the same Adam
/// step on every rank. 1, 2 or N ranks give the same model up to the summation order.
///
/// The gradients are summed in double (8 P + 8 bytes per step): summed in float, the rounding of
/// the summation order is amplified by Adam on the many small embedding gradients (on ML-100K,
/// predictions 7e-3 apart after 2 epochs at 2 ranks vs 1 rank; in double 1e-6).
///
/// This is plain data parallelism: the payload per step is every parameter, embedding tables
/// included. It is right for small tables; at ML-25M scale the user embeddings should
/// stay on their user's rank and only the batch's item rows be reduced (docs/distributed.md).
///
/// Supported: feedback ratings, no dropout, validation on validation shards (validation_fraction
/// 0, or a validation matrix), no refit, no unseen_fallback, no lazy embedding updates; mean_init
/// uses the mean of all shards. Afterwards every rank's model holds the whole training data's
/// seen items (gathered once: 12 bytes per rating), so rank 0's file is the single-process one.

#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/shard.hpp>
#include <cfnet/error.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet::distributed {

namespace detail {

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
/// epoch then records "val_loss" (MSE) and "val_rmse" over all ranks' validation pairs.
/// `callbacks` run on every rank with the global losses. `compute_seconds` / `comm_seconds`, when
/// given, receive the time spent computing and in the per-step collectives.
/// @throws InvalidArgument for an unsupported option, a row split across ranks, or a validation
///         row whose training row is on another rank; NumericalError for a NaN / infinite loss.
template <class T>
History fit_data_parallel(NeuralCF<T>& model, const RatingMatrix<T>& shard, Communicator& comm,
                          const std::vector<Callback*>& callbacks = {},
                          const std::common_type_t<RatingMatrix<T>>* validation = nullptr,
                          double* compute_seconds = nullptr, double* comm_seconds = nullptr) {
    using clock = std::chrono::steady_clock;
    const NeuralCFOptions& opt = model.options();
    const char* fn = "distributed::fit_data_parallel(NeuralCF)";
    check_arg(opt.feedback == Feedback::ratings, fn, ": implicit feedback is not supported (its negatives are drawn ",
              "from one stream over all users)");
    check_arg(opt.dropout == 0, fn, ": dropout ", opt.dropout, " is not supported");
    check_arg(!opt.refit && !opt.unseen_fallback && !opt.lazy_embedding_updates, fn,
              ": refit, unseen_fallback and lazy_embedding_updates are not supported");
    check_arg(validation != nullptr || opt.validation_fraction == 0, fn, ": validation_fraction ",
              opt.validation_fraction, " needs a split of every rank's pairs: set it to 0 or pass validation shards");
    check_arg(!opt.early_stopping || validation != nullptr, fn, ": early stopping needs validation data");
    if (validation) check_arg(shard.same_space(*validation), fn, ": the validation shard is not in the training shard's index space");

    const std::size_t n_users = shard.n_users();
    model.initialize(n_users, shard.n_items());
    const RowOwners owners(shard, comm);
    // the global CSR offsets of the training pairs (every rank: the same order of all pairs)
    std::vector<std::int64_t> counts(n_users);
    for (std::size_t u = 0; u < n_users; ++u) counts[u] = static_cast<std::int64_t>(shard.user_count(static_cast<index_type>(u)));
    comm.allreduce_sum(counts);
    std::vector<std::size_t> grp(n_users + 1, 0);
    for (std::size_t u = 0; u < n_users; ++u) grp[u + 1] = grp[u] + static_cast<std::size_t>(counts[u]);
    const std::size_t n_pairs = grp.back();
    check_arg(n_pairs > 0, fn, ": no rank has training ratings");

    auto params = model.parameters();
    if (opt.mean_init) {
        double s[2] = {0.0, static_cast<double>(shard.nnz())};
        for (const auto v : shard.values()) s[0] += static_cast<double>(v);
        comm.allreduce_sum(s, 2);
        params.back()->value(0, 0) = static_cast<T>(s[0] / s[1]);  // the output layer's bias
    }
    std::size_t n_params = 0;
    for (auto* p : params) n_params += p->size();
    std::vector<double> flat(n_params);
    optim::Adam<T> adam(params, optim::AdamOptions().lr(opt.learning_rate));

    std::vector<index_type> vu, vi;
    std::vector<T> vt;
    if (validation) {
        std::int64_t misplaced = 0;  // raised on every rank: none is left waiting in a collective
        for (std::size_t u = 0; u < n_users; ++u)
            misplaced += validation->user_count(static_cast<index_type>(u)) > 0 && !owners.owns(u);
        check_arg(comm.allreduce_sum(misplaced) == 0, fn, ": ", misplaced, " validation rows of this rank (",
                  "and others' in all) have their training rows on another rank (shard both the same way)");
    }
    if (validation)
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
    if (validation)
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
    hooks.snapshot = [&] { nn::save_values(params, best); };
    hooks.restore = [&] { nn::load_values(best, params); };
    FitLoop loop("NeuralCF", callbacks, opt.early_stopping, std::move(hooks));

    Rng shuffle_rng(opt.seed ^ 0x9e3779b97f4a7c15ull);  // NeuralCF::fit's shuffle stream
    const std::size_t bs = opt.batch_size, steps = (n_pairs + bs - 1) / bs;
    const auto& rp = shard.row_ptr();
    const auto& idx = shard.item_indices();
    const auto& val = shard.values();
    std::vector<std::size_t> order(n_pairs);
    std::vector<index_type> bu, bi;
    std::vector<T> bt;
    double t_compute = 0, t_comm = 0;
    auto history = loop.run(opt.epochs, steps, [&](int /*epoch*/) {
        for (std::size_t k = 0; k < n_pairs; ++k) order[k] = k;
        shuffle_rng.shuffle(order.begin(), order.end());
        std::size_t step = 0;
        for (std::size_t start = 0; start < n_pairs; start += bs) {
            const auto t0 = clock::now();
            const std::size_t m = std::min(bs, n_pairs - start);
            bu.clear(), bi.clear(), bt.clear();
            for (std::size_t b = 0; b < m; ++b) {
                const std::size_t k = order[start + b];
                const auto u = static_cast<std::size_t>(std::upper_bound(grp.begin(), grp.end(), k) - grp.begin() - 1);
                if (!owners.owns(u)) continue;
                const std::size_t e = rp[u] + (k - grp[u]);
                bu.push_back(static_cast<index_type>(u));
                bi.push_back(idx[e]);
                bt.push_back(val[e]);
            }
            const double share = static_cast<double>(bu.size()) / static_cast<double>(m);
            double loss = 0.0;
            if (bu.empty()) {
                for (auto* p : params) p->zero_grad();
            } else {
                loss = share * model.compute_gradients(bu.data(), bi.data(), bt.data(), bu.size());
            }
            std::size_t off = 0;
            for (auto* p : params) {
                const T* g = p->grad.data();
                for (std::size_t q = 0, n = p->size(); q < n; ++q) flat[off + q] = share * static_cast<double>(g[q]);
                off += p->size();
            }
            const auto t1 = clock::now();
            comm.allreduce_sum(flat);
            loss = comm.allreduce_sum(loss);
            const auto t2 = clock::now();
            ++step;
            loop.check_loss(step, loss);
            off = 0;
            for (auto* p : params) {
                T* g = p->grad.data();
                for (std::size_t q = 0, n = p->size(); q < n; ++q) g[q] = static_cast<T>(flat[off + q]);
                off += p->size();
            }
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
