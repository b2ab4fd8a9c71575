#include "service/web/charts.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace okr::web {
namespace {

std::string Num(double v) { return absl::StrFormat("%.1f", v); }

std::string Point(double x, double y) { return absl::StrCat(Num(x), ",", Num(y)); }

}  // namespace

std::string Shorten(const std::string& text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation
    if (chars == max_chars) return text.substr(0, i) + "\xE2\x80\xA6";
    ++chars;
  }
  return text;
}

ProgressChart LayOutProgressChart(const Cycle& cycle, absl::Time now, double current_progress,
                                  const std::vector<ProgressPoint>& points) {
  ProgressChart c;
  c.plot_left = 44;
  c.plot_right = c.width - 16;
  c.plot_top = 14;
  c.plot_bottom = c.height - 30;
  const absl::Time start = cycle.start_time;
  const absl::Time end = cycle.end_time > start ? cycle.end_time : start + absl::Hours(24);
  const double span = absl::ToDoubleSeconds(end - start);
  auto x_of = [&](absl::Time t) {
    const double f = std::clamp(absl::ToDoubleSeconds(t - start) / span, 0.0, 1.0);
    return c.plot_left + f * (c.plot_right - c.plot_left);
  };
  auto y_of = [&](double p) {
    const double f = std::clamp(p, 0.0, 1.0);
    return c.plot_bottom - f * (c.plot_bottom - c.plot_top);
  };
  c.expected_points = absl::StrCat(Point(x_of(start), y_of(0)), " ", Point(x_of(end), y_of(1)));

  const absl::Time last = std::min(now, end);
  double y = y_of(points.empty() ? current_progress : points.front().old_progress);
  std::string line = Point(x_of(start), y);
  for (const ProgressPoint& p : points) {
    const double x = x_of(p.time);
    const double y2 = y_of(p.new_progress);
    absl::StrAppend(&line, " ", Point(x, y), " ", Point(x, y2));
    y = y2;
    c.markers.push_back(ChartMarker{x, y2, p.label, p.marker, p.time, p.new_progress});
  }
  if (now > start) absl::StrAppend(&line, " ", Point(x_of(last), y));
  c.actual_points = std::move(line);
  c.now_x = now > start && now < end ? x_of(now) : -1;

  for (int i = 0; i <= 4; ++i) {
    c.y_ticks.push_back(AxisTick{y_of(i * 0.25), absl::StrCat(i * 25, "%")});
  }
  // Start, middle and end of the cycle.
  for (int i = 0; i <= 2; ++i) {
    const absl::Time t = start + (end - start) * i / 2;
    c.x_ticks.push_back(AxisTick{x_of(t), absl::FormatTime("%b %d", t, absl::UTCTimeZone())});
  }
  return c;
}

AlignmentPicture LayOutAlignmentTree(const std::vector<Objective>& objectives) {
  constexpr double kIndent = 26, kNodeWidth = 400, kNodeHeight = 36, kRow = 46, kMargin = 8;
  constexpr double kDependencyRoom = 90;
  AlignmentPicture pic;
  absl::flat_hash_map<std::string, const Objective*> by_id;
  for (const Objective& o : objectives) by_id[o.id] = &o;
  // Children in creation order.
  std::vector<const Objective*> sorted;
  for (const Objective& o : objectives) sorted.push_back(&o);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Objective* a, const Objective* b) {
    return a->meta.seq < b->meta.seq;
  });
  absl::flat_hash_map<std::string, std::vector<const Objective*>> children;
  std::vector<const Objective*> roots;
  for (const Objective* o : sorted) {
    if (!o->parent_id.empty() && o->parent_id != o->id && by_id.contains(o->parent_id)) {
      children[o->parent_id].push_back(o);
    } else {
      roots.push_back(o);
    }
  }
  absl::flat_hash_map<std::string, size_t> index;  // id -> node
  absl::flat_hash_map<std::string, bool> placed;
  // Iterative depth-first walk (a deep tree must not overflow the stack).
  std::vector<std::pair<const Objective*, int>> stack;
  auto place_tree = [&](const Objective* root) {
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto [o, depth] = stack.back();
      stack.pop_back();
      if (placed[o->id]) continue;  // a loop (rejected on write, but never trusted)
      placed[o->id] = true;
      TreeNode n;
      n.id = o->id;
      n.full_title = o->title;
      n.title = Shorten(o->title, 46);
      n.team_id = o->team_id;
      n.health = o->health;
      n.progress = o->progress;
      n.depth = depth;
      n.x = kMargin + depth * kIndent;
      n.y = kMargin + pic.nodes.size() * kRow;
      n.w = kNodeWidth;
      n.h = kNodeHeight;
      if (!o->parent_id.empty() && !by_id.contains(o->parent_id)) {
        n.outside_parent_id = o->parent_id;
      }
      index[o->id] = pic.nodes.size();
      pic.nodes.push_back(std::move(n));
      auto it = children.find(o->id);
      if (it == children.end()) continue;
      for (auto c = it->second.rbegin(); c != it->second.rend(); ++c)
        stack.push_back({*c, depth + 1});
    }
  };
  for (const Objective* r : roots) place_tree(r);
  // Objectives only reachable through a loop: place them as roots.
  for (const Objective* o : sorted) {
    if (!placed[o->id]) place_tree(o);
  }
  double max_right = 0;
  for (const TreeNode& n : pic.nodes) max_right = std::max(max_right, n.x + n.w);
  for (const Objective* o : sorted) {
    const TreeNode& child = pic.nodes[index[o->id]];
    auto p = index.find(o->parent_id);
    if (!o->parent_id.empty() && p != index.end() && children.contains(o->parent_id)) {
      const TreeNode& parent = pic.nodes[p->second];
      if (parent.depth < child.depth) {
        const double px = parent.x + kIndent / 2;
        pic.parent_edges.push_back(
            TreeEdge{absl::StrCat("M", Num(px), " ", Num(parent.y + parent.h), " V",
                                  Num(child.y + child.h / 2), " H", Num(child.x))});
      }
    }
    for (const std::string& dep : o->depends_on) {
      auto d = index.find(dep);
      if (d == index.end()) continue;
      const TreeNode& target = pic.nodes[d->second];
      const double ax = child.x + child.w, ay = child.y + child.h / 2;
      const double bx = target.x + target.w, by = target.y + target.h / 2;
      const double bend = max_right + kDependencyRoom * 0.8;
      pic.dependency_edges.push_back(
          TreeEdge{absl::StrCat("M", Num(ax), " ", Num(ay), " C", Num(bend), " ", Num(ay), " ",
                                Num(bend), " ", Num(by), " ", Num(bx), " ", Num(by))});
    }
  }
  pic.width = max_right + kDependencyRoom + kMargin;
  pic.height = kMargin * 2 + std::max<size_t>(pic.nodes.size(), 1) * kRow;
  return pic;
}

}  // namespace okr::web
