#include "service/outbound/retrying_http_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A clock that stands still except when the client sleeps; records every wait.
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(absl::Time now) : now_(now) {}

  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void SleepFor(absl::Duration duration) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(duration);
    now_ += duration;
  }
  std::vector<absl::Duration> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

const absl::Time kStart = absl::FromUnixSeconds(1749038587);  // 2025-06-04T12:03:07Z

// Retries against a real local server, through CurlHttpClient. Each path answers with the
// statuses (and headers) listed for it, one per attempt, repeating the last.
class RetryingHttpClientTest : public ::testing::Test {
 protected:
  struct Answer {
    int status;
    httplib::Headers headers;
  };

  void Serve(const std::string& path, std::vector<Answer> answers) {
    auto handler = [this, answers](const httplib::Request&, httplib::Response& res) {
      const int attempt = ++attempts_;
      const Answer& answer = answers[std::min<size_t>(attempt, answers.size()) - 1];
      res.status = answer.status;
      for (const auto& [name, value] : answer.headers) res.set_header(name, value);
      res.set_content(absl::StrCat("attempt ", attempt), "text/plain");
    };
    local_.server().Get(path, handler);
    local_.server().Post(path, handler);
  }

  void StartServer() {
    ASSERT_TRUE(local_.Start());
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> curl = CurlHttpClient::Create({});
    ASSERT_TRUE(curl.ok()) << curl.status();
    curl_ = *std::move(curl);
  }

  HttpRequest Request(std::string method, const std::string& path) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = local_.Url(path);
    return request;
  }

  LocalHttpServer local_;
  std::unique_ptr<CurlHttpClient> curl_;
  std::atomic<int> attempts_{0};
  FakeSleeper sleeper_{kStart};
};

TEST_F(RetryingHttpClientTest, ServerErrorTwiceThenOk_SucceedsOnThirdAttempt) {
  Serve("/flaky", {{500, {}}, {500, {}}, {200, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("GET", "/flaky"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "attempt 3");
  EXPECT_EQ(attempts_.load(), 3);
  const std::vector<absl::Duration> waits = sleeper_.waits();
  ASSERT_THAT(waits, SizeIs(2));
  EXPECT_LE(waits[0], absl::Milliseconds(200));
  EXPECT_LE(waits[1], absl::Milliseconds(400));
}

TEST_F(RetryingHttpClientTest, TooManyRequestsWithRetryAfterSeconds_WaitsThatLong) {
  Serve("/limited", {{429, {{"Retry-After", "2"}}}, {200, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("GET", "/limited"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(sleeper_.waits(), ElementsAre(absl::Seconds(2)));
}

TEST_F(RetryingHttpClientTest, GitLabRateLimitResetEpoch_WaitsUntilThatInstant) {
  const std::string reset = absl::StrCat(absl::ToUnixSeconds(kStart + absl::Seconds(7)));
  Serve("/limited", {{429, {{"RateLimit-Reset", reset}}}, {200, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("GET", "/limited"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(sleeper_.waits(), ElementsAre(absl::Seconds(7)));
}

TEST_F(RetryingHttpClientTest, JiraXRateLimitResetIso8601_WaitsUntilThatInstant) {
  Serve("/limited", {{429, {{"X-RateLimit-Reset", "2025-06-04T12:03:19Z"}}}, {200, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("GET", "/limited"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(sleeper_.waits(), ElementsAre(absl::Seconds(12)));
}

TEST_F(RetryingHttpClientTest, NonIdempotentPost_IsNotRetriedOnServerError) {
  Serve("/create", {{500, {}}, {200, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("POST", "/create"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(attempts_.load(), 1);
  EXPECT_THAT(sleeper_.waits(), IsEmpty());
}

TEST_F(RetryingHttpClientTest, PostMarkedIdempotent_IsRetriedOnServerError) {
  Serve("/search/jql", {{502, {}}, {200, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);
  HttpRequest request = Request("POST", "/search/jql");
  request.idempotent = true;

  absl::StatusOr<HttpResponse> response = client.Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(attempts_.load(), 2);
}

TEST_F(RetryingHttpClientTest, NonIdempotentPost_IsRetriedOnTooManyRequests) {
  Serve("/create", {{429, {{"Retry-After", "1"}}}, {201, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("POST", "/create"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_THAT(sleeper_.waits(), ElementsAre(absl::Seconds(1)));
}

TEST_F(RetryingHttpClientTest, AlwaysUnavailable_GivesUpAfterMaxAttemptsWithLast503) {
  Serve("/down", {{503, {}}});
  StartServer();
  RetryPolicy policy;
  policy.max_attempts = 5;
  RetryingHttpClient client(*curl_, policy, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("GET", "/down"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "attempt 5");
  EXPECT_EQ(attempts_.load(), 5);
  EXPECT_THAT(sleeper_.waits(), SizeIs(4));
}

TEST_F(RetryingHttpClientTest, ClientError_IsReturnedWithoutRetry) {
  Serve("/missing", {{404, {}}});
  StartServer();
  RetryingHttpClient client(*curl_, RetryPolicy{}, sleeper_);

  absl::StatusOr<HttpResponse> response = client.Send(Request("GET", "/missing"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(attempts_.load(), 1);
}

// The remaining cases script the inner client to reach states a real server cannot.

TEST(RetryingHttpClientScriptedTest, TransportErrorOnGet_IsRetried) {
  ScriptedHttpClient inner({absl::UnavailableError("connection reset"),
                            absl::DeadlineExceededError("timed out"), Response(200)});
  FakeSleeper sleeper(kStart);
  RetryingHttpClient client(inner, RetryPolicy{}, sleeper);
  HttpRequest request;
  request.url = "https://jira.example/rest/api/3/issue/1";

  absl::StatusOr<HttpResponse> response = client.Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(inner.requests(), SizeIs(3));
}

TEST(RetryingHttpClientScriptedTest, TransportErrorOnPost_IsNotRetried) {
  ScriptedHttpClient inner({absl::UnavailableError("connection reset"), Response(201)});
  FakeSleeper sleeper(kStart);
  RetryingHttpClient client(inner, RetryPolicy{}, sleeper);
  HttpRequest request;
  request.method = "POST";
  request.url = "https://jira.example/rest/api/3/issue/1/remotelink";

  absl::StatusOr<HttpResponse> response = client.Send(request);

  EXPECT_EQ(response.status(), absl::UnavailableError("connection reset"));
  EXPECT_THAT(inner.requests(), SizeIs(1));
}

TEST(RetryingHttpClientScriptedTest, PersistentTransportError_ReturnsItWithAttemptCount) {
  ScriptedHttpClient inner({absl::UnavailableError("connection refused")});
  FakeSleeper sleeper(kStart);
  RetryPolicy policy;
  policy.max_attempts = 3;
  RetryingHttpClient client(inner, policy, sleeper);
  HttpRequest request;
  request.url = "https://gitlab.example/api/v4/projects/1/issues";

  absl::StatusOr<HttpResponse> response = client.Send(request);

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), HasSubstr("connection refused (after 3 attempts)"));
  EXPECT_THAT(inner.requests(), SizeIs(3));
}

TEST(RetryingHttpClientScriptedTest, NonTransientError_IsNotRetried) {
  ScriptedHttpClient inner({absl::ResourceExhaustedError("body too large")});
  FakeSleeper sleeper(kStart);
  RetryingHttpClient client(inner, RetryPolicy{}, sleeper);

  EXPECT_EQ(client.Send(HttpRequest{}).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(inner.requests(), SizeIs(1));
}

TEST(RetryingHttpClientScriptedTest, HintLongerThanMaxWait_GivesUpWithoutWaiting) {
  ScriptedHttpClient inner({Response(429, {{"retry-after", "3600"}}), Response(200)});
  FakeSleeper sleeper(kStart);
  RetryingHttpClient client(inner, RetryPolicy{}, sleeper);  // max_wait 60 s.

  absl::StatusOr<HttpResponse> response = client.Send(HttpRequest{});

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 429);
  EXPECT_THAT(sleeper.waits(), IsEmpty());
}

TEST(RetryingHttpClientScriptedTest, HintPastOverallDeadline_GivesUpWithLastResponse) {
  ScriptedHttpClient inner({Response(429, {{"retry-after", "20"}}), Response(200)});
  FakeSleeper sleeper(kStart);
  RetryPolicy policy;
  policy.overall_deadline = absl::Seconds(10);
  RetryingHttpClient client(inner, policy, sleeper);

  absl::StatusOr<HttpResponse> response = client.Send(HttpRequest{});

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 429);
  EXPECT_THAT(inner.requests(), SizeIs(1));
}

TEST(RetryingHttpClientScriptedTest, AttemptTimeout_IsShortenedToRemainingDeadline) {
  ScriptedHttpClient inner({Response(503, {{"retry-after", "4"}}), Response(200)});
  FakeSleeper sleeper(kStart);
  RetryPolicy policy;
  policy.overall_deadline = absl::Seconds(10);
  RetryingHttpClient client(inner, policy, sleeper);
  HttpRequest request;
  request.timeout = absl::Seconds(30);

  ASSERT_TRUE(client.Send(request).ok());

  const std::vector<HttpRequest> sent = inner.requests();
  ASSERT_THAT(sent, SizeIs(2));
  EXPECT_EQ(sent[0].timeout, absl::Seconds(10));
  EXPECT_EQ(sent[1].timeout, absl::Seconds(6));
}

TEST(RetryingHttpClientScriptedTest, Backoff_GrowsExponentiallyAndIsCapped) {
  ScriptedHttpClient inner({Response(500)});
  FakeSleeper sleeper(kStart);
  RetryPolicy policy;
  policy.max_attempts = 8;
  policy.max_backoff = absl::Seconds(1);
  RetryingHttpClient client(inner, policy, sleeper);

  ASSERT_TRUE(client.Send(HttpRequest{}).ok());

  const std::vector<absl::Duration> waits = sleeper.waits();
  ASSERT_THAT(waits, SizeIs(7));
  const absl::Duration caps[] = {
      absl::Milliseconds(200), absl::Milliseconds(400), absl::Milliseconds(800), absl::Seconds(1),
      absl::Seconds(1),        absl::Seconds(1),        absl::Seconds(1)};
  for (size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], absl::ZeroDuration()) << i;
    EXPECT_LE(waits[i], caps[i]) << i;
  }
}

// RetryHint, table-driven over the header forms Jira and GitLab send.
struct HintCase {
  std::string name;
  int status;
  HttpHeaders headers;
  std::optional<absl::Duration> hint;
};

class RetryHintTest : public ::testing::TestWithParam<HintCase> {};

TEST_P(RetryHintTest, HeaderForm_YieldsExpectedWait) {
  const HintCase& c = GetParam();
  EXPECT_EQ(RetryHint(Response(c.status, c.headers), kStart), c.hint);
}

INSTANTIATE_TEST_SUITE_P(
    JiraAndGitLab, RetryHintTest,
    ::testing::Values(
        HintCase{"RetryAfterSeconds", 429, {{"retry-after", "5"}}, absl::Seconds(5)},
        HintCase{"RetryAfterZero", 429, {{"retry-after", "0"}}, absl::ZeroDuration()},
        HintCase{"RetryAfterHttpDate",
                 429,
                 {{"retry-after", "Wed, 04 Jun 2025 12:03:37 GMT"}},
                 absl::Seconds(30)},
        HintCase{"RetryAfterRfc850Date",
                 429,
                 {{"retry-after", "Wednesday, 04-Jun-25 12:03:17 GMT"}},
                 absl::Seconds(10)},
        HintCase{"RetryAfterAsctimeDate",
                 429,
                 {{"retry-after", "Wed Jun  4 12:03:27 2025"}},
                 absl::Seconds(20)},
        HintCase{"RetryAfterDateInPast",
                 429,
                 {{"retry-after", "Wed, 04 Jun 2025 12:00:00 GMT"}},
                 absl::ZeroDuration()},
        HintCase{"RetryAfterHuge",
                 429,
                 {{"retry-after", "99999999999999999999999"}},
                 absl::InfiniteDuration()},
        HintCase{"RetryAfterOn503", 503, {{"retry-after", "3"}}, absl::Seconds(3)},
        HintCase{"RetryAfterPreferredOverReset",
                 429,
                 {{"x-ratelimit-reset", "2025-06-04T12:04Z"}, {"retry-after", "1"}},
                 absl::Seconds(1)},
        HintCase{"JiraResetIsoSeconds",
                 429,
                 {{"x-ratelimit-reset", "2025-06-04T12:03:10Z"}},
                 absl::Seconds(3)},
        HintCase{"JiraResetIsoMinutes",
                 429,
                 {{"x-ratelimit-reset", "2025-06-04T12:04Z"}},
                 absl::Seconds(53)},
        HintCase{"JiraResetIsoOffsetWithoutColon",
                 429,
                 {{"x-ratelimit-reset", "2025-06-04T14:03:17.000+0200"}},
                 absl::Seconds(10)},
        HintCase{
            "JiraResetEpochSeconds", 429, {{"x-ratelimit-reset", "1749038597"}}, absl::Seconds(10)},
        HintCase{"GitLabResetEpoch", 429, {{"ratelimit-reset", "1749038594"}}, absl::Seconds(7)},
        HintCase{
            "GitLabResetInPast", 429, {{"ratelimit-reset", "1749038000"}}, absl::ZeroDuration()},
        HintCase{"ResetIgnoredOn503", 503, {{"ratelimit-reset", "1749038594"}}, std::nullopt},
        HintCase{"NoHintOn500", 500, {{"retry-after", "5"}}, std::nullopt},
        HintCase{"GarbageRetryAfter", 429, {{"retry-after", "soon"}}, std::nullopt},
        HintCase{"NegativeRetryAfter", 429, {{"retry-after", "-5"}}, std::nullopt},
        HintCase{"NoHeaders", 429, {}, std::nullopt}),
    [](const ::testing::TestParamInfo<HintCase>& info) { return info.param.name; });

}  // namespace
}  // namespace okr::outbound
