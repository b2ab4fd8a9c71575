// Candidate HTTP edge: cpp-httplib, thread per connection on a 64-thread pool (the
// server okr-service uses today). Behaviour shared by all candidates in this folder:
//   GET /healthz, /readyz -> 200 "{}"
//   POST /webhooks/x      -> body up to 1 MiB (413 above), ~0.3 ms of work on a
//                            4-thread worker pool, 200 {"status":"accepted"}
// Usage: httplib_server PORT
//
// What cpp-httplib cannot do for the edge: a total header deadline (the read timeout is
// per recv, so a header line every 2 s keeps a pool thread forever), a connection cap
// (accepted sockets queue for the 64 threads without bound), separate header/body
// timeouts.
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr size_t kMaxBody = 1 << 20;

void Work() {
  auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(300);
  while (std::chrono::steady_clock::now() < end) {
  }
}

class WorkerPool {
 public:
  explicit WorkerPool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
  }
  void Submit(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [this] { return !q_.empty(); });
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  std::vector<std::thread> threads_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  WorkerPool pool(4);
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_payload_max_length(kMaxBody);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_keep_alive_timeout(60);
  server.set_keep_alive_max_count(1000);
  server.set_tcp_nodelay(true);
  auto health = [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  };
  server.Get("/healthz", health);
  server.Get("/readyz", health);
  server.Post("/webhooks/x", [&pool](const httplib::Request& req, httplib::Response& res) {
    std::promise<void> done;
    size_t n = req.body.size();
    pool.Submit([&done, n] {
      (void)n;
      Work();
      done.set_value();
    });
    done.get_future().wait();
    res.set_content("{\"status\":\"accepted\"}", "application/json");
  });
  if (!server.listen("127.0.0.1", std::atoi(argv[1]))) {
    std::fprintf(stderr, "listen failed\n");
    return 1;
  }
  return 0;
}
