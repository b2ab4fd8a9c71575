// The Jira connector's webhook half behind the webhook ingress (service/http), against a
// recording TrackerSink: the order of checks, the WorkItem handed to the sink, and the
// answer for every sink outcome and failure.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connectors/jira/jira_connector.h"
#include "connectors/jira/webhook.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/http/webhook_ingress.h"
#include "tests/testing/fake_jira/webhook_sender.h"
#include "tests/testing/webhook_route.h"

namespace okr::connectors::jira {
namespace {

using ::okr::testing::FakeJiraIssue;
using ::okr::testing::IssueCreatedEvent;
using ::okr::testing::IssueDeletedEvent;
using ::okr::testing::IssueUpdatedEvent;
using ::okr::testing::OtherIssueEvent;
using ::okr::testing::SignJiraWebhook;
using ::okr::testing::WebhookEventOptions;
using ::testing::HasSubstr;

constexpr char kSecret[] = "It's a Secret to Everybody";
constexpr char kSite[] = "https://acme.atlassian.net";

// Records every call and answers with what the test scripted.
class RecordingSink final : public sync::TrackerSink {
 public:
  struct Removal {
    Tracker tracker;
    std::string external_id;
    std::string key;
    std::string delivery_id;
  };

  absl::StatusOr<sync::SyncOutcome> ApplyItem(const WorkItem& state,
                                              const std::string& delivery_id) override {
    absl::MutexLock lock(&mu_);
    applied_.push_back(state);
    delivery_ids_.push_back(delivery_id);
    return apply_result_;
  }
  absl::StatusOr<sync::TrackerDeletion> RemoveItem(Tracker tracker, const std::string& external_id,
                                                   const std::string& key,
                                                   const std::string& delivery_id) override {
    absl::MutexLock lock(&mu_);
    removed_.push_back({tracker, external_id, key, delivery_id});
    if (!remove_result_.ok()) return remove_result_.status();
    sync::TrackerDeletion deletion;
    deletion.outcome = *remove_result_;
    return deletion;
  }

  void SetApplyResult(absl::StatusOr<sync::SyncOutcome> result) {
    absl::MutexLock lock(&mu_);
    apply_result_ = std::move(result);
  }
  void SetRemoveResult(absl::StatusOr<sync::SyncOutcome> result) {
    absl::MutexLock lock(&mu_);
    remove_result_ = std::move(result);
  }
  std::vector<WorkItem> applied() {
    absl::MutexLock lock(&mu_);
    return applied_;
  }
  std::vector<std::string> delivery_ids() {
    absl::MutexLock lock(&mu_);
    return delivery_ids_;
  }
  std::vector<Removal> removed() {
    absl::MutexLock lock(&mu_);
    return removed_;
  }
  size_t calls() {
    absl::MutexLock lock(&mu_);
    return applied_.size() + removed_.size();
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<sync::SyncOutcome> apply_result_ = sync::SyncOutcome::kApplied;
  absl::StatusOr<sync::SyncOutcome> remove_result_ = sync::SyncOutcome::kApplied;
  std::vector<WorkItem> applied_;
  std::vector<std::string> delivery_ids_;
  std::vector<Removal> removed_;
};

FakeJiraIssue Issue() {
  FakeJiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "Cut checkout p95 below 800 ms";
  issue.status_category = "done";
  issue.story_points = 5;
  issue.updated = absl::FromUnixMillis(1749031387381);
  return issue;
}

http::HttpRequest Signed(const nlohmann::json& event, const std::string& identifier = "wh-1") {
  http::HttpRequest request;
  request.body = event.dump();
  request.headers["x-hub-signature"] = SignJiraWebhook(kSecret, request.body);
  request.headers["x-atlassian-webhook-identifier"] = identifier;
  return request;
}

nlohmann::json Json(const http::WebhookAnswer& response) {
  return nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

// The connector of a site at kSite with this webhook secret (its REST half is unused).
std::unique_ptr<sync::TrackerConnector> Connector(okr::testing::NoNetworkHttpClient& http,
                                                  const std::string& secret,
                                                  const std::string& story_points_field) {
  JiraSiteConfig site;
  site.name = "default";
  site.url = kSite;
  site.email = "okr-bot@acme.example";
  site.api_token = "token";
  site.webhook_secret = secret;
  site.story_points_field = story_points_field;
  absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> connector = MakeJiraConnector(site, http);
  EXPECT_TRUE(connector.ok()) << connector.status();
  return connector.ok() ? *std::move(connector) : nullptr;
}

class JiraWebhookHandlerTest : public ::testing::Test {
 protected:
  okr::testing::NoNetworkHttpClient http_;
  RecordingSink sink_;
  std::unique_ptr<sync::TrackerConnector> connector_ =
      Connector(http_, kSecret, "customfield_10016");
  http::WebhookIngress handler_{*connector_, sink_};
};

TEST_F(JiraWebhookHandlerTest, IssueUpdated_HandsTheIssueStateToTheSink) {
  http::WebhookAnswer response = handler_.Handle(Signed(IssueUpdatedEvent(Issue(), {}), "wh-7"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  EXPECT_EQ(Json(response), nlohmann::json({{"status", "accepted"}}));
  ASSERT_EQ(sink_.applied().size(), 1u);
  const WorkItem item = sink_.applied()[0];
  EXPECT_EQ(item.tracker, Tracker::kJira);
  EXPECT_EQ(item.external_id, "10001");
  EXPECT_EQ(item.key, "OKRX-1");
  EXPECT_EQ(item.title, "Cut checkout p95 below 800 ms");
  EXPECT_EQ(item.url, "https://acme.atlassian.net/browse/OKRX-1");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 5);
  EXPECT_EQ(item.source_updated, absl::FromUnixMillis(1749031387381));
  EXPECT_EQ(sink_.delivery_ids(), std::vector<std::string>{"wh-7"});
}

TEST_F(JiraWebhookHandlerTest, IssueCreated_WithoutStoryPoints_WeightOneNotDone) {
  FakeJiraIssue issue = Issue();
  issue.status_category = "indeterminate";
  issue.story_points.reset();
  EXPECT_EQ(handler_.Handle(Signed(IssueCreatedEvent(issue, {}))).status, 200);
  ASSERT_EQ(sink_.applied().size(), 1u);
  EXPECT_FALSE(sink_.applied()[0].done);
  EXPECT_EQ(sink_.applied()[0].weight, 1);
}

TEST_F(JiraWebhookHandlerTest, IssueDeleted_RemovesTheItem) {
  http::WebhookAnswer response = handler_.Handle(Signed(IssueDeletedEvent(Issue(), {}), "wh-9"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  ASSERT_EQ(sink_.removed().size(), 1u);
  EXPECT_EQ(sink_.removed()[0].tracker, Tracker::kJira);
  EXPECT_EQ(sink_.removed()[0].external_id, "10001");
  EXPECT_EQ(sink_.removed()[0].key, "OKRX-1");
  EXPECT_EQ(sink_.removed()[0].delivery_id, "wh-9");
  EXPECT_TRUE(sink_.applied().empty());
}

TEST_F(JiraWebhookHandlerTest, OtherEvent_IgnoredWithoutTouchingTheSink) {
  http::WebhookAnswer response =
      handler_.Handle(Signed(OtherIssueEvent("comment_created", Issue(), {})));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");
  EXPECT_EQ(Json(response), nlohmann::json({{"status", "ignored"}}));
  EXPECT_EQ(sink_.calls(), 0u);
}

struct OutcomeCase {
  sync::SyncOutcome sink_outcome;
  std::string outcome;
};
void PrintTo(const OutcomeCase& c, std::ostream* os) { *os << c.outcome; }

class OutcomeMappingTest : public JiraWebhookHandlerTest,
                           public ::testing::WithParamInterface<OutcomeCase> {};

TEST_P(OutcomeMappingTest, UpdateAndDelete_Answer200WithTheOutcome) {
  sink_.SetApplyResult(GetParam().sink_outcome);
  sink_.SetRemoveResult(GetParam().sink_outcome);
  for (const nlohmann::json& event :
       {IssueUpdatedEvent(Issue(), {}), IssueDeletedEvent(Issue(), {})}) {
    http::WebhookAnswer response = handler_.Handle(Signed(event));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.outcome, GetParam().outcome);
    EXPECT_EQ(Json(response), nlohmann::json({{"status", GetParam().outcome}}));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOutcomes, OutcomeMappingTest,
                         ::testing::Values(OutcomeCase{sync::SyncOutcome::kApplied, "accepted"},
                                           OutcomeCase{sync::SyncOutcome::kUnchanged, "accepted"},
                                           OutcomeCase{sync::SyncOutcome::kDuplicate, "duplicate"},
                                           OutcomeCase{sync::SyncOutcome::kStale, "stale"},
                                           OutcomeCase{sync::SyncOutcome::kUntracked, "ignored"}));

struct SinkErrorCase {
  absl::Status error;
  int status;
  std::string outcome;
};
void PrintTo(const SinkErrorCase& c, std::ostream* os) { *os << c.error; }

class SinkErrorTest : public JiraWebhookHandlerTest,
                      public ::testing::WithParamInterface<SinkErrorCase> {};

TEST_P(SinkErrorTest, NotCommitted_RetryableOnlyIfARetryCanSucceed) {
  sink_.SetApplyResult(GetParam().error);
  sink_.SetRemoveResult(GetParam().error);
  for (const nlohmann::json& event :
       {IssueUpdatedEvent(Issue(), {}), IssueDeletedEvent(Issue(), {})}) {
    http::WebhookAnswer response = handler_.Handle(Signed(event));
    EXPECT_EQ(response.status, GetParam().status);
    EXPECT_EQ(response.outcome, GetParam().outcome);
    EXPECT_EQ(Json(response)["error"]["code"], GetParam().status);
  }
}

INSTANTIATE_TEST_SUITE_P(
    SinkErrors, SinkErrorTest,
    ::testing::Values(SinkErrorCase{absl::UnavailableError("database is down"), 503, "unavailable"},
                      SinkErrorCase{absl::InternalError("disk I/O error"), 503, "unavailable"},
                      SinkErrorCase{absl::AbortedError("conflict"), 503, "unavailable"},
                      SinkErrorCase{absl::ResourceExhaustedError("disk full"), 503, "unavailable"},
                      SinkErrorCase{absl::InvalidArgumentError("work_item.title: is too long"), 400,
                                    "rejected-malformed"}));

TEST_F(JiraWebhookHandlerTest, UnavailableSink_MessageDoesNotLeakInternals) {
  sink_.SetApplyResult(absl::UnavailableError("sqlite: /var/lib/okr/okr.db is locked"));
  http::WebhookAnswer response = handler_.Handle(Signed(IssueUpdatedEvent(Issue(), {})));
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.body, ::testing::Not(HasSubstr("okr.db")));
}

// ---- Rejections: nothing reaches the sink ----

TEST_F(JiraWebhookHandlerTest, MissingSignature_401) {
  http::HttpRequest request = Signed(IssueUpdatedEvent(Issue(), {}));
  request.headers.erase("x-hub-signature");
  http::WebhookAnswer response = handler_.Handle(request);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.outcome, "rejected-auth");
  EXPECT_EQ(Json(response)["error"]["code"], 401);
  EXPECT_THAT(Json(response)["error"]["message"].get<std::string>(), HasSubstr("X-Hub-Signature"));
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(JiraWebhookHandlerTest, WrongSecretOrTamperedBody_401) {
  http::HttpRequest wrong_secret = Signed(IssueUpdatedEvent(Issue(), {}));
  wrong_secret.headers["x-hub-signature"] = SignJiraWebhook("guess", wrong_secret.body);
  EXPECT_EQ(handler_.Handle(wrong_secret).status, 401);

  http::HttpRequest tampered = Signed(IssueUpdatedEvent(Issue(), {}));
  tampered.body.replace(tampered.body.find("done"), 4, "new ");
  EXPECT_EQ(handler_.Handle(tampered).status, 401);
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(JiraWebhookHandlerTest, MalformedBodyWithBadSignature_401NotParsed) {
  http::HttpRequest request;
  request.body = "{not json";
  request.headers["x-hub-signature"] = SignJiraWebhook("guess", request.body);
  EXPECT_EQ(handler_.Handle(request).status, 401);
}

TEST_F(JiraWebhookHandlerTest, NoSecretConfigured_RejectsEverything) {
  std::unique_ptr<sync::TrackerConnector> connector = Connector(http_, "", "");
  http::WebhookIngress unconfigured(*connector, sink_);
  http::HttpRequest request = Signed(IssueUpdatedEvent(Issue(), {}));
  request.headers["x-hub-signature"] = SignJiraWebhook("", request.body);
  http::WebhookAnswer response = unconfigured.Handle(request);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.outcome, "rejected-auth");
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(JiraWebhookHandlerTest, MalformedJson_400) {
  http::HttpRequest request;
  request.body = "{not json";
  request.headers["x-hub-signature"] = SignJiraWebhook(kSecret, request.body);
  http::WebhookAnswer response = handler_.Handle(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.outcome, "rejected-malformed");
  EXPECT_EQ(Json(response)["error"]["code"], 400);
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(JiraWebhookHandlerTest, MissingField_400NamesTheField) {
  nlohmann::json event = IssueUpdatedEvent(Issue(), {});
  event["issue"].erase("id");
  http::WebhookAnswer response = handler_.Handle(Signed(event));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(Json(response)["error"]["message"].get<std::string>(), HasSubstr("issue.id"));

  event = IssueUpdatedEvent(Issue(), {});
  event["issue"]["fields"]["status"].erase("statusCategory");
  response = handler_.Handle(Signed(event));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(Json(response)["error"]["message"].get<std::string>(),
              HasSubstr("issue.fields.status.statusCategory.key"));
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(JiraWebhookHandlerTest, BodyOverOneMebibyte_413BeforeAnythingElse) {
  nlohmann::json event = IssueUpdatedEvent(Issue(), {});
  event["padding"] = std::string(kMaxJiraWebhookRequestBytes, 'x');
  http::WebhookAnswer response = handler_.Handle(Signed(event));
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.outcome, "rejected-malformed");
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(JiraWebhookHandlerTest, NoDeliveryIdentifier_StillApplied) {
  http::HttpRequest request = Signed(IssueUpdatedEvent(Issue(), {}));
  request.headers.erase("x-atlassian-webhook-identifier");
  EXPECT_EQ(handler_.Handle(request).status, 200);
  EXPECT_EQ(sink_.delivery_ids(), std::vector<std::string>{""});
}

TEST_F(JiraWebhookHandlerTest, ConcurrentDeliveries_AllHandled) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = "wh-" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_EQ(handler_.Handle(Signed(IssueUpdatedEvent(Issue(), {}), id)).status, 200);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(sink_.applied().size(), 200u);
}

}  // namespace
}  // namespace okr::connectors::jira
