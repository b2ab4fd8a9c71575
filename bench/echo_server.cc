// okr_bench_echo_server: the baseline of the gRPC load benchmark. A bare gRPC server on
// the callback API (the fastest C++ server model) that answers okr.bench.Echo/Ping by
// echoing the payload and finishing at once. Listens on 127.0.0.1:--port until
// SIGTERM/SIGINT.
//
//   okr_bench_echo_server --port=50600
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "bench/echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace okr::bench {
namespace {

class EchoService final : public Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context, const PingRequest* request,
                                 PingResponse* response) override {
    response->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int Run(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--port=") && absl::SimpleAtoi(arg, &port) && port > 0 &&
        port < 65536) {
      continue;
    }
    std::fprintf(stderr, "usage: okr_bench_echo_server --port=N  (bad argument \"%s\")\n", argv[i]);
    return 2;
  }
  if (port == 0) {
    std::fprintf(stderr, "okr_bench_echo_server: --port is required\n");
    return 2;
  }

  // Block the shutdown signals before gRPC starts its threads, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EchoService service;
  const std::string address = absl::StrCat("127.0.0.1:", port);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "okr_bench_echo_server: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::printf("okr_bench_echo_server listening on %s\n", address.c_str());
  std::fflush(stdout);

  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace okr::bench

int main(int argc, char** argv) { return okr::bench::Run(argc, argv); }
