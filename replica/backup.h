// Backup: encrypted backups of one replica (DESIGN.md §8; `ipn backup create|verify|
// restore`, docs/operations.md). A backup holds the replica's record store and issuance
// file, row by row, each database as of one snapshot, so it may be taken while the core
// runs. It never holds a key: the key ring stays with each site, and the backup is sealed
// (backup_stream.h) under a subkey of the records key, so opening it takes the site's
// key ring and passphrase.
//
// A restore builds the data directory beside its target, checks it — the record log
// verifies against its own signed heads, the issuance file belongs to the key ring, every
// count matches the backup's — and only then moves it into place. The restored store
// keeps the replicated log position it had applied, so the core that starts on it catches
// up from etcd from there, or is told clearly that it fell behind the window (restore a
// newer backup).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "records/verify_report.h"
#include "symbol/key_ring.h"

namespace ipn::replica {

// Where the core keeps its stores under its data directory (core/core_router.cc).
inline constexpr char kRecordsDirName[] = "records";
inline constexpr char kSymbolsDirName[] = "symbols";

struct BackupSummary {
  uint64_t tree_size = 0;      // provision records in the log (the Merkle tree's size)
  uint64_t applied_entry = 0;  // the replicated log entry the record store had applied
  uint64_t record_rows = 0;    // RocksDB rows of the record store (records, indexes, tree)
  uint64_t issuance_rows = 0;  // rows of the issuance file
  uint64_t bytes = 0;          // the backup file's size
  uint32_t key_version = 0;    // the records key version that seals it
  int64_t created_unix_us = 0;
  records::VerifyReport verify;  // restore and verify: the restored log's check
};

// (database, rows so far), every 10,000 rows and at each database's end.
using BackupProgress = std::function<void(std::string_view database, uint64_t rows)>;

// Writes a backup of the replica whose data directory is `data_dir` to `out_path` (which
// must not exist; nothing is left there unless the backup completed).
Result<BackupSummary> CreateBackup(const std::string& data_dir, const std::string& out_path,
                                   const symbol::KeyRing& ring,
                                   const BackupProgress& progress = {});

struct RestoreOptions {
  // The site's key ring file, copied into the restored directory (symbols/keyring.ipnk) so
  // the core can start on it; empty: none is copied (VerifyBackup).
  std::string key_ring_file;
  BackupProgress progress;
  int verify_threads = 0;  // 0: one per hardware thread (at most 8)
};

// Restores `backup_path` into `data_dir`, which must not exist or be empty.
Result<BackupSummary> RestoreBackup(const std::string& backup_path, const std::string& data_dir,
                                    const symbol::KeyRing& ring, const RestoreOptions& options);

// Restores into a fresh directory under `scratch_dir` with every check of RestoreBackup,
// then removes it: proves the backup opens, is whole and verifies.
Result<BackupSummary> VerifyBackup(const std::string& backup_path, const std::string& scratch_dir,
                                   const symbol::KeyRing& ring,
                                   const BackupProgress& progress = {});

}  // namespace ipn::replica
