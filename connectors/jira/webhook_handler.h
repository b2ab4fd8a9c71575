// JiraWebhookHandler: the inbound end of the Jira connector. It takes one webhook delivery
// as the HTTP layer received it (POST /webhooks/jira), authenticates it, parses it and
// hands the new state to the sync layer (TrackerSink), then says what Jira should
// hear back.
//
//   JiraWebhookHandler handler(secret, {.story_points_field = "customfield_10016"},
//                              "https://acme.atlassian.net", core_tracker_sink);
//   sync::WebhookResponse response = handler.Handle(request);  // on any HTTP thread
//
// Contract:
//  - Thread-safe (const; the sink is thread-safe). Never logs the body or the secret.
//  - Order: size (> kMaxJiraWebhookRequestBytes -> 413), then `x-hub-signature` checked in
//    constant time over the raw body BEFORE any parsing (missing, wrong, or no secret
//    configured -> 401), then parsing (malformed JSON or a missing field -> 400 naming
//    the field). Rejected deliveries change nothing.
//  - jira:issue_created / jira:issue_updated -> TrackerSink::ApplyItem with the issue's
//    state (external_id = issue id, source_updated = fields.updated, else the event
//    timestamp); jira:issue_deleted -> TrackerSink::RemoveItem. The delivery id is the
//    `x-atlassian-webhook-identifier` header (the same across Jira's retries), so a
//    redelivery is applied once.
//  - Answers (body JSON, `outcome` for metrics):
//      200 {"status":"accepted"}   applied, or newer but nothing that matters changed
//      200 {"status":"duplicate"}  this delivery id was applied before
//      200 {"status":"stale"}      older than the state held
//      200 {"status":"ignored"}    other event kinds, issues no key result links
//      400 / 401 / 413 {"error":{"code":..,"message":..}}  rejected-malformed / -auth
//      503 {"error":...} "unavailable"  the sink failed (database down, internal error):
//                                       nothing was committed and Jira retries 5xx.
//    A 5xx is never the answer to an event that was handled or ignored. A sink
//    INVALID_ARGUMENT (the event's content fails domain validation) is a 400: a retry
//    would fail the same way.
#ifndef OKR_CONNECTORS_JIRA_WEBHOOK_HANDLER_H_
#define OKR_CONNECTORS_JIRA_WEBHOOK_HANDLER_H_

#include <cstddef>
#include <string>

#include "connectors/jira/mapper.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::jira {

// Largest webhook body the handler accepts (the HTTP layer enforces the same limit first).
inline constexpr size_t kMaxJiraWebhookRequestBytes = size_t{1} << 20;

class JiraWebhookHandler {
 public:
  // `secret`: the admin webhook's secret (an empty secret rejects every delivery; the
  // composition root refuses to start without one). `site_base_url`: the Jira site, for
  // browse links ("https://acme.atlassian.net"). `sink` must outlive the handler.
  JiraWebhookHandler(std::string secret, JiraFieldConfig config, std::string site_base_url,
                     sync::TrackerSink& sink);

  JiraWebhookHandler(const JiraWebhookHandler&) = delete;
  JiraWebhookHandler& operator=(const JiraWebhookHandler&) = delete;

  sync::WebhookResponse Handle(const sync::WebhookRequest& request) const;

 private:
  const std::string secret_;
  const JiraFieldConfig config_;
  const std::string site_base_url_;
  sync::TrackerSink& sink_;
};

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_WEBHOOK_HANDLER_H_
