// cfnet._cfnet: Ease, MultVAE and the baselines (BiasBaseline, MostPopular).
#include "bind_model.hpp"

#include <cfnet/baselines.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/mult_vae.hpp>

namespace cfnet_py {

void init_other_models(py::module_& m) {
    {
        using M = cfnet::Ease<T>;
        using O = cfnet::EaseOptions;
        auto cls = bind_model<M, O>(
            m, {"Ease", ""},
            "EASE (Steck 2019): a closed-form item-item model for implicit feedback; scores a user from his input row.",
            {{"default", [] { return O{}; }}, {"validated", [] { return O::validated(); }}});
        cls.def_property_readonly("weights", [](const PyModel<M>& s) {
            const auto& b = s.model.weights();
            py::array_t<T> a({static_cast<py::ssize_t>(b.shape(0)), static_cast<py::ssize_t>(b.shape(1))});
            std::copy(b.begin(), b.end(), a.mutable_data());
            return a;
        }, "The item-item weight matrix B (a copy; over kept_items when max_items limited them).");
        cls.def_property_readonly("kept_items", [](const PyModel<M>& s) { return s.model.kept_items(); });
    }
    {
        using M = cfnet::MultVAE<T>;
        using O = cfnet::MultVAEOptions;
        bind_model<M, O>(
            m, {"MultVAE", ""},
            "Mult-VAE / Mult-DAE (Liang et al. 2018) for implicit feedback: a user's interactions in, a multinomial "
            "over items out.",
            {{"vae", [] { return O::vae(); }}, {"dae", [] { return O::dae(); }}});
    }
    {
        using M = cfnet::BiasBaseline<T>;
        using S = PyModel<M>;
        py::class_<S> cls(m, "BiasBaseline",
                                   "The user + item bias baseline (Koren's r = mu + b_u + b_i, regularised, alternating "
                                   "sweeps). Options: lambda_user = 10.0, lambda_item = 25.0, iterations = 10.");
        cls.def(py::init([](double lu, double li, std::size_t it) {
            cfnet::BiasBaselineOptions o;
            o.lambda_user = lu;
            o.lambda_item = li;
            o.iterations = it;
            return make_holder<S>(M(o));
        }), py::arg("lambda_user") = 10.0, py::arg("lambda_item") = 25.0, py::arg("iterations") = 10);
        bind_interface<S>(cls, "BiasBaseline");
    }
    {
        using S = PyModel<cfnet::MostPopular<T>>;
        py::class_<S> cls(m, "MostPopular",
                                   "Scores every item by its number of training ratings (a ranking baseline).");
        cls.def(py::init([] { return S{}; }));
        bind_interface<S>(cls, "MostPopular");
    }
}

}  // namespace cfnet_py
