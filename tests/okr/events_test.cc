// Tests of the event rules of the domain: which events a change produces, filters, and
// rule conditions and validation (service/okr/events.h).
#include "service/okr/events.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<EventType> Types(const std::vector<Event>& events) {
  std::vector<EventType> types;
  for (const Event& e : events) types.push_back(e.type);
  return types;
}

Event KeyResultBase() {
  Event base;
  base.objective_id = "o1";
  base.key_result_id = "kr1";
  base.team_id = "checkout";
  base.cycle_id = "q4";
  base.cause = {CauseKind::kCheckIn, "objectives/o1/keyResults/kr1/checkIns/c1", ""};
  return base;
}

TEST(ChangeEventsTest, NoChangeNoEvents) {
  SubjectState s;
  s.progress = 0.4;
  s.health = Health::kOnTrack;
  EXPECT_THAT(ChangeEvents(KeyResultBase(), s, s), IsEmpty());
}

TEST(ChangeEventsTest, ProgressThresholdAndHealthInOrder) {
  SubjectState before{0.2, Health::kAtRisk, {}, {}, {}};
  SubjectState after{0.55, Health::kOnTrack, {}, {}, {}};
  std::vector<Event> events = ChangeEvents(KeyResultBase(), before, after);
  ASSERT_THAT(Types(events), ElementsAre(EventType::kProgressChanged, EventType::kThresholdCrossed,
                                         EventType::kThresholdCrossed, EventType::kHealthChanged));
  EXPECT_DOUBLE_EQ(events[0].old_progress, 0.2);
  EXPECT_DOUBLE_EQ(events[0].new_progress, 0.55);
  EXPECT_THAT(events[0].message, HasSubstr("20% -> 55%"));
  EXPECT_THAT(events[0].message, HasSubstr("check-in objectives/o1/keyResults/kr1/checkIns/c1"));
  EXPECT_DOUBLE_EQ(events[1].threshold, 0.25);
  EXPECT_DOUBLE_EQ(events[2].threshold, 0.5);
  EXPECT_THAT(events[2].message, HasSubstr("upward"));
  EXPECT_EQ(events[3].old_health, Health::kAtRisk);
  EXPECT_EQ(events[3].new_health, Health::kOnTrack);
  for (const Event& e : events) {
    EXPECT_EQ(e.key_result_id, "kr1");
    EXPECT_EQ(e.cause.kind, CauseKind::kCheckIn);
  }
}

TEST(ChangeEventsTest, ThresholdCrossedDownwardAndAtOne) {
  SubjectState full{1.0, Health::kOnTrack, {}, {}, {}};
  SubjectState lower{0.7, Health::kOnTrack, {}, {}, {}};
  std::vector<Event> down = ChangeEvents(KeyResultBase(), full, lower);
  ASSERT_THAT(Types(down), ElementsAre(EventType::kProgressChanged, EventType::kThresholdCrossed,
                                       EventType::kThresholdCrossed));
  EXPECT_DOUBLE_EQ(down[1].threshold, 0.75);
  EXPECT_DOUBLE_EQ(down[2].threshold, 1.0);
  EXPECT_THAT(down[1].message, HasSubstr("downward"));
  std::vector<Event> up = ChangeEvents(KeyResultBase(), lower, full);
  EXPECT_THAT(Types(up), ElementsAre(EventType::kProgressChanged, EventType::kThresholdCrossed,
                                     EventType::kThresholdCrossed));
}

TEST(ChangeEventsTest, ScopeGrowthSaysProgressFellWithoutWorkUndone) {
  SubjectState before{0.75, Health::kOnTrack, {}, 4.0, 3.0};
  SubjectState after{0.6, Health::kOnTrack, {}, 5.0, 3.0};
  Event base = KeyResultBase();
  base.cause = {CauseKind::kWorkItemAdded, "JIRA OKRX-9", ""};
  std::vector<Event> events = ChangeEvents(base, before, after);
  ASSERT_THAT(Types(events), ElementsAre(EventType::kScopeChanged, EventType::kProgressChanged,
                                         EventType::kThresholdCrossed));
  EXPECT_DOUBLE_EQ(events[0].old_total_weight, 4);
  EXPECT_DOUBLE_EQ(events[0].new_total_weight, 5);
  EXPECT_THAT(events[0].message, HasSubstr("grew from 4 to 5"));
  EXPECT_THAT(events[0].message, HasSubstr("without any work being undone"));
  EXPECT_THAT(events[0].message, HasSubstr("work item JIRA OKRX-9 added"));
}

TEST(ChangeEventsTest, CancelledItemSaysWhyItLeftTheKeyResult) {
  SubjectState before{0.5, Health::kOnTrack, {}, 4.0, 2.0};
  SubjectState after{2.0 / 3.0, Health::kOnTrack, {}, 3.0, 2.0};
  Event base = KeyResultBase();
  base.cause = {CauseKind::kWorkItemExcluded, "JIRA OKRX-7", "", "closed as Won't Do"};
  std::vector<Event> events = ChangeEvents(base, before, after);
  ASSERT_FALSE(events.empty());
  for (const Event& e : events) {
    EXPECT_THAT(e.message, HasSubstr("work item JIRA OKRX-7 closed as Won't Do: left the key "
                                     "result"));
  }
  EXPECT_EQ(CauseKindName(CauseKind::kWorkItemExcluded), "WORK_ITEM_EXCLUDED");
}

TEST(ChangeEventsTest, WorkItemDetailReplacesTheKindsWords) {
  SubjectState before{0.25, Health::kOnTrack, {}, 4.0, 1.0};
  SubjectState after{0.5, Health::kOnTrack, {}, 4.0, 2.0};
  Event base = KeyResultBase();
  base.cause = {CauseKind::kWorkItemChanged, "JIRA OKRX-8", "", "moved to In Review (credit 50%)"};
  std::vector<Event> events = ChangeEvents(base, before, after);
  ASSERT_FALSE(events.empty());
  EXPECT_THAT(events[0].message,
              HasSubstr("work item JIRA OKRX-8 moved to In Review (credit 50%)"));
  EXPECT_THAT(events[0].message, ::testing::Not(HasSubstr("left the key result")));
}

TEST(ChangeEventsTest, ScopeShrinkOrUndoneWorkIsNotExplainedAwayAsScope) {
  SubjectState before{0.75, Health::kOnTrack, {}, 4.0, 3.0};
  SubjectState undone{0.4, Health::kOnTrack, {}, 5.0, 2.0};
  std::vector<Event> events = ChangeEvents(KeyResultBase(), before, undone);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].type, EventType::kScopeChanged);
  EXPECT_THAT(events[0].message, ::testing::Not(HasSubstr("without any work")));
}

TEST(ChangeEventsTest, StateChangeOfAnObjective) {
  Event base;
  base.objective_id = "o1";
  base.cause = {CauseKind::kLifecycle, "objectives/o1", ""};
  SubjectState before{0, Health::kNotStarted, ObjectiveState::kProposed, {}, {}};
  SubjectState after{0, Health::kNotStarted, ObjectiveState::kAgreed, {}, {}};
  std::vector<Event> events = ChangeEvents(base, before, after);
  ASSERT_THAT(Types(events), ElementsAre(EventType::kStateChanged));
  EXPECT_EQ(events[0].old_state, ObjectiveState::kProposed);
  EXPECT_EQ(events[0].new_state, ObjectiveState::kAgreed);
  EXPECT_EQ(EventSubject(events[0]), "objectives/o1");
}

TEST(EventFilterTest, MatchesEveryConstraint) {
  Event e = KeyResultBase();
  e.type = EventType::kProgressChanged;
  auto no_subtree = [](const std::string&) { return false; };
  EXPECT_TRUE(EventMatches(EventFilter{}, e, no_subtree));
  EXPECT_TRUE(EventMatches(EventFilter{"o1", "", "", {}}, e, no_subtree));
  EXPECT_FALSE(EventMatches(EventFilter{"root", "", "", {}}, e, no_subtree));
  EXPECT_TRUE(EventMatches(EventFilter{"root", "", "", {}}, e,
                           [](const std::string& id) { return id == "o1"; }));
  EXPECT_TRUE(EventMatches(EventFilter{"", "checkout", "q4", {}}, e, no_subtree));
  EXPECT_FALSE(EventMatches(EventFilter{"", "web", "", {}}, e, no_subtree));
  EXPECT_FALSE(EventMatches(EventFilter{"", "", "q1", {}}, e, no_subtree));
  EXPECT_FALSE(EventMatches(EventFilter{"", "", "", {EventType::kHealthChanged}}, e, no_subtree));
  EXPECT_TRUE(EventMatches(
      EventFilter{"", "", "", {EventType::kHealthChanged, EventType::kProgressChanged}}, e,
      no_subtree));
}

TEST(ValidationTest, SubscriptionNeedsHttpUrlAndSecret) {
  Subscription s;
  s.target_url = "https://hooks.example.com/okr";
  s.secret = "0123456789abcdef";
  EXPECT_TRUE(ValidateSubscription(s).ok());
  Subscription bad = s;
  bad.target_url = "ftp://x";
  EXPECT_THAT(std::string(ValidateSubscription(bad).message()),
              HasSubstr("subscription.target_url"));
  bad = s;
  bad.target_url = "http://a b";
  EXPECT_FALSE(ValidateSubscription(bad).ok());
  bad = s;
  bad.secret = "short";
  EXPECT_THAT(std::string(ValidateSubscription(bad).message()), HasSubstr("subscription.secret"));
  bad = s;
  bad.filter.types = {static_cast<EventType>(99)};
  EXPECT_THAT(std::string(ValidateSubscription(bad).message()), HasSubstr("event_types"));
}

TEST(ValidationTest, RuleNeedsOneParentAndSaneCondition) {
  Rule r;
  r.team_id = "checkout";
  EXPECT_TRUE(ValidateRule(r).ok());
  Rule both = r;
  both.objective_id = "o1";
  EXPECT_THAT(std::string(ValidateRule(both).message()), HasSubstr("rule.parent"));
  Rule pace = r;
  pace.condition = RuleConditionType::kBehindPace;
  EXPECT_THAT(std::string(ValidateRule(pace).message()), HasSubstr("threshold"));
  pace.threshold = 0.2;
  EXPECT_TRUE(ValidateRule(pace).ok());
  Rule days = r;
  days.condition = RuleConditionType::kNoCheckIn;
  EXPECT_THAT(std::string(ValidateRule(days).message()), HasSubstr("days"));
  Rule call = r;
  call.action = RuleActionType::kCallSubscription;
  EXPECT_THAT(std::string(ValidateRule(call).message()), HasSubstr("subscription"));
}

TEST(EvaluateRuleTest, Conditions) {
  const absl::Time start = absl::FromUnixSeconds(1'790'000'000);
  RuleInput in;
  in.cycle_start = start;
  in.cycle_end = start + absl::Hours(24 * 90);
  in.now = start + absl::Hours(24 * 45);
  in.progress = 0.1;
  in.expected_progress = 0.5;
  in.health = Health::kOffTrack;

  Rule health;
  health.condition = RuleConditionType::kHealthAtRisk;
  EXPECT_TRUE(EvaluateRule(health, in).holds);
  in.health = Health::kOnTrack;
  EXPECT_FALSE(EvaluateRule(health, in).holds);

  Rule pace;
  pace.condition = RuleConditionType::kBehindPace;
  pace.threshold = 0.3;
  EXPECT_TRUE(EvaluateRule(pace, in).holds);
  pace.threshold = 0.45;
  EXPECT_FALSE(EvaluateRule(pace, in).holds);

  Rule confidence;
  confidence.condition = RuleConditionType::kLowConfidence;
  confidence.threshold = 0.5;
  EXPECT_FALSE(EvaluateRule(confidence, in).holds);  // no check-in with a confidence
  in.last_confidence = 0.3;
  EXPECT_TRUE(EvaluateRule(confidence, in).holds);

  Rule quiet;
  quiet.condition = RuleConditionType::kNoCheckIn;
  quiet.days = 14;
  in.last_check_in = in.now - absl::Hours(24 * 13);
  EXPECT_FALSE(EvaluateRule(quiet, in).holds);
  in.last_check_in = in.now - absl::Hours(24 * 15);
  EXPECT_TRUE(EvaluateRule(quiet, in).holds);
  in.now = in.cycle_end + absl::Hours(1);  // cycle over: no nagging
  EXPECT_FALSE(EvaluateRule(quiet, in).holds);
}

}  // namespace
}  // namespace okr
