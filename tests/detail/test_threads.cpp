// detail/threads.hpp and the `threads` options built on it (recommender.hpp's recommend_batch,
// metrics.hpp's evaluate_ranking / evaluate_rating, protocols.hpp): the partition, the error
// order, and, for every model, the same lists and the same reports, bit for bit, at 1, 2 and 3
// threads (2,600 users: three parts).
#include <cfnet/detail/threads.hpp>

#include <cfnet/baselines.hpp>
#include <cfnet/data/implicit.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/protocols.hpp>
#include <cfnet/recommender.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

using cfnet::index_type;
using cfnet::RatingMatrix;
using Recs = std::vector<cfnet::Recommendation<float>>;

namespace {

const cfnet::Split<float>& data() {
    static const cfnet::Split<float> s = [] {
        cfnet::synthetic::SyntheticOptions o;
        o.n_users = 2600;
        o.n_items = 80;
        o.n_ratings = 2600 * 12;
        o.min_ratings_per_user = 8;
        o.rank = 3;
        o.seed = 11;
        const auto all = cfnet::synthetic::generate<float>(o);
        cfnet::Split<float> sp;
        sp.train = all.filter([](std::size_t k) { return k % 5 != 0; });
        sp.test = all.filter([](std::size_t k) { return k % 5 == 0; });
        return sp;
    }();
    return s;
}

bool same_report(const cfnet::RankingReport& a, const cfnet::RankingReport& b) {
    return a.precision == b.precision && a.recall == b.recall &&
           a.ndcg == b.ndcg && a.hit_rate == b.hit_rate && a.map == b.map && a.recall_capped == b.recall_capped &&
           a.map_r == b.map_r && a.users_evaluated == b.users_evaluated && a.users_skipped == b.users_skipped &&
           a.k == b.k;
}

bool same_lists(const std::vector<std::pair<index_type, Recs>>& a, const std::vector<std::pair<index_type, Recs>>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t j = 0; j < a.size(); ++j) {
        if (a[j].first != b[j].first || a[j].second.size() != b[j].second.size()) return false;
        for (std::size_t r = 0; r < a[j].second.size(); ++r)
            if (a[j].second[r].item != b[j].second[r].item || !(a[j].second[r].score == b[j].second[r].score))
                return false;
    }
    return true;
}

/// Every user, in a shuffled order (recommend_batch's parts are positions, not user indices).
std::vector<index_type> shuffled_users(std::size_t n) {
    cfnet::Rng rng(3);
    return rng.permutation<index_type>(n);
}

/// The checks every model goes through: recommend_batch, evaluate_ranking (two k) and
/// evaluate_rating (a per-thread predictor with a cached row) at 1, 2, 3 threads against the
/// model's own single call / a plain scorer on the calling thread.
template <class M>
void check_model(const M& model, const std::string& name) {
    INFO(name);
    const auto& s = data();
    const auto users = shuffled_users(s.train.n_users());
    for (const bool exclude_seen : {true, false}) {
        std::vector<std::pair<index_type, Recs>> ref;
        model.recommend_batch(s.train, users, 7, [&](index_type u, const Recs& r) { ref.emplace_back(u, r); },
                              exclude_seen);
        REQUIRE(ref.size() == users.size());
        for (const int t : {1, 2, 3}) {
            INFO("recommend_batch, threads " << t);
            std::vector<std::pair<index_type, Recs>> got;
            cfnet::recommend_batch(model, s.train, users, 7, [&](index_type u, const Recs& r) { got.emplace_back(u, r); },
                                   exclude_seen, t);
            CHECK(same_lists(ref, got));
        }
    }
    const std::vector<std::size_t> ks{5, 10};
    const auto base = cfnet::evaluate_ranking(s.train, s.test, ks, model.make_scorer(s.train));
    for (const int t : {1, 2, 3}) {
        INFO("evaluate_ranking, threads " << t);
        const auto r = cfnet::evaluate_ranking(s.train, s.test, ks,
                                               cfnet::per_thread([&] { return model.make_scorer(s.train); }),
                                               cfnet::RankingOptions().use_threads(t));
        REQUIRE(r.size() == 2);
        CHECK(same_report(r[0], base[0]));
        CHECK(same_report(r[1], base[1]));
    }
    auto predictor = [&] {
        return [sc = model.make_scorer(s.train), row = std::vector<float>(s.train.n_items()),
                last = std::numeric_limits<std::size_t>::max()](index_type u, index_type i) mutable {
            if (u != last) {
                sc(u, row.data());
                last = u;
            }
            return row[i];
        };
    };
    const auto rate1 = cfnet::evaluate_rating(s.test, predictor());
    for (const int t : {1, 2, 3}) {
        INFO("evaluate_rating, threads " << t);
        const auto r = cfnet::evaluate_rating(s.test, cfnet::per_thread(predictor), t);
        CHECK(r.rmse == rate1.rmse);
        CHECK(r.mae == rate1.mae);
        CHECK(r.count == rate1.count);
    }
}

cfnet::AutoencoderOptions small_ae() {
    cfnet::AutoencoderOptions o;
    o.hidden = {16};
    o.epochs = 1;
    o.batch_size = 64;
    return o;
}

cfnet::AutoencoderOptions small_item_ae() {
    cfnet::AutoencoderOptions o = cfnet::AutoencoderOptions::autorec();
    o.hidden = {6};
    o.lbfgs(1.0, 3);
    return o;
}

/// A recommender-shaped type whose recommend_batch fails at chosen users (after its sink calls for
/// the users before them), to check the order of errors and sink calls.
struct Failing {
    using value_type = float;
    std::vector<index_type> bad;
    template <class Sink>
    void recommend_batch(const RatingMatrix<float>&, const std::vector<index_type>& users, std::size_t, Sink&& sink,
                         bool) const {
        for (const auto u : users) {
            if (std::find(bad.begin(), bad.end(), u) != bad.end())
                throw cfnet::NumericalError("Failing: user " + std::to_string(u));
            sink(u, Recs{{u, 1.f}});
        }
    }
};

}  // namespace

TEST_CASE("thread_ranges: contiguous, covering, boundaries at multiples of the unit", "[threads]") {
    for (const std::size_t n : {0u, 1u, 100u, 1024u, 1025u, 2600u, 10000u})
        for (const std::size_t t : {1u, 2u, 3u, 8u}) {
            const auto r = cfnet::detail::thread_ranges(n, 1024, t);
            REQUIRE_FALSE(r.empty());
            CHECK(r.size() <= t);
            CHECK(r.front().begin == 0);
            CHECK(r.back().end == n);
            for (std::size_t j = 0; j < r.size(); ++j) {
                if (n > 0) CHECK(r[j].begin < r[j].end);
                if (j > 0) CHECK(r[j].begin == r[j - 1].end);
                if (r[j].end != n) CHECK(r[j].end % 1024 == 0);
            }
        }
    CHECK(cfnet::detail::thread_ranges(2600, 1024, 3).size() == 3);
    CHECK(cfnet::detail::thread_ranges(2600, 1024, 8).size() == 3);
}

TEST_CASE("resolve_threads: 0 = all cores, bad counts are InvalidArgument", "[threads]") {
    CHECK(cfnet::detail::resolve_threads("f", 1) == 1);
    CHECK(cfnet::detail::resolve_threads("f", 3) == 3);
    CHECK(cfnet::detail::resolve_threads("f", 0) >= 1);
    CHECK_THROWS_AS(cfnet::detail::resolve_threads("f", -1), cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::detail::resolve_threads("f", cfnet::max_threads + 1), cfnet::InvalidArgument);
    CHECK_THROWS_WITH(cfnet::detail::resolve_threads("evaluate_ranking", -2),
                      "evaluate_ranking: threads must be 0 (all cores) or 1..1024, got -2");
}

TEST_CASE("run_threads: every index once, all joined, the smallest failing index's error", "[threads]") {
    std::vector<int> seen(5, 0);
    cfnet::detail::run_threads(5, [&](std::size_t t) { seen[t] += 1; });
    CHECK(seen == std::vector<int>(5, 1));
    std::atomic<int> finished{0};
    CHECK_THROWS_WITH(cfnet::detail::run_threads(4,
                                                 [&](std::size_t t) {
                                                     ++finished;
                                                     if (t >= 2) throw std::runtime_error("t" + std::to_string(t));
                                                 }),
                      "t2");
    CHECK(finished == 4);
}

TEST_CASE("OneBlasThread holds OpenBLAS at one thread and restores the count", "[threads]") {
    const int before = cfnet::blas_threads();
    cfnet::set_blas_threads(2);
    {
        const cfnet::detail::OneBlasThread one;
        CHECK(cfnet::blas_threads() == 1);
    }
    CHECK(cfnet::blas_threads() == 2);
    cfnet::set_blas_threads(before);
}

TEST_CASE("threads: every model scores the same at 1, 2 and 3 threads", "[threads]") {
    const auto& s = data();
    cfnet::AutoencoderCF<float> ae(small_ae());
    ae.fit(s.train);
    check_model(ae, "AutoencoderCF user-based");
    cfnet::AutoencoderCF<float> item_ae(small_item_ae());
    item_ae.fit(s.train);
    check_model(item_ae, "AutoencoderCF item-based");
    cfnet::AutoencoderEnsemble<float> ens({small_item_ae(), small_ae()}, {0.6, 0.4});
    ens.fit(s.train);
    check_model(ens, "AutoencoderEnsemble");
    cfnet::NeuralCFOptions no;
    no.architecture = cfnet::NcfArchitecture::neumf;
    no.embedding_dim = 8;
    no.epochs = 1;
    cfnet::NeuralCF<float> ncf(no);
    ncf.fit(s.train);
    check_model(ncf, "NeuralCF");
    cfnet::Ease<float> ease(cfnet::EaseOptions().l2(10));
    ease.fit(s.train);
    check_model(ease, "Ease");
    cfnet::MultVAE<float> vae(cfnet::MultVAEOptions::vae().hidden_sizes({600}).latent_dim(200).n_epochs(1).random_seed(3));
    vae.fit(s.train);
    check_model(vae, "MultVAE");  // the paper's widths: its products round differently with the row count
    cfnet::MostPopular<float> pop;
    pop.fit(s.train);
    check_model(pop, "MostPopular");
    cfnet::BiasBaseline<float> bias;
    bias.fit(s.train);
    check_model(bias, "BiasBaseline");
}

TEST_CASE("threads: both protocols give the same reports at 1, 2 and 3 threads", "[threads]") {
    cfnet::synthetic::SyntheticOptions o;
    o.n_users = 3000;
    o.n_items = 60;
    o.n_ratings = 3000 * 10;
    o.min_ratings_per_user = 6;
    o.seed = 4;
    const auto all = cfnet::synthetic::generate<float>(o);
    auto make = [](std::uint64_t) { return cfnet::MostPopular<float>(); };
    const auto one = cfnet::run_ms_recommenders(all, {1, 2}, make);
    cfnet::StrongGeneralizationOptions so;
    so.threshold = 2.5;
    so.heldout_users = 1400;
    const auto split = cfnet::strong_generalization_split(all, 9, so);
    cfnet::Ease<float> ease(cfnet::EaseOptions().l2(5));
    ease.fit(split.train);
    const auto sg1 = cfnet::evaluate_strong_generalization(split, ease);
    for (const int t : {1, 2, 3}) {
        INFO("threads " << t);
        const auto r = cfnet::run_ms_recommenders(all, {1, 2}, make, t);
        for (std::size_t j = 0; j < 2; ++j) CHECK(same_report(r.per_seed[j], one.per_seed[j]));
        CHECK(same_report(r.mean, one.mean));
        const auto sg = cfnet::evaluate_strong_generalization(split, ease, t);
        CHECK(sg.recall20 == sg1.recall20);
        CHECK(sg.recall50 == sg1.recall50);
        CHECK(sg.ndcg100 == sg1.ndcg100);
        CHECK(sg.users_evaluated == sg1.users_evaluated);
    }
}

TEST_CASE("threads: bad counts, a shared scorer, and the first error for any thread count", "[threads]") {
    const auto& s = data();
    cfnet::MostPopular<float> pop;
    pop.fit(s.train);
    const std::vector<index_type> users{0, 1, 2};
    auto sink = [](index_type, const Recs&) {};
    for (const int bad : {-1, cfnet::max_threads + 1}) {
        CHECK_THROWS_AS(cfnet::recommend_batch(pop, s.train, users, 5, sink, true, bad), cfnet::InvalidArgument);
        CHECK_THROWS_AS(cfnet::evaluate_ranking(s.train, s.test, 5,
                                                cfnet::per_thread([&] { return pop.make_scorer(s.train); }),
                                                cfnet::RankingOptions().use_threads(bad)),
                        cfnet::InvalidArgument);
        CHECK_THROWS_AS(cfnet::evaluate_rating(s.test, [](index_type, index_type) { return 3.0; }, bad),
                        cfnet::InvalidArgument);
    }
    // one plain scorer cannot be shared by threads
    CHECK_THROWS_AS(cfnet::evaluate_ranking(s.train, s.test, 5, pop.make_scorer(s.train),
                                            cfnet::RankingOptions().use_threads(2)),
                    cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::evaluate_rating(s.test, [](index_type, index_type) { return 3.0; }, 2),
                    cfnet::InvalidArgument);
    CHECK_THROWS_AS(cfnet::recommend_batch(pop, s.train, {0, static_cast<index_type>(s.train.n_users())}, 5, sink),
                    cfnet::InvalidArgument);
    // a NaN score at users 1500 and 2500: the error names 1500 at any thread count
    const std::size_t ni = s.train.n_items();
    auto nan_scorer = [&] {
        return [ni](index_type u, float* out) {
            for (std::size_t i = 0; i < ni; ++i) out[i] = static_cast<float>(i % 7);
            if (u == 1500 || u == 2500) std::fill(out, out + ni, std::numeric_limits<float>::quiet_NaN());
        };
    };
    auto nan_pred = [] {
        return [](index_type u, index_type) { return u == 1500 || u == 2500 ? std::nan("") : 3.0; };
    };
    for (const int t : {1, 2, 3}) {
        INFO("threads " << t);
        try {
            cfnet::evaluate_ranking(s.train, s.test, 5, cfnet::per_thread(nan_scorer), cfnet::RankingOptions().use_threads(t));
            FAIL("no error");
        } catch (const cfnet::NumericalError& e) {
            CHECK(std::string(e.what()).find("user index 1500,") != std::string::npos);
        }
        try {
            cfnet::evaluate_rating(s.test, cfnet::per_thread(nan_pred), t);
            FAIL("no error");
        } catch (const cfnet::NumericalError& e) {
            CHECK(std::string(e.what()).find("user index 1500,") != std::string::npos);
        }
        // recommend_batch: the sink sees exactly the users before the first failing one, in order
        const auto order = shuffled_users(s.train.n_users());
        const Failing failing{{order[1500], order[2500]}};
        std::vector<index_type> got;
        CHECK_THROWS_WITH(cfnet::recommend_batch(failing, s.train, order, 1,
                                                 [&](index_type u, const Recs&) { got.push_back(u); }, true, t),
                          "Failing: user " + std::to_string(order[1500]));
        CHECK(got == std::vector<index_type>(order.begin(), order.begin() + 1500));
    }
}
