// WebhookRoute: a tracker webhook handler served on an okr::http::HttpServer route the way
// the composition root serves it (service/server/tracker_connectors.cc, minus the metrics),
// for the sync integration tests and the ingest benchmarks that drive webhooks over real HTTP.
//
//   server->Handle("POST", "/webhooks/jira", okr::testing::WebhookRoute(*jira_handler));
//   OKR_RETURN_IF_ERROR(server->Start());
//
// `Handler` is any type with `sync::WebhookResponse Handle(const sync::WebhookRequest&)
// const` (JiraWebhookHandler, GitLabWebhookHandler). The handler must outlive the server.
#ifndef OKR_TESTS_TESTING_WEBHOOK_ROUTE_H_
#define OKR_TESTS_TESTING_WEBHOOK_ROUTE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "service/http/http_server.h"
#include "service/sync/tracker_sync.h"

namespace okr::testing {

template <typename Handler>
http::HttpHandler WebhookRoute(const Handler& handler) {
  return [&handler](const http::HttpRequest& in) {
    sync::WebhookRequest request;
    request.headers = in.headers;
    request.body = in.body;
    sync::WebhookResponse response = handler.Handle(request);
    return http::HttpResponse{response.status, "application/json", response.body};
  };
}

// An HttpServer with default options on 127.0.0.1 and a free port, not started yet.
inline absl::StatusOr<std::unique_ptr<http::HttpServer>> LoopbackHttpServer() {
  http::HttpServer::Options options;
  options.address = "127.0.0.1:0";
  return http::HttpServer::Create(options);
}

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_WEBHOOK_ROUTE_H_
