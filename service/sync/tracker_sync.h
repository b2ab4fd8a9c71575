// Tracker sync interfaces (target okr_sync_api, domain only): what the tracker connectors
// implement (TrackerSource, TrackerWriter, TrackerIssueOpener; TrackerConnector in
// tracker_connector.h bundles them with the webhook half) and what tracker events are
// handed to (TrackerSink). The sync implementation (okr_sync: reconciler, write-back,
// CoreTrackerSink, site routing) turns them into domain updates through OkrCore;
// connectors adapt the trackers' wire formats and never see the core or the store.
//
//   webhook:        service/http's WebhookIngress verifies + parses through the connector
//                   -> TrackerSink::ApplyItem / RemoveItem
//   reconciliation: Reconciler asks TrackerSource for the truth and applies it
//   write-back:     WriteBackWorker tells TrackerWriter what each linked item serves
#ifndef OKR_SERVICE_SYNC_TRACKER_SYNC_H_
#define OKR_SERVICE_SYNC_TRACKER_SYNC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/okr/model.h"

namespace okr::sync {

// What applying one tracker event did (tracker-neutral; the core's outcome mapped 1:1).
enum class SyncOutcome {
  kApplied,    // the item changed; linked key results were updated
  kUnchanged,  // newer than what we held but nothing that matters changed
  kStale,      // older than the state we hold: ignored
  kDuplicate,  // this delivery id was applied before: ignored
  kUntracked,  // no key result links this item: ignored
};

// What removing a deleted tracker item did.
struct TrackerDeletion {
  SyncOutcome outcome = SyncOutcome::kUntracked;
  // Key results the item was removed from (`objectives/{o}/keyResults/{k}`).
  std::vector<std::string> key_results;
};

// Receives tracker events. Implementations are thread-safe; every call is one durable
// transaction, so a webhook may be acknowledged once it returns OK. INVALID_ARGUMENT: the
// event's content fails domain validation (a retry fails the same way); any other error:
// nothing was committed and a retry may succeed.
class TrackerSink {
 public:
  virtual ~TrackerSink() = default;
  // The tracker's current state of one item. `delivery_id` (may be empty) dedupes
  // redeliveries; state older than what is held is ignored.
  virtual absl::StatusOr<SyncOutcome> ApplyItem(const WorkItem& state,
                                                const std::string& delivery_id) = 0;
  // The item was deleted in the tracker.
  virtual absl::StatusOr<TrackerDeletion> RemoveItem(Tracker tracker,
                                                     const std::string& external_id,
                                                     const std::string& key,
                                                     const std::string& delivery_id) = 0;
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
  // Makes the item show exactly `served` (every key result it serves now): marks of key
  // results no longer in `served` are removed; an empty `served` removes every mark of the
  // service. `ref` is what the previous Write returned for this item ("" the first time):
  // an opaque string only the writer reads, in which it keeps what it wrote (e.g. Jira: the
  // remote link globalIds; GitLab: the note id and the labels), so it removes exactly what
  // it wrote before. Returns the ref to keep (the worker forgets it after an empty
  // `served` succeeded). Marks already gone count as removed. NOT_FOUND if the item is
  // gone; any other error: retried later with the same `ref`.
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
  // The team's issue type in trackers that have types (Team::issue_types; Jira: empty
  // means "Task"). An opener whose project lacks it picks a standard type and logs so.
  std::string issue_type;
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
  // label; the tracker's errors mapped by service/outbound/status_mapping (NOT_FOUND for an
  // unknown project, ...).
  virtual absl::StatusOr<WorkItem> OpenIssue(const NewIssue& issue) = 0;
};

// An inbound tracker webhook as the HTTP layer hands it to a connector: a view of the
// request, valid while the call lasts (the body is not copied on the way and is already
// bounded by the tracker's WebhookPolicy::max_body_bytes).
class WebhookRequest {
 public:
  // `headers`: names lower-cased; both must outlive the request.
  WebhookRequest(const std::map<std::string, std::string>& headers, absl::string_view body)
      : headers_(headers), body_(body) {}
  // The raw bytes, as signed.
  absl::string_view body() const { return body_; }
  // The value of a header, "" if absent (`lower_case_name` as stored: lower-cased).
  absl::string_view Header(absl::string_view lower_case_name) const;

 private:
  const std::map<std::string, std::string>& headers_;
  absl::string_view body_;
};

// Stable path of a key result's page under --public-url.
std::string KeyResultPath(const std::string& objective_id, const std::string& key_result_id);

// "Checkout NPS: 45% (expected 50%), on track" style summary used by both trackers.
std::string DescribeProgress(const ServedKeyResult& kr);
const char* HealthLabel(Health health);

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_TRACKER_SYNC_H_
