// The shared half of the webhook fuzz targets: one input is one delivery to a tracker
// connector's webhook half (sync::TrackerConnector::VerifyWebhook, then ParseWebhook, as
// service/http/webhook_ingress.cc calls them), and the checks every connector must pass.
//
// An input is text like an HTTP request without the request line:
//
//   x-gitlab-event: Issue Hook
//   x-gitlab-token: @valid
//
//   {"object_kind": "issue", ...}
//
// Header lines up to the first empty line ("name: value", names lower-cased, values
// trimmed), then the body, byte for byte; an input without an empty line is all body.
// "@valid" as the credential header's value stands for the correct credential of the
// body, so the fuzzer reaches the parser through authentic deliveries too.
//
//   FuzzWebhookDelivery(*connector, "x-gitlab-token", [](absl::string_view body) {...},
//                       Tracker::kGitLab, data, size);
#ifndef OKR_FUZZ_WEBHOOK_FUZZ_H_
#define OKR_FUZZ_WEBHOOK_FUZZ_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_checks.h"
#include "service/okr/model.h"
#include "service/okr/validation.h"
#include "service/outbound/http_client.h"
#include "service/sync/tracker_connector.h"
#include "service/sync/tracker_sync.h"

namespace okr::fuzz {

inline constexpr absl::string_view kValidCredential = "@valid";

struct Delivery {
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

inline Delivery SplitDelivery(absl::string_view input) {
  Delivery delivery;
  const size_t head_end = input.find("\n\n");
  if (head_end == absl::string_view::npos) {
    delivery.body = std::string(input);
    return delivery;
  }
  absl::string_view head = input.substr(0, head_end);
  delivery.body = std::string(input.substr(head_end + 2));
  while (!head.empty()) {
    const size_t eol = head.find('\n');
    const absl::string_view line = head.substr(0, eol);
    head = eol == absl::string_view::npos ? absl::string_view() : head.substr(eol + 1);
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
    delivery.headers[name] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return delivery;
}

// The outbound client of a connector whose webhook half alone is fuzzed.
class NoNetworkHttpClient final : public outbound::HttpClient {
 public:
  absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest&) override {
    return absl::UnavailableError("no network while fuzzing");
  }
};

// Verifies and parses one delivery. Checked: a delivery with the correct credential is
// authentic, verification answers OK or UNAUTHENTICATED (a secret is configured), parsing
// answers OK or INVALID_ARGUMENT, an item event carries this tracker's item with an
// identity, and the domain's validation of the item (what the ingress's sink does) returns.
template <typename CredentialFn>
void FuzzWebhookDelivery(const sync::TrackerConnector& connector,
                         absl::string_view credential_header, CredentialFn credential_of,
                         Tracker tracker, const uint8_t* data, size_t size) {
  Delivery delivery = SplitDelivery(absl::string_view(reinterpret_cast<const char*>(data), size));
  auto credential = delivery.headers.find(std::string(credential_header));
  const bool signed_correctly =
      credential != delivery.headers.end() && credential->second == kValidCredential;
  if (signed_correctly) credential->second = credential_of(delivery.body);
  const sync::WebhookRequest request(delivery.headers, delivery.body);

  const absl::Status verified = connector.VerifyWebhook(request);
  CheckCode(verified, absl::StatusCode::kUnauthenticated, "VerifyWebhook");
  if (signed_correctly) Check(verified.ok(), "a correctly signed delivery verifies");

  const absl::StatusOr<sync::TrackerEvent> event = connector.ParseWebhook(request);
  CheckCode(event.status(), absl::StatusCode::kInvalidArgument, "ParseWebhook");
  if (!event.ok() || event->kind == sync::TrackerEvent::Kind::kIgnored) return;
  Check(event->item.tracker == tracker, "the item is this tracker's");
  Check(!event->item.external_id.empty() || !event->item.key.empty(), "the item has an identity");
  if (event->kind == sync::TrackerEvent::Kind::kItemUpdated) {
    (void)ValidateWorkItem(event->item);
  }
}

}  // namespace okr::fuzz

#endif  // OKR_FUZZ_WEBHOOK_FUZZ_H_
