// RecordCipher (internal): seals and opens stored record values with XChaCha20-Poly1305
// under a versioned key ring. A stored value is
//   u8 format=1 | u32 key version | 32-byte record symbol | i64 time | 24-byte nonce |
//   ciphertext of the record body (event, flags, strings) with its 16-byte tag,
// authenticated with AD = "ipn/records/v1" | u64 sequence | the 45 clear header bytes, so
// a value moved to another sequence, or with its symbol or time changed, fails to open.
// The symbol and time are clear because the person and time indexes expose them anyway.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "common/status.h"
#include "records/record.h"

namespace ipn::records {

inline constexpr uint8_t kValueFormat = 1;
inline constexpr size_t kValueHeaderBytes = 45;  // format, key version, symbol, time
inline constexpr size_t kValueOverheadBytes = kValueHeaderBytes + 24 + 16;

// The clear part of a stored value.
struct ValueHeader {
  uint32_t key_version = 0;
  std::span<const uint8_t, 32> record_symbol;
  int64_t time_unix_us = 0;
};
Result<ValueHeader> ParseValueHeader(std::string_view value);

class RecordCipher {
 public:
  // Keys: (version, 32-byte key); the highest version seals, every listed one opens.
  static Result<RecordCipher> Create(std::vector<std::pair<uint32_t, SecretBytes>> keys);

  uint32_t write_version() const { return write_version_; }
  bool HasVersion(uint32_t version) const { return keys_.count(version) != 0; }
  std::vector<uint32_t> versions() const;

  // Seals `body` (AppendBody's output) of the record at `sequence`. `nonce` (24 bytes,
  // fresh randomness) may be supplied by callers that draw nonces in bulk; otherwise one
  // is drawn here.
  std::string Seal(uint64_t sequence, int64_t time_unix_us,
                   std::span<const uint8_t, 32> record_symbol, std::string_view body,
                   const uint8_t* nonce = nullptr) const;
  // The same, into *value (reusing its buffer).
  void SealInto(uint64_t sequence, int64_t time_unix_us, std::span<const uint8_t, 32> record_symbol,
                std::string_view body, const uint8_t* nonce, std::string* value) const;
  // Opens the value stored under `sequence` and writes the record's leaf encoding
  // (EncodeLeaf's output) into *leaf.
  Status Open(uint64_t sequence, std::string_view value, std::string* leaf) const;
  // Opens and decodes into a Record.
  Result<Record> OpenRecord(uint64_t sequence, std::string_view value) const;

  // A value that proves, at open time, that a key of `version` is the one the store
  // was written with.
  std::string MakeKeyCheck(uint32_t version) const;
  bool CheckKey(uint32_t version, std::string_view key_check) const;

  // A 32-byte subkey of key `version` for another purpose (crypto_kdf, `context` 8
  // characters), e.g. the request index's hash key. NotFound without that version.
  Result<SecretBytes> DeriveSubkey(uint32_t version, uint64_t id, const char (&context)[9]) const;

 private:
  std::map<uint32_t, SecretBytes> keys_;
  uint32_t write_version_ = 0;
};

}  // namespace ipn::records
