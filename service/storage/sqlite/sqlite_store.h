// SqliteStore: the OkrStore implementation on one SQLite database file, for single-node
// deployments. It owns the schema (see migrations.h) and applies pending migrations at
// Open.
//
//   SqliteOptions options;
//   options.path = "/var/lib/okr/okr.db";
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
//   absl::Status s = store->RunInTransaction([&](OkrTransaction& tx) { ... });
//
// Contract (in addition to OkrStore's):
//  - Group commit: concurrent RunInTransaction calls are batched. One caller (the leader)
//    runs a batch of waiting callbacks in one SQLite transaction, each inside its own
//    SAVEPOINT (a failing callback is rolled back alone), then commits once: one fsync
//    and one write of each touched page serve the whole batch. Every caller returns only
//    after the commit that holds its writes; callbacks of a batch run one after another,
//    as if serially.
//  - Concurrency: one writer connection behind a mutex, so read-write transactions run one
//    at a time (BEGIN IMMEDIATE; other processes wait up to `busy_timeout`, then
//    UNAVAILABLE). RunReadOnly uses a pool of `read_connections` read-only connections;
//    in WAL mode readers never block the writer nor each other, and each read-only
//    transaction sees one consistent snapshot (taken at its first read).
//  - Transactions do not nest: calling RunInTransaction / RunReadOnly / Ping from inside
//    a callback of the same store fails with FAILED_PRECONDITION (instead of deadlocking).
//  - Durability (WAL mode): with Sync::kFull a transaction is fsync'ed to the WAL before
//    RunInTransaction returns OK, so it survives a power loss or OS crash (given storage
//    that honours fsync; WAL needs a local file system, not NFS). With
//    Sync::kNormal the WAL is only synced at checkpoints: a committed transaction survives
//    a crash or kill -9 of the process, but the last transactions may be lost on power
//    loss (the database stays consistent either way).
//  - Codes: besides OkrStore's, FAILED_PRECONDITION for a write through RunReadOnly, for a
//    reference to a missing team/cycle/parent objective/work item, and at Open for a
//    database written by a newer schema version; NOT_FOUND when inserting a key result,
//    check-in or link under a missing objective / key result; UNAVAILABLE ("database is
//    full: ...", "storage failed: ...") when a write fails because the disk (or
//    `max_size_bytes`) is full or the file cannot be written; INVALID_ARGUMENT for bad
//    options or a non-positive page limit.
//  - Ping (readiness): OK when a read answers and writes work. After a write failed for
//    storage (full, I/O error) Ping fails with that error, retrying a write probe (a
//    table holding 64 KiB created and dropped in one committed transaction) on each
//    call, until the probe or a real write succeeds again.
//  - Update* stores every field as given (including create_time) except `seq`. Listing
//    the children of a missing parent returns an empty page, not NOT_FOUND.
//  - Not copyable; destroying the store closes every connection (no transaction may be
//    running).
#ifndef OKR_SERVICE_STORAGE_SQLITE_SQLITE_STORE_H_
#define OKR_SERVICE_STORAGE_SQLITE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/storage/okr_store.h"

namespace okr::storage {

struct SqliteOptions {
  // Database file, created if missing; SQLite keeps `<path>-wal` and `<path>-shm` next to
  // it, so the directory must be writable.
  std::string path;
  // kFull: durable against power loss. kNormal: durable against process crashes only,
  // but commits are much cheaper (no fsync per commit).
  enum class Sync { kNormal, kFull };
  Sync sync = Sync::kFull;
  // Size of the read-only connection pool behind RunReadOnly and Ping (>= 1).
  int read_connections = 4;
  // How long a statement waits for a lock held by another process before UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Largest size of the database file (PRAGMA max_page_count, rounded down to pages);
  // a write that would grow the file beyond it fails as on a full disk. 0: no limit.
  int64_t max_size_bytes = 0;
};

namespace sqlite_internal {
class Connection;
}  // namespace sqlite_internal
namespace sql {
class CycleCache;
class ObjectiveCache;
}  // namespace sql

class SqliteStore final : public OkrStore {
 public:
  // Opens (creating if needed) the database, sets WAL mode, foreign keys and the sync
  // level, and applies pending migrations. INVALID_ARGUMENT for bad options,
  // UNAVAILABLE if the file cannot be opened, FAILED_PRECONDITION if the schema is newer
  // than this binary.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override;
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override;
  absl::Status Ping() override;

  // The read-only connection pool now (for metrics); the one writer connection is not in it.
  struct PoolStats {
    int64_t idle = 0;  // read connections waiting for a caller
    int64_t size = 0;  // read_connections
  };
  PoolStats pool_stats() const;

 private:
  SqliteStore(std::unique_ptr<sqlite_internal::Connection> writer,
              std::vector<std::unique_ptr<sqlite_internal::Connection>> readers);

  sqlite_internal::Connection* AcquireReader();
  void ReleaseReader(sqlite_internal::Connection* reader);

  // One caller's read-write transaction waiting for (or in) a group commit.
  struct PendingWrite {
    absl::FunctionRef<absl::Status(OkrTransaction&)>* fn;
    absl::Status status;
    bool done = false;
  };
  // Runs `batch` in one SQLite transaction (savepoint per entry) and commits once.
  void RunBatch(const std::vector<PendingWrite*>& batch);
  // Records a write's outcome for Ping: a storage failure sets it, a commit clears it.
  void NoteWriteOutcome(absl::Status storage_failure, bool committed);
  // A write that leaves nothing behind, to see whether writes work again.
  absl::Status ProbeWrite();

  const std::unique_ptr<sql::CycleCache> cycle_cache_;
  const std::unique_ptr<sql::ObjectiveCache> objective_cache_;

  absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::vector<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leader_active_ ABSL_GUARDED_BY(queue_mu_) = false;

  absl::Mutex writer_mu_;
  const std::unique_ptr<sqlite_internal::Connection> writer_ ABSL_PT_GUARDED_BY(writer_mu_);

  // The storage failure (full, I/O error) of the last write, cleared by a write that
  // commits; Ping reports it.
  absl::Mutex health_mu_;
  absl::Status write_failure_ ABSL_GUARDED_BY(health_mu_);

  const std::vector<std::unique_ptr<sqlite_internal::Connection>> readers_;
  mutable absl::Mutex pool_mu_;
  std::vector<sqlite_internal::Connection*> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_SQLITE_SQLITE_STORE_H_
