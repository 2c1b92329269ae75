// DeskStore over RocksDB: one database, keys by prefix.
//   m/size  m/head  m/range      the visible size, its head, the compact range at that size
//   r/<seq>                      a sealed record (visible below m/size; staged above it)
//   column family "counts"       the counts the views read (oversight/desk_counts.h)
//   h/<n>  f/<n>                 committed heads and findings, in order
//   n/<level><index>             perfect subtrees of 2^level >= 64 leaves, for the proofs
#include "oversight/desk_store.h"

#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "common/big_endian.h"
#include "common/civil_time.h"
#include "oversight/desk_counts.h"
#include "records/merkle.h"

namespace ipn::oversight {
namespace {

constexpr char kSizeKey[] = "m/size";
constexpr char kHeadKey[] = "m/head";
constexpr char kRangeKey[] = "m/range";
constexpr char kRecordAd[] = "ipn-desk/record/v1";
constexpr uint64_t kMaxFindings = 100'000;  // refused heads recorded, in all
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
// Subtrees of at least 2^kNodeLevel leaves are kept as they are completed (one 32-byte
// hash per 32 records in all), so a proof reads O(log n) of them and fewer than
// 2 * 2^kNodeLevel records (smaller subtrees beside the record and at the right edge):
// never the whole copy.
constexpr int kNodeLevel = 6;

std::string SeqKey(char kind, uint64_t n) {
  std::string k = {kind, '/'};
  k.resize(10);
  PutBigEndian64(n, k.data() + 2);
  return k;
}

std::string NodeKey(int level, uint64_t index) {
  std::string k = {'n', '/', static_cast<char>(level)};
  k.resize(11);
  PutBigEndian64(index, k.data() + 3);
  return k;
}

std::string U64(uint64_t v) {
  std::string s(8, '\0');
  PutBigEndian64(v, s.data());
  return s;
}

std::string EncodeRange(const records::CompactRange& range) {
  std::string s = U64(range.size());
  for (const records::Hash& h : range.roots())
    s.append(reinterpret_cast<const char*>(h.data()), 32);
  return s;
}

Result<records::CompactRange> DecodeRange(const std::string& s) {
  if (s.size() < 8 || (s.size() - 8) % 32 != 0) return Status::Corruption("desk: bad m/range");
  std::vector<records::Hash> roots((s.size() - 8) / 32);
  for (size_t i = 0; i < roots.size(); ++i) std::memcpy(roots[i].data(), s.data() + 8 + 32 * i, 32);
  return records::CompactRange::FromRoots(GetBigEndian64(s.data()), std::move(roots));
}

std::string Ad(uint64_t sequence) {
  return kRecordAd + U64(sequence);
}

Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  return Status::IoError(std::string("desk store: ") + what + ": " + s.ToString());
}

class DeskStoreImpl final : public DeskStore {
 public:
  explicit DeskStoreImpl(DeskStoreOptions o) : options_(std::move(o)) {}
  ~DeskStoreImpl() override {
    counts_.reset();
    if (db_) db_->Close();
  }

  Status Init() {
    if (options_.data_key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
      return Status::InvalidArgument("desk store: the data key must be 32 bytes");
    }
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) return Status::IoError("desk store: cannot create " + options_.dir);
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    o.max_background_jobs = 2;
    rocksdb::ColumnFamilyOptions records_cf;
    records_cf.compression = rocksdb::kNoCompression;  // sealed records do not compress
    records_cf.write_buffer_size = 64 << 20;
    rocksdb::ColumnFamilyOptions counts_cf;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(64 << 20);  // a year's counts: ~20 MB
    counts_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, records_cf}, {"counts", counts_cf}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    IPN_RETURN_IF_ERROR(
        FromRocks(rocksdb::DB::Open(o, options_.dir, families, &handles, &raw), "open"));
    db_.reset(raw);
    counts_.reset(handles[1]);
    delete handles[0];  // the default family's handle is the DB's own
    std::string v;
    rocksdb::Status s = db_->Get({}, kSizeKey, &v);
    if (s.ok()) {
      if (v.size() != 8) return Status::Corruption("desk store: bad m/size");
      size_ = GetBigEndian64(v.data());
      IPN_RETURN_IF_ERROR(FromRocks(db_->Get({}, kHeadKey, &v), "head"));
      Result<records::SignedTreeHead> h = records::DecodeTreeHead(v);
      if (!h.ok()) return h.status().WithContext("desk store: m/head");
      head_ = *h;
      IPN_RETURN_IF_ERROR(FromRocks(db_->Get({}, kRangeKey, &v), "range"));
      Result<records::CompactRange> r = DecodeRange(v);
      if (!r.ok()) return r.status();
      range_ = *r;
      if (range_.size() != size_ || head_->tree_size != size_) {
        return Status::Corruption("desk store: size, head and range disagree");
      }
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "size");
    }
    heads_ = CountPrefix('h');
    findings_ = CountPrefix('f');
    // Records staged before a restart were never committed: a pull starts again.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    it->Seek(SeqKey('r', size_));
    if (it->Valid() && it->key().size() == 10 && it->key()[0] == 'r') return DropStaged();
    pending_ = range_;
    return FromRocks(it->status(), "open");
  }

  uint64_t size() const override {
    std::lock_guard lock(mu_);
    return size_;
  }
  std::optional<records::SignedTreeHead> head() const override {
    std::lock_guard lock(mu_);
    return head_;
  }
  uint64_t staged() const override {
    std::lock_guard lock(mu_);
    return pending_.size() - size_;
  }

  Status Stage(std::span<const records::Record> page) override {
    std::lock_guard lock(mu_);
    const uint64_t next = pending_.size();
    if (page.size() > options_.max_staged_records - (next - size_)) {
      return Status::ResourceExhausted("desk store: more than " +
                                       std::to_string(options_.max_staged_records) +
                                       " records staged without a head");
    }
    for (size_t i = 0; i < page.size(); ++i) {
      if (page[i].sequence != next + i) {
        return Status::InvalidArgument("desk store: record " + std::to_string(page[i].sequence) +
                                       " staged where " + std::to_string(next + i) + " comes next");
      }
    }
    // Computed aside and taken only once the write succeeded.
    records::CompactRange range = pending_;
    std::unordered_map<std::string, uint64_t> delta;
    rocksdb::WriteBatch batch;
    std::string sealed, key;
    // One random draw per page: each record's nonce is it and the record's sequence.
    std::array<uint8_t, kNonceBytes> nonce{};
    randombytes_buf(nonce.data(), kNonceBytes - 8);
    // Written with the page; one a refused head left behind is rewritten when its records
    // are staged again, before any proof can reach it (proofs read below size()).
    const records::CompactRange::Emit keep_node = [&batch](int level, uint64_t index,
                                                           const records::Hash& h) {
      if (level >= kNodeLevel) {
        batch.Put(NodeKey(level, index),
                  rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size()));
      }
    };
    for (const records::Record& r : page) {
      const std::string leaf = records::EncodeLeaf(r);
      range.AppendLeaf(
          records::LeafHash({reinterpret_cast<const uint8_t*>(leaf.data()), leaf.size()}),
          keep_node);
      PutBigEndian64(r.sequence, nonce.data() + kNonceBytes - 8);
      Seal(r.sequence, nonce, leaf, &sealed);
      batch.Put(SeqKey('r', r.sequence), sealed);
      const int64_t day = JstDayTime(r.time_unix_us).day;
      if (day != cached_day_) {  // records come in time order: the names change rarely
        const CivilDate date = CivilFromDays(day);
        cached_day_ = day;
        cached_month_ = FormatMonth(date);
        cached_date_ = FormatDate(date);
      }
      desk::AddCounts(r, cached_month_, cached_date_, &delta, &key);
    }
    // Not synced: the commit's synced write makes the WAL durable up to it.
    IPN_RETURN_IF_ERROR(FromRocks(db_->Write({}, &batch), "stage"));
    pending_ = std::move(range);
    for (const auto& [k, n] : delta) delta_[k] += n;
    return Status::Ok();
  }

  Status Commit(const records::SignedTreeHead& head, int64_t now_unix_us) override {
    std::lock_guard lock(mu_);
    const std::string name = "the head of size " + std::to_string(head.tree_size);
    if (!records::VerifyTreeHeadSignature(head, options_.records_key)) {
      return Refuse(now_unix_us, head.tree_size, "bad_signature",
                    name + " is not signed by the commission's records key");
    }
    if (head.tree_size != pending_.size()) {
      return Refuse(now_unix_us, head.tree_size, "not_contiguous",
                    name + " does not cover exactly the " + std::to_string(pending_.size()) +
                        " records verified and pulled");
    }
    if (sodium_memcmp(pending_.Root().data(), head.root_hash.data(), 32) != 0) {
      return Refuse(now_unix_us, head.tree_size, "inconsistent",
                    name + " does not match the records pulled after size " +
                        std::to_string(size_) +
                        ", or the log before them: a record was altered, removed, inserted "
                        "or reordered, or the log was rewritten");
    }
    // Read back and written whole (not merged): a view then reads one value per key, never
    // a chain of operands (measured: merged counts made a year's daily view slower).
    rocksdb::WriteBatch batch;
    std::vector<rocksdb::Slice> keys;
    keys.reserve(delta_.size());
    for (const auto& entry : delta_) keys.emplace_back(entry.first);
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> got(keys.size());
    db_->MultiGet({}, counts_.get(), keys.size(), keys.data(), values.data(), got.data());
    size_t i = 0;
    for (const auto& [key, add] : delta_) {
      if (!got[i].ok() && !got[i].IsNotFound()) return FromRocks(got[i], "count");
      const uint64_t before =
          got[i].ok() && values[i].size() == 8 ? GetBigEndian64(values[i].data()) : 0;
      batch.Put(counts_.get(), key, U64(before + add));
      ++i;
    }
    batch.Put(kSizeKey, U64(pending_.size()));
    batch.Put(kHeadKey, records::EncodeTreeHead(head));
    batch.Put(kRangeKey, EncodeRange(pending_));
    batch.Put(SeqKey('h', heads_),
              U64(static_cast<uint64_t>(now_unix_us)) + records::EncodeTreeHead(head));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    IPN_RETURN_IF_ERROR(FromRocks(db_->Write(sync, &batch), "commit"));
    ++heads_;
    size_ = pending_.size();
    range_ = pending_;
    head_ = head;
    delta_.clear();
    return Status::Ok();
  }

  Status DropStaged() override {
    std::lock_guard lock(mu_);
    return DropStagedLocked();
  }

  Result<std::vector<VolumeRow>> Volumes(const VolumeQuery& q) const override {
    Result<std::vector<VolumeRow>> rows =
        desk::ReadVolumes(db_.get(), counts_.get(), q, last_rows_.load());
    // As many as the last view next time: few reallocations.
    if (rows.ok()) last_rows_.store(std::min<size_t>(rows->size(), 1 << 20));
    return rows;
  }

  Result<std::vector<records::Record>> Records(std::span<const uint64_t> sequences) const override {
    const uint64_t visible = size();
    std::vector<records::Record> out;
    for (uint64_t s : sequences) {
      if (s >= visible) return Status::NotFound("record " + std::to_string(s) + " is not verified");
      std::string v;
      IPN_RETURN_IF_ERROR(FromRocks(db_->Get({}, SeqKey('r', s), &v), "record"));
      Result<records::Record> r = Unseal(s, v);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }

  Result<std::vector<records::Record>> Range(uint64_t begin, uint64_t end,
                                             size_t limit) const override {
    end = std::min(end, size());
    std::vector<records::Record> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(SeqKey('r', begin)); it->Valid() && out.size() < limit; it->Next()) {
      const rocksdb::Slice k = it->key();
      if (k.size() != 10 || k[0] != 'r') break;
      const uint64_t s = GetBigEndian64(k.data() + 2);
      if (s >= end) break;
      Result<records::Record> r = Unseal(s, it->value().ToString());
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    IPN_RETURN_IF_ERROR(FromRocks(it->status(), "range"));
    return out;
  }

  Result<std::vector<records::Hash>> InclusionProof(uint64_t sequence,
                                                    uint64_t tree_size) const override {
    if (tree_size > size() || sequence >= tree_size) {
      return Status::InvalidArgument("desk store: no proof of record " + std::to_string(sequence) +
                                     " in a tree of " + std::to_string(tree_size));
    }
    return records::BuildInclusionProof(
        [this](int level, uint64_t index) { return Subtree(level, index); }, sequence, tree_size);
  }

  Result<std::vector<CommittedHead>> Heads() const override {
    std::vector<CommittedHead> out;
    Status s = ForEach('h', [&](std::string_view v) -> Status {
      if (v.size() < 8) return Status::Corruption("desk store: a malformed head entry");
      Result<records::SignedTreeHead> h = records::DecodeTreeHead(v.substr(8));
      if (!h.ok()) return h.status();
      out.push_back({*h, static_cast<int64_t>(GetBigEndian64(v.data()))});
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<std::vector<DeskFinding>> Findings() const override {
    std::vector<DeskFinding> out;
    Status s = ForEach('f', [&](std::string_view v) -> Status {
      // u64 time | u64 head size | kind \0 detail
      const size_t nul = v.find('\0', 16);
      if (v.size() < 16 || nul == std::string_view::npos) {
        return Status::Corruption("desk store: a malformed finding");
      }
      out.push_back({static_cast<int64_t>(GetBigEndian64(v.data())), GetBigEndian64(v.data() + 8),
                     std::string(v.substr(16, nul - 16)), std::string(v.substr(nul + 1))});
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

 private:
  void Seal(uint64_t sequence, const std::array<uint8_t, kNonceBytes>& nonce,
            const std::string& leaf, std::string* out) const {
    out->resize(kNonceBytes + leaf.size() + kTagBytes);
    auto* bytes = reinterpret_cast<uint8_t*>(out->data());
    std::memcpy(bytes, nonce.data(), kNonceBytes);
    const std::string ad = Ad(sequence);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes + kNonceBytes, nullptr, reinterpret_cast<const uint8_t*>(leaf.data()), leaf.size(),
        reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr, bytes,
        options_.data_key.data());
  }

  Result<records::Record> Unseal(uint64_t sequence, const std::string& sealed) const {
    if (sealed.size() < kNonceBytes + kTagBytes) {
      return Status::Corruption("desk store: record " + std::to_string(sequence) + " is short");
    }
    std::string leaf(sealed.size() - kNonceBytes - kTagBytes, '\0');
    const auto* bytes = reinterpret_cast<const uint8_t*>(sealed.data());
    const std::string ad = Ad(sequence);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<uint8_t*>(leaf.data()), nullptr, nullptr, bytes + kNonceBytes,
            sealed.size() - kNonceBytes, reinterpret_cast<const uint8_t*>(ad.data()), ad.size(),
            bytes, options_.data_key.data()) != 0) {
      return Status::Corruption("desk store: record " + std::to_string(sequence) +
                                " does not open with the desk's key");
    }
    Result<records::Record> r = records::DecodeLeaf(leaf);
    sodium_memzero(leaf.data(), leaf.size());
    if (!r.ok()) return r.status().WithContext("desk store: record " + std::to_string(sequence));
    return r;
  }

  // The hash of leaves [index << level, (index + 1) << level), all visible.
  Result<records::Hash> Subtree(int level, uint64_t index) const {
    if (level >= kNodeLevel) {
      std::string v;
      const rocksdb::Status s = db_->Get({}, NodeKey(level, index), &v);
      if (s.ok() && v.size() == 32) {
        records::Hash h;
        std::memcpy(h.data(), v.data(), 32);
        return h;
      }
      if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "node");
      if (level > kNodeLevel) {  // a copy from before nodes were kept: from the halves
        Result<records::Hash> left = Subtree(level - 1, 2 * index);
        if (!left.ok()) return left;
        Result<records::Hash> right = Subtree(level - 1, 2 * index + 1);
        if (!right.ok()) return right;
        return records::NodeHash(*left, *right);
      }
    }
    const uint64_t count = uint64_t{1} << level;
    Result<std::vector<records::Record>> leaves = Range(index * count, (index + 1) * count, count);
    if (!leaves.ok()) return leaves.status();
    if (leaves->size() != count) return Status::NotFound("desk store: a subtree is not visible");
    records::CompactRange range;
    for (const records::Record& r : *leaves) {
      const std::string leaf = records::EncodeLeaf(r);
      range.AppendLeaf(
          records::LeafHash({reinterpret_cast<const uint8_t*>(leaf.data()), leaf.size()}));
    }
    return range.Root();
  }

  Status Refuse(int64_t now, uint64_t head_size, const char* kind, const std::string& detail) {
    // A desk polling a core that keeps lying would refuse the same head every round: one
    // finding per (kind, head size) in a row, and at most kMaxFindings in all.
    const std::string what = std::string(kind) + "/" + std::to_string(head_size);
    Status written = Status::Ok();
    if (what != last_finding_ && findings_ < kMaxFindings) {
      rocksdb::WriteBatch batch;
      std::string v = U64(static_cast<uint64_t>(now)) + U64(head_size) + kind;
      v.push_back('\0');
      v += detail;
      batch.Put(SeqKey('f', findings_), v);
      rocksdb::WriteOptions sync;
      sync.sync = true;
      written = FromRocks(db_->Write(sync, &batch), "finding");
      if (written.ok()) {
        ++findings_;
        last_finding_ = what;
      }
    }
    Status dropped = DropStagedLocked();
    if (!written.ok()) return written;
    if (!dropped.ok()) return dropped;
    return Status::Corruption(detail);
  }

  Status DropStagedLocked() {
    IPN_RETURN_IF_ERROR(FromRocks(
        db_->DeleteRange({}, db_->DefaultColumnFamily(), SeqKey('r', size_), "r0"), "drop staged"));
    pending_ = range_;
    delta_.clear();
    return Status::Ok();
  }

  uint64_t CountPrefix(char kind) const {
    uint64_t n = 0;
    (void)ForEach(kind, [&](std::string_view) {
      ++n;
      return Status::Ok();
    });
    return n;
  }

  template <typename F>
  Status ForEach(char kind, F&& f) const {
    const std::string prefix = {kind, '/'};
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      IPN_RETURN_IF_ERROR(f(it->value().ToStringView()));
    }
    return FromRocks(it->status(), "scan");
  }

  const DeskStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<rocksdb::ColumnFamilyHandle> counts_;
  mutable std::mutex mu_;
  uint64_t size_ = 0;  // visible
  std::optional<records::SignedTreeHead> head_;
  records::CompactRange range_;                      // at size_
  records::CompactRange pending_;                    // at size_ + staged
  std::unordered_map<std::string, uint64_t> delta_;  // counts the staged records add
  uint64_t heads_ = 0, findings_ = 0;
  std::string last_finding_;  // "kind/head size" of the last one recorded since opening
  mutable std::atomic<size_t> last_rows_{0};  // rows of the last view
  int64_t cached_day_ = INT64_MIN;  // the JST day of the last record staged, and its names
  std::string cached_month_, cached_date_;
};

}  // namespace

Result<std::unique_ptr<DeskStore>> DeskStore::Open(DeskStoreOptions options) {
  auto store = std::make_unique<DeskStoreImpl>(std::move(options));
  IPN_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<DeskStore>(std::move(store));
}

}  // namespace ipn::oversight
