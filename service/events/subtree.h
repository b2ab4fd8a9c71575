// SubtreeIndex: answers "is objective X the filter's objective or below it in the
// alignment tree?" for event filters (EventFilter::objective_id), walking parent links
// through OkrCore and caching answers for a short time (objectives move rarely; a moved
// objective is seen within `ttl`). Only answers are cached: a database error is returned
// (and asked again next time), never taken for "no parent", so a transient failure cannot
// make a subscription or a stream skip an event. Not thread-safe: one per watcher /
// delivery round.
#ifndef OKR_SERVICE_EVENTS_SUBTREE_H_
#define OKR_SERVICE_EVENTS_SUBTREE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/okr_core.h"
#include "service/okr/clock.h"
#include "service/okr/events.h"

namespace okr::events {

class SubtreeIndex {
 public:
  SubtreeIndex(core::OkrCore& core, const Clock& clock, absl::Duration ttl = absl::Seconds(30))
      : core_(core), clock_(clock), ttl_(ttl) {}

  // Whether `objective_id` is `root_id` or has it as an ancestor. A missing objective
  // (deleted) is in no subtree but its own. Errors reading the tree are returned.
  absl::StatusOr<bool> InSubtree(const std::string& root_id, const std::string& objective_id);
  // EventMatches with this index; an error when the tree could not be read (the caller
  // must not move past the event).
  absl::StatusOr<bool> Matches(const EventFilter& filter, const Event& event);

 private:
  core::OkrCore& core_;
  const Clock& clock_;
  const absl::Duration ttl_;
  absl::Time loaded_ = absl::InfinitePast();
  // objective id -> parent id ("" for a root or a missing objective)
  absl::flat_hash_map<std::string, std::string> parents_;
};

}  // namespace okr::events

#endif  // OKR_SERVICE_EVENTS_SUBTREE_H_
