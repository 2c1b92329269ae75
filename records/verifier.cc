// Verification: recomputes every retained record's leaf from the stored (encrypted)
// record, rebuilds the Merkle tree from those leaves (and, for purged records, from the
// stored leaf hashes), and checks it against the stored subtree hashes and against every
// signed tree head; checks that the person and time indexes hold exactly one matching
// entry per record. This file holds the run, step by step; see records/verifier.h.
#include "records/verifier.h"

#include <algorithm>
#include <atomic>
#include <tuple>

#include "records/record_codec.h"

namespace ipn::records {
namespace {

constexpr size_t kMaxFindings = 1000;
constexpr size_t kHeadsPerTask = 256;

}  // namespace

Result<VerifyReport> Verifier::Run() {
  // Everything reads one snapshot, so appends during the run do not count as damage.
  snapshot_ = s_.db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{s_.db.get(), snapshot_};
  // A fresh key per run: whoever altered the store cannot forge matching index sums.
  randombytes_buf(fingerprint_key_, sizeof(fingerprint_key_));
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;

  VerifyReport report;
  IPN_RETURN_IF_ERROR(ReadSizeAndPurgePoint(ro));
  report.tree_size = size_;
  report.first_retained = first_retained_;
  Result<std::vector<SignedTreeHead>> heads = CollectHeads(ro);
  if (!heads.ok()) return heads.status();

  threads_ = options_.threads > 0 ? options_.threads
                                  : static_cast<int>(std::thread::hardware_concurrency());
  threads_ = std::clamp(threads_, 1, 8);
  std::vector<std::function<void()>> tasks = PlanTasks(*heads);
  std::atomic<size_t> next_task{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads_; ++t) {
    workers.emplace_back([&] {
      for (size_t i; (i = next_task.fetch_add(1)) < tasks.size();) tasks[i]();
    });
  }
  FoldChunks(ro, *heads, report);
  for (auto& w : workers) w.join();

  JudgeHeads(*heads, report);
  CheckIndexes(report);
  CollectFindings(report);
  return report;
}

// The tree size and the purge point; a purge statement that is malformed, unsigned or
// beyond the tree is a finding, and the purge point falls back to what can be trusted.
Status Verifier::ReadSizeAndPurgePoint(const rocksdb::ReadOptions& ro) {
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(s_.ReadMeta(ro, kMetaNextSequence, &value, &found));
  if (found) {
    if (value.size() != 8) return Status::Corruption("record store metadata is malformed");
    size_ = GetBigEndian64(value.data());
  }
  IPN_RETURN_IF_ERROR(s_.ReadMeta(ro, kMetaPurge, &value, &found));
  if (!found) return Status::Ok();
  PublicKey signer;
  bool signature_ok = false;
  if (!RecordStore::Impl::ParsePurgeStatement(value, &first_retained_, &signer, &signature_ok)) {
    head_findings_.Add(FindingKind::kPurge, 0, "purge statement is malformed");
    first_retained_ = 0;
  } else if (!signature_ok || !s_.TrustedSigner(signer)) {
    if (first_retained_ > 0) {
      head_findings_.Add(FindingKind::kPurge, 0, first_retained_ - 1,
                         "records are absent but the purge statement is not validly signed");
    }
  }
  if (first_retained_ > size_) {
    head_findings_.Add(FindingKind::kPurge, size_, first_retained_ - 1,
                       "purge point lies beyond the tree");
    first_retained_ = size_;
  }
  return Status::Ok();
}

// The stored heads and the caller's known ones, by (size, time), duplicates dropped.
Result<std::vector<SignedTreeHead>> Verifier::CollectHeads(const rocksdb::ReadOptions& ro) const {
  Result<std::vector<SignedTreeHead>> loaded = s_.LoadHeads(ro);
  if (!loaded.ok()) return loaded.status();
  std::vector<SignedTreeHead> heads = std::move(*loaded);
  heads.insert(heads.end(), options_.known_heads.begin(), options_.known_heads.end());
  std::sort(heads.begin(), heads.end(), [](const SignedTreeHead& x, const SignedTreeHead& y) {
    return std::tie(x.tree_size, x.timestamp_us) < std::tie(y.tree_size, y.timestamp_us);
  });
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
  return heads;
}

// The workers' tasks: chunks first (folded in order by FoldChunks, at most window_ ahead
// of it so that memory stays bounded), then the index scans, the stray-record scan and
// the head signatures.
std::vector<std::function<void()>> Verifier::PlanTasks(const std::vector<SignedTreeHead>& heads) {
  const uint64_t chunks = (size_ + kChunkLeaves - 1) / kChunkLeaves;
  window_ = 2 * static_cast<uint64_t>(threads_) + 1;
  results_.assign(chunks, {});
  // The person index is scanned in key ranges (by the symbol's first byte).
  const int person_tasks = std::min(16, 2 * threads_);
  person_sums_.assign(person_tasks, {});
  person_findings_.assign(person_tasks, {});
  head_signed_.assign(heads.size(), 0);

  std::vector<std::function<void()>> tasks;
  for (uint64_t c = 0; c < chunks; ++c) {
    tasks.push_back([this, c] {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return c < folded_ + window_; });
      }
      ChunkResult r;
      VerifyChunk(c, r);
      std::lock_guard lock(mu_);
      results_[c] = std::move(r);
      results_[c].ready = true;
      cv_.notify_all();
    });
  }
  for (int t = 0; t < person_tasks; ++t) {
    tasks.push_back([this, t, person_tasks] {
      std::string lower(1, static_cast<char>(t * 256 / person_tasks));
      std::string upper = t + 1 < person_tasks
                              ? std::string(1, static_cast<char>((t + 1) * 256 / person_tasks))
                              : "";
      ScanIndex(s_.person_cf, 'P', kPersonKeyBytes, PersonKeySequence, lower, upper,
                person_sums_[t], person_findings_[t]);
    });
  }
  tasks.push_back([this] {
    ScanIndex(s_.time_cf, 'T', kTimeKeyBytes, TimeKeySequence, "", "", time_sum_, time_findings_);
  });
  tasks.push_back([this] { ScanStrays(stray_findings_); });
  for (size_t h = 0; h < heads.size(); h += kHeadsPerTask) {
    tasks.push_back([this, h, &heads] {
      for (size_t i = h; i < std::min(heads.size(), h + kHeadsPerTask); ++i) {
        head_signed_[i] =
            s_.TrustedSigner(heads[i].signer) && VerifyTreeHeadSignature(heads[i], heads[i].signer);
      }
    });
  }
  return tasks;
}

// Folds the chunks into one tree in order, comparing the stored subtree hashes above the
// chunk level as they complete, and checks each head's root when the tree reaches its
// size. Gathers the chunks' findings, flagged sequences and expected index sums.
void Verifier::FoldChunks(const rocksdb::ReadOptions& ro, const std::vector<SignedTreeHead>& heads,
                          VerifyReport& report) {
  const uint64_t chunks = results_.size();
  head_root_ok_.assign(heads.size(), 0);
  skip_.assign(size_ - first_retained_, 0);
  CompactRange range;
  const CompactRange::Emit compare_upper = [&](int level, uint64_t index, const Hash& hash) {
    if (level <= kChunkLevel || level % kStoredLevelStride != 0) return;
    Result<Hash> stored = s_.StoredNode(ro, level, index);
    const uint64_t first = index << level, last = ((index + 1) << level) - 1;
    if (!stored.ok()) {
      tree_findings_.Add(FindingKind::kTreeNode, first, last,
                         "stored subtree hash at level " + Str(level) + " missing");
    } else if (!Equal(*stored, hash)) {
      tree_findings_.Add(FindingKind::kTreeNode, first, last,
                         "stored subtree hash at level " + Str(level) + " differs from the leaves");
    }
  };
  size_t hi = 0;
  for (; hi < heads.size() && heads[hi].tree_size == 0; ++hi) {
    head_root_ok_[hi] = Equal(heads[hi].root_hash, EmptyRootHash());
  }
  for (uint64_t c = 0; c < chunks; ++c) {
    ChunkResult r;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return results_[c].ready; });
      r = std::move(results_[c]);
    }
    const uint64_t a = c * kChunkLeaves, b = std::min(a + kChunkLeaves, size_);
    for (; hi < heads.size() && heads[hi].tree_size <= b; ++hi) {
      head_root_ok_[hi] = Equal(RootWithin(range, r, heads[hi].tree_size - a), heads[hi].root_hash);
    }
    uint64_t offset = 0;
    for (int level = kChunkLevel; level >= 0; --level) {
      if (((b - a) >> level) & 1) {
        range.AppendSubtree(level, r.levels[level][offset >> level], compare_upper);
        offset += uint64_t{1} << level;
      }
    }
    record_findings_.Take(r.findings);
    for (uint64_t seq : r.flagged) skip_[seq - first_retained_] = 1;
    expected_person_.Merge(r.person);
    expected_time_.Merge(r.time);
    report.records_checked += r.records_checked;
    {
      std::lock_guard lock(mu_);
      folded_ = c + 1;
      cv_.notify_all();
    }
    if (options_.progress) options_.progress(b, size_);
  }
}

// A head vouches for its size and root; a bad one blames the records since the last good
// head. The newest good head is the report's latest.
void Verifier::JudgeHeads(const std::vector<SignedTreeHead>& heads, VerifyReport& report) {
  uint64_t last_good = 0;
  for (size_t i = 0; i < heads.size(); ++i) {
    const SignedTreeHead& h = heads[i];
    const uint64_t first = std::min(last_good, h.tree_size > 0 ? h.tree_size - 1 : 0);
    const uint64_t last = h.tree_size > 0 ? h.tree_size - 1 : 0;
    const std::string what = "tree head of size " + Str(h.tree_size) + " signed at " +
                             Str(static_cast<uint64_t>(h.timestamp_us)) + "us";
    ++report.heads_checked;
    if (!head_signed_[i]) {
      head_findings_.Add(FindingKind::kTreeHead, first, last,
                         what + ": signature invalid or signer not trusted");
    } else if (h.tree_size > size_) {
      head_findings_.Add(FindingKind::kMissing, size_, h.tree_size - 1,
                         what + " covers records beyond the log's " + Str(size_));
    } else if (!head_root_ok_[i]) {
      head_findings_.Add(FindingKind::kTreeHead, first, last, what + " does not match the records");
    } else {
      last_good = h.tree_size;
      report.latest_head = h;
    }
  }
  report.unsigned_tail = size_ - (report.latest_head ? report.latest_head->tree_size : 0);
}

// Compares the indexes' multiset hashes with the records'; names the sequences only when
// they differ.
void Verifier::CheckIndexes(VerifyReport& report) {
  Sum128 person_sum;
  for (size_t t = 0; t < person_sums_.size(); ++t) {
    person_sum.Merge(person_sums_[t]);
    index_findings_.Take(person_findings_[t]);
  }
  index_findings_.Take(time_findings_);
  report.index_entries_checked = person_sum.count + time_sum_.count;
  if (!(person_sum == expected_person_)) {
    NameIndexMismatches(s_.person_cf, 'P', kPersonKeyBytes, PersonKeySequence, skip_,
                        index_findings_);
  }
  if (!(time_sum_ == expected_time_)) {
    NameIndexMismatches(s_.time_cf, 'T', kTimeKeyBytes, TimeKeySequence, skip_, index_findings_);
  }
}

// Every finding into the report, by kind of check, up to the report's cap.
void Verifier::CollectFindings(VerifyReport& report) {
  for (FindingList* list :
       {&record_findings_, &tree_findings_, &stray_findings_, &index_findings_, &head_findings_}) {
    for (Finding& f : list->items()) {
      if (report.findings.size() < kMaxFindings) {
        report.findings.push_back(std::move(f));
      } else {
        ++report.findings_omitted;
      }
    }
  }
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
