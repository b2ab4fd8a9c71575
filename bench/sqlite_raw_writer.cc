// okr_sqlite_raw_writer: the baseline of the durable-write benchmark
// (bench/run_durable_write_bench.sh, bench/README.md). One thread commits one-row durable
// SQLite transactions as fast as it can: WAL, synchronous=FULL, each transaction one INSERT
// (a check-in-like row) and one UPDATE (a key-result-like row), prepared once. It is what
// one bare writer on this SQLite and this disk reaches, with no service around it.
//
//   okr_sqlite_raw_writer --db=/path/raw.db [--seconds=5]
//
// Output on stdout, for scripts:
//   RESULT target=raw_sqlite seconds=5.00 commits=N rate=1234.5 cpu_us=56.7
// cpu_us is this process's CPU time (user + system) per commit. The database is created if
// missing and grows by one row per commit; delete it between runs if its size matters.
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool Ok(sqlite3* db, int rc, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  std::fprintf(stderr, "okr_sqlite_raw_writer: %s: %s\n", what, sqlite3_errmsg(db));
  return false;
}

bool Exec(sqlite3* db, const char* sql) {
  return Ok(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  double seconds = 5;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--db=", 5) == 0) {
      path = a + 5;
    } else if (std::strncmp(a, "--seconds=", 10) == 0) {
      seconds = std::atof(a + 10);
    } else {
      std::fprintf(stderr, "usage: okr_sqlite_raw_writer --db=PATH [--seconds=5]\n");
      return 2;
    }
  }
  if (path.empty() || !(seconds > 0)) {
    std::fprintf(stderr, "usage: okr_sqlite_raw_writer --db=PATH [--seconds=5]\n");
    return 2;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "okr_sqlite_raw_writer: cannot open %s\n", path.c_str());
    return 1;
  }
  if (!Exec(db, "PRAGMA journal_mode=WAL") || !Exec(db, "PRAGMA synchronous=FULL") ||
      !Exec(db,
            "CREATE TABLE IF NOT EXISTS kr (id INTEGER PRIMARY KEY, value REAL, updated INTEGER);"
            "CREATE TABLE IF NOT EXISTS check_in (id INTEGER PRIMARY KEY, kr INTEGER NOT NULL,"
            " value REAL, note TEXT, created INTEGER);"
            "INSERT OR IGNORE INTO kr (id, value, updated) VALUES (1, 0, 0);")) {
    return 1;
  }
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* update = nullptr;
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* commit = nullptr;
  if (!Ok(db,
          sqlite3_prepare_v2(
              db, "INSERT INTO check_in (kr, value, note, created) VALUES (1, ?1, '', ?2)", -1,
              &insert, nullptr),
          "prepare INSERT") ||
      !Ok(db,
          sqlite3_prepare_v2(db, "UPDATE kr SET value = ?1, updated = ?2 WHERE id = 1", -1, &update,
                             nullptr),
          "prepare UPDATE") ||
      !Ok(db, sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr), "prepare BEGIN") ||
      !Ok(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr), "prepare COMMIT")) {
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  const double cpu_start = CpuSeconds();
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int64_t commits = 0;
  Clock::time_point now = start;
  while (now < end) {
    const int64_t at = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
    const double value = static_cast<double>(commits % 1000);
    bool ok = Ok(db, sqlite3_step(begin), "BEGIN");
    sqlite3_reset(begin);
    sqlite3_bind_double(insert, 1, value);
    sqlite3_bind_int64(insert, 2, at);
    ok = ok && Ok(db, sqlite3_step(insert), "INSERT");
    sqlite3_reset(insert);
    sqlite3_bind_double(update, 1, value);
    sqlite3_bind_int64(update, 2, at);
    ok = ok && Ok(db, sqlite3_step(update), "UPDATE");
    sqlite3_reset(update);
    ok = ok && Ok(db, sqlite3_step(commit), "COMMIT");
    sqlite3_reset(commit);
    if (!ok) return 1;
    ++commits;
    now = Clock::now();
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::printf("RESULT target=raw_sqlite seconds=%.2f commits=%lld rate=%.1f cpu_us=%.1f\n", elapsed,
              static_cast<long long>(commits), static_cast<double>(commits) / elapsed,
              commits > 0 ? cpu * 1e6 / static_cast<double>(commits) : -1.0);
  sqlite3_finalize(insert);
  sqlite3_finalize(update);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  return 0;
}
