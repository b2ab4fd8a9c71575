#include "connectors/jira/webhook_handler.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "connectors/jira/jira_sync.h"
#include "connectors/jira/webhook.h"
#include "service/core/okr_core.h"
#include "service/log/log.h"

namespace okr::connectors::jira {
namespace {

constexpr char kOutcomeAccepted[] = "accepted";
constexpr char kOutcomeDuplicate[] = "duplicate";
constexpr char kOutcomeStale[] = "stale";
constexpr char kOutcomeIgnored[] = "ignored";
constexpr char kOutcomeRejectedAuth[] = "rejected-auth";
constexpr char kOutcomeRejectedMalformed[] = "rejected-malformed";
constexpr char kOutcomeUnavailable[] = "unavailable";

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

sync::WebhookResponse Answer(const char* outcome) {
  return {200, Dump({{"status", outcome}}), outcome};
}

sync::WebhookResponse Error(int status, absl::string_view message, const char* outcome) {
  nlohmann::json body = {{"error", {{"code", status}, {"message", std::string(message)}}}};
  return {status, Dump(body), outcome};
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

// The sink did not commit. Domain validation failures are permanent (400: Jira does not
// retry other 4xx); anything else may pass (503: Jira retries 5xx).
sync::WebhookResponse SinkFailure(const absl::Status& status, const JiraWebhookEvent& event,
                                  const std::string& delivery_id) {
  const log::Fields fields = {{"issue", event.issue_key},
                              {"webhook_event", event.webhook_event},
                              {"delivery", delivery_id},
                              {"error", std::string(status.message())}};
  if (absl::IsInvalidArgument(status)) {
    log::Warn("Jira webhook rejected by validation", fields);
    return Error(400, status.message(), kOutcomeRejectedMalformed);
  }
  log::Error("Jira webhook not applied; Jira will retry", fields);
  return Error(503, "temporarily unable to apply the event; retry later", kOutcomeUnavailable);
}

}  // namespace

JiraWebhookHandler::JiraWebhookHandler(std::string secret, JiraFieldConfig config,
                                       std::string site_base_url, sync::TrackerSink& sink)
    : secret_(std::move(secret)),
      config_(std::move(config)),
      site_base_url_(std::move(site_base_url)),
      sink_(sink) {}

sync::WebhookResponse JiraWebhookHandler::Handle(const sync::WebhookRequest& request) const {
  if (request.body.size() > kMaxJiraWebhookRequestBytes) {
    return Error(413, absl::StrCat("request body exceeds ", kMaxJiraWebhookRequestBytes, " bytes"),
                 kOutcomeRejectedMalformed);
  }

  // Authenticity first: nothing of an unauthenticated body is interpreted.
  const std::string signature_header = absl::AsciiStrToLower(kSignatureHeader);
  absl::Status verified = VerifySignature(secret_, request.body, request.Header(signature_header));
  if (!verified.ok()) {
    if (absl::IsFailedPrecondition(verified)) {
      log::Error("Jira webhook rejected: no webhook secret configured");
    }
    return Error(401, verified.message(), kOutcomeRejectedAuth);
  }

  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(request.body, config_);
  if (!event.ok()) return Error(400, event.status().message(), kOutcomeRejectedMalformed);

  const std::string delivery_id = request.Header(absl::AsciiStrToLower(kWebhookIdentifierHeader));
  switch (event->kind) {
    case JiraWebhookEvent::Kind::kOther:
      return Answer(kOutcomeIgnored);
    case JiraWebhookEvent::Kind::kIssueDeleted: {
      absl::StatusOr<core::TrackerDeletion> removed =
          sink_.RemoveItem(Tracker::kJira, event->issue_id, event->issue_key, delivery_id);
      if (!removed.ok()) return SinkFailure(removed.status(), *event, delivery_id);
      return ForOutcome(removed->outcome);
    }
    case JiraWebhookEvent::Kind::kIssueCreated:
    case JiraWebhookEvent::Kind::kIssueUpdated: {
      okr::WorkItem state = SyncedWorkItem(ToJiraIssue(*event), site_base_url_);
      if (state.source_updated == absl::InfinitePast() && event->timestamp_ms > 0) {
        state.source_updated = absl::FromUnixMillis(event->timestamp_ms);
      }
      absl::StatusOr<core::SyncOutcome> applied = sink_.ApplyItem(state, delivery_id);
      if (!applied.ok()) return SinkFailure(applied.status(), *event, delivery_id);
      return ForOutcome(*applied);
    }
  }
  return Answer(kOutcomeIgnored);
}

}  // namespace okr::connectors::jira
