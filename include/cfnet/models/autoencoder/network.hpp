#pragma once
/// @file models/autoencoder/network.hpp
/// AutoencoderNet<T>: AutoencoderCF's network as a composition of toolkit layers
/// (nn::SparseInputDense -> nn::Dense ... -> nn::SparseOutputDense, nn::Dropout between them), its
/// training step (the layers' fused Adam path, nn/update.hpp) and its inference passes.

#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/models/autoencoder/options.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/sparse_output_dense.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cfnet {

namespace detail {

/// Independent seeds for the model's random streams (cfnet::derive_seed).
inline std::uint64_t ae_seed(std::uint64_t seed, std::uint64_t stream) { return derive_seed(seed, stream); }
/// Stream numbers of ae_seed: weights, shuffling, dropout masks.
inline constexpr std::uint64_t ae_stream_init = 0, ae_stream_shuffle = 1, ae_stream_dropout = 2;

/// The network: a composition of toolkit layers. Weight layer l maps sizes[l] -> sizes[l+1]:
/// layer 0 is an nn::SparseInputDense (the input is a batch of sparse rating rows), the middle
/// layers are nn::Dense with the hidden activation fused, the last an nn::SparseOutputDense
/// evaluated only at the observed entries the masked loss reads; hidden dropout is nn::Dropout on
/// one shared mask stream. Parameters (slots 2l, 2l+1) are "layer<l>.weight" and "layer<l>.bias":
/// layer 0's weight is sizes[0] x sizes[1] (a row per input unit), the last layer's sizes[L] x
/// sizes[L-1] (a row per output unit), the middle weights in x out.
template <class T>
class AutoencoderNet {
public:
    using size_type = std::size_t;

    AutoencoderNet() = default;

    /// Draws every weight with Glorot-uniform in in x out order, layer by layer; biases 0.
    AutoencoderNet(size_type n_units, const std::vector<size_type>& hidden, ActivationKind hidden_act,
                   ActivationKind output_act, Rng& rng)
        : layers_(std::make_unique<Layers>()) {
        sizes_.push_back(n_units);
        sizes_.insert(sizes_.end(), hidden.begin(), hidden.end());
        sizes_.push_back(n_units);
        const auto init = nn::init::glorot_uniform();
        const size_type L = layers();
        layers_->in = nn::SparseInputDense<T>(sizes_[0], sizes_[1], rng, init, hidden_act);
        layers_->mid.reserve(L - 2);
        for (size_type l = 1; l + 1 < L; ++l)
            layers_->mid.emplace_back(sizes_[l], sizes_[l + 1], rng, init, true, nn::WeightLayout::in_out, hidden_act);
        layers_->out = nn::SparseOutputDense<T>(sizes_[L - 1], sizes_[L], rng, init, output_act);
        const auto ps = parameters();
        for (size_type s = 0; s < ps.size(); ++s)
            ps[s]->name = "layer" + std::to_string(s / 2) + (s % 2 ? ".bias" : ".weight");
    }

    AutoencoderNet(const AutoencoderNet& o)
        : sizes_(o.sizes_), layers_(o.layers_ ? std::make_unique<Layers>(*o.layers_) : nullptr) {}
    AutoencoderNet& operator=(const AutoencoderNet& o) {
        if (this != &o) *this = AutoencoderNet(o);
        return *this;
    }
    // Moving keeps the layers' heap storage: the parameters keep their addresses.
    AutoencoderNet(AutoencoderNet&&) noexcept = default;
    AutoencoderNet& operator=(AutoencoderNet&&) noexcept = default;

    size_type layers() const noexcept { return sizes_.empty() ? 0 : sizes_.size() - 1; }
    const std::vector<size_type>& sizes() const noexcept { return sizes_; }
    size_type n_units() const noexcept { return sizes_.empty() ? 0 : sizes_.front(); }
    size_type code_width() const noexcept { return sizes_[sizes_.size() - 2]; }
    ActivationKind hidden_activation() const noexcept { return layers_->in.activation(); }
    ActivationKind output_activation() const noexcept { return layers_->out.activation(); }

    /// Every parameter, slot by slot (layer 0's weight and bias, ..., the last layer's).
    nn::ParameterList<T> parameters() const {
        nn::ParameterList<T> out;
        if (!layers_) return out;
        for (auto* p : layers_->in.parameters()) out.push_back(p);
        for (auto& d : layers_->mid)
            for (auto* p : d.parameters()) out.push_back(p);
        for (auto* p : layers_->out.parameters()) out.push_back(p);
        return out;
    }
    const T* weight(size_type l) const { return parameters()[2 * l]->value.data(); }
    const T* bias(size_type l) const { return parameters()[2 * l + 1]->value.data(); }

    /// Scratch space of an inference pass (forward_hidden), grown on demand and reused.
    struct Workspace {
        typename nn::SparseInputDense<T>::Columns columns;
        std::vector<Matrix<T>> y;  // per hidden layer: its output (y.back(): the code)
    };

    /// The hidden layers' inference pass for the rows of `input` (no dropout; const: concurrent calls
    /// with their own workspaces are safe): after it, ws.y.back() holds the code (rows x code_width()).
    void forward_hidden(const nn::SparseBatch<T>& input, Workspace& ws) const {
        const size_type k = layers() - 1;
        ws.y.resize(k);
        layers_->in.infer(input, ws.columns, ws.y[0]);
        for (size_type l = 1; l < k; ++l) layers_->mid[l - 1].infer(ws.y[l - 1], ws.y[l]);
    }

    /// Output unit j for code row `code` (width code_width()), after the output activation.
    T output_at(const T* code, size_type j) const { return layers_->out.infer_one(code, j); }

    /// All output units for `rows` code rows into out (rows x n_units), after the output activation.
    void output_all(const T* codes, size_type rows, T* out) const { layers_->out.infer_all(codes, rows, out); }

    /// Output unit j for `rows` code rows into out[0..rows), after the output activation.
    void output_unit(const T* codes, size_type rows, size_type j, T* out) const {
        layers_->out.infer_unit(codes, rows, j, out);
    }

    /// One training step on a batch: the loss of the outputs at `target`'s entries against its
    /// values, for the input `input` (the same rows; its entries may be a dropped-out subset of
    /// target's), with hidden dropout drawn from `dropout_rng` when it is not null and
    /// hidden_dropout > 0.
    ///
    /// adam == nullptr: ADDS the gradients into every Parameter::grad (no update).
    /// adam != nullptr: begin_step() and Adam's update of every parameter through the layers' fused
    /// path (nn/update.hpp): each weight row updated as soon as its gradient is known; lazy: the
    /// rows of the sparse layers without entries in the batch are left alone. The parameters' grads
    /// are not used then.
    double step(const nn::SparseBatch<T>& input, const nn::SparseBatch<T>& target, const nn::MaskedMSE<T>& loss,
                optim::Adam<T>* adam, bool lazy, double hidden_dropout, Rng* dropout_rng) {
        Layers& ls = *layers_;
        const size_type n = target.rows(), L = layers(), k = L - 1;
        const bool drop = dropout_rng != nullptr && hidden_dropout > 0;
        if (drop && (ls.drop.size() != k || ls.drop[0].rate() != hidden_dropout)) ls.drop.assign(k, nn::Dropout<T>(hidden_dropout));

        // forward through the hidden layers
        const Matrix<T>* h = &ls.in.forward(input);
        if (drop) h = &ls.drop[0].forward(*h, *dropout_rng);
        for (size_type l = 1; l < k; ++l) {
            h = &ls.mid[l - 1].forward(*h);
            if (drop) h = &ls.drop[l].forward(*h, *dropout_rng);
        }

        // the output layer, the loss's gradient and the output layer's backward pass in one pass over
        // its weight rows (each updated while in cache)
        if (adam) adam->begin_step();
        auto update = [&](size_type slot, nn::RowUpdate<T>& u) -> const nn::RowUpdate<T>* {
            if (!adam) return nullptr;
            u = adam->row_update(slot, lazy);
            return &u;
        };
        nn::RowUpdate<T> uw, ub;
        const size_type nnz = target.nnz();
        if (pred_.size() < nnz) pred_.resize(nnz);
        if (dpred_.size() < nnz) dpred_.resize(nnz);
        if (scale_.size() < n) scale_.resize(n);
        loss.gradient_scales(target.row_ptr().data(), n, scale_.data());
        const T* tv = target.values().data();
        const T* scale = scale_.data();
        const Matrix<T>* g = &ls.out.forward_backward_at(
            *h, target, [&](size_type r, size_type pos, T pred) { return scale[r] * (pred - tv[pos]); }, pred_.data(),
            update(2 * k, uw), update(2 * k + 1, ub));
        // the loss value, from the predictions (its gradient, recomputed into dpred, was used above)
        const double value = loss.sparse_value_and_gradient(target.row_ptr().data(), n, pred_.data(), tv, dpred_.data());

        // backward through the hidden layers
        for (size_type l = k; l-- > 1;) {
            if (drop) g = &ls.drop[l].backward(*g);
            g = &ls.mid[l - 1].backward(*g, update(2 * l, uw), update(2 * l + 1, ub));
        }
        if (drop) g = &ls.drop[0].backward(*g);
        ls.in.backward(*g, update(0, uw), update(1, ub));
        return value;
    }

private:
    struct Layers {
        nn::SparseInputDense<T> in;
        std::vector<nn::Dense<T>> mid;
        nn::SparseOutputDense<T> out;
        std::vector<nn::Dropout<T>> drop;  // one per hidden layer, masks drawn from step's dropout_rng
    };

    std::vector<size_type> sizes_;
    std::unique_ptr<Layers> layers_;
    std::vector<T> pred_, dpred_, scale_;  // the output layer's predictions, the loss gradient, its scales
};

/// Appends row `row` of `m` to `batch` (the row's observed entries, in increasing column order).
template <class T>
void add_matrix_row(nn::SparseBatch<T>& batch, const RatingMatrix<T>& m, index_type row) {
    const auto items = m.user_items(row);
    const auto values = m.user_ratings(row);
    batch.add_row(items.data(), values.data(), items.size());
}

}  // namespace detail

}  // namespace cfnet
