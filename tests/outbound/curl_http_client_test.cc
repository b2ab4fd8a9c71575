#include "service/outbound/curl_http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "service/outbound/address_guard.h"
#include "service/outbound/status_mapping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/outbound/local_http_server.h"

namespace okr::outbound {
namespace {

using ::okr::outbound::testing::LocalHttpServer;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

// What the server saw of the last request.
struct Seen {
  std::string method;
  std::string body;
  std::string content_type;
  std::string content_length;
  std::string user_agent;
  std::string custom;
  bool has_expect = false;
};

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      seen_.method = req.method;
      seen_.body = req.body;
      seen_.content_type = req.get_header_value("Content-Type");
      seen_.content_length = req.get_header_value("Content-Length");
      seen_.user_agent = req.get_header_value("User-Agent");
      seen_.custom = req.get_header_value("X-Custom");
      seen_.has_expect = req.has_header("Expect");
      res.status = req.method == "POST" ? 201 : 200;
      res.set_header("X-Echo-Method", req.method);
      res.set_header("X-Mixed-Case", "Value");
      res.set_content(absl::StrCat("echo:", req.body), "text/plain");
    };
    httplib::Server& server = local_.server();
    server.Get("/echo", record);
    server.Post("/echo", record);
    server.Put("/echo", record);
    server.Delete("/echo", record);
    server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content(R"({"errorMessages":["Issue does not exist"]})", "application/json");
    });
    server.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/echo", 302);
    });
    server.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      release_slow_.WaitForNotificationWithTimeout(absl::Seconds(30));
      res.set_content("late", "text/plain");
    });
    server.Get("/big", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::string(std::stoul(req.get_param_value("n")), 'x'), "text/plain");
    });
    server.Get("/big-chunked", [](const httplib::Request& req, httplib::Response& res) {
      const size_t n = std::stoul(req.get_param_value("n"));
      res.set_chunked_content_provider("text/plain", [n](size_t offset, httplib::DataSink& sink) {
        const std::string chunk(std::min<size_t>(1024, n - offset), 'x');
        sink.write(chunk.data(), chunk.size());
        if (offset + chunk.size() >= n) sink.done();
        return true;
      });
    });
    ASSERT_TRUE(local_.Start());
    client_ = MakeClient({});
  }

  void TearDown() override {
    release_slow_.Notify();
    client_.reset();  // Closes its kept-alive connections, so the server stops at once.
    local_.Stop();
  }

  static CurlHttpClientOptions WithBodyLimit(size_t bytes) {
    CurlHttpClientOptions options;
    options.max_response_body_bytes = bytes;
    return options;
  }

  static std::unique_ptr<CurlHttpClient> MakeClient(CurlHttpClientOptions options) {
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  HttpRequest Request(std::string method, std::string path, std::string body = "") {
    HttpRequest request;
    request.method = std::move(method);
    request.url = local_.Url(path);
    request.body = std::move(body);
    return request;
  }

  Seen seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

  LocalHttpServer local_;
  std::unique_ptr<CurlHttpClient> client_;
  absl::Notification release_slow_;
  absl::Mutex mu_;
  Seen seen_ ABSL_GUARDED_BY(mu_);
};

TEST_F(CurlHttpClientTest, Get_ReturnsStatusBodyAndHeadersAndSendsRequestHeaders) {
  HttpRequest request = Request("GET", "/echo");
  request.headers = {{"X-Custom", "hello"}};

  absl::StatusOr<HttpResponse> response = client_->Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "echo:");
  EXPECT_THAT(response->Header("x-echo-method"), Optional(std::string("GET")));
  const Seen server = seen();
  EXPECT_EQ(server.method, "GET");
  EXPECT_EQ(server.custom, "hello");
  EXPECT_EQ(server.user_agent, "okr-service/0.1");
}

TEST_F(CurlHttpClientTest, ResponseHeaders_AreLowerCasedAndLookedUpCaseInsensitively) {
  absl::StatusOr<HttpResponse> response = client_->Send(Request("GET", "/echo"));

  ASSERT_TRUE(response.ok()) << response.status();
  for (const auto& [name, value] : response->headers) {
    EXPECT_EQ(name, absl::AsciiStrToLower(name));
  }
  EXPECT_THAT(response->Header("X-MIXED-CASE"), Optional(std::string("Value")));
  EXPECT_THAT(response->Header("x-mixed-case"), Optional(std::string("Value")));
  EXPECT_EQ(response->Header("X-Absent"), std::nullopt);
}

TEST_F(CurlHttpClientTest, Post_SendsBodyAndCallersContentType) {
  HttpRequest request = Request("POST", "/echo", R"({"jql":"project = OKRX"})");
  request.headers = {{"Content-Type", "application/json"}};

  absl::StatusOr<HttpResponse> response = client_->Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"(echo:{"jql":"project = OKRX"})");
  const Seen server = seen();
  EXPECT_EQ(server.method, "POST");
  EXPECT_EQ(server.body, R"({"jql":"project = OKRX"})");
  EXPECT_EQ(server.content_type, "application/json");
  EXPECT_FALSE(server.has_expect);
}

TEST_F(CurlHttpClientTest, Post_WithoutContentType_DoesNotInventAFormContentType) {
  ASSERT_TRUE(client_->Send(Request("POST", "/echo", "raw")).ok());

  EXPECT_EQ(seen().content_type, "");
}

TEST_F(CurlHttpClientTest, LargePost_IsSentWithoutExpectContinue) {
  const std::string body(256 * 1024, 'b');

  absl::StatusOr<HttpResponse> response = client_->Send(Request("POST", "/echo", body));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(seen().body.size(), body.size());
  EXPECT_FALSE(seen().has_expect);
}

TEST_F(CurlHttpClientTest, Put_SendsMethodAndBody) {
  absl::StatusOr<HttpResponse> response = client_->Send(Request("PUT", "/echo", "new value"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "echo:new value");
  EXPECT_EQ(seen().method, "PUT");
  EXPECT_EQ(seen().body, "new value");
}

TEST_F(CurlHttpClientTest, PutWithEmptyBody_SendsContentLengthZero) {
  ASSERT_TRUE(client_->Send(Request("PUT", "/echo")).ok());

  EXPECT_EQ(seen().method, "PUT");
  EXPECT_EQ(seen().content_length, "0");
}

TEST_F(CurlHttpClientTest, Delete_SendsMethod) {
  absl::StatusOr<HttpResponse> response = client_->Send(Request("DELETE", "/echo"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(seen().method, "DELETE");
}

TEST_F(CurlHttpClientTest, Head_ReturnsHeadersWithoutBody) {
  absl::StatusOr<HttpResponse> response = client_->Send(Request("HEAD", "/echo"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
  EXPECT_THAT(response->Header("x-echo-method"), Optional(std::string("HEAD")));
}

TEST_F(CurlHttpClientTest, NotFound_IsAResponseNotAnError) {
  absl::StatusOr<HttpResponse> response = client_->Send(Request("GET", "/missing"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"errorMessages":["Issue does not exist"]})");
}

TEST_F(CurlHttpClientTest, Redirect_IsReturnedNotFollowed) {
  absl::StatusOr<HttpResponse> response = client_->Send(Request("GET", "/redirect"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 302);
  EXPECT_THAT(response->Header("location"), Optional(std::string("/echo")));
}

TEST_F(CurlHttpClientTest, ServerSlowerThanTimeout_ReturnsDeadlineExceeded) {
  HttpRequest request = Request("GET", "/slow");
  request.timeout = absl::Milliseconds(200);

  absl::StatusOr<HttpResponse> response = client_->Send(request);

  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(response.status().message(), HasSubstr(absl::StrCat("GET ", local_.Url("/slow"))));
  EXPECT_EQ(FailureClass(response), "timeout");
}

TEST_F(CurlHttpClientTest, BodyOverLimit_ReturnsResourceExhausted) {
  std::unique_ptr<CurlHttpClient> client = MakeClient(WithBodyLimit(4096));

  absl::StatusOr<HttpResponse> response = client->Send(Request("GET", "/big?n=4097"));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(response.status().message(), HasSubstr("4096 bytes"));
}

TEST_F(CurlHttpClientTest, ChunkedBodyOverLimit_ReturnsResourceExhausted) {
  std::unique_ptr<CurlHttpClient> client = MakeClient(WithBodyLimit(4096));

  absl::StatusOr<HttpResponse> response = client->Send(Request("GET", "/big-chunked?n=10000"));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CurlHttpClientTest, BodyExactlyAtLimit_IsReturned) {
  std::unique_ptr<CurlHttpClient> client = MakeClient(WithBodyLimit(4096));

  absl::StatusOr<HttpResponse> plain = client->Send(Request("GET", "/big?n=4096"));
  absl::StatusOr<HttpResponse> chunked = client->Send(Request("GET", "/big-chunked?n=4096"));

  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->body.size(), 4096u);
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_EQ(chunked->body.size(), 4096u);
}

TEST_F(CurlHttpClientTest, HeaderValueWithLineBreak_IsRejectedWithoutEchoingTheValue) {
  HttpRequest request = Request("GET", "/echo");
  request.headers = {{"Authorization", "Bearer secret\r\nX-Injected: 1"}};

  absl::StatusOr<HttpResponse> response = client_->Send(request);

  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(response.status().message(), HasSubstr("Authorization"));
  EXPECT_THAT(response.status().message(), Not(HasSubstr("secret")));
}

TEST_F(CurlHttpClientTest, NonHttpScheme_IsRejected) {
  HttpRequest request;
  request.url = "file:///etc/passwd";

  EXPECT_EQ(client_->Send(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CurlHttpClientTest, ConcurrentSends_AllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 25;
  std::atomic<int> ok_responses{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        absl::StatusOr<HttpResponse> response = client_->Send(Request("GET", "/echo"));
        if (response.ok() && response->status == 200) ++ok_responses;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(ok_responses.load(), kThreads * kRequestsPerThread);
}

// A loopback port that is bound but not listening: connecting to it is refused, and no
// other process can take it while the socket is open.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(CurlHttpClientTransportTest, ConnectionRefused_ReturnsUnavailableWithRedactedUrl) {
  RefusingPort refusing;
  ASSERT_GT(refusing.port(), 0);
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create({});
  ASSERT_TRUE(client.ok()) << client.status();
  HttpRequest request;
  request.url =
      absl::StrCat("http://user:hunter2@127.0.0.1:", refusing.port(), "/rest?token=abc123");

  absl::StatusOr<HttpResponse> response = (*client)->Send(request);

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(),
              HasSubstr(absl::StrCat("GET http://127.0.0.1:", refusing.port(), "/rest")));
  EXPECT_THAT(response.status().message(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(response.status().message(), Not(HasSubstr("abc123")));
  EXPECT_EQ(FailureClass(response), "connection refused");
}

// ---- The address guard at connection time ----

std::unique_ptr<CurlHttpClient> GuardedClient(absl::string_view allow_cidrs) {
  absl::StatusOr<AddressGuard> guard = AddressGuard::Create(allow_cidrs);
  EXPECT_TRUE(guard.ok()) << guard.status();
  CurlHttpClientOptions options;
  options.address_guard = std::make_shared<const AddressGuard>(*guard);
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST_F(CurlHttpClientTest, GuardedClient_RefusesALoopbackServer_BeforeConnecting) {
  std::unique_ptr<CurlHttpClient> guarded = GuardedClient("");

  absl::StatusOr<HttpResponse> response = guarded->Send(Request("POST", "/echo", "payload"));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied) << response.status();
  EXPECT_THAT(response.status().message(), HasSubstr("127.0.0.1 is a loopback address"));
  EXPECT_EQ(FailureClass(response), "address not allowed (loopback)");
  EXPECT_EQ(seen().method, "");  // the server never saw a request
}

TEST_F(CurlHttpClientTest, GuardedClient_ChecksTheResolvedAddressOfAName) {
  std::unique_ptr<CurlHttpClient> guarded = GuardedClient("");
  HttpRequest request = Request("GET", "/echo");
  request.url = absl::StrCat("http://localhost:", local_.port(), "/echo");

  absl::StatusOr<HttpResponse> response = guarded->Send(request);

  EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied) << response.status();
  EXPECT_EQ(FailureClass(response), "address not allowed (loopback)");
  EXPECT_EQ(seen().method, "");
}

TEST_F(CurlHttpClientTest, GuardedClient_ReachesLoopback_WhenItsBlockIsAllowed) {
  std::unique_ptr<CurlHttpClient> guarded = GuardedClient("127.0.0.0/8");

  absl::StatusOr<HttpResponse> response = guarded->Send(Request("POST", "/echo", "payload"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(seen().body, "payload");
  // Another inside block stays refused.
  std::unique_ptr<CurlHttpClient> other = GuardedClient("10.0.0.0/8");
  EXPECT_EQ(FailureClass(other->Send(Request("GET", "/echo"))), "address not allowed (loopback)");
}

TEST_F(CurlHttpClientTest, GuardedClient_DoesNotFollowRedirects) {
  std::unique_ptr<CurlHttpClient> guarded = GuardedClient("127.0.0.0/8");

  absl::StatusOr<HttpResponse> response = guarded->Send(Request("GET", "/redirect"));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(seen().method, "");  // /echo was not fetched
}

// An environment proxy would make curl connect to the proxy, so the guard would check the
// proxy's address instead of the target's: the guarded client uses none.
TEST_F(CurlHttpClientTest, GuardedClient_IgnoresTheEnvironmentProxy) {
  LocalHttpServer proxy;
  proxy.server().Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.status = 203;
    res.set_content("via proxy", "text/plain");
  });
  ASSERT_TRUE(proxy.Start());
  const std::string proxy_url = absl::StrCat("http://127.0.0.1:", proxy.port());
  for (const char* name : {"no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"}) unsetenv(name);
  setenv("http_proxy", proxy_url.c_str(), 1);

  absl::StatusOr<HttpResponse> unguarded = MakeClient({})->Send(Request("GET", "/echo"));
  absl::StatusOr<HttpResponse> guarded =
      GuardedClient("127.0.0.0/8")->Send(Request("GET", "/echo"));
  unsetenv("http_proxy");

  ASSERT_TRUE(unguarded.ok()) << unguarded.status();
  EXPECT_EQ(unguarded->status, 203);  // the environment's proxy is in effect here ...
  ASSERT_TRUE(guarded.ok()) << guarded.status();
  EXPECT_EQ(guarded->status, 200);  // ... but the guarded client went straight to the target
  EXPECT_EQ(guarded->body, "echo:");
}

TEST(CurlHttpClientCreateTest, InvalidOptions_AreRejected) {
  CurlHttpClientOptions no_body;
  no_body.max_response_body_bytes = 0;
  CurlHttpClientOptions no_connect_time;
  no_connect_time.connect_timeout = absl::ZeroDuration();
  CurlHttpClientOptions bad_agent;
  bad_agent.user_agent = "a\r\nb";

  EXPECT_EQ(CurlHttpClient::Create(no_body).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CurlHttpClient::Create(no_connect_time).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CurlHttpClient::Create(bad_agent).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace okr::outbound
