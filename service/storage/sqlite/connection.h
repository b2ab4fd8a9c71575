// Internal to the SQLite store: one sqlite3 connection with a prepared-statement cache,
// a RAII statement handle, value encodings (times, nullable ids) and the mapping of
// SQLite result codes to absl::Status. Not part of the public storage API.
//
//   OKR_ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT title FROM objectives WHERE id = ?1"));
//   s.BindText(1, id);
//   OKR_ASSIGN_OR_RETURN(bool row, s.Step());
//
// Thread safety: a Connection (and its statements) may be used by one thread at a time;
// the caller provides the locking (SQLite is opened with SQLITE_OPEN_NOMUTEX).
#ifndef OKR_SERVICE_STORAGE_SQLITE_CONNECTION_H_
#define OKR_SERVICE_STORAGE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace okr::storage::sqlite_internal {

// BUSY/LOCKED -> UNAVAILABLE, UNIQUE/PRIMARYKEY -> ALREADY_EXISTS, FOREIGNKEY and
// READONLY -> FAILED_PRECONDITION, FULL ("database is full: ...") and IOERR ("storage
// failed: ...") and CANTOPEN -> UNAVAILABLE, anything else -> INTERNAL. `rc` may be an
// extended result code.
absl::Status SqliteStatus(int rc, absl::string_view message);

// Times are int64 microseconds since the epoch; InfinitePast is NULL and InfiniteFuture
// is INT64_MAX.
inline constexpr int64_t kInfiniteFutureMicros = INT64_MAX;

class Connection;

// A prepared statement borrowed from a Connection's cache (or a one-off statement if the
// cached one is in use). On destruction it is reset and its bindings cleared. Bind
// indexes are 1-based (?1, ?2, ...); column indexes are 0-based.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  void BindNull(int index);
  void BindText(int index, absl::string_view value);
  // "" is bound as NULL (optional references).
  void BindNullableText(int index, absl::string_view value);
  void BindInt(int index, int64_t value);
  // NaN is stored as NULL by SQLite and read back as NaN by ColumnDouble.
  void BindDouble(int index, double value);
  void BindOptionalDouble(int index, std::optional<double> value);
  void BindTime(int index, absl::Time value);

  // Advances: true if a row is available, false when the statement is done.
  absl::StatusOr<bool> Step();
  // Steps until done (any rows are ignored).
  absl::Status Run();
  // The result code of the last Step (extended), e.g. SQLITE_CONSTRAINT_FOREIGNKEY.
  int last_result() const { return last_result_; }
  // The largest parameter index in the SQL.
  int parameter_count() const { return sqlite3_bind_parameter_count(stmt_); }

  bool ColumnIsNull(int col) const;
  std::string ColumnText(int col) const;  // NULL -> ""
  int64_t ColumnInt(int col) const;       // NULL -> 0
  double ColumnDouble(int col) const;     // NULL -> NaN
  std::optional<double> ColumnOptionalDouble(int col) const;
  absl::Time ColumnTime(int col) const;

 private:
  friend class Connection;
  Statement(Connection* conn, sqlite3_stmt* stmt, bool* in_use)
      : conn_(conn), stmt_(stmt), in_use_(in_use) {}
  void Bound(int rc);

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // null for a one-off statement, finalized on destruction
  int bind_result_ = SQLITE_OK;
  int last_result_ = SQLITE_OK;
};

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens `path` (creating it in kReadWrite mode) with extended result codes and the busy
  // timeout set. Pragmas are the caller's business.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode,
                                                          absl::Duration busy_timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  sqlite3* db() const { return db_; }

  // A statement for one SQL statement, prepared once per connection and reused.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);
  // Prepare + Run.
  absl::Status Exec(absl::string_view sql);
  // Runs a script of several statements, uncached (migrations, pragmas).
  absl::Status ExecScript(const char* sql);
  // Runs a single-row, single-column query returning text (e.g. `PRAGMA journal_mode`).
  absl::StatusOr<std::string> QueryText(absl::string_view sql);

  // The most recent error a statement on this connection returned.
  const absl::Status& last_error() const { return last_error_; }
  // The last storage failure (SQLITE_FULL, SQLITE_IOERR) since the previous call, or OK;
  // clears it.
  absl::Status TakeStorageFailure();

 private:
  friend class Statement;
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  explicit Connection(sqlite3* db) : db_(db) {}
  absl::Status Error(int rc);

  sqlite3* const db_;
  absl::flat_hash_map<std::string, std::unique_ptr<CachedStatement>> cache_;
  absl::Status last_error_;
  absl::Status storage_failure_;
};

}  // namespace okr::storage::sqlite_internal

#endif  // OKR_SERVICE_STORAGE_SQLITE_CONNECTION_H_
