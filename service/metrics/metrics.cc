#include "service/metrics/metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace okr::metrics {
namespace {

[[noreturn]] void Misuse(const std::string& name, const std::string& what) {
  std::fprintf(stderr, "okr-server: metrics: %s: %s\n", name.c_str(), what.c_str());
  std::abort();
}

// prometheus-cpp 1.0.1 writes HELP text as given: escape backslashes and newlines here, as
// the exposition format requires.
std::string EscapeHelp(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// names[i] = values[i]; missing values are empty (the same series as an absent label).
prometheus::Labels ToLabels(const std::vector<std::string>& names, const LabelValues& values) {
  prometheus::Labels labels;
  for (size_t i = 0; i < names.size(); ++i) {
    labels.emplace(names[i], i < values.size() ? values[i] : std::string());
  }
  return labels;
}

template <typename T, typename BuilderFn>
prometheus::Family<T>& Register(prometheus::Registry& registry, const std::string& name,
                                const std::string& help, BuilderFn builder) {
  try {
    return builder().Name(name).Help(EscapeHelp(help)).Register(registry);
  } catch (const std::exception& e) {
    Misuse(name, e.what());
  }
}

}  // namespace

// --- Counter ------------------------------------------------------------------------------

Counter::Counter(prometheus::Family<prometheus::Counter>& family, std::vector<std::string> labels)
    : family_(family), labels_(std::move(labels)) {}

prometheus::Counter& Counter::Series(const LabelValues& values) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = series_.try_emplace(values, nullptr);
  if (inserted) {
    try {
      it->second = &family_.Add(ToLabels(labels_, values));
    } catch (const std::exception& e) {
      Misuse(family_.GetName(), e.what());
    }
  }
  return *it->second;
}

void Counter::Inc(const LabelValues& values, double delta) {
  if (delta < 0) return;
  Series(values).Increment(delta);
}

CounterSeries Counter::Bind(const LabelValues& values) { return CounterSeries(Series(values)); }

void CounterSeries::Inc(double delta) const {
  if (delta >= 0) series_->Increment(delta);
}

double Counter::Value(const LabelValues& values) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second->Value();
}

// --- Histogram ----------------------------------------------------------------------------

Histogram::Histogram(prometheus::Family<prometheus::Histogram>& family,
                     std::vector<std::string> labels, std::vector<double> bounds)
    : family_(family), labels_(std::move(labels)), bounds_(std::move(bounds)) {}

prometheus::Histogram& Histogram::Series(const LabelValues& values) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = series_.try_emplace(values, nullptr);
  if (inserted) {
    try {
      it->second = &family_.Add(ToLabels(labels_, values), bounds_);
    } catch (const std::exception& e) {
      Misuse(family_.GetName(), e.what());
    }
  }
  return *it->second;
}

void Histogram::Observe(const LabelValues& values, double v) { Series(values).Observe(v); }

HistogramSeries Histogram::Bind(const LabelValues& values) {
  return HistogramSeries(Series(values));
}

void HistogramSeries::Observe(double v) const { series_->Observe(v); }

uint64_t Histogram::Count(const LabelValues& values) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second->Collect().histogram.sample_count;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

// --- Registry -----------------------------------------------------------------------------

Registry::Registry() : registry_(std::make_unique<prometheus::Registry>()) {}

Registry::~Registry() = default;

bool Registry::Claim(const std::string& name, Kind kind) {
  auto [it, inserted] = kinds_.try_emplace(name, kind);
  if (!inserted && it->second != kind) Misuse(name, "registered twice as different kinds");
  if (inserted) order_.push_back(name);
  return inserted;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  if (!Claim(name, Kind::kCounter)) return *counters_.at(name);
  auto& family = Register<prometheus::Counter>(*registry_, name, help, prometheus::BuildCounter);
  const bool unlabelled = labels.empty();
  auto counter = std::make_unique<Counter>(family, std::move(labels));
  if (unlabelled) counter->Series({});  // renders 0 until first used
  Counter& ref = *counter;
  counters_.emplace(name, std::move(counter));
  return ref;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels, std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  if (!Claim(name, Kind::kHistogram)) return *histograms_.at(name);
  if (!std::is_sorted(bounds.begin(), bounds.end())) Misuse(name, "bucket bounds not ascending");
  auto& family =
      Register<prometheus::Histogram>(*registry_, name, help, prometheus::BuildHistogram);
  const bool unlabelled = labels.empty();
  auto histogram = std::make_unique<Histogram>(family, std::move(labels), std::move(bounds));
  if (unlabelled) histogram->Series({});  // renders empty buckets until first used
  Histogram& ref = *histogram;
  histograms_.emplace(name, std::move(histogram));
  return ref;
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                std::function<double()> read) {
  AddCallbackGauge(name, help, Labels{}, std::move(read));
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help, Labels labels,
                                std::function<double()> read) {
  absl::MutexLock lock(&mu_);
  Claim(name, Kind::kCallbackGauge);
  CallbackFamily& family = gauges_[name];
  if (family.help.empty()) family.help = EscapeHelp(help);
  family.series.push_back({std::move(labels), std::move(read)});
}

std::string Registry::Render() const {
  std::vector<std::string> order;
  absl::flat_hash_map<std::string, CallbackFamily> gauges;
  {
    absl::MutexLock lock(&mu_);
    order = order_;
    gauges = gauges_;
  }
  std::vector<prometheus::MetricFamily> collected = registry_->Collect();
  // Callbacks run outside the lock (they may take locks of their own).
  for (const auto& [name, family] : gauges) {
    prometheus::MetricFamily out;
    out.name = name;
    out.help = family.help;
    out.type = prometheus::MetricType::Gauge;
    for (const CallbackSeries& series : family.series) {
      prometheus::ClientMetric metric;
      for (const auto& [label, value] : series.labels) metric.label.push_back({label, value});
      metric.gauge.value = series.read();
      out.metric.push_back(std::move(metric));
    }
    collected.push_back(std::move(out));
  }
  absl::flat_hash_map<std::string, size_t> position;
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::stable_sort(
      collected.begin(), collected.end(),
      [&position](const prometheus::MetricFamily& a, const prometheus::MetricFamily& b) {
        return position[a.name] < position[b.name];
      });
  return prometheus::TextSerializer().Serialize(collected);
}

}  // namespace okr::metrics
