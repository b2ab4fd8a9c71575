// The okrctl command table. A command is a verb (`get`, `checkin`, ...) and, for the
// standard verbs, a noun (`objective`); it declares its usage, flags and how many
// positional arguments it takes, and runs against a Connection, printing through a
// Printer. Run() returns the process exit code: 0 ok, 1 the RPC failed (the gRPC code name
// and message are on stderr), 2 usage.
//
// Resource commands (get/list/create/update/delete) live in resource_commands.cc, the
// others (lifecycle, checkin, link, tree, findings, events, watch, sync) in
// action_commands.cc; okrctl.cc parses the global flags, dispatches and prints help.
#ifndef OKR_CLI_OKRCTL_COMMANDS_H_
#define OKR_CLI_OKRCTL_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/okrctl/args.h"
#include "cli/okrctl/client.h"
#include "cli/okrctl/output.h"
#include "grpcpp/grpcpp.h"

namespace okr::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcFailed = 1;
inline constexpr int kExitUsage = 2;

// What a running command may use.
struct Command;

struct CommandContext {
  Connection& connection;
  Printer& printer;
  std::ostream& err;
  const Command& command;  // the running command (for usage errors)
};

struct Command {
  std::string verb;
  std::string noun;        // empty for verbs without nouns (checkin, tree, ...)
  std::string args_usage;  // e.g. "OBJECTIVE [ID]"
  std::string summary;     // one line
  std::string details;     // more lines for --help; may be empty
  std::vector<FlagSpec> flags;
  int min_args = 0;
  int max_args = 0;
  // Set when the API has no RPC for this verb and noun yet: running it is a usage error
  // with this explanation. When the RPC lands (UpdateApiToken), replace the Unsupported()
  // entry in resource_commands.cc with the command.
  std::string unsupported;
  std::function<int(CommandContext&, const ParsedArgs&)> run;
};

// The nouns a user may type for each resource ("objective", "objectives", "obj", ...).
// Returns the canonical noun or "" if unknown.
std::string CanonicalNoun(const std::string& word);

void AddResourceCommands(std::vector<Command>& commands);
void AddActionCommands(std::vector<Command>& commands);

// A usage error found while running (a bad flag value): "okrctl: <message>" and exit 2.
int UsageError(CommandContext& ctx, const std::string& message);
int UsageError(CommandContext& ctx, const absl::Status& status);
// A failed RPC: "<CODE_NAME>: <message>" on stderr, exit 1.
int RpcError(CommandContext& ctx, const grpc::Status& status);

// Prints okrctl's top-level help, the help of a verb, or of one command.
std::string GlobalHelp(const std::vector<Command>& commands);
std::string VerbHelp(const std::vector<Command>& commands, const std::string& verb);
std::string CommandHelp(const Command& command);

// The whole program: argv in, exit code out.
int Run(int argc, char** argv);

}  // namespace okr::cli

#endif  // OKR_CLI_OKRCTL_COMMANDS_H_
