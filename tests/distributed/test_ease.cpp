// distributed/ease.hpp on one rank (SingleProcess): the same B as Ease::fit, the Gram's upper
// triangle counted as the one allreduce; the options it refuses. N ranks: tests/distributed/mpi/.
#include <cfnet/distributed/ease.hpp>

#include "support/autoencoder.hpp"

#include <catch2/catch.hpp>

#include <vector>

using cfnet::Ease;
using cfnet::EaseOptions;
using cfnet::distributed::CommKind;
using cfnet::distributed::fit_sharded;
using cfnet::distributed::SingleProcess;

TEST_CASE("fit_sharded(Ease) on one rank = Ease::fit, bit for bit, with one allreduce of the upper triangle") {
    const auto m = cfnet_test::sparse_ratings<float>(50, 30, 6, 4);
    Ease<float> ref(EaseOptions().l2(20)), dist(EaseOptions().l2(20));
    ref.fit(m);
    SingleProcess comm;
    fit_sharded(dist, m, comm);
    const auto& a = ref.weights();
    const auto& b = dist.weights();
    REQUIRE(a.size() == b.size());
    CHECK(std::equal(a.begin(), a.end(), b.begin()));
    const std::size_t k = 30;
    CHECK(comm.stats().calls_of(CommKind::allreduce) == 1);
    CHECK(comm.stats().sent(CommKind::allreduce) == k * (k + 1) / 2 * sizeof(float));
    // the reduction is cleared afterwards: a later plain fit communicates nothing
    comm.reset_stats();
    dist.fit(m);
    CHECK(comm.stats().total_bytes() == 0);
}

TEST_CASE("fit_sharded(Ease): refuses lambda selection and max_items, naming them") {
    const auto m = cfnet_test::sparse_ratings<float>(20, 10, 3, 1);
    SingleProcess comm;
    Ease<float> sel(EaseOptions().select_lambda({1, 10}));
    CHECK_THROWS_WITH(fit_sharded(sel, m, comm), Catch::Contains("lambda selection"));
    Ease<float> few(EaseOptions().most_frequent(3));
    CHECK_THROWS_WITH(fit_sharded(few, m, comm), Catch::Contains("max_items 3"));
}
