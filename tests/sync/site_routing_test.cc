// Several sites of one tracker: ownership by project, namespaced tracker ids, and routing
// of reconciliation reads, scope queries and write-backs to the owning site.
#include "service/sync/site_routing.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::sync {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

WorkItem Item(const std::string& key, const std::string& external_id = "") {
  WorkItem item;
  item.tracker = Tracker::kJira;
  item.key = key;
  item.external_id = external_id;
  return item;
}

// Named site "eu" owns project OPS; the default site owns everything else.
SiteMap TwoSites() {
  return SiteMap(
      {{"", nullptr}, {"eu", [](absl::string_view key) { return absl::StartsWith(key, "OPS-"); }}});
}

class RecordingSink final : public TrackerSink {
 public:
  absl::StatusOr<SyncOutcome> ApplyItem(const WorkItem& state,
                                        const std::string& delivery_id) override {
    applied.push_back(state);
    return SyncOutcome::kApplied;
  }
  absl::StatusOr<TrackerDeletion> RemoveItem(Tracker tracker, const std::string& external_id,
                                             const std::string& key,
                                             const std::string& delivery_id) override {
    removed.push_back(external_id);
    TrackerDeletion d;
    d.outcome = SyncOutcome::kApplied;
    return d;
  }
  std::vector<WorkItem> applied;
  std::vector<std::string> removed;
};

// A site's source: answers what it was asked with the ids it holds, records the requests.
class FakeSource final : public TrackerSource {
 public:
  using IdsByKey = std::map<std::string, std::string>;
  explicit FakeSource(IdsByKey ids_by_key) : ids_by_key_(std::move(ids_by_key)) {}
  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override {
    std::vector<WorkItem> out;
    for (const WorkItem& item : tracked) {
      asked.push_back(item);
      if (auto it = ids_by_key_.find(item.key); it != ids_by_key_.end()) {
        out.push_back(Item(item.key, it->second));
      }
    }
    return out;
  }
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override {
    asked.push_back(item);
    return true;
  }
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override {
    if (!scope_error.ok()) return scope_error;
    std::vector<WorkItem> out;
    for (const auto& [key, id] : ids_by_key_) out.push_back(Item(key, id));
    return std::optional<std::vector<WorkItem>>(out);
  }
  std::vector<WorkItem> asked;
  absl::Status scope_error;

 private:
  std::map<std::string, std::string> ids_by_key_;
};

class FakeWriter final : public TrackerWriter {
 public:
  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<std::string> Write(const WorkItem& item, const std::vector<ServedKeyResult>&,
                                    const std::string&) override {
    written.push_back(item);
    return std::string();
  }
  std::vector<WorkItem> written;
};

TEST(SiteMapTest, NamedSiteOwnsItsProjectsDefaultOwnsTheRest) {
  SiteMap sites = TwoSites();
  EXPECT_EQ(sites.OwnerOf("OPS-1"), 1u);
  EXPECT_EQ(sites.OwnerOf("OKRX-1"), 0u);
  SiteMap named_only({{"eu", [](absl::string_view key) { return absl::StartsWith(key, "OPS-"); }}});
  EXPECT_EQ(named_only.OwnerOf("OKRX-1"), std::nullopt);
}

TEST(SiteMapTest, NamedSiteIdsAreNamespacedDefaultIdsUnchanged) {
  SiteMap sites = TwoSites();
  EXPECT_EQ(sites.StoredId(0, "10001"), "10001");
  EXPECT_EQ(sites.StoredId(1, "10001"), "eu:10001");
  EXPECT_EQ(sites.StoredId(1, ""), "");
  EXPECT_EQ(sites.SiteId(1, "eu:10001"), "10001");
  EXPECT_EQ(sites.SiteId(0, "10001"), "10001");
  // An id stored for another site is no id at all here (look up by key instead).
  EXPECT_EQ(sites.SiteId(0, "eu:10001"), "");
  EXPECT_EQ(sites.SiteId(1, "10001"), "");
}

TEST(SiteSinkTest, SameIssueIdOnTwoSites_StoredAsTwoIdentities) {
  SiteMap sites = TwoSites();
  RecordingSink core;
  SiteSink default_sink(sites, 0, core);
  SiteSink eu_sink(sites, 1, core);
  ASSERT_TRUE(default_sink.ApplyItem(Item("OKRX-1", "10001"), "d1").ok());
  ASSERT_TRUE(eu_sink.ApplyItem(Item("OPS-1", "10001"), "d2").ok());
  ASSERT_EQ(core.applied.size(), 2u);
  EXPECT_EQ(core.applied[0].external_id, "10001");
  EXPECT_EQ(core.applied[1].external_id, "eu:10001");
  ASSERT_TRUE(eu_sink.RemoveItem(Tracker::kJira, "10001", "OPS-1", "d3").ok());
  EXPECT_THAT(core.removed, ElementsAre("eu:10001"));
}

TEST(SiteSinkTest, ItemOfAProjectAnotherSiteOwns_IsIgnored) {
  SiteMap sites = TwoSites();
  RecordingSink core;
  SiteSink default_sink(sites, 0, core);
  SiteSink eu_sink(sites, 1, core);
  EXPECT_EQ(*default_sink.ApplyItem(Item("OPS-1", "5"), "d1"), SyncOutcome::kUntracked);
  EXPECT_EQ(*eu_sink.ApplyItem(Item("OKRX-1", "5"), "d2"), SyncOutcome::kUntracked);
  EXPECT_EQ(eu_sink.RemoveItem(Tracker::kJira, "5", "OKRX-1", "d3")->outcome,
            SyncOutcome::kUntracked);
  EXPECT_THAT(core.applied, IsEmpty());
  EXPECT_THAT(core.removed, IsEmpty());
}

TEST(SiteRoutingSourceTest, FetchAndConfirm_GoToTheOwningSiteWithItsOwnIds) {
  SiteMap sites = TwoSites();
  FakeSource default_source(FakeSource::IdsByKey{{"OKRX-1", "10001"}});
  FakeSource eu_source(FakeSource::IdsByKey{{"OPS-1", "10001"}});
  SiteRoutingSource source(Tracker::kJira, sites, {&default_source, &eu_source});
  auto fetched = source.FetchItems({Item("OKRX-1", "10001"), Item("OPS-1", "eu:10001")});
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  ASSERT_EQ(fetched->size(), 2u);
  EXPECT_EQ((*fetched)[0].external_id, "10001");
  EXPECT_EQ((*fetched)[1].external_id, "eu:10001");
  ASSERT_EQ(default_source.asked.size(), 1u);
  EXPECT_EQ(default_source.asked[0].key, "OKRX-1");
  ASSERT_EQ(eu_source.asked.size(), 1u);
  EXPECT_EQ(eu_source.asked[0].external_id, "10001");  // the site's own id

  ASSERT_TRUE(*source.ConfirmDeleted(Item("OPS-2", "eu:10002")));
  EXPECT_EQ(eu_source.asked.back().external_id, "10002");
}

TEST(SiteRoutingSourceTest, ScopeMatches_KeepsEachSitesOwnProjects) {
  SiteMap sites = TwoSites();
  // Both sites report OPS-1; only the eu site owns it.
  FakeSource default_source(FakeSource::IdsByKey{{"OKRX-1", "1"}, {"OPS-1", "2"}});
  FakeSource eu_source(FakeSource::IdsByKey{{"OPS-1", "3"}});
  SiteRoutingSource source(Tracker::kJira, sites, {&default_source, &eu_source});
  auto matches = source.ScopeMatches(KeyResult{});
  ASSERT_TRUE(matches.ok()) << matches.status();
  ASSERT_TRUE(matches->has_value());
  ASSERT_EQ((*matches)->size(), 2u);
  EXPECT_EQ((**matches)[0].key, "OKRX-1");
  EXPECT_EQ((**matches)[0].external_id, "1");
  EXPECT_EQ((**matches)[1].key, "OPS-1");
  EXPECT_EQ((**matches)[1].external_id, "eu:3");

  // A site rejecting the scope (JQL naming a project it lacks) contributes nothing...
  eu_source.scope_error = absl::InvalidArgumentError("project OKRX does not exist");
  matches = source.ScopeMatches(KeyResult{});
  ASSERT_TRUE(matches.ok()) << matches.status();
  EXPECT_EQ((*matches)->size(), 1u);
  // ...but when every site rejects it, the error stands; other errors always do.
  default_source.scope_error = absl::InvalidArgumentError("bad JQL");
  EXPECT_EQ(source.ScopeMatches(KeyResult{}).status().code(), absl::StatusCode::kInvalidArgument);
  default_source.scope_error = absl::UnavailableError("down");
  eu_source.scope_error = absl::OkStatus();
  EXPECT_EQ(source.ScopeMatches(KeyResult{}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(SiteRoutingWriterTest, WritesGoToTheOwningSite) {
  SiteMap sites = TwoSites();
  FakeWriter default_writer;
  FakeWriter eu_writer;
  SiteRoutingWriter writer(Tracker::kJira, sites, {&default_writer, &eu_writer});
  ASSERT_TRUE(writer.Write(Item("OPS-1", "eu:7"), {}, "").ok());
  ASSERT_TRUE(writer.Write(Item("OKRX-1", "8"), {}, "").ok());
  ASSERT_EQ(eu_writer.written.size(), 1u);
  EXPECT_EQ(eu_writer.written[0].external_id, "7");
  ASSERT_EQ(default_writer.written.size(), 1u);
  EXPECT_EQ(default_writer.written[0].key, "OKRX-1");
  SiteMap named_only({{"eu", [](absl::string_view key) { return absl::StartsWith(key, "OPS-"); }}});
  SiteRoutingWriter only_eu(Tracker::kJira, named_only, {&eu_writer});
  EXPECT_EQ(only_eu.Write(Item("OKRX-1"), {}, "").status().code(), absl::StatusCode::kNotFound);
}

// Opens whatever issue it is asked for, as the site it stands for, and records it.
class FakeOpener final : public TrackerIssueOpener {
 public:
  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<WorkItem> OpenIssue(const NewIssue& issue) override {
    opened.push_back(issue.project);
    return Item(absl::StrCat(issue.project, "-1"));
  }
  std::vector<std::string> opened;
};

TEST(SiteRoutingIssueOpenerTest, IssuesOpenInTheSiteOwningTheProject) {
  SiteMap sites({{"", nullptr},
                 {"eu", [](absl::string_view key) { return absl::StartsWith(key, "OPS-"); },
                  [](absl::string_view project) { return project == "OPS"; }}});
  EXPECT_EQ(sites.OwnerOfProject("OPS"), 1u);
  EXPECT_EQ(sites.OwnerOfProject("OKRX"), 0u);
  FakeOpener default_opener;
  FakeOpener eu_opener;
  SiteRoutingIssueOpener opener(Tracker::kJira, sites, {&default_opener, &eu_opener});
  ASSERT_TRUE(opener.OpenIssue(NewIssue{"OPS", "t", "d", "u", "l"}).ok());
  ASSERT_TRUE(opener.OpenIssue(NewIssue{"OKRX", "t", "d", "u", "l"}).ok());
  EXPECT_THAT(eu_opener.opened, ElementsAre("OPS"));
  EXPECT_THAT(default_opener.opened, ElementsAre("OKRX"));

  SiteMap named_only({{"eu", nullptr, [](absl::string_view p) { return p == "OPS"; }}});
  SiteRoutingIssueOpener only_eu(Tracker::kJira, named_only, {&eu_opener});
  absl::StatusOr<WorkItem> unowned = only_eu.OpenIssue(NewIssue{"OKRX", "t", "d", "u", "l"});
  EXPECT_EQ(unowned.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unowned.status().message(),
              ::testing::HasSubstr("no configured site owns project OKRX"));
}

}  // namespace
}  // namespace okr::sync
