// WebhookIngress: the one inbound end of every tracker's webhooks. One ingress serves one
// site of one tracker (a sync::TrackerConnector) on POST /webhooks/<slug> (the default
// site) or /webhooks/<slug>/<site>; it owns the route, the body limit, the HTTP answer, the
// delivery metric and the log line, and asks the connector only for its pure verify/parse
// functions and its WebhookPolicy. Events go to a sync::TrackerSink. The request id is the
// listener's (HttpServer::Handle): it is on every log line and in X-Request-Id.
//
//   metrics::Counter& deliveries = WebhookIngress::AddDeliveriesCounter(registry);
//   WebhookIngress ingress(*jira_connector, site_sink, &deliveries);
//   ingress.Register(*http_server);              // POST /webhooks/jira
//   WebhookAnswer answer = ingress.Handle(request);  // what the route does, for tests
//
// Contract (per delivery; thread-safe: const, the connector's webhook half and the sink are
// thread-safe; never logs the body or a secret):
//  - Order: size (over WebhookPolicy::max_body_bytes -> 413; by Content-Length before the
//    body is read, and the listener counts chunked bodies), then VerifyWebhook BEFORE any
//    parsing (-> 401; before the body is read when the policy says the credential is in
//    the headers), then ParseWebhook (-> 400 naming the field). Rejected deliveries change
//    nothing.
//  - Answers (JSON body; `outcome` is the metric's label):
//      200 {"status":"accepted"}   applied, or newer but nothing that matters changed
//      200 {"status":"duplicate"}  this delivery id was applied before
//      200 {"status":"stale"}      older than the state held
//      200 {"status":"ignored"}    other events, items no key result links
//      400 / 401 / 413 {"error":{"code":..,"message":..}}  rejected-malformed / rejected-auth
//      the sink refuses the item (INVALID_ARGUMENT: a retry fails the same way), per the
//        tracker's WebhookPolicy::refused_item: 400 {"error":...} or 200
//        {"status":"ignored"}, both "rejected-malformed"
//      503 {"error":...} "unavailable"  the sink failed otherwise (database down, internal
//                                       error): nothing was committed; trackers retry 5xx.
//    A 5xx is never the answer to an event that was handled or ignored, and its message
//    never carries the sink's internals.
#ifndef OKR_SERVICE_HTTP_WEBHOOK_INGRESS_H_
#define OKR_SERVICE_HTTP_WEBHOOK_INGRESS_H_

#include <optional>
#include <string>

#include "service/http/http_server.h"
#include "service/metrics/metrics.h"
#include "service/sync/tracker_connector.h"
#include "service/sync/tracker_sync.h"

namespace okr::http {

// The answer to one delivery.
struct WebhookAnswer {
  int status = 200;
  std::string body;  // JSON
  // accepted | duplicate | stale | ignored | rejected-auth | rejected-malformed | unavailable
  std::string outcome;
};

class WebhookIngress {
 public:
  // okr_webhook_deliveries_total{tracker, site, outcome}: one counter for every ingress.
  static metrics::Counter& AddDeliveriesCounter(metrics::Registry& registry);

  // `connector` and `sink` must outlive the ingress; `deliveries` (may be null) from
  // AddDeliveriesCounter.
  WebhookIngress(const sync::TrackerConnector& connector, sync::TrackerSink& sink,
                 metrics::Counter* deliveries = nullptr);

  WebhookIngress(const WebhookIngress&) = delete;
  WebhookIngress& operator=(const WebhookIngress&) = delete;

  // POST path: /webhooks/<slug> or /webhooks/<slug>/<site>.
  const std::string& path() const { return path_; }
  // Handles one delivery: counts it, logs one line, answers (see the contract above).
  WebhookAnswer Handle(const HttpRequest& request) const;
  // What the route answers from the headers alone, before the body is read (a
  // Content-Length over the limit, a header credential that fails); nullopt: read the body.
  // Counts and logs what it answers, like Handle.
  std::optional<WebhookAnswer> BeforeBody(const HttpRequest& request) const;
  // Adds POST path() to `server`, serving BeforeBody and Handle, with the policy's body
  // limit. The ingress must outlive the server.
  void Register(HttpServer& server) const;

 private:
  WebhookAnswer Counted(WebhookAnswer answer) const;
  WebhookAnswer TooLarge() const;
  WebhookAnswer Unauthenticated(const absl::Status& verified) const;
  WebhookAnswer Answer(const HttpRequest& request) const;
  WebhookAnswer SinkFailure(const absl::Status& status, const sync::TrackerEvent& event) const;

  const sync::TrackerConnector& connector_;
  sync::TrackerSink& sink_;
  metrics::Counter* const deliveries_;
  const std::string slug_;
  const std::string display_name_;
  const std::string path_;
};

}  // namespace okr::http

#endif  // OKR_SERVICE_HTTP_WEBHOOK_INGRESS_H_
