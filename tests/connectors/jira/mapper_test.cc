#include "connectors/jira/mapper.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::connectors::jira {
namespace {

using ::testing::HasSubstr;

const JiraFieldConfig kConfig{"customfield_10016"};

// A search-result issue as Jira Cloud returns it, in the given status category.
nlohmann::json Issue(const std::string& category_key) {
  nlohmann::json issue = nlohmann::json::parse(R"({
    "expand": "",
    "id": "10401",
    "self": "https://acme.atlassian.net/rest/api/3/issue/10401",
    "key": "OKRX-101",
    "fields": {
      "summary": "Checkout p95 under 800 ms",
      "status": {"id": "10001", "name": "Done",
                 "statusCategory": {"id": 3, "key": "done", "colorName": "green", "name": "Done"}},
      "updated": "2025-06-04T12:03:07.381+0200",
      "customfield_10016": 5
    }
  })");
  issue["fields"]["status"]["statusCategory"]["key"] = category_key;
  return issue;
}

// ---- done mapping ---------------------------------------------------------------------------

struct DoneCase {
  std::string category_key;
  bool done;
};

void PrintTo(const DoneCase& c, std::ostream* os) { *os << c.category_key; }

class DoneMappingTest : public ::testing::TestWithParam<DoneCase> {};

TEST_P(DoneMappingTest, StatusCategoryKey_DecidesDone) {
  const DoneCase& c = GetParam();
  EXPECT_EQ(IsDoneStatusCategory(c.category_key), c.done);
  absl::StatusOr<JiraIssue> issue = IssueFromJson(Issue(c.category_key), kConfig);
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->status_category_key, c.category_key);
  EXPECT_EQ(issue->done, c.done);
}

INSTANTIATE_TEST_SUITE_P(
    Categories, DoneMappingTest,
    ::testing::Values(DoneCase{"new", false}, DoneCase{"indeterminate", false},
                      DoneCase{"done", true}, DoneCase{"undefined", false},
                      // Traps: names, other enums and examples from the OpenAPI file.
                      DoneCase{"Done", false}, DoneCase{"DONE", false},
                      DoneCase{"completed", false}, DoneCase{"in-flight", false}));

// A per-project rule (JiraFieldConfig::done_by_project) replaces the category rule for
// that project only.
TEST(MapperTest, ProjectDoneRule_StatusNameOrCategoryDecides) {
  JiraFieldConfig config = kConfig;
  config.done_by_project["OKRX"] = JiraDoneRule{{"Deployed"}, {}};
  config.done_by_project["OPS"] = JiraDoneRule{{"Released"}, {"done"}};
  const struct {
    const char* key;
    const char* status_name;
    const char* category;
    bool done;
  } kCases[] = {
      {"OKRX-101", "Deployed", "indeterminate", true},  // the listed status
      {"OKRX-101", "deployed", "indeterminate", true},  // names match case-insensitively
      {"OKRX-101", "Done", "done", false},              // category "done" no longer enough
      {"OKRX-101", "In Review", "indeterminate", false},
      {"OPS-7", "Released", "indeterminate", true},
      {"OPS-7", "Done", "done", true},  // its listed category
      {"OPS-7", "Deployed", "indeterminate", false},
      {"WEB-1", "Deployed", "indeterminate", false},  // no rule: category decides
      {"WEB-1", "Done", "done", true},
      {"MY-OKRX-3", "Deployed", "indeterminate", false},  // project "MY-OKRX", not "OKRX"
  };
  for (const auto& c : kCases) {
    nlohmann::json issue = Issue(c.category);
    issue["key"] = c.key;
    issue["fields"]["status"]["name"] = c.status_name;
    absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, config);
    ASSERT_TRUE(mapped.ok()) << mapped.status();
    EXPECT_EQ(mapped->status_name, c.status_name);
    EXPECT_EQ(mapped->done, c.done) << c.key << " " << c.status_name << " " << c.category;
    EXPECT_EQ(IsDone(config, ProjectKeyOf(c.key), c.status_name, c.category), c.done);
  }
  EXPECT_EQ(ProjectKeyOf("OKRX-101"), "OKRX");
  EXPECT_EQ(ProjectKeyOf("nodash"), "");
}

TEST(MapperTest, CategoryNameIsIgnored_OnlyKeyCounts) {
  nlohmann::json issue = Issue("indeterminate");
  issue["fields"]["status"]["name"] = "Done";
  issue["fields"]["status"]["statusCategory"]["name"] = "Done";
  issue["fields"]["resolution"] = {{"name", "Done"}};
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_FALSE(mapped->done);
}

// ---- credit per status and cancelled work ---------------------------------------------------

// Issue() in status `name` of `category` with resolution `resolution` (null when empty).
nlohmann::json IssueIn(const std::string& name, const std::string& category,
                       const std::string& resolution) {
  nlohmann::json issue = Issue(category);
  issue["fields"]["status"]["name"] = name;
  issue["fields"]["resolution"] =
      resolution.empty()
          ? nlohmann::json(nullptr)
          : nlohmann::json{{"self", "https://acme.atlassian.net/rest/api/3/resolution/1"},
                           {"id", "10001"},
                           {"description", ""},
                           {"name", resolution}};
  return issue;
}

JiraFieldConfig CreditConfig() {
  JiraFieldConfig config{"customfield_10016"};
  JiraDoneRule rule;
  rule.credit = {{"In Review", 0.5}, {"In Progress", 0.25}};
  config.done_by_project["OKRX"] = rule;
  return config;
}

TEST(MapperCreditTest, StatusNameGivesItsShare_CaseInsensitive) {
  absl::StatusOr<JiraIssue> review =
      IssueFromJson(IssueIn("in review", "indeterminate", ""), CreditConfig());
  ASSERT_TRUE(review.ok()) << review.status();
  EXPECT_FALSE(review->done);
  EXPECT_DOUBLE_EQ(review->partial_credit, 0.5);
  EXPECT_EQ(review->exclusion, "");
  okr::WorkItem item = ToWorkItem(*review, "https://acme.atlassian.net");
  EXPECT_EQ(item.status, "in review");
  EXPECT_DOUBLE_EQ(item.partial_credit, 0.5);
  EXPECT_FALSE(item.excluded());

  absl::StatusOr<JiraIssue> todo = IssueFromJson(IssueIn("To Do", "new", ""), CreditConfig());
  ASSERT_TRUE(todo.ok());
  EXPECT_DOUBLE_EQ(todo->partial_credit, 0);
}

TEST(MapperCreditTest, CreditRuleAlone_KeepsDoneByCategory) {
  absl::StatusOr<JiraIssue> done = IssueFromJson(IssueIn("Done", "done", "Done"), CreditConfig());
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->done);
  EXPECT_DOUBLE_EQ(done->partial_credit, 0);  // done counts whole; no share kept
  EXPECT_EQ(done->exclusion, "");
  EXPECT_EQ(done->resolution_name, "Done");
}

TEST(MapperCreditTest, NoRule_NoCredit) {
  absl::StatusOr<JiraIssue> review =
      IssueFromJson(IssueIn("In Review", "indeterminate", ""), kConfig);
  ASSERT_TRUE(review.ok());
  EXPECT_DOUBLE_EQ(review->partial_credit, 0);
}

struct ExclusionCase {
  std::string status;
  std::string category;
  std::string resolution;
  std::string exclusion;  // expected
};

void PrintTo(const ExclusionCase& c, std::ostream* os) {
  *os << c.status << "/" << c.category << "/" << c.resolution;
}

class DefaultExclusionTest : public ::testing::TestWithParam<ExclusionCase> {};

TEST_P(DefaultExclusionTest, DefaultResolutionsInDoneCategory_Exclude) {
  const ExclusionCase& c = GetParam();
  absl::StatusOr<JiraIssue> issue =
      IssueFromJson(IssueIn(c.status, c.category, c.resolution), kConfig);
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->exclusion, c.exclusion);
  okr::WorkItem item = ToWorkItem(*issue, "https://acme.atlassian.net");
  EXPECT_EQ(item.exclusion, c.exclusion);
  if (!c.exclusion.empty()) {
    EXPECT_TRUE(item.done);  // closed, yet left out
  }
}

INSTANTIATE_TEST_SUITE_P(
    Resolutions, DefaultExclusionTest,
    ::testing::Values(ExclusionCase{"Closed", "done", "Won't Do", "Won't Do"},
                      ExclusionCase{"Closed", "done", "won't do", "won't do"},  // as spelt
                      ExclusionCase{"Closed", "done", "Duplicate", "Duplicate"},
                      ExclusionCase{"Closed", "done", "Cannot Reproduce", "Cannot Reproduce"},
                      ExclusionCase{"Done", "done", "Done", ""},
                      ExclusionCase{"Done", "done", "Fixed", ""},
                      ExclusionCase{"Done", "done", "", ""},  // null tells nothing
                      // Not closed: a stale resolution does not exclude.
                      ExclusionCase{"In Progress", "indeterminate", "Won't Do", ""}));

TEST(MapperExclusionTest, ExplicitList_ReplacesTheDefaults) {
  JiraFieldConfig config{"customfield_10016"};
  JiraDoneRule rule;
  rule.excluded_resolutions = std::vector<std::string>{"Obsolete"};
  config.done_by_project["OKRX"] = rule;
  absl::StatusOr<JiraIssue> obsolete = IssueFromJson(IssueIn("Closed", "done", "obsolete"), config);
  ASSERT_TRUE(obsolete.ok());
  EXPECT_EQ(obsolete->exclusion, "obsolete");
  absl::StatusOr<JiraIssue> wont = IssueFromJson(IssueIn("Closed", "done", "Won't Do"), config);
  ASSERT_TRUE(wont.ok());
  EXPECT_EQ(wont->exclusion, "");
  EXPECT_TRUE(wont->done);

  config.done_by_project["OKRX"].excluded_resolutions = std::vector<std::string>{};
  absl::StatusOr<JiraIssue> off = IssueFromJson(IssueIn("Closed", "done", "Duplicate"), config);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->exclusion, "");
}

TEST(MapperExclusionTest, DoneByRule_OutsideDoneCategory_CanBeExcluded) {
  JiraFieldConfig config{"customfield_10016"};
  JiraDoneRule rule;
  rule.statuses = {"Deployed"};
  config.done_by_project["OKRX"] = rule;
  absl::StatusOr<JiraIssue> issue =
      IssueFromJson(IssueIn("Deployed", "indeterminate", "Won't Do"), config);
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(issue->exclusion, "Won't Do");
}

TEST(MapperExclusionTest, MalformedOrHugeResolution_TellsNothing) {
  nlohmann::json issue = IssueIn("Closed", "done", "");
  for (nlohmann::json resolution :
       {nlohmann::json("Won't Do"), nlohmann::json(7), nlohmann::json{{"name", 7}},
        nlohmann::json{{"name", std::string(kMaxJiraNameBytes + 1, 'x')}}}) {
    issue["fields"]["resolution"] = resolution;
    absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig);
    ASSERT_TRUE(mapped.ok()) << resolution.dump();
    EXPECT_EQ(mapped->exclusion, "") << resolution.dump();
    EXPECT_TRUE(mapped->done);
  }
  issue["fields"]["status"]["name"] = std::string(kMaxJiraNameBytes + 1, 's');
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->status_name, "");
}

// ---- Jira time formats ----------------------------------------------------------------------

struct TimeCase {
  std::string text;
  bool ok;
  int64_t unix_millis;  // When ok.
};

void PrintTo(const TimeCase& c, std::ostream* os) { *os << "\"" << c.text << "\""; }

class JiraTimeTest : public ::testing::TestWithParam<TimeCase> {};

TEST_P(JiraTimeTest, ParsesJiraFormats) {
  const TimeCase& c = GetParam();
  absl::StatusOr<absl::Time> time = ParseJiraTime(c.text);
  if (!c.ok) {
    EXPECT_EQ(time.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    return;
  }
  ASSERT_TRUE(time.ok()) << c.text << ": " << time.status();
  EXPECT_EQ(absl::ToUnixMillis(*time), c.unix_millis) << c.text;
}

// 2025-06-04T10:03:07.381Z = 1749031387381 ms.
INSTANTIATE_TEST_SUITE_P(
    Formats, JiraTimeTest,
    ::testing::Values(TimeCase{"2025-06-04T12:03:07.381+0200", true, 1749031387381},
                      TimeCase{"2025-06-04T12:03:07.381+02:00", true, 1749031387381},
                      TimeCase{"2025-06-04T10:03:07.381Z", true, 1749031387381},
                      TimeCase{"2025-06-04T10:03:07.381+0000", true, 1749031387381},
                      TimeCase{"2025-06-04T04:33:07.381-0530", true, 1749031387381},
                      TimeCase{"2025-06-04T12:03:07+0200", true, 1749031387000},
                      TimeCase{"2025-06-04T10:03:07Z", true, 1749031387000},
                      TimeCase{"2025-06-04T12:03:07.381123+02:00", true, 1749031387381},
                      TimeCase{"2025-06-04T12:03:07.381", false, 0},
                      TimeCase{"2025-06-04", false, 0},
                      TimeCase{"2025-06-04 12:03:07+0200", false, 0},
                      TimeCase{" 2025-06-04T12:03:07+0200", false, 0},
                      TimeCase{"2025-06-04T12:03:07+0200 trailing", false, 0},
                      TimeCase{"1749031387381", false, 0}, TimeCase{"", false, 0}));

// ---- IssueFromJson / ToWorkItem -------------------------------------------------------------

TEST(MapperTest, CompleteIssue_MapsEveryField) {
  absl::StatusOr<JiraIssue> issue = IssueFromJson(Issue("done"), kConfig);
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->id, "10401");
  EXPECT_EQ(issue->key, "OKRX-101");
  EXPECT_EQ(issue->summary, "Checkout p95 under 800 ms");
  EXPECT_TRUE(issue->done);
  EXPECT_EQ(issue->story_points, 5.0);
  EXPECT_EQ(absl::ToUnixMillis(issue->updated), 1749031387381);
}

TEST(MapperTest, WorkItem_UsesBrowseUrlSummaryAndStoryPoints) {
  absl::StatusOr<JiraIssue> issue = IssueFromJson(Issue("done"), kConfig);
  ASSERT_TRUE(issue.ok()) << issue.status();
  okr::WorkItem item = ToWorkItem(*issue, "https://acme.atlassian.net/");
  EXPECT_EQ(item.tracker, okr::Tracker::kJira);
  EXPECT_EQ(item.key, "OKRX-101");
  EXPECT_EQ(item.title, "Checkout p95 under 800 ms");
  EXPECT_EQ(item.url, "https://acme.atlassian.net/browse/OKRX-101");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 5.0);
  EXPECT_EQ(item.update_time, issue->updated);
}

struct StoryPointsCase {
  nlohmann::json value;  // null: member removed.
  double weight;
};

void PrintTo(const StoryPointsCase& c, std::ostream* os) { *os << c.value.dump(); }

class StoryPointsTest : public ::testing::TestWithParam<StoryPointsCase> {};

TEST_P(StoryPointsTest, WeightIsStoryPointsOrOne) {
  nlohmann::json issue = Issue("new");
  if (GetParam().value.is_null()) {
    issue["fields"].erase("customfield_10016");
  } else {
    issue["fields"]["customfield_10016"] = GetParam().value;
  }
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(ToWorkItem(*mapped, "https://x").weight, GetParam().weight);
}

INSTANTIATE_TEST_SUITE_P(Values, StoryPointsTest,
                         ::testing::Values(StoryPointsCase{nlohmann::json(), 1.0},
                                           StoryPointsCase{8, 8.0}, StoryPointsCase{0.5, 0.5},
                                           StoryPointsCase{0, 0.0}, StoryPointsCase{-3, 1.0},
                                           StoryPointsCase{"5", 1.0},
                                           StoryPointsCase{nlohmann::json::object(), 1.0}));

TEST(MapperTest, StoryPoints_ReadOnlyFromConfiguredField) {
  nlohmann::json issue = Issue("new");
  issue["fields"]["customfield_10028"] = 13;
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, JiraFieldConfig{"customfield_10028"});
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->story_points, 13.0);
  mapped = IssueFromJson(issue, JiraFieldConfig{});
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->story_points, std::nullopt);
}

TEST(MapperTest, NumericJsonId_IsAccepted) {
  nlohmann::json issue = Issue("new");
  issue["id"] = 10401;
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->id, "10401");
}

struct MissingCase {
  std::string name;
  std::function<void(nlohmann::json&)> mutate;
  std::string field;
};

void PrintTo(const MissingCase& c, std::ostream* os) { *os << c.name; }

class MissingFieldTest : public ::testing::TestWithParam<MissingCase> {};

TEST_P(MissingFieldTest, Complete_RejectsAndNamesField) {
  nlohmann::json issue = Issue("done");
  GetParam().mutate(issue);
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig);
  EXPECT_EQ(mapped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mapped.status().message(), HasSubstr(GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, MissingFieldTest,
    ::testing::Values(
        MissingCase{"NoId", [](nlohmann::json& j) { j.erase("id"); }, "issue.id"},
        MissingCase{"NonNumericId", [](nlohmann::json& j) { j["id"] = "10a"; }, "issue.id"},
        MissingCase{"NegativeId", [](nlohmann::json& j) { j["id"] = -1; }, "issue.id"},
        MissingCase{"NoKey", [](nlohmann::json& j) { j.erase("key"); }, "issue.key"},
        MissingCase{"EmptyKey", [](nlohmann::json& j) { j["key"] = ""; }, "issue.key"},
        MissingCase{"NoFields", [](nlohmann::json& j) { j.erase("fields"); }, "issue.fields"},
        MissingCase{"NoSummary", [](nlohmann::json& j) { j["fields"].erase("summary"); },
                    "issue.fields.summary"},
        MissingCase{"NoStatus", [](nlohmann::json& j) { j["fields"].erase("status"); },
                    "issue.fields.status.statusCategory.key"},
        MissingCase{"CategoryNotObject",
                    [](nlohmann::json& j) { j["fields"]["status"]["statusCategory"] = 3; },
                    "issue.fields.status.statusCategory.key"},
        MissingCase{"NoUpdated", [](nlohmann::json& j) { j["fields"].erase("updated"); },
                    "issue.fields.updated"},
        MissingCase{"BadUpdated", [](nlohmann::json& j) { j["fields"]["updated"] = "yesterday"; },
                    "issue.fields.updated"},
        MissingCase{"NotObject", [](nlohmann::json& j) { j = nlohmann::json::array(); }, "issue"}),
    [](const ::testing::TestParamInfo<MissingCase>& info) { return info.param.name; });

TEST(MapperTest, IdentityOnly_NeedsOnlyIdAndKey) {
  nlohmann::json issue = {{"id", "10401"}, {"key", "OKRX-101"}, {"fields", {{"summary", 7}}}};
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(issue, kConfig, FieldRequirement::kIdentityOnly);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->key, "OKRX-101");
  EXPECT_EQ(mapped->summary, "");
  EXPECT_EQ(mapped->updated, absl::InfinitePast());

  issue.erase("key");
  EXPECT_THAT(IssueFromJson(issue, kConfig, FieldRequirement::kIdentityOnly).status().message(),
              HasSubstr("issue.key"));
}

TEST(MapperTest, MappedFieldIds_IncludeStoryPointsWhenConfigured) {
  EXPECT_THAT(MappedFieldIds(kConfig), ::testing::ElementsAre("summary", "status", "resolution",
                                                              "updated", "customfield_10016"));
  EXPECT_THAT(MappedFieldIds(JiraFieldConfig{}),
              ::testing::ElementsAre("summary", "status", "resolution", "updated"));
}

}  // namespace
}  // namespace okr::connectors::jira
