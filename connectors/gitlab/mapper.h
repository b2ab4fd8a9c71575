// Pure mapping from GitLab's issue JSON to the connector's GitLabIssue and to the domain's
// okr::WorkItem, plus the small value helpers both the webhook parser and the REST client
// need: GitLab timestamps, project paths and work item keys (`group/sub/project#7`).
//
// Two shapes reach this file:
//  - REST issue objects (GET /projects/:id/issues[/:iid]): labels are strings, the web URL
//    is `web_url`, the project only appears as `project_id`, timestamps are ISO-8601 with
//    milliseconds (`2016-01-04T15:31:39.996Z`).
//  - Issue Hook bodies: `object_attributes` holds the issue, labels are objects
//    (`{"id":..,"title":"OKR::abc",..}`), the URL is `object_attributes.url`, the project is
//    `project{id, path_with_namespace}`, and timestamps come as `2013-12-03T17:15:43Z` or
//    `2017-09-15 16:50:55 UTC`, sometimes both in one payload.
//
// Usage:
//   OKR_ASSIGN_OR_RETURN(GitLabIssue issue, IssueFromRestJson(json, "acme/checkout"));
//   okr::WorkItem item = ToWorkItem(issue);  // key "acme/checkout#7"
//
// Contract:
//  - No I/O, no clock, no exceptions; thread-compatible. JSON of any shape yields a value
//    or INVALID_ARGUMENT whose message names the offending field by its JSON path (e.g.
//    "object_attributes.iid").
//  - Required: `iid` (positive integer), `state` (string) and `updated_at` (a GitLab
//    timestamp); for hooks also `project.path_with_namespace` (a valid project path).
//    `id`, `title`, `web_url`/`url` and `project_id` are read when they have the right
//    type. `weight` and `labels` never fail: a missing, null, non-numeric, negative or
//    non-finite weight means "no weight"; label entries that are neither strings nor
//    objects with a string `title` are skipped.
//  - Done means `state == "closed"`, unless GitLabDoneMapping names the issue's project:
//    then the issue is done when its state or one of its labels is one the project's
//    GitLabDoneRule lists.
//  - Credit: an issue that is not done gets the largest share its project's `credit` map
//    gives one of its labels or its state; `status` names what gave it ("workflow::review"),
//    else the state.
//  - Cancelled work (GitLabExcludedRule, defaults also for projects without a rule): a
//    closed issue closed as a duplicate (REST `_links.closed_as_duplicate_of` or hook
//    `object_attributes.duplicated_to_id` non-null) has exclusion "duplicate" and counts
//    as closed (done); an issue carrying an excluded label (case-insensitive, in any state)
//    has that label, as the issue spells it, as exclusion.
#ifndef OKR_CONNECTORS_GITLAB_MAPPER_H_
#define OKR_CONNECTORS_GITLAB_MAPPER_H_

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

namespace okr::connectors::gitlab {

inline constexpr absl::string_view kStateOpened = "opened";
inline constexpr absl::string_view kStateClosed = "closed";

// Longest work item key accepted (the domain's kMaxWorkItemKeyBytes).
inline constexpr size_t kMaxWorkItemKeyBytes = 512;

// What the connector knows about one GitLab issue.
struct GitLabIssue {
  std::string project_path;  // "group/sub/project" (path_with_namespace).
  int64_t project_id = 0;    // 0 if unknown.
  int64_t iid = 0;           // Per project; what REST paths and keys use.
  int64_t id = 0;            // Instance-wide id; 0 if unknown.
  std::string title;
  std::string state;  // "opened" or "closed" (other values are kept, and are not done).
  bool done = false;  // see IsDone
  // Closed as a duplicate of another issue (see the contract above).
  bool closed_as_duplicate = false;
  std::string status;         // the state, or the label that gave the credit
  double partial_credit = 0;  // share credited while not done (the project's credit)
  std::string exclusion;      // "duplicate", or the excluding label; "" if it counts
  std::optional<double> weight;
  std::vector<std::string> labels;  // Label titles, in payload order.
  std::string url;                  // Web URL of the issue.
  absl::Time updated_at = absl::InfinitePast();
};

// Which issues of one project are cancelled work that leaves the key results.
struct GitLabExcludedRule {
  bool duplicates = true;  // issues closed as a duplicate
  // Label titles (ASCII case-insensitive).
  std::vector<std::string> labels = {"wontfix", "duplicate"};
};

// Which issues of one project count as done: its state is one of `states` (e.g. "closed")
// or it carries one of `labels` (exact label titles, e.g. "workflow::deployed"). A rule
// with neither keeps the default (state "closed").
struct GitLabDoneRule {
  std::vector<std::string> states;
  std::vector<std::string> labels;
  // Label title (exact) or state -> share of the weight credited while the issue is not
  // done, in [0, 1] (e.g. {"workflow::review", 0.5}).
  std::map<std::string, double> credit;
  // nullopt: the defaults of GitLabExcludedRule.
  std::optional<GitLabExcludedRule> excluded;
};

// Project path ("group/sub/project") -> its done rule. Projects not listed: done = state
// "closed".
struct GitLabDoneMapping {
  std::map<std::string, GitLabDoneRule> by_project;
};

// Whether `issue` (project_path, state and labels read) is done under `mapping`.
bool IsDone(const GitLabIssue& issue, const GitLabDoneMapping& mapping);

// Sets done, status, partial_credit and exclusion of `issue` (project_path, state, labels
// and closed_as_duplicate read) under `mapping`; see the contract above.
void ApplyDoneRules(GitLabIssue& issue, const GitLabDoneMapping& mapping);

// A GitLab timestamp in any of the forms GitLab emits:
//   "2013-12-03T17:15:43Z", "2016-01-04T15:31:39.996Z", "2013-12-03T17:15:43+02:00",
//   "2013-12-03T17:15:43+0200"                    (ISO-8601 / RFC 3339, any fraction)
//   "2017-09-15 16:50:55 UTC", "2017-09-15 16:50:55 +0200"   (Ruby Time#to_s)
// INVALID_ARGUMENT for anything else (no zone, date only, surrounding whitespace or text).
absl::StatusOr<absl::Time> ParseGitLabTime(absl::string_view text);

// ISO-8601 in UTC with milliseconds ("2016-01-04T15:31:39.996Z"), as REST responses use and
// query parameters such as `updated_after` accept.
std::string FormatGitLabTime(absl::Time time);

// OK if `path` is a project path_with_namespace: at least two '/'-separated segments (a
// project always lives in a namespace), each non-empty, not "." or "..", made of ASCII
// letters, digits, '_', '-' and '.'. INVALID_ARGUMENT otherwise; `field` names the input
// in the message.
absl::Status ValidateProjectPath(absl::string_view path, absl::string_view field = "project_path");

// "group/sub/project#7". Inputs are not validated; ParseWorkItemKey inverts it for every
// valid path and positive iid.
std::string WorkItemKey(absl::string_view project_path, int64_t iid);

// {"group/sub/project", 7} from "group/sub/project#7". INVALID_ARGUMENT for a missing '#',
// an invalid path (see ValidateProjectPath), an iid that is not a positive decimal integer
// without sign or leading zeros (so keys stay canonical), or a key over
// kMaxWorkItemKeyBytes.
absl::StatusOr<std::pair<std::string, int64_t>> ParseWorkItemKey(absl::string_view key);

// Maps one REST issue object. `project_path` is the project the caller asked for (REST
// issues carry only the numeric project_id). `field_prefix` prefixes field names in error
// messages (e.g. "issues[3]"). `done` decides GitLabIssue::done.
absl::StatusOr<GitLabIssue> IssueFromRestJson(const nlohmann::json& issue,
                                              absl::string_view project_path,
                                              absl::string_view field_prefix = "issue",
                                              const GitLabDoneMapping& done = {});

// Maps the issue of an Issue Hook body (the whole body: `object_attributes`, `project`,
// and the top-level `labels`, used when object_attributes.labels is absent).
absl::StatusOr<GitLabIssue> IssueFromHookJson(const nlohmann::json& body,
                                              const GitLabDoneMapping& done = {});

// The domain view: tracker kGitLab, key WorkItemKey(project_path, iid), title, url, done,
// status, partial_credit, exclusion, weight (1 without a weight; an explicit 0 stays 0),
// external_id = the global issue id (empty if unknown; it survives moves, the key does not),
// source_updated and update_time = updated_at. Hook timestamps have whole seconds while REST ones
// have milliseconds.
okr::WorkItem ToWorkItem(const GitLabIssue& issue);

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_MAPPER_H_
