// Key result scopes through the okr-server binary and the API, against the fake Jira and
// the fake GitLab: a JQL scope and a GitLab label scope set with CreateKeyResult /
// UpdateKeyResult come back from Get and List, SyncKeyResult links the matching issues,
// a changed scope takes effect at the next sync, and an issue reached by an explicit link
// and by a scope (or by its key and by its id, after a move to another project) counts
// once: item_count, weights and progress prove it. Invalid scopes are INVALID_ARGUMENT
// naming the field.
#include <memory>
#include <set>
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kLatency[] = "objectives/o1/keyResults/latency";
constexpr char kEpics[] = "objectives/o1/keyResults/epics";

using Stub = v1::OkrService::Stub;

// Team "checkout", cycle "now" (around today) and objective "o1".
void CreateObjective(Stub& stub) {
  v1::CreateTeamRequest team;
  team.set_team_id("checkout");
  team.mutable_team()->set_display_name("Checkout");
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
  obj.mutable_objective()->set_title("Make paying effortless");
  obj.mutable_objective()->set_team("teams/checkout");
  obj.mutable_objective()->set_cycle("cycles/now");
  v1::Objective o;
  ASSERT_TRUE(stub.CreateObjective(Ctx().get(), obj, &o).ok());
}

grpc::Status CreateWorkItemsKeyResult(Stub& stub, const std::string& id,
                                      const v1::WorkItemsKeyResult& scope, v1::KeyResult* out) {
  v1::CreateKeyResultRequest req;
  req.set_parent("objectives/o1");
  req.set_key_result_id(id);
  req.mutable_key_result()->set_title(absl::StrCat("Key result ", id));
  *req.mutable_key_result()->mutable_work_items() = scope;
  return stub.CreateKeyResult(Ctx().get(), req, out);
}

grpc::Status UpdateScope(Stub& stub, const std::string& name, const v1::WorkItemsKeyResult& scope,
                         const std::vector<std::string>& mask, v1::KeyResult* out) {
  v1::UpdateKeyResultRequest req;
  req.mutable_key_result()->set_name(name);
  *req.mutable_key_result()->mutable_work_items() = scope;
  for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
  return stub.UpdateKeyResult(Ctx().get(), req, out);
}

v1::KeyResult Sync(Stub& stub, const std::string& name, const ServerProcess& server) {
  v1::SyncKeyResultRequest req;
  req.set_name(name);
  v1::KeyResult kr;
  grpc::Status s = stub.SyncKeyResult(Ctx().get(), req, &kr);
  EXPECT_TRUE(s.ok()) << s.error_message() << "\n" << server.Log();
  return kr;
}

v1::KeyResult Get(Stub& stub, const std::string& name) {
  v1::GetKeyResultRequest req;
  req.set_name(name);
  v1::KeyResult kr;
  grpc::Status s = stub.GetKeyResult(Ctx().get(), req, &kr);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return kr;
}

// The keys of the key result's links (ListWorkItemLinks).
std::vector<std::string> LinkedKeys(Stub& stub, const std::string& name) {
  v1::ListWorkItemLinksRequest req;
  req.set_parent(name);
  req.set_page_size(1000);
  v1::ListWorkItemLinksResponse resp;
  grpc::Status s = stub.ListWorkItemLinks(Ctx().get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> keys;
  for (const v1::WorkItemLink& l : resp.work_item_links()) keys.push_back(l.work_item().key());
  return keys;
}

grpc::Status Link(Stub& stub, const std::string& name, v1::Tracker tracker,
                  const std::string& key) {
  v1::LinkWorkItemRequest req;
  req.set_parent(name);
  req.mutable_work_item()->set_tracker(tracker);
  req.mutable_work_item()->set_key(key);
  v1::WorkItemLink l;
  return stub.LinkWorkItem(Ctx().get(), req, &l);
}

// item_count, total weight, done weight and progress of a work-items key result.
struct Totals {
  int item_count;
  double total_weight;
  double done_weight;
  double progress;
  bool operator==(const Totals& o) const {
    return item_count == o.item_count && total_weight == o.total_weight &&
           done_weight == o.done_weight && progress == o.progress;
  }
};
std::ostream& operator<<(std::ostream& os, const Totals& t) {
  return os << "{items " << t.item_count << ", total " << t.total_weight << ", done "
            << t.done_weight << ", progress " << t.progress << "}";
}
Totals TotalsOf(const v1::KeyResult& kr) {
  return Totals{kr.work_items().item_count(), kr.work_items().total_weight(),
                kr.work_items().done_weight(), kr.progress()};
}

FakeJiraIssue JiraIssue(const std::string& id, const std::string& key, double points,
                        const std::string& category, std::vector<std::string> labels) {
  FakeJiraIssue issue;
  issue.id = id;
  issue.key = key;
  issue.summary = absl::StrCat("Issue ", key);
  issue.story_points = points;
  issue.status_category = category;
  issue.labels = std::move(labels);
  return issue;
}

TEST(ScopesProcessTest, JiraScopeLinksMatchesAndCountsEachIssueOnce) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->PutIssue(JiraIssue("10007", "OKRX-7", 3, "done", {"checkout-latency"}));
  (*fake)->PutIssue(JiraIssue("10008", "OKRX-8", 2, "new", {"checkout-latency"}));
  (*fake)->PutIssue(JiraIssue("10009", "OKRX-9", 5, "new", {}));

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token, "OKR_JIRA_WEBHOOK_SECRET=s3cret",
       "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016", "OKR_PUBLIC_URL=https://okr.example.test",
       "OKR_RECONCILE_INTERVAL=1h", "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateObjective(*stub);

  // A JQL scope set on create comes back from the create response, Get and List.
  v1::WorkItemsKeyResult scope;
  scope.set_jira_jql("labels = checkout-latency");
  v1::KeyResult kr;
  grpc::Status created = CreateWorkItemsKeyResult(*stub, "latency", scope, &kr);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(kr.work_items().jira_jql(), "labels = checkout-latency");
  EXPECT_EQ(Get(*stub, kLatency).work_items().jira_jql(), "labels = checkout-latency");
  v1::ListKeyResultsRequest list;
  list.set_parent("objectives/o1");
  v1::ListKeyResultsResponse listed;
  ASSERT_TRUE(stub->ListKeyResults(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.key_results_size(), 1);
  EXPECT_EQ(listed.key_results(0).work_items().jira_jql(), "labels = checkout-latency");

  // SyncKeyResult links the two labelled issues: 3 of 5 story points done.
  kr = Sync(*stub, kLatency, server);
  EXPECT_THAT(LinkedKeys(*stub, kLatency), UnorderedElementsAre("OKRX-7", "OKRX-8"));
  EXPECT_EQ(TotalsOf(kr), (Totals{2, 5, 3, 0.6}));

  // Linking a matched issue explicitly as well: it is linked already and counts once.
  grpc::Status again = Link(*stub, kLatency, v1::JIRA, "OKRX-7");
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS) << again.error_message();
  EXPECT_THAT(again.error_message(), HasSubstr("OKRX-7"));
  EXPECT_EQ(TotalsOf(Get(*stub, kLatency)), (Totals{2, 5, 3, 0.6}));
  EXPECT_EQ(TotalsOf(Sync(*stub, kLatency, server)), (Totals{2, 5, 3, 0.6}));
  EXPECT_THAT(LinkedKeys(*stub, kLatency), UnorderedElementsAre("OKRX-7", "OKRX-8"));

  // Explicit link first, scope second (set with an explicit update mask): the scope finds
  // OKRX-7 again and it still counts once.
  v1::KeyResult epics;
  ASSERT_TRUE(CreateWorkItemsKeyResult(*stub, "epics", v1::WorkItemsKeyResult(), &epics).ok());
  ASSERT_TRUE(Link(*stub, kEpics, v1::JIRA, "OKRX-7").ok());
  EXPECT_EQ(TotalsOf(Sync(*stub, kEpics, server)), (Totals{1, 3, 3, 1}));
  grpc::Status updated = UpdateScope(*stub, kEpics, scope, {"work_items.jira_jql"}, &epics);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  EXPECT_EQ(epics.work_items().jira_jql(), "labels = checkout-latency");
  EXPECT_EQ(TotalsOf(Sync(*stub, kEpics, server)), (Totals{2, 5, 3, 0.6}));
  EXPECT_THAT(LinkedKeys(*stub, kEpics), UnorderedElementsAre("OKRX-7", "OKRX-8"));

  // By key and by id: OKRX-7 moves to project OKRY and becomes OKRY-70 (same id 10007).
  // The scope finds it under the new key; it is the same item, linked once in each key
  // result, and its links follow it.
  FakeJiraIssue moved = JiraIssue("10007", "OKRY-70", 3, "done", {"checkout-latency"});
  moved.updated = moved.updated + absl::Minutes(10);
  (*fake)->PutIssue(moved);
  EXPECT_EQ(TotalsOf(Sync(*stub, kEpics, server)), (Totals{2, 5, 3, 0.6}));
  EXPECT_THAT(LinkedKeys(*stub, kEpics), UnorderedElementsAre("OKRY-70", "OKRX-8"));
  EXPECT_EQ(TotalsOf(Sync(*stub, kLatency, server)), (Totals{2, 5, 3, 0.6}));
  EXPECT_THAT(LinkedKeys(*stub, kLatency), UnorderedElementsAre("OKRY-70", "OKRX-8"));
  v1::FindWorkItemLinksRequest find;
  find.set_tracker(v1::JIRA);
  find.set_key("OKRY-70");
  v1::FindWorkItemLinksResponse found;
  ASSERT_TRUE(stub->FindWorkItemLinks(Ctx().get(), find, &found).ok());
  EXPECT_EQ(found.targets_size(), 2);
  find.set_key("OKRX-7");
  ASSERT_TRUE(stub->FindWorkItemLinks(Ctx().get(), find, &found).ok());
  EXPECT_EQ(found.targets_size(), 0);

  // A changed scope takes effect at the next sync; an empty mask updates the scope fields
  // set in the request.
  v1::WorkItemsKeyResult narrower;
  narrower.set_jira_jql("labels = checkout-latency AND key = OKRX-8");
  ASSERT_TRUE(UpdateScope(*stub, kLatency, narrower, {}, &kr).ok());
  EXPECT_EQ(kr.work_items().jira_jql(), narrower.jira_jql());
  EXPECT_EQ(TotalsOf(Sync(*stub, kLatency, server)), (Totals{1, 2, 0, 0}));
  EXPECT_THAT(LinkedKeys(*stub, kLatency), ElementsAre("OKRX-8"));
  // The other key result keeps its own links.
  EXPECT_EQ(TotalsOf(Get(*stub, kEpics)), (Totals{2, 5, 3, 0.6}));

  // Clearing the scope with an explicit mask: the field comes back empty; the links stay.
  ASSERT_TRUE(
      UpdateScope(*stub, kLatency, v1::WorkItemsKeyResult(), {"work_items.jira_jql"}, &kr).ok());
  EXPECT_EQ(kr.work_items().jira_jql(), "");
  EXPECT_EQ(Get(*stub, kLatency).work_items().jira_jql(), "");
  EXPECT_EQ(TotalsOf(Sync(*stub, kLatency, server)), (Totals{1, 2, 0, 0}));
}

TEST(ScopesProcessTest, GitLabLabelScopeLinksMatchesAndCountsEachIssueOnce) {
  auto fake = FakeGitLabServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddProject("acme/checkout");
  auto add = [&](int64_t iid, std::vector<std::string> labels, const std::string& state,
                 int64_t weight) {
    FakeGitLabIssue issue;
    issue.iid = iid;
    issue.title = absl::StrCat("Issue ", iid);
    issue.labels = std::move(labels);
    issue.state = state;
    issue.weight = weight;
    ASSERT_TRUE((*fake)->AddIssue("acme/checkout", issue).ok());
  };
  add(1, {"nps"}, "closed", 3);
  add(2, {"nps", "q3"}, "opened", 1);
  add(3, {}, "opened", 5);

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_GITLAB_URL=" + (*fake)->base_url(), "OKR_GITLAB_TOKEN=" + (*fake)->private_token(),
       "OKR_GITLAB_WEBHOOK_TOKEN=hook-token", "OKR_PUBLIC_URL=https://okr.example.test",
       "OKR_RECONCILE_INTERVAL=1h", "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateObjective(*stub);
  const std::string nps = "objectives/o1/keyResults/nps";

  // Explicit link first, then the label scope through UpdateKeyResult ("*" mask).
  v1::KeyResult kr;
  ASSERT_TRUE(CreateWorkItemsKeyResult(*stub, "nps", v1::WorkItemsKeyResult(), &kr).ok());
  ASSERT_TRUE(Link(*stub, nps, v1::GITLAB, "acme/checkout#1").ok());
  v1::WorkItemsKeyResult scope;
  scope.set_gitlab_project("acme/checkout");
  scope.add_gitlab_labels("nps");
  {
    v1::UpdateKeyResultRequest req;
    req.mutable_key_result()->set_name(nps);
    req.mutable_key_result()->set_title("Lift NPS");
    *req.mutable_key_result()->mutable_work_items() = scope;
    req.mutable_update_mask()->add_paths("*");
    grpc::Status s = stub->UpdateKeyResult(Ctx().get(), req, &kr);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(kr.title(), "Lift NPS");
  kr = Get(*stub, nps);
  EXPECT_EQ(kr.work_items().gitlab_project(), "acme/checkout");
  EXPECT_THAT(kr.work_items().gitlab_labels(), ElementsAre("nps"));
  EXPECT_EQ(kr.work_items().gitlab_milestone(), "");

  // The scope finds #1 (linked already) and #2: #1 counts once; 3 of 4 weight done.
  EXPECT_EQ(TotalsOf(Sync(*stub, nps, server)), (Totals{2, 4, 3, 0.75}));
  EXPECT_THAT(LinkedKeys(*stub, nps), UnorderedElementsAre("acme/checkout#1", "acme/checkout#2"));
  grpc::Status again = Link(*stub, nps, v1::GITLAB, "acme/checkout#2");
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS) << again.error_message();
  EXPECT_EQ(TotalsOf(Get(*stub, nps)), (Totals{2, 4, 3, 0.75}));
  EXPECT_EQ(TotalsOf(Sync(*stub, nps, server)), (Totals{2, 4, 3, 0.75}));

  // More labels narrow the scope at the next sync.
  v1::WorkItemsKeyResult narrower = scope;
  narrower.add_gitlab_labels("q3");
  ASSERT_TRUE(UpdateScope(*stub, nps, narrower, {"work_items.gitlab_labels"}, &kr).ok());
  EXPECT_THAT(kr.work_items().gitlab_labels(), ElementsAre("nps", "q3"));
  EXPECT_EQ(TotalsOf(Sync(*stub, nps, server)), (Totals{1, 1, 0, 0}));
  EXPECT_THAT(LinkedKeys(*stub, nps), ElementsAre("acme/checkout#2"));

  // A milestone reaches the tracker too: no issue is in "2026.4" until #2 is put there.
  v1::WorkItemsKeyResult milestone;
  milestone.set_gitlab_milestone("2026.4");
  ASSERT_TRUE(UpdateScope(*stub, nps, milestone, {}, &kr).ok());
  EXPECT_EQ(kr.work_items().gitlab_milestone(), "2026.4");
  EXPECT_THAT(kr.work_items().gitlab_labels(), ElementsAre("nps", "q3"));  // not in the mask
  EXPECT_EQ(TotalsOf(Sync(*stub, nps, server)), (Totals{0, 0, 0, 0}));
  ASSERT_TRUE((*fake)
                  ->UpdateIssue("acme/checkout", 2,
                                [](FakeGitLabIssue& issue) { issue.milestone = "2026.4"; })
                  .ok());
  EXPECT_EQ(TotalsOf(Sync(*stub, nps, server)), (Totals{1, 1, 0, 0}));
  EXPECT_THAT(LinkedKeys(*stub, nps), ElementsAre("acme/checkout#2"));
}

TEST(ScopesProcessTest, InvalidScopesNameTheirField) {
  testing::TempDir dir;
  ServerProcess server({"--grpc-address=127.0.0.1:0", "--database=sqlite:" + dir.File("okr.db")},
                       dir.File("server.log"));
  const int grpc_port = server.WaitForGrpcPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateObjective(*stub);

  struct Case {
    const char* what;
    v1::WorkItemsKeyResult scope;
    const char* field;
  };
  std::vector<Case> cases;
  {
    Case c{"labels without a project", {}, "work_items.gitlab_project"};
    c.scope.add_gitlab_labels("nps");
    cases.push_back(c);
  }
  {
    Case c{"a project without labels", {}, "work_items.gitlab_labels"};
    c.scope.set_gitlab_project("acme/checkout");
    cases.push_back(c);
  }
  {
    Case c{"a project that is no GitLab path", {}, "work_items.gitlab_project"};
    c.scope.set_gitlab_project("not a path");
    c.scope.add_gitlab_labels("nps");
    cases.push_back(c);
  }
  {
    Case c{"a label with a comma", {}, "work_items.gitlab_labels"};
    c.scope.set_gitlab_project("acme/checkout");
    c.scope.add_gitlab_labels("a,b");
    cases.push_back(c);
  }
  {
    Case c{"a JQL with a control character", {}, "work_items.jira_jql"};
    c.scope.set_jira_jql("project = OKRX\x01AND labels = x");
    cases.push_back(c);
  }
  {
    Case c{"a JQL over 4096 bytes", {}, "work_items.jira_jql"};
    c.scope.set_jira_jql(std::string(5000, 'x'));
    cases.push_back(c);
  }
  int n = 0;
  for (const Case& c : cases) {
    v1::KeyResult kr;
    grpc::Status s = CreateWorkItemsKeyResult(*stub, absl::StrCat("bad", n++), c.scope, &kr);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field)) << c.what;
  }
  // The same checks on update; nothing was stored.
  v1::KeyResult kr;
  ASSERT_TRUE(CreateWorkItemsKeyResult(*stub, "ok", v1::WorkItemsKeyResult(), &kr).ok());
  grpc::Status s = UpdateScope(*stub, "objectives/o1/keyResults/ok", cases[1].scope,
                               {"work_items.gitlab_project"}, &kr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("work_items.gitlab_labels"));
  EXPECT_EQ(Get(*stub, "objectives/o1/keyResults/ok").work_items().gitlab_project(), "");

  // Only work-items key results take scopes.
  v1::CreateKeyResultRequest metric;
  metric.set_parent("objectives/o1");
  metric.set_key_result_id("m");
  metric.mutable_key_result()->set_title("Drop-off");
  metric.mutable_key_result()->mutable_metric()->set_start_value(40);
  metric.mutable_key_result()->mutable_metric()->set_target_value(20);
  ASSERT_TRUE(stub->CreateKeyResult(Ctx().get(), metric, &kr).ok());
  v1::WorkItemsKeyResult jql;
  jql.set_jira_jql("project = OKRX");
  s = UpdateScope(*stub, "objectives/o1/keyResults/m", jql, {"work_items.jira_jql"}, &kr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("work_items.jira_jql"));
  EXPECT_THAT(s.error_message(), HasSubstr("work-items"));
  // An unknown scope path is refused, naming the allowed ones.
  s = UpdateScope(*stub, "objectives/o1/keyResults/ok", jql, {"work_items.item_count"}, &kr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("work_items.gitlab_milestone"));
}

}  // namespace
}  // namespace okr
