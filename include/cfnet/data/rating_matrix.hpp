#pragma once
/// @file data/rating_matrix.hpp
/// RatingMatrix<T>: observed ratings stored sparse (CSR by user plus an item-major index), with the
/// original-id <-> contiguous-index maps. Missing is not zero: only stored entries are observed.
/// Dense matrices are only ever materialised one mini-batch at a time, into caller buffers.

#include <cfnet/error.hpp>
#include <cfnet/metadata.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <system_error>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cfnet {

/// Original user/item identifier as found in the data files.
using id_type = std::int64_t;
/// Contiguous 0-based user/item index.
using index_type = std::uint32_t;

/// A read-only contiguous range (C++17 has no std::span).
template <class T>
class Span {
public:
    Span() = default;
    Span(const T* data, std::size_t size) : data_(data), size_(size) {}
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    const T* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Bidirectional map between original ids and contiguous indices 0..size()-1, O(1) both ways.
///
/// Ids are 64-bit integers (id_type). A map may also carry *names*: the original ids of data whose
/// ids are text ("u_1029", UUIDs; data/interactions.hpp). A named map's integer id of an entry is
/// its index (names[k] has index k and id k); the names are what the user sees and what model
/// files store. Every integer-only path (MovieLens, the models' ids() lists) works unchanged.
class IdMap {
public:
    IdMap() = default;

    /// `ids[k]` gets index k. `kind` ("user", "item") names the ids in error messages.
    /// @throws InvalidArgument if an id repeats or there are more ids than index_type can hold.
    explicit IdMap(std::vector<id_type> ids, std::string kind = "id") : ids_(std::move(ids)), kind_(std::move(kind)) {
        check_arg(ids_.size() <= std::numeric_limits<index_type>::max(), "IdMap: too many ", kind_, "s (",
                  ids_.size(), ")");
        index_.reserve(ids_.size());
        for (std::size_t k = 0; k < ids_.size(); ++k) {
            const bool inserted = index_.emplace(ids_[k], static_cast<index_type>(k)).second;
            check_arg(inserted, "IdMap: duplicate ", kind_, " id ", ids_[k]);
        }
    }

    /// The map of the distinct values of `ids`, in increasing order of id.
    static IdMap sorted_unique(std::vector<id_type> ids, std::string kind = "id") {
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        return IdMap(std::move(ids), std::move(kind));
    }

    /// A named map: `names[k]` gets index k (and integer id k).
    /// @throws InvalidArgument if a name repeats or is empty.
    static IdMap named(std::vector<std::string> names, std::string kind = "id") {
        std::vector<id_type> ids(names.size());
        for (std::size_t k = 0; k < ids.size(); ++k) ids[k] = static_cast<id_type>(k);
        IdMap m(std::move(ids), std::move(kind));
        m.name_index_.reserve(names.size());
        for (std::size_t k = 0; k < names.size(); ++k) {
            check_arg(!names[k].empty(), "IdMap: empty ", m.kind_, " name at index ", k);
            const bool inserted = m.name_index_.emplace(names[k], static_cast<index_type>(k)).second;
            check_arg(inserted, "IdMap: duplicate ", m.kind_, " name '", names[k], "'");
        }
        m.names_ = std::move(names);
        return m;
    }

    std::size_t size() const noexcept { return ids_.size(); }
    const std::string& kind() const noexcept { return kind_; }
    const std::vector<id_type>& ids() const noexcept { return ids_; }
    bool contains(id_type id) const { return index_.count(id) != 0; }

    std::optional<index_type> find(id_type id) const {
        auto it = index_.find(id);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

    /// @throws InvalidArgument naming the id if it is unknown.
    index_type index(id_type id) const {
        auto it = index_.find(id);
        if (it == index_.end()) throw InvalidArgument(detail::concat("unknown ", kind_, " id ", id));
        return it->second;
    }

    /// @throws InvalidArgument if `index` is out of range.
    id_type id(index_type index) const {
        check_arg(index < ids_.size(), kind_, " index ", index, " out of range (", ids_.size(), " ", kind_, "s)");
        return ids_[index];
    }

    // --- names (string ids) ---------------------------------------------------------------------
    /// True for a map of string ids (IdMap::named).
    bool has_names() const noexcept { return !names_.empty(); }
    /// The names by index; empty for an integer map.
    const std::vector<std::string>& names() const noexcept { return names_; }
    /// The index of `name`, if known (a named map only; an integer map looks up the integer `name` spells).
    std::optional<index_type> find(const std::string& name) const {
        if (names_.empty()) {
            id_type v = 0;
            const auto r = std::from_chars(name.data(), name.data() + name.size(), v);
            if (name.empty() || r.ec != std::errc() || r.ptr != name.data() + name.size()) return std::nullopt;
            return find(v);
        }
        const auto it = name_index_.find(name);
        if (it == name_index_.end()) return std::nullopt;
        return it->second;
    }
    /// The original id of `index` as text: its name, or its integer id in decimal.
    std::string label(index_type index) const {
        const id_type v = id(index);
        return names_.empty() ? std::to_string(v) : names_[index];
    }

    friend bool operator==(const IdMap& a, const IdMap& b) { return a.ids_ == b.ids_ && a.names_ == b.names_; }
    friend bool operator!=(const IdMap& a, const IdMap& b) { return !(a == b); }

private:
    std::vector<id_type> ids_;
    std::unordered_map<id_type, index_type> index_;
    std::string kind_ = "id";
    std::vector<std::string> names_;
    std::unordered_map<std::string, index_type> name_index_;
};

namespace detail {
/// Names joined with '\n' ('\\' and '\n' inside a name escaped), for model-file metadata.
inline std::string encode_names(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (k) out += '\n';
        for (const char c : names[k]) {
            if (c == '\\') out += "\\\\";
            else if (c == '\n') out += "\\n";
            else out += c;
        }
    }
    return out;
}
/// The inverse of encode_names. @throws InvalidArgument on a bad escape.
inline std::vector<std::string> decode_names(const std::string& s) {
    std::vector<std::string> out(1);
    for (std::size_t k = 0; k < s.size(); ++k) {
        const char c = s[k];
        if (c == '\n') {
            out.emplace_back();
        } else if (c == '\\') {
            check_arg(k + 1 < s.size() && (s[k + 1] == '\\' || s[k + 1] == 'n'), "decode_names: bad escape at byte ", k);
            out.back() += s[++k] == 'n' ? '\n' : '\\';
        } else {
            out.back() += c;
        }
    }
    if (s.empty()) out.clear();
    return out;
}
}  // namespace detail

/// Writes `map` to model-file metadata: `ids_key` = its integer ids separated by `sep` (what every
/// cfnet reads), and for a named map `ids_key` + "_names" = its names (encode_names). Files
/// without the names key (all files before string ids) read back as integer maps.
inline void write_id_map(Metadata& meta, const std::string& ids_key, const IdMap& map, char sep) {
    meta[ids_key] = metadata_list(map.ids(), sep);
    if (map.has_names()) meta[ids_key + "_names"] = detail::encode_names(map.names());
}

/// Reads what write_id_map wrote. @throws IoError (via the reader) on malformed metadata.
inline IdMap read_id_map(const MetadataReader& meta, const std::string& ids_key, char sep, const std::string& kind) {
    std::vector<id_type> ids = meta.integers<id_type>(ids_key, sep);
    if (!meta.has(ids_key + "_names")) {
        try {
            return IdMap(std::move(ids), kind);
        } catch (const InvalidArgument& e) {  // a repeated id
            meta.fail(ids_key, e.what());
        }
    }
    std::vector<std::string> names;
    try {
        names = detail::decode_names(meta.text(ids_key + "_names"));
    } catch (const InvalidArgument& e) {
        meta.fail(ids_key + "_names", e.what());
    }
    if (names.size() != ids.size())
        meta.fail(ids_key + "_names", detail::concat("holds ", names.size(), " names for ", ids.size(), " ids"));
    for (std::size_t k = 0; k < ids.size(); ++k)
        if (ids[k] != static_cast<id_type>(k)) meta.fail(ids_key, "of a named map must be 0, 1, 2, ...");
    try {
        return IdMap::named(std::move(names), kind);
    } catch (const InvalidArgument& e) {
        meta.fail(ids_key + "_names", e.what());
    }
}

/// One observed rating with original ids (the input of RatingMatrix::from_ratings).
template <class T = float>
struct Rating {
    id_type user = 0;
    id_type item = 0;
    T value = T(0);
    std::int64_t timestamp = 0;
};

/// What to do when the same (user, item) pair occurs more than once.
enum class DuplicatePolicy {
    error,      ///< throw DuplicateRatingError (the default: nothing is dropped silently)
    keep_last,  ///< keep the entry that comes last in input order
    mean        ///< average the values; the timestamp is the latest one
};

/// Thrown by RatingMatrix::from_ratings for a repeated (user, item) pair under DuplicatePolicy::error.
/// first()/second() are the 0-based positions of the two entries in the input sequence.
class DuplicateRatingError : public InvalidArgument {
public:
    DuplicateRatingError(id_type user, id_type item, std::size_t first, std::size_t second)
        : InvalidArgument(detail::concat("duplicate rating for user ", user, ", item ", item, " (entries ", first,
                                         " and ", second, ")")),
          user_(user), item_(item), first_(first), second_(second) {}
    id_type user() const noexcept { return user_; }
    id_type item() const noexcept { return item_; }
    std::size_t first() const noexcept { return first_; }
    std::size_t second() const noexcept { return second_; }

private:
    id_type user_, item_;
    std::size_t first_, second_;
};

/// Sparse users x items rating matrix. Immutable after construction; cheap to share the id maps
/// between matrices of one index space (train/test of a split share them by pointer).
///
/// Storage: CSR by user (row_ptr, items, values[, timestamps]) with items strictly increasing in
/// each row, and an item-major copy (item_ptr, users, values) built at construction. Memory is
/// O(users + items + ratings); nothing is proportional to users x items.
template <class T = float>
class RatingMatrix {
public:
    using value_type = T;
    using size_type = std::size_t;
    using map_ptr = std::shared_ptr<const IdMap>;

    /// An empty matrix with no users and no items.
    RatingMatrix() : RatingMatrix(std::make_shared<IdMap>(std::vector<id_type>{}, "user"),
                                  std::make_shared<IdMap>(std::vector<id_type>{}, "item"), {0}, {}, {}) {}

    /// From CSR arrays. `row_ptr` has n_users + 1 entries starting at 0; within a row, item indices
    /// must be strictly increasing; `timestamps` is empty or has one entry per rating.
    /// @throws InvalidArgument on any inconsistency.
    RatingMatrix(map_ptr users, map_ptr items, std::vector<size_type> row_ptr, std::vector<index_type> item_idx,
                 std::vector<T> values, std::vector<std::int64_t> timestamps = {})
        : users_(std::move(users)), items_(std::move(items)), row_ptr_(std::move(row_ptr)),
          item_idx_(std::move(item_idx)), values_(std::move(values)), timestamps_(std::move(timestamps)) {
        check_arg(users_ && items_, "RatingMatrix: null id map");
        const auto nu = users_->size(), ni = items_->size();
        check_arg(row_ptr_.size() == nu + 1, "RatingMatrix: row_ptr has ", row_ptr_.size(), " entries, expected ",
                  nu + 1);
        check_arg(row_ptr_.front() == 0 && row_ptr_.back() == item_idx_.size(),
                  "RatingMatrix: row_ptr must run from 0 to the number of ratings (", item_idx_.size(), ")");
        check_arg(values_.size() == item_idx_.size(), "RatingMatrix: ", values_.size(), " values for ",
                  item_idx_.size(), " item indices");
        check_arg(timestamps_.empty() || timestamps_.size() == values_.size(), "RatingMatrix: ", timestamps_.size(),
                  " timestamps for ", values_.size(), " ratings");
        for (size_type u = 0; u < nu; ++u) {
            check_arg(row_ptr_[u] <= row_ptr_[u + 1], "RatingMatrix: row_ptr decreases at user index ", u);
            for (size_type k = row_ptr_[u]; k < row_ptr_[u + 1]; ++k) {
                check_arg(item_idx_[k] < ni, "RatingMatrix: item index ", item_idx_[k], " out of range (", ni,
                          " items) in user index ", u);
                check_arg(k == row_ptr_[u] || item_idx_[k - 1] < item_idx_[k],
                          "RatingMatrix: item indices of user index ", u, " are not strictly increasing");
            }
        }
        build_item_index();
    }

    /// Builds a matrix from ratings with original ids. The index maps are the distinct user and
    /// item ids in increasing order. `with_timestamps` keeps the timestamps of the entries.
    static RatingMatrix from_ratings(const std::vector<Rating<T>>& ratings,
                                     DuplicatePolicy duplicates = DuplicatePolicy::error, bool with_timestamps = true) {
        std::vector<id_type> uids(ratings.size()), iids(ratings.size());
        for (size_type k = 0; k < ratings.size(); ++k) {
            uids[k] = ratings[k].user;
            iids[k] = ratings[k].item;
        }
        auto users = std::make_shared<IdMap>(IdMap::sorted_unique(std::move(uids), "user"));
        auto items = std::make_shared<IdMap>(IdMap::sorted_unique(std::move(iids), "item"));
        return from_ratings(ratings, std::move(users), std::move(items), duplicates, with_timestamps);
    }

    /// Builds a matrix in a given index space (e.g. a test file mapped onto the training data's ids).
    /// @throws InvalidArgument naming the id for a user or item not in the maps.
    static RatingMatrix from_ratings(const std::vector<Rating<T>>& ratings, map_ptr users, map_ptr items,
                                     DuplicatePolicy duplicates = DuplicatePolicy::error, bool with_timestamps = true) {
        const size_type n = ratings.size(), nu = users->size();
        std::vector<index_type> u_of(n), i_of(n);
        std::vector<size_type> count(nu + 1, 0);
        for (size_type k = 0; k < n; ++k) {
            u_of[k] = users->index(ratings[k].user);
            i_of[k] = items->index(ratings[k].item);
            ++count[u_of[k] + 1];
        }
        std::partial_sum(count.begin(), count.end(), count.begin());
        // Counting sort by user (stable), then sort each row by (item, input position).
        std::vector<size_type> order(n);
        {
            std::vector<size_type> next(count.begin(), count.end() - 1);
            for (size_type k = 0; k < n; ++k) order[next[u_of[k]]++] = k;
        }
        std::vector<size_type> row_ptr(nu + 1, 0);
        std::vector<index_type> item_idx;
        std::vector<T> values;
        std::vector<std::int64_t> ts;
        item_idx.reserve(n);
        values.reserve(n);
        if (with_timestamps) ts.reserve(n);
        for (size_type u = 0; u < nu; ++u) {
            auto first = order.begin() + static_cast<std::ptrdiff_t>(count[u]);
            auto last = order.begin() + static_cast<std::ptrdiff_t>(count[u + 1]);
            std::sort(first, last, [&](size_type a, size_type b) { return i_of[a] != i_of[b] ? i_of[a] < i_of[b] : a < b; });
            for (auto it = first; it != last;) {
                auto run_end = it + 1;
                while (run_end != last && i_of[*run_end] == i_of[*it]) ++run_end;
                const auto& r0 = ratings[*it];
                if (run_end - it > 1 && duplicates == DuplicatePolicy::error)
                    throw DuplicateRatingError(r0.user, r0.item, *it, *(it + 1));
                T value = ratings[*(run_end - 1)].value;
                std::int64_t stamp = ratings[*(run_end - 1)].timestamp;
                if (duplicates == DuplicatePolicy::mean && run_end - it > 1) {
                    double sum = 0;
                    for (auto j = it; j != run_end; ++j) {
                        sum += static_cast<double>(ratings[*j].value);
                        stamp = std::max(stamp, ratings[*j].timestamp);
                    }
                    value = static_cast<T>(sum / static_cast<double>(run_end - it));
                }
                item_idx.push_back(i_of[*it]);
                values.push_back(value);
                if (with_timestamps) ts.push_back(stamp);
                it = run_end;
            }
            row_ptr[u + 1] = item_idx.size();
        }
        return RatingMatrix(std::move(users), std::move(items), std::move(row_ptr), std::move(item_idx),
                            std::move(values), std::move(ts));
    }

    // --- size and id maps ---------------------------------------------------------------------
    size_type n_users() const noexcept { return users_->size(); }
    size_type n_items() const noexcept { return items_->size(); }
    size_type nnz() const noexcept { return values_.size(); }
    bool empty() const noexcept { return values_.empty(); }
    bool has_timestamps() const noexcept { return !timestamps_.empty(); }
    /// Fraction of the users x items cells that are observed.
    double density() const noexcept {
        const double cells = static_cast<double>(n_users()) * static_cast<double>(n_items());
        return cells > 0 ? static_cast<double>(nnz()) / cells : 0.0;
    }

    const IdMap& users() const noexcept { return *users_; }
    const IdMap& items() const noexcept { return *items_; }
    const map_ptr& user_map() const noexcept { return users_; }
    const map_ptr& item_map() const noexcept { return items_; }

    /// True if both matrices use the same user and item index space.
    bool same_space(const RatingMatrix& other) const {
        return (users_ == other.users_ || *users_ == *other.users_) && (items_ == other.items_ || *items_ == *other.items_);
    }

    // --- CSR access ---------------------------------------------------------------------------
    const std::vector<size_type>& row_ptr() const noexcept { return row_ptr_; }
    const std::vector<index_type>& item_indices() const noexcept { return item_idx_; }
    const std::vector<T>& values() const noexcept { return values_; }
    /// Empty when the matrix has no timestamps.
    const std::vector<std::int64_t>& timestamps() const noexcept { return timestamps_; }

    size_type user_count(index_type u) const { return row_ptr_[check_user(u) + 1] - row_ptr_[u]; }
    /// The items user `u` rated, increasing.
    Span<index_type> user_items(index_type u) const { return {item_idx_.data() + row_ptr_[check_user(u)], user_count(u)}; }
    /// The ratings of user `u`, aligned with user_items(u).
    Span<T> user_ratings(index_type u) const { return {values_.data() + row_ptr_[check_user(u)], user_count(u)}; }
    /// The timestamps of user `u`, aligned with user_items(u). @throws if the matrix has none.
    Span<std::int64_t> user_timestamps(index_type u) const {
        check_arg(!timestamps_.empty() || values_.empty(), "RatingMatrix::user_timestamps: the matrix has no timestamps");
        return {timestamps_.data() + row_ptr_[check_user(u)], user_count(u)};
    }

    // --- item-major access --------------------------------------------------------------------
    const std::vector<size_type>& item_ptr() const noexcept { return item_ptr_; }
    size_type item_count(index_type i) const { return item_ptr_[check_item(i) + 1] - item_ptr_[i]; }
    /// The users who rated item `i`, increasing.
    Span<index_type> item_users(index_type i) const { return {col_user_.data() + item_ptr_[check_item(i)], item_count(i)}; }
    /// The ratings of item `i`, aligned with item_users(i).
    Span<T> item_ratings(index_type i) const { return {col_value_.data() + item_ptr_[check_item(i)], item_count(i)}; }

    /// The rating of (u, i), if observed. O(log ratings of u).
    std::optional<T> rating(index_type u, index_type i) const {
        const auto items = user_items(u);
        const auto it = std::lower_bound(items.begin(), items.end(), i);
        if (it == items.end() || *it != i) return std::nullopt;
        return values_[row_ptr_[u] + static_cast<size_type>(it - items.begin())];
    }
    bool contains(index_type u, index_type i) const { return rating(u, i).has_value(); }

    /// Mean of all ratings (0 for an empty matrix), accumulated in double.
    double mean() const {
        double s = 0;
        for (const T v : values_) s += static_cast<double>(v);
        return values_.empty() ? 0.0 : s / static_cast<double>(values_.size());
    }

    // --- dense mini-batches -------------------------------------------------------------------
    /// Writes users [first, first + count) as dense rows: `values` becomes count x n_items with the
    /// observed ratings and 0 elsewhere; `mask` (optional) 1 where observed, 0 elsewhere. The
    /// buffers are reallocated only when their shape differs.
    void user_batch(index_type first, size_type count, Matrix<T>& values, Matrix<T>* mask = nullptr) const {
        check_arg(static_cast<size_type>(first) + count <= n_users(), "RatingMatrix::user_batch: users [", first, ", ",
                  static_cast<size_type>(first) + count, ") out of range (", n_users(), " users)");
        dense_rows(count, n_items(), values, mask, [&](size_type r) { return static_cast<index_type>(first + r); },
                   row_ptr_, item_idx_, values_);
    }
    /// Writes the listed users as dense rows (row r is users[r]); see the range overload.
    void user_batch(const std::vector<index_type>& users, Matrix<T>& values, Matrix<T>* mask = nullptr) const {
        for (const auto u : users) check_user(u);
        dense_rows(users.size(), n_items(), values, mask, [&](size_type r) { return users[r]; }, row_ptr_, item_idx_,
                   values_);
    }
    /// Writes items [first, first + count) as dense rows over users (count x n_users).
    void item_batch(index_type first, size_type count, Matrix<T>& values, Matrix<T>* mask = nullptr) const {
        check_arg(static_cast<size_type>(first) + count <= n_items(), "RatingMatrix::item_batch: items [", first, ", ",
                  static_cast<size_type>(first) + count, ") out of range (", n_items(), " items)");
        dense_rows(count, n_users(), values, mask, [&](size_type r) { return static_cast<index_type>(first + r); },
                   item_ptr_, col_user_, col_value_);
    }
    /// Writes the listed items as dense rows over users.
    void item_batch(const std::vector<index_type>& items, Matrix<T>& values, Matrix<T>* mask = nullptr) const {
        for (const auto i : items) check_item(i);
        dense_rows(items.size(), n_users(), values, mask, [&](size_type r) { return items[r]; }, item_ptr_, col_user_,
                   col_value_);
    }

    /// The same ratings with the roles of users and items swapped (for item-based models).
    RatingMatrix transposed() const {
        std::vector<std::int64_t> ts;
        if (!timestamps_.empty()) {
            ts.resize(nnz());
            std::vector<size_type> next(item_ptr_.begin(), item_ptr_.end() - 1);
            for (size_type u = 0; u < n_users(); ++u)
                for (size_type k = row_ptr_[u]; k < row_ptr_[u + 1]; ++k) ts[next[item_idx_[k]]++] = timestamps_[k];
        }
        return RatingMatrix(items_, users_, item_ptr_, col_user_, col_value_, std::move(ts));
    }

    /// A matrix in the same index space holding the entries for which keep(k) is true, where k is
    /// the entry's position in the CSR arrays (0..nnz()-1).
    template <class Pred>
    RatingMatrix filter(Pred keep) const {
        std::vector<size_type> rp(n_users() + 1, 0);
        std::vector<index_type> idx;
        std::vector<T> vals;
        std::vector<std::int64_t> ts;
        std::vector<std::uint8_t> kept(nnz());
        size_type n_kept = 0;
        for (size_type k = 0; k < nnz(); ++k) n_kept += (kept[k] = keep(k) ? 1 : 0);
        idx.reserve(n_kept);
        vals.reserve(n_kept);
        if (!timestamps_.empty()) ts.reserve(n_kept);
        for (size_type u = 0; u < n_users(); ++u) {
            for (size_type k = row_ptr_[u]; k < row_ptr_[u + 1]; ++k) {
                if (!kept[k]) continue;
                idx.push_back(item_idx_[k]);
                vals.push_back(values_[k]);
                if (!timestamps_.empty()) ts.push_back(timestamps_[k]);
            }
            rp[u + 1] = idx.size();
        }
        return RatingMatrix(users_, items_, std::move(rp), std::move(idx), std::move(vals), std::move(ts));
    }

    /// The user index of each CSR entry (the COO row array), computed on demand.
    std::vector<index_type> entry_users() const {
        std::vector<index_type> out(nnz());
        for (size_type u = 0; u < n_users(); ++u)
            std::fill(out.begin() + static_cast<std::ptrdiff_t>(row_ptr_[u]),
                      out.begin() + static_cast<std::ptrdiff_t>(row_ptr_[u + 1]), static_cast<index_type>(u));
        return out;
    }

private:
    index_type check_user(index_type u) const {
        check_arg(u < n_users(), "user index ", u, " out of range (", n_users(), " users)");
        return u;
    }
    index_type check_item(index_type i) const {
        check_arg(i < n_items(), "item index ", i, " out of range (", n_items(), " items)");
        return i;
    }

    template <class RowOf>
    static void dense_rows(size_type count, size_type width, Matrix<T>& values, Matrix<T>* mask, RowOf row_of,
                           const std::vector<size_type>& ptr, const std::vector<index_type>& idx,
                           const std::vector<T>& vals) {
        const std::array<size_type, 2> shape{count, width};
        if (values.shape() != decltype(values.shape())(shape)) values.resize(shape);
        std::fill(values.begin(), values.end(), T(0));
        if (mask) {
            if (mask->shape() != decltype(mask->shape())(shape)) mask->resize(shape);
            std::fill(mask->begin(), mask->end(), T(0));
        }
        for (size_type r = 0; r < count; ++r) {
            const index_type row = row_of(r);
            T* out = values.data() + r * width;
            T* m = mask ? mask->data() + r * width : nullptr;
            for (size_type k = ptr[row]; k < ptr[row + 1]; ++k) {
                out[idx[k]] = vals[k];
                if (m) m[idx[k]] = T(1);
            }
        }
    }

    void build_item_index() {
        const size_type ni = n_items();
        item_ptr_.assign(ni + 1, 0);
        for (const auto i : item_idx_) ++item_ptr_[i + 1];
        std::partial_sum(item_ptr_.begin(), item_ptr_.end(), item_ptr_.begin());
        col_user_.resize(nnz());
        col_value_.resize(nnz());
        std::vector<size_type> next(item_ptr_.begin(), item_ptr_.end() - 1);
        for (size_type u = 0; u < n_users(); ++u) {
            for (size_type k = row_ptr_[u]; k < row_ptr_[u + 1]; ++k) {
                const size_type dst = next[item_idx_[k]]++;
                col_user_[dst] = static_cast<index_type>(u);
                col_value_[dst] = values_[k];
            }
        }
    }

    map_ptr users_, items_;
    std::vector<size_type> row_ptr_;
    std::vector<index_type> item_idx_;
    std::vector<T> values_;
    std::vector<std::int64_t> timestamps_;
    std::vector<size_type> item_ptr_;
    std::vector<index_type> col_user_;
    std::vector<T> col_value_;
};

/// A train/test pair over one index space (train.same_space(test) holds): what every split returns.
template <class T = float>
struct Split {
    RatingMatrix<T> train;
    RatingMatrix<T> test;
};

}  // namespace cfnet
