// Verification: recomputes every retained record's leaf from the stored (encrypted)
// record, rebuilds the Merkle tree from those leaves (and, for purged records, from the
// stored leaf hashes), and checks it against the stored subtree hashes and against every
// signed tree head; checks that the person and time indexes hold exactly one matching
// entry per record. Work is split into aligned chunks of 2^16 leaves verified in
// parallel and folded in order. The index check compares keyed multiset hashes first and
// only on a mismatch re-scans to name the sequences.
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "common/encoding.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr int kChunkLevel = 16;
constexpr uint64_t kChunkLeaves = uint64_t{1} << kChunkLevel;
constexpr size_t kMaxFindings = 1000;
constexpr size_t kHeadsPerTask = 256;

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
  std::vector<Finding>& items() { return items_; }

 private:
  std::vector<Finding> items_;
};

struct ChunkResult {
  std::vector<std::vector<Hash>>
      levels;  // levels[0]: leaf hashes; levels[k]: complete level-k nodes
  FindingList findings;
  std::vector<uint64_t> flagged;  // missing, altered or misplaced: the index check skips these
  Sum128 person, time;
  uint64_t records_checked = 0;
  bool ready = false;
};

bool Equal(const Hash& a, const Hash& b) {
  return std::memcmp(a.data(), b.data(), 32) == 0;
}

std::string Str(uint64_t v) {
  return std::to_string(v);
}

}  // namespace

class Verifier {
 public:
  Verifier(const RecordStore::Impl& store, const VerifyOptions& options)
      : s_(store), options_(options) {}

  Result<VerifyReport> Run();

 private:
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
  void VerifyChunk(uint64_t chunk, ChunkResult& r) const;
  void CheckRecord(uint64_t seq, std::string_view value, const Hash* stored, ChunkResult& r,
                   Hash& leaf_out, std::string& leaf, std::string& buf) const;
  using SequenceOf = uint64_t (*)(const char* key);
  void ScanIndex(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                 SequenceOf sequence_of, std::string lower, std::string upper, Sum128& sum,
                 FindingList& findings) const;
  void ScanStrays(FindingList& findings) const;
  void NameIndexMismatches(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                           SequenceOf sequence_of, const std::vector<uint8_t>& skip,
                           FindingList& findings) const;
  Hash RootWithin(const CompactRange& before, const ChunkResult& r, uint64_t leaves) const;

  const RecordStore::Impl& s_;
  const VerifyOptions& options_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  uint64_t size_ = 0;
  uint64_t first_retained_ = 0;
  uint8_t fingerprint_key_[crypto_shorthash_siphashx24_KEYBYTES];
};

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
  const uint64_t n = b - a;
  rocksdb::ReadOptions ro = ScanOptions();

  // The stored leaf hashes.
  std::vector<Hash> stored(n);
  std::vector<uint8_t> has_stored(n, 0);
  {
    const std::string upper = NodeKey(0, b);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions tro = ro;
    tro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(tro, s_.tree_cf));
    for (it->Seek(NodeKey(0, a)); it->Valid(); it->Next()) {
      if (it->key().size() != kNodeKeyBytes || it->value().size() != 32) continue;
      const uint64_t i = GetBigEndian64(it->key().data() + 1) - a;
      if (i >= n) continue;
      std::memcpy(stored[i].data(), it->value().data(), 32);
      has_stored[i] = 1;
    }
  }
  auto stored_at = [&](uint64_t seq) -> const Hash* {
    return has_stored[seq - a] ? &stored[seq - a] : nullptr;
  };

  r.levels.assign(kChunkLevel + 1, {});
  std::vector<Hash>& leaves = r.levels[0];
  leaves.resize(n);
  // Purged records: only their stored leaf hashes remain.
  const uint64_t records_from = std::max(a, std::min(first_retained_, b));
  for (uint64_t seq = a; seq < records_from; ++seq) {
    if (const Hash* h = stored_at(seq)) {
      leaves[seq - a] = *h;
    } else {
      r.findings.Add(FindingKind::kTreeNode, seq, "leaf hash of a purged record missing");
    }
  }
  if (records_from < b) {
    auto missing = [&](uint64_t seq) {
      r.flagged.push_back(seq);
      r.findings.Add(FindingKind::kMissing, seq, "record missing");
      if (const Hash* h = stored_at(seq)) leaves[seq - a] = *h;
    };
    const std::string upper = SequenceKey(b);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions rro = ro;
    rro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(rro, s_.records_cf));
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

  // Complete subtrees inside the chunk, compared with the stored levels.
  for (int level = 1; level <= kChunkLevel; ++level) {
    const std::vector<Hash>& below = r.levels[level - 1];
    std::vector<Hash>& here = r.levels[level];
    here.resize(below.size() / 2);
    for (size_t i = 0; i < here.size(); ++i) here[i] = NodeHash(below[2 * i], below[2 * i + 1]);
  }
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

void Verifier::ScanIndex(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                         SequenceOf sequence_of, std::string lower, std::string upper, Sum128& sum,
                         FindingList& findings) const {
  rocksdb::ReadOptions ro = ScanOptions();
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, cf));
  const char* name = tag == 'P' ? "person" : "time";
  std::string buf;
  uint8_t fp[16];
  for (it->Seek(lower); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != key_bytes) {
      findings.Add(FindingKind::kIndexMismatch, 0, std::string("malformed ") + name + " index key");
      continue;
    }
    const uint64_t seq = sequence_of(key.data());
    if (seq < first_retained_ || seq >= size_) {
      findings.Add(FindingKind::kIndexMismatch, seq,
                   std::string(name) + " index entry for a record the log does not hold");
      continue;
    }
    Fingerprint(tag, key.ToStringView(), it->value().ToStringView(), fp, buf);
    sum.Add(fp);
  }
}

void Verifier::ScanStrays(FindingList& findings) const {
  rocksdb::ReadOptions ro = ScanOptions();
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.records_cf));
  it->SeekToFirst();
  while (it->Valid()) {
    if (it->key().size() != 8) {
      findings.Add(FindingKind::kInserted, 0, "malformed record key");
      it->Next();
      continue;
    }
    const uint64_t seq = GetBigEndian64(it->key().data());
    if (seq < first_retained_) {
      findings.Add(FindingKind::kInserted, seq,
                   "record below the purge point " + Str(first_retained_));
      it->Next();
    } else if (seq < size_) {
      it->Seek(SequenceKey(size_));  // the chunks check the retained range
    } else {
      findings.Add(FindingKind::kInserted, seq, "record beyond the tree (size " + Str(size_) + ")");
      it->Next();
    }
  }
}

void Verifier::NameIndexMismatches(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                                   SequenceOf sequence_of, const std::vector<uint8_t>& skip,
                                   FindingList& findings) const {
  const uint64_t count = size_ - first_retained_;
  std::vector<std::array<uint8_t, 16>> expected(count);
  std::vector<uint8_t> state(count, 0);  // 0 no record, 1 expected, 2 seen
  rocksdb::ReadOptions ro = ScanOptions();
  std::string buf;
  {
    std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.records_cf));
    for (it->Seek(SequenceKey(first_retained_)); it->Valid(); it->Next()) {
      if (it->key().size() != 8) continue;
      const uint64_t seq = GetBigEndian64(it->key().data());
      if (seq >= size_) break;
      if (skip[seq - first_retained_]) continue;
      Result<ValueHeader> h = ParseValueHeader(it->value().ToStringView());
      if (!h.ok()) continue;
      if (tag == 'P') {
        Fingerprint('P', PersonKey(h->record_symbol, h->time_unix_us, seq),
                    it->value().ToStringView(), expected[seq - first_retained_].data(), buf);
      } else {
        Fingerprint('T', TimeKey(h->time_unix_us, seq), "", expected[seq - first_retained_].data(),
                    buf);
      }
      state[seq - first_retained_] = 1;
    }
  }
  const char* name = tag == 'P' ? "person" : "time";
  std::vector<std::pair<uint64_t, std::string>> found;
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, cf));
  uint8_t fp[16];
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != key_bytes) continue;
    const uint64_t seq = sequence_of(it->key().data());
    if (seq < first_retained_ || seq >= size_) continue;  // reported by ScanIndex
    const uint64_t i = seq - first_retained_;
    if (skip[i]) continue;
    Fingerprint(tag, it->key().ToStringView(), it->value().ToStringView(), fp, buf);
    if (state[i] == 2) {
      found.emplace_back(seq, std::string("extra ") + name + " index entry");
    } else if (state[i] == 1 && std::memcmp(fp, expected[i].data(), 16) == 0) {
      state[i] = 2;
    } else {
      found.emplace_back(seq, std::string(name) + " index entry does not match its record");
    }
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (state[i] == 1)
      found.emplace_back(first_retained_ + i, std::string("no ") + name + " index entry");
  }
  std::sort(found.begin(), found.end());
  for (auto& [seq, detail] : found) findings.Add(FindingKind::kIndexMismatch, seq, detail);
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

Result<VerifyReport> Verifier::Run() {
  snapshot_ = s_.db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{s_.db.get(), snapshot_};
  randombytes_buf(fingerprint_key_, sizeof(fingerprint_key_));

  VerifyReport report;
  FindingList head_findings, stray_findings;
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(s_.ReadMeta(ro, kMetaNextSequence, &value, &found));
  if (found) {
    if (value.size() != 8) return Status::Corruption("record store metadata is malformed");
    size_ = GetBigEndian64(value.data());
  }
  IPN_RETURN_IF_ERROR(s_.ReadMeta(ro, kMetaPurge, &value, &found));
  if (found) {
    PublicKey signer;
    bool signature_ok = false;
    if (!RecordStore::Impl::ParsePurgeStatement(value, &first_retained_, &signer, &signature_ok)) {
      head_findings.Add(FindingKind::kPurge, 0, "purge statement is malformed");
      first_retained_ = 0;
    } else if (!signature_ok || !s_.TrustedSigner(signer)) {
      if (first_retained_ > 0) {
        head_findings.Add(FindingKind::kPurge, 0, first_retained_ - 1,
                          "records are absent but the purge statement is not validly signed");
      }
    }
    if (first_retained_ > size_) {
      head_findings.Add(FindingKind::kPurge, size_, first_retained_ - 1,
                        "purge point lies beyond the tree");
      first_retained_ = size_;
    }
  }
  report.tree_size = size_;
  report.first_retained = first_retained_;

  Result<std::vector<SignedTreeHead>> loaded = s_.LoadHeads(ro);
  if (!loaded.ok()) return loaded.status();
  std::vector<SignedTreeHead> heads = std::move(*loaded);
  heads.insert(heads.end(), options_.known_heads.begin(), options_.known_heads.end());
  std::sort(heads.begin(), heads.end(), [](const SignedTreeHead& x, const SignedTreeHead& y) {
    return std::tie(x.tree_size, x.timestamp_us) < std::tie(y.tree_size, y.timestamp_us);
  });
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
  std::vector<uint8_t> head_signed(heads.size(), 0), head_root_ok(heads.size(), 0);

  // Tasks: chunks first (folded in order by this thread), then the index scans and the
  // head signatures.
  const uint64_t chunks = (size_ + kChunkLeaves - 1) / kChunkLeaves;
  int threads = options_.threads > 0 ? options_.threads
                                     : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, 8);
  const uint64_t window = 2 * static_cast<uint64_t>(threads) + 1;
  std::vector<ChunkResult> results(chunks);
  // The person index is scanned in key ranges (by the symbol's first byte).
  const int person_tasks = std::min(16, 2 * threads);
  std::vector<Sum128> person_sums(person_tasks);
  Sum128 time_sum;
  std::vector<FindingList> person_findings(person_tasks);
  FindingList time_findings;
  std::vector<std::function<void()>> tasks;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t folded = 0;
  for (uint64_t c = 0; c < chunks; ++c) {
    tasks.push_back([&, c] {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return c < folded + window; });
      }
      ChunkResult r;
      VerifyChunk(c, r);
      std::lock_guard lock(mu);
      results[c] = std::move(r);
      results[c].ready = true;
      cv.notify_all();
    });
  }
  for (int t = 0; t < person_tasks; ++t) {
    tasks.push_back([&, t] {
      std::string lower(1, static_cast<char>(t * 256 / person_tasks));
      std::string upper = t + 1 < person_tasks
                              ? std::string(1, static_cast<char>((t + 1) * 256 / person_tasks))
                              : "";
      ScanIndex(s_.person_cf, 'P', kPersonKeyBytes, PersonKeySequence, lower, upper, person_sums[t],
                person_findings[t]);
    });
  }
  tasks.push_back([&] {
    ScanIndex(s_.time_cf, 'T', kTimeKeyBytes, TimeKeySequence, "", "", time_sum, time_findings);
  });
  tasks.push_back([&] { ScanStrays(stray_findings); });
  for (size_t h = 0; h < heads.size(); h += kHeadsPerTask) {
    tasks.push_back([&, h] {
      for (size_t i = h; i < std::min(heads.size(), h + kHeadsPerTask); ++i) {
        head_signed[i] =
            s_.TrustedSigner(heads[i].signer) && VerifyTreeHeadSignature(heads[i], heads[i].signer);
      }
    });
  }
  std::atomic<size_t> next_task{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i; (i = next_task.fetch_add(1)) < tasks.size();) tasks[i]();
    });
  }

  // Fold the chunks in order; check each head when the tree reaches its size.
  CompactRange range;
  FindingList tree_findings;
  const CompactRange::Emit compare_upper = [&](int level, uint64_t index, const Hash& hash) {
    if (level <= kChunkLevel || level % kStoredLevelStride != 0) return;
    Result<Hash> stored = s_.StoredNode(ro, level, index);
    const uint64_t first = index << level, last = ((index + 1) << level) - 1;
    if (!stored.ok()) {
      tree_findings.Add(FindingKind::kTreeNode, first, last,
                        "stored subtree hash at level " + Str(level) + " missing");
    } else if (!Equal(*stored, hash)) {
      tree_findings.Add(FindingKind::kTreeNode, first, last,
                        "stored subtree hash at level " + Str(level) + " differs from the leaves");
    }
  };
  size_t hi = 0;
  for (; hi < heads.size() && heads[hi].tree_size == 0; ++hi) {
    head_root_ok[hi] = Equal(heads[hi].root_hash, EmptyRootHash());
  }
  Sum128 expected_person, expected_time;
  std::vector<uint8_t> skip(size_ - first_retained_, 0);
  FindingList record_findings;
  for (uint64_t c = 0; c < chunks; ++c) {
    ChunkResult r;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return results[c].ready; });
      r = std::move(results[c]);
    }
    const uint64_t a = c * kChunkLeaves, b = std::min(a + kChunkLeaves, size_);
    for (; hi < heads.size() && heads[hi].tree_size <= b; ++hi) {
      head_root_ok[hi] = Equal(RootWithin(range, r, heads[hi].tree_size - a), heads[hi].root_hash);
    }
    uint64_t offset = 0;
    for (int level = kChunkLevel; level >= 0; --level) {
      if (((b - a) >> level) & 1) {
        range.AppendSubtree(level, r.levels[level][offset >> level], compare_upper);
        offset += uint64_t{1} << level;
      }
    }
    for (Finding& f : r.findings.items()) {
      record_findings.Add(f.kind, f.first_sequence, f.last_sequence, std::move(f.detail));
    }
    for (uint64_t seq : r.flagged) skip[seq - first_retained_] = 1;
    expected_person.Merge(r.person);
    expected_time.Merge(r.time);
    report.records_checked += r.records_checked;
    {
      std::lock_guard lock(mu);
      folded = c + 1;
      cv.notify_all();
    }
    if (options_.progress) options_.progress(b, size_);
  }
  for (auto& w : workers) w.join();

  // Heads: a head vouches for its size and root; blame the records since the last good head.
  uint64_t last_good = 0;
  for (size_t i = 0; i < heads.size(); ++i) {
    const SignedTreeHead& h = heads[i];
    const uint64_t first = std::min(last_good, h.tree_size > 0 ? h.tree_size - 1 : 0);
    const uint64_t last = h.tree_size > 0 ? h.tree_size - 1 : 0;
    const std::string what = "tree head of size " + Str(h.tree_size) + " signed at " +
                             Str(static_cast<uint64_t>(h.timestamp_us)) + "us";
    ++report.heads_checked;
    if (!head_signed[i]) {
      head_findings.Add(FindingKind::kTreeHead, first, last,
                        what + ": signature invalid or signer not trusted");
    } else if (h.tree_size > size_) {
      head_findings.Add(FindingKind::kMissing, size_, h.tree_size - 1,
                        what + " covers records beyond the log's " + Str(size_));
    } else if (!head_root_ok[i]) {
      head_findings.Add(FindingKind::kTreeHead, first, last, what + " does not match the records");
    } else {
      last_good = h.tree_size;
      report.latest_head = h;
    }
  }
  report.unsigned_tail = size_ - (report.latest_head ? report.latest_head->tree_size : 0);

  // Indexes: compare the multiset hashes; name the sequences only when they differ.
  FindingList index_findings;
  Sum128 person_sum;
  for (int t = 0; t < person_tasks; ++t) {
    person_sum.Merge(person_sums[t]);
    for (Finding& f : person_findings[t].items()) {
      index_findings.Add(f.kind, f.first_sequence, f.last_sequence, std::move(f.detail));
    }
  }
  for (Finding& f : time_findings.items()) {
    index_findings.Add(f.kind, f.first_sequence, f.last_sequence, std::move(f.detail));
  }
  report.index_entries_checked = person_sum.count + time_sum.count;
  if (!(person_sum == expected_person)) {
    NameIndexMismatches(s_.person_cf, 'P', kPersonKeyBytes, PersonKeySequence, skip,
                        index_findings);
  }
  if (!(time_sum == expected_time)) {
    NameIndexMismatches(s_.time_cf, 'T', kTimeKeyBytes, TimeKeySequence, skip, index_findings);
  }

  for (FindingList* list :
       {&record_findings, &tree_findings, &stray_findings, &index_findings, &head_findings}) {
    for (Finding& f : list->items()) {
      if (report.findings.size() < kMaxFindings) {
        report.findings.push_back(std::move(f));
      } else {
        ++report.findings_omitted;
      }
    }
  }
  return report;
}

Result<VerifyReport> RecordStore::Impl::Verify(const VerifyOptions& verify_options) const {
  Verifier verifier(*this, verify_options);
  return verifier.Run();
}

const char* FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kMissing: return "missing";
    case FindingKind::kAltered: return "altered";
    case FindingKind::kMisplaced: return "misplaced";
    case FindingKind::kInserted: return "inserted";
    case FindingKind::kIndexMismatch: return "index";
    case FindingKind::kTreeNode: return "tree";
    case FindingKind::kTreeHead: return "head";
    case FindingKind::kPurge: return "purge";
  }
  return "unknown";
}

std::vector<uint64_t> VerifyReport::Sequences(FindingKind kind, size_t limit) const {
  std::vector<uint64_t> out;
  for (const Finding& f : findings) {
    if (f.kind != kind) continue;
    for (uint64_t s = f.first_sequence; s <= f.last_sequence && out.size() < limit; ++s) {
      out.push_back(s);
      if (s == UINT64_MAX) break;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ipn::records
