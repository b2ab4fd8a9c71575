#include "service/http/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <regex>
#include <thread>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "service/http/url_encoding.h"
#include "service/log/log.h"

namespace okr::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

constexpr char kRequestIdHeader[] = "X-Request-Id";
// After an answer that leaves a body unread (413, a refused token), the rest of what the
// client sends is read and dropped for a moment before closing, so the client sees the
// answer rather than a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = size_t{1} << 20;

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

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

// Splits the request target into the decoded path and the query parameters (the first
// value of a repeated name).
void ParseTarget(absl::string_view target, HttpRequest& r) {
  const size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (q != absl::string_view::npos) r.query = ParseUrlEncoded(target.substr(q + 1));
}

const char* DefaultReason(int status) {
  return status == 413   ? "request body too large"
         : status == 431 ? "request headers too large"
         : status == 404 ? "not found"
         : status == 405 ? "method not allowed"
         : status == 400 ? "bad request"
                         : "request failed";
}

// A fixed set of threads running queued jobs in order.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Stop(); }

  void Post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Runs what is queued, then joins.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopped_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

struct Route {
  std::string method;
  std::regex path;
  HttpHandler handler;
  RouteOptions options;
};

// Runs `fn` with the request's id in scope and returns its answer carrying the id.
HttpResponse WithRequestId(const HttpRequest& request,
                           const std::function<HttpResponse(const HttpRequest&)>& fn) {
  const std::string request_id = log::AcceptOrNewRequestId(request.Header(kRequestIdHeader));
  log::ScopedRequestId scope(request_id);
  HttpResponse response;
  try {
    response = fn(request);
  } catch (...) {
    response = JsonError(500, "internal error");
  }
  response.headers.emplace_back(kRequestIdHeader, request_id);
  return response;
}

}  // namespace

// What the server holds of each open connection: a way to end it when stopping.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Closes the socket on the connection's strand; its pending reads end.
  virtual void Shutdown() = 0;
};

class HttpServer::Impl {
 public:
  explicit Impl(Options o)
      : options(std::move(o)),
        handlers(options.threads),
        probes(options.probe_threads),
        ioc(std::max(options.io_threads, 1)),
        acceptor(net::make_strand(ioc)),
        retry_accept(acceptor.get_executor()) {}

  const Route* Find(const std::string& method, const std::string& path) const {
    for (const Route& route : routes) {
      if (route.method == method && std::regex_match(path, route.path)) return &route;
    }
    return nullptr;
  }

  // The answer when no route matches.
  HttpResponse NotFound(const HttpRequest& request) const {
    if (not_found) return WithRequestId(request, not_found);
    return JsonError(404, DefaultReason(404));
  }

  void Accept();

  void Register(const std::shared_ptr<ConnectionBase>& connection) {
    std::lock_guard<std::mutex> lock(open_mu);
    open[connection.get()] = connection;
  }
  void Unregister(ConnectionBase* connection) {
    std::lock_guard<std::mutex> lock(open_mu);
    open.erase(connection);
  }
  void ShutdownAll() {
    std::vector<std::shared_ptr<ConnectionBase>> live;
    {
      std::lock_guard<std::mutex> lock(open_mu);
      for (const auto& [raw, weak] : open) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (const auto& c : live) c->Shutdown();
  }

  Options options;
  std::string host;
  int port = 0;
  std::vector<Route> routes;
  HttpHandler not_found;
  std::optional<ssl::context> tls;
  WorkerPool handlers;
  WorkerPool probes;
  std::atomic<int> connections{0};
  std::atomic<size_t> body_bytes{0};  // reserved by requests whose bodies are held
  std::atomic<bool> stopping{false};
  std::mutex open_mu;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> open;
  // Destroyed before the members above: pending connections reference them.
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer retry_accept;
  std::vector<std::thread> io_threads;
};

namespace {

// One connection: reads a request at a time under the stage's deadline, hands complete
// requests to a worker pool and writes the answer. All of its state is touched on its
// strand only; the worker gets a copy of the request and posts the answer back.
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... Args>
  Connection(HttpServer::Impl& server, std::string remote_addr, Args&&... args)
      : server_(server),
        stream_(std::forward<Args>(args)...),
        remote_addr_(std::move(remote_addr)) {}

  ~Connection() override {
    Release();
    server_.Unregister(this);
    server_.connections.fetch_sub(1);
  }

  void Shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

  void Start() {
    server_.Register(this->shared_from_this());
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      ReadRequest();
    } else {
      Lowest().expires_after(ToChrono(server_.options.header_timeout));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->ReadRequest();
                              });
    }
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    // The route's limit is known once the headers are: set then (OnHeader). (Not
    // boost::none: Beast 1.74 compares a Content-Length with an empty limit as "over".)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (first_ || buffer_.size() > 0) {
      first_ = false;
      ReadHeader();
      return;
    }
    // Kept alive: wait for the first byte of the next request up to the idle timeout;
    // the request itself then gets the header timeout.
    Lowest().expires_after(ToChrono(server_.options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    Lowest().expires_after(ToChrono(server_.options.header_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) return Answer(JsonError(431, DefaultReason(431)), true);
    if (ec == bhttp::error::body_limit) return Answer(JsonError(413, DefaultReason(413)), true);
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      return Close();
    }
    if (ec) return Answer(JsonError(400, DefaultReason(400)), true);

    const auto& header = parser_->get();
    request_ = HttpRequest();
    request_.method = Str(header.method_string());
    const absl::string_view target(header.target().data(), header.target().size());
    if (target.empty() || target.front() != '/') {
      return Answer(JsonError(400, "the request target must be a path"), true);
    }
    ParseTarget(target, request_);
    for (const auto& field : header) {
      request_.headers[absl::AsciiStrToLower(Str(field.name_string()))] = Str(field.value());
    }
    request_.remote_addr = remote_addr_;
    keep_alive_ = header.keep_alive();

    route_ = server_.Find(request_.method, request_.path);
    const size_t limit = route_ != nullptr && route_->options.max_body_bytes > 0
                             ? route_->options.max_body_bytes
                             : server_.options.max_body_bytes;
    const bool has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
    if (route_ != nullptr && route_->options.before_body) {
      std::optional<HttpResponse> early;
      HttpResponse answered = WithRequestId(request_, [&](const HttpRequest& r) {
        early = route_->options.before_body(r);
        return early ? *early : HttpResponse();
      });
      if (early) return Answer(std::move(answered), has_body);
    }
    if (parser_->content_length() && *parser_->content_length() > limit) {
      return Answer(JsonError(413, absl::StrCat("request body exceeds ", limit, " bytes")),
                    has_body);
    }
    limit_ = limit;
    if (has_body && !Reserve(parser_->content_length().value_or(limit))) {
      HttpResponse busy = JsonError(503, "the server is busy reading other requests; retry later");
      busy.headers.emplace_back("Retry-After", "1");
      return Answer(std::move(busy), true);
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) return Dispatch();
    if (absl::EqualsIgnoreCase(Str(header[bhttp::field::expect]), "100-continue")) {
      continue_.emplace(bhttp::status::continue_, header.version());
      Lowest().expires_after(ToChrono(server_.options.write_timeout));
      bhttp::async_write(stream_, *continue_,
                         [self = this->shared_from_this()](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(ToChrono(server_.options.body_timeout));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec == bhttp::error::body_limit) {
            return self->Answer(
                JsonError(413, absl::StrCat("request body exceeds ", self->limit_, " bytes")),
                true);
          }
          if (ec == beast::error::timeout || ec == net::error::eof ||
              ec == bhttp::error::partial_message || ec == net::error::connection_reset ||
              ec == net::error::operation_aborted) {
            return self->Close();
          }
          if (ec) return self->Answer(JsonError(400, DefaultReason(400)), true);
          self->Dispatch();
        });
  }

  // A complete request: run its handler on a worker, answer on this connection.
  void Dispatch() {
    Lowest().expires_never();
    request_.body = std::move(parser_->get().body());
    auto job = [self = this->shared_from_this(), request = std::move(request_),
                route = route_]() mutable {
      HttpResponse response = route != nullptr ? WithRequestId(request, route->handler)
                                               : self->server_.NotFound(request);
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Answer(std::move(response), !self->keep_alive_);
      });
    };
    (route_ != nullptr && route_->options.probe ? server_.probes : server_.handlers)
        .Post(std::move(job));
  }

  // Writes `response`; then reads the next request, or closes when `close` (or the server
  // stops).
  void Answer(HttpResponse response, bool close) {
    Release();
    close = close || server_.stopping.load();
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(response.status));
    response_->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) response_->insert(name, value);
    response_->body() = std::move(response.body);
    response_->keep_alive(!close);
    response_->prepare_payload();
    Lowest().expires_after(ToChrono(server_.options.write_timeout));
    bhttp::async_write(stream_, *response_,
                       [self = this->shared_from_this(), close](beast::error_code ec, size_t) {
                         self->response_.reset();
                         if (ec || self->server_.stopping.load()) return self->Close();
                         if (close) return self->Linger();
                         self->ReadRequest();
                       });
  }

  // Ends the connection after an answer: no more writes, and what the client still sends
  // is read and dropped for a moment (bounded), so the answer is not lost to a reset.
  void Linger() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      Lowest().expires_after(kLingerTime);
      Drain();
    } else {
      Lowest().expires_after(kLingerTime);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Close(); });
    }
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(16384),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              self->buffer_.clear();
                              if (ec || self->drained_ > kLingerBytes) return self->Close();
                              self->Drain();
                            });
  }

  // Holds `bytes` of the server's body budget for the current request.
  bool Reserve(size_t bytes) {
    const size_t budget = server_.options.max_body_bytes_in_flight;
    size_t held = server_.body_bytes.load();
    do {
      if (held + bytes > budget) return false;
    } while (!server_.body_bytes.compare_exchange_weak(held, held + bytes));
    reserved_ = bytes;
    return true;
  }
  void Release() {
    if (reserved_ == 0) return;
    server_.body_bytes.fetch_sub(reserved_);
    reserved_ = 0;
  }

  void Close() {
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  HttpServer::Impl& server_;
  Stream stream_;
  const std::string remote_addr_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  HttpRequest request_;
  const Route* route_ = nullptr;
  bool keep_alive_ = true;
  bool first_ = true;
  size_t drained_ = 0;
  size_t limit_ = 0;
  size_t reserved_ = 0;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load() || !acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors or a transient error: try again shortly, not in a loop.
      retry_accept.expires_after(std::chrono::milliseconds(50));
      retry_accept.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    if (connections.fetch_add(1) >= options.max_connections) {
      connections.fetch_sub(1);
      beast::error_code ignored;
      socket.close(ignored);
      Accept();
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const tcp::endpoint peer = socket.remote_endpoint(ignored);
    std::string remote = peer.address().to_string();
    if (tls) {
      std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(remote),
                                                                         std::move(socket), *tls)
          ->Start();
    } else {
      std::make_shared<Connection<beast::tcp_stream>>(*this, std::move(remote), std::move(socket))
          ->Start();
    }
    Accept();
  });
}

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
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->host = hp->first;
  impl->port = hp->second;
  const Options& o = impl->options;
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    try {
      impl->tls.emplace(ssl::context::tls_server);
      impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::single_dh_use);
      SSL_CTX_set_min_proto_version(impl->tls->native_handle(), TLS1_2_VERSION);
      impl->tls->use_certificate_chain_file(o.tls_cert_file);
      impl->tls->use_private_key_file(o.tls_key_file, ssl::context::pem);
    } catch (const std::exception&) {
      return absl::InvalidArgumentError(absl::StrCat("http: cannot load the TLS certificate ",
                                                     o.tls_cert_file, " and key ", o.tls_key_file));
    }
  }
  const int port = impl->port;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& method, const std::string& path, HttpHandler handler,
                        RouteOptions route) {
  if (!impl_) return;
  impl_->routes.push_back(Route{method, std::regex(path), std::move(handler), std::move(route)});
}

void HttpServer::HandleNotFound(HttpHandler handler) {
  if (impl_) impl_->not_found = std::move(handler);
}

absl::Status HttpServer::Start() {
  if (!impl_) return absl::FailedPreconditionError("http: the server was stopped");
  Impl& s = *impl_;
  const auto unavailable = [&] {
    return absl::UnavailableError(
        absl::StrCat("http_address: cannot listen on ", s.options.address));
  };
  beast::error_code ec;
  tcp::endpoint endpoint;
  const net::ip::address address = net::ip::make_address(s.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, static_cast<unsigned short>(s.port));
  } else {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(s.host, std::to_string(s.port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("http_address: cannot resolve \"", s.host, "\""));
    }
    endpoint = results.begin()->endpoint();
  }
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec) return unavailable();
  s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  s.acceptor.bind(endpoint, ec);
  if (ec) return unavailable();
  s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return unavailable();
  port_ = s.acceptor.local_endpoint().port();
  s.Accept();
  for (int i = 0; i < std::max(s.options.io_threads, 1); ++i) {
    s.io_threads.emplace_back([&s] { s.ioc.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!impl_) return;
  Impl& s = *impl_;
  s.stopping.store(true);
  net::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.retry_accept.cancel();
  });
  // Running handlers finish and post their answers; then every connection is closed, and
  // the loop ends once they are gone (or after a grace period).
  s.handlers.Stop();
  s.probes.Stop();
  s.ShutdownAll();
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (s.connections.load() > 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));  // bounded: connections end as their reads abort
  }
  s.ioc.stop();
  for (std::thread& t : s.io_threads) {
    if (t.joinable()) t.join();
  }
  // Destroying the loop destroys the connections it still holds: their sockets close.
  impl_.reset();
}

}  // namespace okr::http
