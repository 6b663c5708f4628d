// Fuzz target: the held-out split file reader (split_from_heldout_file, data/movielens.hpp) against
// a fixed small rating matrix (users 1..6, items 10..17). The input is the file.
// Contract: train and test meet every invariant, share the matrix's space, partition its ratings
// and test holds exactly the listed pairs; a failure is an IoError/ParseError naming the file.

#include "fuzz_common.hpp"

#include <cfnet/data/movielens.hpp>

namespace {

const cfnet::RatingMatrix<float>& all() {
    static const cfnet::RatingMatrix<float> m = [] {
        std::vector<cfnet::Rating<float>> r;
        for (cfnet::id_type u = 1; u <= 6; ++u)
            for (cfnet::id_type i = 10; i <= 17; ++i)
                if ((u * 7 + i) % 3 != 0) r.push_back({u, i, static_cast<float>(1 + (u + i) % 5) * 0.5f + 0.5f, 0});
        return cfnet::RatingMatrix<float>::from_ratings(r);
    }();
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = cfnet_fuzz::write(cfnet_fuzz::scratch() + "/heldout.tsv",
                                               std::string_view(reinterpret_cast<const char*>(data), size));
    cfnet_fuzz::expect_contract(path, [&] {
        const auto s = cfnet::split_from_heldout_file(all(), path);
        cfnet_fuzz::check_matrix(s.train);
        cfnet_fuzz::check_matrix(s.test);
        cfnet_fuzz::require(s.train.same_space(all()) && s.test.same_space(all()), "the split changed the space");
        cfnet_fuzz::require(s.train.nnz() + s.test.nnz() == all().nnz(), "train + test is not every rating");
        for (cfnet::index_type u = 0; u < all().n_users(); ++u)
            for (const auto i : s.test.user_items(u))
                cfnet_fuzz::require(!s.train.contains(u, i) && all().contains(u, i), "a test pair is wrong");
    });
    return 0;
}
