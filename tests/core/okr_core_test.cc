// Use-case tests of OkrCore against a real SQLite file and a fake clock.
#include "service/core/okr_core.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kCycleStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kCycleEnd = kCycleStart + absl::Hours(24 * 90);

class OkrCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    core_ = std::make_unique<OkrCore>(*store_, clock_);

    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Team web;
    web.id = "web";
    web.display_name = "Web";
    web.parent_id = "checkout";
    ASSERT_TRUE(core_->CreateTeam(web, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kCycleStart;
    cycle.end_time = kCycleEnd;
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    objective_ = *CreateObjective("o1", "");
  }

  // A parent must be an objective of an ancestor team (alignment.h ValidateParent).
  absl::StatusOr<Objective> CreateObjective(const std::string& id, const std::string& parent,
                                            const std::string& team = "checkout") {
    Objective o;
    o.id = id;
    o.title = "Delight customers at checkout";
    o.team_id = team;
    o.cycle_id = "q4";
    o.parent_id = parent;
    return core_->CreateObjective(o, "");
  }

  absl::StatusOr<KeyResult> CreateMetric(const std::string& id, double start, double target,
                                         double weight = 1) {
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = id;
    kr.title = "Raise NPS";
    kr.weight = weight;
    kr.type = KeyResultType::kMetric;
    kr.metric = {start, target, start, "pts"};
    return core_->CreateKeyResult(kr, "");
  }

  absl::StatusOr<KeyResult> CreateWorkItems(const std::string& id) {
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = id;
    kr.title = "Ship the checkout epics";
    kr.type = KeyResultType::kWorkItems;
    return core_->CreateKeyResult(kr, "");
  }

  absl::StatusOr<CheckIn> CheckInValue(const std::string& kr, double value) {
    CheckIn c;
    c.objective_id = "o1";
    c.key_result_id = kr;
    c.value = value;
    c.author = "ana";
    return core_->CreateCheckIn(c, "");
  }

  WorkItem Jira(const std::string& key, bool done = false, double weight = 1) {
    WorkItem item;
    item.tracker = Tracker::kJira;
    item.key = key;
    item.done = done;
    item.weight = weight;
    return item;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kCycleStart + absl::Hours(24 * 45)};  // half-way
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<OkrCore> core_;
  Objective objective_;
};

TEST_F(OkrCoreTest, CheckIn_MovesMetricKeyResultAndObjectiveProgress) {
  ASSERT_TRUE(CreateMetric("nps", 30, 50).ok());
  ASSERT_TRUE(CheckInValue("nps", 40).ok());

  KeyResult kr = *core_->GetKeyResult("o1", "nps");
  EXPECT_DOUBLE_EQ(kr.progress, 0.5);
  EXPECT_DOUBLE_EQ(kr.metric.current_value, 40);
  EXPECT_DOUBLE_EQ(kr.expected_progress, 0.5);
  EXPECT_EQ(kr.health, Health::kOnTrack);
  Objective o = *core_->GetObjective("o1");
  EXPECT_DOUBLE_EQ(o.progress, 0.5);
  EXPECT_EQ(o.health, Health::kOnTrack);
}

TEST_F(OkrCoreTest, ObjectiveProgress_IsWeightedMeanOfKeyResults) {
  ASSERT_TRUE(CreateMetric("a", 0, 10, /*weight=*/1).ok());
  ASSERT_TRUE(CreateMetric("b", 0, 10, /*weight=*/3).ok());
  ASSERT_TRUE(CheckInValue("a", 10).ok());  // 1.0
  ASSERT_TRUE(CheckInValue("b", 2).ok());   // 0.2
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, (1.0 * 1 + 0.2 * 3) / 4);
}

TEST_F(OkrCoreTest, DecreaseTargetAndOvershootAreReported) {
  ASSERT_TRUE(CreateMetric("churn", 8, 5).ok());
  ASSERT_TRUE(CheckInValue("churn", 4).ok());
  KeyResult kr = *core_->GetKeyResult("o1", "churn");
  EXPECT_DOUBLE_EQ(kr.progress, 1);
  EXPECT_DOUBLE_EQ(kr.raw_progress, 4.0 / 3.0);
}

TEST_F(OkrCoreTest, Health_FollowsClock) {
  ASSERT_TRUE(CreateMetric("nps", 0, 100).ok());
  ASSERT_TRUE(CheckInValue("nps", 30).ok());  // expected 0.5 -> 0.3 is at risk
  EXPECT_EQ(core_->GetKeyResult("o1", "nps")->health, Health::kAtRisk);
  clock_.Set(kCycleEnd);  // expected 1.0 -> off track
  EXPECT_EQ(core_->GetKeyResult("o1", "nps")->health, Health::kOffTrack);
  clock_.Set(kCycleStart - absl::Hours(1));
  EXPECT_EQ(core_->GetObjective("o1")->health, Health::kNotStarted);
}

TEST_F(OkrCoreTest, WorkItems_LinkCloseReopenAndUnlinkMoveProgress) {
  ASSERT_TRUE(CreateWorkItems("epics").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-1", false, 3), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-2", false, 1), "").ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0);

  WorkItem close = Jira("OKRX-1", true);
  ASSERT_TRUE(core_->UpdateWorkItem(close, {"done"}).ok());
  KeyResult kr = *core_->GetKeyResult("o1", "epics");
  EXPECT_DOUBLE_EQ(kr.progress, 0.75);
  EXPECT_EQ(kr.totals.item_count, 2);
  EXPECT_EQ(kr.totals.done_count, 1);
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 0.75);

  close.done = false;
  ASSERT_TRUE(core_->UpdateWorkItem(close, {"done"}).ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0);

  ASSERT_TRUE(core_->UpdateWorkItem(Jira("OKRX-2", true), {"done"}).ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0.25);
  ASSERT_TRUE(core_->UnlinkWorkItemByKey("o1", "epics", Tracker::kJira, "OKRX-1").ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 1);
}

TEST_F(OkrCoreTest, WorkItemWeightChange_MovesProgress) {
  ASSERT_TRUE(CreateWorkItems("epics").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-1", true, 1), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-2", false, 1), "").ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0.5);
  ASSERT_TRUE(core_->UpdateWorkItem(Jira("OKRX-2", false, 3), {"weight"}).ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0.25);
}

TEST_F(OkrCoreTest, OneItemServingTwoKeyResults_UpdatesBoth) {
  ASSERT_TRUE(CreateWorkItems("a").ok());
  ASSERT_TRUE(CreateWorkItems("b").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "a", Jira("OKRX-9"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "b", Jira("OKRX-9"), "").ok());
  ASSERT_TRUE(core_->UpdateWorkItem(Jira("OKRX-9", true), {"done"}).ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "a")->progress, 1);
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "b")->progress, 1);

  auto targets = core_->FindWorkItemLinks(Tracker::kJira, "OKRX-9");
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_THAT(*targets, SizeIs(2));
  EXPECT_EQ((*targets)[0].key_result.id, "a");
  EXPECT_EQ((*targets)[0].objective.id, "o1");
  EXPECT_DOUBLE_EQ((*targets)[0].objective.progress, 1);
  EXPECT_TRUE((*targets)[0].link.item.done);
  EXPECT_THAT(*core_->FindWorkItemLinks(Tracker::kGitLab, "a/b#1"), SizeIs(0));
}

TEST_F(OkrCoreTest, LinkingTheSameItemTwice_IsAlreadyExists) {
  ASSERT_TRUE(CreateWorkItems("a").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "a", Jira("OKRX-9"), "").ok());
  auto again = core_->LinkWorkItem("o1", "a", Jira("OKRX-9"), "");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("OKRX-9"));
}

TEST_F(OkrCoreTest, UpdateWorkItem_UnknownItemIsNotFound) {
  EXPECT_EQ(core_->UpdateWorkItem(Jira("OKRX-404", true), {"done"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OkrCoreTest, StaleEtag_IsAborted) {
  Objective patch;
  patch.id = "o1";
  patch.title = "New title";
  auto updated = core_->UpdateObjective(patch, {"title"}, FormatEtag(objective_.meta.revision));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->title, "New title");
  auto stale = core_->UpdateObjective(patch, {"title"}, FormatEtag(objective_.meta.revision));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("etag"));
}

TEST_F(OkrCoreTest, CheckIn_ChangesObjectiveEtag) {
  ASSERT_TRUE(CreateMetric("nps", 0, 10).ok());
  std::string before = FormatEtag(core_->GetObjective("o1")->meta.revision);
  ASSERT_TRUE(CheckInValue("nps", 5).ok());
  EXPECT_NE(FormatEtag(core_->GetObjective("o1")->meta.revision), before);
}

TEST_F(OkrCoreTest, MissingResources_AreNotFound) {
  EXPECT_EQ(core_->GetObjective("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->GetKeyResult("o1", "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_->GetTeam("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CheckInValue("nope", 1).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(OkrCoreTest, ReferenceToMissingTeamOrParent_IsInvalidArgumentNamingField) {
  Objective o;
  o.title = "x";
  o.team_id = "ghost";
  o.cycle_id = "q4";
  auto created = core_->CreateObjective(o, "");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("objective.team"));
  auto orphan = CreateObjective("o2", "ghost");
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(orphan.status().message(), HasSubstr("objective.parent"));
}

TEST_F(OkrCoreTest, ParentLoop_IsRejected) {
  // checkout > web > mobile. o3 depends on o1; o1 needs o2 (its child), so making o2 the
  // parent of o3 would close the loop o1 -> o2 -> o3 -> o1.
  Team mobile;
  mobile.id = "mobile";
  mobile.display_name = "Mobile";
  mobile.parent_id = "web";
  ASSERT_TRUE(core_->CreateTeam(mobile, "").ok());
  ASSERT_TRUE(CreateObjective("o2", "o1", "web").ok());
  Objective o3;
  o3.id = "o3";
  o3.title = "Checkout in the app";
  o3.team_id = "mobile";
  o3.cycle_id = "q4";
  o3.depends_on = {"o1"};
  ASSERT_TRUE(core_->CreateObjective(o3, "").ok());
  Objective patch;
  patch.id = "o3";
  patch.parent_id = "o2";
  auto looped = core_->UpdateObjective(patch, {"parent"}, "");
  EXPECT_EQ(looped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(looped.status().message(), HasSubstr("objective.parent"));
  EXPECT_THAT(looped.status().message(), HasSubstr("loop"));
  EXPECT_EQ(core_->GetObjective("o3")->parent_id, "");
}

TEST_F(OkrCoreTest, DeleteObjectiveWithKeyResults_NeedsForce) {
  ASSERT_TRUE(CreateMetric("nps", 0, 10).ok());
  absl::Status s = core_->DeleteObjective("o1", "", false);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("force"));
  EXPECT_TRUE(core_->DeleteObjective("o1", "", true).ok());
  EXPECT_EQ(core_->GetKeyResult("o1", "nps").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(OkrCoreTest, DeleteKeyResult_RecomputesObjective) {
  ASSERT_TRUE(CreateMetric("a", 0, 10).ok());
  ASSERT_TRUE(CreateMetric("b", 0, 10).ok());
  ASSERT_TRUE(CheckInValue("a", 10).ok());
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 0.5);
  ASSERT_TRUE(core_->DeleteKeyResult("o1", "b", "").ok());
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 1);
}

TEST_F(OkrCoreTest, RequestId_MakesCreateIdempotent) {
  CheckIn c;
  c.objective_id = "o1";
  c.key_result_id = "nps";
  c.value = 5;
  ASSERT_TRUE(CreateMetric("nps", 0, 10).ok());
  auto first = core_->CreateCheckIn(c, "req-1");
  auto second = core_->CreateCheckIn(c, "req-1");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->id, second->id);
  EXPECT_THAT(core_->ListCheckIns("o1", "nps", {})->items, SizeIs(1));
}

TEST_F(OkrCoreTest, CheckIns_AreKeptInOrder) {
  ASSERT_TRUE(CreateMetric("nps", 0, 10).ok());
  for (int v : {1, 4, 2, 9}) {
    ASSERT_TRUE(CheckInValue("nps", v).ok());
    clock_.Advance(absl::Minutes(1));
  }
  auto list = core_->ListCheckIns("o1", "nps", {});
  ASSERT_TRUE(list.ok());
  ASSERT_THAT(list->items, SizeIs(4));
  EXPECT_EQ(*list->items[0].value, 1);
  EXPECT_EQ(*list->items[3].value, 9);
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "nps")->progress, 0.9);
}

TEST_F(OkrCoreTest, Paging_WalksAllObjectivesWithOpaqueTokens) {
  for (int i = 2; i <= 7; ++i) ASSERT_TRUE(CreateObjective("o" + std::to_string(i), "").ok());
  PageRequest page{4, ""};
  auto first = core_->ListObjectives({}, page);
  ASSERT_TRUE(first.ok());
  ASSERT_THAT(first->items, SizeIs(4));
  ASSERT_FALSE(first->next_page_token.empty());
  page.page_token = first->next_page_token;
  auto second = core_->ListObjectives({}, page);
  ASSERT_TRUE(second.ok());
  ASSERT_THAT(second->items, SizeIs(3));
  EXPECT_EQ(second->items.back().id, "o7");
  EXPECT_TRUE(second->next_page_token.empty());
}

TEST_F(OkrCoreTest, NegativePageSizeAndBadToken_AreInvalidArgument) {
  auto negative = core_->ListObjectives({}, PageRequest{-1, ""});
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().message(), HasSubstr("page_size"));
  auto bad = core_->ListObjectives({}, PageRequest{0, "garbage!"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("page_token"));
}

TEST_F(OkrCoreTest, ListObjectives_FiltersByParent) {
  ASSERT_TRUE(CreateObjective("child-a", "o1", "web").ok());
  ASSERT_TRUE(CreateObjective("child-b", "o1", "web").ok());
  ASSERT_TRUE(CreateObjective("other", "").ok());
  storage::ObjectiveFilter filter;
  filter.parent_id = "o1";
  auto list = core_->ListObjectives(filter, {});
  ASSERT_TRUE(list.ok());
  ASSERT_THAT(list->items, SizeIs(2));
  EXPECT_EQ(list->items[0].id, "child-a");
}

TEST_F(OkrCoreTest, UpdateKeyResult_CannotChangeKind) {
  ASSERT_TRUE(CreateMetric("nps", 0, 10).ok());
  KeyResult patch;
  patch.objective_id = "o1";
  patch.id = "nps";
  patch.milestone_done = true;
  auto s = core_->UpdateKeyResult(patch, {"milestone.done"}, "");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  patch.metric.target_value = 20;
  auto ok = core_->UpdateKeyResult(patch, {"metric.target_value"}, "");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_DOUBLE_EQ(ok->metric.target_value, 20);
}

TEST_F(OkrCoreTest, Milestone_CheckInMarksDone) {
  KeyResult kr;
  kr.objective_id = "o1";
  kr.id = "launch";
  kr.title = "Launch one-click checkout";
  kr.type = KeyResultType::kMilestone;
  ASSERT_TRUE(core_->CreateKeyResult(kr, "").ok());
  ASSERT_TRUE(CheckInValue("launch", 1).ok());
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "launch")->progress, 1);
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 1);
}

}  // namespace
}  // namespace okr::core
