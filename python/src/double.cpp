// cfnet._cfnet: the double-precision models AutoencoderCF64 and NeuralCF64 (AutoencoderCF<double>,
// NeuralCF<double>): the same options, training and files as the float classes, every parameter,
// gradient and optimizer state in float64, predictions and scores as float64 arrays. The data stay
// cfnet's float32 RatingMatrix (ratings are exact in float32); each call converts the matrices it
// reads to RatingMatrix<double> (a copy of the values; the id maps are shared). A reduced surface of
// the float classes' interface (docs/python.md, "Double precision").
#include "bind_model.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/neural_cf.hpp>

namespace cfnet_py {

template <>
void keep_given_fixed(cfnet::AutoencoderOptions& o, const py::dict& kw);  // autoencoder.cpp

namespace {

using Matrix64 = cfnet::RatingMatrix<double>;
using Matrix64Ptr = std::shared_ptr<const Matrix64>;

template <class M>
struct PyModel64 {
    M model;
    MatrixPtr input;      // the training matrix as Python gave it (its id maps index the data)
    Matrix64Ptr input64;  // the same in double
    cfnet::History history;
};

Matrix64Ptr to64(const Matrix& m) {
    return std::make_shared<const Matrix64>(m.user_map(), m.item_map(), m.row_ptr(), m.item_indices(),
                                            std::vector<double>(m.values().begin(), m.values().end()));
}

template <class S>
Matrix64Ptr input64(const S& s, py::handle input, const std::string& who) {
    if (input.is_none()) {
        cfnet::check_arg(s.input64 != nullptr, who,
                         ": no input matrix: fit the model, pass the matrix (input=...), or give it to load(path, data)");
        return s.input64;
    }
    return to64(*as_matrix(input, who.c_str()));
}

/// `pairs` (a RatingMatrix, or scipy in the index space of `in`) in double.
Matrix64Ptr pairs64(py::handle pairs, const Matrix64& in, const std::string& who) {
    if (py::isinstance<Matrix>(pairs)) return to64(*as_matrix(pairs, who.c_str()));
    return to64(*as_matrix(pairs, who.c_str(), in.user_map(), in.item_map()));
}

template <class M, class O>
void bind64(py::module_& m, const OptionNames& names, const std::string& float_name,
            std::vector<std::pair<std::string, std::function<O()>>> presets) {
    using S = PyModel64<M>;
    static std::string doc;
    doc = "The double-precision " + float_name + " (" + float_name +
          "<double> in C++): the same options, presets, training and model files, with every parameter, gradient "
          "and optimizer state in float64; predictions and scores are float64 arrays. The data stay float32 "
          "(cfnet.RatingMatrix; ratings are exact in float32). Methods: fit, predict_pairs, predict_matrix, "
          "score_items, recommend (the training matrix as input), evaluate_rating, parameters, save, load." +
          options_doc(O{}, names);
    py::class_<S> cls(m, names.model.c_str(), doc.c_str());
    auto make_options = [names, presets](py::object preset, const py::dict& kw) {
        O base{};
        if (!preset.is_none()) {
            const std::string p = preset.cast<std::string>();
            bool found = false;
            for (const auto& x : presets)
                if (x.first == p) {
                    base = x.second();
                    found = true;
                }
            cfnet::check_arg(found, names.model, ": unknown preset '", p, "'");
        }
        return apply_kwargs(base, kw, names);
    };
    cls.def(py::init([make_options](py::object preset, py::kwargs kw) {
        return S{M(make_options(preset, kw)), nullptr, nullptr, {}};
    }), py::arg("preset") = py::none());
    cls.def_property_readonly("options", [names](const S& s) { return options_dict(s.model.options(), names); });
    cls.def_static("default_options", [names, make_options](py::object preset) {
        return options_dict(make_options(preset, py::dict()), names);
    }, py::arg("preset") = py::none());
    cls.def_property_readonly("fitted", [](const S& s) { return s.model.fitted(); });
    cls.def_property_readonly("history", [](const S& s) { return history_dict(s.history); });
    cls.def("fit", [names](S& s, py::handle X, py::object validation, py::object show_progress, py::object callback) {
        const std::string who = names.model + ".fit";
        MatrixArg train = as_matrix(X, who.c_str());
        Matrix64Ptr train64 = to64(*train);
        Matrix64Ptr val64;
        if (!validation.is_none()) val64 = pairs64(validation, *train64, who);
        PyFitCallback cb(callback, show_progress, names.model);
        s.input = train.owned;
        s.input64 = train64;
        s.history = run_released([&] {
            return val64 ? s.model.fit(*train64, *val64, cb.list()) : s.model.fit(*train64, cb.list());
        });
        return history_dict(s.history);
    }, py::arg("X"), py::arg("validation") = py::none(), py::kw_only(), py::arg("show_progress") = true,
       py::arg("callback") = py::none(), "As the float class's fit; the history's losses are those of the double model.");
    cls.def("predict_pairs", [names](const S& s, const std::vector<cfnet::index_type>& users,
                                     const std::vector<cfnet::index_type>& items, py::handle input) {
        const std::string who = names.model + ".predict_pairs";
        cfnet::check_arg(users.size() == items.size(), who, ": ", users.size(), " users but ", items.size(), " items");
        const Matrix64Ptr in = input64(s, input, who);
        std::vector<std::pair<cfnet::index_type, cfnet::index_type>> pairs(users.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) pairs[k] = {users[k], items[k]};
        return to_numpy(run_released([&] { return s.model.predict(*in, pairs); }));
    }, py::arg("users"), py::arg("items"), py::arg("input") = py::none());
    cls.def("predict_matrix", [names](const S& s, py::handle pairs, py::handle input) {
        const std::string who = names.model + ".predict_matrix";
        const Matrix64Ptr in = input64(s, input, who);
        const Matrix64Ptr p = pairs64(pairs, *in, who);
        return to_numpy(run_released([&] { return s.model.predict(*in, *p); }));
    }, py::arg("pairs"), py::arg("input") = py::none());
    cls.def("score_items", [names](const S& s, py::handle userid, py::handle input) -> py::object {
        const std::string who = names.model + ".score_items";
        bool scalar = false;
        const auto users = user_list(userid, scalar, who.c_str());
        const Matrix64Ptr in = input64(s, input, who);
        const std::size_t ni = in->n_items();
        py::array_t<double> out({static_cast<py::ssize_t>(users.size()), static_cast<py::ssize_t>(ni)});
        double* o = out.mutable_data();
        run_released([&] {
            auto scorer = s.model.make_scorer(*in);
            for (std::size_t r = 0; r < users.size(); ++r) {
                cfnet::check_arg(users[r] < in->n_users(), who, ": user index ", users[r], " out of range (",
                                 in->n_users(), " users)");
                scorer(users[r], o + r * ni);
            }
            return 0;
        });
        if (scalar) return out.attr("reshape")(ni);
        return std::move(out);
    }, py::arg("userid"), py::arg("input") = py::none());
    cls.def("recommend", [names](const S& s, py::handle userid, std::size_t N, bool filter_already_liked_items) -> py::object {
        const std::string who = names.model + ".recommend";
        bool scalar = false;
        const auto users = user_list(userid, scalar, who.c_str());
        const Matrix64Ptr in = input64(s, py::none(), who);
        const std::size_t n = users.size();
        py::array_t<std::int32_t> ids({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(N)});
        py::array_t<double> scores({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(N)});
        std::int32_t* id_out = ids.mutable_data();
        double* score_out = scores.mutable_data();
        std::fill(id_out, id_out + n * N, -1);
        std::fill(score_out, score_out + n * N, -std::numeric_limits<double>::infinity());
        run_released([&] {
            std::size_t r = 0;
            s.model.recommend_batch(*in, users, N, [&](cfnet::index_type, const std::vector<cfnet::Recommendation<double>>& recs) {
                for (std::size_t k = 0; k < recs.size(); ++k) {
                    id_out[r * N + k] = static_cast<std::int32_t>(recs[k].item);
                    score_out[r * N + k] = recs[k].score;
                }
                ++r;
            }, filter_already_liked_items);
            return 0;
        });
        if (scalar) return py::make_tuple(ids[py::int_(0)], scores[py::int_(0)]);
        return py::make_tuple(ids, scores);
    }, py::arg("userid"), py::arg("N") = 10, py::arg("filter_already_liked_items") = true,
       "The N best items for user index `userid` (or an array of them) with the training matrix as input: "
       "(item indices int32, scores float64).");
    cls.def("evaluate_rating", [names](const S& s, py::handle test, py::handle input) {
        const std::string who = names.model + ".evaluate_rating";
        const Matrix64Ptr in = input64(s, input, who);
        const Matrix64Ptr t = pairs64(test, *in, who);
        const auto r = run_released([&] {
            const std::vector<double> p = s.model.predict(*in, *t);
            std::size_t k = 0;
            return cfnet::evaluate_rating(*t, [&](cfnet::index_type, cfnet::index_type) { return p[k++]; });
        });
        return rating_dict(r);
    }, py::arg("test"), py::arg("input") = py::none());
    cls.def("parameters", [](S& s) {
        py::dict d;
        for (auto* p : s.model.parameters()) {
            py::array_t<double> a({static_cast<py::ssize_t>(p->rows()), static_cast<py::ssize_t>(p->cols())});
            std::copy(p->value.begin(), p->value.end(), a.mutable_data());
            d[py::str(p->name)] = a;
        }
        return d;
    }, "The trainable parameters as {name: float64 array} (copies).");
    cls.def("save", [](const S& s, const std::string& path) { run_released([&] { s.model.save(path); return 0; }); },
            py::arg("path"), "Writes the model file (scalar type double) that " "the C++ library's <double> model reads.");
    cls.def_static("load", [names](const std::string& path, py::handle data) {
        S s{run_released([&] { return M::load(path); }), nullptr, nullptr, {}};
        if (!data.is_none()) {
            const auto users = std::make_shared<const cfnet::IdMap>(s.model.user_map());
            const auto items = std::make_shared<const cfnet::IdMap>(s.model.item_map());
            s.input = as_matrix(data, (names.model + ".load").c_str(), users, items).owned;
            s.input64 = to64(*s.input);
        }
        return s;
    }, py::arg("path"), py::arg("data") = py::none(),
       "Reads a double model file (saved by this class or by the C++ library's <double> model).");
}

}  // namespace

void init_double(py::module_& m) {
    bind64<cfnet::AutoencoderCF<double>, cfnet::AutoencoderOptions>(
        m, {"AutoencoderCF64", ""}, "AutoencoderCF",
        {{"notebook", [] { return cfnet::AutoencoderOptions::notebook(); }},
         {"autorec", [] { return cfnet::AutoencoderOptions::autorec(); }}});
    bind64<cfnet::NeuralCF<double>, cfnet::NeuralCFOptions>(
        m, {"NeuralCF64", "options."}, "NeuralCF",
        {{"notebook", [] { return cfnet::NeuralCFOptions::notebook(); }},
         {"accurate", [] { return cfnet::NeuralCFOptions::accurate(); }},
         {"implicit_ranking", [] { return cfnet::NeuralCFOptions::implicit_ranking(); }}});
}

}  // namespace cfnet_py
