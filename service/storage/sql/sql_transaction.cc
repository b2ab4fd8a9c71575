#include "service/storage/sql/sql_transaction.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"
#include "service/storage/sql/codec.h"

namespace okr::storage::sql {
namespace {

// Reads a row of an entity's select_list().
template <typename T>
auto ReaderOf(const Entity<T>& entity) {
  return [&entity](Statement& s) { return entity.Read(s); };
}

// The SQL text `make()` returns, built once per call site (the hot paths build no SQL).
#define OKR_SQL_ONCE(make)                                        \
  ([&]() -> const std::string& {                                  \
    static const std::string* const kSql = new std::string(make); \
    return *kSql;                                                 \
  }())

// Rows of "SELECT objective_id, key_result_id, since, generation, due FROM writeback_queue".
absl::StatusOr<OkrTransaction::WriteBackEntry> WriteBackEntryRow(Statement& s) {
  OkrTransaction::WriteBackEntry e;
  e.objective_id = s.ColumnText(0);
  e.key_result_id = s.ColumnText(1);
  e.since = s.ColumnTime(2);
  e.generation = s.ColumnInt(3);
  e.due = s.ColumnTime(4);
  OKR_RETURN_IF_ERROR(s.column_status());
  return e;
}

// Rows of "SELECT tracker, item_key, since, generation, due FROM writeback_items".
absl::StatusOr<OkrTransaction::ItemWriteBackEntry> ItemWriteBackEntryRow(Statement& s) {
  OkrTransaction::ItemWriteBackEntry e;
  e.tracker = static_cast<Tracker>(s.ColumnInt(0));
  e.key = s.ColumnText(1);
  e.since = s.ColumnTime(2);
  e.generation = s.ColumnInt(3);
  e.due = s.ColumnTime(4);
  OKR_RETURN_IF_ERROR(s.column_status());
  return e;
}

}  // namespace

// --- Helpers -------------------------------------------------------------------------------

void SqlTransaction::Arg::BindTo(Statement& s, int index) const {
  switch (kind_) {
    case kText:
      s.BindText(index, text_);
      return;
    case kInt:
      s.BindInt(index, int_);
      return;
    case kTime:
      s.BindTime(index, time_);
      return;
  }
}

absl::Status SqlTransaction::CheckWritable(absl::string_view method) const {
  if (!options_.read_only) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(method, " is not allowed in a read-only transaction"));
}

absl::StatusOr<SqlTransaction::StatementPtr> SqlTransaction::Prepare(absl::string_view sql,
                                                                     Args args, int first) {
  OKR_ASSIGN_OR_RETURN(StatementPtr s, session_.Prepare(sql));
  for (const Arg& arg : args) arg.BindTo(*s, first++);
  return s;
}

absl::StatusOr<int64_t> SqlTransaction::Changed(Statement& s) {
  OKR_RETURN_IF_ERROR(s.Run());
  return s.affected();
}

absl::StatusOr<int64_t> SqlTransaction::Changed(absl::string_view sql, Args args) {
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(sql, args));
  return Changed(*s);
}

absl::StatusOr<bool> SqlTransaction::Exists(absl::string_view sql, Args args) {
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(sql, args));
  return s->Step();
}

absl::StatusOr<std::optional<std::string>> SqlTransaction::FirstText(absl::string_view sql,
                                                                     Args args) {
  return Row<std::string>(
      sql, args, [](Statement& s) -> absl::StatusOr<std::string> { return s.ColumnText(0); });
}

template <typename T, typename Read>
absl::StatusOr<std::vector<T>> SqlTransaction::Rows(absl::string_view sql, Args args, Read read) {
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(sql, args));
  OKR_ASSIGN_OR_RETURN(auto rows, ReadRows<T>(*s, std::numeric_limits<int64_t>::max(), read));
  return std::move(rows.first);
}

template <typename T, typename Read>
absl::StatusOr<Page<T>> SqlTransaction::PageOf(absl::string_view sql, const PageQuery& page,
                                               Args args, Read read) {
  OKR_RETURN_IF_ERROR(CheckPage(page));
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(sql, args, /*first=*/3));
  BindPage(*s, page);
  OKR_ASSIGN_OR_RETURN(auto rows, ReadRows<T>(*s, page.limit, read));
  Page<T> out;
  out.items = std::move(rows.first);
  out.has_more = rows.second;
  return out;
}

template <typename T, typename Read>
absl::StatusOr<std::optional<T>> SqlTransaction::Row(absl::string_view sql, Args args, Read read) {
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(sql, args));
  OKR_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<T>();
  OKR_ASSIGN_OR_RETURN(T value, read(*s));
  return std::optional<T>(std::move(value));
}

template <typename T>
absl::StatusOr<int64_t> SqlTransaction::WriteRow(absl::string_view sql, const Entity<T>& entity,
                                                 const T& row, Args extra) {
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(sql, extra, entity.size() + 1));
  entity.Bind(*s, row);
  return Changed(*s);
}

absl::Status SqlTransaction::NoRowChanged(absl::string_view revision_sql, Args key,
                                          const std::string& label, int64_t expected_revision) {
  OKR_ASSIGN_OR_RETURN(std::optional<std::string> revision, FirstText(revision_sql, key));
  if (!revision.has_value()) return absl::NotFoundError(absl::StrCat(label, " not found"));
  if (*revision != absl::StrCat(expected_revision)) {
    return absl::AbortedError(absl::StrCat(label, " was modified concurrently: revision is ",
                                           *revision, ", expected ", expected_revision));
  }
  return absl::OkStatus();
}

// Teams -----------------------------------------------------------------------------------

absl::Status SqlTransaction::InsertTeam(const Team& team) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertTeam"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      WriteRow(OKR_SQL_ONCE(Teams().Insert("CAST(?3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM "
                                           "teams WHERE id = CAST(?3 AS TEXT))",
                                           "ON CONFLICT DO NOTHING")),
               Teams(), team));
  if (inserted == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM teams WHERE id = ?1", {team.id}));
  if (exists) {
    return absl::AlreadyExistsError(absl::StrCat("team ", Quote(team.id), " already exists"));
  }
  return absl::FailedPreconditionError(absl::StrCat("team ", Quote(team.id), ": parent team ",
                                                    Quote(team.parent_id), " does not exist"));
}

absl::StatusOr<Team> SqlTransaction::GetTeam(const std::string& id) {
  OKR_ASSIGN_OR_RETURN(
      std::optional<Team> team,
      Row<Team>(OKR_SQL_ONCE(Teams().Select("WHERE id = ?1")), {id}, ReaderOf(Teams())));
  if (!team.has_value()) return absl::NotFoundError(absl::StrCat("team ", Quote(id), " not found"));
  return *std::move(team);
}

absl::StatusOr<Page<Team>> SqlTransaction::ListTeams(const std::string& parent_id,
                                                     const PageQuery& page) {
  if (parent_id.empty()) {
    return PageOf<Team>(OKR_SQL_ONCE(Teams().Select("WHERE seq > ?1 ORDER BY seq LIMIT ?2")), page,
                        {}, ReaderOf(Teams()));
  }
  return PageOf<Team>(
      OKR_SQL_ONCE(Teams().Select("WHERE seq > ?1 AND parent_id = ?3 ORDER BY seq LIMIT ?2")), page,
      {parent_id}, ReaderOf(Teams()));
}

absl::Status SqlTransaction::UpdateTeam(const Team& team, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateTeam"));
  OKR_ASSIGN_OR_RETURN(
      int64_t updated,
      WriteRow(OKR_SQL_ONCE(Teams().Update(
                   1, absl::StrCat("revision = ", Teams().Param(1),
                                   " AND (CAST(?3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM "
                                   "teams AS p WHERE p.id = CAST(?3 AS TEXT)))"))),
               Teams(), team, {expected_revision}));
  if (updated == 1) return absl::OkStatus();
  OKR_RETURN_IF_ERROR(NoRowChanged("SELECT revision FROM teams WHERE id = ?1", {team.id},
                                   absl::StrCat("team ", Quote(team.id)), expected_revision));
  return absl::FailedPreconditionError(absl::StrCat("team ", Quote(team.id), ": parent team ",
                                                    Quote(team.parent_id), " does not exist"));
}

absl::Status SqlTransaction::DeleteTeam(const std::string& id, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteTeam"));
  const std::string label = absl::StrCat("team ", Quote(id));
  OKR_ASSIGN_OR_RETURN(
      std::optional<std::string> objective,
      FirstText("SELECT id FROM objectives WHERE team_id = ?1 ORDER BY seq LIMIT 1", {id}));
  if (objective.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, " is the team of objective ", Quote(*objective)));
  }
  OKR_ASSIGN_OR_RETURN(
      std::optional<std::string> child,
      FirstText("SELECT id FROM teams WHERE parent_id = ?1 ORDER BY seq LIMIT 1", {id}));
  if (child.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, " is the parent of team ", Quote(*child)));
  }
  OKR_ASSIGN_OR_RETURN(int64_t deleted, Changed("DELETE FROM teams WHERE id = ?1 AND revision = ?2",
                                                {id, expected_revision}));
  if (deleted == 1) return absl::OkStatus();
  return NoRowChanged("SELECT revision FROM teams WHERE id = ?1", {id}, label, expected_revision);
}

// Cycles ----------------------------------------------------------------------------------

absl::Status SqlTransaction::InsertCycle(const Cycle& cycle) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertCycle"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      WriteRow(OKR_SQL_ONCE(Cycles().Insert("", "ON CONFLICT DO NOTHING")), Cycles(), cycle));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat("cycle ", Quote(cycle.id), " already exists"));
}

absl::StatusOr<Cycle> SqlTransaction::GetCycle(const std::string& id) {
  CycleCache* const cache = options_.cycle_epoch >= 0 ? options_.cycles : nullptr;
  if (cache != nullptr) {
    if (std::optional<Cycle> cached = cache->Find(id, options_.cycle_epoch); cached.has_value()) {
      return *cached;
    }
  }
  OKR_ASSIGN_OR_RETURN(
      std::optional<Cycle> cycle,
      Row<Cycle>(OKR_SQL_ONCE(Cycles().Select("WHERE id = ?1")), {id}, ReaderOf(Cycles())));
  if (!cycle.has_value()) {
    return absl::NotFoundError(absl::StrCat("cycle ", Quote(id), " not found"));
  }
  if (cache != nullptr && options_.read_only) cache->Put(*cycle, options_.cycle_epoch);
  return *std::move(cycle);
}

absl::StatusOr<Page<Cycle>> SqlTransaction::ListCycles(const PageQuery& page) {
  return PageOf<Cycle>(OKR_SQL_ONCE(Cycles().Select("WHERE seq > ?1 ORDER BY seq LIMIT ?2")), page,
                       {}, ReaderOf(Cycles()));
}

absl::Status SqlTransaction::CycleChanged() {
  options_.cycle_epoch = -1;  // this transaction's own writes are not in the cache
  return session_.ChangedCycle();
}

absl::Status SqlTransaction::UpdateCycle(const Cycle& cycle, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateCycle"));
  OKR_RETURN_IF_ERROR(session_.WillChangeCycle(cycle.id));
  OKR_ASSIGN_OR_RETURN(
      int64_t updated,
      WriteRow(OKR_SQL_ONCE(Cycles().Update(1, absl::StrCat("revision = ", Cycles().Param(1)))),
               Cycles(), cycle, {expected_revision}));
  if (updated == 1) return CycleChanged();
  return NoRowChanged("SELECT revision FROM cycles WHERE id = ?1", {cycle.id},
                      absl::StrCat("cycle ", Quote(cycle.id)), expected_revision);
}

absl::Status SqlTransaction::DeleteCycle(const std::string& id, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteCycle"));
  OKR_ASSIGN_OR_RETURN(
      std::optional<std::string> used,
      FirstText("SELECT id FROM objectives WHERE cycle_id = ?1 ORDER BY seq LIMIT 1", {id}));
  if (used.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cycle ", Quote(id), " is the cycle of objective ", Quote(*used)));
  }
  OKR_RETURN_IF_ERROR(session_.WillChangeCycle(id));
  OKR_ASSIGN_OR_RETURN(
      int64_t deleted,
      Changed("DELETE FROM cycles WHERE id = ?1 AND revision = ?2", {id, expected_revision}));
  if (deleted == 1) return CycleChanged();
  return NoRowChanged("SELECT revision FROM cycles WHERE id = ?1", {id},
                      absl::StrCat("cycle ", Quote(id)), expected_revision);
}

// Objectives ------------------------------------------------------------------------------

absl::Status SqlTransaction::ObjectiveReferenceError(const Objective& o) {
  std::string label = absl::StrCat("objective ", Quote(o.id));
  OKR_ASSIGN_OR_RETURN(bool team, Exists("SELECT 1 FROM teams WHERE id = ?1", {o.team_id}));
  if (!team) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, ": team ", Quote(o.team_id), " does not exist"));
  }
  OKR_ASSIGN_OR_RETURN(bool cycle, Exists("SELECT 1 FROM cycles WHERE id = ?1", {o.cycle_id}));
  if (!cycle) {
    return absl::FailedPreconditionError(
        absl::StrCat(label, ": cycle ", Quote(o.cycle_id), " does not exist"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(label, ": parent objective ", Quote(o.parent_id), " does not exist"));
}

absl::Status SqlTransaction::InsertObjective(const Objective& o) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertObjective"));
  OKR_RETURN_IF_ERROR(CheckObjectiveEnums(o));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      WriteRow(OKR_SQL_ONCE(Objectives().Insert(
                   "EXISTS (SELECT 1 FROM teams WHERE id = CAST(?4 AS TEXT)) "
                   "AND EXISTS (SELECT 1 FROM cycles WHERE id = CAST(?5 AS TEXT)) "
                   "AND (CAST(?6 AS TEXT) IS NULL OR "
                   "EXISTS (SELECT 1 FROM objectives WHERE id = CAST(?6 AS TEXT)))",
                   "ON CONFLICT DO NOTHING")),
               Objectives(), o));
  if (inserted == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM objectives WHERE id = ?1", {o.id}));
  if (exists) {
    return absl::AlreadyExistsError(absl::StrCat("objective ", Quote(o.id), " already exists"));
  }
  return ObjectiveReferenceError(o);
}

absl::StatusOr<Objective> SqlTransaction::GetObjective(const std::string& id) {
  ObjectiveCache* const cache = options_.objective_epoch >= 0 ? options_.objectives : nullptr;
  if (cache != nullptr) {
    if (std::optional<Objective> cached = cache->Find(id, options_.objective_epoch)) {
      return *std::move(cached);
    }
  }
  OKR_ASSIGN_OR_RETURN(std::optional<Objective> objective,
                       Row<Objective>(OKR_SQL_ONCE(Objectives().Select("WHERE id = ?1")), {id},
                                      ReaderOf(Objectives())));
  if (!objective.has_value()) {
    return absl::NotFoundError(absl::StrCat("objective ", Quote(id), " not found"));
  }
  if (cache != nullptr && options_.read_only) cache->Put(*objective, options_.objective_epoch);
  return *std::move(objective);
}

absl::Status SqlTransaction::UpdateObjective(const Objective& o, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateObjective"));
  OKR_RETURN_IF_ERROR(CheckObjectiveEnums(o));
  OKR_RETURN_IF_ERROR(session_.WillChangeObjective(o.id));
  if (session_.dialect().narrow_updates) {
    // Common case (progress roll-up, lifecycle): the indexed columns team_id, cycle_id and
    // parent_id keep their values; the WHERE clause makes this a no-op otherwise.
    OKR_ASSIGN_OR_RETURN(int64_t narrow,
                         WriteRow(OKR_SQL_ONCE(Objectives().Update(
                                      1, absl::StrCat("revision = ", Objectives().Param(1)),
                                      {"team_id", "cycle_id", "parent_id"})),
                                  Objectives(), o, {expected_revision}));
    if (narrow == 1) return absl::OkStatus();
  }
  OKR_ASSIGN_OR_RETURN(
      int64_t updated,
      WriteRow(OKR_SQL_ONCE(Objectives().Update(
                   1, absl::StrCat("revision = ", Objectives().Param(1)) +
                          " AND EXISTS (SELECT 1 FROM teams WHERE id = ?4) "
                          "AND EXISTS (SELECT 1 FROM cycles WHERE id = ?5) "
                          "AND (CAST(?6 AS TEXT) IS NULL OR "
                          "EXISTS (SELECT 1 FROM objectives AS p WHERE p.id = ?6))")),
               Objectives(), o, {expected_revision}));
  if (updated == 1) return absl::OkStatus();
  OKR_RETURN_IF_ERROR(NoRowChanged("SELECT revision FROM objectives WHERE id = ?1", {o.id},
                                   absl::StrCat("objective ", Quote(o.id)), expected_revision));
  return ObjectiveReferenceError(o);
}

absl::Status SqlTransaction::DeleteObjective(const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteObjective"));
  // Its children lose their parent (ON DELETE SET NULL): more rows change than this one.
  OKR_RETURN_IF_ERROR(session_.WillChangeObjectives());
  OKR_ASSIGN_OR_RETURN(int64_t deleted, Changed("DELETE FROM objectives WHERE id = ?1", {id}));
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat("objective ", Quote(id), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<Objective>> SqlTransaction::ListObjectives(const ObjectiveFilter& filter,
                                                               const PageQuery& page) {
  // One prepared statement per combination of filters, so each can use its index.
  std::string where = "WHERE seq > ?1";
  std::vector<Arg> args;
  for (const auto& [column, value] :
       {std::pair<const char*, const std::string*>{"team_id", &filter.team_id},
        {"cycle_id", &filter.cycle_id},
        {"parent_id", &filter.parent_id}}) {
    if (value->empty()) continue;
    args.emplace_back(*value);
    absl::StrAppend(&where, " AND ", column, " = ?", args.size() + 2);
  }
  absl::StrAppend(&where, " ORDER BY seq LIMIT ?2");
  const std::string sql = Objectives().Select(where);
  switch (args.size()) {
    case 0:
      return PageOf<Objective>(sql, page, {}, ReaderOf(Objectives()));
    case 1:
      return PageOf<Objective>(sql, page, {args[0]}, ReaderOf(Objectives()));
    case 2:
      return PageOf<Objective>(sql, page, {args[0], args[1]}, ReaderOf(Objectives()));
    default:
      return PageOf<Objective>(sql, page, {args[0], args[1], args[2]}, ReaderOf(Objectives()));
  }
}

// Key results -----------------------------------------------------------------------------

absl::Status SqlTransaction::InsertKeyResult(const KeyResult& kr) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertKeyResult"));
  OKR_RETURN_IF_ERROR(CheckKeyResultType(kr));
  OKR_ASSIGN_OR_RETURN(int64_t inserted,
                       WriteRow(OKR_SQL_ONCE(KeyResults().Insert(
                                    "EXISTS (SELECT 1 FROM objectives WHERE id = CAST(?1 AS TEXT))",
                                    "ON CONFLICT DO NOTHING")),
                                KeyResults(), kr));
  if (inserted == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(bool exists,
                       Exists("SELECT 1 FROM key_results WHERE objective_id = ?1 AND id = ?2",
                              {kr.objective_id, kr.id}));
  if (exists) {
    return absl::AlreadyExistsError(
        absl::StrCat(KeyResultLabel(kr.objective_id, kr.id), " already exists"));
  }
  return absl::NotFoundError(absl::StrCat("objective ", Quote(kr.objective_id), " not found"));
}

absl::StatusOr<KeyResult> SqlTransaction::GetKeyResult(const std::string& objective_id,
                                                       const std::string& id) {
  OKR_ASSIGN_OR_RETURN(
      std::optional<KeyResult> kr,
      Row<KeyResult>(OKR_SQL_ONCE(KeyResults().Select("WHERE objective_id = ?1 AND id = ?2")),
                     {objective_id, id}, ReaderOf(KeyResults())));
  if (!kr.has_value()) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, id), " not found"));
  }
  return *std::move(kr);
}

absl::Status SqlTransaction::UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateKeyResult"));
  OKR_RETURN_IF_ERROR(CheckKeyResultType(kr));
  if (session_.dialect().narrow_updates) {
    // Common case (progress, check-ins): the columns of the scoped-key-result index (type,
    // tracker_scopes) keep their values; leave them out of SET.
    OKR_ASSIGN_OR_RETURN(int64_t narrow,
                         WriteRow(OKR_SQL_ONCE(KeyResults().Update(
                                      2, absl::StrCat("revision = ", KeyResults().Param(1)),
                                      {"type", "tracker_scopes"})),
                                  KeyResults(), kr, {expected_revision}));
    if (narrow == 1) return absl::OkStatus();
  }
  OKR_ASSIGN_OR_RETURN(int64_t updated,
                       WriteRow(OKR_SQL_ONCE(KeyResults().Update(
                                    2, absl::StrCat("revision = ", KeyResults().Param(1)))),
                                KeyResults(), kr, {expected_revision}));
  if (updated == 1) return absl::OkStatus();
  const std::string label = KeyResultLabel(kr.objective_id, kr.id);
  OKR_ASSIGN_OR_RETURN(
      std::optional<std::string> revision,
      FirstText("SELECT revision FROM key_results WHERE objective_id = ?1 AND id = ?2",
                {kr.objective_id, kr.id}));
  if (!revision.has_value()) return absl::NotFoundError(absl::StrCat(label, " not found"));
  return absl::AbortedError(absl::StrCat(label, " was modified concurrently: revision is ",
                                         *revision, ", expected ", expected_revision));
}

absl::Status SqlTransaction::DeleteKeyResult(const std::string& objective_id,
                                             const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteKeyResult"));
  OKR_ASSIGN_OR_RETURN(
      int64_t deleted,
      Changed("DELETE FROM key_results WHERE objective_id = ?1 AND id = ?2", {objective_id, id}));
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, id), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<KeyResult>> SqlTransaction::ListKeyResults(const std::string& objective_id,
                                                               const PageQuery& page) {
  return PageOf<KeyResult>(OKR_SQL_ONCE(KeyResults().Select(
                               "WHERE objective_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2")),
                           page, {objective_id}, ReaderOf(KeyResults()));
}

absl::StatusOr<std::vector<KeyResult>> SqlTransaction::AllKeyResults(
    const std::string& objective_id) {
  return Rows<KeyResult>(OKR_SQL_ONCE(KeyResults().Select("WHERE objective_id = ?1 ORDER BY seq")),
                         {objective_id}, ReaderOf(KeyResults()));
}

absl::StatusOr<std::vector<KeyResult>> SqlTransaction::ScopedKeyResults() {
  return Rows<KeyResult>(
      OKR_SQL_ONCE(KeyResults().Select("WHERE type = 3 AND tracker_scopes <> '{}' ORDER BY seq")),
      {}, ReaderOf(KeyResults()));
}

// Check-ins -------------------------------------------------------------------------------

absl::Status SqlTransaction::InsertCheckIn(const CheckIn& c) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertCheckIn"));
  OKR_ASSIGN_OR_RETURN(int64_t inserted,
                       WriteRow(OKR_SQL_ONCE(CheckIns().Insert(
                                    "EXISTS (SELECT 1 FROM key_results WHERE objective_id = "
                                    "CAST(?1 AS TEXT) AND id = CAST(?2 AS TEXT))",
                                    "ON CONFLICT DO NOTHING")),
                                CheckIns(), c));
  if (inserted == 1) return absl::OkStatus();
  const std::string kr_label = KeyResultLabel(c.objective_id, c.key_result_id);
  OKR_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM check_ins WHERE objective_id = ?1 AND "
                                           "key_result_id = ?2 AND id = ?3",
                                           {c.objective_id, c.key_result_id, c.id}));
  if (exists) {
    return absl::AlreadyExistsError(
        absl::StrCat("check-in ", Quote(c.id), " of ", kr_label, " already exists"));
  }
  return absl::NotFoundError(absl::StrCat(kr_label, " not found"));
}

absl::StatusOr<CheckIn> SqlTransaction::GetCheckIn(const std::string& objective_id,
                                                   const std::string& key_result_id,
                                                   const std::string& id) {
  OKR_ASSIGN_OR_RETURN(std::optional<CheckIn> check_in,
                       Row<CheckIn>(OKR_SQL_ONCE(CheckIns().Select(
                                        "WHERE objective_id = ?1 AND key_result_id = ?2 AND "
                                        "id = ?3")),
                                    {objective_id, key_result_id, id}, ReaderOf(CheckIns())));
  if (!check_in.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "check-in ", Quote(id), " of ", KeyResultLabel(objective_id, key_result_id), " not found"));
  }
  return *std::move(check_in);
}

absl::StatusOr<Page<CheckIn>> SqlTransaction::ListCheckIns(const std::string& objective_id,
                                                           const std::string& key_result_id,
                                                           const PageQuery& page) {
  return PageOf<CheckIn>(
      OKR_SQL_ONCE(CheckIns().Select("WHERE objective_id = ?3 AND key_result_id = ?4 AND seq > ?1 "
                                     "ORDER BY seq LIMIT ?2")),
      page, {objective_id, key_result_id}, ReaderOf(CheckIns()));
}

// Work items ------------------------------------------------------------------------------

absl::StatusOr<std::optional<WorkItem>> SqlTransaction::GetWorkItem(Tracker tracker,
                                                                    const std::string& key) {
  return Row<WorkItem>(OKR_SQL_ONCE(WorkItems().Select("WHERE tracker = ?1 AND item_key = ?2")),
                       {tracker, key}, ReaderOf(WorkItems()));
}

absl::StatusOr<std::optional<WorkItem>> SqlTransaction::GetWorkItemByExternalId(
    Tracker tracker, const std::string& external_id) {
  return Row<WorkItem>(OKR_SQL_ONCE(WorkItems().Select("WHERE tracker = ?1 AND external_id = ?2")),
                       {tracker, external_id}, ReaderOf(WorkItems()));
}

absl::Status SqlTransaction::UpsertWorkItem(const WorkItem& item) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpsertWorkItem"));
  OKR_RETURN_IF_ERROR(CheckTracker(item.tracker));
  // An external id belonging to another item refuses the write (instead of violating the
  // unique index, which would abort a PostgreSQL transaction).
  OKR_ASSIGN_OR_RETURN(
      int64_t written,
      WriteRow(OKR_SQL_ONCE(WorkItems().Insert(
                   "CAST(?8 AS TEXT) IS NULL OR NOT EXISTS (SELECT 1 FROM work_items WHERE "
                   "tracker = CAST(?1 AS INTEGER) AND external_id = CAST(?8 AS TEXT) AND "
                   "item_key <> CAST(?2 AS TEXT))",
                   "ON CONFLICT (tracker, item_key) DO UPDATE SET title = excluded.title, "
                   "url = excluded.url, done = excluded.done, weight = excluded.weight, "
                   "update_time = excluded.update_time, external_id = excluded.external_id, "
                   "source_updated = excluded.source_updated, "
                   "partial_credit = excluded.partial_credit, status = excluded.status, "
                   "exclusion = excluded.exclusion")),
               WorkItems(), item));
  if (written == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(WorkItemLabel(item.tracker, item.key),
                                               ": external id ", Quote(item.external_id),
                                               " belongs to another item"));
}

absl::Status SqlTransaction::RenameWorkItem(Tracker tracker, const std::string& old_key,
                                            const std::string& new_key) {
  OKR_RETURN_IF_ERROR(CheckWritable("RenameWorkItem"));
  OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> item, GetWorkItem(tracker, old_key));
  if (!item.has_value()) {
    return absl::NotFoundError(absl::StrCat(WorkItemLabel(tracker, old_key), " not found"));
  }
  OKR_ASSIGN_OR_RETURN(
      bool taken,
      Exists("SELECT 1 FROM work_items WHERE tracker = ?1 AND item_key = ?2", {tracker, new_key}));
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
       {"UPDATE work_item_links SET item_key = ?3 WHERE tracker = ?1 AND item_key = ?2",
        "UPDATE writeback_state SET item_key = ?3 WHERE tracker = ?1 AND item_key = ?2",
        "UPDATE writeback_items SET item_key = ?3 WHERE tracker = ?1 AND item_key = ?2"}) {
    OKR_RETURN_IF_ERROR(Changed(sql, {tracker, old_key, new_key}).status());
  }
  OKR_RETURN_IF_ERROR(
      Changed("DELETE FROM work_items WHERE tracker = ?1 AND item_key = ?2", {tracker, old_key})
          .status());
  renamed.external_id = item->external_id;
  return UpsertWorkItem(renamed);
}

absl::Status SqlTransaction::DeleteWorkItem(Tracker tracker, const std::string& key) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWorkItem"));
  int64_t deleted = 0;
  for (absl::string_view sql : {"DELETE FROM work_item_links WHERE tracker = ?1 AND item_key = ?2",
                                "DELETE FROM writeback_state WHERE tracker = ?1 AND item_key = ?2",
                                "DELETE FROM writeback_items WHERE tracker = ?1 AND item_key = ?2",
                                "DELETE FROM work_items WHERE tracker = ?1 AND item_key = ?2"}) {
    OKR_ASSIGN_OR_RETURN(deleted, Changed(sql, {tracker, key}));
  }
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat(WorkItemLabel(tracker, key), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WorkItem>> SqlTransaction::LinkedWorkItems(Tracker tracker) {
  const char* by_bytes = session_.dialect().byte_order;
  return Rows<WorkItem>(
      WorkItems().Select(absl::StrCat("AS w WHERE tracker = ?1 AND EXISTS (SELECT 1 FROM "
                                      "work_item_links AS l WHERE l.tracker = w.tracker AND "
                                      "l.item_key = w.item_key) ORDER BY item_key",
                                      by_bytes)),
      {tracker}, ReaderOf(WorkItems()));
}

// Work item links -------------------------------------------------------------------------

absl::Status SqlTransaction::InsertWorkItemLink(const WorkItemLink& link) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertWorkItemLink"));
  OKR_RETURN_IF_ERROR(CheckTracker(link.item.tracker));
  OKR_ASSIGN_OR_RETURN(
      StatementPtr s,
      Prepare("INSERT INTO work_item_links (objective_id, key_result_id, id, tracker, item_key, "
              "revision, create_time, update_time) "
              "SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS INTEGER), "
              "CAST(?5 AS TEXT), CAST(?6 AS BIGINT), CAST(?7 AS BIGINT), CAST(?8 AS BIGINT) "
              "WHERE EXISTS (SELECT 1 FROM key_results WHERE objective_id = CAST(?1 AS TEXT) AND "
              "id = CAST(?2 AS TEXT)) AND EXISTS (SELECT 1 FROM work_items WHERE "
              "tracker = CAST(?4 AS INTEGER) AND item_key = CAST(?5 AS TEXT)) "
              "ON CONFLICT DO NOTHING"));
  BindLink(*s, link);
  OKR_ASSIGN_OR_RETURN(int64_t inserted, Changed(*s));
  if (inserted == 1) return absl::OkStatus();
  const std::string kr_label = KeyResultLabel(link.objective_id, link.key_result_id);
  OKR_ASSIGN_OR_RETURN(bool same_id,
                       Exists("SELECT 1 FROM work_item_links WHERE objective_id = ?1 AND "
                              "key_result_id = ?2 AND id = ?3",
                              {link.objective_id, link.key_result_id, link.id}));
  if (same_id) {
    return absl::AlreadyExistsError(
        absl::StrCat("work item link ", Quote(link.id), " of ", kr_label, " already exists"));
  }
  OKR_ASSIGN_OR_RETURN(
      bool same_item,
      Exists("SELECT 1 FROM work_item_links WHERE objective_id = ?1 AND "
             "key_result_id = ?2 AND tracker = ?3 AND item_key = ?4",
             {link.objective_id, link.key_result_id, link.item.tracker, link.item.key}));
  if (same_item) {
    return absl::AlreadyExistsError(absl::StrCat(kr_label, " is already linked to ",
                                                 WorkItemLabel(link.item.tracker, link.item.key)));
  }
  OKR_ASSIGN_OR_RETURN(bool kr,
                       Exists("SELECT 1 FROM key_results WHERE objective_id = ?1 AND id = ?2",
                              {link.objective_id, link.key_result_id}));
  if (!kr) return absl::NotFoundError(absl::StrCat(kr_label, " not found"));
  return absl::FailedPreconditionError(absl::StrCat(WorkItemLabel(link.item.tracker, link.item.key),
                                                    " does not exist; upsert it before linking"));
}

absl::StatusOr<WorkItemLink> SqlTransaction::GetWorkItemLink(const std::string& objective_id,
                                                             const std::string& key_result_id,
                                                             const std::string& id) {
  OKR_ASSIGN_OR_RETURN(std::optional<WorkItemLink> link,
                       Row<WorkItemLink>(OKR_SQL_LINK_SELECT "WHERE l.objective_id = ?1 AND "
                                                             "l.key_result_id = ?2 AND l.id = ?3",
                                         {objective_id, key_result_id, id}, ReadLink));
  if (!link.has_value()) {
    return absl::NotFoundError(absl::StrCat("work item link ", Quote(id), " of ",
                                            KeyResultLabel(objective_id, key_result_id),
                                            " not found"));
  }
  return *std::move(link);
}

absl::StatusOr<WorkItemLink> SqlTransaction::FindWorkItemLink(const std::string& objective_id,
                                                              const std::string& key_result_id,
                                                              Tracker tracker,
                                                              const std::string& key) {
  OKR_ASSIGN_OR_RETURN(
      std::optional<WorkItemLink> link,
      Row<WorkItemLink>(OKR_SQL_LINK_SELECT "WHERE l.objective_id = ?1 AND l.key_result_id = ?2 "
                                            "AND l.tracker = ?3 AND l.item_key = ?4",
                        {objective_id, key_result_id, tracker, key}, ReadLink));
  if (!link.has_value()) {
    return absl::NotFoundError(absl::StrCat(KeyResultLabel(objective_id, key_result_id),
                                            " has no link to ", WorkItemLabel(tracker, key)));
  }
  return *std::move(link);
}

absl::Status SqlTransaction::DeleteWorkItemLink(const std::string& objective_id,
                                                const std::string& key_result_id,
                                                const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWorkItemLink"));
  OKR_ASSIGN_OR_RETURN(int64_t deleted, Changed("DELETE FROM work_item_links WHERE objective_id = "
                                                "?1 AND key_result_id = ?2 AND id = ?3",
                                                {objective_id, key_result_id, id}));
  if (deleted == 0) {
    return absl::NotFoundError(absl::StrCat("work item link ", Quote(id), " of ",
                                            KeyResultLabel(objective_id, key_result_id),
                                            " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<WorkItemLink>> SqlTransaction::ListWorkItemLinks(
    const std::string& objective_id, const std::string& key_result_id, const PageQuery& page) {
  return PageOf<WorkItemLink>(OKR_SQL_LINK_SELECT
                              "WHERE l.objective_id = ?3 AND "
                              "l.key_result_id = ?4 AND l.seq > ?1 "
                              "ORDER BY l.seq LIMIT ?2",
                              page, {objective_id, key_result_id}, ReadLink);
}

absl::StatusOr<std::vector<WorkItemLink>> SqlTransaction::LinksToWorkItem(Tracker tracker,
                                                                          const std::string& key) {
  return Rows<WorkItemLink>(OKR_SQL_LINK_SELECT
                            "WHERE l.tracker = ?1 AND l.item_key = ?2 ORDER BY l.seq",
                            {tracker, key}, ReadLink);
}

absl::StatusOr<WorkItemTotals> SqlTransaction::ComputeWorkItemTotals(
    const std::string& objective_id, const std::string& key_result_id) {
  // The columns the progress rule reads; the rule itself is the domain's (AccumulateItem).
  OKR_ASSIGN_OR_RETURN(
      std::vector<WorkItem> parts,
      Rows<WorkItem>("SELECT w.done, w.weight, w.partial_credit, w.exclusion "
                     "FROM work_item_links AS l JOIN work_items AS w "
                     "ON w.tracker = l.tracker AND w.item_key = l.item_key "
                     "WHERE l.objective_id = ?1 AND l.key_result_id = ?2",
                     {objective_id, key_result_id}, [](Statement& s) -> absl::StatusOr<WorkItem> {
                       WorkItem w;
                       w.done = s.ColumnBool(0);
                       w.weight = s.ColumnDouble(1);
                       w.partial_credit = s.ColumnDouble(2);
                       w.exclusion = s.ColumnText(3);
                       OKR_RETURN_IF_ERROR(s.column_status());
                       return w;
                     }));
  WorkItemTotals totals;
  for (const WorkItem& w : parts) AccumulateItem(totals, w, +1);
  return totals;
}

// Deliveries and write-backs ---------------------------------------------------------------

absl::Status SqlTransaction::RecordDelivery(Tracker tracker, const std::string& delivery_id,
                                            absl::Time received) {
  OKR_RETURN_IF_ERROR(CheckWritable("RecordDelivery"));
  OKR_ASSIGN_OR_RETURN(int64_t inserted,
                       Changed("INSERT INTO webhook_deliveries (tracker, delivery_id, received) "
                               "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                               {tracker, delivery_id, received}));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat("delivery ", Quote(delivery_id), " of ",
                                               TrackerName(tracker), " was seen before"));
}

absl::StatusOr<int64_t> SqlTransaction::PruneDeliveries(absl::Time before, int limit) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneDeliveries"));
  // A bounded batch: neither backend offers DELETE ... LIMIT portably.
  return Changed(
      "DELETE FROM webhook_deliveries WHERE (tracker, delivery_id) IN (SELECT tracker, "
      "delivery_id FROM webhook_deliveries WHERE received < ?1 ORDER BY received LIMIT ?2)",
      {before, limit});
}

absl::Status SqlTransaction::EnqueueWriteBack(const std::string& objective_id,
                                              const std::string& key_result_id, absl::Time now) {
  OKR_RETURN_IF_ERROR(CheckWritable("EnqueueWriteBack"));
  return Changed(
             "INSERT INTO writeback_queue (objective_id, key_result_id, since, generation, due) "
             "VALUES (?1, ?2, ?3, 1, ?3) ON CONFLICT (objective_id, key_result_id) "
             "DO UPDATE SET generation = writeback_queue.generation + 1, due = CASE WHEN "
             "writeback_queue.due > excluded.due THEN excluded.due ELSE writeback_queue.due END",
             {objective_id, key_result_id, now})
      .status();
}

absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> SqlTransaction::PendingWriteBacks(
    int limit) {
  const char* by_bytes = session_.dialect().byte_order;
  return Rows<WriteBackEntry>(
      absl::StrCat("SELECT objective_id, key_result_id, since, generation, due FROM "
                   "writeback_queue ORDER BY since, objective_id",
                   by_bytes, ", key_result_id", by_bytes, " LIMIT ?1"),
      // A negative limit: all of them.
      {limit < 0 ? std::numeric_limits<int64_t>::max() : int64_t{limit}}, WriteBackEntryRow);
}

absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> SqlTransaction::DueWriteBacks(
    absl::Time now, int limit) {
  const char* by_bytes = session_.dialect().byte_order;
  return Rows<WriteBackEntry>(
      absl::StrCat("SELECT objective_id, key_result_id, since, generation, due FROM "
                   "writeback_queue WHERE due <= ?2 ORDER BY due, since, objective_id",
                   by_bytes, ", key_result_id", by_bytes, " LIMIT ?1"),
      {limit < 0 ? std::numeric_limits<int64_t>::max() : int64_t{limit}, now}, WriteBackEntryRow);
}

absl::Status SqlTransaction::DeferWriteBack(const WriteBackEntry& entry, absl::Time due) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeferWriteBack"));
  return Changed(
             "UPDATE writeback_queue SET due = ?4 WHERE objective_id = ?1 AND key_result_id = ?2 "
             "AND generation = ?3",
             {entry.objective_id, entry.key_result_id, entry.generation, due})
      .status();
}

absl::Status SqlTransaction::CompleteWriteBack(const WriteBackEntry& entry) {
  OKR_RETURN_IF_ERROR(CheckWritable("CompleteWriteBack"));
  return Changed(
             "DELETE FROM writeback_queue WHERE objective_id = ?1 AND key_result_id = ?2 "
             "AND generation = ?3",
             {entry.objective_id, entry.key_result_id, entry.generation})
      .status();
}

absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> SqlTransaction::GetWriteBackState(
    Tracker tracker, const std::string& key) {
  return Row<WriteBackState>(
      "SELECT ref, content_hash, written, failures, next_attempt, last_code, last_error FROM "
      "writeback_state WHERE tracker = ?1 AND item_key = ?2",
      {tracker, key}, [](Statement& s) -> absl::StatusOr<WriteBackState> {
        WriteBackState state;
        state.ref = s.ColumnText(0);
        state.content_hash = s.ColumnText(1);
        state.written = s.ColumnTime(2);
        state.failures = s.ColumnInt(3);
        state.next_attempt = s.ColumnTime(4);
        state.last_code = static_cast<int>(s.ColumnInt(5));
        state.last_error = s.ColumnText(6);
        OKR_RETURN_IF_ERROR(s.column_status());
        return state;
      });
}

absl::Status SqlTransaction::PutWriteBackState(Tracker tracker, const std::string& key,
                                               const WriteBackState& state) {
  OKR_RETURN_IF_ERROR(CheckWritable("PutWriteBackState"));
  return Changed(
             "INSERT INTO writeback_state (tracker, item_key, ref, content_hash, written, "
             "failures, next_attempt, last_code, last_error) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (tracker, item_key) DO "
             "UPDATE SET ref = excluded.ref, content_hash = excluded.content_hash, "
             "written = excluded.written, failures = excluded.failures, "
             "next_attempt = excluded.next_attempt, last_code = excluded.last_code, "
             "last_error = excluded.last_error",
             {tracker, key, state.ref, state.content_hash, state.written, state.failures,
              state.next_attempt, int64_t{state.last_code}, state.last_error})
      .status();
}

absl::StatusOr<std::vector<OkrTransaction::WriteBackFailureCount>>
SqlTransaction::CountWriteBackFailures() {
  return Rows<WriteBackFailureCount>(
      "SELECT tracker, last_code, COUNT(*) FROM writeback_state WHERE failures > 0 "
      "GROUP BY tracker, last_code ORDER BY tracker, last_code",
      {}, [](Statement& s) -> absl::StatusOr<WriteBackFailureCount> {
        WriteBackFailureCount c;
        c.tracker = static_cast<Tracker>(s.ColumnInt(0));
        c.code = static_cast<int>(s.ColumnInt(1));
        c.items = s.ColumnInt(2);
        OKR_RETURN_IF_ERROR(s.column_status());
        return c;
      });
}

absl::Status SqlTransaction::DeleteWriteBackState(Tracker tracker, const std::string& key) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteWriteBackState"));
  return Changed("DELETE FROM writeback_state WHERE tracker = ?1 AND item_key = ?2", {tracker, key})
      .status();
}

absl::Status SqlTransaction::EnqueueItemWriteBack(Tracker tracker, const std::string& key,
                                                  absl::Time now) {
  OKR_RETURN_IF_ERROR(CheckWritable("EnqueueItemWriteBack"));
  OKR_RETURN_IF_ERROR(CheckTracker(tracker));
  return Changed(
             "INSERT INTO writeback_items (tracker, item_key, since, generation, due) "
             "VALUES (?1, ?2, ?3, 1, ?3) ON CONFLICT (tracker, item_key) "
             "DO UPDATE SET generation = writeback_items.generation + 1, due = CASE WHEN "
             "writeback_items.due > excluded.due THEN excluded.due ELSE writeback_items.due END",
             {tracker, key, now})
      .status();
}

absl::StatusOr<std::vector<OkrTransaction::ItemWriteBackEntry>>
SqlTransaction::PendingItemWriteBacks(int limit) {
  const char* by_bytes = session_.dialect().byte_order;
  return Rows<ItemWriteBackEntry>(
      absl::StrCat("SELECT tracker, item_key, since, generation, due FROM writeback_items "
                   "ORDER BY since, tracker, item_key",
                   by_bytes, " LIMIT ?1"),
      // A negative limit: all of them.
      {limit < 0 ? std::numeric_limits<int64_t>::max() : int64_t{limit}}, ItemWriteBackEntryRow);
}

absl::StatusOr<std::vector<OkrTransaction::ItemWriteBackEntry>> SqlTransaction::DueItemWriteBacks(
    absl::Time now, int limit) {
  const char* by_bytes = session_.dialect().byte_order;
  return Rows<ItemWriteBackEntry>(
      absl::StrCat("SELECT tracker, item_key, since, generation, due FROM writeback_items "
                   "WHERE due <= ?2 ORDER BY due, since, tracker, item_key",
                   by_bytes, " LIMIT ?1"),
      {limit < 0 ? std::numeric_limits<int64_t>::max() : int64_t{limit}, now},
      ItemWriteBackEntryRow);
}

absl::Status SqlTransaction::DeferItemWriteBack(const ItemWriteBackEntry& entry, absl::Time due) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeferItemWriteBack"));
  return Changed(
             "UPDATE writeback_items SET due = ?4 WHERE tracker = ?1 AND item_key = ?2 "
             "AND generation = ?3",
             {entry.tracker, entry.key, entry.generation, due})
      .status();
}

absl::Status SqlTransaction::CompleteItemWriteBack(const ItemWriteBackEntry& entry) {
  OKR_RETURN_IF_ERROR(CheckWritable("CompleteItemWriteBack"));
  return Changed(
             "DELETE FROM writeback_items WHERE tracker = ?1 AND item_key = ?2 "
             "AND generation = ?3",
             {entry.tracker, entry.key, entry.generation})
      .status();
}

// Request records -------------------------------------------------------------------------

absl::StatusOr<std::optional<std::string>> SqlTransaction::GetRequestRecord(
    const std::string& request_id) {
  return FirstText("SELECT resource_name FROM request_records WHERE request_id = ?1", {request_id});
}

absl::Status SqlTransaction::PutRequestRecord(const std::string& request_id,
                                              const std::string& resource_name,
                                              absl::Time create_time) {
  OKR_RETURN_IF_ERROR(CheckWritable("PutRequestRecord"));
  OKR_ASSIGN_OR_RETURN(int64_t inserted,
                       Changed("INSERT INTO request_records (request_id, resource_name, "
                               "create_time) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                               {request_id, resource_name, create_time}));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat("request ", Quote(request_id), " is already recorded"));
}

absl::StatusOr<int64_t> SqlTransaction::PruneRequestRecords(absl::Time before, int limit) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneRequestRecords"));
  return Changed(
      "DELETE FROM request_records WHERE request_id IN (SELECT request_id FROM request_records "
      "WHERE create_time < ?1 ORDER BY create_time LIMIT ?2)",
      {before, limit});
}

// Events ----------------------------------------------------------------------------------

absl::Status SqlTransaction::AppendEvent(Event& event) {
  OKR_RETURN_IF_ERROR(CheckWritable("AppendEvent"));
  OKR_RETURN_IF_ERROR(session_.WillAppendEvent());
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(OKR_SQL_ONCE(Events().Insert("", "RETURNING seq"))));
  Events().Bind(*s, event);
  OKR_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return absl::InternalError("AppendEvent: no sequence returned");
  event.sequence = s->ColumnInt(0);
  OKR_RETURN_IF_ERROR(s->column_status());
  OKR_ASSIGN_OR_RETURN(bool more, s->Step());  // runs the statement to completion
  if (more) return absl::InternalError("AppendEvent: more than one row returned");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> SqlTransaction::ListEvents(const EventQuery& q) {
  std::string where = "WHERE seq > ?1";
  std::vector<Arg> args = {q.after_sequence, q.limit};
  for (const auto& [column, value] :
       {std::pair<const char*, const std::string*>{"objective_id", &q.objective_id},
        {"key_result_id", &q.key_result_id},
        {"team_id", &q.team_id}}) {
    if (value->empty()) continue;
    args.emplace_back(*value);
    absl::StrAppend(&where, " AND ", column, " = ?", args.size());
  }
  absl::StrAppend(&where, " ORDER BY seq LIMIT ?2");
  OKR_ASSIGN_OR_RETURN(StatementPtr s, Prepare(Events().Select(where)));
  for (size_t i = 0; i < args.size(); ++i) args[i].BindTo(*s, static_cast<int>(i) + 1);
  OKR_ASSIGN_OR_RETURN(
      auto rows, ReadRows<Event>(*s, std::numeric_limits<int64_t>::max(), ReaderOf(Events())));
  return std::move(rows.first);
}

absl::StatusOr<int64_t> SqlTransaction::LastEventSequence() {
  OKR_ASSIGN_OR_RETURN(std::optional<int64_t> last,
                       Row<int64_t>("SELECT COALESCE(MAX(seq), 0) FROM events", {},
                                    [](Statement& s) -> absl::StatusOr<int64_t> {
                                      const int64_t seq = s.ColumnInt(0);
                                      OKR_RETURN_IF_ERROR(s.column_status());
                                      return seq;
                                    }));
  return last.value_or(0);
}

absl::StatusOr<int64_t> SqlTransaction::PruneEvents(absl::Time before, int64_t through_sequence,
                                                    int limit) {
  OKR_RETURN_IF_ERROR(CheckWritable("PruneEvents"));
  return Changed(
      "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time < ?1 AND seq <= ?2 "
      "ORDER BY seq LIMIT ?3)",
      {before, through_sequence, limit});
}

// Documents -------------------------------------------------------------------------------

absl::Status SqlTransaction::InsertDocument(const Document& doc) {
  OKR_RETURN_IF_ERROR(CheckWritable("InsertDocument"));
  OKR_ASSIGN_OR_RETURN(
      int64_t inserted,
      WriteRow(OKR_SQL_ONCE(Documents().Insert("", "ON CONFLICT DO NOTHING")), Documents(), doc));
  if (inserted == 1) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(doc.kind, " ", Quote(doc.id), " already exists"));
}

absl::StatusOr<std::optional<OkrTransaction::Document>> SqlTransaction::GetDocument(
    const std::string& kind, const std::string& id) {
  return Row<Document>(OKR_SQL_ONCE(Documents().Select("WHERE kind = ?1 AND id = ?2")), {kind, id},
                       ReaderOf(Documents()));
}

absl::Status SqlTransaction::UpdateDocument(const Document& doc, int64_t expected_revision) {
  OKR_RETURN_IF_ERROR(CheckWritable("UpdateDocument"));
  OKR_ASSIGN_OR_RETURN(int64_t updated,
                       Changed("UPDATE documents SET payload = ?3, revision = ?4, update_time = "
                               "?5 WHERE kind = ?1 AND id = ?2 AND (?6 < 0 OR revision = ?6)",
                               {doc.kind, doc.id, doc.payload, doc.meta.revision,
                                doc.meta.update_time, expected_revision}));
  if (updated == 1) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(std::optional<Document> current, GetDocument(doc.kind, doc.id));
  if (!current.has_value()) {
    return absl::NotFoundError(absl::StrCat(doc.kind, " ", Quote(doc.id), " not found"));
  }
  return absl::AbortedError(absl::StrCat(doc.kind, " ", Quote(doc.id), " was modified (revision ",
                                         current->meta.revision, ", expected ", expected_revision,
                                         ")"));
}

absl::Status SqlTransaction::DeleteDocument(const std::string& kind, const std::string& id) {
  OKR_RETURN_IF_ERROR(CheckWritable("DeleteDocument"));
  OKR_ASSIGN_OR_RETURN(int64_t deleted,
                       Changed("DELETE FROM documents WHERE kind = ?1 AND id = ?2", {kind, id}));
  if (deleted == 0) return absl::NotFoundError(absl::StrCat(kind, " ", Quote(id), " not found"));
  return absl::OkStatus();
}

absl::StatusOr<Page<OkrTransaction::Document>> SqlTransaction::ListDocuments(
    const std::string& kind, const PageQuery& page) {
  return PageOf<Document>(
      OKR_SQL_ONCE(Documents().Select("WHERE seq > ?1 AND kind = ?3 ORDER BY seq LIMIT ?2")), page,
      {kind}, ReaderOf(Documents()));
}

absl::StatusOr<int64_t> SqlTransaction::CountDocuments(const std::string& kind) {
  OKR_ASSIGN_OR_RETURN(std::optional<int64_t> count,
                       Row<int64_t>("SELECT COUNT(*) FROM documents WHERE kind = ?1", {kind},
                                    [](Statement& s) -> absl::StatusOr<int64_t> {
                                      const int64_t n = s.ColumnInt(0);
                                      OKR_RETURN_IF_ERROR(s.column_status());
                                      return n;
                                    }));
  return count.value_or(0);
}

#undef OKR_SQL_ONCE

}  // namespace okr::storage::sql
