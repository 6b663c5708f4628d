#pragma once
/// @file distributed/mpi.hpp
/// The MPI backend of the communicator interface (distributed/communicator.hpp): the only cfnet
/// header that includes <mpi.h>. Link the target cfnet::mpi (find_package(cfnet COMPONENTS mpi)),
/// which brings MPI::MPI_CXX. Tested with Open MPI 4.1 (Debian 12); MPICH works as a drop-in
/// (only MPI-1/2 calls are used).
///
/// @code
///   int main(int argc, char** argv) {
///       cfnet::distributed::MpiEnvironment env(argc, argv);   // MPI_Init ... MPI_Finalize
///       cfnet::distributed::MpiCommunicator comm;              // MPI_COMM_WORLD
///       ...  // every rank runs the same code on its shard
///   }
/// @endcode

#include <cfnet/distributed/communicator.hpp>
#include <cfnet/error.hpp>

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cfnet::distributed {

/// An MPI call failed (the message names the call and MPI's error string).
class MpiError : public std::runtime_error {
public:
    explicit MpiError(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void mpi_check(int rc, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw MpiError(std::string("cfnet MPI backend: ") + call + " failed: " + std::string(msg, static_cast<std::size_t>(len)));
}
}  // namespace detail

/// MPI_Init on construction (unless MPI is already initialised), MPI_Finalize on destruction
/// (only when this object initialised it). One per program, in main().
class MpiEnvironment {
public:
    MpiEnvironment() : MpiEnvironment(nullptr, nullptr) {}
    MpiEnvironment(int& argc, char**& argv) : MpiEnvironment(&argc, &argv) {}
    ~MpiEnvironment() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (owner_ && !finalized) MPI_Finalize();
    }
    MpiEnvironment(const MpiEnvironment&) = delete;
    MpiEnvironment& operator=(const MpiEnvironment&) = delete;

private:
    MpiEnvironment(int* argc, char*** argv) {
        int init = 0;
        detail::mpi_check(MPI_Initialized(&init), "MPI_Initialized");
        if (!init) {
            detail::mpi_check(MPI_Init(argc, argv), "MPI_Init");
            owner_ = true;
        }
    }
    bool owner_ = false;
};

/// A communicator over an MPI communicator (MPI_COMM_WORLD by default; not owned). Errors are
/// returned rather than aborting (MPI_ERRORS_RETURN is set on it) and thrown as MpiError.
class MpiCommunicator final : public Communicator {
public:
    /// @pre MPI is initialised (MpiEnvironment).
    explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
        int init = 0;
        MPI_Initialized(&init);
        if (!init) throw MpiError("MpiCommunicator: MPI is not initialised (create an MpiEnvironment first)");
        detail::mpi_check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        detail::mpi_check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        detail::mpi_check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    MPI_Comm native() const noexcept { return comm_; }

protected:
    void do_allreduce_sum(void* data, std::size_t n, DType type) override {
        const MPI_Datatype t = type == DType::f32 ? MPI_FLOAT : type == DType::f64 ? MPI_DOUBLE : MPI_INT64_T;
        // MPI counts are int: large buffers go in chunks (the same sums, element by element).
        auto* p = static_cast<unsigned char*>(data);
        const std::size_t es = dtype_size(type), chunk = static_cast<std::size_t>(INT_MAX) / es;
        for (std::size_t off = 0; off < n; off += chunk) {
            const std::size_t len = n - off < chunk ? n - off : chunk;
            detail::mpi_check(MPI_Allreduce(MPI_IN_PLACE, p + off * es, static_cast<int>(len), t, MPI_SUM, comm_),
                              "MPI_Allreduce");
        }
    }

    void do_allgatherv(const void* send, std::size_t send_bytes, void* recv,
                       const std::vector<std::size_t>& recv_bytes) override {
        std::vector<int> counts, displs;
        byte_counts("allgatherv", recv_bytes, counts, displs);
        detail::mpi_check(MPI_Allgatherv(send, static_cast<int>(send_bytes), MPI_BYTE, recv, counts.data(),
                                         displs.data(), MPI_BYTE, comm_),
                          "MPI_Allgatherv");
    }

    void do_reduce_scatter_sum(const void* send, void* recv, const std::vector<std::size_t>& counts,
                               DType type) override {
        const MPI_Datatype t = type == DType::f32 ? MPI_FLOAT : type == DType::f64 ? MPI_DOUBLE : MPI_INT64_T;
        std::vector<int> c(counts.size());
        std::size_t total = 0;
        for (std::size_t r = 0; r < counts.size(); ++r) {
            total += counts[r];
            if (total > static_cast<std::size_t>(INT_MAX))
                throw MpiError(cfnet::detail::concat("MpiCommunicator::reduce_scatter_sum: ", total,
                                                     " elements exceed MPI's int counts (at most ", INT_MAX, ")"));
            c[r] = static_cast<int>(counts[r]);
        }
        detail::mpi_check(MPI_Reduce_scatter(send, recv, c.data(), t, MPI_SUM, comm_), "MPI_Reduce_scatter");
    }

    void do_gatherv(const void* send, std::size_t send_bytes, void* recv, const std::vector<std::size_t>& recv_bytes,
                    int root) override {
        std::vector<int> counts, displs;
        byte_counts("gatherv", recv_bytes, counts, displs);
        detail::mpi_check(MPI_Gatherv(send, static_cast<int>(send_bytes), MPI_BYTE, recv, counts.data(), displs.data(),
                                      MPI_BYTE, root, comm_),
                          "MPI_Gatherv");
    }

    void do_broadcast(void* data, std::size_t bytes, int root) override {
        auto* p = static_cast<unsigned char*>(data);
        const auto chunk = static_cast<std::size_t>(INT_MAX);
        for (std::size_t off = 0; off < bytes; off += chunk) {
            const std::size_t len = bytes - off < chunk ? bytes - off : chunk;
            detail::mpi_check(MPI_Bcast(p + off, static_cast<int>(len), MPI_BYTE, root, comm_), "MPI_Bcast");
        }
    }

    void do_barrier() override { detail::mpi_check(MPI_Barrier(comm_), "MPI_Barrier"); }

private:
    /// MPI's int counts and displacements of a v-collective. @throws MpiError past INT_MAX bytes.
    static void byte_counts(const char* fn, const std::vector<std::size_t>& bytes, std::vector<int>& counts,
                            std::vector<int>& displs) {
        counts.resize(bytes.size());
        displs.resize(bytes.size());
        std::size_t off = 0;
        for (std::size_t r = 0; r < bytes.size(); ++r) {
            if (bytes[r] > static_cast<std::size_t>(INT_MAX) || off > static_cast<std::size_t>(INT_MAX))
                throw MpiError(cfnet::detail::concat("MpiCommunicator::", fn, ": ", off + bytes[r],
                                                     " bytes exceed MPI's int counts (at most ", INT_MAX, ")"));
            counts[r] = static_cast<int>(bytes[r]);
            displs[r] = static_cast<int>(off);
            off += bytes[r];
        }
    }

    MPI_Comm comm_;
    int rank_ = 0, size_ = 1;
};

}  // namespace cfnet::distributed
