// EventCodec: the one encoding of an event's details (everything but the columns the
// stores filter on: sequence, type, time, objective, key result, team, cycle) as a JSON
// text column, shared by the SQLite and PostgreSQL outboxes so both read and write the
// same rows.
#ifndef OKR_SERVICE_STORAGE_EVENT_CODEC_H_
#define OKR_SERVICE_STORAGE_EVENT_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "service/okr/events.h"

namespace okr::storage {

// The detail fields of `event` as a compact JSON object.
std::string EncodeEventDetails(const Event& event);
// Fills the detail fields of `event` from EncodeEventDetails' output; INTERNAL for text
// that is not such an object, or whose cause kind, health or state is outside its enum (a
// corrupt row).
absl::Status DecodeEventDetails(const std::string& text, Event& event);

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_EVENT_CODEC_H_
