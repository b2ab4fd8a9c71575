// Use-case tests of the OKR process in OkrCore (lifecycle, alignment, roll-up through the
// alignment tree, grading, carry-over) against a real SQLite file and a fake clock.
//
// Organisation: company > dept-a > team-a, company > dept-b > team-b. Cycle q4 runs 90
// days and the clock stands half-way; q1 follows it.
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/okr_core.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kQ4Start = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kQ4End = kQ4Start + absl::Hours(24 * 90);
const absl::Time kQ1End = kQ4End + absl::Hours(24 * 90);

class OkrProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    core_ = std::make_unique<OkrCore>(*store_, clock_);

    for (const auto& [id, parent] :
         std::vector<std::pair<std::string, std::string>>{{"company", ""},
                                                          {"dept-a", "company"},
                                                          {"dept-b", "company"},
                                                          {"team-a", "dept-a"},
                                                          {"team-b", "dept-b"}}) {
      Team t;
      t.id = id;
      t.display_name = id;
      t.parent_id = parent;
      ASSERT_TRUE(core_->CreateTeam(t, "").ok());
    }
    for (const auto& [id, start, end] :
         std::vector<std::tuple<std::string, absl::Time, absl::Time>>{{"q4", kQ4Start, kQ4End},
                                                                      {"q1", kQ4End, kQ1End}}) {
      Cycle c;
      c.id = id;
      c.display_name = id;
      c.start_time = start;
      c.end_time = end;
      ASSERT_TRUE(core_->CreateCycle(c, "").ok());
    }
  }

  Objective MakeObjective(const std::string& id, const std::string& team,
                          const std::string& parent = "",
                          ProgressSource source = ProgressSource::kKeyResults, double weight = 1) {
    Objective o;
    o.id = id;
    o.title = "Objective " + id;
    o.team_id = team;
    o.cycle_id = "q4";
    o.parent_id = parent;
    o.progress_source = source;
    o.weight = weight;
    return o;
  }

  void Create(const Objective& o) {
    auto created = core_->CreateObjective(o, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void Create(const std::string& id, const std::string& team, const std::string& parent = "",
              ProgressSource source = ProgressSource::kKeyResults, double weight = 1) {
    Create(MakeObjective(id, team, parent, source, weight));
  }

  void Metric(const std::string& objective, const std::string& id, double start, double target,
              const std::string& metric_key = "", double weight = 1) {
    KeyResult kr;
    kr.objective_id = objective;
    kr.id = id;
    kr.title = "Metric " + id;
    kr.weight = weight;
    kr.type = KeyResultType::kMetric;
    kr.metric = {start, target, start, ""};
    kr.metric_key = metric_key;
    auto created = core_->CreateKeyResult(kr, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void Milestone(const std::string& objective, const std::string& id, double weight = 1) {
    KeyResult kr;
    kr.objective_id = objective;
    kr.id = id;
    kr.title = "Milestone " + id;
    kr.weight = weight;
    kr.type = KeyResultType::kMilestone;
    auto created = core_->CreateKeyResult(kr, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void CheckInValue(const std::string& objective, const std::string& kr, double value) {
    CheckIn c;
    c.objective_id = objective;
    c.key_result_id = kr;
    c.value = value;
    c.author = "ana";
    auto created = core_->CreateCheckIn(c, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Proposes `id` and has its own team agree.
  void MakeAgreed(const std::string& id) {
    ASSERT_TRUE(core_->ProposeObjective(id, "").ok());
    auto agreed = core_->AgreeObjective(id, Get(id).team_id, "lead");
    ASSERT_TRUE(agreed.ok()) << agreed.status();
    ASSERT_EQ(agreed->state, ObjectiveState::kAgreed);
  }

  Objective Get(const std::string& id) {
    auto o = core_->GetObjective(id);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? *o : Objective();
  }

  double Progress(const std::string& id) { return Get(id).progress; }

  testing::TempDir dir_;
  testing::FakeClock clock_{kQ4Start + absl::Hours(24 * 45)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<OkrCore> core_;
};

// ---------------------------------------------------------------------------------------
// Lifecycle

TEST_F(OkrProcessTest, Agree_NeedsOwnTeamAndEveryTeamDependedOn) {
  Create("pay", "team-b");
  Metric("pay", "latency", 900, 300);
  Objective web = MakeObjective("web", "team-a");
  web.depends_on = {"pay"};
  Create(web);
  Metric("web", "conversion", 2, 3);

  auto early = core_->AgreeObjective("web", "team-a", "ana");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("DRAFT"));

  auto proposed = core_->ProposeObjective("web", "");
  ASSERT_TRUE(proposed.ok()) << proposed.status();
  EXPECT_EQ(proposed->state, ObjectiveState::kProposed);

  clock_.Advance(absl::Minutes(5));
  const absl::Time first_time = clock_.Now();
  auto first = core_->AgreeObjective("web", "team-a", "ana");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state, ObjectiveState::kProposed);  // team-b has not agreed yet
  ASSERT_THAT(first->agreements, SizeIs(1));
  EXPECT_EQ(first->agreements[0].team_id, "team-a");
  EXPECT_EQ(first->agreements[0].agreed_by, "ana");
  EXPECT_EQ(first->agreements[0].agree_time, first_time);

  auto outsider = core_->AgreeObjective("web", "company", "ceo");
  EXPECT_EQ(outsider.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outsider.status().message(), HasSubstr("teams/company is not a party"));

  clock_.Advance(absl::Minutes(5));
  auto second = core_->AgreeObjective("web", "team-b", "bo");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->state, ObjectiveState::kAgreed);
  ASSERT_THAT(second->agreements, SizeIs(2));
  EXPECT_EQ(second->agreements[1].team_id, "team-b");
  EXPECT_EQ(second->agreements[1].agreed_by, "bo");
  EXPECT_EQ(second->agreements[1].agree_time, clock_.Now());

  // A repeat is an idempotent success that keeps the first agreement.
  auto repeat = core_->AgreeObjective("web", "team-a", "someone else");
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_EQ(repeat->meta.revision, second->meta.revision);
  EXPECT_EQ(repeat->agreements[0].agreed_by, "ana");
}

TEST_F(OkrProcessTest, Agree_RejectsControlCharactersInAgreedBy) {
  Create("web", "team-a");
  Metric("web", "conversion", 2, 3);
  ASSERT_TRUE(core_->ProposeObjective("web", "").ok());
  auto agreed = core_->AgreeObjective("web", "team-a", "ana\tbo");
  EXPECT_EQ(agreed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(agreed.status().message(), HasSubstr("agreed_by"));
}

TEST_F(OkrProcessTest, Propose_StaleEtagIsAbortedAndOnlyDraftsCanBeProposed) {
  Create("web", "team-a");
  auto stale = core_->ProposeObjective("web", FormatEtag(99));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(core_->ProposeObjective("web", FormatEtag(Get("web").meta.revision)).ok());
  auto again = core_->ProposeObjective("web", "");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("only a DRAFT can be proposed"));
}

TEST_F(OkrProcessTest, Reopen_ReturnsToDraftClearingAgreements) {
  Create("web", "team-a");
  Metric("web", "conversion", 2, 3);
  MakeAgreed("web");

  auto blank = core_->ReopenObjective("web", "  ");
  EXPECT_EQ(blank.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(blank.status().message(), HasSubstr("reason is required"));

  auto reopened = core_->ReopenObjective("web", "the market moved");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->state, ObjectiveState::kDraft);
  EXPECT_THAT(reopened->agreements, IsEmpty());
  EXPECT_EQ(reopened->reopen_reason, "the market moved");
  EXPECT_EQ(Get("web").reopen_reason, "the market moved");

  auto twice = core_->ReopenObjective("web", "again");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(OkrProcessTest, GuardedEdit_TitleOfAgreedObjectiveNeedsReopen) {
  Create("web", "team-a");
  Metric("web", "conversion", 2, 3);
  MakeAgreed("web");

  Objective patch;
  patch.id = "web";
  patch.title = "Make checkout effortless";
  auto refused = core_->UpdateObjective(patch, {"title"}, "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("set reopen = true"));
  EXPECT_EQ(Get("web").title, "Objective web");
  EXPECT_EQ(Get("web").state, ObjectiveState::kAgreed);

  // Free edits need no reopening.
  patch.description = "Fewer steps";
  auto free_edit = core_->UpdateObjective(patch, {"description"}, "");
  ASSERT_TRUE(free_edit.ok()) << free_edit.status();
  EXPECT_EQ(free_edit->state, ObjectiveState::kAgreed);

  auto reopened = core_->UpdateObjective(patch, {"title"}, "", /*reopen=*/true);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->title, "Make checkout effortless");
  EXPECT_EQ(reopened->state, ObjectiveState::kProposed);
  EXPECT_THAT(reopened->agreements, IsEmpty());
  EXPECT_EQ(reopened->reopen_reason,
            "title changed from \"Objective web\" to \"Make checkout effortless\"");
}

TEST_F(OkrProcessTest, GuardedEdit_ParentOfAgreedObjectiveNeedsReopen) {
  Create("co", "company");
  Create("da", "dept-a");
  Metric("da", "m", 0, 1);
  MakeAgreed("da");
  Objective patch;
  patch.id = "da";
  patch.parent_id = "co";
  auto refused = core_->UpdateObjective(patch, {"parent"}, "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("changing the parent"));
  auto reopened = core_->UpdateObjective(patch, {"parent"}, "", /*reopen=*/true);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->parent_id, "co");
  EXPECT_EQ(reopened->state, ObjectiveState::kProposed);
  EXPECT_EQ(reopened->reopen_reason, "parent changed from \"\" to \"objectives/co\"");
}

TEST_F(OkrProcessTest, GuardedEdit_KeyResultTargetNeedsReopenButCheckInsDoNot) {
  Create("web", "team-a");
  Metric("web", "conversion", 0, 10);
  MakeAgreed("web");

  CheckInValue("web", "conversion", 5);
  EXPECT_EQ(Get("web").state, ObjectiveState::kAgreed);
  EXPECT_DOUBLE_EQ(Progress("web"), 0.5);

  KeyResult patch;
  patch.objective_id = "web";
  patch.id = "conversion";
  patch.metric.current_value = 6;
  auto current = core_->UpdateKeyResult(patch, {"metric.current_value"}, "");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(Get("web").state, ObjectiveState::kAgreed);

  patch.metric.target_value = 20;
  auto refused = core_->UpdateKeyResult(patch, {"metric.target_value"}, "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("changing a key result's target"));
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("web", "conversion")->metric.target_value, 10);

  auto reopened = core_->UpdateKeyResult(patch, {"metric.target_value"}, "", /*reopen=*/true);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_DOUBLE_EQ(reopened->progress, 0.3);
  const Objective o = Get("web");
  EXPECT_EQ(o.state, ObjectiveState::kProposed);
  EXPECT_THAT(o.agreements, IsEmpty());
  EXPECT_EQ(o.reopen_reason,
            "objectives/web/keyResults/conversion.metric.target_value changed from \"10\" to "
            "\"20\"");
  EXPECT_DOUBLE_EQ(o.progress, 0.3);
}

TEST_F(OkrProcessTest, AddingKeyResultToAgreedObjective_IsFailedPrecondition) {
  Create("web", "team-a");
  Metric("web", "conversion", 0, 10);
  MakeAgreed("web");
  KeyResult kr;
  kr.objective_id = "web";
  kr.id = "extra";
  kr.title = "Extra";
  kr.type = KeyResultType::kMilestone;
  auto added = core_->CreateKeyResult(kr, "");
  EXPECT_EQ(added.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(added.status().message(), HasSubstr("ReopenObjective"));
  absl::Status removed = core_->DeleteKeyResult("web", "conversion", "");
  EXPECT_EQ(removed.code(), absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------
// Alignment on write

TEST_F(OkrProcessTest, DependsOnLoop_IsRejectedNamingTheField) {
  Create("da", "dept-a");
  Create("ta", "team-a", "da");
  // da needs ta (its child); ta depending on da closes the loop.
  Objective patch;
  patch.id = "ta";
  patch.depends_on = {"da"};
  auto looped = core_->UpdateObjective(patch, {"depends_on"}, "");
  EXPECT_EQ(looped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(looped.status().message(),
            "objective.depends_on: this change would create an alignment loop: objectives/ta "
            "depends on objectives/da; objectives/ta has parent objectives/da");
  EXPECT_THAT(Get("ta").depends_on, IsEmpty());

  // The same loop on create.
  Objective loop_on_create = MakeObjective("tb", "team-a", "da");
  loop_on_create.depends_on = {"da"};
  auto created = core_->CreateObjective(loop_on_create, "");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("objective.depends_on: this change would"));
}

TEST_F(OkrProcessTest, ContributesToLoop_IsRejectedNamingTheField) {
  Create("pay", "team-b");
  Metric("pay", "latency", 900, 300);
  Objective web = MakeObjective("web", "team-a");
  web.depends_on = {"pay"};
  Create(web);
  // pay would need web (web contributes to its key result) while web depends on pay.
  Objective patch;
  patch.id = "web";
  patch.contributes_to = {"objectives/pay/keyResults/latency"};
  auto looped = core_->UpdateObjective(patch, {"contributes_to"}, "");
  EXPECT_EQ(looped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(looped.status().message(), HasSubstr("objective.contributes_to"));
  EXPECT_THAT(looped.status().message(), HasSubstr("loop"));

  patch.contributes_to = {"objectives/pay/keyResults/nope"};
  auto missing = core_->UpdateObjective(patch, {"contributes_to"}, "");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("objective.contributes_to: objectives/pay/keyResults/nope does not exist"));
}

TEST_F(OkrProcessTest, ParentOfNonAncestorTeam_IsRejected) {
  Create("ta", "team-a");
  Create("tb", "team-b");
  Objective sideways = MakeObjective("tb2", "team-b", "ta");
  auto created = core_->CreateObjective(sideways, "");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("objective.parent"));
  EXPECT_THAT(created.status().message(), HasSubstr("not an ancestor of teams/team-b"));

  Objective same_team = MakeObjective("tb3", "team-b", "tb");
  auto same = core_->CreateObjective(same_team, "");
  EXPECT_EQ(same.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(same.status().message(), HasSubstr("objective.parent"));
}

TEST_F(OkrProcessTest, NegativeWeight_IsInvalidArgumentNamingTheField) {
  Objective o = MakeObjective("ta", "team-a");
  o.weight = -1;
  auto created = core_->CreateObjective(o, "");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("objective.weight must be"));
}

TEST_F(OkrProcessTest, MetricKeyWithLineBreak_IsInvalidArgumentNamingTheField) {
  Create("ta", "team-a");
  KeyResult kr;
  kr.objective_id = "ta";
  kr.id = "conversion";
  kr.title = "Conversion";
  kr.type = KeyResultType::kMetric;
  kr.metric = {2, 3, 2, "%"};
  kr.metric_key = "checkout\nconversion";
  auto created = core_->CreateKeyResult(kr, "");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("key_result.metric.metric_key"));
}

// ---------------------------------------------------------------------------------------
// Roll-up through the alignment tree

TEST_F(OkrProcessTest, Rollup_ThroughThreeLevelsWithChildrenWeightedLikeKeyResults) {
  Create("co", "company", "", ProgressSource::kKeyResultsAndChildren);
  Create("da", "dept-a", "co", ProgressSource::kKeyResultsAndChildren, /*weight=*/3);
  Milestone("da", "launch");
  Create("ta", "team-a", "da");
  Metric("ta", "conversion", 0, 10);
  Create("db", "dept-b", "co");  // KEY_RESULTS: ignores its children
  Metric("db", "latency", 0, 4);
  Create("tb", "team-b", "db");
  Milestone("tb", "ship");

  CheckInValue("ta", "conversion", 5);
  EXPECT_DOUBLE_EQ(Progress("ta"), 0.5);
  EXPECT_DOUBLE_EQ(Progress("da"), 0.25);    // (0 * 1 + 0.5 * 1) / 2
  EXPECT_DOUBLE_EQ(Progress("co"), 0.1875);  // (0.25 * 3 + 0 * 1) / 4

  CheckInValue("tb", "ship", 1);  // moves tb only: db does not roll up children
  EXPECT_DOUBLE_EQ(Progress("tb"), 1);
  EXPECT_DOUBLE_EQ(Progress("db"), 0);
  EXPECT_DOUBLE_EQ(Progress("co"), 0.1875);

  CheckInValue("db", "latency", 2);
  EXPECT_DOUBLE_EQ(Progress("co"), 0.3125);  // (0.25 * 3 + 0.5) / 4

  CheckInValue("da", "launch", 1);
  EXPECT_DOUBLE_EQ(Progress("da"), 0.75);    // (1 + 0.5) / 2
  EXPECT_DOUBLE_EQ(Progress("co"), 0.6875);  // (0.75 * 3 + 0.5) / 4

  Objective patch;
  patch.id = "da";
  patch.weight = 1;
  ASSERT_TRUE(core_->UpdateObjective(patch, {"weight"}, "").ok());
  EXPECT_DOUBLE_EQ(Progress("co"), 0.625);  // (0.75 + 0.5) / 2

  patch.id = "db";
  patch.progress_source = ProgressSource::kKeyResultsAndChildren;
  auto db = core_->UpdateObjective(patch, {"progress_source"}, "");
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_DOUBLE_EQ(db->progress, 0.75);    // (0.5 + tb 1) / 2
  EXPECT_DOUBLE_EQ(Progress("co"), 0.75);  // (0.75 + 0.75) / 2

  patch.id = "co";
  patch.progress_source = ProgressSource::kKeyResults;
  ASSERT_TRUE(core_->UpdateObjective(patch, {"progress_source"}, "").ok());
  EXPECT_DOUBLE_EQ(Progress("co"), 0);  // no key results of its own
}

TEST_F(OkrProcessTest, MoveAndDelete_RecomputeOldAndNewParent) {
  Create("co", "company", "", ProgressSource::kKeyResultsAndChildren);
  Create("co2", "company", "", ProgressSource::kKeyResultsAndChildren);
  Create("da", "dept-a", "co");
  Milestone("da", "launch");
  CheckInValue("da", "launch", 1);
  Create("db", "dept-b", "co");
  Metric("db", "latency", 0, 10);
  CheckInValue("db", "latency", 5);
  EXPECT_DOUBLE_EQ(Progress("co"), 0.75);
  EXPECT_DOUBLE_EQ(Progress("co2"), 0);

  Objective patch;
  patch.id = "da";
  patch.parent_id = "co2";
  ASSERT_TRUE(core_->UpdateObjective(patch, {"parent"}, "").ok());
  EXPECT_DOUBLE_EQ(Progress("co"), 0.5);
  EXPECT_DOUBLE_EQ(Progress("co2"), 1);

  ASSERT_TRUE(core_->DeleteObjective("db", "", /*force=*/true).ok());
  EXPECT_DOUBLE_EQ(Progress("co"), 0);
  ASSERT_TRUE(core_->DeleteObjective("da", "", /*force=*/true).ok());
  EXPECT_DOUBLE_EQ(Progress("co2"), 0);

  // A new child (progress 0) weighs in on a parent that rolls up children.
  Create("dc", "dept-a", "co2");
  Create("dd", "dept-b", "co2");
  Milestone("dd", "done");
  CheckInValue("dd", "done", 1);
  EXPECT_DOUBLE_EQ(Progress("co2"), 0.5);
}

TEST_F(OkrProcessTest, DeletingKeyResult_MovesEveryAncestor) {
  Create("co", "company", "", ProgressSource::kKeyResultsAndChildren);
  Create("da", "dept-a", "co", ProgressSource::kKeyResultsAndChildren);
  Create("ta", "team-a", "da");
  Milestone("ta", "a");
  Milestone("ta", "b");
  CheckInValue("ta", "a", 1);
  EXPECT_DOUBLE_EQ(Progress("co"), 0.5);
  ASSERT_TRUE(core_->DeleteKeyResult("ta", "b", "").ok());
  EXPECT_DOUBLE_EQ(Progress("ta"), 1);
  EXPECT_DOUBLE_EQ(Progress("da"), 1);
  EXPECT_DOUBLE_EQ(Progress("co"), 1);
}

// ---------------------------------------------------------------------------------------
// Alignment views

TEST_F(OkrProcessTest, AlignmentTree_ByRootAndByTeamAndCycle) {
  Create("co", "company");
  Create("da", "dept-a", "co");
  Create("db", "dept-b", "co");
  Create("ta", "team-a", "da");
  Create("da2", "dept-a");

  auto tree = core_->GetAlignmentTree({"co", "", "", 0});
  ASSERT_TRUE(tree.ok()) << tree.status();
  ASSERT_THAT(*tree, SizeIs(1));
  const AlignmentNode& co = (*tree)[0];
  EXPECT_EQ(co.objective.id, "co");
  EXPECT_DOUBLE_EQ(co.objective.expected_progress, 0.5);
  ASSERT_THAT(co.children, SizeIs(2));
  EXPECT_EQ(co.children[0].objective.id, "da");
  EXPECT_EQ(co.children[1].objective.id, "db");
  ASSERT_THAT(co.children[0].children, SizeIs(1));
  EXPECT_EQ(co.children[0].children[0].objective.id, "ta");

  auto shallow = core_->GetAlignmentTree({"co", "", "", 1});
  ASSERT_TRUE(shallow.ok());
  ASSERT_THAT((*shallow)[0].children, SizeIs(2));
  EXPECT_THAT((*shallow)[0].children[0].children, IsEmpty());

  // dept-a's roots in q4: da (parent of another team) and da2 (no parent).
  auto team = core_->GetAlignmentTree({"", "dept-a", "q4", 0});
  ASSERT_TRUE(team.ok()) << team.status();
  ASSERT_THAT(*team, SizeIs(2));
  EXPECT_EQ((*team)[0].objective.id, "da");
  EXPECT_EQ((*team)[1].objective.id, "da2");
  EXPECT_EQ((*team)[0].children[0].objective.id, "ta");

  EXPECT_EQ(core_->GetAlignmentTree({"nope", "", "", 0}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->GetAlignmentTree({"", "dept-a", "", 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(OkrProcessTest, Contradiction_IsReportedAndBlocksAgreement) {
  Create("web", "team-a");
  Metric("web", "conversion", 2, 3, "checkout.conversion");
  Create("ops", "team-b");
  Metric("ops", "cut", 3, 2, "checkout.conversion");

  auto findings = core_->CheckAlignment("q4", "team-a");
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_THAT(*findings, SizeIs(1));
  const Finding& f = (*findings)[0];
  EXPECT_EQ(f.code, FindingCode::kContradiction);
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_THAT(f.subjects,
              ElementsAre("objectives/ops", "objectives/ops/keyResults/cut", "objectives/web",
                          "objectives/web/keyResults/conversion", "teams/team-a", "teams/team-b"));

  ASSERT_TRUE(core_->ProposeObjective("web", "").ok());
  auto blocked = core_->AgreeObjective("web", "team-a", "ana");
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(blocked.status().message(), HasSubstr("CONTRADICTION"));
  EXPECT_THAT(Get("web").agreements, IsEmpty());

  // Agreeing on one direction resolves it (ops is a DRAFT: free to change).
  KeyResult patch;
  patch.objective_id = "ops";
  patch.id = "cut";
  patch.metric.start_value = 2;
  patch.metric.target_value = 3;
  ASSERT_TRUE(
      core_->UpdateKeyResult(patch, {"metric.start_value", "metric.target_value"}, "").ok());
  EXPECT_THAT(*core_->CheckAlignment("q4", ""), IsEmpty());
  auto agreed = core_->AgreeObjective("web", "team-a", "ana");
  ASSERT_TRUE(agreed.ok()) << agreed.status();
  EXPECT_EQ(agreed->state, ObjectiveState::kAgreed);
}

TEST_F(OkrProcessTest, ProposedWithoutKeyResults_CannotBeAgreed) {
  Create("web", "team-a");
  ASSERT_TRUE(core_->ProposeObjective("web", "").ok());
  auto blocked = core_->AgreeObjective("web", "team-a", "ana");
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(blocked.status().message(), HasSubstr("NO_KEY_RESULTS"));
}

// ---------------------------------------------------------------------------------------
// Grading and carry-over

TEST_F(OkrProcessTest, Close_CommittedAtPointNineIsMissed) {
  Create("web", "team-a");
  Metric("web", "conversion", 0, 10);
  CheckInValue("web", "conversion", 9);

  auto early = core_->CloseObjective("web", {});
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);

  MakeAgreed("web");
  auto closed = core_->CloseObjective("web", {});
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->state, ObjectiveState::kClosed);
  EXPECT_TRUE(closed->scored);
  EXPECT_DOUBLE_EQ(closed->score, 0.9);
  EXPECT_EQ(closed->outcome, Outcome::kMissed);
  auto kr = core_->GetKeyResult("web", "conversion");
  ASSERT_TRUE(kr->score.has_value());
  EXPECT_DOUBLE_EQ(*kr->score, 0.9);
  EXPECT_EQ(kr->score_reason, "");

  // Graded history: no more target edits, but no failure either for reads.
  KeyResult patch;
  patch.objective_id = "web";
  patch.id = "conversion";
  patch.metric.target_value = 20;
  EXPECT_EQ(core_->UpdateKeyResult(patch, {"metric.target_value"}, "", true).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(OkrProcessTest, Close_AspirationalAtPointSevenIsMetWithExplicitScore) {
  Objective web = MakeObjective("web", "team-a");
  web.kind = ObjectiveKind::kAspirational;
  Create(web);
  Metric("web", "conversion", 0, 10);
  Milestone("web", "launch");
  CheckInValue("web", "conversion", 4);  // progress 0.4; the team scores it 0.4 anyway
  MakeAgreed("web");

  ExplicitScores missing_reason = {{"launch", {0.5, ""}}};
  auto refused = core_->CloseObjective("web", missing_reason);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("key_result_scores[launch].reason"));
  EXPECT_EQ(Get("web").state, ObjectiveState::kAgreed);

  // The launch slipped a day past the cycle: the team scores it 1.0.
  ExplicitScores scores = {{"launch", {1.0, "launched a day after the cycle ended"}}};
  auto closed = core_->CloseObjective("web", scores);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_DOUBLE_EQ(closed->score, 0.7);  // (0.4 + 1.0) / 2
  EXPECT_EQ(closed->outcome, Outcome::kMet);
  auto launch = core_->GetKeyResult("web", "launch");
  EXPECT_DOUBLE_EQ(*launch->score, 1.0);
  EXPECT_EQ(launch->score_reason, "launched a day after the cycle ended");
  EXPECT_DOUBLE_EQ(launch->progress, 0);
}

TEST_F(OkrProcessTest, CarryOver_CopiesKeyResultsAndTrackerLinks) {
  Objective ta = MakeObjective("ta", "team-a", "", ProgressSource::kKeyResults, /*weight=*/2);
  ta.kind = ObjectiveKind::kAspirational;
  Create(ta);
  Metric("ta", "nps", 0, 10, "checkout.nps");
  CheckInValue("ta", "nps", 4);
  KeyResult epics;
  epics.objective_id = "ta";
  epics.id = "epics";
  epics.title = "Ship the epics";
  epics.type = KeyResultType::kWorkItems;
  ASSERT_TRUE(core_->CreateKeyResult(epics, "").ok());
  for (const auto& [key, done] :
       std::vector<std::pair<std::string, bool>>{{"OKRX-1", true}, {"OKRX-2", false}}) {
    WorkItem item;
    item.tracker = Tracker::kJira;
    item.key = key;
    item.done = done;
    ASSERT_TRUE(core_->LinkWorkItem("ta", "epics", item, "").ok());
  }
  EXPECT_DOUBLE_EQ(Progress("ta"), 0.45);  // (0.4 + 0.5) / 2

  auto early = core_->CarryOverObjective("ta", "q1", "ta-next");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  MakeAgreed("ta");

  auto same_cycle = core_->CarryOverObjective("ta", "q4", "");
  EXPECT_EQ(same_cycle.status().code(), absl::StatusCode::kInvalidArgument);
  auto no_cycle = core_->CarryOverObjective("ta", "q9", "");
  EXPECT_EQ(no_cycle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_cycle.status().message(), HasSubstr("cycle: cycles/q9 does not exist"));

  auto copy = core_->CarryOverObjective("ta", "q1", "ta-next");
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(copy->id, "ta-next");
  EXPECT_EQ(copy->cycle_id, "q1");
  EXPECT_EQ(copy->team_id, "team-a");
  EXPECT_EQ(copy->state, ObjectiveState::kDraft);
  EXPECT_EQ(copy->kind, ObjectiveKind::kAspirational);
  EXPECT_DOUBLE_EQ(copy->weight, 2);
  EXPECT_EQ(copy->carried_over_from, "ta");
  EXPECT_THAT(copy->agreements, IsEmpty());
  EXPECT_DOUBLE_EQ(copy->progress, 0.25);  // nps starts again from 4: 0; epics 0.5

  auto nps = core_->GetKeyResult("ta-next", "nps");
  ASSERT_TRUE(nps.ok()) << nps.status();
  EXPECT_DOUBLE_EQ(nps->metric.start_value, 4);
  EXPECT_DOUBLE_EQ(nps->metric.target_value, 10);
  EXPECT_EQ(nps->metric_key, "checkout.nps");
  EXPECT_DOUBLE_EQ(nps->progress, 0);
  auto copied_epics = core_->GetKeyResult("ta-next", "epics");
  ASSERT_TRUE(copied_epics.ok()) << copied_epics.status();
  EXPECT_EQ(copied_epics->totals.item_count, 2);
  EXPECT_EQ(copied_epics->totals.done_count, 1);
  EXPECT_DOUBLE_EQ(copied_epics->progress, 0.5);

  auto links = core_->ListWorkItemLinks("ta-next", "epics", {});
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_THAT(links->items, SizeIs(2));
  EXPECT_EQ(links->items[0].item.key, "OKRX-1");
  EXPECT_TRUE(links->items[0].item.done);
  EXPECT_EQ(links->items[1].item.key, "OKRX-2");
  EXPECT_THAT(*core_->FindWorkItemLinks(Tracker::kJira, "OKRX-2"), SizeIs(2));

  // Closing the item moves both the source and the copy.
  WorkItem close;
  close.tracker = Tracker::kJira;
  close.key = "OKRX-2";
  close.done = true;
  ASSERT_TRUE(core_->UpdateWorkItem(close, {"done"}).ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("ta-next", "epics")->progress, 1);
  EXPECT_DOUBLE_EQ(Progress("ta-next"), 0.5);

  auto taken = core_->CarryOverObjective("ta", "q1", "ta-next");
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(OkrProcessTest, CarryOver_CommittedObjectiveIsFailedPrecondition) {
  Create("web", "team-a");
  Metric("web", "conversion", 0, 10);
  MakeAgreed("web");
  auto copy = core_->CarryOverObjective("web", "q1", "");
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(copy.status().message(), HasSubstr("committed"));
}

}  // namespace
}  // namespace okr::core
