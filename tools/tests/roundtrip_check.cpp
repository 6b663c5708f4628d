// ctest helper: the top-k that `cfnet recommend --json` wrote must be the library's own answer for
// the same model file, data, split and user (same items in the same order, bit-identical scores).
//
//   cfnet_cli_roundtrip_check MODEL DATA_DIR SPLIT SEED USER_ID K CLI_JSON
//   cfnet_cli_roundtrip_check MODEL DATA_DIR SPLIT SEED ratings:FILE K CLI_JSON   (fold-in of FILE)
//
// The library side is written independently of the tool's code: it loads the model with
// AutoencoderCF/NeuralCF::load, rebuilds the training matrix with the examples' loader and calls
// recommend() itself. Exit 0 when both agree, 1 (with the differences on stderr) otherwise.

#include "../../examples/example_support.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/serialize.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 8) {
        std::cerr << "usage: " << argv[0] << " MODEL DATA_DIR SPLIT SEED USER_ID K CLI_JSON\n";
        return 2;
    }
    try {
        const std::string model_path = argv[1], data = argv[2], split = argv[3], json_path = argv[7];
        const std::uint64_t seed = std::stoull(argv[4]);
        const std::string who = argv[5];
        const bool fold_in = who.rfind("ratings:", 0) == 0;
        const cfnet::id_type user = fold_in ? 0 : std::stoll(who);
        const std::size_t k = std::stoul(argv[6]);

        const auto info = cfnet::read_model_info(model_path);
        const std::string kind = info.metadata.at("model");
        std::vector<cfnet::id_type> lib_items;
        std::vector<float> lib_scores;
        if (kind == "AutoencoderCF" && fold_in) {
            // The new user's file, parsed here independently of the tool: "item rating", '#' comments.
            const auto model = cfnet::AutoencoderCF<float>::load(model_path);
            std::ifstream rf(who.substr(8));
            std::vector<cfnet::index_type> items;
            std::vector<float> ratings;
            for (std::string line; std::getline(rf, line);) {
                if (line.empty() || line[0] == '#') continue;
                std::istringstream ls(line);
                cfnet::id_type id = 0;
                float v = 0;
                if (!(ls >> id >> v)) throw std::runtime_error("bad line in " + who);
                items.push_back(model.item_map().index(id));
                ratings.push_back(v);
            }
            for (const auto& r : model.recommend(items, ratings, k)) {
                lib_items.push_back(model.item_map().id(r.item));
                lib_scores.push_back(r.score);
            }
        } else if (kind == "AutoencoderCF") {
            const auto w = examples::load_workload(data, split, seed);
            const auto model = cfnet::AutoencoderCF<float>::load(model_path, w.split.train);
            const auto u = w.split.train.users().index(user);
            for (const auto& r : model.recommend(w.split.train, u, k)) {
                lib_items.push_back(w.split.train.items().id(r.item));
                lib_scores.push_back(r.score);
            }
        } else if (kind == "NeuralCF") {
            const auto model = cfnet::NeuralCF<float>::load(model_path);
            for (const auto& r : model.recommend(model.user_map().index(user), k)) {
                lib_items.push_back(model.item_map().id(r.item));
                lib_scores.push_back(r.score);
            }
        } else {
            std::cerr << model_path << ": unexpected model type '" << kind << "'\n";
            return 1;
        }

        std::ifstream is(json_path);
        if (!is) {
            std::cerr << "cannot open " << json_path << " (did the recommend test run?)\n";
            return 1;
        }
        const nlohmann::json j = nlohmann::json::parse(is);
        bool ok = true;
        auto expect = [&](bool cond, const std::string& what) {
            if (!cond) {
                std::cerr << "MISMATCH: " << what << '\n';
                ok = false;
            }
        };
        expect(j.at("model").get<std::string>() == kind, "model type " + j.at("model").get<std::string>() + " vs " + kind);
        if (fold_in)
            expect(j.at("user").is_null() && j.at("ratings_file").get<std::string>() == who.substr(8), "ratings_file");
        else
            expect(j.at("user").get<cfnet::id_type>() == user, "user id");
        expect(j.at("k").get<std::size_t>() == k, "k");
        const auto& recs = j.at("recommendations");
        expect(lib_items.size() == k, "the library returned " + std::to_string(lib_items.size()) + " items, not k");
        expect(recs.size() == lib_items.size(),
               "the CLI listed " + std::to_string(recs.size()) + " items, the library " + std::to_string(lib_items.size()));
        for (std::size_t r = 0; r < std::min(recs.size(), lib_items.size()); ++r) {
            const auto item = recs[r].at("item").get<cfnet::id_type>();
            const auto score = static_cast<float>(recs[r].at("score").get<double>());
            expect(recs[r].at("rank").get<std::size_t>() == r + 1, "rank field at position " + std::to_string(r));
            expect(item == lib_items[r], "rank " + std::to_string(r + 1) + ": CLI item " + std::to_string(item) +
                                             ", library item " + std::to_string(lib_items[r]));
            expect(score == lib_scores[r], "rank " + std::to_string(r + 1) + ": CLI score " + std::to_string(score) +
                                               ", library score " + std::to_string(lib_scores[r]));
            expect(!recs[r].at("title").get<std::string>().empty(), "empty title at rank " + std::to_string(r + 1));
        }
        std::cout << (ok ? "OK: " : "FAILED: ") << kind << ", " << (fold_in ? who : "user " + who) << ", " << lib_items.size()
                  << " items compared\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
