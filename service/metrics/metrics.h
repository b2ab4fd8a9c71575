// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) for GET /metrics. Hand-written because Debian 12
// packages no Prometheus client library. All methods are thread-safe.
//
//   Registry registry;
//   Counter& rpcs = registry.AddCounter("okr_rpc_requests_total", "RPCs handled.",
//                                       {"method", "code"});
//   rpcs.Inc({"GetObjective", "OK"});
//   std::string text = registry.Render();
//
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; label values are escaped on output.
// Families are registered at startup; registering the same name twice is a programming
// error (the second registration returns the first family).
#ifndef OKR_SERVICE_METRICS_METRICS_H_
#define OKR_SERVICE_METRICS_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace okr::metrics {

using LabelValues = std::vector<std::string>;

class Family {
 public:
  virtual ~Family() = default;
  virtual void Render(std::string& out) const = 0;
};

class Counter final : public Family {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> labels);
  void Inc(const LabelValues& values, double delta = 1);
  double Value(const LabelValues& values) const;
  void Render(std::string& out) const override;

 private:
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, double> values_ ABSL_GUARDED_BY(mu_);
};

// A gauge read at render time from a callback (e.g. queue depth, up).
class CallbackGauge final : public Family {
 public:
  CallbackGauge(std::string name, std::string help, std::function<double()> read);
  void Render(std::string& out) const override;

 private:
  const std::string name_, help_;
  const std::function<double()> read_;
};

class Histogram final : public Family {
 public:
  Histogram(std::string name, std::string help, std::vector<std::string> labels,
            std::vector<double> bounds);
  void Observe(const LabelValues& values, double v);
  uint64_t Count(const LabelValues& values) const;
  void Render(std::string& out) const override;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // non-cumulative, one per bound
    uint64_t count = 0;
    double sum = 0;
  };
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, Series> series_ ABSL_GUARDED_BY(mu_);
};

// Latency buckets in seconds, 100 us .. 10 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  Counter& AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> labels);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<std::string> labels, std::vector<double> bounds);
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> read);
  // The whole exposition, families in registration order.
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, std::unique_ptr<Family>>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace okr::metrics

#endif  // OKR_SERVICE_METRICS_METRICS_H_
