// The save/load matrix (issue 14, "model files always read back"): every model x preset x option
// variant that fit() accepts is fitted on small data, saved, loaded, and must give bit-identical
// predictions and scores from the loaded model. Variants change one option at a time from each
// preset (the options whose combinations reach different save/load code: orientation, solver,
// fallback, clamp, validation/refit, architecture, feedback, ...), then the preset is shrunk to run
// in milliseconds (fewer epochs and units) without changing which paths it takes. A variant whose
// options do not validate must be rejected by the constructor; the rest must round-trip.
#include <cfnet/autoencoder.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>

#include "support/files.hpp"
#include "support/model_files.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

using cfnet::RatingMatrix;

namespace {

template <class Options>
using Variants = std::vector<std::pair<std::string, std::function<void(Options&)>>>;

/// Predictions for every stored pair of `data` and the scores of a few users, from `m`.
template <class M>
std::vector<float> outputs(const M& m, const RatingMatrix<float>& data) {
    std::vector<float> out = m.predict(data, data);
    std::vector<float> scores(data.n_items());
    auto scorer = m.make_scorer(data);  // a scorer may keep scratch: not const
    for (cfnet::index_type u = 0; u < data.n_users(); u += 7) {
        scorer(u, scores.data());
        out.insert(out.end(), scores.begin(), scores.end());
    }
    return out;
}

/// What round_trips did: the number of round trips checked and the "preset/variant" combinations
/// that the options' validation rejected (and the constructor with them).
struct MatrixRun {
    std::size_t checked = 0;
    std::vector<std::string> rejected;
};

/// Fits, saves and loads M for every preset x variant.
template <class M, class Options>
MatrixRun round_trips(const char* model, const RatingMatrix<float>& data,
                        const std::vector<std::pair<std::string, Options>>& presets, const Variants<Options>& variants,
                        const std::function<void(Options&)>& shrink) {
    const std::string dir = cfnet_test::scratch_dir(std::string("matrix_") + model);
    MatrixRun run;
    for (const auto& [preset, start] : presets) {
        for (std::size_t v = 0; v <= variants.size(); ++v) {
            Options o = start;
            const std::string variant = v == 0 ? "as is" : variants[v - 1].first;
            if (v > 0) variants[v - 1].second(o);
            shrink(o);
            INFO(model << " preset " << preset << ", variant " << variant);
            bool valid = true;
            try {
                o.validate();
            } catch (const cfnet::InvalidArgument&) {
                valid = false;
            }
            if (!valid) {
                CHECK_THROWS_AS(M(o), cfnet::InvalidArgument);
                run.rejected.push_back(preset + "/" + variant);
                continue;
            }
            M m(o);
            m.fit(data);
            const std::string path = dir + "/" + preset + "_" + std::to_string(v) + ".cfnet";
            m.save(path);
            const M loaded = M::load(path);
            CHECK(outputs(loaded, data) == outputs(m, data));
            ++run.checked;
        }
    }
    return run;
}

}  // namespace

TEST_CASE("model file matrix: AutoencoderCF, every preset x option variant", "[model_files]") {
    using O = cfnet::AutoencoderOptions;
    const auto data = cfnet_test::small_data();
    const Variants<O> variants{
        {"item-based", [](O& o) { o.item_based(!(o.orientation == cfnet::Orientation::item_based)); }},
        {"other solver", [](O& o) { o.solver = o.solver == cfnet::Solver::lbfgs ? cfnet::Solver::adam : cfnet::Solver::lbfgs; }},
        {"fallback toggled", [](O& o) { o.unseen_fallback = !o.unseen_fallback; }},
        {"clamp toggled", [](O& o) {
             if (o.clamp_min) { o.clamp_min.reset(); o.clamp_max.reset(); } else { o.clamp(1, 5); }
         }},
        {"lazy adam", [](O& o) { o.lazy_adam = true; }},
        {"dropout", [](O& o) { o.dropout(0.2, 0.1); }},
        {"sigmoid/elu", [](O& o) { o.hidden_activation = cfnet::ActivationKind::sigmoid; o.output_activation = cfnet::ActivationKind::elu; }},
        {"global loss normalisation", [](O& o) { o.loss_normalization = cfnet::nn::MaskNormalization::global; }},
        {"decoupled weight decay", [](O& o) { o.weight_decay = 1e-3; o.decoupled_weight_decay = true; }},
        {"residual toggled", [](O& o) { o.residual = !o.residual; }},
        {"clamp to training toggled", [](O& o) { o.clamp_to_training = !o.clamp_to_training; }},
        {"selection toggled", [](O& o) {
             if (o.selection) o.selection.reset(); else o.select({{0.0, 1e-4}, true, 0.2, 1});
         }},
    };
    const MatrixRun r = round_trips<cfnet::AutoencoderCF<float>, O>(
        "autoencoder", data, {{"notebook", O::notebook()}, {"autorec", O::autorec()}}, variants, [](O& o) {
            for (auto& h : o.hidden) h = std::min<std::size_t>(h, 6);
            o.epochs = 2;
        });
    // L-BFGS is full-batch: Adam's options (lazy updates, dropout, decoupled decay) contradict it,
    // and autorec's l2_lambda is an L-BFGS option
    CHECK(r.rejected == std::vector<std::string>{"autorec/other solver", "autorec/lazy adam", "autorec/dropout",
                                                 "autorec/decoupled weight decay"});
    CHECK(r.checked == 2 * (variants.size() + 1) - 4);
}

TEST_CASE("model file matrix: NeuralCF, every preset x option variant", "[model_files]") {
    using O = cfnet::NeuralCFOptions;
    const auto data = cfnet_test::small_data();
    const Variants<O> variants{
        {"mlp", [](O& o) { o.architecture = cfnet::NcfArchitecture::mlp; }},
        {"gmf", [](O& o) { o.architecture = cfnet::NcfArchitecture::gmf; }},
        {"neumf", [](O& o) { o.architecture = cfnet::NcfArchitecture::neumf; }},
        {"other feedback", [](O& o) {
             o.feedback = o.feedback == cfnet::Feedback::implicit ? cfnet::Feedback::ratings : cfnet::Feedback::implicit;
             o.early_stopping.reset();
         }},
        {"bias terms", [](O& o) { o.bias_terms = !o.bias_terms; }},
        {"fallback toggled", [](O& o) { o.unseen_fallback = !o.unseen_fallback; }},
        {"lazy embedding updates", [](O& o) { o.lazy_embedding_updates = !o.lazy_embedding_updates; }},
        {"validation without early stopping", [](O& o) { o.validation_fraction = 0.2; o.early_stopping.reset(); o.refit = false; }},
        {"refit toggled", [](O& o) { o.refit = !o.refit; }},
        {"fan-in init", [](O& o) { o.dense_init = cfnet::DenseInit::fan_in_uniform; }},
        {"mean init", [](O& o) { o.mean_init = !o.mean_init; }},
    };
    const MatrixRun r = round_trips<cfnet::NeuralCF<float>, O>(
        "neural_cf", data,
        {{"notebook", O::notebook()}, {"accurate", O::accurate()}, {"implicit", O::implicit_ranking()}}, variants,
        [](O& o) {
            o.embedding_dim = std::min<std::size_t>(o.embedding_dim, 4);
            for (auto& h : o.hidden) h = std::min<std::size_t>(h, 6);
            o.epochs = 2;
            o.negatives = std::min<std::size_t>(o.negatives, 2);
        });
    // refit needs early stopping to know the epoch count (notebook has none; accurate's stops on
    // val_rmse, which implicit feedback does not record)
    CHECK(r.rejected == std::vector<std::string>{"notebook/refit toggled", "accurate/other feedback"});
    CHECK(r.checked == 3 * (variants.size() + 1) - 2);
}

TEST_CASE("model file matrix: the ensemble and the baselines", "[model_files]") {
    const auto data = cfnet_test::small_data();
    const std::string dir = cfnet_test::scratch_dir("matrix_others");
    auto ens = cfnet::AutoencoderEnsemble<float>::autorec_ensemble();
    std::vector<cfnet::AutoencoderOptions> members;
    for (std::size_t k = 0; k < ens.size(); ++k) {
        auto o = ens.member(k).options();
        for (auto& h : o.hidden) h = std::min<std::size_t>(h, 6);
        o.epochs = 2;
        members.push_back(o);
    }
    cfnet::AutoencoderEnsemble<float> small(members, ens.weights());
    small.fit(data);
    small.save(dir + "/ens.cfnet");
    CHECK(outputs(cfnet::AutoencoderEnsemble<float>::load(dir + "/ens.cfnet"), data) == outputs(small, data));

    cfnet::BiasBaseline<float> bias;
    bias.fit(data);
    bias.save(dir + "/bias.cfnet");
    CHECK(outputs(cfnet::BiasBaseline<float>::load(dir + "/bias.cfnet"), data) == outputs(bias, data));
    cfnet::MostPopular<float> pop;
    pop.fit(data);
    pop.save(dir + "/pop.cfnet");
    CHECK(outputs(cfnet::MostPopular<float>::load(dir + "/pop.cfnet"), data) == outputs(pop, data));
}

TEST_CASE("model file matrix: Ease, every preset x option variant", "[model_files]") {
    using O = cfnet::EaseOptions;
    const auto data = cfnet_test::small_data();
    const Variants<O> variants{
        {"lambda selection", [](O& o) { o.select_lambda({5, 50}); }},
        {"most frequent items", [](O& o) { o.most_frequent(20); }},
        {"selection by precision", [](O& o) { o.select_lambda({5, 50}).validation(0.3, 5, cfnet::EaseSelection::precision); }},
        {"two threads", [](O& o) { o.n_threads(2); }},
    };
    const MatrixRun r = round_trips<cfnet::Ease<float>, O>(
        "ease", data, {{"fixed", O()}, {"validated", O().select_lambda({10, 100, 1000})}}, variants, [](O&) {});
    CHECK(r.rejected.empty());
    CHECK(r.checked == 2 * (variants.size() + 1));
}

TEST_CASE("model file matrix: MultVAE, every preset x option variant", "[model_files]") {
    using O = cfnet::MultVAEOptions;
    const auto data = cfnet_test::small_data();
    const Variants<O> variants{
        {"no anneal", [](O& o) { o.anneal(0, 0.1); }},
        {"epoch selection", [](O& o) { o.validation_fraction = 0.25; o.validation_k = 5; }},
        {"selection without refit", [](O& o) { o.validation_fraction = 0.25; o.validation_k = 5; o.refit = false; o.patience = 1; }},
        {"weight decay", [](O& o) { o.weight_decay = 1e-3; }},
        {"no dropout", [](O& o) { o.input_dropout = 0; }},
        {"deeper", [](O& o) { o.hidden = {8, 6}; }},
    };
    const MatrixRun r = round_trips<cfnet::MultVAE<float>, O>(
        "mult_vae", data, {{"vae", O::vae()}, {"dae", O::dae()}}, variants, [](O& o) {
            for (auto& h : o.hidden) h = std::min<std::size_t>(h, 8);
            o.latent = std::min<std::size_t>(o.latent, 4);
            o.epochs = 2;
            o.batch_size = 16;
        });
    CHECK(r.rejected.empty());
    CHECK(r.checked == 2 * (variants.size() + 1));
}
