#include "service/okr/freshness.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace okr {

namespace {

// Length of the well-formed UTF-8 sequence at `text[i]`, or 0 if it is not one.
size_t Utf8SequenceLength(const std::string& text, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  if (lead >= 0xE0 && lead <= 0xEF) length = 3;
  if (lead >= 0xF0 && lead <= 0xF4) length = 4;
  if (length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

std::string BoundedErrorText(const std::string& text, size_t max_bytes) {
  // Invalid UTF-8 (tracker bodies are untrusted) becomes '?': the text goes into proto3
  // strings and HTML.
  std::string valid;
  valid.reserve(std::min(text.size(), max_bytes + 4));
  for (size_t i = 0; i < text.size() && valid.size() <= max_bytes;) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      valid.push_back('?');
      ++i;
    } else {
      valid.append(text, i, length);
      i += length;
    }
  }
  if (valid.size() <= max_bytes) return valid;
  constexpr size_t kEllipsis = 3;
  size_t cut = max_bytes > kEllipsis ? max_bytes - kEllipsis : 0;
  // Back off continuation bytes (10xxxxxx) so no UTF-8 sequence is split.
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(valid.substr(0, cut), "...");
}

TrackerFreshness SiteFreshness(const SourceStatus& status, absl::Time now,
                               absl::Duration reconcile_interval) {
  TrackerFreshness f;
  f.tracker = status.tracker;
  f.site = status.site;
  f.confirm_time = status.last_success;
  if (status.last_webhook.has_value() &&
      (!f.confirm_time.has_value() || *status.last_webhook > *f.confirm_time)) {
    f.confirm_time = status.last_webhook;
  }
  const bool last_failed =
      status.last_attempt.has_value() && !status.last_error.empty() &&
      (!status.last_success.has_value() || *status.last_attempt >= *status.last_success);
  if (last_failed) {
    f.stale = true;
    f.stale_reason = absl::StrCat("last reconciliation failed: ", status.last_error);
  } else if (!status.last_success.has_value()) {
    f.stale = true;
    f.stale_reason = "never reconciled";
  } else if (now - *status.last_success > 2 * reconcile_interval) {
    f.stale = true;
    f.stale_reason = absl::StrCat(
        "no successful reconciliation for ",
        absl::FormatDuration(absl::Trunc(now - *status.last_success, absl::Seconds(1))),
        " (reconciliation interval ",
        absl::FormatDuration(absl::Trunc(reconcile_interval, absl::Seconds(1))), ")");
  } else {
    f.stale = false;
  }
  return f;
}

TrackerFreshness TrackerFreshnessOf(Tracker tracker, const std::vector<SourceStatus>& sites,
                                    absl::Time now, absl::Duration reconcile_interval) {
  std::optional<TrackerFreshness> worst;
  // Ordering key: stale first, then never confirmed, then the oldest confirmation.
  auto rank = [](const TrackerFreshness& f) {
    return std::make_tuple(!f.stale, f.confirm_time.has_value(),
                           f.confirm_time.value_or(absl::InfinitePast()));
  };
  for (const SourceStatus& s : sites) {
    if (s.tracker != tracker) continue;
    TrackerFreshness f = SiteFreshness(s, now, reconcile_interval);
    if (!worst.has_value() || rank(f) < rank(*worst)) worst = std::move(f);
  }
  if (worst.has_value()) return *std::move(worst);
  TrackerFreshness none;
  none.tracker = tracker;
  none.stale = true;
  none.stale_reason = absl::StrCat("no ", TrackerDisplayName(tracker), " connector is configured");
  return none;
}

std::set<Tracker> ScopeTrackers(const KeyResult& kr) {
  std::set<Tracker> out;
  for (const auto& [tracker, scope] : kr.scopes) {
    if (!scope.empty()) out.insert(tracker);
  }
  return out;
}

bool HasLinkedItems(const KeyResult& kr) {
  return kr.totals.item_count + kr.totals.excluded_count > 0;
}

}  // namespace okr
