// Jira webhook deliveries through the Jira connector's webhook half: X-Hub-Signature
// verification, then ParseWebhook (connectors/jira/webhook.h) and the mapping to a work
// item. Input format: fuzz/webhook_fuzz.h.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/jira/jira_config.h"
#include "connectors/jira/jira_connector.h"
#include "connectors/jira/webhook.h"
#include "fuzz/webhook_fuzz.h"

namespace {

constexpr absl::string_view kSecret = "fuzz-jira-secret";

const okr::sync::TrackerConnector& Connector() {
  static okr::fuzz::NoNetworkHttpClient* http = new okr::fuzz::NoNetworkHttpClient();
  static const okr::sync::TrackerConnector* connector = [] {
    okr::connectors::jira::JiraSiteConfig site;
    site.name = "default";
    site.url = "https://acme.atlassian.net";
    site.email = "okr-bot@acme.example";
    site.api_token = "token";
    site.webhook_secret = std::string(kSecret);
    site.story_points_field = "customfield_10016";
    okr::connectors::jira::JiraDoneRule rule;
    rule.statuses = {"Deployed"};
    rule.status_categories = {"done"};
    rule.credit = {{"In Review", 0.5}};
    site.done["OKRX"] = rule;
    absl::StatusOr<std::unique_ptr<okr::sync::TrackerConnector>> made =
        okr::connectors::jira::MakeJiraConnector(site, *http);
    if (!made.ok()) std::abort();
    return made->release();
  }();
  return *connector;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  okr::fuzz::FuzzWebhookDelivery(
      Connector(), "x-hub-signature",
      [](absl::string_view body) { return okr::connectors::jira::ComputeSignature(kSecret, body); },
      okr::Tracker::kJira, data, size);
  return 0;
}
