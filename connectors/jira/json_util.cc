#include "connectors/jira/json_util.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace okr::connectors::jira::internal {
namespace {

// Deepest array/object nesting in `body`, scanning no further than one level past
// `max_depth`. Brackets inside strings do not count. Malformed input is left to the parser.
int NestingDepth(absl::string_view body, int max_depth) {
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
      case '{':
      case '[':
        if (++depth > deepest) deepest = depth;
        if (deepest > max_depth) return deepest;
        break;
      case '}':
      case ']':
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
        absl::StrCat("JSON body nests deeper than ", max_depth, " levels"));
  }
  nlohmann::json parsed = nlohmann::json::parse(body.begin(), body.end(), /*cb=*/nullptr,
                                                /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("body is not valid JSON");
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
  if (member->is_number_integer()) {
    if (member->is_number_unsigned() &&
        member->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    return member->get<int64_t>();
  }
  if (member->is_number_float()) {
    const double value = member->get<double>();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (std::isfinite(value) && std::trunc(value) == value && value >= -9223372036854775808.0 &&
        value < 9223372036854775808.0) {
      return static_cast<int64_t>(value);
    }
  }
  return std::nullopt;
}

std::optional<bool> GetBool(const nlohmann::json& object, absl::string_view name) {
  const nlohmann::json* member = GetMember(object, name);
  if (member == nullptr || !member->is_boolean()) return std::nullopt;
  return member->get<bool>();
}

}  // namespace okr::connectors::jira::internal
