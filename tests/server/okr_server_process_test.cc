// Process-level tests of the okr-server binary: startup, --help, configuration errors,
// clean SIGTERM shutdown, and no acknowledged check-in lost to kill -9 (one writer, and
// many at once).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
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

using ::testing::HasSubstr;

class ServerProcessTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args() {
    return {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
            "--database=sqlite:" + dir_.File("okr.db")};
  }
  std::unique_ptr<v1::OkrService::Stub> Connect(int port) {
    return v1::OkrService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
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
    kr.mutable_key_result()->mutable_metric()->set_target_value(1'000'000);
    v1::KeyResult k;
    ASSERT_TRUE(stub.CreateKeyResult(Ctx().get(), kr, &k).ok());
  }

  // The values of every check-in stored on objectives/o/keyResults/k.
  void StoredValues(v1::OkrService::Stub& stub, std::set<int>& stored) {
    std::string token;
    do {
      v1::ListCheckInsRequest req;
      req.set_parent("objectives/o/keyResults/k");
      req.set_page_size(1000);
      req.set_page_token(token);
      v1::ListCheckInsResponse resp;
      ASSERT_TRUE(stub.ListCheckIns(Ctx().get(), req, &resp).ok());
      for (const v1::CheckIn& c : resp.check_ins()) stored.insert(static_cast<int>(c.value()));
      token = resp.next_page_token();
    } while (!token.empty());
  }

  testing::TempDir dir_;
};

TEST_F(ServerProcessTest, Help_ListsEverySettingAndExitsZero) {
  ServerProcess p({"--help"}, dir_.File("help.log"));
  EXPECT_EQ(p.Wait(), 0);
  for (const char* s : {"--grpc-address", "OKR_GRPC_ADDRESS", "--http-address", "--database"}) {
    EXPECT_THAT(p.Log(), HasSubstr(s));
  }
}

TEST_F(ServerProcessTest, UnknownFlag_StopsWithOneClearLine) {
  ServerProcess p({"--no-such-flag=1"}, dir_.File("bad.log"));
  EXPECT_EQ(p.Wait(), 2);
  EXPECT_THAT(p.Log(), HasSubstr("unknown flag --no-such-flag"));
}

TEST_F(ServerProcessTest, BadConfigFile_StopsWithOneLineNamingFileAndField) {
  const std::string path = dir_.File("connectors.json");
  {
    std::ofstream out(path);
    out << R"({"jira_sites": [{"name": "eu", "projects": ["OPS"]}]})";
  }
  ServerProcess p({"--config=" + path}, dir_.File("bad-config.log"));
  EXPECT_EQ(p.Wait(), 2);
  const std::string log = p.Log();
  EXPECT_EQ(log, absl::StrCat("okr-server: configuration error: ", path,
                              ": jira_sites[0].url: required\n"));

  // Not JSON at all, named through OKR_CONFIG.
  {
    std::ofstream out(path);
    out << "jira_sites: []";
  }
  ServerProcess q({}, dir_.File("bad-json.log"), {"OKR_CONFIG=" + path});
  EXPECT_EQ(q.Wait(), 2);
  const std::string json_log = q.Log();
  EXPECT_THAT(json_log, HasSubstr(path + ": not valid JSON: "));
  EXPECT_EQ(std::count(json_log.begin(), json_log.end(), '\n'), 1) << json_log;
}

TEST_F(ServerProcessTest, Sigterm_ShutsDownCleanly) {
  ServerProcess p(Args(), dir_.File("server.log"));
  int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  EXPECT_THAT(p.Log(), HasSubstr("setting grpc-address=127.0.0.1:0"));
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.Log();
  EXPECT_THAT(p.Log(), HasSubstr("stopped"));
}

TEST_F(ServerProcessTest, KillNine_LosesNoAcknowledgedCheckIn) {
  std::set<int> acknowledged;
  {
    ServerProcess p(Args(), dir_.File("server1.log"));
    int port = p.WaitForGrpcPort();
    ASSERT_GT(port, 0) << p.Log();
    auto stub = Connect(port);
    CreateBasics(*stub);

    std::atomic<int> acked{0};
    std::mutex mu;
    std::thread writer([&] {
      for (int i = 1; i <= 100000; ++i) {
        v1::CreateCheckInRequest req;
        req.set_parent("objectives/o/keyResults/k");
        req.mutable_check_in()->set_value(i);
        v1::CheckIn out;
        if (!stub->CreateCheckIn(Ctx().get(), req, &out).ok()) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(i);
        }
        acked.fetch_add(1);
      }
    });
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (acked.load() < 200 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    p.Signal(SIGKILL);  // mid-stream
    writer.join();
    EXPECT_EQ(p.Wait(), 128 + SIGKILL);
  }
  ASSERT_GE(acknowledged.size(), 200u);

  ServerProcess p(Args(), dir_.File("server2.log"));
  int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  std::set<int> stored;
  ASSERT_NO_FATAL_FAILURE(StoredValues(*stub, stored));
  for (int v : acknowledged) ASSERT_TRUE(stored.count(v)) << "lost acknowledged check-in " << v;
  // The key result holds the last stored value.
  v1::GetKeyResultRequest get;
  get.set_name("objectives/o/keyResults/k");
  v1::KeyResult kr;
  ASSERT_TRUE(stub->GetKeyResult(Ctx().get(), get, &kr).ok());
  EXPECT_EQ(static_cast<int>(kr.metric().current_value()), *stored.rbegin());
}

// Many writers at once: their check-ins are committed in shared transactions (group
// commit) by the writer threads of the server; a kill -9 in the middle of such batches
// loses none that was acknowledged, and the key result holds one of the stored values.
TEST_F(ServerProcessTest, KillNine_DuringConcurrentCheckInBurst_LosesNoAcknowledgedCheckIn) {
  constexpr int kWriters = 16;
  std::set<int> acknowledged;
  {
    ServerProcess p(Args(), dir_.File("server1.log"));
    int port = p.WaitForGrpcPort();
    ASSERT_GT(port, 0) << p.Log();
    auto stub = Connect(port);
    CreateBasics(*stub);

    std::atomic<int> acked{0};
    std::mutex mu;
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 1; i <= 20000; ++i) {
          const int value = i * kWriters + w;  // unique across writers
          v1::CreateCheckInRequest req;
          req.set_parent("objectives/o/keyResults/k");
          req.mutable_check_in()->set_value(value);
          v1::CheckIn out;
          if (!stub->CreateCheckIn(Ctx().get(), req, &out).ok()) return;
          {
            std::lock_guard<std::mutex> lock(mu);
            acknowledged.insert(value);
          }
          acked.fetch_add(1);
        }
      });
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (acked.load() < 400 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    p.Signal(SIGKILL);  // while every writer has a call in flight
    for (std::thread& t : writers) t.join();
    EXPECT_EQ(p.Wait(), 128 + SIGKILL);
  }
  ASSERT_GE(acknowledged.size(), 400u);

  ServerProcess p(Args(), dir_.File("server2.log"));
  int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  std::set<int> stored;
  ASSERT_NO_FATAL_FAILURE(StoredValues(*stub, stored));
  for (int v : acknowledged) ASSERT_TRUE(stored.count(v)) << "lost acknowledged check-in " << v;
  v1::GetKeyResultRequest get;
  get.set_name("objectives/o/keyResults/k");
  v1::KeyResult kr;
  ASSERT_TRUE(stub->GetKeyResult(Ctx().get(), get, &kr).ok());
  EXPECT_TRUE(stored.count(static_cast<int>(kr.metric().current_value())))
      << "the key result's value " << kr.metric().current_value() << " is no stored check-in";
}

}  // namespace
}  // namespace okr
