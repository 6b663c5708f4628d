// The `threads` options (docs/distributed.md, "All cores of one machine"): scoring users
// (cfnet::recommend_batch, top 10) and evaluate_ranking (NDCG@10 etc.) of the notebook autoencoder
// (512-256-64-256-512, weights as initialised: the cost of scoring does not depend on their values)
// at 1 and 2 threads, side by side in one run, medians of 5 repetitions.
//   shape 0: the ML-100K shape (synthetic, 943 x 1,682), every user;
//   shape 1: the ML-25M shape (synthetic, 162,541 x 59,047, 25M ratings), a spread sample of users
//            (every 160th for recommend_batch, every 640th for evaluate_ranking; users_per_second
//            says the rate). Generating it (~30 s, ~1.5 GB) is not timed.
// BM_score_blas2 is the other way to use two cores: one cfnet thread, OpenBLAS at 2 threads.
// Run: OPENBLAS_NUM_THREADS=1 build/benchmarks/bench_threads
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/recommender.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <vector>

namespace {

struct Workload {
    cfnet::RatingMatrix<float> train, test;       // test: only the sampled users' held-out ratings
    std::vector<cfnet::index_type> rec_users;     // the users recommend_batch scores
    std::unique_ptr<cfnet::AutoencoderCF<float>> model;
};

const Workload& workload(int shape) {
    static std::unique_ptr<Workload> w[2];
    if (!w[shape]) {
        w[shape] = std::make_unique<Workload>();
        auto& x = *w[shape];
        const auto all = cfnet::synthetic::generate<float>(shape == 0 ? cfnet::synthetic::ml100k()
                                                                       : cfnet::synthetic::ml25m());
        const std::size_t rec_every = shape == 0 ? 1 : 160, eval_every = shape == 0 ? 1 : 640;
        const auto& rp = all.row_ptr();
        x.train = all.filter([](std::size_t k) { return k % 5 != 0; });
        std::size_t u = 0;
        x.test = all.filter([&](std::size_t k) {
            while (k >= rp[u + 1]) ++u;
            return k % 5 == 0 && u % eval_every == 0;
        });
        for (std::size_t v = 0; v < all.n_users(); v += rec_every) x.rec_users.push_back(static_cast<cfnet::index_type>(v));
        x.model = std::make_unique<cfnet::AutoencoderCF<float>>(cfnet::AutoencoderOptions::notebook());
        x.model->initialize(x.train);
    }
    return *w[shape];
}

void context() {
    static bool done = false;
    if (done) return;
    done = true;
    const char* t = std::getenv("OPENBLAS_NUM_THREADS");
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", t ? t : "unset");
}

void BM_recommend_batch(benchmark::State& state) {
    context();
    const auto& w = workload(static_cast<int>(state.range(0)));
    const int threads = static_cast<int>(state.range(1));
    double sum = 0;
    for (auto _ : state)
        cfnet::recommend_batch(*w.model, w.train, w.rec_users, 10,
                               [&](cfnet::index_type, const std::vector<cfnet::Recommendation<float>>& r) {
                                   sum += r.empty() ? 0.0 : static_cast<double>(r[0].score);
                               },
                               true, threads);
    benchmark::DoNotOptimize(sum);
    state.counters["users_per_second"] =
        benchmark::Counter(static_cast<double>(w.rec_users.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_evaluate_ranking(benchmark::State& state) {
    context();
    const auto& w = workload(static_cast<int>(state.range(0)));
    const int threads = static_cast<int>(state.range(1));
    cfnet::RankingReport r;
    for (auto _ : state)
        r = cfnet::evaluate_ranking(w.train, w.test, 10, cfnet::per_thread([&] { return w.model->make_scorer(w.train); }),
                                    cfnet::RankingOptions().threshold(4).use_threads(threads));
    benchmark::DoNotOptimize(r.ndcg);
    state.counters["users_per_second"] =
        benchmark::Counter(static_cast<double>(r.users_evaluated), benchmark::Counter::kIsIterationInvariantRate);
}

// One cfnet thread, OpenBLAS at state.range(1) threads (restored after).
void BM_score_blas(benchmark::State& state) {
    context();
    const auto& w = workload(static_cast<int>(state.range(0)));
    const int before = cfnet::blas_threads();
    cfnet::set_blas_threads(static_cast<int>(state.range(1)));
    double sum = 0;
    for (auto _ : state)
        cfnet::recommend_batch(*w.model, w.train, w.rec_users, 10,
                               [&](cfnet::index_type, const std::vector<cfnet::Recommendation<float>>& r) {
                                   sum += r.empty() ? 0.0 : static_cast<double>(r[0].score);
                               });
    cfnet::set_blas_threads(before);
    benchmark::DoNotOptimize(sum);
    state.counters["users_per_second"] =
        benchmark::Counter(static_cast<double>(w.rec_users.size()), benchmark::Counter::kIsIterationInvariantRate);
}

#define CFNET_THREADS_BENCH(fn)                                                                                   \
    BENCHMARK(fn)                                                                                                 \
        ->ArgsProduct({{0, 1}, {1, 2}})                                                                           \
        ->ArgNames({"shape", "threads"})                                                                          \
        ->Unit(benchmark::kMillisecond)                                                                           \
        ->UseRealTime()                                                                                           \
        ->Repetitions(5)                                                                                          \
        ->ReportAggregatesOnly(true)                                                                              \
        ->Iterations(1)

CFNET_THREADS_BENCH(BM_recommend_batch);
CFNET_THREADS_BENCH(BM_evaluate_ranking);
BENCHMARK(BM_score_blas)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"shape", "blas_threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
