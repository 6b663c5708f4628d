#pragma once
/// @file models/neural_cf/network.hpp
/// NeuralCFNetwork<T>: NeuralCF's network as a composition of toolkit layers (He et al. 2017):
///
///   mlp:   EmbeddingPairDense over (user_mlp[u], item_mlp[i]) -> [Dropout] -> Dense ReLU ... -> output
///   gmf:   Embedding user_gmf[u], item_gmf[i] -> Multiply -> output
///   neumf: Concat [gmf product, mlp tower] -> output
///   output: Dense (width -> 1, identity); with bias terms z += user_bias[u] + item_bias[i]
///          (two Embedding tables of width 1)
///
/// Training runs forward / loss / backward through the layers' contracts (each layer keeps its own
/// buffers); step() applies Adam to every parameter (dense or lazy on the embedding rows of the
/// batch). Scoring uses the layers' inference forms: the first layer's per-user and per-item
/// projections computed once (EmbeddingPairDense::project), then a block of items through the
/// remaining Dense layers (Dense::infer), the last one fused with the output's dot product
/// (Dense::infer_dot). No GEMM or kernel is called here: the layers own them.

#include <cfnet/detail/rng.hpp>
#include <cfnet/error.hpp>
#include <cfnet/models/neural_cf/options.hpp>
#include <cfnet/nn/concat.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/distinct_rows.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/embedding.hpp>
#include <cfnet/nn/embedding_pair_dense.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/multiply.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

template <class T = float>
class NeuralCFNetwork {
public:
    using value_type = T;
    using size_type = std::size_t;
    using index_type = nn::index_type;

    /// Buffers of one scoring thread (score_pairs / score_user are const: one Scratch per caller).
    struct Scratch {
        Matrix<T> a, b;
    };

    /// Rows per block through the scoring network: small enough that a block's activations stay
    /// in L2 between a layer's product and its fused bias/ReLU/dot pass.
    static constexpr size_type chunk_rows = 512;

    NeuralCFNetwork() = default;

    /// Fresh weights for n_users x n_items drawn from o.seed, in this order: user_mlp, item_mlp,
    /// user_gmf, item_gmf (U(-0.05, 0.05)), bias tables (zeros), the hidden layers, the output.
    NeuralCFNetwork(const NeuralCFOptions& o, size_type n_users, size_type n_items)
        : opt_(o), nu_(n_users), ni_(n_items) {
        const size_type d = opt_.embedding_dim;
        Rng rng(opt_.seed);
        const auto emb = nn::init::uniform(-0.05, 0.05);
        if (has_mlp()) {
            user_mlp_.emplace(nu_, d, rng, emb);
            item_mlp_.emplace(ni_, d, rng, emb);
        }
        if (has_gmf()) {
            user_gmf_.emplace(nu_, d, rng, emb);
            item_gmf_.emplace(ni_, d, rng, emb);
        }
        if (opt_.bias_terms) {
            user_bias_.emplace(nu_, 1, rng, nn::init::zeros());
            item_bias_.emplace(ni_, 1, rng, nn::init::zeros());
        }
        if (has_mlp()) build_tower(rng);
        out_.emplace(out_width(), 1, rng, dense_initializer(out_width()), true);
        init_bias(out_->bias(), out_width(), rng);
        refresh_projections();
    }

    bool has_mlp() const noexcept { return opt_.architecture != NcfArchitecture::gmf; }
    bool has_gmf() const noexcept { return opt_.architecture != NcfArchitecture::mlp; }
    size_type n_users() const noexcept { return nu_; }
    size_type n_items() const noexcept { return ni_; }
    nn::Dense<T>& output() { return *out_; }

    /// The embedding tables that exist, in parameter order, each with whether it is indexed by users.
    std::vector<std::pair<nn::Embedding<T>*, bool>> tables() {
        std::vector<std::pair<nn::Embedding<T>*, bool>> t;
        for (auto* e : {&user_mlp_, &item_mlp_, &user_gmf_, &item_gmf_, &user_bias_, &item_bias_})
            if (*e) t.emplace_back(&**e, e == &user_mlp_ || e == &user_gmf_ || e == &user_bias_);
        return t;
    }

    /// The item embedding tables that exist: item_mlp (mlp, neumf), then item_gmf (gmf, neumf).
    std::vector<const Matrix<T>*> item_tables() const {
        std::vector<const Matrix<T>*> t;
        for (const auto* e : {&item_mlp_, &item_gmf_})
            if (*e) t.push_back(&(*e)->weight().value);
        return t;
    }

    /// The tables' weights, then the first layer's, each hidden Dense layer's and the output's
    /// (weight, bias each).
    nn::ParameterList<T> parameters() {
        nn::ParameterList<T> out;
        for (auto& t : tables()) out.push_back(&t.first->weight());
        for (auto& l : dense_layers())
            for (auto* p : l.second) out.push_back(p);
        return out;
    }

    /// The parameters under their model-file names: "user_mlp", ..., "dense<l>.weight",
    /// "dense<l>.bias", ..., "output.weight", "output.bias".
    std::vector<nn::TensorRef<T>> named_tensors() {
        static const char* const table_names[] = {"user_mlp", "item_mlp", "user_gmf", "item_gmf", "user_bias", "item_bias"};
        std::vector<nn::TensorRef<T>> out;
        size_type k = 0;
        for (auto* e : {&user_mlp_, &item_mlp_, &user_gmf_, &item_gmf_, &user_bias_, &item_bias_}) {
            if (*e) out.push_back({table_names[k], &(*e)->weight().value});
            ++k;
        }
        for (auto& l : dense_layers())
            for (auto* p : l.second) out.push_back({l.first + "." + p->name, &p->value});
        return out;
    }

    // --- training ---------------------------------------------------------------------------------

    /// The output z (n x 1) for n pairs in train mode (dropout active); every layer caches what
    /// backward needs. Indices are checked by the caller.
    const Matrix<T>& forward(const index_type* users, const index_type* items, size_type n) {
        const Matrix<T>* tower = has_mlp() ? &forward_tower(users, items, n) : nullptr;
        const Matrix<T>* gmf = nullptr;
        if (has_gmf()) gmf = &multiply_.forward(user_gmf_->forward(users, n), item_gmf_->forward(items, n));
        const Matrix<T>* in = !has_gmf() ? tower : !has_mlp() ? gmf : &concat_.forward(*gmf, *tower);
        const Matrix<T>& y = out_->forward(*in);
        ensure_shape(z_, n, 1);
        std::copy(y.begin(), y.end(), z_.begin());
        if (opt_.bias_terms) {
            const Matrix<T>& bu = user_bias_->forward(users, n);
            const Matrix<T>& bi = item_bias_->forward(items, n);
            for (size_type b = 0; b < n; ++b) z_(b, 0) += bu(b, 0) + bi(b, 0);
        }
        return z_;
    }

    /// The data loss of the last forward against targets[0..n) (MSE or BCE on logits); with
    /// `gradient`, also dL/dz for backward.
    double loss(const T* targets, size_type n, bool gradient) {
        ensure_shape(target_, n, 1);
        std::copy(targets, targets + n, target_.data());
        if (opt_.feedback == Feedback::ratings) {
            nn::MeanSquaredError<T> mse;
            return gradient ? mse.value_and_gradient(z_, target_, dz_) : mse.value(z_, target_);
        }
        nn::BinaryCrossEntropyWithLogits<T> bce;
        return gradient ? bce.value_and_gradient(z_, target_, dz_) : bce.value(z_, target_);
    }

    /// l2 * mean over the batch of the squared norms of the looked-up embedding rows (not the bias
    /// tables), plus dense_l2 * the sum of the squares of every Dense kernel.
    double penalty(const index_type* users, const index_type* items, size_type n) {
        double s = 0;
        if (opt_.l2 != 0) {
            for (auto& t : tables())
                if (!is_bias_table(t.first))
                    s = t.first->add_row_sq_norms(t.second ? users : items, n, s);
        }
        const double emb = opt_.l2 == 0 ? 0.0 : opt_.l2 * s / static_cast<double>(n);
        return emb + dense_penalty();
    }

    /// Gradients of loss(.., true) + penalty() for the last forward, ADDED into every Parameter::grad.
    void backward(const index_type* users, const index_type* items, size_type n) {
        const Matrix<T>& din = out_->backward(dz_);
        if (opt_.bias_terms) {
            user_bias_->backward(dz_);
            item_bias_->backward(dz_);
        }
        const Matrix<T>* dgmf = &din;
        const Matrix<T>* dtower = &din;
        if (has_gmf() && has_mlp()) {
            const auto& parts = concat_.backward(din);
            dgmf = &parts[0];
            dtower = &parts[1];
        }
        if (has_gmf()) {
            multiply_.backward(*dgmf);
            user_gmf_->backward(multiply_.da());
            item_gmf_->backward(multiply_.db());
        }
        if (has_mlp()) backward_tower(*dtower);
        add_penalty_gradients(users, items, n);
    }

    /// One Adam step on `params` (== parameters(), bound to `adam` in that order) after backward:
    /// the embedding tables densely, or only the batch's rows when lazy; then the gradients are
    /// zeroed (for the tables, only the rows the batch touched: the others are zero already).
    void step(optim::Adam<T>& adam, const nn::ParameterList<T>& params, const index_type* users,
              const index_type* items, size_type n, bool lazy) {
        user_rows_.assign(users, n, nu_);
        item_rows_.assign(items, n, ni_);
        adam.begin_step();
        size_type slot = 0;
        for (auto& t : tables()) {
            const auto& rows = t.second ? user_rows_.rows() : item_rows_.rows();
            if (lazy) adam.update_row_list(slot, rows);
            else adam.update(slot);
            t.first->zero_grad_rows(rows);
            ++slot;
        }
        for (; slot < params.size(); ++slot) {
            adam.update(slot);
            params[slot]->zero_grad();
        }
    }

    // --- scoring ----------------------------------------------------------------------------------

    /// The first layer's per-user and per-item projections, which scoring reads: call after every
    /// change of the weights.
    void refresh_projections() {
        if (has_mlp()) pair_->project(*user_mlp_, *item_mlp_, user_proj_, item_proj_);
    }

    /// The output for n <= chunk_rows pairs (indices not checked).
    void score_pairs(const index_type* users, const index_type* items, size_type n, T* out, Scratch& s) const {
        const T b = out_->bias().value(0, 0);
        const size_type d = opt_.embedding_dim;
        for (size_type r = 0; r < n; ++r) out[r] = b;
        if (has_mlp()) {
            pair_->infer_projected(user_proj_, users, item_proj_, items, n, s.a);
            tail_dot(s, out);
        }
        if (has_gmf()) {
            const T* w = out_->weight().value.data();
            for (size_type r = 0; r < n; ++r)
                out[r] += nn::Multiply<T>::product_dot(gmf_row(*user_gmf_, users[r]), gmf_row(*item_gmf_, items[r]), w, d);
        }
        if (opt_.bias_terms)
            for (size_type r = 0; r < n; ++r)
                out[r] += user_bias_->weight().value(users[r], 0) + item_bias_->weight().value(items[r], 0);
    }

    /// out[i] for every item of one user: blocks of chunk_rows items through the layers.
    void score_user(index_type user, T* out, Scratch& s) const {
        const T b = out_->bias().value(0, 0);
        const size_type d = opt_.embedding_dim;
        for (size_type i = 0; i < ni_; ++i) out[i] = b;
        if (has_mlp()) {
            for (size_type c0 = 0; c0 < ni_; c0 += chunk_rows) {
                const size_type n = std::min(chunk_rows, ni_ - c0);
                pair_->infer_projected_broadcast(user_proj_, user, item_proj_, c0, n, s.a);
                tail_dot(s, out + c0);
            }
        }
        if (has_gmf()) {
            const T* w = out_->weight().value.data();
            const T* p = gmf_row(*user_gmf_, user);
            for (size_type i = 0; i < ni_; ++i)
                out[i] += nn::Multiply<T>::product_dot(p, gmf_row(*item_gmf_, static_cast<index_type>(i)), w, d);
        }
        if (opt_.bias_terms) {
            const T bu = user_bias_->weight().value(user, 0);
            for (size_type i = 0; i < ni_; ++i) out[i] += bu + item_bias_->weight().value(i, 0);
        }
    }

private:
    size_type out_width() const noexcept {
        return (has_gmf() ? opt_.embedding_dim : 0) + (has_mlp() ? opt_.hidden.back() : 0);
    }
    bool is_bias_table(const nn::Embedding<T>* t) const noexcept {
        return (user_bias_ && t == &*user_bias_) || (item_bias_ && t == &*item_bias_);
    }
    static const T* gmf_row(const nn::Embedding<T>& e, index_type r) { return e.weight().value.data() + r * e.dim(); }

    nn::Initializer dense_initializer(size_type fan_in) const {
        if (opt_.dense_init == DenseInit::glorot_uniform) return nn::init::glorot_uniform();
        const double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
        return nn::init::uniform(-b, b);
    }
    /// fan_in_uniform: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch); glorot_uniform: zeros (Keras).
    void init_bias(nn::Parameter<T>& bias, size_type fan_in, Rng& rng) const {
        if (opt_.dense_init == DenseInit::glorot_uniform) return;
        const double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
        for (auto& v : bias.value) v = static_cast<T>(rng.uniform(-b, b));
    }

    void build_tower(Rng& rng) {
        const size_type d = opt_.embedding_dim;
        pair_.emplace(d, d, opt_.hidden.front(), rng, dense_initializer(2 * d), nn::ActivationKind::relu);
        init_bias(pair_->bias(), 2 * d, rng);
        if (opt_.dropout > 0) dropout_.emplace_back(opt_.dropout, opt_.seed + 1000);
        for (size_type l = 1; l < opt_.hidden.size(); ++l) {
            const size_type in = opt_.hidden[l - 1];
            hidden_.emplace_back(in, opt_.hidden[l], rng, dense_initializer(in), true, nn::WeightLayout::in_out,
                                 nn::ActivationKind::relu);
            init_bias(hidden_.back().bias(), in, rng);
            if (opt_.dropout > 0) dropout_.emplace_back(opt_.dropout, opt_.seed + 1000 + l);
        }
    }

    /// Every dense layer's name in model files and its parameters (weight, bias).
    std::vector<std::pair<std::string, nn::ParameterList<T>>> dense_layers() {
        std::vector<std::pair<std::string, nn::ParameterList<T>>> out;
        if (pair_) out.emplace_back("dense0", pair_->parameters());
        for (size_type l = 0; l < hidden_.size(); ++l) out.emplace_back("dense" + std::to_string(l + 1), hidden_[l].parameters());
        out.emplace_back("output", out_->parameters());
        return out;
    }

    const Matrix<T>& dropout_forward(size_type l, const Matrix<T>& x) {
        if (dropout_.empty()) return x;
        dropout_[l].set_mode(nn::Mode::train);
        return dropout_[l].forward(x);
    }
    const Matrix<T>& forward_tower(const index_type* users, const index_type* items, size_type n) {
        const Matrix<T>* x = &dropout_forward(0, pair_->forward(*user_mlp_, users, *item_mlp_, items, n));
        for (size_type l = 0; l < hidden_.size(); ++l) x = &dropout_forward(l + 1, hidden_[l].forward(*x));
        return *x;
    }
    void backward_tower(const Matrix<T>& dy) {
        const Matrix<T>* g = &dy;
        for (size_type l = hidden_.size(); l-- > 0;) {
            if (!dropout_.empty()) g = &dropout_[l + 1].backward(*g);
            g = &hidden_[l].backward(*g);
        }
        if (!dropout_.empty()) g = &dropout_[0].backward(*g);
        pair_->backward(*g);
    }

    /// Adds x . wm of the MLP tower's last layer to out for the s.a.shape(0) rows whose first-layer
    /// activations are in s.a: the remaining Dense layers (Dense::infer), the last fused with the
    /// output's dot product (Dense::infer_dot); with one hidden layer, the output's slice only.
    void tail_dot(Scratch& s, T* out) const {
        const size_type offset = has_gmf() ? opt_.embedding_dim : 0;
        if (hidden_.empty()) return out_->infer_partial_dot(s.a, offset, out);
        const T* wm = out_->weight().value.data() + offset;
        Matrix<T>* x = &s.a;
        Matrix<T>* y = &s.b;
        for (size_type l = 0; l + 1 < hidden_.size(); ++l) {
            hidden_[l].infer(*x, *y);
            std::swap(x, y);
        }
        hidden_.back().infer_dot(*x, wm, out, *y);
    }

    std::vector<nn::Parameter<T>*> dense_kernels() {
        std::vector<nn::Parameter<T>*> k;
        for (auto& l : dense_layers()) k.push_back(l.second[0]);
        return k;
    }
    double dense_penalty() {
        if (opt_.dense_l2 == 0) return 0.0;
        double s = 0;
        for (auto* p : dense_kernels())
            for (const auto v : p->value) s += static_cast<double>(v) * static_cast<double>(v);
        return opt_.dense_l2 * s;
    }
    void add_penalty_gradients(const index_type* users, const index_type* items, size_type n) {
        if (opt_.dense_l2 > 0) {
            const T scale = static_cast<T>(2.0 * opt_.dense_l2);
            for (auto* p : dense_kernels()) {
                const T* v = p->value.data();
                T* g = p->grad.data();
                for (size_type k = 0, m = p->size(); k < m; ++k) g[k] += scale * v[k];
            }
        }
        if (opt_.l2 > 0) {
            const T scale = static_cast<T>(2.0 * opt_.l2 / static_cast<double>(n));
            for (auto& t : tables())
                if (!is_bias_table(t.first)) t.first->add_row_decay(t.second ? users : items, n, scale);
        }
    }

    NeuralCFOptions opt_;
    size_type nu_ = 0, ni_ = 0;
    std::optional<nn::Embedding<T>> user_mlp_, item_mlp_, user_gmf_, item_gmf_, user_bias_, item_bias_;
    std::optional<nn::EmbeddingPairDense<T>> pair_;  // the MLP tower's first layer
    std::vector<nn::Dense<T>> hidden_;               // its other layers (fused ReLU)
    std::vector<nn::Dropout<T>> dropout_;            // after each tower layer, when dropout > 0
    nn::Multiply<T> multiply_;                       // the GMF product
    nn::Concat<T> concat_;                           // NeuMF: [gmf, tower]
    std::optional<nn::Dense<T>> out_;                // width -> 1

    Matrix<T> z_, dz_, target_;                  // the output with bias terms, its gradient, the targets
    nn::DistinctRows user_rows_, item_rows_;     // the batch's embedding rows, for step()
    Matrix<T> user_proj_, item_proj_;            // scoring: the first layer's projections
};

}  // namespace cfnet
