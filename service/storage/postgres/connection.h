// Internal to the PostgreSQL store: one libpq connection with deadlines on every wait, a
// per-connection prepared-statement cache, text-format parameters and values, and the
// mapping of SQLSTATEs to absl::Status. Not part of the public storage API.
//
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(settings));
//   Params p;
//   p.Text(id);
//   OKR_ASSIGN_OR_RETURN(Result r, conn->Exec("SELECT title FROM objectives WHERE id = $1", p));
//   if (r.rows() == 1) title = r.Text(0, 0);
//
// Contract:
//  - No call waits longer than its deadline: connecting is bounded by `connect_timeout`,
//    each statement by `statement_timeout` on the server (57014 -> DEADLINE_EXCEEDED) and
//    by `statement_timeout + kClientGrace` on the client (no answer -> UNAVAILABLE, the
//    connection is then broken: a dead network cannot hang a caller).
//  - A connection whose server went away (or that timed out) reports broken() and must be
//    discarded; it never recovers by itself.
//  - Error messages never contain the password of the connection string (see Redactor).
//  - Thread safety: one thread at a time per Connection; the caller provides the locking.
#ifndef OKR_SERVICE_STORAGE_POSTGRES_CONNECTION_H_
#define OKR_SERVICE_STORAGE_POSTGRES_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace okr::storage::postgres_internal {

// How long the client waits past the server-side statement timeout before it gives up on
// a connection (the server should have answered with 57014 by then).
inline constexpr absl::Duration kClientGrace = absl::Seconds(2);

// Removes secrets (the password of a connection string, raw and percent-decoded) from
// text before it goes into a Status or a log line.
class Redactor {
 public:
  Redactor() = default;
  // Collects the password of `conninfo` (URI or key=value form), even if malformed.
  explicit Redactor(absl::string_view conninfo);
  std::string operator()(absl::string_view text) const;

 private:
  std::vector<std::string> secrets_;
};

// Where and how to connect. `conninfo` is a libpq URI (postgresql://user:pass@host:port/db
// ?param=...) or key=value string; its parameters win over the defaults set here except
// client_encoding (always UTF8).
struct ConnectSettings {
  std::string conninfo;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration statement_timeout = absl::Seconds(10);
  std::string application_name = "okr-service";
  // TCP keepalives on both ends (libpq and the server's tcp_keepalives_*), so a dead peer
  // is noticed within about idle + interval * count. Zero: the system defaults.
  absl::Duration keepalive_idle = absl::ZeroDuration();
  absl::Duration keepalive_interval = absl::ZeroDuration();
  int keepalive_count = 0;
};

// Checks that `conninfo` parses; INVALID_ARGUMENT (redacted) if not.
absl::Status ValidateConninfo(absl::string_view conninfo);

// Maps a SQLSTATE to a code: 40001/40P01 -> ABORTED, 23505 -> ALREADY_EXISTS,
// 23503/23xxx/25006 -> FAILED_PRECONDITION, 57014 -> DEADLINE_EXCEEDED,
// 08xxx/57P0x/53300/55P03 and 53100 (disk full)/58030 (I/O error) -> UNAVAILABLE,
// other 53xxx -> RESOURCE_EXHAUSTED,
// 22xxx -> INVALID_ARGUMENT, else INTERNAL.
absl::StatusCode CodeForSqlState(absl::string_view sqlstate);
// True for serialization failures and deadlocks: the transaction may be retried.
bool IsRetryableSqlState(absl::string_view sqlstate);
// True if the connection is unusable after this SQLSTATE (server shutting down, ...).
bool IsConnectionSqlState(absl::string_view sqlstate);

// Text-format statement parameters, $1, $2, ... in the order they are added.
class Params {
 public:
  Params& Text(absl::string_view value);
  // "" is sent as NULL (optional references).
  Params& NullableText(absl::string_view value);
  Params& Int(int64_t value);
  Params& Double(double value);
  Params& OptionalDouble(std::optional<double> value);
  Params& Bool(bool value);
  // Microseconds since the epoch; InfinitePast is NULL, InfiniteFuture INT64_MAX.
  Params& Time(absl::Time value);
  Params& Null();
  // Appends the values (and the first error) of `other`.
  Params& Append(const Params& other);

  int size() const { return static_cast<int>(values_.size()); }
  // INVALID_ARGUMENT if a text value cannot be sent (it contains a NUL byte).
  const absl::Status& status() const { return status_; }
  // Pointers for PQsendQueryPrepared; valid while this object is unchanged.
  std::vector<const char*> Pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
  absl::Status status_;
};

// The rows of one successful statement, values in text format.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* res) : res_(res, &PQclear) {}

  int rows() const { return res_ ? PQntuples(res_.get()) : 0; }
  // Rows inserted/updated/deleted by INSERT/UPDATE/DELETE.
  int64_t affected() const;
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  // NULL -> "".
  std::string Text(int row, int col) const;

 private:
  std::shared_ptr<PGresult> res_;
};

// Reads the typed columns of one row, remembering the first value that does not parse
// (a corrupt row -> INTERNAL) so decoders can read every column and check once.
class RowReader {
 public:
  RowReader(const Result& result, int row) : result_(result), row_(row) {}
  std::string Text(int col) const { return result_.Text(row_, col); }
  int64_t Int(int col);    // NULL -> 0
  double Double(int col);  // NULL -> NaN
  std::optional<double> OptionalDouble(int col);
  bool Bool(int col);        // NULL -> false
  absl::Time Time(int col);  // NULL -> InfinitePast
  const absl::Status& status() const { return status_; }

 private:
  void Corrupt(int col, absl::string_view what);

  const Result& result_;
  const int row_;
  absl::Status status_;
};

class Connection {
 public:
  // Connects within `settings.connect_timeout` and sets the session up (statement timeout,
  // UTF8, exact float output). UNAVAILABLE if the server cannot be reached or refuses.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const ConnectSettings& settings,
                                                          const Redactor& redactor);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one statement with parameters, prepared once per connection (named) and reused.
  // On error the Status carries the SQLSTATE's code; see last_sqlstate().
  absl::StatusOr<Result> Exec(absl::string_view sql, const Params& params);
  // Runs SQL text without parameters (may hold several statements; transaction control,
  // migrations). `timeout` overrides the statement timeout for the client-side wait.
  absl::Status ExecScript(absl::string_view sql,
                          std::optional<absl::Duration> timeout = std::nullopt) {
    return QueryScript(sql, timeout).status();
  }
  // ExecScript returning the result of the last statement.
  absl::StatusOr<Result> QueryScript(absl::string_view sql,
                                     std::optional<absl::Duration> timeout = std::nullopt);

  // True once the connection is unusable (server gone, timed out, protocol error).
  bool broken() const;
  // True if it broke because the server did not answer in time (the network or the server
  // may be gone: other connections to it are suspect too).
  bool timed_out() const { return timed_out_; }
  // The transaction state libpq tracks (idle, in a transaction, in a failed one).
  PGTransactionStatusType transaction_status() const { return PQtransactionStatus(conn_); }
  // SQLSTATE of the last failed statement ("" for client-side failures).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Name of the constraint the last failed statement violated, if any.
  const std::string& last_constraint() const { return last_constraint_; }
  int server_version() const { return PQserverVersion(conn_); }

 private:
  Connection(PGconn* conn, const ConnectSettings& settings, const Redactor& redactor);
  // Waits until the socket is ready for reading (and writing, while output is pending).
  absl::Status Wait(bool want_write, absl::Time deadline);
  // Sends what libpq buffered and collects the results of the command just sent.
  absl::StatusOr<Result> Finish(absl::Time deadline);
  absl::Status Broken(absl::string_view what);
  absl::Status ErrorFromResult(const PGresult* res);

  PGconn* const conn_;
  const absl::Duration statement_timeout_;
  const Redactor redactor_;
  bool broken_ = false;
  bool timed_out_ = false;
  std::string last_sqlstate_;
  std::string last_constraint_;
  // SQL text -> prepared statement name.
  absl::flat_hash_map<std::string, std::string> prepared_;
};

}  // namespace okr::storage::postgres_internal

#endif  // OKR_SERVICE_STORAGE_POSTGRES_CONNECTION_H_
