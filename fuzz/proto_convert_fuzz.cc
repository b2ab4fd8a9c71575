// Request messages through the gRPC edge's proto -> domain conversion
// (service/api/proto_convert.h) and the domain's validation, as the handlers of
// service/api/okr_grpc_service.cc apply them before the core sees a request: any bytes
// parse or not, conversion and validation accept or answer INVALID_ARGUMENT, and an
// accepted resource converts back to a message.
//
// Input: one byte choosing the request type (modulo kRequestTypes), then the request's
// protobuf wire encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fuzz/fuzz_checks.h"
#include "okr/v1/okr_service.pb.h"
#include "service/api/proto_convert.h"
#include "service/okr/events.h"
#include "service/okr/model.h"
#include "service/okr/names.h"
#include "service/okr/validation.h"

namespace {

namespace api = okr::api;
namespace v1 = okr::v1;
using okr::fuzz::CheckCode;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// An INVALID_ARGUMENT answer ends the request, as in the handlers; any other code is a
// finding.
template <typename T>
bool Accepted(const absl::StatusOr<T>& converted, const char* what) {
  CheckCode(converted.status(), kInvalid, what);
  return converted.ok();
}
bool Accepted(const absl::Status& status, const char* what) {
  CheckCode(status, kInvalid, what);
  return status.ok();
}

// The id of a Create request: the explicit id, else the one the resource's name gives.
absl::StatusOr<std::string> CreateId(const std::string& id, const std::string& name,
                                     absl::StatusOr<std::string> (*parse)(absl::string_view,
                                                                          absl::string_view),
                                     const char* field) {
  if (!id.empty() || name.empty()) return id;
  return parse(name, field);
}

void CreateTeam(const v1::CreateTeamRequest& req) {
  absl::StatusOr<std::string> id =
      CreateId(req.team_id(), req.team().name(), &okr::names::ParseTeam, "team.name");
  if (!Accepted(id, "team.name")) return;
  absl::StatusOr<okr::Team> team = api::FromProto(req.team(), *id);
  if (!Accepted(team, "FromProto(Team)") || !Accepted(okr::ValidateTeam(*team), "ValidateTeam")) {
    return;
  }
  v1::Team out;
  api::ToProto(*team, &out);
  (void)api::TeamTrackerPaths(req.team(), /*all=*/true);
}

void UpdateTeam(const v1::UpdateTeamRequest& req) {
  absl::StatusOr<std::string> id = okr::names::ParseTeam(req.team().name(), "team.name");
  if (!Accepted(id, "team.name")) return;
  absl::StatusOr<okr::Team> team = api::FromProto(req.team(), *id);
  if (!Accepted(team, "FromProto(Team)")) return;
  (void)api::MaskPaths(req.update_mask(), api::TeamTrackerPaths(req.team(), /*all=*/false));
  (void)okr::ValidateTeam(*team);
}

void CreateCycle(const v1::CreateCycleRequest& req) {
  absl::StatusOr<std::string> id =
      CreateId(req.cycle_id(), req.cycle().name(), &okr::names::ParseCycle, "cycle.name");
  if (!Accepted(id, "cycle.name")) return;
  absl::StatusOr<okr::Cycle> cycle = api::FromProto(req.cycle(), *id);
  if (!Accepted(cycle, "FromProto(Cycle)") ||
      !Accepted(okr::ValidateCycle(*cycle), "ValidateCycle")) {
    return;
  }
  v1::Cycle out;
  api::ToProto(*cycle, &out);
}

void CreateObjective(const v1::CreateObjectiveRequest& req) {
  absl::StatusOr<okr::Objective> objective = api::FromProto(req.objective());
  if (!Accepted(objective, "FromProto(Objective)")) return;
  absl::StatusOr<std::string> id = CreateId(req.objective_id(), req.objective().name(),
                                            &okr::names::ParseObjective, "objective.name");
  if (!Accepted(id, "objective.name")) return;
  objective->id = *id;
  if (!Accepted(okr::ValidateObjective(*objective), "ValidateObjective")) return;
  v1::Objective out;
  api::ToProto(*objective, &out);
}

void UpdateObjective(const v1::UpdateObjectiveRequest& req) {
  absl::StatusOr<std::string> id =
      okr::names::ParseObjective(req.objective().name(), "objective.name");
  if (!Accepted(id, "objective.name")) return;
  absl::StatusOr<okr::Objective> patch = api::FromProto(req.objective());
  if (!Accepted(patch, "FromProto(Objective)")) return;
  patch->id = *id;
  (void)api::MaskPaths(req.update_mask(), {"title", "description"});
  (void)okr::ValidateObjective(*patch);
}

void KeyResultToProto(const okr::KeyResult& kr) {
  v1::KeyResult out;
  api::ToProto(kr, &out);
  if (out.has_work_items()) {
    (void)api::ScopePaths(out.work_items(), /*all=*/true);
    (void)api::ScopesFromProto(out.work_items());
  }
}

void CreateKeyResult(const v1::CreateKeyResultRequest& req) {
  absl::StatusOr<std::string> objective_id = okr::names::ParseObjective(req.parent(), "parent");
  if (!Accepted(objective_id, "parent")) return;
  absl::StatusOr<okr::KeyResult> kr = api::FromProto(req.key_result());
  if (!Accepted(kr, "FromProto(KeyResult)")) return;
  kr->objective_id = *objective_id;
  kr->id = req.key_result_id();
  if (!Accepted(okr::ValidateKeyResult(*kr), "ValidateKeyResult")) return;
  KeyResultToProto(*kr);
}

void UpdateKeyResult(const v1::UpdateKeyResultRequest& req) {
  const v1::KeyResult& in = req.key_result();
  absl::StatusOr<okr::names::KeyResultName> name =
      okr::names::ParseKeyResult(in.name(), "key_result.name");
  if (!Accepted(name, "key_result.name")) return;
  absl::StatusOr<okr::KeyResult> patch = api::FromProto(in);
  if (!Accepted(patch, "FromProto(KeyResult)")) return;
  patch->objective_id = name->objective_id;
  patch->id = name->key_result_id;
  if (in.has_work_items()) {
    patch->scopes = api::ScopesFromProto(in.work_items());
    (void)api::MaskPaths(req.update_mask(), api::ScopePaths(in.work_items(), /*all=*/false));
  }
  if (!Accepted(okr::ValidateKeyResult(*patch), "ValidateKeyResult")) return;
  KeyResultToProto(*patch);
}

void UpdateWorkItem(const v1::UpdateWorkItemRequest& req) {
  absl::StatusOr<okr::WorkItem> item = api::FromProto(req.work_item());
  if (!Accepted(item, "FromProto(WorkItem)") ||
      !Accepted(okr::ValidateWorkItem(*item), "ValidateWorkItem")) {
    return;
  }
  v1::WorkItem out;
  api::ToProto(*item, &out);
}

void CreateSubscription(const v1::CreateSubscriptionRequest& req) {
  absl::StatusOr<okr::Subscription> subscription =
      api::FromProto(req.subscription(), req.subscription_id());
  if (!Accepted(subscription, "FromProto(Subscription)") ||
      !Accepted(okr::ValidateSubscription(*subscription), "ValidateSubscription")) {
    return;
  }
  v1::Subscription out;
  api::ToProto(*subscription, &out);
}

void CreateRule(const v1::CreateRuleRequest& req) {
  absl::StatusOr<okr::Rule> rule = api::FromProto(req.rule(), req.rule_id());
  if (!Accepted(rule, "FromProto(Rule)") || !Accepted(okr::ValidateRule(*rule), "ValidateRule")) {
    return;
  }
  v1::Rule out;
  api::ToProto(*rule, &out);
}

template <typename Request>
void Run(const uint8_t* data, size_t size, void (*handle)(const Request&)) {
  Request request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return;
  handle(request);
}

constexpr int kRequestTypes = 10;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t* wire = data + 1;
  const size_t wire_size = size - 1;
  switch (data[0] % kRequestTypes) {
    case 0:
      Run<v1::CreateTeamRequest>(wire, wire_size, &CreateTeam);
      break;
    case 1:
      Run<v1::UpdateTeamRequest>(wire, wire_size, &UpdateTeam);
      break;
    case 2:
      Run<v1::CreateCycleRequest>(wire, wire_size, &CreateCycle);
      break;
    case 3:
      Run<v1::CreateObjectiveRequest>(wire, wire_size, &CreateObjective);
      break;
    case 4:
      Run<v1::UpdateObjectiveRequest>(wire, wire_size, &UpdateObjective);
      break;
    case 5:
      Run<v1::CreateKeyResultRequest>(wire, wire_size, &CreateKeyResult);
      break;
    case 6:
      Run<v1::UpdateKeyResultRequest>(wire, wire_size, &UpdateKeyResult);
      break;
    case 7:
      Run<v1::UpdateWorkItemRequest>(wire, wire_size, &UpdateWorkItem);
      break;
    case 8:
      Run<v1::CreateSubscriptionRequest>(wire, wire_size, &CreateSubscription);
      break;
    default:
      Run<v1::CreateRuleRequest>(wire, wire_size, &CreateRule);
      break;
  }
  return 0;
}
