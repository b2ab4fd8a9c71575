// The pure parts of okrctl: argument parsing, resource names, YAML, tables and the tree.
#include <string>
#include <vector>

#include "cli/okrctl/args.h"
#include "cli/okrctl/names.h"
#include "cli/okrctl/output.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<FlagSpec> kFlags = {
    {"title", "TEXT", ""}, {"force", "", ""}, {"team", "TEAM", "", /*repeated=*/true}};

TEST(ParseArgs, SplitsPositionalsAndFlags) {
  absl::StatusOr<ParsedArgs> a =
      ParseArgs({"o1", "--title", "Hello", "--force", "--team=a", "--team", "b", "-3"}, kFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->positional, ElementsAre("o1", "-3"));
  EXPECT_EQ(a->Get("title"), "Hello");
  EXPECT_TRUE(a->Has("force"));
  EXPECT_THAT(a->GetAll("team"), ElementsAre("a", "b"));
}

TEST(ParseArgs, DoubleDashEndsFlags) {
  absl::StatusOr<ParsedArgs> a = ParseArgs({"--", "--title"}, kFlags);
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(a->positional, ElementsAre("--title"));
}

TEST(ParseArgs, RejectsUnknownMissingAndRepeatedFlags) {
  EXPECT_THAT(ParseArgs({"--colour"}, kFlags).status().message(),
              HasSubstr("unknown flag --colour"));
  EXPECT_THAT(ParseArgs({"--title"}, kFlags).status().message(), HasSubstr("needs a value"));
  EXPECT_THAT(ParseArgs({"--force=yes"}, kFlags).status().message(), HasSubstr("takes no value"));
  EXPECT_THAT(ParseArgs({"--title", "a", "--title", "b"}, kFlags).status().message(),
              HasSubstr("given twice"));
}

TEST(Names, ShortIdsGetTheirCollection) {
  EXPECT_EQ(*ObjectiveName("o1"), "objectives/o1");
  EXPECT_EQ(*ObjectiveName("objectives/o1"), "objectives/o1");
  EXPECT_EQ(*TokenName("ada"), "apiTokens/ada");
  EXPECT_FALSE(ObjectiveName("teams/x").ok());
  EXPECT_FALSE(TeamName("").ok());
}

TEST(Names, KeyResultsNeedTheirObjective) {
  EXPECT_EQ(*KeyResultName("o1/k1"), "objectives/o1/keyResults/k1");
  EXPECT_EQ(*KeyResultName("objectives/o1/keyResults/k1"), "objectives/o1/keyResults/k1");
  EXPECT_FALSE(KeyResultName("k1").ok());
  EXPECT_FALSE(KeyResultName("o1/").ok());
  EXPECT_FALSE(KeyResultName("objectives/o1/checkIns/c").ok());
}

TEST(Names, CheckInsNeedTheirKeyResult) {
  EXPECT_EQ(*CheckInName("o1/k1/c1"), "objectives/o1/keyResults/k1/checkIns/c1");
  EXPECT_EQ(*CheckInName("objectives/o1/keyResults/k1/checkIns/c1"),
            "objectives/o1/keyResults/k1/checkIns/c1");
  EXPECT_FALSE(CheckInName("c1").ok());
  EXPECT_FALSE(CheckInName("o1/k1").ok());
  EXPECT_FALSE(CheckInName("o1//c1").ok());
  EXPECT_FALSE(CheckInName("objectives/o1/keyResults/k1/workItemLinks/c1").ok());
}

TEST(Names, EventParents) {
  EXPECT_EQ(*EventParentName("teams/t"), "teams/t");
  EXPECT_EQ(*EventParentName("o1"), "objectives/o1");
  EXPECT_EQ(*EventParentName("objectives/o1"), "objectives/o1");
  EXPECT_EQ(*EventParentName("o1/k1"), "objectives/o1/keyResults/k1");
  EXPECT_EQ(ShortId("objectives/o1/keyResults/k1"), "k1");
}

TEST(JsonToYaml, NestedObjectsAndLists) {
  EXPECT_EQ(JsonToYaml(R"({"a":1,"b":{"c":"x","d":[1,{"e":"z","f":[]}]},"g":{}})"),
            "a: 1\n"
            "b:\n"
            "  c: x\n"
            "  d:\n"
            "    - 1\n"
            "    - e: z\n"
            "      f: []\n"
            "g: {}\n");
  EXPECT_EQ(JsonToYaml("{}"), "{}\n");
}

TEST(JsonToYaml, QuotesStringsThatWouldReadAsSomethingElse) {
  EXPECT_EQ(JsonToYaml(R"({"a":"true","b":"12","c":"x: y","d":"","e":"2026-10-01T00:00:00Z",)"
                       R"("f":"-x","g":"a #b","h":"plain text","i":"line\nbreak"})"),
            "a: \"true\"\n"
            "b: \"12\"\n"
            "c: \"x: y\"\n"
            "d: \"\"\n"
            "e: \"2026-10-01T00:00:00Z\"\n"
            "f: \"-x\"\n"
            "g: \"a #b\"\n"
            "h: plain text\n"
            "i: \"line\\nbreak\"\n");
}

TEST(Table, AlignsColumnsWithoutTrailingBlanks) {
  Table t({"NAME", "TITLE", "NOTE"});
  t.AddRow({"objectives/o1", "Ünïcode", ""});
  t.AddRow({"o2", "x", "y"});
  EXPECT_EQ(t.Render(false),
            "NAME           TITLE    NOTE\n"
            "objectives/o1  Ünïcode\n"
            "o2             x        y\n");
}

TEST(Table, ColoursDoNotCountTowardsWidth) {
  Table t({"A", "B"});
  t.AddRow({Cell("x", Colour::kRed), "y"});
  EXPECT_EQ(t.Render(true), "\033[1mA\033[0m  \033[1mB\033[0m\n\033[31mx\033[0m  y\n");
}

TEST(Output, PercentAndBar) {
  EXPECT_EQ(Percent(0.5), " 50%");
  EXPECT_EQ(Percent(1), "100%");
  EXPECT_EQ(ProgressBar(0.5, 4), "\u2588\u2588\u2591\u2591");
  EXPECT_EQ(ProgressBar(1.7, 2), "\u2588\u2588");
  EXPECT_EQ(FormatNumber(0.7), "0.7");
  EXPECT_EQ(FormatNumber(1234567), "1234567");
}

TEST(RenderTree, IndentsChildrenUnderTheirParent) {
  v1::AlignmentTree tree;
  v1::AlignmentNode* root = tree.add_roots();
  root->set_objective("objectives/o1");
  root->set_title("Top");
  root->set_team("teams/a");
  root->set_state(v1::AGREED);
  root->set_progress(0.5);
  root->set_health(v1::ON_TRACK);
  for (const char* id : {"o2", "o3"}) {
    v1::AlignmentNode* child = root->add_children();
    child->set_objective(std::string("objectives/") + id);
    child->set_title("Child");
    child->set_team("teams/b");
    child->set_state(v1::DRAFT);
    child->set_health(v1::OFF_TRACK);
  }
  v1::AlignmentNode* leaf = root->mutable_children(0)->add_children();
  leaf->set_objective("objectives/o4");
  leaf->set_title("Leaf");
  leaf->set_team("teams/c");
  leaf->set_state(v1::DRAFT);
  leaf->set_progress(1);
  leaf->set_health(v1::ON_TRACK);
  const std::string half = ProgressBar(0.5, 20);
  const std::string none = ProgressBar(0, 20);
  const std::string full = ProgressBar(1, 20);
  EXPECT_EQ(RenderTree(tree, false),
            "o1  Top         " + half + "  50%  ON_TRACK   AGREED  a\n" + "├─ o2  Child    " +
                none + "   0%  OFF_TRACK  DRAFT   b\n" + "│  └─ o4  Leaf  " + full +
                " 100%  ON_TRACK   DRAFT   c\n" + "└─ o3  Child    " + none +
                "   0%  OFF_TRACK  DRAFT   b\n");
}

}  // namespace
}  // namespace okr::cli
