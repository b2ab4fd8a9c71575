// The connector configuration file (service/server/config_file.h): any text is read into
// the tracker sections or refused with one INVALID_ARGUMENT line naming the file, and
// every site read has a name unique within its tracker.
//
// Secrets given as `*_env` resolve through a fixed environment (variables starting with
// OKR_ are set). Inputs naming a `*_file` secret (or using \u escapes, which could spell
// one) are skipped: the target reads no files.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "connectors/github/github_config.h"
#include "connectors/gitlab/gitlab_config.h"
#include "connectors/jira/jira_config.h"
#include "fuzz/fuzz_checks.h"
#include "service/okr/trackers.h"
#include "service/server/config_file.h"

namespace {

using okr::fuzz::Check;

constexpr char kPath[] = "/etc/okr/connectors.json";

const char* FixedEnv(const char* name) {
  return absl::StartsWith(name, "OKR_") ? "fuzz-secret-value" : nullptr;
}

template <typename Site>
void CheckSites(const okr::server::ConnectorsFile& file, okr::Tracker tracker) {
  std::set<std::string> names;
  for (const Site& site : file.sites<Site>(tracker)) {
    Check(!site.name.empty(), "a site has a name");
    Check(names.insert(site.name).second, "site names are unique within a tracker");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (absl::StrContains(text, "_file") || absl::StrContains(text, "\\u")) return 0;

  const absl::StatusOr<okr::server::ConnectorsFile> file =
      okr::server::ParseConnectorsFile(text, kPath, &FixedEnv);
  okr::fuzz::CheckCode(file.status(), absl::StatusCode::kInvalidArgument, "ParseConnectorsFile");
  if (!file.ok()) {
    Check(absl::StartsWith(file.status().message(), kPath), "the error names the file");
    Check(!absl::StrContains(file.status().message(), "\n"), "the error is one line");
    return 0;
  }
  CheckSites<okr::connectors::jira::JiraSiteConfig>(*file, okr::Tracker::kJira);
  CheckSites<okr::connectors::gitlab::GitLabInstanceConfig>(*file, okr::Tracker::kGitLab);
  CheckSites<okr::connectors::github::GitHubInstanceConfig>(*file, okr::Tracker::kGitHub);
  return 0;
}
