// The trackers the service knows, as data: one row per tracker with its stable slug
// ("jira"), its display name, the API's field name for a team's project in it, and the
// syntax of its issue keys and project names. Everything above the domain that needs a
// tracker's name or syntax reads this table, so no layer branches on which tracker it is;
// a new tracker is one enum value here and one row in trackers.cc (its connector lives in
// connectors/<slug>/).
//
//   const TrackerTraits* t = FindTracker(item.tracker);   // nullptr: not a tracker
//   absl::StrCat("no ", t->display_name, " project")       // "no Jira project"
//   TrackerFromSlug("gitlab")                              // Tracker::kGitLab
#ifndef OKR_SERVICE_OKR_TRACKERS_H_
#define OKR_SERVICE_OKR_TRACKERS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace okr {

// The values are the API's (okr.v1.Tracker) and are stored; never renumber.
enum class Tracker { kJira = 1, kGitLab = 2, kGitHub = 3 };

struct TrackerTraits {
  Tracker tracker;
  const char* slug;          // "jira": config, metrics labels, webhook paths, storage
  const char* display_name;  // "Jira": text people read
  const char* enum_name;     // "JIRA": the API's enum value
  // The API field of a team naming its project in this tracker ("jira_project_key"), used
  // in error messages and update masks.
  const char* team_project_field;
  // True if `key` is an issue key of this tracker ("OKRX-101", "group/project#7").
  bool (*is_issue_key)(absl::string_view key);
  const char* issue_key_description;  // "a Jira issue key like OKRX-101"
  // True if `project` names a project of this tracker ("OKRX", "group/project").
  bool (*is_project)(absl::string_view project);
  const char* project_description;  // "a Jira project key like OKRX (uppercase ...)"
  // The API field of a team naming the issue type rules open in this tracker
  // ("jira_issue_type"); nullptr if the tracker has no issue types.
  const char* team_issue_type_field;
  // The API fields (under a key result's `work_items.`) of a work-items key result's scope
  // in this tracker; nullptr where the tracker's scope has no such part. A scope is either
  // a query ("jira_jql") or a project with labels and an optional milestone
  // ("gitlab_project", "gitlab_labels", "gitlab_milestone"): TrackerScope's fields.
  const char* scope_query_field;
  const char* scope_project_field;
  const char* scope_labels_field;
  const char* scope_milestone_field;
};

// Trackers' clocks are not ours: a last-modified time of an item more than this ahead of
// the service's clock is taken as "now" (the sync layer logs it), so one bogus timestamp
// (`updated_at: 9999-...`) cannot make every later real change of the item look stale.
inline constexpr absl::Duration kMaxTrackerClockSkew = absl::Minutes(5);

// Every tracker, in enum order.
absl::Span<const TrackerTraits> AllTrackers();
// The row of `tracker`, or nullptr for a value outside the enum.
const TrackerTraits* FindTracker(Tracker tracker);
std::optional<Tracker> TrackerFromSlug(absl::string_view slug);
// The slug of a known tracker, "unknown" otherwise (never crashes on a bad value).
const char* TrackerSlug(Tracker tracker);
const char* TrackerDisplayName(Tracker tracker);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_TRACKERS_H_
