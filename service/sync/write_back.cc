#include "service/sync/write_back.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "service/log/log.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"

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

// Up to 25% more than `wait`, the same for the same item and failure count (spreads the
// retries of items that failed together without a random source).
absl::Duration Jittered(absl::Duration wait, const WorkItem& item, int64_t failures) {
  const size_t h = std::hash<std::string>{}(absl::StrCat(item.key, "#", failures));
  return wait + wait * (static_cast<double>(h % 1000) / 4000.0);
}

// Bounded text of an error for the state row (tracker messages can be long).
std::string ErrorText(const absl::Status& error) {
  std::string text(error.message().substr(0, 200));
  return text;
}

}  // namespace

bool IsPermanentWriteBackError(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

absl::Duration WriteBackBackoff(const WriteBackOptions& options, absl::StatusCode code,
                                int64_t failures) {
  if (IsPermanentWriteBackError(code)) return options.permanent_retry;
  absl::Duration wait = options.backoff_initial;
  for (int64_t i = 1; i < failures && wait < options.backoff_cap; ++i) wait *= 2;
  return std::min(wait, options.backoff_cap);
}

const char* WriteBackFailureReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kPermissionDenied:
      return "permission_denied";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    default:
      return "transient";
  }
}

void WriteBackWorker::EntryOutcome::Add(const ItemOutcome& item) {
  if (item.status == ItemStatus::kRetry) retry = true;
  if (item.status == ItemStatus::kBackoff) backoff = std::min(backoff, item.retry_at);
}

absl::Time WriteBackWorker::RecordFailure(
    const WorkItem& item, const std::optional<storage::OkrTransaction::WriteBackState>& state,
    const absl::Status& error, WriteBackReport& report) {
  const absl::Time now = clock_.Now();
  storage::OkrTransaction::WriteBackState next =
      state.value_or(storage::OkrTransaction::WriteBackState{});
  const int previous_code = next.failures > 0 ? next.last_code : 0;
  next.failures += 1;
  next.last_code = static_cast<int>(error.code());
  next.last_error = ErrorText(error);
  next.next_attempt =
      now + Jittered(WriteBackBackoff(options_, error.code(), next.failures), item, next.failures);
  absl::Status put = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
    return tx.PutWriteBackState(item.tracker, item.key, next);
  });
  if (!put.ok()) {
    report.errors.push_back(put);
    return now;  // not recorded: try again next run
  }
  if (IsPermanentWriteBackError(error.code()) && previous_code != next.last_code) {
    log::Warn("write-back failing permanently",
              {{"tracker", TrackerSlug(item.tracker)},
               {"key", item.key},
               {"code", absl::StatusCodeToString(error.code())},
               {"retry_in",
                absl::FormatDuration(absl::Trunc(next.next_attempt - now, absl::Seconds(1)))}});
  }
  return next.next_attempt;
}

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

WriteBackWorker::ItemOutcome WriteBackWorker::SyncItem(const WorkItem& item,
                                                       WriteBackReport& report) {
  const ItemOutcome settled{ItemStatus::kSettled};
  const ItemOutcome retry{ItemStatus::kRetry};
  TrackerWriter* writer = WriterFor(item.tracker);
  if (writer == nullptr) return settled;  // that tracker is not configured
  const std::string id = absl::StrCat(static_cast<int>(item.tracker), ":", item.key);
  if (auto it = handled_.find(id); it != handled_.end()) return it->second;
  absl::StatusOr<std::vector<ServedKeyResult>> served = Served(item);
  if (!served.ok()) {
    report.errors.push_back(served.status());
    return retry;
  }
  std::optional<storage::OkrTransaction::WriteBackState> state;
  absl::Status got = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(state, tx.GetWriteBackState(item.tracker, item.key));
    return absl::OkStatus();
  });
  if (!got.ok()) {
    report.errors.push_back(got);
    return retry;
  }
  // A state row that only records failures: nothing was ever written into the item.
  const bool never_written =
      !state.has_value() || (state->written == absl::InfinitePast() && state->ref.empty());
  if (served->empty() && never_written) {  // nothing to remove
    if (state.has_value()) {
      absl::Status forgot = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
        return tx.DeleteWriteBackState(item.tracker, item.key);
      });
      if (!forgot.ok()) {
        report.errors.push_back(forgot);
        return retry;
      }
    }
    ++report.unchanged;
    handled_[id] = settled;
    return settled;
  }
  const std::string fingerprint = Fingerprint(*served);
  const absl::Time now = clock_.Now();
  if (state.has_value() && state->content_hash == fingerprint) {
    if (state->failures > 0) {  // shows what it should after all: no longer failing
      storage::OkrTransaction::WriteBackState clean = *state;
      clean.failures = 0;
      clean.next_attempt = absl::InfinitePast();
      clean.last_code = 0;
      clean.last_error.clear();
      absl::Status put = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
        return tx.PutWriteBackState(item.tracker, item.key, clean);
      });
      if (!put.ok()) {
        report.errors.push_back(put);
        return retry;
      }
    }
    ++report.unchanged;
    handled_[id] = settled;
    return settled;
  }
  if (state.has_value() && state->failures > 0 && now < state->next_attempt) {
    ++report.backing_off;
    const ItemOutcome waits{ItemStatus::kBackoff, state->next_attempt};
    handled_[id] = waits;
    return waits;
  }
  if (state.has_value() && now - state->written < options_.min_spacing) {
    ++report.deferred;
    return retry;
  }
  absl::StatusOr<std::string> ref = writer->Write(item, *served, state ? state->ref : "");
  // NOT_FOUND: the item is gone (reconciliation removes it), or the service's account does
  // not see it; either way this entry is done, and the item is tried again only rarely.
  const bool gone = absl::IsNotFound(ref.status());
  if (!ref.ok()) {
    if (gone && served->empty()) {  // the item took the marks with it
      absl::Status forgot = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
        return tx.DeleteWriteBackState(item.tracker, item.key);
      });
      if (!forgot.ok()) report.errors.push_back(forgot);
      handled_[id] = settled;
      return settled;
    }
    report.errors.push_back(ref.status());
    const absl::Time retry_at = RecordFailure(item, state, ref.status(), report);
    // Gone: this entry is done (the item is retried rarely when queued again).
    const ItemOutcome failed = gone ? settled : ItemOutcome{ItemStatus::kBackoff, retry_at};
    handled_[id] = failed;
    return failed;
  }
  absl::Status put = store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    // Marks removed: nothing left to remember.
    if (served->empty()) return tx.DeleteWriteBackState(item.tracker, item.key);
    storage::OkrTransaction::WriteBackState written;  // a success resets the backoff
    written.ref = *ref;
    written.content_hash = fingerprint;
    written.written = now;
    return tx.PutWriteBackState(item.tracker, item.key, written);
  });
  if (!put.ok()) {
    report.errors.push_back(put);
    return retry;
  }
  ++report.writes;
  if (served->empty()) ++report.removals;
  handled_[id] = settled;
  return settled;
}

void WriteBackWorker::RunKeyResultQueue(WriteBackReport& report) {
  std::vector<storage::OkrTransaction::WriteBackEntry> entries;
  absl::Status read = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(entries, tx.DueWriteBacks(clock_.Now(), options_.batch));
    return absl::OkStatus();
  });
  if (!read.ok()) {
    report.errors.push_back(read);
    return;
  }
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
    EntryOutcome outcome;
    for (const WorkItem& item : items) outcome.Add(SyncItem(item, report));
    if (outcome.retry) continue;  // due again next run
    // Every item settled, or the rest back off: the entry waits for the earliest of them.
    absl::Status done = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
      return outcome.backoff == absl::InfiniteFuture() ? tx.CompleteWriteBack(entry)
                                                       : tx.DeferWriteBack(entry, outcome.backoff);
    });
    if (!done.ok()) report.errors.push_back(done);
  }
}

void WriteBackWorker::RunItemQueue(
    const std::vector<storage::OkrTransaction::ItemWriteBackEntry>& entries,
    WriteBackReport& report) {
  for (const auto& entry : entries) {
    std::optional<WorkItem> item;
    absl::Status got = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
      OKR_ASSIGN_OR_RETURN(item, tx.GetWorkItem(entry.tracker, entry.key));
      return absl::OkStatus();
    });
    if (!got.ok()) {
      report.errors.push_back(got);
      continue;
    }
    // An item deleted in the tracker took the service's marks with it.
    EntryOutcome outcome;
    if (item.has_value()) outcome.Add(SyncItem(*item, report));
    if (outcome.retry) continue;
    absl::Status done = store_.RunInTransaction([&](storage::OkrTransaction& tx) {
      return outcome.backoff == absl::InfiniteFuture()
                 ? tx.CompleteItemWriteBack(entry)
                 : tx.DeferItemWriteBack(entry, outcome.backoff);
    });
    if (!done.ok()) report.errors.push_back(done);
  }
}

WriteBackReport WriteBackWorker::RunOnce() {
  WriteBackReport report;
  handled_.clear();
  // The item queue is read before the key result queue runs: an item settled there was read
  // after every change queued here, so settling it settles these entries too. An entry
  // queued later (a change after that read) is not among them, or has a newer generation
  // that CompleteItemWriteBack keeps: it is handled next run.
  std::vector<storage::OkrTransaction::ItemWriteBackEntry> items;
  absl::Status read = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(items, tx.DueItemWriteBacks(clock_.Now(), options_.batch));
    return absl::OkStatus();
  });
  if (!read.ok()) report.errors.push_back(read);
  RunKeyResultQueue(report);
  RunItemQueue(items, report);
  handled_.clear();
  absl::Status counted = store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(report.failing, tx.CountWriteBackFailures());
    return absl::OkStatus();
  });
  if (counted.ok()) {
    report.failures_read = true;
  } else {
    report.errors.push_back(counted);
  }
  return report;
}

}  // namespace okr::sync
