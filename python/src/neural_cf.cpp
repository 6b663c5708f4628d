// cfnet._cfnet: NeuralCF (the notebook's embedding + MLP model; GMF, NeuMF, implicit ranking).
#include "bind_model.hpp"

#include <cfnet/neural_cf.hpp>

namespace cfnet_py {

void init_neural_cf(py::module_& m) {
    using M = cfnet::NeuralCF<T>;
    using O = cfnet::NeuralCFOptions;
    bind_model<M, O>(
        m, {"NeuralCF", "options."},
        "Neural collaborative filtering: the notebook's model (user and item embeddings, an MLP, MSE on ratings) "
        "and GMF / NeuMF, for ratings or implicit feedback with sampled negatives. An embedding model: it scores "
        "users from their trained embeddings (no fold-in; recalculate_user=False).",
        {{"notebook", [] { return O::notebook(); }},
         {"accurate", [] { return O::accurate(); }},
         {"implicit_ranking", [] { return O::implicit_ranking(); }}});
}

}  // namespace cfnet_py
