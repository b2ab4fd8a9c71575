// Wire-level checks of FakeGitLabServer with a plain HTTP client, so the fake's GitLab
// behaviour is verified independently of the connector it is used to test.
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>  // NOLINT(build/c++11)

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
constexpr char kProject[] = "acme/sub/checkout";
constexpr char kEncoded[] = "acme%2Fsub%2Fcheckout";

class FakeGitLabServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeGitLabOptions options;
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    project_id_ = fake_->AddProject(kProject);
    client_ = std::make_unique<httplib::Client>(fake_->base_url());
  }

  void AddIssues(int count, std::vector<std::string> labels = {}) {
    for (int i = 0; i < count; ++i) {
      FakeGitLabIssue issue;
      issue.labels = labels;
      ASSERT_TRUE(fake_->AddIssue(kProject, issue).ok());
      clock_.Advance(absl::Seconds(1));
    }
  }

  httplib::Headers Auth() const { return {{"PRIVATE-TOKEN", fake_->private_token()}}; }

  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str(), Auth()); }

  okr::testing::FakeClock clock_{kNow};
  std::unique_ptr<FakeGitLabServer> fake_;
  int64_t project_id_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(FakeGitLabServerTest, MissingOrWrongToken_Answers401WithRateLimitHeaders) {
  AddIssues(1);
  httplib::Result none = client_->Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(nlohmann::json::parse(none->body), nlohmann::json({{"message", "401 Unauthorized"}}));
  EXPECT_TRUE(none->has_header("RateLimit-Reset"));
  EXPECT_EQ(none->get_header_value("RateLimit-Name"), "throttle_authenticated_api");

  httplib::Result wrong = client_->Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"),
                                       {{"PRIVATE-TOKEN", "nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);

  httplib::Result bearer = client_->Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"),
                                        {{"Authorization", "Bearer " + fake_->private_token()}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
}

TEST_F(FakeGitLabServerTest, ProjectByEncodedPathOrNumericId_UnencodedPathIsNotFound) {
  AddIssues(1);
  httplib::Result by_path = Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"));
  ASSERT_TRUE(by_path);
  EXPECT_EQ(by_path->status, 200);
  const nlohmann::json issue = nlohmann::json::parse(by_path->body);
  EXPECT_EQ(issue["iid"], 1);
  EXPECT_EQ(issue["project_id"], project_id_);
  EXPECT_EQ(issue["references"]["full"], "acme/sub/checkout#1");
  EXPECT_EQ(issue["updated_at"], "2025-06-04T12:03:07.000Z");

  httplib::Result by_id = Get(absl::StrCat("/api/v4/projects/", project_id_, "/issues/1"));
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->status, 200);

  httplib::Result unencoded = Get("/api/v4/projects/acme/sub/checkout/issues/1");
  ASSERT_TRUE(unencoded);
  EXPECT_EQ(unencoded->status, 404);
}

TEST_F(FakeGitLabServerTest, GetDeletedIssue_Answers404NotFound) {
  AddIssues(1);
  ASSERT_TRUE(fake_->DeleteIssue(kProject, 1).ok());
  httplib::Result result = Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(nlohmann::json::parse(result->body), nlohmann::json({{"message", "404 Not found"}}));
}

TEST_F(FakeGitLabServerTest, ListPage2_HasAllPaginationHeaders) {
  AddIssues(45);
  httplib::Result result =
      Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues?per_page=20&page=2&state=all"));
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(nlohmann::json::parse(result->body).size(), 20u);
  EXPECT_EQ(result->get_header_value("x-page"), "2");
  EXPECT_EQ(result->get_header_value("x-per-page"), "20");
  EXPECT_EQ(result->get_header_value("x-next-page"), "3");
  EXPECT_EQ(result->get_header_value("x-prev-page"), "1");
  EXPECT_EQ(result->get_header_value("x-total"), "45");
  EXPECT_EQ(result->get_header_value("x-total-pages"), "3");
  const std::string link = result->get_header_value("link");
  // httplib's client URL-decodes header values: the fake sends .../acme%2Fsub%2Fcheckout/...
  // (the connector tests check that over libcurl, which does not decode).
  const std::string base =
      absl::StrCat(fake_->base_url(), "/api/v4/projects/", kProject, "/issues?state=all&");
  EXPECT_THAT(link, HasSubstr(absl::StrCat("<", base, "page=1&per_page=20>; rel=\"prev\"")));
  EXPECT_THAT(link, HasSubstr(absl::StrCat("<", base, "page=3&per_page=20>; rel=\"next\"")));
  EXPECT_THAT(link, HasSubstr(absl::StrCat("<", base, "page=1&per_page=20>; rel=\"first\"")));
  EXPECT_THAT(link, HasSubstr(absl::StrCat("<", base, "page=3&per_page=20>; rel=\"last\"")));

  httplib::Result last =
      Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues?per_page=20&page=3"));
  ASSERT_TRUE(last);
  EXPECT_EQ(nlohmann::json::parse(last->body).size(), 5u);
  EXPECT_EQ(last->get_header_value("x-next-page"), "");
  EXPECT_THAT(last->get_header_value("link"), Not(HasSubstr("rel=\"next\"")));
}

TEST_F(FakeGitLabServerTest, MoreThan10000Matches_OmitsTotalsAndLastLink) {
  AddIssues(10001);
  httplib::Result result = Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues?per_page=100"));
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->has_header("x-total"));
  EXPECT_FALSE(result->has_header("x-total-pages"));
  EXPECT_EQ(result->get_header_value("x-next-page"), "2");
  EXPECT_THAT(result->get_header_value("link"), HasSubstr("rel=\"next\""));
  EXPECT_THAT(result->get_header_value("link"), Not(HasSubstr("rel=\"last\"")));
}

TEST_F(FakeGitLabServerTest, Filters_IidsLabelsStateUpdatedAfter) {
  AddIssues(3, {"OKR::abc", "team"});
  AddIssues(2, {"team"});
  ASSERT_TRUE(fake_->UpdateIssue(kProject, 2, [](FakeGitLabIssue& i) { i.state = "closed"; }).ok());
  auto iids = [&](const std::string& query) {
    httplib::Result result = Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues?", query));
    std::vector<int64_t> out;
    if (!result || result->status != 200) return out;
    for (const auto& issue : nlohmann::json::parse(result->body)) {
      out.push_back(issue["iid"].get<int64_t>());
    }
    return out;
  };
  EXPECT_THAT(iids("iids%5B%5D=4&iids[]=1&sort=asc"), ElementsAre(1, 4));
  EXPECT_THAT(iids("labels=OKR%3A%3Aabc,team&sort=asc"), ElementsAre(1, 2, 3));
  EXPECT_THAT(iids("labels=team&state=opened&sort=asc"), ElementsAre(1, 3, 4, 5));
  EXPECT_THAT(iids("state=closed"), ElementsAre(2));
  EXPECT_THAT(iids("updated_after=2025-06-04T12:03:10Z&order_by=updated_at&sort=asc"),
              ElementsAre(4, 5, 2));
}

TEST_F(FakeGitLabServerTest, EditIssue_AddLabelsCreatesLabelAndStateEventCloses) {
  AddIssues(1);
  httplib::Result result =
      client_->Put(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1").c_str(), Auth(),
                   R"({"add_labels":"OKR::abc,team","state_event":"close"})", "application/json");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  const nlohmann::json issue = nlohmann::json::parse(result->body);
  EXPECT_EQ(issue["labels"], nlohmann::json({"OKR::abc", "team"}));
  EXPECT_EQ(issue["state"], "closed");
  EXPECT_FALSE(issue["closed_at"].is_null());
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kEditIssue), 1);
}

TEST_F(FakeGitLabServerTest, EditIssue_RemoveLabelsAndScopedLabelsExclusiveOnRequest) {
  AddIssues(1, {"OKR::a", "team", "workflow::review"});
  const std::string path = absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1");
  // GitLab Free (the default): "::" is an ordinary character; remove_labels alone is enough.
  httplib::Result result =
      client_->Put(path.c_str(), Auth(), R"({"add_labels":"OKR::b"})", "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(nlohmann::json::parse(result->body)["labels"],
            nlohmann::json({"OKR::a", "OKR::b", "team", "workflow::review"}));
  result = client_->Put(path.c_str(), Auth(), R"({"remove_labels":"OKR::a,absent"})",
                        "application/json");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(nlohmann::json::parse(result->body)["labels"],
            nlohmann::json({"OKR::b", "team", "workflow::review"}));

  // Premium/Ultimate: a scoped label replaces the issue's other label of its scope.
  FakeGitLabOptions options;
  options.clock = &clock_;
  options.scoped_labels_exclusive = true;
  absl::StatusOr<std::unique_ptr<FakeGitLabServer>> premium = FakeGitLabServer::Start(options);
  ASSERT_TRUE(premium.ok()) << premium.status();
  (*premium)->AddProject(kProject);
  FakeGitLabIssue issue;
  issue.labels = {"OKR::a", "team", "workflow::review"};
  ASSERT_TRUE((*premium)->AddIssue(kProject, issue).ok());
  httplib::Client client((*premium)->base_url());
  result = client.Put(path.c_str(), Auth(), R"({"add_labels":"OKR::b,OKR::c,OKR:o1/nps,a::b::c"})",
                      "application/json");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(nlohmann::json::parse(result->body)["labels"],
            nlohmann::json({"OKR::c", "OKR:o1/nps", "a::b::c", "team", "workflow::review"}));
  result = client.Put(path.c_str(), Auth(), R"({"labels":"x::1,x::2,plain"})", "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(nlohmann::json::parse(result->body)["labels"], nlohmann::json({"plain", "x::2"}));
}

TEST_F(FakeGitLabServerTest, Notes_CreateThenUpdateAndUnknownNoteIs404) {
  AddIssues(1);
  const std::string notes = absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1/notes");
  httplib::Result created =
      client_->Post(notes.c_str(), Auth(), R"({"body":"first"})", "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201);
  const int64_t id = nlohmann::json::parse(created->body)["id"].get<int64_t>();
  httplib::Result updated = client_->Put(absl::StrCat(notes, "/", id).c_str(), Auth(),
                                         R"({"body":"second"})", "application/json");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->status, 200);
  httplib::Result unknown = client_->Put(absl::StrCat(notes, "/", id + 1).c_str(), Auth(),
                                         R"({"body":"x"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  ASSERT_EQ(fake_->Notes(kProject, 1).size(), 1u);
  EXPECT_EQ(fake_->Notes(kProject, 1)[0].body, "second");
  EXPECT_EQ(fake_->NoteCreates(kProject, 1), 1);
  EXPECT_EQ(fake_->NoteUpdates(kProject, 1), 1);
}

TEST_F(FakeGitLabServerTest, RateLimitFault_Answers429WithAbsoluteReset) {
  AddIssues(1);
  fake_->RateLimitNextRequests(1, absl::Seconds(30), /*send_retry_after=*/true);
  httplib::Result limited = Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"));
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->body, "Retry later\n");
  EXPECT_EQ(limited->get_header_value("Retry-After"), "30");
  // AddIssues moved the clock to 12:03:08.
  EXPECT_EQ(limited->get_header_value("RateLimit-Reset"),
            absl::StrCat(absl::ToUnixSeconds(clock_.Now() + absl::Seconds(30))));
  EXPECT_EQ(limited->get_header_value("RateLimit-ResetTime"), "Wed, 04 Jun 2025 12:03:38 GMT");
  httplib::Result next = Get(absl::StrCat("/api/v4/projects/", kEncoded, "/issues/1"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(FakeGitLabServerTest, CloseIssueHook_IsARealisticIssueHook) {
  AddIssues(1, {"OKR::abc"});
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<FakeGitLabIssueHook> hook =
      fake_->CloseIssue(kProject, 1, GitLabHookTimeFormat::kUtcSuffix);
  ASSERT_TRUE(hook.ok()) << hook.status();
  const nlohmann::json& body = hook->body;
  EXPECT_EQ(body["object_kind"], "issue");
  EXPECT_EQ(body["event_type"], "issue");
  EXPECT_EQ(body["project"]["path_with_namespace"], kProject);
  EXPECT_EQ(body["object_attributes"]["action"], "close");
  EXPECT_EQ(body["object_attributes"]["state"], "closed");
  EXPECT_EQ(body["object_attributes"]["updated_at"], "2025-06-04 12:08:08 UTC");
  EXPECT_EQ(body["object_attributes"]["labels"][0]["title"], "OKR::abc");
  EXPECT_EQ(body["changes"]["state_id"], nlohmann::json({{"previous", 1}, {"current", 2}}));
  EXPECT_EQ(fake_->GetIssue(kProject, 1)->state, "closed");
  EXPECT_EQ(hook->idempotency_key.size(), 36u);
}

TEST(SendIssueHookTest, SendsGitLabDeliveryHeaders) {
  httplib::Server receiver;
  absl::Mutex mu;
  httplib::Headers seen;
  std::string body;
  receiver.Post("/hooks/gitlab", [&](const httplib::Request& request, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    seen = request.headers;
    body = request.body;
    res.status = 204;
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { receiver.listen_after_bind(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!receiver.is_running() && absl::Now() < deadline) std::this_thread::yield();

  absl::StatusOr<int> status =
      SendIssueHook(absl::StrCat("http://127.0.0.1:", port, "/hooks/gitlab"), "s3cret",
                    R"({"object_kind":"issue"})", "idem-1", /*confidential=*/true);
  receiver.stop();
  thread.join();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 204);
  absl::MutexLock lock(&mu);
  auto header = [&](const char* name) {
    auto it = seen.find(name);
    return it == seen.end() ? std::string("<missing>") : it->second;
  };
  EXPECT_EQ(header("X-Gitlab-Event"), "Confidential Issue Hook");
  EXPECT_EQ(header("X-Gitlab-Token"), "s3cret");
  EXPECT_EQ(header("Idempotency-Key"), "idem-1");
  EXPECT_EQ(header("Content-Type"), "application/json");
  EXPECT_EQ(header("X-Gitlab-Webhook-UUID").size(), 36u);
  EXPECT_EQ(header("X-Gitlab-Event-UUID").size(), 36u);
  EXPECT_EQ(body, R"({"object_kind":"issue"})");
}

TEST_F(FakeGitLabServerTest, CreateIssue_201WithIssue_400ForBadTitle_404ForUnknownProject) {
  const std::string path = absl::StrCat("/api/v4/projects/", kEncoded, "/issues");
  httplib::Result created = client_->Post(
      path.c_str(), Auth(), R"({"title":"Key result at risk","description":"d","labels":"b,a"})",
      "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  const nlohmann::json issue = nlohmann::json::parse(created->body);
  EXPECT_EQ(issue["iid"], 1);
  EXPECT_EQ(issue["project_id"], project_id_);
  EXPECT_EQ(issue["title"], "Key result at risk");
  EXPECT_EQ(issue["description"], "d");
  EXPECT_EQ(issue["state"], "opened");
  EXPECT_EQ(issue["labels"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(issue["web_url"], absl::StrCat(fake_->base_url(), "/", kProject, "/-/issues/1"));
  EXPECT_EQ(fake_->IssueCreates(), 1);

  // Label filter finds it.
  httplib::Result listed = Get(absl::StrCat(path, "?labels=a&state=all"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(nlohmann::json::parse(listed->body).size(), 1u);

  // Form bodies and label arrays work as in GitLab.
  httplib::Result form =
      client_->Post(path.c_str(), Auth(), "title=Second", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 201);

  httplib::Result missing =
      client_->Post(path.c_str(), Auth(), R"({"labels":["a"]})", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(nlohmann::json::parse(missing->body), nlohmann::json({{"error", "title is missing"}}));

  httplib::Result blank =
      client_->Post(path.c_str(), Auth(), R"({"title":"  "})", "application/json");
  ASSERT_TRUE(blank);
  EXPECT_EQ(blank->status, 400);
  EXPECT_EQ(nlohmann::json::parse(blank->body),
            nlohmann::json::parse(R"({"message":{"title":["can't be blank"]}})"));

  httplib::Result unknown = client_->Post("/api/v4/projects/acme%2Fnope/issues", Auth(),
                                          R"({"title":"t"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(nlohmann::json::parse(unknown->body),
            nlohmann::json({{"message", "404 Project Not Found"}}));
  EXPECT_EQ(fake_->IssueCreates(), 2);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 5);
}

TEST_F(FakeGitLabServerTest, FailNextCreates_BeforeOrAfterCreating) {
  const std::string path = absl::StrCat("/api/v4/projects/", kEncoded, "/issues");
  fake_->FailNextCreates(1, 500);
  httplib::Result refused =
      client_->Post(path.c_str(), Auth(), R"({"title":"t"})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 500);
  EXPECT_EQ(fake_->IssueCreates(), 0);

  fake_->FailNextCreates(1, 502, /*after_create=*/true);
  httplib::Result lost =
      client_->Post(path.c_str(), Auth(), R"({"title":"t"})", "application/json");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->status, 502);
  EXPECT_EQ(fake_->IssueCreates(), 1);
  EXPECT_TRUE(fake_->GetIssue(kProject, 1).ok());
}

}  // namespace
}  // namespace okr::testing
