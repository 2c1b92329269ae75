// RateLimiter: one token bucket per agency (rate and burst from the agency directory),
// against flooding. Time is passed in, so tests drive it with a ManualClock. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ipn::policy {

class RateLimiter {
 public:
  RateLimiter() = default;
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from `agency`'s bucket at `now_unix_us`; false when the bucket is empty.
  // A bucket starts full (`burst` tokens) and refills at `rate_per_second`; a changed rate or
  // burst (a new directory) applies from this call on. Time going backwards refills nothing.
  // When it is empty and `retry_at_us` is given, it is set to when the next token will be
  // there.
  bool TryAcquire(std::string_view agency, double rate_per_second, double burst,
                  int64_t now_unix_us, int64_t* retry_at_us = nullptr);

 private:
  struct Bucket {
    std::mutex mu;
    double tokens = 0;
    int64_t last_us = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::shared_mutex mu_;  // guards the map; each bucket has its own mutex
  std::unordered_map<std::string, std::unique_ptr<Bucket>, StringHash, std::equal_to<>> buckets_;
};

}  // namespace ipn::policy
