// Verifier (internal): one run of RecordStore::Verify over a snapshot of the store. The
// run's steps are in verifier.cc, the per-chunk record and tree checks in
// verifier_chunk.cc, the index and stray-record scans in verifier_index.cc.
//
// Work is split into aligned chunks of 2^16 leaves verified in parallel and folded in
// order. The index check compares keyed multiset hashes first and only on a mismatch
// re-scans to name the sequences.
#pragma once

#include <rocksdb/db.h>
#include <sodium.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "records/merkle.h"
#include "records/store_impl.h"
#include "records/verify_report.h"

namespace ipn::records {

inline constexpr int kChunkLevel = 16;
inline constexpr uint64_t kChunkLeaves = uint64_t{1} << kChunkLevel;

// A multiset hash: the sum, modulo 2^128, of keyed 128-bit fingerprints.
struct Sum128 {
  uint64_t lo = 0, hi = 0;
  uint64_t count = 0;
  void Add(const uint8_t* h) {
    uint64_t a, b;
    std::memcpy(&a, h, 8);
    std::memcpy(&b, h + 8, 8);
    const uint64_t old = lo;
    lo += a;
    hi += b + (lo < old ? 1 : 0);
    ++count;
  }
  void Merge(const Sum128& o) {
    const uint64_t old = lo;
    lo += o.lo;
    hi += o.hi + (lo < old ? 1 : 0);
    count += o.count;
  }
  bool operator==(const Sum128&) const = default;
};

// Findings in sequence order, consecutive sequences of one kind and detail merged.
class FindingList {
 public:
  void Add(FindingKind kind, uint64_t first, uint64_t last, std::string detail) {
    if (!items_.empty()) {
      Finding& back = items_.back();
      if (back.kind == kind && back.last_sequence + 1 == first && back.detail == detail) {
        back.last_sequence = last;
        return;
      }
    }
    items_.push_back(Finding{kind, first, last, std::move(detail)});
  }
  void Add(FindingKind kind, uint64_t sequence, std::string detail) {
    Add(kind, sequence, sequence, std::move(detail));
  }
  // Moves every finding of `other` to the end of this list.
  void Take(FindingList& other) {
    for (Finding& f : other.items_) {
      Add(f.kind, f.first_sequence, f.last_sequence, std::move(f.detail));
    }
    other.items_.clear();
  }
  std::vector<Finding>& items() { return items_; }

 private:
  std::vector<Finding> items_;
};

struct ChunkResult {
  std::vector<std::vector<Hash>> levels;  // levels[0]: leaf hashes; levels[k]: level-k nodes
  FindingList findings;
  std::vector<uint64_t> flagged;  // missing, altered or misplaced: the index check skips these
  Sum128 person, time;
  uint64_t records_checked = 0;
  bool ready = false;
};

inline bool Equal(const Hash& a, const Hash& b) {
  return std::memcmp(a.data(), b.data(), 32) == 0;
}

inline std::string Str(uint64_t v) {
  return std::to_string(v);
}

class Verifier {
 public:
  Verifier(const RecordStore::Impl& store, const VerifyOptions& options)
      : s_(store), options_(options) {}

  Result<VerifyReport> Run();

 private:
  // --- the steps of Run, in order (verifier.cc) ---
  Status ReadSizeAndPurgePoint(const rocksdb::ReadOptions& ro);
  Result<std::vector<SignedTreeHead>> CollectHeads(const rocksdb::ReadOptions& ro) const;
  std::vector<std::function<void()>> PlanTasks(const std::vector<SignedTreeHead>& heads);
  void FoldChunks(const rocksdb::ReadOptions& ro, const std::vector<SignedTreeHead>& heads,
                  VerifyReport& report);
  void JudgeHeads(const std::vector<SignedTreeHead>& heads, VerifyReport& report);
  void CheckIndexes(VerifyReport& report);
  void CollectFindings(VerifyReport& report);

  // --- one chunk of leaves (verifier_chunk.cc) ---
  void VerifyChunk(uint64_t chunk, ChunkResult& r) const;
  void ReadStoredLeaves(uint64_t a, uint64_t b, std::vector<Hash>& stored,
                        std::vector<uint8_t>& has_stored) const;
  void CheckChunkRecords(uint64_t a, uint64_t b, const std::vector<Hash>& stored,
                         const std::vector<uint8_t>& has_stored, ChunkResult& r) const;
  void CheckRecord(uint64_t seq, std::string_view value, const Hash* stored, ChunkResult& r,
                   Hash& leaf_out, std::string& leaf, std::string& buf) const;
  void CheckChunkSubtrees(uint64_t a, ChunkResult& r) const;
  Hash RootWithin(const CompactRange& before, const ChunkResult& r, uint64_t leaves) const;

  // --- the indexes and stray records (verifier_index.cc) ---
  using SequenceOf = uint64_t (*)(const char* key);
  void ScanIndex(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                 SequenceOf sequence_of, std::string lower, std::string upper, Sum128& sum,
                 FindingList& findings) const;
  void ScanStrays(FindingList& findings) const;
  void NameIndexMismatches(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                           SequenceOf sequence_of, const std::vector<uint8_t>& skip,
                           FindingList& findings) const;

  void Fingerprint(char tag, std::string_view key, std::string_view value, uint8_t out[16],
                   std::string& buf) const {
    buf.assign(1, tag);
    buf.append(key);
    buf.append(value);
    crypto_shorthash_siphashx24(out, reinterpret_cast<const uint8_t*>(buf.data()), buf.size(),
                                fingerprint_key_);
  }
  rocksdb::ReadOptions ScanOptions() const {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.fill_cache = false;
    ro.readahead_size = 2 << 20;
    ro.total_order_seek = true;
    return ro;
  }

  const RecordStore::Impl& s_;
  const VerifyOptions& options_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  uint64_t size_ = 0;
  uint64_t first_retained_ = 0;
  uint8_t fingerprint_key_[crypto_shorthash_siphashx24_KEYBYTES];
  int threads_ = 1;

  // --- shared by the worker tasks and the folding thread (mu_ guards results_, folded_) ---
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ChunkResult> results_;  // by chunk; taken by FoldChunks when ready
  uint64_t folded_ = 0;               // chunks folded; a task runs at most window_ ahead
  uint64_t window_ = 1;
  std::vector<Sum128> person_sums_;  // one per person-index key range
  std::vector<FindingList> person_findings_;
  Sum128 time_sum_;
  FindingList time_findings_;
  std::vector<uint8_t> head_signed_;  // by head: signature valid and signer trusted

  // --- what the fold found ---
  std::vector<uint8_t> head_root_ok_;  // by head: root matches the recomputed tree
  std::vector<uint8_t> skip_;          // by sequence - first_retained_: flagged by a chunk
  Sum128 expected_person_, expected_time_;
  FindingList head_findings_, stray_findings_, record_findings_, tree_findings_, index_findings_;
};

}  // namespace ipn::records
