// The production outbound Jira stack pointed at a FakeJiraServer, for the sync tests:
//
//   CurlHttpClient -> RetryingHttpClient (FakeSleeper) -> AuthenticatingHttpClient(Basic)
//     -> JiraClient
//
// Retry waits go through FakeSleeper, which records them and advances its own time instead
// of sleeping, so a 429 storm with Retry-After costs no wall time.
//
// SharedFakeJiraForTest() serves the fake either on a free port (the client talks to it
// directly) or, when the binary runs under prism_integration_test.sh, on the port that
// script's Prism proxy forwards to, with the client pointed at the proxy
// (OKR_TEST_FAKE_JIRA_PORT and OKR_TEST_JIRA_URL). Either way `jira_url` is the site base
// URL the connector is configured with.
#ifndef OKR_TESTS_CONNECTORS_JIRA_JIRA_TEST_STACK_H_
#define OKR_TESTS_CONNECTORS_JIRA_JIRA_TEST_STACK_H_

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connectors/jira/jira_client.h"
#include "service/outbound/auth.h"
#include "service/outbound/curl_http_client.h"
#include "service/outbound/retrying_http_client.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace okr::connectors::jira::testing {

// Time stands still except when the retry loop sleeps; records every wait. Thread-safe.
class FakeSleeper final : public outbound::Sleeper {
 public:
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
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1749038587);
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

// The fake and the Jira site URL the connector under test uses to reach it.
struct FakeJiraForTest {
  okr::testing::FakeJiraServer* fake = nullptr;
  std::string jira_url;
};

// The binary's one FakeJiraServer (default options), started on first use and Reset() on
// every later call, so that each test starts from an empty fake. Tests run one at a time. See
// the file comment for the proxy variables; setting only one of them is INVALID_ARGUMENT.
inline absl::StatusOr<FakeJiraForTest> SharedFakeJiraForTest() {
  static absl::StatusOr<FakeJiraForTest>* const shared = [] {
    const char* port = std::getenv("OKR_TEST_FAKE_JIRA_PORT");
    const char* url = std::getenv("OKR_TEST_JIRA_URL");
    if ((port == nullptr) != (url == nullptr)) {
      return new absl::StatusOr<FakeJiraForTest>(absl::InvalidArgumentError(
          "set both OKR_TEST_FAKE_JIRA_PORT and OKR_TEST_JIRA_URL, or neither"));
    }
    okr::testing::FakeJiraOptions options;
    if (port != nullptr && !absl::SimpleAtoi(port, &options.port)) {
      return new absl::StatusOr<FakeJiraForTest>(
          absl::InvalidArgumentError(absl::StrCat("bad OKR_TEST_FAKE_JIRA_PORT: ", port)));
    }
    absl::StatusOr<std::unique_ptr<okr::testing::FakeJiraServer>> fake =
        okr::testing::FakeJiraServer::Start(std::move(options));
    if (!fake.ok()) return new absl::StatusOr<FakeJiraForTest>(fake.status());
    FakeJiraForTest started;
    // Lives until the process exits: stopping it would wait out the proxy's keep-alive.
    started.fake = fake->release();
    started.jira_url = url != nullptr ? std::string(url) : started.fake->base_url();
    return new absl::StatusOr<FakeJiraForTest>(std::move(started));
  }();
  if (shared->ok()) (*shared)->fake->Reset();
  return *shared;
}

// Owns the layers; `client` talks to `jira_url` (the fake, or a proxy in front of it) with
// the fake's credentials.
struct JiraTestStack {
  FakeSleeper sleeper;
  std::unique_ptr<outbound::CurlHttpClient> curl;
  std::unique_ptr<outbound::RetryingHttpClient> retrying;
  std::unique_ptr<outbound::AuthenticatingHttpClient> authenticated;
  std::unique_ptr<JiraClient> client;

  static absl::StatusOr<std::unique_ptr<JiraTestStack>> Create(
      const okr::testing::FakeJiraServer& fake) {
    return Create(fake, fake.base_url());
  }
  static absl::StatusOr<std::unique_ptr<JiraTestStack>> Create(
      const okr::testing::FakeJiraServer& fake, const std::string& jira_url) {
    auto stack = std::make_unique<JiraTestStack>();
    absl::StatusOr<std::unique_ptr<outbound::CurlHttpClient>> curl =
        outbound::CurlHttpClient::Create({});
    if (!curl.ok()) return curl.status();
    stack->curl = *std::move(curl);
    outbound::RetryPolicy policy;
    policy.max_attempts = 5;
    stack->retrying =
        std::make_unique<outbound::RetryingHttpClient>(*stack->curl, policy, stack->sleeper);
    stack->authenticated = std::make_unique<outbound::AuthenticatingHttpClient>(
        *stack->retrying, outbound::BasicAuth(fake.options().email, fake.options().api_token));
    JiraClientOptions options;
    options.site_base_url = jira_url;
    options.fields.story_points_field = fake.options().story_points_field;
    absl::StatusOr<std::unique_ptr<JiraClient>> client =
        JiraClient::Create(*stack->authenticated, std::move(options));
    if (!client.ok()) return client.status();
    stack->client = *std::move(client);
    return stack;
  }
};

}  // namespace okr::connectors::jira::testing

#endif  // OKR_TESTS_CONNECTORS_JIRA_JIRA_TEST_STACK_H_
