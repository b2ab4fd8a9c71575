#include "service/web/freshness_words.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "service/okr/trackers.h"

namespace okr::web {
namespace {

std::string Count(int64_t n, const char* unit) {
  return absl::StrCat(n, " ", unit, n == 1 ? "" : "s", " ago");
}

}  // namespace

std::string AgoInWords(absl::Time then, absl::Time now) {
  const absl::Duration d = now - then;
  if (d < absl::ZeroDuration()) return "just now";
  if (d < absl::Minutes(1)) return "less than a minute ago";
  if (d < absl::Hours(1)) return Count(absl::ToInt64Minutes(d), "minute");
  if (d < absl::Hours(48)) return Count(absl::ToInt64Hours(d), "hour");
  return Count(absl::ToInt64Hours(d) / 24, "day");
}

std::string FreshnessInWords(const TrackerFreshness& f, absl::Time now) {
  std::string source = TrackerDisplayName(f.tracker);
  if (f.site != kDefaultSite) absl::StrAppend(&source, " (", f.site, ")");
  if (f.stale) return absl::StrCat(source, ": stale (", f.stale_reason, ")");
  if (!f.confirm_time.has_value()) return absl::StrCat(source, ": never confirmed");
  return absl::StrCat(source, ": confirmed ", AgoInWords(*f.confirm_time, now));
}

}  // namespace okr::web
