// Resource limits: loading a model file or a rating file, or fitting a model, whose data or weights
// do not fit in the memory the process may use fails early with an error that names what it was
// for and the bytes needed (IoError for files, OutOfMemory for the toolkit's weights and optimizer
// state), not with a bare std::bad_alloc from deep inside. Run in a forked child under RLIMIT_AS
// (address space) set a few MB above what the child already uses. Not under AddressSanitizer,
// which reserves terabytes of address space up front (except the overflow check, which allocates
// nothing).

#include <cfnet/autoencoder.hpp>
#include <cfnet/data/io.hpp>
#include <cfnet/serialize.hpp>

#include "support/files.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CFNET_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CFNET_TEST_ASAN 1
#endif
#endif

namespace {

/// Bytes of address space this process uses now (/proc/self/statm, first field in pages).
std::size_t address_space_now() {
    std::ifstream is("/proc/self/statm");
    std::size_t pages = 0;
    is >> pages;
    return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// In a forked child with `headroom` bytes of address space left: runs f, which must throw an
/// E (IoError by default) containing every fragment. Returns the child's exit code (0 = as expected).
template <class E = cfnet::IoError, class F>
int under_memory_limit(std::size_t headroom, F&& f, const std::vector<std::string>& fragments) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const rlim_t limit = address_space_now() + headroom;
        struct rlimit r = {limit, limit};
        if (::setrlimit(RLIMIT_AS, &r) != 0) ::_exit(10);
        int rc = 0;
        try {
            f();
            rc = 11;  // no error: the limit did not bite
        } catch (const E& e) {
            const std::string msg = e.what();
            for (const auto& frag : fragments)
                if (msg.find(frag) == std::string::npos) {
                    std::fprintf(stderr, "message lacks '%s': %s\n", frag.c_str(), msg.c_str());
                    rc = 12;
                }
        } catch (const std::bad_alloc&) {
            rc = 13;
        } catch (...) {
            rc = 14;
        }
        ::_exit(rc);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

}  // namespace

#ifndef CFNET_TEST_ASAN
TEST_CASE("loading a model file larger than the memory left is an IoError saying how much it needs", "[limits]") {
    const std::string dir = cfnet_test::scratch_dir("limits_model");
    const std::string path = dir + "/big.cfnet";
    cfnet::Matrix<float> big = cfnet::Matrix<float>::from_shape({4096, 4096});  // 64 MB
    big.fill(1.0f);
    cfnet::save_tensors<float>(path, {}, {{"W", &big}});
    // 16 MB of headroom: the 64 MB file cannot even be read
    CHECK(under_memory_limit(16u << 20, [&] { (void)cfnet::read_model_file<float>(path); },
                             {path, "not enough memory", "needs 67108"}) == 0);
    // 96 MB: the file is read, decoding its tensors (another 64 MB) is what fails
    CHECK(under_memory_limit(96u << 20, [&] { (void)cfnet::read_model_file<float>(path); },
                             {path, "not enough memory", "needs about 134217"}) == 0);
    // with enough memory it loads (the test is not just failing everything)
    CHECK(under_memory_limit(
              400u << 20, [&] { cfnet::read_model_file<float>(path); throw cfnet::IoError("loaded fine"); },
              {"loaded fine"}) == 0);
}

TEST_CASE("loading a rating file larger than the memory left is an IoError saying how much it needs", "[limits]") {
    const std::string dir = cfnet_test::scratch_dir("limits_ratings");
    const std::string path = dir + "/ratings.tsv";
    {
        std::ofstream os(path);
        for (int u = 0; u < 2000; ++u)
            for (int i = 0; i < 100; ++i) os << u << '\t' << i << '\t' << (1 + (u + i) % 5) << '\t' << 0 << '\n';
    }  // 200000 ratings, ~2.5 MB of text
    const auto fmt = cfnet::DelimitedFormat().separator("\t").columns(0, 1, 2, 3);
    CHECK(under_memory_limit(4u << 20, [&] { (void)cfnet::load_ratings<float>(path, fmt); },
                             {path, "not enough memory", "200001 lines need about"}) == 0);
    CHECK(under_memory_limit(
              200u << 20, [&] { cfnet::load_ratings<float>(path, fmt); throw cfnet::IoError("loaded fine"); },
              {"loaded fine"}) == 0);
}
TEST_CASE("fitting a model whose weights do not fit in the memory left is OutOfMemory naming them and the bytes",
          "[limits]") {
    // 200,000 items and 5 users: the autoencoder's 200000 x 512 first and last layers need 409.6 MB
    // each (value, then gradient, then Adam's two moments); 100 MB of headroom cannot hold one.
    const auto matrix = [](std::size_t n_items) {
        std::vector<cfnet::id_type> ids(n_items);
        for (std::size_t i = 0; i < n_items; ++i) ids[i] = static_cast<cfnet::id_type>(i);
        std::vector<cfnet::Rating<float>> r;
        for (cfnet::id_type u = 0; u < 5; ++u)
            for (cfnet::id_type k = 0; k < 4; ++k) r.push_back({u, static_cast<cfnet::id_type>((u * 7 + k * 13) % static_cast<cfnet::id_type>(n_items)), 3.0f, 0});
        return cfnet::RatingMatrix<float>::from_ratings(
            r, std::make_shared<cfnet::IdMap>(std::vector<cfnet::id_type>{0, 1, 2, 3, 4}, "user"),
            std::make_shared<cfnet::IdMap>(std::move(ids), "item"));
    };
    const auto options = cfnet::AutoencoderOptions().hidden_sizes({512}).n_epochs(1).random_seed(1);
    const auto big = matrix(200000);
    CHECK(under_memory_limit<cfnet::OutOfMemory>(
              100u << 20, [&] { cfnet::AutoencoderCF<float>(options).fit(big); },
              {"parameter '", "not enough memory for a ", "409600000 bytes"}) == 0);
    // with 2,000 items (4 MB a layer) the same fit runs in the same headroom
    const auto small = matrix(2000);
    CHECK(under_memory_limit<cfnet::OutOfMemory>(
              100u << 20, [&] { cfnet::AutoencoderCF<float>(options).fit(small); throw cfnet::OutOfMemory("fitted fine"); },
              {"fitted fine"}) == 0);
}

#else
TEST_CASE("resource limits: skipped under AddressSanitizer (it reserves the address space RLIMIT_AS limits)",
          "[limits]") {
    SUCCEED("skipped");
}
#endif

TEST_CASE("a matrix whose byte count overflows is OutOfMemory before any allocation", "[limits]") {
    // an OutOfMemory is a std::bad_alloc with its own message: code that catches that still catches it
    try {
        throw cfnet::OutOfMemory("what it was for");
    } catch (const std::bad_alloc& e) {
        CHECK(std::string(e.what()) == "what it was for");
    }
    CHECK_THROWS_AS(cfnet::zeros_for<float>("huge", std::size_t(1) << 40, std::size_t(1) << 30), cfnet::OutOfMemory);
    CHECK_THROWS_WITH(cfnet::zeros_for<double>("huge", std::size_t(1) << 40, std::size_t(1) << 30),
                      Catch::Matchers::Contains("huge: not enough memory for a 1099511627776 x 1073741824 matrix (more than 2^64 bytes)"));
    CHECK(cfnet::zeros_for<float>("ok", 3, 4).size() == 12);
}
