#include "connectors/github/github_connector.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "connectors/github/github_client.h"
#include "connectors/github/github_issue_opener.h"
#include "connectors/github/github_sync.h"
#include "connectors/github/webhook.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::github {
namespace {

// scheme://host[:port] of a URL, for the log line (no path, query or userinfo).
std::string RedactedUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return "(invalid)";
  absl::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  const size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) rest = rest.substr(at + 1);
  return absl::StrCat(url.substr(0, scheme + 3), rest);
}

class GitHubConnector final : public sync::TrackerConnector {
 public:
  static absl::StatusOr<std::unique_ptr<GitHubConnector>> Create(const GitHubInstanceConfig& config,
                                                                 outbound::HttpClient& http) {
    auto c = std::unique_ptr<GitHubConnector>(new GitHubConnector(config));
    GitHubClientOptions options;
    options.base_url = config.url;
    options.token = config.token;
    options.done = c->done_;
    OKR_ASSIGN_OR_RETURN(c->client_, GitHubClient::Create(http, std::move(options)));
    c->source_ = std::make_unique<GitHubTrackerSource>(*c->client_);
    c->writer_ = std::make_unique<GitHubTrackerWriter>(*c->client_, config.label_prefix);
    c->opener_ = std::make_unique<GitHubIssueOpener>(*c->client_);
    return c;
  }

  Tracker tracker() const override { return Tracker::kGitHub; }
  const std::string& site() const override { return config_.name; }
  bool OwnsKey(absl::string_view key) const override { return config_.Owns(key); }
  bool OwnsProject(absl::string_view project) const override {
    return config_.OwnsProject(project);
  }
  const sync::WebhookPolicy& webhook_policy() const override { return policy_; }

  absl::Status VerifyWebhook(const sync::WebhookRequest& request) const override {
    return VerifySignature(config_.webhook_secret, request.Header("x-hub-signature-256"),
                           request.body());
  }

  absl::StatusOr<sync::TrackerEvent> ParseWebhook(
      const sync::WebhookRequest& request) const override {
    sync::TrackerEvent out;
    const absl::string_view event = request.Header("x-github-event");
    OKR_ASSIGN_OR_RETURN(GitHubIssuesEvent parsed, ParseIssuesEvent(event, request.body(), done_));
    out.event_name =
        parsed.action.empty() ? std::string(event) : absl::StrCat(event, ".", parsed.action);
    if (parsed.kind == GitHubIssuesEvent::Kind::kIgnored) return out;
    out.kind = parsed.kind == GitHubIssuesEvent::Kind::kDeleted
                   ? sync::TrackerEvent::Kind::kItemDeleted
                   : sync::TrackerEvent::Kind::kItemUpdated;
    out.item = ToWorkItem(parsed.issue);
    out.delivery_id = DedupeKey(request.Header("x-github-delivery"), request.body());
    return out;
  }

  sync::TrackerSource& source() override { return *source_; }
  sync::TrackerWriter& writer() override { return *writer_; }
  sync::TrackerIssueOpener& issue_opener() override { return *opener_; }

 private:
  explicit GitHubConnector(const GitHubInstanceConfig& config) : config_(config) {
    done_.by_repo = config.done;
    done_.weight_label_prefix = config.weight_label_prefix;
    policy_.max_body_bytes = kMaxWebhookBodyBytes;
    policy_.refused_item = sync::WebhookPolicy::RefusedItem::kAcknowledge;
  }

  const GitHubInstanceConfig config_;
  GitHubDoneMapping done_;
  sync::WebhookPolicy policy_;
  std::unique_ptr<GitHubClient> client_;
  std::unique_ptr<GitHubTrackerSource> source_;
  std::unique_ptr<GitHubTrackerWriter> writer_;
  std::unique_ptr<GitHubIssueOpener> opener_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> MakeGitHubConnector(
    const GitHubInstanceConfig& config, outbound::HttpClient& http) {
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<GitHubConnector> connector,
                       GitHubConnector::Create(config, http));
  log::Info("github connector enabled", {{"instance", config.name},
                                         {"url", RedactedUrl(config.url)},
                                         {"label_prefix", config.label_prefix},
                                         {"webhook", config.WebhookPath()}});
  return std::unique_ptr<sync::TrackerConnector>(std::move(connector));
}

}  // namespace okr::connectors::github
