#include "service/outbound/status_mapping.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::outbound {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

struct MappingCase {
  int http_status;
  absl::StatusCode code;
};

class StatusMappingTest : public ::testing::TestWithParam<MappingCase> {};

TEST_P(StatusMappingTest, HttpStatus_MapsToStatusCode) {
  const MappingCase& c = GetParam();
  HttpResponse response;
  response.status = c.http_status;

  EXPECT_EQ(StatusCodeForHttpStatus(c.http_status), c.code);
  EXPECT_EQ(HttpResponseToStatus("GET", "https://jira.example/x", response).code(), c.code);
}

INSTANTIATE_TEST_SUITE_P(AllCodes, StatusMappingTest,
                         ::testing::Values(MappingCase{200, absl::StatusCode::kOk},
                                           MappingCase{201, absl::StatusCode::kOk},
                                           MappingCase{204, absl::StatusCode::kOk},
                                           MappingCase{299, absl::StatusCode::kOk},
                                           MappingCase{100, absl::StatusCode::kUnknown},
                                           MappingCase{301, absl::StatusCode::kUnknown},
                                           MappingCase{302, absl::StatusCode::kUnknown},
                                           MappingCase{304, absl::StatusCode::kFailedPrecondition},
                                           MappingCase{400, absl::StatusCode::kInvalidArgument},
                                           MappingCase{401, absl::StatusCode::kUnauthenticated},
                                           MappingCase{403, absl::StatusCode::kPermissionDenied},
                                           MappingCase{404, absl::StatusCode::kNotFound},
                                           MappingCase{405, absl::StatusCode::kUnimplemented},
                                           MappingCase{406, absl::StatusCode::kFailedPrecondition},
                                           MappingCase{408, absl::StatusCode::kDeadlineExceeded},
                                           MappingCase{409, absl::StatusCode::kAborted},
                                           MappingCase{410, absl::StatusCode::kNotFound},
                                           MappingCase{412, absl::StatusCode::kFailedPrecondition},
                                           MappingCase{413, absl::StatusCode::kInvalidArgument},
                                           MappingCase{414, absl::StatusCode::kInvalidArgument},
                                           MappingCase{415, absl::StatusCode::kInvalidArgument},
                                           MappingCase{416, absl::StatusCode::kOutOfRange},
                                           MappingCase{418, absl::StatusCode::kFailedPrecondition},
                                           MappingCase{422, absl::StatusCode::kInvalidArgument},
                                           MappingCase{425, absl::StatusCode::kUnavailable},
                                           MappingCase{429, absl::StatusCode::kResourceExhausted},
                                           MappingCase{451, absl::StatusCode::kFailedPrecondition},
                                           MappingCase{500, absl::StatusCode::kUnavailable},
                                           MappingCase{501, absl::StatusCode::kUnimplemented},
                                           MappingCase{502, absl::StatusCode::kUnavailable},
                                           MappingCase{503, absl::StatusCode::kUnavailable},
                                           MappingCase{504, absl::StatusCode::kDeadlineExceeded},
                                           MappingCase{505, absl::StatusCode::kInternal},
                                           MappingCase{599, absl::StatusCode::kInternal},
                                           MappingCase{0, absl::StatusCode::kUnknown},
                                           MappingCase{600, absl::StatusCode::kUnknown}),
                         [](const ::testing::TestParamInfo<MappingCase>& info) {
                           return "Http" + std::to_string(info.param.http_status);
                         });

struct RetryableCase {
  int http_status;
  bool retryable;
};

class IsRetryableTest : public ::testing::TestWithParam<RetryableCase> {};

TEST_P(IsRetryableTest, OnlyTransientStatuses_AreRetryable) {
  EXPECT_EQ(IsRetryable(GetParam().http_status), GetParam().retryable);
}

INSTANTIATE_TEST_SUITE_P(AllCodes, IsRetryableTest,
                         ::testing::Values(RetryableCase{200, false}, RetryableCase{400, false},
                                           RetryableCase{401, false}, RetryableCase{403, false},
                                           RetryableCase{404, false}, RetryableCase{408, true},
                                           RetryableCase{409, false}, RetryableCase{412, false},
                                           RetryableCase{422, false}, RetryableCase{425, true},
                                           RetryableCase{429, true}, RetryableCase{500, true},
                                           RetryableCase{501, false}, RetryableCase{502, true},
                                           RetryableCase{503, true}, RetryableCase{504, true},
                                           RetryableCase{505, false}),
                         [](const ::testing::TestParamInfo<RetryableCase>& info) {
                           return "Http" + std::to_string(info.param.http_status);
                         });

TEST(HttpResponseToStatusTest, Message_NamesStatusMethodAndPathWithoutQueryOrCredentials) {
  HttpResponse response;
  response.status = 404;
  response.body = R"({"errorMessages":["Issue does not exist or you do not have permission"]})";

  absl::Status status = HttpResponseToStatus(
      "GET", "https://me:s3cret@acme.atlassian.net/rest/api/3/issue/OKRX-1?fields=summary&t=tok",
      response);

  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "HTTP 404 from GET https://acme.atlassian.net/rest/api/3/issue/OKRX-1: "
            R"({"errorMessages":["Issue does not exist or you do not have permission"]})");
  EXPECT_THAT(status.message(), Not(HasSubstr("s3cret")));
  EXPECT_THAT(status.message(), Not(HasSubstr("tok")));
}

TEST(HttpResponseToStatusTest, LongBody_IsTruncatedToTwoHundredBytes) {
  HttpRequest request;
  request.method = "POST";
  request.url = "https://gitlab.example/api/v4/projects/1/issues";
  HttpResponse response;
  response.status = 500;
  response.body = std::string(1000, 'e');

  absl::Status status = HttpResponseToStatus(request, response);

  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  const std::string prefix = "HTTP 500 from POST https://gitlab.example/api/v4/projects/1/issues: ";
  ASSERT_THAT(std::string(status.message()), ::testing::StartsWith(prefix));
  const std::string excerpt(status.message().substr(prefix.size()));
  EXPECT_EQ(excerpt.size(), kMaxBodyExcerptBytes);
  EXPECT_THAT(excerpt, EndsWith("..."));
}

TEST(HttpResponseToStatusTest, BodyExcerpt_IsOneLineAndNeverSplitsAUtf8Character) {
  HttpResponse response;
  response.status = 400;
  // 98 ASCII bytes then 2-byte characters: byte 197 (the cut) falls inside a character.
  std::string body = "line one\r\nline two" + std::string(80, 'a');
  for (int i = 0; i < 100; ++i) body += "\xC3\xA9";  // U+00E9
  response.body = body;

  absl::Status status = HttpResponseToStatus("GET", "https://x/y", response);

  EXPECT_THAT(status.message(), HasSubstr("line one  line two"));
  EXPECT_THAT(std::string(status.message()), EndsWith("\xC3\xA9..."));
}

TEST(HttpResponseToStatusTest, EmptyBody_EndsAfterTheUrl) {
  HttpResponse response;
  response.status = 401;

  EXPECT_EQ(HttpResponseToStatus("DELETE", "https://x/a?b=c", response),
            absl::UnauthenticatedError("HTTP 401 from DELETE https://x/a"));
}

TEST(HttpResponseToStatusTest, Success_IsOk) {
  HttpResponse response;
  response.status = 204;
  response.body = "ignored";

  EXPECT_TRUE(HttpResponseToStatus("PUT", "https://x/a", response).ok());
}

// ---- Failure classes ----

HttpResponse WithStatus(int status, std::string body = "") {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

struct FailureClassCase {
  absl::StatusOr<HttpResponse> result;
  std::string expected;
};

class FailureClassTest : public ::testing::TestWithParam<FailureClassCase> {};

TEST_P(FailureClassTest, NamesOnlyTheClass) {
  EXPECT_EQ(FailureClass(GetParam().result), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Classes, FailureClassTest,
    ::testing::Values(
        FailureClassCase{WithStatus(200, "fine"), ""}, FailureClassCase{WithStatus(204), ""},
        FailureClassCase{WithStatus(500, "<html>stack trace with secrets</html>"), "HTTP 500"},
        FailureClassCase{WithStatus(404, "no such hook"), "HTTP 404"},
        FailureClassCase{WithStatus(302), "HTTP 302"},
        FailureClassCase{WithFailureClass(absl::UnavailableError("POST http://x/: Failed to "
                                                                 "connect to x port 80: refused"),
                                          "connection refused"),
                         "connection refused"},
        FailureClassCase{WithFailureClass(absl::PermissionDeniedError("POST http://x/: 127.0.0.1 "
                                                                      "is a loopback address"),
                                          "address not allowed (loopback)"),
                         "address not allowed (loopback)"},
        // Without an attached class: from the code, never the message.
        FailureClassCase{absl::DeadlineExceededError("curl: Operation timed out after 10001 ms"),
                         "timeout"},
        FailureClassCase{absl::PermissionDeniedError("10.0.0.1 is a private address"),
                         "address not allowed"},
        FailureClassCase{absl::ResourceExhaustedError("body over 16 MiB"), "response too large"},
        FailureClassCase{absl::InvalidArgumentError("bad URL"), "invalid request"},
        FailureClassCase{absl::UnavailableError("SSL certificate problem: self-signed"),
                         "connection failed"}));

TEST(FailureClassTest, WithFailureClass_KeepsCodeAndMessage) {
  absl::Status status = WithFailureClass(absl::UnavailableError("detail"), "TLS error");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "detail");
  EXPECT_EQ(FailureClass(status), "TLS error");
}

}  // namespace
}  // namespace okr::outbound
