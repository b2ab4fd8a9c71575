// What tests that drive the okr-server binary over gRPC share: a client context with a
// deadline, polling until a condition holds, a stub connected to a ServerProcess, and the
// calls most such tests start with (a team, a cycle around now, objectives with work-items
// key results, links and unlinks).
//
//   ServerProcess server({...}, log, env);
//   auto stub = okr::testing::Connect(server);
//   okr::testing::CreateTeamAndCycle(*stub, "t");
//   okr::testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "nps");
//   ASSERT_TRUE(Link(*stub, "objectives/o1/keyResults/nps", v1::JIRA, "OKRX-1").ok());
//   ASSERT_TRUE(okr::testing::Eventually([&] { return ...; })) << server.Log();
#ifndef OKR_TESTS_TESTING_OKR_API_H_
#define OKR_TESTS_TESTING_OKR_API_H_

#include <chrono>  // NOLINT(build/c++11)
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/empty.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/server_process.h"

namespace okr::testing {

// A client context whose deadline is 20 s away.
inline std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return ctx;
}

// Polls `condition` every `poll` until it holds or `timeout` passes; its last answer.
template <typename Condition>
bool Eventually(Condition condition, absl::Duration timeout = absl::Seconds(30),
                absl::Duration poll = absl::Milliseconds(50)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(poll);
  }
  return condition();
}

// A stub on the server's gRPC port (fails the test if the port never shows in its log).
inline std::unique_ptr<v1::OkrService::Stub> Connect(ServerProcess& server) {
  const int grpc_port = server.WaitForGrpcPort();
  EXPECT_GT(grpc_port, 0) << server.Log();
  return v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                     grpc::InsecureChannelCredentials()));
}

// Team `team_id` (display name "Checkout", `team` fields merged in) and cycle "now" from
// yesterday to 89 days ahead.
inline void CreateTeamAndCycle(v1::OkrService::Stub& stub, const std::string& team_id,
                               const v1::Team& team = {}) {
  v1::CreateTeamRequest create_team;
  create_team.set_team_id(team_id);
  *create_team.mutable_team() = team;
  if (team.display_name().empty()) create_team.mutable_team()->set_display_name("Checkout");
  v1::Team t;
  grpc::Status status = stub.CreateTeam(Ctx().get(), create_team, &t);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::CreateCycleRequest cycle;
  cycle.set_cycle_id("now");
  cycle.mutable_cycle()->set_display_name("Now");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  cycle.mutable_cycle()->mutable_start_time()->set_seconds(now - 86400);
  cycle.mutable_cycle()->mutable_end_time()->set_seconds(now + 86400 * 89);
  v1::Cycle c;
  status = stub.CreateCycle(Ctx().get(), cycle, &c);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

// Objective `objective_id` ("Objective <id>") of `team_id` in cycle "now"; ALREADY_EXISTS
// is fine (several key results of one objective).
inline void CreateObjective(v1::OkrService::Stub& stub, const std::string& team_id,
                            const std::string& objective_id) {
  v1::CreateObjectiveRequest obj;
  obj.set_objective_id(objective_id);
  obj.mutable_objective()->set_title(absl::StrCat("Objective ", objective_id));
  obj.mutable_objective()->set_team("teams/" + team_id);
  obj.mutable_objective()->set_cycle("cycles/now");
  v1::Objective o;
  grpc::Status status = stub.CreateObjective(Ctx().get(), obj, &o);
  ASSERT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();
}

// Work-items key result `key_result_id` ("Key result <o>/<k>", `work_items` as given) of
// objective `objective_id`, created first if needed.
inline v1::KeyResult CreateWorkItemsKeyResult(v1::OkrService::Stub& stub,
                                              const std::string& team_id,
                                              const std::string& objective_id,
                                              const std::string& key_result_id,
                                              const v1::WorkItemsKeyResult& work_items = {}) {
  CreateObjective(stub, team_id, objective_id);
  v1::CreateKeyResultRequest kr;
  kr.set_parent("objectives/" + objective_id);
  kr.set_key_result_id(key_result_id);
  kr.mutable_key_result()->set_title(absl::StrCat("Key result ", objective_id, "/", key_result_id));
  *kr.mutable_key_result()->mutable_work_items() = work_items;
  v1::KeyResult k;
  grpc::Status status = stub.CreateKeyResult(Ctx().get(), kr, &k);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return k;
}

inline grpc::Status Link(v1::OkrService::Stub& stub, const std::string& key_result,
                         v1::Tracker tracker, const std::string& key) {
  v1::LinkWorkItemRequest link;
  link.set_parent(key_result);
  link.mutable_work_item()->set_tracker(tracker);
  link.mutable_work_item()->set_key(key);
  v1::WorkItemLink l;
  return stub.LinkWorkItem(Ctx().get(), link, &l);
}

inline grpc::Status Unlink(v1::OkrService::Stub& stub, const std::string& key_result,
                           v1::Tracker tracker, const std::string& key) {
  v1::UnlinkWorkItemRequest unlink;
  unlink.set_parent(key_result);
  unlink.set_tracker(tracker);
  unlink.set_key(key);
  google::protobuf::Empty empty;
  return stub.UnlinkWorkItem(Ctx().get(), unlink, &empty);
}

inline grpc::Status DeleteKeyResult(v1::OkrService::Stub& stub, const std::string& name) {
  v1::DeleteKeyResultRequest del;
  del.set_name(name);
  google::protobuf::Empty empty;
  return stub.DeleteKeyResult(Ctx().get(), del, &empty);
}

inline grpc::Status DeleteObjective(v1::OkrService::Stub& stub, const std::string& name) {
  v1::DeleteObjectiveRequest del;
  del.set_name(name);
  del.set_force(true);
  google::protobuf::Empty empty;
  return stub.DeleteObjective(Ctx().get(), del, &empty);
}

// The key result `name` as GetKeyResult returns it; an empty message on error.
inline v1::KeyResult GetKeyResult(v1::OkrService::Stub& stub, const std::string& name) {
  v1::GetKeyResultRequest get;
  get.set_name(name);
  v1::KeyResult kr;
  if (!stub.GetKeyResult(Ctx().get(), get, &kr).ok()) return {};
  return kr;
}

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_OKR_API_H_
