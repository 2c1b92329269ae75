// RecordStore: the Merkle tree as stored (subtree hashes every kStoredLevelStride levels),
// the root and proofs computed from it, and the signed tree heads.
#include <sodium.h>

#include <algorithm>

#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {

Result<Hash> RecordStore::Impl::StoredNode(const rocksdb::ReadOptions& ro, int level,
                                           uint64_t index) const {
  const int rest = level % kStoredLevelStride;
  const int base = level - rest;
  const uint64_t count = uint64_t{1} << rest;
  const uint64_t first = index << rest;
  auto missing = [&](uint64_t i) {
    return Status::Corruption("tree hash at level " + std::to_string(base) + " index " +
                              std::to_string(i) + " is missing or malformed");
  };
  std::vector<Hash> hashes(count);
  if (rest == 0) {
    std::string value;
    rocksdb::Status s = db->Get(ro, tree_cf, NodeKey(level, index), &value);
    if (s.IsNotFound() || (s.ok() && value.size() != 32)) return missing(index);
    if (!s.ok()) return FromRocks(s, "cannot read the tree");
    std::copy(value.begin(), value.end(), hashes[0].begin());
    return hashes[0];
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, tree_cf));
  it->Seek(NodeKey(base, first));
  for (uint64_t i = 0; i < count; ++i, it->Next()) {
    if (!it->Valid() || it->key() != NodeKey(base, first + i) || it->value().size() != 32) {
      if (!it->status().ok()) return FromRocks(it->status(), "cannot read the tree");
      return missing(first + i);
    }
    std::copy(it->value().data(), it->value().data() + 32,
              reinterpret_cast<char*>(hashes[i].data()));
  }
  for (uint64_t n = count; n > 1; n /= 2) {
    for (uint64_t i = 0; i < n / 2; ++i) hashes[i] = NodeHash(hashes[2 * i], hashes[2 * i + 1]);
  }
  return hashes[0];
}

SubtreeSource RecordStore::Impl::NodeSource(const rocksdb::Snapshot* snapshot) const {
  return [this, snapshot](int level, uint64_t index) -> Result<Hash> {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    return StoredNode(ro, level, index);
  };
}

uint64_t RecordStore::Size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->committed_size;
}

uint64_t RecordStore::FirstRetained() const {
  return impl_->first_retained.load();
}

const PublicKey& RecordStore::signing_public_key() const {
  return impl_->public_key;
}

Result<Hash> RecordStore::RootHash(uint64_t tree_size) const {
  if (tree_size > Size()) {
    return Status::InvalidArgument("tree size " + std::to_string(tree_size) +
                                   " exceeds the log's " + std::to_string(Size()));
  }
  if (tree_size == 0) return EmptyRootHash();
  return RangeHash(impl_->NodeSource(), 0, tree_size);
}

Result<Hash> RecordStore::LeafHashAt(uint64_t sequence) const {
  if (sequence >= Size()) {
    return Status::NotFound("no record " + std::to_string(sequence) + " in the log");
  }
  return impl_->StoredNode(rocksdb::ReadOptions(), 0, sequence);
}

Result<std::vector<Hash>> RecordStore::InclusionProof(uint64_t sequence, uint64_t tree_size) const {
  if (tree_size > Size()) {
    return Status::InvalidArgument("tree size " + std::to_string(tree_size) +
                                   " exceeds the log's " + std::to_string(Size()));
  }
  return BuildInclusionProof(impl_->NodeSource(), sequence, tree_size);
}

Result<std::vector<Hash>> RecordStore::InclusionProof(uint64_t sequence, uint64_t tree_size,
                                                      ProofCache* cache) const {
  if (tree_size > Size()) {
    return Status::InvalidArgument("tree size " + std::to_string(tree_size) +
                                   " exceeds the log's " + std::to_string(Size()));
  }
  if (cache->tree_size != tree_size) {
    cache->nodes.clear();
    cache->tree_size = tree_size;
  }
  const SubtreeSource stored = impl_->NodeSource();
  // Perfect subtrees never change once written, so a remembered hash stays right.
  const SubtreeSource remembered = [&](int level, uint64_t index) -> Result<Hash> {
    const uint64_t key = (static_cast<uint64_t>(level) << 57) | index;
    if (auto it = cache->nodes.find(key); it != cache->nodes.end()) return it->second;
    Result<Hash> h = stored(level, index);
    if (h.ok()) cache->nodes.emplace(key, *h);
    return h;
  };
  return BuildInclusionProof(remembered, sequence, tree_size);
}

Result<std::vector<Hash>> RecordStore::ConsistencyProof(uint64_t old_size,
                                                        uint64_t new_size) const {
  if (new_size > Size()) {
    return Status::InvalidArgument("tree size " + std::to_string(new_size) + " exceeds the log's " +
                                   std::to_string(Size()));
  }
  return BuildConsistencyProof(impl_->NodeSource(), old_size, new_size);
}

// ---------------------------------------------------------------------------------------
// Tree heads.

bool RecordStore::Impl::TrustedSigner(const PublicKey& key) const {
  for (const PublicKey& k : trusted_keys) {
    if (sodium_memcmp(k.data(), key.data(), k.size()) == 0) return true;
  }
  return false;
}

Result<SignedTreeHead> RecordStore::Impl::SignHead() {
  if (options.read_only) return Status::FailedPrecondition("the record store is open read-only");
  std::lock_guard head_lock(head_mu);
  Result<SignedTreeHead> signed_head = history_enabled ? SignHeadWithHistory() : SignLogHead();
  if (!signed_head.ok()) return signed_head.status();
  const SignedTreeHead& head = *signed_head;
  {
    std::lock_guard lock(mu);
    latest_head = head;
    last_head_size = head.tree_size;
    last_head_steady = std::chrono::steady_clock::now();
  }
  LogInfo("records_tree_head_signed", {{"tree_size", head.tree_size}});
  return head;
}

// A version 1 head (the log only).
Result<SignedTreeHead> RecordStore::Impl::SignLogHead() {
  uint64_t size;
  CompactRange range;
  {
    std::lock_guard lock(mu);
    if (!broken.ok()) return broken;
    size = committed_size;
    range = committed_range;
  }
  Result<SignedTreeHead> signed_head =
      records::SignTreeHead(size, range.Root(), clock->NowMicros(), *signer);
  if (!signed_head.ok()) return signed_head.status();
  const SignedTreeHead& head = *signed_head;
  rocksdb::WriteOptions wo;
  wo.sync = !options.bulk_load;
  wo.disableWAL = options.bulk_load;
  rocksdb::Status s =
      db->Put(wo, heads_cf, HeadKey(head.tree_size, head.timestamp_us), EncodeTreeHead(head));
  if (!s.ok()) return FromRocks(s, "cannot store the tree head");
  return head;
}

Result<std::vector<SignedTreeHead>> RecordStore::Impl::LoadHeads(
    const rocksdb::ReadOptions& ro) const {
  std::vector<SignedTreeHead> heads;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, heads_cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Result<SignedTreeHead> head = DecodeTreeHead(it->value().ToStringView());
    if (!head.ok()) return head.status();
    heads.push_back(*head);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the tree heads");
  return heads;
}

Result<SignedTreeHead> RecordStore::SignTreeHead() {
  return impl_->SignHead();
}

Result<SignedTreeHead> RecordStore::LatestTreeHead() const {
  std::lock_guard lock(impl_->mu);
  if (!impl_->latest_head.has_value()) return Status::NotFound("no tree head has been signed yet");
  return *impl_->latest_head;
}

Result<std::vector<SignedTreeHead>> RecordStore::TreeHeads() const {
  return impl_->LoadHeads(rocksdb::ReadOptions());
}

}  // namespace ipn::records
