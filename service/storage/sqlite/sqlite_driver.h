// The SQLite driver of the shared SQL layer (service/storage/sql): a sql::Session over
// one sqlite_internal::Connection inside one transaction. Internal to the SQLite store.
//
//   SqliteSession session(conn, &cycle_cache);
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
  // `cycles`: the store's cycle cache, kept clear of cycles this transaction changes
  // (null: none).
  SqliteSession(Connection& conn, sql::CycleCache* cycles) : conn_(conn), cycles_(cycles) {}

  const sql::Dialect& dialect() const override;
  // Fails once RolledBack() does.
  absl::StatusOr<std::unique_ptr<sql::Statement>> Prepare(absl::string_view sql) override;
  absl::Status WillChangeCycle(const std::string& id) override;

  // Non-OK if SQLite rolled the transaction back on its own (after an I/O error, a full
  // disk, ...): committing would then be wrong, even if the callback returned OK.
  absl::Status RolledBack() const;

 private:
  Connection& conn_;
  sql::CycleCache* const cycles_;
};

}  // namespace okr::storage::sqlite_internal

#endif  // OKR_SERVICE_STORAGE_SQLITE_SQLITE_DRIVER_H_
