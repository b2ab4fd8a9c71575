// LocalHttpServer: a real cpp-httplib server on 127.0.0.1 and an ephemeral port, serving on
// its own thread until destroyed. Register handlers on server() before Start().
//
//   LocalHttpServer local;
//   local.server().Get("/x", [](const httplib::Request&, httplib::Response& res) { ... });
//   ASSERT_TRUE(local.Start());
//   request.url = local.Url("/x");
#ifndef OKR_TESTS_CONNECTORS_HTTP_LOCAL_HTTP_SERVER_H_
#define OKR_TESTS_CONNECTORS_HTTP_LOCAL_HTTP_SERVER_H_

#include <httplib.h>

#include <string>
#include <thread>  // NOLINT(build/c++11)

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace okr::outbound::testing {

class LocalHttpServer {
 public:
  LocalHttpServer() = default;
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;
  ~LocalHttpServer() { Stop(); }

  httplib::Server& server() { return server_; }
  int port() const { return port_; }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

  // Binds, starts the serving thread and waits (with a deadline) until it accepts.
  ::testing::AssertionResult Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return ::testing::AssertionFailure() << "bind to 127.0.0.1:0 failed";
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!server_.is_running()) {
      if (absl::Now() > deadline) {
        return ::testing::AssertionFailure() << "server did not start within 10 s";
      }
      std::this_thread::yield();
    }
    return ::testing::AssertionSuccess();
  }

  void Stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace okr::outbound::testing

#endif  // OKR_TESTS_CONNECTORS_HTTP_LOCAL_HTTP_SERVER_H_
