// HttpServer: the inbound HTTP listener of okr-service (--http-address). It serves
// /healthz and /readyz now, and the tracker webhooks and /metrics as they are added.
// Routing, the body size limit (413) and JSON error bodies live here; handlers see a
// plain request/response pair and never the HTTP library.
//
//   auto server = HttpServer::Create({.address = "0.0.0.0:8080"});
//   (*server)->Handle("GET", "/healthz", [](const HttpRequest&) { return JsonOk("{}"); });
//   OKR_RETURN_IF_ERROR((*server)->Start());   // listens on a background thread
//   ...
//   (*server)->Stop();                         // waits for in-flight requests
//
// With Options::tls_cert_file and tls_key_file set, the listener speaks HTTPS only (TLS 1.2
// or later) and never asks for client certificates (webhook senders cannot present them);
// Create() fails with INVALID_ARGUMENT when the files do not load.
//
// Handle() must be called before Start(). Handlers run on a pool of threads and must be
// thread-safe. Each routed request gets a request id (the caller's X-Request-Id when it is
// acceptable, see log::AcceptOrNewRequestId, else a new one): it is on every log line
// emitted while the handler runs and is returned in the X-Request-Id response header.
#ifndef OKR_SERVICE_HTTP_HTTP_SERVER_H_
#define OKR_SERVICE_HTTP_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace okr::http {

struct HttpRequest {
  std::string method;
  std::string path;
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  // Query parameters, decoded (the first value of a repeated name).
  std::map<std::string, std::string> query;
  // The peer address of the TCP connection ("127.0.0.1", "::1"), never a forwarded header.
  std::string remote_addr;
  // Returns the header value or "" (name is matched case-insensitively).
  std::string Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra response headers (Location, Set-Cookie, Content-Security-Policy, ...).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// {"error": {"code": <status>, "message": "<message>"}}
HttpResponse JsonError(int status, absl::string_view message);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0:8080";  // host:port; port 0 picks a free port
    size_t max_body_bytes = 8 << 20;       // larger bodies get 413 (routes may limit more)
    // Each kept-alive connection holds a thread while it is open (cpp-httplib), so the pool
    // must outnumber the connections trackers, scrapers and probes keep at once: with too
    // few, a webhook burst starves /healthz and /readyz.
    int threads = 64;
    // HTTPS: PEM certificate chain and private key files. Both empty (the default): HTTP.
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  // INVALID_ARGUMENT for a malformed address or TLS files that do not load.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(Options options);
  ~HttpServer();

  // `path` is a full-match regular expression ("/healthz", "/objectives/([^/]+)").
  void Handle(const std::string& method, const std::string& path, HttpHandler handler);
  // Answers requests no route matches (instead of the JSON 404), e.g. an HTML 404 page
  // for browser paths. Must be called before Start().
  void HandleNotFound(HttpHandler handler);
  // Binds and starts serving on a background thread. INVALID_ARGUMENT for a malformed
  // address, UNAVAILABLE if the port cannot be bound.
  absl::Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  void Stop();

 private:
  HttpServer(Options options, std::string host, int port, std::unique_ptr<httplib::Server> server);

  Options options_;
  std::string host_;
  int port_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// Splits "host:port" ("[::1]:80" for IPv6). INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address,
                                                          absl::string_view field);

}  // namespace okr::http

#endif  // OKR_SERVICE_HTTP_HTTP_SERVER_H_
