// OkrCore's standard methods on teams and cycles (update, delete with and without force),
// GetCheckIn, and filtered / ordered listings, against a real SQLite file.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/okr_core.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kEnd = kStart + absl::Hours(24 * 100);

class StandardMethodsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    core_ = std::make_unique<OkrCore>(*store_, clock_);
    ASSERT_TRUE(MakeTeam("company", "").ok());
    ASSERT_TRUE(MakeTeam("payments", "company").ok());
    ASSERT_TRUE(MakeTeam("cards", "payments").ok());
    ASSERT_TRUE(MakeTeam("search", "company").ok());
    ASSERT_TRUE(MakeCycle("q4").ok());
    ASSERT_TRUE(MakeCycle("q1").ok());
  }

  absl::StatusOr<Team> MakeTeam(const std::string& id, const std::string& parent) {
    Team t;
    t.id = id;
    t.display_name = "Team " + id;
    t.parent_id = parent;
    return core_->CreateTeam(t, "");
  }
  absl::StatusOr<Cycle> MakeCycle(const std::string& id) {
    Cycle c;
    c.id = id;
    c.display_name = "Cycle " + id;
    c.start_time = kStart;
    c.end_time = kEnd;
    return core_->CreateCycle(c, "");
  }
  absl::StatusOr<Objective> MakeObjective(const std::string& id, const std::string& team,
                                          const std::string& cycle = "q4",
                                          const std::string& parent = "") {
    Objective o;
    o.id = id;
    o.title = "Objective " + id;
    o.team_id = team;
    o.cycle_id = cycle;
    o.parent_id = parent;
    return core_->CreateObjective(o, "");
  }
  // A metric key result 0 -> 100 at `value` (progress value / 100).
  absl::StatusOr<KeyResult> MakeMetric(const std::string& objective, const std::string& id,
                                       double value) {
    KeyResult kr;
    kr.objective_id = objective;
    kr.id = id;
    kr.title = "Metric " + id;
    kr.type = KeyResultType::kMetric;
    kr.metric = {0, 100, value, "%"};
    return core_->CreateKeyResult(kr, "");
  }

  std::vector<std::string> KeyResultIds(const std::string& objective, const ListQuery& q,
                                        int32_t page_size = 0) {
    std::vector<std::string> ids;
    PageRequest page{page_size, ""};
    while (true) {
      absl::StatusOr<ListResult<KeyResult>> got = core_->ListKeyResults(objective, page, q);
      EXPECT_TRUE(got.ok()) << got.status();
      if (!got.ok()) return ids;
      for (const KeyResult& kr : got->items) ids.push_back(kr.objective_id + "/" + kr.id);
      if (got->next_page_token.empty()) return ids;
      page.page_token = got->next_page_token;
    }
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + absl::Hours(24 * 50)};  // expected progress 0.5
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<OkrCore> core_;
};

TEST_F(StandardMethodsTest, UpdateTeam_RenamesAndMoves_StaleEtagIsAborted) {
  Team before = *core_->GetTeam("cards");
  Team patch;
  patch.id = "cards";
  patch.display_name = "Cards & Wallets";
  patch.parent_id = "search";
  absl::StatusOr<Team> updated =
      core_->UpdateTeam(patch, {"display_name", "parent"}, FormatEtag(before.meta.revision));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name, "Cards & Wallets");
  EXPECT_EQ(updated->parent_id, "search");
  EXPECT_EQ(updated->meta.revision, before.meta.revision + 1);
  // The old etag is stale now.
  absl::StatusOr<Team> stale =
      core_->UpdateTeam(patch, {"display_name"}, FormatEtag(before.meta.revision));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("team.etag"));
}

TEST_F(StandardMethodsTest, UpdateTeam_RejectsLoopsMissingParentAndUnknownPaths) {
  Team patch;
  patch.id = "payments";
  patch.parent_id = "cards";  // its own sub-team
  absl::StatusOr<Team> loop = core_->UpdateTeam(patch, {"parent"}, "");
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loop.status().message(),
              HasSubstr("team.parent: teams/cards is below teams/payments"));
  patch.parent_id = "payments";
  EXPECT_THAT(core_->UpdateTeam(patch, {"parent"}, "").status().message(),
              HasSubstr("team.parent must not be the team itself"));
  patch.parent_id = "ghost";
  absl::StatusOr<Team> missing = core_->UpdateTeam(patch, {"parent"}, "");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("team.parent"));
  EXPECT_THAT(core_->UpdateTeam(patch, {"name"}, "").status().message(),
              HasSubstr("update_mask: field \"name\" cannot be updated on a team"));
  patch.display_name = "";
  EXPECT_THAT(core_->UpdateTeam(patch, {"display_name"}, "").status().message(),
              HasSubstr("team.display_name"));
}

TEST_F(StandardMethodsTest, DeleteTeam_RefusedWhileUsed_ForceDeletesObjectivesAndMovesSubTeams) {
  ASSERT_TRUE(MakeObjective("pay-o", "payments").ok());
  ASSERT_TRUE(MakeObjective("cards-o", "cards", "q4", "pay-o").ok());
  ASSERT_TRUE(MakeMetric("pay-o", "kr", 10).ok());
  absl::Status refused = core_->DeleteTeam("payments", "", /*force=*/false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("objectives/pay-o"));
  EXPECT_EQ(core_->DeleteTeam("payments", "r99", true).code(), absl::StatusCode::kAborted);

  ASSERT_TRUE(core_->DeleteTeam("payments", "", /*force=*/true).ok());
  EXPECT_EQ(core_->GetTeam("payments").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->GetObjective("pay-o").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->GetKeyResult("pay-o", "kr").status().code(), absl::StatusCode::kNotFound);
  // The sub-team moved up to the deleted team's parent and kept its objective.
  EXPECT_EQ(core_->GetTeam("cards")->parent_id, "company");
  absl::StatusOr<Objective> kept = core_->GetObjective("cards-o");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->parent_id, "");
}

TEST_F(StandardMethodsTest, DeleteTeam_WithOnlySubTeams_IsRefusedNamingOne) {
  absl::Status refused = core_->DeleteTeam("company", "", false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("teams/payments"));
  ASSERT_TRUE(core_->DeleteTeam("company", "", true).ok());
  EXPECT_EQ(core_->GetTeam("payments")->parent_id, "");
  EXPECT_EQ(core_->GetTeam("search")->parent_id, "");
  ASSERT_TRUE(core_->DeleteTeam("search", "", false).ok());
}

TEST_F(StandardMethodsTest, UpdateCycle_MovesExpectedProgressAtOnce_ValidatedLikeCreate) {
  ASSERT_TRUE(MakeObjective("o", "payments").ok());
  EXPECT_DOUBLE_EQ(core_->GetObjective("o")->expected_progress, 0.5);
  Cycle c = *core_->GetCycle("q4");
  Cycle patch;
  patch.id = "q4";
  patch.display_name = "2026 Q4 (extended)";
  patch.end_time = kStart + absl::Hours(24 * 200);
  absl::StatusOr<Cycle> updated =
      core_->UpdateCycle(patch, {"display_name", "end_time"}, FormatEtag(c.meta.revision));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name, "2026 Q4 (extended)");
  EXPECT_EQ(updated->start_time, kStart);
  EXPECT_DOUBLE_EQ(core_->GetObjective("o")->expected_progress, 0.25);
  EXPECT_EQ(
      core_->UpdateCycle(patch, {"display_name"}, FormatEtag(c.meta.revision)).status().code(),
      absl::StatusCode::kAborted);
  patch.end_time = kStart - absl::Hours(1);
  absl::StatusOr<Cycle> invalid = core_->UpdateCycle(patch, {"end_time"}, "");
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("cycle.end_time must be after"));
}

TEST_F(StandardMethodsTest, DeleteCycle_RefusedWhileUsed_ForceDeletesItsObjectives) {
  ASSERT_TRUE(MakeObjective("o4", "payments", "q4").ok());
  ASSERT_TRUE(MakeObjective("o1", "payments", "q1").ok());
  absl::Status refused = core_->DeleteCycle("q4", "", false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("objectives/o4"));
  ASSERT_TRUE(core_->DeleteCycle("q4", "", true).ok());
  EXPECT_EQ(core_->GetCycle("q4").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->GetObjective("o4").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_->GetObjective("o1").ok());
}

TEST_F(StandardMethodsTest, GetCheckIn_ReturnsTheRecordedCheckIn) {
  ASSERT_TRUE(MakeObjective("o", "payments").ok());
  ASSERT_TRUE(MakeMetric("o", "kr", 0).ok());
  CheckIn c;
  c.objective_id = "o";
  c.key_result_id = "kr";
  c.value = 42;
  c.note = "halfway-ish";
  absl::StatusOr<CheckIn> created = core_->CreateCheckIn(c, "");
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<CheckIn> got = core_->GetCheckIn("o", "kr", created->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got->value, 42);
  EXPECT_EQ(got->note, "halfway-ish");
  EXPECT_EQ(core_->GetCheckIn("o", "kr", "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StandardMethodsTest, ListKeyResults_AcrossObjectives_FilteredAndOrdered) {
  // Expected progress is 0.5: 0.45 ON_TRACK, 0.3 and 0.35 AT_RISK, 0.1 OFF_TRACK.
  ASSERT_TRUE(MakeObjective("pay", "payments").ok());
  ASSERT_TRUE(MakeObjective("pay2", "payments").ok());
  ASSERT_TRUE(MakeObjective("find", "search").ok());
  ASSERT_TRUE(MakeMetric("pay", "a", 45).ok());
  ASSERT_TRUE(MakeMetric("pay", "b", 30).ok());
  ASSERT_TRUE(MakeMetric("pay2", "c", 35).ok());
  ASSERT_TRUE(MakeMetric("pay2", "d", 10).ok());
  ASSERT_TRUE(MakeMetric("find", "e", 30).ok());

  EXPECT_THAT(KeyResultIds(kAnyObjective, {}),
              ElementsAre("pay/a", "pay/b", "pay2/c", "pay2/d", "find/e"));
  EXPECT_THAT(KeyResultIds(kAnyObjective, {"health = AT_RISK AND team = \"teams/payments\"", ""}),
              ElementsAre("pay/b", "pay2/c"));
  EXPECT_THAT(KeyResultIds(kAnyObjective,
                           {"health = AT_RISK AND team = \"teams/payments\"", "progress desc"}),
              ElementsAre("pay2/c", "pay/b"));
  EXPECT_THAT(KeyResultIds(kAnyObjective, {"health != AT_RISK", "progress"}),
              ElementsAre("pay2/d", "pay/a"));
  EXPECT_THAT(KeyResultIds(kAnyObjective, {"objective.state = DRAFT", "progress desc"}, 2),
              ElementsAre("pay/a", "pay2/c", "pay/b", "find/e", "pay2/d"));
  EXPECT_THAT(KeyResultIds("pay2", {"", "progress"}), ElementsAre("pay2/d", "pay2/c"));
  EXPECT_THAT(KeyResultIds(kAnyObjective, {"cycle = \"cycles/q1\"", ""}), IsEmpty());

  absl::StatusOr<ListResult<KeyResult>> bad =
      core_->ListKeyResults(kAnyObjective, {}, {"progress > 0.5", ""});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("filter: "));
  bad = core_->ListKeyResults(kAnyObjective, {}, {"", "title"});
  EXPECT_THAT(bad.status().message(), HasSubstr("order_by: "));
  // A token belongs to its query.
  absl::StatusOr<ListResult<KeyResult>> first =
      core_->ListKeyResults(kAnyObjective, {1, ""}, {"health = AT_RISK", ""});
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token.empty());
  bad = core_->ListKeyResults(kAnyObjective, {1, first->next_page_token}, {"", ""});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("page_token"));
  // Neither garbage nor a keyset token of an unfiltered listing is an offset token.
  bad = core_->ListKeyResults(kAnyObjective, {1, "garbage"}, {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ListResult<KeyResult>> keyset = core_->ListKeyResults("pay", {1, ""}, {});
  ASSERT_TRUE(keyset.ok());
  ASSERT_FALSE(keyset->next_page_token.empty());
  bad = core_->ListKeyResults("pay", {1, keyset->next_page_token}, {"", "progress"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("page_token is invalid"));
  EXPECT_EQ(core_->ListKeyResults(kAnyObjective, {-1, ""}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StandardMethodsTest, ListObjectives_FilterOnHealthTeamStateAndOrderByProgress) {
  ASSERT_TRUE(MakeObjective("pay", "payments").ok());
  ASSERT_TRUE(MakeObjective("find", "search").ok());
  ASSERT_TRUE(MakeObjective("later", "search", "q1").ok());
  ASSERT_TRUE(MakeMetric("pay", "a", 45).ok());
  ASSERT_TRUE(MakeMetric("find", "b", 30).ok());
  ASSERT_TRUE(MakeMetric("later", "c", 60).ok());
  auto ids = [&](const ListQuery& q) {
    std::vector<std::string> out;
    absl::StatusOr<ListResult<Objective>> got =
        core_->ListObjectives(storage::ObjectiveFilter{}, {}, q);
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) {
      for (const Objective& o : got->items) out.push_back(o.id);
    }
    return out;
  };
  EXPECT_THAT(ids({"team = \"teams/search\"", ""}), ElementsAre("find", "later"));
  EXPECT_THAT(ids({"health = AT_RISK", ""}), ElementsAre("find"));
  EXPECT_THAT(ids({"state = DRAFT", "progress desc"}), ElementsAre("later", "pay", "find"));
  EXPECT_THAT(ids({"state = AGREED", ""}), IsEmpty());
  absl::StatusOr<ListResult<Objective>> bad =
      core_->ListObjectives(storage::ObjectiveFilter{}, {}, {"objective.state = DRAFT", ""});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("filter: unknown field \"objective.state\""));
}

}  // namespace
}  // namespace okr::core
