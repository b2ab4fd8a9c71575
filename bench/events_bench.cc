// okr_events_bench: what the event outbox costs and delivers, as ratios to the raw write
// rate measured in the same run, all in one process on a real SQLite file
// (synchronous=FULL, as the server's default).
//
//   BM_CheckInWrite          the baseline: OkrCore::CreateCheckIn on a metric key result,
//                            no subscribers, no hub (every write still appends its events
//                            to the outbox in the same transaction)
//   BM_DeliverToReceiver     SubscriptionDeliverer (CurlHttpClient, api::EventToJson, HMAC
//                            signing) POSTing committed events to a local cpp-httplib
//                            receiver answering 200: events delivered/s. Each iteration
//                            commits a batch of check-ins untimed, then times the rounds
//                            until the cursor is at the outbox head.
//   BM_WatchFanout/N         an in-process gRPC server (OkrGrpcService with SetEvents, the
//                            EventHub running) with N WatchEvents streams (callback client
//                            API, no filter) while check-ins are written through OkrCore:
//                            the write rate with N watchers, and events received per watcher
//                            per second (every event written, until the last watcher has
//                            it). N = 0 runs the hub and server without streams.
//
// After the runs it prints the ratios to BM_CheckInWrite.
//
//   build/bench/okr_events_bench [--dir=DIR] [--sync=full|normal] [benchmark flags]
//   build/bench/okr_events_bench --dir=build --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true    (one command line)
//
// Under FULL the write rate is the latency of fsync on the disk, which moves a lot on a
// shared machine; interleaved repetitions (the second line) give every benchmark the same
// machine, and the ratios are taken between medians. The CPU column (the writing thread's
// CPU time per check-in) is the steadier figure.
//
// --dir (default $BENCH_TMP, else the current directory) holds the scratch databases;
// keep it on a real disk so that fsync costs what it costs.
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "service/api/okr_grpc_service.h"
#include "service/api/proto_convert.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/events/event_hub.h"
#include "service/events/subscription_deliverer.h"
#include "service/okr/clock.h"
#include "service/outbound/curl_http_client.h"
#include "service/storage/sqlite/sqlite_store.h"

namespace okr {
namespace {

std::string& ScratchDir() {
  static std::string dir;
  return dir;
}
storage::SqliteOptions::Sync& SyncMode() {
  static storage::SqliteOptions::Sync sync = storage::SqliteOptions::Sync::kFull;
  return sync;
}

// A fresh SQLite file with team t, cycle c (running), objective o and metric key result k.
class World {
 public:
  World() {
    static int n = 0;
    path_ = absl::StrCat(ScratchDir(), "/okr_events_bench_", getpid(), "_", n++, ".db");
    storage::SqliteOptions options;
    options.path = path_;
    options.sync = SyncMode();
    auto store = storage::SqliteStore::Open(options);
    if (!store.ok()) {
      std::fprintf(stderr, "sqlite: %s\n", store.status().ToString().c_str());
      std::abort();
    }
    store_ = *std::move(store);
    core_ = std::make_unique<core::OkrCore>(*store_, SystemClock::Get());
    events_ = std::make_unique<core::EventsCore>(*store_, SystemClock::Get());
    Team team;
    team.id = "t";
    team.display_name = "T";
    Cycle cycle;
    cycle.id = "c";
    cycle.display_name = "C";
    cycle.start_time = absl::Now() - absl::Hours(24 * 45);
    cycle.end_time = absl::Now() + absl::Hours(24 * 45);
    Objective o;
    o.id = "o";
    o.title = "O";
    o.team_id = "t";
    o.cycle_id = "c";
    KeyResult kr;
    kr.objective_id = "o";
    kr.id = "k";
    kr.title = "K";
    kr.metric = {0, 1000, 0, ""};
    if (!core_->CreateTeam(team, "").ok() || !core_->CreateCycle(cycle, "").ok() ||
        !core_->CreateObjective(o, "").ok() || !core_->CreateKeyResult(kr, "").ok()) {
      std::fprintf(stderr, "setup failed\n");
      std::abort();
    }
  }
  ~World() {
    events_.reset();
    core_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      std::filesystem::remove(path_ + suffix, ec);
    }
  }

  // One check-in; values cycle through 1..999 so that every write moves progress.
  bool CheckIn() {
    okr::CheckIn c;
    c.objective_id = "o";
    c.key_result_id = "k";
    c.value = 1 + (value_++ % 999);
    return core_->CreateCheckIn(c, "").ok();
  }
  int64_t LastSequence() {
    absl::StatusOr<int64_t> last = events_->LastEventSequence();
    return last.ok() ? *last : -1;
  }

  core::OkrCore& core() { return *core_; }
  core::EventsCore& events() { return *events_; }

 private:
  std::string path_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<core::EventsCore> events_;
  int value_ = 0;
};

void BM_CheckInWrite(benchmark::State& state) {
  World world;
  const int64_t first = world.LastSequence();
  for (auto _ : state) {
    if (!world.CheckIn()) {
      state.SkipWithError("CreateCheckIn failed");
      return;
    }
  }
  state.counters["writes/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  state.counters["events/write"] =
      static_cast<double>(world.LastSequence() - first) / state.iterations();
}
BENCHMARK(BM_CheckInWrite)->UseRealTime()->MinTime(3.0);

// Answers every POST /hook with 200 and counts them.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request&, httplib::Response& res) {
      received_.fetch_add(1, std::memory_order_relaxed);
      res.status = 200;
    });
    // One connection for the whole run (the deliverer keeps it alive), and no Nagle delay
    // on the small responses.
    server_.set_keep_alive_max_count(1 << 30);
    server_.set_tcp_nodelay(true);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  int64_t received() const { return received_.load(); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int64_t> received_{0};
};

constexpr int kCheckInsPerDeliveryIteration = 100;

void BM_DeliverToReceiver(benchmark::State& state) {
  World world;
  Receiver receiver;
  auto http = outbound::CurlHttpClient::Create({});
  if (!http.ok()) {
    state.SkipWithError("curl");
    return;
  }
  Subscription sub;
  sub.id = "bench";
  sub.target_url = receiver.url();
  sub.secret = "bench-subscription-secret";
  if (!world.events().CreateSubscription(sub).ok()) {
    state.SkipWithError("CreateSubscription failed");
    return;
  }
  events::DelivererOptions options;
  events::SubscriptionDeliverer deliverer(world.events(), world.core(), **http, SystemClock::Get(),
                                          api::EventToJson, options);
  int64_t delivered = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < kCheckInsPerDeliveryIteration; ++i) world.CheckIn();
    const int64_t head = world.LastSequence();
    state.ResumeTiming();
    while (true) {
      deliverer.RunOnce();
      absl::StatusOr<core::DeliveryState> s = world.events().GetDeliveryState(sub.id);
      if (!s.ok() || s->attempts > 0) {
        state.SkipWithError("delivery failed");
        return;
      }
      if (s->delivered_sequence >= head) break;
    }
    delivered = receiver.received();
  }
  state.counters["events/s"] = benchmark::Counter(delivered, benchmark::Counter::kIsRate);
  state.counters["events"] = delivered;
}
BENCHMARK(BM_DeliverToReceiver)->UseRealTime()->MinTime(3.0);

// Reads one WatchEvents stream on the callback client API, counting events.
class Watcher final : public grpc::ClientReadReactor<v1::Event> {
 public:
  Watcher(v1::OkrService::Stub& stub, int64_t after_sequence) {
    v1::WatchEventsRequest req;
    req.set_after_sequence(after_sequence);
    stub.async()->WatchEvents(&ctx_, &req, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    last_.store(event_.sequence(), std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    StartRead(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  void Cancel() { ctx_.TryCancel(); }
  void AwaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }
  int64_t count() const { return count_.load(); }
  int64_t last() const { return last_.load(); }

 private:
  grpc::ClientContext ctx_;
  v1::Event event_;
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> last_{0};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

void BM_WatchFanout(benchmark::State& state) {
  const int watchers = static_cast<int>(state.range(0));
  World world;
  events::EventHub hub(world.events(), {});
  if (!hub.Start().ok()) {
    state.SkipWithError("hub");
    return;
  }
  api::OkrGrpcService service(world.core());
  service.SetEvents(&world.events(), &hub, &SystemClock::Get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = v1::OkrService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  // Each stream starts one event back, so that its first event shows it is connected.
  world.CheckIn();
  const int64_t start = world.LastSequence();
  std::vector<std::unique_ptr<Watcher>> streams;
  for (int i = 0; i < watchers; ++i) streams.push_back(std::make_unique<Watcher>(*stub, start - 1));
  const absl::Time ready_deadline = absl::Now() + absl::Seconds(60);
  for (auto& w : streams) {
    while (w->last() < start && absl::Now() < ready_deadline) absl::SleepFor(absl::Milliseconds(1));
  }

  const absl::Time begin = absl::Now();
  for (auto _ : state) {
    if (!world.CheckIn()) {
      state.SkipWithError("CreateCheckIn failed");
      break;
    }
  }
  const absl::Time writes_end = absl::Now();
  const int64_t head = world.LastSequence();
  // Until every watcher has every event written.
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(120);
  bool all = true;
  for (auto& w : streams) {
    while (w->last() < head && absl::Now() < drain_deadline)
      absl::SleepFor(absl::Microseconds(200));
    all = all && w->last() >= head;
  }
  const absl::Time drained = absl::Now();
  for (auto& w : streams) w->Cancel();
  for (auto& w : streams) w->AwaitDone();
  server->Shutdown();
  hub.Stop();
  if (!all) {
    state.SkipWithError("a watcher did not receive every event within 120 s");
    return;
  }
  const double events = static_cast<double>(head - start);
  state.counters["writes/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  state.counters["events/write"] = events / state.iterations();
  if (watchers > 0) {
    state.counters["recv/watcher/s"] = events / absl::ToDoubleSeconds(drained - begin);
    state.counters["drain_ms"] = absl::ToDoubleMilliseconds(drained - writes_end);
  }
}
BENCHMARK(BM_WatchFanout)->Arg(0)->Arg(100)->UseRealTime()->MinTime(3.0);

// Prints as usual and keeps each run's counters for the ratios: the median of the
// repetitions when there are several (--benchmark_repetitions), else the single run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const std::string& args = run.run_name.args;
      std::map<std::string, double>& c =
          (median ? medians_
                  : runs_)[absl::StrCat(run.run_name.function_name, args.empty() ? "" : "/", args)];
      for (const auto& [name, counter] : run.counters) c[name] = counter.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // The counter of `benchmark` ("BM_WatchFanout/100"); 0 if it did not run.
  double Get(const std::string& benchmark, const std::string& counter) const {
    for (const auto* runs : {&medians_, &runs_}) {
      auto r = runs->find(benchmark);
      if (r == runs->end()) continue;
      auto c = r->second.find(counter);
      return c == r->second.end() ? 0 : c->second;
    }
    return 0;
  }

 private:
  std::map<std::string, std::map<std::string, double>> runs_;
  std::map<std::string, std::map<std::string, double>> medians_;
};

std::string Ratio(double a, double b) { return b > 0 ? absl::StrCat(a / b) : "n/a"; }

}  // namespace
}  // namespace okr

int main(int argc, char** argv) {
  std::vector<char*> args;
  const char* env = std::getenv("BENCH_TMP");
  okr::ScratchDir() = env != nullptr && *env ? env : ".";
  for (int i = 0; i < argc; ++i) {
    if (absl::StartsWith(argv[i], "--dir=")) {
      okr::ScratchDir() = argv[i] + 6;
    } else if (std::string(argv[i]) == "--sync=normal") {
      okr::SyncMode() = okr::storage::SqliteOptions::Sync::kNormal;
    } else if (std::string(argv[i]) == "--sync=full") {
      okr::SyncMode() = okr::storage::SqliteOptions::Sync::kFull;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  okr::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double writes = reporter.Get("BM_CheckInWrite", "writes/s");
  const double per_write = reporter.Get("BM_CheckInWrite", "events/write");
  const double delivered = reporter.Get("BM_DeliverToReceiver", "events/s");
  const double fan0 = reporter.Get("BM_WatchFanout/0", "writes/s");
  const double fan100 = reporter.Get("BM_WatchFanout/100", "writes/s");
  const double recv = reporter.Get("BM_WatchFanout/100", "recv/watcher/s");
  std::printf("\nbaseline BM_CheckInWrite: %.0f check-ins/s, %.2f events each = %.0f events/s\n",
              writes, per_write, writes * per_write);
  std::printf("deliveries to the receiver, events/s / baseline events/s        = %s\n",
              okr::Ratio(delivered, writes * per_write).c_str());
  std::printf("write rate, hub + gRPC server, 0 watchers / baseline             = %s\n",
              okr::Ratio(fan0, writes).c_str());
  std::printf("write rate with 100 watchers / baseline                          = %s\n",
              okr::Ratio(fan100, writes).c_str());
  std::printf("events received per watcher/s (100 watchers) / baseline events/s = %s\n",
              okr::Ratio(recv, writes * per_write).c_str());
  return 0;
}
