// PostgresStore: the storage conformance suite on a real PostgreSQL server (a fresh
// database per test), plus what only this backend promises: several replicas writing one
// row without lost updates, migrations applied once under concurrent Opens, fast UNAVAILABLE
// while the server is down and recovery without a new store, timeouts, secret redaction,
// and the cluster lock.
//
// Server: OKR_TEST_POSTGRES_URL (a superuser URI, e.g. postgresql://postgres@127.0.0.1:PORT/
// postgres) and, for the restart test, OKR_TEST_POSTGRES_CTL (tests/testing/postgres/
// temp_postgres.sh). Without them the tests skip; with CI=true they fail instead.
#include "service/storage/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"
#include "service/storage/postgres/cluster_lock.h"
#include "service/storage/postgres/connection.h"
#include "service/storage/postgres/migrations.h"
#include "tests/storage/store_conformance.h"

namespace okr::storage {
namespace {

using ::okr::storage::conformance::StoreConformanceTest;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

// --- Environment -------------------------------------------------------------------------

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool InCi() { return Env("CI") == "true"; }

std::string AdminUrl() { return Env("OKR_TEST_POSTGRES_URL"); }

constexpr char kNoServer[] =
    "no PostgreSQL server configured: set OKR_TEST_POSTGRES_URL, e.g. "
    "eval \"$(tests/testing/postgres/temp_postgres.sh start)\"";
constexpr char kNoServerInCi[] =
    "CI=true but OKR_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL tests "
    "(.ci/run starts a server with .ci/start-postgres.sh)";

// Skips the test when no server is configured, or fails it under CI.
#define REQUIRE_POSTGRES()                 \
  do {                                     \
    if (AdminUrl().empty()) {              \
      if (InCi()) FAIL() << kNoServerInCi; \
      GTEST_SKIP() << kNoServer;           \
    }                                      \
  } while (0)

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

// --- Raw libpq access, to set up databases and look behind the store -----------------------

class RawConn {
 public:
  explicit RawConn(const std::string& conninfo) {
    const char* keywords[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {"5", conninfo.c_str(), nullptr};
    conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  }
  ~RawConn() { PQfinish(conn_); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  absl::Status status() const {
    if (PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
    return absl::UnavailableError(PQerrorMessage(conn_));
  }
  absl::Status Exec(const std::string& sql) { return Rows(sql).status(); }
  // Every row of `sql`, columns joined with '|'.
  absl::StatusOr<std::vector<std::string>> Rows(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      absl::Status error = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(res)));
      PQclear(res);
      return error;
    }
    std::vector<std::string> rows;
    for (int r = 0; r < PQntuples(res); ++r) {
      std::string row;
      for (int c = 0; c < PQnfields(res); ++c) {
        absl::StrAppend(&row, c == 0 ? "" : "|",
                        PQgetisnull(res, r, c) ? "NULL" : PQgetvalue(res, r, c));
      }
      rows.push_back(std::move(row));
    }
    PQclear(res);
    return rows;
  }

 private:
  PGconn* conn_ = nullptr;
};

// `url` with its database replaced by `dbname`, as a key=value conninfo.
std::string ConninfoForDatabase(const std::string& url, const std::string& dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  PQfreemem(error);
  std::string out;
  if (options == nullptr) return out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    std::string value = o->val != nullptr ? o->val : "";
    if (std::string(o->keyword) == "dbname") value = dbname;
    if (value.empty()) continue;
    std::string quoted;
    for (char c : value) {
      if (c == '\'' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    absl::StrAppend(&out, out.empty() ? "" : " ", o->keyword, "='", quoted, "'");
  }
  PQconninfoFree(options);
  return out;
}

// A new, empty database on the configured server, dropped on destruction.
class TempDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<TempDatabase>> Create() {
    absl::BitGen gen;
    std::string name = absl::StrFormat("okr_test_%016x", absl::Uniform<uint64_t>(gen));
    RawConn admin(AdminUrl());
    if (absl::Status s = admin.status(); !s.ok()) return s;
    if (absl::Status s = admin.Exec(
            absl::StrCat("CREATE DATABASE ", name, " ENCODING 'UTF8' TEMPLATE template0"));
        !s.ok()) {
      return s;
    }
    return std::unique_ptr<TempDatabase>(new TempDatabase(name));
  }
  ~TempDatabase() {
    RawConn admin(AdminUrl());
    absl::Status s = admin.Exec(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
    if (!s.ok()) ADD_FAILURE() << s;
  }
  const std::string& name() const { return name_; }
  const std::string& conninfo() const { return conninfo_; }

 private:
  explicit TempDatabase(std::string name)
      : name_(std::move(name)), conninfo_(ConninfoForDatabase(AdminUrl(), name_)) {}

  const std::string name_;
  const std::string conninfo_;
};

// --- Conformance -------------------------------------------------------------------------

// A PostgresStore that owns (and finally drops) its database.
class TempPostgresStore final : public OkrStore {
 public:
  TempPostgresStore(std::unique_ptr<TempDatabase> db, std::unique_ptr<PostgresStore> store)
      : db_(std::move(db)), store_(std::move(store)) {}
  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override {
    return store_->RunInTransaction(fn);
  }
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override {
    return store_->RunReadOnly(fn);
  }
  absl::Status Ping() override { return store_->Ping(); }

 private:
  std::unique_ptr<TempDatabase> db_;  // dropped after the store closed its connections
  std::unique_ptr<PostgresStore> store_;
};

// Stands in when no server is configured; the test is skipped before its body runs.
class NoServerStore final : public OkrStore {
 public:
  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)>) override {
    return absl::FailedPreconditionError(kNoServer);
  }
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)>) override {
    return absl::FailedPreconditionError(kNoServer);
  }
  absl::Status Ping() override { return absl::FailedPreconditionError(kNoServer); }
};

void SkipCurrentTest() { GTEST_SKIP() << kNoServer; }

conformance::StoreFactory PostgresFactory(std::string name, int pool_size) {
  return {std::move(name), [=]() -> absl::StatusOr<std::unique_ptr<OkrStore>> {
            if (AdminUrl().empty()) {
              if (InCi()) return absl::FailedPreconditionError(kNoServerInCi);
              SkipCurrentTest();  // records the skip: SetUp's caller won't run the body
              return std::make_unique<NoServerStore>();
            }
            absl::StatusOr<std::unique_ptr<TempDatabase>> db = TempDatabase::Create();
            if (!db.ok()) return db.status();
            PostgresOptions options;
            options.conninfo = (*db)->conninfo();
            options.pool_size = pool_size;
            absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
            if (!store.ok()) return store.status();
            return std::make_unique<TempPostgresStore>(std::move(*db), std::move(*store));
          }};
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest,
                         ::testing::Values(PostgresFactory("Pool8", 8)),
                         conformance::StoreFactoryName);

// --- Fixture data ------------------------------------------------------------------------

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

Objective MakeObjective(const std::string& id) {
  Objective o;
  o.id = id;
  o.title = "Objective " + id;
  o.team_id = "t";
  o.cycle_id = "c";
  o.meta.revision = 1;
  return o;
}

KeyResult MakeKeyResult(const std::string& objective_id, const std::string& id) {
  KeyResult kr;
  kr.objective_id = objective_id;
  kr.id = id;
  kr.title = "Key result " + id;
  kr.metric = {0, 1000, 0, "points"};
  kr.meta.revision = 1;
  return kr;
}

CheckIn MakeCheckIn(const std::string& id, double value) {
  CheckIn c;
  c.objective_id = "o";
  c.key_result_id = "k";
  c.id = id;
  c.value = value;
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

// What a check-in does to its key result: read it, move the metric, write it back with
// the revision it read, and append the check-in.
absl::Status DoCheckIn(OkrStore& store, const std::string& id, double delta) {
  return store.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult("o", "k");
    if (!kr.ok()) return kr.status();
    const int64_t revision = kr->meta.revision;
    kr->metric.current_value += delta;
    kr->meta.revision = revision + 1;
    if (absl::Status s = tx.InsertCheckIn(MakeCheckIn(id, kr->metric.current_value)); !s.ok()) {
      return s;
    }
    return tx.UpdateKeyResult(*kr, revision);
  });
}

absl::StatusOr<KeyResult> ReadKeyResult(OkrStore& store) {
  std::optional<KeyResult> out;
  absl::Status s = store.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult("o", "k");
    if (!kr.ok()) return kr.status();
    out = *kr;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return *out;
}

// Polls `condition` until it holds or `timeout` passes.
template <typename Condition>
bool Eventually(absl::Duration timeout, Condition condition) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// --- Store fixture -----------------------------------------------------------------------

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_POSTGRES();
    absl::StatusOr<std::unique_ptr<TempDatabase>> db = TempDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  PostgresOptions Options() const {
    PostgresOptions options;
    options.conninfo = db_->conninfo();
    return options;
  }
  std::unique_ptr<PostgresStore> OpenOrDie(const PostgresOptions& options) {
    absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::unique_ptr<TempDatabase> db_;
};

// --- Open, options, migrations -----------------------------------------------------------

TEST(PostgresOptionsTest, Open_InvalidOptions_FailInvalidArgument) {
  PostgresOptions options;
  options.conninfo = "postgresql://okr@127.0.0.1:1/okr";
  options.pool_size = 0;
  absl::Status status = PostgresStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("pool_size"));

  options.pool_size = 8;
  options.statement_timeout = absl::ZeroDuration();
  EXPECT_EQ(PostgresStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);

  options = PostgresOptions();
  EXPECT_EQ(PostgresStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PostgresOptionsTest, Open_MalformedUri_FailsInvalidArgumentWithoutThePassword) {
  PostgresOptions options;
  options.conninfo = "postgresql://okr:hunter2%zz@db.example:port/okr";
  absl::Status status = PostgresStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), Not(HasSubstr("hunter2")));
}

TEST(PostgresOptionsTest, Open_NothingListening_FailsUnavailableFastWithoutThePassword) {
  PostgresOptions options;
  options.conninfo = "postgresql://okr:hunter2@127.0.0.1:1/okr";
  options.connect_timeout = absl::Seconds(2);
  const absl::Time start = absl::Now();
  absl::Status status = PostgresStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), Not(HasSubstr("hunter2")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(PostgresOptionsTest, Open_UnroutableHost_GivesUpAfterConnectTimeout) {
  PostgresOptions options;
  // TEST-NET-1 (RFC 5737): packets go nowhere, so only the connect timeout ends the wait
  // (or the network reports it unreachable at once).
  options.conninfo = "postgresql://okr:hunter2@192.0.2.1:5432/okr";
  options.connect_timeout = absl::Seconds(1);
  const absl::Time start = absl::Now();
  absl::Status status = PostgresStore::Open(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), Not(HasSubstr("hunter2")));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(2500));
}

TEST(PostgresMigrationsTest, Versions_StartAtOneWithoutGaps) {
  int expected = 1;
  for (const PostgresMigration& m : PostgresMigrations()) {
    EXPECT_EQ(m.version, expected++) << m.description;
    EXPECT_NE(std::string(m.sql), "");
  }
  EXPECT_GE(expected, 2);
}

std::vector<std::string> ExpectedVersions() {
  std::vector<std::string> versions;
  for (const PostgresMigration& m : PostgresMigrations())
    versions.push_back(absl::StrCat(m.version));
  return versions;
}

TEST_F(PostgresStoreTest, Open_ManyReplicasAtOnce_ApplyEveryMigrationExactlyOnce) {
  constexpr int kReplicas = 6;
  absl::Notification go;
  std::vector<absl::Status> results(kReplicas);
  std::vector<std::unique_ptr<PostgresStore>> stores(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(Options());
      results[i] = store.status();
      if (store.ok()) stores[i] = std::move(*store);
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_OK(s);
  RawConn raw(db_->conninfo());
  absl::StatusOr<std::vector<std::string>> versions =
      raw.Rows("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_THAT(*versions, ElementsAreArray(ExpectedVersions()));
  // Every replica works on the one schema.
  ASSERT_OK(Seed(*stores[0]));
  for (const auto& store : stores) EXPECT_OK(ReadKeyResult(*store).status());
}

TEST_F(PostgresStoreTest, Reopen_KeepsDataAndDoesNotReapplyMigrations) {
  std::vector<std::string> first;
  {
    std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(Seed(*store));
    RawConn raw(db_->conninfo());
    absl::StatusOr<std::vector<std::string>> rows =
        raw.Rows("SELECT version, applied_at FROM schema_migrations ORDER BY version");
    ASSERT_TRUE(rows.ok()) << rows.status();
    first = *rows;
  }
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_OK(ReadKeyResult(*store).status());
  RawConn raw(db_->conninfo());
  absl::StatusOr<std::vector<std::string>> rows =
      raw.Rows("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, first);
}

TEST_F(PostgresStoreTest, Open_SchemaNewerThanBinary_FailsFailedPrecondition) {
  { ASSERT_NE(OpenOrDie(Options()), nullptr); }
  RawConn raw(db_->conninfo());
  ASSERT_OK(raw.Exec("INSERT INTO schema_migrations VALUES (999, 'future')"));
  absl::Status status = PostgresStore::Open(Options()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("999"));
}

// A schema written before migration 6: the new columns dropped, the values in the old
// per-tracker columns, migration 6 not recorded. Opening moves them into the tracker-keyed
// fields (service/storage/tracker_fields_codec.h) without losing one.
TEST_F(PostgresStoreTest, Migration6_OldTrackerColumns_MoveIntoTrackerKeyedFields) {
  {
    std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(Seed(*store));
  }
  RawConn raw(db_->conninfo());
  ASSERT_OK(
      raw.Exec("DROP INDEX key_results_scoped;"
               "ALTER TABLE key_results DROP COLUMN tracker_scopes;"
               "ALTER TABLE teams DROP COLUMN tracker_projects;"
               "CREATE INDEX key_results_scoped ON key_results (type) "
               "  WHERE jira_jql <> '' OR gitlab_project <> '';"
               "UPDATE teams SET jira_project_key = 'PAY', gitlab_project = 'acme/payments';"
               "UPDATE key_results SET type = 3, jira_jql = 'project = PAY AND labels = \"a\\b\"', "
               "  gitlab_project = 'acme/checkout', gitlab_labels = E'nps\\nq\"4', "
               "  gitlab_milestone = 'Q4';"
               "DELETE FROM schema_migrations WHERE version = 6;"));
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->RunReadOnly([](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<Team> team = tx.GetTeam("t");
    if (!team.ok()) return team.status();
    EXPECT_EQ(TeamProject(*team, Tracker::kJira), "PAY");
    EXPECT_EQ(TeamProject(*team, Tracker::kGitLab), "acme/payments");
    absl::StatusOr<std::vector<KeyResult>> scoped = tx.ScopedKeyResults();
    if (!scoped.ok()) return scoped.status();
    EXPECT_EQ(scoped->size(), 1u);
    if (scoped->empty()) return absl::OkStatus();
    const KeyResult& kr = scoped->front();
    TrackerScope gitlab{"", "acme/checkout", {"nps", "q\"4"}, "Q4"};
    TrackerScope jira{"project = PAY AND labels = \"a\\b\"", "", {}, ""};
    EXPECT_EQ(kr.scopes.at(Tracker::kGitLab), gitlab);
    EXPECT_EQ(kr.scopes.at(Tracker::kJira), jira);
    return absl::OkStatus();
  }));
}

// --- Concurrency -------------------------------------------------------------------------

TEST_F(PostgresStoreTest, TwoReplicas_ConcurrentCheckInsOnOneKeyResult_LoseNoUpdate) {
  constexpr int kStores = 2;
  constexpr int kThreadsPerStore = 8;
  constexpr int kPerStore = 200;
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int i = 0; i < kStores; ++i) {
    stores.push_back(OpenOrDie(Options()));
    ASSERT_NE(stores.back(), nullptr);
  }
  ASSERT_OK(Seed(*stores[0]));
  std::vector<absl::Status> failures(kStores * kThreadsPerStore);
  std::vector<std::thread> threads;
  absl::Notification go;
  for (int s = 0; s < kStores; ++s) {
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back([&, s, t] {
        go.WaitForNotification();
        for (int i = t; i < kPerStore; i += kThreadsPerStore) {
          absl::Status status = DoCheckIn(*stores[s], absl::StrCat("s", s, "-", i), 1);
          absl::Status& failure = failures[s * kThreadsPerStore + t];
          if (!status.ok() && failure.ok()) failure = status;
        }
      });
    }
  }
  const absl::Time start = absl::Now();
  go.Notify();
  for (std::thread& t : threads) t.join();
  const absl::Duration elapsed = absl::Now() - start;
  for (const absl::Status& s : failures) EXPECT_OK(s);

  absl::StatusOr<KeyResult> kr = ReadKeyResult(*stores[1]);
  ASSERT_TRUE(kr.ok()) << kr.status();
  EXPECT_EQ(kr->meta.revision, 1 + kStores * kPerStore);
  EXPECT_EQ(kr->metric.current_value, kStores * kPerStore);
  int64_t check_ins = 0;
  ASSERT_OK(stores[0]->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    PageQuery q;
    q.limit = 1000;
    absl::StatusOr<Page<CheckIn>> page = tx.ListCheckIns("o", "k", q);
    if (!page.ok()) return page.status();
    check_ins = static_cast<int64_t>(page->items.size());
    return absl::OkStatus();
  }));
  EXPECT_EQ(check_ins, kStores * kPerStore);
  const int64_t retries = stores[0]->stats().retries + stores[1]->stats().retries;
  RecordProperty("transactions", kStores * kPerStore);
  RecordProperty("retries", static_cast<int>(retries));
  RecordProperty("elapsed_ms", static_cast<int>(absl::ToInt64Milliseconds(elapsed)));
  std::printf("%d transactions from %d threads in %s, %lld serialization retries\n",
              kStores * kPerStore, kStores * kThreadsPerStore,
              absl::FormatDuration(elapsed).c_str(), static_cast<long long>(retries));
}

// Each replica keeps cycles in memory; a cycle another replica changed or deleted must
// never be served from there (the cycle epoch read in every BEGIN round trip).
TEST_F(PostgresStoreTest, TwoReplicas_CycleChangedOnOne_IsNeverServedStaleByTheOther) {
  std::unique_ptr<PostgresStore> a = OpenOrDie(Options());
  std::unique_ptr<PostgresStore> b = OpenOrDie(Options());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(Seed(*a));
  auto read_name = [](OkrStore& store, bool read_only) -> absl::StatusOr<std::string> {
    std::string name;
    auto fn = [&](OkrTransaction& tx) -> absl::Status {
      absl::StatusOr<Cycle> c = tx.GetCycle("c");
      if (!c.ok()) return c.status();
      name = c->display_name;
      return absl::OkStatus();
    };
    absl::Status s = read_only ? store.RunReadOnly(fn) : store.RunInTransaction(fn);
    if (!s.ok()) return s;
    return name;
  };
  for (int i = 0; i < 3; ++i) {  // b caches the cycle
    ASSERT_OK(read_name(*b, true).status());
    ASSERT_OK(read_name(*b, false).status());
  }
  Cycle renamed = MakeCycle("c");
  renamed.display_name = "Renamed on a";
  renamed.meta.revision = 2;
  ASSERT_OK(a->RunInTransaction([&](OkrTransaction& tx) { return tx.UpdateCycle(renamed, 1); }));
  absl::StatusOr<std::string> seen = read_name(*b, true);
  ASSERT_OK(seen.status());
  EXPECT_EQ(*seen, "Renamed on a");
  seen = read_name(*b, false);
  ASSERT_OK(seen.status());
  EXPECT_EQ(*seen, "Renamed on a");
  ASSERT_OK(a->RunInTransaction([](OkrTransaction& tx) { return tx.DeleteObjective("o"); }));
  ASSERT_OK(a->RunInTransaction([](OkrTransaction& tx) { return tx.DeleteCycle("c", 2); }));
  EXPECT_EQ(read_name(*b, true).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(read_name(*b, false).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PostgresStoreTest, ConflictingCommitDuringCallback_RerunsWholeCallbackAndKeepsBothUpdates) {
  std::unique_ptr<PostgresStore> a = OpenOrDie(Options());
  std::unique_ptr<PostgresStore> b = OpenOrDie(Options());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(Seed(*a));
  int calls = 0;
  ASSERT_OK(a->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    ++calls;
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult("o", "k");  // the snapshot starts here
    if (!kr.ok()) return kr.status();
    if (calls == 1) {
      // Another replica changes the row after this transaction read it.
      EXPECT_OK(DoCheckIn(*b, "from-b", 1));
    }
    const int64_t revision = kr->meta.revision;
    kr->metric.current_value += 10;
    kr->meta.revision = revision + 1;
    return tx.UpdateKeyResult(*kr, revision);
  }));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(a->stats().retries, 1);
  absl::StatusOr<KeyResult> kr = ReadKeyResult(*a);
  ASSERT_TRUE(kr.ok()) << kr.status();
  EXPECT_EQ(kr->metric.current_value, 11);
  EXPECT_EQ(kr->meta.revision, 3);
}

TEST_F(PostgresStoreTest, ConflictWithNoRetriesLeft_FailsAbortedAndWritesNothing) {
  PostgresOptions options = Options();
  options.max_retries = 0;
  std::unique_ptr<PostgresStore> a = OpenOrDie(options);
  std::unique_ptr<PostgresStore> b = OpenOrDie(Options());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(Seed(*a));
  int calls = 0;
  absl::Status status = a->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    ++calls;
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult("o", "k");
    if (!kr.ok()) return kr.status();
    EXPECT_OK(DoCheckIn(*b, absl::StrCat("from-b-", calls), 1));
    EXPECT_OK(tx.InsertCheckIn(MakeCheckIn("from-a", 0)));
    const int64_t revision = kr->meta.revision;
    kr->meta.revision = revision + 1;
    return tx.UpdateKeyResult(*kr, revision);
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
  EXPECT_THAT(status.message(), HasSubstr("concurrent"));
  EXPECT_EQ(calls, 1);
  absl::Status missing =
      a->RunReadOnly([](OkrTransaction& tx) { return tx.GetCheckIn("o", "k", "from-a").status(); });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

TEST_F(PostgresStoreTest, Transactions_NestedOnSameStore_FailFailedPrecondition) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  absl::Status inner_write;
  absl::Status inner_read;
  absl::Status inner_ping;
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction&) -> absl::Status {
    inner_write = store->RunInTransaction([](OkrTransaction&) { return absl::OkStatus(); });
    inner_read = store->RunReadOnly([](OkrTransaction&) { return absl::OkStatus(); });
    inner_ping = store->Ping();
    return absl::OkStatus();
  }));
  EXPECT_EQ(inner_write.code(), absl::StatusCode::kFailedPrecondition) << inner_write;
  EXPECT_EQ(inner_read.code(), absl::StatusCode::kFailedPrecondition) << inner_read;
  EXPECT_EQ(inner_ping.code(), absl::StatusCode::kFailedPrecondition) << inner_ping;
}

// --- Errors inside a transaction ---------------------------------------------------------

TEST_F(PostgresStoreTest, TextWithNulByte_FailsInvalidArgumentAndTransactionStaysUsable) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->RunInTransaction([](OkrTransaction& tx) -> absl::Status {
    Team bad = MakeTeam("bad");
    bad.display_name = std::string("a\0b", 3);
    absl::Status s = tx.InsertTeam(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return tx.InsertTeam(MakeTeam("good"));
  }));
  EXPECT_OK(store->RunReadOnly([](OkrTransaction& tx) { return tx.GetTeam("good").status(); }));
}

TEST_F(PostgresStoreTest, SqlError_PoisonsTransactionAndIsReturnedEvenIfCallbackIgnoresIt) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  absl::Status first;
  absl::Status later;
  absl::Status status = store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    EXPECT_OK(tx.InsertTeam(MakeTeam("kept-out")));
    Team bad = MakeTeam("bad");
    bad.display_name = "\xff\xfe not UTF-8";  // the server refuses it (SQLSTATE 22021)
    first = tx.InsertTeam(bad);
    later = tx.GetTeam("kept-out").status();
    return absl::OkStatus();  // ignores the error
  });
  EXPECT_EQ(first.code(), absl::StatusCode::kInvalidArgument) << first;
  EXPECT_EQ(later, first);
  EXPECT_EQ(status, first);
  absl::Status missing =
      store->RunReadOnly([](OkrTransaction& tx) { return tx.GetTeam("kept-out").status(); });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

// --- Timeouts and outages ----------------------------------------------------------------

TEST_F(PostgresStoreTest, RowLockedPastStatementTimeout_FailsDeadlineExceededThenWorksAgain) {
  PostgresOptions options = Options();
  options.statement_timeout = absl::Milliseconds(300);
  std::unique_ptr<PostgresStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  RawConn locker(db_->conninfo());
  ASSERT_OK(locker.Exec("BEGIN"));
  ASSERT_OK(locker.Exec("SELECT * FROM key_results FOR UPDATE"));
  const absl::Time start = absl::Now();
  absl::Status status = DoCheckIn(*store, "blocked", 1);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(waited, absl::Seconds(2));
  ASSERT_OK(locker.Exec("ROLLBACK"));
  EXPECT_OK(DoCheckIn(*store, "after", 1));
}

TEST_F(PostgresStoreTest, AllConnectionsBusy_WaiterFailsUnavailableAfterConnectTimeout) {
  PostgresOptions options = Options();
  options.pool_size = 1;
  options.connect_timeout = absl::Milliseconds(300);
  std::unique_ptr<PostgresStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  absl::Notification inside;
  absl::Notification release;
  std::thread holder([&] {
    EXPECT_OK(store->RunReadOnly([&](OkrTransaction&) {
      inside.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    }));
  });
  inside.WaitForNotification();
  const absl::Time start = absl::Now();
  absl::Status status = store->Ping();
  const absl::Duration waited = absl::Now() - start;
  release.Notify();
  holder.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("busy"));
  EXPECT_GE(waited, absl::Milliseconds(250));
  EXPECT_LT(waited, absl::Seconds(2));
  EXPECT_OK(store->Ping());
}

TEST_F(PostgresStoreTest, ServerKillsPooledConnections_NextCallsSucceedOnFreshOnes) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  // Put several connections into the pool.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { EXPECT_OK(ReadKeyResult(*store).status()); });
  }
  for (std::thread& t : threads) t.join();
  RawConn admin(AdminUrl());
  ASSERT_OK(admin.Exec(
      absl::StrCat("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '",
                   db_->name(), "' AND pid <> pg_backend_pid()")));
  ASSERT_TRUE(Eventually(absl::Seconds(5), [&] {
    absl::StatusOr<std::vector<std::string>> left = admin.Rows(
        absl::StrCat("SELECT 1 FROM pg_stat_activity WHERE datname = '", db_->name(), "'"));
    return left.ok() && left->empty();
  }));
  // Nothing ran on the dead connections yet, so the store retries on new ones.
  EXPECT_OK(store->Ping());
  EXPECT_OK(DoCheckIn(*store, "after-kill", 1));
  EXPECT_OK(ReadKeyResult(*store).status());
}

// A server of the test's own (stopping the shared one would break tests running in
// parallel), driven by tests/testing/postgres/temp_postgres.sh.
class PrivateServer {
 public:
  static absl::StatusOr<std::unique_ptr<PrivateServer>> Start(const std::string& ctl) {
    absl::StatusOr<std::string> out = Run(absl::StrCat(ctl, " start"));
    if (!out.ok()) return out.status();
    auto server = std::unique_ptr<PrivateServer>(new PrivateServer(ctl));
    for (absl::string_view line : absl::StrSplit(*out, '\n')) {
      if (absl::ConsumePrefix(&line, "export OKR_TEST_POSTGRES_URL="))
        server->url_ = std::string(line);
      if (absl::ConsumePrefix(&line, "export OKR_TEST_POSTGRES_DIR="))
        server->dir_ = std::string(line);
    }
    if (server->url_.empty() || server->dir_.empty()) {
      return absl::InternalError(absl::StrCat("unexpected output of ", ctl, " start: ", *out));
    }
    return server;
  }
  ~PrivateServer() {
    if (!dir_.empty()) Run(absl::StrCat(ctl_, " stop ", dir_)).IgnoreError();
  }
  absl::Status Stop() { return Run(absl::StrCat(ctl_, " ctl ", dir_, " stop")).status(); }
  absl::Status Restart() { return Run(absl::StrCat(ctl_, " ctl ", dir_, " start")).status(); }
  absl::Status Freeze() { return Run(absl::StrCat(ctl_, " ctl ", dir_, " freeze")).status(); }
  absl::Status Thaw() { return Run(absl::StrCat(ctl_, " ctl ", dir_, " thaw")).status(); }
  const std::string& url() const { return url_; }

 private:
  explicit PrivateServer(std::string ctl) : ctl_(std::move(ctl)) {}
  static absl::StatusOr<std::string> Run(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return absl::InternalError(absl::StrCat("cannot run ", command));
    std::string out;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    int rc = pclose(pipe);
    if (rc != 0) return absl::InternalError(absl::StrCat(command, " failed (", rc, ")"));
    return out;
  }

  const std::string ctl_;
  std::string url_;
  std::string dir_;
};

// Skips (or fails, under CI) a test that needs its own server.
#define REQUIRE_POSTGRES_CTL()                                                             \
  do {                                                                                     \
    if (Env("OKR_TEST_POSTGRES_CTL").empty()) {                                            \
      if (InCi())                                                                          \
        FAIL() << "CI=true but OKR_TEST_POSTGRES_CTL is not set (.ci/start-postgres.sh)";  \
      GTEST_SKIP() << "set OKR_TEST_POSTGRES_CTL=tests/testing/postgres/temp_postgres.sh"; \
    }                                                                                      \
  } while (0)

TEST(PostgresOutageTest, ServerStopped_CallsFailFastUnavailable_ThenSameStoreRecovers) {
  REQUIRE_POSTGRES_CTL();
  absl::StatusOr<std::unique_ptr<PrivateServer>> server =
      PrivateServer::Start(Env("OKR_TEST_POSTGRES_CTL"));
  ASSERT_TRUE(server.ok()) << server.status();
  PostgresOptions options;
  options.conninfo = (*server)->url();
  options.connect_timeout = absl::Seconds(2);
  options.statement_timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<PostgresStore>> opened = PostgresStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  PostgresStore& store = **opened;
  ASSERT_OK(Seed(store));
  ASSERT_OK(DoCheckIn(store, "before", 1));

  ASSERT_OK((*server)->Stop());
  const absl::Time start = absl::Now();
  absl::Status write = DoCheckIn(store, "during", 1);
  absl::Status read = ReadKeyResult(store).status();
  absl::Status ping = store.Ping();
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_EQ(ping.code(), absl::StatusCode::kUnavailable) << ping;
  EXPECT_LT(elapsed, options.connect_timeout + absl::Seconds(1));

  ASSERT_OK((*server)->Restart());
  const absl::Time restarted = absl::Now();
  EXPECT_TRUE(Eventually(absl::Seconds(20), [&] { return store.Ping().ok(); }));
  RecordProperty("recovery_ms",
                 static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - restarted)));
  EXPECT_OK(DoCheckIn(store, "after", 1));
  absl::StatusOr<KeyResult> kr = ReadKeyResult(store);
  ASSERT_TRUE(kr.ok()) << kr.status();
  EXPECT_EQ(kr->metric.current_value, 2);  // "before" and "after"; "during" failed
  EXPECT_GE(store.stats().reconnects, 1);
}

TEST(PostgresOutageTest, ServerHangs_NoCallWaitsPastItsTimeout_ThenSameStoreRecovers) {
  REQUIRE_POSTGRES_CTL();
  absl::StatusOr<std::unique_ptr<PrivateServer>> server =
      PrivateServer::Start(Env("OKR_TEST_POSTGRES_CTL"));
  ASSERT_TRUE(server.ok()) << server.status();
  PostgresOptions options;
  options.conninfo = (*server)->url();
  options.connect_timeout = absl::Seconds(1);
  options.statement_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<PostgresStore>> opened = PostgresStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  PostgresStore& store = **opened;
  ASSERT_OK(Seed(store));
  // Two pooled connections.
  std::thread other([&] { EXPECT_OK(ReadKeyResult(store).status()); });
  EXPECT_OK(DoCheckIn(store, "before", 1));
  other.join();

  ASSERT_OK((*server)->Freeze());
  // A pooled connection: no answer within statement_timeout + the client's grace.
  absl::Time start = absl::Now();
  absl::Status write = DoCheckIn(store, "during", 1);
  const absl::Duration first = absl::Now() - start;
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  EXPECT_LT(first, options.statement_timeout + postgres_internal::kClientGrace + absl::Seconds(1));
  // The other pooled connection was dropped with it; a new one gives up at connect_timeout,
  // and meanwhile other calls fail at once.
  start = absl::Now();
  absl::Status ping = store.Ping();
  absl::Status read = ReadKeyResult(store).status();
  const absl::Duration next = absl::Now() - start;
  EXPECT_EQ(ping.code(), absl::StatusCode::kUnavailable) << ping;
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_LT(next, options.connect_timeout + absl::Seconds(1));
  RecordProperty("first_failure_ms", static_cast<int>(absl::ToInt64Milliseconds(first)));
  RecordProperty("next_failures_ms", static_cast<int>(absl::ToInt64Milliseconds(next)));

  ASSERT_OK((*server)->Thaw());
  EXPECT_TRUE(Eventually(absl::Seconds(20), [&] { return store.Ping().ok(); }));
  EXPECT_OK(DoCheckIn(store, "after", 1));
  absl::StatusOr<KeyResult> kr = ReadKeyResult(store);
  ASSERT_TRUE(kr.ok()) << kr.status();
  EXPECT_EQ(kr->metric.current_value, 2);  // "before" and "after"
}

// --- Migration 3 fields and tracker sync ----------------------------------------------------
// (Backend-independent behaviour the shared conformance suite does not cover yet; the
// expectations follow the SQLite store.)

WorkItem MakeItem(const std::string& key, const std::string& external_id = "") {
  WorkItem w;
  w.tracker = Tracker::kJira;
  w.key = key;
  w.title = "Item " + key;
  w.url = "https://jira.example/browse/" + key;
  w.weight = 2;
  w.update_time = absl::FromUnixMicros(1'700'000'000'000'001);
  w.external_id = external_id;
  w.source_updated = absl::FromUnixMicros(1'700'000'100'000'002);
  return w;
}

WorkItemLink MakeLink(const std::string& id, const WorkItem& item) {
  WorkItemLink l;
  l.objective_id = "o";
  l.key_result_id = "k";
  l.id = id;
  l.item = item;
  l.meta.revision = 1;
  return l;
}

TEST_F(PostgresStoreTest, ObjectiveAndKeyResult_ExtraFields_RoundTrip) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  Objective o = MakeObjective("o2");
  o.progress_source = ProgressSource::kKeyResultsAndChildren;
  o.weight = 0.25;
  o.contributes_to = {"objectives/o/keyResults/k", "objectives/x/keyResults/y"};
  o.depends_on = {"o"};
  o.agreements = {{"t", "alice", absl::FromUnixMicros(1'700'000'000'000'123)}};
  o.reopen_reason = "scope changed";
  o.carried_over_from = "o";
  o.score = 0.7;
  o.scored = true;
  o.outcome = Outcome::kMet;
  KeyResult kr = MakeKeyResult("o2", "k2");
  kr.type = KeyResultType::kWorkItems;
  kr.metric_key = "checkout.conversion";
  kr.scopes[Tracker::kJira].query = "project = OKR";
  kr.scopes[Tracker::kGitLab].project = "group/app";
  kr.scopes[Tracker::kGitLab].labels = {"okr", "q3"};
  kr.scopes[Tracker::kGitLab].milestone = "v1";
  kr.score = 0.5;
  kr.score_reason = "half done";
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status st = tx.InsertObjective(o); !st.ok()) return st;
    return tx.InsertKeyResult(kr);
  }));
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<Objective> got = tx.GetObjective("o2");
    if (!got.ok()) return got.status();
    EXPECT_EQ(got->progress_source, ProgressSource::kKeyResultsAndChildren);
    EXPECT_EQ(got->weight, 0.25);
    EXPECT_EQ(got->contributes_to, o.contributes_to);
    EXPECT_EQ(got->depends_on, o.depends_on);
    EXPECT_EQ(got->agreements.size(), 1u);
    if (!got->agreements.empty()) {
      EXPECT_EQ(got->agreements[0].team_id, "t");
      EXPECT_EQ(got->agreements[0].agreed_by, "alice");
      EXPECT_EQ(got->agreements[0].agree_time, o.agreements[0].agree_time);
    }
    EXPECT_EQ(got->reopen_reason, "scope changed");
    EXPECT_EQ(got->carried_over_from, "o");
    EXPECT_EQ(got->score, 0.7);
    EXPECT_TRUE(got->scored);
    EXPECT_EQ(got->outcome, Outcome::kMet);
    absl::StatusOr<KeyResult> got_kr = tx.GetKeyResult("o2", "k2");
    if (!got_kr.ok()) return got_kr.status();
    EXPECT_EQ(got_kr->metric_key, "checkout.conversion");
    EXPECT_EQ(got_kr->scopes.at(Tracker::kJira).query, "project = OKR");
    EXPECT_EQ(got_kr->scopes.at(Tracker::kGitLab).project, "group/app");
    EXPECT_EQ(got_kr->scopes.at(Tracker::kGitLab).labels, kr.scopes.at(Tracker::kGitLab).labels);
    EXPECT_EQ(got_kr->scopes.at(Tracker::kGitLab).milestone, "v1");
    EXPECT_EQ(got_kr->score, std::optional<double>(0.5));
    EXPECT_EQ(got_kr->score_reason, "half done");
    absl::StatusOr<std::vector<KeyResult>> scoped = tx.ScopedKeyResults();
    if (!scoped.ok()) return scoped.status();
    EXPECT_EQ(scoped->size(), 1u);  // "o/k" is a metric key result without scope
    return absl::OkStatus();
  }));
  // Update stores the extra fields too.
  o.meta.revision = 2;
  o.outcome = Outcome::kMissed;
  o.contributes_to.clear();
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) { return tx.UpdateObjective(o, 1); }));
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<Objective> got = tx.GetObjective("o2");
    if (!got.ok()) return got.status();
    EXPECT_EQ(got->outcome, Outcome::kMissed);
    EXPECT_TRUE(got->contributes_to.empty());
    return absl::OkStatus();
  }));
}

TEST_F(PostgresStoreTest, WorkItems_ExternalIdRenameAndDelete_KeepLinksConsistent) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  const WorkItem item = MakeItem("OKR-1", "10001");
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status st = tx.UpsertWorkItem(item); !st.ok()) return st;
    if (absl::Status st = tx.UpsertWorkItem(MakeItem("OKR-2")); !st.ok()) return st;
    if (absl::Status st = tx.InsertWorkItemLink(MakeLink("l1", item)); !st.ok()) return st;
    OkrTransaction::WriteBackState state;
    state.ref = "note-1";
    state.content_hash = "h1";
    state.written = absl::FromUnixSeconds(1'700'000'000);
    return tx.PutWriteBackState(Tracker::kJira, "OKR-1", state);
  }));
  // The same external id on another key is refused, and the transaction goes on.
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::Status taken = tx.UpsertWorkItem(MakeItem("OKR-3", "10001"));
    EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
    EXPECT_THAT(taken.message(), HasSubstr("10001"));
    absl::StatusOr<std::optional<WorkItem>> by_id =
        tx.GetWorkItemByExternalId(Tracker::kJira, "10001");
    if (!by_id.ok()) return by_id.status();
    EXPECT_TRUE(by_id->has_value() && (*by_id)->key == "OKR-1");
    EXPECT_TRUE(by_id->has_value() && (*by_id)->source_updated == item.source_updated);
    return absl::OkStatus();
  }));
  // Rename: links, external id and write-back state follow the new key.
  absl::Status taken = store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.RenameWorkItem(Tracker::kJira, "OKR-1", "OKR-2"); });
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
  absl::Status missing = store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.RenameWorkItem(Tracker::kJira, "NOPE-1", "NOPE-2"); });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  ASSERT_OK(store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.RenameWorkItem(Tracker::kJira, "OKR-1", "NEW-1"); }));
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<WorkItemLink> link = tx.GetWorkItemLink("o", "k", "l1");
    if (!link.ok()) return link.status();
    EXPECT_EQ(link->item.key, "NEW-1");
    EXPECT_EQ(link->item.external_id, "10001");
    absl::StatusOr<std::optional<WorkItem>> old = tx.GetWorkItem(Tracker::kJira, "OKR-1");
    if (!old.ok()) return old.status();
    EXPECT_FALSE(old->has_value());
    absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> state =
        tx.GetWriteBackState(Tracker::kJira, "NEW-1");
    if (!state.ok()) return state.status();
    EXPECT_TRUE(state->has_value() && (*state)->ref == "note-1");
    absl::StatusOr<std::vector<WorkItem>> linked = tx.LinkedWorkItems(Tracker::kJira);
    if (!linked.ok()) return linked.status();
    EXPECT_EQ(linked->size(), 1u);  // OKR-2 has no link
    return absl::OkStatus();
  }));
  // Delete: the item, its links and its write-back state go.
  ASSERT_OK(store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.DeleteWorkItem(Tracker::kJira, "NEW-1"); }));
  absl::Status again = store->RunInTransaction(
      [](OkrTransaction& tx) { return tx.DeleteWorkItem(Tracker::kJira, "NEW-1"); });
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound) << again;
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    EXPECT_EQ(tx.GetWorkItemLink("o", "k", "l1").status().code(), absl::StatusCode::kNotFound);
    absl::StatusOr<std::optional<OkrTransaction::WriteBackState>> state =
        tx.GetWriteBackState(Tracker::kJira, "NEW-1");
    if (!state.ok()) return state.status();
    EXPECT_FALSE(state->has_value());
    return absl::OkStatus();
  }));
}

TEST_F(PostgresStoreTest, LinkedWorkItems_OrderedByKeyBytes) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Seed(*store));
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    int n = 0;
    for (const char* key : {"abc-1", "OKR-9", "OKR-10", "Z-1"}) {
      const WorkItem item = MakeItem(key);
      if (absl::Status st = tx.UpsertWorkItem(item); !st.ok()) return st;
      if (absl::Status st = tx.InsertWorkItemLink(MakeLink(absl::StrCat("l", n++), item));
          !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  }));
  std::vector<std::string> keys;
  ASSERT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<WorkItem>> linked = tx.LinkedWorkItems(Tracker::kJira);
    if (!linked.ok()) return linked.status();
    for (const WorkItem& w : *linked) keys.push_back(w.key);
    return absl::OkStatus();
  }));
  EXPECT_THAT(keys, ::testing::ElementsAre("OKR-10", "OKR-9", "Z-1", "abc-1"));
}

TEST_F(PostgresStoreTest, Deliveries_DedupeAndPrune) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status st = tx.RecordDelivery(Tracker::kJira, "d1", t0); !st.ok()) return st;
    if (absl::Status st = tx.RecordDelivery(Tracker::kGitLab, "d1", t0); !st.ok()) return st;
    return tx.RecordDelivery(Tracker::kJira, "d2", t0 + absl::Hours(1));
  }));
  absl::Status dup = store->RunInTransaction(
      [&](OkrTransaction& tx) { return tx.RecordDelivery(Tracker::kJira, "d1", t0); });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  int64_t pruned = -1;
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.PruneDeliveries(t0 + absl::Minutes(30), 500);
    if (!n.ok()) return n.status();
    pruned = *n;
    return absl::OkStatus();
  }));
  EXPECT_EQ(pruned, 2);
  EXPECT_OK(store->RunInTransaction(
      [&](OkrTransaction& tx) { return tx.RecordDelivery(Tracker::kJira, "d1", t0); }));
}

TEST_F(PostgresStoreTest, WriteBackQueue_CoalescesAndCompletesOnlyTheGenerationRead) {
  std::unique_ptr<PostgresStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  auto pending = [&]() {
    std::vector<OkrTransaction::WriteBackEntry> out;
    EXPECT_OK(store->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
      absl::StatusOr<std::vector<OkrTransaction::WriteBackEntry>> got = tx.PendingWriteBacks(10);
      if (!got.ok()) return got.status();
      out = *got;
      return absl::OkStatus();
    }));
    return out;
  };
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (absl::Status st = tx.EnqueueWriteBack("o", "k2", t0 + absl::Seconds(5)); !st.ok()) {
      return st;
    }
    if (absl::Status st = tx.EnqueueWriteBack("o", "k1", t0); !st.ok()) return st;
    return tx.EnqueueWriteBack("o", "k1", t0 + absl::Seconds(9));
  }));
  std::vector<OkrTransaction::WriteBackEntry> entries = pending();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key_result_id, "k1");  // oldest first
  EXPECT_EQ(entries[0].since, t0);            // the first enqueue time is kept
  EXPECT_EQ(entries[0].generation, 2);
  // Enqueued again after being read: completing the old generation keeps it.
  ASSERT_OK(store->RunInTransaction(
      [&](OkrTransaction& tx) { return tx.EnqueueWriteBack("o", "k1", t0 + absl::Seconds(20)); }));
  ASSERT_OK(store->RunInTransaction(
      [&](OkrTransaction& tx) { return tx.CompleteWriteBack(entries[0]); }));
  entries = pending();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].generation, 3);
  ASSERT_OK(store->RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    for (const auto& e : entries) {
      if (absl::Status st = tx.CompleteWriteBack(e); !st.ok()) return st;
    }
    return absl::OkStatus();
  }));
  EXPECT_TRUE(pending().empty());
}

// --- Cluster lock ------------------------------------------------------------------------

class ClusterLockTest : public PostgresStoreTest {
 protected:
  std::unique_ptr<PostgresClusterLock> Lock(const std::string& name) {
    PostgresClusterLockOptions options;
    options.conninfo = db_->conninfo();
    absl::StatusOr<std::unique_ptr<PostgresClusterLock>> lock =
        PostgresClusterLock::Create(options, name);
    EXPECT_TRUE(lock.ok()) << lock.status();
    return lock.ok() ? std::move(*lock) : nullptr;
  }
};

TEST_F(ClusterLockTest, SecondHolderCannotAcquireWhileFirstHolds_ThenTakesOverWhenItCloses) {
  std::unique_ptr<PostgresClusterLock> first = Lock("reconcile");
  std::unique_ptr<PostgresClusterLock> second = Lock("reconcile");
  std::unique_ptr<PostgresClusterLock> other_name = Lock("rule-timers");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(other_name, nullptr);
  EXPECT_FALSE(first->IsHeld());
  ASSERT_TRUE(first->TryAcquire()) << first->last_error();
  EXPECT_TRUE(first->TryAcquire());  // already held
  EXPECT_TRUE(first->IsHeld());
  EXPECT_FALSE(second->TryAcquire());
  EXPECT_FALSE(second->IsHeld());
  EXPECT_OK(second->last_error());
  EXPECT_TRUE(other_name->TryAcquire());  // locks are per name

  first.reset();  // the holder goes away: its session ends
  const absl::Time start = absl::Now();
  EXPECT_TRUE(Eventually(absl::Seconds(10), [&] { return second->TryAcquire(); }));
  RecordProperty("takeover_ms", static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - start)));
  EXPECT_TRUE(second->IsHeld());
}

TEST_F(ClusterLockTest, Release_LetsAnotherHolderAcquireAtOnce) {
  std::unique_ptr<PostgresClusterLock> first = Lock("outbox");
  std::unique_ptr<PostgresClusterLock> second = Lock("outbox");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->TryAcquire()) << first->last_error();
  first->Release();
  EXPECT_FALSE(first->IsHeld());
  first->Release();  // idempotent
  EXPECT_TRUE(second->TryAcquire()) << second->last_error();
  EXPECT_FALSE(first->TryAcquire());
}

TEST_F(ClusterLockTest, HolderSessionKilled_ReportsNotHeldAndAnotherTakesOver) {
  std::unique_ptr<PostgresClusterLock> first = Lock("reconcile");
  std::unique_ptr<PostgresClusterLock> second = Lock("reconcile");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->TryAcquire()) << first->last_error();
  RawConn admin(AdminUrl());
  ASSERT_OK(admin.Exec(
      absl::StrCat("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '",
                   db_->name(), "' AND application_name = 'okr-service lock reconcile'")));
  EXPECT_TRUE(Eventually(absl::Seconds(5), [&] { return !first->IsHeld(); }));
  EXPECT_EQ(first->last_error().code(), absl::StatusCode::kUnavailable) << first->last_error();
  EXPECT_TRUE(Eventually(absl::Seconds(10), [&] { return second->TryAcquire(); }));
  EXPECT_FALSE(first->TryAcquire());  // reconnected, but the lock is taken
}

TEST(ClusterLockOptionsTest, UnreachableDatabase_TryAcquireReturnsFalseFast) {
  PostgresClusterLockOptions options;
  options.conninfo = "postgresql://okr:hunter2@127.0.0.1:1/okr";
  options.connect_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<PostgresClusterLock>> lock =
      PostgresClusterLock::Create(options, "reconcile");
  ASSERT_TRUE(lock.ok()) << lock.status();
  const absl::Time start = absl::Now();
  EXPECT_FALSE((*lock)->TryAcquire());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE((*lock)->IsHeld());
  EXPECT_EQ((*lock)->last_error().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT((*lock)->last_error().message(), Not(HasSubstr("hunter2")));
  EXPECT_EQ(PostgresClusterLock::Create(options, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Internals that need no server -------------------------------------------------------

TEST(RedactorTest, RemovesThePasswordInEveryForm) {
  struct Case {
    const char* conninfo;
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"postgresql://okr:s3cret@db:5432/okr", "auth s3cret failed", "auth *** failed"},
      {"postgresql://okr:p%40ss@db/okr", "raw p%40ss decoded p@ss", "raw *** decoded ***"},
      {"host=db password='p w' user=okr", "p w leaked", "*** leaked"},
      {"host=db password=hunter2 user=okr", "pw hunter2", "pw ***"},
      {"postgresql://okr@db/okr", "no password here", "no password here"},
      {"postgresql://okr:bad%zzpw@db:notaport/okr", "bad%zzpw", "***"},
  };
  for (const Case& c : cases) {
    postgres_internal::Redactor redact(c.conninfo);
    EXPECT_EQ(redact(c.text), c.want) << c.conninfo;
  }
}

TEST(SqlStateTest, MapsToTheMostSpecificCode) {
  struct Case {
    const char* sqlstate;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"40001", absl::StatusCode::kAborted},
      {"40P01", absl::StatusCode::kAborted},
      {"23505", absl::StatusCode::kAlreadyExists},
      {"23503", absl::StatusCode::kFailedPrecondition},
      {"23514", absl::StatusCode::kFailedPrecondition},
      {"25006", absl::StatusCode::kFailedPrecondition},
      {"57014", absl::StatusCode::kDeadlineExceeded},
      {"57P01", absl::StatusCode::kUnavailable},
      {"08006", absl::StatusCode::kUnavailable},
      {"53300", absl::StatusCode::kUnavailable},
      {"55P03", absl::StatusCode::kUnavailable},
      {"53100", absl::StatusCode::kUnavailable},
      {"58030", absl::StatusCode::kUnavailable},
      {"53200", absl::StatusCode::kResourceExhausted},
      {"22021", absl::StatusCode::kInvalidArgument},
      {"42P01", absl::StatusCode::kInternal},
      {"XX000", absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(postgres_internal::CodeForSqlState(c.sqlstate), c.code) << c.sqlstate;
  }
  EXPECT_TRUE(postgres_internal::IsRetryableSqlState("40001"));
  EXPECT_TRUE(postgres_internal::IsRetryableSqlState("40P01"));
  EXPECT_FALSE(postgres_internal::IsRetryableSqlState("23505"));
  EXPECT_TRUE(postgres_internal::IsConnectionSqlState("57P01"));
  EXPECT_FALSE(postgres_internal::IsConnectionSqlState("57014"));
}

}  // namespace
}  // namespace okr::storage
