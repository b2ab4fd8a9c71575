#include "service/http/webhook_ingress.h"

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/log/log.h"
#include "service/okr/trackers.h"

namespace okr::http {
namespace {

constexpr char kOutcomeAccepted[] = "accepted";
constexpr char kOutcomeDuplicate[] = "duplicate";
constexpr char kOutcomeStale[] = "stale";
constexpr char kOutcomeIgnored[] = "ignored";
constexpr char kOutcomeRejectedAuth[] = "rejected-auth";
constexpr char kOutcomeRejectedMalformed[] = "rejected-malformed";
constexpr char kOutcomeUnavailable[] = "unavailable";

// Never throws: invalid UTF-8 in a message is replaced by U+FFFD.
std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A 2xx answer: {"status":"<status>"}.
WebhookAnswer Ok(const char* status, const char* outcome) {
  return {200, Dump({{"status", status}}), outcome};
}
WebhookAnswer Ok(const char* outcome) { return Ok(outcome, outcome); }

WebhookAnswer Error(int status, absl::string_view message, const char* outcome) {
  const nlohmann::json body = {{"error", {{"code", status}, {"message", std::string(message)}}}};
  return {status, Dump(body), outcome};
}

WebhookAnswer ForOutcome(sync::SyncOutcome outcome) {
  switch (outcome) {
    case sync::SyncOutcome::kApplied:
    case sync::SyncOutcome::kUnchanged:
      return Ok(kOutcomeAccepted);
    case sync::SyncOutcome::kDuplicate:
      return Ok(kOutcomeDuplicate);
    case sync::SyncOutcome::kStale:
      return Ok(kOutcomeStale);
    case sync::SyncOutcome::kUntracked:
      return Ok(kOutcomeIgnored);
  }
  return Ok(kOutcomeIgnored);
}

}  // namespace

metrics::Counter& WebhookIngress::AddDeliveriesCounter(metrics::Registry& registry) {
  return registry.AddCounter(
      "okr_webhook_deliveries_total",
      "Tracker webhook deliveries by tracker, site and outcome (accepted, duplicate, stale, "
      "ignored, rejected-auth, rejected-malformed, unavailable).",
      {"tracker", "site", "outcome"});
}

WebhookIngress::WebhookIngress(const sync::TrackerConnector& connector, sync::TrackerSink& sink,
                               metrics::Counter* deliveries)
    : connector_(connector),
      sink_(sink),
      deliveries_(deliveries),
      slug_(TrackerSlug(connector.tracker())),
      display_name_(TrackerDisplayName(connector.tracker())),
      path_(sync::WebhookPath(slug_, connector.site())) {}

void WebhookIngress::Register(HttpServer& server) const {
  RouteOptions route;
  route.max_body_bytes = connector_.webhook_policy().max_body_bytes;
  route.before_body = [this](const HttpRequest& request) -> std::optional<HttpResponse> {
    std::optional<WebhookAnswer> answer = BeforeBody(request);
    if (!answer) return std::nullopt;
    return HttpResponse{answer->status, "application/json", std::move(answer->body)};
  };
  server.Handle(
      "POST", path_,
      [this](const HttpRequest& request) {
        WebhookAnswer answer = Handle(request);
        return HttpResponse{answer.status, "application/json", std::move(answer.body)};
      },
      std::move(route));
}

WebhookAnswer WebhookIngress::Handle(const HttpRequest& request) const {
  return Counted(Answer(request));
}

std::optional<WebhookAnswer> WebhookIngress::BeforeBody(const HttpRequest& request) const {
  const sync::WebhookPolicy& policy = connector_.webhook_policy();
  size_t length = 0;
  if (absl::SimpleAtoi(request.Header("content-length"), &length) &&
      length > policy.max_body_bytes) {
    return Counted(TooLarge());
  }
  if (!policy.credential_in_headers) return std::nullopt;
  const sync::WebhookRequest headers_only(request.headers, absl::string_view());
  const absl::Status verified = connector_.VerifyWebhook(headers_only);
  if (verified.ok()) return std::nullopt;
  return Counted(Unauthenticated(verified));
}

WebhookAnswer WebhookIngress::Counted(WebhookAnswer answer) const {
  if (deliveries_ != nullptr) deliveries_->Inc({slug_, connector_.site(), answer.outcome});
  log::Info("webhook delivery", {{"tracker", slug_},
                                 {"site", connector_.site()},
                                 {"status", std::to_string(answer.status)},
                                 {"outcome", answer.outcome}});
  return answer;
}

WebhookAnswer WebhookIngress::TooLarge() const {
  return Error(
      413,
      absl::StrCat("request body exceeds ", connector_.webhook_policy().max_body_bytes, " bytes"),
      kOutcomeRejectedMalformed);
}

WebhookAnswer WebhookIngress::Unauthenticated(const absl::Status& verified) const {
  if (absl::IsFailedPrecondition(verified)) {
    log::Error(absl::StrCat(display_name_, " webhook rejected: no webhook secret configured"),
               {{"site", connector_.site()}});
  }
  return Error(401, verified.message(), kOutcomeRejectedAuth);
}

WebhookAnswer WebhookIngress::Answer(const HttpRequest& request) const {
  const sync::WebhookPolicy& policy = connector_.webhook_policy();
  if (request.body.size() > policy.max_body_bytes) return TooLarge();
  const sync::WebhookRequest delivery(request.headers, request.body);

  // Authenticity first: nothing of an unauthenticated delivery is interpreted.
  const absl::Status verified = connector_.VerifyWebhook(delivery);
  if (!verified.ok()) return Unauthenticated(verified);

  const absl::StatusOr<sync::TrackerEvent> event = connector_.ParseWebhook(delivery);
  if (!event.ok()) return Error(400, event.status().message(), kOutcomeRejectedMalformed);

  switch (event->kind) {
    case sync::TrackerEvent::Kind::kIgnored:
      return Ok(kOutcomeIgnored);
    case sync::TrackerEvent::Kind::kItemDeleted: {
      const absl::StatusOr<sync::TrackerDeletion> removed = sink_.RemoveItem(
          event->item.tracker, event->item.external_id, event->item.key, event->delivery_id);
      if (!removed.ok()) return SinkFailure(removed.status(), *event);
      return ForOutcome(removed->outcome);
    }
    case sync::TrackerEvent::Kind::kItemUpdated: {
      const absl::StatusOr<sync::SyncOutcome> applied =
          sink_.ApplyItem(event->item, event->delivery_id);
      if (!applied.ok()) return SinkFailure(applied.status(), *event);
      return ForOutcome(*applied);
    }
  }
  return Ok(kOutcomeIgnored);
}

// The sink did not commit. A state the domain refuses is refused for good: answered as
// the tracker's policy says. Anything else may pass later: 503, which trackers retry.
WebhookAnswer WebhookIngress::SinkFailure(const absl::Status& status,
                                          const sync::TrackerEvent& event) const {
  log::Fields fields = {{"site", connector_.site()},
                        {"item", event.item.key},
                        {"delivery", event.delivery_id},
                        {"error", std::string(status.message())}};
  if (!event.event_name.empty()) fields.push_back({"event", event.event_name});
  if (absl::IsInvalidArgument(status)) {
    log::Warn(absl::StrCat(display_name_, " webhook not applied: the item fails validation"),
              fields);
    if (connector_.webhook_policy().refused_item ==
        sync::WebhookPolicy::RefusedItem::kAcknowledge) {
      return Ok(kOutcomeIgnored, kOutcomeRejectedMalformed);
    }
    return Error(400, status.message(), kOutcomeRejectedMalformed);
  }
  log::Error(absl::StrCat(display_name_, " webhook not applied; nothing was committed"), fields);
  return Error(503, "temporarily unable to apply the event; retry later", kOutcomeUnavailable);
}

}  // namespace okr::http
