// The GitLab connector's one export: a factory building the sync::TrackerConnector of one
// GitLab instance (webhook verification and parsing, reconciliation source, write-back
// writer, issue opener) from its configuration section and an outbound HTTP client. The
// composition root lists it in its registry (service/server/connector_registry.cc).
//
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<sync::TrackerConnector> gitlab,
//                        MakeGitLabConnector(instance_config, retrying_http));
//
// The client sends the instance's token as PRIVATE-TOKEN over `http`, which must outlive
// the connector. Webhooks: POST /webhooks/gitlab[/<instance>]; `X-Gitlab-Token` compared in
// constant time before anything else is looked at (missing, wrong, or no token configured:
// 401); events other than "Issue Hook" / "Confidential Issue Hook" and object kinds other
// than "issue" (tasks, OKR work items) are acknowledged and ignored unread; the delivery id
// is DedupeKey(`Idempotency-Key`, body) (webhook.h). GitLab sends no hook for deleted issues:
// reconciliation finds those. GitLab disables a hook after 4 consecutive non-2xx answers,
// so an issue state the domain refuses is acknowledged (200 {"status":"ignored"}).
// INVALID_ARGUMENT for a configuration the client refuses (a malformed URL, no token).
#ifndef OKR_CONNECTORS_GITLAB_GITLAB_CONNECTOR_H_
#define OKR_CONNECTORS_GITLAB_GITLAB_CONNECTOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "connectors/gitlab/gitlab_config.h"
#include "service/outbound/http_client.h"
#include "service/sync/tracker_connector.h"

namespace okr::connectors::gitlab {

absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> MakeGitLabConnector(
    const GitLabInstanceConfig& config, outbound::HttpClient& http);

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_GITLAB_CONNECTOR_H_
