// HttpServer over real loopback sockets: routing, request parsing, keep-alive, and every
// bound on reading (header/body/idle deadlines, body limits by Content-Length and while
// a chunked body is read, the before-body check, the connection cap, the body budget).
// The clients are raw sockets, so a test controls exactly which bytes arrive when.
#include "service/http/http_server.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_http_connection.h"

namespace okr::http {
namespace {

using ::okr::testing::Body;
using ::okr::testing::Get;
using ::okr::testing::RawConnection;
using ::okr::testing::Status;
using ::testing::HasSubstr;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartWith(HttpServer::Options options) {
    options.address = "127.0.0.1:0";
    auto server = HttpServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->Handle("GET", "/healthz", [](const HttpRequest&) {
      return HttpResponse{200, "application/json", "{\"status\":\"SERVING\"}"};
    });
    server_->Handle("GET", "/echo/([^/]+)", [](const HttpRequest& r) {
      std::string query;
      for (const auto& [k, v] : r.query) absl::StrAppend(&query, k, "=", v, ";");
      return HttpResponse{200, "text/plain",
                          absl::StrCat(r.method, " ", r.path, " ", query, " ", r.Header("X-Thing"),
                                       " ", r.remote_addr)};
    });
    server_->Handle("POST", "/upload", [this](const HttpRequest& r) {
      handled_.fetch_add(1);
      return HttpResponse{200, "text/plain", absl::StrCat("got ", r.body.size())};
    });
    RouteOptions small;
    small.max_body_bytes = 100;
    server_->Handle(
        "POST", "/small",
        [this](const HttpRequest& r) {
          handled_.fetch_add(1);
          return HttpResponse{200, "text/plain", absl::StrCat("got ", r.body)};
        },
        small);
    RouteOptions guarded;
    guarded.before_body = [](const HttpRequest& r) -> std::optional<HttpResponse> {
      if (r.Header("X-Token") == "right") return std::nullopt;
      EXPECT_TRUE(r.body.empty());
      return JsonError(401, "X-Token does not match");
    };
    server_->Handle(
        "POST", "/guarded",
        [this](const HttpRequest& r) {
          handled_.fetch_add(1);
          return HttpResponse{200, "text/plain", absl::StrCat("got ", r.body.size())};
        },
        guarded);
    server_->Handle("POST", "/slow", [this](const HttpRequest&) {
      if (!entered_.HasBeenNotified()) entered_.Notify();
      release_.WaitForNotificationWithTimeout(absl::Seconds(20));
      return HttpResponse{200, "text/plain", "slow"};
    });
    server_->Handle("GET", "/throws",
                    [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (server_) server_->Stop();
  }

  int port() const { return server_->port(); }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
  absl::Notification release_;
  absl::Notification entered_;
};

TEST_F(HttpServerTest, RoutesDecodesPathQueryAndHeadersAndKeepsTheConnection) {
  StartWith({});
  RawConnection c(port());
  ASSERT_TRUE(c.Send(Get("/echo/a%20b?x=1&y=two+words&x=3&z", "X-Thing: th\r\n")));
  const std::string first = c.ReadResponse();
  EXPECT_EQ(Status(first), 200) << first;
  EXPECT_EQ(Body(first), "GET /echo/a b x=1;y=two words;z=; th 127.0.0.1");
  EXPECT_THAT(first, HasSubstr("X-Request-Id: "));
  // Same connection, two pipelined requests.
  ASSERT_TRUE(c.Send(Get("/healthz") + Get("/healthz")));
  EXPECT_EQ(Status(c.ReadResponse()), 200);
  EXPECT_EQ(Status(c.ReadResponse()), 200);
}

TEST_F(HttpServerTest, UnknownPathOrMethod_Json404_HandlerException_Json500) {
  StartWith({});
  RawConnection c(port());
  ASSERT_TRUE(c.Send(Get("/nope")));
  std::string r = c.ReadResponse();
  EXPECT_EQ(Status(r), 404) << r;
  EXPECT_EQ(Body(r), R"({"error":{"code":404,"message":"not found"}})");
  ASSERT_TRUE(c.Send("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"));
  EXPECT_EQ(Status(c.ReadResponse()), 404);
  ASSERT_TRUE(c.Send(Get("/throws")));
  r = c.ReadResponse();
  EXPECT_EQ(Status(r), 500) << r;
  EXPECT_THAT(Body(r), HasSubstr("internal error"));
}

TEST_F(HttpServerTest, MalformedRequest_400AndClosed) {
  StartWith({});
  RawConnection c(port());
  ASSERT_TRUE(c.Send("NOT HTTP AT ALL\r\n\r\n"));
  const std::string r = c.ReadResponse();
  EXPECT_EQ(Status(r), 400) << r;
  EXPECT_TRUE(c.ClosedWithin(absl::Seconds(5)));
}

TEST_F(HttpServerTest, HeadersOverTheLimit_431) {
  HttpServer::Options options;
  options.max_header_bytes = 1024;
  StartWith(options);
  RawConnection c(port());
  ASSERT_TRUE(c.Send(Get("/healthz", absl::StrCat("X-Big: ", std::string(4000, 'a'), "\r\n"))));
  const std::string r = c.ReadResponse();
  EXPECT_EQ(Status(r), 431) << r;
}

TEST_F(HttpServerTest, ContentLengthOverTheRouteLimit_413BeforeTheBodyIsSent) {
  StartWith({});
  RawConnection c(port());
  // Only the headers go out: the answer must not wait for the body.
  ASSERT_TRUE(c.Send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n"));
  const std::string r = c.ReadResponse();
  EXPECT_EQ(Status(r), 413) << r;
  EXPECT_EQ(Body(r), R"({"error":{"code":413,"message":"request body exceeds 100 bytes"}})");
  EXPECT_TRUE(c.ClosedWithin(absl::Seconds(5)));
  EXPECT_EQ(handled_.load(), 0);

  // The server-wide limit applies to routes without their own.
  HttpServer::Options defaults;
  RawConnection d(port());
  ASSERT_TRUE(d.Send(absl::StrCat("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: ",
                                  defaults.max_body_bytes + 1, "\r\n\r\n")));
  EXPECT_EQ(Status(d.ReadResponse()), 413);
}

TEST_F(HttpServerTest, ChunkedBodyCountedWhileRead_413PastTheLimit) {
  StartWith({});
  RawConnection ok(port());
  ASSERT_TRUE(
      ok.Send("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
              "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  std::string r = ok.ReadResponse();
  EXPECT_EQ(Status(r), 200) << r;
  EXPECT_EQ(Body(r), "got hello");

  RawConnection big(port());
  std::string chunks = "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) absl::StrAppend(&chunks, "20\r\n", std::string(32, 'x'), "\r\n");
  ASSERT_TRUE(big.Send(chunks));
  r = big.ReadResponse();
  EXPECT_EQ(Status(r), 413) << r;
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(HttpServerTest, BeforeBody_AnswersFromTheHeadersWithoutReadingTheBody) {
  StartWith({});
  RawConnection wrong(port());
  ASSERT_TRUE(wrong.Send(
      "POST /guarded HTTP/1.1\r\nHost: t\r\nX-Token: wrong\r\nContent-Length: 500000\r\n\r\n"));
  const std::string r = wrong.ReadResponse();
  EXPECT_EQ(Status(r), 401) << r;
  EXPECT_THAT(Body(r), HasSubstr("X-Token does not match"));
  EXPECT_THAT(r, HasSubstr("X-Request-Id: "));
  EXPECT_EQ(handled_.load(), 0);

  RawConnection right(port());
  ASSERT_TRUE(right.Send(absl::StrCat(
      "POST /guarded HTTP/1.1\r\nHost: t\r\nX-Token: right\r\nContent-Length: 10\r\n\r\n",
      std::string(10, 'b'))));
  EXPECT_EQ(Body(right.ReadResponse()), "got 10");
}

TEST_F(HttpServerTest, ExpectContinue_100ThenTheAnswer) {
  StartWith({});
  RawConnection c(port());
  ASSERT_TRUE(c.Send(
      "POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  const std::string cont = c.ReadResponse();
  EXPECT_EQ(Status(cont), 100) << cont;
  ASSERT_TRUE(c.Send("abc"));
  EXPECT_EQ(Body(c.ReadResponse()), "got 3");
}

TEST_F(HttpServerTest, HeadersTrickledPastTheHeaderTimeout_Disconnected) {
  HttpServer::Options options;
  options.header_timeout = absl::Milliseconds(500);
  StartWith(options);
  RawConnection c(port());
  ASSERT_TRUE(c.Send("POST /upload HTTP/1.1\r\n"));
  // A header line every 100 ms keeps the connection busy but never finishes the request:
  // the deadline is for the whole header, not for each read.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  bool closed = false;
  while (!closed && absl::Now() < give_up) {
    closed = c.ClosedWithin(absl::Milliseconds(100)) || !c.Send("X-a: b\r\n");
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_.load(), 0);
  // Others are served meanwhile and after.
  RawConnection other(port());
  ASSERT_TRUE(other.Send(Get("/healthz")));
  EXPECT_EQ(Status(other.ReadResponse()), 200);
}

TEST_F(HttpServerTest, BodyTooSlow_Disconnected) {
  HttpServer::Options options;
  options.body_timeout = absl::Milliseconds(500);
  StartWith(options);
  RawConnection c(port());
  ASSERT_TRUE(c.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
  EXPECT_TRUE(c.ClosedWithin(absl::Seconds(10)));
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, IdleKeptAliveConnection_ClosedAfterTheIdleTimeout) {
  HttpServer::Options options;
  options.idle_timeout = absl::Milliseconds(500);
  StartWith(options);
  RawConnection c(port());
  ASSERT_TRUE(c.Send(Get("/healthz")));
  EXPECT_EQ(Status(c.ReadResponse()), 200);
  EXPECT_TRUE(c.ClosedWithin(absl::Seconds(10)));
}

TEST_F(HttpServerTest, ConnectionsOverTheCap_ClosedAsTheyArrive) {
  HttpServer::Options options;
  options.max_connections = 3;
  StartWith(options);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(held.back()->Send(Get("/healthz")));
    ASSERT_EQ(Status(held.back()->ReadResponse()), 200);
  }
  RawConnection over(port());
  EXPECT_TRUE(over.ClosedWithin(absl::Seconds(10)));
  // A slot frees when a connection closes.
  held.pop_back();
  std::string r;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (r.empty() && absl::Now() < give_up) {
    RawConnection again(port());
    if (again.Send(Get("/healthz"))) r = again.ReadResponse(absl::Seconds(2));
  }
  EXPECT_EQ(Status(r), 200) << r;
}

TEST_F(HttpServerTest, BodiesOverTheInFlightBudget_503WithRetryAfterBeforeReading) {
  HttpServer::Options options;
  options.max_body_bytes_in_flight = 1000;
  StartWith(options);
  // One request holds 800 bytes of the budget while its handler runs.
  RawConnection holder(port());
  ASSERT_TRUE(holder.Send(absl::StrCat(
      "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 800\r\n\r\n", std::string(800, 'x'))));
  // Its handler runs: the body was read and its budget is held until the answer.
  ASSERT_TRUE(entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  RawConnection second(port());
  ASSERT_TRUE(second.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 300\r\n\r\n"));
  const std::string busy = second.ReadResponse();
  EXPECT_EQ(Status(busy), 503) << busy;
  EXPECT_THAT(busy, HasSubstr("Retry-After: 1"));
  release_.Notify();
  EXPECT_EQ(Body(holder.ReadResponse()), "slow");
  // Released: the same size fits now.
  RawConnection third(port());
  ASSERT_TRUE(third.Send(absl::StrCat(
      "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 300\r\n\r\n", std::string(300, 'y'))));
  EXPECT_EQ(Body(third.ReadResponse()), "got 300");
}

TEST_F(HttpServerTest, ProbesAnsweredWhileEveryHandlerThreadIsBusy) {
  HttpServer::Options options;
  options.threads = 2;
  options.address = "127.0.0.1:0";
  auto server = HttpServer::Create(options);
  ASSERT_TRUE(server.ok());
  server_ = *std::move(server);
  RouteOptions probe;
  probe.probe = true;
  server_->Handle(
      "GET", "/healthz",
      [](const HttpRequest&) {
        return HttpResponse{200, "text/plain", "ok"};
      },
      probe);
  server_->Handle("POST", "/slow", [this](const HttpRequest&) {
    release_.WaitForNotificationWithTimeout(absl::Seconds(20));
    return HttpResponse{200, "text/plain", "slow"};
  });
  ASSERT_TRUE(server_->Start().ok());
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(slow.back()->Send("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
  }
  RawConnection probe_conn(port());
  ASSERT_TRUE(probe_conn.Send(Get("/healthz")));
  // The slow handlers hold both handler threads until release_ (20 s): the probe's answer
  // arriving at all before then shows it did not queue behind them.
  EXPECT_EQ(Body(probe_conn.ReadResponse(absl::Seconds(10))), "ok");
  release_.Notify();
  for (auto& c : slow) EXPECT_EQ(Body(c->ReadResponse()), "slow");
}

TEST_F(HttpServerTest, StopWhileConnectionsAreOpen_Returns) {
  StartWith({});
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 20; ++i) {
    open.push_back(std::make_unique<RawConnection>(port()));
    open.back()->Send("GET /healthz HTTP/1.1\r\n");
  }
  server_->Stop();
  for (auto& c : open) EXPECT_TRUE(c->ClosedWithin(absl::Seconds(10)));
}

}  // namespace
}  // namespace okr::http
