#include "service/storage/postgres/postgres_driver.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "service/okr/status_macros.h"

namespace okr::storage::postgres_internal {
namespace {

// Identity values are handed out at INSERT, not at COMMIT: two transactions appending
// events at once could commit 11 before 10, and a watcher that read 11 would never see 10.
// Every transaction that appends events therefore first takes this transaction-level
// advisory lock, so event-writing transactions commit one after another in sequence order.
constexpr int64_t kEventOrderLockKey = 0x6f6b722d65767473;  // "okr-evts"

// Parameters are collected by index and sent in text format when the statement runs.
class PgStatement final : public sql::Statement {
 public:
  PgStatement(PgSession& session, std::string sql) : session_(session), sql_(std::move(sql)) {}

  void BindNull(int index) override { Slot(index) = Params().Null(); }
  void BindInt(int index, int64_t value) override { Slot(index) = Params().Int(value); }
  void BindDouble(int index, double value) override { Slot(index) = Params().Double(value); }
  void BindText(int index, absl::string_view value) override { Slot(index) = Params().Text(value); }
  void BindBool(int index, bool value) override { Slot(index) = Params().Bool(value); }

  absl::StatusOr<bool> Step() override {
    if (!result_.has_value()) {
      Params params;
      for (const std::optional<Params>& slot : slots_) {
        slot.has_value() ? params.Append(*slot) : params.Null();
      }
      OKR_ASSIGN_OR_RETURN(Result result, session_.Exec(sql_, params));
      result_.emplace(std::move(result));
    }
    if (row_ + 1 >= result_->rows()) {
      row_ = result_->rows();
      reader_.reset();
      return false;
    }
    reader_.emplace(*result_, ++row_);
    return true;
  }
  int64_t affected() const override { return result_.has_value() ? result_->affected() : 0; }

  bool ColumnIsNull(int col) const override { return result_->IsNull(row_, col); }
  std::string ColumnText(int col) const override { return reader_->Text(col); }
  int64_t ColumnInt(int col) override { return reader_->Int(col); }
  double ColumnDouble(int col) override { return reader_->Double(col); }
  bool ColumnBool(int col) override { return reader_->Bool(col); }
  absl::Status column_status() const override {
    return reader_.has_value() ? reader_->status() : absl::OkStatus();
  }

 private:
  std::optional<Params>& Slot(int index) {
    if (static_cast<int>(slots_.size()) < index) slots_.resize(index);
    return slots_[index - 1];
  }

  PgSession& session_;
  const std::string sql_;
  std::vector<std::optional<Params>> slots_;
  std::optional<Result> result_;
  int row_ = -1;
  std::optional<RowReader> reader_;
};

}  // namespace

std::string PostgresPlaceholders(absl::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < sql.size() && absl::ascii_isdigit(sql[i + 1])) {
      out.push_back('$');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

const sql::Dialect& PgSession::dialect() const {
  static constexpr sql::Dialect kPostgres{/*narrow_updates=*/false,
                                          /*byte_order=*/" COLLATE \"C\""};
  return kPostgres;
}

absl::StatusOr<std::unique_ptr<sql::Statement>> PgSession::Prepare(absl::string_view sql) {
  if (!poisoned_.ok()) return poisoned_;
  return std::make_unique<PgStatement>(*this, PostgresPlaceholders(sql));
}

absl::StatusOr<Result> PgSession::Exec(absl::string_view sql, const Params& params) {
  if (!poisoned_.ok()) return poisoned_;
  absl::StatusOr<Result> result = conn_.Exec(sql, params);
  if (!result.ok() && params.status().ok()) {
    poisoned_ = result.status();
    retryable_ = IsRetryableSqlState(conn_.last_sqlstate());
  }
  return result;
}

absl::Status PgSession::ChangedCycle() {
  return Exec("UPDATE cycle_epoch SET epoch = epoch + 1 WHERE id = 1", Params()).status();
}

absl::Status PgSession::WillAppendEvent() {
  if (events_locked_) return absl::OkStatus();
  OKR_RETURN_IF_ERROR(
      Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kEventOrderLockKey)).status());
  events_locked_ = true;
  return absl::OkStatus();
}

}  // namespace okr::storage::postgres_internal
