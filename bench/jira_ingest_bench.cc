// okr_jira_ingest_bench: what a signed Jira jira:issue_updated webhook costs end to end
// (HMAC check of X-Hub-Signature -> parse -> commit -> progress), as a ratio to the bare HTTP
// server it runs in. The driver, its flags and its output: bench/ingest_bench_harness.h.
//
//   build/bench/okr_jira_ingest_bench [--threads=8] [--duration=8] [--rounds=4]
//       [--latency_samples=300] [--dir=DIR]
//
// Bodies are shaped like Jira Cloud's (v2 representation, ~2.5 KiB) with a story points
// field; each is signed afresh.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/ingest_bench_harness.h"
#include "connectors/jira/jira_connector.h"
#include "connectors/jira/webhook.h"
#include "service/http/webhook_ingress.h"
#include "tests/testing/webhook_route.h"

namespace okr {
namespace {

constexpr char kSecret[] = "bench-webhook-secret";
constexpr char kSite[] = "https://acme.atlassian.net";
constexpr char kStoryPointsField[] = "customfield_10016";

std::string IssueKey(int n) { return absl::StrCat("OKRX-", n); }
// The story points the deliveries carry for issue `n` (linking alone knows none: weight 1).
int StoryPoints(int n) { return 1 + n % 5; }
std::string IssueId(int n) { return absl::StrCat(10000 + n); }

// Jira's date-time format with milliseconds and a +0000 offset.
std::string JiraTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S+0000", t, absl::UTCTimeZone());
}

// A jira:issue_updated body shaped like Jira Cloud's (v2 representation), ~2.5 KiB.
std::string UpdatedEvent(int n, bool done, absl::Time updated) {
  const std::string api = absl::StrCat(kSite, "/rest/api/2");
  const char* status_id = done ? "10002" : "3";
  const char* status_name = done ? "Done" : "In Progress";
  const char* category_key = done ? "done" : "indeterminate";
  const int category_id = done ? 3 : 4;
  const char* category_color = done ? "green" : "yellow";
  const char* category_name = done ? "Done" : "In Progress";
  const std::string resolution =
      done
          ? absl::StrCat(
                R"({"self":")", api,
                R"(/resolution/10000","id":"10000","description":"Work has been done.","name":"Done"})")
          : "null";
  return absl::StrCat(
      R"({"timestamp":)", absl::ToUnixMillis(updated) + 120,
      R"(,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic",)",
      R"("user":{"self":")", api,
      R"(/user?accountId=557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",)",
      R"("accountId":"557058:f58131cb-b67d-43c7-b30d-6b58d40bd077","avatarUrls":{"48x48":)",
      R"("https://secure.gravatar.com/avatar/0a1b2c3d4e5f60718293a4b5c6d7e8f9?d=identicon"},)",
      R"("displayName":"Ada Lovelace","active":true,"timeZone":"Europe/Berlin",)",
      R"("accountType":"atlassian"},"issue":{"id":")", IssueId(n), R"(","self":")", api, "/",
      IssueId(n), R"(","key":")", IssueKey(n), R"(","fields":{"summary":"Checkout epic )", n,
      R"(","status":{"self":")", api, "/status/", status_id, R"(","description":"","iconUrl":")",
      api, R"(/images/icons/statuses/generic.png","name":")", status_name, R"(","id":")", status_id,
      R"(","statusCategory":{"self":")", api, "/statuscategory/", category_id, R"(","id":)",
      category_id, R"(,"key":")", category_key, R"(","colorName":")", category_color,
      R"(","name":")", category_name, R"("}},"created":")",
      JiraTime(absl::FromUnixSeconds(1748772000)), R"(","updated":")", JiraTime(updated),
      R"(","statuscategorychangedate":")", JiraTime(updated), R"(","project":{"self":")", api,
      R"(/project/OKRX","id":"10000","key":"OKRX","name":"OKRX project",)",
      R"("projectTypeKey":"software","simplified":false},"issuetype":{"self":")", api,
      R"(/issuetype/10001","id":"10001","description":"Functionality or a feature expressed )",
      R"(as a user goal.","name":"Story","subtask":false,"hierarchyLevel":0},)",
      R"("labels":["checkout"],"priority":{"self":")", api, R"(/priority/3","iconUrl":")", api,
      R"(/images/icons/priorities/medium.svg","name":"Medium","id":"3"},"resolution":)", resolution,
      R"(,"resolutiondate":null,"assignee":null,"customfield_10020":null,)",
      R"("customfield_10016":)", StoryPoints(n),
      R"(,"description":"As a shopper I want checkout to be fast so that I finish my order.",)",
      R"("environment":null,"duedate":null}},"changelog":{"id":")", 10100 + n % 1000,
      R"(","items":[{"field":"status","fieldtype":"jira","fieldId":"status","from":")",
      done ? "3" : "10002", R"(","fromString":")", done ? "In Progress" : "Done", R"(","to":")",
      status_id, R"(","toString":")", status_name, R"("}]}})");
}

httplib::Headers DeliveryHeaders(const std::string& body, const std::string& identifier) {
  return {{"X-Hub-Signature", connectors::jira::ComputeSignature(kSecret, body)},
          {"X-Atlassian-Webhook-Identifier", identifier},
          {"X-Atlassian-Webhook-Flow", "Primary"},
          {"User-Agent", "Atlassian Webhook HTTP Client"}};
}

class JiraIngest final : public bench::IngestTarget {
 public:
  std::string webhook_path() const override { return "/webhooks/jira"; }
  // Jira stamps `updated` with milliseconds.
  absl::Duration update_step() const override { return absl::Milliseconds(1); }
  WorkItem LinkedItem(int n) const override {
    WorkItem item;
    item.tracker = Tracker::kJira;
    item.key = IssueKey(n);
    return item;
  }
  double Weight(int n) const override { return StoryPoints(n); }
  bench::Delivery MakeDelivery(int n, bool done, absl::Time updated,
                               const std::string& id) const override {
    std::string body = UpdatedEvent(n, done, updated);
    httplib::Headers headers = DeliveryHeaders(body, id);
    return {std::move(body), std::move(headers)};
  }
  void Serve(http::HttpServer& server, sync::TrackerSink& sink) override {
    connectors::jira::JiraSiteConfig site;
    site.name = "default";
    site.url = kSite;
    site.email = "bench@acme.example";
    site.api_token = "unused";
    site.webhook_secret = kSecret;
    site.story_points_field = kStoryPointsField;
    auto connector = connectors::jira::MakeJiraConnector(site, no_network_);
    if (!connector.ok()) {
      std::fprintf(stderr, "%s\n", connector.status().ToString().c_str());
      std::exit(1);
    }
    connector_ = *std::move(connector);
    handler_ = std::make_unique<http::WebhookIngress>(*connector_, sink);
    server.Handle("POST", webhook_path(), testing::WebhookRoute(*handler_));
  }

 private:
  testing::NoNetworkHttpClient no_network_;
  std::unique_ptr<sync::TrackerConnector> connector_;
  std::unique_ptr<http::WebhookIngress> handler_;
};

}  // namespace
}  // namespace okr

int main(int argc, char** argv) {
  okr::JiraIngest target;
  return okr::bench::RunIngestBench(target, "jira", argc, argv);
}
