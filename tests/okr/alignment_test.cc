#include "service/okr/alignment.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Time Day(int year, int month, int day) {
  return absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone());
}

// Teams: company > sales > web, company > ops. Cycles: y2026 encloses q1 and q2.
// "now" is the middle of q1 (expected progress 0.5 there).
AlignmentSnapshot Org() {
  AlignmentSnapshot s;
  auto team = [&](std::string id, std::string parent) {
    Team t;
    t.id = id;
    t.display_name = id;
    t.parent_id = parent;
    s.teams.push_back(t);
  };
  team("company", "");
  team("sales", "company");
  team("web", "sales");
  team("ops", "company");
  auto cycle = [&](std::string id, absl::Time start, absl::Time end) {
    Cycle c;
    c.id = id;
    c.display_name = id;
    c.start_time = start;
    c.end_time = end;
    s.cycles.push_back(c);
  };
  cycle("y2026", Day(2026, 1, 1), Day(2027, 1, 1));
  cycle("q1", Day(2026, 1, 1), Day(2026, 4, 1));
  cycle("q2", Day(2026, 4, 1), Day(2026, 7, 1));
  s.now = Day(2026, 1, 1) + absl::Hours(24 * 45);
  return s;
}

void AddObjective(AlignmentSnapshot& s, std::string id, std::string team, std::string cycle,
                  std::string parent = "", ObjectiveState state = ObjectiveState::kDraft) {
  Objective o;
  o.id = std::move(id);
  o.title = o.id;
  o.team_id = std::move(team);
  o.cycle_id = std::move(cycle);
  o.parent_id = std::move(parent);
  o.state = state;
  s.objectives.push_back(o);
}

Objective& Obj(AlignmentSnapshot& s, const std::string& id) {
  for (Objective& o : s.objectives) {
    if (o.id == id) return o;
  }
  ADD_FAILURE() << "no objective " << id;
  static Objective none;
  return none;
}

void AddKeyResult(AlignmentSnapshot& s, std::string objective, std::string id,
                  KeyResultType type = KeyResultType::kMetric) {
  KeyResult kr;
  kr.id = std::move(id);
  kr.objective_id = std::move(objective);
  kr.title = kr.id;
  kr.type = type;
  kr.metric = {0, 10, 0, ""};
  s.key_results.push_back(kr);
}

void AddMetric(AlignmentSnapshot& s, std::string objective, std::string id, std::string key,
               double start, double target) {
  KeyResult kr;
  kr.id = std::move(id);
  kr.objective_id = std::move(objective);
  kr.title = kr.id;
  kr.type = KeyResultType::kMetric;
  kr.metric = {start, target, start, "%"};
  kr.metric_key = std::move(key);
  s.key_results.push_back(kr);
}

void ExpectInvalid(const absl::Status& s, const std::string& fragment) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(fragment)) << s;
}

std::vector<FindingCode> Codes(const std::vector<Finding>& findings) {
  std::vector<FindingCode> codes;
  for (const Finding& f : findings) codes.push_back(f.code);
  return codes;
}

// ---------------------------------------------------------------------------------------
// Names and severities

struct CodeCase {
  FindingCode code;
  const char* name;
  Severity severity;
};

class FindingCodeTest : public ::testing::TestWithParam<CodeCase> {};

TEST_P(FindingCodeTest, HasNameAndFixedSeverity) {
  EXPECT_EQ(FindingCodeName(GetParam().code), GetParam().name);
  EXPECT_EQ(SeverityOf(GetParam().code), GetParam().severity);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FindingCodeTest,
    ::testing::Values(
        CodeCase{FindingCode::kCycleInAlignment, "CYCLE_IN_ALIGNMENT", Severity::kError},
        CodeCase{FindingCode::kCycleOutsideParent, "CYCLE_OUTSIDE_PARENT", Severity::kError},
        CodeCase{FindingCode::kOrphan, "ORPHAN", Severity::kWarning},
        CodeCase{FindingCode::kContradiction, "CONTRADICTION", Severity::kError},
        CodeCase{FindingCode::kDependencyAtRisk, "DEPENDENCY_AT_RISK", Severity::kWarning},
        CodeCase{FindingCode::kTooManyKeyResults, "TOO_MANY_KEY_RESULTS", Severity::kWarning},
        CodeCase{FindingCode::kNoKeyResults, "NO_KEY_RESULTS", Severity::kError},
        CodeCase{FindingCode::kOutputOnly, "OUTPUT_ONLY", Severity::kWarning}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SeverityNameTest, NamesBoth) {
  EXPECT_EQ(SeverityName(Severity::kError), "ERROR");
  EXPECT_EQ(SeverityName(Severity::kWarning), "WARNING");
}

TEST(TeamAncestorsTest, NearestFirstAndStopsAtLoops) {
  AlignmentSnapshot s = Org();
  EXPECT_THAT(TeamAncestors(s.teams, "web"), ElementsAre("sales", "company"));
  EXPECT_THAT(TeamAncestors(s.teams, "company"), IsEmpty());
  EXPECT_THAT(TeamAncestors(s.teams, "unknown"), IsEmpty());
  s.teams[0].parent_id = "web";  // company -> web -> sales -> company
  EXPECT_THAT(TeamAncestors(s.teams, "web"), ElementsAre("sales", "company"));
}

// ---------------------------------------------------------------------------------------
// Write-time rules: parents

struct ParentCase {
  const char* name;
  const char* team;
  const char* cycle;
  const char* parent;
  const char* error;  // "" if valid
};

class ValidateParentTest : public ::testing::TestWithParam<ParentCase> {};

TEST_P(ValidateParentTest, FollowsTheTeamTreeAndEnclosingCycles) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "company-y", "company", "y2026");
  AddObjective(s, "company-q1", "company", "q1");
  AddObjective(s, "company-q2", "company", "q2");
  AddObjective(s, "sales-q1", "sales", "q1");
  AddObjective(s, "web-y", "web", "y2026");
  AddObjective(s, "web-q1", "web", "q1");
  AddObjective(s, "web-q2", "web", "q2");
  AddObjective(s, "ops-q1", "ops", "q1");
  Objective candidate;
  candidate.id = "new";
  candidate.team_id = GetParam().team;
  candidate.cycle_id = GetParam().cycle;
  candidate.parent_id = GetParam().parent;
  const absl::Status status = ValidateParent(s, candidate);
  if (std::string(GetParam().error).empty()) {
    EXPECT_TRUE(status.ok()) << status;
  } else {
    ExpectInvalid(status, GetParam().error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateParentTest,
    ::testing::Values(
        ParentCase{"NoParent", "web", "q1", "", ""},
        ParentCase{"ParentTeam", "web", "q1", "sales-q1", ""},
        ParentCase{"Grandparent", "web", "q1", "company-y", ""},
        // Allowed on write; reported as CYCLE_OUTSIDE_PARENT.
        ParentCase{"AncestorTeamOtherCycle", "web", "q1", "company-q2", ""},
        ParentCase{"SameTeamEnclosingCycle", "web", "q1", "web-y", ""},
        ParentCase{"SameTeamSameCycle", "web", "q1", "web-q1",
                   "objective.parent: objectives/web-q1 belongs to the same team (teams/web) "
                   "and its cycle cycles/q1 does not enclose cycles/q1"},
        ParentCase{"SameTeamNeighbourCycle", "web", "q1", "web-q2",
                   "its cycle cycles/q2 does not enclose cycles/q1"},
        ParentCase{"SiblingBranch", "web", "q1", "ops-q1",
                   "objective.parent: objectives/ops-q1 belongs to teams/ops, which is not an "
                   "ancestor of teams/web (its ancestors: teams/sales, teams/company); align "
                   "sideways with contributes_to instead"},
        ParentCase{"DescendantTeam", "sales", "q1", "web-q1",
                   "objectives/web-q1 belongs to teams/web, which is not an ancestor of "
                   "teams/sales"},
        ParentCase{"RootTeamHasNoAncestors", "company", "q1", "sales-q1",
                   "(it has no ancestor teams)"},
        ParentCase{"Missing", "web", "q1", "nope",
                   "objective.parent: objectives/nope does not exist"},
        ParentCase{"Itself", "web", "q1", "new",
                   "objective.parent must not be the objective itself"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// Write-time rules: loops

TEST(CheckNoAlignmentLoopTest, ParentLoop_IsRejectedNamingParentAndThePath) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "web", "q1", /*parent=*/"a");
  Objective a = Obj(s, "a");
  a.parent_id = "b";
  const absl::Status status = CheckNoAlignmentLoop(s, a);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "objective.parent: this change would create an alignment loop: objectives/b has "
            "parent objectives/a; objectives/a has parent objectives/b");
}

TEST(CheckNoAlignmentLoopTest, DependencyLoop_IsRejectedNamingDependsOn) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  Obj(s, "b").depends_on = {"a"};
  Objective a = Obj(s, "a");
  a.depends_on = {"b"};
  const absl::Status status = CheckNoAlignmentLoop(s, a);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "objective.depends_on: this change would create an alignment loop: objectives/a "
            "depends on objectives/b; objectives/b depends on objectives/a");
}

TEST(CheckNoAlignmentLoopTest, ContributionLoop_IsRejectedNamingContributesTo) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  AddKeyResult(s, "a", "ka");
  AddKeyResult(s, "b", "kb");
  Obj(s, "b").contributes_to = {"objectives/a/keyResults/ka"};
  Objective a = Obj(s, "a");
  a.contributes_to = {"objectives/b/keyResults/kb"};
  const absl::Status status = CheckNoAlignmentLoop(s, a);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "objective.contributes_to: this change would create an alignment loop: "
            "objectives/b contributes to objectives/a/keyResults/ka; objectives/a contributes "
            "to objectives/b/keyResults/kb");
}

TEST(CheckNoAlignmentLoopTest, MixedLoop_AcrossAllThreeRelations) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  AddObjective(s, "d", "company", "y2026");
  Obj(s, "b").depends_on = {"d"};
  Objective a = Obj(s, "a");
  a.depends_on = {"b"};
  a.parent_id = "d";  // d needs a (child), a needs b, b needs d
  const absl::Status status = CheckNoAlignmentLoop(s, a);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "objective.parent: this change would create an alignment loop: objectives/a "
            "depends on objectives/b; objectives/b depends on objectives/d; objectives/a has "
            "parent objectives/d");
}

TEST(CheckNoAlignmentLoopTest, ParentDependingOnItsOwnChild_IsNoLoop) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "parent", "company", "y2026");
  AddObjective(s, "child", "web", "q1");
  Obj(s, "parent").depends_on = {"child"};
  Objective child = Obj(s, "child");
  child.parent_id = "parent";
  EXPECT_TRUE(CheckNoAlignmentLoop(s, child).ok());
}

TEST(CheckNoAlignmentLoopTest, TheCandidateReplacesItsStoredVersion) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  Obj(s, "a").depends_on = {"b"};  // stored
  // b now depends on a: a loop with the stored a.
  Objective b = Obj(s, "b");
  b.depends_on = {"a"};
  EXPECT_EQ(CheckNoAlignmentLoop(s, b).code(), absl::StatusCode::kInvalidArgument);
  // a drops its dependency and that is what is checked, not the stored version.
  s.objectives[1].depends_on = {"a"};  // stored b depends on a
  Objective a = Obj(s, "a");
  a.depends_on = {};
  EXPECT_TRUE(CheckNoAlignmentLoop(s, a).ok());
}

TEST(CheckNoAlignmentLoopTest, UnresolvableReferences_AreIgnored) {
  AlignmentSnapshot s = Org();
  Objective a;
  a.id = "a";
  a.parent_id = "ghost";
  a.depends_on = {"phantom"};
  a.contributes_to = {"objectives/x/keyResults/y", "not a name"};
  EXPECT_TRUE(CheckNoAlignmentLoop(s, a).ok());
}

// ---------------------------------------------------------------------------------------
// Write-time rules: references

struct WriteCase {
  const char* name;
  std::vector<std::string> contributes_to;
  std::vector<std::string> depends_on;
  const char* error;  // "" if valid
};

class ValidateAlignmentOnWriteTest : public ::testing::TestWithParam<WriteCase> {};

TEST_P(ValidateAlignmentOnWriteTest, ChecksReferences) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  AddKeyResult(s, "a", "ka");
  AddKeyResult(s, "b", "kb");
  Objective a = Obj(s, "a");
  a.contributes_to = GetParam().contributes_to;
  a.depends_on = GetParam().depends_on;
  const absl::Status status = ValidateAlignmentOnWrite(s, a);
  if (std::string(GetParam().error).empty()) {
    EXPECT_TRUE(status.ok()) << status;
  } else {
    ExpectInvalid(status, GetParam().error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateAlignmentOnWriteTest,
    ::testing::Values(
        WriteCase{"ValidContribution", {"objectives/b/keyResults/kb"}, {}, ""},
        WriteCase{"ValidDependency", {}, {"b"}, ""},
        // a would wait for b while feeding b's key result: a loop.
        WriteCase{"ContributingToWhatItDependsOn",
                  {"objectives/b/keyResults/kb"},
                  {"b"},
                  "objective.contributes_to: this change would create an alignment loop: "
                  "objectives/a depends on objectives/b; objectives/a contributes to "
                  "objectives/b/keyResults/kb"},
        WriteCase{"MalformedKeyResultName",
                  {"objectives/b"},
                  {},
                  "objective.contributes_to: malformed resource name \"objectives/b\""},
        WriteCase{"DuplicateContribution",
                  {"objectives/b/keyResults/kb", "objectives/b/keyResults/kb"},
                  {},
                  "objective.contributes_to: objectives/b/keyResults/kb is listed twice"},
        WriteCase{"OwnKeyResult",
                  {"objectives/a/keyResults/ka"},
                  {},
                  "objective.contributes_to: objectives/a/keyResults/ka is a key result of "
                  "this objective"},
        WriteCase{"MissingKeyResult",
                  {"objectives/b/keyResults/nope"},
                  {},
                  "objective.contributes_to: objectives/b/keyResults/nope does not exist"},
        WriteCase{"InvalidDependencyId", {}, {"B!"}, "objective.depends_on: invalid id"},
        WriteCase{"DuplicateDependency",
                  {},
                  {"b", "b"},
                  "objective.depends_on: objectives/b is listed twice"},
        WriteCase{"SelfDependency",
                  {},
                  {"a"},
                  "objective.depends_on must not contain the objective itself"},
        WriteCase{"MissingDependency",
                  {},
                  {"nope"},
                  "objective.depends_on: objectives/nope does not exist"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ValidateAlignmentOnWriteTest, TooManyLinks_AreRejected) {
  AlignmentSnapshot s = Org();
  Objective a;
  a.id = "a";
  a.depends_on.assign(kMaxAlignmentLinks + 1, "b");
  ExpectInvalid(ValidateAlignmentOnWrite(s, a), "objective.depends_on: has more than 100");
}

TEST(ValidateAlignmentOnWriteTest, RunsParentAndLoopChecks) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "sales", "q1");
  AddKeyResult(s, "a", "ka");
  Obj(s, "b").contributes_to = {"objectives/a/keyResults/ka"};
  Objective a = Obj(s, "a");
  a.parent_id = "b";  // a valid parent team, but b also feeds a's key result: a loop
  ExpectInvalid(ValidateAlignmentOnWrite(s, a), "objective.parent: this change would create");
  a.parent_id = "nope";
  ExpectInvalid(ValidateAlignmentOnWrite(s, a), "objective.parent: objectives/nope");
}

// ---------------------------------------------------------------------------------------
// Findings

TEST(CheckAlignmentTest, CleanAlignment_HasNoFindings) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "company-y", "company", "y2026", "", ObjectiveState::kAgreed);
  AddObjective(s, "web-q1", "web", "q1", "company-y", ObjectiveState::kAgreed);
  AddKeyResult(s, "company-y", "k1");
  AddKeyResult(s, "web-q1", "k1");
  AddKeyResult(s, "web-q1", "k2", KeyResultType::kWorkItems);
  EXPECT_THAT(CheckAlignment(s, ""), IsEmpty());
}

TEST(CheckAlignmentTest, StoredLoop_IsCycleInAlignmentBlockingEveryMember) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1", "b");
  AddObjective(s, "b", "web", "q1", "a");
  AddObjective(s, "c", "web", "q1", "a");  // hangs off the loop, is not on it
  const std::vector<Finding> findings = CheckAlignment(s, "q1");
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, FindingCode::kCycleInAlignment);
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_THAT(f.subjects, ElementsAre("objectives/a", "objectives/b"));
  EXPECT_THAT(f.blocks, ElementsAre("objectives/a", "objectives/b"));
  EXPECT_EQ(f.message,
            "Alignment loop: objectives/b has parent objectives/a; objectives/a has parent "
            "objectives/b. Break it by changing one parent, contribution or dependency.");
}

TEST(CheckAlignmentTest, SelfDependency_IsALoopOfOne) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  Obj(s, "a").depends_on = {"a"};
  const std::vector<Finding> findings = CheckAlignment(s, "q1");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, FindingCode::kCycleInAlignment);
  EXPECT_EQ(findings[0].message,
            "Alignment loop: objectives/a depends on objectives/a. Break it by changing one "
            "parent, contribution or dependency.");
}

TEST(CheckAlignmentTest, ChildCycleOutsideParentCycle_BlocksTheChildOnly) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "c1", "company", "q1");
  AddObjective(s, "w2", "web", "q2", "c1");
  const std::vector<Finding> findings = CheckAlignment(s, "");
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, FindingCode::kCycleOutsideParent);
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_THAT(f.subjects, ElementsAre("cycles/q1", "cycles/q2", "objectives/c1", "objectives/w2"));
  EXPECT_THAT(f.blocks, ElementsAre("objectives/w2"));
  EXPECT_EQ(f.message,
            "objectives/w2 (teams/web) runs in cycles/q2 (2026-04-01 to 2026-07-01), which "
            "lies outside the cycle of its parent objectives/c1 (teams/company), cycles/q1 "
            "(2026-01-01 to 2026-04-01): align it to an objective of an enclosing cycle.");
  EXPECT_TRUE(BlocksAgreement(f, "w2"));
  EXPECT_FALSE(BlocksAgreement(f, "c1"));
}

TEST(CheckAlignmentTest, NestedCycles_AreFine) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "cy", "company", "y2026");
  AddObjective(s, "w1", "web", "q1", "cy");
  AddObjective(s, "w2", "web", "q2", "cy");
  AddObjective(s, "wy", "web", "y2026", "cy");  // the same cycle encloses itself
  EXPECT_THAT(CheckAlignment(s, ""), IsEmpty());
}

TEST(CheckAlignmentTest, AgreedObjectiveOfNonRootTeamAlignedToNothing_IsOrphan) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "lonely", "web", "q1", "", ObjectiveState::kAgreed);
  AddObjective(s, "draft", "web", "q1", "", ObjectiveState::kDraft);
  AddObjective(s, "root", "company", "q1", "", ObjectiveState::kAgreed);
  AddObjective(s, "contributor", "ops", "q1", "", ObjectiveState::kAgreed);
  AddKeyResult(s, "root", "k1");
  Obj(s, "contributor").contributes_to = {"objectives/root/keyResults/k1"};
  const std::vector<Finding> findings = CheckAlignment(s, "q1");
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, FindingCode::kOrphan);
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_THAT(f.subjects, ElementsAre("objectives/lonely", "teams/web"));
  EXPECT_THAT(f.blocks, IsEmpty());
  EXPECT_EQ(f.message,
            "objectives/lonely (teams/web) is agreed but aligned to nothing: give it a parent "
            "objective of an ancestor team or let it contribute to another team's key result.");
}

struct ContradictionCase {
  const char* name;
  const char* web_cycle;
  double web_start, web_target;
  const char* ops_cycle;
  double ops_start, ops_target;
  const char* ops_metric;
  const char* message;  // "" if no finding
};

class ContradictionTest : public ::testing::TestWithParam<ContradictionCase> {};

TEST_P(ContradictionTest, OppositeMovesOfTheSameMetricInOverlappingCycles) {
  const ContradictionCase& c = GetParam();
  AlignmentSnapshot s = Org();
  AddObjective(s, "a-web", "web", c.web_cycle);
  AddObjective(s, "b-ops", "ops", c.ops_cycle);
  AddMetric(s, "a-web", "k1", "checkout.conversion", c.web_start, c.web_target);
  AddMetric(s, "b-ops", "k2", c.ops_metric, c.ops_start, c.ops_target);
  const std::vector<Finding> findings = CheckAlignment(s, "");
  if (std::string(c.message).empty()) {
    EXPECT_THAT(findings, IsEmpty());
    return;
  }
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, FindingCode::kContradiction);
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_THAT(f.subjects,
              ElementsAre("objectives/a-web", "objectives/a-web/keyResults/k1", "objectives/b-ops",
                          "objectives/b-ops/keyResults/k2", "teams/ops", "teams/web"));
  EXPECT_THAT(f.blocks, ElementsAre("objectives/a-web", "objectives/b-ops"));
  EXPECT_EQ(f.message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ContradictionTest,
    ::testing::Values(
        ContradictionCase{
            "OppositeDirections", "q1", 2, 3, "q1", 4, 3.5, "checkout.conversion",
            "objectives/a-web (teams/web) raises checkout.conversion from 2 % to 3 % "
            "(objectives/a-web/keyResults/k1) while objectives/b-ops (teams/ops) lowers "
            "checkout.conversion from 4 % to 3.5 % (objectives/b-ops/keyResults/k2) in "
            "overlapping cycles: the key results pull checkout.conversion in opposite "
            "directions. Agree on one target between teams/web and teams/ops."},
        ContradictionCase{
            "IncompatibleTargets", "q1", 2, 3, "q1", 4, 2.5, "checkout.conversion",
            "objectives/a-web (teams/web) raises checkout.conversion from 2 % to 3 % "
            "(objectives/a-web/keyResults/k1) while objectives/b-ops (teams/ops) lowers "
            "checkout.conversion from 4 % to 2.5 % (objectives/b-ops/keyResults/k2) in "
            "overlapping cycles: the key results pull checkout.conversion in opposite "
            "directions, and no value can meet both targets (>= 3 % and <= 2.5 %). Agree on "
            "one target between teams/web and teams/ops."},
        ContradictionCase{"NestedCyclesOverlap", "q1", 2, 3, "y2026", 4, 2.5, "checkout.conversion",
                          "objectives/a-web (teams/web) raises checkout.conversion from 2 % to "
                          "3 % (objectives/a-web/keyResults/k1) while objectives/b-ops "
                          "(teams/ops) lowers checkout.conversion from 4 % to 2.5 % "
                          "(objectives/b-ops/keyResults/k2) in overlapping cycles: the key "
                          "results pull checkout.conversion in opposite directions, and no "
                          "value can meet both targets (>= 3 % and <= 2.5 %). Agree on one "
                          "target between teams/web and teams/ops."},
        ContradictionCase{"SameDirectionIsCompatible", "q1", 2, 3, "q1", 2, 5,
                          "checkout.conversion", ""},
        ContradictionCase{"AdjacentCyclesDoNotOverlap", "q1", 2, 3, "q2", 4, 2.5,
                          "checkout.conversion", ""},
        ContradictionCase{"OtherMetric", "q1", 2, 3, "q1", 4, 2.5, "checkout.latency", ""},
        ContradictionCase{"UnnamedMetric", "q1", 2, 3, "q1", 4, 2.5, "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CheckAlignmentTest, MetricKeyOnANonMetricKeyResult_IsIgnored) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  AddMetric(s, "a", "k1", "checkout.conversion", 2, 3);
  AddMetric(s, "b", "k2", "checkout.conversion", 4, 2);
  s.key_results[1].type = KeyResultType::kMilestone;
  EXPECT_THAT(CheckAlignment(s, ""), IsEmpty());
}

TEST(CheckAlignmentTest, DependencyAtRisk_IsAWarningNamingHealthAndBothTeams) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  AddObjective(s, "fine", "ops", "q1");
  Obj(s, "a").depends_on = {"b", "fine"};
  Obj(s, "a").progress = 0.9;
  Obj(s, "b").progress = 0.3;     // expected 0.5: AT_RISK
  Obj(s, "fine").progress = 0.4;  // exactly expected - 0.1: ON_TRACK
  const std::vector<Finding> findings = CheckAlignment(s, "q1");
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, FindingCode::kDependencyAtRisk);
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_THAT(f.subjects, ElementsAre("objectives/a", "objectives/b", "teams/ops", "teams/web"));
  EXPECT_THAT(f.blocks, IsEmpty());
  EXPECT_EQ(f.message,
            "objectives/a (teams/web) depends on objectives/b (teams/ops), which is AT_RISK "
            "(progress 30%, expected 50%): objectives/a is at risk too; talk about what can be "
            "done together.");
  // A finding, not a change: the dependent's own numbers stay.
  EXPECT_EQ(Obj(s, "a").progress, 0.9);
}

TEST(CheckAlignmentTest, DependencyAtRisk_PropagatesThroughChains) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "x", "web", "q1");
  AddObjective(s, "y", "sales", "q1");
  AddObjective(s, "z", "ops", "q1");
  Obj(s, "x").depends_on = {"y"};
  Obj(s, "y").depends_on = {"z"};
  Obj(s, "x").progress = 0.5;
  Obj(s, "y").progress = 0.5;
  Obj(s, "z").progress = 0.1;  // OFF_TRACK
  const std::vector<Finding> findings = CheckAlignment(s, "q1");
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_THAT(findings[0].subjects,
              ElementsAre("objectives/x", "objectives/z", "teams/ops", "teams/web"));
  EXPECT_EQ(findings[0].message,
            "objectives/x (teams/web) depends on (through objectives/y) objectives/z "
            "(teams/ops), which is OFF_TRACK (progress 10%, expected 50%): objectives/x is at "
            "risk too; talk about what can be done together.");
  EXPECT_THAT(findings[1].subjects,
              ElementsAre("objectives/y", "objectives/z", "teams/ops", "teams/sales"));
}

TEST(CheckAlignmentTest, ClosedDependentsAndNotStartedDependencies_RaiseNothing) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "closed", "web", "q1", "", ObjectiveState::kClosed);
  AddObjective(s, "later", "web", "q1");
  AddObjective(s, "b", "ops", "q1");
  AddObjective(s, "future", "ops", "q2");  // q2 has not started: NOT_STARTED
  Obj(s, "closed").depends_on = {"b"};
  Obj(s, "later").depends_on = {"future"};
  EXPECT_THAT(CheckAlignment(s, ""), IsEmpty());
}

TEST(CheckAlignmentTest, KeyResultShape_TooManyNoneAndOutputOnly) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "six", "company", "q1");
  for (const char* k : {"k1", "k2", "k3", "k4", "k5", "k6"}) AddKeyResult(s, "six", k);
  AddObjective(s, "five", "company", "q1");
  for (const char* k : {"k1", "k2", "k3", "k4", "k5"}) AddKeyResult(s, "five", k);
  AddObjective(s, "empty-proposed", "company", "q1", "", ObjectiveState::kProposed);
  AddObjective(s, "empty-draft", "company", "q1");
  AddObjective(s, "tickets", "company", "q1");
  AddKeyResult(s, "tickets", "k1", KeyResultType::kWorkItems);
  AddKeyResult(s, "tickets", "k2", KeyResultType::kWorkItems);
  AddObjective(s, "mixed", "company", "q1");
  AddKeyResult(s, "mixed", "k1", KeyResultType::kWorkItems);
  AddKeyResult(s, "mixed", "k2", KeyResultType::kMilestone);

  const std::vector<Finding> findings = CheckAlignment(s, "q1");
  EXPECT_THAT(Codes(findings), ElementsAre(FindingCode::kTooManyKeyResults,
                                           FindingCode::kNoKeyResults, FindingCode::kOutputOnly));
  EXPECT_EQ(findings[0].severity, Severity::kWarning);
  EXPECT_EQ(findings[0].message,
            "objectives/six (teams/company) has 6 key results; focus on at most 5.");
  EXPECT_EQ(findings[1].severity, Severity::kError);
  EXPECT_THAT(findings[1].blocks, ElementsAre("objectives/empty-proposed"));
  EXPECT_EQ(findings[1].message,
            "objectives/empty-proposed (teams/company) is proposed without key results: add "
            "the measurable outcomes it commits to.");
  EXPECT_EQ(findings[2].severity, Severity::kWarning);
  EXPECT_THAT(findings[2].subjects, ElementsAre("objectives/tickets"));
  EXPECT_THAT(findings[2].message, HasSubstr("measured only by work items: that counts "
                                             "output, not outcome"));
}

TEST(CheckAlignmentTest, Scope_CycleAndTeamSelectFindingsByInvolvedObjectives) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a-web", "web", "q1");
  AddObjective(s, "b-ops", "ops", "q1");
  AddMetric(s, "a-web", "k1", "checkout.conversion", 2, 3);
  AddMetric(s, "b-ops", "k2", "checkout.conversion", 4, 2);
  AddObjective(s, "orphan", "web", "q2", "", ObjectiveState::kAgreed);

  EXPECT_THAT(Codes(CheckAlignment(s, "")),
              ElementsAre(FindingCode::kOrphan, FindingCode::kContradiction));
  EXPECT_THAT(Codes(CheckAlignment(s, "q1", "web")), ElementsAre(FindingCode::kContradiction));
  EXPECT_THAT(Codes(CheckAlignment(s, "q1", "ops")), ElementsAre(FindingCode::kContradiction));
  EXPECT_THAT(Codes(CheckAlignment(s, "q2")), ElementsAre(FindingCode::kOrphan));
  EXPECT_THAT(CheckAlignment(s, "q2", "ops"), IsEmpty());
  EXPECT_THAT(CheckAlignment(s, "y2026"), IsEmpty());
  EXPECT_THAT(Codes(CheckObjectiveAlignment(s, "b-ops")), ElementsAre(FindingCode::kContradiction));
  EXPECT_THAT(Codes(CheckObjectiveAlignment(s, "orphan")), ElementsAre(FindingCode::kOrphan));
}

TEST(CheckAlignmentTest, Deterministic_RegardlessOfSnapshotOrder) {
  AlignmentSnapshot s = Org();
  AddObjective(s, "a", "web", "q1", "", ObjectiveState::kAgreed);
  AddObjective(s, "b", "web", "q1", "", ObjectiveState::kAgreed);
  AddObjective(s, "c", "ops", "q1", "", ObjectiveState::kAgreed);
  AddMetric(s, "a", "k1", "m", 1, 2);
  AddMetric(s, "b", "k1", "m", 2, 1);
  AddMetric(s, "c", "k1", "m", 2, 1);
  const std::vector<Finding> forward = CheckAlignment(s, "");
  std::reverse(s.objectives.begin(), s.objectives.end());
  std::reverse(s.key_results.begin(), s.key_results.end());
  const std::vector<Finding> backward = CheckAlignment(s, "");
  ASSERT_EQ(forward.size(), backward.size());
  ASSERT_EQ(forward.size(), 5u);  // 3 orphans, 2 contradictions (a-b, a-c)
  for (size_t i = 0; i < forward.size(); ++i) {
    EXPECT_EQ(forward[i].message, backward[i].message);
    EXPECT_EQ(forward[i].subjects, backward[i].subjects);
  }
}

}  // namespace
}  // namespace okr
