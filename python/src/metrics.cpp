// cfnet._cfnet: the metrics (rating and per-user ranking), evaluate_ranking over a Python scoring
// function, and the protocols' splits (protocols.hpp). Evaluating a cfnet model goes through the
// model's own evaluate_* methods (bind_model.hpp), which score in C++ without the GIL.
#include "common.hpp"

#include <cfnet/metrics.hpp>
#include <cfnet/protocols.hpp>

namespace cfnet_py {
namespace {

using Vec = std::vector<double>;
using Idx = std::vector<cfnet::index_type>;

py::dict ranking_metrics_dict(const cfnet::RankingMetrics& r) {
    py::dict d;
    d["precision"] = r.precision;
    d["recall"] = r.recall;
    d["ndcg"] = r.ndcg;
    d["hit_rate"] = r.hit_rate;
    d["average_precision"] = r.average_precision;
    d["recall_capped"] = r.recall_capped;
    d["average_precision_r"] = r.average_precision_r;
    return d;
}


}  // namespace

void init_metrics(py::module_& m) {
    m.def("rmse", [](const Vec& p, const Vec& t) { return cfnet::rmse(p, t); }, py::arg("predictions"), py::arg("truths"),
          "Root mean squared error of two equally long sequences.");
    m.def("mae", [](const Vec& p, const Vec& t) { return cfnet::mae(p, t); }, py::arg("predictions"), py::arg("truths"));
    m.def("precision_at_k", [](const Idx& r, const Idx& rel, std::size_t k) { return cfnet::precision_at_k(r, rel, k); },
          py::arg("ranked"), py::arg("relevant"), py::arg("k"),
          "Hits in the first k of `ranked` (item indices, best first) divided by k.");
    m.def("recall_at_k", [](const Idx& r, const Idx& rel, std::size_t k) { return cfnet::recall_at_k(r, rel, k); },
          py::arg("ranked"), py::arg("relevant"), py::arg("k"), "Hits in the first k divided by len(relevant).");
    m.def("ndcg_at_k", [](const Idx& r, const Idx& rel, std::size_t k) { return cfnet::ndcg_at_k(r, rel, k); },
          py::arg("ranked"), py::arg("relevant"), py::arg("k"), "Binary NDCG@k (log2 discount, ideal = min(k, R) hits first).");
    m.def("hit_rate_at_k", [](const Idx& r, const Idx& rel, std::size_t k) { return cfnet::hit_rate_at_k(r, rel, k); },
          py::arg("ranked"), py::arg("relevant"), py::arg("k"));
    m.def("average_precision_at_k",
          [](const Idx& r, const Idx& rel, std::size_t k) { return cfnet::average_precision_at_k(r, rel, k); },
          py::arg("ranked"), py::arg("relevant"), py::arg("k"));
    m.def("ranking_metrics_at_k",
          [](const Idx& r, const Idx& rel, std::size_t k) { return ranking_metrics_dict(cfnet::ranking_metrics_at_k(r, rel, k)); },
          py::arg("ranked"), py::arg("relevant"), py::arg("k"), "Every per-user ranking metric at k, as a dict.");

    m.def("evaluate_ranking_fn", [](const Matrix& train, const Matrix& test, std::size_t k, py::function score_fn,
                                    py::object threshold, bool exclude_train, bool exclude_unseen_items) {
        cfnet::RankingOptions o;
        if (!threshold.is_none()) o.threshold(threshold.cast<double>());
        o.exclude_train_items(exclude_train).exclude_items_unseen_in_train(exclude_unseen_items);
        const std::size_t ni = train.n_items();
        auto fn = [&](cfnet::index_type u, T* out) {
            auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(score_fn(u));
            if (!a) throw py::error_already_set();
            cfnet::check_arg(static_cast<std::size_t>(a.size()) == ni, "evaluate_ranking: score_fn(", u, ") returned ",
                             a.size(), " scores for ", ni, " items");
            std::copy(a.data(), a.data() + ni, out);
        };
        return ranking_dict(cfnet::evaluate_ranking(train, test, k, fn, o));
    }, py::arg("train"), py::arg("test"), py::arg("k"), py::arg("score_fn"), py::arg("threshold") = py::none(),
       py::arg("exclude_train") = true, py::arg("exclude_unseen_items") = false,
       "evaluate_ranking with a Python scorer: score_fn(user_index) -> an array of every item's score.");

    m.def("ms_recommenders_split", &cfnet::ms_recommenders_split<T>, py::arg("ratings"), py::arg("seed") = 42,
          "The Microsoft Recommenders protocol's split: 25% of each user's ratings to test.");
    m.def("strong_generalization_data", [](const Matrix& x, double threshold, std::size_t min_user) {
        cfnet::StrongGeneralizationOptions o;
        o.threshold = threshold;
        o.min_user_interactions = min_user;
        return cfnet::strong_generalization_data(x, o);
    }, py::arg("ratings"), py::arg("threshold") = 3.5, py::arg("min_user_interactions") = 5);
    m.def("strong_generalization_split", [](const Matrix& x, std::uint64_t seed, py::object heldout_users,
                                            double threshold, std::size_t min_user, double target_fraction) {
        cfnet::StrongGeneralizationOptions o;
        o.threshold = threshold;
        o.min_user_interactions = min_user;
        o.target_fraction = target_fraction;
        if (!heldout_users.is_none()) o.heldout_users = heldout_users.cast<std::size_t>();
        return run_released([&] { return cfnet::strong_generalization_split(x, seed, o); });
    }, py::arg("ratings"), py::arg("seed") = 42, py::arg("heldout_users") = py::none(), py::arg("threshold") = 3.5,
       py::arg("min_user_interactions") = 5, py::arg("target_fraction") = 0.2,
       "Liang et al.'s strong-generalisation preprocessing and held-out-user split.");
}

}  // namespace cfnet_py
