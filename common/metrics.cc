// Metrics registry and its Prometheus text rendering.
#include "common/metrics.h"

#include <cmath>
#include <sstream>

namespace ipn {
namespace {

std::string RenderLabels(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

std::string FormatDouble(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds_seconds)
    : bounds_(std::move(upper_bounds_seconds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::ObserveMicros(int64_t micros) {
  if (micros < 0) micros = 0;
  double seconds = static_cast<double>(micros) / 1e6;
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
}

double Histogram::QuantileMicros(double q) const {
  uint64_t total = count();
  if (total == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return bounds_[i] * 1e6;
  }
  return INFINITY;
}

Counter& Metrics::GetCounter(const std::string& name, const std::string& help,
                             const std::map<std::string, std::string>& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "counter";
  auto& slot = f.counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::GetGauge(const std::string& name, const std::string& help,
                         const std::map<std::string, std::string>& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "gauge";
  auto& slot = f.gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Metrics::GetHistogram(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "histogram";
  if (!f.histogram) {
    f.histogram = std::make_unique<Histogram>(std::vector<double>{
        0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005,
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30});
  }
  return *f.histogram;
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, c] : f.counters) {
      out += name + labels + " " + std::to_string(c->value()) + "\n";
    }
    for (const auto& [labels, g] : f.gauges) {
      out += name + labels + " " + std::to_string(g->value()) + "\n";
    }
    if (f.histogram) {
      const Histogram& h = *f.histogram;
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds_.size(); ++i) {
        cumulative += h.buckets_[i].load(std::memory_order_relaxed);
        out += name + "_bucket{le=\"" + FormatDouble(h.bounds_[i]) + "\"} " +
               std::to_string(cumulative) + "\n";
      }
      cumulative += h.buckets_[h.bounds_.size()].load(std::memory_order_relaxed);
      out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
      out += name + "_sum " +
             FormatDouble(static_cast<double>(h.sum_micros_.load()) / 1e6) + "\n";
      out += name + "_count " + std::to_string(h.count()) + "\n";
    }
  }
  return out;
}

}  // namespace ipn
