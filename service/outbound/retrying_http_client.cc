#include "service/outbound/retrying_http_client.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/outbound/status_mapping.h"

namespace okr::outbound {
namespace {

bool IsAllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Non-negative integer seconds ("120"); a number too large to represent waits forever.
std::optional<int64_t> ParseSeconds(absl::string_view value) {
  if (!IsAllDigits(value)) return std::nullopt;
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(value, &seconds)) return INT64_MAX;
  return seconds;
}

// Jira's X-RateLimit-Reset: ISO-8601 (seconds and fraction optional, "Z" or an offset with
// or without a colon), or epoch seconds.
std::optional<absl::Time> ParseResetTime(absl::string_view value) {
  if (std::optional<int64_t> epoch = ParseSeconds(value)) return absl::FromUnixSeconds(*epoch);
  static constexpr const char* kFormats[] = {
      "%Y-%m-%d%ET%H:%M:%E*S%Ez",
      "%Y-%m-%d%ET%H:%M:%E*S%z",
      "%Y-%m-%d%ET%H:%M%Ez",
      "%Y-%m-%d%ET%H:%M%z",
  };
  for (const char* format : kFormats) {
    absl::Time time;
    if (absl::ParseTime(format, value, &time, nullptr)) return time;
  }
  return std::nullopt;
}

absl::Duration Until(absl::Time time, absl::Time now) {
  return std::max(absl::ZeroDuration(), time - now);
}

bool IsRetryableTransportError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

std::optional<absl::Time> ParseHttpDate(absl::string_view value) {
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
      "%a %b %e %H:%M:%S %Y",       // asctime: Sun Nov  6 08:49:37 1994
  };
  for (const char* format : kFormats) {
    absl::Time time;
    if (absl::ParseTime(format, value, absl::UTCTimeZone(), &time, nullptr)) return time;
  }
  return std::nullopt;
}

std::optional<absl::Duration> RetryHint(const HttpResponse& response, absl::Time now) {
  if (response.status != 429 && response.status != 503) return std::nullopt;
  if (std::optional<std::string> retry_after = response.Header("retry-after")) {
    if (std::optional<int64_t> seconds = ParseSeconds(*retry_after)) {
      return *seconds == INT64_MAX ? absl::InfiniteDuration() : absl::Seconds(*seconds);
    }
    if (std::optional<absl::Time> date = ParseHttpDate(*retry_after)) return Until(*date, now);
  }
  // On a 503 the reset headers describe the quota window, not this failure.
  if (response.status != 429) return std::nullopt;
  if (std::optional<std::string> reset = response.Header("x-ratelimit-reset")) {
    if (std::optional<absl::Time> time = ParseResetTime(*reset)) return Until(*time, now);
  }
  if (std::optional<std::string> reset = response.Header("ratelimit-reset")) {
    // GitLab: an absolute Unix time, not a delta.
    if (std::optional<int64_t> epoch = ParseSeconds(*reset)) {
      return Until(absl::FromUnixSeconds(*epoch), now);
    }
  }
  return std::nullopt;
}

absl::Time RealSleeper::Now() { return absl::Now(); }

void RealSleeper::SleepFor(absl::Duration duration) { absl::SleepFor(duration); }

RealSleeper& RealSleeper::Get() {
  static RealSleeper* sleeper = new RealSleeper();
  return *sleeper;
}

RetryingHttpClient::RetryingHttpClient(HttpClient& inner, RetryPolicy policy, Sleeper& sleeper)
    : inner_(inner), policy_(std::move(policy)), sleeper_(sleeper) {}

absl::Duration RetryingHttpClient::Backoff(int retry) {
  const absl::Duration cap =
      std::min(policy_.max_backoff,
               policy_.initial_backoff * std::pow(policy_.backoff_multiplier, retry - 1));
  if (cap <= absl::ZeroDuration()) return absl::ZeroDuration();
  absl::MutexLock lock(&mu_);
  return cap * absl::Uniform<double>(absl::IntervalClosed, bitgen_, 0.0, 1.0);
}

absl::StatusOr<HttpResponse> RetryingHttpClient::Send(const HttpRequest& request) {
  const int max_attempts = std::max(1, policy_.max_attempts);
  const absl::Time deadline = sleeper_.Now() + policy_.overall_deadline;
  const bool idempotent = request.IsIdempotent();
  std::optional<HttpRequest> shortened;  // A copy, made only if the deadline cuts a timeout.

  for (int attempt = 1;; ++attempt) {
    const HttpRequest* to_send = &request;
    if (const absl::Duration remaining = deadline - sleeper_.Now(); remaining < request.timeout) {
      if (!shortened.has_value()) shortened = request;
      shortened->timeout = std::max(remaining, absl::Milliseconds(1));
      to_send = &*shortened;
    }
    absl::StatusOr<HttpResponse> outcome = inner_.Send(*to_send);
    // Gives up with `outcome`; a transport error says how often it was tried.
    auto give_up = [&]() -> absl::StatusOr<HttpResponse> {
      if (outcome.ok() || attempt == 1) return outcome;
      return absl::Status(outcome.status().code(), absl::StrCat(outcome.status().message(),
                                                                " (after ", attempt, " attempts)"));
    };

    std::optional<absl::Duration> hint;
    if (outcome.ok()) {
      const int status = outcome->status;
      if (status != 429 && !(idempotent && IsRetryable(status))) return outcome;
      hint = RetryHint(*outcome, sleeper_.Now());
    } else if (!idempotent || !IsRetryableTransportError(outcome.status())) {
      return outcome;
    }
    if (attempt >= max_attempts) return give_up();
    // Retrying before the server allows it only burns an attempt.
    if (hint.has_value() && *hint > policy_.max_wait) return give_up();
    const absl::Duration wait = std::max(Backoff(attempt), hint.value_or(absl::ZeroDuration()));
    if (sleeper_.Now() + wait >= deadline) return give_up();
    sleeper_.SleepFor(wait);
  }
}

}  // namespace okr::outbound
