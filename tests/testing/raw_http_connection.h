// RawConnection: a client TCP connection to a loopback port for tests of HTTP edges, where
// a test must control exactly which bytes arrive when (a header cut short, a body never
// sent, a connection held idle) and see whether and when the server answers or closes.
//
//   RawConnection c(port);
//   c.Send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 9999999\r\n\r\n");
//   std::string response = c.ReadResponse();   // "" if none arrives in time
//   EXPECT_EQ(Status(response), 413);
#ifndef OKR_TESTS_TESTING_RAW_HTTP_CONNECTION_H_
#define OKR_TESTS_TESTING_RAW_HTTP_CONNECTION_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr::testing {

// A client TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one response (headers, then Content-Length bytes); "" when the connection ends
  // first or nothing complete arrives within `timeout`.
  std::string ReadResponse(absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      const size_t end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const std::string head = pending_.substr(0, end);
        const size_t cl = absl::AsciiStrToLower(head).find("content-length: ");
        if (cl != std::string::npos) {
          absl::SimpleAtoi(head.substr(cl + 16, head.find("\r\n", cl) - cl - 16), &length);
        }
        if (pending_.size() >= end + 4 + length) {
          std::string response = pending_.substr(0, end + 4 + length);
          pending_.erase(0, end + 4 + length);
          return response;
        }
      }
      if (!ReadSome(deadline)) return "";
    }
  }

  // Whether the server closes the connection (EOF or reset) within `timeout`; bytes that
  // arrive meanwhile are kept for ReadResponse.
  bool ClosedWithin(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    do {
      if (!ReadSome(deadline) && (closed_ || absl::Now() >= deadline)) return closed_;
    } while (absl::Now() < deadline);
    return closed_;
  }

 private:
  // False on EOF/error (closed_ set) or when the deadline passes.
  bool ReadSome(absl::Time deadline) {
    pollfd p{fd_, POLLIN, 0};
    const int ms = std::max(0, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

// The status code of a response's first line (0 if none).
inline int Status(const std::string& response) {
  int status = 0;
  if (response.size() < 12 || !absl::SimpleAtoi(response.substr(9, 3), &status)) return 0;
  return status;
}

// What follows the response's headers.
inline std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// A GET request for `path`; `extra` holds more header lines, each ending in CRLF.
inline std::string Get(const std::string& path, const std::string& extra = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: t\r\n", extra, "\r\n");
}

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_RAW_HTTP_CONNECTION_H_
