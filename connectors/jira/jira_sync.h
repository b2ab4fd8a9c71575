// Sync adapters of the Jira connector: what the Reconciler reads from Jira
// (JiraTrackerSource) and how the WriteBackWorker marks an issue with the key results it
// serves (JiraTrackerWriter), both over the typed JiraClient.
//
//   JiraTrackerSource source(jira_client, "https://acme.atlassian.net");
//   JiraTrackerWriter writer(jira_client);
//   sync::Reconciler reconciler(core, store, {&source});
//   sync::WriteBackWorker worker(store, clock, {&writer}, {.public_url = public_url});
//
// Contract:
//  - Called from one thread at a time (the sync interfaces' rule); the JiraClient must
//    outlive the adapters. Story points are read through the client's JiraFieldConfig.
//  - Requests are batched: FetchItems searches `id in (...)` / `key in (...)` with at most
//    JiraClientOptions::ids_per_search (100) items per search, so 10,000 tracked issues
//    take 100 searches. Only when Jira rejects a chunk's JQL (400, e.g. a key that no
//    longer exists) does that chunk fall back to one GET per issue.
//  - ConfirmDeleted is true only when a direct GET answers 404; any other failure is
//    returned as an error (the item stays).
//  - Errors are the JiraClient's (service/outbound/status_mapping codes), unchanged.
#ifndef OKR_CONNECTORS_JIRA_JIRA_SYNC_H_
#define OKR_CONNECTORS_JIRA_JIRA_SYNC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/jira/jira_client.h"
#include "connectors/jira/mapper.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::jira {

// The sync layer's view of an issue: ToWorkItem() plus the stable identity
// (external_id = issue id) and the staleness clock (source_updated = fields.updated).
okr::WorkItem SyncedWorkItem(const JiraIssue& issue, absl::string_view site_base_url);

// Jira's `globalId` of the remote link that shows one served key result on an issue:
// "okr-service:objectives/{o}/keyResults/{k}" (stable per key result, one link per issue).
std::string RemoteLinkGlobalId(const sync::ServedKeyResult& served);

// The full remote link written for one served key result (Jira nulls omitted fields, so
// every write sends all of it): title "serves key result: <kr title>", summary
// "<objective title> (<team>) — <DescribeProgress>", status.resolved = achieved.
RemoteLink ServedRemoteLink(const sync::ServedKeyResult& served);

class JiraTrackerSource final : public sync::TrackerSource {
 public:
  // `site_base_url` is the Jira site for browse links (with OAuth the client's API base
  // differs from it).
  JiraTrackerSource(JiraClient& client, std::string site_base_url);

  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override;
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override;
  // nullopt if kr has no Jira scope (query); otherwise every issue the JQL matches.
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override;

 private:
  // One chunk of ids or keys: one search, or one GET per entry if Jira rejects the JQL.
  absl::Status FetchChunk(const std::vector<std::string>& ids_or_keys, bool by_id,
                          std::vector<JiraIssue>& out);

  JiraClient& client_;
  const std::string site_base_url_;
};

class JiraTrackerWriter final : public sync::TrackerWriter {
 public:
  explicit JiraTrackerWriter(JiraClient& client);

  Tracker tracker() const override { return Tracker::kJira; }
  // Upserts one remote link per served key result on the issue (by external id when known,
  // else by key), then deletes (by globalId) the links of key results `ref` lists that are
  // no longer served; a link already gone (404) counts as deleted. Returns the globalIds
  // written, one per line ("" when nothing is served). NOT_FOUND if the issue is gone.
  // A ref of the old form ("", before links were remembered) lists nothing to delete.
  absl::StatusOr<std::string> Write(const WorkItem& item,
                                    const std::vector<sync::ServedKeyResult>& served,
                                    const std::string& ref) override;

 private:
  JiraClient& client_;
};

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_JIRA_SYNC_H_
