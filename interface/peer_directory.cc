// PeerDirectory: vouched peers and end-to-end answer sealing (crypto_box, precomputed).
#include "interface/peer_directory.h"

#include <sodium.h>

namespace ipn::interface {

Status PeerDirectory::Vouch(const v1::PeerNode& peer) {
  if (peer.curve_public_key().size() != crypto_box_PUBLICKEYBYTES || peer.agency_code().empty()) {
    return Status::InvalidArgument("a peer needs an agency code and a 32-byte key");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(peer.agency_code());
  if (it != peers_.end() && it->second.node.curve_public_key() == peer.curve_public_key()) {
    it->second.node.set_answer_endpoint(peer.answer_endpoint());
    return Status::Ok();
  }
  Peer p;
  p.node = peer;
  p.shared = SecretBytes(crypto_box_BEFORENMBYTES);
  if (crypto_box_beforenm(p.shared.data(),
                          reinterpret_cast<const uint8_t*>(peer.curve_public_key().data()),
                          own_->secret_key.data()) != 0) {
    return Status::InvalidArgument("peer key of " + peer.agency_code() + " is not usable");
  }
  peers_[peer.agency_code()] = std::move(p);
  return Status::Ok();
}

void PeerDirectory::ReplaceAll(const v1::Welcome& welcome) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = peers_.begin(); it != peers_.end();) {
      bool still = false;
      for (const auto& p : welcome.peers()) still |= p.agency_code() == it->first;
      it = still ? std::next(it) : peers_.erase(it);
    }
  }
  for (const auto& p : welcome.peers()) (void)Vouch(p);
}

std::optional<std::string> PeerDirectory::AgencyOfKey(std::span<const uint8_t, 32> key) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [code, peer] : peers_) {
    if (sodium_memcmp(peer.node.curve_public_key().data(), key.data(), 32) == 0) return code;
  }
  return std::nullopt;
}

std::optional<v1::PeerNode> PeerDirectory::Find(const std::string& agency) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(agency);
  if (it == peers_.end()) return std::nullopt;
  return it->second.node;
}

Status PeerDirectory::Seal(const std::string& agency, std::string_view plain, std::string* nonce,
                           std::string* sealed) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(agency);
  if (it == peers_.end()) return Status::NotFound("no vouched node for " + agency);
  nonce->resize(crypto_box_NONCEBYTES);
  randombytes_buf(nonce->data(), nonce->size());
  sealed->resize(plain.size() + crypto_box_MACBYTES);
  crypto_box_easy_afternm(
      reinterpret_cast<uint8_t*>(sealed->data()), reinterpret_cast<const uint8_t*>(plain.data()),
      plain.size(), reinterpret_cast<const uint8_t*>(nonce->data()), it->second.shared.data());
  return Status::Ok();
}

Status PeerDirectory::Open(const std::string& agency, std::string_view nonce,
                           std::string_view sealed, std::string* plain) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(agency);
  if (it == peers_.end()) return Status::NotFound("no vouched node for " + agency);
  if (nonce.size() != crypto_box_NONCEBYTES || sealed.size() < crypto_box_MACBYTES) {
    return Status::InvalidArgument("sealed answer is malformed");
  }
  plain->resize(sealed.size() - crypto_box_MACBYTES);
  if (crypto_box_open_easy_afternm(reinterpret_cast<uint8_t*>(plain->data()),
                                   reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size(),
                                   reinterpret_cast<const uint8_t*>(nonce.data()),
                                   it->second.shared.data()) != 0) {
    plain->clear();
    return Status::Corruption("sealed answer from " + agency + " failed authentication");
  }
  return Status::Ok();
}

}  // namespace ipn::interface
