#include "connectors/github/github_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/connectors/github/github_test_stack.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_github/fake_github_server.h"

namespace okr::connectors::github {
namespace {

using ::okr::connectors::github::testing::GitHubTestStack;
using ::okr::testing::FakeGitHubEndpoint;
using ::okr::testing::FakeGitHubIssue;
using ::okr::testing::FakeGitHubOptions;
using ::okr::testing::FakeGitHubRateLimit;
using ::okr::testing::FakeGitHubRequest;
using ::okr::testing::FakeGitHubServer;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(GraphQLUrlTest, GitHubComAndEnterpriseServer) {
  EXPECT_EQ(GraphQLUrl("https://api.github.com"), "https://api.github.com/graphql");
  EXPECT_EQ(GraphQLUrl("https://ghe.example/api/v3"), "https://ghe.example/api/graphql");
  EXPECT_EQ(GraphQLUrl("https://ghe.example/api/v3/"), "https://ghe.example/api/graphql");
}

class GitHubClientTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(FakeGitHubOptions options) {
    options.clock = &clock_;
    auto fake = FakeGitHubServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddRepo("acme/app");
    GitHubClientOptions client_options;
    client_options.max_rate_limit_wait = absl::Seconds(30);
    auto stack = GitHubTestStack::Create(*fake_, clock_, client_options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
  }
  GitHubClient& client() { return *stack_->client; }

  okr::testing::FakeClock clock_{absl::FromUnixSeconds(1767323045)};
  std::unique_ptr<FakeGitHubServer> fake_;
  std::unique_ptr<GitHubTestStack> stack_;
};

TEST_F(GitHubClientTest, EveryRequestCarriesTheGitHubHeaders) {
  FakeGitHubIssue issue;
  issue.title = "A";
  issue.labels = {"okr"};
  auto added = fake_->AddIssue("acme/app", issue);
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(client().GetIssue("acme/app", added->number).ok());
  ASSERT_TRUE(client().GetNodes({added->node_id}).ok());
  ASSERT_TRUE(client().ListIssuesByLabels("acme/app", {"okr"}).ok());
  ASSERT_TRUE(client().CreateComment("acme/app", added->number, "hi").ok());
  const std::vector<FakeGitHubRequest> requests = fake_->Requests();
  ASSERT_EQ(requests.size(), 4u);
  for (const FakeGitHubRequest& r : requests) {
    EXPECT_EQ(r.authorization_scheme, "Bearer") << r.target;
    EXPECT_EQ(r.accept, "application/vnd.github+json") << r.target;
    EXPECT_EQ(r.api_version, "2022-11-28") << r.target;
    EXPECT_EQ(r.user_agent, "okr-service") << r.target;
    EXPECT_LT(r.status, 300) << r.target;
  }
}

TEST_F(GitHubClientTest, PrimaryRateLimitWaitsForTheReset_403And429) {
  FakeGitHubIssue issue;
  auto added = fake_->AddIssue("acme/app", issue);
  ASSERT_TRUE(added.ok());
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary, absl::Seconds(5));
  ASSERT_TRUE(client().GetIssue("acme/app", added->number).ok());
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary429, absl::Seconds(5));
  ASSERT_TRUE(client().GetIssue("acme/app", added->number).ok());
  const std::vector<absl::Duration> waits = stack_->sleeper.waits();
  ASSERT_EQ(waits.size(), 2u);
  for (absl::Duration w : waits) {
    EXPECT_GE(w, absl::Seconds(4));
    EXPECT_LE(w, absl::Seconds(6));
  }
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGetIssue), 4);
}

TEST_F(GitHubClientTest, SecondaryRateLimitHonoursRetryAfter) {
  auto added = fake_->AddIssue("acme/app", FakeGitHubIssue{});
  ASSERT_TRUE(added.ok());
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kSecondary, absl::Seconds(7));
  ASSERT_TRUE(client().GetIssue("acme/app", added->number).ok());
  ASSERT_EQ(stack_->sleeper.waits().size(), 1u);
  EXPECT_EQ(stack_->sleeper.waits()[0], absl::Seconds(7));
}

TEST_F(GitHubClientTest, WaitsOverTheCapAreNotSlept_ResourceExhaustedSaysWhen) {
  auto added = fake_->AddIssue("acme/app", FakeGitHubIssue{});
  ASSERT_TRUE(added.ok());
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary, absl::Hours(1));
  absl::StatusOr<GitHubIssue> issue = client().GetIssue("acme/app", added->number);
  EXPECT_EQ(issue.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(issue.status().message(), HasSubstr("retry after"));
  EXPECT_TRUE(stack_->sleeper.waits().empty());
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kSecondary, absl::Minutes(2));
  EXPECT_EQ(client().GetIssue("acme/app", added->number).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(GitHubClientTest, GraphQLPrimaryRateLimitIsHonoured) {
  auto added = fake_->AddIssue("acme/app", FakeGitHubIssue{});
  ASSERT_TRUE(added.ok());
  fake_->RateLimitNextRequests(1, FakeGitHubRateLimit::kPrimary, absl::Seconds(3));
  absl::StatusOr<std::vector<GitHubIssue>> nodes = client().GetNodes({added->node_id});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(nodes->size(), 1u);
  EXPECT_EQ(stack_->sleeper.waits().size(), 1u);
}

TEST_F(GitHubClientTest, BadTokenIsUnauthenticated_TokenNeverInMessages) {
  auto curl = outbound::CurlHttpClient::Create({});
  ASSERT_TRUE(curl.ok());
  GitHubClientOptions options;
  options.base_url = fake_->base_url();
  options.token = "ghp_wrong_secret_token";
  auto bad = GitHubClient::Create(**curl, options);
  ASSERT_TRUE(bad.ok());
  absl::StatusOr<GitHubIssue> issue = (*bad)->GetIssue("acme/app", 1);
  EXPECT_EQ(issue.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(issue.status().message(), Not(HasSubstr("ghp_wrong_secret_token")));
  EXPECT_THAT(issue.status().message(), Not(HasSubstr(fake_->token())));
  absl::StatusOr<std::vector<GitHubIssue>> nodes = (*bad)->GetNodes({"I_x"});
  EXPECT_EQ(nodes.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(nodes.status().message(), Not(HasSubstr("ghp_wrong_secret_token")));
}

TEST_F(GitHubClientTest, GoneIssueIsNotFound_UnknownNodesAreAbsent) {
  auto added = fake_->AddIssue("acme/app", FakeGitHubIssue{});
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(fake_->DeleteIssue("acme/app", added->number).ok());
  EXPECT_EQ(client().GetIssue("acme/app", added->number).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<GitHubIssue>> nodes = client().GetNodes({added->node_id});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_TRUE(nodes->empty());
}

TEST_F(GitHubClientTest, CreateRejectsBadArgumentsBeforeAnyRequest) {
  EXPECT_EQ(client().CreateIssue("acme", "t", "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client().CreateIssue("acme/app", " ", "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_->Requests().empty());
}

TEST_F(GitHubClientTest, EnterpriseServerLayout) {
  FakeGitHubOptions options;
  options.path_prefix = "/api/v3";
  Start(options);
  auto added = fake_->AddIssue("acme/app", FakeGitHubIssue{});
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(client().GetIssue("acme/app", added->number).ok());
  absl::StatusOr<std::vector<GitHubIssue>> nodes = client().GetNodes({added->node_id});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(nodes->size(), 1u);
}

}  // namespace
}  // namespace okr::connectors::github
