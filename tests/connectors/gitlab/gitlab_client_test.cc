#include "connectors/gitlab/gitlab_client.h"

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/outbound/curl_http_client.h"
#include "service/outbound/retrying_http_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"

namespace okr::connectors::gitlab {
namespace {

using ::okr::testing::FakeGitLabEndpoint;
using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabPagination;
using ::okr::testing::FakeGitLabRequest;
using ::okr::testing::FakeGitLabServer;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1749038587);  // 2025-06-04T12:03:07Z
constexpr char kProject[] = "acme/sub/checkout";
constexpr char kEncodedProject[] = "acme%2Fsub%2Fcheckout";

// The retry loop's clock: sleeping advances the same FakeClock the fake GitLab reads, so a
// RateLimit-Reset epoch is reached without real waiting.
class FakeSleeper final : public outbound::Sleeper {
 public:
  explicit FakeSleeper(okr::testing::FakeClock& clock) : clock_(clock) {}
  absl::Time Now() override { return clock_.Now(); }
  void SleepFor(absl::Duration duration) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(duration);
    clock_.Advance(duration);
  }
  std::vector<absl::Duration> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  okr::testing::FakeClock& clock_;
  absl::Mutex mu_;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

// The production stack against the fake: curl -> retry (fake sleeper) -> GitLabClient.
class GitLabClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okr::testing::FakeGitLabOptions options;
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject(kProject);
    absl::StatusOr<std::unique_ptr<outbound::CurlHttpClient>> curl =
        outbound::CurlHttpClient::Create({});
    ASSERT_TRUE(curl.ok()) << curl.status();
    curl_ = *std::move(curl);
    retrying_ =
        std::make_unique<outbound::RetryingHttpClient>(*curl_, outbound::RetryPolicy{}, sleeper_);
    client_ = MakeClient(fake_->private_token());
  }

  std::unique_ptr<GitLabClient> MakeClient(const std::string& token) {
    GitLabClientOptions options;
    options.base_url = fake_->base_url() + "/";
    options.private_token = token;
    absl::StatusOr<std::unique_ptr<GitLabClient>> client =
        GitLabClient::Create(*retrying_, std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  FakeGitLabIssue AddIssue(int64_t iid, std::vector<std::string> labels = {}) {
    FakeGitLabIssue issue;
    issue.iid = iid;
    issue.labels = std::move(labels);
    absl::StatusOr<FakeGitLabIssue> added = fake_->AddIssue(kProject, issue);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : issue;
  }

  std::vector<FakeGitLabRequest> ListRequests() {
    std::vector<FakeGitLabRequest> lists;
    for (FakeGitLabRequest& request : fake_->Requests()) {
      if (request.endpoint == FakeGitLabEndpoint::kListIssues) lists.push_back(std::move(request));
    }
    return lists;
  }

  okr::testing::FakeClock clock_{kNow};
  FakeSleeper sleeper_{clock_};
  std::unique_ptr<FakeGitLabServer> fake_;
  std::unique_ptr<outbound::CurlHttpClient> curl_;
  std::unique_ptr<outbound::RetryingHttpClient> retrying_;
  std::unique_ptr<GitLabClient> client_;
};

TEST_F(GitLabClientTest, ListIssuesByIids_10000Tracked_100RequestsEachIssueOnce) {
  std::vector<int64_t> iids;
  for (int64_t iid = 1; iid <= 10000; ++iid) {
    AddIssue(iid);
    iids.push_back(iid);
  }
  AddIssue(10001);  // Not tracked.
  fake_->ResetObservations();

  absl::StatusOr<std::vector<GitLabIssue>> issues = client_->ListIssuesByIids(kProject, iids);
  ASSERT_TRUE(issues.ok()) << issues.status();

  EXPECT_LE(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 100);
  ASSERT_THAT(*issues, SizeIs(10000));
  std::set<int64_t> returned;
  for (const GitLabIssue& issue : *issues) {
    returned.insert(issue.iid);
    EXPECT_EQ(issue.project_path, kProject);
  }
  EXPECT_EQ(returned.size(), 10000u);
  EXPECT_EQ(*returned.begin(), 1);
  EXPECT_EQ(*returned.rbegin(), 10000);
  for (int64_t iid = 1; iid <= 10000; ++iid) {
    ASSERT_EQ(fake_->TimesListed(kProject, iid), 1) << iid;
  }
  EXPECT_EQ(fake_->TimesListed(kProject, 10001), 0);
  for (const FakeGitLabRequest& request : ListRequests()) {
    EXPECT_THAT(request.target, HasSubstr("state=all"));
    EXPECT_THAT(request.target, HasSubstr("per_page=100"));
  }
}

TEST_F(GitLabClientTest, ListIssuesByIids_DuplicatesIgnoredMissingAbsentEmptyNoRequest) {
  AddIssue(1);
  AddIssue(2);
  absl::StatusOr<std::vector<GitLabIssue>> issues =
      client_->ListIssuesByIids(kProject, {2, 1, 2, 99});
  ASSERT_TRUE(issues.ok()) << issues.status();
  std::set<int64_t> iids;
  for (const GitLabIssue& issue : *issues) iids.insert(issue.iid);
  EXPECT_THAT(iids, ElementsAre(1, 2));
  ASSERT_THAT(ListRequests(), SizeIs(1));
  EXPECT_THAT(ListRequests()[0].target,
              AllOf(HasSubstr("iids%5B%5D=2&iids%5B%5D=1&iids%5B%5D=99"),
                    ::testing::Not(HasSubstr("iids%5B%5D=2&iids%5B%5D=1&iids%5B%5D=2"))));

  absl::StatusOr<std::vector<GitLabIssue>> none = client_->ListIssuesByIids(kProject, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_THAT(ListRequests(), SizeIs(1));
}

TEST_F(GitLabClientTest, ListIssuesByLabels_FollowsLinkAcrossThreePages) {
  for (int64_t iid = 1; iid <= 250; ++iid) {
    AddIssue(iid, {"OKR::abc", "team"});
    clock_.Advance(absl::Seconds(1));
  }
  AddIssue(251, {"OKR::abc"});  // Lacks "team".
  AddIssue(252, {"team"});      // Lacks "OKR::abc".
  // Link only, as with keyset pagination: without following `link` the listing would stop
  // after the first page.
  fake_->SetPagination(FakeGitLabPagination::kLinkOnly);

  absl::StatusOr<std::vector<GitLabIssue>> issues =
      client_->ListIssuesByLabels(kProject, {"OKR::abc", "team"});
  ASSERT_TRUE(issues.ok()) << issues.status();
  ASSERT_THAT(*issues, SizeIs(250));
  for (size_t i = 0; i < issues->size(); ++i) {
    EXPECT_EQ((*issues)[i].iid, static_cast<int64_t>(i) + 1);  // updated_at ascending.
    EXPECT_THAT((*issues)[i].labels, ElementsAre("OKR::abc", "team"));
  }

  const std::vector<FakeGitLabRequest> lists = ListRequests();
  ASSERT_THAT(lists, SizeIs(3));
  EXPECT_EQ(lists[0].target,
            absl::StrCat("/api/v4/projects/", kEncodedProject,
                         "/issues?state=all&labels=OKR%3A%3Aabc,team&order_by=updated_at&sort="
                         "asc&per_page=100"));
  // Pages 2 and 3 are exactly the fake's `link` URLs (its own parameter order and encoding).
  EXPECT_EQ(lists[1].target,
            absl::StrCat("/api/v4/projects/", kEncodedProject,
                         "/issues?labels=OKR%3A%3Aabc%2Cteam&order_by=updated_at&sort=asc&state="
                         "all&page=2&per_page=100"));
  EXPECT_THAT(lists[2].target, HasSubstr("&page=3&per_page=100"));
}

TEST_F(GitLabClientTest, ListIssuesByLabels_WithoutLinkFallsBackToXNextPage) {
  for (int64_t iid = 1; iid <= 150; ++iid) AddIssue(iid, {"OKR::abc"});
  fake_->SetPagination(FakeGitLabPagination::kHeadersOnly);
  absl::StatusOr<std::vector<GitLabIssue>> issues =
      client_->ListIssuesByLabels(kProject, {"OKR::abc"});
  ASSERT_TRUE(issues.ok()) << issues.status();
  EXPECT_THAT(*issues, SizeIs(150));
  const std::vector<FakeGitLabRequest> lists = ListRequests();
  ASSERT_THAT(lists, SizeIs(2));
  EXPECT_THAT(lists[1].target, HasSubstr("&per_page=100&page=2"));
}

TEST_F(GitLabClientTest, ListIssuesByLabels_MilestoneAndUpdatedAfter) {
  FakeGitLabIssue in_milestone;
  in_milestone.iid = 1;
  in_milestone.labels = {"OKR::abc"};
  in_milestone.milestone = "Q3 2025";
  ASSERT_TRUE(fake_->AddIssue(kProject, in_milestone).ok());
  AddIssue(2, {"OKR::abc"});
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(fake_->UpdateIssue(kProject, 1, [](FakeGitLabIssue& i) { i.title = "x"; }).ok());
  FakeGitLabIssue old_in_milestone = in_milestone;
  old_in_milestone.iid = 3;
  old_in_milestone.updated_at = kNow - absl::Hours(1);
  old_in_milestone.created_at = kNow - absl::Hours(2);
  ASSERT_TRUE(fake_->AddIssue(kProject, old_in_milestone).ok());

  absl::StatusOr<std::vector<GitLabIssue>> issues =
      client_->ListIssuesByLabels(kProject, {"OKR::abc"}, "Q3 2025", kNow + absl::Minutes(30));
  ASSERT_TRUE(issues.ok()) << issues.status();
  ASSERT_THAT(*issues, SizeIs(1));
  EXPECT_EQ((*issues)[0].iid, 1);
  EXPECT_THAT(ListRequests()[0].target,
              AllOf(HasSubstr("&milestone=Q3%202025"),
                    HasSubstr("&updated_after=2025-06-04T12%3A33%3A07.000Z")));
}

TEST_F(GitLabClientTest, RateLimitStorm_ConvergesOnRateLimitResetEpochWithoutRealWaiting) {
  AddIssue(1);
  // Three 429s without Retry-After: only the absolute RateLimit-Reset epoch says when.
  fake_->RateLimitNextRequests(3, absl::Seconds(20), /*send_retry_after=*/false);
  const absl::Time start = absl::Now();

  absl::StatusOr<std::vector<GitLabIssue>> issues = client_->ListIssuesByIids(kProject, {1});

  ASSERT_TRUE(issues.ok()) << issues.status();
  EXPECT_THAT(*issues, SizeIs(1));
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 4);
  const std::vector<absl::Duration> waits = sleeper_.waits();
  ASSERT_THAT(waits, SizeIs(3));
  for (absl::Duration wait : waits) {
    EXPECT_GE(wait, absl::Seconds(20));
    EXPECT_LE(wait, absl::Seconds(21));
  }
  EXPECT_GE(clock_.Now(), kNow + absl::Seconds(60));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // Simulated time only.
}

TEST_F(GitLabClientTest, RateLimitedLongerThanRetriesAllow_ResourceExhausted) {
  AddIssue(1);
  fake_->RateLimitNextRequests(100, absl::Seconds(10));
  absl::StatusOr<GitLabIssue> issue = client_->GetIssue(kProject, 1);
  EXPECT_EQ(issue.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(issue.status().message(), HasSubstr("GitLab get issue: HTTP 429"));
}

TEST_F(GitLabClientTest, GetIssue_ReturnsIssueAndDeletedIssueIsNotFound) {
  AddIssue(7, {"OKR::abc"});
  absl::StatusOr<GitLabIssue> issue = client_->GetIssue(kProject, 7);
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->iid, 7);
  EXPECT_EQ(issue->state, "opened");
  EXPECT_EQ(issue->url, absl::StrCat(fake_->base_url(), "/acme/sub/checkout/-/issues/7"));
  EXPECT_EQ(issue->updated_at, kNow);

  ASSERT_TRUE(fake_->DeleteIssue(kProject, 7).ok());
  absl::StatusOr<GitLabIssue> deleted = client_->GetIssue(kProject, 7);
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(deleted.status().message(), HasSubstr("404 Not found"));
}

TEST_F(GitLabClientTest, CreateNoteThenUpdateNote_EditsInPlace) {
  AddIssue(7);
  absl::StatusOr<int64_t> note_id = client_->CreateNote(kProject, 7, "Serves KR-17: 20%");
  ASSERT_TRUE(note_id.ok()) << note_id.status();
  ASSERT_TRUE(client_->UpdateNote(kProject, 7, *note_id, "Serves KR-17: 40%").ok());
  ASSERT_TRUE(client_->UpdateNote(kProject, 7, *note_id, "Serves KR-17: 60%").ok());

  const std::vector<okr::testing::FakeGitLabNote> notes = fake_->Notes(kProject, 7);
  ASSERT_THAT(notes, SizeIs(1));
  EXPECT_EQ(notes[0].id, *note_id);
  EXPECT_EQ(notes[0].body, "Serves KR-17: 60%");
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 1);
  EXPECT_EQ(fake_->NoteUpdates(kProject, 7), 2);
}

TEST_F(GitLabClientTest, UpdateNote_DeletedNoteIsNotFoundSoCallerCanRecreate) {
  AddIssue(7);
  absl::StatusOr<int64_t> note_id = client_->CreateNote(kProject, 7, "marker");
  ASSERT_TRUE(note_id.ok()) << note_id.status();
  ASSERT_TRUE(fake_->DeleteNote(kProject, 7, *note_id).ok());
  absl::Status status = client_->UpdateNote(kProject, 7, *note_id, "marker v2");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("GitLab update note"));
  absl::StatusOr<int64_t> recreated = client_->CreateNote(kProject, 7, "marker v2");
  ASSERT_TRUE(recreated.ok());
  EXPECT_NE(*recreated, *note_id);
}

TEST_F(GitLabClientTest, CreateNote_ServerErrorIsNotReplayed) {
  AddIssue(7);
  fake_->FailNextRequests(1, 500);
  absl::StatusOr<int64_t> note_id = client_->CreateNote(kProject, 7, "marker");
  EXPECT_EQ(note_id.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateNote), 1);
  EXPECT_TRUE(fake_->Notes(kProject, 7).empty());
}

TEST_F(GitLabClientTest, AddLabels_AttachesOkrLabelAndKeepsOthers) {
  AddIssue(7, {"bug"});
  absl::StatusOr<GitLabIssue> issue = client_->AddLabels(kProject, 7, {"OKR::abc"});
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_THAT(issue->labels, ElementsAre("OKR::abc", "bug"));
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels, ElementsAre("OKR::abc", "bug"));
  // Adding it again is harmless.
  ASSERT_TRUE(client_->AddLabels(kProject, 7, {"OKR::abc"}).ok());
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels, ElementsAre("OKR::abc", "bug"));
}

TEST_F(GitLabClientTest, EveryRequest_SendsPrivateTokenAndJsonBodies) {
  AddIssue(7);
  ASSERT_TRUE(client_->GetIssue(kProject, 7).ok());
  ASSERT_TRUE(client_->ListIssuesByIids(kProject, {7}).ok());
  ASSERT_TRUE(client_->AddLabels(kProject, 7, {"OKR::abc"}).ok());
  absl::StatusOr<int64_t> note_id = client_->CreateNote(kProject, 7, "hello \"world\"");
  ASSERT_TRUE(note_id.ok());
  ASSERT_TRUE(client_->UpdateNote(kProject, 7, *note_id, "bye").ok());

  const std::vector<FakeGitLabRequest> requests = fake_->Requests();
  ASSERT_THAT(requests, SizeIs(5));
  for (const FakeGitLabRequest& request : requests) {
    EXPECT_EQ(request.private_token, fake_->private_token()) << request.target;
    EXPECT_THAT(request.target,
                StartsWith(absl::StrCat("/api/v4/projects/", kEncodedProject, "/issues")));
    if (request.method != "GET") {
      EXPECT_EQ(request.content_type, "application/json") << request.method;
    }
  }
  EXPECT_EQ(nlohmann::json::parse(requests[2].body), nlohmann::json({{"add_labels", "OKR::abc"}}));
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].target, absl::StrCat("/api/v4/projects/", kEncodedProject, "/issues/7"));
  EXPECT_EQ(nlohmann::json::parse(requests[3].body), nlohmann::json({{"body", "hello \"world\""}}));
  EXPECT_EQ(requests[3].method, "POST");
  EXPECT_EQ(requests[3].target,
            absl::StrCat("/api/v4/projects/", kEncodedProject, "/issues/7/notes"));
  EXPECT_EQ(requests[4].method, "PUT");
  EXPECT_EQ(requests[4].target,
            absl::StrCat("/api/v4/projects/", kEncodedProject, "/issues/7/notes/", *note_id));
}

TEST_F(GitLabClientTest, WrongToken_Unauthenticated) {
  AddIssue(7);
  std::unique_ptr<GitLabClient> client = MakeClient("glpat-wrong");
  ASSERT_NE(client, nullptr);
  absl::StatusOr<GitLabIssue> issue = client->GetIssue(kProject, 7);
  EXPECT_EQ(issue.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(issue.status().message(), ::testing::Not(HasSubstr("glpat-wrong")));
}

TEST_F(GitLabClientTest, InvalidArguments_RejectedBeforeAnyRequest) {
  EXPECT_EQ(client_->GetIssue("acme/sub/checkout", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->GetIssue("checkout", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->GetIssue("acme%2Fcheckout", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ListIssuesByIids(kProject, {1, -2}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ListIssuesByLabels(kProject, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ListIssuesByLabels(kProject, {"a,b"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ListIssuesByLabels(kProject, {"ok"}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->AddLabels(kProject, 1, {""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateNote(kProject, 1, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      client_->CreateNote(kProject, 1, std::string(kMaxNoteBodyBytes + 1, 'x')).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->UpdateNote(kProject, 1, 0, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_->Requests().empty());
}

// --- Against a scripted HttpClient: answers the fake would never give. ----------------------

TEST_F(GitLabClientTest, CreateIssue_Returns201IssueWithLabelsFindableByLabel) {
  AddIssue(4);
  absl::StatusOr<GitLabIssue> created = client_->CreateIssue(
      kProject, "Key result at risk: NPS", "See https://okr.example/kr/7", {"okr-rule-1", "OKR"});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->iid, 5);
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->title, "Key result at risk: NPS");
  EXPECT_EQ(created->state, "opened");
  EXPECT_THAT(created->labels, ElementsAre("OKR", "okr-rule-1"));
  EXPECT_EQ(created->url, absl::StrCat(fake_->base_url(), "/", kProject, "/-/issues/5"));
  absl::StatusOr<FakeGitLabIssue> stored = fake_->GetIssue(kProject, 5);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->description, "See https://okr.example/kr/7");
  EXPECT_EQ(fake_->IssueCreates(), 1);

  absl::StatusOr<std::vector<GitLabIssue>> found =
      client_->ListIssuesByLabels(kProject, {"okr-rule-1"});
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_THAT(*found, SizeIs(1));
  EXPECT_EQ((*found)[0].iid, 5);
}

TEST_F(GitLabClientTest, CreateIssue_ServerErrorIsNotReplayed) {
  fake_->FailNextCreates(1, 500, /*after_create=*/true);
  absl::StatusOr<GitLabIssue> created = client_->CreateIssue(kProject, "t", "", {"okr-rule-1"});
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 1);
  EXPECT_EQ(fake_->IssueCreates(), 1);  // Created; only the answer was lost.
}

TEST_F(GitLabClientTest, CreateIssue_UnknownProject_IsNotFound) {
  absl::StatusOr<GitLabIssue> created = client_->CreateIssue("acme/nope", "t", "", {});
  EXPECT_EQ(created.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(created.status().message(), HasSubstr("404 Project Not Found"));
  EXPECT_EQ(fake_->IssueCreates(), 0);
}

TEST_F(GitLabClientTest, CreateIssue_InvalidArguments_RejectedBeforeAnyRequest) {
  EXPECT_EQ(client_->CreateIssue("nope", "t", "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateIssue(kProject, "", "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateIssue(kProject, "a\nb", "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateIssue(kProject, std::string(256, 't'), "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateIssue(kProject, "t", std::string(kMaxIssueDescriptionBytes + 1, 'd'), {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateIssue(kProject, "t", "", {"a,b"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 0);
}

class ScriptedHttpClient final : public outbound::HttpClient {
 public:
  explicit ScriptedHttpClient(std::vector<outbound::HttpResponse> script)
      : script_(std::move(script)) {}
  absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    return script_[std::min(requests_.size(), script_.size()) - 1];
  }
  std::vector<outbound::HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  const std::vector<outbound::HttpResponse> script_;
  std::vector<outbound::HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

outbound::HttpResponse Response(int status, std::string body, outbound::HttpHeaders headers = {}) {
  outbound::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

constexpr char kIssueJson[] =
    R"({"id":1,"iid":1,"title":"t","state":"opened","updated_at":"2025-06-04T12:03:07.000Z",)"
    R"("labels":["OKR::abc"],"web_url":"https://gitlab.example.com/a/b/-/issues/1"})";

std::unique_ptr<GitLabClient> ScriptedClient(ScriptedHttpClient& http) {
  GitLabClientOptions options;
  options.base_url = "https://gitlab.example.com/gitlab";
  options.private_token = "glpat-scripted";
  absl::StatusOr<std::unique_ptr<GitLabClient>> client = GitLabClient::Create(http, options);
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

TEST(GitLabClientScriptedTest, BaseUrlWithRelativeRootAndPrivateTokenHeader) {
  ScriptedHttpClient http({Response(200, kIssueJson)});
  ASSERT_TRUE(ScriptedClient(http)->GetIssue("a/b", 1).ok());
  const outbound::HttpRequest request = http.requests().at(0);
  EXPECT_EQ(request.url, "https://gitlab.example.com/gitlab/api/v4/projects/a%2Fb/issues/1");
  EXPECT_THAT(request.headers, Contains(std::make_pair(std::string("PRIVATE-TOKEN"),
                                                       std::string("glpat-scripted"))));
}

TEST(GitLabClientScriptedTest, ForeignNextLink_FallsBackToXNextPageOrFails) {
  const std::string page = absl::StrCat("[", kIssueJson, "]");
  const outbound::HttpHeaders foreign_link = {
      {"link", "<https://evil.example.com/api/v4/projects/a%2Fb/issues?page=2>; rel=\"next\""}};
  {
    outbound::HttpHeaders headers = foreign_link;
    headers.emplace_back("x-next-page", "2");
    ScriptedHttpClient http({Response(200, page, headers), Response(200, "[]")});
    ASSERT_TRUE(ScriptedClient(http)->ListIssuesByLabels("a/b", {"OKR::abc"}).ok());
    ASSERT_THAT(http.requests(), SizeIs(2));
    EXPECT_THAT(http.requests()[1].url,
                StartsWith("https://gitlab.example.com/gitlab/api/v4/projects/a%2Fb/issues?"));
    EXPECT_THAT(http.requests()[1].url, HasSubstr("&page=2"));
  }
  {
    ScriptedHttpClient http({Response(200, page, foreign_link)});
    absl::StatusOr<std::vector<GitLabIssue>> issues =
        ScriptedClient(http)->ListIssuesByLabels("a/b", {"OKR::abc"});
    EXPECT_EQ(issues.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(http.requests(), SizeIs(1));  // The token never went to evil.example.com.
  }
}

TEST(GitLabClientScriptedTest, NonAdvancingPagination_Internal) {
  const std::string page = absl::StrCat("[", kIssueJson, "]");
  ScriptedHttpClient http(
      {Response(200, page,
                {{"link",
                  "<https://gitlab.example.com/gitlab/api/v4/projects/a%2Fb/issues?page=2>; "
                  "rel=\"next\""}})});
  absl::StatusOr<std::vector<GitLabIssue>> issues =
      ScriptedClient(http)->ListIssuesByLabels("a/b", {"OKR::abc"});
  EXPECT_EQ(issues.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(issues.status().message(), HasSubstr("pagination does not advance"));
}

TEST(GitLabClientScriptedTest, Malformed2xxBodies_Internal) {
  const struct {
    const char* body;
    const char* message;
  } kCases[] = {
      {"<html>", "malformed JSON"},
      {"{\"iid\":1}", "response is not a JSON array"},
      {"[{\"iid\":\"1\"}]", "issues[0].iid"},
      {"[{\"iid\":1,\"state\":\"opened\",\"updated_at\":\"soon\"}]", "issues[0].updated_at"},
  };
  for (const auto& c : kCases) {
    ScriptedHttpClient http({Response(200, c.body)});
    absl::StatusOr<std::vector<GitLabIssue>> issues =
        ScriptedClient(http)->ListIssuesByIids("a/b", {1});
    EXPECT_EQ(issues.status().code(), absl::StatusCode::kInternal) << c.body;
    EXPECT_THAT(issues.status().message(), HasSubstr(c.message)) << c.body;
  }
  ScriptedHttpClient http({Response(201, "{\"body\":\"no id\"}")});
  EXPECT_EQ(ScriptedClient(http)->CreateNote("a/b", 1, "x").status().code(),
            absl::StatusCode::kInternal);
}

TEST(GitLabClientScriptedTest, IssuesNotAskedFor_AreDropped) {
  ScriptedHttpClient http({Response(200, absl::StrCat("[", kIssueJson, "]"))});
  absl::StatusOr<std::vector<GitLabIssue>> issues =
      ScriptedClient(http)->ListIssuesByIids("a/b", {2});
  ASSERT_TRUE(issues.ok()) << issues.status();
  EXPECT_TRUE(issues->empty());
}

TEST(GitLabClientCreateTest, RejectsBadOptions) {
  ScriptedHttpClient http({Response(200, "[]")});
  auto create = [&](void (*edit)(GitLabClientOptions&)) {
    GitLabClientOptions options;
    options.base_url = "https://gitlab.example.com";
    options.private_token = "t";
    edit(options);
    return GitLabClient::Create(http, options).status().code();
  };
  EXPECT_EQ(create([](GitLabClientOptions&) {}), absl::StatusCode::kOk);
  for (auto edit : std::vector<void (*)(GitLabClientOptions&)>{
           [](GitLabClientOptions& o) { o.base_url = ""; },
           [](GitLabClientOptions& o) { o.base_url = "gitlab.example.com"; },
           [](GitLabClientOptions& o) { o.base_url = "ftp://gitlab.example.com"; },
           [](GitLabClientOptions& o) { o.base_url = "https://"; },
           [](GitLabClientOptions& o) { o.base_url = "https://u:p@gitlab.example.com"; },
           [](GitLabClientOptions& o) { o.base_url = "https://gitlab.example.com/?x=1"; },
           [](GitLabClientOptions& o) { o.private_token = ""; },
           [](GitLabClientOptions& o) { o.private_token = "a\r\nX-Evil: 1"; },
           [](GitLabClientOptions& o) { o.per_page = 101; },
           [](GitLabClientOptions& o) { o.per_page = 0; },
           [](GitLabClientOptions& o) { o.iids_per_request = 101; },
           [](GitLabClientOptions& o) { o.request_timeout = absl::ZeroDuration(); },
           [](GitLabClientOptions& o) { o.max_pages = 0; },
       }) {
    EXPECT_EQ(create(edit), absl::StatusCode::kInvalidArgument);
  }
}

TEST(GitLabClientScriptedTest, CreateIssue_PostsJsonToEncodedProject_NotIdempotent) {
  ScriptedHttpClient http({Response(201, kIssueJson)});
  std::unique_ptr<GitLabClient> client = ScriptedClient(http);
  absl::StatusOr<GitLabIssue> created =
      client->CreateIssue("a/b", "Key result at risk", "text", {"okr-rule-1", "OKR::x"});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->iid, 1);
  ASSERT_THAT(http.requests(), SizeIs(1));
  const outbound::HttpRequest request = http.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://gitlab.example.com/gitlab/api/v4/projects/a%2Fb/issues");
  EXPECT_FALSE(request.IsIdempotent());
  EXPECT_EQ(nlohmann::json::parse(request.body),
            nlohmann::json::parse(R"({"title":"Key result at risk","description":"text",
                                      "labels":"okr-rule-1,OKR::x"})"));
}

TEST(GitLabClientScriptedTest, CreateIssue_ResponseWithoutIssue_IsInternal) {
  ScriptedHttpClient http({Response(201, R"({"message":"created"})")});
  std::unique_ptr<GitLabClient> client = ScriptedClient(http);
  EXPECT_EQ(client->CreateIssue("a/b", "t", "", {}).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace okr::connectors::gitlab
