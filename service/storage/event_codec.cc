#include "service/storage/event_codec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace okr::storage {

std::string EncodeEventDetails(const Event& e) {
  nlohmann::json j = nlohmann::json::object();
  j["ck"] = static_cast<int>(e.cause.kind);
  if (!e.cause.ref.empty()) j["cr"] = e.cause.ref;
  if (!e.cause.via.empty()) j["cv"] = e.cause.via;
  if (!e.cause.detail.empty()) j["cd"] = e.cause.detail;
  j["op"] = e.old_progress;
  j["np"] = e.new_progress;
  if (e.threshold != 0) j["th"] = e.threshold;
  j["oh"] = static_cast<int>(e.old_health);
  j["nh"] = static_cast<int>(e.new_health);
  j["os"] = static_cast<int>(e.old_state);
  j["ns"] = static_cast<int>(e.new_state);
  if (e.old_total_weight != 0 || e.new_total_weight != 0) {
    j["ow"] = e.old_total_weight;
    j["nw"] = e.new_total_weight;
  }
  if (!e.finding_code.empty()) j["fc"] = e.finding_code;
  if (!e.finding_subject.empty()) j["fs"] = e.finding_subject;
  if (e.resolved) j["rs"] = true;
  if (!e.rule_id.empty()) j["ru"] = e.rule_id;
  if (!e.subscription_id.empty()) j["su"] = e.subscription_id;
  j["m"] = e.message;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status DecodeEventDetails(const std::string& text, Event& e) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InternalError(
        absl::StrCat("event ", e.sequence, ": details are not a JSON object"));
  }
  auto num = [&](const char* k, double def = 0) {
    auto it = j.find(k);
    return it != j.end() && it->is_number() ? it->get<double>() : def;
  };
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  // An enum field: absent or not a number reads as `def`; a number outside the enum
  // [lo, hi] is a corrupt row (checked before the conversion to int, which would be
  // undefined for a value like 1e300).
  absl::Status corrupt = absl::OkStatus();
  auto enum_at = [&](const char* k, int def, int lo, int hi) {
    const double v = num(k, def);
    if (v >= lo && v < hi + 1.0) return static_cast<int>(v);
    if (corrupt.ok()) {
      corrupt = absl::InternalError(
          absl::StrCat("event ", e.sequence, ": details field ", k, " is out of range"));
    }
    return def;
  };
  e.cause.kind =
      static_cast<CauseKind>(enum_at("ck", 0, 0, static_cast<int>(CauseKind::kWorkItemExcluded)));
  e.cause.ref = str("cr");
  e.cause.via = str("cv");
  e.cause.detail = str("cd");
  e.old_progress = num("op");
  e.new_progress = num("np");
  e.threshold = num("th");
  constexpr int kHealths = static_cast<int>(Health::kNotStarted);
  constexpr int kStates = static_cast<int>(ObjectiveState::kClosed);
  e.old_health = static_cast<Health>(enum_at("oh", kHealths, 1, kHealths));
  e.new_health = static_cast<Health>(enum_at("nh", kHealths, 1, kHealths));
  e.old_state = static_cast<ObjectiveState>(enum_at("os", 1, 1, kStates));
  e.new_state = static_cast<ObjectiveState>(enum_at("ns", 1, 1, kStates));
  e.old_total_weight = num("ow");
  e.new_total_weight = num("nw");
  e.finding_code = str("fc");
  e.finding_subject = str("fs");
  auto rs = j.find("rs");
  e.resolved = rs != j.end() && rs->is_boolean() && rs->get<bool>();
  e.rule_id = str("ru");
  e.subscription_id = str("su");
  e.message = str("m");
  return corrupt;
}

}  // namespace okr::storage
