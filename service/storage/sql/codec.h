// Row codecs of the shared SQL layer. Each stored entity (Team, Cycle, Objective,
// KeyResult, CheckIn, WorkItem, Event, Document) is described once, as a table of its
// columns; the table gives the column lists of the queries, the decoder of a row, the bind
// block of its fields and the INSERT/UPDATE statements. One encoding for SQLite and
// PostgreSQL, so both read and write the same rows. Also here: the messages that name
// rows, and paging.
//
//   const Entity<Team>& teams = Teams();
//   static const std::string* const kSql = new std::string(teams.Select("WHERE id = ?1"));
//   OKR_ASSIGN_OR_RETURN(auto s, session.Prepare(*kSql));
//   s->BindText(1, id);
//   OKR_ASSIGN_OR_RETURN(bool row, s->Step());
//   if (row) OKR_ASSIGN_OR_RETURN(Team team, teams.Read(*s));
//
// Decoders return INTERNAL for a corrupt row (an enum out of range, a value or JSON text
// that does not parse). The tracker-keyed fields (team projects, key result scopes) are
// JSON text columns in the encoding of service/storage/tracker_fields_codec.h; lists one
// value per line; agreements one per line as team \t agreed_by \t micros.
#ifndef OKR_SERVICE_STORAGE_SQL_CODEC_H_
#define OKR_SERVICE_STORAGE_SQL_CODEC_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/okr/events.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"
#include "service/storage/sql/driver.h"

namespace okr::storage::sql {

// --- Messages ----------------------------------------------------------------------------

std::string Quote(absl::string_view id);
std::string KeyResultLabel(absl::string_view objective_id, absl::string_view id);
absl::string_view TrackerName(Tracker tracker);
std::string WorkItemLabel(Tracker tracker, absl::string_view key);

// --- Input checks ------------------------------------------------------------------------

// INVALID_ARGUMENT for a tracker value outside the enum.
absl::Status CheckTracker(Tracker tracker);
// INVALID_ARGUMENT for an objective kind or state outside the enum.
absl::Status CheckObjectiveEnums(const Objective& o);
// INVALID_ARGUMENT for a key result type outside the enum.
absl::Status CheckKeyResultType(const KeyResult& kr);

// --- Entities ----------------------------------------------------------------------------

// One column of an entity's table: how to read it into, and bind it from, a T.
template <typename T>
struct Column {
  const char* name;
  const char* cast;  // SQL type of its parameter (CAST(?n AS <cast>))
  absl::Status (*read)(Statement& s, int col, T& row);
  void (*bind)(Statement& s, int index, const T& row);
  // Enums: the stored value and its valid range, checked once the whole row is read.
  int64_t (*raw)(const T& row) = nullptr;
  int64_t lo = 0;
  int64_t hi = 0;
};

// A stored entity: its table and columns (without `seq`), in bind order ?1, ?2, ...
template <typename T>
class Entity {
 public:
  Entity(const char* table, std::vector<Column<T>> columns, void (*set_seq)(T&, int64_t),
         std::string (*label)(const T&));

  int size() const { return static_cast<int>(columns_.size()); }
  // "seq, a, b, ..." (just "a, b, ..." without set_seq).
  const std::string& select_list() const { return select_list_; }
  // "SELECT <select_list> FROM <table> <tail>".
  std::string Select(absl::string_view tail) const;
  // INSERT of every column from ?1..?size(). With a `guard` condition, the row is only
  // inserted if it holds (INSERT ... SELECT CAST(?1 AS ...) WHERE guard).
  std::string Insert(absl::string_view guard, absl::string_view on_conflict) const;
  // UPDATE of every column but the first `keys` (the row's key, matched as "= ?i") and
  // the `unchanged` ones (matched as "IS ?i" instead of set), WHERE ... AND `where`.
  std::string Update(int keys, absl::string_view where,
                     std::initializer_list<absl::string_view> unchanged = {}) const;

  // The placeholder of the n-th argument bound after the row's columns ("?<size()+n>"), for
  // WHERE clauses of Insert/Update statements that take extra arguments (a revision).
  std::string Param(int n) const { return absl::StrCat("?", size() + n); }

  // Decodes the current row of a query selecting select_list() from column `first`.
  absl::StatusOr<T> Read(Statement& s, int first = 0) const;
  // Binds every column to ?1..?size().
  void Bind(Statement& s, const T& row) const;

 private:
  const char* const table_;
  const std::vector<Column<T>> columns_;
  void (*const set_seq_)(T&, int64_t);
  std::string (*const label_)(const T&);
  std::string select_list_;
};

const Entity<Team>& Teams();
const Entity<Cycle>& Cycles();
const Entity<Objective>& Objectives();
const Entity<KeyResult>& KeyResults();
const Entity<CheckIn>& CheckIns();
const Entity<WorkItem>& WorkItems();  // no seq: reads start at `tracker`
const Entity<Event>& Events();
const Entity<OkrTransaction::Document>& Documents();

// Links joined with their work item (`l` and `w`); append the WHERE clause.
#define OKR_SQL_LINK_SELECT                                                                 \
  "SELECT l.seq, l.objective_id, l.key_result_id, l.id, l.revision, l.create_time, "        \
  "l.update_time, w.tracker, w.item_key, w.title, w.url, w.done, w.weight, w.update_time, " \
  "w.external_id, w.source_updated, w.partial_credit, w.status, w.exclusion "               \
  "FROM work_item_links AS l JOIN work_items AS w "                                         \
  "ON w.tracker = l.tracker AND w.item_key = l.item_key "

// A row of OKR_SQL_LINK_SELECT.
absl::StatusOr<WorkItemLink> ReadLink(Statement& s);
// Binds objective_id, key_result_id, id, tracker, item_key, revision, create_time,
// update_time to ?1..?8.
void BindLink(Statement& s, const WorkItemLink& l);

// --- Paging -------------------------------------------------------------------------------

// INVALID_ARGUMENT for a non-positive limit.
absl::Status CheckPage(const PageQuery& page);
// Binds after_seq to ?1 and limit + 1 to ?2 (the paging convention of the queries).
void BindPage(Statement& s, const PageQuery& page);

// Reads the rows of `s`; with a `limit`, up to that many of a query that selects
// limit + 1 rows (`has_more` tells whether there was another).
template <typename T, typename Read>
absl::StatusOr<std::pair<std::vector<T>, bool>> ReadRows(Statement& s, int64_t limit, Read read) {
  std::pair<std::vector<T>, bool> rows;
  while (true) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (static_cast<int64_t>(rows.first.size()) >= limit) {
      rows.second = true;
      break;
    }
    absl::StatusOr<T> item = read(s);
    if (!item.ok()) return item.status();
    rows.first.push_back(*std::move(item));
  }
  return rows;
}

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_CODEC_H_
