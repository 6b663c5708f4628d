// AutoencoderCF training speed (docs/benchmarks.md, "AutoencoderCF").
//
//   OPENBLAS_NUM_THREADS=1 ./bench_autoencoder [--benchmark_filter=...]
//
// BM_ae_fit_notebook/20: the notebook configuration, 20 epochs on the notebook's MovieLens 100K
//   split (80367 training ratings), exact Adam (arg 1: lazy Adam). One fit per iteration.
// BM_ae_epoch/<preset>: one epoch of the notebook configuration on synthetic data shaped like
//   MovieLens 100K (0), 1M (1), 10M (2), 25M (3) (the larger ones are slow: filter them in).
// BM_ae_predict_test: leak-free predictions for the 19633 held-out pairs.
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/synthetic.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const cfnet::Split<float>& notebook_split() {
    static const cfnet::Split<float> split = [] {
        const std::string dir = CFNET_ML100K_DIR;
        const auto all = cfnet::movielens::load<float>(dir).ratings;
        return cfnet::split_from_heldout_file(all, dir + "/../notebook-split/test.tsv");
    }();
    return split;
}

void context() {
    static const bool added = [] {
        const char* t = std::getenv("OPENBLAS_NUM_THREADS");
        benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", t ? t : "unset");
        return true;
    }();
    (void)added;
}

void BM_ae_fit_notebook(benchmark::State& state) {
    context();
    const auto& split = notebook_split();
    auto opt = cfnet::AutoencoderOptions::notebook();
    opt.lazy_adam = state.range(1) != 0;
    opt.epochs = static_cast<int>(state.range(0));
    double loss = 0;
    for (auto _ : state) {
        cfnet::AutoencoderCF<float> model(opt);
        const auto h = model.fit(split.train);
        loss = h[h.size() - 1].loss;
        std::fprintf(stderr, "final loss %g (%zu epochs)\n", loss, h.size());  // also keeps `loss` observable
        benchmark::DoNotOptimize(loss);
    }
    state.counters["final_loss"] = loss;
    state.counters["steps"] = static_cast<double>(opt.epochs) * 30;
}
BENCHMARK(BM_ae_fit_notebook)->Args({20, 0})->Args({20, 1})->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_ae_epoch(benchmark::State& state) {
    context();
    static std::vector<std::unique_ptr<cfnet::RatingMatrix<float>>> cache(4);
    const auto preset = static_cast<std::size_t>(state.range(0));
    if (!cache[preset]) {
        const cfnet::synthetic::SyntheticOptions presets[] = {cfnet::synthetic::ml100k(), cfnet::synthetic::ml1m(),
                                                              cfnet::synthetic::ml10m(), cfnet::synthetic::ml25m()};
        cache[preset] = std::make_unique<cfnet::RatingMatrix<float>>(cfnet::synthetic::generate<float>(presets[preset]));
    }
    auto opt = cfnet::AutoencoderOptions::notebook();
    opt.epochs = 1;
    opt.lazy_adam = state.range(1) != 0;
    for (auto _ : state) {
        cfnet::AutoencoderCF<float> model(opt);
        const auto h = model.fit(*cache[preset]);
        benchmark::DoNotOptimize(h[0].loss);
        state.counters["epoch_seconds"] = h[0].seconds;
    }
    state.counters["ratings"] = static_cast<double>(cache[preset]->nnz());
}
BENCHMARK(BM_ae_epoch)->Args({0, 0})->Args({1, 0})->Args({1, 1})->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_ae_predict_test(benchmark::State& state) {
    context();
    const auto& split = notebook_split();
    auto opt = cfnet::AutoencoderOptions::notebook();
    opt.epochs = 1;
    cfnet::AutoencoderCF<float> model(opt);
    model.fit(split.train);
    for (auto _ : state) {
        auto p = model.predict(split.train, split.test);
        benchmark::DoNotOptimize(p.data());
    }
}
BENCHMARK(BM_ae_predict_test)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
