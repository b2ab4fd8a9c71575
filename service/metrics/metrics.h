// Metrics: counters, histograms and callback gauges with labels, kept in a prometheus-cpp
// registry (Debian 12's prometheus-cpp-dev, core library only: its civetweb exposer is not
// used) and rendered by its TextSerializer in the Prometheus text exposition format
// (version 0.0.4) for GET /metrics. Numbers, bucket bounds included, print in their
// shortest form (`le="0.00025"`), so queries and recording rules can select a bucket by
// the bound written in the code. All methods are thread-safe.
//
//   Registry registry;
//   Counter& rpcs = registry.AddCounter("okr_things_total", "Things done.", {"kind"});
//   rpcs.Inc({"checkin"});
//   registry.AddCallbackGauge("okr_queue_depth", "Queued items.", [&] { return q.size(); });
//   std::string text = registry.Render();
//   CounterSeries hot = rpcs.Bind({"checkin"});  // hot paths: look the series up once
//   hot.Inc();
//
// Label values are given in the order the label names were declared. Names must match
// [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]*; an invalid name, or
// one name registered as two kinds of family, is a programming error that aborts at
// registration (every test that starts the server registers every family). Registering
// the same name twice as the same kind returns the first family. Families render in
// registration order; a family without labels renders its zero value until first used.
#ifndef OKR_SERVICE_METRICS_METRICS_H_
#define OKR_SERVICE_METRICS_METRICS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace okr::metrics {

// Values of a family's labels, in the order of its label names.
using LabelValues = std::vector<std::string>;
// Label name -> value, for the fixed labels of a callback gauge series.
using Labels = std::map<std::string, std::string>;

// One series of a counter / histogram, looked up once: Inc / Observe without building
// label values or a map lookup. Valid as long as the registry; copyable.
class CounterSeries {
 public:
  void Inc(double delta = 1) const;

 private:
  friend class Counter;
  explicit CounterSeries(prometheus::Counter& series) : series_(&series) {}
  prometheus::Counter* series_;
};

class HistogramSeries {
 public:
  void Observe(double v) const;

 private:
  friend class Histogram;
  explicit HistogramSeries(prometheus::Histogram& series) : series_(&series) {}
  prometheus::Histogram* series_;
};

class Counter {
 public:
  Counter(prometheus::Family<prometheus::Counter>& family, std::vector<std::string> labels);
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `delta` (>= 0; a negative delta is ignored, as counters only grow).
  void Inc(const LabelValues& values, double delta = 1);
  // The current value of one series (0 if it was never incremented).
  double Value(const LabelValues& values) const;
  // The series of `values` (created, so rendered with its value 0 from now on).
  CounterSeries Bind(const LabelValues& values);

 private:
  friend class Registry;
  prometheus::Counter& Series(const LabelValues& values);

  prometheus::Family<prometheus::Counter>& family_;
  const std::vector<std::string> labels_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<LabelValues, prometheus::Counter*> series_ ABSL_GUARDED_BY(mu_);
};

class Histogram {
 public:
  Histogram(prometheus::Family<prometheus::Histogram>& family, std::vector<std::string> labels,
            std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(const LabelValues& values, double v);
  // The series of `values` (created, so rendered from now on).
  HistogramSeries Bind(const LabelValues& values);
  // Observations of one series so far (0 if none).
  uint64_t Count(const LabelValues& values) const;

 private:
  friend class Registry;
  prometheus::Histogram& Series(const LabelValues& values);

  prometheus::Family<prometheus::Histogram>& family_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;  // ascending upper bounds; +Inf is implied
  mutable absl::Mutex mu_;
  absl::flat_hash_map<LabelValues, prometheus::Histogram*> series_ ABSL_GUARDED_BY(mu_);
};

// Latency buckets in seconds, 100 us .. 10 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  Counter& AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> labels);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<std::string> labels, std::vector<double> bounds);
  // A gauge read from `read` at every Render (queue depth, pool usage, up). Called again
  // with the same name and other `labels`, it adds a series to the same family, e.g.
  // {state="idle"} and {state="in_use"}. `read` runs on the thread that renders and must
  // be cheap and thread-safe; it must stay callable as long as the registry renders.
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> read);
  void AddCallbackGauge(const std::string& name, const std::string& help, Labels labels,
                        std::function<double()> read);

  // The whole exposition, families in registration order.
  std::string Render() const;

 private:
  struct CallbackSeries {
    Labels labels;
    std::function<double()> read;
  };
  struct CallbackFamily {
    std::string help;
    std::vector<CallbackSeries> series;
  };
  enum class Kind { kCounter, kHistogram, kCallbackGauge };

  // Records `name` as a family of `kind`; false if it exists already (of that kind).
  bool Claim(const std::string& name, Kind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);  // family names as registered
  absl::flat_hash_map<std::string, Kind> kinds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<Counter>> counters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<Histogram>> histograms_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, CallbackFamily> gauges_ ABSL_GUARDED_BY(mu_);
};

}  // namespace okr::metrics

#endif  // OKR_SERVICE_METRICS_METRICS_H_
