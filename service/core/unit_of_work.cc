#include "service/core/unit_of_work.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/core/store_helpers.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"

namespace okr::core::internal {
namespace {

std::string ObjectiveSubject(const std::string& id) { return absl::StrCat("o/", id); }
std::string KeyResultSubject(const std::string& objective_id, const std::string& id) {
  return absl::StrCat("k/", objective_id, "/", id);
}

}  // namespace

UnitOfWork::Row<Objective>& UnitOfWork::AddObjective(const Objective& o) {
  auto [it, inserted] = objectives_.try_emplace(o.id, Row<Objective>{o, o, o.meta.revision});
  if (inserted) it->second.order = next_order_++;
  return it->second;
}

UnitOfWork::Row<KeyResult>& UnitOfWork::AddKeyResult(const KeyResult& kr) {
  auto [it, inserted] = key_results_.try_emplace(KeyResultKey{kr.objective_id, kr.id},
                                                 Row<KeyResult>{kr, kr, kr.meta.revision});
  if (inserted) it->second.order = next_order_++;
  return it->second;
}

absl::StatusOr<Objective*> UnitOfWork::LoadObjective(const std::string& id) {
  auto it = objectives_.find(id);
  if (it != objectives_.end()) {
    if (it->second.deleted) {
      return absl::NotFoundError(absl::StrCat("objective \"", id, "\" not found"));
    }
    return &it->second.value;
  }
  OKR_ASSIGN_OR_RETURN(Objective o, tx_.GetObjective(id));
  return &AddObjective(o).value;
}

absl::StatusOr<const Cycle*> UnitOfWork::LoadCycle(const std::string& id) {
  auto it = cycles_.find(id);
  if (it == cycles_.end()) {
    OKR_ASSIGN_OR_RETURN(Cycle c, tx_.GetCycle(id));
    it = cycles_.emplace(id, std::move(c)).first;
  }
  return &it->second;
}

absl::StatusOr<std::vector<KeyResult*>> UnitOfWork::LoadKeyResults(
    const std::string& objective_id) {
  KeyResultSet& set = key_result_sets_[objective_id];
  if (!set.loaded) {
    OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> rows, tx_.AllKeyResults(objective_id));
    std::vector<std::string> ids;
    for (const KeyResult& kr : rows) {
      AddKeyResult(kr);  // keeps a row inserted or changed by this unit
      ids.push_back(kr.id);
    }
    for (const std::string& id : set.ids) {  // inserted before the set was loaded
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    set.ids = std::move(ids);
    set.loaded = true;
  }
  std::vector<KeyResult*> out;
  for (const std::string& id : set.ids) {
    auto it = key_results_.find(KeyResultKey{objective_id, id});
    if (it != key_results_.end() && !it->second.deleted) out.push_back(&it->second.value);
  }
  return out;
}

absl::StatusOr<KeyResult*> UnitOfWork::LoadKeyResult(const std::string& objective_id,
                                                     const std::string& id) {
  auto it = key_results_.find(KeyResultKey{objective_id, id});
  if (it != key_results_.end() && !it->second.deleted) return &it->second.value;
  absl::StatusOr<std::vector<KeyResult*>> all = LoadKeyResults(objective_id);
  if (all.ok()) {
    for (KeyResult* kr : *all) {
      if (kr->id == id) return kr;
    }
  }
  // Missing: the store says how (its NOT_FOUND names the key result or the objective).
  absl::StatusOr<KeyResult> row = tx_.GetKeyResult(objective_id, id);
  if (!row.ok()) return row.status();
  if (!all.ok()) return all.status();
  return absl::NotFoundError(absl::StrCat(names::KeyResult(objective_id, id), " not found"));
}

absl::StatusOr<std::vector<Objective*>> UnitOfWork::LoadChildren(const std::string& parent_id) {
  storage::ObjectiveFilter filter;
  filter.parent_id = parent_id;
  OKR_ASSIGN_OR_RETURN(std::vector<Objective> rows, AllObjectives(tx_, filter));
  for (const Objective& o : rows) AddObjective(o);
  std::vector<Row<Objective>*> children;
  for (auto& [id, row] : objectives_) {
    if (!row.deleted && row.value.parent_id == parent_id) children.push_back(&row);
  }
  // Creation order: stored rows by seq, rows this unit inserted (seq 0) after them.
  std::sort(children.begin(), children.end(), [](const Row<Objective>* a, const Row<Objective>* b) {
    const bool a_new = a->value.meta.seq == 0, b_new = b->value.meta.seq == 0;
    if (a_new != b_new) return b_new;
    if (a_new) return a->order < b->order;
    return a->value.meta.seq < b->value.meta.seq;
  });
  std::vector<Objective*> out;
  out.reserve(children.size());
  for (Row<Objective>* row : children) out.push_back(&row->value);
  return out;
}

SubjectState UnitOfWork::StateOf(const KeyResult& kr, const Cycle& cycle) const {
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

SubjectState UnitOfWork::StateOf(const Objective& o, const Cycle& cycle) const {
  Objective derived = o;
  Derive(derived, cycle, now_);
  SubjectState s;
  s.progress = o.progress;
  s.health = derived.health;
  s.state = o.state;
  return s;
}

void UnitOfWork::Track(const std::string& key, Event base, const SubjectState& before,
                       const SubjectState& after) {
  auto it = tracked_.find(key);
  if (it == tracked_.end()) {
    order_.push_back(key);
    tracked_.emplace(key, Tracked{std::move(base), before, after});
  } else {
    it->second.after = after;
  }
}

absl::Status UnitOfWork::Changed(KeyResult& kr) {
  auto it = key_results_.find(KeyResultKey{kr.objective_id, kr.id});
  if (it == key_results_.end() || &it->second.value != &kr) {
    return absl::InternalError(
        absl::StrCat("UnitOfWork::Changed: ", names::KeyResult(kr.objective_id, kr.id),
                     " was not loaded through this unit"));
  }
  Row<KeyResult>& row = it->second;
  row.value.meta.revision = row.stored_revision;
  Touch(row.value.meta, now_);
  row.dirty = true;
  OKR_ASSIGN_OR_RETURN(const Objective* o, LoadObjective(kr.objective_id));
  OKR_ASSIGN_OR_RETURN(const Cycle* cycle, LoadCycle(o->cycle_id));
  const std::string key = KeyResultSubject(kr.objective_id, kr.id);
  Event base;
  base.time = now_;
  base.objective_id = kr.objective_id;
  base.key_result_id = kr.id;
  base.team_id = o->team_id;
  base.cycle_id = cycle->id;
  base.cause = cause_;
  const SubjectState new_state = StateOf(kr, *cycle);
  Track(key, std::move(base), StateOf(row.before, *cycle), new_state);
  auto [last, first] = last_progress_.try_emplace(key, row.before.progress);
  if (last->second != new_state.progress) last_changed_ = names::KeyResult(kr.objective_id, kr.id);
  last->second = new_state.progress;
  return absl::OkStatus();
}

absl::Status UnitOfWork::Changed(Objective& o) {
  auto it = objectives_.find(o.id);
  if (it == objectives_.end() || &it->second.value != &o) {
    return absl::InternalError(absl::StrCat("UnitOfWork::Changed: ", names::Objective(o.id),
                                            " was not loaded through this unit"));
  }
  Row<Objective>& row = it->second;
  row.value.meta.revision = row.stored_revision;
  Touch(row.value.meta, now_);
  row.dirty = true;
  OKR_ASSIGN_OR_RETURN(const Cycle* cycle, LoadCycle(o.cycle_id));
  const std::string name = names::Objective(o.id);
  const std::string key = ObjectiveSubject(o.id);
  Event base;
  base.time = now_;
  base.objective_id = o.id;
  base.team_id = o.team_id;
  base.cycle_id = o.cycle_id;
  base.cause = cause_;
  if (last_changed_ != name) base.cause.via = last_changed_;
  const SubjectState new_state = StateOf(o, *cycle);
  Track(key, std::move(base), StateOf(row.before, *cycle), new_state);
  auto [last, first] = last_progress_.try_emplace(key, row.before.progress);
  if (last->second != new_state.progress) last_changed_ = name;
  last->second = new_state.progress;
  return absl::OkStatus();
}

void UnitOfWork::WriteBack(const KeyResult& kr) {
  KeyResultKey key{kr.objective_id, kr.id};
  if (std::find(write_backs_.begin(), write_backs_.end(), key) == write_backs_.end()) {
    write_backs_.push_back(std::move(key));
  }
}

void UnitOfWork::ItemWriteBack(Tracker tracker, const std::string& key) {
  std::pair<Tracker, std::string> item{tracker, key};
  if (std::find(item_write_backs_.begin(), item_write_backs_.end(), item) ==
      item_write_backs_.end()) {
    item_write_backs_.push_back(std::move(item));
  }
}

absl::Status UnitOfWork::QueueLinkedItems(const std::string& objective_id, const std::string& id) {
  storage::PageQuery q{0, 1000};
  while (true) {
    OKR_ASSIGN_OR_RETURN(storage::Page<WorkItemLink> page,
                         tx_.ListWorkItemLinks(objective_id, id, q));
    for (const WorkItemLink& l : page.items) ItemWriteBack(l.item.tracker, l.item.key);
    if (!page.has_more || page.items.empty()) return absl::OkStatus();
    q.after_seq = page.items.back().meta.seq;
  }
}

absl::StatusOr<Objective*> UnitOfWork::InsertObjective(const Objective& o) {
  OKR_RETURN_IF_ERROR(tx_.InsertObjective(o));
  Row<Objective>& row = AddObjective(o);
  row.value.meta.seq = 0;  // the store's; ordered after every stored row
  return &row.value;
}

absl::StatusOr<KeyResult*> UnitOfWork::InsertKeyResult(const KeyResult& kr) {
  OKR_RETURN_IF_ERROR(tx_.InsertKeyResult(kr));
  Row<KeyResult>& row = AddKeyResult(kr);
  key_result_sets_[kr.objective_id].ids.push_back(kr.id);
  return &row.value;
}

absl::Status UnitOfWork::DeleteObjective(const std::string& id) {
  OKR_ASSIGN_OR_RETURN(std::vector<KeyResult*> krs, LoadKeyResults(id));
  for (const KeyResult* kr : krs) OKR_RETURN_IF_ERROR(QueueLinkedItems(id, kr->id));
  OKR_RETURN_IF_ERROR(tx_.DeleteObjective(id));
  if (auto it = objectives_.find(id); it != objectives_.end()) it->second.deleted = true;
  for (auto& [kr_key, row] : key_results_) {
    if (kr_key.first == id) row.deleted = true;
  }
  key_result_sets_.erase(id);
  for (auto& [child_id, row] : objectives_) {  // the store clears their parent
    if (row.value.parent_id == id) {
      row.value.parent_id.clear();
      row.before.parent_id.clear();
    }
  }
  return absl::OkStatus();
}

absl::Status UnitOfWork::DeleteKeyResult(const std::string& objective_id, const std::string& id) {
  OKR_RETURN_IF_ERROR(QueueLinkedItems(objective_id, id));
  OKR_RETURN_IF_ERROR(tx_.DeleteKeyResult(objective_id, id));
  if (auto it = key_results_.find(KeyResultKey{objective_id, id}); it != key_results_.end()) {
    it->second.deleted = true;
  }
  if (auto it = key_result_sets_.find(objective_id); it != key_result_sets_.end()) {
    std::vector<std::string>& ids = it->second.ids;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  }
  return absl::OkStatus();
}

absl::Status UnitOfWork::Commit() {
  for (const std::string& key : order_) {
    if (key[0] == 'o') {
      Row<Objective>& row = objectives_.at(key.substr(2));
      if (!row.dirty || row.deleted) continue;
      OKR_RETURN_IF_ERROR(tx_.UpdateObjective(row.value, row.stored_revision));
      row.stored_revision = row.value.meta.revision;
      row.before = row.value;
      row.dirty = false;
    } else {
      const Event& base = tracked_.at(key).base;
      Row<KeyResult>& row = key_results_.at(KeyResultKey{base.objective_id, base.key_result_id});
      if (!row.dirty || row.deleted) continue;
      OKR_RETURN_IF_ERROR(tx_.UpdateKeyResult(row.value, row.stored_revision));
      row.stored_revision = row.value.meta.revision;
      row.before = row.value;
      row.dirty = false;
    }
  }
  for (const KeyResultKey& key : write_backs_) {
    auto it = key_results_.find(key);
    if (it != key_results_.end() && it->second.deleted) continue;
    OKR_RETURN_IF_ERROR(tx_.EnqueueWriteBack(key.first, key.second, now_));
  }
  write_backs_.clear();
  for (const auto& [tracker, key] : item_write_backs_) {
    OKR_RETURN_IF_ERROR(tx_.EnqueueItemWriteBack(tracker, key, now_));
  }
  item_write_backs_.clear();
  for (const std::string& key : order_) {
    const Tracked& t = tracked_.at(key);
    for (Event& e : ChangeEvents(t.base, t.before, t.after)) {
      OKR_RETURN_IF_ERROR(tx_.AppendEvent(e));
    }
  }
  for (Event& e : extra_) OKR_RETURN_IF_ERROR(tx_.AppendEvent(e));
  order_.clear();
  tracked_.clear();
  extra_.clear();
  return absl::OkStatus();
}

absl::Status RunUnitOfWork(storage::OkrStore& store, absl::Time now, EventCause cause,
                           absl::FunctionRef<absl::Status(UnitOfWork&)> fn) {
  return store.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    UnitOfWork uow(tx, now, cause);
    OKR_RETURN_IF_ERROR(fn(uow));
    return uow.Commit();
  });
}

}  // namespace okr::core::internal
