// The C++ side of tests/python/test_cpp_equality.py: the same data, models, options and seeds as
// the Python test, written out by the C++ library itself.
//   cfnet_py_reference DIR            trains AutoencoderCF and NeuralCF on cfnet's synthetic data
//                                     (per-user holdout), writes their per-epoch losses, test
//                                     predictions and top-5 lists, and saves both models in DIR; the
//                                     same for a two-member AutoencoderEnsemble and (T = double) for
//                                     AutoencoderCF<double> and NeuralCF<double>
//   cfnet_py_reference DIR --check    loads DIR/ae_py.cfnet, DIR/ncf_py.cfnet and DIR/ens_py.cfnet
//                                     (saved by Python) and writes their test predictions
//   cfnet_py_reference MODEL --bench-recommend ML100K_DIR REPEATS
//                                     (python/benchmarks/bench_python.py) trains the notebook's
//                                     autoencoder on ML-100K's per-user holdout (seed 42), saves it to
//                                     MODEL, then times recommend_batch of every user (k = 10) REPEATS
//                                     times and prints each time in seconds
//   cfnet_py_reference - --bench-fit ML100K_DIR
//                                     (bench_python.py) trains the notebook's autoencoder (20 epochs) on
//                                     ML-100K's per-user holdout (seed 42) twice (the first warms the
//                                     allocator up, as in a running Python process) and prints the second
//                                     fit's wall time and training thread's CPU time in seconds, then its losses
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/neural_cf.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

namespace {

void write(const std::string& path, const std::vector<double>& v) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw cfnet::IoError("cannot write " + path);
    for (const double x : v) std::fprintf(f, "%.17g\n", x);
    std::fclose(f);
}

template <class V>
std::vector<double> as_double(const V& v) {
    return std::vector<double>(v.begin(), v.end());
}

std::vector<double> losses(const cfnet::History& h) {
    std::vector<double> out;
    for (const auto& e : h.epochs) out.push_back(e.loss);
    return out;
}

template <class M, class Rec>
std::vector<double> top5(const M& m, Rec rec) {
    std::vector<double> out;
    for (cfnet::index_type u = 0; u < 5; ++u)
        for (const auto& r : rec(m, u)) {
            out.push_back(r.item);
            out.push_back(r.score);
        }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: cfnet_py_reference DIR [--check]\n");
        return 2;
    }
    try {
        const std::string dir = argv[1];
        if (argc > 3 && std::string(argv[2]) == "--bench-fit") {
            const auto data = cfnet::movielens::load<float>(argv[3]);
            const auto sp = cfnet::per_user_holdout(data.ratings, 42);
            cfnet::AutoencoderCF<float> ae;
            ae.fit(sp.train);  // warm-up
            timespec c0{}, c1{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
            const auto t0 = std::chrono::steady_clock::now();
            const auto h = ae.fit(sp.train);
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
            const double cpu = static_cast<double>(c1.tv_sec - c0.tv_sec) + 1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec);
            std::printf("%.6f %.6f\n", wall, cpu);
            for (const auto& e : h.epochs) std::printf("%.17g\n", e.loss);
            return 0;
        }
        if (argc > 4 && std::string(argv[2]) == "--bench-recommend") {
            const auto data = cfnet::movielens::load<float>(argv[3]);
            const auto sp = cfnet::per_user_holdout(data.ratings, 42);
            cfnet::AutoencoderCF<float> ae;
            ae.fit(sp.train);
            ae.save(dir);
            std::vector<cfnet::index_type> users(sp.train.n_users());
            for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<cfnet::index_type>(u);
            const int repeats = std::atoi(argv[4]);
            for (int r = 0; r < repeats; ++r) {
                std::size_t count = 0;
                const auto t0 = std::chrono::steady_clock::now();
                ae.recommend_batch(sp.train, users, 10, [&](cfnet::index_type, const auto& recs) { count += recs.size(); });
                const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::printf("%.6f %zu\n", s, count);
            }
            return 0;
        }
        // = cfnet.synthetic(n_users=120, n_items=200, n_ratings=4000, seed=7) in Python
        auto so = cfnet::synthetic::ml100k();
        so.n_users = 120;
        so.n_items = 200;
        so.n_ratings = 4000;
        so.seed = 7;
        const auto all = cfnet::synthetic::generate<float>(so);
        const auto split = cfnet::per_user_holdout(all, 42);

        // = cfnet.AutoencoderCF(hidden=[32, 16, 32], epochs=3, seed=5)
        cfnet::AutoencoderOptions ao;
        ao.hidden = {32, 16, 32};
        ao.epochs = 3;
        ao.seed = 5;
        // = cfnet.NeuralCF(embedding_dim=8, hidden=[16, 8], epochs=2, seed=5, batch_size=256)
        cfnet::NeuralCFOptions no;
        no.embedding_dim = 8;
        no.hidden = {16, 8};
        no.epochs = 2;
        no.seed = 5;
        no.batch_size = 256;

        // = cfnet.AutoencoderEnsemble([dict(hidden=[32, 16, 32], epochs=2, seed=5),
        //                              dict(orientation="item_based", hidden=[16], epochs=2, seed=6)],
        //                             [0.6, 0.4], clamp=(1, 5))
        cfnet::AutoencoderOptions e0;
        e0.hidden = {32, 16, 32};
        e0.epochs = 2;
        e0.seed = 5;
        cfnet::AutoencoderOptions e1;
        e1.item_based();
        e1.hidden = {16};
        e1.epochs = 2;
        e1.seed = 6;

        if (argc > 2 && std::string(argv[2]) == "--check") {
            const auto ens = cfnet::AutoencoderEnsemble<float>::load(dir + "/ens_py.cfnet");
            write(dir + "/ens_py_pred_by_cpp.txt", as_double(ens.predict(split.train, split.test)));
            const auto ae = cfnet::AutoencoderCF<float>::load(dir + "/ae_py.cfnet");
            write(dir + "/ae_py_pred_by_cpp.txt", as_double(ae.predict(split.train, split.test)));
            const auto ncf = cfnet::NeuralCF<float>::load(dir + "/ncf_py.cfnet");
            write(dir + "/ncf_py_pred_by_cpp.txt", as_double(ncf.predict(split.train, split.test)));
            return 0;
        }
        cfnet::AutoencoderCF<float> ae(ao);
        write(dir + "/ae_loss.txt", losses(ae.fit(split.train)));
        write(dir + "/ae_pred.txt", as_double(ae.predict(split.train, split.test)));
        write(dir + "/ae_top5.txt", top5(ae, [&](const auto& m, cfnet::index_type u) { return m.recommend(split.train, u, 5); }));
        ae.save(dir + "/ae_cpp.cfnet");

        cfnet::NeuralCF<float> ncf(no);
        write(dir + "/ncf_loss.txt", losses(ncf.fit(split.train)));
        write(dir + "/ncf_pred.txt", as_double(ncf.predict(split.train, split.test)));
        write(dir + "/ncf_top5.txt", top5(ncf, [&](const auto& m, cfnet::index_type u) { return m.recommend(split.train, u, 5); }));
        ncf.save(dir + "/ncf_cpp.cfnet");

        cfnet::AutoencoderEnsemble<float> ens({e0, e1}, {0.6, 0.4});
        ens.clamp(1, 5);
        std::vector<double> ens_loss;
        for (const auto& h : ens.fit(split.train))
            for (const double l : losses(h)) ens_loss.push_back(l);
        write(dir + "/ens_loss.txt", ens_loss);
        write(dir + "/ens_pred.txt", as_double(ens.predict(split.train, split.test)));
        write(dir + "/ens_top5.txt", top5(ens, [&](const auto& m, cfnet::index_type u) { return m.recommend(split.train, u, 5); }));
        ens.save(dir + "/ens_cpp.cfnet");

        // = cfnet.AutoencoderCF64(...) / cfnet.NeuralCF64(...): the float data's values in double
        const auto to64 = [](const cfnet::RatingMatrix<float>& m) {
            return cfnet::RatingMatrix<double>(m.user_map(), m.item_map(), m.row_ptr(), m.item_indices(),
                                               std::vector<double>(m.values().begin(), m.values().end()));
        };
        const auto train64 = to64(split.train);
        const auto test64 = to64(split.test);
        cfnet::AutoencoderCF<double> ae64(ao);
        write(dir + "/ae64_loss.txt", losses(ae64.fit(train64)));
        write(dir + "/ae64_pred.txt", ae64.predict(train64, test64));
        ae64.save(dir + "/ae64_cpp.cfnet");
        cfnet::NeuralCF<double> ncf64(no);
        write(dir + "/ncf64_loss.txt", losses(ncf64.fit(train64)));
        write(dir + "/ncf64_pred.txt", ncf64.predict(train64, test64));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cfnet_py_reference: %s\n", e.what());
        return 1;
    }
    return 0;
}
