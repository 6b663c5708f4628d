// EASE (docs/ease.md, docs/benchmarks.md "EASE"). Two modes.
//
// 1. Google Benchmark (the default), side by side in one run, medians with --benchmark_repetitions:
//      OPENBLAS_NUM_THREADS=1 ./bench_ease --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//    - BM_ease_fit: Ease<float>::fit on MovieLens 100K's shape (synthetic::ml100k(), 943 x 1682).
//    - BM_gram/<version>/<threads>: the sparse Gram kernel on MovieLens 1M's shape (6040 x 3706, 1M
//      entries): version 0 = the row-by-row reference, 1 = rows of G (kernels/gram.hpp).
//    - BM_recommend/<batch>: top-10 for every user of the ML-100K shape, one recommend() per user
//      (0) against recommend_batch's blocks of users as one sparse x dense product (1).
//
// 2. The ML-20M-shaped fit (synthetic::ml20m_implicit(), 136677 x 20108, ~10M interactions), on the
//    same CSR file as the scipy peer (benchmarks/compare_ease.sh runs both):
//      ./bench_ease --dump-ml20m FILE                 writes the set (binary CSR, format below)
//      ./bench_ease --fit-csr FILE --threads N [--lambda L]
//    prints one line of key=value: the phases (gram, factor, inverse, weights), fit_seconds (the
//    whole Ease::fit), read_seconds, peak_rss_mib (getrusage, whole process), threads.
//    File format (little-endian): "CFNETCSR", u64 rows, u64 cols, u64 nnz, (rows + 1) u64 row
//    offsets, nnz u32 column indices (strictly increasing per row); every entry is 1.
#include <cfnet/data/synthetic.hpp>
#include <cfnet/ease.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

double cpu_seconds() {  // user + system time of the whole process (all threads)
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double max_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

const cfnet::RatingMatrix<float>& ml100k_shape() {
    static const auto m = cfnet::synthetic::generate<float>(cfnet::synthetic::ml100k());
    return m;
}

void BM_ease_fit(benchmark::State& state) {
    const auto& m = ml100k_shape();
    for (auto _ : state) {
        cfnet::Ease<float> model(cfnet::EaseOptions().l2(400));
        model.fit(m);
        benchmark::DoNotOptimize(model.weights().data());
        state.counters["gram_ms"] = model.timings().gram * 1e3;
        state.counters["factor_ms"] = model.timings().factor * 1e3;
        state.counters["inverse_ms"] = model.timings().inverse * 1e3;
        state.counters["weights_ms"] = model.timings().weights * 1e3;
    }
}
BENCHMARK(BM_ease_fit)->Unit(benchmark::kMillisecond);

void BM_gram(benchmark::State& state) {
    static const auto m = cfnet::synthetic::generate<float>(cfnet::synthetic::ml1m());
    const std::size_t n = m.n_items();
    std::vector<float> g(n * n);
    const bool fast = state.range(0) != 0;
    const int threads = static_cast<int>(state.range(1));
    for (auto _ : state) {
        std::fill(g.begin(), g.end(), 0.f);
        if (fast)
            cfnet::kernels::gram_upper(m.row_ptr().data(), m.item_indices().data(), static_cast<const float*>(nullptr),
                                       m.n_users(), n, g.data(), n, threads);
        else
            cfnet::kernels::ref::gram_upper(m.row_ptr().data(), m.item_indices().data(),
                                            static_cast<const float*>(nullptr), m.n_users(), g.data(), n);
        benchmark::DoNotOptimize(g.data());
    }
    state.counters["nnz"] = static_cast<double>(m.nnz());
}
BENCHMARK(BM_gram)->ArgNames({"fast", "threads"})->Args({0, 1})->Args({1, 1})->Args({1, 2})->Unit(benchmark::kMillisecond);

void BM_recommend(benchmark::State& state) {
    const auto& m = ml100k_shape();
    static const auto model = [&] {
        cfnet::Ease<float> e(cfnet::EaseOptions().l2(400));
        e.fit(m);
        return e;
    }();
    std::vector<cfnet::index_type> users(m.n_users());
    for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<cfnet::index_type>(u);
    const bool batch = state.range(0) != 0;
    for (auto _ : state) {
        std::size_t total = 0;
        if (batch) {
            model.recommend_batch(m, users, 10, [&](cfnet::index_type, const std::vector<cfnet::Recommendation<float>>& r) {
                total += r.size();
            });
        } else {
            for (const auto u : users) total += model.recommend(m, u, 10).size();
        }
        benchmark::DoNotOptimize(total);
    }
    state.counters["users"] = static_cast<double>(users.size());
}
BENCHMARK(BM_recommend)->ArgName("batch")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// --- the ML-20M-shaped fit ---------------------------------------------------------------------

void write_u64(std::ofstream& out, std::uint64_t v) { out.write(reinterpret_cast<const char*>(&v), 8); }

int dump_ml20m(const std::string& path) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto m = cfnet::synthetic::generate<float>(cfnet::synthetic::ml20m_implicit());
    std::ofstream out(path, std::ios::binary);
    out.write("CFNETCSR", 8);
    write_u64(out, m.n_users());
    write_u64(out, m.n_items());
    write_u64(out, m.nnz());
    for (const auto p : m.row_ptr()) write_u64(out, p);
    out.write(reinterpret_cast<const char*>(m.item_indices().data()),
              static_cast<std::streamsize>(m.item_indices().size() * sizeof(cfnet::index_type)));
    if (!out) throw std::runtime_error("cannot write " + path);
    std::printf("wrote %s: %zu users x %zu items, %zu interactions (%.1f s)\n", path.c_str(), m.n_users(), m.n_items(),
                m.nnz(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
}

cfnet::RatingMatrix<float> read_csr(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[8];
    std::uint64_t h[3];
    in.read(magic, 8);
    in.read(reinterpret_cast<char*>(h), sizeof h);
    if (!in || std::memcmp(magic, "CFNETCSR", 8) != 0) throw std::runtime_error(path + ": not a CFNETCSR file");
    std::vector<std::size_t> rp(h[0] + 1);
    std::vector<cfnet::index_type> idx(h[2]);
    in.read(reinterpret_cast<char*>(rp.data()), static_cast<std::streamsize>(rp.size() * 8));
    in.read(reinterpret_cast<char*>(idx.data()), static_cast<std::streamsize>(idx.size() * 4));
    if (!in) throw std::runtime_error(path + ": truncated");
    auto ids = [](std::size_t n, const char* kind) {
        std::vector<cfnet::id_type> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<cfnet::id_type>(i + 1);
        return std::make_shared<cfnet::IdMap>(std::move(v), kind);
    };
    std::vector<float> ones(h[2], 1.f);
    return cfnet::RatingMatrix<float>(ids(h[0], "user"), ids(h[1], "item"), std::move(rp), std::move(idx), std::move(ones));
}

int gram_csr(const std::string& path, int threads, std::size_t dense_min) {
    const auto m = read_csr(path);
    const std::size_t n = m.n_items();
    std::vector<float> g(n * n, 0.f);
    const int saved = cfnet::blas_threads();
    cfnet::set_blas_threads(threads);
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    cfnet::kernels::gram_upper(m.row_ptr().data(), m.item_indices().data(), static_cast<const float*>(nullptr),
                               m.n_users(), n, g.data(), n, threads, dense_min);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_seconds() - c0;
    cfnet::set_blas_threads(saved);
    std::size_t dense = 0;
    for (std::size_t u = 0; u < m.n_users(); ++u) dense += m.user_count(static_cast<cfnet::index_type>(u)) >= dense_min;
    double check = 0;
    for (std::size_t j = 0; j < 1000; ++j) check += g[j * 20109 % g.size()];
    std::printf("gram threads=%d dense_min=%zu dense_rows=%zu seconds=%.2f cpu_seconds=%.2f checksum=%.6g\n", threads,
                dense_min, dense, s, cpu, check);
    return 0;
}

int fit_csr(const std::string& path, int threads, double lambda) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto m = read_csr(path);
    const double read = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rss_data = max_rss_mib();
    cfnet::Ease<float> model(cfnet::EaseOptions().l2(lambda).n_threads(threads));
    const double c1 = cpu_seconds();
    const auto t1 = std::chrono::steady_clock::now();
    model.fit(m);
    const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const double cpu = cpu_seconds() - c1;
    const auto& t = model.timings();
    double check = 0;
    for (std::size_t j = 0; j < 1000; ++j) check += model.weights().data()[j * 20108 % model.weights().size()];
    std::printf("impl=cfnet threads=%d users=%zu items=%zu nnz=%zu lambda=%g read_seconds=%.2f gram=%.2f factor=%.2f "
                "inverse=%.2f weights=%.2f fit_seconds=%.2f fit_cpu_seconds=%.2f peak_rss_mib=%.0f rss_after_read_mib=%.0f "
                "checksum=%.6g\n",
                threads, m.n_users(), m.n_items(), m.nnz(), lambda, read, t.gram, t.factor, t.inverse, t.weights, fit, cpu,
                max_rss_mib(), rss_data, check);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        for (int a = 1; a < argc; ++a) {
            if (std::strcmp(argv[a], "--dump-ml20m") == 0 && a + 1 < argc) return dump_ml20m(argv[a + 1]);
            if (std::strcmp(argv[a], "--gram-csr") == 0 && a + 3 < argc)  // FILE THREADS DENSE_MIN
                return gram_csr(argv[a + 1], std::atoi(argv[a + 2]), std::strtoull(argv[a + 3], nullptr, 10));
            if (std::strcmp(argv[a], "--fit-csr") == 0 && a + 1 < argc) {
                int threads = 1;
                double lambda = 500;
                for (int b = a + 2; b + 1 < argc; b += 2) {
                    if (std::strcmp(argv[b], "--threads") == 0) threads = std::atoi(argv[b + 1]);
                    if (std::strcmp(argv[b], "--lambda") == 0) lambda = std::atof(argv[b + 1]);
                }
                return fit_csr(argv[a + 1], threads, lambda);
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "bench_ease: " << e.what() << "\n";
        return 1;
    }
    const char* t = std::getenv("OPENBLAS_NUM_THREADS");
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", t ? t : "unset");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
