// PresenceIndex: sharded open-addressing set of fingerprints.
#include "symbol/presence_index.h"

#include <mutex>

namespace ipn::symbol {
namespace {

constexpr size_t kInitialSlots = 256;

}  // namespace

PresenceIndex::PresenceIndex() {
  for (auto& shard : shards_) shard.slots.assign(kInitialSlots, 0);
}

void PresenceIndex::Place(std::vector<uint64_t>* slots, uint64_t fingerprint) {
  size_t mask = slots->size() - 1;
  for (size_t i = fingerprint & mask;; i = (i + 1) & mask) {
    uint64_t& slot = (*slots)[i];
    if (slot == 0) {
      slot = fingerprint;
      return;
    }
    if (slot == fingerprint) return;
  }
}

void PresenceIndex::Insert(uint64_t fingerprint) {
  fingerprint = Normalise(fingerprint);
  Shard& shard = shards_[fingerprint >> (64 - kShardBits)];
  std::unique_lock<std::shared_mutex> lock(shard.mu);
  size_t mask = shard.slots.size() - 1;
  for (size_t i = fingerprint & mask;; i = (i + 1) & mask) {
    if (shard.slots[i] == fingerprint) return;
    if (shard.slots[i] == 0) break;
  }
  if ((shard.count + 1) * 10 > shard.slots.size() * 7) {  // keep the load under 0.7
    std::vector<uint64_t> bigger(shard.slots.size() * 2, 0);
    for (uint64_t f : shard.slots) {
      if (f != 0) Place(&bigger, f);
    }
    shard.slots.swap(bigger);
  }
  Place(&shard.slots, fingerprint);
  ++shard.count;
}

bool PresenceIndex::Contains(uint64_t fingerprint) const {
  fingerprint = Normalise(fingerprint);
  const Shard& shard = shards_[fingerprint >> (64 - kShardBits)];
  std::shared_lock<std::shared_mutex> lock(shard.mu);
  size_t mask = shard.slots.size() - 1;
  for (size_t i = fingerprint & mask;; i = (i + 1) & mask) {
    uint64_t slot = shard.slots[i];
    if (slot == fingerprint) return true;
    if (slot == 0) return false;
  }
}

size_t PresenceIndex::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::shared_lock<std::shared_mutex> lock(shard.mu);
    n += shard.count;
  }
  return n;
}

}  // namespace ipn::symbol
