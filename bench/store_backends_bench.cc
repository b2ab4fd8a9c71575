// Store backends in one run: CreateCheckIn and GetObjective through OkrCore on PostgreSQL
// and on SQLite, next to the ceiling of a raw libpq single-row UPDATE loop on the same
// PostgreSQL server. Prints absolute rates and ratios.
//
//   eval "$(.ci/start-postgres.sh start)"
//   build/bench/okr_store_backends_bench [--seconds=3] [--dir=/tmp]
//   .ci/start-postgres.sh stop "$OKR_TEST_POSTGRES_DIR"
//
// bench/run_postgres_bench.sh runs it several times and prints the medians. The last line
// is for scripts (rates per second; ratios to the raw ceiling):
//
//   RESULT seconds=3.00 raw=N pg_check_in=N pg_get_objective=N sqlite_check_in=N
//       sqlite_get_objective=N check_in_ratio=R get_objective_ratio=R   (one line)
//
// Needs OKR_TEST_POSTGRES_URL (a superuser URL; a scratch database is created and dropped).
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "service/core/okr_core.h"
#include "service/okr/clock.h"
#include "service/storage/postgres/postgres_store.h"
#include "service/storage/sqlite/sqlite_store.h"

namespace {

std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t query = url.find('?');
  std::string base = url.substr(0, query);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base.substr(0, base.rfind('/') + 1) + db + rest;
}

bool Exec(PGconn* conn, const std::string& sql) {
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
  if (!ok) std::fprintf(stderr, "%s: %s", sql.c_str(), PQerrorMessage(conn));
  PQclear(res);
  return ok;
}

// Calls `op` for `seconds`; returns operations per second (0 on the first failure).
double Rate(double seconds, const std::function<bool()>& op) {
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  const absl::Time start = absl::Now();
  int64_t n = 0;
  while (absl::Now() < end) {
    if (!op()) return 0;
    ++n;
  }
  return n / absl::ToDoubleSeconds(absl::Now() - start);
}

struct Rates {
  double check_in = 0;
  double get_objective = 0;
};

Rates MeasureCore(okr::storage::OkrStore& store, double seconds) {
  okr::core::OkrCore core(store, okr::SystemClock::Get());
  okr::Team team;
  team.id = "t";
  team.display_name = "T";
  okr::Cycle cycle;
  cycle.id = "c";
  cycle.display_name = "C";
  cycle.start_time = absl::Now() - absl::Hours(24);
  cycle.end_time = absl::Now() + absl::Hours(24 * 90);
  okr::Objective o;
  o.id = "o";
  o.title = "O";
  o.team_id = "t";
  o.cycle_id = "c";
  okr::KeyResult kr;
  kr.objective_id = "o";
  kr.id = "k";
  kr.title = "K";
  kr.metric = {0, 1000, 0, ""};
  if (!core.CreateTeam(team, "").ok() || !core.CreateCycle(cycle, "").ok() ||
      !core.CreateObjective(o, "").ok() || !core.CreateKeyResult(kr, "").ok()) {
    std::fprintf(stderr, "setup failed\n");
    return {};
  }
  Rates r;
  int v = 0;
  r.check_in = Rate(seconds, [&] {
    okr::CheckIn c;
    c.objective_id = "o";
    c.key_result_id = "k";
    c.value = ++v % 1000;
    return core.CreateCheckIn(c, "").ok();
  });
  r.get_objective = Rate(seconds, [&] { return core.GetObjective("o").ok(); });
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--seconds=")) {
      if (!absl::SimpleAtod(a, &seconds)) return 2;
    } else if (absl::ConsumePrefix(&a, "--dir=")) {
      dir = std::string(a);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds=3] [--dir=/tmp]\n", argv[0]);
      return 2;
    }
  }
  const char* admin_url = std::getenv("OKR_TEST_POSTGRES_URL");
  if (admin_url == nullptr) {
    std::fprintf(stderr, "OKR_TEST_POSTGRES_URL is not set (see .ci/start-postgres.sh)\n");
    return 2;
  }
  absl::BitGen gen;
  const std::string db = absl::StrCat("okr_bench_", absl::Uniform<uint32_t>(gen));
  PGconn* admin = PQconnectdb(admin_url);
  if (PQstatus(admin) != CONNECTION_OK || !Exec(admin, "CREATE DATABASE " + db)) return 1;
  const std::string url = WithDatabase(admin_url, db);

  // Ceiling: a raw single-row UPDATE loop (autocommit) on the same server.
  PGconn* raw = PQconnectdb(url.c_str());
  Exec(raw, "CREATE TABLE ceiling (id INT PRIMARY KEY, v INT)");
  Exec(raw, "INSERT INTO ceiling VALUES (1, 0)");
  PQprepare(raw, "bump", "UPDATE ceiling SET v = v + 1 WHERE id = 1", 0, nullptr);
  const double raw_rate = Rate(seconds, [&] {
    PGresult* res = PQexecPrepared(raw, "bump", 0, nullptr, nullptr, nullptr, 0);
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
  });
  PQfinish(raw);

  okr::storage::PostgresOptions pg_options;
  pg_options.conninfo = url;
  auto pg = okr::storage::PostgresStore::Open(pg_options);
  if (!pg.ok()) {
    std::fprintf(stderr, "postgres: %s\n", std::string(pg.status().message()).c_str());
    return 1;
  }
  const Rates pg_rates = MeasureCore(**pg, seconds);
  pg->reset();

  okr::storage::SqliteOptions sqlite_options;
  sqlite_options.path = absl::StrCat(dir, "/", db, ".db");
  auto sqlite = okr::storage::SqliteStore::Open(sqlite_options);
  if (!sqlite.ok()) return 1;
  const Rates sqlite_rates = MeasureCore(**sqlite, seconds);
  sqlite->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove(absl::StrCat(sqlite_options.path, suffix).c_str());
  }
  Exec(admin, "DROP DATABASE " + db + " WITH (FORCE)");
  PQfinish(admin);

  std::printf("one client thread, %.0f s per measure\n", seconds);
  std::printf("raw libpq single-row UPDATE      %8.0f /s  (ceiling)\n", raw_rate);
  std::printf("PostgreSQL CreateCheckIn (core)  %8.0f /s  %.2fx ceiling\n", pg_rates.check_in,
              pg_rates.check_in / raw_rate);
  std::printf("PostgreSQL GetObjective (core)   %8.0f /s  %.2fx ceiling\n", pg_rates.get_objective,
              pg_rates.get_objective / raw_rate);
  std::printf("SQLite CreateCheckIn (full sync) %8.0f /s  PostgreSQL/SQLite = %.2f\n",
              sqlite_rates.check_in, pg_rates.check_in / sqlite_rates.check_in);
  std::printf("SQLite GetObjective              %8.0f /s  PostgreSQL/SQLite = %.2f\n",
              sqlite_rates.get_objective, pg_rates.get_objective / sqlite_rates.get_objective);
  std::printf(
      "RESULT seconds=%.2f raw=%.1f pg_check_in=%.1f pg_get_objective=%.1f sqlite_check_in=%.1f "
      "sqlite_get_objective=%.1f check_in_ratio=%.3f get_objective_ratio=%.3f\n",
      seconds, raw_rate, pg_rates.check_in, pg_rates.get_objective, sqlite_rates.check_in,
      sqlite_rates.get_objective, raw_rate > 0 ? pg_rates.check_in / raw_rate : 0,
      raw_rate > 0 ? pg_rates.get_objective / raw_rate : 0);
  return 0;
}
