// Credit per workflow state and cancelled work left out, through the okr-server binary
// configured with a --config file, against the fake Jira and the fake GitLab: a Jira issue
// in "In Review" earns half its weight, one closed as Won't Do (webhook) or Duplicate
// (reconciliation) leaves numerator and denominator; GitLab issues closed as a duplicate or
// labelled wontfix leave too, a credited label earns its share. The key result reports how
// many items were excluded, the events say why progress moved, and the key result page
// marks the items.
#include <httplib.h>

#include <fstream>
#include <map>
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
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kJiraSecret[] = "jira-hook-secret";
constexpr char kGitLabToken[] = "gitlab-hook-token";
constexpr char kKeyResult[] = "objectives/o1/keyResults/epics";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Team "t", cycle "now", objective "o1" and work-items key result "epics" linking `keys`
// of `tracker`.
void CreateKeyResultLinking(v1::OkrService::Stub& stub, v1::Tracker tracker,
                            const std::vector<std::string>& keys) {
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
    link.set_parent(kKeyResult);
    link.mutable_work_item()->set_tracker(tracker);
    link.mutable_work_item()->set_key(key);
    v1::WorkItemLink l;
    ASSERT_TRUE(stub.LinkWorkItem(Ctx().get(), link, &l).ok());
  }
}

v1::KeyResult GetKeyResult(v1::OkrService::Stub& stub) {
  v1::GetKeyResultRequest get;
  get.set_name(kKeyResult);
  v1::KeyResult k;
  grpc::Status status = stub.GetKeyResult(Ctx().get(), get, &k);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return k;
}

// The key result's linked items by key, as the API reports them.
std::map<std::string, v1::WorkItem> LinkedItems(v1::OkrService::Stub& stub) {
  v1::ListWorkItemLinksRequest list;
  list.set_parent(kKeyResult);
  list.set_page_size(100);
  v1::ListWorkItemLinksResponse response;
  grpc::Status status = stub.ListWorkItemLinks(Ctx().get(), list, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::map<std::string, v1::WorkItem> items;
  for (const v1::WorkItemLink& link : response.work_item_links()) {
    items[link.work_item().key()] = link.work_item();
  }
  return items;
}

// The messages of the key result's events, oldest first.
std::vector<std::string> EventMessages(v1::OkrService::Stub& stub) {
  v1::ListEventsRequest list;
  list.set_parent(kKeyResult);
  list.set_page_size(1000);
  v1::ListEventsResponse response;
  grpc::Status status = stub.ListEvents(Ctx().get(), list, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> messages;
  for (const v1::Event& e : response.events()) messages.push_back(e.message());
  return messages;
}

// The first event whose cause is `kind`, or an empty event.
v1::Event EventCausedBy(v1::OkrService::Stub& stub, v1::CauseKind kind, const std::string& ref) {
  v1::ListEventsRequest list;
  list.set_parent(kKeyResult);
  list.set_page_size(1000);
  v1::ListEventsResponse response;
  EXPECT_TRUE(stub.ListEvents(Ctx().get(), list, &response).ok());
  for (const v1::Event& e : response.events()) {
    if (e.cause().kind() == kind && e.cause().ref() == ref) return e;
  }
  return v1::Event();
}

std::string Page(int http_port, const std::string& path) {
  httplib::Client http(absl::StrCat("127.0.0.1:", http_port));
  auto page = http.Get(path);
  if (!page) return "";
  return page->body;
}

TEST(CreditProcessTest, Jira_InReviewEarnsHalf_WontDoAndDuplicateLeave) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  std::vector<FakeJiraIssue> issues(3);
  for (int i = 0; i < 3; ++i) {
    issues[i].id = absl::StrCat(10001 + i);
    issues[i].key = absl::StrCat("OKRX-", i + 1);
    issues[i].summary = absl::StrCat("Checkout step ", i + 1);
    issues[i].story_points = 2;
    (*fake)->PutIssue(issues[i]);
  }

  testing::TempDir dir;
  const std::string config = dir.File("connectors.json");
  WriteFile(config, R"({"jira_sites": [{"name": "default", "done": {
      "OKRX": {"credit": {"In Review": 0.5}}}}]})");
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db"), "--config", config},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
       std::string("OKR_JIRA_WEBHOOK_SECRET=") + kJiraSecret,
       "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016", "OKR_PUBLIC_URL=https://okr.example.test",
       "OKR_RECONCILE_INTERVAL=1h", "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResultLinking(*stub, v1::JIRA, {"OKRX-1", "OKRX-2", "OKRX-3"});
  v1::SyncKeyResultRequest sync;
  sync.set_name(kKeyResult);
  v1::KeyResult k;
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 6);
  EXPECT_DOUBLE_EQ(k.progress(), 0);
  EXPECT_EQ(LinkedItems(*stub)["OKRX-1"].status(), "To Do");

  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/jira");
  testing::WebhookEventOptions options;
  options.site_base_url = (*fake)->base_url();

  // OKRX-1 moves to In Review: half of its 2 points, 1 of 6.
  issues[0].status_category = "indeterminate";
  issues[0].status_name = "In Review";
  issues[0].updated += absl::Minutes(5);
  (*fake)->PutIssue(issues[0]);
  options.status_from = "new";
  auto sent = testing::SendWebhook(url, testing::IssueUpdatedEvent(issues[0], options), kJiraSecret,
                                   "delivery-1");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  k = GetKeyResult(*stub);
  EXPECT_DOUBLE_EQ(k.work_items().done_weight(), 1);
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 6);
  EXPECT_NEAR(k.progress(), 1.0 / 6, 1e-9);
  v1::WorkItem review = LinkedItems(*stub)["OKRX-1"];
  EXPECT_EQ(review.status(), "In Review");
  EXPECT_DOUBLE_EQ(review.credit(), 0.5);
  EXPECT_FALSE(review.done());
  EXPECT_FALSE(review.excluded());
  EXPECT_THAT(EventMessages(*stub),
              Contains(HasSubstr("work item JIRA OKRX-1 moved to In Review (credit 50%)")));

  // OKRX-2 is closed as Won't Do: it leaves numerator and denominator (1 of 4).
  issues[1].status_category = "done";
  issues[1].status_name = "Closed";
  issues[1].resolution = "Won't Do";
  issues[1].updated += absl::Minutes(6);
  (*fake)->PutIssue(issues[1]);
  options.status_from = "indeterminate";
  sent = testing::SendWebhook(url, testing::IssueUpdatedEvent(issues[1], options), kJiraSecret,
                              "delivery-2");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  k = GetKeyResult(*stub);
  EXPECT_EQ(k.work_items().excluded_count(), 1);
  EXPECT_EQ(k.work_items().item_count(), 2);
  EXPECT_EQ(k.work_items().done_count(), 0);
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 4);
  EXPECT_DOUBLE_EQ(k.progress(), 0.25);
  v1::WorkItem wont = LinkedItems(*stub)["OKRX-2"];
  EXPECT_TRUE(wont.excluded());
  EXPECT_EQ(wont.exclusion_reason(), "Won't Do");
  EXPECT_DOUBLE_EQ(wont.credit(), 0);
  const v1::Event left = EventCausedBy(*stub, v1::CAUSE_WORK_ITEM_EXCLUDED, "JIRA OKRX-2");
  EXPECT_EQ(left.cause().detail(), "closed as Won't Do");
  EXPECT_THAT(left.message(),
              HasSubstr("work item JIRA OKRX-2 closed as Won't Do: left the key result"));

  // OKRX-3 is closed as Duplicate and the webhook is lost: reconciliation (asking for the
  // resolution field) finds it. 1 of 2.
  issues[2].status_category = "done";
  issues[2].resolution = "Duplicate";
  issues[2].updated += absl::Minutes(7);
  (*fake)->PutIssue(issues[2]);
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();
  EXPECT_EQ(k.work_items().excluded_count(), 2);
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 2);
  EXPECT_DOUBLE_EQ(k.progress(), 0.5);
  EXPECT_EQ(LinkedItems(*stub)["OKRX-3"].exclusion_reason(), "Duplicate");
  EXPECT_THAT(
      EventMessages(*stub),
      Contains(HasSubstr("work item JIRA OKRX-3 closed as Duplicate: left the key result")));
  // Reconciliation keeps what the webhooks brought.
  EXPECT_EQ(LinkedItems(*stub)["OKRX-1"].credit(), 0.5);
  EXPECT_TRUE(LinkedItems(*stub)["OKRX-2"].excluded());

  // OKRX-1 is done: 2 of 2; the excluded items do not hold progress back.
  issues[0].status_category = "done";
  issues[0].status_name = "Done";
  issues[0].updated += absl::Minutes(8);
  (*fake)->PutIssue(issues[0]);
  sent = testing::SendWebhook(url, testing::IssueUpdatedEvent(issues[0], options), kJiraSecret,
                              "delivery-3");
  ASSERT_TRUE(sent.ok());
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub).progress(), 1);

  // OKRX-2 is reopened: it counts again (2 of 4).
  issues[1].status_category = "new";
  issues[1].status_name = "To Do";
  issues[1].updated += absl::Minutes(9);
  (*fake)->PutIssue(issues[1]);
  options.status_from = "done";
  sent = testing::SendWebhook(url, testing::IssueUpdatedEvent(issues[1], options), kJiraSecret,
                              "delivery-4");
  ASSERT_TRUE(sent.ok());
  k = GetKeyResult(*stub);
  EXPECT_EQ(k.work_items().excluded_count(), 1);
  EXPECT_DOUBLE_EQ(k.progress(), 0.5);
  EXPECT_THAT(EventMessages(*stub),
              Contains(HasSubstr("work item JIRA OKRX-2 reopened: counts again")));

  // The key result page marks the excluded item and counts it.
  const std::string page = Page(http_port, "/objectives/o1/keyResults/epics");
  EXPECT_THAT(page, HasSubstr("1 excluded</span>"));
  EXPECT_THAT(page, HasSubstr("<tr class=\"excluded\">"));
  EXPECT_THAT(page, HasSubstr("(excluded: Duplicate)"));
}

TEST(CreditProcessTest, GitLab_DuplicateAndWontfixLeave_ReviewLabelEarnsHalf) {
  auto fake = FakeGitLabServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddProject("acme/checkout");
  for (int iid = 1; iid <= 4; ++iid) {
    FakeGitLabIssue issue;
    issue.iid = iid;
    issue.title = absl::StrCat("Checkout step ", iid);
    issue.weight = 1;
    ASSERT_TRUE((*fake)->AddIssue("acme/checkout", issue).ok());
  }

  testing::TempDir dir;
  const std::string config = dir.File("connectors.json");
  WriteFile(config, R"({"gitlab_instances": [{"name": "default", "done": {
      "acme/checkout": {"credit": {"workflow::review": 0.5}}}}]})");
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db"), "--config", config},
      dir.File("server.log"),
      {"OKR_GITLAB_URL=" + (*fake)->base_url(), "OKR_GITLAB_TOKEN=" + (*fake)->private_token(),
       std::string("OKR_GITLAB_WEBHOOK_TOKEN=") + kGitLabToken,
       "OKR_PUBLIC_URL=https://okr.example.test", "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResultLinking(*stub, v1::GITLAB,
                         {"acme/checkout#1", "acme/checkout#2", "acme/checkout#3"});
  v1::SyncKeyResultRequest sync;
  sync.set_name(kKeyResult);
  v1::KeyResult k;
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 3);
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/gitlab");

  // #1 is closed as a duplicate of #4.
  ASSERT_TRUE((*fake)
                  ->UpdateIssue("acme/checkout", 1,
                                [](FakeGitLabIssue& issue) { issue.duplicate_of_iid = 4; })
                  .ok());
  auto hook = (*fake)->CloseIssue("acme/checkout", 1);
  ASSERT_TRUE(hook.ok()) << hook.status();
  auto sent = testing::SendIssueHook(url, kGitLabToken, *hook);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 200);
  k = GetKeyResult(*stub);
  EXPECT_EQ(k.work_items().excluded_count(), 1);
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 2);
  EXPECT_DOUBLE_EQ(k.progress(), 0);
  EXPECT_EQ(LinkedItems(*stub)["acme/checkout#1"].exclusion_reason(), "duplicate");
  const v1::Event duplicate =
      EventCausedBy(*stub, v1::CAUSE_WORK_ITEM_EXCLUDED, "GITLAB acme/checkout#1");
  EXPECT_EQ(duplicate.cause().detail(), "closed as duplicate");
  EXPECT_THAT(duplicate.message(), HasSubstr("work item GITLAB acme/checkout#1 closed as "
                                             "duplicate: left the key result"));

  // #2 is labelled wontfix (still open).
  hook = (*fake)->EditIssue("acme/checkout", 2,
                            [](FakeGitLabIssue& issue) { issue.labels.push_back("wontfix"); });
  ASSERT_TRUE(hook.ok()) << hook.status();
  sent = testing::SendIssueHook(url, kGitLabToken, *hook);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 200);
  k = GetKeyResult(*stub);
  EXPECT_EQ(k.work_items().excluded_count(), 2);
  EXPECT_DOUBLE_EQ(k.work_items().total_weight(), 1);
  EXPECT_EQ(LinkedItems(*stub)["acme/checkout#2"].exclusion_reason(), "wontfix");
  EXPECT_THAT(EventMessages(*stub),
              Contains(HasSubstr("work item GITLAB acme/checkout#2 labelled wontfix: left the "
                                 "key result")));

  // #3 gets the review label: half of its weight, 0.5 of 1.
  hook = (*fake)->EditIssue("acme/checkout", 3, [](FakeGitLabIssue& issue) {
    issue.labels.push_back("workflow::review");
  });
  ASSERT_TRUE(hook.ok());
  sent = testing::SendIssueHook(url, kGitLabToken, *hook);
  ASSERT_TRUE(sent.ok());
  k = GetKeyResult(*stub);
  EXPECT_DOUBLE_EQ(k.progress(), 0.5);
  v1::WorkItem review = LinkedItems(*stub)["acme/checkout#3"];
  EXPECT_EQ(review.status(), "workflow::review");
  EXPECT_DOUBLE_EQ(review.credit(), 0.5);

  // Reconciliation over REST (labels as strings, _links.closed_as_duplicate_of) agrees.
  ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();
  EXPECT_EQ(k.work_items().excluded_count(), 2);
  EXPECT_DOUBLE_EQ(k.progress(), 0.5);

  // #3 is closed: done in full, 1 of 1.
  hook = (*fake)->CloseIssue("acme/checkout", 3);
  ASSERT_TRUE(hook.ok());
  ASSERT_TRUE(testing::SendIssueHook(url, kGitLabToken, *hook).ok());
  EXPECT_DOUBLE_EQ(GetKeyResult(*stub).progress(), 1);

  const std::string page = Page(http_port, "/objectives/o1/keyResults/epics");
  EXPECT_THAT(page, HasSubstr("2 excluded</span>"));
  EXPECT_THAT(page, HasSubstr("(excluded: wontfix)"));
  EXPECT_THAT(page, HasSubstr("(excluded: duplicate)"));
}

}  // namespace
}  // namespace okr
