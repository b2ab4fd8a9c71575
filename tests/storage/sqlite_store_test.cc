// SqliteStore: the storage conformance suite on a real database file, plus what only the
// SQLite backend promises (WAL, migrations, durability across kill -9, error mapping).
#include "service/storage/sqlite/sqlite_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"
#include "service/storage/sqlite/migrations.h"
#include "tests/storage/store_conformance.h"
#include "tests/testing/temp_dir.h"

namespace okr::storage {

// For readable parameter values in test output (found by ADL, hence outside the anonymous
// namespace; internal linkage all the same).
static void PrintTo(SqliteOptions::Sync sync, std::ostream* os) {
  *os << (sync == SqliteOptions::Sync::kFull ? "kFull" : "kNormal");
}

namespace {

using ::okr::storage::conformance::StoreConformanceTest;
using ::okr::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- Conformance -------------------------------------------------------------------------

// A SqliteStore that owns the temp directory holding its database.
class TempSqliteStore final : public OkrStore {
 public:
  TempSqliteStore(std::unique_ptr<TempDir> dir, std::unique_ptr<SqliteStore> store)
      : dir_(std::move(dir)), store_(std::move(store)) {}
  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override {
    return store_->RunInTransaction(fn);
  }
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override {
    return store_->RunReadOnly(fn);
  }
  absl::Status Ping() override { return store_->Ping(); }

 private:
  std::unique_ptr<TempDir> dir_;  // destroyed after the store
  std::unique_ptr<SqliteStore> store_;
};

conformance::StoreFactory SqliteFactory(std::string name, SqliteOptions::Sync sync,
                                        int read_connections) {
  return {std::move(name), [=]() -> absl::StatusOr<std::unique_ptr<OkrStore>> {
            auto dir = std::make_unique<TempDir>();
            if (dir->path().empty()) return absl::InternalError("mkdtemp failed");
            SqliteOptions options;
            options.path = dir->File("okr.db");
            options.sync = sync;
            options.read_connections = read_connections;
            absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
            if (!store.ok()) return store.status();
            return std::make_unique<TempSqliteStore>(std::move(dir), std::move(*store));
          }};
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformanceTest,
    ::testing::Values(SqliteFactory("SyncFull", SqliteOptions::Sync::kFull, 4),
                      SqliteFactory("SyncNormal", SqliteOptions::Sync::kNormal, 4),
                      SqliteFactory("OneReader", SqliteOptions::Sync::kNormal, 1)),
    conformance::StoreFactoryName);

// --- Helpers -----------------------------------------------------------------------------

#define ASSERT_OK(expr)                 \
  do {                                  \
    const absl::Status okr_s_ = (expr); \
    ASSERT_TRUE(okr_s_.ok()) << okr_s_; \
  } while (0)
#define EXPECT_OK(expr)                 \
  do {                                  \
    const absl::Status okr_s_ = (expr); \
    EXPECT_TRUE(okr_s_.ok()) << okr_s_; \
  } while (0)

// A plain sqlite3 connection, to look at (or tamper with) the file behind the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path;
    }
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  sqlite3* db() { return db_; }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // Every row of `sql`, columns joined with '|'.
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        absl::StrAppend(&row, i == 0 ? "" : "|",
                        text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

Team MakeTeam(const std::string& id) {
  Team t;
  t.id = id;
  t.display_name = "Team " + id;
  t.meta.revision = 1;
  return t;
}

Cycle MakeCycle(const std::string& id) {
  Cycle c;
  c.id = id;
  c.display_name = "Cycle " + id;
  c.start_time = absl::FromUnixSeconds(1'700'000'000);
  c.end_time = c.start_time + absl::Hours(24 * 90);
  c.meta.revision = 1;
  return c;
}

Objective MakeObjective(const std::string& id, const std::string& team = "t") {
  Objective o;
  o.id = id;
  o.title = "Objective " + id;
  o.team_id = team;
  o.cycle_id = "c";
  o.meta.revision = 1;
  return o;
}

KeyResult MakeKeyResult(const std::string& objective_id, const std::string& id) {
  KeyResult kr;
  kr.objective_id = objective_id;
  kr.id = id;
  kr.title = "Key result " + id;
  kr.metric = {0, 10, 0, ""};
  kr.meta.revision = 1;
  return kr;
}

CheckIn MakeCheckIn(const std::string& id) {
  CheckIn c;
  c.objective_id = "o";
  c.key_result_id = "k";
  c.id = id;
  c.value = 1;
  c.meta.revision = 1;
  return c;
}

// Team "t", cycle "c", objective "o", key result "o/k".
absl::Status Seed(OkrStore& store) {
  return store.RunInTransaction([](OkrTransaction& tx) -> absl::Status {
    if (absl::Status s = tx.InsertTeam(MakeTeam("t")); !s.ok()) return s;
    if (absl::Status s = tx.InsertCycle(MakeCycle("c")); !s.ok()) return s;
    if (absl::Status s = tx.InsertObjective(MakeObjective("o")); !s.ok()) return s;
    return tx.InsertKeyResult(MakeKeyResult("o", "k"));
  });
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteOptions Options() const {
    SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = SqliteOptions::Sync::kNormal;
    return options;
  }
  std::unique_ptr<SqliteStore> OpenOrDie(SqliteOptions options) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  TempDir dir_;
};

// --- Open and options --------------------------------------------------------------------

TEST_F(SqliteStoreTest, Open_EmptyPath_FailsInvalidArgument) {
  SqliteOptions options = Options();
  options.path = "";
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, Open_NoReadConnections_FailsInvalidArgument) {
  SqliteOptions options = Options();
  options.read_connections = 0;
  absl::Status status = SqliteStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("read_connections"));
}

TEST_F(SqliteStoreTest, Open_MissingDirectory_FailsUnavailableNamingThePath) {
  SqliteOptions options = Options();
  options.path = dir_.File("no/such/dir/okr.db");
  absl::Status status = SqliteStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr(options.path));
}

TEST_F(SqliteStoreTest, Open_SetsWalJournalMode) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  RawDb raw(Options().path);
  EXPECT_THAT(raw.Rows("PRAGMA journal_mode"), ElementsAre("wal"));
}

TEST_F(SqliteStoreTest, Reopen_SameFile_KeepsCommittedData) {
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(Seed(*store));
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->RunReadOnly([](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult("o", "k");
    if (!kr.ok()) return kr.status();
    EXPECT_EQ(kr->title, "Key result k");
    return tx.GetTeam("t").status();
  }));
}

TEST_F(SqliteStoreTest, Open_NegativeMaxSize_FailsInvalidArgument) {
  SqliteOptions options = Options();
  options.max_size_bytes = -1;
  absl::Status status = SqliteStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("max_size_bytes"));
}

// A database at its size limit: a write that needs a page fails UNAVAILABLE "database is
// full" (SQLITE_FULL), reads go on, Ping fails naming it until a write works again, and
// the write probe notices freed space without any other write.
TEST_F(SqliteStoreTest, MaxSizeReached_WritesFailUnavailableAndPingFailsUntilSpaceIsFreed) {
  OpenOrDie(Options()).reset();  // the schema, then a ballast beside it
  {
    RawDb raw(Options().path);
    ASSERT_EQ(raw.Exec("CREATE TABLE test_ballast (b BLOB); "
                       "INSERT INTO test_ballast VALUES (zeroblob(262144));"),
              SQLITE_OK);
  }
  SqliteOptions options = Options();
  options.max_size_bytes = 1;  // below the file's size: it may not grow at all
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_OK(store->Ping());

  absl::Status full;
  int i = 0;
  for (; i < 500 && full.ok(); ++i) {
    full = store->RunInTransaction([&](OkrTransaction& tx) {
      Team team = MakeTeam(absl::StrCat("t", i));
      team.display_name = std::string(500, 'x');
      return tx.InsertTeam(team);
    });
  }
  ASSERT_FALSE(full.ok()) << i << " teams fit";
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
  EXPECT_THAT(full.message(), HasSubstr("database is full"));
  EXPECT_OK(store->RunReadOnly([](OkrTransaction& tx) { return tx.GetTeam("t0").status(); }));
  absl::Status ping = store->Ping();
  EXPECT_EQ(ping.code(), absl::StatusCode::kUnavailable) << ping;
  EXPECT_THAT(ping.message(), HasSubstr("database is full"));
  EXPECT_FALSE(store->Ping().ok()) << "the probe found room although nothing was freed";

  {
    RawDb raw(Options().path);
    ASSERT_EQ(raw.Exec("DROP TABLE test_ballast;"), SQLITE_OK);
  }
  EXPECT_OK(store->Ping());
  EXPECT_OK(
      store->RunInTransaction([](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("after")); }));
  EXPECT_OK(store->Ping());
  // The probe left nothing behind.
  RawDb raw(Options().path);
  EXPECT_THAT(raw.Rows("SELECT COUNT(*) FROM sqlite_master WHERE name = 'okr_write_probe'"),
              ElementsAre("0"));
}

// --- Migrations --------------------------------------------------------------------------

TEST(SqliteMigrationsTest, Versions_StartAtOneWithoutGaps) {
  int expected = 1;
  for (const SqliteMigration& m : SqliteMigrations()) {
    EXPECT_EQ(m.version, expected++) << m.description;
    EXPECT_NE(std::string(m.sql), "");
  }
  EXPECT_GE(expected, 2);
}

TEST_F(SqliteStoreTest, Open_RecordsEveryMigrationOnceAndReopenDoesNotReapplyThem) {
  std::vector<std::string> expected;
  for (const SqliteMigration& m : SqliteMigrations()) expected.push_back(absl::StrCat(m.version));
  std::vector<std::string> first;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    RawDb raw(Options().path);
    EXPECT_EQ(raw.Rows("SELECT version FROM schema_migrations ORDER BY version"), expected);
    first = raw.Rows("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  }
  // A second Open would fail ("table teams already exists") if it re-ran migration 1;
  // the records keep their original applied_at.
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  RawDb raw(Options().path);
  EXPECT_EQ(raw.Rows("SELECT version, applied_at FROM schema_migrations ORDER BY version"), first);
}

TEST_F(SqliteStoreTest, Open_SchemaNewerThanBinary_FailsFailedPrecondition) {
  { ASSERT_NE(OpenOrDie(Options()), nullptr); }
  {
    RawDb raw(Options().path);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (999, 'future')"), SQLITE_OK);
  }
  absl::Status status = SqliteStore::Open(Options()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("999"));
}

// --- Error mapping -----------------------------------------------------------------------

TEST_F(SqliteStoreTest, RunInTransaction_WriteLockHeldElsewhere_FailsUnavailableAfterTimeout) {
  SqliteOptions options = Options();
  options.busy_timeout = absl::Milliseconds(20);
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  RawDb other(options.path);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  absl::Status status =
      store->RunInTransaction([](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("t")); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  // The store recovers once the lock is gone.
  EXPECT_TRUE(
      store->RunInTransaction([](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("t")); })
          .ok());
}

TEST_F(SqliteStoreTest, GetObjective_CorruptEnumInRow_FailsInternalWithoutCrashing) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  {
    RawDb raw(Options().path);
    ASSERT_EQ(raw.Exec("UPDATE objectives SET kind = 99 WHERE id = 'o'"), SQLITE_OK);
  }
  absl::Status status =
      store->RunReadOnly([](OkrTransaction& tx) { return tx.GetObjective("o").status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(status.message(), HasSubstr("99"));
}

// GetObjective is answered from memory once read (sql/cycle_cache.h); a write is seen by
// the next read, including rows a delete changed through ON DELETE SET NULL.
TEST_F(SqliteStoreTest, GetObjective_FromMemory_SeesEveryCommittedChange) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  ASSERT_OK(store->RunInTransaction([](OkrTransaction& tx) {
    Objective child = MakeObjective("child");
    child.parent_id = "o";
    return tx.InsertObjective(child);
  }));
  auto read = [&](const std::string& id) {
    absl::StatusOr<Objective> got;
    EXPECT_OK(store->RunReadOnly([&](OkrTransaction& tx) {
      got = tx.GetObjective(id);
      return absl::OkStatus();
    }));
    return got;
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(read("child").ok());
    ASSERT_TRUE(read("o").ok());
  }
  // An update, then a failed write of the same row: the reads follow what committed.
  ASSERT_OK(store->RunInTransaction([](OkrTransaction& tx) {
    Objective o = MakeObjective("o");
    o.title = "renamed";
    o.meta.revision = 2;
    return tx.UpdateObjective(o, 1);
  }));
  EXPECT_EQ(read("o")->title, "renamed");
  EXPECT_EQ(store
                ->RunInTransaction([](OkrTransaction& tx) -> absl::Status {
                  Objective o = MakeObjective("o");
                  o.title = "rolled back";
                  o.meta.revision = 3;
                  if (absl::Status s = tx.UpdateObjective(o, 2); !s.ok()) return s;
                  return absl::AbortedError("the use case failed after the write");
                })
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(read("o")->title, "renamed");
  EXPECT_EQ(read("o")->title, "renamed");
  ASSERT_EQ(read("child")->parent_id, "o");
  ASSERT_OK(store->RunInTransaction([](OkrTransaction& tx) {
    if (absl::Status s = tx.DeleteKeyResult("o", "k"); !s.ok()) return s;
    return tx.DeleteObjective("o");
  }));
  EXPECT_EQ(read("child")->parent_id, "");
  EXPECT_EQ(read("o").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, InsertObjective_UnknownTeam_FailsFailedPreconditionNamingIt) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  absl::Status status = store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.InsertObjective(MakeObjective("o2", "ghost-team")); });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("\"ghost-team\""));
}

TEST_F(SqliteStoreTest, InsertChildren_MissingParent_FailNotFoundNamingTheParent) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  absl::Status kr = store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.InsertKeyResult(MakeKeyResult("ghost", "k")); });
  EXPECT_EQ(kr.code(), absl::StatusCode::kNotFound) << kr;
  EXPECT_THAT(kr.message(), HasSubstr("objective \"ghost\""));
  absl::Status check_in = store->RunInTransaction([](OkrTransaction& tx) {
    CheckIn c = MakeCheckIn("c");
    c.key_result_id = "ghost";
    return tx.InsertCheckIn(c);
  });
  EXPECT_EQ(check_in.code(), absl::StatusCode::kNotFound) << check_in;
  EXPECT_THAT(check_in.message(), HasSubstr("key result \"ghost\""));
}

TEST_F(SqliteStoreTest, ListTeams_NonPositiveLimit_FailsInvalidArgument) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  absl::Status status = store->RunReadOnly([](OkrTransaction& tx) {
    PageQuery q;
    q.limit = 0;
    return tx.ListTeams("", q).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

// --- Concurrency -------------------------------------------------------------------------

TEST_F(SqliteStoreTest, Transactions_NestedOnSameStore_FailFailedPrecondition) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  absl::Status inner_write;
  absl::Status inner_read;
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction&) -> absl::Status {
    inner_write = store->RunInTransaction([](OkrTransaction&) { return absl::OkStatus(); });
    inner_read = store->RunReadOnly([](OkrTransaction&) { return absl::OkStatus(); });
    return absl::OkStatus();
  }));
  EXPECT_EQ(inner_write.code(), absl::StatusCode::kFailedPrecondition) << inner_write;
  EXPECT_EQ(inner_read.code(), absl::StatusCode::kFailedPrecondition) << inner_read;
  // A transaction on another store inside a callback is fine.
  SqliteOptions other = Options();
  other.path = dir_.File("other.db");
  std::unique_ptr<SqliteStore> store2 = OpenOrDie(other);
  ASSERT_NE(store2, nullptr);
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction&) {
    return store2->RunInTransaction(
        [](OkrTransaction& tx) { return tx.InsertTeam(MakeTeam("x")); });
  }));
}

TEST_F(SqliteStoreTest, RunReadOnly_MoreThreadsThanReadConnections_AllSucceed) {
  SqliteOptions options = Options();
  options.read_connections = 2;
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100 && results[t].ok(); ++i) {
        results[t] = store->RunReadOnly(
            [](OkrTransaction& tx) { return tx.GetKeyResult("o", "k").status(); });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
}

TEST_F(SqliteStoreTest, GroupCommit_FailingCallbackRollsBackAloneAndOthersCommit) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::vector<int> committed(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const bool fail = (i % 2) == 1;
        absl::Status s = store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
          Team team;
          team.id = absl::StrCat("t", t, "-", i);
          team.display_name = "T";
          team.meta.revision = 1;
          absl::Status inserted = tx.InsertTeam(team);
          if (!inserted.ok()) return inserted;
          return fail ? absl::AbortedError("callback gives up") : absl::OkStatus();
        });
        if (fail) {
          EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
        } else if (s.ok()) {
          ++committed[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(committed[t], kPerThread / 2);
  // Exactly the teams of successful callbacks exist.
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<Team> team = tx.GetTeam(absl::StrCat("t", t, "-", i));
        EXPECT_EQ(team.ok(), i % 2 == 0) << t << "-" << i << ": " << team.status();
      }
    }
    return absl::OkStatus();
  }));
}

// --- Durability --------------------------------------------------------------------------

// Reads one int32 from `fd`; nullopt at EOF or error.
std::optional<int32_t> ReadAck(int fd) {
  int32_t value = 0;
  while (true) {
    ssize_t n = read(fd, &value, sizeof value);
    if (n == sizeof value) return value;
    if (n < 0 && errno == EINTR) continue;
    return std::nullopt;
  }
}

class SqliteCrashTest : public ::testing::TestWithParam<SqliteOptions::Sync> {};

TEST_P(SqliteCrashTest, KillDuringCommits_KeepsEveryAcknowledgedCheckIn) {
  constexpr int kCommits = 200;
  constexpr int kKillAfter = 40;
  TempDir dir;
  SqliteOptions options;
  options.path = dir.File("okr.db");
  options.sync = GetParam();
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_OK(Seed(**store));
  }  // closed: the child must not inherit open SQLite connections

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: commit check-ins c1..cN, acknowledging each after RunInTransaction returns OK.
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    if (!store.ok()) _exit(2);
    for (int32_t i = 1; i <= kCommits; ++i) {
      absl::Status s = (*store)->RunInTransaction(
          [&](OkrTransaction& tx) { return tx.InsertCheckIn(MakeCheckIn(absl::StrCat("c", i))); });
      if (!s.ok()) _exit(3);
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  int32_t acked = 0;
  bool killed = false;
  while (std::optional<int32_t> ack = ReadAck(fds[0])) {
    acked = *ack;
    if (!killed && acked >= kKillAfter) {
      ASSERT_EQ(kill(pid, SIGKILL), 0);
      killed = true;
    }
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  if (WIFEXITED(wstatus)) {
    EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "child failed before finishing";
  } else {
    EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  }
  ASSERT_GE(acked, kKillAfter) << "child stopped early";
  RecordProperty("acknowledged_before_kill", acked);

  absl::StatusOr<std::unique_ptr<SqliteStore>> reopened = SqliteStore::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  std::vector<std::string> missing;
  ASSERT_OK((*reopened)->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    for (int i = 1; i <= acked; ++i) {
      std::string id = absl::StrCat("c", i);
      absl::Status s = tx.GetCheckIn("o", "k", id).status();
      if (absl::IsNotFound(s)) {
        missing.push_back(id);
      } else if (!s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }));
  EXPECT_THAT(missing, ::testing::IsEmpty()) << acked << " commits were acknowledged";
}

INSTANTIATE_TEST_SUITE_P(Sync, SqliteCrashTest,
                         ::testing::Values(SqliteOptions::Sync::kNormal,
                                           SqliteOptions::Sync::kFull),
                         [](const ::testing::TestParamInfo<SqliteOptions::Sync>& info) {
                           return info.param == SqliteOptions::Sync::kFull ? "Full" : "Normal";
                         });

}  // namespace
}  // namespace okr::storage
