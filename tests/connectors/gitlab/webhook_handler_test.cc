// The GitLab connector's webhook half behind the webhook ingress (service/http), against a
// recording TrackerSink: the order of checks, what reaches the sink (state, delivery id),
// and the answer for every sink outcome and failure.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connectors/gitlab/gitlab_connector.h"
#include "connectors/gitlab/webhook.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/http/webhook_ingress.h"
#include "service/sync/tracker_sync.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"
#include "tests/testing/webhook_route.h"

namespace okr::connectors::gitlab {
namespace {

using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabIssueHook;
using ::okr::testing::FakeGitLabServer;
using ::okr::testing::GitLabHookTimeFormat;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kToken[] = "hook-secret";
constexpr char kProject[] = "acme/checkout";

// Records every call and answers with a scripted outcome or error. Thread-safe.
class RecordingSink final : public sync::TrackerSink {
 public:
  struct Call {
    WorkItem state;
    std::string delivery_id;
  };

  absl::StatusOr<sync::SyncOutcome> ApplyItem(const WorkItem& state,
                                              const std::string& delivery_id) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back({state, delivery_id});
    return answer_;
  }
  absl::StatusOr<sync::TrackerDeletion> RemoveItem(Tracker, const std::string&, const std::string&,
                                                   const std::string&) override {
    return absl::InternalError("GitLab never deletes through a hook");
  }

  void Answer(absl::StatusOr<sync::SyncOutcome> answer) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
  }
  std::vector<Call> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<sync::SyncOutcome> answer_ ABSL_GUARDED_BY(mu_) = sync::SyncOutcome::kApplied;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
};

// The connector of an instance with this webhook token (its REST half is unused).
std::unique_ptr<sync::TrackerConnector> Connector(okr::testing::NoNetworkHttpClient& http,
                                                  const std::string& webhook_token) {
  GitLabInstanceConfig instance;
  instance.name = "default";
  instance.url = "https://gitlab.example.com";
  instance.token = "rest-token";
  instance.webhook_token = webhook_token;
  absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> connector =
      MakeGitLabConnector(instance, http);
  EXPECT_TRUE(connector.ok()) << connector.status();
  return connector.ok() ? *std::move(connector) : nullptr;
}

class GitLabWebhookHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okr::testing::FakeGitLabOptions options;
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject(kProject);
    FakeGitLabIssue issue;
    issue.iid = 7;
    issue.title = "Checkout epic";
    issue.weight = 3;
    ASSERT_TRUE(fake_->AddIssue(kProject, issue).ok());
  }

  FakeGitLabIssueHook CloseHook(GitLabHookTimeFormat format = GitLabHookTimeFormat::kIso8601) {
    absl::StatusOr<FakeGitLabIssueHook> hook = fake_->CloseIssue(kProject, 7, format);
    EXPECT_TRUE(hook.ok()) << hook.status();
    return hook.ok() ? *hook : FakeGitLabIssueHook{};
  }

  static http::HttpRequest Request(const FakeGitLabIssueHook& hook,
                                   const std::string& token = kToken) {
    http::HttpRequest request;
    request.body = hook.Serialize();
    request.headers["x-gitlab-event"] =
        hook.confidential ? "Confidential Issue Hook" : "Issue Hook";
    if (!token.empty()) request.headers["x-gitlab-token"] = token;
    if (!hook.idempotency_key.empty()) request.headers["idempotency-key"] = hook.idempotency_key;
    return request;
  }

  // 2025-06-04T12:03:07.640Z: REST would say .640, the hook says :07.
  okr::testing::FakeClock clock_{absl::FromUnixMillis(1749038587640)};
  std::unique_ptr<FakeGitLabServer> fake_;
  okr::testing::NoNetworkHttpClient http_;
  RecordingSink sink_;
  std::unique_ptr<sync::TrackerConnector> connector_ = Connector(http_, kToken);
  http::WebhookIngress handler_{*connector_, sink_};
};

TEST_F(GitLabWebhookHandlerTest, IssueHook_HandsTheIssueStateToTheSink) {
  const FakeGitLabIssueHook hook = CloseHook(GitLabHookTimeFormat::kUtcSuffix);
  http::WebhookAnswer response = handler_.Handle(Request(hook));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  EXPECT_EQ(response.body, R"({"status":"accepted"})");

  const std::vector<RecordingSink::Call> calls = sink_.calls();
  ASSERT_THAT(calls, SizeIs(1));
  const WorkItem& state = calls[0].state;
  EXPECT_EQ(state.tracker, Tracker::kGitLab);
  EXPECT_EQ(state.key, "acme/checkout#7");
  EXPECT_EQ(state.title, "Checkout epic");
  EXPECT_TRUE(state.done);
  EXPECT_EQ(state.weight, 3);
  absl::StatusOr<FakeGitLabIssue> issue = fake_->GetIssue(kProject, 7);
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(state.external_id, std::to_string(issue->id));
  EXPECT_EQ(state.url, issue->web_url);
  EXPECT_EQ(state.source_updated, absl::FromUnixSeconds(1749038587));  // whole seconds
  EXPECT_EQ(calls[0].delivery_id, hook.idempotency_key);
}

TEST_F(GitLabWebhookHandlerTest, NoIdempotencyKey_DeliveryIdIsTheBodyHash) {
  FakeGitLabIssueHook hook = CloseHook();
  hook.idempotency_key.clear();
  const http::HttpRequest request = Request(hook);
  ASSERT_EQ(handler_.Handle(request).status, 200);
  ASSERT_THAT(sink_.calls(), SizeIs(1));
  EXPECT_EQ(sink_.calls()[0].delivery_id, DedupeKey("", request.body));
  EXPECT_THAT(sink_.calls()[0].delivery_id, SizeIs(64));
}

TEST_F(GitLabWebhookHandlerTest, SinkOutcomes_MapToTwoHundredAnswers) {
  struct Case {
    sync::SyncOutcome outcome;
    const char* answer;
  };
  for (const Case& c :
       {Case{sync::SyncOutcome::kApplied, "accepted"},
        Case{sync::SyncOutcome::kUnchanged, "accepted"},
        Case{sync::SyncOutcome::kDuplicate, "duplicate"}, Case{sync::SyncOutcome::kStale, "stale"},
        Case{sync::SyncOutcome::kUntracked, "ignored"}}) {
    sink_.Answer(c.outcome);
    http::WebhookAnswer response = handler_.Handle(Request(CloseHook()));
    EXPECT_EQ(response.status, 200) << c.answer;
    EXPECT_EQ(response.outcome, c.answer);
    EXPECT_EQ(response.body, absl::StrCat(R"({"status":")", c.answer, R"("})"));
  }
}

TEST_F(GitLabWebhookHandlerTest, SinkUnavailable_503SoGitLabMayRetry) {
  sink_.Answer(absl::UnavailableError("database is locked"));
  http::WebhookAnswer response = handler_.Handle(Request(CloseHook()));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.outcome, "unavailable");
  EXPECT_THAT(response.body, HasSubstr(R"("code":503)"));
  EXPECT_THAT(response.body, Not(HasSubstr("database")));  // internals stay inside

  sink_.Answer(absl::InternalError("constraint failed"));
  EXPECT_EQ(handler_.Handle(Request(CloseHook())).status, 503);
}

TEST_F(GitLabWebhookHandlerTest, SinkRefusesTheStateAsInvalid_AcknowledgedSoTheHookStaysOn) {
  sink_.Answer(absl::InvalidArgumentError("work_item.url is longer than 2048 bytes"));
  http::WebhookAnswer response = handler_.Handle(Request(CloseHook()));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "rejected-malformed");
  EXPECT_EQ(response.body, R"({"status":"ignored"})");
}

TEST_F(GitLabWebhookHandlerTest, TokenIsCheckedFirst_NothingElseIsRead) {
  http::HttpRequest request = Request(CloseHook(), "wrong");
  request.body = "{";  // would be a 400 if it were parsed
  http::WebhookAnswer response = handler_.Handle(request);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.outcome, "rejected-auth");
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], 401);

  request.headers["x-gitlab-event"] = "Push Hook";  // would be ignored if it were read
  EXPECT_EQ(handler_.Handle(request).status, 401);
  request.headers.erase("x-gitlab-token");
  EXPECT_EQ(handler_.Handle(request).status, 401);
  EXPECT_THAT(sink_.calls(), IsEmpty());
}

TEST_F(GitLabWebhookHandlerTest, NoTokenConfigured_RejectsEveryDelivery) {
  std::unique_ptr<sync::TrackerConnector> connector = Connector(http_, "");
  http::WebhookIngress unconfigured(*connector, sink_);
  EXPECT_EQ(unconfigured.Handle(Request(CloseHook(), "")).status, 401);
  EXPECT_EQ(unconfigured.Handle(Request(CloseHook(), "anything")).status, 401);
  EXPECT_THAT(sink_.calls(), IsEmpty());
}

TEST_F(GitLabWebhookHandlerTest, OtherEventHeaders_IgnoredWithoutParsing) {
  for (const char* event : {"Push Hook", "Note Hook", "Merge Request Hook", "issue hook", ""}) {
    http::HttpRequest request = Request(CloseHook());
    request.headers["x-gitlab-event"] = event;
    request.body = "not even JSON";
    http::WebhookAnswer response = handler_.Handle(request);
    EXPECT_EQ(response.status, 200) << event;
    EXPECT_EQ(response.outcome, "ignored") << event;
  }
  EXPECT_THAT(sink_.calls(), IsEmpty());
}

TEST_F(GitLabWebhookHandlerTest, MalformedBodies_400NamingTheField) {
  struct Case {
    std::string body;
    const char* fragment;
  };
  FakeGitLabIssueHook hook = CloseHook();
  nlohmann::json no_path = hook.body;
  no_path["project"].erase("path_with_namespace");
  nlohmann::json bad_time = hook.body;
  bad_time["object_attributes"]["updated_at"] = "yesterday";
  for (const Case& c : {Case{"{", "body"}, Case{"[]", "object"}, Case{"{}", "object_kind"},
                        Case{no_path.dump(), "project.path_with_namespace"},
                        Case{bad_time.dump(), "object_attributes.updated_at"}}) {
    http::HttpRequest request = Request(hook);
    request.body = c.body;
    http::WebhookAnswer response = handler_.Handle(request);
    EXPECT_EQ(response.status, 400) << c.body;
    EXPECT_EQ(response.outcome, "rejected-malformed");
    EXPECT_THAT(response.body, HasSubstr(c.fragment)) << c.body;
  }
  EXPECT_THAT(sink_.calls(), IsEmpty());
}

TEST_F(GitLabWebhookHandlerTest, WorkItemsAndOtherKinds_Ignored) {
  FakeGitLabIssueHook hook = CloseHook();
  hook.body["object_kind"] = "work_item";
  hook.body["object_attributes"]["type"] = "Key Result";
  EXPECT_EQ(handler_.Handle(Request(hook)).outcome, "ignored");
  EXPECT_THAT(sink_.calls(), IsEmpty());
}

}  // namespace
}  // namespace okr::connectors::gitlab
