// The GitHub connector's one export: a factory building the sync::TrackerConnector of one
// GitHub instance (GitHub.com or Enterprise Server): webhook verification and parsing,
// reconciliation source, write-back writer, issue opener, from its configuration section
// and an outbound HTTP client. The composition root lists it in its registry.
//
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<sync::TrackerConnector> github,
//                        MakeGitHubConnector(instance_config, retrying_http));
//
// `http` must outlive the connector. Webhooks: POST /webhooks/github[/<instance>];
// X-Hub-Signature-256 verified in constant time before anything else (missing or wrong:
// UNAUTHENTICATED; no secret configured: FAILED_PRECONDITION); events other than `issues`
// (`ping`, ...), unknown actions and pull requests are acknowledged and ignored; delivery
// id = DedupeKey(X-GitHub-Delivery, body). Bodies up to 8 MiB (webhook.h). An item the
// domain refuses is acknowledged (GitHub never redelivers; a 4xx only shows as failed).
// INVALID_ARGUMENT for a configuration the client refuses (malformed URL, no token).
#ifndef OKR_CONNECTORS_GITHUB_GITHUB_CONNECTOR_H_
#define OKR_CONNECTORS_GITHUB_GITHUB_CONNECTOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "connectors/github/github_config.h"
#include "service/outbound/http_client.h"
#include "service/sync/tracker_connector.h"

namespace okr::connectors::github {

absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> MakeGitHubConnector(
    const GitHubInstanceConfig& config, outbound::HttpClient& http);

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_GITHUB_CONNECTOR_H_
