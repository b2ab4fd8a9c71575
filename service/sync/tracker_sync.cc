#include "service/sync/tracker_sync.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "service/okr/names.h"

namespace okr::sync {

absl::string_view WebhookRequest::Header(absl::string_view lower_case_name) const {
  auto it = headers_.find(std::string(lower_case_name));
  return it == headers_.end() ? absl::string_view() : absl::string_view(it->second);
}

std::string KeyResultPath(const std::string& objective_id, const std::string& key_result_id) {
  return absl::StrCat("/", names::KeyResult(objective_id, key_result_id));
}

const char* HealthLabel(Health health) {
  switch (health) {
    case Health::kOnTrack:
      return "on track";
    case Health::kAtRisk:
      return "at risk";
    case Health::kOffTrack:
      return "off track";
    case Health::kNotStarted:
      return "not started";
  }
  return "unknown";
}

std::string DescribeProgress(const ServedKeyResult& kr) {
  const auto pct = [](double v) { return static_cast<int>(std::lround(v * 100)); };
  if (kr.achieved) return absl::StrCat(pct(kr.progress), "%, achieved");
  return absl::StrCat(pct(kr.progress), "% (expected ", pct(kr.expected_progress), "%), ",
                      HealthLabel(kr.health));
}

}  // namespace okr::sync
