// The Jira connector's one export: a factory building the sync::TrackerConnector of one
// Jira site (webhook verification and parsing, reconciliation source, write-back writer,
// issue opener) from its configuration section and an outbound HTTP client. The
// composition root lists it in its registry (service/server/connector_registry.cc).
//
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<sync::TrackerConnector> jira,
//                        MakeJiraConnector(site_config, retrying_http));
//
// The connector adds the site's authentication (Basic with email + API token on Cloud,
// Bearer with a PAT on Data Center) above `http`, which must outlive it. Webhooks: POST
// /webhooks/jira[/<site>], at most kMaxJiraWebhookRequestBytes (413 above), signed with
// `X-Hub-Signature: sha256=<HMAC of the body>` (missing, wrong, or no secret configured:
// 401, checked before any parsing); jira:issue_created / _updated carry the state,
// jira:issue_deleted removes it, other events are acknowledged and ignored; the delivery id
// is `X-Atlassian-Webhook-Identifier` (the same across Jira's retries). An issue state the
// domain refuses is answered 400 (Jira does not retry other 4xx).
// INVALID_ARGUMENT for a configuration the client refuses (e.g. a malformed URL).
#ifndef OKR_CONNECTORS_JIRA_JIRA_CONNECTOR_H_
#define OKR_CONNECTORS_JIRA_JIRA_CONNECTOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "connectors/jira/jira_config.h"
#include "service/outbound/http_client.h"
#include "service/sync/tracker_connector.h"

namespace okr::connectors::jira {

absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> MakeJiraConnector(
    const JiraSiteConfig& config, outbound::HttpClient& http);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_JIRA_CONNECTOR_H_
