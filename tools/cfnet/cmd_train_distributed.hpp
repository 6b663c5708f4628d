#pragma once
/// @file tools/cfnet/cmd_train_distributed.hpp
/// `cfnet train` under mpirun (docs/distributed.md): `mpirun -np N cfnet train --model autoencoder
/// ...` trains ONE model over N ranks and rank 0 writes the model file, in the single-process
/// format. Every rank reads the data and makes the same split (same seed), then keeps only its part:
/// its block of item columns (distributed::shard_items; the item-partitioned fit,
/// distributed/autoencoder_items.hpp: the default, 2 b x 512 floats per step whatever the number
/// of items) or, with --decomposition users, its block of users (distributed::shard_rows; the
/// data-parallel fit, distributed/autoencoder.hpp: every gradient allreduced every step). Active
/// only in
/// a build with MPI (CFNET_TOOL_MPI, target cfnet::mpi) when the program was started by mpirun /
/// mpiexec with more than one rank; otherwise `cfnet train` runs as always.

#include "cmd_train.hpp"
#include "common.hpp"

#include <cfnet/distributed/autoencoder.hpp>
#include <cfnet/distributed/autoencoder_items.hpp>
#include <cfnet/distributed/communicator.hpp>

#ifdef CFNET_TOOL_MPI
#include <cfnet/distributed/mpi.hpp>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

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

/// `cfnet train` on comm.size() ranks: --model autoencoder only, item-partitioned or data-parallel
/// (--decomposition). @throws UsageError for another model or an option the chosen fit does
/// not support.
inline int run_train_distributed(const TrainArgs& a, cfnet::distributed::Communicator& comm) {
    namespace dist = cfnet::distributed;
    check_train_args(a);
    if (model_kind_of(a.model) != model_kind_of("autoencoder"))
        throw UsageError("train: under mpirun (" + std::to_string(comm.size()) +
                         " ranks) only --model autoencoder trains distributed, not '" + a.model + "'");
    const bool items = a.decomposition == "items";
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

    cfnet::AutoencoderCF<float> model(detail::options_for(ModelType<cfnet::AutoencoderCF<float>>{}, a));
    dist::DataParallelReport rep;
    dist::ItemPartitionedReport irep;
    const auto t1 = std::chrono::steady_clock::now();
    const cfnet::History history = items ? dist::fit_item_partitioned(model, shard, comm, callbacks, nullptr, &irep)
                                         : dist::fit_data_parallel(model, shard, comm, callbacks, nullptr, &rep);
    const double fit_seconds = examples::seconds_since(t1);
    if (!root) return exit_ok;

    model.save(a.out);
    detail::record_split(a.out, a);
    if (!a.history.empty()) {
        if (a.history.size() >= 4 && a.history.compare(a.history.size() - 4, 4, ".csv") == 0)
            history.save_csv(a.history);
        else
            history.save_json(a.history);
    }
    const cfnet::ModelFileInfo info = cfnet::read_model_info(a.out);
    std::cout << "model:    " << ModelName<cfnet::AutoencoderCF<float>>::value << " (preset " << detail::preset_of(a) << ")\n"
              << "data:     " << w.data_source << ", split " << a.split << ", seed " << a.seed << '\n'
              << "epochs:   " << history.size() << '\n';
    if (history.size() > 0) std::cout << "loss:     " << history.epochs.back().loss << '\n';
    char line[320];
    if (items) {
        const auto total = static_cast<unsigned long long>(irep.comm.sent(dist::CommKind::allreduce));
        std::snprintf(line, sizeof line,
                      "%d ranks (MPI), partitioned by item, %zu steps, %llu bytes allreduced in all (%llu per "
                      "step of %zu rows: 2 x rows x 512 floats + 1 double); rank 0: items %zu..%zu, %.2f s compute, "
                      "%.2f s communication, %.2f s gathering the model",
                      comm.size(), irep.steps, total,
                      static_cast<unsigned long long>(4 * model.options().batch_size * (model.options().hidden.front() +
                                                                              model.options().hidden.back()) + 8),
                      model.options().batch_size, irep.items.begin, irep.items.end, irep.compute_seconds, irep.comm_seconds,
                      irep.gather_seconds);
    } else {
        const auto per_step = static_cast<unsigned long long>(rep.parameters * sizeof(float) + 2 * sizeof(double));
        const auto total = static_cast<unsigned long long>(rep.comm.sent(dist::CommKind::allreduce));
        std::snprintf(line, sizeof line,
                      "%d ranks (MPI), %zu steps, %llu bytes allreduced per step (+%llu once); rank 0: %zu rows, "
                      "%.2f s compute, %.2f s communication",
                      comm.size(), rep.steps, per_step, total - per_step * rep.steps, rep.owned_rows, rep.compute_seconds,
                      rep.comm_seconds);
    }
    std::cout << "ranks:    " << line << '\n';
    std::snprintf(line, sizeof line, "%.2f s training, %.2f s in all", fit_seconds, examples::seconds_since(t0));
    std::cout << "time:     " << line << '\n' << "saved:    " << a.out << " (" << info.file_size << " bytes)\n";
    if (!a.history.empty()) std::cout << "history:  " << a.history << '\n';
    return exit_ok;
}

}  // namespace cfnet_cli
