// okrctl's entry: global flags, dispatch to the command table, help and exit codes.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/okrctl/commands.h"

namespace okr::cli {

namespace {

// Verbs that take a noun, with their summaries for the top-level help.
const std::vector<std::pair<std::string, std::string>> kResourceVerbs = {
    {"get", "show one resource"},    {"list", "list resources (every page)"},
    {"create", "create a resource"}, {"update", "change the fields of a resource given as flags"},
    {"delete", "delete a resource"},
};

bool TakesNoun(const std::string& verb) {
  for (const auto& [v, summary] : kResourceVerbs) {
    if (v == verb) return true;
  }
  return false;
}

std::string DisplayNoun(const Command& c) { return c.verb == "list" ? c.noun + "s" : c.noun; }

std::string CommandLine(const Command& c) {
  std::string line = absl::StrCat("okrctl ", c.verb);
  if (!c.noun.empty()) absl::StrAppend(&line, " ", DisplayNoun(c));
  return line;
}

std::string FlagLines(const std::vector<FlagSpec>& flags) {
  size_t width = 0;
  std::vector<std::string> left;
  for (const FlagSpec& f : flags) {
    left.push_back(absl::StrCat("--", f.name, f.value_name.empty() ? "" : " ", f.value_name));
    width = std::max(width, left.back().size());
  }
  std::string out;
  for (size_t i = 0; i < flags.size(); ++i) {
    absl::StrAppend(&out, "  ", left[i], std::string(width - left[i].size() + 2, ' '),
                    flags[i].help, flags[i].repeated ? " (repeatable)" : "", "\n");
  }
  return out;
}

const char kGlobalFlags[] =
    "Global flags (anywhere on the line):\n"
    "  --address HOST:PORT   server address (env OKR_ADDRESS; default localhost:50051)\n"
    "  --token SECRET        API token, sent as \"authorization: Bearer SECRET\" (env OKR_TOKEN)\n"
    "                        (prefer OKR_TOKEN: other users can read command lines)\n"
    "  --tls-ca-file FILE    use TLS and trust this PEM CA bundle (default: plaintext)\n"
    "  --tls-cert-file FILE  client certificate for mTLS (with --tls-key-file)\n"
    "  --tls-key-file FILE   private key of the client certificate\n"
    "  -o, --output FORMAT   table (default), json (proto3 JSON, one object per line) or yaml\n"
    "  -h, --help            show help\n";

const std::map<std::string, std::string>& NounAliases() {
  static const auto* aliases = new std::map<std::string, std::string>{
      {"team", "team"},
      {"teams", "team"},
      {"cycle", "cycle"},
      {"cycles", "cycle"},
      {"objective", "objective"},
      {"objectives", "objective"},
      {"obj", "objective"},
      {"keyresult", "keyresult"},
      {"keyresults", "keyresult"},
      {"key-result", "keyresult"},
      {"key-results", "keyresult"},
      {"kr", "keyresult"},
      {"krs", "keyresult"},
      {"token", "token"},
      {"tokens", "token"},
      {"apitoken", "token"},
      {"apitokens", "token"},
      {"subscription", "subscription"},
      {"subscriptions", "subscription"},
      {"sub", "subscription"},
      {"subs", "subscription"},
      {"rule", "rule"},
      {"rules", "rule"},
      {"checkin", "checkin"},
      {"checkins", "checkin"},
      {"check-ins", "checkin"},
      {"link", "link"},
      {"links", "link"},
  };
  return *aliases;
}

const std::vector<Command>& AllCommands() {
  static const auto* commands = [] {
    auto* cs = new std::vector<Command>();
    AddResourceCommands(*cs);
    AddActionCommands(*cs);
    return cs;
  }();
  return *commands;
}

const Command* Find(const std::vector<Command>& commands, const std::string& verb,
                    const std::string& noun) {
  for (const Command& c : commands) {
    if (c.verb == verb && c.noun == noun) return &c;
  }
  return nullptr;
}

std::vector<std::string> NounsOf(const std::vector<Command>& commands, const std::string& verb) {
  std::vector<std::string> nouns;
  for (const Command& c : commands) {
    if (c.verb == verb && c.unsupported.empty()) nouns.push_back(DisplayNoun(c));
  }
  return nouns;
}

int Usage(const std::string& message, const std::string& help_hint) {
  std::cerr << "okrctl: " << message << "\nRun '" << help_hint << " --help' for usage.\n";
  return kExitUsage;
}

struct GlobalOptions {
  ConnectionOptions connection;
  std::string output = "table";
  bool help = false;
};

// Takes the global flags out of `argv`; the other words stay in order in `rest`.
absl::Status ParseGlobal(int argc, char** argv, GlobalOptions& g, std::vector<std::string>& rest) {
  if (const char* a = std::getenv("OKR_ADDRESS"); a && *a) g.connection.address = a;
  if (const char* t = std::getenv("OKR_TOKEN"); t && *t) g.connection.token = t;
  const std::vector<std::pair<std::string, std::string*>> valued = {
      {"--address", &g.connection.address},
      {"--token", &g.connection.token},
      {"--tls-ca-file", &g.connection.tls_ca_file},
      {"--tls-cert-file", &g.connection.tls_cert_file},
      {"--tls-key-file", &g.connection.tls_key_file},
      {"--output", &g.output},
      {"-o", &g.output},
  };
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string w = argv[i];
    if (flags_done) {
      rest.push_back(w);
      continue;
    }
    if (w == "--") {
      flags_done = true;
      rest.push_back(w);
      continue;
    }
    if (w == "-h" || w == "--help") {
      g.help = true;
      continue;
    }
    bool matched = false;
    for (const auto& [flag, target] : valued) {
      if (w == flag) {
        if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
        *target = argv[++i];
        matched = true;
      } else if (absl::StartsWith(w, flag + "=")) {
        *target = w.substr(flag.size() + 1);
        matched = true;
      } else if (flag == "-o" && w.size() > 2 && absl::StartsWith(w, "-o") && w[2] != '-') {
        *target = w.substr(2);  // -ojson
        matched = true;
      }
      if (matched) break;
    }
    if (!matched) rest.push_back(w);
  }
  return absl::OkStatus();
}

}  // namespace

std::string CanonicalNoun(const std::string& word) {
  auto it = NounAliases().find(word);
  return it == NounAliases().end() ? "" : it->second;
}

int UsageError(CommandContext& ctx, const std::string& message) {
  ctx.err << "okrctl: " << message << "\nRun '" << CommandLine(ctx.command)
          << " --help' for usage.\n";
  return kExitUsage;
}

int UsageError(CommandContext& ctx, const absl::Status& status) {
  return UsageError(ctx, std::string(status.message()));
}

int RpcError(CommandContext& ctx, const grpc::Status& status) {
  ctx.err << StatusCodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return kExitRpcFailed;
}

std::string GlobalHelp(const std::vector<Command>& commands) {
  std::string out =
      "okrctl: the command line of okr-service (gRPC API okr.v1.OkrService).\n\n"
      "Usage: okrctl [global flags] VERB [NOUN] [ARGS] [flags]\n\n"
      "Resources (VERB NOUN, e.g. `okrctl get objective o1`):\n";
  for (const auto& [verb, summary] : kResourceVerbs) {
    absl::StrAppend(&out, absl::StrFormat("  %-11s %s\n  %-11s   %s\n", verb, summary, "",
                                          absl::StrJoin(NounsOf(commands, verb), " ")));
  }
  absl::StrAppend(&out, "\nCommands:\n");
  for (const Command& c : commands) {
    if (!c.noun.empty()) continue;
    absl::StrAppend(&out, absl::StrFormat("  %-11s %s\n", c.verb, c.summary));
  }
  absl::StrAppend(
      &out, "\n", kGlobalFlags,
      "\nNames: full resource names (teams/payments, objectives/o1,\n"
      "objectives/o1/keyResults/k1) or short ids (payments, o1, o1/k1).\n"
      "Exit codes: 0 ok; 1 the RPC failed (\"CODE: message\" on stderr); 2 usage error.\n"
      "Colours only on a terminal, and never when NO_COLOR is set.\n"
      "Run 'okrctl VERB --help' or 'okrctl VERB NOUN --help' for more.\n");
  return out;
}

std::string VerbHelp(const std::vector<Command>& commands, const std::string& verb) {
  if (!TakesNoun(verb)) {
    const Command* c = Find(commands, verb, "");
    return c ? CommandHelp(*c) : GlobalHelp(commands);
  }
  std::string out = absl::StrCat("Usage: okrctl ", verb, " NOUN [ARGS] [flags]\n\nNouns:\n");
  size_t width = 0;
  for (const Command& c : commands) {
    if (c.verb == verb) width = std::max(width, (DisplayNoun(c) + " " + c.args_usage).size());
  }
  for (const Command& c : commands) {
    if (c.verb != verb) continue;
    const std::string left = absl::StrCat(DisplayNoun(c), " ", c.args_usage);
    absl::StrAppend(&out, "  ", left, std::string(width - left.size() + 2, ' '), c.summary, "\n");
  }
  absl::StrAppend(&out, "\nRun 'okrctl ", verb, " NOUN --help' for the flags of one.\n");
  return out;
}

std::string CommandHelp(const Command& c) {
  std::string out =
      absl::StrCat("Usage: ", CommandLine(c), c.args_usage.empty() ? "" : " ", c.args_usage,
                   c.flags.empty() ? "" : " [flags]", "\n\n", c.summary, "\n");
  if (!c.details.empty()) absl::StrAppend(&out, c.details, "\n");
  if (!c.flags.empty()) absl::StrAppend(&out, "\nFlags:\n", FlagLines(c.flags));
  absl::StrAppend(&out,
                  "\nGlobal flags: --address, --token, --tls-ca-file, -o; see 'okrctl --help'.\n");
  return out;
}

int Run(int argc, char** argv) {
  const std::vector<Command>& commands = AllCommands();
  GlobalOptions global;
  std::vector<std::string> rest;
  if (absl::Status s = ParseGlobal(argc, argv, global, rest); !s.ok()) {
    return Usage(std::string(s.message()), "okrctl");
  }
  if (!rest.empty() && rest[0] == "help") {
    rest.erase(rest.begin());
    global.help = true;
  }
  if (rest.empty()) {
    if (global.help) {
      std::cout << GlobalHelp(commands);
      return kExitOk;
    }
    std::cerr << GlobalHelp(commands);
    return kExitUsage;
  }
  const std::string verb = rest[0];
  bool known_verb = false;
  for (const Command& c : commands) known_verb |= c.verb == verb;
  if (!known_verb) return Usage(absl::StrCat("unknown command \"", verb, "\""), "okrctl");

  const Command* command = nullptr;
  size_t first_arg = 1;
  if (TakesNoun(verb)) {
    if (rest.size() < 2 || absl::StartsWith(rest[1], "-")) {
      if (global.help) {
        std::cout << VerbHelp(commands, verb);
        return kExitOk;
      }
      return Usage(
          absl::StrCat(verb, " what? One of: ", absl::StrJoin(NounsOf(commands, verb), ", ")),
          absl::StrCat("okrctl ", verb));
    }
    const std::string noun = CanonicalNoun(rest[1]);
    command = Find(commands, verb, noun);
    if (command == nullptr) {
      return Usage(absl::StrCat("cannot ", verb, " \"", rest[1],
                                "\"; one of: ", absl::StrJoin(NounsOf(commands, verb), ", ")),
                   absl::StrCat("okrctl ", verb));
    }
    first_arg = 2;
  } else {
    command = Find(commands, verb, "");
  }
  if (global.help) {
    std::cout << CommandHelp(*command);
    return kExitOk;
  }
  if (!command->unsupported.empty()) {
    return Usage(command->unsupported, absl::StrCat("okrctl ", verb));
  }
  const std::string hint = CommandLine(*command);
  absl::StatusOr<ParsedArgs> args =
      ParseArgs(std::vector<std::string>(rest.begin() + first_arg, rest.end()), command->flags);
  if (!args.ok()) return Usage(std::string(args.status().message()), hint);
  const int n = static_cast<int>(args->positional.size());
  if (n < command->min_args || n > command->max_args) {
    std::string expected = command->args_usage.empty() ? "no arguments" : command->args_usage;
    return Usage(absl::StrCat("expected ", expected, ", got ", n, " argument", n == 1 ? "" : "s"),
                 hint);
  }
  absl::StatusOr<Format> format = ParseFormat(global.output);
  if (!format.ok()) return Usage(std::string(format.status().message()), hint);

  if (verb == "watch") {
    // Before gRPC starts any thread, so that only the watcher's thread takes these.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connection::Create(global.connection);
  if (!connection.ok()) return Usage(std::string(connection.status().message()), "okrctl");

  const bool colour = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  Printer printer(*format, std::cout, colour);
  CommandContext ctx{**connection, printer, std::cerr, *command};
  return command->run(ctx, *args);
}

}  // namespace okr::cli
