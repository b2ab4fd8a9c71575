// The tracker-keyed column codecs (service/storage/tracker_fields_codec.h) on arbitrary
// stored text: decoding answers OK or INTERNAL, and what decodes is canonical (its encoding
// decodes to the same value and encodes to the same text).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fuzz/fuzz_checks.h"
#include "service/okr/model.h"
#include "service/storage/tracker_fields_codec.h"

namespace {

namespace storage = okr::storage;
using okr::fuzz::Check;
using okr::fuzz::CheckCode;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  const absl::StatusOr<std::map<okr::Tracker, std::string>> projects =
      storage::DecodeTrackerProjects(text);
  CheckCode(projects.status(), absl::StatusCode::kInternal, "DecodeTrackerProjects");
  if (projects.ok()) {
    const std::string encoded = storage::EncodeTrackerProjects(*projects);
    const absl::StatusOr<std::map<okr::Tracker, std::string>> again =
        storage::DecodeTrackerProjects(encoded);
    Check(again.ok() && *again == *projects, "tracker projects round-trip");
    Check(storage::EncodeTrackerProjects(*again) == encoded, "the projects encoding is canonical");
  }

  const absl::StatusOr<std::map<okr::Tracker, okr::TrackerScope>> scopes =
      storage::DecodeTrackerScopes(text);
  CheckCode(scopes.status(), absl::StatusCode::kInternal, "DecodeTrackerScopes");
  if (scopes.ok()) {
    for (const auto& [tracker, scope] : *scopes) Check(!scope.empty(), "no empty scope decodes");
    const std::string encoded = storage::EncodeTrackerScopes(*scopes);
    const absl::StatusOr<std::map<okr::Tracker, okr::TrackerScope>> again =
        storage::DecodeTrackerScopes(encoded);
    Check(again.ok() && *again == *scopes, "tracker scopes round-trip");
    Check(storage::EncodeTrackerScopes(*again) == encoded, "the scopes encoding is canonical");
  }
  return 0;
}
