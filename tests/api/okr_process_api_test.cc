// End-to-end tests of the OKR process over gRPC: a real OkrServer on a loopback port with
// a SQLite file, called through the generated stub. Alignment and roll-up across the
// organisation tree, lifecycle, grading and carry-over.
//
// Organisation: company > dept-a > team-a and company > dept-b > team-b. Cycle q4 runs 100
// hours and the clock stands half-way (expected progress 0.5); q1 follows it.
#include <functional>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "service/server/okr_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kEnd = kStart + absl::Hours(100);

class GrpcProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
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

    CreateTeam("company", "");
    CreateTeam("dept-a", "teams/company");
    CreateTeam("dept-b", "teams/company");
    CreateTeam("team-a", "teams/dept-a");
    CreateTeam("team-b", "teams/dept-b");
    CreateCycle("q4", kStart, kEnd);
    CreateCycle("q1", kEnd, kEnd + absl::Hours(100));
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  grpc::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return fn(&ctx);
  }

  void CreateTeam(const std::string& id, const std::string& parent) {
    v1::CreateTeamRequest req;
    req.set_team_id(id);
    req.mutable_team()->set_display_name(id);
    req.mutable_team()->set_parent(parent);
    v1::Team t;
    grpc::Status s = Call([&](auto* c) { return stub_->CreateTeam(c, req, &t); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void CreateCycle(const std::string& id, absl::Time start, absl::Time end) {
    v1::CreateCycleRequest req;
    req.set_cycle_id(id);
    req.mutable_cycle()->set_display_name(id);
    req.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
    req.mutable_cycle()->mutable_end_time()->set_seconds(absl::ToUnixSeconds(end));
    v1::Cycle c;
    grpc::Status s = Call([&](auto* ctx) { return stub_->CreateCycle(ctx, req, &c); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  static v1::Objective MakeObjective(const std::string& team, const std::string& parent,
                                     v1::ProgressSource source = v1::PROGRESS_SOURCE_UNSPECIFIED) {
    v1::Objective o;
    o.set_title("Objective of " + team);
    o.set_team("teams/" + team);
    o.set_cycle("cycles/q4");
    o.set_parent(parent);
    o.set_progress_source(source);
    return o;
  }

  grpc::Status TryCreateObjective(const std::string& id, const v1::Objective& objective,
                                  v1::Objective* out) {
    v1::CreateObjectiveRequest req;
    req.set_objective_id(id);
    *req.mutable_objective() = objective;
    return Call([&](auto* c) { return stub_->CreateObjective(c, req, out); });
  }

  v1::Objective CreateObjective(const std::string& id, const v1::Objective& objective) {
    v1::Objective out;
    grpc::Status s = TryCreateObjective(id, objective, &out);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    return out;
  }

  void CreateMetric(const std::string& objective, const std::string& id, double start,
                    double target, const std::string& metric_key = "") {
    v1::CreateKeyResultRequest req;
    req.set_parent("objectives/" + objective);
    req.set_key_result_id(id);
    req.mutable_key_result()->set_title("Move " + id);
    req.mutable_key_result()->mutable_metric()->set_start_value(start);
    req.mutable_key_result()->mutable_metric()->set_target_value(target);
    req.mutable_key_result()->mutable_metric()->set_metric_key(metric_key);
    v1::KeyResult kr;
    grpc::Status s = Call([&](auto* c) { return stub_->CreateKeyResult(c, req, &kr); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(kr.metric().metric_key(), metric_key);
  }

  void CreateMilestone(const std::string& objective, const std::string& id) {
    v1::CreateKeyResultRequest req;
    req.set_parent("objectives/" + objective);
    req.set_key_result_id(id);
    req.mutable_key_result()->set_title("Reach " + id);
    req.mutable_key_result()->mutable_milestone()->set_done(false);
    v1::KeyResult kr;
    grpc::Status s = Call([&](auto* c) { return stub_->CreateKeyResult(c, req, &kr); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void CheckIn(const std::string& key_result, double value) {
    v1::CreateCheckInRequest req;
    req.set_parent(key_result);
    req.mutable_check_in()->set_value(value);
    req.mutable_check_in()->set_author("ana");
    v1::CheckIn out;
    grpc::Status s = Call([&](auto* c) { return stub_->CreateCheckIn(c, req, &out); });
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::Objective Get(const std::string& id) {
    v1::GetObjectiveRequest req;
    req.set_name("objectives/" + id);
    v1::Objective o;
    grpc::Status s = Call([&](auto* c) { return stub_->GetObjective(c, req, &o); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    return o;
  }

  grpc::Status Propose(const std::string& id, v1::Objective* out) {
    v1::ProposeObjectiveRequest req;
    req.set_name("objectives/" + id);
    return Call([&](auto* c) { return stub_->ProposeObjective(c, req, out); });
  }

  grpc::Status Agree(const std::string& id, const std::string& team, v1::Objective* out) {
    v1::AgreeObjectiveRequest req;
    req.set_name("objectives/" + id);
    req.set_team("teams/" + team);
    req.set_agreed_by("lead of " + team);
    return Call([&](auto* c) { return stub_->AgreeObjective(c, req, out); });
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + absl::Hours(50)};
  std::unique_ptr<server::OkrServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::OkrService::Stub> stub_;
};

// The acceptance: a company objective, two department objectives aligned under it,
// two team objectives under those with metric and milestone key results; a check-in on a
// leaf moves every ancestor whose progress_source includes children; GetAlignmentTree
// shows it; a contradiction between two teams' key results is reported by CheckAlignment
// and blocks AgreeObjective with FAILED_PRECONDITION naming the finding.
TEST_F(GrpcProcessTest, CheckInMovesAncestorsAndContradictionBlocksAgreement) {
  CreateObjective("co", MakeObjective("company", "", v1::KEY_RESULTS_AND_CHILDREN));
  CreateObjective("da", MakeObjective("dept-a", "objectives/co", v1::KEY_RESULTS_AND_CHILDREN));
  CreateMilestone("da", "launch");
  CreateObjective("db", MakeObjective("dept-b", "objectives/co"));  // KEY_RESULTS only
  CreateMetric("db", "latency", 0, 10);
  CheckIn("objectives/db/keyResults/latency", 5);
  v1::Objective ta = MakeObjective("team-a", "objectives/da");
  ta.set_weight(3);
  CreateObjective("ta", ta);
  CreateMetric("ta", "conversion", 2, 3, "checkout.conversion");
  CreateMilestone("ta", "ship");
  CreateObjective("tb", MakeObjective("team-b", "objectives/db"));
  CreateMetric("tb", "cost", 3, 2.5, "checkout.conversion");
  CreateMilestone("tb", "rollout");

  EXPECT_DOUBLE_EQ(Get("co").progress(), 0.25);  // (da 0 + db 0.5) / 2

  // A check-in on the leaf ta moves ta, da and co.
  CheckIn("objectives/ta/keyResults/conversion", 2.5);
  EXPECT_DOUBLE_EQ(Get("ta").progress(), 0.25);     // (0.5 + 0) / 2
  EXPECT_DOUBLE_EQ(Get("da").progress(), 0.1875);   // (launch 0 * 1 + ta 0.25 * 3) / 4
  EXPECT_DOUBLE_EQ(Get("co").progress(), 0.34375);  // (da 0.1875 + db 0.5) / 2

  // One on tb moves tb only: db rolls up its key results, not its children.
  CheckIn("objectives/tb/keyResults/cost", 2.75);
  EXPECT_DOUBLE_EQ(Get("tb").progress(), 0.25);
  EXPECT_DOUBLE_EQ(Get("db").progress(), 0.5);
  EXPECT_DOUBLE_EQ(Get("co").progress(), 0.34375);

  v1::GetAlignmentTreeRequest tree_req;
  tree_req.set_root("objectives/co");
  v1::AlignmentTree tree;
  grpc::Status s = Call([&](auto* c) { return stub_->GetAlignmentTree(c, tree_req, &tree); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(tree.roots_size(), 1);
  const v1::AlignmentNode& co = tree.roots(0);
  EXPECT_EQ(co.objective(), "objectives/co");
  EXPECT_EQ(co.title(), "Objective of company");
  EXPECT_EQ(co.team(), "teams/company");
  EXPECT_EQ(co.cycle(), "cycles/q4");
  EXPECT_EQ(co.state(), v1::DRAFT);
  EXPECT_DOUBLE_EQ(co.progress(), 0.34375);
  EXPECT_DOUBLE_EQ(co.expected_progress(), 0.5);
  EXPECT_EQ(co.health(), v1::AT_RISK);
  ASSERT_EQ(co.children_size(), 2);
  const v1::AlignmentNode& da = co.children(0);
  EXPECT_EQ(da.objective(), "objectives/da");
  EXPECT_EQ(da.team(), "teams/dept-a");
  EXPECT_DOUBLE_EQ(da.progress(), 0.1875);
  EXPECT_EQ(da.health(), v1::OFF_TRACK);
  ASSERT_EQ(da.children_size(), 1);
  EXPECT_EQ(da.children(0).objective(), "objectives/ta");
  EXPECT_DOUBLE_EQ(da.children(0).progress(), 0.25);
  EXPECT_EQ(da.children(0).health(), v1::AT_RISK);
  const v1::AlignmentNode& db = co.children(1);
  EXPECT_EQ(db.objective(), "objectives/db");
  EXPECT_DOUBLE_EQ(db.progress(), 0.5);
  EXPECT_EQ(db.health(), v1::ON_TRACK);
  ASSERT_EQ(db.children_size(), 1);
  EXPECT_EQ(db.children(0).objective(), "objectives/tb");
  EXPECT_EQ(db.children(0).children_size(), 0);

  // One level only; and the roots of one team in one cycle.
  tree_req.set_depth(1);
  tree.Clear();
  ASSERT_TRUE(Call([&](auto* c) { return stub_->GetAlignmentTree(c, tree_req, &tree); }).ok());
  ASSERT_EQ(tree.roots(0).children_size(), 2);
  EXPECT_EQ(tree.roots(0).children(0).children_size(), 0);
  v1::GetAlignmentTreeRequest team_req;
  team_req.set_team("teams/dept-b");
  team_req.set_cycle("cycles/q4");
  tree.Clear();
  ASSERT_TRUE(Call([&](auto* c) { return stub_->GetAlignmentTree(c, team_req, &tree); }).ok());
  ASSERT_EQ(tree.roots_size(), 1);
  EXPECT_EQ(tree.roots(0).objective(), "objectives/db");
  ASSERT_EQ(tree.roots(0).children_size(), 1);
  EXPECT_EQ(tree.roots(0).children(0).objective(), "objectives/tb");

  // The contradiction: team-a raises checkout.conversion, team-b lowers it.
  v1::CheckAlignmentRequest check;
  check.set_cycle("cycles/q4");
  v1::CheckAlignmentResponse findings;
  s = Call([&](auto* c) { return stub_->CheckAlignment(c, check, &findings); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(findings.findings_size(), 1);
  const v1::Finding& f = findings.findings(0);
  EXPECT_EQ(f.code(), v1::CONTRADICTION);
  EXPECT_EQ(f.severity(), v1::ERROR);
  EXPECT_THAT(f.subjects(),
              ElementsAre("objectives/ta", "objectives/ta/keyResults/conversion", "objectives/tb",
                          "objectives/tb/keyResults/cost", "teams/team-a", "teams/team-b"));
  EXPECT_THAT(f.message(), HasSubstr("objectives/ta (teams/team-a) raises checkout.conversion"));
  EXPECT_THAT(f.message(), HasSubstr("objectives/tb (teams/team-b) lowers checkout.conversion"));
  check.set_team("teams/dept-a");  // the contradiction does not involve dept-a's objectives
  findings.Clear();
  ASSERT_TRUE(Call([&](auto* c) { return stub_->CheckAlignment(c, check, &findings); }).ok());
  EXPECT_EQ(findings.findings_size(), 0);

  v1::Objective out;
  ASSERT_TRUE(Propose("ta", &out).ok());
  EXPECT_EQ(out.state(), v1::PROPOSED);
  grpc::Status blocked = Agree("ta", "team-a", &out);
  EXPECT_EQ(blocked.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(blocked.error_message(), HasSubstr("CONTRADICTION"));
  EXPECT_EQ(Get("ta").agreements_size(), 0);

  // team-b measures its own metric instead (tb is a DRAFT: a free edit); ta can be agreed.
  v1::UpdateKeyResultRequest update;
  update.mutable_key_result()->set_name("objectives/tb/keyResults/cost");
  update.mutable_key_result()->mutable_metric()->set_metric_key("checkout.cost");
  update.mutable_update_mask()->add_paths("metric.metric_key");
  v1::KeyResult kr;
  s = Call([&](auto* c) { return stub_->UpdateKeyResult(c, update, &kr); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(kr.metric().metric_key(), "checkout.cost");
  EXPECT_DOUBLE_EQ(kr.metric().target_value(), 2.5);
  ASSERT_TRUE(Agree("ta", "team-a", &out).ok());
  EXPECT_EQ(out.state(), v1::AGREED);
  ASSERT_EQ(out.agreements_size(), 1);
  EXPECT_EQ(out.agreements(0).team(), "teams/team-a");
  EXPECT_EQ(out.agreements(0).agreed_by(), "lead of team-a");
  EXPECT_EQ(out.agreements(0).agree_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
}

TEST_F(GrpcProcessTest, AlignmentFieldsRoundTripAndTwoTeamsAgree) {
  CreateObjective("co", MakeObjective("company", ""));
  CreateMetric("co", "nps", 30, 50);
  CreateObjective("pay", MakeObjective("team-b", ""));
  CreateMetric("pay", "latency", 900, 300);
  v1::Objective web = MakeObjective("team-a", "");
  web.set_weight(2.5);
  web.add_depends_on("objectives/pay");
  web.add_contributes_to("objectives/co/keyResults/nps");
  web.set_kind(v1::ASPIRATIONAL);
  v1::Objective created = CreateObjective("web", web);
  EXPECT_EQ(created.progress_source(), v1::KEY_RESULTS);
  EXPECT_TRUE(created.has_weight());
  EXPECT_DOUBLE_EQ(created.weight(), 2.5);
  EXPECT_THAT(created.depends_on(), ElementsAre("objectives/pay"));
  EXPECT_THAT(created.contributes_to(), ElementsAre("objectives/co/keyResults/nps"));
  EXPECT_EQ(created.outcome(), v1::OUTCOME_UNSPECIFIED);
  EXPECT_DOUBLE_EQ(Get("pay").weight(), 1);  // the default
  CreateMetric("web", "conversion", 2, 3);

  v1::Objective out;
  ASSERT_TRUE(Propose("web", &out).ok());
  ASSERT_TRUE(Agree("web", "team-a", &out).ok());
  EXPECT_EQ(out.state(), v1::PROPOSED);  // team-b owns what web depends on
  grpc::Status outsider = Agree("web", "company", &out);
  EXPECT_EQ(outsider.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Agree("web", "team-b", &out).ok());
  EXPECT_EQ(out.state(), v1::AGREED);
  ASSERT_EQ(out.agreements_size(), 2);
  EXPECT_EQ(out.agreements(1).team(), "teams/team-b");

  // A guarded edit needs reopen; with it the objective goes back to PROPOSED.
  v1::UpdateObjectiveRequest update;
  update.mutable_objective()->set_name("objectives/web");
  update.mutable_objective()->set_title("One-click checkout");
  update.mutable_update_mask()->add_paths("title");
  grpc::Status refused = Call([&](auto* c) { return stub_->UpdateObjective(c, update, &out); });
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("reopen"));
  update.set_reopen(true);
  ASSERT_TRUE(Call([&](auto* c) { return stub_->UpdateObjective(c, update, &out); }).ok());
  EXPECT_EQ(out.state(), v1::PROPOSED);
  EXPECT_EQ(out.agreements_size(), 0);
  EXPECT_EQ(out.reopen_reason(),
            "title changed from \"Objective of team-a\" to \"One-click checkout\"");

  v1::ReopenObjectiveRequest reopen;
  reopen.set_name("objectives/web");
  reopen.set_reason("team-b reorganised");
  ASSERT_TRUE(Call([&](auto* c) { return stub_->ReopenObjective(c, reopen, &out); }).ok());
  EXPECT_EQ(out.state(), v1::DRAFT);
  EXPECT_EQ(out.reopen_reason(), "team-b reorganised");

  // A dependency loop is rejected naming the field.
  v1::UpdateObjectiveRequest loop;
  loop.mutable_objective()->set_name("objectives/pay");
  loop.mutable_objective()->add_depends_on("objectives/web");
  loop.mutable_update_mask()->add_paths("depends_on");
  grpc::Status looped = Call([&](auto* c) { return stub_->UpdateObjective(c, loop, &out); });
  EXPECT_EQ(looped.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(looped.error_message(), HasSubstr("objective.depends_on"));
  EXPECT_THAT(looped.error_message(), HasSubstr("loop"));
}

TEST_F(GrpcProcessTest, BadProcessInput_IsInvalidArgumentNamingTheField) {
  CreateObjective("web", MakeObjective("team-a", ""));
  v1::Objective out;
  struct Case {
    v1::Objective objective;
    std::string field;
  };
  v1::Objective negative = MakeObjective("team-a", "");
  negative.set_weight(-1);
  v1::Objective bad_dependency = MakeObjective("team-a", "");
  bad_dependency.add_depends_on("objective/web");
  v1::Objective bad_contribution = MakeObjective("team-a", "");
  bad_contribution.add_contributes_to("objectives/web");
  v1::Objective sideways = MakeObjective("team-b", "objectives/web");
  for (const Case& c :
       {Case{negative, "objective.weight must be"}, Case{bad_dependency, "objective.depends_on"},
        Case{bad_contribution, "objective.contributes_to"}, Case{sideways, "objective.parent"}}) {
    grpc::Status s = TryCreateObjective("", c.objective, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }

  v1::CloseObjectiveRequest close;
  close.set_name("objectives/web");
  v1::KeyResultScore* score = close.add_key_result_scores();
  score->set_key_result("objectives/other/keyResults/k");
  score->set_score(0.5);
  score->set_reason("x");
  grpc::Status s = Call([&](auto* c) { return stub_->CloseObjective(c, close, &out); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("key_result_scores[0].key_result"));

  v1::CheckAlignmentRequest no_cycle;
  v1::CheckAlignmentResponse findings;
  s = Call([&](auto* c) { return stub_->CheckAlignment(c, no_cycle, &findings); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("cycle"));

  v1::SyncKeyResultRequest sync;
  sync.set_name("objectives/web/keyResults/k");
  v1::KeyResult kr;
  s = Call([&](auto* c) { return stub_->SyncKeyResult(c, sync, &kr); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcProcessTest, CloseScoresAndCarryOverCopiesKeyResultsAndLinks) {
  v1::Objective committed = MakeObjective("team-a", "");
  CreateObjective("web", committed);
  CreateMetric("web", "conversion", 0, 10);
  CheckIn("objectives/web/keyResults/conversion", 9);
  v1::Objective out;
  ASSERT_TRUE(Propose("web", &out).ok());
  ASSERT_TRUE(Agree("web", "team-a", &out).ok());
  v1::CloseObjectiveRequest close;
  close.set_name("objectives/web");
  grpc::Status s = Call([&](auto* c) { return stub_->CloseObjective(c, close, &out); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.state(), v1::CLOSED);
  EXPECT_DOUBLE_EQ(out.score(), 0.9);
  EXPECT_EQ(out.outcome(), v1::MISSED);

  v1::Objective aspirational = MakeObjective("team-b", "");
  aspirational.set_kind(v1::ASPIRATIONAL);
  CreateObjective("ops", aspirational);
  CreateMetric("ops", "nps", 0, 10);
  CheckIn("objectives/ops/keyResults/nps", 4);
  v1::CreateKeyResultRequest epics;
  epics.set_parent("objectives/ops");
  epics.set_key_result_id("epics");
  epics.mutable_key_result()->set_title("Ship the epics");
  epics.mutable_key_result()->mutable_work_items();
  v1::KeyResult kr;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateKeyResult(c, epics, &kr); }).ok());
  for (const char* key : {"acme/ops#1", "acme/ops#2"}) {
    v1::LinkWorkItemRequest link;
    link.set_parent("objectives/ops/keyResults/epics");
    link.mutable_work_item()->set_tracker(v1::GITLAB);
    link.mutable_work_item()->set_key(key);
    link.mutable_work_item()->set_done(std::string(key) == "acme/ops#1");
    v1::WorkItemLink l;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->LinkWorkItem(c, link, &l); }).ok());
  }
  ASSERT_TRUE(Propose("ops", &out).ok());
  ASSERT_TRUE(Agree("ops", "team-b", &out).ok());

  // The team scores the epics 1.0: (0.4 + 1.0) / 2 = 0.7 meets an aspirational objective.
  close.set_name("objectives/ops");
  v1::KeyResultScore* score = close.add_key_result_scores();
  score->set_key_result("objectives/ops/keyResults/epics");
  score->set_score(1.0);
  score->set_reason("the last epic shipped the day after the cycle");
  s = Call([&](auto* c) { return stub_->CloseObjective(c, close, &out); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_DOUBLE_EQ(out.score(), 0.7);
  EXPECT_EQ(out.outcome(), v1::MET);
  v1::GetKeyResultRequest get_kr;
  get_kr.set_name("objectives/ops/keyResults/epics");
  ASSERT_TRUE(Call([&](auto* c) { return stub_->GetKeyResult(c, get_kr, &kr); }).ok());
  EXPECT_TRUE(kr.has_score());
  EXPECT_DOUBLE_EQ(kr.score(), 1.0);
  EXPECT_EQ(kr.score_reason(), "the last epic shipped the day after the cycle");

  v1::CarryOverObjectiveRequest carry;
  carry.set_name("objectives/ops");
  carry.set_cycle("cycles/q1");
  carry.set_objective_id("ops-next");
  s = Call([&](auto* c) { return stub_->CarryOverObjective(c, carry, &out); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.name(), "objectives/ops-next");
  EXPECT_EQ(out.cycle(), "cycles/q1");
  EXPECT_EQ(out.state(), v1::DRAFT);
  EXPECT_EQ(out.kind(), v1::ASPIRATIONAL);
  EXPECT_DOUBLE_EQ(out.progress(), 0.25);  // nps restarts from 4: 0; epics 1 of 2 done

  v1::ListWorkItemLinksRequest list;
  list.set_parent("objectives/ops-next/keyResults/epics");
  v1::ListWorkItemLinksResponse links;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->ListWorkItemLinks(c, list, &links); }).ok());
  ASSERT_EQ(links.work_item_links_size(), 2);
  EXPECT_EQ(links.work_item_links(0).work_item().key(), "acme/ops#1");
  EXPECT_TRUE(links.work_item_links(0).work_item().done());
  EXPECT_EQ(links.work_item_links(1).work_item().key(), "acme/ops#2");

  carry.set_name("objectives/web");  // committed: a review, not a copy
  carry.set_objective_id("");
  s = Call([&](auto* c) { return stub_->CarryOverObjective(c, carry, &out); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace okr
