#include "cli/okrctl/names.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace okr::cli {

absl::StatusOr<std::string> NameIn(const std::string& collection, const std::string& arg) {
  if (arg.empty()) return absl::InvalidArgumentError(absl::StrCat("empty name for ", collection));
  std::vector<std::string> parts = absl::StrSplit(arg, '/');
  if (parts.size() == 1) return absl::StrCat(collection, "/", arg);
  if (parts.size() == 2 && parts[0] == collection && !parts[1].empty()) return arg;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", arg, "\" is not a name in ", collection, " (", collection, "/ID or ID)"));
}

absl::StatusOr<std::string> TeamName(const std::string& arg) { return NameIn("teams", arg); }
absl::StatusOr<std::string> CycleName(const std::string& arg) { return NameIn("cycles", arg); }
absl::StatusOr<std::string> ObjectiveName(const std::string& arg) {
  return NameIn("objectives", arg);
}
absl::StatusOr<std::string> TokenName(const std::string& arg) { return NameIn("apiTokens", arg); }
absl::StatusOr<std::string> SubscriptionName(const std::string& arg) {
  return NameIn("subscriptions", arg);
}
absl::StatusOr<std::string> RuleName(const std::string& arg) { return NameIn("rules", arg); }

absl::StatusOr<std::string> KeyResultName(const std::string& arg) {
  std::vector<std::string> parts = absl::StrSplit(arg, '/');
  bool all_set = true;
  for (const std::string& p : parts) all_set &= !p.empty();
  if (all_set && parts.size() == 2) {
    return absl::StrCat("objectives/", parts[0], "/keyResults/", parts[1]);
  }
  if (all_set && parts.size() == 4 && parts[0] == "objectives" && parts[2] == "keyResults") {
    return arg;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", arg, "\" is not a key result: use objectives/O/keyResults/K or the short O/K"));
}

absl::StatusOr<std::string> CheckInName(const std::string& arg) {
  std::vector<std::string> parts = absl::StrSplit(arg, '/');
  bool all_set = true;
  for (const std::string& p : parts) all_set &= !p.empty();
  if (all_set && parts.size() == 3) {
    return absl::StrCat("objectives/", parts[0], "/keyResults/", parts[1], "/checkIns/", parts[2]);
  }
  if (all_set && parts.size() == 6 && parts[0] == "objectives" && parts[2] == "keyResults" &&
      parts[4] == "checkIns") {
    return arg;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", arg,
                   "\" is not a check-in: use objectives/O/keyResults/K/checkIns/C or the short "
                   "O/K/C"));
}

absl::StatusOr<std::string> EventParentName(const std::string& arg) {
  if (absl::StartsWith(arg, "teams/")) return TeamName(arg);
  std::vector<std::string> parts = absl::StrSplit(arg, '/');
  if (parts.size() == 1 || (parts.size() == 2 && parts[0] == "objectives")) {
    return ObjectiveName(arg);
  }
  return KeyResultName(arg);
}

std::string ShortId(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

}  // namespace okr::cli
