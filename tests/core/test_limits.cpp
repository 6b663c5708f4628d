// Resource limits: loading a model file or a rating file that does not fit in the memory the
// process may use fails early with an IoError that names the file and the bytes needed, not with
// std::bad_alloc from deep inside. Run in a forked child under RLIMIT_AS (address space) set a few
// MB above what the child already uses. Not under AddressSanitizer, which reserves terabytes of
// address space up front.

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
/// IoError containing every fragment. Returns the child's exit code (0 = as expected).
template <class F>
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
        } catch (const cfnet::IoError& e) {
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
#else
TEST_CASE("resource limits: skipped under AddressSanitizer (it reserves the address space RLIMIT_AS limits)",
          "[limits]") {
    SUCCEED("skipped");
}
#endif
