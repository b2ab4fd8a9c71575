// Wire-level checks of FakeGitHubServer with a plain HTTP client, so the fake's GitHub
// behaviour is verified independently of the connector it is used to test.
#include "tests/testing/fake_github/fake_github_server.h"

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace okr::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1749038587);  // 2025-06-04T12:03:07Z
constexpr char kRepo[] = "acme/checkout";

nlohmann::json Body(const httplib::Result& result) {
  return nlohmann::json::parse(result->body, nullptr, false);
}

class FakeGitHubServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartFake(""); }

  void StartFake(const std::string& prefix) {
    FakeGitHubOptions options;
    options.clock = &clock_;
    options.path_prefix = prefix;
    absl::StatusOr<std::unique_ptr<FakeGitHubServer>> fake = FakeGitHubServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    repo_id_ = fake_->AddRepo(kRepo);
    std::string host = fake_->base_url();
    host.resize(host.size() - prefix.size());
    client_ = std::make_unique<httplib::Client>(host);
  }

  FakeGitHubIssue AddIssue(std::vector<std::string> labels = {}, bool pull_request = false) {
    FakeGitHubIssue issue;
    issue.title = "Issue";
    issue.labels = std::move(labels);
    issue.pull_request = pull_request;
    absl::StatusOr<FakeGitHubIssue> added = fake_->AddIssue(kRepo, issue);
    EXPECT_TRUE(added.ok()) << added.status();
    clock_.Advance(absl::Seconds(1));
    return added.ok() ? *added : FakeGitHubIssue{};
  }

  httplib::Headers Auth() const {
    return {{"Authorization", "Bearer " + fake_->token()},
            {"Accept", "application/vnd.github+json"},
            {"X-GitHub-Api-Version", "2022-11-28"},
            {"User-Agent", "okr-test"}};
  }

  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str(), Auth()); }
  httplib::Result Post(const std::string& path, const nlohmann::json& body) {
    return client_->Post(path.c_str(), Auth(), body.dump(), "application/json");
  }
  httplib::Result Patch(const std::string& path, const nlohmann::json& body) {
    return client_->Patch(path.c_str(), Auth(), body.dump(), "application/json");
  }
  httplib::Result Delete(const std::string& path) { return client_->Delete(path.c_str(), Auth()); }
  httplib::Result GraphQL(const nlohmann::json& ids) {
    const nlohmann::json body = {
        {"query",
         "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Issue { id number state "
         "stateReason(enableDuplicate: true) updatedAt closedAt url labels(first: 100) { "
         "totalCount nodes { name } } repository { nameWithOwner } } } rateLimit { cost "
         "remaining resetAt } }"},
        {"variables", {{"ids", ids}}}};
    return client_->Post("/graphql", Auth(), body.dump(), "application/json");
  }

  okr::testing::FakeClock clock_{kNow};
  std::unique_ptr<FakeGitHubServer> fake_;
  int64_t repo_id_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(FakeGitHubServerTest, ListPagesWithLinkHeaders) {
  for (int i = 0; i < 250; ++i) AddIssue();
  httplib::Result first =
      Get("/repos/acme/checkout/issues?state=all&sort=updated&direction=asc"
          "&per_page=100");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  ASSERT_EQ(Body(first).size(), 100u);
  EXPECT_EQ(Body(first)[0]["number"], 1);
  const std::string link = first->get_header_value("link");
  EXPECT_THAT(link, HasSubstr("page=2>; rel=\"next\""));
  EXPECT_THAT(link, HasSubstr("page=3>; rel=\"last\""));
  EXPECT_THAT(link, Not(HasSubstr("rel=\"prev\"")));
  EXPECT_THAT(link, HasSubstr("sort=updated"));

  httplib::Result third =
      Get("/repos/acme/checkout/issues?state=all&sort=updated&direction=asc"
          "&per_page=100&page=3");
  ASSERT_TRUE(third);
  ASSERT_EQ(Body(third).size(), 50u);
  EXPECT_EQ(Body(third)[49]["number"], 250);
  EXPECT_THAT(third->get_header_value("link"), HasSubstr("page=2>; rel=\"prev\""));
  EXPECT_THAT(third->get_header_value("link"), HasSubstr("page=1>; rel=\"first\""));
  EXPECT_THAT(third->get_header_value("link"), Not(HasSubstr("rel=\"next\"")));

  // Default: 30 per page, newest created first; per_page is capped at 100.
  httplib::Result defaults = Get("/repos/acme/checkout/issues");
  ASSERT_EQ(Body(defaults).size(), 30u);
  EXPECT_EQ(Body(defaults)[0]["number"], 250);
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues?per_page=500")).size(), 100u);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kListIssues), 4);
}

TEST_F(FakeGitHubServerTest, SinglePageHasNoLinkAndWholeSecondTimestamps) {
  AddIssue();
  httplib::Result result = Get("/repos/acme/checkout/issues");
  ASSERT_EQ(result->status, 200);
  EXPECT_FALSE(result->has_header("link"));
  const nlohmann::json issue = Body(result)[0];
  EXPECT_EQ(issue["created_at"], "2025-06-04T12:03:07Z");
  EXPECT_EQ(issue["closed_at"], nullptr);
  EXPECT_EQ(issue["state_reason"], nullptr);
  EXPECT_THAT(issue["node_id"].get<std::string>(), ::testing::StartsWith("I_kwDO"));
  EXPECT_EQ(issue["html_url"], "https://github.example.test/acme/checkout/issues/1");
  EXPECT_FALSE(issue.contains("pull_request"));
}

TEST_F(FakeGitHubServerTest, LabelsFilterMatchesAllAndSinceFilters) {
  AddIssue({"okr", "weight:3"});
  AddIssue({"okr"});
  AddIssue({"weight:3"});
  nlohmann::json both = Body(Get("/repos/acme/checkout/issues?labels=okr,weight:3"));
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0]["number"], 1);
  EXPECT_EQ(both[0]["labels"][1]["name"], "weight:3");
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues?labels=okr")).size(), 2u);
  // Updated at kNow, +1 s, +2 s.
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues?since=2025-06-04T12:03:08Z")).size(), 2u);
}

TEST_F(FakeGitHubServerTest, PullRequestsAreListedWithPullRequestKey) {
  AddIssue();
  AddIssue({}, /*pull_request=*/true);
  nlohmann::json list = Body(Get("/repos/acme/checkout/issues?direction=asc"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_FALSE(list[0].contains("pull_request"));
  ASSERT_TRUE(list[1].contains("pull_request"));
  EXPECT_EQ(list[1]["number"], 2);
  EXPECT_EQ(list[1]["html_url"], "https://github.example.test/acme/checkout/pull/2");
}

TEST_F(FakeGitHubServerTest, StateFilterAndClosedIssues) {
  AddIssue();
  FakeGitHubIssue closed;
  closed.state = "closed";
  closed.state_reason = "not_planned";
  ASSERT_TRUE(fake_->AddIssue(kRepo, closed).ok());
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues")).size(), 1u);
  nlohmann::json list = Body(Get("/repos/acme/checkout/issues?state=closed"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["state_reason"], "not_planned");
  EXPECT_NE(list[0]["closed_at"], nullptr);
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues?state=all")).size(), 2u);
  EXPECT_EQ(Get("/repos/acme/checkout/issues?state=bogus")->status, 422);
}

TEST_F(FakeGitHubServerTest, AuthenticationAndHeaderRules) {
  AddIssue();
  httplib::Result none =
      client_->Get("/repos/acme/checkout/issues/1", httplib::Headers{{"User-Agent", "okr-test"}});
  ASSERT_EQ(none->status, 401);
  EXPECT_EQ(Body(none)["message"], "Bad credentials");
  EXPECT_EQ(Body(none)["status"], "401");
  EXPECT_TRUE(Body(none).contains("documentation_url"));
  EXPECT_EQ(client_
                ->Get("/repos/acme/checkout/issues/1",
                      httplib::Headers{{"Authorization", "Bearer wrong"}, {"User-Agent", "t"}})
                ->status,
            401);
  EXPECT_EQ(
      client_
          ->Get("/repos/acme/checkout/issues/1",
                httplib::Headers{{"Authorization", "token " + fake_->token()}, {"User-Agent", "t"}})
          ->status,
      200);
  httplib::Result no_agent = client_->Get(
      "/repos/acme/checkout/issues/1",
      httplib::Headers{{"Authorization", "Bearer " + fake_->token()}, {"User-Agent", ""}});
  EXPECT_EQ(no_agent->status, 403);
  EXPECT_THAT(Body(no_agent)["message"].get<std::string>(), HasSubstr("User-Agent"));
  httplib::Headers old_version = Auth();
  old_version.erase("X-GitHub-Api-Version");
  old_version.emplace("X-GitHub-Api-Version", "2021-01-01");
  EXPECT_EQ(client_->Get("/repos/acme/checkout/issues/1", old_version)->status, 400);

  const std::vector<FakeGitHubRequest> requests = fake_->Requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].authorization_scheme, "");
  EXPECT_EQ(requests[2].authorization_scheme, "token");
  EXPECT_EQ(requests[4].api_version, "2021-01-01");
  EXPECT_EQ(requests[4].accept, "application/vnd.github+json");
  EXPECT_EQ(requests[4].endpoint, FakeGitHubEndpoint::kGetIssue);
  EXPECT_EQ(requests[4].status, 400);
}

TEST_F(FakeGitHubServerTest, RateLimitHeadersOnEveryResponse) {
  AddIssue();
  httplib::Result result = Get("/repos/acme/checkout/issues/1");
  EXPECT_EQ(result->get_header_value("x-ratelimit-limit"), "5000");
  EXPECT_EQ(result->get_header_value("x-ratelimit-remaining"), "4999");
  EXPECT_EQ(result->get_header_value("x-ratelimit-used"), "1");
  EXPECT_EQ(result->get_header_value("x-ratelimit-resource"), "core");
  EXPECT_GT(std::stoll(result->get_header_value("x-ratelimit-reset")), absl::ToUnixSeconds(kNow));
  EXPECT_EQ(GraphQL(nlohmann::json::array())->get_header_value("x-ratelimit-resource"), "graphql");
  EXPECT_EQ(Get("/nope")->get_header_value("x-ratelimit-used"), "2");
}

TEST_F(FakeGitHubServerTest, DeletedIssueAnswers410) {
  AddIssue();
  ASSERT_TRUE(fake_->DeleteIssue(kRepo, 1).ok());
  httplib::Result result = Get("/repos/acme/checkout/issues/1");
  EXPECT_EQ(result->status, 410);
  EXPECT_EQ(Body(result)["status"], "410");
  EXPECT_EQ(Get("/repos/acme/checkout/issues/2")->status, 404);
}

TEST_F(FakeGitHubServerTest, TransferredIssueRedirectsAndNewLocationIsServed) {
  const FakeGitHubIssue issue = AddIssue();
  const int64_t other_id = fake_->AddRepo("acme/other");
  FakeGitHubIssue filler;
  ASSERT_TRUE(fake_->AddIssue("acme/other", filler).ok());
  absl::StatusOr<int64_t> number = fake_->TransferIssue(kRepo, 1, "acme/other");
  ASSERT_TRUE(number.ok()) << number.status();
  EXPECT_EQ(*number, 2);
  httplib::Result moved = Get("/repos/acme/checkout/issues/1");
  ASSERT_EQ(moved->status, 301);
  const std::string location = moved->get_header_value("location");
  EXPECT_EQ(location, absl::StrCat(fake_->base_url(), "/repositories/", other_id, "/issues/2"));
  httplib::Result served = Get(location.substr(fake_->base_url().size()));
  ASSERT_EQ(served->status, 200);
  EXPECT_EQ(Body(served)["id"], issue.id);
  EXPECT_EQ(Body(served)["node_id"], issue.node_id);
  EXPECT_EQ(Body(served)["number"], 2);
  EXPECT_EQ(Body(served)["repository_url"], absl::StrCat(fake_->base_url(), "/repos/acme/other"));
  ASSERT_TRUE(fake_->RemoveRepoAccess("acme/other").ok());
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 404);
  EXPECT_EQ(Get("/repos/acme/other/issues/2")->status, 404);
}

TEST_F(FakeGitHubServerTest, GraphQLNodes) {
  const FakeGitHubIssue open = AddIssue({"weight:3"});
  const FakeGitHubIssue pr = AddIssue({}, true);
  ASSERT_TRUE(fake_->CloseIssue(kRepo, open.number, "duplicate").ok());
  httplib::Result result = GraphQL({open.node_id, "I_unknown", pr.node_id});
  ASSERT_EQ(result->status, 200);
  const nlohmann::json body = Body(result);
  const nlohmann::json& nodes = body["data"]["nodes"];
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0]["__typename"], "Issue");
  EXPECT_EQ(nodes[0]["id"], open.node_id);
  EXPECT_EQ(nodes[0]["number"], 1);
  EXPECT_EQ(nodes[0]["state"], "CLOSED");
  EXPECT_EQ(nodes[0]["stateReason"], "DUPLICATE");
  EXPECT_EQ(nodes[0]["labels"]["totalCount"], 1);
  EXPECT_EQ(nodes[0]["labels"]["nodes"][0]["name"], "weight:3");
  EXPECT_EQ(nodes[0]["repository"]["nameWithOwner"], kRepo);
  EXPECT_EQ(nodes[0]["url"], open.html_url);
  EXPECT_NE(nodes[0]["closedAt"], nullptr);
  EXPECT_EQ(nodes[1], nullptr);
  EXPECT_EQ(nodes[2]["__typename"], "PullRequest");
  ASSERT_EQ(body["errors"].size(), 1u);
  EXPECT_EQ(body["errors"][0]["type"], "NOT_FOUND");
  EXPECT_EQ(body["errors"][0]["path"], nlohmann::json::array({"nodes", 1}));
  EXPECT_EQ(body["errors"][0]["message"],
            "Could not resolve to a node with the global id of 'I_unknown'");
  EXPECT_EQ(body["data"]["rateLimit"]["cost"], 1);

  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 101; ++i) many.push_back(open.node_id);
  const nlohmann::json limited = Body(GraphQL(many));
  EXPECT_EQ(limited["data"], nullptr);
  EXPECT_EQ(limited["errors"][0]["type"], "ARGUMENT_LIMIT");
  EXPECT_EQ(limited["errors"][0]["message"],
            "You may not provide more than 100 node ids; you provided 101.");

  // A deleted issue resolves to null.
  ASSERT_TRUE(fake_->DeleteIssue(kRepo, open.number).ok());
  EXPECT_EQ(Body(GraphQL({open.node_id}))["data"]["nodes"][0], nullptr);

  const nlohmann::json other = {{"query", "{ viewer { login } }"}};
  httplib::Result unsupported = client_->Post("/graphql", Auth(), other.dump(), "application/json");
  EXPECT_EQ(Body(unsupported)["errors"][0]["type"], "UNSUPPORTED");
  httplib::Result anonymous = client_->Post("/graphql", httplib::Headers{{"User-Agent", "t"}},
                                            other.dump(), "application/json");
  EXPECT_EQ(anonymous->status, 401);

  EXPECT_THAT(fake_->GraphQLIdsRequested(), ElementsAre(3, 101, 1));
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGraphQL), 5);
}

TEST_F(FakeGitHubServerTest, EnterpriseLayout) {
  StartFake("/api/v3");
  AddIssue();
  EXPECT_THAT(fake_->base_url(), ::testing::EndsWith("/api/v3"));
  EXPECT_THAT(fake_->graphql_url(), ::testing::EndsWith("/api/graphql"));
  EXPECT_EQ(Get("/api/v3/repos/acme/checkout/issues/1")->status, 200);
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 404);
  const nlohmann::json body = {{"query", "query($ids:[ID!]!){ nodes(ids: $ids) { id } }"},
                               {"variables", {{"ids", nlohmann::json::array()}}}};
  EXPECT_EQ(client_->Post("/api/graphql", Auth(), body.dump(), "application/json")->status, 200);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGraphQL), 1);
}

TEST_F(FakeGitHubServerTest, RateLimitFaults) {
  AddIssue();
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary, absl::Seconds(30));
  httplib::Result primary = Get("/repos/acme/checkout/issues/1");
  EXPECT_EQ(primary->status, 403);
  EXPECT_EQ(primary->get_header_value("x-ratelimit-remaining"), "0");
  EXPECT_EQ(primary->get_header_value("x-ratelimit-reset"),
            absl::StrCat(absl::ToUnixSeconds(kNow) + 31));  // AddIssue advanced 1 s.
  EXPECT_THAT(Body(primary)["message"].get<std::string>(), HasSubstr("API rate limit exceeded"));

  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary429, absl::Seconds(5));
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 429);

  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kSecondary, absl::Seconds(61));
  httplib::Result secondary = Get("/repos/acme/checkout/issues/1");
  EXPECT_EQ(secondary->status, 403);
  EXPECT_EQ(secondary->get_header_value("retry-after"), "61");
  EXPECT_THAT(Body(secondary)["message"].get<std::string>(), HasSubstr("secondary rate limit"));

  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary, absl::Seconds(30));
  httplib::Result graphql = GraphQL(nlohmann::json::array());
  EXPECT_EQ(graphql->status, 200);
  EXPECT_EQ(graphql->get_header_value("x-ratelimit-remaining"), "0");
  EXPECT_EQ(Body(graphql)["errors"][0]["type"], "RATE_LIMITED");

  fake_->FailNextRequests(1, 502);
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 502);
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 200);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGetIssue), 5);
}

TEST_F(FakeGitHubServerTest, CreateAndUpdateIssue) {
  EXPECT_EQ(Post("/repos/acme/checkout/issues", {{"body", "no title"}})->status, 422);
  httplib::Result created =
      Post("/repos/acme/checkout/issues", {{"title", "KR 1"}, {"labels", {"okr"}}});
  ASSERT_EQ(created->status, 201);
  EXPECT_EQ(Body(created)["number"], 1);
  EXPECT_EQ(Body(created)["labels"][0]["name"], "okr");
  clock_.Advance(absl::Seconds(10));
  httplib::Result closed = Patch("/repos/acme/checkout/issues/1",
                                 {{"state", "closed"}, {"state_reason", "not_planned"}});
  ASSERT_EQ(closed->status, 200);
  EXPECT_EQ(Body(closed)["state"], "closed");
  EXPECT_EQ(Body(closed)["state_reason"], "not_planned");
  EXPECT_EQ(Body(closed)["updated_at"], "2025-06-04T12:03:17Z");
  absl::StatusOr<FakeGitHubIssue> stored = fake_->GetIssue(kRepo, 1);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->closed_at, kNow + absl::Seconds(10));
  httplib::Result reopened = Patch("/repos/acme/checkout/issues/1", {{"state", "open"}});
  EXPECT_EQ(Body(reopened)["state_reason"], "reopened");
  EXPECT_EQ(Body(reopened)["closed_at"], nullptr);
}

TEST_F(FakeGitHubServerTest, CommentEndpoints) {
  AddIssue();
  httplib::Result created = Post("/repos/acme/checkout/issues/1/comments", {{"body", "linked"}});
  ASSERT_EQ(created->status, 201);
  const int64_t id = Body(created)["id"];
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 200);
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues/1"))["updated_at"], "2025-06-04T12:03:08Z");
  clock_.Advance(absl::Seconds(5));
  httplib::Result updated =
      Patch(absl::StrCat("/repos/acme/checkout/issues/comments/", id), {{"body", "v2"}});
  ASSERT_EQ(updated->status, 200);
  EXPECT_EQ(Body(updated)["body"], "v2");
  EXPECT_EQ(Body(Get("/repos/acme/checkout/issues/1"))["updated_at"], "2025-06-04T12:03:13Z");
  nlohmann::json list = Body(Get("/repos/acme/checkout/issues/1/comments"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(Patch("/repos/acme/checkout/issues/comments/1", {{"body", "x"}})->status, 404);
  EXPECT_EQ(Delete(absl::StrCat("/repos/acme/checkout/issues/comments/", id))->status, 204);
  EXPECT_EQ(Delete(absl::StrCat("/repos/acme/checkout/issues/comments/", id))->status, 404);
  EXPECT_TRUE(fake_->Comments(kRepo, 1).empty());
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kCreateComment), 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kUpdateComment), 2);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kDeleteComment), 2);
}

TEST_F(FakeGitHubServerTest, LabelEndpoints) {
  AddIssue({"bug"});
  httplib::Result added = Post("/repos/acme/checkout/issues/1/labels", {{"labels", {"okr:KR 1"}}});
  ASSERT_EQ(added->status, 200);
  const nlohmann::json labels = Body(added);
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0]["name"], "bug");
  EXPECT_EQ(labels[1]["name"], "okr:KR 1");
  EXPECT_TRUE(labels[1].contains("id"));
  EXPECT_TRUE(labels[1].contains("color"));
  EXPECT_EQ(
      Post("/repos/acme/checkout/issues/1/labels", {{"labels", {std::string(51, 'x')}}})->status,
      422);
  EXPECT_EQ(
      Post("/repos/acme/checkout/issues/1/labels", {{"labels", {std::string(50, 'x')}}})->status,
      200);
  httplib::Result removed = Delete("/repos/acme/checkout/issues/1/labels/okr%3AKR%201");
  ASSERT_EQ(removed->status, 200);
  EXPECT_EQ(Body(removed).size(), 2u);
  EXPECT_EQ(Body(removed)[0]["name"], "bug");
  httplib::Result missing = Delete("/repos/acme/checkout/issues/1/labels/okr%3AKR%201");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Body(missing)["message"], "Label does not exist");
}

TEST_F(FakeGitHubServerTest, ResponseDelayAndResetObservations) {
  AddIssue();
  fake_->SetResponseDelay(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  EXPECT_EQ(Get("/repos/acme/checkout/issues/1")->status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  fake_->SetResponseDelay(absl::ZeroDuration());
  EXPECT_EQ(Get("/repos/acme/checkout/issues/x")->status, 404);
  EXPECT_EQ(Get("/unknown")->status, 404);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGetIssue), 2);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kOther), 1);
  fake_->ResetObservations();
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGetIssue), 0);
  EXPECT_TRUE(fake_->Requests().empty());
  EXPECT_TRUE(fake_->GraphQLIdsRequested().empty());
}

// A receiver capturing what SendGitHubWebhook delivers.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
      absl::MutexLock lock(&mu_);
      headers_ = request.headers;
      body_ = request.body;
      response.status = 202;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  std::string Header(const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = headers_.find(name);
    return it == headers_.end() ? "<absent>" : it->second;
  }
  std::string body() {
    absl::MutexLock lock(&mu_);
    return body_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  absl::Mutex mu_;
  httplib::Headers headers_;
  std::string body_;
};

TEST(GitHubWebhookTest, SignatureTestVectorThroughReceiver) {
  Receiver receiver;
  const std::string secret = "It's a Secret to Everybody";
  absl::StatusOr<int> status =
      SendGitHubWebhook(receiver.url(), "Hello, World!",
                        {{"Content-Type", "application/json"},
                         {"X-Hub-Signature-256", GitHubSignature256(secret, "Hello, World!")}});
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 202);
  EXPECT_EQ(receiver.body(), "Hello, World!");
  EXPECT_EQ(receiver.Header("X-Hub-Signature-256"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_F(FakeGitHubServerTest, DeliveriesCarryGitHubHeaders) {
  Receiver receiver;
  const FakeGitHubIssue issue = AddIssue();
  absl::StatusOr<FakeGitHubDelivery> closed = fake_->CloseIssue(kRepo, issue.number, "completed");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->body["action"], "closed");
  EXPECT_EQ(closed->body["issue"]["state_reason"], "completed");
  EXPECT_EQ(closed->body["repository"]["full_name"], kRepo);
  EXPECT_EQ(closed->body["repository"]["id"], repo_id_);
  EXPECT_EQ(closed->body["repository"]["owner"]["login"], "acme");
  EXPECT_TRUE(closed->body["sender"].contains("login"));
  ASSERT_TRUE(SendGitHubWebhook(receiver.url(), "s3cret", *closed).ok());
  EXPECT_EQ(receiver.Header("X-GitHub-Event"), "issues");
  EXPECT_EQ(receiver.Header("X-GitHub-Delivery"), closed->guid);
  EXPECT_EQ(receiver.Header("X-GitHub-Hook-ID"), absl::StrCat(FakeGitHubServer::kHookId));
  EXPECT_EQ(receiver.Header("X-GitHub-Hook-Installation-Target-Type"), "repository");
  EXPECT_EQ(receiver.Header("X-GitHub-Hook-Installation-Target-ID"), absl::StrCat(repo_id_));
  EXPECT_THAT(receiver.Header("User-Agent"), ::testing::StartsWith("GitHub-Hookshot/"));
  EXPECT_EQ(receiver.Header("X-Hub-Signature-256"), GitHubSignature256("s3cret", receiver.body()));
  EXPECT_THAT(receiver.Header("X-Hub-Signature"), ::testing::StartsWith("sha1="));
  EXPECT_EQ(receiver.Header("X-Hub-Signature").size(), 5u + 40u);
  // A re-send keeps the GUID; no secret: no signatures.
  ASSERT_TRUE(SendGitHubWebhook(receiver.url(), "", *closed).ok());
  EXPECT_EQ(receiver.Header("X-GitHub-Delivery"), closed->guid);
  EXPECT_EQ(receiver.Header("X-Hub-Signature-256"), "<absent>");
}

TEST_F(FakeGitHubServerTest, WebhookMutators) {
  FakeGitHubIssue issue;
  issue.title = "Old";
  absl::StatusOr<FakeGitHubDelivery> opened = fake_->OpenIssue(kRepo, issue);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->body["action"], "opened");
  EXPECT_EQ(opened->body["issue"]["number"], 1);

  absl::StatusOr<FakeGitHubDelivery> edited =
      fake_->EditIssue(kRepo, 1, [](FakeGitHubIssue& i) { i.title = "New"; });
  ASSERT_TRUE(edited.ok());
  EXPECT_EQ(edited->body["changes"]["title"]["from"], "Old");
  EXPECT_FALSE(edited->body["changes"].contains("body"));

  absl::StatusOr<FakeGitHubDelivery> labeled = fake_->LabelIssue(kRepo, 1, "weight:5");
  ASSERT_TRUE(labeled.ok());
  EXPECT_EQ(labeled->body["label"]["name"], "weight:5");
  EXPECT_EQ(labeled->body["issue"]["labels"][0]["name"], "weight:5");
  absl::StatusOr<FakeGitHubDelivery> unlabeled = fake_->UnlabelIssue(kRepo, 1, "weight:5");
  ASSERT_TRUE(unlabeled.ok());
  EXPECT_EQ(unlabeled->body["action"], "unlabeled");
  EXPECT_TRUE(unlabeled->body["issue"]["labels"].empty());

  absl::StatusOr<FakeGitHubDelivery> reopened = fake_->ReopenIssue(kRepo, 1);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->body["issue"]["state_reason"], "reopened");

  fake_->AddRepo("acme/other");
  absl::StatusOr<FakeGitHubDelivery> transferred =
      fake_->TransferIssueEvent(kRepo, 1, "acme/other");
  ASSERT_TRUE(transferred.ok());
  EXPECT_EQ(transferred->body["repository"]["full_name"], kRepo);
  EXPECT_EQ(transferred->body["changes"]["new_repository"]["full_name"], "acme/other");
  EXPECT_EQ(transferred->body["changes"]["new_issue"]["node_id"],
            transferred->body["issue"]["node_id"]);

  absl::StatusOr<FakeGitHubDelivery> deleted = fake_->DeleteIssueEvent("acme/other", 1);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->body["action"], "deleted");
  EXPECT_EQ(Get("/repos/acme/other/issues/1")->status, 410);

  const FakeGitHubDelivery ping = fake_->Ping(kRepo);
  EXPECT_EQ(ping.event, "ping");
  EXPECT_TRUE(ping.body.contains("zen"));
  EXPECT_EQ(ping.body["hook_id"], FakeGitHubServer::kHookId);
  EXPECT_NE(ping.guid, opened->guid);
}

}  // namespace
}  // namespace okr::testing
