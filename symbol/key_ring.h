// KeyRing: every key the core's symbol machinery holds, in locked memory (SecretBytes):
// the linkage key, the record-symbol key, the issuance file's index and data keys, each
// agency's versioned symbol keys with their lifecycle state, and the keys the core hands to
// the provision-record store. Generated once, changed only by rotation and destruction, and
// serialised for the encrypted key ring file (key_ring_file.h). Not thread-safe: the
// SymbolService guards it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace ipn::symbol {

// Lifecycle of one agency key version.
enum class KeyState : uint8_t {
  kActive = 1,     // issues new symbols and opens symbols; exactly one per agency
  kRetired = 2,    // opens existing symbols only; re-issuing gives the active version's symbol
  kDestroyed = 3,  // key material wiped; its symbols are rejected
};
const char* KeyStateName(KeyState state);

// Keys for the provision-record store, held in the same key ring.
struct RecordKeys {
  // (version, 32-byte XChaCha20-Poly1305 key), newest last.
  std::vector<std::pair<uint32_t, SecretBytes>> encryption;
  SecretBytes signing_secret_key;  // Ed25519, 64 bytes
  std::array<uint8_t, 32> signing_public_key{};
};

struct AgencyKeyVersion {
  uint16_t version = 0;
  KeyState state = KeyState::kActive;
  int64_t created_us = 0;
  int64_t changed_us = 0;  // when the state last changed
  SecretBytes key;         // MAC key || ENC key (64 bytes); empty once destroyed
};

struct AgencyKeys {
  std::vector<AgencyKeyVersion> versions;  // ascending by version
  const AgencyKeyVersion* Find(uint16_t version) const;
  const AgencyKeyVersion& active() const;  // there is always exactly one
};

// One row of `ipn keys list`.
struct KeyInfo {
  std::string agency;
  uint16_t version = 0;
  KeyState state = KeyState::kActive;
  int64_t created_us = 0;
  int64_t changed_us = 0;
};

// "MUN-131016@v2:active,…,#records@v1:active": a key ring's versions and their states,
// sorted, with the newest records encryption key's version when given ('#' is in no agency
// code) — what changed between two moments (the core's start-up audit, the two-person
// rule's requests). KeyRing::Summary gives a ring's.
std::string KeyRingSummary(const std::vector<KeyInfo>& keys, uint32_t records_version = 0);

// Agency codes: 1 to 64 characters of A-Z a-z 0-9 '-' '_' '.'.
Status ValidateAgencyCode(std::string_view agency_code);

class KeyRing {
 public:
  // A new ring with fresh random core keys, record keys version 1 and an Ed25519 pair.
  static KeyRing Generate();
  static Result<KeyRing> Deserialize(std::span<const uint8_t> bytes);

  KeyRing(KeyRing&&) noexcept = default;
  KeyRing& operator=(KeyRing&&) noexcept = default;
  KeyRing Clone() const;
  // The plaintext form, in locked memory (encrypt before it touches a disk).
  SecretBytes Serialize() const;

  const SecretBytes& linkage_key() const { return linkage_key_; }
  const SecretBytes& record_symbol_key() const { return record_symbol_key_; }
  // Keyed-hash keys of the issuance file's row keys (per person, per resident code).
  const SecretBytes& issuance_index_key() const { return issuance_index_key_; }
  const SecretBytes& code_index_key() const { return code_index_key_; }
  // XChaCha20-Poly1305 key of the issuance file's values.
  const SecretBytes& issuance_data_key() const { return issuance_data_key_; }

  const AgencyKeys* FindAgency(std::string_view agency_code) const;
  size_t agency_count() const { return agencies_.size(); }
  // Gives `agency_code` version 1, active. AlreadyExists if it has keys.
  Status AddAgency(std::string_view agency_code, int64_t now_us);
  // Adds version (newest + 1), active; the previous active version becomes retired.
  Result<uint16_t> RotateAgency(std::string_view agency_code, int64_t now_us);
  // Wipes a retired version's key; refuses the active version.
  Status DestroyAgencyVersion(std::string_view agency_code, uint16_t version, int64_t now_us);
  std::vector<KeyInfo> List() const;
  std::string Summary() const;  // KeyRingSummary of List() and the records key

  RecordKeys CloneRecordKeys() const;
  // Adds a new record encryption key version (newest last); returns its version.
  uint32_t RotateRecordEncryptionKey();

 private:
  KeyRing() = default;
  SecretBytes linkage_key_;
  SecretBytes record_symbol_key_;
  SecretBytes issuance_index_key_;
  SecretBytes code_index_key_;
  SecretBytes issuance_data_key_;
  std::vector<std::pair<uint32_t, SecretBytes>> record_encryption_keys_;
  SecretBytes record_signing_secret_key_;
  std::map<std::string, AgencyKeys, std::less<>> agencies_;
};

}  // namespace ipn::symbol
