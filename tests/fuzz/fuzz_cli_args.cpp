// Fuzz target: the `cfnet` tool's argument handling (tools/cfnet/cli.hpp): CLI11's parse of every
// subcommand's options, then the checks the tool makes before it reads any file (model and option
// names, presets against models, overrides that do not apply, --columns/--sep/--header, tune's
// --param grid and every grid point's options). The input is the argument vector, one argument per
// line (argv[0] = "cfnet" is added); no file is read or written.
// Contract: parsing never throws; it stops with exit 0 only after printing help or the version on
// stdout, with exit 2 only after "cfnet: MESSAGE" and how to get help on stderr; a parsed command
// line names a subcommand, and its checks either pass or throw the tool's UsageError with a
// message. Anything else (another exception type escaping, an allocation the size of a grid the
// user cannot have meant) is a finding.

#include "fuzz_common.hpp"

#include "../../tools/cfnet/cli.hpp"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> args{"cfnet"};
    for (std::size_t b = 0; b <= in.size();) {
        const auto e = std::min(in.find('\n', b), in.size());
        args.emplace_back(in.substr(b, e - b));
        b = e + 1;
    }
    if (!in.empty() && in.back() == '\n') args.pop_back();  // a last newline ends the last argument
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());

    // One application for all inputs: building CLI11's ~200 options costs 20x a parse. CLI11 clears
    // its own state when it parses again; the bound arguments are reset to their defaults here
    // (member-wise, so the options' references into `cl` stay valid).
    static cfnet_cli::CommandLine cl;
    static const std::unique_ptr<CLI::App> app = cfnet_cli::make_app(cl);
    cl = cfnet_cli::CommandLine{};
    std::optional<int> code;
    std::ostringstream out, err;
    try {
        code = cfnet_cli::parse_command_line(*app, cl, static_cast<int>(argv.size()), argv.data(), out, err);
    } catch (const std::exception& e) {
        cfnet_fuzz::violation(std::string("parse_command_line threw ") + typeid(e).name() + ": " + e.what());
    }
    if (code) {
        if (*code == cfnet_cli::exit_ok) {
            cfnet_fuzz::require(!out.str().empty() && err.str().empty(), "exit 0 without help or version on stdout");
        } else {
            cfnet_fuzz::require(*code == cfnet_cli::exit_usage, "parse stopped with exit " + std::to_string(*code));
            const std::string msg = err.str();
            cfnet_fuzz::require(msg.rfind("cfnet: ", 0) == 0 && msg.size() > 8 &&
                                    msg.find("--help' for usage.") != std::string::npos,
                                "a usage error without 'cfnet: MESSAGE' and the help hint: " + msg);
            cfnet_fuzz::require(out.str().empty(), "a usage error printed on stdout");
        }
        return 0;
    }
    static const std::set<std::string> commands{"train", "tune", "evaluate", "recommend", "info"};
    cfnet_fuzz::require(commands.count(cl.command) == 1, "parsed, but no known subcommand: '" + cl.command + "'");
    try {
        cfnet_cli::check_command_line(cl);
    } catch (const cfnet_cli::UsageError& e) {
        cfnet_fuzz::require(std::string_view(e.what()).size() > 0, "a UsageError without a message");
    } catch (const std::exception& e) {
        cfnet_fuzz::violation(std::string("check_command_line threw ") + typeid(e).name() + " (not UsageError): " +
                              e.what());
    }
    return 0;
}
