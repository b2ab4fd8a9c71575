#include "service/storage/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/okr/status_macros.h"
#include "service/storage/postgres/connection.h"
#include "service/storage/postgres/migrations.h"
#include "service/storage/postgres/postgres_driver.h"
#include "service/storage/sql/cycle_cache.h"
#include "service/storage/sql/sql_transaction.h"
#include "service/storage/sql/transaction_scope.h"

namespace okr::storage {
namespace {

using postgres_internal::Connection;
using postgres_internal::ConnectSettings;
using postgres_internal::Params;
using postgres_internal::PgSession;
using postgres_internal::Redactor;
using postgres_internal::Result;
using postgres_internal::RowReader;
using sql::CycleCache;
using sql::NestedTransactionError;
using sql::SqlTransaction;
using sql::TransactionScope;

// --- Migrations --------------------------------------------------------------------------

absl::Status ApplyMigrations(Connection& conn, absl::Duration timeout) {
  // READ COMMITTED: after waiting for the lock, each statement sees what the replica that
  // held it committed.
  OKR_RETURN_IF_ERROR(conn.ExecScript(
      absl::StrCat("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = ",
                   absl::ToInt64Milliseconds(timeout), "; SELECT pg_advisory_xact_lock(",
                   kPostgresMigrationLockKey, ")"),
      timeout));
  absl::Status status = [&]() -> absl::Status {
    OKR_RETURN_IF_ERROR(
        conn.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    absl::Span<const PostgresMigration> migrations = PostgresMigrations();
    const int latest = migrations.empty() ? 0 : migrations.back().version;
    OKR_ASSIGN_OR_RETURN(Result applied,
                         conn.Exec("SELECT version FROM schema_migrations", Params()));
    absl::flat_hash_set<int64_t> versions;
    for (int row = 0; row < applied.rows(); ++row) {
      RowReader r(applied, row);
      int64_t version = r.Int(0);
      OKR_RETURN_IF_ERROR(r.status());
      if (version > latest) {
        return absl::FailedPreconditionError(absl::StrCat("database schema version ", version,
                                                          " is newer than this binary supports (",
                                                          latest, "); upgrade okr-service"));
      }
      versions.insert(version);
    }
    for (const PostgresMigration& m : migrations) {
      if (versions.contains(m.version)) continue;
      absl::Status s = conn.ExecScript(m.sql, timeout);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("migration ", m.version, " (", m.description,
                                                   ") failed: ", s.message()));
      }
      OKR_RETURN_IF_ERROR(
          conn.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    Params().Int(m.version).Text(
                        absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())))
              .status());
    }
    return conn.ExecScript("COMMIT", timeout);
  }();
  if (!status.ok() && !conn.broken() && conn.transaction_status() != PQTRANS_IDLE) {
    conn.ExecScript("ROLLBACK").IgnoreError();  // a failure surfaces on the next use
  }
  return status;
}

// --- Retry lane --------------------------------------------------------------------------

// An advisory lock (single bigint key space, per database) that orders re-runs of
// conflicting transactions across every replica. A re-run first takes it exclusively at
// session level, BEFORE its BEGIN: it waits for the read-write transactions in flight to
// end, new ones queue behind it, and its snapshot is taken after all of them, so it runs
// alone and cannot lose to them again. Every read-write transaction holds it shared: in
// the common case via pg_try_advisory_xact_lock_shared in the BEGIN round trip (no extra
// round trip, released at the end of the transaction); if a re-run holds or awaits the
// lane, it instead waits for a shared session lock before a new BEGIN, so that its
// snapshot, too, is taken after the re-run committed.
constexpr int64_t kRetryLaneKey = 0x6f6b722d6c616e65;  // "okr-lane"

enum class Lane { kNone, kShared, kExclusive };

// Moves the session from lane `held` to `want`; only between transactions.
absl::Status SetLane(Connection& conn, Lane& held, Lane want) {
  if (held == want) return absl::OkStatus();
  if (held != Lane::kNone) {
    OKR_RETURN_IF_ERROR(conn.Exec(held == Lane::kShared ? "SELECT pg_advisory_unlock_shared($1)"
                                                        : "SELECT pg_advisory_unlock($1)",
                                  Params().Int(kRetryLaneKey))
                            .status());
    held = Lane::kNone;
  }
  if (want != Lane::kNone) {
    // Waits at most statement_timeout (then DEADLINE_EXCEEDED).
    OKR_RETURN_IF_ERROR(conn.Exec(want == Lane::kShared ? "SELECT pg_advisory_lock_shared($1)"
                                                        : "SELECT pg_advisory_lock($1)",
                                  Params().Int(kRetryLaneKey))
                            .status());
    held = want;
  }
  return absl::OkStatus();
}

// The cycle epoch in column `col` of the first row (-1 if unreadable).
int64_t EpochOf(const Result& r, int col) {
  int64_t epoch = -1;
  if (r.rows() != 1 || !absl::SimpleAtoi(r.Text(0, col), &epoch)) return -1;
  return epoch;
}

// Starts a transaction on `conn`, in the lane as described above, and sets `cycle_epoch`
// to the cycle epoch its snapshot sees (read in the same round trip, the snapshot's first
// statement).
absl::Status Begin(Connection& conn, bool read_only, bool rerun, Lane& lane, int64_t& cycle_epoch) {
  cycle_epoch = -1;
  constexpr absl::string_view kEpoch = "SELECT epoch FROM cycle_epoch WHERE id = 1";
  if (read_only) {
    static const std::string* const kBeginReadOnly =
        new std::string(absl::StrCat("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ", kEpoch));
    OKR_ASSIGN_OR_RETURN(Result got, conn.QueryScript(*kBeginReadOnly));
    cycle_epoch = EpochOf(got, 0);
    return absl::OkStatus();
  }
  static const std::string* const kBeginSerializable =
      new std::string(absl::StrCat("BEGIN ISOLATION LEVEL SERIALIZABLE; ", kEpoch));
  if (rerun) OKR_RETURN_IF_ERROR(SetLane(conn, lane, Lane::kExclusive));
  if (lane != Lane::kNone) {
    OKR_ASSIGN_OR_RETURN(Result got, conn.QueryScript(*kBeginSerializable));
    cycle_epoch = EpochOf(got, 0);
    return absl::OkStatus();
  }
  static const std::string* const kBeginInSharedLane = new std::string(
      absl::StrCat("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_try_advisory_xact_lock_shared(",
                   kRetryLaneKey, "), (", kEpoch, ")"));
  OKR_ASSIGN_OR_RETURN(Result got, conn.QueryScript(*kBeginInSharedLane));
  if (got.rows() == 1 && got.Text(0, 0) == "t") {
    cycle_epoch = EpochOf(got, 1);
    return absl::OkStatus();
  }
  // A re-run holds or awaits the lane: wait for it before taking a snapshot.
  OKR_RETURN_IF_ERROR(conn.ExecScript("ROLLBACK"));
  OKR_RETURN_IF_ERROR(SetLane(conn, lane, Lane::kShared));
  OKR_ASSIGN_OR_RETURN(Result again, conn.QueryScript(*kBeginSerializable));
  cycle_epoch = EpochOf(again, 0);
  return absl::OkStatus();
}

}  // namespace

// --- Pool --------------------------------------------------------------------------------

class PostgresStore::Impl {
 public:
  Impl(const PostgresOptions& options, ConnectSettings settings, Redactor redactor,
       std::unique_ptr<Connection> first)
      : options_(options), settings_(std::move(settings)), redactor_(std::move(redactor)) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }

  // A connection borrowed from the pool; returned (or dropped if broken) on destruction.
  class Lease {
   public:
    Lease(Impl* pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(std::move(conn_));
    }
    Connection& conn() { return *conn_; }
    // True if the connection sat idle in the pool (it may have died meanwhile).
    bool reused() const { return reused_; }
    // Closes the connection instead of returning it to the pool.
    void Discard() {
      conn_.reset();
      pool_->Forget();
    }

   private:
    Impl* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  absl::StatusOr<Lease> Acquire() {
    const absl::Time deadline = absl::Now() + options_.connect_timeout;
    std::unique_ptr<Connection> stale;  // closed outside the lock
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        if (!mu_.AwaitWithDeadline(absl::Condition(this, &Impl::CanLease), deadline)) {
          return absl::UnavailableError(absl::StrCat(
              "postgres: all ", options_.pool_size, " database connections stayed busy for ",
              absl::FormatDuration(options_.connect_timeout)));
        }
        if (idle_.empty()) break;
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        if (!conn->broken()) return Lease(this, std::move(conn), /*reused=*/true);
        --open_;
        stale = std::move(conn);
      }
      // Open a new connection, unless one failed moments ago (fail fast while down).
      const absl::Time now = absl::Now();
      if (now < reconnect_after_) return last_connect_error_;
      ++open_;
    }
    stale.reset();
    ConnectSettings settings = settings_;
    settings.connect_timeout = std::max(deadline - absl::Now(), absl::Milliseconds(100));
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(settings, redactor_);
    absl::MutexLock lock(&mu_);
    if (!conn.ok()) {
      --open_;
      reconnect_after_ = absl::Now() + options_.reconnect_backoff;
      last_connect_error_ = conn.status();
      return conn.status();
    }
    ++reconnects_;
    return Lease(this, std::move(*conn), /*reused=*/false);
  }

  void Release(std::unique_ptr<Connection> conn) {
    const bool keep = !conn->broken() && conn->transaction_status() == PQTRANS_IDLE;
    std::vector<std::unique_ptr<Connection>> suspects;  // closed outside the lock
    {
      absl::MutexLock lock(&mu_);
      if (keep) {
        idle_.push_back(std::move(conn));
        return;
      }
      --open_;
      if (conn->timed_out()) {
        // The server stopped answering: the idle connections to it are most likely dead
        // too, and each would cost a caller a full statement timeout to find out.
        open_ -= static_cast<int64_t>(idle_.size());
        suspects.swap(idle_);
      }
    }
    conn.reset();
  }

  void Forget() {
    absl::MutexLock lock(&mu_);
    --open_;
  }

  void CountRetry() {
    absl::MutexLock lock(&mu_);
    ++retries_;
  }

  CycleCache& cycles() { return cycles_; }

  Stats stats() {
    absl::MutexLock lock(&mu_);
    return Stats{retries_, reconnects_, open_, static_cast<int64_t>(idle_.size())};
  }

  const PostgresOptions options_;

 private:
  bool CanLease() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !idle_.empty() || open_ < options_.pool_size;
  }

  const ConnectSettings settings_;
  const Redactor redactor_;
  CycleCache cycles_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + leased + being opened
  absl::Time reconnect_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_connect_error_ ABSL_GUARDED_BY(mu_);
  int64_t retries_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
};

// --- Store -------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres: pool_size must be at least 1, got ", options.pool_size));
  }
  if (options.max_retries < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres: max_retries must not be negative, got ", options.max_retries));
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.statement_timeout <= absl::ZeroDuration() ||
      options.migration_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("postgres: timeouts must be positive");
  }
  if (options.reconnect_backoff < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("postgres: reconnect_backoff must not be negative");
  }
  OKR_RETURN_IF_ERROR(postgres_internal::ValidateConninfo(options.conninfo));
  Redactor redactor(options.conninfo);
  ConnectSettings settings;
  settings.conninfo = options.conninfo;
  settings.connect_timeout = options.connect_timeout;
  settings.statement_timeout = options.statement_timeout;
  settings.application_name = options.application_name;
  // So that the kernel, not the next caller, finds connections to a vanished host.
  settings.keepalive_idle = absl::Seconds(30);
  settings.keepalive_interval = absl::Seconds(10);
  settings.keepalive_count = 3;
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(settings, redactor));
  OKR_RETURN_IF_ERROR(ApplyMigrations(*conn, options.migration_timeout));
  return std::unique_ptr<PostgresStore>(new PostgresStore(
      std::make_unique<Impl>(options, std::move(settings), std::move(redactor), std::move(conn))));
}

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PostgresStore::~PostgresStore() = default;

PostgresStore::Stats PostgresStore::stats() const { return impl_->stats(); }

absl::Status PostgresStore::RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  return Run(/*read_only=*/false, fn);
}

absl::Status PostgresStore::RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  return Run(/*read_only=*/true, fn);
}

absl::Status PostgresStore::Run(bool read_only,
                                absl::FunctionRef<absl::Status(OkrTransaction&)> fn) {
  TransactionScope scope(impl_.get());
  if (scope.nested()) return NestedTransactionError();
  const PostgresOptions& options = impl_->options_;
  std::optional<Impl::Lease> lease;
  Lane lane = Lane::kNone;  // the retry lane lock the leased session holds
  // Leaves the lane (a session lock would outlive the call) and returns `status`.
  auto finish = [&](absl::Status status) {
    if (lane != Lane::kNone && !lease->conn().broken() &&
        !SetLane(lease->conn(), lane, Lane::kNone).ok()) {
      lease->Discard();
    }
    return status;
  };
  int attempts = 0;
  int stale = 0;
  while (true) {
    if (!lease.has_value()) {
      OKR_ASSIGN_OR_RETURN(Impl::Lease acquired, impl_->Acquire());
      lease.emplace(std::move(acquired));
    }
    Connection& conn = lease->conn();
    int64_t cycle_epoch = -1;
    absl::Status begin = Begin(conn, read_only, /*rerun=*/attempts > 0, lane, cycle_epoch);
    if (!begin.ok()) {
      // A pooled connection may have died while idle (e.g. PostgreSQL restarted): nothing
      // ran yet, so try the next one, or a new one.
      if (attempts == 0 && lease->reused() && conn.broken() && !conn.timed_out() &&
          stale++ <= options.pool_size) {
        lease.reset();
        lane = Lane::kNone;  // the session, and its locks, are gone
        continue;
      }
      if (!conn.broken() && conn.transaction_status() != PQTRANS_IDLE) {
        conn.ExecScript("ROLLBACK").IgnoreError();
      }
      return finish(begin);
    }
    ++attempts;
    absl::Status status;
    bool retry = false;
    {
      PgSession session(conn);
      SqlTransaction tx(session, {read_only, &impl_->cycles(), cycle_epoch});
      status = fn(tx);
      if (!session.poisoned().ok()) {
        retry = session.retryable();
        if (status.ok()) status = session.poisoned();
      }
    }
    if (status.ok() && conn.transaction_status() != PQTRANS_INTRANS) {
      status = absl::InternalError("postgres: the transaction ended unexpectedly");
    }
    if (status.ok()) {
      status = conn.ExecScript("COMMIT");
      if (!status.ok()) {
        retry = postgres_internal::IsRetryableSqlState(conn.last_sqlstate());
        if (conn.broken()) {
          return absl::UnavailableError(absl::StrCat(
              "postgres: connection lost during COMMIT; the transaction may or may not have "
              "been committed: ",
              status.message()));
        }
      }
    }
    if (!conn.broken() && conn.transaction_status() != PQTRANS_IDLE) {
      // Rolls back a failed or refused transaction; if this fails the connection is broken
      // or not idle, and the pool drops it.
      conn.ExecScript("ROLLBACK").IgnoreError();
    }
    if (!retry || conn.broken()) return finish(status);
    if (attempts > options.max_retries) {
      return finish(absl::AbortedError(
          absl::StrCat("postgres: transaction failed ", attempts,
                       " times because concurrent transactions conflicted with it; last error: ",
                       status.message())));
    }
    impl_->CountRetry();
  }
}

absl::Status PostgresStore::Ping() {
  TransactionScope scope(impl_.get());
  if (scope.nested()) return NestedTransactionError();
  int stale = 0;
  while (true) {
    OKR_ASSIGN_OR_RETURN(Impl::Lease lease, impl_->Acquire());
    absl::Status status = lease.conn().Exec("SELECT 1", Params()).status();
    if (!status.ok() && lease.reused() && lease.conn().broken() && !lease.conn().timed_out() &&
        stale++ <= impl_->options_.pool_size) {
      continue;
    }
    return status;
  }
}

}  // namespace okr::storage
