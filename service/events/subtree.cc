#include "service/events/subtree.h"

namespace okr::events {

bool SubtreeIndex::InSubtree(const std::string& root_id, const std::string& objective_id) {
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
      it = parents_.emplace(current, o.ok() ? o->parent_id : std::string()).first;
    }
    current = it->second;
  }
  return false;
}

bool SubtreeIndex::Matches(const EventFilter& filter, const Event& event) {
  return EventMatches(filter, event, [&](const std::string& objective_id) {
    return InSubtree(filter.objective_id, objective_id);
  });
}

}  // namespace okr::events
