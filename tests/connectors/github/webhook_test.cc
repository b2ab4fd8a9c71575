#include "connectors/github/webhook.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "connectors/github/github_connector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/outbound/signature.h"

namespace okr::connectors::github {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "hook-secret";

nlohmann::json Issue(int number, const std::string& state, const nlohmann::json& reason) {
  return {{"id", 99},
          {"node_id", "I_node"},
          {"number", number},
          {"title", "T"},
          {"state", state},
          {"state_reason", reason},
          {"labels", nlohmann::json::array()},
          {"updated_at", "2026-01-02T03:04:05Z"},
          {"html_url", "https://github.com/acme/app/issues/7"}};
}

nlohmann::json Body(const std::string& action, nlohmann::json issue = Issue(7, "open", nullptr)) {
  return {{"action", action},
          {"issue", issue},
          {"repository", {{"id", 1}, {"full_name", "acme/app"}}},
          {"sender", {{"login", "octocat"}}}};
}

TEST(VerifySignatureTest, GitHubsDocumentedTestVector) {
  EXPECT_TRUE(
      VerifySignature("It's a Secret to Everybody",
                      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
                      "Hello, World!")
          .ok());
}

TEST(VerifySignatureTest, MissingWrongMalformedAndUnconfigured) {
  const std::string body = "{}";
  absl::Status missing = VerifySignature(kSecret, "", body);
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(missing.message(), HasSubstr("X-Hub-Signature-256"));
  absl::Status wrong =
      VerifySignature(kSecret, outbound::SignatureHeaderValue("other", body), body);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(wrong.message(), HasSubstr("X-Hub-Signature-256"));
  EXPECT_THAT(wrong.message(), Not(HasSubstr(kSecret)));
  EXPECT_EQ(VerifySignature(kSecret, "sha1=abc", body).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySignature("", outbound::SignatureHeaderValue(kSecret, body), body).code(),
            absl::StatusCode::kFailedPrecondition);
  // The body is covered: a changed body fails.
  EXPECT_EQ(VerifySignature(kSecret, outbound::SignatureHeaderValue(kSecret, body), "{ }").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(ParseIssuesEventTest, EveryHandledActionUpdates_DeletedDeletes) {
  for (const char* action : {"opened", "edited", "closed", "reopened", "labeled", "unlabeled"}) {
    absl::StatusOr<GitHubIssuesEvent> event =
        ParseIssuesEvent("issues", Body(action, Issue(7, "closed", "completed")).dump());
    ASSERT_TRUE(event.ok()) << action << event.status();
    EXPECT_EQ(event->kind, GitHubIssuesEvent::Kind::kUpdated) << action;
    EXPECT_EQ(ToWorkItem(event->issue).key, "acme/app#7");
    EXPECT_TRUE(event->issue.done);
  }
  absl::StatusOr<GitHubIssuesEvent> deleted = ParseIssuesEvent("issues", Body("deleted").dump());
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->kind, GitHubIssuesEvent::Kind::kDeleted);
  EXPECT_EQ(deleted->issue.node_id, "I_node");
}

TEST(ParseIssuesEventTest, TransferredCarriesTheNewKeyAndNodeId) {
  nlohmann::json body = Body("transferred");
  nlohmann::json new_issue = Issue(31, "open", nullptr);
  new_issue["node_id"] = "I_new";
  body["changes"] = {{"new_issue", new_issue}, {"new_repository", {{"full_name", "acme/other"}}}};
  absl::StatusOr<GitHubIssuesEvent> event = ParseIssuesEvent("issues", body.dump());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, GitHubIssuesEvent::Kind::kUpdated);
  EXPECT_EQ(ToWorkItem(event->issue).key, "acme/other#31");
  EXPECT_EQ(event->issue.node_id, "I_new");

  body["changes"]["new_issue"].erase("node_id");
  EXPECT_EQ(ParseIssuesEvent("issues", body.dump())->issue.node_id, "I_node");
  body["changes"].erase("new_repository");
  EXPECT_THAT(ParseIssuesEvent("issues", body.dump()).status().message(),
              HasSubstr("changes.new_repository.full_name"));
}

TEST(ParseIssuesEventTest, PingOtherEventsUnknownActionsAndPullRequestsAreIgnored) {
  EXPECT_EQ(ParseIssuesEvent("ping", R"({"zen":"x","hook_id":1})")->kind,
            GitHubIssuesEvent::Kind::kIgnored);
  EXPECT_EQ(ParseIssuesEvent("issue_comment", Body("created").dump())->kind,
            GitHubIssuesEvent::Kind::kIgnored);
  EXPECT_EQ(ParseIssuesEvent("issues", Body("pinned").dump())->kind,
            GitHubIssuesEvent::Kind::kIgnored);
  nlohmann::json pr = Body("opened");
  pr["issue"]["pull_request"] = {{"url", "https://x"}};
  EXPECT_EQ(ParseIssuesEvent("issues", pr.dump())->kind, GitHubIssuesEvent::Kind::kIgnored);
}

TEST(ParseIssuesEventTest, MalformedBodiesNameTheField) {
  EXPECT_EQ(ParseIssuesEvent("issues", "{not json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ParseIssuesEvent("issues", R"({"issue":{}})").status().message(),
              HasSubstr("action"));
  nlohmann::json no_number = Body("opened");
  no_number["issue"].erase("number");
  EXPECT_THAT(ParseIssuesEvent("issues", no_number.dump()).status().message(),
              HasSubstr("issue.number"));
  nlohmann::json no_repo = Body("opened");
  no_repo["repository"].erase("full_name");
  EXPECT_THAT(ParseIssuesEvent("issues", no_repo.dump()).status().message(),
              HasSubstr("repository.full_name"));
}

TEST(DedupeKeyTest, DeliveryHeaderOrBodyHash_Bounded) {
  EXPECT_EQ(DedupeKey(" 72d3162e-cc78-11e3-81ab-4c9367dc0958 ", "{}"),
            "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(DedupeKey("", "{}").size(), 64u);
  EXPECT_EQ(DedupeKey("", "{}"), DedupeKey("", "{}"));
  EXPECT_EQ(DedupeKey(std::string(500, 'a'), "{}").size(), 64u);
  EXPECT_EQ(DedupeKey("a\nb", "{}").size(), 64u);
}

TEST(GitHubConnectorWebhookTest, VerifiesThenParsesIntoTrackerEvents) {
  GitHubInstanceConfig config;
  config.name = "default";
  config.token = "t";
  config.webhook_secret = kSecret;
  class NoHttp final : public outbound::HttpClient {
   public:
    absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest&) override {
      return absl::UnavailableError("no network in this test");
    }
  } http;
  absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> connector =
      MakeGitHubConnector(config, http);
  ASSERT_TRUE(connector.ok()) << connector.status();
  EXPECT_EQ((*connector)->tracker(), Tracker::kGitHub);
  const std::string body = Body("closed", Issue(7, "closed", "not_planned")).dump();
  std::map<std::string, std::string> headers = {
      {"x-github-event", "issues"},
      {"x-github-delivery", "guid-1"},
      {"x-hub-signature-256", outbound::SignatureHeaderValue(kSecret, body)}};
  sync::WebhookRequest request(headers, body);
  ASSERT_TRUE((*connector)->VerifyWebhook(request).ok());
  absl::StatusOr<sync::TrackerEvent> event = (*connector)->ParseWebhook(request);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, sync::TrackerEvent::Kind::kItemUpdated);
  EXPECT_EQ(event->delivery_id, "guid-1");
  EXPECT_EQ(event->item.key, "acme/app#7");
  EXPECT_EQ(event->item.exclusion, "not_planned");
  EXPECT_EQ((*connector)->webhook_policy().max_body_bytes, kMaxWebhookBodyBytes);

  std::map<std::string, std::string> unsigned_headers = {{"x-github-event", "issues"}};
  EXPECT_EQ((*connector)->VerifyWebhook(sync::WebhookRequest(unsigned_headers, body)).code(),
            absl::StatusCode::kUnauthenticated);
  std::map<std::string, std::string> ping = {{"x-github-event", "ping"}};
  EXPECT_EQ((*connector)->ParseWebhook(sync::WebhookRequest(ping, "{}"))->kind,
            sync::TrackerEvent::Kind::kIgnored);
}

}  // namespace
}  // namespace okr::connectors::github
