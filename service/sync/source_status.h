// Source status: per tracker site, when reconciliation last succeeded, when it last ran
// and why it failed, and when a webhook about one of the site's items was last applied;
// stored in the database (documents of kinds "tracker_reconcile_status" and
// "tracker_webhook_status", id "<tracker slug>:<site>") so that every replica answers the
// same, whichever one holds the cluster lock and reconciles. It answers freshness
// (service/okr/freshness.h) for the gRPC edge, the pages and the metrics.
//
//   SourceStatusStore status(store, clock, {{Tracker::kJira, "default"}}, options);
//   RecordingSource recording(site_source);               // in front of one site's source
//   recording.BeginRound();  reconciler.RunOnce();
//   status.RecordReconciliation(Tracker::kJira, "default", recording.round_error());
//   RecordingSink sink(site_sink, [&] { status.RecordWebhook(Tracker::kJira, "default"); });
//   status.ForTrackers({Tracker::kJira});                 // what a key result shows
//
// Writes: one small row per site per reconciliation round; webhook times are coalesced
// (at most one write per site per `webhook_coalesce`; a time held back is written by the
// next webhook after the window, by FlushWebhooks, or at the next round on the replica
// that reconciles). Reads are cached for `read_cache`. Thread-safe.
#ifndef OKR_SERVICE_SYNC_SOURCE_STATUS_H_
#define OKR_SERVICE_SYNC_SOURCE_STATUS_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/okr/clock.h"
#include "service/okr/freshness.h"
#include "service/storage/okr_store.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

inline constexpr char kReconcileStatusKind[] = "tracker_reconcile_status";
inline constexpr char kWebhookStatusKind[] = "tracker_webhook_status";

class SourceStatusStore final : public FreshnessSource {
 public:
  struct Options {
    absl::Duration reconcile_interval = absl::Minutes(5);
    absl::Duration webhook_coalesce = absl::Seconds(5);
    absl::Duration read_cache = absl::Seconds(1);
  };
  // One configured site: its tracker and name ("default" for the default site).
  using SiteKey = std::pair<Tracker, std::string>;

  // `store` and `clock` must outlive this.
  SourceStatusStore(storage::OkrStore& store, const Clock& clock, std::vector<SiteKey> sites,
                    Options options);

  const std::vector<SiteKey>& sites() const { return sites_; }

  // Records one reconciliation round of the site: `result` OK (a success) or its error.
  absl::Status RecordReconciliation(Tracker tracker, const std::string& site,
                                    const absl::Status& result);
  // Records that a webhook about one of the site's items was applied now (coalesced).
  void RecordWebhook(Tracker tracker, const std::string& site);
  // Writes webhook times held back by the coalescing.
  absl::Status FlushWebhooks();

  // The stored status of every configured site (cached for `read_cache`); a site without
  // a stored row has only its tracker and name set.
  absl::StatusOr<std::vector<SourceStatus>> Read() const;
  // Freshness per tracker from Read(); on a read error every entry is stale with the error.
  std::vector<TrackerFreshness> ForTrackers(const std::set<Tracker>& trackers) const override;

 private:
  absl::Status WriteWebhookTime(const SiteKey& site, absl::Time time);

  storage::OkrStore& store_;
  const Clock& clock_;
  const std::vector<SiteKey> sites_;
  const Options options_;

  mutable absl::Mutex mu_;
  // Webhooks: when the site's time was last written, and a later time not yet written.
  std::map<SiteKey, absl::Time> webhook_written_ ABSL_GUARDED_BY(mu_);
  std::map<SiteKey, absl::Time> webhook_pending_ ABSL_GUARDED_BY(mu_);
  mutable std::optional<std::vector<SourceStatus>> cached_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time cached_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// A TrackerSource in front of one site's source that remembers the first error of the
// current round (BeginRound .. round_error). A rejected scope (INVALID_ARGUMENT: a query
// the site refuses) is the key result's problem, not the site's, and is not remembered.
// Follows TrackerSource's threading rule; round_error may be read from another thread.
class RecordingSource final : public TrackerSource {
 public:
  explicit RecordingSource(TrackerSource& inner) : inner_(inner) {}

  void BeginRound();
  absl::Status round_error() const;

  Tracker tracker() const override { return inner_.tracker(); }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override;
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override;
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override;

 private:
  void Note(const absl::Status& status);

  TrackerSource& inner_;
  mutable absl::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

// A TrackerSink in front of one site's webhook sink that calls `confirmed` after each
// applied delivery about a tracked item (applied or unchanged; not stale, duplicate or
// untracked ones). Thread-safe as far as the inner sink and `confirmed` are.
class RecordingSink final : public TrackerSink {
 public:
  RecordingSink(TrackerSink& inner, std::function<void()> confirmed)
      : inner_(inner), confirmed_(std::move(confirmed)) {}

  absl::StatusOr<SyncOutcome> ApplyItem(const WorkItem& state,
                                        const std::string& delivery_id) override;
  absl::StatusOr<TrackerDeletion> RemoveItem(Tracker tracker, const std::string& external_id,
                                             const std::string& key,
                                             const std::string& delivery_id) override;

 private:
  TrackerSink& inner_;
  const std::function<void()> confirmed_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_SOURCE_STATUS_H_
