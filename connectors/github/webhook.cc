#include "connectors/github/webhook.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "connectors/json/json_util.h"
#include "service/outbound/signature.h"

namespace okr::connectors::github {
namespace {

using json_util::GetObject;
using json_util::GetString;

bool IsHandledAction(absl::string_view action) {
  for (absl::string_view a : {"opened", "edited", "closed", "reopened", "labeled", "unlabeled",
                              "deleted", "transferred"}) {
    if (a == action) return true;
  }
  return false;
}

}  // namespace

absl::Status VerifySignature(absl::string_view secret, absl::string_view header_value,
                             absl::string_view raw_body) {
  if (secret.empty()) {
    return absl::FailedPreconditionError("no GitHub webhook secret is configured");
  }
  header_value = absl::StripAsciiWhitespace(header_value);
  if (header_value.empty()) return absl::UnauthenticatedError("missing X-Hub-Signature-256");
  if (!absl::StartsWith(header_value, "sha256=")) {
    return absl::UnauthenticatedError("malformed X-Hub-Signature-256 (want sha256=<hex>)");
  }
  const std::string got = absl::AsciiStrToLower(header_value);
  const std::string want = outbound::SignatureHeaderValue(secret, raw_body);
  if (want.size() <= 7 || !outbound::ConstantTimeEquals(got, want)) {
    return absl::UnauthenticatedError("wrong X-Hub-Signature-256");
  }
  return absl::OkStatus();
}

absl::StatusOr<GitHubIssuesEvent> ParseIssuesEvent(absl::string_view event,
                                                   absl::string_view raw_body,
                                                   const GitHubDoneMapping& mapping) {
  GitHubIssuesEvent out;
  if (event != "issues") return out;
  absl::StatusOr<nlohmann::json> body = json_util::ParseBoundedJson(raw_body, kMaxWebhookBodyBytes);
  if (!body.ok())
    return absl::InvalidArgumentError(absl::StrCat("body: ", body.status().message()));
  if (!body->is_object()) return absl::InvalidArgumentError("body is not a JSON object");
  std::optional<std::string> action = GetString(*body, "action");
  if (!action.has_value()) return absl::InvalidArgumentError("action is missing or not a string");
  out.action = *action;
  if (!IsHandledAction(out.action)) return out;
  const nlohmann::json* issue = GetObject(*body, "issue");
  if (issue == nullptr) return absl::InvalidArgumentError("issue is missing or not an object");
  const nlohmann::json* pr = json_util::GetMember(*issue, "pull_request");
  if (pr != nullptr && !pr->is_null()) return out;
  const nlohmann::json* repository = GetObject(*body, "repository");
  if (repository == nullptr) {
    return absl::InvalidArgumentError("repository is missing or not an object");
  }
  std::optional<std::string> full_name = GetString(*repository, "full_name");
  if (!full_name.has_value()) {
    return absl::InvalidArgumentError("repository.full_name is missing or not a string");
  }
  if (absl::Status s = ValidateRepoName(*full_name, "repository.full_name"); !s.ok()) return s;

  if (out.action == "transferred") {
    const nlohmann::json* changes = GetObject(*body, "changes");
    if (changes == nullptr)
      return absl::InvalidArgumentError("changes is missing or not an object");
    const nlohmann::json* new_issue = GetObject(*changes, "new_issue");
    if (new_issue == nullptr) {
      return absl::InvalidArgumentError("changes.new_issue is missing or not an object");
    }
    const nlohmann::json* new_repository = GetObject(*changes, "new_repository");
    std::optional<std::string> new_name;
    if (new_repository != nullptr) new_name = GetString(*new_repository, "full_name");
    if (!new_name.has_value()) {
      return absl::InvalidArgumentError(
          "changes.new_repository.full_name is missing or not a string");
    }
    if (absl::Status s = ValidateRepoName(*new_name, "changes.new_repository.full_name"); !s.ok()) {
      return s;
    }
    absl::StatusOr<GitHubIssue> moved =
        IssueFromRestJson(*new_issue, *new_name, "changes.new_issue", mapping);
    if (!moved.ok()) return moved.status();
    if (moved->node_id.empty()) moved->node_id = GetString(*issue, "node_id").value_or("");
    out.kind = GitHubIssuesEvent::Kind::kUpdated;
    out.issue = *std::move(moved);
    return out;
  }
  absl::StatusOr<GitHubIssue> parsed = IssueFromRestJson(*issue, *full_name, "issue", mapping);
  if (!parsed.ok()) return parsed.status();
  out.issue = *std::move(parsed);
  out.kind = out.action == "deleted" ? GitHubIssuesEvent::Kind::kDeleted
                                     : GitHubIssuesEvent::Kind::kUpdated;
  return out;
}

std::string DedupeKey(absl::string_view delivery_header, absl::string_view raw_body) {
  const absl::string_view key = absl::StripAsciiWhitespace(delivery_header);
  if (key.empty()) return outbound::Sha256Hex(raw_body);
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return !absl::ascii_iscntrl(static_cast<unsigned char>(c));
  });
  if (!printable || key.size() > kMaxDeliveryIdBytes) return outbound::Sha256Hex(key);
  return std::string(key);
}

}  // namespace okr::connectors::github
