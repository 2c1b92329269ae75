// AttemptLimiter: how often one client or one account may try something at the portal
// (log in, enrol, read a history), as a token bucket per key: `burst` attempts at once,
// then one every `refill_us`. A refused attempt is answered with the moment the next one
// will be allowed ("try again at …"), and costs nothing further: it takes no token.
//
// The keys are what an outsider chooses (client addresses, credential keys), so the table
// is bounded: at `max_keys`, the least recently used key is forgotten. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace ipn::portal {

struct AttemptLimit {
  uint32_t burst = 10;            // attempts allowed at once
  int64_t refill_us = 1'000'000;  // one more attempt allowed every this long
  size_t max_keys = 100'000;      // keys remembered (memory: about 100 bytes each)
};

struct AttemptDecision {
  bool allowed = true;
  int64_t retry_at_unix_us = 0;  // refused: the earliest time the next attempt is allowed
  bool first_refusal = false;    // refused, and the key's previous attempt was allowed
};

class AttemptLimiter {
 public:
  AttemptLimiter(AttemptLimit limit, const Clock* clock) : limit_(limit), clock_(clock) {}

  // Counts one attempt by `key`, or refuses it.
  AttemptDecision Attempt(const std::string& key);
  size_t keys() const;

 private:
  struct Bucket {
    int64_t full_at_us = 0;  // when the bucket is (or was) full again: the whole state
    bool refusing = false;
    std::list<std::string>::iterator lru;
  };
  void MakeRoom();

  const AttemptLimit limit_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> lru_;  // most recently used first
};

}  // namespace ipn::portal
