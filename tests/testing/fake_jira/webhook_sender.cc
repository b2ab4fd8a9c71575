#include "tests/testing/fake_jira/webhook_sender.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace okr::testing {
namespace {

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json User(absl::string_view api_url) {
  constexpr char kAccountId[] = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077";
  const std::string avatar =
      "https://secure.gravatar.com/avatar/0a1b2c3d4e5f60718293a4b5c6d7e8f9?d=https%3A%2F%2F"
      "avatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2FAL-3.png";
  return {
      {"self", absl::StrCat(api_url, "/user?accountId=", kAccountId)},
      {"accountId", kAccountId},
      {"avatarUrls", {{"48x48", avatar}, {"24x24", avatar}, {"16x16", avatar}, {"32x32", avatar}}},
      {"displayName", "Ada Lovelace"},
      {"active", true},
      {"timeZone", "Europe/Berlin"},
      {"accountType", "atlassian"},
  };
}

nlohmann::json IssueJson(const FakeJiraIssue& issue, const WebhookEventOptions& options,
                         absl::string_view api_url) {
  return {
      {"id", issue.id},
      // Observed in Cloud captures: no /issue/ segment.
      {"self", absl::StrCat(api_url, "/", issue.id)},
      {"key", issue.key},
      {"fields", FakeIssueFieldsJson(issue, api_url, options.story_points_field)},
  };
}

nlohmann::json ChangelogItem(absl::string_view field, absl::string_view field_id,
                             const WebhookEventOptions& options, nlohmann::json from,
                             nlohmann::json from_string, nlohmann::json to,
                             nlohmann::json to_string) {
  nlohmann::json item = {
      {"field", options.omit_field_ids && field == "status" ? "Status" : std::string(field)},
      {"fieldtype", "jira"},
      {"from", std::move(from)},
      {"fromString", std::move(from_string)},
      {"to", std::move(to)},
      {"toString", std::move(to_string)},
  };
  if (!options.omit_field_ids) item["fieldId"] = std::string(field_id);
  return item;
}

nlohmann::json Changelog(const FakeJiraIssue& issue, const WebhookEventOptions& options) {
  nlohmann::json items = nlohmann::json::array();
  if (options.status_from.has_value()) {
    const FakeJiraStatus from = FakeStatusFor(*options.status_from);
    const FakeJiraStatus to = FakeStatusFor(issue.status_category);
    items.push_back(ChangelogItem("status", "status", options, from.id, from.name, to.id, to.name));
  }
  if (options.summary_from.has_value()) {
    items.push_back(ChangelogItem("summary", "summary", options, nullptr, *options.summary_from,
                                  nullptr, issue.summary));
  }
  return {{"id", absl::StrCat(10100 + options.timestamp_ms % 1000)}, {"items", std::move(items)}};
}

nlohmann::json Event(absl::string_view webhook_event,
                     std::optional<std::string> issue_event_type_name, const FakeJiraIssue& issue,
                     const WebhookEventOptions& options, bool with_changelog) {
  const std::string api_url = absl::StrCat(options.site_base_url, "/rest/api/2");
  nlohmann::json event = {
      {"timestamp", options.timestamp_ms},
      {"webhookEvent", std::string(webhook_event)},
  };
  if (issue_event_type_name.has_value()) event["issue_event_type_name"] = *issue_event_type_name;
  event["user"] = User(api_url);
  event["issue"] = IssueJson(issue, options, api_url);
  if (with_changelog) event["changelog"] = Changelog(issue, options);
  return event;
}

}  // namespace

nlohmann::json IssueCreatedEvent(const FakeJiraIssue& issue, const WebhookEventOptions& options) {
  return Event("jira:issue_created", options.issue_event_type_name.value_or("issue_created"), issue,
               options, /*with_changelog=*/true);
}

nlohmann::json IssueUpdatedEvent(const FakeJiraIssue& issue, const WebhookEventOptions& options) {
  return Event("jira:issue_updated", options.issue_event_type_name.value_or("issue_generic"), issue,
               options, /*with_changelog=*/true);
}

nlohmann::json IssueDeletedEvent(const FakeJiraIssue& issue, const WebhookEventOptions& options) {
  return Event("jira:issue_deleted", options.issue_event_type_name, issue, options,
               /*with_changelog=*/false);
}

nlohmann::json OtherIssueEvent(absl::string_view webhook_event, const FakeJiraIssue& issue,
                               const WebhookEventOptions& options) {
  nlohmann::json event = Event(webhook_event, std::nullopt, issue, options, false);
  event["comment"] = {{"id", "10200"}, {"body", "Looks good."}};
  return event;
}

std::string SignJiraWebhook(absl::string_view secret, absl::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  static constexpr unsigned char kEmpty[1] = {0};
  HMAC(EVP_sha256(), secret.empty() ? static_cast<const void*>(kEmpty) : secret.data(),
       static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string signature = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    signature.push_back(kHex[digest[i] >> 4]);
    signature.push_back(kHex[digest[i] & 0xF]);
  }
  return signature;
}

WebhookDelivery MakeDelivery(const nlohmann::json& event, std::string identifier) {
  return {std::move(identifier), Dump(event), 0};
}

std::vector<WebhookDelivery> WithRedelivery(std::vector<WebhookDelivery> deliveries, size_t index) {
  if (index >= deliveries.size()) return deliveries;
  WebhookDelivery again = deliveries[index];
  ++again.retry;
  deliveries.insert(deliveries.begin() + static_cast<std::ptrdiff_t>(index) + 1, std::move(again));
  return deliveries;
}

std::vector<WebhookDelivery> Reordered(const std::vector<WebhookDelivery>& deliveries,
                                       absl::Span<const size_t> order) {
  std::vector<WebhookDelivery> result;
  for (size_t index : order) {
    if (index < deliveries.size()) result.push_back(deliveries[index]);
  }
  return result;
}

absl::StatusOr<int> SendWebhook(absl::string_view url, const WebhookDelivery& delivery,
                                absl::string_view secret) {
  // http://host:port/path -> ("http://host:port", "/path").
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos || !absl::StartsWith(url, "http")) {
    return absl::InvalidArgumentError(absl::StrCat("not an http(s) URL: ", url));
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin(url.substr(0, path_start));
  const std::string path =
      path_start == absl::string_view::npos ? "/" : std::string(url.substr(path_start));

  httplib::Client client(origin);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  client.set_write_timeout(10, 0);
  httplib::Headers headers = {
      {"User-Agent", "Atlassian Webhook HTTP Client"},
      {"X-Atlassian-Webhook-Identifier", delivery.identifier},
      {"X-Atlassian-Webhook-Flow", "Primary"},
  };
  if (!secret.empty()) headers.emplace("X-Hub-Signature", SignJiraWebhook(secret, delivery.body));
  if (delivery.retry > 0) {
    headers.emplace("X-Atlassian-Webhook-Retry", absl::StrCat(delivery.retry));
  }
  httplib::Result result = client.Post(path, headers, delivery.body, "application/json");
  if (!result) {
    return absl::UnavailableError(absl::StrCat("webhook POST to ", origin, path,
                                               " failed: ", httplib::to_string(result.error())));
  }
  return result->status;
}

absl::StatusOr<int> SendWebhook(absl::string_view url, const nlohmann::json& event,
                                absl::string_view secret, absl::string_view identifier) {
  return SendWebhook(url, MakeDelivery(event, std::string(identifier)), secret);
}

}  // namespace okr::testing
