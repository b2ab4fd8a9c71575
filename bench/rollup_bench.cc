// okr_rollup_bench: Google Benchmark of the progress roll-up (service/okr/rollup.h) on an
// organisation-sized tree, the work behind "a closed ticket moves its key result, its
// objective and every objective aligned above it".
//
// The tree: 100,000 objectives, depth 6 (fan-out 7: 1 + 7 + 49 + 343 + 2,401 + 16,807
// inner objectives and 80,392 leaves), every objective KEY_RESULTS_AND_CHILDREN so that a
// change travels all the way to the root (the worst case). Each inner objective has one
// metric key result; each leaf three work-item key results; 1,000,000 tracker items
// (story points 1/2/3/5/8, about 40 % done) are spread over the 241,176 work-item key
// results.
//
//   BM_Baseline_ComputeKeyResultProgress  one progress.h call: the unit the others are
//                                         stated in
//   BM_ItemClose_PropagateToRoot          one item closes: its key result's totals and
//                                         progress, RollupTree::SetKeyResult up to the
//                                         root, and the list of changed objectives
//   BM_RecomputeAll                       RollupTree::RecomputeAll over the whole tree
//   BM_RebuildFromItems                   cold start: totals of every key result from the
//                                         1,000,000 items, their progress, and
//                                         RollupTree::Build (index + full compute)
//
// After the run it prints the peak resident set size of the process (getrusage) and the
// tree's own estimate of its heap use.
//
//   build/bench/okr_rollup_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/okr/model.h"
#include "service/okr/progress.h"
#include "service/okr/rollup.h"

namespace okr {
namespace {

constexpr int kObjectives = 100'000;
constexpr int kFanOut = 7;
constexpr int kDepth = 6;
constexpr int kKeyResultsPerLeaf = 3;
constexpr int kItems = 1'000'000;

struct Item {
  int32_t key_result;  // index into World::key_results
  double weight;
  bool done;
};

struct World {
  std::vector<Objective> objectives;
  std::vector<KeyResult> key_results;  // work-item key results keep their totals current
  std::vector<Item> items;
  std::vector<int32_t> close_order;  // items that start open, in random order
  RollupTree tree;
  int leaves = 0;
  double build_seconds = 0;
  double rss_before_tree_mb = 0;  // resident set size around the first RollupTree::Build
  double rss_after_tree_mb = 0;
};

double CurrentRssMb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0));
}

World& TheWorld() {
  static World* world = [] {
    auto* w = new World();
    std::mt19937_64 rng(42);
    // Objectives level by level; the parent of the i-th objective of a level is the
    // (i / kFanOut)-th of the level above.
    std::vector<int> level_start;
    int level_size = 1;
    for (int level = 0; level <= kDepth && static_cast<int>(w->objectives.size()) < kObjectives;
         ++level, level_size *= kFanOut) {
      level_start.push_back(static_cast<int>(w->objectives.size()));
      const int n = std::min(level_size, kObjectives - static_cast<int>(w->objectives.size()));
      for (int i = 0; i < n; ++i) {
        Objective o;
        o.id = absl::StrCat("o", w->objectives.size());
        if (level > 0) o.parent_id = absl::StrCat("o", level_start[level - 1] + i / kFanOut);
        o.progress_source = ProgressSource::kKeyResultsAndChildren;
        w->objectives.push_back(std::move(o));
      }
      if (level == kDepth) w->leaves = n;
    }
    const int first_leaf = level_start.back();
    for (int x = 0; x < kObjectives; ++x) {
      if (x < first_leaf) {
        KeyResult kr;
        kr.id = "m";
        kr.objective_id = w->objectives[x].id;
        kr.type = KeyResultType::kMetric;
        kr.metric = {0, 100, static_cast<double>(rng() % 101), ""};
        kr.progress = ComputeKeyResultProgress(kr).progress;
        w->key_results.push_back(std::move(kr));
        continue;
      }
      for (int k = 0; k < kKeyResultsPerLeaf; ++k) {
        KeyResult kr;
        kr.id = absl::StrCat("k", k);
        kr.objective_id = w->objectives[x].id;
        kr.type = KeyResultType::kWorkItems;
        w->key_results.push_back(std::move(kr));
      }
    }
    const int first_work_kr = first_leaf;  // one metric key result per inner objective
    const int work_krs = static_cast<int>(w->key_results.size()) - first_work_kr;
    static constexpr double kPoints[] = {1, 2, 3, 5, 8};
    w->items.reserve(kItems);
    for (int i = 0; i < kItems; ++i) {
      Item item{first_work_kr + static_cast<int32_t>(rng() % work_krs), kPoints[rng() % 5],
                rng() % 10 < 4};
      WorkItemTotals& t = w->key_results[item.key_result].totals;
      t.item_count += 1;
      t.total_weight += item.weight;
      if (item.done) {
        t.done_count += 1;
        t.done_weight += item.weight;
      } else {
        w->close_order.push_back(i);
      }
      w->items.push_back(item);
    }
    std::shuffle(w->close_order.begin(), w->close_order.end(), rng);
    for (int k = first_work_kr; k < static_cast<int>(w->key_results.size()); ++k) {
      w->key_results[k].progress = ComputeKeyResultProgress(w->key_results[k]).progress;
    }
    w->rss_before_tree_mb = CurrentRssMb();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<RollupTree> tree = RollupTree::Build(w->objectives, w->key_results);
    w->build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!tree.ok()) {
      std::fprintf(stderr, "RollupTree::Build failed: %s\n", tree.status().ToString().c_str());
      std::abort();
    }
    w->tree = *std::move(tree);
    w->rss_after_tree_mb = CurrentRssMb();
    return w;
  }();
  return *world;
}

double PeakRssMb() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

void BM_Baseline_ComputeKeyResultProgress(benchmark::State& state) {
  World& w = TheWorld();
  KeyResult kr = w.key_results.back();
  for (auto _ : state) {
    benchmark::DoNotOptimize(kr);
    KeyResultProgress p = ComputeKeyResultProgress(kr);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_Baseline_ComputeKeyResultProgress);

// One item closes (the next open one in a random order; once all have closed, they reopen
// in the same order: the same code path). Everything the domain layer does for it.
void BM_ItemClose_PropagateToRoot(benchmark::State& state) {
  World& w = TheWorld();
  size_t next = 0;
  int64_t changed = 0;
  for (auto _ : state) {
    Item& item = w.items[w.close_order[next]];
    next = next + 1 == w.close_order.size() ? 0 : next + 1;
    KeyResult& kr = w.key_results[item.key_result];
    item.done = !item.done;
    const double sign = item.done ? 1 : -1;
    kr.totals.done_count += item.done ? 1 : -1;
    kr.totals.done_weight += sign * item.weight;
    kr.progress = ComputeKeyResultProgress(kr).progress;
    absl::StatusOr<std::vector<ProgressChange>> changes =
        w.tree.SetKeyResult(kr.objective_id, kr.id, kr.progress, kr.weight);
    changed += changes->size();
    benchmark::DoNotOptimize(changes);
  }
  state.counters["objectives_changed_per_op"] =
      benchmark::Counter(static_cast<double>(changed), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ItemClose_PropagateToRoot)->Iterations(500'000);

// The roll-up alone: RollupTree::SetKeyResult for a random leaf key result with a new
// progress (inputs precomputed), i.e. the item-close path minus the caller's bookkeeping.
void BM_SetKeyResult_RandomLeaf(benchmark::State& state) {
  World& w = TheWorld();
  std::mt19937_64 rng(7);
  const size_t first_work_kr = w.key_results.size() - w.leaves * kKeyResultsPerLeaf;
  std::vector<std::pair<int32_t, double>> inputs(1 << 16);
  for (auto& [kr, progress] : inputs) {
    kr = static_cast<int32_t>(first_work_kr + rng() % (w.leaves * kKeyResultsPerLeaf));
    progress = static_cast<double>(rng() % 1000) / 1000;
  }
  size_t next = 0;
  for (auto _ : state) {
    const auto& [index, progress] = inputs[next];
    next = (next + 1) & (inputs.size() - 1);
    KeyResult& kr = w.key_results[index];
    absl::StatusOr<std::vector<ProgressChange>> changes =
        w.tree.SetKeyResult(kr.objective_id, kr.id, progress, kr.weight);
    benchmark::DoNotOptimize(changes);
  }
  // Put the tree back in line with the key results for the benchmarks that follow.
  for (const KeyResult& kr : w.key_results) {
    (void)w.tree.SetKeyResult(kr.objective_id, kr.id, kr.progress, kr.weight);
  }
}
BENCHMARK(BM_SetKeyResult_RandomLeaf);

void BM_RecomputeAll(benchmark::State& state) {
  World& w = TheWorld();
  size_t changed = 0;
  for (auto _ : state) {
    std::vector<ProgressChange> changes = w.tree.RecomputeAll();
    changed += changes.size();
    benchmark::DoNotOptimize(changes);
  }
  state.counters["objectives"] = static_cast<double>(w.tree.objective_count());
  state.counters["key_results"] = static_cast<double>(w.tree.key_result_count());
  state.counters["objectives_corrected"] =
      benchmark::Counter(static_cast<double>(changed), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_RecomputeAll)->Unit(benchmark::kMillisecond);

void BM_RebuildFromItems(benchmark::State& state) {
  World& w = TheWorld();
  std::vector<KeyResult>& key_results = w.key_results;  // recomputed in place: same values
  for (auto _ : state) {
    for (KeyResult& kr : key_results) {
      if (kr.type == KeyResultType::kWorkItems) kr.totals = WorkItemTotals{};
    }
    for (const Item& item : w.items) {
      WorkItemTotals& t = key_results[item.key_result].totals;
      t.item_count += 1;
      t.total_weight += item.weight;
      if (item.done) {
        t.done_count += 1;
        t.done_weight += item.weight;
      }
    }
    for (KeyResult& kr : key_results) kr.progress = ComputeKeyResultProgress(kr).progress;
    absl::StatusOr<RollupTree> tree = RollupTree::Build(w.objectives, key_results);
    benchmark::DoNotOptimize(tree);
  }
  state.counters["items"] = static_cast<double>(w.items.size());
}
BENCHMARK(BM_RebuildFromItems)->Unit(benchmark::kMillisecond);

void PrintSummary() {
  World& w = TheWorld();
  std::printf(
      "\nrollup tree: %zu objectives (%d leaves, depth %d), %zu key results, %zu items\n"
      "first build (index + full compute): %.1f ms\n"
      "tree heap estimate: %.1f MB; RSS before/after the first build: %.1f/%.1f MB\n"
      "peak RSS of the process: %.1f MB (including the benchmark's own input: objectives "
      "%zu B, key results %zu B each, items)\n",
      w.tree.objective_count(), w.leaves, kDepth, w.tree.key_result_count(), w.items.size(),
      w.build_seconds * 1e3, w.tree.MemoryUsageBytes() / (1024.0 * 1024.0), w.rss_before_tree_mb,
      w.rss_after_tree_mb, PeakRssMb(), sizeof(Objective), sizeof(KeyResult));
}

}  // namespace
}  // namespace okr

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  okr::PrintSummary();
  return 0;
}
