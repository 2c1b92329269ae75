// IssuanceFile (連携用符号発行管理ファイル): a RocksDB database recording, per person, which
// agencies were issued a symbol and when, plus the rows that carry resident-code changes.
// Nothing on disk is a resident code, a linkage symbol or an agency symbol:
//   issuance row: key 'I' || P || A, one per (person, agency), where
//                   P = SipHash-2-4-128(index key[0..16],  linkage symbol)
//                   A = SipHash-2-4-128(index key[16..32], linkage symbol || agency code)
//                 (crypto_shorthash_siphashx24, a keyed PRF made for hash-table keys), so
//                 one person's rows share the prefix P and A reveals nothing across people;
//                 value = nonce || XChaCha20-Poly1305(agency code, first-issued µs),
//                 associated data = the row key. "Was X issued?" is one point lookup.
//   code row:     key 'C' || BLAKE2b-256(code index key, resident code digits)
//                 value = sealed redirect (the person's linkage symbol) or tombstone
//   check row:    key 'M:check', a sealed constant: proves the file belongs to the key ring.
// With IssuanceFileOptions::index_in_memory, IsIssued answers from an in-memory
// fingerprint set of the issuance rows instead (presence_index.h).
// Every write is synced (WAL fsync) before it returns. Thread-safe: check-then-insert of a
// person's rows is serialised by a striped mutex, so issuing the same person from several
// threads yields exactly one row per agency, with the first issuance time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/logger.h"
#include "common/secret.h"
#include "common/status.h"
#include "symbol/key_ring.h"
#include "symbol/resident_code.h"
#include "symbol/symbol_types.h"

namespace rocksdb {
class DB;
}

namespace ipn::symbol {

struct IssuanceEntry {
  std::string agency_code;
  int64_t first_issued_us = 0;
};

// What the issuance file says about a resident code.
struct CodeRow {
  enum class Kind { kNone, kRedirect, kReplaced };
  Kind kind = Kind::kNone;
  LinkageSymbol linkage;  // set when kind == kRedirect: the person this (new) code names
};

using RowKey = std::array<uint8_t, 33>;

struct IssuanceFileOptions {
  size_t block_cache_bytes = 64 << 20;
  // Keep a fingerprint of every issuance row in memory (PresenceIndex, ~16 bytes per row,
  // loaded at Open) so IsIssued never touches the disk. Off: IsIssued is a RocksDB lookup.
  bool index_in_memory = true;
  Logger* logger = nullptr;  // RocksDB's warnings and errors (common/rocksdb_log.h)
};

class IssuanceFile {
 public:
  // Creates an empty file at `path` (a directory), bound to `ring`. Fails if it exists.
  static Status Create(const std::string& path, const KeyRing& ring);
  // Opens an existing file; fails clearly if it is missing, locked by another process or
  // belongs to another key ring.
  static Result<std::unique_ptr<IssuanceFile>> Open(const std::string& path, const KeyRing& ring,
                                                    const IssuanceFileOptions& options = {});
  ~IssuanceFile();
  IssuanceFile(const IssuanceFile&) = delete;
  IssuanceFile& operator=(const IssuanceFile&) = delete;

  RowKey CodeRowKey(const ResidentCode& code) const;

  // Resident-code rows.
  Result<CodeRow> GetCodeRow(const RowKey& code_row) const;
  // One result per key, same order (one MultiGet).
  Result<std::vector<CodeRow>> GetCodeRows(std::span<const RowKey> code_rows) const;
  // Atomically: `old_code_row` becomes a tombstone, `new_code_row` a redirect to `linkage`.
  Status WriteCodeChange(const RowKey& old_code_row, const RowKey& new_code_row,
                         const LinkageSymbol& linkage, int64_t now_us);

  // Person rows.
  Result<std::vector<IssuanceEntry>> EntriesOf(const LinkageSymbol& linkage) const;
  // Whether `agency_code` was ever issued a symbol for the person (the inquiry hot path).
  Result<bool> IsIssued(const LinkageSymbol& linkage, std::string_view agency_code) const;
  // Adds a row (agency, now) for each person who has none for the agency yet; one synced
  // write for all of them. Duplicates in `linkages` are fine.
  Status RecordIssuance(std::span<const LinkageSymbol* const> linkages,
                        std::string_view agency_code, int64_t now_us);

 private:
  struct Impl;
  explicit IssuanceFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::symbol
