// The tracker-keyed fields of teams (project per tracker) and key results (scope per
// tracker): the JSON codec both stores use, and migration 6, which moves the old
// per-tracker columns of an existing database file into them without losing a value.
#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/storage/tracker_fields_codec.h"
#include "tests/testing/temp_dir.h"

namespace okr::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(TrackerFieldsCodecTest, Scopes_RoundTripEveryFieldAndEncodeCanonically) {
  std::map<Tracker, TrackerScope> scopes;
  scopes[Tracker::kJira].query = "project = \"OKRX\" AND labels = nps";
  scopes[Tracker::kGitLab] = {"", "acme/checkout", {"nps", "q\"4"}, "2026-Q4"};
  const std::string text = EncodeTrackerScopes(scopes);
  EXPECT_EQ(
      text,
      R"({"gitlab":{"labels":["nps","q\"4"],"milestone":"2026-Q4","project":"acme/checkout"},)"
      R"("jira":{"query":"project = \"OKRX\" AND labels = nps"}})");
  absl::StatusOr<std::map<Tracker, TrackerScope>> decoded = DecodeTrackerScopes(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, scopes);
}

TEST(TrackerFieldsCodecTest, EmptyValues_AreLeftOutAndDecodeToNoEntry) {
  std::map<Tracker, TrackerScope> scopes;
  scopes[Tracker::kJira] = {};
  EXPECT_EQ(EncodeTrackerScopes(scopes), "{}");
  EXPECT_EQ(EncodeTrackerProjects({{Tracker::kJira, ""}}), "{}");
  EXPECT_THAT(*DecodeTrackerScopes(""), IsEmpty());
  EXPECT_THAT(*DecodeTrackerProjects("{}"), IsEmpty());
}

TEST(TrackerFieldsCodecTest, UnknownTrackerSlug_IsDroppedAndGarbageIsInternal) {
  absl::StatusOr<std::map<Tracker, std::string>> projects =
      DecodeTrackerProjects(R"({"jira":"OKRX","linear":"ENG"})");
  ASSERT_TRUE(projects.ok());
  EXPECT_THAT(*projects,
              ElementsAre(std::pair<const Tracker, std::string>(Tracker::kJira, "OKRX")));
  EXPECT_EQ(DecodeTrackerProjects("[1]").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(DecodeTrackerScopes("{not json").status().code(), absl::StatusCode::kInternal);
}

int Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  sqlite3_close_v2(db);
  return rc;
}

// A database written before migration 6: the store's file with the new columns dropped,
// the values in the old per-tracker columns, and migration 6 not recorded.
TEST(TrackerFieldsMigrationTest, OldColumns_MoveIntoTheTrackerKeyedFieldsOnOpen) {
  testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.File("okr.db");
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)
                    ->RunInTransaction([](OkrTransaction& tx) -> absl::Status {
                      Team t;
                      t.id = "payments";
                      t.display_name = "Payments";
                      t.meta.revision = 1;
                      if (absl::Status s = tx.InsertTeam(t); !s.ok()) return s;
                      Cycle c;
                      c.id = "q4";
                      c.display_name = "Q4";
                      c.start_time = absl::FromUnixSeconds(1'700'000'000);
                      c.end_time = c.start_time + absl::Hours(24 * 90);
                      c.meta.revision = 1;
                      if (absl::Status s = tx.InsertCycle(c); !s.ok()) return s;
                      Objective o;
                      o.id = "o";
                      o.title = "Faster checkout";
                      o.team_id = "payments";
                      o.cycle_id = "q4";
                      o.meta.revision = 1;
                      if (absl::Status s = tx.InsertObjective(o); !s.ok()) return s;
                      for (const char* id : {"both", "jira", "none"}) {
                        KeyResult kr;
                        kr.objective_id = "o";
                        kr.id = id;
                        kr.title = id;
                        kr.type = KeyResultType::kWorkItems;
                        kr.meta.revision = 1;
                        if (absl::Status s = tx.InsertKeyResult(kr); !s.ok()) return s;
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }
  ASSERT_EQ(Exec(options.path,
                 "DROP INDEX key_results_scoped;"
                 "ALTER TABLE key_results DROP COLUMN tracker_scopes;"
                 "ALTER TABLE teams DROP COLUMN tracker_projects;"
                 "CREATE INDEX key_results_scoped ON key_results (type) "
                 "  WHERE jira_jql != '' OR gitlab_project != '';"
                 "UPDATE teams SET jira_project_key = 'PAY', gitlab_project = 'acme/payments';"
                 "UPDATE key_results SET jira_jql = 'project = PAY AND labels = \"a\\b\"', "
                 "  gitlab_project = 'acme/checkout', gitlab_labels = 'nps' || char(10) || "
                 "  'q\"4', gitlab_milestone = 'Q4' WHERE id = 'both';"
                 "UPDATE key_results SET jira_jql = 'project = PAY' WHERE id = 'jira';"
                 "DELETE FROM schema_migrations WHERE version = 6;"),
            SQLITE_OK);

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)
                  ->RunReadOnly([](OkrTransaction& tx) -> absl::Status {
                    absl::StatusOr<Team> team = tx.GetTeam("payments");
                    EXPECT_TRUE(team.ok()) << team.status();
                    if (!team.ok()) return team.status();
                    EXPECT_EQ(TeamProject(*team, Tracker::kJira), "PAY");
                    EXPECT_EQ(TeamProject(*team, Tracker::kGitLab), "acme/payments");

                    absl::StatusOr<KeyResult> both = tx.GetKeyResult("o", "both");
                    EXPECT_TRUE(both.ok()) << both.status();
                    if (!both.ok()) return both.status();
                    TrackerScope gitlab{"", "acme/checkout", {"nps", "q\"4"}, "Q4"};
                    TrackerScope jira{"project = PAY AND labels = \"a\\b\"", "", {}, ""};
                    EXPECT_EQ(both->scopes.at(Tracker::kGitLab), gitlab);
                    EXPECT_EQ(both->scopes.at(Tracker::kJira), jira);

                    absl::StatusOr<KeyResult> none = tx.GetKeyResult("o", "none");
                    EXPECT_TRUE(none.ok());
                    if (none.ok()) EXPECT_THAT(none->scopes, IsEmpty());

                    absl::StatusOr<std::vector<KeyResult>> scoped = tx.ScopedKeyResults();
                    EXPECT_TRUE(scoped.ok()) << scoped.status();
                    if (!scoped.ok()) return scoped.status();
                    std::vector<std::string> ids;
                    for (const KeyResult& kr : *scoped) ids.push_back(kr.id);
                    EXPECT_THAT(ids, ElementsAre("both", "jira"));
                    return absl::OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace okr::storage
