#include "connectors/json/json_util.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace okr::connectors::json_util {
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

// Records where parsing failed and builds nothing. nlohmann's own error text quotes the
// input, so only the position is kept.
class ErrorPositionSax final : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    position_ = position;
    return false;
  }
  size_t position() const { return position_; }

 private:
  size_t position_ = 0;
};

// The byte (1-based, as nlohmann counts) at which `body`, known to be malformed, stops
// being JSON. Runs only on the error path; the depth was already checked.
size_t SyntaxErrorPosition(absl::string_view body) {
  ErrorPositionSax sax;
  nlohmann::json::sax_parse(body.begin(), body.end(), &sax, nlohmann::json::input_format_t::json,
                            /*strict=*/true);
  return sax.position();
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
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON: the body is not valid JSON (syntax error at byte ",
                     SyntaxErrorPosition(body), ")"));
  }
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

}  // namespace okr::connectors::json_util
