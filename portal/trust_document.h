// The portal's trust document: which records-signing keys and which witness (oversight
// commission) keys the disclosure page accepts, signed by a trust root whose public key is
// fixed in the page's build (portal/web/trust_roots.js, from IPN_TRUST_ROOT_KEYS). The
// portal serves it at /api/trust exactly as signed; the page checks it before any head.
//
// JSON: {"text": TEXT, "signer": hex, "signature": hex}; the signature is Ed25519 over
// "ipn/portal/trust/v1\n" | TEXT. TEXT is lines ending in "\n": "ipn-trust v1", then
// "version N", "issued YYYY-MM-DDTHH:MM:SSZ", and one "records_key HEX", "witness_key HEX"
// or "policy_key HEX" line per key (other line kinds are ignored by readers).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "records/tree_head.h"

namespace ipn::portal {

struct TrustDocument {
  uint64_t version = 1;
  int64_t issued_unix_us = 0;
  std::vector<records::PublicKey> records_keys;  // keys that sign the log's heads
  std::vector<records::PublicKey> witness_keys;  // the commission's cosigning keys
  // The policy administrator's keys: the page checks the names it shows against the policy
  // bundle (GET /api/policy) signed by one of these. Optional (none: names go unchecked and
  // the page says so).
  std::vector<records::PublicKey> policy_keys;
};

// The signed JSON (one line). `root_secret_key`: 64 bytes (seed | public key).
Result<std::string> SignTrustDocument(const TrustDocument& doc,
                                      std::span<const uint8_t> root_secret_key);

// Parses and checks a signed document against the trust roots: PermissionDenied when
// its signer is not a root or the signature fails, InvalidArgument when malformed.
Result<TrustDocument> VerifyTrustDocument(std::string_view json,
                                          std::span<const records::PublicKey> roots);

// The trust roots this build's page pins (IPN_TRUST_ROOT_KEYS).
std::vector<records::PublicKey> BuiltInTrustRoots();

}  // namespace ipn::portal
