// Tests of the chart geometry: progress over time and the alignment tree layout.
#include "service/web/charts.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::web {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

Cycle TenDays() {
  Cycle c;
  c.start_time = absl::FromUnixSeconds(0);
  c.end_time = absl::FromUnixSeconds(10 * 86400);
  return c;
}

TEST(ProgressChartTest, StepsThroughEachChange_MarkersWhereItMoved) {
  const Cycle c = TenDays();
  std::vector<ProgressPoint> points = {
      {absl::FromUnixSeconds(2 * 86400), 0, 0.25, "check-in by Ada", "checkin"},
      {absl::FromUnixSeconds(5 * 86400), 0.25, 0.5, "OKRX-102 closed", "item"},
  };
  ProgressChart chart = LayOutProgressChart(c, absl::FromUnixSeconds(6 * 86400), 0.5, points);
  // Plot: x 44..704 over ten days (66 per day), y 230 (0%) .. 14 (100%).
  EXPECT_EQ(chart.expected_points, "44.0,230.0 704.0,14.0");
  EXPECT_EQ(chart.actual_points,
            "44.0,230.0 176.0,230.0 176.0,176.0 374.0,176.0 374.0,122.0 440.0,122.0");
  ASSERT_THAT(chart.markers, SizeIs(2));
  EXPECT_DOUBLE_EQ(chart.markers[1].x, 374);
  EXPECT_DOUBLE_EQ(chart.markers[1].y, 122);
  EXPECT_EQ(chart.markers[1].label, "OKRX-102 closed");
  EXPECT_DOUBLE_EQ(chart.now_x, 440);
  EXPECT_THAT(chart.y_ticks, SizeIs(5));
  EXPECT_EQ(chart.x_ticks.front().text, "Jan 01");
}

TEST(ProgressChartTest, ChangesOutsideTheCycle_DrawnAtItsEdges_NoPointsIsFlat) {
  const Cycle c = TenDays();
  ProgressChart flat = LayOutProgressChart(c, absl::FromUnixSeconds(20 * 86400), 0.4, {});
  EXPECT_EQ(flat.actual_points, "44.0,143.6 704.0,143.6");
  EXPECT_LT(flat.now_x, 0);
  std::vector<ProgressPoint> early = {{absl::FromUnixSeconds(-86400), 0, 1, "x", "other"}};
  ProgressChart e = LayOutProgressChart(c, absl::FromUnixSeconds(86400), 1, early);
  EXPECT_DOUBLE_EQ(e.markers[0].x, 44);
}

Objective O(const std::string& id, const std::string& parent, int64_t seq,
            std::vector<std::string> deps = {}) {
  Objective o;
  o.id = id;
  o.title = "Objective " + id;
  o.parent_id = parent;
  o.meta.seq = seq;
  o.depends_on = std::move(deps);
  return o;
}

TEST(AlignmentTreeTest, IndentsChildrenUnderParents_EdgesAndDependencies) {
  // Given out of order; "x" is aligned to an objective outside the picture.
  AlignmentPicture pic =
      LayOutAlignmentTree({O("c2", "root", 3), O("root", "", 1), O("c1", "root", 2, {"c2"}),
                           O("g", "c1", 4), O("x", "elsewhere", 5)});
  ASSERT_THAT(pic.nodes, SizeIs(5));
  std::vector<std::string> order;
  for (const TreeNode& n : pic.nodes) order.push_back(n.id + ":" + std::to_string(n.depth));
  EXPECT_THAT(order, ::testing::ElementsAre("root:0", "c1:1", "g:2", "c2:1", "x:0"));
  EXPECT_EQ(pic.nodes[4].outside_parent_id, "elsewhere");
  EXPECT_THAT(pic.parent_edges, SizeIs(3));
  ASSERT_THAT(pic.dependency_edges, SizeIs(1));
  EXPECT_THAT(pic.dependency_edges[0].path, HasSubstr(" C"));
  EXPECT_GT(pic.width, 400);
  EXPECT_GT(pic.height, 5 * 40);
}

TEST(AlignmentTreeTest, ALoop_IsStillDrawnOnce) {
  AlignmentPicture pic = LayOutAlignmentTree({O("a", "b", 1), O("b", "a", 2)});
  EXPECT_THAT(pic.nodes, SizeIs(2));
}

TEST(ShortenTest, CountsCodePoints) {
  EXPECT_EQ(Shorten("abc", 5), "abc");
  EXPECT_EQ(Shorten("abcdef", 3), "abc\xE2\x80\xA6");
  EXPECT_EQ(Shorten("\xC3\xA4\xC3\xB6\xC3\xBC", 2), "\xC3\xA4\xC3\xB6\xE2\x80\xA6");
}

}  // namespace
}  // namespace okr::web
