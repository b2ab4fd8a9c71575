// Candidate HTTP edge: GNU libmicrohttpd, one internal epoll thread, connections
// suspended while the worker pool runs. Behaviour shared by all candidates in this folder:
//   GET /healthz, /readyz -> 200 "{}"
//   POST /webhooks/x      -> body up to 1 MiB (413 above), ~0.3 ms of work on a
//                            4-thread worker pool, 200 {"status":"accepted"}
// Usage: mhd_server PORT
//
// What MHD cannot do for the edge: MHD_OPTION_CONNECTION_TIMEOUT is one inactivity
// timeout for every stage (reset by each byte received), so there is no total header
// deadline: a header line every 2 s keeps a connection open for ever, and the header,
// body and keep-alive idle timeouts cannot differ (10 s here for all three). The
// application sees a request only once its header is complete.
#include <microhttpd.h>
#include <netinet/in.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
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

struct Request {
  std::string body;
  bool too_large = false;
  bool submitted = false;
  bool done = false;  // written by the worker before MHD_resume_connection
};

MHD_Result Send(MHD_Connection* c, unsigned status, const char* body) {
  MHD_Response* r = MHD_create_response_from_buffer(std::strlen(body), const_cast<char*>(body),
                                                    MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

MHD_Result Handle(void*, MHD_Connection* c, const char* url, const char* method, const char*,
                  const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* req = static_cast<Request*>(*con_cls);
  if (req == nullptr) {
    // First call: the header is complete, no body byte has been read yet.
    if (std::strcmp(method, "GET") == 0 &&
        (std::strcmp(url, "/healthz") == 0 || std::strcmp(url, "/readyz") == 0)) {
      return Send(c, MHD_HTTP_OK, "{}");
    }
    if (std::strcmp(url, "/webhooks/x") != 0) return Send(c, MHD_HTTP_NOT_FOUND, "{}");
    if (std::strcmp(method, "POST") != 0) return Send(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{}");
    // A token check would go here.
    const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl != nullptr && std::strtoull(cl, nullptr, 10) > kMaxBody) {
      return Send(c, MHD_HTTP_PAYLOAD_TOO_LARGE, "{}");
    }
    *con_cls = req = new Request;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    if (!req->too_large && req->body.size() + *upload_data_size <= kMaxBody) {
      req->body.append(upload_data, *upload_data_size);
    } else {
      req->too_large = true;  // chunked body over the limit: drop the rest
      req->body.clear();
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (req->too_large) return Send(c, MHD_HTTP_PAYLOAD_TOO_LARGE, "{}");
  if (!req->submitted) {
    req->submitted = true;
    MHD_suspend_connection(c);
    g_pool->Submit([c, req] {
      Work();
      req->done = true;
      MHD_resume_connection(c);
    });
    return MHD_YES;
  }
  return Send(c, MHD_HTTP_OK, "{\"status\":\"accepted\"}");
}

void Completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  delete static_cast<Request*>(*con_cls);
  *con_cls = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  WorkerPool pool(4);
  g_pool = &pool;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_Daemon* d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, nullptr,
      nullptr, &Handle, nullptr, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
      MHD_OPTION_CONNECTION_LIMIT, 2048u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      static_cast<size_t>(64 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
      MHD_OPTION_NOTIFY_COMPLETED, &Completed, nullptr, MHD_OPTION_END);
  if (d == nullptr) {
    std::fprintf(stderr, "MHD_start_daemon failed\n");
    return 1;
  }
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}
