#include "connectors/jira/webhook.h"

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/outbound/local_http_server.h"
#include "tests/testing/fake_jira/webhook_sender.h"

namespace okr::connectors::jira {
namespace {

using ::okr::outbound::testing::LocalHttpServer;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::WebhookDelivery;
using ::okr::testing::WebhookEventOptions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const JiraFieldConfig kConfig{"customfield_10016"};
constexpr char kSecret[] = "It's a Secret to Everybody";

// ---- VerifySignature ------------------------------------------------------------------------

TEST(VerifySignatureTest, Rfc4231Vector_Matches) {
  // RFC 4231 test case 2.
  EXPECT_TRUE(
      VerifySignature("Jefe", "what do ya want for nothing?",
                      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
          .ok());
  EXPECT_EQ(ComputeSignature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(VerifySignatureTest, SignatureOfBody_IsAccepted) {
  const std::string body = R"({"webhookEvent":"jira:issue_updated"})";
  EXPECT_TRUE(VerifySignature(kSecret, body, okr::testing::SignJiraWebhook(kSecret, body)).ok());
}

TEST(VerifySignatureTest, UppercaseHexAndSurroundingSpace_AreAccepted) {
  std::string header = okr::testing::SignJiraWebhook(kSecret, "body");
  for (size_t i = 7; i < header.size(); ++i) header[i] = absl::ascii_toupper(header[i]);
  EXPECT_TRUE(VerifySignature(kSecret, "body", absl::StrCat("  ", header, " ")).ok());
  EXPECT_TRUE(VerifySignature(kSecret, "body", absl::StrCat("SHA256", header.substr(6))).ok());
}

struct BadSignatureCase {
  std::string name;
  std::string header;
  std::string message;
};

void PrintTo(const BadSignatureCase& c, std::ostream* os) { *os << c.name; }

class BadSignatureTest : public ::testing::TestWithParam<BadSignatureCase> {};

TEST_P(BadSignatureTest, IsUnauthenticated) {
  absl::Status status = VerifySignature(kSecret, "body", GetParam().header);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr(GetParam().message));
  // Never reveal the expected digest.
  EXPECT_THAT(std::string(status.message()),
              ::testing::Not(HasSubstr(okr::testing::SignJiraWebhook(kSecret, "body").substr(7))));
}

std::string FlipLastDigit(std::string signature) {
  signature.back() = signature.back() == '0' ? '1' : '0';
  return signature;
}

INSTANTIATE_TEST_SUITE_P(
    Headers, BadSignatureTest,
    ::testing::Values(
        BadSignatureCase{"Missing", "", "missing X-Hub-Signature"},
        BadSignatureCase{"Blank", "   ", "missing X-Hub-Signature"},
        BadSignatureCase{"WrongDigest",
                         FlipLastDigit(okr::testing::SignJiraWebhook(kSecret, "body")),
                         "does not match"},
        BadSignatureCase{"WrongSecret", okr::testing::SignJiraWebhook("other secret", "body"),
                         "does not match"},
        BadSignatureCase{"OtherBody", okr::testing::SignJiraWebhook(kSecret, "body "),
                         "does not match"},
        BadSignatureCase{"Sha1", "sha1=0123456789abcdef0123456789abcdef01234567",
                         "must be sha256="},
        BadSignatureCase{"NoMethod", okr::testing::SignJiraWebhook(kSecret, "body").substr(7),
                         "must be sha256="},
        BadSignatureCase{"Bearer", "Bearer abc", "must be sha256="},
        BadSignatureCase{"ShortHex", okr::testing::SignJiraWebhook(kSecret, "body").substr(0, 70),
                         "64-digit hex"},
        BadSignatureCase{"NonHex", std::string("sha256=") + std::string(64, 'g'), "64-digit hex"},
        BadSignatureCase{"EmptyDigest", "sha256=", "64-digit hex"}),
    [](const ::testing::TestParamInfo<BadSignatureCase>& info) { return info.param.name; });

TEST(VerifySignatureTest, NoSecretConfigured_IsFailedPrecondition) {
  EXPECT_EQ(VerifySignature("", "body", okr::testing::SignJiraWebhook("", "body")).code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---- ParseWebhook ---------------------------------------------------------------------------

FakeJiraIssue ClosedIssue() {
  FakeJiraIssue issue;
  issue.id = "10021";
  issue.key = "OKRX-21";
  issue.summary = "Checkout p95 under 800 ms";
  issue.status_category = "done";
  issue.story_points = 5;
  issue.updated = absl::FromUnixMillis(1749031387381);
  return issue;
}

WebhookEventOptions TransitionFrom(const std::string& category) {
  WebhookEventOptions options;
  options.status_from = category;
  return options;
}

std::string Body(const nlohmann::json& event) { return event.dump(); }

// A literal Jira Cloud jira:issue_updated body (a transition to Done), shaped like public
// captures: v2 self URLs, no /issue/ segment, many null custom fields, ms offsets "+0200".
constexpr char kCapturedClose[] = R"({
  "timestamp": 1749031387500,
  "webhookEvent": "jira:issue_updated",
  "issue_event_type_name": "issue_generic",
  "user": {
    "self": "https://acme.atlassian.net/rest/api/2/user?accountId=557058%3Af58131cb",
    "accountId": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
    "avatarUrls": {"48x48": "https://secure.gravatar.com/avatar/x?d=mm"},
    "displayName": "Ada Lovelace", "active": true, "timeZone": "Europe/Berlin",
    "accountType": "atlassian"
  },
  "issue": {
    "id": "10021",
    "self": "https://acme.atlassian.net/rest/api/2/10021",
    "key": "OKRX-21",
    "fields": {
      "statuscategorychangedate": "2025-06-04T12:03:07.381+0200",
      "issuetype": {"id": "10001", "name": "Story", "subtask": false, "hierarchyLevel": 0},
      "customfield_10030": null,
      "project": {"id": "10000", "key": "OKRX", "name": "OKR pilot",
                  "projectTypeKey": "software", "simplified": true},
      "resolution": null,
      "resolutiondate": null,
      "customfield_10016": 3.0,
      "labels": ["okr"],
      "updated": "2025-06-04T12:03:07.381+0200",
      "created": "2025-06-01T09:00:00.000+0200",
      "description": "Plain string in v2 bodies",
      "summary": "Checkout p95 under 800 ms",
      "status": {
        "self": "https://acme.atlassian.net/rest/api/2/status/10001",
        "description": "", "iconUrl": "https://acme.atlassian.net/", "name": "Done",
        "id": "10001",
        "statusCategory": {"self": "https://acme.atlassian.net/rest/api/2/statuscategory/3",
                           "id": 3, "key": "done", "colorName": "green", "name": "Done"}
      }
    }
  },
  "changelog": {
    "id": "10150",
    "items": [
      {"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "from": null,
       "fromString": null, "to": "10000", "toString": "Done"},
      {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "3",
       "fromString": "In Progress", "to": "10001", "toString": "Done"}
    ]
  }
})";

TEST(ParseWebhookTest, CapturedCloseBody_IsDoneWithStatusChange) {
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(kCapturedClose, kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, JiraWebhookEvent::Kind::kIssueUpdated);
  EXPECT_EQ(event->webhook_event, "jira:issue_updated");
  EXPECT_EQ(event->issue_event_type_name, "issue_generic");
  EXPECT_EQ(event->timestamp_ms, 1749031387500);
  EXPECT_EQ(event->issue_id, "10021");
  EXPECT_EQ(event->issue_key, "OKRX-21");
  EXPECT_EQ(event->summary, "Checkout p95 under 800 ms");
  EXPECT_EQ(event->status_category_key, "done");
  EXPECT_TRUE(event->done);
  EXPECT_EQ(event->story_points, 3.0);
  EXPECT_EQ(event->issue_updated, absl::FromUnixMillis(1749031387381));
  EXPECT_TRUE(event->status_changed);
}

TEST(ParseWebhookTest, Close_FromBuiltEvent) {
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(
      Body(okr::testing::IssueUpdatedEvent(ClosedIssue(), TransitionFrom("indeterminate"))),
      kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, JiraWebhookEvent::Kind::kIssueUpdated);
  EXPECT_TRUE(event->done);
  EXPECT_TRUE(event->status_changed);
  EXPECT_EQ(event->story_points, 5.0);
  EXPECT_EQ(event->issue_updated, absl::FromUnixMillis(1749031387381));

  okr::WorkItem item = ToWorkItem(ToJiraIssue(*event), "https://acme.atlassian.net");
  EXPECT_EQ(item.key, "OKRX-21");
  EXPECT_EQ(item.url, "https://acme.atlassian.net/browse/OKRX-21");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 5.0);
}

TEST(ParseWebhookTest, ClosedAsWontDo_CarriesResolutionAndExclusion) {
  FakeJiraIssue cancelled = ClosedIssue();
  cancelled.status_name = "Closed";
  cancelled.resolution = "Won't Do";
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(
      Body(okr::testing::IssueUpdatedEvent(cancelled, TransitionFrom("indeterminate"))), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status_name, "Closed");
  EXPECT_EQ(event->resolution_name, "Won't Do");
  EXPECT_EQ(event->exclusion, "Won't Do");
  okr::WorkItem item = ToWorkItem(ToJiraIssue(*event), "https://acme.atlassian.net");
  EXPECT_EQ(item.exclusion, "Won't Do");
  EXPECT_EQ(item.status, "Closed");
  EXPECT_TRUE(item.excluded());
}

TEST(ParseWebhookTest, CreditedStatus_CarriesPartialCredit) {
  JiraFieldConfig config = kConfig;
  config.done_by_project["OKRX"].credit = {{"In Review", 0.5}};
  FakeJiraIssue review = ClosedIssue();
  review.status_category = "indeterminate";
  review.status_name = "In Review";
  absl::StatusOr<JiraWebhookEvent> event =
      ParseWebhook(Body(okr::testing::IssueUpdatedEvent(review, TransitionFrom("new"))), config);
  ASSERT_TRUE(event.ok()) << event.status();
  okr::WorkItem item = ToWorkItem(ToJiraIssue(*event), "https://acme.atlassian.net");
  EXPECT_FALSE(item.done);
  EXPECT_DOUBLE_EQ(item.partial_credit, 0.5);
  EXPECT_EQ(item.status, "In Review");
}

TEST(ParseWebhookTest, Reopen_IsNotDoneWithStatusChange) {
  FakeJiraIssue reopened = ClosedIssue();
  reopened.status_category = "new";
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(
      Body(okr::testing::IssueUpdatedEvent(reopened, TransitionFrom("done"))), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status_category_key, "new");
  EXPECT_FALSE(event->done);
  EXPECT_TRUE(event->status_changed);
}

TEST(ParseWebhookTest, SummaryEdit_HasNoStatusChange) {
  WebhookEventOptions options;
  options.summary_from = "Old summary";
  options.issue_event_type_name = "issue_updated";
  absl::StatusOr<JiraWebhookEvent> event =
      ParseWebhook(Body(okr::testing::IssueUpdatedEvent(ClosedIssue(), options)), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_FALSE(event->status_changed);
  EXPECT_TRUE(event->done);  // Current state still comes from the issue.
}

TEST(ParseWebhookTest, DataCenterChangelogWithoutFieldId_MatchesFieldCaseInsensitively) {
  WebhookEventOptions options = TransitionFrom("indeterminate");
  options.omit_field_ids = true;  // field "Status", no fieldId
  absl::StatusOr<JiraWebhookEvent> event =
      ParseWebhook(Body(okr::testing::IssueUpdatedEvent(ClosedIssue(), options)), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(event->status_changed);
}

TEST(ParseWebhookTest, FieldIdWins_OverDisplayName) {
  nlohmann::json body = okr::testing::IssueUpdatedEvent(ClosedIssue(), {});
  body["changelog"]["items"] = {{{"field", "Status"}, {"fieldId", "customfield_10040"}}};
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(Body(body), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_FALSE(event->status_changed);
}

TEST(ParseWebhookTest, Created_IsParsed) {
  FakeJiraIssue issue = ClosedIssue();
  issue.status_category = "new";
  absl::StatusOr<JiraWebhookEvent> event =
      ParseWebhook(Body(okr::testing::IssueCreatedEvent(issue, {})), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, JiraWebhookEvent::Kind::kIssueCreated);
  EXPECT_FALSE(event->done);
}

TEST(ParseWebhookTest, Delete_IsParsedWithoutChangelogOrEventTypeName) {
  nlohmann::json body = okr::testing::IssueDeletedEvent(ClosedIssue(), {});
  ASSERT_FALSE(body.contains("changelog"));
  ASSERT_FALSE(body.contains("issue_event_type_name"));
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(Body(body), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, JiraWebhookEvent::Kind::kIssueDeleted);
  EXPECT_EQ(event->issue_id, "10021");
  EXPECT_EQ(event->issue_key, "OKRX-21");
  EXPECT_EQ(event->timestamp_ms, 1749031387500);
  EXPECT_FALSE(event->status_changed);
}

TEST(ParseWebhookTest, DeleteWithOnlyIdAndKey_IsAccepted) {
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(
      R"({"timestamp":1,"webhookEvent":"jira:issue_deleted","issue":{"id":"7","key":"A-1"}})",
      kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->issue_id, "7");
  EXPECT_EQ(event->issue_updated, absl::InfinitePast());
}

TEST(ParseWebhookTest, StoryPoints_FromConfiguredField) {
  nlohmann::json body = okr::testing::IssueUpdatedEvent(ClosedIssue(), {});
  body["issue"]["fields"]["customfield_10016"] = 2;
  body["issue"]["fields"]["customfield_10099"] = 13;
  absl::StatusOr<JiraWebhookEvent> event =
      ParseWebhook(Body(body), JiraFieldConfig{"customfield_10099"});
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->story_points, 13.0);
  event = ParseWebhook(Body(body), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->story_points, 2.0);
  body["issue"]["fields"]["customfield_10016"] = nullptr;
  event = ParseWebhook(Body(body), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->story_points, std::nullopt);
}

struct BadBodyCase {
  std::string name;
  std::function<std::string()> body;
  std::string message;
};

void PrintTo(const BadBodyCase& c, std::ostream* os) { *os << c.name; }

class BadBodyTest : public ::testing::TestWithParam<BadBodyCase> {};

TEST_P(BadBodyTest, IsInvalidArgumentNamingTheProblem) {
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(GetParam().body(), kConfig);
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr(GetParam().message));
}

std::string Without(const std::function<void(nlohmann::json&)>& mutate) {
  nlohmann::json body = okr::testing::IssueUpdatedEvent(ClosedIssue(), TransitionFrom("new"));
  mutate(body);
  return body.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, BadBodyTest,
    ::testing::Values(
        BadBodyCase{"Garbage", [] { return std::string("{\"webhookEvent\": jira"); },
                    "not valid JSON"},
        BadBodyCase{"Empty", [] { return std::string(); }, "not valid JSON"},
        BadBodyCase{"Binary", [] { return std::string("\xff\xfe\x00\x01", 4); }, "not valid JSON"},
        BadBodyCase{"Array", [] { return std::string("[1,2]"); }, "not an object"},
        BadBodyCase{"DeepNesting", [] { return std::string(100000, '['); }, "nests deeper"},
        BadBodyCase{"TooLarge",
                    [] {
                      return absl::StrCat(R"({"webhookEvent":"x","pad":")",
                                          std::string(kMaxWebhookBodyBytes, 'a'), "\"}");
                    },
                    "exceeds the limit"},
        BadBodyCase{"NoWebhookEvent",
                    [] { return Without([](auto& b) { b.erase("webhookEvent"); }); },
                    "webhookEvent"},
        BadBodyCase{"NoTimestamp", [] { return Without([](auto& b) { b.erase("timestamp"); }); },
                    "timestamp"},
        BadBodyCase{"StringTimestamp",
                    [] { return Without([](auto& b) { b["timestamp"] = "1749031387500"; }); },
                    "timestamp"},
        BadBodyCase{"NoIssue", [] { return Without([](auto& b) { b.erase("issue"); }); },
                    "field issue"},
        BadBodyCase{"NoIssueId", [] { return Without([](auto& b) { b["issue"].erase("id"); }); },
                    "issue.id"},
        BadBodyCase{"NoIssueKey", [] { return Without([](auto& b) { b["issue"].erase("key"); }); },
                    "issue.key"},
        BadBodyCase{"NoStatusCategory",
                    [] {
                      return Without(
                          [](auto& b) { b["issue"]["fields"]["status"].erase("statusCategory"); });
                    },
                    "issue.fields.status.statusCategory.key"},
        BadBodyCase{
            "DeletedWithoutId",
            [] {
              return std::string(
                  R"({"timestamp":1,"webhookEvent":"jira:issue_deleted","issue":{"key":"A-1"}})");
            },
            "issue.id"}),
    [](const ::testing::TestParamInfo<BadBodyCase>& info) { return info.param.name; });

TEST(ParseWebhookTest, MutatedBodies_NeverThrowOrCrash) {
  // Deterministic byte flips, insertions and truncations of a real body: every outcome must
  // be a value or INVALID_ARGUMENT (an escaping exception or crash fails the test binary).
  const std::string original = kCapturedClose;
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  static constexpr char kAlphabet[] = "{}[]\",:0123456789.eE+-ntrufalsx\\\x80\xff ";
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string body = original;
    const int edits = 1 + next() % 4;
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = next() % body.size();
      switch (next() % 3) {
        case 0:
          body[at] = kAlphabet[next() % (sizeof(kAlphabet) - 1)];
          break;
        case 1:
          body.insert(at, 1, kAlphabet[next() % (sizeof(kAlphabet) - 1)]);
          break;
        default:
          body.resize(at);
          break;
      }
    }
    absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(body, kConfig);
    if (event.ok()) {
      ++parsed;
    } else {
      ASSERT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument) << event.status();
    }
  }
  EXPECT_GT(parsed, 0);  // Some edits land in strings and keep the body valid.
}

TEST(ParseWebhookTest, UnknownEvent_IsOtherNotError) {
  absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(
      Body(okr::testing::OtherIssueEvent("comment_created", ClosedIssue(), {})), kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, JiraWebhookEvent::Kind::kOther);
  EXPECT_EQ(event->webhook_event, "comment_created");
  EXPECT_EQ(event->issue_key, "OKRX-21");

  event = ParseWebhook(R"({"webhookEvent":"jira:version_released","version":{}})", kConfig);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, JiraWebhookEvent::Kind::kOther);
  EXPECT_EQ(event->issue_id, "");
}

// ---- Over HTTP, as the service receives it ----------------------------------------------------

// Receives deliveries on a real local server, verifies and parses each like the service's
// webhook handler would, and records (identifier, retry, parse outcome).
class WebhookOverHttpTest : public ::testing::Test {
 protected:
  struct Received {
    std::string identifier;
    std::string retry;
    std::string issue_key;
    bool done;
  };

  void SetUp() override {
    local_.server().Post(
        "/hooks/jira", [this](const httplib::Request& req, httplib::Response& res) {
          absl::Status verified =
              VerifySignature(kSecret, req.body, req.get_header_value("X-Hub-Signature"));
          if (!verified.ok()) {
            res.status = 401;
            return;
          }
          absl::StatusOr<JiraWebhookEvent> event = ParseWebhook(req.body, kConfig);
          if (!event.ok()) {
            res.status = 400;
            return;
          }
          absl::MutexLock lock(&mu_);
          received_.push_back({req.get_header_value("X-Atlassian-Webhook-Identifier"),
                               req.get_header_value("X-Atlassian-Webhook-Retry"), event->issue_key,
                               event->done});
          res.status = 204;
        });
    ASSERT_TRUE(local_.Start());
  }

  std::vector<Received> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }

  LocalHttpServer local_;
  absl::Mutex mu_;
  std::vector<Received> received_ ABSL_GUARDED_BY(mu_);
};

TEST_F(WebhookOverHttpTest, SignedDeliveries_DuplicatedAndReordered_ArriveAsSent) {
  FakeJiraIssue first = ClosedIssue();
  FakeJiraIssue second = ClosedIssue();
  second.id = "10022";
  second.key = "OKRX-22";
  second.status_category = "indeterminate";
  std::vector<WebhookDelivery> deliveries = {
      okr::testing::MakeDelivery(okr::testing::IssueUpdatedEvent(first, TransitionFrom("new")),
                                 "wh-1"),
      okr::testing::MakeDelivery(okr::testing::IssueUpdatedEvent(second, TransitionFrom("new")),
                                 "wh-2")};
  deliveries = okr::testing::WithRedelivery(std::move(deliveries), 0);
  const std::vector<size_t> order = {2, 0, 1};
  deliveries = okr::testing::Reordered(deliveries, order);

  for (const WebhookDelivery& delivery : deliveries) {
    absl::StatusOr<int> status =
        okr::testing::SendWebhook(local_.Url("/hooks/jira"), delivery, kSecret);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(*status, 204);
  }
  std::vector<Received> got = received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].identifier, "wh-2");
  EXPECT_EQ(got[0].issue_key, "OKRX-22");
  EXPECT_FALSE(got[0].done);
  EXPECT_EQ(got[1].identifier, "wh-1");
  EXPECT_EQ(got[1].retry, "");
  EXPECT_EQ(got[2].identifier, "wh-1");  // Same identifier across retries: the dedupe key.
  EXPECT_EQ(got[2].retry, "1");
  EXPECT_TRUE(got[2].done);
}

TEST_F(WebhookOverHttpTest, WrongSecret_IsRejected) {
  absl::StatusOr<int> status = okr::testing::SendWebhook(
      local_.Url("/hooks/jira"), okr::testing::IssueDeletedEvent(ClosedIssue(), {}),
      "not the secret", "wh-9");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 401);
  status = okr::testing::SendWebhook(
      local_.Url("/hooks/jira"), okr::testing::IssueDeletedEvent(ClosedIssue(), {}), "", "wh-10");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 401);
  EXPECT_TRUE(received().empty());
}

}  // namespace
}  // namespace okr::connectors::jira
