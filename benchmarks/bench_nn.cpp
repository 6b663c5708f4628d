// Benchmarks of the nn layers at the notebook's autoencoder shapes (batch 32,
// 1682 -> 512 -> 256 -> 64 and back): Dense forward/backward through BLAS next to a raw
// cblas_sgemm of the same product, the exact sparse layers (SparseInputDense on a 6% dense input,
// SparseOutputDense at 6% of the output entries, its fused forward_backward_at), the input layer on
// the notebook's own MovieLens 100K training batches (dense next to sparse), and Embedding
// gather/scatter at batch 1024 x 32.
//
// The sparse benchmarks keep the names they had when the sparse paths were Dense's
// (forward_sparse, backward_sparse, forward_at, backward_at) and the third argument, the weight
// layout, now the layout each layer always uses: 0 (in x out) for SparseInputDense, 1 (out x in)
// for SparseOutputDense, so that their rows compare with older runs' rows of the same name.
//
//   OPENBLAS_NUM_THREADS=1 ./bench_nn --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// "GFLOP/s" counts 2 * batch * in * out per pass for every variant (the dense-equivalent work), so
// the sparse paths' figures are effective rates comparable with the dense ones.
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/embedding.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/sparse_output_dense.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr std::size_t batch = 32;

cfnet::Matrix<float> random_matrix(std::size_t r, std::size_t c, cfnet::Rng& rng) {
    cfnet::Matrix<float> m = cfnet::Matrix<float>::from_shape({r, c});
    for (auto& v : m) v = static_cast<float>(rng.uniform(-1, 1));
    return m;
}

cfnet::nn::SparseBatch<float> random_sparse(std::size_t rows, std::size_t cols, double density, cfnet::Rng& rng) {
    cfnet::nn::SparseBatch<float> s(cols);
    std::vector<cfnet::nn::index_type> idx;
    std::vector<float> val;
    for (std::size_t r = 0; r < rows; ++r) {
        idx.clear();
        val.clear();
        for (std::size_t c = 0; c < cols; ++c)
            if (rng.uniform() < density) {
                idx.push_back(static_cast<cfnet::nn::index_type>(c));
                val.push_back(static_cast<float>(1 + rng.below(5)));
            }
        s.add_row(idx, val);
    }
    return s;
}

void set_rate(benchmark::State& state, std::size_t in, std::size_t out) {
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(batch * in * out) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

cfnet::nn::WeightLayout layout_arg(std::int64_t v) {
    return v == 0 ? cfnet::nn::WeightLayout::in_out : cfnet::nn::WeightLayout::out_in;
}

// Args: in, out
void BM_RawSgemm(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    const auto x = random_matrix(batch, in, rng), w = random_matrix(in, out, rng);
    cfnet::Matrix<float> y = cfnet::Matrix<float>::from_shape({batch, out});
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(batch), int(out), int(in), 1.f, x.data(), int(in),
                    w.data(), int(out), 0.f, y.data(), int(out));
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_rate(state, in, out);
}

// Args: in, out, layout (0 in_out, 1 out_in)
void BM_DenseForward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::Dense<float> d(in, out, rng, cfnet::nn::init::glorot_uniform(), true, layout_arg(state.range(2)));
    const auto x = random_matrix(batch, in, rng);
    for (auto _ : state) benchmark::DoNotOptimize(d.forward(x).data());
    set_rate(state, in, out);
}

// backward = input gradient + weight gradient (two products) + bias column sums
void BM_DenseBackward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::Dense<float> d(in, out, rng, cfnet::nn::init::glorot_uniform(), true, layout_arg(state.range(2)));
    const auto x = random_matrix(batch, in, rng), dy = random_matrix(batch, out, rng);
    d.forward(x);
    for (auto _ : state) benchmark::DoNotOptimize(d.backward(dy).data());
    set_rate(state, in, out);
}

// SparseInputDense::forward (was Dense::forward_sparse). Args: in, out, 0 (the layer's in x out layout)
void BM_SparseInputForward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::SparseInputDense<float> d(in, out, rng);
    const auto xs = random_sparse(batch, in, 0.06, rng);
    for (auto _ : state) benchmark::DoNotOptimize(d.forward(xs).data());
    set_rate(state, in, out);
    state.counters["nnz"] = double(xs.nnz());
}

// The CSR x dense kernels side by side at one shape (SparseInputDense's weights). Args: in, out, kernel
// (0 baseline loop, 1 AVX2 clone, 2 AVX-512 register-blocked kernel); skipped where the CPU lacks it.
void BM_SparseInputForwardKernel(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    const auto kernel = state.range(2);
    cfnet::Rng rng(1);
    cfnet::nn::SparseInputDense<float> d(in, out, rng);
    const auto xs = random_sparse(batch, in, 0.06, rng);
    cfnet::Matrix<float> y = cfnet::Matrix<float>::from_shape({batch, out});
    const float* w = d.weight().value.data();
    const auto* rp = xs.row_ptr().data();
    const auto* idx = xs.indices().data();
    const float* val = xs.values().data();
    if ((kernel == 1 && !__builtin_cpu_supports("avx2")) || (kernel == 2 && !__builtin_cpu_supports("avx512f"))) {
        state.SkipWithError("the CPU lacks this kernel's instruction set");
        return;
    }
    for (auto _ : state) {
        std::fill(y.begin(), y.end(), 0.f);
#ifdef CFNET_SIMD_DISPATCH
        if (kernel == 1)
            cfnet::kernels::simd::csr_times_dense_avx2(rp, idx, val, batch, w, out, y.data());
        else if (kernel == 2)
            cfnet::kernels::simd::csr_times_dense_avx512(rp, idx, val, batch, w, out, y.data());
        else
#endif
            cfnet::kernels::ref::csr_times_dense(rp, idx, val, batch, w, out, y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_rate(state, in, out);
}

// The notebook's first layer (1682 -> 512) on its real input: the 30 batches of 32 users of one
// epoch over the notebook split's training ratings (80367 ratings, 5.1% dense), users in a seeded
// shuffled order; each iteration runs the next batch. Arg: 0 dense forward (the batch as a dense
// 32 x 1682 matrix through Dense's gemm), 1 SparseInputDense::forward.
struct NotebookBatches {
    std::vector<cfnet::Matrix<float>> dense;
    std::vector<cfnet::nn::SparseBatch<float>> sparse;
    std::size_t items = 0, nnz = 0, distinct = 0;  // distinct: rows of W touched, summed over batches
};

const NotebookBatches& notebook_batches() {
    static const NotebookBatches nb = [] {
        const std::string dir = CFNET_ML100K_DIR;
        const auto all = cfnet::movielens::load<float>(dir).ratings;
        const auto train = cfnet::split_from_heldout_file(all, dir + "/../notebook-split/test.tsv").train;
        NotebookBatches b;
        b.items = train.n_items();
        std::vector<cfnet::index_type> users(train.n_users());
        for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<cfnet::index_type>(u);
        cfnet::Rng rng(42);
        for (std::size_t k = users.size(); k > 1; --k) std::swap(users[k - 1], users[rng.below(k)]);
        for (std::size_t first = 0; first < users.size(); first += batch) {
            const std::size_t n = std::min(batch, users.size() - first);
            cfnet::nn::SparseBatch<float> s(b.items);
            cfnet::Matrix<float> d = cfnet::Matrix<float>::from_shape({n, b.items});
            std::fill(d.begin(), d.end(), 0.f);
            for (std::size_t r = 0; r < n; ++r) {
                const auto u = users[first + r];
                const auto idx = train.user_items(u);
                const auto val = train.user_ratings(u);
                s.add_row(idx, val);
                for (std::size_t e = 0; e < idx.size(); ++e) d(r, idx[e]) = val[e];
            }
            b.nnz += s.nnz();
            std::vector<bool> seen(b.items, false);
            for (const auto c : s.indices()) seen[c] = true;
            b.distinct += static_cast<std::size_t>(std::count(seen.begin(), seen.end(), true));
            b.sparse.push_back(std::move(s));
            b.dense.push_back(std::move(d));
        }
        return b;
    }();
    return nb;
}

void BM_NotebookInputForward(benchmark::State& state) {
    const auto& nb = notebook_batches();
    const bool sparse = state.range(0) != 0;
    cfnet::Rng rng(1);
    cfnet::Rng rng2(1);
    cfnet::nn::Dense<float> d(nb.items, 512, rng, cfnet::nn::init::glorot_uniform(), true,
                              cfnet::nn::WeightLayout::in_out);
    cfnet::nn::SparseInputDense<float> s(nb.items, 512, rng2);  // the same weights
    std::size_t k = 0;
    for (auto _ : state) {
        if (sparse)
            benchmark::DoNotOptimize(s.forward(nb.sparse[k]).data());
        else
            benchmark::DoNotOptimize(d.forward(nb.dense[k]).data());
        k = k + 1 == nb.sparse.size() ? 0 : k + 1;
    }
    state.counters["batches"] = double(nb.sparse.size());
    state.counters["nnz/batch"] = double(nb.nnz) / double(nb.sparse.size());
    state.counters["rows_touched/batch"] = double(nb.distinct) / double(nb.sparse.size());
}

// SparseInputDense::backward into the grads (was Dense::backward_sparse)
void BM_SparseInputBackward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::SparseInputDense<float> d(in, out, rng);
    const auto xs = random_sparse(batch, in, 0.06, rng);
    const auto dy = random_matrix(batch, out, rng);
    d.forward(xs);
    for (auto _ : state) {
        d.backward(dy);
        benchmark::ClobberMemory();
    }
    set_rate(state, in, out);
}

// SparseOutputDense::forward_at (was Dense::forward_at). Args: in, out, 1 (the layer's out x in layout)
void BM_SparseOutputForward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::SparseOutputDense<float> d(in, out, rng);
    const auto x = random_matrix(batch, in, rng);
    const auto pattern = random_sparse(batch, out, 0.06, rng);
    for (auto _ : state) benchmark::DoNotOptimize(d.forward_at(x, pattern).data());
    set_rate(state, in, out);
    state.counters["entries"] = double(pattern.nnz());
}

// SparseOutputDense::backward_at (was Dense::backward_at)
void BM_SparseOutputBackward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::SparseOutputDense<float> d(in, out, rng);
    const auto x = random_matrix(batch, in, rng);
    const auto pattern = random_sparse(batch, out, 0.06, rng);
    cfnet::Vector<float> de = cfnet::Vector<float>::from_shape({pattern.nnz()});
    for (auto& v : de) v = static_cast<float>(rng.uniform(-1, 1));
    d.forward_at(x, pattern);
    for (auto _ : state) benchmark::DoNotOptimize(d.backward_at(de).data());
    set_rate(state, in, out);
}

// SparseOutputDense::forward_backward_at: outputs, a loss gradient (MaskedMSE's form: scale times
// prediction minus target) and the backward pass in one pass over the output units; the same work
// as BM_SparseOutputForward + BM_SparseOutputBackward.
void BM_SparseOutputForwardBackward(benchmark::State& state) {
    const auto in = std::size_t(state.range(0)), out = std::size_t(state.range(1));
    cfnet::Rng rng(1);
    cfnet::nn::SparseOutputDense<float> d(in, out, rng);
    const auto x = random_matrix(batch, in, rng);
    const auto pattern = random_sparse(batch, out, 0.06, rng);
    std::vector<float> pred(pattern.nnz());
    const float* target = pattern.values().data();
    const float scale = 2.f / static_cast<float>(pattern.nnz());
    auto grad = [&](std::size_t, std::size_t pos, float p) { return scale * (p - target[pos]); };
    for (auto _ : state) benchmark::DoNotOptimize(d.forward_backward_at(x, pattern, grad, pred.data()).data());
    set_rate(state, in, out);
    state.counters["entries"] = double(pattern.nnz());
}

// Args: n, dim, batch
void BM_EmbeddingGather(benchmark::State& state) {
    const auto n = std::size_t(state.range(0)), dim = std::size_t(state.range(1)), b = std::size_t(state.range(2));
    cfnet::Rng rng(1);
    cfnet::nn::Embedding<float> e(n, dim, rng);
    std::vector<cfnet::nn::index_type> idx(b);
    for (auto& i : idx) i = static_cast<cfnet::nn::index_type>(rng.below(n));
    for (auto _ : state) benchmark::DoNotOptimize(e.forward(idx).data());
    state.SetBytesProcessed(std::int64_t(state.iterations() * b * dim * sizeof(float)));
}

void BM_EmbeddingScatter(benchmark::State& state) {
    const auto n = std::size_t(state.range(0)), dim = std::size_t(state.range(1)), b = std::size_t(state.range(2));
    cfnet::Rng rng(1);
    cfnet::nn::Embedding<float> e(n, dim, rng);
    std::vector<cfnet::nn::index_type> idx(b);
    for (auto& i : idx) i = static_cast<cfnet::nn::index_type>(rng.below(n));
    const auto dy = random_matrix(b, dim, rng);
    e.forward(idx);
    for (auto _ : state) {
        e.backward(dy);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations() * b * dim * sizeof(float)));
}

void autoencoder_shapes(benchmark::internal::Benchmark* b) {
    const std::int64_t shapes[][2] = {{1682, 512}, {512, 256}, {256, 64}, {64, 256}, {256, 512}, {512, 1682}};
    for (const auto& s : shapes) b->Args({s[0], s[1], 0});
}
// The first and last layers' shapes, with the layout of the layer: 0 for SparseInputDense, 1 for
// SparseOutputDense (the names of the rows these benchmarks had with Dense's layout argument).
void sparse_input_shapes(benchmark::internal::Benchmark* b) {
    const std::int64_t shapes[][2] = {{1682, 512}, {512, 1682}};
    for (const auto& s : shapes) b->Args({s[0], s[1], 0});
}
void sparse_output_shapes(benchmark::internal::Benchmark* b) {
    const std::int64_t shapes[][2] = {{1682, 512}, {512, 1682}};
    for (const auto& s : shapes) b->Args({s[0], s[1], 1});
}

}  // namespace

BENCHMARK(BM_RawSgemm)->Apply([](benchmark::internal::Benchmark* b) {
    const std::int64_t shapes[][2] = {{1682, 512}, {512, 256}, {256, 64}, {64, 256}, {256, 512}, {512, 1682}};
    for (const auto& s : shapes) b->Args({s[0], s[1]});
});
BENCHMARK(BM_DenseForward)->Apply(autoencoder_shapes)->Args({512, 1682, 1});
BENCHMARK(BM_DenseBackward)->Apply(autoencoder_shapes)->Args({512, 1682, 1});
BENCHMARK(BM_SparseInputForward)->Apply(sparse_input_shapes);
BENCHMARK(BM_SparseInputForwardKernel)->Args({1682, 512, 0})->Args({1682, 512, 1})->Args({1682, 512, 2});
BENCHMARK(BM_NotebookInputForward)->Arg(0)->Arg(1);
BENCHMARK(BM_SparseInputBackward)->Apply(sparse_input_shapes);
BENCHMARK(BM_SparseOutputForward)->Apply(sparse_output_shapes);
BENCHMARK(BM_SparseOutputBackward)->Apply(sparse_output_shapes);
BENCHMARK(BM_SparseOutputForwardBackward)->Apply(sparse_output_shapes);
BENCHMARK(BM_EmbeddingGather)->Args({1682, 32, 1024})->Args({943, 32, 1024});
BENCHMARK(BM_EmbeddingScatter)->Args({1682, 32, 1024})->Args({943, 32, 1024});

int main(int argc, char** argv) {
    const char* env = std::getenv("OPENBLAS_NUM_THREADS");
    const int threads = env ? std::atoi(env) : 1;
    cfnet::set_blas_threads(threads > 0 ? threads : 1);
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", std::to_string(threads > 0 ? threads : 1));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
