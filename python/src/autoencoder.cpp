// cfnet._cfnet: AutoencoderCF (the notebook's autoencoder; the I-AutoRec accuracy preset).
#include "bind_model.hpp"

#include <cfnet/autoencoder.hpp>

namespace cfnet_py {

template <>
bool needs_full_input(const cfnet::AutoencoderCF<T>& m) {
    return m.options().orientation == cfnet::Orientation::item_based;
}

// The autorec preset chooses lambda, residual and epochs on validation; what the caller gives is fixed.
template <>
void keep_given_fixed(cfnet::AutoencoderOptions& o, const py::dict& kw) {
    o.keep_fixed(kw.contains("l2_lambda") || kw.contains("weight_decay") || kw.contains("solver"), kw.contains("residual"),
                 kw.contains("epochs"));
}

void init_autoencoder(py::module_& m) {
    using M = cfnet::AutoencoderCF<T>;
    using O = cfnet::AutoencoderOptions;
    auto cls = bind_model<M, O>(
        m, {"AutoencoderCF", ""},
        "The notebook's rating autoencoder (U-AutoRec: a user's ratings over all items in, the same out; masked MSE, "
        "sparse exact training) and its item-based variant (I-AutoRec). predict() gives ratings.",
        {{"notebook", [] { return O::notebook(); }}, {"autorec", [] { return O::autorec(); }}});
    cls.def("predict_user", [](const PyModel<M>& s, const std::vector<cfnet::index_type>& items,
                               const std::vector<T>& ratings) {
        return to_numpy(run_released([&] { return s.model.predict_user(items, ratings); }));
    }, py::arg("items"), py::arg("ratings"),
       "Fold-in: the predicted rating of every item for a user given only his (item index, rating) pairs "
       "(user_based models).");
}

}  // namespace cfnet_py
