#pragma once
/// @file metadata.hpp
/// Model-file metadata (serialize.hpp): the text key -> value map, how numbers and integer lists
/// are written so that they read back exactly, and MetadataReader, the checked typed reads a
/// model's load() makes (every failure an IoError naming the reader, the file and the key).

#include <cfnet/error.hpp>

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

/// Text metadata of a model file (e.g. a model's configuration as key=value or JSON).
using Metadata = std::map<std::string, std::string>;

/// A double written as metadata text that reads back (MetadataReader::number) to exactly the same
/// value, subnormals, infinities and NaN included.
inline std::string metadata_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

/// Integers written as one metadata value, separated by `sep` (read back by MetadataReader::integers).
template <class Int>
std::string metadata_list(const std::vector<Int>& values, char sep) {
    static_assert(std::is_integral_v<Int>, "metadata_list: integers only");
    std::string out;
    out.reserve(values.size() * 7);
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += sep;
        out += std::to_string(values[i]);
    }
    return out;
}

/// Checked, typed reads of a model file's metadata, for a model's load(). A value must be present
/// and the whole of it well-formed; every failure is an IoError that names the reader (e.g.
/// "NeuralCF::load"), the file and the key, and quotes the offending value.
///
///   MetadataReader r(file.metadata, "MyModel::load", path);
///   opt.learning_rate = r.number("learning_rate");
///   opt.batch_size = r.count("batch_size");
class MetadataReader {
public:
    MetadataReader(const Metadata& metadata, std::string who, std::string path)
        : meta_(metadata), who_(std::move(who)), path_(std::move(path)) {}

    bool has(const std::string& key) const { return meta_.count(key) != 0; }

    /// The value as stored. @throws IoError if the key is missing.
    const std::string& text(const std::string& key) const {
        const auto it = meta_.find(key);
        if (it == meta_.end()) throw IoError(prefix() + "metadata key '" + key + "' is missing");
        return it->second;
    }

    /// "1" -> true, "0" -> false. @throws IoError otherwise.
    bool flag(const std::string& key) const {
        const std::string& v = text(key);
        if (v != "0" && v != "1") fail(key, "is not 0 or 1");
        return v == "1";
    }

    /// A double, exactly as metadata_number wrote it (shortest round trip; subnormals, inf and nan
    /// read back too). @throws IoError unless the whole value is a number.
    double number(const std::string& key) const {
        const std::string& v = text(key);
        double x = 0;
        const char* end = v.data() + v.size();
        const auto r = std::from_chars(v.data(), end, x);
        if (v.empty() || r.ec != std::errc() || r.ptr != end) fail(key, "is not a number");
        return x;
    }

    /// A non-negative integer that fits in Int. @throws IoError otherwise.
    template <class Int = std::size_t>
    Int count(const std::string& key) const {
        static_assert(std::is_integral_v<Int>, "MetadataReader::count: integers only");
        Int x = 0;
        bool ok = parse_int(text(key), x);
        if constexpr (std::is_signed_v<Int>) ok = ok && x >= 0;
        if (!ok) fail(key, "is not a count");
        return x;
    }

    /// `sep`-separated integers (metadata_list); an empty value is an empty list.
    /// @throws IoError if an element is not an integer that fits in Int.
    template <class Int = std::int64_t>
    std::vector<Int> integers(const std::string& key, char sep) const {
        static_assert(std::is_integral_v<Int>, "MetadataReader::integers: integers only");
        const std::string& v = text(key);
        std::vector<Int> out;
        if (v.empty()) return out;
        for (std::size_t b = 0;;) {
            const std::size_t e = std::min(v.find(sep, b), v.size());
            Int x = 0;
            if (!parse_int(std::string_view(v).substr(b, e - b), x))
                fail(key, "is not a list of integers separated by '" + std::string(1, sep) + "'");
            out.push_back(x);
            if (e == v.size()) break;
            b = e + 1;
        }
        return out;
    }

    /// The value paired with the stored name, e.g. choice("solver", {{"adam", Solver::adam}, ...}).
    /// @throws IoError (listing the names) when the stored text is none of them.
    template <class E>
    E choice(const std::string& key, std::initializer_list<std::pair<const char*, E>> options) const {
        const std::string& v = text(key);
        std::string names;
        for (const auto& [name, value] : options) {
            if (v == name) return value;
            names += (names.empty() ? "" : ", ") + std::string(name);
        }
        fail(key, "is not one of " + names);
    }

    /// parse(text(key)) for a parser that throws InvalidArgument on bad text (e.g. an enum's
    /// from-string function). @throws IoError naming the key, with the parser's message.
    template <class Parse>
    auto parsed(const std::string& key, Parse&& parse) const -> decltype(parse(std::string())) {
        try {
            return parse(text(key));
        } catch (const InvalidArgument& e) {
            fail(key, std::string("is not valid: ") + e.what());
        }
    }

    /// @throws IoError "<who>: '<path>': metadata '<key>' = '<value>' <what>" (a value longer than 60
    /// characters is shortened).
    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        std::string quoted;
        if (const auto it = meta_.find(key); it != meta_.end())
            quoted = " = '" + (it->second.size() > 60 ? it->second.substr(0, 57) + "..." : it->second) + "'";
        throw IoError(prefix() + "metadata '" + key + "'" + quoted + " " + what);
    }

private:
    template <class Int>
    static bool parse_int(std::string_view s, Int& x) {
        const char* end = s.data() + s.size();
        const auto r = std::from_chars(s.data(), end, x);
        return !s.empty() && r.ec == std::errc() && r.ptr == end;
    }
    std::string prefix() const { return who_ + ": '" + path_ + "': "; }

    const Metadata& meta_;
    std::string who_, path_;
};

}  // namespace cfnet
