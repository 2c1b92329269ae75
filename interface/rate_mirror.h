// RateMirror: the node's copy of its own agency's token bucket (rate and burst from the
// core's Welcome). A system that floods is refused here, at its own node, before its
// inquiries cost the core or the network anything; the core stays authoritative and
// charges every inquiry that reaches it (a node that ignored this would gain nothing).
// Until the core's first Welcome says otherwise, nothing is held.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ipn::interface {

class RateMirror {
 public:
  // From a Welcome; 0 (an old core) turns the mirror off. The bucket starts full.
  void Set(double rate_per_second, double burst, int64_t now_us) {
    if (rate_per_second == rate_ && burst == burst_) return;
    rate_ = rate_per_second;
    burst_ = burst;
    tokens_ = burst;
    last_us_ = now_us;
  }
  // One token, or false (and `retry_at_us` set to when one will be there).
  bool TryTake(int64_t now_us, int64_t* retry_at_us) {
    if (rate_ <= 0) return true;
    if (now_us > last_us_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_us - last_us_) / 1e6 * rate_);
      last_us_ = now_us;
    }
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    *retry_at_us = now_us + static_cast<int64_t>((1.0 - tokens_) / rate_ * 1e6) + 1;
    return false;
  }

 private:
  double rate_ = 0, burst_ = 0, tokens_ = 0;
  int64_t last_us_ = 0;
};

}  // namespace ipn::interface
