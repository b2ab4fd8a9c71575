#include "service/storage/postgres/cluster_lock.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/storage/postgres/connection.h"

namespace okr::storage {

using postgres_internal::Connection;
using postgres_internal::ConnectSettings;
using postgres_internal::Params;
using postgres_internal::Redactor;
using postgres_internal::Result;

absl::StatusOr<std::unique_ptr<PostgresClusterLock>> PostgresClusterLock::Create(
    const PostgresClusterLockOptions& options, std::string name) {
  if (name.empty()) return absl::InvalidArgumentError("cluster lock: name is required");
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.statement_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("cluster lock: timeouts must be positive");
  }
  if (absl::Status s = postgres_internal::ValidateConninfo(options.conninfo); !s.ok()) return s;
  return std::unique_ptr<PostgresClusterLock>(new PostgresClusterLock(options, std::move(name)));
}

PostgresClusterLock::PostgresClusterLock(const PostgresClusterLockOptions& options,
                                         std::string name)
    : options_(options),
      name_(std::move(name)),
      redactor_(std::make_unique<Redactor>(options.conninfo)) {}

PostgresClusterLock::~PostgresClusterLock() { Release(); }

absl::Status PostgresClusterLock::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void PostgresClusterLock::Disconnect() {
  conn_.reset();
  held_ = false;
}

bool PostgresClusterLock::CheckHeld() {
  if (!held_) return false;
  if (conn_ == nullptr || conn_->broken()) {
    Disconnect();
    return false;
  }
  absl::StatusOr<Result> alive = conn_->Exec("SELECT 1", Params());
  if (!alive.ok()) {
    last_error_ = alive.status();
    Disconnect();
    return false;
  }
  return true;
}

bool PostgresClusterLock::TryAcquire() {
  absl::MutexLock lock(&mu_);
  if (CheckHeld()) return true;
  if (conn_ == nullptr || conn_->broken()) {
    ConnectSettings settings;
    settings.conninfo = options_.conninfo;
    settings.connect_timeout = options_.connect_timeout;
    settings.statement_timeout = options_.statement_timeout;
    settings.application_name = absl::StrCat("okr-service lock ", name_);
    settings.keepalive_idle = options_.keepalive_idle;
    settings.keepalive_interval = options_.keepalive_interval;
    settings.keepalive_count = options_.keepalive_count;
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(settings, *redactor_);
    if (!conn.ok()) {
      last_error_ = conn.status();
      conn_.reset();
      return false;
    }
    conn_ = std::move(*conn);
  }
  absl::StatusOr<Result> got =
      conn_->Exec("SELECT pg_try_advisory_lock($1::integer, hashtext($2::text))",
                  Params().Int(kClusterLockClass).Text(name_));
  if (!got.ok()) {
    last_error_ = got.status();
    Disconnect();
    return false;
  }
  last_error_ = absl::OkStatus();
  held_ = got->rows() == 1 && got->Text(0, 0) == "t";
  return held_;
}

bool PostgresClusterLock::IsHeld() {
  absl::MutexLock lock(&mu_);
  return CheckHeld();
}

void PostgresClusterLock::Release() {
  absl::MutexLock lock(&mu_);
  if (!held_) return;
  held_ = false;
  if (conn_ == nullptr || conn_->broken()) {
    conn_.reset();
    return;
  }
  absl::StatusOr<Result> released =
      conn_->Exec("SELECT pg_advisory_unlock($1::integer, hashtext($2::text))",
                  Params().Int(kClusterLockClass).Text(name_));
  if (!released.ok()) {
    // Ending the session releases every lock it holds.
    last_error_ = released.status();
    conn_.reset();
  }
}

}  // namespace okr::storage
