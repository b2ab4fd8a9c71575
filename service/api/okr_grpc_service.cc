#include "service/api/okr_grpc_service.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/api/access_policy.h"
#include "service/api/grpc_status.h"
#include "service/api/proto_convert.h"
#include "service/api/watch_events.h"
#include "service/log/log.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"

namespace okr::api {
namespace {

constexpr char kRequestIdKey[] = "x-request-id";

// Codes that say the service, not the request, failed: worth a log line.
bool IsServerFault(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

template <typename T, typename ProtoList>
void AppendAll(const std::vector<T>& items, ProtoList* out) {
  for (const T& item : items) ToProto(item, out->Add());
}

// The paths of a whole `metric` message: it is replaced, metric_key included.
void AppendMetricPaths(const v1::KeyResult& kr, std::vector<std::string>& out) {
  out.insert(out.end(),
             {"metric.start_value", "metric.target_value", "metric.unit", "metric.metric_key"});
  if (kr.metric().has_current_value()) out.push_back("metric.current_value");
}

// Expands the AIP-134 wildcard and whole-message paths of a key result mask.
std::vector<std::string> ExpandKeyResultPaths(std::vector<std::string> paths,
                                              const v1::KeyResult& kr) {
  std::vector<std::string> out;
  for (std::string& p : paths) {
    if (p == "*") {
      out.insert(out.end(), {"title", "weight"});
      if (kr.has_metric()) AppendMetricPaths(kr, out);
      if (kr.has_milestone()) out.push_back("milestone.done");
      if (kr.has_work_items()) {
        for (std::string& scope : ScopePaths(kr.work_items(), /*all=*/true)) {
          out.push_back(std::move(scope));
        }
      }
    } else if (p == "work_items") {
      for (std::string& scope : ScopePaths(kr.work_items(), /*all=*/true)) {
        out.push_back(std::move(scope));
      }
    } else if (p == "metric") {
      AppendMetricPaths(kr, out);
    } else if (p == "milestone") {
      out.push_back("milestone.done");
    } else {
      out.push_back(std::move(p));
    }
  }
  return out;
}

// Every field set in the message (AIP-134 default mask); for a metric: its values and unit
// as before, the current value if present and the metric key if not empty; for work
// items: the scope fields that are not empty.
std::vector<std::string> DefaultKeyResultPaths(const v1::KeyResult& kr) {
  std::vector<std::string> paths;
  if (!kr.title().empty()) paths.push_back("title");
  if (kr.has_weight()) paths.push_back("weight");
  if (kr.has_metric()) {
    paths.insert(paths.end(), {"metric.start_value", "metric.target_value", "metric.unit"});
    if (kr.metric().has_current_value()) paths.push_back("metric.current_value");
    if (!kr.metric().metric_key().empty()) paths.push_back("metric.metric_key");
  }
  if (kr.has_milestone()) paths.push_back("milestone");
  if (kr.has_work_items()) {
    for (std::string& scope : ScopePaths(kr.work_items(), /*all=*/false)) {
      paths.push_back(std::move(scope));
    }
  }
  return paths;
}

std::vector<std::string> DefaultTeamPaths(const v1::Team& t) {
  std::vector<std::string> paths;
  if (!t.display_name().empty()) paths.push_back("display_name");
  if (!t.parent().empty()) paths.push_back("parent");
  for (std::string& path : TeamTrackerPaths(t, false)) paths.push_back(std::move(path));
  return paths;
}

std::vector<std::string> DefaultCyclePaths(const v1::Cycle& c) {
  std::vector<std::string> paths;
  if (!c.display_name().empty()) paths.push_back("display_name");
  if (c.has_start_time()) paths.push_back("start_time");
  if (c.has_end_time()) paths.push_back("end_time");
  return paths;
}

// `*` (AIP-134) stands for every updatable field.
std::vector<std::string> ExpandWildcard(std::vector<std::string> paths,
                                        std::vector<std::string> all) {
  if (paths.size() == 1 && paths[0] == "*") return all;
  return paths;
}

std::vector<std::string> DefaultObjectivePaths(const v1::Objective& o) {
  std::vector<std::string> paths;
  if (!o.title().empty()) paths.push_back("title");
  if (!o.description().empty()) paths.push_back("description");
  if (!o.team().empty()) paths.push_back("team");
  if (!o.cycle().empty()) paths.push_back("cycle");
  if (!o.parent().empty()) paths.push_back("parent");
  if (o.kind() != v1::OBJECTIVE_KIND_UNSPECIFIED) paths.push_back("kind");
  if (o.progress_source() != v1::PROGRESS_SOURCE_UNSPECIFIED) paths.push_back("progress_source");
  if (o.has_weight()) paths.push_back("weight");
  if (o.contributes_to_size() > 0) paths.push_back("contributes_to");
  if (o.depends_on_size() > 0) paths.push_back("depends_on");
  return paths;
}

// The resource a request is about, for audit lines: its `name` or `parent`, else the
// `name` of its first message field that has one (e.g. CreateObjective's objective), else
// a chosen id (`team_id=payments`).
std::string ResourceOf(const google::protobuf::Message& req) {
  const google::protobuf::Descriptor* d = req.GetDescriptor();
  const google::protobuf::Reflection* r = req.GetReflection();
  for (const char* field : {"name", "parent"}) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(field);
    if (f != nullptr && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
        !f->is_repeated()) {
      std::string value = r->GetString(req, f);
      if (!value.empty()) return value.substr(0, 200);
    }
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE || f->is_repeated() ||
        !r->HasField(req, f)) {
      continue;
    }
    std::string inner = ResourceOf(r->GetMessage(req, f));
    if (!inner.empty()) return inner;
  }
  // A create with a chosen id: "team_id=payments".
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->type() != google::protobuf::FieldDescriptor::TYPE_STRING || f->is_repeated() ||
        !absl::EndsWith(f->name(), "_id") || f->name() == "request_id") {
      continue;
    }
    std::string value = r->GetString(req, f);
    if (!value.empty()) return absl::StrCat(f->name(), "=", value.substr(0, 100));
  }
  return "";
}

void AuditDenied(const Caller& caller, const google::protobuf::Message& req,
                 const absl::Status& status) {
  log::Info("audit: permission denied", {{"principal", caller.principal.Describe()},
                                         {"method", caller.method},
                                         {"resource", ResourceOf(req)},
                                         {"error", std::string(status.message())}});
}

}  // namespace

absl::StatusOr<Caller> OkrGrpcService::Authenticate(grpc::CallbackServerContext* ctx,
                                                    absl::string_view method) {
  Caller caller;
  caller.method = std::string(method);
  if (tokens_ == nullptr || !auth_enabled_) {
    caller.principal.role = Role::kAdmin;
    return caller;
  }
  OKR_ASSIGN_OR_RETURN(std::string secret, BearerSecret(ctx->client_metadata()));
  OKR_ASSIGN_OR_RETURN(caller.principal, tokens_->Authenticate(secret));
  caller.enforced = true;
  return caller;
}

absl::Status OkrGrpcService::RequireTeamWrite(const Caller& caller, const std::string& team_id) {
  if (!caller.enforced || team_id.empty()) return absl::OkStatus();
  const Principal& who = caller.principal;
  if (who.role == Role::kAdmin || (who.role == Role::kEditor && who.team_ids.empty())) {
    return absl::OkStatus();
  }
  // The team and its ancestors, to find a scope team above it.
  OKR_ASSIGN_OR_RETURN(std::vector<std::string> chain, core_.TeamAndAncestors(team_id));
  return okr::RequireTeamWrite(who, chain);
}

std::string OkrGrpcService::TeamOfRequest(const google::protobuf::Message& req) {
  const google::protobuf::Descriptor* d = req.GetDescriptor();
  const google::protobuf::Reflection* r = req.GetReflection();
  // AgreeObjective's `team`, or the `team` of the objective a request carries.
  if (const auto* f = d->FindFieldByName("team");
      f != nullptr && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
      !f->is_repeated()) {
    if (absl::StatusOr<std::string> t = names::ParseTeam(r->GetString(req, f), "team"); t.ok()) {
      return *t;
    }
  }
  if (const auto* f = d->FindFieldByName("objective");
      f != nullptr && f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
      r->HasField(req, f)) {
    const google::protobuf::Message& o = r->GetMessage(req, f);
    if (const auto* team = o.GetDescriptor()->FindFieldByName("team"); team != nullptr) {
      absl::StatusOr<std::string> t =
          names::ParseTeam(o.GetReflection()->GetString(o, team), "team");
      if (t.ok()) return *t;
    }
  }
  // Anything under objectives/{o}: that objective's team.
  const std::string resource = ResourceOf(req);
  if (absl::StartsWith(resource, "objectives/")) {
    const std::string id = resource.substr(11, resource.find('/', 11) - 11);
    if (absl::StatusOr<Objective> o = core_.GetObjective(id); o.ok()) return o->team_id;
  }
  return "";
}

absl::Status OkrGrpcService::RequireObjectiveWrite(const Caller& caller,
                                                   const std::string& objective_id) {
  if (!caller.enforced) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(Objective o, core_.GetObjective(objective_id));
  return RequireTeamWrite(caller, o.team_id);
}

// Authenticates the call, checks the method's least role, runs `fn` (returning
// absl::Status) with the caller, tells the observer, and finishes the call with the
// mapped status.
OkrGrpcService::Call OkrGrpcService::Begin(grpc::CallbackServerContext* ctx,
                                           absl::string_view method,
                                           const google::protobuf::Message& req) {
  Call call;
  call.start = absl::Now();
  if (observer_ != nullptr) observer_->OnRpcStarted(method);
  // Every line logged while handling the call carries its id; the caller gets it back in
  // the initial metadata.
  absl::string_view incoming;
  const auto& metadata = ctx->client_metadata();
  if (auto it = metadata.find(kRequestIdKey); it != metadata.end()) {
    incoming = absl::string_view(it->second.data(), it->second.size());
  }
  call.request_id = log::AcceptOrNewRequestId(incoming);
  log::ScopedRequestId scope(call.request_id);
  ctx->AddInitialMetadata(kRequestIdKey, call.request_id);
  call.reactor = ctx->DefaultReactor();
  call.caller = Authenticate(ctx, method);
  call.status = call.caller.status();
  if (call.caller.ok()) {
    call.status = RequireRole(call.caller->principal, MinimumRole(method));
    if (!call.status.ok() && MinimumRole(method) == Role::kEditor) {
      // Name the team the write needs ("EDITOR on teams/payments needed"), if known.
      if (std::string team = TeamOfRequest(req); !team.empty()) {
        call.status = okr::RequireTeamWrite(call.caller->principal, {team});
      }
    }
  }
  return call;
}

void OkrGrpcService::Complete(Call& call, absl::string_view method,
                              const google::protobuf::Message& req, absl::Status status) {
  log::ScopedRequestId scope(call.request_id);
  if (call.caller.ok() && absl::IsPermissionDenied(status)) AuditDenied(*call.caller, req, status);
  if (observer_ != nullptr) observer_->OnRpc(method, status.code(), absl::Now() - call.start);
  if (IsServerFault(status.code())) {
    log::Warn("rpc failed", {{"method", std::string(method)},
                             {"code", absl::StatusCodeToString(status.code())},
                             {"error", std::string(status.message())}});
  }
  call.reactor->Finish(ToGrpcStatus(status));
}

template <typename Fn>
grpc::ServerUnaryReactor* OkrGrpcService::Respond(grpc::CallbackServerContext* ctx,
                                                  absl::string_view method,
                                                  const google::protobuf::Message& req, Fn&& fn) {
  Call call = Begin(ctx, method, req);
  absl::Status status = call.status;
  if (status.ok()) {
    log::ScopedRequestId scope(call.request_id);
    status = fn(*call.caller);
  }
  Complete(call, method, req, std::move(status));
  return call.reactor;
}

template <typename Fn>
grpc::ServerUnaryReactor* OkrGrpcService::RespondOn(CallExecutor& pool,
                                                    absl::string_view waiting_for,
                                                    grpc::CallbackServerContext* ctx,
                                                    absl::string_view method,
                                                    const google::protobuf::Message& req, Fn fn) {
  auto call = std::make_shared<Call>(Begin(ctx, method, req));
  grpc::ServerUnaryReactor* reactor = call->reactor;
  if (!call->status.ok()) {
    Complete(*call, method, req, call->status);
    return reactor;
  }
  // `req`, the response and the reactor stay valid until Finish.
  const bool queued = pool.Submit([this, call, method, &req, fn = std::move(fn)] {
    absl::Status status;
    {
      log::ScopedRequestId scope(call->request_id);
      status = fn(*call->caller);
    }
    Complete(*call, method, req, std::move(status));
  });
  if (!queued) {
    Complete(*call, method, req,
             absl::UnavailableError(absl::StrCat("too many ", method, " calls are waiting for ",
                                                 waiting_for, "; retry")));
  }
  return reactor;
}

// ---------------------------------------------------------------------------------------
// Teams

grpc::ServerUnaryReactor* OkrGrpcService::CreateTeam(grpc::CallbackServerContext* ctx,
                                                     const v1::CreateTeamRequest* req,
                                                     v1::Team* resp) {
  return Respond(ctx, "CreateTeam", *req, [&](const Caller& caller) -> absl::Status {
    std::string id = req->team_id();
    if (id.empty() && !req->team().name().empty()) {
      OKR_ASSIGN_OR_RETURN(id, names::ParseTeam(req->team().name(), "team.name"));
    }
    OKR_ASSIGN_OR_RETURN(Team team, FromProto(req->team(), id));
    OKR_ASSIGN_OR_RETURN(Team created, core_.CreateTeam(std::move(team), req->request_id()));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetTeam(grpc::CallbackServerContext* ctx,
                                                  const v1::GetTeamRequest* req, v1::Team* resp) {
  return Respond(ctx, "GetTeam", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseTeam(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Team team, core_.GetTeam(id));
    ToProto(team, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListTeams(grpc::CallbackServerContext* ctx,
                                                    const v1::ListTeamsRequest* req,
                                                    v1::ListTeamsResponse* resp) {
  return Respond(ctx, "ListTeams", *req, [&](const Caller& caller) -> absl::Status {
    std::string parent;
    if (!req->parent().empty()) {
      OKR_ASSIGN_OR_RETURN(parent, names::ParseTeam(req->parent(), "parent"));
    }
    OKR_ASSIGN_OR_RETURN(
        auto page, core_.ListTeams(parent, ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_teams());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateTeam(grpc::CallbackServerContext* ctx,
                                                     const v1::UpdateTeamRequest* req,
                                                     v1::Team* resp) {
  return Respond(ctx, "UpdateTeam", *req, [&](const Caller& caller) -> absl::Status {
    const v1::Team& in = req->team();
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseTeam(in.name(), "team.name"));
    OKR_ASSIGN_OR_RETURN(Team patch, FromProto(in, id));
    std::vector<std::string> all = {"display_name", "parent"};
    for (std::string& path : TeamTrackerPaths(in, true)) all.push_back(std::move(path));
    std::vector<std::string> paths =
        ExpandWildcard(MaskPaths(req->update_mask(), DefaultTeamPaths(in)), all);
    OKR_ASSIGN_OR_RETURN(Team updated, core_.UpdateTeam(patch, paths, in.etag()));
    ToProto(updated, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteTeam(grpc::CallbackServerContext* ctx,
                                                     const v1::DeleteTeamRequest* req,
                                                     google::protobuf::Empty*) {
  return Respond(ctx, "DeleteTeam", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseTeam(req->name(), "name"));
    return core_.DeleteTeam(id, req->etag(), req->force());
  });
}

// ---------------------------------------------------------------------------------------
// Cycles

grpc::ServerUnaryReactor* OkrGrpcService::CreateCycle(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateCycleRequest* req,
                                                      v1::Cycle* resp) {
  return Respond(ctx, "CreateCycle", *req, [&](const Caller& caller) -> absl::Status {
    std::string id = req->cycle_id();
    if (id.empty() && !req->cycle().name().empty()) {
      OKR_ASSIGN_OR_RETURN(id, names::ParseCycle(req->cycle().name(), "cycle.name"));
    }
    OKR_ASSIGN_OR_RETURN(Cycle cycle, FromProto(req->cycle(), id));
    OKR_ASSIGN_OR_RETURN(Cycle created, core_.CreateCycle(std::move(cycle), req->request_id()));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetCycle(grpc::CallbackServerContext* ctx,
                                                   const v1::GetCycleRequest* req,
                                                   v1::Cycle* resp) {
  return Respond(ctx, "GetCycle", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseCycle(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Cycle cycle, core_.GetCycle(id));
    ToProto(cycle, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListCycles(grpc::CallbackServerContext* ctx,
                                                     const v1::ListCyclesRequest* req,
                                                     v1::ListCyclesResponse* resp) {
  return Respond(ctx, "ListCycles", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(auto page,
                         core_.ListCycles(ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_cycles());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateCycle(grpc::CallbackServerContext* ctx,
                                                      const v1::UpdateCycleRequest* req,
                                                      v1::Cycle* resp) {
  return Respond(ctx, "UpdateCycle", *req, [&](const Caller& caller) -> absl::Status {
    const v1::Cycle& in = req->cycle();
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseCycle(in.name(), "cycle.name"));
    OKR_ASSIGN_OR_RETURN(Cycle patch, FromProto(in, id));
    std::vector<std::string> paths =
        ExpandWildcard(MaskPaths(req->update_mask(), DefaultCyclePaths(in)),
                       {"display_name", "start_time", "end_time"});
    OKR_ASSIGN_OR_RETURN(Cycle updated, core_.UpdateCycle(patch, paths, in.etag()));
    ToProto(updated, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteCycle(grpc::CallbackServerContext* ctx,
                                                      const v1::DeleteCycleRequest* req,
                                                      google::protobuf::Empty*) {
  return Respond(ctx, "DeleteCycle", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseCycle(req->name(), "name"));
    return core_.DeleteCycle(id, req->etag(), req->force());
  });
}

// ---------------------------------------------------------------------------------------
// Objectives

grpc::ServerUnaryReactor* OkrGrpcService::CreateObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateObjectiveRequest* req,
                                                          v1::Objective* resp) {
  return Respond(ctx, "CreateObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Objective o, FromProto(req->objective()));
    o.id = req->objective_id();
    if (o.id.empty() && !req->objective().name().empty()) {
      OKR_ASSIGN_OR_RETURN(o.id, names::ParseObjective(req->objective().name(), "objective.name"));
    }
    OKR_RETURN_IF_ERROR(RequireTeamWrite(caller, o.team_id));
    OKR_ASSIGN_OR_RETURN(Objective created, core_.CreateObjective(std::move(o), req->request_id()));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetObjective(grpc::CallbackServerContext* ctx,
                                                       const v1::GetObjectiveRequest* req,
                                                       v1::Objective* resp) {
  return Respond(ctx, "GetObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.GetObjective(id));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListObjectives(grpc::CallbackServerContext* ctx,
                                                         const v1::ListObjectivesRequest* req,
                                                         v1::ListObjectivesResponse* resp) {
  return Respond(ctx, "ListObjectives", *req, [&](const Caller& caller) -> absl::Status {
    storage::ObjectiveFilter filter;
    if (!req->team().empty()) {
      OKR_ASSIGN_OR_RETURN(filter.team_id, names::ParseTeam(req->team(), "team"));
    }
    if (!req->cycle().empty()) {
      OKR_ASSIGN_OR_RETURN(filter.cycle_id, names::ParseCycle(req->cycle(), "cycle"));
    }
    if (!req->parent().empty()) {
      OKR_ASSIGN_OR_RETURN(filter.parent_id, names::ParseObjective(req->parent(), "parent"));
    }
    OKR_ASSIGN_OR_RETURN(
        auto page, core_.ListObjectives(filter, ToPageRequest(req->page_size(), req->page_token()),
                                        core::ListQuery{req->filter(), req->order_by()}));
    AppendAll(page.items, resp->mutable_objectives());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateObjectiveRequest* req,
                                                          v1::Objective* resp) {
  return Respond(ctx, "UpdateObjective", *req, [&](const Caller& caller) -> absl::Status {
    const v1::Objective& in = req->objective();
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(in.name(), "objective.name"));
    OKR_ASSIGN_OR_RETURN(Objective patch, FromProto(in));
    patch.id = id;
    std::vector<std::string> paths = MaskPaths(req->update_mask(), DefaultObjectivePaths(in));
    if (paths.size() == 1 && paths[0] == "*") {
      paths = {"title", "description",     "team",   "cycle",          "parent",
               "kind",  "progress_source", "weight", "contributes_to", "depends_on"};
    }
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, id));
    for (const std::string& path : paths) {
      // Moving an objective to another team needs the right to write that team too.
      if (path == "team") OKR_RETURN_IF_ERROR(RequireTeamWrite(caller, patch.team_id));
    }
    OKR_ASSIGN_OR_RETURN(Objective updated,
                         core_.UpdateObjective(patch, paths, in.etag(), req->reopen()));
    ToProto(updated, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::DeleteObjectiveRequest* req,
                                                          google::protobuf::Empty*) {
  return Respond(ctx, "DeleteObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, id));
    return core_.DeleteObjective(id, req->etag(), req->force());
  });
}

// ---------------------------------------------------------------------------------------
// Key results

grpc::ServerUnaryReactor* OkrGrpcService::CreateKeyResult(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateKeyResultRequest* req,
                                                          v1::KeyResult* resp) {
  return Respond(ctx, "CreateKeyResult", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string objective_id, names::ParseObjective(req->parent(), "parent"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, objective_id));
    OKR_ASSIGN_OR_RETURN(KeyResult kr, FromProto(req->key_result()));
    kr.objective_id = objective_id;
    kr.id = req->key_result_id();
    OKR_ASSIGN_OR_RETURN(KeyResult created,
                         core_.CreateKeyResult(std::move(kr), req->request_id()));
    ToProto(created, resp);
    OKR_RETURN_IF_ERROR(AddFreshness(created, resp));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetKeyResult(grpc::CallbackServerContext* ctx,
                                                       const v1::GetKeyResultRequest* req,
                                                       v1::KeyResult* resp) {
  return Respond(ctx, "GetKeyResult", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(KeyResult kr, core_.GetKeyResult(n.objective_id, n.key_result_id));
    ToProto(kr, resp);
    OKR_RETURN_IF_ERROR(AddFreshness(kr, resp));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListKeyResults(grpc::CallbackServerContext* ctx,
                                                         const v1::ListKeyResultsRequest* req,
                                                         v1::ListKeyResultsResponse* resp) {
  return Respond(ctx, "ListKeyResults", *req, [&](const Caller& caller) -> absl::Status {
    // `objectives/-`: the key results of every objective (AIP-159).
    std::string objective_id = core::kAnyObjective;
    if (req->parent() != "objectives/-") {
      OKR_ASSIGN_OR_RETURN(objective_id, names::ParseObjective(req->parent(), "parent"));
    }
    OKR_ASSIGN_OR_RETURN(
        auto page,
        core_.ListKeyResults(objective_id, ToPageRequest(req->page_size(), req->page_token()),
                             core::ListQuery{req->filter(), req->order_by()}));
    AppendAll(page.items, resp->mutable_key_results());
    for (size_t i = 0; i < page.items.size(); ++i) {
      OKR_RETURN_IF_ERROR(
          AddFreshness(page.items[i], resp->mutable_key_results(static_cast<int>(i))));
    }
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateKeyResult(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateKeyResultRequest* req,
                                                          v1::KeyResult* resp) {
  return Respond(ctx, "UpdateKeyResult", *req, [&](const Caller& caller) -> absl::Status {
    const v1::KeyResult& in = req->key_result();
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n,
                         names::ParseKeyResult(in.name(), "key_result.name"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
    KeyResult patch;
    patch.objective_id = n.objective_id;
    patch.id = n.key_result_id;
    patch.title = in.title();
    patch.weight = in.has_weight() ? in.weight() : 1.0;
    if (in.has_metric()) {
      patch.metric.start_value = in.metric().start_value();
      patch.metric.target_value = in.metric().target_value();
      patch.metric.current_value = in.metric().current_value();
      patch.metric.unit = in.metric().unit();
      patch.metric_key = in.metric().metric_key();
    }
    if (in.has_milestone()) patch.milestone_done = in.milestone().done();
    if (in.has_work_items()) patch.scopes = ScopesFromProto(in.work_items());
    std::vector<std::string> paths =
        ExpandKeyResultPaths(MaskPaths(req->update_mask(), DefaultKeyResultPaths(in)), in);
    OKR_ASSIGN_OR_RETURN(KeyResult updated,
                         core_.UpdateKeyResult(patch, paths, in.etag(), req->reopen()));
    ToProto(updated, resp);
    OKR_RETURN_IF_ERROR(AddFreshness(updated, resp));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteKeyResult(grpc::CallbackServerContext* ctx,
                                                          const v1::DeleteKeyResultRequest* req,
                                                          google::protobuf::Empty*) {
  return Respond(ctx, "DeleteKeyResult", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->name(), "name"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
    return core_.DeleteKeyResult(n.objective_id, n.key_result_id, req->etag());
  });
}

// ---------------------------------------------------------------------------------------
// Check-ins

grpc::ServerUnaryReactor* OkrGrpcService::CreateCheckIn(grpc::CallbackServerContext* ctx,
                                                        const v1::CreateCheckInRequest* req,
                                                        v1::CheckIn* resp) {
  return RespondOn(*durable_writes_, "the database", ctx, "CreateCheckIn", *req,
                   [this, req, resp](const Caller& caller) -> absl::Status {
                     OKR_ASSIGN_OR_RETURN(names::KeyResultName n,
                                          names::ParseKeyResult(req->parent(), "parent"));
                     OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
                     const v1::CheckIn& in = req->check_in();
                     CheckIn c;
                     c.objective_id = n.objective_id;
                     c.key_result_id = n.key_result_id;
                     if (in.has_value()) c.value = in.value();
                     if (in.has_confidence()) c.confidence = in.confidence();
                     c.note = in.note();
                     // The author is who authenticated, never a free-text claim.
                     c.author = caller.enforced ? caller.principal.display_name : in.author();
                     OKR_ASSIGN_OR_RETURN(CheckIn created,
                                          core_.CreateCheckIn(std::move(c), req->request_id()));
                     ToProto(created, resp);
                     return absl::OkStatus();
                   });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetCheckIn(grpc::CallbackServerContext* ctx,
                                                     const v1::GetCheckInRequest* req,
                                                     v1::CheckIn* resp) {
  return Respond(ctx, "GetCheckIn", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n, names::ParseCheckIn(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(CheckIn c, core_.GetCheckIn(n.objective_id, n.key_result_id, n.child_id));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListCheckIns(grpc::CallbackServerContext* ctx,
                                                       const v1::ListCheckInsRequest* req,
                                                       v1::ListCheckInsResponse* resp) {
  return Respond(ctx, "ListCheckIns", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
    OKR_ASSIGN_OR_RETURN(auto page,
                         core_.ListCheckIns(n.objective_id, n.key_result_id,
                                            ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_check_ins());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------
// Work items

grpc::ServerUnaryReactor* OkrGrpcService::LinkWorkItem(grpc::CallbackServerContext* ctx,
                                                       const v1::LinkWorkItemRequest* req,
                                                       v1::WorkItemLink* resp) {
  return Respond(ctx, "LinkWorkItem", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
    OKR_ASSIGN_OR_RETURN(WorkItem item, FromProto(req->work_item()));
    OKR_ASSIGN_OR_RETURN(WorkItemLink link, core_.LinkWorkItem(n.objective_id, n.key_result_id,
                                                               std::move(item), req->request_id()));
    ToProto(link, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UnlinkWorkItem(grpc::CallbackServerContext* ctx,
                                                         const v1::UnlinkWorkItemRequest* req,
                                                         google::protobuf::Empty*) {
  return Respond(ctx, "UnlinkWorkItem", *req, [&](const Caller& caller) -> absl::Status {
    if (!req->name().empty()) {
      OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n,
                           names::ParseWorkItemLink(req->name(), "name"));
      OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
      return core_.UnlinkWorkItem(n.objective_id, n.key_result_id, n.child_id);
    }
    if (req->parent().empty()) {
      return absl::InvalidArgumentError("name (or parent + tracker + key) is required");
    }
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
    OKR_ASSIGN_OR_RETURN(Tracker tracker, FromProto(req->tracker(), "tracker"));
    if (req->key().empty()) return absl::InvalidArgumentError("key is required");
    return core_.UnlinkWorkItemByKey(n.objective_id, n.key_result_id, tracker, req->key());
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListWorkItemLinks(grpc::CallbackServerContext* ctx,
                                                            const v1::ListWorkItemLinksRequest* req,
                                                            v1::ListWorkItemLinksResponse* resp) {
  return Respond(ctx, "ListWorkItemLinks", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
    OKR_ASSIGN_OR_RETURN(
        auto page, core_.ListWorkItemLinks(n.objective_id, n.key_result_id,
                                           ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_work_item_links());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::FindWorkItemLinks(grpc::CallbackServerContext* ctx,
                                                            const v1::FindWorkItemLinksRequest* req,
                                                            v1::FindWorkItemLinksResponse* resp) {
  return Respond(ctx, "FindWorkItemLinks", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Tracker tracker, FromProto(req->tracker(), "tracker"));
    OKR_ASSIGN_OR_RETURN(auto targets, core_.FindWorkItemLinks(tracker, req->key()));
    for (const core::WorkItemLinkTarget& t : targets) {
      v1::WorkItemLinkTarget* out = resp->add_targets();
      ToProto(t.link, out->mutable_link());
      ToProto(t.key_result, out->mutable_key_result());
      ToProto(t.objective, out->mutable_objective());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateWorkItem(grpc::CallbackServerContext* ctx,
                                                         const v1::UpdateWorkItemRequest* req,
                                                         v1::WorkItem* resp) {
  return Respond(ctx, "UpdateWorkItem", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(WorkItem patch, FromProto(req->work_item()));
    std::vector<std::string> paths =
        MaskPaths(req->update_mask(), {"title", "url", "done", "weight"});
    if (caller.enforced) {
      // The item moves every key result it serves: each of their teams must be writable.
      OKR_ASSIGN_OR_RETURN(auto targets, core_.FindWorkItemLinks(patch.tracker, patch.key));
      for (const core::WorkItemLinkTarget& t : targets) {
        OKR_RETURN_IF_ERROR(RequireTeamWrite(caller, t.objective.team_id));
      }
    }
    OKR_ASSIGN_OR_RETURN(WorkItem updated, core_.UpdateWorkItem(patch, paths));
    ToProto(updated, resp);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------
// The OKR process

grpc::ServerUnaryReactor* OkrGrpcService::ProposeObjective(grpc::CallbackServerContext* ctx,
                                                           const v1::ProposeObjectiveRequest* req,
                                                           v1::Objective* resp) {
  return Respond(ctx, "ProposeObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, id));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.ProposeObjective(id, req->etag()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::AgreeObjective(grpc::CallbackServerContext* ctx,
                                                         const v1::AgreeObjectiveRequest* req,
                                                         v1::Objective* resp) {
  return Respond(ctx, "AgreeObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(std::string team, names::ParseTeam(req->team(), "team"));
    // Agreeing binds the team: it needs the right to write that team, and the agreeing
    // party is who authenticated.
    OKR_RETURN_IF_ERROR(RequireTeamWrite(caller, team));
    const std::string agreed_by =
        caller.enforced ? caller.principal.display_name : req->agreed_by();
    OKR_ASSIGN_OR_RETURN(Objective o, core_.AgreeObjective(id, team, agreed_by));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ReopenObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::ReopenObjectiveRequest* req,
                                                          v1::Objective* resp) {
  return Respond(ctx, "ReopenObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, id));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.ReopenObjective(id, req->reason()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CloseObjective(grpc::CallbackServerContext* ctx,
                                                         const v1::CloseObjectiveRequest* req,
                                                         v1::Objective* resp) {
  return Respond(ctx, "CloseObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, id));
    OKR_ASSIGN_OR_RETURN(ExplicitScores scores, FromProto(req->key_result_scores(), id));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.CloseObjective(id, scores));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CarryOverObjective(
    grpc::CallbackServerContext* ctx, const v1::CarryOverObjectiveRequest* req,
    v1::Objective* resp) {
  return Respond(ctx, "CarryOverObjective", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(std::string cycle, names::ParseCycle(req->cycle(), "cycle"));
    OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, id));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.CarryOverObjective(id, cycle, req->objective_id()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetAlignmentTree(grpc::CallbackServerContext* ctx,
                                                           const v1::GetAlignmentTreeRequest* req,
                                                           v1::AlignmentTree* resp) {
  return Respond(ctx, "GetAlignmentTree", *req, [&](const Caller& caller) -> absl::Status {
    core::AlignmentTreeQuery query;
    if (!req->root().empty()) {
      OKR_ASSIGN_OR_RETURN(query.root_id, names::ParseObjective(req->root(), "root"));
    } else {
      OKR_ASSIGN_OR_RETURN(query.team_id, names::ParseTeam(req->team(), "team"));
      OKR_ASSIGN_OR_RETURN(query.cycle_id, names::ParseCycle(req->cycle(), "cycle"));
    }
    query.depth = req->depth();
    OKR_ASSIGN_OR_RETURN(std::vector<core::AlignmentNode> roots, core_.GetAlignmentTree(query));
    for (const core::AlignmentNode& root : roots) ToProto(root, resp->add_roots());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CheckAlignment(grpc::CallbackServerContext* ctx,
                                                         const v1::CheckAlignmentRequest* req,
                                                         v1::CheckAlignmentResponse* resp) {
  return Respond(ctx, "CheckAlignment", *req, [&](const Caller& caller) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string cycle, names::ParseCycle(req->cycle(), "cycle"));
    std::string team;
    if (!req->team().empty()) {
      OKR_ASSIGN_OR_RETURN(team, names::ParseTeam(req->team(), "team"));
    }
    OKR_ASSIGN_OR_RETURN(std::vector<Finding> findings, core_.CheckAlignment(cycle, team));
    for (const Finding& f : findings) ToProto(f, resp->add_findings());
    return absl::OkStatus();
  });
}

// One entry per tracker the key result has a scope or linked items in. The trackers of
// its links are read only when it has linked items (its stored totals say so) and its
// scopes do not already name every tracker, and reading stops once every tracker is seen:
// usually one query of the first page, none for a key result without items. The statuses
// themselves are read once per request (FreshnessSource caches them for about a second).
absl::Status OkrGrpcService::AddFreshness(const KeyResult& kr, v1::KeyResult* out) {
  if (freshness_ == nullptr || kr.type != KeyResultType::kWorkItems) return absl::OkStatus();
  std::set<Tracker> trackers = ScopeTrackers(kr);
  const size_t every = AllTrackers().size();
  if (HasLinkedItems(kr) && trackers.size() < every) {
    core::PageRequest page{1000, ""};
    while (true) {
      OKR_ASSIGN_OR_RETURN(auto links, core_.ListWorkItemLinks(kr.objective_id, kr.id, page));
      for (const WorkItemLink& l : links.items) trackers.insert(l.item.tracker);
      if (links.next_page_token.empty() || trackers.size() >= every) break;
      page.page_token = links.next_page_token;
    }
  }
  for (const TrackerFreshness& f : freshness_->ForTrackers(trackers)) {
    ToProto(f, out->mutable_work_items()->add_freshness());
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* OkrGrpcService::SyncKeyResult(grpc::CallbackServerContext* ctx,
                                                        const v1::SyncKeyResultRequest* req,
                                                        v1::KeyResult* resp) {
  return RespondOn(
      *blocking_calls_, "the trackers", ctx, "SyncKeyResult", *req,
      [this, req, resp](const Caller& caller) -> absl::Status {
        OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->name(), "name"));
        OKR_RETURN_IF_ERROR(RequireObjectiveWrite(caller, n.objective_id));
        OKR_RETURN_IF_ERROR(core_.GetKeyResult(n.objective_id, n.key_result_id).status());
        if (!key_result_sync_) {
          return absl::FailedPreconditionError(
              "no tracker connector is configured (set OKR_JIRA_URL, OKR_GITLAB_URL or "
              "OKR_GITHUB_TOKEN)");
        }
        OKR_RETURN_IF_ERROR(key_result_sync_(n.objective_id, n.key_result_id));
        OKR_ASSIGN_OR_RETURN(KeyResult kr, core_.GetKeyResult(n.objective_id, n.key_result_id));
        ToProto(kr, resp);
        OKR_RETURN_IF_ERROR(AddFreshness(kr, resp));
        return absl::OkStatus();
      });
}

// ---------------------------------------------------------------------------------------
// Events, subscriptions, rules

namespace {

absl::Status EventsUnavailable() {
  return absl::UnimplementedError("events are not enabled in this server");
}

// `subscriptions/{id}` / `rules/{id}` -> id.
absl::StatusOr<std::string> ParseSimpleName(const std::string& name, absl::string_view collection,
                                            absl::string_view field) {
  const std::string prefix = absl::StrCat(collection, "/");
  if (!absl::StartsWith(name, prefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be ", collection, "/{id}, got \"", name.substr(0, 80), "\""));
  }
  std::string id = name.substr(prefix.size());
  OKR_RETURN_IF_ERROR(names::ValidateId(id, field));
  return id;
}

}  // namespace

grpc::ServerWriteReactor<v1::Event>* OkrGrpcService::WatchEvents(
    grpc::CallbackServerContext* ctx, const v1::WatchEventsRequest* req) {
  const absl::Time start = absl::Now();
  if (observer_ != nullptr) observer_->OnRpcStarted("WatchEvents");
  absl::Status status = absl::OkStatus();
  EventFilter filter;
  absl::StatusOr<Caller> caller = Authenticate(ctx, "WatchEvents");
  if (!caller.ok()) {
    status = caller.status();
  } else if (absl::Status role = RequireRole(caller->principal, MinimumRole("WatchEvents"));
             !role.ok()) {
    status = role;
    AuditDenied(*caller, *req, status);
  } else if (events_ == nullptr || hub_ == nullptr || clock_ == nullptr) {
    status = EventsUnavailable();
  } else if (req->after_sequence() < 0) {
    status = absl::InvalidArgumentError("after_sequence must not be negative");
  } else {
    absl::StatusOr<EventFilter> parsed = FromProto(req->filter(), "filter");
    status = parsed.status();
    if (parsed.ok()) filter = *std::move(parsed);
  }
  if (!status.ok()) {
    // A stream that starts is reported when it ends (WatchEventsReactor).
    if (observer_ != nullptr) observer_->OnRpc("WatchEvents", status.code(), absl::Now() - start);
    // A reactor that finishes at once.
    class Failed final : public grpc::ServerWriteReactor<v1::Event> {
     public:
      explicit Failed(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Failed(ToGrpcStatus(status));
  }
  auto* reactor = new WatchEventsReactor(*events_, core_, *hub_, *clock_, std::move(filter),
                                         req->after_sequence(), observer_);
  reactor->Begin();
  return reactor;
}

grpc::ServerUnaryReactor* OkrGrpcService::ListEvents(grpc::CallbackServerContext* ctx,
                                                     const v1::ListEventsRequest* req,
                                                     v1::ListEventsResponse* resp) {
  return Respond(ctx, "ListEvents", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    core::EventParent parent;
    if (absl::StartsWith(req->parent(), "teams/")) {
      OKR_ASSIGN_OR_RETURN(parent.team_id, names::ParseTeam(req->parent(), "parent"));
    } else if (absl::StrContains(req->parent(), "/keyResults/")) {
      OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
      parent.objective_id = n.objective_id;
      parent.key_result_id = n.key_result_id;
    } else {
      OKR_ASSIGN_OR_RETURN(parent.objective_id, names::ParseObjective(req->parent(), "parent"));
    }
    OKR_ASSIGN_OR_RETURN(
        auto page, events_->ListEvents(parent, ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_events());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CreateSubscription(
    grpc::CallbackServerContext* ctx, const v1::CreateSubscriptionRequest* req,
    v1::Subscription* resp) {
  return Respond(ctx, "CreateSubscription", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(Subscription s, FromProto(req->subscription(), req->subscription_id()));
    OKR_ASSIGN_OR_RETURN(Subscription created, events_->CreateSubscription(std::move(s)));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetSubscription(grpc::CallbackServerContext* ctx,
                                                          const v1::GetSubscriptionRequest* req,
                                                          v1::Subscription* resp) {
  return Respond(ctx, "GetSubscription", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "subscriptions", "name"));
    OKR_ASSIGN_OR_RETURN(Subscription s, events_->GetSubscription(id));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListSubscriptions(grpc::CallbackServerContext* ctx,
                                                            const v1::ListSubscriptionsRequest* req,
                                                            v1::ListSubscriptionsResponse* resp) {
  return Respond(ctx, "ListSubscriptions", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(
        auto page, events_->ListSubscriptions(ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_subscriptions());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateSubscription(
    grpc::CallbackServerContext* ctx, const v1::UpdateSubscriptionRequest* req,
    v1::Subscription* resp) {
  return Respond(ctx, "UpdateSubscription", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    const v1::Subscription& in = req->subscription();
    OKR_ASSIGN_OR_RETURN(std::string id,
                         ParseSimpleName(in.name(), "subscriptions", "subscription.name"));
    OKR_ASSIGN_OR_RETURN(Subscription patch, FromProto(in, id));
    std::vector<std::string> defaults;
    if (!in.target_url().empty()) defaults.push_back("target_url");
    if (in.has_filter()) defaults.push_back("filter");
    if (!in.secret().empty()) defaults.push_back("secret");
    std::vector<std::string> paths =
        ExpandWildcard(MaskPaths(req->update_mask(), defaults), {"target_url", "filter", "secret"});
    OKR_ASSIGN_OR_RETURN(Subscription updated,
                         events_->UpdateSubscription(patch, paths, in.etag()));
    ToProto(updated, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteSubscription(
    grpc::CallbackServerContext* ctx, const v1::DeleteSubscriptionRequest* req,
    google::protobuf::Empty* resp) {
  return Respond(ctx, "DeleteSubscription", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "subscriptions", "name"));
    return events_->DeleteSubscription(id);
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CreateRule(grpc::CallbackServerContext* ctx,
                                                     const v1::CreateRuleRequest* req,
                                                     v1::Rule* resp) {
  return Respond(ctx, "CreateRule", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(Rule rule, FromProto(req->rule(), req->rule_id()));
    OKR_ASSIGN_OR_RETURN(Rule created, events_->CreateRule(std::move(rule)));
    ToProto(created, resp);
    if (on_rule_change_) on_rule_change_();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetRule(grpc::CallbackServerContext* ctx,
                                                  const v1::GetRuleRequest* req, v1::Rule* resp) {
  return Respond(ctx, "GetRule", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "rules", "name"));
    OKR_ASSIGN_OR_RETURN(Rule rule, events_->GetRule(id));
    ToProto(rule, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListRules(grpc::CallbackServerContext* ctx,
                                                    const v1::ListRulesRequest* req,
                                                    v1::ListRulesResponse* resp) {
  return Respond(ctx, "ListRules", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(auto page,
                         events_->ListRules(ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_rules());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateRule(grpc::CallbackServerContext* ctx,
                                                     const v1::UpdateRuleRequest* req,
                                                     v1::Rule* resp) {
  return Respond(ctx, "UpdateRule", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    const v1::Rule& in = req->rule();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(in.name(), "rules", "rule.name"));
    std::vector<std::string> defaults;
    if (in.has_condition()) defaults.push_back("condition");
    if (in.has_action()) defaults.push_back("action");
    std::vector<std::string> paths =
        ExpandWildcard(MaskPaths(req->update_mask(), defaults), {"condition", "action"});
    // The stored rule with the masked messages of the request on top, converted (and so
    // checked) as CreateRule converts; the core applies only the masked fields.
    OKR_ASSIGN_OR_RETURN(Rule current, events_->GetRule(id));
    v1::Rule merged;
    ToProto(current, &merged);
    for (const std::string& path : paths) {
      if (path == "condition") *merged.mutable_condition() = in.condition();
      if (path == "action") *merged.mutable_action() = in.action();
    }
    OKR_ASSIGN_OR_RETURN(Rule patch, FromProto(merged, id));
    OKR_ASSIGN_OR_RETURN(Rule updated, events_->UpdateRule(patch, paths, in.etag()));
    ToProto(updated, resp);
    if (on_rule_change_) on_rule_change_();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteRule(grpc::CallbackServerContext* ctx,
                                                     const v1::DeleteRuleRequest* req,
                                                     google::protobuf::Empty* resp) {
  return Respond(ctx, "DeleteRule", *req, [&](const Caller& caller) -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "rules", "name"));
    return events_->DeleteRule(id);
  });
}

// ---------------------------------------------------------------------------------------
// API tokens

namespace {

absl::Status TokensUnavailable() {
  return absl::UnimplementedError("API tokens are not enabled in this server");
}

void AuditToken(const Caller& caller, absl::string_view action, const std::string& name,
                absl::string_view role) {
  log::Info(absl::StrCat("audit: api token ", action), {{"principal", caller.principal.Describe()},
                                                        {"method", caller.method},
                                                        {"resource", name},
                                                        {"role", std::string(role)}});
}

}  // namespace

grpc::ServerUnaryReactor* OkrGrpcService::CreateApiToken(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateApiTokenRequest* req,
                                                         v1::ApiToken* resp) {
  return Respond(ctx, "CreateApiToken", *req, [&](const Caller& caller) -> absl::Status {
    if (tokens_ == nullptr) return TokensUnavailable();
    OKR_ASSIGN_OR_RETURN(ApiToken token, FromProto(req->api_token(), req->api_token_id()));
    OKR_ASSIGN_OR_RETURN(core::CreatedApiToken created, tokens_->CreateApiToken(std::move(token)));
    ToProto(created.token, created.secret, resp);
    AuditToken(caller, "created", resp->name(), RoleName(created.token.role));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetApiToken(grpc::CallbackServerContext* ctx,
                                                      const v1::GetApiTokenRequest* req,
                                                      v1::ApiToken* resp) {
  return Respond(ctx, "GetApiToken", *req, [&](const Caller& caller) -> absl::Status {
    if (tokens_ == nullptr) return TokensUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "apiTokens", "name"));
    OKR_ASSIGN_OR_RETURN(ApiToken token, tokens_->GetApiToken(id));
    ToProto(token, "", resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListApiTokens(grpc::CallbackServerContext* ctx,
                                                        const v1::ListApiTokensRequest* req,
                                                        v1::ListApiTokensResponse* resp) {
  return Respond(ctx, "ListApiTokens", *req, [&](const Caller& caller) -> absl::Status {
    if (tokens_ == nullptr) return TokensUnavailable();
    OKR_ASSIGN_OR_RETURN(
        auto page, tokens_->ListApiTokens(ToPageRequest(req->page_size(), req->page_token())));
    for (const ApiToken& token : page.items) ToProto(token, "", resp->add_api_tokens());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteApiToken(grpc::CallbackServerContext* ctx,
                                                         const v1::DeleteApiTokenRequest* req,
                                                         google::protobuf::Empty* resp) {
  return Respond(ctx, "DeleteApiToken", *req, [&](const Caller& caller) -> absl::Status {
    if (tokens_ == nullptr) return TokensUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "apiTokens", "name"));
    OKR_RETURN_IF_ERROR(tokens_->DeleteApiToken(id));
    AuditToken(caller, "deleted", req->name(), "");
    return absl::OkStatus();
  });
}

}  // namespace okr::api
