// Tests of the small HTTP text formats of the pages and of the `next` redirect check.
#include "service/web/forms.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::web {
namespace {

TEST(FormsTest, UrlEncode_KeepsPathsReadable) {
  EXPECT_EQ(UrlEncode("/objectives/o1?x=1&y=a b"), "/objectives/o1%3Fx%3D1%26y%3Da%20b");
}

TEST(FormsTest, CookieValue_FindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("a=1; okr_session=xyz; b=2", "okr_session"), "xyz");
  EXPECT_EQ(CookieValue("xokr_session=no; okr_sessionx=no", "okr_session"), "");
  EXPECT_EQ(CookieValue("", "okr_session"), "");
}

TEST(FormsTest, SetCookie_IsHttpOnlyLaxAndSecureOnRequest) {
  EXPECT_EQ(SetCookie("okr_session", "v", false, 60),
            "okr_session=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=60");
  EXPECT_EQ(SetCookie("okr_csrf", "v", true, -1),
            "okr_csrf=v; HttpOnly; SameSite=Lax; Path=/; Secure");
}

TEST(FormsTest, SafeNextPath_Table) {
  const std::pair<const char*, const char*> cases[] = {
      {"/objectives/o1/keyResults/k1", "/objectives/o1/keyResults/k1"},
      {"/cycles/q4?team=web", "/cycles/q4?team=web"},
      {"", "/"},
      {"//evil.example", "/"},
      {"/\\evil.example", "/"},
      {"https://evil.example/", "/"},
      {"javascript:alert(1)", "/"},
      {"/a\r\nSet-Cookie: x", "/"},
      {"/a\\b", "/"},
      {"/login?next=/x", "/"},
      {"/logout", "/"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(SafeNextPath(in), want) << in;
}

}  // namespace
}  // namespace okr::web
