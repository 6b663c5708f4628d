// Writing your own model with cfnet's toolkit: a two-layer denoising item autoencoder built from
// public layers, a loss, an optimizer and the fit loop (docs/concepts.md, section 7).
//
//   custom_autoencoder [DIR]        DIR: MovieLens 100K (default ../shared/data/ml-100k)
//
// The model is in custom_autoencoder.hpp (next to this file, so that
// benchmarks/bench_custom_model.cpp can time the same code against the built-in AutoencoderCF).
// Read it as part of this walk-through: its step() is the whole network in about 20 lines.
//
// What the program does:
//   1. load the ratings and split them (the notebook's per-user 20% holdout, seed 42);
//   2. build the model for the training matrix's users (its input and output units);
//   3. train it, printing the loss of every epoch through the toolkit's ProgressBar callback;
//   4. predict the held-out ratings from the TRAINING ratings only and print the RMSE.
#include "custom_autoencoder.hpp"

#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/metrics.hpp>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) try {
    const std::string dir = argc > 1 ? argv[1] : "../shared/data/ml-100k";

    // 1. Data. RatingMatrix keeps the ratings sparse (CSR by user); "missing" is not "zero".
    const auto ml = cfnet::movielens::load<float>(dir);
    const auto split = cfnet::per_user_holdout(ml.ratings, /*seed=*/42);
    std::printf("%zu users x %zu items: %zu training ratings, %zu held out\n", ml.ratings.n_users(),
                ml.ratings.n_items(), split.train.nnz(), split.test.nnz());

    // 2. The model. Every size comes from the data at run time: an item's row has one entry per
    //    user, so the network maps users -> hidden -> users.
    custom::Options options;  // hidden 64 sigmoid units, input dropout 0.5, batch 32, Adam lr 1e-3
    options.epochs = 20;
    custom::DenoisingItemAutoencoder<float> model(split.train.n_users(), options);

    // 3. Training. Callbacks are FitLoop's: ProgressBar prints one line per epoch when stdout is not a
    //    terminal (false: always that form). EarlyStopping, History::write_csv, your own Callback
    //    subclass work the same way for this model as for the built-in ones.
    cfnet::ProgressBar progress(stdout, /*interactive=*/false);
    const cfnet::History history = model.fit(split.train, {&progress});

    // 4. Evaluation, leak-free: the model's input is the training matrix; the held-out ratings are
    //    only compared with. (Feeding the full matrix would hand the network the answers.)
    const std::vector<float> predicted = model.predict(split.train, split.test);
    const double rmse = cfnet::rmse(predicted, split.test.values());
    std::printf("final training loss %.4f after %zu epochs\n", history[history.size() - 1].loss, history.size());
    std::printf("held-out RMSE (leak-free, input = training ratings): %.4f\n", rmse);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "custom_autoencoder: %s\n", e.what());
    return 1;
}
