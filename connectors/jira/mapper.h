// Pure mapping from Jira's issue JSON to the connector's JiraIssue and to the domain's
// okr::WorkItem. Webhook bodies (`issue`), search results (`issues[]`) and GET issue
// responses share the same `{id, key, fields{...}}` shape, so both the webhook parser and
// the REST client map through here.
//
// Usage:
//   JiraFieldConfig config{.story_points_field = "customfield_10016"};
//   OKR_ASSIGN_OR_RETURN(JiraIssue issue, IssueFromJson(json["issue"], config));
//   okr::WorkItem item = ToWorkItem(issue, "https://acme.atlassian.net");
//
// Contract:
//  - No I/O, no clock, no exceptions; thread-compatible. Untrusted JSON of any shape yields
//    a value or INVALID_ARGUMENT whose message names the offending field with its JSON path
//    (e.g. "issue.fields.status.statusCategory.key").
//  - Done means `fields.status.statusCategory.key == "done"` (category names are display
//    text and `resolution` is unreliable), unless JiraFieldConfig::done_by_project names
//    the issue's project: then the issue is done when its status name (case-insensitive)
//    or its status category key is one that project's JiraDoneRule lists.
//  - Story points come from the configured custom field; a missing, null, non-numeric or
//    negative value means "no estimate" (weight 1), never an error.
#ifndef OKR_CONNECTORS_JIRA_MAPPER_H_
#define OKR_CONNECTORS_JIRA_MAPPER_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr::connectors::jira {

// Which workflow states of one project count as done. An issue is done when its status
// name equals one of `statuses` (ASCII case-insensitive; e.g. "Deployed") or its status
// category key is one of `status_categories` (e.g. "done"). An empty rule is never done.
struct JiraDoneRule {
  std::vector<std::string> statuses;
  std::vector<std::string> status_categories;
};

// Site-specific mapping settings. Jira has no fixed story-points field: find it once with
// GET /rest/api/3/field ("Story Points" / "Story point estimate").
struct JiraFieldConfig {
  std::string story_points_field;  // e.g. "customfield_10016"; empty: no story points.
  // Project key ("OPS", the part of the issue key before the last '-') -> its done rule.
  // Projects not listed: done = status category "done".
  std::map<std::string, JiraDoneRule> done_by_project = {};
};

// What the connector knows about one Jira issue.
struct JiraIssue {
  std::string id;   // Numeric id as a string ("10001"): the stable identity.
  std::string key;  // "OKRX-101"; changes when the issue moves to another project.
  std::string summary;
  std::string status_category_key;  // "new", "indeterminate", "done" or "undefined".
  std::string status_name;          // fields.status.name, e.g. "In Review"; "" if absent.
  bool done = false;                // see IsDone

  std::optional<double> story_points;
  absl::Time updated = absl::InfinitePast();  // fields.updated; InfinitePast if unknown.
};

// The status category keys Jira uses in issue payloads (fixed, never translated).
inline constexpr absl::string_view kStatusCategoryNew = "new";
inline constexpr absl::string_view kStatusCategoryIndeterminate = "indeterminate";
inline constexpr absl::string_view kStatusCategoryDone = "done";
inline constexpr absl::string_view kStatusCategoryUndefined = "undefined";

// True only for the "done" status category key (exact, case-sensitive match).
bool IsDoneStatusCategory(absl::string_view status_category_key);

// "OPS" for "OPS-12" (the part before the last '-'); "" if the key has no '-'.
std::string ProjectKeyOf(absl::string_view issue_key);

// Whether an issue in `project_key` with this status is done under `config` (see
// JiraDoneRule; projects without a rule: IsDoneStatusCategory).
bool IsDone(const JiraFieldConfig& config, absl::string_view project_key,
            absl::string_view status_name, absl::string_view status_category_key);

// Jira's date-time format, e.g. "2025-06-04T12:03:07.381+0200". Also accepts an offset with
// a colon ("+02:00"), "Z", and no or any number of fractional digits. INVALID_ARGUMENT for
// anything else (no offset, date only, surrounding text).
absl::StatusOr<absl::Time> ParseJiraTime(absl::string_view text);

// How much of `fields` IssueFromJson insists on.
enum class FieldRequirement {
  // id, key, fields.summary, fields.status.statusCategory.key and fields.updated must be
  // present and well-formed: search results, GET issue, created/updated webhooks.
  kComplete,
  // Only id and key are required; the rest is read when present and well-formed (deleted
  // webhooks, where the issue is reported "as it was").
  kIdentityOnly,
};

// Maps one issue object `{id, key, fields{...}}`. `id` may be a string of digits or a
// non-negative JSON integer. INVALID_ARGUMENT names the first missing or malformed field.
absl::StatusOr<JiraIssue> IssueFromJson(const nlohmann::json& issue, const JiraFieldConfig& config,
                                        FieldRequirement requirement = FieldRequirement::kComplete);

// The fields IssueFromJson reads: summary, status, updated and, when configured, the
// story points field. Ask for exactly these in searches and GET issue.
std::vector<std::string> MappedFieldIds(const JiraFieldConfig& config);

// `<site_base_url>/browse/<key>` (a trailing slash on the base is dropped).
std::string BrowseUrl(absl::string_view site_base_url, absl::string_view key);

// The domain view: tracker kJira, key, title = summary, url = BrowseUrl, done, weight =
// story points (or 1 without an estimate), update_time = updated.
okr::WorkItem ToWorkItem(const JiraIssue& issue, absl::string_view site_base_url);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_MAPPER_H_
