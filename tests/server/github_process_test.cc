// The okr-server binary with the GitHub connector configured as an operator would (OKR_GITHUB_*
// environment variables, secrets from files, GitHub Enterprise Server's /api/v3 base URL),
// against the fake GitHub speaking the documented wire format:
//  - signed `issues` deliveries move progress (closed as completed), leave it (closed as
//    not planned), are deduplicated by X-GitHub-Delivery and ignored when older than what is
//    held; unsigned or wrongly signed ones get 401, `ping` 200; deleted issues leave;
//  - every REST and GraphQL request carries Bearer, Accept, X-GitHub-Api-Version and a
//    User-Agent; reconciliation reads tracked issues through GraphQL `nodes` in batches of at
//    most 100, confirms deletion on 410 and follows a transfer (the item takes the new key);
//  - a `github_repo` + `github_labels` scope links matching issues but never pull requests;
//  - write-back: one label per served key result and one comment edited in place; unlinked,
//    the label goes and the comment says so;
//  - an OPEN_ISSUE rule opens an issue in the team's github_repo;
//  - one key result fed by Jira, GitLab and GitHub together.
#include <httplib.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_github/fake_github_server.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/fake_jira/webhook_sender.h"
#include "tests/testing/okr_api.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::Ctx;
using ::okr::testing::Eventually;
using ::okr::testing::FakeGitHubDelivery;
using ::okr::testing::FakeGitHubEndpoint;
using ::okr::testing::FakeGitHubIssue;
using ::okr::testing::FakeGitHubOptions;
using ::okr::testing::FakeGitHubServer;
using ::okr::testing::GetKeyResult;
using ::okr::testing::Link;
using ::okr::testing::SendGitHubWebhook;
using ::okr::testing::ServerProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kRepo[] = "acme/app";
constexpr char kSecret[] = "github-hook-secret";
constexpr char kKeyResult[] = "objectives/o1/keyResults/ship";

// The okr-server with the default GitHub instance pointing at `fake`.
std::unique_ptr<ServerProcess> StartServer(testing::TempDir& dir, FakeGitHubServer& fake,
                                           std::vector<std::string> extra_env = {}) {
  std::vector<std::string> env = {"OKR_GITHUB_URL=" + fake.base_url(),
                                  "OKR_GITHUB_TOKEN=" + fake.token(),
                                  std::string("OKR_GITHUB_WEBHOOK_SECRET=") + kSecret,
                                  "OKR_PUBLIC_URL=https://okr.example.test",
                                  "OKR_RECONCILE_INTERVAL=1h",
                                  "OKR_WRITEBACK_INTERVAL=200ms"};
  for (std::string& e : extra_env) env.push_back(std::move(e));
  return std::make_unique<ServerProcess>(
      std::vector<std::string>{"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                               "--database=sqlite:" + dir.File("okr.db"), "--rule-interval=200ms"},
      dir.File("server.log"), env);
}

std::string WebhookUrl(ServerProcess& server, absl::string_view path = "/webhooks/github") {
  return absl::StrCat("http://127.0.0.1:", server.WaitForHttpPort(), path);
}

v1::KeyResult Sync(v1::OkrService::Stub& stub, const std::string& name = kKeyResult) {
  v1::SyncKeyResultRequest sync;
  sync.set_name(name);
  v1::KeyResult kr;
  grpc::Status status = stub.SyncKeyResult(Ctx().get(), sync, &kr);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return kr;
}

FakeGitHubIssue Issue(const std::string& title, std::vector<std::string> labels = {}) {
  FakeGitHubIssue issue;
  issue.title = title;
  issue.labels = std::move(labels);
  return issue;
}

// Every request the fake saw carried GitHub's required headers and the token as Bearer.
void ExpectRequiredHeaders(const FakeGitHubServer& fake) {
  const auto requests = fake.Requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    SCOPED_TRACE(absl::StrCat(r.method, " ", r.target));
    EXPECT_FALSE(r.user_agent.empty());
    EXPECT_EQ(r.accept, "application/vnd.github+json");
    EXPECT_EQ(r.api_version, "2022-11-28");
    EXPECT_EQ(r.authorization_scheme, "Bearer");
  }
}

TEST(GitHubProcessTest, SignedDeliveriesMoveProgress_DedupedOrderedExcludedDeleted) {
  auto fake = FakeGitHubServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddRepo(kRepo);
  for (const FakeGitHubIssue& issue :
       {Issue("One-click checkout", {"weight:3"}), Issue("Saved cards"), Issue("Wallets")}) {
    ASSERT_TRUE((*fake)->AddIssue(kRepo, issue).ok());
  }
  testing::TempDir dir;
  auto server = StartServer(dir, **fake);
  auto stub = testing::Connect(*server);
  EXPECT_THAT(server->Log(), Not(HasSubstr(kSecret)));
  EXPECT_THAT(server->Log(), Not(HasSubstr((*fake)->token())));
  testing::CreateTeamAndCycle(*stub, "t");
  testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "ship");
  for (const char* key : {"acme/app#1", "acme/app#2", "acme/app#3"}) {
    grpc::Status linked = Link(*stub, kKeyResult, v1::GITHUB, key);
    ASSERT_TRUE(linked.ok()) << linked.error_message();
  }
  // Keys are owner/repo#N.
  grpc::Status bad = Link(*stub, kKeyResult, v1::GITHUB, "acme#1");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("owner/repo#123"));

  v1::KeyResult kr = Sync(*stub);
  EXPECT_EQ(kr.work_items().item_count(), 3);
  EXPECT_DOUBLE_EQ(kr.work_items().total_weight(), 5);  // weight:3 + 1 + 1
  EXPECT_DOUBLE_EQ(kr.progress(), 0);

  const std::string url = WebhookUrl(*server);
  // A ping (sent when the hook is created) is acknowledged.
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, (*fake)->Ping()), 200);

  // #1 closed as completed: 3 of 5. Its earlier state, delivered late, changes nothing.
  absl::StatusOr<FakeGitHubDelivery> before = (*fake)->BuildIssuesEvent(kRepo, 1, "edited");
  ASSERT_TRUE(before.ok()) << before.status();
  absl::SleepFor(absl::Seconds(1.1));  // GitHub's timestamps have whole seconds
  absl::StatusOr<FakeGitHubDelivery> closed = (*fake)->CloseIssue(kRepo, 1, "completed");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *closed), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0.6);
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *before), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0.6);

  // Unsigned and wrongly signed deliveries: 401, nothing applied.
  absl::StatusOr<FakeGitHubDelivery> reopened = (*fake)->ReopenIssue(kRepo, 1);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*SendGitHubWebhook(url, "", *reopened), 401);
  EXPECT_EQ(*SendGitHubWebhook(url, "wrong-secret", *reopened), 401);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0.6);
  // Reopened (signed): back to 0. Closed again; the reopen redelivered (same
  // X-GitHub-Delivery, older state) changes nothing.
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *reopened), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0);
  absl::SleepFor(absl::Seconds(1.1));
  closed = (*fake)->CloseIssue(kRepo, 1, "completed");
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *closed), 200);
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *reopened), 200);  // redelivery, older
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0.6);

  // #2 closed as not planned: cancelled work leaves the key result (3 of 4).
  absl::StatusOr<FakeGitHubDelivery> dropped = (*fake)->CloseIssue(kRepo, 2, "not_planned");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *dropped), 200);
  kr = GetKeyResult(*stub, kKeyResult);
  EXPECT_EQ(kr.work_items().excluded_count(), 1);
  EXPECT_DOUBLE_EQ(kr.work_items().total_weight(), 4);
  EXPECT_DOUBLE_EQ(kr.progress(), 0.75);

  // Weight labels: #1 unlabeled "weight:3" weighs 1 (1 of 2), labeled again 3 (3 of 4).
  absl::StatusOr<FakeGitHubDelivery> unlabeled = (*fake)->UnlabelIssue(kRepo, 1, "weight:3");
  ASSERT_TRUE(unlabeled.ok());
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *unlabeled), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0.5);
  absl::SleepFor(absl::Seconds(1.1));
  absl::StatusOr<FakeGitHubDelivery> labeled = (*fake)->LabelIssue(kRepo, 1, "weight:3");
  ASSERT_TRUE(labeled.ok());
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *labeled), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 0.75);

  // #3 deleted: it leaves the key result; only #1 counts (3 of 3).
  absl::StatusOr<FakeGitHubDelivery> deleted = (*fake)->DeleteIssueEvent(kRepo, 3);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *deleted), 200);
  kr = GetKeyResult(*stub, kKeyResult);
  EXPECT_EQ(kr.work_items().item_count(), 1);  // #1; #2 is excluded, #3 gone
  EXPECT_DOUBLE_EQ(kr.progress(), 1);

  // Write-back: #1 carries the key result's label and one comment about it.
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<FakeGitHubIssue> issue = (*fake)->GetIssue(kRepo, 1);
    const auto comments = (*fake)->Comments(kRepo, 1);
    return issue.ok() &&
           std::count(issue->labels.begin(), issue->labels.end(), "OKR:o1/ship") == 1 &&
           comments.size() == 1 && absl::StrContains(comments[0].body, "100%");
  })) << server->Log();
  const auto comments = (*fake)->Comments(kRepo, 1);
  EXPECT_THAT(comments[0].body,
              HasSubstr("https://okr.example.test/objectives/o1/keyResults/ship"));
  // One comment per linked issue, edited in place since (#1 was written at 0%, 60%, ...).
  EXPECT_LE((*fake)->RequestCount(FakeGitHubEndpoint::kCreateComment), 3);
  EXPECT_GE((*fake)->RequestCount(FakeGitHubEndpoint::kUpdateComment), 1);
  ExpectRequiredHeaders(**fake);

  // /metrics counts GitHub's deliveries like the other trackers'.
  httplib::Client http(absl::StrCat("http://127.0.0.1:", server->WaitForHttpPort()));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("okr_webhook_deliveries_total{outcome=\"rejected-auth\","
                                       "site=\"default\",tracker=\"github\"} 2\n"));
  EXPECT_THAT(server->Log(), Not(HasSubstr(kSecret)));

  // #1 transferred to another repository: its links take the new key, progress stays.
  (*fake)->AddRepo("acme/platform");
  absl::StatusOr<FakeGitHubDelivery> transferred =
      (*fake)->TransferIssueEvent(kRepo, 1, "acme/platform");
  ASSERT_TRUE(transferred.ok()) << transferred.status();
  EXPECT_EQ(*SendGitHubWebhook(url, kSecret, *transferred), 200);
  v1::ListWorkItemLinksRequest list;
  list.set_parent(kKeyResult);
  v1::ListWorkItemLinksResponse links;
  ASSERT_TRUE(stub->ListWorkItemLinks(Ctx().get(), list, &links).ok());
  std::vector<std::string> keys;
  for (const auto& link : links.work_item_links()) keys.push_back(link.work_item().key());
  EXPECT_THAT(keys, UnorderedElementsAre("acme/platform#1", "acme/app#2"));
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 1);
}

TEST(GitHubProcessTest, ReconciliationBatchesNodesHealsMissedDeliveries_DeletedAndTransferred) {
  auto fake = FakeGitHubServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddRepo(kRepo);
  (*fake)->AddRepo("acme/platform");
  constexpr int kIssues = 150;
  for (int i = 1; i <= kIssues; ++i) {
    ASSERT_TRUE((*fake)->AddIssue(kRepo, Issue(absl::StrCat("Issue ", i))).ok());
  }
  testing::TempDir dir;
  auto server = StartServer(dir, **fake);
  auto stub = testing::Connect(*server);
  testing::CreateTeamAndCycle(*stub, "t");
  testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "ship");
  for (int i = 1; i <= kIssues; ++i) {
    ASSERT_TRUE(Link(*stub, kKeyResult, v1::GITHUB, absl::StrCat(kRepo, "#", i)).ok());
  }
  EXPECT_EQ(Sync(*stub).work_items().item_count(), kIssues);  // learns the node ids

  // Missed deliveries: 15 issues closed, #150 deleted, #149 transferred, all without a
  // webhook (GitHub never redelivers by itself). One sync heals it, reading the issues in
  // GraphQL batches of at most 100 node ids.
  for (int i = 1; i <= 15; ++i) {
    ASSERT_TRUE((*fake)
                    ->UpdateIssue(kRepo, i,
                                  [](FakeGitHubIssue& issue) {
                                    issue.state = "closed";
                                    issue.state_reason = "completed";
                                  })
                    .ok());
  }
  ASSERT_TRUE((*fake)->DeleteIssue(kRepo, kIssues).ok());
  absl::StatusOr<int64_t> moved = (*fake)->TransferIssue(kRepo, kIssues - 1, "acme/platform");
  ASSERT_TRUE(moved.ok()) << moved.status();
  (*fake)->ResetObservations();
  v1::KeyResult kr = Sync(*stub);
  EXPECT_EQ(kr.work_items().item_count(), kIssues - 1);
  EXPECT_DOUBLE_EQ(kr.progress(), 15.0 / (kIssues - 1));
  const std::vector<int> batches = (*fake)->GraphQLIdsRequested();
  ASSERT_FALSE(batches.empty());
  for (int size : batches) EXPECT_LE(size, 100);
  EXPECT_EQ((*fake)->RequestCount(FakeGitHubEndpoint::kGraphQL), 2);
  ExpectRequiredHeaders(**fake);

  // The transferred issue is the same item under its new key.
  v1::ListWorkItemLinksRequest list;
  list.set_parent(kKeyResult);
  list.set_page_size(1000);
  v1::ListWorkItemLinksResponse links;
  ASSERT_TRUE(stub->ListWorkItemLinks(Ctx().get(), list, &links).ok());
  std::vector<std::string> keys;
  for (const auto& link : links.work_item_links()) keys.push_back(link.work_item().key());
  EXPECT_THAT(keys, ::testing::Contains(absl::StrCat("acme/platform#", *moved)));
  EXPECT_THAT(keys, Not(::testing::Contains(absl::StrCat(kRepo, "#", kIssues - 1))));
  EXPECT_THAT(keys, Not(::testing::Contains(absl::StrCat(kRepo, "#", kIssues))));
}

TEST(GitHubProcessTest, RepoAndLabelScope_LinksIssuesNotPullRequests_LeavingCleansUp) {
  auto fake = FakeGitHubServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddRepo(kRepo);
  ASSERT_TRUE((*fake)->AddIssue(kRepo, Issue("Signup", {"onboarding", "q4"})).ok());  // #1
  ASSERT_TRUE((*fake)->AddIssue(kRepo, Issue("Tour", {"onboarding", "q4", "weight:2"})).ok());
  ASSERT_TRUE((*fake)->AddIssue(kRepo, Issue("Other", {"onboarding"})).ok());  // #3
  FakeGitHubIssue pr = Issue("PR: signup", {"onboarding", "q4"});
  pr.pull_request = true;
  ASSERT_TRUE((*fake)->AddIssue(kRepo, pr).ok());  // #4
  testing::TempDir dir;
  auto server = StartServer(dir, **fake);
  auto stub = testing::Connect(*server);
  testing::CreateTeamAndCycle(*stub, "t");
  v1::WorkItemsKeyResult scope;
  scope.set_github_repo(kRepo);
  scope.add_github_labels("onboarding");
  scope.add_github_labels("q4");
  v1::KeyResult made = testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "ship", scope);
  EXPECT_EQ(made.work_items().github_repo(), kRepo);
  EXPECT_THAT(made.work_items().github_labels(), ElementsAre("onboarding", "q4"));

  v1::KeyResult kr = Sync(*stub);
  EXPECT_EQ(kr.work_items().item_count(), 2);  // #1, #2; not #3 (one label), not the PR
  EXPECT_DOUBLE_EQ(kr.work_items().total_weight(), 3);
  EXPECT_EQ(kr.work_items().github_repo(), kRepo);
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<FakeGitHubIssue> two = (*fake)->GetIssue(kRepo, 2);
    return two.ok() && std::count(two->labels.begin(), two->labels.end(), "OKR:o1/ship") == 1 &&
           (*fake)->Comments(kRepo, 2).size() == 1;
  })) << server->Log();
  EXPECT_TRUE((*fake)->Comments(kRepo, 4).empty());

  // #2 loses "q4": the next sync unlinks it, its label goes and its comment says so.
  ASSERT_TRUE((*fake)
                  ->UpdateIssue(kRepo, 2,
                                [](FakeGitHubIssue& issue) {
                                  issue.labels = {"onboarding", "weight:2", "OKR:o1/ship"};
                                })
                  .ok());
  kr = Sync(*stub);
  EXPECT_EQ(kr.work_items().item_count(), 1);
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<FakeGitHubIssue> two = (*fake)->GetIssue(kRepo, 2);
    const auto comments = (*fake)->Comments(kRepo, 2);
    return two.ok() && two->labels == std::vector<std::string>{"onboarding", "weight:2"} &&
           comments.size() == 1 &&
           absl::StrContains(comments[0].body, "no longer serves a key result");
  })) << server->Log();

  // The scope through UpdateKeyResult: another label set, read back.
  v1::UpdateKeyResultRequest update;
  update.mutable_key_result()->set_name(kKeyResult);
  update.mutable_key_result()->mutable_work_items()->set_github_repo(kRepo);
  update.mutable_key_result()->mutable_work_items()->add_github_labels("onboarding");
  update.mutable_update_mask()->add_paths("work_items.github_labels");
  v1::KeyResult updated;
  grpc::Status status = stub->UpdateKeyResult(Ctx().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(updated.work_items().github_labels(), ElementsAre("onboarding"));
  EXPECT_EQ(Sync(*stub).work_items().item_count(), 3);  // #1, #2, #3; never the PR
}

TEST(GitHubProcessTest, EnterpriseServerBaseUrl_SecretsFromFiles_RuleOpensIssueInTeamRepo) {
  FakeGitHubOptions options;
  options.path_prefix = "/api/v3";
  auto fake = FakeGitHubServer::Start(options);
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddRepo(kRepo);
  ASSERT_TRUE((*fake)->AddIssue(kRepo, Issue("Signup")).ok());
  testing::TempDir dir;
  const std::string token_file = dir.File("github-token");
  const std::string secret_file = dir.File("github-secret");
  std::ofstream(token_file) << (*fake)->token() << "\n";
  std::ofstream(secret_file) << kSecret << "\n";
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db"), "--rule-interval=200ms",
       "--github-url=" + (*fake)->base_url()},
      dir.File("server.log"),
      {"OKR_GITHUB_TOKEN_FILE=" + token_file, "OKR_GITHUB_WEBHOOK_SECRET_FILE=" + secret_file,
       "OKR_PUBLIC_URL=https://okr.example.test", "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=200ms"});
  auto stub = testing::Connect(server);
  v1::Team team;
  team.set_github_repo(kRepo);
  testing::CreateTeamAndCycle(*stub, "t", team);
  testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "ship");
  ASSERT_TRUE(Link(*stub, kKeyResult, v1::GITHUB, "acme/app#1").ok());
  EXPECT_EQ(Sync(*stub).work_items().item_count(), 1);  // REST: learns the node id
  EXPECT_EQ(Sync(*stub).work_items().item_count(), 1);  // GraphQL nodes
  // REST under /api/v3, GraphQL at /api/graphql.
  bool saw_graphql = false;
  for (const auto& r : (*fake)->Requests()) {
    EXPECT_TRUE(absl::StartsWith(r.target, "/api/v3/") || r.target == "/api/graphql") << r.target;
    saw_graphql = saw_graphql || r.target == "/api/graphql";
  }
  EXPECT_TRUE(saw_graphql);
  ExpectRequiredHeaders(**fake);

  // The webhook secret from the file verifies deliveries.
  absl::StatusOr<FakeGitHubDelivery> closed = (*fake)->CloseIssue(kRepo, 1, "completed");
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(*SendGitHubWebhook(WebhookUrl(server), kSecret, *closed), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 1);
  EXPECT_THAT(server.Log(), Not(HasSubstr((*fake)->token())));

  // An OPEN_ISSUE rule of the team opens an issue in its github_repo.
  v1::CreateKeyResultRequest metric;
  metric.set_parent("objectives/o1");
  metric.set_key_result_id("nps");
  metric.mutable_key_result()->set_title("NPS >= 45");
  metric.mutable_key_result()->mutable_metric()->set_start_value(0);
  metric.mutable_key_result()->mutable_metric()->set_target_value(100);
  v1::KeyResult k;
  ASSERT_TRUE(stub->CreateKeyResult(Ctx().get(), metric, &k).ok());
  v1::CreateRuleRequest rule;
  rule.set_rule_id("low");
  rule.mutable_rule()->set_parent("teams/t");
  rule.mutable_rule()->mutable_condition()->set_type(v1::LOW_CONFIDENCE);
  rule.mutable_rule()->mutable_condition()->set_threshold(0.5);
  rule.mutable_rule()->mutable_action()->set_type(v1::OPEN_ISSUE);
  rule.mutable_rule()->mutable_action()->set_tracker(v1::GITHUB);
  v1::Rule r;
  grpc::Status status = stub->CreateRule(Ctx().get(), rule, &r);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::CreateCheckInRequest check_in;
  check_in.set_parent("objectives/o1/keyResults/nps");
  check_in.mutable_check_in()->set_value(50);
  check_in.mutable_check_in()->set_confidence(0.2);
  v1::CheckIn out;
  ASSERT_TRUE(stub->CreateCheckIn(Ctx().get(), check_in, &out).ok());
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<FakeGitHubIssue> opened = (*fake)->GetIssue(kRepo, 2);
    return opened.ok() && absl::StrContains(opened->body, "objectives/o1/keyResults/nps");
  })) << server.Log();
  absl::StatusOr<FakeGitHubIssue> opened = (*fake)->GetIssue(kRepo, 2);
  EXPECT_THAT(opened->title, HasSubstr("NPS >= 45"));
  EXPECT_TRUE(std::any_of(opened->labels.begin(), opened->labels.end(),
                          [](const std::string& l) { return absl::StartsWith(l, "okr-rule-"); }));
  EXPECT_EQ((*fake)->RequestCount(FakeGitHubEndpoint::kCreateIssue), 1);
}

TEST(GitHubProcessTest, NamedInstanceFromConfigFile_OwnPathSecretAndDoneRule_RateLimitsWaited) {
  auto public_github = FakeGitHubServer::Start();
  ASSERT_TRUE(public_github.ok()) << public_github.status();
  (*public_github)->AddRepo(kRepo);
  ASSERT_TRUE((*public_github)->AddIssue(kRepo, Issue("Public")).ok());
  FakeGitHubOptions enterprise_options;
  enterprise_options.token = "ghs_enterprise_token";
  enterprise_options.path_prefix = "/api/v3";
  auto enterprise = FakeGitHubServer::Start(enterprise_options);
  ASSERT_TRUE(enterprise.ok()) << enterprise.status();
  (*enterprise)->AddRepo("corp/billing");
  ASSERT_TRUE((*enterprise)->AddIssue("corp/billing", Issue("Invoices", {"review"})).ok());
  ASSERT_TRUE((*enterprise)->AddIssue("corp/billing", Issue("Refunds")).ok());

  testing::TempDir dir;
  const std::string config = dir.File("connectors.json");
  std::ofstream(config) << R"({"github_instances": [
      {"name": "ghes", "url": ")"
                        << (*enterprise)->base_url() << R"(",
       "token_env": "OKR_GHES_TOKEN", "webhook_secret_env": "OKR_GHES_WEBHOOK_SECRET",
       "repos": ["corp"], "done": {"corp/billing": {"credit": {"review": 0.5}}}}]})";
  auto server = StartServer(dir, **public_github,
                            {"OKR_CONFIG=" + config, "OKR_GHES_TOKEN=ghs_enterprise_token",
                             "OKR_GHES_WEBHOOK_SECRET=ghes-secret"});
  auto stub = testing::Connect(*server);
  testing::CreateTeamAndCycle(*stub, "t");
  testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "ship");
  for (const char* key : {"acme/app#1", "corp/billing#1", "corp/billing#2"}) {
    ASSERT_TRUE(Link(*stub, kKeyResult, v1::GITHUB, key).ok());
  }
  // Both instances answer a secondary rate limit first: the sync waits it out.
  (*public_github)
      ->RateLimitNextRequests(1, testing::FakeGitHubRateLimit::kSecondary, absl::Seconds(1));
  (*enterprise)->RateLimitNextRequests(1, testing::FakeGitHubRateLimit::kPrimary, absl::Seconds(1));
  v1::KeyResult kr = Sync(*stub);
  EXPECT_EQ(kr.work_items().item_count(), 3);
  EXPECT_NEAR(kr.progress(), 0.5 / 3, 1e-9);  // "review" earns half of corp/billing#1
  EXPECT_GE((*enterprise)->RequestCount(FakeGitHubEndpoint::kGetIssue), 2);
  EXPECT_EQ((*public_github)->RequestCount(FakeGitHubEndpoint::kGetIssue), 2);  // 1 + retry

  // The named instance has its own path and secret; the default one does not take them.
  absl::StatusOr<FakeGitHubDelivery> closed = (*enterprise)->CloseIssue("corp/billing", 2);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(*SendGitHubWebhook(WebhookUrl(*server), "ghes-secret", *closed), 401);
  EXPECT_EQ(*SendGitHubWebhook(WebhookUrl(*server, "/webhooks/github/ghes"), kSecret, *closed),
            401);
  EXPECT_EQ(
      *SendGitHubWebhook(WebhookUrl(*server, "/webhooks/github/ghes"), "ghes-secret", *closed),
      200);
  EXPECT_NEAR(GetKeyResult(*stub, kKeyResult).progress(), 1.5 / 3, 1e-9);
  EXPECT_THAT(server->Log(), Not(HasSubstr("ghs_enterprise_token")));
  EXPECT_THAT(server->Log(), Not(HasSubstr("ghes-secret")));
}

TEST(GitHubProcessTest, OneKeyResultFedByJiraGitLabAndGitHubTogether) {
  auto jira = testing::FakeJiraServer::Start();
  ASSERT_TRUE(jira.ok()) << jira.status();
  testing::FakeJiraIssue jira_issue;
  jira_issue.id = "10001";
  jira_issue.key = "OKRX-1";
  jira_issue.summary = "Jira work";
  (*jira)->PutIssue(jira_issue);
  auto gitlab = testing::FakeGitLabServer::Start();
  ASSERT_TRUE(gitlab.ok()) << gitlab.status();
  (*gitlab)->AddProject("acme/checkout");
  testing::FakeGitLabIssue gitlab_issue;
  gitlab_issue.iid = 1;
  gitlab_issue.title = "GitLab work";
  ASSERT_TRUE((*gitlab)->AddIssue("acme/checkout", gitlab_issue).ok());
  auto github = FakeGitHubServer::Start();
  ASSERT_TRUE(github.ok()) << github.status();
  (*github)->AddRepo(kRepo);
  ASSERT_TRUE((*github)->AddIssue(kRepo, Issue("GitHub work")).ok());

  testing::TempDir dir;
  auto server = StartServer(
      dir, **github,
      {"OKR_JIRA_URL=" + (*jira)->base_url(), "OKR_JIRA_EMAIL=" + (*jira)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*jira)->options().api_token, "OKR_JIRA_WEBHOOK_SECRET=jira-secret",
       "OKR_GITLAB_URL=" + (*gitlab)->base_url(), "OKR_GITLAB_TOKEN=" + (*gitlab)->private_token(),
       "OKR_GITLAB_WEBHOOK_TOKEN=gitlab-token"});
  auto stub = testing::Connect(*server);
  testing::CreateTeamAndCycle(*stub, "t");
  testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "ship");
  ASSERT_TRUE(Link(*stub, kKeyResult, v1::JIRA, "OKRX-1").ok());
  ASSERT_TRUE(Link(*stub, kKeyResult, v1::GITLAB, "acme/checkout#1").ok());
  ASSERT_TRUE(Link(*stub, kKeyResult, v1::GITHUB, "acme/app#1").ok());
  v1::KeyResult kr = Sync(*stub);
  EXPECT_EQ(kr.work_items().item_count(), 3);
  std::vector<v1::Tracker> fresh;
  for (const auto& f : kr.work_items().freshness()) fresh.push_back(f.tracker());
  EXPECT_THAT(fresh, UnorderedElementsAre(v1::JIRA, v1::GITLAB, v1::GITHUB));

  // Each tracker's webhook moves the one key result by a third.
  jira_issue.status_category = "done";
  jira_issue.updated = jira_issue.updated + absl::Minutes(5);
  (*jira)->PutIssue(jira_issue);
  testing::WebhookEventOptions jira_options;
  jira_options.site_base_url = (*jira)->base_url();
  EXPECT_EQ(*testing::SendWebhook(WebhookUrl(*server, "/webhooks/jira"),
                                  testing::IssueUpdatedEvent(jira_issue, jira_options),
                                  "jira-secret", "jira-delivery-1"),
            200);
  EXPECT_NEAR(GetKeyResult(*stub, kKeyResult).progress(), 1.0 / 3, 1e-9);
  absl::StatusOr<testing::FakeGitLabIssueHook> gitlab_closed =
      (*gitlab)->CloseIssue("acme/checkout", 1);
  ASSERT_TRUE(gitlab_closed.ok());
  EXPECT_EQ(*testing::SendIssueHook(WebhookUrl(*server, "/webhooks/gitlab"), "gitlab-token",
                                    *gitlab_closed),
            200);
  EXPECT_NEAR(GetKeyResult(*stub, kKeyResult).progress(), 2.0 / 3, 1e-9);
  absl::StatusOr<FakeGitHubDelivery> github_closed = (*github)->CloseIssue(kRepo, 1, "completed");
  ASSERT_TRUE(github_closed.ok());
  EXPECT_EQ(*SendGitHubWebhook(WebhookUrl(*server), kSecret, *github_closed), 200);
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub, kKeyResult).progress(), 1);

  // Each tracker shows the key result: a remote link, a label + note, a label + comment.
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<testing::FakeGitLabIssue> gl = (*gitlab)->GetIssue("acme/checkout", 1);
    absl::StatusOr<FakeGitHubIssue> gh = (*github)->GetIssue(kRepo, 1);
    return (*jira)->RemoteLinks("10001").size() == 1 && gl.ok() &&
           std::count(gl->labels.begin(), gl->labels.end(), "OKR:o1/ship") == 1 && gh.ok() &&
           std::count(gh->labels.begin(), gh->labels.end(), "OKR:o1/ship") == 1 &&
           (*github)->Comments(kRepo, 1).size() == 1;
  })) << server->Log();
}

}  // namespace
}  // namespace okr
