#pragma once
/// @file distributed/autoencoder.hpp
/// Data-parallel training of AutoencoderCF over row shards (docs/distributed.md), through the one
/// fit loop (train.hpp): every rank holds its shard of the users (distributed/shard.hpp), the
/// global batch order is the single-process one (the same seeded permutation of all rows on every
/// rank), each rank computes the loss and gradients of the batch rows it owns, and one allreduce
/// of the gradients (plus one of the loss and its normaliser: the batch's row count for the
/// per-sample loss, its rating count for the global one) precedes an identical Adam step on every
/// rank. 1, 2 or N ranks give the same model up to the floating-point summation order.
///
/// @code
///   cfnet::distributed::MpiCommunicator comm;
///   auto shard = cfnet::distributed::shard_rows(train, comm);      // or shard_from_ratings
///   cfnet::AutoencoderCF<> model(options);
///   cfnet::distributed::DataParallelReport rep;
///   auto history = cfnet::distributed::fit_data_parallel(model, shard, comm, {}, nullptr, &rep);
///   if (comm.rank() == 0) model.save("ae.cfnet");                 // the single-process file format
/// @endcode
///
/// Supported: user_based, solver adam, no dropout, unseen_fallback off (its bias baseline would be
/// fitted on one shard), early stopping on the validation shards. Adam is the dense (non-lazy)
/// update; lazy_adam is refused (a row untouched on one rank may be touched on another), and so are
/// residual, clamp_to_training and selection (each would see one shard only).

#include <cfnet/autoencoder.hpp>
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/shard.hpp>
#include <cfnet/error.hpp>
#include <cfnet/train.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet::distributed {

/// What a data-parallel fit did on this rank: steps, the seconds spent computing (forward,
/// backward, optimizer) and in the collectives (waiting for the slowest rank included), and the
/// communicator's counts for the fit.
struct DataParallelReport {
    std::size_t steps = 0;
    std::size_t owned_rows = 0;
    double compute_seconds = 0.0;
    double comm_seconds = 0.0;
    std::size_t parameters = 0;  ///< elements allreduced per step (+ 2 doubles: loss, normaliser)
    CommStats comm;              ///< counted during the fit only
    std::vector<double> step_compute_seconds, step_comm_seconds;  ///< per step (medians for measurements)
};

/// Trains `model` from scratch (fresh weights from its seed) on the row shards of all ranks;
/// collective: every rank calls it with its own shard (and validation shard) of the same global
/// index space. After it, every rank holds the same weights. `validation` (this rank's rows of a
/// validation matrix in the same index space, or null) gives "val_rmse" / "val_mae" over all
/// ranks' validation pairs each epoch, and early stopping when configured. `callbacks` run on
/// every rank with the global losses (give a ProgressBar on rank 0 only).
/// @throws InvalidArgument for an unsupported option (see the file comment), a row split across
///         ranks, or a validation row whose training row is on another rank;
///         NumericalError when the (global) loss becomes NaN or infinite.
template <class T>
History fit_data_parallel(AutoencoderCF<T>& model, const RatingMatrix<T>& shard, Communicator& comm,
                          const std::vector<Callback*>& callbacks = {},
                          const std::common_type_t<RatingMatrix<T>>* validation = nullptr,
                          DataParallelReport* report = nullptr) {
    using clock = std::chrono::steady_clock;
    const AutoencoderOptions& opt = model.options();
    const char* fn = "distributed::fit_data_parallel(AutoencoderCF)";
    check_arg(opt.orientation == Orientation::user_based, fn, ": item_based is not supported (a user shard holds whole rows of users, not of items)");
    check_arg(opt.solver == Solver::adam, fn, ": only solver adam is supported");
    check_arg(opt.input_dropout == 0 && opt.hidden_dropout == 0, fn, ": dropout is not supported (input ", opt.input_dropout,
              ", hidden ", opt.hidden_dropout, ")");
    check_arg(!opt.lazy_adam, fn, ": lazy_adam is not supported (dense Adam on every rank keeps the weights identical)");
    check_arg(!opt.unseen_fallback, fn, ": unseen_fallback is not supported (its baseline would be fitted on one shard)");
    check_arg(!opt.residual, fn, ": residual is not supported (its baseline would be fitted on one shard)");
    check_arg(!opt.clamp_to_training, fn, ": clamp_to_training is not supported (one shard's range); set clamp_min/max");
    check_arg(!opt.selection, fn, ": selection is not supported (choose the options in one process, then train)");
    check_arg(!opt.early_stopping || validation != nullptr, fn, ": early stopping needs validation data");
    if (validation)
        check_arg(shard.same_space(*validation), fn, ": the validation shard is not in the training shard's index space");
    const CommStats before = comm.stats();

    // Errors found on one rank are raised on every rank (none is left waiting in a collective).
    require_data_on_every_rank(comm, shard.nnz(), fn, "ratings");

    // Weights from the seed (the same on every rank), then the statistics of all shards together.
    model.initialize(shard);
    const std::size_t n_rows = shard.n_users(), n_items = shard.n_items();
    {
        std::vector<std::int64_t> counts(n_items);
        for (std::size_t i = 0; i < n_items; ++i) counts[i] = static_cast<std::int64_t>(shard.item_count(static_cast<index_type>(i)));
        comm.allreduce_sum(counts);
        std::vector<std::uint8_t> seen(n_items);
        for (std::size_t i = 0; i < n_items; ++i) seen[i] = counts[i] > 0;
        double sum[2] = {0.0, static_cast<double>(shard.nnz())};
        for (const auto v : shard.values()) sum[0] += static_cast<double>(v);
        comm.allreduce_sum(sum, 2);
        model.set_training_statistics(std::move(seen), sum[1] > 0 ? sum[0] / sum[1] : 0.0);
    }
    const RowOwners owners(shard, comm);

    auto params = model.parameters();
    const std::size_t n_params = nn::parameter_count(params);
    std::vector<T> flat(n_params);
    DataParallelReport rep;
    rep.owned_rows = owners.count();
    rep.parameters = n_params;

    // Validation over all ranks: each predicts its own validation pairs with its shard as input.
    std::vector<std::pair<index_type, index_type>> val_pairs;
    std::vector<T> val_truth;
    if (validation) {
        std::int64_t misplaced = 0;
        for (std::size_t u = 0; u < validation->n_users(); ++u)
            misplaced += validation->user_count(static_cast<index_type>(u)) > 0 && !owners.owns(u);
        check_arg(comm.allreduce_sum(misplaced) == 0, fn, ": ", misplaced, " validation rows of this rank (",
                  "and others' in all) have their training rows on another rank (shard both the same way)");
        for (std::size_t u = 0; u < validation->n_users(); ++u) {
            const auto items = validation->user_items(static_cast<index_type>(u));
            const auto vals = validation->user_ratings(static_cast<index_type>(u));
            for (std::size_t k = 0; k < items.size(); ++k) {
                val_pairs.emplace_back(static_cast<index_type>(u), items[k]);
                val_truth.push_back(vals[k]);
            }
        }
    }
    std::vector<Matrix<T>> best;
    FitHooks hooks;
    if (validation)
        hooks.validate = [&](EpochRecord& rec) {
            const auto pred = model.predict(shard, val_pairs);
            double s[3] = {0.0, 0.0, static_cast<double>(pred.size())};
            for (std::size_t k = 0; k < pred.size(); ++k) {
                const double e = static_cast<double>(pred[k]) - static_cast<double>(val_truth[k]);
                s[0] += e * e;
                s[1] += std::abs(e);
            }
            comm.allreduce_sum(s, 3);
            if (s[2] > 0) {
                rec.metrics["val_rmse"] = std::sqrt(s[0] / s[2]);
                rec.metrics["val_mae"] = s[1] / s[2];
            }
        };
    hooks.snapshot = [&] { nn::save_values(params, best); };
    hooks.restore = [&] { nn::load_values(best, params); };
    FitLoop loop("AutoencoderCF", callbacks, opt.early_stopping, std::move(hooks));

    const std::size_t bs = opt.batch_size, steps = (n_rows + bs - 1) / bs;
    const bool per_sample = opt.loss_normalization == nn::MaskNormalization::per_sample;
    Rng shuffle_rng(cfnet::detail::ae_seed(opt.seed, cfnet::detail::ae_stream_shuffle));
    optim::Adam<T>& adam = model.optimizer();
    std::vector<index_type> mine;
    auto history = loop.run(opt.epochs, steps, [&](int /*epoch*/) {
        const auto order = shuffle_rng.permutation<index_type>(n_rows);
        for (std::size_t s = 0; s < steps; ++s) {
            const auto t0 = clock::now();
            const std::size_t b0 = s * bs, b1 = std::min(n_rows, b0 + bs);
            mine.clear();
            std::size_t nnz = 0;
            for (std::size_t r = b0; r < b1; ++r)
                if (owners.owns(order[r])) {
                    mine.push_back(order[r]);
                    nnz += shard.user_count(order[r]);
                }
            // This rank's part of the batch loss and gradients, un-normalised: the local loss (and
            // its gradients) times the local normaliser w (rows, or ratings); the global loss is
            // sum(w L) / sum(w) over the ranks.
            for (auto* p : params) p->zero_grad();
            const double w = per_sample ? static_cast<double>(mine.size()) : static_cast<double>(nnz);
            double lw[2] = {0.0, w};
            if (!mine.empty()) lw[0] = w * model.loss_and_gradient(shard, mine);
            nn::copy_grads_to(params, flat.data(), static_cast<double>(static_cast<T>(w)));
            const auto t1 = clock::now();
            comm.allreduce_sum(flat);
            comm.allreduce_sum(lw, 2);
            const auto t2 = clock::now();
            loop.check_loss(s + 1, lw[1] > 0 ? lw[0] / lw[1] : 0.0);
            const T inv = lw[1] > 0 ? static_cast<T>(1.0 / lw[1]) : T(0);
            nn::copy_grads_from(flat.data(), inv, params);
            adam.step();
            const auto t3 = clock::now();
            rep.step_compute_seconds.push_back(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
            rep.step_comm_seconds.push_back(std::chrono::duration<double>(t2 - t1).count());
            rep.compute_seconds += rep.step_compute_seconds.back();
            rep.comm_seconds += rep.step_comm_seconds.back();
            ++rep.steps;
            loop.batch_end(s + 1, lw[1] > 0 ? lw[0] / lw[1] : 0.0, static_cast<double>(b1 - b0));
        }
    });
    if (report) {
        rep.comm = comm.stats() - before;
        *report = rep;
    }
    return history;
}

}  // namespace cfnet::distributed
