#include "connectors/jira/webhook.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "connectors/json/json_util.h"
#include "service/okr/status_macros.h"
#include "service/outbound/signature.h"

namespace okr::connectors::jira {
namespace {

using json_util::GetArray;
using json_util::GetInt;
using json_util::GetMember;
using json_util::GetObject;
using json_util::GetString;

constexpr size_t kSha256HexDigits = 64;

// 64 hex digits, either case.
bool IsHexDigest(absl::string_view hex) {
  if (hex.size() != kSha256HexDigits) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

JiraWebhookEvent::Kind KindOf(absl::string_view webhook_event) {
  if (webhook_event == "jira:issue_created") return JiraWebhookEvent::Kind::kIssueCreated;
  if (webhook_event == "jira:issue_updated") return JiraWebhookEvent::Kind::kIssueUpdated;
  if (webhook_event == "jira:issue_deleted") return JiraWebhookEvent::Kind::kIssueDeleted;
  return JiraWebhookEvent::Kind::kOther;
}

bool IsStatusItem(const nlohmann::json& item) {
  if (std::optional<std::string> field_id = GetString(item, "fieldId")) {
    return *field_id == "status";
  }
  std::optional<std::string> field = GetString(item, "field");
  return field.has_value() && absl::EqualsIgnoreCase(*field, "status");
}

bool HasStatusChange(const nlohmann::json& body) {
  const nlohmann::json* changelog = GetObject(body, "changelog");
  if (changelog == nullptr) return false;
  const nlohmann::json* items = GetArray(*changelog, "items");
  if (items == nullptr) return false;
  for (const nlohmann::json& item : *items) {
    if (IsStatusItem(item)) return true;
  }
  return false;
}

void CopyIssue(JiraIssue issue, JiraWebhookEvent& event) {
  event.issue_id = std::move(issue.id);
  event.issue_key = std::move(issue.key);
  event.summary = std::move(issue.summary);
  event.status_category_key = std::move(issue.status_category_key);
  event.status_name = std::move(issue.status_name);
  event.resolution_name = std::move(issue.resolution_name);
  event.done = issue.done;
  event.partial_credit = issue.partial_credit;
  event.exclusion = std::move(issue.exclusion);
  event.story_points = issue.story_points;
  event.issue_updated = issue.updated;
}

}  // namespace

std::string ComputeSignature(absl::string_view secret, absl::string_view raw_body) {
  const std::string hex = outbound::HmacSha256Hex(secret, raw_body);
  return hex.empty() ? std::string() : absl::StrCat("sha256=", hex);
}

absl::Status VerifySignature(absl::string_view secret, absl::string_view raw_body,
                             absl::string_view x_hub_signature_header) {
  if (secret.empty()) {
    return absl::FailedPreconditionError("no Jira webhook secret configured");
  }
  const absl::string_view header = absl::StripAsciiWhitespace(x_hub_signature_header);
  if (header.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing ", kSignatureHeader, " header"));
  }
  const size_t equals = header.find('=');
  if (equals == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(header.substr(0, equals), "sha256")) {
    return absl::UnauthenticatedError(
        absl::StrCat(kSignatureHeader, " must be sha256=<hex digest>"));
  }
  const absl::string_view received = header.substr(equals + 1);
  if (!IsHexDigest(received)) {
    return absl::UnauthenticatedError(
        absl::StrCat(kSignatureHeader, " does not hold a 64-digit hex SHA-256 digest"));
  }
  const std::string expected = outbound::HmacSha256Hex(secret, raw_body);
  if (expected.empty()) return absl::InternalError("HMAC-SHA256 computation failed");
  if (!outbound::ConstantTimeEquals(expected, absl::AsciiStrToLower(received))) {
    return absl::UnauthenticatedError(
        absl::StrCat(kSignatureHeader, " does not match the body and the webhook secret"));
  }
  return absl::OkStatus();
}

absl::StatusOr<JiraWebhookEvent> ParseWebhook(absl::string_view raw_body,
                                              const JiraFieldConfig& config) {
  absl::StatusOr<nlohmann::json> parsed =
      json_util::ParseBoundedJson(raw_body, kMaxWebhookBodyBytes);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Jira webhook: ", parsed.status().message()));
  }
  const nlohmann::json& body = *parsed;
  if (!body.is_object()) return absl::InvalidArgumentError("Jira webhook: body is not an object");

  JiraWebhookEvent event;
  std::optional<std::string> webhook_event = GetString(body, "webhookEvent");
  if (!webhook_event.has_value() || webhook_event->empty()) {
    return absl::InvalidArgumentError("Jira webhook: missing or malformed field webhookEvent");
  }
  event.webhook_event = *std::move(webhook_event);
  event.kind = KindOf(event.webhook_event);
  event.issue_event_type_name = GetString(body, "issue_event_type_name").value_or("");
  std::optional<int64_t> timestamp = GetInt(body, "timestamp");
  const nlohmann::json* issue = GetMember(body, "issue");

  if (event.kind == JiraWebhookEvent::Kind::kOther) {
    // Comment, worklog, sprint, ... events: not ours to interpret; keep what is usable.
    event.timestamp_ms = timestamp.value_or(0);
    if (issue != nullptr) {
      absl::StatusOr<JiraIssue> mapped =
          IssueFromJson(*issue, config, FieldRequirement::kIdentityOnly);
      if (mapped.ok()) CopyIssue(*std::move(mapped), event);
    }
    return event;
  }

  if (!timestamp.has_value()) {
    return absl::InvalidArgumentError("Jira webhook: missing or malformed field timestamp");
  }
  event.timestamp_ms = *timestamp;
  if (issue == nullptr) {
    return absl::InvalidArgumentError("Jira webhook: missing or malformed field issue");
  }
  const FieldRequirement requirement = event.kind == JiraWebhookEvent::Kind::kIssueDeleted
                                           ? FieldRequirement::kIdentityOnly
                                           : FieldRequirement::kComplete;
  absl::StatusOr<JiraIssue> mapped = IssueFromJson(*issue, config, requirement);
  if (!mapped.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jira webhook ", event.webhook_event, ": ", mapped.status().message()));
  }
  CopyIssue(*std::move(mapped), event);
  event.status_changed = HasStatusChange(body);
  return event;
}

JiraIssue ToJiraIssue(const JiraWebhookEvent& event) {
  JiraIssue issue;
  issue.id = event.issue_id;
  issue.key = event.issue_key;
  issue.summary = event.summary;
  issue.status_category_key = event.status_category_key;
  issue.status_name = event.status_name;
  issue.resolution_name = event.resolution_name;
  issue.done = event.done;
  issue.partial_credit = event.partial_credit;
  issue.exclusion = event.exclusion;
  issue.story_points = event.story_points;
  issue.updated = event.issue_updated;
  return issue;
}

}  // namespace okr::connectors::jira
