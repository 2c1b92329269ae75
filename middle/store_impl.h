// Internal to middle/: the store's state and the helpers its files share — the tenants'
// keys, row keys (keyed hashes), sealing, and the copy encoding.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/secret.h"
#include "middle/middle_store.h"

namespace ipn::middle {

// Row kinds (the first byte of a row key), then the tenant, then 0, then a keyed hash.
inline constexpr char kKeyRow = 'K';        // K tenant -> the data key, wrapped by the platform
inline constexpr char kCopyRow = 'C';       // C tenant 0 H(person, item) -> sealed copy
inline constexpr char kPersonRow = 'P';     // P tenant 0 H(person) -> sealed symbol
inline constexpr char kSymbolRow = 'S';     // S tenant 0 H(symbol) -> sealed person
inline constexpr char kAccountRow = 'A';    // A tenant 0 H(name) -> sealed account
inline constexpr char kAuditRow = 'L';      // L tenant 0 seq (8 bytes BE) -> sealed entry
inline constexpr char kAuditTreeRow = 'T';  // T tenant 0 -> sealed Merkle tree of the log
inline constexpr char kByHandRow = 'H';     // H tenant 0 -> sealed list of by-hand items
// MiddleStore::Ordered: X (exchange log), B (batch headers), R (batch lines): kind tenant 0
// key (numbers, big-endian) -> sealed value.
inline constexpr char kAllRowKinds[] = {
    kKeyRow,       kCopyRow,   kPersonRow, kSymbolRow, kAccountRow, kAuditRow,
    kAuditTreeRow, kByHandRow, 'X',        'B',        'R'};

// Two subkeys of a tenant's data key (crypto_kdf): one seals values, one keys the hashes.
struct TenantKeys {
  SecretBytes seal;
  SecretBytes index;
};

class MiddleStore::Impl {
 public:
  std::unique_ptr<rocksdb::DB> db;
  const KeyWrapper* platform = nullptr;
  std::mutex write_mu;           // read-modify-write of rows (register, supersede, import)
  mutable std::shared_mutex mu;  // the tenants
  std::map<std::string, std::shared_ptr<const TenantKeys>, std::less<>> tenants;
  // Each tenant's by-hand items as last read or written: asked on every forwarded
  // inquiry, so kept here rather than read and opened each time.
  mutable std::mutex by_hand_mu;
  mutable std::map<std::string, std::set<std::string>, std::less<>> by_hand;

  // NotFound "no tenant …" when the tenant does not exist (or was destroyed).
  Result<std::shared_ptr<const TenantKeys>> Keys(std::string_view tenant) const;
  static std::string RowKey(char kind, std::string_view tenant, const TenantKeys& keys,
                            std::string_view a, std::string_view b = {});
  // nonce | XChaCha20-Poly1305(plain), bound to the row key.
  static std::string Seal(const TenantKeys& keys, std::string_view row_key, std::string_view plain);
  static Result<std::string> Open(const TenantKeys& keys, std::string_view row_key,
                                  std::string_view sealed);
  Result<std::optional<std::string>> Get(std::string_view key) const;
  // The row at `row_key`, opened (nullopt if none).
  Result<std::optional<std::string>> GetOpened(const TenantKeys& keys,
                                               const std::string& row_key) const;
  Result<uint32_t> PutCopy(std::string_view tenant, const Copy& copy, bool replace);
  // Synced unless `sync` is false (then in the WAL: it survives the process, not a power
  // loss, until the next sync).
  Status Write(rocksdb::WriteBatch* batch, bool sync = true) const;
};

Status CheckTenant(std::string_view tenant);
Status CheckCopy(const Copy& copy);
std::string EncodeCopy(const Copy& copy);
Result<Copy> DecodeCopy(std::string_view bytes);
// The copy as stored at `row_key` (nullopt if none).
Result<std::optional<Copy>> ReadCopy(const MiddleStore::Impl& impl, const TenantKeys& keys,
                                     const std::string& row_key);

}  // namespace ipn::middle
