// Sync adapters of the GitLab connector: what the Reconciler reads from GitLab
// (GitLabTrackerSource) and how the WriteBackWorker marks an issue with the key results it
// serves (GitLabTrackerWriter: an unscoped label per key result plus one note edited in
// place, both removed or rewritten when the issue stops serving key results), both over
// the typed GitLabClient.
//
//   GitLabTrackerSource source(gitlab_client);
//   GitLabTrackerWriter writer(gitlab_client, "OKR");
//   sync::Reconciler reconciler(core, store, {&source});
//   sync::WriteBackWorker worker(store, clock, {&writer}, {.public_url = public_url});
//
// Contract:
//  - Called from one thread at a time (the sync interfaces' rule); the GitLabClient must
//    outlive the adapters.
//  - Timestamps: GitLab hooks carry whole seconds, REST responses milliseconds, and OkrCore
//    drops a state strictly older than the one held. Every state that leaves this
//    connector (SyncedWorkItem: here and in the webhook handler) therefore carries
//    `updated_at` truncated to the second, so a hook for a change made in the same second
//    as a reconciliation read is applied rather than dropped as stale. The price: two
//    changes within one second are ordered by arrival; the next reconciliation settles it.
//  - Requests are batched: FetchItems groups the tracked items by project (keys
//    "group/project#iid") and lists each project's issues by iid, at most
//    GitLabClientOptions::iids_per_request (100) per request, so 10,000 tracked issues take
//    100 list requests. A project that answers 404 (deleted, or no longer visible to the
//    token) while other projects list fine contributes nothing: its items look missing,
//    and the Reconciler asks for each one directly (ConfirmDeleted; one GET per issue, once).
//    If every project answers 404 (what a wrong base URL looks like) the fetch fails with
//    NOT_FOUND, as it does on any other failure, so nothing is treated as missing because
//    of an outage or a misconfiguration.
//  - ConfirmDeleted is true only when GET /projects/:id/issues/:iid answers 404; any other
//    failure is returned as an error (the item stays).
//  - Errors are the GitLabClient's (service/outbound/status_mapping codes), unchanged;
//    INVALID_ARGUMENT for a key that is not "group/project#iid".
#ifndef OKR_CONNECTORS_GITLAB_GITLAB_SYNC_H_
#define OKR_CONNECTORS_GITLAB_GITLAB_SYNC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "connectors/gitlab/gitlab_client.h"
#include "connectors/gitlab/mapper.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::gitlab {

// The first line of every note the writer posts; lets people (and tools) recognise it.
inline constexpr absl::string_view kNoteMarker = "<!-- okr-service -->";

// `time` with its fraction of a second dropped (infinite times unchanged).
absl::Time TruncateToSecond(absl::Time time);

// The sync layer's view of an issue, from a hook or from REST: ToWorkItem() (mapper.h) with
// `source_updated` and `update_time` truncated to the second (see the contract above).
okr::WorkItem SyncedWorkItem(const GitLabIssue& issue);

// The label that marks an issue as serving one key result:
// "<prefix>:<objective id>/<key result id>" ("OKR:o1/nps" for objectives/o1/keyResults/nps).
// Unique across objectives (key result ids are unique only within one), and NOT a scoped
// label (one ':' only; the prefix may not contain "::"), so GitLab Premium/Ultimate keep
// one label per served key result side by side instead of replacing one by the other.
std::string ServedLabel(absl::string_view prefix, const sync::ServedKeyResult& served);

// OK if `prefix` gives GitLab-acceptable, unscoped ServedLabel()s: 1-100 characters, no
// ',', no control characters, no "::" and not ending with ':'. INVALID_ARGUMENT says why.
absl::Status ValidateLabelPrefix(absl::string_view prefix);

// The body of the one note per issue: kNoteMarker, then per served key result its title
// (linked to served.url), DescribeProgress(), and its objective (linked) and team. Titles
// are written as link text, where GitLab neither expands references (#12, @user) nor
// notifies anyone; Markdown punctuation in them is escaped.
std::string ServedNoteBody(const std::vector<sync::ServedKeyResult>& served);

// What the note says once the issue serves no key result any more: kNoteMarker and one line.
std::string NoLongerServedNoteBody();

class GitLabTrackerSource final : public sync::TrackerSource {
 public:
  explicit GitLabTrackerSource(GitLabClient& client);

  Tracker tracker() const override { return Tracker::kGitLab; }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override;
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override;
  // nullopt if kr has no GitLab scope (project); otherwise every issue (any state) of that
  // project carrying all of the scope's labels, in its milestone if one is set.
  // INVALID_ARGUMENT if the key result names a project but no labels (the scope would be
  // the whole project; nothing is linked or unlinked).
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override;

 private:
  GitLabClient& client_;
};

class GitLabTrackerWriter final : public sync::TrackerWriter {
 public:
  // `label_prefix`: the scope of the labels written (OKR_GITLAB_LABEL_PREFIX).
  explicit GitLabTrackerWriter(GitLabClient& client, std::string label_prefix = "OKR");

  Tracker tracker() const override { return Tracker::kGitLab; }
  // In one PUT, adds ServedLabel() of every served key result to the issue and removes the
  // labels `ref` lists that are no longer served (for a `ref` of the old form, a bare note
  // id, every "<prefix>::..." scoped label the issue carries: the labels of old). Then makes
  // the issue's one okr-service note say ServedNoteBody(served): created the first time
  // and edited in place afterwards; if the note is gone (UpdateNote answers 404: someone
  // deleted it) a new one is created. With `served` empty the note is edited to say
  // NoLongerServedNoteBody() (not deleted: people reading the issue see why the labels
  // went) and nothing new is created. Returns "v2", the note id and the labels written,
  // one per line, as `ref`. NOT_FOUND if the issue is gone.
  absl::StatusOr<std::string> Write(const WorkItem& item,
                                    const std::vector<sync::ServedKeyResult>& served,
                                    const std::string& ref) override;

 private:
  GitLabClient& client_;
  const std::string label_prefix_;
};

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_GITLAB_SYNC_H_
