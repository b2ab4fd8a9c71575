// ServerProcess: runs the okr-server binary as a child process for process-level tests
// (startup, signals, kill -9, several replicas), with its output in a log file. The binary
// path comes from the OKR_SERVER_BINARY compile definition.
//
// Access control: the server's default is --auth=tokens (every RPC needs a bearer token).
// The process tests predate it and talk to an open server, so ServerProcess appends
// --auth=none unless the test chooses itself: an argument starting with --auth, OKR_AUTH in
// `env`, or --help (whose output the test checks as is).
#ifndef OKR_TESTS_TESTING_SERVER_PROCESS_H_
#define OKR_TESTS_TESTING_SERVER_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child okr-server process whose stderr goes to a file.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, std::string log_path,
                std::vector<std::string> env = {})
      : log_path_(std::move(log_path)) {
    if (!ChoosesAuth(args, env)) args.push_back("--auth=none");
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      std::vector<char*> argv;
      std::string binary = OKR_SERVER_BINARY;
      argv.push_back(binary.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (const std::string& kv : env) putenv(const_cast<char*>(kv.c_str()));
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits for the "serving" log line and returns the gRPC port, or 0 on timeout/exit.
  int WaitForGrpcPort(absl::Duration timeout = absl::Seconds(20)) {
    return WaitForPort("grpc_port=", timeout);
  }
  int WaitForHttpPort(absl::Duration timeout = absl::Seconds(20)) {
    return WaitForPort("http_port=", timeout);
  }
  int WaitForPort(const std::string& label, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::string log = ReadFile(log_path_);
      size_t pos = log.find(label);
      if (pos != std::string::npos) {
        const size_t digits = pos + label.size();
        size_t end = log.find_first_not_of("0123456789", digits);
        int port = 0;
        if (absl::SimpleAtoi(log.substr(digits, end - digits), &port)) return port;
      }
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        return 0;
      }
      absl::SleepFor(absl::Milliseconds(20));  // polling a log file, bounded by deadline
    }
    return 0;
  }

  void Signal(int sig) { kill(pid_, sig); }
  // Whether the process exited within `timeout` (then Wait() returns at once).
  bool WaitForExit(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!exited_) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
      } else if (absl::Now() >= deadline) {
        return false;
      } else {
        absl::SleepFor(absl::Milliseconds(20));  // polling the child, bounded by deadline
      }
    }
    return true;
  }
  // Waits for exit; returns the exit code (or 128 + signal).
  int Wait() {
    if (!exited_) waitpid(pid_, &status_, 0);
    exited_ = true;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }
  std::string Log() const { return ReadFile(log_path_); }

 private:
  // Whether the test picks the auth mode itself (or runs --help), so that no --auth=none
  // may be added.
  static bool ChoosesAuth(const std::vector<std::string>& args,
                          const std::vector<std::string>& env) {
    for (const std::string& a : args) {
      if (absl::StartsWith(a, "--auth") || a == "--help") return true;
    }
    for (const std::string& kv : env) {
      if (absl::StartsWith(kv, "OKR_AUTH=")) return true;
    }
    return false;
  }

  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_SERVER_PROCESS_H_
