// models/ease/io.hpp: save/load gives bit-identical scores (all items and max_items), every stored
// option survives the round trip, and wrong, missing or damaged files give clear errors.
#include <cfnet/ease.hpp>

#include "support/model_files.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using cfnet::Ease;
using cfnet::EaseOptions;
using cfnet::index_type;

namespace {
std::string path_of(const std::string& name) { return cfnet_test::scratch_dir("ease") + "/" + name; }
}  // namespace

TEST_CASE("Ease: save/load gives bit-identical scores and the same options", "[ease]") {
    const auto m = cfnet_test::small_data();
    std::vector<EaseOptions> saved{
        EaseOptions().l2(7.5).select_lambda({2, 30}).validation(0.3, 4, cfnet::EaseSelection::precision).random_seed(5),
        EaseOptions().l2(3).most_frequent(20).memory(std::size_t(1) << 30).n_threads(1)};
    std::vector<EaseOptions> loaded;
    for (const auto& o : saved) {
        Ease<float> model(o);
        model.fit(m);
        const auto path = path_of("model.cfnet");
        model.save(path);
        const auto back = Ease<float>::load(path);
        loaded.push_back(back.options());
        CHECK(back.fitted());
        CHECK(back.selected_lambda() == model.selected_lambda());
        CHECK(back.kept_items() == model.kept_items());
        CHECK(back.n_users() == model.n_users());
        CHECK(back.item_map().ids() == model.item_map().ids());
        CHECK(back.weights() == model.weights());
        std::vector<float> a(m.n_items()), b(m.n_items());
        for (index_type u = 0; u < m.n_users(); ++u) {
            model.score_items(m, u, a.data());
            back.score_items(m, u, b.data());
            REQUIRE(a == b);
        }
        CHECK(back.options().lambdas.empty());  // candidates only steer a fit
    }
    cfnet_test::check_every_field(saved, loaded);
}

TEST_CASE("Ease: wrong, missing and damaged model files", "[ease]") {
    const auto m = cfnet_test::small_data();
    Ease<float> model(EaseOptions().l2(5));
    model.fit(m);
    const auto path = path_of("good.cfnet");
    model.save(path);
    CHECK_THROWS_AS(Ease<float>::load(path_of("missing.cfnet")), cfnet::IoError);
    CHECK_THROWS_WITH(Ease<float>::load(path_of("missing.cfnet")), Contains("missing.cfnet"));
    CHECK_THROWS_AS(Ease<double>::load(path), cfnet::InvalidArgument);  // another scalar type
    // truncated
    {
        std::ifstream in(path, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto cut = path_of("cut.cfnet");
        std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
        CHECK_THROWS_AS(Ease<float>::load(cut), cfnet::IoError);
    }
    // another model's file
    auto file = cfnet::read_model_file<float>(path);
    auto other = file;
    other.metadata["model"] = "MostPopular";
    const auto other_path = path_of("other.cfnet");
    cfnet::save_model_file(other_path, other);
    CHECK_THROWS_WITH(Ease<float>::load(other_path), Contains("'MostPopular' model, not Ease"));
    // a B of the wrong shape, bad kept items
    auto shape = file;
    shape.tensors[0].second = cfnet::Matrix<float>::from_shape({3, 3});
    cfnet::save_model_file(other_path, shape);
    CHECK_THROWS_WITH(Ease<float>::load(other_path), Contains("tensor 'B'"));
    auto kept = file;
    kept.metadata["kept_items"] = "3,2";
    cfnet::save_model_file(other_path, kept);
    CHECK_THROWS_WITH(Ease<float>::load(other_path), Contains("kept_items"));
    // an invalid option value
    auto lam = file;
    lam.metadata["lambda"] = "-1";
    cfnet::save_model_file(other_path, lam);
    CHECK_THROWS_WITH(Ease<float>::load(other_path), Contains("lambda must be > 0"));
    // every key with a bogus value names the file and the key
    auto keys = cfnet_test::table_keys<EaseOptions>();
    keys.push_back("selected_lambda");
    keys.push_back("n_users");
    keys.push_back("item_ids");
    cfnet_test::check_bad_values(path, keys, [](const std::string& p) { return Ease<float>::load(p); });
}
