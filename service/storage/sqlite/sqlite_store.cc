#include "service/storage/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/okr/status_macros.h"
#include "service/storage/sql/cycle_cache.h"
#include "service/storage/sql/sql_transaction.h"
#include "service/storage/sql/transaction_scope.h"
#include "service/storage/sqlite/connection.h"
#include "service/storage/sqlite/migrations.h"
#include "service/storage/sqlite/sqlite_driver.h"

namespace okr::storage {
namespace {

using sql::CycleCache;
using sql::NestedTransactionError;
using sql::SqlTransaction;
using sql::TransactionScope;
using sqlite_internal::Connection;
using sqlite_internal::SqliteSession;
using sqlite_internal::Statement;

// --- Store -------------------------------------------------------------------------------

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
  if (options.max_size_bytes > 0) {
    OKR_ASSIGN_OR_RETURN(std::string page_size, conn->QueryText("PRAGMA page_size"));
    int64_t bytes_per_page = 0;
    if (!absl::SimpleAtoi(page_size, &bytes_per_page) || bytes_per_page <= 0) {
      return absl::InternalError(absl::StrCat("sqlite: unexpected page_size ", page_size));
    }
    // Never below the current size (SQLite keeps the larger of the two).
    OKR_RETURN_IF_ERROR(
        conn->QueryText(absl::StrCat("PRAGMA max_page_count=",
                                     std::max<int64_t>(1, options.max_size_bytes / bytes_per_page)))
            .status());
  }
  return conn;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("sqlite: path is required");
  if (options.read_connections < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sqlite: read_connections must be at least 1, got ", options.read_connections));
  }
  if (options.max_size_bytes < 0) {
    return absl::InvalidArgumentError("sqlite: max_size_bytes must not be negative");
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
      objective_cache_(std::make_unique<sql::ObjectiveCache>()),
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
  TransactionScope scope(this);
  if (scope.nested()) return NestedTransactionError();
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
    // Rows the batch changed may be cached again, now that it committed or rolled back
    // (and before any of its writers is acknowledged).
    cycle_cache_->EndChanges();
    objective_cache_->EndChanges();
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
  conn.TakeStorageFailure().IgnoreError();
  bool committed = false;
  // Whatever the outcome: a storage failure fails readiness, a commit restores it.
  struct NoteOutcome {
    SqliteStore* store;
    Connection& conn;
    const bool& committed;
    ~NoteOutcome() { store->NoteWriteOutcome(conn.TakeStorageFailure(), committed); }
  } note{this, conn, committed};
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
    SqliteSession session(conn, cycle_cache_.get(), objective_cache_.get());
    SqlTransaction tx(session, {/*read_only=*/false, cycle_cache_.get(), cycle_cache_->epoch(),
                                objective_cache_.get(), objective_cache_->epoch()});
    w->status = (*w->fn)(tx);
    absl::Status rolled_back = session.RolledBack();
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
  committed = any_ok && end.ok();
  EnsureRolledBack(conn);
}

void SqliteStore::NoteWriteOutcome(absl::Status storage_failure, bool committed) {
  absl::MutexLock lock(&health_mu_);
  if (!storage_failure.ok()) {
    write_failure_ = std::move(storage_failure);
  } else if (committed) {
    write_failure_ = absl::OkStatus();
  }
}

absl::Status SqliteStore::ProbeWrite() {
  absl::MutexLock lock(&writer_mu_);
  Connection& conn = *writer_;
  EnsureRolledBack(conn);
  conn.TakeStorageFailure().IgnoreError();
  // 64 KiB of new pages (some headroom, not just the one page a failed write may have left
  // free) and a commit that writes the WAL: both fail when the disk or the size limit is
  // full. Nothing stays behind.
  absl::Status status = conn.ExecScript(
      "BEGIN IMMEDIATE; CREATE TABLE okr_write_probe (b BLOB); "
      "INSERT INTO okr_write_probe VALUES (zeroblob(65536)); DROP TABLE okr_write_probe; "
      "COMMIT;");
  EnsureRolledBack(conn);
  absl::Status failure = conn.TakeStorageFailure();
  NoteWriteOutcome(failure, status.ok());
  return status;
}

absl::Status SqliteStore::RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  TransactionScope scope(this);
  if (scope.nested()) return NestedTransactionError();
  Connection* conn = AcquireReader();
  // Before the snapshot: a cycle write from now on keeps what this reads out of the cache.
  const int64_t cache_epoch = cycle_cache_->epoch();
  const int64_t objective_epoch = objective_cache_->epoch();
  absl::Status status;
  {
    SqliteSession session(*conn, cycle_cache_.get(), objective_cache_.get(),
                          /*lazy_begin=*/true);
    SqlTransaction tx(session, {/*read_only=*/true, cycle_cache_.get(), cache_epoch,
                                objective_cache_.get(), objective_epoch});
    status = fn(tx);
  }
  // Ending a read transaction only releases the snapshot.
  EnsureRolledBack(*conn);
  ReleaseReader(conn);
  return status;
}

absl::Status SqliteStore::Ping() {
  TransactionScope scope(this);
  if (scope.nested()) return NestedTransactionError();
  Connection* conn = AcquireReader();
  absl::StatusOr<std::string> one = conn->QueryText("SELECT 1");
  ReleaseReader(conn);
  if (!one.ok()) return one.status();
  {
    absl::MutexLock lock(&health_mu_);
    if (write_failure_.ok()) return absl::OkStatus();
  }
  // The last write failed for storage: ready again only once a write works.
  absl::Status probe = ProbeWrite();
  if (probe.ok()) return absl::OkStatus();
  return absl::Status(probe.code(), absl::StrCat("writes fail: ", probe.message()));
}

}  // namespace okr::storage
