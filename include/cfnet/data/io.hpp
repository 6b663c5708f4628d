#pragma once
/// @file data/io.hpp
/// A fast reader for delimited rating files ("user item rating [timestamp]" per line, with any
/// separator, optional header and CSV quoting) and the small text utilities the dataset loaders
/// (movielens.hpp) build on.
///
/// Rules the reader follows, whatever the format:
/// - The whole file is read at once and numbers are parsed with std::from_chars (ids and
///   timestamps as 64-bit integers, ratings as double then converted to T).
/// - Line endings may be LF or CR LF; the last line may lack its newline; a UTF-8 byte order
///   mark at the very start of the file is skipped.
/// - Blank lines (empty or only spaces, tabs and carriage returns) are allowed only at the end of the file,
///   where they are ignored. A blank line followed by more data is a ParseError: a hole in the
///   middle of a data file usually means a truncated or concatenated file, so it is reported.
/// - Spaces and tabs around a numeric field are ignored ("1, 2, 3.5" reads as 1, 2, 3.5).
/// - Nothing is skipped silently: every malformed line is a ParseError naming the file, the
///   1-based line and the field ("u.data:7: field 'rating': expected a number, found 'x'").

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <new>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace cfnet {

/// How a delimited rating file is laid out. Options use chained setters:
/// @code
/// auto fmt = cfnet::DelimitedFormat().separator(",").header(true).quote('"')
///                .columns(0, 1, 2, 3).fields(4).rating_range(0.5, 5.0);
/// @endcode
/// Defaults: separator "\t", no header, user/item/rating in columns 0/1/2, no timestamp, no
/// quoting, at least as many fields as the highest used column needs (extra fields ignored), no
/// rating range, integer and fractional ratings both accepted, duplicates are an error.
class DelimitedFormat {
public:
    using size_type = std::size_t;

    /// The field separator, one or more characters: "\t", ",", "::", "|". Turns whitespace mode off.
    /// @throws InvalidArgument if `sep` is empty.
    DelimitedFormat& separator(std::string sep) {
        check_arg(!sep.empty(), "DelimitedFormat::separator: the separator must not be empty (use whitespace())");
        separator_ = std::move(sep);
        whitespace_ = false;
        return *this;
    }
    /// Fields separated by runs of spaces and tabs; leading and trailing blanks are ignored.
    DelimitedFormat& whitespace() {
        whitespace_ = true;
        return *this;
    }
    /// True: the first line is a header and is skipped (an empty file is then an error).
    DelimitedFormat& header(bool has_header) {
        header_ = has_header;
        return *this;
    }
    /// 0-based column positions; `timestamp` = -1 means the file has no timestamp column.
    DelimitedFormat& columns(int user, int item, int rating, int timestamp = -1) {
        user_col_ = user;
        item_col_ = item;
        rating_col_ = rating;
        timestamp_col_ = timestamp;
        return *this;
    }
    /// Exact number of fields on each line; 0 (the default) = at least the highest used column + 1.
    DelimitedFormat& fields(size_type n) {
        fields_ = n;
        return *this;
    }
    /// CSV quoting: a field starting with `q` runs to the matching `q` and may contain the
    /// separator; `qq` inside it stands for one `q`. '\0' (the default) turns quoting off.
    DelimitedFormat& quote(char q) {
        quote_ = q;
        return *this;
    }
    /// Ratings outside [lo, hi] are a ParseError. @throws InvalidArgument unless lo <= hi, both finite.
    DelimitedFormat& rating_range(double lo, double hi) {
        check_arg(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "DelimitedFormat::rating_range: need finite lo <= hi, got [",
                  lo, ", ", hi, "]");
        has_range_ = true;
        range_lo_ = lo;
        range_hi_ = hi;
        return *this;
    }
    /// True: a rating with a fractional part ("3.5") is a ParseError.
    DelimitedFormat& integer_ratings(bool integer) {
        integer_ratings_ = integer;
        return *this;
    }
    /// What load_ratings does with a repeated (user, item) pair (default: ParseError naming both lines).
    DelimitedFormat& duplicates(DuplicatePolicy policy) {
        duplicates_ = policy;
        return *this;
    }

    const std::string& separator() const noexcept { return separator_; }
    bool is_whitespace() const noexcept { return whitespace_; }
    bool header() const noexcept { return header_; }
    int user_column() const noexcept { return user_col_; }
    int item_column() const noexcept { return item_col_; }
    int rating_column() const noexcept { return rating_col_; }
    int timestamp_column() const noexcept { return timestamp_col_; }
    bool has_timestamp() const noexcept { return timestamp_col_ >= 0; }
    size_type fields() const noexcept { return fields_; }
    char quote() const noexcept { return quote_; }
    bool has_rating_range() const noexcept { return has_range_; }
    double rating_min() const noexcept { return range_lo_; }
    double rating_max() const noexcept { return range_hi_; }
    bool integer_ratings() const noexcept { return integer_ratings_; }
    DuplicatePolicy duplicates() const noexcept { return duplicates_; }

    /// The smallest number of fields a line must have to hold every used column.
    size_type min_fields() const noexcept {
        int m = user_col_;
        if (item_col_ > m) m = item_col_;
        if (rating_col_ > m) m = rating_col_;
        if (timestamp_col_ > m) m = timestamp_col_;
        return static_cast<size_type>(m) + 1;
    }

    /// @throws InvalidArgument (naming `caller`) on inconsistent options: a negative or repeated
    /// column, a timestamp column below -1, an exact field count too small for the columns, or a
    /// quote character together with whitespace mode or inside the separator.
    void validate(const char* caller) const {
        check_arg(user_col_ >= 0 && item_col_ >= 0 && rating_col_ >= 0 && timestamp_col_ >= -1, caller,
                  ": column positions must be >= 0 (timestamp >= -1), got user ", user_col_, ", item ", item_col_,
                  ", rating ", rating_col_, ", timestamp ", timestamp_col_);
        check_arg(user_col_ != item_col_ && user_col_ != rating_col_ && item_col_ != rating_col_ &&
                      (timestamp_col_ < 0 || (timestamp_col_ != user_col_ && timestamp_col_ != item_col_ &&
                                              timestamp_col_ != rating_col_)),
                  caller, ": the user, item, rating and timestamp columns must differ");
        check_arg(fields_ == 0 || fields_ >= min_fields(), caller, ": ", fields_, " fields per line cannot hold column ",
                  min_fields() - 1);
        check_arg(quote_ == '\0' || !whitespace_, caller, ": quoting is not supported with whitespace separation");
        check_arg(quote_ == '\0' || separator_.find(quote_) == std::string::npos, caller, ": the quote character '",
                  quote_, "' occurs in the separator '", separator_, "'");
    }

private:
    std::string separator_ = "\t";
    bool whitespace_ = false;
    bool header_ = false;
    int user_col_ = 0, item_col_ = 1, rating_col_ = 2, timestamp_col_ = -1;
    size_type fields_ = 0;
    char quote_ = '\0';
    bool has_range_ = false;
    double range_lo_ = 0, range_hi_ = 0;
    bool integer_ratings_ = false;
    DuplicatePolicy duplicates_ = DuplicatePolicy::error;
};

namespace detail {

/// Peak bytes per rating while loading a file (parsed Rating and its line number, then the
/// matrix's CSR and CSC arrays): what the out-of-memory messages estimate with.
inline constexpr std::size_t bytes_per_loaded_rating = sizeof(Rating<double>) + 8 + 4 + 8 + 4 + 8 + 8 + 4;

/// Reads a whole file into memory. @throws IoError naming the path and the system's reason.
inline std::string read_file(const std::string& path) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) throw IoError(concat("cannot open '", path, "': ", std::strerror(errno)));
    std::string data;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);  // fails (harmlessly) for non-regular files
    try {
        if (!ec) data.reserve(static_cast<std::size_t>(size));
    } catch (const std::bad_alloc&) {
        throw IoError(concat("cannot read '", path, "': not enough memory: the file needs ", size,
                             " bytes (and loading its ratings several times that)"));
    }
    char buf[1 << 16];
    for (;;) {
        const std::size_t got = std::fread(buf, 1, sizeof buf, f.get());
        data.append(buf, got);
        if (got < sizeof buf) break;
    }
    if (std::ferror(f.get())) throw IoError(concat("cannot read '", path, "': ", std::strerror(errno)));
    return data;
}

/// True if `path` names a file that can be opened for reading.
inline bool file_readable(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    std::fclose(f);
    return true;
}

inline bool is_blank(std::string_view s) noexcept { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

inline std::string_view trim_blanks(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Iterates over the lines of an in-memory file: strips "\r" before "\n", skips a leading UTF-8
/// BOM, counts 1-based line numbers, ignores blank lines at the end of the file and throws a
/// ParseError (field 'line') for a blank line followed by more data.
class LineReader {
public:
    LineReader(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {
        if (text_.size() >= 3 && text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
    }

    /// The next line (without its end-of-line characters), or false at the end of the data.
    /// The returned view points into the text given to the constructor.
    bool next(std::string_view& line) {
        if (pos_ >= text_.size()) return false;
        const char* base = text_.data() + pos_;
        const void* nl = std::memchr(base, '\n', text_.size() - pos_);
        const std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : text_.size() - pos_;
        line = std::string_view(base, len);
        pos_ += len + 1;
        ++line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || ((line.front() == ' ' || line.front() == '\t') && is_blank(line))) {
            if (pos_ >= text_.size() || text_.find_first_not_of(" \t\r\n", pos_) == std::string_view::npos) {
                pos_ = text_.size();
                return false;
            }
            throw ParseError(source_, line_, "line", "blank line before the end of the file");
        }
        return true;
    }

    /// 1-based number of the line last returned by next().
    std::size_t line_number() const noexcept { return line_; }
    const std::string& source() const noexcept { return source_; }

private:
    std::string_view text_;
    std::string source_;
    std::size_t pos_ = 0;
    std::size_t line_ = 0;
};

/// Splits one line into fields. The separator is any non-empty string ("\t", ",", "::"); an empty
/// separator means runs of spaces and tabs (leading/trailing blanks ignored). With a quote
/// character q, a field that starts with q runs to the closing q, may contain the separator, and
/// "qq" inside it stands for one q; a quote inside an unquoted field is kept as an ordinary
/// character. Quoted fields cannot span lines. The field views stay valid until the next split().
class FieldSplitter {
public:
    using size_type = std::size_t;

    explicit FieldSplitter(std::string separator, char quote = '\0') : sep_(std::move(separator)), quote_(quote) {}

    /// Splits `line`. Returns false on malformed quoting; error() then says what is wrong and
    /// error_field() is the 0-based index of the offending field.
    bool split(std::string_view line) {
        fields_.clear();
        if (sep_.empty()) return split_whitespace(line);
        if (quote_ == '\0' || line.find(quote_) == std::string_view::npos) return split_plain(line);
        return split_quoted(line);
    }

    size_type size() const noexcept { return fields_.size(); }
    std::string_view operator[](size_type i) const noexcept { return fields_[i]; }
    const std::vector<std::string_view>& fields() const noexcept { return fields_; }
    const std::string& error() const noexcept { return error_; }
    size_type error_field() const noexcept { return error_field_; }

private:
    bool split_whitespace(std::string_view line) {
        size_type p = 0;
        const size_type n = line.size();
        for (;;) {
            while (p < n && (line[p] == ' ' || line[p] == '\t')) ++p;
            if (p >= n) return true;
            size_type e = p;
            while (e < n && line[e] != ' ' && line[e] != '\t') ++e;
            fields_.push_back(line.substr(p, e - p));
            p = e;
        }
    }

    bool split_plain(std::string_view line) {
        if (sep_.size() == 1) {
            const char c = sep_[0];
            const char* p = line.data();
            const char* end = p + line.size();
            for (;;) {
                const void* hit = std::memchr(p, c, static_cast<size_type>(end - p));
                if (!hit) {
                    fields_.emplace_back(p, static_cast<size_type>(end - p));
                    return true;
                }
                const char* h = static_cast<const char*>(hit);
                fields_.emplace_back(p, static_cast<size_type>(h - p));
                p = h + 1;
            }
        }
        size_type p = 0;
        for (;;) {
            const size_type h = line.find(sep_, p);
            if (h == std::string_view::npos) {
                fields_.push_back(line.substr(p));
                return true;
            }
            fields_.push_back(line.substr(p, h - p));
            p = h + sep_.size();
        }
    }

    bool split_quoted(std::string_view line) {
        // Unescaped text never exceeds the line, so reserving it up front keeps the views stable.
        scratch_.clear();
        scratch_.reserve(line.size());
        const size_type n = line.size();
        size_type p = 0;
        for (;;) {
            if (p < n && line[p] == quote_) {
                size_type j = p + 1;
                bool escaped = false;
                for (;;) {
                    j = line.find(quote_, j);
                    if (j == std::string_view::npos) return fail("unterminated quoted field");
                    if (j + 1 < n && line[j + 1] == quote_) {
                        escaped = true;
                        j += 2;
                        continue;
                    }
                    break;
                }
                std::string_view content = line.substr(p + 1, j - p - 1);
                if (escaped) {
                    const size_type start = scratch_.size();
                    for (size_type k = 0; k < content.size(); ++k) {
                        scratch_.push_back(content[k]);
                        if (content[k] == quote_) ++k;  // "" -> "
                    }
                    content = std::string_view(scratch_.data() + start, scratch_.size() - start);
                }
                p = j + 1;
                if (p < n && line.compare(p, sep_.size(), sep_) != 0)
                    return fail(concat("unexpected character '", line[p], "' after a closing quote"));
                fields_.push_back(content);
                if (p == n) return true;
                p += sep_.size();
            } else {
                const size_type h = line.find(sep_, p);
                if (h == std::string_view::npos) {
                    fields_.push_back(line.substr(p));
                    return true;
                }
                fields_.push_back(line.substr(p, h - p));
                p = h + sep_.size();
            }
        }
    }

    bool fail(std::string what) {
        error_ = std::move(what);
        error_field_ = fields_.size();
        return false;
    }

    std::string sep_;
    char quote_;
    std::vector<std::string_view> fields_;
    std::string scratch_;
    std::string error_;
    size_type error_field_ = 0;
};

/// Parses a whole field (blanks around it allowed) as a 64-bit integer.
/// @throws ParseError(source, line, field, ...) if it is empty, not a number, has trailing
/// characters ("4x") or does not fit.
inline std::int64_t parse_int_field(std::string_view text, const std::string& source, std::size_t line,
                                    const char* field) {
    const std::string_view s = trim_blanks(text);
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
    if (s.empty()) throw ParseError(source, line, field, "expected an integer, found an empty field");
    if (r.ec == std::errc::result_out_of_range)
        throw ParseError(source, line, field, concat("integer '", s, "' is out of range"));
    if (r.ec == std::errc()) throw ParseError(source, line, field, concat("trailing characters in number '", s, "'"));
    throw ParseError(source, line, field, concat("expected an integer, found '", s, "'"));
}

/// Parses a whole field (blanks around it allowed) as a finite double.
/// @throws ParseError if it is empty, not a number, has trailing characters, or is not finite.
inline double parse_real_field(std::string_view text, const std::string& source, std::size_t line, const char* field) {
    const std::string_view s = trim_blanks(text);
    // Fast path for the common short unsigned integer ("4"): exact, and several times faster than
    // the floating-point from_chars.
    if (!s.empty() && s.size() <= 9) {
        std::int64_t n = 0;
        std::size_t k = 0;
        for (; k < s.size() && s[k] >= '0' && s[k] <= '9'; ++k) n = n * 10 + (s[k] - '0');
        if (k == s.size()) return static_cast<double>(n);
    }
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) {
        if (!std::isfinite(v)) throw ParseError(source, line, field, concat("number '", s, "' is not finite"));
        return v;
    }
    if (s.empty()) throw ParseError(source, line, field, "expected a number, found an empty field");
    if (r.ec == std::errc::result_out_of_range)
        throw ParseError(source, line, field, concat("number '", s, "' is out of range"));
    if (r.ec == std::errc()) throw ParseError(source, line, field, concat("trailing characters in number '", s, "'"));
    throw ParseError(source, line, field, concat("expected a number, found '", s, "'"));
}

/// parse_real_field, converted to T: a finite double beyond T's range (1e300 for float) is a
/// ParseError too, not an infinity. @throws ParseError.
template <class T>
T parse_value_field(std::string_view text, const std::string& source, std::size_t line, const char* field) {
    const double v = parse_real_field(text, source, line, field);
    if (std::fabs(v) > static_cast<double>(std::numeric_limits<T>::max()))
        throw ParseError(source, line, field,
                         concat("number '", trim_blanks(text), "' is out of range for ", sizeof(T) == 4 ? "float" : "the value type"));
    return static_cast<T>(v);
}

/// Throws the ParseError for a line with the wrong number of fields. The field named is the
/// first missing used column (or "column N", 1-based, for the first extra field).
inline void throw_field_count(const DelimitedFormat& f, std::size_t found, const std::string& source, std::size_t line) {
    const std::string expected =
        f.fields() != 0 ? concat("expected ", f.fields(), " fields, found ", found)
                        : concat("expected at least ", f.min_fields(), " fields, found ", found);
    const std::pair<int, const char*> cols[] = {
        {f.user_column(), "user"}, {f.item_column(), "item"}, {f.rating_column(), "rating"}, {f.timestamp_column(), "timestamp"}};
    int best = -1;
    const char* name = nullptr;
    for (const auto& c : cols)
        if (c.first >= 0 && static_cast<std::size_t>(c.first) >= found && (best < 0 || c.first < best)) {
            best = c.first;
            name = c.second;
        }
    if (name) throw ParseError(source, line, name, expected);
    throw ParseError(source, line, concat("column ", found), expected);
}

/// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
inline bool is_valid_utf8(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int len = 0;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;
        else return false;
        if (end - p < len) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (int k = 2; k < len; ++k)
            if ((p[k] & 0xC0) != 0x80) return false;
        p += len;
    }
    return true;
}

/// Converts ISO-8859-1 (Latin-1) text to UTF-8.
inline std::string latin1_to_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            out.push_back(ch);
        } else {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

/// Parses rating lines into `out`; `lines` (optional) receives each entry's 1-based line number.
template <class T>
void parse_ratings_into(std::string_view text, const DelimitedFormat& f, const std::string& source,
                        std::vector<Rating<T>>& out, std::vector<std::size_t>* lines) {
    f.validate("parse_ratings");
    LineReader reader(text, source);
    FieldSplitter splitter(f.is_whitespace() ? std::string() : f.separator(), f.quote());
    std::string_view line;
    if (f.header() && !reader.next(line)) throw ParseError(source, 1, "header", "expected a header line, the file is empty");
    // A cheap upper bound on the number of lines, so the vectors grow once.
    const std::size_t guess = text.size() / 8 + 1;
    out.reserve(out.size() + guess);
    if (lines) lines->reserve(lines->size() + guess);
    const auto uc = static_cast<std::size_t>(f.user_column()), ic = static_cast<std::size_t>(f.item_column()),
               rc = static_cast<std::size_t>(f.rating_column());
    const int tc = f.timestamp_column();
    const std::size_t exact = f.fields(), at_least = f.min_fields();
    const bool range = f.has_rating_range(), integer = f.integer_ratings();
    const double lo = f.rating_min(), hi = f.rating_max();
    while (reader.next(line)) {
        const std::size_t ln = reader.line_number();
        if (!splitter.split(line))
            throw ParseError(source, ln, concat("column ", splitter.error_field() + 1), splitter.error());
        const std::size_t nf = splitter.size();
        if (exact != 0 ? nf != exact : nf < at_least) throw_field_count(f, nf, source, ln);
        Rating<T> r;
        r.user = parse_int_field(splitter[uc], source, ln, "user");
        r.item = parse_int_field(splitter[ic], source, ln, "item");
        const double v = parse_real_field(splitter[rc], source, ln, "rating");
        if (range && (v < lo || v > hi))
            throw ParseError(source, ln, "rating",
                             concat("rating '", trim_blanks(splitter[rc]), "' is outside the range [", lo, ", ", hi, "]"));
        if (integer && v != std::floor(v))
            throw ParseError(source, ln, "rating",
                             concat("expected an integer rating, found '", trim_blanks(splitter[rc]), "'"));
        if (std::fabs(v) > static_cast<double>(std::numeric_limits<T>::max()))
            throw ParseError(source, ln, "rating", concat("number '", trim_blanks(splitter[rc]), "' is out of range for ",
                                                          sizeof(T) == 4 ? "float" : "the value type"));
        r.value = static_cast<T>(v);
        if (tc >= 0) r.timestamp = parse_int_field(splitter[static_cast<std::size_t>(tc)], source, ln, "timestamp");
        out.push_back(r);
        if (lines) lines->push_back(ln);
    }
}

/// Rethrows a DuplicateRatingError from RatingMatrix::from_ratings as a ParseError naming both lines.
[[noreturn]] inline void throw_duplicate(const DuplicateRatingError& e, const std::vector<std::size_t>& lines,
                                         const std::string& source) {
    const std::size_t first = lines[e.first()], second = lines[e.second()];
    throw ParseError(source, second, "item",
                     concat("duplicate rating for user ", e.user(), ", item ", e.item(), " (lines ", first, " and ",
                            second, ")"));
}

/// The distinct values of `get(r)` over `ratings`, increasing (what IdMap::sorted_unique gives),
/// found with a bitmap when the ids span a small range (the usual case: a few ms faster on ML-100K
/// than sorting every entry's id).
template <class T, class Get>
std::vector<id_type> distinct_ids(const std::vector<Rating<T>>& ratings, Get get) {
    std::vector<id_type> ids;
    if (ratings.empty()) return ids;
    id_type lo = get(ratings[0]), hi = lo;
    for (const auto& r : ratings) {
        const id_type v = get(r);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span < 4 * static_cast<std::uint64_t>(ratings.size()) + 1024) {
        std::vector<unsigned char> seen(static_cast<std::size_t>(span) + 1, 0);
        for (const auto& r : ratings) seen[static_cast<std::size_t>(static_cast<std::uint64_t>(get(r)) - static_cast<std::uint64_t>(lo))] = 1;
        for (std::size_t k = 0; k < seen.size(); ++k)
            if (seen[k]) ids.push_back(static_cast<id_type>(static_cast<std::uint64_t>(lo) + k));
        return ids;
    }
    ids.reserve(ratings.size());
    for (const auto& r : ratings) ids.push_back(get(r));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

/// The user and item maps of `ratings` (distinct ids, increasing), as from_ratings would build them.
template <class T>
std::pair<std::shared_ptr<const IdMap>, std::shared_ptr<const IdMap>> id_maps(const std::vector<Rating<T>>& ratings) {
    return {std::make_shared<const IdMap>(distinct_ids(ratings, [](const Rating<T>& r) { return r.user; }), "user"),
            std::make_shared<const IdMap>(distinct_ids(ratings, [](const Rating<T>& r) { return r.item; }), "item")};
}

template <class T>
RatingMatrix<T> build_matrix(const std::vector<Rating<T>>& ratings, const std::vector<std::size_t>& lines,
                             const DelimitedFormat& f, const std::string& source) {
    try {
        auto maps = id_maps(ratings);
        return RatingMatrix<T>::from_ratings(ratings, std::move(maps.first), std::move(maps.second), f.duplicates(),
                                             f.has_timestamp());
    } catch (const DuplicateRatingError& e) {
        throw_duplicate(e, lines, source);
    }
}

}  // namespace detail

/// Parses rating lines held in memory. `source` names the text in error messages.
/// @throws ParseError on any malformed line; InvalidArgument if the format is inconsistent.
template <class T = float>
std::vector<Rating<T>> parse_ratings(std::string_view text, const DelimitedFormat& format,
                                     const std::string& source = "<memory>") {
    std::vector<Rating<T>> out;
    detail::parse_ratings_into(text, format, source, out, nullptr);
    return out;
}

/// Reads every rating of a delimited file, in file order (entries without a timestamp column
/// get timestamp 0). Duplicates are not checked here: load_ratings does that.
/// @throws IoError if the file cannot be read; ParseError on any malformed line (file, line, field).
template <class T = float>
std::vector<Rating<T>> read_ratings(const std::string& path, const DelimitedFormat& format) {
    const std::string text = detail::read_file(path);
    return parse_ratings<T>(text, format, path);
}

/// Reads a delimited file into a RatingMatrix whose index maps are the distinct ids in increasing
/// order. Timestamps are kept when the format has a timestamp column. A repeated (user, item)
/// pair is handled by format.duplicates(); under DuplicatePolicy::error it is a ParseError naming
/// both lines ("f:9: field 'item': duplicate rating for user 1, item 2 (lines 3 and 9)").
/// @throws IoError, ParseError as read_ratings.
template <class T = float>
RatingMatrix<T> load_ratings(const std::string& path, const DelimitedFormat& format) {
    const std::string text = detail::read_file(path);
    try {
        std::vector<Rating<T>> ratings;
        std::vector<std::size_t> lines;
        detail::parse_ratings_into(text, format, path, ratings, &lines);
        return detail::build_matrix(ratings, lines, format, path);
    } catch (const std::bad_alloc&) {
        const auto n = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
        throw IoError(detail::concat("load_ratings: not enough memory to load '", path, "': its ", n,
                                     " lines need about ", n * detail::bytes_per_loaded_rating + text.size(),
                                     " bytes (the text, the parsed ratings and the matrix)"));
    }
}

/// Reads a delimited file into the index space of existing maps (e.g. a test file mapped onto the
/// training data's ids). A user or item id missing from the maps is a ParseError naming the line.
template <class T = float>
RatingMatrix<T> load_ratings(const std::string& path, const DelimitedFormat& format,
                             typename RatingMatrix<T>::map_ptr users, typename RatingMatrix<T>::map_ptr items) {
    check_arg(users && items, "load_ratings: null id map");
    const std::string text = detail::read_file(path);
    std::vector<Rating<T>> ratings;
    std::vector<std::size_t> lines;
    detail::parse_ratings_into(text, format, path, ratings, &lines);
    for (std::size_t k = 0; k < ratings.size(); ++k) {
        if (!users->contains(ratings[k].user))
            throw ParseError(path, lines[k], "user", detail::concat("unknown user id ", ratings[k].user));
        if (!items->contains(ratings[k].item))
            throw ParseError(path, lines[k], "item", detail::concat("unknown item id ", ratings[k].item));
    }
    try {
        return RatingMatrix<T>::from_ratings(ratings, std::move(users), std::move(items), format.duplicates(),
                                             format.has_timestamp());
    } catch (const DuplicateRatingError& e) {
        detail::throw_duplicate(e, lines, path);
    }
}

}  // namespace cfnet
