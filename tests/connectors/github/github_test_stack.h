// The production outbound GitHub stack pointed at a FakeGitHubServer:
//
//   CurlHttpClient -> GitHubClient (Bearer token, GitHub headers, rate-limit waits)
//
// Rate-limit waits go through ClockSleeper, which records them and advances the FakeClock
// the fake stamps x-ratelimit-reset with, so no wall time passes.
#ifndef OKR_TESTS_CONNECTORS_GITHUB_GITHUB_TEST_STACK_H_
#define OKR_TESTS_CONNECTORS_GITHUB_GITHUB_TEST_STACK_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connectors/github/github_client.h"
#include "service/outbound/curl_http_client.h"
#include "service/outbound/retrying_http_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_github/fake_github_server.h"

namespace okr::connectors::github::testing {

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

struct GitHubTestStack {
  explicit GitHubTestStack(okr::testing::FakeClock& clock) : sleeper(clock) {}

  ClockSleeper sleeper;
  std::unique_ptr<outbound::CurlHttpClient> curl;
  std::unique_ptr<GitHubClient> client;

  static absl::StatusOr<std::unique_ptr<GitHubTestStack>> Create(
      const okr::testing::FakeGitHubServer& fake, okr::testing::FakeClock& clock,
      GitHubClientOptions options = {}) {
    auto stack = std::make_unique<GitHubTestStack>(clock);
    absl::StatusOr<std::unique_ptr<outbound::CurlHttpClient>> curl =
        outbound::CurlHttpClient::Create({});
    if (!curl.ok()) return curl.status();
    stack->curl = *std::move(curl);
    options.base_url = fake.base_url();
    options.token = fake.token();
    options.sleeper = &stack->sleeper;
    absl::StatusOr<std::unique_ptr<GitHubClient>> client =
        GitHubClient::Create(*stack->curl, std::move(options));
    if (!client.ok()) return client.status();
    stack->client = *std::move(client);
    return stack;
  }
};

}  // namespace okr::connectors::github::testing

#endif  // OKR_TESTS_CONNECTORS_GITHUB_GITHUB_TEST_STACK_H_
