#include "service/sync/write_back.h"

#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"

namespace okr::sync {
namespace {

// What an item shows, in whole percent: equal fingerprints need no write.
std::string Fingerprint(const std::vector<ServedKeyResult>& served) {
  std::string text;
  for (const ServedKeyResult& s : served) {
    absl::StrAppend(&text, s.key_result, "|", s.key_result_title, "|", s.objective_title, "|",
                    std::lround(s.progress * 100), "|", std::lround(s.expected_progress * 100), "|",
                    static_cast<int>(s.health), "|", s.achieved, "|", s.url, "\n");
  }
  return absl::StrCat(std::hash<std::string>{}(text), ":", text.size());
}

}  // namespace

TrackerWriter* WriteBackWorker::WriterFor(Tracker tracker) const {
  for (TrackerWriter* w : writers_) {
    if (w->tracker() == tracker) return w;
  }
  return nullptr;
}

absl::StatusOr<std::vector<ServedKeyResult>> WriteBackWorker::Served(const WorkItem& item) {
  std::vector<ServedKeyResult> served;
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    served.clear();
    OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links,
                         tx.LinksToWorkItem(item.tracker, item.key));
    for (const WorkItemLink& link : links) {
      OKR_ASSIGN_OR_RETURN(KeyResult kr, tx.GetKeyResult(link.objective_id, link.key_result_id));
      OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(link.objective_id));
      OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
      absl::StatusOr<Team> team = tx.GetTeam(o.team_id);
      ServedKeyResult s;
      s.key_result = names::KeyResult(kr.objective_id, kr.id);
      s.key_result_title = kr.title;
      s.objective = names::Objective(o.id);
      s.objective_title = o.title;
      s.team_name = team.ok() ? team->display_name : o.team_id;
      s.progress = kr.progress;
      s.expected_progress = ExpectedProgress(c.start_time, c.end_time, now);
      s.health = ComputeHealth(kr.progress, s.expected_progress, c.start_time, now);
      s.achieved = kr.progress >= 1.0 - 1e-9;
      s.url = options_.public_url + KeyResultPath(kr.objective_id, kr.id);
      served.push_back(std::move(s));
    }
    return absl::OkStatus();
  }));
  return served;
}

WriteBackReport WriteBackWorker::RunOnce() {
  WriteBackReport report;
  std::vector<storage::OkrTransaction::WriteBackEntry> entries;
  absl::Status read = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(entries, tx.PendingWriteBacks(options_.batch));
    return absl::OkStatus();
  });
  if (!read.ok()) {
    report.errors.push_back(read);
    return report;
  }
  absl::flat_hash_set<std::string> handled;  // items written (or found unchanged) this run
  for (const auto& entry : entries) {
    std::vector<WorkItem> items;
    absl::Status listed = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
      storage::PageQuery q{0, 1000};
      while (true) {
        absl::StatusOr<storage::Page<WorkItemLink>> page =
            tx.ListWorkItemLinks(entry.objective_id, entry.key_result_id, q);
        if (!page.ok()) return page.status();
        for (const WorkItemLink& l : page->items) items.push_back(l.item);
        if (!page->has_more || page->items.empty()) break;
        q.after_seq = page->items.back().meta.seq;
      }
      return absl::OkStatus();
    });
    if (!listed.ok() && !absl::IsNotFound(listed)) {
      report.errors.push_back(listed);
      continue;
    }
    bool complete = true;
    for (const WorkItem& item : items) {
      TrackerWriter* writer = WriterFor(item.tracker);
      if (writer == nullptr) continue;  // that tracker is not configured
      const std::string id = absl::StrCat(static_cast<int>(item.tracker), ":", item.key);
      if (handled.contains(id)) continue;
      absl::StatusOr<std::vector<ServedKeyResult>> served = Served(item);
      if (!served.ok()) {
        report.errors.push_back(served.status());
        complete = false;
        continue;
      }
      if (served->empty()) continue;
      const std::string fingerprint = Fingerprint(*served);
      std::optional<storage::OkrTransaction::WriteBackState> state;
      absl::Status got = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
        OKR_ASSIGN_OR_RETURN(state, tx.GetWriteBackState(item.tracker, item.key));
        return absl::OkStatus();
      });
      if (!got.ok()) {
        report.errors.push_back(got);
        complete = false;
        continue;
      }
      if (state.has_value() && state->content_hash == fingerprint) {
        ++report.unchanged;
        handled.insert(id);
        continue;
      }
      const absl::Time now = clock_.Now();
      if (state.has_value() && now - state->written < options_.min_spacing) {
        ++report.deferred;
        complete = false;
        continue;
      }
      absl::StatusOr<std::string> ref = writer->Write(item, *served, state ? state->ref : "");
      if (absl::IsNotFound(ref.status())) {
        handled.insert(id);  // gone in the tracker; reconciliation removes it
        continue;
      }
      if (!ref.ok()) {
        report.errors.push_back(ref.status());
        complete = false;
        continue;
      }
      storage::OkrTransaction::WriteBackState next{*ref, fingerprint, now};
      absl::Status put = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
        return tx.PutWriteBackState(item.tracker, item.key, next);
      });
      if (!put.ok()) {
        report.errors.push_back(put);
        complete = false;
        continue;
      }
      ++report.writes;
      handled.insert(id);
    }
    if (complete) {
      absl::Status done = store_.RunInTransaction(
          [&](storage::OkrTransaction& tx) { return tx.CompleteWriteBack(entry); });
      if (!done.ok()) report.errors.push_back(done);
    }
  }
  return report;
}

}  // namespace okr::sync
