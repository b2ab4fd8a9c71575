#include "connectors/jira/jira_config.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::jira {
namespace {

using sync::ConfigObject;

// Jira project keys: an upper-case letter, then upper-case letters, digits or '_'.
bool IsJiraProjectKey(absl::string_view key) {
  if (key.empty() || !absl::ascii_isupper(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isupper(u) && !absl::ascii_isdigit(u) && c != '_') return false;
  }
  return true;
}

template <typename Map>
std::string Keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  return keys.empty() ? "(none)" : absl::StrJoin(keys, ",");
}

// A done rule's "credit": {"<status name>": <share of the weight in [0, 1]>, ...}; status
// names compare case-insensitively, so two that differ only in case are refused.
absl::StatusOr<std::map<std::string, double>> ReadCredit(const ConfigObject& rule) {
  std::map<std::string, double> credit;
  if (!rule.Has("credit")) return credit;
  OKR_ASSIGN_OR_RETURN(ConfigObject reader, rule.Object("credit"));
  for (auto it = reader.object().begin(); it != reader.object().end(); ++it) {
    const std::string& status = it.key();
    if (status.empty()) return reader.Error("", "names an empty status");
    const nlohmann::json& value = it.value();
    const double share = value.is_number() ? value.get<double>() : -1;
    if (!value.is_number() || !std::isfinite(share) || share < 0 || share > 1) {
      return reader.Error(status, "must be a number from 0 to 1 (the share of the weight)");
    }
    for (const auto& [earlier, unused] : credit) {
      if (absl::EqualsIgnoreCase(earlier, status)) {
        return reader.Error(status, absl::StrCat("repeats status \"", earlier,
                                                 "\" (names compare case-insensitively)"));
      }
    }
    credit[status] = share;
  }
  return credit;
}

// A done rule's "excluded": {"resolutions": ["Won't Do", ...]} (an empty list: none).
absl::StatusOr<std::vector<std::string>> ReadExcluded(const ConfigObject& rule) {
  OKR_ASSIGN_OR_RETURN(ConfigObject reader, rule.Object("excluded"));
  OKR_RETURN_IF_ERROR(reader.OnlyKnown({"resolutions"}));
  if (!reader.Has("resolutions")) {
    return reader.Error("resolutions", "required (an empty list excludes nothing)");
  }
  return reader.Strings("resolutions");
}

absl::StatusOr<JiraSiteConfig> ReadJiraSite(const ConfigObject& r, sync::SiteNames& names,
                                            const std::vector<JiraSiteConfig>& earlier,
                                            const sync::GetEnvFn& env) {
  OKR_RETURN_IF_ERROR(
      r.OnlyKnown({"name", "url", "deployment", "email", "api_token_env", "api_token_file",
                   "pat_env", "pat_file", "webhook_secret_env", "webhook_secret_file",
                   "story_points_field", "projects", "done"}));
  JiraSiteConfig site;
  OKR_ASSIGN_OR_RETURN(site.name, sync::ReadSiteName(r, names));
  OKR_ASSIGN_OR_RETURN(site.url, r.String("url"));
  if (!site.url.empty() && !sync::IsHttpUrl(site.url)) {
    return r.Error("url", absl::StrCat("\"", site.url, "\" is not an http(s):// URL"));
  }
  if (r.Has("deployment")) {
    OKR_ASSIGN_OR_RETURN(site.deployment, r.String("deployment"));
    if (site.deployment != "cloud" && site.deployment != "datacenter") {
      return r.Error("deployment", "must be \"cloud\" or \"datacenter\"");
    }
  }
  OKR_ASSIGN_OR_RETURN(site.email, r.String("email"));
  OKR_ASSIGN_OR_RETURN(site.api_token, r.Secret("api_token", env));
  OKR_ASSIGN_OR_RETURN(site.pat, r.Secret("pat", env));
  OKR_ASSIGN_OR_RETURN(site.webhook_secret, r.Secret("webhook_secret", env));
  OKR_ASSIGN_OR_RETURN(site.story_points_field, r.String("story_points_field"));
  OKR_ASSIGN_OR_RETURN(site.projects, r.Strings("projects"));
  for (size_t i = 0; i < site.projects.size(); ++i) {
    if (!IsJiraProjectKey(site.projects[i])) {
      return r.Error(absl::StrCat("projects[", i, "]"),
                     absl::StrCat("\"", site.projects[i], "\" is not a Jira project key"));
    }
  }
  if (site.is_default()) {
    if (!site.projects.empty()) {
      return r.Error("projects", "the default site owns every project no other site lists");
    }
  } else {
    if (site.url.empty()) return r.Error("url", "required");
    if (site.projects.empty()) {
      return r.Error("projects", "required: the project keys this site owns");
    }
    if (site.webhook_secret.empty()) {
      return r.Error("webhook_secret_env", "required (or webhook_secret_file)");
    }
    if (site.pat.empty() && site.api_token.empty()) {
      return r.Error("api_token_env",
                     "credentials required: email + api_token_env/api_token_file (Cloud) or "
                     "pat_env/pat_file (Data Center)");
    }
    if (site.pat.empty() && site.email.empty()) {
      return r.Error("email", "required with api_token_env/api_token_file");
    }
  }
  if (r.Has("done")) {
    OKR_ASSIGN_OR_RETURN(ConfigObject done, r.Object("done"));
    for (auto it = done.object().begin(); it != done.object().end(); ++it) {
      const std::string& project = it.key();
      if (!IsJiraProjectKey(project)) {
        return done.Error(project, "is not a Jira project key");
      }
      if (!site.is_default() && !site.Owns(absl::StrCat(project, "-1"))) {
        return done.Error(project, "is not one of this site's projects");
      }
      OKR_ASSIGN_OR_RETURN(ConfigObject rule_reader, done.Object(project));
      OKR_RETURN_IF_ERROR(
          rule_reader.OnlyKnown({"statuses", "status_categories", "credit", "excluded"}));
      JiraDoneRule rule;
      OKR_ASSIGN_OR_RETURN(rule.statuses, rule_reader.Strings("statuses"));
      OKR_ASSIGN_OR_RETURN(rule.status_categories, rule_reader.Strings("status_categories"));
      for (size_t i = 0; i < rule.status_categories.size(); ++i) {
        const std::string& c = rule.status_categories[i];
        if (c != kStatusCategoryNew && c != kStatusCategoryIndeterminate &&
            c != kStatusCategoryDone && c != kStatusCategoryUndefined) {
          return rule_reader.Error(absl::StrCat("status_categories[", i, "]"),
                                   "must be one of new, indeterminate, done, undefined");
        }
      }
      OKR_ASSIGN_OR_RETURN(rule.credit, ReadCredit(rule_reader));
      if (rule_reader.Has("excluded")) {
        OKR_ASSIGN_OR_RETURN(rule.excluded_resolutions, ReadExcluded(rule_reader));
      }
      if (rule.statuses.empty() && rule.status_categories.empty() && rule.credit.empty() &&
          !rule.excluded_resolutions.has_value()) {
        return rule_reader.Error(
            "", "lists neither statuses nor status_categories (nor credit or excluded)");
      }
      site.done[project] = std::move(rule);
    }
  }
  // Every project belongs to one site.
  for (const JiraSiteConfig& other : earlier) {
    for (const std::string& p : site.projects) {
      if (other.Owns(absl::StrCat(p, "-1"))) {
        return r.Error("projects", absl::StrCat("project ", p, " is already owned by site \"",
                                                other.name, "\""));
      }
    }
  }
  return site;
}

absl::Status Validate(const sync::SettingValues& values) {
  auto value = [&values](absl::string_view flag) { return sync::SettingValue(values, flag); };
  if (value("jira-url").empty()) return absl::OkStatus();
  if (value("jira-webhook-secret").empty()) {
    return absl::InvalidArgumentError(
        "OKR_JIRA_WEBHOOK_SECRET (or OKR_JIRA_WEBHOOK_SECRET_FILE) is required when "
        "OKR_JIRA_URL is set: unsigned webhooks are not accepted");
  }
  if (value("jira-pat").empty() &&
      (value("jira-email").empty() || value("jira-api-token").empty())) {
    return absl::InvalidArgumentError(
        "Jira credentials missing: set OKR_JIRA_EMAIL + OKR_JIRA_API_TOKEN (Cloud) or "
        "OKR_JIRA_PAT (Data Center)");
  }
  return absl::OkStatus();
}

std::string Describe(const JiraSiteConfig& site) {
  return absl::StrCat("jira site ", site.name, " url=", site.url, " deployment=", site.deployment,
                      " webhook=", site.WebhookPath(), " projects=",
                      site.is_default() ? "(all others)" : absl::StrJoin(site.projects, ","),
                      " done_mapping=", Keys(site.done));
}

}  // namespace

sync::ConnectorConfig<JiraSiteConfig> JiraConfigSection() {
  sync::ConnectorConfig<JiraSiteConfig> c;
  c.settings = {
      {{"jira-url", "OKR_JIRA_URL",
        "Jira site base URL, e.g. https://acme.atlassian.net; enables the Jira connector"},
       &JiraSiteConfig::url},
      {{"jira-email", "OKR_JIRA_EMAIL", "Jira Cloud account email (Basic auth with the API token)"},
       &JiraSiteConfig::email},
      {{"jira-api-token", "OKR_JIRA_API_TOKEN", "Jira Cloud API token (secret)", "", {}, true},
       &JiraSiteConfig::api_token},
      {{"jira-pat",
        "OKR_JIRA_PAT",
        "Jira Data Center personal access token (secret)",
        "",
        {},
        true},
       &JiraSiteConfig::pat},
      {{"jira-webhook-secret",
        "OKR_JIRA_WEBHOOK_SECRET",
        "secret of the Jira admin webhook; deliveries must carry X-Hub-Signature (secret)",
        "",
        {},
        true},
       &JiraSiteConfig::webhook_secret},
      {{"jira-story-points-field", "OKR_JIRA_STORY_POINTS_FIELD",
        "custom field holding story points (weights), e.g. customfield_10016"},
       &JiraSiteConfig::story_points_field},
      {{"jira-deployment",
        "OKR_JIRA_DEPLOYMENT",
        "cloud (REST v3, /search/jql) or datacenter (REST v2, /search)",
        "cloud",
        {"cloud", "datacenter"}},
       &JiraSiteConfig::deployment},
  };
  c.enabled_by = "jira-url";
  c.file_key = "jira_sites";
  c.file_entry = "SITE";
  c.file_help =
      "  Jira SITE: name, url, deployment (cloud|datacenter), email, "
      "api_token_env|api_token_file,\n"
      "    pat_env|pat_file, webhook_secret_env|webhook_secret_file, story_points_field,\n"
      "    projects (owned project keys), done {\"<PROJECT>\": {\"statuses\": [..],\n"
      "    \"status_categories\": [..], \"credit\": {\"<status>\": 0.5, ..},\n"
      "    \"excluded\": {\"resolutions\": [..]}}}\n"
      "    Without statuses/status_categories an issue is done in status category \"done\".\n"
      "    credit: share of the weight a status earns before done (default 0; done = 1).\n"
      "    excluded: resolutions of done issues that are cancelled work and leave the key\n"
      "    result (default Won't Do, Duplicate, Cannot Reproduce; [] for none).\n";
  c.read_entry = &ReadJiraSite;
  c.validate = &Validate;
  c.describe = &Describe;
  return c;
}

}  // namespace okr::connectors::jira
