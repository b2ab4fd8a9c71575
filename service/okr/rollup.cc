#include "service/okr/rollup.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"

namespace okr {
namespace {

bool Counts(double weight) { return weight > 0; }  // false for NaN too

absl::Status CheckWeight(double weight, absl::string_view field) {
  if (!std::isfinite(weight) || weight < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be a finite number >= 0"));
  }
  return absl::OkStatus();
}

absl::Status UnknownObjective(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(names::Objective(id), " is not in the roll-up tree"));
}

}  // namespace

double ObjectiveProgressWithChildren(
    const std::vector<KeyResult>& key_results,
    const std::vector<std::pair<double, double>>& child_progress_and_weight,
    ProgressSource source) {
  std::vector<std::pair<double, double>> inputs;
  inputs.reserve(key_results.size() + child_progress_and_weight.size());
  for (const KeyResult& kr : key_results) inputs.emplace_back(kr.progress, kr.weight);
  if (source == ProgressSource::kKeyResultsAndChildren) {
    inputs.insert(inputs.end(), child_progress_and_weight.begin(), child_progress_and_weight.end());
  }
  return WeightedMean(inputs);
}

std::vector<std::pair<double, double>> ChildProgressAndWeight(
    const std::vector<Objective>& children) {
  std::vector<std::pair<double, double>> out;
  out.reserve(children.size());
  for (const Objective& c : children) out.emplace_back(c.progress, c.weight);
  return out;
}

// ---------------------------------------------------------------------------------------
// Sums

void RollupTree::Sum::Add(double x) {
  const double t = sum + x;
  if (std::abs(sum) >= std::abs(x)) {
    compensation += (sum - t) + x;
  } else {
    compensation += (x - t) + sum;
  }
  sum = t;
}

void RollupTree::Part::Add(double progress, double weight) {
  if (!Counts(weight)) return;
  weighted.Add(Clamp01(progress) * weight);
  weights.Add(weight);
  ++count;
}

void RollupTree::Part::Remove(double progress, double weight) {
  if (!Counts(weight)) return;
  if (--count == 0) {
    Reset();  // exactly zero, whatever rounding the deltas left behind
    return;
  }
  weighted.Add(-(Clamp01(progress) * weight));
  weights.Add(-weight);
}

double RollupTree::Evaluate(const Node& n) {
  double weighted = n.key_results.weighted.Value();
  double weights = n.key_results.weights.Value();
  int64_t count = n.key_results.count;
  if (n.source == ProgressSource::kKeyResultsAndChildren) {
    weighted += n.children.weighted.Value();
    weights += n.children.weights.Value();
    count += n.children.count;
  }
  if (count == 0 || !(weights > 0)) return 0;
  return Clamp01(weighted / weights);
}

// ---------------------------------------------------------------------------------------
// Structure

absl::StatusOr<int32_t> RollupTree::Find(absl::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return UnknownObjective(id);
  return it->second;
}

int32_t RollupTree::NewNode() {
  if (!free_nodes_.empty()) {
    const int32_t x = free_nodes_.back();
    free_nodes_.pop_back();
    nodes_[x] = Node();
    return x;
  }
  nodes_.emplace_back();
  return static_cast<int32_t>(nodes_.size() - 1);
}

void RollupTree::Attach(int32_t x, int32_t parent) {
  nodes_[x].parent = parent;
  if (parent < 0) return;
  nodes_[parent].child_nodes.push_back(x);
  nodes_[parent].children.Add(nodes_[x].progress, nodes_[x].weight);
}

void RollupTree::Detach(int32_t x) {
  const int32_t parent = nodes_[x].parent;
  if (parent < 0) return;
  std::vector<int32_t>& siblings = nodes_[parent].child_nodes;
  auto it = std::find(siblings.begin(), siblings.end(), x);
  if (it != siblings.end()) {
    *it = siblings.back();
    siblings.pop_back();
  }
  nodes_[parent].children.Remove(nodes_[x].progress, nodes_[x].weight);
  nodes_[x].parent = -1;
}

void RollupTree::Propagate(int32_t x, std::vector<Pending>& pending) {
  while (x >= 0) {
    Node& n = nodes_[x];
    const double old_progress = n.progress;
    const double new_progress = Evaluate(n);
    if (new_progress == old_progress) return;
    n.progress = new_progress;
    auto it =
        std::find_if(pending.begin(), pending.end(), [&](const Pending& p) { return p.node == x; });
    if (it == pending.end()) {
      pending.push_back({x, old_progress, new_progress});
    } else {
      it->new_progress = new_progress;
    }
    const int32_t parent = n.parent;
    if (parent < 0) return;
    Node& p = nodes_[parent];
    if (Counts(n.weight)) {
      // Same weight, same count: only the weighted sum moves.
      p.children.weighted.Add(-(old_progress * n.weight));
      p.children.weighted.Add(new_progress * n.weight);
    }
    if (p.source != ProgressSource::kKeyResultsAndChildren) return;
    x = parent;
  }
}

std::vector<ProgressChange> RollupTree::Finish(const std::vector<Pending>& pending) const {
  std::vector<ProgressChange> changes;
  changes.reserve(pending.size());
  for (const Pending& p : pending) {
    if (p.old_progress == p.new_progress || !nodes_[p.node].alive) continue;
    changes.push_back({nodes_[p.node].id, p.old_progress, p.new_progress});
  }
  return changes;
}

// ---------------------------------------------------------------------------------------
// Public API

absl::StatusOr<RollupTree> RollupTree::Build(const std::vector<Objective>& objectives,
                                             const std::vector<KeyResult>& key_results,
                                             std::vector<ProgressChange>* corrected) {
  RollupTree tree;
  tree.nodes_.reserve(objectives.size());
  tree.index_.reserve(objectives.size());
  for (const Objective& o : objectives) {
    if (absl::Status s = CheckWeight(o.weight, "objective.weight"); !s.ok()) return s;
    const int32_t x = tree.NewNode();
    Node& n = tree.nodes_[x];
    n.id = o.id;
    n.source = o.progress_source;
    n.weight = o.weight;
    n.progress = o.progress;
    n.alive = true;
    if (!tree.index_.emplace(o.id, x).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("objectives: ", names::Objective(o.id), " is listed twice"));
    }
  }
  for (size_t i = 0; i < objectives.size(); ++i) {
    auto it = tree.index_.find(objectives[i].parent_id);
    if (objectives[i].parent_id.empty() || it == tree.index_.end()) continue;
    tree.nodes_[i].parent = it->second;
    tree.nodes_[it->second].child_nodes.push_back(static_cast<int32_t>(i));
  }
  tree.key_results_.reserve(key_results.size());
  for (const KeyResult& kr : key_results) {
    auto it = tree.index_.find(kr.objective_id);
    if (it == tree.index_.end()) continue;
    if (absl::Status s = CheckWeight(kr.weight, "key_result.weight"); !s.ok()) return s;
    const int32_t slot = static_cast<int32_t>(tree.key_results_.size());
    tree.key_results_.push_back({kr.id, it->second, kr.progress, kr.weight});
    tree.nodes_[it->second].key_result_slots.push_back(slot);
  }
  // Every objective must hang off a root; the others sit on a loop of parents.
  std::vector<bool> reached(tree.nodes_.size(), false);
  std::vector<int32_t> stack;
  for (int32_t x = 0; x < static_cast<int32_t>(tree.nodes_.size()); ++x) {
    if (tree.nodes_[x].parent < 0) stack.push_back(x);
  }
  while (!stack.empty()) {
    const int32_t x = stack.back();
    stack.pop_back();
    reached[x] = true;
    for (int32_t c : tree.nodes_[x].child_nodes) stack.push_back(c);
  }
  for (size_t x = 0; x < reached.size(); ++x) {
    if (!reached[x]) {
      return absl::InvalidArgumentError(
          absl::StrCat("objective.parent: ", names::Objective(tree.nodes_[x].id),
                       " is on or below a loop of parents"));
    }
  }
  std::vector<ProgressChange> changes = tree.RecomputeAll();
  if (corrected != nullptr) *corrected = std::move(changes);
  return tree;
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::AddObjective(absl::string_view id,
                                                                     absl::string_view parent_id,
                                                                     ProgressSource source,
                                                                     double weight) {
  if (id.empty()) return absl::InvalidArgumentError("objective.id is required");
  if (absl::Status s = CheckWeight(weight, "objective.weight"); !s.ok()) return s;
  if (index_.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat(names::Objective(id), " is already in the roll-up tree"));
  }
  int32_t parent = -1;
  if (!parent_id.empty()) {
    auto p = Find(parent_id);
    if (!p.ok()) return p.status();
    parent = *p;
  }
  const int32_t x = NewNode();
  Node& n = nodes_[x];
  n.id = std::string(id);
  n.source = source;
  n.weight = weight;
  n.alive = true;
  index_.emplace(n.id, x);
  Attach(x, parent);
  std::vector<Pending> pending;
  Propagate(parent, pending);
  return Finish(pending);
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::RemoveObjective(absl::string_view id) {
  auto x = Find(id);
  if (!x.ok()) return x.status();
  Node& n = nodes_[*x];
  if (!n.child_nodes.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(names::Objective(id), " has ", n.child_nodes.size(),
                     " child objectives in the roll-up tree; move or remove them first"));
  }
  const int32_t parent = n.parent;
  Detach(*x);
  for (int32_t slot : n.key_result_slots) {
    key_results_[slot] = KeyResultSlot();
    free_key_results_.push_back(slot);
  }
  index_.erase(n.id);
  nodes_[*x] = Node();
  free_nodes_.push_back(*x);
  std::vector<Pending> pending;
  Propagate(parent, pending);
  return Finish(pending);
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::SetParent(absl::string_view id,
                                                                  absl::string_view parent_id) {
  auto x = Find(id);
  if (!x.ok()) return x.status();
  int32_t parent = -1;
  if (!parent_id.empty()) {
    auto p = Find(parent_id);
    if (!p.ok()) return p.status();
    parent = *p;
  }
  if (nodes_[*x].parent == parent) return std::vector<ProgressChange>();
  for (int32_t a = parent; a >= 0; a = nodes_[a].parent) {
    if (a == *x) {
      return absl::InvalidArgumentError(absl::StrCat(
          "objective.parent: aligning ", names::Objective(id), " to ", names::Objective(parent_id),
          " would make it its own ancestor (a loop of parents)"));
    }
  }
  const int32_t old_parent = nodes_[*x].parent;
  std::vector<Pending> pending;
  Detach(*x);
  Propagate(old_parent, pending);
  Attach(*x, parent);
  Propagate(parent, pending);
  return Finish(pending);
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::SetProgressSource(absl::string_view id,
                                                                          ProgressSource source) {
  auto x = Find(id);
  if (!x.ok()) return x.status();
  nodes_[*x].source = source;
  std::vector<Pending> pending;
  Propagate(*x, pending);
  return Finish(pending);
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::SetWeight(absl::string_view id,
                                                                  double weight) {
  if (absl::Status s = CheckWeight(weight, "objective.weight"); !s.ok()) return s;
  auto x = Find(id);
  if (!x.ok()) return x.status();
  Node& n = nodes_[*x];
  if (n.weight == weight) return std::vector<ProgressChange>();
  const int32_t parent = n.parent;
  if (parent >= 0) {
    nodes_[parent].children.Remove(n.progress, n.weight);
    nodes_[parent].children.Add(n.progress, weight);
  }
  n.weight = weight;
  std::vector<Pending> pending;
  Propagate(parent, pending);
  return Finish(pending);
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::SetKeyResult(
    absl::string_view objective_id, absl::string_view key_result_id, double progress,
    double weight) {
  if (key_result_id.empty()) return absl::InvalidArgumentError("key_result.id is required");
  if (absl::Status s = CheckWeight(weight, "key_result.weight"); !s.ok()) return s;
  auto x = Find(objective_id);
  if (!x.ok()) return x.status();
  Node& n = nodes_[*x];
  progress = Clamp01(progress);
  KeyResultSlot* slot = nullptr;
  for (int32_t s : n.key_result_slots) {
    if (key_results_[s].id == key_result_id) {
      slot = &key_results_[s];
      break;
    }
  }
  if (slot == nullptr) {
    int32_t s;
    if (!free_key_results_.empty()) {
      s = free_key_results_.back();
      free_key_results_.pop_back();
    } else {
      s = static_cast<int32_t>(key_results_.size());
      key_results_.emplace_back();
    }
    key_results_[s] = {std::string(key_result_id), *x, 0, 0};
    n.key_result_slots.push_back(s);
    slot = &key_results_[s];
  } else if (slot->progress == progress && slot->weight == weight) {
    return std::vector<ProgressChange>();
  } else {
    n.key_results.Remove(slot->progress, slot->weight);
  }
  slot->progress = progress;
  slot->weight = weight;
  n.key_results.Add(progress, weight);
  std::vector<Pending> pending;
  Propagate(*x, pending);
  return Finish(pending);
}

absl::StatusOr<std::vector<ProgressChange>> RollupTree::RemoveKeyResult(
    absl::string_view objective_id, absl::string_view key_result_id) {
  auto x = Find(objective_id);
  if (!x.ok()) return x.status();
  Node& n = nodes_[*x];
  for (size_t i = 0; i < n.key_result_slots.size(); ++i) {
    const int32_t s = n.key_result_slots[i];
    if (key_results_[s].id != key_result_id) continue;
    n.key_results.Remove(key_results_[s].progress, key_results_[s].weight);
    n.key_result_slots[i] = n.key_result_slots.back();
    n.key_result_slots.pop_back();
    key_results_[s] = KeyResultSlot();
    free_key_results_.push_back(s);
    std::vector<Pending> pending;
    Propagate(*x, pending);
    return Finish(pending);
  }
  return absl::NotFoundError(
      absl::StrCat(names::KeyResult(objective_id, key_result_id), " is not in the roll-up tree"));
}

std::vector<ProgressChange> RollupTree::RecomputeAll() {
  // Parents before children (breadth-first from the roots), then evaluate in reverse.
  std::vector<int32_t> order;
  order.reserve(index_.size());
  for (int32_t x = 0; x < static_cast<int32_t>(nodes_.size()); ++x) {
    if (nodes_[x].alive && nodes_[x].parent < 0) order.push_back(x);
  }
  for (size_t i = 0; i < order.size(); ++i) {
    for (int32_t c : nodes_[order[i]].child_nodes) order.push_back(c);
  }
  std::vector<ProgressChange> changes;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& n = nodes_[*it];
    n.key_results.Reset();
    for (int32_t s : n.key_result_slots) {
      n.key_results.Add(key_results_[s].progress, key_results_[s].weight);
    }
    n.children.Reset();
    for (int32_t c : n.child_nodes) n.children.Add(nodes_[c].progress, nodes_[c].weight);
    const double progress = Evaluate(n);
    if (progress != n.progress) {
      changes.push_back({n.id, n.progress, progress});
      n.progress = progress;
    }
  }
  return changes;
}

std::optional<double> RollupTree::Progress(absl::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return nodes_[it->second].progress;
}

std::optional<std::string> RollupTree::Parent(absl::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  const int32_t parent = nodes_[it->second].parent;
  return parent < 0 ? std::string() : nodes_[parent].id;
}

size_t RollupTree::MemoryUsageBytes() const {
  auto string_heap = [](const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond the small-string buffer
  };
  size_t bytes = nodes_.capacity() * sizeof(Node) +
                 key_results_.capacity() * sizeof(KeyResultSlot) +
                 (free_nodes_.capacity() + free_key_results_.capacity()) * sizeof(int32_t);
  for (const Node& n : nodes_) {
    bytes += string_heap(n.id) +
             (n.child_nodes.capacity() + n.key_result_slots.capacity()) * sizeof(int32_t);
  }
  for (const KeyResultSlot& s : key_results_) bytes += string_heap(s.id);
  // flat_hash_map: one control byte plus one slot per bucket, and the keys' heap.
  bytes += index_.bucket_count() * (1 + sizeof(std::pair<const std::string, int32_t>));
  for (const auto& [id, x] : index_) bytes += string_heap(id);
  return bytes;
}

}  // namespace okr
