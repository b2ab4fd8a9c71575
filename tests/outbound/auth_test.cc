#include "service/outbound/auth.h"

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "service/outbound/curl_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/outbound/local_http_server.h"
#include "tests/outbound/scripted_http_client.h"

namespace okr::outbound {
namespace {

using ::okr::outbound::testing::LocalHttpServer;
using ::okr::outbound::testing::Response;
using ::okr::outbound::testing::ScriptedHttpClient;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::SizeIs;

TEST(AuthHeaderTest, BasicAuth_IsBase64OfUserColonPassword) {
  const AuthHeader auth = BasicAuth("a@b.c", "t");

  EXPECT_EQ(auth.name, "Authorization");
  EXPECT_EQ(auth.value, "Basic YUBiLmM6dA==");
}

TEST(AuthHeaderTest, BasicAuth_KeepsColonsInTheToken) {
  // base64("me@acme.io:ATATT3x:Fw=") == "bWVAYWNtZS5pbzpBVEFUVDN4OkZ3PQ==".
  EXPECT_EQ(BasicAuth("me@acme.io", "ATATT3x:Fw=").value, "Basic bWVAYWNtZS5pbzpBVEFUVDN4OkZ3PQ==");
}

TEST(AuthHeaderTest, BearerAuth_PrefixesToken) {
  const AuthHeader auth = BearerAuth("pat-123");

  EXPECT_EQ(auth.name, "Authorization");
  EXPECT_EQ(auth.value, "Bearer pat-123");
}

TEST(AuthHeaderTest, HeaderAuth_UsesNameAndValueAsGiven) {
  const AuthHeader auth = HeaderAuth("PRIVATE-TOKEN", "glpat-xyz");

  EXPECT_EQ(auth.name, "PRIVATE-TOKEN");
  EXPECT_EQ(auth.value, "glpat-xyz");
}

TEST(AuthenticatingHttpClientTest, AddsHeaderAndKeepsTheRest) {
  ScriptedHttpClient inner({Response(200)});
  AuthenticatingHttpClient client(inner, HeaderAuth("PRIVATE-TOKEN", "glpat-xyz"));
  HttpRequest request;
  request.method = "PUT";
  request.url = "https://gitlab.example/api/v4/projects/1/issues/2";
  request.headers = {{"Content-Type", "application/json"}};
  request.body = "{}";

  ASSERT_TRUE(client.Send(request).ok());

  ASSERT_THAT(inner.requests(), SizeIs(1));
  const HttpRequest sent = inner.requests()[0];
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.url, request.url);
  EXPECT_EQ(sent.body, "{}");
  EXPECT_THAT(sent.headers, ElementsAre(Pair("Content-Type", "application/json"),
                                        Pair("PRIVATE-TOKEN", "glpat-xyz")));
}

TEST(AuthenticatingHttpClientTest, ReplacesExistingHeaderOfTheSameNameCaseInsensitively) {
  ScriptedHttpClient inner({Response(200)});
  AuthenticatingHttpClient client(inner, BearerAuth("new"));
  HttpRequest request;
  request.headers = {{"authorization", "Bearer old"}, {"Accept", "application/json"}};

  ASSERT_TRUE(client.Send(request).ok());

  EXPECT_THAT(inner.requests()[0].headers,
              ElementsAre(Pair("Accept", "application/json"), Pair("Authorization", "Bearer new")));
}

TEST(AuthenticatingHttpClientTest, ReturnsInnerResultUnchanged) {
  ScriptedHttpClient inner({Response(401, {}, "denied")});
  AuthenticatingHttpClient client(inner, BearerAuth("t"));

  absl::StatusOr<HttpResponse> response = client.Send(HttpRequest{});

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->body, "denied");
}

TEST(AuthenticatingHttpClientTest, RealServer_ReceivesBasicAuthorization) {
  absl::Mutex mu;
  std::string seen_authorization;
  LocalHttpServer local;  // Declared last: stops (joining its handlers) first.
  local.server().Get("/myself", [&](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    seen_authorization = req.get_header_value("Authorization");
    res.set_content("{}", "application/json");
  });
  ASSERT_TRUE(local.Start());
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> curl = CurlHttpClient::Create({});
  ASSERT_TRUE(curl.ok()) << curl.status();
  AuthenticatingHttpClient client(**curl, BasicAuth("a@b.c", "t"));
  HttpRequest request;
  request.url = local.Url("/myself");

  absl::StatusOr<HttpResponse> response = client.Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen_authorization, "Basic YUBiLmM6dA==");
}

struct RedactCase {
  std::string url;
  std::string redacted;
};

class RedactedUrlTest : public ::testing::TestWithParam<RedactCase> {};

TEST_P(RedactedUrlTest, DropsUserinfoQueryAndFragment) {
  EXPECT_EQ(RedactedUrl(GetParam().url), GetParam().redacted);
}

INSTANTIATE_TEST_SUITE_P(
    Urls, RedactedUrlTest,
    ::testing::Values(
        RedactCase{"https://acme.atlassian.net/rest/api/3/issue/OKRX-1",
                   "https://acme.atlassian.net/rest/api/3/issue/OKRX-1"},
        RedactCase{"https://me%40acme.io:s3cret@acme.atlassian.net/rest/api/3/myself",
                   "https://acme.atlassian.net/rest/api/3/myself"},
        RedactCase{"https://gitlab.example/api/v4/issues?private_token=glpat&state=opened",
                   "https://gitlab.example/api/v4/issues"},
        RedactCase{"http://u:p@127.0.0.1:8080?x=1", "http://127.0.0.1:8080"},
        RedactCase{"https://host/a#frag@x", "https://host/a"},
        RedactCase{"https://host/a/b@c", "https://host/a/b@c"},  // '@' in the path stays.
        RedactCase{"https://host?next=https://u:p@evil/", "https://host"},
        RedactCase{"user:pw@host/path?q", "host/path"}, RedactCase{"", ""}),
    [](const ::testing::TestParamInfo<RedactCase>& info) {
      return "Case" + std::to_string(info.index);
    });

}  // namespace
}  // namespace okr::outbound
