#include "service/outbound/url_util.h"

#include <optional>

#include "gtest/gtest.h"

namespace okr::outbound {
namespace {

TEST(UrlEncodeTest, ProjectPathsAndLabels) {
  EXPECT_EQ(UrlEncode("acme/sub/checkout"), "acme%2Fsub%2Fcheckout");
  EXPECT_EQ(UrlEncode("group/project"), "group%2Fproject");
  EXPECT_EQ(UrlEncode("OKR::abc"), "OKR%3A%3Aabc");
  EXPECT_EQ(UrlEncode("a b&c=d?e#f%g+h"), "a%20b%26c%3Dd%3Fe%23f%25g%2Bh");
  EXPECT_EQ(UrlEncode("Az09-._~"), "Az09-._~");
  EXPECT_EQ(UrlEncode("\xc3\xbc"), "%C3%BC");
}

TEST(NextLinkUrlTest, ParsesGitLabLinkHeaders) {
  EXPECT_EQ(NextLinkUrl("<https://g/api/v4/projects/8/issues?page=1&per_page=3>; rel=\"prev\", "
                        "<https://g/api/v4/projects/8/issues?page=3&per_page=3>; rel=\"next\", "
                        "<https://g/api/v4/projects/8/issues?page=1&per_page=3>; rel=\"first\", "
                        "<https://g/api/v4/projects/8/issues?page=4&per_page=3>; rel=\"last\""),
            "https://g/api/v4/projects/8/issues?page=3&per_page=3");
  EXPECT_EQ(NextLinkUrl("<https://g/x?labels=a,b&page=2>; rel=\"next\""),
            "https://g/x?labels=a,b&page=2");
  EXPECT_EQ(NextLinkUrl("<https://g/x?page=2>;rel=next"), "https://g/x?page=2");
  EXPECT_EQ(NextLinkUrl("<https://g/x?page=2>; title=\"a, b\"; rel=\"next last\""),
            "https://g/x?page=2");
  EXPECT_EQ(NextLinkUrl("<https://g/x?page=1>; rel=\"first\""), std::nullopt);
  EXPECT_EQ(NextLinkUrl(""), std::nullopt);
  EXPECT_EQ(NextLinkUrl("<https://g/x?page=2; rel=\"next\""), std::nullopt);
  EXPECT_EQ(NextLinkUrl("garbage, <>; rel=next"), "");
}

TEST(NextLinkUrlTest, FindsRelNextAmongOthers) {
  EXPECT_EQ(NextLinkUrl(R"(<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next")"),
            "https://a/x?page=3");
  EXPECT_FALSE(NextLinkUrl(R"(<https://a/x?page=1>; rel="first")").has_value());
}

TEST(NextLinkUrlTest, AcceptsSpaceBeforeEquals) {
  EXPECT_EQ(NextLinkUrl("<https://a/x?page=2>; rel = \"next\""), "https://a/x?page=2");
}

}  // namespace
}  // namespace okr::outbound
