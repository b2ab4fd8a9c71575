// okr_jira_ingest_bench: what a Jira webhook costs end to end, as a ratio to the bare HTTP
// server it runs in.
//
//   ingest  POST /webhooks/jira: a signed jira:issue_updated delivery through the full path
//           the server runs (okr::http::HttpServer -> JiraWebhookHandler: HMAC check ->
//           parse -> CoreTrackerSink -> OkrCore::ApplyTrackerUpdate, one SQLite
//           transaction with synchronous=FULL, i.e. durable before the 200)
//   empty   POST /empty on the same HttpServer: answers 200 "{}" at once
//
// Both routes get identical requests from the same client: N threads, each a keep-alive
// connection (cpp-httplib) in a closed loop, building and signing a fresh ~2.5 KiB body
// per request (every ingest delivery is a real change: the thread's issues alternate
// between done and in progress with growing `updated` times, and every delivery id is
// new). The two targets are interleaved in rounds so both see the same machine.
//
// Then the latency of a change: a few hundred sequential closes/reopens of one issue, each
// timed from the start of the POST until OkrCore::GetKeyResult shows the new progress.
//
//   build/bench/okr_jira_ingest_bench [--threads=8] [--duration=8] [--rounds=4]
//       [--latency_samples=300] [--dir=DIR]
//
// --dir (default $BENCH_TMP, else the current directory) holds the scratch database; keep
// it on a real disk, not a tmpfs, so that fsync costs what it costs. Prints
// "ingest/empty = 0.xx" and the p50/p99 latency.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connectors/jira/mapper.h"
#include "connectors/jira/webhook.h"
#include "connectors/jira/webhook_handler.h"
#include "service/core/okr_core.h"
#include "service/http/http_server.h"
#include "service/okr/clock.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/sync/tracker_sync.h"

namespace okr {
namespace {

constexpr char kSecret[] = "bench-webhook-secret";
constexpr char kSite[] = "https://acme.atlassian.net";
constexpr char kStoryPointsField[] = "customfield_10016";
constexpr int kIssuesPerThread = 50;
constexpr int kLatencyIssues = 4;

struct Flags {
  int threads = 8;
  double duration_s = 8;  // measured per target, split over the rounds
  int rounds = 4;
  int latency_samples = 300;
  std::string dir;
};

bool ParseFlag(absl::string_view arg, absl::string_view name, std::string* value) {
  const std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  const char* tmp = std::getenv("BENCH_TMP");
  flags.dir = tmp != nullptr && *tmp != '\0' ? tmp : ".";
  for (int i = 1; i < argc; ++i) {
    std::string value;
    const absl::string_view arg = argv[i];
    bool ok = true;
    if (ParseFlag(arg, "threads", &value)) {
      ok = absl::SimpleAtoi(value, &flags.threads) && flags.threads > 0;
    } else if (ParseFlag(arg, "duration", &value)) {
      ok = absl::SimpleAtod(value, &flags.duration_s) && flags.duration_s > 0;
    } else if (ParseFlag(arg, "rounds", &value)) {
      ok = absl::SimpleAtoi(value, &flags.rounds) && flags.rounds > 0;
    } else if (ParseFlag(arg, "latency_samples", &value)) {
      ok = absl::SimpleAtoi(value, &flags.latency_samples) && flags.latency_samples > 0;
    } else if (ParseFlag(arg, "dir", &value)) {
      flags.dir = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: %s [--threads=N] [--duration=SECONDS] [--rounds=N] "
                   "[--latency_samples=N] [--dir=DIR]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return flags;
}

void Check(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", std::string(what).c_str(), status.ToString().c_str());
  std::exit(1);
}

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

// The service side: store, core, sink, handler and the HTTP server with both routes.
struct Service {
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<core::OkrCore> core;
  std::unique_ptr<sync::CoreTrackerSink> sink;
  std::unique_ptr<connectors::jira::JiraWebhookHandler> handler;
  std::unique_ptr<http::HttpServer> server;
};

void LinkIssue(core::OkrCore& core, const std::string& kr, int n) {
  WorkItem item;
  item.tracker = Tracker::kJira;
  item.key = IssueKey(n);
  item.title = absl::StrCat("Checkout epic ", n);
  Check(core.LinkWorkItem("o1", kr, item, "").status(), "LinkWorkItem");
}

Service StartService(const Flags& flags, const std::string& db_path) {
  Service s;
  storage::SqliteOptions options;
  options.path = db_path;
  options.sync = storage::SqliteOptions::Sync::kFull;
  auto store = storage::SqliteStore::Open(options);
  Check(store.status(), "open store");
  s.store = *std::move(store);
  s.core = std::make_unique<core::OkrCore>(*s.store, SystemClock::Get());

  Team team;
  team.id = "checkout";
  team.display_name = "Checkout";
  Check(s.core->CreateTeam(team, "").status(), "CreateTeam");
  Cycle cycle;
  cycle.id = "q4";
  cycle.display_name = "Q4";
  cycle.start_time = absl::Now() - absl::Hours(24 * 30);
  cycle.end_time = absl::Now() + absl::Hours(24 * 60);
  Check(s.core->CreateCycle(cycle, "").status(), "CreateCycle");
  Objective objective;
  objective.id = "o1";
  objective.title = "Delight customers at checkout";
  objective.team_id = "checkout";
  objective.cycle_id = "q4";
  Check(s.core->CreateObjective(objective, "").status(), "CreateObjective");
  // One work-items key result per client thread (its issues), one for the latency probe.
  for (int t = 0; t <= flags.threads; ++t) {
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = absl::StrCat("kr", t);
    kr.title = "Ship the checkout epics";
    kr.type = KeyResultType::kWorkItems;
    Check(s.core->CreateKeyResult(kr, "").status(), "CreateKeyResult");
    const int issues = t < flags.threads ? kIssuesPerThread : kLatencyIssues;
    for (int i = 0; i < issues; ++i) LinkIssue(*s.core, kr.id, t * kIssuesPerThread + i + 1);
  }

  s.sink = std::make_unique<sync::CoreTrackerSink>(*s.core);
  s.handler = std::make_unique<connectors::jira::JiraWebhookHandler>(
      kSecret, connectors::jira::JiraFieldConfig{kStoryPointsField}, kSite, *s.sink);
  http::HttpServer::Options server_options;
  server_options.address = "127.0.0.1:0";
  auto server = http::HttpServer::Create(server_options);
  Check(server.status(), "HttpServer::Create");
  s.server = *std::move(server);
  connectors::jira::JiraWebhookHandler& handler = *s.handler;
  // The same adapter the composition root registers.
  s.server->Handle("POST", "/webhooks/jira", [&handler](const http::HttpRequest& in) {
    sync::WebhookRequest request;
    request.headers = in.headers;
    request.body = in.body;
    sync::WebhookResponse response = handler.Handle(request);
    return http::HttpResponse{response.status, "application/json", response.body};
  });
  s.server->Handle("POST", "/empty", [](const http::HttpRequest&) {
    return http::HttpResponse{200, "application/json", "{}"};
  });
  Check(s.server->Start(), "HttpServer::Start");
  return s;
}

// Per client thread: its issues' current state, so every ingest delivery is a change.
struct ClientState {
  int first_issue = 0;
  int64_t sequence = 0;
  std::vector<bool> done = std::vector<bool>(kIssuesPerThread, false);
  absl::Time updated = absl::FromUnixSeconds(1749031387);
};

struct PhaseResult {
  int64_t requests = 0;
  int64_t errors = 0;
  absl::Duration elapsed;
  double rate() const { return static_cast<double>(requests) / absl::ToDoubleSeconds(elapsed); }
};

PhaseResult RunPhase(int port, const std::string& path, std::vector<ClientState>& states,
                     absl::Duration duration) {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < states.size(); ++t) {
    threads.emplace_back([&, t] {
      ClientState& state = states[t];
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(30, 0);
      while (!stop.load(std::memory_order_relaxed)) {
        const int slot = static_cast<int>(state.sequence % kIssuesPerThread);
        state.done[slot] = !state.done[slot];
        state.updated += absl::Milliseconds(1);
        const std::string body =
            UpdatedEvent(state.first_issue + slot, state.done[slot], state.updated);
        const std::string identifier = absl::StrCat("bench-", t, "-", state.sequence++);
        auto result =
            client.Post(path, DeliveryHeaders(body, identifier), body, "application/json");
        if (!result || result->status != 200 ||
            (path != "/empty" && result->body != R"({"status":"accepted"})")) {
          if (errors.fetch_add(1, std::memory_order_relaxed) == 0) {
            std::fprintf(stderr, "first error on %s: %s\n", path.c_str(),
                         result ? absl::StrCat(result->status, " ", result->body).c_str()
                                : httplib::to_string(result.error()).c_str());
          }
        }
        requests.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  const absl::Time start = absl::Now();
  absl::SleepFor(duration);
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  PhaseResult result;
  result.elapsed = absl::Now() - start;
  result.requests = requests.load();
  result.errors = errors.load();
  return result;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

}  // namespace
}  // namespace okr

int main(int argc, char** argv) {
  using namespace okr;  // NOLINT(build/namespaces)
  const Flags flags = ParseFlags(argc, argv);
  const std::string db_dir =
      absl::StrCat(flags.dir, "/okr-jira-ingest-bench-", static_cast<int64_t>(getpid()));
  std::filesystem::create_directories(db_dir);
  bool failed = false;
  {
    Service service = StartService(flags, db_dir + "/okr.db");
    const int port = service.server->port();

    std::vector<ClientState> states(static_cast<size_t>(flags.threads));
    for (int t = 0; t < flags.threads; ++t) states[t].first_issue = t * kIssuesPerThread + 1;

    // Warm-up: connections, statement cache, page cache.
    RunPhase(port, "/empty", states, absl::Milliseconds(500));
    RunPhase(port, "/webhooks/jira", states, absl::Milliseconds(500));

    const absl::Duration slice = absl::Seconds(flags.duration_s / flags.rounds);
    PhaseResult empty_total;
    PhaseResult ingest_total;
    std::printf("threads=%d rounds=%d slice=%s sqlite_sync=full db=%s\n", flags.threads,
                flags.rounds, absl::FormatDuration(slice).c_str(), db_dir.c_str());
    for (int round = 0; round < flags.rounds; ++round) {
      PhaseResult empty = RunPhase(port, "/empty", states, slice);
      PhaseResult ingest = RunPhase(port, "/webhooks/jira", states, slice);
      std::printf("round %d: empty %.0f req/s, ingest %.0f deliveries/s, ratio %.2f\n", round,
                  empty.rate(), ingest.rate(), ingest.rate() / empty.rate());
      empty_total.requests += empty.requests;
      empty_total.errors += empty.errors;
      empty_total.elapsed += empty.elapsed;
      ingest_total.requests += ingest.requests;
      ingest_total.errors += ingest.errors;
      ingest_total.elapsed += ingest.elapsed;
    }
    std::printf("empty:  %.0f req/s (%lld errors)\n", empty_total.rate(),
                static_cast<long long>(empty_total.errors));
    std::printf("ingest: %.0f deliveries/s (%lld errors)\n", ingest_total.rate(),
                static_cast<long long>(ingest_total.errors));
    std::printf("ingest/empty = %.2f\n", ingest_total.rate() / empty_total.rate());

    // Latency: sequential closes/reopens of one issue of the probe key result.
    const std::string probe_kr = absl::StrCat("kr", flags.threads);
    const int probe_issue = flags.threads * kIssuesPerThread + 1;
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    std::vector<double> latencies_ms;
    absl::Time updated = absl::FromUnixSeconds(1749031387);
    int64_t timeouts = 0;
    for (int i = 0; i < flags.latency_samples; ++i) {
      const bool done = i % 2 == 0;
      // The probe issue carries its story points; the other probe issues keep weight 1.
      const double points = StoryPoints(probe_issue);
      const double expected = done ? points / (points + kLatencyIssues - 1) : 0.0;
      updated += absl::Seconds(1);
      const std::string body = UpdatedEvent(probe_issue, done, updated);
      const std::string headers_id = absl::StrCat("latency-", i);
      const absl::Time start = absl::Now();
      auto result = client.Post("/webhooks/jira", DeliveryHeaders(body, headers_id), body,
                                "application/json");
      if (!result || result->status != 200) {
        std::fprintf(stderr, "latency probe %d: POST failed\n", i);
        failed = true;
        break;
      }
      const absl::Time deadline = start + absl::Seconds(5);
      bool seen = false;
      while (absl::Now() < deadline) {
        auto kr = service.core->GetKeyResult("o1", probe_kr);
        if (kr.ok() && std::abs(kr->progress - expected) < 1e-9) {
          seen = true;
          break;
        }
      }
      if (!seen) ++timeouts;
      latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    failed = failed || timeouts > 0 || empty_total.errors > 0 || ingest_total.errors > 0;
    if (latencies_ms.empty()) latencies_ms.push_back(0);
    const std::string missed =
        timeouts > 0 ? absl::StrCat(" (", timeouts, " not visible within 5 s)") : "";
    std::printf(
        "POST -> progress visible (%d sequential closes/reopens): p50 %.2f ms, "
        "p99 %.2f ms, max %.2f ms%s\n",
        flags.latency_samples, Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
        Percentile(latencies_ms, 1.0), missed.c_str());
    service.server->Stop();
  }
  std::filesystem::remove_all(db_dir);
  return failed ? 1 : 0;
}
