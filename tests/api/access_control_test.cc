// Access control through the gRPC API: a real OkrServer with --auth=tokens on a loopback
// port, called through the generated stub with bearer tokens of each role.
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
constexpr char kAdminSecret[] = "admin-secret-for-the-access-test";

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config;
    config.grpc_address = "127.0.0.1:0";
    config.http_address = "127.0.0.1:0";
    config.database = "sqlite:" + dir_.File("okr.db");
    config.sqlite_sync = "normal";
    config.auth = "tokens";
    config.admin_token = kAdminSecret;
    auto server = server::OkrServer::Start(config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::OkrService::NewStub(channel_);

    // teams/payments > teams/checkout; teams/search elsewhere; one objective in each.
    for (auto [id, parent] : {std::pair{"payments", ""}, std::pair{"checkout", "payments"},
                              std::pair{"search", ""}}) {
      v1::CreateTeamRequest req;
      req.set_team_id(id);
      req.mutable_team()->set_display_name(id);
      if (*parent) req.mutable_team()->set_parent(std::string("teams/") + parent);
      v1::Team team;
      ASSERT_TRUE(As(kAdminSecret, [&](auto* c) { return stub_->CreateTeam(c, req, &team); }).ok());
    }
    v1::CreateCycleRequest cycle;
    cycle.set_cycle_id("q4");
    cycle.mutable_cycle()->set_display_name("Q4");
    cycle.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(kStart));
    cycle.mutable_cycle()->mutable_end_time()->set_seconds(
        absl::ToUnixSeconds(kStart + absl::Hours(100)));
    v1::Cycle cy;
    ASSERT_TRUE(As(kAdminSecret, [&](auto* c) { return stub_->CreateCycle(c, cycle, &cy); }).ok());
    for (const char* team : {"checkout", "search"}) {
      v1::CreateObjectiveRequest obj;
      obj.set_objective_id(team);
      obj.mutable_objective()->set_title(std::string("Objective of ") + team);
      obj.mutable_objective()->set_team(std::string("teams/") + team);
      obj.mutable_objective()->set_cycle("cycles/q4");
      v1::Objective o;
      ASSERT_TRUE(
          As(kAdminSecret, [&](auto* c) { return stub_->CreateObjective(c, obj, &o); }).ok());
      v1::CreateKeyResultRequest kr;
      kr.set_parent(o.name());
      kr.set_key_result_id("kr");
      kr.mutable_key_result()->set_title("Move the metric");
      kr.mutable_key_result()->mutable_metric()->set_start_value(0);
      kr.mutable_key_result()->mutable_metric()->set_target_value(10);
      v1::KeyResult k;
      ASSERT_TRUE(As(kAdminSecret, [&](auto* c) { return stub_->CreateKeyResult(c, kr, &k); }).ok());
    }
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  grpc::Status As(const std::string& secret, std::function<grpc::Status(grpc::ClientContext*)> fn) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!secret.empty()) ctx.AddMetadata("authorization", "Bearer " + secret);
    return fn(&ctx);
  }

  // A new token's secret.
  std::string NewToken(const std::string& id, v1::Role role, std::vector<std::string> teams = {}) {
    v1::CreateApiTokenRequest req;
    req.set_api_token_id(id);
    req.mutable_api_token()->set_display_name("Token " + id);
    req.mutable_api_token()->set_role(role);
    for (const std::string& t : teams) req.mutable_api_token()->add_teams(t);
    v1::ApiToken token;
    grpc::Status s = As(kAdminSecret, [&](auto* c) { return stub_->CreateApiToken(c, req, &token); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(token.name(), "apiTokens/" + id);
    return token.secret();
  }

  grpc::Status CheckIn(const std::string& secret, const std::string& objective,
                       v1::CheckIn* out) {
    v1::CreateCheckInRequest req;
    req.set_parent("objectives/" + objective + "/keyResults/kr");
    req.mutable_check_in()->set_value(5);
    req.mutable_check_in()->set_author("mallory");
    return As(secret, [&](auto* c) { return stub_->CreateCheckIn(c, req, out); });
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + absl::Hours(10)};
  std::unique_ptr<server::OkrServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::OkrService::Stub> stub_;
};

TEST_F(AccessControlTest, NoOrUnknownToken_IsUnauthenticated_HealthIsOpen) {
  v1::GetObjectiveRequest get;
  get.set_name("objectives/checkout");
  v1::Objective o;
  EXPECT_EQ(As("", [&](auto* c) { return stub_->GetObjective(c, get, &o); }).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(As("okr_wrong", [&](auto* c) { return stub_->GetObjective(c, get, &o); }).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest health;
  grpc::health::v1::HealthCheckResponse answer;
  EXPECT_TRUE(grpc::health::v1::Health::NewStub(channel_)->Check(&ctx, health, &answer).ok());
}

TEST_F(AccessControlTest, Viewer_ReadsEverything_WritesNothing) {
  const std::string viewer = NewToken("viewer", v1::VIEWER);
  v1::GetObjectiveRequest get;
  get.set_name("objectives/search");
  v1::Objective o;
  EXPECT_TRUE(As(viewer, [&](auto* c) { return stub_->GetObjective(c, get, &o); }).ok());
  v1::CheckIn created;
  grpc::Status s = CheckIn(viewer, "checkout", &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("EDITOR on teams/checkout needed"));
  v1::ListSubscriptionsRequest subs;
  v1::ListSubscriptionsResponse list;
  s = As(viewer, [&](auto* c) { return stub_->ListSubscriptions(c, subs, &list); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("ADMIN needed"));
}

TEST_F(AccessControlTest, Editor_WritesItsTeamsAndBelow_AuthorIsTheToken) {
  const std::string editor = NewToken("ada", v1::EDITOR, {"teams/payments"});
  v1::CheckIn created;
  grpc::Status s = CheckIn(editor, "checkout", &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.author(), "Token ada");
  s = CheckIn(editor, "search", &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("EDITOR on teams/search"));

  v1::AgreeObjectiveRequest agree;
  agree.set_name("objectives/checkout");
  agree.set_team("teams/search");
  v1::Objective o;
  s = As(editor, [&](auto* c) { return stub_->AgreeObjective(c, agree, &o); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("EDITOR on teams/search"));

  v1::CreateTeamRequest team;
  team.set_team_id("new");
  team.mutable_team()->set_display_name("New");
  v1::Team t;
  s = As(editor, [&](auto* c) { return stub_->CreateTeam(c, team, &t); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AccessControlTest, DeletedToken_IsRefusedAtOnce) {
  const std::string editor = NewToken("gone", v1::EDITOR);
  v1::CheckIn created;
  ASSERT_TRUE(CheckIn(editor, "search", &created).ok());
  v1::DeleteApiTokenRequest del;
  del.set_name("apiTokens/gone");
  google::protobuf::Empty empty;
  ASSERT_TRUE(As(kAdminSecret, [&](auto* c) { return stub_->DeleteApiToken(c, del, &empty); }).ok());
  EXPECT_EQ(CheckIn(editor, "search", &created).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccessControlTest, TokenReads_NeverCarryTheSecret) {
  NewToken("bot", v1::VIEWER);
  v1::ListApiTokensRequest req;
  v1::ListApiTokensResponse list;
  ASSERT_TRUE(As(kAdminSecret, [&](auto* c) { return stub_->ListApiTokens(c, req, &list); }).ok());
  ASSERT_EQ(list.api_tokens_size(), 1);
  EXPECT_EQ(list.api_tokens(0).secret(), "");
  EXPECT_EQ(list.api_tokens(0).role(), v1::VIEWER);
}

}  // namespace
}  // namespace okr
