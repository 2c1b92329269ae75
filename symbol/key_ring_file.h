// KeyRingFile: the key ring at rest. One file, encrypted with XChaCha20-Poly1305 under a
// key derived from the operator's passphrase with Argon2id (crypto_pwhash); the header
// (magic, format, Argon2id parameters, salt, nonce) is authenticated as associated data.
// Writes are atomic (temporary file, fsync, rename). The derived key is kept in locked
// memory so changes can be saved without running Argon2id again.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/secret.h"
#include "common/status.h"
#include "symbol/key_ring.h"

namespace ipn::symbol {

// Cost of the passphrase derivation. Interactive (64 MiB, 2 passes, ~0.1-0.3 s) is the
// default for operators; kMinimumForTests (8 KiB, 1 pass) is only for tests and demos.
enum class KdfStrength { kInteractive, kModerate, kMinimumForTests };

// Parses "interactive", "moderate", "minimum".
Result<KdfStrength> ParseKdfStrength(std::string_view text);
const char* KdfStrengthName(KdfStrength strength);

// The clear header of a key ring file (magic, format, Argon2id parameters within bounds,
// salt, nonce): what Open checks before it derives a key. `name` is for messages.
struct KeyRingFileHeader {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 24> nonce{};
};
Result<KeyRingFileHeader> ParseKeyRingFileHeader(std::span<const uint8_t> contents,
                                                 std::string_view name);

class KeyRingFile {
 public:
  // Prepares a new file at `path` (nothing is written until Save). Fails if the passphrase
  // is empty or the file exists.
  static Result<KeyRingFile> Prepare(const std::string& path, std::string_view passphrase,
                                     KdfStrength strength);
  // Reads and decrypts `path`. A wrong passphrase is PermissionDenied.
  static Result<std::pair<KeyRingFile, KeyRing>> Open(const std::string& path,
                                                      std::string_view passphrase);

  KeyRingFile(KeyRingFile&&) noexcept = default;
  KeyRingFile& operator=(KeyRingFile&&) noexcept = default;

  // Encrypts `ring` under a fresh nonce and replaces the file atomically.
  Status Save(const KeyRing& ring) const;
  // A file object for the same path whose saves use a key derived from `passphrase` (fresh
  // salt); nothing changes on disk until its Save.
  Result<KeyRingFile> WithNewPassphrase(std::string_view passphrase, KdfStrength strength) const;

  const std::string& path() const { return path_; }

 private:
  KeyRingFile() = default;
  Status SetPassphrase(std::string_view passphrase, KdfStrength strength);
  std::string path_;
  uint64_t opslimit_ = 0;
  uint64_t memlimit_ = 0;
  std::array<uint8_t, 16> salt_{};
  SecretBytes key_;
};

}  // namespace ipn::symbol
