// RFC 9162 Merkle tree hashing, proofs and their verification.
#include "records/merkle.h"

#include <sodium.h>

#include <bit>

namespace ipn::records {
namespace {

// Largest power of two strictly below n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  return std::bit_floor(n - 1);
}

bool IsPerfect(uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  return std::has_single_bit(n) && begin % n == 0;
}

Status SubProof(const SubtreeSource& source, uint64_t m, uint64_t begin, uint64_t end,
                bool complete, std::vector<Hash>& out) {
  // SUBPROOF(m, D[begin:end], complete), m counted from begin.
  uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      Result<Hash> h = RangeHash(source, begin, end);
      if (!h.ok()) return h.status();
      out.push_back(*h);
    }
    return Status::Ok();
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    IPN_RETURN_IF_ERROR(SubProof(source, m, begin, begin + k, complete, out));
    Result<Hash> h = RangeHash(source, begin + k, end);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  } else {
    IPN_RETURN_IF_ERROR(SubProof(source, m - k, begin + k, end, false, out));
    Result<Hash> h = RangeHash(source, begin, begin + k);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  }
  return Status::Ok();
}

}  // namespace

Hash LeafHash(std::span<const uint8_t> leaf) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  const uint8_t prefix = 0x00;
  crypto_hash_sha256_update(&state, &prefix, 1);
  crypto_hash_sha256_update(&state, leaf.data(), leaf.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  Hash out;
  crypto_hash_sha256(out.data(), buf, sizeof(buf));
  return out;
}

Hash EmptyRootHash() {
  Hash out;
  crypto_hash_sha256(out.data(), nullptr, 0);
  return out;
}

Result<CompactRange> CompactRange::FromRoots(uint64_t size, std::vector<Hash> roots) {
  if (static_cast<size_t>(std::popcount(size)) != roots.size()) {
    return Status::Corruption("compact range of size " + std::to_string(size) + " needs " +
                              std::to_string(std::popcount(size)) + " subtree hashes, got " +
                              std::to_string(roots.size()));
  }
  CompactRange range;
  range.size_ = size;
  range.roots_ = std::move(roots);
  return range;
}

void CompactRange::AppendLeaf(const Hash& leaf_hash, const Emit& emit) {
  AppendSubtree(0, leaf_hash, emit);
}

void CompactRange::AppendSubtree(int level, const Hash& hash, const Emit& emit) {
  const uint64_t added = uint64_t{1} << level;
  uint64_t index = size_ >> level;
  Hash h = hash;
  if (emit) emit(level, index, h);
  while (index & 1) {
    h = NodeHash(roots_.back(), h);
    roots_.pop_back();
    index >>= 1;
    ++level;
    if (emit) emit(level, index, h);
  }
  roots_.push_back(h);
  size_ += added;
}

Hash CompactRange::Root() const {
  if (roots_.empty()) return EmptyRootHash();
  Hash h = roots_.back();
  for (size_t i = roots_.size() - 1; i-- > 0;) h = NodeHash(roots_[i], h);
  return h;
}

Result<Hash> RangeHash(const SubtreeSource& source, uint64_t begin, uint64_t end) {
  if (end <= begin) return Status::InvalidArgument("empty Merkle range");
  if (IsPerfect(begin, end)) {
    uint64_t n = end - begin;
    int level = std::countr_zero(n);
    return source(level, begin >> level);
  }
  uint64_t k = SplitPoint(end - begin);
  Result<Hash> left = RangeHash(source, begin, begin + k);
  if (!left.ok()) return left.status();
  Result<Hash> right = RangeHash(source, begin + k, end);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

Result<std::vector<Hash>> BuildInclusionProof(const SubtreeSource& source, uint64_t index,
                                              uint64_t tree_size) {
  if (index >= tree_size) {
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of " +
                                   std::to_string(tree_size) + " leaves");
  }
  // Walk down from the root, collecting the sibling of each step; the proof lists
  // them from the leaf up.
  std::vector<Hash> path;
  uint64_t begin = 0, end = tree_size;
  while (end - begin > 1) {
    uint64_t k = SplitPoint(end - begin);
    Result<Hash> sibling = Status::Internal("unset");
    if (index < begin + k) {
      sibling = RangeHash(source, begin + k, end);
      end = begin + k;
    } else {
      sibling = RangeHash(source, begin, begin + k);
      begin = begin + k;
    }
    if (!sibling.ok()) return sibling.status();
    path.push_back(*sibling);
  }
  return std::vector<Hash>(path.rbegin(), path.rend());
}

Result<std::vector<Hash>> BuildConsistencyProof(const SubtreeSource& source, uint64_t old_size,
                                                uint64_t new_size) {
  if (old_size > new_size) {
    return Status::InvalidArgument("old tree size " + std::to_string(old_size) +
                                   " exceeds new tree size " + std::to_string(new_size));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  IPN_RETURN_IF_ERROR(SubProof(source, old_size, 0, new_size, true, proof));
  return proof;
}

bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                     std::span<const Hash> proof, const Hash& root) {
  if (index >= tree_size) return false;
  uint64_t fn = index, sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && sodium_memcmp(r.data(), root.data(), r.size()) == 0;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, std::span<const Hash> proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) {
    return proof.empty() && sodium_memcmp(old_root.data(), new_root.data(), 32) == 0;
  }
  if (old_size == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && sodium_memcmp(fr.data(), old_root.data(), 32) == 0 &&
         sodium_memcmp(sr.data(), new_root.data(), 32) == 0;
}

}  // namespace ipn::records
