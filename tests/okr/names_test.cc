#include "service/okr/names.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::names {
namespace {

using ::testing::HasSubstr;

TEST(NamesTest, ParsesAndFormatsEveryResource) {
  EXPECT_EQ(*ParseTeam("teams/checkout", "f"), "checkout");
  EXPECT_EQ(*ParseCycle("cycles/2026-q4", "f"), "2026-q4");
  EXPECT_EQ(*ParseObjective("objectives/o1", "f"), "o1");
  KeyResultName kr = *ParseKeyResult("objectives/o1/keyResults/k2", "f");
  EXPECT_EQ(kr.objective_id, "o1");
  EXPECT_EQ(kr.key_result_id, "k2");
  KeyResultChildName c = *ParseCheckIn("objectives/o1/keyResults/k2/checkIns/c3", "f");
  EXPECT_EQ(c.child_id, "c3");
  KeyResultChildName l = *ParseWorkItemLink("objectives/o1/keyResults/k2/workItemLinks/l4", "f");
  EXPECT_EQ(l.child_id, "l4");
  EXPECT_EQ(KeyResult("o1", "k2"), "objectives/o1/keyResults/k2");
  EXPECT_EQ(WorkItemLink("o", "k", "l"), "objectives/o/keyResults/k/workItemLinks/l");
}

TEST(NamesTest, MalformedNameIsInvalidArgumentNamingTheField) {
  for (const char* bad :
       {"team/x", "teams/", "teams/X", "teams/a/b", "objectives/-a", "teams/a b", ""}) {
    absl::StatusOr<std::string> id = ParseTeam(bad, "objective.team");
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(id.status().message(), HasSubstr("objective.team"));
  }
  EXPECT_FALSE(ParseKeyResult("objectives/o1/keyResult/k", "parent").ok());
  EXPECT_FALSE(ParseCheckIn("objectives/o1/keyResults/k/workItemLinks/x", "name").ok());
}

TEST(NamesTest, GeneratedIdsAreValidAndDistinct) {
  std::string a = GenerateId(), b = GenerateId();
  EXPECT_TRUE(IsValidId(a));
  EXPECT_NE(a, b);
}

TEST(NamesTest, IdLengthLimit) {
  EXPECT_TRUE(IsValidId(std::string(63, 'a')));
  EXPECT_FALSE(IsValidId(std::string(64, 'a')));
}

}  // namespace
}  // namespace okr::names
