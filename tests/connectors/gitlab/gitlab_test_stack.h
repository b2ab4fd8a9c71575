// The production outbound GitLab stack pointed at a FakeGitLabServer, for the sync tests:
//
//   CurlHttpClient -> RetryingHttpClient (ClockSleeper) -> GitLabClient (adds PRIVATE-TOKEN)
//
// Retry waits go through ClockSleeper, which records them and advances the test's FakeClock
// (the one the fake GitLab stamps its RateLimit-Reset epochs with) instead of sleeping, so a
// 429 storm costs no wall time.
#ifndef OKR_TESTS_CONNECTORS_GITLAB_GITLAB_TEST_STACK_H_
#define OKR_TESTS_CONNECTORS_GITLAB_GITLAB_TEST_STACK_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connectors/gitlab/gitlab_client.h"
#include "service/outbound/curl_http_client.h"
#include "service/outbound/retrying_http_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"

namespace okr::connectors::gitlab::testing {

// The retry loop's time is the test's FakeClock; sleeping advances it. Thread-safe.
class ClockSleeper final : public outbound::Sleeper {
 public:
  explicit ClockSleeper(okr::testing::FakeClock& clock) : clock_(clock) {}
  absl::Time Now() override { return clock_.Now(); }
  void SleepFor(absl::Duration duration) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(duration);
    clock_.Advance(duration);
  }
  std::vector<absl::Duration> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  okr::testing::FakeClock& clock_;
  absl::Mutex mu_;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

// Owns the layers; `client` talks to `fake` with its token.
struct GitLabTestStack {
  explicit GitLabTestStack(okr::testing::FakeClock& clock) : sleeper(clock) {}

  ClockSleeper sleeper;
  std::unique_ptr<outbound::CurlHttpClient> curl;
  std::unique_ptr<outbound::RetryingHttpClient> retrying;
  std::unique_ptr<GitLabClient> client;

  static absl::StatusOr<std::unique_ptr<GitLabTestStack>> Create(
      const okr::testing::FakeGitLabServer& fake, okr::testing::FakeClock& clock) {
    auto stack = std::make_unique<GitLabTestStack>(clock);
    absl::StatusOr<std::unique_ptr<outbound::CurlHttpClient>> curl =
        outbound::CurlHttpClient::Create({});
    if (!curl.ok()) return curl.status();
    stack->curl = *std::move(curl);
    outbound::RetryPolicy policy;
    policy.max_attempts = 5;
    stack->retrying =
        std::make_unique<outbound::RetryingHttpClient>(*stack->curl, policy, stack->sleeper);
    GitLabClientOptions options;
    options.base_url = fake.base_url();
    options.private_token = fake.private_token();
    absl::StatusOr<std::unique_ptr<GitLabClient>> client =
        GitLabClient::Create(*stack->retrying, std::move(options));
    if (!client.ok()) return client.status();
    stack->client = *std::move(client);
    return stack;
  }
};

}  // namespace okr::connectors::gitlab::testing

#endif  // OKR_TESTS_CONNECTORS_GITLAB_GITLAB_TEST_STACK_H_
