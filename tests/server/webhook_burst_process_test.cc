// The okr-server binary under a burst of signed Jira webhooks, killed with SIGKILL in the
// middle of it: every delivery answered 2xx before the kill is still applied after the
// restart, each issue holds one whole state (its weight and status from the same
// delivery), the key result's totals agree with its items, and redelivered or
// out-of-order deliveries, sent during the burst and after the restart, change nothing.
#include <httplib.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/fake_jira/webhook_sender.h"
#include "tests/testing/okr_api.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::Ctx;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::ServerProcess;
using ::okr::testing::WebhookDelivery;
using ::testing::HasSubstr;

constexpr char kSecret[] = "jira-burst-secret";
constexpr char kKeyResult[] = "objectives/o1/keyResults/epics";
constexpr int kIssues = 32;
constexpr int kSenders = 8;  // sender s owns the issues i with i % kSenders == s
constexpr int kAcksBeforeKill = 300;

// State n (n >= 1) of issue i: story points n, done when n is odd, updated n seconds
// after the base, so a higher n is always the newer state.
FakeJiraIssue IssueState(int i, int n) {
  FakeJiraIssue issue;
  issue.id = absl::StrCat(10001 + i);
  issue.key = absl::StrCat("OKRX-", i + 1);
  issue.summary = absl::StrCat("Burst issue ", i + 1);
  issue.story_points = n;
  issue.status_category = n % 2 == 1 ? "done" : "indeterminate";
  issue.updated = absl::FromUnixMillis(1749031387381) + absl::Seconds(n);
  return issue;
}

WebhookDelivery StateDelivery(const std::string& site_url, int i, int n,
                              const std::string& identifier) {
  testing::WebhookEventOptions options;
  options.site_base_url = site_url;
  options.status_from = n % 2 == 1 ? "indeterminate" : "done";
  options.timestamp_ms = absl::ToUnixMillis(IssueState(i, n).updated) + 100;
  return testing::MakeDelivery(testing::IssueUpdatedEvent(IssueState(i, n), options), identifier);
}

std::string Identifier(int i, int n) { return absl::StrCat("burst-", i, "-", n); }

std::vector<std::string> ServerEnv(const FakeJiraServer& fake) {
  return {"OKR_JIRA_URL=" + fake.base_url(),
          "OKR_JIRA_EMAIL=" + fake.options().email,
          "OKR_JIRA_API_TOKEN=" + fake.options().api_token,
          std::string("OKR_JIRA_WEBHOOK_SECRET=") + kSecret,
          "OKR_JIRA_STORY_POINTS_FIELD=customfield_10016",
          "OKR_RECONCILE_INTERVAL=1h",
          "OKR_WRITEBACK_INTERVAL=1h"};
}

// The body of the server's answer to `delivery` (status must be 200), or "" on failure.
std::string Post(httplib::Client& client, const WebhookDelivery& delivery) {
  httplib::Headers headers = {{"X-Hub-Signature", testing::SignJiraWebhook(kSecret, delivery.body)},
                              {"X-Atlassian-Webhook-Identifier", delivery.identifier},
                              {"X-Atlassian-Webhook-Flow", "Primary"}};
  if (delivery.retry > 0) {
    headers.emplace("X-Atlassian-Webhook-Retry", absl::StrCat(delivery.retry));
  }
  auto response = client.Post("/webhooks/jira", headers, delivery.body, "application/json");
  if (!response || response->status != 200) return "";
  return response->body;
}

struct StoredItem {
  double weight = -1;
  bool done = false;
};

// Every linked item of the key result by key, paging through ListWorkItemLinks.
std::map<std::string, StoredItem> StoredItems(v1::OkrService::Stub& stub) {
  std::map<std::string, StoredItem> items;
  v1::ListWorkItemLinksRequest list;
  list.set_parent(kKeyResult);
  list.set_page_size(10);
  do {
    v1::ListWorkItemLinksResponse page;
    grpc::Status status = stub.ListWorkItemLinks(Ctx().get(), list, &page);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    for (const v1::WorkItemLink& link : page.work_item_links()) {
      items[link.work_item().key()] = {link.work_item().weight(), link.work_item().done()};
    }
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  return items;
}

TEST(WebhookBurstProcessTest, KillNineDuringBurst_LosesNoAcknowledgedDelivery) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  std::vector<std::string> keys;
  for (int i = 0; i < kIssues; ++i) {
    (*fake)->PutIssue(IssueState(i, 0));
    keys.push_back(IssueState(i, 0).key);
  }
  testing::TempDir dir;
  const std::vector<std::string> args = {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                                         "--database=sqlite:" + dir.File("okr.db"),
                                         "--sqlite-sync=full"};
  const std::string site = (*fake)->base_url();

  // acked[i]: the newest state of issue i answered 200; sent[i]: the newest state sent.
  std::vector<int> acked(kIssues, 0);
  std::vector<int> sent(kIssues, 0);
  std::atomic<int> total_acks{0};
  std::atomic<int> wrong_answers{0};
  std::mutex mu;
  std::vector<std::string> wrong;  // answers to redeliveries that were not no-ops
  {
    ServerProcess server(args, dir.File("server1.log"), ServerEnv(**fake));
    auto stub = testing::Connect(server);
    const int http_port = server.WaitForHttpPort();
    ASSERT_GT(http_port, 0) << server.Log();
    testing::CreateTeamAndCycle(*stub, "t");
    testing::CreateWorkItemsKeyResult(*stub, "t", "o1", "epics");
    for (const std::string& key : keys) {
      ASSERT_TRUE(testing::Link(*stub, kKeyResult, v1::JIRA, key).ok());
    }
    v1::SyncKeyResultRequest sync;  // the service learns the issues' ids
    sync.set_name(kKeyResult);
    v1::KeyResult k;
    ASSERT_TRUE(stub->SyncKeyResult(Ctx().get(), sync, &k).ok()) << server.Log();

    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; ++s) {
      senders.emplace_back([&, s] {
        httplib::Client client("127.0.0.1", http_port);
        client.set_read_timeout(15, 0);
        for (int n = 1;; ++n) {
          for (int i = s; i < kIssues; i += kSenders) {
            {
              std::lock_guard<std::mutex> lock(mu);
              sent[i] = n;
            }
            if (Post(client, StateDelivery(site, i, n, Identifier(i, n))).empty()) return;
            {
              std::lock_guard<std::mutex> lock(mu);
              acked[i] = n;
            }
            total_acks.fetch_add(1);
            // Now and then, Jira's retry of an older delivery and a reordered older state
            // under a new identifier: neither may change anything.
            if (n >= 3 && n % 4 == 0) {
              WebhookDelivery retry = StateDelivery(site, i, n - 1, Identifier(i, n - 1));
              retry.retry = 1;
              const std::string dup = Post(client, retry);
              if (dup.empty()) return;
              const std::string old =
                  Post(client, StateDelivery(site, i, n - 2, absl::StrCat("late-", i, "-", n)));
              if (old.empty()) return;
              if (dup.find("duplicate") == std::string::npos ||
                  old.find("stale") == std::string::npos) {
                wrong_answers.fetch_add(1);
                std::lock_guard<std::mutex> lock(mu);
                wrong.push_back(dup + " / " + old);
              }
            }
          }
        }
      });
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    while (total_acks.load() < kAcksBeforeKill && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    server.Signal(SIGKILL);  // while every sender has a delivery in flight
    for (std::thread& t : senders) t.join();
    EXPECT_EQ(server.Wait(), 128 + SIGKILL);
    ASSERT_GE(total_acks.load(), kAcksBeforeKill) << server.Log();
  }
  EXPECT_EQ(wrong_answers.load(), 0) << (wrong.empty() ? "" : wrong.front());

  ServerProcess server(args, dir.File("server2.log"), ServerEnv(**fake));
  auto stub = testing::Connect(server);
  const int http_port = server.WaitForHttpPort();
  ASSERT_GT(http_port, 0) << server.Log();
  std::map<std::string, StoredItem> items = StoredItems(*stub);
  ASSERT_EQ(items.size(), static_cast<size_t>(kIssues));
  double total = 0;
  double done = 0;
  for (int i = 0; i < kIssues; ++i) {
    const StoredItem& item = items[IssueState(i, 0).key];
    const int n = static_cast<int>(item.weight);
    // Not older than the last acknowledged state; at most the one in flight at the kill.
    EXPECT_GE(n, acked[i]) << IssueState(i, 0).key << " lost acknowledged state " << acked[i];
    EXPECT_LE(n, sent[i]) << IssueState(i, 0).key;
    // Weight and status come from the same delivery.
    EXPECT_EQ(item.done, n % 2 == 1) << IssueState(i, 0).key << " state " << n;
    total += item.weight;
    if (item.done) done += item.weight;
  }
  v1::GetKeyResultRequest get;
  get.set_name(kKeyResult);
  v1::KeyResult before;
  ASSERT_TRUE(stub->GetKeyResult(Ctx().get(), get, &before).ok());
  EXPECT_DOUBLE_EQ(before.work_items().total_weight(), total);
  EXPECT_NEAR(before.progress(), done / total, 1e-9);

  // After the restart: Jira's retry of each issue's newest acknowledged delivery is a
  // duplicate (the record of it survived the kill), and a state older than the stored one
  // under a new identifier is stale. Neither changes an item or the key result.
  httplib::Client client("127.0.0.1", http_port);
  for (int i = 0; i < kIssues; ++i) {
    const int n = static_cast<int>(items[IssueState(i, 0).key].weight);
    if (acked[i] > 0) {
      WebhookDelivery retry = StateDelivery(site, i, acked[i], Identifier(i, acked[i]));
      retry.retry = 2;
      EXPECT_THAT(Post(client, retry), HasSubstr("duplicate")) << IssueState(i, 0).key;
    }
    if (n >= 1) {
      EXPECT_THAT(Post(client, StateDelivery(site, i, n - 1, absl::StrCat("after-", i))),
                  HasSubstr("stale"))
          << IssueState(i, 0).key;
    }
  }
  std::map<std::string, StoredItem> after = StoredItems(*stub);
  for (int i = 0; i < kIssues; ++i) {
    const std::string key = IssueState(i, 0).key;
    EXPECT_EQ(after[key].weight, items[key].weight) << key;
    EXPECT_EQ(after[key].done, items[key].done) << key;
  }
  v1::KeyResult now;
  ASSERT_TRUE(stub->GetKeyResult(Ctx().get(), get, &now).ok());
  EXPECT_DOUBLE_EQ(now.progress(), before.progress());
  EXPECT_DOUBLE_EQ(now.work_items().total_weight(), before.work_items().total_weight());

  // And the service still takes new states: every issue moves to the state after the
  // newest one sent before the kill.
  for (int i = 0; i < kIssues; ++i) {
    EXPECT_THAT(Post(client, StateDelivery(site, i, sent[i] + 1, absl::StrCat("next-", i))),
                HasSubstr("accepted"));
  }
  after = StoredItems(*stub);
  for (int i = 0; i < kIssues; ++i) {
    EXPECT_EQ(static_cast<int>(after[IssueState(i, 0).key].weight), sent[i] + 1);
  }
}

}  // namespace
}  // namespace okr
