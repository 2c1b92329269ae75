// The Merkle tree against RFC 9162's definition: roots, compact ranges, inclusion and
// consistency proofs for every small tree shape, and proofs that must fail.
#include "records/merkle.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/encoding.h"

namespace ipn::records {
namespace {

// MTH straight from RFC 9162 §2.1.1, recursively over the leaf hashes.
Hash ReferenceRoot(const std::vector<Hash>& leaves, size_t begin, size_t end) {
  if (end - begin == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return NodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) {
    std::string data = "leaf " + std::to_string(i);
    leaves.push_back(LeafHash(AsBytes(data)));
  }
  return leaves;
}

// A SubtreeSource over an in-memory leaf list (perfect subtrees only, as the store has).
SubtreeSource SourceOver(const std::vector<Hash>& leaves) {
  return [&leaves](int level, uint64_t index) -> Result<Hash> {
    uint64_t begin = index << level, end = (index + 1) << level;
    if (end > leaves.size()) return Status::NotFound("beyond the tree");
    return ReferenceRoot(leaves, begin, end);
  };
}

TEST(MerkleTest, MatchesTheCertificateTransparencyTestVectors) {
  // The eight leaves and roots used by RFC 6962 implementations' test suites.
  const std::vector<std::string> inputs = {"",
                                           "00",
                                           "10",
                                           "2021",
                                           "3031",
                                           "40414243",
                                           "5051525354555657",
                                           "606162636465666768696a6b6c6d6e6f"};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  CompactRange range;
  EXPECT_EQ(HexEncode(range.Root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (size_t i = 0; i < inputs.size(); ++i) {
    Result<std::vector<uint8_t>> leaf = HexDecode(inputs[i]);
    ASSERT_TRUE(leaf.ok());
    range.AppendLeaf(LeafHash(*leaf));
    EXPECT_EQ(HexEncode(range.Root()), roots[i]) << "tree of " << i + 1 << " leaves";
  }
}

TEST(MerkleTest, CompactRangeRootEqualsTheDefinitionForEverySize) {
  std::vector<Hash> leaves = Leaves(130);
  CompactRange range;
  std::map<std::pair<int, uint64_t>, Hash> emitted;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    range.AppendLeaf(leaves[n - 1], [&](int level, uint64_t index, const Hash& h) {
      emitted[{level, index}] = h;
    });
    ASSERT_EQ(range.size(), n);
    ASSERT_EQ(range.Root(), ReferenceRoot(leaves, 0, n)) << n;
  }
  // Every emitted node is the hash of the perfect subtree it names.
  for (const auto& [at, h] : emitted) {
    auto [level, index] = at;
    EXPECT_EQ(h, ReferenceRoot(leaves, index << level, (index + 1) << level));
  }
  EXPECT_EQ(emitted.size(), 2 * leaves.size() - std::popcount(leaves.size()));
  Result<CompactRange> rebuilt = CompactRange::FromRoots(range.size(), range.roots());
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(rebuilt->Root(), range.Root());
  EXPECT_FALSE(CompactRange::FromRoots(range.size() + 1, range.roots()).ok());
}

TEST(MerkleTest, InclusionProofsVerifyForEveryLeafOfEveryTree) {
  std::vector<Hash> all = Leaves(70);
  for (uint64_t n = 1; n <= all.size(); ++n) {
    std::vector<Hash> leaves(all.begin(), all.begin() + n);
    Hash root = ReferenceRoot(leaves, 0, n);
    for (uint64_t i = 0; i < n; ++i) {
      Result<std::vector<Hash>> proof = BuildInclusionProof(SourceOver(leaves), i, n);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, *proof, root)) << i << " in " << n;
      // The same proof must not vouch for another leaf, index, size or root.
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion(leaves[(i + 1) % n], i, n, *proof, root));
        EXPECT_FALSE(VerifyInclusion(leaves[i], (i + 1) % n, n, *proof, root));
      }
      Hash forged = root;
      forged[0] ^= 1;
      EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, *proof, forged));
      if (!proof->empty()) {
        std::vector<Hash> bad = *proof;
        bad.back()[31] ^= 0x80;
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, bad, root));
        bad = *proof;
        bad.pop_back();
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, bad, root));
      }
    }
  }
  EXPECT_FALSE(BuildInclusionProof(SourceOver(all), 5, 5).ok());
  EXPECT_FALSE(VerifyInclusion(all[0], 3, 3, {}, all[0]));
}

TEST(MerkleTest, ConsistencyProofsVerifyForEveryPairOfSizes) {
  std::vector<Hash> all = Leaves(66);
  for (uint64_t n = 1; n <= all.size(); ++n) {
    std::vector<Hash> leaves(all.begin(), all.begin() + n);
    Hash new_root = ReferenceRoot(leaves, 0, n);
    for (uint64_t m = 0; m <= n; ++m) {
      Hash old_root = m == 0 ? EmptyRootHash() : ReferenceRoot(leaves, 0, m);
      Result<std::vector<Hash>> proof = BuildConsistencyProof(SourceOver(leaves), m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(m, n, old_root, new_root, *proof)) << m << " -> " << n;
      if (m == 0 || m == n) continue;
      Hash forged = old_root;
      forged[5] ^= 1;
      EXPECT_FALSE(VerifyConsistency(m, n, forged, new_root, *proof));
      forged = new_root;
      forged[5] ^= 1;
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, forged, *proof));
      std::vector<Hash> bad = *proof;
      bad[0][0] ^= 1;
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, bad));
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, {}));
    }
  }
  // A rewritten history is not consistent with the old head.
  std::vector<Hash> history = Leaves(20);
  Hash old_root = ReferenceRoot(history, 0, 10);
  history[3] = LeafHash(AsBytes(std::string("rewritten")));
  Result<std::vector<Hash>> proof = BuildConsistencyProof(SourceOver(history), 10, 20);
  ASSERT_TRUE(proof.ok());
  EXPECT_FALSE(VerifyConsistency(10, 20, old_root, ReferenceRoot(history, 0, 20), *proof));
  EXPECT_FALSE(BuildConsistencyProof(SourceOver(history), 21, 20).ok());
}

}  // namespace
}  // namespace ipn::records
