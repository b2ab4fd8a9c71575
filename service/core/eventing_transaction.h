// EventingTransaction: the store transaction the core's use cases write through. It
// forwards every call to the store's transaction and watches the writes that matter --
// key result and objective updates -- remembering each subject's state before its first
// change and after its last. Flush() turns the differences into events
// (service/okr/events.h ChangeEvents: progress, thresholds, health, scope, state) and
// appends them to the store's outbox in the same transaction, so an event exists iff its
// change committed. Several changes of one subject in one transaction make one event
// each (first old value, last new value), not one per intermediate step.
//
//   OKR_RETURN_IF_ERROR(RunWithEvents(store, now, {CauseKind::kCheckIn, name},
//                                     [&](EventingTransaction& tx) { ... }));
//
// Internal to service/core. Not thread-safe (like the transaction it wraps).
#ifndef OKR_SERVICE_CORE_EVENTING_TRANSACTION_H_
#define OKR_SERVICE_CORE_EVENTING_TRANSACTION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/okr/events.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"

namespace okr::core::internal {

using storage::ObjectiveFilter;
using storage::Page;
using storage::PageQuery;

class EventingTransaction final : public storage::OkrTransaction {
 public:
  EventingTransaction(storage::OkrTransaction& inner, absl::Time now, EventCause cause)
      : inner_(inner), now_(now), cause_(std::move(cause)) {}

  // The cause of the changes that follow (e.g. once a use case knows whether an item was
  // closed or reopened).
  void set_cause(EventCause cause) { cause_ = std::move(cause); }
  const EventCause& cause() const { return cause_; }
  absl::Time now() const { return now_; }
  // Queues an event of the use case's own (rule firing, alignment finding); it is
  // appended after the change events, in the order given.
  void Emit(Event event) { extra_.push_back(std::move(event)); }
  // Appends the events of this transaction's changes to the outbox.
  absl::Status Flush();

  absl::Status InsertTeam(const Team& team) override { return inner_.InsertTeam(team); }
  absl::StatusOr<Team> GetTeam(const std::string& id) override { return inner_.GetTeam(id); }
  absl::StatusOr<Page<Team>> ListTeams(const std::string& parent_id,
                                       const PageQuery& page) override {
    return inner_.ListTeams(parent_id, page);
  }
  absl::Status UpdateTeam(const Team& team, int64_t expected_revision) override {
    return inner_.UpdateTeam(team, expected_revision);
  }
  absl::Status DeleteTeam(const std::string& id, int64_t expected_revision) override {
    return inner_.DeleteTeam(id, expected_revision);
  }
  absl::Status InsertCycle(const Cycle& cycle) override { return inner_.InsertCycle(cycle); }
  absl::StatusOr<Cycle> GetCycle(const std::string& id) override { return inner_.GetCycle(id); }
  absl::StatusOr<Page<Cycle>> ListCycles(const PageQuery& page) override {
    return inner_.ListCycles(page);
  }
  absl::Status UpdateCycle(const Cycle& cycle, int64_t expected_revision) override {
    return inner_.UpdateCycle(cycle, expected_revision);
  }
  absl::Status DeleteCycle(const std::string& id, int64_t expected_revision) override {
    return inner_.DeleteCycle(id, expected_revision);
  }
  absl::Status InsertObjective(const Objective& objective) override {
    return inner_.InsertObjective(objective);
  }
  absl::StatusOr<Objective> GetObjective(const std::string& id) override {
    return inner_.GetObjective(id);
  }
  absl::Status UpdateObjective(const Objective& objective, int64_t expected_revision) override;
  absl::Status DeleteObjective(const std::string& id) override {
    return inner_.DeleteObjective(id);
  }
  absl::StatusOr<Page<Objective>> ListObjectives(const ObjectiveFilter& filter,
                                                 const PageQuery& page) override {
    return inner_.ListObjectives(filter, page);
  }
  absl::Status InsertKeyResult(const KeyResult& kr) override { return inner_.InsertKeyResult(kr); }
  absl::StatusOr<KeyResult> GetKeyResult(const std::string& objective_id,
                                         const std::string& id) override {
    return inner_.GetKeyResult(objective_id, id);
  }
  absl::Status UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) override;
  absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id) override {
    return inner_.DeleteKeyResult(objective_id, id);
  }
  absl::StatusOr<Page<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                 const PageQuery& page) override {
    return inner_.ListKeyResults(objective_id, page);
  }
  absl::StatusOr<std::vector<KeyResult>> AllKeyResults(const std::string& objective_id) override {
    return inner_.AllKeyResults(objective_id);
  }
  absl::Status InsertCheckIn(const CheckIn& check_in) override {
    return inner_.InsertCheckIn(check_in);
  }
  absl::StatusOr<CheckIn> GetCheckIn(const std::string& objective_id,
                                     const std::string& key_result_id,
                                     const std::string& id) override {
    return inner_.GetCheckIn(objective_id, key_result_id, id);
  }
  absl::StatusOr<Page<CheckIn>> ListCheckIns(const std::string& objective_id,
                                             const std::string& key_result_id,
                                             const PageQuery& page) override {
    return inner_.ListCheckIns(objective_id, key_result_id, page);
  }
  absl::StatusOr<std::optional<WorkItem>> GetWorkItem(Tracker tracker,
                                                      const std::string& key) override {
    return inner_.GetWorkItem(tracker, key);
  }
  absl::Status UpsertWorkItem(const WorkItem& item) override { return inner_.UpsertWorkItem(item); }
  absl::Status InsertWorkItemLink(const WorkItemLink& link) override {
    return inner_.InsertWorkItemLink(link);
  }
  absl::StatusOr<WorkItemLink> GetWorkItemLink(const std::string& objective_id,
                                               const std::string& key_result_id,
                                               const std::string& id) override {
    return inner_.GetWorkItemLink(objective_id, key_result_id, id);
  }
  absl::StatusOr<WorkItemLink> FindWorkItemLink(const std::string& objective_id,
                                                const std::string& key_result_id, Tracker tracker,
                                                const std::string& key) override {
    return inner_.FindWorkItemLink(objective_id, key_result_id, tracker, key);
  }
  absl::Status DeleteWorkItemLink(const std::string& objective_id, const std::string& key_result_id,
                                  const std::string& id) override {
    return inner_.DeleteWorkItemLink(objective_id, key_result_id, id);
  }
  absl::StatusOr<Page<WorkItemLink>> ListWorkItemLinks(const std::string& objective_id,
                                                       const std::string& key_result_id,
                                                       const PageQuery& page) override {
    return inner_.ListWorkItemLinks(objective_id, key_result_id, page);
  }
  absl::StatusOr<std::vector<WorkItemLink>> LinksToWorkItem(Tracker tracker,
                                                            const std::string& key) override {
    return inner_.LinksToWorkItem(tracker, key);
  }
  absl::StatusOr<WorkItemTotals> ComputeWorkItemTotals(const std::string& objective_id,
                                                       const std::string& key_result_id) override {
    return inner_.ComputeWorkItemTotals(objective_id, key_result_id);
  }
  absl::StatusOr<std::optional<WorkItem>> GetWorkItemByExternalId(
      Tracker tracker, const std::string& external_id) override {
    return inner_.GetWorkItemByExternalId(tracker, external_id);
  }
  absl::Status RenameWorkItem(Tracker tracker, const std::string& old_key,
                              const std::string& new_key) override {
    return inner_.RenameWorkItem(tracker, old_key, new_key);
  }
  absl::Status DeleteWorkItem(Tracker tracker, const std::string& key) override {
    return inner_.DeleteWorkItem(tracker, key);
  }
  absl::StatusOr<std::vector<WorkItem>> LinkedWorkItems(Tracker tracker) override {
    return inner_.LinkedWorkItems(tracker);
  }
  absl::Status RecordDelivery(Tracker tracker, const std::string& delivery_id,
                              absl::Time received) override {
    return inner_.RecordDelivery(tracker, delivery_id, received);
  }
  absl::StatusOr<int64_t> PruneDeliveries(absl::Time before) override {
    return inner_.PruneDeliveries(before);
  }
  absl::StatusOr<std::vector<KeyResult>> ScopedKeyResults() override {
    return inner_.ScopedKeyResults();
  }
  absl::Status EnqueueWriteBack(const std::string& objective_id, const std::string& key_result_id,
                                absl::Time now) override {
    return inner_.EnqueueWriteBack(objective_id, key_result_id, now);
  }
  absl::StatusOr<std::vector<WriteBackEntry>> PendingWriteBacks(int limit) override {
    return inner_.PendingWriteBacks(limit);
  }
  absl::Status CompleteWriteBack(const WriteBackEntry& entry) override {
    return inner_.CompleteWriteBack(entry);
  }
  absl::StatusOr<std::optional<WriteBackState>> GetWriteBackState(Tracker tracker,
                                                                  const std::string& key) override {
    return inner_.GetWriteBackState(tracker, key);
  }
  absl::Status PutWriteBackState(Tracker tracker, const std::string& key,
                                 const WriteBackState& state) override {
    return inner_.PutWriteBackState(tracker, key, state);
  }
  absl::Status AppendEvent(Event& event) override { return inner_.AppendEvent(event); }
  absl::StatusOr<std::vector<Event>> ListEvents(const EventQuery& query) override {
    return inner_.ListEvents(query);
  }
  absl::StatusOr<int64_t> LastEventSequence() override { return inner_.LastEventSequence(); }
  absl::StatusOr<int64_t> PruneEvents(absl::Time before) override {
    return inner_.PruneEvents(before);
  }
  absl::Status InsertDocument(const Document& doc) override { return inner_.InsertDocument(doc); }
  absl::StatusOr<std::optional<Document>> GetDocument(const std::string& kind,
                                                      const std::string& id) override {
    return inner_.GetDocument(kind, id);
  }
  absl::Status UpdateDocument(const Document& doc, int64_t expected_revision) override {
    return inner_.UpdateDocument(doc, expected_revision);
  }
  absl::Status DeleteDocument(const std::string& kind, const std::string& id) override {
    return inner_.DeleteDocument(kind, id);
  }
  absl::StatusOr<Page<Document>> ListDocuments(const std::string& kind,
                                               const PageQuery& page) override {
    return inner_.ListDocuments(kind, page);
  }
  absl::StatusOr<std::optional<std::string>> GetRequestRecord(
      const std::string& request_id) override {
    return inner_.GetRequestRecord(request_id);
  }
  absl::Status PutRequestRecord(const std::string& request_id,
                                const std::string& resource_name) override {
    return inner_.PutRequestRecord(request_id, resource_name);
  }

 private:
  struct Tracked {
    Event base;  // subject, team, cycle, time, cause of the first change
    SubjectState before;
    SubjectState after;
  };
  // Team and cycle of an objective, and the cycle's bounds, for health.
  struct ObjectiveContext {
    std::string team_id;
    Cycle cycle;
  };
  absl::StatusOr<ObjectiveContext> Context(const std::string& objective_id);
  SubjectState StateOf(const KeyResult& kr, const Cycle& cycle) const;
  SubjectState StateOf(const Objective& o, const Cycle& cycle) const;
  // Records `before` (first time only) and `after` of one subject.
  void Track(const std::string& key, Event base, const SubjectState& before,
             const SubjectState& after);

  storage::OkrTransaction& inner_;
  const absl::Time now_;
  EventCause cause_;
  std::vector<std::string> order_;  // subjects in order of first change
  std::map<std::string, Tracked> tracked_;
  absl::flat_hash_map<std::string, ObjectiveContext> contexts_;
  std::string last_changed_;  // the subject changed last (roll-up "via")
  std::vector<Event> extra_;
};

// Runs `fn` in one store transaction through an EventingTransaction and flushes its events
// before the commit.
absl::Status RunWithEvents(storage::OkrStore& store, absl::Time now, EventCause cause,
                           absl::FunctionRef<absl::Status(EventingTransaction&)> fn);

}  // namespace okr::core::internal

#endif  // OKR_SERVICE_CORE_EVENTING_TRANSACTION_H_
