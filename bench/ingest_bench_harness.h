// The driver shared by the webhook ingest benchmarks (okr_jira_ingest_bench,
// okr_gitlab_ingest_bench): what a tracker webhook costs end to end, as a ratio to the bare
// HTTP server it runs in.
//
//   ingest  POST <webhook path>: a delivery through the full path the server runs
//           (okr::http::HttpServer -> the tracker's webhook handler: authenticity check ->
//           parse -> CoreTrackerSink -> OkrCore::ApplyTrackerUpdate, one SQLite transaction
//           with synchronous=FULL, i.e. durable before the 200)
//   empty   POST /empty on the same HttpServer: answers 200 "{}" at once
//
// Both routes get identical requests from the same client: --threads threads, each a
// keep-alive connection (cpp-httplib) in a closed loop, building a fresh body per request
// (every ingest delivery is a real change: the thread's 50 issues alternate between done
// and not done with growing update times, and every delivery id is new). The two targets
// are interleaved in rounds so both see the same machine. Each phase also reports the CPU
// time of the whole process (client + server) per request, which moves much less with
// outside load than the rates do.
//
// Then the latency of a change: sequential closes/reopens of one issue of a probe key
// result, each timed from the start of the POST until OkrCore::GetKeyResult shows the new
// progress.
//
//   <bench> [--threads=8] [--duration=8] [--rounds=4] [--latency_samples=300] [--dir=DIR]
//           [--sqlite_sync=full]
//
// --sqlite_sync=normal drops the fsync per commit (not durable on power loss, so not what
// the service promises); it is there to show what the fsync costs.
// --dir (default $BENCH_TMP, else the current directory) holds the scratch database; keep
// it on a real disk, not a tmpfs, so that fsync costs what it costs. Prints
// "ingest/empty = 0.xx" and the p50/p99 latency; exits 1 on any failed request.
//
// Usage: implement IngestTarget for the tracker and call RunIngestBench from main().
#ifndef OKR_BENCH_INGEST_BENCH_HARNESS_H_
#define OKR_BENCH_INGEST_BENCH_HARNESS_H_

#include <httplib.h>

#include <string>

#include "absl/time/time.h"
#include "service/http/http_server.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::bench {

// One webhook delivery as the tracker would send it.
struct Delivery {
  std::string body;
  httplib::Headers headers;
};

// The tracker-specific part of an ingest benchmark. Issues are numbered from 1.
class IngestTarget {
 public:
  virtual ~IngestTarget() = default;
  // e.g. "/webhooks/jira".
  virtual std::string webhook_path() const = 0;
  // How much later each successive update of one issue is stamped.
  virtual absl::Duration update_step() const = 0;
  // The work item linked for issue `n` (tracker and key; title optional).
  virtual WorkItem LinkedItem(int n) const = 0;
  // The weight the deliveries of issue `n` carry (story points, GitLab weight).
  virtual double Weight(int n) const = 0;
  // The delivery moving issue `n` to done (or back) at `updated`, with delivery id `id`.
  virtual Delivery MakeDelivery(int n, bool done, absl::Time updated,
                                const std::string& id) const = 0;
  // Registers the tracker's webhook route on `server`, delivering into `sink` (both outlive
  // the target's use of them).
  virtual void Serve(http::HttpServer& server, sync::TrackerSink& sink) = 0;
};

// Parses the flags above, runs the benchmark against `target` and returns the exit code.
int RunIngestBench(IngestTarget& target, const char* name, int argc, char** argv);

}  // namespace okr::bench

#endif  // OKR_BENCH_INGEST_BENCH_HARNESS_H_
