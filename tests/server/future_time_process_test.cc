// A tracker timestamp from the future does not freeze an item (issue #15), through the real
// binary for both trackers: a signed delivery claiming `updated: 9999-12-31...` is applied
// as of now (and logged), and the next real change -- stamped with the tracker's actual
// time, far before 9999 -- still applies instead of being ignored as stale forever.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/fake_jira/webhook_sender.h"
#include "tests/testing/okr_api.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::Ctx;

using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabServer;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::ServerProcess;
using ::testing::HasSubstr;

constexpr char kJiraSecret[] = "jira-hook-secret";
constexpr char kGitLabToken[] = "gitlab-hook-token";
constexpr char kKeyResult[] = "objectives/o1/keyResults/epics";

void CreateKeyResultLinking(v1::OkrService::Stub& stub, v1::Tracker tracker,
                            const std::string& key) {
  v1::CreateTeamRequest team;
  team.set_team_id("t");
  team.mutable_team()->set_display_name("T");
  v1::Team t;
  ASSERT_TRUE(stub.CreateTeam(Ctx().get(), team, &t).ok());
  v1::CreateCycleRequest cycle;
  cycle.set_cycle_id("now");
  cycle.mutable_cycle()->set_display_name("Now");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  cycle.mutable_cycle()->mutable_start_time()->set_seconds(now - 86400);
  cycle.mutable_cycle()->mutable_end_time()->set_seconds(now + 86400 * 89);
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
  v1::LinkWorkItemRequest link;
  link.set_parent(kKeyResult);
  link.mutable_work_item()->set_tracker(tracker);
  link.mutable_work_item()->set_key(key);
  v1::WorkItemLink l;
  ASSERT_TRUE(stub.LinkWorkItem(Ctx().get(), link, &l).ok());
  v1::SyncKeyResultRequest sync;
  sync.set_name(kKeyResult);
  ASSERT_TRUE(stub.SyncKeyResult(Ctx().get(), sync, &k).ok());
}

double Progress(v1::OkrService::Stub& stub) {
  v1::GetKeyResultRequest get;
  get.set_name(kKeyResult);
  v1::KeyResult k;
  grpc::Status status = stub.GetKeyResult(Ctx().get(), get, &k);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return k.progress();
}

TEST(FutureTimeProcessTest, Jira_UpdatedIn9999_AppliesAsNowAndLaterChangesStillApply) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  FakeJiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "One-click checkout";
  issue.updated = absl::Now() - absl::Hours(1);
  (*fake)->PutIssue(issue);

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
       std::string("OKR_JIRA_WEBHOOK_SECRET=") + kJiraSecret, "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=1h"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResultLinking(*stub, v1::JIRA, "OKRX-1");
  EXPECT_DOUBLE_EQ(Progress(*stub), 0);
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/jira");
  testing::WebhookEventOptions options;

  // Closed, stamped 9999-12-31: applied (as of now) and logged.
  issue.status_category = "done";
  issue.status_name = "Done";
  issue.updated = absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  options.status_from = "new";
  auto sent = testing::SendWebhook(url, testing::IssueUpdatedEvent(issue, options), kJiraSecret,
                                   "future-1");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  EXPECT_DOUBLE_EQ(Progress(*stub), 1);
  EXPECT_THAT(server.Log(), HasSubstr("tracker item last modified in the future: taken as now"));

  // Reopened a minute later by the tracker's real clock: still applies.
  issue.status_category = "indeterminate";
  issue.status_name = "In Progress";
  issue.updated = absl::Now() + absl::Minutes(1);
  options.status_from = "done";
  sent = testing::SendWebhook(url, testing::IssueUpdatedEvent(issue, options), kJiraSecret,
                              "future-2");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  EXPECT_DOUBLE_EQ(Progress(*stub), 0) << "the real change was ignored as stale";
}

TEST(FutureTimeProcessTest, GitLab_UpdatedAtIn9999_AppliesAsNowAndLaterChangesStillApply) {
  auto fake = FakeGitLabServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddProject("acme/checkout");
  FakeGitLabIssue issue;
  issue.iid = 1;
  issue.title = "Checkout step 1";
  ASSERT_TRUE((*fake)->AddIssue("acme/checkout", issue).ok());

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_GITLAB_URL=" + (*fake)->base_url(), "OKR_GITLAB_TOKEN=" + (*fake)->private_token(),
       std::string("OKR_GITLAB_WEBHOOK_TOKEN=") + kGitLabToken, "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=1h"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResultLinking(*stub, v1::GITLAB, "acme/checkout#1");
  EXPECT_DOUBLE_EQ(Progress(*stub), 0);
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/gitlab");

  auto hook = (*fake)->CloseIssue("acme/checkout", 1);
  ASSERT_TRUE(hook.ok()) << hook.status();
  hook->body["object_attributes"]["updated_at"] = "9999-12-31T23:59:59Z";
  auto sent = testing::SendIssueHook(url, kGitLabToken, *hook);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  EXPECT_DOUBLE_EQ(Progress(*stub), 1);
  EXPECT_THAT(server.Log(), HasSubstr("tracker item last modified in the future: taken as now"));

  absl::SleepFor(absl::Seconds(1));  // the reopen is stamped after "now" of the first one
  hook = (*fake)->ReopenIssue("acme/checkout", 1);
  ASSERT_TRUE(hook.ok()) << hook.status();
  sent = testing::SendIssueHook(url, kGitLabToken, *hook);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  EXPECT_DOUBLE_EQ(Progress(*stub), 0) << "the real change was ignored as stale";
}

}  // namespace
}  // namespace okr
