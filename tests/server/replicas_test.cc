// Several okr-server replicas on one PostgreSQL database: writes through one are visible
// through the other at once, concurrent writes through both lose nothing, and exactly one
// replica runs the once-per-cluster loops, with the other taking over when it dies.
// Needs OKR_TEST_POSTGRES_URL (set by .ci/start-postgres.sh); under CI=true its absence
// is a failure, elsewhere the tests are skipped.
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::ReadFile;
using ::okr::testing::ServerProcess;

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

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (AdminUrl().empty()) {
      if (InCi()) FAIL() << "OKR_TEST_POSTGRES_URL is not set in CI";
      GTEST_SKIP() << "OKR_TEST_POSTGRES_URL is not set";
    }
    db_ = absl::StrCat("okr_replicas_", absl::Uniform<uint32_t>(bitgen_));
    ASSERT_EQ(AdminExec("CREATE DATABASE " + db_), "");
    url_ = WithDatabase(AdminUrl(), db_);
  }
  void TearDown() override {
    servers_.clear();
    if (!db_.empty()) AdminExec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }

  // Starts a replica; returns its index.
  size_t StartReplica(std::vector<std::string> env = {}) {
    const size_t i = servers_.size();
    servers_.push_back(std::make_unique<ServerProcess>(
        std::vector<std::string>{"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                                 "--database=" + url_},
        dir_.File(absl::StrCat("replica", i, ".log")), std::move(env)));
    return i;
  }

  std::unique_ptr<v1::OkrService::Stub> Connect(size_t replica) {
    int port = servers_[replica]->WaitForGrpcPort();
    EXPECT_GT(port, 0) << servers_[replica]->Log();
    return v1::OkrService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  void CreateBasics(v1::OkrService::Stub& stub) {
    v1::CreateTeamRequest team;
    team.set_team_id("t");
    team.mutable_team()->set_display_name("T");
    v1::Team t;
    ASSERT_TRUE(stub.CreateTeam(Ctx().get(), team, &t).ok());
    v1::CreateCycleRequest cycle;
    cycle.set_cycle_id("c");
    cycle.mutable_cycle()->set_display_name("C");
    cycle.mutable_cycle()->mutable_start_time()->set_seconds(1'700'000'000);
    cycle.mutable_cycle()->mutable_end_time()->set_seconds(1'900'000'000);
    v1::Cycle c;
    ASSERT_TRUE(stub.CreateCycle(Ctx().get(), cycle, &c).ok());
    v1::CreateObjectiveRequest obj;
    obj.set_objective_id("o");
    obj.mutable_objective()->set_title("O");
    obj.mutable_objective()->set_team("teams/t");
    obj.mutable_objective()->set_cycle("cycles/c");
    v1::Objective o;
    ASSERT_TRUE(stub.CreateObjective(Ctx().get(), obj, &o).ok());
    v1::CreateKeyResultRequest kr;
    kr.set_parent("objectives/o");
    kr.set_key_result_id("k");
    kr.mutable_key_result()->set_title("K");
    kr.mutable_key_result()->mutable_metric()->set_start_value(0);
    kr.mutable_key_result()->mutable_metric()->set_target_value(1000);
    v1::KeyResult k;
    ASSERT_TRUE(stub.CreateKeyResult(Ctx().get(), kr, &k).ok());
  }

  absl::BitGen bitgen_;
  testing::TempDir dir_;
  std::string db_;
  std::string url_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

TEST_F(ReplicasTest, CheckInThroughOneIsVisibleThroughTheOtherAtOnce) {
  StartReplica();
  StartReplica();
  auto a = Connect(0);
  auto b = Connect(1);
  CreateBasics(*a);
  v1::CreateCheckInRequest req;
  req.set_parent("objectives/o/keyResults/k");
  req.mutable_check_in()->set_value(250);
  v1::CheckIn out;
  ASSERT_TRUE(a->CreateCheckIn(Ctx().get(), req, &out).ok());
  v1::GetKeyResultRequest get;
  get.set_name("objectives/o/keyResults/k");
  v1::KeyResult kr;
  ASSERT_TRUE(b->GetKeyResult(Ctx().get(), get, &kr).ok());
  EXPECT_DOUBLE_EQ(kr.progress(), 0.25);
  v1::GetObjectiveRequest get_o;
  get_o.set_name("objectives/o");
  v1::Objective o;
  ASSERT_TRUE(b->GetObjective(Ctx().get(), get_o, &o).ok());
  EXPECT_DOUBLE_EQ(o.progress(), 0.25);
}

TEST_F(ReplicasTest, ConcurrentCheckInsAndClosuresThroughBothLoseNothing) {
  StartReplica();
  StartReplica();
  std::vector<std::unique_ptr<v1::OkrService::Stub>> stubs;
  stubs.push_back(Connect(0));
  stubs.push_back(Connect(1));
  CreateBasics(*stubs[0]);
  // A work-items key result with 400 linked items, closed 200 through each replica.
  v1::CreateKeyResultRequest create;
  create.set_parent("objectives/o");
  create.set_key_result_id("items");
  create.mutable_key_result()->set_title("Items");
  create.mutable_key_result()->mutable_work_items();
  v1::KeyResult items;
  ASSERT_TRUE(stubs[0]->CreateKeyResult(Ctx().get(), create, &items).ok());
  constexpr int kPerReplica = 200;
  for (int i = 1; i <= 2 * kPerReplica; ++i) {
    v1::LinkWorkItemRequest link;
    link.set_parent("objectives/o/keyResults/items");
    link.mutable_work_item()->set_tracker(v1::JIRA);
    link.mutable_work_item()->set_key(absl::StrCat("OKRX-", i));
    v1::WorkItemLink out;
    ASSERT_TRUE(stubs[i % 2]->LinkWorkItem(Ctx().get(), link, &out).ok());
  }
  v1::GetKeyResultRequest get;
  get.set_name("objectives/o/keyResults/k");
  v1::KeyResult before;
  ASSERT_TRUE(stubs[0]->GetKeyResult(Ctx().get(), get, &before).ok());

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  constexpr int kThreadsPerReplica = 4;
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < kThreadsPerReplica; ++t) {
      threads.emplace_back([&, r, t] {
        for (int i = t; i < kPerReplica; i += kThreadsPerReplica) {
          v1::CreateCheckInRequest req;
          req.set_parent("objectives/o/keyResults/k");
          req.mutable_check_in()->set_value(r * 1000 + i);
          v1::CheckIn out;
          if (!stubs[r]->CreateCheckIn(Ctx().get(), req, &out).ok()) failures++;
          v1::UpdateWorkItemRequest close;
          close.mutable_work_item()->set_tracker(v1::JIRA);
          close.mutable_work_item()->set_key(absl::StrCat("OKRX-", r * kPerReplica + i + 1));
          close.mutable_work_item()->set_done(true);
          close.mutable_update_mask()->add_paths("done");
          v1::WorkItem item;
          if (!stubs[r]->UpdateWorkItem(Ctx().get(), close, &item).ok()) failures++;
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  v1::GetKeyResultRequest get_items;
  get_items.set_name("objectives/o/keyResults/items");
  v1::KeyResult closed;
  ASSERT_TRUE(stubs[1]->GetKeyResult(Ctx().get(), get_items, &closed).ok());
  EXPECT_EQ(closed.work_items().done_count(), 2 * kPerReplica);
  EXPECT_DOUBLE_EQ(closed.progress(), 1.0);

  // Every check-in is stored once, and the key result's revision moved once per check-in.
  int count = 0;
  std::string token;
  do {
    v1::ListCheckInsRequest list;
    list.set_parent("objectives/o/keyResults/k");
    list.set_page_size(1000);
    list.set_page_token(token);
    v1::ListCheckInsResponse resp;
    ASSERT_TRUE(stubs[0]->ListCheckIns(Ctx().get(), list, &resp).ok());
    count += resp.check_ins_size();
    token = resp.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(count, 2 * kPerReplica);
  v1::KeyResult after;
  ASSERT_TRUE(stubs[1]->GetKeyResult(Ctx().get(), get, &after).ok());
  auto revision = [](const std::string& etag) { return std::stoll(etag.substr(1)); };
  EXPECT_EQ(revision(after.etag()) - revision(before.etag()), 2 * kPerReplica);
  // The objective rolls up both key results: (last metric value / 1000 + 1) / 2.
  v1::GetObjectiveRequest get_o;
  get_o.set_name("objectives/o");
  v1::Objective o;
  ASSERT_TRUE(stubs[0]->GetObjective(Ctx().get(), get_o, &o).ok());
  EXPECT_DOUBLE_EQ(o.progress(), (after.progress() + 1.0) / 2);
}

TEST_F(ReplicasTest, OneReplicaRunsTheClusterLoopsAndTheOtherTakesOver) {
  // Tracker sync enabled against an unreachable Jira: the loops run (and fail) harmlessly.
  std::vector<std::string> env = {
      "OKR_JIRA_URL=http://127.0.0.1:9", "OKR_JIRA_EMAIL=bot@example.test",
      "OKR_JIRA_API_TOKEN=token",        "OKR_JIRA_WEBHOOK_SECRET=secret",
      "OKR_RECONCILE_INTERVAL=1s",       "OKR_WRITEBACK_INTERVAL=1s"};
  StartReplica(env);
  StartReplica(env);
  ASSERT_GT(servers_[0]->WaitForGrpcPort(), 0) << servers_[0]->Log();
  ASSERT_GT(servers_[1]->WaitForGrpcPort(), 0) << servers_[1]->Log();
  const std::string kLeader = "now runs reconciliation and write-back";
  auto leaders = [&] {
    std::vector<size_t> out;
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (servers_[i]->Log().find(kLeader) != std::string::npos) out.push_back(i);
    }
    return out;
  };
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (leaders().empty() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(100));
  ASSERT_EQ(leaders().size(), 1u);
  // Stays one leader for a few rounds.
  absl::SleepFor(absl::Seconds(3));
  ASSERT_EQ(leaders().size(), 1u);
  const size_t first = leaders()[0];
  const size_t other = 1 - first;
  servers_[first]->Signal(SIGKILL);
  servers_[first]->Wait();
  deadline = absl::Now() + absl::Seconds(30);
  while (servers_[other]->Log().find(kLeader) == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(servers_[other]->Log().find(kLeader), std::string::npos)
      << "the surviving replica did not take over within 30 s";
}

// Runs `command` through the shell and returns its stdout ("" on failure).
std::string RunShell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  pclose(pipe);
  return out;
}

// The value of `export NAME=...` in temp_postgres.sh output.
std::string ExportedValue(const std::string& text, const std::string& name) {
  const std::string marker = "export " + name + "=";
  size_t pos = text.find(marker);
  if (pos == std::string::npos) return "";
  size_t end = text.find('\n', pos);
  std::string value = text.substr(pos + marker.size(), end - pos - marker.size());
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

std::string HttpStatus(int port, const std::string& path) {
  return RunShell(absl::StrCat(
      "curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:", port, path));
}

// PostgreSQL stopped and restarted under a running server (a private database server, so
// parallel tests are not disturbed): RPCs fail fast with UNAVAILABLE and /readyz answers
// 503 while it is down; the service recovers by itself; nothing acknowledged is lost.
TEST(DatabaseOutageTest, ServiceReportsUnavailableAndRecoversWithoutRestart) {
  const char* ctl = std::getenv("OKR_TEST_POSTGRES_CTL");
  if (ctl == nullptr || *ctl == '\0') {
    if (InCi()) FAIL() << "OKR_TEST_POSTGRES_CTL is not set in CI";
    GTEST_SKIP() << "OKR_TEST_POSTGRES_CTL is not set";
  }
  const std::string started = RunShell(absl::StrCat(ctl, " start 2>/dev/null"));
  const std::string url = ExportedValue(started, "OKR_TEST_POSTGRES_URL");
  const std::string dir = ExportedValue(started, "OKR_TEST_POSTGRES_DIR");
  ASSERT_FALSE(url.empty()) << started;
  struct Cleanup {
    std::string ctl, dir;
    ~Cleanup() { RunShell(absl::StrCat(ctl, " stop ", dir, " 2>/dev/null")); }
  } cleanup{ctl, dir};

  testing::TempDir tmp;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--database=" + url},
      tmp.File("server.log"));
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  auto stub = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                          grpc::InsecureChannelCredentials()));
  auto ctx = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  };
  v1::CreateTeamRequest team;
  team.set_team_id("before");
  team.mutable_team()->set_display_name("Acknowledged before the outage");
  v1::Team t;
  ASSERT_TRUE(stub->CreateTeam(ctx().get(), team, &t).ok());
  EXPECT_EQ(HttpStatus(http_port, "/readyz"), "200");

  ASSERT_NE(RunShell(absl::StrCat(ctl, " ctl ", dir, " stop 2>&1; echo done")), "");
  v1::GetTeamRequest get;
  get.set_name("teams/before");
  const absl::Time start = absl::Now();
  grpc::Status down = stub->GetTeam(ctx().get(), get, &t);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15)) << "the RPC did not fail fast";
  EXPECT_EQ(HttpStatus(http_port, "/readyz"), "503");
  EXPECT_EQ(HttpStatus(http_port, "/healthz"), "200");  // the process itself is alive

  ASSERT_NE(RunShell(absl::StrCat(ctl, " ctl ", dir, " start 2>&1; echo done")), "");
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  grpc::Status back;
  do {
    back = stub->GetTeam(ctx().get(), get, &t);
    if (!back.ok()) absl::SleepFor(absl::Milliseconds(200));
  } while (!back.ok() && absl::Now() < deadline);
  ASSERT_TRUE(back.ok()) << "no recovery: " << back.error_message();
  EXPECT_EQ(t.display_name(), "Acknowledged before the outage");
  EXPECT_EQ(HttpStatus(http_port, "/readyz"), "200");
}

}  // namespace
}  // namespace okr
