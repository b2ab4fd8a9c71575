// Sync adapters of the GitHub connector: what the Reconciler reads from GitHub
// (GitHubTrackerSource) and how the WriteBackWorker marks an issue with the key results it
// serves (GitHubTrackerWriter: a label per key result plus one comment edited in place),
// over the typed GitHubClient.
//
//   GitHubTrackerSource source(github_client);
//   GitHubTrackerWriter writer(github_client, "OKR");
//
// Contract:
//  - Called from one thread at a time; the GitHubClient must outlive the adapters.
//  - FetchItems reads items with an external_id (the node_id) over GraphQL
//    `nodes(ids:)`, at most nodes_per_query (100) ids per request; null nodes (deleted,
//    unknown) and pull requests are absent, so the Reconciler asks ConfirmDeleted. Items
//    linked by key only are read once each by REST GET (following a 301 to the issue's
//    new repository); their results carry the node_id from then on. A transferred issue
//    comes back under its new key with the same external_id.
//  - ConfirmDeleted: GET of the issue: 410 or 404 -> true; 301 (transferred) or 200 ->
//    false; any other failure is an error.
//  - Every state leaving the connector has updated_at truncated to whole seconds (webhook
//    payloads carry whole seconds, so a delivery racing a read is not dropped as stale).
//  - Errors are the GitHubClient's; INVALID_ARGUMENT for a key that is not owner/repo#N.
#ifndef OKR_CONNECTORS_GITHUB_GITHUB_SYNC_H_
#define OKR_CONNECTORS_GITHUB_GITHUB_SYNC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/github/github_client.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::github {

// First line of the writer's comment.
inline constexpr absl::string_view kCommentMarker = "<!-- okr-service -->";
// GitHub refuses label names over 50 characters (422).
inline constexpr size_t kMaxLabelChars = 50;

// "<prefix>:<objective id>/<key result id>" ("OKR:o1/nps"). A label over kMaxLabelChars
// bytes is shortened deterministically: its first 41 bytes (cut back to a UTF-8 boundary),
// "~" and the first 8 hex digits of the SHA-256 of the full label.
std::string ServedLabel(absl::string_view prefix, const sync::ServedKeyResult& served);

// OK for 1-40 characters without ',' or control characters.
absl::Status ValidateLabelPrefix(absl::string_view prefix);

// The comment: kCommentMarker, then per key result its title (linked), DescribeProgress and
// objective (and team).
std::string ServedCommentBody(const std::vector<sync::ServedKeyResult>& served);
// kCommentMarker and "**OKR:** this issue no longer serves a key result of okr-service."
std::string NoLongerServedCommentBody();

class GitHubTrackerSource final : public sync::TrackerSource {
 public:
  explicit GitHubTrackerSource(GitHubClient& client);
  Tracker tracker() const override { return Tracker::kGitHub; }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override;
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override;
  // nullopt without a GitHub scope (project "owner/repo"); else every issue (any state, no
  // PRs) of the repository carrying all the scope's labels. INVALID_ARGUMENT for a repo
  // without labels.
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override;

 private:
  GitHubClient& client_;
};

class GitHubTrackerWriter final : public sync::TrackerWriter {
 public:
  explicit GitHubTrackerWriter(GitHubClient& client, std::string label_prefix = "OKR");
  Tracker tracker() const override { return Tracker::kGitHub; }
  // Adds ServedLabel() of every served key result, removes the labels `ref` lists that are
  // no longer served (a missing label counts as removed), then makes the one okr-service
  // comment say ServedCommentBody(served): created once, PATCHed in place afterwards,
  // created again if it is gone. With `served` empty the comment is edited to
  // NoLongerServedCommentBody() and "" is returned. Returns "v1\n<comment id>\n<labels>..."
  // as `ref`. NOT_FOUND if the issue is gone.
  absl::StatusOr<std::string> Write(const WorkItem& item,
                                    const std::vector<sync::ServedKeyResult>& served,
                                    const std::string& ref) override;

 private:
  GitHubClient& client_;
  const std::string label_prefix_;
};

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_GITHUB_SYNC_H_
