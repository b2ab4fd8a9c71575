// OkrGrpcService: the okr.v1.OkrService gRPC service (callback API). Each handler
// translates the request to domain types (service/api/proto_convert.h), calls OkrCore and
// maps the result status once (service/api/grpc_status.h). Holds a non-owning reference
// to the core, which must outlive the server. Thread-safe. Every call gets a request id
// (the caller's `x-request-id` metadata when acceptable, see log::AcceptOrNewRequestId,
// else a new one) that is on every log line emitted while handling it and is returned in
// the initial metadata as `x-request-id`. With access control on (SetAccessControl), each
// call first authenticates its bearer token, then needs the method's least role
// (service/api/access_policy.h) and, for writes to OKRs, the right to write the team.
//
//   OkrGrpcService service(core);
//   builder.RegisterService(&service);
#ifndef OKR_SERVICE_API_OKR_GRPC_SERVICE_H_
#define OKR_SERVICE_API_OKR_GRPC_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "service/api/access_policy.h"
#include "service/api/call_executor.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/core/tokens_core.h"
#include "service/events/event_hub.h"
#include "service/okr/clock.h"
#include "service/okr/freshness.h"

namespace okr::api {

// Told about every RPC of okr.v1.OkrService (for metrics): OnRpcStarted when it arrives,
// OnRpc once when it finishes (a WatchEvents stream when the stream ends, `latency` then
// being its lifetime). Must be thread-safe and fast.
class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void OnRpcStarted(absl::string_view method) {}
  virtual void OnRpc(absl::string_view method, absl::StatusCode code, absl::Duration latency) = 0;
};

class OkrGrpcService final : public v1::OkrService::CallbackService {
 public:
  // `observer` may be null; both must outlive the service.
  explicit OkrGrpcService(core::OkrCore& core, RpcObserver* observer = nullptr)
      : core_(core), observer_(observer) {}

  grpc::ServerUnaryReactor* CreateTeam(grpc::CallbackServerContext* ctx,
                                       const v1::CreateTeamRequest* req, v1::Team* resp) override;
  grpc::ServerUnaryReactor* GetTeam(grpc::CallbackServerContext* ctx, const v1::GetTeamRequest* req,
                                    v1::Team* resp) override;
  grpc::ServerUnaryReactor* ListTeams(grpc::CallbackServerContext* ctx,
                                      const v1::ListTeamsRequest* req,
                                      v1::ListTeamsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateTeam(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateTeamRequest* req, v1::Team* resp) override;
  grpc::ServerUnaryReactor* DeleteTeam(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteTeamRequest* req,
                                       google::protobuf::Empty* resp) override;

  grpc::ServerUnaryReactor* CreateCycle(grpc::CallbackServerContext* ctx,
                                        const v1::CreateCycleRequest* req,
                                        v1::Cycle* resp) override;
  grpc::ServerUnaryReactor* GetCycle(grpc::CallbackServerContext* ctx,
                                     const v1::GetCycleRequest* req, v1::Cycle* resp) override;
  grpc::ServerUnaryReactor* ListCycles(grpc::CallbackServerContext* ctx,
                                       const v1::ListCyclesRequest* req,
                                       v1::ListCyclesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateCycle(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateCycleRequest* req,
                                        v1::Cycle* resp) override;
  grpc::ServerUnaryReactor* DeleteCycle(grpc::CallbackServerContext* ctx,
                                        const v1::DeleteCycleRequest* req,
                                        google::protobuf::Empty* resp) override;

  grpc::ServerUnaryReactor* CreateObjective(grpc::CallbackServerContext* ctx,
                                            const v1::CreateObjectiveRequest* req,
                                            v1::Objective* resp) override;
  grpc::ServerUnaryReactor* GetObjective(grpc::CallbackServerContext* ctx,
                                         const v1::GetObjectiveRequest* req,
                                         v1::Objective* resp) override;
  grpc::ServerUnaryReactor* ListObjectives(grpc::CallbackServerContext* ctx,
                                           const v1::ListObjectivesRequest* req,
                                           v1::ListObjectivesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateObjective(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateObjectiveRequest* req,
                                            v1::Objective* resp) override;
  grpc::ServerUnaryReactor* DeleteObjective(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteObjectiveRequest* req,
                                            google::protobuf::Empty* resp) override;

  grpc::ServerUnaryReactor* CreateKeyResult(grpc::CallbackServerContext* ctx,
                                            const v1::CreateKeyResultRequest* req,
                                            v1::KeyResult* resp) override;
  grpc::ServerUnaryReactor* GetKeyResult(grpc::CallbackServerContext* ctx,
                                         const v1::GetKeyResultRequest* req,
                                         v1::KeyResult* resp) override;
  grpc::ServerUnaryReactor* ListKeyResults(grpc::CallbackServerContext* ctx,
                                           const v1::ListKeyResultsRequest* req,
                                           v1::ListKeyResultsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateKeyResult(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateKeyResultRequest* req,
                                            v1::KeyResult* resp) override;
  grpc::ServerUnaryReactor* DeleteKeyResult(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteKeyResultRequest* req,
                                            google::protobuf::Empty* resp) override;

  grpc::ServerUnaryReactor* CreateCheckIn(grpc::CallbackServerContext* ctx,
                                          const v1::CreateCheckInRequest* req,
                                          v1::CheckIn* resp) override;
  grpc::ServerUnaryReactor* GetCheckIn(grpc::CallbackServerContext* ctx,
                                       const v1::GetCheckInRequest* req,
                                       v1::CheckIn* resp) override;
  grpc::ServerUnaryReactor* ListCheckIns(grpc::CallbackServerContext* ctx,
                                         const v1::ListCheckInsRequest* req,
                                         v1::ListCheckInsResponse* resp) override;

  grpc::ServerUnaryReactor* LinkWorkItem(grpc::CallbackServerContext* ctx,
                                         const v1::LinkWorkItemRequest* req,
                                         v1::WorkItemLink* resp) override;
  grpc::ServerUnaryReactor* UnlinkWorkItem(grpc::CallbackServerContext* ctx,
                                           const v1::UnlinkWorkItemRequest* req,
                                           google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* ListWorkItemLinks(grpc::CallbackServerContext* ctx,
                                              const v1::ListWorkItemLinksRequest* req,
                                              v1::ListWorkItemLinksResponse* resp) override;
  grpc::ServerUnaryReactor* FindWorkItemLinks(grpc::CallbackServerContext* ctx,
                                              const v1::FindWorkItemLinksRequest* req,
                                              v1::FindWorkItemLinksResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateWorkItem(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateWorkItemRequest* req,
                                           v1::WorkItem* resp) override;

  // Re-reads a key result's tracker items now (through the hook below), then returns it.
  grpc::ServerUnaryReactor* SyncKeyResult(grpc::CallbackServerContext* ctx,
                                          const v1::SyncKeyResultRequest* req,
                                          v1::KeyResult* resp) override;
  // The reconciliation the composition root provides for SyncKeyResult: (objective id,
  // key result id) -> status. Without it SyncKeyResult fails with FAILED_PRECONDITION.
  // Set before the server starts.
  using KeyResultSync = std::function<absl::Status(const std::string&, const std::string&)>;
  void SetKeyResultSync(KeyResultSync sync) { key_result_sync_ = std::move(sync); }
  // Where work-items key results' `work_items.freshness` comes from (null: left empty).
  // Must outlive the service.
  void SetFreshness(const FreshnessSource* freshness) { freshness_ = freshness; }

  // The OKR process.
  grpc::ServerUnaryReactor* ProposeObjective(grpc::CallbackServerContext* ctx,
                                             const v1::ProposeObjectiveRequest* req,
                                             v1::Objective* resp) override;
  grpc::ServerUnaryReactor* AgreeObjective(grpc::CallbackServerContext* ctx,
                                           const v1::AgreeObjectiveRequest* req,
                                           v1::Objective* resp) override;
  grpc::ServerUnaryReactor* ReopenObjective(grpc::CallbackServerContext* ctx,
                                            const v1::ReopenObjectiveRequest* req,
                                            v1::Objective* resp) override;
  grpc::ServerUnaryReactor* CloseObjective(grpc::CallbackServerContext* ctx,
                                           const v1::CloseObjectiveRequest* req,
                                           v1::Objective* resp) override;
  grpc::ServerUnaryReactor* CarryOverObjective(grpc::CallbackServerContext* ctx,
                                               const v1::CarryOverObjectiveRequest* req,
                                               v1::Objective* resp) override;
  grpc::ServerUnaryReactor* GetAlignmentTree(grpc::CallbackServerContext* ctx,
                                             const v1::GetAlignmentTreeRequest* req,
                                             v1::AlignmentTree* resp) override;
  grpc::ServerUnaryReactor* CheckAlignment(grpc::CallbackServerContext* ctx,
                                           const v1::CheckAlignmentRequest* req,
                                           v1::CheckAlignmentResponse* resp) override;

  // Events, subscriptions, rules (service/api/watch_events.h streams).
  grpc::ServerWriteReactor<v1::Event>* WatchEvents(grpc::CallbackServerContext* ctx,
                                                   const v1::WatchEventsRequest* req) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* ctx,
                                       const v1::ListEventsRequest* req,
                                       v1::ListEventsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateSubscription(grpc::CallbackServerContext* ctx,
                                               const v1::CreateSubscriptionRequest* req,
                                               v1::Subscription* resp) override;
  grpc::ServerUnaryReactor* GetSubscription(grpc::CallbackServerContext* ctx,
                                            const v1::GetSubscriptionRequest* req,
                                            v1::Subscription* resp) override;
  grpc::ServerUnaryReactor* ListSubscriptions(grpc::CallbackServerContext* ctx,
                                              const v1::ListSubscriptionsRequest* req,
                                              v1::ListSubscriptionsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateSubscription(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateSubscriptionRequest* req,
                                               v1::Subscription* resp) override;
  grpc::ServerUnaryReactor* DeleteSubscription(grpc::CallbackServerContext* ctx,
                                               const v1::DeleteSubscriptionRequest* req,
                                               google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* CreateRule(grpc::CallbackServerContext* ctx,
                                       const v1::CreateRuleRequest* req, v1::Rule* resp) override;
  grpc::ServerUnaryReactor* GetRule(grpc::CallbackServerContext* ctx, const v1::GetRuleRequest* req,
                                    v1::Rule* resp) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* ctx,
                                      const v1::ListRulesRequest* req,
                                      v1::ListRulesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateRule(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateRuleRequest* req, v1::Rule* resp) override;
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteRuleRequest* req,
                                       google::protobuf::Empty* resp) override;

  grpc::ServerUnaryReactor* CreateApiToken(grpc::CallbackServerContext* ctx,
                                           const v1::CreateApiTokenRequest* req,
                                           v1::ApiToken* resp) override;
  grpc::ServerUnaryReactor* GetApiToken(grpc::CallbackServerContext* ctx,
                                        const v1::GetApiTokenRequest* req,
                                        v1::ApiToken* resp) override;
  grpc::ServerUnaryReactor* ListApiTokens(grpc::CallbackServerContext* ctx,
                                          const v1::ListApiTokensRequest* req,
                                          v1::ListApiTokensResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteApiToken(grpc::CallbackServerContext* ctx,
                                           const v1::DeleteApiTokenRequest* req,
                                           google::protobuf::Empty* resp) override;

  // Serves the token RPCs (without it they answer UNIMPLEMENTED) and, when `enforce` is
  // true (--auth=tokens), makes every call authenticate with `authorization: Bearer
  // <secret>` (UNAUTHENTICATED otherwise) and pass the method's least role and the team
  // checks (PERMISSION_DENIED naming what is needed, one audit log line each). Without
  // enforcement every caller acts as an anonymous ADMIN. Set before the server starts;
  // `tokens` must outlive the service.
  void SetAccessControl(core::TokensCore* tokens, bool enforce) {
    tokens_ = tokens;
    auth_enabled_ = enforce;
  }

  // Serves the event RPCs; without it they answer UNIMPLEMENTED. All must outlive the
  // service. `on_rule_change` (may be empty) is called after a rule is created.
  void SetEvents(core::EventsCore* events, events::EventHub* hub, const Clock* clock,
                 std::function<void()> on_rule_change = {}) {
    events_ = events;
    hub_ = hub;
    clock_ = clock;
    on_rule_change_ = std::move(on_rule_change);
  }

 private:
  // One unary call from arrival to Finish: Begin authenticates and authorises, Complete
  // records, logs and finishes it.
  struct Call {
    grpc::ServerUnaryReactor* reactor = nullptr;
    absl::Time start;
    std::string request_id;
    absl::StatusOr<Caller> caller;
    absl::Status status;  // what Begin decided (not OK: fn must not run)
  };
  Call Begin(grpc::CallbackServerContext* ctx, absl::string_view method,
             const google::protobuf::Message& req);
  void Complete(Call& call, absl::string_view method, const google::protobuf::Message& req,
                absl::Status status);
  template <typename Fn>
  grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* ctx, absl::string_view method,
                                    const google::protobuf::Message& req, Fn&& fn);
  // Respond for handlers that wait on something slow: `fn` runs on `pool`, never on a gRPC
  // callback thread (UNAVAILABLE at once, saying the call was `waiting_for` something,
  // when too many such calls wait). `fn` outlives the handler: capture by value.
  template <typename Fn>
  grpc::ServerUnaryReactor* RespondOn(CallExecutor& pool, absl::string_view waiting_for,
                                      grpc::CallbackServerContext* ctx, absl::string_view method,
                                      const google::protobuf::Message& req, Fn fn);
  // Who is calling (UNAUTHENTICATED without a valid token when enforced).
  absl::StatusOr<Caller> Authenticate(grpc::CallbackServerContext* ctx, absl::string_view method);
  // PERMISSION_DENIED unless the caller may write the OKRs of the team (or, for an
  // objective, of its team); NOT_FOUND for a missing objective.
  absl::Status RequireTeamWrite(const Caller& caller, const std::string& team_id);
  absl::Status RequireObjectiveWrite(const Caller& caller, const std::string& objective_id);
  // The team a write request is about ("" if it cannot tell), to name it in a refusal.
  std::string TeamOfRequest(const google::protobuf::Message& req);
  // Fills `work_items.freshness` of a work-items key result (see the .cc).
  absl::Status AddFreshness(const KeyResult& kr, v1::KeyResult* out);

  core::OkrCore& core_;
  RpcObserver* observer_;
  KeyResultSync key_result_sync_;
  const FreshnessSource* freshness_ = nullptr;
  core::EventsCore* events_ = nullptr;
  events::EventHub* hub_ = nullptr;
  const Clock* clock_ = nullptr;
  std::function<void()> on_rule_change_;
  core::TokensCore* tokens_ = nullptr;
  bool auth_enabled_ = false;
  // The last members: destroyed first, so calls still queued there finish while the rest
  // of the service exists.
  // Handlers that wait on the trackers (SyncKeyResult).
  std::unique_ptr<CallExecutor> blocking_calls_ =
      std::make_unique<CallExecutor>(/*threads=*/4, /*max_queued=*/64);
  // Durable writes at high rates (CreateCheckIn): each waits for the commit that holds it,
  // and the store commits every waiting write in one transaction (one fsync), so the more
  // wait together the fewer commits. gRPC 1.51 runs callback handlers on few threads
  // (cores / 2, at least 2): blocking those would keep batches that small. These mostly
  // sleep.
  std::unique_ptr<CallExecutor> durable_writes_ =
      std::make_unique<CallExecutor>(/*threads=*/64, /*max_queued=*/4096);
};

}  // namespace okr::api

#endif  // OKR_SERVICE_API_OKR_GRPC_SERVICE_H_
