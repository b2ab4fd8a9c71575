// Roll-up of progress through the alignment tree (docs: domain.md, "Progress moves by
// itself": a closed ticket moves its key result, its objective and every objective aligned
// above it).
//
// The rule is one: an objective's progress is the weighted mean (progress.h WeightedMean)
// of its key results' (progress, weight), plus, when its progress_source is
// KEY_RESULTS_AND_CHILDREN, its child objectives' (progress, objective.weight), children
// weighted like key results. Child objectives are those whose `parent` it is;
// contributes_to and depends_on never move progress. Two implementations of that rule:
//
//  - ObjectiveProgressWithChildren(): the plain function, for code that has the inputs at
//    hand (e.g. the store-backed path recomputing one objective from its rows).
//  - RollupTree: an in-memory index of the whole tree that keeps per objective running
//    sums of its key results' and children's weighted progress and updates them by
//    deltas. A change costs O(depth + fan-in of the changed objective) instead of a full
//    recompute, and returns exactly the objectives whose progress changed (old and new
//    value) so the caller can persist those rows and emit "progress changed" events.
//    RecomputeAll() rebuilds every sum from scratch in O(objectives + key results).
//
//   OKR_ASSIGN_OR_RETURN(RollupTree tree, RollupTree::Build(objectives, key_results));
//   OKR_ASSIGN_OR_RETURN(std::vector<ProgressChange> changed,
//                        tree.SetKeyResult(kr.objective_id, kr.id, kr.progress, kr.weight));
//   for (const ProgressChange& c : changed) { /* store c.new_progress on c.objective_id */ }
//
// Numerics: the running sums are compensated (Neumaier) and reset to exactly zero when
// their last term leaves, so incremental results match RecomputeAll() and the plain
// function to ~1e-15 even after millions of updates (tests require 1e-9 after 100k).
// Progress values are clamped to [0, 1] (NaN counts as 0) and entries with weight <= 0
// are ignored, as in WeightedMean.
//
// Thread safety: none; RollupTree is a value type (copyable, movable) owned by one thread
// or guarded by the caller. Errors: NOT_FOUND for unknown ids, ALREADY_EXISTS for a
// duplicate objective, INVALID_ARGUMENT (naming the field) for bad weights and for a
// parent that would close a loop, FAILED_PRECONDITION for removing an objective that
// still has children. A failed call changes nothing.
#ifndef OKR_SERVICE_OKR_ROLLUP_H_
#define OKR_SERVICE_OKR_ROLLUP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/okr/model.h"

namespace okr {

// The progress of `key_results` (their stored progress and weight) and, for
// kKeyResultsAndChildren only, of the children given as (progress, objective weight).
double ObjectiveProgressWithChildren(
    const std::vector<KeyResult>& key_results,
    const std::vector<std::pair<double, double>>& child_progress_and_weight, ProgressSource source);

// (progress, weight) of each child objective, for ObjectiveProgressWithChildren.
std::vector<std::pair<double, double>> ChildProgressAndWeight(
    const std::vector<Objective>& children);

// One objective whose progress a RollupTree operation changed.
struct ProgressChange {
  std::string objective_id;
  double old_progress = 0;
  double new_progress = 0;
};

class RollupTree {
 public:
  RollupTree() = default;

  // Indexes `objectives` (parent_id, progress_source, weight; `progress` is taken as the
  // stored value) and `key_results` (objective_id, id, progress, weight), then computes
  // every objective's progress. An objective whose parent is not among `objectives` is a
  // root here, and key results of unknown objectives are ignored: the caller decides what
  // to load (normally everything that can roll up into what it reads). If `corrected` is
  // given it receives the objectives whose stored progress differs from the computed one.
  // INVALID_ARGUMENT for duplicate ids, bad weights or a loop of parents.
  static absl::StatusOr<RollupTree> Build(const std::vector<Objective>& objectives,
                                          const std::vector<KeyResult>& key_results,
                                          std::vector<ProgressChange>* corrected = nullptr);

  // Adds an objective without key results (progress 0) under `parent_id` (empty: a root).
  absl::StatusOr<std::vector<ProgressChange>> AddObjective(absl::string_view id,
                                                           absl::string_view parent_id,
                                                           ProgressSource source, double weight);
  // Removes an objective and its key results; FAILED_PRECONDITION if it has children.
  absl::StatusOr<std::vector<ProgressChange>> RemoveObjective(absl::string_view id);
  // Moves an objective under `parent_id` (empty: makes it a root). INVALID_ARGUMENT
  // naming objective.parent if that would make it its own ancestor.
  absl::StatusOr<std::vector<ProgressChange>> SetParent(absl::string_view id,
                                                        absl::string_view parent_id);
  absl::StatusOr<std::vector<ProgressChange>> SetProgressSource(absl::string_view id,
                                                                ProgressSource source);
  // The objective's weight as a child in its parent's roll-up; finite and >= 0.
  absl::StatusOr<std::vector<ProgressChange>> SetWeight(absl::string_view id, double weight);

  // Adds or updates key result `key_result_id` of objective `objective_id` with its
  // current progress and weight (finite, >= 0). The hot path: a tracker item closing
  // updates its key result's progress (progress.h) and calls this.
  absl::StatusOr<std::vector<ProgressChange>> SetKeyResult(absl::string_view objective_id,
                                                           absl::string_view key_result_id,
                                                           double progress, double weight);
  absl::StatusOr<std::vector<ProgressChange>> RemoveKeyResult(absl::string_view objective_id,
                                                              absl::string_view key_result_id);

  // Rebuilds every sum from the key results up, in O(objectives + key results), and
  // returns the objectives whose progress changed.
  std::vector<ProgressChange> RecomputeAll();

  // The current progress of an objective; nullopt if unknown.
  std::optional<double> Progress(absl::string_view id) const;
  // The parent of an objective ("" for a root); nullopt if unknown.
  std::optional<std::string> Parent(absl::string_view id) const;
  size_t objective_count() const { return index_.size(); }
  size_t key_result_count() const { return key_results_.size() - free_key_results_.size(); }
  // An estimate of the heap memory the tree holds, in bytes.
  size_t MemoryUsageBytes() const;

 private:
  // A compensated (Neumaier) sum.
  struct Sum {
    double sum = 0;
    double compensation = 0;
    void Add(double x);
    double Value() const { return sum + compensation; }
  };
  // Running sums over one kind of input (key results or children) of an objective.
  struct Part {
    Sum weighted;  // sum of progress * weight over entries with weight > 0
    Sum weights;   // sum of weight over those entries
    int64_t count = 0;
    void Add(double progress, double weight);
    void Remove(double progress, double weight);
    void Reset() { *this = Part(); }
  };
  struct Node {
    std::string id;
    int32_t parent = -1;
    ProgressSource source = ProgressSource::kKeyResults;
    double weight = 1;
    double progress = 0;
    bool alive = false;
    Part key_results;
    Part children;
    std::vector<int32_t> child_nodes;
    std::vector<int32_t> key_result_slots;
  };
  struct KeyResultSlot {
    std::string id;
    int32_t node = -1;
    double progress = 0;
    double weight = 0;
  };
  struct Pending {
    int32_t node;
    double old_progress;
    double new_progress;
  };

  absl::StatusOr<int32_t> Find(absl::string_view id) const;
  int32_t NewNode();
  static double Evaluate(const Node& node);
  // Re-evaluates `node` and walks up while progress changes.
  void Propagate(int32_t node, std::vector<Pending>& pending);
  void Attach(int32_t node, int32_t parent);
  void Detach(int32_t node);
  std::vector<ProgressChange> Finish(const std::vector<Pending>& pending) const;

  std::vector<Node> nodes_;
  std::vector<int32_t> free_nodes_;
  std::vector<KeyResultSlot> key_results_;
  std::vector<int32_t> free_key_results_;
  absl::flat_hash_map<std::string, int32_t> index_;
};

}  // namespace okr

#endif  // OKR_SERVICE_OKR_ROLLUP_H_
