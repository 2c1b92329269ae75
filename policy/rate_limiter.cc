// Token buckets per agency.
#include "policy/rate_limiter.h"

#include <algorithm>

namespace ipn::policy {

bool RateLimiter::TryAcquire(std::string_view agency, double rate_per_second, double burst,
                             int64_t now_unix_us, int64_t* retry_at_us) {
  Bucket* bucket = nullptr;
  {
    std::shared_lock lock(mu_);
    if (auto it = buckets_.find(agency); it != buckets_.end()) bucket = it->second.get();
  }
  if (bucket == nullptr) {
    std::unique_lock lock(mu_);
    auto [it, inserted] = buckets_.try_emplace(std::string(agency), nullptr);
    if (inserted) {
      it->second = std::make_unique<Bucket>();
      it->second->tokens = burst;
      it->second->last_us = now_unix_us;
    }
    bucket = it->second.get();
  }
  std::lock_guard lock(bucket->mu);
  if (now_unix_us > bucket->last_us) {
    const double elapsed_s = static_cast<double>(now_unix_us - bucket->last_us) / 1e6;
    bucket->tokens += elapsed_s * rate_per_second;
    bucket->last_us = now_unix_us;
  }
  bucket->tokens = std::min(bucket->tokens, burst);
  if (bucket->tokens < 1.0) {
    if (retry_at_us != nullptr) {
      const double wait_s = rate_per_second > 0 ? (1.0 - bucket->tokens) / rate_per_second : 1.0;
      *retry_at_us = now_unix_us + static_cast<int64_t>(wait_s * 1e6) + 1;
    }
    return false;
  }
  bucket->tokens -= 1.0;
  return true;
}

}  // namespace ipn::policy
