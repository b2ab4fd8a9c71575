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
//  - Credit: an issue that is not done gets the share its project's `credit` map gives its
//    status name (case-insensitive); 0 without an entry.
//  - Cancelled work: an issue that is done (or in status category "done") whose
//    `fields.resolution.name` is one of its project's excluded resolutions
//    (case-insensitive; default kDefaultExcludedResolutions, also for projects without a
//    rule) is excluded: `exclusion` is the resolution name as Jira spells it. A null
//    resolution tells nothing. Excluded issues count as closed (done) but leave the ratio.
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
// A rule that lists neither statuses nor categories keeps the default (category "done").
struct JiraDoneRule {
  std::vector<std::string> statuses;
  std::vector<std::string> status_categories;
  // Status name (ASCII case-insensitive) -> share of the weight credited while the issue is
  // not done, in [0, 1] (e.g. {"In Review", 0.5}). Statuses not listed: 0.
  std::map<std::string, double> credit;
  // Resolution names (ASCII case-insensitive) that mark cancelled work; nullopt: the
  // defaults (kDefaultExcludedResolutions); empty: nothing is excluded.
  std::optional<std::vector<std::string>> excluded_resolutions;
};

// Resolutions that mark cancelled work when a project sets no `excluded` rule.
inline constexpr absl::string_view kDefaultExcludedResolutions[] = {"Won't Do", "Duplicate",
                                                                    "Cannot Reproduce"};

// Longest status or resolution name kept; longer ones are treated as absent.
inline constexpr size_t kMaxJiraNameBytes = 255;

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
  std::string resolution_name;      // fields.resolution.name, e.g. "Won't Do"; "" if null.
  bool done = false;                // see IsDone
  double partial_credit = 0;        // share credited while not done (the project's credit)
  std::string exclusion;            // the excluding resolution's name; "" if it counts

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

// The credit share `config` gives a not-done issue of `project_key` in `status_name`.
double CreditShare(const JiraFieldConfig& config, absl::string_view project_key,
                   absl::string_view status_name);

// The resolution as it excludes the issue ("Won't Do"), or "" when it counts: see the
// contract above. `resolution_name` "" (null resolution) never excludes.
std::string ExclusionOf(const JiraFieldConfig& config, absl::string_view project_key,
                        absl::string_view resolution_name);

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

// The fields IssueFromJson reads: summary, status, resolution, updated and, when configured, the
// story points field. Ask for exactly these in searches and GET issue.
std::vector<std::string> MappedFieldIds(const JiraFieldConfig& config);

// `<site_base_url>/browse/<key>` (a trailing slash on the base is dropped).
std::string BrowseUrl(absl::string_view site_base_url, absl::string_view key);

// The domain view: tracker kJira, key, title = summary, url = BrowseUrl, done, weight =
// story points (or 1 without an estimate), update_time = updated, status = status name,
// partial_credit, exclusion.
okr::WorkItem ToWorkItem(const JiraIssue& issue, absl::string_view site_base_url);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_MAPPER_H_
