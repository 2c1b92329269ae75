// Verification of one chunk of 2^16 leaves: the stored leaf hashes, every retained record
// decrypted, decoded and re-hashed, the chunk's complete subtrees compared with the stored
// ones, and the fingerprints of the index entries each record should have.
#include <algorithm>
#include <cstring>

#include "common/encoding.h"
#include "records/record_codec.h"
#include "records/verifier.h"

namespace ipn::records {

void Verifier::CheckRecord(uint64_t seq, std::string_view value, const Hash* stored, ChunkResult& r,
                           Hash& leaf_out, std::string& leaf, std::string& buf) const {
  Status opened = s_.cipher->Open(seq, value, &leaf);
  if (opened.ok()) {
    Result<Record> decoded = DecodeLeaf(leaf);
    if (!decoded.ok()) opened = decoded.status();
  }
  if (!opened.ok()) {
    r.flagged.push_back(seq);
    leaf_out = stored != nullptr ? *stored : Hash{};
    if (opened.code() == Status::Code::kFailedPrecondition) {
      r.findings.Add(FindingKind::kAltered, seq, "record cannot be checked: " + opened.message());
      return;
    }
    // Was the value moved here from another sequence? Its clear time names the candidates.
    Result<ValueHeader> header = ParseValueHeader(value);
    if (header.ok()) {
      rocksdb::ReadOptions ro = ScanOptions();
      std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.time_cf));
      const std::string prefix = TimeKey(header->time_unix_us, 0).substr(0, 8);
      int tries = 0;
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && tries < 8;
           it->Next(), ++tries) {
        if (it->key().size() != kTimeKeyBytes) continue;
        const uint64_t other = GetBigEndian64(it->key().data() + 8);
        if (other != seq && s_.cipher->Open(other, value, &leaf).ok()) {
          r.findings.Add(FindingKind::kMisplaced, seq,
                         "holds the record of sequence " + Str(other));
          return;
        }
      }
    }
    r.findings.Add(FindingKind::kAltered, seq, "record fails authentication or decoding");
    return;
  }
  ++r.records_checked;
  const Hash computed = LeafHash(AsBytes(leaf));
  if (stored == nullptr) {
    r.findings.Add(FindingKind::kTreeNode, seq, "leaf hash missing from the tree");
    leaf_out = computed;
  } else if (!Equal(computed, *stored)) {
    r.flagged.push_back(seq);
    r.findings.Add(FindingKind::kAltered, seq, "record differs from its leaf hash in the tree");
    leaf_out = *stored;  // the tree's own consistency is checked separately
    return;
  } else {
    leaf_out = computed;
  }
  const ValueHeader header = *ParseValueHeader(value);
  uint8_t fp[16];
  Fingerprint('P', PersonKey(header.record_symbol, header.time_unix_us, seq), value, fp, buf);
  r.person.Add(fp);
  Fingerprint('T', TimeKey(header.time_unix_us, seq), "", fp, buf);
  r.time.Add(fp);
}

void Verifier::VerifyChunk(uint64_t chunk, ChunkResult& r) const {
  const uint64_t a = chunk * kChunkLeaves;
  const uint64_t b = std::min(a + kChunkLeaves, size_);
  std::vector<Hash> stored(b - a);
  std::vector<uint8_t> has_stored(b - a, 0);
  ReadStoredLeaves(a, b, stored, has_stored);
  r.levels.assign(kChunkLevel + 1, {});
  CheckChunkRecords(a, b, stored, has_stored, r);
  CheckChunkSubtrees(a, r);
}

// The stored leaf hashes of sequences [a, b).
void Verifier::ReadStoredLeaves(uint64_t a, uint64_t b, std::vector<Hash>& stored,
                                std::vector<uint8_t>& has_stored) const {
  const uint64_t n = b - a;
  const std::string upper = NodeKey(0, b);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro = ScanOptions();
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.tree_cf));
  for (it->Seek(NodeKey(0, a)); it->Valid(); it->Next()) {
    if (it->key().size() != kNodeKeyBytes || it->value().size() != 32) continue;
    const uint64_t i = GetBigEndian64(it->key().data() + 1) - a;
    if (i >= n) continue;
    std::memcpy(stored[i].data(), it->value().data(), 32);
    has_stored[i] = 1;
  }
}

// The leaves of [a, b) into r.levels[0]: a purged record's stored leaf hash; a retained
// record's recomputed one (CheckRecord), the stored one standing in for a missing record.
void Verifier::CheckChunkRecords(uint64_t a, uint64_t b, const std::vector<Hash>& stored,
                                 const std::vector<uint8_t>& has_stored, ChunkResult& r) const {
  auto stored_at = [&](uint64_t seq) -> const Hash* {
    return has_stored[seq - a] ? &stored[seq - a] : nullptr;
  };
  std::vector<Hash>& leaves = r.levels[0];
  leaves.resize(b - a);
  // Purged records: only their stored leaf hashes remain.
  const uint64_t records_from = std::max(a, std::min(first_retained_, b));
  for (uint64_t seq = a; seq < records_from; ++seq) {
    if (const Hash* h = stored_at(seq)) {
      leaves[seq - a] = *h;
    } else {
      r.findings.Add(FindingKind::kTreeNode, seq, "leaf hash of a purged record missing");
    }
  }
  if (records_from >= b) return;
  auto missing = [&](uint64_t seq) {
    r.flagged.push_back(seq);
    r.findings.Add(FindingKind::kMissing, seq, "record missing");
    if (const Hash* h = stored_at(seq)) leaves[seq - a] = *h;
  };
  const std::string upper = SequenceKey(b);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro = ScanOptions();
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.records_cf));
  std::string leaf, buf;
  uint64_t expected = records_from;
  for (it->Seek(SequenceKey(records_from)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) continue;  // ScanStrays reports malformed keys
    const uint64_t seq = GetBigEndian64(it->key().data());
    for (; expected < seq; ++expected) missing(expected);
    CheckRecord(seq, it->value().ToStringView(), stored_at(seq), r, leaves[seq - a], leaf, buf);
    expected = seq + 1;
  }
  for (; expected < b; ++expected) missing(expected);
}

// Complete subtrees inside the chunk starting at leaf `a`, built from r.levels[0] and
// compared with the stored levels.
void Verifier::CheckChunkSubtrees(uint64_t a, ChunkResult& r) const {
  for (int level = 1; level <= kChunkLevel; ++level) {
    const std::vector<Hash>& below = r.levels[level - 1];
    std::vector<Hash>& here = r.levels[level];
    here.resize(below.size() / 2);
    for (size_t i = 0; i < here.size(); ++i) here[i] = NodeHash(below[2 * i], below[2 * i + 1]);
  }
  const rocksdb::ReadOptions ro = ScanOptions();
  for (int level = kStoredLevelStride; level <= kChunkLevel; level += kStoredLevelStride) {
    const std::vector<Hash>& here = r.levels[level];
    if (here.empty()) continue;
    const uint64_t base = a >> level;
    std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.tree_cf));
    it->Seek(NodeKey(level, base));
    for (uint64_t i = 0; i < here.size(); ++i) {
      const std::string key = NodeKey(level, base + i);
      while (it->Valid() && it->key().compare(key) < 0) it->Next();
      const uint64_t first = (base + i) << level, last = ((base + i + 1) << level) - 1;
      if (!it->Valid() || it->key() != key || it->value().size() != 32) {
        r.findings.Add(FindingKind::kTreeNode, first, last,
                       "stored subtree hash at level " + Str(level) + " missing");
      } else if (std::memcmp(it->value().data(), here[i].data(), 32) != 0) {
        r.findings.Add(FindingKind::kTreeNode, first, last,
                       "stored subtree hash at level " + Str(level) + " differs from the leaves");
      }
    }
  }
}

Hash Verifier::RootWithin(const CompactRange& before, const ChunkResult& r, uint64_t leaves) const {
  CompactRange range = before;
  uint64_t offset = 0;
  for (int level = kChunkLevel; level >= 0; --level) {
    if ((leaves >> level) & 1) {
      range.AppendSubtree(level, r.levels[level][offset >> level]);
      offset += uint64_t{1} << level;
    }
  }
  return range.Root();
}

}  // namespace ipn::records
