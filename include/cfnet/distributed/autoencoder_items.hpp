#pragma once
/// @file distributed/autoencoder_items.hpp
/// Item-partitioned training of AutoencoderCF (docs/distributed.md, section 3): rank r of N holds
/// the ratings of ALL users on its block of item columns (block_of(n_items, comm), `shard_items`),
/// and only its slice of the two big layers -- the first layer's rows of its items (I_r x h1, a
/// nn::SparseInputDense), the last layer's rows of its items (I_r x hL, + their biases, a
/// nn::SparseOutputDense) -- with their Adam moments; the middle layers (nn::Dense) are replicated.
/// Every rank runs the same global batch (the single-process shuffle). One step:
///
///   1. z1 = X_b[:, I_r] W1[I_r, :] (+ the first layer's bias, held by rank 0): ALLREDUCE b x h1;
///      the hidden activation, hidden dropout and the middle layers run replicated (same input,
///      same masks: row-keyed from the step's own seed, so they do not depend on N either);
///   2. the outputs of this rank's items at the batch's observed entries, the masked loss's
///      gradient (its normaliser from the users' rating counts over all items, agreed on once) and
///      the last layer's backward pass (its rows updated in place); ALLREDUCE the partial gradient
///      w.r.t. the code (b x hL) and the loss (1 double);
///   3. backward through the replicated middle layers (the same update on every rank) and the
///      first layer's rows of this rank's items.
///
/// With MiddleLayers::split_rows the middle layers run on this rank's block of the batch's rows
/// instead: the two allreduces become reduce-scatters (by rows) followed by allgathers, and the
/// middle layers' gradients are allreduced before their Adam step (see the enum).
///
/// Per step: 4 b (h1 + hL) + 8 bytes, independent of the number of items; the two big layers'
/// values, gradients and moments per rank fall as 1/N. After training the slices are gathered
/// (chunked allgatherv) into a normal AutoencoderCF on rank 0 (or every rank): the single-process
/// file format. The same seed gives the same model on 1, 2 or N ranks up to the summation order of
/// the two allreduces, and the one-rank run is AutoencoderCF::fit's computation (dense or lazy
/// Adam, the same initial weights: drawn in the same order from the same stream).
///
/// @code
///   cfnet::distributed::MpiCommunicator comm;
///   auto shard = cfnet::distributed::shard_items(train, comm);     // every user, this rank's items
///   cfnet::AutoencoderCF<> model(options);
///   auto history = cfnet::distributed::fit_item_partitioned(model, shard, comm);
///   if (comm.rank() == 0) model.save("ae.cfnet");                 // the single-process file format
/// @endcode
///
/// Supported: user_based, solver adam (lazy_adam too: every item row lives on one rank), input and
/// hidden dropout (keyed masks: an input entry's draw is a function of the step, the row's batch
/// position and the global item, a hidden unit's of the step, the layer, the row and the unit, so
/// the masks do not depend on N; they are not AutoencoderCF::fit's masks, which come from one
/// stream), validation ("val_rmse", "val_mae": each rank scores its items' validation pairs from
/// the shared code) and early stopping. Refused: unseen_fallback, residual, clamp_to_training,
/// selection.

#include <cfnet/autoencoder.hpp>
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/error.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/sparse_output_dense.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet::distributed {

/// The entries of `all` in this rank's block of item columns (block_of(all.n_items(), comm)), in
/// all's index space (the other columns empty).
template <class T>
RatingMatrix<T> shard_items(const RatingMatrix<T>& all, const Communicator& comm) {
    const Block b = block_of(all.n_items(), comm);
    const auto& items = all.item_indices();
    return all.filter([&](std::size_t k) { return b.contains(items[k]); });
}

/// Where the middle layers (between the two partitioned ones) run in fit_item_partitioned.
enum class MiddleLayers {
    /// Every rank runs them on the whole batch (the same input, the same update): per step 2
    /// allreduces of b x 512 floats. Their compute does not shrink with N.
    replicated,
    /// Each rank runs them on its block of the batch's rows (block_of(b, rank, N)): the first
    /// layer's sum is reduce-scattered by rows, the code allgathered; backwards the code's gradient
    /// is reduce-scattered, the first layer's allgathered, and the middle layers' gradients (their
    /// parameters: 296,000 for 512-256-64-256-512) allreduced before one Adam step. Their compute
    /// falls as 1/N for 4 P_mid bytes more per step (docs/distributed.md, section 5).
    split_rows,
};

/// Who ends up with the trained AutoencoderCF after fit_item_partitioned.
enum class ItemGather {
    root,        ///< rank 0 (the other ranks' models stay untrained)
    every_rank,  ///< every rank (each then holds the whole model, as after fit_data_parallel)
    none,        ///< nobody: the slices are dropped (measurements of the training alone)
};

/// What an item-partitioned fit did on this rank.
struct ItemPartitionedReport {
    std::size_t steps = 0;
    Block items;                   ///< this rank's item columns
    double compute_seconds = 0.0;  ///< forward, backward, updates (training steps only)
    double comm_seconds = 0.0;     ///< in the per-step collectives (waiting for the slowest rank included)
    double gather_seconds = 0.0;   ///< gathering the slices into the model
    /// Of compute_seconds: the middle part (the hidden activation, dropout, the middle layers'
    /// forward and backward passes; with MiddleLayers::replicated their updates too): on the whole
    /// batch, the same on every rank whatever N (replicated), or on this rank's rows (split_rows).
    double replicated_seconds = 0.0;
    std::vector<double> step_compute_seconds, step_comm_seconds;  ///< per step (medians for measurements)
    /// Elements held for the two big layers' slices on this rank: values, gradients and both Adam
    /// moments of the first layer's weight rows and the last layer's weight rows and biases.
    std::size_t partitioned_elements = 0;
    /// The same for the replicated parameters (middle layers, the first layer's bias).
    std::size_t replicated_elements = 0;
    /// Payload sent by this rank over the training steps, by formula (s = sizeof(T), 4 for float):
    /// replicated s b (h1 + hL) + 8 per step (b: the step's rows); split_rows s (b + b_r) (h1 + hL)
    /// + s P_mid + 8 (b_r: this rank's rows of the batch, P_mid: the middle layers' parameters).
    std::uint64_t formula_bytes = 0;
    CommStats comm;                   ///< counted during the training steps only (validation apart)
    CommStats validation_comm;        ///< counted while computing the validation metrics
};

namespace detail {

/// Rows [0, b.size()) of `mine` (width w, this rank's block b of n rows) gathered in row order into
/// out (n x w) on every rank (`every_rank`: allgatherv) or on rank 0 only (gatherv; out is ignored
/// elsewhere), in rounds of at most `chunk` rows per rank so that no rank needs a buffer of the
/// whole matrix. Collective.
template <class T>
void gather_rows(Communicator& comm, const T* mine, const Block& b, std::size_t n, std::size_t w, T* out,
                 bool every_rank, std::size_t chunk = 4096) {
    const std::size_t most = block_of(n, 0, comm.size()).size();
    std::vector<T> part;
    std::vector<std::size_t> counts;
    for (std::size_t r0 = 0; r0 < most; r0 += chunk) {
        const std::size_t a = std::min(r0, b.size()), e = std::min(r0 + chunk, b.size());
        part.assign(mine + a * w, mine + e * w);
        const std::vector<T> all = every_rank ? comm.allgatherv(part, &counts) : comm.gatherv(part, 0, &counts);
        if (!every_rank && comm.rank() != 0) continue;
        std::size_t off = 0;
        for (int q = 0; q < comm.size(); ++q) {
            const std::size_t first = block_of(n, q, comm.size()).begin + r0;
            std::copy(all.begin() + static_cast<std::ptrdiff_t>(off),
                      all.begin() + static_cast<std::ptrdiff_t>(off + counts[static_cast<std::size_t>(q)]),
                      out + first * w);
            off += counts[static_cast<std::size_t>(q)];
        }
    }
}

/// One rank's part of the network: the slices of the first and last layers, the replicated
/// middle layers, in AutoencoderNet's parameter slot order (layer<l>.weight, layer<l>.bias).
template <class T>
struct ItemSliceNet {
    nn::SparseInputDense<T> in;   // I_r x h1, identity (the activation follows the allreduce)
    std::vector<nn::Dense<T>> mid;
    nn::SparseOutputDense<T> out;  // I_r x hL (out x in), its items' biases
    std::vector<nn::Dropout<T>> drop;

    /// The weights AutoencoderNet draws from `rng` for n_items units, this rank's rows of them:
    /// the same stream, drawn in the same order (in chunks, never the whole layer at once).
    ItemSliceNet(std::size_t n_items, const Block& b, const AutoencoderOptions& o, Rng& rng) {
        const auto glorot = nn::init::glorot_uniform();
        const std::size_t h1 = o.hidden.front(), hl = o.hidden.back(), k = o.hidden.size();
        Rng none(0);
        in = nn::SparseInputDense<T>(b.size(), h1, none, nn::init::zeros(), ActivationKind::identity);
        {
            const std::size_t rows = std::max<std::size_t>(1, (std::size_t(1) << 20) / h1);
            Matrix<T> chunk;
            T* w = in.weight().value.data();
            for (std::size_t r0 = 0; r0 < n_items; r0 += rows) {
                const std::size_t r1 = std::min(n_items, r0 + rows);
                chunk.resize({r1 - r0, h1});
                glorot(chunk, n_items, h1, rng);
                for (std::size_t i = std::max(r0, b.begin); i < std::min(r1, b.end); ++i)
                    std::copy(chunk.data() + (i - r0) * h1, chunk.data() + (i - r0 + 1) * h1, w + (i - b.begin) * h1);
            }
        }
        mid.reserve(k - 1);
        for (std::size_t l = 0; l + 1 < k; ++l)
            mid.emplace_back(o.hidden[l], o.hidden[l + 1], rng, glorot, true, nn::WeightLayout::in_out,
                             o.hidden_activation);
        out = nn::SparseOutputDense<T>(hl, b.size(), none, nn::init::zeros(), o.output_activation);
        // drawn in x out (hL x I), stored out x in: 64 rows of the draw at a time, transposed
        const std::size_t band = std::min<std::size_t>(64, hl);
        Matrix<T> rows = Matrix<T>::from_shape({band, n_items});
        T* w = out.weight().value.data();
        for (std::size_t i0 = 0; i0 < hl; i0 += band) {
            const std::size_t m = std::min(band, hl - i0);
            if (m != rows.shape(0)) rows.resize({m, n_items});
            glorot(rows, hl, n_items, rng);
            const T* src = rows.data();
            for (std::size_t j = b.begin; j < b.end; ++j)
                for (std::size_t i = 0; i < m; ++i) w[(j - b.begin) * hl + i0 + i] = src[i * n_items + j];
        }
    }

    nn::ParameterList<T> parameters() {
        nn::ParameterList<T> ps = in.parameters();
        for (auto& d : mid)
            for (auto* p : d.parameters()) ps.push_back(p);
        for (auto* p : out.parameters()) ps.push_back(p);
        return ps;
    }
};

}  // namespace detail

/// Trains `model` from scratch (fresh weights from its seed) with its first and last layers
/// partitioned by item over the ranks; collective: every rank calls it with its item shard
/// (shard_items: every user's ratings on this rank's block of items, in the global index space).
/// After it, `gather` says which ranks hold the trained model. `callbacks` run on every rank with
/// the global losses (give a ProgressBar on rank 0 only). `validation` (this rank's item shard of
/// a validation matrix in the same index space, or null) gives "val_rmse" / "val_mae" over all
/// ranks' validation pairs each epoch (predicted from the training rows, as AutoencoderCF::fit
/// does), and early stopping when configured.
/// @throws InvalidArgument for an unsupported option (see the file comment), fewer items than
///         ranks, a rank without ratings, or an entry (training or validation) outside this rank's
///         item block;
///         NumericalError when the (global) loss becomes NaN or infinite.
template <class T>
History fit_item_partitioned(AutoencoderCF<T>& model, const RatingMatrix<T>& shard, Communicator& comm,
                             const std::vector<Callback*>& callbacks = {},
                             const std::common_type_t<RatingMatrix<T>>* validation = nullptr,
                             ItemPartitionedReport* report = nullptr, ItemGather gather = ItemGather::root,
                             MiddleLayers middle = MiddleLayers::replicated) {
    using clock = std::chrono::steady_clock;
    const AutoencoderOptions& opt = model.options();
    const char* fn = "distributed::fit_item_partitioned(AutoencoderCF)";
    check_arg(opt.orientation == Orientation::user_based, fn, ": item_based is not supported (the units partitioned are items)");
    check_arg(opt.solver == Solver::adam, fn, ": only solver adam is supported");
    check_arg(!opt.unseen_fallback, fn, ": unseen_fallback is not supported (its baseline needs whole rows)");
    check_arg(!opt.residual, fn, ": residual is not supported (its baseline needs whole rows)");
    check_arg(!opt.clamp_to_training, fn, ": clamp_to_training is not supported; set clamp_min/max");
    check_arg(!opt.selection, fn, ": selection is not supported (choose the options in one process, then train)");
    check_arg(!opt.early_stopping || validation != nullptr, fn, ": early stopping needs validation data");
    if (validation)
        check_arg(shard.same_space(*validation), fn, ": the validation shard is not in the training shard's index space");
    check_arg(!opt.hidden.empty(), fn, ": the network needs a hidden layer");
    const std::size_t n_rows = shard.n_users(), n_items = shard.n_items();
    check_arg(n_items >= static_cast<std::size_t>(comm.size()), fn, ": ", n_items, " items for ", comm.size(),
              " ranks (expected at least one item per rank)");
    const Block b = block_of(n_items, comm);

    // Errors found on one rank are raised on every rank (none is left waiting in a collective).
    std::int64_t misplaced = 0;
    for (const auto i : shard.item_indices()) misplaced += !b.contains(i);
    if (validation)
        for (const auto i : validation->item_indices()) misplaced += !b.contains(i);
    const auto bad = comm.allgather(misplaced);
    const auto sizes = comm.allgather(static_cast<std::int64_t>(shard.nnz()));
    for (std::size_t r = 0; r < bad.size(); ++r) {
        check_arg(bad[r] == 0, fn, ": rank ", r, " has ", bad[r], " ratings (training or validation) outside its item "
                  "block (use shard_items)");
        check_arg(sizes[r] > 0, fn, ": rank ", r, " of ", sizes.size(), " has no ratings (its items are unrated)");
    }

    // The statistics of all shards: every user's rating count over all items (the loss's
    // normaliser), which items have ratings, the mean rating.
    std::vector<std::int64_t> row_count(n_rows);
    for (std::size_t u = 0; u < n_rows; ++u) row_count[u] = static_cast<std::int64_t>(shard.user_count(static_cast<index_type>(u)));
    comm.allreduce_sum(row_count);
    std::vector<std::uint8_t> my_seen(b.size());
    for (std::size_t i = b.begin; i < b.end; ++i) my_seen[i - b.begin] = shard.item_count(static_cast<index_type>(i)) > 0;
    std::vector<std::uint8_t> seen = comm.allgatherv(my_seen);
    double sum[2] = {0.0, static_cast<double>(shard.nnz())};
    for (const auto v : shard.values()) sum[0] += static_cast<double>(v);
    comm.allreduce_sum(sum, 2);

    Rng init_rng(cfnet::detail::ae_seed(opt.seed, cfnet::detail::ae_stream_init));
    detail::ItemSliceNet<T> net(n_items, b, opt, init_rng);
    const auto params = net.parameters();
    optim::AdamOptions ao;
    ao.lr(opt.learning_rate).weight_decay(opt.weight_decay).decoupled_weight_decay(opt.decoupled_weight_decay);
    optim::Adam<T> adam(params, ao);
    const std::size_t k = opt.hidden.size(), h1 = opt.hidden.front(), hl = opt.hidden.back();
    const bool root = comm.rank() == 0, drop = opt.hidden_dropout > 0;
    if (drop) net.drop.assign(k, nn::Dropout<T>(opt.hidden_dropout));

    ItemPartitionedReport rep;
    rep.items = b;
    for (std::size_t s = 0; s < params.size(); ++s) {
        const bool partitioned = s == 0 || s + 2 >= params.size();
        (partitioned ? rep.partitioned_elements : rep.replicated_elements) += 4 * params[s]->size();
    }

    // Validation over all ranks: the codes of the validation users (the same on every rank: their
    // training rows through the first layer's slices, one allreduce per chunk of 256 users, the
    // middle layers), then each rank's outputs at its own validation pairs; 3 doubles summed.
    std::vector<index_type> val_users;
    if (validation) {
        std::vector<std::int64_t> vc(n_rows);
        for (std::size_t u = 0; u < n_rows; ++u) vc[u] = static_cast<std::int64_t>(validation->user_count(static_cast<index_type>(u)));
        comm.allreduce_sum(vc);
        for (std::size_t u = 0; u < n_rows; ++u)
            if (vc[u] > 0) val_users.push_back(static_cast<index_type>(u));
    }
    std::vector<Matrix<T>> best;
    FitHooks hooks;
    if (validation)
        hooks.validate = [&](EpochRecord& rec) {
            const CommStats v0 = comm.stats();
            nn::SparseBatch<T> vb(b.size());
            typename nn::SparseInputDense<T>::Columns scratch;
            Matrix<T> y, y2;
            std::vector<index_type> loc;
            double acc[3] = {0.0, 0.0, 0.0};
            for (std::size_t c0 = 0; c0 < val_users.size(); c0 += 256) {
                const std::size_t c1 = std::min(val_users.size(), c0 + 256);
                vb.clear();
                for (std::size_t r = c0; r < c1; ++r) {
                    const auto items = shard.user_items(val_users[r]);
                    loc.resize(items.size());
                    for (std::size_t q = 0; q < items.size(); ++q) loc[q] = static_cast<index_type>(items[q] - b.begin);
                    vb.add_row(loc.data(), shard.user_ratings(val_users[r]).data(), loc.size());
                }
                net.in.infer(vb, scratch, y);
                comm.allreduce_sum(y.data(), y.size());
                nn::apply_activation(opt.hidden_activation, y.data(), y.size());
                for (std::size_t l = 1; l < k; ++l) {
                    net.mid[l - 1].infer(y, y2);
                    std::swap(y, y2);
                }
                for (std::size_t r = c0; r < c1; ++r) {
                    const auto items = validation->user_items(val_users[r]);
                    const auto truth = validation->user_ratings(val_users[r]);
                    for (std::size_t q = 0; q < items.size(); ++q) {
                        T v = net.out.infer_one(y.data() + (r - c0) * hl, items[q] - b.begin);
                        if (opt.clamp_min)
                            v = std::min(std::max(v, static_cast<T>(*opt.clamp_min)), static_cast<T>(*opt.clamp_max));
                        const double e = static_cast<double>(v) - static_cast<double>(truth[q]);
                        acc[0] += e * e;
                        acc[1] += std::abs(e);
                        acc[2] += 1.0;
                    }
                }
            }
            comm.allreduce_sum(acc, 3);
            if (acc[2] > 0) {
                rec.metrics["val_rmse"] = std::sqrt(acc[0] / acc[2]);
                rec.metrics["val_mae"] = acc[1] / acc[2];
            }
            rep.validation_comm += comm.stats() - v0;
        };
    hooks.snapshot = [&] { nn::save_values(params, best); };
    hooks.restore = [&] { nn::load_values(best, params); };
    FitLoop loop("AutoencoderCF", callbacks, opt.early_stopping, std::move(hooks));
    const std::size_t bs = opt.batch_size, steps = (n_rows + bs - 1) / bs;
    Rng shuffle_rng(cfnet::detail::ae_seed(opt.seed, cfnet::detail::ae_stream_shuffle));
    const std::uint64_t drop_seed = cfnet::detail::ae_seed(opt.seed, cfnet::detail::ae_stream_dropout);
    const nn::MaskedMSE<T> loss(opt.loss_normalization);
    nn::SparseBatch<T> batch(b.size()), input(b.size());  // the targets; the input after input dropout
    const bool in_drop = opt.input_dropout > 0;
    nn::SparseDropout<T> input_dropout(opt.input_dropout);
    std::vector<index_type> local;
    std::vector<std::size_t> gptr;
    std::vector<T> scale, pred;
    Matrix<T> a1, dcode, dz1, z1, code_all, dcode_mine, dz1_all;
    std::uint64_t global_step = 0;
    const bool split = middle == MiddleLayers::split_rows;
    std::vector<std::size_t> count_h1(static_cast<std::size_t>(comm.size())), count_hl(count_h1.size());
    // split_rows: the middle layers' parameters (slots 2 .. 2k-1), their gradients summed in one buffer
    const nn::ParameterList<T> mid_params(params.begin() + 2, params.begin() + static_cast<std::ptrdiff_t>(2 * k));
    std::vector<T> mid_grad(split ? nn::parameter_count(mid_params) : 0);
    const CommStats before = comm.stats();

    auto history = loop.run(opt.epochs, steps, [&](int /*epoch*/) {
        const auto order = shuffle_rng.permutation<index_type>(n_rows);
        for (std::size_t s = 0; s < steps; ++s, ++global_step) {
            const auto t0 = clock::now();
            const std::size_t b0 = s * bs, b1 = std::min(n_rows, b0 + bs), n = b1 - b0;
            batch.clear();
            input.clear();
            gptr.assign(1, 0);
            const std::uint64_t step_key = cfnet::detail::ae_seed(drop_seed, global_step);
            const std::uint64_t input_key = cfnet::detail::ae_seed(step_key, k);  // hidden layers: keys 0 .. k-1
            for (std::size_t r = b0; r < b1; ++r) {
                const auto items = shard.user_items(order[r]);
                local.resize(items.size());
                for (std::size_t q = 0; q < items.size(); ++q) local[q] = static_cast<index_type>(items[q] - b.begin);
                batch.add_row(local.data(), shard.user_ratings(order[r]).data(), local.size());
                if (in_drop)  // keyed by the row's batch position and the global item: the same on any N
                    input_dropout.add_row_keyed(input, local, shard.user_ratings(order[r]), derive_seed(input_key, r - b0),
                                                b.begin);
                gptr.push_back(gptr.back() + static_cast<std::size_t>(row_count[order[r]]));
            }
            scale.resize(n);
            loss.gradient_scales(gptr.data(), n, scale.data());  // the global normaliser, per row

            // this rank's rows of the batch for the middle layers: a block of them (split_rows) or all
            const Block mine = split ? block_of(n, comm) : Block{0, n};
            const std::size_t m = mine.size();
            if (split)
                for (std::size_t q = 0; q < count_h1.size(); ++q) {
                    const std::size_t rows = block_of(n, static_cast<int>(q), comm.size()).size();
                    count_h1[q] = rows * h1;
                    count_hl[q] = rows * hl;
                }

            // 1. the first layer's partial pre-activation, summed over the ranks (this rank's rows of it)
            a1 = net.in.forward(in_drop ? input : batch);  // + the bias: rank 0's (the others' stays 0)
            const auto t1 = clock::now();
            if (split) {
                ensure_shape(z1, m, h1);
                comm.reduce_scatter_sum(a1.data(), z1.data(), count_h1);
            } else {
                comm.allreduce_sum(a1.data(), a1.size());
            }
            const auto t2 = clock::now();
            Matrix<T>& z = split ? z1 : a1;
            nn::apply_activation(opt.hidden_activation, z.data(), z.size());
            auto dropout = [&](std::size_t l, const Matrix<T>& x) -> const Matrix<T>& {
                return net.drop[l].forward_keyed(x, cfnet::detail::ae_seed(step_key, l), mine.begin);
            };
            const Matrix<T>* h = &z;
            if (m > 0) {
                if (drop) h = &dropout(0, z);
                for (std::size_t l = 1; l < k; ++l) {
                    h = &net.mid[l - 1].forward(*h);
                    if (drop) h = &dropout(l, *h);
                }
            }
            const auto r1 = clock::now();
            const Matrix<T>* code = h;
            if (split) {
                ensure_shape(code_all, n, hl);
                comm.allgatherv(m > 0 ? h->data() : nullptr, code_all.data(), count_hl);
                code = &code_all;
            }
            const auto t3 = clock::now();

            // 2. this rank's outputs, the loss's gradient, the last layer's backward pass and update
            adam.begin_step();
            auto update = [&](std::size_t slot) { return adam.row_update(slot, opt.lazy_adam); };
            const nn::RowUpdate<T> uw_out = update(2 * k), ub_out = update(2 * k + 1);
            pred.resize(batch.nnz());
            const T* tv = batch.values().data();
            const T* sc = scale.data();
            dcode = net.out.forward_backward_at(
                *code, batch, [&](std::size_t r, std::size_t pos, T p) { return sc[r] * (p - tv[pos]); }, pred.data(),
                &uw_out, &ub_out);
            double part = 0.0;
            const auto& rp = batch.row_ptr();
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t q = rp[r]; q < rp[r + 1]; ++q) {
                    const double e = static_cast<double>(pred[q]) - static_cast<double>(tv[q]);
                    part += 0.5 * static_cast<double>(sc[r]) * e * e;
                }
            const auto t4 = clock::now();
            if (split) {
                ensure_shape(dcode_mine, m, hl);
                comm.reduce_scatter_sum(dcode.data(), dcode_mine.data(), count_hl);
            } else {
                comm.allreduce_sum(dcode.data(), dcode.size());
            }
            comm.allreduce_sum(&part, 1);
            const auto t5 = clock::now();
            loop.check_loss(s + 1, part);

            // 3. backward through the middle layers (replicated: updated in the pass; split_rows: their
            //    gradients over this rank's rows, summed over the ranks, then one Adam step), then this
            //    rank's first-layer rows
            const Matrix<T>* g = split ? &dcode_mine : &dcode;
            ensure_shape(dz1, m, h1);
            if (split) nn::zero_grad(mid_params);
            if (m > 0) {
                for (std::size_t l = k; l-- > 1;) {
                    if (drop) g = &net.drop[l].backward(*g);
                    if (split) {
                        g = &net.mid[l - 1].backward(*g);
                    } else {
                        const nn::RowUpdate<T> uw = update(2 * l), ub = update(2 * l + 1);
                        g = &net.mid[l - 1].backward(*g, &uw, &ub);
                    }
                }
                if (drop) g = &net.drop[0].backward(*g);
                nn::activation_backward(opt.hidden_activation, z.data(), g->data(), dz1.data(), dz1.size());
            }
            const auto r3 = clock::now();
            rep.replicated_seconds += std::chrono::duration<double>((r1 - t2) + (r3 - t5)).count();
            clock::duration split_comm{};
            if (split) {
                nn::copy_grads_to(mid_params, mid_grad.data(), 1.0);
                ensure_shape(dz1_all, n, h1);
                const auto c0 = clock::now();
                comm.allreduce_sum(mid_grad);
                comm.allgatherv(dz1.data(), dz1_all.data(), count_h1);
                split_comm = clock::now() - c0;
                nn::copy_grads_from(mid_grad.data(), T(1), mid_params);
                for (std::size_t slot = 2; slot < 2 * k; ++slot) adam.update(slot);
            }
            const nn::RowUpdate<T> uw_in = update(0), ub_in = update(1);
            net.in.backward(split ? dz1_all : dz1, &uw_in, root ? &ub_in : nullptr);  // the first layer's bias lives on rank 0
            if (!root) net.in.bias().zero_grad();
            const auto t6 = clock::now();
            const double comm_s = std::chrono::duration<double>((t2 - t1) + (t3 - r1) + (t5 - t4) + split_comm).count();
            rep.step_comm_seconds.push_back(comm_s);
            rep.step_compute_seconds.push_back(std::chrono::duration<double>(t6 - t0).count() - comm_s);
            rep.compute_seconds += rep.step_compute_seconds.back();
            rep.comm_seconds += rep.step_comm_seconds.back();
            rep.formula_bytes += sizeof(T) * (split ? (n + m) * (h1 + hl) + mid_grad.size() : n * (h1 + hl)) + 8;
            ++rep.steps;
            loop.batch_end(s + 1, part, static_cast<double>(n));
        }
    });
    rep.comm = comm.stats() - before - rep.validation_comm;

    // The slices into one AutoencoderCF (the single-process file format).
    const auto tg = clock::now();
    if (gather != ItemGather::none) {
        const bool holder = gather == ItemGather::every_rank || root;
        nn::ParameterList<T> full;
        if (holder) {
            model.initialize(shard);
            model.set_training_statistics(std::move(seen), sum[1] > 0 ? sum[0] / sum[1] : 0.0);
            full = model.parameters();
        }
        const bool all = gather == ItemGather::every_rank;
        detail::gather_rows(comm, net.in.weight().value.data(), b, n_items, h1, holder ? full[0]->value.data() : nullptr,
                            all);
        detail::gather_rows(comm, net.out.weight().value.data(), b, n_items, hl,
                            holder ? full[2 * k]->value.data() : nullptr, all);
        detail::gather_rows(comm, net.out.bias().value.data(), b, n_items, 1,
                            holder ? full[2 * k + 1]->value.data() : nullptr, all);
        std::vector<T> bias1(net.in.bias().value.begin(), net.in.bias().value.end());
        if (gather == ItemGather::every_rank) comm.broadcast(bias1.data(), bias1.size(), 0);
        if (holder) {
            model.optimizer().set_steps(adam.steps());  // the file records Adam's step count (not its moments)
            std::copy(bias1.begin(), bias1.end(), full[1]->value.data());
            for (std::size_t s = 2; s < 2 * k; ++s) std::copy(params[s]->value.begin(), params[s]->value.end(), full[s]->value.data());
        }
    }
    rep.gather_seconds = std::chrono::duration<double>(clock::now() - tg).count();
    if (report) *report = rep;
    return history;
}

}  // namespace cfnet::distributed
