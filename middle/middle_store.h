// MiddleStore: the data of a middle-server platform (中間サーバー; DESIGN.md §9, issue #14)
// that hosts many agencies (tenants). Per tenant, in one RocksDB:
//   - its registered copies (副本): per (internal person number, item) the content, an
//     as-of date, the non-disclosure flag and a version — registered, superseded, deleted,
//     or imported in bulk from CSV or JSON Lines, all or nothing;
//   - its person map: internal person number (団体内統合宛名番号) <-> its agency symbol.
// Each tenant's values are sealed (XChaCha20-Poly1305) under the tenant's own data key,
// and the rows are keyed by keyed hashes, so neither a value nor a person number is on
// disk in the clear. The data keys are kept only wrapped by the platform's key-encryption
// key (common/key_custody.h: a file key in development, a PKCS#11 token's KEK in service).
// Destroying a tenant's key makes its data unreadable and leaves the others intact.
// Thread-safe; writes are synced.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/key_custody.h"
#include "common/status.h"

namespace ipn::middle {

// Limits on what one copy may hold (a bulk file is refused at the first row beyond them).
inline constexpr size_t kMaxPersonNumber = 32;
inline constexpr size_t kMaxItemCode = 64;
inline constexpr size_t kMaxContentBytes = 16 * 1024;
inline constexpr size_t kMaxImportBytes = size_t{64} << 20;
inline constexpr size_t kMaxImportRows = 1'000'000;
inline constexpr size_t kMaxByHandItems = 256;  // as a serving system may name (interface)

struct Copy {
  std::string person;           // internal person number: 1–32 of A-Z a-z 0-9 '-'
  std::string item;             // item code: 1–64 of A-Z a-z 0-9 '-' '_' '.'
  std::string content;          // what is provided (UTF-8, at most 16 KiB)
  std::string as_of;            // YYYY-MM-DD: the date the content is true as of
  bool non_disclosure = false;  // provided, but withheld from the person's disclosure
  uint32_t version = 0;         // set by the store: 1 when registered, +1 per supersede
};

enum class ImportFormat { kCsv, kJsonLines };

class MiddleStore {
 public:
  // Opens (creating) the store in `dir`. `platform` wraps the tenants' data keys; it must
  // outlive the store.
  static Result<std::unique_ptr<MiddleStore>> Open(const std::string& dir,
                                                   const KeyWrapper* platform);
  ~MiddleStore();

  // A tenant is an agency code (1–64 of A-Z a-z 0-9 '-' '_' '.'). AlreadyExists.
  Status CreateTenant(std::string_view tenant);
  // Destroys the tenant's data key and removes its rows. NotFound if unknown.
  Status DestroyTenant(std::string_view tenant);
  std::vector<std::string> Tenants() const;

  // The new copy's version (1). AlreadyExists if the tenant holds one for (person, item).
  Result<uint32_t> Register(std::string_view tenant, const Copy& copy);
  // Replaces the copy; the new version. NotFound if there is none.
  Result<uint32_t> Supersede(std::string_view tenant, const Copy& copy);
  Status Delete(std::string_view tenant, std::string_view person, std::string_view item);
  Result<Copy> Find(std::string_view tenant, std::string_view person, std::string_view item) const;

  // Registers or supersedes every row of a file, in one synced write: a bad row is
  // InvalidArgument "line N: …" and nothing of the file is applied. CSV header:
  // person,item,content,as_of,non_disclosure (true/false). JSON Lines: one object per
  // line with the same names. Returns the rows applied.
  // `check`, when given, is asked about every row too (its refusal is that row's error).
  Result<size_t> Import(std::string_view tenant, std::string_view text, ImportFormat format,
                        const std::function<Status(const Copy&)>& check = nullptr);

  // The person map. AlreadyExists if either side is bound to another.
  Status Bind(std::string_view tenant, std::string_view person, std::string_view symbol);
  Result<std::string> SymbolOf(std::string_view tenant, std::string_view person) const;
  Result<std::string> PersonOf(std::string_view tenant, std::string_view symbol) const;

  // The tenant's other private rows, sealed under its key like its copies: its staff
  // accounts (by name, hashed) and its audit log (by sequence number, in order).
  Status PutAccount(std::string_view tenant, std::string_view name, std::string_view value);
  Result<std::optional<std::string>> GetAccount(std::string_view tenant,
                                                std::string_view name) const;
  // Whether the tenant has any account at all.
  Result<bool> HasAccounts(std::string_view tenant) const;
  // An audit entry and the log's tree after it (AuditLog's encoding), in one write: in
  // the write-ahead log at once (it survives the process), on disk at the next SyncAudit.
  Status PutAudit(std::string_view tenant, uint64_t seq, std::string_view value,
                  std::string_view tree);
  // Puts every audit entry written so far on disk (one fsync).
  Status SyncAudit();
  // The tree written with the last entry (nullopt when none).
  Result<std::optional<std::string>> GetAuditTree(std::string_view tenant) const;
  // Audit entries after `after_seq`, at most `limit`, in order: (seq, value).
  Result<std::vector<std::pair<uint64_t, std::string>>> ListAudit(std::string_view tenant,
                                                                  uint64_t after_seq,
                                                                  size_t limit) const;

  // The items the tenant answers by hand, in its existing system (which names them to
  // the node when it connects to serve, AgencyClient::ConnectOptions.items): the platform
  // answers none of them from copies. Each 1–64 of A-Z a-z 0-9 '-' '_' '.', at most
  // kMaxByHandItems; InvalidArgument otherwise, nothing changed. Replaces the set.
  Status SetByHandItems(std::string_view tenant, const std::set<std::string>& items);
  Result<std::set<std::string>> ByHandItems(std::string_view tenant) const;
  // Whether `item` is one of them (from memory after the first read).
  Result<bool> IsAnsweredByHand(std::string_view tenant, std::string_view item) const;

  // The tenant's ordered rows: its exchange log (by sequence number) and its batch
  // inquiry files (a header per batch, a row per line). A row's key is in the clear and in
  // order — numbers only (sequence, batch id, line: big-endian), naming nobody — its value
  // sealed under the tenant's key. All of `rows` in one write; synced unless `sync` is
  // false (then in the write-ahead log until the next SyncAudit).
  enum class Ordered : char { kExchange = 'X', kBatch = 'B', kBatchLine = 'R' };
  Status PutOrdered(Ordered kind, std::string_view tenant,
                    const std::vector<std::pair<std::string, std::string>>& rows, bool sync = true);
  // Rows whose key starts with `prefix` and sorts after `after` (empty: from the first),
  // at most `limit`, in order: (key, value).
  Result<std::vector<std::pair<std::string, std::string>>> ListOrdered(Ordered kind,
                                                                       std::string_view tenant,
                                                                       std::string_view prefix,
                                                                       std::string_view after,
                                                                       size_t limit) const;
  // Removes every row whose key starts with `prefix`.
  Status DeleteOrdered(Ordered kind, std::string_view tenant, std::string_view prefix);
  // The greatest key with `prefix` (nullopt when none).
  Result<std::optional<std::string>> LastOrdered(Ordered kind, std::string_view tenant,
                                                 std::string_view prefix) const;

  class Impl;

 private:
  explicit MiddleStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::middle
