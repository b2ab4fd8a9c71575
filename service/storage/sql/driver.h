// The small driver interface the shared SQL layer (sql_transaction.h) runs on: a session
// (one connection inside one transaction) that prepares statements, and statements that
// bind parameters by index and step through rows. service/storage/sqlite and
// service/storage/postgres implement it; everything else about SQL lives once in this
// folder.
//
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<Statement> s,
//                        session.Prepare("SELECT title FROM objectives WHERE id = ?1"));
//   s->BindText(1, id);
//   OKR_ASSIGN_OR_RETURN(bool row, s->Step());
//   if (row) title = s->ColumnText(0);
//
// Conventions every driver follows:
//  - SQL text uses numbered placeholders ?1, ?2, ... without gaps; a driver whose
//    database spells them differently ($1) rewrites them. Portable casts (CAST(?1 AS
//    TEXT)) are used where PostgreSQL needs a parameter type.
//  - Statements are prepared once per connection and reused (the drivers cache them by
//    SQL text).
//  - Times are int64 microseconds since the epoch; InfinitePast is NULL and
//    InfiniteFuture is INT64_MAX. Booleans are the database's boolean (SQLite: 0/1).
//  - Thread safety: a session and its statements belong to one thread.
#ifndef OKR_SERVICE_STORAGE_SQL_DRIVER_H_
#define OKR_SERVICE_STORAGE_SQL_DRIVER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace okr::storage::sql {

inline constexpr int64_t kInfiniteFutureMicros = std::numeric_limits<int64_t>::max();

// What the shared SQL must know about the database it talks to.
struct Dialect {
  // SQLite maintains the index of every column named in an UPDATE's SET clause, so hot
  // updates first try a narrower statement that leaves indexed columns out (PostgreSQL's
  // HOT updates do not care).
  bool narrow_updates = false;
  // Appended to ORDER BY on text columns so that text sorts by bytes on every backend
  // ("" on SQLite, whose default collation already does).
  const char* byte_order = "";
};

// One prepared statement. Bind indexes are 1-based, column indexes 0-based.
class Statement {
 public:
  virtual ~Statement() = default;

  virtual void BindNull(int index) = 0;
  virtual void BindInt(int index, int64_t value) = 0;
  virtual void BindDouble(int index, double value) = 0;
  virtual void BindText(int index, absl::string_view value) = 0;
  virtual void BindBool(int index, bool value) = 0;
  // "" as NULL (optional references).
  void BindNullableText(int index, absl::string_view value) {
    value.empty() ? BindNull(index) : BindText(index, value);
  }
  void BindOptionalDouble(int index, std::optional<double> value) {
    value.has_value() ? BindDouble(index, *value) : BindNull(index);
  }
  void BindTime(int index, absl::Time value);

  // Runs the statement (first call) and advances: true if a row is available.
  virtual absl::StatusOr<bool> Step() = 0;
  // Steps until done, ignoring rows.
  absl::Status Run();
  // Rows inserted, updated or deleted by the statement once it is done.
  virtual int64_t affected() const = 0;

  virtual bool ColumnIsNull(int col) const = 0;
  virtual std::string ColumnText(int col) const = 0;  // NULL -> ""
  virtual int64_t ColumnInt(int col) = 0;             // NULL -> 0
  virtual double ColumnDouble(int col) = 0;           // NULL -> NaN
  virtual bool ColumnBool(int col) = 0;               // NULL -> false
  std::optional<double> ColumnOptionalDouble(int col) {
    if (ColumnIsNull(col)) return std::nullopt;
    return ColumnDouble(col);
  }
  absl::Time ColumnTime(int col);
  // INTERNAL if a column read from the current row did not parse (a corrupt row).
  virtual absl::Status column_status() const { return absl::OkStatus(); }
};

// One connection inside one transaction, as the shared transaction logic sees it.
class Session {
 public:
  virtual ~Session() = default;

  virtual const Dialect& dialect() const = 0;
  // A statement for one SQL statement (see the conventions above). Fails once the
  // transaction is unusable (rolled back by the database, or poisoned by an error).
  virtual absl::StatusOr<std::unique_ptr<Statement>> Prepare(absl::string_view sql) = 0;

  // Hooks for what the backends do differently around shared operations.
  // Before a cycle is updated or deleted (SQLite: keep it out of the process's cache).
  virtual absl::Status WillChangeCycle(const std::string& id) { return absl::OkStatus(); }
  // Before an objective is updated / before objectives may change in ways not tracked per
  // row, e.g. a delete (SQLite: keep them out of the process's cache).
  virtual absl::Status WillChangeObjective(const std::string& id) { return absl::OkStatus(); }
  virtual absl::Status WillChangeObjectives() { return absl::OkStatus(); }
  // After a cycle was updated or deleted (PostgreSQL: bump the cluster-wide cycle epoch).
  virtual absl::Status ChangedCycle() { return absl::OkStatus(); }
  // Before an event is appended (PostgreSQL: serialise event writers in sequence order).
  virtual absl::Status WillAppendEvent() { return absl::OkStatus(); }
};

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_DRIVER_H_
