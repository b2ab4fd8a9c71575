#include "service/api/grpc_status.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"
#include "service/okr/error_details.h"

namespace okr::api {
namespace {

constexpr char kDomain[] = "okr.v1";

bool IsFieldChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '.' || c == '[' ||
         c == ']';
}

// The field path a message starts with ("key_result.title is required" -> key_result.title),
// or "" when it starts with something else.
std::string LeadingField(absl::string_view message) {
  size_t n = 0;
  while (n < message.size() && IsFieldChar(message[n])) ++n;
  if (n == 0 || !absl::ascii_islower(message[0])) return "";
  // A field is followed by a space, a colon or the end; a lone common word is no field.
  if (n < message.size() && message[n] != ' ' && message[n] != ':' && message[n] != ',') return "";
  absl::string_view field = message.substr(0, n);
  for (absl::string_view word : {"the", "a", "an", "no", "this", "it", "every", "only", "one"}) {
    if (field == word) return "";
  }
  return std::string(field);
}

// The first resource name in a message: teams/x, cycles/x, objectives/x[/keyResults/y[/...]],
// subscriptions/x, rules/x, apiTokens/x.
std::string FirstResource(absl::string_view message) {
  size_t best = absl::string_view::npos;
  for (absl::string_view collection :
       {"teams/", "cycles/", "objectives/", "subscriptions/", "rules/", "apiTokens/"}) {
    size_t at = 0;
    while ((at = message.find(collection, at)) != absl::string_view::npos) {
      if (at == 0 || !absl::ascii_isalnum(message[at - 1])) break;
      at += collection.size();
    }
    if (at != absl::string_view::npos && at < best) best = at;
  }
  if (best == absl::string_view::npos) {
    // The stores say `key result "k" of objective "o" ...`, `objective "o1" not found`.
    if (size_t kr = message.find("key result \""); kr != absl::string_view::npos) {
      const size_t k_start = kr + std::string("key result \"").size();
      const size_t k_end = message.find('"', k_start);
      const size_t o = message.find("of objective \"", k_start);
      if (k_end != absl::string_view::npos && o != absl::string_view::npos) {
        const size_t o_start = o + std::string("of objective \"").size();
        const size_t o_end = message.find('"', o_start);
        if (o_end != absl::string_view::npos) {
          return absl::StrCat("objectives/", message.substr(o_start, o_end - o_start),
                              "/keyResults/", message.substr(k_start, k_end - k_start));
        }
      }
    }
    for (auto [word, collection] :
         {std::pair{"objective \"", "objectives/"}, std::pair{"team \"", "teams/"},
          std::pair{"cycle \"", "cycles/"}}) {
      const size_t at = message.find(word);
      if (at == absl::string_view::npos || (at > 0 && absl::ascii_isalnum(message[at - 1]))) {
        continue;
      }
      const size_t start = at + std::string(word).size();
      const size_t close = message.find('"', start);
      if (close == absl::string_view::npos || close == start) continue;
      return absl::StrCat(collection, message.substr(start, close - start));
    }
    return "";
  }
  size_t end = best;
  while (end < message.size() && (absl::ascii_isalnum(message[end]) || message[end] == '-' ||
                                  message[end] == '/' || message[end] == '_')) {
    ++end;
  }
  while (end > best && message[end - 1] == '/') --end;
  return std::string(message.substr(best, end - best));
}

std::string DefaultReason(const absl::Status& status) {
  const absl::string_view m = status.message();
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_FIELD";
    case absl::StatusCode::kNotFound:
      return "RESOURCE_NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "RESOURCE_ALREADY_EXISTS";
    case absl::StatusCode::kAborted:
      return absl::StrContains(m, "etag") ? "ETAG_MISMATCH" : "CONFLICT";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kUnauthenticated:
      return absl::StrContains(m, "requires an API token") ? "TOKEN_MISSING" : "TOKEN_INVALID";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kUnimplemented:
      return "NOT_IMPLEMENTED";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    default:
      return "INTERNAL";
  }
}

}  // namespace

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(status.message()));
  const std::string message(status.message());

  google::rpc::ErrorInfo info;
  info.set_reason(ReasonOf(status).value_or(DefaultReason(status)));
  info.set_domain(kDomain);
  if (std::string resource = FirstResource(message); !resource.empty()) {
    (*info.mutable_metadata())["resource"] = resource;
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: {
      std::string field = FieldOf(status).value_or(LeadingField(message));
      if (!field.empty()) (*info.mutable_metadata())["field"] = field;
      out.add_details()->PackFrom(info);
      google::rpc::BadRequest bad;
      google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
      v->set_field(field);
      v->set_description(message);
      out.add_details()->PackFrom(bad);
      return out;
    }
    case absl::StatusCode::kPermissionDenied: {
      // "EDITOR on teams/search needed (...)" / "ADMIN needed (...)".
      for (absl::string_view role : {"VIEWER", "EDITOR", "ADMIN"}) {
        if (absl::StartsWith(message, role)) (*info.mutable_metadata())["role"] = std::string(role);
      }
      if (absl::StartsWith(message, "EDITOR on teams/")) {
        (*info.mutable_metadata())["team"] = FirstResource(message);
      }
      out.add_details()->PackFrom(info);
      return out;
    }
    case absl::StatusCode::kFailedPrecondition: {
      out.add_details()->PackFrom(info);
      google::rpc::PreconditionFailure failure;
      std::vector<Violation> violations = ViolationsOf(status);
      if (violations.empty()) {
        violations.push_back(Violation{info.reason(), FirstResource(message), message});
      }
      for (const Violation& v : violations) {
        google::rpc::PreconditionFailure::Violation* p = failure.add_violations();
        p->set_type(v.type);
        p->set_subject(v.subject);
        p->set_description(v.description);
      }
      out.add_details()->PackFrom(failure);
      return out;
    }
    case absl::StatusCode::kUnavailable: {
      out.add_details()->PackFrom(info);
      google::rpc::RetryInfo retry;
      retry.mutable_retry_delay()->set_seconds(1);
      out.add_details()->PackFrom(retry);
      return out;
    }
    default:
      out.add_details()->PackFrom(info);
      return out;
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numeric values (both follow
  // google.rpc.Code); anything unexpected becomes UNKNOWN.
  const int code = static_cast<int>(status.code());
  const grpc::StatusCode grpc_code = (code > 0 && code <= grpc::StatusCode::UNAUTHENTICATED)
                                         ? static_cast<grpc::StatusCode>(code)
                                         : grpc::StatusCode::UNKNOWN;
  google::rpc::Status details = ToRpcStatus(status);
  details.set_code(static_cast<int>(grpc_code));
  return grpc::Status(grpc_code, std::string(status.message()), details.SerializeAsString());
}

}  // namespace okr::api
