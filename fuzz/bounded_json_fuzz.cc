// The bounded JSON reader the tracker connectors share (connectors/json/json_util.h): any
// bytes parse or fail with INVALID_ARGUMENT, a parsed tree is no deeper than the limit,
// the accessors read every member of it without throwing, and DumpJson's text parses back
// to the same tree.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/json/json_util.h"
#include "fuzz/fuzz_checks.h"

namespace {

namespace json_util = okr::connectors::json_util;
using okr::fuzz::Check;

constexpr size_t kMaxBytes = 1 << 20;
constexpr int kShallowDepth = 4;

int Depth(const nlohmann::json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const nlohmann::json& child : value) {
    const int depth = Depth(child);
    if (depth > deepest) deepest = depth;
  }
  return deepest + 1;
}

// Every accessor on every member of every object in `value`, checking that each answers
// only for its type.
void ReadMembers(const nlohmann::json& value) {
  if (value.is_array()) {
    for (const nlohmann::json& element : value) ReadMembers(element);
    return;
  }
  if (!value.is_object()) {
    Check(json_util::GetMember(value, "") == nullptr, "a non-object has no members");
    return;
  }
  for (const auto& [name, member] : value.items()) {
    Check((json_util::GetMember(value, name) == nullptr) == member.is_null(),
          "GetMember finds every non-null member");
    Check(json_util::GetString(value, name).has_value() == member.is_string(), "GetString");
    Check((json_util::GetObject(value, name) != nullptr) == member.is_object(), "GetObject");
    Check((json_util::GetArray(value, name) != nullptr) == member.is_array(), "GetArray");
    Check(json_util::GetBool(value, name).has_value() == member.is_boolean(), "GetBool");
    const std::optional<double> number = json_util::GetNumber(value, name);
    Check(number.has_value() == member.is_number() && (!number || std::isfinite(*number)),
          "GetNumber reads every number");
    const std::optional<int64_t> integer = json_util::GetInt(value, name);
    Check(!integer.has_value() || member.is_number(), "GetInt reads numbers only");
    if (member.is_number_integer() && !member.is_number_unsigned()) {
      Check(integer == member.get<int64_t>(), "GetInt reads a signed integer exactly");
    }
    ReadMembers(member);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<nlohmann::json> parsed = json_util::ParseBoundedJson(body, kMaxBytes);
  okr::fuzz::CheckCode(parsed.status(), absl::StatusCode::kInvalidArgument, "ParseBoundedJson");

  const absl::StatusOr<nlohmann::json> shallow =
      json_util::ParseBoundedJson(body, kMaxBytes, kShallowDepth);
  okr::fuzz::CheckCode(shallow.status(), absl::StatusCode::kInvalidArgument, "shallow parse");
  if (shallow.ok()) {
    Check(parsed.ok() && *parsed == *shallow, "a shallow tree parses with the default depth too");
    Check(Depth(*shallow) <= kShallowDepth, "a parsed tree is within the depth limit");
  }
  if (!parsed.ok()) return 0;
  Check(Depth(*parsed) <= json_util::kMaxJsonDepth, "a parsed tree is within the depth limit");

  ReadMembers(*parsed);

  const std::string dumped = json_util::DumpJson(*parsed);
  const absl::StatusOr<nlohmann::json> again = json_util::ParseBoundedJson(dumped, 2 * kMaxBytes);
  Check(again.ok(), "DumpJson's text parses");
  // Invalid UTF-8 in strings is replaced on the way out, and floats print at their
  // shortest: equal trees dump to equal text.
  Check(json_util::DumpJson(*again) == dumped, "DumpJson round-trips");
  return 0;
}
