// PostgresStore: the OkrStore implementation on PostgreSQL (libpq), for deployments with
// several replicas sharing one database. It owns the schema (see migrations.h; the same
// version numbers as the SQLite store) and applies pending migrations at Open under an
// advisory lock, so replicas starting together do not race.
//
//   PostgresOptions options;
//   options.conninfo = "postgresql://okr:secret@db:5432/okr";  // any libpq URI
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
//   absl::Status s = store->RunInTransaction([&](OkrTransaction& tx) { ... });
//
// Contract (in addition to OkrStore's):
//  - Concurrency: read-write transactions run at SERIALIZABLE isolation, so a callback's
//    read-modify-write is safe against every other replica (no lost update; revisions and
//    etags stay exact). A serialization failure or deadlock (SQLSTATE 40001/40P01) rolls
//    back and re-runs the whole callback, up to `max_retries` times; then ABORTED. A re-run
//    first waits, cluster-wide, for the read-write transactions in flight to end and then
//    runs alone (an advisory lock every read-write transaction holds shared and a re-run
//    takes exclusively before BEGIN), so it does not lose to them again: a hot row written
//    by many replicas at once degrades to a queue, not a retry storm. RunReadOnly runs at
//    REPEATABLE READ READ ONLY: one snapshot, taken at its first statement, never blocking
//    writers nor blocked by them.
//  - A failed operation inside a callback (ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION
//    from a missing reference, ABORTED from a stale revision) leaves the transaction
//    usable, as with SQLite: those outcomes are detected without raising SQL errors.
//    Any other database error poisons the transaction: later operations fail with the same
//    status, and it is returned even if the callback returns OK.
//  - Connections: a pool of at most `pool_size`, opened lazily and re-opened lazily after a
//    failure, so the store recovers by itself when PostgreSQL comes back. While it is down
//    or unreachable, calls fail fast with UNAVAILABLE (a caller waits at most
//    `connect_timeout` for a connection; after a failed connect, new connects are not
//    retried for `reconnect_backoff`). Statements are bounded by `statement_timeout`
//    (server-side, 57014 -> DEADLINE_EXCEEDED; no answer at all -> UNAVAILABLE). A lost
//    connection during COMMIT is UNAVAILABLE: the outcome is unknown.
//  - Codes as SqliteStore: FAILED_PRECONDITION for a write through RunReadOnly, for a
//    reference to a missing team/cycle/parent objective/work item, at Open for a schema
//    newer than this binary, and for nested transactions on one store; NOT_FOUND when
//    inserting a key result, check-in or link under a missing objective / key result;
//    INVALID_ARGUMENT for bad options, a non-positive page limit or text with NUL bytes;
//    RESOURCE_EXHAUSTED when the server is out of disk or memory.
//  - `seq` comes from an identity column: unique and growing, but concurrent transactions
//    may commit in another order than their seq values, so a page cursor taken while
//    writers run can miss a row committed just after it (SQLite writes serially: never).
//  - Messages never contain the password of `conninfo`.
//  - Thread-safe; not copyable; destroying the store closes every connection (no
//    transaction may be running).
#ifndef OKR_SERVICE_STORAGE_POSTGRES_POSTGRES_STORE_H_
#define OKR_SERVICE_STORAGE_POSTGRES_POSTGRES_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/storage/okr_store.h"

namespace okr::storage {

struct PostgresOptions {
  // libpq connection URI (postgresql://user:pass@host:port/db?sslmode=...) or key=value
  // string. Its own parameters (sslmode, target_session_attrs, ...) are honoured.
  std::string conninfo;
  // Most connections open at once (>= 1). Each RunInTransaction/RunReadOnly/Ping holds one.
  int pool_size = 8;
  // Bound on opening a connection, and on waiting for a free one from the pool.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Server-side statement_timeout of every statement (migrations: `migration_timeout`).
  absl::Duration statement_timeout = absl::Seconds(10);
  // Re-runs of a callback after a serialization failure or deadlock (>= 0).
  int max_retries = 5;
  // After a failed connect, further connects fail at once for this long.
  absl::Duration reconnect_backoff = absl::Milliseconds(500);
  // Statement timeout while migrating at Open (includes waiting for another replica's
  // migration lock).
  absl::Duration migration_timeout = absl::Minutes(5);
  // Shown in pg_stat_activity unless the connection string sets application_name.
  std::string application_name = "okr-service";
};

class PostgresStore final : public OkrStore {
 public:
  // Validates the options, connects, and applies pending migrations. INVALID_ARGUMENT for
  // bad options or a malformed conninfo, UNAVAILABLE if the server cannot be reached,
  // FAILED_PRECONDITION if the schema is newer than this binary.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& options);

  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;
  ~PostgresStore() override;

  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override;
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override;
  // Runs `SELECT 1` on a pooled connection: OK iff the database answers now.
  absl::Status Ping() override;

  // Counters for tests and metrics (monotonic since Open, except the connection gauges).
  struct Stats {
    int64_t retries = 0;     // callbacks re-run after 40001/40P01
    int64_t reconnects = 0;  // connections opened after the first
    int64_t open_connections = 0;  // idle + leased + being opened (gauge, not monotonic)
    int64_t idle_connections = 0;  // open and waiting in the pool (gauge)
  };
  Stats stats() const;

 private:
  class Impl;
  explicit PostgresStore(std::unique_ptr<Impl> impl);

  absl::Status Run(bool read_only, absl::FunctionRef<absl::Status(OkrTransaction&)> fn);

  const std::unique_ptr<Impl> impl_;
};

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_POSTGRES_POSTGRES_STORE_H_
