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
