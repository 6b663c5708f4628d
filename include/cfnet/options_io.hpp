#pragma once
/// @file options_io.hpp
/// Options <-> model-file metadata through one field table per options struct.
///
/// Each options struct that a model stores in its file has ONE table, defined next to the struct,
/// listing every stored field once: its metadata key, the member and the codec that formats and
/// parses it. Writing the metadata and reading it back are both derived from that table, so a key
/// cannot be written one way and read another, and a test can walk the table to check that every
/// field survives a round trip.
///
///   template <>
///   inline const OptionsTable<MyOptions>& options_table<MyOptions>() {
///       static const OptionsTable<MyOptions> t = OptionsTable<MyOptions>()
///           .number("learning_rate", &MyOptions::learning_rate)
///           .integer("epochs", &MyOptions::epochs)
///           .enumeration("activation", &MyOptions::activation, activation_from_string)
///           .flag("refit", &MyOptions::refit).default_if_missing();  // a key added later
///       return t;
///   }
///   write_options(opt, metadata);                                     // in save()
///   MyOptions o = read_options<MyOptions>(MetadataReader(meta, "MyModel::load", path));  // in load()
///
/// Codecs (the text is what the model file holds; reading accepts exactly what writing produces):
///
/// | codec | member type | text | reading fails with (MetadataReader) |
/// |---|---|---|---|
/// | number | double | metadata_number (%.17g: exact, inf/nan too) | "is not a number" |
/// | integer | any integer type | std::to_string | "is not a count" (negative or out of range too) |
/// | flag | bool | "1" / "0" | "is not 0 or 1" |
/// | enumeration | enum with to_string (ADL) and a parser that throws InvalidArgument | to_string(v) | "is not valid: <parser's message>" |
/// | choice | enum, names given in the table | the name | "is not one of <names>" |
/// | list | std::vector of integers | metadata_list(v, sep) | "is not a list of integers separated by ..." |
/// | optional_number | std::optional<double> | "" for none, else as number | "is not a number" |
///
/// Every failure is an IoError "<who>: '<path>': metadata '<key>' = '<value>' <what>" (or
/// "... metadata key '<key>' is missing"); validating the options as a whole stays the model's job.

#include <cfnet/error.hpp>
#include <cfnet/serialize.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet {

/// One stored option: its key, codec and the two directions.
template <class Options>
struct OptionField {
    std::string key;     ///< the metadata key, exactly as in the file
    std::string codec;   ///< "number", "integer", "flag", "enumeration", "choice", "list", "optional_number"
    bool required = true;  ///< false: a file without the key (older than the option) reads as the default
    std::function<std::string(const Options&)> write;               ///< the value's text
    std::function<void(const MetadataReader&, Options&)> read;     ///< parses the key into the options
};

/// The field table of one options struct (see the file comment). Built once with chained adders.
template <class Options>
class OptionsTable {
public:
    using field_type = OptionField<Options>;

    /// A double, written with metadata_number.
    OptionsTable& number(std::string key, double Options::*member) {
        return add(std::move(key), "number", [member](const Options& o) { return metadata_number(o.*member); },
                   [member](const MetadataReader& r, const std::string& k, Options& o) { o.*member = r.number(k); });
    }

    /// A non-negative integer (size_t, int, uint64_t, ...), written with std::to_string.
    template <class Int>
    OptionsTable& integer(std::string key, Int Options::*member) {
        static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>, "OptionsTable::integer: integers only");
        return add(std::move(key), "integer", [member](const Options& o) { return std::to_string(o.*member); },
                   [member](const MetadataReader& r, const std::string& k, Options& o) {
                       o.*member = r.count<Int>(k);
                   });
    }

    /// A bool, written "1" or "0".
    OptionsTable& flag(std::string key, bool Options::*member) {
        return add(std::move(key), "flag", [member](const Options& o) { return std::string(o.*member ? "1" : "0"); },
                   [member](const MetadataReader& r, const std::string& k, Options& o) { o.*member = r.flag(k); });
    }

    /// An enum written as to_string(value) (found by argument-dependent lookup) and read back with
    /// `parse` (text -> enum, throwing InvalidArgument for unknown text).
    template <class E, class Parse>
    OptionsTable& enumeration(std::string key, E Options::*member, Parse parse) {
        static_assert(std::is_enum_v<E>, "OptionsTable::enumeration: enums only");
        return add(std::move(key), "enumeration", [member](const Options& o) { return std::string(to_string(o.*member)); },
                   [member, parse](const MetadataReader& r, const std::string& k, Options& o) {
                       o.*member = r.parsed(k, parse);
                   });
    }

    /// An enum written as the name the table pairs with its value, read back by name.
    template <class E>
    OptionsTable& choice(std::string key, E Options::*member, std::initializer_list<std::pair<const char*, E>> names) {
        static_assert(std::is_enum_v<E>, "OptionsTable::choice: enums only");
        std::vector<std::pair<std::string, E>> list(names.begin(), names.end());
        const std::string k0 = key;
        return add(std::move(key), "choice",
                   [member, list, k0](const Options& o) {
                       for (const auto& [name, value] : list)
                           if (value == o.*member) return name;
                       throw InvalidArgument("OptionsTable: option '" + k0 + "' holds a value the table has no name for");
                   },
                   [member, list](const MetadataReader& r, const std::string& k, Options& o) {
                       const std::string& v = r.text(k);
                       std::string all;
                       for (const auto& [name, value] : list) {
                           if (v == name) {
                               o.*member = value;
                               return;
                           }
                           all += (all.empty() ? "" : ", ") + name;
                       }
                       r.fail(k, "is not one of " + all);
                   });
    }

    /// A vector of integers, written with metadata_list(v, sep); an empty value is an empty list.
    template <class Int>
    OptionsTable& list(std::string key, std::vector<Int> Options::*member, char sep) {
        return add(std::move(key), "list", [member, sep](const Options& o) { return metadata_list(o.*member, sep); },
                   [member, sep](const MetadataReader& r, const std::string& k, Options& o) {
                       o.*member = r.integers<Int>(k, sep);
                   });
    }

    /// An optional double: "" when unset, otherwise as number().
    OptionsTable& optional_number(std::string key, std::optional<double> Options::*member) {
        return add(std::move(key), "optional_number",
                   [member](const Options& o) { return o.*member ? metadata_number(*(o.*member)) : std::string(); },
                   [member](const MetadataReader& r, const std::string& k, Options& o) {
                       if (r.text(k).empty())
                           (o.*member).reset();
                       else
                           o.*member = r.number(k);
                   });
    }

    /// Marks the field added last as optional in files: a file without its key (written before
    /// the option existed) leaves the option at the value it had (the struct's default).
    OptionsTable& default_if_missing() {
        check_arg(!fields_.empty(), "OptionsTable::default_if_missing: no field added yet");
        fields_.back().required = false;
        return *this;
    }

    /// Sets every field's key in `m` (other keys are left alone).
    void write(const Options& o, Metadata& m) const {
        for (const auto& f : fields_) m[f.key] = f.write(o);
    }

    /// Reads every field from `r` into `o`; a field marked default_if_missing whose key is absent
    /// keeps its value in `o`. Does not validate the options as a whole.
    /// @throws IoError (from MetadataReader) naming the file, the key and the bad value.
    void read(const MetadataReader& r, Options& o) const {
        for (const auto& f : fields_)
            if (f.required || r.has(f.key)) f.read(r, o);
    }

    const std::vector<field_type>& fields() const noexcept { return fields_; }
    std::size_t size() const noexcept { return fields_.size(); }

private:
    template <class W, class R>
    OptionsTable& add(std::string key, const char* codec, W write_fn, R read_fn) {
        for (const auto& f : fields_)
            check_arg(f.key != key, "OptionsTable: key '", key, "' is listed twice");
        field_type f;
        f.key = key;
        f.codec = codec;
        f.write = std::move(write_fn);
        f.read = [k = std::move(key), read_fn = std::move(read_fn)](const MetadataReader& r, Options& o) {
            read_fn(r, k, o);
        };
        fields_.push_back(std::move(f));
        return *this;
    }

    std::vector<field_type> fields_;
};

/// The field table of `Options`: specialised (inline) next to each options struct that model
/// files store. There is no generic definition: a struct without a table fails to link.
template <class Options>
const OptionsTable<Options>& options_table();

/// Writes `o`'s fields into `m` by options_table<Options>().
template <class Options>
void write_options(const Options& o, Metadata& m) {
    options_table<Options>().write(o, m);
}

/// `Options` read from `r` by options_table<Options>(), starting from `start` (for keys a file
/// may lack, see default_if_missing). Does not validate.
/// @throws IoError naming the file, the key and the bad value.
template <class Options>
Options read_options(const MetadataReader& r, Options start = Options{}) {
    options_table<Options>().read(r, start);
    return start;
}

}  // namespace cfnet
