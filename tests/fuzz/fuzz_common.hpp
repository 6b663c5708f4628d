#pragma once
// Shared by the fuzz targets (tests/fuzz/fuzz_<name>.cpp): scratch files, splitting one input into
// several files, the error contract and the container invariants every successful load must meet.
// Any violation prints what was wrong and calls std::abort(), which libFuzzer (and the replay
// driver, replay_main.cpp) report as a crash.

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <unistd.h>

namespace cfnet_fuzz {

[[noreturn]] inline void violation(const std::string& what) {
    std::fprintf(stderr, "cfnet fuzz contract violated: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

inline void require(bool ok, const std::string& what) {
    if (!ok) violation(what);
}

/// This process's scratch directory (removed at exit): in /dev/shm when there is one (rewriting a
/// file on a disk file system costs a flush per input on ext4), else the temp directory.
inline const std::string& scratch() {
    struct Dir {
        std::string path;
        Dir() {
            std::error_code ec;
            const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                                   ? std::filesystem::path("/dev/shm")
                                                   : std::filesystem::temp_directory_path();
            path = (base / ("cfnet_fuzz_" + std::to_string(::getpid()))).string();
            std::filesystem::create_directories(path);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

/// A fresh empty subdirectory of the scratch directory, `name` (reused between inputs).
inline std::string fresh_dir(const std::string& name) {
    const std::string d = scratch() + "/" + name;
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
    std::filesystem::create_directories(d);
    return d;
}

inline std::string write(const std::string& path, std::string_view bytes) {
    std::ofstream os(path, std::ios::binary | std::ios::trunc);
    os.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    require(static_cast<bool>(os), "cannot write the scratch file " + path);
    return path;
}

/// The separator between the files of one input (in the dictionaries as "\n~~~\n").
inline constexpr std::string_view part_separator = "\n~~~\n";

/// Splits an input into exactly `n` parts at part_separator (missing parts are empty, the last
/// part takes the rest).
inline std::vector<std::string_view> split_parts(std::string_view in, std::size_t n) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < n) {
        const auto p = in.find(part_separator);
        if (p == std::string_view::npos) break;
        out.push_back(in.substr(0, p));
        in.remove_prefix(p + part_separator.size());
    }
    out.push_back(in);
    while (out.size() < n) out.push_back({});
    return out;
}

/// The error contract: `f` either returns, or throws one of cfnet's own exception types whose
/// message names `source` (a file or directory path). `allow_invalid_argument`: InvalidArgument
/// is documented for this call (it must name the source too). Any other exception aborts.
template <class F>
bool expect_contract(const std::string& source, F&& f, bool allow_invalid_argument = false) {
    static const bool verbose = std::getenv("CFNET_FUZZ_VERBOSE") != nullptr;  // print each outcome
    try {
        f();
        if (verbose) std::fprintf(stderr, "  ok: %s\n", source.c_str());
        return true;
    } catch (const cfnet::IoError& e) {  // ParseError included
        if (verbose) std::fprintf(stderr, "  IoError: %s\n", e.what());
        require(std::string_view(e.what()).find(source) != std::string_view::npos,
                "IoError without the source '" + source + "': " + e.what());
    } catch (const cfnet::InvalidArgument& e) {
        if (verbose) std::fprintf(stderr, "  InvalidArgument: %s\n", e.what());
        require(allow_invalid_argument, std::string("InvalidArgument where only IoError is documented: ") + e.what());
        require(std::string_view(e.what()).find(source) != std::string_view::npos,
                "InvalidArgument without the source '" + source + "': " + e.what());
    } catch (const std::exception& e) {
        violation(std::string("unexpected exception ") + typeid(e).name() + ": " + e.what());
    }
    return false;
}

/// Every invariant of a RatingMatrix: CSR and CSC consistent and sorted, indices in range, id maps
/// that round-trip, finite values.
template <class T>
void check_matrix(const cfnet::RatingMatrix<T>& m) {
    const std::size_t nu = m.n_users(), ni = m.n_items(), nnz = m.nnz();
    const auto& rp = m.row_ptr();
    require(rp.size() == nu + 1 && rp.front() == 0 && rp.back() == nnz, "row_ptr has the wrong shape");
    std::size_t entries = 0;
    for (cfnet::index_type u = 0; u < nu; ++u) {
        require(rp[u] <= rp[u + 1], "row_ptr decreases");
        const auto items = m.user_items(u);
        for (std::size_t k = 0; k < items.size(); ++k) {
            require(items[k] < ni, "item index out of range");
            require(k == 0 || items[k - 1] < items[k], "a row is not strictly increasing");
        }
        entries += items.size();
    }
    require(entries == nnz, "rows do not add up to nnz");
    const auto& ip = m.item_ptr();
    require(ip.size() == ni + 1 && ip.back() == nnz, "item_ptr has the wrong shape");
    for (cfnet::index_type i = 0; i < ni; ++i) {
        const auto users = m.item_users(i);
        for (std::size_t k = 0; k < users.size(); ++k) {
            require(users[k] < nu, "user index out of range");
            require(k == 0 || users[k - 1] < users[k], "a column is not strictly increasing");
            require(m.contains(users[k], i), "the item view holds a pair the user view does not");
        }
    }
    for (const T v : m.values()) require(std::isfinite(static_cast<double>(v)), "a rating is NaN or infinite");
    for (cfnet::index_type u = 0; u < nu; ++u) {
        require(m.users().index(m.users().id(u)) == u, "user ids do not round-trip");
        if (m.users().has_names()) require(m.users().find(m.users().label(u)) == u, "user names do not round-trip");
    }
    for (cfnet::index_type i = 0; i < ni; ++i) {
        require(m.items().index(m.items().id(i)) == i, "item ids do not round-trip");
        if (m.items().has_names()) require(m.items().find(m.items().label(i)) == i, "item names do not round-trip");
    }
}

}  // namespace cfnet_fuzz
