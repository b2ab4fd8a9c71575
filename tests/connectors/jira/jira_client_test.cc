#include "connectors/jira/jira_client.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/outbound/auth.h"
#include "service/outbound/curl_http_client.h"
#include "service/outbound/retrying_http_client.h"
#include "tests/outbound/scripted_http_client.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace okr::connectors::jira {
namespace {

using ::okr::outbound::testing::Response;
using ::okr::outbound::testing::ScriptedHttpClient;
using ::okr::testing::FakeJiraEndpoint;
using ::okr::testing::FakeJiraFailure;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::FakeRemoteLink;
using ::okr::testing::MakeFakeIssues;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Time stands still except when the retry loop sleeps; records every wait.
class FakeSleeper final : public outbound::Sleeper {
 public:
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void SleepFor(absl::Duration duration) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(duration);
    now_ += duration;
  }
  std::vector<absl::Duration> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1749038587);
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

std::vector<std::string> IdsOf(const std::vector<FakeJiraIssue>& issues) {
  std::vector<std::string> ids;
  for (const FakeJiraIssue& issue : issues) ids.push_back(issue.id);
  return ids;
}

// The production stack against the fake: curl -> retry (fake sleeper) -> basic auth -> client.
class JiraClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeJiraServer>> fake = FakeJiraServer::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    absl::StatusOr<std::unique_ptr<outbound::CurlHttpClient>> curl =
        outbound::CurlHttpClient::Create({});
    ASSERT_TRUE(curl.ok()) << curl.status();
    curl_ = *std::move(curl);
    outbound::RetryPolicy policy;
    policy.max_attempts = 5;
    retrying_ = std::make_unique<outbound::RetryingHttpClient>(*curl_, policy, sleeper_);
    authenticated_ = std::make_unique<outbound::AuthenticatingHttpClient>(
        *retrying_, outbound::BasicAuth(fake_->options().email, fake_->options().api_token));
    client_ = MakeClient(JiraDeployment::kCloud);
  }

  std::unique_ptr<JiraClient> MakeClient(JiraDeployment deployment, int page_size = 100) {
    JiraClientOptions options;
    options.site_base_url = fake_->base_url();
    options.deployment = deployment;
    options.fields.story_points_field = "customfield_10016";
    options.page_size = page_size;
    absl::StatusOr<std::unique_ptr<JiraClient>> client =
        JiraClient::Create(*authenticated_, std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  RemoteLink Link(const std::string& title) {
    RemoteLink link;
    link.global_id = "okr-service:kr=KR-17";
    link.application_type = "com.acme.okr";
    link.application_name = "ACME OKR";
    link.url = "https://okr.example/kr/KR-17";
    link.title = title;
    link.summary = "Progress 60% (3 of 5 linked issues done)";
    link.status_icon = RemoteLinkIcon{"https://okr.example/on-track16.png", "On track",
                                      "https://okr.example/kr/KR-17"};
    return link;
  }

  FakeSleeper sleeper_;
  std::unique_ptr<FakeJiraServer> fake_;
  std::unique_ptr<outbound::CurlHttpClient> curl_;
  std::unique_ptr<outbound::RetryingHttpClient> retrying_;
  std::unique_ptr<outbound::AuthenticatingHttpClient> authenticated_;
  std::unique_ptr<JiraClient> client_;
};

TEST_F(JiraClientTest, TenThousandIssuesByIds_AtMostHundredSearches_EachReturnedOnce) {
  const std::vector<FakeJiraIssue> issues = MakeFakeIssues(10000);
  fake_->PutIssues(issues);

  absl::StatusOr<std::vector<JiraIssue>> found = client_->SearchIssuesByIds(IdsOf(issues));
  ASSERT_TRUE(found.ok()) << found.status();

  EXPECT_LE(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 100);
  ASSERT_THAT(*found, SizeIs(10000));
  absl::flat_hash_map<std::string, int> seen;
  for (const JiraIssue& issue : *found) ++seen[issue.id];
  EXPECT_EQ(seen.size(), 10000u);
  for (const FakeJiraIssue& issue : issues) {
    ASSERT_EQ(seen[issue.id], 1) << issue.id;
  }
  // Spot-check the mapping: MakeFakeIssues cycles new/indeterminate/done and 1,2,3,5,8,-.
  const JiraIssue& third = (*found)[2];
  EXPECT_EQ(third.key, "OKRX-3");
  EXPECT_TRUE(third.done);
  EXPECT_EQ(third.story_points, 3.0);
  EXPECT_EQ(third.updated, issues[2].updated);
  EXPECT_FALSE((*found)[0].done);
  EXPECT_EQ((*found)[4].story_points, std::nullopt);
  EXPECT_EQ(fake_->UnauthorizedCount(), 0);
}

TEST_F(JiraClientTest, SearchIssuesByIds_DeletedIssuesAreAbsent_DuplicatesIgnored) {
  fake_->PutIssues(MakeFakeIssues(5));
  ASSERT_TRUE(fake_->DeleteIssue("OKRX-2"));
  absl::StatusOr<std::vector<JiraIssue>> found =
      client_->SearchIssuesByIds({"10001", "10002", "10003", "10001", "99999"});
  ASSERT_TRUE(found.ok()) << found.status();
  std::vector<std::string> keys;
  for (const JiraIssue& issue : *found) keys.push_back(issue.key);
  EXPECT_THAT(keys, ElementsAre("OKRX-1", "OKRX-3"));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 1);
}

TEST_F(JiraClientTest, SearchIssuesByIds_NonNumericId_FailsBeforeAnyRequest) {
  absl::StatusOr<std::vector<JiraIssue>> found =
      client_->SearchIssuesByIds({"10001", "10002) OR project = SECRET"});
  EXPECT_EQ(found.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(found.status().message(), HasSubstr("not a numeric issue id"));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 0);
}

TEST_F(JiraClientTest, SearchIssuesByIds_Empty_SendsNothing) {
  absl::StatusOr<std::vector<JiraIssue>> found = client_->SearchIssuesByIds({});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->empty());
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 0);
}

TEST_F(JiraClientTest, SearchByJql_FollowsNextPageTokenUntilIsLast) {
  fake_->PutIssues(MakeFakeIssues(250));
  fake_->PutIssues(MakeFakeIssues(7, 20001, "OTHER"));
  std::vector<size_t> page_sizes;
  absl::Status status = client_->SearchByJql("project = OKRX AND labels = okr ORDER BY key DESC",
                                             [&](std::vector<JiraIssue> page) {
                                               page_sizes.push_back(page.size());
                                               return absl::OkStatus();
                                             });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(page_sizes, ElementsAre(100, 100, 50));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 3);
}

TEST_F(JiraClientTest, SearchByJql_CallbackError_StopsAndIsReturned) {
  fake_->PutIssues(MakeFakeIssues(250));
  absl::Status status = client_->SearchByJql(
      "project = OKRX", [](std::vector<JiraIssue>) { return absl::CancelledError("enough"); });
  EXPECT_EQ(status, absl::CancelledError("enough"));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 1);
}

TEST_F(JiraClientTest, SearchByJql_BadJql_IsInvalidArgumentFromJira) {
  fake_->PutIssues(MakeFakeIssues(1));
  absl::Status status = client_->SearchByJql(
      "ORDER BY key DESC", [](std::vector<JiraIssue>) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("Unbounded JQL"));
}

TEST_F(JiraClientTest, RateLimitStorm_ConvergesThroughRetries_WithoutRealWaiting) {
  const std::vector<FakeJiraIssue> issues = MakeFakeIssues(150);
  fake_->PutIssues(issues);
  fake_->FailNextRequests(3, FakeJiraFailure{429, "1", std::nullopt});

  absl::StatusOr<std::vector<JiraIssue>> found = client_->SearchIssuesByIds(IdsOf(issues));

  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(150));
  EXPECT_EQ(fake_->InjectedFailureCount(), 3);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 2 + 3);
  EXPECT_THAT(sleeper_.waits(), SizeIs(3));
  // Retry-After honoured, on the fake sleeper's clock: the test never really waits.
  EXPECT_THAT(sleeper_.waits(), Each(Ge(absl::Seconds(1))));
}

TEST_F(JiraClientTest, RateLimitResetHeader_IsHonoured) {
  fake_->PutIssues(MakeFakeIssues(1));
  // X-RateLimit-Reset 30 s after the fake sleeper's "now".
  fake_->FailNextRequests(
      1, FakeJiraFailure{429, std::nullopt,
                         absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", sleeper_.Now() + absl::Seconds(30),
                                          absl::UTCTimeZone())});
  absl::StatusOr<JiraIssue> issue = client_->GetIssue("OKRX-1");
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_THAT(sleeper_.waits(), ElementsAre(Ge(absl::Seconds(30))));
}

TEST_F(JiraClientTest, ServerErrorsOnSearch_AreRetriedBecauseSearchIsIdempotent) {
  fake_->PutIssues(MakeFakeIssues(3));
  fake_->FailNextRequests(2, FakeJiraFailure{500, std::nullopt, std::nullopt});
  absl::StatusOr<std::vector<JiraIssue>> found =
      client_->SearchIssuesByIds({"10001", "10002", "10003"});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(3));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 3);
}

TEST_F(JiraClientTest, EndlessRateLimit_GivesUpWithResourceExhausted) {
  fake_->PutIssues(MakeFakeIssues(1));
  fake_->FailNextRequests(100);
  absl::StatusOr<std::vector<JiraIssue>> found = client_->SearchIssuesByIds({"10001"});
  EXPECT_EQ(found.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(found.status().message(), HasSubstr("Jira search: HTTP 429"));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 5);  // max_attempts
}

TEST_F(JiraClientTest, SlowJira_TimesOutWithDeadlineExceeded) {
  fake_->PutIssues(MakeFakeIssues(1));
  fake_->SetResponseDelay(absl::Milliseconds(800));
  JiraClientOptions options;
  options.site_base_url = fake_->base_url();
  options.request_timeout = absl::Milliseconds(100);
  outbound::AuthenticatingHttpClient no_retry(
      *curl_, outbound::BasicAuth(fake_->options().email, fake_->options().api_token));
  absl::StatusOr<std::unique_ptr<JiraClient>> client = JiraClient::Create(no_retry, options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<JiraIssue> issue = (*client)->GetIssue("10001");
  EXPECT_EQ(issue.status().code(), absl::StatusCode::kDeadlineExceeded) << issue.status();
  EXPECT_THAT(issue.status().message(), HasSubstr("Jira get issue"));
}

TEST_F(JiraClientTest, GetIssue_ByIdAndKey) {
  fake_->PutIssues(MakeFakeIssues(3));
  for (const char* id_or_key : {"10003", "OKRX-3", "okrx-3"}) {
    absl::StatusOr<JiraIssue> issue = client_->GetIssue(id_or_key);
    ASSERT_TRUE(issue.ok()) << id_or_key << ": " << issue.status();
    EXPECT_EQ(issue->id, "10003");
    EXPECT_EQ(issue->key, "OKRX-3");
    EXPECT_EQ(issue->summary, "Work item 3");
    EXPECT_TRUE(issue->done);
    EXPECT_EQ(issue->story_points, 3.0);
  }
}

TEST_F(JiraClientTest, GetIssue_Deleted_IsNotFound) {
  fake_->PutIssues(MakeFakeIssues(2));
  ASSERT_TRUE(fake_->DeleteIssue("10002"));
  absl::StatusOr<JiraIssue> issue = client_->GetIssue("10002");
  EXPECT_EQ(issue.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(issue.status().message(), HasSubstr("Issue does not exist"));
}

TEST_F(JiraClientTest, GetIssue_MalformedIdOrKey_FailsBeforeAnyRequest) {
  for (const char* bad : {"", "../10001", "OKRX-1/remotelink", "OKRX", "-1", "1 OR 1"}) {
    EXPECT_EQ(client_->GetIssue(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);
}

TEST_F(JiraClientTest, RemoteLink_CreatedOnceThenUpdated_NotDuplicated) {
  fake_->PutIssues(MakeFakeIssues(1));

  absl::StatusOr<RemoteLinkResult> first =
      client_->UpsertRemoteLink("10001", Link("KR-17 Checkout p95 < 800 ms"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);

  RemoteLink updated = Link("KR-17 Checkout p95 < 700 ms");
  updated.resolved = true;
  absl::StatusOr<RemoteLinkResult> second = client_->UpsertRemoteLink("OKRX-1", updated);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->id, first->id);

  std::vector<FakeRemoteLink> links = fake_->RemoteLinks("10001");
  ASSERT_THAT(links, SizeIs(1));
  EXPECT_EQ(links[0].global_id, "okr-service:kr=KR-17");
  EXPECT_EQ(links[0].body["object"]["title"], "KR-17 Checkout p95 < 700 ms");
  EXPECT_EQ(links[0].body["object"]["status"]["resolved"], true);
  EXPECT_EQ(links[0].body["relationship"], "serves key result");
  EXPECT_EQ(links[0].body["application"]["name"], "ACME OKR");
  EXPECT_EQ(fake_->RemoteLinkWrites("10001"), 2);

  absl::StatusOr<RemoteLink> read = client_->GetRemoteLink("10001", "okr-service:kr=KR-17");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->title, "KR-17 Checkout p95 < 700 ms");
  EXPECT_EQ(read->url, "https://okr.example/kr/KR-17");
  EXPECT_TRUE(read->resolved);
  ASSERT_TRUE(read->status_icon.has_value());
  EXPECT_EQ(read->status_icon->title, "On track");
}

TEST_F(JiraClientTest, RemoteLink_ServerErrorIsRetried_StillOneLink) {
  fake_->PutIssues(MakeFakeIssues(1));
  fake_->FailNextRequests(1, FakeJiraFailure{503, std::nullopt, std::nullopt});
  absl::StatusOr<RemoteLinkResult> result = client_->UpsertRemoteLink("10001", Link("KR-17"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(fake_->RemoteLinks("10001"), SizeIs(1));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkWrite), 2);
}

TEST_F(JiraClientTest, RemoteLink_MissingIssue_IsNotFound) {
  absl::StatusOr<RemoteLinkResult> result = client_->UpsertRemoteLink("10001", Link("KR-17"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetRemoteLink("10001", "okr-service:kr=KR-17").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(JiraClientTest, RemoteLink_Incomplete_FailsBeforeAnyRequest) {
  fake_->PutIssues(MakeFakeIssues(1));
  RemoteLink no_title = Link("");
  EXPECT_EQ(client_->UpsertRemoteLink("10001", no_title).status().code(),
            absl::StatusCode::kInvalidArgument);
  RemoteLink no_global_id = Link("t");
  no_global_id.global_id.clear();
  EXPECT_EQ(client_->UpsertRemoteLink("10001", no_global_id).status().code(),
            absl::StatusCode::kInvalidArgument);
  RemoteLink long_global_id = Link("t");
  long_global_id.global_id = std::string(256, 'g');
  EXPECT_EQ(client_->UpsertRemoteLink("10001", long_global_id).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkWrite), 0);
}

TEST_F(JiraClientTest, BasicAuthHeader_IsSent) {
  fake_->PutIssues(MakeFakeIssues(1));
  ASSERT_TRUE(client_->GetIssue("10001").ok());
  EXPECT_EQ(fake_->LastAuthorization(),
            absl::StrCat("Basic ", absl::Base64Escape("okr-bot@example.com:test-api-token")));
  EXPECT_EQ(fake_->UnauthorizedCount(), 0);
}

TEST_F(JiraClientTest, WrongCredentials_AreUnauthenticated) {
  fake_->PutIssues(MakeFakeIssues(1));
  outbound::AuthenticatingHttpClient wrong(*retrying_,
                                           outbound::BasicAuth("okr-bot@example.com", "x"));
  JiraClientOptions options;
  options.site_base_url = fake_->base_url();
  absl::StatusOr<std::unique_ptr<JiraClient>> client = JiraClient::Create(wrong, options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->GetIssue("10001").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(fake_->UnauthorizedCount(), 1);
}

TEST_F(JiraClientTest, DataCenter_PagesWithStartAtAndTotal) {
  const std::vector<FakeJiraIssue> issues = MakeFakeIssues(100);
  fake_->PutIssues(issues);
  std::unique_ptr<JiraClient> dc = MakeClient(JiraDeployment::kDataCenter, /*page_size=*/40);
  ASSERT_NE(dc, nullptr);
  std::vector<size_t> page_sizes;
  absl::Status status = dc->SearchByJql("project = OKRX", [&](std::vector<JiraIssue> page) {
    page_sizes.push_back(page.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(page_sizes, ElementsAre(40, 40, 20));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchV2), 3);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 0);

  absl::StatusOr<JiraIssue> issue = dc->GetIssue("OKRX-7");
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->id, "10007");
}

TEST(JiraClientCreateTest, RejectsBadOptions) {
  ScriptedHttpClient http({Response(200)});
  for (const char* url : {"", "acme.atlassian.net", "ftp://acme", "https://", "https:///x",
                          "https://acme.atlassian.net?x=1", "https://u:p@acme.atlassian.net"}) {
    JiraClientOptions options;
    options.site_base_url = url;
    EXPECT_EQ(JiraClient::Create(http, options).status().code(), absl::StatusCode::kInvalidArgument)
        << url;
  }
  JiraClientOptions options;
  options.site_base_url = "https://acme.atlassian.net/";
  options.page_size = 0;
  EXPECT_EQ(JiraClient::Create(http, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.page_size = 100;
  absl::StatusOr<std::unique_ptr<JiraClient>> client = JiraClient::Create(http, options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->options().site_base_url, "https://acme.atlassian.net");
}

// ---- wire details, with a scripted HttpClient ------------------------------------------------

std::string SearchPage(const std::string& ids_json, const std::string& tail) {
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& id : nlohmann::json::parse(ids_json)) {
    issues.push_back({{"id", id},
                      {"key", absl::StrCat("OKRX-", id.get<std::string>())},
                      {"fields",
                       {{"summary", "s"},
                        {"status", {{"statusCategory", {{"key", "new"}}}}},
                        {"updated", "2025-06-04T12:03:07.381+0200"}}}});
  }
  nlohmann::json page = nlohmann::json::parse(tail);
  page["issues"] = issues;
  return page.dump();
}

std::unique_ptr<JiraClient> ScriptedClient(outbound::HttpClient& http) {
  JiraClientOptions options;
  options.site_base_url = "https://acme.atlassian.net";
  options.fields.story_points_field = "customfield_10016";
  return *JiraClient::Create(http, options);
}

TEST(JiraClientWireTest, SearchRequest_HasDocumentedBodyAndIsIdempotent) {
  ScriptedHttpClient http(
      {Response(200, {}, SearchPage(R"(["1"])", R"({"nextPageToken":"CAEaAggD","isLast":false})")),
       Response(200, {}, SearchPage(R"(["2"])", R"({"isLast":true})"))});
  std::unique_ptr<JiraClient> client = ScriptedClient(http);
  absl::StatusOr<std::vector<JiraIssue>> found = client->SearchIssuesByIds({"1", "2"});
  ASSERT_TRUE(found.ok()) << found.status();

  std::vector<outbound::HttpRequest> requests = http.requests();
  ASSERT_THAT(requests, SizeIs(2));
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "https://acme.atlassian.net/rest/api/3/search/jql");
  EXPECT_TRUE(requests[0].IsIdempotent());
  EXPECT_EQ(nlohmann::json::parse(requests[0].body),
            nlohmann::json::parse(R"json({"jql":"id in (1,2)","maxResults":100,
              "fields":["summary","status","resolution","updated","customfield_10016"]})json"));
  EXPECT_EQ(nlohmann::json::parse(requests[1].body)["nextPageToken"], "CAEaAggD");
  EXPECT_THAT(requests[0].headers, ::testing::Contains(std::pair<std::string, std::string>(
                                       "Content-Type", "application/json")));
}

TEST(JiraClientWireTest, MissingIsLast_StopsWhenNoToken) {
  ScriptedHttpClient http({Response(200, {}, SearchPage(R"(["1"])", "{}"))});
  std::unique_ptr<JiraClient> client = ScriptedClient(http);
  ASSERT_TRUE(client->SearchIssuesByIds({"1"}).ok());
  EXPECT_THAT(http.requests(), SizeIs(1));
}

TEST(JiraClientWireTest, RepeatedPageToken_IsInternalNotAnEndlessLoop) {
  ScriptedHttpClient http(
      {Response(200, {}, SearchPage(R"(["1"])", R"({"nextPageToken":"same","isLast":false})"))});
  std::unique_ptr<JiraClient> client = ScriptedClient(http);
  absl::StatusOr<std::vector<JiraIssue>> found = client->SearchIssuesByIds({"1"});
  EXPECT_EQ(found.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(found.status().message(), HasSubstr("nextPageToken did not change"));
  EXPECT_THAT(http.requests(), SizeIs(2));
}

TEST(JiraClientWireTest, MalformedResponses_AreInternal) {
  for (const char* body : {"not json", "[]", R"({"isLast":true})",
                           R"({"issues":[{"id":"1","key":"A-1"}],"isLast":true})"}) {
    ScriptedHttpClient http({Response(200, {}, body)});
    std::unique_ptr<JiraClient> client = ScriptedClient(http);
    EXPECT_EQ(client->SearchIssuesByIds({"1"}).status().code(), absl::StatusCode::kInternal)
        << body;
  }
}

TEST(JiraClientWireTest, RemoteLinkRequest_MatchesRemoteIssueLinkRequest) {
  ScriptedHttpClient http({Response(201, {}, R"({"id":10000,"self":"https://x/1"})")});
  std::unique_ptr<JiraClient> client = ScriptedClient(http);
  RemoteLink link;
  link.global_id = "okr-service:kr=KR-17";
  link.url = "https://okr.example/kr/KR-17";
  link.title = "KR-17";
  link.icon = RemoteLinkIcon{"https://okr.example/icon16.png", "Key result", ""};
  absl::StatusOr<RemoteLinkResult> result = client->UpsertRemoteLink("OKRX-1", link);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->id, 10000);
  EXPECT_TRUE(result->created);
  ASSERT_THAT(http.requests(), SizeIs(1));
  const outbound::HttpRequest request = http.requests()[0];
  EXPECT_EQ(request.url, "https://acme.atlassian.net/rest/api/3/issue/OKRX-1/remotelink");
  EXPECT_TRUE(request.IsIdempotent());
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json::parse(R"({
    "globalId": "okr-service:kr=KR-17",
    "relationship": "serves key result",
    "object": {"url": "https://okr.example/kr/KR-17", "title": "KR-17", "summary": "",
               "icon": {"url16x16": "https://okr.example/icon16.png", "title": "Key result"},
               "status": {"resolved": false}}})"));
}

TEST(JiraClientWireTest, GetRemoteLink_EscapesGlobalId) {
  ScriptedHttpClient http({Response(404, {}, R"({"errorMessages":["nope"],"errors":{}})")});
  std::unique_ptr<JiraClient> client = ScriptedClient(http);
  EXPECT_EQ(client->GetRemoteLink("10001", "okr-service:kr=KR 17&x/y").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(http.requests()[0].url,
            "https://acme.atlassian.net/rest/api/3/issue/10001/remotelink?globalId="
            "okr-service%3Akr%3DKR%2017%26x%2Fy");
}

TEST(JiraClientWireTest, IdsJql_ChunkFormat) {
  EXPECT_EQ(*IdsJql({"1", "22", "333"}), "id in (1,22,333)");
  EXPECT_EQ(IdsJql({"1", "x"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IdsJql({}).status().code(), absl::StatusCode::kInvalidArgument);
}

NewJiraIssue CheckoutIssue() {
  NewJiraIssue issue;
  issue.project_key = "OKRX";
  issue.summary = "Key result at risk: Checkout NPS >= 45";
  issue.description = "Checkout NPS is at 20% (expected 50%).\nSee https://okr.example/kr/7";
  issue.link_url = "https://okr.example/kr/7";
  issue.labels = {"okr-rule-3f9c2a"};
  return issue;
}

TEST_F(JiraClientTest, CreateIssue_StoresFieldsAndReturnsIdAndKey) {
  fake_->PutIssues(MakeFakeIssues(2));
  absl::StatusOr<CreatedJiraIssue> created = client_->CreateIssue(CheckoutIssue());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->id, "10003");
  EXPECT_EQ(created->key, "OKRX-3");
  std::optional<FakeJiraIssue> stored = fake_->GetIssue("OKRX-3");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->summary, "Key result at risk: Checkout NPS >= 45");
  EXPECT_EQ(stored->issue_type, "Task");
  EXPECT_THAT(stored->labels, ElementsAre("okr-rule-3f9c2a"));
  EXPECT_EQ(stored->description["type"], "doc");
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  // The new issue is searchable by its label.
  std::vector<std::string> keys;
  ASSERT_TRUE(client_
                  ->SearchByJql("project = OKRX AND labels = \"okr-rule-3f9c2a\"",
                                [&](std::vector<JiraIssue> page) {
                                  for (const JiraIssue& issue : page) keys.push_back(issue.key);
                                  return absl::OkStatus();
                                })
                  .ok());
  EXPECT_THAT(keys, ElementsAre("OKRX-3"));
}

TEST_F(JiraClientTest, CreateIssue_ServerError_IsNotReplayed) {
  fake_->PutIssues(MakeFakeIssues(1));
  fake_->FailNextCreates(1, FakeJiraFailure{500, std::nullopt, std::nullopt},
                         /*after_create=*/true);
  absl::StatusOr<CreatedJiraIssue> created = client_->CreateIssue(CheckoutIssue());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 1);
  EXPECT_EQ(fake_->IssuesCreated(), 1);  // Created; only the answer was lost.
}

TEST_F(JiraClientTest, CreateIssue_RateLimited_IsRetriedOnce) {
  fake_->PutIssues(MakeFakeIssues(1));
  fake_->FailNextCreates(1, FakeJiraFailure{429, "2", std::nullopt});
  absl::StatusOr<CreatedJiraIssue> created = client_->CreateIssue(CheckoutIssue());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 2);
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  EXPECT_THAT(sleeper_.waits(), ElementsAre(Ge(absl::Seconds(2))));
}

TEST_F(JiraClientTest, CreateIssue_JiraValidationErrors_AreInvalidArgumentNamingTheField) {
  fake_->PutIssues(MakeFakeIssues(1));
  NewJiraIssue unknown_project = CheckoutIssue();
  unknown_project.project_key = "NOPE";
  absl::StatusOr<CreatedJiraIssue> created = client_->CreateIssue(unknown_project);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("Specify a valid project ID or key"));

  NewJiraIssue unknown_type = CheckoutIssue();
  unknown_type.issue_type = "Incident";
  created = client_->CreateIssue(unknown_type);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("issuetype"));
  EXPECT_EQ(fake_->IssuesCreated(), 0);
}

TEST_F(JiraClientTest, CreateIssue_InvalidInput_FailsBeforeAnyRequest) {
  std::vector<NewJiraIssue> bad(6, CheckoutIssue());
  bad[0].project_key = "";
  bad[1].project_key = "OKRX\" OR x";
  bad[2].summary = "";
  bad[3].summary = "two\nlines";
  bad[4].summary = std::string(256, 's');
  bad[5].labels = {"has space"};
  for (const NewJiraIssue& issue : bad) {
    EXPECT_EQ(client_->CreateIssue(issue).status().code(), absl::StatusCode::kInvalidArgument)
        << issue.project_key << " / " << issue.summary;
  }
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 0);
}

TEST_F(JiraClientTest, GetProject_KnownAndUnknown) {
  fake_->PutIssues(MakeFakeIssues(1));
  absl::StatusOr<JiraProject> project = client_->GetProject("OKRX");
  ASSERT_TRUE(project.ok()) << project.status();
  EXPECT_EQ(project->key, "OKRX");
  EXPECT_FALSE(project->id.empty());
  EXPECT_EQ(client_->GetProject("NOPE").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetProject("../x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetProject), 2);
}

TEST_F(JiraClientTest, DataCenter_CreateIssue_SendsPlainTextDescription) {
  fake_->PutIssues(MakeFakeIssues(1));
  std::unique_ptr<JiraClient> dc = MakeClient(JiraDeployment::kDataCenter);
  NewJiraIssue issue = CheckoutIssue();
  issue.description = "Checkout NPS is at 20%.";
  absl::StatusOr<CreatedJiraIssue> created = dc->CreateIssue(issue);
  ASSERT_TRUE(created.ok()) << created.status();
  std::optional<FakeJiraIssue> stored = fake_->GetIssue(created->key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->description, "Checkout NPS is at 20%.\n\nhttps://okr.example/kr/7");
}

TEST(JiraClientWireTest, CreateIssueRequest_IsIssueUpdateDetails_NotIdempotent) {
  ScriptedHttpClient http(
      {Response(201, {}, R"({"id":"10042","key":"OKRX-42","self":"https://x/10042"})")});
  std::unique_ptr<JiraClient> client = ScriptedClient(http);
  NewJiraIssue issue = CheckoutIssue();
  issue.issue_type = "Bug";
  absl::StatusOr<CreatedJiraIssue> created = client->CreateIssue(issue);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->id, "10042");
  EXPECT_EQ(created->key, "OKRX-42");
  ASSERT_THAT(http.requests(), SizeIs(1));
  const outbound::HttpRequest request = http.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://acme.atlassian.net/rest/api/3/issue");
  EXPECT_FALSE(request.IsIdempotent());
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json::parse(R"({"fields": {
    "project": {"key": "OKRX"},
    "summary": "Key result at risk: Checkout NPS >= 45",
    "issuetype": {"name": "Bug"},
    "labels": ["okr-rule-3f9c2a"],
    "description": {"type": "doc", "version": 1, "content": [
      {"type": "paragraph", "content": [
        {"type": "text", "text": "Checkout NPS is at 20% (expected 50%)."},
        {"type": "hardBreak"},
        {"type": "text", "text": "See "},
        {"type": "text", "text": "https://okr.example/kr/7",
         "marks": [{"type": "link", "attrs": {"href": "https://okr.example/kr/7"}}]}]}]}}})"));
}

TEST(JiraClientWireTest, CreateIssue_MalformedResponse_IsInternal) {
  for (const char* body : {"{}", R"({"id":"x","key":"OKRX-1"})", R"({"id":"1","key":"bad"})"}) {
    ScriptedHttpClient http({Response(201, {}, body)});
    std::unique_ptr<JiraClient> client = ScriptedClient(http);
    EXPECT_EQ(client->CreateIssue(CheckoutIssue()).status().code(), absl::StatusCode::kInternal)
        << body;
  }
}

TEST(JiraClientWireTest, DescriptionToAdf_ParagraphsBreaksAndLinks) {
  const nlohmann::json two_paragraphs = DescriptionToAdf("a\n\n\nb\r\nc", "");
  EXPECT_EQ(two_paragraphs, nlohmann::json::parse(R"({"type":"doc","version":1,"content":[
    {"type":"paragraph","content":[{"type":"text","text":"a"}]},
    {"type":"paragraph","content":[{"type":"text","text":"b"},{"type":"hardBreak"},
                                   {"type":"text","text":"c"}]}]})"));
  // A url the text does not mention gets a paragraph of its own.
  const nlohmann::json appended = DescriptionToAdf("", "https://u/1");
  EXPECT_EQ(appended, nlohmann::json::parse(R"({"type":"doc","version":1,"content":[
    {"type":"paragraph","content":[{"type":"text","text":"https://u/1",
      "marks":[{"type":"link","attrs":{"href":"https://u/1"}}]}]}]})"));
  // Two mentions, both linked, nothing else around them.
  const nlohmann::json twice = DescriptionToAdf("https://u/1https://u/1", "https://u/1");
  ASSERT_EQ(twice["content"].size(), 1u);
  EXPECT_EQ(twice["content"][0]["content"].size(), 2u);
  EXPECT_EQ(DescriptionToAdf("", "")["content"], nlohmann::json::array());
}

TEST(JiraClientWireTest, JqlQuote_EscapesQuotesAndBackslashes) {
  EXPECT_EQ(JqlQuote("okr-rule-1"), "\"okr-rule-1\"");
  EXPECT_EQ(JqlQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

}  // namespace
}  // namespace okr::connectors::jira
