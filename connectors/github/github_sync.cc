#include "connectors/github/github_sync.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"
#include "service/outbound/signature.h"
#include "service/sync/served_markdown.h"

namespace okr::connectors::github {
namespace {

constexpr absl::string_view kRefVersion = "v1";
struct WrittenMarks {
  int64_t comment_id = 0;
  std::vector<std::string> labels;
};

WrittenMarks ParseRef(absl::string_view ref) {
  WrittenMarks marks;
  std::vector<std::string> lines = absl::StrSplit(ref, '\n');
  if (lines.size() >= 2 && lines[0] == kRefVersion) {
    if (!absl::SimpleAtoi(lines[1], &marks.comment_id) || marks.comment_id < 0) {
      marks.comment_id = 0;
    }
    for (size_t i = 2; i < lines.size(); ++i) {
      if (!lines[i].empty()) marks.labels.push_back(std::move(lines[i]));
    }
  }
  return marks;
}

bool Contains(const std::vector<std::string>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// GitHub autolinks @user (and #12, escaped for every dialect); plain text without a URL.
constexpr sync::MarkdownDialect kMarkdown{/*escape_at=*/true, /*code_span_without_url=*/false};

}  // namespace

std::string ServedLabel(absl::string_view prefix, const sync::ServedKeyResult& served) {
  const std::string objective = sync::ServedObjectiveId(served);
  std::string label = objective.empty() ? absl::StrCat(prefix, ":", sync::ServedKeyResultId(served))
                                        : absl::StrCat(prefix, ":", objective, "/",
                                                       sync::ServedKeyResultId(served));
  if (label.size() <= kMaxLabelChars) return label;
  size_t keep = kMaxLabelChars - 9;
  while (keep > 0 && (static_cast<unsigned char>(label[keep]) & 0xC0) == 0x80) --keep;
  return absl::StrCat(label.substr(0, keep), "~", outbound::Sha256Hex(label).substr(0, 8));
}

absl::Status ValidateLabelPrefix(absl::string_view prefix) {
  if (prefix.empty() || prefix.size() > 40) {
    return absl::InvalidArgumentError("label_prefix must have 1 to 40 characters");
  }
  for (char c : prefix) {
    if (c == ',' || absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "label_prefix may not contain ',' or control characters (GitHub label names)");
    }
  }
  return absl::OkStatus();
}

std::string ServedCommentBody(const std::vector<sync::ServedKeyResult>& served) {
  return sync::ServedKeyResultsMarkdown(kCommentMarker, served, kMarkdown);
}

std::string NoLongerServedCommentBody() { return sync::NoLongerServesMarkdown(kCommentMarker); }

// ---- GitHubTrackerSource ----

GitHubTrackerSource::GitHubTrackerSource(GitHubClient& client) : client_(client) {}

absl::StatusOr<std::vector<WorkItem>> GitHubTrackerSource::FetchItems(
    const std::vector<WorkItem>& tracked) {
  std::vector<std::string> node_ids;
  std::vector<std::pair<std::string, int64_t>> by_key;
  std::set<std::string> seen;
  for (const WorkItem& item : tracked) {
    if (item.tracker != Tracker::kGitHub || !seen.insert(item.key).second) continue;
    if (!item.external_id.empty()) {
      node_ids.push_back(item.external_id);
      continue;
    }
    absl::StatusOr<std::pair<std::string, int64_t>> key = ParseWorkItemKey(item.key);
    if (key.ok()) by_key.push_back(*std::move(key));
  }
  std::vector<WorkItem> items;
  OKR_ASSIGN_OR_RETURN(std::vector<GitHubIssue> issues, client_.GetNodes(node_ids));
  for (const GitHubIssue& issue : issues) items.push_back(ToWorkItem(issue));
  for (const auto& [repo, number] : by_key) {
    absl::StatusOr<GitHubIssue> issue = client_.GetIssue(repo, number);
    if (absl::IsNotFound(issue.status())) continue;  // ConfirmDeleted decides
    if (!issue.ok()) return issue.status();
    if (!issue->pull_request) items.push_back(ToWorkItem(*issue));
  }
  return items;
}

absl::StatusOr<bool> GitHubTrackerSource::ConfirmDeleted(const WorkItem& item) {
  OKR_ASSIGN_OR_RETURN(auto key, ParseWorkItemKey(item.key));
  OKR_ASSIGN_OR_RETURN(GitHubClient::Lookup lookup, client_.LookupIssue(key.first, key.second));
  return lookup.http_status == 404 || lookup.http_status == 410;
}

absl::StatusOr<std::optional<std::vector<WorkItem>>> GitHubTrackerSource::ScopeMatches(
    const KeyResult& kr) {
  const TrackerScope* scope = ScopeIn(kr, Tracker::kGitHub);
  if (scope == nullptr || scope->project.empty()) return std::optional<std::vector<WorkItem>>();
  if (scope->labels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key result ", names::KeyResult(kr.objective_id, kr.id),
                     ": a GitHub scope needs at least one label (github_labels)"));
  }
  OKR_ASSIGN_OR_RETURN(std::vector<GitHubIssue> issues,
                       client_.ListIssuesByLabels(scope->project, scope->labels));
  std::vector<WorkItem> matches;
  for (const GitHubIssue& issue : issues) matches.push_back(ToWorkItem(issue));
  return std::optional<std::vector<WorkItem>>(std::move(matches));
}

// ---- GitHubTrackerWriter ----

GitHubTrackerWriter::GitHubTrackerWriter(GitHubClient& client, std::string label_prefix)
    : client_(client), label_prefix_(std::move(label_prefix)) {}

absl::StatusOr<std::string> GitHubTrackerWriter::Write(
    const WorkItem& item, const std::vector<sync::ServedKeyResult>& served,
    const std::string& ref) {
  OKR_ASSIGN_OR_RETURN(auto key, ParseWorkItemKey(item.key));
  const auto& [repo, number] = key;
  const WrittenMarks before = ParseRef(ref);
  std::vector<std::string> labels;
  for (const sync::ServedKeyResult& s : served) {
    std::string label = ServedLabel(label_prefix_, s);
    if (!Contains(labels, label)) labels.push_back(std::move(label));
  }
  if (!labels.empty()) OKR_RETURN_IF_ERROR(client_.AddLabels(repo, number, labels));
  for (const std::string& label : before.labels) {
    if (!Contains(labels, label)) OKR_RETURN_IF_ERROR(client_.RemoveLabel(repo, number, label));
  }
  int64_t comment_id = before.comment_id;
  if (served.empty()) {
    if (comment_id > 0) {
      absl::Status updated = client_.UpdateComment(repo, comment_id, NoLongerServedCommentBody());
      if (!updated.ok() && !absl::IsNotFound(updated)) return updated;
    }
    return std::string();
  }
  const std::string body = ServedCommentBody(served);
  bool edited = false;
  if (comment_id > 0) {
    absl::Status updated = client_.UpdateComment(repo, comment_id, body);
    if (!updated.ok() && !absl::IsNotFound(updated)) return updated;
    edited = updated.ok();
  }
  if (!edited) {
    OKR_ASSIGN_OR_RETURN(comment_id, client_.CreateComment(repo, number, body));
  }
  std::string out = absl::StrCat(kRefVersion, "\n", comment_id);
  for (const std::string& label : labels) absl::StrAppend(&out, "\n", label);
  return out;
}

}  // namespace okr::connectors::github
