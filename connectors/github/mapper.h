// Pure mapping from GitHub's issue JSON to the connector's GitHubIssue and to the domain's
// okr::WorkItem, plus the value helpers the webhook parser, client and adapters share:
// GitHub timestamps, repository names ("owner/repo") and work item keys ("owner/repo#123").
//
// Two shapes reach this file:
//  - REST issue objects (GET /repos/{o}/{r}/issues[/{n}], webhook `issue`): `number`,
//    `node_id`, `state` "open"|"closed", `state_reason` (nullable), `labels[].name`,
//    `updated_at`, `html_url`, `repository_url` (".../repos/owner/repo"), `pull_request` on PRs.
//  - GraphQL nodes (integrations.md 3.5): `__typename`, `id`, `number`, `state`
//    OPEN|CLOSED, `stateReason` COMPLETED|NOT_PLANNED|DUPLICATE|REOPENED, `updatedAt`, `url`,
//    `labels.nodes[].name`, `repository.nameWithOwner`.
//
//   OKR_ASSIGN_OR_RETURN(GitHubIssue issue, IssueFromRestJson(json, "", "issue", mapping));
//   okr::WorkItem item = ToWorkItem(issue);  // key "acme/app#7", external_id = node_id
//
// Contract: no I/O, no clock, no exceptions. JSON of any shape yields a value or
// INVALID_ARGUMENT naming the JSON field ("issue.number", "nodes[3].updatedAt").
//  - Done: state closed and state_reason "completed" or null (a not_planned or duplicate
//    reason the rule does not exclude also counts as closed; "reopened" never does).
//  - Excluded (cancelled): closed with a state_reason in GitHubExcludedRule::state_reasons
//    (default not_planned, duplicate): exclusion = the reason, done = true (the domain
//    drops excluded items from the key result); or a label in GitHubExcludedRule::labels
//    (default wontfix, duplicate; ASCII case-insensitive, any state): exclusion = the label.
//  - Partial credit: an issue not done gets the largest share its repository's `credit`
//    gives one of its labels; `status` names that label, else the state.
//  - Weight: the first label "<weight_label_prefix><N>" with N a finite number >= 0
//    ("weight:3"); 1 without one.
#ifndef OKR_CONNECTORS_GITHUB_MAPPER_H_
#define OKR_CONNECTORS_GITHUB_MAPPER_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr::connectors::github {

inline constexpr absl::string_view kStateOpen = "open";
inline constexpr absl::string_view kStateClosed = "closed";
inline constexpr size_t kMaxWorkItemKeyBytes = 512;

// What the connector knows about one GitHub issue.
struct GitHubIssue {
  std::string repo;  // "owner/repo"
  int64_t number = 0;
  std::string node_id;  // GraphQL global id (opaque)
  std::string title;
  std::string state;         // "open" | "closed" (lower case in both shapes)
  std::string state_reason;  // lower case; "" for null
  std::vector<std::string> labels;
  std::string url;  // html_url / url
  absl::Time updated_at = absl::InfinitePast();
  bool pull_request = false;
  // Set by ApplyDoneRules.
  bool done = false;
  std::string status;
  double partial_credit = 0;
  std::string exclusion;
  std::optional<double> weight;
};

struct GitHubExcludedRule {
  std::vector<std::string> state_reasons = {"not_planned", "duplicate"};
  std::vector<std::string> labels = {"wontfix", "duplicate"};
};

struct GitHubDoneRule {
  std::map<std::string, double> credit;        // label -> share in [0, 1] while not done
  std::optional<GitHubExcludedRule> excluded;  // nullopt: the defaults
};

struct GitHubDoneMapping {
  std::map<std::string, GitHubDoneRule> by_repo;  // "owner/repo" -> rule
  std::string weight_label_prefix = "weight:";
};

// Sets done, status, partial_credit, exclusion and weight (see the contract above).
void ApplyDoneRules(GitHubIssue& issue, const GitHubDoneMapping& mapping);

// RFC 3339 as GitHub sends it ("2011-04-22T13:33:48Z", offsets and fractions accepted).
absl::StatusOr<absl::Time> ParseGitHubTime(absl::string_view text);

// OK for "owner/repo": two non-empty segments of letters, digits, '-', '_', '.'; not "."
// or "..". INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateRepoName(absl::string_view repo, absl::string_view field = "repo");

// "owner/repo#123".
std::string WorkItemKey(absl::string_view repo, int64_t number);
// {"owner/repo", 123}; INVALID_ARGUMENT for anything else (leading zeros included).
absl::StatusOr<std::pair<std::string, int64_t>> ParseWorkItemKey(absl::string_view key);

// A REST issue object. `repo` is the repository asked for; empty: read from
// `repository_url` (or `html_url`). `field` prefixes field names in errors.
absl::StatusOr<GitHubIssue> IssueFromRestJson(const nlohmann::json& issue,
                                              absl::string_view repo = "",
                                              absl::string_view field = "issue",
                                              const GitHubDoneMapping& mapping = {});

// A GraphQL `Issue` node (the 3.5 query's fields). Nodes of other types yield
// INVALID_ARGUMENT; check `__typename` first.
absl::StatusOr<GitHubIssue> IssueFromGraphQLNode(const nlohmann::json& node,
                                                 absl::string_view field = "node",
                                                 const GitHubDoneMapping& mapping = {});

// Tracker kGitHub, key, external_id = node_id, title, url, done, status, partial_credit,
// exclusion, weight (1 without a weight label), source_updated = update_time = updated_at
// truncated to whole seconds.
okr::WorkItem ToWorkItem(const GitHubIssue& issue);

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_MAPPER_H_
