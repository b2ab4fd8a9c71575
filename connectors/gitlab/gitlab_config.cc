#include "connectors/gitlab/gitlab_config.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "connectors/gitlab/gitlab_sync.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::gitlab {
namespace {

using sync::ConfigObject;

// A done rule's "excluded": {"duplicates": true|false, "labels": [..]}; a key left out
// keeps its default (duplicates true, labels wontfix and duplicate).
absl::StatusOr<GitLabExcludedRule> ReadExcluded(const ConfigObject& rule) {
  OKR_ASSIGN_OR_RETURN(ConfigObject reader, rule.Object("excluded"));
  OKR_RETURN_IF_ERROR(reader.OnlyKnown({"duplicates", "labels"}));
  GitLabExcludedRule excluded;
  if (reader.Has("duplicates")) {
    const nlohmann::json& value = reader.object().at("duplicates");
    if (!value.is_boolean()) return reader.Error("duplicates", "must be true or false");
    excluded.duplicates = value.get<bool>();
  }
  if (reader.Has("labels")) {
    OKR_ASSIGN_OR_RETURN(excluded.labels, reader.Strings("labels"));
  }
  return excluded;
}

// A GitLab group or project path: '/'-separated segments of letters, digits, '_', '-', '.'.
bool IsGitLabNamespace(absl::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty() || segment == "." || segment == "..") return false;
    for (char c : segment) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (!absl::ascii_isalnum(u) && c != '_' && c != '-' && c != '.') return false;
    }
  }
  return true;
}

// "platform" covers "platform" and "platform/api/..."
bool Covers(absl::string_view owned, absl::string_view project_path) {
  return project_path == owned ||
         (absl::StartsWith(project_path, owned) && project_path.size() > owned.size() &&
          project_path[owned.size()] == '/');
}

template <typename Map>
std::string Keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  return keys.empty() ? "(none)" : absl::StrJoin(keys, ",");
}

absl::StatusOr<GitLabInstanceConfig> ReadGitLabInstance(
    const ConfigObject& r, sync::SiteNames& names, const std::vector<GitLabInstanceConfig>& earlier,
    const sync::GetEnvFn& env) {
  OKR_RETURN_IF_ERROR(r.OnlyKnown({"name", "url", "token_env", "token_file", "webhook_token_env",
                                   "webhook_token_file", "label_prefix", "projects", "done"}));
  GitLabInstanceConfig instance;
  OKR_ASSIGN_OR_RETURN(instance.name, sync::ReadSiteName(r, names));
  OKR_ASSIGN_OR_RETURN(instance.url, r.String("url"));
  if (!instance.url.empty() && !sync::IsHttpUrl(instance.url)) {
    return r.Error("url", absl::StrCat("\"", instance.url, "\" is not an http(s):// URL"));
  }
  OKR_ASSIGN_OR_RETURN(instance.token, r.Secret("token", env));
  OKR_ASSIGN_OR_RETURN(instance.webhook_token, r.Secret("webhook_token", env));
  if (r.Has("label_prefix")) {
    OKR_ASSIGN_OR_RETURN(instance.label_prefix, r.String("label_prefix"));
    if (absl::Status prefix = ValidateLabelPrefix(instance.label_prefix); !prefix.ok()) {
      return r.Error("label_prefix", prefix.message());
    }
  }
  OKR_ASSIGN_OR_RETURN(instance.projects, r.Strings("projects"));
  for (size_t i = 0; i < instance.projects.size(); ++i) {
    if (!IsGitLabNamespace(instance.projects[i])) {
      return r.Error(
          absl::StrCat("projects[", i, "]"),
          absl::StrCat("\"", instance.projects[i], "\" is not a GitLab group or project path"));
    }
  }
  if (instance.is_default()) {
    if (!instance.projects.empty()) {
      return r.Error("projects", "the default instance owns every project no other instance lists");
    }
  } else {
    if (instance.url.empty()) return r.Error("url", "required");
    if (instance.projects.empty()) {
      return r.Error("projects", "required: the groups or project paths this instance owns");
    }
    if (instance.token.empty()) return r.Error("token_env", "required (or token_file)");
    if (instance.webhook_token.empty()) {
      return r.Error("webhook_token_env", "required (or webhook_token_file)");
    }
  }
  if (r.Has("done")) {
    OKR_ASSIGN_OR_RETURN(ConfigObject done, r.Object("done"));
    for (auto it = done.object().begin(); it != done.object().end(); ++it) {
      const std::string& project = it.key();
      if (!ValidateProjectPath(project).ok()) {
        return done.Error(project, "is not a GitLab project path (group/project)");
      }
      if (!instance.is_default() && !instance.Owns(absl::StrCat(project, "#1"))) {
        return done.Error(project, "is not one of this instance's projects");
      }
      OKR_ASSIGN_OR_RETURN(ConfigObject rule_reader, done.Object(project));
      OKR_RETURN_IF_ERROR(rule_reader.OnlyKnown({"states", "labels", "credit", "excluded"}));
      GitLabDoneRule rule;
      OKR_ASSIGN_OR_RETURN(rule.states, rule_reader.Strings("states"));
      OKR_ASSIGN_OR_RETURN(rule.labels, rule_reader.Strings("labels"));
      OKR_ASSIGN_OR_RETURN(rule.credit, sync::ReadCredit(rule_reader, "label or state"));
      if (rule_reader.Has("excluded")) {
        OKR_ASSIGN_OR_RETURN(rule.excluded, ReadExcluded(rule_reader));
      }
      if (rule.states.empty() && rule.labels.empty() && rule.credit.empty() &&
          !rule.excluded.has_value()) {
        return rule_reader.Error("", "lists neither states nor labels (nor credit or excluded)");
      }
      instance.done[project] = std::move(rule);
    }
  }
  // No two instances own overlapping groups or projects.
  for (const GitLabInstanceConfig& other : earlier) {
    OKR_RETURN_IF_ERROR(sync::CheckNoOverlap(r, "projects", instance.projects, other.name,
                                             other.projects, &Covers));
  }
  return instance;
}

absl::Status Validate(const sync::SettingValues& values) {
  auto value = [&values](absl::string_view flag) { return sync::SettingValue(values, flag); };
  if (value("gitlab-url").empty()) return absl::OkStatus();
  if (value("gitlab-webhook-token").empty()) {
    return absl::InvalidArgumentError(
        "OKR_GITLAB_WEBHOOK_TOKEN (or OKR_GITLAB_WEBHOOK_TOKEN_FILE) is required when "
        "OKR_GITLAB_URL is set");
  }
  if (value("gitlab-token").empty()) {
    return absl::InvalidArgumentError(
        "OKR_GITLAB_TOKEN (or OKR_GITLAB_TOKEN_FILE) is required when OKR_GITLAB_URL is set");
  }
  if (absl::Status prefix = ValidateLabelPrefix(value("gitlab-label-prefix")); !prefix.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("OKR_GITLAB_LABEL_PREFIX: ", prefix.message()));
  }
  return absl::OkStatus();
}

std::string Describe(const GitLabInstanceConfig& instance) {
  return absl::StrCat(
      "gitlab instance ", instance.name, " url=", instance.url, " webhook=", instance.WebhookPath(),
      " projects=", instance.is_default() ? "(all others)" : absl::StrJoin(instance.projects, ","),
      " done_mapping=", Keys(instance.done));
}

}  // namespace

sync::ConnectorConfig<GitLabInstanceConfig> GitLabConfigSection() {
  sync::ConnectorConfig<GitLabInstanceConfig> c;
  c.settings = {
      {{"gitlab-url", "OKR_GITLAB_URL",
        "GitLab instance base URL, e.g. https://gitlab.example.com; enables the GitLab "
        "connector"},
       &GitLabInstanceConfig::url},
      {{"gitlab-token",
        "OKR_GITLAB_TOKEN",
        "GitLab access token, sent as PRIVATE-TOKEN (secret)",
        "",
        {},
        true},
       &GitLabInstanceConfig::token},
      {{"gitlab-webhook-token",
        "OKR_GITLAB_WEBHOOK_TOKEN",
        "secret token of the GitLab webhook, compared with X-Gitlab-Token (secret)",
        "",
        {},
        true},
       &GitLabInstanceConfig::webhook_token},
      {{"gitlab-label-prefix", "OKR_GITLAB_LABEL_PREFIX",
        "prefix of the label put on linked GitLab issues (PREFIX:<objective>/<key result>; "
        "no \"::\", which would make it a scoped label)",
        "OKR"},
       &GitLabInstanceConfig::label_prefix},
  };
  c.enabled_by = "gitlab-url";
  c.file_key = "gitlab_instances";
  c.file_entry = "INSTANCE";
  c.file_help =
      "  GitLab INSTANCE: name, url, token_env|token_file, webhook_token_env|webhook_token_file,\n"
      "    label_prefix, projects (owned groups or project paths),\n"
      "    done {\"<group/project>\": {\"states\": [..], \"labels\": [..],\n"
      "    \"credit\": {\"<label or state>\": 0.5, ..},\n"
      "    \"excluded\": {\"duplicates\": true, \"labels\": [..]}}}\n"
      "    Without states/labels an issue is done when its state is \"closed\".\n"
      "    credit: share of the weight a label or state earns before done (default 0).\n"
      "    excluded: cancelled work that leaves the key result (default: closed as\n"
      "    duplicate, labels wontfix and duplicate; labels [] and duplicates false: none).\n";
  c.read_entry = &ReadGitLabInstance;
  c.validate = &Validate;
  c.describe = &Describe;
  return c;
}

}  // namespace okr::connectors::gitlab
