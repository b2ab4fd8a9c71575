// Inbound GitHub webhooks: X-Hub-Signature-256 verification, `issues` event parsing and the
// dedupe key.
//
// GitHub signs the raw body: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`;
// VerifySignature checks it in constant time (service/outbound/signature.h) before anything
// of the body is read. `X-GitHub-Event` names the event: `issues` is parsed, everything else
// (`ping`, `issue_comment`, ...) is acknowledged unread. GitHub never redelivers a failed
// delivery by itself; `X-GitHub-Delivery` (the same on a manual redelivery) dedupes.
//
//   OKR_RETURN_IF_ERROR(VerifySignature(secret, request.Header("x-hub-signature-256"), body));
//   OKR_ASSIGN_OR_RETURN(GitHubIssuesEvent event, ParseIssuesEvent(event_header, body, done));
//
// Contract: pure functions, thread-safe, never log the body or the secret. Bodies over
// kMaxWebhookBodyBytes (8 MiB: GitHub delivers up to 25 MB, but an issues event is the
// issue, its repository and the sender; 8 MiB leaves ample room for a 65,536-character
// body twice over in `changes`) are refused.
#ifndef OKR_CONNECTORS_GITHUB_WEBHOOK_H_
#define OKR_CONNECTORS_GITHUB_WEBHOOK_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/github/mapper.h"

namespace okr::connectors::github {

inline constexpr absl::string_view kSignatureHeader = "X-Hub-Signature-256";
inline constexpr absl::string_view kEventHeader = "X-GitHub-Event";
inline constexpr absl::string_view kDeliveryHeader = "X-GitHub-Delivery";
inline constexpr size_t kMaxWebhookBodyBytes = size_t{8} << 20;
inline constexpr size_t kMaxDeliveryIdBytes = 200;

// OK if `header_value` is "sha256=" + hex HMAC-SHA256(secret, raw_body) (hex case-insensitive).
// FAILED_PRECONDITION if `secret` is empty (nothing can be verified); UNAUTHENTICATED naming
// the header if it is missing, malformed or wrong. Messages never contain the secret.
absl::Status VerifySignature(absl::string_view secret, absl::string_view header_value,
                             absl::string_view raw_body);

struct GitHubIssuesEvent {
  enum class Kind { kIgnored, kUpdated, kDeleted };
  Kind kind = Kind::kIgnored;
  std::string action;
  // The issue's state: for "transferred" the new issue (new key; node_id of the new issue
  // when the payload has one, else the original's).
  GitHubIssue issue;
};

// Parses one delivery. Events other than "issues", actions other than opened, edited,
// closed, reopened, labeled, unlabeled, deleted, transferred, and pull requests yield
// kIgnored. INVALID_ARGUMENT (naming the field: "action", "issue.number",
// "repository.full_name", "changes.new_issue", ...) for a malformed issues body.
absl::StatusOr<GitHubIssuesEvent> ParseIssuesEvent(absl::string_view event,
                                                   absl::string_view raw_body,
                                                   const GitHubDoneMapping& mapping = {});

// The X-GitHub-Delivery value (trimmed) if printable and at most kMaxDeliveryIdBytes; its
// hex SHA-256 if longer or with control characters; without a header, the hex SHA-256 of
// the body.
std::string DedupeKey(absl::string_view delivery_header, absl::string_view raw_body);

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_WEBHOOK_H_
