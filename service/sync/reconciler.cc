#include "service/sync/reconciler.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/log/log.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"
#include "service/sync/core_tracker_sink.h"

namespace okr::sync {
namespace {

std::string IdentityOf(const WorkItem& item) {
  return item.external_id.empty() ? absl::StrCat("key:", item.key)
                                  : absl::StrCat("id:", item.external_id);
}

}  // namespace

void Reconciler::ReconcileItems(TrackerSource& source, const std::vector<WorkItem>& tracked,
                                ReconcileReport& report) {
  if (tracked.empty()) return;
  absl::StatusOr<std::vector<WorkItem>> fetched = source.FetchItems(tracked);
  if (!fetched.ok()) {
    report.errors.push_back(fetched.status());
    return;
  }
  absl::flat_hash_set<std::string> seen;
  for (const WorkItem& state : *fetched) {
    seen.insert(IdentityOf(state));
    seen.insert(absl::StrCat("key:", state.key));
    ++report.items_checked;
    WarnIfFromTheFuture(state, core_.clock().Now());
    absl::StatusOr<core::SyncOutcome> outcome = core_.ApplyTrackerUpdate(state, "");
    if (!outcome.ok()) {
      report.errors.push_back(outcome.status());
    } else if (*outcome == core::SyncOutcome::kApplied) {
      ++report.items_updated;
    }
  }
  for (const WorkItem& item : tracked) {
    if (seen.contains(IdentityOf(item)) || seen.contains(absl::StrCat("key:", item.key))) {
      continue;
    }
    absl::StatusOr<bool> deleted = source.ConfirmDeleted(item);
    if (!deleted.ok()) {
      report.errors.push_back(deleted.status());
      continue;
    }
    if (!*deleted) continue;  // e.g. not visible to the search yet; try again next run
    CoreTrackerSink sink(core_);
    absl::StatusOr<TrackerDeletion> removed =
        sink.RemoveItem(item.tracker, item.external_id, item.key, "");
    if (!removed.ok()) {
      report.errors.push_back(removed.status());
    } else if (removed->outcome == SyncOutcome::kApplied) {
      ++report.items_deleted;
    }
  }
}

void Reconciler::ReconcileScope(TrackerSource& source, const KeyResult& kr,
                                ReconcileReport& report) {
  absl::StatusOr<std::optional<std::vector<WorkItem>>> matches = source.ScopeMatches(kr);
  if (!matches.ok()) {
    report.errors.push_back(matches.status());
    return;
  }
  if (!matches->has_value()) return;
  absl::StatusOr<core::ScopeChange> change =
      core_.ApplyScope(kr.objective_id, kr.id, source.tracker(), **matches);
  if (!change.ok()) {
    report.errors.push_back(change.status());
    return;
  }
  report.scope_linked += static_cast<int64_t>(change->linked.size());
  report.scope_unlinked += static_cast<int64_t>(change->unlinked.size());
  if (!change->linked.empty() || !change->unlinked.empty()) {
    log::Info("key result scope changed", {{"key_result", names::KeyResult(kr.objective_id, kr.id)},
                                           {"linked", absl::StrJoin(change->linked, ",")},
                                           {"unlinked", absl::StrJoin(change->unlinked, ",")}});
  }
}

ReconcileReport Reconciler::RunOnce() {
  absl::MutexLock lock(&mu_);
  ReconcileReport report;
  std::vector<KeyResult> scoped;
  absl::Status read = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(scoped, tx.ScopedKeyResults());
    return absl::OkStatus();
  });
  if (!read.ok()) report.errors.push_back(read);
  for (TrackerSource* source : sources_) {
    // Scopes first: newly matching items get linked with their current state.
    for (const KeyResult& kr : scoped) ReconcileScope(*source, kr, report);
    std::vector<WorkItem> tracked;
    absl::Status listed = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
      OKR_ASSIGN_OR_RETURN(tracked, tx.LinkedWorkItems(source->tracker()));
      return absl::OkStatus();
    });
    if (!listed.ok()) {
      report.errors.push_back(listed);
      continue;
    }
    ReconcileItems(*source, tracked, report);
  }
  for (const absl::Status& e : report.errors) {
    log::Warn("reconciliation error", {{"error", std::string(e.message())}});
  }
  return report;
}

absl::Status Reconciler::SyncKeyResult(const std::string& objective_id,
                                       const std::string& key_result_id) {
  absl::MutexLock lock(&mu_);
  KeyResult kr;
  std::vector<WorkItemLink> links;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(kr, tx.GetKeyResult(objective_id, key_result_id));
    storage::PageQuery q{0, 1000};
    while (true) {
      OKR_ASSIGN_OR_RETURN(auto page, tx.ListWorkItemLinks(objective_id, key_result_id, q));
      for (WorkItemLink& l : page.items) links.push_back(std::move(l));
      if (!page.has_more || page.items.empty()) break;
      q.after_seq = links.back().meta.seq;
    }
    return absl::OkStatus();
  }));
  ReconcileReport report;
  for (TrackerSource* source : sources_) {
    ReconcileScope(*source, kr, report);
    std::vector<WorkItem> tracked;
    for (const WorkItemLink& l : links) {
      if (l.item.tracker == source->tracker()) tracked.push_back(l.item);
    }
    ReconcileItems(*source, tracked, report);
  }
  if (!report.errors.empty()) return report.errors.front();
  return absl::OkStatus();
}

}  // namespace okr::sync
