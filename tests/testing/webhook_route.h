// Tracker webhooks in tests and benchmarks, served the way the composition root serves them
// (service/server/tracker_connectors.cc: a connector's webhook half behind the one
// http::WebhookIngress, minus the metrics):
//
//   OKR_ASSIGN_OR_RETURN(auto connector, MakeJiraConnector(site, no_network));
//   http::WebhookIngress ingress(*connector, sink);
//   http::WebhookAnswer answer = ingress.Handle(request);            // called directly
//   server->Handle("POST", "/webhooks/jira", okr::testing::WebhookRoute(ingress));
//
// `Handler` is any type with `http::WebhookAnswer Handle(const http::HttpRequest&) const`
// (http::WebhookIngress). The handler must outlive the server. NoNetworkHttpClient is the
// outbound client of a connector whose tests only use its webhook half.
#ifndef OKR_TESTS_TESTING_WEBHOOK_ROUTE_H_
#define OKR_TESTS_TESTING_WEBHOOK_ROUTE_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/http/http_server.h"
#include "service/http/webhook_ingress.h"
#include "service/outbound/http_client.h"

namespace okr::testing {

template <typename Handler>
http::HttpHandler WebhookRoute(const Handler& handler) {
  return [&handler](const http::HttpRequest& in) {
    http::WebhookAnswer answer = handler.Handle(in);
    return http::HttpResponse{answer.status, "application/json", std::move(answer.body)};
  };
}

// Answers every request UNAVAILABLE without sending anything.
class NoNetworkHttpClient final : public outbound::HttpClient {
 public:
  absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest&) override {
    return absl::UnavailableError("NoNetworkHttpClient: no requests in this test");
  }
};

// An HttpServer with default options on 127.0.0.1 and a free port, not started yet.
inline absl::StatusOr<std::unique_ptr<http::HttpServer>> LoopbackHttpServer() {
  http::HttpServer::Options options;
  options.address = "127.0.0.1:0";
  return http::HttpServer::Create(options);
}

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_WEBHOOK_ROUTE_H_
