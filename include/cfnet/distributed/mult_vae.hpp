#pragma once
/// @file distributed/mult_vae.hpp
/// Data-parallel training of MultVAE (Mult-VAE and Mult-DAE) over user shards, through the one fit
/// loop (docs/distributed.md, section 3): every rank holds its shard of the users
/// (distributed/shard.hpp); one allreduce of U int64 at the start gives every rank which rows are
/// non-empty anywhere, and with it the single-process list of training rows and the same seeded
/// permutation of them, so the global batches are MultVAE::fit's. Each rank runs the batch rows it
/// owns; one allreduce of every gradient (scaled by the rank's row count) and one of the loss sums
/// (2 doubles: nll and KL summed over the rows) precede the same Adam step on every rank, the
/// gradients divided by the global batch's row count (MultVAE's loss is a mean over the batch's
/// rows). Weight decay and beta annealing as MultVAE::fit does them (coupled L2 2 lam on the
/// weights only, inside Adam; beta by the global update count).
///
/// Randomness per row: the input-dropout mask and the reparametrisation noise of row u at update t
/// (0-based, counted from the fit's start) are drawn from Rng(derive_seed(seed, stream, t,
/// u)) (streams vae_stream_dropout and vae_stream_noise), so they do not depend on which rank holds
/// the row nor on the rank count. MultVAE::fit draws them from one stream per fit instead, so the
/// one-rank data-parallel fit is not MultVAE::fit's model bit for bit: the draws differ, not their
/// distribution. 1, 2 or N ranks give the same model up to the gradients' summation order.
///
/// @code
///   cfnet::distributed::MpiCommunicator comm;
///   auto shard = cfnet::distributed::shard_rows(train, comm);
///   auto val = cfnet::distributed::shard_rows(validation, comm);   // sharded the same way
///   cfnet::MultVAE<> vae(cfnet::MultVAEOptions::vae().n_epochs(50));
///   auto history = cfnet::distributed::fit_data_parallel(vae, shard, comm, {}, &val);
///   if (comm.rank() == 0) vae.save("vae.cfnet");               // the single-process file format
/// @endcode
///
/// Payload per step: P gradient elements (4 P bytes; 8 P with GradientSum::float64) + 16 bytes.
/// Supported: Mult-VAE and Mult-DAE, input dropout, weight decay, any widths, epoch selection on an
/// explicit validation matrix (NDCG@validation_k summed over the ranks' validation users, the best
/// epoch's weights kept, patience). Refused by name: validation_fraction > 0 (the model's own
/// per-user holdout; split the full data once and pass validation shards instead).

#include <cfnet/distributed/autoencoder.hpp>  // DataParallelReport
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/shard.hpp>
#include <cfnet/error.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/train.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cfnet::distributed {

/// How the data-parallel MultVAE fit sums the ranks' gradients: in the model's type T (float32: 4
/// bytes per parameter for MultVAE<float>) or in double (8 bytes). Measured on ML-100K, double gave
/// no smaller rank-count difference (tests/distributed/mpi/test_mult_vae.cpp), so float is the default.
enum class GradientSum { float32, float64 };

namespace detail {

/// One rank's part of a data-parallel MultVAE step: the batch of `rows` (row indices of `data`, in
/// batch order) with each row's dropout mask and noise drawn from its own seeds
/// (derive_seed(seed, stream, update, row)), the
/// step without update and without the weight penalty: the gradients of the mean loss over these
/// rows are ADDED into the network's grads (zero them first). Returns {nll, KL} summed over the
/// rows ({0, 0} and no gradient for no rows).
template <class T>
class VaeRowsStep {
public:
    explicit VaeRowsStep(const MultVAEOptions& opt) : opt_(opt), dropout_(opt.input_dropout) {}

    std::array<double, 2> run(cfnet::detail::MultVAENet<T>& net, const RatingMatrix<T>& data,
                              const std::vector<index_type>& rows, std::size_t update, double beta) {
        if (rows.empty()) return {0.0, 0.0};
        const std::size_t d = net.latent();
        input_.clear(net.n_items());
        target_.clear(net.n_items());
        if (opt_.variational) ensure_shape(eps_, rows.size(), d);
        for (std::size_t q = 0; q < rows.size(); ++q) {
            const index_type u = rows[q];
            const auto items = data.user_items(u);
            const auto vals = data.user_ratings(u);
            target_.add_row(items, vals);
            if (opt_.input_dropout > 0) {
                Rng drop(derive_seed(opt_.seed, cfnet::detail::vae_stream_dropout, update, u));
                cfnet::detail::normalize_row(vals, normalized_);
                dropout_.add_row(input_, items, normalized_, drop);
            } else {
                cfnet::detail::add_normalized_row(input_, items, vals, normalized_);
            }
            if (opt_.variational) {
                Rng noise(derive_seed(opt_.seed, cfnet::detail::vae_stream_noise, update, u));
                T* e = eps_.data() + q * d;
                for (std::size_t j = 0; j < d; ++j) e[j] = static_cast<T>(noise.normal());
            }
        }
        const auto l = net.step_with_noise(input_, target_, beta, opt_.variational ? &eps_ : nullptr, nullptr, 0.0);
        const double n = static_cast<double>(rows.size());
        return {l.nll * n, l.kl * n};
    }

private:
    MultVAEOptions opt_;
    nn::SparseDropout<T> dropout_;
    nn::SparseBatch<T> input_, target_;
    Matrix<T> eps_;
    std::vector<T> normalized_;
};

template <class T, class Acc>
History fit_mult_vae(MultVAE<T>& model, const RatingMatrix<T>& shard, Communicator& comm,
                     const std::vector<Callback*>& callbacks, const RatingMatrix<T>* validation,
                     DataParallelReport* report) {
    using clock = std::chrono::steady_clock;
    const MultVAEOptions& opt = model.options();
    const char* fn = "distributed::fit_data_parallel(MultVAE)";
    check_arg(opt.validation_fraction == 0, fn, ": validation_fraction ", opt.validation_fraction,
              " (the model's own per-user holdout) is not supported: set it to 0, split the full data once ",
              "(per_user_holdout) and pass this rank's validation rows");
    if (validation)
        check_arg(shard.same_space(*validation), fn, ": the validation shard is not in the training shard's index space");
    const CommStats before = comm.stats();

    // Errors found on one rank are raised on every rank (none is left waiting in a collective).
    require_data_on_every_rank(comm, shard.nnz(), fn, "interactions");
    // Which rank owns each row (a row must be whole on one rank); the rows held anywhere are
    // MultVAE::fit's training rows, in index order.
    const RowOwners owners(shard, comm);
    const std::size_t n_users = shard.n_users();
    std::vector<index_type> rows;
    std::size_t n_owned = 0;  // the rows with interactions here
    for (std::size_t u = 0; u < n_users; ++u) {
        if (owners.held(u)) rows.push_back(static_cast<index_type>(u));
        n_owned += shard.user_count(static_cast<index_type>(u)) > 0;
    }
    if (validation) {
        std::int64_t misplaced = 0;
        for (std::size_t u = 0; u < n_users; ++u)
            misplaced += validation->user_count(static_cast<index_type>(u)) > 0 && !owners.owns(u);
        check_arg(comm.allreduce_sum(misplaced) == 0, fn, ": ", misplaced, " validation rows of this rank (",
                  "and others' in all) have their training rows on another rank (shard both the same way)");
    }

    model.initialize(shard);  // weights from the seed: the same on every rank; the global id maps
    auto& net = model.mutable_network();
    optim::Adam<T>& adam = model.optimizer();
    auto params = net.parameters();
    const std::size_t n_params = nn::parameter_count(params);
    std::vector<Acc> flat(n_params);
    DataParallelReport rep;
    rep.owned_rows = n_owned;
    rep.parameters = n_params;

    // MultVAE::fit's epoch selection, with the metric summed over the ranks' validation users.
    const std::string metric = "val_ndcg@" + std::to_string(opt.validation_k);
    std::optional<EarlyStopping> stopping;
    if (validation) {
        EarlyStopping es;
        es.monitor = metric;
        es.patience = opt.patience > 0 ? opt.patience : opt.epochs + 1;
        es.maximize = true;
        es.restore_best = true;
        stopping = es;
    }
    double kl_sum = 0, beta_sum = 0;
    std::size_t steps_done = 0;
    std::vector<Matrix<T>> best;
    FitHooks hooks;
    hooks.validate = [&](EpochRecord& rec) {
        rec.metrics["kl"] = steps_done ? kl_sum / static_cast<double>(steps_done) : 0.0;
        rec.metrics["beta"] = steps_done ? beta_sum / static_cast<double>(steps_done) : 0.0;
        if (validation) {
            const auto r = cfnet::evaluate_ranking(shard, *validation, opt.validation_k, model.make_scorer(shard));
            double s[2] = {r.ndcg * static_cast<double>(r.users_evaluated), static_cast<double>(r.users_evaluated)};
            comm.allreduce_sum(s, 2);
            rec.metrics[metric] = s[1] > 0 ? s[0] / s[1] : 0.0;
        }
    };
    hooks.snapshot = [&] { nn::save_values(params, best); };
    hooks.restore = [&] { nn::load_values(best, params); };
    FitLoop loop("MultVAE", callbacks, stopping, std::move(hooks));

    const std::size_t n_rows = rows.size(), bs = opt.batch_size, steps = (n_rows + bs - 1) / bs;
    Rng shuffle_rng(cfnet::detail::vae_seed(opt.seed, cfnet::detail::vae_stream_shuffle));
    VaeRowsStep<T> local(opt);
    std::vector<index_type> mine;
    std::size_t update = 0;
    auto history = loop.run(opt.epochs, steps, [&](int) {
        kl_sum = beta_sum = 0;
        steps_done = 0;
        const auto order = shuffle_rng.permutation<std::size_t>(n_rows);
        for (std::size_t s = 0; s < steps; ++s) {
            const auto t0 = clock::now();
            const std::size_t b0 = s * bs, b1 = std::min(n_rows, b0 + bs);
            mine.clear();
            for (std::size_t q = b0; q < b1; ++q)
                if (owners.owns(rows[order[q]])) mine.push_back(rows[order[q]]);
            const double beta = opt.beta_at(update);
            for (auto* p : params) p->zero_grad();
            // this rank's sums over its rows: the gradients of its rows' mean loss times its row count
            const auto sums = local.run(net, shard, mine, update, beta);
            ++update;
            double loss_sums[2] = {sums[0], sums[1]};
            const double n_mine = static_cast<double>(mine.size());
            nn::copy_grads_to(params, flat.data(), n_mine);
            const double penalty = opt.weight_decay > 0 ? opt.weight_decay * net.weight_squares() : 0.0;
            const auto t1 = clock::now();
            comm.allreduce_sum(flat);
            comm.allreduce_sum(loss_sums, 2);
            const auto t2 = clock::now();
            // MultVAE's loss: the means over the global batch's rows (every row has one owner)
            const double b = static_cast<double>(b1 - b0), nll = loss_sums[0] / b, kl = loss_sums[1] / b;
            const double total = nll + (opt.variational ? beta * kl : 0.0) + penalty;
            loop.check_loss(s + 1, total);
            nn::copy_grads_from(flat.data(), static_cast<Acc>(1.0 / b), params);
            // MultVAENet::step's Adam update, slot by slot
            adam.begin_step();
            for (std::size_t k = 0; k < params.size(); ++k)
                net.adam_update(adam, k).apply(params[k]->value.data(), params[k]->grad.data(), 0, params[k]->size());
            const auto t3 = clock::now();
            kl_sum += kl;
            beta_sum += beta;
            ++steps_done;
            rep.step_compute_seconds.push_back(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
            rep.step_comm_seconds.push_back(std::chrono::duration<double>(t2 - t1).count());
            rep.compute_seconds += rep.step_compute_seconds.back();
            rep.comm_seconds += rep.step_comm_seconds.back();
            ++rep.steps;
            loop.batch_end(s + 1, total, b);
        }
    });
    if (report) {
        rep.comm = comm.stats() - before;
        *report = rep;
    }
    return history;
}

}  // namespace detail

/// Trains `model` from scratch (fresh weights from its seed) on the user shards of all ranks;
/// collective: every rank calls it with its own shard (and validation shard) of the same global
/// index space (see the file comment). After it every rank holds the same fitted MultVAE, whose
/// save() writes the single-process file. `validation` (this rank's rows of a validation matrix, or
/// null) gives "val_ndcg@<validation_k>" over all ranks' validation users each epoch and keeps the
/// best epoch's weights, as MultVAE::fit(train, validation). `callbacks` run on every rank with the
/// global losses (give a ProgressBar on rank 0 only). `sum`: the gradients' allreduce in T (the
/// default; 4 bytes per parameter for float) or double.
/// @throws InvalidArgument for validation_fraction > 0, a rank without interactions, a row split
///         across ranks, or a validation row whose training row is on another rank (on every
///         rank); NumericalError when the (global) loss becomes NaN or infinite.
template <class T>
History fit_data_parallel(MultVAE<T>& model, const RatingMatrix<T>& shard, Communicator& comm,
                          const std::vector<Callback*>& callbacks = {},
                          const std::common_type_t<RatingMatrix<T>>* validation = nullptr,
                          DataParallelReport* report = nullptr, GradientSum sum = GradientSum::float32) {
    if (sum == GradientSum::float64) return detail::fit_mult_vae<T, double>(model, shard, comm, callbacks, validation, report);
    return detail::fit_mult_vae<T, T>(model, shard, comm, callbacks, validation, report);
}

}  // namespace cfnet::distributed
