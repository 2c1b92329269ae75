// Metrics: counters, gauges and latency histograms that a daemon exposes in the
// Prometheus text format (see metrics_server.h). Owned by the daemon and passed to
// what updates it; there is no global registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ipn {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Latency histogram with fixed upper bounds in seconds (Prometheus `le` buckets).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds_seconds);
  void ObserveMicros(int64_t micros);
  // Approximate quantile (upper bound of the bucket holding it), in microseconds.
  double QuantileMicros(double q) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  friend class Metrics;
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  // `name` is a Prometheus metric name; `labels` like {"outcome","provided"}. The same
  // name and labels always return the same object, which lives as long as Metrics.
  Counter& GetCounter(const std::string& name, const std::string& help,
                      const std::map<std::string, std::string>& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help,
                  const std::map<std::string, std::string>& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help);

  // The whole registry in the Prometheus text exposition format.
  std::string RenderPrometheus() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by rendered label set
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::unique_ptr<Histogram> histogram;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace ipn
