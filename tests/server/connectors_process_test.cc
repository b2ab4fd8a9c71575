// The okr-server binary with the Jira connector configured as an operator would (OKR_*
// environment variables), against a fake Jira speaking the documented wire format: a
// signed webhook moves progress, the remote link appears in the issue, SyncKeyResult
// heals a lost webhook, and /metrics counts the deliveries. A second Jira site from the
// --config file gets its own webhook path, secret and done mapping, and every call carries
// a request id back to the caller.
#include <httplib.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
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
using ::testing::MatchesRegex;

constexpr char kSecret[] = "jira-hook-secret";

TEST(JiraConnectorProcessTest, WebhookMovesProgressAndTheIssueShowsItsKeyResult) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  FakeJiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "One-click checkout";
  issue.story_points = 3;
  (*fake)->PutIssue(issue);
  FakeJiraIssue other;
  other.id = "10002";
  other.key = "OKRX-2";
  other.summary = "Saved cards";
  other.story_points = 1;
  (*fake)->PutIssue(other);

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
       std::string("OKR_JIRA_WEBHOOK_SECRET=") + kSecret,
       "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016", "OKR_PUBLIC_URL=https://okr.example.test",
       "OKR_RECONCILE_INTERVAL=1h", "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  EXPECT_THAT(server.Log(), ::testing::Not(HasSubstr(kSecret)));
  EXPECT_THAT(server.Log(), ::testing::Not(HasSubstr((*fake)->options().api_token)));
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));

  // Team, cycle (around now), objective, work-items key result, two linked issues.
  v1::CreateTeamRequest team;
  team.set_team_id("checkout");
  team.mutable_team()->set_display_name("Checkout");
  v1::Team t;
  ASSERT_TRUE(stub->CreateTeam(Ctx().get(), team, &t).ok());
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
  for (const char* key : {"OKRX-1", "OKRX-2"}) {
    v1::LinkWorkItemRequest link;
    link.set_parent("objectives/o1/keyResults/epics");
    link.mutable_work_item()->set_tracker(v1::JIRA);
    link.mutable_work_item()->set_key(key);
    v1::WorkItemLink l;
    ASSERT_TRUE(stub->LinkWorkItem(Ctx().get(), link, &l).ok());
  }
  // Reconcile once so the service learns the issues' ids and story points.
  v1::SyncKeyResultRequest sync;
  sync.set_name("objectives/o1/keyResults/epics");
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 4);
  EXPECT_DOUBLE_EQ(k.progress(), 0);

  // The issue is closed in Jira and the signed webhook arrives.
  issue.status_category = "done";
  issue.updated = issue.updated + absl::Minutes(5);
  (*fake)->PutIssue(issue);
  testing::WebhookEventOptions options;
  options.site_base_url = (*fake)->base_url();
  options.status_from = "indeterminate";
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/jira");
  auto status =
      testing::SendWebhook(url, testing::IssueUpdatedEvent(issue, options), kSecret, "delivery-1");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);
  // The same delivery again, and one with a wrong signature: nothing more changes.
  EXPECT_EQ(
      *testing::SendWebhook(url, testing::IssueUpdatedEvent(issue, options), kSecret, "delivery-1"),
      200);
  EXPECT_EQ(
      *testing::SendWebhook(url, testing::IssueUpdatedEvent(other, options), "wrong", "delivery-2"),
      401);

  v1::GetKeyResultRequest get;
  get.set_name("objectives/o1/keyResults/epics");
  ASSERT_TRUE(stub->GetKeyResult(Ctx().get(), get, &k).ok());
  EXPECT_DOUBLE_EQ(k.progress(), 0.75);  // 3 of 4 story points
  v1::GetObjectiveRequest get_o;
  get_o.set_name("objectives/o1");
  ASSERT_TRUE(stub->GetObjective(Ctx().get(), get_o, &o).ok());
  EXPECT_DOUBLE_EQ(o.progress(), 0.75);

  // The write-back puts one remote link per key result into each linked issue.
  ASSERT_TRUE(Eventually([&] {
    auto links = (*fake)->RemoteLinks("10001");
    return links.size() == 1 && links[0].body.dump().find("75%") != std::string::npos;
  })) << server.Log();
  auto links = (*fake)->RemoteLinks("10001");
  EXPECT_EQ(links[0].global_id, "okr-service:objectives/o1/keyResults/epics");
  EXPECT_EQ(links[0].body["object"]["url"],
            "https://okr.example.test/objectives/o1/keyResults/epics");

  // A lost webhook: OKRX-2 is closed in Jira without a delivery; SyncKeyResult heals it.
  other.status_category = "done";
  other.updated = other.updated + absl::Minutes(5);
  (*fake)->PutIssue(other);
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok());
  EXPECT_DOUBLE_EQ(k.progress(), 1.0);
  ASSERT_TRUE(Eventually([&] {
    auto l = (*fake)->RemoteLinks("10002");
    return l.size() == 1 && l[0].body["object"]["status"]["resolved"] == true;
  })) << server.Log();

  // /metrics counts the deliveries by outcome and each request to the Jira site by status.
  httplib::Client http(absl::StrCat("http://127.0.0.1:", http_port));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  for (const char* outcome : {"accepted", "duplicate", "rejected-auth"}) {
    EXPECT_THAT(metrics->body,
                HasSubstr(absl::StrCat("okr_webhook_deliveries_total{outcome=\"", outcome,
                                       "\",site=\"default\",tracker=\"jira\"} 1\n")));
  }
  EXPECT_THAT(metrics->body, ::testing::ContainsRegex(
                                 "okr_tracker_requests_total\\{method=\"POST\",site=\"default\","
                                 "status=\"200\",tracker=\"jira\"\\} [1-9]"));
  EXPECT_THAT(metrics->body, HasSubstr("okr_tracker_request_duration_seconds_count{method=\"POST\","
                                       "site=\"default\",tracker=\"jira\"}"));
}

// Team "t", cycle "now", objective "o1" and work-items key result "epics" linking `keys`.
void CreateKeyResultLinking(v1::OkrService::Stub& stub, const std::vector<std::string>& keys) {
  v1::CreateTeamRequest team;
  team.set_team_id("t");
  team.mutable_team()->set_display_name("T");
  v1::Team t;
  ASSERT_TRUE(stub.CreateTeam(Ctx().get(), team, &t).ok());
  v1::CreateCycleRequest cycle;
  cycle.set_cycle_id("now");
  cycle.mutable_cycle()->set_display_name("Now");
  cycle.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) -
                                                           86400);
  cycle.mutable_cycle()->mutable_end_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) +
                                                         86400 * 89);
  v1::Cycle c;
  ASSERT_TRUE(stub.CreateCycle(Ctx().get(), cycle, &c).ok());
  v1::CreateObjectiveRequest obj;
  obj.set_objective_id("o1");
  obj.mutable_objective()->set_title("Ship it");
  obj.mutable_objective()->set_team("teams/t");
  obj.mutable_objective()->set_cycle("cycles/now");
  v1::Objective o;
  ASSERT_TRUE(stub.CreateObjective(Ctx().get(), obj, &o).ok());
  v1::CreateKeyResultRequest kr;
  kr.set_parent("objectives/o1");
  kr.set_key_result_id("epics");
  kr.mutable_key_result()->set_title("Ship the epics");
  kr.mutable_key_result()->mutable_work_items();
  v1::KeyResult k;
  ASSERT_TRUE(stub.CreateKeyResult(Ctx().get(), kr, &k).ok());
  for (const std::string& key : keys) {
    v1::LinkWorkItemRequest link;
    link.set_parent("objectives/o1/keyResults/epics");
    link.mutable_work_item()->set_tracker(v1::JIRA);
    link.mutable_work_item()->set_key(key);
    v1::WorkItemLink l;
    ASSERT_TRUE(stub.LinkWorkItem(Ctx().get(), link, &l).ok());
  }
}

TEST(JiraConnectorProcessTest, SecondSiteFromConfigFile_OwnPathSecretAndDoneMapping) {
  // Two Jira sites whose issues share the numeric id 10001.
  auto main_site = FakeJiraServer::Start();
  ASSERT_TRUE(main_site.ok()) << main_site.status();
  testing::FakeJiraOptions eu_options;
  eu_options.email = "eu-bot@example.com";
  eu_options.api_token = "eu-api-token";
  auto eu_site = FakeJiraServer::Start(eu_options);
  ASSERT_TRUE(eu_site.ok()) << eu_site.status();
  FakeJiraIssue main_issue;
  main_issue.id = "10001";
  main_issue.key = "OKRX-1";
  main_issue.summary = "Main site issue";
  main_issue.story_points = 1;
  (*main_site)->PutIssue(main_issue);
  FakeJiraIssue eu_issue;
  eu_issue.id = "10001";
  eu_issue.key = "OPS-1";
  eu_issue.summary = "EU site issue";
  eu_issue.story_points = 3;
  eu_issue.status_category = "indeterminate";
  (*eu_site)->PutIssue(eu_issue);

  testing::TempDir dir;
  const std::string config_path = dir.File("connectors.json");
  {
    std::ofstream out(config_path);
    out << R"({"jira_sites": [{"name": "eu", "url": ")" << (*eu_site)->base_url() << R"(",
      "email": "eu-bot@example.com", "api_token_env": "OKR_JIRA_EU_API_TOKEN",
      "webhook_secret_env": "OKR_JIRA_EU_WEBHOOK_SECRET",
      "story_points_field": "customfield_10016", "projects": ["OPS"],
      "done": {"OPS": {"statuses": ["Deployed"]}}}]})";
  }
  constexpr char kEuSecret[] = "eu-hook-secret";
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db"), "--config", config_path},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*main_site)->base_url(),
       "OKR_JIRA_EMAIL=" + (*main_site)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*main_site)->options().api_token,
       std::string("OKR_JIRA_WEBHOOK_SECRET=") + kSecret, "OKR_JIRA_EU_API_TOKEN=eu-api-token",
       std::string("OKR_JIRA_EU_WEBHOOK_SECRET=") + kEuSecret,
       "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016", "OKR_PUBLIC_URL=https://okr.example.test",
       "OKR_RECONCILE_INTERVAL=1h", "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("webhook=/webhooks/jira/eu"));
  for (const char* secret : {kEuSecret, "eu-api-token", kSecret}) {
    EXPECT_THAT(server.Log(), ::testing::Not(HasSubstr(secret)));
  }
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResultLinking(*stub, {"OKRX-1", "OPS-1"});
  v1::SyncKeyResultRequest sync;
  sync.set_name("objectives/o1/keyResults/epics");
  v1::KeyResult k;
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 4);  // 1 from each site's own issue + 3
  EXPECT_DOUBLE_EQ(k.progress(), 0);

  // OPS-1 moves to "Deployed" (category still "in progress"): done by the OPS mapping.
  eu_issue.status_name = "Deployed";
  eu_issue.updated = eu_issue.updated + absl::Minutes(5);
  (*eu_site)->PutIssue(eu_issue);
  testing::WebhookEventOptions options;
  options.site_base_url = (*eu_site)->base_url();
  const std::string base = absl::StrCat("http://127.0.0.1:", http_port);
  const nlohmann::json event = testing::IssueUpdatedEvent(eu_issue, options);
  // The main site's path and secret do not apply it: its path ignores another site's
  // project, and the eu path rejects the main site's secret.
  EXPECT_EQ(*testing::SendWebhook(base + "/webhooks/jira", event, kSecret, "main-1"), 200);
  EXPECT_EQ(*testing::SendWebhook(base + "/webhooks/jira/eu", event, kSecret, "eu-0"), 401);
  v1::GetKeyResultRequest get;
  get.set_name("objectives/o1/keyResults/epics");
  ASSERT_TRUE(stub->GetKeyResult(Ctx().get(), get, &k).ok());
  EXPECT_DOUBLE_EQ(k.progress(), 0);

  // Signed with the eu secret on the eu path, with the caller's request id.
  const testing::WebhookDelivery delivery = testing::MakeDelivery(event, "eu-1");
  httplib::Client client(base);
  httplib::Headers headers = {
      {"X-Hub-Signature", testing::SignJiraWebhook(kEuSecret, delivery.body)},
      {"X-Atlassian-Webhook-Identifier", delivery.identifier},
      {"X-Request-Id", "hook-req-42"}};
  auto response = client.Post("/webhooks/jira/eu", headers, delivery.body, "application/json");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_THAT(response->body, HasSubstr("accepted"));
  EXPECT_EQ(response->get_header_value("X-Request-Id"), "hook-req-42");
  EXPECT_THAT(server.Log(),
              HasSubstr("site=eu status=200 outcome=accepted request_id=hook-req-42"));

  // gRPC: the caller's x-request-id comes back in the initial metadata; without one the
  // server makes one up.
  auto ctx = Ctx();
  ctx->AddMetadata("x-request-id", "grpc-req-7");
  ASSERT_TRUE(stub->GetKeyResult(ctx.get(), get, &k).ok());
  EXPECT_DOUBLE_EQ(k.progress(), 0.75);  // 3 of 4 story points
  auto echoed = ctx->GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(echoed, ctx->GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()), "grpc-req-7");
  auto plain = Ctx();
  ASSERT_TRUE(stub->GetKeyResult(plain.get(), get, &k).ok());
  auto generated = plain->GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(generated, plain->GetServerInitialMetadata().end());
  EXPECT_THAT(std::string(generated->second.data(), generated->second.size()),
              MatchesRegex("[0-9a-f]{32}"));

  // Each site's issue 10001 gets its own remote link from the write-back.
  ASSERT_TRUE(Eventually([&] {
    return (*eu_site)->RemoteLinks("10001").size() == 1 &&
           (*main_site)->RemoteLinks("10001").size() == 1;
  })) << server.Log();
  EXPECT_EQ((*eu_site)->RemoteLinks("10001")[0].body["object"]["status"]["resolved"], false);

  // Reconciliation keeps the mapping: a lost webhook on the main site still heals, and the
  // eu issue stays done.
  main_issue.status_category = "done";
  main_issue.updated = main_issue.updated + absl::Minutes(5);
  (*main_site)->PutIssue(main_issue);
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok());
  EXPECT_DOUBLE_EQ(k.progress(), 1.0);
}

}  // namespace
}  // namespace okr
