#include "service/core/events_core.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/core/event_documents.h"
#include "service/core/limits.h"
#include "service/core/store_helpers.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"

namespace okr::core {
namespace {

using internal::NewMeta;
using internal::Touch;
using storage::OkrTransaction;
using Document = storage::OkrTransaction::Document;
using json = nlohmann::json;
using internal::DeliveryFromDoc;
using internal::DeliveryPayload;
using internal::Dump;
using internal::IssueActionFromDoc;
using internal::IssueActionPayload;
using internal::kDelivery;
using internal::kFindings;
using internal::kFiring;
using internal::kHealthWatch;
using internal::kIssueAction;
using internal::kRule;
using internal::kRuleIssues;
using internal::kSubscription;
using internal::Parse;
using internal::RuleDoc;
using internal::RuleFromDoc;
using internal::Str;
using internal::SubscriptionDoc;
using internal::SubscriptionFromDoc;
using internal::Time;
using internal::TimeFromJson;
using internal::TimeToJson;

// Every document of one kind, in creation order.
absl::StatusOr<std::vector<Document>> AllDocuments(OkrTransaction& tx, const std::string& kind) {
  return internal::CollectPages<Document>(
      [&](const storage::PageQuery& q) { return tx.ListDocuments(kind, q); });
}

absl::StatusOr<Document> RequireDocument(OkrTransaction& tx, const std::string& kind,
                                         const std::string& id, absl::string_view what) {
  OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kind, id));
  if (!doc.has_value()) return absl::NotFoundError(absl::StrCat(what, " not found"));
  return *std::move(doc);
}

// Whether a firing document says the rule holds (fired and not re-armed since).
absl::StatusOr<bool> IsFiring(const std::optional<Document>& firing) {
  if (!firing.has_value()) return false;
  OKR_ASSIGN_OR_RETURN(json j, Parse(*firing));
  auto it = j.find("firing");
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string FiringId(const Rule& rule, const KeyResult& kr) {
  return absl::StrCat(rule.id, ":", kr.objective_id, "/", kr.id);
}

template <typename T, typename Decode>
absl::StatusOr<ListResult<T>> ListDocs(storage::OkrStore& store, const char* kind,
                                       const PageRequest& page, Decode decode) {
  OKR_ASSIGN_OR_RETURN(storage::PageQuery q, internal::ToPageQuery(page));
  ListResult<T> result;
  OKR_RETURN_IF_ERROR(store.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(storage::Page<Document> docs, tx.ListDocuments(kind, q));
    result = ListResult<T>{};
    for (const Document& d : docs.items) {
      OKR_ASSIGN_OR_RETURN(T item, decode(d));
      result.items.push_back(std::move(item));
    }
    if (docs.has_more && !docs.items.empty()) {
      result.next_page_token = internal::NextPageToken(docs.items.back().meta.seq);
    }
    return absl::OkStatus();
  }));
  return result;
}

}  // namespace

// ---- Event history ----

absl::StatusOr<ListResult<Event>> EventsCore::ListEvents(const EventParent& parent,
                                                         const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(storage::PageQuery q, internal::ToPageQuery(page));
  ListResult<Event> result;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OkrTransaction::EventQuery query;
    query.after_sequence = q.after_seq;
    query.limit = q.limit + 1;
    query.objective_id = parent.objective_id;
    query.key_result_id = parent.key_result_id;
    query.team_id = parent.team_id;
    OKR_ASSIGN_OR_RETURN(std::vector<Event> events, tx.ListEvents(query));
    if (events.empty() && q.after_seq == 0) {
      // No history: tell a mistyped parent from a quiet one.
      if (!parent.team_id.empty()) {
        OKR_RETURN_IF_ERROR(tx.GetTeam(parent.team_id).status());
      } else if (!parent.key_result_id.empty()) {
        OKR_RETURN_IF_ERROR(tx.GetKeyResult(parent.objective_id, parent.key_result_id).status());
      } else {
        OKR_RETURN_IF_ERROR(tx.GetObjective(parent.objective_id).status());
      }
    }
    result = ListResult<Event>{};
    if (static_cast<int>(events.size()) > q.limit) {
      events.resize(q.limit);
      result.next_page_token = internal::NextPageToken(events.back().sequence);
    }
    result.items = std::move(events);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<Event>> EventsCore::EventsAfter(int64_t after_sequence, int limit) {
  std::vector<Event> events;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OkrTransaction::EventQuery query;
    query.after_sequence = after_sequence;
    query.limit = limit;
    OKR_ASSIGN_OR_RETURN(events, tx.ListEvents(query));
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<int64_t> EventsCore::LastEventSequence() {
  int64_t last = 0;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(last, tx.LastEventSequence());
    return absl::OkStatus();
  }));
  return last;
}

// ---- Subscriptions ----

namespace {

// The objective and team a subscription filter names exist.
absl::Status CheckFilterReferences(OkrTransaction& tx, const EventFilter& filter) {
  if (!filter.objective_id.empty()) {
    OKR_RETURN_IF_ERROR(internal::ReferenceError(tx.GetObjective(filter.objective_id).status(),
                                                 "subscription.filter.objective",
                                                 names::Objective(filter.objective_id)));
  }
  if (!filter.team_id.empty()) {
    OKR_RETURN_IF_ERROR(internal::ReferenceError(tx.GetTeam(filter.team_id).status(),
                                                 "subscription.filter.team",
                                                 names::Team(filter.team_id)));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT naming update_mask unless every path is allowed.
absl::Status CheckUpdatePaths(const std::vector<std::string>& paths,
                              const std::vector<std::string>& allowed, absl::string_view what) {
  for (const std::string& p : paths) {
    if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: field \"", p.substr(0, 100), "\" cannot be updated on a ",
                       what, " (allowed: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

bool HasPath(const std::vector<std::string>& paths, absl::string_view path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

// The rule's parent, subscription and (OPEN_ISSUE) tracker project exist, as CreateRule
// and UpdateRule require.
absl::Status CheckRuleReferences(OkrTransaction& tx, const Rule& rule) {
  std::string team_id = rule.team_id;
  if (!rule.objective_id.empty()) {
    absl::StatusOr<Objective> o = tx.GetObjective(rule.objective_id);
    OKR_RETURN_IF_ERROR(
        internal::ReferenceError(o.status(), "rule.parent", names::Objective(rule.objective_id)));
    team_id = o->team_id;
  }
  absl::StatusOr<Team> team = tx.GetTeam(team_id);
  OKR_RETURN_IF_ERROR(internal::ReferenceError(team.status(), "rule.parent", names::Team(team_id)));
  if (rule.action == RuleActionType::kCallSubscription) {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> sub,
                         tx.GetDocument(kSubscription, rule.subscription_id));
    if (!sub.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("rule.action.subscription: subscriptions/",
                                                     rule.subscription_id, " does not exist"));
    }
  }
  if (rule.action == RuleActionType::kOpenIssue) {
    // ValidateRule (service/okr/events.h) has checked that the tracker is known.
    const TrackerTraits* tracker = FindTracker(rule.tracker);
    if (tracker == nullptr || TeamProject(*team, rule.tracker).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rule.action.tracker: team ", names::Team(team_id), " has no ",
          tracker == nullptr ? "project" : tracker->team_project_field, " to open issues in"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EventsCore::CheckTargetUrl(const std::string& url) const {
  if (!options_.target_url_check) return absl::OkStatus();
  absl::Status checked = options_.target_url_check(url);
  if (checked.ok()) return checked;
  return absl::Status(checked.code(), absl::StrCat("subscription.target_url: ", checked.message()));
}

absl::StatusOr<Subscription> EventsCore::UpdateSubscription(const Subscription& patch,
                                                            const std::vector<std::string>& paths,
                                                            const std::string& etag) {
  OKR_RETURN_IF_ERROR(CheckUpdatePaths(paths, {"target_url", "filter", "secret"}, "subscription"));
  auto apply = [&](Subscription& s) {
    if (HasPath(paths, "target_url")) s.target_url = patch.target_url;
    if (HasPath(paths, "filter")) s.filter = patch.filter;
    if (HasPath(paths, "secret")) s.secret = patch.secret;
  };
  // As CreateSubscription does: the syntax first, then the outbound check of a new target,
  // outside the transaction (it may wait for DNS).
  {
    OKR_ASSIGN_OR_RETURN(Subscription preview, GetSubscription(patch.id));
    apply(preview);
    OKR_RETURN_IF_ERROR(ValidateSubscription(preview));
    if (HasPath(paths, "target_url")) OKR_RETURN_IF_ERROR(CheckTargetUrl(patch.target_url));
  }
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Document d, RequireDocument(tx, kSubscription, patch.id,
                                                     absl::StrCat("subscriptions/", patch.id)));
    OKR_RETURN_IF_ERROR(internal::CheckEtag(etag, d.meta.revision, "subscription.etag"));
    OKR_ASSIGN_OR_RETURN(Subscription s, SubscriptionFromDoc(d));
    apply(s);
    OKR_RETURN_IF_ERROR(ValidateSubscription(s));
    OKR_RETURN_IF_ERROR(CheckFilterReferences(tx, s.filter));
    Touch(s.meta, now);
    return tx.UpdateDocument(SubscriptionDoc(s), d.meta.revision);
  }));
  return GetSubscription(patch.id);
}

absl::StatusOr<Subscription> EventsCore::CreateSubscription(Subscription s) {
  if (s.id.empty()) s.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(s.id, "subscription_id"));
  OKR_RETURN_IF_ERROR(ValidateSubscription(s));
  // Outside the transaction: it may wait for DNS.
  OKR_RETURN_IF_ERROR(CheckTargetUrl(s.target_url));
  const absl::Time now = clock_.Now();
  NewMeta(s.meta, now);
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(CheckFilterReferences(tx, s.filter));
    OKR_RETURN_IF_ERROR(CheckCountLimit(tx, kSubscription,
                                        {options_.max_subscriptions, "subscriptions",
                                         "--max-subscriptions", "SUBSCRIPTION_LIMIT_REACHED"}));
    OKR_RETURN_IF_ERROR(tx.InsertDocument(SubscriptionDoc(s)));
    DeliveryState state;
    OKR_ASSIGN_OR_RETURN(state.delivered_sequence, tx.LastEventSequence());
    s.delivered_sequence = state.delivered_sequence;
    Document d{kDelivery, s.id, DeliveryPayload(state), {}};
    NewMeta(d.meta, now);
    return tx.InsertDocument(d);
  }));
  return s;
}

absl::StatusOr<Subscription> EventsCore::GetSubscription(const std::string& id) {
  Subscription s;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(
        Document d, RequireDocument(tx, kSubscription, id, absl::StrCat("subscriptions/", id)));
    OKR_ASSIGN_OR_RETURN(s, SubscriptionFromDoc(d));
    OKR_ASSIGN_OR_RETURN(std::optional<Document> delivery, tx.GetDocument(kDelivery, id));
    if (delivery.has_value()) {
      OKR_ASSIGN_OR_RETURN(DeliveryState state, DeliveryFromDoc(*delivery));
      s.state = state.state;
      s.delivered_sequence = state.delivered_sequence;
      s.last_error = state.last_error;
      s.failing_since = state.failing_since;
    }
    return absl::OkStatus();
  }));
  return s;
}

absl::StatusOr<ListResult<Subscription>> EventsCore::ListSubscriptions(const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(ListResult<Subscription> list,
                       ListDocs<Subscription>(store_, kSubscription, page, SubscriptionFromDoc));
  for (Subscription& s : list.items) {
    absl::StatusOr<DeliveryState> state = GetDeliveryState(s.id);
    if (!state.ok()) continue;  // deleted in between
    s.state = state->state;
    s.delivered_sequence = state->delivered_sequence;
    s.last_error = state->last_error;
    s.failing_since = state->failing_since;
  }
  return list;
}

absl::StatusOr<int64_t> EventsCore::PruneDeliveredEvents(absl::Time before, int limit) {
  int64_t deleted = 0;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    // What every subscription has delivered; a subscription is created at the last
    // sequence, so one created meanwhile never needs an event at or below this.
    OKR_ASSIGN_OR_RETURN(int64_t through, tx.LastEventSequence());
    OKR_ASSIGN_OR_RETURN(std::vector<Document> deliveries, AllDocuments(tx, kDelivery));
    for (const Document& d : deliveries) {
      OKR_ASSIGN_OR_RETURN(DeliveryState state, DeliveryFromDoc(d));
      through = std::min(through, state.delivered_sequence);
    }
    OKR_ASSIGN_OR_RETURN(deleted, tx.PruneEvents(before, through, limit));
    return absl::OkStatus();
  }));
  return deleted;
}

absl::StatusOr<int64_t> EventsCore::PruneFirings(absl::Time before, int limit, int64_t* after_seq,
                                                 bool* more) {
  int64_t deleted = 0;
  int64_t next = *after_seq;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    deleted = 0;
    next = *after_seq;
    OKR_ASSIGN_OR_RETURN(storage::Page<Document> page,
                         tx.ListDocuments(kFiring, storage::PageQuery{*after_seq, limit}));
    *more = page.has_more;
    for (const Document& d : page.items) {
      next = std::max(next, d.meta.seq);
      if (d.meta.update_time >= before) continue;
      // The id is "<rule>:<objective>/<key result>" (FiringId).
      const size_t colon = d.id.find(':');
      const size_t slash = d.id.rfind('/');
      bool obsolete = colon == std::string::npos || slash == std::string::npos || slash < colon;
      if (!obsolete) {
        absl::StatusOr<bool> firing = IsFiring(d);
        if (!firing.ok()) continue;  // unreadable: left alone
        obsolete = !*firing;
      }
      if (!obsolete) {
        OKR_ASSIGN_OR_RETURN(std::optional<Document> rule,
                             tx.GetDocument(kRule, d.id.substr(0, colon)));
        obsolete = !rule.has_value();
      }
      if (!obsolete) {
        absl::StatusOr<KeyResult> kr =
            tx.GetKeyResult(d.id.substr(colon + 1, slash - colon - 1), d.id.substr(slash + 1));
        if (!kr.ok() && !absl::IsNotFound(kr.status())) return kr.status();
        obsolete = !kr.ok();
      }
      if (!obsolete) continue;
      OKR_RETURN_IF_ERROR(tx.DeleteDocument(kFiring, d.id));
      ++deleted;
    }
    return absl::OkStatus();
  }));
  *after_seq = next;
  return deleted;
}

absl::StatusOr<std::vector<Subscription>> EventsCore::AllSubscriptions() {
  std::vector<Subscription> all;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    all.clear();
    OKR_ASSIGN_OR_RETURN(std::vector<Document> docs, AllDocuments(tx, kSubscription));
    for (const Document& d : docs) {
      OKR_ASSIGN_OR_RETURN(Subscription s, SubscriptionFromDoc(d));
      all.push_back(std::move(s));
    }
    return absl::OkStatus();
  }));
  return all;
}

absl::Status EventsCore::DeleteSubscription(const std::string& id) {
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::Status deleted = tx.DeleteDocument(kSubscription, id);
    if (absl::IsNotFound(deleted)) {
      return absl::NotFoundError(absl::StrCat("subscriptions/", id, " not found"));
    }
    OKR_RETURN_IF_ERROR(deleted);
    absl::Status state = tx.DeleteDocument(kDelivery, id);
    return absl::IsNotFound(state) ? absl::OkStatus() : state;
  });
}

absl::Status EventsCore::SaveDeliveryState(const std::string& subscription_id,
                                           const DeliveryState& state) {
  const absl::Time now = clock_.Now();
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Document d,
                         RequireDocument(tx, kDelivery, subscription_id,
                                         absl::StrCat("subscriptions/", subscription_id)));
    const int64_t revision = d.meta.revision;
    d.payload = DeliveryPayload(state);
    Touch(d.meta, now);
    return tx.UpdateDocument(d, revision);
  });
}

absl::StatusOr<DeliveryState> EventsCore::GetDeliveryState(const std::string& subscription_id) {
  DeliveryState state;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Document d,
                         RequireDocument(tx, kDelivery, subscription_id,
                                         absl::StrCat("subscriptions/", subscription_id)));
    OKR_ASSIGN_OR_RETURN(state, DeliveryFromDoc(d));
    return absl::OkStatus();
  }));
  return state;
}

// ---- Alignment findings ----

absl::StatusOr<int> EventsCore::RecordFindings(const std::string& cycle_id,
                                               const std::vector<Finding>& findings) {
  const absl::Time now = clock_.Now();
  // Key of a finding: its code and subjects; the message may change wording.
  std::map<std::string, const Finding*> current;
  for (const Finding& f : findings) {
    current[absl::StrCat(FindingCodeName(f.code), "|", absl::StrJoin(f.subjects, ","))] = &f;
  }
  int appended = 0;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    appended = 0;
    OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kFindings, cycle_id));
    std::map<std::string, json> previous;
    if (doc.has_value()) {
      OKR_ASSIGN_OR_RETURN(json j, Parse(*doc));
      if (auto it = j.find("findings"); it != j.end() && it->is_object()) {
        for (auto& [key, value] : it->items()) previous[key] = value;
      }
    }
    auto emit = [&](const std::string& key, const std::string& code,
                    const std::vector<std::string>& subjects, const std::string& message,
                    bool resolved) -> absl::Status {
      Event e;
      e.type = EventType::kAlignmentFinding;
      e.time = now;
      e.cycle_id = cycle_id;
      for (const std::string& subject : subjects) {
        absl::StatusOr<std::string> id = names::ParseObjective(subject, "subject");
        if (!id.ok()) continue;
        absl::StatusOr<Objective> o = tx.GetObjective(*id);
        if (!o.ok()) continue;
        e.objective_id = *id;
        e.team_id = o->team_id;
        break;
      }
      e.cause = EventCause{CauseKind::kAlignmentCheck, absl::StrCat("cycles/", cycle_id), ""};
      e.finding_code = code;
      e.finding_subject = absl::StrJoin(subjects, ",");
      e.resolved = resolved;
      e.message = resolved ? absl::StrCat("resolved: ", message) : message;
      ++appended;
      return tx.AppendEvent(e);
    };
    json stored = json::object();
    for (const auto& [key, f] : current) {
      stored[key] = {{"code", std::string(FindingCodeName(f->code))},
                     {"subjects", f->subjects},
                     {"message", f->message}};
      if (!previous.count(key)) {
        OKR_RETURN_IF_ERROR(emit(key, std::string(FindingCodeName(f->code)), f->subjects,
                                 f->message, /*resolved=*/false));
      }
    }
    for (const auto& [key, value] : previous) {
      if (current.count(key)) continue;
      std::vector<std::string> subjects;
      if (auto it = value.find("subjects"); it != value.end() && it->is_array()) {
        for (const json& s : *it) {
          if (s.is_string()) subjects.push_back(s.get<std::string>());
        }
      }
      OKR_RETURN_IF_ERROR(emit(key, Str(value, "code"), subjects, Str(value, "message"),
                               /*resolved=*/true));
    }
    if (appended == 0 && doc.has_value()) return absl::OkStatus();
    const std::string payload = Dump({{"findings", stored}});
    if (doc.has_value()) {
      const int64_t revision = doc->meta.revision;
      doc->payload = payload;
      Touch(doc->meta, now);
      return tx.UpdateDocument(*doc, revision);
    }
    Document d{kFindings, cycle_id, payload, {}};
    NewMeta(d.meta, now);
    return tx.InsertDocument(d);
  }));
  return appended;
}

// ---- Health moved by time alone ----

absl::StatusOr<absl::Time> EventsCore::HealthWatchTime() {
  absl::Time at = absl::InfinitePast();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kHealthWatch, "last"));
    if (!doc.has_value()) return absl::OkStatus();
    OKR_ASSIGN_OR_RETURN(json j, Parse(*doc));
    at = Time(j, "at");
    return absl::OkStatus();
  }));
  return at;
}

absl::Status EventsCore::RecordHealthWatch(absl::Time previous, absl::Time now,
                                           std::vector<Event> events) {
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kHealthWatch, "last"));
    absl::Time stored = absl::InfinitePast();
    if (doc.has_value()) {
      OKR_ASSIGN_OR_RETURN(json j, Parse(*doc));
      stored = Time(j, "at");
    }
    if (stored != previous) {
      return absl::AbortedError("health watch: another round recorded meanwhile");
    }
    for (Event& e : events) OKR_RETURN_IF_ERROR(tx.AppendEvent(e));
    const std::string payload = Dump({{"at", TimeToJson(now)}});
    if (doc.has_value()) {
      const int64_t revision = doc->meta.revision;
      doc->payload = payload;
      Touch(doc->meta, now);
      return tx.UpdateDocument(*doc, revision);
    }
    Document d{kHealthWatch, "last", payload, {}};
    NewMeta(d.meta, now);
    return tx.InsertDocument(d);
  });
}

// ---- Rules ----

absl::StatusOr<Rule> EventsCore::CreateRule(Rule rule) {
  if (rule.id.empty()) rule.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(rule.id, "rule_id"));
  OKR_RETURN_IF_ERROR(ValidateRule(rule));
  const absl::Time now = clock_.Now();
  NewMeta(rule.meta, now);
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(CheckRuleReferences(tx, rule));
    OKR_RETURN_IF_ERROR(CheckCountLimit(
        tx, kRule, {options_.max_rules, "rules", "--max-rules", "RULE_LIMIT_REACHED"}));
    return tx.InsertDocument(RuleDoc(rule));
  }));
  return rule;
}

absl::StatusOr<Rule> EventsCore::UpdateRule(const Rule& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& etag) {
  OKR_RETURN_IF_ERROR(CheckUpdatePaths(paths, {"condition", "action"}, "rule"));
  const absl::Time now = clock_.Now();
  Rule result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Document d,
                         RequireDocument(tx, kRule, patch.id, absl::StrCat("rules/", patch.id)));
    OKR_RETURN_IF_ERROR(internal::CheckEtag(etag, d.meta.revision, "rule.etag"));
    OKR_ASSIGN_OR_RETURN(Rule rule, RuleFromDoc(d));
    if (HasPath(paths, "condition")) {
      rule.condition = patch.condition;
      rule.threshold = patch.threshold;
      rule.days = patch.days;
    }
    if (HasPath(paths, "action")) {
      rule.action = patch.action;
      rule.subscription_id = patch.subscription_id;
      rule.tracker = patch.tracker;
    }
    OKR_RETURN_IF_ERROR(ValidateRule(rule));
    OKR_RETURN_IF_ERROR(CheckRuleReferences(tx, rule));
    Touch(rule.meta, now);
    OKR_RETURN_IF_ERROR(tx.UpdateDocument(RuleDoc(rule), d.meta.revision));
    result = rule;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Rule> EventsCore::GetRule(const std::string& id) {
  Rule rule;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Document d, RequireDocument(tx, kRule, id, absl::StrCat("rules/", id)));
    OKR_ASSIGN_OR_RETURN(rule, RuleFromDoc(d));
    return absl::OkStatus();
  }));
  return rule;
}

absl::StatusOr<ListResult<Rule>> EventsCore::ListRules(const PageRequest& page) {
  return ListDocs<Rule>(store_, kRule, page, RuleFromDoc);
}

absl::StatusOr<std::vector<Rule>> EventsCore::AllRules() {
  std::vector<Rule> all;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    all.clear();
    OKR_ASSIGN_OR_RETURN(std::vector<Document> docs, AllDocuments(tx, kRule));
    for (const Document& d : docs) {
      OKR_ASSIGN_OR_RETURN(Rule r, RuleFromDoc(d));
      all.push_back(std::move(r));
    }
    return absl::OkStatus();
  }));
  return all;
}

absl::Status EventsCore::DeleteRule(const std::string& id) {
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::Status deleted = tx.DeleteDocument(kRule, id);
    if (absl::IsNotFound(deleted))
      return absl::NotFoundError(absl::StrCat("rules/", id, " not found"));
    OKR_RETURN_IF_ERROR(deleted);
    // Its queued issues are cancelled: nobody asks for them any more.
    OKR_ASSIGN_OR_RETURN(std::vector<Document> actions, AllDocuments(tx, kIssueAction));
    for (const Document& d : actions) {
      OKR_ASSIGN_OR_RETURN(IssueAction a, IssueActionFromDoc(d));
      if (a.rule_id == id) OKR_RETURN_IF_ERROR(tx.DeleteDocument(kIssueAction, d.id));
    }
    absl::Status counted = tx.DeleteDocument(kRuleIssues, id);
    return absl::IsNotFound(counted) ? absl::OkStatus() : counted;
  });
}

absl::StatusOr<VerdictRecord> EventsCore::RecordVerdict(const Rule& rule, const KeyResult& kr,
                                                        const Objective& objective,
                                                        const RuleVerdict& verdict,
                                                        const IssueText& issue) {
  const absl::Time now = clock_.Now();
  // Most evaluations change nothing: answer those from a snapshot, without queueing for
  // the writer (the write transaction below checks again).
  bool unchanged = false;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> firing,
                         tx.GetDocument(kFiring, FiringId(rule, kr)));
    OKR_ASSIGN_OR_RETURN(bool was_firing, IsFiring(firing));
    unchanged = verdict.holds == was_firing;
    return absl::OkStatus();
  }));
  if (unchanged) return VerdictRecord{};
  VerdictRecord record;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    record = VerdictRecord{};
    const std::string firing_key = FiringId(rule, kr);
    OKR_ASSIGN_OR_RETURN(std::optional<Document> firing, tx.GetDocument(kFiring, firing_key));
    OKR_ASSIGN_OR_RETURN(bool was_firing, IsFiring(firing));
    if (verdict.holds == was_firing) return absl::OkStatus();
    // The rule must still exist (deleted between listing and now: do nothing).
    OKR_ASSIGN_OR_RETURN(std::optional<Document> still, tx.GetDocument(kRule, rule.id));
    if (!still.has_value()) return absl::OkStatus();
    const std::string firing_id = verdict.holds ? names::GenerateId() : std::string();
    json payload = {{"firing", verdict.holds}, {"since", TimeToJson(now)}, {"id", firing_id}};
    if (firing.has_value()) {
      const int64_t revision = firing->meta.revision;
      firing->payload = Dump(payload);
      Touch(firing->meta, now);
      OKR_RETURN_IF_ERROR(tx.UpdateDocument(*firing, revision));
    } else {
      Document d{kFiring, firing_key, Dump(payload), {}};
      NewMeta(d.meta, now);
      OKR_RETURN_IF_ERROR(tx.InsertDocument(d));
    }
    if (!verdict.holds) return absl::OkStatus();  // re-armed
    Event e;
    e.type = EventType::kRuleFired;
    e.time = now;
    e.objective_id = kr.objective_id;
    e.key_result_id = kr.id;
    e.team_id = objective.team_id;
    e.cycle_id = objective.cycle_id;
    e.cause = EventCause{CauseKind::kRule, absl::StrCat("rules/", rule.id), ""};
    e.rule_id = rule.id;
    e.new_progress = e.old_progress = kr.progress;
    if (rule.action == RuleActionType::kCallSubscription) e.subscription_id = rule.subscription_id;
    e.message = absl::StrCat(names::KeyResult(kr.objective_id, kr.id), ": rule rules/", rule.id,
                             " fired: ", verdict.reason);
    OKR_RETURN_IF_ERROR(tx.AppendEvent(e));
    record.fired = true;
    if (rule.action != RuleActionType::kOpenIssue) return absl::OkStatus();
    OKR_ASSIGN_OR_RETURN(bool under_cap, CountIssue(tx, rule.id, now));
    if (!under_cap) {
      record.issue_capped = true;
      return absl::OkStatus();
    }
    OKR_ASSIGN_OR_RETURN(Team team, tx.GetTeam(objective.team_id));
    IssueAction a;
    a.id = firing_id;
    a.rule_id = rule.id;
    a.objective_id = kr.objective_id;
    a.key_result_id = kr.id;
    a.tracker = rule.tracker;
    a.project = TeamProject(team, rule.tracker);
    if (auto type = team.issue_types.find(rule.tracker); type != team.issue_types.end()) {
      a.issue_type = type->second;
    }
    a.title = issue.title;
    a.description = issue.description;
    a.url = issue.url;
    a.next_attempt = now;
    Document d{kIssueAction, a.id, IssueActionPayload(a), {}};
    NewMeta(d.meta, now);
    OKR_RETURN_IF_ERROR(tx.InsertDocument(d));
    record.issue_queued = true;
    return absl::OkStatus();
  }));
  return record;
}

absl::StatusOr<bool> EventsCore::CountIssue(storage::OkrTransaction& tx, const std::string& rule_id,
                                            absl::Time now) {
  OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kRuleIssues, rule_id));
  // Queue times of the last 24 hours (a sliding window), oldest first.
  std::vector<int64_t> recent;
  if (doc.has_value()) {
    OKR_ASSIGN_OR_RETURN(json j, Parse(*doc));
    if (auto it = j.find("queued"); it != j.end() && it->is_array()) {
      for (const json& t : *it) {
        if (t.is_number_integer() && TimeFromJson(t) > now - absl::Hours(24)) {
          recent.push_back(t.get<int64_t>());
        }
      }
    }
  }
  if (static_cast<int64_t>(recent.size()) >= options_.max_issues_per_rule_per_day) return false;
  recent.push_back(absl::ToUnixMicros(now));
  const std::string payload = Dump({{"queued", recent}});
  if (doc.has_value()) {
    const int64_t revision = doc->meta.revision;
    doc->payload = payload;
    Touch(doc->meta, now);
    OKR_RETURN_IF_ERROR(tx.UpdateDocument(*doc, revision));
  } else {
    Document d{kRuleIssues, rule_id, payload, {}};
    NewMeta(d.meta, now);
    OKR_RETURN_IF_ERROR(tx.InsertDocument(d));
  }
  return true;
}

absl::StatusOr<std::vector<IssueAction>> EventsCore::DueIssueActions(absl::Time now, int limit) {
  std::vector<IssueAction> due;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    due.clear();
    OKR_ASSIGN_OR_RETURN(std::vector<Document> docs, AllDocuments(tx, kIssueAction));
    for (const Document& d : docs) {
      OKR_ASSIGN_OR_RETURN(IssueAction a, IssueActionFromDoc(d));
      if (a.next_attempt > now) continue;
      due.push_back(std::move(a));
      if (static_cast<int>(due.size()) >= limit) break;
    }
    return absl::OkStatus();
  }));
  return due;
}

absl::Status EventsCore::CompleteIssueAction(const IssueAction& action,
                                             const std::string& issue_key) {
  const absl::Time now = clock_.Now();
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    absl::Status deleted = tx.DeleteDocument(kIssueAction, action.id);
    if (absl::IsNotFound(deleted)) return absl::OkStatus();  // completed before
    OKR_RETURN_IF_ERROR(deleted);
    const std::string firing_key =
        absl::StrCat(action.rule_id, ":", action.objective_id, "/", action.key_result_id);
    OKR_ASSIGN_OR_RETURN(std::optional<Document> firing, tx.GetDocument(kFiring, firing_key));
    if (!firing.has_value()) return absl::OkStatus();
    OKR_ASSIGN_OR_RETURN(json j, Parse(*firing));
    j["issue"] = issue_key;
    const int64_t revision = firing->meta.revision;
    firing->payload = Dump(j);
    Touch(firing->meta, now);
    return tx.UpdateDocument(*firing, revision);
  });
}

absl::Status EventsCore::DeferIssueAction(const IssueAction& action, const std::string& error,
                                          absl::Time next_attempt) {
  const absl::Time now = clock_.Now();
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> d, tx.GetDocument(kIssueAction, action.id));
    if (!d.has_value()) return absl::OkStatus();
    IssueAction a = action;
    a.attempts = action.attempts + 1;
    a.last_error = error;
    a.next_attempt = next_attempt;
    const int64_t revision = d->meta.revision;
    d->payload = IssueActionPayload(a);
    Touch(d->meta, now);
    return tx.UpdateDocument(*d, revision);
  });
}

}  // namespace okr::core
