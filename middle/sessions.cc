// Sessions: bearer tokens of the middle server's API (see sessions.h).
#include "middle/sessions.h"

#include <sodium.h>

#include "common/encoding.h"

namespace ipn::middle {

std::string Sessions::Hash(const std::string& token) {
  uint8_t hash[32];
  crypto_generichash(hash, sizeof(hash), reinterpret_cast<const uint8_t*>(token.data()),
                     token.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(hash), sizeof(hash));
}

std::string Sessions::Open(const Account& account) {
  uint8_t raw[32];
  randombytes_buf(raw, sizeof(raw));
  std::string token = HexEncode(raw);
  sodium_memzero(raw, sizeof(raw));
  const int64_t now = clock_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  if (by_hash_.size() >= options_.max_sessions) {
    auto oldest = by_hash_.begin();
    for (auto it = by_hash_.begin(); it != by_hash_.end(); ++it) {
      if (it->second.used_us < oldest->second.used_us) oldest = it;
    }
    by_hash_.erase(oldest);
  }
  by_hash_[Hash(token)] = Session{account, now, now};
  return token;
}

std::optional<Account> Sessions::Find(const std::string& token) {
  if (token.size() != 64) return std::nullopt;
  const int64_t now = clock_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(Hash(token));
  if (it == by_hash_.end()) return std::nullopt;
  Session& s = it->second;
  if (now - s.used_us >= options_.idle_us || now - s.opened_us >= options_.max_age_us) {
    by_hash_.erase(it);
    return std::nullopt;
  }
  s.used_us = now;
  return s.account;
}

void Sessions::Close(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  by_hash_.erase(Hash(token));
}

size_t Sessions::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_hash_.size();
}

}  // namespace ipn::middle
