#pragma once
/// @file serialize.hpp
/// Versioned, checksummed model files: named matrices, named integer arrays and string metadata.
///
/// Models store their configuration as text in the metadata (key -> value) and their parameters
/// (and, if wanted, optimizer state) as named tensors; ids, counts and indices go into integer
/// arrays (u64), never into floating-point tensors, and are range-checked on load. Loading into existing destinations is
/// all-or-nothing: the whole file is read and verified (integrity, scalar type, every name
/// present, every shape equal) before a single destination is written.
///
/// ## Format, version 2 (all integers unsigned little-endian, all floats IEEE 754 little-endian)
///
/// | offset | size | field |
/// |---|---|---|
/// | 0  | 8 | magic `CFNETMDL` |
/// | 8  | 4 | format version (u32, currently 2; version 1 files are still read) |
/// | 12 | 4 | scalar type tag (u32: 1 = float32, 2 = float64) |
/// | 16 | 8 | total file size in bytes, checksum included (u64) |
/// | 24 | 8 | metadata count M (u64) |
/// |    |   | M times: key (u64 length + bytes), value (u64 length + bytes); keys unique |
/// |    | 8 | tensor count N (u64) |
/// |    |   | N times: name (u64 length + bytes), rows (u64), cols (u64), rows*cols scalars row-major |
/// |    | 8 | integer array count K (u64; version 2 only) |
/// |    |   | K times: name (u64 length + bytes), length L (u64), L values (u64) |
/// | size-4 | 4 | CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it (u32) |
///
/// Version 1 is version 2 without the integer arrays (it stored index data as floats, exact only
/// below 2^24). Strings are raw bytes (UTF-8 by convention); tensor and integer array names are
/// non-empty and unique across both kinds. The
/// stored file size lets a reader tell a truncated file from a corrupted one.
///
/// Writers write `path + ".tmp"`, fsync it, rename it over `path` and fsync the directory, so a
/// crash never leaves a half-written model file under the real name (tests/core/
/// test_crash_safe_save.cpp kills writers at every stage); a temporary file left by a killed
/// writer is overwritten by the next save. Two processes saving to the same path at the same
/// time is not supported.

#include <cfnet/detail/model_file_bytes.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metadata.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
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
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

/// The format version this build writes.
inline constexpr std::uint32_t model_format_version = 2;
/// The oldest format version this build reads (version 1: no integer arrays).
inline constexpr std::uint32_t model_oldest_format_version = 1;

/// The values of an integer array in a model file (ids, counts, indices).
using IntegerArray = std::vector<std::uint64_t>;

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

/// Name and length of one stored integer array.
struct IntegerArrayInfo {
    std::string name;
    std::size_t size = 0;
};

/// Everything in a model file except the tensor values (what `cfnet info` prints).
struct ModelFileInfo {
    std::uint32_t version = 0;
    ScalarType scalar_type = ScalarType::float32;
    std::uint64_t file_size = 0;
    std::uint32_t checksum = 0;
    Metadata metadata;
    std::vector<TensorInfo> tensors;  ///< in file order
    std::vector<IntegerArrayInfo> integer_arrays;  ///< in file order (none in version 1 files)
};

/// The complete content of a model file.
template <class T = float>
struct ModelFile {
    using value_type = T;
    using size_type = std::size_t;

    Metadata metadata;
    std::vector<std::pair<std::string, Matrix<T>>> tensors;  ///< in file order, names unique
    std::vector<std::pair<std::string, IntegerArray>> integers;  ///< in file order, names unique

    /// The tensor called `name`, or nullptr.
    const Matrix<T>* find(const std::string& name) const {
        for (const auto& [n, m] : tensors)
            if (n == name) return &m;
        return nullptr;
    }
    Matrix<T>* find(const std::string& name) {
        return const_cast<Matrix<T>*>(static_cast<const ModelFile&>(*this).find(name));
    }
    /// The integer array called `name`, or nullptr.
    const IntegerArray* find_integers(const std::string& name) const {
        for (const auto& [n, v] : integers)
            if (n == name) return &v;
        return nullptr;
    }
    IntegerArray* find_integers(const std::string& name) {
        return const_cast<IntegerArray*>(static_cast<const ModelFile&>(*this).find_integers(name));
    }
};

/// A named, read-only view of an integer array to save.
struct IntegerArrayRef {
    std::string name;
    const IntegerArray* values = nullptr;
};

/// What loading into destinations does with a stored tensor that no destination names.
enum class UnknownTensors {
    reject,  ///< throw InvalidArgument (the default: a file for a different model is an error)
    ignore   ///< skip it (e.g. load only a model's parameters from a file that also holds optimizer state)
};

namespace detail {

inline constexpr char model_file_magic[8] = {'C', 'F', 'N', 'E', 'T', 'M', 'D', 'L'};
/// Bytes of the fixed header (magic, version, scalar type, file size).
inline constexpr std::size_t model_header_size = 24;
/// Smallest valid file: header, two zero counts, checksum.
inline constexpr std::size_t model_min_file_size = model_header_size + 8 + 8 + 8 + 4;
/// Smallest valid version 1 file (no integer array count).
inline constexpr std::size_t model_min_file_size_v1 = model_header_size + 8 + 8 + 4;


/// A named, read-only view of one matrix to save.
template <class T>
struct SaveItem {
    const std::string* name;
    const Matrix<T>* tensor;
};

template <class T>
void save_impl(const std::string& path, const Metadata& metadata, const std::vector<SaveItem<T>>& items,
               const std::vector<IntegerArrayRef>& integers, const char* fn) {
    // Validate everything before touching the disk.
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string& name = *items[i].name;
        check_arg(items[i].tensor != nullptr, fn, ": '", path, "': tensor #", i, " ('", name, "') is a null pointer");
        check_arg(!name.empty(), fn, ": '", path, "': tensor #", i, " has an empty name");
        check_arg(seen.insert(name).second, fn, ": '", path, "': tensor name '", name, "' appears twice");
    }
    for (std::size_t i = 0; i < integers.size(); ++i) {
        const std::string& name = integers[i].name;
        check_arg(integers[i].values != nullptr, fn, ": '", path, "': integer array #", i, " ('", name,
                  "') is a null pointer");
        check_arg(!name.empty(), fn, ": '", path, "': integer array #", i, " has an empty name");
        check_arg(seen.insert(name).second, fn, ": '", path, "': name '", name, "' appears twice");
    }
    std::uint64_t total = model_min_file_size;
    for (const auto& [k, v] : metadata) total += 16 + k.size() + v.size();
    for (const auto& it : items) total += 8 + it.name->size() + 16 + it.tensor->size() * sizeof(T);
    for (const auto& it : integers) total += 8 + it.name.size() + 8 + it.values->size() * 8;

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
        w.u64(integers.size());
        for (const auto& it : integers) {
            w.str(it.name);
            w.u64(it.values->size());
            w.integers(it.values->data(), it.values->size());
        }
        CFNET_ASSERT(w.size() + 4 == total);
        w.u32(w.crc());
    });
}

// --- reading ---------------------------------------------------------------------------------------

/// A verified model file: its bytes, its description and where each tensor's data starts.
struct ParsedModelFile {
    std::vector<unsigned char> bytes;
    ModelFileInfo info;
    std::vector<std::size_t> data_offsets;  ///< parallel to info.tensors
    std::vector<std::size_t> integer_offsets;  ///< parallel to info.integer_arrays
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
    if (n < model_min_file_size_v1)
        fail(concat("truncated: the file has ", n, " bytes, fewer than the ", model_min_file_size_v1,
                    " of the smallest cfnet model file"));
    const auto version = load_le<std::uint32_t>(b.data() + 8);
    if (version < model_oldest_format_version || version > model_format_version)
        fail(concat("unsupported format version ", version, " (this build of cfnet reads versions ",
                    model_oldest_format_version, " to ", model_format_version,
                    version > model_format_version ? "; written by a newer cfnet?)" : ")"));
    const std::size_t min_size = version == 1 ? model_min_file_size_v1 : model_min_file_size;
    if (n < min_size)
        fail(concat("truncated: the file has ", n, " bytes, fewer than the ", min_size,
                    " of the smallest cfnet model file of version ", version));
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
    const std::uint64_t n_integers = version == 1 ? 0 : r.u64("integer_array_count");
    if (n_integers > r.remaining() / 16)
        r.fail("integer_array_count", concat(n_integers, " integer arrays cannot fit in the ", r.remaining(),
                                             " bytes left"));
    for (std::uint64_t i = 0; i < n_integers; ++i) {
        std::string name = r.str(concat("integer_array[", i, "].name"));
        if (name.empty()) r.fail(concat("integer_array[", i, "].name"), "empty integer array name");
        if (!names.insert(name).second)
            r.fail(concat("integer_array[", i, "].name"), concat("duplicate name '", name, "'"));
        const std::uint64_t len = r.u64(concat("integer array '", name, "' length"));
        const std::string data_field = concat("integer array '", name, "' data");
        if (len > r.remaining() / 8)
            r.fail(data_field, concat(len, " values cannot fit in the ", r.remaining(), " bytes left"));
        const std::size_t at = r.skip(len * 8, data_field);
        f.info.integer_arrays.push_back({std::move(name), static_cast<std::size_t>(len)});
        f.integer_offsets.push_back(at);
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

/// @throws IoError naming `fn`, `source`, the tensor and the first entry that is NaN or infinite.
template <class T>
void check_finite(const Matrix<T>& m, const std::string& name, const std::string& source, const char* fn) {
    const T* p = m.data();
    for (std::size_t k = 0; k < m.size(); ++k)
        if (!std::isfinite(p[k]))
            throw IoError(concat(fn, ": '", source, "': tensor '", name, "' entry ", k, " (row ", k / m.shape(1),
                                 ", column ", k % m.shape(1), ") is ", p[k], ", not a finite number"));
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
/// `integers` are saved as integer arrays (ids, counts, indices: read them back with
/// integer_array(), which range-checks every value).
template <class T>
void save_tensors(const std::string& path, const Metadata& metadata, const std::vector<nn::TensorRef<T>>& tensors,
                  const std::vector<IntegerArrayRef>& integers = {}) {
    std::vector<detail::SaveItem<T>> items;
    items.reserve(tensors.size());
    for (const auto& t : tensors) items.push_back({&t.name, t.tensor});
    detail::save_impl(path, metadata, items, integers, "cfnet::save_tensors");
}

/// Saves a whole ModelFile to `path` (atomically, as save_tensors).
/// @throws InvalidArgument on an empty or repeated tensor name; IoError when writing fails.
template <class T>
void save_model_file(const std::string& path, const ModelFile<T>& file) {
    std::vector<detail::SaveItem<T>> items;
    items.reserve(file.tensors.size());
    for (const auto& [name, m] : file.tensors) items.push_back({&name, &m});
    std::vector<IntegerArrayRef> integers;
    for (const auto& [name, v] : file.integers) integers.push_back({name, &v});
    detail::save_impl(path, file.metadata, items, integers, "cfnet::save_model_file");
}

/// Reads the description of a model file (version, scalar type, metadata, tensor names and
/// shapes) after verifying all of it, checksum included. Works for any scalar type.
/// @throws IoError when the file cannot be read or is not a valid cfnet model file.
inline ModelFileInfo read_model_info(const std::string& path) {
    return detail::parse_model_file(path, "cfnet::read_model_info").info;
}

namespace detail {

/// Decodes the tensors and integer arrays of a verified file into `out`.
template <class T>
void decode_model_file(ParsedModelFile& f, ModelFile<T>& out) {
    out.metadata = std::move(f.info.metadata);
    out.tensors.reserve(f.info.tensors.size());
    for (std::size_t i = 0; i < f.info.tensors.size(); ++i) {
        const TensorInfo& t = f.info.tensors[i];
        typename Matrix<T>::shape_type shape = {t.rows, t.cols};
        Matrix<T> m(shape);
        decode_scalars(f.bytes.data() + f.data_offsets[i], m.size(), m.data());
        out.tensors.emplace_back(t.name, std::move(m));
    }
    out.integers.reserve(f.info.integer_arrays.size());
    for (std::size_t i = 0; i < f.info.integer_arrays.size(); ++i) {
        IntegerArray v(f.info.integer_arrays[i].size);
        for (std::size_t k = 0; k < v.size(); ++k) v[k] = load_le<std::uint64_t>(f.bytes.data() + f.integer_offsets[i] + 8 * k);
        out.integers.emplace_back(f.info.integer_arrays[i].name, std::move(v));
    }
}

}  // namespace detail

/// Reads a whole model file whose tensors have scalar type `T`.
/// @throws IoError when the file cannot be read or is not a valid cfnet model file, or when memory
///         runs out (saying how many bytes loading needs). Tensor values are returned bit-exactly,
///         NaN and infinity included (assign_tensors rejects them).
/// @throws InvalidArgument when the file stores another scalar type.
template <class T>
ModelFile<T> read_model_file(const std::string& path) {
    constexpr const char* fn = "cfnet::read_model_file";
    detail::ParsedModelFile f = detail::parse_model_file(path, fn);
    detail::check_scalar_type<T>(f.info.scalar_type, path, fn);
    ModelFile<T> out;
    try {
        detail::decode_model_file(f, out);
    } catch (const std::bad_alloc&) {
        throw IoError(detail::concat(fn, ": '", path, "': not enough memory to load it: it needs about ",
                                     2 * f.bytes.size(), " bytes (the ", f.bytes.size(),
                                     " of the file and its decoded tensors)"));
    }
    return out;
}

/// Loads the tensors of `path` into existing matrices and returns the file's metadata.
/// All-or-nothing: the file is read and verified completely first (integrity, scalar type, every
/// destination name present with exactly the destination's shape, and with UnknownTensors::reject
/// no stored tensor left over); only then are the destinations overwritten, in place (their
/// storage is not reallocated). On any error every destination is left untouched.
/// @pre destination pointers are non-null; names are non-empty and unique.
/// @throws IoError when the file cannot be read or is not a valid cfnet model file (values are
///         copied bit-exactly, NaN and infinity included).
/// @throws InvalidArgument on a scalar-type mismatch, a missing tensor, a shape mismatch, an
///         unknown stored tensor or integer array (with UnknownTensors::reject) or bad destinations.
template <class T>
Metadata load_tensors(const std::string& path, const std::vector<nn::TensorRef<T>>& dest,
                      UnknownTensors unknown = UnknownTensors::reject) {
    constexpr const char* fn = "cfnet::load_tensors";
    detail::check_destinations(dest, path, fn);
    detail::ParsedModelFile f = detail::parse_model_file(path, fn);
    detail::check_scalar_type<T>(f.info.scalar_type, path, fn);
    const auto match = detail::match_destinations(f.info.tensors, dest, unknown, path, fn);
    if (unknown == UnknownTensors::reject && !f.info.integer_arrays.empty())
        throw InvalidArgument(detail::concat(fn, ": '", path, "': the file holds integer array '", f.info.integer_arrays[0].name,
                                     "' that no destination asks for (pass UnknownTensors::ignore to skip it)"));
    // Commit: nothing below can throw.
    for (std::size_t i = 0; i < dest.size(); ++i)
        detail::decode_scalars(f.bytes.data() + f.data_offsets[match[i]], dest[i].tensor->size(),
                               dest[i].tensor->data());
    return std::move(f.info.metadata);
}

/// The integer array `name` of `file` as a vector of `I`, every value checked to be at most
/// `max_value` (and to fit `I`), and its length to be `expected_size` unless that is npos.
/// `fn` and `source` (e.g. "NeuralCF::load" and the path) name the origin in error messages.
/// @throws IoError naming the file, the array and the first bad entry when the array is missing,
///         has another length or holds a value out of range.
template <class I, class T>
std::vector<I> integer_array(const ModelFile<T>& file, const std::string& name, std::uint64_t max_value,
                             std::size_t expected_size, const std::string& source, const char* fn) {
    static_assert(std::is_integral_v<I> && std::is_unsigned_v<I>, "integer arrays hold unsigned values");
    const IntegerArray* v = file.find_integers(name);
    if (!v) throw IoError(detail::concat(fn, ": '", source, "': integer array '", name, "' is missing"));
    if (expected_size != static_cast<std::size_t>(-1) && v->size() != expected_size)
        throw IoError(detail::concat(fn, ": '", source, "': integer array '", name, "' has ", v->size(),
                                     " values, expected ", expected_size));
    const std::uint64_t limit = std::min<std::uint64_t>(max_value, std::numeric_limits<I>::max());
    std::vector<I> out(v->size());
    for (std::size_t k = 0; k < v->size(); ++k) {
        if ((*v)[k] > limit)
            throw IoError(detail::concat(fn, ": '", source, "': integer array '", name, "' entry ", k, " = ", (*v)[k],
                                         " is out of range (at most ", limit, ")"));
        out[k] = static_cast<I>((*v)[k]);
    }
    return out;
}

/// Copies the tensors of an already read ModelFile into existing matrices, with the same checks
/// and the same all-or-nothing guarantee as load_tensors (for models that read their
/// configuration from the metadata first, build themselves, then take their parameters).
/// `source` names the origin (e.g. the path) in error messages.
/// Models load through this function, so it also rejects NaN and infinity (a model file's
/// parameters are finite); stored integer arrays are not looked at (read them with integer_array()).
/// @throws InvalidArgument on a missing tensor, a shape mismatch, an unknown stored tensor (with
///         UnknownTensors::reject), a repeated stored name or bad destinations.
/// @throws IoError when a destination's tensor holds NaN or infinity (naming it and the entry).
template <class T>
void assign_tensors(const ModelFile<T>& file, const std::vector<nn::TensorRef<T>>& dest,
                    UnknownTensors unknown = UnknownTensors::reject, const std::string& source = "model file") {
    constexpr const char* fn = "cfnet::assign_tensors";
    detail::check_destinations(dest, source, fn);
    std::vector<TensorInfo> stored;
    stored.reserve(file.tensors.size());
    for (const auto& [name, m] : file.tensors) stored.push_back({name, m.shape(0), m.shape(1)});
    const auto match = detail::match_destinations(stored, dest, unknown, source, fn);
    for (std::size_t i = 0; i < dest.size(); ++i)
        detail::check_finite(file.tensors[match[i]].second, dest[i].name, source, fn);
    for (std::size_t i = 0; i < dest.size(); ++i) {
        const Matrix<T>& src = file.tensors[match[i]].second;
        std::copy(src.begin(), src.end(), dest[i].tensor->begin());
    }
}

}  // namespace cfnet
