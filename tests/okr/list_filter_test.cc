#include "service/okr/list_filter.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::vector<FilterField>& Fields() {
  static const auto* fields = new std::vector<FilterField>{
      {"health", {"ON_TRACK", "AT_RISK", "OFF_TRACK", "NOT_STARTED"}},
      {"team", {}},
      {"cycle", {}},
      {"objective.state", {"DRAFT", "PROPOSED", "AGREED", "CLOSED"}},
  };
  return *fields;
}

struct MatchCase {
  std::string filter;
  std::map<std::string, std::string> resource;
  bool matches;
};

TEST(ListFilterTest, Matches_Table) {
  const std::map<std::string, std::string> kr = {{"health", "AT_RISK"},
                                                 {"team", "teams/payments"},
                                                 {"cycle", "cycles/q4"},
                                                 {"objective.state", "AGREED"}};
  const std::vector<MatchCase> cases = {
      {"", kr, true},
      {"   ", kr, true},
      {"health = AT_RISK", kr, true},
      {"health=AT_RISK", kr, true},
      {"health = OFF_TRACK", kr, false},
      {"health != OFF_TRACK", kr, true},
      {"health != AT_RISK", kr, false},
      {"health = AT_RISK AND team = \"teams/payments\"", kr, true},
      {"health = AT_RISK AND team = \"teams/search\"", kr, false},
      {"team = \"teams/payments\" AND cycle != \"cycles/q4\"", kr, false},
      {"objective.state = AGREED AND cycle = \"cycles/q4\"", kr, true},
      {"team = \"teams/pay\\\"ments\"", {{"team", "teams/pay\"ments"}}, true},
  };
  for (const MatchCase& c : cases) {
    absl::StatusOr<ListFilter> f = ParseListFilter(c.filter, Fields());
    ASSERT_TRUE(f.ok()) << c.filter << ": " << f.status();
    const bool got = f->Matches([&](absl::string_view field) {
      auto it = c.resource.find(std::string(field));
      return it == c.resource.end() ? std::string() : it->second;
    });
    EXPECT_EQ(got, c.matches) << c.filter;
  }
}

struct ErrorCase {
  std::string filter;
  std::string fragment;
};

TEST(ListFilterTest, Parse_RejectsWithFilterField_Table) {
  const std::vector<ErrorCase> cases = {
      {"progress = 1", "unknown field \"progress\""},
      {"health = at_risk", "unknown health \"at_risk\""},
      {"health = \"AT_RISK\"", "health takes a bare enum name"},
      {"team = teams", "team takes a string in double quotes"},
      {"team = \"teams/x", "unterminated string literal"},
      {"health AT_RISK", "expected = or != after health"},
      {"health = AT_RISK OR health = OFF_TRACK", "expected AND or the end"},
      {"health = AT_RISK AND", "expected a field"},
      {"health < AT_RISK", "unexpected character '<'"},
      {"= AT_RISK", "expected a field"},
      {"NOT health = AT_RISK", "unknown field \"NOT\""},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<ListFilter> f = ParseListFilter(c.filter, Fields());
    ASSERT_FALSE(f.ok()) << c.filter;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << c.filter;
    EXPECT_THAT(std::string(f.status().message()), StartsWith("filter: ")) << c.filter;
    EXPECT_THAT(f.status().message(), HasSubstr(c.fragment)) << c.filter;
  }
}

TEST(ListFilterTest, ParseOrderBy_Table) {
  const std::vector<std::string> fields = {"progress", "update_time"};
  struct Case {
    std::string text;
    std::vector<std::pair<std::string, bool>> keys;
  };
  const std::vector<Case> cases = {
      {"", {}},
      {"progress", {{"progress", false}}},
      {"progress desc", {{"progress", true}}},
      {"progress asc", {{"progress", false}}},
      {" progress desc , update_time", {{"progress", true}, {"update_time", false}}},
      {"update_time desc,progress", {{"update_time", true}, {"progress", false}}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<OrderKey>> keys = ParseOrderBy(c.text, fields);
    ASSERT_TRUE(keys.ok()) << c.text << ": " << keys.status();
    ASSERT_EQ(keys->size(), c.keys.size()) << c.text;
    for (size_t i = 0; i < c.keys.size(); ++i) {
      EXPECT_EQ((*keys)[i].field, c.keys[i].first) << c.text;
      EXPECT_EQ((*keys)[i].descending, c.keys[i].second) << c.text;
    }
  }
}

TEST(ListFilterTest, ParseOrderBy_RejectsWithOrderByField_Table) {
  const std::vector<std::string> fields = {"progress", "update_time"};
  const std::vector<ErrorCase> cases = {
      {"title", "cannot order by \"title\""},
      {"progress down", "expected asc or desc after progress"},
      {"progress desc extra", "expected \"field [asc|desc]\""},
      {"progress,", "expected \"field [asc|desc]\""},
      {"progress, progress desc", "progress is given twice"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<std::vector<OrderKey>> keys = ParseOrderBy(c.filter, fields);
    ASSERT_FALSE(keys.ok()) << c.filter;
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(keys.status().message()), StartsWith("order_by: ")) << c.filter;
    EXPECT_THAT(keys.status().message(), HasSubstr(c.fragment)) << c.filter;
  }
}

}  // namespace
}  // namespace okr
