// Tests of the pace in words.
#include "service/web/pace.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::web {
namespace {

class PaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cycle_.start_time = absl::FromUnixSeconds(0);
    cycle_.end_time = cycle_.start_time + absl::Hours(24 * 7 * 10);  // ten weeks
    kr_.type = KeyResultType::kWorkItems;
  }
  absl::Time Week(double w) { return cycle_.start_time + absl::Hours(24 * 7) * w; }
  Cycle cycle_;
  KeyResult kr_;
};

TEST_F(PaceTest, HalfWay_NeedsTheRestOverTheWeeksLeft) {
  kr_.progress = 0.3;
  EXPECT_EQ(PaceInWords(kr_, cycle_, Week(5)),
            "needs about +14 points a week to finish on time (so far +6 a week)");
}

TEST_F(PaceTest, Metric_AlsoInItsUnitAndDirection) {
  kr_.type = KeyResultType::kMetric;
  kr_.metric = MetricSpec{40, 20, 35, "%"};  // a decrease target, a quarter of the way
  kr_.progress = 0.25;
  EXPECT_EQ(PaceInWords(kr_, cycle_, Week(2)),
            "needs about +9.4 points a week to finish on time (so far +12 a week), about "
            "-1.9 % a week");
}

TEST_F(PaceTest, FirstWeek_NoSoFar) {
  kr_.progress = 0;
  EXPECT_EQ(PaceInWords(kr_, cycle_, Week(0.5)), "needs about +11 points a week to finish on time");
}

TEST_F(PaceTest, DoneBeforeAndAfter) {
  kr_.progress = 1;
  EXPECT_EQ(PaceInWords(kr_, cycle_, Week(5)), "done");
  kr_.progress = 0.2;
  EXPECT_EQ(PaceInWords(kr_, cycle_, Week(-1)), "the cycle has not started yet");
  EXPECT_EQ(PaceInWords(kr_, cycle_, Week(10)), "the cycle has ended");
}

TEST(RoundForPeopleTest, OneDecimalBelowTen) {
  EXPECT_EQ(RoundForPeople(4.0), "4");
  EXPECT_EQ(RoundForPeople(4.26), "4.3");
  EXPECT_EQ(RoundForPeople(12.6), "13");
  EXPECT_EQ(RoundForPeople(-0.01), "0");
}

}  // namespace
}  // namespace okr::web
