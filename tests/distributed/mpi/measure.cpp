// Measurements for docs/distributed.md (not a test): AutoencoderCF (the notebook network) on a
// synthetic set of a given shape, trained with each decomposition side by side in one run --
// data parallelism over users (distributed/autoencoder.hpp) and the item partitioning
// (distributed/autoencoder_items.hpp, dense and lazy Adam) -- and per rank: the bytes the
// communicator counted per step, the MEDIAN seconds per step computing and in the collectives,
// and memory (the resident set at the end of each epoch, inside the fit, with the generated full
// set freed; and the peak).
// Run it under mpirun, e.g.
//   mpirun -np 2 build/tests/distributed/mpi/cfnet_distributed_measure ml100k 2
//   OPENBLAS_NUM_THREADS=1 build/tests/distributed/mpi/cfnet_distributed_measure ml25m 1 256 32 items
// arguments: shape (ml100k | ml25m), epochs, [users: a prefix of the shape's users, with the
// shape's mean ratings per user; default all], [batch size, default 32], [which: users | items |
// items-lazy | items-split (lazy Adam, the middle layers split by batch rows) | lazy-both
// (items-lazy then items-split) | all (default: users, items, items-lazy, one after the other)].
#include <cfnet/data/synthetic.hpp>
#include <cfnet/distributed/autoencoder.hpp>
#include <cfnet/distributed/autoencoder_items.hpp>
#include <cfnet/distributed/mpi.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double rss_mb(const char* key) {  // VmRSS / VmHWM of /proc/self/status, MB
    std::ifstream f("/proc/self/status");
    std::string k;
    double kb = 0;
    while (f >> k) {
        if (k == key) {
            f >> kb;
            return kb / 1024.0;
        }
        std::getline(f, k);
    }
    return 0.0;
}

// The resident set at the end of every epoch, inside the fit (the training state still alive).
struct RssAtEpochEnd : cfnet::Callback {
    double mb = 0;
    bool on_epoch_end(const cfnet::EpochRecord&) override {
        mb = std::max(mb, rss_mb("VmRSS:"));
        return false;
    }
};

struct Row {
    std::string what;
    std::size_t steps = 0, local = 0;
    double bytes_per_step = 0, counted = 0, compute_med = 0, comm_med = 0, compute = 0, comm = 0, fit = 0, loss = 0;
    double rss = 0, big_mb = 0, replicated = 0;
};

void print(cfnet::distributed::Communicator& comm, const Row& r) {
    for (int q = 0; q < comm.size(); ++q) {
        comm.barrier();
        if (q != comm.rank()) continue;
        std::printf("  %-26s %d ranks, rank %d: %zu %s, %zu steps; payload %.0f B/step (counted %.0f B/step); "
                    "per step (median) compute %.4f s + communication %.4f s; in all %.2f s + %.2f s (fit %.2f s); "
                    "loss %.5f; RSS at epoch end %.0f MB, two big layers (value, grad, m, v) %.0f MB; replicated "
                    "part %.4f s/step (mean)\n",
                    r.what.c_str(), comm.size(), comm.rank(), r.local, r.what == "users (data-parallel)" ? "rows" : "items",
                    r.steps, r.bytes_per_step, r.counted, r.compute_med, r.comm_med, r.compute, r.comm, r.fit, r.loss,
                    r.rss, r.big_mb, r.replicated);
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    namespace dist = cfnet::distributed;
    dist::MpiEnvironment env(argc, argv);
    dist::MpiCommunicator comm;
    const std::string shape = argc > 1 ? argv[1] : "ml100k";
    const int epochs = argc > 2 ? std::atoi(argv[2]) : 1;
    auto so = shape == "ml25m" ? cfnet::synthetic::ml25m() : cfnet::synthetic::ml100k();
    if (argc > 3 && std::atoll(argv[3]) > 0) {
        const auto users = static_cast<std::size_t>(std::atoll(argv[3]));
        so.n_ratings = so.n_ratings / so.n_users * users;
        so.n_users = users;
    }
    const std::size_t batch = argc > 4 ? static_cast<std::size_t>(std::atoll(argv[4])) : 32;
    const std::string which = argc > 5 ? argv[5] : "all";
    const bool run_users = which == "all" || which == "users";
    const bool run_items = which == "all" || which == "items";
    const bool run_lazy = which == "all" || which == "items-lazy" || which == "lazy-both";
    const bool run_split = which == "items-split" || which == "lazy-both";

    const auto t0 = std::chrono::steady_clock::now();
    cfnet::RatingMatrix<float> rows, cols;
    std::size_t n_users = 0, n_items = 0, nnz = 0;
    {
        const auto all = cfnet::synthetic::generate<float>(so);
        n_users = all.n_users();
        n_items = all.n_items();
        nnz = all.nnz();
        if (run_users) rows = dist::shard_rows(all, comm);
        if (run_items || run_lazy || run_split) cols = dist::shard_items(all, comm);
    }
    const double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (comm.rank() == 0)
        std::printf("%s %zu users x %zu items, %zu ratings (generated in %.1f s), batch %zu, %d epochs, %d ranks\n",
                    shape.c_str(), n_users, n_items, nnz, gen, batch, epochs, comm.size());
    const auto opts = cfnet::AutoencoderOptions{}.n_epochs(epochs).batch(batch);
    const double big = 4.0 * (2.0 * 512 + 1) * static_cast<double>(n_items);  // floats of one process

    if (run_users) {
        cfnet::AutoencoderCF<float> model(opts);
        dist::DataParallelReport rep;
        const auto t1 = std::chrono::steady_clock::now();
        RssAtEpochEnd rss;
        const auto h = dist::fit_data_parallel(model, rows, comm, {&rss}, nullptr, &rep);
        Row r;
        r.what = "users (data-parallel)";
        r.fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        r.steps = rep.steps;
        r.local = rep.owned_rows;
        r.bytes_per_step = static_cast<double>(rep.parameters) * sizeof(float) + 16;
        r.counted = static_cast<double>(rep.comm.sent(dist::CommKind::allreduce)) / static_cast<double>(rep.steps);
        r.compute_med = median(rep.step_compute_seconds);
        r.comm_med = median(rep.step_comm_seconds);
        r.compute = rep.compute_seconds;
        r.comm = rep.comm_seconds;
        r.loss = h.epochs.back().loss;
        r.rss = rss.mb;
        r.big_mb = big * 4 / 1e6;  // every rank holds all of it (grads and moments too)
        print(comm, r);
    }
    for (const int kind : {0, 1, 2}) {  // dense Adam, lazy Adam, lazy Adam with the middle layers split
        const bool lazy = kind > 0, split = kind == 2;
        if (!(kind == 0 ? run_items : kind == 1 ? run_lazy : run_split)) continue;
        cfnet::AutoencoderCF<float> model(cfnet::AutoencoderOptions(opts).lazy(lazy));
        dist::ItemPartitionedReport rep;
        const auto t1 = std::chrono::steady_clock::now();
        // the training alone: the gather into one model (rank 0) is timed and reported separately
        RssAtEpochEnd rss;
        const auto h = dist::fit_item_partitioned(model, cols, comm, {&rss}, nullptr, &rep, dist::ItemGather::none,
                                                  split ? dist::MiddleLayers::split_rows : dist::MiddleLayers::replicated);
        Row r;
        r.what = split ? "items (lazy, split rows)" : lazy ? "items (lazy Adam)" : "items (dense Adam)";
        r.fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        r.steps = rep.steps;
        r.local = rep.items.size();
        r.bytes_per_step = static_cast<double>(rep.formula_bytes) / static_cast<double>(rep.steps);
        r.counted = static_cast<double>(rep.comm.total_sent()) / static_cast<double>(rep.steps);
        r.compute_med = median(rep.step_compute_seconds);
        r.comm_med = median(rep.step_comm_seconds);
        r.compute = rep.compute_seconds;
        r.comm = rep.comm_seconds;
        r.loss = h.epochs.back().loss;
        r.rss = rss.mb;
        r.big_mb = static_cast<double>(rep.partitioned_elements) * 4 / 1e6;
        r.replicated = rep.replicated_seconds / static_cast<double>(rep.steps);
        print(comm, r);
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    for (int q = 0; q < comm.size(); ++q) {
        comm.barrier();
        if (q == comm.rank())
            std::printf("  rank %d: peak RSS %.0f MB (includes generating the whole set on every rank)\n", q,
                        static_cast<double>(ru.ru_maxrss) / 1024.0);
        std::fflush(stdout);
    }
    return 0;
}
