// Resource-name parsing (service/okr/names.h, AIP-122), as the gRPC service applies it to
// every `name`, `parent` and reference field: each parser accepts the input or answers
// INVALID_ARGUMENT naming the field, and what it accepts is canonical (valid ids that
// format back to the same name).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_checks.h"
#include "service/okr/names.h"

namespace {

namespace names = okr::names;
using okr::fuzz::Check;

constexpr absl::string_view kField = "fuzz.field";

template <typename T>
bool Parsed(const absl::StatusOr<T>& parsed, const char* parser) {
  okr::fuzz::CheckCode(parsed.status(), absl::StatusCode::kInvalidArgument, parser);
  if (!parsed.ok()) {
    Check(absl::StartsWith(parsed.status().message(), kField), "the error names the field");
  }
  return parsed.ok();
}

void CheckTopLevel(const absl::StatusOr<std::string>& id, absl::string_view name,
                   std::string (*format)(absl::string_view), const char* parser) {
  if (!Parsed(id, parser)) return;
  Check(names::IsValidId(*id), "a parsed id is valid");
  Check(format(*id) == name, "a parsed name formats back to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view name(reinterpret_cast<const char*>(data), size);

  Check(names::IsValidId(name) == names::ValidateId(name, kField).ok(), "ValidateId");
  CheckTopLevel(names::ParseTeam(name, kField), name, &names::Team, "ParseTeam");
  CheckTopLevel(names::ParseCycle(name, kField), name, &names::Cycle, "ParseCycle");
  CheckTopLevel(names::ParseObjective(name, kField), name, &names::Objective, "ParseObjective");

  const absl::StatusOr<names::KeyResultName> kr = names::ParseKeyResult(name, kField);
  if (Parsed(kr, "ParseKeyResult")) {
    Check(names::IsValidId(kr->objective_id) && names::IsValidId(kr->key_result_id),
          "parsed key result ids are valid");
    Check(names::KeyResult(kr->objective_id, kr->key_result_id) == name,
          "a key result name formats back to itself");
  }
  const absl::StatusOr<names::KeyResultChildName> check_in = names::ParseCheckIn(name, kField);
  if (Parsed(check_in, "ParseCheckIn")) {
    Check(
        names::CheckIn(check_in->objective_id, check_in->key_result_id, check_in->child_id) == name,
        "a check-in name formats back to itself");
  }
  const absl::StatusOr<names::KeyResultChildName> link = names::ParseWorkItemLink(name, kField);
  if (Parsed(link, "ParseWorkItemLink")) {
    Check(names::WorkItemLink(link->objective_id, link->key_result_id, link->child_id) == name,
          "a work item link name formats back to itself");
  }
  return 0;
}
