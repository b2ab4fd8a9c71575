// TrackerConnector: everything the service needs from one site of one tracker (a Jira
// site, a GitLab instance), behind one interface owned by the sync layer. A tracker is a
// plugin: connectors/<tracker>/ exports one factory that builds a TrackerConnector from
// its configuration section and an outbound HTTP client, and the composition root's
// registry (service/server/connector_registry.cc) lists the factories. Nothing above the
// connectors branches on which tracker it is.
//
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<TrackerConnector> jira,
//                        connectors::jira::MakeJiraConnector(site_config, http));
//   WebhookIngress ingress(*jira, sink, ...);        // service/http: POST /webhooks/jira
//   Reconciler reconciler(core, store, {&jira->source()});
//
// A connector has two halves:
//  - the webhook half, pure and thread-safe (const, any HTTP thread): VerifyWebhook checks
//    the delivery's authenticity before anything of the body is interpreted, ParseWebhook
//    turns an authentic delivery into a tracker-neutral TrackerEvent. The HTTP answer,
//    metrics, logging and the sink belong to the ingress (service/http/webhook_ingress.h);
//    the connector only states its WebhookPolicy.
//  - the sync half: source() for reconciliation, writer() for write-back, issue_opener()
//    for rules; each is called from one thread at a time (their own contracts in
//    tracker_sync.h). The connector owns them and its HTTP stack above the client it was
//    given.
#ifndef OKR_SERVICE_SYNC_TRACKER_CONNECTOR_H_
#define OKR_SERVICE_SYNC_TRACKER_CONNECTOR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

// The name of the site configured by a tracker's top-level OKR_<TRACKER>_* settings (the
// config file's "default" entry): webhook path /webhooks/<slug>, tracker ids stored
// unprefixed (site_routing.h).
inline constexpr absl::string_view kDefaultSiteName = "default";

// POST path of a site's webhook: /webhooks/<slug> for the default site,
// /webhooks/<slug>/<site> for a named one.
std::string WebhookPath(absl::string_view slug, absl::string_view site);

// How the ingress serves a tracker's webhook.
struct WebhookPolicy {
  // Bodies over this size are answered 413 before anything else is looked at.
  size_t max_body_bytes = size_t{1} << 20;
  // The answer to an authentic, well-formed delivery whose item the domain refuses
  // (the sink says INVALID_ARGUMENT; a retry fails the same way).
  enum class RefusedItem {
    kReject,       // 400 {"error":...}
    kAcknowledge,  // 200 {"status":"ignored"}: the tracker disables hooks that keep failing
  };
  RefusedItem refused_item = RefusedItem::kReject;
  // The credential travels in the headers alone (GitLab's X-Gitlab-Token), so VerifyWebhook
  // is also asked before the body is read, with an empty body: an unauthenticated sender
  // is answered 401 without a byte of its body being read.
  bool credential_in_headers = false;
};

// One authentic webhook delivery in tracker-neutral terms.
struct TrackerEvent {
  enum class Kind {
    kIgnored,      // not an event about an item's state (other event kinds): acknowledged
    kItemUpdated,  // `item` holds the item's current state (created or updated)
    kItemDeleted,  // `item` identifies the deleted item (tracker, external_id, key)
  };
  Kind kind = Kind::kIgnored;
  WorkItem item;
  // Dedupes redeliveries (the same across the tracker's retries); may be empty.
  std::string delivery_id;
  // What the tracker called the event ("jira:issue_updated"), for log lines; may be empty.
  std::string event_name;
};

class TrackerConnector {
 public:
  virtual ~TrackerConnector() = default;

  virtual Tracker tracker() const = 0;
  // This site's name: kDefaultSiteName or the config file's name for it.
  virtual const std::string& site() const = 0;
  bool is_default_site() const { return site() == kDefaultSiteName; }
  // Whether this (named) site owns the item with this key / this project (the config's
  // project list); not asked of the default site, which owns everything no named site does.
  virtual bool OwnsKey(absl::string_view key) const = 0;
  virtual bool OwnsProject(absl::string_view project) const = 0;

  // ---- webhooks: pure, const, thread-safe; never log the body or the secret ----
  virtual const WebhookPolicy& webhook_policy() const = 0;
  // OK if the delivery is authentic. UNAUTHENTICATED for a missing or wrong credential
  // (the message names the header, never the secret); FAILED_PRECONDITION if this site
  // has no webhook secret configured (nothing can be verified). Both are answered 401.
  virtual absl::Status VerifyWebhook(const WebhookRequest& request) const = 0;
  // The event an authentic delivery carries. INVALID_ARGUMENT (answered 400) for a body
  // that is not one of the tracker's webhook bodies; the message names the field.
  virtual absl::StatusOr<TrackerEvent> ParseWebhook(const WebhookRequest& request) const = 0;

  // ---- sync: each called from one thread at a time ----
  virtual TrackerSource& source() = 0;
  virtual TrackerWriter& writer() = 0;
  virtual TrackerIssueOpener& issue_opener() = 0;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_TRACKER_CONNECTOR_H_
