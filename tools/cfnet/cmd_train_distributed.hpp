#pragma once
/// @file tools/cfnet/cmd_train_distributed.hpp
/// `cfnet train` under mpirun (docs/distributed.md): `mpirun -np N cfnet train --model autoencoder
/// ...` trains ONE model over N ranks and rank 0 writes the model file, in the single-process
/// format. Every rank reads the data and makes the same split (same seed), then keeps only its part.
/// The autoencoder: its block of item columns (distributed::shard_items; the item-partitioned fit,
/// distributed/autoencoder_items.hpp: the default, 2 b x 512 floats per step whatever the number
/// of items; --middle-layers split also splits the batch's rows of the middle layers) or, with
/// --decomposition users, its block of users (distributed::shard_rows; the data-parallel fit,
/// distributed/autoencoder.hpp: every gradient allreduced every step). ncf and ease: its block of
/// users (distributed/neural_cf.hpp, distributed/ease.hpp). Active only in a build with MPI (CFNET_TOOL_MPI, target cfnet::mpi) when the program was started by mpirun /
/// mpiexec with more than one rank; otherwise `cfnet train` runs as always.

#include "cmd_train.hpp"
#include "common.hpp"

#include <cfnet/distributed/autoencoder.hpp>
#include <cfnet/distributed/autoencoder_items.hpp>
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/ease.hpp>
#include <cfnet/distributed/mult_vae.hpp>
#include <cfnet/distributed/neural_cf.hpp>

#ifdef CFNET_TOOL_MPI
#include <cfnet/distributed/mpi.hpp>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

namespace cfnet_cli {

/// MPI for the whole run when started by mpirun with 2+ ranks (else nothing): create one in main().
class DistributedSession {
public:
    DistributedSession(int& argc, char**& argv) {
#ifdef CFNET_TOOL_MPI
        if (launched_by_mpirun()) {
            env_ = std::make_unique<cfnet::distributed::MpiEnvironment>(argc, argv);
            comm_ = std::make_unique<cfnet::distributed::MpiCommunicator>();
            if (comm_->size() > 1) current() = comm_.get();
        }
#else
        (void)argc;
        (void)argv;
#endif
    }
    ~DistributedSession() { current() = nullptr; }
    DistributedSession(const DistributedSession&) = delete;
    DistributedSession& operator=(const DistributedSession&) = delete;

    /// The communicator of a distributed run (null: a single-process run).
    static cfnet::distributed::Communicator*& current() {
        static cfnet::distributed::Communicator* c = nullptr;
        return c;
    }

    /// Ends every rank after an error on one (the others may wait in a collective call).
    static void abort(int code) {
#ifdef CFNET_TOOL_MPI
        if (current()) MPI_Abort(MPI_COMM_WORLD, code);
#endif
        (void)code;
    }

private:
    static bool launched_by_mpirun() {
        for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
            if (std::getenv(v)) return true;
        return false;
    }
#ifdef CFNET_TOOL_MPI
    std::unique_ptr<cfnet::distributed::MpiEnvironment> env_;
    std::unique_ptr<cfnet::distributed::MpiCommunicator> comm_;
#endif
};

namespace detail {

/// NeuralCF's own hold-out (validation_fraction f of the training pairs) made rank-independent:
/// pair (u, i) of this rank's shard is held out when uniform_at(derive_seed(seed, u), i) < f, a
/// function of the pair alone, so the same pairs are held out on any number of ranks (not
/// NeuralCF::fit's pairs, which are drawn from one stream). Returns {the rest, the held-out pairs}.
inline std::pair<cfnet::RatingMatrix<float>, cfnet::RatingMatrix<float>> hold_out_keyed(const cfnet::RatingMatrix<float>& all,
                                                                                      double fraction, std::uint64_t seed) {
    const auto& rp = all.row_ptr();
    const auto& items = all.item_indices();
    std::vector<std::uint8_t> out(all.nnz());
    for (std::size_t u = 0; u + 1 < rp.size(); ++u) {
        const std::uint64_t key = cfnet::derive_seed(seed, u);
        for (std::size_t k = rp[u]; k < rp[u + 1]; ++k) out[k] = cfnet::uniform_at(key, items[k]) < fraction;
    }
    return {all.filter([&](std::size_t k) { return out[k] == 0; }), all.filter([&](std::size_t k) { return out[k] != 0; })};
}

/// The stream of the keyed hold-out's seed (derive_seed(model seed, holdout_stream)).
inline constexpr std::uint64_t holdout_stream = 7;

/// A data-parallel fit with the model's own hold-out made rank-independent: `fraction` of the
/// training pairs held out by hold_out_keyed for the validation metrics (early stopping, the best
/// epoch), then, with `refit`, the model trained again on all of `shard` for the best epoch's count,
/// as the single-process fit does. `fit(model, train, validation)` runs one data-parallel fit.
template <class M, class Options, class Fit>
cfnet::History fit_holding_out(M& model, Options o, const cfnet::RatingMatrix<float>& shard, double fraction, bool refit,
                               Fit fit) {
    if (fraction <= 0) return fit(model, shard, nullptr);
    const auto [train, held] = hold_out_keyed(shard, fraction, cfnet::derive_seed(o.seed, holdout_stream));
    o.validation_fraction = 0;  // the hold-out is `held`
    o.refit = false;
    model = M(o);
    cfnet::History h = fit(model, train, &held);
    if (!refit) return h;
    o.epochs = h.best_epoch > 0 ? h.best_epoch : static_cast<int>(h.size());
    if constexpr (std::is_same_v<Options, cfnet::NeuralCFOptions>) o.early_stopping.reset();
    else o.patience = 0;
    model = M(o);
    cfnet::History again = fit(model, shard, nullptr);
    again.best_epoch = h.best_epoch;
    return again;
}

}  // namespace detail

/// `cfnet train` on comm.size() ranks: autoencoder (item-partitioned, --middle-layers, or
/// data-parallel, --decomposition users), ncf, mult-dae and mult-vae (data-parallel over users;
/// their hold-out keyed per pair, detail::fit_holding_out) and ease (the Gram matrix summed over
/// user shards; a fixed lambda). @throws UsageError for another model or an option the chosen fit does not support.
inline int run_train_distributed(const TrainArgs& a, cfnet::distributed::Communicator& comm) {
    namespace dist = cfnet::distributed;
    check_train_args(a);
    const ModelKind kind = model_kind_of(a.model);
    if (kind == ModelKind::ease && !a.has("--l2") && detail::preset_of(a) != "fixed")
        throw UsageError("train: under mpirun --model ease needs a fixed lambda (--preset fixed or --l2): choosing it "
                         "on validation is not distributed");
    if (a.has("--middle-layers") && a.decomposition != "items")
        throw UsageError("train: --middle-layers applies to --decomposition items only");
    const bool items = kind == ModelKind::autoencoder && a.decomposition == "items";
    const bool root = comm.rank() == 0;
    const auto t0 = std::chrono::steady_clock::now();
    const examples::Workload w = load_data(a.data, a.layout, a.split, a.seed);
    const auto shard = items ? dist::shard_items(w.split.train, comm) : dist::shard_rows(w.split.train, comm);
    if (!a.quiet && root)
        std::cerr << "cfnet: " << w.data_source << ", split " << a.split << " (seed " << a.seed << "): "
                  << w.split.train.nnz() << " training ratings of " << shard.n_users() << " users x " << shard.n_items()
                  << " items on " << comm.size() << " ranks, partitioned by " << (items ? "item" : "user") << " (rank 0: "
                  << shard.nnz() << " ratings)\n";
    cfnet::ProgressBar bar(stderr, std::nullopt, a.model);
    std::vector<cfnet::Callback*> callbacks;
    if (!a.quiet && root) callbacks.push_back(&bar);

    cfnet::History history;
    std::string ranks, closed_form;
    char line[400];
    const auto t1 = std::chrono::steady_clock::now();
    const char* model_name = dispatch_model(kind, [&](auto type) -> const char* {
        using M = typename decltype(type)::type;
        M model(detail::options_for(type, a));
        if constexpr (std::is_same_v<M, cfnet::AutoencoderCF<float>>) {
            if (items) {
                dist::ItemPartitionedReport r;
                const auto middle = a.middle_layers == "split" ? dist::MiddleLayers::split_rows
                                                               : dist::MiddleLayers::replicated;
                history = dist::fit_item_partitioned(model, shard, comm, callbacks, nullptr, &r, dist::ItemGather::root,
                                                     middle);
                const auto sent = static_cast<unsigned long long>(r.comm.total_sent());
                std::snprintf(line, sizeof line,
                              "%d ranks (MPI), partitioned by item, middle layers %s, %zu steps, %llu bytes sent in "
                              "all by rank 0 (%s); rank 0: items %zu..%zu, %.2f s compute, %.2f s communication, "
                              "%.2f s gathering the model",
                              comm.size(), a.middle_layers == "split" ? "split by rows" : "replicated", r.steps, sent,
                              a.middle_layers == "split"
                                  ? "per step: 2 reduce-scatters of rows x 512 floats, 2 allgathers of its rows, "
                                    "the middle layers' gradients, 1 double"
                                  : "per step: 2 x rows x 512 floats + 1 double",
                              r.items.begin, r.items.end, r.compute_seconds, r.comm_seconds, r.gather_seconds);
            } else {
                dist::DataParallelReport r;
                history = dist::fit_data_parallel(model, shard, comm, callbacks, nullptr, &r);
                const auto per_step = static_cast<unsigned long long>(r.parameters * sizeof(float) + 2 * sizeof(double));
                const auto total = static_cast<unsigned long long>(r.comm.sent(dist::CommKind::allreduce));
                std::snprintf(line, sizeof line,
                              "%d ranks (MPI), %zu steps, %llu bytes allreduced per step (+%llu once); rank 0: %zu "
                              "rows, %.2f s compute, %.2f s communication",
                              comm.size(), r.steps, per_step, total - per_step * r.steps, r.owned_rows, r.compute_seconds,
                              r.comm_seconds);
            }
        } else if constexpr (std::is_same_v<M, cfnet::NeuralCF<float>> || std::is_same_v<M, cfnet::MultVAE<float>>) {
            const auto o = model.options();
            double compute = 0, communication = 0;
            std::size_t pairs = 0;
            const dist::CommStats before = comm.stats();
            history = detail::fit_holding_out(
                model, o, shard, o.validation_fraction, o.refit,
                [&](M& m, const cfnet::RatingMatrix<float>& train, const cfnet::RatingMatrix<float>* held) {
                    pairs = train.nnz();
                    if constexpr (std::is_same_v<M, cfnet::NeuralCF<float>>) {
                        double c = 0, t = 0;
                        auto h = dist::fit_data_parallel(m, train, comm, callbacks, held, &c, &t);
                        compute += c, communication += t;
                        return h;
                    } else {
                        dist::DataParallelReport r;
                        auto h = dist::fit_data_parallel(m, train, comm, callbacks, held, &r);
                        compute += r.compute_seconds, communication += r.comm_seconds;
                        return h;
                    }
                });
            const auto sent = static_cast<unsigned long long>((comm.stats() - before).sent(dist::CommKind::allreduce));
            std::snprintf(line, sizeof line,
                          "%d ranks (MPI), partitioned by user, %llu bytes allreduced in all (every gradient every "
                          "step%s); rank 0: %zu training pairs, %.2f s compute, %.2f s communication%s",
                          comm.size(), sent, std::is_same_v<M, cfnet::NeuralCF<float>> ? ", in double" : "", pairs,
                          compute, communication,
                          o.validation_fraction > 0 && o.refit ? " (the selection, then the refit)" : "");
        } else {  // Ease
            const dist::CommStats before = comm.stats();
            dist::fit_sharded(model, shard, comm);
            const auto sent = static_cast<unsigned long long>((comm.stats() - before).sent(dist::CommKind::allreduce));
            closed_form = "closed form, lambda " + cfnet::metadata_number(model.selected_lambda());
            std::snprintf(line, sizeof line,
                          "%d ranks (MPI), partitioned by user, the Gram matrix summed: %llu bytes allreduced "
                          "(its upper triangle)",
                          comm.size(), sent);
        }
        ranks = line;
        if (root) model.save(a.out);
        return ModelName<M>::value;
    });
    const double fit_seconds = examples::seconds_since(t1);
    if (!root) return exit_ok;

    detail::record_split(a.out, a);
    detail::save_history(history, a.history);
    const cfnet::ModelFileInfo info = cfnet::read_model_info(a.out);
    std::cout << "model:    " << model_name << " (preset " << detail::preset_of(a) << ")\n"
              << "data:     " << w.data_source << ", split " << a.split << ", seed " << a.seed << '\n'
              << "epochs:   " << (closed_form.empty() ? std::to_string(history.size()) : closed_form) << '\n';
    detail::print_last_epoch(history);
    std::cout << "ranks:    " << ranks << '\n';
    std::snprintf(line, sizeof line, "%.2f s training, %.2f s in all", fit_seconds, examples::seconds_since(t0));
    std::cout << "time:     " << line << '\n' << "saved:    " << a.out << " (" << info.file_size << " bytes)\n";
    if (!a.history.empty()) std::cout << "history:  " << a.history << '\n';
    return exit_ok;
}

}  // namespace cfnet_cli
