// What a new model costs (issue 12; docs/concepts.md, section 7): one training epoch of the custom
// denoising item autoencoder of examples/custom_autoencoder.hpp, written by a user from the public
// toolkit, against the built-in AutoencoderCF<float> configured to the same shape, side by side.
//
//   OPENBLAS_NUM_THREADS=1 ./bench_custom_model --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Both: MovieLens 100K, the notebook's per-user holdout (seed 42), item-based rows (1682 items over
// 943 users), 943 -> 64 sigmoid -> 943 linear, input dropout 0.5, batch 32 (53 steps), Adam lr 1e-3,
// exact Adam (every weight updated every step). The custom model is given the built-in model's
// random streams (initial weights, shuffling, dropout masks), so the two do the same arithmetic:
// the counter "loss" (the epoch's mean training loss) must be identical in both rows.
//
// The time of an iteration is the epoch alone (batch building, the 53 steps, the optimizer; not the
// model's construction nor the transpose of the training matrix both do first), in CPU time of the
// thread (see EpochCpuTime), reported as manual time; "epoch_wall_ms" is its wall time.
#include "custom_autoencoder.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace {

constexpr std::uint64_t seed = 42;

const cfnet::RatingMatrix<float>& train() {
    static const cfnet::RatingMatrix<float> m =
        cfnet::per_user_holdout(cfnet::movielens::load<float>(CFNET_ML100K_DIR).ratings, 42).train;
    return m;
}

void context() {
    static const bool added = [] {
        const char* t = std::getenv("OPENBLAS_NUM_THREADS");
        benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", t ? t : "unset");
        return true;
    }();
    (void)added;
}

custom::Options custom_options() {
    custom::Options o;  // hidden 64, sigmoid, input dropout 0.5, batch 32, lr 1e-3
    o.epochs = 1;
    // AutoencoderCF's three streams (weights, shuffling, dropout) for its seed: same arithmetic.
    o.init_seed = cfnet::detail::ae_seed(seed, cfnet::detail::ae_stream_init);
    o.shuffle_seed = cfnet::detail::ae_seed(seed, cfnet::detail::ae_stream_shuffle);
    o.dropout_seed = cfnet::detail::ae_seed(seed, cfnet::detail::ae_stream_dropout);
    return o;
}

cfnet::AutoencoderOptions builtin_options() {
    const custom::Options c = custom_options();
    cfnet::AutoencoderOptions o;
    o.item_based().hidden_sizes({c.hidden}).activation(c.activation).output(cfnet::ActivationKind::identity);
    o.dropout(c.input_dropout, 0.0).batch(c.batch_size).lr(c.learning_rate).n_epochs(1).random_seed(seed);
    return o;
}

// The epoch's CPU time of this thread, measured by a FitLoop callback (both models take callbacks).
// CPU time, not wall time: on this shared 2-vCPU machine the wall time of an 8 ms epoch varies by 2x
// with the neighbours' load; training is single-threaded (no BLAS call in either model's step).
class EpochCpuTime : public cfnet::Callback {
public:
    void on_epoch_begin(int) override { t0_ = now(); }
    bool on_epoch_end(const cfnet::EpochRecord&) override {
        seconds = now() - t0_;
        return false;
    }
    double seconds = 0;

private:
    static double now() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    double t0_ = 0;
};

template <class Fit>
void run(benchmark::State& state, Fit&& fit) {
    context();
    const auto& m = train();
    double loss = 0, wall = 0;
    for (auto _ : state) {
        EpochCpuTime cpu;
        const cfnet::History h = fit(m, cpu);
        state.SetIterationTime(cpu.seconds);
        wall += h[0].seconds;
        loss = h[0].loss;  // a counter, hence observable (DoNotOptimize(loss) garbled it here: g++ 12, benchmark 1.7.1)
    }
    state.counters["loss"] = loss;
    state.counters["epoch_wall_ms"] = 1e3 * wall / static_cast<double>(state.iterations());
}

void BM_custom_epoch(benchmark::State& state) {
    run(state, [](const cfnet::RatingMatrix<float>& m, cfnet::Callback& cb) {
        custom::DenoisingItemAutoencoder<float> model(m.n_users(), custom_options());
        return model.fit(m, {&cb});
    });
}

void BM_builtin_epoch(benchmark::State& state) {
    run(state, [](const cfnet::RatingMatrix<float>& m, cfnet::Callback& cb) {
        cfnet::AutoencoderCF<float> model(builtin_options());
        return model.fit(m, {&cb});
    });
}

// Add --benchmark_enable_random_interleaving=true to interleave the repetitions of the two.
BENCHMARK(BM_custom_epoch)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_builtin_epoch)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
