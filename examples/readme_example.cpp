// The README's "A taste" block, verbatim (the build compiles it and ctest runs it: the README's
// example cannot rot). Usage: readme_example [/path/to/ml-100k]
#include <cfnet/autoencoder.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/metrics.hpp>
#include <iostream>

int main(int argc, char** argv) {
    auto ml = cfnet::movielens::load<float>(argc > 1 ? argv[1] : "ml-100k");  // 943 users x 1682 items
    auto split = cfnet::per_user_holdout(ml.ratings, /*seed=*/42);           // the notebook's 20% per-user holdout
    cfnet::AutoencoderCF<float> model(cfnet::AutoencoderOptions().n_epochs(20));  // 1682-512-256-64-256-512-1682
    model.fit(split.train);
    auto pred = model.predict(split.train, split.test);  // leak-free: the input is the training ratings only
    std::cout << "RMSE " << cfnet::rmse(pred, split.test.values()) << "\n";
    for (auto r : model.recommend(split.train, /*user=*/0, /*k=*/10))  // unrated items, best first
        std::cout << r.score << "  " << ml.items.title(split.train.items().id(r.item)) << "\n";
}
