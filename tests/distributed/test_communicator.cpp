#include <cfnet/distributed/communicator.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using cfnet::distributed::block_of;
using cfnet::distributed::CommKind;
using cfnet::distributed::SingleProcess;

TEST_CASE("SingleProcess: one rank, collectives are the identity") {
    SingleProcess comm;
    CHECK(comm.rank() == 0);
    CHECK(comm.size() == 1);
    std::vector<float> f{1.5f, -2.f, 3.f};
    comm.allreduce_sum(f);
    CHECK(f == std::vector<float>{1.5f, -2.f, 3.f});
    std::vector<double> d{0.25, 7.0};
    comm.allreduce_sum(d);
    CHECK(d == std::vector<double>{0.25, 7.0});
    CHECK(comm.allreduce_sum(std::int64_t(41)) == 41);
    CHECK(comm.allgather(3.5) == std::vector<double>{3.5});
    std::vector<std::size_t> counts;
    CHECK(comm.allgatherv(std::vector<int>{4, 5, 6}, &counts) == std::vector<int>{4, 5, 6});
    CHECK(counts == std::vector<std::size_t>{3});
    CHECK(comm.allgatherv(std::vector<int>{}).empty());
    std::vector<std::int64_t> b{9, 8};
    comm.broadcast(b, 0);
    CHECK(b == std::vector<std::int64_t>{9, 8});
    comm.barrier();
    CHECK_THROWS_AS(comm.broadcast(b, 1), cfnet::InvalidArgument);
}

TEST_CASE("SingleProcess: counts calls and payload bytes by kind") {
    SingleProcess comm;
    std::vector<float> f(10);
    comm.allreduce_sum(f);                 // 40 bytes each way
    std::vector<double> d(3);
    comm.allreduce_sum(d);                 // 24
    const auto& s = comm.stats();
    CHECK(s.calls_of(CommKind::allreduce) == 2);
    CHECK(s.sent(CommKind::allreduce) == 64);
    CHECK(s.received(CommKind::allreduce) == 64);
    // allgather: this rank's part is sent; with one rank nothing is received from others.
    (void)comm.allgather(std::int64_t(1));
    CHECK(s.calls_of(CommKind::allgather) == 1);
    CHECK(s.sent(CommKind::allgather) == 8);
    CHECK(s.received(CommKind::allgather) == 0);
    // allgatherv = an allgather of the lengths (8 bytes) + the data (3 floats)
    (void)comm.allgatherv(std::vector<float>(3));
    CHECK(s.calls_of(CommKind::allgather) == 3);
    CHECK(s.sent(CommKind::allgather) == 8 + 8 + 12);
    // broadcast of a vector: its length, then its data; the root sends
    std::vector<float> b(5);
    comm.broadcast(b);
    CHECK(s.calls_of(CommKind::broadcast) == 2);
    CHECK(s.sent(CommKind::broadcast) == 8 + 20);
    CHECK(s.received(CommKind::broadcast) == 0);
    comm.barrier();
    CHECK(s.calls_of(CommKind::barrier) == 1);
    CHECK(s.total_bytes() == 64 * 2 + 28 + 28);
    const auto before_extra = comm.stats();
    // reduce-scatter: the whole send buffer is sent, this rank's block received (with one rank: all of it)
    const std::vector<float> send = {1, 2, 3};
    std::vector<float> got(3);
    comm.reduce_scatter_sum(send.data(), got.data(), {3});
    CHECK(got == send);
    CHECK(s.sent(CommKind::reduce_scatter) == 12);
    CHECK(s.received(CommKind::reduce_scatter) == 12);
    CHECK_THROWS_AS(comm.reduce_scatter_sum(send.data(), got.data(), {1, 2}), cfnet::InvalidArgument);
    // allgatherv with known counts: no exchange of lengths
    std::vector<float> all(3);
    comm.allgatherv(send.data(), all.data(), {3});
    CHECK(all == send);
    CHECK(s.calls_of(CommKind::allgather) == 4);
    // gatherv: the lengths (an allgather), then the data on the root
    CHECK(comm.gatherv(send) == send);
    CHECK(s.calls_of(CommKind::gather) == 1);
    CHECK(s.sent(CommKind::gather) == 12);
    CHECK(s.received(CommKind::gather) == 0);
    CHECK_THROWS_AS(comm.gatherv(send, 1), cfnet::InvalidArgument);
    // the difference of two counts is the phase between them; total_sent sums every kind's sent bytes
    const auto phase = comm.stats() - before_extra;
    CHECK(phase.calls_of(CommKind::reduce_scatter) == 1);
    CHECK(phase.calls_of(CommKind::allreduce) == 0);
    CHECK(phase.total_sent() == 12 + 12 + (8 + 12));  // reduce-scatter, allgatherv, gatherv (lengths, data)
    comm.reset_stats();
    CHECK(comm.stats().total_bytes() == 0);
    CHECK(comm.stats().calls_of(CommKind::allreduce) == 0);
}

TEST_CASE("block_of: contiguous blocks that cover 0..n once, sizes differ by at most one") {
    for (std::size_t n : {0u, 1u, 2u, 7u, 10u, 943u}) {
        for (int size = 1; size <= 5; ++size) {
            std::size_t next = 0, lo = n, hi = 0;
            for (int r = 0; r < size; ++r) {
                const auto b = block_of(n, r, size);
                CHECK(b.begin == next);
                next = b.end;
                lo = std::min(lo, b.size());
                hi = std::max(hi, b.size());
            }
            CHECK(next == n);
            CHECK(hi - lo <= 1);
        }
    }
    // 10 rows on 3 ranks: 4, 3, 3
    CHECK(block_of(10, 0, 3).size() == 4);
    CHECK(block_of(10, 1, 3).begin == 4);
    CHECK(block_of(10, 2, 3).end == 10);
    CHECK(block_of(10, 2, 3).contains(9));
    CHECK_FALSE(block_of(10, 2, 3).contains(6));
    CHECK_THROWS_AS(block_of(10, 3, 3), cfnet::InvalidArgument);
    CHECK_THROWS_AS(block_of(10, 0, 0), cfnet::InvalidArgument);
}
