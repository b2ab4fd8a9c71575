#include "service/web/pace.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace okr::web {

std::string RoundForPeople(double value) {
  const double a = std::fabs(value);
  std::string s = a >= 10 ? absl::StrFormat("%.0f", value) : absl::StrFormat("%.1f", value);
  if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string PaceInWords(const KeyResult& kr, const Cycle& cycle, absl::Time now) {
  if (kr.progress >= 1) return "done";
  if (now < cycle.start_time) return "the cycle has not started yet";
  if (now >= cycle.end_time) return "the cycle has ended";
  const double weeks_left = absl::ToDoubleHours(cycle.end_time - now) / (24 * 7);
  const double weeks_gone = absl::ToDoubleHours(now - cycle.start_time) / (24 * 7);
  const double points_left = (1 - kr.progress) * 100;
  const double needed = points_left / std::max(weeks_left, 1.0 / (24 * 7));
  std::string out =
      absl::StrCat("needs about +", RoundForPeople(needed), " points a week to finish on time");
  if (weeks_gone >= 1) {
    const double so_far = kr.progress * 100 / weeks_gone;
    absl::StrAppend(&out, " (so far ", so_far >= 0 ? "+" : "", RoundForPeople(so_far), " a week)");
  }
  if (kr.type == KeyResultType::kMetric) {
    const double units =
        (kr.metric.target_value - kr.metric.current_value) / std::max(weeks_left, 1.0 / (24 * 7));
    absl::StrAppend(&out, ", about ", units >= 0 ? "+" : "", RoundForPeople(units),
                    kr.metric.unit.empty() ? "" : " ", kr.metric.unit, " a week");
  }
  return out;
}

}  // namespace okr::web
