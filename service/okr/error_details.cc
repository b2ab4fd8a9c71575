#include "service/okr/error_details.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace okr {
namespace {

constexpr char kFieldUrl[] = "type.okr.dev/okr.v1.ErrorField";
constexpr char kReasonUrl[] = "type.okr.dev/okr.v1.ErrorReason";
constexpr char kViolationsUrl[] = "type.okr.dev/okr.v1.PreconditionViolations";
// Separates the parts of one violation and the violations of a status; neither occurs in
// resource names, reasons or the service's sentences.
constexpr char kUnit = '\x1f';
constexpr char kRecord = '\x1e';

std::string Clean(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == kUnit || c == kRecord) c = ' ';
  }
  return out;
}

std::optional<std::string> Payload(const absl::Status& status, absl::string_view url) {
  absl::optional<absl::Cord> cord = status.GetPayload(url);
  if (!cord.has_value()) return std::nullopt;
  return std::string(*cord);
}

}  // namespace

absl::Status WithField(absl::Status status, absl::string_view field) {
  if (!status.ok()) status.SetPayload(kFieldUrl, absl::Cord(field));
  return status;
}

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  if (!status.ok()) status.SetPayload(kReasonUrl, absl::Cord(reason));
  return status;
}

absl::Status WithViolation(absl::Status status, const Violation& v) {
  if (status.ok()) return status;
  std::string all = Payload(status, kViolationsUrl).value_or("");
  if (!all.empty()) all.push_back(kRecord);
  absl::StrAppend(&all, Clean(v.type), std::string(1, kUnit), Clean(v.subject),
                  std::string(1, kUnit), Clean(v.description));
  status.SetPayload(kViolationsUrl, absl::Cord(all));
  return status;
}

std::optional<std::string> FieldOf(const absl::Status& status) {
  return Payload(status, kFieldUrl);
}

std::optional<std::string> ReasonOf(const absl::Status& status) {
  return Payload(status, kReasonUrl);
}

std::vector<Violation> ViolationsOf(const absl::Status& status) {
  std::vector<Violation> out;
  std::optional<std::string> all = Payload(status, kViolationsUrl);
  if (!all.has_value() || all->empty()) return out;
  for (absl::string_view record : absl::StrSplit(*all, kRecord)) {
    std::vector<std::string> parts = absl::StrSplit(record, kUnit);
    parts.resize(3);
    out.push_back(Violation{parts[0], parts[1], parts[2]});
  }
  return out;
}

}  // namespace okr
