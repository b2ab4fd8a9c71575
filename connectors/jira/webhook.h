// Inbound Jira webhooks: signature verification and parsing of issue events.
//
// Jira admin webhooks with a secret sign the raw body: `X-Hub-Signature:
// sha256=<hex HMAC-SHA256(secret, body)>`. Bodies use the v2 representation even on Cloud.
// Delivery is at-least-once and unordered: the HTTP layer dedupes on
// `X-Atlassian-Webhook-Identifier` (the same across retries) and the sync layer drops
// stale events by `issue_updated` / `timestamp_ms`.
//
// Usage (in the connector's webhook half, jira_connector.cc):
//   OKR_RETURN_IF_ERROR(VerifySignature(secret, body, request.Header("x-hub-signature")));
//   OKR_ASSIGN_OR_RETURN(JiraWebhookEvent event, ParseWebhook(body, field_config));
//   if (event.kind == JiraWebhookEvent::Kind::kOther) return ignored;
//   WorkItem state = SyncedWorkItem(ToJiraIssue(event), site_base_url);
//
// Contract: pure functions, thread-safe, never throw, never log the body or the secret.
#ifndef OKR_CONNECTORS_JIRA_WEBHOOK_H_
#define OKR_CONNECTORS_JIRA_WEBHOOK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "connectors/jira/mapper.h"  // JiraFieldConfig, JiraIssue, ParseJiraTime.

namespace okr::connectors::jira {

// Delivery headers (HTTP header names are case-insensitive).
inline constexpr absl::string_view kSignatureHeader = "X-Hub-Signature";
inline constexpr absl::string_view kWebhookIdentifierHeader = "X-Atlassian-Webhook-Identifier";
inline constexpr absl::string_view kWebhookRetryHeader = "X-Atlassian-Webhook-Retry";

// Largest webhook body the Jira connector accepts (its WebhookPolicy: the ingress answers
// 413 above it before anything else is looked at).
inline constexpr size_t kMaxJiraWebhookRequestBytes = size_t{1} << 20;

// Bodies above this size are rejected by ParseWebhook (Jira issue events are a few KiB to a
// few hundred KiB with many custom fields).
inline constexpr size_t kMaxWebhookBodyBytes = size_t{4} << 20;

// Checks `x_hub_signature_header` ("sha256=<64 hex digits>", hex in either case) against
// HMAC-SHA256(secret, raw_body), comparing in constant time. Returns OK on a match;
// UNAUTHENTICATED for a missing/empty header, another method (e.g. "sha1=..."), a malformed
// digest or a mismatch; FAILED_PRECONDITION if `secret` is empty (misconfiguration: an
// unsigned webhook cannot be verified). Messages never contain the expected digest.
absl::Status VerifySignature(absl::string_view secret, absl::string_view raw_body,
                             absl::string_view x_hub_signature_header);

// "sha256=<lowercase hex HMAC-SHA256(secret, raw_body)>", what Jira sends. For tests and
// fakes that play Jira's part.
std::string ComputeSignature(absl::string_view secret, absl::string_view raw_body);

// One parsed delivery.
struct JiraWebhookEvent {
  enum class Kind { kIssueCreated, kIssueUpdated, kIssueDeleted, kOther };

  Kind kind = Kind::kOther;
  std::string webhook_event;          // As sent, e.g. "jira:issue_updated".
  std::string issue_event_type_name;  // e.g. "issue_generic"; informational, often absent.
  int64_t timestamp_ms = 0;           // When Jira raised the event (epoch ms); 0 if absent.
  // The issue after the change (on delete: as it was). Issue events always have id and key;
  // kOther events carry them only when the body has a well-formed `issue`.
  std::string issue_id;  // Numeric id as a string: the stable identity.
  std::string issue_key;
  std::string summary;
  std::string status_category_key;
  std::string status_name;      // fields.status.name ("In Review"); "" if absent.
  std::string resolution_name;  // fields.resolution.name ("Won't Do"); "" if null.
  bool done = false;
  double partial_credit = 0;  // JiraIssue::partial_credit
  std::string exclusion;      // JiraIssue::exclusion
  std::optional<double> story_points;
  absl::Time issue_updated = absl::InfinitePast();  // fields.updated.
  // The changelog has a status item (fieldId "status", or field "status" in any case when
  // fieldId is absent, as in Data Center payloads).
  bool status_changed = false;
};

// Parses a webhook body. Issue events (jira:issue_created / _updated / _deleted) need
// `timestamp` (integer ms), `issue.id` and `issue.key`; created/updated also need the fields
// IssueFromJson(kComplete) needs (summary, status category, updated). Any other
// `webhookEvent` is kind kOther, not an error.
// INVALID_ARGUMENT for a body over kMaxWebhookBodyBytes, malformed JSON, a non-object body,
// a missing `webhookEvent`, or a missing/malformed required field; the message names the
// field (e.g. "issue.id").
absl::StatusOr<JiraWebhookEvent> ParseWebhook(absl::string_view raw_body,
                                              const JiraFieldConfig& config);

// The issue part of an event, for ToWorkItem().
JiraIssue ToJiraIssue(const JiraWebhookEvent& event);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_WEBHOOK_H_
