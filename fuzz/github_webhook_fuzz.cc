// GitHub webhook deliveries through the GitHub connector's webhook half:
// X-Hub-Signature-256 verification, then the `issues` event parser
// (connectors/github/webhook.h), the mapping to a work item and the dedupe key. Input
// format: fuzz/webhook_fuzz.h.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/github/github_config.h"
#include "connectors/github/github_connector.h"
#include "connectors/github/webhook.h"
#include "fuzz/webhook_fuzz.h"
#include "service/outbound/signature.h"

namespace {

constexpr absl::string_view kSecret = "fuzz-github-secret";

const okr::sync::TrackerConnector& Connector() {
  static okr::fuzz::NoNetworkHttpClient* http = new okr::fuzz::NoNetworkHttpClient();
  static const okr::sync::TrackerConnector* connector = [] {
    okr::connectors::github::GitHubInstanceConfig instance;
    instance.name = "default";
    instance.token = "token";
    instance.webhook_secret = std::string(kSecret);
    okr::connectors::github::GitHubDoneRule rule;
    rule.credit = {{"in review", 0.5}};
    instance.done["acme/app"] = rule;
    absl::StatusOr<std::unique_ptr<okr::sync::TrackerConnector>> made =
        okr::connectors::github::MakeGitHubConnector(instance, *http);
    if (!made.ok()) std::abort();
    return made->release();
  }();
  return *connector;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  okr::fuzz::FuzzWebhookDelivery(
      Connector(), "x-hub-signature-256",
      [](absl::string_view body) { return okr::outbound::SignatureHeaderValue(kSecret, body); },
      okr::Tracker::kGitHub, data, size);
  const std::string body(reinterpret_cast<const char*>(data), size);
  okr::fuzz::Check(okr::connectors::github::DedupeKey(body, "").size() <=
                       okr::connectors::github::kMaxDeliveryIdBytes,
                   "a dedupe key is bounded");
  return 0;
}
