// The connector configuration file (--config): sites, precedence under flags and
// environment, secrets by reference only, and one clear line for every invalid input.
#include "service/server/config_file.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "connectors/github/github_config.h"
#include "connectors/gitlab/gitlab_config.h"
#include "connectors/jira/jira_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/server/config.h"
#include "tests/testing/temp_dir.h"

namespace okr::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using JiraSiteConfig = ::okr::connectors::jira::JiraSiteConfig;
using GitLabInstanceConfig = ::okr::connectors::gitlab::GitLabInstanceConfig;
using GitHubInstanceConfig = ::okr::connectors::github::GitHubInstanceConfig;

// Each tracker's entries / sites, as the connector's site config type.
const std::vector<JiraSiteConfig>& JiraSites(const ConnectorsFile& file) {
  return file.sites<JiraSiteConfig>(Tracker::kJira);
}
const std::vector<GitLabInstanceConfig>& GitLabInstances(const ConnectorsFile& file) {
  return file.sites<GitLabInstanceConfig>(Tracker::kGitLab);
}
const std::vector<JiraSiteConfig>& JiraSites(const ServerConfig& config) {
  return config.sites<JiraSiteConfig>(Tracker::kJira);
}
const std::vector<GitLabInstanceConfig>& GitLabInstances(const ServerConfig& config) {
  return config.sites<GitLabInstanceConfig>(Tracker::kGitLab);
}

struct Env {
  std::map<std::string, std::string> vars;
  GetEnv Fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

// Secrets the example file names.
Env SiteSecrets() {
  return Env{{{"OKR_JIRA_EU_API_TOKEN", "eu-api-token"},
              {"OKR_JIRA_EU_WEBHOOK_SECRET", "eu-hook-secret"},
              {"OKR_GITLAB_INT_TOKEN", "int-token"},
              {"OKR_GITLAB_INT_WEBHOOK_TOKEN", "int-hook-token"}}};
}

constexpr char kExample[] = R"({
  // The site configured by OKR_JIRA_*: only its done mapping comes from here.
  "jira_sites": [
    {"name": "default", "done": {"OKRX": {"statuses": ["Deployed"]}}},
    {"name": "eu", "url": "https://acme-eu.atlassian.net", "deployment": "datacenter",
     "email": "bot@acme.test", "api_token_env": "OKR_JIRA_EU_API_TOKEN",
     "webhook_secret_env": "OKR_JIRA_EU_WEBHOOK_SECRET",
     "story_points_field": "customfield_10002", "projects": ["OPS", "INFRA"],
     "done": {"OPS": {"statuses": ["deployed"], "status_categories": ["done"]}}}
  ],
  "gitlab_instances": [
    {"name": "int", "url": "https://gitlab.int.test", "token_env": "OKR_GITLAB_INT_TOKEN",
     "webhook_token_env": "OKR_GITLAB_INT_WEBHOOK_TOKEN", "label_prefix": "Goal",
     "projects": ["platform"],
     "done": {"platform/api": {"labels": ["workflow::deployed"]}}}
  ]
})";

absl::StatusOr<ConnectorsFile> ParseText(const std::string& text, const Env& env = SiteSecrets()) {
  return ParseConnectorsFile(text, "/etc/okr/connectors.json", env.Fn());
}

TEST(ConfigFileTest, ExampleFile_ReadsEverySetting) {
  auto file = ParseText(kExample);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(JiraSites(*file).size(), 2u);
  const JiraSiteConfig& def = JiraSites(*file)[0];
  EXPECT_TRUE(def.is_default());
  EXPECT_EQ(def.WebhookPath(), "/webhooks/jira");
  EXPECT_THAT(def.done.at("OKRX").statuses, ElementsAre("Deployed"));
  const JiraSiteConfig& eu = JiraSites(*file)[1];
  EXPECT_EQ(eu.name, "eu");
  EXPECT_EQ(eu.url, "https://acme-eu.atlassian.net");
  EXPECT_EQ(eu.deployment, "datacenter");
  EXPECT_EQ(eu.email, "bot@acme.test");
  EXPECT_EQ(eu.api_token, "eu-api-token");
  EXPECT_EQ(eu.webhook_secret, "eu-hook-secret");
  EXPECT_EQ(eu.story_points_field, "customfield_10002");
  EXPECT_THAT(eu.projects, ElementsAre("OPS", "INFRA"));
  EXPECT_THAT(eu.done.at("OPS").status_categories, ElementsAre("done"));
  EXPECT_EQ(eu.WebhookPath(), "/webhooks/jira/eu");
  EXPECT_TRUE(eu.Owns("OPS-12"));
  EXPECT_TRUE(eu.Owns("INFRA-1"));
  EXPECT_FALSE(eu.Owns("OPSX-1"));
  EXPECT_FALSE(eu.Owns("OKRX-1"));

  ASSERT_EQ(GitLabInstances(*file).size(), 1u);
  const GitLabInstanceConfig& gl = GitLabInstances(*file)[0];
  EXPECT_EQ(gl.token, "int-token");
  EXPECT_EQ(gl.webhook_token, "int-hook-token");
  EXPECT_EQ(gl.label_prefix, "Goal");
  EXPECT_EQ(gl.WebhookPath(), "/webhooks/gitlab/int");
  EXPECT_TRUE(gl.Owns("platform/api#7"));
  EXPECT_TRUE(gl.Owns("platform#3"));
  EXPECT_FALSE(gl.Owns("platformx/api#7"));
  EXPECT_THAT(gl.done.at("platform/api").labels, ElementsAre("workflow::deployed"));
}

TEST(ConfigFileTest, SecretFromFile_TrailingNewlineDropped) {
  testing::TempDir dir;
  {
    std::ofstream out(dir.File("secret"));
    out << "from-file\n";
  }
  std::string text = absl::StrReplaceAll(
      kExample, {{R"("webhook_secret_env": "OKR_JIRA_EU_WEBHOOK_SECRET")",
                  absl::StrCat(R"("webhook_secret_file": ")", dir.File("secret"), "\"")}});
  auto file = ParseText(text);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(JiraSites(*file)[1].webhook_secret, "from-file");
}

// Each case: a change to the example and the fragments the one-line error must contain.
struct BadCase {
  const char* name;
  std::string text;
  std::vector<std::string> expected;
};

std::string Replace(const std::string& from, const std::string& to) {
  std::string text = kExample;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ConfigFileTest, InvalidFile_OneLineNamingFileAndField) {
  const std::vector<BadCase> cases = {
      {"not json", "{\"jira_sites\": [", {"not valid JSON"}},
      {"not an object", "[]", {"must be a JSON object"}},
      {"unknown top-level key", R"({"jira": []})", {"jira: unknown key"}},
      {"unknown site key",
       Replace(R"("deployment": "datacenter")", R"("deploy": "datacenter")"),
       {"jira_sites[1].deploy: unknown key"}},
      {"missing url",
       Replace(R"("url": "https://acme-eu.atlassian.net",)", ""),
       {"jira_sites[1].url: required"}},
      {"bad url",
       Replace("https://acme-eu.atlassian.net", "acme-eu.atlassian.net"),
       {"jira_sites[1].url", "http(s)://"}},
      {"bad deployment",
       Replace(R"("deployment": "datacenter")", R"("deployment": "server")"),
       {"jira_sites[1].deployment"}},
      {"missing name", Replace(R"("name": "eu", )", ""), {"jira_sites[1].name: required"}},
      {"bad name",
       Replace(R"("name": "eu")", R"("name": "EU site")"),
       {"jira_sites[1].name", "not a site name"}},
      {"repeated name",
       Replace(R"("name": "eu")", R"("name": "default")"),
       {"jira_sites[1].name", "repeated"}},
      {"secret variable unset",
       Replace("OKR_JIRA_EU_API_TOKEN", "OKR_NOT_SET"),
       {"jira_sites[1].api_token_env", "OKR_NOT_SET is not set"}},
      {"secret file unreadable",
       Replace(R"("api_token_env": "OKR_JIRA_EU_API_TOKEN")",
               R"("api_token_file": "/nonexistent/token")"),
       {"jira_sites[1].api_token_file", "/nonexistent/token"}},
      {"secret given twice",
       Replace(R"("api_token_env": "OKR_JIRA_EU_API_TOKEN")",
               R"("api_token_env": "OKR_JIRA_EU_API_TOKEN", "api_token_file": "/x")"),
       {"jira_sites[1].api_token_env", "not both"}},
      {"secret value in the file",
       Replace(R"("api_token_env")", R"("api_token")"),
       {"jira_sites[1].api_token: unknown key"}},
      {"webhook secret missing",
       Replace(R"("webhook_secret_env": "OKR_JIRA_EU_WEBHOOK_SECRET",)", ""),
       {"jira_sites[1].webhook_secret_env: required"}},
      {"credentials missing",
       Replace(R"("api_token_env": "OKR_JIRA_EU_API_TOKEN",)", ""),
       {"jira_sites[1].api_token_env", "credentials required"}},
      {"email missing",
       Replace(R"("email": "bot@acme.test",)", ""),
       {"jira_sites[1].email: required"}},
      {"projects missing",
       Replace(R"("projects": ["OPS", "INFRA"],)", ""),
       {"jira_sites[1].projects: required"}},
      {"bad project key",
       Replace(R"(["OPS", "INFRA"])", R"(["OPS", "in fra"])"),
       {"jira_sites[1].projects[1]", "not a Jira project key"}},
      {"projects on the default site",
       Replace(R"({"name": "default", )", R"({"name": "default", "projects": ["X"], )"),
       {"jira_sites[0].projects"}},
      {"done for a project the site does not own",
       Replace(R"("done": {"OPS":)", R"("done": {"OKRX":)"),
       {"jira_sites[1].done.OKRX", "not one of this site's projects"}},
      {"unknown done key",
       Replace(R"({"statuses": ["Deployed"]})", R"({"status": ["Deployed"]})"),
       {"jira_sites[0].done.OKRX.status: unknown key"}},
      {"empty done rule",
       Replace(R"({"statuses": ["Deployed"]})", "{}"),
       {"jira_sites[0].done.OKRX", "neither"}},
      {"bad status category",
       Replace(R"("status_categories": ["done"])", R"("status_categories": ["Done"])"),
       {"jira_sites[1].done.OPS.status_categories[0]"}},
      {"statuses not strings",
       Replace(R"(["deployed"])", "[1]"),
       {"jira_sites[1].done.OPS.statuses[0]", "non-empty string"}},
      {"jira project owned twice",
       Replace(R"(}}}
  ],
  "gitlab_instances")",
               R"(}}},
    {"name": "us", "url": "https://acme-us.atlassian.net", "pat_env": "OKR_JIRA_EU_API_TOKEN",
     "webhook_secret_env": "OKR_JIRA_EU_WEBHOOK_SECRET", "projects": ["INFRA"]}
  ],
  "gitlab_instances")"),
       {"jira_sites[2].projects", "INFRA is already owned by site \"eu\""}},
      {"gitlab token missing",
       Replace(R"("token_env": "OKR_GITLAB_INT_TOKEN",)", ""),
       {"gitlab_instances[0].token_env: required"}},
      {"gitlab webhook token missing",
       Replace(R"("webhook_token_env": "OKR_GITLAB_INT_WEBHOOK_TOKEN",)", ""),
       {"gitlab_instances[0].webhook_token_env: required"}},
      {"gitlab missing url",
       Replace(R"("url": "https://gitlab.int.test",)", ""),
       {"gitlab_instances[0].url: required"}},
      {"gitlab bad project",
       Replace(R"(["platform"])", R"(["/platform"])"),
       {"gitlab_instances[0].projects[0]"}},
      {"gitlab done for another project",
       Replace(R"("done": {"platform/api")", R"("done": {"other/api")"),
       {"gitlab_instances[0].done.other/api", "not one of this instance's projects"}},
      {"gitlab unknown done key",
       Replace(R"({"labels":)", R"({"label":)"),
       {"gitlab_instances[0].done.platform/api.label: unknown key"}},
      {"gitlab sites not an array",
       R"({"gitlab_instances": {}})",
       {"gitlab_instances: must be an array"}},
      {"gitlab scoped label prefix",
       Replace(R"("label_prefix": "Goal")", R"("label_prefix": "Goal::")"),
       {"gitlab_instances[0].label_prefix", "scoped label"}},
  };
  for (const BadCase& c : cases) {
    auto file = ParseText(c.text);
    ASSERT_FALSE(file.ok()) << c.name;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    const std::string message(file.status().message());
    EXPECT_THAT(message, HasSubstr("/etc/okr/connectors.json: ")) << c.name;
    EXPECT_THAT(message, Not(HasSubstr("\n"))) << c.name;
    for (const std::string& fragment : c.expected) {
      EXPECT_THAT(message, HasSubstr(fragment)) << c.name;
    }
    // The secret values themselves never appear in an error.
    for (const char* secret : {"eu-api-token", "eu-hook-secret", "int-token", "int-hook-token"}) {
      EXPECT_THAT(message, Not(HasSubstr(secret))) << c.name;
    }
  }
}

// Credit per workflow state and the cancelled work left out, per project.
constexpr char kCreditExample[] = R"({
  "jira_sites": [
    {"name": "default", "done": {
      "OKRX": {"credit": {"In Review": 0.5, "In Progress": 0.25}},
      "OPS": {"statuses": ["Deployed"], "excluded": {"resolutions": ["Won't Do", "Obsolete"]}},
      "OFF": {"excluded": {"resolutions": []}}}}
  ],
  "gitlab_instances": [
    {"name": "default", "done": {
      "acme/checkout": {"credit": {"workflow::review": 0.5, "opened": 0}},
      "acme/web": {"excluded": {"duplicates": false, "labels": ["obsolete"]}},
      "acme/api": {"labels": ["workflow::deployed"], "excluded": {"labels": []}}}}
  ]
})";

TEST(ConfigFileTest, CreditAndExcluded_AreRead) {
  auto file = ParseText(kCreditExample);
  ASSERT_TRUE(file.ok()) << file.status();
  const JiraSiteConfig& jira = JiraSites(*file)[0];
  EXPECT_THAT(jira.done.at("OKRX").credit,
              ElementsAre(std::pair<const std::string, double>{"In Progress", 0.25},
                          std::pair<const std::string, double>{"In Review", 0.5}));
  EXPECT_TRUE(jira.done.at("OKRX").statuses.empty());
  EXPECT_FALSE(jira.done.at("OKRX").excluded_resolutions.has_value());  // the defaults
  ASSERT_TRUE(jira.done.at("OPS").excluded_resolutions.has_value());
  EXPECT_THAT(*jira.done.at("OPS").excluded_resolutions, ElementsAre("Won't Do", "Obsolete"));
  ASSERT_TRUE(jira.done.at("OFF").excluded_resolutions.has_value());
  EXPECT_TRUE(jira.done.at("OFF").excluded_resolutions->empty());

  const GitLabInstanceConfig& gl = GitLabInstances(*file)[0];
  EXPECT_EQ(gl.done.at("acme/checkout").credit.at("workflow::review"), 0.5);
  EXPECT_EQ(gl.done.at("acme/checkout").credit.at("opened"), 0);
  EXPECT_FALSE(gl.done.at("acme/checkout").excluded.has_value());
  ASSERT_TRUE(gl.done.at("acme/web").excluded.has_value());
  EXPECT_FALSE(gl.done.at("acme/web").excluded->duplicates);
  EXPECT_THAT(gl.done.at("acme/web").excluded->labels, ElementsAre("obsolete"));
  ASSERT_TRUE(gl.done.at("acme/api").excluded.has_value());
  EXPECT_TRUE(gl.done.at("acme/api").excluded->duplicates);  // left out: the default
  EXPECT_TRUE(gl.done.at("acme/api").excluded->labels.empty());
}

TEST(ConfigFileTest, BadCreditOrExcluded_OneLineNamingFileSectionAndKey) {
  auto replace = [](const std::string& from, const std::string& to) {
    std::string text = kCreditExample;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  const std::vector<BadCase> cases = {
      {"credit above 1",
       replace("\"In Review\": 0.5", "\"In Review\": 1.5"),
       {"jira_sites[0].done.OKRX.credit.In Review", "from 0 to 1"}},
      {"credit negative",
       replace("\"In Review\": 0.5", "\"In Review\": -0.1"),
       {"jira_sites[0].done.OKRX.credit.In Review", "from 0 to 1"}},
      {"credit not a number",
       replace("\"In Review\": 0.5", "\"In Review\": \"half\""),
       {"jira_sites[0].done.OKRX.credit.In Review", "from 0 to 1"}},
      {"credit not an object",
       replace("{\"In Review\": 0.5, \"In Progress\": 0.25}", "[0.5]"),
       {"jira_sites[0].done.OKRX.credit: must be an object"}},
      {"credit repeats a status in another case",
       replace("\"In Progress\": 0.25", "\"in review\": 0.25"),
       {"jira_sites[0].done.OKRX.credit.in review", "repeats status"}},
      {"unknown excluded key",
       replace("\"resolutions\": [\"Won't", "\"resolution\": [\"Won't"),
       {"jira_sites[0].done.OPS.excluded.resolution: unknown key"}},
      {"excluded without resolutions",
       replace("{\"resolutions\": []}", "{}"),
       {"jira_sites[0].done.OFF.excluded.resolutions: required"}},
      {"excluded resolutions not strings",
       replace("\"resolutions\": []", "\"resolutions\": [3]"),
       {"jira_sites[0].done.OFF.excluded.resolutions[0]", "non-empty string"}},
      {"gitlab credit above 1",
       replace("\"workflow::review\": 0.5", "\"workflow::review\": 2"),
       {"gitlab_instances[0].done.acme/checkout.credit.workflow::review", "from 0 to 1"}},
      {"gitlab duplicates not a boolean",
       replace("\"duplicates\": false", "\"duplicates\": \"no\""),
       {"gitlab_instances[0].done.acme/web.excluded.duplicates", "true or false"}},
      {"gitlab unknown excluded key",
       replace("\"duplicates\": false", "\"duplicate\": false"),
       {"gitlab_instances[0].done.acme/web.excluded.duplicate: unknown key"}},
      {"gitlab excluded labels not strings",
       replace("[\"obsolete\"]", "[\"\"]"),
       {"gitlab_instances[0].done.acme/web.excluded.labels[0]", "non-empty string"}},
  };
  for (const BadCase& c : cases) {
    auto file = ParseText(c.text);
    ASSERT_FALSE(file.ok()) << c.name;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    const std::string message(file.status().message());
    EXPECT_THAT(message, HasSubstr("/etc/okr/connectors.json: ")) << c.name;
    EXPECT_THAT(message, Not(HasSubstr("\n"))) << c.name;
    for (const std::string& fragment : c.expected) {
      EXPECT_THAT(message, HasSubstr(fragment)) << c.name << ": " << message;
    }
  }
}

TEST(ConfigFileTest, UnreadableFile_NamesTheFile) {
  auto file = LoadConnectorsFile("/nonexistent/connectors.json", SiteSecrets().Fn());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(), HasSubstr("/nonexistent/connectors.json"));
}

// --- Through ParseConfig: precedence, sites list, help ---

absl::StatusOr<ServerConfig> Parse(std::vector<const char*> args, const Env& env) {
  args.insert(args.begin(), "okr-server");
  return ParseConfig(static_cast<int>(args.size()), args.data(), env.Fn());
}

class ConfigWithFileTest : public ::testing::Test {
 protected:
  void Write(const std::string& text) {
    std::ofstream out(path_);
    out << text;
  }
  testing::TempDir dir_;
  const std::string path_ = dir_.File("connectors.json");
};

TEST_F(ConfigWithFileTest, FlagBeatsEnvironmentBeatsFileForTheDefaultSite) {
  Write(R"({"jira_sites": [{"name": "default", "url": "https://file.test",
            "email": "file@acme.test", "pat_env": "FILE_PAT",
            "webhook_secret_env": "FILE_HOOK_SECRET", "story_points_field": "customfield_1",
            "done": {"OKRX": {"statuses": ["Deployed"]}}}]})");
  Env env{{{"FILE_PAT", "file-pat"},
           {"FILE_HOOK_SECRET", "file-hook"},
           {"OKR_JIRA_WEBHOOK_SECRET", "env-hook"},
           {"OKR_JIRA_STORY_POINTS_FIELD", "customfield_2"},
           {"OKR_JIRA_URL", "https://env.test"}}};
  const std::string flag = "--config=" + path_;
  auto c = Parse({flag.c_str(), "--jira-url=https://flag.test"}, env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config_file, path_);
  auto jira = [&c](const char* flag) { return c->setting(Tracker::kJira, flag); };
  EXPECT_EQ(jira("jira-url"), "https://flag.test");             // flag over env over file
  EXPECT_EQ(jira("jira-story-points-field"), "customfield_2");  // env over file
  EXPECT_EQ(jira("jira-webhook-secret"), "env-hook");           // env over file
  EXPECT_EQ(jira("jira-pat"), "file-pat");                      // file only
  EXPECT_EQ(jira("jira-email"), "file@acme.test");              // file only
  ASSERT_EQ(JiraSites(*c).size(), 1u);
  EXPECT_EQ(JiraSites(*c)[0].name, "default");
  EXPECT_EQ(JiraSites(*c)[0].url, "https://flag.test");
  EXPECT_EQ(JiraSites(*c)[0].webhook_secret, "env-hook");
  EXPECT_EQ(JiraSites(*c)[0].story_points_field, "customfield_2");
  EXPECT_THAT(JiraSites(*c)[0].done.at("OKRX").statuses, ElementsAre("Deployed"));
  for (const std::string& line : c->DescribeForLog()) {
    for (const char* secret : {"file-pat", "file-hook", "env-hook"}) {
      EXPECT_THAT(line, Not(HasSubstr(secret)));
    }
  }
}

TEST_F(ConfigWithFileTest, OkrConfigEnvironment_NamesTheFileAndAddsNamedSites) {
  Write(kExample);
  Env env = SiteSecrets();
  env.vars["OKR_CONFIG"] = path_;
  auto c = Parse({}, env);
  ASSERT_TRUE(c.ok()) << c.status();
  // No OKR_JIRA_URL: the default site is off; the named site runs.
  ASSERT_EQ(JiraSites(*c).size(), 1u);
  EXPECT_EQ(JiraSites(*c)[0].name, "eu");
  ASSERT_EQ(GitLabInstances(*c).size(), 1u);
  EXPECT_EQ(GitLabInstances(*c)[0].name, "int");
  bool logged = false;
  for (const std::string& line : c->DescribeForLog()) {
    logged = logged || line.find("jira site eu") != std::string::npos;
    for (const char* secret : {"eu-api-token", "eu-hook-secret", "int-token"}) {
      EXPECT_THAT(line, Not(HasSubstr(secret)));
    }
  }
  EXPECT_TRUE(logged);

  // Without a file the settings define exactly one default site, as before.
  Env plain{{{"OKR_JIRA_URL", "https://acme.atlassian.net"},
             {"OKR_JIRA_PAT", "p"},
             {"OKR_JIRA_WEBHOOK_SECRET", "s"}}};
  auto p = Parse({}, plain);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(JiraSites(*p).size(), 1u);
  EXPECT_EQ(JiraSites(*p)[0].WebhookPath(), "/webhooks/jira");
  EXPECT_TRUE(JiraSites(*p)[0].done.empty());
  EXPECT_TRUE(GitLabInstances(*p).empty());
}

TEST_F(ConfigWithFileTest, InvalidFileStopsParsingButNotHelp) {
  Write("{\"jira_sites\": 3}");
  const std::string flag = "--config=" + path_;
  auto c = Parse({flag.c_str()}, Env{});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(path_ + ": jira_sites: must be an array"));
  auto help = Parse({flag.c_str(), "--help"}, Env{});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_TRUE(help->show_help);
  EXPECT_THAT(HelpText(), HasSubstr("--config (env OKR_CONFIG"));
  EXPECT_THAT(HelpText(), HasSubstr("/webhooks/jira/<name>"));
}

// GitHub instances: a named GitHub Enterprise Server owning an organization and one
// repository of another owner, with credit and excluded rules; and the errors an operator
// can make, each naming the field.
constexpr char kGitHubExample[] = R"({
  "github_instances": [
    {"name": "default", "done": {"acme/app": {"excluded": {"state_reasons": ["duplicate"]}}}},
    {"name": "ghes", "url": "https://ghes.corp.test/api/v3", "token_env": "OKR_GHES_TOKEN",
     "webhook_secret_env": "OKR_GHES_SECRET", "label_prefix": "Goal",
     "weight_label_prefix": "points:", "repos": ["corp", "partner/shared"],
     "done": {"corp/billing": {"credit": {"review": 0.5}}}}
  ]
})";

TEST(ConfigFileTest, GitHubInstances_ReadAndValidated) {
  const Env env{{{"OKR_GHES_TOKEN", "ghes-token"}, {"OKR_GHES_SECRET", "ghes-secret"}}};
  auto file = ParseText(kGitHubExample, env);
  ASSERT_TRUE(file.ok()) << file.status();
  const auto& instances = file->sites<GitHubInstanceConfig>(Tracker::kGitHub);
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_TRUE(instances[0].is_default());
  EXPECT_EQ(instances[0].WebhookPath(), "/webhooks/github");
  const GitHubInstanceConfig& ghes = instances[1];
  EXPECT_EQ(ghes.url, "https://ghes.corp.test/api/v3");
  EXPECT_EQ(ghes.token, "ghes-token");
  EXPECT_EQ(ghes.webhook_secret, "ghes-secret");
  EXPECT_EQ(ghes.label_prefix, "Goal");
  EXPECT_EQ(ghes.weight_label_prefix, "points:");
  EXPECT_EQ(ghes.WebhookPath(), "/webhooks/github/ghes");
  EXPECT_TRUE(ghes.Owns("corp/billing#7"));
  EXPECT_TRUE(ghes.Owns("partner/shared#1"));
  EXPECT_FALSE(ghes.Owns("partner/other#1"));
  EXPECT_FALSE(ghes.Owns("corpx/billing#1"));
  EXPECT_DOUBLE_EQ(ghes.done.at("corp/billing").credit.at("review"), 0.5);

  auto replace = [](absl::string_view from, absl::string_view to) {
    return absl::StrReplaceAll(kGitHubExample, {{from, to}});
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {replace(R"("url": "https://ghes.corp.test/api/v3",)", ""),
       "github_instances[1].url: required"},
      {replace(R"("token_env": "OKR_GHES_TOKEN",)", ""), "github_instances[1].token_env: required"},
      {replace(R"("webhook_secret_env": "OKR_GHES_SECRET",)", ""),
       "github_instances[1].webhook_secret_env: required"},
      {replace(R"(["corp", "partner/shared"])", R"(["corp/"])"), "github_instances[1].repos[0]"},
      {replace(R"("corp/billing": {)", R"("other/billing": {)"),
       "github_instances[1].done.other/billing"},
      {replace(R"(["duplicate"])", R"(["wontfix"])"),
       "github_instances[0].done.acme/app.excluded.state_reasons[0]"},
      {replace(R"("review": 0.5)", R"("review": 2)"),
       "github_instances[1].done.corp/billing.credit.review"},
      {replace(R"("label_prefix": "Goal")", R"("label_prefix": "")"),
       "github_instances[1].label_prefix"},
  };
  for (const auto& [text, expected] : bad) {
    auto parsed = ParseText(text, env);
    ASSERT_FALSE(parsed.ok()) << expected;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << expected;
    EXPECT_THAT(parsed.status().message(), HasSubstr(expected));
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("ghes-token")));
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("ghes-secret")));
  }
}

}  // namespace
}  // namespace okr::server
