// Table tests of the one absl::Status -> grpc::Status map and its google.rpc details.
#include "service/api/grpc_status.h"

#include <string>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "service/okr/error_details.h"

namespace okr::api {
namespace {

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status out;
  EXPECT_TRUE(out.ParseFromString(s.error_details()));
  return out;
}

google::rpc::ErrorInfo Info(const google::rpc::Status& s) {
  google::rpc::ErrorInfo info;
  EXPECT_GE(s.details_size(), 1);
  EXPECT_TRUE(s.details(0).UnpackTo(&info));
  return info;
}

TEST(GrpcStatusTest, EveryErrorCarriesErrorInfo_CodesMapOneToOne) {
  struct Case {
    absl::Status status;
    grpc::StatusCode code;
    std::string reason;
    std::string resource;
  };
  const Case cases[] = {
      {absl::NotFoundError("objectives/o1/keyResults/k2 not found"), grpc::NOT_FOUND,
       "RESOURCE_NOT_FOUND", "objectives/o1/keyResults/k2"},
      {absl::AlreadyExistsError("teams/payments already exists"), grpc::ALREADY_EXISTS,
       "RESOURCE_ALREADY_EXISTS", "teams/payments"},
      {absl::AbortedError("etag does not match objectives/o1"), grpc::ABORTED, "ETAG_MISMATCH",
       "objectives/o1"},
      {absl::UnauthenticatedError("unknown or revoked API token"), grpc::UNAUTHENTICATED,
       "TOKEN_INVALID", ""},
      {absl::NotFoundError("objective \"o9\" not found"), grpc::NOT_FOUND, "RESOURCE_NOT_FOUND",
       "objectives/o9"},
      {absl::NotFoundError("key result \"k\" of objective \"o\" not found"), grpc::NOT_FOUND,
       "RESOURCE_NOT_FOUND", "objectives/o/keyResults/k"},
      {absl::InternalError("boom"), grpc::INTERNAL, "INTERNAL", ""},
  };
  for (const Case& c : cases) {
    grpc::Status s = ToGrpcStatus(c.status);
    EXPECT_EQ(s.error_code(), c.code);
    EXPECT_EQ(s.error_message(), std::string(c.status.message()));
    google::rpc::Status d = Details(s);
    EXPECT_EQ(d.code(), static_cast<int>(c.code));
    google::rpc::ErrorInfo info = Info(d);
    EXPECT_EQ(info.reason(), c.reason) << c.status;
    EXPECT_EQ(info.domain(), "okr.v1");
    if (c.resource.empty()) {
      EXPECT_EQ(info.metadata().count("resource"), 0u) << c.status;
    } else {
      EXPECT_EQ(info.metadata().at("resource"), c.resource) << c.status;
    }
  }
}

TEST(GrpcStatusTest, InvalidArgument_NamesTheFieldInBadRequest) {
  struct Case {
    absl::Status status;
    std::string field;
  };
  const Case cases[] = {
      {absl::InvalidArgumentError("key_result.metric.target_value must differ from start_value"),
       "key_result.metric.target_value"},
      {absl::InvalidArgumentError("subscription.target_url: 127.0.0.1 is a loopback address"),
       "subscription.target_url"},
      {absl::InvalidArgumentError("the request is odd"), ""},
      {WithField(absl::InvalidArgumentError("Starts with a capital"), "cycle.end_time"),
       "cycle.end_time"},
  };
  for (const Case& c : cases) {
    google::rpc::Status d = Details(ToGrpcStatus(c.status));
    ASSERT_EQ(d.details_size(), 2);
    google::rpc::BadRequest bad;
    ASSERT_TRUE(d.details(1).UnpackTo(&bad));
    ASSERT_EQ(bad.field_violations_size(), 1);
    EXPECT_EQ(bad.field_violations(0).field(), c.field) << c.status;
    EXPECT_EQ(bad.field_violations(0).description(), std::string(c.status.message()));
  }
}

TEST(GrpcStatusTest, FailedPrecondition_ListsViolations) {
  absl::Status blocked = absl::FailedPreconditionError("objectives/a is PROPOSED; blocked");
  blocked = WithReason(blocked, "ALIGNMENT_BLOCKS_AGREEMENT");
  blocked = WithViolation(blocked, {"CONTRADICTION", "objectives/b/keyResults/k", "pushes down"});
  blocked = WithViolation(blocked, {"CONTRADICTION", "objectives/a/keyResults/j", "pushes up"});
  google::rpc::Status d = Details(ToGrpcStatus(blocked));
  EXPECT_EQ(Info(d).reason(), "ALIGNMENT_BLOCKS_AGREEMENT");
  google::rpc::PreconditionFailure failure;
  ASSERT_TRUE(d.details(1).UnpackTo(&failure));
  ASSERT_EQ(failure.violations_size(), 2);
  EXPECT_EQ(failure.violations(0).type(), "CONTRADICTION");
  EXPECT_EQ(failure.violations(0).subject(), "objectives/b/keyResults/k");
  EXPECT_EQ(failure.violations(1).description(), "pushes up");
}

TEST(GrpcStatusTest, PermissionDenied_NamesRoleAndTeam_UnavailableSaysWhenToRetry) {
  google::rpc::Status d = Details(ToGrpcStatus(absl::PermissionDeniedError(
      "EDITOR on teams/search needed (apiTokens/ada is EDITOR of teams/payments)")));
  google::rpc::ErrorInfo info = Info(d);
  EXPECT_EQ(info.metadata().at("role"), "EDITOR");
  EXPECT_EQ(info.metadata().at("team"), "teams/search");

  d = Details(ToGrpcStatus(absl::UnavailableError("database unreachable")));
  google::rpc::RetryInfo retry;
  ASSERT_EQ(d.details_size(), 2);
  ASSERT_TRUE(d.details(1).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
}

TEST(GrpcStatusTest, Ok_HasNoDetails) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(ToGrpcStatus(absl::OkStatus()).error_details(), "");
}

}  // namespace
}  // namespace okr::api
