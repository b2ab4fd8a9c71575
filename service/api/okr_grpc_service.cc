#include "service/api/okr_grpc_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
// as before, the current value if present and the metric key if not empty.
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

}  // namespace

// Runs `fn` (returning absl::Status), tells the observer, and finishes the call with the
// mapped status.
template <typename Fn>
grpc::ServerUnaryReactor* OkrGrpcService::Respond(grpc::CallbackServerContext* ctx,
                                                  absl::string_view method, Fn&& fn) {
  const absl::Time start = absl::Now();
  // Every line logged while handling the call carries its id; the caller gets it back in
  // the initial metadata.
  absl::string_view incoming;
  const auto& metadata = ctx->client_metadata();
  if (auto it = metadata.find(kRequestIdKey); it != metadata.end()) {
    incoming = absl::string_view(it->second.data(), it->second.size());
  }
  const std::string request_id = log::AcceptOrNewRequestId(incoming);
  log::ScopedRequestId scope(request_id);
  ctx->AddInitialMetadata(kRequestIdKey, request_id);
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Status status = fn();
  if (observer_ != nullptr) observer_->OnRpc(method, status.code(), absl::Now() - start);
  if (IsServerFault(status.code())) {
    log::Warn("rpc failed", {{"method", std::string(method)},
                             {"code", absl::StatusCodeToString(status.code())},
                             {"error", std::string(status.message())}});
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// ---------------------------------------------------------------------------------------
// Teams

grpc::ServerUnaryReactor* OkrGrpcService::CreateTeam(grpc::CallbackServerContext* ctx,
                                                     const v1::CreateTeamRequest* req,
                                                     v1::Team* resp) {
  return Respond(ctx, "CreateTeam", [&]() -> absl::Status {
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
  return Respond(ctx, "GetTeam", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseTeam(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Team team, core_.GetTeam(id));
    ToProto(team, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListTeams(grpc::CallbackServerContext* ctx,
                                                    const v1::ListTeamsRequest* req,
                                                    v1::ListTeamsResponse* resp) {
  return Respond(ctx, "ListTeams", [&]() -> absl::Status {
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

// ---------------------------------------------------------------------------------------
// Cycles

grpc::ServerUnaryReactor* OkrGrpcService::CreateCycle(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateCycleRequest* req,
                                                      v1::Cycle* resp) {
  return Respond(ctx, "CreateCycle", [&]() -> absl::Status {
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
  return Respond(ctx, "GetCycle", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseCycle(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Cycle cycle, core_.GetCycle(id));
    ToProto(cycle, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListCycles(grpc::CallbackServerContext* ctx,
                                                     const v1::ListCyclesRequest* req,
                                                     v1::ListCyclesResponse* resp) {
  return Respond(ctx, "ListCycles", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(auto page,
                         core_.ListCycles(ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_cycles());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------
// Objectives

grpc::ServerUnaryReactor* OkrGrpcService::CreateObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateObjectiveRequest* req,
                                                          v1::Objective* resp) {
  return Respond(ctx, "CreateObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Objective o, FromProto(req->objective()));
    o.id = req->objective_id();
    if (o.id.empty() && !req->objective().name().empty()) {
      OKR_ASSIGN_OR_RETURN(o.id, names::ParseObjective(req->objective().name(), "objective.name"));
    }
    OKR_ASSIGN_OR_RETURN(Objective created, core_.CreateObjective(std::move(o), req->request_id()));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetObjective(grpc::CallbackServerContext* ctx,
                                                       const v1::GetObjectiveRequest* req,
                                                       v1::Objective* resp) {
  return Respond(ctx, "GetObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.GetObjective(id));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListObjectives(grpc::CallbackServerContext* ctx,
                                                         const v1::ListObjectivesRequest* req,
                                                         v1::ListObjectivesResponse* resp) {
  return Respond(ctx, "ListObjectives", [&]() -> absl::Status {
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
    OKR_ASSIGN_OR_RETURN(auto page, core_.ListObjectives(filter, ToPageRequest(req->page_size(),
                                                                               req->page_token())));
    AppendAll(page.items, resp->mutable_objectives());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateObjectiveRequest* req,
                                                          v1::Objective* resp) {
  return Respond(ctx, "UpdateObjective", [&]() -> absl::Status {
    const v1::Objective& in = req->objective();
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(in.name(), "objective.name"));
    OKR_ASSIGN_OR_RETURN(Objective patch, FromProto(in));
    patch.id = id;
    std::vector<std::string> paths = MaskPaths(req->update_mask(), DefaultObjectivePaths(in));
    if (paths.size() == 1 && paths[0] == "*") {
      paths = {"title", "description",     "team",   "cycle",          "parent",
               "kind",  "progress_source", "weight", "contributes_to", "depends_on"};
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
  return Respond(ctx, "DeleteObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    return core_.DeleteObjective(id, req->etag(), req->force());
  });
}

// ---------------------------------------------------------------------------------------
// Key results

grpc::ServerUnaryReactor* OkrGrpcService::CreateKeyResult(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateKeyResultRequest* req,
                                                          v1::KeyResult* resp) {
  return Respond(ctx, "CreateKeyResult", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string objective_id, names::ParseObjective(req->parent(), "parent"));
    OKR_ASSIGN_OR_RETURN(KeyResult kr, FromProto(req->key_result()));
    kr.objective_id = objective_id;
    kr.id = req->key_result_id();
    OKR_ASSIGN_OR_RETURN(KeyResult created,
                         core_.CreateKeyResult(std::move(kr), req->request_id()));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetKeyResult(grpc::CallbackServerContext* ctx,
                                                       const v1::GetKeyResultRequest* req,
                                                       v1::KeyResult* resp) {
  return Respond(ctx, "GetKeyResult", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(KeyResult kr, core_.GetKeyResult(n.objective_id, n.key_result_id));
    ToProto(kr, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListKeyResults(grpc::CallbackServerContext* ctx,
                                                         const v1::ListKeyResultsRequest* req,
                                                         v1::ListKeyResultsResponse* resp) {
  return Respond(ctx, "ListKeyResults", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string objective_id, names::ParseObjective(req->parent(), "parent"));
    OKR_ASSIGN_OR_RETURN(
        auto page,
        core_.ListKeyResults(objective_id, ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_key_results());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::UpdateKeyResult(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateKeyResultRequest* req,
                                                          v1::KeyResult* resp) {
  return Respond(ctx, "UpdateKeyResult", [&]() -> absl::Status {
    const v1::KeyResult& in = req->key_result();
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n,
                         names::ParseKeyResult(in.name(), "key_result.name"));
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
    std::vector<std::string> paths =
        ExpandKeyResultPaths(MaskPaths(req->update_mask(), DefaultKeyResultPaths(in)), in);
    OKR_ASSIGN_OR_RETURN(KeyResult updated,
                         core_.UpdateKeyResult(patch, paths, in.etag(), req->reopen()));
    ToProto(updated, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteKeyResult(grpc::CallbackServerContext* ctx,
                                                          const v1::DeleteKeyResultRequest* req,
                                                          google::protobuf::Empty*) {
  return Respond(ctx, "DeleteKeyResult", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->name(), "name"));
    return core_.DeleteKeyResult(n.objective_id, n.key_result_id, req->etag());
  });
}

// ---------------------------------------------------------------------------------------
// Check-ins

grpc::ServerUnaryReactor* OkrGrpcService::CreateCheckIn(grpc::CallbackServerContext* ctx,
                                                        const v1::CreateCheckInRequest* req,
                                                        v1::CheckIn* resp) {
  return Respond(ctx, "CreateCheckIn", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
    const v1::CheckIn& in = req->check_in();
    CheckIn c;
    c.objective_id = n.objective_id;
    c.key_result_id = n.key_result_id;
    if (in.has_value()) c.value = in.value();
    if (in.has_confidence()) c.confidence = in.confidence();
    c.note = in.note();
    c.author = in.author();
    OKR_ASSIGN_OR_RETURN(CheckIn created, core_.CreateCheckIn(std::move(c), req->request_id()));
    ToProto(created, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListCheckIns(grpc::CallbackServerContext* ctx,
                                                       const v1::ListCheckInsRequest* req,
                                                       v1::ListCheckInsResponse* resp) {
  return Respond(ctx, "ListCheckIns", [&]() -> absl::Status {
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
  return Respond(ctx, "LinkWorkItem", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
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
  return Respond(ctx, "UnlinkWorkItem", [&]() -> absl::Status {
    if (!req->name().empty()) {
      OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n,
                           names::ParseWorkItemLink(req->name(), "name"));
      return core_.UnlinkWorkItem(n.objective_id, n.key_result_id, n.child_id);
    }
    if (req->parent().empty()) {
      return absl::InvalidArgumentError("name (or parent + tracker + key) is required");
    }
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->parent(), "parent"));
    OKR_ASSIGN_OR_RETURN(Tracker tracker, FromProto(req->tracker(), "tracker"));
    if (req->key().empty()) return absl::InvalidArgumentError("key is required");
    return core_.UnlinkWorkItemByKey(n.objective_id, n.key_result_id, tracker, req->key());
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ListWorkItemLinks(grpc::CallbackServerContext* ctx,
                                                            const v1::ListWorkItemLinksRequest* req,
                                                            v1::ListWorkItemLinksResponse* resp) {
  return Respond(ctx, "ListWorkItemLinks", [&]() -> absl::Status {
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
  return Respond(ctx, "FindWorkItemLinks", [&]() -> absl::Status {
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
  return Respond(ctx, "UpdateWorkItem", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(WorkItem patch, FromProto(req->work_item()));
    std::vector<std::string> paths =
        MaskPaths(req->update_mask(), {"title", "url", "done", "weight"});
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
  return Respond(ctx, "ProposeObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.ProposeObjective(id, req->etag()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::AgreeObjective(grpc::CallbackServerContext* ctx,
                                                         const v1::AgreeObjectiveRequest* req,
                                                         v1::Objective* resp) {
  return Respond(ctx, "AgreeObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(std::string team, names::ParseTeam(req->team(), "team"));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.AgreeObjective(id, team, req->agreed_by()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::ReopenObjective(grpc::CallbackServerContext* ctx,
                                                          const v1::ReopenObjectiveRequest* req,
                                                          v1::Objective* resp) {
  return Respond(ctx, "ReopenObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.ReopenObjective(id, req->reason()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CloseObjective(grpc::CallbackServerContext* ctx,
                                                         const v1::CloseObjectiveRequest* req,
                                                         v1::Objective* resp) {
  return Respond(ctx, "CloseObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(ExplicitScores scores, FromProto(req->key_result_scores(), id));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.CloseObjective(id, scores));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CarryOverObjective(
    grpc::CallbackServerContext* ctx, const v1::CarryOverObjectiveRequest* req,
    v1::Objective* resp) {
  return Respond(ctx, "CarryOverObjective", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(req->name(), "name"));
    OKR_ASSIGN_OR_RETURN(std::string cycle, names::ParseCycle(req->cycle(), "cycle"));
    OKR_ASSIGN_OR_RETURN(Objective o, core_.CarryOverObjective(id, cycle, req->objective_id()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::GetAlignmentTree(grpc::CallbackServerContext* ctx,
                                                           const v1::GetAlignmentTreeRequest* req,
                                                           v1::AlignmentTree* resp) {
  return Respond(ctx, "GetAlignmentTree", [&]() -> absl::Status {
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
  return Respond(ctx, "CheckAlignment", [&]() -> absl::Status {
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

grpc::ServerUnaryReactor* OkrGrpcService::SyncKeyResult(grpc::CallbackServerContext* ctx,
                                                        const v1::SyncKeyResultRequest* req,
                                                        v1::KeyResult* resp) {
  return Respond(ctx, "SyncKeyResult", [&]() -> absl::Status {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName n, names::ParseKeyResult(req->name(), "name"));
    OKR_RETURN_IF_ERROR(core_.GetKeyResult(n.objective_id, n.key_result_id).status());
    if (!key_result_sync_) {
      return absl::FailedPreconditionError(
          "no tracker connector is configured (set OKR_JIRA_URL or OKR_GITLAB_URL)");
    }
    OKR_RETURN_IF_ERROR(key_result_sync_(n.objective_id, n.key_result_id));
    OKR_ASSIGN_OR_RETURN(KeyResult kr, core_.GetKeyResult(n.objective_id, n.key_result_id));
    ToProto(kr, resp);
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
  absl::Status status = absl::OkStatus();
  EventFilter filter;
  if (events_ == nullptr || hub_ == nullptr || clock_ == nullptr) {
    status = EventsUnavailable();
  } else if (req->after_sequence() < 0) {
    status = absl::InvalidArgumentError("after_sequence must not be negative");
  } else {
    absl::StatusOr<EventFilter> parsed = FromProto(req->filter(), "filter");
    status = parsed.status();
    if (parsed.ok()) filter = *std::move(parsed);
  }
  if (observer_ != nullptr) observer_->OnRpc("WatchEvents", status.code(), absl::Now() - start);
  if (!status.ok()) {
    // A reactor that finishes at once.
    class Failed final : public grpc::ServerWriteReactor<v1::Event> {
     public:
      explicit Failed(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Failed(ToGrpcStatus(status));
  }
  auto* reactor = new WatchEventsReactor(*events_, core_, *hub_, *clock_, std::move(filter),
                                         req->after_sequence());
  reactor->Begin();
  return reactor;
}

grpc::ServerUnaryReactor* OkrGrpcService::ListEvents(grpc::CallbackServerContext* ctx,
                                                     const v1::ListEventsRequest* req,
                                                     v1::ListEventsResponse* resp) {
  return Respond(ctx, "ListEvents", [&]() -> absl::Status {
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
  return Respond(ctx, "CreateSubscription", [&]() -> absl::Status {
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
  return Respond(ctx, "GetSubscription", [&]() -> absl::Status {
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
  return Respond(ctx, "ListSubscriptions", [&]() -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(
        auto page, events_->ListSubscriptions(ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_subscriptions());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteSubscription(
    grpc::CallbackServerContext* ctx, const v1::DeleteSubscriptionRequest* req,
    google::protobuf::Empty* resp) {
  return Respond(ctx, "DeleteSubscription", [&]() -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "subscriptions", "name"));
    return events_->DeleteSubscription(id);
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::CreateRule(grpc::CallbackServerContext* ctx,
                                                     const v1::CreateRuleRequest* req,
                                                     v1::Rule* resp) {
  return Respond(ctx, "CreateRule", [&]() -> absl::Status {
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
  return Respond(ctx, "GetRule", [&]() -> absl::Status {
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
  return Respond(ctx, "ListRules", [&]() -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(auto page,
                         events_->ListRules(ToPageRequest(req->page_size(), req->page_token())));
    AppendAll(page.items, resp->mutable_rules());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OkrGrpcService::DeleteRule(grpc::CallbackServerContext* ctx,
                                                     const v1::DeleteRuleRequest* req,
                                                     google::protobuf::Empty* resp) {
  return Respond(ctx, "DeleteRule", [&]() -> absl::Status {
    if (events_ == nullptr) return EventsUnavailable();
    OKR_ASSIGN_OR_RETURN(std::string id, ParseSimpleName(req->name(), "rules", "name"));
    return events_->DeleteRule(id);
  });
}

}  // namespace okr::api
