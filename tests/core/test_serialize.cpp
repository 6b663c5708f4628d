#include <cfnet/serialize.hpp>

#include <catch2/catch.hpp>

#include <cfnet/detail/rng.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace fs = std::filesystem;
using cfnet::Matrix;
using cfnet::Metadata;
using cfnet::ScalarType;
using cfnet::UnknownTensors;
using Bytes = std::vector<unsigned char>;
template <class T>
using Refs = std::vector<cfnet::nn::TensorRef<T>>;

namespace {

// --- files ------------------------------------------------------------------------------------------

class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        const auto stamp = std::chrono::high_resolution_clock::now().time_since_epoch().count();
        dir_ = fs::temp_directory_path() /
               ("cfnet_test_serialize_" + std::to_string(stamp) + "_" + std::to_string(counter++));
        fs::create_directories(dir_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (dir_ / name).string(); }

private:
    fs::path dir_;
};

Bytes read_bytes(const std::string& path) {
    std::ifstream is(path, std::ios::binary);
    REQUIRE(is);
    return Bytes(std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const Bytes& b) {
    std::ofstream os(path, std::ios::binary | std::ios::trunc);
    os.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    REQUIRE(os);
}

// --- a naive reference encoder (bitwise CRC, byte-by-byte little-endian) -------------------------------

std::uint32_t naive_crc32(const unsigned char* p, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : (c >> 1);
    }
    return ~c;
}

struct RefEncoder {
    Bytes out;
    void raw(const std::string& s) { out.insert(out.end(), s.begin(), s.end()); }
    void uint(std::uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>((v >> (8 * i)) & 0xFFu));
    }
    void u32(std::uint32_t v) { uint(v, 4); }
    void u64(std::uint64_t v) { uint(v, 8); }
    void str(const std::string& s) {
        u64(s.size());
        raw(s);
    }
    void f32(float v) {
        std::uint32_t bits;
        std::memcpy(&bits, &v, 4);
        u32(bits);
    }
    void f64(double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, 8);
        u64(bits);
    }
    /// Header with a placeholder size; finish() fills it in.
    void header(std::uint32_t version, std::uint32_t tag) {
        raw("CFNETMDL");
        u32(version);
        u32(tag);
        u64(0);
    }
    Bytes finish() {
        const std::uint64_t size = out.size() + 4;
        for (int i = 0; i < 8; ++i) out[16 + static_cast<std::size_t>(i)] = static_cast<unsigned char>((size >> (8 * i)) & 0xFFu);
        u32(naive_crc32(out.data(), out.size()));
        return out;
    }
};

/// Recomputes the checksum after a deliberate edit (so that a later check is the one that fires).
void fix_crc(Bytes& b) {
    const std::uint32_t c = naive_crc32(b.data(), b.size() - 4);
    for (int i = 0; i < 4; ++i) b[b.size() - 4 + static_cast<std::size_t>(i)] = static_cast<unsigned char>((c >> (8 * i)) & 0xFFu);
}

// --- matrices -----------------------------------------------------------------------------------------

template <class T>
Matrix<T> random_matrix(std::size_t r, std::size_t c, std::uint64_t seed) {
    cfnet::Rng rng(seed);
    Matrix<T> m = Matrix<T>::from_shape({r, c});
    for (auto& v : m) v = static_cast<T>(rng.normal());
    return m;
}

template <class T>
bool same_bits(const Matrix<T>& a, const Matrix<T>& b) {
    return a.shape(0) == b.shape(0) && a.shape(1) == b.shape(1) &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

/// Two destinations ("W" 3x4, "b" 1x4) holding values that differ from any saved file.
template <class T>
struct Destinations {
    Matrix<T> w = random_matrix<T>(3, 4, 901);
    Matrix<T> b = random_matrix<T>(1, 4, 902);
    Refs<T> refs() { return {{"W", &w}, {"b", &b}}; }
};

/// Runs `f`, which must throw exactly `E` with `fragment` and `path` in its message.
template <class E, class F>
void expect_error(F&& f, const std::string& fragment, const std::string& path) {
    bool thrown = false;
    try {
        f();
    } catch (const E& e) {
        thrown = true;
        const std::string msg = e.what();
        INFO("message: " << msg);
        CHECK_THAT(msg, Catch::Contains(fragment));
        CHECK_THAT(msg, Catch::Contains(path));
    }
    CHECK(thrown);
}

/// load_tensors must fail with E and leave both destinations bit-identical.
template <class E, class T>
void expect_failed_load(const std::string& path, Destinations<T>& d, const std::string& fragment,
                        Refs<T> refs = {}, UnknownTensors unknown = UnknownTensors::reject) {
    const Matrix<T> w0 = d.w, b0 = d.b;
    if (refs.empty()) refs = d.refs();
    expect_error<E>([&] { cfnet::load_tensors(path, refs, unknown); }, fragment, path);
    CHECK(same_bits(d.w, w0));
    CHECK(same_bits(d.b, b0));
}

/// The standard float file of the corruption tests: W (3x4), b (1x4) and metadata.
std::string save_standard(const TempDir& dir, const std::string& name = "model.cfm") {
    const std::string path = dir.file(name);
    Matrix<float> w = random_matrix<float>(3, 4, 1), b = random_matrix<float>(1, 4, 2);
    cfnet::save_tensors<float>(path, {{"model", "autoencoder"}, {"hidden", "512"}}, {{"W", &w}, {"b", &b}});
    return path;
}

}  // namespace

TEST_CASE("crc32 matches the standard check value and a bitwise reference", "[serialize]") {
    const std::string check = "123456789";
    CHECK(cfnet::detail::crc32(check.data(), check.size()) == 0xCBF43926u);
    CHECK(cfnet::detail::crc32(nullptr, 0) == 0u);
    cfnet::Rng rng(5);
    Bytes buf(300);
    for (auto& x : buf) x = static_cast<unsigned char>(rng.below(256));
    for (std::size_t n : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 31u, 64u, 299u, 300u}) {
        INFO("n = " << n);
        CHECK(cfnet::detail::crc32(buf.data(), n) == naive_crc32(buf.data(), n));
        for (std::size_t cut : {std::size_t{0}, n / 3, n - 1}) {  // incremental == whole
            const auto part = cfnet::detail::crc32_update(0, buf.data(), cut);
            CHECK(cfnet::detail::crc32_update(part, buf.data() + cut, n - cut) == naive_crc32(buf.data(), n));
        }
    }
}

TEST_CASE("the bytes on disk are exactly the documented little-endian format", "[serialize]") {
    TempDir dir;
    SECTION("float32") {
        const std::string path = dir.file("f.cfm");
        Matrix<float> w = {{1.0f, -2.5f}};
        cfnet::save_tensors<float>(path, {{"k", "v"}}, {{"w", &w}});
        RefEncoder e;
        e.header(2, 1);
        e.u64(1);
        e.str("k");
        e.str("v");
        e.u64(1);
        e.str("w");
        e.u64(1);
        e.u64(2);
        e.f32(1.0f);
        e.f32(-2.5f);
        e.u64(0);  // no integer arrays
        CHECK(read_bytes(path) == e.finish());
    }
    SECTION("float64, no metadata, two tensors in the given order") {
        const std::string path = dir.file("d.cfm");
        Matrix<double> z = Matrix<double>::from_shape({0, 3});
        Matrix<double> a = {{0.5}, {-0.0}};
        cfnet::save_tensors<double>(path, {}, {{"zz", &z}, {"a", &a}});
        RefEncoder e;
        e.header(2, 2);
        e.u64(0);
        e.u64(2);
        e.str("zz");
        e.u64(0);
        e.u64(3);
        e.str("a");
        e.u64(2);
        e.u64(1);
        e.f64(0.5);
        e.f64(-0.0);
        e.u64(0);
        CHECK(read_bytes(path) == e.finish());
    }
    SECTION("integer arrays follow the tensors, u64 little-endian") {
        const std::string path = dir.file("i.cfm");
        Matrix<float> w = {{3.0f}};
        const cfnet::IntegerArray ids = {7, std::uint64_t{1} << 40, 0}, none;
        cfnet::save_tensors<float>(path, {}, {{"w", &w}}, {{"ids", &ids}, {"none", &none}});
        RefEncoder e;
        e.header(2, 1);
        e.u64(0);
        e.u64(1);
        e.str("w");
        e.u64(1);
        e.u64(1);
        e.f32(3.0f);
        e.u64(2);
        e.str("ids");
        e.u64(3);
        e.u64(7);
        e.u64(std::uint64_t{1} << 40);
        e.u64(0);
        e.str("none");
        e.u64(0);
        CHECK(read_bytes(path) == e.finish());
    }
}

TEMPLATE_TEST_CASE("save then read or load round-trips bit-exactly", "[serialize]", float, double) {
    using T = TestType;
    using lim = std::numeric_limits<T>;
    TempDir dir;
    const std::string path = dir.file("round.cfm");

    Matrix<T> w = random_matrix<T>(3, 4, 11);
    const T specials[] = {T(-0.0), lim::infinity(), -lim::infinity(), lim::quiet_NaN(), lim::denorm_min(),
                          lim::max(), lim::lowest(), lim::epsilon()};
    std::copy(std::begin(specials), std::end(specials), w.begin());
    Matrix<T> b = random_matrix<T>(1, 4, 12);
    Matrix<T> none = Matrix<T>::from_shape({0, 5});
    Matrix<T> thin = Matrix<T>::from_shape({2, 0});
    const Metadata meta = {{"config", "hidden=512\nlr=0.001\n"},
                           {"json", R"({"layers": [1682, 512], "activation": "sigmoid"})"},
                           {"unicode \xC3\xA9", "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\xAC"},
                           {"empty", ""},
                           {"", "empty key"},
                           {"nul", std::string("a\0b", 3)}};
    cfnet::save_tensors<T>(path, meta, {{"W", &w}, {"b", &b}, {"none", &none}, {"thin", &thin}});
    CHECK(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".tmp"));

    SECTION("read_model_file returns everything in file order") {
        const cfnet::ModelFile<T> f = cfnet::read_model_file<T>(path);
        CHECK(f.metadata == meta);
        REQUIRE(f.tensors.size() == 4);
        CHECK(f.tensors[0].first == "W");
        CHECK(f.tensors[1].first == "b");
        CHECK(f.tensors[2].first == "none");
        CHECK(f.tensors[3].first == "thin");
        CHECK(same_bits(f.tensors[0].second, w));
        CHECK(same_bits(f.tensors[1].second, b));
        CHECK(same_bits(f.tensors[2].second, none));
        CHECK(same_bits(f.tensors[3].second, thin));
        REQUIRE(f.find("b") != nullptr);
        CHECK(same_bits(*f.find("b"), b));
        CHECK(f.find("missing") == nullptr);

        // Saving what was read reproduces the file byte for byte.
        const std::string again = dir.file("again.cfm");
        cfnet::save_model_file(again, f);
        CHECK(read_bytes(again) == read_bytes(path));
    }
    SECTION("load_tensors fills existing destinations in place and returns the metadata") {
        Matrix<T> w2 = xt::zeros<T>({3, 4}), b2 = xt::ones<T>({1, 4});
        Matrix<T> none2 = Matrix<T>::from_shape({0, 5}), thin2 = Matrix<T>::from_shape({2, 0});
        const T* storage = w2.data();
        // Destinations in another order than the file's.
        const Metadata got = cfnet::load_tensors<T>(path, {{"thin", &thin2}, {"b", &b2}, {"W", &w2}, {"none", &none2}});
        CHECK(got == meta);
        CHECK(same_bits(w2, w));
        CHECK(same_bits(b2, b));
        CHECK(w2.data() == storage);  // not reallocated
    }
    SECTION("read_model_info describes the file without the values") {
        const cfnet::ModelFileInfo info = cfnet::read_model_info(path);
        CHECK(info.version == cfnet::model_format_version);
        CHECK(info.scalar_type == cfnet::scalar_type_of<T>());
        CHECK(info.file_size == fs::file_size(path));
        const Bytes bytes = read_bytes(path);
        CHECK(info.checksum == naive_crc32(bytes.data(), bytes.size() - 4));
        CHECK(info.metadata == meta);
        REQUIRE(info.tensors.size() == 4);
        CHECK(info.tensors[0].name == "W");
        CHECK(info.tensors[0].rows == 3);
        CHECK(info.tensors[0].cols == 4);
        CHECK(info.tensors[2].rows == 0);
        CHECK(info.tensors[2].cols == 5);
        CHECK(info.tensors[3].rows == 2);
        CHECK(info.tensors[3].cols == 0);
    }
    SECTION("an empty model (no metadata, no tensors) round-trips") {
        const std::string empty = dir.file("empty.cfm");
        cfnet::save_tensors<T>(empty, {}, {});
        CHECK(fs::file_size(empty) == cfnet::detail::model_min_file_size);
        const auto f = cfnet::read_model_file<T>(empty);
        CHECK(f.metadata.empty());
        CHECK(f.tensors.empty());
    }
}

TEST_CASE("a damaged file is rejected with IoError and the destinations stay untouched", "[serialize]") {
    TempDir dir;
    const std::string good = save_standard(dir);
    const Bytes bytes = read_bytes(good);
    const std::string bad = dir.file("bad.cfm");
    Destinations<float> d;

    SECTION("truncated at several points") {
        // 0, inside the magic, inside the header, just below the minimum, inside the metadata,
        // inside the tensor count, inside the tensor data, one byte short.
        for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{12}, std::size_t{43}, std::size_t{50},
                              std::size_t{95}, bytes.size() - 20, bytes.size() - 1}) {
            INFO("truncated to " << n << " of " << bytes.size() << " bytes");
            write_bytes(bad, Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
            expect_failed_load<cfnet::IoError>(bad, d, "truncated");
        }
    }
    SECTION("one flipped byte anywhere after the header fails the checksum") {
        for (std::size_t at : {std::size_t{24}, std::size_t{40}, std::size_t{70}, bytes.size() - 30,
                               bytes.size() - 5, bytes.size() - 1}) {
            for (int mask : {0x01, 0x80, 0xFF}) {
                INFO("byte " << at << " xor " << int(mask));
                Bytes b = bytes;
                b[at] = static_cast<unsigned char>(b[at] ^ mask);
                write_bytes(bad, b);
                expect_failed_load<cfnet::IoError>(bad, d, "checksum mismatch");
            }
        }
    }
    SECTION("a damaged size field is reported as a size mismatch") {
        Bytes b = bytes;
        b[16] = static_cast<unsigned char>(b[16] + 1);
        write_bytes(bad, b);
        expect_failed_load<cfnet::IoError>(bad, d, "truncated: the file has");
        b[16] = static_cast<unsigned char>(b[16] - 2);
        write_bytes(bad, b);
        expect_failed_load<cfnet::IoError>(bad, d, "trailing data");
    }
    SECTION("trailing bytes after the checksum") {
        Bytes b = bytes;
        b.push_back(0);
        write_bytes(bad, b);
        expect_failed_load<cfnet::IoError>(bad, d, "trailing data");
    }
    SECTION("wrong magic") {
        Bytes b = bytes;
        b[0] = 'X';
        write_bytes(bad, b);
        expect_failed_load<cfnet::IoError>(bad, d, "bad magic");
        write_bytes(bad, Bytes{'u', 's', 'e', 'r', '\t', 'i', 't', 'e', 'm', '\n'});
        expect_failed_load<cfnet::IoError>(bad, d, "not a cfnet model file");
    }
    SECTION("a future format version") {
        Bytes b = bytes;
        b[8] = 3;
        fix_crc(b);
        write_bytes(bad, b);
        expect_failed_load<cfnet::IoError>(bad, d, "unsupported format version 3");
        expect_error<cfnet::IoError>([&] { cfnet::read_model_info(bad); }, "newer cfnet", bad);
        b[8] = 0;
        fix_crc(b);
        write_bytes(bad, b);
        expect_failed_load<cfnet::IoError>(bad, d, "unsupported format version 0");
    }
    SECTION("an unreadable path") {
        const std::string missing = dir.file("no_such_file.cfm");
        expect_failed_load<cfnet::IoError>(missing, d, "cannot open");
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(missing); }, "cannot open", missing);
        const std::string a_dir = dir.file("a_directory");
        fs::create_directory(a_dir);
        expect_failed_load<cfnet::IoError>(a_dir, d, "cannot");
    }
}

TEST_CASE("a file that does not fit the destinations is rejected with InvalidArgument", "[serialize]") {
    TempDir dir;
    const std::string good = save_standard(dir);
    Destinations<float> d;

    SECTION("float file loaded as double") {
        Destinations<double> dd;
        expect_failed_load<cfnet::InvalidArgument>(good, dd, "stores float32 tensors but the destination type is float64");
        expect_error<cfnet::InvalidArgument>([&] { cfnet::read_model_file<double>(good); }, "float32", good);
    }
    SECTION("missing tensor: the tensors before it are not written either") {
        Matrix<float> c = xt::zeros<float>({2, 2});
        const Matrix<float> c0 = c;
        expect_failed_load<cfnet::InvalidArgument>(good, d, "tensor 'c' is missing from the file (it holds: 'W', 'b')",
                                                   {{"W", &d.w}, {"b", &d.b}, {"c", &c}});
        CHECK(same_bits(c, c0));
    }
    SECTION("wrong shape of the second tensor: the first is not written") {
        d.b = random_matrix<float>(4, 1, 3);
        expect_failed_load<cfnet::InvalidArgument>(good, d, "tensor 'b' is 1 x 4 in the file but the destination is 4 x 1");
    }
    SECTION("a stored tensor nobody asked for") {
        expect_failed_load<cfnet::InvalidArgument>(good, d, "holds tensor 'b' that no destination asks for",
                                                   {{"W", &d.w}});
        const Matrix<float> b0 = d.b;
        cfnet::load_tensors<float>(good, {{"W", &d.w}}, UnknownTensors::ignore);
        CHECK(same_bits(d.w, random_matrix<float>(3, 4, 1)));
        CHECK(same_bits(d.b, b0));
    }
    SECTION("bad destinations") {
        expect_failed_load<cfnet::InvalidArgument>(good, d, "destination #1 ('b') is a null pointer",
                                                   {{"W", &d.w}, {"b", nullptr}});
        expect_failed_load<cfnet::InvalidArgument>(good, d, "destination name 'W' appears twice",
                                                   {{"W", &d.w}, {"W", &d.b}});
    }
    SECTION("the happy path after all of that") {
        const Metadata meta = cfnet::load_tensors(good, d.refs());
        CHECK(meta == Metadata{{"model", "autoencoder"}, {"hidden", "512"}});
        CHECK(same_bits(d.w, random_matrix<float>(3, 4, 1)));
        CHECK(same_bits(d.b, random_matrix<float>(1, 4, 2)));
    }
}

TEST_CASE("structurally malformed files with a valid checksum are rejected by the bounds checks", "[serialize]") {
    TempDir dir;
    const std::string bad = dir.file("forged.cfm");
    Destinations<float> d;
    // A well-formed W (3x4) + b (1x4) float file, with hooks to damage one field.
    auto forge = [&](std::uint32_t tag, std::uint64_t n_meta, std::uint64_t w_rows, const std::string& second_name,
                     std::uint64_t name_len_extra, bool junk) {
        RefEncoder e;
        e.header(1, tag);
        e.u64(n_meta);
        e.str("k");
        e.str("v");
        e.u64(2);
        e.str("W");
        e.u64(w_rows);
        e.u64(4);
        for (int i = 0; i < 12; ++i) e.f32(float(i));
        e.u64(second_name.size() + name_len_extra);
        e.raw(second_name);
        e.u64(1);
        e.u64(4);
        for (int i = 0; i < 4; ++i) e.f32(float(i));
        if (junk) e.u32(0);
        write_bytes(bad, e.finish());
    };
    SECTION("the forge itself makes a valid file") {
        forge(1, 1, 3, "b", 0, false);
        cfnet::load_tensors(bad, d.refs());
        CHECK(d.w(2, 3) == 11.0f);
        CHECK(d.b(0, 3) == 3.0f);
    }
    SECTION("unknown scalar type tag") {
        forge(3, 1, 3, "b", 0, false);
        expect_failed_load<cfnet::IoError>(bad, d, "unknown scalar type tag 3");
    }
    SECTION("absurd metadata count") {
        forge(1, std::uint64_t{1} << 60, 3, "b", 0, false);
        expect_failed_load<cfnet::IoError>(bad, d, "field 'metadata_count'");
    }
    SECTION("tensor larger than the file (no huge allocation, no overflow)") {
        forge(1, 1, std::uint64_t{1} << 40, "b", 0, false);
        expect_failed_load<cfnet::IoError>(bad, d, "field 'tensor 'W' data'");
        forge(1, 1, std::numeric_limits<std::uint64_t>::max(), "b", 0, false);
        expect_failed_load<cfnet::IoError>(bad, d, "malformed model file");
    }
    SECTION("a string length running past the end") {
        forge(1, 1, 3, "b", 1000, false);
        expect_failed_load<cfnet::IoError>(bad, d, "field 'tensor[1].name'");
    }
    SECTION("duplicate and empty tensor names") {
        forge(1, 1, 3, "W", 0, false);
        expect_failed_load<cfnet::IoError>(bad, d, "duplicate tensor 'W'");
        forge(1, 1, 3, "", 0, false);
        expect_failed_load<cfnet::IoError>(bad, d, "empty tensor name");
    }
    SECTION("unexplained bytes before the checksum") {
        forge(1, 1, 3, "b", 0, true);
        expect_failed_load<cfnet::IoError>(bad, d, "unexplained bytes");
    }
}

TEST_CASE("saving validates first and never leaves a half-written file", "[serialize]") {
    TempDir dir;
    const std::string path = save_standard(dir);
    const Bytes before = read_bytes(path);
    Matrix<float> m = xt::ones<float>({2, 2});

    SECTION("bad tensor lists throw InvalidArgument and keep the old file") {
        expect_error<cfnet::InvalidArgument>([&] { cfnet::save_tensors<float>(path, {}, {{"a", &m}, {"a", &m}}); },
                                             "tensor name 'a' appears twice", path);
        expect_error<cfnet::InvalidArgument>([&] { cfnet::save_tensors<float>(path, {}, {{"a", nullptr}}); },
                                             "tensor #0 ('a') is a null pointer", path);
        expect_error<cfnet::InvalidArgument>([&] { cfnet::save_tensors<float>(path, {}, {{"", &m}}); },
                                             "empty name", path);
        cfnet::ModelFile<float> f;
        f.tensors.emplace_back("x", m);
        f.tensors.emplace_back("x", m);
        expect_error<cfnet::InvalidArgument>([&] { cfnet::save_model_file(path, f); }, "appears twice", path);
        CHECK(read_bytes(path) == before);
        CHECK_FALSE(fs::exists(path + ".tmp"));
    }
    SECTION("an unwritable path throws IoError") {
        const std::string nowhere = dir.file("no_such_dir/model.cfm");
        expect_error<cfnet::IoError>([&] { cfnet::save_tensors<float>(nowhere, {}, {{"m", &m}}); }, "cannot open",
                                     nowhere);
        CHECK_FALSE(fs::exists(nowhere));
        // The target is a directory: writing the temporary works, the rename fails and is cleaned up.
        const std::string a_dir = dir.file("a_directory");
        fs::create_directory(a_dir);
        expect_error<cfnet::IoError>([&] { cfnet::save_tensors<float>(a_dir, {}, {{"m", &m}}); }, "cannot rename",
                                     a_dir);
        CHECK_FALSE(fs::exists(a_dir + ".tmp"));
        CHECK(fs::is_directory(a_dir));
    }
    SECTION("saving over an existing file replaces it") {
        cfnet::save_tensors<float>(path, {{"v", "2"}}, {{"m", &m}});
        const auto f = cfnet::read_model_file<float>(path);
        CHECK(f.metadata == Metadata{{"v", "2"}});
        REQUIRE(f.tensors.size() == 1);
        CHECK(same_bits(f.tensors[0].second, m));
        CHECK_FALSE(fs::exists(path + ".tmp"));
    }
}

TEST_CASE("assign_tensors copies from a ModelFile with the same all-or-nothing checks", "[serialize]") {
    cfnet::ModelFile<float> f;
    f.metadata = {{"model", "x"}};
    f.tensors.emplace_back("W", random_matrix<float>(3, 4, 21));
    f.tensors.emplace_back("b", random_matrix<float>(1, 4, 22));
    Destinations<float> d;
    const Matrix<float> w0 = d.w, b0 = d.b;

    Matrix<float> wrong = xt::zeros<float>({3, 5});
    expect_error<cfnet::InvalidArgument>(
        [&] { cfnet::assign_tensors<float>(f, {{"b", &d.b}, {"W", &wrong}}, UnknownTensors::reject, "ckpt"); },
        "tensor 'W' is 3 x 4 in the file but the destination is 3 x 5", "ckpt");
    CHECK(same_bits(d.b, b0));
    expect_error<cfnet::InvalidArgument>([&] { cfnet::assign_tensors<float>(f, {{"b", &d.b}}); },
                                         "holds tensor 'W'", "model file");
    CHECK(same_bits(d.b, b0));

    cfnet::assign_tensors(f, d.refs());
    CHECK(same_bits(d.w, f.tensors[0].second));
    CHECK(same_bits(d.b, f.tensors[1].second));
    CHECK_FALSE(same_bits(d.w, w0));
}

TEST_CASE("parameter_refs names parameter values with a prefix and round-trips them", "[serialize]") {
    cfnet::nn::Parameter<double> w("W", 2, 3), b("b", 1, 3);
    w.value = random_matrix<double>(2, 3, 31);
    b.value = random_matrix<double>(1, 3, 32);
    w.grad = random_matrix<double>(2, 3, 33);
    const cfnet::nn::ParameterList<double> params = {&w, &b};
    const auto refs = cfnet::parameter_refs(params, "enc.");
    REQUIRE(refs.size() == 2);
    CHECK(refs[0].name == "enc.W");
    CHECK(refs[1].name == "enc.b");
    CHECK(refs[0].tensor == &w.value);
    CHECK(refs[1].tensor == &b.value);

    TempDir dir;
    const std::string path = dir.file("params.cfm");
    cfnet::save_tensors(path, {}, refs);
    cfnet::nn::Parameter<double> w2("W", 2, 3), b2("b", 1, 3);
    cfnet::load_tensors(path, cfnet::parameter_refs<double>({&w2, &b2}, "enc."));
    CHECK(same_bits(w2.value, w.value));
    CHECK(same_bits(b2.value, b.value));
    CHECK(same_bits(w2.grad, Matrix<double>(xt::zeros<double>({2, 3}))));  // gradients are not saved
    const cfnet::nn::ParameterList<double> with_null = {&w, nullptr};
    CHECK_THROWS_AS(cfnet::parameter_refs(with_null), cfnet::InvalidArgument);
}

TEST_CASE("integer arrays: round trip, version 1 files, range checks, malformed sections (issue 17)", "[serialize]") {
    TempDir dir;
    const std::string path = dir.file("ints.cfm"), bad = dir.file("bad.cfm");
    Matrix<float> w = random_matrix<float>(2, 3, 4);
    const cfnet::IntegerArray counts = {0, 3, std::numeric_limits<std::uint64_t>::max()}, items = {1, 2, 4};
    cfnet::save_tensors<float>(path, {{"model", "x"}}, {{"W", &w}}, {{"counts", &counts}, {"items", &items}});

    SECTION("read back exactly, described by read_model_info") {
        const auto f = cfnet::read_model_file<float>(path);
        REQUIRE(f.integers.size() == 2);
        CHECK(f.integers[0].first == "counts");
        CHECK(*f.find_integers("counts") == counts);
        CHECK(*f.find_integers("items") == items);
        CHECK(f.find_integers("W") == nullptr);
        CHECK(same_bits(*f.find("W"), w));
        const auto info = cfnet::read_model_info(path);
        CHECK(info.version == 2);
        REQUIRE(info.integer_arrays.size() == 2);
        CHECK(info.integer_arrays[1].name == "items");
        CHECK(info.integer_arrays[1].size == 3);
        // save_model_file writes them again, byte for byte
        cfnet::save_model_file(bad, f);
        CHECK(read_bytes(bad) == read_bytes(path));
    }
    SECTION("integer_array checks presence, length and every value") {
        const auto f = cfnet::read_model_file<float>(path);
        CHECK(cfnet::integer_array<std::uint32_t>(f, "items", 4, 3, path, "test") == std::vector<std::uint32_t>{1, 2, 4});
        expect_error<cfnet::IoError>([&] { cfnet::integer_array<std::uint32_t>(f, "items", 3, 3, path, "test"); },
                                     "integer array 'items' entry 2 = 4 is out of range (at most 3)", path);
        expect_error<cfnet::IoError>([&] { cfnet::integer_array<std::uint32_t>(f, "items", 9, 4, path, "test"); },
                                     "has 3 values, expected 4", path);
        expect_error<cfnet::IoError>([&] { cfnet::integer_array<std::uint32_t>(f, "nope", 9, 3, path, "test"); },
                                     "integer array 'nope' is missing", path);
        // the destination type bounds the range too: 2^64-1 does not fit 32 bits
        expect_error<cfnet::IoError>(
            [&] { cfnet::integer_array<std::uint32_t>(f, "counts", std::numeric_limits<std::uint64_t>::max(), 3, path, "test"); },
            "entry 2 = 18446744073709551615 is out of range (at most 4294967295)", path);
        CHECK(cfnet::integer_array<std::uint64_t>(f, "counts", std::numeric_limits<std::uint64_t>::max(),
                                                  static_cast<std::size_t>(-1), path, "test")[2] ==
              std::numeric_limits<std::uint64_t>::max());
    }
    SECTION("load_tensors rejects an integer array nobody asked for unless told to ignore it") {
        Matrix<float> d = Matrix<float>::from_shape({2, 3});
        expect_error<cfnet::InvalidArgument>([&] { cfnet::load_tensors<float>(path, {{"W", &d}}); },
                                             "integer array 'counts' that no destination asks for", path);
        cfnet::load_tensors<float>(path, {{"W", &d}}, UnknownTensors::ignore);
        CHECK(same_bits(d, w));
    }
    SECTION("a name used by a tensor and an integer array is refused on save") {
        expect_error<cfnet::InvalidArgument>(
            [&] { cfnet::save_tensors<float>(bad, {}, {{"W", &w}}, {{"W", &counts}}); }, "'W' appears twice", bad);
        expect_error<cfnet::InvalidArgument>(
            [&] { cfnet::save_tensors<float>(bad, {}, {}, {{"", &counts}}); }, "empty name", bad);
        expect_error<cfnet::InvalidArgument>(
            [&] { cfnet::save_tensors<float>(bad, {}, {}, {{"x", nullptr}}); }, "null pointer", bad);
        CHECK_FALSE(fs::exists(bad));
    }
    SECTION("a version 1 file (no integer array section) is still read") {
        RefEncoder e;
        e.header(1, 1);
        e.u64(0);
        e.u64(1);
        e.str("W");
        e.u64(1);
        e.u64(1);
        e.f32(2.0f);
        write_bytes(bad, e.finish());
        const auto f = cfnet::read_model_file<float>(bad);
        CHECK(f.integers.empty());
        CHECK((*f.find("W"))(0, 0) == 2.0f);
        CHECK(cfnet::read_model_info(bad).version == 1);
    }
    SECTION("malformed integer sections with a valid checksum") {
        auto forge = [&](std::uint64_t count, const std::string& name, std::uint64_t len, std::size_t values) {
            RefEncoder e;
            e.header(2, 1);
            e.u64(0);
            e.u64(1);
            e.str("W");
            e.u64(1);
            e.u64(1);
            e.f32(2.0f);
            e.u64(count);
            e.str(name);
            e.u64(len);
            for (std::size_t i = 0; i < values; ++i) e.u64(i);
            write_bytes(bad, e.finish());
        };
        forge(1, "ok", 2, 2);
        CHECK(cfnet::read_model_file<float>(bad).find_integers("ok")->size() == 2);
        forge(std::uint64_t{1} << 62, "ok", 2, 2);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "field 'integer_array_count'", bad);
        forge(1, "ok", std::uint64_t{1} << 61, 2);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "integer array 'ok' data", bad);
        forge(1, "ok", std::numeric_limits<std::uint64_t>::max(), 2);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "integer array 'ok' data", bad);
        forge(1, "W", 2, 2);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "duplicate name 'W'", bad);
        forge(1, "", 2, 2);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "empty integer array name", bad);
        forge(1, "ok", 2, 3);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "unexplained bytes", bad);
        forge(2, "ok", 2, 2);
        expect_error<cfnet::IoError>([&] { cfnet::read_model_file<float>(bad); }, "integer_array[1].name", bad);
    }
}

TEMPLATE_TEST_CASE("assign_tensors rejects NaN and infinity where a model loads them (issue 17)", "[serialize]", float,
                   double) {
    using T = TestType;
    using lim = std::numeric_limits<T>;
    for (const T v : {lim::quiet_NaN(), lim::infinity(), -lim::infinity()}) {
        cfnet::ModelFile<T> f;
        Matrix<T> m = xt::zeros<T>({2, 3});
        m(1, 2) = v;
        f.tensors.emplace_back("W", m);
        Matrix<T> d = xt::ones<T>({2, 3});
        const Matrix<T> d0 = d;
        INFO("value " << v);
        expect_error<cfnet::IoError>([&] { cfnet::assign_tensors<T>(f, {{"W", &d}}, UnknownTensors::reject, "src.cfm"); },
                                     "tensor 'W' entry 5 (row 1, column 2) is ", "src.cfm");
        CHECK(same_bits(d, d0));  // all or nothing
    }
}
