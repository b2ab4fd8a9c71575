#include "service/storage/sqlite/sqlite_driver.h"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/okr/status_macros.h"

namespace okr::storage::sqlite_internal {
namespace {

class SqliteStatement final : public sql::Statement {
 public:
  SqliteStatement(Connection& conn, sqlite_internal::Statement stmt)
      : conn_(conn), stmt_(std::move(stmt)) {}

  void BindNull(int index) override { stmt_.BindNull(index); }
  void BindInt(int index, int64_t value) override { stmt_.BindInt(index, value); }
  void BindDouble(int index, double value) override { stmt_.BindDouble(index, value); }
  void BindText(int index, absl::string_view value) override { stmt_.BindText(index, value); }
  void BindBool(int index, bool value) override { stmt_.BindInt(index, value ? 1 : 0); }

  absl::StatusOr<bool> Step() override { return stmt_.Step(); }
  int64_t affected() const override { return sqlite3_changes64(conn_.db()); }

  bool ColumnIsNull(int col) const override { return stmt_.ColumnIsNull(col); }
  std::string ColumnText(int col) const override { return stmt_.ColumnText(col); }
  int64_t ColumnInt(int col) override { return stmt_.ColumnInt(col); }
  double ColumnDouble(int col) override { return stmt_.ColumnDouble(col); }
  bool ColumnBool(int col) override { return stmt_.ColumnInt(col) != 0; }

 private:
  Connection& conn_;
  sqlite_internal::Statement stmt_;
};

}  // namespace

const sql::Dialect& SqliteSession::dialect() const {
  static constexpr sql::Dialect kSqlite{/*narrow_updates=*/true, /*byte_order=*/""};
  return kSqlite;
}

absl::StatusOr<std::unique_ptr<sql::Statement>> SqliteSession::Prepare(absl::string_view sql) {
  if (!begun_) {
    OKR_RETURN_IF_ERROR(conn_.Exec("BEGIN"));
    begun_ = true;
  }
  OKR_RETURN_IF_ERROR(RolledBack());
  OKR_ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(sql));
  return std::make_unique<SqliteStatement>(conn_, std::move(stmt));
}

absl::Status SqliteSession::WillChangeCycle(const std::string& id) {
  if (cycles_ != nullptr) cycles_->BeginChange(id);
  return absl::OkStatus();
}

absl::Status SqliteSession::WillChangeObjective(const std::string& id) {
  if (objectives_ != nullptr) objectives_->BeginChange(id);
  return absl::OkStatus();
}

absl::Status SqliteSession::WillChangeObjectives() {
  if (objectives_ != nullptr) objectives_->BeginChangeAll();
  return absl::OkStatus();
}

absl::Status SqliteSession::RolledBack() const {
  if (sqlite3_get_autocommit(conn_.db()) == 0) return absl::OkStatus();
  absl::Status cause = conn_.last_error();
  if (cause.ok()) cause = absl::InternalError("sqlite: transaction ended unexpectedly");
  return absl::Status(cause.code(), absl::StrCat("transaction was rolled back: ", cause.message()));
}

}  // namespace okr::storage::sqlite_internal
