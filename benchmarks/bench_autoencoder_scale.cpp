// How AutoencoderCF's training cost grows with the data (docs/benchmarks.md, "AutoencoderCF: scale").
//
//   OPENBLAS_NUM_THREADS=1 ./bench_autoencoder_scale --benchmark_filter='scale:3/lazy:1'
//
// BM_ae_scale/scale:<preset>/lazy:<0|1>: ONE epoch of the notebook configuration (1682-style user-based
// autoencoder 512-256-64-256-512, batch 32) on synthetic data shaped like MovieLens 100K (0),
// 1M (1), 10M (2), 25M (3) (cfnet::synthetic presets), exact Adam (lazy = 0) or lazy Adam
// (lazy = 1). Counters: epoch_seconds (the fit's own epoch wall time, data generation excluded),
// epoch_cpu_seconds (CPU time of the fit on the calling thread: with one BLAS thread, all of it;
// the figure to compare on a loaded machine),
// ratings, users, items, parameters, and max_rss_mib, the process's peak resident memory
// (getrusage) after the epoch: run ONE preset per process for a meaningful peak (the filter
// above), since the peak of an earlier, larger run stays.
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/synthetic.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <time.h>

#include <cstdlib>
#include <memory>

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double max_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

void BM_ae_scale(benchmark::State& state) {
    const char* t = std::getenv("OPENBLAS_NUM_THREADS");
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", t ? t : "unset");
    const auto preset = static_cast<std::size_t>(state.range(0));
    const cfnet::synthetic::SyntheticOptions presets[] = {cfnet::synthetic::ml100k(), cfnet::synthetic::ml1m(),
                                                          cfnet::synthetic::ml10m(), cfnet::synthetic::ml25m()};
    const auto data = std::make_unique<cfnet::RatingMatrix<float>>(cfnet::synthetic::generate<float>(presets[preset]));
    auto opt = cfnet::AutoencoderOptions::notebook();
    opt.epochs = 1;
    opt.lazy_adam = state.range(1) != 0;
    double seconds = 0, cpu = 0, params = 0;
    for (auto _ : state) {
        cfnet::AutoencoderCF<float> model(opt);
        const double c0 = thread_cpu_seconds();
        const auto h = model.fit(*data);
        cpu = thread_cpu_seconds() - c0;
        benchmark::DoNotOptimize(h[0].loss);
        seconds = h[0].seconds;
        params = 0;
        for (const auto* p : model.parameters()) params += static_cast<double>(p->value.size());
    }
    state.counters["epoch_seconds"] = seconds;
    state.counters["epoch_cpu_seconds"] = cpu;
    state.counters["ratings"] = static_cast<double>(data->nnz());
    state.counters["users"] = static_cast<double>(data->n_users());
    state.counters["items"] = static_cast<double>(data->n_items());
    state.counters["parameters"] = params;
    state.counters["max_rss_mib"] = max_rss_mib();
}
BENCHMARK(BM_ae_scale)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}})
    ->ArgNames({"scale", "lazy"})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
