// Translation between the public API messages (okr.v1) and the domain model: resource
// names to ids (errors name the request field), enums, timestamps, optional fields.
// Pure functions; the gRPC service calls these and nothing else touches both worlds.
#ifndef OKR_SERVICE_API_PROTO_CONVERT_H_
#define OKR_SERVICE_API_PROTO_CONVERT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "okr/v1/okr_service.pb.h"
#include "service/core/okr_core.h"
#include "service/okr/access.h"
#include "service/okr/alignment.h"
#include "service/okr/events.h"
#include "service/okr/freshness.h"
#include "service/okr/model.h"
#include "service/okr/scoring.h"

namespace okr::api {

// Timestamps. An unset timestamp is absl::InfinitePast().
absl::StatusOr<absl::Time> FromProtoTime(const google::protobuf::Timestamp& ts,
                                         absl::string_view field);
void ToProtoTime(absl::Time t, google::protobuf::Timestamp* out);

// Domain -> proto.
void ToProto(const Team& team, v1::Team* out);
void ToProto(const Cycle& cycle, v1::Cycle* out);
void ToProto(const Objective& objective, v1::Objective* out);
void ToProto(const KeyResult& kr, v1::KeyResult* out);
void ToProto(const CheckIn& check_in, v1::CheckIn* out);
void ToProto(const WorkItem& item, v1::WorkItem* out);
void ToProto(const WorkItemLink& link, v1::WorkItemLink* out);
void ToProto(const Finding& finding, v1::Finding* out);
// The node and, recursively, its children.
void ToProto(const core::AlignmentNode& node, v1::AlignmentNode* out);

// Proto -> domain (input fields only; output-only fields are ignored).
absl::StatusOr<Team> FromProto(const v1::Team& team, const std::string& team_id);
absl::StatusOr<Cycle> FromProto(const v1::Cycle& cycle, const std::string& cycle_id);
absl::StatusOr<Objective> FromProto(const v1::Objective& objective);
// `objective_id` is the parent; `name` of the message is ignored when creating.
absl::StatusOr<KeyResult> FromProto(const v1::KeyResult& kr);
absl::StatusOr<WorkItem> FromProto(const v1::WorkItem& item);
absl::StatusOr<Tracker> FromProto(v1::Tracker tracker, absl::string_view field);
// The explicit scores of CloseObjective{objective_id}, by key result id. INVALID_ARGUMENT
// naming key_result_scores[i] for a malformed name, a key result of another objective, or
// a key result listed twice (the values themselves are checked by scoring.h).
absl::StatusOr<ExplicitScores> FromProto(
    const google::protobuf::RepeatedPtrField<v1::KeyResultScore>& scores,
    const std::string& objective_id);

// Events, subscriptions, rules. `field` prefixes error messages ("filter").
void ToProto(const Event& event, v1::Event* out);
// The Event message in proto3 JSON (lowerCamelCase names, enums by name, every field
// printed, zeros included): the body of a webhook subscription delivery.
std::string EventToJson(const Event& event);
void ToProto(const EventFilter& filter, v1::EventFilter* out);
void ToProto(const Subscription& subscription, v1::Subscription* out);
void ToProto(const Rule& rule, v1::Rule* out);
absl::StatusOr<EventFilter> FromProto(const v1::EventFilter& filter, absl::string_view field);
absl::StatusOr<Subscription> FromProto(const v1::Subscription& subscription,
                                       const std::string& subscription_id);
absl::StatusOr<Rule> FromProto(const v1::Rule& rule, const std::string& rule_id);
// API tokens; `secret` (only set right after creation) is copied when not empty.
void ToProto(const ApiToken& token, const std::string& secret, v1::ApiToken* out);
void ToProto(const TrackerFreshness& freshness, v1::TrackerFreshness* out);
absl::StatusOr<ApiToken> FromProto(const v1::ApiToken& token, const std::string& token_id);

// The tracker scopes of a work-items key result <-> the scope fields of `work_items` that
// the tracker table names (TrackerTraits::scope_*_field: jira_jql, gitlab_project, ...).
// FromProto keeps every tracker with any part set (validation.h rejects partial ones).
void ScopesToProto(const std::map<Tracker, TrackerScope>& scopes, v1::WorkItemsKeyResult* out);
std::map<Tracker, TrackerScope> ScopesFromProto(const v1::WorkItemsKeyResult& in);
// Update mask paths of the scope fields ("work_items.jira_jql", ...): the ones set in `in`
// (not empty), or every one when `all`.
std::vector<std::string> ScopePaths(const v1::WorkItemsKeyResult& in, bool all);

// Update mask paths of a team's tracker fields (jira_project_key, jira_issue_type,
// gitlab_project, ...: the tracker table's team_*_field): the ones set in `in`, or every one
// when `all`.
std::vector<std::string> TeamTrackerPaths(const v1::Team& in, bool all);

// Update masks: the paths of `mask`, or when it is empty, the given default paths.
std::vector<std::string> MaskPaths(const google::protobuf::FieldMask& mask,
                                   std::vector<std::string> defaults);

// Paging.
core::PageRequest ToPageRequest(int32_t page_size, const std::string& page_token);

}  // namespace okr::api

#endif  // OKR_SERVICE_API_PROTO_CONVERT_H_
