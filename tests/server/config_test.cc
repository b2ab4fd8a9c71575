#include "service/server/config.h"

#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace okr::server {
namespace {

using ::testing::HasSubstr;

struct Env {
  std::map<std::string, std::string> vars;
  GetEnv Fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

absl::StatusOr<ServerConfig> Parse(std::vector<const char*> args, const Env& env = {}) {
  args.insert(args.begin(), "okr-server");
  return ParseConfig(static_cast<int>(args.size()), args.data(), env.Fn());
}

TEST(ConfigTest, DefaultsMatchTheDocumentedValues) {
  auto c = Parse({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->grpc_address, "0.0.0.0:50051");
  EXPECT_EQ(c->http_address, "0.0.0.0:8080");
  EXPECT_EQ(c->database, "sqlite:okr.db");
}

TEST(ConfigTest, FlagBeatsEnvironmentBeatsDefault) {
  Env env{{{"OKR_GRPC_ADDRESS", "127.0.0.1:1"}, {"OKR_DATABASE", "sqlite:/tmp/x.db"}}};
  auto c = Parse({"--grpc-address=127.0.0.1:2"}, env);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->grpc_address, "127.0.0.1:2");
  EXPECT_EQ(c->database, "sqlite:/tmp/x.db");
  auto spaced = Parse({"--http-address", "127.0.0.1:9"});
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->http_address, "127.0.0.1:9");
}

TEST(ConfigTest, UnknownFlagOrBadValueIsOneClearError) {
  auto unknown = Parse({"--grpc_port=1"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("--grpc_port"));
  auto bad = Parse({"--log-format=xml"});
  EXPECT_THAT(bad.status().message(), HasSubstr("log-format"));
  auto missing = Parse({"--database"});
  EXPECT_THAT(missing.status().message(), HasSubstr("needs a value"));
}

TEST(ConfigTest, HelpListsEverySettingWithItsEnvironmentVariable) {
  std::string help = HelpText();
  for (const char* s : {"--grpc-address", "OKR_GRPC_ADDRESS", "--http-address", "OKR_HTTP_ADDRESS",
                        "--database", "OKR_DATABASE", "--log-format", "OKR_LOG_FORMAT"}) {
    EXPECT_THAT(help, HasSubstr(s));
  }
  EXPECT_TRUE(Parse({"--help"})->show_help);
}

TEST(ConfigTest, LogLinesRedactDatabasePassword) {
  // --auth=none: with tokens, PostgreSQL also needs OKR_ADMIN_TOKEN (tested below).
  auto c = Parse({"--database=postgresql://okr:s3cret@db:5432/okr", "--auth=none"});
  ASSERT_TRUE(c.ok());
  for (const std::string& line : c->DescribeForLog()) {
    EXPECT_THAT(line, ::testing::Not(HasSubstr("s3cret")));
  }
}

TEST(ConfigTest, AccessControlAndTlsSettings_AreValidated) {
  struct Case {
    std::vector<const char*> args;
    std::string error;  // empty: valid
  };
  const Case cases[] = {
      {{}, ""},
      {{"--auth=none"}, ""},
      {{"--auth=maybe"}, "--auth"},
      {{"--database=postgresql://db/okr"}, "OKR_ADMIN_TOKEN"},
      {{"--database=postgresql://db/okr", "--auth=none"}, ""},
      {{"--tls-cert-file=/c.pem"}, "--tls-key-file"},
      {{"--tls-key-file=/k.pem"}, "--tls-cert-file"},
      {{"--tls-cert-file=/c.pem", "--tls-key-file=/k.pem"}, ""},
      {{"--tls-client-ca-file=/ca.pem"}, "--tls-cert-file"},
      {{"--rule-max-issues-per-day=0"}, "--rule-max-issues-per-day"},
      {{"--rule-max-issues-per-day=ten"}, "--rule-max-issues-per-day"},
      {{"--rule-max-issues-per-day=3"}, ""},
  };
  for (const Case& c : cases) {
    auto parsed = Parse(c.args);
    if (c.error.empty()) {
      EXPECT_TRUE(parsed.ok()) << parsed.status();
    } else {
      ASSERT_FALSE(parsed.ok()) << c.error;
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(parsed.status().message(), HasSubstr(c.error));
    }
  }
  EXPECT_TRUE(Parse({})->auth_enabled());
  EXPECT_FALSE(Parse({"--auth=none"})->auth_enabled());
  EXPECT_EQ(Parse({"--rule-max-issues-per-day=3"})->rule_max_issues_per_day_n, 3);

  // The bootstrap admin secret comes from the environment and must not be trivially short.
  Env good{{{"OKR_ADMIN_TOKEN", "0123456789abcdef-admin"}}};
  auto pg = Parse({"--database=postgresql://db/okr"}, good);
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_EQ(pg->admin_token, "0123456789abcdef-admin");
  Env short_token{{{"OKR_ADMIN_TOKEN", "short"}}};
  EXPECT_THAT(Parse({}, short_token).status().message(), HasSubstr("at least 16 characters"));
  EXPECT_EQ(Parse({"--admin-token=0123456789abcdef-admin"}).status().code(),
            absl::StatusCode::kInvalidArgument);  // a secret is never a flag
}

}  // namespace
}  // namespace okr::server

namespace okr::server {
namespace {

TEST(ConfigSecretsTest, SecretFlagIsRejectedNamingTheVariable) {
  auto c = Parse({"--jira-webhook-secret=s3cret"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("OKR_JIRA_WEBHOOK_SECRET"));
  EXPECT_THAT(c.status().message(), ::testing::Not(HasSubstr("s3cret")));
}

TEST(ConfigSecretsTest, SecretsComeFromEnvironmentOrFileAndAreNeverLogged) {
  testing::TempDir dir;
  const std::string path = dir.File("token");
  {
    std::ofstream out(path);
    out << "file-token\n";
  }
  Env env{{{"OKR_JIRA_URL", "https://acme.atlassian.net"},
           {"OKR_JIRA_EMAIL", "bot@acme.test"},
           {"OKR_JIRA_API_TOKEN", "env-token"},
           {"OKR_JIRA_WEBHOOK_SECRET_FILE", path}}};
  auto c = Parse({}, env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->setting(Tracker::kJira, "jira-api-token"), "env-token");
  EXPECT_EQ(c->setting(Tracker::kJira, "jira-webhook-secret"), "file-token");
  for (const std::string& line : c->DescribeForLog()) {
    EXPECT_THAT(line, ::testing::Not(HasSubstr("env-token")));
    EXPECT_THAT(line, ::testing::Not(HasSubstr("file-token")));
  }
  EXPECT_THAT(HelpText(), HasSubstr("OKR_JIRA_WEBHOOK_SECRET_FILE"));
}

TEST(ConfigSecretsTest, ConnectorWithoutWebhookSecretStopsAtStart) {
  Env env{{{"OKR_JIRA_URL", "https://acme.atlassian.net"}, {"OKR_JIRA_PAT", "p"}}};
  auto c = Parse({}, env);
  EXPECT_THAT(c.status().message(), HasSubstr("OKR_JIRA_WEBHOOK_SECRET"));
  Env gitlab{{{"OKR_GITLAB_URL", "https://gitlab.test"}, {"OKR_GITLAB_WEBHOOK_TOKEN", "w"}}};
  EXPECT_THAT(Parse({}, gitlab).status().message(), HasSubstr("OKR_GITLAB_TOKEN"));
}

TEST(ConfigTest, DurationsAreParsedAndValidated) {
  auto c = Parse({"--reconcile-interval=3s"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->reconcile_every, absl::Seconds(3));
  EXPECT_THAT(Parse({"--reconcile-interval=soon"}).status().message(),
              HasSubstr("reconcile-interval"));
  EXPECT_THAT(Parse({"--reconcile-interval=-1s"}).status().message(),
              HasSubstr("positive duration"));
}

TEST(ConfigTest, RetentionsAndLimits_DefaultsDaysAndValidation) {
  auto d = Parse({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->event_retention_d, absl::Hours(24 * 90));
  EXPECT_EQ(d->webhook_dedupe_retention_d, absl::Hours(24 * 7));
  EXPECT_EQ(d->request_id_retention_d, absl::Hours(24 * 7));
  EXPECT_EQ(d->max_subscriptions_n, 1000);
  EXPECT_EQ(d->max_rules_n, 1000);
  EXPECT_EQ(d->max_api_tokens_n, 1000);
  Env env{{{"OKR_WEBHOOK_DEDUPE_RETENTION", "96h"}, {"OKR_MAX_RULES", "0"}}};
  auto c =
      Parse({"--event-retention=30d", "--request-id-retention=90m", "--max-api-tokens=5"}, env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->event_retention_d, absl::Hours(24 * 30));
  EXPECT_EQ(c->webhook_dedupe_retention_d, absl::Hours(96));
  EXPECT_EQ(c->request_id_retention_d, absl::Minutes(90));
  EXPECT_EQ(c->max_rules_n, 0);
  EXPECT_EQ(c->max_api_tokens_n, 5);
  EXPECT_EQ(Parse({"--event-retention=0d"}).status().message(),
            "--event-retention: \"0d\" is not a positive duration like 90d, 12h or 30m");
  EXPECT_THAT(Parse({"--webhook-dedupe-retention=1.5d"}).status().message(),
              HasSubstr("--webhook-dedupe-retention"));
  EXPECT_THAT(Parse({"--request-id-retention=0s"}).status().message(),
              HasSubstr("--request-id-retention"));
  EXPECT_EQ(Parse({"--max-subscriptions=-1"}).status().message(),
            "--max-subscriptions: \"-1\" is not a number in 0..1000000");
}

}  // namespace
}  // namespace okr::server
