#include "connectors/jira/jira_connector.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "connectors/jira/jira_client.h"
#include "connectors/jira/jira_issue_opener.h"
#include "connectors/jira/jira_sync.h"
#include "connectors/jira/webhook.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"
#include "service/outbound/auth.h"

namespace okr::connectors::jira {

std::string JiraSiteConfig::WebhookPath() const {
  return sync::WebhookPath(TrackerSlug(Tracker::kJira), name);
}

bool JiraSiteConfig::Owns(absl::string_view issue_key) const {
  return OwnsProject(ProjectKeyOf(issue_key));
}

bool JiraSiteConfig::OwnsProject(absl::string_view project_key) const {
  for (const std::string& p : projects) {
    if (p == project_key) return true;
  }
  return false;
}

namespace {

class JiraConnector final : public sync::TrackerConnector {
 public:
  static absl::StatusOr<std::unique_ptr<JiraConnector>> Create(const JiraSiteConfig& config,
                                                               outbound::HttpClient& http) {
    auto c = std::unique_ptr<JiraConnector>(new JiraConnector(config, http));
    JiraClientOptions options;
    options.site_base_url = config.url;
    options.deployment =
        config.deployment == "datacenter" ? JiraDeployment::kDataCenter : JiraDeployment::kCloud;
    options.fields = c->fields_;
    OKR_ASSIGN_OR_RETURN(c->client_, JiraClient::Create(c->auth_, options));
    c->source_ = std::make_unique<JiraTrackerSource>(*c->client_, config.url);
    c->writer_ = std::make_unique<JiraTrackerWriter>(*c->client_);
    c->opener_ = std::make_unique<JiraIssueOpener>(*c->client_, config.url);
    return c;
  }

  Tracker tracker() const override { return Tracker::kJira; }
  const std::string& site() const override { return config_.name; }
  bool OwnsKey(absl::string_view key) const override { return config_.Owns(key); }
  bool OwnsProject(absl::string_view project) const override {
    return config_.OwnsProject(project);
  }

  const sync::WebhookPolicy& webhook_policy() const override { return policy_; }

  absl::Status VerifyWebhook(const sync::WebhookRequest& request) const override {
    return VerifySignature(config_.webhook_secret, request.body(),
                           request.Header(signature_header_));
  }

  absl::StatusOr<sync::TrackerEvent> ParseWebhook(
      const sync::WebhookRequest& request) const override {
    OKR_ASSIGN_OR_RETURN(JiraWebhookEvent event, jira::ParseWebhook(request.body(), fields_));
    sync::TrackerEvent out;
    out.event_name = event.webhook_event;
    out.delivery_id = std::string(request.Header(identifier_header_));
    switch (event.kind) {
      case JiraWebhookEvent::Kind::kOther:
        out.kind = sync::TrackerEvent::Kind::kIgnored;
        break;
      case JiraWebhookEvent::Kind::kIssueDeleted:
        out.kind = sync::TrackerEvent::Kind::kItemDeleted;
        out.item.tracker = Tracker::kJira;
        out.item.external_id = event.issue_id;
        out.item.key = event.issue_key;
        break;
      case JiraWebhookEvent::Kind::kIssueCreated:
      case JiraWebhookEvent::Kind::kIssueUpdated:
        out.kind = sync::TrackerEvent::Kind::kItemUpdated;
        out.item = SyncedWorkItem(ToJiraIssue(event), config_.url);
        if (out.item.source_updated == absl::InfinitePast() && event.timestamp_ms > 0) {
          out.item.source_updated = absl::FromUnixMillis(event.timestamp_ms);
        }
        break;
    }
    return out;
  }

  sync::TrackerSource& source() override { return *source_; }
  sync::TrackerWriter& writer() override { return *writer_; }
  sync::TrackerIssueOpener& issue_opener() override { return *opener_; }

 private:
  JiraConnector(const JiraSiteConfig& config, outbound::HttpClient& http)
      : config_(config),
        auth_(http, config.pat.empty() ? outbound::BasicAuth(config.email, config.api_token)
                                       : outbound::BearerAuth(config.pat)) {
    fields_.story_points_field = config.story_points_field;
    fields_.done_by_project = config.done;
    policy_.max_body_bytes = kMaxJiraWebhookRequestBytes;
    policy_.refused_item = sync::WebhookPolicy::RefusedItem::kReject;
  }

  const JiraSiteConfig config_;
  const std::string signature_header_ = absl::AsciiStrToLower(kSignatureHeader);
  const std::string identifier_header_ = absl::AsciiStrToLower(kWebhookIdentifierHeader);
  JiraFieldConfig fields_;
  sync::WebhookPolicy policy_;
  outbound::AuthenticatingHttpClient auth_;
  std::unique_ptr<JiraClient> client_;
  std::unique_ptr<JiraTrackerSource> source_;
  std::unique_ptr<JiraTrackerWriter> writer_;
  std::unique_ptr<JiraIssueOpener> opener_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> MakeJiraConnector(
    const JiraSiteConfig& config, outbound::HttpClient& http) {
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<JiraConnector> connector,
                       JiraConnector::Create(config, http));
  log::Info("jira connector enabled", {{"site", config.name},
                                       {"url", config.url},
                                       {"deployment", config.deployment},
                                       {"webhook", config.WebhookPath()}});
  return std::unique_ptr<sync::TrackerConnector>(std::move(connector));
}

}  // namespace okr::connectors::jira
