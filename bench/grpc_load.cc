// okr_grpc_load: closed-loop gRPC load client of the benchmark (bench/README.md).
// `--concurrency` callers each keep exactly one unary call in flight on the gRPC callback
// client API, spread over `--channels` channels (each its own HTTP/2 connection). It
// measures the completed calls per second and the p50/p99 latency of one or more targets:
//
//   echo             okr.bench.Echo/Ping on the bare echo server (the baseline)
//   get_objective    okr.v1.OkrService/GetObjective on an objective created in setup
//   create_check_in  okr.v1.OkrService/CreateCheckIn on a metric key result of it
//
//   okr_grpc_load --echo-address=127.0.0.1:50600 --address=127.0.0.1:50051
//       --target=echo,get_objective,create_check_in [--concurrency=64] [--channels=4]
//       [--duration=10] [--rounds=4] [--warmup=2] [--slice-warmup=0.5]
//       [--echo-pid=PID] [--server-pid=PID]
//
// With several targets the measurement is interleaved so that they see the same machine
// (which may be shared and noisy): `--rounds` rounds, each running every target in turn
// for duration/rounds seconds after a warm-up (`--warmup` the first time a target runs,
// `--slice-warmup` after that). echo goes to `--echo-address` (default `--address`).
//
// Output on stdout, for scripts: per round and target a ROUND line, then per target
//   RESULT target=echo concurrency=64 channels=4 seconds=10.00 ok=N errors=0
//          rate=12345.6 p50_us=1234.5 p99_us=2345.6 client_cpu_us=20.1 server_cpu_us=15.2
// and, if echo is among the targets, per other target
//   RATIO target=get_objective pooled=0.71 rounds=0.69,0.74,0.70,0.71
// rate is pooled over the rounds (calls / measured seconds), p50/p99 come from the merged
// histogram. client_cpu_us / server_cpu_us are the CPU time (user + system) this process
// and the server process (`--echo-pid` for echo, `--server-pid` for the others; -1 when not
// given) spent per completed call while measuring: unlike calls/s, it hardly depends on
// what else the machine runs.
//
// It also writes a gRPC-framed request body for h2load (`h2load -d FILE`): a 0 byte (not
// compressed), the 4-byte big-endian length, then the serialized request.
//
//   okr_grpc_load --write-request=echo --out=ping.bin
//   okr_grpc_load --write-request=get_objective:objectives/ID --out=get.bin
//   okr_grpc_load --write-request=get_objective --address=HOST:PORT --out=get.bin
//   okr_grpc_load --write-request=create_check_in --address=HOST:PORT --out=put.bin
//       (the last two first create a team, cycle, objective and key result; a check-in
//       request names the key result, and carries the same value every time)
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "okr/v1/okr_service.grpc.pb.h"

namespace okr::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string address;
  std::string echo_address;
  std::vector<std::string> targets;
  int concurrency = 64;
  int channels = 4;
  double duration_s = 10;
  int rounds = 1;
  double warmup_s = 2;
  double slice_warmup_s = 0.5;
  int payload_bytes = 32;
  int server_pid = 0;
  int echo_pid = 0;
  std::string write_request;
  std::string out;
};

constexpr char kUsage[] =
    "usage: okr_grpc_load --address=HOST:PORT [--echo-address=HOST:PORT]\n"
    "           --target=TARGET[,TARGET...]  (echo, get_objective, create_check_in)\n"
    "           [--concurrency=64] [--channels=4] [--duration=10] [--rounds=1]\n"
    "           [--warmup=2] [--slice-warmup=0.5] [--payload-bytes=32]\n"
    "           [--server-pid=PID] [--echo-pid=PID]\n"
    "       okr_grpc_load --write-request=echo|get_objective[:NAME]|create_check_in[:NAME]\n"
    "           --out=FILE [--address=HOST:PORT]  (needed without NAME)\n";

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = false;
    if (absl::ConsumePrefix(&arg, "--address=")) {
      flags.address = std::string(arg);
      ok = !arg.empty();
    } else if (absl::ConsumePrefix(&arg, "--echo-address=")) {
      flags.echo_address = std::string(arg);
      ok = !arg.empty();
    } else if (absl::ConsumePrefix(&arg, "--target=")) {
      flags.targets = absl::StrSplit(arg, ',');
      ok = true;
      for (const std::string& t : flags.targets) {
        ok = ok && (t == "echo" || t == "get_objective" || t == "create_check_in");
      }
    } else if (absl::ConsumePrefix(&arg, "--concurrency=")) {
      ok = absl::SimpleAtoi(arg, &flags.concurrency) && flags.concurrency > 0;
    } else if (absl::ConsumePrefix(&arg, "--channels=")) {
      ok = absl::SimpleAtoi(arg, &flags.channels) && flags.channels > 0;
    } else if (absl::ConsumePrefix(&arg, "--duration=")) {
      ok = absl::SimpleAtod(arg, &flags.duration_s) && flags.duration_s > 0;
    } else if (absl::ConsumePrefix(&arg, "--rounds=")) {
      ok = absl::SimpleAtoi(arg, &flags.rounds) && flags.rounds > 0;
    } else if (absl::ConsumePrefix(&arg, "--warmup=")) {
      ok = absl::SimpleAtod(arg, &flags.warmup_s) && flags.warmup_s >= 0;
    } else if (absl::ConsumePrefix(&arg, "--slice-warmup=")) {
      ok = absl::SimpleAtod(arg, &flags.slice_warmup_s) && flags.slice_warmup_s >= 0;
    } else if (absl::ConsumePrefix(&arg, "--payload-bytes=")) {
      ok = absl::SimpleAtoi(arg, &flags.payload_bytes) && flags.payload_bytes >= 0;
    } else if (absl::ConsumePrefix(&arg, "--server-pid=")) {
      ok = absl::SimpleAtoi(arg, &flags.server_pid) && flags.server_pid > 0;
    } else if (absl::ConsumePrefix(&arg, "--echo-pid=")) {
      ok = absl::SimpleAtoi(arg, &flags.echo_pid) && flags.echo_pid > 0;
    } else if (absl::ConsumePrefix(&arg, "--write-request=")) {
      flags.write_request = std::string(arg);
      ok = !arg.empty();
    } else if (absl::ConsumePrefix(&arg, "--out=")) {
      flags.out = std::string(arg);
      ok = !arg.empty();
    }
    if (!ok) {
      std::fprintf(stderr, "okr_grpc_load: bad argument \"%s\"\n%s", argv[i], kUsage);
      return false;
    }
  }
  return true;
}

// CPU time (user + system, seconds) a process has used so far, from /proc/PID/stat;
// -1 if it cannot be read.
double ProcessCpuSeconds(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Latency histogram with log-linear buckets: exact below 128 ns, then 64 buckets per
// power of two (relative error < 1.6%). Not thread-safe: each caller owns one and the
// results are merged at the end.
class LatencyHistogram {
 public:
  LatencyHistogram() : buckets_(kBuckets, 0) {}

  void Record(int64_t ns) {
    uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
    v = std::min<uint64_t>(v, kMaxValue);
    ++buckets_[Index(v)];
    ++count_;
  }

  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
  }

  int64_t count() const { return count_; }

  // The value (ns, bucket midpoint) below which a fraction q of the samples lie.
  double Quantile(double q) const {
    if (count_ == 0) return 0;
    const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(q * count_ + 0.5));
    int64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return (Lower(i) + Lower(i + 1) - 1) / 2.0;
    }
    return static_cast<double>(kMaxValue);
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr uint64_t kMaxValue = (uint64_t{1} << 40) - 1;  // ~18 minutes
  static constexpr size_t kBuckets = 2 * kSub + (40 - kSubBits) * kSub;

  static size_t Index(uint64_t v) {
    if (v < 2 * kSub) return v;
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;
    return 2 * kSub + (shift - 1) * kSub + ((v >> shift) - kSub);
  }

  static uint64_t Lower(size_t index) {
    if (index < 2 * kSub) return index;
    const size_t rest = index - 2 * kSub;
    const int shift = static_cast<int>(rest / kSub) + 1;
    return (kSub + rest % kSub) << shift;
  }

  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
};

// One kind of call. Start() begins one call on `context` and runs `done` (on a gRPC
// thread) when it completes; a Caller is used by one closed-loop caller at a time.
class Caller {
 public:
  virtual ~Caller() = default;
  virtual void Start(grpc::ClientContext* context, std::function<void(grpc::Status)> done) = 0;
};

class EchoCaller : public Caller {
 public:
  EchoCaller(Echo::Stub* stub, int payload_bytes) : stub_(stub) {
    request_.set_payload(std::string(payload_bytes, 'x'));
  }
  void Start(grpc::ClientContext* context, std::function<void(grpc::Status)> done) override {
    stub_->async()->Ping(context, &request_, &response_, std::move(done));
  }

 private:
  Echo::Stub* stub_;
  PingRequest request_;
  PingResponse response_;
};

class GetObjectiveCaller : public Caller {
 public:
  GetObjectiveCaller(okr::v1::OkrService::Stub* stub, const std::string& objective) : stub_(stub) {
    request_.set_name(objective);
  }
  void Start(grpc::ClientContext* context, std::function<void(grpc::Status)> done) override {
    stub_->async()->GetObjective(context, &request_, &response_, std::move(done));
  }

 private:
  okr::v1::OkrService::Stub* stub_;
  okr::v1::GetObjectiveRequest request_;
  okr::v1::Objective response_;
};

class CreateCheckInCaller : public Caller {
 public:
  CreateCheckInCaller(okr::v1::OkrService::Stub* stub, const std::string& key_result, int id)
      : stub_(stub), id_(id) {
    request_.set_parent(key_result);
    request_.mutable_check_in()->set_author(absl::StrCat("bench-", id));
    request_.mutable_check_in()->set_note("load test");
  }
  void Start(grpc::ClientContext* context, std::function<void(grpc::Status)> done) override {
    // A new value every time, between start (0) and target (100) of the key result.
    request_.mutable_check_in()->set_value(static_cast<double>((id_ + ++sequence_) % 100));
    stub_->async()->CreateCheckIn(context, &request_, &response_, std::move(done));
  }

 private:
  okr::v1::OkrService::Stub* stub_;
  int id_;
  int64_t sequence_ = 0;
  okr::v1::CreateCheckInRequest request_;
  okr::v1::CheckIn response_;
};

// Drives `callers` in a closed loop: warm-up, measurement window, stop.
class ClosedLoop {
 public:
  struct Result {
    double seconds = 0;
    int64_t ok = 0;
    int64_t errors = 0;
    std::string first_error;
    LatencyHistogram histogram;
    double client_cpu_s = 0;   // CPU time of this process in the window
    double server_cpu_s = -1;  // CPU time of the server process in the window; -1 unknown

    // Adds another measurement window of the same target.
    void Merge(const Result& other) {
      const bool first = seconds == 0;
      seconds += other.seconds;
      ok += other.ok;
      errors += other.errors;
      if (first_error.empty()) first_error = other.first_error;
      histogram.Merge(other.histogram);
      client_cpu_s += other.client_cpu_s;
      if (other.server_cpu_s < 0 || (!first && server_cpu_s < 0)) {
        server_cpu_s = -1;
      } else {
        server_cpu_s = (first ? 0 : server_cpu_s) + other.server_cpu_s;
      }
    }
    double rate() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
  };

  explicit ClosedLoop(std::vector<std::unique_ptr<Caller>> callers) {
    for (auto& caller : callers) {
      auto slot = std::make_unique<Slot>();
      slot->caller = std::move(caller);
      slots_.push_back(std::move(slot));
    }
  }

  // `server_pid` 0: do not measure the server's CPU time.
  Result Run(absl::Duration warmup, absl::Duration duration, int server_pid) {
    phase_.store(kWarmup);
    in_flight_ = static_cast<int>(slots_.size());
    for (auto& slot : slots_) Launch(slot.get());

    absl::SleepFor(warmup);
    const double client_cpu_begin = ProcessCpuSeconds(0);
    const double server_cpu_begin = server_pid != 0 ? ProcessCpuSeconds(server_pid) : -1;
    const Clock::time_point begin = Clock::now();
    phase_.store(kMeasure);
    absl::SleepFor(duration);
    phase_.store(kStop);
    const Clock::time_point end = Clock::now();
    const double client_cpu_end = ProcessCpuSeconds(0);
    const double server_cpu_end = server_pid != 0 ? ProcessCpuSeconds(server_pid) : -1;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_.wait_for(lock, std::chrono::seconds(30), [this] { return in_flight_ == 0; });
      if (in_flight_ != 0) std::fprintf(stderr, "okr_grpc_load: %d calls hang\n", in_flight_);
    }

    Result result;
    result.seconds = std::chrono::duration<double>(end - begin).count();
    result.client_cpu_s = client_cpu_end - client_cpu_begin;
    if (server_cpu_begin >= 0 && server_cpu_end >= 0) {
      result.server_cpu_s = server_cpu_end - server_cpu_begin;
    }
    for (auto& slot : slots_) {
      result.histogram.Merge(slot->histogram);
      result.errors += slot->errors;
      if (result.first_error.empty()) result.first_error = slot->first_error;
    }
    result.ok = result.histogram.count();
    return result;
  }

 private:
  enum Phase { kWarmup, kMeasure, kStop };

  struct Slot {
    std::unique_ptr<Caller> caller;
    std::unique_ptr<grpc::ClientContext> context;
    Clock::time_point start;
    Phase start_phase = kWarmup;
    LatencyHistogram histogram;
    int64_t errors = 0;
    std::string first_error;
  };

  void Launch(Slot* slot) {
    // The previous call's context is released here; gRPC holds its own reference to the
    // finished call until its callback returns.
    slot->context = std::make_unique<grpc::ClientContext>();
    slot->context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    slot->start_phase = phase_.load();
    slot->start = Clock::now();
    slot->caller->Start(slot->context.get(),
                        [this, slot](grpc::Status status) { OnDone(slot, status); });
  }

  void OnDone(Slot* slot, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    const Phase phase = phase_.load();
    if (!status.ok() && slot->first_error.empty()) {
      slot->first_error = absl::StrCat("code ", status.error_code(), ": ", status.error_message());
    }
    if (slot->start_phase == kMeasure && phase == kMeasure) {
      if (status.ok()) {
        slot->histogram.Record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - slot->start).count());
      } else {
        ++slot->errors;
      }
    }
    if (phase == kStop) {
      std::lock_guard<std::mutex> lock(mu_);
      if (--in_flight_ == 0) idle_.notify_all();
      return;
    }
    Launch(slot);
  }

  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<Phase> phase_{kWarmup};
  std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;
};

// Channels to `address`, each with a distinct channel argument so that gRPC does not
// share one subchannel (connection) between them.
std::vector<std::shared_ptr<grpc::Channel>> ConnectChannels(const std::string& address, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("okr.bench.channel", i);
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::fprintf(stderr, "okr_grpc_load: cannot connect to %s\n", address.c_str());
      return {};
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

struct Fixture {
  std::string objective;   // objectives/{objective}
  std::string key_result;  // objectives/{objective}/keyResults/{key_result}
};

bool Check(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "okr_grpc_load: setup %s failed: code %d: %s\n", std::string(what).c_str(),
               status.error_code(), status.error_message().c_str());
  return false;
}

std::unique_ptr<grpc::ClientContext> SetupContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

// Creates a team, a cycle around now, an objective and a metric key result (0 -> 100).
// Ids are generated by the server, so repeated runs against one database do not clash.
bool CreateFixture(okr::v1::OkrService::Stub& stub, Fixture& fixture) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());

  okr::v1::CreateTeamRequest team_request;
  team_request.mutable_team()->set_display_name("Bench");
  okr::v1::Team team;
  if (!Check(stub.CreateTeam(SetupContext().get(), team_request, &team), "CreateTeam")) {
    return false;
  }

  okr::v1::CreateCycleRequest cycle_request;
  okr::v1::Cycle* cycle_in = cycle_request.mutable_cycle();
  cycle_in->set_display_name("Bench cycle");
  cycle_in->mutable_start_time()->set_seconds(now - 30 * 86400);
  cycle_in->mutable_end_time()->set_seconds(now + 60 * 86400);
  okr::v1::Cycle cycle;
  if (!Check(stub.CreateCycle(SetupContext().get(), cycle_request, &cycle), "CreateCycle")) {
    return false;
  }

  okr::v1::CreateObjectiveRequest objective_request;
  okr::v1::Objective* objective_in = objective_request.mutable_objective();
  objective_in->set_title("Serve OKRs fast");
  objective_in->set_team(team.name());
  objective_in->set_cycle(cycle.name());
  okr::v1::Objective objective;
  if (!Check(stub.CreateObjective(SetupContext().get(), objective_request, &objective),
             "CreateObjective")) {
    return false;
  }

  okr::v1::CreateKeyResultRequest kr_request;
  kr_request.set_parent(objective.name());
  okr::v1::KeyResult* kr_in = kr_request.mutable_key_result();
  kr_in->set_title("p99 below 10 ms");
  kr_in->mutable_metric()->set_start_value(0);
  kr_in->mutable_metric()->set_target_value(100);
  kr_in->mutable_metric()->set_unit("%");
  okr::v1::KeyResult kr;
  if (!Check(stub.CreateKeyResult(SetupContext().get(), kr_request, &kr), "CreateKeyResult")) {
    return false;
  }
  fixture.objective = objective.name();
  fixture.key_result = kr.name();
  return true;
}

// Writes `message` as one gRPC length-prefixed message (uncompressed).
bool WriteFramed(const google::protobuf::Message& message, const std::string& path) {
  const std::string body = message.SerializeAsString();
  const uint32_t n = static_cast<uint32_t>(body.size());
  const char header[5] = {0, static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(header, sizeof(header));
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "okr_grpc_load: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

int WriteRequest(const Flags& flags) {
  if (flags.out.empty()) {
    std::fprintf(stderr, "okr_grpc_load: --write-request needs --out\n");
    return 2;
  }
  absl::string_view what = flags.write_request;
  if (what == "echo") {
    PingRequest request;
    request.set_payload(std::string(flags.payload_bytes, 'x'));
    return WriteFramed(request, flags.out) ? 0 : 1;
  }
  const bool get = absl::ConsumePrefix(&what, "get_objective");
  const bool check_in = !get && absl::ConsumePrefix(&what, "create_check_in");
  if (get || check_in) {
    // The objective (GetObjective) or key result (CreateCheckIn) named, or a new fixture's.
    std::string name;
    if (absl::ConsumePrefix(&what, ":")) {
      name = std::string(what);
    } else if (what.empty() && !flags.address.empty()) {
      auto channels = ConnectChannels(flags.address, 1);
      if (channels.empty()) return 1;
      auto stub = okr::v1::OkrService::NewStub(channels[0]);
      Fixture fixture;
      if (!CreateFixture(*stub, fixture)) return 1;
      name = get ? fixture.objective : fixture.key_result;
    } else {
      std::fprintf(stderr, "okr_grpc_load: %s needs :NAME or --address\n",
                   get ? "get_objective" : "create_check_in");
      return 2;
    }
    std::fprintf(stderr, "okr_grpc_load: %s %s -> %s\n", get ? "GetObjective" : "CreateCheckIn",
                 name.c_str(), flags.out.c_str());
    if (get) {
      okr::v1::GetObjectiveRequest request;
      request.set_name(name);
      return WriteFramed(request, flags.out) ? 0 : 1;
    }
    // h2load sends these bytes every time: the same value on every check-in.
    okr::v1::CreateCheckInRequest request;
    request.set_parent(name);
    request.mutable_check_in()->set_value(42);
    return WriteFramed(request, flags.out) ? 0 : 1;
  }
  std::fprintf(stderr, "okr_grpc_load: unknown --write-request=%s\n%s", flags.write_request.c_str(),
               kUsage);
  return 2;
}

// CPU microseconds per call; -1 if unknown.
double PerCallMicros(double cpu_seconds, int64_t calls) {
  if (cpu_seconds < 0 || calls == 0) return -1;
  return cpu_seconds * 1e6 / static_cast<double>(calls);
}

// One target of a run with its connections, fixture and accumulated result.
struct Target {
  std::string name;
  int server_pid = 0;
  std::vector<std::unique_ptr<Echo::Stub>> echo_stubs;
  std::vector<std::unique_ptr<okr::v1::OkrService::Stub>> okr_stubs;
  Fixture fixture;
  ClosedLoop::Result total;
  std::vector<double> round_rates;
};

std::vector<std::unique_ptr<Caller>> MakeCallers(const Target& target, const Flags& flags) {
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 0; i < flags.concurrency; ++i) {
    const size_t c = static_cast<size_t>(i % flags.channels);
    if (target.name == "echo") {
      callers.push_back(
          std::make_unique<EchoCaller>(target.echo_stubs[c].get(), flags.payload_bytes));
    } else if (target.name == "get_objective") {
      callers.push_back(std::make_unique<GetObjectiveCaller>(target.okr_stubs[c].get(),
                                                             target.fixture.objective));
    } else {
      callers.push_back(std::make_unique<CreateCheckInCaller>(target.okr_stubs[c].get(),
                                                              target.fixture.key_result, i));
    }
  }
  return callers;
}

int RunLoad(const Flags& flags) {
  if (flags.targets.empty()) {
    std::fprintf(stderr, "okr_grpc_load: --target is required\n%s", kUsage);
    return 2;
  }
  const std::string echo_address = flags.echo_address.empty() ? flags.address : flags.echo_address;

  std::vector<Target> targets(flags.targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    Target& target = targets[t];
    target.name = flags.targets[t];
    const bool echo = target.name == "echo";
    const std::string& address = echo ? echo_address : flags.address;
    if (address.empty()) {
      std::fprintf(stderr, "okr_grpc_load: %s needs --address\n%s", target.name.c_str(), kUsage);
      return 2;
    }
    target.server_pid = echo ? flags.echo_pid : flags.server_pid;
    const auto channels = ConnectChannels(address, flags.channels);
    if (channels.empty()) return 1;
    for (const auto& channel : channels) {
      if (echo) {
        target.echo_stubs.push_back(Echo::NewStub(channel));
      } else {
        target.okr_stubs.push_back(okr::v1::OkrService::NewStub(channel));
      }
    }
    if (!echo) {
      if (!CreateFixture(*target.okr_stubs[0], target.fixture)) return 1;
      std::fprintf(stderr, "okr_grpc_load: %s fixture %s\n", target.name.c_str(),
                   target.fixture.key_result.c_str());
    }
  }

  const absl::Duration slice = absl::Seconds(flags.duration_s / flags.rounds);
  for (int round = 1; round <= flags.rounds; ++round) {
    for (Target& target : targets) {
      ClosedLoop loop(MakeCallers(target, flags));
      const ClosedLoop::Result result =
          loop.Run(absl::Seconds(round == 1 ? flags.warmup_s : flags.slice_warmup_s), slice,
                   target.server_pid);
      target.total.Merge(result);
      target.round_rates.push_back(result.rate());
      std::printf("ROUND %d target=%s seconds=%.2f ok=%lld errors=%lld rate=%.1f\n", round,
                  target.name.c_str(), result.seconds, static_cast<long long>(result.ok),
                  static_cast<long long>(result.errors), result.rate());
      std::fflush(stdout);
    }
  }

  bool all_ok = true;
  const Target* echo = nullptr;
  for (const Target& target : targets) {
    const ClosedLoop::Result& r = target.total;
    if (target.name == "echo") echo = &target;
    if (!r.first_error.empty()) {
      std::fprintf(stderr, "okr_grpc_load: %s: first error: %s\n", target.name.c_str(),
                   r.first_error.c_str());
    }
    all_ok = all_ok && r.ok > 0;
    std::printf(
        "RESULT target=%s concurrency=%d channels=%d seconds=%.2f ok=%lld errors=%lld "
        "rate=%.1f p50_us=%.1f p99_us=%.1f client_cpu_us=%.1f server_cpu_us=%.1f\n",
        target.name.c_str(), flags.concurrency, flags.channels, r.seconds,
        static_cast<long long>(r.ok), static_cast<long long>(r.errors), r.rate(),
        r.histogram.Quantile(0.50) / 1000.0, r.histogram.Quantile(0.99) / 1000.0,
        PerCallMicros(r.client_cpu_s, r.ok), PerCallMicros(r.server_cpu_s, r.ok));
  }
  if (echo != nullptr && echo->total.rate() > 0) {
    for (const Target& target : targets) {
      if (&target == echo) continue;
      std::string rounds;
      for (size_t i = 0; i < target.round_rates.size(); ++i) {
        const double base = echo->round_rates[i];
        absl::StrAppend(&rounds, i == 0 ? "" : ",",
                        absl::StrFormat("%.2f", base > 0 ? target.round_rates[i] / base : 0));
      }
      std::printf("RATIO target=%s pooled=%.2f rounds=%s\n", target.name.c_str(),
                  target.total.rate() / echo->total.rate(), rounds.c_str());
    }
  }
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace okr::bench

int main(int argc, char** argv) {
  okr::bench::Flags flags;
  if (!okr::bench::ParseFlags(argc, argv, flags)) return 2;
  if (!flags.write_request.empty()) return okr::bench::WriteRequest(flags);
  return okr::bench::RunLoad(flags);
}
