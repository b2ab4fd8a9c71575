// Tests of the Jira sync adapters (JiraTrackerSource, JiraTrackerWriter) against the fake
// Jira through the production HTTP stack, plus a scripted HttpClient for answers the fake
// does not give (a 400 for JQL naming a vanished issue).
#include "connectors/jira/jira_sync.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/outbound/http_client.h"
#include "tests/connectors/jira/jira_test_stack.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace okr::connectors::jira {
namespace {

using ::okr::connectors::jira::testing::JiraTestStack;
using ::okr::testing::FakeJiraEndpoint;
using ::okr::testing::FakeJiraFailure;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::FakeRemoteLink;
using ::okr::testing::MakeFakeIssues;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

FakeJiraIssue Issue(int n, std::string category = "new", std::optional<double> points = {}) {
  FakeJiraIssue issue;
  issue.id = std::to_string(10000 + n);
  issue.key = absl::StrCat("OKRX-", n);
  issue.summary = absl::StrCat("Issue ", n);
  issue.status_category = std::move(category);
  issue.story_points = points;
  return issue;
}

WorkItem Tracked(const std::string& key, const std::string& external_id = "") {
  WorkItem item;
  item.tracker = Tracker::kJira;
  item.key = key;
  item.external_id = external_id;
  return item;
}

std::vector<std::string> Keys(const std::vector<WorkItem>& items) {
  std::vector<std::string> keys;
  for (const WorkItem& item : items) keys.push_back(item.key);
  return keys;
}

sync::ServedKeyResult Served(double progress, bool achieved = false) {
  sync::ServedKeyResult served;
  served.key_result = "objectives/o1/keyResults/epics";
  served.key_result_title = "Ship the checkout epics";
  served.objective = "objectives/o1";
  served.objective_title = "Delight customers at checkout";
  served.team_name = "Checkout";
  served.progress = progress;
  served.expected_progress = 0.5;
  served.health = Health::kAtRisk;
  served.achieved = achieved;
  served.url = "https://okr.example/objectives/o1/keyResults/epics";
  return served;
}

class JiraSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeJiraServer>> fake = FakeJiraServer::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    absl::StatusOr<std::unique_ptr<JiraTestStack>> stack = JiraTestStack::Create(*fake_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    source_ = std::make_unique<JiraTrackerSource>(*stack_->client, kSite);
    writer_ = std::make_unique<JiraTrackerWriter>(*stack_->client);
  }

  static constexpr char kSite[] = "https://acme.atlassian.net";
  std::unique_ptr<FakeJiraServer> fake_;
  std::unique_ptr<JiraTestStack> stack_;
  std::unique_ptr<JiraTrackerSource> source_;
  std::unique_ptr<JiraTrackerWriter> writer_;
};

// ---- Pure helpers ----

TEST(SyncedWorkItemTest, CarriesIdentityAndUpdatedTime) {
  JiraIssue issue;
  issue.id = "10001";
  issue.key = "OKRX-1";
  issue.summary = "Cut p95";
  issue.status_category_key = "done";
  issue.done = true;
  issue.story_points = 3;
  issue.updated = absl::FromUnixSeconds(1749031387);
  WorkItem item = SyncedWorkItem(issue, "https://acme.atlassian.net/");
  EXPECT_EQ(item.tracker, Tracker::kJira);
  EXPECT_EQ(item.external_id, "10001");
  EXPECT_EQ(item.key, "OKRX-1");
  EXPECT_EQ(item.title, "Cut p95");
  EXPECT_EQ(item.url, "https://acme.atlassian.net/browse/OKRX-1");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 3);
  EXPECT_EQ(item.source_updated, absl::FromUnixSeconds(1749031387));
}

TEST(ServedRemoteLinkTest, FullObject) {
  RemoteLink link = ServedRemoteLink(Served(0.25));
  EXPECT_EQ(link.global_id, "okr-service:objectives/o1/keyResults/epics");
  EXPECT_EQ(link.relationship, "serves key result");
  EXPECT_EQ(link.url, "https://okr.example/objectives/o1/keyResults/epics");
  EXPECT_EQ(link.title, "serves key result: Ship the checkout epics");
  EXPECT_EQ(link.summary,
            "Delight customers at checkout (Checkout) \xE2\x80\x94 25% (expected 50%), at risk");
  EXPECT_FALSE(link.resolved);

  RemoteLink achieved = ServedRemoteLink(Served(1.0, /*achieved=*/true));
  EXPECT_EQ(achieved.summary,
            "Delight customers at checkout (Checkout) \xE2\x80\x94 100%, achieved");
  EXPECT_TRUE(achieved.resolved);
}

TEST(ServedRemoteLinkTest, LongTitle_CutOnACharacterBoundary) {
  sync::ServedKeyResult served = Served(0.5);
  served.key_result_title = std::string(300, 'x');
  for (int i = 0; i < 100; ++i) served.key_result_title += "\xC3\xA9";  // é
  served.objective_title = served.key_result_title;
  RemoteLink link = ServedRemoteLink(served);
  EXPECT_LE(link.title.size(), 255u);
  EXPECT_LE(link.summary.size(), 255u);
  EXPECT_TRUE(absl::EndsWith(link.title, "\xE2\x80\xA6"));
  EXPECT_EQ(link.global_id, "okr-service:objectives/o1/keyResults/epics");  // unaffected
}

// ---- JiraTrackerSource ----

TEST_F(JiraSyncTest, FetchItems_ByIdAndByKey_MissingOnesAbsent) {
  fake_->PutIssues({Issue(1, "done", 5), Issue(2, "indeterminate"), Issue(3)});
  absl::StatusOr<std::vector<WorkItem>> items =
      source_->FetchItems({Tracked("OKRX-1", "10001"), Tracked("OKRX-2"),
                           Tracked("OKRX-9", "10009"), Tracked("OKRX-8")});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(Keys(*items), UnorderedElementsAre("OKRX-1", "OKRX-2"));
  for (const WorkItem& item : *items) {
    if (item.key == "OKRX-1") {
      EXPECT_EQ(item.external_id, "10001");
      EXPECT_TRUE(item.done);
      EXPECT_EQ(item.weight, 5);
    } else {
      EXPECT_EQ(item.external_id, "10002");  // learnt from the key search
      EXPECT_FALSE(item.done);
      EXPECT_EQ(item.weight, 1);
    }
    EXPECT_EQ(item.source_updated, absl::FromUnixMillis(1749031387381));
    EXPECT_EQ(item.url, absl::StrCat(kSite, "/browse/", item.key));
  }
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 2);  // one by id, one by key
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);
}

TEST_F(JiraSyncTest, FetchItems_BatchesAHundredPerSearch) {
  fake_->PutIssues(MakeFakeIssues(450));
  std::vector<WorkItem> tracked;
  for (const FakeJiraIssue& issue : MakeFakeIssues(450)) {
    // 250 known by id, 200 by key only.
    tracked.push_back(Tracked(issue.key, tracked.size() < 250 ? issue.id : ""));
  }
  absl::StatusOr<std::vector<WorkItem>> items = source_->FetchItems(tracked);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(items->size(), 450u);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 3 + 2);
}

TEST_F(JiraSyncTest, FetchItems_NothingTracked_NoRequest) {
  absl::StatusOr<std::vector<WorkItem>> items = source_->FetchItems({});
  ASSERT_TRUE(items.ok());
  EXPECT_TRUE(items->empty());
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 0);
}

TEST_F(JiraSyncTest, FetchItems_SearchFails_ErrorNotPartialResult) {
  fake_->PutIssues({Issue(1)});
  fake_->FailNextRequests(5, FakeJiraFailure{500, std::nullopt, std::nullopt});
  absl::StatusOr<std::vector<WorkItem>> items = source_->FetchItems({Tracked("OKRX-1", "10001")});
  EXPECT_EQ(items.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(JiraSyncTest, ConfirmDeleted_TrueOnlyOn404) {
  fake_->PutIssues({Issue(1)});
  absl::StatusOr<bool> exists = source_->ConfirmDeleted(Tracked("OKRX-1", "10001"));
  ASSERT_TRUE(exists.ok()) << exists.status();
  EXPECT_FALSE(*exists);
  absl::StatusOr<bool> by_key = source_->ConfirmDeleted(Tracked("OKRX-1"));
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  EXPECT_FALSE(*by_key);

  fake_->DeleteIssue("OKRX-1");
  absl::StatusOr<bool> deleted = source_->ConfirmDeleted(Tracked("OKRX-1", "10001"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);

  fake_->PutIssues({Issue(2)});
  fake_->FailNextRequests(5, FakeJiraFailure{500, std::nullopt, std::nullopt});
  absl::StatusOr<bool> failing = source_->ConfirmDeleted(Tracked("OKRX-2", "10002"));
  EXPECT_FALSE(failing.ok());  // a 500 never counts as "deleted"
}

TEST_F(JiraSyncTest, ScopeMatches_NoJql_Nullopt) {
  KeyResult kr;
  absl::StatusOr<std::optional<std::vector<WorkItem>>> matches = source_->ScopeMatches(kr);
  ASSERT_TRUE(matches.ok());
  EXPECT_FALSE(matches->has_value());
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 0);
}

TEST_F(JiraSyncTest, ScopeMatches_Jql_AllPagesMapped) {
  std::vector<FakeJiraIssue> issues = MakeFakeIssues(250);
  for (size_t i = 0; i < issues.size(); ++i) {
    if (i % 2 == 0) issues[i].labels = {"checkout-nps"};
  }
  fake_->PutIssues(issues);
  KeyResult kr;
  kr.scopes[Tracker::kJira].query = "project = OKRX AND labels = checkout-nps";
  absl::StatusOr<std::optional<std::vector<WorkItem>>> matches = source_->ScopeMatches(kr);
  ASSERT_TRUE(matches.ok()) << matches.status();
  ASSERT_TRUE(matches->has_value());
  EXPECT_EQ((*matches)->size(), 125u);
  EXPECT_EQ((*matches)->front().key, "OKRX-1");
  EXPECT_EQ((*matches)->front().external_id, "10001");
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 2);
}

TEST_F(JiraSyncTest, ScopeMatches_BadJql_InvalidArgument) {
  KeyResult kr;
  kr.scopes[Tracker::kJira].query = "summary ~ checkout";
  absl::StatusOr<std::optional<std::vector<WorkItem>>> matches = source_->ScopeMatches(kr);
  EXPECT_EQ(matches.status().code(), absl::StatusCode::kInvalidArgument);
}

// Answers by URL, for responses the fake does not produce.
class RoutingHttpClient final : public outbound::HttpClient {
 public:
  using Route = std::function<outbound::HttpResponse(const outbound::HttpRequest&)>;
  explicit RoutingHttpClient(Route route) : route_(std::move(route)) {}
  absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    urls_.push_back(request.method + " " + request.url);
    return route_(request);
  }
  std::vector<std::string> urls() {
    absl::MutexLock lock(&mu_);
    return urls_;
  }

 private:
  absl::Mutex mu_;
  Route route_;
  std::vector<std::string> urls_ ABSL_GUARDED_BY(mu_);
};

TEST(JiraSyncFallbackTest, RejectedChunkJql_FallsBackToOneGetPerIssue) {
  constexpr char kBase[] = "https://acme.atlassian.net";
  const FakeJiraIssue one = Issue(1, "done");
  RoutingHttpClient http([&](const outbound::HttpRequest& request) {
    outbound::HttpResponse response;
    if (absl::StrContains(request.url, "/search/jql")) {
      // What Jira says when JQL names an issue that no longer exists.
      response.status = 400;
      response.body =
          R"({"errorMessages":["An issue with key 'OKRX-2' does not exist for field 'key'."]})";
    } else if (absl::StrContains(request.url, "/issue/OKRX-1?")) {
      response.status = 200;
      const std::string api = absl::StrCat(kBase, "/rest/api/3");
      response.body =
          nlohmann::json(
              {{"id", one.id},
               {"key", one.key},
               {"fields", okr::testing::FakeIssueFieldsJson(one, api, "customfield_10016")}})
              .dump();
    } else {
      response.status = 404;
      response.body =
          R"({"errorMessages":["Issue does not exist or you do not have permission to see it."]})";
    }
    return response;
  });
  JiraClientOptions options;
  options.site_base_url = kBase;
  options.fields.story_points_field = "customfield_10016";
  absl::StatusOr<std::unique_ptr<JiraClient>> client = JiraClient::Create(http, options);
  ASSERT_TRUE(client.ok()) << client.status();
  JiraTrackerSource source(**client, kBase);

  absl::StatusOr<std::vector<WorkItem>> items =
      source.FetchItems({Tracked("OKRX-1"), Tracked("OKRX-2")});
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_THAT(Keys(*items), ElementsAre("OKRX-1"));
  EXPECT_EQ((*items)[0].external_id, "10001");
  EXPECT_TRUE((*items)[0].done);
  const std::vector<std::string> urls = http.urls();
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_THAT(urls[0], HasSubstr("POST "));
  EXPECT_THAT(urls[1], HasSubstr("GET https://acme.atlassian.net/rest/api/3/issue/OKRX-1?"));
  EXPECT_THAT(urls[2], HasSubstr("GET https://acme.atlassian.net/rest/api/3/issue/OKRX-2?"));
}

// ---- JiraTrackerWriter ----

TEST_F(JiraSyncTest, Write_OneLinkPerServedKeyResult_UpdatedInPlace) {
  fake_->PutIssues({Issue(1)});
  sync::ServedKeyResult other = Served(0.1);
  other.key_result = "objectives/o2/keyResults/nps";
  other.key_result_title = "Raise NPS";

  absl::StatusOr<std::string> ref =
      writer_->Write(Tracked("OKRX-1", "10001"), {Served(0.25), other}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(*ref,
            "okr-service:objectives/o1/keyResults/epics\n"
            "okr-service:objectives/o2/keyResults/nps");
  ref = writer_->Write(Tracked("OKRX-1", "10001"), {Served(1.0, true), other}, *ref);
  ASSERT_TRUE(ref.ok()) << ref.status();

  std::vector<FakeRemoteLink> links = fake_->RemoteLinks("10001");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].global_id, "okr-service:objectives/o1/keyResults/epics");
  EXPECT_EQ(links[1].global_id, "okr-service:objectives/o2/keyResults/nps");
  const nlohmann::json& body = links[0].body;
  EXPECT_EQ(body["relationship"], "serves key result");
  EXPECT_EQ(body["object"]["url"], "https://okr.example/objectives/o1/keyResults/epics");
  EXPECT_EQ(body["object"]["title"], "serves key result: Ship the checkout epics");
  EXPECT_EQ(body["object"]["summary"],
            "Delight customers at checkout (Checkout) \xE2\x80\x94 100%, achieved");
  EXPECT_EQ(body["object"]["status"]["resolved"], true);
  EXPECT_EQ(fake_->RemoteLinkWrites("10001"), 4);
}

TEST_F(JiraSyncTest, Write_KeyResultNoLongerServed_ItsLinkDeletedByGlobalId) {
  fake_->PutIssues({Issue(1)});
  sync::ServedKeyResult other = Served(0.1);
  other.key_result = "objectives/o2/keyResults/nps";
  absl::StatusOr<std::string> ref =
      writer_->Write(Tracked("OKRX-1", "10001"), {Served(0.25), other}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_EQ(fake_->RemoteLinks("10001").size(), 2u);

  absl::StatusOr<std::string> next = writer_->Write(Tracked("OKRX-1", "10001"), {other}, *ref);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "okr-service:objectives/o2/keyResults/nps");
  std::vector<FakeRemoteLink> links = fake_->RemoteLinks("10001");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].global_id, "okr-service:objectives/o2/keyResults/nps");
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkDelete), 1);

  // Nothing served: every link of the service goes; "" is the ref to forget.
  absl::StatusOr<std::string> none = writer_->Write(Tracked("OKRX-1", "10001"), {}, *next);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, "");
  EXPECT_TRUE(fake_->RemoteLinks("10001").empty());

  // Again from the same ref (a retry after the state could not be stored): the 404 of a
  // repeated delete counts as deleted.
  none = writer_->Write(Tracked("OKRX-1", "10001"), {}, *next);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkDelete), 3);
}

TEST_F(JiraSyncTest, DeleteRemoteLink_EncodesTheGlobalIdAndAnswers404WhenGone) {
  fake_->PutIssues({Issue(1)});
  RemoteLink link = ServedRemoteLink(Served(0.5));
  link.global_id = "system=http://www.mycompany.com/support&id=1";
  ASSERT_TRUE(stack_->client->UpsertRemoteLink("10001", link).ok());
  ASSERT_TRUE(stack_->client->DeleteRemoteLink("10001", link.global_id).ok());
  EXPECT_TRUE(fake_->RemoteLinks("10001").empty());
  EXPECT_EQ(stack_->client->DeleteRemoteLink("10001", link.global_id).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(stack_->client->DeleteRemoteLink("10009", link.global_id).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(stack_->client->DeleteRemoteLink("10001", "").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(JiraSyncTest, Write_DeleteFails_ErrorSoTheWorkerRetries) {
  fake_->PutIssues({Issue(1)});
  sync::ServedKeyResult other = Served(0.1);
  other.key_result = "objectives/o2/keyResults/nps";
  absl::StatusOr<std::string> ref =
      writer_->Write(Tracked("OKRX-1", "10001"), {Served(0.25), other}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  fake_->FailNextRequests(5, FakeJiraFailure{500});  // every attempt of the retrying client
  absl::StatusOr<std::string> failed = writer_->Write(Tracked("OKRX-1", "10001"), {other}, *ref);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fake_->RemoteLinks("10001").size(), 2u);
  ASSERT_TRUE(writer_->Write(Tracked("OKRX-1", "10001"), {other}, *ref).ok());
  EXPECT_EQ(fake_->RemoteLinks("10001").size(), 1u);
}

TEST_F(JiraSyncTest, Write_ByKeyWhenNoExternalId) {
  fake_->PutIssues({Issue(1)});
  ASSERT_TRUE(writer_->Write(Tracked("OKRX-1"), {Served(0.5)}, "").ok());
  EXPECT_EQ(fake_->RemoteLinks("10001").size(), 1u);
}

TEST_F(JiraSyncTest, Write_IssueGone_NotFound) {
  absl::StatusOr<std::string> ref = writer_->Write(Tracked("OKRX-7", "10007"), {Served(0.5)}, "");
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace okr::connectors::jira
