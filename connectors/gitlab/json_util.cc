#include "connectors/gitlab/json_util.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace okr::connectors::gitlab::internal {
namespace {

// The deepest nesting of arrays/objects in `body`, not counting brackets inside strings.
// Stops counting once `limit` is exceeded.
int NestingDepth(absl::string_view body, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        if (deepest > limit) return deepest;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseBoundedJson(absl::string_view body, size_t max_bytes,
                                                int max_depth) {
  if (body.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON body of ", body.size(), " bytes exceeds the limit of ", max_bytes));
  }
  if (NestingDepth(body, max_depth) > max_depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nesting deeper than ", max_depth, " levels"));
  }
  nlohmann::json parsed = nlohmann::json::parse(body.begin(), body.end(), /*cb=*/nullptr,
                                                /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("malformed JSON");
  return parsed;
}

const nlohmann::json* GetMember(const nlohmann::json& object, absl::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> GetString(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  if (member == nullptr || !member->is_string()) return std::nullopt;
  return member->get_ref<const std::string&>();
}

const nlohmann::json* GetObject(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  return member != nullptr && member->is_object() ? member : nullptr;
}

const nlohmann::json* GetArray(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  return member != nullptr && member->is_array() ? member : nullptr;
}

std::optional<int64_t> GetInt(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  if (member == nullptr) return std::nullopt;
  if (member->is_number_unsigned()) {
    const uint64_t value = member->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(value);
  }
  if (member->is_number_integer()) return member->get<int64_t>();
  if (member->is_number_float()) {
    const double value = member->get<double>();
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (!std::isfinite(value) || value != std::trunc(value) || value < -9223372036854775808.0 ||
        value >= 9223372036854775808.0) {
      return std::nullopt;
    }
    return static_cast<int64_t>(value);
  }
  return std::nullopt;
}

std::optional<double> GetNumber(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  if (member == nullptr || !member->is_number()) return std::nullopt;
  const double value = member->get<double>();
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<bool> GetBool(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  if (member == nullptr || !member->is_boolean()) return std::nullopt;
  return member->get<bool>();
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                    nlohmann::json::error_handler_t::replace);
}

}  // namespace okr::connectors::gitlab::internal
