#include "service/outbound/status_mapping.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "service/outbound/auth.h"

namespace okr::outbound {
namespace {

// At most kMaxBodyExcerptBytes of `body`, cut on a UTF-8 boundary, on one line.
std::string BodyExcerpt(absl::string_view body) {
  body = absl::StripAsciiWhitespace(body);
  bool truncated = false;
  if (body.size() > kMaxBodyExcerptBytes) {
    truncated = true;
    size_t end = kMaxBodyExcerptBytes - 3;  // Room for "...".
    while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) --end;
    body = body.substr(0, end);
  }
  std::string excerpt(body);
  for (char& c : excerpt) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) c = ' ';
  }
  if (truncated) excerpt += "...";
  return excerpt;
}

}  // namespace

absl::StatusCode StatusCodeForHttpStatus(int http_status) {
  if (http_status >= 200 && http_status < 300) return absl::StatusCode::kOk;
  switch (http_status) {
    case 304:  // Not Modified: a conditional request's precondition did not hold.
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 400:
    case 413:
    case 414:
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return absl::StatusCode::kNotFound;
    case 405:
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 409:
      return absl::StatusCode::kAborted;
    case 416:
      return absl::StatusCode::kOutOfRange;
    case 425:
    case 500:
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    case 429:
      return absl::StatusCode::kResourceExhausted;
  }
  if (http_status >= 400 && http_status < 500) return absl::StatusCode::kFailedPrecondition;
  if (http_status >= 500 && http_status < 600) return absl::StatusCode::kInternal;
  return absl::StatusCode::kUnknown;
}

absl::Status HttpResponseToStatus(absl::string_view method, absl::string_view url,
                                  const HttpResponse& response) {
  const absl::StatusCode code = StatusCodeForHttpStatus(response.status);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  std::string message =
      absl::StrCat("HTTP ", response.status, " from ", method, " ", RedactedUrl(url));
  if (std::string excerpt = BodyExcerpt(response.body); !excerpt.empty()) {
    absl::StrAppend(&message, ": ", excerpt);
  }
  return absl::Status(code, message);
}

absl::Status HttpResponseToStatus(const HttpRequest& request, const HttpResponse& response) {
  return HttpResponseToStatus(request.method, request.url, response);
}

bool IsRetryable(int http_status) {
  switch (http_status) {
    case 408:
    case 425:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

namespace {
constexpr char kFailureClassUrl[] = "type.okr-service/connectors.http.FailureClass";
}  // namespace

absl::Status WithFailureClass(absl::Status status, absl::string_view failure_class) {
  status.SetPayload(kFailureClassUrl, absl::Cord(failure_class));
  return status;
}

std::string FailureClass(const absl::StatusOr<HttpResponse>& result) {
  if (result.ok()) {
    if (StatusCodeForHttpStatus(result->status) == absl::StatusCode::kOk) return "";
    return absl::StrCat("HTTP ", result->status);
  }
  if (auto attached = result.status().GetPayload(kFailureClassUrl); attached.has_value()) {
    return std::string(*attached);
  }
  switch (result.status().code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kPermissionDenied:
      return "address not allowed";
    case absl::StatusCode::kResourceExhausted:
      return "response too large";
    case absl::StatusCode::kInvalidArgument:
      return "invalid request";
    default:
      return "connection failed";
  }
}

}  // namespace okr::outbound
