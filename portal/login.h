// LoginService: the portal's challenges and sessions. A citizen proves who they are with
// their card (card/card.h): the portal hands out single-use challenges, the citizen's
// card application signs one bound to the portal's origin, and the portal (CardVerifier)
// checks it; a valid signature by an enrolled card opens a session for that card, named
// by a random token kept half in an HttpOnly cookie. Tokens are stored hashed.
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"

namespace ipn::portal {

inline constexpr int64_t kChallengeLifetimeUs = 120'000'000;
inline constexpr int64_t kSessionLifetimeUs = 15 * 60'000'000LL;

class LoginService {
 public:
  explicit LoginService(const Clock* clock) : clock_(clock) {}

  // 32 random bytes, valid for kChallengeLifetimeUs, usable once.
  std::array<uint8_t, 32> NewChallenge();

  // Uses up `challenge`: Ok once if it was handed out and has not expired;
  // PermissionDenied when it is unknown, used or expired.
  Status ConsumeChallenge(std::span<const uint8_t> challenge);

  // A new session for `account` (a card serial); returns its token (base64url).
  std::string OpenSession(const std::string& account);

  // The account whose session `token` names; PermissionDenied when unknown or expired.
  Result<std::string> SessionOwner(std::string_view token);
  void Logout(std::string_view token);

 private:
  static std::string Digest(std::span<const uint8_t> bytes);
  void ExpireLocked(int64_t now);

  const Clock* clock_;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> challenges_;  // digest -> expiry
  struct Session {
    std::string account;
    int64_t expires_us;
  };
  std::unordered_map<std::string, Session> sessions_;  // digest of token -> session
  int64_t next_expiry_us_ = 0;
};

}  // namespace ipn::portal
