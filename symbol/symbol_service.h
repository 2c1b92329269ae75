// SymbolService: the core's symbol machinery behind one object. It owns the key ring (an
// encrypted file under the service's directory, unlocked by the operator passphrase) and
// the issuance file (a RocksDB database beside it), and offers the calls the core router
// makes: issuing agency symbols from resident codes (registry path), translating an
// inquirer's symbol into the provider's symbol and the record symbol (every inquiry), and
// the key lifecycle operations behind `ipn keys`. Thread-safe.
//
// Errors never contain a resident code or a symbol. Calls about a presented symbol return
// InvalidArgument when the symbol is not genuine for the named agency (malformed, altered,
// forged, another agency's, unknown or destroyed key version); other codes (IoError,
// Corruption, ...) mean the service itself failed.
//
// Layout of the directory: keyring.ipnk (the key ring file) and issuance/ (RocksDB).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "symbol/issuance_file.h"
#include "symbol/key_ring.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_types.h"

namespace ipn::symbol {

struct SymbolServiceOptions {
  // Cost of the passphrase derivation for a new key ring (Create, ChangePassphrase). Open
  // uses the parameters stored in the file.
  KdfStrength kdf = KdfStrength::kInteractive;
  Logger* logger = nullptr;             // key lifecycle and batch events; never personal data
  const Clock* clock = nullptr;         // first-issued and key times; default: system clock
  size_t block_cache_bytes = 64 << 20;  // RocksDB block cache of the issuance file
  // Answer Translate's "was the provider issued?" from memory (about 16 bytes per issuance,
  // loaded at Open) instead of a disk lookup. See IssuanceFileOptions.
  bool issuance_index_in_memory = true;
  // Create an agency's keys at its first issuance. A replicated core's sites share one
  // key ring, so there an agency's keys are made beforehand (`ipn keys rotate`) and copied
  // to every site; a key made at one site alone would strand its symbols at the other.
  bool create_agency_keys = true;
  // Open a key ring whose file key is wrapped by a token's key-encryption key (format 2,
  // key_ring_file.h) through this wrapper; the passphrase is then not used. Not owned.
  const KeyWrapper* key_wrapper = nullptr;
  // Told of each agency's first keys made at first use (the ring's summaries before and
  // after), so that the change can be journalled (policy/key_change.h). Called before the
  // ring is saved, one change at a time.
  std::function<void(std::string_view agency, const std::string& before, const std::string& after)>
      on_agency_keys_created;
};

class SymbolService {
 public:
  static constexpr const char* kKeyRingFileName = "keyring.ipnk";
  static constexpr const char* kIssuanceDirName = "issuance";

  // Creates a new key ring and empty issuance file under `dir` (fails if one exists).
  static Status Create(const std::string& dir, std::string_view passphrase,
                       const SymbolServiceOptions& options = {});
  // Opens them. A wrong passphrase is PermissionDenied; a missing ring is NotFound; a
  // directory in use by another process is Unavailable.
  static Result<std::unique_ptr<SymbolService>> Open(const std::string& dir,
                                                     std::string_view passphrase,
                                                     const SymbolServiceOptions& options = {});
  ~SymbolService();
  SymbolService(const SymbolService&) = delete;
  SymbolService& operator=(const SymbolService&) = delete;

  // Registry path: parse (errors say which rule failed), derive, record issuance durably,
  // wipe. Idempotent: issuing again gives the same symbol (under the agency's active key
  // version) and keeps the first-issued time. Agency keys are created on first use.
  // InvalidArgument for a malformed or replaced resident code or a malformed agency code;
  // any other code means the service failed (disk, key ring).
  // `issued`, when given, receives the person's linkage symbol and the issuance is NOT
  // recorded here: a replicated core commits it through etcd first and then records it
  // (ApplyIssuance), so no site's issuance file holds what the others may never learn.
  Result<AgencySymbol> Issue(std::string_view resident_code, std::string_view agency_code,
                             LinkageSymbol* issued = nullptr);
  // Another site issued `agency_code` a symbol for the person `linkage` names at `time_us`
  // (replication): recorded as if issued here. Idempotent; keeps the first-issued time.
  Status ApplyIssuance(std::span<const uint8_t, LinkageSymbol::kSize> linkage,
                       std::string_view agency_code, int64_t time_us);

  struct BatchItem {
    Result<AgencySymbol> symbol;
  };
  // One result per input code, same order; one synced write for the whole batch. The
  // copies of the codes this makes are wiped before it returns.
  std::vector<Result<AgencySymbol>> IssueBatch(const std::vector<std::string>& resident_codes,
                                               std::string_view agency_code);

  struct Translation {
    AgencySymbol provider_symbol;  // all zero when the provider has no keys yet
    RecordSymbol record_symbol;
    bool provider_issued = false;  // the provider was ever issued a symbol for this person
  };
  // Hot path of every inquiry: opens the inquirer's symbol (binary form), derives the
  // provider's symbol (its active key version) and the record symbol, and says whether the
  // provider was issued a symbol for this person. Does not change anything.
  Result<Translation> Translate(std::span<const uint8_t> inquirer_symbol,
                                std::string_view inquirer_code,
                                std::string_view provider_code) const;

  // The record symbol of the person `symbol` names at `agency_code` (disclosure portal).
  Result<RecordSymbol> RecordSymbolOf(std::span<const uint8_t> symbol,
                                      std::string_view agency_code) const;

  // The agencies issued a symbol for the person `symbol` names at `agency_code`, and when.
  Result<std::vector<IssuanceEntry>> IssuanceOf(std::span<const uint8_t> symbol,
                                                std::string_view agency_code) const;

  // A person's resident code changed: `new_code` names the same person (same linkage
  // symbol, so the same symbols everywhere) and `old_code` stops working (Issue with it
  // fails). Refused if `new_code` is already in use or `old_code` was already replaced.
  Status ChangeResidentCode(std::string_view old_code, std::string_view new_code);

  // Keys for the provision-record store (copies in locked memory).
  Result<RecordKeys> GetRecordKeys() const;

  // Key lifecycle. RotateAgencyKey: a new active version; the previous one is retired
  // (still opens). DestroyKeyVersion: wipes a retired version; its symbols are then
  // rejected. Each change is saved to the key ring file atomically before it takes effect.
  Result<uint16_t> RotateAgencyKey(std::string_view agency_code);
  Status DestroyKeyVersion(std::string_view agency_code, uint16_t version);
  std::vector<KeyInfo> ListKeys() const;
  std::string KeySummary() const;  // KeyRing::Summary: what the two-person rule binds to
  Result<uint32_t> RotateRecordEncryptionKey();
  // Creates the agency's keys (version 1) unless it has some: what the first issuance
  // does, for setting up the shared key ring of a replicated core's sites beforehand.
  Status EnsureAgencyKeys(std::string_view agency_code);
  // Re-encrypts the key ring under a new passphrase (fresh salt).
  Status ChangePassphrase(std::string_view new_passphrase, KdfStrength strength);
  // Re-encrypts the key ring under a fresh file key wrapped by `wrapper` (a token's KEK):
  // from then on the passphrase no longer opens it, only the token does.
  Status ProtectWith(const KeyWrapper& wrapper);
  // "passphrase" or the token that protects the key ring.
  std::string protection() const;

 private:
  SymbolService() = default;
  Status ReplaceRingFile(Result<KeyRingFile> updated);  // callers hold ring_write_mu_
  int64_t Now() const;
  void Log(std::string_view event, const Logger::Fields& fields) const;
  Status OpenLocked(const KeyRing& ring, const AgencySymbol& symbol, std::string_view agency_code,
                    LinkageSymbol* linkage) const;
  Status OpenSymbol(std::span<const uint8_t> symbol, std::string_view agency_code,
                    LinkageSymbol* linkage) const;
  // Applies `change` to a copy of the ring, saves it, then swaps it in. `change` sets
  // *changed = false to leave the ring as it is.
  template <typename Change>
  Status ChangeRing(Change&& change);

  SymbolServiceOptions options_;
  SystemClock system_clock_;
  std::unique_ptr<KeyRingFile> ring_file_;
  std::mutex ring_write_mu_;           // serialises changes to the ring
  mutable std::shared_mutex ring_mu_;  // guards ring_ (swapped whole on change)
  std::unique_ptr<KeyRing> ring_;
  mutable std::shared_mutex code_change_mu_;  // issuance (shared) vs code changes (exclusive)
  std::unique_ptr<IssuanceFile> issuance_;
};

}  // namespace ipn::symbol
