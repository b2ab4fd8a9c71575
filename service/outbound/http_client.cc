#include "service/outbound/http_client.h"

#include "absl/strings/match.h"

namespace okr::outbound {

bool IsIdempotentMethod(absl::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  for (const auto& [header_name, value] : headers) {
    if (absl::EqualsIgnoreCase(header_name, name)) return value;
  }
  return std::nullopt;
}

}  // namespace okr::outbound
