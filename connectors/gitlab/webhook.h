// Inbound GitLab webhooks: token verification, Issue Hook parsing and the dedupe key.
//
// GitLab sends the hook's secret token verbatim in `X-Gitlab-Token` (a shared secret, not a
// signature); VerifyToken compares it in constant time, before the body is parsed. Issue
// events arrive with `X-Gitlab-Event: Issue Hook` (`Confidential Issue Hook` for
// confidential issues). Delivery is at-least-once and unordered: dedupe on
// `Idempotency-Key` (the same across retries and manual re-sends; DedupeKey falls back to a
// hash of the body on GitLab < 17.4) and drop stale events by `updated_at`. GitLab sends no
// webhook when an issue is deleted: deletions are found by reconciliation (GET answers 404).
//
// Usage (in the inbound HTTP handler):
//   OKR_RETURN_IF_ERROR(VerifyToken(secret, request.header(kTokenHeader)));
//   if (!IsIssueHookEvent(request.header(kEventHeader))) return Ack();
//   OKR_ASSIGN_OR_RETURN(GitLabIssueEvent event, ParseIssueHook(body));
//   if (!event.is_issue) return Ack();
//   if (!dedupe.Insert(DedupeKey(request.header(kIdempotencyKeyHeader), body))) return Ack();
//   sync.Apply(ToWorkItem(event), event.updated_at);
//
// ParseGitLabTime, WorkItemKey and ParseWorkItemKey are declared in mapper.h (included).
//
// Contract: pure functions, thread-safe, never throw, never log the body or the token.
// Always acknowledge handled deliveries with 2xx: GitLab disables a hook after 4
// consecutive non-2xx answers.
#ifndef OKR_CONNECTORS_GITLAB_WEBHOOK_H_
#define OKR_CONNECTORS_GITLAB_WEBHOOK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "connectors/gitlab/mapper.h"  // GitLabIssue, ParseGitLabTime, WorkItemKey, ...
#include "service/okr/model.h"

namespace okr::connectors::gitlab {

// Delivery headers (HTTP header names are case-insensitive).
inline constexpr absl::string_view kTokenHeader = "X-Gitlab-Token";
inline constexpr absl::string_view kEventHeader = "X-Gitlab-Event";
inline constexpr absl::string_view kIdempotencyKeyHeader = "Idempotency-Key";
inline constexpr absl::string_view kEventUuidHeader = "X-Gitlab-Event-UUID";
inline constexpr absl::string_view kWebhookUuidHeader = "X-Gitlab-Webhook-UUID";

// `X-Gitlab-Event` values of issue events.
inline constexpr absl::string_view kIssueHookEvent = "Issue Hook";
inline constexpr absl::string_view kConfidentialIssueHookEvent = "Confidential Issue Hook";

// Bodies above this size are rejected by ParseIssueHook (a description may hold 1M
// characters, and `changes` can carry it twice).
inline constexpr size_t kMaxWebhookBodyBytes = size_t{16} << 20;

// Longest Idempotency-Key DedupeKey uses verbatim.
inline constexpr size_t kMaxIdempotencyKeyBytes = 200;

// OK if `header_value` equals `expected`, compared in constant time (SHA-256 digests of both
// are compared with CRYPTO_memcmp, so neither content nor length leaks through timing).
// UNAUTHENTICATED for a missing (empty) or wrong token, and for every token when `expected`
// is empty (no secret configured: nothing can be verified). Messages never contain either
// token.
absl::Status VerifyToken(absl::string_view expected, absl::string_view header_value);

// True for "Issue Hook" and "Confidential Issue Hook" (exact, case-sensitive).
bool IsIssueHookEvent(absl::string_view x_gitlab_event);

// One parsed Issue Hook delivery.
struct GitLabIssueEvent {
  std::string object_kind;  // As sent: "issue", "work_item", "note", ...
  // object_kind == "issue" (issues, incidents, Service Desk issues). Work items of other
  // types (tasks, objectives, key results) and other kinds are not issues: acknowledge and
  // ignore them. The fields below are only guaranteed when is_issue is true.
  bool is_issue = false;
  std::string event_type;     // "issue" or "confidential_issue" (informational).
  bool confidential = false;  // object_attributes.confidential.
  int64_t project_id = 0;     // project.id (0 if absent).
  std::string project_path;   // project.path_with_namespace.
  int64_t iid = 0;
  int64_t id = 0;
  std::string title;
  std::string state;  // "opened" | "closed".
  bool done = false;  // IsDone under the GitLabDoneMapping given to ParseIssueHook.
  // object_attributes.duplicated_to_id non-null; status, partial_credit and exclusion as
  // ApplyDoneRules (mapper.h) sets them under that mapping.
  bool closed_as_duplicate = false;
  std::string status;
  double partial_credit = 0;
  std::string exclusion;
  std::optional<double> weight;
  std::vector<std::string> labels;               // Titles of the label objects.
  std::string url;                               // object_attributes.url.
  absl::Time updated_at = absl::InfinitePast();  // object_attributes.updated_at.
  // "open", "close", "reopen", "update" or empty. Informational: GitLab has sent a close as
  // both "close" and "update"; apply events by state and updated_at, not by action.
  std::string action;
};

// Parses an Issue Hook body. For object_kind "issue" it needs object_attributes{iid, state,
// updated_at} and project.path_with_namespace (see mapper.h for the field rules). Any other
// object_kind yields is_issue == false and is not an error (for "work_item" the issue fields
// are filled when they parse).
// INVALID_ARGUMENT for a body over kMaxWebhookBodyBytes, malformed JSON, a non-object body,
// a missing `object_kind`, or a missing/malformed required field; the message names the
// field (e.g. "object_attributes.iid", "project.path_with_namespace"). `done` decides
// GitLabIssueEvent::done (mapper.h).
absl::StatusOr<GitLabIssueEvent> ParseIssueHook(absl::string_view raw_body,
                                                const GitLabDoneMapping& done = {});

// The issue part of an event, for ToWorkItem() (mapper.h).
GitLabIssue ToGitLabIssue(const GitLabIssueEvent& event);
okr::WorkItem ToWorkItem(const GitLabIssueEvent& event);

// The key to dedupe a delivery on: the Idempotency-Key header value (surrounding whitespace
// trimmed) if present; otherwise the lowercase hex SHA-256 of the raw body (64 characters;
// retries of one delivery carry the same body). A header value over
// kMaxIdempotencyKeyBytes or with control characters is replaced by the hex SHA-256 of the
// value, so stored keys stay bounded and printable.
std::string DedupeKey(absl::string_view idempotency_key_header, absl::string_view raw_body);

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_WEBHOOK_H_
