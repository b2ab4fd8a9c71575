#include "service/events/subtree.h"

#include "absl/status/status.h"

namespace okr::events {

absl::StatusOr<bool> SubtreeIndex::InSubtree(const std::string& root_id,
                                             const std::string& objective_id) {
  const absl::Time now = clock_.Now();
  if (now - loaded_ > ttl_) {
    parents_.clear();
    loaded_ = now;
  }
  std::string current = objective_id;
  for (int depth = 0; depth < 1000 && !current.empty(); ++depth) {
    if (current == root_id) return true;
    auto it = parents_.find(current);
    if (it == parents_.end()) {
      absl::StatusOr<Objective> o = core_.GetObjective(current);
      if (!o.ok() && !absl::IsNotFound(o.status())) return o.status();
      it = parents_.emplace(current, o.ok() ? o->parent_id : std::string()).first;
    }
    current = it->second;
  }
  return false;
}

absl::StatusOr<bool> SubtreeIndex::Matches(const EventFilter& filter, const Event& event) {
  absl::Status error;
  const bool matches = EventMatches(filter, event, [&](const std::string& objective_id) {
    absl::StatusOr<bool> in = InSubtree(filter.objective_id, objective_id);
    if (!in.ok()) {
      error = in.status();
      return false;
    }
    return *in;
  });
  if (!error.ok()) return error;
  return matches;
}

}  // namespace okr::events
