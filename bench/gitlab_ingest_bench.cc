// okr_gitlab_ingest_bench: what a GitLab Issue Hook costs end to end (constant-time
// X-Gitlab-Token check -> parse -> commit -> progress), as a ratio to the bare HTTP server it
// runs in. The driver, its flags and its output: bench/ingest_bench_harness.h.
//
//   build/bench/okr_gitlab_ingest_bench [--threads=8] [--duration=8] [--rounds=4]
//       [--latency_samples=300] [--dir=DIR]
//
// Bodies are shaped like GitLab 18's Issue Hook for a close or reopen (~3 KiB, both
// timestamp forms, label objects, a weight); every Idempotency-Key is new.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/ingest_bench_harness.h"
#include "connectors/gitlab/gitlab_connector.h"
#include "connectors/gitlab/mapper.h"
#include "service/http/webhook_ingress.h"
#include "tests/testing/webhook_route.h"

namespace okr {
namespace {

constexpr char kToken[] = "bench-webhook-token";
constexpr char kInstance[] = "https://gitlab.example.com";
constexpr char kProject[] = "acme/checkout";
constexpr int64_t kProjectId = 1000;

// GitLab's two hook timestamp forms; the bench alternates them like GitLab versions do.
std::string HookTime(absl::Time t, bool utc_suffix) {
  return absl::FormatTime(utc_suffix ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%dT%H:%M:%SZ", t,
                          absl::UTCTimeZone());
}

std::string LabelJson(int64_t id, absl::string_view title, absl::string_view created) {
  return absl::StrCat(
      R"({"id":)", id, R"(,"title":")", title, R"(","color":"#428BCA","project_id":)", kProjectId,
      R"(,"created_at":")", created, R"(","updated_at":")", created,
      R"(","template":false,"description":null,"type":"ProjectLabel",)", R"("group_id":null})");
}

// An Issue Hook body shaped like GitLab 18's for a close ("close") or reopen ("reopen") of
// issue `iid`, ~3 KiB.
std::string IssueHook(int iid, bool closed, absl::Time updated) {
  const bool utc = iid % 2 == 0;
  const std::string now = HookTime(updated, utc);
  const std::string before = HookTime(updated - absl::Seconds(1), utc);
  const std::string created = HookTime(absl::FromUnixSeconds(1748772000), utc);
  const std::string web = absl::StrCat(kInstance, "/", kProject);
  const std::string labels = absl::StrCat("[", LabelJson(206, "checkout", created), ",",
                                          LabelJson(207, "OKR::epics", created), "]");
  return absl::StrCat(
      R"({"object_kind":"issue","event_type":"issue","user":{"id":1,"name":"Ada Lovelace",)",
      R"("username":"ada","avatar_url":"https://www.gravatar.com/avatar/0a1b2c3d?s=80&d=identicon",)",
      R"("email":"[REDACTED]"},"project":{"id":)", kProjectId,
      R"(,"name":"checkout","description":"Checkout service","web_url":")", web,
      R"(","avatar_url":null,"git_ssh_url":"git@gitlab.example.com:acme/checkout.git",)",
      R"("git_http_url":")", web, R"(.git","namespace":"acme","visibility_level":0,)",
      R"("path_with_namespace":")", kProject,
      R"(","default_branch":"main","ci_config_path":null,"homepage":")", web,
      R"(","url":"git@gitlab.example.com:acme/checkout.git",)",
      R"("ssh_url":"git@gitlab.example.com:acme/checkout.git","http_url":")", web,
      R"(.git"},"object_attributes":{"author_id":1,"closed_at":)",
      closed ? absl::StrCat("\"", now, "\"") : "null", R"(,"confidential":false,"created_at":")",
      created,
      R"(","description":"As a shopper I want checkout to be fast so that I finish my order.",)",
      R"("discussion_locked":null,"due_date":null,"id":)", 50000 + iid, R"(,"iid":)", iid,
      R"(,"last_edited_at":null,"last_edited_by_id":null,"milestone_id":null,)",
      R"("moved_to_id":null,"duplicated_to_id":null,"project_id":)", kProjectId,
      R"(,"relative_position":0,"state_id":)", closed ? 2 : 1,
      R"(,"time_estimate":0,"title":"Checkout epic )", iid, R"(","updated_at":")", now,
      R"(","updated_by_id":1,"type":"Issue","url":")", web, "/-/issues/", iid,
      R"(","total_time_spent":0,"time_change":0,"human_total_time_spent":null,)",
      R"("human_time_change":null,"human_time_estimate":null,"assignee_ids":[],)",
      R"("assignee_id":null,"labels":)", labels, R"(,"state":")", closed ? "closed" : "opened",
      R"(","severity":"unknown","customer_relations_contacts":[],"weight":)", 1 + iid % 5,
      R"(,"health_status":null,"action":")", closed ? "close" : "reopen", R"("},"labels":)", labels,
      R"(,"changes":{"closed_at":{"previous":)", closed ? "null" : absl::StrCat("\"", before, "\""),
      R"(,"current":)", closed ? absl::StrCat("\"", now, "\"") : "null",
      R"(},"state_id":{"previous":)", closed ? 1 : 2, R"(,"current":)", closed ? 2 : 1,
      R"(},"updated_at":{"previous":")", before, R"(","current":")", now,
      R"("}},"repository":{"name":"checkout","url":"git@gitlab.example.com:acme/checkout.git",)",
      R"("description":"Checkout service","homepage":")", web, R"("},"assignees":[]})");
}

httplib::Headers DeliveryHeaders(const std::string& idempotency_key) {
  return {{"X-Gitlab-Token", kToken},
          {"X-Gitlab-Event", "Issue Hook"},
          {"Idempotency-Key", idempotency_key},
          {"X-Gitlab-Event-UUID", idempotency_key},
          {"X-Gitlab-Webhook-UUID", idempotency_key},
          {"X-Gitlab-Instance", kInstance},
          {"User-Agent", "GitLab/18.2.1"}};
}

class GitLabIngest final : public bench::IngestTarget {
 public:
  std::string webhook_path() const override { return "/webhooks/gitlab"; }
  // Hooks carry whole seconds.
  absl::Duration update_step() const override { return absl::Seconds(1); }
  WorkItem LinkedItem(int iid) const override {
    WorkItem item;
    item.tracker = Tracker::kGitLab;
    item.key = connectors::gitlab::WorkItemKey(kProject, iid);
    return item;
  }
  double Weight(int iid) const override { return 1 + iid % 5; }  // IssueHook's weight
  bench::Delivery MakeDelivery(int iid, bool closed, absl::Time updated,
                               const std::string& id) const override {
    return {IssueHook(iid, closed, updated), DeliveryHeaders(id)};
  }
  void Serve(http::HttpServer& server, sync::TrackerSink& sink) override {
    connectors::gitlab::GitLabInstanceConfig instance;
    instance.name = "default";
    instance.url = "https://gitlab.example.com";
    instance.token = "unused";
    instance.webhook_token = kToken;
    auto connector = connectors::gitlab::MakeGitLabConnector(instance, no_network_);
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
  okr::GitLabIngest target;
  return okr::bench::RunIngestBench(target, "gitlab", argc, argv);
}
