// Leader election for work that must run once per cluster (reconciliation loops, rule
// timers, outbox delivery): a named lock that at most one replica holds at a time.
//
//   OKR_ASSIGN_OR_RETURN(auto lock, PostgresClusterLock::Create(options, "reconcile"));
//   while (running) {
//     if (lock->TryAcquire()) RunOneReconciliationPass();  // re-checked every pass
//     Sleep(interval);
//   }
//   lock->Release();
//
// ClusterLock is the interface the layers that schedule such work use (a SQLite
// deployment is one process: an in-process implementation that always succeeds will do).
// It lives here until the storage layer adopts it in service/storage/.
//
// PostgresClusterLock holds a session-level advisory lock, pg_try_advisory_lock(k, h) with
// k = kClusterLockClass and h = hashtext(name), on a DEDICATED connection (never a pooled
// one: the lock lives as long as that session). If the process dies, PostgreSQL ends the
// session and frees the lock at once; if the host or network dies, TCP keepalives on both
// ends end it within about keepalive_idle + keepalive_interval * keepalive_count, and
// another replica's TryAcquire succeeds after that.
//
// Contract:
//  - TryAcquire never blocks longer than connect_timeout + statement_timeout: true if this
//    object holds the lock (now or already), false if another session holds it or the
//    database is unreachable. It (re)connects lazily, so it recovers by itself.
//  - IsHeld checks the session is still alive (one round trip) and reports false once the
//    connection is lost: the lock may then be held elsewhere, stop the work. Check it
//    before each unit of work; work that must never run twice also needs its own guard in
//    the database (the lock is best effort across network partitions).
//  - Release is idempotent; the destructor releases.
//  - Thread-safe. Errors are kept in last_error() (never containing the password).
#ifndef OKR_SERVICE_STORAGE_POSTGRES_CLUSTER_LOCK_H_
#define OKR_SERVICE_STORAGE_POSTGRES_CLUSTER_LOCK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace okr::storage {

class ClusterLock {
 public:
  virtual ~ClusterLock() = default;
  // True if this holder now holds the lock (also if it already did).
  virtual bool TryAcquire() = 0;
  // Gives the lock up (no-op if not held).
  virtual void Release() = 0;
  // True while the lock is held by this holder.
  virtual bool IsHeld() = 0;
};

struct PostgresClusterLockOptions {
  std::string conninfo;  // as PostgresOptions::conninfo
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration statement_timeout = absl::Seconds(5);
  // TCP keepalives of the lock's session (both ends): a dead holder's lock is freed after
  // about idle + interval * count. Ignored on Unix-socket connections.
  absl::Duration keepalive_idle = absl::Seconds(5);
  absl::Duration keepalive_interval = absl::Seconds(2);
  int keepalive_count = 3;
};

// First key of every cluster lock (the second is hashtext(name)); keeps them apart from
// other advisory locks in the same database.
inline constexpr int32_t kClusterLockClass = 0x4f4b52;  // "OKR"

namespace postgres_internal {
class Connection;
class Redactor;
}  // namespace postgres_internal

class PostgresClusterLock final : public ClusterLock {
 public:
  // Does not connect yet. INVALID_ARGUMENT for an empty name, a malformed conninfo or
  // non-positive timeouts.
  static absl::StatusOr<std::unique_ptr<PostgresClusterLock>> Create(
      const PostgresClusterLockOptions& options, std::string name);

  PostgresClusterLock(const PostgresClusterLock&) = delete;
  PostgresClusterLock& operator=(const PostgresClusterLock&) = delete;
  ~PostgresClusterLock() override;

  bool TryAcquire() override;
  void Release() override;
  bool IsHeld() override;

  const std::string& name() const { return name_; }
  // Why the last TryAcquire/IsHeld/Release failed (OK if it did not).
  absl::Status last_error() const;

 private:
  PostgresClusterLock(const PostgresClusterLockOptions& options, std::string name);
  // Drops the connection (which frees the lock if the session still exists).
  void Disconnect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CheckHeld() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PostgresClusterLockOptions options_;
  const std::string name_;
  const std::unique_ptr<postgres_internal::Redactor> redactor_;
  mutable absl::Mutex mu_;
  std::unique_ptr<postgres_internal::Connection> conn_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_POSTGRES_CLUSTER_LOCK_H_
