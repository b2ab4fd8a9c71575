// okr_pages_bench: what the pages cost to render on the server, as ratios to GetObjective
// measured in the same run, in one process on a SQLite file (--sqlite-sync=normal: these
// are reads; the seeding writes are not timed).
//
//   BM_GetObjective    the baseline: OkrCore::GetObjective of the key result's objective
//   BM_KeyResultPage   WebPages::Handle(GET /objectives/o/keyResults/k) of a work-items key
//                      result with 1,000 linked items and 500 check-ins (so ~1,500 events
//                      in its history): every read, the chart, ctemplate expansion
//   BM_CyclePage       WebPages::Handle(GET /cycles/c) with 1,000 objectives in the cycle
//                      (10 trees of depth 3 + 90 unaligned): list, layout, SVG
//
// Pages are rendered with --auth=none (no session lookup); the time is server time only
// (no socket). After the runs it prints the ratios page / GetObjective.
//
//   build/bench/okr_pages_bench [--dir=DIR] [benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/core/tokens_core.h"
#include "service/okr/clock.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/web/web_pages.h"
#include "service/web/web_sessions.h"

namespace okr {
namespace {

std::string& ScratchDir() {
  static std::string* dir = new std::string(".");
  return *dir;
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// One store with the data of both pages, built once.
class World {
 public:
  static World& Get() {
    static World* world = new World();
    return *world;
  }

  core::OkrCore& core() { return *core_; }
  web::WebPages& pages() { return *pages_; }

 private:
  World() {
    const std::string path = absl::StrCat(ScratchDir(), "/okr_pages_bench.db");
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    storage::SqliteOptions options;
    options.path = path;
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    Check(store.status(), "open");
    store_ = std::move(*store);
    const Clock& clock = SystemClock::Get();
    core_ = std::make_unique<core::OkrCore>(*store_, clock);
    events_ = std::make_unique<core::EventsCore>(*store_, clock);
    tokens_ = std::make_unique<core::TokensCore>(*store_, clock);
    sessions_ = std::make_unique<web::WebSessions>(*store_, clock);
    web::WebPagesOptions o;
    o.auth_enabled = false;
    pages_ = std::make_unique<web::WebPages>(*core_, *events_, *tokens_, *sessions_, clock, o);
    Seed();
  }

  void Seed() {
    const absl::Time t0 = absl::Now();
    Team team;
    team.id = "t";
    team.display_name = "Team";
    Check(core_->CreateTeam(team, "").status(), "team");
    for (const char* id : {"c", "big"}) {
      Cycle cycle;
      cycle.id = id;
      cycle.display_name = id;
      cycle.start_time = absl::Now() - absl::Hours(24 * 30);
      cycle.end_time = absl::Now() + absl::Hours(24 * 60);
      Check(core_->CreateCycle(cycle, "").status(), "cycle");
    }
    Objective o;
    o.id = "o";
    o.title = "The objective";
    o.team_id = "t";
    o.cycle_id = "c";
    Check(core_->CreateObjective(o, "").status(), "objective");
    KeyResult items;
    items.id = "k";
    items.objective_id = "o";
    items.title = "Ship it";
    items.type = KeyResultType::kWorkItems;
    Check(core_->CreateKeyResult(items, "").status(), "key result");
    for (int i = 0; i < 1000; ++i) {
      WorkItem w;
      w.tracker = Tracker::kJira;
      w.key = absl::StrCat("OKRX-", i + 1);
      w.title = absl::StrCat("Work item number ", i + 1);
      w.url = absl::StrCat("https://acme.atlassian.net/browse/OKRX-", i + 1);
      w.done = i % 3 == 0;
      Check(core_->LinkWorkItem("o", "k", w, "").status(), "link");
    }
    for (int i = 0; i < 500; ++i) {
      CheckIn c;
      c.objective_id = "o";
      c.key_result_id = "k";
      c.confidence = (i % 10) / 10.0;
      c.note = absl::StrCat("Check-in ", i, ": steady progress, <no> surprises");
      c.author = "Ada";
      Check(core_->CreateCheckIn(c, "").status(), "check-in");
    }
    // 1,000 objectives in cycle "big": 10 roots (team t), 10 children each (teams t-B
    // below t), 8 grandchildren each (teams t-B-C below those): 10 + 100 + 800, plus 90
    // unaligned ones. Alignment goes to objectives of teams above.
    auto add_team = [&](const std::string& id, const std::string& parent) {
      Team x;
      x.id = id;
      x.display_name = id;
      x.parent_id = parent;
      Check(core_->CreateTeam(x, "").status(), "team");
    };
    for (int b = 0; b < 10; ++b) {
      add_team(absl::StrCat("t-", b), "t");
      for (int c = 0; c < 8; ++c) add_team(absl::StrCat("t-", b, "-", c), absl::StrCat("t-", b));
    }
    int n = 0;
    auto add = [&](const std::string& id, const std::string& team, const std::string& parent) {
      Objective x;
      x.id = id;
      x.title = absl::StrCat("Objective ", id, " of the big cycle");
      x.team_id = team;
      x.cycle_id = "big";
      x.parent_id = parent;
      Check(core_->CreateObjective(x, "").status(), "big objective");
      ++n;
    };
    for (int a = 0; a < 10; ++a) {
      const std::string ra = absl::StrCat("r", a);
      add(ra, "t", "");
      for (int b = 0; b < 10; ++b) {
        const std::string rb = absl::StrCat(ra, "-", b);
        add(rb, absl::StrCat("t-", b), ra);
        for (int c = 0; c < 8; ++c) {
          add(absl::StrCat(rb, "-", c), absl::StrCat("t-", b, "-", c), rb);
        }
      }
    }
    while (n < 1000) add(absl::StrCat("extra-", n), "t", "");
    std::fprintf(stderr, "seeded in %.1f s\n", absl::ToDoubleSeconds(absl::Now() - t0));
  }

  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<core::EventsCore> events_;
  std::unique_ptr<core::TokensCore> tokens_;
  std::unique_ptr<web::WebSessions> sessions_;
  std::unique_ptr<web::WebPages> pages_;
};

void BM_GetObjective(benchmark::State& state) {
  World& w = World::Get();
  for (auto _ : state) {
    absl::StatusOr<Objective> o = w.core().GetObjective("o");
    if (!o.ok()) state.SkipWithError("GetObjective failed");
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_GetObjective)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

void RenderPage(benchmark::State& state, const std::string& path) {
  World& w = World::Get();
  http::HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.remote_addr = "127.0.0.1";
  size_t bytes = 0;
  for (auto _ : state) {
    http::HttpResponse page = w.pages().Handle(r);
    if (page.status != 200) state.SkipWithError(("status " + std::to_string(page.status)).c_str());
    bytes = page.body.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["KiB"] = static_cast<double>(bytes) / 1024;
}

void BM_KeyResultPage(benchmark::State& state) { RenderPage(state, "/objectives/o/keyResults/k"); }
BENCHMARK(BM_KeyResultPage)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_CyclePage(benchmark::State& state) { RenderPage(state, "/cycles/big"); }
BENCHMARK(BM_CyclePage)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// Prints as usual and keeps each benchmark's real time per iteration (ns; the median with
// repetitions).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      // (An aggregate's accumulated times are its value times its iteration count.)
      const double n = static_cast<double>(run.iterations);
      const std::string& name = run.run_name.function_name;
      if (median || !real_ns_.count(name)) {
        real_ns_[name] = run.real_accumulated_time * 1e9 / n;
        cpu_ns_[name] = run.cpu_accumulated_time * 1e9 / n;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Nanoseconds per iteration, wall clock or CPU of the benchmark thread; 0 if not run.
  double Real(const std::string& name) const { return Find(real_ns_, name); }
  double Cpu(const std::string& name) const { return Find(cpu_ns_, name); }

 private:
  static double Find(const std::map<std::string, double>& m, const std::string& name) {
    auto it = m.find(name);
    return it == m.end() ? 0 : it->second;
  }
  std::map<std::string, double> real_ns_;
  std::map<std::string, double> cpu_ns_;
};

}  // namespace
}  // namespace okr

int main(int argc, char** argv) {
  std::vector<char*> args;
  const char* env = std::getenv("BENCH_TMP");
  okr::ScratchDir() = env != nullptr && *env ? env : ".";
  for (int i = 0; i < argc; ++i) {
    if (absl::StartsWith(argv[i], "--dir=")) {
      okr::ScratchDir() = argv[i] + 6;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  okr::World::Get();  // seed before anything is timed
  okr::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const double base = reporter.Real("BM_GetObjective");
  const double base_cpu = reporter.Cpu("BM_GetObjective");
  std::printf("\nbaseline GetObjective: %.1f us (CPU %.1f us)\n", base / 1e3, base_cpu / 1e3);
  for (const auto& [name, label] :
       {std::pair<const char*, const char*>{"BM_KeyResultPage",
                                            "key result page (1,000 items, 500 check-ins)"},
        {"BM_CyclePage", "cycle page (1,000 objectives)               "}}) {
    const double t = reporter.Real(name), c = reporter.Cpu(name);
    std::printf("%s / GetObjective: %.0fx wall (%.1f ms), %.0fx CPU (%.1f ms)\n", label,
                base > 0 ? t / base : 0.0, t / 1e6, base_cpu > 0 ? c / base_cpu : 0.0, c / 1e6);
  }
  return 0;
}
