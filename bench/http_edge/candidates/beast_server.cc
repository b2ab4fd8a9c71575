// Candidate HTTP edge: Boost.Beast on Asio, one io thread, every stage with its own
// deadline. Behaviour shared by all candidates in this folder:
//   GET /healthz, /readyz -> 200 "{}"
//   POST /webhooks/x      -> body up to 1 MiB (413 above), ~0.3 ms of work on a
//                            4-thread worker pool, 200 {"status":"accepted"}
// Limits: header 10 s in total (from the first byte), body 30 s in total, keep-alive
// idle 60 s, at most 2048 connections (more are closed at accept).
// Usage: beast_server PORT [IO_THREADS]
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMaxBody = 1 << 20;
constexpr int kMaxConnections = 2048;
constexpr auto kHeaderTimeout = 10s;
constexpr auto kBodyTimeout = 30s;
constexpr auto kIdleTimeout = 60s;
constexpr auto kWriteTimeout = 10s;

std::atomic<int> g_connections{0};

void Work() {
  auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(300);
  while (std::chrono::steady_clock::now() < end) {
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, net::thread_pool& workers)
      : stream_(std::move(socket)), workers_(workers) {
    ++g_connections;
  }
  ~Session() { --g_connections; }

  void Start() { WaitForRequest(); }

 private:
  // Keep-alive idle: wait up to 60 s for the first byte of the next request.
  void WaitForRequest() {
    if (buffer_.size() > 0) return ReadHeader();
    stream_.expires_after(kIdleTimeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(kMaxBody);
    stream_.expires_after(kHeaderTimeout);  // one deadline for the whole header
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return Fail(ec);
    auto& req = parser_->get();
    const auto target = req.target();
    if (req.method() == http::verb::get && (target == "/healthz" || target == "/readyz")) {
      return Reply(http::status::ok, "{}", req.keep_alive());
    }
    if (target != "/webhooks/x") return Reply(http::status::not_found, "{}", false);
    if (req.method() != http::verb::post) {
      return Reply(http::status::method_not_allowed, "{}", false);
    }
    // A token check would go here: the body has not been read yet.
    if (parser_->content_length() && *parser_->content_length() > kMaxBody) {
      return Reply(http::status::payload_too_large, "{}", false);
    }
    stream_.expires_after(kBodyTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Reply(http::status::payload_too_large, "{}", false);  // chunked, too long
    }
    if (ec) return Fail(ec);
    stream_.expires_never();
    net::post(workers_, [self = shared_from_this()] {
      Work();
      net::post(self->stream_.get_executor(), [self] {
        self->Reply(http::status::ok, "{\"status\":\"accepted\"}",
                    self->parser_->get().keep_alive());
      });
    });
  }

  void Reply(http::status status, const char* body, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, "application/json");
    res->keep_alive(keep_alive);
    res->body() = body;
    res->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->Close();
                        self->WaitForRequest();
                      });
  }

  void Fail(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return Reply(http::status::request_header_fields_too_large, "{}", false);
    }
    if (ec == beast::error::timeout && parser_ && !parser_->is_header_done()) {
      return Reply(http::status::request_timeout, "{}", false);
    }
    Close();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::thread_pool& workers_;
  beast::flat_buffer buffer_{64 * 1024};
  std::optional<http::request_parser<http::string_body>> parser_;
};

class Listener {
 public:
  Listener(net::io_context& ioc, tcp::endpoint ep, net::thread_pool& workers)
      : ioc_(ioc), acceptor_(ioc), workers_(workers) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(4096);
  }
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (!ec) {
                               if (g_connections.load() >= kMaxConnections) {
                                 beast::error_code ignored;
                                 socket.close(ignored);
                               } else {
                                 socket.set_option(tcp::no_delay(true));
                                 std::make_shared<Session>(std::move(socket), workers_)->Start();
                               }
                             }
                             Accept();
                           });
  }

 private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::thread_pool& workers_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [IO_THREADS]\n", argv[0]);
    return 2;
  }
  const int io_threads = argc > 2 ? std::atoi(argv[2]) : 1;
  net::io_context ioc(io_threads);
  net::thread_pool workers(4);
  Listener listener(ioc,
                    tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                  static_cast<unsigned short>(std::atoi(argv[1]))),
                    workers);
  listener.Accept();
  std::vector<std::thread> extra;
  for (int i = 1; i < io_threads; ++i) extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : extra) t.join();
  return 0;
}
