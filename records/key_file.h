// The record store's key file: the encryption keys (with versions) and the Ed25519
// signing key, for `ipn records` and tests, until the core's key ring supplies them.
// JSON, mode 0600:
//   {"format": "ipn-records-keys/v1",
//    "encryption_keys": [{"version": 1, "key": "<64 hex digits>"}, …],
//    "signing_secret_key": "<128 hex digits>"}
// Every copy of a key read from or written to the file is wiped after use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace ipn::records {

struct RecordKeys {
  std::vector<std::pair<uint32_t, SecretBytes>> encryption_keys;
  SecretBytes signing_secret_key;  // 64-byte Ed25519 secret key
};

// A fresh encryption key (version 1) and signing key.
RecordKeys GenerateRecordKeys();

// Reads and checks a key file. `*permissive_mode`, when given, is set if the file is
// readable by group or others (the caller should warn).
Result<RecordKeys> ReadKeyFile(const std::string& path, bool* permissive_mode = nullptr);
// Checks a key file's text (what ReadKeyFile does after reading it).
Result<RecordKeys> ParseKeyFile(std::string_view text);

// Writes a new key file (0600); refuses to replace an existing one.
Status WriteKeyFile(const std::string& path, const RecordKeys& keys);

}  // namespace ipn::records
