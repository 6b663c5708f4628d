#pragma once
/// @file train.hpp
/// THE fit loop every iteratively trained model runs (FitLoop: epochs, callbacks, validation,
/// early stopping with restore-best, the NaN/Inf stop, history), and what it is made of: the
/// per-epoch history, early stopping, callbacks (progress reporting among them). Contract:
/// docs/concepts.md, "The fit loop".

#include <cfnet/error.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace cfnet {

/// One epoch of training: the mean training loss, the validation metrics computed after it (named,
/// e.g. "val_loss", "val_rmse", "val_ndcg@10") and the wall time of the epoch in seconds.
struct EpochRecord {
    int epoch = 0;  ///< 1-based
    double loss = 0.0;
    std::map<std::string, double> metrics;
    double seconds = 0.0;

    std::optional<double> metric(const std::string& name) const {
        auto it = metrics.find(name);
        if (it == metrics.end()) return std::nullopt;
        return it->second;
    }
};

/// The training history fit() returns.
struct History {
    std::vector<EpochRecord> epochs;
    int best_epoch = 0;       ///< the epoch whose weights the model holds after early stopping (0: the last)
    bool stopped_early = false;  ///< early stopping, or a callback's on_epoch_end, stopped training

    std::size_t size() const noexcept { return epochs.size(); }
    const EpochRecord& operator[](std::size_t i) const { return epochs.at(i); }

    /// The names of every metric recorded in any epoch, sorted.
    std::vector<std::string> metric_names() const {
        std::map<std::string, int> seen;
        for (const auto& e : epochs)
            for (const auto& kv : e.metrics) seen[kv.first] = 1;
        std::vector<std::string> out;
        for (const auto& kv : seen) out.push_back(kv.first);
        return out;
    }

    /// CSV with a header: epoch,loss,seconds,<metrics...>; missing values are empty fields.
    void write_csv(std::ostream& os) const {
        const auto names = metric_names();
        os << "epoch,loss,seconds";
        for (const auto& n : names) os << ',' << n;
        os << '\n' << std::setprecision(9);
        for (const auto& e : epochs) {
            os << e.epoch << ',' << e.loss << ',' << e.seconds;
            for (const auto& n : names) {
                os << ',';
                if (auto v = e.metric(n)) os << *v;
            }
            os << '\n';
        }
    }

    /// JSON: {"best_epoch": b, "stopped_early": s, "epochs": [{"epoch":1,"loss":..,"seconds":..,"metrics":{..}}]}
    void write_json(std::ostream& os) const {
        auto num = [&](double v) {
            if (std::isfinite(v)) os << v; else os << "null";
        };
        os << std::setprecision(9) << "{\"best_epoch\": " << best_epoch
           << ", \"stopped_early\": " << (stopped_early ? "true" : "false") << ", \"epochs\": [";
        for (std::size_t i = 0; i < epochs.size(); ++i) {
            const auto& e = epochs[i];
            os << (i ? ", " : "") << "{\"epoch\": " << e.epoch << ", \"loss\": ";
            num(e.loss);
            os << ", \"seconds\": ";
            num(e.seconds);
            os << ", \"metrics\": {";
            bool first = true;
            for (const auto& kv : e.metrics) {
                os << (first ? "" : ", ") << '"' << kv.first << "\": ";
                num(kv.second);
                first = false;
            }
            os << "}}";
        }
        os << "]}\n";
    }

    void save_csv(const std::string& path) const { save(path, [&](std::ostream& os) { write_csv(os); }); }
    void save_json(const std::string& path) const { save(path, [&](std::ostream& os) { write_json(os); }); }

private:
    template <class F>
    static void save(const std::string& path, F write) {
        std::ofstream os(path);
        if (!os) throw IoError("History: cannot open '" + path + "' for writing");
        write(os);
        if (!os.flush()) throw IoError("History: error writing '" + path + "'");
    }
};

/// Early stopping on a validation metric with restore-best (Keras' EarlyStopping).
struct EarlyStopping {
    std::string monitor = "val_loss";  ///< a metric name the model records (see its docs)
    int patience = 5;                  ///< epochs without improvement before stopping
    double min_delta = 0.0;            ///< an improvement must exceed this
    bool maximize = false;             ///< true for metrics where larger is better (ndcg, hit rate)
    bool restore_best = true;          ///< reload the weights of the best epoch when stopping or at the end
};

/// Tracks the best epoch for EarlyStopping. `update` returns true when training should stop.
class EarlyStoppingState {
public:
    explicit EarlyStoppingState(EarlyStopping cfg) : cfg_(std::move(cfg)) {}

    /// Records epoch `rec`; `improved()` tells whether it is the new best.
    bool update(const EpochRecord& rec) {
        const auto v = rec.metric(cfg_.monitor);
        check_arg(v.has_value(), "EarlyStopping: metric '", cfg_.monitor, "' is not recorded (is validation data given?)");
        const double score = cfg_.maximize ? -*v : *v;
        improved_ = best_epoch_ == 0 || score < best_ - cfg_.min_delta;
        if (improved_) {
            best_ = score;
            best_epoch_ = rec.epoch;
            waited_ = 0;
        } else {
            ++waited_;
        }
        return waited_ >= cfg_.patience;
    }
    bool improved() const noexcept { return improved_; }
    int best_epoch() const noexcept { return best_epoch_; }
    const EarlyStopping& config() const noexcept { return cfg_; }

private:
    EarlyStopping cfg_;
    double best_ = std::numeric_limits<double>::infinity();
    int best_epoch_ = 0;
    int waited_ = 0;
    bool improved_ = false;
};

/// Observes training. Every hook has an empty default; return true from on_epoch_end to stop.
class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(int /*epochs*/, std::size_t /*steps_per_epoch*/) {}
    virtual void on_epoch_begin(int /*epoch*/) {}
    /// After each optimizer step; `loss` is the running mean loss of the epoch so far.
    virtual void on_batch_end(std::size_t /*step*/, double /*loss*/) {}
    virtual bool on_epoch_end(const EpochRecord& /*record*/) { return false; }
    virtual void on_train_end(const History& /*history*/) {}
};

/// A callback from a function called at the end of every epoch (return true to stop).
class EpochCallback : public Callback {
public:
    explicit EpochCallback(std::function<bool(const EpochRecord&)> f) : f_(std::move(f)) {}
    bool on_epoch_end(const EpochRecord& r) override { return f_(r); }

private:
    std::function<bool(const EpochRecord&)> f_;
};

/// Keras-style progress: on a terminal a live bar per epoch (step count, elapsed/ETA, ms/step, running
/// loss) redrawn at most ~10 times a second; otherwise (CI, pipes) one plain line per epoch.
class ProgressBar : public Callback {
public:
    /// `out` defaults to stdout; `interactive` defaults to whether `out` is a terminal.
    explicit ProgressBar(std::FILE* out = stdout, std::optional<bool> interactive = std::nullopt, std::string name = "")
        : out_(out), tty_(interactive.value_or(is_terminal(out))), name_(std::move(name)) {}

    void on_train_begin(int epochs, std::size_t steps) override {
        epochs_ = epochs;
        steps_ = steps;
    }
    void on_epoch_begin(int epoch) override {
        epoch_ = epoch;
        start_ = clock::now();
        last_draw_ = start_ - std::chrono::seconds(1);
        if (tty_) std::fprintf(out_, "%sEpoch %d/%d\n", prefix().c_str(), epoch, epochs_);
    }
    void on_batch_end(std::size_t step, double loss) override {
        if (!tty_) return;
        const auto now = clock::now();
        if (step < steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        const double el = seconds(now - start_);
        const double per = step ? el / static_cast<double>(step) : 0.0;
        const double eta = per * static_cast<double>(steps_ > step ? steps_ - step : 0);
        const int width = 30;
        const int filled = steps_ ? static_cast<int>(width * static_cast<double>(step) / static_cast<double>(steps_)) : width;
        std::string bar(static_cast<std::size_t>(width), '.');
        for (int i = 0; i < filled && i < width; ++i) bar[static_cast<std::size_t>(i)] = '=';
        std::fprintf(out_, "\r%zu/%zu [%s] %s %.1fs ETA %.1fs %.2fms/step - loss: %.4f", step, steps_, bar.c_str(),
                     step >= steps_ ? "done" : "", el, eta, per * 1e3, loss);
        std::fflush(out_);
    }
    bool on_epoch_end(const EpochRecord& r) override {
        std::ostringstream os;
        if (tty_)
            os << "\n";
        else
            os << prefix() << "Epoch " << r.epoch << "/" << epochs_ << " - ";
        os << std::fixed << std::setprecision(2) << r.seconds << "s - loss: " << std::setprecision(4) << r.loss;
        for (const auto& kv : r.metrics) os << " - " << kv.first << ": " << kv.second;
        std::fprintf(out_, "%s\n", os.str().c_str());
        std::fflush(out_);
        return false;
    }

private:
    using clock = std::chrono::steady_clock;
    static double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }
    std::string prefix() const { return name_.empty() ? "" : "[" + name_ + "] "; }
    static bool is_terminal(std::FILE* f) {
#if defined(__unix__) || defined(__APPLE__)
        return f && isatty(fileno(f));
#else
        (void)f;
        return false;
#endif
    }

    std::FILE* out_;
    bool tty_;
    std::string name_;
    int epochs_ = 0, epoch_ = 0;
    std::size_t steps_ = 0;
    clock::time_point start_, last_draw_;
};

/// Throws NumericalError when a training loss is NaN or infinite (a diverging fit stops loudly).
inline void check_finite_loss(double loss, int epoch, std::size_t step, const char* model) {
    if (!std::isfinite(loss))
        throw NumericalError(detail::concat(model, "::fit: the loss became ", loss, " at epoch ", epoch, ", step ", step,
                                            " (training diverged: lower the learning rate?)"));
}

/// What a model hands FitLoop besides its training steps. Every hook may be empty.
struct FitHooks {
    /// Adds the validation metrics of the current weights to the epoch's record (e.g. "val_rmse").
    std::function<void(EpochRecord&)> validate;
    /// Remembers the current weights as the best so far (early stopping improved, restore_best set).
    std::function<void()> snapshot;
    /// Puts the last snapshot's weights back (once, in finish(), when a snapshot was taken).
    std::function<void()> restore;
};

/// The fit loop. A model runs its own steps (a mini-batch epoch, or one iteration of a solver that
/// owns the iteration and calls back) and reports them; the loop does everything generic, once:
///
///   loop.begin(epochs, steps_per_epoch);            // on_train_begin
///   while (...) {
///       const int epoch = loop.begin_epoch();       // on_epoch_begin; starts the epoch's clock
///       ... each step: loop.batch_end(step, loss, weight);   // NaN/Inf stop, running mean, on_batch_end
///       if (loop.end_epoch()) break;                // record, validate, early stopping, on_epoch_end
///   }
///   return loop.finish();                           // restore-best, on_train_end, the History
///
/// run(epochs, steps, run_epoch) is that loop for models that own their epochs. The contract
/// (requires / ensures of each call) is in docs/concepts.md, "The fit loop".
class FitLoop {
public:
    /// `model` names the model in errors ("AutoencoderCF" -> "AutoencoderCF::fit: the loss became
    /// nan at epoch 3, step 7 ..."). `early_stopping`, when set, monitors a metric the validate hook
    /// records (the model checks beforehand that it has validation data).
    FitLoop(std::string model, std::vector<Callback*> callbacks, const std::optional<EarlyStopping>& early_stopping,
            FitHooks hooks = {})
        : model_(std::move(model)), callbacks_(std::move(callbacks)), hooks_(std::move(hooks)) {
        if (early_stopping) stopper_.emplace(*early_stopping);
    }

    /// Starts training: on_train_begin(epochs, steps_per_epoch) on every callback.
    void begin(int epochs, std::size_t steps_per_epoch) {
        check_state(state_ == State::idle, "begin");
        state_ = State::between;
        for (auto* cb : callbacks_) cb->on_train_begin(epochs, steps_per_epoch);
    }

    /// Starts the next epoch (1-based, returned): on_epoch_begin(epoch), then the epoch's clock starts.
    int begin_epoch() {
        check_state(state_ == State::between, "begin_epoch");
        state_ = State::in_epoch;
        ++epoch_;
        total_ = 0;
        weight_ = 0;
        for (auto* cb : callbacks_) cb->on_epoch_begin(epoch_);
        t0_ = std::chrono::steady_clock::now();
        return epoch_;
    }

    /// Throws NumericalError naming the model, the epoch and `step` when `loss` is NaN or infinite.
    /// batch_end() checks too; call this earlier to stop before a diverged batch reaches the weights.
    void check_loss(std::size_t step, double loss) const { check_finite_loss(loss, epoch_, step, model_.c_str()); }

    /// After step `step` (1-based) of the epoch with mean loss `loss` over `weight` examples (rows,
    /// pairs; 1 for a full-batch iteration): check_loss, then every callback's on_batch_end(step,
    /// the weighted running mean of the epoch so far).
    void batch_end(std::size_t step, double loss, double weight = 1.0) {
        check_loss(step, loss);
        total_ += loss * weight;
        weight_ += weight;
        for (auto* cb : callbacks_) cb->on_batch_end(step, total_ / weight_);
    }

    /// Ends the epoch: its record (loss = the weighted mean of its batch losses, the validate
    /// hook's metrics, the seconds since begin_epoch) joins the history; early stopping updates
    /// (snapshot when it improved and restore_best is set); then every callback's on_epoch_end.
    /// Returns true when training should stop (early stopping, or any callback returned true);
    /// the history then says stopped_early.
    bool end_epoch() {
        check_state(state_ == State::in_epoch, "end_epoch");
        state_ = State::between;
        EpochRecord rec;
        rec.epoch = epoch_;
        rec.loss = total_ / weight_;
        if (hooks_.validate) hooks_.validate(rec);
        rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
        history_.epochs.push_back(rec);
        bool stop = false;
        if (stopper_) {
            stop = stopper_->update(rec);
            if (stopper_->improved() && stopper_->config().restore_best && hooks_.snapshot) {
                hooks_.snapshot();
                snapshotted_ = true;
            }
        }
        for (auto* cb : callbacks_) stop = cb->on_epoch_end(rec) || stop;
        if (stop) history_.stopped_early = true;
        return stop;
    }

    /// Ends training (also after an epoch that was begun and not ended, e.g. a solver that
    /// converged): with restore_best and a snapshot, the restore hook runs and best_epoch is the
    /// early-stopping best; then every callback's on_train_end(history). Returns the history.
    History finish() {
        check_state(state_ != State::idle && state_ != State::finished, "finish");
        state_ = State::finished;
        if (stopper_ && stopper_->config().restore_best && snapshotted_) {
            if (hooks_.restore) hooks_.restore();
            history_.best_epoch = stopper_->best_epoch();
        }
        for (auto* cb : callbacks_) cb->on_train_end(history_);
        return std::move(history_);
    }

    /// The whole loop for a model that owns its epochs: begin, then for each epoch begin_epoch,
    /// run_epoch(epoch) (which calls batch_end per step), end_epoch (stopping when it says so),
    /// and finish.
    template <class RunEpoch>
    History run(int epochs, std::size_t steps_per_epoch, RunEpoch&& run_epoch) {
        begin(epochs, steps_per_epoch);
        for (int e = 1; e <= epochs; ++e) {
            run_epoch(begin_epoch());
            if (end_epoch()) break;
        }
        return finish();
    }

    /// The current (or last) epoch, 1-based; 0 before the first begin_epoch().
    int epoch() const noexcept { return epoch_; }
    /// The history so far.
    const History& history() const noexcept { return history_; }

private:
    enum class State { idle, between, in_epoch, finished };
    void check_state(bool ok, const char* fn) const {
        if (!ok) throw InvalidArgument(detail::concat("FitLoop::", fn, ": called out of order (", model_, ")"));
    }

    std::string model_;
    std::vector<Callback*> callbacks_;
    FitHooks hooks_;
    std::optional<EarlyStoppingState> stopper_;
    History history_;
    State state_ = State::idle;
    int epoch_ = 0;
    double total_ = 0, weight_ = 0;
    bool snapshotted_ = false;
    std::chrono::steady_clock::time_point t0_;
};

}  // namespace cfnet
