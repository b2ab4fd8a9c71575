// Tests of the bounded JSON reader shared by the Jira and GitLab connectors. Both connectors'
// tests match fragments of these messages, so the exact wording is pinned here once.
#include "connectors/json/json_util.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::connectors::json_util {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr size_t kLimit = 1024;

TEST(ParseBoundedJsonTest, ValidObject_Parses) {
  absl::StatusOr<nlohmann::json> parsed = ParseBoundedJson(R"({"a":[1,{"b":null}]})", kLimit);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)["a"][0], 1);
}

TEST(ParseBoundedJsonTest, Malformed_NamesTheSyntaxErrorPositionWithoutQuotingTheBody) {
  const struct {
    std::string body;
    int position;
  } kCases[] = {
      {"{\"webhookEvent\": jira", 18},
      {"", 1},
      {std::string("\xff\xfe\x00\x01", 4), 1},
      {"<html>", 1},
      {"{\"a\":1}}", 8},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<nlohmann::json> parsed = ParseBoundedJson(c.body, kLimit);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(parsed.status().message(),
              "malformed JSON: the body is not valid JSON (syntax error at byte " +
                  std::to_string(c.position) + ")")
        << c.body;
  }
  absl::StatusOr<nlohmann::json> parsed = ParseBoundedJson(R"({"secret": nope})", kLimit);
  EXPECT_THAT(parsed.status().message(), Not(HasSubstr("nope")));
}

TEST(ParseBoundedJsonTest, TooLarge_CheckedBeforeParsing) {
  absl::StatusOr<nlohmann::json> parsed = ParseBoundedJson(std::string(kLimit + 1, '{'), kLimit);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "JSON body of 1025 bytes exceeds the limit of 1024");
  EXPECT_TRUE(ParseBoundedJson(std::string(kLimit - 2, ' ') + "{}", kLimit).ok());
}

TEST(ParseBoundedJsonTest, DeepNesting_RejectedBeforeParsing_BracketsInStringsDoNotCount) {
  absl::StatusOr<nlohmann::json> parsed = ParseBoundedJson(std::string(100000, '['), 200000, 64);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "JSON body nests deeper than 64 levels");

  const std::string deep_enough = std::string(3, '[') + std::string(3, ']');
  EXPECT_TRUE(ParseBoundedJson(deep_enough, kLimit, 3).ok());
  EXPECT_FALSE(ParseBoundedJson("[" + deep_enough + "]", kLimit, 3).ok());
  EXPECT_TRUE(ParseBoundedJson(R"(["[[[[[[", "\"[[[["])", kLimit, 1).ok());
}

TEST(GetTest, TypedAccessorsReturnNothingForMissingNullOrOtherTypes) {
  const nlohmann::json object = nlohmann::json::parse(
      R"({"s":"x","i":7,"f":2.0,"h":2.5,"b":true,"o":{},"a":[],"n":null,
          "big":18446744073709551615,"huge":1e300})");
  EXPECT_EQ(GetString(object, "s"), "x");
  EXPECT_EQ(GetString(object, "i"), std::nullopt);
  EXPECT_EQ(GetInt(object, "i"), 7);
  EXPECT_EQ(GetInt(object, "f"), 2);
  EXPECT_EQ(GetInt(object, "h"), std::nullopt);
  EXPECT_EQ(GetInt(object, "big"), std::nullopt);
  EXPECT_EQ(GetInt(object, "huge"), std::nullopt);
  EXPECT_EQ(GetNumber(object, "h"), 2.5);
  EXPECT_EQ(GetNumber(object, "s"), std::nullopt);
  EXPECT_EQ(GetBool(object, "b"), true);
  EXPECT_EQ(GetBool(object, "i"), std::nullopt);
  EXPECT_NE(GetObject(object, "o"), nullptr);
  EXPECT_EQ(GetObject(object, "a"), nullptr);
  EXPECT_NE(GetArray(object, "a"), nullptr);
  EXPECT_EQ(GetMember(object, "n"), nullptr);
  EXPECT_EQ(GetMember(object, "missing"), nullptr);
  EXPECT_EQ(GetMember(nlohmann::json::array({1}), "0"), nullptr);
}

TEST(DumpJsonTest, InvalidUtf8_ReplacedInsteadOfThrowing) {
  EXPECT_EQ(DumpJson({{"m", std::string("a\xff")}}), "{\"m\":\"a\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace okr::connectors::json_util
