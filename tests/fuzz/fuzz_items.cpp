// Fuzz target: the item-metadata readers: ML-100K's u.item + u.genre (Latin-1 or UTF-8),
// movies.dat / movies.csv (through the ML-1M and CSV loaders' item reader), and
// load_item_titles (interactions.hpp) for a fixed item space. Byte 0 picks the reader.
// Contract: every title is valid UTF-8 and ids are unique; a failure is an IoError naming the file.

#include "fuzz_common.hpp"

#include <cfnet/data/interactions.hpp>
#include <cfnet/data/movielens.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int pick = data[0] % 4;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string dir = cfnet_fuzz::fresh_dir("items");
    auto check_catalog = [](const cfnet::movielens::ItemCatalog& c) {
        for (const auto& it : c) {
            cfnet_fuzz::require(cfnet::detail::is_valid_utf8(it.title), "a title is not valid UTF-8");
            for (const auto& g : it.genres) cfnet_fuzz::require(cfnet::detail::is_valid_utf8(g), "a genre is not UTF-8");
        }
    };
    if (pick == 0) {
        const auto parts = cfnet_fuzz::split_parts(in, 2);
        cfnet_fuzz::write(dir + "/u.item", parts[0]);
        cfnet_fuzz::write(dir + "/u.genre", parts[1]);
        cfnet_fuzz::expect_contract(dir, [&] { check_catalog(cfnet::movielens::load_items_100k(dir)); });
    } else if (pick == 1 || pick == 2) {
        const std::string path = cfnet_fuzz::write(dir + (pick == 1 ? "/movies.dat" : "/movies.csv"), in);
        cfnet_fuzz::expect_contract(path, [&] { check_catalog(cfnet::movielens::detail::read_movies(path, pick == 2)); });
    } else {
        static const cfnet::IdMap ids = cfnet::IdMap::named({"a", "b", "10", "i_1", "Caf\xC3\xA9"}, "item");
        const std::string path = cfnet_fuzz::write(dir + "/titles.txt", in);
        cfnet_fuzz::expect_contract(path, [&] {
            const auto t = cfnet::load_item_titles(path, cfnet::ItemFileOptions(), ids);
            cfnet_fuzz::require(t.size() == ids.size(), "load_item_titles: not one title per item");
            for (const auto& s : t) cfnet_fuzz::require(cfnet::detail::is_valid_utf8(s), "a title is not valid UTF-8");
        });
    }
    return 0;
}
