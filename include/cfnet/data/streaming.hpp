#pragma once
/// @file data/streaming.hpp
/// Building blocks of the streaming loaders (data/interactions.hpp): FileLines, the lines of a
/// file read in blocks; and IdColumn, which turns the ids of one column (integers or text) into
/// dense indices while the file streams, and at the end into a sorted IdMap.

#include <cfnet/data/io.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cfnet {

/// How a column's ids are read: integers if every one is a canonical decimal integer, else text
/// (the default); always integers (anything else is a ParseError); always text.
enum class IdKind { auto_detect, integer, string };

namespace detail {

/// The lines of a file read in blocks (the text is never held whole): the same rules as
/// LineReader (LF or CR LF, a leading UTF-8 BOM skipped, blank lines only at the end).
class FileLines {
public:
    explicit FileLines(const std::string& path, std::size_t block = std::size_t(1) << 22)
        : f_(std::fopen(path.c_str(), "rb"), &std::fclose), source_(path), buf_(block_for(path, block)) {
        if (!f_) throw IoError(concat("cannot open '", path, "': ", std::strerror(errno)));
        fill();
        if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
    }

    bool next(std::string_view& line) {
        for (;;) {
            if (!raw(line)) return false;
            ++line_;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.empty() || ((line.front() == ' ' || line.front() == '\t') && is_blank(line))) {
                if (blank_ == 0) blank_ = line_;
                continue;
            }
            if (blank_ != 0) throw ParseError(source_, blank_, "line", "blank line before the end of the file");
            return true;
        }
    }
    std::size_t line_number() const noexcept { return line_; }
    /// Bytes read so far (for the "empty file" message).
    std::size_t bytes() const noexcept { return total_; }
    /// Bytes of the lines returned so far.
    std::size_t consumed() const noexcept { return total_ - (end_ - begin_); }

private:
    bool raw(std::string_view& line) {
        for (;;) {
            const void* nl = std::memchr(buf_.data() + begin_, '\n', end_ - begin_);
            if (nl) {
                const auto* p = static_cast<const char*>(nl);
                line = std::string_view(buf_.data() + begin_, static_cast<std::size_t>(p - (buf_.data() + begin_)));
                begin_ += line.size() + 1;
                return true;
            }
            if (eof_) {
                if (begin_ == end_) return false;
                line = std::string_view(buf_.data() + begin_, end_ - begin_);
                begin_ = end_;
                return true;
            }
            std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
            if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the block
            fill();
        }
    }
    void fill() {
        const std::size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_.get());
        end_ += got;
        total_ += got;
        if (got == 0 || end_ < buf_.size()) {
            if (std::ferror(f_.get())) throw IoError(concat("cannot read '", source_, "': ", std::strerror(errno)));
            if (std::feof(f_.get())) eof_ = true;
        }
    }

    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f_;
    std::string source_;
    std::vector<char> buf_;

    /// `block`, or less for a smaller regular file (a small file need not pay for a 4 MB buffer).
    static std::size_t block_for(const std::string& path, std::size_t block) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        if (ec || size >= block) return block;
        return std::max<std::size_t>(static_cast<std::size_t>(size) + 1, 4096);
    }
    std::size_t begin_ = 0, end_ = 0, total_ = 0, line_ = 0, blank_ = 0;
    bool eof_ = false;
};

/// A 64-bit hash of a byte string (multiply-xorshift over 8-byte words).
inline std::uint64_t hash_bytes(std::string_view s) noexcept {
    constexpr std::uint64_t m = 0x9E3779B97F4A7C15ull;
    std::uint64_t h = (s.size() + 1) * m;
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * m;
        h ^= h >> 32;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * m;
    }
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
}

/// Strings -> dense indices in first-seen order (open addressing, names kept in one arena).
class StringInterner {
public:
    std::size_t size() const noexcept { return hashes_.size(); }
    std::string_view view(std::size_t k) const noexcept {
        return std::string_view(arena_.data() + off_[k], static_cast<std::size_t>(off_[k + 1] - off_[k]));
    }
    index_type add(std::string_view s) {
        if ((size() + 1) * 2 > slots_.size()) grow();
        const std::uint64_t h = hash_bytes(s);
        const std::uint64_t tag = h << 32;  // a slot holds (low 32 bits of the hash, index + 1)
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = static_cast<std::size_t>(h >> 32) & mask;; i = (i + 1) & mask) {
            const std::uint64_t slot = slots_[i];
            if (slot == 0) {
                slots_[i] = tag | (size() + 1);
                arena_.append(s.data(), s.size());
                off_.push_back(arena_.size());
                hashes_.push_back(static_cast<std::uint32_t>(h));
                return static_cast<index_type>(size() - 1);
            }
            if ((slot >> 32) == (h & 0xFFFFFFFFu) && view((slot & 0xFFFFFFFFu) - 1) == s)
                return static_cast<index_type>((slot & 0xFFFFFFFFu) - 1);
        }
    }

private:
    void grow() {
        std::vector<std::uint64_t> slots(std::max<std::size_t>(1024, slots_.size() * 2), 0);
        const std::size_t mask = slots.size() - 1;
        for (std::size_t k = 0; k < size(); ++k) {
            const std::uint64_t h = hash_bytes(view(k));
            std::size_t i = static_cast<std::size_t>(h >> 32) & mask;
            while (slots[i] != 0) i = (i + 1) & mask;
            slots[i] = (h << 32) | (k + 1);
        }
        slots_.swap(slots);
    }
    std::string arena_;
    std::vector<std::uint64_t> off_{0};
    std::vector<std::uint32_t> hashes_;
    std::vector<std::uint64_t> slots_;
};

/// True if `s` is the canonical decimal form of an int64 (no sign '+', no leading zeros, not
/// "-0"), stored in `v`: exactly the ids that survive a round trip through std::to_string.
inline bool canonical_int(std::string_view s, id_type& v) noexcept {
    if (s.empty() || s.size() > 20) return false;
    const std::size_t d = s[0] == '-' ? 1 : 0;
    if (s.size() == d || (s[d] == '0' && s.size() > d + 1) || (d && s[1] == '0')) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

/// One id column while a file streams: ids -> provisional indices (first-seen order), integers
/// through a direct table (small non-negative ids) or a hash map, text through StringInterner.
/// An auto column switches to text at its first non-canonical id, keeping every index.
class IdColumn {
public:
    IdColumn(IdKind kind, const char* field) : kind_(kind), field_(field), text_(kind == IdKind::string) {}

    index_type add(std::string_view raw, const std::string& source, std::size_t line) {
        const std::string_view s = trim_blanks(raw);
        if (s.empty()) throw ParseError(source, line, field_, concat(field_[0] == 'i' ? "expected an " : "expected a ", field_, " id, found an empty field"));
        if (!text_) {
            id_type v = 0;
            if (canonical_int(s, v)) return add_int(v);
            if (kind_ == IdKind::integer) return add_int(parse_int_field(s, source, line, field_));
            to_text();
        }
        // Files are often grouped by user: a repeat of the previous id skips the hash table.
        if (have_last_ && s == std::string_view(last_)) return last_index_;
        const index_type k = names_.add(s);
        check_count(k, source, line);
        last_.assign(s.data(), s.size());
        last_index_ = k;
        have_last_ = true;
        return k;
    }

    std::size_t size() const noexcept { return text_ ? names_.size() : ints_.size(); }
    bool text() const noexcept { return text_; }

    /// The final map (sorted ids or names) and `remap[provisional] = final index`.
    IdMap finish(std::vector<index_type>& remap, const char* kind) const {
        const std::size_t n = size();
        std::vector<index_type> order(n);
        std::iota(order.begin(), order.end(), index_type(0));
        remap.assign(n, 0);
        if (!text_) {
            std::sort(order.begin(), order.end(), [&](index_type a, index_type b) { return ints_[a] < ints_[b]; });
            std::vector<id_type> ids(n);
            for (std::size_t r = 0; r < n; ++r) {
                ids[r] = ints_[order[r]];
                remap[order[r]] = static_cast<index_type>(r);
            }
            return IdMap(std::move(ids), kind);
        }
        std::sort(order.begin(), order.end(), [&](index_type a, index_type b) { return names_.view(a) < names_.view(b); });
        std::vector<std::string> names(n);
        for (std::size_t r = 0; r < n; ++r) {
            names[r] = std::string(names_.view(order[r]));
            remap[order[r]] = static_cast<index_type>(r);
        }
        return IdMap::named(std::move(names), kind);
    }

private:
    static constexpr id_type dense_limit = id_type(1) << 22;

    index_type add_int(id_type v) {
        if (v >= 0 && v < dense_limit) {
            const auto u = static_cast<std::size_t>(v);
            if (u >= dense_.size()) dense_.resize(std::min<std::size_t>(std::max(u + 1, 2 * dense_.size()), dense_limit), 0);
            index_type& slot = dense_[u];
            if (slot == 0) {
                ints_.push_back(v);
                slot = static_cast<index_type>(ints_.size());
            }
            return slot - 1;
        }
        const auto it = sparse_.try_emplace(v, static_cast<index_type>(ints_.size())).first;
        if (it->second == ints_.size()) ints_.push_back(v);
        return it->second;
    }
    void to_text() {
        for (const id_type v : ints_) names_.add(std::to_string(v));
        ints_ = {};
        dense_ = {};
        sparse_ = {};
        text_ = true;
    }
    void check_count(index_type k, const std::string& source, std::size_t line) const {
        if (k >= std::numeric_limits<index_type>::max() - 1)
            throw ParseError(source, line, field_, concat("more distinct ", field_, " ids than cfnet can index"));
    }

    IdKind kind_;
    const char* field_;
    bool text_;
    std::vector<id_type> ints_;
    std::vector<index_type> dense_;
    std::unordered_map<id_type, index_type> sparse_;
    StringInterner names_;
    std::string last_;
    index_type last_index_ = 0;
    bool have_last_ = false;
};

}  // namespace detail
}  // namespace cfnet
