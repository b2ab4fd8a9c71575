#include "service/sync/served_markdown.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::sync {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr MarkdownDialect kPlain{};
constexpr MarkdownDialect kGitHubLike{/*escape_at=*/true, /*code_span_without_url=*/false};
constexpr MarkdownDialect kGitLabLike{/*escape_at=*/false, /*code_span_without_url=*/true};

ServedKeyResult Served() {
  ServedKeyResult s;
  s.key_result = "objectives/o1/keyResults/k1";
  s.key_result_title = "NPS *45*";
  s.objective = "objectives/o1";
  s.objective_title = "Happy [customers]";
  s.team_name = "Checkout";
  s.progress = 0.45;
  s.expected_progress = 0.5;
  s.health = Health::kOnTrack;
  s.url = "https://okr.example/objectives/o1/keyResults/k1";
  return s;
}

TEST(ServedMarkdownTest, Ids_FromNameOrLastSegment) {
  ServedKeyResult s = Served();
  EXPECT_EQ(ServedKeyResultId(s), "k1");
  EXPECT_EQ(ServedObjectiveId(s), "o1");
  EXPECT_EQ(ServedObjectiveUrl(s), "https://okr.example/objectives/o1");
  s.key_result = "bogus/x";
  EXPECT_EQ(ServedKeyResultId(s), "x");
  EXPECT_EQ(ServedObjectiveId(s), "");
  EXPECT_EQ(ServedObjectiveUrl(s), s.url);
}

TEST(ServedMarkdownTest, LinkText_EscapesPunctuationAndAtOnlyWhenAsked) {
  EXPECT_EQ(MarkdownLinkText("a*b_[c]\n@d #1", kPlain), "a\\*b\\_\\[c\\] @d \\#1");
  EXPECT_EQ(MarkdownLinkText("@d", kGitHubLike), "\\@d");
}

TEST(ServedMarkdownTest, Link_EncodesDestination_FallsBackPerDialect) {
  EXPECT_EQ(MarkdownLink("t", "https://x/a b(c)", kPlain), "[t](https://x/a%20b%28c%29)");
  EXPECT_EQ(MarkdownLink("a`*", "ftp://x", kGitHubLike), "a\\`\\*");
  EXPECT_EQ(MarkdownLink("a`*", "", kGitLabLike), "`a'*`");
}

TEST(ServedMarkdownTest, Bodies_KeepTheTextsTrackersShow) {
  const std::string body = ServedKeyResultsMarkdown("<!-- m -->", {Served()}, kPlain);
  EXPECT_THAT(body, StartsWith("<!-- m -->\n**OKR:** this issue serves a key result (kept up "
                               "to date by okr-service):\n"));
  EXPECT_THAT(body, HasSubstr("\n- key result [NPS \\*45\\*](https://okr.example/objectives/o1/"
                              "keyResults/k1): "));
  EXPECT_THAT(body, HasSubstr("  \n  objective [Happy \\[customers\\] \\(Checkout\\)]"
                              "(https://okr.example/objectives/o1)\n"));
  EXPECT_THAT(ServedKeyResultsMarkdown("m", {Served(), Served()}, kPlain),
              HasSubstr("these key results"));
  EXPECT_EQ(NoLongerServesMarkdown("<!-- m -->"),
            "<!-- m -->\n**OKR:** this issue no longer serves a key result of okr-service.\n");
}

}  // namespace
}  // namespace okr::sync
