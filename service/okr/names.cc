#include "service/okr/names.h"

#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace okr::names {
namespace {

absl::Status Malformed(absl::string_view name, absl::string_view field, absl::string_view pattern) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": malformed resource name \"",
                                                 name.substr(0, 200), "\", expected ", pattern));
}

// Splits `name` and checks it matches the collection/id pattern given by `collections`.
bool Match(absl::string_view name, const std::vector<absl::string_view>& collections,
           std::vector<std::string>* ids) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != collections.size() * 2) return false;
  for (size_t i = 0; i < collections.size(); ++i) {
    if (parts[2 * i] != collections[i] || !IsValidId(parts[2 * i + 1])) return false;
    ids->emplace_back(parts[2 * i + 1]);
  }
  return true;
}

absl::StatusOr<std::string> ParseTopLevel(absl::string_view name, absl::string_view field,
                                          absl::string_view collection) {
  std::vector<std::string> ids;
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (!Match(name, {collection}, &ids)) {
    return Malformed(name, field, absl::StrCat(collection, "/{id}"));
  }
  return ids[0];
}

absl::StatusOr<KeyResultChildName> ParseKeyResultChild(absl::string_view name,
                                                       absl::string_view field,
                                                       absl::string_view collection) {
  std::vector<std::string> ids;
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (!Match(name, {"objectives", "keyResults", collection}, &ids)) {
    return Malformed(
        name, field,
        absl::StrCat("objectives/{objective}/keyResults/{key_result}/", collection, "/{id}"));
  }
  return KeyResultChildName{ids[0], ids[1], ids[2]};
}

}  // namespace

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63 || id[0] == '-') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

absl::Status ValidateId(absl::string_view id, absl::string_view field) {
  if (IsValidId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": invalid id \"", id.substr(0, 100),
                   "\" (1-63 characters of a-z, 0-9 and '-', not starting with '-')"));
}

std::string GenerateId() {
  thread_local absl::BitGen gen;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (char& c : id) c = kHex[absl::Uniform(gen, 0, 16)];
  return id;
}

absl::StatusOr<std::string> ParseTeam(absl::string_view name, absl::string_view field) {
  return ParseTopLevel(name, field, "teams");
}
absl::StatusOr<std::string> ParseCycle(absl::string_view name, absl::string_view field) {
  return ParseTopLevel(name, field, "cycles");
}
absl::StatusOr<std::string> ParseObjective(absl::string_view name, absl::string_view field) {
  return ParseTopLevel(name, field, "objectives");
}

absl::StatusOr<KeyResultName> ParseKeyResult(absl::string_view name, absl::string_view field) {
  std::vector<std::string> ids;
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (!Match(name, {"objectives", "keyResults"}, &ids)) {
    return Malformed(name, field, "objectives/{objective}/keyResults/{key_result}");
  }
  return KeyResultName{ids[0], ids[1]};
}

absl::StatusOr<KeyResultChildName> ParseCheckIn(absl::string_view name, absl::string_view field) {
  return ParseKeyResultChild(name, field, "checkIns");
}
absl::StatusOr<KeyResultChildName> ParseWorkItemLink(absl::string_view name,
                                                     absl::string_view field) {
  return ParseKeyResultChild(name, field, "workItemLinks");
}

std::string Team(absl::string_view id) { return absl::StrCat("teams/", id); }
std::string Cycle(absl::string_view id) { return absl::StrCat("cycles/", id); }
std::string Objective(absl::string_view id) { return absl::StrCat("objectives/", id); }
std::string KeyResult(absl::string_view objective_id, absl::string_view key_result_id) {
  return absl::StrCat("objectives/", objective_id, "/keyResults/", key_result_id);
}
std::string CheckIn(absl::string_view objective_id, absl::string_view key_result_id,
                    absl::string_view id) {
  return absl::StrCat(KeyResult(objective_id, key_result_id), "/checkIns/", id);
}
std::string WorkItemLink(absl::string_view objective_id, absl::string_view key_result_id,
                         absl::string_view id) {
  return absl::StrCat(KeyResult(objective_id, key_result_id), "/workItemLinks/", id);
}

}  // namespace okr::names
