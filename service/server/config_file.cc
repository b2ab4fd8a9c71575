#include "service/server/config_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "connectors/gitlab/mapper.h"
#include "connectors/jira/mapper.h"
#include "service/okr/status_macros.h"

namespace okr::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxSiteNameBytes = 32;

// Reads one JSON object: rejects unknown members, hands out typed members, and builds
// "<file>: <path>: <problem>" errors.
class Reader {
 public:
  Reader(const std::string& file, std::string path, const json& object)
      : file_(file), path_(std::move(path)), object_(object) {}

  absl::Status Error(absl::string_view member, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": ", Path(member), ": ", problem));
  }
  std::string Path(absl::string_view member) const {
    if (member.empty()) return path_;
    return path_.empty() ? std::string(member) : absl::StrCat(path_, ".", member);
  }
  const std::string& file() const { return file_; }

  // OK if every member is one of `known`.
  absl::Status OnlyKnown(const std::vector<std::string>& known) const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      bool ok = false;
      for (const std::string& k : known) ok = ok || k == it.key();
      if (!ok) {
        return Error(it.key(),
                     absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  bool Has(const std::string& member) const { return object_.contains(member); }

  // A non-empty string member, or "" when absent.
  absl::StatusOr<std::string> String(const std::string& member) const {
    if (!Has(member)) return std::string();
    const json& v = object_.at(member);
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      return Error(member, "must be a non-empty string");
    }
    return v.get<std::string>();
  }

  absl::StatusOr<std::vector<std::string>> Strings(const std::string& member) const {
    std::vector<std::string> out;
    if (!Has(member)) return out;
    const json& v = object_.at(member);
    if (!v.is_array()) return Error(member, "must be an array of strings");
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string() || v[i].get_ref<const std::string&>().empty()) {
        return Error(absl::StrCat(member, "[", i, "]"), "must be a non-empty string");
      }
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  // The secret named by `<secret>_env` (an environment variable) or `<secret>_file` (a
  // file, trailing newlines dropped); "" when neither is given.
  absl::StatusOr<std::string> Secret(const std::string& secret, const GetEnvFn& env) const {
    const std::string env_key = secret + "_env";
    const std::string file_key = secret + "_file";
    if (Has(env_key) && Has(file_key)) {
      return Error(env_key, absl::StrCat("give either ", env_key, " or ", file_key, ", not both"));
    }
    if (Has(env_key)) {
      absl::StatusOr<std::string> var = String(env_key);
      if (!var.ok()) return var.status();
      const char* value = env(var->c_str());
      if (value == nullptr || *value == '\0') {
        return Error(env_key, absl::StrCat("environment variable ", *var, " is not set"));
      }
      return std::string(value);
    }
    if (Has(file_key)) {
      absl::StatusOr<std::string> path = String(file_key);
      if (!path.ok()) return path.status();
      std::ifstream in(*path, std::ios::binary);
      if (!in) return Error(file_key, absl::StrCat("cannot read the file \"", *path, "\""));
      std::stringstream content;
      content << in.rdbuf();
      std::string value = content.str();
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      if (value.empty()) return Error(file_key, absl::StrCat("the file \"", *path, "\" is empty"));
      return value;
    }
    return std::string();
  }

  absl::StatusOr<Reader> Object(const std::string& member) const {
    const json& v = object_.at(member);
    if (!v.is_object()) return Error(member, "must be an object");
    return Reader(file_, Path(member), v);
  }

  const json& object() const { return object_; }

 private:
  const std::string& file_;
  std::string path_;
  const json& object_;
};

bool IsSiteName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxSiteNameBytes) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool ok = absl::ascii_islower(c) || absl::ascii_isdigit(c) || (i > 0 && c == '-');
    if (!ok) return false;
  }
  return true;
}

bool IsHttpUrl(absl::string_view url) {
  for (absl::string_view scheme : {"https://", "http://"}) {
    if (absl::StartsWith(url, scheme) && url.size() > scheme.size()) return true;
  }
  return false;
}

// Jira project keys: an upper-case letter, then upper-case letters, digits or '_'.
bool IsJiraProjectKey(absl::string_view key) {
  if (key.empty() || !absl::ascii_isupper(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isupper(u) && !absl::ascii_isdigit(u) && c != '_') return false;
  }
  return true;
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

// name: "default" or a site name, unique among `seen`.
absl::StatusOr<std::string> ReadName(const Reader& r, std::set<std::string>& seen) {
  std::string name;
  OKR_ASSIGN_OR_RETURN(name, r.String("name"));
  if (name.empty()) return r.Error("name", "required");
  if (name != kDefaultSiteName && !IsSiteName(name)) {
    return r.Error("name", absl::StrCat("\"", name,
                                        "\" is not a site name (lower-case letters, digits and "
                                        "'-', at most 32, starting with a letter or digit)"));
  }
  if (!seen.insert(name).second) return r.Error("name", absl::StrCat("\"", name, "\" repeated"));
  return name;
}

absl::StatusOr<JiraSiteConfig> ReadJiraSite(const Reader& r, std::set<std::string>& names,
                                            const GetEnvFn& env) {
  OKR_RETURN_IF_ERROR(
      r.OnlyKnown({"name", "url", "deployment", "email", "api_token_env", "api_token_file",
                   "pat_env", "pat_file", "webhook_secret_env", "webhook_secret_file",
                   "story_points_field", "projects", "done"}));
  JiraSiteConfig site;
  OKR_ASSIGN_OR_RETURN(site.name, ReadName(r, names));
  OKR_ASSIGN_OR_RETURN(site.url, r.String("url"));
  if (!site.url.empty() && !IsHttpUrl(site.url)) {
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
    OKR_ASSIGN_OR_RETURN(Reader done, r.Object("done"));
    for (auto it = done.object().begin(); it != done.object().end(); ++it) {
      const std::string& project = it.key();
      if (!IsJiraProjectKey(project)) {
        return done.Error(project, "is not a Jira project key");
      }
      if (!site.is_default() && !site.Owns(absl::StrCat(project, "-1"))) {
        return done.Error(project, "is not one of this site's projects");
      }
      OKR_ASSIGN_OR_RETURN(Reader rule_reader, done.Object(project));
      OKR_RETURN_IF_ERROR(rule_reader.OnlyKnown({"statuses", "status_categories"}));
      connectors::jira::JiraDoneRule rule;
      OKR_ASSIGN_OR_RETURN(rule.statuses, rule_reader.Strings("statuses"));
      OKR_ASSIGN_OR_RETURN(rule.status_categories, rule_reader.Strings("status_categories"));
      for (size_t i = 0; i < rule.status_categories.size(); ++i) {
        const std::string& c = rule.status_categories[i];
        if (c != connectors::jira::kStatusCategoryNew &&
            c != connectors::jira::kStatusCategoryIndeterminate &&
            c != connectors::jira::kStatusCategoryDone &&
            c != connectors::jira::kStatusCategoryUndefined) {
          return rule_reader.Error(absl::StrCat("status_categories[", i, "]"),
                                   "must be one of new, indeterminate, done, undefined");
        }
      }
      if (rule.statuses.empty() && rule.status_categories.empty()) {
        return rule_reader.Error("", "lists neither statuses nor status_categories");
      }
      site.done[project] = std::move(rule);
    }
  }
  return site;
}

absl::StatusOr<GitLabInstanceConfig> ReadGitLabInstance(const Reader& r,
                                                        std::set<std::string>& names,
                                                        const GetEnvFn& env) {
  OKR_RETURN_IF_ERROR(r.OnlyKnown({"name", "url", "token_env", "token_file", "webhook_token_env",
                                   "webhook_token_file", "label_prefix", "projects", "done"}));
  GitLabInstanceConfig instance;
  OKR_ASSIGN_OR_RETURN(instance.name, ReadName(r, names));
  OKR_ASSIGN_OR_RETURN(instance.url, r.String("url"));
  if (!instance.url.empty() && !IsHttpUrl(instance.url)) {
    return r.Error("url", absl::StrCat("\"", instance.url, "\" is not an http(s):// URL"));
  }
  OKR_ASSIGN_OR_RETURN(instance.token, r.Secret("token", env));
  OKR_ASSIGN_OR_RETURN(instance.webhook_token, r.Secret("webhook_token", env));
  if (r.Has("label_prefix")) {
    OKR_ASSIGN_OR_RETURN(instance.label_prefix, r.String("label_prefix"));
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
    OKR_ASSIGN_OR_RETURN(Reader done, r.Object("done"));
    for (auto it = done.object().begin(); it != done.object().end(); ++it) {
      const std::string& project = it.key();
      if (!connectors::gitlab::ValidateProjectPath(project).ok()) {
        return done.Error(project, "is not a GitLab project path (group/project)");
      }
      if (!instance.is_default() && !instance.Owns(absl::StrCat(project, "#1"))) {
        return done.Error(project, "is not one of this instance's projects");
      }
      OKR_ASSIGN_OR_RETURN(Reader rule_reader, done.Object(project));
      OKR_RETURN_IF_ERROR(rule_reader.OnlyKnown({"states", "labels"}));
      connectors::gitlab::GitLabDoneRule rule;
      OKR_ASSIGN_OR_RETURN(rule.states, rule_reader.Strings("states"));
      OKR_ASSIGN_OR_RETURN(rule.labels, rule_reader.Strings("labels"));
      if (rule.states.empty() && rule.labels.empty()) {
        return rule_reader.Error("", "lists neither states nor labels");
      }
      instance.done[project] = std::move(rule);
    }
  }
  return instance;
}

}  // namespace

std::string JiraSiteConfig::WebhookPath() const {
  return is_default() ? "/webhooks/jira" : absl::StrCat("/webhooks/jira/", name);
}

bool JiraSiteConfig::Owns(absl::string_view issue_key) const {
  const std::string project = connectors::jira::ProjectKeyOf(issue_key);
  for (const std::string& p : projects) {
    if (p == project) return true;
  }
  return false;
}

std::string GitLabInstanceConfig::WebhookPath() const {
  return is_default() ? "/webhooks/gitlab" : absl::StrCat("/webhooks/gitlab/", name);
}

bool GitLabInstanceConfig::Owns(absl::string_view work_item_key) const {
  const size_t hash = work_item_key.rfind('#');
  if (hash == absl::string_view::npos) return false;
  const absl::string_view project = work_item_key.substr(0, hash);
  for (const std::string& p : projects) {
    if (Covers(p, project)) return true;
  }
  return false;
}

absl::StatusOr<ConnectorsFile> ParseConnectorsFile(absl::string_view text, const std::string& path,
                                                   const GetEnvFn& env) {
  json root;
  try {
    root = json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/true,
                       /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> one line.
    std::string what = absl::StrReplaceAll(e.what(), {{"\n", " "}, {"\r", " "}});
    const size_t bracket = what.find("] ");
    if (absl::StartsWith(what, "[json.exception.") && bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", what));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be a JSON object"));
  }
  Reader top(path, "", root);
  OKR_RETURN_IF_ERROR(top.OnlyKnown({"jira_sites", "gitlab_instances"}));
  ConnectorsFile file;
  std::set<std::string> jira_names;
  if (top.Has("jira_sites")) {
    const json& sites = root.at("jira_sites");
    if (!sites.is_array()) return top.Error("jira_sites", "must be an array");
    for (size_t i = 0; i < sites.size(); ++i) {
      const std::string at = absl::StrCat("jira_sites[", i, "]");
      if (!sites[i].is_object()) return top.Error(at, "must be an object");
      OKR_ASSIGN_OR_RETURN(JiraSiteConfig site,
                           ReadJiraSite(Reader(path, at, sites[i]), jira_names, env));
      for (size_t j = 0; j < file.jira_sites.size(); ++j) {
        for (const std::string& p : site.projects) {
          if (file.jira_sites[j].Owns(absl::StrCat(p, "-1"))) {
            return top.Error(absl::StrCat(at, ".projects"),
                             absl::StrCat("project ", p, " is already owned by site \"",
                                          file.jira_sites[j].name, "\""));
          }
        }
      }
      file.jira_sites.push_back(std::move(site));
    }
  }
  std::set<std::string> gitlab_names;
  if (top.Has("gitlab_instances")) {
    const json& instances = root.at("gitlab_instances");
    if (!instances.is_array()) return top.Error("gitlab_instances", "must be an array");
    for (size_t i = 0; i < instances.size(); ++i) {
      const std::string at = absl::StrCat("gitlab_instances[", i, "]");
      if (!instances[i].is_object()) return top.Error(at, "must be an object");
      OKR_ASSIGN_OR_RETURN(GitLabInstanceConfig instance,
                           ReadGitLabInstance(Reader(path, at, instances[i]), gitlab_names, env));
      for (const GitLabInstanceConfig& other : file.gitlab_instances) {
        for (const std::string& p : instance.projects) {
          for (const std::string& q : other.projects) {
            if (Covers(p, q) || Covers(q, p)) {
              return top.Error(
                  absl::StrCat(at, ".projects"),
                  absl::StrCat(p, " overlaps ", q, " of instance \"", other.name, "\""));
            }
          }
        }
      }
      file.gitlab_instances.push_back(std::move(instance));
    }
  }
  return file;
}

absl::StatusOr<ConnectorsFile> LoadConnectorsFile(const std::string& path, const GetEnvFn& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the file"));
  std::string text;
  text.resize(kMaxFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the file"));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 1 MiB"));
  }
  return ParseConnectorsFile(text, path, env);
}

std::string ConnectorsFileHelp() {
  return R"(Configuration file (--config, JSON; comments allowed):
  {"jira_sites": [SITE...], "gitlab_instances": [INSTANCE...]}
  Jira SITE: name, url, deployment (cloud|datacenter), email, api_token_env|api_token_file,
    pat_env|pat_file, webhook_secret_env|webhook_secret_file, story_points_field,
    projects (owned project keys), done {"<PROJECT>": {"statuses": [..],
    "status_categories": [..]}}
  GitLab INSTANCE: name, url, token_env|token_file, webhook_token_env|webhook_token_file,
    label_prefix, projects (owned groups or project paths),
    done {"<group/project>": {"states": [..], "labels": [..]}}
  Secrets are never in the file: *_env names an environment variable, *_file a file.
  The entry named "default" is the site the OKR_JIRA_* / OKR_GITLAB_* settings configure
  (webhook POST /webhooks/jira, /webhooks/gitlab); those settings override it. Every other
  entry needs url, projects and its secrets; its webhook is POST /webhooks/jira/<name> or
  /webhooks/gitlab/<name>, it owns the listed projects and its tracker ids are stored as
  "<name>:<id>". The default site owns every project no other site lists.
  Done: without a "done" entry a Jira issue is done in status category "done" and a
  GitLab issue when its state is "closed".
)";
}

}  // namespace okr::server
