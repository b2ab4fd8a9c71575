// The event-details column codec (service/storage/event_codec.h) on arbitrary stored text,
// as a corrupt or foreign row would hold: decoding answers OK or INTERNAL, a decoded
// event's enums are in range, and an event's encoding decodes to an event that encodes the
// same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "fuzz/fuzz_checks.h"
#include "service/okr/events.h"
#include "service/okr/lifecycle.h"
#include "service/okr/model.h"
#include "service/storage/event_codec.h"

namespace {

using okr::fuzz::Check;

bool InRange(int value, int lo, int hi) { return value >= lo && value <= hi; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  okr::Event event;
  event.sequence = 7;
  const absl::Status decoded = okr::storage::DecodeEventDetails(text, event);
  okr::fuzz::CheckCode(decoded, absl::StatusCode::kInternal, "DecodeEventDetails");
  if (!decoded.ok()) return 0;

  Check(InRange(static_cast<int>(event.cause.kind), 0, 14), "the cause kind is in range");
  Check(InRange(static_cast<int>(event.old_health), 1, 4) &&
            InRange(static_cast<int>(event.new_health), 1, 4),
        "the healths are in range");
  Check(InRange(static_cast<int>(event.old_state), 1, 4) &&
            InRange(static_cast<int>(event.new_state), 1, 4),
        "the states are in range");
  (void)okr::CauseKindName(event.cause.kind);
  (void)okr::ObjectiveStateName(event.new_state);

  const std::string encoded = okr::storage::EncodeEventDetails(event);
  okr::Event again;
  Check(okr::storage::DecodeEventDetails(encoded, again).ok(), "an encoding decodes");
  Check(okr::storage::EncodeEventDetails(again) == encoded, "decode-encode is stable");
  return 0;
}
