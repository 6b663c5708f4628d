// cfnet._cfnet: the data side. RatingMatrix (to and from scipy.sparse / numpy), IdMap, the
// MovieLens loaders, load_interactions (string ids), the splits, to_implicit, the synthetic
// generator; and the shared conversion helpers of common.hpp.
#include "common.hpp"

#include <cfnet/data/implicit.hpp>
#include <cfnet/data/interactions.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unistd.h>

namespace cfnet_py {

// --- shared helpers -----------------------------------------------------------------------------

Matrix::map_ptr range_map(std::size_t n, const char* kind) {
    std::vector<cfnet::id_type> ids(n);
    for (std::size_t k = 0; k < n; ++k) ids[k] = static_cast<cfnet::id_type>(k);
    return std::make_shared<const cfnet::IdMap>(std::move(ids), kind);
}

Csr csr_from_scipy(py::handle obj, const char* who) {
    if (!py::hasattr(obj, "tocsr") || !py::hasattr(obj, "shape"))
        throw cfnet::InvalidArgument(std::string(who) + ": expected a cfnet.RatingMatrix or a scipy.sparse matrix, got " +
                                     std::string(py::str(py::type::of(obj).attr("__name__"))));
    py::object csr = obj.attr("tocsr")();
    if (!csr.attr("has_canonical_format").cast<bool>()) {
        csr = csr.attr("copy")();
        csr.attr("sum_duplicates")();  // sorts the indices too
    }
    Csr out;
    const auto shape = csr.attr("shape").cast<std::pair<std::size_t, std::size_t>>();
    out.rows = shape.first;
    out.cols = shape.second;
    const auto indptr = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(csr.attr("indptr"));
    const auto indices = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(csr.attr("indices"));
    const auto data = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(csr.attr("data"));
    if (!indptr || !indices || !data) throw py::error_already_set();
    const auto* p = indptr.data();
    out.indptr.assign(p, p + indptr.size());
    out.indices.resize(static_cast<std::size_t>(indices.size()));
    const auto* ix = indices.data();
    for (std::size_t k = 0; k < out.indices.size(); ++k) out.indices[k] = static_cast<cfnet::index_type>(ix[k]);
    out.data.assign(data.data(), data.data() + data.size());
    return out;
}

MatrixArg as_matrix(py::handle obj, const char* who, Matrix::map_ptr users, Matrix::map_ptr items) {
    if (py::isinstance<Matrix>(obj)) {
        // Borrowed: the shared_ptr keeps the Python object (and so the matrix) alive.
        const Matrix* m = obj.cast<const Matrix*>();
        py::object keep = py::reinterpret_borrow<py::object>(obj);
        auto* holder = new py::object(std::move(keep));
        return {std::shared_ptr<const Matrix>(m, [holder](const Matrix*) {
            py::gil_scoped_acquire gil;
            delete holder;
        })};
    }
    Csr c = csr_from_scipy(obj, who);
    if (!users) users = range_map(c.rows, "user");
    if (!items) items = range_map(c.cols, "item");
    cfnet::check_arg(users->size() == c.rows && items->size() == c.cols, who, ": the matrix is ", c.rows, " x ", c.cols,
                     " but the id maps have ", users->size(), " users and ", items->size(), " items");
    return {std::make_shared<const Matrix>(std::move(users), std::move(items), std::move(c.indptr),
                                           std::move(c.indices), std::move(c.data))};
}

py::dict epoch_dict(const cfnet::EpochRecord& r) {
    py::dict d;
    d["epoch"] = r.epoch;
    d["loss"] = r.loss;
    d["seconds"] = r.seconds;
    for (const auto& kv : r.metrics) d[py::str(kv.first)] = kv.second;
    return d;
}

py::dict history_dict(const cfnet::History& h) {
    py::dict d;
    py::list epoch, loss, seconds;
    for (const auto& e : h.epochs) {
        epoch.append(e.epoch);
        loss.append(e.loss);
        seconds.append(e.seconds);
    }
    d["epoch"] = epoch;
    d["loss"] = loss;
    d["seconds"] = seconds;
    for (const auto& name : h.metric_names()) {
        py::list v;
        for (const auto& e : h.epochs) v.append(e.metric(name).value_or(std::nan("")));
        d[py::str(name)] = v;
    }
    return d;
}

std::vector<cfnet::index_type> user_list(py::handle userid, bool& scalar, const char* who) {
    std::vector<cfnet::index_type> out;
    auto check = [&](long long v) {
        cfnet::check_arg(v >= 0 && v <= static_cast<long long>(std::numeric_limits<cfnet::index_type>::max()), who,
                         ": user index ", v, " is negative or too large");
        return static_cast<cfnet::index_type>(v);
    };
    const bool is_array = py::isinstance<py::array>(userid);
    scalar = is_array ? py::reinterpret_borrow<py::array>(userid).ndim() == 0 : py::hasattr(userid, "__index__");
    if (scalar) {
        PyObject* index = PyNumber_Index(userid.ptr());
        if (!index) throw py::error_already_set();
        out.push_back(check(py::reinterpret_steal<py::int_>(index).cast<long long>()));
        return out;
    }
    const auto a = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(userid);
    if (!a) throw cfnet::InvalidArgument(std::string(who) + ": userid must be an integer or a 1-D array of integers");
    cfnet::check_arg(a.ndim() == 1, who, ": userid must be an integer or a 1-D array, got ", a.ndim(), " dimensions");
    out.reserve(static_cast<std::size_t>(a.size()));
    for (py::ssize_t k = 0; k < a.size(); ++k) out.push_back(check(a.data()[k]));
    return out;
}

// --- the fit callback ---------------------------------------------------------------------------

PyFitCallback::PyFitCallback(py::object callback, py::object show_progress, std::string name)
    : callback_(std::move(callback)) {
    if (!callback_.is_none()) {
        callable_ = !py::hasattr(callback_, "on_epoch_end") && PyCallable_Check(callback_.ptr());
        has_batch_ = py::hasattr(callback_, "on_batch_end");
        cfnet::check_arg(callable_ || py::hasattr(callback_, "on_epoch_end") || has_batch_ ||
                             py::hasattr(callback_, "on_train_begin") || py::hasattr(callback_, "on_train_end") ||
                             py::hasattr(callback_, "on_epoch_begin"),
                         name, ".fit: callback must be a callable (called with each epoch's record) or an object with "
                               "on_epoch_end / on_batch_end / ... methods");
    }
    const bool tqdm = py::isinstance<py::str>(show_progress);
    if (tqdm && show_progress.cast<std::string>() != "tqdm")
        throw cfnet::InvalidArgument(name + ".fit: show_progress must be True, False or 'tqdm', got '" +
                                     show_progress.cast<std::string>() + "'");
    if (tqdm || py::bool_(show_progress))
        bar_ = py::module_::import("cfnet._progress").attr("ProgressBar")(name, tqdm);
}

void PyFitCallback::check_signals() {
    if (PyErr_CheckSignals() != 0) throw PythonErrorPending{};
}

namespace {
template <class F>
void call_method(const py::object& obj, const char* name, F&& args) {
    if (!py::hasattr(obj, name)) return;
    try {
        args(obj.attr(name));
    } catch (py::error_already_set& e) {
        e.restore();
        throw PythonErrorPending{};
    }
}
}  // namespace

void PyFitCallback::on_train_begin(int epochs, std::size_t steps) {
    steps_ = steps;
    if (!bar_ && (callback_.is_none() || callable_)) return;
    py::gil_scoped_acquire gil;
    if (bar_) call_method(bar_, "on_train_begin", [&](py::object f) { f(epochs, steps); });
    if (!callback_.is_none() && !callable_) call_method(callback_, "on_train_begin", [&](py::object f) { f(epochs, steps); });
}

void PyFitCallback::on_epoch_begin(int epoch) {
    last_draw_ = {};
    if (!bar_ && (callback_.is_none() || callable_)) return;
    py::gil_scoped_acquire gil;
    if (bar_) call_method(bar_, "on_epoch_begin", [&](py::object f) { f(epoch); });
    if (!callback_.is_none() && !callable_) call_method(callback_, "on_epoch_begin", [&](py::object f) { f(epoch); });
}

void PyFitCallback::on_batch_end(std::size_t step, double loss) {
    // Without a Python on_batch_end, Ctrl-C is checked at most every 20 ms and the bar redrawn at most
    // every 100 ms (and at an epoch's last step): taking the GIL after every step would make training
    // wait for any other busy Python thread (up to its 5 ms switch interval).
    const auto now = std::chrono::steady_clock::now();
    const bool draw = bar_ && (step >= steps_ || now - last_draw_ >= std::chrono::milliseconds(100));
    if (!has_batch_ && !draw && now - last_check_ < std::chrono::milliseconds(20)) return;
    last_check_ = now;
    py::gil_scoped_acquire gil;
    check_signals();
    if (draw) {
        last_draw_ = now;
        call_method(bar_, "on_batch_end", [&](py::object f) { f(step, loss); });
    }
    if (has_batch_) call_method(callback_, "on_batch_end", [&](py::object f) { f(step, loss); });
}

bool PyFitCallback::on_epoch_end(const cfnet::EpochRecord& r) {
    py::gil_scoped_acquire gil;
    if (bar_) {
        call_method(bar_, "on_epoch_end", [&](py::object f) {
            py::dict metrics;
            for (const auto& kv : r.metrics) metrics[py::str(kv.first)] = kv.second;
            f(r.epoch, r.seconds, r.loss, metrics);
        });
    }
    check_signals();
    if (callback_.is_none()) return false;
    bool stop = false;
    try {
        py::object res = callable_ ? callback_(epoch_dict(r))
                                   : (py::hasattr(callback_, "on_epoch_end") ? callback_.attr("on_epoch_end")(epoch_dict(r))
                                                                             : py::none());
        stop = !res.is_none() && res.cast<bool>();
    } catch (py::error_already_set& e) {
        e.restore();
        throw PythonErrorPending{};
    }
    return stop;
}

void PyFitCallback::on_train_end(const cfnet::History& h) {
    if (callback_.is_none() || callable_) return;
    py::gil_scoped_acquire gil;
    call_method(callback_, "on_train_end", [&](py::object f) { f(history_dict(h)); });
}

// --- bindings -------------------------------------------------------------------------------------

namespace {

py::array_t<cfnet::id_type> ids_array(const cfnet::IdMap& m) {
    return py::array_t<cfnet::id_type>(static_cast<py::ssize_t>(m.size()), m.ids().data());
}

py::object labels(const cfnet::IdMap& m) {
    if (m.has_names()) return py::cast(m.names());
    return ids_array(m);
}

/// A read-only numpy view of a vector the RatingMatrix owns (kept alive by `owner`).
template <class V>
py::array_t<V> view(const std::vector<V>& v, py::handle owner) {
    py::array_t<V> a(static_cast<py::ssize_t>(v.size()), v.data(), owner);
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return a;
}

cfnet::By parse_by(const std::string& s) {
    if (s == "user") return cfnet::By::user;
    if (s == "item") return cfnet::By::item;
    throw cfnet::InvalidArgument("stratified_split: by must be 'user' or 'item', got '" + s + "'");
}

cfnet::IdKind parse_id_kind(const std::string& s) {
    if (s == "auto") return cfnet::IdKind::auto_detect;
    if (s == "integer") return cfnet::IdKind::integer;
    if (s == "string") return cfnet::IdKind::string;
    throw cfnet::InvalidArgument("load_interactions: ids must be 'auto', 'integer' or 'string', got '" + s + "'");
}

cfnet::DuplicatePolicy parse_duplicates(const std::string& s) {
    if (s == "error") return cfnet::DuplicatePolicy::error;
    if (s == "keep_last") return cfnet::DuplicatePolicy::keep_last;
    if (s == "mean") return cfnet::DuplicatePolicy::mean;
    throw cfnet::InvalidArgument("duplicates must be 'error', 'keep_last' or 'mean', got '" + s + "'");
}

cfnet::Column column(py::handle c) {
    if (c.is_none()) return cfnet::Column::none();
    if (py::isinstance<py::str>(c)) return cfnet::Column(c.cast<std::string>());
    return cfnet::Column(c.cast<int>());
}

}  // namespace

void init_data(py::module_& m) {
    py::class_<cfnet::IdMap, std::shared_ptr<cfnet::IdMap>>(m, "IdMap",
        "The original ids of one side (users or items) of a RatingMatrix, in index order.")
        .def("__len__", &cfnet::IdMap::size)
        .def_property_readonly("kind", &cfnet::IdMap::kind)
        .def_property_readonly("ids", &ids_array, "The integer ids (numpy int64), in index order.")
        .def_property_readonly("names", [](const cfnet::IdMap& i) -> py::object {
            if (!i.has_names()) return py::none();
            return py::cast(i.names());
        }, "The string ids (load_interactions with string ids), or None.")
        .def("index", [](const cfnet::IdMap& i, py::handle id) -> cfnet::index_type {
            if (py::isinstance<py::str>(id)) {
                const auto k = i.find(id.cast<std::string>());
                cfnet::check_arg(k.has_value(), "IdMap.index: unknown ", i.kind(), " '", id.cast<std::string>(), "'");
                return *k;
            }
            return i.index(id.cast<cfnet::id_type>());
        }, py::arg("id"), "The index of an original id (an int, or a str for string ids). Raises ValueError if unknown.")
        .def("id", &cfnet::IdMap::id, py::arg("index"))
        .def("label", &cfnet::IdMap::label, py::arg("index"))
        .def("__contains__", [](const cfnet::IdMap& i, py::handle id) {
            if (py::isinstance<py::str>(id)) return i.find(id.cast<std::string>()).has_value();
            return i.contains(id.cast<cfnet::id_type>());
        })
        .def("__repr__", [](const cfnet::IdMap& i) {
            return "<cfnet.IdMap of " + std::to_string(i.size()) + " " + i.kind() + "s>";
        });

    py::class_<Matrix, std::shared_ptr<Matrix>>(m, "RatingMatrix", R"doc(
Ratings (or 0/1 interactions) in CSR by user, with the original user and item ids.

Missing is not zero: only stored entries are observations. Build one from scipy.sparse with
RatingMatrix.from_csr(csr) (users = rows, items = columns, ids = indices unless given) or from
(user, item, rating) arrays of original ids with RatingMatrix.from_arrays; get scipy back with
to_csr(). Every model's fit/predict/recommend also takes a scipy.sparse matrix directly.)doc")
        .def(py::init<>())
        .def_static("from_csr", [](py::handle csr, py::object user_ids, py::object item_ids) {
            Matrix::map_ptr users, items;
            if (!user_ids.is_none())
                users = std::make_shared<const cfnet::IdMap>(user_ids.cast<std::vector<cfnet::id_type>>(), "user");
            if (!item_ids.is_none())
                items = std::make_shared<const cfnet::IdMap>(item_ids.cast<std::vector<cfnet::id_type>>(), "item");
            MatrixArg a = as_matrix(csr, "RatingMatrix.from_csr", users, items);
            return std::make_shared<Matrix>(*a);
        }, py::arg("matrix"), py::arg("user_ids") = py::none(), py::arg("item_ids") = py::none(),
           "From a scipy.sparse matrix (users x items; stored zeros are observations). user_ids/item_ids give "
           "the original ids of the rows/columns (default: their indices).")
        .def_static("from_arrays", [](const std::vector<cfnet::id_type>& users, const std::vector<cfnet::id_type>& items,
                                      py::object ratings, const std::string& duplicates) {
            cfnet::check_arg(users.size() == items.size(), "RatingMatrix.from_arrays: ", users.size(), " users but ",
                             items.size(), " items");
            std::vector<T> r;
            if (ratings.is_none()) r.assign(users.size(), T(1));
            else r = ratings.cast<std::vector<T>>();
            cfnet::check_arg(r.size() == users.size(), "RatingMatrix.from_arrays: ", r.size(), " ratings for ",
                             users.size(), " pairs");
            std::vector<cfnet::Rating<T>> list(users.size());
            for (std::size_t k = 0; k < list.size(); ++k) {
                list[k].user = users[k];
                list[k].item = items[k];
                list[k].value = r[k];
            }
            return std::make_shared<Matrix>(Matrix::from_ratings(list, parse_duplicates(duplicates), false));
        }, py::arg("users"), py::arg("items"), py::arg("ratings") = py::none(), py::arg("duplicates") = "error",
           "From parallel arrays of original user ids, item ids and ratings (default 1: interactions). The index "
           "maps are the sorted distinct ids. duplicates: 'error' (default), 'keep_last' or 'mean'.")
        .def_property_readonly("n_users", &Matrix::n_users)
        .def_property_readonly("n_items", &Matrix::n_items)
        .def_property_readonly("nnz", &Matrix::nnz)
        .def_property_readonly("shape", [](const Matrix& x) { return py::make_tuple(x.n_users(), x.n_items()); })
        .def_property_readonly("density", &Matrix::density)
        .def_property_readonly("users", [](const Matrix& x) { return x.user_map(); }, "The users' IdMap.")
        .def_property_readonly("items", [](const Matrix& x) { return x.item_map(); }, "The items' IdMap.")
        .def_property_readonly("user_ids", [](const Matrix& x) { return labels(x.users()); },
                               "The original user ids in index order (strings for string ids).")
        .def_property_readonly("item_ids", [](const Matrix& x) { return labels(x.items()); },
                               "The original item ids in index order (strings for string ids).")
        .def_property_readonly("indptr", [](py::handle self) { return view(self.cast<const Matrix&>().row_ptr(), self); },
                               "CSR row pointers (read-only view, no copy; uint64).")
        .def_property_readonly("indices", [](py::handle self) { return view(self.cast<const Matrix&>().item_indices(), self); },
                               "CSR item indices (read-only view, no copy; uint32).")
        .def_property_readonly("data", [](py::handle self) { return view(self.cast<const Matrix&>().values(), self); },
                               "The ratings in CSR order (read-only view, no copy; float32).")
        .def_property_readonly("timestamps", [](py::handle self) { return view(self.cast<const Matrix&>().timestamps(), self); },
                               "Timestamps in CSR order (empty when the data has none).")
        .def("to_csr", [](py::handle self) {
            const Matrix& x = self.cast<const Matrix&>();
            py::module_ sp = py::module_::import("scipy.sparse");
            auto indptr = py::array_t<std::int64_t>(static_cast<py::ssize_t>(x.row_ptr().size()));
            auto indices = py::array_t<std::int32_t>(static_cast<py::ssize_t>(x.nnz()));
            auto data = py::array_t<T>(static_cast<py::ssize_t>(x.nnz()));
            for (std::size_t k = 0; k < x.row_ptr().size(); ++k) indptr.mutable_data()[k] = static_cast<std::int64_t>(x.row_ptr()[k]);
            for (std::size_t k = 0; k < x.nnz(); ++k) {
                indices.mutable_data()[k] = static_cast<std::int32_t>(x.item_indices()[k]);
                data.mutable_data()[k] = x.values()[k];
            }
            return sp.attr("csr_matrix")(py::make_tuple(data, indices, indptr),
                                          py::arg("shape") = py::make_tuple(x.n_users(), x.n_items()));
        }, "A scipy.sparse.csr_matrix (users x items, float32) of the stored entries.")
        .def("user_items", [](py::handle self, cfnet::index_type u) {
            const Matrix& x = self.cast<const Matrix&>();
            const auto s = x.user_items(u);
            return py::array_t<cfnet::index_type>(static_cast<py::ssize_t>(s.size()), s.data(), self);
        }, py::arg("user"), "Item indices of user index `user` (sorted).")
        .def("user_ratings", [](py::handle self, cfnet::index_type u) {
            const Matrix& x = self.cast<const Matrix&>();
            const auto s = x.user_ratings(u);
            return py::array_t<T>(static_cast<py::ssize_t>(s.size()), s.data(), self);
        }, py::arg("user"))
        .def("user_count", &Matrix::user_count, py::arg("user"))
        .def("item_count", &Matrix::item_count, py::arg("item"))
        .def("rating", &Matrix::rating, py::arg("user"), py::arg("item"), "The rating at (user index, item index), or None.")
        .def("mean", &Matrix::mean)
        .def("transposed", &Matrix::transposed)
        .def("same_space", &Matrix::same_space, py::arg("other"))
        .def("__repr__", [](const Matrix& x) {
            return "<cfnet.RatingMatrix " + std::to_string(x.n_users()) + " users x " + std::to_string(x.n_items()) +
                   " items, " + std::to_string(x.nnz()) + " ratings>";
        });

    py::class_<cfnet::Split<T>>(m, "Split", "A train/test pair over one index space.")
        .def(py::init([](const Matrix& train, const Matrix& test) { return cfnet::Split<T>{train, test}; }),
             py::arg("train"), py::arg("test"))
        .def_readonly("train", &cfnet::Split<T>::train)
        .def_readonly("test", &cfnet::Split<T>::test)
        .def("__iter__", [](const cfnet::Split<T>& s) { return py::iter(py::make_tuple(s.train, s.test)); });

    py::class_<cfnet::UserHoldoutSplit<T>>(m, "UserHoldoutSplit",
        "Strong generalisation: training users, and held-out users split into fold-in and target parts.")
        .def_readonly("train", &cfnet::UserHoldoutSplit<T>::train)
        .def_readonly("validation_fold_in", &cfnet::UserHoldoutSplit<T>::validation_fold_in)
        .def_readonly("validation_target", &cfnet::UserHoldoutSplit<T>::validation_target)
        .def_readonly("test_fold_in", &cfnet::UserHoldoutSplit<T>::test_fold_in)
        .def_readonly("test_target", &cfnet::UserHoldoutSplit<T>::test_target);

    // --- loaders ---
    py::class_<cfnet::movielens::Dataset<T>>(m, "Dataset", "Ratings plus the item catalog of one MovieLens release.")
        .def_readonly("ratings", &cfnet::movielens::Dataset<T>::ratings)
        .def_readonly("variant", &cfnet::movielens::Dataset<T>::variant)
        .def_property_readonly("titles", [](const cfnet::movielens::Dataset<T>& d) {
            py::dict out;
            for (const auto& it : d.items.items()) out[py::int_(it.id)] = it.title;
            return out;
        }, "{item id: title}")
        .def("title", [](const cfnet::movielens::Dataset<T>& d, cfnet::index_type item) {
            const auto id = d.ratings.items().id(item);
            return d.items.contains(id) ? d.items.title(id) : "Item " + std::to_string(id);
        }, py::arg("item"), "The title of item index `item` of `ratings`.");

    m.def("load_movielens", [](const std::string& dir) {
        return run_released([&] { return cfnet::movielens::load<T>(dir); });
    }, py::arg("directory"), "MovieLens 100K, 1M, 10M or a ratings.csv release from its directory (detected).");
    m.def("load_100k_split", [](const std::string& dir, const std::string& name) {
        return run_released([&] { return cfnet::movielens::load_100k_split<T>(dir, name); });
    }, py::arg("directory"), py::arg("name"), "One of ML-100K's shipped splits: 'u1'..'u5', 'ua', 'ub'.");
    m.def("load_interactions", [](const std::string& path, py::object user, py::object item, py::object rating,
                                  py::object timestamp, const std::string& separator, py::object header,
                                  const std::string& ids, const std::string& duplicates, const std::string& comment) {
        cfnet::InteractionFileOptions o;
        o.user(column(user)).item(column(item)).rating(column(rating)).timestamp(column(timestamp));
        o.separator(separator).ids(parse_id_kind(ids)).duplicates(parse_duplicates(duplicates)).comment(comment);
        if (!header.is_none()) o.header(header.cast<bool>());
        return run_released([&] { return cfnet::load_interactions<T>(path, o); });
    }, py::arg("path"), py::arg("user") = 0, py::arg("item") = 1, py::arg("rating") = 2, py::arg("timestamp") = py::none(),
       py::arg("separator") = "auto", py::arg("header") = py::none(), py::arg("ids") = "auto",
       py::arg("duplicates") = "error", py::arg("comment") = "",
       R"doc(Reads your own interaction file (CSV/TSV/...): columns by 0-based position or header name; rating=None
for implicit data (every row is a 1); ids 'auto' (integers if every id is one, else strings), 'integer' or
'string'; header None = detected.)doc");

    // --- splits ---
    m.def("per_user_holdout", [](const Matrix& x, std::uint64_t seed, double fraction, std::size_t min_ratings) {
        return cfnet::per_user_holdout(x, seed, fraction, min_ratings);
    }, py::arg("ratings"), py::arg("seed") = 42, py::arg("fraction") = 0.2, py::arg("min_ratings") = 5,
       "The notebook's split: `fraction` of every user's ratings to test; users with fewer than min_ratings stay whole in train.");
    m.def("random_split", &cfnet::random_split<T>, py::arg("ratings"), py::arg("test_fraction"), py::arg("seed") = 42);
    m.def("stratified_split", [](const Matrix& x, double f, std::uint64_t seed, const std::string& by) {
        return cfnet::stratified_split(x, f, seed, parse_by(by));
    }, py::arg("ratings"), py::arg("test_fraction"), py::arg("seed") = 42, py::arg("by") = "user");
    m.def("leave_one_out", &cfnet::leave_one_out<T>, py::arg("ratings"), "Each user's latest rating (by timestamp) to test.");
    m.def("kfold", &cfnet::kfold<T>, py::arg("ratings"), py::arg("k"), py::arg("seed") = 42);
    m.def("user_holdout_split", &cfnet::user_holdout_split<T>, py::arg("ratings"), py::arg("n_heldout"),
          py::arg("seed") = 42, py::arg("target_fraction") = 0.2, py::arg("min_target_user") = 5);
    m.def("to_implicit", [](const Matrix& x, py::object at_least, py::object above) {
        cfnet::check_arg(at_least.is_none() || above.is_none(), "to_implicit: give at_least or above, not both");
        if (!at_least.is_none()) return cfnet::to_implicit(x, cfnet::Binarize::at_least(at_least.cast<double>()));
        if (!above.is_none()) return cfnet::to_implicit(x, cfnet::Binarize::above(above.cast<double>()));
        return cfnet::to_implicit(x, cfnet::Binarize::all());
    }, py::arg("ratings"), py::arg("at_least") = py::none(), py::arg("above") = py::none(),
       "0/1 interactions in the same index space: all entries, ratings >= at_least, or ratings > above.");

    m.def("synthetic", [](std::size_t n_users, std::size_t n_items, std::size_t n_ratings, std::uint64_t seed,
                          std::size_t rank, std::size_t min_ratings_per_user) {
        auto o = cfnet::synthetic::ml100k();
        o.n_users = n_users;
        o.n_items = n_items;
        o.n_ratings = n_ratings;
        o.seed = seed;
        o.rank = rank;
        o.min_ratings_per_user = min_ratings_per_user;
        return run_released([&] { return cfnet::synthetic::generate<T>(o); });
    }, py::arg("n_users") = 943, py::arg("n_items") = 1682, py::arg("n_ratings") = 100000, py::arg("seed") = 42,
       py::arg("rank") = 10, py::arg("min_ratings_per_user") = 20,
       "cfnet's seeded MovieLens-shaped generator (1..5 stars; the defaults are ML-100K's shape).");

    m.def("_stdout_isatty", [] { return isatty(fileno(stdout)) != 0; });
}

}  // namespace cfnet_py
