// okr_progress_bench: Google Benchmark of the progress rules (service/okr/progress.h),
// the pure computation behind every GetObjective/GetKeyResult and every check-in:
// key result progress per kind, objective progress over 5 and 50 key results, and
// expected progress plus health.
//
//   build/bench/okr_progress_bench [--benchmark_repetitions=5]
#include <vector>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "service/okr/model.h"
#include "service/okr/progress.h"

namespace okr {
namespace {

KeyResult MetricKeyResult() {
  KeyResult kr;
  kr.type = KeyResultType::kMetric;
  kr.metric.start_value = 10;
  kr.metric.target_value = 110;
  kr.metric.current_value = 47.5;
  return kr;
}

KeyResult MilestoneKeyResult() {
  KeyResult kr;
  kr.type = KeyResultType::kMilestone;
  kr.milestone_done = true;
  return kr;
}

KeyResult WorkItemsKeyResult() {
  KeyResult kr;
  kr.type = KeyResultType::kWorkItems;
  kr.totals.item_count = 12;
  kr.totals.done_count = 5;
  kr.totals.total_weight = 34;
  kr.totals.done_weight = 13;
  return kr;
}

void RunKeyResultProgress(benchmark::State& state, KeyResult kr) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(kr);  // the compiler may not assume the input is unchanged
    KeyResultProgress p = ComputeKeyResultProgress(kr);
    benchmark::DoNotOptimize(p);
  }
}

void BM_KeyResultProgress_Metric(benchmark::State& state) {
  RunKeyResultProgress(state, MetricKeyResult());
}
BENCHMARK(BM_KeyResultProgress_Metric);

void BM_KeyResultProgress_Milestone(benchmark::State& state) {
  RunKeyResultProgress(state, MilestoneKeyResult());
}
BENCHMARK(BM_KeyResultProgress_Milestone);

void BM_KeyResultProgress_WorkItems(benchmark::State& state) {
  RunKeyResultProgress(state, WorkItemsKeyResult());
}
BENCHMARK(BM_KeyResultProgress_WorkItems);

// Objective progress over state.range(0) key results of mixed kinds and weights, with
// their stored progress already computed (as the store keeps it).
void BM_ObjectiveProgress(benchmark::State& state) {
  std::vector<KeyResult> key_results;
  for (int64_t i = 0; i < state.range(0); ++i) {
    KeyResult kr = i % 3 == 0   ? MetricKeyResult()
                   : i % 3 == 1 ? MilestoneKeyResult()
                                : WorkItemsKeyResult();
    kr.weight = 1 + static_cast<double>(i % 4);
    kr.progress = ComputeKeyResultProgress(kr).progress;
    key_results.push_back(kr);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(key_results.data());
    double progress = ObjectiveProgress(key_results);
    benchmark::DoNotOptimize(progress);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ObjectiveProgress)->Arg(5)->Arg(50);

// What a read adds on top of the stored progress: the elapsed share of the cycle and the
// health derived from it.
void BM_ExpectedProgressAndHealth(benchmark::State& state) {
  const absl::Time start = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  const absl::Time end = start + absl::Hours(24 * 90);
  absl::Time now = start + absl::Hours(24 * 40);
  double progress = 0.31;
  for (auto _ : state) {
    benchmark::DoNotOptimize(now);
    benchmark::DoNotOptimize(progress);
    double expected = ExpectedProgress(start, end, now);
    Health health = ComputeHealth(progress, expected, start, now);
    benchmark::DoNotOptimize(expected);
    benchmark::DoNotOptimize(health);
  }
}
BENCHMARK(BM_ExpectedProgressAndHealth);

}  // namespace
}  // namespace okr

BENCHMARK_MAIN();
