// Tracker sync interfaces: what the Jira and GitLab connectors implement (TrackerSource,
// TrackerWriter) and what they call (TrackerSink). The sync layer turns tracker events and
// reconciliation results into domain updates through OkrCore; connectors adapt the
// trackers' wire formats and never touch the store.
//
//   webhook:        connector parses + verifies -> TrackerSink::ApplyItem / RemoveItem
//   reconciliation: Reconciler asks TrackerSource for the truth and applies it
//   write-back:     WriteBackWorker tells TrackerWriter what each linked item serves
#ifndef OKR_SERVICE_SYNC_TRACKER_SYNC_H_
#define OKR_SERVICE_SYNC_TRACKER_SYNC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/core/okr_core.h"
#include "service/okr/model.h"

namespace okr::sync {

// Receives tracker events. Implementations are thread-safe; every call is one durable
// transaction, so a webhook may be acknowledged once it returns OK.
class TrackerSink {
 public:
  virtual ~TrackerSink() = default;
  // The tracker's current state of one item. `delivery_id` (may be empty) dedupes
  // redeliveries; state older than what is held is ignored.
  virtual absl::StatusOr<core::SyncOutcome> ApplyItem(const WorkItem& state,
                                                      const std::string& delivery_id) = 0;
  // The item was deleted in the tracker.
  virtual absl::StatusOr<core::TrackerDeletion> RemoveItem(Tracker tracker,
                                                           const std::string& external_id,
                                                           const std::string& key,
                                                           const std::string& delivery_id) = 0;
};

// The sink of the running service: OkrCore, plus a log line for every deleted item (a
// deleted issue leaves its key results visibly, never silently).
class CoreTrackerSink final : public TrackerSink {
 public:
  explicit CoreTrackerSink(core::OkrCore& core) : core_(core) {}
  absl::StatusOr<core::SyncOutcome> ApplyItem(const WorkItem& state,
                                              const std::string& delivery_id) override;
  absl::StatusOr<core::TrackerDeletion> RemoveItem(Tracker tracker, const std::string& external_id,
                                                   const std::string& key,
                                                   const std::string& delivery_id) override;

 private:
  core::OkrCore& core_;
};

// Reads the truth from one tracker for reconciliation. Implementations batch requests
// (never one GET per item) and are called from one thread at a time.
class TrackerSource {
 public:
  virtual ~TrackerSource() = default;
  virtual Tracker tracker() const = 0;
  // Current state of the given tracked items (identified by external_id if set, else by
  // key). Items missing from the result may have been deleted.
  virtual absl::StatusOr<std::vector<WorkItem>> FetchItems(
      const std::vector<WorkItem>& tracked) = 0;
  // Asks for one item directly; true only if the tracker says it does not exist (404).
  virtual absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) = 0;
  // The items matching the key result's scope for this tracker, or nullopt if the key
  // result has no scope here.
  virtual absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(
      const KeyResult& kr) = 0;
};

// What the tracker shows about one key result an item serves.
struct ServedKeyResult {
  std::string key_result;  // objectives/{o}/keyResults/{k}
  std::string key_result_title;
  std::string objective;  // objectives/{o}
  std::string objective_title;
  std::string team_name;
  double progress = 0;
  double expected_progress = 0;
  Health health = Health::kNotStarted;
  bool achieved = false;  // progress >= 1
  std::string url;        // --public-url + key result path
};

// Writes the service's mark into one tracker item. Called from one thread at a time.
class TrackerWriter {
 public:
  virtual ~TrackerWriter() = default;
  virtual Tracker tracker() const = 0;
  // Makes the item show `served` (every key result it serves, never empty). `ref` is what
  // the previous Write returned for this item ("" the first time): e.g. a GitLab note id
  // to edit in place. Returns the ref to keep. NOT_FOUND if the item is gone.
  virtual absl::StatusOr<std::string> Write(const WorkItem& item,
                                            const std::vector<ServedKeyResult>& served,
                                            const std::string& ref) = 0;
};

// An issue the service opens in a team's tracker when a rule fires (service/events).
struct NewIssue {
  // Jira project key ("OKRX") or GitLab project path ("acme/checkout").
  std::string project;
  std::string title;        // e.g. "Key result at risk: Checkout NPS >= 45"
  std::string description;  // plain text; includes `url`
  std::string url;          // link back to the key result (--public-url + KeyResultPath)
  // A label unique to one rule firing, e.g. "okr-rule-3f9c2a". The opener attaches it to
  // the issue and first looks for an existing issue carrying it, so a retry after a crash
  // between "created" and "recorded" finds the first issue instead of opening a second.
  std::string dedupe_label;
};

// Opens issues in one tracker. Called from one thread at a time.
class TrackerIssueOpener {
 public:
  virtual ~TrackerIssueOpener() = default;
  virtual Tracker tracker() const = 0;
  // The issue carrying `issue.dedupe_label` in `issue.project` if one exists, else a new
  // one. Returns the item as the service identifies it (Jira: key "OKRX-12" with the
  // numeric id as external_id; GitLab: key "group/project#iid" with the global id as
  // external_id), with title and web url. INVALID_ARGUMENT for a missing project/title/
  // label; the tracker's errors mapped by connectors/http/status_mapping (NOT_FOUND for an
  // unknown project, ...).
  virtual absl::StatusOr<WorkItem> OpenIssue(const NewIssue& issue) = 0;
};

// An inbound tracker webhook as the HTTP layer hands it to a connector (the body is
// already bounded in size), and the answer the connector gives.
struct WebhookRequest {
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // raw bytes, as signed
  std::string Header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
  }
};
struct WebhookResponse {
  int status = 200;
  std::string body;  // JSON
  // For metrics: accepted | duplicate | stale | ignored | rejected-auth |
  // rejected-malformed | unavailable.
  std::string outcome;
};

// Stable path of a key result's page under --public-url.
std::string KeyResultPath(const std::string& objective_id, const std::string& key_result_id);

// "Checkout NPS: 45% (expected 50%), on track" style summary used by both trackers.
std::string DescribeProgress(const ServedKeyResult& kr);
const char* HealthLabel(Health health);

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_TRACKER_SYNC_H_
