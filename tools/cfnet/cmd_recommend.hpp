#pragma once
/// @file tools/cfnet/cmd_recommend.hpp
/// `cfnet recommend`: the top-k items, with titles, for a user of the training data (--user ID) or
/// for a new user given by a file of their ratings (--ratings FILE: fold-in, user-based
/// autoencoder models), or, with --all-users, the top-k of every user of the training data as
/// 'user<TAB>rank<TAB>item<TAB>score' lines (original ids) to --out FILE or stdout, scored on
/// --threads threads (0: all cores; the same lines for any count). Under mpirun (2+ ranks, a
/// build with MPI) --all-users splits the users between the ranks, gathers the lists and rank 0
/// writes them: the same file as one process (docs/distributed.md).

#include "cmd_train_distributed.hpp"
#include "common.hpp"
#include "models.hpp"

#include <cfnet/data/movielens.hpp>
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/evaluation.hpp>
#include <cfnet/recommender.hpp>
#include <cfnet/serialize.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace cfnet_cli {

struct RecommendArgs {
    std::string model_file;
    std::string data;
    FileLayout layout;                    ///< default: the one recorded by `cfnet train`
    std::optional<std::string> user;      ///< original user id (an integer or a name)
    std::string ratings;                  ///< fold-in ratings file (instead of --user)
    std::optional<std::string> split;     ///< default: the split recorded by `cfnet train`
    std::optional<std::uint64_t> seed;    ///< default: the seed recorded by `cfnet train`
    std::size_t k = 10;
    bool include_seen = false;
    std::string json;
    bool all_users = false;  ///< every training user's top-k (instead of --user / --ratings)
    std::string out;         ///< --all-users: the file to write (default: stdout)
    int threads = 1;         ///< --all-users: threads scoring the users (0: all cores)
};

/// The flags of `cfnet recommend` for all users (cli.hpp's add_recommend calls this):
/// --all-users, --out, --threads.
inline void add_recommend_options(CLI::App* s, RecommendArgs& a) {
    s->add_flag("--all-users", a.all_users,
                "the top-k of every user of the training data, as 'user rank item score' lines (no titles)");
    s->add_option("--out", a.out, "--all-users: write the lines to this file (default: stdout)");
    s->add_option("--threads", a.threads, "--all-users: threads scoring the users (0: all cores; the same lines for any count)")
        ->capture_default_str()
        ->check(CLI::Range(0, cfnet::max_threads));
}

/// One line of the output: original item id (as text), title, score.
struct RecommendedItem {
    std::string item;
    std::string title;
    float score = 0;
};

namespace detail {

/// The model's index of original user id `id`. @throws cfnet::InvalidArgument for an unknown id.
inline cfnet::index_type user_index_of(const cfnet::IdMap& users, const std::string& id, const std::string& path) {
    const auto u = users.find(id);
    if (!u)
        throw cfnet::InvalidArgument(cfnet::detail::concat(
            "recommend: unknown user id ", id, ": '", path, "' was trained on ", users.size(), " users",
            users.size() ? cfnet::detail::concat(" (ids ", users.label(0), " .. ",
                                                 users.label(static_cast<cfnet::index_type>(users.size() - 1)), ")")
                         : std::string(),
            "; for a new user pass --ratings FILE"));
    return *u;
}

/// Fold-in input: the ratings file's item ids as indices of the model's item space.
/// @throws cfnet::ParseError naming the line of an item the model does not know.
inline void fold_in_indices(const FoldInRatings& r, const cfnet::IdMap& items, const std::string& path,
                            std::vector<cfnet::index_type>& idx, std::vector<float>& val) {
    for (std::size_t k = 0; k < r.items.size(); ++k) {
        const auto i = items.find(r.items[k]);
        if (!i)
            throw cfnet::ParseError(path, r.lines[k], "item",
                                    cfnet::detail::concat("item ", r.items[k], " is not one of the model's ", items.size(),
                                                          " items"));
        idx.push_back(*i);
        val.push_back(static_cast<float>(r.ratings[k]));
    }
}

/// What `cfnet recommend` found: the model's name, the data source and the list.
struct RecommendOutcome {
    const char* model = "";
    std::string source;
    std::vector<RecommendedItem> items;
    bool user_names = false, item_names = false;  ///< the model's ids are strings (JSON writes them as such)
};

/// Loads the model of type M and asks it through the recommender interface: fold-in (--ratings)
/// when the model supports it, else the user's top-k with `input` = the model's own interactions
/// when it carries them, or the training matrix rebuilt from --data/--split.
template <class M>
RecommendOutcome recommend_with(ModelType<M>, const RecommendArgs& a, const cfnet::ModelFileInfo& info,
                                bool exclude_seen) {
    static_assert(cfnet::is_recommender_v<M>, "cfnet recommend programs against the recommender interface");
    RecommendOutcome o;
    o.model = ModelName<M>::value;
    std::vector<cfnet::Recommendation<float>> recs;
    std::optional<M> model;
    std::vector<std::string> titles;
    const FileLayout layout = with_recorded(a.layout, info.metadata, a.data);
    if (!a.ratings.empty()) {
        if constexpr (!cfnet::supports_fold_in_v<M>) {
            throw cfnet::InvalidArgument("recommend: --ratings (fold-in of a new user) needs a model that folds in new "
                                         "users (a user-based AutoencoderCF, Ease or MultVAE); '" + a.model_file + "' holds a " + o.model + " model (use --user ID)");
        } else {
            model.emplace(M::load(a.model_file));
            if (!model->supports_fold_in())
                throw cfnet::InvalidArgument("recommend: --ratings (fold-in) needs a model that folds in new users; '" +
                                             a.model_file + "' is item-based (use --user ID)");
            const FoldInRatings r = read_fold_in_ratings(a.ratings);
            std::vector<cfnet::index_type> idx;
            std::vector<float> val;
            fold_in_indices(r, model->item_map(), a.ratings, idx, val);
            recs = model->recommend(idx, val, a.k, exclude_seen);
            titles = item_titles(a.data, layout, model->item_map());  // no split is needed for a new user
            o.source = a.data;
        }
    } else if constexpr (carries_interactions_v<M>) {
        // The model keeps its training users, items and seen items: only the titles are needed.
        model.emplace(M::load(a.model_file));
        titles = item_titles(a.data, layout, model->item_map());
        o.source = a.data;
        const auto u = user_index_of(model->user_map(), *a.user, a.model_file);
        recs = model->recommend(model->interactions(), u, a.k, exclude_seen);
    } else {
        // The user's training ratings are the model's input: rebuild the training matrix.
        const SplitChoice sc = resolve_split(info.metadata, a.model_file, a.split, a.seed, "recommend");
        const examples::Workload w = load_data(a.data, layout, sc.split, sc.seed);
        const auto& train = w.split.train;
        o.source = w.data_source;
        model.emplace(M::load(a.model_file));
        check_same_ids(model->item_map(), train.items(), "items", a.model_file, sc.split);
        check_same_ids(user_map_or(*model, train.users()), train.users(), "users", a.model_file, sc.split);
        titles = item_titles(a.data, layout, train.items());
        const auto u = user_index_of(user_map_or(*model, train.users()), *a.user, a.model_file);
        o.user_names = train.users().has_names();
        recs = model->recommend(train, u, a.k, exclude_seen);
    }
    if constexpr (detail::has_user_map<M>::value) o.user_names = model->user_map().has_names();
    o.item_names = model->item_map().has_names();
    for (const auto& r : recs) {
        o.items.push_back({model->item_map().label(r.item), title_of(titles, model->item_map(), r.item), r.score});
    }
    return o;
}

/// --all-users: the model's input (its own interactions, or the training matrix rebuilt from
/// --data/--split), every user's top-k in user order (on a.threads threads; under mpirun split
/// between the ranks and gathered), written by rank 0 as 'user rank item score' lines.
template <class M>
void recommend_all_users(ModelType<M>, const RecommendArgs& a, const cfnet::ModelFileInfo& info, bool exclude_seen,
                         cfnet::distributed::Communicator* comm) {
    static_assert(cfnet::is_recommender_v<M>, "cfnet recommend programs against the recommender interface");
    const M model = M::load(a.model_file);
    std::optional<cfnet::RatingMatrix<float>> own;
    std::optional<examples::Workload> w;
    if constexpr (carries_interactions_v<M>) {
        own.emplace(model.interactions());
    } else {
        const SplitChoice sc = resolve_split(info.metadata, a.model_file, a.split, a.seed, "recommend");
        w.emplace(load_data(a.data, with_recorded(a.layout, info.metadata, a.data), sc.split, sc.seed));
        check_same_ids(model.item_map(), w->split.train.items(), "items", a.model_file, sc.split);
        check_same_ids(user_map_or(model, w->split.train.users()), w->split.train.users(), "users", a.model_file, sc.split);
    }
    const cfnet::RatingMatrix<float>& input = own ? *own : w->split.train;
    std::vector<cfnet::index_type> users(input.n_users());
    for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<cfnet::index_type>(u);
    const bool writer = !comm || comm->rank() == 0;  // under mpirun rank 0 writes everything
    std::ofstream file;
    if (!a.out.empty() && writer) {
        file.open(a.out);
        if (!file) throw cfnet::IoError("recommend: cannot write '" + a.out + "'");
    }
    std::ostream& os = a.out.empty() ? std::cout : file;
    const cfnet::IdMap& user_ids = input.users();
    const cfnet::IdMap& item_ids = model.item_map();
    auto write = [&](cfnet::index_type u, const std::vector<cfnet::Recommendation<float>>& recs) {
        for (std::size_t r = 0; r < recs.size(); ++r)
            os << user_ids.label(u) << '\t' << r + 1 << '\t' << item_ids.label(recs[r].item) << '\t'
               << recs[r].score << '\n';
    };
    os << std::setprecision(9);
    if (writer) os << "user\trank\titem\tscore\n";
    if (comm) {
        const auto lists = cfnet::distributed::recommend_batch_users(model, input, users, a.k, *comm, exclude_seen, a.threads);
        if (writer)
            for (std::size_t p = 0; p < users.size(); ++p) write(users[p], lists[p]);
    } else {
        cfnet::recommend_batch(model, input, users, a.k, write, exclude_seen, a.threads);
    }
    os.flush();
    if (!a.out.empty() && writer && !file)
        throw cfnet::IoError("recommend: writing '" + a.out + "' failed");
}

}  // namespace detail

/// Checks the command line (before any file is read). @throws UsageError.
inline void check_recommend_args(const RecommendArgs& a) {
    if (a.all_users) {
        if (a.user || !a.ratings.empty() || !a.json.empty())
            throw UsageError("recommend: --all-users takes neither --user, --ratings nor --json");
        return;
    }
    if (a.user.has_value() == !a.ratings.empty())
        throw UsageError("recommend: give exactly one of --user ID, --ratings FILE and --all-users");
    if (!a.out.empty() || a.threads != 1) throw UsageError("recommend: --out and --threads go with --all-users");
}

/// Runs `cfnet recommend`. @throws UsageError, cfnet::IoError / ParseError (files),
/// cfnet::InvalidArgument (unknown user id, fold-in with a model that cannot do it).
inline int run_recommend(const RecommendArgs& a) {
    check_recommend_args(a);
    const cfnet::ModelFileInfo info = cfnet::read_model_info(a.model_file);
    const ModelKind kind = model_kind(info, a.model_file);
    const bool exclude_seen = !a.include_seen;
    cfnet::distributed::Communicator* comm = DistributedSession::current();
    if (a.all_users) {
        dispatch_model(kind, [&](auto type) { detail::recommend_all_users(type, a, info, exclude_seen, comm); });
        return exit_ok;
    }

    const detail::RecommendOutcome res =
        dispatch_model(kind, [&](auto type) { return detail::recommend_with(type, a, info, exclude_seen); });
    if (comm && comm->rank() != 0) return exit_ok;  // one user: every rank computes it, rank 0 prints
    const std::vector<RecommendedItem>& out = res.items;
    const std::string& source = res.source;

    std::cout << "model: " << res.model << " (" << a.model_file
              << ")\n";
    if (a.user)
        std::cout << "user " << *a.user << ": top " << a.k << (exclude_seen ? " of the items not rated in training\n" : " items\n");
    else
        std::cout << "new user from " << a.ratings << ": top " << a.k << (exclude_seen ? " of the items not rated\n" : " items\n");
    std::cout << "rank  item  score    title\n";
    for (std::size_t k = 0; k < out.size(); ++k)
        std::cout << std::setw(4) << k + 1 << "  " << std::setw(4) << out[k].item << "  " << std::fixed
                  << std::setprecision(4) << std::setw(7) << out[k].score << "  " << out[k].title << '\n';
    std::cout.unsetf(std::ios::floatfield);

    if (!a.json.empty()) {
        nlohmann::json j;
        j["model"] = res.model;
        j["model_file"] = a.model_file;
        j["data"] = source;
        j["user"] = a.user ? id_json(*a.user, res.user_names) : nlohmann::json(nullptr);
        j["ratings_file"] = a.ratings.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.ratings);
        j["k"] = a.k;
        j["exclude_seen"] = exclude_seen;
        j["recommendations"] = nlohmann::json::array();
        for (std::size_t k = 0; k < out.size(); ++k)
            j["recommendations"].push_back(
                {{"rank", k + 1}, {"item", id_json(out[k].item, res.item_names)}, {"title", out[k].title}, {"score", json_number(out[k].score)}});
        write_json_file(a.json, j);
    }
    return exit_ok;
}

}  // namespace cfnet_cli
