// distributed/mpi.hpp's MpiCommunicator on N ranks (run under mpirun -np 2 and -np 3).
#include <cfnet/distributed/mpi.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <vector>

using cfnet::distributed::CommKind;
using cfnet::distributed::MpiCommunicator;

TEST_CASE("MpiCommunicator: allreduce sums of float, double and int64 buffers") {
    MpiCommunicator comm;
    const int r = comm.rank(), n = comm.size();
    REQUIRE(n >= 2);
    // rank r contributes (r + 1) * (k + 1): the sum is (k + 1) n (n + 1) / 2, exact in every type
    std::vector<float> f(1000);
    std::vector<double> d(7);
    std::vector<std::int64_t> i(3);
    for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>((r + 1) * static_cast<int>(k + 1));
    for (std::size_t k = 0; k < d.size(); ++k) d[k] = 0.5 * (r + 1) * static_cast<double>(k + 1);
    for (std::size_t k = 0; k < i.size(); ++k) i[k] = (std::int64_t(1) << 40) * (r + 1) + static_cast<std::int64_t>(k);
    comm.allreduce_sum(f);
    comm.allreduce_sum(d);
    comm.allreduce_sum(i);
    const int tri = n * (n + 1) / 2;
    for (std::size_t k = 0; k < f.size(); ++k) REQUIRE(f[k] == static_cast<float>(tri * static_cast<int>(k + 1)));
    for (std::size_t k = 0; k < d.size(); ++k) REQUIRE(d[k] == 0.5 * tri * static_cast<double>(k + 1));
    for (std::size_t k = 0; k < i.size(); ++k)
        REQUIRE(i[k] == (std::int64_t(1) << 40) * tri + static_cast<std::int64_t>(k) * n);
    const auto& s = comm.stats();
    CHECK(s.calls_of(CommKind::allreduce) == 3);
    CHECK(s.sent(CommKind::allreduce) == 1000 * 4 + 7 * 8 + 3 * 8);
}

TEST_CASE("MpiCommunicator: allgather and allgatherv of uneven parts, in rank order") {
    MpiCommunicator comm;
    const int r = comm.rank(), n = comm.size();
    const auto all = comm.allgather(static_cast<std::int64_t>(10 * r));
    REQUIRE(all.size() == static_cast<std::size_t>(n));
    for (int q = 0; q < n; ++q) CHECK(all[static_cast<std::size_t>(q)] == 10 * q);
    // rank q gives q items (rank 0: none) valued 100 q + k
    std::vector<int> mine(static_cast<std::size_t>(r));
    for (int k = 0; k < r; ++k) mine[static_cast<std::size_t>(k)] = 100 * r + k;
    std::vector<std::size_t> counts;
    const auto got = comm.allgatherv(mine, &counts);
    std::vector<int> expect;
    for (int q = 0; q < n; ++q)
        for (int k = 0; k < q; ++k) expect.push_back(100 * q + k);
    CHECK(got == expect);
    REQUIRE(counts.size() == static_cast<std::size_t>(n));
    for (int q = 0; q < n; ++q) CHECK(counts[static_cast<std::size_t>(q)] == static_cast<std::size_t>(q));
    // received = the other ranks' parts (+ their lengths: 8 bytes each, twice for allgather + allgatherv's count)
    const std::size_t others_items = expect.size() - static_cast<std::size_t>(r);
    CHECK(comm.stats().received(CommKind::allgather) == 2 * 8 * static_cast<std::size_t>(n - 1) + 4 * others_items);
}

TEST_CASE("MpiCommunicator: broadcast from any root, the length too, and barrier") {
    MpiCommunicator comm;
    const int n = comm.size();
    for (int root = 0; root < n; ++root) {
        std::vector<double> v;
        if (comm.rank() == root) v = {1.0 * root, 2.0, 3.0};
        comm.broadcast(v, root);
        CHECK(v == std::vector<double>{1.0 * root, 2.0, 3.0});
    }
    comm.barrier();
    CHECK(comm.stats().calls_of(CommKind::barrier) == 1);
    CHECK_THROWS_AS(comm.broadcast(static_cast<double*>(nullptr), 0, n), cfnet::InvalidArgument);
}

TEST_CASE("MpiCommunicator: reduce-scatter of uneven blocks, allgatherv with known counts, gatherv to any root") {
    MpiCommunicator comm;
    const int r = comm.rank(), n = comm.size();
    // block q has q + 2 elements; rank r contributes (r + 1) (1000 q + k) to element k of block q
    std::vector<std::size_t> counts(static_cast<std::size_t>(n));
    std::size_t total = 0;
    for (int q = 0; q < n; ++q) total += counts[static_cast<std::size_t>(q)] = static_cast<std::size_t>(q + 2);
    std::vector<float> f;
    std::vector<double> d;
    for (int q = 0; q < n; ++q)
        for (int k = 0; k < q + 2; ++k) {
            f.push_back(static_cast<float>((r + 1) * (1000 * q + k)));
            d.push_back(0.25 * (r + 1) * (1000 * q + k));
        }
    std::vector<float> fr(static_cast<std::size_t>(r + 2));
    std::vector<double> dr(fr.size());
    comm.reduce_scatter_sum(f.data(), fr.data(), counts);
    comm.reduce_scatter_sum(d.data(), dr.data(), counts);
    const int tri = n * (n + 1) / 2;
    for (int k = 0; k < r + 2; ++k) {
        CHECK(fr[static_cast<std::size_t>(k)] == static_cast<float>(tri * (1000 * r + k)));
        CHECK(dr[static_cast<std::size_t>(k)] == 0.25 * tri * (1000 * r + k));
    }
    CHECK(comm.stats().calls_of(CommKind::reduce_scatter) == 2);
    CHECK(comm.stats().sent(CommKind::reduce_scatter) == total * 12);
    CHECK(comm.stats().received(CommKind::reduce_scatter) == fr.size() * 12);

    // the blocks back together on every rank: rank q's block is 1000 q + k
    std::vector<int> mine(static_cast<std::size_t>(r + 2)), all(total);
    for (int k = 0; k < r + 2; ++k) mine[static_cast<std::size_t>(k)] = 1000 * r + k;
    comm.allgatherv(mine.data(), all.data(), counts);
    std::size_t at = 0;
    for (int q = 0; q < n; ++q)
        for (int k = 0; k < q + 2; ++k) CHECK(all[at++] == 1000 * q + k);
    CHECK(comm.stats().calls_of(CommKind::allgather) == 1);  // no exchange of the counts
    CHECK(comm.stats().received(CommKind::allgather) == (total - mine.size()) * 4);
    CHECK_THROWS_AS(comm.allgatherv(mine.data(), all.data(), std::vector<std::size_t>(1)), cfnet::InvalidArgument);

    for (int root = 0; root < n; ++root) {
        std::vector<std::size_t> got_counts;
        const auto got = comm.gatherv(mine, root, &got_counts);
        if (r == root) {
            CHECK(got == all);
            CHECK(got_counts == counts);
        } else {
            CHECK(got.empty());
            CHECK(got_counts.empty());
        }
    }
    CHECK(comm.stats().calls_of(CommKind::gather) == static_cast<std::uint64_t>(n));
    CHECK(comm.stats().sent(CommKind::gather) == static_cast<std::uint64_t>(n) * mine.size() * 4);
    CHECK(comm.stats().received(CommKind::gather) == (total - mine.size()) * 4);  // once, as the root
}
