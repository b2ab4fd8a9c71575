// gRPC handlers never block on trackers (issue #15), through the real binary: while a
// fake Jira answers every request after 3 s and a dozen SyncKeyResult calls wait for it
// (and for each other: one reconciliation at a time), ordinary calls on the same server
// are answered at once, because SyncKeyResult runs on workers of its own and not on the
// gRPC callback threads every call shares.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::ServerProcess;

std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 20) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

TEST(BlockingCallsProcessTest, SlowTrackerHoldsSyncKeyResultButNotOtherCalls) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  FakeJiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "One-click checkout";
  (*fake)->PutIssue(issue);

  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db"), "--sqlite-sync=normal"},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token,
       "OKR_JIRA_WEBHOOK_SECRET=blocking-calls-secret", "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=1h"});
  const int grpc_port = server.WaitForGrpcPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::OkrService::NewStub(channel);

  v1::CreateTeamRequest team;
  team.set_team_id("checkout");
  team.mutable_team()->set_display_name("Checkout");
  v1::Team t;
  ASSERT_TRUE(stub->CreateTeam(Ctx().get(), team, &t).ok());
  v1::CreateCycleRequest cycle;
  cycle.set_cycle_id("now");
  cycle.mutable_cycle()->set_display_name("Now");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  cycle.mutable_cycle()->mutable_start_time()->set_seconds(now - 86400);
  cycle.mutable_cycle()->mutable_end_time()->set_seconds(now + 86400 * 89);
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

  (*fake)->SetResponseDelay(absl::Seconds(3));
  constexpr int kSyncs = 12;
  absl::Mutex mu;
  int syncs_ok = 0;
  std::vector<std::thread> syncs;
  for (int i = 0; i < kSyncs; ++i) {
    syncs.emplace_back([&] {
      v1::SyncKeyResultRequest sync;
      sync.set_name("objectives/o1/keyResults/epics");
      v1::KeyResult out;
      grpc::Status s = stub->SyncKeyResult(Ctx(120).get(), sync, &out);
      absl::MutexLock lock(&mu);
      // A sync waits for the tracker (OK) or, beyond the waiting room, is refused at once.
      if (s.ok() || s.error_code() == grpc::StatusCode::UNAVAILABLE) ++syncs_ok;
    });
  }
  absl::SleepFor(absl::Milliseconds(500));  // the syncs are in and waiting on the tracker

  // Meanwhile every other call is answered without waiting for any of them.
  absl::Duration slowest = absl::ZeroDuration();
  for (int i = 0; i < 20; ++i) {
    v1::GetTeamRequest get;
    get.set_name("teams/checkout");
    v1::Team got;
    const absl::Time start = absl::Now();
    grpc::Status s = stub->GetTeam(Ctx().get(), get, &got);
    slowest = std::max(slowest, absl::Now() - start);
    if (!s.ok()) {
      ADD_FAILURE() << "GetTeam while syncs wait: " << s.error_message();
      break;
    }
  }
  // Each sync holds the tracker for at least 3 s, so a handler stuck behind them would take
  // seconds; 1 s is far above what the answer costs.
  EXPECT_LT(slowest, absl::Seconds(1)) << "slowest GetTeam while syncs wait";
  (*fake)->SetResponseDelay(absl::ZeroDuration());
  for (std::thread& th : syncs) th.join();
  EXPECT_EQ(syncs_ok, kSyncs) << server.Log();
}

}  // namespace
}  // namespace okr
