#pragma once
/// @file detail/model_file_bytes.hpp
/// The byte level of cfnet's model files (serialize.hpp): CRC-32, little-endian encoding, a
/// checksumming writer, the atomic (temporary file + rename) write and a bounds-checked reader.
/// Not part of the public API.

#include <cfnet/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>
#include <limits>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#define CFNET_HAVE_FSYNC 1
#else
#define CFNET_HAVE_FSYNC 0
#endif

namespace cfnet::detail {
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
inline constexpr bool host_is_big_endian = true;
#else
inline constexpr bool host_is_big_endian = false;  // x86, ARM (little-endian), MSVC targets
#endif

// --- CRC-32 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), slicing-by-8 ---------

constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc32_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        t[0][i] = c;
    }
    // t[s][i]: CRC of byte i followed by s zero bytes.
    for (std::size_t i = 0; i < 256; ++i)
        for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
    return t;
}

inline constexpr auto crc32_tables = make_crc32_tables();

/// Continues a CRC-32: crc32_update(crc32_update(0, a), b) == CRC-32 of a followed by b.
inline std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    const auto& t = crc32_tables;
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        const std::uint32_t lo = crc ^ (static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                                        (static_cast<std::uint32_t>(p[2]) << 16) |
                                        (static_cast<std::uint32_t>(p[3]) << 24));
        crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
              t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    }
    for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/// CRC-32 of `n` bytes (crc32("123456789") == 0xCBF43926).
inline std::uint32_t crc32(const void* data, std::size_t n) { return crc32_update(0, data, n); }

// --- little-endian encoding ------------------------------------------------------------------------

template <class U>
void store_le(unsigned char* out, U v) {
    static_assert(std::is_unsigned_v<U>);
    for (std::size_t i = 0; i < sizeof(U); ++i) out[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xFFu);
}

template <class U>
U load_le(const unsigned char* in) {
    static_assert(std::is_unsigned_v<U>);
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>(v | (static_cast<U>(in[i]) << (8 * i)));
    return v;
}

template <class T>
using scalar_bits_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// Decodes `n` little-endian scalars from `src` (any alignment) into `dst`.
template <class T>
void decode_scalars(const unsigned char* src, std::size_t n, T* dst) {
    static_assert(std::numeric_limits<T>::is_iec559, "model files store IEEE 754 scalars");
    if (n == 0) return;
    if constexpr (!host_is_big_endian) {
        std::memcpy(dst, src, n * sizeof(T));
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            const auto bits = load_le<scalar_bits_t<T>>(src + i * sizeof(T));
            std::memcpy(dst + i, &bits, sizeof(T));
        }
    }
}

/// Streams bytes to a file while tracking their CRC-32 and count.
class ModelWriter {
public:
    explicit ModelWriter(std::ostream& os) : os_(os) {}

    void bytes(const void* p, std::size_t n) {
        if (n == 0) return;
        crc_ = crc32_update(crc_, p, n);
        os_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
        size_ += n;
    }
    void u32(std::uint32_t v) {
        unsigned char b[4];
        store_le(b, v);
        bytes(b, 4);
    }
    void u64(std::uint64_t v) {
        unsigned char b[8];
        store_le(b, v);
        bytes(b, 8);
    }
    void str(const std::string& s) {
        u64(s.size());
        bytes(s.data(), s.size());
    }
    template <class T>
    void scalars(const T* p, std::size_t n) {
        static_assert(std::numeric_limits<T>::is_iec559, "model files store IEEE 754 scalars");
        if constexpr (!host_is_big_endian) {
            bytes(p, n * sizeof(T));
        } else {
            unsigned char buf[512 * sizeof(T)];
            for (std::size_t i = 0; i < n;) {
                const std::size_t k = std::min<std::size_t>(512, n - i);
                for (std::size_t j = 0; j < k; ++j) {
                    scalar_bits_t<T> bits;
                    std::memcpy(&bits, p + i + j, sizeof(T));
                    store_le(buf + j * sizeof(T), bits);
                }
                bytes(buf, k * sizeof(T));
                i += k;
            }
        }
    }

    /// u64 values, little-endian.
    void integers(const std::uint64_t* p, std::size_t n) {
        if constexpr (!host_is_big_endian) {
            bytes(p, n * 8);
        } else {
            for (std::size_t i = 0; i < n; ++i) u64(p[i]);
        }
    }

    std::uint32_t crc() const noexcept { return crc_; }
    std::uint64_t size() const noexcept { return size_; }

private:
    std::ostream& os_;
    std::uint32_t crc_ = 0;
    std::uint64_t size_ = 0;
};

/// fsync()s the file or directory `path` (POSIX; elsewhere a no-op). False with errno set on failure.
inline bool sync_to_disk(const std::string& path) {
#if CFNET_HAVE_FSYNC
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    errno = err;
    return rc == 0 || err == EINVAL;  // EINVAL: the file system cannot sync (e.g. some pseudo file systems)
#else
    (void)path;
    return true;
#endif
}

/// Runs `body(std::ostream&)` on `path + ".tmp"`, flushes it to disk (fsync), then renames it
/// over `path` (and fsyncs the directory). On any failure the
/// temporary is removed and `path` is left as it was.
template <class Body>
void write_file_atomically(const std::string& path, const char* fn, Body&& body) {
    const std::string tmp = path + ".tmp";
    auto discard = [&tmp] {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
    };
    {
        std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
        if (!os) {
            const int err = errno;
            throw IoError(concat(fn, ": cannot open '", tmp, "' for writing (", std::strerror(err),
                                 "); the model file '", path, "' was not written"));
        }
        try {
            body(static_cast<std::ostream&>(os));
            os.flush();
            if (!os) throw IoError(concat(fn, ": write error on '", tmp, "' (disk full?); '", path, "' was not written"));
            os.close();
            if (os.fail()) throw IoError(concat(fn, ": cannot close '", tmp, "'; '", path, "' was not written"));
        } catch (...) {
            if (os.is_open()) os.close();
            discard();
            throw;
        }
    }
    if (!sync_to_disk(tmp)) {
        const int err = errno;
        discard();
        throw IoError(concat(fn, ": cannot flush '", tmp, "' to disk (", std::strerror(err), "); '", path,
                             "' was not written"));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        discard();
        throw IoError(concat(fn, ": cannot rename '", tmp, "' to '", path, "': ", ec.message()));
    }
    // The rename itself reaches the disk with the directory (best effort: the file is complete either way).
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    (void)sync_to_disk(dir.empty() ? std::string(".") : dir.string());
}

/// Reads the whole file. @throws IoError when it cannot be opened or read.
inline std::vector<unsigned char> read_file_bytes(const std::string& path, const char* fn) {
    std::ifstream is(path, std::ios::binary);
    if (!is) {
        const int err = errno;
        throw IoError(concat(fn, ": cannot open '", path, "' for reading (", std::strerror(err), ")"));
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw IoError(concat(fn, ": cannot read '", path, "': ", ec.message()));
    std::vector<unsigned char> bytes;
    try {
        bytes.resize(static_cast<std::size_t>(size));
    } catch (const std::bad_alloc&) {
        throw IoError(concat(fn, ": '", path, "': not enough memory to read it: it needs ", size,
                             " bytes (loading needs about twice that)"));
    }
    if (!bytes.empty()) is.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<std::uint64_t>(is.gcount()) != size && !bytes.empty())
        throw IoError(concat(fn, ": read error on '", path, "' after ", is.gcount(), " of ", size, " bytes"));
    return bytes;
}

/// Bounds-checked reader over the body of a model file (between the header and the checksum).
class ModelReader {
public:
    ModelReader(const std::vector<unsigned char>& b, std::size_t pos, std::size_t end, const std::string& path,
                const char* fn)
        : b_(b), pos_(pos), end_(end), path_(path), fn_(fn) {}

    std::size_t pos() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return end_ - pos_; }

    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        throw IoError(concat(fn_, ": '", path_, "': malformed model file: field '", field, "' at byte ", pos_, ": ",
                             what));
    }
    void need(std::uint64_t n, const std::string& field) const {
        if (n > remaining())
            fail(field, concat("needs ", n, " bytes but only ", remaining(), " remain before the checksum"));
    }
    std::uint64_t u64(const std::string& field) {
        need(8, field);
        const auto v = load_le<std::uint64_t>(b_.data() + pos_);
        pos_ += 8;
        return v;
    }
    std::string str(const std::string& field) {
        const std::uint64_t n = u64(field + " length");
        need(n, field);
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return s;
    }
    /// Skips `n` bytes and returns the offset where they start.
    std::size_t skip(std::uint64_t n, const std::string& field) {
        need(n, field);
        const std::size_t at = pos_;
        pos_ += static_cast<std::size_t>(n);
        return at;
    }

private:
    const std::vector<unsigned char>& b_;
    std::size_t pos_;
    std::size_t end_;
    const std::string& path_;
    const char* fn_;
};

}  // namespace cfnet::detail
