// Integration tests of the Jira side of tracker sync, composed the way the server composes
// it: a real SqliteStore in a temp directory, OkrCore on a FakeClock, CoreTrackerSink,
// the Jira connector's webhooks behind the webhook ingress (called directly, and once behind
// a real okr::http::HttpServer), and
// the outbound stack CurlHttpClient -> RetryingHttpClient (fake sleeper) ->
// AuthenticatingHttpClient(Basic) -> JiraClient against FakeJiraServer, feeding
// JiraTrackerSource / JiraTrackerWriter to the Reconciler and the WriteBackWorker.
//
// Every case asserts exact progress values read back through OkrCore::GetKeyResult.
//
// CTest runs this binary twice: directly, and under prism_integration_test.sh, where every
// request of the connector and every response of the fake pass through Prism validating them
// against Atlassian's OpenAPI description (see jira_test_stack.h).
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connectors/jira/jira_connector.h"
#include "connectors/jira/jira_sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/okr_core.h"
#include "service/http/http_server.h"
#include "service/http/webhook_ingress.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/sync/core_tracker_sink.h"
#include "service/sync/reconciler.h"
#include "service/sync/tracker_sync.h"
#include "service/sync/write_back.h"
#include "tests/connectors/jira/jira_test_stack.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/fake_jira/webhook_sender.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/webhook_route.h"

namespace okr::connectors::jira {
namespace {

using ::okr::connectors::jira::testing::FakeJiraForTest;
using ::okr::connectors::jira::testing::JiraTestStack;
using ::okr::connectors::jira::testing::SharedFakeJiraForTest;
using ::okr::testing::FakeJiraEndpoint;
using ::okr::testing::FakeJiraFailure;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::FakeRemoteLink;
using ::okr::testing::IssueDeletedEvent;
using ::okr::testing::IssueUpdatedEvent;
using ::okr::testing::OtherIssueEvent;
using ::okr::testing::SignJiraWebhook;
using ::okr::testing::WebhookEventOptions;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kCycleStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kCycleEnd = kCycleStart + absl::Hours(100);
// Jira's `updated` of a fresh fake issue; changes are stamped minutes after it.
const absl::Time kIssueTime = absl::FromUnixMillis(1749031387381);
constexpr char kSecret[] = "It's a Secret to Everybody";
constexpr char kPublicUrl[] = "https://okr.example";
constexpr char kObjective[] = "o1";

FakeJiraIssue Issue(int n, std::optional<double> points = std::nullopt,
                    std::vector<std::string> labels = {}) {
  FakeJiraIssue issue;
  issue.id = std::to_string(10000 + n);
  issue.key = absl::StrCat("OKRX-", n);
  issue.summary = absl::StrCat("Checkout epic ", n);
  issue.status_category = "new";
  issue.story_points = points;
  issue.labels = std::move(labels);
  issue.updated = kIssueTime;
  return issue;
}

// The issue moved to `category`, `minutes` after kIssueTime.
FakeJiraIssue Changed(FakeJiraIssue issue, const std::string& category, int minutes) {
  issue.status_category = category;
  issue.updated = kIssueTime + absl::Minutes(minutes);
  return issue;
}

class JiraSyncIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    absl::StatusOr<std::unique_ptr<storage::SqliteStore>> store =
        storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    core_ = std::make_unique<core::OkrCore>(*store_, clock_);
    sink_ = std::make_unique<sync::CoreTrackerSink>(*core_);

    absl::StatusOr<FakeJiraForTest> fake = SharedFakeJiraForTest();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = fake->fake;
    jira_url_ = fake->jira_url;
    absl::StatusOr<std::unique_ptr<JiraTestStack>> stack = JiraTestStack::Create(*fake_, jira_url_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);

    JiraSiteConfig site;
    site.name = "default";
    site.url = jira_url_;
    site.email = fake_->options().email;
    site.api_token = fake_->options().api_token;
    site.webhook_secret = kSecret;
    site.story_points_field = fake_->options().story_points_field;
    absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> connector =
        MakeJiraConnector(site, *stack_->retrying);
    ASSERT_TRUE(connector.ok()) << connector.status();
    connector_ = *std::move(connector);
    handler_ = std::make_unique<http::WebhookIngress>(*connector_, *sink_);
    source_ = std::make_unique<JiraTrackerSource>(*stack_->client, jira_url_);
    writer_ = std::make_unique<JiraTrackerWriter>(*stack_->client);
    reconciler_ = std::make_unique<sync::Reconciler>(
        *core_, *store_, std::vector<sync::TrackerSource*>{source_.get()});
    sync::WriteBackOptions write_back;
    write_back.public_url = kPublicUrl;
    write_back.min_spacing = absl::Seconds(2);
    worker_ = std::make_unique<sync::WriteBackWorker>(
        *store_, clock_, std::vector<sync::TrackerWriter*>{writer_.get()}, write_back);

    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kCycleStart;
    cycle.end_time = kCycleEnd;
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    CreateObjective(kObjective);
  }

  void CreateObjective(const std::string& id) {
    Objective objective;
    objective.id = id;
    objective.title = "Delight customers at checkout";
    objective.team_id = "checkout";
    objective.cycle_id = "q4";
    absl::StatusOr<Objective> created = core_->CreateObjective(objective, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void CreateWorkItemsKeyResult(const std::string& id, const std::string& jql = "",
                                const std::string& objective = kObjective) {
    KeyResult kr;
    kr.objective_id = objective;
    kr.id = id;
    kr.title = "Ship the checkout epics";
    kr.type = KeyResultType::kWorkItems;
    kr.scopes[Tracker::kJira].query = jql;
    absl::StatusOr<KeyResult> created = core_->CreateKeyResult(kr, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Puts the issues into the fake and links them (by key, as the API does) to `kr`.
  void LinkIssues(const std::string& kr, const std::vector<FakeJiraIssue>& issues) {
    fake_->PutIssues(issues);
    for (const FakeJiraIssue& issue : issues) {
      WorkItem item;
      item.tracker = Tracker::kJira;
      item.key = issue.key;
      item.title = issue.summary;
      absl::StatusOr<WorkItemLink> link = core_->LinkWorkItem(kObjective, kr, item, "");
      ASSERT_TRUE(link.ok()) << link.status();
    }
  }

  WebhookEventOptions EventOptions(const FakeJiraIssue& issue) const {
    WebhookEventOptions options;
    options.site_base_url = jira_url_;
    options.story_points_field = fake_->options().story_points_field;
    options.timestamp_ms = absl::ToUnixMillis(issue.updated) + 100;
    return options;
  }

  http::HttpRequest Signed(const nlohmann::json& event, const std::string& identifier) const {
    http::HttpRequest request;
    request.body = event.dump();
    request.headers["x-hub-signature"] = SignJiraWebhook(kSecret, request.body);
    request.headers["x-atlassian-webhook-identifier"] = identifier;
    return request;
  }

  // Jira's jira:issue_updated for `issue` (also put into the fake, as Jira would hold it).
  http::WebhookAnswer DeliverUpdate(const FakeJiraIssue& issue, const std::string& identifier) {
    fake_->PutIssue(issue);
    return handler_->Handle(Signed(IssueUpdatedEvent(issue, EventOptions(issue)), identifier));
  }

  double Progress(const std::string& kr, const std::string& objective = kObjective) {
    absl::StatusOr<KeyResult> got = core_->GetKeyResult(objective, kr);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->progress : -1;
  }

  std::vector<std::string> LinkedKeys(const std::string& kr) {
    absl::StatusOr<core::ListResult<WorkItemLink>> links =
        core_->ListWorkItemLinks(kObjective, kr, {1000, ""});
    EXPECT_TRUE(links.ok()) << links.status();
    std::vector<std::string> keys;
    if (links.ok()) {
      for (const WorkItemLink& link : links->items) keys.push_back(link.item.key);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::string LinkSummary(const std::string& issue_id) {
    std::vector<FakeRemoteLink> links = fake_->RemoteLinks(issue_id);
    if (links.size() != 1) return absl::StrCat("<", links.size(), " links>");
    return links[0].body["object"]["summary"].get<std::string>();
  }

  okr::testing::TempDir dir_;
  okr::testing::FakeClock clock_{kCycleStart + absl::Hours(50)};  // expected progress 50%
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<sync::CoreTrackerSink> sink_;
  FakeJiraServer* fake_ = nullptr;  // Shared by the binary's tests, reset for each.
  std::string jira_url_;            // The fake, or the Prism proxy in front of it.
  std::unique_ptr<JiraTestStack> stack_;
  std::unique_ptr<sync::TrackerConnector> connector_;
  std::unique_ptr<http::WebhookIngress> handler_;
  std::unique_ptr<JiraTrackerSource> source_;
  std::unique_ptr<JiraTrackerWriter> writer_;
  std::unique_ptr<sync::Reconciler> reconciler_;
  std::unique_ptr<sync::WriteBackWorker> worker_;
};

// ---- Webhooks ----

TEST_F(JiraSyncIntegrationTest, CloseIssue_MovesKeyResultProgress) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2), Issue(3), Issue(4)});
  EXPECT_EQ(Progress("epics"), 0.0);

  http::WebhookAnswer response = DeliverUpdate(Changed(Issue(1), "done", 1), "wh-1");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  EXPECT_EQ(response.body, R"({"status":"accepted"})");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.25);

  // The webhook taught the service the issue's stable id and browse URL.
  absl::StatusOr<std::vector<core::WorkItemLinkTarget>> targets =
      core_->FindWorkItemLinks(Tracker::kJira, "OKRX-1");
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 1u);
  EXPECT_EQ((*targets)[0].link.item.external_id, "10001");
  EXPECT_EQ((*targets)[0].link.item.url, jira_url_ + "/browse/OKRX-1");
  EXPECT_TRUE((*targets)[0].link.item.done);
}

TEST_F(JiraSyncIntegrationTest, ReopenIssue_MovesProgressBack) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2), Issue(3), Issue(4)});
  ASSERT_EQ(DeliverUpdate(Changed(Issue(1), "done", 1), "wh-1").outcome, "accepted");
  ASSERT_EQ(DeliverUpdate(Changed(Issue(2), "done", 2), "wh-2").outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  EXPECT_EQ(DeliverUpdate(Changed(Issue(1), "indeterminate", 3), "wh-3").outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.25);
}

TEST_F(JiraSyncIntegrationTest, DeleteEvent_ItemLeavesTheKeyResult) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2), Issue(3), Issue(4)});
  ASSERT_EQ(DeliverUpdate(Changed(Issue(1), "done", 1), "wh-1").outcome, "accepted");
  ASSERT_EQ(DeliverUpdate(Changed(Issue(2), "done", 2), "wh-2").outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  fake_->DeleteIssue("OKRX-1");
  http::WebhookAnswer response = handler_->Handle(
      Signed(IssueDeletedEvent(Changed(Issue(1), "done", 1), EventOptions(Issue(1))), "wh-3"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre("OKRX-2", "OKRX-3", "OKRX-4"));
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0 / 3);

  // A redelivery, and a late update of the deleted issue, change nothing.
  response = handler_->Handle(
      Signed(IssueDeletedEvent(Changed(Issue(1), "done", 1), EventOptions(Issue(1))), "wh-3"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");
  EXPECT_EQ(DeliverUpdate(Changed(Issue(1), "done", 4), "wh-4").outcome, "ignored");
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre("OKRX-2", "OKRX-3", "OKRX-4"));
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0 / 3);
}

TEST_F(JiraSyncIntegrationTest, DuplicateDelivery_CountedOnce) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2)});
  const FakeJiraIssue closed = Changed(Issue(1), "done", 1);
  const http::HttpRequest delivery =
      Signed(IssueUpdatedEvent(closed, EventOptions(closed)), "wh-1");

  EXPECT_EQ(handler_->Handle(delivery).outcome, "accepted");
  http::HttpRequest retry = delivery;
  retry.headers["x-atlassian-webhook-retry"] = "1";
  http::WebhookAnswer again = handler_->Handle(retry);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.outcome, "duplicate");
  EXPECT_EQ(again.body, R"({"status":"duplicate"})");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  // Same identifier with a newer body (a bug upstream) is still the same delivery.
  const FakeJiraIssue reopened = Changed(Issue(1), "new", 2);
  EXPECT_EQ(
      handler_->Handle(Signed(IssueUpdatedEvent(reopened, EventOptions(reopened)), "wh-1")).outcome,
      "duplicate");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(JiraSyncIntegrationTest, OutOfOrder_OlderUpdateAfterNewer_NoRegression) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2), Issue(3), Issue(4)});
  const FakeJiraIssue in_progress = Changed(Issue(1), "indeterminate", 1);
  const FakeJiraIssue closed = Changed(Issue(1), "done", 2);
  const http::HttpRequest older =
      Signed(IssueUpdatedEvent(in_progress, EventOptions(in_progress)), "wh-1");
  const http::HttpRequest newer = Signed(IssueUpdatedEvent(closed, EventOptions(closed)), "wh-2");

  EXPECT_EQ(handler_->Handle(newer).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.25);
  http::WebhookAnswer late = handler_->Handle(older);
  EXPECT_EQ(late.status, 200);
  EXPECT_EQ(late.outcome, "stale");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.25);
}

TEST_F(JiraSyncIntegrationTest, BadSignature_401AndNothingChanges) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2)});
  const FakeJiraIssue closed = Changed(Issue(1), "done", 1);
  http::HttpRequest forged = Signed(IssueUpdatedEvent(closed, EventOptions(closed)), "wh-1");
  forged.headers["x-hub-signature"] = SignJiraWebhook("not the secret", forged.body);

  http::WebhookAnswer response = handler_->Handle(forged);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.outcome, "rejected-auth");
  EXPECT_THAT(response.body, HasSubstr(R"("code":401)"));
  EXPECT_EQ(Progress("epics"), 0.0);

  forged.headers.erase("x-hub-signature");
  EXPECT_EQ(handler_->Handle(forged).status, 401);
  EXPECT_EQ(Progress("epics"), 0.0);

  // The rejected attempts did not consume the delivery id.
  EXPECT_EQ(
      handler_->Handle(Signed(IssueUpdatedEvent(closed, EventOptions(closed)), "wh-1")).outcome,
      "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(JiraSyncIntegrationTest, Malformed_400AndNothingChanges) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2)});
  http::HttpRequest request;
  request.body = R"({"webhookEvent":"jira:issue_updated","timestamp":1749031387500,"issue":{)";
  request.headers["x-hub-signature"] = SignJiraWebhook(kSecret, request.body);
  http::WebhookAnswer response = handler_->Handle(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.outcome, "rejected-malformed");

  nlohmann::json event = IssueUpdatedEvent(Changed(Issue(1), "done", 1), EventOptions(Issue(1)));
  event["issue"].erase("key");
  response = handler_->Handle(Signed(event, "wh-1"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("issue.key"));
  EXPECT_EQ(Progress("epics"), 0.0);
}

TEST_F(JiraSyncIntegrationTest, UnknownEventTypeOrUnlinkedIssue_200Ignored) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2)});
  const FakeJiraIssue closed = Changed(Issue(1), "done", 1);
  http::WebhookAnswer response = handler_->Handle(
      Signed(OtherIssueEvent("comment_created", closed, EventOptions(closed)), "wh-1"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");
  EXPECT_EQ(response.body, R"({"status":"ignored"})");

  response = DeliverUpdate(Changed(Issue(77), "done", 1), "wh-2");  // linked nowhere
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");
  EXPECT_EQ(Progress("epics"), 0.0);
}

TEST_F(JiraSyncIntegrationTest, StoryPoints_WeightProgress) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1, 3), Issue(2, 5), Issue(3)});
  // Weights arrive with the first event of each issue (linking by key knows none).
  ASSERT_EQ(DeliverUpdate(Changed(Issue(1, 3), "indeterminate", 1), "wh-1").outcome, "accepted");
  ASSERT_EQ(DeliverUpdate(Changed(Issue(2, 5), "done", 2), "wh-2").outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 5.0 / 9);  // 5 of 3 + 5 + 1 (no estimate)

  ASSERT_EQ(DeliverUpdate(Changed(Issue(1, 3), "done", 3), "wh-3").outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 8.0 / 9);
  // Re-estimating a done issue moves progress too.
  ASSERT_EQ(DeliverUpdate(Changed(Issue(1, 1), "done", 4), "wh-4").outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 6.0 / 7);
}

TEST_F(JiraSyncIntegrationTest, ThroughRealHttpServer_RouteVerifiesAndApplies) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2)});
  absl::StatusOr<std::unique_ptr<::okr::http::HttpServer>> server =
      okr::testing::LoopbackHttpServer();
  ASSERT_TRUE(server.ok()) << server.status();
  // What the composition root registers: the ingress on POST /webhooks/jira.
  (*server)->Handle("POST", "/webhooks/jira", okr::testing::WebhookRoute(*handler_));
  ASSERT_TRUE((*server)->Start().ok());
  const std::string url = absl::StrCat("http://127.0.0.1:", (*server)->port(), "/webhooks/jira");

  const FakeJiraIssue closed = Changed(Issue(1), "done", 1);
  const okr::testing::WebhookDelivery delivery =
      okr::testing::MakeDelivery(IssueUpdatedEvent(closed, EventOptions(closed)), "wh-http-1");
  absl::StatusOr<int> status = okr::testing::SendWebhook(url, delivery, "wrong secret");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 401);
  EXPECT_EQ(Progress("epics"), 0.0);

  status = okr::testing::SendWebhook(url, delivery, kSecret);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  status = okr::testing::SendWebhook(url, okr::testing::WithRedelivery({delivery}, 0)[1], kSecret);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);  // duplicate, acknowledged
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  okr::testing::WebhookDelivery huge = delivery;
  huge.identifier = "wh-http-2";
  huge.body = std::string((size_t{1} << 20) + 1, ' ');
  status = okr::testing::SendWebhook(url, huge, kSecret);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 413);
  (*server)->Stop();
}

// ---- Reconciliation ----

TEST_F(JiraSyncIntegrationTest, JqlScope_ReconcileLinksAndUnlinksMatchingIssues) {
  CreateWorkItemsKeyResult("nps", "project = OKRX AND labels = checkout-nps");
  FakeJiraIssue other_project = Issue(9, std::nullopt, {"checkout-nps"});
  other_project.key = "SHOP-9";
  fake_->PutIssues({Changed(Issue(1, std::nullopt, {"checkout-nps"}), "done", 0),
                    Issue(2, std::nullopt, {"checkout-nps", "q4"}), Issue(3, std::nullopt, {"q4"}),
                    other_project});

  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.scope_linked, 2);
  EXPECT_EQ(report.scope_unlinked, 0);
  EXPECT_THAT(LinkedKeys("nps"), ElementsAre("OKRX-1", "OKRX-2"));
  EXPECT_DOUBLE_EQ(Progress("nps"), 0.5);

  // OKRX-1 loses the label; OKRX-4 (3 points, done) gains it.
  FakeJiraIssue relabelled = Changed(Issue(1), "done", 5);
  fake_->PutIssue(relabelled);
  fake_->PutIssue(Changed(Issue(4, 3, {"checkout-nps"}), "done", 5));
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.scope_linked, 1);
  EXPECT_EQ(report.scope_unlinked, 1);
  EXPECT_THAT(LinkedKeys("nps"), ElementsAre("OKRX-2", "OKRX-4"));
  EXPECT_DOUBLE_EQ(Progress("nps"), 0.75);  // 3 of 3 + 1

  // Nothing changed in Jira: a further run is a no-op.
  report = reconciler_->RunOnce();
  EXPECT_EQ(report.scope_linked + report.scope_unlinked + report.items_updated, 0);
  EXPECT_DOUBLE_EQ(Progress("nps"), 0.75);
}

TEST_F(JiraSyncIntegrationTest, LostWebhook_HealedByReconcile) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2, 2), Issue(3)});
  sync::ReconcileReport report = reconciler_->RunOnce();  // learns ids and weights
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_checked, 3);
  EXPECT_EQ(Progress("epics"), 0.0);

  fake_->PutIssue(Changed(Issue(2, 2), "done", 10));  // the webhook never arrives
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_updated, 1);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);  // 2 of 1 + 2 + 1
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);

  // A webhook older than what reconciliation found is stale.
  EXPECT_EQ(DeliverUpdate(Changed(Issue(2, 2), "indeterminate", 5), "wh-late").outcome, "stale");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

// Cancelled work: the search asks for `resolution` (validated by Prism in the second run);
// an issue closed as Won't Do by webhook or as Duplicate found by reconciliation leaves
// numerator and denominator, one closed as Done counts.
TEST_F(JiraSyncIntegrationTest, CancelledResolutions_LeaveTheKeyResult) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2), Issue(3), Issue(4)});
  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(Progress("epics"), 0.0);

  FakeJiraIssue wont = Changed(Issue(1), "done", 10);
  wont.resolution = "Won't Do";
  EXPECT_EQ(DeliverUpdate(wont, "wh-wont").outcome, "accepted");
  absl::StatusOr<KeyResult> kr = core_->GetKeyResult(kObjective, "epics");
  ASSERT_TRUE(kr.ok());
  EXPECT_EQ(kr->totals.excluded_count, 1);
  EXPECT_EQ(kr->totals.item_count, 3);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.0);

  FakeJiraIssue duplicate = Changed(Issue(2), "done", 11);
  duplicate.resolution = "Duplicate";
  fake_->PutIssue(duplicate);                      // no webhook
  fake_->PutIssue(Changed(Issue(3), "done", 12));  // resolution "Done"
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  kr = core_->GetKeyResult(kObjective, "epics");
  ASSERT_TRUE(kr.ok());
  EXPECT_EQ(kr->totals.excluded_count, 2);
  EXPECT_EQ(kr->totals.item_count, 2);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);  // OKRX-3 of OKRX-3 and OKRX-4
  std::optional<WorkItem> stored;
  ASSERT_TRUE(store_
                  ->RunReadOnly([&stored](storage::OkrTransaction& tx) -> absl::Status {
                    absl::StatusOr<std::optional<WorkItem>> item =
                        tx.GetWorkItem(Tracker::kJira, "OKRX-2");
                    if (item.ok()) stored = *item;
                    return item.status();
                  })
                  .ok());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->exclusion, "Duplicate");
  EXPECT_EQ(stored->status, "Done");
}

TEST_F(JiraSyncIntegrationTest, DeletionFoundByReconcile_OnlyAfterGet404) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Changed(Issue(1), "done", 1), Issue(2), Issue(3)});
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0 / 3);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);

  ASSERT_TRUE(fake_->DeleteIssue("OKRX-3"));
  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_deleted, 1);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 1);  // the confirming GET
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre("OKRX-1", "OKRX-2"));
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

// A source whose searches miss one issue, as Jira's eventually consistent search may.
class MissingFromSearchSource final : public sync::TrackerSource {
 public:
  MissingFromSearchSource(sync::TrackerSource& inner, std::string hidden_key)
      : inner_(inner), hidden_key_(std::move(hidden_key)) {}
  Tracker tracker() const override { return inner_.tracker(); }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>& tracked) override {
    absl::StatusOr<std::vector<WorkItem>> items = inner_.FetchItems(tracked);
    if (items.ok()) {
      items->erase(std::remove_if(items->begin(), items->end(),
                                  [&](const WorkItem& i) { return i.key == hidden_key_; }),
                   items->end());
    }
    return items;
  }
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem& item) override {
    return inner_.ConfirmDeleted(item);
  }
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult& kr) override {
    return inner_.ScopeMatches(kr);
  }

 private:
  sync::TrackerSource& inner_;
  std::string hidden_key_;
};

TEST_F(JiraSyncIntegrationTest, AbsentFromSearchButGetFindsIt_NotRemoved) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Changed(Issue(1), "done", 1), Issue(2)});
  MissingFromSearchSource flaky(*source_, "OKRX-1");
  sync::Reconciler reconciler(*core_, *store_, {&flaky});
  sync::ReconcileReport report = reconciler.RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_deleted, 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 1);
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre("OKRX-1", "OKRX-2"));
}

TEST_F(JiraSyncIntegrationTest, RateLimitStormDuringReconcile_Converges) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Changed(Issue(1), "done", 1), Issue(2), Changed(Issue(3), "done", 1)});

  // More 429s than one request's five attempts: the first run gives up on Jira without
  // changing (or deleting) anything; the next run gets through.
  fake_->FailNextRequests(7, FakeJiraFailure{429, "1", std::nullopt});
  sync::ReconcileReport report = reconciler_->RunOnce();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0].code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(report.items_deleted, 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre("OKRX-1", "OKRX-2", "OKRX-3"));
  EXPECT_EQ(Progress("epics"), 0.0);

  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_updated, 3);  // external ids learnt; two also closed
  EXPECT_DOUBLE_EQ(Progress("epics"), 2.0 / 3);
  EXPECT_EQ(fake_->InjectedFailureCount(), 7);
  const std::vector<absl::Duration> waits = stack_->sleeper.waits();
  EXPECT_EQ(waits.size(), 6u);  // 4 retries in the first run, 2 in the second
  for (absl::Duration wait : waits) EXPECT_GE(wait, absl::Seconds(1));  // Retry-After
}

// ---- Write-back ----

TEST_F(JiraSyncIntegrationTest, RemoteLink_CreatedOnceThenUpdatedOnEveryProgressChange) {
  CreateWorkItemsKeyResult("epics");
  LinkIssues("epics", {Issue(1), Issue(2), Issue(3), Issue(4)});
  ASSERT_EQ(DeliverUpdate(Changed(Issue(1), "done", 1), "wh-1").outcome, "accepted");

  sync::WriteBackReport report = worker_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.writes, 4);
  for (const std::string id : {"10001", "10002", "10003", "10004"}) {
    std::vector<FakeRemoteLink> links = fake_->RemoteLinks(id);
    ASSERT_EQ(links.size(), 1u) << id;
    EXPECT_EQ(links[0].global_id, "okr-service:objectives/o1/keyResults/epics");
    EXPECT_EQ(links[0].body["relationship"], "serves key result");
    EXPECT_EQ(links[0].body["object"]["url"], "https://okr.example/objectives/o1/keyResults/epics");
    EXPECT_EQ(links[0].body["object"]["title"], "serves key result: Ship the checkout epics");
    EXPECT_EQ(links[0].body["object"]["status"]["resolved"], false);
    EXPECT_THAT(LinkSummary(id), HasSubstr("Delight customers at checkout (Checkout)"));
    EXPECT_THAT(LinkSummary(id), HasSubstr("25% (expected 50%)"));
    EXPECT_EQ(fake_->RemoteLinkWrites(id), 1);
  }

  clock_.Advance(absl::Seconds(3));
  ASSERT_EQ(DeliverUpdate(Changed(Issue(2), "done", 2), "wh-2").outcome, "accepted");
  report = worker_->RunOnce();
  EXPECT_EQ(report.writes, 4);
  for (const std::string id : {"10001", "10002", "10003", "10004"}) {
    EXPECT_EQ(fake_->RemoteLinks(id).size(), 1u) << id;  // updated, never duplicated
    EXPECT_THAT(LinkSummary(id), HasSubstr("50% (expected 50%)"));
    EXPECT_EQ(fake_->RemoteLinkWrites(id), 2);
  }

  // Nothing shown changed: no write.
  clock_.Advance(absl::Seconds(3));
  ASSERT_EQ(DeliverUpdate(Changed(Issue(2), "done", 3), "wh-3").outcome, "accepted");
  report = worker_->RunOnce();
  EXPECT_EQ(report.writes, 0);
  EXPECT_EQ(fake_->RemoteLinkWrites("10001"), 2);
}

TEST_F(JiraSyncIntegrationTest, Unlinks_DeleteTheRemoteLinksOfKeyResultsNoLongerServed) {
  CreateWorkItemsKeyResult("epics");
  CreateWorkItemsKeyResult("bugs");
  CreateObjective("o2");
  CreateWorkItemsKeyResult("epics", "", "o2");  // same key result id, another objective
  LinkIssues("epics", {Issue(1), Issue(2)});
  LinkIssues("bugs", {Issue(1)});
  WorkItem item;
  item.tracker = Tracker::kJira;
  item.key = "OKRX-1";
  ASSERT_TRUE(core_->LinkWorkItem("o2", "epics", item, "").ok());
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  auto global_ids = [&](const std::string& id) {
    std::vector<std::string> ids;
    for (const FakeRemoteLink& link : fake_->RemoteLinks(id)) ids.push_back(link.global_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  ASSERT_THAT(global_ids("10001"), ElementsAre("okr-service:objectives/o1/keyResults/bugs",
                                               "okr-service:objectives/o1/keyResults/epics",
                                               "okr-service:objectives/o2/keyResults/epics"));

  // Unlinking OKRX-1 from o1/epics deletes that one link (DELETE ...?globalId=, 204).
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(core_->UnlinkWorkItemByKey(kObjective, "epics", Tracker::kJira, "OKRX-1").ok());
  sync::WriteBackReport report = worker_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_THAT(global_ids("10001"), ElementsAre("okr-service:objectives/o1/keyResults/bugs",
                                               "okr-service:objectives/o2/keyResults/epics"));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkDelete), 1);
  EXPECT_THAT(global_ids("10002"), ElementsAre("okr-service:objectives/o1/keyResults/epics"));

  // Someone removed a link by hand meanwhile: the delete answers 404, which counts as done.
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(
      stack_->client->DeleteRemoteLink("10001", "okr-service:objectives/o1/keyResults/bugs").ok());
  ASSERT_TRUE(core_->DeleteKeyResult(kObjective, "bugs", "").ok());
  report = worker_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_THAT(global_ids("10001"), ElementsAre("okr-service:objectives/o2/keyResults/epics"));

  // Deleting objective o2 (with its key result) removes the last link of OKRX-1.
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(core_->DeleteObjective("o2", "", /*force=*/true).ok());
  report = worker_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.removals, 1);
  EXPECT_THAT(global_ids("10001"), IsEmpty());
  EXPECT_THAT(global_ids("10002"), ElementsAre("okr-service:objectives/o1/keyResults/epics"));
  // Nothing is left queued.
  EXPECT_EQ(worker_->RunOnce().writes, 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkDelete), 4);
}

TEST_F(JiraSyncIntegrationTest, TenProgressChangesWithinOneSecond_AtMostOneWritePerIssue) {
  CreateWorkItemsKeyResult("epics");
  std::vector<FakeJiraIssue> issues;
  for (int n = 1; n <= 10; ++n) issues.push_back(Issue(n));
  LinkIssues("epics", issues);

  for (int n = 1; n <= 10; ++n) {
    ASSERT_EQ(DeliverUpdate(Changed(Issue(n), "done", n), absl::StrCat("wh-", n)).outcome,
              "accepted");
    EXPECT_DOUBLE_EQ(Progress("epics"), n / 10.0);
    EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
    clock_.Advance(absl::Milliseconds(100));
  }
  for (const FakeJiraIssue& issue : issues) {
    EXPECT_EQ(fake_->RemoteLinkWrites(issue.id), 1) << issue.key;
    EXPECT_THAT(LinkSummary(issue.id), HasSubstr("10% (expected 50%)"));
  }

  // Once the spacing has passed, the latest state is written (and only that).
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(worker_->RunOnce().writes, 10);
  for (const FakeJiraIssue& issue : issues) {
    EXPECT_EQ(fake_->RemoteLinkWrites(issue.id), 2) << issue.key;
    EXPECT_EQ(fake_->RemoteLinks(issue.id).size(), 1u);
    EXPECT_THAT(LinkSummary(issue.id), HasSubstr("100%, achieved"));
    EXPECT_EQ(fake_->RemoteLinks(issue.id)[0].body["object"]["status"]["resolved"], true);
  }
}

// ---- Scale ----

TEST_F(JiraSyncIntegrationTest, TenThousandTrackedIssues_ReconcileInAtMostHundredSearches) {
  // 10 objectives x 10 key results x 100 issues.
  constexpr int kObjectives = 10;
  constexpr int kKeyResults = 10;
  constexpr int kPerKeyResult = 100;
  const std::vector<FakeJiraIssue> issues =
      okr::testing::MakeFakeIssues(kObjectives * kKeyResults * kPerKeyResult);
  fake_->PutIssues(issues);
  // The issues of key result `k` of objective `o`.
  const auto issues_of = [&](int o, int k) {
    const auto begin = issues.begin() + (o * kKeyResults + k) * kPerKeyResult;
    return std::vector<FakeJiraIssue>(begin, begin + kPerKeyResult);
  };
  const absl::Time seed_start = absl::Now();
  for (int o = 0; o < kObjectives; ++o) {
    const std::string objective = absl::StrCat("s", o);
    CreateObjective(objective);
    for (int k = 0; k < kKeyResults; ++k) {
      const std::string kr = absl::StrCat("kr", k);
      CreateWorkItemsKeyResult(kr, "", objective);
      for (const FakeJiraIssue& issue : issues_of(o, k)) {
        WorkItem item;
        item.tracker = Tracker::kJira;
        item.key = issue.key;
        item.title = issue.summary;
        // Half were seen by a webhook already (stable id known), half only linked by key.
        if (k % 2 == 0) item.external_id = issue.id;
        ASSERT_TRUE(core_->LinkWorkItem(objective, kr, item, "").ok());
      }
    }
  }
  const absl::Duration seeding = absl::Now() - seed_start;

  const absl::Time run_start = absl::Now();
  sync::ReconcileReport report = reconciler_->RunOnce();
  const absl::Duration run = absl::Now() - run_start;
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_checked, 10'000);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 100);  // 50 by id, 50 by key
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);

  for (int o = 0; o < kObjectives; ++o) {
    for (int k = 0; k < kKeyResults; ++k) {
      double done = 0;
      double total = 0;
      for (const FakeJiraIssue& issue : issues_of(o, k)) {
        const double weight = issue.story_points.value_or(1);
        total += weight;
        if (issue.status_category == "done") done += weight;
      }
      EXPECT_NEAR(Progress(absl::StrCat("kr", k), absl::StrCat("s", o)), done / total, 1e-12)
          << "s" << o << "/kr" << k;
    }
  }
  // Every issue is known by its id now: the next run is 100 searches by id.
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_updated, 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 200);
  std::cerr << "seeding 10,000 links: " << seeding << ", first reconcile: " << run << "\n";
}

}  // namespace
}  // namespace okr::connectors::jira
