// Signed tree heads (RFC 9162 §4.10 in spirit): the log's signed statement "after
// tree_size records, the Merkle root was root_hash", Ed25519-signed by the store. An
// auditor keeps the heads it has seen and checks inclusion and consistency proofs
// against them with records/merkle.h, without access to the store.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/key_custody.h"
#include "common/status.h"
#include "records/merkle.h"

namespace ipn::records {

using PublicKey = std::array<uint8_t, 32>;

struct SignedTreeHead {
  uint64_t tree_size = 0;
  Hash root_hash{};
  int64_t timestamp_us = 0;  // when the head was signed, UTC microseconds
  PublicKey signer{};        // the Ed25519 public key that signed it
  std::array<uint8_t, 64> signature{};

  bool operator==(const SignedTreeHead&) const = default;
};

// The signed message: "ipn/records/tree-head/v1" | u64 tree size | i64 timestamp | root.
std::string TreeHeadSigningInput(uint64_t tree_size, int64_t timestamp_us, const Hash& root_hash);

// Signs with a 64-byte Ed25519 secret key (libsodium layout: seed | public key).
SignedTreeHead SignTreeHead(uint64_t tree_size, const Hash& root_hash, int64_t timestamp_us,
                            std::span<const uint8_t> signing_secret_key);

// Signs through a signer (a key in locked memory, or one inside a PKCS#11 token). Fails
// only when the signer cannot be reached.
Result<SignedTreeHead> SignTreeHead(uint64_t tree_size, const Hash& root_hash, int64_t timestamp_us,
                                    const Ed25519Signer& signer);

// True when the head carries a valid signature by `public_key` (its own `signer` field
// must equal it: a head signed by anyone else is not trusted).
bool VerifyTreeHeadSignature(const SignedTreeHead& head, const PublicKey& public_key);

// Fixed 145-byte encoding: u8 1 | u64 size | i64 timestamp | root | signer | signature.
std::string EncodeTreeHead(const SignedTreeHead& head);
Result<SignedTreeHead> DecodeTreeHead(std::string_view bytes);

// The public key of a 64-byte Ed25519 secret key; fails if the key is malformed (its
// embedded public key does not match its seed).
Result<PublicKey> SigningPublicKey(std::span<const uint8_t> signing_secret_key);

}  // namespace ipn::records
