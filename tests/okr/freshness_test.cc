#include "service/okr/freshness.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);
const absl::Duration kInterval = absl::Minutes(5);

SourceStatus Status(std::optional<absl::Time> success, std::optional<absl::Time> attempt,
                    std::string error = "", std::optional<absl::Time> webhook = std::nullopt,
                    std::string site = kDefaultSite) {
  SourceStatus s;
  s.tracker = Tracker::kJira;
  s.site = std::move(site);
  s.last_success = success;
  s.last_attempt = attempt;
  s.last_error = std::move(error);
  s.last_webhook = webhook;
  return s;
}

struct Case {
  const char* name;
  SourceStatus status;
  bool stale;
  std::optional<absl::Time> confirm_time;
  std::string reason;
};

TEST(SiteFreshnessTest, Table) {
  const absl::Time t1 = kNow - absl::Minutes(3);
  const absl::Time t0 = kNow - absl::Minutes(30);
  const std::vector<Case> cases = {
      {"never ran", Status(std::nullopt, std::nullopt), true, std::nullopt, "never reconciled"},
      {"recent success", Status(t1, t1), false, t1, ""},
      {"success exactly two intervals ago", Status(kNow - 2 * kInterval, kNow - 2 * kInterval),
       false, kNow - 2 * kInterval, ""},
      {"success older than two intervals", Status(t0, t0), true, t0,
       "no successful reconciliation for 30m (reconciliation interval 5m)"},
      {"last attempt failed", Status(t0, t1, "UNAVAILABLE: Jira answered 500"), true, t0,
       "last reconciliation failed: UNAVAILABLE: Jira answered 500"},
      {"failed and never succeeded", Status(std::nullopt, t1, "UNAUTHENTICATED: bad token"), true,
       std::nullopt, "last reconciliation failed: UNAUTHENTICATED: bad token"},
      {"a later webhook moves the confirmation", Status(t0, t1, "UNAVAILABLE: x", t1), true, t1,
       "last reconciliation failed: UNAVAILABLE: x"},
      {"an earlier webhook does not", Status(t1, t1, "", t0), false, t1, ""},
      {"webhook only: still never reconciled", Status(std::nullopt, std::nullopt, "", t1), true, t1,
       "never reconciled"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TrackerFreshness f = SiteFreshness(c.status, kNow, kInterval);
    EXPECT_EQ(f.tracker, Tracker::kJira);
    EXPECT_EQ(f.site, "default");
    EXPECT_EQ(f.stale, c.stale);
    EXPECT_EQ(f.confirm_time, c.confirm_time);
    EXPECT_EQ(f.stale_reason, c.reason);
  }
}

TEST(TrackerFreshnessOfTest, PicksTheLeastCurrentSite) {
  const absl::Time recent = kNow - absl::Minutes(1);
  const absl::Time older = kNow - absl::Minutes(4);
  std::vector<SourceStatus> sites = {Status(recent, recent, "", std::nullopt, "default"),
                                     Status(older, older, "", std::nullopt, "eu")};
  TrackerFreshness f = TrackerFreshnessOf(Tracker::kJira, sites, kNow, kInterval);
  EXPECT_EQ(f.site, "eu");
  EXPECT_FALSE(f.stale);
  EXPECT_EQ(f.confirm_time, older);

  // A stale site wins over an older fresh one.
  sites[0].last_attempt = kNow;
  sites[0].last_error = "UNAVAILABLE: down";
  f = TrackerFreshnessOf(Tracker::kJira, sites, kNow, kInterval);
  EXPECT_EQ(f.site, "default");
  EXPECT_TRUE(f.stale);
  EXPECT_THAT(f.stale_reason, HasSubstr("down"));
}

TEST(TrackerFreshnessOfTest, OnlyTheTrackersSitesCount) {
  std::vector<SourceStatus> sites = {Status(kNow, kNow)};
  TrackerFreshness f = TrackerFreshnessOf(Tracker::kGitLab, sites, kNow, kInterval);
  EXPECT_EQ(f.tracker, Tracker::kGitLab);
  EXPECT_EQ(f.site, "default");
  EXPECT_TRUE(f.stale);
  EXPECT_EQ(f.stale_reason, "no GitLab connector is configured");
  EXPECT_FALSE(f.confirm_time.has_value());
}

TEST(BoundedErrorTextTest, CutsAtAUtf8Boundary) {
  EXPECT_EQ(BoundedErrorText("short"), "short");
  const std::string long_text = std::string(298, 'a') + "\xC3\xA9\xC3\xA9";  // 302 bytes
  const std::string cut = BoundedErrorText(long_text);
  EXPECT_LE(cut.size(), kMaxSourceErrorBytes);
  EXPECT_EQ(cut, std::string(297, 'a') + "...");
  const std::string accents = std::string(296, 'a') + "\xC3\xA9\xC3\xA9\xC3\xA9";
  EXPECT_EQ(BoundedErrorText(accents, 301), std::string(296, 'a') +
                                                "\xC3\xA9"
                                                "...");
}

TEST(BoundedErrorTextTest, ReplacesInvalidUtf8) {
  EXPECT_EQ(BoundedErrorText("bad \xFF\xC3 byte \xC3\xA9 ok"), "bad ?? byte \xC3\xA9 ok");
  EXPECT_EQ(BoundedErrorText("cut \xE2\x82"), "cut ??");
}

TEST(ScopeTrackersTest, NonEmptyScopesAndLinkedItems) {
  KeyResult kr;
  kr.type = KeyResultType::kWorkItems;
  EXPECT_TRUE(ScopeTrackers(kr).empty());
  EXPECT_FALSE(HasLinkedItems(kr));
  kr.scopes[Tracker::kJira].query = "project = OKRX";
  kr.scopes[Tracker::kGitLab];  // an empty scope is none
  EXPECT_EQ(ScopeTrackers(kr), std::set<Tracker>{Tracker::kJira});
  kr.totals.excluded_count = 1;
  EXPECT_TRUE(HasLinkedItems(kr));
}

}  // namespace
}  // namespace okr
