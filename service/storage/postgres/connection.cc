#include "service/storage/postgres/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr::storage::postgres_internal {
namespace {

constexpr int64_t kInfiniteFutureMicros = std::numeric_limits<int64_t>::max();

std::string PercentDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && absl::ascii_isxdigit(in[i + 1]) &&
        absl::ascii_isxdigit(in[i + 2])) {
      auto hex = [](char c) {
        return absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
      };
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// The value after `password` `=` in a key=value string (possibly quoted), or "".
std::string KeywordPassword(absl::string_view conninfo) {
  size_t pos = 0;
  while ((pos = conninfo.find("password", pos)) != absl::string_view::npos) {
    absl::string_view rest = conninfo.substr(pos + 8);
    pos += 8;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (!absl::ConsumePrefix(&rest, "=")) continue;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    std::string value;
    if (absl::ConsumePrefix(&rest, "'")) {
      for (size_t i = 0; i < rest.size() && rest[i] != '\''; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
    } else {
      size_t end = 0;
      while (end < rest.size() && !absl::ascii_isspace(rest[end])) ++end;
      value = std::string(rest.substr(0, end));
    }
    if (!value.empty()) return value;
  }
  return "";
}

// Waits for `fd` to become readable (and writable if `want_write`) until `deadline`.
// Returns false on timeout or a poll error.
bool PollSocket(int fd, bool want_read, bool want_write, absl::Time deadline) {
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{};
    p.fd = fd;
    p.events = static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0));
    int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (rc > 0) return true;
    if (rc == 0) continue;  // re-checks the deadline
    if (errno != EINTR) return false;
  }
}

// "5s" -> "5"; libpq wants whole seconds (and treats 1 as 2).
std::string WholeSeconds(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)))));
}

std::string Millis(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace

// --- Redactor ----------------------------------------------------------------------------

Redactor::Redactor(absl::string_view conninfo) {
  auto add = [&](std::string secret) {
    if (secret.empty()) return;
    if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) {
      secrets_.push_back(std::move(secret));
    }
  };
  std::string text(conninfo);
  char* error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(text.c_str(), &error)) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) add(o->val);
    }
    PQconninfoFree(options);
  }
  PQfreemem(error);
  // Also from the raw text, in case it does not parse: scheme://user:password@host...
  absl::string_view rest = conninfo;
  size_t scheme = rest.find("://");
  if (scheme != absl::string_view::npos) {
    rest = rest.substr(scheme + 3);
    size_t at = rest.rfind('@');
    if (at != absl::string_view::npos) {
      absl::string_view userinfo = rest.substr(0, at);
      size_t colon = userinfo.find(':');
      if (colon != absl::string_view::npos) {
        absl::string_view password = userinfo.substr(colon + 1);
        add(std::string(password));
        add(PercentDecode(password));
      }
    }
  }
  add(KeywordPassword(conninfo));
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::operator()(absl::string_view text) const {
  std::string out(text);
  for (const std::string& secret : secrets_) {
    out = absl::StrReplaceAll(out, {{secret, "***"}});
  }
  return out;
}

absl::Status ValidateConninfo(absl::string_view conninfo) {
  if (conninfo.empty()) {
    return absl::InvalidArgumentError("postgres: the connection string is empty");
  }
  std::string text(conninfo);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return absl::OkStatus();
  }
  std::string message = error != nullptr ? error : "cannot parse it";
  PQfreemem(error);
  Redactor redact(conninfo);
  return absl::InvalidArgumentError(
      absl::StrCat("postgres: invalid connection string: ",
                   absl::StripTrailingAsciiWhitespace(redact(message))));
}

// --- SQLSTATE mapping --------------------------------------------------------------------

bool IsRetryableSqlState(absl::string_view s) { return s == "40001" || s == "40P01"; }

bool IsConnectionSqlState(absl::string_view s) {
  return absl::StartsWith(s, "08") || s == "57P01" || s == "57P02" || s == "57P03" ||
         s == "57P05" || s == "25P03" || s == "53300";
}

absl::StatusCode CodeForSqlState(absl::string_view s) {
  if (IsRetryableSqlState(s)) return absl::StatusCode::kAborted;
  if (s == "23505") return absl::StatusCode::kAlreadyExists;
  if (absl::StartsWith(s, "23") || s == "25006") return absl::StatusCode::kFailedPrecondition;
  if (s == "57014") return absl::StatusCode::kDeadlineExceeded;
  // 53100 disk_full and 58030 io_error: the server's storage failed, not the request.
  if (IsConnectionSqlState(s) || s == "55P03" || s == "53100" || s == "58030") {
    return absl::StatusCode::kUnavailable;
  }
  if (absl::StartsWith(s, "53")) return absl::StatusCode::kResourceExhausted;
  if (absl::StartsWith(s, "22")) return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kInternal;
}

// --- Params ------------------------------------------------------------------------------

Params& Params::Text(absl::string_view value) {
  if (value.find('\0') != absl::string_view::npos && status_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("postgres: text parameter $", values_.size() + 1, " contains a NUL byte"));
  }
  values_.emplace_back(std::string(value));
  return *this;
}

Params& Params::NullableText(absl::string_view value) {
  if (value.empty()) return Null();
  return Text(value);
}

Params& Params::Int(int64_t value) {
  values_.emplace_back(absl::StrCat(value));
  return *this;
}

Params& Params::Double(double value) {
  if (std::isnan(value)) {
    values_.emplace_back("NaN");
  } else if (std::isinf(value)) {
    values_.emplace_back(value > 0 ? "Infinity" : "-Infinity");
  } else {
    values_.emplace_back(absl::StrFormat("%.17g", value));
  }
  return *this;
}

Params& Params::OptionalDouble(std::optional<double> value) {
  if (!value.has_value()) return Null();
  return Double(*value);
}

Params& Params::Bool(bool value) {
  values_.emplace_back(value ? "t" : "f");
  return *this;
}

Params& Params::Time(absl::Time value) {
  if (value == absl::InfinitePast()) return Null();
  if (value == absl::InfiniteFuture()) return Int(kInfiniteFutureMicros);
  return Int(absl::ToUnixMicros(value));
}

Params& Params::Null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

Params& Params::Append(const Params& other) {
  if (status_.ok() && !other.status_.ok()) status_ = other.status_;
  values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  return *this;
}

std::vector<const char*> Params::Pointers() const {
  std::vector<const char*> pointers;
  pointers.reserve(values_.size());
  for (const std::optional<std::string>& v : values_) {
    pointers.push_back(v.has_value() ? v->c_str() : nullptr);
  }
  return pointers;
}

// --- Result ------------------------------------------------------------------------------

int64_t Result::affected() const {
  if (!res_) return 0;
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(res_.get()), &n) ? n : 0;
}

std::string Result::Text(int row, int col) const {
  if (IsNull(row, col)) return std::string();
  return std::string(PQgetvalue(res_.get(), row, col),
                     static_cast<size_t>(PQgetlength(res_.get(), row, col)));
}

void RowReader::Corrupt(int col, absl::string_view what) {
  if (!status_.ok()) return;
  status_ = absl::InternalError(absl::StrCat("postgres: corrupt row: column ", col, " is not ",
                                             what, ": \"", Text(col), "\""));
}

int64_t RowReader::Int(int col) {
  if (result_.IsNull(row_, col)) return 0;
  int64_t v = 0;
  if (!absl::SimpleAtoi(Text(col), &v)) Corrupt(col, "an integer");
  return v;
}

double RowReader::Double(int col) {
  if (result_.IsNull(row_, col)) return std::numeric_limits<double>::quiet_NaN();
  std::string text = Text(col);
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double v = 0;
  if (!absl::SimpleAtod(text, &v)) Corrupt(col, "a number");
  return v;
}

std::optional<double> RowReader::OptionalDouble(int col) {
  if (result_.IsNull(row_, col)) return std::nullopt;
  return Double(col);
}

bool RowReader::Bool(int col) {
  if (result_.IsNull(row_, col)) return false;
  std::string text = Text(col);
  if (text == "t") return true;
  if (text != "f") Corrupt(col, "a boolean");
  return false;
}

absl::Time RowReader::Time(int col) {
  if (result_.IsNull(row_, col)) return absl::InfinitePast();
  int64_t micros = Int(col);
  if (micros == kInfiniteFutureMicros) return absl::InfiniteFuture();
  if (micros == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::FromUnixMicros(micros);
}

// --- Connection --------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectSettings& settings,
                                                             const Redactor& redactor) {
  const absl::Time deadline = absl::Now() + settings.connect_timeout;
  // Entries before "dbname" are defaults the connection string may override; entries
  // after it win over the connection string.
  std::vector<std::pair<std::string, std::string>> params = {
      {"connect_timeout", WholeSeconds(settings.connect_timeout)},
      {"fallback_application_name", settings.application_name},
  };
  if (settings.keepalive_idle > absl::ZeroDuration()) {
    params.push_back({"keepalives", "1"});
    params.push_back({"keepalives_idle", WholeSeconds(settings.keepalive_idle)});
    params.push_back({"keepalives_interval", WholeSeconds(settings.keepalive_interval)});
    params.push_back({"keepalives_count", absl::StrCat(std::max(1, settings.keepalive_count))});
  }
  params.push_back({"dbname", settings.conninfo});
  params.push_back({"client_encoding", "UTF8"});
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [k, v] : params) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* conn = PQconnectStartParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("postgres: out of memory");
  auto fail = [&](absl::string_view why) {
    std::string message(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    return absl::UnavailableError(redactor(
        absl::StrCat("postgres: cannot connect: ", why, message.empty() ? "" : ": ", message)));
  };
  if (PQstatus(conn) == CONNECTION_BAD) return fail("");
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  while (poll_status != PGRES_POLLING_OK) {
    if (poll_status == PGRES_POLLING_FAILED) return fail("");
    int fd = PQsocket(conn);
    if (fd < 0) return fail("no socket");
    bool read = poll_status == PGRES_POLLING_READING;
    if (!PollSocket(fd, read, !read, deadline)) {
      return fail(absl::StrCat("no answer within ", absl::FormatDuration(settings.connect_timeout),
                               " (connect timeout)"));
    }
    poll_status = PQconnectPoll(conn);
  }
  if (PQsetnonblocking(conn, 1) != 0) return fail("cannot make the socket non-blocking");
  // Server notices ("relation already exists, skipping") are not errors; libpq would print
  // them to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);

  std::unique_ptr<Connection> c(new Connection(conn, settings, redactor));
  // Exact float text (shortest round-trip form), the statement timeout, and a bound on
  // transactions a stuck caller leaves open. enable_seqscan = off: every statement of the
  // store is a keyed lookup or an index-ordered page, and under SERIALIZABLE a sequential
  // scan (which the planner picks for small tables) takes a relation-level predicate lock,
  // so writers of different rows would fail each other (the PostgreSQL manual's advice for
  // serializable workloads is to favour index scans).
  std::string setup =
      absl::StrCat("SET statement_timeout = ", Millis(settings.statement_timeout),
                   "; SET extra_float_digits = 3; SET enable_seqscan = off;"
                   " SET idle_in_transaction_session_timeout = ",
                   Millis(std::max(absl::Seconds(60), 6 * settings.statement_timeout)), ";");
  if (c->server_version() >= 140000) {
    // The server cancels a query whose client went away instead of finishing it.
    absl::StrAppend(&setup, " SET client_connection_check_interval = 2000;");
  }
  if (settings.keepalive_idle > absl::ZeroDuration()) {
    absl::StrAppend(&setup, " SET tcp_keepalives_idle = ", WholeSeconds(settings.keepalive_idle),
                    "; SET tcp_keepalives_interval = ", WholeSeconds(settings.keepalive_interval),
                    "; SET tcp_keepalives_count = ", std::max(1, settings.keepalive_count), ";");
  }
  absl::Status status = c->ExecScript(setup, settings.connect_timeout);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("postgres: cannot set the session up: ", status.message()));
  }
  return c;
}

Connection::Connection(PGconn* conn, const ConnectSettings& settings, const Redactor& redactor)
    : conn_(conn), statement_timeout_(settings.statement_timeout), redactor_(redactor) {}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

absl::Status Connection::Broken(absl::string_view what) {
  broken_ = true;
  last_sqlstate_.clear();
  last_constraint_.clear();
  std::string detail(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn_)));
  return absl::UnavailableError(redactor_(
      absl::StrCat("postgres: ", what, detail.empty() || what == detail ? "" : ": ", detail)));
}

absl::Status Connection::Wait(bool want_write, absl::Time deadline) {
  int fd = PQsocket(conn_);
  if (fd < 0) return Broken("connection lost");
  if (!PollSocket(fd, /*want_read=*/true, want_write, deadline)) {
    // The server did not even report its own statement timeout: assume the network or
    // the server is gone, and never reuse this connection (a late answer would be read
    // as the answer to the next statement).
    timed_out_ = true;
    return Broken(absl::StrCat("no answer from the server within ",
                               absl::FormatDuration(statement_timeout_ + kClientGrace)));
  }
  return absl::OkStatus();
}

absl::Status Connection::ErrorFromResult(const PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
  last_sqlstate_ = state != nullptr ? state : "";
  last_constraint_ = constraint != nullptr ? constraint : "";
  if (last_sqlstate_.empty()) {
    // Client-side: typically the connection dropped (server restart, network).
    if (PQstatus(conn_) == CONNECTION_BAD) return Broken("connection lost");
    std::string message(absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(res)));
    return absl::InternalError(redactor_(absl::StrCat("postgres: ", message)));
  }
  if (IsConnectionSqlState(last_sqlstate_)) broken_ = true;
  std::string message = absl::StrCat(
      "postgres: ",
      primary != nullptr ? primary : absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(res)),
      detail != nullptr ? absl::StrCat(" (", detail, ")") : "", " [SQLSTATE ", last_sqlstate_, "]");
  return absl::Status(CodeForSqlState(last_sqlstate_), redactor_(message));
}

absl::StatusOr<Result> Connection::Finish(absl::Time deadline) {
  while (true) {
    int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return Broken("cannot send to the server");
    if (absl::Status s = Wait(/*want_write=*/true, deadline); !s.ok()) return s;
    if (PQconsumeInput(conn_) == 0) return Broken("connection lost");
  }
  Result last;
  absl::Status error;
  while (true) {
    while (PQisBusy(conn_) != 0) {
      if (absl::Status s = Wait(/*want_write=*/false, deadline); !s.ok()) return s;
      if (PQconsumeInput(conn_) == 0) return Broken("connection lost");
    }
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr) break;
    switch (PQresultStatus(res)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
        last = Result(res);
        break;
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
      case PGRES_BAD_RESPONSE:
        if (error.ok()) error = ErrorFromResult(res);
        PQclear(res);
        break;
      default:
        // COPY and other modes we never start.
        if (error.ok()) error = Broken("unexpected result from the server");
        PQclear(res);
        break;
    }
  }
  if (!error.ok()) return error;
  last_sqlstate_.clear();
  last_constraint_.clear();
  return last;
}

absl::StatusOr<Result> Connection::Exec(absl::string_view sql, const Params& params) {
  if (broken()) return Broken("connection lost");
  if (!params.status().ok()) return params.status();
  const absl::Time deadline = absl::Now() + statement_timeout_ + kClientGrace;
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = absl::StrCat("okr_", prepared_.size() + 1);
    std::string text(sql);
    if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) == 0) {
      return Broken("cannot send to the server");
    }
    absl::StatusOr<Result> prepared = Finish(deadline);
    if (!prepared.ok()) return prepared.status();
    it = prepared_.emplace(std::move(text), std::move(name)).first;
  }
  std::vector<const char*> values = params.Pointers();
  if (PQsendQueryPrepared(conn_, it->second.c_str(), params.size(), values.data(), nullptr, nullptr,
                          /*resultFormat=*/0) == 0) {
    return Broken("cannot send to the server");
  }
  return Finish(deadline);
}

absl::StatusOr<Result> Connection::QueryScript(absl::string_view sql,
                                               std::optional<absl::Duration> timeout) {
  if (broken()) return Broken("connection lost");
  const absl::Time deadline = absl::Now() + timeout.value_or(statement_timeout_) + kClientGrace;
  std::string text(sql);
  if (PQsendQuery(conn_, text.c_str()) == 0) return Broken("cannot send to the server");
  return Finish(deadline);
}

}  // namespace okr::storage::postgres_internal
