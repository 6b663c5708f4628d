#pragma once
// Shared by the translation units of cfnet._cfnet: the conversions between numpy / scipy.sparse and
// cfnet's types, the fit callback that brings Python into the (GIL-free) fit loop, and the
// declarations of each unit's init function. Float only: the module binds the library's T = float.
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/train.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfnet_py {

namespace py = pybind11;
using T = float;
using Matrix = cfnet::RatingMatrix<T>;
using MatrixPtr = std::shared_ptr<const Matrix>;

void init_data(py::module_& m);
void init_metrics(py::module_& m);
void init_autoencoder(py::module_& m);
void init_ensemble(py::module_& m);
void init_double(py::module_& m);
void init_neural_cf(py::module_& m);
void init_other_models(py::module_& m);

/// A std::vector handed to numpy without a copy: the vector moves to the heap and a capsule owns it.
template <class V>
py::array_t<V> to_numpy(std::vector<V>&& v) {
    auto* heap = new std::vector<V>(std::move(v));
    py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<V>*>(p); });
    return py::array_t<V>({static_cast<py::ssize_t>(heap->size())}, {static_cast<py::ssize_t>(sizeof(V))},
                          heap->data(), owner);
}

/// CSR arrays of a scipy.sparse matrix (any format: converted to canonical CSR, stored zeros kept:
/// a stored entry is an observation, whatever its value).
struct Csr {
    std::size_t rows = 0, cols = 0;
    std::vector<std::size_t> indptr;
    std::vector<cfnet::index_type> indices;
    std::vector<T> data;
};

Csr csr_from_scipy(py::handle obj, const char* who);

/// A RatingMatrix given by Python: a bound cfnet.RatingMatrix (borrowed) or a scipy.sparse matrix
/// (converted; users = rows, items = columns, ids = indices unless maps are given).
struct MatrixArg {
    std::shared_ptr<const Matrix> owned;  // keeps a converted matrix or the bound one alive
    const Matrix* get() const { return owned.get(); }
    const Matrix& operator*() const { return *owned; }
    const Matrix* operator->() const { return owned.get(); }
};

/// @throws InvalidArgument when `obj` is neither a cfnet.RatingMatrix nor a scipy.sparse matrix.
MatrixArg as_matrix(py::handle obj, const char* who, Matrix::map_ptr users = nullptr, Matrix::map_ptr items = nullptr);

/// Maps 0..n-1 (the index space of a scipy matrix).
Matrix::map_ptr range_map(std::size_t n, const char* kind);

/// {"epoch": [...], "loss": [...], "seconds": [...], "<metric>": [...]}: Keras' history.history.
py::dict history_dict(const cfnet::History& h);
py::dict epoch_dict(const cfnet::EpochRecord& r);

/// Raised inside the GIL-free fit when a Python callback raised (or Ctrl-C arrived): the Python
/// error is already set on this thread; run_released() turns it back into the Python exception.
struct PythonErrorPending {};

/// Runs f() with the GIL released; a Python error raised by a callback meanwhile is re-raised.
template <class F>
auto run_released(F&& f) -> decltype(f()) {
    try {
        py::gil_scoped_release release;
        return f();
    } catch (const PythonErrorPending&) {
        throw py::error_already_set();
    }
}

/// The fit loop's view of Python: checks for Ctrl-C after every step (KeyboardInterrupt stops
/// training between two steps, the model keeping the weights of the last one), calls the user's
/// callback (a callable taking the epoch's record as a dict, or an object with any of Keras'
/// on_train_begin / on_epoch_begin / on_batch_end / on_epoch_end / on_train_end), and drives the
/// progress bar when show_progress is set (True: cfnet._progress.ProgressBar, written through
/// sys.stdout so that it shows in Jupyter; "tqdm": tqdm.auto's bars), within an epoch at most every
/// 100 ms.
class PyFitCallback : public cfnet::Callback {
public:
    PyFitCallback(py::object callback, py::object show_progress, std::string name);
    std::vector<cfnet::Callback*> list() { return {this}; }

    void on_train_begin(int epochs, std::size_t steps) override;
    void on_epoch_begin(int epoch) override;
    void on_batch_end(std::size_t step, double loss) override;
    bool on_epoch_end(const cfnet::EpochRecord& r) override;
    void on_train_end(const cfnet::History& h) override;

private:
    void check_signals();
    py::object callback_;
    bool callable_ = false;
    bool has_batch_ = false;
    py::object bar_;  // cfnet._progress.ProgressBar or None
    std::chrono::steady_clock::time_point last_check_{}, last_draw_{};
    std::size_t steps_ = 0;
};

/// Users as a vector of indices from an int or a 1-D integer array; `scalar` tells which it was.
std::vector<cfnet::index_type> user_list(py::handle userid, bool& scalar, const char* who);

/// A RatingReport as a dict {rmse, mae, count} (every model's evaluate_rating).
inline py::dict rating_dict(const cfnet::RatingReport& r) {
    py::dict d;
    d["rmse"] = r.rmse;
    d["mae"] = r.mae;
    d["count"] = r.count;
    return d;
}

/// A RankingReport as a dict (evaluate_ranking, from the metrics module and every model).
inline py::dict ranking_dict(const cfnet::RankingReport& r) {
    py::dict d;
    d["precision"] = r.precision;
    d["recall"] = r.recall;
    d["ndcg"] = r.ndcg;
    d["hit_rate"] = r.hit_rate;
    d["map"] = r.map;
    d["recall_capped"] = r.recall_capped;
    d["map_r"] = r.map_r;
    d["users_evaluated"] = r.users_evaluated;
    d["users_skipped"] = r.users_skipped;
    d["k"] = r.k;
    return d;
}

}  // namespace cfnet_py
