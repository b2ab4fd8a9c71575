// Bounded JSON parsing for everything the Jira connector reads from the outside world
// (webhook bodies, REST responses). Internal to connectors/jira.
//
// Usage:
//   OKR_ASSIGN_OR_RETURN(nlohmann::json body, ParseBoundedJson(raw, kMaxWebhookBodyBytes));
//
// Contract:
//  - Never throws and never crashes on untrusted input: size and nesting depth are checked
//    before nlohmann::json builds a tree, and parsing runs with exceptions disabled.
//  - INVALID_ARGUMENT for a body over `max_bytes`, nesting deeper than `max_depth`, or
//    malformed JSON. Messages never quote the body.
//  - The Get* accessors read one member of an object without throwing; they return nullptr
//    or nullopt when the member is missing or has another type.
#ifndef OKR_CONNECTORS_JIRA_JSON_UTIL_H_
#define OKR_CONNECTORS_JIRA_JSON_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace okr::connectors::jira::internal {

// Jira payloads nest about 6 levels; 64 leaves ample room and bounds the parser's work.
inline constexpr int kMaxJsonDepth = 64;

absl::StatusOr<nlohmann::json> ParseBoundedJson(absl::string_view body, size_t max_bytes,
                                                int max_depth = kMaxJsonDepth);

// Member `name` of `object` if `object` is an object and has it (of any type but null).
const nlohmann::json* GetMember(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is a string.
std::optional<std::string> GetString(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is an object.
const nlohmann::json* GetObject(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is an array.
const nlohmann::json* GetArray(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is an integer (or a float with an integral value in range).
std::optional<int64_t> GetInt(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is a boolean.
std::optional<bool> GetBool(const nlohmann::json& object, absl::string_view name);

}  // namespace okr::connectors::jira::internal

#endif  // OKR_CONNECTORS_JIRA_JSON_UTIL_H_
