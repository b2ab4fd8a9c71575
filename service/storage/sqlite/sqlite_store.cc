#include "service/storage/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/okr/model.h"
#include "service/okr/status_macros.h"
#include "service/storage/event_codec.h"
#include "service/storage/sqlite/connection.h"
#include "service/storage/sqlite/migrations.h"

namespace okr::storage {
namespace {

using sqlite_internal::Connection;
using sqlite_internal::Statement;

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

// `what()` names the column for the error message; only called on error (hot path).
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
// Lists of names/labels are stored one value per line (values never contain newlines:
// names are validated ids, labels are checked on input); agreements one per line as
// team \t agreed_by \t micros.

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
// so that every query is a single string literal: the hot Get* paths build no SQL text.

// Meta columns come last in every entity's column list, seq first.
EntityMeta ReadMeta(const Statement& s, int revision_col) {
  EntityMeta meta;
  meta.seq = s.ColumnInt(0);
  meta.revision = s.ColumnInt(revision_col);
  meta.create_time = s.ColumnTime(revision_col + 1);
  meta.update_time = s.ColumnTime(revision_col + 2);
  return meta;
}

#define OKR_TEAM_COLUMNS                                                                     \
  "seq, id, display_name, parent_id, revision, create_time, update_time, jira_project_key, " \
  "gitlab_project"

absl::StatusOr<Team> ReadTeam(const Statement& s) {
  Team t;
  t.id = s.ColumnText(1);
  t.display_name = s.ColumnText(2);
  t.parent_id = s.ColumnText(3);
  t.meta = ReadMeta(s, 4);
  t.jira_project_key = s.ColumnText(7);
  t.gitlab_project = s.ColumnText(8);
  return t;
}

#define OKR_CYCLE_COLUMNS \
  "seq, id, display_name, start_time, end_time, revision, create_time, update_time"

absl::StatusOr<Cycle> ReadCycle(const Statement& s) {
  Cycle c;
  c.id = s.ColumnText(1);
  c.display_name = s.ColumnText(2);
  c.start_time = s.ColumnTime(3);
  c.end_time = s.ColumnTime(4);
  c.meta = ReadMeta(s, 5);
  return c;
}

#define OKR_OBJECTIVE_COLUMNS                                                          \
  "seq, id, title, description, team_id, cycle_id, parent_id, kind, state, progress, " \
  "revision, create_time, update_time, progress_source, weight, contributes_to, "      \
  "depends_on, agreements, reopen_reason, carried_over_from, score, scored, outcome"

absl::StatusOr<Objective> ReadObjective(const Statement& s) {
  Objective o;
  o.id = s.ColumnText(1);
  o.title = s.ColumnText(2);
  o.description = s.ColumnText(3);
  o.team_id = s.ColumnText(4);
  o.cycle_id = s.ColumnText(5);
  o.parent_id = s.ColumnText(6);
  OKR_ASSIGN_OR_RETURN(
      o.kind, DecodeEnum(s.ColumnInt(7), ObjectiveKind::kCommitted, ObjectiveKind::kAspirational,
                         [&] { return absl::StrCat("objective ", Quote(o.id), " kind"); }));
  OKR_ASSIGN_OR_RETURN(
      o.state, DecodeEnum(s.ColumnInt(8), ObjectiveState::kDraft, ObjectiveState::kClosed,
                          [&] { return absl::StrCat("objective ", Quote(o.id), " state"); }));
  o.progress = s.ColumnDouble(9);
  o.meta = ReadMeta(s, 10);
  OKR_ASSIGN_OR_RETURN(
      o.progress_source,
      DecodeEnum(s.ColumnInt(13), ProgressSource::kKeyResults,
                 ProgressSource::kKeyResultsAndChildren,
                 [&] { return absl::StrCat("objective ", Quote(o.id), " progress_source"); }));
  o.weight = s.ColumnDouble(14);
  o.contributes_to = SplitLines(s.ColumnText(15));
  o.depends_on = SplitLines(s.ColumnText(16));
  o.agreements = DecodeAgreements(s.ColumnText(17));
  o.reopen_reason = s.ColumnText(18);
  o.carried_over_from = s.ColumnText(19);
  o.score = s.ColumnDouble(20);
  o.scored = s.ColumnInt(21) != 0;
  OKR_ASSIGN_OR_RETURN(
      o.outcome, DecodeEnum(s.ColumnInt(22), Outcome::kUnspecified, Outcome::kMissed,
                            [&] { return absl::StrCat("objective ", Quote(o.id), " outcome"); }));
  return o;
}

#define OKR_KEY_RESULT_COLUMNS                                                          \
  "seq, objective_id, id, title, weight, type, metric_start, metric_target, "           \
  "metric_current, metric_unit, milestone_done, item_count, done_count, total_weight, " \
  "done_weight, progress, raw_progress, revision, create_time, update_time, "           \
  "metric_key, jira_jql, gitlab_project, gitlab_labels, gitlab_milestone, score, "      \
  "score_reason"

absl::StatusOr<KeyResult> ReadKeyResult(const Statement& s) {
  KeyResult kr;
  kr.objective_id = s.ColumnText(1);
  kr.id = s.ColumnText(2);
  kr.title = s.ColumnText(3);
  kr.weight = s.ColumnDouble(4);
  OKR_ASSIGN_OR_RETURN(
      kr.type, DecodeEnum(s.ColumnInt(5), KeyResultType::kMetric, KeyResultType::kWorkItems, [&] {
        return absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " type");
      }));
  kr.metric.start_value = s.ColumnDouble(6);
  kr.metric.target_value = s.ColumnDouble(7);
  kr.metric.current_value = s.ColumnDouble(8);
  kr.metric.unit = s.ColumnText(9);
  kr.milestone_done = s.ColumnInt(10) != 0;
  kr.totals.item_count = s.ColumnInt(11);
  kr.totals.done_count = s.ColumnInt(12);
  kr.totals.total_weight = s.ColumnDouble(13);
  kr.totals.done_weight = s.ColumnDouble(14);
  kr.progress = s.ColumnDouble(15);
  kr.raw_progress = s.ColumnDouble(16);
  kr.meta = ReadMeta(s, 17);
  kr.metric_key = s.ColumnText(20);
  kr.jira_jql = s.ColumnText(21);
  kr.gitlab_project = s.ColumnText(22);
  kr.gitlab_labels = SplitLines(s.ColumnText(23));
  kr.gitlab_milestone = s.ColumnText(24);
  kr.score = s.ColumnOptionalDouble(25);
  kr.score_reason = s.ColumnText(26);
  return kr;
}

#define OKR_CHECK_IN_COLUMNS                                                          \
  "seq, objective_id, key_result_id, id, value, confidence, note, author, revision, " \
  "create_time, update_time"

absl::StatusOr<CheckIn> ReadCheckIn(const Statement& s) {
  CheckIn c;
  c.objective_id = s.ColumnText(1);
  c.key_result_id = s.ColumnText(2);
  c.id = s.ColumnText(3);
  c.value = s.ColumnOptionalDouble(4);
  c.confidence = s.ColumnOptionalDouble(5);
  c.note = s.ColumnText(6);
  c.author = s.ColumnText(7);
  c.meta = ReadMeta(s, 8);
  return c;
}

// Work item columns start at `first`.
#define OKR_WORK_ITEM_COLUMNS \
  "tracker, item_key, title, url, done, weight, update_time, external_id, source_updated"

absl::StatusOr<WorkItem> ReadWorkItem(const Statement& s, int first) {
  WorkItem w;
  w.key = s.ColumnText(first + 1);
  OKR_ASSIGN_OR_RETURN(
      w.tracker, DecodeEnum(s.ColumnInt(first), Tracker::kJira, Tracker::kGitLab,
                            [&] { return absl::StrCat("work item ", Quote(w.key), " tracker"); }));
  w.title = s.ColumnText(first + 2);
  w.url = s.ColumnText(first + 3);
  w.done = s.ColumnInt(first + 4) != 0;
  w.weight = s.ColumnDouble(first + 5);
  w.update_time = s.ColumnTime(first + 6);
  w.external_id = s.ColumnText(first + 7);
  w.source_updated = s.ColumnTime(first + 8);
  return w;
}

// Links joined with their work item (`l` and `w`).
#define OKR_LINK_SELECT                                                                     \
  "SELECT l.seq, l.objective_id, l.key_result_id, l.id, l.revision, l.create_time, "        \
  "l.update_time, w.tracker, w.item_key, w.title, w.url, w.done, w.weight, w.update_time, " \
  "w.external_id, w.source_updated "                                                        \
  "FROM work_item_links AS l JOIN work_items AS w "                                         \
  "ON w.tracker = l.tracker AND w.item_key = l.item_key "

absl::StatusOr<WorkItemLink> ReadLink(const Statement& s) {
  WorkItemLink l;
  l.objective_id = s.ColumnText(1);
  l.key_result_id = s.ColumnText(2);
  l.id = s.ColumnText(3);
  l.meta = ReadMeta(s, 4);
  OKR_ASSIGN_OR_RETURN(l.item, ReadWorkItem(s, 7));
  return l;
}

// Reads up to `limit` rows of a query that selects limit + 1 rows.
template <typename T, typename Read>
absl::StatusOr<Page<T>> ReadPage(Statement& s, int limit, Read read) {
  Page<T> page;
  while (true) {
    OKR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (static_cast<int64_t>(page.items.size()) >= limit) {
      page.has_more = true;
      break;
    }
    OKR_ASSIGN_OR_RETURN(T item, read(s));
    page.items.push_back(std::move(item));
  }
  return page;
}

template <typename T, typename Read>
absl::StatusOr<std::vector<T>> ReadAll(Statement& s, Read read) {
  std::vector<T> items;
  while (true) {
    OKR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    OKR_ASSIGN_OR_RETURN(T item, read(s));
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

// Binds `after_seq` and `limit + 1` to ?1 and ?2 (the paging convention of this file).
void BindPage(Statement& s, const PageQuery& page) {
  s.BindInt(1, page.after_seq);
  s.BindInt(2, static_cast<int64_t>(page.limit) + 1);
}

// --- Transaction -------------------------------------------------------------------------

}  // namespace

// Committed cycles served from memory (they are read by nearly every call and rarely
// change). Only read-only transactions fill the cache, and only with what they read while
// no cycle write intervened: each takes generation() before its snapshot, and Put refuses
// an entry once the generation moved. A write transaction that changes a cycle calls
// Invalidate: that cycle is then neither served nor cached until the write batch ends,
// and the store calls EndWrite after the batch committed or rolled back. So neither a
// reader nor a later transaction is ever served the old row (this process is the only
// writer of an SQLite database).
class CycleCache {
 public:
  uint64_t generation() {
    absl::MutexLock lock(&mu_);
    return generation_;
  }
  std::optional<Cycle> Find(const std::string& id) {
    absl::MutexLock lock(&mu_);
    if (writing_.contains(id)) return std::nullopt;
    auto it = cycles_.find(id);
    if (it == cycles_.end()) return std::nullopt;
    return it->second;
  }
  // `generation`: generation() taken before the reading transaction's snapshot.
  void Put(const Cycle& cycle, uint64_t generation) {
    absl::MutexLock lock(&mu_);
    if (generation != generation_ || writing_.contains(cycle.id)) return;
    if (cycles_.size() < 10000) cycles_.emplace(cycle.id, cycle);
  }
  // The cycle is being changed or deleted by the current write batch.
  void Invalidate(const std::string& id) {
    absl::MutexLock lock(&mu_);
    writing_.insert(id);
    cycles_.erase(id);
    ++generation_;
  }
  // The write batch ended (committed or not): the cycles it touched may be cached again.
  void EndWrite() {
    absl::MutexLock lock(&mu_);
    if (writing_.empty()) return;
    for (const std::string& id : writing_) cycles_.erase(id);
    writing_.clear();
    ++generation_;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cycle> cycles_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> writing_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

namespace {

class SqliteTransaction final : public OkrTransaction {
 public:
  // `cache_generation`: cycles->generation() taken before the transaction began.
  SqliteTransaction(Connection& conn, bool read_only, CycleCache* cycles = nullptr,
                    uint64_t cache_generation = 0)
      : conn_(conn), read_only_(read_only), cycles_(cycles), cache_generation_(cache_generation) {}

  // Non-OK if SQLite rolled the transaction back on its own (after an I/O error, a full
  // disk, ...): committing would then be wrong, even if the callback returned OK.
  absl::Status RolledBack() const {
    if (sqlite3_get_autocommit(conn_.db()) == 0) return absl::OkStatus();
    absl::Status cause = conn_.last_error();
    if (cause.ok()) cause = absl::InternalError("sqlite: transaction ended unexpectedly");
    return absl::Status(cause.code(),
                        absl::StrCat("transaction was rolled back: ", cause.message()));
  }

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
  absl::StatusOr<Statement> Prepare(absl::string_view sql) {
    OKR_RETURN_IF_ERROR(RolledBack());
    return conn_.Prepare(sql);
  }
  absl::Status CheckWritable(absl::string_view method) const {
    if (!read_only_) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(method, " is not allowed in a read-only transaction"));
  }
  int64_t Changes() const { return sqlite3_changes64(conn_.db()); }

  // True if `sql`, with text parameters ?1 (and ?2 if it has one), returns a row.
  absl::StatusOr<bool> Exists(absl::string_view sql, absl::string_view p1,
                              absl::string_view p2 = {}) {
    OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
    s.BindText(1, p1);
    if (s.parameter_count() >= 2) s.BindText(2, p2);
    return s.Step();
  }
  absl::StatusOr<bool> ObjectiveExists(absl::string_view id) {
    return Exists("SELECT 1 FROM objectives WHERE id = ?1", id);
  }
  absl::StatusOr<bool> KeyResultExists(absl::string_view objective_id, absl::string_view id) {
    return Exists("SELECT 1 FROM key_results WHERE objective_id = ?1 AND id = ?2", objective_id,
                  id);
  }
  absl::StatusOr<bool> WorkItemExists(Tracker tracker, absl::string_view key) {
    OKR_ASSIGN_OR_RETURN(Statement s,
                         Prepare("SELECT 1 FROM work_items WHERE tracker = ?1 AND item_key = ?2"));
    s.BindInt(1, static_cast<int>(tracker));
    s.BindText(2, key);
    return s.Step();
  }
  // For an Update* that changed no row: NOT_FOUND or ABORTED (stale revision).
  absl::Status NoRowUpdated(absl::string_view revision_sql, absl::string_view p1,
                            absl::string_view p2, const std::string& label,
                            int64_t expected_revision);
  // Explains a foreign key violation of an objective write.
  absl::Status ObjectiveReferenceError(const Objective& o);

  // The first id `sql` (one text parameter ?1) returns, or "" if none.
  absl::StatusOr<std::string> FirstId(absl::string_view sql, absl::string_view p1) {
    OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
    s.BindText(1, p1);
    OKR_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.ColumnText(0) : std::string();
  }

  Connection& conn_;
  const bool read_only_;
  CycleCache* const cycles_;
  const uint64_t cache_generation_;
};

// Teams -----------------------------------------------------------------------------------

absl::Status SqliteTransaction::InsertTeam(const Team& team) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertTeam"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("INSERT INTO teams (id, display_name, parent_id, revision, "
                               "create_time, update_time, jira_project_key, gitlab_project) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  s.BindText(1, team.id);
  s.BindText(2, team.display_name);
  s.BindNullableText(3, team.parent_id);
  s.BindInt(4, team.meta.revision);
  s.BindTime(5, team.meta.create_time);
  s.BindTime(6, team.meta.update_time);
  s.BindText(7, team.jira_project_key);
  s.BindText(8, team.gitlab_project);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("team ", Quote(team.id), " already exists"));
  }
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return absl::FailedPreconditionError(absl::StrCat("team ", Quote(team.id), ": parent team ",
                                                      Quote(team.parent_id), " does not exist"));
  }
  return status;
}

absl::StatusOr<Team> SqliteTransaction::GetTeam(const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_TEAM_COLUMNS " FROM teams WHERE id = ?1"));
  s.BindText(1, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("team ", Quote(id), " not found"));
  return ReadTeam(s);
}

absl::StatusOr<Page<Team>> SqliteTransaction::ListTeams(const std::string& parent_id,
                                                        const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  std::string sql =
      absl::StrCat("SELECT ", OKR_TEAM_COLUMNS, " FROM teams WHERE seq > ?1",
                   parent_id.empty() ? "" : " AND parent_id = ?3", " ORDER BY seq LIMIT ?2");
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
  BindPage(s, page);
  if (!parent_id.empty()) s.BindText(3, parent_id);
  return ReadPage<Team>(s, page.limit, ReadTeam);
}

absl::Status SqliteTransaction::UpdateTeam(const Team& team, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateTeam"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("UPDATE teams SET display_name = ?2, parent_id = ?3, revision = ?4, "
                               "create_time = ?5, update_time = ?6, jira_project_key = ?7, "
                               "gitlab_project = ?8 WHERE id = ?1 AND revision = ?9"));
  s.BindText(1, team.id);
  s.BindText(2, team.display_name);
  s.BindNullableText(3, team.parent_id);
  s.BindInt(4, team.meta.revision);
  s.BindTime(5, team.meta.create_time);
  s.BindTime(6, team.meta.update_time);
  s.BindText(7, team.jira_project_key);
  s.BindText(8, team.gitlab_project);
  s.BindInt(9, expected_revision);
  absl::Status status = s.Run();
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return absl::FailedPreconditionError(absl::StrCat("team ", Quote(team.id), ": parent team ",
                                                      Quote(team.parent_id), " does not exist"));
  }
  OKR_RETURN_IF_ERROR(status);
  if (Changes() == 1) return absl::OkStatus();
  return NoRowUpdated("SELECT revision FROM teams WHERE id = ?1", team.id, "",
                      absl::StrCat("team ", Quote(team.id)), expected_revision);
}

absl::Status SqliteTransaction::DeleteTeam(const std::string& id, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteTeam"));
  OKR_ASSIGN_OR_RETURN(std::string objective,
                       FirstId("SELECT id FROM objectives WHERE team_id = ?1 ORDER BY seq", id));
  if (!objective.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("team ", Quote(id), " is the team of objective ", Quote(objective)));
  }
  OKR_ASSIGN_OR_RETURN(std::string child,
                       FirstId("SELECT id FROM teams WHERE parent_id = ?1 ORDER BY seq", id));
  if (!child.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("team ", Quote(id), " is the parent of team ", Quote(child)));
  }
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("DELETE FROM teams WHERE id = ?1 AND revision = ?2"));
  s.BindText(1, id);
  s.BindInt(2, expected_revision);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 1) return absl::OkStatus();
  return NoRowUpdated("SELECT revision FROM teams WHERE id = ?1", id, "",
                      absl::StrCat("team ", Quote(id)), expected_revision);
}

// Cycles ----------------------------------------------------------------------------------

absl::Status SqliteTransaction::InsertCycle(const Cycle& cycle) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertCycle"));
  OKR_ASSIGN_OR_RETURN(
      Statement s, Prepare("INSERT INTO cycles (id, display_name, start_time, end_time, revision, "
                           "create_time, update_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  s.BindText(1, cycle.id);
  s.BindText(2, cycle.display_name);
  s.BindTime(3, cycle.start_time);
  s.BindTime(4, cycle.end_time);
  s.BindInt(5, cycle.meta.revision);
  s.BindTime(6, cycle.meta.create_time);
  s.BindTime(7, cycle.meta.update_time);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("cycle ", Quote(cycle.id), " already exists"));
  }
  return status;
}

absl::StatusOr<Cycle> SqliteTransaction::GetCycle(const std::string& id) {
  if (cycles_ != nullptr) {
    if (std::optional<Cycle> cached = cycles_->Find(id); cached.has_value()) return *cached;
  }
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_CYCLE_COLUMNS " FROM cycles WHERE id = ?1"));
  s.BindText(1, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("cycle ", Quote(id), " not found"));
  OKR_ASSIGN_OR_RETURN(Cycle cycle, ReadCycle(s));
  if (cycles_ != nullptr && read_only_) cycles_->Put(cycle, cache_generation_);
  return cycle;
}

absl::StatusOr<Page<Cycle>> SqliteTransaction::ListCycles(const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_CYCLE_COLUMNS " FROM cycles WHERE seq > ?1 "
                               "ORDER BY seq LIMIT ?2"));
  BindPage(s, page);
  return ReadPage<Cycle>(s, page.limit, ReadCycle);
}

absl::Status SqliteTransaction::UpdateCycle(const Cycle& cycle, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateCycle"));
  if (cycles_ != nullptr) cycles_->Invalidate(cycle.id);
  OKR_ASSIGN_OR_RETURN(
      Statement s, Prepare("UPDATE cycles SET display_name = ?2, start_time = ?3, end_time = ?4, "
                           "revision = ?5, create_time = ?6, update_time = ?7 "
                           "WHERE id = ?1 AND revision = ?8"));
  s.BindText(1, cycle.id);
  s.BindText(2, cycle.display_name);
  s.BindTime(3, cycle.start_time);
  s.BindTime(4, cycle.end_time);
  s.BindInt(5, cycle.meta.revision);
  s.BindTime(6, cycle.meta.create_time);
  s.BindTime(7, cycle.meta.update_time);
  s.BindInt(8, expected_revision);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 1) return absl::OkStatus();
  return NoRowUpdated("SELECT revision FROM cycles WHERE id = ?1", cycle.id, "",
                      absl::StrCat("cycle ", Quote(cycle.id)), expected_revision);
}

absl::Status SqliteTransaction::DeleteCycle(const std::string& id, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteCycle"));
  OKR_ASSIGN_OR_RETURN(std::string objective,
                       FirstId("SELECT id FROM objectives WHERE cycle_id = ?1 ORDER BY seq", id));
  if (!objective.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cycle ", Quote(id), " is the cycle of objective ", Quote(objective)));
  }
  if (cycles_ != nullptr) cycles_->Invalidate(id);
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("DELETE FROM cycles WHERE id = ?1 AND revision = ?2"));
  s.BindText(1, id);
  s.BindInt(2, expected_revision);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 1) return absl::OkStatus();
  return NoRowUpdated("SELECT revision FROM cycles WHERE id = ?1", id, "",
                      absl::StrCat("cycle ", Quote(id)), expected_revision);
}

// Objectives ------------------------------------------------------------------------------

absl::Status SqliteTransaction::ObjectiveReferenceError(const Objective& o) {
  std::string label = absl::StrCat("objective ", Quote(o.id));
  OKR_ASSIGN_OR_RETURN(bool team, Exists("SELECT 1 FROM teams WHERE id = ?1", o.team_id));
  if (!team) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, ": team ", Quote(o.team_id), " does not exist"));
  }
  OKR_ASSIGN_OR_RETURN(bool cycle, Exists("SELECT 1 FROM cycles WHERE id = ?1", o.cycle_id));
  if (!cycle) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, ": cycle ", Quote(o.cycle_id), " does not exist"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(label, ": parent objective ", Quote(o.parent_id), " does not exist"));
}

// Binds ?14..?23 of the objective insert/update statements.
void BindObjectiveExtras(Statement& s, const Objective& o) {
  s.BindInt(14, static_cast<int>(o.progress_source));
  s.BindDouble(15, o.weight);
  s.BindText(16, JoinLines(o.contributes_to));
  s.BindText(17, JoinLines(o.depends_on));
  s.BindText(18, EncodeAgreements(o.agreements));
  s.BindText(19, o.reopen_reason);
  s.BindText(20, o.carried_over_from);
  s.BindDouble(21, o.score);
  s.BindInt(22, o.scored ? 1 : 0);
  s.BindInt(23, static_cast<int>(o.outcome));
}

absl::Status SqliteTransaction::InsertObjective(const Objective& o) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertObjective"));
  if (!InRange(o.kind, ObjectiveKind::kCommitted, ObjectiveKind::kAspirational) ||
      !InRange(o.state, ObjectiveState::kDraft, ObjectiveState::kClosed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("objective ", Quote(o.id), " has an invalid kind or state"));
  }
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("INSERT INTO objectives (id, title, description, team_id, cycle_id, parent_id, "
              "kind, state, progress, revision, create_time, update_time, progress_source, "
              "weight, contributes_to, depends_on, agreements, reopen_reason, "
              "carried_over_from, score, scored, outcome) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15, ?16, ?17, "
              "?18, ?19, ?20, ?21, ?22, ?23)"));
  BindObjectiveExtras(s, o);
  s.BindText(1, o.id);
  s.BindText(2, o.title);
  s.BindText(3, o.description);
  s.BindText(4, o.team_id);
  s.BindText(5, o.cycle_id);
  s.BindNullableText(6, o.parent_id);
  s.BindInt(7, static_cast<int>(o.kind));
  s.BindInt(8, static_cast<int>(o.state));
  s.BindDouble(9, o.progress);
  s.BindInt(10, o.meta.revision);
  s.BindTime(11, o.meta.create_time);
  s.BindTime(12, o.meta.update_time);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("objective ", Quote(o.id), " already exists"));
  }
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) return ObjectiveReferenceError(o);
  return status;
}

absl::StatusOr<Objective> SqliteTransaction::GetObjective(const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_OBJECTIVE_COLUMNS " FROM objectives WHERE id = ?1"));
  s.BindText(1, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("objective ", Quote(id), " not found"));
  return ReadObjective(s);
}

absl::Status SqliteTransaction::NoRowUpdated(absl::string_view revision_sql, absl::string_view p1,
                                             absl::string_view p2, const std::string& label,
                                             int64_t expected_revision) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare(revision_sql));
  s.BindText(1, p1);
  if (s.parameter_count() >= 2) s.BindText(2, p2);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(absl::StrCat(label, " not found"));
  return absl::AbortedError(absl::StrCat(label, " was modified concurrently: revision is ",
                                         s.ColumnInt(0), ", expected ", expected_revision));
}

absl::Status SqliteTransaction::UpdateObjective(const Objective& o, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateObjective"));
  if (!InRange(o.kind, ObjectiveKind::kCommitted, ObjectiveKind::kAspirational) ||
      !InRange(o.state, ObjectiveState::kDraft, ObjectiveState::kClosed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("objective ", Quote(o.id), " has an invalid kind or state"));
  }
  // Common case (progress roll-up, lifecycle): the indexed columns team_id, cycle_id and
  // parent_id keep their values. Leaving them out of SET spares SQLite the maintenance of
  // their indexes; the WHERE clause makes the statement a no-op otherwise.
  {
    OKR_ASSIGN_OR_RETURN(
        Statement s,
        Prepare("UPDATE objectives SET title = ?2, description = ?3, kind = ?7, state = ?8, "
                "progress = ?9, revision = ?10, create_time = ?11, update_time = ?12, "
                "progress_source = ?14, weight = ?15, contributes_to = ?16, "
                "depends_on = ?17, agreements = ?18, reopen_reason = ?19, "
                "carried_over_from = ?20, score = ?21, scored = ?22, outcome = ?23 "
                "WHERE id = ?1 AND revision = ?13 AND team_id = ?4 AND cycle_id = ?5 AND "
                "parent_id IS ?6"));
    s.BindText(1, o.id);
    s.BindText(2, o.title);
    s.BindText(3, o.description);
    s.BindText(4, o.team_id);
    s.BindText(5, o.cycle_id);
    s.BindNullableText(6, o.parent_id);
    s.BindInt(7, static_cast<int>(o.kind));
    s.BindInt(8, static_cast<int>(o.state));
    s.BindDouble(9, o.progress);
    s.BindInt(10, o.meta.revision);
    s.BindTime(11, o.meta.create_time);
    s.BindTime(12, o.meta.update_time);
    s.BindInt(13, expected_revision);
    BindObjectiveExtras(s, o);
    OKR_RETURN_IF_ERROR(s.Run());
    if (Changes() == 1) return absl::OkStatus();
  }
  OKR_ASSIGN_OR_RETURN(
      Statement s, Prepare("UPDATE objectives SET title = ?2, description = ?3, team_id = ?4, "
                           "cycle_id = ?5, parent_id = ?6, kind = ?7, state = ?8, progress = ?9, "
                           "revision = ?10, create_time = ?11, update_time = ?12, "
                           "progress_source = ?14, weight = ?15, contributes_to = ?16, "
                           "depends_on = ?17, agreements = ?18, reopen_reason = ?19, "
                           "carried_over_from = ?20, score = ?21, scored = ?22, outcome = ?23 "
                           "WHERE id = ?1 AND revision = ?13"));
  BindObjectiveExtras(s, o);
  s.BindText(1, o.id);
  s.BindText(2, o.title);
  s.BindText(3, o.description);
  s.BindText(4, o.team_id);
  s.BindText(5, o.cycle_id);
  s.BindNullableText(6, o.parent_id);
  s.BindInt(7, static_cast<int>(o.kind));
  s.BindInt(8, static_cast<int>(o.state));
  s.BindDouble(9, o.progress);
  s.BindInt(10, o.meta.revision);
  s.BindTime(11, o.meta.create_time);
  s.BindTime(12, o.meta.update_time);
  s.BindInt(13, expected_revision);
  absl::Status status = s.Run();
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) return ObjectiveReferenceError(o);
  OKR_RETURN_IF_ERROR(status);
  if (Changes() == 1) return absl::OkStatus();
  return NoRowUpdated("SELECT revision FROM objectives WHERE id = ?1", o.id, "",
                      absl::StrCat("objective ", Quote(o.id)), expected_revision);
}

absl::Status SqliteTransaction::DeleteObjective(const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteObjective"));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("DELETE FROM objectives WHERE id = ?1"));
  s.BindText(1, id);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("objective ", Quote(id), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<Objective>> SqliteTransaction::ListObjectives(const ObjectiveFilter& filter,
                                                                  const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  // One cached statement per combination of filters, so each can use its index.
  std::string sql =
      absl::StrCat("SELECT ", OKR_OBJECTIVE_COLUMNS, " FROM objectives WHERE seq > ?1",
                   filter.team_id.empty() ? "" : " AND team_id = ?3",
                   filter.cycle_id.empty() ? "" : " AND cycle_id = ?4",
                   filter.parent_id.empty() ? "" : " AND parent_id = ?5", " ORDER BY seq LIMIT ?2");
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
  BindPage(s, page);
  if (!filter.team_id.empty()) s.BindText(3, filter.team_id);
  if (!filter.cycle_id.empty()) s.BindText(4, filter.cycle_id);
  if (!filter.parent_id.empty()) s.BindText(5, filter.parent_id);
  return ReadPage<Objective>(s, page.limit, ReadObjective);
}

// Key results -----------------------------------------------------------------------------

void BindKeyResultFields(Statement& s, const KeyResult& kr) {
  // ?1 objective_id, ?2 id, ?3.. fields.
  s.BindText(1, kr.objective_id);
  s.BindText(2, kr.id);
  s.BindText(3, kr.title);
  s.BindDouble(4, kr.weight);
  s.BindInt(5, static_cast<int>(kr.type));
  s.BindDouble(6, kr.metric.start_value);
  s.BindDouble(7, kr.metric.target_value);
  s.BindDouble(8, kr.metric.current_value);
  s.BindText(9, kr.metric.unit);
  s.BindInt(10, kr.milestone_done ? 1 : 0);
  s.BindInt(11, kr.totals.item_count);
  s.BindInt(12, kr.totals.done_count);
  s.BindDouble(13, kr.totals.total_weight);
  s.BindDouble(14, kr.totals.done_weight);
  s.BindDouble(15, kr.progress);
  s.BindDouble(16, kr.raw_progress);
  s.BindInt(17, kr.meta.revision);
  s.BindTime(18, kr.meta.create_time);
  s.BindTime(19, kr.meta.update_time);
  s.BindText(21, kr.metric_key);
  s.BindText(22, kr.jira_jql);
  s.BindText(23, kr.gitlab_project);
  s.BindText(24, JoinLines(kr.gitlab_labels));
  s.BindText(25, kr.gitlab_milestone);
  s.BindOptionalDouble(26, kr.score);
  s.BindText(27, kr.score_reason);
}

absl::Status SqliteTransaction::InsertKeyResult(const KeyResult& kr) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertKeyResult"));
  if (!InRange(kr.type, KeyResultType::kMetric, KeyResultType::kWorkItems)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " has an invalid type"));
  }
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("INSERT INTO key_results (objective_id, id, title, weight, type, metric_start, "
              "metric_target, metric_current, metric_unit, milestone_done, item_count, "
              "done_count, total_weight, done_weight, progress, raw_progress, revision, "
              "create_time, update_time, metric_key, jira_jql, gitlab_project, gitlab_labels, "
              "gitlab_milestone, score, score_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
              "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?21, ?22, ?23, ?24, ?25, "
              "?26, ?27)"));
  BindKeyResultFields(s, kr);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " already exists"));
  }
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return absl::NotFoundError(absl::StrCat("objective ", Quote(kr.objective_id), " not found"));
  }
  return status;
}

absl::StatusOr<KeyResult> SqliteTransaction::GetKeyResult(const std::string& objective_id,
                                                          const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_KEY_RESULT_COLUMNS
                                            " FROM key_results WHERE objective_id = ?1 "
                                            "AND id = ?2"));
  s.BindText(1, objective_id);
  s.BindText(2, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row)
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, id), " not found"));
  return ReadKeyResult(s);
}

absl::Status SqliteTransaction::UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateKeyResult"));
  if (!InRange(kr.type, KeyResultType::kMetric, KeyResultType::kWorkItems)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " has an invalid type"));
  }
  // Common case (progress, check-ins): the columns of the scoped-key-result index (type,
  // jira_jql, gitlab_project) keep their values; leave them out of SET (see
  // UpdateObjective).
  {
    OKR_ASSIGN_OR_RETURN(
        Statement s,
        Prepare("UPDATE key_results SET title = ?3, weight = ?4, metric_start = ?6, "
                "metric_target = ?7, metric_current = ?8, metric_unit = ?9, "
                "milestone_done = ?10, item_count = ?11, done_count = ?12, "
                "total_weight = ?13, done_weight = ?14, progress = ?15, raw_progress = ?16, "
                "revision = ?17, create_time = ?18, update_time = ?19, metric_key = ?21, "
                "gitlab_labels = ?24, gitlab_milestone = ?25, score = ?26, score_reason = ?27 "
                "WHERE objective_id = ?1 AND id = ?2 AND revision = ?20 AND type = ?5 AND "
                "jira_jql = ?22 AND gitlab_project = ?23"));
    BindKeyResultFields(s, kr);
    s.BindInt(20, expected_revision);
    OKR_RETURN_IF_ERROR(s.Run());
    if (Changes() == 1) return absl::OkStatus();
  }
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("UPDATE key_results SET title = ?3, weight = ?4, type = ?5, metric_start = ?6, "
              "metric_target = ?7, metric_current = ?8, metric_unit = ?9, "
              "milestone_done = ?10, item_count = ?11, done_count = ?12, "
              "total_weight = ?13, done_weight = ?14, progress = ?15, raw_progress = ?16, "
              "revision = ?17, create_time = ?18, update_time = ?19, metric_key = ?21, "
              "jira_jql = ?22, gitlab_project = ?23, gitlab_labels = ?24, "
              "gitlab_milestone = ?25, score = ?26, score_reason = ?27 "
              "WHERE objective_id = ?1 AND id = ?2 AND revision = ?20"));
  BindKeyResultFields(s, kr);
  s.BindInt(20, expected_revision);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 1) return absl::OkStatus();
  return NoRowUpdated("SELECT revision FROM key_results WHERE objective_id = ?1 AND id = ?2",
                      kr.objective_id, kr.id, KeyResultLabel(kr.objective_id, kr.id),
                      expected_revision);
}

absl::Status SqliteTransaction::DeleteKeyResult(const std::string& objective_id,
                                                const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteKeyResult"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("DELETE FROM key_results WHERE objective_id = ?1 AND id = ?2"));
  s.BindText(1, objective_id);
  s.BindText(2, id);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 0) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, id), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<KeyResult>> SqliteTransaction::ListKeyResults(const std::string& objective_id,
                                                                  const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_KEY_RESULT_COLUMNS
                                            " FROM key_results WHERE objective_id = ?3 "
                                            "AND seq > ?1 ORDER BY seq LIMIT ?2"));
  BindPage(s, page);
  s.BindText(3, objective_id);
  return ReadPage<KeyResult>(s, page.limit, ReadKeyResult);
}

absl::StatusOr<std::vector<KeyResult>> SqliteTransaction::AllKeyResults(
    const std::string& objective_id) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_KEY_RESULT_COLUMNS " FROM key_results WHERE "
                               "objective_id = ?1 ORDER BY seq"));
  s.BindText(1, objective_id);
  return ReadAll<KeyResult>(s, ReadKeyResult);
}

// Check-ins -------------------------------------------------------------------------------

absl::Status SqliteTransaction::InsertCheckIn(const CheckIn& c) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertCheckIn"));
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("INSERT INTO check_ins (objective_id, key_result_id, id, value, confidence, "
              "note, author, revision, create_time, update_time) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  s.BindText(1, c.objective_id);
  s.BindText(2, c.key_result_id);
  s.BindText(3, c.id);
  s.BindOptionalDouble(4, c.value);
  s.BindOptionalDouble(5, c.confidence);
  s.BindText(6, c.note);
  s.BindText(7, c.author);
  s.BindInt(8, c.meta.revision);
  s.BindTime(9, c.meta.create_time);
  s.BindTime(10, c.meta.update_time);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("check-in ", Quote(c.id), " of ",
                                                 KeyResultLabel(c.objective_id, c.key_result_id),
                                                 " already exists"));
  }
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return absl::NotFoundError(
        absl::StrCat(KeyResultLabel(c.objective_id, c.key_result_id), " not found"));
  }
  return status;
}

absl::StatusOr<CheckIn> SqliteTransaction::GetCheckIn(const std::string& objective_id,
                                                      const std::string& key_result_id,
                                                      const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_CHECK_IN_COLUMNS
                                            " FROM check_ins WHERE objective_id = ?1 AND "
                                            "key_result_id = ?2 AND id = ?3"));
  s.BindText(1, objective_id);
  s.BindText(2, key_result_id);
  s.BindText(3, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat(
        "check-in ", Quote(id), " of ", KeyResultLabel(objective_id, key_result_id), " not found"));
  }
  return ReadCheckIn(s);
}

absl::StatusOr<Page<CheckIn>> SqliteTransaction::ListCheckIns(const std::string& objective_id,
                                                              const std::string& key_result_id,
                                                              const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_CHECK_IN_COLUMNS
                                            " FROM check_ins WHERE objective_id = ?3 AND "
                                            "key_result_id = ?4 AND seq > ?1 "
                                            "ORDER BY seq LIMIT ?2"));
  BindPage(s, page);
  s.BindText(3, objective_id);
  s.BindText(4, key_result_id);
  return ReadPage<CheckIn>(s, page.limit, ReadCheckIn);
}

// Work items ------------------------------------------------------------------------------

absl::StatusOr<std::optional<WorkItem>> SqliteTransaction::GetWorkItem(Tracker tracker,
                                                                       const std::string& key) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_WORK_ITEM_COLUMNS
                                            " FROM work_items WHERE tracker = ?1 AND "
                                            "item_key = ?2"));
  s.BindInt(1, static_cast<int>(tracker));
  s.BindText(2, key);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<WorkItem>();
  OKR_ASSIGN_OR_RETURN(WorkItem item, ReadWorkItem(s, 0));
  return std::optional<WorkItem>(std::move(item));
}

absl::Status SqliteTransaction::UpsertWorkItem(const WorkItem& item) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpsertWorkItem"));
  OKR_RETURN_IF_ERROR(CheckTracker(item.tracker));
  OKR_ASSIGN_OR_RETURN(
      Statement s, Prepare("INSERT INTO work_items (tracker, item_key, title, url, done, weight, "
                           "update_time, external_id, source_updated) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                           "ON CONFLICT (tracker, item_key) DO UPDATE SET title = excluded.title, "
                           "url = excluded.url, done = excluded.done, weight = excluded.weight, "
                           "update_time = excluded.update_time, "
                           "external_id = excluded.external_id, "
                           "source_updated = excluded.source_updated"));
  s.BindInt(1, static_cast<int>(item.tracker));
  s.BindText(2, item.key);
  s.BindText(3, item.title);
  s.BindText(4, item.url);
  s.BindInt(5, item.done ? 1 : 0);
  s.BindDouble(6, item.weight);
  s.BindTime(7, item.update_time);
  s.BindNullableText(8, item.external_id);
  s.BindTime(9, item.source_updated);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat(WorkItemLabel(item.tracker, item.key),
                                                 ": external id ", Quote(item.external_id),
                                                 " belongs to another item"));
  }
  return status;
}

// Work item links -------------------------------------------------------------------------

absl::Status SqliteTransaction::InsertWorkItemLink(const WorkItemLink& link) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertWorkItemLink"));
  OKR_RETURN_IF_ERROR(CheckTracker(link.item.tracker));
  OKR_ASSIGN_OR_RETURN(
      Statement s, Prepare("INSERT INTO work_item_links (objective_id, key_result_id, id, tracker, "
                           "item_key, revision, create_time, update_time) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  s.BindText(1, link.objective_id);
  s.BindText(2, link.key_result_id);
  s.BindText(3, link.id);
  s.BindInt(4, static_cast<int>(link.item.tracker));
  s.BindText(5, link.item.key);
  s.BindInt(6, link.meta.revision);
  s.BindTime(7, link.meta.create_time);
  s.BindTime(8, link.meta.update_time);
  absl::Status status = s.Run();
  std::string kr_label = KeyResultLabel(link.objective_id, link.key_result_id);
  if (absl::IsAlreadyExists(status)) {
    if (absl::StrContains(status.message(), "item_key")) {
      return absl::AlreadyExistsError(absl::StrCat(
          kr_label, " is already linked to ", WorkItemLabel(link.item.tracker, link.item.key)));
    }
    return absl::AlreadyExistsError(
        absl::StrCat("work item link ", Quote(link.id), " of ", kr_label, " already exists"));
  }
  if (s.last_result() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    OKR_ASSIGN_OR_RETURN(bool kr, KeyResultExists(link.objective_id, link.key_result_id));
    if (!kr) return absl::NotFoundError(absl::StrCat(kr_label, " not found"));
    return absl::FailedPreconditionError(
        absl::StrCat(WorkItemLabel(link.item.tracker, link.item.key),
                     " does not exist; upsert it before linking"));
  }
  return status;
}

absl::StatusOr<WorkItemLink> SqliteTransaction::GetWorkItemLink(const std::string& objective_id,
                                                                const std::string& key_result_id,
                                                                const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare(OKR_LINK_SELECT "WHERE l.objective_id = ?1 AND "
                                                            "l.key_result_id = ?2 AND l.id = ?3"));
  s.BindText(1, objective_id);
  s.BindText(2, key_result_id);
  s.BindText(3, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat("work item link ", Quote(id), " of ",
                                            KeyResultLabel(objective_id, key_result_id),
                                            " not found"));
  }
  return ReadLink(s);
}

absl::StatusOr<WorkItemLink> SqliteTransaction::FindWorkItemLink(const std::string& objective_id,
                                                                 const std::string& key_result_id,
                                                                 Tracker tracker,
                                                                 const std::string& key) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare(OKR_LINK_SELECT "WHERE l.objective_id = ?1 AND "
                                               "l.key_result_id = ?2 AND l.tracker = ?3 AND "
                                               "l.item_key = ?4"));
  s.BindText(1, objective_id);
  s.BindText(2, key_result_id);
  s.BindInt(3, static_cast<int>(tracker));
  s.BindText(4, key);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, key_result_id),
                                            " has no link to ", WorkItemLabel(tracker, key)));
  }
  return ReadLink(s);
}

absl::Status SqliteTransaction::DeleteWorkItemLink(const std::string& objective_id,
                                                   const std::string& key_result_id,
                                                   const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWorkItemLink"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("DELETE FROM work_item_links WHERE objective_id = ?1 AND "
                               "key_result_id = ?2 AND id = ?3"));
  s.BindText(1, objective_id);
  s.BindText(2, key_result_id);
  s.BindText(3, id);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("work item link ", Quote(id), " of ",
                                            KeyResultLabel(objective_id, key_result_id),
                                            " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<WorkItemLink>> SqliteTransaction::ListWorkItemLinks(
    const std::string& objective_id, const std::string& key_result_id, const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare(OKR_LINK_SELECT "WHERE l.objective_id = ?3 AND "
                                                            "l.key_result_id = ?4 AND l.seq > ?1 "
                                                            "ORDER BY l.seq LIMIT ?2"));
  BindPage(s, page);
  s.BindText(3, objective_id);
  s.BindText(4, key_result_id);
  return ReadPage<WorkItemLink>(s, page.limit, ReadLink);
}

absl::StatusOr<std::vector<WorkItemLink>> SqliteTransaction::LinksToWorkItem(
    Tracker tracker, const std::string& key) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare(OKR_LINK_SELECT "WHERE l.tracker = ?1 AND l.item_key = ?2 "
                                               "ORDER BY l.seq"));
  s.BindInt(1, static_cast<int>(tracker));
  s.BindText(2, key);
  return ReadAll<WorkItemLink>(s, ReadLink);
}

absl::StatusOr<WorkItemTotals> SqliteTransaction::ComputeWorkItemTotals(
    const std::string& objective_id, const std::string& key_result_id) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT COUNT(*), TOTAL(w.done != 0), TOTAL(w.weight), "
                                            "TOTAL(CASE WHEN w.done != 0 THEN w.weight ELSE 0 END) "
                                            "FROM work_item_links AS l JOIN work_items AS w "
                                            "ON w.tracker = l.tracker AND w.item_key = l.item_key "
                                            "WHERE l.objective_id = ?1 AND l.key_result_id = ?2"));
  s.BindText(1, objective_id);
  s.BindText(2, key_result_id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  WorkItemTotals totals;
  if (!row) return totals;
  totals.item_count = s.ColumnInt(0);
  totals.done_count = s.ColumnInt(1);
  totals.total_weight = s.ColumnDouble(2);
  totals.done_weight = s.ColumnDouble(3);
  return totals;
}

// Request records -------------------------------------------------------------------------

absl::StatusOr<std::optional<std::string>> SqliteTransaction::GetRequestRecord(
    const std::string& request_id) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT resource_name FROM request_records WHERE request_id = ?1"));
  s.BindText(1, request_id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.ColumnText(0));
}

absl::Status SqliteTransaction::PutRequestRecord(const std::string& request_id,
                                                 const std::string& resource_name) {
  OKR_RETURN_IF_ERROR(CheckWritable("PutRequestRecord"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("INSERT INTO request_records (request_id, resource_name, "
                               "create_time) VALUES (?1, ?2, ?3)"));
  s.BindText(1, request_id);
  s.BindText(2, resource_name);
  s.BindTime(3, absl::Now());
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("request ", Quote(request_id), " is already recorded"));
  }
  return status;
}

// Tracker sync ----------------------------------------------------------------------------

absl::StatusOr<std::optional<WorkItem>> SqliteTransaction::GetWorkItemByExternalId(
    Tracker tracker, const std::string& external_id) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_WORK_ITEM_COLUMNS
                                            " FROM work_items WHERE tracker = ?1 AND "
                                            "external_id = ?2"));
  s.BindInt(1, static_cast<int>(tracker));
  s.BindText(2, external_id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<WorkItem>();
  OKR_ASSIGN_OR_RETURN(WorkItem item, ReadWorkItem(s, 0));
  return std::optional<WorkItem>(std::move(item));
}

absl::Status SqliteTransaction::RenameWorkItem(Tracker tracker, const std::string& old_key,
                                               const std::string& new_key) {
  OKR_RETURN_IF_ERROR(CheckWritable("RenameWorkItem"));
  OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> item, GetWorkItem(tracker, old_key));
  if (!item.has_value()) {
    return absl::NotFoundError(absl::StrCat(WorkItemLabel(tracker, old_key), " not found"));
  }
  OKR_ASSIGN_OR_RETURN(bool taken, WorkItemExists(tracker, new_key));
  if (taken) {
    return absl::AlreadyExistsError(
        absl::StrCat(WorkItemLabel(tracker, new_key), " already exists"));
  }
  // Links reference (tracker, item_key): insert the new row, move the links, drop the old.
  WorkItem renamed = *item;
  renamed.key = new_key;
  renamed.external_id.clear();  // unique per tracker: set again below, after the old row goes
  OKR_RETURN_IF_ERROR(UpsertWorkItem(renamed));
  for (const char* sql : {"UPDATE work_item_links SET item_key = ?3 WHERE tracker = ?1 AND "
                          "item_key = ?2",
                          "UPDATE writeback_state SET item_key = ?3 WHERE tracker = ?1 AND "
                          "item_key = ?2",
                          "DELETE FROM work_items WHERE tracker = ?1 AND item_key = ?2"}) {
    OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
    s.BindInt(1, static_cast<int>(tracker));
    s.BindText(2, old_key);
    if (s.parameter_count() >= 3) s.BindText(3, new_key);
    OKR_RETURN_IF_ERROR(s.Run());
  }
  renamed.external_id = item->external_id;
  return UpsertWorkItem(renamed);
}

absl::Status SqliteTransaction::DeleteWorkItem(Tracker tracker, const std::string& key) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWorkItem"));
  for (const char* sql : {"DELETE FROM work_item_links WHERE tracker = ?1 AND item_key = ?2",
                          "DELETE FROM writeback_state WHERE tracker = ?1 AND item_key = ?2",
                          "DELETE FROM work_items WHERE tracker = ?1 AND item_key = ?2"}) {
    OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
    s.BindInt(1, static_cast<int>(tracker));
    s.BindText(2, key);
    OKR_RETURN_IF_ERROR(s.Run());
  }
  if (Changes() == 0) {
    return absl::NotFoundError(absl::StrCat(WorkItemLabel(tracker, key), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WorkItem>> SqliteTransaction::LinkedWorkItems(Tracker tracker) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_WORK_ITEM_COLUMNS " FROM work_items AS w "
                               "WHERE tracker = ?1 AND EXISTS (SELECT 1 FROM work_item_links "
                               "AS l WHERE l.tracker = w.tracker AND l.item_key = w.item_key) "
                               "ORDER BY item_key"));
  s.BindInt(1, static_cast<int>(tracker));
  return ReadAll<WorkItem>(s, [](const Statement& st) { return ReadWorkItem(st, 0); });
}

absl::Status SqliteTransaction::RecordDelivery(Tracker tracker, const std::string& delivery_id,
                                               absl::Time received) {
  OKR_RETURN_IF_ERROR(CheckWritable("RecordDelivery"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("INSERT INTO webhook_deliveries (tracker, delivery_id, received) "
                               "VALUES (?1, ?2, ?3)"));
  s.BindInt(1, static_cast<int>(tracker));
  s.BindText(2, delivery_id);
  s.BindTime(3, received);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("delivery ", Quote(delivery_id), " of ",
                                                 TrackerName(tracker), " was seen before"));
  }
  return status;
}

absl::StatusOr<int64_t> SqliteTransaction::PruneDeliveries(absl::Time before) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneDeliveries"));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("DELETE FROM webhook_deliveries WHERE received < ?1"));
  s.BindTime(1, before);
  OKR_RETURN_IF_ERROR(s.Run());
  return Changes();
}

absl::StatusOr<std::vector<KeyResult>> SqliteTransaction::ScopedKeyResults() {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT " OKR_KEY_RESULT_COLUMNS " FROM key_results WHERE "
                               "type = 3 AND (jira_jql != '' OR gitlab_project != '') "
                               "ORDER BY seq"));
  return ReadAll<KeyResult>(s, ReadKeyResult);
}

absl::Status SqliteTransaction::EnqueueWriteBack(const std::string& objective_id,
                                                 const std::string& key_result_id, absl::Time now) {
  OKR_RETURN_IF_ERROR(CheckWritable("EnqueueWriteBack"));
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("INSERT INTO writeback_queue (objective_id, key_result_id, since, generation) "
              "VALUES (?1, ?2, ?3, 1) ON CONFLICT (objective_id, key_result_id) "
              "DO UPDATE SET generation = generation + 1"));
  s.BindText(1, objective_id);
  s.BindText(2, key_result_id);
  s.BindTime(3, now);
  return s.Run();
}

absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> SqliteTransaction::PendingWriteBacks(
    int limit) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT objective_id, key_result_id, since, generation FROM "
                               "writeback_queue ORDER BY since LIMIT ?1"));
  s.BindInt(1, limit);
  return ReadAll<WriteBackEntry>(s, [](const Statement& st) -> absl::StatusOr<WriteBackEntry> {
    WriteBackEntry e;
    e.objective_id = st.ColumnText(0);
    e.key_result_id = st.ColumnText(1);
    e.since = st.ColumnTime(2);
    e.generation = st.ColumnInt(3);
    return e;
  });
}

absl::Status SqliteTransaction::CompleteWriteBack(const WriteBackEntry& entry) {
  OKR_RETURN_IF_ERROR(CheckWritable("CompleteWriteBack"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("DELETE FROM writeback_queue WHERE objective_id = ?1 AND "
                               "key_result_id = ?2 AND generation = ?3"));
  s.BindText(1, entry.objective_id);
  s.BindText(2, entry.key_result_id);
  s.BindInt(3, entry.generation);
  return s.Run();
}

absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> SqliteTransaction::GetWriteBackState(
    Tracker tracker, const std::string& key) {
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("SELECT ref, content_hash, written FROM writeback_state WHERE "
                               "tracker = ?1 AND item_key = ?2"));
  s.BindInt(1, static_cast<int>(tracker));
  s.BindText(2, key);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<WriteBackState>();
  WriteBackState state;
  state.ref = s.ColumnText(0);
  state.content_hash = s.ColumnText(1);
  state.written = s.ColumnTime(2);
  return std::optional<WriteBackState>(std::move(state));
}

absl::Status SqliteTransaction::PutWriteBackState(Tracker tracker, const std::string& key,
                                                  const WriteBackState& state) {
  OKR_RETURN_IF_ERROR(CheckWritable("PutWriteBackState"));
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("INSERT INTO writeback_state (tracker, item_key, ref, content_hash, written) "
              "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tracker, item_key) DO UPDATE SET "
              "ref = excluded.ref, content_hash = excluded.content_hash, "
              "written = excluded.written"));
  s.BindInt(1, static_cast<int>(tracker));
  s.BindText(2, key);
  s.BindText(3, state.ref);
  s.BindText(4, state.content_hash);
  s.BindTime(5, state.written);
  return s.Run();
}

// Events and documents ---------------------------------------------------------------------

namespace {

#define OKR_EVENT_COLUMNS "seq, type, time, objective_id, key_result_id, team_id, cycle_id, details"

absl::StatusOr<Event> ReadEvent(const Statement& s) {
  Event e;
  e.sequence = s.ColumnInt(0);
  e.type = static_cast<EventType>(s.ColumnInt(1));
  e.time = s.ColumnTime(2);
  e.objective_id = s.ColumnText(3);
  e.key_result_id = s.ColumnText(4);
  e.team_id = s.ColumnText(5);
  e.cycle_id = s.ColumnText(6);
  OKR_RETURN_IF_ERROR(DecodeEventDetails(s.ColumnText(7), e));
  return e;
}

#define OKR_DOCUMENT_COLUMNS "seq, kind, id, payload, revision, create_time, update_time"

absl::StatusOr<OkrTransaction::Document> ReadDocument(const Statement& s) {
  OkrTransaction::Document d;
  d.kind = s.ColumnText(1);
  d.id = s.ColumnText(2);
  d.payload = s.ColumnText(3);
  d.meta = ReadMeta(s, 4);
  return d;
}

}  // namespace

absl::Status SqliteTransaction::AppendEvent(Event& event) {
  OKR_RETURN_IF_ERROR(CheckWritable("AppendEvent"));
  OKR_ASSIGN_OR_RETURN(
      Statement s,
      Prepare("INSERT INTO events (type, time, objective_id, key_result_id, team_id, cycle_id, "
              "details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq"));
  s.BindInt(1, static_cast<int>(event.type));
  s.BindTime(2, event.time);
  s.BindText(3, event.objective_id);
  s.BindText(4, event.key_result_id);
  s.BindText(5, event.team_id);
  s.BindText(6, event.cycle_id);
  s.BindText(7, EncodeEventDetails(event));
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::InternalError("AppendEvent: no sequence returned");
  event.sequence = s.ColumnInt(0);
  OKR_ASSIGN_OR_RETURN(bool more, s.Step());  // runs the statement to completion
  if (more) return absl::InternalError("AppendEvent: more than one row returned");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> SqliteTransaction::ListEvents(const EventQuery& q) {
  std::string sql = "SELECT " OKR_EVENT_COLUMNS " FROM events WHERE seq > ?1";
  if (!q.objective_id.empty()) absl::StrAppend(&sql, " AND objective_id = ?3");
  if (!q.key_result_id.empty()) absl::StrAppend(&sql, " AND key_result_id = ?4");
  if (!q.team_id.empty()) absl::StrAppend(&sql, " AND team_id = ?5");
  absl::StrAppend(&sql, " ORDER BY seq LIMIT ?2");
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
  s.BindInt(1, q.after_sequence);
  s.BindInt(2, q.limit);
  if (!q.objective_id.empty()) s.BindText(3, q.objective_id);
  if (!q.key_result_id.empty()) s.BindText(4, q.key_result_id);
  if (!q.team_id.empty()) s.BindText(5, q.team_id);
  return ReadAll<Event>(s, ReadEvent);
}

absl::StatusOr<int64_t> SqliteTransaction::LastEventSequence() {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT COALESCE(MAX(seq), 0) FROM events"));
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColumnInt(0) : 0;
}

absl::StatusOr<int64_t> SqliteTransaction::PruneEvents(absl::Time before) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneEvents"));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("DELETE FROM events WHERE time < ?1"));
  s.BindTime(1, before);
  OKR_RETURN_IF_ERROR(s.Run());
  return Changes();
}

absl::Status SqliteTransaction::InsertDocument(const Document& doc) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertDocument"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("INSERT INTO documents (kind, id, payload, revision, create_time, "
                               "update_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  s.BindText(1, doc.kind);
  s.BindText(2, doc.id);
  s.BindText(3, doc.payload);
  s.BindInt(4, doc.meta.revision);
  s.BindTime(5, doc.meta.create_time);
  s.BindTime(6, doc.meta.update_time);
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat(doc.kind, " ", Quote(doc.id), " already exists"));
  }
  return status;
}

absl::StatusOr<std::optional<OkrTransaction::Document>> SqliteTransaction::GetDocument(
    const std::string& kind, const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_DOCUMENT_COLUMNS
                                            " FROM documents WHERE kind = ?1 AND id = ?2"));
  s.BindText(1, kind);
  s.BindText(2, id);
  OKR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Document>();
  OKR_ASSIGN_OR_RETURN(Document d, ReadDocument(s));
  return std::optional<Document>(std::move(d));
}

absl::Status SqliteTransaction::UpdateDocument(const Document& doc, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateDocument"));
  OKR_ASSIGN_OR_RETURN(Statement s,
                       Prepare("UPDATE documents SET payload = ?3, revision = ?4, update_time = "
                               "?5 WHERE kind = ?1 AND id = ?2 AND (?6 < 0 OR revision = ?6)"));
  s.BindText(1, doc.kind);
  s.BindText(2, doc.id);
  s.BindText(3, doc.payload);
  s.BindInt(4, doc.meta.revision);
  s.BindTime(5, doc.meta.update_time);
  s.BindInt(6, expected_revision);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(std::optional<Document> current, GetDocument(doc.kind, doc.id));
  if (!current.has_value()) {
    return absl::NotFoundError(absl::StrCat(doc.kind, " ", Quote(doc.id), " not found"));
  }
  return absl::AbortedError(absl::StrCat(doc.kind, " ", Quote(doc.id), " was modified (revision ",
                                         current->meta.revision, ", expected ", expected_revision,
                                         ")"));
}

absl::Status SqliteTransaction::DeleteDocument(const std::string& kind, const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteDocument"));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("DELETE FROM documents WHERE kind = ?1 AND id = ?2"));
  s.BindText(1, kind);
  s.BindText(2, id);
  OKR_RETURN_IF_ERROR(s.Run());
  if (Changes() == 0) return absl::NotFoundError(absl::StrCat(kind, " ", Quote(id), " not found"));
  return absl::OkStatus();
}

absl::StatusOr<Page<OkrTransaction::Document>> SqliteTransaction::ListDocuments(
    const std::string& kind, const PageQuery& page) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(Statement s, Prepare("SELECT " OKR_DOCUMENT_COLUMNS
                                            " FROM documents WHERE seq > ?1 AND kind = ?3 "
                                            "ORDER BY seq LIMIT ?2"));
  BindPage(s, page);
  s.BindText(3, kind);
  return ReadPage<Document>(s, page.limit, ReadDocument);
}

#undef OKR_EVENT_COLUMNS
#undef OKR_DOCUMENT_COLUMNS

// --- Store -------------------------------------------------------------------------------

// The transactions the current thread is running, innermost first, to refuse nesting on
// one store (which would deadlock on the writer mutex or the reader pool).
class ActiveScope {
 public:
  explicit ActiveScope(const SqliteStore* store) : store_(store), outer_(innermost_) {
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
  const SqliteStore* const store_;
  const ActiveScope* const outer_;
  bool nested_ = false;
};

thread_local const ActiveScope* ActiveScope::innermost_ = nullptr;

absl::Status NestedError() {
  return absl::FailedPreconditionError(
      "transactions do not nest: the callback of a transaction started another one on the "
      "same store");
}

// Ends a transaction the callback left open (rollback), whatever the outcome.
void EnsureRolledBack(Connection& conn) {
  if (sqlite3_get_autocommit(conn.db()) == 0) {
    // Cannot fail with every statement reset; a failure would surface on the next BEGIN.
    conn.Exec("ROLLBACK").IgnoreError();
  }
}

absl::Status ApplyMigrations(Connection& conn) {
  OKR_RETURN_IF_ERROR(
      conn.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                      "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
  absl::Span<const SqliteMigration> migrations = SqliteMigrations();
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  {
    OKR_ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT MAX(version) FROM schema_migrations"));
    OKR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row && s.ColumnInt(0) > latest) {
      return absl::FailedPreconditionError(absl::StrCat("database schema version ", s.ColumnInt(0),
                                                        " is newer than this binary supports (",
                                                        latest, "); upgrade okr-service"));
    }
  }
  for (const SqliteMigration& m : migrations) {
    // Each migration and its record commit together; re-checking inside the write lock
    // makes concurrent Opens of the same file safe.
    OKR_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
    absl::Status status = [&]() -> absl::Status {
      OKR_ASSIGN_OR_RETURN(Statement s,
                           conn.Prepare("SELECT 1 FROM schema_migrations WHERE version = ?1"));
      s.BindInt(1, m.version);
      OKR_ASSIGN_OR_RETURN(bool applied, s.Step());
      if (applied) return absl::OkStatus();
      absl::Status applied_status = conn.ExecScript(m.sql);
      if (!applied_status.ok()) {
        return absl::Status(applied_status.code(),
                            absl::StrCat("migration ", m.version, " (", m.description,
                                         ") failed: ", applied_status.message()));
      }
      OKR_ASSIGN_OR_RETURN(Statement record,
                           conn.Prepare("INSERT INTO schema_migrations (version, applied_at) "
                                        "VALUES (?1, ?2)"));
      record.BindInt(1, m.version);
      record.BindText(2, absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
      return record.Run();
    }();
    if (status.ok()) status = conn.Exec("COMMIT");
    if (!status.ok()) {
      EnsureRolledBack(conn);
      return status;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Connection>> OpenWriter(const SqliteOptions& options) {
  OKR_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> conn,
      Connection::Open(options.path, Connection::Mode::kReadWrite, options.busy_timeout));
  OKR_ASSIGN_OR_RETURN(std::string mode, conn->QueryText("PRAGMA journal_mode=WAL"));
  if (mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat("cannot use WAL mode for \"", options.path,
                                                      "\" (journal_mode is ", mode, ")"));
  }
  OKR_RETURN_IF_ERROR(conn->ExecScript(options.sync == SqliteOptions::Sync::kFull
                                           ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL"));
  OKR_RETURN_IF_ERROR(conn->ExecScript("PRAGMA foreign_keys=ON"));
  OKR_ASSIGN_OR_RETURN(std::string fk, conn->QueryText("PRAGMA foreign_keys"));
  if (fk != "1") {
    return absl::FailedPreconditionError("this SQLite build does not enforce foreign keys");
  }
  OKR_RETURN_IF_ERROR(ApplyMigrations(*conn));
  return conn;
}

#undef OKR_TEAM_COLUMNS
#undef OKR_CYCLE_COLUMNS
#undef OKR_OBJECTIVE_COLUMNS
#undef OKR_KEY_RESULT_COLUMNS
#undef OKR_CHECK_IN_COLUMNS
#undef OKR_WORK_ITEM_COLUMNS
#undef OKR_LINK_SELECT

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("sqlite: path is required");
  if (options.read_connections < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sqlite: read_connections must be at least 1, got ", options.read_connections));
  }
  if (options.busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sqlite: busy_timeout must not be negative");
  }
  if (sqlite3_threadsafe() == 0) {
    return absl::FailedPreconditionError("sqlite: library built without thread safety");
  }
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, OpenWriter(options));
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    OKR_ASSIGN_OR_RETURN(
        std::unique_ptr<Connection> reader,
        Connection::Open(options.path, Connection::Mode::kReadOnly, options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(writer), std::move(readers)));
}

SqliteStore::SqliteStore(std::unique_ptr<Connection> writer,
                         std::vector<std::unique_ptr<Connection>> readers)
    : cycle_cache_(std::make_unique<CycleCache>()),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {
  absl::MutexLock lock(&pool_mu_);
  for (const auto& reader : readers_) idle_readers_.push_back(reader.get());
}

SqliteStore::~SqliteStore() = default;

Connection* SqliteStore::AcquireReader() {
  absl::MutexLock lock(&pool_mu_);
  pool_mu_.Await(absl::Condition(
      +[](std::vector<Connection*>* idle) { return !idle->empty(); }, &idle_readers_));
  Connection* reader = idle_readers_.back();
  idle_readers_.pop_back();
  return reader;
}

void SqliteStore::ReleaseReader(Connection* reader) {
  absl::MutexLock lock(&pool_mu_);
  idle_readers_.push_back(reader);
}

SqliteStore::PoolStats SqliteStore::pool_stats() const {
  absl::MutexLock lock(&pool_mu_);
  return PoolStats{static_cast<int64_t>(idle_readers_.size()),
                   static_cast<int64_t>(readers_.size())};
}

absl::Status SqliteStore::RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  ActiveScope scope(this);
  if (scope.nested()) return NestedError();
  PendingWrite me{&fn, absl::OkStatus(), false};
  {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(&me);
    while (!me.done && leader_active_) queue_cv_.Wait(&queue_mu_);
    if (me.done) return me.status;
    leader_active_ = true;
  }
  // Leader: commit batches until our own entry is done, then hand over.
  constexpr size_t kMaxBatch = 128;
  while (true) {
    std::vector<PendingWrite*> batch;
    {
      absl::MutexLock lock(&queue_mu_);
      const size_t n = std::min(queue_.size(), kMaxBatch);
      batch.assign(queue_.begin(), queue_.begin() + n);
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
    RunBatch(batch);
    // Cycles the batch changed may be cached again, now that it committed or rolled back.
    cycle_cache_->EndWrite();
    absl::MutexLock lock(&queue_mu_);
    for (PendingWrite* w : batch) w->done = true;
    if (me.done) {
      leader_active_ = false;
      queue_cv_.SignalAll();
      return me.status;
    }
    queue_cv_.SignalAll();
  }
}

void SqliteStore::RunBatch(const std::vector<PendingWrite*>& batch) {
  absl::MutexLock lock(&writer_mu_);
  Connection& conn = *writer_;
  // A previous failure may have left a transaction open; never run inside it.
  EnsureRolledBack(conn);
  absl::Status begin = conn.Exec("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    for (PendingWrite* w : batch) w->status = begin;
    return;
  }
  const bool single = batch.size() == 1;
  absl::Status broken;  // set when SQLite rolled the whole transaction back
  for (PendingWrite* w : batch) {
    if (!broken.ok()) {
      w->status = broken;
      continue;
    }
    if (!single) {
      w->status = conn.Exec("SAVEPOINT okr_write");
      if (!w->status.ok()) {
        broken = w->status;
        continue;
      }
    }
    SqliteTransaction tx(conn, /*read_only=*/false, cycle_cache_.get());
    w->status = (*w->fn)(tx);
    absl::Status rolled_back = tx.RolledBack();
    if (!rolled_back.ok()) {
      broken = rolled_back;
      if (w->status.ok()) w->status = rolled_back;
      continue;
    }
    if (single) continue;
    if (!w->status.ok()) {
      absl::Status undo = conn.Exec("ROLLBACK TO okr_write");
      if (undo.ok()) undo = conn.Exec("RELEASE okr_write");
      if (!undo.ok()) broken = undo;
    } else {
      absl::Status release = conn.Exec("RELEASE okr_write");
      if (!release.ok()) broken = w->status = release;
    }
  }
  if (!broken.ok()) {
    // Nothing of this batch may commit: fail every entry that thought it succeeded.
    for (PendingWrite* w : batch) {
      if (w->status.ok()) w->status = broken;
    }
    EnsureRolledBack(conn);
    return;
  }
  bool any_ok = false;
  for (PendingWrite* w : batch) any_ok = any_ok || w->status.ok();
  absl::Status end = any_ok ? conn.Exec("COMMIT") : absl::OkStatus();
  if (!end.ok()) {
    for (PendingWrite* w : batch) {
      if (w->status.ok()) w->status = end;
    }
  }
  EnsureRolledBack(conn);
}

absl::Status SqliteStore::RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  ActiveScope scope(this);
  if (scope.nested()) return NestedError();
  Connection* conn = AcquireReader();
  // Before the snapshot: a cycle write from now on keeps what this reads out of the cache.
  const uint64_t cache_generation = cycle_cache_->generation();
  absl::Status status = conn->Exec("BEGIN");
  if (status.ok()) {
    SqliteTransaction tx(*conn, /*read_only=*/true, cycle_cache_.get(), cache_generation);
    status = fn(tx);
  }
  // Ending a read transaction only releases the snapshot.
  EnsureRolledBack(*conn);
  ReleaseReader(conn);
  return status;
}

absl::Status SqliteStore::Ping() {
  ActiveScope scope(this);
  if (scope.nested()) return NestedError();
  Connection* conn = AcquireReader();
  absl::StatusOr<std::string> one = conn->QueryText("SELECT 1");
  ReleaseReader(conn);
  return one.status();
}

}  // namespace okr::storage
