// The Merkle tree of the provision log, as in RFC 9162 (Certificate Transparency 2.0):
// leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right), the tree
// of n leaves splits at the largest power of two below n. Here: the hash functions, a
// compact range (the right edge of a growing tree), proof construction over any source of
// perfect-subtree hashes, and the pure verification functions an auditor runs without
// the store.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/status.h"

namespace ipn::records {

using Hash = std::array<uint8_t, 32>;

Hash LeafHash(std::span<const uint8_t> leaf);
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of the empty string.
Hash EmptyRootHash();

// The perfect subtrees on the right edge of a tree of `size()` leaves — one per set bit
// of the size, largest first. Appending is O(1) amortised; the root is O(log n).
class CompactRange {
 public:
  // Called for every perfect subtree completed by an append: (level, index, hash), where
  // the subtree covers leaves [index << level, (index + 1) << level).
  using Emit = std::function<void(int level, uint64_t index, const Hash& hash)>;

  CompactRange() = default;
  // Rebuilds from stored subtree hashes: `roots` largest first, as Roots() returns them.
  static Result<CompactRange> FromRoots(uint64_t size, std::vector<Hash> roots);

  void AppendLeaf(const Hash& leaf_hash, const Emit& emit = nullptr);
  // Appends a perfect subtree of 2^level leaves; size() must be a multiple of 2^level.
  void AppendSubtree(int level, const Hash& hash, const Emit& emit = nullptr);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& roots() const { return roots_; }
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> roots_;
};

// Perfect-subtree hashes at (level, index), as a store provides them.
using SubtreeSource = std::function<Result<Hash>(int level, uint64_t index)>;

// MTH(D[begin:end]) for a range that RFC 9162's recursion produces (begin aligned to the
// power of two at or above end - begin).
Result<Hash> RangeHash(const SubtreeSource& source, uint64_t begin, uint64_t end);
// RFC 9162 §2.1.3.1 PATH(index, D[0:tree_size]).
Result<std::vector<Hash>> BuildInclusionProof(const SubtreeSource& source, uint64_t index,
                                              uint64_t tree_size);
// RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]).
Result<std::vector<Hash>> BuildConsistencyProof(const SubtreeSource& source, uint64_t old_size,
                                                uint64_t new_size);

// RFC 9162 §2.1.3.2: true when `proof` shows the leaf with `leaf_hash` at `index` is in the
// tree of `tree_size` leaves whose root is `root`.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                     std::span<const Hash> proof, const Hash& root);
// RFC 9162 §2.1.4.2: true when `proof` shows the tree (old_size, old_root) is a prefix of
// the tree (new_size, new_root). Equal sizes need an empty proof and equal roots; an
// empty old tree is consistent with everything (empty proof).
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, std::span<const Hash> proof);

}  // namespace ipn::records
