// okr-server: process entry point. Parses the configuration, starts OkrServer and waits
// for SIGTERM/SIGINT, then shuts down cleanly (in-flight RPCs finish).
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/log/log.h"
#include "service/okr/clock.h"
#include "service/server/config.h"
#include "service/server/okr_server.h"

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, which turns on the mutex deadlock detector:
  // a lock-order graph update on every lock. Our lock order is fixed by design; skip it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<okr::server::ServerConfig> config =
      okr::server::ParseConfig(argc, argv, [](const char* name) { return std::getenv(name); });
  if (!config.ok()) {
    std::fprintf(stderr, "okr-server: configuration error: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->show_help) {
    std::fputs(okr::server::HelpText().c_str(), stdout);
    return 0;
  }
  okr::log::SetJsonFormat(config->log_format == "json");
  for (const std::string& line : config->DescribeForLog()) okr::log::Info(line);
  // Each HTTP connection holds a descriptor; the usual soft limit (1024) is below the
  // listener's connection cap. Raise it to the hard limit the system grants.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  // Block the shutdown signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = okr::server::OkrServer::Start(*config, okr::SystemClock::Get());
  if (!server.ok()) {
    okr::log::Error(absl::StrCat("startup failed: ", server.status().message()));
    return 1;
  }
  okr::log::Info("serving", {{"grpc_port", std::to_string((*server)->grpc_port())},
                             {"http_port", std::to_string((*server)->http_port())}});
  int received = 0;
  sigwait(&signals, &received);
  okr::log::Info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown(absl::Seconds(10));
  okr::log::Info("stopped");
  return 0;
}
