// Freshness through the okr-server binary against the fake trackers with a short
// reconciliation interval: a work-items key result reports per tracker when its items were
// last confirmed and whether that source is stale (gRPC Get/List/Update, the key result
// page, and okr_tracker_last_success_timestamp_seconds on /metrics). The fake fails every
// request (HTTP 500) to make the site stale, a signed webhook moves the confirmation, and
// the healthy fake makes it fresh again. With two replicas on one PostgreSQL database
// (OKR_TEST_POSTGRES_URL, tests/testing/postgres/temp_postgres.sh; skipped without it
// outside CI, like replicas_test.cc), both answer the same although only one reconciles.
#include <httplib.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
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
using ::okr::testing::Eventually;

using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabServer;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::ServerProcess;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "jira-hook-secret";
constexpr char kName[] = "objectives/o1/keyResults/epics";
// Short enough for the test, long enough that a healthy site never ages into staleness
// (two intervals) between two rounds.
constexpr char kInterval[] = "OKR_RECONCILE_INTERVAL=3s";

// Team, cycle around now, objective o1, work-items key result "epics" linking `key` in
// `tracker`, and a metric key result "nps".
void CreateKeyResults(v1::OkrService::Stub& stub, v1::Tracker tracker, const std::string& key) {
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
  v1::CreateKeyResultRequest kr;
  kr.set_parent("objectives/o1");
  kr.set_key_result_id("epics");
  kr.mutable_key_result()->set_title("Ship the checkout epics");
  kr.mutable_key_result()->mutable_work_items();
  v1::KeyResult k;
  ASSERT_TRUE(stub.CreateKeyResult(Ctx().get(), kr, &k).ok());
  // No linked item and no scope yet: nothing to be fresh about.
  EXPECT_EQ(k.work_items().freshness_size(), 0);
  v1::CreateKeyResultRequest metric;
  metric.set_parent("objectives/o1");
  metric.set_key_result_id("nps");
  metric.mutable_key_result()->set_title("Lift NPS");
  metric.mutable_key_result()->mutable_metric()->set_start_value(30);
  metric.mutable_key_result()->mutable_metric()->set_target_value(50);
  ASSERT_TRUE(stub.CreateKeyResult(Ctx().get(), metric, &k).ok());
  v1::LinkWorkItemRequest link;
  link.set_parent(kName);
  link.mutable_work_item()->set_tracker(tracker);
  link.mutable_work_item()->set_key(key);
  v1::WorkItemLink l;
  grpc::Status linked = stub.LinkWorkItem(Ctx().get(), link, &l);
  ASSERT_TRUE(linked.ok()) << linked.error_message();
}

v1::KeyResult Get(v1::OkrService::Stub& stub) {
  v1::GetKeyResultRequest get;
  get.set_name(kName);
  v1::KeyResult k;
  grpc::Status s = stub.GetKeyResult(Ctx().get(), get, &k);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return k;
}

// The one freshness entry of the key result (an empty one if there is not exactly one).
v1::TrackerFreshness Freshness(v1::OkrService::Stub& stub) {
  v1::KeyResult k = Get(stub);
  if (k.work_items().freshness_size() != 1) return v1::TrackerFreshness();
  return k.work_items().freshness(0);
}

bool Fresh(const v1::TrackerFreshness& f) {
  return f.tracker() != v1::TRACKER_UNSPECIFIED && !f.stale() && f.has_confirm_time();
}

// What the fake Jira answers while it fails: 500 without Retry-After.
testing::FakeJiraFailure ServerError() {
  return testing::FakeJiraFailure{500, std::nullopt, std::nullopt};
}

std::string Page(int http_port, const std::string& path) {
  httplib::Client http(absl::StrCat("127.0.0.1:", http_port));
  auto page = http.Get(path);
  if (!page) return "";
  return page->body;
}

std::string LastSuccessSeries(const std::string& tracker) {
  return absl::StrCat("okr_tracker_last_success_timestamp_seconds\\{site=\"default\",tracker=\"",
                      tracker, "\"\\} ");
}

TEST(FreshnessProcessTest, JiraFreshStaleWebhookAndFreshAgain) {
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
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
       std::string("OKR_JIRA_WEBHOOK_SECRET=") + kSecret,
       "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016", "OKR_PUBLIC_URL=https://okr.example.test",
       kInterval, "OKR_WRITEBACK_INTERVAL=1h"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResults(*stub, v1::JIRA, "OKRX-1");

  // A round after the link: fresh, confirmed, on the default site.
  ASSERT_TRUE(Eventually([&] { return Fresh(Freshness(*stub)); })) << server.Log();
  v1::TrackerFreshness f = Freshness(*stub);
  EXPECT_EQ(f.tracker(), v1::JIRA);
  EXPECT_EQ(f.site(), "default");
  EXPECT_EQ(f.stale_reason(), "");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  EXPECT_GT(f.confirm_time().seconds(), now - 60);
  EXPECT_LE(f.confirm_time().seconds(), now + 1);

  // Every read of the key result carries it: List (one objective and objectives/-),
  // Update; a metric key result has none.
  for (const char* parent : {"objectives/o1", "objectives/-"}) {
    v1::ListKeyResultsRequest list;
    list.set_parent(parent);
    v1::ListKeyResultsResponse listed;
    ASSERT_TRUE(stub->ListKeyResults(Ctx().get(), list, &listed).ok());
    ASSERT_EQ(listed.key_results_size(), 2) << parent;
    for (const v1::KeyResult& k : listed.key_results()) {
      if (k.name() == kName) {
        ASSERT_EQ(k.work_items().freshness_size(), 1) << parent;
        EXPECT_EQ(k.work_items().freshness(0).tracker(), v1::JIRA);
      } else {
        EXPECT_FALSE(k.has_work_items()) << k.name();
      }
    }
  }
  {
    v1::UpdateKeyResultRequest update;
    update.mutable_key_result()->set_name(kName);
    update.mutable_key_result()->set_title("Ship the checkout epics, all of them");
    update.mutable_update_mask()->add_paths("title");
    v1::KeyResult updated;
    grpc::Status s = stub->UpdateKeyResult(Ctx().get(), update, &updated);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(updated.work_items().freshness_size(), 1);
    EXPECT_EQ(updated.work_items().freshness(0).site(), "default");
  }

  // The metric: Unix seconds of the last success, from the stored status.
  httplib::Client http(absl::StrCat("127.0.0.1:", http_port));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_THAT(metrics->body, ContainsRegex(LastSuccessSeries("jira") + "[1-9]"));
  EXPECT_THAT(metrics->body, HasSubstr("# TYPE okr_tracker_last_success_timestamp_seconds gauge"));

  // The page says so.
  EXPECT_THAT(Page(http_port, "/objectives/o1/keyResults/epics"),
              ContainsRegex("Jira: confirmed (less than a minute|1 minute) ago"));

  // Jira fails every request from now on: after the next round, stale with the reason.
  (*fake)->FailNextRequests(1'000'000, ServerError());
  ASSERT_TRUE(Eventually([&] { return Freshness(*stub).stale(); })) << server.Log();
  f = Freshness(*stub);
  EXPECT_EQ(f.site(), "default");
  EXPECT_THAT(f.stale_reason(), HasSubstr("last reconciliation failed: "));
  ASSERT_TRUE(f.has_confirm_time());  // the last success is kept
  const google::protobuf::Timestamp last_success = f.confirm_time();
  const std::string page = Page(http_port, "/objectives/o1/keyResults/epics");
  EXPECT_THAT(page, HasSubstr("Jira: stale (last reconciliation failed: "));
  EXPECT_THAT(page, HasSubstr("class=\"source stale\""));

  // A webhook about the linked issue is applied: it confirms the item later than the last
  // successful reconciliation; the site stays stale.
  absl::SleepFor(absl::Seconds(1));  // so the webhook's second differs from the success's
  issue.status_category = "done";
  issue.updated = issue.updated + absl::Minutes(5);
  (*fake)->PutIssue(issue);
  testing::WebhookEventOptions options;
  options.site_base_url = (*fake)->base_url();
  options.status_from = "indeterminate";
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/webhooks/jira");
  auto status = testing::SendWebhook(url, testing::IssueUpdatedEvent(issue, options), kSecret,
                                     "delivery-fresh-1");
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(*status, 200) << server.Log();
  ASSERT_TRUE(Eventually([&] {
    f = Freshness(*stub);
    return f.confirm_time().seconds() > last_success.seconds();
  })) << server.Log();
  EXPECT_TRUE(f.stale());
  EXPECT_THAT(f.stale_reason(), HasSubstr("last reconciliation failed: "));
  EXPECT_DOUBLE_EQ(Get(*stub).progress(), 1.0);

  // Healthy again: the next round makes it fresh, and the metric moves.
  (*fake)->FailNextRequests(0);
  ASSERT_TRUE(Eventually([&] { return Fresh(Freshness(*stub)); })) << server.Log();
  EXPECT_EQ(Freshness(*stub).stale_reason(), "");
  EXPECT_GE(Freshness(*stub).confirm_time().seconds(), last_success.seconds());
  EXPECT_THAT(Page(http_port, "/objectives/o1/keyResults/epics"), Not(HasSubstr("Jira: stale")));
  metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, ContainsRegex(LastSuccessSeries("jira") + "[1-9]"));
}

TEST(FreshnessProcessTest, GitLabStaleWhileTheInstanceFailsAndFreshAfter) {
  auto fake = FakeGitLabServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddProject("acme/checkout");
  FakeGitLabIssue issue;
  issue.iid = 1;
  issue.title = "Faster checkout";
  issue.weight = 2;
  ASSERT_TRUE((*fake)->AddIssue("acme/checkout", issue).ok());

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_GITLAB_URL=" + (*fake)->base_url(), "OKR_GITLAB_TOKEN=" + (*fake)->private_token(),
       "OKR_GITLAB_WEBHOOK_TOKEN=hook-token", "OKR_PUBLIC_URL=https://okr.example.test", kInterval,
       "OKR_WRITEBACK_INTERVAL=1h"});
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  CreateKeyResults(*stub, v1::GITLAB, "acme/checkout#1");

  ASSERT_TRUE(Eventually([&] { return Fresh(Freshness(*stub)); })) << server.Log();
  EXPECT_EQ(Freshness(*stub).tracker(), v1::GITLAB);
  EXPECT_EQ(Freshness(*stub).site(), "default");
  httplib::Client http(absl::StrCat("127.0.0.1:", http_port));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, ContainsRegex(LastSuccessSeries("gitlab") + "[1-9]"));

  // Faults are queued: ten 500s fail two rounds (five attempts each), then it heals.
  (*fake)->FailNextRequests(10, 500);
  ASSERT_TRUE(Eventually([&] { return Freshness(*stub).stale(); })) << server.Log();
  EXPECT_THAT(Freshness(*stub).stale_reason(), HasSubstr("last reconciliation failed: "));
  // The reason carries GitLab's JSON error body; the page escapes it.
  EXPECT_THAT(Freshness(*stub).stale_reason(), HasSubstr("{\"message\":"));
  const std::string page = Page(http_port, "/objectives/o1/keyResults/epics");
  EXPECT_THAT(page, HasSubstr("GitLab: stale (last reconciliation failed: "));
  EXPECT_THAT(page, HasSubstr("{&quot;message&quot;:"));
  EXPECT_THAT(page, Not(HasSubstr("{\"message\":")));

  ASSERT_TRUE(Eventually([&] { return Fresh(Freshness(*stub)); })) << server.Log();
}

std::string AdminUrl() {
  const char* url = std::getenv("OKR_TEST_POSTGRES_URL");
  return url == nullptr ? "" : url;
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
  const size_t query = url.find('?');
  const std::string base = url.substr(0, query);
  const std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base.substr(0, base.rfind('/') + 1) + db + rest;
}

// The value of the gauge's jira/default series on the replica's /metrics ("" if absent).
std::string LastSuccessValue(int http_port) {
  httplib::Client http(absl::StrCat("127.0.0.1:", http_port));
  auto metrics = http.Get("/metrics");
  if (!metrics) return "";
  const std::string series =
      "okr_tracker_last_success_timestamp_seconds{site=\"default\",tracker=\"jira\"} ";
  const size_t at = metrics->body.find(series);
  if (at == std::string::npos) return "";
  const size_t begin = at + series.size();
  return metrics->body.substr(begin, metrics->body.find('\n', begin) - begin);
}

TEST(FreshnessReplicasTest, EveryReplicaAnswersFromTheDatabase) {
  if (AdminUrl().empty()) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "OKR_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "OKR_TEST_POSTGRES_URL is not set";
  }
  absl::BitGen bitgen;
  const std::string db = absl::StrCat("okr_freshness_", absl::Uniform<uint32_t>(bitgen));
  ASSERT_EQ(AdminExec("CREATE DATABASE " + db), "");
  struct DropDatabase {
    std::string db;
    ~DropDatabase() { AdminExec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)"); }
  } drop{db};

  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  FakeJiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "One-click checkout";
  (*fake)->PutIssue(issue);
  testing::TempDir dir;
  const std::vector<std::string> env = {"OKR_JIRA_URL=" + (*fake)->base_url(),
                                        "OKR_JIRA_EMAIL=" + (*fake)->options().email,
                                        "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
                                        std::string("OKR_JIRA_WEBHOOK_SECRET=") + kSecret,
                                        kInterval,
                                        "OKR_WRITEBACK_INTERVAL=1h"};
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  std::vector<std::unique_ptr<v1::OkrService::Stub>> stubs;
  std::vector<int> http_ports;
  for (int i = 0; i < 2; ++i) {
    replicas.push_back(std::make_unique<ServerProcess>(
        std::vector<std::string>{"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                                 "--database=" + WithDatabase(AdminUrl(), db)},
        dir.File(absl::StrCat("replica", i, ".log")), env));
    const int grpc_port = replicas.back()->WaitForGrpcPort();
    ASSERT_GT(grpc_port, 0) << replicas.back()->Log();
    http_ports.push_back(replicas.back()->WaitForHttpPort());
    stubs.push_back(v1::OkrService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", grpc_port), grpc::InsecureChannelCredentials())));
  }
  CreateKeyResults(*stubs[0], v1::JIRA, "OKRX-1");

  // One replica reconciles; both report the same confirmation and the same gauge value.
  ASSERT_TRUE(Eventually([&] {
    const v1::TrackerFreshness a = Freshness(*stubs[0]);
    const v1::TrackerFreshness b = Freshness(*stubs[1]);
    return Fresh(a) && Fresh(b) && a.confirm_time().seconds() == b.confirm_time().seconds();
  })) << replicas[0]->Log()
      << replicas[1]->Log();
  ASSERT_TRUE(Eventually([&] {
    const std::string a = LastSuccessValue(http_ports[0]);
    return !a.empty() && a != "0" && a == LastSuccessValue(http_ports[1]);
  })) << LastSuccessValue(http_ports[0])
      << " vs " << LastSuccessValue(http_ports[1]);
  const int running = (absl::StrContains(replicas[0]->Log(), "now runs reconciliation") ? 1 : 0) +
                      (absl::StrContains(replicas[1]->Log(), "now runs reconciliation") ? 1 : 0);
  EXPECT_EQ(running, 1);

  // Jira fails: both replicas turn stale, with the reason the reconciling one recorded.
  (*fake)->FailNextRequests(1'000'000, ServerError());
  ASSERT_TRUE(Eventually([&] {
    return Freshness(*stubs[0]).stale() && Freshness(*stubs[1]).stale();
  })) << replicas[0]->Log();
  EXPECT_THAT(Freshness(*stubs[1]).stale_reason(), HasSubstr("last reconciliation failed: "));
  (*fake)->FailNextRequests(0);
}

}  // namespace
}  // namespace okr
