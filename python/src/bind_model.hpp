#pragma once
// The Python class of one cfnet model, written once against the recommender interface
// (include/cfnet/recommender.hpp) and the options field tables (include/cfnet/options_io.hpp):
// keyword-argument options with the C++ defaults (generated from the table, listed in the class
// docstring), fit with progress/callback/Ctrl-C, predict (Surprise's predict(uid, iid) and
// vectorised forms), implicit's recommend(userid, user_items, N, filter_already_liked_items,
// recalculate_user), score_items, evaluation, save/load, tune. Each model's .cpp instantiates it.
#include "common.hpp"

#include <cfnet/metrics.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/protocols.hpp>
#include <cfnet/tune.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <type_traits>

namespace cfnet_py {

/// A model as Python holds it: the C++ model, the matrix predict/recommend read by default (the
/// training matrix after fit, or what load(path, data) / the `input` property set), the last history.
template <class M>
struct PyModel {
    using model_type = M;
    M model;
    MatrixPtr input;
    cfnet::History history;
    std::vector<cfnet::History> member_histories;  // an ensemble's: one per member
};

/// A PyModel holding `model`.
template <class S, class M>
S make_holder(M&& model, MatrixPtr input = nullptr) {
    return S{std::forward<M>(model), std::move(input), {}, {}};
}

namespace traits {
template <class M>
using fit_cb_t = decltype(std::declval<M&>().fit(std::declval<const Matrix&>(),
                                                 std::declval<const std::vector<cfnet::Callback*>&>()));
template <class M>
using fit_members_t = decltype(std::declval<M&>().fit(std::declval<const Matrix&>(),
                                                      std::declval<const std::vector<cfnet::Callback*>&>()));
template <class M>
using fit_val_t = decltype(std::declval<M&>().fit(std::declval<const Matrix&>(), std::declval<const Matrix&>(),
                                                  std::declval<const std::vector<cfnet::Callback*>&>()));
template <class M>
using user_map_t = decltype(std::declval<const M&>().user_map());
template <class M>
using item_map_t = decltype(std::declval<const M&>().item_map());
template <class M>
using params_t = decltype(std::declval<M&>().parameters());
template <class O>
using early_t = decltype(std::declval<O&>().early_stopping);
}  // namespace traits

template <class M>
inline constexpr bool has_fit_callbacks_v = cfnet::detail::is_detected_exact_v<cfnet::History, traits::fit_cb_t, M>;
/// An ensemble: fit(train, callbacks) trains its members in turn and returns their histories.
template <class M>
inline constexpr bool has_member_fits_v =
    cfnet::detail::is_detected_exact_v<std::vector<cfnet::History>, traits::fit_members_t, M>;
template <class M>
inline constexpr bool has_fit_validation_v = cfnet::detail::is_detected_exact_v<cfnet::History, traits::fit_val_t, M>;

/// True when the model must see the whole input matrix to score one user (an item-based autoencoder
/// computes every item's code from the input's columns). Overloaded per model.
template <class M>
bool needs_full_input(const M&) {
    return false;
}

// --- options <-> Python ---------------------------------------------------------------------------

/// How a model's option keys are spelled in Python: its table's keys without `prefix`.
struct OptionNames {
    std::string model;   // "AutoencoderCF"
    std::string prefix;  // "options." for NeuralCF, else ""
};

/// The field of `key` (the table's key, or without the model's prefix; a trailing '_' is dropped, as
/// Python spells a keyword: Ease(lambda_=100.0) sets "lambda").
template <class O>
const cfnet::OptionField<O>* find_field(const std::string& key, const OptionNames& n) {
    for (const auto& f : cfnet::options_table<O>().fields())
        if (f.key == n.prefix + key || f.key == key) return &f;
    if (!key.empty() && key.back() == '_') return find_field<O>(key.substr(0, key.size() - 1), n);
    return nullptr;
}

template <class O>
std::string option_keys(const OptionNames& n) {
    std::string keys;
    for (const auto& f : cfnet::options_table<O>().fields())
        keys += (keys.empty() ? "" : ", ") + f.key.substr(f.key.rfind(n.prefix, 0) == 0 ? n.prefix.size() : 0);
    return keys;
}

inline bool is_bool(py::handle v) { return PyBool_Check(v.ptr()); }

/// A Python value as the text of a field's codec (what with_option and a model file read).
template <class O>
std::string option_text(const cfnet::OptionField<O>& f, py::handle v, const O& base, const std::string& key,
                        const OptionNames& n) {
    auto bad = [&](const char* expected) {
        return cfnet::InvalidArgument(n.model + ": option '" + key + "' must be " + expected + ", got " +
                                      std::string(py::repr(v)));
    };
    if (py::isinstance<py::str>(v)) return v.cast<std::string>();
    const std::string& c = f.codec;
    if (c == "number" || (c == "optional_number" && !v.is_none())) {
        if (is_bool(v) || !PyNumber_Check(v.ptr())) throw bad("a number");
        return cfnet::metadata_number(py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>());
    }
    if (c == "optional_number") return "";
    if (c == "integer") {
        if (is_bool(v) || !py::hasattr(v, "__index__")) throw bad("an integer");
        PyObject* index = PyNumber_Index(v.ptr());
        if (!index) throw py::error_already_set();
        return py::str(py::reinterpret_steal<py::object>(index)).cast<std::string>();
    }
    if (c == "flag") {
        if (is_bool(v)) return v.cast<bool>() ? "1" : "0";
        throw bad("True or False");
    }
    if (c == "list") {
        if (!py::isinstance<py::sequence>(v) && !py::isinstance<py::array>(v)) throw bad("a list of integers");
        const std::string current = f.write(base);
        char sep = ',';
        for (const char ch : current)
            if (ch < '0' || ch > '9') {
                sep = ch;
                break;
            }
        std::string out;
        for (auto x : py::iter(v)) {
            if (is_bool(x) || !py::hasattr(x, "__index__")) throw bad("a list of integers");
            if (!out.empty()) out += sep;
            out += py::str(x).cast<std::string>();
        }
        return out;
    }
    throw bad("a string");  // enumeration, choice
}

/// The text of a field as a Python value.
template <class O>
py::object option_value(const cfnet::OptionField<O>& f, const O& o) {
    const std::string t = f.write(o);
    const std::string& c = f.codec;
    if (c == "number") return py::float_(std::stod(t));
    if (c == "optional_number") return t.empty() ? py::object(py::none()) : py::object(py::float_(std::stod(t)));
    if (c == "integer") return py::module_::import("builtins").attr("int")(t);
    if (c == "flag") return py::bool_(t == "1");
    if (c == "list") {
        py::list out;
        std::string cur;
        for (const char ch : t + ' ') {
            if (ch >= '0' && ch <= '9') {
                cur += ch;
            } else if (!cur.empty()) {
                out.append(py::module_::import("builtins").attr("int")(cur));
                cur.clear();
            }
        }
        return out;
    }
    return py::str(t);
}

template <class O>
cfnet::EarlyStopping early_from_python(py::handle v, const OptionNames& n) {
    cfnet::EarlyStopping e;
    cfnet::check_arg(py::isinstance<py::dict>(v), n.model,
                     ": early_stopping must be None or a dict (monitor, patience, min_delta, maximize, restore_best)");
    for (auto kv : py::reinterpret_borrow<py::dict>(v)) {
        const std::string k = py::str(kv.first);
        if (k == "monitor") e.monitor = kv.second.cast<std::string>();
        else if (k == "patience") e.patience = kv.second.cast<int>();
        else if (k == "min_delta") e.min_delta = kv.second.cast<double>();
        else if (k == "maximize") e.maximize = kv.second.cast<bool>();
        else if (k == "restore_best") e.restore_best = kv.second.cast<bool>();
        else throw cfnet::InvalidArgument(n.model + ": early_stopping has no key '" + k +
                                          "' (monitor, patience, min_delta, maximize, restore_best)");
    }
    return e;
}

/// Options given as keyword arguments that a preset's own choice on validation must leave as given
/// (specialised where a model has one: AutoencoderOptions::keep_fixed).
template <class O>
void keep_given_fixed(O&, const py::dict&) {}

/// `base` with the keyword arguments applied (each through the field table, as a model file is read).
template <class O>
O apply_kwargs(O base, const py::dict& kw, const OptionNames& n) {
    for (auto kv : kw) {
        const std::string key = py::str(kv.first);
        if constexpr (cfnet::detail::is_detected_v<traits::early_t, O>) {
            if (key == "early_stopping") {
                if (kv.second.is_none()) base.early_stopping.reset();
                else base.early_stopping = early_from_python<O>(kv.second, n);
                continue;
            }
        }
        const auto* f = find_field<O>(key, n);
        if (!f) throw cfnet::InvalidArgument(n.model + ": no option '" + key + "' (its options: " + option_keys<O>(n) + ")");
        const std::string text = option_text(*f, kv.second, base, key, n);
        try {
            base = cfnet::with_option(base, f->key, text);
        } catch (const cfnet::InvalidArgument& e) {
            std::string what = e.what();
            const auto at = what.find("option '");
            throw cfnet::InvalidArgument(n.model + ": " + (at == std::string::npos ? what : what.substr(at)));
        }
    }
    keep_given_fixed(base, kw);
    return base;
}

template <class O>
py::dict options_dict(const O& o, const OptionNames& n) {
    py::dict d;
    for (const auto& f : cfnet::options_table<O>().fields()) {
        const std::string key = f.key.rfind(n.prefix, 0) == 0 ? f.key.substr(n.prefix.size()) : f.key;
        d[py::str(key)] = option_value(f, o);
    }
    if constexpr (cfnet::detail::is_detected_v<traits::early_t, O>) {
        if (o.early_stopping) {
            py::dict e;
            e["monitor"] = o.early_stopping->monitor;
            e["patience"] = o.early_stopping->patience;
            e["min_delta"] = o.early_stopping->min_delta;
            e["maximize"] = o.early_stopping->maximize;
            e["restore_best"] = o.early_stopping->restore_best;
            d["early_stopping"] = e;
        } else {
            d["early_stopping"] = py::none();
        }
    }
    return d;
}

/// The options part of the class docstring: every key with its C++ default.
template <class O>
std::string options_doc(const O& defaults, const OptionNames& n) {
    std::ostringstream os;
    os << "\n\nOptions (keyword arguments; the C++ defaults, i.e. the notebook's configuration unless a preset is "
          "chosen):\n";
    for (const auto& f : cfnet::options_table<O>().fields()) {
        const std::string key = f.key.rfind(n.prefix, 0) == 0 ? f.key.substr(n.prefix.size()) : f.key;
        std::string shown = py::repr(option_value(f, defaults)).template cast<std::string>();
        os << "    " << key << " = " << shown << "  (" << f.codec << ")\n";
    }
    if constexpr (cfnet::detail::is_detected_v<traits::early_t, O>)
        os << "    early_stopping = None  (a dict: monitor, patience, min_delta, maximize, restore_best)\n";
    return os.str();
}

// --- the input matrix of predict / recommend --------------------------------------------------------

template <class S>
Matrix::map_ptr model_users(const S& s) {
    using M = typename S::model_type;
    if constexpr (cfnet::detail::is_detected_v<traits::user_map_t, M>) {
        if (s.model.fitted()) return std::make_shared<const cfnet::IdMap>(s.model.user_map());
    }
    return s.input ? s.input->user_map() : nullptr;
}

template <class S>
Matrix::map_ptr model_items(const S& s) {
    using M = typename S::model_type;
    if constexpr (cfnet::detail::is_detected_v<traits::item_map_t, M>) {
        if (s.model.fitted()) return std::make_shared<const cfnet::IdMap>(s.model.item_map());
    }
    return s.input ? s.input->item_map() : nullptr;
}

template <class S>
MatrixPtr default_input(const S& s, const char* who) {
    cfnet::check_arg(s.input != nullptr, who,
                     ": no input matrix: fit the model, pass the matrix (input=...), give it to load(path, data), or "
                     "set model.input");
    return s.input;
}

template <class S>
MatrixPtr input_or_default(const S& s, py::handle input, const char* who) {
    if (input.is_none()) return default_input(s, who);
    if (py::isinstance<Matrix>(input)) return as_matrix(input, who).owned;
    return as_matrix(input, who, s.input ? s.input->user_map() : model_users(s),
                     s.input ? s.input->item_map() : model_items(s))
        .owned;
}

/// implicit's user_items: None (the training matrix), a cfnet.RatingMatrix in the model's user space,
/// or a scipy matrix with one row per userid (or the full users x items matrix). Returns the input
/// matrix and rewrites `users` into its index space.
template <class S>
MatrixPtr recommend_input(const S& s, py::handle user_items, std::vector<cfnet::index_type>& users,
                          const char* who) {
    if (user_items.is_none()) return default_input(s, who);
    if (py::isinstance<Matrix>(user_items)) return as_matrix(user_items, who).owned;
    Csr c = csr_from_scipy(user_items, who);
    auto user_space = model_users(s);
    auto items = model_items(s);
    if (!items) items = range_map(c.cols, "item");
    cfnet::check_arg(c.cols == items->size(), who, ": user_items has ", c.cols, " columns but the model has ",
                     items->size(), " items");
    if (c.rows != users.size()) {
        cfnet::check_arg(user_space && c.rows == user_space->size(), who, ": user_items has ", c.rows,
                         " rows: expected one row per userid (", users.size(), ") or every user (",
                         user_space ? user_space->size() : 0, ")");
        return std::make_shared<const Matrix>(user_space, items, std::move(c.indptr), std::move(c.indices),
                                              std::move(c.data));
    }
    if (!user_space) {  // a model that keeps no users (EASE): the rows are the users
        for (std::size_t r = 0; r < users.size(); ++r) users[r] = static_cast<cfnet::index_type>(r);
        return std::make_shared<const Matrix>(range_map(c.rows, "user"), items, std::move(c.indptr),
                                              std::move(c.indices), std::move(c.data));
    }
    // one row per userid: placed at the users' own rows of a matrix in the model's user space
    const std::size_t nu = user_space->size();
    std::vector<std::size_t> row_of(nu, static_cast<std::size_t>(-1));
    for (std::size_t r = 0; r < users.size(); ++r) {
        cfnet::check_arg(users[r] < nu, who, ": user index ", users[r], " out of range (", nu,
                         " users; recalculate_user=True scores a new user from user_items alone)");
        cfnet::check_arg(row_of[users[r]] == static_cast<std::size_t>(-1), who, ": user index ", users[r],
                         " is repeated in userid");
        row_of[users[r]] = r;
    }
    std::vector<std::size_t> row_ptr(nu + 1, 0);
    std::vector<cfnet::index_type> idx;
    std::vector<T> val;
    idx.reserve(c.indices.size());
    val.reserve(c.data.size());
    for (std::size_t u = 0; u < nu; ++u) {
        if (row_of[u] != static_cast<std::size_t>(-1)) {
            const std::size_t r = row_of[u];
            idx.insert(idx.end(), c.indices.begin() + static_cast<std::ptrdiff_t>(c.indptr[r]),
                       c.indices.begin() + static_cast<std::ptrdiff_t>(c.indptr[r + 1]));
            val.insert(val.end(), c.data.begin() + static_cast<std::ptrdiff_t>(c.indptr[r]),
                       c.data.begin() + static_cast<std::ptrdiff_t>(c.indptr[r + 1]));
        }
        row_ptr[u + 1] = idx.size();
    }
    auto full = std::make_shared<const Matrix>(user_space, items, std::move(row_ptr), std::move(idx), std::move(val));
    cfnet::check_arg(!needs_full_input(s.model), who,
                     ": this model scores a user from the whole input matrix (item-based): pass user_items=None "
                     "(the training matrix) or every user's row");
    return full;
}

inline cfnet::RankingOptions ranking_options(py::object threshold, bool exclude_train, bool exclude_unseen) {
    cfnet::RankingOptions o;
    if (!threshold.is_none()) o.threshold(threshold.cast<double>());
    return o.exclude_train_items(exclude_train).exclude_items_unseen_in_train(exclude_unseen);
}

// --- the class --------------------------------------------------------------------------------------

/// Binds the recommender-interface methods of PyModel<M> on `cls` (every model).
template <class S>
void bind_interface(py::class_<S>& cls, const std::string& label) {
    using M = typename S::model_type;
    constexpr bool has_epochs = has_fit_callbacks_v<M> || has_member_fits_v<M>;
    cls.def("fit", [label](S& self, py::handle X, py::object validation, py::object show_progress, py::object callback) {
        MatrixArg train = as_matrix(X, (label + ".fit").c_str());
        MatrixPtr val;
        if (!validation.is_none()) {
            if constexpr (has_fit_validation_v<M>) {
                val = py::isinstance<Matrix>(validation)
                          ? as_matrix(validation, "fit").owned
                          : as_matrix(validation, "fit", train->user_map(), train->item_map()).owned;
            } else {
                throw cfnet::InvalidArgument(label + ".fit: this model takes no validation data");
            }
        }
        PyFitCallback cb(callback, has_epochs ? show_progress : py::bool_(false), label);
        self.input = train.owned;  // also after an interrupted fit: the weights are those of the last step
        if constexpr (has_member_fits_v<M>) {
            self.member_histories = run_released([&] { return self.model.fit(*train, cb.list()); });
            py::list out;
            for (const auto& h : self.member_histories) out.append(history_dict(h));
            return py::object(out);
        } else {
            cfnet::History h = run_released([&] {
                if constexpr (has_fit_validation_v<M>) {
                    if (val) return self.model.fit(*train, *val, cb.list());
                }
                if constexpr (has_fit_callbacks_v<M>) {
                    return self.model.fit(*train, cb.list());
                } else {
                    self.model.fit(*train);
                    return cfnet::History{};
                }
            });
            self.history = h;
            return py::object(history_dict(h));
        }
    }, py::arg("X"), py::arg("validation") = py::none(), py::kw_only(), py::arg("show_progress") = has_epochs,
       py::arg("callback") = py::none(),
       R"doc(Trains from scratch on X (a scipy.sparse users x items matrix or a cfnet.RatingMatrix); X becomes the
model's default input (model.input). validation: held-out ratings in X's index space (models that take it:
val_* metrics per epoch, early stopping). show_progress: cfnet's progress bar, written through sys.stdout
(a live bar on a terminal or in Jupyter, one line per epoch otherwise); "tqdm": tqdm.auto's bars. callback: a callable called with each epoch's record (a dict; return True to stop)
or an object with Keras' on_train_begin/on_epoch_begin/on_batch_end/on_epoch_end/on_train_end. The GIL is
released while training; Ctrl-C (KeyboardInterrupt) stops between two steps, the model keeping the weights of
the last completed step. Returns the history as a dict of lists (epoch, loss, seconds, val_* ...).)doc");

    cls.def_property_readonly("fitted", [](const S& s) { return s.model.fitted(); });
    cls.def_property_readonly("predicts_ratings", [](const S& s) { return s.model.predicts_ratings(); },
                              "True when predict() gives ratings (else ranking scores).");
    cls.def_property_readonly("history", [](const S& s) -> py::object {
        if constexpr (has_member_fits_v<M>) {
            py::list out;
            for (const auto& h : s.member_histories) out.append(history_dict(h));
            return std::move(out);
        } else {
            return history_dict(s.history);
        }
    }, "The last fit's history (a dict of lists; an ensemble: a list of them, one per member).");
    cls.def_property_readonly("best_epoch", [](const S& s) { return s.history.best_epoch; });
    cls.def_property_readonly("stopped_early", [](const S& s) { return s.history.stopped_early; });
    cls.def_property("input", [](const S& s) -> py::object {
        if (!s.input) return py::none();
        return py::cast(std::make_shared<Matrix>(*s.input));
    }, [](S& s, py::handle x) {
        s.input = x.is_none() ? nullptr : as_matrix(x, "input", model_users(s), model_items(s)).owned;
    }, "The matrix predict/recommend/score_items read by default (the training matrix after fit).");

    cls.def("predict", [label](const S& s, py::handle uid, py::handle iid) {
        const MatrixPtr in = default_input(s, (label + ".predict").c_str());
        auto index = [](const cfnet::IdMap& m, py::handle id) -> cfnet::index_type {
            if (py::isinstance<py::str>(id)) {
                const auto k = m.find(id.cast<std::string>());
                cfnet::check_arg(k.has_value(), "predict: unknown ", m.kind(), " '", id.cast<std::string>(), "'");
                return *k;
            }
            return m.index(id.cast<cfnet::id_type>());
        };
        const std::vector<std::pair<cfnet::index_type, cfnet::index_type>> pairs{
            {index(in->users(), uid), index(in->items(), iid)}};
        return static_cast<double>(s.model.predict(*in, pairs)[0]);
    }, py::arg("uid"), py::arg("iid"),
       "Surprise's predict: the model's prediction for ORIGINAL user id `uid` and item id `iid` (ints, or strings "
       "for string ids; for a model fitted on scipy the ids are the row/column indices), with the training matrix "
       "as the model's input. Raises ValueError for an unknown id.");
    cls.def("predict_pairs", [label](const S& s, const std::vector<cfnet::index_type>& users,
                                     const std::vector<cfnet::index_type>& items, py::handle input) {
        cfnet::check_arg(users.size() == items.size(), label, ".predict_pairs: ", users.size(), " users but ",
                         items.size(), " items");
        const MatrixPtr in = input_or_default(s, input, (label + ".predict_pairs").c_str());
        std::vector<std::pair<cfnet::index_type, cfnet::index_type>> pairs(users.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) pairs[k] = {users[k], items[k]};
        return to_numpy(run_released([&] { return s.model.predict(*in, pairs); }));
    }, py::arg("users"), py::arg("items"), py::arg("input") = py::none(),
       "Predictions (float32 array) for (user index, item index) pairs; input = the model's input matrix (default: "
       "the training matrix, leak-free).");
    cls.def("predict_matrix", [label](const S& s, py::handle pairs, py::handle input) {
        const MatrixPtr in = input_or_default(s, input, (label + ".predict_matrix").c_str());
        MatrixPtr p = py::isinstance<Matrix>(pairs) ? as_matrix(pairs, "predict_matrix").owned
                                                     : as_matrix(pairs, "predict_matrix", in->user_map(), in->item_map()).owned;
        return to_numpy(run_released([&] { return s.model.predict(*in, *p); }));
    }, py::arg("pairs"), py::arg("input") = py::none(),
       "Predictions for every entry stored in `pairs` (e.g. the test matrix), in its CSR order (the order of "
       "pairs.data for a scipy csr_matrix with sorted indices).");
    cls.def("score_items", [label](const S& s, py::handle userid, py::handle input) -> py::object {
        bool scalar = false;
        const auto users = user_list(userid, scalar, (label + ".score_items").c_str());
        const MatrixPtr in = input_or_default(s, input, (label + ".score_items").c_str());
        const std::size_t ni = in->n_items();
        py::array_t<T> out({static_cast<py::ssize_t>(users.size()), static_cast<py::ssize_t>(ni)});
        T* o = out.mutable_data();
        run_released([&] {
            auto scorer = s.model.make_scorer(*in);
            for (std::size_t r = 0; r < users.size(); ++r) {
                cfnet::check_arg(users[r] < in->n_users(), "score_items: user index ", users[r], " out of range (",
                                 in->n_users(), " users)");
                scorer(users[r], o + r * ni);
            }
            return 0;
        });
        if (scalar) return out.attr("reshape")(ni);
        return std::move(out);
    }, py::arg("userid"), py::arg("input") = py::none(),
       "The score of every item for user index `userid` (or each of an array of them: a 2-D array), float32.");

    cls.def("recommend", [label](const S& s, py::handle userid, py::handle user_items, std::size_t N,
                                bool filter_already_liked_items, bool recalculate_user) -> py::object {
        const std::string who = label + ".recommend";
        bool scalar = false;
        auto users = user_list(userid, scalar, who.c_str());
        const std::size_t n = users.size();
        py::array_t<std::int32_t> ids({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(N)});
        py::array_t<T> scores({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(N)});
        std::int32_t* id_out = ids.mutable_data();
        T* score_out = scores.mutable_data();
        std::fill(id_out, id_out + n * N, -1);
        std::fill(score_out, score_out + n * N, -std::numeric_limits<T>::infinity());
        std::size_t width = 0;
        auto write = [&](std::size_t r, const std::vector<cfnet::Recommendation<T>>& recs) {
            for (std::size_t k = 0; k < recs.size(); ++k) {
                id_out[r * N + k] = static_cast<std::int32_t>(recs[k].item);
                score_out[r * N + k] = recs[k].score;
            }
            width = std::max(width, recs.size());
        };
        if (recalculate_user) {
            if constexpr (cfnet::supports_fold_in_v<M>) {
                cfnet::check_arg(s.model.supports_fold_in(), who,
                                 ": this model cannot score a user from his items alone (recalculate_user=True)");
                cfnet::check_arg(!user_items.is_none(), who, ": recalculate_user=True needs user_items");
                std::vector<std::vector<cfnet::index_type>> items(n);
                std::vector<std::vector<T>> values(n);
                if (py::isinstance<Matrix>(user_items)) {
                    const Matrix& x = user_items.cast<const Matrix&>();
                    for (std::size_t r = 0; r < n; ++r) {
                        const auto it = x.user_items(users[r]);
                        const auto va = x.user_ratings(users[r]);
                        items[r].assign(it.begin(), it.end());
                        values[r].assign(va.begin(), va.end());
                    }
                } else {
                    const Csr c = csr_from_scipy(user_items, who.c_str());
                    cfnet::check_arg(c.rows == n, who, ": user_items has ", c.rows, " rows for ", n,
                                     " users (recalculate_user=True: one row per userid)");
                    for (std::size_t r = 0; r < n; ++r) {
                        items[r].assign(c.indices.begin() + static_cast<std::ptrdiff_t>(c.indptr[r]),
                                        c.indices.begin() + static_cast<std::ptrdiff_t>(c.indptr[r + 1]));
                        values[r].assign(c.data.begin() + static_cast<std::ptrdiff_t>(c.indptr[r]),
                                         c.data.begin() + static_cast<std::ptrdiff_t>(c.indptr[r + 1]));
                    }
                }
                run_released([&] {
                    for (std::size_t r = 0; r < n; ++r)
                        write(r, s.model.recommend(items[r], values[r], N, filter_already_liked_items));
                    return 0;
                });
            } else {
                throw cfnet::InvalidArgument(who + ": this model cannot recalculate a user (no fold-in: it scores "
                                                   "users from their trained embeddings); use recalculate_user=False");
            }
        } else {
            const MatrixPtr in = recommend_input(s, user_items, users, who.c_str());
            run_released([&] {
                std::size_t r = 0;
                s.model.recommend_batch(*in, users, N, [&](cfnet::index_type, const std::vector<cfnet::Recommendation<T>>& recs) {
                    write(r++, recs);
                }, filter_already_liked_items);
                return 0;
            });
        }
        if (scalar) {
            const auto w = static_cast<py::ssize_t>(width);
            return py::make_tuple(ids[py::make_tuple(0, py::slice(0, w, 1))].attr("copy")(),
                                  scores[py::make_tuple(0, py::slice(0, w, 1))].attr("copy")());
        }
        return py::make_tuple(ids, scores);
    }, py::arg("userid"), py::arg("user_items") = py::none(), py::arg("N") = 10,
       py::arg("filter_already_liked_items") = true, py::arg("recalculate_user") = false,
       R"doc(implicit's recommend: the N best items for user index `userid` -> (item indices int32, scores float32);
for an array of userids (batched, GIL released) 2-D arrays of shape (len(userid), N), rows padded with -1 /
-inf when fewer than N items are candidates. user_items: None (the training matrix), a scipy.sparse matrix
with one row per userid (implicit's convention) or every user's row, or a cfnet.RatingMatrix in the model's
user space. filter_already_liked_items: exclude the user's items in user_items. recalculate_user: score the
user from user_items alone (fold-in; the user need not have been in training) on models that can.)doc");

    cls.def("evaluate_ranking", [](const S& s, py::handle test, std::size_t k, py::object threshold, py::handle input,
                                   bool exclude_train, bool exclude_unseen_items) {
        const MatrixPtr in = input_or_default(s, input, "evaluate_ranking");
        MatrixPtr t = py::isinstance<Matrix>(test) ? as_matrix(test, "evaluate_ranking").owned
                                                   : as_matrix(test, "evaluate_ranking", in->user_map(), in->item_map()).owned;
        const auto opt = ranking_options(threshold, exclude_train, exclude_unseen_items);
        const auto r = run_released([&] { return cfnet::evaluate_ranking(*in, *t, k, s.model.make_scorer(*in), opt); });
        return ranking_dict(r);
    }, py::arg("test"), py::arg("k") = 10, py::arg("threshold") = py::none(), py::arg("input") = py::none(),
       py::arg("exclude_train") = true, py::arg("exclude_unseen_items") = false,
       "Top-k metrics over held-out `test` (cfnet.evaluate_ranking): relevant = test ratings >= threshold (all when "
       "None), candidates = items not in the input (training) row. Returns a dict (precision, recall, ndcg, "
       "hit_rate, map, ..., users_evaluated).");
    cls.def("evaluate_rating", [](const S& s, py::handle test, py::handle input) {
        const MatrixPtr in = input_or_default(s, input, "evaluate_rating");
        MatrixPtr t = py::isinstance<Matrix>(test) ? as_matrix(test, "evaluate_rating").owned
                                                   : as_matrix(test, "evaluate_rating", in->user_map(), in->item_map()).owned;
        const auto r = run_released([&] {
            const std::vector<T> p = s.model.predict(*in, *t);
            std::size_t k = 0;
            return cfnet::evaluate_rating(*t, [&](cfnet::index_type, cfnet::index_type) { return p[k++]; });
        });
        return rating_dict(r);
    }, py::arg("test"), py::arg("input") = py::none(),
       "RMSE and MAE over the ratings stored in `test`, the model's input being the training matrix (leak-free) "
       "unless `input` is given.");
    cls.def("evaluate_strong_generalization", [](const S& s, const cfnet::UserHoldoutSplit<T>& split, bool validation) {
        const auto& fold_in = validation ? split.validation_fold_in : split.test_fold_in;
        const auto& target = validation ? split.validation_target : split.test_target;
        const auto r = run_released(
            [&] { return cfnet::evaluate_strong_generalization(fold_in, target, s.model.make_scorer(fold_in)); });
        py::dict d;
        d["recall@20"] = r.recall20;
        d["recall@50"] = r.recall50;
        d["ndcg@100"] = r.ndcg100;
        d["users_evaluated"] = r.users_evaluated;
        d["users_skipped"] = r.users_skipped;
        return d;
    }, py::arg("split"), py::arg("validation") = false,
       "The strong-generalisation metrics (Liang et al. 2018) of a model fitted on split.train, scoring the held-out "
       "users from their fold-in rows (validation=True: the validation users).");

    cls.def("save", [](const S& s, const std::string& path) { run_released([&] { s.model.save(path); return 0; }); },
            py::arg("path"), "Writes the model file the C++ library and the `cfnet` tool read.");
    cls.def_static("load", [label](const std::string& path, py::handle data) {
        S s = make_holder<S>(run_released([&] { return M::load(path); }));
        if (!data.is_none()) s.input = as_matrix(data, (label + ".load").c_str(), model_users(s), model_items(s)).owned;
        return s;
    }, py::arg("path"), py::arg("data") = py::none(),
       "Reads a model file written by save() (Python or C++). data: the training matrix, the default input of "
       "predict/recommend (needed by input-driven models).");

    if constexpr (cfnet::detail::is_detected_v<traits::params_t, M>) {
        cls.def("parameters", [](S& s) {
            py::dict d;
            for (auto* p : s.model.parameters()) {
                py::array_t<T> a({static_cast<py::ssize_t>(p->rows()), static_cast<py::ssize_t>(p->cols())});
                std::copy(p->value.begin(), p->value.end(), a.mutable_data());
                d[py::str(p->name)] = a;
            }
            return d;
        }, "The trainable parameters as {name: float32 array} (copies).");
    }
    if constexpr (cfnet::detail::is_detected_v<traits::user_map_t, M>) {
        cls.def_property_readonly("user_ids", [](const S& s) { return std::make_shared<cfnet::IdMap>(s.model.user_map()); });
    }
    if constexpr (cfnet::detail::is_detected_v<traits::item_map_t, M>) {
        cls.def_property_readonly("item_ids", [](const S& s) { return std::make_shared<cfnet::IdMap>(s.model.item_map()); });
    }
}

/// A preset: its name and the options it gives.
template <class O>
struct Preset {
    std::string name;
    std::function<O()> make;
};

/// The class of model M with options O (a field table): __init__(preset=None, **options), options,
/// tune, plus the interface. Returns it for model-specific additions.
template <class M, class O>
py::class_<PyModel<M>> bind_model(py::module_& m, const OptionNames& names, const std::string& description,
                                  std::vector<Preset<O>> presets) {
    using S = PyModel<M>;
    std::string preset_names;
    for (const auto& p : presets) preset_names += (preset_names.empty() ? "'" : ", '") + p.name + "'";
    static std::string doc;
    doc = description + "\n\nPresets (preset=...): " + preset_names + "." + options_doc(O{}, names);
    py::class_<S> cls(m, names.model.c_str(), doc.c_str());
    auto make_options = [names, presets](py::object preset, const py::dict& kw) {
        O base{};
        if (!preset.is_none()) {
            const std::string p = preset.cast<std::string>();
            bool found = false;
            std::string all;
            for (const auto& x : presets) {
                if (x.name == p) {
                    base = x.make();
                    found = true;
                }
                all += (all.empty() ? "" : ", ") + x.name;
            }
            cfnet::check_arg(found, names.model, ": unknown preset '", p, "' (presets: ", all, ")");
        }
        return apply_kwargs(base, kw, names);
    };
    cls.def(py::init([make_options](py::object preset, py::kwargs kw) {
        return make_holder<S>(M(make_options(preset, kw)));
    }), py::arg("preset") = py::none(),
       "Options as keyword arguments (see the class docstring), starting from the C++ defaults or a preset.");
    cls.def_property_readonly("options", [names](const S& s) { return options_dict(s.model.options(), names); },
                              "The model's options as a dict (keys as the keyword arguments).");
    cls.def("get_params", [names](const S& s) { return options_dict(s.model.options(), names); });
    cls.def_property_readonly_static("presets", [presets](py::object) {
        py::list out;
        for (const auto& p : presets) out.append(p.name);
        return out;
    });
    cls.def_static("default_options", [names, make_options](py::object preset) {
        return options_dict(make_options(preset, py::dict()), names);
    }, py::arg("preset") = py::none(), "The options of a preset (or the defaults) as a dict.");
    cls.def("__repr__", [names](const S& s) {
        std::string out = "cfnet." + names.model + "(";
        bool first = true;
        const O defaults{};
        for (const auto& f : cfnet::options_table<O>().fields()) {
            if (f.write(s.model.options()) == f.write(defaults)) continue;
            const std::string key = f.key.rfind(names.prefix, 0) == 0 ? f.key.substr(names.prefix.size()) : f.key;
            out += (first ? "" : ", ") + key + "=" + py::repr(option_value(f, s.model.options())).template cast<std::string>();
            first = false;
        }
        return out + ")";
    });

    cls.def_static("tune", [names, make_options](py::handle X, const py::dict& space, py::object preset, std::size_t folds,
                                                 std::size_t random, double validation_fraction, std::uint64_t seed,
                                                 const std::string& objective, std::size_t k, py::object threshold,
                                                 bool refit, bool show_progress, py::kwargs options) {
        MatrixArg train = as_matrix(X, (names.model + ".tune").c_str());
        const O base = make_options(preset, options);
        cfnet::SearchSpace sp;
        for (auto kv : space) {
            const std::string key = py::str(kv.first);
            const auto* f = find_field<O>(key, names);
            if (!f) throw cfnet::InvalidArgument(names.model + ".tune: no option '" + key + "' (its options: " +
                                                 option_keys<O>(names) + ")");
            cfnet::ParamValues pv{f->key, {}};
            cfnet::check_arg(py::isinstance<py::sequence>(kv.second) && !py::isinstance<py::str>(kv.second),
                             names.model, ".tune: the space of '", key, "' must be a list of values");
            for (auto v : kv.second) pv.values.push_back(option_text(*f, v, base, key, names));
            sp.push_back(std::move(pv));
        }
        cfnet::TuneOptions to;
        to.random(random).folds(folds).validation(validation_fraction).with_seed(seed)
            .score_by(cfnet::parse_tune_objective(objective), k).refit_best(refit);
        if (!threshold.is_none()) to.threshold(threshold.cast<double>());
        auto param_dict = [names, &base](const cfnet::ParamSet& ps) {
            py::dict d;
            for (const auto& [key, v] : ps) {
                const auto* f = find_field<O>(key, names);
                d[py::str(key.rfind(names.prefix, 0) == 0 ? key.substr(names.prefix.size()) : key)] =
                    option_value(*f, cfnet::with_option(base, key, v));
            }
            return d;
        };
        to.progress([&](const cfnet::TuneTrial& t, std::size_t i, std::size_t n) {
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) throw PythonErrorPending{};
            if (show_progress) {
                py::print(py::str("[{}] trial {}/{}: {} -> {:.6g} ({:.1f} s)").format(names.model, i + 1, n,
                          param_dict(t.params), t.score, t.seconds), py::arg("flush") = true);
            }
        });
        auto result = run_released([&] { return cfnet::tune<M>(*train, base, sp, to); });
        py::dict out;
        py::list trials;
        for (const auto& t : result.trials) {
            py::dict d;
            d["params"] = param_dict(t.params);
            d["score"] = t.score;
            d["fold_scores"] = t.fold_scores;
            d["seconds"] = t.seconds;
            trials.append(d);
        }
        out["trials"] = trials;
        out["best"] = result.best;
        out["best_params"] = param_dict(result.best_trial().params);
        out["best_options"] = options_dict(result.best_options, names);
        out["objective"] = cfnet::to_string(result.objective);
        out["higher_is_better"] = result.higher_is_better;
        if (result.model) out["model"] = make_holder<S>(std::move(*result.model), train.owned);
        else out["model"] = py::none();
        return out;
    }, py::arg("X"), py::arg("space"), py::arg("preset") = py::none(), py::kw_only(), py::arg("folds") = 0,
       py::arg("random") = 0, py::arg("validation_fraction") = 0.2, py::arg("seed") = 42, py::arg("objective") = "auto",
       py::arg("k") = 10, py::arg("threshold") = py::none(), py::arg("refit") = true, py::arg("show_progress") = false,
       R"doc(Hyper-parameter search (cfnet::tune) on a validation part of X only (the training data): `space` maps
option names to lists of candidate values (a grid; random=n draws n points), scored by RMSE for rating models
else NDCG@k (objective: auto, rmse, ndcg, precision, recall), one held-out part (validation_fraction of each
user's ratings) or `folds` folds. The other keyword arguments are the base options. Returns a dict: trials,
best, best_params, best_options, objective, model (the best refitted on all of X, when refit).)doc");

    bind_interface<S>(cls, names.model);
    return cls;
}

}  // namespace cfnet_py
