// Benchmarks of top-N selection and the streaming evaluators.
//   BM_top_k/<n>               detail::top_k_into (bounded heap, reused output) over n scores, k = 10
//   BM_top_k_excluding/<n>     the same with 5% of the indices excluded (a user's training items)
//   BM_top_k_nth_element/<n>   the alternative: nth_element + sort over a candidate index array
//   BM_evaluate_ranking_most_popular   evaluate_ranking over ML-100K (notebook split), k = 10
//   BM_evaluate_rating_bias            evaluate_rating of BiasBaseline over the 19633 held-out pairs
//   BM_bias_baseline_fit               BiasBaseline::fit on the 80367 training ratings (10 sweeps)
// Run: OPENBLAS_NUM_THREADS=1 ./bench_metrics

#include <cfnet/baselines.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/metrics.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using cfnet::index_type;

namespace {

std::vector<float> random_scores(std::size_t n, std::uint64_t seed) {
    cfnet::Rng rng(seed);
    std::vector<float> s(n);
    for (auto& x : s) x = static_cast<float>(rng.normal());
    return s;
}

void BM_top_k(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto s = random_scores(n, 1);
    std::vector<index_type> out;
    for (auto _ : state) {
        cfnet::detail::top_k_into<float, index_type>(s.data(), n, 10, nullptr, nullptr, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_top_k)->Arg(1682)->Arg(60000);

void BM_top_k_excluding(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto s = random_scores(n, 2);
    std::vector<index_type> ex;
    for (index_type i = 3; i < n; i += 20) ex.push_back(i);
    std::vector<index_type> out;
    for (auto _ : state) {
        cfnet::detail::top_k_into(s.data(), n, 10, ex.data(), ex.data() + ex.size(), out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_top_k_excluding)->Arg(1682)->Arg(60000);

// The alternative selection strategy, kept here as the comparison that chose the heap.
void BM_top_k_nth_element(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto s = random_scores(n, 1);
    const std::size_t k = 10;
    std::vector<index_type> cand(n);
    auto before = [&](index_type a, index_type b) { return s[a] > s[b] || (s[a] == s[b] && a < b); };
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) cand[i] = static_cast<index_type>(i);
        std::nth_element(cand.begin(), cand.begin() + k, cand.end(), before);
        std::sort(cand.begin(), cand.begin() + k, before);
        benchmark::DoNotOptimize(cand.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_top_k_nth_element)->Arg(1682)->Arg(60000);

// --- ML-100K on the notebook's split -------------------------------------------------------------

using Ratings = std::vector<cfnet::Rating<float>>;

bool read_ratings(const std::string& path, bool with_ts, Ratings& out) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        cfnet::Rating<float> r;
        if (!(ss >> r.user >> r.item >> r.value) || (with_ts && !(ss >> r.timestamp))) return false;
        out.push_back(r);
    }
    return !out.empty();
}

const cfnet::Split<float>* notebook_split() {
    static const auto split = []() -> std::unique_ptr<cfnet::Split<float>> {
        const std::string dir = std::getenv("CFNET_ML100K_DIR") ? std::getenv("CFNET_ML100K_DIR") : CFNET_ML100K_DIR;
        Ratings all, held, train;
        if (!read_ratings(dir + "/u.data", true, all) || !read_ratings(dir + "/../notebook-split/test.tsv", false, held))
            return nullptr;
        std::vector<std::pair<cfnet::id_type, cfnet::id_type>> pairs;
        for (const auto& r : held) pairs.emplace_back(r.user, r.item);
        std::sort(pairs.begin(), pairs.end());
        for (const auto& r : all)
            if (!std::binary_search(pairs.begin(), pairs.end(), std::make_pair(r.user, r.item))) train.push_back(r);
        const auto full = cfnet::RatingMatrix<float>::from_ratings(all);
        return std::make_unique<cfnet::Split<float>>(
            cfnet::Split<float>{cfnet::RatingMatrix<float>::from_ratings(train, full.user_map(), full.item_map()),
                                cfnet::RatingMatrix<float>::from_ratings(held, full.user_map(), full.item_map())});
    }();
    return split.get();
}

void BM_evaluate_ranking_most_popular(benchmark::State& state) {
    const auto* split = notebook_split();
    if (!split) {
        state.SkipWithError("MovieLens 100K or the notebook split not found (set CFNET_ML100K_DIR)");
        return;
    }
    cfnet::MostPopular<float> pop;
    pop.fit(split->train);
    const auto opts = cfnet::RankingOptions().threshold(4.0);
    double p = 0;
    for (auto _ : state) {
        const auto r = cfnet::evaluate_ranking(split->train, split->test, 10,
                                               [&](index_type u, float* s) { pop.score_items(u, s); }, opts);
        p = r.precision;
        benchmark::DoNotOptimize(p);
    }
    state.counters["precision@10"] = p;
    state.counters["users"] = 929;
}
BENCHMARK(BM_evaluate_ranking_most_popular)->Unit(benchmark::kMillisecond);

void BM_evaluate_rating_bias(benchmark::State& state) {
    const auto* split = notebook_split();
    if (!split) {
        state.SkipWithError("MovieLens 100K or the notebook split not found (set CFNET_ML100K_DIR)");
        return;
    }
    cfnet::BiasBaseline<float> bias;
    bias.fit(split->train);
    double rmse = 0;
    for (auto _ : state) {
        const auto r = cfnet::evaluate_rating(split->test, [&](index_type u, index_type i) { return bias.predict(u, i); });
        rmse = r.rmse;
        benchmark::DoNotOptimize(rmse);
    }
    state.counters["rmse"] = rmse;
}
BENCHMARK(BM_evaluate_rating_bias)->Unit(benchmark::kMicrosecond);

void BM_bias_baseline_fit(benchmark::State& state) {
    const auto* split = notebook_split();
    if (!split) {
        state.SkipWithError("MovieLens 100K or the notebook split not found (set CFNET_ML100K_DIR)");
        return;
    }
    for (auto _ : state) {
        cfnet::BiasBaseline<float> bias;
        bias.fit(split->train);
        benchmark::DoNotOptimize(bias.item_biases().data());
    }
}
BENCHMARK(BM_bias_baseline_fit)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
    benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", threads ? threads : "unset");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
