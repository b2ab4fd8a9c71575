#include "service/core/eventing_transaction.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/core/store_helpers.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"

namespace okr::core::internal {

absl::StatusOr<EventingTransaction::ObjectiveContext> EventingTransaction::Context(
    const std::string& objective_id) {
  auto it = contexts_.find(objective_id);
  if (it != contexts_.end()) return it->second;
  OKR_ASSIGN_OR_RETURN(Objective o, inner_.GetObjective(objective_id));
  ObjectiveContext context;
  context.team_id = o.team_id;
  OKR_ASSIGN_OR_RETURN(context.cycle, inner_.GetCycle(o.cycle_id));
  contexts_.emplace(objective_id, context);
  return context;
}

SubjectState EventingTransaction::StateOf(const KeyResult& kr, const Cycle& cycle) const {
  KeyResult derived = kr;
  Derive(derived, cycle, now_);
  SubjectState s;
  s.progress = kr.progress;
  s.health = derived.health;
  if (kr.type == KeyResultType::kWorkItems) {
    s.total_weight = kr.totals.total_weight;
    s.done_weight = kr.totals.done_weight;
  }
  return s;
}

SubjectState EventingTransaction::StateOf(const Objective& o, const Cycle& cycle) const {
  Objective derived = o;
  Derive(derived, cycle, now_);
  SubjectState s;
  s.progress = o.progress;
  s.health = derived.health;
  s.state = o.state;
  return s;
}

void EventingTransaction::Track(const std::string& key, Event base, const SubjectState& before,
                                const SubjectState& after) {
  auto it = tracked_.find(key);
  if (it == tracked_.end()) {
    order_.push_back(key);
    tracked_.emplace(key, Tracked{std::move(base), before, after});
  } else {
    it->second.after = after;
  }
}

absl::Status EventingTransaction::UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) {
  absl::StatusOr<KeyResult> before = inner_.GetKeyResult(kr.objective_id, kr.id);
  OKR_RETURN_IF_ERROR(inner_.UpdateKeyResult(kr, expected_revision));
  if (!before.ok()) return absl::OkStatus();  // the update succeeded: nothing to compare
  OKR_ASSIGN_OR_RETURN(ObjectiveContext context, Context(kr.objective_id));
  Event base;
  base.time = now_;
  base.objective_id = kr.objective_id;
  base.key_result_id = kr.id;
  base.team_id = context.team_id;
  base.cycle_id = context.cycle.id;
  base.cause = cause_;
  const SubjectState old_state = StateOf(*before, context.cycle);
  const SubjectState new_state = StateOf(kr, context.cycle);
  Track(absl::StrCat("k/", kr.objective_id, "/", kr.id), std::move(base), old_state, new_state);
  if (old_state.progress != new_state.progress) {
    last_changed_ = names::KeyResult(kr.objective_id, kr.id);
  }
  return absl::OkStatus();
}

absl::Status EventingTransaction::UpdateObjective(const Objective& objective,
                                                  int64_t expected_revision) {
  absl::StatusOr<Objective> before = inner_.GetObjective(objective.id);
  OKR_RETURN_IF_ERROR(inner_.UpdateObjective(objective, expected_revision));
  if (!before.ok()) return absl::OkStatus();
  contexts_.erase(objective.id);  // team or cycle may have moved
  OKR_ASSIGN_OR_RETURN(Cycle cycle, inner_.GetCycle(objective.cycle_id));
  const std::string name = names::Objective(objective.id);
  Event base;
  base.time = now_;
  base.objective_id = objective.id;
  base.team_id = objective.team_id;
  base.cycle_id = objective.cycle_id;
  base.cause = cause_;
  if (last_changed_ != name) base.cause.via = last_changed_;
  const SubjectState old_state = StateOf(*before, cycle);
  const SubjectState new_state = StateOf(objective, cycle);
  Track(absl::StrCat("o/", objective.id), std::move(base), old_state, new_state);
  if (old_state.progress != new_state.progress) last_changed_ = name;
  return absl::OkStatus();
}

absl::Status EventingTransaction::Flush() {
  for (const std::string& key : order_) {
    const Tracked& t = tracked_.at(key);
    for (Event& e : ChangeEvents(t.base, t.before, t.after)) {
      OKR_RETURN_IF_ERROR(inner_.AppendEvent(e));
    }
  }
  for (Event& e : extra_) OKR_RETURN_IF_ERROR(inner_.AppendEvent(e));
  order_.clear();
  tracked_.clear();
  extra_.clear();
  return absl::OkStatus();
}

absl::Status RunWithEvents(storage::OkrStore& store, absl::Time now, EventCause cause,
                           absl::FunctionRef<absl::Status(EventingTransaction&)> fn) {
  return store.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    EventingTransaction events(tx, now, cause);
    OKR_RETURN_IF_ERROR(fn(events));
    return events.Flush();
  });
}

}  // namespace okr::core::internal
