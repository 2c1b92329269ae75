// KeyRingFile: the key ring at rest. One file, encrypted with XChaCha20-Poly1305 under a
// file key that is either
//   format 1: derived from the operator's passphrase with Argon2id (crypto_pwhash); the
//             header holds the Argon2id parameters and salt (the development default), or
//   format 2: random, and stored only wrapped by a key-encryption key that never leaves a
//             PKCS#11 token (common/key_custody.h KeyWrapper; token/); the header names
//             the token and holds the wrapped key, so the file is useless without the
//             token and its PIN.
// The whole header (magic, format, key source, nonce) is authenticated as associated data.
// Writes are atomic (temporary file, fsync, rename). The file key is kept in locked memory
// so changes can be saved without running Argon2id or asking the token again.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/key_custody.h"
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
  // Reads and decrypts `path`. A wrong passphrase is PermissionDenied; a file protected
  // by a token is FailedPrecondition naming the token.
  static Result<std::pair<KeyRingFile, KeyRing>> Open(const std::string& path,
                                                      std::string_view passphrase);
  // Reads and decrypts a file whose key is wrapped by a token (format 2). A key the
  // wrapper cannot unwrap (another token's KEK) is PermissionDenied; a passphrase file is
  // FailedPrecondition.
  static Result<std::pair<KeyRingFile, KeyRing>> OpenWrapped(const std::string& path,
                                                             const KeyWrapper& wrapper);
  // What protects the file at `path`: "passphrase" or the token's description
  // ("pkcs11:token=…;object=…"). Reads only the header.
  static Result<std::string> DescribeProtection(const std::string& path);

  KeyRingFile(KeyRingFile&&) noexcept = default;
  KeyRingFile& operator=(KeyRingFile&&) noexcept = default;

  // Encrypts `ring` under a fresh nonce and replaces the file atomically.
  Status Save(const KeyRing& ring) const;
  // A file object for the same path whose saves use a key derived from `passphrase` (fresh
  // salt); nothing changes on disk until its Save.
  Result<KeyRingFile> WithNewPassphrase(std::string_view passphrase, KdfStrength strength) const;

  // A file object whose saves use a fresh random file key wrapped by `wrapper` (format 2):
  // from then on only the token opens the file. Nothing changes on disk until its Save.
  Result<KeyRingFile> WithWrapper(const KeyWrapper& wrapper) const;

  const std::string& path() const { return path_; }
  bool token_protected() const { return !wrapped_key_.empty(); }

 private:
  KeyRingFile() = default;
  Status SetPassphrase(std::string_view passphrase, KdfStrength strength);
  std::vector<uint8_t> Header() const;
  std::string path_;
  std::string protector_;    // format 2: the wrapper's description
  std::string wrapped_key_;  // format 2: the file key wrapped by the token's KEK
  uint64_t opslimit_ = 0;
  uint64_t memlimit_ = 0;
  std::array<uint8_t, 16> salt_{};
  SecretBytes key_;
};

}  // namespace ipn::symbol
