#include "connectors/gitlab/gitlab_connector.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "connectors/gitlab/gitlab_client.h"
#include "connectors/gitlab/gitlab_issue_opener.h"
#include "connectors/gitlab/gitlab_sync.h"
#include "connectors/gitlab/webhook.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"

namespace okr::connectors::gitlab {
namespace {

// "platform" covers "platform" and "platform/api/..."
bool Covers(absl::string_view owned, absl::string_view project_path) {
  return project_path == owned ||
         (absl::StartsWith(project_path, owned) && project_path.size() > owned.size() &&
          project_path[owned.size()] == '/');
}

}  // namespace

std::string GitLabInstanceConfig::WebhookPath() const {
  return sync::WebhookPath(TrackerSlug(Tracker::kGitLab), name);
}

bool GitLabInstanceConfig::Owns(absl::string_view work_item_key) const {
  const size_t hash = work_item_key.rfind('#');
  if (hash == absl::string_view::npos) return false;
  return OwnsProject(work_item_key.substr(0, hash));
}

bool GitLabInstanceConfig::OwnsProject(absl::string_view project_path) const {
  for (const std::string& p : projects) {
    if (Covers(p, project_path)) return true;
  }
  return false;
}

namespace {

class GitLabConnector final : public sync::TrackerConnector {
 public:
  static absl::StatusOr<std::unique_ptr<GitLabConnector>> Create(const GitLabInstanceConfig& config,
                                                                 outbound::HttpClient& http) {
    auto c = std::unique_ptr<GitLabConnector>(new GitLabConnector(config));
    GitLabClientOptions options;
    options.base_url = config.url;
    options.private_token = config.token;
    options.done = c->done_;
    OKR_ASSIGN_OR_RETURN(c->client_, GitLabClient::Create(http, options));
    c->source_ = std::make_unique<GitLabTrackerSource>(*c->client_);
    c->writer_ = std::make_unique<GitLabTrackerWriter>(*c->client_, config.label_prefix);
    c->opener_ = std::make_unique<GitLabIssueOpener>(*c->client_);
    return c;
  }

  Tracker tracker() const override { return Tracker::kGitLab; }
  const std::string& site() const override { return config_.name; }
  bool OwnsKey(absl::string_view key) const override { return config_.Owns(key); }
  bool OwnsProject(absl::string_view project) const override {
    return config_.OwnsProject(project);
  }

  const sync::WebhookPolicy& webhook_policy() const override { return policy_; }

  absl::Status VerifyWebhook(const sync::WebhookRequest& request) const override {
    absl::Status verified = VerifyToken(config_.webhook_token, request.Header(token_header_));
    if (!verified.ok() && config_.webhook_token.empty()) {
      return absl::FailedPreconditionError(verified.message());  // misconfiguration
    }
    return verified;
  }

  absl::StatusOr<sync::TrackerEvent> ParseWebhook(
      const sync::WebhookRequest& request) const override {
    sync::TrackerEvent out;
    const absl::string_view event_header = request.Header(event_header_);
    out.event_name = std::string(event_header);
    // Push, note, merge request, ... hooks: acknowledged unread.
    if (!IsIssueHookEvent(event_header)) return out;
    OKR_ASSIGN_OR_RETURN(GitLabIssueEvent event, ParseIssueHook(request.body(), done_));
    if (!event.is_issue) return out;  // work items: tasks, OKRs, ...
    out.kind = sync::TrackerEvent::Kind::kItemUpdated;
    out.item = SyncedWorkItem(ToGitLabIssue(event));
    out.delivery_id = DedupeKey(request.Header(idempotency_key_header_), request.body());
    return out;
  }

  sync::TrackerSource& source() override { return *source_; }
  sync::TrackerWriter& writer() override { return *writer_; }
  sync::TrackerIssueOpener& issue_opener() override { return *opener_; }

 private:
  explicit GitLabConnector(const GitLabInstanceConfig& config) : config_(config) {
    done_.by_project = config.done;
    // Above the HTTP listener's own limit: GitLab bodies (a description may hold 1M
    // characters, twice with `changes`) are bounded by the listener and by ParseIssueHook.
    policy_.max_body_bytes = kMaxWebhookBodyBytes;
    policy_.credential_in_headers = true;  // X-Gitlab-Token
    policy_.refused_item = sync::WebhookPolicy::RefusedItem::kAcknowledge;
  }

  const GitLabInstanceConfig config_;
  const std::string token_header_ = absl::AsciiStrToLower(kTokenHeader);
  const std::string event_header_ = absl::AsciiStrToLower(kEventHeader);
  const std::string idempotency_key_header_ = absl::AsciiStrToLower(kIdempotencyKeyHeader);
  GitLabDoneMapping done_;
  sync::WebhookPolicy policy_;
  std::unique_ptr<GitLabClient> client_;
  std::unique_ptr<GitLabTrackerSource> source_;
  std::unique_ptr<GitLabTrackerWriter> writer_;
  std::unique_ptr<GitLabIssueOpener> opener_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> MakeGitLabConnector(
    const GitLabInstanceConfig& config, outbound::HttpClient& http) {
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<GitLabConnector> connector,
                       GitLabConnector::Create(config, http));
  log::Info("gitlab connector enabled", {{"instance", config.name},
                                         {"url", config.url},
                                         {"label_prefix", config.label_prefix},
                                         {"webhook", config.WebhookPath()}});
  return std::unique_ptr<sync::TrackerConnector>(std::move(connector));
}

}  // namespace okr::connectors::gitlab
