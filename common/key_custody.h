// Key custody: who holds a key and does the work with it. Two seams, so that the code that
// needs a signature or an unwrapped key does not care whether the key lives in a file in
// locked memory (libsodium, the development default) or in a PKCS#11 token it never leaves
// (token/, docs/security.md):
//   Ed25519Signer  signs; Ed25519 is deterministic, so a key held either way gives the same
//                  signature for the same message.
//   KeyWrapper     wraps and unwraps a data key under a key-encryption key (the key ring's
//                  file key, key_ring_file.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/secret.h"
#include "common/status.h"

namespace ipn {

using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

class Ed25519Signer {
 public:
  virtual ~Ed25519Signer() = default;
  virtual const Ed25519PublicKey& public_key() const = 0;
  // Thread-safe. Fails only when the key's holder cannot be reached (a token removed).
  virtual Result<Ed25519Signature> Sign(std::span<const uint8_t> message) const = 0;
};

// A signer over a 64-byte libsodium Ed25519 secret key (kept in locked memory). Refuses a
// key whose public half does not match its seed.
Result<std::unique_ptr<Ed25519Signer>> MakeSodiumSigner(SecretBytes secret_key);

class KeyWrapper {
 public:
  virtual ~KeyWrapper() = default;
  // What holds the key-encryption key, for the file header and for messages, e.g.
  // "pkcs11:token=core-east;object=ipn-kek". At most 255 bytes.
  virtual std::string Describe() const = 0;
  virtual Result<std::string> Wrap(const SecretBytes& key) const = 0;
  // PermissionDenied when `wrapped` was not made by this key (or was altered).
  virtual Result<SecretBytes> Unwrap(std::span<const uint8_t> wrapped) const = 0;
};

// A wrapper over a 32-byte key-encryption key in locked memory (XChaCha20-Poly1305, a fresh
// nonce per wrap): the development default where a token's KEK would serve in service.
// `description` is what Describe returns (e.g. "file:/var/lib/ipn/middle/platform.key").
Result<std::unique_ptr<KeyWrapper>> MakeSodiumWrapper(SecretBytes kek, std::string description);

}  // namespace ipn
