// AutoencoderCF's middle-layer kernels in isolation (docs/benchmarks.md, "AutoencoderCF", round 6).
//
//   OPENBLAS_NUM_THREADS=1 ./bench_autoencoder_kernels [--benchmark_filter=...]
//
// BM_ae_middle/<kernel>/<evict>: one training step's worth of one kernel over the notebook's four
//   middle layers (512 -> 256 -> 64 -> 256 -> 512, batch 32): kernel 0 = the fused Dense + bias +
//   ReLU forward tiles, 1 = dz W^T (kernels::dense_input_grad), 2 = the weight gradient a^T dz with
//   Adam's update (kernels::dense_grad_adam). evict = 1: a 24 MB read-modify-write stream before each
//   step (not timed) evicts the layers' weights and moments from L2, as the sparse first and last
//   layers' updates do in a real step; evict = 0: everything stays warm. Counter GFMA: the kernel's
//   billions of multiply-adds per second. Times are per step: x 600 for the notebook's 20 epochs.
// BM_ae_adam_stream/<evict>: the floor under Adam: a read-modify-write of three float arrays of the
//   middle layers' size (295k parameters, like p, m, v); counter GB: 24 bytes per parameter.
#include <cfnet/kernels/dense.hpp>
#include <cfnet/detail/rng.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <vector>

namespace {

constexpr std::size_t batch = 32;
constexpr std::array<std::size_t, 5> widths{512, 256, 64, 256, 512};

std::vector<float> uniform(std::size_t n, cfnet::Rng& rng) {
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(rng.uniform(-0.1, 0.1));
    return v;
}

// Touches 24 MB (more than L2, as a step's first/last-layer Adam traffic), outside the timing.
void evict(benchmark::State& state, std::vector<float>& junk) {
    state.PauseTiming();
    float acc = 0;
    for (std::size_t i = 0; i < junk.size(); i += 16) {
        acc += junk[i];
        junk[i] = acc;
    }
    benchmark::DoNotOptimize(acc);
    state.ResumeTiming();
}

struct Layer {
    std::size_t in, out;
    std::vector<float> W, m, v, b, a, dz, y, c;
};

void BM_ae_middle(benchmark::State& state) {
    const int kernel = static_cast<int>(state.range(0));
    const bool evicting = state.range(1) != 0;
    if (!cfnet::kernels::avx512_tiles<float>(16)) {
        state.SkipWithError("no AVX-512 on this CPU: the kernels measured here are not used");
        return;
    }
    cfnet::Rng rng(1);
    std::vector<Layer> layers;
    double fma = 0;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
        const std::size_t in = widths[l], out = widths[l + 1];
        layers.push_back({in, out, uniform(in * out, rng), std::vector<float>(in * out), std::vector<float>(in * out),
                          uniform(out, rng), uniform(batch * in, rng), uniform(batch * out, rng),
                          std::vector<float>(batch * out), std::vector<float>(batch * in)});
        fma += static_cast<double>(batch * in * out);
    }
    std::vector<float> scratch(cfnet::kernels::dense_input_grad_scratch(batch, 512, 512));
    std::vector<float> grad(512), junk(std::size_t{24} << 18, 1.f);
    cfnet::kernels::AdamStepConstants<float> ac;
    ac.lr_t = 1e-3f;
    ac.c1 = 0.1f;
    ac.c2 = 0.001f;
    ac.eps = 1e-7f;
    for (auto _ : state) {
        if (evicting) evict(state, junk);
        for (auto& L : layers) {
            if (kernel == 0)
                cfnet::kernels::dense_bias_relu(L.a.data(), batch, L.in, L.W.data(), L.out, L.b.data(), L.y.data());
            else if (kernel == 1)
                cfnet::kernels::dense_input_grad(L.dz.data(), batch, L.out, L.W.data(), L.in, L.c.data(), scratch.data());
            else
                cfnet::kernels::dense_grad_adam(L.a.data(), batch, L.in, L.dz.data(), L.out, L.W.data(), L.m.data(),
                                                L.v.data(), ac, grad.data());
        }
        benchmark::ClobberMemory();
    }
    state.counters["GFMA"] = benchmark::Counter(fma * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ae_middle)->ArgsProduct({{0, 1, 2}, {1, 0}})->ArgNames({"kernel", "evict"})->Unit(benchmark::kMicrosecond);

void BM_ae_adam_stream(benchmark::State& state) {
    const bool evicting = state.range(0) != 0;
    std::size_t n = 0;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) n += widths[l] * widths[l + 1];
    std::vector<float> p(n, 0.5f), m(n, 0.25f), v(n, 0.125f), junk(std::size_t{24} << 18, 1.f);
    const float c = 0.999f;
    for (auto _ : state) {
        if (evicting) evict(state, junk);
        for (std::size_t i = 0; i < n; ++i) {  // vectorised by the compiler: three streams, read and written
            p[i] *= c;
            m[i] *= c;
            v[i] *= c;
        }
        benchmark::ClobberMemory();
    }
    state.counters["GB"] = benchmark::Counter(24.0 * static_cast<double>(n) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ae_adam_stream)->Arg(1)->Arg(0)->ArgNames({"evict"})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
