// Tests of the URL decoding shared by the listener (request targets) and the pages (form
// bodies).
#include "service/http/url_encoding.h"

#include "gtest/gtest.h"

namespace okr::http {
namespace {

TEST(UrlEncodingTest, ParseUrlEncoded_DecodesPlusAndPercent_FirstValueWins) {
  auto form = ParseUrlEncoded("note=a+b%3Cc%3E&x=1&x=2&bad=%zz&empty=&flag");
  EXPECT_EQ(form["note"], "a b<c>");
  EXPECT_EQ(form["x"], "1");
  EXPECT_EQ(form["bad"], "%zz");
  EXPECT_EQ(form["empty"], "");
  EXPECT_EQ(form.count("flag"), 1u);
}

TEST(UrlEncodingTest, ParseUrlEncoded_SkipsEmptyPairsAndDecodesNames) {
  auto form = ParseUrlEncoded("&&a%20b=1&&c+d=x%3Dy&");
  EXPECT_EQ(form.size(), 2u);
  EXPECT_EQ(form["a b"], "1");
  EXPECT_EQ(form["c d"], "x=y");
}

TEST(UrlEncodingTest, PercentDecode_PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("/objectives/a+b%2Fc", /*plus_is_space=*/false), "/objectives/a+b/c");
  EXPECT_EQ(PercentDecode("a+b", /*plus_is_space=*/true), "a b");
}

TEST(UrlEncodingTest, PercentDecode_KeepsIncompleteEscapes) {
  EXPECT_EQ(PercentDecode("%", false), "%");
  EXPECT_EQ(PercentDecode("%4", false), "%4");
  EXPECT_EQ(PercentDecode("%41", false), "A");
  EXPECT_EQ(PercentDecode("%4g%41", false), "%4gA");
  EXPECT_EQ(PercentDecode("%00", false), std::string(1, '\0'));
}

}  // namespace
}  // namespace okr::http
