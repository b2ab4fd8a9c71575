#include "service/okr/progress.h"

#include <limits>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace okr {
namespace {

struct MetricCase {
  const char* name;
  double start, target, current;
  double progress, raw;
};

class MetricProgressTest : public ::testing::TestWithParam<MetricCase> {};

TEST_P(MetricProgressTest, ComputesClampedAndRawRatio) {
  const MetricCase& c = GetParam();
  MetricSpec m{c.start, c.target, c.current, ""};
  KeyResultProgress p = MetricProgress(m);
  EXPECT_DOUBLE_EQ(p.progress, c.progress);
  EXPECT_DOUBLE_EQ(p.raw_progress, c.raw);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MetricProgressTest,
    ::testing::Values(MetricCase{"AtStart", 0, 100, 0, 0, 0},
                      MetricCase{"Halfway", 0, 100, 50, 0.5, 0.5},
                      MetricCase{"AtTarget", 10, 20, 20, 1, 1},
                      MetricCase{"OvershootClampsButReportsRaw", 0, 100, 150, 1, 1.5},
                      MetricCase{"RegressionClampsToZero", 50, 100, 25, 0, -0.5},
                      MetricCase{"DecreaseTargetChurn8To5At6", 8, 5, 6, 2.0 / 3.0, 2.0 / 3.0},
                      MetricCase{"DecreaseTargetReached", 8, 5, 5, 1, 1},
                      MetricCase{"DecreaseTargetWrongWay", 8, 5, 9, 0, -1.0 / 3.0},
                      MetricCase{"StartEqualsTargetIsZero", 3, 3, 3, 0, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MilestoneProgressTest, DoneIsOneNotDoneIsZero) {
  EXPECT_DOUBLE_EQ(MilestoneProgress(true).progress, 1);
  EXPECT_DOUBLE_EQ(MilestoneProgress(false).progress, 0);
}

struct WorkItemsCase {
  const char* name;
  WorkItemTotals totals;
  double progress;
};

class WorkItemsProgressTest : public ::testing::TestWithParam<WorkItemsCase> {};

TEST_P(WorkItemsProgressTest, IsDoneWeightOverTotalWeight) {
  EXPECT_DOUBLE_EQ(WorkItemsProgress(GetParam().totals).progress, GetParam().progress);
}

INSTANTIATE_TEST_SUITE_P(Table, WorkItemsProgressTest,
                         ::testing::Values(WorkItemsCase{"NoItemsIsZero", {0, 0, 0, 0}, 0},
                                           WorkItemsCase{"OneOfFourUnweighted", {4, 1, 4, 1}, 0.25},
                                           WorkItemsCase{
                                               "WeightedStoryPoints", {3, 1, 6.5, 2.5}, 2.5 / 6.5},
                                           WorkItemsCase{"AllDone", {2, 2, 3, 3}, 1},
                                           WorkItemsCase{"ZeroTotalWeightIsZero", {2, 1, 0, 0}, 0}),
                         [](const auto& info) { return std::string(info.param.name); });

WorkItem Item(double weight, bool done, double partial_credit = 0, std::string exclusion = "") {
  WorkItem w;
  w.weight = weight;
  w.done = done;
  w.partial_credit = partial_credit;
  w.exclusion = std::move(exclusion);
  return w;
}

TEST(ItemCreditShareTest, DoneIsWholePartialIsItsShareExcludedIsNothing) {
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, true)), 1);
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, true, 0.5)), 1);  // done beats partial credit
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, false)), 0);
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, false, 0.5)), 0.5);
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, false, 7)), 1);   // clamped
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, false, -1)), 0);  // clamped
  EXPECT_DOUBLE_EQ(ItemCreditShare(Item(3, true, 0, "Won't Do")), 0);
}

TEST(AccumulateItemTest, ExcludedItemsLeaveNumeratorAndDenominator) {
  WorkItemTotals t;
  AccumulateItem(t, Item(2, true), +1);
  AccumulateItem(t, Item(4, false, 0.5), +1);           // "In Review": half of 4
  AccumulateItem(t, Item(8, true, 0, "Won't Do"), +1);  // cancelled: left out
  EXPECT_EQ(t.item_count, 2);
  EXPECT_EQ(t.done_count, 1);
  EXPECT_EQ(t.excluded_count, 1);
  EXPECT_DOUBLE_EQ(t.total_weight, 6);
  EXPECT_DOUBLE_EQ(t.done_weight, 4);
  EXPECT_DOUBLE_EQ(WorkItemsProgress(t).progress, 4.0 / 6.0);
}

TEST(AccumulateItemTest, RemovingWhatWasAddedReturnsToExactZero) {
  WorkItemTotals t;
  const WorkItem a = Item(0.1, false, 0.3), b = Item(0.2, true), c = Item(1, false, 0, "duplicate");
  for (const WorkItem* w : {&a, &b, &c}) AccumulateItem(t, *w, +1);
  for (const WorkItem* w : {&c, &a, &b}) AccumulateItem(t, *w, -1);
  EXPECT_EQ(t.item_count, 0);
  EXPECT_EQ(t.excluded_count, 0);
  EXPECT_EQ(t.total_weight, 0);
  EXPECT_EQ(t.done_weight, 0);
}

TEST(AccumulateItemTest, AnItemBecomingExcludedMovesFromTheRatioToTheExcludedCount) {
  WorkItemTotals t;
  AccumulateItem(t, Item(1, true), +1);
  AccumulateItem(t, Item(1, false), +1);
  EXPECT_DOUBLE_EQ(WorkItemsProgress(t).progress, 0.5);
  AccumulateItem(t, Item(1, false), -1);
  AccumulateItem(t, Item(1, true, 0, "Won't Do"), +1);
  EXPECT_EQ(t.item_count, 1);
  EXPECT_EQ(t.excluded_count, 1);
  EXPECT_DOUBLE_EQ(WorkItemsProgress(t).progress, 1);
}

TEST(ComputeKeyResultProgressTest, DispatchesOnType) {
  KeyResult kr;
  kr.type = KeyResultType::kMetric;
  kr.metric = {0, 10, 4, ""};
  EXPECT_DOUBLE_EQ(ComputeKeyResultProgress(kr).progress, 0.4);
  kr.type = KeyResultType::kMilestone;
  kr.milestone_done = true;
  EXPECT_DOUBLE_EQ(ComputeKeyResultProgress(kr).progress, 1);
  kr.type = KeyResultType::kWorkItems;
  kr.totals = {2, 1, 2, 1};
  EXPECT_DOUBLE_EQ(ComputeKeyResultProgress(kr).progress, 0.5);
}

TEST(ObjectiveProgressTest, IsWeightedMeanOfKeyResults) {
  KeyResult a, b, c;
  a.progress = 1.0;
  a.weight = 1;
  b.progress = 0.5;
  b.weight = 2;
  c.progress = 0;
  c.weight = 1;
  EXPECT_DOUBLE_EQ(ObjectiveProgress({a, b, c}), (1.0 + 1.0 + 0) / 4);
}

TEST(ObjectiveProgressTest, NoKeyResultsOrZeroWeightsIsZero) {
  EXPECT_DOUBLE_EQ(ObjectiveProgress({}), 0);
  KeyResult a;
  a.progress = 1;
  a.weight = 0;
  EXPECT_DOUBLE_EQ(ObjectiveProgress({a}), 0);
}

TEST(WeightedMeanTest, IgnoresZeroWeightEntries) {
  EXPECT_DOUBLE_EQ(WeightedMean({{1.0, 0}, {0.5, 1}}), 0.5);
}

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const absl::Time kEnd = kStart + absl::Hours(100);

struct ExpectedCase {
  const char* name;
  absl::Duration since_start;
  double expected;
};

class ExpectedProgressTest : public ::testing::TestWithParam<ExpectedCase> {};

TEST_P(ExpectedProgressTest, IsElapsedShareOfCycle) {
  EXPECT_DOUBLE_EQ(ExpectedProgress(kStart, kEnd, kStart + GetParam().since_start),
                   GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Table, ExpectedProgressTest,
                         ::testing::Values(ExpectedCase{"BeforeStart", -absl::Hours(5), 0},
                                           ExpectedCase{"AtStart", absl::ZeroDuration(), 0},
                                           ExpectedCase{"Quarter", absl::Hours(25), 0.25},
                                           ExpectedCase{"AtEnd", absl::Hours(100), 1},
                                           ExpectedCase{"AfterEnd", absl::Hours(500), 1}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ExpectedProgressTest, InvertedCycleIsZero) {
  EXPECT_DOUBLE_EQ(ExpectedProgress(kEnd, kStart, kEnd), 0);
}

struct HealthCase {
  const char* name;
  double progress, expected;
  Health health;
};

class HealthTest : public ::testing::TestWithParam<HealthCase> {};

TEST_P(HealthTest, FollowsSlackThresholds) {
  const HealthCase& c = GetParam();
  EXPECT_EQ(ComputeHealth(c.progress, c.expected, kStart, kStart + absl::Hours(1)), c.health);
}

INSTANTIATE_TEST_SUITE_P(
    Table, HealthTest,
    ::testing::Values(HealthCase{"AheadIsOnTrack", 0.8, 0.5, Health::kOnTrack},
                      HealthCase{"ExactlyTenBehindIsOnTrack", 0.4, 0.5, Health::kOnTrack},
                      HealthCase{"JustOverTenBehindIsAtRisk", 0.39, 0.5, Health::kAtRisk},
                      HealthCase{"ExactlyQuarterBehindIsAtRisk", 0.25, 0.5, Health::kAtRisk},
                      HealthCase{"MoreThanQuarterBehindIsOffTrack", 0.24, 0.5, Health::kOffTrack},
                      HealthCase{"ZeroAtEndIsOffTrack", 0, 1, Health::kOffTrack}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HealthTest, BeforeCycleStartIsNotStarted) {
  EXPECT_EQ(ComputeHealth(0, 0, kStart, kStart - absl::Seconds(1)), Health::kNotStarted);
}

TEST(Clamp01Test, ClampsAndMapsNanToZero) {
  EXPECT_EQ(Clamp01(-1), 0);
  EXPECT_EQ(Clamp01(2), 1);
  EXPECT_EQ(Clamp01(0.3), 0.3);
  EXPECT_EQ(Clamp01(std::numeric_limits<double>::quiet_NaN()), 0);
}

}  // namespace
}  // namespace okr
