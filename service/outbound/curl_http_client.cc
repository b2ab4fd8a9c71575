#include "service/outbound/curl_http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/outbound/auth.h"
#include "service/outbound/status_mapping.h"

namespace okr::outbound {
namespace {

// Idle easy handles kept for reuse; more concurrent calls create (and then free) extras.
constexpr size_t kMaxIdleHandles = 16;

absl::Status GlobalInit() {
  static absl::once_flag once;
  static CURLcode result = CURLE_OK;
  absl::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("curl_global_init failed: ", curl_easy_strerror(result)));
  }
  return absl::OkStatus();
}

// RFC 9110 token characters (method and header names).
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           absl::StrContains("!#$%&'*+-.^_`|~", c);
  });
}

bool HasLineBreakOrNul(absl::string_view s) {
  return s.find_first_of(absl::string_view("\r\n\0", 3)) != s.npos;
}

absl::Status ValidateRequest(const HttpRequest& request) {
  if (!IsToken(request.method)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid HTTP method for ", RedactedUrl(request.url)));
  }
  if (request.url.empty() || request.url.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("empty or malformed URL");
  }
  if (request.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("non-positive timeout for ", request.method, " ", RedactedUrl(request.url)));
  }
  if (request.method == "HEAD" && !request.body.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HEAD request with a body: ", RedactedUrl(request.url)));
  }
  for (const auto& [name, value] : request.headers) {
    // The value is never quoted: it may be a credential.
    if (!IsToken(name) || HasLineBreakOrNul(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed header '", name, "' on ", request.method, " ", RedactedUrl(request.url)));
    }
  }
  return absl::OkStatus();
}

// State shared with the libcurl callbacks during one transfer.
struct Transfer {
  size_t max_body_bytes = 0;
  bool body_too_large = false;
  HttpResponse response;
  const AddressGuard* guard = nullptr;  // checks every socket when set
  // Why the guard refused the last address it refused ("127.0.0.1 is a loopback address;
  // ...") and its class ("loopback"); empty while it refused nothing.
  std::string refused_reason;
  std::string refused_class;
};

// CURLOPT_OPENSOCKETFUNCTION of guarded transfers: the address curl is about to connect to
// (after DNS, for every address it tries) must pass the guard, or no socket is opened.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(user);
  std::optional<IpAddress> ip = IpAddress::FromSockaddr(&address->addr, address->addrlen);
  if (!ip.has_value()) {
    transfer->refused_reason = "not an IPv4 or IPv6 address";
    transfer->refused_class = "unsupported address family";
    return CURL_SOCKET_BAD;
  }
  if (std::optional<AddressClass> refused = transfer->guard->Refuses(*ip); refused.has_value()) {
    transfer->refused_reason = std::string(transfer->guard->CheckAddress(*ip).message());
    transfer->refused_class = std::string(AddressClassName(*refused));
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const absl::string_view line(data, n);
  HttpHeaders& headers = transfer->response.headers;
  if (absl::StartsWith(line, "HTTP/")) {
    headers.clear();  // A new response (after 1xx or a proxy CONNECT): start over.
  } else if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
    if (!headers.empty()) {  // Obsolete line folding: continues the previous value.
      absl::StrAppend(&headers.back().second, " ", absl::StripAsciiWhitespace(line));
    }
  } else if (size_t colon = line.find(':'); colon != line.npos) {
    headers.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
                         std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return n;
}

size_t OnBodyData(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string& body = transfer->response.body;
  if (n > transfer->max_body_bytes - body.size()) {
    transfer->body_too_large = true;
    return 0;  // Anything but n aborts the transfer with CURLE_WRITE_ERROR.
  }
  body.append(data, n);
  return n;
}

using CurlLong = long;  // NOLINT(runtime/int): the type libcurl's options take.

// Whole milliseconds, rounded up so that a sub-millisecond timeout does not become 0 (which
// libcurl reads as "no timeout").
CurlLong CeilMillis(absl::Duration d) {
  return static_cast<CurlLong>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)))));
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool Append(Slist& list, const std::string& line) {
  curl_slist* appended = curl_slist_append(list.get(), line.c_str());
  if (appended == nullptr) return false;
  list.release();
  list.reset(appended);
  return true;
}

// The FailureClass (status_mapping.h) of a failed transfer; `os_errno` is CURLINFO_OS_ERRNO.
std::string TransportFailureClass(CURLcode code, CurlLong os_errno) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "DNS lookup failed";
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) return "connection refused";
      if (os_errno == ENETUNREACH || os_errno == EHOSTUNREACH) return "host unreachable";
      if (os_errno == ETIMEDOUT) return "timeout";
      return "connection failed";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      return "connection reset";
    case CURLE_GOT_NOTHING:
      return "empty response";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP3:
      return "invalid HTTP response";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return "TLS error";
    case CURLE_FILESIZE_EXCEEDED:
      return "response too large";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return "invalid request";
    default:
      return "connection failed";
  }
}

absl::Status TransportError(CURLcode code, CurlLong os_errno, const char* error_buffer,
                            const HttpRequest& request, const Transfer& transfer) {
  if (!transfer.refused_class.empty() &&
      (code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT)) {
    return WithFailureClass(
        absl::PermissionDeniedError(absl::StrCat(request.method, " ", RedactedUrl(request.url),
                                                 ": ", transfer.refused_reason)),
        absl::StrCat("address not allowed (", transfer.refused_class, ")"));
  }
  const std::string what =
      absl::StrCat(request.method, " ", RedactedUrl(request.url), ": ",
                   error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code));
  std::string failure_class = TransportFailureClass(code, os_errno);
  absl::Status status;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      status = absl::DeadlineExceededError(what);
      break;
    case CURLE_FILESIZE_EXCEEDED:
      status = absl::ResourceExhaustedError(
          absl::StrCat("response body over ", transfer.max_body_bytes, " bytes from ", what));
      break;
    case CURLE_WRITE_ERROR:
      if (transfer.body_too_large) {
        failure_class = "response too large";
        status = absl::ResourceExhaustedError(
            absl::StrCat("response body over ", transfer.max_body_bytes, " bytes from ",
                         request.method, " ", RedactedUrl(request.url)));
      } else {
        status = absl::InternalError(what);
      }
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      status = absl::InvalidArgumentError(what);
      break;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      status = absl::InternalError(what);
      break;
    default:
      status = absl::UnavailableError(what);
      break;
  }
  return WithFailureClass(std::move(status), failure_class);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(
    CurlHttpClientOptions options) {
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CurlHttpClient: connect_timeout must be positive");
  }
  if (options.max_response_body_bytes == 0) {
    return absl::InvalidArgumentError("CurlHttpClient: max_response_body_bytes must be positive");
  }
  if (HasLineBreakOrNul(options.user_agent)) {
    return absl::InvalidArgumentError("CurlHttpClient: user_agent contains CR, LF or NUL");
  }
  if (absl::Status status = GlobalInit(); !status.ok()) return status;
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(options)));
}

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {}

CurlHttpClient::~CurlHttpClient() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_handles_) curl_easy_cleanup(handle);
}

void* CurlHttpClient::AcquireHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlHttpClient::ReleaseHandle(void* handle) {
  // Forgets every option (and pointer into this call's stack) but keeps live connections.
  curl_easy_reset(handle);
  {
    absl::MutexLock lock(&mu_);
    if (idle_handles_.size() < kMaxIdleHandles) {
      idle_handles_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

absl::StatusOr<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  if (absl::Status status = ValidateRequest(request); !status.ok()) return status;

  Slist headers;
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    has_content_type = has_content_type || absl::EqualsIgnoreCase(name, "Content-Type");
    // "Name:" would make libcurl drop the header; "Name;" sends it with an empty value.
    if (!Append(headers,
                value.empty() ? absl::StrCat(name, ";") : absl::StrCat(name, ": ", value))) {
      return absl::InternalError("curl_slist_append: out of memory");
    }
  }
  const bool sends_body =
      request.method != "HEAD" && (request.method != "GET" || !request.body.empty());
  if (!Append(headers, "Expect:") ||
      (sends_body && !has_content_type && !Append(headers, "Content-Type:"))) {
    return absl::InternalError("curl_slist_append: out of memory");
  }

  CURL* curl = AcquireHandle();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");

  Transfer transfer;
  transfer.max_body_bytes = options_.max_response_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  if (options_.address_guard != nullptr) {
    transfer.guard = options_.address_guard.get();
    curl_easy_setopt(curl, CURLOPT_PROXY, "");  // No proxy, not even from the environment.
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &transfer);
  }
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // Whatever libcurl can decode.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  if (request.timeout != absl::InfiniteDuration()) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, CeilMillis(request.timeout));
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   CeilMillis(std::min(options_.connect_timeout, request.timeout)));
  curl_easy_setopt(
      curl, CURLOPT_MAXFILESIZE_LARGE,
      static_cast<curl_off_t>(std::min<size_t>(options_.max_response_body_bytes, INT64_MAX)));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBodyData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (!sends_body) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    // Everything else (POST, PUT, DELETE, PATCH, a GET with a body) takes libcurl's POST path,
    // so Content-Length is always sent, even for an empty body; CUSTOMREQUEST renames it.
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  const CURLcode code = curl_easy_perform(curl);
  CurlLong status = 0;
  CurlLong os_errno = 0;
  if (code == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (code != CURLE_OK) curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  absl::Status error = code == CURLE_OK
                           ? absl::OkStatus()
                           : TransportError(code, os_errno, error_buffer, request, transfer);
  ReleaseHandle(curl);

  if (!error.ok()) return error;
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace okr::outbound
