#pragma once
// The `cfnet` tool's command line: every subcommand's options (CLI11), parsed into plain structs,
// and the checks made before any file is read. main.cpp runs what this parses; the fuzz target
// tests/fuzz/fuzz_cli_args.cpp drives the same functions with hostile argument vectors.

#include "cmd_evaluate.hpp"
#include "cmd_info.hpp"
#include "cmd_recommend.hpp"
#include "cmd_train.hpp"
#include "cmd_tune.hpp"
#include "common.hpp"

#include <cfnet/config.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>

namespace cfnet_cli {

/// What the command line asked for: the subcommand and its arguments.
struct CommandLine {
    std::string command;  ///< train, tune, evaluate, recommend or info (after a successful parse)
    TrainArgs train;
    TuneArgs tune;
    EvaluateArgs evaluate;
    RecommendArgs recommend;
    InfoArgs info;
};

namespace detail {

const char* const split_help =
    "held-out ratings: per-user (the notebook's 20% of each user with >= 5 ratings, seeded), stratified-user "
    "(25% of each user's ratings, seeded: the Microsoft Recommenders protocol), stratified-item (25% of each item's "
    "ratings, seeded), u1..u5 (MovieLens' shipped u<n>.base/u<n>.test), or a FILE of "
    "held-out 'user item rating' lines";

/// Long names of the options of `sub` and of its option groups that were given on the command line.
std::set<std::string> given_options(const CLI::App& sub) {
    std::set<std::string> out;
    for (const CLI::Option* o : sub.get_options())
        if (o->count() > 0)
            for (const auto& n : o->get_lnames()) out.insert("--" + n);
    for (const CLI::App* g : sub.get_subcommands({}))
        for (const auto& n : given_options(*g)) out.insert(n);
    return out;
}

const char* const data_help =
    "a MovieLens directory (u.data, u.item, ...; ratings.dat; ratings.csv), an interaction FILE (user, item[, rating]"
    "[, timestamp] lines: see --columns), or 'synthetic'";

/// The flags that say how to read an interaction file (--data FILE).
void add_layout(CLI::App* s, FileLayout& f, bool recorded) {
    auto* g = s->add_option_group("interaction file", std::string("--data FILE only") +
                                                           (recorded ? " (default: what 'cfnet train' recorded)" : ""));
    g->add_option("--columns", f.columns,
                  "user,item[,rating[,timestamp]] as header names or column numbers from 1 (default 1,2,3); "
                  "no rating (or '-') = implicit data, every line a 1");
    g->add_option("--sep", f.sep, "separator: auto (default), tab, comma, semicolon, whitespace, or the text ('::', '|')");
    g->add_option("--header", f.header, "is the first line a header: auto (default), yes or no")
        ->check(CLI::IsMember({"auto", "yes", "no"}));
    g->add_option("--items", f.items, "FILE of item titles (item id and title columns; separator and header detected)");
    g->add_option("--item-columns", f.item_columns, "item,title columns of --items, names or numbers from 1 (default 1,2)");
}

/// The options `cfnet train` and `cfnet tune` share: the model, its preset and overrides, the data.
void add_model_options(CLI::App* s, TrainArgs& a) {
    s->add_option("--model", a.model,
                  "the model: autoencoder (AutoencoderCF), ncf (NeuralCF), ease (EASE), mult-dae or mult-vae (MultVAE)")
        ->required()
        ->check(CLI::IsMember({"autoencoder", "ncf", "ease", "mult-dae", "mult-vae"}));
    s->add_option("--preset", a.preset,
                  "starting configuration: notebook (autoencoder and ncf: the notebook's; their default), autorec "
                  "(autoencoder: I-AutoRec with L-BFGS, lambda/residual/iterations chosen on validation), accurate or implicit (ncf), default (ease: lambda chosen on "
                  "validation; mult-dae, mult-vae: the paper's) or fixed (ease: lambda 500 or --l2)")
        ->check(CLI::IsMember({"notebook", "autorec", "accurate", "implicit", "default", "fixed"}));
    s->add_option("--data", a.data, data_help)->required();
    add_layout(s, a.layout, false);
    s->add_option("--split", a.split, split_help)->required();
    s->add_option("--seed", a.seed, "seed of the split and of the model (weights, shuffling, dropout)")
        ->capture_default_str();
    s->add_option("--out", a.out, "model file to write")->required();
    s->add_flag("--quiet,-q", a.quiet, "no progress output");

    auto* g = s->add_option_group("hyper-parameters", "override the preset (the models each applies to in brackets)");
    g->add_option("--epochs", a.epochs, "training epochs")->check(CLI::PositiveNumber);
    g->add_option("--batch-size", a.batch_size, "mini-batch size")->check(CLI::PositiveNumber);
    g->add_option("--lr", a.lr, "Adam learning rate")->check(CLI::PositiveNumber);
    g->add_option("--hidden", a.hidden, "hidden layer widths, e.g. 512,256,64,256,512")->delimiter(',');
    g->add_option("--dropout", a.dropout, "dropout after every hidden layer, in [0, 1)")->check(CLI::Range(0.0, 1.0));
    g->add_option("--l2", a.l2,
                  "L2 penalty (autoencoder, mult-*: weight decay; ncf: on the embeddings; ease: lambda, no selection)")
        ->check(CLI::NonNegativeNumber);
    g->add_flag("--lazy-adam", a.lazy_adam, "Adam on the rows a batch touched only (LazyAdam; not exact Adam)");
    g->add_flag("--fallback", a.fallback, "predict unseen users/items with a bias baseline");

    auto* ga = s->add_option_group("autoencoder", "--model autoencoder only");
    ga->add_flag("--item-based", a.item_based, "rows are items over users (I-AutoRec) instead of users over items");
    ga->add_option("--activation", a.activation, "hidden activation: relu, sigmoid, tanh, identity, elu, selu");
    ga->add_option("--output-activation", a.output_activation, "output activation (default identity)");
    ga->add_option("--input-dropout", a.input_dropout, "denoising: drop observed inputs with this probability")
        ->check(CLI::Range(0.0, 1.0));
    ga->add_option("--clamp", a.clamp, "clamp predicted ratings to [LO, HI], e.g. --clamp 1 5");
    ga->add_option("--solver", a.solver, "adam (mini-batch, the notebook's) or lbfgs (full-batch, AutoRec's)")
        ->check(CLI::IsMember({"adam", "lbfgs"}));
    ga->add_option("--l2-lambda", a.l2_lambda, "lbfgs: lambda of AutoRec's objective")->check(CLI::NonNegativeNumber);
    ga->add_flag("--residual", a.residual,
                 "learn the residuals of a user+item bias baseline (--residual=false: plain; autorec chooses on "
                 "validation unless given)");

    auto* gn = s->add_option_group("ncf", "--model ncf only");
    gn->add_option("--arch", a.arch, "architecture: mlp (the notebook's), gmf or neumf")
        ->check(CLI::IsMember({"mlp", "gmf", "neumf"}));
    gn->add_option("--feedback", a.feedback, "explicit (ratings, MSE) or implicit (BCE with sampled negatives)")
        ->check(CLI::IsMember({"explicit", "implicit"}));
    gn->add_option("--embedding-dim", a.embedding_dim, "embedding size")->check(CLI::PositiveNumber);
    gn->add_option("--dense-l2", a.dense_l2, "L2 on the dense kernels")->check(CLI::NonNegativeNumber);
    gn->add_flag("--bias-terms", a.bias_terms, "learned user and item biases");
    gn->add_option("--negatives", a.negatives, "implicit: sampled negatives per positive")->check(CLI::PositiveNumber);
    gn->add_flag("--mean-init", a.mean_init, "start the output bias at the mean rating");
    g->add_option("--validation-fraction", a.validation_fraction,
                  "ncf: training ratings held out for per-epoch validation (0 = none); ease: held out to choose lambda; "
                  "mult-*: held out to choose the epoch by NDCG@100 (0 = none)")
        ->check(CLI::Range(0.0, 1.0));

    auto* ge = s->add_option_group("ease", "--model ease only");
    ge->add_option("--lambdas", a.lambdas, "candidate lambdas chosen among on validation, e.g. 100,400,1600")
        ->delimiter(',');
    ge->add_option("--max-items", a.max_items, "keep only the N most frequent items (0: all)");
    ge->add_option("--memory-gib", a.memory_gib, "memory the fit may use, GiB (default: 3/4 of physical memory)")
        ->check(CLI::PositiveNumber);
    ge->add_option("--threads", a.threads, "OpenBLAS threads during the fit (0: as set)")->check(CLI::NonNegativeNumber);

    auto* gv = s->add_option_group("mult-vae", "--model mult-dae / mult-vae only");
    gv->add_option("--latent", a.latent, "latent (code) dimension")->check(CLI::PositiveNumber);
    gv->add_option("--anneal-steps", a.anneal_steps, "mult-vae: updates until beta reaches --anneal-cap (0: cap at once)");
    gv->add_option("--anneal-cap", a.anneal_cap, "mult-vae: the largest KL weight beta")->check(CLI::Range(0.0, 1.0));
    gv->add_option("--patience", a.patience, "with --validation-fraction: stop after N epochs without improvement")
        ->check(CLI::NonNegativeNumber);
}

void add_train(CLI::App& app, TrainArgs& a) {
    CLI::App* s = app.add_subcommand("train", "Train a model on MovieLens data or an interaction file and save it to a model file");
    add_model_options(s, a);
    s->add_option("--history", a.history, "write the per-epoch history to FILE.csv or FILE.json");
    s->add_option("--decomposition", a.decomposition,
                  "under mpirun (autoencoder): items (its first and last layers split by item: 2 x batch x 512 floats "
                  "per step) or users (data parallelism: every gradient every step)")
        ->capture_default_str()
        ->check(CLI::IsMember({"items", "users"}));
    s->add_option("--middle-layers", a.middle_layers,
                  "under mpirun (autoencoder, --decomposition items): replicated (every rank runs the middle layers "
                  "on the whole batch) or split (each rank its block of the batch's rows: their compute falls as 1/N "
                  "for an allreduce of their gradients per step; pays at large batches and many ranks)")
        ->capture_default_str()
        ->check(CLI::IsMember({"replicated", "split"}));
}

void add_tune(CLI::App& app, TuneArgs& a) {
    CLI::App* s = app.add_subcommand(
        "tune", "Search hyper-parameters on a held-out part of the training data, refit the best and save it");
    add_model_options(s, a.base);
    auto* g = s->add_option_group("search", "the search space and how trials are scored");
    g->add_option("--param", a.params,
                  "KEY=V1,V2,...: candidate values of the option stored under KEY in the model file (see 'cfnet "
                  "info'); repeatable; a list option (hidden) takes one candidate per --param")
        ->required()
        ->take_all();
    g->add_option("--folds", a.folds, "k-fold cross-validation on the training part (0: one held-out part)")
        ->capture_default_str();
    g->add_option("--holdout", a.holdout, "without --folds: fraction of each user's training ratings held out")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    g->add_option("--random", a.random, "try this many grid points drawn at random (0: the whole grid)")
        ->capture_default_str();
    g->add_option("--objective", a.objective,
                  "auto (rmse for rating models, else ndcg), rmse, ndcg, precision or recall")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "rmse", "ndcg", "precision", "recall"}));
    g->add_option("--k", a.k, "list length of the ranking objectives")->capture_default_str()->check(CLI::PositiveNumber);
    g->add_option("--json", a.json, "also write every trial as JSON to this file");
}

void add_evaluate(CLI::App& app, EvaluateArgs& a) {
    CLI::App* s = app.add_subcommand("evaluate", "Rating and top-N metrics of a model file on its held-out ratings");
    s->add_option("--model-file", a.model_file, "model file written by 'cfnet train'")->required();
    s->add_option("--data", a.data, data_help)->required();
    add_layout(s, a.layout, true);
    s->add_option("--split", a.split, std::string(split_help) + " (default: the one the model was trained with)");
    s->add_option("--seed", a.seed, "seed of the split (default: the one the model was trained with)");
    s->add_option("--k", a.k, "length of the ranked lists")->capture_default_str()->check(CLI::PositiveNumber);
    s->add_option("--threshold", a.threshold, "held-out ratings >= this are relevant (0: every held-out item)")
        ->capture_default_str();
    s->add_option("--json", a.json, "also write the metrics as JSON to this file");
    add_evaluate_options(s, a);
}

void add_recommend(CLI::App& app, RecommendArgs& a) {
    CLI::App* s = app.add_subcommand("recommend", "Top-k items with titles for a user, or for a new user's ratings");
    s->add_option("--model-file", a.model_file, "model file written by 'cfnet train'")->required();
    s->add_option("--data", a.data, std::string(data_help) + " (for the titles, and the training data of input-driven models)")
        ->required();
    add_layout(s, a.layout, true);
    auto* user = s->add_option("--user", a.user, "original user id, as in the data (an integer or a string id)");
    auto* ratings = s->add_option("--ratings", a.ratings,
                                  "FILE of a new user's 'item rating' lines (fold-in; user-based autoencoder)");
    user->excludes(ratings);
    s->add_option("--split", a.split,
                  "split of the training data (autoencoder --user; default: the one the model was trained with)");
    s->add_option("--seed", a.seed, "seed of the split (default: the one the model was trained with)");
    s->add_option("--k", a.k, "number of items")->capture_default_str()->check(CLI::PositiveNumber);
    s->add_flag("--include-seen", a.include_seen, "also rank the items the user has rated");
    s->add_option("--json", a.json, "also write the list as JSON to this file");
    add_recommend_options(s, a);
}

void add_info(CLI::App& app, InfoArgs& a) {
    CLI::App* s = app.add_subcommand("info", "What a model file contains (verified, checksum included)");
    s->add_option("model", a.model_file, "model file")->required();
    s->add_flag("--full", a.full, "print long metadata values (id lists) in full");
    s->add_option("--json", a.json, "also write the description as JSON to this file");
}

}  // namespace detail

/// The tool's CLI11 application, bound to `cl` (which must outlive it).
inline std::unique_ptr<CLI::App> make_app(CommandLine& cl) {
    auto app = std::make_unique<CLI::App>(
        "cfnet " CFNET_VERSION_STRING ": collaborative filtering with neural networks (AutoencoderCF, NeuralCF) on MovieLens",
        "cfnet");
    app->set_version_flag("--version", CFNET_VERSION_STRING);
    app->require_subcommand(1);
    app->footer("Exit codes: 0 success, 1 runtime or data error, 2 usage error. See docs/cli.md.");
    detail::add_train(*app, cl.train);
    detail::add_evaluate(*app, cl.evaluate);
    detail::add_recommend(*app, cl.recommend);
    detail::add_info(*app, cl.info);
    detail::add_tune(*app, cl.tune);
    return app;
}

/// Parses argv (argv[0] is the program) into `cl`. Returns the exit code when the tool stops here:
/// exit_ok after --help / --version (printed on `out`), exit_usage after a usage error (printed on
/// `err` as "cfnet: MESSAGE" and how to get help). std::nullopt: `cl.command` is ready to run.
inline std::optional<int> parse_command_line(CLI::App& app, CommandLine& cl, int argc, const char* const* argv,
                                             std::ostream& out, std::ostream& err) {
    // No value of the tool is empty, and CLI11 2.1 loops forever on an empty argument in a
    // subcommand's positional place (`cfnet train --model ease "" --data d`): refuse it first.
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] == '\0') {
            err << "cfnet: argument " << i << " is empty" << (i > 1 ? std::string(" (after '") + argv[i - 1] + "')" : "")
                << ": remove it or give its value\nRun 'cfnet --help' for usage.\n";
            return exit_usage;
        }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e, out, err);
        const CLI::App* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
        err << "cfnet: " << e.what() << "\nRun 'cfnet " << (sub ? sub->get_name() + " " : std::string())
            << "--help' for usage.\n";
        return exit_usage;
    }
    const CLI::App* sub = app.get_subcommands().front();
    cl.command = sub->get_name();
    if (cl.command == "train") cl.train.given = detail::given_options(*sub);
    if (cl.command == "tune") cl.tune.base.given = detail::given_options(*sub);
    return std::nullopt;
}

/// The checks of a parsed command line that need no file (the ones run_<command> makes first).
/// @throws UsageError.
inline void check_command_line(const CommandLine& cl) {
    if (cl.command == "train") check_train_args(cl.train);
    else if (cl.command == "tune") (void)checked_tune_options(cl.tune);
    else if (cl.command == "recommend") check_recommend_args(cl.recommend);
}

}  // namespace cfnet_cli
