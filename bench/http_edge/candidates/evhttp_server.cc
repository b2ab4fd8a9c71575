// Candidate HTTP edge: libevent 2.1 evhttp, one event-loop thread. Behaviour shared by
// all candidates in this folder:
//   GET /healthz, /readyz -> 200 "{}"
//   POST /webhooks/x      -> body up to 1 MiB (413 above), ~0.3 ms of work on a
//                            4-thread worker pool, 200 {"status":"accepted"}
// Usage: evhttp_server PORT
//
// What evhttp 2.1 cannot do for the edge: evhttp_set_timeout is one inactivity timeout
// (bufferevent read/write timeouts, reset by each byte), so no total header deadline and
// no separate header/body/idle timeouts (10 s for all here); no connection cap
// (evhttp_set_max_connections is 2.2); the callback runs only after the whole body is
// read, so a token cannot be checked before the body (evhttp_set_newreqcb is 2.2).
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
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

WorkerPool* g_pool;
event_base* g_base;

struct Job {
  evhttp_request* req;
  evhttp_connection* conn;
  bool cancelled = false;  // the connection closed while the worker ran
};

void Send(evhttp_request* req, int code, const char* reason, const char* body) {
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body, std::strlen(body));
  evhttp_send_reply(req, code, reason, out);
  evbuffer_free(out);
}

void OnConnectionClosed(evhttp_connection*, void* arg) { static_cast<Job*>(arg)->cancelled = true; }

void OnWorkDone(evutil_socket_t, short, void* arg) {
  auto* job = static_cast<Job*>(arg);
  if (!job->cancelled) {
    evhttp_connection_set_closecb(job->conn, nullptr, nullptr);
    Send(job->req, 200, "OK", "{\"status\":\"accepted\"}");
  }
  delete job;
}

void Handle(evhttp_request* req, void*) {
  const char* uri = evhttp_request_get_uri(req);
  const auto method = evhttp_request_get_command(req);
  if (method == EVHTTP_REQ_GET &&
      (std::strcmp(uri, "/healthz") == 0 || std::strcmp(uri, "/readyz") == 0)) {
    return Send(req, 200, "OK", "{}");
  }
  if (std::strcmp(uri, "/webhooks/x") != 0) return Send(req, 404, "Not Found", "{}");
  if (method != EVHTTP_REQ_POST) return Send(req, 405, "Method Not Allowed", "{}");
  auto* job = new Job{req, evhttp_request_get_connection(req)};
  evhttp_connection_set_closecb(job->conn, &OnConnectionClosed, job);
  g_pool->Submit([job] {
    Work();
    timeval now{0, 0};
    event_base_once(g_base, -1, EV_TIMEOUT, &OnWorkDone, job, &now);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  evthread_use_pthreads();
  WorkerPool pool(4);
  g_pool = &pool;
  g_base = event_base_new();
  evhttp* http = evhttp_new(g_base);
  evhttp_set_timeout(http, 10);
  evhttp_set_max_body_size(http, kMaxBody);
  evhttp_set_max_headers_size(http, 16 * 1024);
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
  evhttp_set_gencb(http, &Handle, nullptr);
  if (evhttp_bind_socket(http, "127.0.0.1", static_cast<uint16_t>(std::atoi(argv[1]))) != 0) {
    std::fprintf(stderr, "bind failed\n");
    return 1;
  }
  event_base_dispatch(g_base);
  return 0;
}
