// Loading time and peak memory of cfnet's interaction-file loaders, one load per process (so that
// the peak RSS is the load's own). Used by benchmarks/compare_load.sh next to pandas.read_csv.
//
//   load_interactions generate FILE LINES [strings|integers] [SEED]
//       writes a synthetic CSV "user_id,item_id,rating,timestamp" of LINES distinct (user, item)
//       pairs shaped like MovieLens 25M (162,541 users, a prime 59,999 items, half stars, 10-digit
//       timestamps); `strings` ids are "u_<n>" users and UUID-shaped items, `integers` plain numbers.
//   load_interactions load FILE [interactions|delimited]
//       interactions: cfnet::load_interactions (streamed, ids detected);
//       delimited:    cfnet::load_ratings with the ML-25M CSV format (the MovieLens loaders' path;
//                     integer ids only; reads the whole file into memory first).
//       Prints one line: loader=... seconds=... peak_rss_mb=... users=... items=... ratings=...

#include <cfnet/data/interactions.hpp>
#include <cfnet/data/io.hpp>
#include <cfnet/detail/rng.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::uint64_t n_users = 162541, n_items = 59999;  // 59,999 is prime: strides visit distinct items

double peak_rss_mb() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return static_cast<double>(r.ru_maxrss) / 1024.0;  // KiB on Linux
}

/// A UUID-shaped id for item k (deterministic, distinct for distinct k).
void uuid(std::uint64_t k, char* out) {
    std::uint64_t a = k * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull, b = (k + 1) * 0xBF58476D1CE4E5B9ull;
    std::snprintf(out, 40, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64, a >> 32,
                  (a >> 16) & 0xFFFF, a & 0xFFF, (b >> 52) & 0xFFF, k);
}

int generate(const std::string& path, std::uint64_t lines, bool strings, std::uint64_t seed) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::perror(path.c_str());
        return 1;
    }
    cfnet::Rng rng(seed);
    std::vector<char> buf;
    buf.reserve(1 << 22);
    std::fputs("user_id,item_id,rating,timestamp\n", f);
    std::uint64_t written = 0;
    char line[160], item[48];
    for (std::uint64_t u = 0; written < lines && u < n_users; ++u) {
        // a long-tailed count per user (mean ~ lines / n_users), never more than n_items
        // (10% above the mean, so one pass over the users writes every line: no pair repeats)
        const double x = rng.uniform();
        std::uint64_t c = static_cast<std::uint64_t>(3.3 * static_cast<double>(lines) / n_users * x * x) + 1;
        c = std::min<std::uint64_t>({c, n_items, lines - written});
        const std::uint64_t start = rng.below(n_items), step = 1 + rng.below(n_items - 1);
        for (std::uint64_t j = 0; j < c; ++j) {
            const std::uint64_t it = (start + j * step) % n_items;
            const unsigned half = 1 + static_cast<unsigned>(rng.below(10));  // 0.5 .. 5.0
            const std::uint64_t ts = 1000000000ull + rng.below(600000000ull);
            int n;
            if (strings) {
                uuid(it, item);
                n = std::snprintf(line, sizeof line, "u_%" PRIu64 ",%s,%u.%u,%" PRIu64 "\n", u + 1, item, half / 2,
                                  half % 2 ? 5u : 0u, ts);
            } else {
                n = std::snprintf(line, sizeof line, "%" PRIu64 ",%" PRIu64 ",%u.%u,%" PRIu64 "\n", u + 1, it + 1, half / 2,
                                  half % 2 ? 5u : 0u, ts);
            }
            buf.insert(buf.end(), line, line + n);
            if (buf.size() > (1u << 22) - 200) {
                std::fwrite(buf.data(), 1, buf.size(), f);
                buf.clear();
            }
        }
        written += c;
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    return std::fclose(f) == 0 ? 0 : 1;
}

int load(const std::string& path, const std::string& loader) {
    const auto t0 = std::chrono::steady_clock::now();
    cfnet::RatingMatrix<float> m;
    if (loader == "interactions") {
        m = cfnet::load_interactions<float>(path, cfnet::InteractionFileOptions().timestamp(3));
    } else if (loader == "delimited") {
        m = cfnet::load_ratings<float>(
            path, cfnet::DelimitedFormat().separator(",").quote('"').header(true).columns(0, 1, 2, 3).fields(4).rating_range(0.5, 5));
    } else {
        std::fprintf(stderr, "unknown loader '%s'\n", loader.c_str());
        return 2;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("loader=%s seconds=%.3f peak_rss_mb=%.0f users=%zu items=%zu ratings=%zu named_ids=%d\n", loader.c_str(), s,
                peak_rss_mb(), m.n_users(), m.n_items(), m.nnz(), m.users().has_names() ? 1 : 0);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc >= 4 && std::strcmp(argv[1], "generate") == 0)
            return generate(argv[2], std::strtoull(argv[3], nullptr, 10), argc < 5 || std::strcmp(argv[4], "integers") != 0,
                            argc >= 6 ? std::strtoull(argv[5], nullptr, 10) : 42);
        if (argc >= 3 && std::strcmp(argv[1], "load") == 0) return load(argv[2], argc >= 4 ? argv[3] : "interactions");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "load_interactions: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr,
                 "usage: load_interactions generate FILE LINES [strings|integers] [SEED]\n"
                 "       load_interactions load FILE [interactions|delimited]\n");
    return 2;
}
