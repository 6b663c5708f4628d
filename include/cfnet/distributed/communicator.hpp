#pragma once
/// @file distributed/communicator.hpp
/// The communicator interface cfnet's distributed code programs against (docs/distributed.md):
/// rank, size, an in-place allreduce sum of float / double / int64 buffers, reduce-scatter,
/// allgather(v), gatherv, broadcast and barrier; typed and blocking. `SingleProcess` is the default (one rank, no MPI,
/// nothing leaves the process); `MpiCommunicator` (distributed/mpi.hpp, target cfnet::mpi) runs
/// the same calls on MPI. Every call is counted by kind (calls, payload bytes sent and received)
/// in the base class, so both backends count the same way and the counts can be compared with
/// the formulas in docs/distributed.md.
///
/// @code
///   cfnet::distributed::SingleProcess comm;   // or MpiCommunicator under mpirun
///   std::vector<float> g = ...;                // this rank's part of a gradient
///   comm.allreduce_sum(g);                     // every rank now holds the sum
///   auto counts = comm.allgather(std::int64_t(local_rows));
///   std::printf("%llu bytes\n", (unsigned long long)comm.stats().total_bytes());
/// @endcode
///
/// Byte counting (the payload, not the wire): allreduce of n elements counts n * sizeof(T) sent
/// and received per rank; reduce-scatter of n elements counts n * sizeof(T) sent and this rank's
/// block received; allgather(v) counts this rank's part as sent and the other ranks' parts as
/// received; gatherv the same, received on the root only; broadcast counts the buffer as sent on the root and received elsewhere;
/// barrier counts a call and no bytes. What an MPI library puts on the wire for this payload
/// (e.g. 2 (N-1)/N x the payload per rank for a ring allreduce) is in docs/distributed.md.

#include <cfnet/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace cfnet::distributed {

/// The kinds of collective calls, as counted in CommStats.
enum class CommKind : int { allreduce = 0, allgather = 1, broadcast = 2, barrier = 3, reduce_scatter = 4, gather = 5 };

/// Calls and payload bytes per kind of call (see the file comment for what is counted).
struct CommStats {
    static constexpr std::size_t kinds = 6;
    std::array<std::uint64_t, kinds> calls{};
    std::array<std::uint64_t, kinds> bytes_sent{};
    std::array<std::uint64_t, kinds> bytes_received{};

    std::uint64_t calls_of(CommKind k) const noexcept { return calls[static_cast<std::size_t>(k)]; }
    std::uint64_t sent(CommKind k) const noexcept { return bytes_sent[static_cast<std::size_t>(k)]; }
    std::uint64_t received(CommKind k) const noexcept { return bytes_received[static_cast<std::size_t>(k)]; }
    /// Sent over every kind.
    std::uint64_t total_sent() const noexcept {
        std::uint64_t t = 0;
        for (std::size_t k = 0; k < kinds; ++k) t += bytes_sent[k];
        return t;
    }
    /// Sent + received over every kind.
    std::uint64_t total_bytes() const noexcept {
        std::uint64_t t = 0;
        for (std::size_t k = 0; k < kinds; ++k) t += bytes_sent[k] + bytes_received[k];
        return t;
    }
    /// Adds (subtracts) another count kind by kind: the calls of a phase are now - before.
    CommStats& operator+=(const CommStats& o) noexcept { return combine(o, false); }
    CommStats& operator-=(const CommStats& o) noexcept { return combine(o, true); }
    friend CommStats operator-(CommStats a, const CommStats& b) noexcept { return a -= b; }

private:
    CommStats& combine(const CommStats& o, bool minus) noexcept {
        for (std::size_t k = 0; k < kinds; ++k) {
            calls[k] = minus ? calls[k] - o.calls[k] : calls[k] + o.calls[k];
            bytes_sent[k] = minus ? bytes_sent[k] - o.bytes_sent[k] : bytes_sent[k] + o.bytes_sent[k];
            bytes_received[k] = minus ? bytes_received[k] - o.bytes_received[k] : bytes_received[k] + o.bytes_received[k];
        }
        return *this;
    }
};

/// A group of `size()` processes running the same program. All calls are collective and blocking:
/// every rank must make the same calls in the same order with the same element counts (allgatherv
/// excepted). Not thread-safe.
class Communicator {
public:
    virtual ~Communicator() = default;

    /// This process's rank, 0 .. size() - 1.
    virtual int rank() const = 0;
    /// The number of ranks (>= 1).
    virtual int size() const = 0;

    // --- allreduce (sum, in place) ----------------------------------------------------------------
    /// data[0..n) = the element-wise sum of every rank's data[0..n). The summation order is the
    /// backend's (MPI does not promise one), so float sums agree across rank counts only up to
    /// rounding.
    void allreduce_sum(float* data, std::size_t n) { reduce_counted(data, n, DType::f32); }
    void allreduce_sum(double* data, std::size_t n) { reduce_counted(data, n, DType::f64); }
    void allreduce_sum(std::int64_t* data, std::size_t n) { reduce_counted(data, n, DType::i64); }
    template <class T>
    void allreduce_sum(std::vector<T>& data) {
        allreduce_sum(data.data(), data.size());
    }
    /// The sum of one value over all ranks.
    template <class T>
    T allreduce_sum(T value) {
        allreduce_sum(&value, 1);
        return value;
    }

    // --- reduce-scatter (sum) ---------------------------------------------------------------------
    /// send[0..sum(counts)) holds one block per rank, in rank order (counts[r] elements for rank r,
    /// the same counts on every rank); recv[0..counts[rank()]) = the element-wise sum over all ranks
    /// of this rank's block. What an allreduce does, with each rank keeping only its block.
    /// @throws InvalidArgument when counts does not have one entry per rank.
    void reduce_scatter_sum(const float* send, float* recv, const std::vector<std::size_t>& counts) {
        scatter_counted(send, recv, counts, DType::f32);
    }
    void reduce_scatter_sum(const double* send, double* recv, const std::vector<std::size_t>& counts) {
        scatter_counted(send, recv, counts, DType::f64);
    }

    // --- allgather(v) -----------------------------------------------------------------------------
    /// Every rank's `value`, in rank order (trivially copyable T).
    template <class T>
    std::vector<T> allgather(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>, "Communicator::allgather: T must be trivially copyable");
        std::vector<T> out(static_cast<std::size_t>(size()));
        std::vector<std::size_t> bytes(out.size(), sizeof(T));
        gather_counted(&value, sizeof(T), out.data(), bytes);
        return out;
    }

    /// The concatenation of every rank's `local` in rank order (ranks may give different lengths);
    /// `counts`, when given, receives each rank's length.
    template <class T>
    std::vector<T> allgatherv(const std::vector<T>& local, std::vector<std::size_t>* counts = nullptr) {
        static_assert(std::is_trivially_copyable_v<T>, "Communicator::allgatherv: T must be trivially copyable");
        const auto n = allgather(static_cast<std::uint64_t>(local.size()));
        std::vector<std::size_t> bytes(n.size());
        std::size_t total = 0;
        for (std::size_t r = 0; r < n.size(); ++r) {
            bytes[r] = static_cast<std::size_t>(n[r]) * sizeof(T);
            total += static_cast<std::size_t>(n[r]);
        }
        std::vector<T> out(total);
        gather_counted(local.data(), local.size() * sizeof(T), out.data(), bytes);
        if (counts) counts->assign(n.begin(), n.end());
        return out;
    }

    /// recv[0..sum(counts)) = every rank's send[0..counts[rank]) concatenated in rank order, the
    /// counts known on every rank (nothing is exchanged but the data; trivially copyable T).
    /// @throws InvalidArgument when counts does not have one entry per rank.
    template <class T>
    void allgatherv(const T* send, T* recv, const std::vector<std::size_t>& counts) {
        static_assert(std::is_trivially_copyable_v<T>, "Communicator::allgatherv: T must be trivially copyable");
        check_counts("allgatherv", counts);
        std::vector<std::size_t> bytes(counts.size());
        for (std::size_t r = 0; r < counts.size(); ++r) bytes[r] = counts[r] * sizeof(T);
        gather_counted(send, bytes[static_cast<std::size_t>(rank())], recv, bytes);
    }

    // --- gatherv ----------------------------------------------------------------------------------
    /// The concatenation of every rank's `local` in rank order on rank `root` (ranks may give
    /// different lengths); an empty vector elsewhere. `counts`, when given, receives each rank's
    /// length on the root.
    /// @throws InvalidArgument when root is not a rank.
    template <class T>
    std::vector<T> gatherv(const std::vector<T>& local, int root = 0, std::vector<std::size_t>* counts = nullptr) {
        static_assert(std::is_trivially_copyable_v<T>, "Communicator::gatherv: T must be trivially copyable");
        check_root("gatherv", root);
        const auto n = allgather(static_cast<std::uint64_t>(local.size()));  // the root's counts (8 bytes per rank)
        std::vector<std::size_t> bytes(n.size());
        std::size_t total = 0, others = 0;
        for (std::size_t r = 0; r < n.size(); ++r) {
            bytes[r] = static_cast<std::size_t>(n[r]) * sizeof(T);
            total += static_cast<std::size_t>(n[r]);
            if (static_cast<int>(r) != root) others += bytes[r];
        }
        const bool is_root = rank() == root;
        std::vector<T> out(is_root ? total : 0);
        count(CommKind::gather, local.size() * sizeof(T), is_root ? others : 0);
        if (size() > 1) {
            do_gatherv(local.data(), local.size() * sizeof(T), out.data(), bytes, root);
        } else if (!local.empty()) {
            std::memcpy(out.data(), local.data(), local.size() * sizeof(T));
        }
        if (counts && is_root) counts->assign(n.begin(), n.end());
        return out;
    }

    // --- broadcast --------------------------------------------------------------------------------
    /// data[0..n) of rank `root` is copied to every rank's data[0..n) (trivially copyable T).
    /// @throws InvalidArgument when root is not a rank.
    template <class T>
    void broadcast(T* data, std::size_t n, int root = 0) {
        static_assert(std::is_trivially_copyable_v<T>, "Communicator::broadcast: T must be trivially copyable");
        check_root("broadcast", root);
        count(CommKind::broadcast, rank() == root ? n * sizeof(T) : 0, rank() == root ? 0 : n * sizeof(T));
        if (size() > 1 && n) do_broadcast(data, n * sizeof(T), root);
    }
    /// The root's vector (its length too) on every rank.
    template <class T>
    void broadcast(std::vector<T>& data, int root = 0) {
        auto n = static_cast<std::uint64_t>(data.size());
        broadcast(&n, 1, root);
        data.resize(static_cast<std::size_t>(n));
        broadcast(data.data(), data.size(), root);
    }

    /// Returns when every rank has called it.
    void barrier() {
        count(CommKind::barrier, 0, 0);
        if (size() > 1) do_barrier();
    }

    // --- counting ---------------------------------------------------------------------------------
    const CommStats& stats() const noexcept { return stats_; }
    void reset_stats() noexcept { stats_ = CommStats{}; }

protected:
    enum class DType { f32, f64, i64 };
    static std::size_t dtype_size(DType t) noexcept { return t == DType::f32 ? 4 : 8; }

    /// The backend's operations; called only when size() > 1 (the base class handles one rank).
    virtual void do_allreduce_sum(void* data, std::size_t n, DType type) = 0;
    /// recv gets rank r's recv_bytes[r] bytes at offset sum(recv_bytes[0..r)); send_bytes == recv_bytes[rank()].
    virtual void do_allgatherv(const void* send, std::size_t send_bytes, void* recv,
                               const std::vector<std::size_t>& recv_bytes) = 0;
    virtual void do_broadcast(void* data, std::size_t bytes, int root) = 0;
    virtual void do_barrier() = 0;
    /// recv gets counts[rank()] elements: the sum of every rank's send block rank().
    virtual void do_reduce_scatter_sum(const void* send, void* recv, const std::vector<std::size_t>& counts,
                                       DType type) = 0;
    /// As do_allgatherv, the result on `root` only (recv unused elsewhere).
    virtual void do_gatherv(const void* send, std::size_t send_bytes, void* recv, const std::vector<std::size_t>& recv_bytes,
                            int root) = 0;

private:
    void count(CommKind k, std::size_t sent, std::size_t received) noexcept {
        const auto i = static_cast<std::size_t>(k);
        ++stats_.calls[i];
        stats_.bytes_sent[i] += sent;
        stats_.bytes_received[i] += received;
    }
    void reduce_counted(void* data, std::size_t n, DType type) {
        check_arg(data != nullptr || n == 0, "Communicator::allreduce_sum: null buffer for ", n, " elements");
        const std::size_t bytes = n * dtype_size(type);
        count(CommKind::allreduce, bytes, bytes);
        if (size() > 1 && n) do_allreduce_sum(data, n, type);
    }
    void scatter_counted(const void* send, void* recv, const std::vector<std::size_t>& counts, DType type) {
        check_counts("reduce_scatter_sum", counts);
        std::size_t total = 0;
        for (const auto c : counts) total += c;
        const std::size_t es = dtype_size(type), mine = counts[static_cast<std::size_t>(rank())];
        check_arg((send != nullptr || total == 0) && (recv != nullptr || mine == 0),
                  "Communicator::reduce_scatter_sum: null buffer");
        count(CommKind::reduce_scatter, total * es, mine * es);
        if (size() > 1) {
            do_reduce_scatter_sum(send, recv, counts, type);
        } else if (mine) {
            std::memcpy(recv, send, mine * es);
        }
    }
    void check_counts(const char* fn, const std::vector<std::size_t>& counts) const {
        check_arg(counts.size() == static_cast<std::size_t>(size()), "Communicator::", fn, ": ", counts.size(),
                  " counts for ", size(), " ranks");
    }
    void gather_counted(const void* send, std::size_t send_bytes, void* recv, const std::vector<std::size_t>& recv_bytes) {
        std::size_t others = 0;
        for (std::size_t r = 0; r < recv_bytes.size(); ++r)
            if (static_cast<int>(r) != rank()) others += recv_bytes[r];
        count(CommKind::allgather, send_bytes, others);
        if (size() > 1) {
            do_allgatherv(send, send_bytes, recv, recv_bytes);
        } else if (send_bytes) {
            std::memcpy(recv, send, send_bytes);
        }
    }
    void check_root(const char* fn, int root) const {
        check_arg(root >= 0 && root < size(), "Communicator::", fn, ": root ", root, " is not a rank (size ", size(), ")");
    }

    CommStats stats_;
};

/// The single-process communicator: rank 0 of 1; every collective is the identity (counted all
/// the same, so a one-rank run reports the payload the same code would send on N ranks).
class SingleProcess final : public Communicator {
public:
    int rank() const override { return 0; }
    int size() const override { return 1; }

protected:
    // Never called: the base class handles size() == 1 itself.
    void do_allreduce_sum(void*, std::size_t, DType) override {}
    void do_allgatherv(const void*, std::size_t, void*, const std::vector<std::size_t>&) override {}
    void do_broadcast(void*, std::size_t, int) override {}
    void do_barrier() override {}
    void do_reduce_scatter_sum(const void*, void*, const std::vector<std::size_t>&, DType) override {}
    void do_gatherv(const void*, std::size_t, void*, const std::vector<std::size_t>&, int) override {}
};

/// The contiguous block of `n` items (rows, users) that rank `rank` of `size` owns: [begin, end).
/// The first n % size ranks get one more, so block sizes differ by at most one.
struct Block {
    std::size_t begin = 0, end = 0;
    std::size_t size() const noexcept { return end - begin; }
    bool contains(std::size_t i) const noexcept { return i >= begin && i < end; }
};

/// @throws InvalidArgument when size < 1 or rank is outside 0 .. size-1.
inline Block block_of(std::size_t n, int rank, int size) {
    check_arg(size >= 1 && rank >= 0 && rank < size, "distributed::block_of: rank ", rank, " of size ", size,
              " (expected 0 <= rank < size)");
    const auto s = static_cast<std::size_t>(size), r = static_cast<std::size_t>(rank);
    const std::size_t base = n / s, extra = n % s;
    Block b;
    b.begin = r * base + (r < extra ? r : extra);
    b.end = b.begin + base + (r < extra ? 1 : 0);
    return b;
}

/// The block of `n` rows that `comm`'s rank owns.
inline Block block_of(std::size_t n, const Communicator& comm) { return block_of(n, comm.rank(), comm.size()); }

}  // namespace cfnet::distributed
