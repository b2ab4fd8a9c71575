// Helpers shared by the command files (internal to okrctl): calling a unary RPC, reading
// every page of a List call, printing a response or its error, parsing enum flags, and the
// table layout of each resource.
#ifndef OKR_CLI_OKRCTL_COMMAND_UTIL_H_
#define OKR_CLI_OKRCTL_COMMAND_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/okrctl/commands.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "okr/v1/okr_service.grpc.pb.h"

// Inside a command: `OKRCTL_ASSIGN(std::string name, ObjectiveName(arg));` -- a failed
// StatusOr returns the usage-error exit code from the command.
#define OKRCTL_CAT2(a, b) a##b
#define OKRCTL_CAT(a, b) OKRCTL_CAT2(a, b)
#define OKRCTL_ASSIGN_IMPL(tmp, lhs, expr)             \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return UsageError(ctx, tmp.status()); \
  lhs = *std::move(tmp)
#define OKRCTL_ASSIGN(lhs, expr) OKRCTL_ASSIGN_IMPL(OKRCTL_CAT(okrctl_result_, __LINE__), lhs, expr)

namespace okr::cli {

template <typename Req, typename Resp>
using UnaryMethod = grpc::Status (v1::OkrService::Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// One unary call with the connection's metadata and deadline.
template <typename Req, typename Resp>
grpc::Status Call(CommandContext& ctx, UnaryMethod<Req, Resp> method, const Req& req, Resp* resp) {
  auto call = ctx.connection.NewContext();
  return (ctx.connection.stub().*method)(call.get(), req, resp);
}

// Every page of a List call merged into `all` (repeated fields concatenate).
template <typename Req, typename Resp>
grpc::Status ListAll(CommandContext& ctx, UnaryMethod<Req, Resp> method, Req req, Resp* all) {
  req.set_page_size(1000);
  for (;;) {
    Resp page;
    grpc::Status status = Call(ctx, method, req, &page);
    if (!status.ok()) return status;
    const std::string next = page.next_page_token();
    all->MergeFrom(page);
    if (next.empty()) break;
    req.set_page_token(next);
  }
  all->clear_next_page_token();
  return grpc::Status::OK;
}

// Prints `resp` (or the error) and returns the exit code.
template <typename Resp, typename Text>
int Show(CommandContext& ctx, const grpc::Status& status, const Resp& resp, Text text) {
  if (!status.ok()) return RpcError(ctx, status);
  ctx.printer.Print(resp, [&] { return text(); });
  return kExitOk;
}

// Appends a command to `commands` and returns it, to set its details, flags and run.
inline Command& Add(std::vector<Command>& commands, std::string verb, std::string noun,
                    std::string args_usage, int min_args, int max_args, std::string summary) {
  Command& c = commands.emplace_back();
  c.verb = std::move(verb);
  c.noun = std::move(noun);
  c.args_usage = std::move(args_usage);
  c.min_args = min_args;
  c.max_args = max_args;
  c.summary = std::move(summary);
  return c;
}

// A value of `descriptor` from user text: case-insensitive, '-' for '_', with or without
// `prefix` (e.g. "SUBSCRIPTION_"); never the _UNSPECIFIED value.
absl::StatusOr<int> EnumValue(const google::protobuf::EnumDescriptor* descriptor,
                              const std::string& text, const std::string& what,
                              const std::string& prefix = "");

// "2026-10-01" (midnight UTC) or an RFC 3339 time.
absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(const std::string& text,
                                                           const std::string& what);

template <typename T>
google::protobuf::RepeatedPtrField<T> One(const T& item) {
  google::protobuf::RepeatedPtrField<T> list;
  *list.Add() = item;
  return list;
}

// Table layouts (the `-o table` form of each resource).
std::string TeamTable(const google::protobuf::RepeatedPtrField<v1::Team>& teams, bool colour);
std::string CycleTable(const google::protobuf::RepeatedPtrField<v1::Cycle>& cycles, bool colour);
std::string ObjectiveTable(const google::protobuf::RepeatedPtrField<v1::Objective>& objectives,
                           bool colour);
std::string KeyResultTable(const google::protobuf::RepeatedPtrField<v1::KeyResult>& key_results,
                           bool colour);
std::string CheckInTable(const google::protobuf::RepeatedPtrField<v1::CheckIn>& check_ins,
                         bool colour);
std::string LinkTable(const google::protobuf::RepeatedPtrField<v1::WorkItemLink>& links,
                      bool colour);
std::string TokenTable(const google::protobuf::RepeatedPtrField<v1::ApiToken>& tokens, bool colour);
std::string SubscriptionTable(
    const google::protobuf::RepeatedPtrField<v1::Subscription>& subscriptions, bool colour);
std::string RuleTable(const google::protobuf::RepeatedPtrField<v1::Rule>& rules, bool colour);
std::string FindingTable(const google::protobuf::RepeatedPtrField<v1::Finding>& findings,
                         bool colour);
std::string EventTable(const google::protobuf::RepeatedPtrField<v1::Event>& events, bool colour);
// One event on one line, for `watch`.
std::string EventLine(const v1::Event& event, bool colour);

}  // namespace okr::cli

#endif  // OKR_CLI_OKRCTL_COMMAND_UTIL_H_
