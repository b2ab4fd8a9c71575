// The progress rules of the OKR domain (docs: domain.md, "Progress rules"), in one place.
// Pure functions: no storage, no clock of their own (callers pass `now`).
//
//   KeyResultProgress p = ComputeKeyResultProgress(kr);   // metric/milestone/work items
//   double o = ObjectiveProgress({{p.progress, kr.weight}, ...});
//   double e = ExpectedProgress(cycle.start_time, cycle.end_time, clock.Now());
//   Health h = ComputeHealth(o, e, cycle.start_time, clock.Now());
#ifndef OKR_SERVICE_OKR_PROGRESS_H_
#define OKR_SERVICE_OKR_PROGRESS_H_

#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr {

// Health thresholds: on track if progress >= expected - kOnTrackSlack, at risk if
// >= expected - kAtRiskSlack, else off track.
inline constexpr double kOnTrackSlack = 0.10;
inline constexpr double kAtRiskSlack = 0.25;

struct KeyResultProgress {
  double progress = 0;      // clamped to [0, 1]
  double raw_progress = 0;  // unclamped ratio (overshoot > 1, regression < 0)
};

// Clamps to [0, 1]; NaN becomes 0.
double Clamp01(double v);

// metric: (current - start) / (target - start); start == target gives 0 (validation
// rejects it on write).
KeyResultProgress MetricProgress(const MetricSpec& metric);
// milestone: 0 or 1.
KeyResultProgress MilestoneProgress(bool done);
// work items: done weight / total weight; no items (or zero total weight) gives 0.
KeyResultProgress WorkItemsProgress(const WorkItemTotals& totals);
// One linked item's part in a work-items key result: excluded items (cancelled work)
// count nowhere; a done item counts its whole weight; any other its partial credit share
// (clamped to [0, 1]) of it. Returns the share of `item.weight` credited as progress.
double ItemCreditShare(const WorkItem& item);
// Adds (sign = +1) or takes away (sign = -1) one item's part in `totals`; sums that become
// empty are exactly zero afterwards (no rounding left over from the deltas).
void AccumulateItem(WorkItemTotals& totals, const WorkItem& item, int sign);
// Dispatches on kr.type.
KeyResultProgress ComputeKeyResultProgress(const KeyResult& kr);

// Weighted mean of (progress, weight) pairs; 0 when the weights sum to 0 (or no input).
double WeightedMean(const std::vector<std::pair<double, double>>& progress_and_weight);
// Objective progress from its key results' stored progress and weights.
double ObjectiveProgress(const std::vector<KeyResult>& key_results);

// clamp((now - start) / (end - start), 0, 1); 0 for an empty or inverted cycle.
double ExpectedProgress(absl::Time start, absl::Time end, absl::Time now);

// NOT_STARTED before the cycle starts; otherwise by the slack thresholds above.
Health ComputeHealth(double progress, double expected, absl::Time cycle_start, absl::Time now);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_PROGRESS_H_
