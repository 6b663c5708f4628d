// Parsing MovieLens 100K: u.data into a RatingMatrix (read + parse + CSR build), u.data parsing
// alone, and u.item (Latin-1 -> UTF-8, genres). The data directory is $CFNET_ML100K_DIR, or the
// CFNET_ML100K_DIR compile definition set by CMake.
#include <cfnet/data/io.hpp>
#include <cfnet/data/movielens.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <string>

namespace {

std::string data_dir() {
    if (const char* env = std::getenv("CFNET_ML100K_DIR"); env && *env) return env;
#ifdef CFNET_ML100K_DIR
    return CFNET_ML100K_DIR;
#else
    return {};
#endif
}

void BM_load_u_data_matrix(benchmark::State& state) {
    const std::string path = data_dir() + "/u.data";
    const auto fmt = cfnet::movielens::format_100k();
    for (auto _ : state) {
        auto m = cfnet::load_ratings<float>(path, fmt);
        benchmark::DoNotOptimize(m.values().data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1979173);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 100000);
}
BENCHMARK(BM_load_u_data_matrix)->Unit(benchmark::kMillisecond);

void BM_parse_u_data(benchmark::State& state) {
    const std::string text = cfnet::detail::read_file(data_dir() + "/u.data");
    const auto fmt = cfnet::movielens::format_100k();
    for (auto _ : state) {
        auto r = cfnet::parse_ratings<float>(text, fmt, "u.data");
        benchmark::DoNotOptimize(r.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_parse_u_data)->Unit(benchmark::kMillisecond);

void BM_load_u_item(benchmark::State& state) {
    const std::string dir = data_dir();
    for (auto _ : state) {
        auto items = cfnet::movielens::load_items_100k(dir);
        benchmark::DoNotOptimize(items.items().data());
    }
}
BENCHMARK(BM_load_u_item)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = data_dir();
    if (!cfnet::detail::file_readable(dir + "/u.data")) {
        std::cerr << "bench_data: MovieLens 100K not found in '" << dir
                  << "'; set CFNET_ML100K_DIR or configure with -DCFNET_ML100K_DIR=...\n";
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("ml100k_dir", dir);
    const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", threads ? threads : "unset");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
