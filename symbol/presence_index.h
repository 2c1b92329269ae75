// PresenceIndex: an in-memory set of 64-bit fingerprints, the issuance file's answer to
// "was agency X ever issued a symbol for this person?" without a disk lookup on the
// inquiry hot path. Open addressing (linear probing) in 64 shards, each behind a
// reader-writer lock; about 12-16 bytes per entry. Fingerprints are uniformly random
// (PRF outputs), so a false "present" has probability about 2^-64 per lookup; there are
// no false "absent" answers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <vector>

namespace ipn::symbol {

class PresenceIndex {
 public:
  PresenceIndex();
  PresenceIndex(const PresenceIndex&) = delete;
  PresenceIndex& operator=(const PresenceIndex&) = delete;

  void Insert(uint64_t fingerprint);
  bool Contains(uint64_t fingerprint) const;
  size_t size() const;

 private:
  static constexpr size_t kShardBits = 6;
  struct Shard {
    mutable std::shared_mutex mu;
    std::vector<uint64_t> slots;  // 0 = empty; capacity is a power of two
    size_t count = 0;
  };
  static uint64_t Normalise(uint64_t fingerprint) { return fingerprint == 0 ? 1 : fingerprint; }
  static void Place(std::vector<uint64_t>* slots, uint64_t fingerprint);
  std::array<Shard, size_t{1} << kShardBits> shards_;
};

}  // namespace ipn::symbol
