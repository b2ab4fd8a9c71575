#include "service/metrics/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace okr::metrics {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
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

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.17g", v);
}

// {a="x",b="y"} plus an optional extra label; empty string when there are no labels.
std::string LabelSet(const std::vector<std::string>& names, const LabelValues& values,
                     const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", EscapeLabel(values[i]), "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  return out.empty() ? out : absl::StrCat("{", out, "}");
}

void Header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

Counter::Counter(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void Counter::Inc(const LabelValues& values, double delta) {
  absl::MutexLock lock(&mu_);
  values_[values] += delta;
}

double Counter::Value(const LabelValues& values) const {
  absl::MutexLock lock(&mu_);
  auto it = values_.find(values);
  return it == values_.end() ? 0 : it->second;
}

void Counter::Render(std::string& out) const {
  Header(out, name_, help_, "counter");
  absl::MutexLock lock(&mu_);
  if (values_.empty() && labels_.empty()) absl::StrAppend(&out, name_, " 0\n");
  for (const auto& [values, v] : values_) {
    absl::StrAppend(&out, name_, LabelSet(labels_, values), " ", FormatValue(v), "\n");
  }
}

CallbackGauge::CallbackGauge(std::string name, std::string help, std::function<double()> read)
    : name_(std::move(name)), help_(std::move(help)), read_(std::move(read)) {}

void CallbackGauge::Render(std::string& out) const {
  Header(out, name_, help_, "gauge");
  absl::StrAppend(&out, name_, " ", FormatValue(read_()), "\n");
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> labels,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {}

void Histogram::Observe(const LabelValues& values, double v) {
  absl::MutexLock lock(&mu_);
  Series& s = series_[values];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      ++s.buckets[i];
      break;
    }
  }
  ++s.count;
  s.sum += v;
}

uint64_t Histogram::Count(const LabelValues& values) const {
  absl::MutexLock lock(&mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.count;
}

void Histogram::Render(std::string& out) const {
  Header(out, name_, help_, "histogram");
  absl::MutexLock lock(&mu_);
  for (const auto& [values, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      absl::StrAppend(&out, name_, "_bucket",
                      LabelSet(labels_, values, "le", FormatValue(bounds_[i])), " ", cumulative,
                      "\n");
    }
    absl::StrAppend(&out, name_, "_bucket", LabelSet(labels_, values, "le", "+Inf"), " ", s.count,
                    "\n");
    absl::StrAppend(&out, name_, "_sum", LabelSet(labels_, values), " ", FormatValue(s.sum), "\n");
    absl::StrAppend(&out, name_, "_count", LabelSet(labels_, values), " ", s.count, "\n");
  }
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  for (auto& [n, f] : families_) {
    if (n == name) return *static_cast<Counter*>(f.get());
  }
  auto family = std::make_unique<Counter>(name, help, std::move(labels));
  Counter& ref = *family;
  families_.emplace_back(name, std::move(family));
  return ref;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels, std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  for (auto& [n, f] : families_) {
    if (n == name) return *static_cast<Histogram*>(f.get());
  }
  auto family = std::make_unique<Histogram>(name, help, std::move(labels), std::move(bounds));
  Histogram& ref = *family;
  families_.emplace_back(name, std::move(family));
  return ref;
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                std::function<double()> read) {
  absl::MutexLock lock(&mu_);
  families_.emplace_back(name, std::make_unique<CallbackGauge>(name, help, std::move(read)));
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

}  // namespace okr::metrics
