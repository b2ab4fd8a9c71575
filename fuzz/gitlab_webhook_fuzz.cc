// GitLab webhook deliveries through the GitLab connector's webhook half: X-Gitlab-Token
// verification, then the Issue Hook parser (connectors/gitlab/webhook.h), the mapping to a
// work item and the dedupe key. Input format: fuzz/webhook_fuzz.h.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/gitlab/gitlab_config.h"
#include "connectors/gitlab/gitlab_connector.h"
#include "connectors/gitlab/webhook.h"
#include "fuzz/webhook_fuzz.h"

namespace {

constexpr absl::string_view kToken = "fuzz-gitlab-token";

const okr::sync::TrackerConnector& Connector() {
  static okr::fuzz::NoNetworkHttpClient* http = new okr::fuzz::NoNetworkHttpClient();
  static const okr::sync::TrackerConnector* connector = [] {
    okr::connectors::gitlab::GitLabInstanceConfig instance;
    instance.name = "default";
    instance.url = "https://gitlab.example.com";
    instance.token = "token";
    instance.webhook_token = std::string(kToken);
    okr::connectors::gitlab::GitLabDoneRule rule;
    rule.states = {"closed"};
    rule.labels = {"workflow::deployed"};
    rule.credit = {{"workflow::review", 0.5}};
    instance.done["acme/checkout"] = rule;
    absl::StatusOr<std::unique_ptr<okr::sync::TrackerConnector>> made =
        okr::connectors::gitlab::MakeGitLabConnector(instance, *http);
    if (!made.ok()) std::abort();
    return made->release();
  }();
  return *connector;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  okr::fuzz::FuzzWebhookDelivery(
      Connector(), "x-gitlab-token", [](absl::string_view) { return std::string(kToken); },
      okr::Tracker::kGitLab, data, size);
  const std::string body(reinterpret_cast<const char*>(data), size);
  okr::fuzz::Check(okr::connectors::gitlab::DedupeKey(body, "").size() <=
                       okr::connectors::gitlab::kMaxIdempotencyKeyBytes,
                   "a dedupe key is bounded");
  return 0;
}
