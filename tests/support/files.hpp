#pragma once
// Scratch files for tests that read files, and the ParseError check they share.

#include <cfnet/error.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace cfnet_test {

/// This process's scratch directory under the temp dir, removed when the test program ends.
inline const std::filesystem::path& scratch_root() {
    struct Root {
        std::filesystem::path path =
            std::filesystem::temp_directory_path() / ("cfnet_test_" + std::to_string(::getpid()));
        ~Root() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Root root;
    return root.path;
}

/// A fresh, empty directory under the scratch root (`name` makes it recognisable).
inline std::string scratch_dir(const std::string& name) {
    static std::atomic<int> counter{0};
    const auto dir = scratch_root() / (std::to_string(counter++) + "_" + name);
    std::filesystem::create_directories(dir);
    return dir.string();
}

/// Writes exactly `bytes` to dir/file and returns the path.
inline std::string write_file(const std::string& dir, const std::string& file, const std::string& bytes) {
    const auto path = dir + "/" + file;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

/// A fresh file holding exactly `bytes`, in its own scratch directory.
inline std::string write_temp(const std::string& name, const std::string& bytes) {
    return write_file(scratch_dir("f"), name, bytes);
}

/// Runs f and checks that it throws a ParseError with exactly this file, line, field and message.
template <class F>
void check_parse_error(F&& f, const std::string& file, std::size_t line, const std::string& field,
                       const std::string& what) {
    bool thrown = false;
    try {
        f();
    } catch (const cfnet::ParseError& e) {
        thrown = true;
        CHECK(e.file() == file);
        CHECK(e.line() == line);
        CHECK(e.field() == field);
        CHECK(std::string(e.what()) == file + ":" + std::to_string(line) + ": field '" + field + "': " + what);
    }
    CHECK(thrown);
}

}  // namespace cfnet_test
