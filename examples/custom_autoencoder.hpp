// The model of examples/custom_autoencoder.cpp, in a header of its own so that
// benchmarks/bench_custom_model.cpp times exactly this code. Read custom_autoencoder.cpp first;
// docs/concepts.md, section 7, explains the pattern.
//
// DenoisingItemAutoencoder<T>: a two-layer denoising ITEM autoencoder. A row is one item's ratings
// over all users (I-AutoRec's orientation), about 94% empty:
//
//   x  the item's observed ratings, each dropped with probability input_dropout and the survivors
//      scaled by 1 / (1 - input_dropout)  (denoising: the network must fill in what it lost)
//   h = f(x W1 + b1)      nn::SparseInputDense    users -> hidden, O(ratings x hidden)
//   y = h W2^T + b2       nn::SparseOutputDense   hidden -> users, evaluated ONLY at the users who
//                         rated the item: the masked MSE (nn::MaskedMSE) reads nothing else
//
// trained by optim::Adam through the layers' fused path (each weight row updated while it is in
// cache, nn/update.hpp) inside cfnet::FitLoop (epochs, callbacks, NaN stop, history).
#pragma once

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/sparse_output_dense.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace custom {

struct Options {
    std::size_t hidden = 64;
    cfnet::nn::ActivationKind activation = cfnet::nn::ActivationKind::sigmoid;
    double input_dropout = 0.5;
    std::size_t batch_size = 32;
    double learning_rate = 1e-3;
    int epochs = 20;
    std::uint64_t init_seed = 1, shuffle_seed = 2, dropout_seed = 3;  // one random stream each
};

template <class T = float>
class DenoisingItemAutoencoder {
public:
    using value_type = T;

    // The layers draw their weights (Glorot uniform, zero biases) from one stream; Adam gets the
    // parameters in a fixed order and keeps its moments by that position ("slot"):
    //   slot 0 = W1 (users x hidden), 1 = b1, 2 = W2 (users x hidden: a row per output unit), 3 = b2.
    DenoisingItemAutoencoder(std::size_t n_users, const Options& o) : opt_(o) {
        cfnet::Rng rng(o.init_seed);
        const auto glorot = cfnet::nn::init::glorot_uniform();
        encoder_ = cfnet::nn::SparseInputDense<T>(n_users, o.hidden, rng, glorot, o.activation);
        decoder_ = cfnet::nn::SparseOutputDense<T>(o.hidden, n_users, rng, glorot);  // linear output
        adam_.emplace(cfnet::nn::ParameterList<T>{&encoder_.weight(), &encoder_.bias(), &decoder_.weight(),
                                                  &decoder_.bias()},
                      cfnet::optim::AdamOptions().lr(o.learning_rate));
    }
    // Adam holds pointers to the parameters: the model stays where it was built.
    DenoisingItemAutoencoder(const DenoisingItemAutoencoder&) = delete;
    DenoisingItemAutoencoder& operator=(const DenoisingItemAutoencoder&) = delete;

    // ONE TRAINING STEP: the whole network, forward, loss, backward and Adam, on a mini-batch.
    // `input` holds the rows' noisy ratings, `target` the same rows' observed ratings (the loss is
    // evaluated there). Returns the batch's mean loss.
    double step(const cfnet::nn::SparseBatch<T>& input, const cfnet::nn::SparseBatch<T>& target) {
        // 1. Encoder: a sparse x dense product over the stored entries only.
        const cfnet::Matrix<T>& h = encoder_.forward(input);

        // 2. One Adam step. Instead of accumulating gradients and calling adam.step(), we hand each
        //    layer a RowUpdate per parameter: the layer updates every weight row the moment its
        //    gradient is known, while the row is still in cache (the fused path).
        adam_->begin_step();
        const auto w1 = adam_->row_update(0), b1 = adam_->row_update(1);
        const auto w2 = adam_->row_update(2), b2 = adam_->row_update(3);

        // 3. Decoder + loss gradient + decoder backward, fused, output unit by output unit. The
        //    masked MSE's gradient at entry p of row r is scale[r] * (pred - target): the loss
        //    gives the scales, the lambda applies them as each prediction is made.
        const std::size_t rows = target.rows(), nnz = target.nnz();
        const std::size_t* row_ptr = target.row_ptr().data();
        const T* t = target.values().data();
        pred_.resize(nnz);
        scale_.resize(rows);
        loss_.gradient_scales(row_ptr, rows, scale_.data());
        const cfnet::Matrix<T>& dh = decoder_.forward_backward_at(
            h, target, [&](std::size_t r, std::size_t p, T pred) { return scale_[r] * (pred - t[p]); },
            pred_.data(), &w2, &b2);

        // 4. Encoder backward (through the activation), updating W1 and b1 in place. There is no
        //    input gradient: the input is data.
        encoder_.backward(dh, &w1, &b1);

        // 5. The loss value, from the predictions the decoder wrote.
        return loss_.sparse_value(row_ptr, rows, pred_.data(), t);
    }

    // TRAINING: shuffle the items each epoch, build the batches (dropping inputs), call step();
    // FitLoop does the rest (callbacks, the epoch's mean loss, the NaN/Inf stop, the History).
    cfnet::History fit(const cfnet::RatingMatrix<T>& train, const std::vector<cfnet::Callback*>& callbacks = {}) {
        const cfnet::RatingMatrix<T> items = train.transposed();  // row i = item i's ratings by user
        const std::size_t n = items.n_users(), bs = opt_.batch_size, steps = (n + bs - 1) / bs;
        cfnet::Rng shuffle(opt_.shuffle_seed), noise(opt_.dropout_seed);
        cfnet::nn::SparseDropout<T> dropout(opt_.input_dropout);  // drops stored entries, rescales the rest
        cfnet::nn::SparseBatch<T> input(items.n_items()), target(items.n_items());

        cfnet::FitLoop loop("DenoisingItemAutoencoder", callbacks, std::nullopt);
        return loop.run(opt_.epochs, steps, [&](int /*epoch*/) {
            const auto order = shuffle.permutation<cfnet::index_type>(n);
            for (std::size_t s = 0; s < steps; ++s) {
                const std::size_t b0 = s * bs, b1 = std::min(n, b0 + bs);
                input.clear();
                target.clear();
                for (std::size_t k = b0; k < b1; ++k) {
                    const auto users = items.user_items(order[k]);
                    const auto ratings = items.user_ratings(order[k]);
                    target.add_row(users, ratings);
                    dropout.add_row(input, users, ratings, noise);  // what is dropped, the net must predict
                }
                loop.batch_end(s + 1, step(input, target), static_cast<double>(b1 - b0));
            }
        });
    }

    // PREDICTION, leak-free: the input is `train` (never the held-out ratings). Returns the
    // prediction for every (user, item) pair stored in `pairs`, in its CSR order.
    std::vector<T> predict(const cfnet::RatingMatrix<T>& train, const cfnet::RatingMatrix<T>& pairs) const {
        const cfnet::RatingMatrix<T> items = train.transposed();
        cfnet::nn::SparseBatch<T> all(items.n_items());
        for (std::size_t i = 0; i < items.n_users(); ++i) {
            const auto item = static_cast<cfnet::index_type>(i);
            all.add_row(items.user_items(item), items.user_ratings(item));
        }
        typename cfnet::nn::SparseInputDense<T>::Columns scratch;
        cfnet::Matrix<T> codes;  // items x hidden: every item's code, once (no dropout at inference)
        encoder_.infer(all, scratch, codes);
        std::vector<T> out;
        out.reserve(pairs.nnz());
        for (std::size_t u = 0; u < pairs.n_users(); ++u)
            for (const auto i : pairs.user_items(static_cast<cfnet::index_type>(u)))
                out.push_back(decoder_.infer_one(codes.data() + i * opt_.hidden, u));
        return out;
    }

private:
    Options opt_;
    cfnet::nn::SparseInputDense<T> encoder_;
    cfnet::nn::SparseOutputDense<T> decoder_;
    std::optional<cfnet::optim::Adam<T>> adam_;
    cfnet::nn::MaskedMSE<T> loss_;  // per-sample normalisation (the notebook's)
    std::vector<T> pred_, scale_;   // the step's predictions and loss-gradient scales (reused)
};

}  // namespace custom
