#include "service/sync/site_routing.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/okr/status_macros.h"

namespace okr::sync {

std::optional<size_t> SiteMap::OwnerOf(absl::string_view key) const {
  std::optional<size_t> default_site;
  for (size_t i = 0; i < sites_.size(); ++i) {
    if (sites_[i].name.empty()) {
      default_site = i;
    } else if (sites_[i].owns && sites_[i].owns(key)) {
      return i;
    }
  }
  return default_site;
}

std::optional<size_t> SiteMap::OwnerOfProject(absl::string_view project) const {
  std::optional<size_t> default_site;
  for (size_t i = 0; i < sites_.size(); ++i) {
    if (sites_[i].name.empty()) {
      default_site = i;
    } else if (sites_[i].owns_project && sites_[i].owns_project(project)) {
      return i;
    }
  }
  return default_site;
}

std::string SiteMap::StoredId(size_t site, const std::string& site_id) const {
  if (site_id.empty() || sites_[site].name.empty()) return site_id;
  return absl::StrCat(sites_[site].name, ":", site_id);
}

std::string SiteMap::SiteId(size_t site, const std::string& stored_id) const {
  const std::string& name = sites_[site].name;
  if (name.empty()) {
    // An id stored for a named site means nothing to the default site: look up by key.
    return absl::StrContains(stored_id, ':') ? std::string() : stored_id;
  }
  const std::string prefix = absl::StrCat(name, ":");
  return absl::StartsWith(stored_id, prefix) ? stored_id.substr(prefix.size()) : std::string();
}

bool SiteSink::Owns(absl::string_view key) const {
  std::optional<size_t> owner = sites_.OwnerOf(key);
  return owner.has_value() && *owner == site_;
}

absl::StatusOr<SyncOutcome> SiteSink::ApplyItem(const WorkItem& state,
                                                const std::string& delivery_id) {
  if (!Owns(state.key)) return SyncOutcome::kUntracked;
  WorkItem stored = state;
  stored.external_id = sites_.StoredId(site_, state.external_id);
  return inner_.ApplyItem(stored, delivery_id);
}

absl::StatusOr<TrackerDeletion> SiteSink::RemoveItem(Tracker tracker,
                                                     const std::string& external_id,
                                                     const std::string& key,
                                                     const std::string& delivery_id) {
  if (!Owns(key)) return TrackerDeletion{};
  return inner_.RemoveItem(tracker, sites_.StoredId(site_, external_id), key, delivery_id);
}

absl::StatusOr<std::vector<WorkItem>> SiteRoutingSource::FetchItems(
    const std::vector<WorkItem>& tracked) {
  std::vector<std::vector<WorkItem>> by_site(sources_.size());
  for (const WorkItem& item : tracked) {
    std::optional<size_t> site = sites_.OwnerOf(item.key);
    if (!site.has_value()) continue;
    WorkItem local = item;
    local.external_id = sites_.SiteId(*site, item.external_id);
    by_site[*site].push_back(std::move(local));
  }
  std::vector<WorkItem> out;
  for (size_t site = 0; site < sources_.size(); ++site) {
    if (by_site[site].empty()) continue;
    OKR_ASSIGN_OR_RETURN(std::vector<WorkItem> fetched, sources_[site]->FetchItems(by_site[site]));
    for (WorkItem& item : fetched) {
      item.external_id = sites_.StoredId(site, item.external_id);
      out.push_back(std::move(item));
    }
  }
  return out;
}

absl::StatusOr<bool> SiteRoutingSource::ConfirmDeleted(const WorkItem& item) {
  std::optional<size_t> site = sites_.OwnerOf(item.key);
  if (!site.has_value()) return false;
  WorkItem local = item;
  local.external_id = sites_.SiteId(*site, item.external_id);
  return sources_[*site]->ConfirmDeleted(local);
}

absl::StatusOr<std::optional<std::vector<WorkItem>>> SiteRoutingSource::ScopeMatches(
    const KeyResult& kr) {
  if (sources_.size() == 1) {
    OKR_ASSIGN_OR_RETURN(std::optional<std::vector<WorkItem>> matches,
                         sources_[0]->ScopeMatches(kr));
    if (!matches.has_value()) return matches;
    std::vector<WorkItem> owned;
    for (WorkItem& item : *matches) {
      std::optional<size_t> owner = sites_.OwnerOf(item.key);
      if (!owner.has_value() || *owner != 0) continue;
      item.external_id = sites_.StoredId(0, item.external_id);
      owned.push_back(std::move(item));
    }
    return std::optional<std::vector<WorkItem>>(std::move(owned));
  }
  std::optional<std::vector<WorkItem>> out;
  absl::Status first_rejection;
  size_t rejections = 0;
  for (size_t site = 0; site < sources_.size(); ++site) {
    absl::StatusOr<std::optional<std::vector<WorkItem>>> matches = sources_[site]->ScopeMatches(kr);
    if (matches.status().code() == absl::StatusCode::kInvalidArgument) {
      if (rejections++ == 0) first_rejection = matches.status();
      continue;
    }
    if (!matches.ok()) return matches.status();
    if (!matches->has_value()) continue;
    if (!out.has_value()) out.emplace();
    for (WorkItem& item : **matches) {
      std::optional<size_t> owner = sites_.OwnerOf(item.key);
      if (!owner.has_value() || *owner != site) continue;  // another site's project
      item.external_id = sites_.StoredId(site, item.external_id);
      out->push_back(std::move(item));
    }
  }
  if (rejections == sources_.size()) return first_rejection;
  if (rejections > 0 && !out.has_value()) out.emplace();  // scoped, but nowhere matched
  return out;
}

absl::StatusOr<std::string> SiteRoutingWriter::Write(const WorkItem& item,
                                                     const std::vector<ServedKeyResult>& served,
                                                     const std::string& ref) {
  std::optional<size_t> site = sites_.OwnerOf(item.key);
  if (!site.has_value()) {
    return absl::NotFoundError(absl::StrCat("no configured site owns work item ", item.key));
  }
  WorkItem local = item;
  local.external_id = sites_.SiteId(*site, item.external_id);
  return writers_[*site]->Write(local, served, ref);
}

absl::StatusOr<WorkItem> SiteRoutingIssueOpener::OpenIssue(const NewIssue& issue) {
  std::optional<size_t> site = sites_.OwnerOfProject(issue.project);
  if (!site.has_value() || *site >= openers_.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no configured site owns project ", issue.project));
  }
  return openers_[*site]->OpenIssue(issue);
}

}  // namespace okr::sync
