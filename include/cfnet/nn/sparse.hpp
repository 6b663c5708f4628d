#pragma once
/// @file nn/sparse.hpp
/// SparseBatch<T>: a mini-batch in compressed sparse row (CSR) form, the batch of the sparse layers
/// (see docs/concepts.md, "Sparse paths"):
///
/// - as an input (SparseInputDense::forward): the observed entries of each row and their values;
///   the entries not stored are exact zeros of the input;
/// - as a pattern (SparseOutputDense::forward_at): the (row, col) entries at which outputs are
///   wanted. The values are then not read by the layer (a masked loss typically keeps the targets
///   there).
///
/// Built row by row, reusing its storage:
///
///   SparseBatch<float> batch(n_items);
///   batch.clear();
///   for (auto u : users) batch.add_row(matrix.user_items(u), matrix.user_ratings(u));
///
/// Column indices within a row are strictly increasing.

#include <cfnet/error.hpp>
#include <cfnet/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace cfnet::nn {

/// Index type of sparse columns and embedding rows (the same type as cfnet::index_type in
/// data/rating_matrix.hpp; nn does not include data, so it has its own alias).
using index_type = std::uint32_t;

/// A CSR mini-batch: rows() x cols(), row r's entries are indices()[row_ptr()[r] .. row_ptr()[r+1])
/// with values() aligned. Storage is kept across clear() so steady-state refills allocate nothing.
template <class T = float>
class SparseBatch {
public:
    using value_type = T;
    using size_type = std::size_t;
    using index_type = nn::index_type;

    SparseBatch() = default;
    /// An empty batch (0 rows) with `cols` columns.
    /// @throws InvalidArgument if cols does not fit index_type.
    explicit SparseBatch(size_type cols) { clear(cols); }

    /// Removes every row, keeping the number of columns and the storage.
    void clear() noexcept {
        row_ptr_.resize(1);
        row_ptr_[0] = 0;
        indices_.clear();
        values_.clear();
    }

    /// Removes every row and sets the number of columns.
    /// @throws InvalidArgument if cols does not fit index_type.
    void clear(size_type cols) {
        check_arg(cols <= std::numeric_limits<index_type>::max(), "SparseBatch: ", cols, " columns do not fit index_type");
        cols_ = cols;
        clear();
    }

    /// Reserves storage for `rows` rows and `nnz` entries in total.
    void reserve(size_type rows, size_type nnz) {
        row_ptr_.reserve(rows + 1);
        indices_.reserve(nnz);
        values_.reserve(nnz);
    }

    /// Appends a row with entries (cols[i], values[i]), i < n.
    /// @pre cols is strictly increasing and every col < this->cols().
    /// @throws InvalidArgument naming the row and the offending column otherwise (the batch is unchanged).
    void add_row(const index_type* cols, const T* values, size_type n) {
        for (size_type i = 0; i < n; ++i) {
            check_arg(cols[i] < cols_, "SparseBatch::add_row: row ", rows(), " has column ", cols[i], ", but the batch has ",
                      cols_, " columns");
            check_arg(i == 0 || cols[i - 1] < cols[i], "SparseBatch::add_row: row ", rows(),
                      " has columns out of order or repeated (", i == 0 ? 0 : cols[i - 1], " then ", cols[i], ")");
        }
        indices_.insert(indices_.end(), cols, cols + n);
        values_.insert(values_.end(), values, values + n);
        row_ptr_.push_back(indices_.size());
    }

    /// Appends a row from two aligned ranges with data() and size() (std::vector, Span, ...).
    /// @throws InvalidArgument if their sizes differ, or as add_row(pointer) does.
    template <class IndexRange, class ValueRange>
    void add_row(const IndexRange& cols, const ValueRange& values) {
        check_arg(cols.size() == values.size(), "SparseBatch::add_row: ", cols.size(), " columns but ", values.size(),
                  " values");
        add_row(cols.data(), values.data(), cols.size());
    }

    /// Appends a row of a pattern: the given columns, with value 1.
    void add_pattern_row(const index_type* cols, size_type n) {
        ones_.assign(n, T(1));
        add_row(cols, ones_.data(), n);
    }
    void add_pattern_row(const std::vector<index_type>& cols) { add_pattern_row(cols.data(), cols.size()); }

    size_type rows() const noexcept { return row_ptr_.size() - 1; }
    size_type cols() const noexcept { return cols_; }
    size_type nnz() const noexcept { return indices_.size(); }
    const std::vector<size_type>& row_ptr() const noexcept { return row_ptr_; }
    const std::vector<index_type>& indices() const noexcept { return indices_; }
    const std::vector<T>& values() const noexcept { return values_; }
    /// Values are mutable (e.g. to rescale inputs); the structure is not.
    std::vector<T>& values() noexcept { return values_; }

    /// The dense rows() x cols() matrix (zeros where nothing is stored). For tests and small data.
    Matrix<T> to_dense() const {
        Matrix<T> m = xt::zeros<T>({rows(), cols_});
        for (size_type r = 0; r < rows(); ++r)
            for (size_type p = row_ptr_[r]; p < row_ptr_[r + 1]; ++p) m(r, indices_[p]) = values_[p];
        return m;
    }

    /// The entries of `m` that are not zero, as a batch. Zero entries are dropped: use it only where a
    /// zero means "no entry" (tests, inputs whose missing entries are encoded as 0).
    static SparseBatch from_dense(const Matrix<T>& m) {
        SparseBatch s(m.shape(1));
        for (size_type r = 0; r < m.shape(0); ++r) {
            for (size_type c = 0; c < m.shape(1); ++c) {
                if (m(r, c) != T(0)) {
                    s.indices_.push_back(static_cast<index_type>(c));
                    s.values_.push_back(m(r, c));
                }
            }
            s.row_ptr_.push_back(s.indices_.size());
        }
        return s;
    }

private:
    size_type cols_ = 0;
    std::vector<size_type> row_ptr_{0};
    std::vector<index_type> indices_;
    std::vector<T> values_;
    std::vector<T> ones_;
};

}  // namespace cfnet::nn
