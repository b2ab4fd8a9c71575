// WebhookIngress with a scripted connector and sink: what the ingress owns whatever the
// tracker (route path, body limit, order of checks, answers by policy, the delivery metric),
// and once over a real HttpServer.
#include "service/http/webhook_ingress.h"

#include <httplib.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/metrics/metrics.h"
#include "service/sync/tracker_connector.h"
#include "tests/testing/webhook_route.h"

namespace okr::http {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A connector whose webhook half is scripted: authentic iff header "x-token" is "secret";
// the event is what the test set; counts what it was asked.
class ScriptedConnector final : public sync::TrackerConnector {
 public:
  explicit ScriptedConnector(std::string site = "default") : site_(std::move(site)) {}

  Tracker tracker() const override { return Tracker::kGitLab; }
  const std::string& site() const override { return site_; }
  bool OwnsKey(absl::string_view) const override { return true; }
  bool OwnsProject(absl::string_view) const override { return true; }
  const sync::WebhookPolicy& webhook_policy() const override { return policy; }
  absl::Status VerifyWebhook(const sync::WebhookRequest& request) const override {
    ++verified;
    if (!configured) return absl::FailedPreconditionError("no secret configured");
    if (request.Header("x-token") != "secret") return absl::UnauthenticatedError("wrong x-token");
    return absl::OkStatus();
  }
  absl::StatusOr<sync::TrackerEvent> ParseWebhook(
      const sync::WebhookRequest& request) const override {
    ++parsed;
    last_body = std::string(request.body());
    return event;
  }
  sync::TrackerSource& source() override { std::abort(); }
  sync::TrackerWriter& writer() override { std::abort(); }
  sync::TrackerIssueOpener& issue_opener() override { std::abort(); }

  sync::WebhookPolicy policy;
  bool configured = true;
  absl::StatusOr<sync::TrackerEvent> event;
  mutable int verified = 0;
  mutable int parsed = 0;
  mutable std::string last_body;

 private:
  const std::string site_;
};

class ScriptedSink final : public sync::TrackerSink {
 public:
  absl::StatusOr<sync::SyncOutcome> ApplyItem(const WorkItem& state,
                                              const std::string& delivery_id) override {
    applied.push_back({state.key, delivery_id});
    return answer;
  }
  absl::StatusOr<sync::TrackerDeletion> RemoveItem(Tracker, const std::string& external_id,
                                                   const std::string& key,
                                                   const std::string& delivery_id) override {
    removed.push_back({absl::StrCat(key, "/", external_id), delivery_id});
    if (!answer.ok()) return answer.status();
    sync::TrackerDeletion deletion;
    deletion.outcome = *answer;
    return deletion;
  }

  absl::StatusOr<sync::SyncOutcome> answer = sync::SyncOutcome::kApplied;
  std::vector<std::pair<std::string, std::string>> applied;  // key, delivery id
  std::vector<std::pair<std::string, std::string>> removed;
};

sync::TrackerEvent Updated(const std::string& key, const std::string& delivery_id) {
  sync::TrackerEvent event;
  event.kind = sync::TrackerEvent::Kind::kItemUpdated;
  event.item.tracker = Tracker::kGitLab;
  event.item.key = key;
  event.delivery_id = delivery_id;
  return event;
}

HttpRequest Request(std::string body, const std::string& token = "secret") {
  HttpRequest request;
  request.method = "POST";
  request.body = std::move(body);
  if (!token.empty()) request.headers["x-token"] = token;
  return request;
}

class WebhookIngressTest : public ::testing::Test {
 protected:
  void SetUp() override { connector_.event = Updated("acme/checkout#7", "d-1"); }

  ScriptedConnector connector_;
  ScriptedSink sink_;
  metrics::Registry registry_;
  metrics::Counter& deliveries_ = WebhookIngress::AddDeliveriesCounter(registry_);
  WebhookIngress ingress_{connector_, sink_, &deliveries_};
};

TEST_F(WebhookIngressTest, Path_FromTheTrackerSlugAndTheSite) {
  EXPECT_EQ(ingress_.path(), "/webhooks/gitlab");
  ScriptedConnector named("internal");
  EXPECT_EQ(WebhookIngress(named, sink_).path(), "/webhooks/gitlab/internal");
}

TEST_F(WebhookIngressTest, UpdatedItem_AppliedWithItsDeliveryIdAndCounted) {
  WebhookAnswer answer = ingress_.Handle(Request("{}"));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"status":"accepted"})");
  EXPECT_EQ(answer.outcome, "accepted");
  ASSERT_THAT(sink_.applied, SizeIs(1));
  EXPECT_EQ(sink_.applied[0], std::make_pair(std::string("acme/checkout#7"), std::string("d-1")));
  EXPECT_EQ(connector_.last_body, "{}");
  EXPECT_EQ(deliveries_.Value({"gitlab", "default", "accepted"}), 1);
}

TEST_F(WebhookIngressTest, DeletedItem_Removed) {
  sync::TrackerEvent deleted;
  deleted.kind = sync::TrackerEvent::Kind::kItemDeleted;
  deleted.item.tracker = Tracker::kGitLab;
  deleted.item.key = "acme/checkout#7";
  deleted.item.external_id = "77";
  deleted.delivery_id = "d-2";
  connector_.event = deleted;
  sink_.answer = sync::SyncOutcome::kDuplicate;
  WebhookAnswer answer = ingress_.Handle(Request("{}"));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"status":"duplicate"})");
  ASSERT_THAT(sink_.removed, SizeIs(1));
  EXPECT_EQ(sink_.removed[0],
            std::make_pair(std::string("acme/checkout#7/77"), std::string("d-2")));
}

TEST_F(WebhookIngressTest, IgnoredEvent_AcknowledgedWithoutTheSink) {
  connector_.event = sync::TrackerEvent{};
  WebhookAnswer answer = ingress_.Handle(Request("{}"));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"status":"ignored"})");
  EXPECT_THAT(sink_.applied, IsEmpty());
}

TEST_F(WebhookIngressTest, BodyOverThePolicysLimit_413BeforeVerification) {
  connector_.policy.max_body_bytes = 8;
  WebhookAnswer answer = ingress_.Handle(Request("123456789"));
  EXPECT_EQ(answer.status, 413);
  EXPECT_EQ(answer.outcome, "rejected-malformed");
  EXPECT_EQ(answer.body, R"({"error":{"code":413,"message":"request body exceeds 8 bytes"}})");
  EXPECT_EQ(connector_.verified, 0);
  EXPECT_EQ(ingress_.Handle(Request("12345678")).status, 200);  // at the limit: fine
}

TEST_F(WebhookIngressTest, NotAuthentic_401AndNothingParsed) {
  WebhookAnswer answer = ingress_.Handle(Request("{}", "guess"));
  EXPECT_EQ(answer.status, 401);
  EXPECT_EQ(answer.outcome, "rejected-auth");
  EXPECT_EQ(answer.body, R"({"error":{"code":401,"message":"wrong x-token"}})");
  connector_.configured = false;
  EXPECT_EQ(ingress_.Handle(Request("{}")).status, 401);
  EXPECT_EQ(connector_.parsed, 0);
  EXPECT_THAT(sink_.applied, IsEmpty());
  EXPECT_EQ(deliveries_.Value({"gitlab", "default", "rejected-auth"}), 2);
}

TEST_F(WebhookIngressTest, Unparsable_400WithTheParsersMessage) {
  connector_.event = absl::InvalidArgumentError("object_attributes.iid: missing");
  WebhookAnswer answer = ingress_.Handle(Request("{}"));
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.outcome, "rejected-malformed");
  EXPECT_THAT(answer.body, HasSubstr("object_attributes.iid: missing"));
  EXPECT_THAT(sink_.applied, IsEmpty());
}

TEST_F(WebhookIngressTest, RefusedItem_AnsweredAsThePolicySays) {
  sink_.answer = absl::InvalidArgumentError("work_item.title: is too long");
  connector_.policy.refused_item = sync::WebhookPolicy::RefusedItem::kReject;
  WebhookAnswer rejected = ingress_.Handle(Request("{}"));
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.outcome, "rejected-malformed");
  EXPECT_THAT(rejected.body, HasSubstr("work_item.title: is too long"));

  connector_.policy.refused_item = sync::WebhookPolicy::RefusedItem::kAcknowledge;
  WebhookAnswer acknowledged = ingress_.Handle(Request("{}"));
  EXPECT_EQ(acknowledged.status, 200);
  EXPECT_EQ(acknowledged.outcome, "rejected-malformed");
  EXPECT_EQ(acknowledged.body, R"({"status":"ignored"})");
}

TEST_F(WebhookIngressTest, SinkFailsOtherwise_503WithoutInternals) {
  sink_.answer = absl::UnavailableError("sqlite: /var/lib/okr/okr.db is locked");
  WebhookAnswer answer = ingress_.Handle(Request("{}"));
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(answer.outcome, "unavailable");
  EXPECT_EQ(
      answer.body,
      R"({"error":{"code":503,"message":"temporarily unable to apply the event; retry later"}})");
}

TEST_F(WebhookIngressTest, Registered_ServesItsPathOverHttp) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server = okr::testing::LoopbackHttpServer();
  ASSERT_TRUE(server.ok()) << server.status();
  ingress_.Register(**server);
  ASSERT_TRUE((*server)->Start().ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  const std::string body(64 << 10, ' ');  // a big body reaches the connector intact
  httplib::Result result = client.Post("/webhooks/gitlab", httplib::Headers{{"X-Token", "secret"}},
                                       body, "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, R"({"status":"accepted"})");
  EXPECT_FALSE(result->get_header_value("X-Request-Id").empty());
  EXPECT_EQ(connector_.last_body, body);
  (*server)->Stop();
}

}  // namespace
}  // namespace okr::http
