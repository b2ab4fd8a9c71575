// The PostgreSQL driver of the shared SQL layer (service/storage/sql): a sql::Session over
// one postgres_internal::Connection inside one transaction. Internal to the PostgreSQL
// store.
//
//   PgSession session(conn);
//   sql::SqlTransaction tx(session, {...});
//   absl::Status status = fn(tx);
//   if (!session.poisoned().ok()) { retry = session.retryable(); ... }
//
// Placeholders ?N are sent as $N. Any SQL error poisons the session (PostgreSQL has
// aborted the transaction): every later statement fails with the same status.
// Thread safety: as the Connection (one thread at a time).
#ifndef OKR_SERVICE_STORAGE_POSTGRES_POSTGRES_DRIVER_H_
#define OKR_SERVICE_STORAGE_POSTGRES_POSTGRES_DRIVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/storage/postgres/connection.h"
#include "service/storage/sql/driver.h"

namespace okr::storage::postgres_internal {

class PgSession final : public sql::Session {
 public:
  explicit PgSession(Connection& conn) : conn_(conn) {}

  const sql::Dialect& dialect() const override;
  absl::StatusOr<std::unique_ptr<sql::Statement>> Prepare(absl::string_view sql) override;
  // Bumps the cycle epoch row in this transaction (other replicas' caches then miss).
  absl::Status ChangedCycle() override;
  // Takes the event-order lock once per transaction (see kEventOrderLockKey).
  absl::Status WillAppendEvent() override;

  // Runs one statement; an SQL error poisons the session.
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params);

  // The first SQL error, or OK.
  const absl::Status& poisoned() const { return poisoned_; }
  // True if that error was a serialization failure or deadlock (re-run the callback).
  bool retryable() const { return retryable_; }

 private:
  Connection& conn_;
  absl::Status poisoned_;
  bool retryable_ = false;
  bool events_locked_ = false;
};

// `sql` with ?N placeholders (outside quotes) written as $N.
std::string PostgresPlaceholders(absl::string_view sql);

}  // namespace okr::storage::postgres_internal

#endif  // OKR_SERVICE_STORAGE_POSTGRES_POSTGRES_DRIVER_H_
