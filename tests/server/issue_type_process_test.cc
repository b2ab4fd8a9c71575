// The okr-server binary opening issues for OPEN_ISSUE rules in the fake Jira with each
// team's issue type (Team.jira_issue_type, set over gRPC): the type the team chose when the
// project has it, a standard type (and one log line saying so) when it does not, and a
// recorded failure when the project has no standard type at all. The fake Jira lists issue
// types per project through createmeta and refuses a create naming a type the project
// lacks, as Jira does, so the old always-"Task" create would fail in OKRS.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/okr_api.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::Ctx;
using ::okr::testing::Eventually;

using ::okr::testing::FakeJiraEndpoint;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::ServerProcess;
using ::testing::HasSubstr;

class IssueTypeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = FakeJiraServer::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject("OKRX", "Checkout");  // Epic, Story, Task, Bug
    fake_->SetProjectIssueTypes("OKRS", {"Epic", "Bug", "Story", "Sub-task"});
    fake_->SetProjectIssueTypes("OKRN", {"Epic", "Sub-task"});

    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                                 "--database=sqlite:" + dir_.File("okr.db"),
                                 "--rule-interval=200ms", "--reconcile-interval=1h"},
        dir_.File("server.log"),
        std::vector<std::string>{
            "OKR_JIRA_URL=" + fake_->base_url(), "OKR_JIRA_EMAIL=" + fake_->options().email,
            "OKR_JIRA_API_TOKEN=" + fake_->options().api_token,
            "OKR_JIRA_WEBHOOK_SECRET=jira-hook-secret", "OKR_PUBLIC_URL=https://okr.example.test"});
    const int grpc_port = server_->WaitForGrpcPort();
    ASSERT_GT(grpc_port, 0) << server_->Log();
    stub_ = v1::OkrService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                        grpc::InsecureChannelCredentials()));
    v1::CreateCycleRequest cycle;
    cycle.set_cycle_id("now");
    cycle.mutable_cycle()->set_display_name("Now");
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    cycle.mutable_cycle()->mutable_start_time()->set_seconds(now - 45 * 86400);
    cycle.mutable_cycle()->mutable_end_time()->set_seconds(now + 45 * 86400);
    v1::Cycle c;
    grpc::Status status = stub_->CreateCycle(Ctx().get(), cycle, &c);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Team `team` with its Jira project (and issue type, if any), an objective and a metric
  // key result of it, and a LOW_CONFIDENCE rule that opens a Jira issue; then a check-in
  // with low confidence, which makes the rule fire.
  void FireOpenIssueRule(const std::string& team, const std::string& project,
                         const std::string& issue_type) {
    v1::CreateTeamRequest create_team;
    create_team.set_team_id(team);
    create_team.mutable_team()->set_display_name(team);
    create_team.mutable_team()->set_jira_project_key(project);
    create_team.mutable_team()->set_jira_issue_type(issue_type);
    v1::Team t;
    grpc::Status status = stub_->CreateTeam(Ctx().get(), create_team, &t);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(t.jira_issue_type(), issue_type);

    v1::CreateObjectiveRequest obj;
    obj.set_objective_id(team);
    obj.mutable_objective()->set_title(absl::StrCat("Objective of ", team));
    obj.mutable_objective()->set_team(absl::StrCat("teams/", team));
    obj.mutable_objective()->set_cycle("cycles/now");
    v1::Objective o;
    status = stub_->CreateObjective(Ctx().get(), obj, &o);
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::CreateKeyResultRequest kr;
    kr.set_parent(absl::StrCat("objectives/", team));
    kr.set_key_result_id("nps");
    kr.mutable_key_result()->set_title("NPS >= 45");
    kr.mutable_key_result()->mutable_metric()->set_start_value(0);
    kr.mutable_key_result()->mutable_metric()->set_target_value(100);
    v1::KeyResult k;
    status = stub_->CreateKeyResult(Ctx().get(), kr, &k);
    ASSERT_TRUE(status.ok()) << status.error_message();

    v1::CreateRuleRequest rule;
    rule.set_rule_id(absl::StrCat("low-", team));
    rule.mutable_rule()->set_parent(absl::StrCat("teams/", team));
    rule.mutable_rule()->mutable_condition()->set_type(v1::LOW_CONFIDENCE);
    rule.mutable_rule()->mutable_condition()->set_threshold(0.5);
    rule.mutable_rule()->mutable_action()->set_type(v1::OPEN_ISSUE);
    rule.mutable_rule()->mutable_action()->set_tracker(v1::JIRA);
    v1::Rule r;
    status = stub_->CreateRule(Ctx().get(), rule, &r);
    ASSERT_TRUE(status.ok()) << status.error_message();

    v1::CreateCheckInRequest check_in;
    check_in.set_parent(absl::StrCat("objectives/", team, "/keyResults/nps"));
    check_in.mutable_check_in()->set_value(50);
    check_in.mutable_check_in()->set_confidence(0.2);
    v1::CheckIn out;
    status = stub_->CreateCheckIn(Ctx().get(), check_in, &out);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // The issue a rule opened in `project` (it carries an okr-rule-* label), if any.
  std::optional<FakeJiraIssue> RuleIssue(const std::string& project) {
    std::optional<FakeJiraIssue> issue = fake_->GetIssue(absl::StrCat(project, "-1"));
    if (!issue.has_value()) return std::nullopt;
    for (const std::string& label : issue->labels) {
      if (absl::StartsWith(label, "okr-rule-")) return issue;
    }
    return std::nullopt;
  }

  testing::TempDir dir_;
  std::unique_ptr<FakeJiraServer> fake_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::OkrService::Stub> stub_;
};

TEST_F(IssueTypeProcessTest, TeamIssueTypeBug_TheRuleOpensABug) {
  FireOpenIssueRule("checkout", "OKRX", "Bug");
  ASSERT_TRUE(Eventually([&] { return RuleIssue("OKRX").has_value(); })) << server_->Log();
  EXPECT_EQ(RuleIssue("OKRX")->issue_type, "Bug");
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  EXPECT_GE(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 1);
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(server_->Log(), "rule opened an issue rule=rules/low-checkout");
  })) << server_->Log();
  EXPECT_THAT(server_->Log(), ::testing::Not(HasSubstr("has no issue type")));
}

TEST_F(IssueTypeProcessTest, NoTeamType_ProjectWithTask_StillOpensATask) {
  FireOpenIssueRule("checkout", "OKRX", "");
  ASSERT_TRUE(Eventually([&] { return RuleIssue("OKRX").has_value(); })) << server_->Log();
  EXPECT_EQ(RuleIssue("OKRX")->issue_type, "Task");
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(server_->Log(), "rule opened an issue rule=rules/low-checkout");
  })) << server_->Log();
  EXPECT_THAT(server_->Log(), ::testing::Not(HasSubstr("has no issue type")));
}

TEST_F(IssueTypeProcessTest, ProjectWithoutTask_OpenedAsStory_AndTheLogSaysSo) {
  FireOpenIssueRule("payments", "OKRS", "");
  ASSERT_TRUE(Eventually([&] { return RuleIssue("OKRS").has_value(); })) << server_->Log();
  EXPECT_EQ(RuleIssue("OKRS")->issue_type, "Story");
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(server_->Log(), "rule opened an issue rule=rules/low-payments");
  })) << server_->Log();
  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("WARN jira: project OKRS has no issue type \"Task\"; opened the "
                             "issue as \"Story\" issue=OKRS-1"));
}

TEST_F(IssueTypeProcessTest, ProjectWithoutAStandardType_OpeningFailsAndIsRecorded) {
  FireOpenIssueRule("ops", "OKRN", "Bug");
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(server_->Log(), "opening an issue failed rule=rules/low-ops");
  })) << server_->Log();
  EXPECT_THAT(server_->Log(),
              HasSubstr("FAILED_PRECONDITION: Jira project OKRN has no issue type \"Bug\" and no "
                        "standard issue type to open the issue as"));
  EXPECT_EQ(fake_->IssuesCreated(), 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 0);
}

}  // namespace
}  // namespace okr
