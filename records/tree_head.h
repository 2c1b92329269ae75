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

// The roots of the per-person history maps (records/person_map.h) a v2 head commits to.
struct HistoryRoots {
  Hash disclosed{};  // every person's disclosable history: what citizens' proofs open
  Hash withheld{};   // exchanges withheld under non-disclosure: only the commission's proofs
  bool operator==(const HistoryRoots&) const = default;
};

struct SignedTreeHead {
  uint8_t version = 1;  // 1: the log only; 2: also the history roots
  uint64_t tree_size = 0;
  Hash root_hash{};
  HistoryRoots history;      // version 2 only
  int64_t timestamp_us = 0;  // when the head was signed, UTC microseconds
  PublicKey signer{};        // the Ed25519 public key that signed it
  std::array<uint8_t, 64> signature{};

  bool operator==(const SignedTreeHead&) const = default;
};

// The signed message: "ipn/records/tree-head/v1" | u64 tree size | i64 timestamp | root;
// version 2: "ipn/records/tree-head/v2" | the same | disclosed root | withheld root.
std::string TreeHeadSigningInput(uint64_t tree_size, int64_t timestamp_us, const Hash& root_hash);
std::string TreeHeadSigningInput(const SignedTreeHead& head);

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

// Signs a version 2 head, committing to the history roots too.
Result<SignedTreeHead> SignTreeHeadV2(uint64_t tree_size, const Hash& root_hash,
                                      const HistoryRoots& history, int64_t timestamp_us,
                                      const Ed25519Signer& signer);

// A witness's cosignature (oversight/witness.h) is Ed25519 over this:
// "ipn/records/cosign/v1\n" | EncodeTreeHead(head) | u64 big-endian cosigning time.
std::string CosigningInput(const SignedTreeHead& head, int64_t cosigned_unix_us);
bool VerifyCosignatureOf(const SignedTreeHead& head, const PublicKey& witness,
                         int64_t cosigned_unix_us, std::span<const uint8_t, 64> signature);

// Fixed encodings: version 1, 145 bytes: u8 1 | u64 size | i64 timestamp | root | signer |
// signature; version 2, 209 bytes: u8 2 | u64 size | i64 timestamp | root | disclosed root
// | withheld root | signer | signature.
std::string EncodeTreeHead(const SignedTreeHead& head);
Result<SignedTreeHead> DecodeTreeHead(std::string_view bytes);

// The public key of a 64-byte Ed25519 secret key; fails if the key is malformed (its
// embedded public key does not match its seed).
Result<PublicKey> SigningPublicKey(std::span<const uint8_t> signing_secret_key);

}  // namespace ipn::records
