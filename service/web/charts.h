// Charts: the geometry of the two pictures the pages draw as inline SVG -- a key result's
// progress over time (actual vs expected, with a marker per change) and a cycle's
// alignment tree (objectives as nodes, edges to parents, dependencies). Pure functions
// from domain values to coordinates in a fixed viewBox; the templates only place them, so
// the layout is tested here without HTML.
//
//   ProgressChart c = LayOutProgressChart(cycle, now, kr.progress, points);
//   AlignmentPicture p = LayOutAlignmentTree(objectives);   // one cycle's objectives
#ifndef OKR_SERVICE_WEB_CHARTS_H_
#define OKR_SERVICE_WEB_CHARTS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr::web {

// ---- Progress over time ----

// One change of a key result's progress (a PROGRESS_CHANGED event).
struct ProgressPoint {
  absl::Time time;
  double old_progress = 0;
  double new_progress = 0;
  std::string label;   // what moved it: "check-in by Ada", "OKRX-102 closed", ...
  std::string marker;  // CSS class of the marker: "checkin", "item", "scope", "other"
};

struct ChartMarker {
  double x = 0;
  double y = 0;
  std::string label;
  std::string marker;
  absl::Time time;
  double progress = 0;
};

struct AxisTick {
  double pos = 0;  // x for time ticks, y for progress ticks
  std::string text;
};

struct ProgressChart {
  double width = 720;
  double height = 260;
  double plot_left = 0, plot_right = 0, plot_top = 0, plot_bottom = 0;
  std::string expected_points;  // SVG polyline points: cycle start 0 -> cycle end 100 %
  std::string actual_points;    // step line through every change up to now
  double now_x = 0;             // the "today" rule (inside the cycle), else < 0
  std::vector<ChartMarker> markers;
  std::vector<AxisTick> x_ticks;
  std::vector<AxisTick> y_ticks;
};

// `points` oldest first. Times outside the cycle are drawn at its edges. With no points
// the line is flat at `current_progress`.
ProgressChart LayOutProgressChart(const Cycle& cycle, absl::Time now, double current_progress,
                                  const std::vector<ProgressPoint>& points);

// ---- Alignment tree ----

struct TreeNode {
  std::string id;
  std::string title;  // shortened to fit; `full_title` holds all of it
  std::string full_title;
  std::string team_id;
  Health health = Health::kNotStarted;
  double progress = 0;
  int depth = 0;
  double x = 0, y = 0, w = 0, h = 0;
  // Aligned to an objective outside the picture (another cycle or team): its id.
  std::string outside_parent_id;
};

struct TreeEdge {
  std::string path;  // SVG path data
};

struct AlignmentPicture {
  double width = 0;
  double height = 0;
  std::vector<TreeNode> nodes;         // depth-first, children in creation order
  std::vector<TreeEdge> parent_edges;  // child -> parent
  std::vector<TreeEdge> dependency_edges;
};

// Lays out `objectives` (any order) as an indented tree: an objective whose parent is not
// among them is a root. Dependencies between objectives of the picture become curves on
// the right.
AlignmentPicture LayOutAlignmentTree(const std::vector<Objective>& objectives);

// At most `max_chars` code points of `text`, "…" ending a shortened one (UTF-8 safe).
std::string Shorten(const std::string& text, size_t max_chars);

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_CHARTS_H_
