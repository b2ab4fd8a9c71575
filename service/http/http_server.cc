#include "service/http/http_server.h"

#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/log/log.h"

namespace okr::http {
namespace {

constexpr char kRequestIdHeader[] = "X-Request-Id";

std::string JsonEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void Write(const HttpResponse& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, r.content_type);
}

const char* DefaultReason(int status) {
  return status == 413   ? "request body too large"
         : status == 404 ? "not found"
         : status == 405 ? "method not allowed"
         : status == 400 ? "bad request"
                         : "request failed";
}

// The body is moved, not copied: webhook bodies run to megabytes, and handlers then see
// them by reference (or as a string_view) down to the connector's parser.
// cpp-httplib hands handlers a const Request that is the server's own non-const local per
// request; after the handler it reads only the method, headers and ranges (and the body
// only for a logger, which this server never sets), so taking the body is safe.
HttpRequest ToRequest(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [name, value] : req.headers) r.headers[absl::AsciiStrToLower(name)] = value;
  for (const auto& [name, value] : req.params) r.query.emplace(name, value);
  r.remote_addr = req.remote_addr;
  r.body = std::move(const_cast<httplib::Request&>(req).body);
  return r;
}

}  // namespace

std::string HttpRequest::Header(absl::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse JsonError(int status, absl::string_view message) {
  return HttpResponse{status, "application/json",
                      absl::StrCat("{\"error\":{\"code\":", status, ",\"message\":\"",
                                   JsonEscape(message), "\"}}")};
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address,
                                                          absl::string_view field) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", address, "\" is not host:port (e.g. 0.0.0.0:8080)"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(Options options) {
  auto hp = SplitHostPort(options.address, "http_address");
  if (!hp.ok()) return hp.status();
  std::unique_ptr<httplib::Server> server;
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                    options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("http: cannot load the TLS certificate ",
                                                     options.tls_cert_file, " and key ",
                                                     options.tls_key_file));
    }
    // cpp-httplib allows TLS 1.1; gRPC (and every current client) starts at 1.2.
    SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
    server = std::move(ssl);
  }
  return std::unique_ptr<HttpServer>(
      new HttpServer(std::move(options), hp->first, hp->second, std::move(server)));
}

HttpServer::HttpServer(Options options, std::string host, int port,
                       std::unique_ptr<httplib::Server> server)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(port),
      server_(std::move(server)) {
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  server_->set_keep_alive_max_count(1000);
  // Without it every response on a kept-alive connection waits ~40 ms for the client's
  // delayed ACK (Nagle), capping a webhook sender or a scraper at ~25 requests/s each.
  server_->set_tcp_nodelay(true);
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // Only called for responses without a body (404, 413 from the library, ...).
    if (!res.body.empty()) return;
    Write(JsonError(res.status, DefaultReason(res.status)), res);
  });
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        Write(JsonError(500, "internal error"), res);
      });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& method, const std::string& path, HttpHandler handler) {
  auto adapter = [handler = std::move(handler)](const httplib::Request& req,
                                                httplib::Response& res) {
    // Every line logged while handling the request carries its id; the caller gets it back.
    const std::string request_id =
        log::AcceptOrNewRequestId(req.get_header_value(kRequestIdHeader));
    log::ScopedRequestId scope(request_id);
    res.set_header(kRequestIdHeader, request_id);
    Write(handler(ToRequest(req)), res);
  };
  if (method == "GET") {
    server_->Get(path, adapter);
  } else if (method == "POST") {
    server_->Post(path, adapter);
  } else if (method == "PUT") {
    server_->Put(path, adapter);
  } else if (method == "DELETE") {
    server_->Delete(path, adapter);
  }
}

void HttpServer::HandleNotFound(HttpHandler handler) {
  server_->set_error_handler(
      [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 404) {
          const std::string request_id =
              log::AcceptOrNewRequestId(req.get_header_value(kRequestIdHeader));
          log::ScopedRequestId scope(request_id);
          res.set_header(kRequestIdHeader, request_id);
          Write(handler(ToRequest(req)), res);
          return;
        }
        Write(JsonError(res.status, DefaultReason(res.status)), res);
      });
}

absl::Status HttpServer::Start() {
  int bound = port_ == 0 ? server_->bind_to_any_port(host_)
                         : (server_->bind_to_port(host_, port_) ? port_ : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("http_address: cannot listen on ", options_.address));
  }
  port_ = bound;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace okr::http
