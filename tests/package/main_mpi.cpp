// A downstream program using the cfnet::mpi component (find_package(cfnet COMPONENTS mpi)).
#include <cfnet/distributed/mpi.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    cfnet::distributed::MpiEnvironment env(argc, argv);
    cfnet::distributed::MpiCommunicator comm;
    double x = 1.5;
    comm.allreduce_sum(&x, 1);
    const bool ok = x == 1.5 * comm.size();
    std::printf("cfnet::mpi consumer: rank %d of %d, allreduce %s\n", comm.rank(), comm.size(), ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
