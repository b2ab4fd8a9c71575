// HttpServer: the inbound HTTP listener of okr-service (--http-address): /healthz, /readyz,
// /metrics, the tracker webhooks and the pages. Routing, the body size limits (413), the
// read timeouts, the connection cap and JSON error bodies live here; handlers see a plain
// request/response pair and never the HTTP library.
//
//   auto server = HttpServer::Create({.address = "0.0.0.0:8080"});
//   (*server)->Handle("GET", "/healthz", [](const HttpRequest&) { return JsonOk("{}"); });
//   OKR_RETURN_IF_ERROR((*server)->Start());   // listens on background threads
//   ...
//   (*server)->Stop();                         // waits for in-flight requests
//
// The listener is event-driven (Boost.Beast on Asio): connections cost a socket and a
// small buffer, not a thread, so connections that trickle headers, sit idle or send large
// bodies cannot starve the probes. Reading is bounded at every stage: the request line and
// headers within Options::header_timeout and max_header_bytes, the body within
// body_timeout and the route's limit (a Content-Length above it is answered 413 before a
// byte of the body is read; a chunked body is counted while it is read), a kept-alive
// connection waits at most idle_timeout for its next request, and connections beyond
// max_connections are closed as they are accepted; the bodies held at once are bounded by
// max_body_bytes_in_flight. A route's before_body check (e.g. a
// webhook token carried in a header) answers before the body is read.
//
// With Options::tls_cert_file and tls_key_file set, the listener speaks HTTPS only (TLS 1.2
// or later) and never asks for client certificates (webhook senders cannot present them);
// Create() fails with INVALID_ARGUMENT when the files do not load.
//
// Handle() must be called before Start(). Handlers run on a pool of threads (probe routes
// on a pool of their own) and must be thread-safe. Each routed request gets a request id
// (the caller's X-Request-Id when it is acceptable, see log::AcceptOrNewRequestId, else a
// new one): it is on every log line emitted while the handler runs and is returned in the
// X-Request-Id response header.
#ifndef OKR_SERVICE_HTTP_HTTP_SERVER_H_
#define OKR_SERVICE_HTTP_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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

// How one route is served.
struct RouteOptions {
  // Bodies over this size get 413; 0: the server's Options::max_body_bytes.
  size_t max_body_bytes = 0;
  // Called with the request line and headers (HttpRequest::body empty) before the body is
  // read; an answer ends the exchange without reading the body (the connection is then
  // closed). Runs on the listener's event thread: must be quick and must not block.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> before_body;
  // Probes (/healthz, /readyz) run on a small pool of their own, so a burst of slow
  // handlers on the main pool never delays them.
  bool probe = false;
};

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0:8080";  // host:port; port 0 picks a free port
    size_t max_body_bytes = 1 << 20;       // larger bodies get 413 (routes may set their own)
    size_t max_header_bytes = 32 << 10;    // request line + headers; larger: 431
    // Handler threads: requests whose handlers wait on the database run in parallel up to
    // this many (webhook deliveries then share group commits).
    int threads = 64;
    int probe_threads = 2;
    int io_threads = 2;          // event loop threads (reading, parsing, TLS, writing)
    int max_connections = 4096;  // open connections beyond this are closed at once
    // The bodies being read or handled at once may hold at most this much memory (by
    // Content-Length, or the route's limit for a chunked body): a request that would pass
    // it is answered 503 with Retry-After before its body is read.
    size_t max_body_bytes_in_flight = size_t{192} << 20;
    absl::Duration header_timeout = absl::Seconds(10);  // from connect / first byte
    absl::Duration body_timeout = absl::Seconds(30);    // the whole body
    absl::Duration idle_timeout = absl::Seconds(60);    // kept-alive, between requests
    absl::Duration write_timeout = absl::Seconds(30);   // the whole response
    // HTTPS: PEM certificate chain and private key files. Both empty (the default): HTTP.
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  // INVALID_ARGUMENT for a malformed address or TLS files that do not load.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(Options options);
  ~HttpServer();

  // `path` is a full-match regular expression ("/healthz", "/objectives/([^/]+)").
  void Handle(const std::string& method, const std::string& path, HttpHandler handler,
              RouteOptions route = {});
  // Answers requests no route matches (instead of the JSON 404), e.g. an HTML 404 page
  // for browser paths. Must be called before Start().
  void HandleNotFound(HttpHandler handler);
  // Binds and starts serving on background threads. INVALID_ARGUMENT for a malformed
  // address, UNAVAILABLE if the port cannot be bound.
  absl::Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops accepting, finishes the handlers that run, closes every connection. Final: the
  // server cannot be started again.
  void Stop();

  class Impl;

 private:
  HttpServer(std::unique_ptr<Impl> impl, int port);

  std::unique_ptr<Impl> impl_;
  int port_;
};

// Splits "host:port" ("[::1]:80" for IPv6). INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address,
                                                          absl::string_view field);

}  // namespace okr::http

#endif  // OKR_SERVICE_HTTP_HTTP_SERVER_H_
