// Witness: the oversight commission cosigns the record log's signed tree heads (as
// Certificate Transparency's and sigsum's witnesses do), so that a core cannot show the
// commission one log and a citizen another. The witness cosigns a head only when it is
// signed by the log's pinned key and proven consistent (RFC 9162) with the latest head it
// cosigned before; a head that forks from it (a split view), shrinks it (a rollback) or
// carries no valid proof is refused, and the witness keeps its latest head unchanged, so
// nothing the core shows afterwards can make it sign a fork.
//
// A cosignature is Ed25519 (crypto_sign_detached) by the witness key over
// "ipn/records/cosign/v1\n" followed by the head's fixed encoding (145 bytes; 209 for a version 2
// head, so a cosignature covers the history roots too) (records::EncodeTreeHead) and the 8-byte
// big-endian time of cosigning. Whoever holds the witness's public key checks it with
// VerifyCosignature: a head with no valid cosignature is one the commission has not seen.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/secret.h"
#include "common/status.h"
#include "records/merkle.h"
#include "records/tree_head.h"

namespace ipn::oversight {

struct Cosignature {
  records::SignedTreeHead head;
  records::PublicKey witness{};  // the witness's Ed25519 public key
  int64_t cosigned_unix_us = 0;
  std::array<uint8_t, 64> signature{};

  bool operator==(const Cosignature&) const = default;
};

bool VerifyCosignature(const Cosignature& cosignature, const records::PublicKey& witness_key);

// One JSON object per cosignature (what the witness publishes, one per line).
std::string CosignatureJson(const Cosignature& cosignature);
Result<Cosignature> ParseCosignatureJson(std::string_view text);

class Witness {
 public:
  // `latest`: the latest head this witness cosigned (its kept state), none at first.
  // `witness_secret_key`: 64 bytes (libsodium's seed || public key).
  static Result<Witness> Create(const records::PublicKey& log_key, SecretBytes witness_secret_key,
                                std::optional<records::SignedTreeHead> latest);

  // Checks `head` against the latest cosigned head with `consistency_path` (from the
  // latest head's size to head's) and cosigns it at `now_unix_us`; the head becomes the
  // latest. Errors, with the latest head unchanged:
  //   PermissionDenied — not signed by the log's pinned key;
  //   Corruption — smaller than the latest ("rollback"), or the proof does not show the
  //     latest head is a prefix of it ("split view": the log forked).
  Result<Cosignature> Observe(const records::SignedTreeHead& head,
                              std::span<const records::Hash> consistency_path, int64_t now_unix_us);

  const std::optional<records::SignedTreeHead>& latest() const { return latest_; }
  const records::PublicKey& public_key() const { return public_key_; }

 private:
  Witness() = default;

  records::PublicKey log_key_{};
  records::PublicKey public_key_{};
  SecretBytes secret_key_;
  std::optional<records::SignedTreeHead> latest_;
};

}  // namespace ipn::oversight
