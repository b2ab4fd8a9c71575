// Several sites of one tracker (Jira sites, GitLab instances) behind the single
// TrackerSource / TrackerWriter / TrackerSink the sync layer knows per tracker.
//
// Work items of one tracker share one key space in the store, so two sites must never
// produce the same item identity. The rule:
//  - every project belongs to exactly one site: each named site lists the projects it owns
//    (SiteMap::Site::owns), the default site (empty name) owns every other project;
//  - a site's items are only accepted from that site: a webhook from site A about a
//    project site B owns is ignored (kUntracked), so keys never collide;
//  - tracker ids (WorkItem::external_id) are only unique per site, so a named site's ids
//    are stored as "<site name>:<id>"; the default site's are stored as they are, which
//    keeps a single-site setup exactly as before.
//
//   SiteMap sites({{"", nullptr}, {"eu", [](absl::string_view key) { ... }}});
//   SiteSink eu_sink(sites, 1, core_sink);              // for the "eu" webhook handler
//   SiteRoutingSource source(Tracker::kJira, sites, {&default_source, &eu_source});
//   SiteRoutingWriter writer(Tracker::kJira, sites, {&default_writer, &eu_writer});
//   SiteRoutingIssueOpener opener(Tracker::kJira, sites, {&default_opener, &eu_opener});
//
// Thread safety: SiteMap and SiteSink are immutable and thread-safe (SiteSink as far as
// its inner sink is); the routing source and writer follow the sync interfaces' rule (one
// thread at a time).
#ifndef OKR_SERVICE_SYNC_SITE_ROUTING_H_
#define OKR_SERVICE_SYNC_SITE_ROUTING_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

class SiteMap {
 public:
  struct Site {
    std::string name;  // "" for the default site
    // Whether this site owns the item with this key. Unused for the default site.
    std::function<bool(absl::string_view key)> owns;
    // Whether this site owns this project (where rules open issues). Unused for the
    // default site; unset: the site owns no project by name.
    std::function<bool(absl::string_view project)> owns_project = nullptr;
  };

  // At most one site has an empty name. Named sites are asked in order.
  explicit SiteMap(std::vector<Site> sites) : sites_(std::move(sites)) {}

  size_t size() const { return sites_.size(); }
  const std::string& name(size_t site) const { return sites_[site].name; }
  // The site that owns `key`: the first named site whose predicate accepts it, else the
  // default site; nullopt if there is no default site and no named site accepts it.
  std::optional<size_t> OwnerOf(absl::string_view key) const;
  // The same for a project: the first named site owning it, else the default site.
  std::optional<size_t> OwnerOfProject(absl::string_view project) const;
  // The external id as stored: "<name>:<id>" for a named site; unchanged for the default
  // site and for an empty id.
  std::string StoredId(size_t site, const std::string& site_id) const;
  // The inverse of StoredId: the id the site itself uses.
  std::string SiteId(size_t site, const std::string& stored_id) const;

 private:
  std::vector<Site> sites_;
};

// The sink one site's webhook handler writes to: items of projects another site owns are
// ignored (kUntracked, nothing is written); external ids are stored per StoredId.
class SiteSink final : public TrackerSink {
 public:
  // `sites` and `inner` must outlive the sink.
  SiteSink(const SiteMap& sites, size_t site, TrackerSink& inner)
      : sites_(sites), site_(site), inner_(inner) {}

  absl::StatusOr<SyncOutcome> ApplyItem(const WorkItem& state,
                                        const std::string& delivery_id) override;
  absl::StatusOr<TrackerDeletion> RemoveItem(Tracker tracker, const std::string& external_id,
                                             const std::string& key,
                                             const std::string& delivery_id) override;

 private:
  bool Owns(absl::string_view key) const;

  const SiteMap& sites_;
  const size_t site_;
  TrackerSink& inner_;
};

// One TrackerSource over the sources of every site (index i = SiteMap site i).
//  - FetchItems / ConfirmDeleted go to the site owning each item's key (items no site
//    owns are left out: absent, and never confirmed deleted).
//  - ScopeMatches asks every site and keeps each site's matches of its own projects. With
//    several sites, a site that rejects the scope (INVALID_ARGUMENT, e.g. JQL naming a
//    project that site does not have) contributes no matches; the call fails only if every
//    site rejects it or another error occurs.
class SiteRoutingSource final : public TrackerSource {
 public:
  SiteRoutingSource(Tracker tracker, const SiteMap& sites, std::vector<TrackerSource*> sources)
      : tracker_(tracker), sites_(sites), sources_(std::move(sources)) {}

  Tracker tracker() const override { return tracker_; }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override;
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override;
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override;

 private:
  const Tracker tracker_;
  const SiteMap& sites_;
  std::vector<TrackerSource*> sources_;
};

// One TrackerWriter over the writers of every site: each write goes to the site owning the
// item's key (NOT_FOUND if no site owns it).
class SiteRoutingWriter final : public TrackerWriter {
 public:
  SiteRoutingWriter(Tracker tracker, const SiteMap& sites, std::vector<TrackerWriter*> writers)
      : tracker_(tracker), sites_(sites), writers_(std::move(writers)) {}

  Tracker tracker() const override { return tracker_; }
  absl::StatusOr<std::string> Write(const WorkItem& item,
                                    const std::vector<ServedKeyResult>& served,
                                    const std::string& ref) override;

 private:
  const Tracker tracker_;
  const SiteMap& sites_;
  std::vector<TrackerWriter*> writers_;
};

// One TrackerIssueOpener over the openers of every site: each issue is opened through the
// site owning its project (FAILED_PRECONDITION if no site owns it).
class SiteRoutingIssueOpener final : public TrackerIssueOpener {
 public:
  SiteRoutingIssueOpener(Tracker tracker, const SiteMap& sites,
                         std::vector<TrackerIssueOpener*> openers)
      : tracker_(tracker), sites_(sites), openers_(std::move(openers)) {}

  Tracker tracker() const override { return tracker_; }
  absl::StatusOr<WorkItem> OpenIssue(const NewIssue& issue) override;

 private:
  const Tracker tracker_;
  const SiteMap& sites_;
  const std::vector<TrackerIssueOpener*> openers_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_SITE_ROUTING_H_
