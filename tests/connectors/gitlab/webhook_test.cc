#include "connectors/gitlab/webhook.h"

#include <httplib.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"

namespace okr::connectors::gitlab {
namespace {

using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabIssueHook;
using ::okr::testing::FakeGitLabServer;
using ::okr::testing::GitLabHookTimeFormat;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1749038587);  // 2025-06-04T12:03:07Z

// The Issue Hook example of GitLab's webhook documentation (shortened): ISO timestamps in
// object_attributes, "... UTC" ones in `changes`, label objects, `weight: null`.
constexpr char kDocumentedIssueHook[] = R"json({
  "object_kind": "issue",
  "event_type": "issue",
  "user": {"id": 1, "name": "Administrator", "username": "root",
           "avatar_url": "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40\u0026d=identicon",
           "email": "admin@example.com"},
  "project": {"id": 1, "name": "Gitlab Test", "description": "Aut reprehenderit ut est.",
              "web_url": "http://example.com/gitlabhq/gitlab-test", "avatar_url": null,
              "git_ssh_url": "git@example.com:gitlabhq/gitlab-test.git",
              "git_http_url": "http://example.com/gitlabhq/gitlab-test.git",
              "namespace": "GitlabHQ", "visibility_level": 20,
              "path_with_namespace": "gitlabhq/gitlab-test", "default_branch": "master",
              "ci_config_path": null, "homepage": "http://example.com/gitlabhq/gitlab-test",
              "url": "http://example.com/gitlabhq/gitlab-test.git",
              "ssh_url": "git@example.com:gitlabhq/gitlab-test.git",
              "http_url": "http://example.com/gitlabhq/gitlab-test.git"},
  "object_attributes": {
    "id": 301, "title": "New API: create/update/delete file", "assignee_ids": [51],
    "assignee_id": 51, "author_id": 51, "project_id": 14,
    "created_at": "2013-12-03T17:15:43Z", "updated_at": "2013-12-03T17:15:43Z",
    "updated_by_id": 1, "last_edited_at": null, "last_edited_by_id": null,
    "relative_position": 0, "description": "Create new API for manipulations with repository",
    "milestone_id": null, "state_id": 1, "confidential": false, "discussion_locked": true,
    "due_date": null, "moved_to_id": null, "duplicated_to_id": null, "time_estimate": 0,
    "total_time_spent": 0, "time_change": 0, "human_total_time_spent": null,
    "human_time_estimate": null, "human_time_change": null, "weight": null,
    "health_status": "at_risk", "type": "Issue", "iid": 23,
    "url": "http://example.com/diaspora/issues/23", "state": "opened", "action": "open",
    "severity": "high",
    "labels": [{"id": 206, "title": "API", "color": "#ffffff", "project_id": 14,
                "created_at": "2013-12-03T17:15:43Z", "updated_at": "2013-12-03T17:15:43Z",
                "template": false, "description": "API related issues",
                "type": "ProjectLabel", "group_id": 41}]},
  "repository": {"name": "Gitlab Test", "url": "http://example.com/gitlabhq/gitlab-test.git",
                 "description": "Aut reprehenderit ut est.",
                 "homepage": "http://example.com/gitlabhq/gitlab-test"},
  "labels": [{"id": 206, "title": "API", "color": "#ffffff", "project_id": 14,
              "created_at": "2013-12-03T17:15:43Z", "updated_at": "2013-12-03T17:15:43Z",
              "template": false, "description": "API related issues", "type": "ProjectLabel",
              "group_id": 41}],
  "changes": {
    "updated_by_id": {"previous": null, "current": 1},
    "updated_at": {"previous": "2017-09-15 16:50:55 UTC", "current": "2017-09-15 16:52:00 UTC"},
    "labels": {"previous": [{"id": 206, "title": "API", "color": "#ffffff", "project_id": 14,
                             "created_at": "2013-12-03T17:15:43Z",
                             "updated_at": "2013-12-03T17:15:43Z", "template": false,
                             "description": "API related issues", "type": "ProjectLabel",
                             "group_id": 41}],
               "current": [{"id": 205, "title": "Platform", "color": "#123123",
                            "project_id": 14, "created_at": "2013-12-03T17:15:43Z",
                            "updated_at": "2013-12-03T17:15:43Z", "template": false,
                            "description": "Platform related issues", "type": "ProjectLabel",
                            "group_id": 41}]}}
})json";

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// --- VerifyToken ----------------------------------------------------------------------------

TEST(VerifyTokenTest, MatchingToken_Ok) { EXPECT_TRUE(VerifyToken("s3cret", "s3cret").ok()); }

TEST(VerifyTokenTest, WrongToken_Unauthenticated) {
  for (const char* wrong : {"s3creT", "s3cre", "s3cret ", "x", "s3crets3cret"}) {
    absl::Status status = VerifyToken("s3cret", wrong);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << wrong;
    EXPECT_THAT(status.message(), HasSubstr("wrong X-Gitlab-Token"));
    EXPECT_THAT(status.message(), ::testing::Not(HasSubstr("s3cret")));
  }
}

TEST(VerifyTokenTest, MissingHeader_Unauthenticated) {
  absl::Status status = VerifyToken("s3cret", "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("missing X-Gitlab-Token"));
}

TEST(VerifyTokenTest, EmptyExpectedToken_RejectsEverything) {
  for (const char* token : {"", "anything", " "}) {
    absl::Status status = VerifyToken("", token);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << token;
    EXPECT_THAT(status.message(), HasSubstr("no GitLab webhook token is configured"));
  }
}

TEST(IsIssueHookEventTest, IssueAndConfidentialIssueHooksOnly) {
  EXPECT_TRUE(IsIssueHookEvent("Issue Hook"));
  EXPECT_TRUE(IsIssueHookEvent("Confidential Issue Hook"));
  EXPECT_FALSE(IsIssueHookEvent("Note Hook"));
  EXPECT_FALSE(IsIssueHookEvent("issue hook"));
  EXPECT_FALSE(IsIssueHookEvent(""));
}

// --- ParseGitLabTime ------------------------------------------------------------------------

TEST(ParseGitLabTimeTest, AcceptsEveryFormGitLabEmits) {
  const absl::Time t = Utc(2017, 9, 15, 16, 50, 55);
  const struct {
    const char* text;
    absl::Time want;
  } kCases[] = {
      {"2017-09-15T16:50:55Z", t},
      {"2017-09-15 16:50:55 UTC", t},
      {"2017-09-15T16:50:55.996Z", t + absl::Milliseconds(996)},
      {"2017-09-15T18:50:55+02:00", t},
      {"2017-09-15T18:50:55+0200", t},
      {"2017-09-15T11:50:55.5-05:00", t + absl::Milliseconds(500)},
      {"2017-09-15 18:50:55 +0200", t},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<absl::Time> got = ParseGitLabTime(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseGitLabTimeTest, RejectsAnythingElse) {
  for (const char* text : {"", "2017-09-15", "2017-09-15T16:50:55", "2017-09-15 16:50:55",
                           " 2017-09-15T16:50:55Z", "2017-09-15T16:50:55Z ", "yesterday",
                           "2017-09-15T16:50:55Zjunk", "1505494255", "2017-13-15T16:50:55Z"}) {
    EXPECT_EQ(ParseGitLabTime(text).status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << text << "'";
  }
}

// --- Work item keys -------------------------------------------------------------------------

TEST(WorkItemKeyTest, RoundTripsIncludingSubgroups) {
  for (const auto& [path, iid] :
       std::vector<std::pair<std::string, int64_t>>{{"group/project", 7},
                                                    {"acme/sub/checkout", 1},
                                                    {"a/b/c/d/e.f-g_h", 9223372036854775807}}) {
    const std::string key = WorkItemKey(path, iid);
    absl::StatusOr<std::pair<std::string, int64_t>> parsed = ParseWorkItemKey(key);
    ASSERT_TRUE(parsed.ok()) << key << ": " << parsed.status();
    EXPECT_EQ(parsed->first, path);
    EXPECT_EQ(parsed->second, iid);
  }
  EXPECT_EQ(WorkItemKey("group/project", 7), "group/project#7");
}

TEST(WorkItemKeyTest, InvalidKeys_InvalidArgument) {
  for (const char* key :
       {"", "#7", "project#7", "group/project", "group/project#", "group/project#0",
        "group/project#-1", "group/project#+7", "group/project#07", "group/project#7a",
        "/group/project#7", "group/project/#7", "group//project#7", "group/../project#7",
        "group/pro ject#7", "group/project#99999999999999999999", "gr%2Foup/project#7"}) {
    EXPECT_EQ(ParseWorkItemKey(key).status().code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(ParseWorkItemKey(std::string(600, 'a') + "/b#1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- ParseIssueHook -------------------------------------------------------------------------

TEST(ParseIssueHookTest, ProjectDoneRule_AppliesToHooks) {
  GitLabDoneMapping mapping;
  mapping.by_project["gitlabhq/gitlab-test"] = GitLabDoneRule{{}, {"API"}};
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(kDocumentedIssueHook, mapping);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->state, "opened");
  EXPECT_TRUE(event->done);  // carries the "API" label
  EXPECT_TRUE(ToWorkItem(*event).done);
  mapping.by_project["gitlabhq/gitlab-test"] = GitLabDoneRule{{}, {"api"}};
  EXPECT_FALSE(ParseIssueHook(kDocumentedIssueHook, mapping)->done);  // labels match exactly
}

TEST(ParseIssueHookTest, DocumentedPayload_MapsEveryField) {
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(kDocumentedIssueHook);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(event->is_issue);
  EXPECT_EQ(event->object_kind, "issue");
  EXPECT_EQ(event->event_type, "issue");
  EXPECT_FALSE(event->confidential);
  EXPECT_EQ(event->project_id, 1);
  EXPECT_EQ(event->project_path, "gitlabhq/gitlab-test");
  EXPECT_EQ(event->iid, 23);
  EXPECT_EQ(event->id, 301);
  EXPECT_EQ(event->title, "New API: create/update/delete file");
  EXPECT_EQ(event->state, "opened");
  EXPECT_FALSE(event->done);
  EXPECT_EQ(event->weight, std::nullopt);
  EXPECT_THAT(event->labels, ElementsAre("API"));
  EXPECT_EQ(event->url, "http://example.com/diaspora/issues/23");
  EXPECT_EQ(event->updated_at, Utc(2013, 12, 3, 17, 15, 43));
  EXPECT_EQ(event->action, "open");

  const okr::WorkItem item = ToWorkItem(*event);
  EXPECT_EQ(item.tracker, okr::Tracker::kGitLab);
  EXPECT_EQ(item.key, "gitlabhq/gitlab-test#23");
  EXPECT_EQ(item.weight, 1.0);
  EXPECT_EQ(item.update_time, Utc(2013, 12, 3, 17, 15, 43));
  EXPECT_EQ(item.source_updated, Utc(2013, 12, 3, 17, 15, 43));
  EXPECT_EQ(item.external_id, "301");
}

// Hooks built by the fake from real state transitions, in each timestamp style.
class ParseFakeHookTest : public ::testing::TestWithParam<GitLabHookTimeFormat> {
 protected:
  void SetUp() override {
    okr::testing::FakeGitLabOptions options;
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject("acme/sub/checkout");
    FakeGitLabIssue issue;
    issue.iid = 7;
    issue.title = "Checkout p95 < 800 ms";
    issue.weight = 3;
    issue.labels = {"OKR::abc", "team::payments"};
    ASSERT_TRUE(fake_->AddIssue("acme/sub/checkout", issue).ok());
  }

  okr::testing::FakeClock clock_{kNow};
  std::unique_ptr<FakeGitLabServer> fake_;
};

TEST_P(ParseFakeHookTest, CloseThenReopen_DoneFollowsStateAndUpdatedAtAdvances) {
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<FakeGitLabIssueHook> close = fake_->CloseIssue("acme/sub/checkout", 7, GetParam());
  ASSERT_TRUE(close.ok()) << close.status();
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<FakeGitLabIssueHook> reopen =
      fake_->ReopenIssue("acme/sub/checkout", 7, GetParam());
  ASSERT_TRUE(reopen.ok()) << reopen.status();

  absl::StatusOr<GitLabIssueEvent> closed = ParseIssueHook(close->Serialize());
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_TRUE(closed->is_issue);
  EXPECT_EQ(closed->action, "close");
  EXPECT_EQ(closed->state, "closed");
  EXPECT_TRUE(closed->done);
  EXPECT_EQ(closed->updated_at, kNow + absl::Minutes(1));
  EXPECT_EQ(closed->project_path, "acme/sub/checkout");
  EXPECT_EQ(closed->iid, 7);
  EXPECT_EQ(closed->weight, 3.0);
  EXPECT_THAT(closed->labels, ElementsAre("OKR::abc", "team::payments"));

  absl::StatusOr<GitLabIssueEvent> reopened = ParseIssueHook(reopen->Serialize());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->action, "reopen");
  EXPECT_FALSE(reopened->done);
  EXPECT_EQ(reopened->updated_at, kNow + absl::Minutes(2));
  // Delivered out of order, the reopen still wins by updated_at.
  EXPECT_GT(reopened->updated_at, closed->updated_at);
}

TEST_P(ParseFakeHookTest, Update_LabelsWeightAndTitle) {
  clock_.Advance(absl::Seconds(30));
  absl::StatusOr<FakeGitLabIssueHook> hook = fake_->EditIssue(
      "acme/sub/checkout", 7,
      [](FakeGitLabIssue& issue) {
        issue.title = "Checkout p95 < 700 ms";
        issue.weight = 5;
        issue.labels.push_back("OKR::def");
      },
      GetParam());
  ASSERT_TRUE(hook.ok()) << hook.status();
  ASSERT_TRUE(hook->body["changes"].contains("labels"));
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(hook->Serialize());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->action, "update");
  EXPECT_EQ(event->title, "Checkout p95 < 700 ms");
  EXPECT_EQ(event->weight, 5.0);
  EXPECT_THAT(event->labels, ElementsAre("OKR::abc", "OKR::def", "team::payments"));
  EXPECT_EQ(event->updated_at, kNow + absl::Seconds(30));
}

INSTANTIATE_TEST_SUITE_P(AllTimestampStyles, ParseFakeHookTest,
                         ::testing::Values(GitLabHookTimeFormat::kIso8601,
                                           GitLabHookTimeFormat::kUtcSuffix,
                                           GitLabHookTimeFormat::kMixed));

TEST(ParseIssueHookTest, ConfidentialIssue_ParsedAsIssue) {
  nlohmann::json body = nlohmann::json::parse(kDocumentedIssueHook);
  body["event_type"] = "confidential_issue";
  body["object_attributes"]["confidential"] = true;
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(body.dump());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(event->is_issue);
  EXPECT_TRUE(event->confidential);
  EXPECT_EQ(event->event_type, "confidential_issue");
}

TEST(ParseIssueHookTest, ClosedWithWeightInUtcSuffixFormat) {
  nlohmann::json body = nlohmann::json::parse(kDocumentedIssueHook);
  body["object_attributes"]["state"] = "closed";
  body["object_attributes"]["action"] = "close";
  body["object_attributes"]["weight"] = 8;
  body["object_attributes"]["updated_at"] = "2017-09-15 16:52:00 UTC";
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(body.dump());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(event->done);
  EXPECT_EQ(event->weight, 8.0);
  EXPECT_EQ(event->updated_at, Utc(2017, 9, 15, 16, 52, 0));
  EXPECT_EQ(ToWorkItem(*event).weight, 8.0);
}

TEST(ParseIssueHookTest, WeightOddities_MeanNoWeight) {
  for (const nlohmann::json& weight : {nlohmann::json(nullptr), nlohmann::json("3"),
                                       nlohmann::json(-1), nlohmann::json::object()}) {
    nlohmann::json body = nlohmann::json::parse(kDocumentedIssueHook);
    body["object_attributes"]["weight"] = weight;
    absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(body.dump());
    ASSERT_TRUE(event.ok()) << weight << ": " << event.status();
    EXPECT_EQ(event->weight, std::nullopt) << weight;
  }
  nlohmann::json zero = nlohmann::json::parse(kDocumentedIssueHook);
  zero["object_attributes"]["weight"] = 0;
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(zero.dump());
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(ToWorkItem(*event).weight, 0.0);
}

TEST(ParseIssueHookTest, LabelsFromTopLevelWhenObjectAttributesLackThem) {
  nlohmann::json body = nlohmann::json::parse(kDocumentedIssueHook);
  body["object_attributes"].erase("labels");
  body["labels"].push_back({{"id", 1}, {"title", "OKR::abc"}});
  body["labels"].push_back(42);  // Garbage entries are skipped.
  absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(body.dump());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_THAT(event->labels, ElementsAre("API", "OKR::abc"));
}

TEST(ParseIssueHookTest, OtherObjectKinds_AreNotIssuesAndNotErrors) {
  absl::StatusOr<GitLabIssueEvent> note =
      ParseIssueHook(R"({"object_kind":"note","object_attributes":{"id":5}})");
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_FALSE(note->is_issue);
  EXPECT_EQ(note->object_kind, "note");

  nlohmann::json task = nlohmann::json::parse(kDocumentedIssueHook);
  task["object_kind"] = "work_item";
  task["object_attributes"]["type"] = "Task";
  absl::StatusOr<GitLabIssueEvent> work_item = ParseIssueHook(task.dump());
  ASSERT_TRUE(work_item.ok()) << work_item.status();
  EXPECT_FALSE(work_item->is_issue);
  EXPECT_EQ(work_item->iid, 23);

  task["object_attributes"].erase("iid");
  absl::StatusOr<GitLabIssueEvent> broken_work_item = ParseIssueHook(task.dump());
  ASSERT_TRUE(broken_work_item.ok()) << broken_work_item.status();
  EXPECT_FALSE(broken_work_item->is_issue);
}

TEST(ParseIssueHookTest, MalformedOrIncomplete_InvalidArgumentNamingTheField) {
  auto without = [](const std::string& object, const std::string& field) {
    nlohmann::json body = nlohmann::json::parse(kDocumentedIssueHook);
    if (object.empty()) {
      body.erase(field);
    } else {
      body[object].erase(field);
    }
    return body.dump();
  };
  auto with = [](const std::string& object, const std::string& field, nlohmann::json value) {
    nlohmann::json body = nlohmann::json::parse(kDocumentedIssueHook);
    body[object][field] = std::move(value);
    return body.dump();
  };
  const struct {
    std::string body;
    const char* field;
  } kCases[] = {
      {"", "body"},
      {"{", "body"},
      {"{\"object_kind\": \"issue\",}", "body"},
      {"[1, 2]", "body is not a JSON object"},
      {"\"issue\"", "body is not a JSON object"},
      {std::string(100, '[') + std::string(100, ']'), "body"},
      {R"({"object_kind": 7})", "object_kind"},
      {without("", "object_kind"), "object_kind"},
      {without("", "object_attributes"), "object_attributes"},
      {without("object_attributes", "iid"), "object_attributes.iid"},
      {with("object_attributes", "iid", "23"), "object_attributes.iid"},
      {with("object_attributes", "iid", 0), "object_attributes.iid"},
      {with("object_attributes", "iid", 1.5), "object_attributes.iid"},
      {with("object_attributes", "iid", 18446744073709551615u), "object_attributes.iid"},
      {without("object_attributes", "state"), "object_attributes.state"},
      {without("object_attributes", "updated_at"), "object_attributes.updated_at"},
      {with("object_attributes", "updated_at", "last tuesday"), "object_attributes.updated_at"},
      {with("object_attributes", "updated_at", 1386090943), "object_attributes.updated_at"},
      {without("", "project"), "project"},
      {without("project", "path_with_namespace"), "project.path_with_namespace"},
      {with("project", "path_with_namespace", nullptr), "project.path_with_namespace"},
      {with("project", "path_with_namespace", "no-namespace"), "project.path_with_namespace"},
      {with("project", "path_with_namespace", "a/../b"), "project.path_with_namespace"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(c.body);
    EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument) << c.body.substr(0, 80);
    EXPECT_THAT(event.status().message(), HasSubstr(c.field)) << c.body.substr(0, 80);
  }
}

TEST(ParseIssueHookTest, OversizedBody_InvalidArgument) {
  const std::string body(kMaxWebhookBodyBytes + 1, ' ');
  EXPECT_EQ(ParseIssueHook(body).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- DedupeKey ------------------------------------------------------------------------------

TEST(DedupeKeyTest, IdempotencyKeyHeaderWins) {
  EXPECT_EQ(DedupeKey("6b6d32a5-4b9f-4a34-9d3c-3e1c1b8f2f7a", "{}"),
            "6b6d32a5-4b9f-4a34-9d3c-3e1c1b8f2f7a");
  EXPECT_EQ(DedupeKey("  key-1 ", "{\"a\":1}"), "key-1");
  EXPECT_EQ(DedupeKey("key-1", "{\"a\":1}"), DedupeKey("key-1", "{\"a\":2}"));
}

TEST(DedupeKeyTest, WithoutHeader_HexSha256OfBody) {
  // sha256("") and sha256("abc").
  EXPECT_EQ(DedupeKey("", ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(DedupeKey("", "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(DedupeKey("   ", "abc"), DedupeKey("", "abc"));
  EXPECT_NE(DedupeKey("", "abc"), DedupeKey("", "abd"));
}

TEST(DedupeKeyTest, OversizedOrControlCharacterHeader_IsHashed) {
  const std::string long_key(kMaxIdempotencyKeyBytes + 1, 'k');
  EXPECT_EQ(DedupeKey(long_key, "body1"), DedupeKey(long_key, "body2"));
  EXPECT_EQ(DedupeKey(long_key, "body1").size(), 64u);
  EXPECT_EQ(DedupeKey("a\x01"
                      "b",
                      "x")
                .size(),
            64u);
}

// --- End to end: the fake's deliveries through verify, parse and dedupe ---------------------

// A receiver that does what the inbound handler will: verify, parse, dedupe, keep the newest.
class Receiver {
 public:
  struct Applied {
    std::string key;
    bool done;
    absl::Time updated_at;
  };

  explicit Receiver(std::string token) : token_(std::move(token)) {
    server_.Post("/hooks/gitlab", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      if (!VerifyToken(token_, req.get_header_value("X-Gitlab-Token")).ok()) {
        res.status = 401;
        return;
      }
      res.status = 200;  // Always 2xx once authenticated: GitLab disables failing hooks.
      if (!IsIssueHookEvent(req.get_header_value("X-Gitlab-Event"))) return;
      if (!seen_.insert(DedupeKey(req.get_header_value("Idempotency-Key"), req.body)).second) {
        ++duplicates_;
        return;
      }
      absl::StatusOr<GitLabIssueEvent> event = ParseIssueHook(req.body);
      if (!event.ok() || !event->is_issue) {
        ++rejected_;
        return;
      }
      const okr::WorkItem item = ToWorkItem(*event);
      auto it = state_.find(item.key);
      if (it != state_.end() && it->second.updated_at >= item.source_updated) {
        ++stale_;
        return;
      }
      state_[item.key] = {item.key, item.done, item.source_updated};
    });
  }
  ~Receiver() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  ::testing::AssertionResult Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return ::testing::AssertionFailure() << "bind failed";
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!server_.is_running()) {
      if (absl::Now() > deadline) return ::testing::AssertionFailure() << "not running";
      std::this_thread::yield();
    }
    return ::testing::AssertionSuccess();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hooks/gitlab"); }

  absl::Mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Applied> state_ ABSL_GUARDED_BY(mu_);
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int stale_ ABSL_GUARDED_BY(mu_) = 0;
  int rejected_ ABSL_GUARDED_BY(mu_) = 0;

 private:
  const std::string token_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST(WebhookDeliveryTest, DuplicatedDroppedAndReorderedDeliveries_ConvergeOnNewestState) {
  okr::testing::FakeClock clock(kNow);
  okr::testing::FakeGitLabOptions options;
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
  ASSERT_TRUE(fake.ok()) << fake.status();
  (*fake)->AddProject("acme/checkout");
  Receiver receiver("hook-secret");
  ASSERT_TRUE(receiver.Start());

  FakeGitLabIssue issue;
  issue.iid = 1;
  absl::StatusOr<FakeGitLabIssueHook> open = (*fake)->OpenIssue("acme/checkout", issue);
  clock.Advance(absl::Minutes(1));
  absl::StatusOr<FakeGitLabIssueHook> close =
      (*fake)->CloseIssue("acme/checkout", 1, GitLabHookTimeFormat::kUtcSuffix);
  clock.Advance(absl::Minutes(1));
  absl::StatusOr<FakeGitLabIssueHook> reopen = (*fake)->ReopenIssue("acme/checkout", 1);
  clock.Advance(absl::Minutes(1));
  absl::StatusOr<FakeGitLabIssueHook> close_again =
      (*fake)->CloseIssue("acme/checkout", 1, GitLabHookTimeFormat::kMixed);
  ASSERT_TRUE(open.ok() && close.ok() && reopen.ok() && close_again.ok());

  // Newest first, a retry of it, then the older ones; `reopen` is dropped entirely.
  for (const FakeGitLabIssueHook* hook : {&*close_again, &*close_again, &*open, &*close}) {
    absl::StatusOr<int> status = okr::testing::SendIssueHook(receiver.url(), "hook-secret", *hook);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(*status, 200);
  }
  // Without the right token nothing is applied.
  absl::StatusOr<int> forged = okr::testing::SendIssueHook(receiver.url(), "guess", *reopen);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(*forged, 401);
  // A GitLab older than 17.4 sends no Idempotency-Key: the body hash still dedupes.
  ASSERT_TRUE(
      okr::testing::SendIssueHook(receiver.url(), "hook-secret", open->Serialize(), "").ok());
  ASSERT_TRUE(
      okr::testing::SendIssueHook(receiver.url(), "hook-secret", open->Serialize(), "").ok());

  absl::MutexLock lock(&receiver.mu_);
  EXPECT_EQ(receiver.duplicates_, 2);
  EXPECT_EQ(receiver.stale_, 3);  // open, close, and the header-less open.
  EXPECT_EQ(receiver.rejected_, 0);
  ASSERT_EQ(receiver.state_.size(), 1u);
  const Receiver::Applied& applied = receiver.state_.at("acme/checkout#1");
  EXPECT_TRUE(applied.done);
  EXPECT_EQ(applied.updated_at, kNow + absl::Minutes(3));
}

}  // namespace
}  // namespace okr::connectors::gitlab
