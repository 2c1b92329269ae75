// LoginService: challenges and sessions.
#include "portal/login.h"

#include <sodium.h>

#include "common/encoding.h"

namespace ipn::portal {
namespace {
constexpr size_t kMaxChallenges = 100'000;
}  // namespace

std::string LoginService::Digest(std::span<const uint8_t> bytes) {
  uint8_t h[32];
  crypto_generichash(h, sizeof h, bytes.data(), bytes.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

void LoginService::ExpireLocked(int64_t now) {
  if (now < next_expiry_us_ && challenges_.size() < kMaxChallenges) return;
  next_expiry_us_ = now + 1'000'000;
  std::erase_if(challenges_, [now](const auto& c) { return c.second <= now; });
  std::erase_if(sessions_, [now](const auto& s) { return s.second.expires_us <= now; });
}

std::array<uint8_t, 32> LoginService::NewChallenge() {
  std::array<uint8_t, 32> c;
  randombytes_buf(c.data(), c.size());
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  ExpireLocked(now);
  if (challenges_.size() >= kMaxChallenges) challenges_.clear();  // under a flood: start over
  challenges_[Digest(c)] = now + kChallengeLifetimeUs;
  return c;
}

Status LoginService::ConsumeChallenge(std::span<const uint8_t> challenge) {
  if (challenge.size() != 32) return Status::InvalidArgument("a challenge is 32 bytes");
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  auto it = challenges_.find(Digest(challenge));
  const bool fresh = it != challenges_.end() && it->second > now;
  if (it != challenges_.end()) challenges_.erase(it);
  if (!fresh) return Status::PermissionDenied("the challenge is unknown, used or expired");
  return Status::Ok();
}

std::string LoginService::OpenSession(const std::string& account) {
  uint8_t token[32];
  randombytes_buf(token, sizeof token);
  std::string text = Base64UrlEncode({token, sizeof token});
  std::lock_guard lock(mu_);
  sessions_[Digest(token)] = {account, clock_->NowMicros() + kSessionLifetimeUs};
  sodium_memzero(token, sizeof token);
  return text;
}

Result<std::string> LoginService::SessionOwner(std::string_view token) {
  Result<std::vector<uint8_t>> raw = Base64UrlDecode(token);
  if (!raw.ok() || raw->size() != 32) return Status::PermissionDenied("not logged in");
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  ExpireLocked(now);
  auto it = sessions_.find(Digest(*raw));
  if (it == sessions_.end() || it->second.expires_us <= now) {
    return Status::PermissionDenied("not logged in, or the session has expired");
  }
  return it->second.account;
}

void LoginService::Logout(std::string_view token) {
  Result<std::vector<uint8_t>> raw = Base64UrlDecode(token);
  if (!raw.ok()) return;
  std::lock_guard lock(mu_);
  sessions_.erase(Digest(*raw));
}

}  // namespace ipn::portal
