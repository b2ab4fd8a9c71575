#include "connectors/gitlab/gitlab_sync.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "service/log/log.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"
#include "service/sync/served_markdown.h"

namespace okr::connectors::gitlab {
namespace {

// What the writer remembers of an issue (its `ref`): "v2\n<note id>\n<label>\n...".
// Labels never contain control characters (GitLabClient refuses them). The old form was
// the bare note id, written when labels were "<prefix>::<key result id>".
constexpr absl::string_view kRefVersion = "v2";
struct WrittenMarks {
  int64_t note_id = 0;
  std::vector<std::string> labels;
  bool legacy = false;  // a ref of the old form: its labels are not listed
};

WrittenMarks ParseRef(absl::string_view ref) {
  WrittenMarks marks;
  std::vector<std::string> lines = absl::StrSplit(ref, '\n');
  if (lines.size() >= 2 && lines[0] == kRefVersion) {
    if (!absl::SimpleAtoi(lines[1], &marks.note_id) || marks.note_id < 0) marks.note_id = 0;
    for (size_t i = 2; i < lines.size(); ++i) {
      if (!lines[i].empty()) marks.labels.push_back(std::move(lines[i]));
    }
    return marks;
  }
  marks.legacy = !ref.empty();
  if (!absl::SimpleAtoi(ref, &marks.note_id) || marks.note_id < 0) marks.note_id = 0;
  return marks;
}

std::string EncodeRef(int64_t note_id, const std::vector<std::string>& labels) {
  std::string ref = absl::StrCat(kRefVersion, "\n", note_id);
  for (const std::string& label : labels) absl::StrAppend(&ref, "\n", label);
  return ref;
}

bool Contains(const std::vector<std::string>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// GitLab expands no references inside code spans: text without a URL becomes one.
constexpr sync::MarkdownDialect kMarkdown{/*escape_at=*/false, /*code_span_without_url=*/true};

}  // namespace

absl::Time TruncateToSecond(absl::Time time) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return time;
  return absl::FromUnixSeconds(absl::ToUnixSeconds(time));  // rounds towards the past
}

okr::WorkItem SyncedWorkItem(const GitLabIssue& issue) {
  okr::WorkItem item = ToWorkItem(issue);
  item.source_updated = TruncateToSecond(item.source_updated);
  item.update_time = TruncateToSecond(item.update_time);
  return item;
}

std::string ServedLabel(absl::string_view prefix, const sync::ServedKeyResult& served) {
  const std::string objective = sync::ServedObjectiveId(served);
  if (objective.empty()) return absl::StrCat(prefix, ":", sync::ServedKeyResultId(served));
  return absl::StrCat(prefix, ":", objective, "/", sync::ServedKeyResultId(served));
}

absl::Status ValidateLabelPrefix(absl::string_view prefix) {
  constexpr size_t kMaxPrefixChars = 100;  // ids take <= 127 more; GitLab allows 255
  if (prefix.empty() || prefix.size() > kMaxPrefixChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("label_prefix must have 1 to ", kMaxPrefixChars, " characters"));
  }
  for (char c : prefix) {
    if (c == ',' || absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("label_prefix \"", prefix,
                       "\" may not contain ',' or control characters (GitLab label names)"));
    }
  }
  if (absl::StrContains(prefix, "::") || absl::EndsWith(prefix, ":")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label_prefix \"", prefix,
        "\" may not contain \"::\" or end with ':': the labels would be GitLab scoped labels, "
        "of which an issue keeps only one per scope, so an issue serving two key results would "
        "lose one"));
  }
  return absl::OkStatus();
}

std::string ServedNoteBody(const std::vector<sync::ServedKeyResult>& served) {
  return sync::ServedKeyResultsMarkdown(kNoteMarker, served, kMarkdown);
}

std::string NoLongerServedNoteBody() { return sync::NoLongerServesMarkdown(kNoteMarker); }

// ---- GitLabTrackerSource ----

GitLabTrackerSource::GitLabTrackerSource(GitLabClient& client) : client_(client) {}

absl::StatusOr<std::vector<WorkItem>> GitLabTrackerSource::FetchItems(
    const std::vector<WorkItem>& tracked) {
  // Project path -> iids, in a stable order (requests are reproducible).
  std::map<std::string, std::vector<int64_t>> iids_by_project;
  absl::flat_hash_set<std::string> keys;
  for (const WorkItem& item : tracked) {
    if (item.tracker != Tracker::kGitLab || !keys.insert(item.key).second) continue;
    absl::StatusOr<std::pair<std::string, int64_t>> key = ParseWorkItemKey(item.key);
    if (!key.ok()) continue;  // cannot be asked for; ConfirmDeleted reports it
    iids_by_project[key->first].push_back(key->second);
  }
  const size_t chunk = static_cast<size_t>(std::max(1, client_.options().iids_per_request));
  std::vector<WorkItem> items;
  std::vector<std::string> missing_projects;
  for (const auto& [project, iids] : iids_by_project) {
    for (size_t begin = 0; begin < iids.size(); begin += chunk) {
      const absl::Span<const int64_t> part =
          absl::MakeConstSpan(iids).subspan(begin, std::min(chunk, iids.size() - begin));
      absl::StatusOr<std::vector<GitLabIssue>> issues = client_.ListIssuesByIids(project, part);
      if (absl::IsNotFound(issues.status())) {
        missing_projects.push_back(project);
        break;
      }
      // Any other failure stops the fetch, so an outage deletes nothing.
      if (!issues.ok()) return issues.status();
      for (const GitLabIssue& issue : *issues) items.push_back(SyncedWorkItem(issue));
    }
  }
  if (missing_projects.empty()) return items;
  // A 404 for every project is what a wrong base URL looks like: delete nothing.
  if (missing_projects.size() == iids_by_project.size()) {
    return absl::NotFoundError(absl::StrCat(
        "GitLab answers 404 for every tracked project (", absl::StrJoin(missing_projects, ", "),
        "): check the GitLab URL and the token's access; nothing is treated as deleted"));
  }
  // Other projects list fine, so these are gone or hidden from the token: their items look
  // missing, and ConfirmDeleted decides one by one.
  for (const std::string& project : missing_projects) {
    log::Warn("GitLab project not found; its tracked issues are checked one by one",
              {{"project", project}});
  }
  return items;
}

absl::StatusOr<bool> GitLabTrackerSource::ConfirmDeleted(const WorkItem& item) {
  OKR_ASSIGN_OR_RETURN(auto key, ParseWorkItemKey(item.key));
  absl::StatusOr<GitLabIssue> issue = client_.GetIssue(key.first, key.second);
  if (absl::IsNotFound(issue.status())) return true;
  if (!issue.ok()) return issue.status();
  return false;
}

absl::StatusOr<std::optional<std::vector<WorkItem>>> GitLabTrackerSource::ScopeMatches(
    const KeyResult& kr) {
  const TrackerScope* scope = ScopeIn(kr, Tracker::kGitLab);
  if (scope == nullptr || scope->project.empty()) return std::optional<std::vector<WorkItem>>();
  if (scope->labels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key result ", names::KeyResult(kr.objective_id, kr.id),
                     ": a GitLab scope needs at least one label (gitlab_labels)"));
  }
  std::optional<std::string> milestone;
  if (!scope->milestone.empty()) milestone = scope->milestone;
  OKR_ASSIGN_OR_RETURN(std::vector<GitLabIssue> issues,
                       client_.ListIssuesByLabels(scope->project, scope->labels, milestone));
  std::vector<WorkItem> matches;
  matches.reserve(issues.size());
  for (const GitLabIssue& issue : issues) matches.push_back(SyncedWorkItem(issue));
  return std::optional<std::vector<WorkItem>>(std::move(matches));
}

// ---- GitLabTrackerWriter ----

GitLabTrackerWriter::GitLabTrackerWriter(GitLabClient& client, std::string label_prefix)
    : client_(client), label_prefix_(std::move(label_prefix)) {}

absl::StatusOr<std::string> GitLabTrackerWriter::Write(
    const WorkItem& item, const std::vector<sync::ServedKeyResult>& served,
    const std::string& ref) {
  OKR_ASSIGN_OR_RETURN(auto key, ParseWorkItemKey(item.key));
  const auto& [project, iid] = key;
  const WrittenMarks before = ParseRef(ref);

  std::vector<std::string> labels;
  for (const sync::ServedKeyResult& s : served) {
    std::string label = ServedLabel(label_prefix_, s);
    if (!Contains(labels, label)) labels.push_back(std::move(label));
  }
  std::vector<std::string> remove;
  for (const std::string& label : before.labels) {
    if (!Contains(labels, label) && !Contains(remove, label)) remove.push_back(label);
  }
  if (before.legacy) {
    // Written by a version that used "<prefix>::<key result id>": those are all ours.
    OKR_ASSIGN_OR_RETURN(GitLabIssue issue, client_.GetIssue(project, iid));
    const std::string scoped = absl::StrCat(label_prefix_, "::");
    for (const std::string& label : issue.labels) {
      if (absl::StartsWith(label, scoped) && !Contains(remove, label)) remove.push_back(label);
    }
  }
  if (!labels.empty() || !remove.empty()) {
    OKR_RETURN_IF_ERROR(client_.UpdateLabels(project, iid, labels, remove).status());
  }

  int64_t note_id = before.note_id;
  if (served.empty()) {
    if (note_id > 0) {
      const absl::Status updated =
          client_.UpdateNote(project, iid, note_id, NoLongerServedNoteBody());
      // 404: the note (or the issue) is gone, which is as good.
      if (!updated.ok() && !absl::IsNotFound(updated)) return updated;
    }
    return std::string();
  }
  const std::string body = ServedNoteBody(served);
  bool edited = false;
  if (note_id > 0) {
    const absl::Status updated = client_.UpdateNote(project, iid, note_id, body);
    // 404: the note was deleted (create it again) or the issue was (CreateNote says so).
    if (!updated.ok() && !absl::IsNotFound(updated)) return updated;
    edited = updated.ok();
  }
  if (!edited) {
    OKR_ASSIGN_OR_RETURN(note_id, client_.CreateNote(project, iid, body));
  }
  return EncodeRef(note_id, labels);
}

}  // namespace okr::connectors::gitlab
