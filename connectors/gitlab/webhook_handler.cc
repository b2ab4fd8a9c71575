#include "connectors/gitlab/webhook_handler.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "connectors/gitlab/gitlab_sync.h"
#include "connectors/gitlab/webhook.h"
#include "connectors/json/json_util.h"
#include "service/core/okr_core.h"
#include "service/log/log.h"

namespace okr::connectors::gitlab {
namespace {

constexpr char kOutcomeAccepted[] = "accepted";
constexpr char kOutcomeDuplicate[] = "duplicate";
constexpr char kOutcomeStale[] = "stale";
constexpr char kOutcomeIgnored[] = "ignored";
constexpr char kOutcomeRejectedAuth[] = "rejected-auth";
constexpr char kOutcomeRejectedMalformed[] = "rejected-malformed";
constexpr char kOutcomeUnavailable[] = "unavailable";

// A 2xx answer: {"status":"<status>"}.
sync::WebhookResponse Answer(const char* status, const char* outcome) {
  return {200, json_util::DumpJson({{"status", status}}), outcome};
}
sync::WebhookResponse Answer(const char* outcome) { return Answer(outcome, outcome); }

sync::WebhookResponse Error(int status, absl::string_view message, const char* outcome) {
  const nlohmann::json body = {{"error", {{"code", status}, {"message", std::string(message)}}}};
  return {status, json_util::DumpJson(body), outcome};
}

sync::WebhookResponse ForOutcome(core::SyncOutcome outcome) {
  switch (outcome) {
    case core::SyncOutcome::kApplied:
    case core::SyncOutcome::kUnchanged:
      return Answer(kOutcomeAccepted);
    case core::SyncOutcome::kDuplicate:
      return Answer(kOutcomeDuplicate);
    case core::SyncOutcome::kStale:
      return Answer(kOutcomeStale);
    case core::SyncOutcome::kUntracked:
      return Answer(kOutcomeIgnored);
  }
  return Answer(kOutcomeIgnored);
}

// The sink did not commit. A state the domain refuses is refused for good: acknowledge it
// (GitLab counts every non-2xx towards disabling the hook) and log why. Anything else may
// pass later: 503.
sync::WebhookResponse SinkFailure(const absl::Status& status, const std::string& key,
                                  const std::string& delivery_id) {
  const log::Fields fields = {
      {"issue", key}, {"delivery", delivery_id}, {"error", std::string(status.message())}};
  if (absl::IsInvalidArgument(status)) {
    log::Warn("GitLab webhook not applied: the issue's state fails validation", fields);
    return Answer(kOutcomeIgnored, kOutcomeRejectedMalformed);
  }
  log::Error("GitLab webhook not applied; nothing was committed", fields);
  return Error(503, "temporarily unable to apply the event; retry later", kOutcomeUnavailable);
}

}  // namespace

GitLabWebhookHandler::GitLabWebhookHandler(std::string webhook_token, sync::TrackerSink& sink,
                                           GitLabDoneMapping done)
    : webhook_token_(std::move(webhook_token)), sink_(sink), done_(std::move(done)) {}

sync::WebhookResponse GitLabWebhookHandler::Handle(const sync::WebhookRequest& request) const {
  // Authenticity first: nothing of an unauthenticated delivery is interpreted.
  const absl::Status verified =
      VerifyToken(webhook_token_, request.Header(absl::AsciiStrToLower(kTokenHeader)));
  if (!verified.ok()) {
    if (webhook_token_.empty()) {
      log::Error("GitLab webhook rejected: no webhook token configured");
    }
    return Error(401, verified.message(), kOutcomeRejectedAuth);
  }

  if (!IsIssueHookEvent(request.Header(absl::AsciiStrToLower(kEventHeader)))) {
    return Answer(kOutcomeIgnored);  // push, note, merge request, ... hooks
  }

  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(request.body, done_);
  if (!event.ok()) return Error(400, event.status().message(), kOutcomeRejectedMalformed);
  if (!event->is_issue) return Answer(kOutcomeIgnored);  // work items: tasks, OKRs, ...

  const okr::WorkItem state = SyncedWorkItem(ToGitLabIssue(*event));
  const std::string delivery_id =
      DedupeKey(request.Header(absl::AsciiStrToLower(kIdempotencyKeyHeader)), request.body);
  absl::StatusOr<core::SyncOutcome> applied = sink_.ApplyItem(state, delivery_id);
  if (!applied.ok()) return SinkFailure(applied.status(), state.key, delivery_id);
  return ForOutcome(*applied);
}

}  // namespace okr::connectors::gitlab
