#include "service/okr/progress.h"

#include <cmath>

namespace okr {

double Clamp01(double v) {
  if (std::isnan(v)) return 0;
  if (v < 0) return 0;
  if (v > 1) return 1;
  return v;
}

namespace {
KeyResultProgress FromRaw(double raw) {
  if (!std::isfinite(raw)) raw = 0;
  raw += 0.0;  // -0 (a decrease target at its start value: 0 / -span) is plain 0
  return {Clamp01(raw), raw};
}
}  // namespace

KeyResultProgress MetricProgress(const MetricSpec& m) {
  const double span = m.target_value - m.start_value;
  if (span == 0) return {0, 0};
  return FromRaw((m.current_value - m.start_value) / span);
}

KeyResultProgress MilestoneProgress(bool done) { return done ? FromRaw(1) : FromRaw(0); }

KeyResultProgress WorkItemsProgress(const WorkItemTotals& totals) {
  if (totals.item_count == 0 || totals.total_weight <= 0) return {0, 0};
  return FromRaw(totals.done_weight / totals.total_weight);
}

double ItemCreditShare(const WorkItem& item) {
  if (item.excluded()) return 0;
  if (item.done) return 1;
  return Clamp01(item.partial_credit);
}

void AccumulateItem(WorkItemTotals& totals, const WorkItem& item, int sign) {
  if (item.excluded()) {
    totals.excluded_count += sign;
  } else {
    totals.item_count += sign;
    totals.total_weight += sign * item.weight;
    if (item.done) totals.done_count += sign;
    totals.done_weight += sign * item.weight * ItemCreditShare(item);
  }
  if (totals.excluded_count < 0) totals.excluded_count = 0;
  if (totals.item_count <= 0) {
    totals.item_count = 0;
    totals.total_weight = 0;
    totals.done_count = 0;
    totals.done_weight = 0;
  }
  if (totals.done_count < 0) totals.done_count = 0;
  if (totals.done_weight < 0) totals.done_weight = 0;
}

KeyResultProgress ComputeKeyResultProgress(const KeyResult& kr) {
  switch (kr.type) {
    case KeyResultType::kMetric:
      return MetricProgress(kr.metric);
    case KeyResultType::kMilestone:
      return MilestoneProgress(kr.milestone_done);
    case KeyResultType::kWorkItems:
      return WorkItemsProgress(kr.totals);
  }
  return {0, 0};
}

double WeightedMean(const std::vector<std::pair<double, double>>& progress_and_weight) {
  double sum = 0, weights = 0;
  for (const auto& [progress, weight] : progress_and_weight) {
    if (!(weight > 0)) continue;
    sum += Clamp01(progress) * weight;
    weights += weight;
  }
  if (weights <= 0) return 0;
  return Clamp01(sum / weights);
}

double ObjectiveProgress(const std::vector<KeyResult>& key_results) {
  std::vector<std::pair<double, double>> inputs;
  inputs.reserve(key_results.size());
  for (const KeyResult& kr : key_results) inputs.emplace_back(kr.progress, kr.weight);
  return WeightedMean(inputs);
}

double ExpectedProgress(absl::Time start, absl::Time end, absl::Time now) {
  if (end <= start) return 0;
  return Clamp01(absl::FDivDuration(now - start, end - start));
}

Health ComputeHealth(double progress, double expected, absl::Time cycle_start, absl::Time now) {
  if (now < cycle_start) return Health::kNotStarted;
  // A small epsilon keeps exact boundary values (e.g. 0.4 vs 0.5 - 0.1) on the kinder
  // side despite binary floating point.
  constexpr double kEps = 1e-9;
  if (progress + kEps >= expected - kOnTrackSlack) return Health::kOnTrack;
  if (progress + kEps >= expected - kAtRiskSlack) return Health::kAtRisk;
  return Health::kOffTrack;
}

}  // namespace okr
