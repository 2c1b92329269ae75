// RecordStore: opening the store (creating it, checking its keys, recovering the committed
// tree from the stored hashes) and closing it. Appending is in group_commit.cc, the tree,
// heads and proofs in record_store_tree.cc, queries in record_store_query.cc,
// verification in verifier.cc, retention in retention.cc.
#include "records/record_store.h"

#include <pthread.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>

#include "common/file_util.h"
#include "common/rocksdb_log.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr char kFormatVersion[] = "1";

}  // namespace

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
  if (options.signer != nullptr) {
    impl->signer = std::move(options.signer);
  } else {
    Result<std::unique_ptr<Ed25519Signer>> signer =
        MakeSodiumSigner(std::move(options.signing_secret_key));
    if (!signer.ok()) return signer.status();
    impl->signer = std::move(*signer);
  }
  impl->public_key = impl->signer->public_key();
  impl->trusted_keys.push_back(impl->public_key);
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
  // Point reads only (one per inquiry): a whole-key bloom filter keeps a miss off disk.
  rocksdb::ColumnFamilyOptions request = small;
  request.table_factory = table(false);
  bool has_request_family = !read_only;
  if (read_only) {
    // A store written before the request index opens read-only without it.
    std::vector<std::string> names;
    if (rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options.dir, &names).ok()) {
      has_request_family = std::find(names.begin(), names.end(), kByRequestFamily) != names.end();
    }
  }
  if (has_request_family) families.push_back({kByRequestFamily, request});

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !read_only;
  db_options.create_missing_column_families = !read_only;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_total_wal_size = 512 << 20;
  // RocksDB's diagnostics go to the daemon's log, not a LOG file on the records' disk.
  db_options.info_log = std::make_shared<RocksDbLog>(options.logger, "records");
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
  if (has_request_family) request_cf = handles[6];
  return Status::Ok();
}

Status RecordStore::Impl::ReadMeta(const rocksdb::ReadOptions& ro, const std::string& key,
                                   std::string* value, bool* found) const {
  rocksdb::Status s = db->Get(ro, meta_cf, key, value);
  *found = s.ok();
  if (s.ok() || s.IsNotFound()) return Status::Ok();
  return FromRocks(s, "cannot read record store metadata");
}

// Recovery is a sequence of checks, each refusing a store this version cannot serve;
// Verify does the full job.
Status RecordStore::Impl::LoadState() {
  const rocksdb::ReadOptions ro;
  IPN_RETURN_IF_ERROR(CheckFormat(ro));
  IPN_RETURN_IF_ERROR(CheckEncryptionKeys(ro));
  IPN_RETURN_IF_ERROR(OpenRequestIndex(ro));
  uint64_t size = 0;
  IPN_RETURN_IF_ERROR(LoadSizeAndPurgePoint(ro, &size));
  IPN_RETURN_IF_ERROR(RecoverTree(ro, size));
  return LoadHistoryMap(ro);
}

// The format marker: written into a new, empty store; any other version refused.
Status RecordStore::Impl::CheckFormat(const rocksdb::ReadOptions& ro) {
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaFormat, &value, &found));
  if (!found) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, records_cf));
    it->SeekToFirst();
    if (options.read_only || it->Valid()) {
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
  return Status::Ok();
}

// Encryption keys: each supplied version must match the key the store knows by that
// version; new versions are registered; versions the store knows but the caller did not
// supply are logged (their records cannot be read).
Status RecordStore::Impl::CheckEncryptionKeys(const rocksdb::ReadOptions& ro) {
  std::string value;
  bool found = false;
  rocksdb::WriteBatch key_checks;
  for (uint32_t version : cipher->versions()) {
    std::string key = std::string(kMetaKeyCheckPrefix) + SequenceKey(version);
    IPN_RETURN_IF_ERROR(ReadMeta(ro, key, &value, &found));
    if (found && !cipher->CheckKey(version, value)) {
      return Status::FailedPrecondition("encryption key version " + std::to_string(version) +
                                        " is not the key this record store was written with");
    }
    if (!found && !options.read_only) key_checks.Put(meta_cf, key, cipher->MakeKeyCheck(version));
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
  return Status::Ok();
}

// The tree size (the next sequence) and the purge point from the metadata.
Status RecordStore::Impl::LoadSizeAndPurgePoint(const rocksdb::ReadOptions& ro, uint64_t* size) {
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaNextSequence, &value, &found));
  if (found) {
    if (value.size() != 8) return Status::Corruption("record store metadata is malformed");
    *size = GetBigEndian64(value.data());
  }
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaPurge, &value, &found));
  if (found) {
    uint64_t first = 0;
    PublicKey purge_signer;
    bool signature_ok = false;
    if (!ParsePurgeStatement(value, &first, &purge_signer, &signature_ok)) {
      return Status::Corruption("record store purge statement is malformed");
    }
    if (!signature_ok || !TrustedSigner(purge_signer)) LogWarn("records_purge_statement_untrusted");
    first_retained = first;
  }
  return Status::Ok();
}

// Cheap consistency checks of the last record and the latest head against `size`, then
// the tree's perfect-subtree roots; empty when all is well, else what is wrong (the last
// problem found). Sets the latest head even when something is wrong.
std::string RecordStore::Impl::CheckTree(const rocksdb::ReadOptions& ro, uint64_t size,
                                         std::vector<Hash>* roots) {
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
  if (!problem.empty()) return problem;
  uint64_t start = 0;
  for (int level = 63; level >= 0; --level) {
    if (!((size >> level) & 1)) continue;
    Result<Hash> h = StoredNode(ro, level, start >> level);
    if (!h.ok()) return std::string(h.status().message());
    roots->push_back(*h);
    start += uint64_t{1} << level;
  }
  return "";
}

// The committed tree, from the stored roots. A read-only store (an operator inspecting a
// damaged store) opens despite an inconsistency, with an empty tree, so that verify can
// report it.
Status RecordStore::Impl::RecoverTree(const rocksdb::ReadOptions& ro, uint64_t size) {
  std::vector<Hash> roots;
  const std::string problem = CheckTree(ro, size, &roots);
  if (!problem.empty()) {
    if (!options.read_only) {
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
      std::unique_lock lock(mu);
      stopping = true;
      // An append on a caller's thread (TryAppendNow) finishes before anything closes.
      prepare_cv.wait(lock, [this] { return !inline_busy; });
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

Result<VerifyReport> RecordStore::Verify(const VerifyOptions& options) const {
  return impl_->Verify(options);
}

Result<PurgeResult> RecordStore::Purge() {
  return impl_->Purge();
}

}  // namespace ipn::records
