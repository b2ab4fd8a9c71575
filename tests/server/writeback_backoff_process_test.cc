// Write-back backoff through the okr-server binary against the fake Jira: 150 key results,
// each linked to an issue whose remote-link writes Jira refuses with 403 (the account may
// not link issues there), queued ahead of a healthy key result. The failing items back off
// (permanently failing: retried hourly), so they neither hold the head of the queue nor
// cost a request per run: the healthy issue gets its remote link in the next write-back run,
// /metrics counts the 150 failing items, and the log names each of them once.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
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

constexpr int kFailing = 150;
constexpr char kLogLine[] = "write-back failing permanently tracker=jira key=";

std::string FailingKey(int i) { return absl::StrCat("DENY-", i + 1); }

void CreateKeyResult(v1::OkrService::Stub& stub, const std::string& objective,
                     const std::string& id) {
  v1::CreateKeyResultRequest kr;
  kr.set_parent("objectives/" + objective);
  kr.set_key_result_id(id);
  kr.mutable_key_result()->set_title(absl::StrCat("Key result ", id));
  kr.mutable_key_result()->mutable_work_items();
  v1::KeyResult k;
  grpc::Status status = stub.CreateKeyResult(Ctx().get(), kr, &k);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

void Link(v1::OkrService::Stub& stub, const std::string& key_result, const std::string& key) {
  v1::LinkWorkItemRequest link;
  link.set_parent(key_result);
  link.mutable_work_item()->set_tracker(v1::JIRA);
  link.mutable_work_item()->set_key(key);
  v1::WorkItemLink l;
  grpc::Status status = stub.LinkWorkItem(Ctx().get(), link, &l);
  ASSERT_TRUE(status.ok()) << key << ": " << status.error_message();
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

TEST(WriteBackBackoffProcessTest, HealthyIssueWrittenNextRunBehind150PermanentlyFailingOnes) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  for (int i = 0; i < kFailing; ++i) {
    FakeJiraIssue issue;
    issue.id = absl::StrCat(20000 + i);
    issue.key = FailingKey(i);
    issue.summary = absl::StrCat("Issue ", i);
    (*fake)->PutIssue(issue);
    (*fake)->DenyRemoteLinkWrites(issue.key);
  }
  FakeJiraIssue healthy;
  healthy.id = "30000";
  healthy.key = "OKRX-1";
  healthy.summary = "Healthy issue";
  (*fake)->PutIssue(healthy);

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token, "OKR_JIRA_WEBHOOK_SECRET=secret",
       "OKR_PUBLIC_URL=https://okr.example.test", "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=200ms"});
  const int grpc_port = server.WaitForGrpcPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(http_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));

  v1::CreateTeamRequest team;
  team.set_team_id("t");
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
  for (const char* id : {"failing", "healthy"}) {
    v1::CreateObjectiveRequest obj;
    obj.set_objective_id(id);
    obj.mutable_objective()->set_title(absl::StrCat("Objective ", id));
    obj.mutable_objective()->set_team("teams/t");
    obj.mutable_objective()->set_cycle("cycles/now");
    v1::Objective o;
    ASSERT_TRUE(stub->CreateObjective(Ctx().get(), obj, &o).ok());
  }
  // 150 key results, one refused issue each: 150 write-back queue entries, more than the
  // 100 a run reads.
  for (int i = 0; i < kFailing; ++i) {
    ASSERT_NO_FATAL_FAILURE(CreateKeyResult(*stub, "failing", absl::StrCat("kr", i)));
    ASSERT_NO_FATAL_FAILURE(
        Link(*stub, absl::StrCat("objectives/failing/keyResults/kr", i), FailingKey(i)));
  }
  auto denied_total = [&] {
    int64_t n = 0;
    for (int i = 0; i < kFailing; ++i) n += (*fake)->DeniedRemoteLinkWrites(FailingKey(i));
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return denied_total() >= kFailing; })) << server.Log();

  // The healthy key result is queued behind the 150 failing entries.
  ASSERT_NO_FATAL_FAILURE(CreateKeyResult(*stub, "healthy", "kr"));
  const absl::Time linked = absl::Now();
  ASSERT_NO_FATAL_FAILURE(Link(*stub, "objectives/healthy/keyResults/kr", "OKRX-1"));
  // Written in the next write-back run. Before the fix the 150 failing entries were retried
  // at the head of the queue every run and the healthy one, 151st, was never reached; now
  // they are deferred by an hour, so the next run (at most one 200 ms interval away, plus the
  // run itself) reaches it. The poll bound is 2 s (10 intervals) to absorb a loaded CI
  // machine; the structural check below is the exact one: no failing item was tried again
  // before the healthy one was written.
  ASSERT_TRUE(Eventually([&] { return !(*fake)->RemoteLinks("OKRX-1").empty(); }, absl::Seconds(2),
                         absl::Milliseconds(10)))
      << "healthy issue not written within 2 s; denied writes so far: " << denied_total() << "\n"
      << server.Log();
  const absl::Duration took = absl::Now() - linked;
  std::cout << "healthy remote link written " << absl::FormatDuration(took)
            << " after LinkWorkItem returned\n";
  EXPECT_EQ(denied_total(), kFailing);  // each failing item tried once, none again since
  EXPECT_EQ((*fake)->RemoteLinks("OKRX-1")[0].global_id,
            "okr-service:objectives/healthy/keyResults/kr");

  // Ten more intervals: no failing item is retried (permanent: next attempt in an hour).
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(denied_total(), kFailing);
  for (int i = 0; i < kFailing; ++i) {
    EXPECT_EQ((*fake)->DeniedRemoteLinkWrites(FailingKey(i)), 1) << FailingKey(i);
  }

  // /metrics counts the failing items by reason.
  httplib::Client http(absl::StrCat("http://127.0.0.1:", http_port));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_THAT(
      metrics->body,
      HasSubstr("okr_writeback_failing_items{reason=\"permission_denied\",tracker=\"jira\"} "
                "150"));
  EXPECT_THAT(metrics->body,
              HasSubstr("okr_writeback_failing_items{reason=\"transient\",tracker=\"jira\"} 0"));

  // The log names each failing item once, not once per run.
  const std::string log = server.Log();
  EXPECT_EQ(CountOf(log, kLogLine), kFailing);
  for (int i = 0; i < kFailing; ++i) {
    EXPECT_EQ(CountOf(log, absl::StrCat(kLogLine, FailingKey(i), " ")), 1) << FailingKey(i);
  }
  EXPECT_THAT(log, HasSubstr(absl::StrCat(kLogLine, FailingKey(0), " code=PERMISSION_DENIED")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr((*fake)->options().api_token)));
}

}  // namespace
}  // namespace okr
