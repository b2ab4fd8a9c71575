// Tests of the fake itself: it must hold the connector to Jira's real rules (paging caps,
// strict request bodies, auth), or the connector tests prove nothing.
#include "tests/testing/fake_jira/fake_jira_server.h"

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class FakeJiraServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeJiraServer>> fake = FakeJiraServer::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->PutIssues(MakeFakeIssues(300));
    client_ = std::make_unique<httplib::Client>(fake_->base_url());
    auth_ = {{"Authorization",
              absl::StrCat("Basic ", absl::Base64Escape("okr-bot@example.com:test-api-token"))}};
  }

  // POST /rest/api/3/search/jql; returns (status, parsed body).
  std::pair<int, nlohmann::json> Search(const nlohmann::json& body) {
    httplib::Result result =
        client_->Post("/rest/api/3/search/jql", auth_, body.dump(), "application/json");
    if (!result) return {0, nullptr};
    return {result->status, nlohmann::json::parse(result->body, nullptr, false)};
  }

  std::unique_ptr<FakeJiraServer> fake_;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers auth_;
};

TEST_F(FakeJiraServerTest, MaxResults_CappedAt100_Or5000ForIdsOnly) {
  auto [status, page] =
      Search({{"jql", "project = OKRX"}, {"maxResults", 1000}, {"fields", {"summary"}}});
  ASSERT_EQ(status, 200);
  EXPECT_THAT(page["issues"], SizeIs(100));
  EXPECT_EQ(page["isLast"], false);
  EXPECT_TRUE(page["nextPageToken"].is_string());

  std::tie(status, page) =
      Search({{"jql", "project = OKRX"}, {"maxResults", 1000}, {"fields", {"id"}}});
  ASSERT_EQ(status, 200);
  EXPECT_THAT(page["issues"], SizeIs(300));
  EXPECT_EQ(page["isLast"], true);
  EXPECT_FALSE(page.contains("nextPageToken"));
  EXPECT_FALSE(page["issues"][0].contains("fields"));  // Default/ids-only: no fields.
}

TEST_F(FakeJiraServerTest, SearchBody_WithUnknownKey_Is400) {
  auto [status, body] = Search({{"jql", "project = OKRX"}, {"startAt", 0}});
  EXPECT_EQ(status, 400);
  EXPECT_THAT(body["errorMessages"][0].get<std::string>(), HasSubstr("startAt"));
}

TEST_F(FakeJiraServerTest, ForeignOrStalePageToken_Is400) {
  auto [status, page] = Search({{"jql", "project = OKRX"}, {"fields", {"summary"}}});
  ASSERT_EQ(status, 200);
  const std::string token = page["nextPageToken"];
  std::tie(status, page) = Search({{"jql", "project = OTHER"}, {"nextPageToken", token}});
  EXPECT_EQ(status, 400);
  std::tie(status, page) = Search({{"jql", "project = OKRX"}, {"nextPageToken", "garbage"}});
  EXPECT_EQ(status, 400);
}

TEST_F(FakeJiraServerTest, JqlSubset) {
  struct Case {
    std::string jql;
    int status;
    size_t count;
  };
  for (const Case& c : std::vector<Case>{
           {"id in (10001, 10002,10003)", 200, 3},
           {"key in (OKRX-1, \"OKRX-2\")", 200, 2},
           {"issuekey = OKRX-7", 200, 1},
           {"project = OKRX AND labels = okr", 200, 50},
           {"project = okrx and labels = missing", 200, 0},
           {"id = 10001 ORDER BY key DESC", 200, 1},
           {"", 400, 0},
           {"ORDER BY key", 400, 0},
           {"project = OKRX OR id = 1", 400, 0},
           {"summary ~ checkout", 400, 0},
           {"id in (1, 2", 400, 0},
       }) {
    auto [status, page] = Search({{"jql", c.jql}, {"maxResults", 50}});
    EXPECT_EQ(status, c.status) << c.jql;
    if (status == 200) {
      EXPECT_THAT(page["issues"], SizeIs(c.count)) << c.jql;
    }
  }
}

TEST_F(FakeJiraServerTest, WithoutAuth_Is401) {
  httplib::Result result = client_->Get("/rest/api/3/issue/10001");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(fake_->UnauthorizedCount(), 1);
}

TEST_F(FakeJiraServerTest, MissingIssue_Is404WithJiraErrorBody) {
  httplib::Result result = client_->Get("/rest/api/3/issue/OKRX-999", auth_);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(nlohmann::json::parse(result->body),
            nlohmann::json::parse(R"({"errorMessages":["Issue does not exist or you do not have )"
                                  R"(permission to see it."],"errors":{}})"));
}

TEST_F(FakeJiraServerTest, RemoteLinkWithoutTitle_Is400NamingIt) {
  httplib::Result result =
      client_->Post("/rest/api/3/issue/10001/remotelink", auth_,
                    R"({"globalId":"g","object":{"url":"https://x"}})", "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(nlohmann::json::parse(result->body)["errors"]["title"], "'title' is required.");
}

TEST_F(FakeJiraServerTest, InjectedFailures_CarryRetryAfter_ThenServe) {
  fake_->FailNextRequests(1);
  httplib::Result result = client_->Get("/rest/api/3/issue/10001", auth_);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 429);
  EXPECT_EQ(result->get_header_value("Retry-After"), "1");
  result = client_->Get("/rest/api/3/issue/10001", auth_);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 2);
}

TEST_F(FakeJiraServerTest, CreateIssue_201WithIdKeySelf_SearchableByLabel) {
  const nlohmann::json body = nlohmann::json::parse(R"({"fields": {
    "project": {"key": "OKRX"}, "summary": "Key result at risk", "issuetype": {"name": "Task"},
    "labels": ["okr-rule-1"],
    "description": {"type": "doc", "version": 1, "content": []}}})");
  httplib::Result created =
      client_->Post("/rest/api/3/issue", auth_, body.dump(), "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  const nlohmann::json json = nlohmann::json::parse(created->body);
  EXPECT_EQ(json, nlohmann::json({{"id", "10301"},
                                  {"key", "OKRX-301"},
                                  {"self", fake_->base_url() + "/rest/api/3/issue/10301"}}));
  auto [status, page] = Search({{"jql", R"(project = OKRX AND labels = "okr-rule-1")"}});
  EXPECT_EQ(status, 200);
  ASSERT_THAT(page["issues"], SizeIs(1));
  EXPECT_EQ(page["issues"][0]["id"], "10301");
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

TEST_F(FakeJiraServerTest, CreateIssue_InvalidFields_OneErrorCollectionNamingEach) {
  const nlohmann::json body = nlohmann::json::parse(R"({"fields": {
    "project": {"key": "NOPE"}, "summary": "two\nlines", "issuetype": {"name": "Incident"},
    "labels": ["has space"], "description": "plain text is not ADF on v3", "priority": {}}})");
  httplib::Result result =
      client_->Post("/rest/api/3/issue", auth_, body.dump(), "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  const nlohmann::json json = nlohmann::json::parse(result->body);
  EXPECT_EQ(json["errorMessages"], nlohmann::json::array());
  for (const char* field :
       {"project", "summary", "issuetype", "labels", "description", "priority"}) {
    EXPECT_TRUE(json["errors"].contains(field)) << field << ": " << json.dump();
  }
  EXPECT_EQ(json["errors"]["project"], "Specify a valid project ID or key");
  // v2 takes the description as a string.
  httplib::Result v2 = client_->Post(
      "/rest/api/2/issue", auth_,
      R"({"fields":{"project":{"key":"OKRX"},"summary":"s","issuetype":{"name":"Bug"},"description":"text"}})",
      "application/json");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 201);
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

TEST_F(FakeJiraServerTest, CreateMetaIssueTypes_PerProject_PagedLikeJira) {
  fake_->SetProjectIssueTypes("OKRS", {"Epic", "Story", "Bug", "Sub-task"});
  auto get = [&](const std::string& path) -> std::pair<int, nlohmann::json> {
    httplib::Result result = client_->Get(path, auth_);
    if (!result) return {0, nullptr};
    return {result->status, nlohmann::json::parse(result->body, nullptr, false)};
  };
  auto [status, page] = get("/rest/api/3/issue/createmeta/OKRS/issuetypes?startAt=1&maxResults=2");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(page["startAt"], 1);
  EXPECT_EQ(page["maxResults"], 2);
  EXPECT_EQ(page["total"], 4);
  ASSERT_THAT(page["issueTypes"], SizeIs(2));
  EXPECT_EQ(page["issueTypes"][0]["name"], "Story");
  EXPECT_EQ(page["issueTypes"][0]["id"], "10001");
  EXPECT_EQ(page["issueTypes"][0]["subtask"], false);
  EXPECT_EQ(page["issueTypes"][0]["hierarchyLevel"], 0);
  std::tie(status, page) = get("/rest/api/3/issue/createmeta/OKRS/issuetypes?startAt=3");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(page["issueTypes"][0]["name"], "Sub-task");
  EXPECT_EQ(page["issueTypes"][0]["subtask"], true);
  EXPECT_EQ(page["issueTypes"][0]["hierarchyLevel"], -1);
  // Another project keeps the default types; Data Center's page says `values` and `isLast`.
  std::tie(status, page) = get("/rest/api/2/issue/createmeta/OKRX/issuetypes");
  ASSERT_EQ(status, 200);
  EXPECT_THAT(page["values"], SizeIs(4));
  EXPECT_EQ(page["values"][2]["name"], "Task");
  EXPECT_EQ(page["isLast"], true);
  std::tie(status, page) = get("/rest/api/3/issue/createmeta/OKRS/issuetypes?maxResults=201");
  EXPECT_EQ(status, 400);
  EXPECT_THAT(page["errorMessages"][0].get<std::string>(), HasSubstr("'200'"));
  std::tie(status, page) = get("/rest/api/3/issue/createmeta/NOPE/issuetypes");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 5);

  // A create naming a type the project lacks (by name or by another project's id): 400.
  const std::vector<nlohmann::json> wrong_types = {nlohmann::json::object({{"name", "Task"}}),
                                                   nlohmann::json::object({{"id", "10002"}})};
  for (const nlohmann::json& type : wrong_types) {
    nlohmann::json body = {
        {"fields", {{"project", {{"key", "OKRS"}}}, {"summary", "s"}, {"issuetype", type}}}};
    httplib::Result result =
        client_->Post("/rest/api/3/issue", auth_, body.dump(), "application/json");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 400);
    const nlohmann::json error = nlohmann::json::parse(result->body);
    EXPECT_EQ(error["errorMessages"], nlohmann::json::array());
    EXPECT_EQ(error["errors"]["issuetype"], "Specify a valid issue type");
  }
  nlohmann::json story = {
      {"fields",
       {{"project", {{"key", "OKRS"}}}, {"summary", "s"}, {"issuetype", {{"id", "10001"}}}}}};
  httplib::Result created =
      client_->Post("/rest/api/3/issue", auth_, story.dump(), "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(fake_->GetIssue("OKRS-1")->issue_type, "Story");
}

TEST_F(FakeJiraServerTest, GetProject_KnownFromIssues_UnknownIs404) {
  httplib::Result known = client_->Get("/rest/api/3/project/okrx", auth_);
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, 200);
  EXPECT_EQ(nlohmann::json::parse(known->body)["key"], "OKRX");
  httplib::Result unknown = client_->Get("/rest/api/3/project/NOPE", auth_);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(unknown->body, HasSubstr("No project could be found with key 'NOPE'."));
}

TEST_F(FakeJiraServerTest, Reset_ForgetsIssuesLinksCountersAndFailures) {
  httplib::Result result = client_->Post(
      "/rest/api/3/issue/10001/remotelink", auth_,
      R"({"globalId":"g","object":{"url":"https://x","title":"t"}})", "application/json");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 201);
  ASSERT_TRUE(client_->Get("/rest/api/3/issue/10001"));  // unauthorized
  fake_->FailNextRequests(3);
  ASSERT_TRUE(client_->Get("/rest/api/3/issue/10001", auth_));

  fake_->Reset();
  EXPECT_FALSE(fake_->GetIssue("OKRX-1").has_value());
  EXPECT_THAT(fake_->RemoteLinks("10001"), SizeIs(0));
  EXPECT_EQ(fake_->RemoteLinkWrites("10001"), 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kGetIssue), 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kRemoteLinkWrite), 0);
  EXPECT_EQ(fake_->UnauthorizedCount(), 0);
  EXPECT_EQ(fake_->InjectedFailureCount(), 0);
  EXPECT_EQ(fake_->LastAuthorization(), "");

  // The remaining injected failures are gone, and the same ids are handed out again.
  fake_->PutIssues(MakeFakeIssues(1));
  result = client_->Get("/rest/api/3/issue/10001", auth_);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  result = client_->Post("/rest/api/3/issue/10001/remotelink", auth_,
                         R"({"globalId":"g","object":{"url":"https://x","title":"t"}})",
                         "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 201);
  ASSERT_THAT(fake_->RemoteLinks("10001"), SizeIs(1));
  EXPECT_EQ(fake_->RemoteLinks("10001")[0].id, 10000);
}

}  // namespace
}  // namespace okr::testing
