// RecordStore: opening the store, reads (by sequence, person, time), statistics, the
// Merkle tree's stored hashes, tree heads and proofs. Appending is in group_commit.cc,
// verification in verifier.cc, retention in retention.cc.
#include "records/record_store.h"

#include <pthread.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <sodium.h>

#include <algorithm>
#include <bit>
#include <future>
#include <map>
#include <tuple>

#include "common/encoding.h"
#include "common/file_util.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr char kFormatVersion[] = "1";
constexpr size_t kMaxPageSize = 1000;
constexpr uint8_t kPageTokenVersion = 1;
constexpr size_t kPullChunk = 512;

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  std::string message = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(message);
  if (s.IsCorruption()) return Status::Corruption(message);
  if (s.IsIOError()) {
    if (s.ToString().find("lock") != std::string::npos) {
      return Status::FailedPrecondition(std::string(context) +
                                        ": the record store is in use by another process (" +
                                        s.ToString() + ")");
    }
    return Status::IoError(message);
  }
  if (s.IsInvalidArgument()) return Status::InvalidArgument(message);
  return Status::Internal(message);
}

// "YYYY-MM" of a UTC time (civil-from-days, H. Hinnant's algorithm).
std::string MonthOf(int64_t time_us) {
  int64_t days = time_us / kMicrosPerDay;
  if (time_us % kMicrosPerDay < 0) --days;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld", static_cast<long long>(year),
                static_cast<long long>(month));
  return buf;
}

std::string EncodePageToken(int64_t time_us, uint64_t sequence) {
  uint8_t raw[17];
  raw[0] = kPageTokenVersion;
  PutBigEndian64(OrderedTime(time_us), reinterpret_cast<char*>(raw + 1));
  PutBigEndian64(sequence, reinterpret_cast<char*>(raw + 9));
  return Base32Encode(raw);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening and closing.

Result<std::unique_ptr<RecordStore>> RecordStore::Open(RecordStoreOptions options) {
  auto impl = std::make_unique<Impl>();
  if (options.dir.empty()) return Status::InvalidArgument("record store directory is empty");
  if (options.retention_us <= 0) return Status::InvalidArgument("retention must be positive");
  if (options.max_batch_records == 0) {
    return Status::InvalidArgument("max_batch_records must be at least 1");
  }
  if (options.read_only && options.bulk_load) {
    return Status::InvalidArgument("a read-only store cannot bulk-load");
  }
  Result<RecordCipher> cipher = RecordCipher::Create(std::move(options.encryption_keys));
  if (!cipher.ok()) return cipher.status();
  impl->cipher.emplace(std::move(*cipher));
  Result<PublicKey> pk = records::SigningPublicKey(options.signing_secret_key.span());
  if (!pk.ok()) return pk.status();
  impl->public_key = *pk;
  impl->signing_key = std::move(options.signing_secret_key);
  impl->trusted_keys.push_back(*pk);
  for (const PublicKey& k : options.trusted_signing_keys) impl->trusted_keys.push_back(k);
  impl->clock = options.clock != nullptr ? options.clock : &impl->system_clock;
  impl->logger = options.logger;
  impl->options = std::move(options);
  impl->options.encryption_keys.clear();

  IPN_RETURN_IF_ERROR(impl->OpenDatabase());
  IPN_RETURN_IF_ERROR(impl->LoadState());
  if (!impl->options.read_only) impl->StartThreads();
  return std::unique_ptr<RecordStore>(new RecordStore(std::move(impl)));
}

RecordStore::RecordStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordStore::~RecordStore() {
  impl_->Close();
}

RecordStore::Impl::~Impl() {
  Close();
}

Status RecordStore::Impl::OpenDatabase() {
  const bool read_only = options.read_only;
  if (!read_only) {
    IPN_RETURN_IF_ERROR(EnsureDirectory(options.dir));
  }
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  auto table = [&](bool prefix_only) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.cache_index_and_filter_blocks = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    t.whole_key_filtering = !prefix_only;
    t.format_version = 5;
    return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
  };
  rocksdb::ColumnFamilyOptions base;
  base.compression = rocksdb::kNoCompression;  // values are ciphertext and hashes
  base.level_compaction_dynamic_level_bytes = true;
  base.write_buffer_size = 64 << 20;
  base.max_write_buffer_number = 4;
  base.target_file_size_base = 64 << 20;
  base.table_factory = table(false);
  // Purged records must leave the files too: rewrite every file at least monthly.
  rocksdb::ColumnFamilyOptions data = base;
  data.periodic_compaction_seconds = 30 * 86400;
  rocksdb::ColumnFamilyOptions person = data;
  person.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(32));
  // Person-index inserts land at random places: a hash of per-person skip lists makes
  // them cheap (a history is always a prefix scan). Of the layouts measured with the
  // Append benchmark, this one with 32 MiB buffers was the fastest.
  person.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(1 << 18));
  person.write_buffer_size = 32 << 20;
  person.table_factory = table(true);
  rocksdb::ColumnFamilyOptions small = base;
  small.write_buffer_size = 16 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, small},
      {kRecordsFamily, data},
      {kByPersonFamily, person},
      {kByTimeFamily, data},
      {kTreeFamily, base},
      {kHeadsFamily, small}};

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !read_only;
  db_options.create_missing_column_families = !read_only;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 4;
  db_options.max_total_wal_size = 512 << 20;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // One writer (the commit thread): concurrent memtable writes buy nothing, and the
  // person index's hash memtable does not support them.
  db_options.allow_concurrent_memtable_write = false;

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (read_only) {
    s = rocksdb::DB::OpenForReadOnly(db_options, options.dir, families, &handles, &raw);
    if (!s.ok()) {
      return Status::NotFound("cannot open the record store at " + options.dir +
                              " for reading: " + s.ToString());
    }
  } else {
    s = rocksdb::DB::Open(db_options, options.dir, families, &handles, &raw);
    if (!s.ok()) return FromRocks(s, "cannot open the record store at " + options.dir);
  }
  db.reset(raw);
  meta_cf = handles[0];
  records_cf = handles[1];
  person_cf = handles[2];
  time_cf = handles[3];
  tree_cf = handles[4];
  heads_cf = handles[5];
  return Status::Ok();
}

Status RecordStore::Impl::ReadMeta(const rocksdb::ReadOptions& ro, const std::string& key,
                                   std::string* value, bool* found) const {
  rocksdb::Status s = db->Get(ro, meta_cf, key, value);
  *found = s.ok();
  if (s.ok() || s.IsNotFound()) return Status::Ok();
  return FromRocks(s, "cannot read record store metadata");
}

Status RecordStore::Impl::LoadState() {
  const bool read_only = options.read_only;
  rocksdb::ReadOptions ro;
  std::string value;
  bool found = false;

  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaFormat, &value, &found));
  if (!found) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, records_cf));
    it->SeekToFirst();
    if (read_only || it->Valid()) {
      return Status::FailedPrecondition(options.dir + " is not a record store (no format marker)");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db->Put(wo, meta_cf, kMetaFormat, kFormatVersion);
    if (!s.ok()) return FromRocks(s, "cannot initialise the record store");
  } else if (value != kFormatVersion) {
    return Status::FailedPrecondition("record store format '" + value +
                                      "' is not supported by this version");
  }

  // Encryption keys: each supplied version must match the key the store knows by that
  // version; new versions are registered.
  rocksdb::WriteBatch key_checks;
  for (uint32_t version : cipher->versions()) {
    std::string key = std::string(kMetaKeyCheckPrefix) + SequenceKey(version);
    IPN_RETURN_IF_ERROR(ReadMeta(ro, key, &value, &found));
    if (found && !cipher->CheckKey(version, value)) {
      return Status::FailedPrecondition("encryption key version " + std::to_string(version) +
                                        " is not the key this record store was written with");
    }
    if (!found && !read_only) key_checks.Put(meta_cf, key, cipher->MakeKeyCheck(version));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, meta_cf));
    for (it->Seek(kMetaKeyCheckPrefix); it->Valid() && it->key().starts_with(kMetaKeyCheckPrefix);
         it->Next()) {
      std::string_view k = it->key().ToStringView().substr(sizeof(kMetaKeyCheckPrefix) - 1);
      if (k.size() != 8) continue;
      uint64_t version = GetBigEndian64(k.data());
      if (version > UINT32_MAX || !cipher->HasVersion(static_cast<uint32_t>(version))) {
        LogWarn("records_key_version_missing", {{"version", version}});
      }
    }
  }
  if (key_checks.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db->Write(wo, &key_checks);
    if (!s.ok()) return FromRocks(s, "cannot register the encryption key");
  }

  uint64_t size = 0;
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaNextSequence, &value, &found));
  if (found) {
    if (value.size() != 8) return Status::Corruption("record store metadata is malformed");
    size = GetBigEndian64(value.data());
  }
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaPurge, &value, &found));
  if (found) {
    uint64_t first = 0;
    PublicKey signer;
    bool signature_ok = false;
    if (!ParsePurgeStatement(value, &first, &signer, &signature_ok)) {
      return Status::Corruption("record store purge statement is malformed");
    }
    if (!signature_ok || !TrustedSigner(signer)) LogWarn("records_purge_statement_untrusted");
    first_retained = first;
  }

  // Cheap consistency checks (Verify does the full job).
  std::string problem;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, records_cf));
    it->SeekToLast();
    if (it->Valid() && (it->key().size() != 8 || GetBigEndian64(it->key().data()) >= size)) {
      problem = "a record lies beyond the tree size " + std::to_string(size);
    }
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, heads_cf));
    it->SeekToLast();
    if (it->Valid()) {
      Result<SignedTreeHead> head = DecodeTreeHead(it->value().ToStringView());
      if (!head.ok()) {
        problem = "the latest tree head is malformed";
      } else {
        latest_head = *head;
        last_head_size = head->tree_size;
        if (head->tree_size > size) {
          problem = "the latest signed tree head covers " + std::to_string(head->tree_size) +
                    " records but the tree holds " + std::to_string(size);
        }
      }
    }
  }
  std::vector<Hash> roots;
  uint64_t start = 0;
  for (int level = 63; level >= 0 && problem.empty(); --level) {
    if (!((size >> level) & 1)) continue;
    Result<Hash> h = StoredNode(ro, level, start >> level);
    if (!h.ok()) {
      problem = h.status().message();
      break;
    }
    roots.push_back(*h);
    start += uint64_t{1} << level;
  }
  if (!problem.empty()) {
    if (!read_only) {
      return Status::Corruption("record store at " + options.dir + " is inconsistent (" + problem +
                                "); run `ipn records verify`");
    }
    LogWarn("records_store_inconsistent");
  } else {
    Result<CompactRange> range = CompactRange::FromRoots(size, std::move(roots));
    if (!range.ok()) return range.status();
    committed_range = *range;
  }
  committed_size = size;
  next_sequence = size;
  prepare_range = committed_range;
  last_head_steady = std::chrono::steady_clock::now();
  return Status::Ok();
}

void RecordStore::Impl::StartThreads() {
  threads_started = true;
  // Named, so an operator's `top -H` shows which stage is busy.
  prepare_thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipn-rec-prepare");
    PrepareLoop();
  });
  commit_thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipn-rec-write");
    CommitLoop();
  });
  sync_thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipn-rec-sync");
    SyncLoop();
  });
  background_thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipn-rec-bg");
    BackgroundLoop();
  });
}

void RecordStore::Impl::Close() {
  if (closed) return;
  closed = true;
  if (threads_started) {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    prepare_cv.notify_all();
    prepare_thread.join();
    commit_thread.join();
    sync_thread.join();
    {
      std::lock_guard lock(mu);
      background_stop = true;
    }
    shutting_down = true;
    background_cv.notify_all();
    background_thread.join();
    bool sign = false;
    {
      std::lock_guard lock(mu);
      sign = broken.ok() && committed_size > 0 &&
             (!latest_head.has_value() || committed_size > latest_head->tree_size);
    }
    if (sign) {
      Result<SignedTreeHead> head = SignHead();
      if (!head.ok()) LogWarn("records_final_head_failed", {{"error", head.status().ToString()}});
    }
    if (options.bulk_load && db) {
      rocksdb::FlushOptions fo;
      rocksdb::Status s = db->Flush(fo, handles);
      if (!s.ok()) LogWarn("records_flush_failed", {{"error", s.ToString()}});
    }
  }
  if (db) {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    handles.clear();
    db->Close();
    db.reset();
  }
}

// ---------------------------------------------------------------------------------------
// The stored tree.

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
  uint64_t size;
  CompactRange range;
  {
    std::lock_guard lock(mu);
    if (!broken.ok()) return broken;
    size = committed_size;
    range = committed_range;
  }
  SignedTreeHead head =
      records::SignTreeHead(size, range.Root(), clock->NowMicros(), signing_key.span());
  rocksdb::WriteOptions wo;
  wo.sync = !options.bulk_load;
  wo.disableWAL = options.bulk_load;
  rocksdb::Status s =
      db->Put(wo, heads_cf, HeadKey(head.tree_size, head.timestamp_us), EncodeTreeHead(head));
  if (!s.ok()) return FromRocks(s, "cannot store the tree head");
  {
    std::lock_guard lock(mu);
    latest_head = head;
    last_head_size = size;
    last_head_steady = std::chrono::steady_clock::now();
  }
  LogInfo("records_tree_head_signed", {{"tree_size", size}});
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

// ---------------------------------------------------------------------------------------
// Appending (the pipeline is in group_commit.cc).

Status RecordStore::Append(Record& record) {
  std::vector<Record> one;
  one.push_back(std::move(record));
  Status s = AppendBatch(one);
  record = std::move(one[0]);
  return s;
}

Status RecordStore::AppendBatch(std::vector<Record>& records) {
  if (records.empty()) return Status::Ok();
  for (size_t i = 0; i < records.size(); ++i) {
    Status s = ValidateRecord(records[i]);
    if (!s.ok()) {
      return records.size() == 1 ? s
                                 : s.WithContext("record " + std::to_string(i) + " of the batch");
    }
  }
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  AppendRequest request;
  request.records = std::move(records);
  request.done = [&promise, &records](const Status& s, std::vector<Record>& committed) {
    records = std::move(committed);
    promise.set_value(s);
  };
  impl_->Submit(std::move(request));
  return future.get();
}

void RecordStore::AppendAsync(Record record, std::function<void(Status, uint64_t)> done) {
  Status s = ValidateRecord(record);
  if (!s.ok()) {
    done(s, 0);
    return;
  }
  AppendRequest request;
  request.records.push_back(std::move(record));
  request.done = [done = std::move(done)](const Status& st, std::vector<Record>& committed) {
    done(st, st.ok() ? committed[0].sequence : 0);
  };
  impl_->Submit(std::move(request));
}

// ---------------------------------------------------------------------------------------
// Queries.

Result<Record> RecordStore::Get(uint64_t sequence) const {
  if (sequence >= Size()) {
    return Status::NotFound("no record " + std::to_string(sequence) + " in the log");
  }
  if (sequence < FirstRetained()) {
    return Status::NotFound("record " + std::to_string(sequence) + " was purged");
  }
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->records_cf, SequenceKey(sequence), &value);
  if (s.IsNotFound()) {
    return Status::Corruption("record " + std::to_string(sequence) +
                              " is missing from the store; run `ipn records verify`");
  }
  if (!s.ok()) return FromRocks(s, "cannot read record " + std::to_string(sequence));
  return impl_->cipher->OpenRecord(sequence, value);
}

Result<RecordStore::HistoryPage> RecordStore::History(std::span<const uint8_t, 32> record_symbol,
                                                      size_t page_size,
                                                      std::string_view page_token) const {
  if (page_size == 0 || page_size > kMaxPageSize) {
    return Status::InvalidArgument("page size must be 1 to " + std::to_string(kMaxPageSize));
  }
  std::string start(reinterpret_cast<const char*>(record_symbol.data()), 32);
  bool skip_start = false;
  if (!page_token.empty()) {
    Result<std::vector<uint8_t>> raw = Base32Decode(page_token);
    if (!raw.ok() || raw->size() != 17 || (*raw)[0] != kPageTokenVersion) {
      return Status::InvalidArgument("page token is malformed");
    }
    const char* position = reinterpret_cast<const char*>(raw->data()) + 1;
    start = PersonKey(record_symbol, TimeFromOrdered(GetBigEndian64(position)),
                      GetBigEndian64(position + 8));
    skip_start = true;
  }
  const uint64_t durable = Size();  // records written but not yet synced stay hidden
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->person_cf));
  it->Seek(start);
  if (skip_start && it->Valid() && it->key() == start) it->Next();
  const rocksdb::Slice prefix(reinterpret_cast<const char*>(record_symbol.data()), 32);
  HistoryPage page;
  page.records.reserve(std::min<size_t>(page_size, 64));
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (page.records.size() == page_size) {
      const Record& last = page.records.back();
      page.next_page_token = EncodePageToken(last.time_unix_us, last.sequence);
      break;
    }
    rocksdb::Slice key = it->key();
    if (key.size() != kPersonKeyBytes) {
      return Status::Corruption("person index holds a malformed key; run `ipn records verify`");
    }
    const uint64_t sequence = PersonKeySequence(key.data());
    const int64_t time = PersonKeyTime(key.data());
    if (sequence >= durable) continue;
    Result<Record> record = impl_->cipher->OpenRecord(sequence, it->value().ToStringView());
    if (!record.ok()) return record.status();
    if (record->time_unix_us != time ||
        sodium_memcmp(record->record_symbol.data(), record_symbol.data(), 32) != 0) {
      return Status::Corruption("person index entry for record " + std::to_string(sequence) +
                                " does not match the record; run `ipn records verify`");
    }
    page.records.push_back(std::move(*record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the person index");
  return page;
}

Status RecordStore::Pull(int64_t from_us, int64_t to_us, std::string_view agency,
                         const std::function<bool(const Record&)>& each) const {
  if (from_us >= to_us) return Status::InvalidArgument("the time range is empty (from >= to)");
  const uint64_t durable = Size();  // records written but not yet synced stay hidden
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{impl_->db.get(), snapshot};
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  const std::string upper = TimeKey(to_us, 0);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions iter_ro = ro;
  iter_ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(iter_ro, impl_->time_cf));
  it->Seek(TimeKey(from_us, 0));

  std::vector<std::string> keys;
  std::vector<int64_t> times;
  std::vector<uint64_t> sequences;
  bool more = true;
  while (more) {
    keys.clear();
    times.clear();
    sequences.clear();
    for (; it->Valid() && keys.size() < kPullChunk; it->Next()) {
      rocksdb::Slice key = it->key();
      if (key.size() != kTimeKeyBytes) {
        return Status::Corruption("time index holds a malformed key; run `ipn records verify`");
      }
      if (TimeKeySequence(key.data()) >= durable) continue;
      sequences.push_back(TimeKeySequence(key.data()));
      times.push_back(TimeFromOrdered(GetBigEndian64(key.data())));
      keys.push_back(SequenceKey(sequences.back()));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the time index");
    if (keys.empty()) break;
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), impl_->records_cf);
    std::vector<std::string> values;
    std::vector<rocksdb::Status> statuses = impl_->db->MultiGet(ro, cfs, slices, &values);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        return Status::Corruption("time index entry for record " + std::to_string(sequences[i]) +
                                  " has no record; run `ipn records verify`");
      }
      if (!statuses[i].ok()) return FromRocks(statuses[i], "cannot read the records");
      Result<Record> record = impl_->cipher->OpenRecord(sequences[i], values[i]);
      if (!record.ok()) return record.status();
      if (record->time_unix_us != times[i]) {
        return Status::Corruption("time index entry for record " + std::to_string(sequences[i]) +
                                  " does not match the record; run `ipn records verify`");
      }
      if (!agency.empty() && record->inquirer != agency && record->provider != agency) continue;
      if (!each(*record)) {
        more = false;
        break;
      }
    }
    if (!it->Valid()) break;
  }
  return Status::Ok();
}

Result<std::vector<StatsRow>> RecordStore::Stats(int64_t from_us, int64_t to_us) const {
  using Key = std::tuple<std::string, std::string, std::string, std::string, int, std::string>;
  std::map<Key, uint64_t> counts;
  Status s = Pull(from_us, to_us, "", [&](const Record& r) {
    ++counts[Key(MonthOf(r.time_unix_us), r.inquirer, r.provider, r.business,
                 static_cast<int>(r.event), r.outcome)];
    return true;
  });
  if (!s.ok()) return s;
  std::vector<StatsRow> rows;
  rows.reserve(counts.size());
  for (const auto& [key, count] : counts) {
    StatsRow row;
    row.month = std::get<0>(key);
    row.inquirer = std::get<1>(key);
    row.provider = std::get<2>(key);
    row.business = std::get<3>(key);
    row.event = static_cast<Event>(std::get<4>(key));
    row.outcome = std::get<5>(key);
    row.count = count;
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<VerifyReport> RecordStore::Verify(const VerifyOptions& options) const {
  return impl_->Verify(options);
}

Result<PurgeResult> RecordStore::Purge() {
  return impl_->Purge();
}

}  // namespace ipn::records
