// Measurements for docs/distributed.md (not a test): data-parallel AutoencoderCF on a synthetic
// set of a given shape, per rank: the bytes the communicator counted per step, the seconds spent
// computing and in the collectives, and the peak memory. Run it under mpirun, e.g.
//   mpirun -np 2 build/tests/distributed/mpi/cfnet_distributed_measure ml100k 2
//   build/tests/distributed/mpi/cfnet_distributed_measure ml25m 1 256
// arguments: shape (ml100k | ml25m), epochs, [users: a prefix of the shape's users, with the
// shape's mean ratings per user; default all], [batch size, default 32].
#include <cfnet/data/synthetic.hpp>
#include <cfnet/distributed/autoencoder.hpp>
#include <cfnet/distributed/mpi.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    cfnet::distributed::MpiEnvironment env(argc, argv);
    cfnet::distributed::MpiCommunicator comm;
    const std::string shape = argc > 1 ? argv[1] : "ml100k";
    const int epochs = argc > 2 ? std::atoi(argv[2]) : 1;
    auto so = shape == "ml25m" ? cfnet::synthetic::ml25m() : cfnet::synthetic::ml100k();
    if (argc > 3) {
        const auto users = static_cast<std::size_t>(std::atoll(argv[3]));
        so.n_ratings = so.n_ratings / so.n_users * users;
        so.n_users = users;
    }
    const std::size_t batch = argc > 4 ? static_cast<std::size_t>(std::atoll(argv[4])) : 32;
    const auto t0 = std::chrono::steady_clock::now();
    const auto all = cfnet::synthetic::generate<float>(so);
    const auto shard = cfnet::distributed::shard_rows(all, comm);
    const double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cfnet::AutoencoderCF<float> model(cfnet::AutoencoderOptions{}.n_epochs(epochs).batch(batch));
    cfnet::distributed::DataParallelReport rep;
    const auto t1 = std::chrono::steady_clock::now();
    const auto h = cfnet::distributed::fit_data_parallel(model, shard, comm, {}, nullptr, &rep);
    const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double per_step = static_cast<double>(rep.parameters) * sizeof(float) + 16;
    const auto total = rep.comm.sent(cfnet::distributed::CommKind::allreduce);
    for (int r = 0; r < comm.size(); ++r) {
        comm.barrier();
        if (r != comm.rank()) continue;
        std::printf("%s %zu users x %zu items, %zu ratings (generated in %.1f s); %d ranks, rank %d: %zu rows, "
                    "%zu steps, %zu parameters; allreduce payload %.0f bytes per step (counted: %llu in all, "
                    "%.0f of them once at the start); fit %.2f s = compute %.2f s + communication %.2f s "
                    "(+ %.2f s other); loss %.5f; peak RSS %.0f MB\n",
                    shape.c_str(), all.n_users(), all.n_items(), all.nnz(), gen, comm.size(), comm.rank(),
                    rep.owned_rows, rep.steps, rep.parameters, per_step, static_cast<unsigned long long>(total),
                    static_cast<double>(total) - per_step * static_cast<double>(rep.steps), fit, rep.compute_seconds,
                    rep.comm_seconds, fit - rep.compute_seconds - rep.comm_seconds, h.epochs.back().loss,
                    static_cast<double>(ru.ru_maxrss) / 1024.0);
        std::fflush(stdout);
    }
    return 0;
}
