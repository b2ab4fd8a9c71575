#include "service/okr/trackers.h"

#include <cctype>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace okr {
namespace {

// PROJECT-123: project key starts with a letter, then letters/digits/underscore.
bool IsJiraKey(absl::string_view key) {
  size_t dash = key.rfind('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 >= key.size()) return false;
  if (!absl::ascii_isalpha(key[0])) return false;
  for (char c : key.substr(0, dash)) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  uint64_t n;
  return absl::SimpleAtoi(key.substr(dash + 1), &n) && n > 0 && absl::ascii_isdigit(key[dash + 1]);
}

// Jira project keys: an uppercase letter, then uppercase letters, digits or '_'.
bool IsJiraProject(absl::string_view key) {
  bool ok = !key.empty() && key.size() <= 64 && key[0] >= 'A' && key[0] <= 'Z';
  for (char c : key) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  return ok;
}

// group/subgroup/project: no leading, trailing or doubled '/', at least one '/'.
bool IsGitLabPath(absl::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/' || !absl::StrContains(path, '/') ||
      absl::StrContains(path, "//")) {
    return false;
  }
  for (char c : path) {
    if (!absl::ascii_isalnum(c) && c != '/' && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsGitLabProject(absl::string_view path) { return path.size() <= 255 && IsGitLabPath(path); }

// <project>#<positive number>, the project checked by `is_project`.
bool IsNumberedInProject(absl::string_view key, bool (*is_project)(absl::string_view)) {
  size_t hash = key.rfind('#');
  if (hash == absl::string_view::npos || hash == 0 || hash + 1 >= key.size()) return false;
  if (!is_project(key.substr(0, hash))) return false;
  uint64_t n;
  return absl::SimpleAtoi(key.substr(hash + 1), &n) && n > 0 && absl::ascii_isdigit(key[hash + 1]);
}

// group/project#7
bool IsGitLabKey(absl::string_view key) { return IsNumberedInProject(key, IsGitLabPath); }

// owner/repo: exactly one '/', each part 1-100 of letters, digits, '-', '_', '.'.
bool IsGitHubRepo(absl::string_view repo) {
  const size_t slash = repo.find('/');
  if (slash == absl::string_view::npos || repo.find('/', slash + 1) != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view part : {repo.substr(0, slash), repo.substr(slash + 1)}) {
    if (part.empty() || part.size() > 100 || part == "." || part == "..") return false;
    for (char c : part) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
    }
  }
  return true;
}

// owner/repo#123
bool IsGitHubKey(absl::string_view key) { return IsNumberedInProject(key, IsGitHubRepo); }

constexpr TrackerTraits kTrackers[] = {
    {Tracker::kJira, "jira", "Jira", "JIRA", "jira_project_key", IsJiraKey,
     "a Jira issue key like OKRX-101", IsJiraProject,
     "a Jira project key like OKRX (uppercase letters, digits, _)", "jira_issue_type", "jira_jql",
     nullptr, nullptr, nullptr},
    {Tracker::kGitLab, "gitlab", "GitLab", "GITLAB", "gitlab_project", IsGitLabKey,
     "a GitLab issue reference like group/project#7", IsGitLabProject,
     "a GitLab project path like group/project", nullptr, nullptr, "gitlab_project",
     "gitlab_labels", "gitlab_milestone"},
    {Tracker::kGitHub, "github", "GitHub", "GITHUB", "github_repo", IsGitHubKey,
     "a GitHub issue reference like owner/repo#123", IsGitHubRepo,
     "a GitHub repository like owner/repo", nullptr, nullptr, "github_repo", "github_labels",
     nullptr},
};

}  // namespace

absl::Span<const TrackerTraits> AllTrackers() { return kTrackers; }

const TrackerTraits* FindTracker(Tracker tracker) {
  for (const TrackerTraits& t : kTrackers) {
    if (t.tracker == tracker) return &t;
  }
  return nullptr;
}

std::optional<Tracker> TrackerFromSlug(absl::string_view slug) {
  for (const TrackerTraits& t : kTrackers) {
    if (slug == t.slug) return t.tracker;
  }
  return std::nullopt;
}

const char* TrackerSlug(Tracker tracker) {
  const TrackerTraits* t = FindTracker(tracker);
  return t == nullptr ? "unknown" : t->slug;
}

const char* TrackerDisplayName(Tracker tracker) {
  const TrackerTraits* t = FindTracker(tracker);
  return t == nullptr ? "unknown tracker" : t->display_name;
}

}  // namespace okr
