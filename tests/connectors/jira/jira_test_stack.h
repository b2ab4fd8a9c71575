// The production outbound Jira stack pointed at a FakeJiraServer, for the sync tests:
//
//   CurlHttpClient -> RetryingHttpClient (FakeSleeper) -> AuthenticatingHttpClient(Basic)
//     -> JiraClient
//
// Retry waits go through FakeSleeper, which records them and advances its own time instead
// of sleeping, so a 429 storm with Retry-After costs no wall time.
#ifndef OKR_TESTS_CONNECTORS_JIRA_JIRA_TEST_STACK_H_
#define OKR_TESTS_CONNECTORS_JIRA_JIRA_TEST_STACK_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connectors/http/auth.h"
#include "connectors/http/curl_http_client.h"
#include "connectors/http/retrying_http_client.h"
#include "connectors/jira/jira_client.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace okr::connectors::jira::testing {

// Time stands still except when the retry loop sleeps; records every wait. Thread-safe.
class FakeSleeper final : public http::Sleeper {
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

// Owns the layers; `client` talks to `fake` with its credentials.
struct JiraTestStack {
  FakeSleeper sleeper;
  std::unique_ptr<http::CurlHttpClient> curl;
  std::unique_ptr<http::RetryingHttpClient> retrying;
  std::unique_ptr<http::AuthenticatingHttpClient> authenticated;
  std::unique_ptr<JiraClient> client;

  static absl::StatusOr<std::unique_ptr<JiraTestStack>> Create(
      const okr::testing::FakeJiraServer& fake) {
    auto stack = std::make_unique<JiraTestStack>();
    absl::StatusOr<std::unique_ptr<http::CurlHttpClient>> curl = http::CurlHttpClient::Create({});
    if (!curl.ok()) return curl.status();
    stack->curl = *std::move(curl);
    http::RetryPolicy policy;
    policy.max_attempts = 5;
    stack->retrying =
        std::make_unique<http::RetryingHttpClient>(*stack->curl, policy, stack->sleeper);
    stack->authenticated = std::make_unique<http::AuthenticatingHttpClient>(
        *stack->retrying, http::BasicAuth(fake.options().email, fake.options().api_token));
    JiraClientOptions options;
    options.site_base_url = fake.base_url();
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
