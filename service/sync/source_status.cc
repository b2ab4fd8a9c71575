#include "service/sync/source_status.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "service/okr/status_macros.h"

namespace okr::sync {
namespace {

constexpr int kMaxWriteAttempts = 3;

std::string DocumentId(const SourceStatusStore::SiteKey& site) {
  return absl::StrCat(TrackerSlug(site.first), ":", site.second);
}

nlohmann::json TimeJson(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return nullptr;
  return absl::ToUnixMicros(*t);
}

// Tolerates anything: a payload that is not what this version writes reads as unset.
std::optional<absl::Time> TimeOf(const nlohmann::json& payload, const char* field) {
  if (!payload.is_object()) return std::nullopt;
  auto it = payload.find(field);
  if (it == payload.end() || !it->is_number_integer()) return std::nullopt;
  return absl::FromUnixMicros(it->get<int64_t>());
}

std::string StringOf(const nlohmann::json& payload, const char* field) {
  if (!payload.is_object()) return "";
  auto it = payload.find(field);
  if (it == payload.end() || !it->is_string()) return "";
  return BoundedErrorText(it->get<std::string>());
}

nlohmann::json Parse(const std::string& payload) {
  return nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
}

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Reads the document, lets `change` compute the new payload from the old one (null when
// absent) and writes it; retried when another writer got there first.
absl::Status Upsert(storage::OkrStore& store, absl::Time now, const std::string& kind,
                    const std::string& id,
                    const std::function<nlohmann::json(const nlohmann::json&)>& change) {
  absl::Status last;
  for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
    last = store.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
      OKR_ASSIGN_OR_RETURN(std::optional<storage::OkrTransaction::Document> current,
                           tx.GetDocument(kind, id));
      storage::OkrTransaction::Document doc;
      doc.kind = kind;
      doc.id = id;
      doc.meta.update_time = now;
      if (!current.has_value()) {
        doc.payload = Dump(change(nullptr));
        doc.meta.revision = 1;
        doc.meta.create_time = now;
        return tx.InsertDocument(doc);
      }
      doc.payload = Dump(change(Parse(current->payload)));
      doc.meta.revision = current->meta.revision + 1;
      doc.meta.create_time = current->meta.create_time;
      return tx.UpdateDocument(doc, current->meta.revision);
    });
    if (!absl::IsAborted(last) && !absl::IsAlreadyExists(last)) return last;
  }
  return last;
}

}  // namespace

SourceStatusStore::SourceStatusStore(storage::OkrStore& store, const Clock& clock,
                                     std::vector<SiteKey> sites, Options options)
    : store_(store), clock_(clock), sites_(std::move(sites)), options_(options) {}

absl::Status SourceStatusStore::RecordReconciliation(Tracker tracker, const std::string& site,
                                                     const absl::Status& result) {
  const absl::Time now = clock_.Now();
  const std::string error = result.ok() ? "" : BoundedErrorText(result.ToString());
  absl::Status written =
      Upsert(store_, now, kReconcileStatusKind, DocumentId({tracker, site}),
             [&](const nlohmann::json& old) {
               nlohmann::json next = {{"last_attempt", absl::ToUnixMicros(now)},
                                      {"last_success", TimeJson(TimeOf(old, "last_success"))},
                                      {"last_error", error}};
               if (result.ok()) next["last_success"] = absl::ToUnixMicros(now);
               return next;
             });
  absl::MutexLock lock(&mu_);
  cached_.reset();
  return written;
}

void SourceStatusStore::RecordWebhook(Tracker tracker, const std::string& site) {
  const SiteKey key{tracker, site};
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = webhook_written_.find(key);
    if (it != webhook_written_.end() && now - it->second < options_.webhook_coalesce) {
      webhook_pending_[key] = now;
      return;
    }
    webhook_written_[key] = now;
    webhook_pending_.erase(key);
  }
  // Best effort: a lost time only makes the key result look less current.
  (void)WriteWebhookTime(key, now);
}

absl::Status SourceStatusStore::FlushWebhooks() {
  std::map<SiteKey, absl::Time> pending;
  {
    absl::MutexLock lock(&mu_);
    pending.swap(webhook_pending_);
    for (const auto& [key, time] : pending) webhook_written_[key] = clock_.Now();
  }
  absl::Status first;
  for (const auto& [key, time] : pending) first.Update(WriteWebhookTime(key, time));
  return first;
}

absl::Status SourceStatusStore::WriteWebhookTime(const SiteKey& site, absl::Time time) {
  absl::Status written = Upsert(
      store_, clock_.Now(), kWebhookStatusKind, DocumentId(site), [&](const nlohmann::json& old) {
        std::optional<absl::Time> before = TimeOf(old, "last_webhook");
        const absl::Time latest = before.has_value() && *before > time ? *before : time;
        return nlohmann::json{{"last_webhook", absl::ToUnixMicros(latest)}};
      });
  absl::MutexLock lock(&mu_);
  cached_.reset();
  return written;
}

absl::StatusOr<std::vector<SourceStatus>> SourceStatusStore::Read() const {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    if (cached_.has_value() && now - cached_at_ < options_.read_cache && now >= cached_at_) {
      return *cached_;
    }
  }
  std::map<std::string, nlohmann::json> reconcile;
  std::map<std::string, nlohmann::json> webhook;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    for (auto [kind, out] :
         {std::pair{kReconcileStatusKind, &reconcile}, std::pair{kWebhookStatusKind, &webhook}}) {
      storage::PageQuery q{0, 1000};
      while (true) {
        OKR_ASSIGN_OR_RETURN(auto page, tx.ListDocuments(kind, q));
        for (const auto& doc : page.items) (*out)[doc.id] = Parse(doc.payload);
        if (!page.has_more || page.items.empty()) break;
        q.after_seq = page.items.back().meta.seq;
      }
    }
    return absl::OkStatus();
  }));
  std::vector<SourceStatus> out;
  for (const SiteKey& site : sites_) {
    SourceStatus s;
    s.tracker = site.first;
    s.site = site.second;
    const std::string id = DocumentId(site);
    if (auto it = reconcile.find(id); it != reconcile.end()) {
      s.last_success = TimeOf(it->second, "last_success");
      s.last_attempt = TimeOf(it->second, "last_attempt");
      s.last_error = StringOf(it->second, "last_error");
    }
    if (auto it = webhook.find(id); it != webhook.end()) {
      s.last_webhook = TimeOf(it->second, "last_webhook");
    }
    out.push_back(std::move(s));
  }
  absl::MutexLock lock(&mu_);
  cached_ = out;
  cached_at_ = now;
  return out;
}

std::vector<TrackerFreshness> SourceStatusStore::ForTrackers(
    const std::set<Tracker>& trackers) const {
  std::vector<TrackerFreshness> out;
  if (trackers.empty()) return out;
  const absl::StatusOr<std::vector<SourceStatus>> statuses = Read();
  const absl::Time now = clock_.Now();
  for (Tracker tracker : trackers) {
    if (!statuses.ok()) {
      TrackerFreshness f;
      f.tracker = tracker;
      f.stale = true;
      f.stale_reason =
          BoundedErrorText(absl::StrCat("status unavailable: ", statuses.status().ToString()));
      out.push_back(std::move(f));
      continue;
    }
    out.push_back(TrackerFreshnessOf(tracker, *statuses, now, options_.reconcile_interval));
  }
  return out;
}

void RecordingSource::BeginRound() {
  absl::MutexLock lock(&mu_);
  error_ = absl::OkStatus();
}

absl::Status RecordingSource::round_error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

void RecordingSource::Note(const absl::Status& status) {
  if (status.ok()) return;
  absl::MutexLock lock(&mu_);
  if (error_.ok()) error_ = status;
}

absl::StatusOr<std::vector<WorkItem>> RecordingSource::FetchItems(
    const std::vector<WorkItem>& tracked) {
  absl::StatusOr<std::vector<WorkItem>> result = inner_.FetchItems(tracked);
  Note(result.status());
  return result;
}

absl::StatusOr<bool> RecordingSource::ConfirmDeleted(const WorkItem& item) {
  absl::StatusOr<bool> result = inner_.ConfirmDeleted(item);
  Note(result.status());
  return result;
}

absl::StatusOr<std::optional<std::vector<WorkItem>>> RecordingSource::ScopeMatches(
    const KeyResult& kr) {
  absl::StatusOr<std::optional<std::vector<WorkItem>>> result = inner_.ScopeMatches(kr);
  if (!absl::IsInvalidArgument(result.status())) Note(result.status());
  return result;
}

absl::StatusOr<SyncOutcome> RecordingSink::ApplyItem(const WorkItem& state,
                                                     const std::string& delivery_id) {
  absl::StatusOr<SyncOutcome> outcome = inner_.ApplyItem(state, delivery_id);
  if (outcome.ok() && (*outcome == SyncOutcome::kApplied || *outcome == SyncOutcome::kUnchanged)) {
    confirmed_();
  }
  return outcome;
}

absl::StatusOr<TrackerDeletion> RecordingSink::RemoveItem(Tracker tracker,
                                                          const std::string& external_id,
                                                          const std::string& key,
                                                          const std::string& delivery_id) {
  absl::StatusOr<TrackerDeletion> removed =
      inner_.RemoveItem(tracker, external_id, key, delivery_id);
  if (removed.ok() && removed->outcome == SyncOutcome::kApplied) confirmed_();
  return removed;
}

}  // namespace okr::sync
