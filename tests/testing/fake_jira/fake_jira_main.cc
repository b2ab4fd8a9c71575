// fake_jira_main: the FakeJiraServer as a process, for contract tests that put a proxy
// (Prism) between the connector and the fake.
//
//   fake_jira_main [--port=0] [--port_file=PATH] [--seed=3] [--email=E] [--api_token=T]
//                  [--story_points_field=customfield_10016]
//                  [--project_issue_types=KEY:Type,Type,...]...
//
// Seeds issues OKRX-1..N (ids 10001..) and, per --project_issue_types (repeatable), a
// project with its own issue types (e.g. OKRS:Epic,Story,Bug,Sub-task), prints "fake_jira listening
// on <port>", writes the port to --port_file (atomically, via rename) and serves until SIGINT or
// SIGTERM.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace {

bool FlagValue(const std::string& arg, const char* name, std::string* value) {
  const std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  *value = arg.substr(prefix.size());
  return true;
}

int Usage(const std::string& bad) {
  std::cerr << "fake_jira_main: bad argument '" << bad
            << "'\nusage: fake_jira_main [--port=N] [--port_file=PATH] [--seed=N] [--email=E] "
               "[--api_token=T] [--story_points_field=F] "
               "[--project_issue_types=KEY:Type,Type,...]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  okr::testing::FakeJiraOptions options;
  std::string port_file;
  int seed = 3;
  std::vector<std::pair<std::string, std::vector<std::string>>> project_issue_types;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (FlagValue(arg, "port", &value)) {
      if (!absl::SimpleAtoi(value, &options.port) || options.port < 0 || options.port > 65535) {
        return Usage(arg);
      }
    } else if (FlagValue(arg, "seed", &value)) {
      if (!absl::SimpleAtoi(value, &seed) || seed < 0 || seed > 1000000) return Usage(arg);
    } else if (FlagValue(arg, "port_file", &value)) {
      port_file = value;
    } else if (FlagValue(arg, "email", &value)) {
      options.email = value;
    } else if (FlagValue(arg, "api_token", &value)) {
      options.api_token = value;
    } else if (FlagValue(arg, "story_points_field", &value)) {
      options.story_points_field = value;
    } else if (FlagValue(arg, "project_issue_types", &value)) {
      std::vector<std::string> parts = absl::StrSplit(value, absl::MaxSplits(':', 1));
      if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) return Usage(arg);
      project_issue_types.emplace_back(parts[0], absl::StrSplit(parts[1], ','));
    } else {
      return Usage(arg);
    }
  }

  // Block the stop signals before any thread starts, so that only sigwait() receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<okr::testing::FakeJiraServer>> fake =
      okr::testing::FakeJiraServer::Start(options);
  if (!fake.ok()) {
    std::cerr << "fake_jira_main: " << fake.status() << "\n";
    return 1;
  }
  (*fake)->PutIssues(okr::testing::MakeFakeIssues(seed));
  for (auto& [key, types] : project_issue_types) {
    (*fake)->SetProjectIssueTypes(key, std::move(types));
  }

  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << (*fake)->port() << "\n";
      if (!out) {
        std::cerr << "fake_jira_main: cannot write " << tmp << "\n";
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      std::cerr << "fake_jira_main: cannot rename " << tmp << "\n";
      return 1;
    }
  }
  std::cout << "fake_jira listening on " << (*fake)->port() << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  (*fake)->Stop();
  return 0;
}
