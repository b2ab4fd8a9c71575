// Freshness: how current a key result's items from one tracker are. Each configured site
// of a tracker ("default" or a named instance) has a SourceStatus: when it last reconciled
// without error, when it last tried and why that failed, and when a webhook about one of
// its items was last applied. SiteFreshness turns one status into what the API and the
// pages show; TrackerFreshnessOf picks, among a tracker's sites, the one that is least
// current (stale before fresh, then the one confirmed least recently).
//
//   TrackerFreshness f = SiteFreshness(status, clock.Now(), reconcile_interval);
//   if (f.stale) ... f.stale_reason  // "last reconciliation failed: UNAVAILABLE: ..."
//
// A FreshnessSource answers per tracker for the running server (service/sync implements
// it over the stored statuses); the gRPC edge and the pages ask it once per request.
#ifndef OKR_SERVICE_OKR_FRESHNESS_H_
#define OKR_SERVICE_OKR_FRESHNESS_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/okr/model.h"
#include "service/okr/trackers.h"

namespace okr {

// The site name of a tracker's default instance as the API and the metrics show it.
inline constexpr char kDefaultSite[] = "default";

// What is known about one site of one tracker.
struct SourceStatus {
  Tracker tracker = Tracker::kJira;
  std::string site = kDefaultSite;
  std::optional<absl::Time> last_success;  // last reconciliation without error
  std::optional<absl::Time> last_attempt;  // last reconciliation, whatever its result
  std::string last_error;                  // why the last attempt failed; empty if it did not
  std::optional<absl::Time> last_webhook;  // last webhook about one of its items applied
};

struct TrackerFreshness {
  Tracker tracker = Tracker::kJira;
  std::string site = kDefaultSite;
  // The last successful reconciliation, or a later applied webhook; unset: never.
  std::optional<absl::Time> confirm_time;
  // The last reconciliation failed, or the last success is older than two intervals (or
  // there never was one).
  bool stale = true;
  std::string stale_reason;  // empty unless stale
};

// Longest stored error text (bytes, cut at a UTF-8 boundary).
inline constexpr size_t kMaxSourceErrorBytes = 300;
// `text` with invalid UTF-8 bytes replaced by '?', cut to at most `max_bytes` bytes
// without splitting a UTF-8 sequence ("..." added when cut).
std::string BoundedErrorText(const std::string& text, size_t max_bytes = kMaxSourceErrorBytes);

TrackerFreshness SiteFreshness(const SourceStatus& status, absl::Time now,
                               absl::Duration reconcile_interval);

// The least current of `sites` (all of `tracker`): stale before fresh, then never
// confirmed, then confirmed least recently. With no site: stale, site "default", reason
// "no <Tracker> connector is configured".
TrackerFreshness TrackerFreshnessOf(Tracker tracker, const std::vector<SourceStatus>& sites,
                                    absl::Time now, absl::Duration reconcile_interval);

// Answers freshness for the running server. Thread-safe; may cache for about a second.
class FreshnessSource {
 public:
  virtual ~FreshnessSource() = default;
  // One entry per tracker in `trackers`, in enum order.
  virtual std::vector<TrackerFreshness> ForTrackers(const std::set<Tracker>& trackers) const = 0;
};

// The trackers a work-items key result has a scope in.
std::set<Tracker> ScopeTrackers(const KeyResult& kr);
// Whether a work-items key result has any linked item (counted or excluded).
bool HasLinkedItems(const KeyResult& kr);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_FRESHNESS_H_
