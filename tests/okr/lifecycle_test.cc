#include "service/okr/lifecycle.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01

Objective MakeObjective(ObjectiveState state, std::string team = "web") {
  Objective o;
  o.id = "o1";
  o.title = "Delight customers";
  o.team_id = std::move(team);
  o.cycle_id = "q1";
  o.state = state;
  return o;
}

void ExpectStatus(const absl::Status& s, absl::StatusCode code, const std::string& fragment) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_THAT(s.message(), HasSubstr(fragment)) << s;
}

TEST(ObjectiveStateNameTest, NamesEveryState) {
  EXPECT_EQ(ObjectiveStateName(ObjectiveState::kDraft), "DRAFT");
  EXPECT_EQ(ObjectiveStateName(ObjectiveState::kProposed), "PROPOSED");
  EXPECT_EQ(ObjectiveStateName(ObjectiveState::kAgreed), "AGREED");
  EXPECT_EQ(ObjectiveStateName(ObjectiveState::kClosed), "CLOSED");
}

TEST(ProposeTest, Propose_MovesDraftToProposed) {
  Objective o = MakeObjective(ObjectiveState::kDraft);
  absl::StatusOr<Transition> t = Propose(o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kProposed);
  EXPECT_EQ(t->from, ObjectiveState::kDraft);
  EXPECT_EQ(t->to, ObjectiveState::kProposed);
  EXPECT_TRUE(t->state_changed());
  EXPECT_EQ(t->description, "objectives/o1 was proposed for agreement");
}

struct WrongStateCase {
  const char* name;
  ObjectiveState state;
  const char* fragment;
};

class ProposeWrongStateTest : public ::testing::TestWithParam<WrongStateCase> {};

TEST_P(ProposeWrongStateTest, Propose_FromOtherStates_FailsNamingTheState) {
  Objective o = MakeObjective(GetParam().state);
  ExpectStatus(Propose(o).status(), absl::StatusCode::kFailedPrecondition, GetParam().fragment);
  EXPECT_EQ(o.state, GetParam().state);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProposeWrongStateTest,
    ::testing::Values(WrongStateCase{"Proposed", ObjectiveState::kProposed,
                                     "objectives/o1 is PROPOSED"},
                      WrongStateCase{"Agreed", ObjectiveState::kAgreed, "objectives/o1 is AGREED"},
                      WrongStateCase{"Closed", ObjectiveState::kClosed, "objectives/o1 is CLOSED"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// Agreement

TEST(RequiredAgreementTeamsTest, IsOwnTeamPlusTeamsOfDependencies_SortedAndUnique) {
  Objective o = MakeObjective(ObjectiveState::kProposed, "web");
  o.depends_on = {"d1", "d2", "d3"};
  Objective d1 = MakeObjective(ObjectiveState::kAgreed, "payments");
  d1.id = "d1";
  Objective d2 = MakeObjective(ObjectiveState::kAgreed, "web");
  d2.id = "d2";
  Objective d3 = MakeObjective(ObjectiveState::kAgreed, "payments");
  d3.id = "d3";
  absl::StatusOr<std::vector<std::string>> teams = RequiredAgreementTeams(o, {d3, d1, d2});
  ASSERT_TRUE(teams.ok()) << teams.status();
  EXPECT_THAT(*teams, ElementsAre("payments", "web"));
}

TEST(RequiredAgreementTeamsTest, MissingDependency_FailsNamingDependsOn) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  o.depends_on = {"gone"};
  ExpectStatus(RequiredAgreementTeams(o, {}).status(), absl::StatusCode::kFailedPrecondition,
               "objective.depends_on: objectives/gone does not exist");
}

TEST(AgreeTest, OwnTeamOnly_BecomesAgreedAndRecordsWhoAndWhen) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  absl::StatusOr<AgreeResult> r = Agree(o, "web", {"web"}, "alice", kNow, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->recorded);
  EXPECT_TRUE(r->pending_team_ids.empty());
  EXPECT_EQ(r->transition.from, ObjectiveState::kProposed);
  EXPECT_EQ(r->transition.to, ObjectiveState::kAgreed);
  EXPECT_EQ(r->transition.description,
            "teams/web agreed to objectives/o1 (alice); every required team has agreed, it "
            "is AGREED");
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
  ASSERT_EQ(o.agreements.size(), 1u);
  EXPECT_EQ(o.agreements[0].team_id, "web");
  EXPECT_EQ(o.agreements[0].agreed_by, "alice");
  EXPECT_EQ(o.agreements[0].agree_time, kNow);
}

TEST(AgreeTest, TwoTeams_StaysProposedUntilTheDependencyTeamAgrees) {
  Objective o = MakeObjective(ObjectiveState::kProposed, "web");
  const std::vector<std::string> required = {"payments", "web"};

  absl::StatusOr<AgreeResult> first = Agree(o, "web", required, "alice", kNow, {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->recorded);
  EXPECT_THAT(first->pending_team_ids, ElementsAre("payments"));
  EXPECT_FALSE(first->transition.state_changed());
  EXPECT_EQ(first->transition.description,
            "teams/web agreed to objectives/o1 (alice); waiting for teams/payments");
  EXPECT_EQ(o.state, ObjectiveState::kProposed);

  absl::StatusOr<AgreeResult> second =
      Agree(o, "payments", required, "bob", kNow + absl::Hours(2), {});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->pending_team_ids.empty());
  EXPECT_EQ(second->transition.to, ObjectiveState::kAgreed);
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
  ASSERT_EQ(o.agreements.size(), 2u);
  EXPECT_EQ(o.agreements[1].team_id, "payments");
  EXPECT_EQ(o.agreements[1].agreed_by, "bob");
  EXPECT_EQ(o.agreements[1].agree_time, kNow + absl::Hours(2));
}

TEST(AgreeTest, DependencyTeamFirst_OwnTeamIsStillRequired) {
  Objective o = MakeObjective(ObjectiveState::kProposed, "web");
  // The own team is required even if the caller left it out of the list.
  absl::StatusOr<AgreeResult> r = Agree(o, "payments", {"payments"}, "bob", kNow, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->pending_team_ids, ElementsAre("web"));
  EXPECT_EQ(o.state, ObjectiveState::kProposed);
  r = Agree(o, "web", {"payments"}, "alice", kNow, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
}

TEST(AgreeTest, Repeat_IsIdempotentAndKeepsTheFirstAgreement) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  const std::vector<std::string> required = {"payments", "web"};
  ASSERT_TRUE(Agree(o, "web", required, "alice", kNow, {}).ok());
  absl::StatusOr<AgreeResult> again = Agree(o, "web", required, "carol", kNow + absl::Hours(1), {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->recorded);
  EXPECT_THAT(again->pending_team_ids, ElementsAre("payments"));
  ASSERT_EQ(o.agreements.size(), 1u);
  EXPECT_EQ(o.agreements[0].agreed_by, "alice");
  EXPECT_EQ(o.agreements[0].agree_time, kNow);

  // Also once AGREED: a retried AgreeObjective succeeds without a change.
  ASSERT_TRUE(Agree(o, "payments", required, "bob", kNow, {}).ok());
  ASSERT_EQ(o.state, ObjectiveState::kAgreed);
  again = Agree(o, "payments", required, "bob", kNow, {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->recorded);
  EXPECT_FALSE(again->transition.state_changed());
  EXPECT_EQ(o.agreements.size(), 2u);
}

TEST(AgreeTest, TeamThatIsNoParty_FailsPreconditionListingTheParties) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  ExpectStatus(Agree(o, "ops", {"payments", "web"}, "eve", kNow, {}).status(),
               absl::StatusCode::kFailedPrecondition,
               "team: teams/ops is not a party to objectives/o1; it is agreed by its own team "
               "and the teams of the objectives it depends on (teams/payments, teams/web)");
  EXPECT_TRUE(o.agreements.empty());
}

TEST(AgreeTest, EmptyTeam_IsInvalidArgument) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  ExpectStatus(Agree(o, "", {"web"}, "alice", kNow, {}).status(),
               absl::StatusCode::kInvalidArgument, "team is required");
}

class AgreeWrongStateTest : public ::testing::TestWithParam<WrongStateCase> {};

TEST_P(AgreeWrongStateTest, Agree_OutsideProposed_FailsNamingTheState) {
  Objective o = MakeObjective(GetParam().state);
  ExpectStatus(Agree(o, "web", {"web"}, "alice", kNow, {}).status(),
               absl::StatusCode::kFailedPrecondition, GetParam().fragment);
  EXPECT_TRUE(o.agreements.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, AgreeWrongStateTest,
    ::testing::Values(WrongStateCase{"Draft", ObjectiveState::kDraft,
                                     "objectives/o1 is DRAFT; propose it before"},
                      WrongStateCase{"Closed", ObjectiveState::kClosed,
                                     "objectives/o1 is CLOSED; a closed objective can no "
                                     "longer be agreed"}),
    [](const auto& info) { return std::string(info.param.name); });

Finding MakeFinding(FindingCode code, std::vector<std::string> blocks, std::string message) {
  Finding f;
  f.code = code;
  f.severity = SeverityOf(code);
  f.subjects = blocks;
  f.blocks = std::move(blocks);
  f.message = std::move(message);
  return f;
}

TEST(AgreeTest, ErrorFindingOnTheObjective_BlocksNamingTheCode) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  const std::vector<Finding> findings = {MakeFinding(FindingCode::kContradiction,
                                                     {"objectives/o1", "objectives/o2"},
                                                     "they pull checkout.conversion apart.")};
  ExpectStatus(Agree(o, "web", {"web"}, "alice", kNow, findings).status(),
               absl::StatusCode::kFailedPrecondition,
               "objectives/o1 is PROPOSED; it cannot be agreed while alignment errors block "
               "it: CONTRADICTION: they pull checkout.conversion apart.");
  EXPECT_EQ(o.state, ObjectiveState::kProposed);
  EXPECT_TRUE(o.agreements.empty());
}

TEST(AgreeTest, WarningsAndErrorsBlockingOtherObjectives_DoNotBlock) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  Finding warning;
  warning.code = FindingCode::kDependencyAtRisk;
  warning.severity = Severity::kWarning;
  warning.subjects = {"objectives/o1", "objectives/d"};
  const std::vector<Finding> findings = {
      warning,
      // A child in the wrong cycle blocks the child, not this parent.
      MakeFinding(FindingCode::kCycleOutsideParent, {"objectives/child"}, "child is outside")};
  absl::StatusOr<AgreeResult> r = Agree(o, "web", {"web"}, "alice", kNow, findings);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
}

// ---------------------------------------------------------------------------------------
// Reopen and close

TEST(ReopenTest, FromAgreed_GoesToDraftClearsAgreementsAndRecordsTheReason) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  o.agreements = {{"web", "alice", kNow}, {"payments", "bob", kNow}};
  absl::StatusOr<Transition> t = Reopen(o, "the market changed");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kDraft);
  EXPECT_TRUE(o.agreements.empty());
  EXPECT_EQ(o.reopen_reason, "the market changed");
  EXPECT_EQ(t->from, ObjectiveState::kAgreed);
  EXPECT_EQ(t->to, ObjectiveState::kDraft);
  EXPECT_TRUE(t->agreements_cleared);
  EXPECT_EQ(t->description, "objectives/o1 was reopened: the market changed");
}

TEST(ReopenTest, FromProposed_DropsPartialAgreements) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  o.agreements = {{"web", "alice", kNow}};
  absl::StatusOr<Transition> t = Reopen(o, "rethink");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kDraft);
  EXPECT_TRUE(o.agreements.empty());
  EXPECT_TRUE(t->agreements_cleared);
}

TEST(ReopenTest, BlankReason_IsInvalidArgument) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  ExpectStatus(Reopen(o, "  ").status(), absl::StatusCode::kInvalidArgument, "reason is required");
  ExpectStatus(Reopen(o, std::string(16 * 1024 + 1, 'x')).status(),
               absl::StatusCode::kInvalidArgument, "reason is longer than 16384 bytes");
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
}

class ReopenWrongStateTest : public ::testing::TestWithParam<WrongStateCase> {};

TEST_P(ReopenWrongStateTest, Reopen_DraftOrClosed_FailsNamingTheState) {
  Objective o = MakeObjective(GetParam().state);
  ExpectStatus(Reopen(o, "why not").status(), absl::StatusCode::kFailedPrecondition,
               GetParam().fragment);
  EXPECT_EQ(o.state, GetParam().state);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ReopenWrongStateTest,
    ::testing::Values(WrongStateCase{"Draft", ObjectiveState::kDraft,
                                     "objectives/o1 is DRAFT; it is already open"},
                      WrongStateCase{"Closed", ObjectiveState::kClosed,
                                     "objectives/o1 is CLOSED; a closed objective is graded "
                                     "history and cannot be reopened"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CloseTest, FromAgreed_Closes) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  absl::StatusOr<Transition> t = Close(o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kClosed);
  EXPECT_EQ(t->description, "objectives/o1 was closed");
}

TEST(CloseTest, FromAnyOtherState_FailsPrecondition) {
  for (ObjectiveState s :
       {ObjectiveState::kDraft, ObjectiveState::kProposed, ObjectiveState::kClosed}) {
    Objective o = MakeObjective(s);
    ExpectStatus(Close(o).status(), absl::StatusCode::kFailedPrecondition,
                 "only an AGREED objective is a commitment that can be closed");
    EXPECT_EQ(o.state, s);
  }
}

// ---------------------------------------------------------------------------------------
// Guarded edits

struct EditAllowedCase {
  const char* name;
  ObjectiveState state;
  bool reopen;
  absl::StatusCode code;
};

class CheckEditAllowedTest : public ::testing::TestWithParam<EditAllowedCase> {};

TEST_P(CheckEditAllowedTest, GuardsAgreedAndClosedObjectives) {
  const EditAllowedCase& c = GetParam();
  for (GuardedEdit what : {GuardedEdit::kTitle, GuardedEdit::kParent, GuardedEdit::kKeyResultTarget,
                           GuardedEdit::kDependsOn}) {
    EXPECT_EQ(CheckEditAllowed(MakeObjective(c.state), what, c.reopen).code(), c.code);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CheckEditAllowedTest,
    ::testing::Values(
        EditAllowedCase{"Draft", ObjectiveState::kDraft, false, absl::StatusCode::kOk},
        EditAllowedCase{"Proposed", ObjectiveState::kProposed, false, absl::StatusCode::kOk},
        EditAllowedCase{"AgreedWithoutReopen", ObjectiveState::kAgreed, false,
                        absl::StatusCode::kFailedPrecondition},
        EditAllowedCase{"AgreedWithReopen", ObjectiveState::kAgreed, true, absl::StatusCode::kOk},
        EditAllowedCase{"ClosedWithoutReopen", ObjectiveState::kClosed, false,
                        absl::StatusCode::kFailedPrecondition},
        EditAllowedCase{"ClosedWithReopen", ObjectiveState::kClosed, true,
                        absl::StatusCode::kFailedPrecondition}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CheckEditAllowedTest, AgreedWithoutReopen_SaysWhatToDo) {
  ExpectStatus(CheckEditAllowed(MakeObjective(ObjectiveState::kAgreed),
                                GuardedEdit::kKeyResultTarget, false),
               absl::StatusCode::kFailedPrecondition,
               "objectives/o1 is AGREED; changing a key result's target changes what was "
               "agreed; set reopen = true to send it back to PROPOSED");
}

TEST(ApplyGuardedEditsTest, AgreedWithoutReopen_FailsAndLeavesTheObjective) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  o.agreements = {{"web", "alice", kNow}};
  ExpectStatus(
      ApplyGuardedEdits(o, {{GuardedEdit::kTitle, "title", "Delight customers", "Wow them"}}, false)
          .status(),
      absl::StatusCode::kFailedPrecondition, "changing the title changes what was agreed");
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
  EXPECT_EQ(o.agreements.size(), 1u);
}

TEST(ApplyGuardedEditsTest, AgreedWithReopen_GoesBackToProposedAndRecordsTheChange) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  o.agreements = {{"web", "alice", kNow}, {"payments", "bob", kNow}};
  absl::StatusOr<Transition> t = ApplyGuardedEdits(
      o,
      {{GuardedEdit::kTitle, "title", "Delight customers", "Wow them"},
       {GuardedEdit::kKeyResultTarget, "objectives/o1/keyResults/k1.metric.target_value", "3", "4"},
       {GuardedEdit::kParent, "parent", "objectives/p", "objectives/p"}},  // unchanged
      true);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kProposed);
  EXPECT_TRUE(o.agreements.empty());
  const std::string record =
      "title changed from \"Delight customers\" to \"Wow them\"; "
      "objectives/o1/keyResults/k1.metric.target_value changed from \"3\" to \"4\"";
  EXPECT_EQ(o.reopen_reason, record);
  EXPECT_EQ(t->from, ObjectiveState::kAgreed);
  EXPECT_EQ(t->to, ObjectiveState::kProposed);
  EXPECT_TRUE(t->agreements_cleared);
  EXPECT_EQ(t->description, "objectives/o1 was reopened for agreement: " + record);
}

TEST(ApplyGuardedEditsTest, Proposed_DropsAgreementsGivenToTheOldText) {
  Objective o = MakeObjective(ObjectiveState::kProposed);
  o.agreements = {{"payments", "bob", kNow}};
  absl::StatusOr<Transition> t =
      ApplyGuardedEdits(o, {{GuardedEdit::kDependsOn, "depends_on", "d1", "d1,d2"}}, false);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kProposed);
  EXPECT_TRUE(o.agreements.empty());
  EXPECT_TRUE(t->agreements_cleared);
  EXPECT_FALSE(t->state_changed());
  EXPECT_EQ(t->description, "depends_on changed from \"d1\" to \"d1,d2\"");
  EXPECT_TRUE(o.reopen_reason.empty());
}

TEST(ApplyGuardedEditsTest, UnchangedValues_NeedNoReopen) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  absl::StatusOr<Transition> t =
      ApplyGuardedEdits(o, {{GuardedEdit::kTitle, "title", "Same", "Same"}}, false);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->state_changed());
  EXPECT_EQ(t->description, "");
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
}

TEST(ApplyGuardedEditsTest, Draft_IsFreeToReshape) {
  Objective o = MakeObjective(ObjectiveState::kDraft);
  absl::StatusOr<Transition> t =
      ApplyGuardedEdits(o, {{GuardedEdit::kCycle, "cycle", "q1", "q2"}}, false);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kDraft);
  EXPECT_FALSE(t->agreements_cleared);
}

TEST(ApplyGuardedEditsTest, LongValues_AreCutInTheRecord) {
  Objective o = MakeObjective(ObjectiveState::kAgreed);
  absl::StatusOr<Transition> t =
      ApplyGuardedEdits(o, {{GuardedEdit::kTitle, "title", "a", std::string(300, 'b')}}, true);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.reopen_reason, "title changed from \"a\" to \"" + std::string(256, 'b') + "...\"");
}

struct PathCase {
  const char* path;
  std::optional<GuardedEdit> edit;
};

class ObjectivePathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(ObjectivePathTest, MapsUpdateMaskPaths) {
  EXPECT_EQ(GuardedEditForObjectivePath(GetParam().path), GetParam().edit);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ObjectivePathTest,
    ::testing::Values(PathCase{"title", GuardedEdit::kTitle},
                      PathCase{"parent", GuardedEdit::kParent},
                      PathCase{"contributes_to", GuardedEdit::kContributesTo},
                      PathCase{"depends_on", GuardedEdit::kDependsOn},
                      PathCase{"kind", GuardedEdit::kKind}, PathCase{"team", GuardedEdit::kTeam},
                      PathCase{"cycle", GuardedEdit::kCycle}, PathCase{"description", std::nullopt},
                      PathCase{"progress_source", std::nullopt}, PathCase{"weight", std::nullopt}));

class KeyResultPathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(KeyResultPathTest, MapsUpdateMaskPaths) {
  EXPECT_EQ(GuardedEditForKeyResultPath(GetParam().path), GetParam().edit);
}

INSTANTIATE_TEST_SUITE_P(
    Table, KeyResultPathTest,
    ::testing::Values(PathCase{"metric.target_value", GuardedEdit::kKeyResultTarget},
                      PathCase{"metric.start_value", GuardedEdit::kKeyResultTarget},
                      PathCase{"metric_key", GuardedEdit::kKeyResultTarget},
                      PathCase{"metric.current_value", std::nullopt},
                      PathCase{"title", std::nullopt}, PathCase{"weight", std::nullopt}));

}  // namespace
}  // namespace okr
