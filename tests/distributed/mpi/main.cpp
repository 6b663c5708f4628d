// The main() of the MPI tests: MPI_Init, Catch2 on every rank (each rank runs every test case in
// the same order, so the collectives match; each prints its own report), MPI_Finalize. The exit
// status is non-zero when any rank failed.
#define CATCH_CONFIG_RUNNER
#include <cfnet/distributed/mpi.hpp>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
    cfnet::distributed::MpiEnvironment env(argc, argv);
    cfnet::distributed::MpiCommunicator comm;
    Catch::Session session;
    if (const int rc = session.applyCommandLine(argc, argv)) return rc;
    const int failed = session.run();
    const auto any = comm.allreduce_sum(static_cast<std::int64_t>(failed != 0));
    if (comm.rank() == 0 && any) std::fprintf(stderr, "cfnet MPI tests: %lld of %d ranks failed\n", static_cast<long long>(any), comm.size());
    return any ? 1 : 0;
}
