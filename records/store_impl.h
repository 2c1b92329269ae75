// RecordStore::Impl (internal): the state shared by the store's parts — opening and
// recovery (record_store.cc), the group-commit pipeline (group_commit.cc), the stored tree,
// heads and proofs (record_store_tree.cc), the queries (record_store_query.cc),
// verification (verifier*.cc) and retention (retention.cc).
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "records/merkle.h"
#include "records/person_map.h"
#include "records/record_cipher.h"
#include "records/record_store.h"

namespace ipn::records {

// One caller's submission: a record (Append, AppendAsync) or several (AppendBatch),
// committed together; `done` gets them back with sequences and times assigned.
struct AppendRequest {
  std::vector<Record> records;
  std::function<void(const Status&, std::vector<Record>&)> done;
};

// A settling record's step in its person's history chain (records/person_map.h).
struct HistoryStep {
  RecordSymbolBytes person{};
  bool withheld = false;
  Hash leaf_hash{};
};

// Requests sealed into one RocksDB write, and the tree after it.
struct PreparedBatch {
  rocksdb::WriteBatch batch;
  std::vector<AppendRequest> requests;
  std::vector<HistoryStep> history;
  size_t records = 0;
  uint64_t end_sequence = 0;
  CompactRange range_after;
};

// A batch the write stage has written (not yet synced), waiting for the sync stage.
struct WrittenBatch {
  std::vector<AppendRequest> requests;
  std::vector<HistoryStep> history;
  uint64_t end_sequence = 0;
  CompactRange range_after;
  Status status;  // of the write
};

// A RocksDB status as ours, `context` saying what was being done (record_store.cc).
Status FromRocks(const rocksdb::Status& s, std::string_view context);

class RecordStore::Impl {
 public:
  Impl() = default;
  ~Impl();

  // record_store.cc
  Status OpenDatabase();
  Status LoadState();  // the steps below, in order
  Status CheckFormat(const rocksdb::ReadOptions& ro);
  Status CheckEncryptionKeys(const rocksdb::ReadOptions& ro);
  Status LoadSizeAndPurgePoint(const rocksdb::ReadOptions& ro, uint64_t* size);
  std::string CheckTree(const rocksdb::ReadOptions& ro, uint64_t size, std::vector<Hash>* roots);
  Status RecoverTree(const rocksdb::ReadOptions& ro, uint64_t size);
  void StartThreads();
  void Close();
  Status ReadMeta(const rocksdb::ReadOptions& ro, const std::string& key, std::string* value,
                  bool* found) const;

  // group_commit.cc
  void Submit(AppendRequest request);
  void PrepareLoop();
  void CommitLoop();
  void SyncLoop();
  void BackgroundLoop();
  void PrepareInto(std::vector<AppendRequest>& requests, PreparedBatch& batch);

  // record_store_tree.cc
  Result<Hash> StoredNode(const rocksdb::ReadOptions& ro, int level, uint64_t index) const;
  SubtreeSource NodeSource(const rocksdb::Snapshot* snapshot = nullptr) const;
  Result<SignedTreeHead> SignHead();
  Result<SignedTreeHead> SignLogHead();
  Result<std::vector<SignedTreeHead>> LoadHeads(const rocksdb::ReadOptions& ro) const;
  bool TrustedSigner(const PublicKey& key) const;  // the store's key or a trusted earlier one

  // history_map.cc
  Status LoadHistoryMap(const rocksdb::ReadOptions& ro);
  // Committed steps wait (under mu, with the committed size) until the next head applies
  // them: the hashing stays off the acknowledgement path. The caller holds mu.
  void QueueHistory(std::vector<HistoryStep>& steps);
  // Applies steps to the map; the caller holds map_mu.
  void ApplyHistory(const std::vector<HistoryStep>& steps);
  // Freezes the map as of the committed size and signs a v2 head over it, saving the
  // persons changed since the last head beside it (one write); keeps the snapshot.
  Result<SignedTreeHead> SignHeadWithHistory();

  // verifier.cc
  Result<VerifyReport> Verify(const VerifyOptions& verify_options) const;
  // retention.cc
  Result<PurgeResult> Purge();
  Result<std::string> SignPurgeStatement(uint64_t first_retained, int64_t cutoff_us,
                                         int64_t now_us) const;
  // Parses the stored purge statement: first retained sequence, and whether its signature
  // is valid and by a trusted key.
  static bool ParsePurgeStatement(std::string_view bytes, uint64_t* first_retained,
                                  PublicKey* signer, bool* signature_ok);

  void LogWarn(std::string_view event, const Logger::Fields& fields = {}) const {
    if (logger != nullptr) logger->Warn(event, fields);
  }
  void LogInfo(std::string_view event, const Logger::Fields& fields = {}) const {
    if (logger != nullptr) logger->Info(event, fields);
  }

  // --- configuration ---
  RecordStoreOptions options;  // keys moved out into cipher and signing_key
  SystemClock system_clock;
  const Clock* clock = nullptr;
  Logger* logger = nullptr;
  std::optional<RecordCipher> cipher;
  std::shared_ptr<const Ed25519Signer> signer;  // heads and purges
  PublicKey public_key{};
  std::vector<PublicKey> trusted_keys;  // public_key + options.trusted_signing_keys

  // --- RocksDB ---
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* meta_cf = nullptr;
  rocksdb::ColumnFamilyHandle* records_cf = nullptr;
  rocksdb::ColumnFamilyHandle* person_cf = nullptr;
  rocksdb::ColumnFamilyHandle* time_cf = nullptr;
  rocksdb::ColumnFamilyHandle* tree_cf = nullptr;
  rocksdb::ColumnFamilyHandle* heads_cf = nullptr;
  rocksdb::ColumnFamilyHandle* request_cf = nullptr;  // absent in a read-only older store
  SecretBytes request_key;                            // the request index's hash key

  // request_index.cc
  Status OpenRequestIndex(const rocksdb::ReadOptions& ro);
  // Whether `r` marks its request id as used, and the index key if so.
  bool RequestIndexKey(const Record& r, char* out) const;
  void RequestKey(std::string_view inquirer, std::string_view request_id, char* out) const;

  // --- committed state (mu) ---
  mutable std::mutex mu;
  uint64_t committed_size = 0;
  CompactRange committed_range;
  Status broken;  // set when a write failed: the store refuses further appends
  std::atomic<uint64_t> first_retained{0};
  std::optional<SignedTreeHead> latest_head;
  uint64_t last_head_size = 0;
  std::chrono::steady_clock::time_point last_head_steady;

  // --- pipeline (mu) ---
  std::deque<AppendRequest> queue;
  size_t queued_records = 0;
  bool stopping = false;
  bool prepare_done = false;
  bool commit_busy = false;
  bool prepare_holding = false;  // the prepare thread has requests taken or a batch open
  bool sync_busy = false;        // the sync thread is syncing or acknowledging a group
  bool inline_busy = false;      // TryAppendNow owns next_sequence and prepare_range
  std::unique_ptr<PreparedBatch> handoff;
  std::unique_ptr<PreparedBatch> spare_batch;  // a committed batch's buffers, for reuse
  std::deque<std::unique_ptr<WrittenBatch>> written_batches;
  bool commit_done = false;
  std::condition_variable prepare_cv;
  std::condition_variable commit_cv;
  std::condition_variable sync_cv;
  // Owned by the prepare thread (or TryAppendNow while inline_busy): the next sequence and
  // the tree including prepared records.
  uint64_t next_sequence = 0;
  CompactRange prepare_range;

  // --- background (mu) ---
  bool background_stop = false;
  bool head_due = false;
  std::condition_variable background_cv;

  // --- per-person histories (map_mu; taken before mu, never after) ---
  std::mutex map_mu;
  PersonMap person_map;
  // The snapshots of the latest heads, newest last (at most kKeptHistorySnapshots).
  struct HeadSnapshot {
    SignedTreeHead head;
    std::shared_ptr<const PersonMap::Snapshot> snapshot;
  };
  std::deque<HeadSnapshot> history_snapshots;
  std::optional<HeadSnapshot> pinned_history;  // RecordStore::PinHistory
  bool history_enabled = false;                // writable stores only
  std::vector<HistoryStep> queued_history;     // (mu) committed, not yet in person_map

  std::mutex head_mu;   // serialises head signing
  std::mutex purge_mu;  // serialises purges
  std::thread prepare_thread, commit_thread, sync_thread, background_thread;
  bool threads_started = false;
  std::atomic<bool> shutting_down{false};  // long purges stop early
  bool closed = false;
};

}  // namespace ipn::records
