// Unit tests of the shared SQL layer's pieces that the conformance suites only see
// indirectly: the statements generated from the entity tables, the PostgreSQL
// placeholder rewrite, and the cycle cache's epochs.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/storage/postgres/postgres_driver.h"
#include "service/storage/sql/codec.h"
#include "service/storage/sql/cycle_cache.h"

namespace okr::storage::sql {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(EntityTest, SelectListStartsWithSeqAndFollowsTheTable) {
  EXPECT_EQ(Teams().select_list(),
            "seq, id, display_name, parent_id, revision, create_time, update_time, "
            "tracker_projects, tracker_issue_types");
  EXPECT_EQ(WorkItems().select_list(),
            "tracker, item_key, title, url, done, weight, update_time, external_id, "
            "source_updated, partial_credit, status, exclusion");
}

TEST(EntityTest, InsertWithoutGuard_BindsEveryColumnInOrder) {
  EXPECT_EQ(Cycles().Insert("", "ON CONFLICT DO NOTHING"),
            "INSERT INTO cycles (id, display_name, start_time, end_time, revision, create_time, "
            "update_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING");
}

TEST(EntityTest, InsertWithGuard_CastsEveryParameter) {
  EXPECT_EQ(Teams().Insert("CAST(?3 AS TEXT) IS NULL", "ON CONFLICT DO NOTHING"),
            "INSERT INTO teams (id, display_name, parent_id, revision, create_time, update_time, "
            "tracker_projects, tracker_issue_types) SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), "
            "CAST(?3 AS TEXT), CAST(?4 AS BIGINT), CAST(?5 AS BIGINT), CAST(?6 AS BIGINT), "
            "CAST(?7 AS TEXT), CAST(?8 AS TEXT) WHERE CAST(?3 AS TEXT) IS NULL ON CONFLICT DO "
            "NOTHING");
}

TEST(EntityTest, Update_SetsAllButTheKey) {
  EXPECT_EQ(Teams().Update(1, "revision = " + Teams().Param(1)),
            "UPDATE teams SET display_name = ?2, parent_id = ?3, revision = ?4, create_time = ?5, "
            "update_time = ?6, tracker_projects = ?7, tracker_issue_types = ?8 WHERE id = ?1 AND "
            "revision = ?9");
}

TEST(EntityTest, Param_NumbersArgumentsAfterTheColumns) {
  EXPECT_EQ(Teams().Param(1), absl::StrCat("?", Teams().size() + 1));
  EXPECT_EQ(KeyResults().Param(2), absl::StrCat("?", KeyResults().size() + 2));
}

TEST(EntityTest, NarrowUpdate_MatchesUnchangedColumnsInsteadOfSettingThem) {
  const std::string sql =
      Objectives().Update(1, "revision = ?23", {"team_id", "cycle_id", "parent_id"});
  EXPECT_THAT(sql, HasSubstr("WHERE id = ?1 AND team_id IS ?4 AND cycle_id IS ?5 AND "
                             "parent_id IS ?6 AND revision = ?23"));
  EXPECT_THAT(sql, Not(HasSubstr("team_id = ?4")));
  EXPECT_THAT(sql, HasSubstr("outcome = ?22"));
}

TEST(PostgresPlaceholdersTest, RewritesNumberedPlaceholdersOutsideQuotes) {
  EXPECT_EQ(postgres_internal::PostgresPlaceholders(
                "SELECT ?1, '?2', \"?3\" FROM t WHERE a = ?12 AND b ? 'x'"),
            "SELECT $1, '?2', \"?3\" FROM t WHERE a = $12 AND b ? 'x'");
}

Cycle MakeCycle(const std::string& id) {
  Cycle c;
  c.id = id;
  return c;
}

TEST(CycleCacheTest, ServesOnlyTheEpochAnEntryWasReadUnder) {
  CycleCache cache;
  cache.Put(MakeCycle("q1"), 3);
  EXPECT_TRUE(cache.Find("q1", 3).has_value());
  EXPECT_FALSE(cache.Find("q1", 2).has_value());
  cache.Put(MakeCycle("q2"), 4);  // a newer epoch empties the cache
  EXPECT_FALSE(cache.Find("q1", 4).has_value());
  EXPECT_TRUE(cache.Find("q2", 4).has_value());
}

TEST(CycleCacheTest, ChangingCycleIsNeitherServedNorCachedUntilTheBatchEnds) {
  CycleCache cache;
  const int64_t before = cache.epoch();
  cache.Put(MakeCycle("q1"), before);
  cache.BeginChange("q1");
  const int64_t during = cache.epoch();
  EXPECT_NE(during, before);
  cache.Put(MakeCycle("q1"), during);
  EXPECT_FALSE(cache.Find("q1", during).has_value());
  cache.EndChanges();
  const int64_t after = cache.epoch();
  EXPECT_FALSE(cache.Find("q1", during).has_value());
  cache.Put(MakeCycle("q1"), after);
  EXPECT_TRUE(cache.Find("q1", after).has_value());
}

TEST(ObjectiveCacheTest, ChangeAllKeepsEveryRowOutUntilTheBatchEnds) {
  ObjectiveCache cache;
  Objective parent;
  parent.id = "parent";
  Objective child;
  child.id = "child";
  child.parent_id = "parent";
  const int64_t before = cache.epoch();
  cache.Put(parent, before);
  cache.Put(child, before);
  ASSERT_TRUE(cache.Find("child", before).has_value());
  cache.BeginChangeAll();  // e.g. deleting `parent` clears the child's parent_id
  const int64_t during = cache.epoch();
  EXPECT_FALSE(cache.Find("child", before).has_value());
  cache.Put(child, during);
  EXPECT_FALSE(cache.Find("child", during).has_value());
  EXPECT_EQ(cache.size(), 0u);
  cache.EndChanges();
  const int64_t after = cache.epoch();
  EXPECT_NE(after, during);
  child.parent_id.clear();
  cache.Put(child, after);
  ASSERT_TRUE(cache.Find("child", after).has_value());
  EXPECT_EQ(cache.Find("child", after)->parent_id, "");
}

TEST(ObjectiveCacheTest, AReadThatStartedBeforeAChangeIsNotCached) {
  ObjectiveCache cache;
  Objective o;
  o.id = "o";
  const int64_t reader = cache.epoch();  // a reader takes its epoch, then its snapshot
  cache.BeginChange("o");                // a writer changes the row and commits
  cache.EndChanges();
  cache.Put(o, reader);  // the reader's (possibly old) row
  EXPECT_FALSE(cache.Find("o", cache.epoch()).has_value());
}

}  // namespace
}  // namespace okr::storage::sql
