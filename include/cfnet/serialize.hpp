#pragma once
/// @file serialize.hpp
/// Versioned, checksummed model files: a set of named matrices plus string metadata.
///
/// Models store their configuration as text in the metadata (key -> value) and their parameters
/// (and, if wanted, optimizer state) as named tensors. Loading into existing destinations is
/// all-or-nothing: the whole file is read and verified (integrity, scalar type, every name
/// present, every shape equal) before a single destination is written.
///
/// ## Format, version 1 (all integers unsigned little-endian, all floats IEEE 754 little-endian)
///
/// | offset | size | field |
/// |---|---|---|
/// | 0  | 8 | magic `CFNETMDL` |
/// | 8  | 4 | format version (u32, currently 1) |
/// | 12 | 4 | scalar type tag (u32: 1 = float32, 2 = float64) |
/// | 16 | 8 | total file size in bytes, checksum included (u64) |
/// | 24 | 8 | metadata count M (u64) |
/// |    |   | M times: key (u64 length + bytes), value (u64 length + bytes); keys unique |
/// |    | 8 | tensor count N (u64) |
/// |    |   | N times: name (u64 length + bytes), rows (u64), cols (u64), rows*cols scalars row-major |
/// | size-4 | 4 | CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it (u32) |
///
/// Strings are raw bytes (UTF-8 by convention); tensor names are non-empty and unique. The
/// stored file size lets a reader tell a truncated file from a corrupted one.
///
/// Writers write `path + ".tmp"` and rename it over `path`, so a crash never leaves a
/// half-written model file under the real name (two processes saving to the same path at the
/// same time is not supported).

#include <cfnet/error.hpp>
#include <cfnet/metadata.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <ios>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

/// The format version this build writes and the only one it reads.
inline constexpr std::uint32_t model_format_version = 1;

/// Scalar type of the tensors in a model file.
enum class ScalarType : std::uint32_t { float32 = 1, float64 = 2 };

/// "float32", "float64" or "unknown".
inline const char* to_string(ScalarType t) {
    switch (t) {
        case ScalarType::float32: return "float32";
        case ScalarType::float64: return "float64";
    }
    return "unknown";
}

/// The ScalarType tag of `T` (float or double).
template <class T>
constexpr ScalarType scalar_type_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "cfnet model files store float or double tensors");
    return std::is_same_v<T, float> ? ScalarType::float32 : ScalarType::float64;
}

/// Name and shape of one stored tensor.
struct TensorInfo {
    std::string name;
    std::size_t rows = 0;
    std::size_t cols = 0;
};

/// Everything in a model file except the tensor values (what `cfnet info` prints).
struct ModelFileInfo {
    std::uint32_t version = 0;
    ScalarType scalar_type = ScalarType::float32;
    std::uint64_t file_size = 0;
    std::uint32_t checksum = 0;
    Metadata metadata;
    std::vector<TensorInfo> tensors;  ///< in file order
};

/// The complete content of a model file.
template <class T = float>
struct ModelFile {
    using value_type = T;
    using size_type = std::size_t;

    Metadata metadata;
    std::vector<std::pair<std::string, Matrix<T>>> tensors;  ///< in file order, names unique

    /// The tensor called `name`, or nullptr.
    const Matrix<T>* find(const std::string& name) const {
        for (const auto& [n, m] : tensors)
            if (n == name) return &m;
        return nullptr;
    }
    Matrix<T>* find(const std::string& name) {
        return const_cast<Matrix<T>*>(static_cast<const ModelFile&>(*this).find(name));
    }
};

/// What loading into destinations does with a stored tensor that no destination names.
enum class UnknownTensors {
    reject,  ///< throw InvalidArgument (the default: a file for a different model is an error)
    ignore   ///< skip it (e.g. load only a model's parameters from a file that also holds optimizer state)
};

namespace detail {

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
inline constexpr bool host_is_big_endian = true;
#else
inline constexpr bool host_is_big_endian = false;  // x86, ARM (little-endian), MSVC targets
#endif

inline constexpr char model_file_magic[8] = {'C', 'F', 'N', 'E', 'T', 'M', 'D', 'L'};
/// Bytes of the fixed header (magic, version, scalar type, file size).
inline constexpr std::size_t model_header_size = 24;
/// Smallest valid file: header, two zero counts, checksum.
inline constexpr std::size_t model_min_file_size = model_header_size + 8 + 8 + 4;

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

    std::uint32_t crc() const noexcept { return crc_; }
    std::uint64_t size() const noexcept { return size_; }

private:
    std::ostream& os_;
    std::uint32_t crc_ = 0;
    std::uint64_t size_ = 0;
};

/// Runs `body(std::ostream&)` on `path + ".tmp"`, then renames it over `path`. On any failure the
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
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        discard();
        throw IoError(concat(fn, ": cannot rename '", tmp, "' to '", path, "': ", ec.message()));
    }
}

/// A named, read-only view of one matrix to save.
template <class T>
struct SaveItem {
    const std::string* name;
    const Matrix<T>* tensor;
};

template <class T>
void save_impl(const std::string& path, const Metadata& metadata, const std::vector<SaveItem<T>>& items,
               const char* fn) {
    // Validate everything before touching the disk.
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string& name = *items[i].name;
        check_arg(items[i].tensor != nullptr, fn, ": '", path, "': tensor #", i, " ('", name, "') is a null pointer");
        check_arg(!name.empty(), fn, ": '", path, "': tensor #", i, " has an empty name");
        check_arg(seen.insert(name).second, fn, ": '", path, "': tensor name '", name, "' appears twice");
    }
    std::uint64_t total = model_min_file_size;
    for (const auto& [k, v] : metadata) total += 16 + k.size() + v.size();
    for (const auto& it : items) total += 8 + it.name->size() + 16 + it.tensor->size() * sizeof(T);

    write_file_atomically(path, fn, [&](std::ostream& os) {
        ModelWriter w(os);
        w.bytes(model_file_magic, sizeof(model_file_magic));
        w.u32(model_format_version);
        w.u32(static_cast<std::uint32_t>(scalar_type_of<T>()));
        w.u64(total);
        w.u64(metadata.size());
        for (const auto& [k, v] : metadata) {
            w.str(k);
            w.str(v);
        }
        w.u64(items.size());
        for (const auto& it : items) {
            w.str(*it.name);
            w.u64(it.tensor->shape(0));
            w.u64(it.tensor->shape(1));
            w.scalars(it.tensor->data(), it.tensor->size());
        }
        CFNET_ASSERT(w.size() + 4 == total);
        w.u32(w.crc());
    });
}

// --- reading ---------------------------------------------------------------------------------------

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
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
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

/// A verified model file: its bytes, its description and where each tensor's data starts.
struct ParsedModelFile {
    std::vector<unsigned char> bytes;
    ModelFileInfo info;
    std::vector<std::size_t> data_offsets;  ///< parallel to info.tensors
};

/// Reads and fully verifies a model file (magic, version, size, checksum, structure).
/// @throws IoError naming `fn`, the file and the field on any problem.
inline ParsedModelFile parse_model_file(const std::string& path, const char* fn) {
    ParsedModelFile f;
    f.bytes = read_file_bytes(path, fn);
    const auto& b = f.bytes;
    const std::size_t n = b.size();
    auto fail = [&](const std::string& what) { throw IoError(concat(fn, ": '", path, "': ", what)); };

    if (n > 0 && std::memcmp(b.data(), model_file_magic, std::min(n, sizeof(model_file_magic))) != 0)
        fail("not a cfnet model file (bad magic: the first 8 bytes are not \"CFNETMDL\")");
    if (n < model_min_file_size)
        fail(concat("truncated: the file has ", n, " bytes, fewer than the ", model_min_file_size,
                    " of the smallest cfnet model file"));
    const auto version = load_le<std::uint32_t>(b.data() + 8);
    if (version != model_format_version)
        fail(concat("unsupported format version ", version, " (this build of cfnet reads version ",
                    model_format_version, version > model_format_version ? "; written by a newer cfnet?)" : ")"));
    const auto declared = load_le<std::uint64_t>(b.data() + 16);
    if (n < declared) fail(concat("truncated: the file has ", n, " bytes but its header declares ", declared));
    if (n > declared)
        fail(concat("trailing data: the file has ", n, " bytes but its header declares ", declared));
    const auto stored = load_le<std::uint32_t>(b.data() + n - 4);
    const auto computed = crc32(b.data(), n - 4);
    if (stored != computed) {
        std::ostringstream os;
        os << std::hex << "checksum mismatch (stored 0x" << stored << ", computed 0x" << computed
           << "): the file is corrupted";
        fail(os.str());
    }
    const auto tag = load_le<std::uint32_t>(b.data() + 12);
    if (tag != static_cast<std::uint32_t>(ScalarType::float32) && tag != static_cast<std::uint32_t>(ScalarType::float64))
        fail(concat("field 'scalar_type': unknown scalar type tag ", tag, " (1 = float32, 2 = float64)"));

    f.info.version = version;
    f.info.scalar_type = static_cast<ScalarType>(tag);
    f.info.file_size = declared;
    f.info.checksum = stored;
    const std::size_t elem = f.info.scalar_type == ScalarType::float32 ? 4 : 8;

    ModelReader r(b, model_header_size, n - 4, path, fn);
    const std::uint64_t n_meta = r.u64("metadata_count");
    if (n_meta > r.remaining() / 16)
        r.fail("metadata_count", concat(n_meta, " entries cannot fit in the ", r.remaining(), " bytes left"));
    for (std::uint64_t i = 0; i < n_meta; ++i) {
        std::string key = r.str(concat("metadata[", i, "].key"));
        std::string value = r.str(concat("metadata['", key, "'].value"));
        if (!f.info.metadata.emplace(key, std::move(value)).second)
            r.fail(concat("metadata[", i, "].key"), concat("duplicate key '", key, "'"));
    }
    const std::uint64_t n_tensors = r.u64("tensor_count");
    if (n_tensors > r.remaining() / 24)
        r.fail("tensor_count", concat(n_tensors, " tensors cannot fit in the ", r.remaining(), " bytes left"));
    std::set<std::string> names;
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        std::string name = r.str(concat("tensor[", i, "].name"));
        if (name.empty()) r.fail(concat("tensor[", i, "].name"), "empty tensor name");
        if (!names.insert(name).second) r.fail(concat("tensor[", i, "].name"), concat("duplicate tensor '", name, "'"));
        const std::uint64_t rows = r.u64(concat("tensor '", name, "' rows"));
        const std::uint64_t cols = r.u64(concat("tensor '", name, "' cols"));
        const std::string data_field = concat("tensor '", name, "' data");
        if (cols != 0 && rows > r.remaining() / elem / cols)
            r.fail(data_field, concat("a ", rows, " x ", cols, " tensor cannot fit in the ", r.remaining(),
                                      " bytes left"));
        const std::size_t at = r.skip(rows * cols * elem, data_field);
        f.info.tensors.push_back({std::move(name), static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
        f.data_offsets.push_back(at);
    }
    if (r.remaining() != 0) r.fail("checksum", concat(r.remaining(), " unexplained bytes before the checksum"));
    return f;
}

template <class T>
void check_scalar_type(ScalarType stored, const std::string& source, const char* fn) {
    check_arg(stored == scalar_type_of<T>(), fn, ": '", source, "': the file stores ", to_string(stored),
              " tensors but the destination type is ", to_string(scalar_type_of<T>()),
              " (load it with the matching scalar type)");
}

/// Checks destinations on their own: non-null, non-empty, unique names.
template <class T>
void check_destinations(const std::vector<nn::TensorRef<T>>& dest, const std::string& source, const char* fn) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < dest.size(); ++i) {
        check_arg(dest[i].tensor != nullptr, fn, ": '", source, "': destination #", i, " ('", dest[i].name,
                  "') is a null pointer");
        check_arg(!dest[i].name.empty(), fn, ": '", source, "': destination #", i, " has an empty name");
        check_arg(seen.insert(dest[i].name).second, fn, ": '", source, "': destination name '", dest[i].name,
                  "' appears twice");
    }
}

/// For each destination, the index of the stored tensor with its name; checks presence and shape,
/// and (with UnknownTensors::reject) that every stored tensor has a destination.
template <class T>
std::vector<std::size_t> match_destinations(const std::vector<TensorInfo>& stored,
                                            const std::vector<nn::TensorRef<T>>& dest, UnknownTensors unknown,
                                            const std::string& source, const char* fn) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < stored.size(); ++i)
        check_arg(index.emplace(stored[i].name, i).second, fn, ": '", source, "': tensor '", stored[i].name,
                  "' is stored twice");
    std::vector<std::size_t> match(dest.size());
    std::vector<char> used(stored.size(), 0);
    for (std::size_t i = 0; i < dest.size(); ++i) {
        const auto it = index.find(dest[i].name);
        if (it == index.end()) {
            std::string have;
            for (const auto& s : stored) have += (have.empty() ? "'" : ", '") + s.name + "'";
            throw InvalidArgument(concat(fn, ": '", source, "': tensor '", dest[i].name,
                                         "' is missing from the file (it holds: ", have.empty() ? "nothing" : have,
                                         ")"));
        }
        const TensorInfo& s = stored[it->second];
        const Matrix<T>& d = *dest[i].tensor;
        check_arg(s.rows == d.shape(0) && s.cols == d.shape(1), fn, ": '", source, "': tensor '", s.name,
                  "' is ", s.rows, " x ", s.cols, " in the file but the destination is ", d.shape(0), " x ",
                  d.shape(1));
        match[i] = it->second;
        used[it->second] = 1;
    }
    if (unknown == UnknownTensors::reject)
        for (std::size_t i = 0; i < stored.size(); ++i)
            check_arg(used[i] != 0, fn, ": '", source, "': the file holds tensor '", stored[i].name,
                      "' that no destination asks for (pass UnknownTensors::ignore to skip it)");
    return match;
}

}  // namespace detail

/// TensorRefs to the values of `params`, named `prefix + parameter name` (layers name their
/// parameters "W", "b", ...: give each layer of a model its own prefix to keep names unique).
/// Gradients are not included: they are not state.
template <class T>
std::vector<nn::TensorRef<T>> parameter_refs(const nn::ParameterList<T>& params, const std::string& prefix = "") {
    std::vector<nn::TensorRef<T>> refs;
    refs.reserve(params.size());
    for (auto* p : params) {
        check_arg(p != nullptr, "cfnet::parameter_refs: null parameter pointer in a list of ", params.size());
        refs.push_back({prefix + p->name, &p->value});
    }
    return refs;
}

/// Saves `metadata` and the matrices `tensors` (in that order) to `path`, atomically
/// (written to `path + ".tmp"`, then renamed over `path`).
/// @pre every `tensors[i].tensor` is non-null; names are non-empty and unique.
/// @throws InvalidArgument on a null pointer, an empty or a repeated name (nothing is written).
/// @throws IoError when the file cannot be written (the previous `path`, if any, is unchanged).
template <class T>
void save_tensors(const std::string& path, const Metadata& metadata, const std::vector<nn::TensorRef<T>>& tensors) {
    std::vector<detail::SaveItem<T>> items;
    items.reserve(tensors.size());
    for (const auto& t : tensors) items.push_back({&t.name, t.tensor});
    detail::save_impl(path, metadata, items, "cfnet::save_tensors");
}

/// Saves a whole ModelFile to `path` (atomically, as save_tensors).
/// @throws InvalidArgument on an empty or repeated tensor name; IoError when writing fails.
template <class T>
void save_model_file(const std::string& path, const ModelFile<T>& file) {
    std::vector<detail::SaveItem<T>> items;
    items.reserve(file.tensors.size());
    for (const auto& [name, m] : file.tensors) items.push_back({&name, &m});
    detail::save_impl(path, file.metadata, items, "cfnet::save_model_file");
}

/// Reads the description of a model file (version, scalar type, metadata, tensor names and
/// shapes) after verifying all of it, checksum included. Works for any scalar type.
/// @throws IoError when the file cannot be read or is not a valid cfnet model file.
inline ModelFileInfo read_model_info(const std::string& path) {
    return detail::parse_model_file(path, "cfnet::read_model_info").info;
}

/// Reads a whole model file whose tensors have scalar type `T`.
/// @throws IoError when the file cannot be read or is not a valid cfnet model file.
/// @throws InvalidArgument when the file stores another scalar type.
template <class T>
ModelFile<T> read_model_file(const std::string& path) {
    constexpr const char* fn = "cfnet::read_model_file";
    detail::ParsedModelFile f = detail::parse_model_file(path, fn);
    detail::check_scalar_type<T>(f.info.scalar_type, path, fn);
    ModelFile<T> out;
    out.metadata = std::move(f.info.metadata);
    out.tensors.reserve(f.info.tensors.size());
    for (std::size_t i = 0; i < f.info.tensors.size(); ++i) {
        const TensorInfo& t = f.info.tensors[i];
        typename Matrix<T>::shape_type shape = {t.rows, t.cols};
        Matrix<T> m(shape);
        detail::decode_scalars(f.bytes.data() + f.data_offsets[i], m.size(), m.data());
        out.tensors.emplace_back(t.name, std::move(m));
    }
    return out;
}

/// Loads the tensors of `path` into existing matrices and returns the file's metadata.
/// All-or-nothing: the file is read and verified completely first (integrity, scalar type, every
/// destination name present with exactly the destination's shape, and with UnknownTensors::reject
/// no stored tensor left over); only then are the destinations overwritten, in place (their
/// storage is not reallocated). On any error every destination is left untouched.
/// @pre destination pointers are non-null; names are non-empty and unique.
/// @throws IoError when the file cannot be read or is not a valid cfnet model file.
/// @throws InvalidArgument on a scalar-type mismatch, a missing tensor, a shape mismatch, an
///         unknown stored tensor (with UnknownTensors::reject) or bad destinations.
template <class T>
Metadata load_tensors(const std::string& path, const std::vector<nn::TensorRef<T>>& dest,
                      UnknownTensors unknown = UnknownTensors::reject) {
    constexpr const char* fn = "cfnet::load_tensors";
    detail::check_destinations(dest, path, fn);
    detail::ParsedModelFile f = detail::parse_model_file(path, fn);
    detail::check_scalar_type<T>(f.info.scalar_type, path, fn);
    const auto match = detail::match_destinations(f.info.tensors, dest, unknown, path, fn);
    // Commit: nothing below can throw.
    for (std::size_t i = 0; i < dest.size(); ++i)
        detail::decode_scalars(f.bytes.data() + f.data_offsets[match[i]], dest[i].tensor->size(),
                               dest[i].tensor->data());
    return std::move(f.info.metadata);
}

/// Copies the tensors of an already read ModelFile into existing matrices, with the same checks
/// and the same all-or-nothing guarantee as load_tensors (for models that read their
/// configuration from the metadata first, build themselves, then take their parameters).
/// `source` names the origin (e.g. the path) in error messages.
/// @throws InvalidArgument on a missing tensor, a shape mismatch, an unknown stored tensor (with
///         UnknownTensors::reject), a repeated stored name or bad destinations.
template <class T>
void assign_tensors(const ModelFile<T>& file, const std::vector<nn::TensorRef<T>>& dest,
                    UnknownTensors unknown = UnknownTensors::reject, const std::string& source = "model file") {
    constexpr const char* fn = "cfnet::assign_tensors";
    detail::check_destinations(dest, source, fn);
    std::vector<TensorInfo> stored;
    stored.reserve(file.tensors.size());
    for (const auto& [name, m] : file.tensors) stored.push_back({name, m.shape(0), m.shape(1)});
    const auto match = detail::match_destinations(stored, dest, unknown, source, fn);
    for (std::size_t i = 0; i < dest.size(); ++i) {
        const Matrix<T>& src = file.tensors[match[i]].second;
        std::copy(src.begin(), src.end(), dest[i].tensor->begin());
    }
}

}  // namespace cfnet
