#include "service/web/freshness_words.h"

#include "gtest/gtest.h"

namespace okr::web {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

TEST(AgoInWordsTest, Table) {
  struct Case {
    absl::Duration ago;
    const char* words;
  };
  for (const Case& c :
       {Case{absl::Seconds(-5), "just now"}, Case{absl::Seconds(0), "less than a minute ago"},
        Case{absl::Seconds(59), "less than a minute ago"}, Case{absl::Minutes(1), "1 minute ago"},
        Case{absl::Minutes(3) + absl::Seconds(20), "3 minutes ago"},
        Case{absl::Minutes(61), "1 hour ago"}, Case{absl::Hours(47), "47 hours ago"},
        Case{absl::Hours(50), "2 days ago"}}) {
    EXPECT_EQ(AgoInWords(kNow - c.ago, kNow), c.words) << c.ago;
  }
}

TEST(FreshnessInWordsTest, FreshStaleAndNamedSites) {
  TrackerFreshness f;
  f.tracker = Tracker::kJira;
  f.stale = false;
  f.confirm_time = kNow - absl::Minutes(3);
  EXPECT_EQ(FreshnessInWords(f, kNow), "Jira: confirmed 3 minutes ago");

  f.tracker = Tracker::kGitLab;
  f.site = "internal";
  f.stale = true;
  f.stale_reason = "last reconciliation failed: UNAVAILABLE: <b>500</b>";
  EXPECT_EQ(FreshnessInWords(f, kNow),
            "GitLab (internal): stale (last reconciliation failed: UNAVAILABLE: <b>500</b>)");
}

}  // namespace
}  // namespace okr::web
