// The signed policy bundle file (ipn.v1.SignedPolicyBundle, proto/ipn/v1/policy.proto) and
// the policy administrator's Ed25519 keys: sign, verify, and key files.
//
// The signature is crypto_sign_detached over "ipn-policy-bundle/1\n" followed by the
// serialized PolicyBundle bytes exactly as they sit in the file, so no re-serialization is
// ever trusted. Key files are lowercase hex text: the public key 32 bytes, the secret key
// 64 bytes (libsodium's seed || public key), written mode 0600.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace ipn::policy {

using AdminPublicKey = std::array<uint8_t, 32>;

struct AdminKeyPair {
  AdminPublicKey public_key;
  SecretBytes secret_key;  // 64 bytes
};

AdminKeyPair GenerateAdminKeyPair();

// Writes both files (secret 0600, public 0600); refuses to overwrite an existing file.
Status WriteAdminKeyPair(const AdminKeyPair& pair, const std::string& secret_key_path,
                         const std::string& public_key_path);
Result<SecretBytes> ReadAdminSecretKey(const std::string& path);
Result<AdminPublicKey> ReadAdminPublicKey(const std::string& path);
// The public key text as written in a key file (64 lowercase hex digits).
Result<AdminPublicKey> ParseAdminPublicKey(std::string_view text);

// Wraps a serialized PolicyBundle in an unsigned bundle file.
std::vector<uint8_t> WrapUnsignedBundle(std::span<const uint8_t> bundle_bytes);

// Signs a bundle file (signed or not; an old signature is replaced) with a 64-byte secret key.
Result<std::vector<uint8_t>> SignBundle(std::span<const uint8_t> bundle_file,
                                        std::span<const uint8_t> admin_secret_key);

// Checks the file's format and signature; returns the signed PolicyBundle bytes (use
// Policy::FromBundleBytes to validate the contents). Errors: kInvalidArgument for an
// unparseable file, kPermissionDenied for a missing or wrong signature.
Result<std::vector<uint8_t>> VerifyBundle(std::span<const uint8_t> bundle_file,
                                          const AdminPublicKey& admin_public_key);

}  // namespace ipn::policy
