#include "connectors/jira/jira_sync.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::jira {
namespace {

// Jira stores remote link titles and summaries in 255-character columns [uncertain: not in
// the REST docs; the Data Center schema has varchar(255)]. Longer text is cut, not refused.
constexpr size_t kMaxRemoteLinkTextBytes = 255;
constexpr size_t kMaxIssueIdDigits = 19;

bool IsNumericId(absl::string_view id) {
  return !id.empty() && id.size() <= kMaxIssueIdDigits &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// PROJECT-123 (the only shape that may go into JQL unquoted).
bool IsIssueKey(absl::string_view key) {
  const size_t dash = key.rfind('-');
  if (dash == absl::string_view::npos || dash == 0 || key.size() > 300) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key.substr(0, dash)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return IsNumericId(key.substr(dash + 1));
}

// `text` cut to at most `max_bytes` on a UTF-8 character boundary, "…" marking the cut.
std::string Truncate(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  constexpr absl::string_view kEllipsis = "\xE2\x80\xA6";
  size_t end = max_bytes - kEllipsis.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  absl::StrAppend(&text, kEllipsis);
  return text;
}

// The id to address an issue by: the stable numeric id when known, else the key.
std::string IssueRef(const WorkItem& item) {
  return IsNumericId(item.external_id) ? item.external_id : item.key;
}

}  // namespace

okr::WorkItem SyncedWorkItem(const JiraIssue& issue, absl::string_view site_base_url) {
  okr::WorkItem item = ToWorkItem(issue, site_base_url);
  item.external_id = issue.id;
  item.source_updated = issue.updated;
  return item;
}

std::string RemoteLinkGlobalId(const sync::ServedKeyResult& served) {
  return absl::StrCat("okr-service:", served.key_result);
}

RemoteLink ServedRemoteLink(const sync::ServedKeyResult& served) {
  RemoteLink link;
  link.global_id = RemoteLinkGlobalId(served);
  link.application_type = "okr-service";
  link.application_name = "OKR service";
  link.relationship = "serves key result";
  link.url = served.url;
  link.title = Truncate(absl::StrCat("serves key result: ", served.key_result_title),
                        kMaxRemoteLinkTextBytes);
  const std::string team =
      served.team_name.empty() ? "" : absl::StrCat(" (", served.team_name, ")");
  link.summary = Truncate(
      absl::StrCat(served.objective_title, team, " \xE2\x80\x94 ", sync::DescribeProgress(served)),
      kMaxRemoteLinkTextBytes);
  link.resolved = served.achieved;
  return link;
}

// ---- JiraTrackerSource ----

JiraTrackerSource::JiraTrackerSource(JiraClient& client, std::string site_base_url)
    : client_(client), site_base_url_(std::move(site_base_url)) {}

absl::Status JiraTrackerSource::FetchChunk(const std::vector<std::string>& ids_or_keys, bool by_id,
                                           std::vector<JiraIssue>& out) {
  absl::Status searched;
  std::vector<JiraIssue> found;
  if (by_id) {
    absl::StatusOr<std::vector<JiraIssue>> issues = client_.SearchIssuesByIds(ids_or_keys);
    if (issues.ok()) found = *std::move(issues);
    searched = issues.status();
  } else {
    const std::string jql = absl::StrCat("key in (", absl::StrJoin(ids_or_keys, ","), ")");
    searched = client_.SearchByJql(jql, [&](std::vector<JiraIssue> page) {
      for (JiraIssue& issue : page) found.push_back(std::move(issue));
      return absl::OkStatus();
    });
  }
  if (searched.ok()) {
    for (JiraIssue& issue : found) out.push_back(std::move(issue));
    return absl::OkStatus();
  }
  // Jira answers 400 to JQL naming an issue that no longer exists [uncertain for ids on
  // Cloud]: read that chunk one issue at a time instead, so one deleted issue cannot stall
  // the reconciliation of its 99 neighbours.
  if (!absl::IsInvalidArgument(searched)) return searched;
  for (const std::string& id_or_key : ids_or_keys) {
    absl::StatusOr<JiraIssue> issue = client_.GetIssue(id_or_key);
    if (absl::IsNotFound(issue.status())) continue;  // absent: ConfirmDeleted decides
    if (!issue.ok()) return issue.status();
    out.push_back(*std::move(issue));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WorkItem>> JiraTrackerSource::FetchItems(
    const std::vector<WorkItem>& tracked) {
  std::vector<std::string> ids;
  std::vector<std::string> keys;
  for (const WorkItem& item : tracked) {
    if (item.tracker != Tracker::kJira) continue;
    if (IsNumericId(item.external_id)) {
      ids.push_back(item.external_id);
    } else if (IsIssueKey(item.key)) {
      keys.push_back(item.key);
    }
    // Anything else cannot be asked for; it stays as it is.
  }
  const size_t chunk = static_cast<size_t>(std::max(1, client_.options().ids_per_search));
  std::vector<JiraIssue> issues;
  for (const auto& [list, by_id] : {std::pair{&ids, true}, std::pair{&keys, false}}) {
    for (size_t begin = 0; begin < list->size(); begin += chunk) {
      const size_t end = std::min(list->size(), begin + chunk);
      std::vector<std::string> part(list->begin() + static_cast<std::ptrdiff_t>(begin),
                                    list->begin() + static_cast<std::ptrdiff_t>(end));
      OKR_RETURN_IF_ERROR(FetchChunk(part, by_id, issues));
    }
  }
  std::vector<WorkItem> items;
  items.reserve(issues.size());
  absl::flat_hash_set<std::string> seen;
  for (const JiraIssue& issue : issues) {
    if (!seen.insert(issue.id).second) continue;  // found by id and by key
    items.push_back(SyncedWorkItem(issue, site_base_url_));
  }
  return items;
}

absl::StatusOr<bool> JiraTrackerSource::ConfirmDeleted(const WorkItem& item) {
  absl::StatusOr<JiraIssue> issue = client_.GetIssue(IssueRef(item));
  if (absl::IsNotFound(issue.status())) return true;
  if (!issue.ok()) return issue.status();
  return false;
}

absl::StatusOr<std::optional<std::vector<WorkItem>>> JiraTrackerSource::ScopeMatches(
    const KeyResult& kr) {
  const TrackerScope* scope = ScopeIn(kr, Tracker::kJira);
  if (scope == nullptr || scope->query.empty()) return std::optional<std::vector<WorkItem>>();
  std::vector<WorkItem> matches;
  absl::flat_hash_set<std::string> seen;
  OKR_RETURN_IF_ERROR(client_.SearchByJql(scope->query, [&](std::vector<JiraIssue> page) {
    for (const JiraIssue& issue : page) {
      if (seen.insert(issue.id).second) matches.push_back(SyncedWorkItem(issue, site_base_url_));
    }
    return absl::OkStatus();
  }));
  return std::optional<std::vector<WorkItem>>(std::move(matches));
}

// ---- JiraTrackerWriter ----

JiraTrackerWriter::JiraTrackerWriter(JiraClient& client) : client_(client) {}

absl::StatusOr<std::string> JiraTrackerWriter::Write(
    const WorkItem& item, const std::vector<sync::ServedKeyResult>& served,
    const std::string& ref) {
  const std::string issue = IssueRef(item);
  std::vector<std::string> written;
  for (const sync::ServedKeyResult& s : served) {
    RemoteLink link = ServedRemoteLink(s);
    OKR_RETURN_IF_ERROR(client_.UpsertRemoteLink(issue, link).status());
    if (std::find(written.begin(), written.end(), link.global_id) == written.end()) {
      written.push_back(std::move(link.global_id));
    }
  }
  // The links of key results this issue no longer serves.
  for (absl::string_view before : absl::StrSplit(ref, '\n', absl::SkipEmpty())) {
    if (std::find(written.begin(), written.end(), before) != written.end()) continue;
    const absl::Status deleted = client_.DeleteRemoteLink(issue, before);
    if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;  // 404: already gone
  }
  return absl::StrJoin(written, "\n");
}

}  // namespace okr::connectors::jira
