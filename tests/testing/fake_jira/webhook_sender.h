// Plays Jira's webhook side in tests: builds realistic v2-shaped issue event bodies (as Jira
// Cloud sends them, `issue.self` without the /issue/ segment as observed), signs them like
// an admin webhook with a secret (X-Hub-Signature: sha256=<hex HMAC>) and POSTs them with
// Jira's delivery headers. Redelivery and reordering are composed from plain vectors.
//
// Usage:
//   WebhookEventOptions options;
//   options.site_base_url = "https://acme.atlassian.net";
//   options.status_from = "indeterminate";          // a transition into issue's category
//   std::vector<WebhookDelivery> deliveries = {
//       MakeDelivery(IssueUpdatedEvent(closed_issue, options), "wh-1"),
//       MakeDelivery(IssueDeletedEvent(other_issue, options), "wh-2")};
//   deliveries = WithRedelivery(std::move(deliveries), 0);  // "wh-1" arrives twice
//   deliveries = Reordered(std::move(deliveries), {2, 0, 1});
//   for (const auto& d : deliveries) SendWebhook(url, d, "s3cret");
//
// Thread-compatible free functions; SendWebhook blocks for at most ~15 s.
#ifndef OKR_TESTS_TESTING_FAKE_JIRA_WEBHOOK_SENDER_H_
#define OKR_TESTS_TESTING_FAKE_JIRA_WEBHOOK_SENDER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace okr::testing {

struct WebhookEventOptions {
  std::string site_base_url = "https://acme.atlassian.net";
  std::string story_points_field = "customfield_10016";
  int64_t timestamp_ms = 1749031387500;  // 2025-06-04T10:03:07.500Z
  // Defaults per event: "issue_created", "issue_generic" (updated); absent on deleted.
  std::optional<std::string> issue_event_type_name;
  // Adds a changelog status item from this category's status to the issue's.
  std::optional<std::string> status_from;
  // Adds a changelog summary item from this text to the issue's summary.
  std::optional<std::string> summary_from;
  // Data Center style changelog: no fieldId, field "Status" capitalised.
  bool omit_field_ids = false;
};

// jira:issue_created / jira:issue_updated / jira:issue_deleted bodies.
nlohmann::json IssueCreatedEvent(const FakeJiraIssue& issue, const WebhookEventOptions& options);
nlohmann::json IssueUpdatedEvent(const FakeJiraIssue& issue, const WebhookEventOptions& options);
nlohmann::json IssueDeletedEvent(const FakeJiraIssue& issue, const WebhookEventOptions& options);
// Any other event that carries the issue, e.g. "comment_created".
nlohmann::json OtherIssueEvent(absl::string_view webhook_event, const FakeJiraIssue& issue,
                               const WebhookEventOptions& options);

// "sha256=<lowercase hex HMAC-SHA256(secret, body)>" (independent of the connector's code).
std::string SignJiraWebhook(absl::string_view secret, absl::string_view body);

// One delivery attempt: the identifier stays the same across Jira's retries.
struct WebhookDelivery {
  std::string identifier;  // X-Atlassian-Webhook-Identifier
  std::string body;        // Raw bytes, signed as they are.
  int retry = 0;           // X-Atlassian-Webhook-Retry (sent only when > 0).
};

WebhookDelivery MakeDelivery(const nlohmann::json& event, std::string identifier);

// `deliveries` with a redelivery of deliveries[index] (same identifier and body, retry + 1)
// inserted right after it. Out-of-range indexes leave the vector unchanged.
std::vector<WebhookDelivery> WithRedelivery(std::vector<WebhookDelivery> deliveries, size_t index);
// deliveries[order[0]], deliveries[order[1]], ... (indexes may repeat or be left out;
// out-of-range ones are skipped).
std::vector<WebhookDelivery> Reordered(const std::vector<WebhookDelivery>& deliveries,
                                       absl::Span<const size_t> order);

// POSTs the delivery to `url` (http://host:port/path) with Content-Type, X-Hub-Signature
// (omitted when `secret` is empty), X-Atlassian-Webhook-Identifier, X-Atlassian-Webhook-Flow
// and, on retries, X-Atlassian-Webhook-Retry. Returns the HTTP status; UNAVAILABLE if no
// response arrived, INVALID_ARGUMENT for a malformed URL.
absl::StatusOr<int> SendWebhook(absl::string_view url, const WebhookDelivery& delivery,
                                absl::string_view secret);
absl::StatusOr<int> SendWebhook(absl::string_view url, const nlohmann::json& event,
                                absl::string_view secret, absl::string_view identifier);

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_FAKE_JIRA_WEBHOOK_SENDER_H_
