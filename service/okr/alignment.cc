#include "service/okr/alignment.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"

namespace okr {
namespace {

// ---------------------------------------------------------------------------------------
// Snapshot index

struct Index {
  absl::flat_hash_map<absl::string_view, const Team*> teams;
  absl::flat_hash_map<absl::string_view, const Cycle*> cycles;
  absl::flat_hash_map<absl::string_view, const Objective*> objectives;
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, const KeyResult*>
      key_results;
  absl::flat_hash_map<absl::string_view, std::vector<const KeyResult*>> krs_by_objective;

  const Team* FindTeam(absl::string_view id) const {
    auto it = teams.find(id);
    return it == teams.end() ? nullptr : it->second;
  }
  const Cycle* FindCycle(absl::string_view id) const {
    auto it = cycles.find(id);
    return it == cycles.end() ? nullptr : it->second;
  }
  const Objective* FindObjective(absl::string_view id) const {
    auto it = objectives.find(id);
    return it == objectives.end() ? nullptr : it->second;
  }
  const KeyResult* FindKeyResult(absl::string_view objective_id,
                                 absl::string_view key_result_id) const {
    auto it = key_results.find(std::make_pair(objective_id, key_result_id));
    return it == key_results.end() ? nullptr : it->second;
  }
  const std::vector<const KeyResult*>& KeyResultsOf(absl::string_view objective_id) const {
    static const auto* kNone = new std::vector<const KeyResult*>();
    auto it = krs_by_objective.find(objective_id);
    return it == krs_by_objective.end() ? *kNone : it->second;
  }
};

// Indexes `snapshot`; `replacement`, if given, takes the place of the stored objective
// with the same id (or is added). The first of duplicate ids wins.
Index BuildIndex(const AlignmentSnapshot& snapshot, const Objective* replacement = nullptr) {
  Index index;
  for (const Team& t : snapshot.teams) index.teams.emplace(t.id, &t);
  for (const Cycle& c : snapshot.cycles) index.cycles.emplace(c.id, &c);
  if (replacement != nullptr) index.objectives.emplace(replacement->id, replacement);
  for (const Objective& o : snapshot.objectives) index.objectives.emplace(o.id, &o);
  for (const KeyResult& kr : snapshot.key_results) {
    if (index.key_results
            .emplace(std::make_pair(absl::string_view(kr.objective_id), absl::string_view(kr.id)),
                     &kr)
            .second) {
      index.krs_by_objective[kr.objective_id].push_back(&kr);
    }
  }
  return index;
}

std::string ObjectiveName(const Objective& o) { return names::Objective(o.id); }

// "objectives/o (teams/t)".
std::string WithTeam(const Objective& o) {
  return absl::StrCat(names::Objective(o.id), " (", names::Team(o.team_id), ")");
}

std::string Date(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

std::string DescribeCycle(const Cycle& c) {
  return absl::StrCat(names::Cycle(c.id), " (", Date(c.start_time), " to ", Date(c.end_time), ")");
}

// ---------------------------------------------------------------------------------------
// The alignment graph: an edge from -> to means "from needs to" (see CheckNoAlignmentLoop).

enum class EdgeKind { kParent, kContributesTo, kDependsOn };

struct Edge {
  int to = 0;
  EdgeKind kind = EdgeKind::kParent;
  std::string key_result;  // kContributesTo: the key result name
};

struct Graph {
  std::vector<const Objective*> nodes;  // sorted by id
  absl::flat_hash_map<absl::string_view, int> node_of;
  std::vector<std::vector<Edge>> out;
};

Graph BuildGraph(const Index& index) {
  Graph g;
  g.nodes.reserve(index.objectives.size());
  for (const auto& [id, o] : index.objectives) g.nodes.push_back(o);
  std::sort(g.nodes.begin(), g.nodes.end(),
            [](const Objective* a, const Objective* b) { return a->id < b->id; });
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) g.node_of[g.nodes[i]->id] = i;
  g.out.resize(g.nodes.size());
  auto node = [&](absl::string_view id) {
    auto it = g.node_of.find(id);
    return it == g.node_of.end() ? -1 : it->second;
  };
  for (int x = 0; x < static_cast<int>(g.nodes.size()); ++x) {
    const Objective& o = *g.nodes[x];
    if (int p = node(o.parent_id); !o.parent_id.empty() && p >= 0) {
      g.out[p].push_back({x, EdgeKind::kParent, ""});
    }
    for (const std::string& kr : o.contributes_to) {
      auto parsed = names::ParseKeyResult(kr, "objective.contributes_to");
      if (!parsed.ok()) continue;
      if (int q = node(parsed->objective_id); q >= 0) {
        g.out[q].push_back({x, EdgeKind::kContributesTo, kr});
      }
    }
    for (const std::string& d : o.depends_on) {
      if (int y = node(d); y >= 0) g.out[x].push_back({y, EdgeKind::kDependsOn, ""});
    }
  }
  for (auto& edges : g.out) {
    std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
      return std::tie(a.to, a.kind, a.key_result) < std::tie(b.to, b.kind, b.key_result);
    });
  }
  return g;
}

// The statement of the field that creates edge from -> e.to.
std::string Clause(const Graph& g, int from, const Edge& e) {
  const std::string a = ObjectiveName(*g.nodes[from]);
  const std::string b = ObjectiveName(*g.nodes[e.to]);
  switch (e.kind) {
    case EdgeKind::kParent:
      return absl::StrCat(b, " has parent ", a);
    case EdgeKind::kContributesTo:
      return absl::StrCat(b, " contributes to ", e.key_result);
    case EdgeKind::kDependsOn:
      return absl::StrCat(a, " depends on ", b);
  }
  return "";
}

struct PathStep {
  int from;
  const Edge* edge;
};

// The shortest loop from `start` back to itself (BFS, edges in sorted order), using only
// nodes for which `allowed` is true; empty if there is none.
template <typename Allowed>
std::vector<PathStep> ShortestLoop(const Graph& g, int start, Allowed allowed) {
  std::vector<PathStep> via(g.nodes.size(), PathStep{-1, nullptr});
  std::vector<bool> seen(g.nodes.size(), false);
  std::deque<int> queue = {start};
  seen[start] = true;
  while (!queue.empty()) {
    const int x = queue.front();
    queue.pop_front();
    for (const Edge& e : g.out[x]) {
      if (e.to == start) {
        std::vector<PathStep> path = {{x, &e}};
        for (int y = x; y != start; y = via[y].from) path.push_back(via[y]);
        std::reverse(path.begin(), path.end());
        return path;
      }
      if (seen[e.to] || !allowed(e.to)) continue;
      seen[e.to] = true;
      via[e.to] = {x, &e};
      queue.push_back(e.to);
    }
  }
  return {};
}

std::string DescribeLoop(const Graph& g, const std::vector<PathStep>& loop) {
  std::vector<std::string> clauses;
  for (const PathStep& s : loop) clauses.push_back(Clause(g, s.from, *s.edge));
  return absl::StrJoin(clauses, "; ");
}

// Strongly connected components (iterative Tarjan); each component's nodes sorted.
std::vector<std::vector<int>> StronglyConnected(const Graph& g) {
  const int n = static_cast<int>(g.nodes.size());
  std::vector<int> order(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<int> stack;
  std::vector<std::vector<int>> components;
  int counter = 0;
  struct Frame {
    int node;
    size_t next_edge;
  };
  for (int root = 0; root < n; ++root) {
    if (order[root] >= 0) continue;
    std::vector<Frame> frames = {{root, 0}};
    order[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      Frame& f = frames.back();
      if (f.next_edge < g.out[f.node].size()) {
        const int to = g.out[f.node][f.next_edge++].to;
        if (order[to] < 0) {
          order[to] = low[to] = counter++;
          stack.push_back(to);
          on_stack[to] = true;
          frames.push_back({to, 0});
        } else if (on_stack[to]) {
          low[f.node] = std::min(low[f.node], order[to]);
        }
        continue;
      }
      const int x = f.node;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().node] = std::min(low[frames.back().node], low[x]);
      if (low[x] == order[x]) {
        std::vector<int> component;
        int y;
        do {
          y = stack.back();
          stack.pop_back();
          on_stack[y] = false;
          component.push_back(y);
        } while (y != x);
        std::sort(component.begin(), component.end());
        components.push_back(std::move(component));
      }
    }
  }
  return components;
}

// ---------------------------------------------------------------------------------------
// Findings

// A finding plus the objectives it involves (for scoping).
struct Draft {
  Finding finding;
  std::vector<const Objective*> involved;
};

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

Draft MakeDraft(FindingCode code, std::vector<std::string> subjects,
                std::vector<const Objective*> involved, std::vector<const Objective*> blocks,
                std::string message) {
  Draft d;
  d.finding.code = code;
  d.finding.severity = SeverityOf(code);
  d.finding.subjects = std::move(subjects);
  SortUnique(d.finding.subjects);
  if (d.finding.severity == Severity::kError) {
    for (const Objective* o : blocks) d.finding.blocks.push_back(ObjectiveName(*o));
    SortUnique(d.finding.blocks);
  }
  d.finding.message = std::move(message);
  d.involved = std::move(involved);
  return d;
}

void CheckLoops(const Graph& g, std::vector<Draft>& out) {
  for (const std::vector<int>& component : StronglyConnected(g)) {
    const int start = component.front();
    if (component.size() == 1) {
      const auto& edges = g.out[start];
      if (std::none_of(edges.begin(), edges.end(), [&](const Edge& e) { return e.to == start; })) {
        continue;
      }
    }
    absl::flat_hash_set<int> members(component.begin(), component.end());
    std::vector<PathStep> loop = ShortestLoop(g, start, [&](int x) { return members.contains(x); });
    std::vector<std::string> subjects;
    std::vector<const Objective*> involved;
    for (int x : component) {
      subjects.push_back(ObjectiveName(*g.nodes[x]));
      involved.push_back(g.nodes[x]);
    }
    for (const PathStep& s : loop) {
      if (s.edge->kind == EdgeKind::kContributesTo) subjects.push_back(s.edge->key_result);
    }
    out.push_back(
        MakeDraft(FindingCode::kCycleInAlignment, std::move(subjects), involved, involved,
                  absl::StrCat("Alignment loop: ", DescribeLoop(g, loop),
                               ". Break it by changing one parent, contribution or dependency.")));
  }
}

void CheckCycleOutsideParent(const Index& index, std::vector<Draft>& out) {
  for (const auto& [id, o] : index.objectives) {
    if (o->parent_id.empty()) continue;
    const Objective* parent = index.FindObjective(o->parent_id);
    if (parent == nullptr) continue;
    const Cycle* cycle = index.FindCycle(o->cycle_id);
    const Cycle* parent_cycle = index.FindCycle(parent->cycle_id);
    if (cycle == nullptr || parent_cycle == nullptr) continue;
    if (parent_cycle->start_time <= cycle->start_time &&
        cycle->end_time <= parent_cycle->end_time) {
      continue;
    }
    out.push_back(MakeDraft(FindingCode::kCycleOutsideParent,
                            {ObjectiveName(*o), ObjectiveName(*parent), names::Cycle(cycle->id),
                             names::Cycle(parent_cycle->id)},
                            {o, parent}, {o},
                            absl::StrCat(WithTeam(*o), " runs in ", DescribeCycle(*cycle),
                                         ", which lies outside the cycle of its parent ",
                                         WithTeam(*parent), ", ", DescribeCycle(*parent_cycle),
                                         ": align it to an objective of an enclosing cycle.")));
  }
}

void CheckOrphans(const Index& index, std::vector<Draft>& out) {
  for (const auto& [id, o] : index.objectives) {
    if (o->state != ObjectiveState::kAgreed || !o->parent_id.empty() ||
        !o->contributes_to.empty()) {
      continue;
    }
    const Team* team = index.FindTeam(o->team_id);
    if (team == nullptr || team->parent_id.empty()) continue;  // unknown or root team
    out.push_back(MakeDraft(
        FindingCode::kOrphan, {ObjectiveName(*o), names::Team(team->id)}, {o}, {},
        absl::StrCat(WithTeam(*o),
                     " is agreed but aligned to nothing: give it a parent objective of an "
                     "ancestor team or let it contribute to another team's key result.")));
  }
}

int Direction(const MetricSpec& m) {
  if (m.target_value > m.start_value) return 1;
  if (m.target_value < m.start_value) return -1;
  return 0;
}

std::string Value(double v, const std::string& unit) {
  return unit.empty() ? absl::StrCat(v) : absl::StrCat(v, " ", unit);
}

// "objectives/a (teams/web) raises checkout.conversion from 2 to 3"
std::string DescribeMove(const Objective& o, const KeyResult& kr) {
  return absl::StrCat(WithTeam(o), Direction(kr.metric) > 0 ? " raises " : " lowers ",
                      kr.metric_key, " from ", Value(kr.metric.start_value, kr.metric.unit), " to ",
                      Value(kr.metric.target_value, kr.metric.unit), " (",
                      names::KeyResult(kr.objective_id, kr.id), ")");
}

void CheckContradictions(const Index& index, std::vector<Draft>& out) {
  // Metric key results by metric key, in a deterministic order.
  absl::flat_hash_map<absl::string_view, std::vector<const KeyResult*>> by_metric;
  for (const auto& [key, kr] : index.key_results) {
    if (kr->type != KeyResultType::kMetric || kr->metric_key.empty() ||
        Direction(kr->metric) == 0) {
      continue;
    }
    by_metric[kr->metric_key].push_back(kr);
  }
  for (auto& [metric, krs] : by_metric) {
    std::sort(krs.begin(), krs.end(), [](const KeyResult* a, const KeyResult* b) {
      return std::tie(a->objective_id, a->id) < std::tie(b->objective_id, b->id);
    });
    for (size_t i = 0; i < krs.size(); ++i) {
      for (size_t j = i + 1; j < krs.size(); ++j) {
        const KeyResult& a = *krs[i];
        const KeyResult& b = *krs[j];
        if (Direction(a.metric) == Direction(b.metric)) continue;
        const Objective* oa = index.FindObjective(a.objective_id);
        const Objective* ob = index.FindObjective(b.objective_id);
        if (oa == nullptr || ob == nullptr) continue;
        const Cycle* ca = index.FindCycle(oa->cycle_id);
        const Cycle* cb = index.FindCycle(ob->cycle_id);
        if (ca == nullptr || cb == nullptr) continue;
        const bool overlap = ca->start_time < cb->end_time && cb->start_time < ca->end_time;
        if (!overlap) continue;
        // Meeting an increase target needs final >= its target, a decrease target final
        // <= its target: both can be met only if the increase target is not above the
        // decrease target.
        const KeyResult& up = Direction(a.metric) > 0 ? a : b;
        const KeyResult& down = Direction(a.metric) > 0 ? b : a;
        const bool impossible = up.metric.target_value > down.metric.target_value;
        std::string message = absl::StrCat(DescribeMove(*oa, a), " while ", DescribeMove(*ob, b),
                                           " in overlapping cycles: the key results pull ",
                                           a.metric_key, " in opposite directions");
        if (impossible) {
          absl::StrAppend(&message, ", and no value can meet both targets (>= ",
                          Value(up.metric.target_value, up.metric.unit),
                          " and <= ", Value(down.metric.target_value, down.metric.unit), ")");
        }
        absl::StrAppend(&message, ". Agree on one target between ", names::Team(oa->team_id),
                        " and ", names::Team(ob->team_id), ".");
        out.push_back(MakeDraft(
            FindingCode::kContradiction,
            {ObjectiveName(*oa), ObjectiveName(*ob), names::KeyResult(a.objective_id, a.id),
             names::KeyResult(b.objective_id, b.id), names::Team(oa->team_id),
             names::Team(ob->team_id)},
            {oa, ob}, {oa, ob}, std::move(message)));
      }
    }
  }
}

absl::string_view HealthName(Health h) {
  switch (h) {
    case Health::kOnTrack:
      return "ON_TRACK";
    case Health::kAtRisk:
      return "AT_RISK";
    case Health::kOffTrack:
      return "OFF_TRACK";
    case Health::kNotStarted:
      return "NOT_STARTED";
  }
  return "HEALTH_UNSPECIFIED";
}

std::string Percent(double v) { return absl::StrCat(std::lround(v * 100), "%"); }

void CheckDependencies(const Index& index, absl::Time now, std::vector<Draft>& out) {
  struct HealthInfo {
    Health health;
    double expected;
  };
  absl::flat_hash_map<const Objective*, HealthInfo> health_cache;
  auto health_of = [&](const Objective* o) -> std::optional<HealthInfo> {
    if (auto it = health_cache.find(o); it != health_cache.end()) return it->second;
    const Cycle* c = index.FindCycle(o->cycle_id);
    if (c == nullptr) return std::nullopt;
    const double expected = ExpectedProgress(c->start_time, c->end_time, now);
    HealthInfo info{ComputeHealth(o->progress, expected, c->start_time, now), expected};
    health_cache.emplace(o, info);
    return info;
  };
  for (const auto& [id, o] : index.objectives) {
    if (o->state == ObjectiveState::kClosed || o->depends_on.empty()) continue;
    // Breadth-first over depends_on: each objective reachable through dependencies, with
    // the one it was reached through (so the message can show the chain).
    absl::flat_hash_map<const Objective*, const Objective*> via = {{o, nullptr}};
    std::deque<const Objective*> queue = {o};
    std::vector<const Objective*> reached;
    while (!queue.empty()) {
      const Objective* x = queue.front();
      queue.pop_front();
      std::vector<std::string> deps = x->depends_on;
      std::sort(deps.begin(), deps.end());
      for (const std::string& d : deps) {
        const Objective* y = index.FindObjective(d);
        if (y == nullptr || !via.emplace(y, x).second) continue;
        reached.push_back(y);
        queue.push_back(y);
      }
    }
    for (const Objective* y : reached) {
      std::optional<HealthInfo> h = health_of(y);
      if (!h.has_value() || (h->health != Health::kAtRisk && h->health != Health::kOffTrack)) {
        continue;
      }
      std::vector<std::string> chain;
      for (const Objective* z = via[y]; z != o; z = via[z]) chain.push_back(ObjectiveName(*z));
      std::reverse(chain.begin(), chain.end());
      std::string message = absl::StrCat(WithTeam(*o), " depends on ");
      if (!chain.empty()) {
        absl::StrAppend(&message, "(through ", absl::StrJoin(chain, ", "), ") ");
      }
      absl::StrAppend(&message, WithTeam(*y), ", which is ", HealthName(h->health), " (progress ",
                      Percent(y->progress), ", expected ", Percent(h->expected),
                      "): ", ObjectiveName(*o),
                      " is at risk too; talk about what can be done together.");
      out.push_back(MakeDraft(
          FindingCode::kDependencyAtRisk,
          {ObjectiveName(*o), ObjectiveName(*y), names::Team(o->team_id), names::Team(y->team_id)},
          {o, y}, {}, std::move(message)));
    }
  }
}

void CheckKeyResultShape(const Index& index, std::vector<Draft>& out) {
  for (const auto& [id, o] : index.objectives) {
    if (o->state == ObjectiveState::kClosed) continue;
    const std::vector<const KeyResult*>& krs = index.KeyResultsOf(o->id);
    if (krs.size() > kMaxKeyResultsPerObjective) {
      out.push_back(MakeDraft(
          FindingCode::kTooManyKeyResults, {ObjectiveName(*o)}, {o}, {},
          absl::StrCat(WithTeam(*o), " has ", krs.size(), " key results; focus on at most ",
                       kMaxKeyResultsPerObjective, ".")));
    }
    if (krs.empty() && o->state == ObjectiveState::kProposed) {
      out.push_back(MakeDraft(FindingCode::kNoKeyResults, {ObjectiveName(*o)}, {o}, {o},
                              absl::StrCat(WithTeam(*o),
                                           " is proposed without key results: add the "
                                           "measurable outcomes it commits to.")));
    }
    if (!krs.empty() && std::all_of(krs.begin(), krs.end(), [](const KeyResult* kr) {
          return kr->type == KeyResultType::kWorkItems;
        })) {
      out.push_back(MakeDraft(
          FindingCode::kOutputOnly, {ObjectiveName(*o)}, {o}, {},
          absl::StrCat(WithTeam(*o),
                       " is measured only by work items: that counts output, not outcome; "
                       "add a metric key result for the effect the work should have.")));
    }
  }
}

std::vector<Draft> AllFindings(const AlignmentSnapshot& snapshot) {
  const Index index = BuildIndex(snapshot);
  std::vector<Draft> drafts;
  CheckLoops(BuildGraph(index), drafts);
  CheckCycleOutsideParent(index, drafts);
  CheckOrphans(index, drafts);
  CheckContradictions(index, drafts);
  CheckDependencies(index, snapshot.now, drafts);
  CheckKeyResultShape(index, drafts);
  return drafts;
}

template <typename InScope>
std::vector<Finding> Select(std::vector<Draft> drafts, InScope in_scope) {
  std::vector<Finding> findings;
  for (Draft& d : drafts) {
    if (std::any_of(d.involved.begin(), d.involved.end(), in_scope)) {
      findings.push_back(std::move(d.finding));
    }
  }
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.code, a.subjects, a.message) < std::tie(b.code, b.subjects, b.message);
  });
  return findings;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

}  // namespace

absl::string_view FindingCodeName(FindingCode code) {
  switch (code) {
    case FindingCode::kCycleInAlignment:
      return "CYCLE_IN_ALIGNMENT";
    case FindingCode::kCycleOutsideParent:
      return "CYCLE_OUTSIDE_PARENT";
    case FindingCode::kOrphan:
      return "ORPHAN";
    case FindingCode::kContradiction:
      return "CONTRADICTION";
    case FindingCode::kDependencyAtRisk:
      return "DEPENDENCY_AT_RISK";
    case FindingCode::kTooManyKeyResults:
      return "TOO_MANY_KEY_RESULTS";
    case FindingCode::kNoKeyResults:
      return "NO_KEY_RESULTS";
    case FindingCode::kOutputOnly:
      return "OUTPUT_ONLY";
  }
  return "FINDING_CODE_UNSPECIFIED";
}

absl::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "ERROR";
    case Severity::kWarning:
      return "WARNING";
  }
  return "SEVERITY_UNSPECIFIED";
}

Severity SeverityOf(FindingCode code) {
  switch (code) {
    case FindingCode::kCycleInAlignment:
    case FindingCode::kCycleOutsideParent:
    case FindingCode::kContradiction:
    case FindingCode::kNoKeyResults:
      return Severity::kError;
    case FindingCode::kOrphan:
    case FindingCode::kDependencyAtRisk:
    case FindingCode::kTooManyKeyResults:
    case FindingCode::kOutputOnly:
      return Severity::kWarning;
  }
  return Severity::kError;
}

std::vector<Finding> CheckAlignment(const AlignmentSnapshot& snapshot, absl::string_view cycle_id,
                                    absl::string_view team_id) {
  return Select(AllFindings(snapshot), [&](const Objective* o) {
    return (cycle_id.empty() || o->cycle_id == cycle_id) &&
           (team_id.empty() || o->team_id == team_id);
  });
}

std::vector<Finding> CheckObjectiveAlignment(const AlignmentSnapshot& snapshot,
                                             absl::string_view objective_id) {
  return Select(AllFindings(snapshot), [&](const Objective* o) { return o->id == objective_id; });
}

bool BlocksAgreement(const Finding& finding, absl::string_view objective_id) {
  if (finding.severity != Severity::kError) return false;
  const std::string name = names::Objective(objective_id);
  return std::find(finding.blocks.begin(), finding.blocks.end(), name) != finding.blocks.end();
}

std::vector<std::string> TeamAncestors(const std::vector<Team>& teams, absl::string_view team_id) {
  absl::flat_hash_map<absl::string_view, const Team*> by_id;
  for (const Team& t : teams) by_id.emplace(t.id, &t);
  std::vector<std::string> ancestors;
  absl::flat_hash_set<absl::string_view> seen = {team_id};
  auto it = by_id.find(team_id);
  while (it != by_id.end() && !it->second->parent_id.empty()) {
    const std::string& parent = it->second->parent_id;
    if (!seen.insert(parent).second) break;  // a loop in the team tree
    ancestors.push_back(parent);
    it = by_id.find(parent);
  }
  return ancestors;
}

absl::Status ValidateParent(const AlignmentSnapshot& snapshot, const Objective& candidate) {
  constexpr absl::string_view kField = "objective.parent";
  if (candidate.parent_id.empty()) return absl::OkStatus();
  if (candidate.parent_id == candidate.id) {
    return absl::InvalidArgumentError("objective.parent must not be the objective itself");
  }
  const Index index = BuildIndex(snapshot, &candidate);
  const Objective* parent = index.FindObjective(candidate.parent_id);
  if (parent == nullptr) {
    return Invalid(kField, absl::StrCat(names::Objective(candidate.parent_id), " does not exist"));
  }
  if (parent->team_id == candidate.team_id) {
    const Cycle* cycle = index.FindCycle(candidate.cycle_id);
    const Cycle* parent_cycle = index.FindCycle(parent->cycle_id);
    const bool encloses =
        cycle != nullptr && parent_cycle != nullptr && parent_cycle->id != cycle->id &&
        parent_cycle->start_time <= cycle->start_time && cycle->end_time <= parent_cycle->end_time;
    if (!encloses) {
      return Invalid(kField,
                     absl::StrCat(ObjectiveName(*parent), " belongs to the same team (",
                                  names::Team(candidate.team_id), ") and its cycle ",
                                  names::Cycle(parent->cycle_id), " does not enclose ",
                                  names::Cycle(candidate.cycle_id),
                                  "; within a team align only to an objective of an enclosing "
                                  "cycle, or use contributes_to"));
    }
    return absl::OkStatus();
  }
  const std::vector<std::string> ancestors = TeamAncestors(snapshot.teams, candidate.team_id);
  if (std::find(ancestors.begin(), ancestors.end(), parent->team_id) == ancestors.end()) {
    std::vector<std::string> names_of_ancestors;
    for (const std::string& t : ancestors) names_of_ancestors.push_back(names::Team(t));
    return Invalid(
        kField,
        absl::StrCat(
            ObjectiveName(*parent), " belongs to ", names::Team(parent->team_id),
            ", which is not an ancestor of ", names::Team(candidate.team_id),
            ancestors.empty()
                ? std::string(" (it has no ancestor teams)")
                : absl::StrCat(" (its ancestors: ", absl::StrJoin(names_of_ancestors, ", "), ")"),
            "; align sideways with contributes_to instead"));
  }
  return absl::OkStatus();
}

absl::Status CheckNoAlignmentLoop(const AlignmentSnapshot& snapshot, const Objective& candidate) {
  const Index index = BuildIndex(snapshot, &candidate);
  const Graph g = BuildGraph(index);
  const int start = g.node_of.at(candidate.id);
  std::vector<PathStep> loop = ShortestLoop(g, start, [](int) { return true; });
  if (loop.empty()) return absl::OkStatus();
  // Name the candidate's own field that closes the loop: an edge into the candidate comes
  // from its parent or contributes_to, an edge out of it from its depends_on.
  absl::string_view field = "objective";
  const Edge& last = *loop.back().edge;
  if (last.kind == EdgeKind::kParent) {
    field = "objective.parent";
  } else if (last.kind == EdgeKind::kContributesTo) {
    field = "objective.contributes_to";
  } else if (loop.front().edge->kind == EdgeKind::kDependsOn) {
    field = "objective.depends_on";
  }
  return Invalid(
      field, absl::StrCat("this change would create an alignment loop: ", DescribeLoop(g, loop)));
}

absl::Status ValidateAlignmentOnWrite(const AlignmentSnapshot& snapshot,
                                      const Objective& candidate) {
  const Index index = BuildIndex(snapshot, &candidate);
  if (candidate.contributes_to.size() > kMaxAlignmentLinks) {
    return Invalid("objective.contributes_to",
                   absl::StrCat("has more than ", kMaxAlignmentLinks, " entries"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& name : candidate.contributes_to) {
    auto kr = names::ParseKeyResult(name, "objective.contributes_to");
    if (!kr.ok()) return kr.status();
    if (!seen.insert(name).second) {
      return Invalid("objective.contributes_to", absl::StrCat(name, " is listed twice"));
    }
    if (kr->objective_id == candidate.id) {
      return Invalid("objective.contributes_to",
                     absl::StrCat(name, " is a key result of this objective"));
    }
    if (index.FindKeyResult(kr->objective_id, kr->key_result_id) == nullptr) {
      return Invalid("objective.contributes_to", absl::StrCat(name, " does not exist"));
    }
  }
  if (candidate.depends_on.size() > kMaxAlignmentLinks) {
    return Invalid("objective.depends_on",
                   absl::StrCat("has more than ", kMaxAlignmentLinks, " entries"));
  }
  seen.clear();
  for (const std::string& id : candidate.depends_on) {
    if (absl::Status s = names::ValidateId(id, "objective.depends_on"); !s.ok()) return s;
    if (!seen.insert(id).second) {
      return Invalid("objective.depends_on",
                     absl::StrCat(names::Objective(id), " is listed twice"));
    }
    if (id == candidate.id) {
      return absl::InvalidArgumentError(
          "objective.depends_on must not contain the objective itself");
    }
    if (index.FindObjective(id) == nullptr) {
      return Invalid("objective.depends_on", absl::StrCat(names::Objective(id), " does not exist"));
    }
  }
  if (absl::Status s = ValidateParent(snapshot, candidate); !s.ok()) return s;
  return CheckNoAlignmentLoop(snapshot, candidate);
}

}  // namespace okr
