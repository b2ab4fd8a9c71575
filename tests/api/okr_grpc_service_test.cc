// End-to-end tests of the gRPC API: a real OkrServer on a loopback port with a SQLite
// file, called through the generated stub as any client would.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "service/server/okr_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kEnd = kStart + absl::Hours(100);

class GrpcApiTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }
  void TearDown() override { StopServer(); }

  void StartServer() {
    server::ServerConfig config;
    config.grpc_address = "127.0.0.1:0";
    config.http_address = "127.0.0.1:0";
    config.database = "sqlite:" + dir_.File("okr.db");
    config.sqlite_sync = "normal";
    config.auth = "none";  // these tests exercise the API, not access control
    auto server = server::OkrServer::Start(config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::OkrService::NewStub(channel_);
  }

  void StopServer() {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(1));
    server_.reset();
  }

  grpc::Status Call(std::function<grpc::Status(grpc::ClientContext*)> fn) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return fn(&ctx);
  }

  // Creates teams/checkout, cycles/q4, objectives/o1 and a metric key result 30 -> 50.
  void CreateBasics() {
    v1::CreateTeamRequest team;
    team.set_team_id("checkout");
    team.mutable_team()->set_display_name("Checkout");
    v1::Team t;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateTeam(c, team, &t); }).ok());
    EXPECT_EQ(t.name(), "teams/checkout");

    v1::CreateCycleRequest cycle;
    cycle.set_cycle_id("q4");
    cycle.mutable_cycle()->set_display_name("Q4");
    cycle.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(kStart));
    cycle.mutable_cycle()->mutable_end_time()->set_seconds(absl::ToUnixSeconds(kEnd));
    v1::Cycle cy;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateCycle(c, cycle, &cy); }).ok());

    v1::CreateObjectiveRequest obj;
    obj.set_objective_id("o1");
    obj.mutable_objective()->set_title("Delight customers at checkout");
    obj.mutable_objective()->set_team("teams/checkout");
    obj.mutable_objective()->set_cycle("cycles/q4");
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateObjective(c, obj, &objective_); }).ok());
    EXPECT_EQ(objective_.state(), v1::DRAFT);

    v1::CreateKeyResultRequest kr;
    kr.set_parent("objectives/o1");
    kr.set_key_result_id("nps");
    kr.mutable_key_result()->set_title("Raise NPS from 30 to 50");
    kr.mutable_key_result()->mutable_metric()->set_start_value(30);
    kr.mutable_key_result()->mutable_metric()->set_target_value(50);
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateKeyResult(c, kr, &key_result_); }).ok());
  }

  grpc::Status CheckIn(double value, v1::CheckIn* out, const std::string& request_id = "") {
    v1::CreateCheckInRequest req;
    req.set_parent("objectives/o1/keyResults/nps");
    req.mutable_check_in()->set_value(value);
    req.mutable_check_in()->set_confidence(0.8);
    req.mutable_check_in()->set_note("survey results are in");
    req.mutable_check_in()->set_author("ana");
    req.set_request_id(request_id);
    return Call([&](auto* c) { return stub_->CreateCheckIn(c, req, out); });
  }

  v1::Objective GetObjective() {
    v1::GetObjectiveRequest req;
    req.set_name("objectives/o1");
    v1::Objective o;
    EXPECT_TRUE(Call([&](auto* c) { return stub_->GetObjective(c, req, &o); }).ok());
    return o;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + absl::Hours(50)};
  std::unique_ptr<server::OkrServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::OkrService::Stub> stub_;
  v1::Objective objective_;
  v1::KeyResult key_result_;
};

TEST_F(GrpcApiTest, CheckIn_MovesKeyResultAndObjectiveProgress) {
  CreateBasics();
  v1::CheckIn check_in;
  ASSERT_TRUE(CheckIn(45, &check_in).ok());
  EXPECT_THAT(check_in.name(), HasSubstr("objectives/o1/keyResults/nps/checkIns/"));

  v1::GetKeyResultRequest get;
  get.set_name("objectives/o1/keyResults/nps");
  v1::KeyResult kr;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->GetKeyResult(c, get, &kr); }).ok());
  EXPECT_DOUBLE_EQ(kr.progress(), 0.75);
  EXPECT_DOUBLE_EQ(kr.metric().current_value(), 45);
  EXPECT_DOUBLE_EQ(kr.expected_progress(), 0.5);
  EXPECT_EQ(kr.health(), v1::ON_TRACK);

  v1::Objective o = GetObjective();
  EXPECT_DOUBLE_EQ(o.progress(), 0.75);
  EXPECT_DOUBLE_EQ(o.expected_progress(), 0.5);
  EXPECT_EQ(o.health(), v1::ON_TRACK);
}

TEST_F(GrpcApiTest, StaleEtag_IsAborted) {
  CreateBasics();
  v1::UpdateObjectiveRequest req;
  *req.mutable_objective() = objective_;
  req.mutable_objective()->set_title("Make checkout effortless");
  req.mutable_update_mask()->add_paths("title");
  v1::Objective updated;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->UpdateObjective(c, req, &updated); }).ok());
  EXPECT_EQ(updated.title(), "Make checkout effortless");
  EXPECT_NE(updated.etag(), objective_.etag());

  grpc::Status stale = Call([&](auto* c) { return stub_->UpdateObjective(c, req, &updated); });
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(stale.error_message(), HasSubstr("etag"));
}

TEST_F(GrpcApiTest, MissingObjective_IsNotFound) {
  v1::GetObjectiveRequest req;
  req.set_name("objectives/does-not-exist");
  v1::Objective o;
  grpc::Status s = Call([&](auto* c) { return stub_->GetObjective(c, req, &o); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("does-not-exist"));
}

TEST_F(GrpcApiTest, BadInput_IsInvalidArgumentNamingTheField) {
  CreateBasics();
  struct Case {
    std::function<grpc::Status()> call;
    std::string field;
  };
  v1::Objective o;
  v1::KeyResult kr;
  v1::Cycle cy;
  v1::ListObjectivesResponse list;
  std::vector<Case> cases = {
      {[&] {
         v1::CreateObjectiveRequest r;
         r.mutable_objective()->set_team("teams/checkout");
         r.mutable_objective()->set_cycle("cycles/q4");
         return Call([&](auto* c) { return stub_->CreateObjective(c, r, &o); });
       },
       "objective.title"},
      {[&] {
         v1::CreateObjectiveRequest r;
         r.mutable_objective()->set_title("x");
         r.mutable_objective()->set_team("team/checkout");
         r.mutable_objective()->set_cycle("cycles/q4");
         return Call([&](auto* c) { return stub_->CreateObjective(c, r, &o); });
       },
       "objective.team"},
      {[&] {
         v1::CreateObjectiveRequest r;
         r.mutable_objective()->set_title("x");
         r.mutable_objective()->set_team("teams/ghost");
         r.mutable_objective()->set_cycle("cycles/q4");
         return Call([&](auto* c) { return stub_->CreateObjective(c, r, &o); });
       },
       "objective.team"},
      {[&] {
         v1::CreateObjectiveRequest r;
         r.mutable_objective()->set_title("x");
         r.mutable_objective()->set_team("teams/checkout");
         r.mutable_objective()->set_cycle("cycles/q4");
         r.mutable_objective()->set_parent("objectives/ghost");
         return Call([&](auto* c) { return stub_->CreateObjective(c, r, &o); });
       },
       "objective.parent"},
      {[&] {
         v1::CreateKeyResultRequest r;
         r.set_parent("objectives/o1");
         r.mutable_key_result()->set_title("flat");
         r.mutable_key_result()->mutable_metric()->set_start_value(5);
         r.mutable_key_result()->mutable_metric()->set_target_value(5);
         return Call([&](auto* c) { return stub_->CreateKeyResult(c, r, &kr); });
       },
       "key_result.metric.target_value"},
      {[&] {
         v1::CreateCycleRequest r;
         r.mutable_cycle()->set_display_name("backwards");
         r.mutable_cycle()->mutable_start_time()->set_seconds(2000);
         r.mutable_cycle()->mutable_end_time()->set_seconds(1000);
         return Call([&](auto* c) { return stub_->CreateCycle(c, r, &cy); });
       },
       "cycle.end_time"},
      {[&] {
         v1::ListObjectivesRequest r;
         r.set_page_size(-1);
         return Call([&](auto* c) { return stub_->ListObjectives(c, r, &list); });
       },
       "page_size"},
      {[&] {
         v1::GetObjectiveRequest r;
         r.set_name("objectives/Has Spaces");
         return Call([&](auto* c) { return stub_->GetObjective(c, r, &o); });
       },
       "name"},
  };
  for (const Case& c : cases) {
    grpc::Status s = c.call();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
}

TEST_F(GrpcApiTest, DeleteObjectiveWithKeyResults_IsFailedPreconditionWithoutForce) {
  CreateBasics();
  v1::DeleteObjectiveRequest req;
  req.set_name("objectives/o1");
  google::protobuf::Empty empty;
  grpc::Status s = Call([&](auto* c) { return stub_->DeleteObjective(c, req, &empty); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  req.set_force(true);
  EXPECT_TRUE(Call([&](auto* c) { return stub_->DeleteObjective(c, req, &empty); }).ok());
  v1::GetObjectiveRequest get;
  get.set_name("objectives/o1");
  v1::Objective o;
  EXPECT_EQ(Call([&](auto* c) { return stub_->GetObjective(c, get, &o); }).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcApiTest, WorkItems_LinkUpdateAndFind) {
  CreateBasics();
  v1::CreateKeyResultRequest create;
  create.set_parent("objectives/o1");
  create.set_key_result_id("epics");
  create.mutable_key_result()->set_title("Ship the epics");
  create.mutable_key_result()->mutable_work_items();
  v1::KeyResult kr;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateKeyResult(c, create, &kr); }).ok());

  for (const char* key : {"OKRX-101", "OKRX-102"}) {
    v1::LinkWorkItemRequest link;
    link.set_parent("objectives/o1/keyResults/epics");
    link.mutable_work_item()->set_tracker(v1::JIRA);
    link.mutable_work_item()->set_key(key);
    v1::WorkItemLink out;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->LinkWorkItem(c, link, &out); }).ok());
  }
  v1::LinkWorkItemRequest gitlab;
  gitlab.set_parent("objectives/o1/keyResults/epics");
  gitlab.mutable_work_item()->set_tracker(v1::GITLAB);
  gitlab.mutable_work_item()->set_key("acme/checkout#7");
  gitlab.mutable_work_item()->set_weight(2);
  v1::WorkItemLink gl;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->LinkWorkItem(c, gitlab, &gl); }).ok());

  v1::UpdateWorkItemRequest close;
  close.mutable_work_item()->set_tracker(v1::GITLAB);
  close.mutable_work_item()->set_key("acme/checkout#7");
  close.mutable_work_item()->set_done(true);
  close.mutable_update_mask()->add_paths("done");
  v1::WorkItem item;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->UpdateWorkItem(c, close, &item); }).ok());
  EXPECT_TRUE(item.done());

  v1::FindWorkItemLinksRequest find;
  find.set_tracker(v1::GITLAB);
  find.set_key("acme/checkout#7");
  v1::FindWorkItemLinksResponse found;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->FindWorkItemLinks(c, find, &found); }).ok());
  ASSERT_EQ(found.targets_size(), 1);
  EXPECT_EQ(found.targets(0).key_result().name(), "objectives/o1/keyResults/epics");
  // Two unweighted Jira items open, one GitLab item of weight 2 done: 2 / 4.
  EXPECT_DOUBLE_EQ(found.targets(0).key_result().progress(), 0.5);
  EXPECT_EQ(found.targets(0).objective().name(), "objectives/o1");
  // Objective: nps (0) and epics (0.5), equal weights.
  EXPECT_DOUBLE_EQ(found.targets(0).objective().progress(), 0.25);

  v1::ListWorkItemLinksRequest list;
  list.set_parent("objectives/o1/keyResults/epics");
  list.set_page_size(2);
  v1::ListWorkItemLinksResponse page;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->ListWorkItemLinks(c, list, &page); }).ok());
  EXPECT_EQ(page.work_item_links_size(), 2);
  EXPECT_FALSE(page.next_page_token().empty());

  v1::UnlinkWorkItemRequest unlink;
  unlink.set_name(gl.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->UnlinkWorkItem(c, unlink, &empty); }).ok());
  EXPECT_DOUBLE_EQ(GetObjective().progress(), 0);
}

TEST_F(GrpcApiTest, RequestId_RetriedCheckInIsRecordedOnce) {
  CreateBasics();
  v1::CheckIn first, second;
  ASSERT_TRUE(CheckIn(40, &first, "retry-me").ok());
  ASSERT_TRUE(CheckIn(40, &second, "retry-me").ok());
  EXPECT_EQ(first.name(), second.name());
  v1::ListCheckInsRequest list;
  list.set_parent("objectives/o1/keyResults/nps");
  v1::ListCheckInsResponse resp;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->ListCheckIns(c, list, &resp); }).ok());
  EXPECT_EQ(resp.check_ins_size(), 1);
}

TEST_F(GrpcApiTest, DataSurvivesRestart) {
  CreateBasics();
  v1::CheckIn check_in;
  ASSERT_TRUE(CheckIn(50, &check_in).ok());
  StopServer();
  StartServer();
  v1::Objective o = GetObjective();
  EXPECT_EQ(o.title(), "Delight customers at checkout");
  EXPECT_DOUBLE_EQ(o.progress(), 1.0);
}

TEST_F(GrpcApiTest, SyncKeyResultWithoutTrackers_IsFailedPrecondition) {
  CreateBasics();
  v1::SyncKeyResultRequest req;
  req.set_name("objectives/o1/keyResults/nps");
  v1::KeyResult kr;
  grpc::Status s = Call([&](auto* c) { return stub_->SyncKeyResult(c, req, &kr); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("OKR_JIRA_URL"));
}

TEST_F(GrpcApiTest, HealthServiceReportsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("okr.v1.OkrService");
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(Call([&](auto* c) { return health->Check(c, req, &resp); }).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace okr
