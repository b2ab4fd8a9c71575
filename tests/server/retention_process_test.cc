// The okr-server binary with short retentions (--event-retention, --webhook-dedupe-retention,
// --request-id-retention) against the fake Jira: /metrics counts the rows retention pruned
// per table, a replayed old request id creates again while a young one is still deduped, an
// old webhook delivery id is applied again while a young one is still a duplicate, and old
// events leave the history. Then the limits on counts (--max-subscriptions, --max-rules,
// --max-api-tokens) answer RESOURCE_EXHAUSTED over gRPC, and bad retention values stop the
// start with a clear line. With two replicas on one PostgreSQL database (needs
// OKR_TEST_POSTGRES_URL, tests/testing/postgres/temp_postgres.sh; under CI=true its absence
// is a failure, elsewhere that test is skipped) exactly one replica prunes.
#include <httplib.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <regex>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/fake_jira/webhook_sender.h"
#include "tests/testing/okr_api.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::Ctx;
using ::okr::testing::Eventually;

using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::ServerProcess;
using ::testing::HasSubstr;

constexpr char kSecret[] = "jira-hook-secret";

// The value of one counter series in a /metrics text (-1 if absent).
double Series(const std::string& metrics, const std::string& series) {
  const std::string prefix = series + " ";
  size_t pos = metrics.find(prefix);
  if (pos == std::string::npos || (pos > 0 && metrics[pos - 1] != '\n')) return -1;
  const size_t start = pos + prefix.size();
  double v = -1;
  if (!absl::SimpleAtod(metrics.substr(start, metrics.find('\n', start) - start), &v)) return -1;
  return v;
}

std::string Pruned(const char* table) {
  return absl::StrCat("okr_pruned_rows_total{table=\"", table, "\"}");
}

std::string Deliveries(const char* outcome) {
  return absl::StrCat("okr_webhook_deliveries_total{outcome=\"", outcome,
                      "\",site=\"default\",tracker=\"jira\"}");
}

// ErrorInfo.reason of a failed call ("" if none).
std::string Reason(const grpc::Status& s) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  if (!details.ParseFromString(s.error_details()) || details.details_size() == 0 ||
      !details.details(0).UnpackTo(&info)) {
    return "";
  }
  return info.reason();
}

grpc::Status CreateTeam(v1::OkrService::Stub& stub, const std::string& id,
                        const std::string& request_id, v1::Team* out) {
  v1::CreateTeamRequest req;
  req.set_team_id(id);
  req.mutable_team()->set_display_name("Team " + id);
  req.set_request_id(request_id);
  return stub.CreateTeam(Ctx().get(), req, out);
}

TEST(RetentionProcessTest, ShortRetentions_PruneOldRows_YoungOnesStillDedupe) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  FakeJiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "One-click checkout";
  issue.story_points = 3;
  (*fake)->PutIssue(issue);

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db"), "--event-retention=10s",
       "--webhook-dedupe-retention=10s"},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
       std::string("OKR_JIRA_WEBHOOK_SECRET=") + kSecret,
       "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016", "OKR_RECONCILE_INTERVAL=1h",
       "OKR_REQUEST_ID_RETENTION=10s"});  // the environment variable works as the flag
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("setting event-retention=10s"));
  EXPECT_THAT(server.Log(), HasSubstr("setting request-id-retention=10s"));
  EXPECT_THAT(server.Log(),
              HasSubstr("webhook-dedupe-retention is shorter than the trackers' redelivery "
                        "windows"));
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  httplib::Client http(absl::StrCat("http://127.0.0.1:", http_port));
  auto metrics = [&]() -> std::string {
    auto r = http.Get("/metrics");
    return r ? r->body : std::string();
  };
  // Every table's series is there from the start, at 0.
  for (const char* table : {"events", "webhook_deliveries", "request_records", "rule_firings"}) {
    EXPECT_GE(Series(metrics(), Pruned(table)), 0) << table;
  }

  // The old request id, the OKRs and a linked issue.
  v1::Team team;
  ASSERT_TRUE(CreateTeam(*stub, "checkout", "old-request", &team).ok());
  v1::CreateCycleRequest cycle;
  cycle.set_cycle_id("now");
  cycle.mutable_cycle()->set_display_name("Now");
  cycle.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) -
                                                           86400);
  cycle.mutable_cycle()->mutable_end_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) +
                                                         86400 * 89);
  v1::Cycle c;
  ASSERT_TRUE(stub->CreateCycle(Ctx().get(), cycle, &c).ok());
  v1::CreateObjectiveRequest obj;
  obj.set_objective_id("o1");
  obj.mutable_objective()->set_title("Make paying effortless");
  obj.mutable_objective()->set_team("teams/checkout");
  obj.mutable_objective()->set_cycle("cycles/now");
  v1::Objective o;
  ASSERT_TRUE(stub->CreateObjective(Ctx().get(), obj, &o).ok());
  v1::CreateKeyResultRequest kr;
  kr.set_parent("objectives/o1");
  kr.set_key_result_id("epics");
  kr.mutable_key_result()->set_title("Ship the checkout epics");
  kr.mutable_key_result()->mutable_work_items();
  v1::KeyResult k;
  ASSERT_TRUE(stub->CreateKeyResult(Ctx().get(), kr, &k).ok());
  v1::LinkWorkItemRequest link;
  link.set_parent("objectives/o1/keyResults/epics");
  link.mutable_work_item()->set_tracker(v1::JIRA);
  link.mutable_work_item()->set_key("OKRX-1");
  v1::WorkItemLink l;
  ASSERT_TRUE(stub->LinkWorkItem(Ctx().get(), link, &l).ok());
  v1::SyncKeyResultRequest sync;
  sync.set_name("objectives/o1/keyResults/epics");
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();

  // The old delivery: applied (progress moves, an event), then a duplicate.
  issue.status_category = "done";
  issue.updated = issue.updated + absl::Minutes(5);
  (*fake)->PutIssue(issue);
  testing::WebhookEventOptions options;
  options.site_base_url = (*fake)->base_url();
  options.status_from = "indeterminate";
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/jira");
  const nlohmann::json closed = testing::IssueUpdatedEvent(issue, options);
  ASSERT_EQ(*testing::SendWebhook(url, closed, kSecret, "delivery-old"), 200);
  ASSERT_EQ(*testing::SendWebhook(url, closed, kSecret, "delivery-old"), 200);
  EXPECT_EQ(Series(metrics(), Deliveries("accepted")), 1);
  EXPECT_EQ(Series(metrics(), Deliveries("duplicate")), 1);
  v1::ListEventsRequest list;
  list.set_parent("objectives/o1");
  list.set_page_size(100);
  v1::ListEventsResponse history;
  ASSERT_TRUE(stub->ListEvents(Ctx().get(), list, &history).ok());
  ASSERT_GT(history.events_size(), 0);
  const int64_t newest_old_sequence = history.events(history.events_size() - 1).sequence();

  // Retention runs in the background; each table shrinks once its rows are 10 s old.
  ASSERT_TRUE(Eventually([&] {
    const std::string m = metrics();
    return Series(m, Pruned("events")) >= history.events_size() &&
           Series(m, Pruned("webhook_deliveries")) >= 1 &&
           Series(m, Pruned("request_records")) >= 1;
  })) << metrics()
      << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("retention: pruned old rows"));

  // The old events left the history.
  ASSERT_TRUE(stub->ListEvents(Ctx().get(), list, &history).ok());
  for (const v1::Event& e : history.events()) EXPECT_GT(e.sequence(), newest_old_sequence);

  // The old request id is forgotten: the replay creates again (and finds the team taken);
  // a young one is still deduped (the replay returns the first result).
  v1::Team again;
  grpc::Status replay = CreateTeam(*stub, "checkout", "old-request", &again);
  EXPECT_EQ(replay.error_code(), grpc::StatusCode::ALREADY_EXISTS) << replay.error_message();
  v1::Team young;
  ASSERT_TRUE(CreateTeam(*stub, "payments", "young-request", &young).ok());
  v1::Team young_again;
  grpc::Status young_replay = CreateTeam(*stub, "payments", "young-request", &young_again);
  EXPECT_TRUE(young_replay.ok()) << young_replay.error_message();
  EXPECT_EQ(young_again.name(), "teams/payments");

  // The old delivery id is forgotten: a redelivery is applied again (accepted, no longer a
  // duplicate); a young one is still a duplicate.
  ASSERT_EQ(*testing::SendWebhook(url, closed, kSecret, "delivery-old"), 200);
  EXPECT_EQ(Series(metrics(), Deliveries("accepted")), 2);
  EXPECT_EQ(Series(metrics(), Deliveries("duplicate")), 1);
  ASSERT_EQ(*testing::SendWebhook(url, closed, kSecret, "delivery-young"), 200);
  ASSERT_EQ(*testing::SendWebhook(url, closed, kSecret, "delivery-young"), 200);
  EXPECT_EQ(Series(metrics(), Deliveries("duplicate")), 2);

  // A new event after pruning is in the history.
  issue.status_category = "indeterminate";
  issue.updated = issue.updated + absl::Minutes(5);
  (*fake)->PutIssue(issue);
  options.status_from = "done";
  ASSERT_EQ(*testing::SendWebhook(url, testing::IssueUpdatedEvent(issue, options), kSecret,
                                  "delivery-reopen"),
            200);
  ASSERT_TRUE(stub->ListEvents(Ctx().get(), list, &history).ok());
  ASSERT_GT(history.events_size(), 0);
  EXPECT_GT(history.events(history.events_size() - 1).sequence(), newest_old_sequence);
}

TEST(RetentionProcessTest, LimitsOnCounts_AnswerResourceExhaustedNamingTheFlag) {
  testing::TempDir dir;
  ServerProcess server({"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                        "--database=sqlite:" + dir.File("okr.db"), "--max-subscriptions=1",
                        "--max-rules=1", "--outbound-allow-cidrs=127.0.0.0/8"},
                       dir.File("server.log"), {"OKR_MAX_API_TOKENS=1"});
  const int grpc_port = server.WaitForGrpcPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  v1::Team team;
  ASSERT_TRUE(CreateTeam(*stub, "checkout", "", &team).ok());
  v1::CreateCycleRequest cycle;
  cycle.set_cycle_id("now");
  cycle.mutable_cycle()->set_display_name("Now");
  cycle.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  cycle.mutable_cycle()->mutable_end_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) +
                                                         86400 * 90);
  v1::Cycle c;
  ASSERT_TRUE(stub->CreateCycle(Ctx().get(), cycle, &c).ok());
  v1::CreateObjectiveRequest obj;
  obj.set_objective_id("o1");
  obj.mutable_objective()->set_title("Make paying effortless");
  obj.mutable_objective()->set_team("teams/checkout");
  obj.mutable_objective()->set_cycle("cycles/now");
  v1::Objective o;
  ASSERT_TRUE(stub->CreateObjective(Ctx().get(), obj, &o).ok());

  // Subscriptions.
  v1::CreateSubscriptionRequest sub;
  sub.mutable_subscription()->set_target_url("http://127.0.0.1:9/hook");
  sub.mutable_subscription()->set_secret("0123456789abcdef");
  v1::Subscription s;
  grpc::Status first = stub->CreateSubscription(Ctx().get(), sub, &s);
  ASSERT_TRUE(first.ok()) << first.error_message();
  v1::Subscription s2;
  grpc::Status over = stub->CreateSubscription(Ctx().get(), sub, &s2);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(over.error_message(),
            "at most 1 subscriptions may exist (--max-subscriptions); delete unused ones or "
            "raise the limit");
  EXPECT_EQ(Reason(over), "SUBSCRIPTION_LIMIT_REACHED");
  v1::DeleteSubscriptionRequest del_sub;
  del_sub.set_name(s.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub->DeleteSubscription(Ctx().get(), del_sub, &empty).ok());
  EXPECT_TRUE(stub->CreateSubscription(Ctx().get(), sub, &s2).ok());

  // Rules.
  v1::CreateRuleRequest rule;
  rule.mutable_rule()->set_parent("objectives/o1");
  rule.mutable_rule()->mutable_condition()->set_type(v1::BEHIND_PACE);
  rule.mutable_rule()->mutable_condition()->set_threshold(0.2);
  rule.mutable_rule()->mutable_action()->set_type(v1::EMIT_EVENT);
  v1::Rule r;
  ASSERT_TRUE(stub->CreateRule(Ctx().get(), rule, &r).ok());
  v1::Rule r2;
  over = stub->CreateRule(Ctx().get(), rule, &r2);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(over.error_message(), HasSubstr("at most 1 rules may exist (--max-rules)"));
  EXPECT_EQ(Reason(over), "RULE_LIMIT_REACHED");

  // API tokens.
  v1::CreateApiTokenRequest token;
  token.mutable_api_token()->set_display_name("Ada");
  token.mutable_api_token()->set_role(v1::VIEWER);
  v1::ApiToken t;
  ASSERT_TRUE(stub->CreateApiToken(Ctx().get(), token, &t).ok());
  v1::ApiToken t2;
  over = stub->CreateApiToken(Ctx().get(), token, &t2);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(over.error_message(), HasSubstr("at most 1 API tokens may exist (--max-api-tokens)"));
  EXPECT_EQ(Reason(over), "API_TOKEN_LIMIT_REACHED");
}

TEST(RetentionProcessTest, BadRetentionOrLimit_StopsTheStartWithOneClearLine) {
  struct Case {
    std::string flag;
    std::string message;
  };
  for (const Case& c : {Case{"--event-retention=soon",
                             "--event-retention: \"soon\" is not a positive duration like 90d, "
                             "12h or 30m"},
                        Case{"--webhook-dedupe-retention=0d",
                             "--webhook-dedupe-retention: \"0d\" is not a positive duration"},
                        Case{"--request-id-retention=-5m",
                             "--request-id-retention: \"-5m\" is not a positive duration"},
                        Case{"--max-rules=lots",
                             "--max-rules: \"lots\" is not a number in "
                             "0..1000000"}}) {
    testing::TempDir dir;
    ServerProcess server({"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                          "--database=sqlite:" + dir.File("okr.db"), c.flag},
                         dir.File("server.log"));
    ASSERT_TRUE(server.WaitForExit(absl::Seconds(20))) << c.flag;
    EXPECT_NE(server.Wait(), 0) << c.flag;
    EXPECT_THAT(server.Log(), HasSubstr(c.message)) << c.flag;
  }
  // --help documents the settings.
  testing::TempDir dir;
  ServerProcess help({"--help"}, dir.File("help.log"));
  ASSERT_TRUE(help.WaitForExit(absl::Seconds(20)));
  for (const char* flag :
       {"--event-retention", "--webhook-dedupe-retention", "--request-id-retention",
        "--max-subscriptions", "--max-rules", "--max-api-tokens", "OKR_EVENT_RETENTION"}) {
    EXPECT_THAT(help.Log(), HasSubstr(flag));
  }
}

std::string AdminUrl() {
  const char* url = std::getenv("OKR_TEST_POSTGRES_URL");
  return url == nullptr ? "" : url;
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// Runs one statement on the admin connection; "" on success, else the error.
std::string AdminExec(const std::string& sql) {
  PGconn* conn = PQconnectdb(AdminUrl().c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) error = PQerrorMessage(conn);
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

// The admin URL with its database name replaced.
std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t query = url.find('?');
  std::string base = url.substr(0, query);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  size_t slash = base.rfind('/');
  return base.substr(0, slash + 1) + db + rest;
}

TEST(RetentionReplicasTest, OnlyTheLockHolderPrunes_WhatItPrunesIsGoneForEveryReplica) {
  if (AdminUrl().empty()) {
    if (InCi()) FAIL() << "OKR_TEST_POSTGRES_URL is not set in CI";
    GTEST_SKIP() << "OKR_TEST_POSTGRES_URL is not set";
  }
  absl::BitGen bitgen;
  const std::string db = absl::StrCat("okr_retention_", absl::Uniform<uint32_t>(bitgen));
  ASSERT_EQ(AdminExec("CREATE DATABASE " + db), "");
  const std::string url = WithDatabase(AdminUrl(), db);
  testing::TempDir dir;
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  for (int i = 0; i < 2; ++i) {
    replicas.push_back(std::make_unique<ServerProcess>(
        std::vector<std::string>{"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                                 "--database=" + url, "--request-id-retention=10s"},
        dir.File(absl::StrCat("replica", i, ".log"))));
  }
  std::vector<int> http_ports;
  std::vector<std::unique_ptr<v1::OkrService::Stub>> stubs;
  for (auto& r : replicas) {
    const int grpc_port = r->WaitForGrpcPort();
    ASSERT_GT(grpc_port, 0) << r->Log();
    http_ports.push_back(r->WaitForHttpPort());
    stubs.push_back(v1::OkrService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", grpc_port), grpc::InsecureChannelCredentials())));
  }
  const std::string kLeader = "this replica now runs retention";
  auto leaders = [&] {
    std::vector<size_t> out;
    for (size_t i = 0; i < replicas.size(); ++i) {
      if (replicas[i]->Log().find(kLeader) != std::string::npos) out.push_back(i);
    }
    return out;
  };
  ASSERT_TRUE(Eventually([&] { return !leaders().empty(); }, absl::Seconds(30)));
  ASSERT_EQ(leaders().size(), 1u);

  v1::Team team;
  ASSERT_TRUE(CreateTeam(*stubs[0], "checkout", "old-request", &team).ok());
  auto pruned = [&](size_t i) {
    httplib::Client http(absl::StrCat("http://127.0.0.1:", http_ports[i]));
    auto r = http.Get("/metrics");
    return r ? Series(r->body, Pruned("request_records")) : -1;
  };
  const size_t leader = leaders()[0];
  ASSERT_TRUE(Eventually([&] { return pruned(leader) >= 1; })) << replicas[leader]->Log();
  EXPECT_EQ(pruned(1 - leader), 0);  // the other replica never pruned
  EXPECT_EQ(leaders().size(), 1u);
  // Forgotten for both replicas: the replay creates again and finds the team taken.
  for (auto& stub : stubs) {
    v1::Team again;
    grpc::Status replay = CreateTeam(*stub, "checkout", "old-request", &again);
    EXPECT_EQ(replay.error_code(), grpc::StatusCode::ALREADY_EXISTS) << replay.error_message();
  }
  replicas.clear();
  AdminExec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
}

}  // namespace
}  // namespace okr
