// Bounded, exception-free JSON reading for everything the tracker connectors (Jira, GitLab)
// take from the outside world: webhook bodies and REST responses. Internal to connectors/.
//
// Usage:
//   OKR_ASSIGN_OR_RETURN(nlohmann::json body, ParseBoundedJson(raw, kMaxWebhookBodyBytes));
//   std::optional<int64_t> iid = GetInt(*GetObject(body, "object_attributes"), "iid");
//
// Contract:
//  - Never throws and never crashes on untrusted input: the size and the nesting depth are
//    checked on the raw bytes before nlohmann::json builds a tree, and parsing runs with
//    exceptions disabled. INVALID_ARGUMENT for a body over `max_bytes` ("... exceeds the
//    limit ..."), nesting deeper than `max_depth` ("JSON body nests deeper than ...") or
//    malformed JSON ("malformed JSON: the body is not valid JSON (syntax error at byte N)");
//    callers and their tests rely on these phrases. Messages never quote the body.
//  - The Get* accessors read one member of an object, checking its type first; they return
//    nullptr or nullopt when `object` is not an object, the member is missing, null or of
//    another type. Pure functions, thread-safe.
#ifndef OKR_CONNECTORS_JSON_JSON_UTIL_H_
#define OKR_CONNECTORS_JSON_JSON_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace okr::connectors::json_util {

// Jira and GitLab payloads nest about 6 levels; 64 leaves ample room and bounds the
// parser's work.
inline constexpr int kMaxJsonDepth = 64;

absl::StatusOr<nlohmann::json> ParseBoundedJson(absl::string_view body, size_t max_bytes,
                                                int max_depth = kMaxJsonDepth);

// Member `name` of `object` if `object` is an object and has it, not null.
const nlohmann::json* GetMember(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is a string.
std::optional<std::string> GetString(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is an object.
const nlohmann::json* GetObject(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is an array.
const nlohmann::json* GetArray(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is an integer that fits int64_t (or a float with an integral value in
// range).
std::optional<int64_t> GetInt(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is a finite number.
std::optional<double> GetNumber(const nlohmann::json& object, absl::string_view name);
// Member `name` if it is a boolean.
std::optional<bool> GetBool(const nlohmann::json& object, absl::string_view name);

// `value` serialized without throwing: invalid UTF-8 in strings is replaced by U+FFFD.
std::string DumpJson(const nlohmann::json& value);

}  // namespace okr::connectors::json_util

#endif  // OKR_CONNECTORS_JSON_JSON_UTIL_H_
