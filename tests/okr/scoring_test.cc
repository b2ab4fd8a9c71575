#include "service/okr/scoring.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Objective AgreedObjective(ObjectiveKind kind) {
  Objective o;
  o.id = "o1";
  o.title = "Delight customers";
  o.team_id = "web";
  o.cycle_id = "q1";
  o.kind = kind;
  o.state = ObjectiveState::kAgreed;
  return o;
}

KeyResult Kr(std::string id, double progress, double weight = 1) {
  KeyResult kr;
  kr.id = std::move(id);
  kr.objective_id = "o1";
  kr.title = kr.id;
  kr.type = KeyResultType::kMilestone;
  kr.progress = progress;
  kr.weight = weight;
  return kr;
}

void ExpectStatus(const absl::Status& s, absl::StatusCode code, const std::string& fragment) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_THAT(s.message(), HasSubstr(fragment)) << s;
}

struct OutcomeCase {
  const char* name;
  ObjectiveKind kind;
  double score;
  Outcome outcome;
};

class OutcomeForTest : public ::testing::TestWithParam<OutcomeCase> {};

TEST_P(OutcomeForTest, ComparesWithTheExpectationOfTheKind) {
  EXPECT_EQ(OutcomeFor(GetParam().kind, GetParam().score), GetParam().outcome);
}

INSTANTIATE_TEST_SUITE_P(
    Table, OutcomeForTest,
    ::testing::Values(
        OutcomeCase{"CommittedAtOneIsMet", ObjectiveKind::kCommitted, 1.0, Outcome::kMet},
        OutcomeCase{"CommittedRoundingBelowOneIsMet", ObjectiveKind::kCommitted, 1 - 1e-12,
                    Outcome::kMet},
        OutcomeCase{"CommittedBelowOneIsMissed", ObjectiveKind::kCommitted, 0.99, Outcome::kMissed},
        OutcomeCase{"CommittedAtZeroIsMissed", ObjectiveKind::kCommitted, 0, Outcome::kMissed},
        OutcomeCase{"AspirationalAtPointSevenIsMet", ObjectiveKind::kAspirational, 0.7,
                    Outcome::kMet},
        OutcomeCase{"AspirationalRoundingBelowPointSevenIsMet", ObjectiveKind::kAspirational,
                    0.7 - 1e-12, Outcome::kMet},
        OutcomeCase{"AspirationalBelowPointSevenIsMissed", ObjectiveKind::kAspirational, 0.69,
                    Outcome::kMissed},
        OutcomeCase{"AspirationalAtOneIsMet", ObjectiveKind::kAspirational, 1.0, Outcome::kMet}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ExpectedScoreTest, IsOneForCommittedAndPointSevenForAspirational) {
  EXPECT_EQ(ExpectedScore(ObjectiveKind::kCommitted), 1.0);
  EXPECT_EQ(ExpectedScore(ObjectiveKind::kAspirational), 0.7);
}

TEST(CloseAndScoreTest, CommittedFullyAchieved_IsMet) {
  Objective o = AgreedObjective(ObjectiveKind::kCommitted);
  std::vector<KeyResult> krs = {Kr("k1", 1), Kr("k2", 1, 2)};
  absl::StatusOr<Transition> t = CloseAndScore(o, krs, {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(o.state, ObjectiveState::kClosed);
  EXPECT_TRUE(o.scored);
  EXPECT_EQ(o.score, 1.0);
  EXPECT_EQ(o.outcome, Outcome::kMet);
  EXPECT_FALSE(ReviewDue(o));
  EXPECT_EQ(krs[0].score, 1.0);
  EXPECT_EQ(krs[1].score, 1.0);
  EXPECT_EQ(t->from, ObjectiveState::kAgreed);
  EXPECT_EQ(t->to, ObjectiveState::kClosed);
  EXPECT_EQ(t->description, "objectives/o1 was closed with score 1 (MET, expected 1)");
}

TEST(CloseAndScoreTest, CommittedBelowOne_IsMissedAndDueABlamelessReview) {
  Objective o = AgreedObjective(ObjectiveKind::kCommitted);
  std::vector<KeyResult> krs = {Kr("k1", 1), Kr("k2", 0.75, 3)};
  absl::StatusOr<Transition> t = CloseAndScore(o, krs, {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_DOUBLE_EQ(o.score, (1 + 2.25) / 4);
  EXPECT_EQ(o.outcome, Outcome::kMissed);
  EXPECT_TRUE(ReviewDue(o));
  EXPECT_EQ(t->description,
            "objectives/o1 was closed with score 0.8125 (MISSED, expected 1); a blameless "
            "review is due");
}

TEST(CloseAndScoreTest, AspirationalAroundPointSeven_IsMetWithoutReview) {
  Objective o = AgreedObjective(ObjectiveKind::kAspirational);
  // (0.6 + 0.8) / 2 is 0.7 up to rounding.
  std::vector<KeyResult> krs = {Kr("k1", 0.6), Kr("k2", 0.8)};
  ASSERT_TRUE(CloseAndScore(o, krs, {}).ok());
  EXPECT_NEAR(o.score, 0.7, 1e-15);
  EXPECT_EQ(o.outcome, Outcome::kMet);
  EXPECT_FALSE(ReviewDue(o));
}

TEST(CloseAndScoreTest, AspirationalBelowPointSeven_IsMissedButNoReviewIsDue) {
  Objective o = AgreedObjective(ObjectiveKind::kAspirational);
  std::vector<KeyResult> krs = {Kr("k1", 0.5), Kr("k2", 0.8)};
  ASSERT_TRUE(CloseAndScore(o, krs, {}).ok());
  EXPECT_DOUBLE_EQ(o.score, 0.65);
  EXPECT_EQ(o.outcome, Outcome::kMissed);
  EXPECT_FALSE(ReviewDue(o));
}

TEST(CloseAndScoreTest, ExplicitScoreWithReason_ReplacesTheProgressAtClose) {
  Objective o = AgreedObjective(ObjectiveKind::kCommitted);
  std::vector<KeyResult> krs = {Kr("k1", 1), Kr("k2", 0.2)};
  ASSERT_TRUE(CloseAndScore(o, krs, {{"k2", {1.0, "the survey closed after the cycle"}}}).ok());
  EXPECT_EQ(krs[0].score, 1.0);
  EXPECT_EQ(krs[0].score_reason, "");
  EXPECT_EQ(krs[1].score, 1.0);
  EXPECT_EQ(krs[1].score_reason, "the survey closed after the cycle");
  EXPECT_EQ(o.score, 1.0);
  EXPECT_EQ(o.outcome, Outcome::kMet);
}

struct ExplicitCase {
  const char* name;
  std::string id;
  double score;
  std::string reason;
  const char* error;
};

class ExplicitScoreTest : public ::testing::TestWithParam<ExplicitCase> {};

TEST_P(ExplicitScoreTest, InvalidExplicitScore_IsRejectedAndNothingChanges) {
  Objective o = AgreedObjective(ObjectiveKind::kCommitted);
  std::vector<KeyResult> krs = {Kr("k1", 1)};
  const ExplicitCase& c = GetParam();
  ExpectStatus(CloseAndScore(o, krs, {{c.id, {c.score, c.reason}}}).status(),
               absl::StatusCode::kInvalidArgument, c.error);
  EXPECT_EQ(o.state, ObjectiveState::kAgreed);
  EXPECT_FALSE(o.scored);
  EXPECT_FALSE(krs[0].score.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExplicitScoreTest,
    ::testing::Values(
        ExplicitCase{"NoReason", "k1", 0.5, " ",
                     "key_result_scores[k1].reason is required: say why the score differs"},
        ExplicitCase{"AboveOne", "k1", 1.2, "r",
                     "key_result_scores[k1].score must be a number between 0 and 1"},
        ExplicitCase{"Negative", "k1", -0.1, "r", "key_result_scores[k1].score"},
        ExplicitCase{"NotANumber", "k1", std::numeric_limits<double>::quiet_NaN(), "r",
                     "key_result_scores[k1].score"},
        ExplicitCase{"UnknownKeyResult", "k9", 0.5, "r",
                     "key_result_scores[k9]: objectives/o1/keyResults/k9 is not a key result "
                     "of objectives/o1"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CloseAndScoreTest, OutsideAgreed_FailsPreconditionAndNothingChanges) {
  for (ObjectiveState s :
       {ObjectiveState::kDraft, ObjectiveState::kProposed, ObjectiveState::kClosed}) {
    Objective o = AgreedObjective(ObjectiveKind::kCommitted);
    o.state = s;
    std::vector<KeyResult> krs = {Kr("k1", 1)};
    ExpectStatus(CloseAndScore(o, krs, {}).status(), absl::StatusCode::kFailedPrecondition,
                 "only an AGREED objective is a commitment that can be closed");
    EXPECT_EQ(o.state, s);
    EXPECT_FALSE(o.scored);
    EXPECT_FALSE(krs[0].score.has_value());
  }
}

TEST(CloseAndScoreTest, KeyResultOfAnotherObjective_IsRejected) {
  Objective o = AgreedObjective(ObjectiveKind::kCommitted);
  std::vector<KeyResult> krs = {Kr("k1", 1)};
  krs[0].objective_id = "other";
  ExpectStatus(CloseAndScore(o, krs, {}).status(), absl::StatusCode::kInvalidArgument,
               "key_results: objectives/other/keyResults/k1 does not belong to objectives/o1");
}

TEST(ComputeScoresTest, ChildrenCountOnlyForKeyResultsAndChildren) {
  Objective o = AgreedObjective(ObjectiveKind::kAspirational);
  const std::vector<KeyResult> krs = {Kr("k1", 1)};
  absl::StatusOr<ScoreCard> card = ComputeScores(o, krs, {}, {{0.5, 1}, {0, 2}});
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card->score, 1.0);
  o.progress_source = ProgressSource::kKeyResultsAndChildren;
  card = ComputeScores(o, krs, {}, {{0.5, 1}, {0, 2}});
  ASSERT_TRUE(card.ok());
  EXPECT_DOUBLE_EQ(card->score, 1.5 / 4);
  EXPECT_THAT(card->key_result_scores, ElementsAre(1.0));
  EXPECT_EQ(card->outcome, Outcome::kMissed);
}

TEST(ComputeScoresTest, NoKeyResults_ScoresZero) {
  absl::StatusOr<ScoreCard> card =
      ComputeScores(AgreedObjective(ObjectiveKind::kAspirational), {}, {});
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card->score, 0);
  EXPECT_EQ(card->outcome, Outcome::kMissed);
}

// ---------------------------------------------------------------------------------------
// Carry-over

struct CarryOverFixture {
  Objective source;
  std::vector<KeyResult> krs;
  std::vector<WorkItemLink> links;
  int next = 0;
  std::string NewId() { return absl::StrCat("n", ++next); }
};

CarryOverFixture UnfinishedAspirational() {
  CarryOverFixture f;
  Objective& o = f.source;
  o = AgreedObjective(ObjectiveKind::kAspirational);
  o.description = "NPS and churn";
  o.parent_id = "company";
  o.contributes_to = {"objectives/x/keyResults/y"};
  o.depends_on = {"d"};
  o.progress_source = ProgressSource::kKeyResultsAndChildren;
  o.weight = 2;
  o.state = ObjectiveState::kClosed;
  o.scored = true;
  o.score = 0.6;
  o.outcome = Outcome::kMissed;
  o.agreements = {{"web", "alice", absl::UnixEpoch()}};
  o.reopen_reason = "old";
  o.meta.revision = 7;

  KeyResult churn = Kr("k1", 0.5, 2);  // cut churn from 8 % to 5 %, now at 6.5 %
  churn.type = KeyResultType::kMetric;
  churn.metric = {8, 5, 6.5, "%"};
  churn.metric_key = "customer.churn";
  churn.score = 0.5;
  KeyResult signups = Kr("k2", 1);  // overshot: reached its target
  signups.type = KeyResultType::kMetric;
  signups.metric = {0, 10, 12, ""};
  KeyResult tickets = Kr("k3", 0.25);
  tickets.type = KeyResultType::kWorkItems;
  tickets.totals = {4, 1, 4, 1};
  KeyResult launch = Kr("k4", 1);
  launch.milestone_done = true;
  f.krs = {churn, signups, tickets, launch};

  auto link = [](std::string objective, std::string kr, std::string key, bool done) {
    WorkItemLink l;
    l.id = "l-" + key;
    l.objective_id = std::move(objective);
    l.key_result_id = std::move(kr);
    l.item.key = std::move(key);
    l.item.done = done;
    l.meta.revision = 3;
    return l;
  };
  f.links = {link("o1", "k3", "OKRX-1", true), link("o1", "k3", "OKRX-2", false),
             link("o1", "gone", "OKRX-3", false), link("other", "k3", "OKRX-4", false)};
  return f;
}

TEST(CarryOverTest, UnfinishedAspirational_IsCopiedAsADraftIntoTheNextCycle) {
  CarryOverFixture f = UnfinishedAspirational();
  absl::StatusOr<CarryOverResult> r =
      CarryOver(f.source, f.krs, f.links, "q2", [&] { return f.NewId(); });
  ASSERT_TRUE(r.ok()) << r.status();
  const Objective& o = r->objective;
  EXPECT_EQ(o.id, "n1");
  EXPECT_EQ(o.title, "Delight customers");
  EXPECT_EQ(o.description, "NPS and churn");
  EXPECT_EQ(o.team_id, "web");
  EXPECT_EQ(o.cycle_id, "q2");
  EXPECT_EQ(o.kind, ObjectiveKind::kAspirational);
  EXPECT_EQ(o.state, ObjectiveState::kDraft);
  EXPECT_EQ(o.parent_id, "company");
  EXPECT_THAT(o.contributes_to, ElementsAre("objectives/x/keyResults/y"));
  EXPECT_THAT(o.depends_on, ElementsAre("d"));
  EXPECT_EQ(o.progress_source, ProgressSource::kKeyResultsAndChildren);
  EXPECT_EQ(o.weight, 2);
  EXPECT_EQ(o.carried_over_from, "o1");
  EXPECT_TRUE(o.agreements.empty());
  EXPECT_FALSE(o.scored);
  EXPECT_EQ(o.outcome, Outcome::kUnspecified);
  EXPECT_EQ(o.reopen_reason, "");
  EXPECT_EQ(o.meta.revision, 0);
  // (0*2 + 1 + 0.25 + 1) / 5
  EXPECT_DOUBLE_EQ(o.progress, 2.25 / 5);

  ASSERT_EQ(r->key_results.size(), 4u);
  const KeyResult& churn = r->key_results[0];
  EXPECT_EQ(churn.id, "n2");
  EXPECT_EQ(churn.objective_id, "n1");
  EXPECT_EQ(churn.title, "k1");
  EXPECT_EQ(churn.weight, 2);
  EXPECT_EQ(churn.metric.start_value, 6.5);  // starts where it stands
  EXPECT_EQ(churn.metric.target_value, 5);
  EXPECT_EQ(churn.metric.current_value, 6.5);
  EXPECT_EQ(churn.metric.unit, "%");
  EXPECT_EQ(churn.metric_key, "customer.churn");
  EXPECT_EQ(churn.progress, 0);
  EXPECT_FALSE(churn.score.has_value());
  const KeyResult& signups = r->key_results[1];
  EXPECT_EQ(signups.metric.start_value, 0);  // reached: keeps its start
  EXPECT_EQ(signups.progress, 1);
  EXPECT_EQ(signups.raw_progress, 1.2);
  const KeyResult& tickets = r->key_results[2];
  EXPECT_EQ(tickets.totals.item_count, 4);
  EXPECT_EQ(tickets.totals.done_weight, 1);
  EXPECT_EQ(tickets.progress, 0.25);
  EXPECT_TRUE(r->key_results[3].milestone_done);

  ASSERT_EQ(r->links.size(), 2u);
  EXPECT_EQ(r->links[0].id, "n6");
  EXPECT_EQ(r->links[0].objective_id, "n1");
  EXPECT_EQ(r->links[0].key_result_id, "n4");
  EXPECT_EQ(r->links[0].item.key, "OKRX-1");
  EXPECT_TRUE(r->links[0].item.done);
  EXPECT_EQ(r->links[0].meta.revision, 0);
  EXPECT_EQ(r->links[1].item.key, "OKRX-2");
  EXPECT_EQ(r->links[1].key_result_id, "n4");
}

TEST(CarryOverTest, AgreedButUnscored_UsesItsProgress) {
  CarryOverFixture f = UnfinishedAspirational();
  f.source.state = ObjectiveState::kAgreed;
  f.source.scored = false;
  f.source.progress = 0.4;
  EXPECT_TRUE(CarryOver(f.source, f.krs, f.links, "q2", [&] { return f.NewId(); }).ok());
  f.source.progress = 1;
  ExpectStatus(CarryOver(f.source, f.krs, f.links, "q2", [&] { return f.NewId(); }).status(),
               absl::StatusCode::kFailedPrecondition,
               "objectives/o1 is fully achieved (progress 1)");
}

TEST(CarryOverTest, Refusals) {
  CarryOverFixture f = UnfinishedAspirational();
  auto carry = [&](const Objective& o, absl::string_view cycle) {
    return CarryOver(o, f.krs, f.links, cycle, [&] { return f.NewId(); }).status();
  };
  Objective committed = f.source;
  committed.kind = ObjectiveKind::kCommitted;
  ExpectStatus(carry(committed, "q2"), absl::StatusCode::kFailedPrecondition,
               "objectives/o1 is committed; only aspirational objectives are carried over");
  Objective achieved = f.source;
  achieved.score = 1;
  ExpectStatus(carry(achieved, "q2"), absl::StatusCode::kFailedPrecondition,
               "objectives/o1 is fully achieved (score 1)");
  Objective draft = f.source;
  draft.state = ObjectiveState::kDraft;
  ExpectStatus(carry(draft, "q2"), absl::StatusCode::kFailedPrecondition,
               "objectives/o1 is DRAFT; only an AGREED or CLOSED objective is carried over");
  ExpectStatus(carry(f.source, "q1"), absl::StatusCode::kInvalidArgument,
               "next_cycle must differ from the objective's cycle cycles/q1");
  ExpectStatus(carry(f.source, ""), absl::StatusCode::kInvalidArgument, "next_cycle is required");
}

}  // namespace
}  // namespace okr
