// OkrCore's use cases of the OKR process: the lifecycle (propose, agree, reopen, close),
// carrying over, and the alignment views (tree and findings). The rules are the domain's
// (service/okr/lifecycle.h, alignment.h, scoring.h); this file loads what they need in
// one transaction and stores what they changed.
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "service/core/okr_core.h"
#include "service/core/store_helpers.h"
#include "service/core/unit_of_work.h"
#include "service/okr/alignment.h"
#include "service/okr/lifecycle.h"
#include "service/okr/names.h"
#include "service/okr/scoring.h"
#include "service/okr/status_macros.h"
#include "service/okr/validation.h"

namespace okr::core {
namespace {

using internal::AllObjectives;
using internal::AllWorkItemLinks;
using internal::CheckEtag;
using internal::Derive;
using internal::DerivedObjective;
using internal::LoadAlignmentSnapshot;
using internal::NewMeta;
using internal::RecountKeyResult;
using internal::ReferenceError;
using internal::RollUp;
using internal::UnitOfWork;
using storage::OkrTransaction;

// A change of one objective (a row of the unit): returns whether it changed the objective
// (which is then stored with a new revision).
using ObjectiveChange = absl::FunctionRef<absl::StatusOr<bool>(UnitOfWork&, Objective&)>;

// Runs `change` on objective `id` in one transaction and returns the stored result.
absl::StatusOr<Objective> ChangeObjective(storage::OkrStore& store, const std::string& id,
                                          absl::Time now, ObjectiveChange change) {
  Objective result;
  const EventCause cause{CauseKind::kLifecycle, names::Objective(id), ""};
  OKR_RETURN_IF_ERROR(
      internal::RunUnitOfWork(store, now, cause, [&](UnitOfWork& uow) -> absl::Status {
        OKR_ASSIGN_OR_RETURN(Objective * o, uow.LoadObjective(id));
        OKR_ASSIGN_OR_RETURN(bool changed, change(uow, *o));
        if (changed) OKR_RETURN_IF_ERROR(uow.Changed(*o));
        OKR_ASSIGN_OR_RETURN(result, DerivedObjective(uow, id));
        return absl::OkStatus();
      }));
  return result;
}

// NOT_FOUND naming the request field for a missing team or cycle that scopes a read.
absl::Status ScopeError(const absl::Status& status, absl::string_view field,
                        absl::string_view name) {
  if (absl::IsNotFound(status)) {
    return absl::NotFoundError(absl::StrCat(field, ": ", name, " not found"));
  }
  return status;
}

bool HasAgreed(const Objective& o, absl::string_view team_id) {
  for (const Agreement& a : o.agreements) {
    if (a.team_id == team_id) return true;
  }
  return false;
}

// Builds alignment trees with derived fields, reading children level by level.
class TreeBuilder {
 public:
  TreeBuilder(OkrTransaction& tx, absl::Time now, int32_t depth)
      : tx_(tx), now_(now), depth_(depth) {}

  absl::StatusOr<AlignmentNode> Build(Objective o) { return Node(std::move(o), 0); }

 private:
  absl::StatusOr<AlignmentNode> Node(Objective o, int32_t level) {
    if (level > internal::kMaxParentDepth) {
      return absl::FailedPreconditionError(absl::StrCat("the alignment tree below ",
                                                        names::Objective(o.id), " is deeper than ",
                                                        internal::kMaxParentDepth, " levels"));
    }
    seen_.insert(o.id);
    AlignmentNode node;
    OKR_ASSIGN_OR_RETURN(const Cycle* cycle, FindCycle(o.cycle_id));
    Derive(o, *cycle, now_);
    if (depth_ == 0 || level < depth_) {
      storage::ObjectiveFilter filter;
      filter.parent_id = o.id;
      OKR_ASSIGN_OR_RETURN(std::vector<Objective> children, AllObjectives(tx_, filter));
      for (Objective& child : children) {
        if (seen_.contains(child.id)) continue;  // a loop in legacy data
        OKR_ASSIGN_OR_RETURN(AlignmentNode c, Node(std::move(child), level + 1));
        node.children.push_back(std::move(c));
      }
    }
    node.objective = std::move(o);
    return node;
  }

  absl::StatusOr<const Cycle*> FindCycle(const std::string& id) {
    auto it = cycles_.find(id);
    if (it == cycles_.end()) {
      OKR_ASSIGN_OR_RETURN(Cycle c, tx_.GetCycle(id));
      it = cycles_.emplace(id, std::move(c)).first;
    }
    return &it->second;
  }

  OkrTransaction& tx_;
  const absl::Time now_;
  const int32_t depth_;
  absl::flat_hash_map<std::string, Cycle> cycles_;
  absl::flat_hash_set<std::string> seen_;
};

}  // namespace

absl::StatusOr<Objective> OkrCore::ProposeObjective(const std::string& id,
                                                    const std::string& etag) {
  return ChangeObjective(store_, id, clock_.Now(),
                         [&](UnitOfWork&, Objective& o) -> absl::StatusOr<bool> {
                           OKR_RETURN_IF_ERROR(CheckEtag(etag, o.meta.revision, "etag"));
                           OKR_RETURN_IF_ERROR(Propose(o).status());
                           return true;
                         });
}

absl::StatusOr<Objective> OkrCore::AgreeObjective(const std::string& id, const std::string& team_id,
                                                  const std::string& agreed_by) {
  const absl::Time now = clock_.Now();
  Agreement agreement{team_id, agreed_by, now};
  OKR_RETURN_IF_ERROR(ValidateAgreement(agreement));
  return ChangeObjective(
      store_, id, now, [&](UnitOfWork& uow, Objective& o) -> absl::StatusOr<bool> {
        OkrTransaction& tx = uow.tx();
        std::vector<Objective> dependencies;
        for (const std::string& d : o.depends_on) {
          absl::StatusOr<Objective> dependency = tx.GetObjective(d);
          if (absl::IsNotFound(dependency.status())) continue;  // RequiredAgreementTeams says so
          OKR_RETURN_IF_ERROR(dependency.status());
          dependencies.push_back(*std::move(dependency));
        }
        OKR_ASSIGN_OR_RETURN(std::vector<std::string> required,
                             RequiredAgreementTeams(o, dependencies));
        // A repeat needs no findings (Agree succeeds before looking at them).
        std::vector<Finding> findings;
        if (!HasAgreed(o, team_id)) {
          OKR_ASSIGN_OR_RETURN(AlignmentSnapshot snapshot,
                               LoadAlignmentSnapshot(tx, now, /*all_key_results=*/true));
          findings = CheckObjectiveAlignment(snapshot, o.id);
        }
        OKR_ASSIGN_OR_RETURN(AgreeResult r, Agree(o, team_id, required, agreed_by, now, findings));
        return r.recorded;
      });
}

absl::StatusOr<Objective> OkrCore::ReopenObjective(const std::string& id,
                                                   const std::string& reason) {
  return ChangeObjective(store_, id, clock_.Now(),
                         [&](UnitOfWork&, Objective& o) -> absl::StatusOr<bool> {
                           OKR_RETURN_IF_ERROR(Reopen(o, reason).status());
                           return true;
                         });
}

absl::StatusOr<Objective> OkrCore::CloseObjective(const std::string& id,
                                                  const ExplicitScores& key_result_scores) {
  const absl::Time now = clock_.Now();
  return ChangeObjective(
      store_, id, now, [&](UnitOfWork& uow, Objective& o) -> absl::StatusOr<bool> {
        OKR_ASSIGN_OR_RETURN(std::vector<KeyResult*> rows, uow.LoadKeyResults(o.id));
        std::vector<KeyResult> krs;
        for (const KeyResult* kr : rows) krs.push_back(*kr);
        std::vector<std::pair<double, double>> children;
        if (o.progress_source == ProgressSource::kKeyResultsAndChildren) {
          OKR_ASSIGN_OR_RETURN(std::vector<Objective*> child_rows, uow.LoadChildren(o.id));
          for (const Objective* c : child_rows) {
            children.emplace_back(c->scored ? c->score : c->progress, c->weight);
          }
        }
        OKR_RETURN_IF_ERROR(CloseAndScore(o, krs, key_result_scores, children).status());
        for (size_t i = 0; i < krs.size() && i < rows.size(); ++i) {
          *rows[i] = krs[i];
          OKR_RETURN_IF_ERROR(uow.Changed(*rows[i]));
        }
        return true;
      });
}

absl::StatusOr<Objective> OkrCore::CarryOverObjective(const std::string& id,
                                                      const std::string& next_cycle_id,
                                                      const std::string& new_id) {
  if (next_cycle_id.empty()) return absl::InvalidArgumentError("cycle is required");
  if (!new_id.empty()) OKR_RETURN_IF_ERROR(names::ValidateId(new_id, "objective_id"));
  const absl::Time now = clock_.Now();
  Objective result;
  OKR_RETURN_IF_ERROR(internal::RunUnitOfWork(
      store_, now, EventCause{CauseKind::kLifecycle, names::Objective(id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(Objective source, tx.GetObjective(id));
        if (next_cycle_id == source.cycle_id) {
          return absl::InvalidArgumentError(absl::StrCat("cycle must differ from the cycle of ",
                                                         names::Objective(id), " (",
                                                         names::Cycle(source.cycle_id), ")"));
        }
        if (auto c = tx.GetCycle(next_cycle_id); !c.ok()) {
          return ReferenceError(c.status(), "cycle", names::Cycle(next_cycle_id));
        }
        OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs, tx.AllKeyResults(id));
        std::vector<WorkItemLink> links;
        for (const KeyResult& kr : krs) {
          OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> kr_links, AllWorkItemLinks(tx, id, kr.id));
          for (WorkItemLink& l : kr_links) links.push_back(std::move(l));
        }
        OKR_ASSIGN_OR_RETURN(CarryOverResult copy,
                             CarryOver(source, krs, links, next_cycle_id, names::GenerateId));

        // Ids: the requested one for the objective; its key results keep theirs (CarryOver
        // copies them in order), so people find "objectives/next/keyResults/nps" again.
        Objective& o = copy.objective;
        if (!new_id.empty()) o.id = new_id;
        absl::flat_hash_map<std::string, std::string> kr_ids;  // copy's id -> new id
        const bool same_order = copy.key_results.size() == krs.size();
        for (size_t i = 0; i < copy.key_results.size(); ++i) {
          KeyResult& kr = copy.key_results[i];
          const bool keep = same_order && krs[i].title == kr.title && krs[i].type == kr.type;
          kr_ids[kr.id] = keep ? krs[i].id : kr.id;
          kr.id = kr_ids[kr.id];
          kr.objective_id = o.id;
        }
        NewMeta(o.meta, now);
        if (absl::Status s = uow.InsertObjective(o).status(); !s.ok()) {
          if (absl::IsAlreadyExists(s)) {
            return absl::AlreadyExistsError(
                absl::StrCat("objective_id: ", names::Objective(o.id), " already exists"));
          }
          return s;
        }
        absl::flat_hash_map<std::string, KeyResult*> inserted;  // by key result id
        for (KeyResult& kr : copy.key_results) {
          NewMeta(kr.meta, now);
          OKR_ASSIGN_OR_RETURN(inserted[kr.id], uow.InsertKeyResult(kr));
        }
        absl::flat_hash_set<std::string> linked;
        for (WorkItemLink& link : copy.links) {
          link.objective_id = o.id;
          link.key_result_id = kr_ids[link.key_result_id];
          NewMeta(link.meta, now);
          OKR_RETURN_IF_ERROR(tx.InsertWorkItemLink(link));
          linked.insert(link.key_result_id);
        }
        // Totals from the links, the tracker write-back of the new key results, and the
        // roll-up into the copy and (a new child) its parent.
        for (const KeyResult& kr : copy.key_results) {
          if (linked.contains(kr.id)) OKR_RETURN_IF_ERROR(RecountKeyResult(uow, *inserted[kr.id]));
        }
        OKR_RETURN_IF_ERROR(RollUp(uow, o.id));
        if (!o.parent_id.empty()) OKR_RETURN_IF_ERROR(RollUp(uow, o.parent_id));
        OKR_ASSIGN_OR_RETURN(result, DerivedObjective(uow, o.id));
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<std::vector<AlignmentNode>> OkrCore::GetAlignmentTree(
    const AlignmentTreeQuery& query) {
  if (query.depth < 0) return absl::InvalidArgumentError("depth must not be negative");
  if (query.root_id.empty() && (query.team_id.empty() || query.cycle_id.empty())) {
    return absl::InvalidArgumentError("root, or team and cycle, are required");
  }
  const absl::Time now = clock_.Now();
  std::vector<AlignmentNode> result;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    result.clear();
    std::vector<Objective> roots;
    if (!query.root_id.empty()) {
      absl::StatusOr<Objective> root = tx.GetObjective(query.root_id);
      if (!root.ok()) return ScopeError(root.status(), "root", names::Objective(query.root_id));
      roots.push_back(*std::move(root));
    } else {
      if (auto t = tx.GetTeam(query.team_id); !t.ok()) {
        return ScopeError(t.status(), "team", names::Team(query.team_id));
      }
      if (auto c = tx.GetCycle(query.cycle_id); !c.ok()) {
        return ScopeError(c.status(), "cycle", names::Cycle(query.cycle_id));
      }
      storage::ObjectiveFilter filter;
      filter.team_id = query.team_id;
      filter.cycle_id = query.cycle_id;
      OKR_ASSIGN_OR_RETURN(std::vector<Objective> objectives, AllObjectives(tx, filter));
      for (Objective& o : objectives) {
        bool root = o.parent_id.empty();
        if (!root) {
          absl::StatusOr<Objective> parent = tx.GetObjective(o.parent_id);
          if (!parent.ok() && !absl::IsNotFound(parent.status())) return parent.status();
          root = !parent.ok() || parent->team_id != query.team_id;
        }
        if (root) roots.push_back(std::move(o));
      }
    }
    TreeBuilder builder(tx, now, query.depth);
    for (Objective& root : roots) {
      OKR_ASSIGN_OR_RETURN(AlignmentNode node, builder.Build(std::move(root)));
      result.push_back(std::move(node));
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<Finding>> OkrCore::CheckAlignment(const std::string& cycle_id,
                                                             const std::string& team_id) {
  if (cycle_id.empty()) return absl::InvalidArgumentError("cycle is required");
  const absl::Time now = clock_.Now();
  std::vector<Finding> findings;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    if (auto c = tx.GetCycle(cycle_id); !c.ok()) {
      return ScopeError(c.status(), "cycle", names::Cycle(cycle_id));
    }
    if (!team_id.empty()) {
      if (auto t = tx.GetTeam(team_id); !t.ok()) {
        return ScopeError(t.status(), "team", names::Team(team_id));
      }
    }
    OKR_ASSIGN_OR_RETURN(AlignmentSnapshot snapshot,
                         LoadAlignmentSnapshot(tx, now, /*all_key_results=*/true));
    findings = okr::CheckAlignment(snapshot, cycle_id, team_id);
    return absl::OkStatus();
  }));
  return findings;
}

}  // namespace okr::core
