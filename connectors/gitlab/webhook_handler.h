// GitLabWebhookHandler: the inbound end of the GitLab connector. It takes one webhook
// delivery as the HTTP layer received it (POST /webhooks/gitlab), authenticates it, parses
// it and hands the new state to the sync layer (TrackerSink), then says what GitLab
// should hear back.
//
//   GitLabWebhookHandler handler(webhook_token, core_tracker_sink);
//   sync::WebhookResponse response = handler.Handle(request);  // on any HTTP thread
//
// Contract:
//  - Thread-safe (const; the sink is thread-safe). Never logs the body or the token.
//  - Order: `x-gitlab-token` compared in constant time BEFORE anything else is looked at
//    (missing, wrong, or no token configured -> 401; nothing changes); then
//    `x-gitlab-event`: anything but "Issue Hook" / "Confidential Issue Hook" is
//    acknowledged and ignored unread; then the body is parsed (malformed JSON or a missing
//    required field -> 400 naming the field); object kinds other than "issue" (work items
//    such as tasks or OKR objectives) are acknowledged and ignored.
//  - Issue events -> TrackerSink::ApplyItem(SyncedWorkItem(...)) with delivery id
//    DedupeKey(`idempotency-key`, body): the same across GitLab's retries and manual
//    re-sends, a hash of the body on GitLab < 17.4. source_updated is `updated_at` in
//    whole seconds, like the REST path (gitlab_sync.h), so a hook for a change made in the
//    same second as a reconciliation read is not mistaken for an older state. GitLab sends
//    no hook for deleted issues: reconciliation finds those.
//  - Answers (body JSON, `outcome` for metrics):
//      200 {"status":"accepted"}   applied, or newer but nothing that matters changed
//      200 {"status":"duplicate"}  this delivery id was applied before
//      200 {"status":"stale"}      older than the state held
//      200 {"status":"ignored"}    other events and object kinds, issues no key result links
//      200 {"status":"ignored"} "rejected-malformed"  the sink refused the state as invalid
//                                  (INVALID_ARGUMENT, e.g. a URL over the domain's limit):
//                                  a retry cannot succeed, and a 4xx would count towards
//                                  disabling the hook; logged with the reason.
//      400 {"error":{"code":400,"message":..}} "rejected-malformed"  not an issue hook body
//      401 {"error":{"code":401,"message":..}} "rejected-auth"
//      503 {"error":{"code":503,"message":..}} "unavailable"  the sink failed otherwise
//                                  (database down, internal error): nothing was committed.
//    GitLab disables a hook after 4 consecutive non-2xx answers, so a non-2xx is never the
//    answer to an event that was handled or ignored; 503 only when nothing could commit.
#ifndef OKR_CONNECTORS_GITLAB_WEBHOOK_HANDLER_H_
#define OKR_CONNECTORS_GITLAB_WEBHOOK_HANDLER_H_

#include <string>

#include "connectors/gitlab/mapper.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::gitlab {

class GitLabWebhookHandler {
 public:
  // `webhook_token`: the hook's secret token (an empty token rejects every delivery; the
  // composition root should refuse to start without one). `sink` must outlive the handler.
  // `done`: which issues count as done, per project (default: state "closed").
  GitLabWebhookHandler(std::string webhook_token, sync::TrackerSink& sink,
                       GitLabDoneMapping done = {});

  GitLabWebhookHandler(const GitLabWebhookHandler&) = delete;
  GitLabWebhookHandler& operator=(const GitLabWebhookHandler&) = delete;

  sync::WebhookResponse Handle(const sync::WebhookRequest& request) const;

 private:
  const std::string webhook_token_;
  sync::TrackerSink& sink_;
  const GitLabDoneMapping done_;
};

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_WEBHOOK_HANDLER_H_
