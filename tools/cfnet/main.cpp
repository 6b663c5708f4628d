// The `cfnet` command-line tool: train, evaluate, recommend, info (docs/cli.md).
//
// Exit codes: 0 success (and --help/--version), 1 runtime or data error, 2 usage error. Results go
// to stdout; progress, warnings and errors go to stderr, errors prefixed "cfnet: ".

#include "cli.hpp"
#include "cmd_train_distributed.hpp"

#include <exception>
#include <iostream>
#include <new>
#include <string>

namespace {

int fail(const std::string& message, int code) {
    std::cerr << "cfnet: " << message << '\n';
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace cfnet_cli;
    DistributedSession mpi_session(argc, argv);  // MPI only under mpirun with 2+ ranks (docs/distributed.md)
    CommandLine cl;
    const auto app = make_app(cl);
    if (const auto code = parse_command_line(*app, cl, argc, argv, std::cout, std::cerr)) return *code;

    try {
        if (cl.command == "train") {
            if (auto* comm = DistributedSession::current()) return run_train_distributed(cl.train, *comm);
            return run_train(cl.train);
        }
        if (cl.command == "tune") return run_tune(cl.tune);
        if (cl.command == "evaluate") return run_evaluate(cl.evaluate);
        if (cl.command == "recommend") return run_recommend(cl.recommend);
        return run_info(cl.info);
    } catch (const UsageError& e) {
        return fail(std::string(e.what()) + "\nRun 'cfnet " + cl.command + " --help' for usage.", exit_usage);
    } catch (const cfnet::OutOfMemory& e) {  // what could not be allocated, and how many bytes it needed
        return fail(e.what(), exit_runtime);
    } catch (const std::bad_alloc&) {
        return fail("out of memory", exit_runtime);
    } catch (const std::exception& e) {
        // cfnet::IoError / ParseError (file, line, field), InvalidArgument (ids, spaces),
        // NumericalError (a diverging fit), std::runtime_error (data directory not found).
        const int rc = fail(e.what(), exit_runtime);
        DistributedSession::abort(rc);  // the other ranks may wait in a collective call
        return rc;
    }
}
