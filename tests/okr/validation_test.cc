#include "service/okr/validation.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(field));
}

TEST(ValidationTest, ObjectiveNeedsTitleTeamAndCycle) {
  Objective o;
  o.title = "  ";
  o.team_id = "t";
  o.cycle_id = "c";
  ExpectInvalid(ValidateObjective(o), "objective.title");
  o.title = "Delight customers";
  o.team_id = "";
  ExpectInvalid(ValidateObjective(o), "objective.team");
  o.team_id = "t";
  o.cycle_id = "";
  ExpectInvalid(ValidateObjective(o), "objective.cycle");
  o.cycle_id = "c";
  EXPECT_TRUE(ValidateObjective(o).ok());
  o.title = std::string(kMaxTitleBytes + 1, 'x');
  ExpectInvalid(ValidateObjective(o), "objective.title");
}

TEST(ValidationTest, CycleMustEndAfterItStarts) {
  Cycle c;
  c.display_name = "Q4";
  c.start_time = absl::FromUnixSeconds(100);
  c.end_time = absl::FromUnixSeconds(100);
  ExpectInvalid(ValidateCycle(c), "cycle.end_time");
  c.end_time = absl::FromUnixSeconds(50);
  ExpectInvalid(ValidateCycle(c), "cycle.end_time");
  c.end_time = absl::FromUnixSeconds(200);
  EXPECT_TRUE(ValidateCycle(c).ok());
  c.start_time = absl::InfinitePast();
  ExpectInvalid(ValidateCycle(c), "cycle.start_time");
}

TEST(ValidationTest, MetricStartEqualsTargetIsRejected) {
  KeyResult kr;
  kr.title = "NPS";
  kr.type = KeyResultType::kMetric;
  kr.metric = {30, 30, 30, ""};
  ExpectInvalid(ValidateKeyResult(kr), "key_result.metric.target_value");
  kr.metric.target_value = 20;  // a decrease target is valid
  EXPECT_TRUE(ValidateKeyResult(kr).ok());
  kr.metric.current_value = std::numeric_limits<double>::infinity();
  ExpectInvalid(ValidateKeyResult(kr), "key_result.metric.current_value");
}

TEST(ValidationTest, NegativeWeightIsRejected) {
  KeyResult kr;
  kr.title = "x";
  kr.type = KeyResultType::kMilestone;
  kr.weight = -1;
  ExpectInvalid(ValidateKeyResult(kr), "key_result.weight");
}

TEST(ValidationTest, CheckInRulesDependOnKind) {
  CheckIn c;
  ExpectInvalid(ValidateCheckIn(c, KeyResultType::kMetric), "check_in.value");
  c.value = 3;
  EXPECT_TRUE(ValidateCheckIn(c, KeyResultType::kMetric).ok());
  ExpectInvalid(ValidateCheckIn(c, KeyResultType::kMilestone), "check_in.value");
  ExpectInvalid(ValidateCheckIn(c, KeyResultType::kWorkItems), "check_in.value");
  c.value = 1;
  EXPECT_TRUE(ValidateCheckIn(c, KeyResultType::kMilestone).ok());
  c.confidence = 1.5;
  ExpectInvalid(ValidateCheckIn(c, KeyResultType::kMilestone), "check_in.confidence");
}

struct KeyCase {
  Tracker tracker;
  const char* key;
  bool valid;
};

class WorkItemKeyTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(WorkItemKeyTest, AcceptsOnlyTrackerKeyFormats) {
  WorkItem item;
  item.tracker = GetParam().tracker;
  item.key = GetParam().key;
  EXPECT_EQ(ValidateWorkItem(item).ok(), GetParam().valid) << item.key;
}

INSTANTIATE_TEST_SUITE_P(Table, WorkItemKeyTest,
                         ::testing::Values(KeyCase{Tracker::kJira, "OKRX-101", true},
                                           KeyCase{Tracker::kJira, "AB_2-7", true},
                                           KeyCase{Tracker::kJira, "OKRX101", false},
                                           KeyCase{Tracker::kJira, "OKRX-", false},
                                           KeyCase{Tracker::kJira, "1X-3", false},
                                           KeyCase{Tracker::kJira, "OKRX-0", false},
                                           KeyCase{Tracker::kGitLab, "group/project#7", true},
                                           KeyCase{Tracker::kGitLab,
                                                   "group/sub.group/my-project#12", true},
                                           KeyCase{Tracker::kGitLab, "project#7", false},
                                           KeyCase{Tracker::kGitLab, "group/project#", false},
                                           KeyCase{Tracker::kGitLab, "group//project#3", false},
                                           KeyCase{Tracker::kGitLab, "OKRX-101", false}));

}  // namespace
}  // namespace okr
