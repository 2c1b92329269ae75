// PeerDirectory: the agency nodes the core vouches for (from Welcome and forwarded
// inquiries), with each peer's precomputed crypto_box key for sealing and opening
// answers end to end. Read by the node's ZAP handler thread, so it is thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "common/curve_keys.h"
#include "common/secret.h"
#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

class PeerDirectory {
 public:
  explicit PeerDirectory(const CurveKeyPair* own) : own_(own) {}

  // Adds or updates a peer the core vouched for.
  Status Vouch(const v1::PeerNode& peer);
  // Replaces the whole set (a Welcome).
  void ReplaceAll(const v1::Welcome& welcome);
  // The agency whose node holds `key`, if vouched for (the ZAP check).
  std::optional<std::string> AgencyOfKey(std::span<const uint8_t, 32> key) const;
  std::optional<v1::PeerNode> Find(const std::string& agency) const;

  // Seals `plain` to the peer's node: returns nonce || ciphertext parts.
  Status Seal(const std::string& agency, std::string_view plain, std::string* nonce,
              std::string* sealed) const;
  // Opens a payload sealed by the peer's node.
  Status Open(const std::string& agency, std::string_view nonce, std::string_view sealed,
              std::string* plain) const;

 private:
  struct Peer {
    v1::PeerNode node;
    SecretBytes shared;  // crypto_box_beforenm(peer public, own secret)
  };
  const CurveKeyPair* own_;
  mutable std::mutex mu_;
  std::map<std::string, Peer> peers_;
};

}  // namespace ipn::interface
