// get | list | create | update | delete for teams, cycles, objectives, key results,
// check-ins and work-item links (list only), API tokens, subscriptions and rules.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/okrctl/command_util.h"
#include "cli/okrctl/names.h"
#include "google/protobuf/empty.pb.h"

namespace okr::cli {

namespace {

using v1::OkrService;
using Stub = v1::OkrService::Stub;

const FlagSpec kRequestId{"request-id", "ID",
                          "idempotency key: a retry with it returns the first result"};
const FlagSpec kEtag{"etag", "ETAG", "fail with ABORTED unless this is the current etag"};

int Deleted(CommandContext& ctx, const grpc::Status& status, const std::string& name) {
  google::protobuf::Empty empty;
  return Show(ctx, status, empty, [&] { return absl::StrCat("deleted ", name, "\n"); });
}

// A command the API has no RPC for yet.
Command Unsupported(const std::string& verb, const std::string& noun, const std::string& rpc) {
  Command c;
  c.verb = verb;
  c.noun = noun;
  c.summary = absl::StrCat("not available: the API has no ", rpc, " yet");
  c.unsupported = absl::StrCat(verb, " ", noun, " is not supported: okr.v1.OkrService has no ", rpc,
                               " method yet");
  return c;
}

std::vector<std::string> NonEmpty(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

// ---- teams ----

void AddTeamCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "get", "team", "TEAM", 1, 1, "show one team");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetTeamRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), TeamName(a.positional[0]));
      v1::Team resp;
      grpc::Status s = Call(ctx, &Stub::GetTeam, req, &resp);
      return Show(ctx, s, resp, [&] { return TeamTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "team", "", 0, 0, "list teams in creation order");
    c.flags = {{"parent", "TEAM", "only the teams directly below this one"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListTeamsRequest req;
      if (a.Has("parent")) {
        OKRCTL_ASSIGN(*req.mutable_parent(), TeamName(a.Get("parent")));
      }
      v1::ListTeamsResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListTeams, req, &resp);
      return Show(ctx, s, resp, [&] { return TeamTable(resp.teams(), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "create", "team", "[ID]", 0, 1, "create a team (ADMIN)");
    c.details = "ID is generated when omitted.";
    c.flags = {{"name", "TEXT", "display name, e.g. \"Payments\""},
               {"parent", "TEAM", "the enclosing team"},
               {"jira-project", "KEY", "Jira project where rules open issues for this team"},
               {"gitlab-project", "PATH", "GitLab project where rules open issues"},
               kRequestId};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateTeamRequest req;
      if (!a.positional.empty()) req.set_team_id(a.positional[0]);
      v1::Team& t = *req.mutable_team();
      t.set_display_name(a.Get("name"));
      if (a.Has("parent")) {
        OKRCTL_ASSIGN(*t.mutable_parent(), TeamName(a.Get("parent")));
      }
      t.set_jira_project_key(a.Get("jira-project"));
      t.set_gitlab_project(a.Get("gitlab-project"));
      req.set_request_id(a.Get("request-id"));
      v1::Team resp;
      grpc::Status s = Call(ctx, &Stub::CreateTeam, req, &resp);
      return Show(ctx, s, resp, [&] { return TeamTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c =
        Add(cs, "update", "team", "TEAM", 1, 1, "change the fields given as flags (ADMIN)");
    c.details = "Only the flags given are sent (as the update_mask).";
    c.flags = {{"name", "TEXT", "display name"},
               {"parent", "TEAM", "the enclosing team (\"\" for none: a root)"},
               {"jira-project", "KEY", "Jira project where rules open issues (\"\" for none)"},
               {"gitlab-project", "PATH", "GitLab project where rules open issues (\"\" for none)"},
               kEtag};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UpdateTeamRequest req;
      v1::Team& t = *req.mutable_team();
      OKRCTL_ASSIGN(*t.mutable_name(), TeamName(a.positional[0]));
      std::vector<std::string> mask;
      if (a.Has("name")) t.set_display_name(a.Get("name")), mask.push_back("display_name");
      if (a.Has("parent")) {
        if (!a.Get("parent").empty()) {
          OKRCTL_ASSIGN(*t.mutable_parent(), TeamName(a.Get("parent")));
        }
        mask.push_back("parent");
      }
      if (a.Has("jira-project")) {
        t.set_jira_project_key(a.Get("jira-project"));
        mask.push_back("jira_project_key");
      }
      if (a.Has("gitlab-project")) {
        t.set_gitlab_project(a.Get("gitlab-project"));
        mask.push_back("gitlab_project");
      }
      if (mask.empty()) return UsageError(ctx, "nothing to update: give a field flag");
      for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
      t.set_etag(a.Get("etag"));
      v1::Team resp;
      grpc::Status s = Call(ctx, &Stub::UpdateTeam, req, &resp);
      return Show(ctx, s, resp, [&] { return TeamTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "delete", "team", "TEAM", 1, 1, "delete a team (ADMIN)");
    c.details =
        "Refused (FAILED_PRECONDITION) while objectives or sub-teams refer to it, unless\n"
        "--force.";
    c.flags = {{"force", "", "also delete its objectives; its sub-teams move up to its parent"},
               kEtag};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteTeamRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), TeamName(a.positional[0]));
      req.set_force(a.Has("force"));
      req.set_etag(a.Get("etag"));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteTeam, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
}

// ---- cycles ----

void AddCycleCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "get", "cycle", "CYCLE", 1, 1, "show one cycle");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetCycleRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), CycleName(a.positional[0]));
      v1::Cycle resp;
      grpc::Status s = Call(ctx, &Stub::GetCycle, req, &resp);
      return Show(ctx, s, resp, [&] { return CycleTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "cycle", "", 0, 0, "list cycles in creation order");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListCyclesResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListCycles, v1::ListCyclesRequest(), &resp);
      return Show(ctx, s, resp, [&] { return CycleTable(resp.cycles(), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "create", "cycle", "[ID]", 0, 1,
                     "create a cycle, a time box such as a quarter (ADMIN)");
    c.details =
        "Times are dates (2026-10-01, midnight UTC) or RFC 3339 times; the end is "
        "exclusive.";
    c.flags = {{"name", "TEXT", "display name, e.g. \"2026 Q4\""},
               {"start", "TIME", "start of the cycle (inclusive)"},
               {"end", "TIME", "end of the cycle"},
               kRequestId};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateCycleRequest req;
      if (!a.positional.empty()) req.set_cycle_id(a.positional[0]);
      v1::Cycle& c = *req.mutable_cycle();
      c.set_display_name(a.Get("name"));
      if (!a.Has("start") || !a.Has("end")) {
        return UsageError(ctx, "--start and --end are required");
      }
      OKRCTL_ASSIGN(*c.mutable_start_time(), ParseTimestamp(a.Get("start"), "--start"));
      OKRCTL_ASSIGN(*c.mutable_end_time(), ParseTimestamp(a.Get("end"), "--end"));
      req.set_request_id(a.Get("request-id"));
      v1::Cycle resp;
      grpc::Status s = Call(ctx, &Stub::CreateCycle, req, &resp);
      return Show(ctx, s, resp, [&] { return CycleTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c =
        Add(cs, "update", "cycle", "CYCLE", 1, 1, "change the fields given as flags (ADMIN)");
    c.details =
        "Only the flags given are sent (as the update_mask); the cycle must still end after "
        "it\nstarts. Times are dates (2026-10-01, midnight UTC) or RFC 3339 times.";
    c.flags = {{"name", "TEXT", "display name"},
               {"start", "TIME", "start of the cycle (inclusive)"},
               {"end", "TIME", "end of the cycle"},
               kEtag};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UpdateCycleRequest req;
      v1::Cycle& c = *req.mutable_cycle();
      OKRCTL_ASSIGN(*c.mutable_name(), CycleName(a.positional[0]));
      std::vector<std::string> mask;
      if (a.Has("name")) c.set_display_name(a.Get("name")), mask.push_back("display_name");
      if (a.Has("start")) {
        OKRCTL_ASSIGN(*c.mutable_start_time(), ParseTimestamp(a.Get("start"), "--start"));
        mask.push_back("start_time");
      }
      if (a.Has("end")) {
        OKRCTL_ASSIGN(*c.mutable_end_time(), ParseTimestamp(a.Get("end"), "--end"));
        mask.push_back("end_time");
      }
      if (mask.empty()) return UsageError(ctx, "nothing to update: give a field flag");
      for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
      c.set_etag(a.Get("etag"));
      v1::Cycle resp;
      grpc::Status s = Call(ctx, &Stub::UpdateCycle, req, &resp);
      return Show(ctx, s, resp, [&] { return CycleTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "delete", "cycle", "CYCLE", 1, 1, "delete a cycle (ADMIN)");
    c.details = "Refused (FAILED_PRECONDITION) while objectives refer to it, unless --force.";
    c.flags = {{"force", "", "also delete its objectives (with their key results)"}, kEtag};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteCycleRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), CycleName(a.positional[0]));
      req.set_force(a.Has("force"));
      req.set_etag(a.Get("etag"));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteCycle, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
}

// ---- objectives ----

const std::vector<FlagSpec> kObjectiveFields = {
    {"title", "TEXT", "short statement of the goal"},
    {"description", "TEXT", "longer description"},
    {"team", "TEAM", "owning team"},
    {"cycle", "CYCLE", "the cycle"},
    {"parent", "OBJECTIVE", "objective this one aligns to (\"\" for none)"},
    {"kind", "KIND", "committed (default) or aspirational"},
    {"weight", "W", "weight in the parent's progress (default 1)"},
    {"progress-source", "SOURCE", "key-results (default) or key-results-and-children"},
    {"contributes-to", "KEY_RESULT", "a key result of another team this contributes to", true},
    {"depends-on", "OBJECTIVE", "an objective this one depends on", true},
};

// Applies the objective flags that are present to `o`, adding each to `mask`.
absl::Status ApplyObjectiveFlags(const ParsedArgs& a, v1::Objective& o,
                                 std::vector<std::string>& mask) {
  if (a.Has("title")) o.set_title(a.Get("title")), mask.push_back("title");
  if (a.Has("description")) o.set_description(a.Get("description")), mask.push_back("description");
  if (a.Has("team")) {
    absl::StatusOr<std::string> n = TeamName(a.Get("team"));
    if (!n.ok()) return n.status();
    o.set_team(*n);
    mask.push_back("team");
  }
  if (a.Has("cycle")) {
    absl::StatusOr<std::string> n = CycleName(a.Get("cycle"));
    if (!n.ok()) return n.status();
    o.set_cycle(*n);
    mask.push_back("cycle");
  }
  if (a.Has("parent")) {
    if (!a.Get("parent").empty()) {
      absl::StatusOr<std::string> n = ObjectiveName(a.Get("parent"));
      if (!n.ok()) return n.status();
      o.set_parent(*n);
    }
    mask.push_back("parent");
  }
  if (a.Has("kind")) {
    absl::StatusOr<int> k = EnumValue(v1::ObjectiveKind_descriptor(), a.Get("kind"), "--kind");
    if (!k.ok()) return k.status();
    o.set_kind(static_cast<v1::ObjectiveKind>(*k));
    mask.push_back("kind");
  }
  if (a.Has("weight")) {
    absl::StatusOr<double> w = ParseDouble(a.Get("weight"), "--weight");
    if (!w.ok()) return w.status();
    o.set_weight(*w);
    mask.push_back("weight");
  }
  if (a.Has("progress-source")) {
    absl::StatusOr<int> p =
        EnumValue(v1::ProgressSource_descriptor(), a.Get("progress-source"), "--progress-source");
    if (!p.ok()) return p.status();
    o.set_progress_source(static_cast<v1::ProgressSource>(*p));
    mask.push_back("progress_source");
  }
  if (a.Has("contributes-to")) {
    for (const std::string& kr : NonEmpty(a.GetAll("contributes-to"))) {
      absl::StatusOr<std::string> n = KeyResultName(kr);
      if (!n.ok()) return n.status();
      o.add_contributes_to(*n);
    }
    mask.push_back("contributes_to");
  }
  if (a.Has("depends-on")) {
    for (const std::string& d : NonEmpty(a.GetAll("depends-on"))) {
      absl::StatusOr<std::string> n = ObjectiveName(d);
      if (!n.ok()) return n.status();
      o.add_depends_on(*n);
    }
    mask.push_back("depends_on");
  }
  return absl::OkStatus();
}

void AddObjectiveCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "get", "objective", "OBJECTIVE", 1, 1,
                     "show one objective with its progress, expected progress and health");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      v1::Objective resp;
      grpc::Status s = Call(ctx, &Stub::GetObjective, req, &resp);
      return Show(ctx, s, resp, [&] { return ObjectiveTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "objective", "", 0, 0, "list objectives");
    c.flags = {{"team", "TEAM", "only this team's objectives"},
               {"cycle", "CYCLE", "only objectives of this cycle"},
               {"parent", "OBJECTIVE", "only objectives aligned to this one"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListObjectivesRequest req;
      if (a.Has("team")) {
        OKRCTL_ASSIGN(*req.mutable_team(), TeamName(a.Get("team")));
      }
      if (a.Has("cycle")) {
        OKRCTL_ASSIGN(*req.mutable_cycle(), CycleName(a.Get("cycle")));
      }
      if (a.Has("parent")) {
        OKRCTL_ASSIGN(*req.mutable_parent(), ObjectiveName(a.Get("parent")));
      }
      v1::ListObjectivesResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListObjectives, req, &resp);
      return Show(ctx, s, resp,
                  [&] { return ObjectiveTable(resp.objectives(), ctx.printer.colour()); });
    };
  }
  std::vector<FlagSpec> create_flags = kObjectiveFields;
  create_flags.push_back(kRequestId);
  {
    Command& c =
        Add(cs, "create", "objective", "[ID]", 0, 1, "create an objective (in state DRAFT)");
    c.details = "--team, --cycle and --title are required; ID is generated when omitted.";
    c.flags = create_flags;
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateObjectiveRequest req;
      if (!a.positional.empty()) req.set_objective_id(a.positional[0]);
      std::vector<std::string> mask;
      if (absl::Status st = ApplyObjectiveFlags(a, *req.mutable_objective(), mask); !st.ok()) {
        return UsageError(ctx, st);
      }
      req.set_request_id(a.Get("request-id"));
      v1::Objective resp;
      grpc::Status s = Call(ctx, &Stub::CreateObjective, req, &resp);
      return Show(ctx, s, resp, [&] { return ObjectiveTable(One(resp), ctx.printer.colour()); });
    };
  }
  std::vector<FlagSpec> update_flags = kObjectiveFields;
  update_flags.push_back(kEtag);
  update_flags.push_back(
      {"reopen", "",
       "allow editing the title or parent of an AGREED objective (back to PROPOSED)"});
  update_flags.push_back(kRequestId);
  {
    Command& c =
        Add(cs, "update", "objective", "OBJECTIVE", 1, 1, "change the fields given as flags");
    c.details = "Only the flags given are sent (as the update_mask).";
    c.flags = update_flags;
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UpdateObjectiveRequest req;
      v1::Objective& o = *req.mutable_objective();
      OKRCTL_ASSIGN(*o.mutable_name(), ObjectiveName(a.positional[0]));
      std::vector<std::string> mask;
      if (absl::Status st = ApplyObjectiveFlags(a, o, mask); !st.ok()) {
        return UsageError(ctx, st);
      }
      if (mask.empty()) return UsageError(ctx, "nothing to update: give a field flag");
      for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
      o.set_etag(a.Get("etag"));
      req.set_reopen(a.Has("reopen"));
      req.set_request_id(a.Get("request-id"));
      v1::Objective resp;
      grpc::Status s = Call(ctx, &Stub::UpdateObjective, req, &resp);
      return Show(ctx, s, resp, [&] { return ObjectiveTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "delete", "objective", "OBJECTIVE", 1, 1, "delete an objective");
    c.flags = {{"force", "", "also delete its key results (with their check-ins and links)"},
               kEtag};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      req.set_force(a.Has("force"));
      req.set_etag(a.Get("etag"));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteObjective, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
}

// ---- key results, check-ins, links ----

absl::Status ApplyKeyResultFlags(const ParsedArgs& a, v1::KeyResult& kr,
                                 std::vector<std::string>& mask) {
  if (a.Has("title")) kr.set_title(a.Get("title")), mask.push_back("title");
  if (a.Has("weight")) {
    absl::StatusOr<double> w = ParseDouble(a.Get("weight"), "--weight");
    if (!w.ok()) return w.status();
    kr.set_weight(*w);
    mask.push_back("weight");
  }
  struct MetricNumber {
    const char* flag;
    const char* path;
    void (v1::MetricKeyResult::*set)(double);
  };
  for (const MetricNumber& m :
       {MetricNumber{"start", "metric.start_value", &v1::MetricKeyResult::set_start_value},
        MetricNumber{"target", "metric.target_value", &v1::MetricKeyResult::set_target_value},
        MetricNumber{"current", "metric.current_value", &v1::MetricKeyResult::set_current_value}}) {
    if (!a.Has(m.flag)) continue;
    absl::StatusOr<double> v = ParseDouble(a.Get(m.flag), absl::StrCat("--", m.flag));
    if (!v.ok()) return v.status();
    (kr.mutable_metric()->*m.set)(*v);
    mask.push_back(m.path);
  }
  if (a.Has("unit")) kr.mutable_metric()->set_unit(a.Get("unit")), mask.push_back("metric.unit");
  if (a.Has("metric-key")) {
    kr.mutable_metric()->set_metric_key(a.Get("metric-key"));
    mask.push_back("metric.metric_key");
  }
  if (a.Has("done")) {
    absl::StatusOr<bool> d = ParseBool(a.Get("done"), "--done");
    if (!d.ok()) return d.status();
    kr.mutable_milestone()->set_done(*d);
    mask.push_back("milestone.done");
  }
  if (a.Has("jql")) {
    kr.mutable_work_items()->set_jira_jql(a.Get("jql"));
    mask.push_back("work_items.jira_jql");
  }
  if (a.Has("gitlab-project")) {
    kr.mutable_work_items()->set_gitlab_project(a.Get("gitlab-project"));
    mask.push_back("work_items.gitlab_project");
  }
  if (a.Has("gitlab-label")) {
    for (const std::string& l : NonEmpty(a.GetAll("gitlab-label"))) {
      kr.mutable_work_items()->add_gitlab_labels(l);
    }
    mask.push_back("work_items.gitlab_labels");
  }
  if (a.Has("gitlab-milestone")) {
    kr.mutable_work_items()->set_gitlab_milestone(a.Get("gitlab-milestone"));
    mask.push_back("work_items.gitlab_milestone");
  }
  return absl::OkStatus();
}

// --metric START:TARGET[:UNIT]
absl::Status ParseMetric(const std::string& text, v1::MetricKeyResult& m) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 2));
  if (parts.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metric must be START:TARGET[:UNIT], not \"", text, "\""));
  }
  absl::StatusOr<double> start = ParseDouble(parts[0], "--metric START");
  if (!start.ok()) return start.status();
  absl::StatusOr<double> target = ParseDouble(parts[1], "--metric TARGET");
  if (!target.ok()) return target.status();
  m.set_start_value(*start);
  m.set_target_value(*target);
  if (parts.size() == 3) m.set_unit(parts[2]);
  return absl::OkStatus();
}

const std::vector<FlagSpec> kKeyResultScopeFlags = {
    {"metric-key", "KEY", "metric: name of the metric moved, e.g. checkout.conversion"},
    {"jql", "JQL", "work items: Jira issues matching this JQL are linked and kept current"},
    {"gitlab-project", "PATH", "work items: GitLab project whose labelled issues are linked"},
    {"gitlab-label", "LABEL", "work items: a label the GitLab issues must carry", true},
    {"gitlab-milestone", "TITLE", "work items: GitLab milestone the issues must be in"},
};

void AddKeyResultCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "get", "keyresult", "KEY_RESULT", 1, 1,
                     "show one key result (objectives/O/keyResults/K or O/K)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetKeyResultRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), KeyResultName(a.positional[0]));
      v1::KeyResult resp;
      grpc::Status s = Call(ctx, &Stub::GetKeyResult, req, &resp);
      return Show(ctx, s, resp, [&] { return KeyResultTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c =
        Add(cs, "list", "keyresult", "OBJECTIVE", 1, 1, "list the key results of an objective");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListKeyResultsRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), ObjectiveName(a.positional[0]));
      v1::ListKeyResultsResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListKeyResults, req, &resp);
      return Show(ctx, s, resp,
                  [&] { return KeyResultTable(resp.key_results(), ctx.printer.colour()); });
    };
  }
  std::vector<FlagSpec> create_flags = {
      {"title", "TEXT", "what is measured"},
      {"metric", "START:TARGET[:UNIT]", "a metric moving from START to TARGET, e.g. 40:20:%"},
      {"milestone", "", "a milestone: done or not"},
      {"work-items", "", "progress from linked tracker items (okrctl link)"},
      {"weight", "W", "weight in the objective's progress (default 1)"}};
  create_flags.insert(create_flags.end(), kKeyResultScopeFlags.begin(), kKeyResultScopeFlags.end());
  create_flags.push_back(kRequestId);
  {
    Command& c = Add(cs, "create", "keyresult", "OBJECTIVE [ID]", 1, 2,
                     "create a key result under an objective");
    c.details =
        "Exactly one of --metric, --milestone or --work-items; ID is generated when "
        "omitted.";
    c.flags = create_flags;
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateKeyResultRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), ObjectiveName(a.positional[0]));
      if (a.positional.size() > 1) req.set_key_result_id(a.positional[1]);
      const int kinds = a.Has("metric") + a.Has("milestone") + a.Has("work-items");
      if (kinds != 1) {
        return UsageError(ctx, "give exactly one of --metric, --milestone, --work-items");
      }
      v1::KeyResult& kr = *req.mutable_key_result();
      if (a.Has("metric")) {
        if (absl::Status st = ParseMetric(a.Get("metric"), *kr.mutable_metric()); !st.ok()) {
          return UsageError(ctx, st);
        }
      } else if (a.Has("milestone")) {
        kr.mutable_milestone();
      } else {
        kr.mutable_work_items();
      }
      std::vector<std::string> mask;
      if (absl::Status st = ApplyKeyResultFlags(a, kr, mask); !st.ok()) {
        return UsageError(ctx, st);
      }
      if (kr.measure_case() == v1::KeyResult::kWorkItems && !a.Has("work-items")) {
        return UsageError(ctx, "--jql and --gitlab-* need --work-items");
      }
      if (kr.measure_case() == v1::KeyResult::kMetric && !a.Has("metric")) {
        return UsageError(ctx, "--metric-key needs --metric");
      }
      req.set_request_id(a.Get("request-id"));
      v1::KeyResult resp;
      grpc::Status s = Call(ctx, &Stub::CreateKeyResult, req, &resp);
      return Show(ctx, s, resp, [&] { return KeyResultTable(One(resp), ctx.printer.colour()); });
    };
  }
  std::vector<FlagSpec> update_flags = {
      {"title", "TEXT", "what is measured"},
      {"weight", "W", "weight in the objective's progress"},
      {"start", "N", "metric: start value"},
      {"target", "N", "metric: target value"},
      {"current", "N", "metric: current value (a check-in records it with history)"},
      {"unit", "TEXT", "metric: unit"},
      {"done", "BOOL", "milestone: true or false"}};
  update_flags.insert(update_flags.end(), kKeyResultScopeFlags.begin(), kKeyResultScopeFlags.end());
  update_flags.push_back(kEtag);
  update_flags.push_back(
      {"reopen", "", "allow changing targets of an AGREED objective's key result"});
  update_flags.push_back(kRequestId);
  {
    Command& c =
        Add(cs, "update", "keyresult", "KEY_RESULT", 1, 1, "change the fields given as flags");
    c.details = "Only the flags given are sent (as the update_mask); the kind cannot change.";
    c.flags = update_flags;
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UpdateKeyResultRequest req;
      v1::KeyResult& kr = *req.mutable_key_result();
      OKRCTL_ASSIGN(*kr.mutable_name(), KeyResultName(a.positional[0]));
      std::vector<std::string> mask;
      if (absl::Status st = ApplyKeyResultFlags(a, kr, mask); !st.ok()) {
        return UsageError(ctx, st);
      }
      if (mask.empty()) return UsageError(ctx, "nothing to update: give a field flag");
      for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
      kr.set_etag(a.Get("etag"));
      req.set_reopen(a.Has("reopen"));
      req.set_request_id(a.Get("request-id"));
      v1::KeyResult resp;
      grpc::Status s = Call(ctx, &Stub::UpdateKeyResult, req, &resp);
      return Show(ctx, s, resp, [&] { return KeyResultTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "delete", "keyresult", "KEY_RESULT", 1, 1,
                     "delete a key result with its check-ins and links");
    c.flags = {kEtag};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteKeyResultRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), KeyResultName(a.positional[0]));
      req.set_etag(a.Get("etag"));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteKeyResult, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
  {
    Command& c = Add(cs, "get", "checkin", "CHECK_IN", 1, 1,
                     "show one check-in (objectives/O/keyResults/K/checkIns/C or O/K/C)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetCheckInRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), CheckInName(a.positional[0]));
      v1::CheckIn resp;
      grpc::Status s = Call(ctx, &Stub::GetCheckIn, req, &resp);
      return Show(ctx, s, resp, [&] { return CheckInTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "checkin", "KEY_RESULT", 1, 1,
                     "list the check-ins of a key result, oldest first");
    c.details = "Record one with `okrctl checkin`.";
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListCheckInsRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), KeyResultName(a.positional[0]));
      v1::ListCheckInsResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListCheckIns, req, &resp);
      return Show(ctx, s, resp,
                  [&] { return CheckInTable(resp.check_ins(), ctx.printer.colour()); });
    };
  }
  {
    Command& c =
        Add(cs, "list", "link", "KEY_RESULT", 1, 1, "list the work item links of a key result");
    c.details = "Add one with `okrctl link`.";
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListWorkItemLinksRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), KeyResultName(a.positional[0]));
      v1::ListWorkItemLinksResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListWorkItemLinks, req, &resp);
      return Show(ctx, s, resp,
                  [&] { return LinkTable(resp.work_item_links(), ctx.printer.colour()); });
    };
  }
}

// ---- tokens ----

void AddTokenCommands(std::vector<Command>& cs) {
  {
    Command& c =
        Add(cs, "get", "token", "TOKEN", 1, 1, "show one API token (ADMIN; never its secret)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetApiTokenRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), TokenName(a.positional[0]));
      v1::ApiToken resp;
      grpc::Status s = Call(ctx, &Stub::GetApiToken, req, &resp);
      return Show(ctx, s, resp, [&] { return TokenTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "token", "", 0, 0, "list API tokens (ADMIN)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListApiTokensResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListApiTokens, v1::ListApiTokensRequest(), &resp);
      return Show(ctx, s, resp,
                  [&] { return TokenTable(resp.api_tokens(), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "create", "token", "[ID]", 0, 1,
                     "create an API token and print its secret, once (ADMIN)");
    c.details = "Send the secret as --token or OKR_TOKEN. It is never shown again.";
    c.flags = {{"name", "TEXT", "who or what acts with it, e.g. \"Ada Lovelace\""},
               {"role", "ROLE", "VIEWER, EDITOR or ADMIN"},
               {"team", "TEAM",
                "EDITOR: a team (with every team below it) it may write; "
                "none: all teams",
                true}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateApiTokenRequest req;
      if (!a.positional.empty()) req.set_api_token_id(a.positional[0]);
      v1::ApiToken& t = *req.mutable_api_token();
      t.set_display_name(a.Get("name"));
      if (!a.Has("role")) return UsageError(ctx, "--role is required");
      OKRCTL_ASSIGN(int role, EnumValue(v1::Role_descriptor(), a.Get("role"), "--role"));
      t.set_role(static_cast<v1::Role>(role));
      for (const std::string& team : a.GetAll("team")) {
        OKRCTL_ASSIGN(*t.add_teams(), TeamName(team));
      }
      v1::ApiToken resp;
      grpc::Status s = Call(ctx, &Stub::CreateApiToken, req, &resp);
      return Show(ctx, s, resp, [&] { return TokenTable(One(resp), ctx.printer.colour()); });
    };
  }
  cs.push_back(Unsupported("update", "token", "UpdateApiToken"));
  {
    Command& c = Add(cs, "delete", "token", "TOKEN", 1, 1, "revoke an API token at once (ADMIN)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteApiTokenRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), TokenName(a.positional[0]));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteApiToken, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
}

// ---- subscriptions ----

const std::vector<FlagSpec> kEventFilterFlags = {
    {"objective", "OBJECTIVE", "events of this objective and everything below it"},
    {"team", "TEAM", "events of this team"},
    {"cycle", "CYCLE", "events of this cycle"},
    {"type", "EVENT_TYPE", "e.g. HEALTH_CHANGED", true}};

bool HasEventFilterFlag(const ParsedArgs& a) {
  for (const FlagSpec& f : kEventFilterFlags) {
    if (a.Has(f.name)) return true;
  }
  return false;
}

absl::Status ApplyEventFilter(const ParsedArgs& a, v1::EventFilter& f) {
  if (a.Has("objective")) {
    absl::StatusOr<std::string> n = ObjectiveName(a.Get("objective"));
    if (!n.ok()) return n.status();
    f.set_objective(*n);
  }
  if (a.Has("team")) {
    absl::StatusOr<std::string> n = TeamName(a.Get("team"));
    if (!n.ok()) return n.status();
    f.set_team(*n);
  }
  if (a.Has("cycle")) {
    absl::StatusOr<std::string> n = CycleName(a.Get("cycle"));
    if (!n.ok()) return n.status();
    f.set_cycle(*n);
  }
  for (const std::string& t : a.GetAll("type")) {
    absl::StatusOr<int> v = EnumValue(v1::EventType_descriptor(), t, "--type");
    if (!v.ok()) return v.status();
    f.add_event_types(static_cast<v1::EventType>(*v));
  }
  return absl::OkStatus();
}

void AddSubscriptionCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "get", "subscription", "SUBSCRIPTION", 1, 1,
                     "show one webhook subscription (ADMIN)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetSubscriptionRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), SubscriptionName(a.positional[0]));
      v1::Subscription resp;
      grpc::Status s = Call(ctx, &Stub::GetSubscription, req, &resp);
      return Show(ctx, s, resp, [&] { return SubscriptionTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "subscription", "", 0, 0, "list webhook subscriptions (ADMIN)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListSubscriptionsResponse resp;
      grpc::Status s =
          ListAll(ctx, &Stub::ListSubscriptions, v1::ListSubscriptionsRequest(), &resp);
      return Show(ctx, s, resp,
                  [&] { return SubscriptionTable(resp.subscriptions(), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "create", "subscription", "[ID]", 0, 1,
                     "POST matching events as signed JSON to a URL (ADMIN)");
    c.details = "Every filter flag given must match; none: every event.";
    c.flags = {{"url", "URL", "http:// or https:// URL receiving the POSTs"},
               {"secret", "TEXT", "HMAC key for X-OKR-Signature (16-1024 characters)"}};
    c.flags.insert(c.flags.end(), kEventFilterFlags.begin(), kEventFilterFlags.end());
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateSubscriptionRequest req;
      if (!a.positional.empty()) req.set_subscription_id(a.positional[0]);
      v1::Subscription& sub = *req.mutable_subscription();
      sub.set_target_url(a.Get("url"));
      sub.set_secret(a.Get("secret"));
      if (absl::Status st = ApplyEventFilter(a, *sub.mutable_filter()); !st.ok()) {
        return UsageError(ctx, st);
      }
      v1::Subscription resp;
      grpc::Status s = Call(ctx, &Stub::CreateSubscription, req, &resp);
      return Show(ctx, s, resp, [&] { return SubscriptionTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "update", "subscription", "SUBSCRIPTION", 1, 1,
                     "change the fields given as flags (ADMIN)");
    c.details =
        "Only the flags given are sent (as the update_mask). The filter flags replace the\n"
        "whole filter (those not given no longer filter); --every-event clears it. The\n"
        "delivery state (cursor, errors) is kept.";
    c.flags = {{"url", "URL", "http:// or https:// URL receiving the POSTs"},
               {"secret", "TEXT", "new HMAC key for X-OKR-Signature (16-1024 characters)"}};
    c.flags.insert(c.flags.end(), kEventFilterFlags.begin(), kEventFilterFlags.end());
    c.flags.push_back({"every-event", "", "clear the filter: every event matches"});
    c.flags.push_back(kEtag);
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UpdateSubscriptionRequest req;
      v1::Subscription& sub = *req.mutable_subscription();
      OKRCTL_ASSIGN(*sub.mutable_name(), SubscriptionName(a.positional[0]));
      std::vector<std::string> mask;
      if (a.Has("url")) sub.set_target_url(a.Get("url")), mask.push_back("target_url");
      if (a.Has("secret")) sub.set_secret(a.Get("secret")), mask.push_back("secret");
      if (a.Has("every-event") && HasEventFilterFlag(a)) {
        return UsageError(ctx, "--every-event and a filter flag exclude each other");
      }
      if (a.Has("every-event") || HasEventFilterFlag(a)) {
        if (absl::Status st = ApplyEventFilter(a, *sub.mutable_filter()); !st.ok()) {
          return UsageError(ctx, st);
        }
        mask.push_back("filter");
      }
      if (mask.empty()) return UsageError(ctx, "nothing to update: give a field flag");
      for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
      sub.set_etag(a.Get("etag"));
      v1::Subscription resp;
      grpc::Status s = Call(ctx, &Stub::UpdateSubscription, req, &resp);
      return Show(ctx, s, resp, [&] { return SubscriptionTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "delete", "subscription", "SUBSCRIPTION", 1, 1,
                     "delete a webhook subscription (ADMIN)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteSubscriptionRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), SubscriptionName(a.positional[0]));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteSubscription, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
}

// ---- rules ----

const std::vector<FlagSpec> kRuleConditionFlags = {
    {"condition", "TYPE", "when the rule fires"},
    {"threshold", "X", "behind-pace / low-confidence: in (0, 1]"},
    {"days", "N", "no-check-in: 1-366"}};

const std::vector<FlagSpec> kRuleActionFlags = {
    {"action", "TYPE", "what it does when it fires (default emit-event)"},
    {"subscription", "SUBSCRIPTION", "call-subscription: the subscription to call"},
    {"tracker", "TRACKER", "open-issue: jira or gitlab"}};

// --condition (required), --threshold, --days.
absl::Status ApplyRuleCondition(const ParsedArgs& a, v1::RuleCondition& c) {
  if (!a.Has("condition")) return absl::InvalidArgumentError("--condition is required");
  absl::StatusOr<int> type =
      EnumValue(v1::RuleConditionType_descriptor(), a.Get("condition"), "--condition");
  if (!type.ok()) return type.status();
  c.set_type(static_cast<v1::RuleConditionType>(*type));
  if (a.Has("threshold")) {
    absl::StatusOr<double> t = ParseDouble(a.Get("threshold"), "--threshold");
    if (!t.ok()) return t.status();
    c.set_threshold(*t);
  }
  if (a.Has("days")) {
    absl::StatusOr<int> d = ParseInt(a.Get("days"), "--days");
    if (!d.ok()) return d.status();
    c.set_days(*d);
  }
  return absl::OkStatus();
}

// --action (default emit-event), --subscription, --tracker.
absl::Status ApplyRuleAction(const ParsedArgs& a, v1::RuleAction& r) {
  absl::StatusOr<int> type =
      EnumValue(v1::RuleActionType_descriptor(), a.Get("action", "emit-event"), "--action");
  if (!type.ok()) return type.status();
  r.set_type(static_cast<v1::RuleActionType>(*type));
  if (a.Has("subscription")) {
    absl::StatusOr<std::string> n = SubscriptionName(a.Get("subscription"));
    if (!n.ok()) return n.status();
    r.set_subscription(*n);
  }
  if (a.Has("tracker")) {
    absl::StatusOr<int> t = EnumValue(v1::Tracker_descriptor(), a.Get("tracker"), "--tracker");
    if (!t.ok()) return t.status();
    r.set_tracker(static_cast<v1::Tracker>(*t));
  }
  return absl::OkStatus();
}

void AddRuleCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "get", "rule", "RULE", 1, 1, "show one rule");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::GetRuleRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), RuleName(a.positional[0]));
      v1::Rule resp;
      grpc::Status s = Call(ctx, &Stub::GetRule, req, &resp);
      return Show(ctx, s, resp, [&] { return RuleTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "list", "rule", "", 0, 0, "list rules");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListRulesResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListRules, v1::ListRulesRequest(), &resp);
      return Show(ctx, s, resp, [&] { return RuleTable(resp.rules(), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "create", "rule", "[ID]", 0, 1,
                     "make key results of an objective or team trigger an action (ADMIN)");
    c.details =
        "Conditions: health-at-risk, behind-pace --threshold X, low-confidence --threshold X,\n"
        "no-check-in --days N. Actions: emit-event (default), call-subscription --subscription S,\n"
        "open-issue --tracker jira|gitlab.";
    c.flags = {{"objective", "OBJECTIVE", "the key results of this objective"},
               {"team", "TEAM", "the key results of this team's objectives"}};
    c.flags.insert(c.flags.end(), kRuleConditionFlags.begin(), kRuleConditionFlags.end());
    c.flags.insert(c.flags.end(), kRuleActionFlags.begin(), kRuleActionFlags.end());
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateRuleRequest req;
      if (!a.positional.empty()) req.set_rule_id(a.positional[0]);
      v1::Rule& r = *req.mutable_rule();
      if (a.Has("objective") == a.Has("team")) {
        return UsageError(ctx, "give one of --objective or --team");
      }
      if (a.Has("objective")) {
        OKRCTL_ASSIGN(*r.mutable_parent(), ObjectiveName(a.Get("objective")));
      } else {
        OKRCTL_ASSIGN(*r.mutable_parent(), TeamName(a.Get("team")));
      }
      if (absl::Status st = ApplyRuleCondition(a, *r.mutable_condition()); !st.ok()) {
        return UsageError(ctx, st);
      }
      if (absl::Status st = ApplyRuleAction(a, *r.mutable_action()); !st.ok()) {
        return UsageError(ctx, st);
      }
      v1::Rule resp;
      grpc::Status s = Call(ctx, &Stub::CreateRule, req, &resp);
      return Show(ctx, s, resp, [&] { return RuleTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "update", "rule", "RULE", 1, 1, "change its condition or action (ADMIN)");
    c.details =
        "The condition and the action are each replaced as a whole: --threshold and --days\n"
        "need --condition, --subscription and --tracker need --action. The parent cannot\n"
        "change.";
    c.flags = kRuleConditionFlags;
    c.flags.push_back({"action", "TYPE", "what it does when it fires"});
    c.flags.insert(c.flags.end(), kRuleActionFlags.begin() + 1, kRuleActionFlags.end());
    c.flags.push_back(kEtag);
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UpdateRuleRequest req;
      v1::Rule& r = *req.mutable_rule();
      OKRCTL_ASSIGN(*r.mutable_name(), RuleName(a.positional[0]));
      std::vector<std::string> mask;
      if (a.Has("condition") || a.Has("threshold") || a.Has("days")) {
        if (!a.Has("condition")) return UsageError(ctx, "--threshold and --days need --condition");
        if (absl::Status st = ApplyRuleCondition(a, *r.mutable_condition()); !st.ok()) {
          return UsageError(ctx, st);
        }
        mask.push_back("condition");
      }
      if (a.Has("action") || a.Has("subscription") || a.Has("tracker")) {
        if (!a.Has("action")) return UsageError(ctx, "--subscription and --tracker need --action");
        if (absl::Status st = ApplyRuleAction(a, *r.mutable_action()); !st.ok()) {
          return UsageError(ctx, st);
        }
        mask.push_back("action");
      }
      if (mask.empty()) return UsageError(ctx, "nothing to update: give a field flag");
      for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
      r.set_etag(a.Get("etag"));
      v1::Rule resp;
      grpc::Status s = Call(ctx, &Stub::UpdateRule, req, &resp);
      return Show(ctx, s, resp, [&] { return RuleTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "delete", "rule", "RULE", 1, 1, "delete a rule (ADMIN)");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::DeleteRuleRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), RuleName(a.positional[0]));
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::DeleteRule, req, &resp);
      return Deleted(ctx, s, req.name());
    };
  }
}

}  // namespace

void AddResourceCommands(std::vector<Command>& commands) {
  AddTeamCommands(commands);
  AddCycleCommands(commands);
  AddObjectiveCommands(commands);
  AddKeyResultCommands(commands);
  AddTokenCommands(commands);
  AddSubscriptionCommands(commands);
  AddRuleCommands(commands);
}

}  // namespace okr::cli
