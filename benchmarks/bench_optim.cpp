// Optimizer step cost: Adam over one 1000x1000 parameter (1M floats), Adam over the notebook
// autoencoder's parameters (1682-512-256-64-256-512-1682 dense layers + biases, ~2.0M floats),
// SGD with momentum over 1M floats, and Adam's lazy update of 32 rows of a 1682x64 embedding.
//
//   OPENBLAS_NUM_THREADS=1 ./bench_optim --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cfnet/detail/rng.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/optim/sgd.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdlib>
#include <utility>
#include <vector>

namespace {

using Shape = std::pair<std::size_t, std::size_t>;

std::vector<cfnet::nn::Parameter<float>> make_params(const std::vector<Shape>& shapes) {
    cfnet::Rng rng(1);
    std::vector<cfnet::nn::Parameter<float>> ps;
    ps.reserve(shapes.size());
    for (const auto& s : shapes) {
        ps.emplace_back("p", s.first, s.second);
        for (auto& x : ps.back().value) x = static_cast<float>(rng.uniform(-0.1, 0.1));
        for (auto& x : ps.back().grad) x = static_cast<float>(rng.uniform(-0.01, 0.01));
    }
    return ps;
}

cfnet::nn::ParameterList<float> list(std::vector<cfnet::nn::Parameter<float>>& ps) {
    cfnet::nn::ParameterList<float> l;
    for (auto& p : ps) l.push_back(&p);
    return l;
}

std::vector<Shape> autoencoder_shapes() {
    const std::size_t dims[] = {1682, 512, 256, 64, 256, 512, 1682};
    std::vector<Shape> s;
    for (std::size_t i = 0; i + 1 < 7; ++i) {
        s.emplace_back(dims[i], dims[i + 1]);
        s.emplace_back(1, dims[i + 1]);
    }
    return s;
}

void context(benchmark::State& state, std::size_t n_params) {
    state.counters["params"] = static_cast<double>(n_params);
    state.counters["ns_per_param"] =
        benchmark::Counter(static_cast<double>(n_params), benchmark::Counter::kIsIterationInvariantRate |
                                                              benchmark::Counter::kInvert);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n_params) *
                            static_cast<std::int64_t>(sizeof(float)));
}

/// Times opt.step() over all of its parameters.
template <class Optimizer>
void run_steps(benchmark::State& state, Optimizer& opt, std::vector<cfnet::nn::Parameter<float>>& ps) {
    for (auto _ : state) {
        opt.step();
        benchmark::DoNotOptimize(ps[0].value.data());
        benchmark::ClobberMemory();
    }
    context(state, cfnet::nn::parameter_count(opt.parameters()));
}

void BM_AdamStep_1M(benchmark::State& state) {
    auto ps = make_params({{1000, 1000}});
    cfnet::optim::Adam<float> opt(list(ps));
    run_steps(state, opt, ps);
}
BENCHMARK(BM_AdamStep_1M)->Unit(benchmark::kMillisecond);

void BM_AdamWStep_1M(benchmark::State& state) {
    auto ps = make_params({{1000, 1000}});
    cfnet::optim::Adam<float> opt(list(ps),
                                  cfnet::optim::AdamOptions().weight_decay(1e-4).decoupled_weight_decay(true));
    run_steps(state, opt, ps);
}
BENCHMARK(BM_AdamWStep_1M)->Unit(benchmark::kMillisecond);

void BM_AdamStep_Autoencoder(benchmark::State& state) {
    auto ps = make_params(autoencoder_shapes());
    cfnet::optim::Adam<float> opt(list(ps));
    run_steps(state, opt, ps);
}
BENCHMARK(BM_AdamStep_Autoencoder)->Unit(benchmark::kMillisecond);

void BM_SGDMomentumStep_1M(benchmark::State& state) {
    auto ps = make_params({{1000, 1000}});
    cfnet::optim::SGD<float> opt(list(ps), cfnet::optim::SGDOptions(0.01).momentum(0.9));
    run_steps(state, opt, ps);
}
BENCHMARK(BM_SGDMomentumStep_1M)->Unit(benchmark::kMillisecond);

// Lazy update of the 32 rows a batch touches in a 1682x64 item embedding (vs 107648 floats dense).
void BM_AdamLazyRows_Embedding(benchmark::State& state) {
    auto ps = make_params({{1682, 64}});
    cfnet::optim::Adam<float> opt(list(ps));
    cfnet::Rng rng(2);
    const auto rows = rng.sample(1682, 32);
    for (auto _ : state) {
        opt.begin_step();
        opt.update_row_list(0, rows);
        benchmark::DoNotOptimize(ps[0].value.data());
        benchmark::ClobberMemory();
    }
    context(state, rows.size() * 64);
}
BENCHMARK(BM_AdamLazyRows_Embedding)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS",
                                std::getenv("OPENBLAS_NUM_THREADS") ? std::getenv("OPENBLAS_NUM_THREADS") : "unset");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
