// MultVAE (Mult-VAE / Mult-DAE) benchmarks, single thread:
//
//   BM_mult_vae_epoch/<shape>/<variational>   one training epoch (batch 500): shape 0 = MovieLens 100K
//       (its implicit interactions when $CFNET_ML100K_DIR / the build's data path has u.data, else the
//       synthetic ML-100K shape), 1 = an ML-20M-shaped implicit synthetic set (136,677 users x 20,108
//       items, 10M interactions; building it takes ~1 min). Counters: epoch seconds (wall, and the
//       process's CPU time), peak RSS (MiB;
//       getrusage: run one shape per process with --benchmark_filter to attribute it).
//   BM_mult_vae_phase/<phase>   the parts of one ML-100K-shaped step (500 users x 1682 items), to see
//       where the time goes: 0 input layer forward+backward (sparse), 1 middle layers, 2 output layer
//       forward (sgemm 500x600x1682), 3 the loss (log-softmax + gradient), 4 output layer backward.
//
// A second mode trains and evaluates on the Microsoft Recommenders protocol (the compare script and
// docs/mult_vae.md use it): 75/25 stratified split by user of ML-100K's interactions, k = 10:
//
//   bench_mult_vae --protocol DATA_DIR [--mode vae|dae] [--seed S] [--epochs N] [--batch B]
//       [--anneal STEPS CAP] [--hidden W1,W2|none] [--validate FRACTION] [--write-test FILE] [--json FILE]
//
// prints the training time (the fit call) and P/R/NDCG/MAP@10 on the test part; --write-test writes
// the test pairs ("user item rating" lines, original ids) for the PyTorch peer.
#include <cfnet/data/implicit.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::string ml100k_dir() {
    const char* env = std::getenv("CFNET_ML100K_DIR");
    return env && *env ? env : CFNET_ML100K_DIR;
}

const cfnet::RatingMatrix<float>& data(int shape) {
    static std::optional<cfnet::RatingMatrix<float>> m[2];
    if (!m[shape]) {
        if (shape == 0) {
            const std::string dir = ml100k_dir();
            std::ifstream probe(dir + "/u.data");
            m[0] = cfnet::to_implicit(probe ? cfnet::movielens::load<float>(dir).ratings
                                            : cfnet::synthetic::generate<float>(cfnet::synthetic::ml100k()),
                                      cfnet::Binarize::all());
        } else {
            cfnet::synthetic::SyntheticOptions o;  // ML-20M after the protocol's preprocessing
            o.n_users = 136677;
            o.n_items = 20108;
            o.n_ratings = 10000000;
            o.min_ratings_per_user = 5;
            o.timestamps = false;
            o.seed = 7;
            m[1] = cfnet::to_implicit(cfnet::synthetic::generate<float>(o), cfnet::Binarize::all());
        }
    }
    return *m[shape];
}

void context() {
    static bool added = false;
    if (added) return;
    added = true;
    const char* t = std::getenv("OPENBLAS_NUM_THREADS");
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", t ? t : "(unset)");
}

void BM_mult_vae_epoch(benchmark::State& state) {
    context();
    const auto& d = data(static_cast<int>(state.range(0)));
    auto o = state.range(1) ? cfnet::MultVAEOptions::vae() : cfnet::MultVAEOptions::dae();
    o.epochs = 1;
    double seconds = 0, cpu = 0;
    for (auto _ : state) {
        cfnet::MultVAE<float> m(o);
        const double c0 = cpu_seconds();
        const auto h = m.fit(d);
        cpu = cpu_seconds() - c0;
        seconds = h[0].seconds;
        benchmark::DoNotOptimize(h[0].loss);
        state.SetIterationTime(seconds);
    }
    state.counters["epoch_s"] = seconds;
    state.counters["epoch_cpu_s"] = cpu;  // the process's CPU time of the fit (the wall time suffers on a loaded machine)
    state.counters["users"] = static_cast<double>(d.n_users());
    state.counters["items"] = static_cast<double>(d.n_items());
    state.counters["nnz"] = static_cast<double>(d.nnz());
    state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_mult_vae_epoch)
    ->Args({0, 1})
    ->Args({0, 0})
    ->Args({1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_mult_vae_phase(benchmark::State& state) {
    context();
    const auto& d = data(0);
    const std::size_t B = 500, I = d.n_items();
    cfnet::Rng rng(1);
    cfnet::nn::SparseBatch<float> x(I);
    for (std::size_t u = 0; u < B; ++u) {
        const auto r = static_cast<cfnet::index_type>(u % d.n_users());
        x.add_row(d.user_items(r), d.user_ratings(r));
    }
    const auto tanh = cfnet::nn::ActivationKind::tanh;
    cfnet::nn::SparseInputDense<float> in(I, 600, rng, cfnet::nn::init::glorot_uniform(), tanh);
    cfnet::nn::Dense<float> enc(600, 400, rng), dec(200, 600, rng, cfnet::nn::init::glorot_uniform(), true,
                                                    cfnet::nn::WeightLayout::in_out, tanh),
        out(600, I, rng);
    cfnet::nn::MultinomialLogLikelihood<float> loss;
    const cfnet::Matrix<float> h0 = in.forward(x);
    cfnet::Matrix<float> z = cfnet::Matrix<float>::from_shape({B, std::size_t(200)});
    for (auto& v : z) v = static_cast<float>(rng.uniform(-1, 1));
    const cfnet::Matrix<float> h3 = dec.forward(z);
    cfnet::Matrix<float> logits = out.forward(h3), g;
    loss.value_and_gradient(logits, x, g);
    const int phase = static_cast<int>(state.range(0));
    for (auto _ : state) {
        switch (phase) {
            case 0: in.forward(x); in.backward(h0); break;
            case 1: {
                const auto& e = enc.forward(h0);
                enc.backward(e);
                const auto& y = dec.forward(z);
                dec.backward(y);
                break;
            }
            case 2: benchmark::DoNotOptimize(out.forward(h3).data()); break;
            case 3: benchmark::DoNotOptimize(loss.value_and_gradient(logits, x, g)); break;
            default: benchmark::DoNotOptimize(out.backward(g).data()); break;
        }
    }
}
BENCHMARK(BM_mult_vae_phase)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

// --- the protocol mode -----------------------------------------------------------------------------

int protocol(int argc, char** argv) {
    std::string dir, mode = "vae", write_test, json;
    std::uint64_t seed = 42;
    std::optional<int> epochs;
    std::optional<std::size_t> batch, anneal_steps;
    std::optional<double> anneal_cap, validate;
    std::optional<std::vector<std::size_t>> hidden;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw cfnet::InvalidArgument("bench_mult_vae: " + a + " needs a value");
            return argv[++i];
        };
        if (a == "--protocol") dir = next();
        else if (a == "--mode") mode = next();
        else if (a == "--seed") seed = std::stoull(next());
        else if (a == "--epochs") epochs = std::stoi(next());
        else if (a == "--batch") batch = std::stoul(next());
        else if (a == "--anneal") { anneal_steps = std::stoul(next()); anneal_cap = std::stod(next()); }
        else if (a == "--validate") validate = std::stod(next());
        else if (a == "--hidden") {  // comma-separated widths, or "none" (I -> latent -> I)
            const std::string v = next();
            hidden.emplace();
            if (v != "none")
                for (std::size_t p = 0; p < v.size();) {
                    const std::size_t q = std::min(v.find(',', p), v.size());
                    hidden->push_back(std::stoul(v.substr(p, q - p)));
                    p = q + 1;
                }
        }
        else if (a == "--write-test") write_test = next();
        else if (a == "--json") json = next();
        else throw cfnet::InvalidArgument("bench_mult_vae: unknown option " + a);
    }
    if (mode != "vae" && mode != "dae") throw cfnet::InvalidArgument("bench_mult_vae: --mode is vae or dae, not " + mode);
    auto o = mode == "vae" ? cfnet::MultVAEOptions::vae() : cfnet::MultVAEOptions::dae();
    if (epochs) o.epochs = *epochs;
    if (batch) o.batch_size = *batch;
    if (mode == "dae" && batch) o.weight_decay = 0.01 / static_cast<double>(*batch);  // the paper's lam
    if (anneal_steps) o.anneal(*anneal_steps, *anneal_cap);
    if (validate) o.select_epoch(*validate, 10);
    if (hidden) o.hidden = *hidden;
    o.seed = seed;
    const auto all = cfnet::to_implicit(cfnet::movielens::load<float>(dir).ratings, cfnet::Binarize::all());
    const auto split = cfnet::stratified_split(all, 0.25, seed, cfnet::By::user);
    if (!write_test.empty()) {
        std::ofstream f(write_test);
        for (std::size_t u = 0; u < split.test.n_users(); ++u)
            for (const auto i : split.test.user_items(static_cast<cfnet::index_type>(u)))
                f << split.test.users().ids()[u] << ' ' << split.test.items().ids()[i] << " 1\n";
        if (!f) throw cfnet::IoError("bench_mult_vae: cannot write " + write_test);
    }
    cfnet::MultVAE<float> m(o);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    const auto h = m.fit(split.train);
    const double cpu = cpu_seconds() - c0;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto r = cfnet::evaluate_ranking(split.train, split.test, 10, m.make_scorer(split.train));
    std::printf("%s seed %llu: %d epochs (best %d), train %.3f s (CPU %.3f s); P@10 %.4f R@10 %.4f NDCG@10 %.4f MAP@10 %.4f "
                "(%zu users)\n",
                mode == "vae" ? "Mult-VAE" : "Mult-DAE", static_cast<unsigned long long>(seed), o.epochs, h.best_epoch,
                secs, cpu, r.precision, r.recall, r.ndcg, r.map, r.users_evaluated);
    if (!json.empty()) {
        std::ofstream f(json);
        f << "{\"model\": \"" << (mode == "vae" ? "Mult-VAE" : "Mult-DAE") << "\", \"train_seconds\": " << secs
          << ", \"train_cpu_seconds\": " << cpu
          << ", \"epochs\": " << o.epochs << ", \"best_epoch\": " << h.best_epoch << ", \"final_loss\": "
          << h.epochs.back().loss << ", \"precision_at_10\": " << r.precision << ", \"recall_at_10\": " << r.recall
          << ", \"ndcg_at_10\": " << r.ndcg << ", \"map_at_10\": " << r.map << "}\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--protocol") == 0) return protocol(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
