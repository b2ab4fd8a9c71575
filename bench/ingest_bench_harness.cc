#include "bench/ingest_bench_harness.h"

#include <sys/resource.h>
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
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "service/core/okr_core.h"
#include "service/okr/clock.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/sync/core_tracker_sink.h"

namespace okr::bench {
namespace {

constexpr int kIssuesPerThread = 50;
constexpr int kLatencyIssues = 4;

struct Flags {
  int threads = 8;
  double duration_s = 8;  // measured per target, split over the rounds
  int rounds = 4;
  int latency_samples = 300;
  std::string dir;
  // "full" (durable before the 200: the benchmark's definition) or "normal" (no fsync per
  // commit), to show what the fsync costs.
  std::string sqlite_sync = "full";
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
    } else if (ParseFlag(arg, "sqlite_sync", &value)) {
      flags.sqlite_sync = value;
      ok = value == "full" || value == "normal";
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: %s [--threads=N] [--duration=SECONDS] [--rounds=N] "
                   "[--latency_samples=N] [--dir=DIR] [--sqlite_sync=full|normal]\n",
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

// The service side: store, core, sink and the HTTP server with both routes.
struct Service {
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<core::OkrCore> core;
  std::unique_ptr<sync::CoreTrackerSink> sink;
  std::unique_ptr<http::HttpServer> server;
};

// The reference listener: a bare cpp-httplib server (a 64-thread pool, as okr-service's
// listener was before it became event-driven) answering the same empty 200, so the
// service's own listener is compared with it in the same run.
struct BareServer {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  BareServer() {
    server.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(1000);
    server.Post("/empty", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~BareServer() {
    server.stop();
    thread.join();
  }
};

// Team, cycle, objective o1 and one work-items key result per client thread (kr0.., its 50
// issues linked) plus one for the latency probe (kr<threads>, 4 issues).
Service StartService(IngestTarget& target, const Flags& flags, const std::string& db_path) {
  Service s;
  storage::SqliteOptions options;
  options.path = db_path;
  options.sync = flags.sqlite_sync == "normal" ? storage::SqliteOptions::Sync::kNormal
                                               : storage::SqliteOptions::Sync::kFull;
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
  for (int t = 0; t <= flags.threads; ++t) {
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = absl::StrCat("kr", t);
    kr.title = "Ship the checkout epics";
    kr.type = KeyResultType::kWorkItems;
    Check(s.core->CreateKeyResult(kr, "").status(), "CreateKeyResult");
    const int issues = t < flags.threads ? kIssuesPerThread : kLatencyIssues;
    for (int i = 0; i < issues; ++i) {
      const int n = t * kIssuesPerThread + i + 1;
      WorkItem item = target.LinkedItem(n);
      if (item.title.empty()) item.title = absl::StrCat("Checkout epic ", n);
      Check(s.core->LinkWorkItem("o1", kr.id, item, "").status(), "LinkWorkItem");
    }
  }

  s.sink = std::make_unique<sync::CoreTrackerSink>(*s.core);
  http::HttpServer::Options server_options;
  server_options.address = "127.0.0.1:0";
  auto server = http::HttpServer::Create(server_options);
  Check(server.status(), "HttpServer::Create");
  s.server = *std::move(server);
  target.Serve(*s.server, *s.sink);
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

// CPU time (user + system) of the whole process so far: client and server share it.
absl::Duration ProcessCpuTime() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
}

struct PhaseResult {
  int64_t requests = 0;
  int64_t errors = 0;
  absl::Duration elapsed;
  absl::Duration cpu;
  double rate() const { return static_cast<double>(requests) / absl::ToDoubleSeconds(elapsed); }
  double cpu_us_per_request() const {
    return requests == 0 ? 0 : absl::ToDoubleMicroseconds(cpu) / static_cast<double>(requests);
  }
  void Add(const PhaseResult& other) {
    requests += other.requests;
    errors += other.errors;
    elapsed += other.elapsed;
    cpu += other.cpu;
  }
};

PhaseResult RunPhase(const IngestTarget& target, int port, const std::string& path,
                     std::vector<ClientState>& states, absl::Duration duration) {
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
        state.updated += target.update_step();
        const Delivery delivery =
            target.MakeDelivery(state.first_issue + slot, state.done[slot], state.updated,
                                absl::StrCat("bench-", t, "-", state.sequence++));
        auto result = client.Post(path, delivery.headers, delivery.body, "application/json");
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
  const absl::Duration cpu_start = ProcessCpuTime();
  absl::SleepFor(duration);
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  PhaseResult result;
  result.elapsed = absl::Now() - start;
  result.cpu = ProcessCpuTime() - cpu_start;
  result.requests = requests.load();
  result.errors = errors.load();
  return result;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// Sequential closes/reopens of the first probe issue; latencies in ms. False on a failed
// POST or a change not visible within 5 s.
bool MeasureLatency(const IngestTarget& target, Service& service, const Flags& flags,
                    std::vector<double>& latencies_ms) {
  const std::string probe_kr = absl::StrCat("kr", flags.threads);
  const int probe_issue = flags.threads * kIssuesPerThread + 1;
  // The probe issue carries its weight; the other probe issues keep weight 1.
  const double weight = target.Weight(probe_issue);
  const double done_progress = weight / (weight + kLatencyIssues - 1);
  httplib::Client client("127.0.0.1", service.server->port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  absl::Time updated = absl::FromUnixSeconds(1749031387);
  int64_t timeouts = 0;
  for (int i = 0; i < flags.latency_samples; ++i) {
    const bool done = i % 2 == 0;
    const double expected = done ? done_progress : 0.0;
    updated += absl::Seconds(1);
    const Delivery delivery =
        target.MakeDelivery(probe_issue, done, updated, absl::StrCat("latency-", i));
    const absl::Time start = absl::Now();
    auto result =
        client.Post(target.webhook_path(), delivery.headers, delivery.body, "application/json");
    if (!result || result->status != 200) {
      std::fprintf(stderr, "latency probe %d: POST failed\n", i);
      return false;
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
  if (timeouts > 0) {
    std::printf("%lld changes not visible within 5 s\n", static_cast<long long>(timeouts));
  }
  return timeouts == 0;
}

}  // namespace

int RunIngestBench(IngestTarget& target, const char* name, int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  const std::string db_dir =
      absl::StrCat(flags.dir, "/okr-", name, "-ingest-bench-", static_cast<int64_t>(getpid()));
  std::filesystem::create_directories(db_dir);
  bool ok = true;
  {
    Service service = StartService(target, flags, db_dir + "/okr.db");
    BareServer bare;
    const int port = service.server->port();
    const std::string path = target.webhook_path();

    std::vector<ClientState> states(static_cast<size_t>(flags.threads));
    for (int t = 0; t < flags.threads; ++t) states[t].first_issue = t * kIssuesPerThread + 1;

    // Warm-up: connections, statement cache, page cache.
    RunPhase(target, bare.port, "/empty", states, absl::Milliseconds(500));
    RunPhase(target, port, "/empty", states, absl::Milliseconds(500));
    RunPhase(target, port, path, states, absl::Milliseconds(500));

    const absl::Duration slice = absl::Seconds(flags.duration_s / flags.rounds);
    std::printf("%s: threads=%d rounds=%d slice=%s sqlite_sync=%s db=%s\n", name, flags.threads,
                flags.rounds, absl::FormatDuration(slice).c_str(), flags.sqlite_sync.c_str(),
                db_dir.c_str());
    PhaseResult bare_total;
    PhaseResult empty_total;
    PhaseResult ingest_total;
    for (int round = 0; round < flags.rounds; ++round) {
      const PhaseResult bare_phase = RunPhase(target, bare.port, "/empty", states, slice);
      const PhaseResult empty = RunPhase(target, port, "/empty", states, slice);
      const PhaseResult ingest = RunPhase(target, port, path, states, slice);
      std::printf(
          "round %d: bare cpp-httplib %.0f req/s, empty %.0f req/s, ingest %.0f deliveries/s, "
          "ratio %.2f\n",
          round, bare_phase.rate(), empty.rate(), ingest.rate(), ingest.rate() / empty.rate());
      bare_total.Add(bare_phase);
      empty_total.Add(empty);
      ingest_total.Add(ingest);
    }
    std::printf("bare cpp-httplib: %.0f req/s (%lld errors), %.0f us CPU per request\n",
                bare_total.rate(), static_cast<long long>(bare_total.errors),
                bare_total.cpu_us_per_request());
    std::printf("empty:  %.0f req/s (%lld errors), %.0f us CPU per request\n", empty_total.rate(),
                static_cast<long long>(empty_total.errors), empty_total.cpu_us_per_request());
    std::printf("ingest: %.0f deliveries/s (%lld errors), %.0f us CPU per delivery\n",
                ingest_total.rate(), static_cast<long long>(ingest_total.errors),
                ingest_total.cpu_us_per_request());
    std::printf("ingest/empty = %.2f\n", ingest_total.rate() / empty_total.rate());
    std::printf("empty/bare = %.2f, ingest/bare = %.2f\n", empty_total.rate() / bare_total.rate(),
                ingest_total.rate() / bare_total.rate());

    std::vector<double> latencies_ms;
    ok = MeasureLatency(target, service, flags, latencies_ms) && bare_total.errors == 0 &&
         empty_total.errors == 0 && ingest_total.errors == 0;
    if (latencies_ms.empty()) latencies_ms.push_back(0);
    std::printf(
        "POST -> progress visible (%d sequential closes/reopens): p50 %.2f ms, p99 %.2f ms, "
        "max %.2f ms\n",
        flags.latency_samples, Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
        Percentile(latencies_ms, 1.0));
    service.server->Stop();
  }
  std::filesystem::remove_all(db_dir);
  return ok ? 0 : 1;
}

}  // namespace okr::bench
