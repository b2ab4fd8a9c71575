// Liveness and readiness of the real okr-server binary: the gRPC health service "" and
// /healthz follow the process only; the health service name okr.v1.OkrService and /readyz
// follow the database, including writes that fail because the database is full. Tested
// with a PostgreSQL server stopped for 60 s under a running okr-server (needs
// OKR_TEST_POSTGRES_CTL, set by .ci/start-postgres.sh; under CI=true its absence is a
// failure, elsewhere that test is skipped) and with a SQLite file whose size limit
// (--sqlite-max-size-mb) is reached, then freed by another connection.
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::okr::testing::ServerProcess;

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

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

struct HttpAnswer {
  std::string code;  // "200", "503", "000" when nothing answered
  std::string body;
};

HttpAnswer HttpGet(int port, const std::string& path) {
  const std::string out = RunShell(
      absl::StrCat("curl -s -w '\\n%{http_code}' --max-time 10 http://127.0.0.1:", port, path));
  const size_t nl = out.rfind('\n');
  if (nl == std::string::npos) return {out, ""};
  return {out.substr(nl + 1), out.substr(0, nl)};
}

// The gRPC health status of `service` ("" is the whole server), or the error's code name.
std::string HealthOf(grpc::health::v1::Health::Stub& health, const std::string& service) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = health.Check(&ctx, request, &response);
  if (!status.ok()) return absl::StrCat("error ", status.error_code());
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

// Polls `condition` every 200 ms until it holds or `timeout` passes (the server's health
// thread checks the database every 2 s); returns whether it held.
template <typename Condition>
bool Eventually(Condition condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(200));
  }
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return c;
}

// PostgreSQL (a private server, so parallel tests are not disturbed) stopped for 60 s
// under a running okr-server: liveness stays SERVING / 200 all along, readiness turns
// NOT_SERVING / 503 naming the database, and both are SERVING / 200 again once
// PostgreSQL is back, without restarting okr-server.
TEST(ProbesTest, PostgresStoppedFor60s_LivenessStaysServing_ReadinessFailsAndRecovers) {
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
  ASSERT_GT(http_port, 0) << server.Log();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto stub = v1::OkrService::NewStub(channel);

  EXPECT_EQ(HealthOf(*health, ""), "SERVING");
  EXPECT_EQ(HealthOf(*health, "okr.v1.OkrService"), "SERVING");
  EXPECT_EQ(HttpGet(http_port, "/healthz").code, "200");
  EXPECT_EQ(HttpGet(http_port, "/readyz").code, "200");

  ASSERT_NE(RunShell(absl::StrCat(ctl, " ctl ", dir, " stop 2>&1; echo done")), "");
  const absl::Time stopped = absl::Now();
  EXPECT_TRUE(Eventually([&] { return HealthOf(*health, "okr.v1.OkrService") == "NOT_SERVING"; },
                         absl::Seconds(20)))
      << server.Log();
  // For the whole outage: liveness never flips, readiness stays failed.
  int rounds = 0;
  while (absl::Now() - stopped < absl::Seconds(60)) {
    ASSERT_EQ(HealthOf(*health, ""), "SERVING") << "after " << (absl::Now() - stopped);
    ASSERT_EQ(HttpGet(http_port, "/healthz").code, "200") << "after " << (absl::Now() - stopped);
    ASSERT_EQ(HealthOf(*health, "okr.v1.OkrService"), "NOT_SERVING");
    const HttpAnswer ready = HttpGet(http_port, "/readyz");
    ASSERT_EQ(ready.code, "503") << ready.body;
    EXPECT_TRUE(absl::StrContains(ready.body, "database: ")) << ready.body;
    absl::SleepFor(absl::Seconds(2));
    ++rounds;
  }
  EXPECT_GE(rounds, 10);

  ASSERT_NE(RunShell(absl::StrCat(ctl, " ctl ", dir, " start 2>&1; echo done")), "");
  EXPECT_TRUE(Eventually([&] { return HealthOf(*health, "okr.v1.OkrService") == "SERVING"; },
                         absl::Seconds(30)))
      << server.Log();
  EXPECT_TRUE(
      Eventually([&] { return HttpGet(http_port, "/readyz").code == "200"; }, absl::Seconds(30)));
  EXPECT_EQ(HealthOf(*health, ""), "SERVING");
  EXPECT_EQ(HttpGet(http_port, "/healthz").code, "200");
  // The same process serves writes again.
  v1::CreateTeamRequest team;
  team.set_team_id("after");
  team.mutable_team()->set_display_name("Written after the outage");
  v1::Team t;
  grpc::Status written = stub->CreateTeam(Ctx().get(), team, &t);
  EXPECT_TRUE(written.ok()) << written.error_message();
  EXPECT_TRUE(absl::StrContains(server.Log(), "database not ready")) << server.Log();
  EXPECT_TRUE(absl::StrContains(server.Log(), "database ready again")) << server.Log();
}

// Runs `sql` on its own connection to the SQLite file; "" on success, else the error.
std::string SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
  } else {
    sqlite3_busy_timeout(db, 10000);
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      error = message != nullptr ? message : "failed";
    }
    sqlite3_free(message);
  }
  sqlite3_close(db);
  return error;
}

// A SQLite database that cannot grow (its size limit, --sqlite-max-size-mb, is below its
// size): a write that needs space fails UNAVAILABLE "database is full: ..." (SQLITE_FULL),
// readiness fails naming it while liveness stays SERVING, and once space is freed (by
// another connection dropping a ballast table) readiness and writes recover by
// themselves.
TEST(ProbesTest, SqliteFull_WritesUnavailable_ReadinessFailsUntilSpaceIsFree) {
  testing::TempDir tmp;
  const std::string db = tmp.File("okr.db");
  // 1 MiB of ballast: the file is larger than the 1 MiB limit before the server starts.
  ASSERT_EQ(SqliteExec(db,
                       "PRAGMA journal_mode=WAL; CREATE TABLE test_ballast (b BLOB); "
                       "INSERT INTO test_ballast VALUES (zeroblob(1048576));"),
            "");
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--database=sqlite:" + db,
       "--sqlite-sync=normal", "--sqlite-max-size-mb=1"},
      tmp.File("server.log"));
  const int grpc_port = server.WaitForGrpcPort();
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(grpc_port, 0) << server.Log();
  ASSERT_GT(http_port, 0) << server.Log();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto stub = v1::OkrService::NewStub(channel);
  EXPECT_EQ(HttpGet(http_port, "/readyz").code, "200");
  EXPECT_EQ(HealthOf(*health, "okr.v1.OkrService"), "SERVING");

  // Teams until the pages the file has are used up.
  grpc::Status full;
  int created = 0;
  for (int i = 0; i < 500 && full.ok(); ++i) {
    v1::CreateTeamRequest team;
    team.set_team_id(absl::StrCat("t", i));
    team.mutable_team()->set_display_name(std::string(500, 'x'));
    v1::Team t;
    full = stub->CreateTeam(Ctx().get(), team, &t);
    if (full.ok()) ++created;
  }
  ASSERT_FALSE(full.ok()) << created << " teams fit";
  EXPECT_EQ(full.error_code(), grpc::StatusCode::UNAVAILABLE) << full.error_message();
  EXPECT_TRUE(absl::StrContains(full.error_message(), "database is full")) << full.error_message();

  const HttpAnswer ready = HttpGet(http_port, "/readyz");
  EXPECT_EQ(ready.code, "503") << ready.body;
  EXPECT_TRUE(absl::StrContains(ready.body, "database: ")) << ready.body;
  EXPECT_TRUE(absl::StrContains(ready.body, "database is full")) << ready.body;
  EXPECT_TRUE(Eventually([&] { return HealthOf(*health, "okr.v1.OkrService") == "NOT_SERVING"; },
                         absl::Seconds(20)))
      << server.Log();
  EXPECT_EQ(HealthOf(*health, ""), "SERVING");
  EXPECT_EQ(HttpGet(http_port, "/healthz").code, "200");
  // Reads still work while writes fail.
  v1::GetTeamRequest get;
  get.set_name("teams/t0");
  v1::Team t0;
  grpc::Status read = stub->GetTeam(Ctx().get(), get, &t0);
  EXPECT_TRUE(read.ok()) << read.error_message();
  // Still not ready a few health rounds later: nothing freed space.
  absl::SleepFor(absl::Seconds(5));
  EXPECT_EQ(HttpGet(http_port, "/readyz").code, "503");
  EXPECT_EQ(HealthOf(*health, "okr.v1.OkrService"), "NOT_SERVING");

  // Space freed under the running server (its pages go to the free list the server's
  // writes reuse): the write probe sees it, without any request writing.
  ASSERT_EQ(SqliteExec(db, "DROP TABLE test_ballast;"), "");
  EXPECT_TRUE(Eventually([&] { return HealthOf(*health, "okr.v1.OkrService") == "SERVING"; },
                         absl::Seconds(20)))
      << server.Log();
  EXPECT_EQ(HttpGet(http_port, "/readyz").code, "200");
  v1::CreateTeamRequest again;
  again.set_team_id("after");
  again.mutable_team()->set_display_name("Written after space was freed");
  v1::Team t;
  grpc::Status written = stub->CreateTeam(Ctx().get(), again, &t);
  EXPECT_TRUE(written.ok()) << written.error_message();
  EXPECT_EQ(HealthOf(*health, ""), "SERVING");
}

TEST(ProbesTest, SqliteMaxSizeNotANumber_StopsNamingTheSetting) {
  testing::TempDir tmp;
  ServerProcess server({"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                        "--database=sqlite:" + tmp.File("okr.db"), "--sqlite-max-size-mb=-1"},
                       tmp.File("server.log"));
  EXPECT_EQ(server.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(server.Log(), "sqlite_max_size_mb: expected a whole number"))
      << server.Log();
}

}  // namespace
}  // namespace okr
