// NeuralCF speed: the notebook configuration's 10-epoch training and full 943 x 1682 scoring on
// MovieLens 100K (the notebook's split), and seconds per epoch on synthetic MovieLens-shaped data.
//
//   OPENBLAS_NUM_THREADS=1 ./bench_neural_cf --benchmark_filter=notebook
//   NCF_NOTEBOOK_SPLIT=/path/to/notebook-split/test.tsv overrides the held-out file.
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/neural_cf.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace {

/// Peak resident set size of this process so far, MiB (Linux: ru_maxrss is in KiB). It only grows:
/// run one size per process (--benchmark_filter) to attribute it.
double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

const cfnet::Split<float>& notebook_split() {
    static std::optional<cfnet::Split<float>> split;
    if (!split) {
        const std::string dir = CFNET_ML100K_DIR;
        const char* env = std::getenv("NCF_NOTEBOOK_SPLIT");
        const std::string file = env ? env : dir + "/../notebook-split/test.tsv";
        const auto data = cfnet::movielens::load<float>(dir);
        split = cfnet::split_from_heldout_file(data.ratings, file);
    }
    return *split;
}

/// The notebook's model, 10 epochs, 20% validation reported every epoch (as Keras' fit and the
/// PyTorch peer do).
void BM_ncf_notebook_train_10_epochs(benchmark::State& state) {
    const auto& split = notebook_split();
    double rmse = 0;
    for (auto _ : state) {
        cfnet::NeuralCF<float> model;
        const auto h = model.fit(split.train);
        benchmark::DoNotOptimize(h.epochs.back().loss);
        state.PauseTiming();
        rmse = cfnet::evaluate_rating(split.test, [&](auto u, auto i) { return model.predict(u, i); }).rmse;
        state.ResumeTiming();
    }
    state.counters["rmse"] = rmse;
}
BENCHMARK(BM_ncf_notebook_train_10_epochs)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

/// Scores every (user, item) pair of MovieLens 100K: 943 x 1682 through the trained network.
void BM_ncf_notebook_full_scoring(benchmark::State& state) {
    const auto& split = notebook_split();
    auto o = cfnet::NeuralCFOptions::notebook();
    o.epochs = 1;
    cfnet::NeuralCF<float> model(o);
    model.fit(split.train);
    std::vector<float> scores(model.n_items());
    for (auto _ : state) {
        for (cfnet::index_type u = 0; u < model.n_users(); ++u) {
            model.score_items(u, scores.data());
            benchmark::DoNotOptimize(scores.data());
        }
    }
    state.counters["pairs"] = static_cast<double>(model.n_users() * model.n_items());
}
BENCHMARK(BM_ncf_notebook_full_scoring)->Unit(benchmark::kMillisecond)->UseRealTime();

/// One training epoch (no validation) of the notebook's model on synthetic data of MovieLens
/// 100K (0) / 1M (1) / 10M (2) / 25M (3) shape; range(1) = 1: lazy embedding updates.
void BM_ncf_synthetic_epoch(benchmark::State& state) {
    cfnet::synthetic::SyntheticOptions so;
    switch (state.range(0)) {
        case 0: so = cfnet::synthetic::ml100k(); break;
        case 1: so = cfnet::synthetic::ml1m(); break;
        case 2: so = cfnet::synthetic::ml10m(); break;
        default: so = cfnet::synthetic::ml25m(); break;
    }
    so.timestamps = false;
    const auto data = cfnet::synthetic::generate<float>(so);
    auto o = cfnet::NeuralCFOptions::notebook();
    o.epochs = 1;
    o.validation_fraction = 0;
    o.lazy_embedding_updates = state.range(1) != 0;
    for (auto _ : state) {
        cfnet::NeuralCF<float> model(o);
        benchmark::DoNotOptimize(model.fit(data).epochs.back().loss);
    }
    state.counters["ratings"] = static_cast<double>(data.nnz());
    state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_ncf_synthetic_epoch)
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();
// 10M / 25M sizes, one per process so that peak_rss_MiB is theirs (data generation included):
//   bench_neural_cf --benchmark_filter='synthetic_epoch_large/2/'   (10M)
//   bench_neural_cf --benchmark_filter='synthetic_epoch_large/3/'   (25M)
void BM_ncf_synthetic_epoch_large(benchmark::State& state) { BM_ncf_synthetic_epoch(state); }
BENCHMARK(BM_ncf_synthetic_epoch_large)->Args({2, 1})->Args({3, 1})->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    cfnet::set_blas_threads(1);
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", "1 (set_blas_threads)");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
