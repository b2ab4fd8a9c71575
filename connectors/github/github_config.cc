#include "connectors/github/github_config.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "connectors/github/github_sync.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"

namespace okr::connectors::github {
namespace {

using sync::ConfigObject;

absl::StatusOr<GitHubExcludedRule> ReadExcluded(const ConfigObject& rule) {
  OKR_ASSIGN_OR_RETURN(ConfigObject reader, rule.Object("excluded"));
  OKR_RETURN_IF_ERROR(reader.OnlyKnown({"state_reasons", "labels"}));
  GitHubExcludedRule excluded;
  if (reader.Has("state_reasons")) {
    OKR_ASSIGN_OR_RETURN(excluded.state_reasons, reader.Strings("state_reasons"));
    for (size_t i = 0; i < excluded.state_reasons.size(); ++i) {
      const std::string& reason = excluded.state_reasons[i];
      if (reason != "not_planned" && reason != "duplicate") {
        return reader.Error(absl::StrCat("state_reasons[", i, "]"),
                            absl::StrCat("\"", reason, "\" is not not_planned or duplicate"));
      }
    }
  }
  if (reader.Has("labels")) {
    OKR_ASSIGN_OR_RETURN(excluded.labels, reader.Strings("labels"));
  }
  return excluded;
}

bool IsNamePart(absl::string_view part) {
  if (part.empty() || part == "." || part == "..") return false;
  for (char c : part) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// "acme" or "acme/app".
bool IsOwnerOrRepo(absl::string_view entry) {
  const size_t slash = entry.find('/');
  if (slash == absl::string_view::npos) return IsNamePart(entry);
  return ValidateRepoName(entry).ok();
}

// "acme" covers "acme" and "acme/app"; "acme/app" only itself. Owners compare
// case-insensitively, as GitHub's names do.
bool Covers(absl::string_view owned, absl::string_view repo) {
  if (absl::EqualsIgnoreCase(owned, repo)) return true;
  return owned.find('/') == absl::string_view::npos && repo.size() > owned.size() &&
         repo[owned.size()] == '/' && absl::EqualsIgnoreCase(repo.substr(0, owned.size()), owned);
}

absl::StatusOr<GitHubInstanceConfig> ReadGitHubInstance(
    const ConfigObject& r, sync::SiteNames& names, const std::vector<GitHubInstanceConfig>& earlier,
    const sync::GetEnvFn& env) {
  OKR_RETURN_IF_ERROR(
      r.OnlyKnown({"name", "url", "token_env", "token_file", "webhook_secret_env",
                   "webhook_secret_file", "label_prefix", "weight_label_prefix", "repos", "done"}));
  GitHubInstanceConfig instance;
  OKR_ASSIGN_OR_RETURN(instance.name, sync::ReadSiteName(r, names));
  if (r.Has("url")) {
    OKR_ASSIGN_OR_RETURN(instance.url, r.String("url"));
    if (!sync::IsHttpUrl(instance.url)) {
      return r.Error("url", absl::StrCat("\"", instance.url, "\" is not an http(s):// URL"));
    }
  }
  OKR_ASSIGN_OR_RETURN(instance.token, r.Secret("token", env));
  OKR_ASSIGN_OR_RETURN(instance.webhook_secret, r.Secret("webhook_secret", env));
  if (r.Has("label_prefix")) {
    OKR_ASSIGN_OR_RETURN(instance.label_prefix, r.String("label_prefix"));
    if (absl::Status s = ValidateLabelPrefix(instance.label_prefix); !s.ok()) {
      return r.Error("label_prefix", s.message());
    }
  }
  if (r.Has("weight_label_prefix")) {
    OKR_ASSIGN_OR_RETURN(instance.weight_label_prefix, r.String("weight_label_prefix"));
  }
  OKR_ASSIGN_OR_RETURN(instance.repos, r.Strings("repos"));
  for (size_t i = 0; i < instance.repos.size(); ++i) {
    if (!IsOwnerOrRepo(instance.repos[i])) {
      return r.Error(
          absl::StrCat("repos[", i, "]"),
          absl::StrCat("\"", instance.repos[i], "\" is not a GitHub owner or owner/repo"));
    }
  }
  if (instance.is_default()) {
    if (!instance.repos.empty()) {
      return r.Error("repos", "the default instance owns every repository no other instance lists");
    }
  } else {
    if (!r.Has("url")) return r.Error("url", "required");
    if (instance.repos.empty()) return r.Error("repos", "required: the owners or repos it owns");
    if (instance.token.empty()) return r.Error("token_env", "required (or token_file)");
    if (instance.webhook_secret.empty()) {
      return r.Error("webhook_secret_env", "required (or webhook_secret_file)");
    }
  }
  if (r.Has("done")) {
    OKR_ASSIGN_OR_RETURN(ConfigObject done, r.Object("done"));
    for (auto it = done.object().begin(); it != done.object().end(); ++it) {
      const std::string& repo = it.key();
      if (!ValidateRepoName(repo).ok()) return done.Error(repo, "is not a GitHub owner/repo");
      if (!instance.is_default() && !instance.OwnsProject(repo)) {
        return done.Error(repo, "is not one of this instance's repos");
      }
      OKR_ASSIGN_OR_RETURN(ConfigObject rule_reader, done.Object(repo));
      OKR_RETURN_IF_ERROR(rule_reader.OnlyKnown({"credit", "excluded"}));
      GitHubDoneRule rule;
      OKR_ASSIGN_OR_RETURN(rule.credit, sync::ReadCredit(rule_reader, "label"));
      if (rule_reader.Has("excluded")) {
        OKR_ASSIGN_OR_RETURN(rule.excluded, ReadExcluded(rule_reader));
      }
      instance.done[repo] = std::move(rule);
    }
  }
  // No two instances own overlapping owners or repos.
  for (const GitHubInstanceConfig& other : earlier) {
    OKR_RETURN_IF_ERROR(
        sync::CheckNoOverlap(r, "repos", instance.repos, other.name, other.repos, &Covers));
  }
  return instance;
}

absl::Status Validate(const sync::SettingValues& values) {
  auto value = [&values](absl::string_view flag) { return sync::SettingValue(values, flag); };
  if (value("github-token").empty()) return absl::OkStatus();
  if (!sync::IsHttpUrl(value("github-url"))) {
    return absl::InvalidArgumentError("OKR_GITHUB_URL must be an http(s):// URL");
  }
  if (absl::Status s = ValidateLabelPrefix(value("github-label-prefix")); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("OKR_GITHUB_LABEL_PREFIX: ", s.message()));
  }
  return absl::OkStatus();
}

std::string Describe(const GitHubInstanceConfig& instance) {
  std::vector<std::string> done;
  for (const auto& [repo, rule] : instance.done) done.push_back(repo);
  return absl::StrCat(
      "github instance ", instance.name, " url=", instance.url, " webhook=", instance.WebhookPath(),
      " repos=", instance.is_default() ? "(all others)" : absl::StrJoin(instance.repos, ","),
      " done_mapping=", done.empty() ? "(none)" : absl::StrJoin(done, ","));
}

}  // namespace

std::string GitHubInstanceConfig::WebhookPath() const {
  return sync::WebhookPath(TrackerSlug(Tracker::kGitHub), name);
}

bool GitHubInstanceConfig::Owns(absl::string_view work_item_key) const {
  const size_t hash = work_item_key.rfind('#');
  if (hash == absl::string_view::npos) return false;
  return OwnsProject(work_item_key.substr(0, hash));
}

bool GitHubInstanceConfig::OwnsProject(absl::string_view repo) const {
  for (const std::string& owned : repos) {
    if (Covers(owned, repo)) return true;
  }
  return false;
}

sync::ConnectorConfig<GitHubInstanceConfig> GitHubConfigSection() {
  sync::ConnectorConfig<GitHubInstanceConfig> c;
  c.settings = {
      {{"github-url", "OKR_GITHUB_URL",
        "GitHub REST base URL (GitHub Enterprise Server: https://HOST/api/v3)",
        std::string(kDefaultGitHubUrl)},
       &GitHubInstanceConfig::url},
      {{"github-token",
        "OKR_GITHUB_TOKEN",
        "GitHub token (PAT or App installation token), sent as Bearer; enables the GitHub "
        "connector (secret)",
        "",
        {},
        true},
       &GitHubInstanceConfig::token},
      {{"github-webhook-secret",
        "OKR_GITHUB_WEBHOOK_SECRET",
        "secret of the GitHub webhook, verifies X-Hub-Signature-256 (secret)",
        "",
        {},
        true},
       &GitHubInstanceConfig::webhook_secret},
      {{"github-label-prefix", "OKR_GITHUB_LABEL_PREFIX",
        "prefix of the label put on linked GitHub issues (PREFIX:<objective>/<key result>)", "OKR"},
       &GitHubInstanceConfig::label_prefix},
      {{"github-weight-label-prefix", "OKR_GITHUB_WEIGHT_LABEL_PREFIX",
        "prefix of the label giving a GitHub issue's weight (weight:3)", "weight:"},
       &GitHubInstanceConfig::weight_label_prefix},
  };
  c.enabled_by = "github-token";
  c.file_key = "github_instances";
  c.file_entry = "INSTANCE";
  c.file_help =
      "  GitHub INSTANCE: name, url, token_env|token_file, webhook_secret_env|\n"
      "    webhook_secret_file, label_prefix, weight_label_prefix, repos (owned owners or\n"
      "    owner/repo), done {\"<owner/repo>\": {\"credit\": {\"<label>\": 0.5, ..},\n"
      "    \"excluded\": {\"state_reasons\": [\"not_planned\", \"duplicate\"], \"labels\": "
      "[..]}}}\n"
      "    An issue is done when closed as completed; closed as not_planned or duplicate\n"
      "    it is excluded (cancelled work), as are issues with labels wontfix/duplicate.\n";
  c.read_entry = &ReadGitHubInstance;
  c.validate = &Validate;
  c.describe = &Describe;
  return c;
}

}  // namespace okr::connectors::github
