// okr_gitlab_ingest_bench: what a GitLab Issue Hook costs end to end, as a ratio to the bare
// HTTP server it runs in.
//
//   ingest  POST /webhooks/gitlab: an Issue Hook delivery through the full path the server
//           runs (okr::http::HttpServer -> GitLabWebhookHandler: constant-time X-Gitlab-Token
//           check -> parse -> CoreTrackerSink -> OkrCore::ApplyTrackerUpdate, one SQLite
//           transaction with synchronous=FULL, i.e. durable before the 200)
//   empty   POST /empty on the same HttpServer: answers 200 "{}" at once
//
// Both routes get identical requests from the same client: N threads, each a keep-alive
// connection (cpp-httplib) in a closed loop, building a fresh ~3 KiB body per request (every
// ingest delivery is a real change: the thread's issues alternate between closed and
// opened with growing `updated_at` seconds, and every Idempotency-Key is new). The two
// targets are interleaved in rounds so both see the same machine.
//
// Then the latency of a change: a few hundred sequential closes/reopens of one issue, each
// timed from the start of the POST until OkrCore::GetKeyResult shows the new progress.
//
// Reference: okr::http::HttpServer does not set TCP_NODELAY, so each response (headers and
// body written separately) waits for the client's delayed ACK (~40 ms on Linux), which
// caps both routes alike and hides the cost of the handler. The same two routes with the
// same handler are therefore also measured on a bare cpp-httplib server with TCP_NODELAY
// (8 threads, like HttpServer), and reported apart as "reference".
//
//   build/bench/okr_gitlab_ingest_bench [--threads=8] [--duration=8] [--rounds=4]
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

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connectors/gitlab/mapper.h"
#include "connectors/gitlab/webhook_handler.h"
#include "service/core/okr_core.h"
#include "service/http/http_server.h"
#include "service/okr/clock.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/sync/tracker_sync.h"

namespace okr {
namespace {

constexpr char kToken[] = "bench-webhook-token";
constexpr char kInstance[] = "https://gitlab.example.com";
constexpr char kProject[] = "acme/checkout";
constexpr int64_t kProjectId = 1000;
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

// The service side: store, core, sink, handler and the HTTP server with both routes.
struct Service {
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<core::OkrCore> core;
  std::unique_ptr<sync::CoreTrackerSink> sink;
  std::unique_ptr<connectors::gitlab::GitLabWebhookHandler> handler;
  std::unique_ptr<http::HttpServer> server;
  // The reference: the same routes on cpp-httplib with TCP_NODELAY.
  std::unique_ptr<httplib::Server> bare;
  std::thread bare_thread;
  int bare_port = 0;
};

void LinkIssue(core::OkrCore& core, const std::string& kr, int iid) {
  WorkItem item;
  item.tracker = Tracker::kGitLab;
  item.key = connectors::gitlab::WorkItemKey(kProject, iid);
  item.title = absl::StrCat("Checkout epic ", iid);
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
  s.handler = std::make_unique<connectors::gitlab::GitLabWebhookHandler>(kToken, *s.sink);
  http::HttpServer::Options server_options;
  server_options.address = "127.0.0.1:0";
  auto server = http::HttpServer::Create(server_options);
  Check(server.status(), "HttpServer::Create");
  s.server = *std::move(server);
  connectors::gitlab::GitLabWebhookHandler& handler = *s.handler;
  // The same adapter the composition root registers.
  s.server->Handle("POST", "/webhooks/gitlab", [&handler](const http::HttpRequest& in) {
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

  s.bare = std::make_unique<httplib::Server>();
  s.bare->new_task_queue = [] { return new httplib::ThreadPool(8); };
  s.bare->set_tcp_nodelay(true);
  s.bare->set_keep_alive_max_count(1000);
  s.bare->Post("/webhooks/gitlab", [&handler](const httplib::Request& in, httplib::Response& out) {
    sync::WebhookRequest request;
    for (const auto& [name, value] : in.headers)
      request.headers[absl::AsciiStrToLower(name)] = value;
    request.body = in.body;
    sync::WebhookResponse response = handler.Handle(request);
    out.status = response.status;
    out.set_content(response.body, "application/json");
  });
  s.bare->Post("/empty", [](const httplib::Request&, httplib::Response& out) {
    out.set_content("{}", "application/json");
  });
  s.bare_port = s.bare->bind_to_any_port("127.0.0.1");
  if (s.bare_port <= 0) Check(absl::UnavailableError("cannot bind"), "bare server");
  httplib::Server* bare = s.bare.get();
  s.bare_thread = std::thread([bare] { bare->listen_after_bind(); });
  while (!s.bare->is_running()) absl::SleepFor(absl::Milliseconds(1));
  return s;
}

// Per client thread: its issues' current state, so every ingest delivery is a change.
struct ClientState {
  int first_issue = 0;
  int64_t sequence = 0;
  std::vector<bool> closed = std::vector<bool>(kIssuesPerThread, false);
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
      client.set_tcp_nodelay(true);  // as GitLab's Net::HTTP does
      client.set_read_timeout(30, 0);
      while (!stop.load(std::memory_order_relaxed)) {
        const int slot = static_cast<int>(state.sequence % kIssuesPerThread);
        state.closed[slot] = !state.closed[slot];
        state.updated += absl::Seconds(1);  // hooks carry whole seconds
        const std::string body =
            IssueHook(state.first_issue + slot, state.closed[slot], state.updated);
        const std::string key = absl::StrCat("bench-", t, "-", state.sequence++);
        auto result = client.Post(path, DeliveryHeaders(key), body, "application/json");
        if (!result || result->status != 200 ||
            (path != "/empty" && result->body != R"({"status":"accepted"})")) {
          errors.fetch_add(1, std::memory_order_relaxed);
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

// Interleaved rounds of empty and ingest on one server; prints and returns ingest/empty.
double MeasureRates(absl::string_view label, int port, std::vector<ClientState>& states,
                    const Flags& flags) {
  // Warm-up: connections, statement cache, page cache.
  RunPhase(port, "/empty", states, absl::Milliseconds(500));
  RunPhase(port, "/webhooks/gitlab", states, absl::Milliseconds(500));
  const absl::Duration slice = absl::Seconds(flags.duration_s / flags.rounds);
  PhaseResult empty_total;
  PhaseResult ingest_total;
  for (int round = 0; round < flags.rounds; ++round) {
    PhaseResult empty = RunPhase(port, "/empty", states, slice);
    PhaseResult ingest = RunPhase(port, "/webhooks/gitlab", states, slice);
    std::printf("%s round %d: empty %.0f req/s, ingest %.0f deliveries/s, ratio %.2f\n",
                std::string(label).c_str(), round, empty.rate(), ingest.rate(),
                ingest.rate() / empty.rate());
    empty_total.requests += empty.requests;
    empty_total.errors += empty.errors;
    empty_total.elapsed += empty.elapsed;
    ingest_total.requests += ingest.requests;
    ingest_total.errors += ingest.errors;
    ingest_total.elapsed += ingest.elapsed;
  }
  std::printf("%s empty:  %.0f req/s (%lld errors)\n", std::string(label).c_str(),
              empty_total.rate(), static_cast<long long>(empty_total.errors));
  std::printf("%s ingest: %.0f deliveries/s (%lld errors)\n", std::string(label).c_str(),
              ingest_total.rate(), static_cast<long long>(ingest_total.errors));
  return ingest_total.rate() / empty_total.rate();
}

// Sequential closes/reopens of one issue of the probe key result, each timed from the start
// of the POST until GetKeyResult shows the new progress. Returns the latencies in ms.
std::vector<double> MeasureLatency(Service& service, int port, const Flags& flags,
                                   absl::Time& updated, int64_t& timeouts) {
  const std::string probe_kr = absl::StrCat("kr", flags.threads);
  const int probe_issue = flags.threads * kIssuesPerThread + 1;
  const double probe_weight = 1 + probe_issue % 5;  // IssueHook's weight
  const double probe_closed = probe_weight / (probe_weight + kLatencyIssues - 1);
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  std::vector<double> latencies_ms;
  for (int i = 0; i < flags.latency_samples; ++i) {
    const bool closed = i % 2 == 0;
    const double expected = closed ? probe_closed : 0.0;
    updated += absl::Seconds(1);
    const std::string body = IssueHook(probe_issue, closed, updated);
    const absl::Time start = absl::Now();
    auto result =
        client.Post("/webhooks/gitlab", DeliveryHeaders(absl::StrCat("latency-", port, "-", i)),
                    body, "application/json");
    if (!result || result->status != 200) {
      std::fprintf(stderr, "latency probe %d: POST failed\n", i);
      std::exit(1);
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
  return latencies_ms;
}

}  // namespace
}  // namespace okr

int main(int argc, char** argv) {
  using namespace okr;  // NOLINT(build/namespaces)
  const Flags flags = ParseFlags(argc, argv);
  const std::string db_dir =
      absl::StrCat(flags.dir, "/okr-gitlab-ingest-bench-", static_cast<int64_t>(getpid()));
  std::filesystem::create_directories(db_dir);
  {
    Service service = StartService(flags, db_dir + "/okr.db");
    const int port = service.server->port();

    std::vector<ClientState> states(static_cast<size_t>(flags.threads));
    for (int t = 0; t < flags.threads; ++t) states[t].first_issue = t * kIssuesPerThread + 1;

    std::printf("threads=%d rounds=%d duration=%.1fs per target sqlite_sync=full db=%s\n",
                flags.threads, flags.rounds, flags.duration_s, db_dir.c_str());
    const double ratio = MeasureRates("HttpServer", port, states, flags);
    const double bare_ratio = MeasureRates("reference", service.bare_port, states, flags);

    absl::Time updated = absl::FromUnixSeconds(1749031387);
    int64_t timeouts = 0;
    const std::vector<double> latencies = MeasureLatency(service, port, flags, updated, timeouts);
    const std::vector<double> bare_latencies =
        MeasureLatency(service, service.bare_port, flags, updated, timeouts);

    std::printf("ingest/empty = %.2f\n", ratio);
    std::printf(
        "POST -> progress visible (%d sequential closes/reopens): p50 %.2f ms, p99 %.2f ms, "
        "max %.2f ms\n",
        flags.latency_samples, Percentile(latencies, 0.50), Percentile(latencies, 0.99),
        Percentile(latencies, 1.0));
    std::printf(
        "reference (cpp-httplib + TCP_NODELAY): ingest/empty = %.2f, POST -> visible "
        "p50 %.2f ms, p99 %.2f ms\n",
        bare_ratio, Percentile(bare_latencies, 0.50), Percentile(bare_latencies, 0.99));
    if (timeouts > 0) {
      std::printf("%lld changes not visible within 5 s\n", static_cast<long long>(timeouts));
    }
    service.server->Stop();
    service.bare->stop();
    service.bare_thread.join();
  }
  std::filesystem::remove_all(db_dir);
  return 0;
}
