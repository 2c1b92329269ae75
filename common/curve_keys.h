// CurveKeyPair: a node's or the core's long-term Curve25519 key pair, used both for
// CurveZMQ transport security and for end-to-end sealing of answers (crypto_box).
// Stored as a 0600 file holding the secret key in hex; the public key is derived.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "common/secret.h"
#include "common/status.h"

namespace ipn {

using PublicKey = std::array<uint8_t, 32>;

struct CurveKeyPair {
  PublicKey public_key{};
  SecretBytes secret_key;  // 32 bytes

  static CurveKeyPair Generate();
  static Result<CurveKeyPair> LoadFile(const std::string& path);
  Status SaveFile(const std::string& path) const;
};

// Parses a 32-byte public key from 64 hex characters.
Result<PublicKey> ParsePublicKeyHex(std::string_view hex);

}  // namespace ipn
