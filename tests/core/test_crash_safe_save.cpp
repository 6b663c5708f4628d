// Crash safety of model files (serialize.hpp, detail/model_file_bytes.hpp: temporary file, fsync,
// rename). A forked child saves a ~4 MB model over a previous one and is killed:
//  - at every one of many byte offsets of the write (RLIMIT_FSIZE with SIGXFSZ's default action
//    terminates the writer exactly when the temporary file reaches that size),
//  - with SIGKILL after random delays spread over the whole save (fsync and rename included).
// After every kill the path holds the previous complete file or the new complete one (loadable,
// every value of one generation), and the next save succeeds and leaves no temporary file.
// A disk that fills up (RLIMIT_FSIZE with SIGXFSZ ignored: write fails with EFBIG) gives an
// IoError, removes the temporary file and leaves the previous file intact.

#include <cfnet/serialize.hpp>

#include "support/files.hpp"

#include <catch2/catch.hpp>

#include <cfnet/detail/rng.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using cfnet::Matrix;

namespace {

constexpr std::size_t rows = 1024, cols = 512;  // two tensors of 2 MB each

/// Saves generation `g`: every value of both tensors is g, metadata "generation" = g.
void save_generation(const std::string& path, int g) {
    Matrix<float> a = Matrix<float>::from_shape({rows, cols}), b = Matrix<float>::from_shape({cols, rows});
    a.fill(static_cast<float>(g));
    b.fill(static_cast<float>(g));
    cfnet::save_tensors<float>(path, {{"model", "crash-test"}, {"generation", std::to_string(g)}},
                               {{"a", &a}, {"b", &b}});
}

/// The generation `path` holds, after checking that it loads and is entirely of that generation
/// (never a mix, never torn). 0 if the file does not exist.
int generation_of(const std::string& path) {
    if (!fs::exists(path)) return 0;
    const auto f = cfnet::read_model_file<float>(path);  // throws on a torn or corrupted file
    const int g = std::stoi(f.metadata.at("generation"));
    REQUIRE(f.tensors.size() == 2);
    std::size_t wrong = 0;
    for (const auto& [name, m] : f.tensors)
        for (const float v : m) wrong += v != static_cast<float>(g);
    REQUIRE(wrong == 0);
    return g;
}

/// Forks a child that runs `child` then _exits with its return value; returns the wait status.
template <class F>
int in_child(F&& child) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int rc = 1;
        try {
            rc = child();
        } catch (...) {
            rc = 3;
        }
        ::_exit(rc);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return status;
}

void limit_file_size(rlim_t bytes) {
    struct rlimit core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &core);  // a SIGXFSZ kill must not write a core file
    struct rlimit fs_limit = {bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &fs_limit);
}

}  // namespace

TEST_CASE("a writer killed at any byte of the save leaves the previous or the new file, loadable", "[serialize][crash]") {
    const std::string dir = cfnet_test::scratch_dir("crash_bytes");
    const std::string path = dir + "/model.cfnet";
    save_generation(path, 1);
    const auto size = fs::file_size(path);
    REQUIRE(size > 4'000'000);
    // Kill points: the first bytes, around the header and metadata, spread over the tensors, the
    // last bytes before the checksum and the checksum itself.
    std::vector<rlim_t> points = {1, 8, 23, 24, 40, 100, 4096, 65536, size - 5, size - 4, size - 1};
    for (int k = 1; k < 20; ++k) points.push_back(size * static_cast<std::uintmax_t>(k) / 20);
    int kills = 0;
    for (const rlim_t at : points) {
        INFO("killed when the temporary file reached " << at << " of " << size << " bytes");
        const int status = in_child([&] {
            limit_file_size(at);  // SIGXFSZ (default action) terminates the process at this size
            save_generation(path, 2);
            return 0;
        });
        REQUIRE(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGXFSZ);
        ++kills;
        CHECK(generation_of(path) == 1);  // the rename never happened: the previous file, complete
    }
    // A leftover temporary file does not trip the next save, which removes it.
    CHECK(fs::exists(path + ".tmp"));
    save_generation(path, 3);
    CHECK(generation_of(path) == 3);
    CHECK_FALSE(fs::exists(path + ".tmp"));
    CHECK(kills == static_cast<int>(points.size()));
}

TEST_CASE("a writer SIGKILLed at random times during the save leaves a complete file", "[serialize][crash]") {
    const std::string dir = cfnet_test::scratch_dir("crash_kill");
    const std::string path = dir + "/model.cfnet";
    save_generation(path, 1);
    // How long a save takes here, to spread the kill times over it (and a little past it).
    const auto t0 = std::chrono::steady_clock::now();
    save_generation(path, 1);
    const auto save_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    cfnet::Rng rng(17);
    int old_file = 0, new_file = 0;
    const int n = 30;
    for (int k = 0; k < n; ++k) {
        const auto delay = static_cast<long>(rng.below(static_cast<std::uint64_t>(save_us) * 3 / 2 + 1));
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            try {
                save_generation(path, 2);
            } catch (...) {
                ::_exit(3);
            }
            ::_exit(0);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay));
        ::kill(pid, SIGKILL);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        INFO("kill " << k << " after " << delay << " us (a save takes about " << save_us << " us)");
        CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
        const int g = generation_of(path);
        REQUIRE((g == 1 || g == 2));
        (g == 1 ? old_file : new_file)++;
        if (g == 2) save_generation(path, 1);
    }
    save_generation(path, 4);
    CHECK(generation_of(path) == 4);
    CHECK_FALSE(fs::exists(path + ".tmp"));
    INFO(old_file << " kills left the previous file, " << new_file << " the new one");
    CHECK(old_file + new_file == n);
}

TEST_CASE("a full disk during the save is an IoError and the previous file stays intact", "[serialize][crash]") {
    const std::string dir = cfnet_test::scratch_dir("crash_full");
    const std::string path = dir + "/model.cfnet";
    save_generation(path, 1);
    for (const rlim_t at : {rlim_t{0}, rlim_t{30}, rlim_t{1'000'000}, rlim_t{4'000'000}}) {
        INFO("file size limit " << at);
        const int status = in_child([&] {
            std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead, as on a full disk
            limit_file_size(at);
            try {
                save_generation(path, 2);
            } catch (const cfnet::IoError& e) {
                const std::string msg = e.what();
                const bool names_it = msg.find(path) != std::string::npos && msg.find("was not written") != std::string::npos;
                return names_it && !fs::exists(path + ".tmp") ? 0 : 4;
            }
            return 5;  // no error: wrong
        });
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(generation_of(path) == 1);
        CHECK_FALSE(fs::exists(path + ".tmp"));
    }
}
