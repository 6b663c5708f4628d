// Fuzz target: every MovieLens loader (data/movielens.hpp) on a directory built from one input:
// byte 0 picks the variant, the rest is split into its files at "\n~~~\n".
//   0: ML-100K   u.data, u.item, u.genre, u.user (load + load_users)
//   1: ML-1M     ratings.dat, movies.dat, users.dat
//   2: ML-10M    ratings.dat, movies.dat
//   3: CSV       ratings.csv, movies.csv
//   4: ML-100K's shipped split u1.base, u1.test (load_100k_split)
// Contract: loaded ratings meet every invariant and every rated item is in the catalog; a split's
// two matrices share one space and no pair; a failure is an IoError naming the directory.

#include "fuzz_common.hpp"

#include <cfnet/data/movielens.hpp>

namespace {

void check_dataset(const cfnet::movielens::Dataset<float>& d) {
    cfnet_fuzz::check_matrix(d.ratings);
    cfnet_fuzz::require(d.ratings.nnz() > 0, "a dataset without ratings was accepted");
    for (cfnet::index_type i = 0; i < d.ratings.n_items(); ++i)
        cfnet_fuzz::require(d.items.contains(d.ratings.items().id(i)), "a rated item is missing from the catalog");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int variant = data[0] % 5;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    static const std::vector<std::vector<const char*>> files = {{"u.data", "u.item", "u.genre", "u.user"},
                                                                {"ratings.dat", "movies.dat", "users.dat"},
                                                                {"ratings.dat", "movies.dat"},
                                                                {"ratings.csv", "movies.csv"},
                                                                {"u1.base", "u1.test"}};
    const auto& names = files[static_cast<std::size_t>(variant)];
    const auto parts = cfnet_fuzz::split_parts(in, names.size());
    const std::string dir = cfnet_fuzz::fresh_dir("ml");
    for (std::size_t k = 0; k < names.size(); ++k) cfnet_fuzz::write(dir + "/" + names[k], parts[k]);
    if (variant == 4) {
        cfnet_fuzz::expect_contract(dir, [&] {
            const auto s = cfnet::movielens::load_100k_split<float>(dir, "u1");
            cfnet_fuzz::check_matrix(s.train);
            cfnet_fuzz::check_matrix(s.test);
            cfnet_fuzz::require(s.train.same_space(s.test), "the split's matrices are in different spaces");
            for (cfnet::index_type u = 0; u < s.test.n_users(); ++u)
                for (const auto i : s.test.user_items(u))
                    cfnet_fuzz::require(!s.train.contains(u, i), "a pair is in both train and test");
        });
        return 0;
    }
    cfnet_fuzz::expect_contract(dir, [&] { check_dataset(cfnet::movielens::load<float>(dir)); });
    if (variant == 0)
        cfnet_fuzz::expect_contract(dir, [&] {
            const auto users = cfnet::movielens::load_users(dir);
            for (const auto& u : users)
                cfnet_fuzz::require(u.age >= 0 && u.age <= 150, "an age outside [0, 150] was accepted");
        });
    return 0;
}
