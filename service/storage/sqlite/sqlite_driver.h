// The SQLite driver of the shared SQL layer (service/storage/sql): a sql::Session over
// one sqlite_internal::Connection inside one transaction. Internal to the SQLite store.
//
//   SqliteSession session(conn, &cycle_cache, &objective_cache);
//   sql::SqlTransaction tx(session, {...});
//   ...
//   OKR_RETURN_IF_ERROR(session.RolledBack());  // before committing
//
// Thread safety: as the Connection (one thread at a time).
#ifndef OKR_SERVICE_STORAGE_SQLITE_SQLITE_DRIVER_H_
#define OKR_SERVICE_STORAGE_SQLITE_SQLITE_DRIVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/storage/sql/cycle_cache.h"
#include "service/storage/sql/driver.h"
#include "service/storage/sqlite/connection.h"

namespace okr::storage::sqlite_internal {

class SqliteSession final : public sql::Session {
 public:
  // `cycles`, `objectives`: the store's caches, kept clear of the rows this transaction
  // changes (null: none). `lazy_begin` (read-only transactions): the session issues BEGIN
  // with its first statement, so a transaction served from the caches alone never touches
  // the database (BEGIN is DEFERRED: SQLite takes the snapshot at the first read either
  // way); otherwise the caller has begun the transaction.
  SqliteSession(Connection& conn, sql::CycleCache* cycles, sql::ObjectiveCache* objectives,
                bool lazy_begin = false)
      : conn_(conn), cycles_(cycles), objectives_(objectives), begun_(!lazy_begin) {}

  const sql::Dialect& dialect() const override;
  // Fails once RolledBack() does.
  absl::StatusOr<std::unique_ptr<sql::Statement>> Prepare(absl::string_view sql) override;
  absl::Status WillChangeCycle(const std::string& id) override;
  absl::Status WillChangeObjective(const std::string& id) override;
  absl::Status WillChangeObjectives() override;

  // Non-OK if SQLite rolled the transaction back on its own (after an I/O error, a full
  // disk, ...): committing would then be wrong, even if the callback returned OK.
  absl::Status RolledBack() const;

 private:
  Connection& conn_;
  sql::CycleCache* const cycles_;
  sql::ObjectiveCache* const objectives_;
  bool begun_;  // false: BEGIN not issued yet (lazy_begin)
};

}  // namespace okr::storage::sqlite_internal

#endif  // OKR_SERVICE_STORAGE_SQLITE_SQLITE_DRIVER_H_
