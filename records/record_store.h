// RecordStore: the provision-record log (情報提供等記録). Append-only, on RocksDB, values
// encrypted at rest, every record a leaf of an RFC 9162 Merkle tree with Ed25519-signed
// tree heads; durable on acknowledgement with group commit; purged after the retention
// period; queried by person (record symbol), by time range and agency, and summarised
// into monthly statistics. See docs/records.md for the layout and the operator's view.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/civil_time.h"
#include "common/clock.h"
#include "common/key_custody.h"
#include "common/logger.h"
#include "common/secret.h"
#include "common/status.h"
#include "records/merkle.h"
#include "records/person_map.h"
#include "records/record.h"
#include "records/tree_head.h"
#include "records/verify_report.h"

namespace ipn::records {

inline constexpr int64_t kMicrosPerDay = ipn::kMicrosPerDay;
inline constexpr int64_t kSevenYearsUs = 2557 * kMicrosPerDay;  // 7 × 365 days + 2 leap days

struct RecordStoreOptions {
  std::string dir;  // the RocksDB directory (created 0700 if absent)
  // (version, 32-byte key): the highest version seals new records, every listed
  // version opens old ones.
  std::vector<std::pair<uint32_t, SecretBytes>> encryption_keys;
  SecretBytes signing_secret_key;  // 64-byte Ed25519 secret key: signs tree heads and purges
  // Or a signer holding the key elsewhere (a PKCS#11 token, token/): used instead of
  // signing_secret_key when set.
  std::shared_ptr<const Ed25519Signer> signer;
  // Earlier signing keys whose heads Verify still trusts (after a signing-key rotation).
  std::vector<PublicKey> trusted_signing_keys;
  const Clock* clock = nullptr;  // default: the system clock
  Logger* logger = nullptr;      // default: none
  int64_t retention_us = kSevenYearsUs;
  int64_t purge_every_us = kMicrosPerDay;      // background purge period; 0 = only on Purge()
  uint64_t tree_head_every_records = 1000000;  // sign a head after this many records; 0 = off
  int64_t tree_head_every_us = int64_t{600} * 1000000;  // …or this long after new records; 0 = off
  // Opens for reading and auditing only: no appends, no background work, no change to
  // the files (RocksDB read-only mode). What `ipn records verify|stats|pull` use.
  bool read_only = false;
  // Bulk load (building test and benchmark stores only): appends skip the write-ahead log
  // and are durable only after the store is closed (which flushes). Never in service.
  bool bulk_load = false;
  // false: appends are written to the write-ahead log but not synced, and SyncWal makes
  // them durable. For a replicated core only: etcd holds every committed batch, so a crash
  // loses at most this store's unsynced tail, which the replica applies again from etcd
  // (docs/replication.md); it syncs before it reports how far it has applied.
  bool sync_wal = true;
  size_t block_cache_bytes = size_t{256} << 20;
  // Group-commit batch cap; appends are refused (ResourceExhausted) while 64× this many wait.
  size_t max_batch_records = 8192;
};

struct VerifyOptions {
  // Called from the verifying thread with (records done, records total).
  std::function<void(uint64_t, uint64_t)> progress;
  int threads = 0;  // 0 = one per hardware thread (at most 8)
  // Heads kept outside the store (an auditor's copies): checked like the stored ones, so
  // deleting heads from the database does not hide a rewrite.
  std::vector<SignedTreeHead> known_heads;
};

// One row of the usage statistics: records per month × inquirer × provider × business ×
// event × outcome.
struct StatsRow {
  std::string month;  // "YYYY-MM", UTC
  std::string inquirer, provider, business;
  Event event = Event::kInquiryAccepted;
  std::string outcome;
  uint64_t count = 0;
};

struct PurgeResult {
  uint64_t purged = 0;          // records deleted by this call
  uint64_t first_retained = 0;  // the lowest sequence still stored
};

class RecordStore {
 public:
  // Opens (creating if absent) the store in options.dir. Moves the keys in.
  static Result<std::unique_ptr<RecordStore>> Open(RecordStoreOptions options);
  // Completes every pending append, signs a final head if records are unsigned, closes.
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // --- Appending ---
  // Group-committed: concurrent appends share one WriteBatch and one WAL sync. Each call
  // returns (or calls back) only once its records are durable; a record is visible to
  // Get, History, Pull and Size() from then on, never before.
  // Assigns record.sequence, and record.time_unix_us if it was 0.
  Status Append(Record& record);
  // All or none, in one write and one sync; sequences assigned in order.
  Status AppendBatch(std::vector<Record>& records);
  // Returns at once; `done` runs on the store's sync thread once the record is durable
  // (or failed), with its sequence. Invalid records fail at once, on the caller's thread.
  // `done` must not block; it may call AppendAsync again. Lets one caller pipeline.
  void AppendAsync(Record record, std::function<void(Status, uint64_t sequence)> done);
  // When the pipeline is idle (nothing queued, preparing, writing or syncing): appends
  // `records` on the caller's thread — seal, hash, one synced write — and returns true,
  // each record durable. When it is busy: returns false and changes nothing (use the
  // pipeline). Saves the pipeline's three thread hand-offs on a lone commit; the caller
  // blocks for one sync, so only callers with little to commit should use it.
  Result<bool> TryAppendNow(std::vector<Record>& records);
  // Makes every append so far durable (one fdatasync of the WAL); for sync_wal = false.
  Status SyncWal();

  // --- Queries ---
  Result<Record> Get(uint64_t sequence) const;
  struct HistoryPage {
    std::vector<Record> records;  // newest first
    std::string next_page_token;  // empty on the last page
  };
  // One person's records, newest first; page_size 1…1000; page_token from the last page.
  Result<HistoryPage> History(std::span<const uint8_t, 32> record_symbol, size_t page_size,
                              std::string_view page_token) const;
  // Records with from_us <= time < to_us in time order, those whose inquirer or provider
  // is `agency` (all when empty), streamed to `each` until it returns false.
  Status Pull(int64_t from_us, int64_t to_us, std::string_view agency,
              const std::function<bool(const Record&)>& each) const;
  // Counts of records with from_us <= time < to_us, sorted by the row's fields.
  Result<std::vector<StatsRow>> Stats(int64_t from_us, int64_t to_us) const;

  // --- The duplicate guard ---
  // Whether a durable, retained record says `inquirer` used `request_id` (an inquiry
  // accepted or refused under it). Looked up in the by-request index: one point read.
  Result<bool> RequestIdUsed(std::string_view inquirer, std::string_view request_id) const;

  // --- Metadata ---
  // A small named value of the store's user (e.g. the core's last key-ring summary), kept
  // beside the store's own state. `name`: 1-128 of a-z 0-9 _ . ; value up to 64 KiB,
  // stored unencrypted (operational state, never personal data). PutMeta replaces the
  // value atomically and returns once it is durable; FailedPrecondition when read-only.
  Status PutMeta(std::string_view name, std::string_view value);
  // NotFound when no value was ever put under `name`.
  Result<std::string> GetMeta(std::string_view name) const;

  // --- The Merkle log ---
  uint64_t Size() const;  // records appended and durable (the tree size)
  uint64_t FirstRetained() const;
  Result<Hash> RootHash(uint64_t tree_size) const;  // tree_size <= Size()
  // On demand: signs the current tree (and, in a writable store, the per-person history
  // maps: a version 2 head) and stores the head.
  Result<SignedTreeHead> SignTreeHead();
  Result<SignedTreeHead> LatestTreeHead() const;          // NotFound before the first head
  Result<std::vector<SignedTreeHead>> TreeHeads() const;  // all stored heads, oldest first
  Result<Hash> LeafHashAt(uint64_t sequence) const;
  Result<std::vector<Hash>> InclusionProof(uint64_t sequence, uint64_t tree_size) const;
  // Inner-node hashes remembered across the proofs of one page: neighbouring leaves share
  // most of their paths, so a page of 1,000 proofs reads each node once, not 1,000 times.
  // For one tree size; one caller at a time.
  struct ProofCache {
    uint64_t tree_size = 0;
    std::unordered_map<uint64_t, Hash> nodes;  // level << 57 | index
  };
  Result<std::vector<Hash>> InclusionProof(uint64_t sequence, uint64_t tree_size,
                                           ProofCache* cache) const;
  Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;
  const PublicKey& signing_public_key() const;

  // --- Per-person histories (records/person_map.h) ---
  // A person's disclosed and withheld histories as a version 2 head commits to them.
  struct HistoryProof {
    SignedTreeHead head;
    MapProof disclosed;
    MapProof withheld;  // for the commission only: never serve it to the portal
  };
  // Against the newest head covering at least `min_size` records whose map is still kept
  // (the last kKeptHistorySnapshots heads), signing a new one when none covers it; or,
  // with `exact_size`, against the kept head of exactly that size (NotFound when it is no
  // longer kept). FailedPrecondition in a read-only store.
  Result<HistoryProof> ProveHistory(std::span<const uint8_t, 32> record_symbol, uint64_t min_size,
                                    std::optional<uint64_t> exact_size = std::nullopt);
  static constexpr size_t kKeptHistorySnapshots = 8;
  // Keeps the map of the kept head (tree_size, timestamp_us) beyond the last eight, until
  // another is pinned: the head the commission cosigned last, which citizens' histories
  // are proven against. NotFound when that head's map is no longer kept.
  Result<SignedTreeHead> PinHistory(uint64_t tree_size, int64_t timestamp_us);

  // --- Backup ---
  // Every stored row (column family, key, value) as of one snapshot, family by family in
  // key order; values as stored (sealed). What `ipn backup create` copies (replica/backup.h).
  // An error returned by `visit` stops the walk and is returned.
  using RowVisitor =
      std::function<Status(std::string_view family, std::string_view key, std::string_view value)>;
  Status ForEachRow(const RowVisitor& visit) const;

  // Recomputes every retained record's leaf, the tree and the indexes from the stored
  // records and checks them against the stored tree and every signed head.
  Result<VerifyReport> Verify(const VerifyOptions& options = {}) const;

  // Deletes records older than the retention period (oldest first, while each record's
  // time is before now - retention); their leaf and subtree hashes stay, so the tree
  // and every head remain verifiable. Runs in the background too (purge_every_us).
  Result<PurgeResult> Purge();

  class Impl;

 private:
  explicit RecordStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::records
