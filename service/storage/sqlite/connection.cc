#include "service/storage/sqlite/connection.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace okr::storage::sqlite_internal {
namespace {

// The file could not be written: full (disk or max_page_count) or an I/O error.
bool IsStorageFailure(int rc) { return (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR; }

}  // namespace

absl::Status SqliteStatus(int rc, absl::string_view message) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(absl::StrCat("sqlite: database is busy: ", message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(absl::StrCat("sqlite: ", message));
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return absl::FailedPreconditionError(absl::StrCat("sqlite: ", message));
      }
      return absl::InternalError(absl::StrCat("sqlite: ", message));
    case SQLITE_READONLY:
      return absl::FailedPreconditionError(absl::StrCat("sqlite: ", message));
    case SQLITE_FULL:  // the disk, or the size cap (PRAGMA max_page_count), is reached
      return absl::UnavailableError(absl::StrCat("sqlite: database is full: ", message));
    case SQLITE_IOERR:
      return absl::UnavailableError(absl::StrCat("sqlite: storage failed: ", message));
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(absl::StrCat("sqlite: ", message));
    default:
      return absl::InternalError(absl::StrCat("sqlite: ", message));
  }
}

// --- Statement ---------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_result_(other.bind_result_),
      last_result_(other.last_result_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

void Statement::Bound(int rc) {
  if (rc != SQLITE_OK && bind_result_ == SQLITE_OK) bind_result_ = rc;
}

void Statement::BindNull(int index) { Bound(sqlite3_bind_null(stmt_, index)); }

void Statement::BindText(int index, absl::string_view value) {
  Bound(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindNullableText(int index, absl::string_view value) {
  if (value.empty()) {
    Bound(sqlite3_bind_null(stmt_, index));
  } else {
    BindText(index, value);
  }
}

void Statement::BindInt(int index, int64_t value) {
  Bound(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindDouble(int index, double value) {
  Bound(sqlite3_bind_double(stmt_, index, value));
}

void Statement::BindOptionalDouble(int index, std::optional<double> value) {
  if (value.has_value()) {
    BindDouble(index, *value);
  } else {
    Bound(sqlite3_bind_null(stmt_, index));
  }
}

void Statement::BindTime(int index, absl::Time value) {
  if (value == absl::InfinitePast()) {
    Bound(sqlite3_bind_null(stmt_, index));
  } else if (value == absl::InfiniteFuture()) {
    BindInt(index, kInfiniteFutureMicros);
  } else {
    BindInt(index, absl::ToUnixMicros(value));
  }
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_result_ != SQLITE_OK) {
    last_result_ = bind_result_;
    return conn_->Error(bind_result_);
  }
  last_result_ = sqlite3_step(stmt_);
  if (last_result_ == SQLITE_ROW) return true;
  if (last_result_ == SQLITE_DONE) return false;
  return conn_->Error(last_result_);
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, col));
}

int64_t Statement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::ColumnDouble(int col) const {
  if (ColumnIsNull(col)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, col);
}

std::optional<double> Statement::ColumnOptionalDouble(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return sqlite3_column_double(stmt_, col);
}

absl::Time Statement::ColumnTime(int col) const {
  if (ColumnIsNull(col)) return absl::InfinitePast();
  int64_t micros = sqlite3_column_int64(stmt_, col);
  if (micros == kInfiniteFutureMicros) return absl::InfiniteFuture();
  if (micros == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::FromUnixMicros(micros);
}

// --- Connection --------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode,
                                                             absl::Duration busy_timeout) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= mode == Mode::kReadWrite ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                                    : SQLITE_OPEN_READONLY;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return SqliteStatus(rc, absl::StrCat("cannot open \"", path, "\": ", message));
  }
  sqlite3_extended_result_codes(db, 1);
  int64_t ms = absl::ToInt64Milliseconds(busy_timeout);
  sqlite3_busy_timeout(
      db, static_cast<int>(std::clamp<int64_t>(ms, 0, std::numeric_limits<int>::max())));
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached->stmt);
  sqlite3_close_v2(db_);
}

absl::Status Connection::Error(int rc) {
  last_error_ = SqliteStatus(rc, sqlite3_errmsg(db_));
  if (IsStorageFailure(rc)) storage_failure_ = last_error_;
  return last_error_;
}

absl::Status Connection::TakeStorageFailure() { return std::exchange(storage_failure_, {}); }

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return Statement(this, it->second->stmt, &it->second->in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc);
  }
  if (stmt == nullptr) return absl::InternalError("sqlite: empty statement");
  if (it != cache_.end()) {
    // The cached statement is busy (a query runs while another is open): use a one-off.
    return Statement(this, stmt, nullptr);
  }
  auto cached = std::make_unique<CachedStatement>();
  cached->stmt = stmt;
  cached->in_use = true;
  bool* in_use = &cached->in_use;
  cache_.emplace(std::string(sql), std::move(cached));
  return Statement(this, stmt, in_use);
}

absl::Status Connection::Exec(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

absl::Status Connection::ExecScript(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  last_error_ = SqliteStatus(rc, message != nullptr ? message : sqlite3_errstr(rc));
  if (IsStorageFailure(rc)) storage_failure_ = last_error_;
  sqlite3_free(message);
  return last_error_;
}

absl::StatusOr<std::string> Connection::QueryText(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(absl::StrCat("sqlite: no result for ", sql));
  return stmt->ColumnText(0);
}

}  // namespace okr::storage::sqlite_internal
