#include "service/storage/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/okr/model.h"
#include "service/okr/status_macros.h"
#include "service/storage/event_codec.h"
#include "service/storage/postgres/connection.h"
#include "service/storage/postgres/migrations.h"

namespace okr::storage {
namespace {

using postgres_internal::Connection;
using postgres_internal::ConnectSettings;
using postgres_internal::Params;
using postgres_internal::Redactor;
using postgres_internal::Result;
using postgres_internal::RowReader;

// --- Messages ----------------------------------------------------------------------------

std::string Quote(absl::string_view id) { return absl::StrCat("\"", id, "\""); }

std::string KeyResultLabel(absl::string_view objective_id, absl::string_view id) {
  return absl::StrCat("key result ", Quote(id), " of objective ", Quote(objective_id));
}

absl::string_view TrackerName(Tracker tracker) {
  switch (tracker) {
    case Tracker::kJira:
      return "Jira";
    case Tracker::kGitLab:
      return "GitLab";
  }
  return "unknown tracker";
}

std::string WorkItemLabel(Tracker tracker, absl::string_view key) {
  return absl::StrCat(TrackerName(tracker), " work item ", Quote(key));
}

// --- Enum encoding -----------------------------------------------------------------------

template <typename E>
bool InRange(E value, E first, E last) {
  int v = static_cast<int>(value);
  return v >= static_cast<int>(first) && v <= static_cast<int>(last);
}

// `what()` names the column for the error message; only called on error.
template <typename E, typename What>
absl::StatusOr<E> DecodeEnum(int64_t value, E first, E last, What what) {
  if (value < static_cast<int>(first) || value > static_cast<int>(last)) {
    return absl::InternalError(absl::StrCat("corrupt row: ", what(), " has value ", value));
  }
  return static_cast<E>(value);
}

absl::Status CheckTracker(Tracker tracker) {
  if (!InRange(tracker, Tracker::kJira, Tracker::kGitLab)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid tracker value ", static_cast<int>(tracker)));
  }
  return absl::OkStatus();
}

// --- List fields ------------------------------------------------------------------------
// As in the SQLite store: lists of names/labels are stored one value per line (values
// never contain newlines: names are validated ids, labels are checked on input);
// agreements one per line as team \t agreed_by \t micros.

std::string JoinLines(const std::vector<std::string>& values) {
  return absl::StrJoin(values, "\n");
}

std::vector<std::string> SplitLines(const std::string& text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\n');
}

std::string EncodeAgreements(const std::vector<Agreement>& agreements) {
  std::vector<std::string> lines;
  for (const Agreement& a : agreements) {
    lines.push_back(absl::StrCat(
        a.team_id, "\t", a.agreed_by, "\t",
        a.agree_time == absl::InfinitePast() ? int64_t{0} : absl::ToUnixMicros(a.agree_time)));
  }
  return JoinLines(lines);
}

std::vector<Agreement> DecodeAgreements(const std::string& text) {
  std::vector<Agreement> out;
  for (const std::string& line : SplitLines(text)) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits('\t', 2));
    if (parts.size() != 3) continue;
    Agreement a;
    a.team_id = parts[0];
    a.agreed_by = parts[1];
    int64_t micros = 0;
    if (absl::SimpleAtoi(parts[2], &micros)) a.agree_time = absl::FromUnixMicros(micros);
    out.push_back(std::move(a));
  }
  return out;
}

// --- Row decoding ------------------------------------------------------------------------
// Column lists and the decoders that read them, kept side by side. The lists are macros
// so that every query is one string literal (and one prepared statement).

// Meta columns come last in every entity's column list, seq first.
EntityMeta ReadMeta(RowReader& r, int revision_col) {
  EntityMeta meta;
  meta.seq = r.Int(0);
  meta.revision = r.Int(revision_col);
  meta.create_time = r.Time(revision_col + 1);
  meta.update_time = r.Time(revision_col + 2);
  return meta;
}

#define OKR_TEAM_COLUMNS                                                                     \
  "seq, id, display_name, parent_id, revision, create_time, update_time, jira_project_key, " \
  "gitlab_project"

absl::StatusOr<Team> ReadTeam(const Result& res, int row) {
  RowReader r(res, row);
  Team t;
  t.id = r.Text(1);
  t.display_name = r.Text(2);
  t.parent_id = r.Text(3);
  t.meta = ReadMeta(r, 4);
  t.jira_project_key = r.Text(7);
  t.gitlab_project = r.Text(8);
  OKR_RETURN_IF_ERROR(r.status());
  return t;
}

#define OKR_CYCLE_COLUMNS \
  "seq, id, display_name, start_time, end_time, revision, create_time, update_time"

absl::StatusOr<Cycle> ReadCycle(const Result& res, int row) {
  RowReader r(res, row);
  Cycle c;
  c.id = r.Text(1);
  c.display_name = r.Text(2);
  c.start_time = r.Time(3);
  c.end_time = r.Time(4);
  c.meta = ReadMeta(r, 5);
  OKR_RETURN_IF_ERROR(r.status());
  return c;
}

#define OKR_OBJECTIVE_COLUMNS                                                          \
  "seq, id, title, description, team_id, cycle_id, parent_id, kind, state, progress, " \
  "revision, create_time, update_time, progress_source, weight, contributes_to, "      \
  "depends_on, agreements, reopen_reason, carried_over_from, score, scored, outcome"

absl::StatusOr<Objective> ReadObjective(const Result& res, int row) {
  RowReader r(res, row);
  Objective o;
  o.id = r.Text(1);
  o.title = r.Text(2);
  o.description = r.Text(3);
  o.team_id = r.Text(4);
  o.cycle_id = r.Text(5);
  o.parent_id = r.Text(6);
  const int64_t kind = r.Int(7);
  const int64_t state = r.Int(8);
  o.progress = r.Double(9);
  o.meta = ReadMeta(r, 10);
  const int64_t progress_source = r.Int(13);
  o.weight = r.Double(14);
  o.contributes_to = SplitLines(r.Text(15));
  o.depends_on = SplitLines(r.Text(16));
  o.agreements = DecodeAgreements(r.Text(17));
  o.reopen_reason = r.Text(18);
  o.carried_over_from = r.Text(19);
  o.score = r.Double(20);
  o.scored = r.Bool(21);
  const int64_t outcome = r.Int(22);
  OKR_RETURN_IF_ERROR(r.status());
  OKR_ASSIGN_OR_RETURN(
      o.kind, DecodeEnum(kind, ObjectiveKind::kCommitted, ObjectiveKind::kAspirational,
                         [&] { return absl::StrCat("objective ", Quote(o.id), " kind"); }));
  OKR_ASSIGN_OR_RETURN(
      o.state, DecodeEnum(state, ObjectiveState::kDraft, ObjectiveState::kClosed,
                          [&] { return absl::StrCat("objective ", Quote(o.id), " state"); }));
  OKR_ASSIGN_OR_RETURN(
      o.progress_source,
      DecodeEnum(progress_source, ProgressSource::kKeyResults,
                 ProgressSource::kKeyResultsAndChildren,
                 [&] { return absl::StrCat("objective ", Quote(o.id), " progress_source"); }));
  OKR_ASSIGN_OR_RETURN(o.outcome, DecodeEnum(outcome, Outcome::kUnspecified, Outcome::kMissed, [&] {
                         return absl::StrCat("objective ", Quote(o.id), " outcome");
                       }));
  return o;
}

#define OKR_KEY_RESULT_COLUMNS                                                          \
  "seq, objective_id, id, title, weight, type, metric_start, metric_target, "           \
  "metric_current, metric_unit, milestone_done, item_count, done_count, total_weight, " \
  "done_weight, progress, raw_progress, revision, create_time, update_time, "           \
  "metric_key, jira_jql, gitlab_project, gitlab_labels, gitlab_milestone, score, "      \
  "score_reason"

absl::StatusOr<KeyResult> ReadKeyResult(const Result& res, int row) {
  RowReader r(res, row);
  KeyResult kr;
  kr.objective_id = r.Text(1);
  kr.id = r.Text(2);
  kr.title = r.Text(3);
  kr.weight = r.Double(4);
  const int64_t type = r.Int(5);
  kr.metric.start_value = r.Double(6);
  kr.metric.target_value = r.Double(7);
  kr.metric.current_value = r.Double(8);
  kr.metric.unit = r.Text(9);
  kr.milestone_done = r.Bool(10);
  kr.totals.item_count = r.Int(11);
  kr.totals.done_count = r.Int(12);
  kr.totals.total_weight = r.Double(13);
  kr.totals.done_weight = r.Double(14);
  kr.progress = r.Double(15);
  kr.raw_progress = r.Double(16);
  kr.meta = ReadMeta(r, 17);
  kr.metric_key = r.Text(20);
  kr.jira_jql = r.Text(21);
  kr.gitlab_project = r.Text(22);
  kr.gitlab_labels = SplitLines(r.Text(23));
  kr.gitlab_milestone = r.Text(24);
  kr.score = r.OptionalDouble(25);
  kr.score_reason = r.Text(26);
  OKR_RETURN_IF_ERROR(r.status());
  OKR_ASSIGN_OR_RETURN(kr.type,
                       DecodeEnum(type, KeyResultType::kMetric, KeyResultType::kWorkItems, [&] {
                         return absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " type");
                       }));
  return kr;
}

#define OKR_CHECK_IN_COLUMNS                                                          \
  "seq, objective_id, key_result_id, id, value, confidence, note, author, revision, " \
  "create_time, update_time"

absl::StatusOr<CheckIn> ReadCheckIn(const Result& res, int row) {
  RowReader r(res, row);
  CheckIn c;
  c.objective_id = r.Text(1);
  c.key_result_id = r.Text(2);
  c.id = r.Text(3);
  c.value = r.OptionalDouble(4);
  c.confidence = r.OptionalDouble(5);
  c.note = r.Text(6);
  c.author = r.Text(7);
  c.meta = ReadMeta(r, 8);
  OKR_RETURN_IF_ERROR(r.status());
  return c;
}

// Work item columns start at `first`.
#define OKR_WORK_ITEM_COLUMNS \
  "tracker, item_key, title, url, done, weight, update_time, external_id, source_updated"

absl::StatusOr<WorkItem> ReadWorkItemAt(RowReader& r, int first) {
  WorkItem w;
  const int64_t tracker = r.Int(first);
  w.key = r.Text(first + 1);
  w.title = r.Text(first + 2);
  w.url = r.Text(first + 3);
  w.done = r.Bool(first + 4);
  w.weight = r.Double(first + 5);
  w.update_time = r.Time(first + 6);
  w.external_id = r.Text(first + 7);
  w.source_updated = r.Time(first + 8);
  OKR_RETURN_IF_ERROR(r.status());
  OKR_ASSIGN_OR_RETURN(w.tracker, DecodeEnum(tracker, Tracker::kJira, Tracker::kGitLab, [&] {
                         return absl::StrCat("work item ", Quote(w.key), " tracker");
                       }));
  return w;
}

absl::StatusOr<WorkItem> ReadWorkItem(const Result& res, int row) {
  RowReader r(res, row);
  return ReadWorkItemAt(r, 0);
}

// Links joined with their work item (`l` and `w`).
#define OKR_LINK_SELECT                                                                     \
  "SELECT l.seq, l.objective_id, l.key_result_id, l.id, l.revision, l.create_time, "        \
  "l.update_time, w.tracker, w.item_key, w.title, w.url, w.done, w.weight, w.update_time, " \
  "w.external_id, w.source_updated "                                                        \
  "FROM work_item_links AS l JOIN work_items AS w "                                         \
  "ON w.tracker = l.tracker AND w.item_key = l.item_key "

absl::StatusOr<WorkItemLink> ReadLink(const Result& res, int row) {
  RowReader r(res, row);
  WorkItemLink l;
  l.objective_id = r.Text(1);
  l.key_result_id = r.Text(2);
  l.id = r.Text(3);
  l.meta = ReadMeta(r, 4);
  OKR_ASSIGN_OR_RETURN(l.item, ReadWorkItemAt(r, 7));
  return l;
}

// Reads up to `limit` rows of a query that selected limit + 1 rows.
template <typename T, typename Read>
absl::StatusOr<Page<T>> ReadPage(const Result& res, int limit, Read read) {
  Page<T> page;
  for (int row = 0; row < res.rows(); ++row) {
    if (row >= limit) {
      page.has_more = true;
      break;
    }
    OKR_ASSIGN_OR_RETURN(T item, read(res, row));
    page.items.push_back(std::move(item));
  }
  return page;
}

template <typename T, typename Read>
absl::StatusOr<std::vector<T>> ReadAll(const Result& res, Read read) {
  std::vector<T> items;
  items.reserve(res.rows());
  for (int row = 0; row < res.rows(); ++row) {
    OKR_ASSIGN_OR_RETURN(T item, read(res, row));
    items.push_back(std::move(item));
  }
  return items;
}

absl::Status CheckPage(const PageQuery& page) {
  if (page.limit <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page limit must be positive, got ", page.limit));
  }
  return absl::OkStatus();
}

// $1 = after_seq, $2 = limit + 1 (the paging convention of this file).
Params PageParams(const PageQuery& page) {
  Params p;
  p.Int(page.after_seq).Int(static_cast<int64_t>(page.limit) + 1);
  return p;
}

// --- Transaction -------------------------------------------------------------------------

// Committed cycles served from memory (nearly every call reads one; they rarely change).
// Any replica may change a cycle, so entries are tagged with the cycle epoch (table
// cycle_epoch, bumped by every cycle update and delete in the same transaction) under
// which they were read; every transaction reads the epoch its snapshot sees in its first
// round trip (Begin) and is served only entries of exactly that epoch. A newer epoch
// empties the cache. Only read-only transactions fill it: they see committed data only.
class CycleCache {
 public:
  std::optional<Cycle> Find(const std::string& id, int64_t epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch != epoch_) return std::nullopt;
    auto it = cycles_.find(id);
    if (it == cycles_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const Cycle& cycle, int64_t epoch) {
    absl::MutexLock lock(&mu_);
    if (epoch > epoch_) {
      cycles_.clear();
      epoch_ = epoch;
    }
    if (epoch != epoch_) return;
    if (cycles_.size() < 10000) cycles_.emplace(cycle.id, cycle);
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cycle> cycles_ ABSL_GUARDED_BY(mu_);
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

// One transaction on one connection. Every expected outcome (duplicate, missing row or
// reference, stale revision) is found without raising an SQL error, so the transaction
// stays usable after it; any SQL error poisons the transaction (PostgreSQL has aborted
// it) and is returned by every later call.
class PgTransaction final : public OkrTransaction {
 public:
  // `cycle_epoch`: the cycle epoch this transaction's snapshot sees (-1: unknown, the
  // cache is not used).
  PgTransaction(Connection& conn, bool read_only, CycleCache& cycles, int64_t cycle_epoch)
      : conn_(conn), read_only_(read_only), cycles_(cycles), cycle_epoch_(cycle_epoch) {}

  // The first SQL error, or OK.
  const absl::Status& poisoned() const { return poisoned_; }
  // True if that error was a serialization failure or deadlock (re-run the callback).
  bool retryable() const { return retryable_; }

  // Teams.
  absl::Status InsertTeam(const Team& team) override;
  absl::StatusOr<Team> GetTeam(const std::string& id) override;
  absl::StatusOr<Page<Team>> ListTeams(const std::string& parent_id,
                                       const PageQuery& page) override;
  absl::Status UpdateTeam(const Team& team, int64_t expected_revision) override;
  absl::Status DeleteTeam(const std::string& id, int64_t expected_revision) override;
  // Cycles.
  absl::Status InsertCycle(const Cycle& cycle) override;
  absl::StatusOr<Cycle> GetCycle(const std::string& id) override;
  absl::StatusOr<Page<Cycle>> ListCycles(const PageQuery& page) override;
  absl::Status UpdateCycle(const Cycle& cycle, int64_t expected_revision) override;
  absl::Status DeleteCycle(const std::string& id, int64_t expected_revision) override;
  // Objectives.
  absl::Status InsertObjective(const Objective& objective) override;
  absl::StatusOr<Objective> GetObjective(const std::string& id) override;
  absl::Status UpdateObjective(const Objective& objective, int64_t expected_revision) override;
  absl::Status DeleteObjective(const std::string& id) override;
  absl::StatusOr<Page<Objective>> ListObjectives(const ObjectiveFilter& filter,
                                                 const PageQuery& page) override;
  // Key results.
  absl::Status InsertKeyResult(const KeyResult& kr) override;
  absl::StatusOr<KeyResult> GetKeyResult(const std::string& objective_id,
                                         const std::string& id) override;
  absl::Status UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) override;
  absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id) override;
  absl::StatusOr<Page<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                 const PageQuery& page) override;
  absl::StatusOr<std::vector<KeyResult>> AllKeyResults(const std::string& objective_id) override;
  // Check-ins.
  absl::Status InsertCheckIn(const CheckIn& check_in) override;
  absl::StatusOr<CheckIn> GetCheckIn(const std::string& objective_id,
                                     const std::string& key_result_id,
                                     const std::string& id) override;
  absl::StatusOr<Page<CheckIn>> ListCheckIns(const std::string& objective_id,
                                             const std::string& key_result_id,
                                             const PageQuery& page) override;
  // Work items and links.
  absl::StatusOr<std::optional<WorkItem>> GetWorkItem(Tracker tracker,
                                                      const std::string& key) override;
  absl::Status UpsertWorkItem(const WorkItem& item) override;
  absl::Status InsertWorkItemLink(const WorkItemLink& link) override;
  absl::StatusOr<WorkItemLink> GetWorkItemLink(const std::string& objective_id,
                                               const std::string& key_result_id,
                                               const std::string& id) override;
  absl::StatusOr<WorkItemLink> FindWorkItemLink(const std::string& objective_id,
                                                const std::string& key_result_id, Tracker tracker,
                                                const std::string& key) override;
  absl::Status DeleteWorkItemLink(const std::string& objective_id, const std::string& key_result_id,
                                  const std::string& id) override;
  absl::StatusOr<Page<WorkItemLink>> ListWorkItemLinks(const std::string& objective_id,
                                                       const std::string& key_result_id,
                                                       const PageQuery& page) override;
  absl::StatusOr<std::vector<WorkItemLink>> LinksToWorkItem(Tracker tracker,
                                                            const std::string& key) override;
  absl::StatusOr<WorkItemTotals> ComputeWorkItemTotals(const std::string& objective_id,
                                                       const std::string& key_result_id) override;
  // Tracker sync.
  absl::StatusOr<std::optional<WorkItem>> GetWorkItemByExternalId(
      Tracker tracker, const std::string& external_id) override;
  absl::Status RenameWorkItem(Tracker tracker, const std::string& old_key,
                              const std::string& new_key) override;
  absl::Status DeleteWorkItem(Tracker tracker, const std::string& key) override;
  absl::StatusOr<std::vector<WorkItem>> LinkedWorkItems(Tracker tracker) override;
  absl::Status RecordDelivery(Tracker tracker, const std::string& delivery_id,
                              absl::Time received) override;
  absl::StatusOr<int64_t> PruneDeliveries(absl::Time before) override;
  absl::StatusOr<std::vector<KeyResult>> ScopedKeyResults() override;
  absl::Status EnqueueWriteBack(const std::string& objective_id, const std::string& key_result_id,
                                absl::Time now) override;
  absl::StatusOr<std::vector<WriteBackEntry>> PendingWriteBacks(int limit) override;
  absl::Status CompleteWriteBack(const WriteBackEntry& entry) override;
  absl::StatusOr<std::optional<WriteBackState>> GetWriteBackState(Tracker tracker,
                                                                  const std::string& key) override;
  absl::Status PutWriteBackState(Tracker tracker, const std::string& key,
                                 const WriteBackState& state) override;
  // Events and documents.
  absl::Status AppendEvent(Event& event) override;
  absl::StatusOr<std::vector<Event>> ListEvents(const EventQuery& query) override;
  absl::StatusOr<int64_t> LastEventSequence() override;
  absl::StatusOr<int64_t> PruneEvents(absl::Time before) override;
  absl::Status InsertDocument(const Document& doc) override;
  absl::StatusOr<std::optional<Document>> GetDocument(const std::string& kind,
                                                      const std::string& id) override;
  absl::Status UpdateDocument(const Document& doc, int64_t expected_revision) override;
  absl::Status DeleteDocument(const std::string& kind, const std::string& id) override;
  absl::StatusOr<Page<Document>> ListDocuments(const std::string& kind,
                                               const PageQuery& page) override;
  // Request records.
  absl::StatusOr<std::optional<std::string>> GetRequestRecord(
      const std::string& request_id) override;
  absl::Status PutRequestRecord(const std::string& request_id,
                                const std::string& resource_name) override;

 private:
  // Runs one statement; an SQL error poisons the transaction.
  absl::StatusOr<Result> Query(absl::string_view sql, const Params& params) {
    if (!poisoned_.ok()) return poisoned_;
    absl::StatusOr<Result> result = conn_.Exec(sql, params);
    if (!result.ok() && params.status().ok()) {
      poisoned_ = result.status();
      retryable_ = postgres_internal::IsRetryableSqlState(conn_.last_sqlstate());
    }
    return result;
  }
  absl::StatusOr<int64_t> Modify(absl::string_view sql, const Params& params) {
    OKR_ASSIGN_OR_RETURN(Result r, Query(sql, params));
    return r.affected();
  }
  absl::StatusOr<bool> Exists(absl::string_view sql, const Params& params) {
    OKR_ASSIGN_OR_RETURN(Result r, Query(sql, params));
    return r.rows() > 0;
  }
  // For an update or delete of `table` (teams, cycles) that changed no row: NOT_FOUND,
  // ABORTED for a stale revision, else OK (the caller explains why).
  absl::Status NoRowChanged(absl::string_view table, absl::string_view what, const std::string& id,
                            int64_t expected_revision);
  // Records in this transaction that a cycle changed; stops using the cache.
  absl::Status BumpCycleEpoch();
  absl::Status CheckWritable(absl::string_view method) const {
    if (!read_only_) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(method, " is not allowed in a read-only transaction"));
  }
  absl::StatusOr<bool> KeyResultExists(const std::string& objective_id, const std::string& id) {
    return Exists("SELECT 1 FROM key_results WHERE objective_id = $1 AND id = $2",
                  Params().Text(objective_id).Text(id));
  }
  // Explains why an objective write was refused for its references.
  absl::Status ObjectiveReferenceError(const Objective& o);

  Connection& conn_;
  const bool read_only_;
  CycleCache& cycles_;
  // -1 once this transaction changed a cycle: its own writes are not in the cache.
  int64_t cycle_epoch_;
  absl::Status poisoned_;
  bool retryable_ = false;
  bool events_locked_ = false;  // holds kEventOrderLockKey (AppendEvent)
};

// Teams -----------------------------------------------------------------------------------

absl::Status PgTransaction::InsertTeam(const Team& team) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertTeam"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO teams (id, display_name, parent_id, revision, create_time, "
             "update_time, jira_project_key, gitlab_project) SELECT $1::text, $2::text, "
             "$3::text, $4::bigint, $5::bigint, $6::bigint, $7::text, $8::text WHERE $3::text "
             "IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $3::text) ON CONFLICT DO NOTHING",
             Params()
                 .Text(team.id)
                 .Text(team.display_name)
                 .NullableText(team.parent_id)
                 .Int(team.meta.revision)
                 .Time(team.meta.create_time)
                 .Time(team.meta.update_time)
                 .Text(team.jira_project_key)
                 .Text(team.gitlab_project)));
  if (inserted == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(bool exists,
                       Exists("SELECT 1 FROM teams WHERE id = $1", Params().Text(team.id)));
  if (exists) {
    return absl::AlreadyExistsError(absl::StrCat("team ", Quote(team.id), " already exists"));
  }
  return absl::FailedPreconditionError(absl::StrCat("team ", Quote(team.id), ": parent team ",
                                                    Quote(team.parent_id), " does not exist"));
}

absl::StatusOr<Team> PgTransaction::GetTeam(const std::string& id) {
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_TEAM_COLUMNS " FROM teams WHERE id = $1", Params().Text(id)));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("team ", Quote(id), " not found"));
  return ReadTeam(r, 0);
}

absl::Status PgTransaction::NoRowChanged(absl::string_view table, absl::string_view what,
                                         const std::string& id, int64_t expected_revision) {
  OKR_ASSIGN_OR_RETURN(
      Result r,
      Query(absl::StrCat("SELECT revision FROM ", table, " WHERE id = $1"), Params().Text(id)));
  const std::string label = absl::StrCat(what, " ", Quote(id));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat(label, " not found"));
  const std::string revision = r.Text(0, 0);
  if (revision != absl::StrCat(expected_revision)) {
    return absl::AbortedError(absl::StrCat(label, " was modified concurrently: revision is ",
                                           revision, ", expected ", expected_revision));
  }
  return absl::OkStatus();
}

absl::Status PgTransaction::UpdateTeam(const Team& team, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateTeam"));
  OKR_ASSIGN_OR_RETURN(
      int64_t updated,
      Modify("UPDATE teams SET display_name = $2, parent_id = $3, revision = $4, "
             "create_time = $5, update_time = $6, jira_project_key = $7, gitlab_project = $8 "
             "WHERE id = $1 AND revision = $9 AND ($3::text IS NULL OR "
             "EXISTS (SELECT 1 FROM teams AS p WHERE p.id = $3::text))",
             Params()
                 .Text(team.id)
                 .Text(team.display_name)
                 .NullableText(team.parent_id)
                 .Int(team.meta.revision)
                 .Time(team.meta.create_time)
                 .Time(team.meta.update_time)
                 .Text(team.jira_project_key)
                 .Text(team.gitlab_project)
                 .Int(expected_revision)));
  if (updated == 1) return absl::OkStatus();
  OKR_RETURN_IF_ERROR(NoRowChanged("teams", "team", team.id, expected_revision));
  return absl::FailedPreconditionError(absl::StrCat("team ", Quote(team.id), ": parent team ",
                                                    Quote(team.parent_id), " does not exist"));
}

absl::Status PgTransaction::DeleteTeam(const std::string& id, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteTeam"));
  OKR_ASSIGN_OR_RETURN(Result objective, Query("SELECT id FROM objectives WHERE team_id = $1 "
                                               "ORDER BY seq LIMIT 1",
                                               Params().Text(id)));
  if (objective.rows() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "team ", Quote(id), " is the team of objective ", Quote(objective.Text(0, 0))));
  }
  OKR_ASSIGN_OR_RETURN(
      Result child,
      Query("SELECT id FROM teams WHERE parent_id = $1 ORDER BY seq LIMIT 1", Params().Text(id)));
  if (child.rows() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("team ", Quote(id), " is the parent of team ", Quote(child.Text(0, 0))));
  }
  OKR_ASSIGN_OR_RETURN(int64_t deleted, Modify("DELETE FROM teams WHERE id = $1 AND revision = $2",
                                               Params().Text(id).Int(expected_revision)));
  if (deleted == 1) return absl::OkStatus();
  return NoRowChanged("teams", "team", id, expected_revision);
}

absl::StatusOr<Page<Team>> PgTransaction::ListTeams(const std::string& parent_id,
                                                    const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  Params p = PageParams(page);
  absl::string_view sql =
      "SELECT " OKR_TEAM_COLUMNS " FROM teams WHERE seq > $1 ORDER BY seq LIMIT $2";
  if (!parent_id.empty()) {
    sql = "SELECT " OKR_TEAM_COLUMNS
          " FROM teams WHERE seq > $1 AND parent_id = $3 ORDER BY seq LIMIT $2";
    p.Text(parent_id);
  }
  OKR_ASSIGN_OR_RETURN(Result r, Query(sql, p));
  return ReadPage<Team>(r, page.limit, ReadTeam);
}

// Cycles ----------------------------------------------------------------------------------

absl::Status PgTransaction::InsertCycle(const Cycle& cycle) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertCycle"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO cycles (id, display_name, start_time, end_time, revision, "
             "create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7) "
             "ON CONFLICT DO NOTHING",
             Params()
                 .Text(cycle.id)
                 .Text(cycle.display_name)
                 .Time(cycle.start_time)
                 .Time(cycle.end_time)
                 .Int(cycle.meta.revision)
                 .Time(cycle.meta.create_time)
                 .Time(cycle.meta.update_time)));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat("cycle ", Quote(cycle.id), " already exists"));
}

absl::StatusOr<Cycle> PgTransaction::GetCycle(const std::string& id) {
  if (cycle_epoch_ >= 0) {
    if (std::optional<Cycle> cached = cycles_.Find(id, cycle_epoch_); cached.has_value()) {
      return *cached;
    }
  }
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_CYCLE_COLUMNS " FROM cycles WHERE id = $1", Params().Text(id)));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("cycle ", Quote(id), " not found"));
  OKR_ASSIGN_OR_RETURN(Cycle cycle, ReadCycle(r, 0));
  if (read_only_ && cycle_epoch_ >= 0) cycles_.Put(cycle, cycle_epoch_);
  return cycle;
}

absl::Status PgTransaction::BumpCycleEpoch() {
  cycle_epoch_ = -1;
  return Modify("UPDATE cycle_epoch SET epoch = epoch + 1 WHERE id = 1", Params()).status();
}

absl::Status PgTransaction::UpdateCycle(const Cycle& cycle, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateCycle"));
  OKR_ASSIGN_OR_RETURN(int64_t updated,
                       Modify("UPDATE cycles SET display_name = $2, start_time = $3, "
                              "end_time = $4, revision = $5, create_time = $6, update_time = $7 "
                              "WHERE id = $1 AND revision = $8",
                              Params()
                                  .Text(cycle.id)
                                  .Text(cycle.display_name)
                                  .Time(cycle.start_time)
                                  .Time(cycle.end_time)
                                  .Int(cycle.meta.revision)
                                  .Time(cycle.meta.create_time)
                                  .Time(cycle.meta.update_time)
                                  .Int(expected_revision)));
  if (updated == 1) return BumpCycleEpoch();
  return NoRowChanged("cycles", "cycle", cycle.id, expected_revision);
}

absl::Status PgTransaction::DeleteCycle(const std::string& id, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteCycle"));
  OKR_ASSIGN_OR_RETURN(Result used, Query("SELECT id FROM objectives WHERE cycle_id = $1 "
                                          "ORDER BY seq LIMIT 1",
                                          Params().Text(id)));
  if (used.rows() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cycle ", Quote(id), " is the cycle of objective ", Quote(used.Text(0, 0))));
  }
  OKR_ASSIGN_OR_RETURN(int64_t deleted, Modify("DELETE FROM cycles WHERE id = $1 AND revision = $2",
                                               Params().Text(id).Int(expected_revision)));
  if (deleted == 1) return BumpCycleEpoch();
  return NoRowChanged("cycles", "cycle", id, expected_revision);
}

absl::StatusOr<Page<Cycle>> PgTransaction::ListCycles(const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT " OKR_CYCLE_COLUMNS
                                       " FROM cycles WHERE seq > $1 ORDER BY seq LIMIT $2",
                                       PageParams(page)));
  return ReadPage<Cycle>(r, page.limit, ReadCycle);
}

// Objectives ------------------------------------------------------------------------------

absl::Status PgTransaction::ObjectiveReferenceError(const Objective& o) {
  std::string label = absl::StrCat("objective ", Quote(o.id));
  OKR_ASSIGN_OR_RETURN(bool team,
                       Exists("SELECT 1 FROM teams WHERE id = $1", Params().Text(o.team_id)));
  if (!team) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, ": team ", Quote(o.team_id), " does not exist"));
  }
  OKR_ASSIGN_OR_RETURN(bool cycle,
                       Exists("SELECT 1 FROM cycles WHERE id = $1", Params().Text(o.cycle_id)));
  if (!cycle) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, ": cycle ", Quote(o.cycle_id), " does not exist"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(label, ": parent objective ", Quote(o.parent_id), " does not exist"));
}

// $1 id, $2..$22 fields, in the column order of the INSERT and UPDATE below.
Params ObjectiveParams(const Objective& o) {
  Params p;
  p.Text(o.id)
      .Text(o.title)
      .Text(o.description)
      .Text(o.team_id)
      .Text(o.cycle_id)
      .NullableText(o.parent_id)
      .Int(static_cast<int>(o.kind))
      .Int(static_cast<int>(o.state))
      .Double(o.progress)
      .Int(o.meta.revision)
      .Time(o.meta.create_time)
      .Time(o.meta.update_time)
      .Int(static_cast<int>(o.progress_source))
      .Double(o.weight)
      .Text(JoinLines(o.contributes_to))
      .Text(JoinLines(o.depends_on))
      .Text(EncodeAgreements(o.agreements))
      .Text(o.reopen_reason)
      .Text(o.carried_over_from)
      .Double(o.score)
      .Bool(o.scored)
      .Int(static_cast<int>(o.outcome));
  return p;
}

absl::Status CheckObjectiveEnums(const Objective& o) {
  if (!InRange(o.kind, ObjectiveKind::kCommitted, ObjectiveKind::kAspirational) ||
      !InRange(o.state, ObjectiveState::kDraft, ObjectiveState::kClosed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("objective ", Quote(o.id), " has an invalid kind or state"));
  }
  return absl::OkStatus();
}

absl::Status PgTransaction::InsertObjective(const Objective& o) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertObjective"));
  OKR_RETURN_IF_ERROR(CheckObjectiveEnums(o));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO objectives (id, title, description, team_id, cycle_id, parent_id, "
             "kind, state, progress, revision, create_time, update_time, progress_source, "
             "weight, contributes_to, depends_on, agreements, reopen_reason, "
             "carried_over_from, score, scored, outcome) "
             "SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::integer, "
             "$8::integer, $9::float8, $10::bigint, $11::bigint, $12::bigint, $13::integer, "
             "$14::float8, $15::text, $16::text, $17::text, $18::text, $19::text, $20::float8, "
             "$21::boolean, $22::integer "
             "WHERE EXISTS (SELECT 1 FROM teams WHERE id = $4::text) "
             "AND EXISTS (SELECT 1 FROM cycles WHERE id = $5::text) "
             "AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM objectives WHERE id = $6::text)) "
             "ON CONFLICT DO NOTHING",
             ObjectiveParams(o)));
  if (inserted == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(bool exists,
                       Exists("SELECT 1 FROM objectives WHERE id = $1", Params().Text(o.id)));
  if (exists) {
    return absl::AlreadyExistsError(absl::StrCat("objective ", Quote(o.id), " already exists"));
  }
  return ObjectiveReferenceError(o);
}

absl::StatusOr<Objective> PgTransaction::GetObjective(const std::string& id) {
  OKR_ASSIGN_OR_RETURN(
      Result r,
      Query("SELECT " OKR_OBJECTIVE_COLUMNS " FROM objectives WHERE id = $1", Params().Text(id)));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("objective ", Quote(id), " not found"));
  }
  return ReadObjective(r, 0);
}

absl::Status PgTransaction::UpdateObjective(const Objective& o, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateObjective"));
  OKR_RETURN_IF_ERROR(CheckObjectiveEnums(o));
  Params p = ObjectiveParams(o);
  p.Int(expected_revision);
  OKR_ASSIGN_OR_RETURN(
      int64_t updated,
      Modify("UPDATE objectives SET title = $2, description = $3, team_id = $4, "
             "cycle_id = $5, parent_id = $6, kind = $7, state = $8, progress = $9, "
             "revision = $10, create_time = $11, update_time = $12, progress_source = $13, "
             "weight = $14, contributes_to = $15, depends_on = $16, agreements = $17, "
             "reopen_reason = $18, carried_over_from = $19, score = $20, scored = $21, "
             "outcome = $22 WHERE id = $1 AND revision = $23 "
             "AND EXISTS (SELECT 1 FROM teams WHERE id = $4) "
             "AND EXISTS (SELECT 1 FROM cycles WHERE id = $5) "
             "AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM objectives AS p WHERE p.id = $6))",
             p));
  if (updated == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(Result r,
                       Query("SELECT revision FROM objectives WHERE id = $1", Params().Text(o.id)));
  std::string label = absl::StrCat("objective ", Quote(o.id));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat(label, " not found"));
  std::string revision = r.Text(0, 0);
  if (revision != absl::StrCat(expected_revision)) {
    return absl::AbortedError(absl::StrCat(label, " was modified concurrently: revision is ",
                                           revision, ", expected ", expected_revision));
  }
  return ObjectiveReferenceError(o);
}

absl::Status PgTransaction::DeleteObjective(const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteObjective"));
  OKR_ASSIGN_OR_RETURN(int64_t deleted,
                       Modify("DELETE FROM objectives WHERE id = $1", Params().Text(id)));
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat("objective ", Quote(id), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<Objective>> PgTransaction::ListObjectives(const ObjectiveFilter& filter,
                                                              const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  // One prepared statement per combination of filters, so each can use its index.
  Params p = PageParams(page);
  std::string sql = "SELECT " OKR_OBJECTIVE_COLUMNS " FROM objectives WHERE seq > $1";
  auto add = [&](absl::string_view column, const std::string& value) {
    if (value.empty()) return;
    p.Text(value);
    absl::StrAppend(&sql, " AND ", column, " = $", p.size());
  };
  add("team_id", filter.team_id);
  add("cycle_id", filter.cycle_id);
  add("parent_id", filter.parent_id);
  absl::StrAppend(&sql, " ORDER BY seq LIMIT $2");
  OKR_ASSIGN_OR_RETURN(Result r, Query(sql, p));
  return ReadPage<Objective>(r, page.limit, ReadObjective);
}

// Key results -----------------------------------------------------------------------------

// $1 objective_id, $2 id, $3..$26 fields, in the column order of the INSERT below.
Params KeyResultParams(const KeyResult& kr) {
  Params p;
  p.Text(kr.objective_id)
      .Text(kr.id)
      .Text(kr.title)
      .Double(kr.weight)
      .Int(static_cast<int>(kr.type))
      .Double(kr.metric.start_value)
      .Double(kr.metric.target_value)
      .Double(kr.metric.current_value)
      .Text(kr.metric.unit)
      .Bool(kr.milestone_done)
      .Int(kr.totals.item_count)
      .Int(kr.totals.done_count)
      .Double(kr.totals.total_weight)
      .Double(kr.totals.done_weight)
      .Double(kr.progress)
      .Double(kr.raw_progress)
      .Int(kr.meta.revision)
      .Time(kr.meta.create_time)
      .Time(kr.meta.update_time)
      .Text(kr.metric_key)
      .Text(kr.jira_jql)
      .Text(kr.gitlab_project)
      .Text(JoinLines(kr.gitlab_labels))
      .Text(kr.gitlab_milestone)
      .OptionalDouble(kr.score)
      .Text(kr.score_reason);
  return p;
}

absl::Status CheckKeyResultType(const KeyResult& kr) {
  if (!InRange(kr.type, KeyResultType::kMetric, KeyResultType::kWorkItems)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " has an invalid type"));
  }
  return absl::OkStatus();
}

absl::Status PgTransaction::InsertKeyResult(const KeyResult& kr) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertKeyResult"));
  OKR_RETURN_IF_ERROR(CheckKeyResultType(kr));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO key_results (objective_id, id, title, weight, type, metric_start, "
             "metric_target, metric_current, metric_unit, milestone_done, item_count, "
             "done_count, total_weight, done_weight, progress, raw_progress, revision, "
             "create_time, update_time, metric_key, jira_jql, gitlab_project, gitlab_labels, "
             "gitlab_milestone, score, score_reason) "
             "SELECT $1::text, $2::text, $3::text, $4::float8, $5::integer, $6::float8, "
             "$7::float8, $8::float8, $9::text, $10::boolean, $11::bigint, $12::bigint, "
             "$13::float8, $14::float8, $15::float8, $16::float8, $17::bigint, $18::bigint, "
             "$19::bigint, $20::text, $21::text, $22::text, $23::text, $24::text, $25::float8, "
             "$26::text WHERE EXISTS (SELECT 1 FROM objectives WHERE id = $1::text) "
             "ON CONFLICT DO NOTHING",
             KeyResultParams(kr)));
  if (inserted == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(bool exists, KeyResultExists(kr.objective_id, kr.id));
  if (exists) {
    return absl::AlreadyExistsError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " already exists"));
  }
  return absl::NotFoundError(absl::StrCat("objective ", Quote(kr.objective_id), " not found"));
}

absl::StatusOr<KeyResult> PgTransaction::GetKeyResult(const std::string& objective_id,
                                                      const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT " OKR_KEY_RESULT_COLUMNS
                                       " FROM key_results WHERE objective_id = $1 AND id = $2",
                                       Params().Text(objective_id).Text(id)));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, id), " not found"));
  }
  return ReadKeyResult(r, 0);
}

absl::Status PgTransaction::UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateKeyResult"));
  OKR_RETURN_IF_ERROR(CheckKeyResultType(kr));
  Params p = KeyResultParams(kr);
  p.Int(expected_revision);
  OKR_ASSIGN_OR_RETURN(
      int64_t updated,
      Modify("UPDATE key_results SET title = $3, weight = $4, type = $5, metric_start = $6, "
             "metric_target = $7, metric_current = $8, metric_unit = $9, "
             "milestone_done = $10, item_count = $11, done_count = $12, "
             "total_weight = $13, done_weight = $14, progress = $15, raw_progress = $16, "
             "revision = $17, create_time = $18, update_time = $19, metric_key = $20, "
             "jira_jql = $21, gitlab_project = $22, gitlab_labels = $23, "
             "gitlab_milestone = $24, score = $25, score_reason = $26 "
             "WHERE objective_id = $1 AND id = $2 AND revision = $27",
             p));
  if (updated == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(Result r,
                       Query("SELECT revision FROM key_results WHERE objective_id = $1 AND id = $2",
                             Params().Text(kr.objective_id).Text(kr.id)));
  std::string label = KeyResultLabel(kr.objective_id, kr.id);
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat(label, " not found"));
  return absl::AbortedError(absl::StrCat(label, " was modified concurrently: revision is ",
                                         r.Text(0, 0), ", expected ", expected_revision));
}

absl::Status PgTransaction::DeleteKeyResult(const std::string& objective_id,
                                            const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteKeyResult"));
  OKR_ASSIGN_OR_RETURN(int64_t deleted,
                       Modify("DELETE FROM key_results WHERE objective_id = $1 AND id = $2",
                              Params().Text(objective_id).Text(id)));
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, id), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<KeyResult>> PgTransaction::ListKeyResults(const std::string& objective_id,
                                                              const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  Params p = PageParams(page);
  p.Text(objective_id);
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_KEY_RESULT_COLUMNS " FROM key_results WHERE objective_id = $3 "
                      "AND seq > $1 ORDER BY seq LIMIT $2",
                      p));
  return ReadPage<KeyResult>(r, page.limit, ReadKeyResult);
}

absl::StatusOr<std::vector<KeyResult>> PgTransaction::AllKeyResults(
    const std::string& objective_id) {
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT " OKR_KEY_RESULT_COLUMNS
                                       " FROM key_results WHERE objective_id = $1 ORDER BY seq",
                                       Params().Text(objective_id)));
  return ReadAll<KeyResult>(r, ReadKeyResult);
}

// Check-ins -------------------------------------------------------------------------------

absl::Status PgTransaction::InsertCheckIn(const CheckIn& c) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertCheckIn"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO check_ins (objective_id, key_result_id, id, value, confidence, "
             "note, author, revision, create_time, update_time) "
             "SELECT $1::text, $2::text, $3::text, $4::float8, $5::float8, $6::text, $7::text, "
             "$8::bigint, $9::bigint, $10::bigint WHERE EXISTS (SELECT 1 FROM key_results "
             "WHERE objective_id = $1::text AND id = $2::text) ON CONFLICT DO NOTHING",
             Params()
                 .Text(c.objective_id)
                 .Text(c.key_result_id)
                 .Text(c.id)
                 .OptionalDouble(c.value)
                 .OptionalDouble(c.confidence)
                 .Text(c.note)
                 .Text(c.author)
                 .Int(c.meta.revision)
                 .Time(c.meta.create_time)
                 .Time(c.meta.update_time)));
  if (inserted == 1) return absl::OkStatus();
  const std::string kr_label = KeyResultLabel(c.objective_id, c.key_result_id);
  OKR_ASSIGN_OR_RETURN(bool exists,
                       Exists("SELECT 1 FROM check_ins WHERE objective_id = $1 AND "
                              "key_result_id = $2 AND id = $3",
                              Params().Text(c.objective_id).Text(c.key_result_id).Text(c.id)));
  if (exists) {
    return absl::AlreadyExistsError(
        absl::StrCat("check-in ", Quote(c.id), " of ", kr_label, " already exists"));
  }
  return absl::NotFoundError(absl::StrCat(kr_label, " not found"));
}

absl::StatusOr<CheckIn> PgTransaction::GetCheckIn(const std::string& objective_id,
                                                  const std::string& key_result_id,
                                                  const std::string& id) {
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_CHECK_IN_COLUMNS " FROM check_ins WHERE objective_id = $1 AND "
                      "key_result_id = $2 AND id = $3",
                      Params().Text(objective_id).Text(key_result_id).Text(id)));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat(
        "check-in ", Quote(id), " of ", KeyResultLabel(objective_id, key_result_id), " not found"));
  }
  return ReadCheckIn(r, 0);
}

absl::StatusOr<Page<CheckIn>> PgTransaction::ListCheckIns(const std::string& objective_id,
                                                          const std::string& key_result_id,
                                                          const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  Params p = PageParams(page);
  p.Text(objective_id).Text(key_result_id);
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_CHECK_IN_COLUMNS " FROM check_ins WHERE objective_id = $3 AND "
                      "key_result_id = $4 AND seq > $1 ORDER BY seq LIMIT $2",
                      p));
  return ReadPage<CheckIn>(r, page.limit, ReadCheckIn);
}

// Work items ------------------------------------------------------------------------------

absl::StatusOr<std::optional<WorkItem>> PgTransaction::GetWorkItem(Tracker tracker,
                                                                   const std::string& key) {
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT " OKR_WORK_ITEM_COLUMNS
                                       " FROM work_items WHERE tracker = $1 AND item_key = $2",
                                       Params().Int(static_cast<int>(tracker)).Text(key)));
  if (r.rows() == 0) return std::optional<WorkItem>();
  OKR_ASSIGN_OR_RETURN(WorkItem item, ReadWorkItem(r, 0));
  return std::optional<WorkItem>(std::move(item));
}

absl::Status PgTransaction::UpsertWorkItem(const WorkItem& item) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpsertWorkItem"));
  OKR_RETURN_IF_ERROR(CheckTracker(item.tracker));
  // An external id belonging to another item refuses the write (instead of violating the
  // unique index, which would abort the transaction).
  OKR_ASSIGN_OR_RETURN(
      int64_t written,
      Modify("INSERT INTO work_items (tracker, item_key, title, url, done, weight, update_time, "
             "external_id, source_updated) "
             "SELECT $1::integer, $2::text, $3::text, $4::text, $5::boolean, $6::float8, "
             "$7::bigint, $8::text, $9::bigint WHERE $8::text IS NULL OR NOT EXISTS "
             "(SELECT 1 FROM work_items WHERE tracker = $1::integer AND external_id = $8::text "
             "AND item_key <> $2::text) "
             "ON CONFLICT (tracker, item_key) DO UPDATE SET title = excluded.title, "
             "url = excluded.url, done = excluded.done, weight = excluded.weight, "
             "update_time = excluded.update_time, external_id = excluded.external_id, "
             "source_updated = excluded.source_updated",
             Params()
                 .Int(static_cast<int>(item.tracker))
                 .Text(item.key)
                 .Text(item.title)
                 .Text(item.url)
                 .Bool(item.done)
                 .Double(item.weight)
                 .Time(item.update_time)
                 .NullableText(item.external_id)
                 .Time(item.source_updated)));
  if (written == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(WorkItemLabel(item.tracker, item.key),
                                               ": external id ", Quote(item.external_id),
                                               " belongs to another item"));
}

// Work item links -------------------------------------------------------------------------

absl::Status PgTransaction::InsertWorkItemLink(const WorkItemLink& link) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertWorkItemLink"));
  OKR_RETURN_IF_ERROR(CheckTracker(link.item.tracker));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO work_item_links (objective_id, key_result_id, id, tracker, item_key, "
             "revision, create_time, update_time) "
             "SELECT $1::text, $2::text, $3::text, $4::integer, $5::text, $6::bigint, "
             "$7::bigint, $8::bigint "
             "WHERE EXISTS (SELECT 1 FROM key_results WHERE objective_id = $1::text AND "
             "id = $2::text) AND EXISTS (SELECT 1 FROM work_items WHERE tracker = $4::integer "
             "AND item_key = $5::text) ON CONFLICT DO NOTHING",
             Params()
                 .Text(link.objective_id)
                 .Text(link.key_result_id)
                 .Text(link.id)
                 .Int(static_cast<int>(link.item.tracker))
                 .Text(link.item.key)
                 .Int(link.meta.revision)
                 .Time(link.meta.create_time)
                 .Time(link.meta.update_time)));
  if (inserted == 1) return absl::OkStatus();
  const std::string kr_label = KeyResultLabel(link.objective_id, link.key_result_id);
  OKR_ASSIGN_OR_RETURN(
      bool same_id,
      Exists("SELECT 1 FROM work_item_links WHERE objective_id = $1 AND key_result_id = $2 "
             "AND id = $3",
             Params().Text(link.objective_id).Text(link.key_result_id).Text(link.id)));
  if (same_id) {
    return absl::AlreadyExistsError(
        absl::StrCat("work item link ", Quote(link.id), " of ", kr_label, " already exists"));
  }
  OKR_ASSIGN_OR_RETURN(
      bool same_item,
      Exists("SELECT 1 FROM work_item_links WHERE objective_id = $1 AND key_result_id = $2 "
             "AND tracker = $3 AND item_key = $4",
             Params()
                 .Text(link.objective_id)
                 .Text(link.key_result_id)
                 .Int(static_cast<int>(link.item.tracker))
                 .Text(link.item.key)));
  if (same_item) {
    return absl::AlreadyExistsError(absl::StrCat(kr_label, " is already linked to ",
                                                 WorkItemLabel(link.item.tracker, link.item.key)));
  }
  OKR_ASSIGN_OR_RETURN(bool kr, KeyResultExists(link.objective_id, link.key_result_id));
  if (!kr) return absl::NotFoundError(absl::StrCat(kr_label, " not found"));
  return absl::FailedPreconditionError(absl::StrCat(WorkItemLabel(link.item.tracker, link.item.key),
                                                    " does not exist; upsert it before linking"));
}

absl::StatusOr<WorkItemLink> PgTransaction::GetWorkItemLink(const std::string& objective_id,
                                                            const std::string& key_result_id,
                                                            const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Result r, Query(OKR_LINK_SELECT "WHERE l.objective_id = $1 AND "
                                                       "l.key_result_id = $2 AND l.id = $3",
                                       Params().Text(objective_id).Text(key_result_id).Text(id)));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("work item link ", Quote(id), " of ",
                                            KeyResultLabel(objective_id, key_result_id),
                                            " not found"));
  }
  return ReadLink(r, 0);
}

absl::StatusOr<WorkItemLink> PgTransaction::FindWorkItemLink(const std::string& objective_id,
                                                             const std::string& key_result_id,
                                                             Tracker tracker,
                                                             const std::string& key) {
  OKR_ASSIGN_OR_RETURN(
      Result r, Query(OKR_LINK_SELECT "WHERE l.objective_id = $1 AND l.key_result_id = $2 AND "
                                      "l.tracker = $3 AND l.item_key = $4",
                      Params()
                          .Text(objective_id)
                          .Text(key_result_id)
                          .Int(static_cast<int>(tracker))
                          .Text(key)));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, key_result_id),
                                            " has no link to ", WorkItemLabel(tracker, key)));
  }
  return ReadLink(r, 0);
}

absl::Status PgTransaction::DeleteWorkItemLink(const std::string& objective_id,
                                               const std::string& key_result_id,
                                               const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWorkItemLink"));
  OKR_ASSIGN_OR_RETURN(int64_t deleted,
                       Modify("DELETE FROM work_item_links WHERE objective_id = $1 AND "
                              "key_result_id = $2 AND id = $3",
                              Params().Text(objective_id).Text(key_result_id).Text(id)));
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat("work item link ", Quote(id), " of ",
                                            KeyResultLabel(objective_id, key_result_id),
                                            " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<WorkItemLink>> PgTransaction::ListWorkItemLinks(
    const std::string& objective_id, const std::string& key_result_id, const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  Params p = PageParams(page);
  p.Text(objective_id).Text(key_result_id);
  OKR_ASSIGN_OR_RETURN(Result r,
                       Query(OKR_LINK_SELECT "WHERE l.objective_id = $3 AND l.key_result_id = $4 "
                                             "AND l.seq > $1 ORDER BY l.seq LIMIT $2",
                             p));
  return ReadPage<WorkItemLink>(r, page.limit, ReadLink);
}

absl::StatusOr<std::vector<WorkItemLink>> PgTransaction::LinksToWorkItem(Tracker tracker,
                                                                         const std::string& key) {
  OKR_ASSIGN_OR_RETURN(
      Result r, Query(OKR_LINK_SELECT "WHERE l.tracker = $1 AND l.item_key = $2 ORDER BY l.seq",
                      Params().Int(static_cast<int>(tracker)).Text(key)));
  return ReadAll<WorkItemLink>(r, ReadLink);
}

absl::StatusOr<WorkItemTotals> PgTransaction::ComputeWorkItemTotals(
    const std::string& objective_id, const std::string& key_result_id) {
  OKR_ASSIGN_OR_RETURN(
      Result r,
      Query("SELECT COUNT(*), COUNT(*) FILTER (WHERE w.done), COALESCE(SUM(w.weight), 0), "
            "COALESCE(SUM(w.weight) FILTER (WHERE w.done), 0) "
            "FROM work_item_links AS l JOIN work_items AS w "
            "ON w.tracker = l.tracker AND w.item_key = l.item_key "
            "WHERE l.objective_id = $1 AND l.key_result_id = $2",
            Params().Text(objective_id).Text(key_result_id)));
  WorkItemTotals totals;
  if (r.rows() == 0) return totals;
  RowReader row(r, 0);
  totals.item_count = row.Int(0);
  totals.done_count = row.Int(1);
  totals.total_weight = row.Double(2);
  totals.done_weight = row.Double(3);
  OKR_RETURN_IF_ERROR(row.status());
  return totals;
}

// Request records -------------------------------------------------------------------------

absl::StatusOr<std::optional<std::string>> PgTransaction::GetRequestRecord(
    const std::string& request_id) {
  OKR_ASSIGN_OR_RETURN(Result r,
                       Query("SELECT resource_name FROM request_records WHERE request_id = $1",
                             Params().Text(request_id)));
  if (r.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

absl::Status PgTransaction::PutRequestRecord(const std::string& request_id,
                                             const std::string& resource_name) {
  OKR_RETURN_IF_ERROR(CheckWritable("PutRequestRecord"));
  OKR_ASSIGN_OR_RETURN(int64_t inserted,
                       Modify("INSERT INTO request_records (request_id, resource_name, "
                              "create_time) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                              Params().Text(request_id).Text(resource_name).Time(absl::Now())));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat("request ", Quote(request_id), " is already recorded"));
}

// Tracker sync ----------------------------------------------------------------------------

absl::StatusOr<std::optional<WorkItem>> PgTransaction::GetWorkItemByExternalId(
    Tracker tracker, const std::string& external_id) {
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT " OKR_WORK_ITEM_COLUMNS
                                       " FROM work_items WHERE tracker = $1 AND external_id = $2",
                                       Params().Int(static_cast<int>(tracker)).Text(external_id)));
  if (r.rows() == 0) return std::optional<WorkItem>();
  OKR_ASSIGN_OR_RETURN(WorkItem item, ReadWorkItem(r, 0));
  return std::optional<WorkItem>(std::move(item));
}

absl::Status PgTransaction::RenameWorkItem(Tracker tracker, const std::string& old_key,
                                           const std::string& new_key) {
  OKR_RETURN_IF_ERROR(CheckWritable("RenameWorkItem"));
  OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> item, GetWorkItem(tracker, old_key));
  if (!item.has_value()) {
    return absl::NotFoundError(absl::StrCat(WorkItemLabel(tracker, old_key), " not found"));
  }
  OKR_ASSIGN_OR_RETURN(bool taken,
                       Exists("SELECT 1 FROM work_items WHERE tracker = $1 AND item_key = $2",
                              Params().Int(static_cast<int>(tracker)).Text(new_key)));
  if (taken) {
    return absl::AlreadyExistsError(
        absl::StrCat(WorkItemLabel(tracker, new_key), " already exists"));
  }
  // Links reference (tracker, item_key): insert the new row, move the links, drop the old.
  WorkItem renamed = *item;
  renamed.key = new_key;
  renamed.external_id.clear();  // unique per tracker: set again below, after the old row goes
  OKR_RETURN_IF_ERROR(UpsertWorkItem(renamed));
  for (absl::string_view sql :
       {"UPDATE work_item_links SET item_key = $3 WHERE tracker = $1 AND item_key = $2",
        "UPDATE writeback_state SET item_key = $3 WHERE tracker = $1 AND item_key = $2"}) {
    OKR_RETURN_IF_ERROR(
        Modify(sql, Params().Int(static_cast<int>(tracker)).Text(old_key).Text(new_key)).status());
  }
  OKR_RETURN_IF_ERROR(Modify("DELETE FROM work_items WHERE tracker = $1 AND item_key = $2",
                             Params().Int(static_cast<int>(tracker)).Text(old_key))
                          .status());
  renamed.external_id = item->external_id;
  return UpsertWorkItem(renamed);
}

absl::Status PgTransaction::DeleteWorkItem(Tracker tracker, const std::string& key) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWorkItem"));
  int64_t deleted = 0;
  for (absl::string_view sql : {"DELETE FROM work_item_links WHERE tracker = $1 AND item_key = $2",
                                "DELETE FROM writeback_state WHERE tracker = $1 AND item_key = $2",
                                "DELETE FROM work_items WHERE tracker = $1 AND item_key = $2"}) {
    OKR_ASSIGN_OR_RETURN(deleted, Modify(sql, Params().Int(static_cast<int>(tracker)).Text(key)));
  }
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat(WorkItemLabel(tracker, key), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WorkItem>> PgTransaction::LinkedWorkItems(Tracker tracker) {
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's collation.
  OKR_ASSIGN_OR_RETURN(Result r,
                       Query("SELECT " OKR_WORK_ITEM_COLUMNS " FROM work_items AS w "
                             "WHERE tracker = $1 AND EXISTS (SELECT 1 FROM work_item_links AS l "
                             "WHERE l.tracker = w.tracker AND l.item_key = w.item_key) "
                             "ORDER BY item_key COLLATE \"C\"",
                             Params().Int(static_cast<int>(tracker))));
  return ReadAll<WorkItem>(r, ReadWorkItem);
}

absl::Status PgTransaction::RecordDelivery(Tracker tracker, const std::string& delivery_id,
                                           absl::Time received) {
  OKR_RETURN_IF_ERROR(CheckWritable("RecordDelivery"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      Modify("INSERT INTO webhook_deliveries (tracker, delivery_id, received) "
             "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
             Params().Int(static_cast<int>(tracker)).Text(delivery_id).Time(received)));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat("delivery ", Quote(delivery_id), " of ",
                                               TrackerName(tracker), " was seen before"));
}

absl::StatusOr<int64_t> PgTransaction::PruneDeliveries(absl::Time before) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneDeliveries"));
  return Modify("DELETE FROM webhook_deliveries WHERE received < $1", Params().Time(before));
}

absl::StatusOr<std::vector<KeyResult>> PgTransaction::ScopedKeyResults() {
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_KEY_RESULT_COLUMNS " FROM key_results WHERE type = 3 AND "
                      "(jira_jql <> '' OR gitlab_project <> '') ORDER BY seq",
                      Params()));
  return ReadAll<KeyResult>(r, ReadKeyResult);
}

absl::Status PgTransaction::EnqueueWriteBack(const std::string& objective_id,
                                             const std::string& key_result_id, absl::Time now) {
  OKR_RETURN_IF_ERROR(CheckWritable("EnqueueWriteBack"));
  return Modify(
             "INSERT INTO writeback_queue (objective_id, key_result_id, since, generation) "
             "VALUES ($1, $2, $3, 1) ON CONFLICT (objective_id, key_result_id) "
             "DO UPDATE SET generation = writeback_queue.generation + 1",
             Params().Text(objective_id).Text(key_result_id).Time(now))
      .status();
}

absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> PgTransaction::PendingWriteBacks(
    int limit) {
  Params p;
  if (limit < 0) {
    p.Null();  // LIMIT NULL: no limit (as SQLite's negative LIMIT)
  } else {
    p.Int(limit);
  }
  OKR_ASSIGN_OR_RETURN(Result r,
                       Query("SELECT objective_id, key_result_id, since, generation FROM "
                             "writeback_queue ORDER BY since, objective_id COLLATE \"C\", "
                             "key_result_id COLLATE \"C\" LIMIT $1",
                             p));
  return ReadAll<WriteBackEntry>(r,
                                 [](const Result& res, int row) -> absl::StatusOr<WriteBackEntry> {
                                   RowReader rr(res, row);
                                   WriteBackEntry e;
                                   e.objective_id = rr.Text(0);
                                   e.key_result_id = rr.Text(1);
                                   e.since = rr.Time(2);
                                   e.generation = rr.Int(3);
                                   OKR_RETURN_IF_ERROR(rr.status());
                                   return e;
                                 });
}

absl::Status PgTransaction::CompleteWriteBack(const WriteBackEntry& entry) {
  OKR_RETURN_IF_ERROR(CheckWritable("CompleteWriteBack"));
  return Modify(
             "DELETE FROM writeback_queue WHERE objective_id = $1 AND key_result_id = $2 "
             "AND generation = $3",
             Params().Text(entry.objective_id).Text(entry.key_result_id).Int(entry.generation))
      .status();
}

absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> PgTransaction::GetWriteBackState(
    Tracker tracker, const std::string& key) {
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT ref, content_hash, written FROM writeback_state "
                                       "WHERE tracker = $1 AND item_key = $2",
                                       Params().Int(static_cast<int>(tracker)).Text(key)));
  if (r.rows() == 0) return std::optional<WriteBackState>();
  RowReader rr(r, 0);
  WriteBackState state;
  state.ref = rr.Text(0);
  state.content_hash = rr.Text(1);
  state.written = rr.Time(2);
  OKR_RETURN_IF_ERROR(rr.status());
  return std::optional<WriteBackState>(std::move(state));
}

absl::Status PgTransaction::PutWriteBackState(Tracker tracker, const std::string& key,
                                              const WriteBackState& state) {
  OKR_RETURN_IF_ERROR(CheckWritable("PutWriteBackState"));
  return Modify(
             "INSERT INTO writeback_state (tracker, item_key, ref, content_hash, written) "
             "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tracker, item_key) DO UPDATE SET "
             "ref = excluded.ref, content_hash = excluded.content_hash, "
             "written = excluded.written",
             Params()
                 .Int(static_cast<int>(tracker))
                 .Text(key)
                 .Text(state.ref)
                 .Text(state.content_hash)
                 .Time(state.written))
      .status();
}

#undef OKR_TEAM_COLUMNS
#undef OKR_CYCLE_COLUMNS
#undef OKR_OBJECTIVE_COLUMNS
#undef OKR_KEY_RESULT_COLUMNS
#undef OKR_CHECK_IN_COLUMNS
#undef OKR_WORK_ITEM_COLUMNS
#undef OKR_LINK_SELECT

// --- Nesting -----------------------------------------------------------------------------

// The stores the current thread runs a transaction on, innermost first, to refuse
// nesting on one store (which could wait on the pool, or on its own row locks, until a
// timeout).
class ActiveScope {
 public:
  explicit ActiveScope(const void* store) : store_(store), outer_(innermost_) {
    for (const ActiveScope* s = outer_; s != nullptr; s = s->outer_) {
      if (s->store_ == store) nested_ = true;
    }
    innermost_ = this;
  }
  ~ActiveScope() { innermost_ = outer_; }
  ActiveScope(const ActiveScope&) = delete;
  ActiveScope& operator=(const ActiveScope&) = delete;
  bool nested() const { return nested_; }

 private:
  static thread_local const ActiveScope* innermost_;
  const void* const store_;
  const ActiveScope* const outer_;
  bool nested_ = false;
};

thread_local const ActiveScope* ActiveScope::innermost_ = nullptr;

absl::Status NestedError() {
  return absl::FailedPreconditionError(
      "transactions do not nest: the callback of a transaction started another one on the "
      "same store");
}

// Events and documents ---------------------------------------------------------------------

namespace {

// Identity values are handed out at INSERT, not at COMMIT: two transactions appending
// events at once could commit 11 before 10, and a watcher that read 11 would never see 10.
// Every transaction that appends events therefore first takes this transaction-level
// advisory lock, so event-writing transactions commit one after another in sequence order.
constexpr int64_t kEventOrderLockKey = 0x6f6b722d65767473;  // "okr-evts"

#define OKR_EVENT_COLUMNS "seq, type, time, objective_id, key_result_id, team_id, cycle_id, details"

absl::StatusOr<Event> ReadEvent(const Result& res, int row) {
  RowReader r(res, row);
  Event e;
  e.sequence = r.Int(0);
  e.type = static_cast<EventType>(r.Int(1));
  e.time = r.Time(2);
  e.objective_id = r.Text(3);
  e.key_result_id = r.Text(4);
  e.team_id = r.Text(5);
  e.cycle_id = r.Text(6);
  OKR_RETURN_IF_ERROR(r.status());
  OKR_RETURN_IF_ERROR(DecodeEventDetails(r.Text(7), e));
  return e;
}

#define OKR_DOCUMENT_COLUMNS "seq, kind, id, payload, revision, create_time, update_time"

absl::StatusOr<OkrTransaction::Document> ReadDocument(const Result& res, int row) {
  RowReader r(res, row);
  OkrTransaction::Document d;
  d.kind = r.Text(1);
  d.id = r.Text(2);
  d.payload = r.Text(3);
  d.meta = ReadMeta(r, 4);
  OKR_RETURN_IF_ERROR(r.status());
  return d;
}

}  // namespace

absl::Status PgTransaction::AppendEvent(Event& event) {
  OKR_RETURN_IF_ERROR(CheckWritable("AppendEvent"));
  if (!events_locked_) {
    OKR_RETURN_IF_ERROR(
        Query("SELECT pg_advisory_xact_lock($1)", Params().Int(kEventOrderLockKey)).status());
    events_locked_ = true;
  }
  OKR_ASSIGN_OR_RETURN(
      Result r,
      Query("INSERT INTO events (type, time, objective_id, key_result_id, team_id, cycle_id, "
            "details) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            Params()
                .Int(static_cast<int>(event.type))
                .Time(event.time)
                .Text(event.objective_id)
                .Text(event.key_result_id)
                .Text(event.team_id)
                .Text(event.cycle_id)
                .Text(EncodeEventDetails(event))));
  if (r.rows() != 1) return absl::InternalError("AppendEvent: no sequence returned");
  RowReader rr(r, 0);
  event.sequence = rr.Int(0);
  return rr.status();
}

absl::StatusOr<std::vector<Event>> PgTransaction::ListEvents(const EventQuery& q) {
  Params p;
  p.Int(q.after_sequence).Int(q.limit);
  std::string sql = "SELECT " OKR_EVENT_COLUMNS " FROM events WHERE seq > $1";
  int n = 2;
  if (!q.objective_id.empty()) {
    absl::StrAppend(&sql, " AND objective_id = $", ++n);
    p.Text(q.objective_id);
  }
  if (!q.key_result_id.empty()) {
    absl::StrAppend(&sql, " AND key_result_id = $", ++n);
    p.Text(q.key_result_id);
  }
  if (!q.team_id.empty()) {
    absl::StrAppend(&sql, " AND team_id = $", ++n);
    p.Text(q.team_id);
  }
  absl::StrAppend(&sql, " ORDER BY seq LIMIT $2");
  OKR_ASSIGN_OR_RETURN(Result r, Query(sql, p));
  return ReadAll<Event>(r, ReadEvent);
}

absl::StatusOr<int64_t> PgTransaction::LastEventSequence() {
  OKR_ASSIGN_OR_RETURN(Result r, Query("SELECT COALESCE(MAX(seq), 0) FROM events", Params()));
  RowReader rr(r, 0);
  const int64_t last = rr.Int(0);
  OKR_RETURN_IF_ERROR(rr.status());
  return last;
}

absl::StatusOr<int64_t> PgTransaction::PruneEvents(absl::Time before) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneEvents"));
  return Modify("DELETE FROM events WHERE time < $1", Params().Time(before));
}

absl::Status PgTransaction::InsertDocument(const Document& doc) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertDocument"));
  OKR_ASSIGN_OR_RETURN(int64_t inserted,
                       Modify("INSERT INTO documents (kind, id, payload, revision, create_time, "
                              "update_time) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                              Params()
                                  .Text(doc.kind)
                                  .Text(doc.id)
                                  .Text(doc.payload)
                                  .Int(doc.meta.revision)
                                  .Time(doc.meta.create_time)
                                  .Time(doc.meta.update_time)));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(doc.kind, " ", Quote(doc.id), " already exists"));
}

absl::StatusOr<std::optional<OkrTransaction::Document>> PgTransaction::GetDocument(
    const std::string& kind, const std::string& id) {
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_DOCUMENT_COLUMNS " FROM documents WHERE kind = $1 AND id = $2",
                      Params().Text(kind).Text(id)));
  if (r.rows() == 0) return std::optional<Document>();
  OKR_ASSIGN_OR_RETURN(Document d, ReadDocument(r, 0));
  return std::optional<Document>(std::move(d));
}

absl::Status PgTransaction::UpdateDocument(const Document& doc, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateDocument"));
  OKR_ASSIGN_OR_RETURN(int64_t updated,
                       Modify("UPDATE documents SET payload = $3, revision = $4, update_time = "
                              "$5 WHERE kind = $1 AND id = $2 AND ($6 < 0 OR revision = $6)",
                              Params()
                                  .Text(doc.kind)
                                  .Text(doc.id)
                                  .Text(doc.payload)
                                  .Int(doc.meta.revision)
                                  .Time(doc.meta.update_time)
                                  .Int(expected_revision)));
  if (updated == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(std::optional<Document> current, GetDocument(doc.kind, doc.id));
  if (!current.has_value()) {
    return absl::NotFoundError(absl::StrCat(doc.kind, " ", Quote(doc.id), " not found"));
  }
  return absl::AbortedError(absl::StrCat(doc.kind, " ", Quote(doc.id), " was modified (revision ",
                                         current->meta.revision, ", expected ", expected_revision,
                                         ")"));
}

absl::Status PgTransaction::DeleteDocument(const std::string& kind, const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteDocument"));
  OKR_ASSIGN_OR_RETURN(int64_t deleted, Modify("DELETE FROM documents WHERE kind = $1 AND id = $2",
                                               Params().Text(kind).Text(id)));
  if (deleted == 0) return absl::NotFoundError(absl::StrCat(kind, " ", Quote(id), " not found"));
  return absl::OkStatus();
}

absl::StatusOr<Page<OkrTransaction::Document>> PgTransaction::ListDocuments(const std::string& kind,
                                                                            const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  Params p = PageParams(page);
  p.Text(kind);
  OKR_ASSIGN_OR_RETURN(
      Result r, Query("SELECT " OKR_DOCUMENT_COLUMNS " FROM documents WHERE seq > $1 AND kind = $3 "
                      "ORDER BY seq LIMIT $2",
                      p));
  return ReadPage<Document>(r, page.limit, ReadDocument);
}

#undef OKR_EVENT_COLUMNS
#undef OKR_DOCUMENT_COLUMNS

// --- Migrations --------------------------------------------------------------------------

absl::Status ApplyMigrations(Connection& conn, absl::Duration timeout) {
  // READ COMMITTED: after waiting for the lock, each statement sees what the replica that
  // held it committed.
  OKR_RETURN_IF_ERROR(conn.ExecScript(
      absl::StrCat("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = ",
                   absl::ToInt64Milliseconds(timeout), "; SELECT pg_advisory_xact_lock(",
                   kPostgresMigrationLockKey, ")"),
      timeout));
  absl::Status status = [&]() -> absl::Status {
    OKR_RETURN_IF_ERROR(
        conn.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    absl::Span<const PostgresMigration> migrations = PostgresMigrations();
    const int latest = migrations.empty() ? 0 : migrations.back().version;
    OKR_ASSIGN_OR_RETURN(Result applied,
                         conn.Exec("SELECT version FROM schema_migrations", Params()));
    absl::flat_hash_set<int64_t> versions;
    for (int row = 0; row < applied.rows(); ++row) {
      RowReader r(applied, row);
      int64_t version = r.Int(0);
      OKR_RETURN_IF_ERROR(r.status());
      if (version > latest) {
        return absl::FailedPreconditionError(absl::StrCat("database schema version ", version,
                                                          " is newer than this binary supports (",
                                                          latest, "); upgrade okr-service"));
      }
      versions.insert(version);
    }
    for (const PostgresMigration& m : migrations) {
      if (versions.contains(m.version)) continue;
      absl::Status s = conn.ExecScript(m.sql, timeout);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("migration ", m.version, " (", m.description,
                                                   ") failed: ", s.message()));
      }
      OKR_RETURN_IF_ERROR(
          conn.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    Params().Int(m.version).Text(
                        absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())))
              .status());
    }
    return conn.ExecScript("COMMIT", timeout);
  }();
  if (!status.ok() && !conn.broken() && conn.transaction_status() != PQTRANS_IDLE) {
    conn.ExecScript("ROLLBACK").IgnoreError();  // a failure surfaces on the next use
  }
  return status;
}

// --- Retry lane --------------------------------------------------------------------------

// An advisory lock (single bigint key space, per database) that orders re-runs of
// conflicting transactions across every replica. A re-run first takes it exclusively at
// session level, BEFORE its BEGIN: it waits for the read-write transactions in flight to
// end, new ones queue behind it, and its snapshot is taken after all of them, so it runs
// alone and cannot lose to them again. Every read-write transaction holds it shared: in
// the common case via pg_try_advisory_xact_lock_shared in the BEGIN round trip (no extra
// round trip, released at the end of the transaction); if a re-run holds or awaits the
// lane, it instead waits for a shared session lock before a new BEGIN, so that its
// snapshot, too, is taken after the re-run committed.
constexpr int64_t kRetryLaneKey = 0x6f6b722d6c616e65;  // "okr-lane"

enum class Lane { kNone, kShared, kExclusive };

// Moves the session from lane `held` to `want`; only between transactions.
absl::Status SetLane(Connection& conn, Lane& held, Lane want) {
  if (held == want) return absl::OkStatus();
  if (held != Lane::kNone) {
    OKR_RETURN_IF_ERROR(conn.Exec(held == Lane::kShared ? "SELECT pg_advisory_unlock_shared($1)"
                                                        : "SELECT pg_advisory_unlock($1)",
                                  Params().Int(kRetryLaneKey))
                            .status());
    held = Lane::kNone;
  }
  if (want != Lane::kNone) {
    // Waits at most statement_timeout (then DEADLINE_EXCEEDED).
    OKR_RETURN_IF_ERROR(conn.Exec(want == Lane::kShared ? "SELECT pg_advisory_lock_shared($1)"
                                                        : "SELECT pg_advisory_lock($1)",
                                  Params().Int(kRetryLaneKey))
                            .status());
    held = want;
  }
  return absl::OkStatus();
}

// The cycle epoch in column `col` of the first row (-1 if unreadable).
int64_t EpochOf(const Result& r, int col) {
  int64_t epoch = -1;
  if (r.rows() != 1 || !absl::SimpleAtoi(r.Text(0, col), &epoch)) return -1;
  return epoch;
}

// Starts a transaction on `conn`, in the lane as described above, and sets `cycle_epoch`
// to the cycle epoch its snapshot sees (read in the same round trip, the snapshot's first
// statement).
absl::Status Begin(Connection& conn, bool read_only, bool rerun, Lane& lane, int64_t& cycle_epoch) {
  cycle_epoch = -1;
  constexpr absl::string_view kEpoch = "SELECT epoch FROM cycle_epoch WHERE id = 1";
  if (read_only) {
    static const std::string* const kBeginReadOnly =
        new std::string(absl::StrCat("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ", kEpoch));
    OKR_ASSIGN_OR_RETURN(Result got, conn.QueryScript(*kBeginReadOnly));
    cycle_epoch = EpochOf(got, 0);
    return absl::OkStatus();
  }
  static const std::string* const kBeginSerializable =
      new std::string(absl::StrCat("BEGIN ISOLATION LEVEL SERIALIZABLE; ", kEpoch));
  if (rerun) OKR_RETURN_IF_ERROR(SetLane(conn, lane, Lane::kExclusive));
  if (lane != Lane::kNone) {
    OKR_ASSIGN_OR_RETURN(Result got, conn.QueryScript(*kBeginSerializable));
    cycle_epoch = EpochOf(got, 0);
    return absl::OkStatus();
  }
  static const std::string* const kBeginInSharedLane = new std::string(
      absl::StrCat("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_try_advisory_xact_lock_shared(",
                   kRetryLaneKey, "), (", kEpoch, ")"));
  OKR_ASSIGN_OR_RETURN(Result got, conn.QueryScript(*kBeginInSharedLane));
  if (got.rows() == 1 && got.Text(0, 0) == "t") {
    cycle_epoch = EpochOf(got, 1);
    return absl::OkStatus();
  }
  // A re-run holds or awaits the lane: wait for it before taking a snapshot.
  OKR_RETURN_IF_ERROR(conn.ExecScript("ROLLBACK"));
  OKR_RETURN_IF_ERROR(SetLane(conn, lane, Lane::kShared));
  OKR_ASSIGN_OR_RETURN(Result again, conn.QueryScript(*kBeginSerializable));
  cycle_epoch = EpochOf(again, 0);
  return absl::OkStatus();
}

}  // namespace

// --- Pool --------------------------------------------------------------------------------

class PostgresStore::Impl {
 public:
  Impl(const PostgresOptions& options, ConnectSettings settings, Redactor redactor,
       std::unique_ptr<Connection> first)
      : options_(options), settings_(std::move(settings)), redactor_(std::move(redactor)) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }

  // A connection borrowed from the pool; returned (or dropped if broken) on destruction.
  class Lease {
   public:
    Lease(Impl* pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(std::move(conn_));
    }
    Connection& conn() { return *conn_; }
    // True if the connection sat idle in the pool (it may have died meanwhile).
    bool reused() const { return reused_; }
    // Closes the connection instead of returning it to the pool.
    void Discard() {
      conn_.reset();
      pool_->Forget();
    }

   private:
    Impl* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  absl::StatusOr<Lease> Acquire() {
    const absl::Time deadline = absl::Now() + options_.connect_timeout;
    std::unique_ptr<Connection> stale;  // closed outside the lock
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        if (!mu_.AwaitWithDeadline(absl::Condition(this, &Impl::CanLease), deadline)) {
          return absl::UnavailableError(absl::StrCat(
              "postgres: all ", options_.pool_size, " database connections stayed busy for ",
              absl::FormatDuration(options_.connect_timeout)));
        }
        if (idle_.empty()) break;
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        if (!conn->broken()) return Lease(this, std::move(conn), /*reused=*/true);
        --open_;
        stale = std::move(conn);
      }
      // Open a new connection, unless one failed moments ago (fail fast while down).
      const absl::Time now = absl::Now();
      if (now < reconnect_after_) return last_connect_error_;
      ++open_;
    }
    stale.reset();
    ConnectSettings settings = settings_;
    settings.connect_timeout = std::max(deadline - absl::Now(), absl::Milliseconds(100));
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(settings, redactor_);
    absl::MutexLock lock(&mu_);
    if (!conn.ok()) {
      --open_;
      reconnect_after_ = absl::Now() + options_.reconnect_backoff;
      last_connect_error_ = conn.status();
      return conn.status();
    }
    ++reconnects_;
    return Lease(this, std::move(*conn), /*reused=*/false);
  }

  void Release(std::unique_ptr<Connection> conn) {
    const bool keep = !conn->broken() && conn->transaction_status() == PQTRANS_IDLE;
    std::vector<std::unique_ptr<Connection>> suspects;  // closed outside the lock
    {
      absl::MutexLock lock(&mu_);
      if (keep) {
        idle_.push_back(std::move(conn));
        return;
      }
      --open_;
      if (conn->timed_out()) {
        // The server stopped answering: the idle connections to it are most likely dead
        // too, and each would cost a caller a full statement timeout to find out.
        open_ -= static_cast<int64_t>(idle_.size());
        suspects.swap(idle_);
      }
    }
    conn.reset();
  }

  void Forget() {
    absl::MutexLock lock(&mu_);
    --open_;
  }

  void CountRetry() {
    absl::MutexLock lock(&mu_);
    ++retries_;
  }

  CycleCache& cycles() { return cycles_; }

  Stats stats() {
    absl::MutexLock lock(&mu_);
    return Stats{retries_, reconnects_, open_, static_cast<int64_t>(idle_.size())};
  }

  const PostgresOptions options_;

 private:
  bool CanLease() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !idle_.empty() || open_ < options_.pool_size;
  }

  const ConnectSettings settings_;
  const Redactor redactor_;
  CycleCache cycles_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + leased + being opened
  absl::Time reconnect_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_connect_error_ ABSL_GUARDED_BY(mu_);
  int64_t retries_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
};

// --- Store -------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres: pool_size must be at least 1, got ", options.pool_size));
  }
  if (options.max_retries < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres: max_retries must not be negative, got ", options.max_retries));
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.statement_timeout <= absl::ZeroDuration() ||
      options.migration_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("postgres: timeouts must be positive");
  }
  if (options.reconnect_backoff < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("postgres: reconnect_backoff must not be negative");
  }
  OKR_RETURN_IF_ERROR(postgres_internal::ValidateConninfo(options.conninfo));
  Redactor redactor(options.conninfo);
  ConnectSettings settings;
  settings.conninfo = options.conninfo;
  settings.connect_timeout = options.connect_timeout;
  settings.statement_timeout = options.statement_timeout;
  settings.application_name = options.application_name;
  // So that the kernel, not the next caller, finds connections to a vanished host.
  settings.keepalive_idle = absl::Seconds(30);
  settings.keepalive_interval = absl::Seconds(10);
  settings.keepalive_count = 3;
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(settings, redactor));
  OKR_RETURN_IF_ERROR(ApplyMigrations(*conn, options.migration_timeout));
  return std::unique_ptr<PostgresStore>(new PostgresStore(
      std::make_unique<Impl>(options, std::move(settings), std::move(redactor), std::move(conn))));
}

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PostgresStore::~PostgresStore() = default;

PostgresStore::Stats PostgresStore::stats() const { return impl_->stats(); }

absl::Status PostgresStore::RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  return Run(/*read_only=*/false, fn);
}

absl::Status PostgresStore::RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  return Run(/*read_only=*/true, fn);
}

absl::Status PostgresStore::Run(bool read_only,
                                absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  ActiveScope scope(impl_.get());
  if (scope.nested()) return NestedError();
  const PostgresOptions& options = impl_->options_;
  std::optional<Impl::Lease> lease;
  Lane lane = Lane::kNone;  // the retry lane lock the leased session holds
  // Leaves the lane (a session lock would outlive the call) and returns `status`.
  auto finish = [&](absl::Status status) {
    if (lane != Lane::kNone && !lease->conn().broken() &&
        !SetLane(lease->conn(), lane, Lane::kNone).ok()) {
      lease->Discard();
    }
    return status;
  };
  int attempts = 0;
  int stale = 0;
  while (true) {
    if (!lease.has_value()) {
      OKR_ASSIGN_OR_RETURN(Impl::Lease acquired, impl_->Acquire());
      lease.emplace(std::move(acquired));
    }
    Connection& conn = lease->conn();
    int64_t cycle_epoch = -1;
    absl::Status begin = Begin(conn, read_only, /*rerun=*/attempts > 0, lane, cycle_epoch);
    if (!begin.ok()) {
      // A pooled connection may have died while idle (e.g. PostgreSQL restarted): nothing
      // ran yet, so try the next one, or a new one.
      if (attempts == 0 && lease->reused() && conn.broken() && !conn.timed_out() &&
          stale++ <= options.pool_size) {
        lease.reset();
        lane = Lane::kNone;  // the session, and its locks, are gone
        continue;
      }
      if (!conn.broken() && conn.transaction_status() != PQTRANS_IDLE) {
        conn.ExecScript("ROLLBACK").IgnoreError();
      }
      return finish(begin);
    }
    ++attempts;
    absl::Status status;
    bool retry = false;
    {
      PgTransaction tx(conn, read_only, impl_->cycles(), cycle_epoch);
      status = fn(tx);
      if (!tx.poisoned().ok()) {
        retry = tx.retryable();
        if (status.ok()) status = tx.poisoned();
      }
    }
    if (status.ok() && conn.transaction_status() != PQTRANS_INTRANS) {
      status = absl::InternalError("postgres: the transaction ended unexpectedly");
    }
    if (status.ok()) {
      status = conn.ExecScript("COMMIT");
      if (!status.ok()) {
        retry = postgres_internal::IsRetryableSqlState(conn.last_sqlstate());
        if (conn.broken()) {
          return absl::UnavailableError(absl::StrCat(
              "postgres: connection lost during COMMIT; the transaction may or may not have "
              "been committed: ",
              status.message()));
        }
      }
    }
    if (!conn.broken() && conn.transaction_status() != PQTRANS_IDLE) {
      // Rolls back a failed or refused transaction; if this fails the connection is broken
      // or not idle, and the pool drops it.
      conn.ExecScript("ROLLBACK").IgnoreError();
    }
    if (!retry || conn.broken()) return finish(status);
    if (attempts > options.max_retries) {
      return finish(absl::AbortedError(
          absl::StrCat("postgres: transaction failed ", attempts,
                       " times because concurrent transactions conflicted with it; last error: ",
                       status.message())));
    }
    impl_->CountRetry();
  }
}

absl::Status PostgresStore::Ping() {
  ActiveScope scope(impl_.get());
  if (scope.nested()) return NestedError();
  int stale = 0;
  while (true) {
    OKR_ASSIGN_OR_RETURN(Impl::Lease lease, impl_->Acquire());
    absl::Status status = lease.conn().Exec("SELECT 1", Params()).status();
    if (!status.ok() && lease.reused() && lease.conn().broken() && !lease.conn().timed_out() &&
        stale++ <= impl_->options_.pool_size) {
      continue;
    }
    return status;
  }
}

}  // namespace okr::storage
