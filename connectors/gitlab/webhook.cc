#include "connectors/gitlab/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "connectors/json/json_util.h"
#include "service/outbound/signature.h"

namespace okr::connectors::gitlab {
namespace {

using json_util::GetBool;
using json_util::GetObject;
using json_util::GetString;
using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest Sha256(absl::string_view data) {
  Sha256Digest digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    // Only on allocation failure inside OpenSSL. An all-zero digest never matches a real
    // one in VerifyToken because both sides would have to fail.
    digest.fill(0);
  }
  return digest;
}

}  // namespace

absl::Status VerifyToken(absl::string_view expected, absl::string_view header_value) {
  if (expected.empty()) {
    return absl::UnauthenticatedError("no GitLab webhook token is configured");
  }
  if (header_value.empty()) return absl::UnauthenticatedError("missing X-Gitlab-Token");
  const Sha256Digest want = Sha256(expected);
  const Sha256Digest got = Sha256(header_value);
  if (CRYPTO_memcmp(want.data(), got.data(), want.size()) != 0) {
    return absl::UnauthenticatedError("wrong X-Gitlab-Token");
  }
  return absl::OkStatus();
}

bool IsIssueHookEvent(absl::string_view x_gitlab_event) {
  return x_gitlab_event == kIssueHookEvent || x_gitlab_event == kConfidentialIssueHookEvent;
}

absl::StatusOr<GitLabIssueEvent> ParseIssueHook(absl::string_view raw_body,
                                                const GitLabDoneMapping& done) {
  absl::StatusOr<nlohmann::json> body = json_util::ParseBoundedJson(raw_body, kMaxWebhookBodyBytes);
  if (!body.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: ", body.status().message()));
  }
  if (!body->is_object()) return absl::InvalidArgumentError("body is not a JSON object");
  GitLabIssueEvent event;
  std::optional<std::string> kind = GetString(*body, "object_kind");
  if (!kind.has_value()) {
    return absl::InvalidArgumentError("object_kind is missing or not a string");
  }
  event.object_kind = *std::move(kind);
  event.is_issue = event.object_kind == "issue";
  if (!event.is_issue && event.object_kind != "work_item") return event;

  event.event_type = GetString(*body, "event_type").value_or("");
  absl::StatusOr<GitLabIssue> issue = IssueFromHookJson(*body, done);
  if (!issue.ok()) {
    if (!event.is_issue) return event;  // A work item we do not track; best effort only.
    return issue.status();
  }
  const nlohmann::json& attributes = *GetObject(*body, "object_attributes");
  event.confidential = GetBool(attributes, "confidential").value_or(false);
  event.action = GetString(attributes, "action").value_or("");
  event.project_id = issue->project_id;
  event.project_path = std::move(issue->project_path);
  event.iid = issue->iid;
  event.id = issue->id;
  event.title = std::move(issue->title);
  event.state = std::move(issue->state);
  event.done = issue->done;
  event.closed_as_duplicate = issue->closed_as_duplicate;
  event.status = std::move(issue->status);
  event.partial_credit = issue->partial_credit;
  event.exclusion = std::move(issue->exclusion);
  event.weight = issue->weight;
  event.labels = std::move(issue->labels);
  event.url = std::move(issue->url);
  event.updated_at = issue->updated_at;
  return event;
}

GitLabIssue ToGitLabIssue(const GitLabIssueEvent& event) {
  GitLabIssue issue;
  issue.project_path = event.project_path;
  issue.project_id = event.project_id;
  issue.iid = event.iid;
  issue.id = event.id;
  issue.title = event.title;
  issue.state = event.state;
  issue.done = event.done;
  issue.closed_as_duplicate = event.closed_as_duplicate;
  issue.status = event.status;
  issue.partial_credit = event.partial_credit;
  issue.exclusion = event.exclusion;
  issue.weight = event.weight;
  issue.labels = event.labels;
  issue.url = event.url;
  issue.updated_at = event.updated_at;
  return issue;
}

okr::WorkItem ToWorkItem(const GitLabIssueEvent& event) { return ToWorkItem(ToGitLabIssue(event)); }

std::string DedupeKey(absl::string_view idempotency_key_header, absl::string_view raw_body) {
  const absl::string_view key = absl::StripAsciiWhitespace(idempotency_key_header);
  if (key.empty()) return outbound::Sha256Hex(raw_body);
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return !absl::ascii_iscntrl(static_cast<unsigned char>(c));
  });
  if (!printable || key.size() > kMaxIdempotencyKeyBytes) return outbound::Sha256Hex(key);
  return std::string(key);
}

}  // namespace okr::connectors::gitlab
