// Token buckets per key with a bounded table (attempt_limiter.h).
#include "portal/attempt_limiter.h"

#include <algorithm>

namespace ipn::portal {

// A bucket is kept as the single time at which it is full again ("virtual scheduling",
// GCRA): holding n tokens now means full_at = now + (burst - n) × refill. An attempt is
// allowed when taking a token leaves full_at no later than now + burst × refill; the
// refused answer's retry-at is when that becomes true.
AttemptDecision AttemptLimiter::Attempt(const std::string& key) {
  const int64_t now = clock_->NowMicros();
  const int64_t span = static_cast<int64_t>(limit_.burst) * limit_.refill_us;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    MakeRoom();
    lru_.push_front(key);
    it = buckets_.emplace(key, Bucket{now, false, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Bucket& b = it->second;
  const int64_t next_full = std::max(b.full_at_us, now) + limit_.refill_us;
  AttemptDecision d;
  if (next_full - now > span) {
    d.allowed = false;
    d.retry_at_unix_us = next_full - span;
    d.first_refusal = !b.refusing;
    b.refusing = true;
    return d;
  }
  b.full_at_us = next_full;
  b.refusing = false;
  return d;
}

size_t AttemptLimiter::keys() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void AttemptLimiter::MakeRoom() {
  // The least recently used key goes: O(1) per new key even under a flood of distinct
  // keys. Its bucket is usually full again by then; if not, that key starts afresh —
  // the price of a bounded table, paid only by a key idle longer than every other.
  while (buckets_.size() >= limit_.max_keys && !lru_.empty()) {
    buckets_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace ipn::portal
