// cfnet._cfnet: NeuralCF (the notebook's embedding + MLP model; GMF, NeuMF, implicit ranking).
#include "bind_model.hpp"

#include <cfnet/neural_cf.hpp>

namespace cfnet_py {

void init_neural_cf(py::module_& m) {
    using M = cfnet::NeuralCF<T>;
    using O = cfnet::NeuralCFOptions;
    auto cls = bind_model<M, O>(
        m, {"NeuralCF", "options."},
        "Neural collaborative filtering: the notebook's model (user and item embeddings, an MLP, MSE on ratings) "
        "and GMF / NeuMF, for ratings or implicit feedback with sampled negatives. An embedding model: it scores "
        "users from their trained embeddings (no fold-in; recalculate_user=False).",
        {{"notebook", [] { return O::notebook(); }},
         {"accurate", [] { return O::accurate(); }},
         {"implicit_ranking", [] { return O::implicit_ranking(); }}});
    cls.def("item_embeddings", [](const PyModel<M>& s) {
        py::list out;
        for (const auto* t : s.model.item_embeddings()) {
            py::array_t<T> a({static_cast<py::ssize_t>(t->shape(0)), static_cast<py::ssize_t>(t->shape(1))});
            std::copy(t->begin(), t->end(), a.mutable_data());
            out.append(a);
        }
        return out;
    }, "The item embedding tables (float32 copies, n_items x d each): item_mlp (mlp, neumf), then item_gmf (gmf, "
       "neumf). similar_items uses them.");
}

}  // namespace cfnet_py
