// Integration tests of the GitLab side of tracker sync, composed the way the server composes
// it: a real SqliteStore in a temp directory, OkrCore on a FakeClock, CoreTrackerSink,
// the GitLab connector's webhooks behind the webhook ingress (called directly, and behind a
// real okr::http::HttpServer fed by the fake's SendIssueHook), and the outbound stack
// CurlHttpClient -> RetryingHttpClient (fake sleeper) -> GitLabClient against FakeGitLabServer,
// feeding GitLabTrackerSource / GitLabTrackerWriter to the Reconciler and the WriteBackWorker. The
// fake GitLab stamps its issues with the same FakeClock.
//
// Every case asserts exact progress values read back through OkrCore::GetKeyResult.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connectors/gitlab/gitlab_connector.h"
#include "connectors/gitlab/gitlab_sync.h"
#include "connectors/gitlab/mapper.h"
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
#include "tests/connectors/gitlab/gitlab_test_stack.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/webhook_route.h"

namespace okr::connectors::gitlab {
namespace {

using ::okr::connectors::gitlab::testing::GitLabTestStack;
using ::okr::testing::FakeGitLabEndpoint;
using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabIssueHook;
using ::okr::testing::FakeGitLabNote;
using ::okr::testing::FakeGitLabServer;
using ::okr::testing::GitLabHookTimeFormat;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

const absl::Time kCycleStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kCycleEnd = kCycleStart + absl::Hours(100);
constexpr char kToken[] = "It's a Secret to Everybody";
constexpr char kPublicUrl[] = "https://okr.example";
constexpr char kObjective[] = "o1";
constexpr char kProject[] = "acme/checkout";

std::string Key(int64_t iid, const std::string& project = kProject) {
  return WorkItemKey(project, iid);
}

class GitLabSyncIntegrationTest : public ::testing::Test {
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

    okr::testing::FakeGitLabOptions fake_options;
    fake_options.clock = &clock_;
    fake_options.scoped_labels_exclusive = true;  // like GitLab Premium/Ultimate
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(fake_options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject(kProject);
    absl::StatusOr<std::unique_ptr<GitLabTestStack>> stack =
        GitLabTestStack::Create(*fake_, clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);

    GitLabInstanceConfig instance;
    instance.name = "default";
    instance.url = fake_->base_url();
    instance.token = fake_->private_token();
    instance.webhook_token = kToken;
    absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> connector =
        MakeGitLabConnector(instance, *stack_->retrying);
    ASSERT_TRUE(connector.ok()) << connector.status();
    connector_ = *std::move(connector);
    handler_ = std::make_unique<http::WebhookIngress>(*connector_, *sink_);
    source_ = std::make_unique<GitLabTrackerSource>(*stack_->client);
    writer_ = std::make_unique<GitLabTrackerWriter>(*stack_->client, "OKR");
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

  void CreateWorkItemsKeyResult(const std::string& id, const std::string& gitlab_project = "",
                                std::vector<std::string> gitlab_labels = {},
                                const std::string& objective = kObjective) {
    KeyResult kr;
    kr.objective_id = objective;
    kr.id = id;
    kr.title = "Ship the checkout epics";
    kr.type = KeyResultType::kWorkItems;
    kr.scopes[Tracker::kGitLab].project = gitlab_project;
    kr.scopes[Tracker::kGitLab].labels = std::move(gitlab_labels);
    absl::StatusOr<KeyResult> created = core_->CreateKeyResult(kr, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Adds issue `iid` of kProject to the fake.
  FakeGitLabIssue AddIssue(int64_t iid, std::optional<int64_t> weight = std::nullopt,
                           std::vector<std::string> labels = {}, bool closed = false) {
    FakeGitLabIssue issue;
    issue.iid = iid;
    issue.title = absl::StrCat("Checkout epic ", iid);
    issue.weight = weight;
    issue.labels = std::move(labels);
    if (closed) issue.state = "closed";
    absl::StatusOr<FakeGitLabIssue> added = fake_->AddIssue(kProject, issue);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : issue;
  }

  // Links issue `iid` of kProject (by key, as the API does) to `kr`.
  void LinkIssue(const std::string& kr, int64_t iid) {
    WorkItem item;
    item.tracker = Tracker::kGitLab;
    item.key = Key(iid);
    item.title = absl::StrCat("Checkout epic ", iid);
    absl::StatusOr<WorkItemLink> link = core_->LinkWorkItem(kObjective, kr, item, "");
    ASSERT_TRUE(link.ok()) << link.status();
  }

  // Adds issues 1..n (no weight) to the fake and links them to `kr`.
  void AddAndLinkIssues(const std::string& kr, int n) {
    for (int iid = 1; iid <= n; ++iid) {
      AddIssue(iid);
      LinkIssue(kr, iid);
    }
  }

  // The delivery as the HTTP layer hands it over (header names lower-cased).
  static http::HttpRequest Request(const FakeGitLabIssueHook& hook,
                                   const std::string& token = kToken) {
    http::HttpRequest request;
    request.body = hook.Serialize();
    request.headers["content-type"] = "application/json";
    request.headers["user-agent"] = "GitLab/18.2.1";
    request.headers["x-gitlab-event"] =
        hook.confidential ? "Confidential Issue Hook" : "Issue Hook";
    request.headers["x-gitlab-event-uuid"] = hook.event_uuid;
    if (!token.empty()) request.headers["x-gitlab-token"] = token;
    if (!hook.idempotency_key.empty()) request.headers["idempotency-key"] = hook.idempotency_key;
    return request;
  }

  http::WebhookAnswer Deliver(const absl::StatusOr<FakeGitLabIssueHook>& hook) {
    EXPECT_TRUE(hook.ok()) << hook.status();
    if (!hook.ok()) return {};
    return handler_->Handle(Request(*hook));
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

  std::optional<WorkItem> Known(const std::string& key) {
    absl::StatusOr<std::vector<core::WorkItemLinkTarget>> targets =
        core_->FindWorkItemLinks(Tracker::kGitLab, key);
    EXPECT_TRUE(targets.ok()) << targets.status();
    if (!targets.ok() || targets->empty()) return std::nullopt;
    return (*targets)[0].link.item;
  }

  std::vector<std::string> Labels(int64_t iid) {
    absl::StatusOr<FakeGitLabIssue> issue = fake_->GetIssue(kProject, iid);
    EXPECT_TRUE(issue.ok()) << issue.status();
    return issue.ok() ? issue->labels : std::vector<std::string>{};
  }

  // The body of the one note of issue `iid` ("<n notes>" otherwise).
  std::string NoteBody(int64_t iid) {
    const std::vector<FakeGitLabNote> notes = fake_->Notes(kProject, iid);
    if (notes.size() != 1) return absl::StrCat("<", notes.size(), " notes>");
    return notes[0].body;
  }

  okr::testing::TempDir dir_;
  okr::testing::FakeClock clock_{kCycleStart + absl::Hours(50)};  // expected progress 50%
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<sync::CoreTrackerSink> sink_;
  std::unique_ptr<FakeGitLabServer> fake_;
  std::unique_ptr<GitLabTestStack> stack_;
  std::unique_ptr<sync::TrackerConnector> connector_;
  std::unique_ptr<http::WebhookIngress> handler_;
  std::unique_ptr<GitLabTrackerSource> source_;
  std::unique_ptr<GitLabTrackerWriter> writer_;
  std::unique_ptr<sync::Reconciler> reconciler_;
  std::unique_ptr<sync::WriteBackWorker> worker_;
};

// ---- Webhooks ----

TEST_F(GitLabSyncIntegrationTest, CloseReopenUpdate_ViaHooksInBothTimestampFormats) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 4);
  EXPECT_EQ(Progress("epics"), 0.0);

  http::WebhookAnswer response =
      Deliver(fake_->CloseIssue(kProject, 1, GitLabHookTimeFormat::kIso8601));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  EXPECT_EQ(response.body, R"({"status":"accepted"})");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.25);

  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Deliver(fake_->CloseIssue(kProject, 2, GitLabHookTimeFormat::kUtcSuffix)).outcome,
            "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Deliver(fake_->ReopenIssue(kProject, 1, GitLabHookTimeFormat::kMixed)).outcome,
            "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.25);

  // An "update" that re-estimates the closed issue: 3 of 1 + 3 + 1 + 1.
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Deliver(fake_->EditIssue(
                        kProject, 2, [](FakeGitLabIssue& i) { i.weight = 3; },
                        GitLabHookTimeFormat::kUtcSuffix))
                .outcome,
            "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  // The hooks taught the service the issue's global id, web URL and whole-second time.
  std::optional<WorkItem> known = Known(Key(2));
  ASSERT_TRUE(known.has_value());
  absl::StatusOr<FakeGitLabIssue> issue = fake_->GetIssue(kProject, 2);
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(known->external_id, absl::StrCat(issue->id));
  EXPECT_EQ(known->url, issue->web_url);
  EXPECT_TRUE(known->done);
  EXPECT_EQ(known->weight, 3);
  EXPECT_EQ(known->source_updated, clock_.Now());
}

TEST_F(GitLabSyncIntegrationTest, ConfidentialIssueHook_Applied) {
  CreateWorkItemsKeyResult("epics");
  FakeGitLabIssue secret;
  secret.iid = 1;
  secret.title = "Fraud rule for card testing";
  secret.confidential = true;
  ASSERT_TRUE(fake_->AddIssue(kProject, secret).ok());
  LinkIssue("epics", 1);
  AddIssue(2);
  LinkIssue("epics", 2);

  absl::StatusOr<FakeGitLabIssueHook> hook = fake_->CloseIssue(kProject, 1);
  ASSERT_TRUE(hook.ok()) << hook.status();
  ASSERT_TRUE(hook->confidential);
  const http::HttpRequest request = Request(*hook);
  ASSERT_EQ(request.Header("x-gitlab-event"), "Confidential Issue Hook");
  http::WebhookAnswer response = handler_->Handle(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(GitLabSyncIntegrationTest, DuplicateDelivery_SameIdempotencyKey_CountedOnce) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  absl::StatusOr<FakeGitLabIssueHook> close = fake_->CloseIssue(kProject, 1);
  ASSERT_TRUE(close.ok());

  EXPECT_EQ(handler_->Handle(Request(*close)).outcome, "accepted");
  http::WebhookAnswer again = handler_->Handle(Request(*close));  // a retry / re-send
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.outcome, "duplicate");
  EXPECT_EQ(again.body, R"({"status":"duplicate"})");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  // The same Idempotency-Key is the same delivery, whatever the body says.
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<FakeGitLabIssueHook> reopen = fake_->ReopenIssue(kProject, 1);
  ASSERT_TRUE(reopen.ok());
  reopen->idempotency_key = close->idempotency_key;
  EXPECT_EQ(handler_->Handle(Request(*reopen)).outcome, "duplicate");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  // GitLab < 17.4 sends no Idempotency-Key: a re-sent body is recognised by its hash.
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<FakeGitLabIssueHook> close2 = fake_->CloseIssue(kProject, 2);
  ASSERT_TRUE(close2.ok());
  close2->idempotency_key.clear();
  EXPECT_EQ(handler_->Handle(Request(*close2)).outcome, "accepted");
  EXPECT_EQ(handler_->Handle(Request(*close2)).outcome, "duplicate");
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0);
}

TEST_F(GitLabSyncIntegrationTest, OutOfOrder_OlderUpdatedAtAfterNewer_NoRegression) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  absl::StatusOr<FakeGitLabIssueHook> closed = fake_->CloseIssue(kProject, 1);
  clock_.Advance(absl::Seconds(5));
  absl::StatusOr<FakeGitLabIssueHook> reopened = fake_->ReopenIssue(kProject, 1);
  clock_.Advance(absl::Seconds(5));
  absl::StatusOr<FakeGitLabIssueHook> closed_again =
      fake_->CloseIssue(kProject, 1, GitLabHookTimeFormat::kUtcSuffix);

  EXPECT_EQ(Deliver(closed_again).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
  http::WebhookAnswer late = Deliver(reopened);
  EXPECT_EQ(late.status, 200);
  EXPECT_EQ(late.outcome, "stale");
  EXPECT_EQ(late.body, R"({"status":"stale"})");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
  EXPECT_EQ(Deliver(closed).outcome, "stale");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(GitLabSyncIntegrationTest, HookInTheSameSecondAsAReconcileRead_IsNotDropped) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  clock_.Set(absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()) + 10) +
             absl::Milliseconds(200));
  ASSERT_TRUE(fake_->CloseIssue(kProject, 1).ok());       // this hook is lost
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());  // REST: updated_at ...:10.200Z
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  // Reopened 700 ms later, in the same second: the hook says ...:10Z.
  clock_.Advance(absl::Milliseconds(700));
  EXPECT_EQ(Deliver(fake_->ReopenIssue(kProject, 1)).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.0);
}

TEST_F(GitLabSyncIntegrationTest, WrongOrMissingToken_401AndNothingChanges) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  absl::StatusOr<FakeGitLabIssueHook> close = fake_->CloseIssue(kProject, 1);
  ASSERT_TRUE(close.ok());

  http::WebhookAnswer response = handler_->Handle(Request(*close, "not the token"));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.outcome, "rejected-auth");
  EXPECT_THAT(response.body, HasSubstr(R"("code":401)"));
  EXPECT_THAT(response.body, Not(HasSubstr(kToken)));
  EXPECT_EQ(Progress("epics"), 0.0);

  response = handler_->Handle(Request(*close, ""));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.outcome, "rejected-auth");
  EXPECT_EQ(Progress("epics"), 0.0);

  // The rejected attempts did not consume the delivery.
  EXPECT_EQ(handler_->Handle(Request(*close)).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(GitLabSyncIntegrationTest, OtherEventsAndObjectKinds_200Ignored) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  absl::StatusOr<FakeGitLabIssueHook> close = fake_->CloseIssue(kProject, 1);
  ASSERT_TRUE(close.ok());

  // A note event on the issue: acknowledged, not read.
  http::HttpRequest note = Request(*close);
  note.headers["x-gitlab-event"] = "Note Hook";
  note.body = R"({"object_kind":"note","object_attributes":{"note":"LGTM"}})";
  http::WebhookAnswer response = handler_->Handle(note);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");
  EXPECT_EQ(response.body, R"({"status":"ignored"})");

  // A work item (task) arrives as an Issue Hook with object_kind "work_item".
  FakeGitLabIssueHook task = *close;
  task.idempotency_key = okr::testing::NewGitLabUuid();
  task.body["object_kind"] = "work_item";
  task.body["object_attributes"]["type"] = "Task";
  response = handler_->Handle(Request(task));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");

  // An issue no key result links.
  ASSERT_TRUE(fake_->AddIssue(kProject, FakeGitLabIssue{}).ok());  // iid 3
  response = Deliver(fake_->CloseIssue(kProject, 3));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.outcome, "ignored");
  EXPECT_EQ(Progress("epics"), 0.0);
}

TEST_F(GitLabSyncIntegrationTest, Malformed_400NamingTheFieldAndNothingChanges) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  absl::StatusOr<FakeGitLabIssueHook> close = fake_->CloseIssue(kProject, 1);
  ASSERT_TRUE(close.ok());

  http::HttpRequest truncated = Request(*close);
  truncated.body = truncated.body.substr(0, truncated.body.size() / 2);
  http::WebhookAnswer response = handler_->Handle(truncated);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.outcome, "rejected-malformed");
  EXPECT_THAT(response.body, HasSubstr(R"("code":400)"));

  FakeGitLabIssueHook no_iid = *close;
  no_iid.body["object_attributes"].erase("iid");
  response = handler_->Handle(Request(no_iid));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.outcome, "rejected-malformed");
  EXPECT_THAT(response.body, HasSubstr("object_attributes.iid"));
  EXPECT_EQ(Progress("epics"), 0.0);

  // The intact delivery still applies.
  EXPECT_EQ(handler_->Handle(Request(*close)).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(GitLabSyncIntegrationTest, Weight_WeightsProgress) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1, 3);
  AddIssue(2, 5);
  AddIssue(3);  // no weight: counts 1
  for (int iid = 1; iid <= 3; ++iid) LinkIssue("epics", iid);

  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, 2)).outcome, "accepted");
  // Issue 1's weight is unknown until GitLab says so (linking by key knows none): 5 of 7.
  EXPECT_DOUBLE_EQ(Progress("epics"), 5.0 / 7);
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());
  EXPECT_DOUBLE_EQ(Progress("epics"), 5.0 / 9);

  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, 1)).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 8.0 / 9);
  // Re-estimating a closed issue moves progress too.
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(
      Deliver(fake_->EditIssue(kProject, 1, [](FakeGitLabIssue& i) { i.weight = 1; })).outcome,
      "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 6.0 / 7);
}

TEST_F(GitLabSyncIntegrationTest, ThroughRealHttpServer_RouteVerifiesAndApplies) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  absl::StatusOr<std::unique_ptr<::okr::http::HttpServer>> server =
      okr::testing::LoopbackHttpServer();
  ASSERT_TRUE(server.ok()) << server.status();
  // What the composition root registers: the ingress on POST /webhooks/gitlab.
  (*server)->Handle("POST", "/webhooks/gitlab", okr::testing::WebhookRoute(*handler_));
  ASSERT_TRUE((*server)->Start().ok());
  const std::string url = absl::StrCat("http://127.0.0.1:", (*server)->port(), "/webhooks/gitlab");

  absl::StatusOr<FakeGitLabIssueHook> close =
      fake_->CloseIssue(kProject, 1, GitLabHookTimeFormat::kUtcSuffix);
  ASSERT_TRUE(close.ok());
  absl::StatusOr<int> status = okr::testing::SendIssueHook(url, "wrong token", *close);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 401);
  EXPECT_EQ(Progress("epics"), 0.0);

  status = okr::testing::SendIssueHook(url, kToken, *close);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  status = okr::testing::SendIssueHook(url, kToken, *close);  // "Resend Request"
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);  // duplicate, acknowledged
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  status = okr::testing::SendIssueHook(url, kToken, "{not json", okr::testing::NewGitLabUuid());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 400);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
  (*server)->Stop();
}

// ---- Reconciliation ----

TEST_F(GitLabSyncIntegrationTest, LabelScope_ReconcileLinksAndUnlinksMatchingIssues) {
  CreateWorkItemsKeyResult("nps", kProject, {"nps"});
  AddIssue(1, std::nullopt, {"nps"}, /*closed=*/true);
  AddIssue(2, std::nullopt, {"nps", "q4"});
  AddIssue(3, std::nullopt, {"q4"});
  fake_->AddProject("acme/other");
  FakeGitLabIssue elsewhere;
  elsewhere.iid = 1;
  elsewhere.labels = {"nps"};
  ASSERT_TRUE(fake_->AddIssue("acme/other", elsewhere).ok());

  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.scope_linked, 2);
  EXPECT_EQ(report.scope_unlinked, 0);
  EXPECT_THAT(LinkedKeys("nps"), ElementsAre(Key(1), Key(2)));
  EXPECT_DOUBLE_EQ(Progress("nps"), 0.5);

  // Issue 1 loses the label; issue 4 (weight 3, closed) gains it.
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(fake_->UpdateIssue(kProject, 1, [](FakeGitLabIssue& i) { i.labels = {}; }).ok());
  AddIssue(4, 3, {"nps"}, /*closed=*/true);
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.scope_linked, 1);
  EXPECT_EQ(report.scope_unlinked, 1);
  EXPECT_THAT(LinkedKeys("nps"), ElementsAre(Key(2), Key(4)));
  EXPECT_DOUBLE_EQ(Progress("nps"), 0.75);  // 3 of 3 + 1

  // Nothing changed in GitLab: a further run is a no-op.
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.scope_linked + report.scope_unlinked + report.items_updated, 0);
  EXPECT_DOUBLE_EQ(Progress("nps"), 0.75);
}

TEST_F(GitLabSyncIntegrationTest, LostWebhook_HealedByReconcile) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1);
  AddIssue(2, 2);
  AddIssue(3);
  for (int iid = 1; iid <= 3; ++iid) LinkIssue("epics", iid);
  sync::ReconcileReport report = reconciler_->RunOnce();  // learns ids and weights
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_checked, 3);
  EXPECT_EQ(Progress("epics"), 0.0);

  clock_.Advance(absl::Seconds(10));
  absl::StatusOr<FakeGitLabIssueHook> lost = fake_->CloseIssue(kProject, 2);  // never arrives
  ASSERT_TRUE(lost.ok());
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_updated, 1);
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);  // 2 of 1 + 2 + 1
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 0);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 2);

  // The hook arriving after all changes nothing; an older state is stale.
  EXPECT_EQ(Deliver(lost).outcome, "accepted");  // same second as the REST read
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
  FakeGitLabIssueHook older = *lost;
  older.idempotency_key = okr::testing::NewGitLabUuid();
  older.body["object_attributes"]["state"] = "opened";
  older.body["object_attributes"]["updated_at"] =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_.Now() - absl::Seconds(5), absl::UTCTimeZone());
  EXPECT_EQ(handler_->Handle(Request(older)).outcome, "stale");
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(GitLabSyncIntegrationTest, DeletionFoundByReconcile_OnlyAfterGet404) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1, std::nullopt, {}, /*closed=*/true);
  AddIssue(2);
  AddIssue(3);
  for (int iid = 1; iid <= 3; ++iid) LinkIssue("epics", iid);
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0 / 3);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 0);

  ASSERT_TRUE(fake_->DeleteIssue(kProject, 3).ok());  // GitLab sends no hook for this
  // While GitLab fails, absence from a listing deletes nothing.
  fake_->FailNextRequests(5, 500);
  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, SizeIs(1));
  EXPECT_EQ(report.items_deleted, 0);
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre(Key(1), Key(2), Key(3)));

  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_deleted, 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 1);  // the confirming GET
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre(Key(1), Key(2)));
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

// A source whose listings miss one issue (offset pagination is not a snapshot).
class MissingFromListingSource final : public sync::TrackerSource {
 public:
  MissingFromListingSource(sync::TrackerSource& inner, std::string hidden_key)
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

TEST_F(GitLabSyncIntegrationTest, AbsentFromListingButGetFindsIt_NotRemoved) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1, std::nullopt, {}, /*closed=*/true);
  AddIssue(2);
  LinkIssue("epics", 1);
  LinkIssue("epics", 2);
  MissingFromListingSource flaky(*source_, Key(1));
  sync::Reconciler reconciler(*core_, *store_, {&flaky});
  sync::ReconcileReport report = reconciler.RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_deleted, 0);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 1);
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre(Key(1), Key(2)));
}

TEST_F(GitLabSyncIntegrationTest, DeletedProject_ItsIssuesConfirmedOneByOne_OthersReconciled) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1, std::nullopt, {}, /*closed=*/true);
  LinkIssue("epics", 1);
  // Linked issues of a project GitLab does not know (deleted, or hidden from the token).
  for (int iid = 1; iid <= 2; ++iid) {
    WorkItem item;
    item.tracker = Tracker::kGitLab;
    item.key = Key(iid, "acme/gone");
    ASSERT_TRUE(core_->LinkWorkItem(kObjective, "epics", item, "").ok());
  }
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.0);  // issue 1's state is unknown yet

  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_checked, 1);
  EXPECT_EQ(report.items_deleted, 2);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 2);
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre(Key(1)));
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0);
}

TEST_F(GitLabSyncIntegrationTest, WrongBaseUrl_EveryRequest404_ReconcileDeletesNothing) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1, std::nullopt, {}, /*closed=*/true);
  AddIssue(2);
  LinkIssue("epics", 1);
  LinkIssue("epics", 2);
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);

  // OKR_GITLAB_URL points at the wrong path: GitLab answers 404 to everything.
  GitLabClientOptions options;
  options.base_url = fake_->base_url() + "/not-gitlab";
  options.private_token = fake_->private_token();
  absl::StatusOr<std::unique_ptr<GitLabClient>> misconfigured =
      GitLabClient::Create(*stack_->retrying, options);
  ASSERT_TRUE(misconfigured.ok()) << misconfigured.status();
  GitLabTrackerSource source(**misconfigured);
  sync::Reconciler reconciler(*core_, *store_, {&source});
  sync::ReconcileReport report = reconciler.RunOnce();
  ASSERT_THAT(report.errors, SizeIs(1));
  EXPECT_EQ(report.errors[0].code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(report.items_deleted, 0);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 0);
  EXPECT_THAT(LinkedKeys("epics"), ElementsAre(Key(1), Key(2)));
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
}

TEST_F(GitLabSyncIntegrationTest, RateLimitedDuringReconcile_WaitsForRateLimitResetAndConverges) {
  CreateWorkItemsKeyResult("epics");
  AddIssue(1, std::nullopt, {}, /*closed=*/true);
  AddIssue(2);
  LinkIssue("epics", 1);
  LinkIssue("epics", 2);
  fake_->RateLimitNextRequests(2, absl::Seconds(30), /*send_retry_after=*/false);
  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_DOUBLE_EQ(Progress("epics"), 0.5);
  // Each 429 carried only RateLimit-Reset (an absolute epoch 30 s ahead): each retry
  // waited until then.
  const std::vector<absl::Duration> waits = stack_->sleeper.waits();
  ASSERT_EQ(waits.size(), 2u);
  for (absl::Duration wait : waits) EXPECT_GE(wait, absl::Seconds(30));
}

// ---- Write-back ----

TEST_F(GitLabSyncIntegrationTest, OneNoteEditedInPlace_AndServedLabel) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 4);
  constexpr int kChanges = 4;
  for (int n = 1; n <= kChanges; ++n) {
    ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, n)).outcome, "accepted");
    EXPECT_DOUBLE_EQ(Progress("epics"), n / 4.0);
    sync::WriteBackReport report = worker_->RunOnce();
    EXPECT_THAT(report.errors, IsEmpty());
    EXPECT_EQ(report.writes, 4);
    clock_.Advance(absl::Seconds(3));  // past min_spacing
  }
  for (int iid = 1; iid <= 4; ++iid) {
    EXPECT_THAT(fake_->Notes(kProject, iid), SizeIs(1)) << iid;
    EXPECT_EQ(fake_->NoteCreates(kProject, iid), 1) << iid;
    EXPECT_EQ(fake_->NoteUpdates(kProject, iid), kChanges - 1) << iid;
    EXPECT_THAT(Labels(iid), Contains("OKR:o1/epics")) << iid;
    const std::string body = NoteBody(iid);
    EXPECT_THAT(body, StartsWith("<!-- okr-service -->\n"));
    EXPECT_THAT(body, HasSubstr("[Ship the checkout epics]"
                                "(https://okr.example/objectives/o1/keyResults/epics): "
                                "100%, achieved"));
    EXPECT_THAT(body, HasSubstr("[Delight customers at checkout \\(Checkout\\)]"
                                "(https://okr.example/objectives/o1)"));
  }

  // Someone deletes the note: the next write posts a new one (and only one).
  const int64_t deleted = fake_->Notes(kProject, 1)[0].id;
  ASSERT_TRUE(fake_->DeleteNote(kProject, 1, deleted).ok());
  ASSERT_EQ(Deliver(fake_->ReopenIssue(kProject, 4)).outcome, "accepted");
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  ASSERT_THAT(fake_->Notes(kProject, 1), SizeIs(1));
  EXPECT_NE(fake_->Notes(kProject, 1)[0].id, deleted);
  EXPECT_EQ(fake_->NoteCreates(kProject, 1), 2);
  EXPECT_THAT(NoteBody(1), HasSubstr("75% (expected 50%), on track"));
  clock_.Advance(absl::Seconds(3));
  ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, 4)).outcome, "accepted");
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  EXPECT_EQ(fake_->NoteCreates(kProject, 1), 2);  // the new note is edited from now on
  EXPECT_THAT(NoteBody(1), HasSubstr("100%, achieved"));
}

TEST_F(GitLabSyncIntegrationTest, Unlinks_RemoveLabelsAndTheNoteSaysSoOnceNothingIsServed) {
  CreateWorkItemsKeyResult("epics");
  CreateWorkItemsKeyResult("bugs");
  CreateObjective("o2");
  CreateWorkItemsKeyResult("epics", "", {}, "o2");  // same key result id, another objective
  AddIssue(1, std::nullopt, {"bug"});
  AddIssue(2);
  LinkIssue("epics", 1);
  LinkIssue("bugs", 1);
  LinkIssue("epics", 2);
  WorkItem item;
  item.tracker = Tracker::kGitLab;
  item.key = Key(1);
  ASSERT_TRUE(core_->LinkWorkItem("o2", "epics", item, "").ok());
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  // Three labels side by side although the fake drops labels of a shared scope.
  EXPECT_THAT(Labels(1),
              UnorderedElementsAre("OKR:o1/bugs", "OKR:o1/epics", "OKR:o2/epics", "bug"));
  EXPECT_THAT(NoteBody(1), HasSubstr("these key results"));

  // Unlinked from o1/epics: that label goes, the note lists the other two.
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(core_->UnlinkWorkItemByKey(kObjective, "epics", Tracker::kGitLab, Key(1)).ok());
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  EXPECT_THAT(Labels(1), UnorderedElementsAre("OKR:o1/bugs", "OKR:o2/epics", "bug"));
  EXPECT_THAT(NoteBody(1), HasSubstr("/objectives/o1/keyResults/bugs"));
  EXPECT_THAT(NoteBody(1), HasSubstr("/objectives/o2/keyResults/epics"));
  EXPECT_THAT(NoteBody(1), Not(HasSubstr("/objectives/o1/keyResults/epics")));
  EXPECT_THAT(Labels(2), ElementsAre("OKR:o1/epics"));

  // GitLab fails for a while: the removal stays queued and is retried.
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(core_->DeleteKeyResult(kObjective, "bugs", "").ok());
  fake_->FailNextRequests(5, 500);  // every attempt of the retrying client
  EXPECT_THAT(worker_->RunOnce().errors, Not(IsEmpty()));
  EXPECT_THAT(Labels(1), Contains("OKR:o1/bugs"));
  clock_.Advance(absl::Seconds(5));  // past the item's backoff after the failure
  sync::WriteBackReport report = worker_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_THAT(Labels(1), UnorderedElementsAre("OKR:o2/epics", "bug"));
  EXPECT_THAT(NoteBody(1), Not(HasSubstr("keyResults/bugs")));

  // Objective o2 deleted with its key result: nothing served any more.
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(core_->DeleteObjective("o2", "", /*force=*/true).ok());
  report = worker_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.removals, 1);
  EXPECT_THAT(Labels(1), ElementsAre("bug"));
  EXPECT_EQ(NoteBody(1), NoLongerServedNoteBody());
  EXPECT_EQ(fake_->NoteCreates(kProject, 1), 1);
  EXPECT_THAT(Labels(2), ElementsAre("OKR:o1/epics"));  // untouched
  EXPECT_EQ(worker_->RunOnce().writes, 0);              // nothing left queued

  // Linked again later: the note is written anew (the state was forgotten).
  clock_.Advance(absl::Seconds(3));
  LinkIssue("epics", 1);
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  EXPECT_THAT(Labels(1), UnorderedElementsAre("OKR:o1/epics", "bug"));
  EXPECT_EQ(fake_->NoteCreates(kProject, 1), 2);
}

TEST_F(GitLabSyncIntegrationTest, ScopeLeft_LabelRemoved) {
  CreateWorkItemsKeyResult("epics", kProject, {"checkout"});
  AddIssue(1, std::nullopt, {"checkout"});
  AddIssue(2, std::nullopt, {"checkout"});
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());
  ASSERT_THAT(LinkedKeys("epics"), ElementsAre(Key(1), Key(2)));
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  EXPECT_THAT(Labels(2), UnorderedElementsAre("OKR:o1/epics", "checkout"));

  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(fake_
                  ->UpdateIssue(kProject, 2,
                                [](FakeGitLabIssue& i) {
                                  i.labels.erase(
                                      std::remove(i.labels.begin(), i.labels.end(), "checkout"),
                                      i.labels.end());
                                })
                  .ok());
  ASSERT_THAT(reconciler_->RunOnce().errors, IsEmpty());
  ASSERT_THAT(LinkedKeys("epics"), ElementsAre(Key(1)));
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  EXPECT_THAT(Labels(2), IsEmpty());
  EXPECT_EQ(NoteBody(2), NoLongerServedNoteBody());
  EXPECT_THAT(Labels(1), UnorderedElementsAre("OKR:o1/epics", "checkout"));
}

TEST_F(GitLabSyncIntegrationTest, TenProgressChangesWithinOneSecond_AtMostOneWritePerIssue) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 10);
  fake_->ResetObservations();
  for (int n = 1; n <= 10; ++n) {
    ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, n)).outcome, "accepted");
    EXPECT_DOUBLE_EQ(Progress("epics"), n / 10.0);
    EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
    clock_.Advance(absl::Milliseconds(100));
  }
  for (int iid = 1; iid <= 10; ++iid) {
    EXPECT_EQ(fake_->NoteCreates(kProject, iid), 1) << iid;
    EXPECT_EQ(fake_->NoteUpdates(kProject, iid), 0) << iid;
    EXPECT_THAT(NoteBody(iid), HasSubstr("10% (expected 50%)"));
  }
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kEditIssue), 10);  // labels, once each

  // Once the spacing has passed, the latest state is written (and only that).
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(worker_->RunOnce().writes, 10);
  for (int iid = 1; iid <= 10; ++iid) {
    EXPECT_EQ(fake_->NoteCreates(kProject, iid), 1) << iid;
    EXPECT_EQ(fake_->NoteUpdates(kProject, iid), 1) << iid;
    EXPECT_THAT(fake_->Notes(kProject, iid), SizeIs(1));
    EXPECT_THAT(NoteBody(iid), HasSubstr("100%, achieved"));
  }
}

// ---- Both trackers ----

TEST_F(GitLabSyncIntegrationTest, MixedJiraAndGitLabKeyResult_CountsBoth) {
  CreateWorkItemsKeyResult("epics");
  AddAndLinkIssues("epics", 2);
  WorkItem jira;
  jira.tracker = Tracker::kJira;
  jira.key = "OKRX-1";
  jira.title = "Checkout epic in Jira";
  ASSERT_TRUE(core_->LinkWorkItem(kObjective, "epics", jira, "").ok());
  EXPECT_EQ(Progress("epics"), 0.0);

  ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, 1)).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0 / 3);

  // The Jira side, as the Jira connector would apply it (4 story points, done).
  WorkItem jira_done = jira;
  jira_done.external_id = "10001";
  jira_done.done = true;
  jira_done.weight = 4;
  jira_done.source_updated = clock_.Now();
  absl::StatusOr<core::SyncOutcome> applied = core_->ApplyTrackerUpdate(jira_done, "jira-wh-1");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, core::SyncOutcome::kApplied);
  EXPECT_DOUBLE_EQ(Progress("epics"), 5.0 / 6);  // 1 + 4 of 1 + 1 + 4

  // GitLab reconciliation and write-back leave the Jira item alone.
  sync::ReconcileReport report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_checked, 2);
  EXPECT_EQ(report.items_deleted, 0);
  EXPECT_DOUBLE_EQ(Progress("epics"), 5.0 / 6);
  sync::WriteBackReport written = worker_->RunOnce();
  EXPECT_THAT(written.errors, IsEmpty());
  EXPECT_EQ(written.writes, 2);  // the two GitLab issues
  EXPECT_THAT(NoteBody(2), HasSubstr("83% (expected 50%), on track"));

  // A GitLab hook still moves the shared key result.
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(Deliver(fake_->CloseIssue(kProject, 2)).outcome, "accepted");
  EXPECT_DOUBLE_EQ(Progress("epics"), 1.0);
}

// ---- Scale ----

TEST_F(GitLabSyncIntegrationTest, TenThousandTrackedIssues_ReconcileInAtMostHundredListRequests) {
  // 10 objectives x 10 key results x 100 issues, spread over 4 projects.
  constexpr int kObjectives = 10;
  constexpr int kKeyResults = 10;
  constexpr int kPerKeyResult = 100;
  constexpr int kIssues = kObjectives * kKeyResults * kPerKeyResult;
  const std::vector<std::string> projects = {"acme/checkout", "acme/payments", "acme/web/cart",
                                             "shop/search"};
  for (const std::string& project : projects) fake_->AddProject(project);
  struct Seeded {
    std::string project;
    int64_t iid;
    bool closed;
    std::optional<int64_t> weight;
  };
  std::vector<Seeded> seeded;
  for (int n = 0; n < kIssues; ++n) {
    Seeded s{projects[n % projects.size()], n / static_cast<int64_t>(projects.size()) + 1,
             n % 3 == 0, n % 5 == 0 ? std::nullopt : std::optional<int64_t>(n % 4 + 1)};
    FakeGitLabIssue issue;
    issue.iid = s.iid;
    issue.title = absl::StrCat("Issue ", n);
    issue.state = s.closed ? "closed" : "opened";
    issue.weight = s.weight;
    ASSERT_TRUE(fake_->AddIssue(s.project, issue).ok());
    seeded.push_back(std::move(s));
  }
  // Link 100 issues per key result in one transaction each (ApplyScope links exactly the
  // given items; the key results have no GitLab scope, so reconciliation leaves them be).
  const absl::Time seed_start = absl::Now();
  for (int o = 0; o < kObjectives; ++o) {
    const std::string objective = absl::StrCat("s", o);
    CreateObjective(objective);
    for (int k = 0; k < kKeyResults; ++k) {
      const std::string kr = absl::StrCat("kr", k);
      CreateWorkItemsKeyResult(kr, "", {}, objective);
      std::vector<WorkItem> items;
      for (int i = 0; i < kPerKeyResult; ++i) {
        const Seeded& s = seeded[(o * kKeyResults + k) * kPerKeyResult + i];
        WorkItem item;
        item.tracker = Tracker::kGitLab;
        item.key = WorkItemKey(s.project, s.iid);
        items.push_back(std::move(item));
      }
      absl::StatusOr<core::ScopeChange> linked =
          core_->ApplyScope(objective, kr, Tracker::kGitLab, items);
      ASSERT_TRUE(linked.ok()) << linked.status();
      ASSERT_EQ(linked->linked.size(), static_cast<size_t>(kPerKeyResult));
    }
  }
  const absl::Duration seeding = absl::Now() - seed_start;
  fake_->ResetObservations();

  const absl::Time run_start = absl::Now();
  sync::ReconcileReport report = reconciler_->RunOnce();
  const absl::Duration run = absl::Now() - run_start;
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_checked, kIssues);
  EXPECT_LE(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 100);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 100);  // 4 x 25 x 100 iids
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 0);

  for (int o = 0; o < kObjectives; ++o) {
    for (int k = 0; k < kKeyResults; ++k) {
      double done = 0;
      double total = 0;
      for (int i = 0; i < kPerKeyResult; ++i) {
        const Seeded& s = seeded[(o * kKeyResults + k) * kPerKeyResult + i];
        const double weight = static_cast<double>(s.weight.value_or(1));
        total += weight;
        if (s.closed) done += weight;
      }
      EXPECT_NEAR(Progress(absl::StrCat("kr", k), absl::StrCat("s", o)), done / total, 1e-12)
          << "s" << o << "/kr" << k;
    }
  }
  // Nothing changed in GitLab: the next run updates nothing, with the same 100 requests.
  report = reconciler_->RunOnce();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.items_updated, 0);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 200);
  std::cerr << "seeding 10,000 links: " << seeding << ", first reconcile: " << run << "\n";
}

}  // namespace
}  // namespace okr::connectors::gitlab
