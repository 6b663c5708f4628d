// cfnet._cfnet: AutoencoderEnsemble (include/cfnet/ensemble.hpp): a weighted average of AutoencoderCF
// models, its autorec_ensemble preset, and the ensemble files (a manifest plus one file per member)
// the C++ library reads.
#include "bind_model.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/ensemble.hpp>

namespace cfnet_py {

template <>
void keep_given_fixed(cfnet::AutoencoderOptions& o, const py::dict& kw);  // autoencoder.cpp

template <>
bool needs_full_input(const cfnet::AutoencoderEnsemble<T>& m) {
    for (std::size_t k = 0; k < m.size(); ++k)
        if (m.member(k).options().orientation == cfnet::Orientation::item_based) return true;
    return false;
}

namespace {

using AE = cfnet::AutoencoderCF<T>;
using PyAE = PyModel<AE>;
using M = cfnet::AutoencoderEnsemble<T>;
using S = PyModel<M>;

const OptionNames& ae_names() {
    static const OptionNames n{"AutoencoderCF", ""};
    return n;
}

/// A member given by Python: an AutoencoderCF (its options) or a dict of AutoencoderCF's keyword
/// arguments, optionally with "preset" ("notebook", "autorec").
cfnet::AutoencoderOptions member_options(py::handle v, std::size_t k) {
    if (py::isinstance<PyAE>(v)) return v.cast<const PyAE&>().model.options();
    cfnet::check_arg(py::isinstance<py::dict>(v), "AutoencoderEnsemble: member ", k,
                     " must be an AutoencoderCF or a dict of its options, got ", std::string(py::repr(v)));
    py::dict kw;
    std::string preset = "notebook";
    for (auto kv : py::reinterpret_borrow<py::dict>(v)) {
        if (py::str(kv.first).cast<std::string>() == "preset") preset = kv.second.cast<std::string>();
        else kw[kv.first] = kv.second;
    }
    cfnet::AutoencoderOptions base;
    if (preset == "notebook") base = cfnet::AutoencoderOptions::notebook();
    else if (preset == "autorec") base = cfnet::AutoencoderOptions::autorec();
    else throw cfnet::InvalidArgument("AutoencoderEnsemble: member " + std::to_string(k) + ": unknown preset '" + preset +
                                      "' (presets: notebook, autorec)");
    return apply_kwargs(base, kw, ae_names());
}

std::vector<double> weights_or_equal(py::object weights, std::size_t n) {
    if (weights.is_none()) return std::vector<double>(n, 1.0);
    return weights.cast<std::vector<double>>();
}

void set_clamp(M& e, py::object clamp) {
    if (clamp.is_none()) return;
    const auto c = clamp.cast<std::vector<double>>();
    cfnet::check_arg(c.size() == 2, "AutoencoderEnsemble: clamp must be (lo, hi), got ", c.size(), " numbers");
    e.clamp(c[0], c[1]);
}

}  // namespace

void init_ensemble(py::module_& m) {
    py::class_<S> cls(m, "AutoencoderEnsemble",
                      "A weighted average of AutoencoderCF models (cfnet::AutoencoderEnsemble): fit() trains every member "
                      "on the same matrix in turn (each from its own seed); predict() averages the members' predictions "
                      "(weights normalised by their sum), then clamps when clamp=(lo, hi) is set; recommend/score_items "
                      "rank by the weighted average of the members' raw scores (no fold-in).\n\n"
                      "AutoencoderEnsemble(members, weights=None, *, clamp=None): members are AutoencoderCF models "
                      "(their options are used) or dicts of AutoencoderCF keyword arguments (with an optional "
                      "'preset': 'notebook' or 'autorec'); weights default to equal. AutoencoderEnsemble() or "
                      "preset='autorec_ensemble': 0.55 x I-AutoRec + 0.25 x U-AutoRec + 0.2 x a denoising item "
                      "autoencoder (docs/benchmarks.md, 'averaging preset'). save(path) writes a manifest at path and "
                      "member k at path.member<k>, as the C++ library does.");
    cls.def(py::init([](py::object members, py::object weights, py::object preset, py::object clamp) {
        if (members.is_none()) {
            const std::string p = preset.is_none() ? "autorec_ensemble" : preset.cast<std::string>();
            cfnet::check_arg(p == "autorec_ensemble", "AutoencoderEnsemble: unknown preset '", p,
                             "' (presets: autorec_ensemble)");
            cfnet::check_arg(weights.is_none(), "AutoencoderEnsemble: weights need members (the preset has its own)");
            M e = M::autorec_ensemble();
            set_clamp(e, clamp);
            return make_holder<S>(std::move(e));
        }
        cfnet::check_arg(preset.is_none(), "AutoencoderEnsemble: give members or a preset, not both");
        std::vector<cfnet::AutoencoderOptions> opts;
        std::size_t k = 0;
        for (auto v : members) opts.push_back(member_options(v, k++));
        M e(std::move(opts), weights_or_equal(weights, k));
        set_clamp(e, clamp);
        return make_holder<S>(std::move(e));
    }), py::arg("members") = py::none(), py::arg("weights") = py::none(), py::kw_only(),
       py::arg("preset") = py::none(), py::arg("clamp") = py::none());
    cls.def_static("from_members", [](py::sequence models, py::object weights, py::object clamp) {
        std::vector<AE> ms;
        MatrixPtr input;
        for (auto v : models) {
            cfnet::check_arg(py::isinstance<PyAE>(v), "AutoencoderEnsemble.from_members: every member must be a fitted "
                                                      "AutoencoderCF, got ", std::string(py::repr(v)));
            const PyAE& a = v.cast<const PyAE&>();
            ms.push_back(a.model);
            if (!input) input = a.input;
        }
        M e = M::from_members(std::move(ms), weights_or_equal(weights, static_cast<std::size_t>(py::len(models))));
        set_clamp(e, clamp);
        return make_holder<S>(std::move(e), input);
    }, py::arg("models"), py::arg("weights") = py::none(), py::kw_only(), py::arg("clamp") = py::none(),
       "An ensemble of already fitted AutoencoderCF models (copies); its input is the first member's.");
    cls.def_property_readonly_static("presets", [](py::object) { return std::vector<std::string>{"autorec_ensemble"}; });
    cls.def_property_readonly("weights", [](const S& s) { return s.model.weights(); });
    cls.def_property_readonly("clamp", [](const S& s) -> py::object {
        if (!s.model.clamp_min()) return py::none();
        return py::make_tuple(*s.model.clamp_min(), *s.model.clamp_max());
    }, "(lo, hi) or None.");
    cls.def_property_readonly("members", [](const S& s) {
        py::list out;
        for (std::size_t k = 0; k < s.model.size(); ++k) out.append(make_holder<PyAE>(AE(s.model.member(k)), s.input));
        return out;
    }, "The members as AutoencoderCF models (copies).");
    cls.def_property_readonly("options", [](const S& s) {
        py::list out;
        for (std::size_t k = 0; k < s.model.size(); ++k) out.append(options_dict(s.model.member(k).options(), ae_names()));
        return out;
    }, "Each member's options as a dict.");
    cls.def("__len__", [](const S& s) { return s.model.size(); });
    cls.def("__repr__", [](const S& s) {
        return "cfnet.AutoencoderEnsemble(" + std::to_string(s.model.size()) + " members, weights=" +
               std::string(py::repr(py::cast(s.model.weights()))) + ")";
    });
    bind_interface<S>(cls, "AutoencoderEnsemble");
}

}  // namespace cfnet_py
